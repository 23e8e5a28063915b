/*
 * SMTP submission over src/net: verified TLS (STARTTLS or implicit),
 * EHLO without the host name, AUTH PLAIN or LOGIN through libetpan's SASL
 * with the credentials kept out of every log, then our own transaction:
 * MAIL, RCPT and DATA in one write when the server offers PIPELINING,
 * SIZE, BODY=8BITMIME and SMTPUTF8 (libetpan sends none of these).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "core/xmalloc.h"
#include "mime/sanitize.h"
#include "net/net.h"
#include "send/send.h"

#define SMTP_MAX_REPLY_LINES	100
#define SMTP_CHUNK		65536

struct smtp_session {
	mailsmtp			*s;
	const struct send_transport	*t;
	struct net_log			 log;
	unsigned			 caps;
	size_t				 max_size;	/* 0: no limit said */
	int				 broken;	/* must reconnect */
};

/* Passes one protocol line to the transcript hook, if any. */
static void
smtp_trace(struct smtp_session *ss, const char *dir, const char *text,
    size_t len)
{
	char	*line;

	if (ss->t->transcript == NULL)
		return;
	xasprintf(&line, "%s%.*s", dir, (int)len, text);
	ss->t->transcript(ss->t->transcript_arg, line);
	free(line);
}

/* The net_log sink: libetpan's own lines (AUTH, QUIT) go there too. */
static void
smtp_log_sink(void *arg, const char *line)
{
	struct smtp_session	*ss = arg;

	smtp_trace(ss, "L: ", line, strlen(line));
}

/* Writes and flushes data; -1 when the connection is gone. */
static int
smtp_write(struct smtp_session *ss, const char *data, size_t len)
{
	if (mailstream_write(ss->s->stream, data, len) == -1 ||
	    mailstream_flush(ss->s->stream) == -1) {
		ss->broken = 1;
		return (-1);
	}
	smtp_trace(ss, "C: ", data, len);
	return (0);
}

/*
 * Reads one reply, perhaps multi-line. Returns the code, or -1 when the
 * connection is gone or the reply is not SMTP. text gets the lines'
 * text, sanitised, joined by spaces.
 */
static int
smtp_reply(struct smtp_session *ss, char *text, size_t size)
{
	char		*line, *clean;
	int		 code = -1, i;
	size_t		 used = 0;

	if (size > 0)
		text[0] = '\0';
	for (i = 0; i < SMTP_MAX_REPLY_LINES; i++) {
		line = mailstream_read_line_remove_eol(ss->s->stream,
		    ss->s->line_buffer);
		if (line == NULL) {
			ss->broken = 1;
			return (-1);
		}
		smtp_trace(ss, "S: ", line, strlen(line));
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			ss->broken = 1;
			return (-1);
		}
		code = atoi(line);
		clean = sanitize_line(line[3] != '\0' ? line + 4 : "");
		if (used < size && *clean != '\0')
			used += snprintf(text + used, size - used, "%s%s",
			    used > 0 ? " " : "", clean);
		free(clean);
		if (line[3] != '-')
			return (code);
	}
	ss->broken = 1;
	return (-1);
}

/* Reads the EHLO lines libetpan kept in s->response into caps. */
static void
smtp_parse_caps(struct smtp_session *ss, const char *lines)
{
	const char	*p, *nl;
	size_t		 n;

	ss->caps = 0;
	for (p = lines; p != NULL && *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		n = strcspn(p, " \n");
		if (n == 10 && strncasecmp(p, "PIPELINING", n) == 0)
			ss->caps |= SMTP_HAS_PIPELINING;
		else if (n == 8 && strncasecmp(p, "8BITMIME", n) == 0)
			ss->caps |= SMTP_HAS_8BITMIME;
		else if (n == 8 && strncasecmp(p, "SMTPUTF8", n) == 0)
			ss->caps |= SMTP_HAS_SMTPUTF8;
		else if (n == 4 && strncasecmp(p, "SIZE", n) == 0) {
			ss->caps |= SMTP_HAS_SIZE;
			ss->max_size = strtoul(p + 4, NULL, 10);
		}
		if (*nl == '\0')
			break;
	}
}

/* Says EHLO with the configured name, reading the capabilities. */
static int
smtp_ehlo_named(struct smtp_session *ss, const char *name,
    struct error *err)
{
	char		 cmd[300], text[2048];
	const char	*p;
	int		 code;

	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-[]:", *p) ==
		    NULL)
			return (error_set(err, ERR_CONFIG, "bad EHLO name "
			    "\"%.100s\"", name));
	snprintf(cmd, sizeof cmd, "EHLO %.255s\r\n", name);
	if (smtp_write(ss, cmd, strlen(cmd)) != 0)
		return (error_set(err, ERR_NET, "connection lost (EHLO)"));
	/* Capabilities are one per line: read them line by line. */
	{
		struct buf	 lines;
		char		*line;
		int		 i;

		buf_init(&lines);
		code = -1;
		for (i = 0; i < SMTP_MAX_REPLY_LINES; i++) {
			line = mailstream_read_line_remove_eol(ss->s->stream,
			    ss->s->line_buffer);
			if (line == NULL || strlen(line) < 3)
				break;
			code = atoi(line);
			if (i > 0 && strlen(line) > 4) {
				buf_adds(&lines, line + 4);
				buf_addc(&lines, '\n');
			}
			if (line[3] != '-')
				break;
		}
		if (code == 250)
			smtp_parse_caps(ss, buf_str(&lines));
		buf_free(&lines);
	}
	(void)text;
	if (code != 250)
		return (error_set(err, ERR_PROTO, "EHLO %s refused", name));
	return (0);
}

/* The server's name as SASL wants it. */
static const char *
smtp_sasl_host(const struct send_transport *t)
{
	return (t->tls_name != NULL ? t->tls_name : t->host);
}

/* AUTH PLAIN or LOGIN through SASL, nothing of it logged. */
static int
smtp_auth(struct smtp_session *ss, struct error *err)
{
	const struct send_transport	*t = ss->t;
	const char			*mech;
	char				 text[200];
	int				 r, code;

	if (t->auth_mech != NULL)
		mech = t->auth_mech;
	else if (ss->s->auth & MAILSMTP_AUTH_PLAIN)
		mech = "PLAIN";
	else if (ss->s->auth & MAILSMTP_AUTH_LOGIN)
		mech = "LOGIN";
	else
		return (error_set(err, ERR_UNSUPPORTED, "%s offers neither "
		    "AUTH PLAIN nor AUTH LOGIN", t->host));
	ss->log.authenticating = 1;
	r = mailesmtp_auth_sasl(ss->s, mech, smtp_sasl_host(t), NULL, NULL,
	    t->user, t->user, t->password != NULL ? t->password : "", NULL);
	ss->log.authenticating = 0;
	if (r == MAILSMTP_NO_ERROR)
		return (0);
	code = ss->s->response_code;
	snprintf(text, sizeof text, "%s", ss->s->response != NULL ?
	    ss->s->response : "");
	{
		char	*clean = sanitize_line(text);

		snprintf(text, sizeof text, "%s", clean);
		free(clean);
	}
	if (r == MAILSMTP_ERROR_STREAM)
		return (error_set(err, ERR_NET, "%s: connection lost during "
		    "login", t->host));
	if (code >= 400 && code < 500)
		return (error_set(err, ERR_NET, "%s: login failed for now, "
		    "try later: %d %s", t->host, code, text));
	if (code == 0)
		return (error_set(err, ERR_UNSUPPORTED, "%s: AUTH %s failed "
		    "before reaching the server (is libsasl2-modules "
		    "installed?)", t->host, mech));
	return (error_set(err, ERR_AUTH, "%s: login refused for %s: %d %s",
	    t->host, t->user, code, text));
}

int
smtp_open(const struct send_transport *t, struct smtp_session **out,
    struct error *err)
{
	struct smtp_session	*ss;
	struct tls_params	 p = { 0 };

	*out = NULL;
	ss = xcalloc(1, sizeof *ss);
	ss->t = t;
	ss->s = mailsmtp_new(0, NULL);
	ss->log.name = "smtp";
	if (t->transcript != NULL) {
		ss->log.sink = smtp_log_sink;
		ss->log.sink_arg = ss;
	}
	mailsmtp_set_logger(ss->s, net_smtp_logger, &ss->log);
	p.host = t->tls_name != NULL ? t->tls_name : t->host;
	p.ca_file = t->ca_file;
	p.pin_file = t->pin_file;
	p.service = "smtp";
	p.timeout_ms = t->timeout_ms;
	p.cancel_fd = t->cancel_fd;
	if (net_smtp_connect(ss->s, t->host, t->port, (enum net_mode)t->mode,
	    &p, err) != 0)
		goto fail;
	smtp_parse_caps(ss, ss->s->response);
	if (t->ehlo != NULL && smtp_ehlo_named(ss, t->ehlo, err) != 0)
		goto fail;
	if (t->user != NULL && smtp_auth(ss, err) != 0)
		goto fail;
	*out = ss;
	return (0);

fail:
	mailsmtp_free(ss->s);
	free(ss);
	return (-1);
}

void
smtp_close(struct smtp_session **ssp)
{
	struct smtp_session	*ss = *ssp;

	if (ss == NULL)
		return;
	if (!ss->broken && ss->s->stream != NULL)
		mailsmtp_quit(ss->s);
	mailsmtp_free(ss->s);
	free(ss);
	*ssp = NULL;
}

unsigned
smtp_caps(const struct smtp_session *ss)
{
	return (ss->caps);
}

int
smtp_broken(const struct smtp_session *ss)
{
	return (ss->broken);
}

/* Writes the message with CRLF line ends, dot-stuffed, then ".". */
static int
smtp_write_data(struct smtp_session *ss, const char *msg, size_t len)
{
	struct buf	 out;
	size_t		 i;
	int		 bol = 1, r = 0;

	buf_init(&out);
	for (i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			buf_addc(&out, '.');
		bol = 0;
		if (msg[i] == '\n') {
			if (i == 0 || msg[i - 1] != '\r')
				buf_addc(&out, '\r');
			bol = 1;
		}
		buf_addc(&out, msg[i]);
		if (out.len >= SMTP_CHUNK) {
			if (mailstream_write(ss->s->stream, out.data,
			    out.len) == -1) {
				r = -1;
				break;
			}
			buf_reset(&out);
		}
	}
	if (r == 0 && !bol)
		buf_adds(&out, "\r\n");
	if (r == 0)
		buf_adds(&out, ".\r\n");
	if (r == 0 && (mailstream_write(ss->s->stream, out.data, out.len) ==
	    -1 || mailstream_flush(ss->s->stream) == -1))
		r = -1;
	buf_free(&out);
	if (r != 0)
		ss->broken = 1;
	else
		smtp_trace(ss, "C: ", "<message data>", 14);
	return (r);
}

/* The status a reply code means, for a command that wanted ok. */
static enum send_status
smtp_status(int code)
{
	if (code < 0 || (code >= 400 && code < 500))
		return (SEND_TEMPFAIL);
	return (SEND_PERMFAIL);
}

/* Fills err for a refused command and returns the status. */
static enum send_status
smtp_fail(struct smtp_session *ss, int code, const char *what,
    const char *text, struct error *err)
{
	const char	*host = ss->t->host;

	if (code < 0) {
		error_set(err, ERR_NET, "%s: connection lost (%s)", host, what);
		return (SEND_TEMPFAIL);
	}
	if (code == 421)
		error_set(err, ERR_NET, "%s is closing the connection, try "
		    "later (%s): %d %s", host, what, code, text);
	else if (code >= 400 && code < 500)
		error_set(err, ERR_NET, "%s: %s deferred, will retry: %d %s",
		    host, what, code, text);
	else
		error_set(err, ERR_REFUSED, "%s: %s refused: %d %s", host,
		    what, code, text);
	return (smtp_status(code));
}

/* Counts the CRLF bytes the message will take on the wire. */
static size_t
smtp_wire_size(const char *msg, size_t len, int *eight)
{
	size_t	i, n = len;

	*eight = 0;
	for (i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			n++;
		if ((unsigned char)msg[i] >= 0x80)
			*eight = 1;
	}
	return (n);
}

/* Says RSET so the next transaction starts clean. */
static void
smtp_rset(struct smtp_session *ss)
{
	char	text[64];

	if (ss->broken)
		return;
	if (smtp_write(ss, "RSET\r\n", 6) != 0 ||
	    smtp_reply(ss, text, sizeof text) != 250)
		ss->broken = 1;
}

enum send_status
smtp_send(struct smtp_session *ss, const char *from, char *const *rcpt,
    size_t nrcpt, int utf8, const char *msg, size_t len, struct error *err)
{
	struct buf	 cmds;
	char		 text[512], what[300];
	size_t		 wire, i, refused = 0;
	int		 eight, code, pipelined, *codes;
	enum send_status st = SEND_OK;

	if (ss->broken)
		return (error_set(err, ERR_NET, "%s: connection lost",
		    ss->t->host), SEND_TEMPFAIL);
	if (nrcpt == 0) {
		error_set(err, ERR_CONFIG, "no recipient");
		return (SEND_PERMFAIL);
	}
	wire = smtp_wire_size(msg, len, &eight);
	if ((ss->caps & SMTP_HAS_SIZE) && ss->max_size > 0 &&
	    wire > ss->max_size) {
		error_set(err, ERR_REFUSED, "message too big for %s: %zu "
		    "bytes, the server takes at most %zu", ss->t->host, wire,
		    ss->max_size);
		return (SEND_PERMFAIL);
	}
	if (eight && !(ss->caps & SMTP_HAS_8BITMIME)) {
		error_set(err, ERR_UNSUPPORTED, "%s does not offer 8BITMIME "
		    "and the message has 8-bit text", ss->t->host);
		return (SEND_PERMFAIL);
	}
	if (utf8 && !(ss->caps & SMTP_HAS_SMTPUTF8)) {
		error_set(err, ERR_UNSUPPORTED, "%s does not offer SMTPUTF8: "
		    "it cannot take the non-ASCII addresses of this message",
		    ss->t->host);
		return (SEND_PERMFAIL);
	}

	buf_init(&cmds);
	buf_addf(&cmds, "MAIL FROM:<%s>", from);
	if (ss->caps & SMTP_HAS_SIZE)
		buf_addf(&cmds, " SIZE=%zu", wire);
	if (eight)
		buf_adds(&cmds, " BODY=8BITMIME");
	if (utf8)
		buf_adds(&cmds, " SMTPUTF8");
	buf_adds(&cmds, "\r\n");
	pipelined = (ss->caps & SMTP_HAS_PIPELINING) != 0;
	codes = xcalloc(nrcpt, sizeof *codes);
	if (pipelined) {
		/* RFC 2920: MAIL, every RCPT and DATA in one write. */
		for (i = 0; i < nrcpt; i++)
			buf_addf(&cmds, "RCPT TO:<%s>\r\n", rcpt[i]);
		buf_adds(&cmds, "DATA\r\n");
	}
	if (smtp_write(ss, cmds.data, cmds.len) != 0) {
		st = smtp_fail(ss, -1, "MAIL", "", err);
		goto out;
	}
	code = smtp_reply(ss, text, sizeof text);
	if (code != 250) {
		st = smtp_fail(ss, code, "sender", text, err);
		if (pipelined && code > 0) {	/* drain RCPT and DATA */
			for (i = 0; i <= nrcpt && !ss->broken; i++)
				(void)smtp_reply(ss, text, sizeof text);
		}
		smtp_rset(ss);
		goto out;
	}
	for (i = 0; i < nrcpt; i++) {
		if (!pipelined) {
			buf_reset(&cmds);
			buf_addf(&cmds, "RCPT TO:<%s>\r\n", rcpt[i]);
			if (smtp_write(ss, cmds.data, cmds.len) != 0) {
				st = smtp_fail(ss, -1, "RCPT", "", err);
				goto out;
			}
		}
		codes[i] = smtp_reply(ss, text, sizeof text);
		if (codes[i] < 0) {
			st = smtp_fail(ss, -1, "RCPT", "", err);
			goto out;
		}
		if (codes[i] != 250 && codes[i] != 251) {
			/* The first refusal is the one we report. */
			if (refused++ == 0) {
				snprintf(what, sizeof what, "recipient <%s>",
				    rcpt[i]);
				st = smtp_fail(ss, codes[i], what, text, err);
			}
		}
	}
	if (!pipelined && refused == 0) {
		if (smtp_write(ss, "DATA\r\n", 6) != 0) {
			st = smtp_fail(ss, -1, "DATA", "", err);
			goto out;
		}
	}
	if (pipelined || refused == 0) {
		code = smtp_reply(ss, text, sizeof text);
		if (refused > 0) {
			/*
			 * Some recipients were refused, so the message is
			 * not sent to anyone; if the server still went into
			 * DATA, only dropping the connection ends it
			 * without a message.
			 */
			if (code == 354)
				ss->broken = 1;
			else
				smtp_rset(ss);
			goto out;
		}
		if (code != 354) {
			st = smtp_fail(ss, code, "DATA", text, err);
			smtp_rset(ss);
			goto out;
		}
	} else {
		smtp_rset(ss);
		goto out;
	}
	if (smtp_write_data(ss, msg, len) != 0) {
		st = smtp_fail(ss, -1, "message data", "", err);
		goto out;
	}
	code = smtp_reply(ss, text, sizeof text);
	if (code != 250)
		st = smtp_fail(ss, code, "message", text, err);
out:
	free(codes);
	buf_free(&cmds);
	return (st);
}

/* Default port for a scheme. */
static int
smtp_scheme(const char *url, size_t *skip, int *port, int *mode)
{
	static const struct {
		const char	*scheme;
		int		 port;
		enum net_mode	 mode;
	} s[] = {
		{ "submission://", 587, NET_STARTTLS },
		{ "smtps://", 465, NET_TLS_IMPLICIT },
		{ "smtp://", 25, NET_PLAIN },
	};
	size_t	i;

	for (i = 0; i < sizeof s / sizeof s[0]; i++) {
		if (strncasecmp(url, s[i].scheme, strlen(s[i].scheme)) == 0) {
			*skip = strlen(s[i].scheme);
			*port = s[i].port;
			*mode = s[i].mode;
			return (0);
		}
	}
	return (-1);
}

int
send_transport_parse(struct send_transport *t, const char *url,
    const char *user, const char *tls, struct error *err)
{
	const char	*p, *at, *colon, *end;
	size_t		 skip;
	char		*endp;
	long		 port;

	memset(t, 0, sizeof *t);
	t->kind = SEND_SMTP;
	t->cancel_fd = -1;
	if (smtp_scheme(url, &skip, &t->port, &t->mode) != 0)
		return (error_set(err, ERR_CONFIG, "smtp \"%.100s\": use "
		    "submission://, smtps:// or smtp://", url));
	p = url + skip;
	end = p + strcspn(p, "/");
	at = memchr(p, '@', end - p);
	if (at != NULL) {
		t->user = xstrndup(p, at - p);
		p = at + 1;
	} else if (user != NULL)
		t->user = xstrdup(user);
	colon = memchr(p, ':', end - p);
	t->host = xstrndup(p, (colon != NULL ? colon : end) - p);
	if (*t->host == '\0') {
		send_transport_clear(t);
		return (error_set(err, ERR_CONFIG, "smtp \"%.100s\": no host",
		    url));
	}
	if (colon != NULL) {
		port = strtol(colon + 1, &endp, 10);
		if (endp != end || port <= 0 || port > 65535) {
			send_transport_clear(t);
			return (error_set(err, ERR_CONFIG, "smtp \"%.100s\": "
			    "bad port", url));
		}
		t->port = (int)port;
	}
	if (t->mode == NET_PLAIN && (tls == NULL || strcmp(tls, "off") !=
	    0)) {
		send_transport_clear(t);
		return (error_set(err, ERR_CONFIG, "smtp \"%.100s\": smtp:// "
		    "sends in clear; use submission:// or smtps://, or set "
		    "tls = off for this account", url));
	}
	if (tls != NULL && strcmp(tls, "off") == 0)
		t->mode = NET_PLAIN;
	return (0);
}

void
send_transport_clear(struct send_transport *t)
{
	free(t->host);
	free(t->user);
	if (t->password != NULL) {
		explicit_bzero(t->password, strlen(t->password));
		free(t->password);
	}
	free(t->ehlo);
	free(t->command);
	memset(t, 0, sizeof *t);
	t->cancel_fd = -1;
}
