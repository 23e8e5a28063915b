/*
 * A small raw-command path beside libetpan, for commands whose answers
 * its parser does not know (ESEARCH): our own tag, the command written on
 * the session's stream, then the answer read line by line until our tag
 * comes back. Untagged lines go to the caller; libetpan never sees them,
 * so its parser stays in step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define IMAP_RAW_LINE_MAX	(16 * 1024 * 1024)	/* one response */
#define IMAP_RAW_LITERAL_MAX	(1024 * 1024)	/* one literal in it */

/* The size of a literal announced at the end of a line, or -1. */
static long
imap_raw_literal(const char *s, size_t len)
{
	size_t	i;
	long	n = 0;

	if (len < 4 || s[len - 1] != '\n' || s[len - 2] != '\r' ||
	    s[len - 3] != '}')
		return (-1);
	i = len - 4;
	while (i > 0 && s[i] >= '0' && s[i] <= '9')
		i--;
	if (s[i] == '+' && i > 0)
		i--;
	if (s[i] != '{' || i + 4 == len)
		return (-1);
	for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
		n = n * 10 + (s[i] - '0');
		if (n > IMAP_RAW_LITERAL_MAX)
			return (IMAP_RAW_LITERAL_MAX + 1L);
	}
	return (n);
}

/* Reads one response (line, literals and continuation) into line. */
int
imap_raw_response(mailstream *st, MMAPString *line)
{
	char	 chunk[8192];
	long	 lit;
	ssize_t	 got;
	size_t	 want;

	mmap_string_truncate(line, 0);
	for (;;) {
		if (mailstream_read_line_append(st, line) == NULL)
			return (-1);
		if (line->len > IMAP_RAW_LINE_MAX)
			return (-1);
		if ((lit = imap_raw_literal(line->str, line->len)) < 0)
			return (0);
		if (lit > IMAP_RAW_LITERAL_MAX)
			return (-1);
		for (want = (size_t)lit; want > 0; want -= (size_t)got) {
			got = mailstream_read(st, chunk, want < sizeof chunk ?
			    want : sizeof chunk);
			if (got <= 0)
				return (-1);
			if (mmap_string_append_len(line, chunk,
			    (size_t)got) == NULL)
				return (-1);
		}
	}
}

/* Whether the line is the completion of tag; *ok says if it is OK. */
static int
imap_raw_tagged(const char *s, size_t len, const char *tag, int *ok)
{
	size_t	tlen = strlen(tag);

	if (len <= tlen || strncmp(s, tag, tlen) != 0 || s[tlen] != ' ')
		return (0);
	*ok = len >= tlen + 3 && strncasecmp(s + tlen + 1, "OK", 2) == 0;
	return (1);
}

int
imap_raw_send(struct backend *be, const char *const *cmds, size_t n,
    unsigned *first, struct error *err)
{
	mailstream	*st;
	struct buf	 out;
	size_t		 i;

	if (be->s == NULL || (st = be->s->imap_stream) == NULL)
		return (error_set(err, ERR_NET, "%s: not connected",
		    be->name));
	/*
	 * Every command goes before any answer is read: one round trip for
	 * them all. A flush each (the socket has TCP_NODELAY, so nothing
	 * waits) keeps one command per line of the protocol log.
	 */
	*first = be->raw_tag + 1;
	buf_init(&out);
	for (i = 0; i < n; i++) {
		buf_reset(&out);
		buf_addf(&out, "F%u %s\r\n", ++be->raw_tag, cmds[i]);
		if (mailstream_write(st, buf_str(&out), out.len) < 0 ||
		    mailstream_flush(st) == -1) {
			buf_free(&out);
			imap_disconnect(be);
			return (error_set(err, ERR_NET, "%s: connection lost",
			    be->name));
		}
	}
	buf_free(&out);
	return (0);
}

int
imap_raw_pipeline(struct backend *be, const char *const *cmds, size_t n,
    void (*each)(void *, const char *, size_t), void *arg,
    struct error *err)
{
	unsigned	first;

	if (n == 0)
		return (0);
	if (imap_raw_send(be, cmds, n, &first, err) != 0)
		return (-1);
	return (imap_raw_finish(be, first, n, each, arg, err));
}

int
imap_raw_finish(struct backend *be, unsigned first, size_t n,
    void (*each)(void *, const char *, size_t), void *arg,
    struct error *err)
{
	MMAPString	*line;
	mailstream	*st;
	char		 tag[32], text[160];
	size_t		 len, i, done = 0;
	int		 rv = -1, ok;

	if (be->s == NULL || (st = be->s->imap_stream) == NULL)
		return (error_set(err, ERR_NET, "%s: not connected",
		    be->name));
	line = mmap_string_new("");
	for (;;) {
		if (imap_raw_response(st, line) != 0) {
			imap_abandon(be);
			error_set(err, ERR_NET, "%s: connection lost",
			    be->name);
			break;
		}
		len = line->len;
		while (len > 0 && (line->str[len - 1] == '\n' ||
		    line->str[len - 1] == '\r'))
			len--;
		if (len >= 5 && strncasecmp(line->str, "* BYE", 5) == 0) {
			imap_abandon(be);
			error_set(err, ERR_NET, "%s: the server closed the "
			    "connection", be->name);
			break;
		}
		if (len > 2 && line->str[0] == '*' && line->str[1] == ' ') {
			if (each != NULL)
				each(arg, line->str + 2, len - 2);
			continue;
		}
		snprintf(tag, sizeof tag, "F%u", first + (unsigned)done);
		if (imap_raw_tagged(line->str, len, tag, &ok)) {
			if (++done < n) {
				/* An earlier command: its caller reads what
				   it did from the untagged answers. */
				if (!ok)
					log_debug("imap: %s: %.*s", be->name,
					    (int)(len > 120 ? 120 : len),
					    line->str);
				continue;
			}
			if (ok) {
				rv = 0;
				break;
			}
			snprintf(text, sizeof text, "%.*s",
			    (int)(len - strlen(tag) - 1),
			    line->str + strlen(tag) + 1);
			for (i = 0; text[i] != '\0'; i++) {
				if ((unsigned char)text[i] < 0x20 ||
				    text[i] == 0x7f)
					text[i] = '?';
			}
			error_set(err, ERR_PROTO, "%s: %s", be->name, text);
			break;
		}
		/* A continuation or someone else's tag: not ours to read. */
		imap_abandon(be);
		error_set(err, ERR_NET, "%s: unexpected answer; reconnecting",
		    be->name);
		break;
	}
	mmap_string_free(line);
	return (rv);
}

int
imap_raw(struct backend *be, const char *cmd,
    void (*each)(void *, const char *, size_t), void *arg,
    struct error *err)
{
	return (imap_raw_pipeline(be, &cmd, 1, each, arg, err));
}

/* Reads a number of up to 32 bits at *s. */
static int
imap_seq_number(const char **s, const char *end, uint32_t *out)
{
	uint64_t	v = 0;
	const char	*p = *s;

	if (p < end && *p == '*') {
		*out = UINT32_MAX;
		*s = p + 1;
		return (0);
	}
	if (p >= end || *p < '0' || *p > '9')
		return (-1);
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return (-1);
	}
	*out = (uint32_t)v;
	*s = p;
	return (0);
}

int
imap_seqset_parse(const char *s, size_t len, uint32_t **lo, uint32_t **hi,
    size_t *n)
{
	const char	*end = s + len;
	size_t		 cap = 0;
	uint32_t	 a, b;

	*lo = *hi = NULL;
	*n = 0;
	while (s < end) {
		if (imap_seq_number(&s, end, &a) != 0)
			goto bad;
		b = a;
		if (s < end && *s == ':') {
			s++;
			if (imap_seq_number(&s, end, &b) != 0)
				goto bad;
		}
		if (*n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*lo = xreallocarray(*lo, cap, sizeof **lo);
			*hi = xreallocarray(*hi, cap, sizeof **hi);
		}
		(*lo)[*n] = a < b ? a : b;
		(*hi)[(*n)++] = a < b ? b : a;
		if (s < end && *s != ',')
			goto bad;
		if (s < end)
			s++;
	}
	return (0);
bad:
	free(*lo);
	free(*hi);
	*lo = *hi = NULL;
	*n = 0;
	return (-1);
}
