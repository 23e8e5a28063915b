/*
 * The POP3 conversation after the connect: our own buffered reader over
 * libetpan's mailstream (bounded lines, streaming RETR with dot-unstuffing
 * straight to a file), CAPA, USER/PASS or SASL PLAIN, and LIST + UIDL
 * checked line by line. libetpan is used only to connect and for STLS.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "backend/pop3/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Server text made printable for a message (a static buffer). */
const char *
pop3_clean(const char *s)
{
	static __thread char	out[200];
	size_t			i;

	for (i = 0; s[i] != '\0' && i < sizeof out - 1; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return (out);
}

/* Connects, upgrades to TLS as the account says, and reads CAPA; peer
   (or NULL) learns what certificate the server showed. */
int
pop3_conn_open(struct pop3_conn *c, const struct pop3_account *pa,
    int cancel_fd, struct tls_peer *peer, struct error *err)
{
	struct tls_params	tp;
	enum net_mode		mode;
	char			line[POP3_LINE_MAX + 1];

	memset(&tp, 0, sizeof tp);
	tp.host = NULL;
	tp.ca_file = pa->ca_file;
	tp.pin_file = pa->pin_file;
	tp.service = "pop3";
	tp.timeout_ms = pa->timeout_ms;
	tp.cancel_fd = cancel_fd;
	tp.peer = peer;
	switch (pa->tls) {
	case POP3_TLS_IMPLICIT:
		mode = NET_TLS_IMPLICIT;
		break;
	case POP3_TLS_STARTTLS:
		mode = NET_STARTTLS;
		break;
	default:
		mode = NET_PLAIN;
		break;
	}
	c->host = pa->host;
	c->log.name = pa->name;
	c->p = mailpop3_new(0, NULL);
	mailpop3_set_logger(c->p, net_pop3_logger, &c->log);
	if (net_pop3_connect(c->p, pa->host, pa->port, mode, &tp, err) != 0) {
		mailpop3_free(c->p);
		c->p = NULL;
		return (-1);
	}
	c->s = c->p->pop3_stream;
	c->rpos = c->rlen = 0;

	if (pop3_send(c, "CAPA") != 0 || pop3_flush(c, err) != 0)
		goto fail;
	switch (pop3_status(c, err)) {
	case 1:
		break;
	case 0:		/* no CAPA: assume USER, no pipelining */
		c->user = 1;
		return (0);
	default:
		goto fail;
	}
	for (;;) {
		if (pop3_read_line(c, line, sizeof line, err) != 0)
			goto fail;
		if (strcmp(line, ".") == 0)
			break;
		if (strcasecmp(line, "PIPELINING") == 0)
			c->pipelining = 1;
		else if (strcasecmp(line, "USER") == 0)
			c->user = 1;
		else if (strncasecmp(line, "SASL ", 5) == 0 &&
		    strstr(line + 4, " PLAIN") != NULL)
			c->sasl_plain = 1;
	}
	return (0);
fail:
	pop3_conn_close(c, 0);
	return (-1);
}

/* Says QUIT when asked to, then closes the connection. */
void
pop3_conn_close(struct pop3_conn *c, int quit)
{
	if (c->p == NULL)
		return;
	if (quit && c->s != NULL) {
		if (pop3_send(c, "QUIT") == 0 && pop3_flush(c, NULL) == 0)
			pop3_status(c, NULL);
	}
	/* mailpop3_free closes the stream. */
	mailpop3_free(c->p);
	c->p = NULL;
	c->s = NULL;
}

/* Queues one command line (CRLF added); pop3_flush sends it. */
int
pop3_send(struct pop3_conn *c, const char *fmt, ...)
{
	char	line[POP3_LINE_MAX + 3];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 2)
		return (-1);
	memcpy(line + n, "\r\n", 2);
	if (mailstream_write(c->s, line, (size_t)n + 2) != n + 2)
		return (-1);
	return (0);
}

/* Sends what pop3_send queued. */
int
pop3_flush(struct pop3_conn *c, struct error *err)
{
	if (mailstream_flush(c->s) != 0)
		return (error_set(err, ERR_NET, "%s: connection lost",
		    c->host));
	return (0);
}

/* Refills the read buffer. */
static int
pop3_fill(struct pop3_conn *c, struct error *err)
{
	ssize_t	n;

	n = mailstream_read(c->s, c->rbuf, sizeof c->rbuf);
	if (n <= 0)
		return (error_set(err, ERR_NET, "%s: connection lost or "
		    "timed out", c->host));
	c->rpos = 0;
	c->rlen = (size_t)n;
	return (0);
}

/* Reads one protocol line without its CRLF; longer lines are errors. */
int
pop3_read_line(struct pop3_conn *c, char *out, size_t size,
    struct error *err)
{
	size_t	n = 0;
	char	ch;

	for (;;) {
		if (c->rpos == c->rlen && pop3_fill(c, err) != 0)
			return (-1);
		ch = c->rbuf[c->rpos++];
		if (ch == '\n')
			break;
		if (n + 1 >= size)
			return (error_set(err, ERR_PROTO, "%s: server sent a "
			    "line longer than %zu bytes", c->host, size - 1));
		out[n++] = ch;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return (0);
}

/* Reads a status line: 1 for +OK, 0 for -ERR (text in c->text), -1. */
int
pop3_status(struct pop3_conn *c, struct error *err)
{
	char	*t;

	if (pop3_read_line(c, c->text, sizeof c->text, err) != 0)
		return (-1);
	if (strncmp(c->text, "+OK", 3) == 0) {
		t = c->text + 3;
		memmove(c->text, t + strspn(t, " "), strlen(t) + 1);
		return (1);
	}
	if (strncmp(c->text, "-ERR", 4) == 0) {
		t = c->text + 4;
		memmove(c->text, t + strspn(t, " "), strlen(t) + 1);
		return (0);
	}
	return (error_set(err, ERR_PROTO, "%s: unexpected reply: %s",
	    c->host, pop3_clean(c->text)));
}

/* Turns a refused login into an error a user can act on. */
static int
pop3_login_error(struct pop3_conn *c, const struct pop3_account *pa,
    struct error *err)
{
	if (strstr(c->text, "[IN-USE]") != NULL)
		return (error_set(err, ERR_REFUSED, "%s: the mailbox is in "
		    "use by another client; try again later (%s)", pa->name,
		    pop3_clean(c->text)));
	if (strstr(c->text, "[SYS/TEMP]") != NULL)
		return (error_set(err, ERR_NET, "%s: temporary server "
		    "failure: %s", pa->name, pop3_clean(c->text)));
	return (error_set(err, ERR_AUTH, "%s: login refused for %s (wrong "
	    "user or password?): %s", pa->name, pa->user,
	    pop3_clean(c->text)));
}

/* Base64 of len bytes (RFC 4648), into an owned string. */
static char *
pop3_base64(const unsigned char *in, size_t len)
{
	static const char	 tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*out, *p;
	size_t			 i;
	unsigned		 v;

	p = out = xmalloc(4 * ((len + 2) / 3) + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*p++ = tab[v >> 18];
		*p++ = tab[(v >> 12) & 63];
		*p++ = tab[(v >> 6) & 63];
		*p++ = tab[v & 63];
	}
	if (i < len) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		*p++ = tab[v >> 18];
		*p++ = tab[(v >> 12) & 63];
		*p++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*p++ = '=';
	}
	*p = '\0';
	return (out);
}

/*
 * Logs in with APOP (RFC 1939 section 7): the MD5 of the greeting's
 * timestamp and the password, computed here (libetpan's digest is wrong
 * on 64-bit systems). Only when the account asks for it.
 */
static int
pop3_login_apop(struct pop3_conn *c, const struct pop3_account *pa,
    const char *password, struct error *err)
{
	unsigned char	 md[16];
	char		 hex[33], *in;
	const char	*ts = c->p->pop3_timestamp;
	size_t		 tl, pl = strlen(password), i;
	int		 r, sent;

	if (ts == NULL || *ts == '\0')
		return (error_set(err, ERR_UNSUPPORTED, "%s: the server does "
		    "not offer APOP (no timestamp in its greeting); remove "
		    ";auth=+APOP from the pop3 URL", pa->name));
	tl = strlen(ts);
	in = xmalloc(tl + pl + 1);
	memcpy(in, ts, tl);
	memcpy(in + tl, password, pl);
	gnutls_hash_fast(GNUTLS_DIG_MD5, in, tl + pl, md);
	explicit_bzero(in, tl + pl + 1);
	free(in);
	for (i = 0; i < sizeof md; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	c->log.authenticating = 1;
	sent = pop3_send(c, "APOP %s %s", pa->user, hex) == 0 &&
	    pop3_flush(c, err) == 0;
	explicit_bzero(hex, sizeof hex);
	explicit_bzero(md, sizeof md);
	r = sent ? pop3_status(c, err) : -1;
	c->log.authenticating = 0;
	if (r < 0) {
		if (err != NULL && err->kind == ERR_PROTO)
			return (-1);
		return (error_set(err, ERR_NET, "%s: connection lost during "
		    "login", pa->name));
	}
	if (r == 0)
		return (pop3_login_error(c, pa, err));
	return (0);
}

/* Logs in with USER/PASS, or SASL PLAIN when the server lacks USER. */
int
pop3_login(struct pop3_conn *c, const struct pop3_account *pa,
    const char *password, struct error *err)
{
	unsigned char	*raw;
	char		*b64;
	size_t		 ul = strlen(pa->user), pl = strlen(password);
	int		 r, sent;

	if (strpbrk(pa->user, "\r\n") != NULL ||
	    strpbrk(password, "\r\n") != NULL)
		return (error_set(err, ERR_AUTH, "%s: the user or password "
		    "contains a line break", pa->name));
	if (pa->apop)
		return (pop3_login_apop(c, pa, password, err));
	c->log.authenticating = 1;
	if (c->user || !c->sasl_plain) {
		sent = pop3_send(c, "USER %s", pa->user) == 0 &&
		    pop3_flush(c, err) == 0;
		if (!sent || (r = pop3_status(c, err)) < 0)
			goto lost;
		if (r == 0) {
			c->log.authenticating = 0;
			return (pop3_login_error(c, pa, err));
		}
		sent = pop3_send(c, "PASS %s", password) == 0 &&
		    pop3_flush(c, err) == 0;
	} else {
		raw = xmalloc(ul * 2 + pl + 2);
		memcpy(raw, pa->user, ul);
		raw[ul] = '\0';
		memcpy(raw + ul + 1, pa->user, ul);
		raw[2 * ul + 1] = '\0';
		memcpy(raw + 2 * ul + 2, password, pl);
		b64 = pop3_base64(raw + ul + 1, ul + pl + 1);
		explicit_bzero(raw, ul * 2 + pl + 2);
		free(raw);
		sent = pop3_send(c, "AUTH PLAIN %s", b64) == 0 &&
		    pop3_flush(c, err) == 0;
		explicit_bzero(b64, strlen(b64));
		free(b64);
	}
	if (!sent || (r = pop3_status(c, err)) < 0)
		goto lost;
	c->log.authenticating = 0;
	if (r == 0)
		return (pop3_login_error(c, pa, err));
	return (0);
lost:
	c->log.authenticating = 0;
	if (err != NULL && err->kind == ERR_PROTO)
		return (-1);
	return (error_set(err, ERR_NET, "%s: connection lost during login",
	    pa->name));
}

/* Frees a listing. */
void
pop3_msgs_free(struct pop3_msg **vp, size_t n)
{
	struct pop3_msg	*v = *vp;
	size_t		 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].uidl);
		free(v[i].tmp);
		free(v[i].path);
	}
	free(v);
	*vp = NULL;
}

/* Checks a UIDL: 1-70 characters in 0x21-0x7E (RFC 1939). */
static int
pop3_uidl_valid(const char *u)
{
	size_t	n;

	for (n = 0; u[n] != '\0'; n++) {
		if (u[n] < 0x21 || u[n] > 0x7e)
			return (0);
	}
	return (n > 0 && n <= POP3_UIDL_MAX);
}

/* Parses "num rest" into num and the rest. */
static int
pop3_parse_num(const char *line, unsigned *num, const char **rest)
{
	char		*end;
	unsigned long	 v;

	if (line[0] < '0' || line[0] > '9')
		return (-1);
	errno = 0;
	v = strtoul(line, &end, 10);
	if (errno != 0 || v == 0 || v > POP3_MAX_MESSAGES || *end != ' ')
		return (-1);
	*num = (unsigned)v;
	*rest = end + strspn(end, " ");
	return (0);
}

/* Finds message num in the listing (sorted by number). */
static struct pop3_msg *
pop3_find_num(struct pop3_msg *v, size_t n, unsigned num)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v[mid].num == num)
			return (&v[mid]);
		if (v[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (NULL);
}

/* Compares two messages by UIDL, for finding duplicates. */
static int
pop3_cmp_uidl(const void *a, const void *b)
{
	const struct pop3_msg *const *x = a, *const *y = b;

	return (strcmp((*x)->uidl, (*y)->uidl));
}

/* Reads the multi-line LIST and UIDL answers into a listing. */
int
pop3_list(struct pop3_conn *c, struct pop3_msg **vp, size_t *np,
    struct error *err)
{
	struct pop3_msg	 *v = NULL, *m, **byu;
	char		  line[POP3_LINE_MAX + 1], *end;
	const char	 *rest;
	unsigned	  num;
	size_t		  n = 0, cap = 0, i;
	unsigned long long sz;
	int		  r;

	*vp = NULL;
	*np = 0;
	if (pop3_send(c, "LIST") != 0 || pop3_send(c, "UIDL") != 0 ||
	    pop3_flush(c, err) != 0)
		return (-1);
	if ((r = pop3_status(c, err)) <= 0) {
		if (r == 0)
			error_set(err, ERR_PROTO, "%s: LIST refused: %s",
			    c->host, pop3_clean(c->text));
		return (-1);
	}
	for (;;) {
		if (pop3_read_line(c, line, sizeof line, err) != 0)
			goto fail;
		if (strcmp(line, ".") == 0)
			break;
		if (pop3_parse_num(line, &num, &rest) != 0 ||
		    (n > 0 && num <= v[n - 1].num) || *rest < '0' ||
		    *rest > '9') {
			error_set(err, ERR_PROTO, "%s: malformed LIST line: "
			    "%s", c->host, pop3_clean(line));
			goto fail;
		}
		errno = 0;
		sz = strtoull(rest, &end, 10);
		if (errno != 0 || (*end != '\0' && *end != ' ')) {
			error_set(err, ERR_PROTO, "%s: malformed LIST line: "
			    "%s", c->host, pop3_clean(line));
			goto fail;
		}
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		memset(&v[n], 0, sizeof v[n]);
		v[n].num = num;
		v[n++].size = sz;
	}
	if ((r = pop3_status(c, err)) <= 0) {
		if (r == 0)
			error_set(err, ERR_UNSUPPORTED, "%s: the server does "
			    "not support UIDL, so facteur cannot tell which "
			    "messages it already has: %s", c->host,
			    pop3_clean(c->text));
		goto fail;
	}
	for (;;) {
		if (pop3_read_line(c, line, sizeof line, err) != 0)
			goto fail;
		if (strcmp(line, ".") == 0)
			break;
		if (pop3_parse_num(line, &num, &rest) != 0 ||
		    !pop3_uidl_valid(rest) ||
		    (m = pop3_find_num(v, n, num)) == NULL ||
		    m->uidl != NULL) {
			error_set(err, ERR_PROTO, "%s: malformed UIDL line: "
			    "%s", c->host, pop3_clean(line));
			goto fail;
		}
		m->uidl = xstrdup(rest);
	}
	for (i = 0; i < n; i++) {
		if (v[i].uidl == NULL) {
			error_set(err, ERR_PROTO, "%s: message %u has no "
			    "UIDL", c->host, v[i].num);
			goto fail;
		}
	}
	/* Messages sharing a UIDL cannot be told apart: leave them. */
	byu = xreallocarray(NULL, n + 1, sizeof *byu);
	for (i = 0; i < n; i++)
		byu[i] = &v[i];
	qsort(byu, n, sizeof *byu, pop3_cmp_uidl);
	for (i = 1; i < n; i++) {
		if (strcmp(byu[i - 1]->uidl, byu[i]->uidl) == 0) {
			byu[i - 1]->dup = byu[i]->dup = 1;
			log_warnx("%s: UIDL %s listed twice: not fetched",
			    c->host, pop3_clean(byu[i]->uidl));
		}
	}
	free(byu);
	*vp = v;
	*np = n;
	return (0);
fail:
	pop3_msgs_free(&v, n);
	return (-1);
}

/* States of the RETR body scanner. */
enum pop3_scan {
	POP3_BOL,	/* at the start of a line */
	POP3_DOT,	/* a line started with "." */
	POP3_DOTCR,	/* ".\r" */
	POP3_MID,	/* inside a line */
	POP3_CR,	/* "\r" inside a line */
};

/* Writes the output buffer to fd. */
static int
pop3_write_out(int fd, const char *p, size_t len, struct error *err)
{
	ssize_t	w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			return (error_set(err, ERR_IO, "writing a message: %s%s",
			    strerror(errno), errno == ENOSPC || errno == EFBIG ?
			    " (nothing was deleted on the server)" : ""));
		}
		p += w;
		len -= (size_t)w;
	}
	return (0);
}

/*
 * Streams a RETR answer (after its +OK) into fd, undoing the
 * dot-stuffing and turning CRLF into LF, until the "." line. More than
 * limit bytes on the wire is an error. *wire counts the bytes read.
 */
int
pop3_retr_body(struct pop3_conn *c, int fd, uint64_t limit, uint64_t *wire,
    struct error *err)
{
	char		 out[65536];
	size_t		 o = 0;
	enum pop3_scan	 st = POP3_BOL;
	char		 ch;

	*wire = 0;
	for (;;) {
		if (c->rpos == c->rlen) {
			if (pop3_fill(c, err) != 0)
				return (error_set(err, ERR_NET, "%s: connection "
				    "lost while downloading a message",
				    c->host));
		}
		if (o + 2 > sizeof out) {
			if (pop3_write_out(fd, out, o, err) != 0)
				return (-1);
			o = 0;
		}
		ch = c->rbuf[c->rpos++];
		if (++*wire > limit)
			return (error_set(err, ERR_PROTO, "%s: a message is far "
			    "larger than the server announced", c->host));
		switch (st) {
		case POP3_BOL:
			if (ch == '.') {
				st = POP3_DOT;
				break;
			}
			/* FALLTHROUGH */
		case POP3_MID:
mid:
			if (ch == '\r')
				st = POP3_CR;
			else {
				out[o++] = ch;
				st = ch == '\n' ? POP3_BOL : POP3_MID;
			}
			break;
		case POP3_CR:
			if (ch == '\n') {
				out[o++] = '\n';
				st = POP3_BOL;
				break;
			}
			out[o++] = '\r';
			goto mid;
		case POP3_DOT:
			if (ch == '\r') {
				st = POP3_DOTCR;
				break;
			}
			if (ch == '\n')		/* ".\n": lenient end */
				return (pop3_write_out(fd, out, o, err));
			goto mid;	/* the stuffed dot is dropped */
		case POP3_DOTCR:
			if (ch == '\n')
				return (pop3_write_out(fd, out, o, err));
			out[o++] = '\r';
			goto mid;
		}
	}
}
