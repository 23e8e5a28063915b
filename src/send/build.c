/*
 * The message builder: turns a draft into RFC 5322 text with folded
 * headers, RFC 2047 encoded words for non-ASCII text and names, RFC 2231
 * file names, a quoted-printable (or 8bit) UTF-8 body and base64
 * attachments. Message-ID and boundaries come from getrandom() or an
 * injected source, never from libetpan's unseeded random().
 */
#include <sys/random.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "send/send.h"

#define BUILD_LINE	76	/* soft limit for folded header lines */
#define BUILD_WORD	75	/* RFC 2047 encoded word limit */
#define BUILD_MAX_ATTACH (64 * 1024 * 1024)

/* True if s has a byte outside ASCII. */
static int
build_has_8bit(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return (1);
	return (0);
}

/* Length of the UTF-8 sequence starting at s (1 for a stray byte). */
static size_t
build_utf8_len(const char *s)
{
	unsigned char	c = (unsigned char)s[0];
	size_t		n, i;

	if (c < 0xc0)
		return (1);
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return (i);
	return (n);
}

/*
 * Appends s as "Q" encoded words (RFC 2047), each at most 75 characters
 * and never splitting a UTF-8 character, separated by "\n " folds. used
 * is how much of the first line is taken already. phrase restricts the
 * unencoded characters to those allowed in a phrase (5(3)).
 */
void
send_encode_words(const char *s, int phrase, size_t used, struct buf *b)
{
	static const char	*head = "=?utf-8?q?";
	char			 enc[16];
	size_t			 n, i, wlen, elen, linelen = used, limit;
	int			 first = 1;
	unsigned char		 c;

	(void)phrase;	/* the safe set below is the phrase one */
	while (*s != '\0') {
		if (!first) {
			if (linelen + 1 + 20 > BUILD_LINE) {
				buf_adds(b, "\n ");
				linelen = 1;
			} else {
				buf_addc(b, ' ');
				linelen++;
			}
		}
		first = 0;
		/* A word fills what is left of the line, at most 75. */
		limit = BUILD_LINE > linelen + 20 ? BUILD_LINE - linelen : 75;
		if (limit > BUILD_WORD)
			limit = BUILD_WORD;
		buf_adds(b, head);
		wlen = strlen(head) + 2;
		while (*s != '\0') {
			n = build_utf8_len(s);
			elen = 0;
			for (i = 0; i < n; i++) {
				c = (unsigned char)s[i];
				if (isalnum(c) || strchr("!*+-/", c) != NULL)
					enc[elen++] = c;
				else if (c == ' ')
					enc[elen++] = '_';
				else {
					snprintf(enc + elen, 4, "=%02X", c);
					elen += 3;
				}
			}
			if (wlen + elen > limit)
				break;
			buf_add(b, enc, elen);
			wlen += elen;
			s += n;
		}
		buf_adds(b, "?=");
		linelen += wlen;
	}
}

/*
 * Appends "Name: value\n", folding at spaces so lines stay within 76
 * columns where the value allows it (RFC 5322 2.2.3); a word longer than
 * a line stays whole, up to the 998 limit the caller guarantees.
 */
void
send_fold_header(const char *name, const char *value, struct buf *b)
{
	size_t		 col, wl;
	const char	*p, *w;

	buf_addf(b, "%s:", name);
	col = strlen(name) + 1;
	p = value;
	while (*p != '\0') {
		/* A word is its leading spaces plus the text up to a space. */
		w = p;
		while (*w == ' ' || *w == '\t')
			w++;
		w += strcspn(w, " \t\n");
		wl = w - p;
		if (p[0] == '\n') {		/* an existing fold */
			buf_adds(b, "\n");
			col = 0;
			p++;
			continue;
		}
		if (col + wl > BUILD_LINE && col > strlen(name) + 1 &&
		    (p[0] == ' ' || p[0] == '\t')) {
			buf_adds(b, "\n");
			col = 0;
		} else if (p == value && p[0] != ' ') {
			buf_addc(b, ' ');
			col++;
		}
		buf_add(b, p, wl);
		col += wl;
		p = w;
	}
	buf_addc(b, '\n');
}

/* Appends one header whose value is unstructured text (Subject). */
static void
build_text_header(const char *name, const char *value, struct buf *b)
{
	struct buf	v;

	buf_init(&v);
	if (build_has_8bit(value, strlen(value)) ||
	    strstr(value, "=?") != NULL)
		send_encode_words(value, 0, strlen(name) + 2, &v);
	else
		buf_adds(&v, value);
	send_fold_header(name, buf_str(&v), b);
	buf_free(&v);
}

/*
 * Quoted-printable (RFC 2045 6.7) of UTF-8 text with '\n' line ends:
 * '=' and non-ASCII encoded, trailing blanks encoded, lines at most 76,
 * and "From " at a line start encoded so no mbox mangles it.
 */
void
send_qp_encode(const char *s, size_t len, struct buf *b)
{
	size_t		 i, col = 0;
	unsigned char	 c;
	char		 enc[4];
	int		 need;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\n') {
			buf_addc(b, '\n');
			col = 0;
			continue;
		}
		need = c == '=' || c >= 0x7f || (c < 0x20 && c != '\t');
		if ((c == ' ' || c == '\t') && (i + 1 == len ||
		    s[i + 1] == '\n'))
			need = 1;
		if (col == 0 && c == 'F' && len - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0)
			need = 1;
		if (col == 0 && c == '.' && (i + 1 == len || s[i + 1] == '\n'))
			need = 1;
		if (col + (need ? 3 : 1) > 75) {
			buf_adds(b, "=\n");
			col = 0;
		}
		if (need) {
			snprintf(enc, sizeof enc, "=%02X", c);
			buf_add(b, enc, 3);
			col += 3;
		} else {
			buf_addc(b, c);
			col++;
		}
	}
}

/* Base64 (RFC 2045 6.8) in lines of 76 characters. */
void
send_base64_encode(const void *data, size_t len, struct buf *b)
{
	buf_add_base64(b, data, len, 76);
}

/*
 * Appends ";\n name=value" for a MIME parameter: quoted when ASCII, else
 * RFC 2231 name*=utf-8''%XX, split into name*0*, name*1* ... when long.
 */
void
send_rfc2231_param(const char *name, const char *value, struct buf *b)
{
	struct buf	 enc;
	size_t		 i, n, len;
	unsigned char	 c;
	const char	*p;

	if (!build_has_8bit(value, strlen(value)) && strlen(value) < 60) {
		buf_addf(b, ";\n %s=\"", name);
		for (p = value; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			if ((unsigned char)*p >= 0x20)
				buf_addc(b, *p);
		}
		buf_addc(b, '"');
		return;
	}
	buf_init(&enc);
	buf_adds(&enc, "utf-8''");
	for (p = value; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (isalnum(c) || strchr("!#$&+-.^_`|~", c) != NULL)
			buf_addc(&enc, c);
		else
			buf_addf(&enc, "%%%02X", c);
	}
	len = enc.len;
	if (len + strlen(name) < 70) {
		buf_addf(b, ";\n %s*=%s", name, buf_str(&enc));
		buf_free(&enc);
		return;
	}
	/* Continuations: never split a %XX triple. */
	for (i = 0, n = 0; i < len; n++) {
		size_t	take = len - i > 60 ? 60 : len - i;

		if (take < len - i) {
			if (enc.data[i + take - 1] == '%')
				take -= 1;
			else if (enc.data[i + take - 2] == '%')
				take -= 2;
		}
		buf_addf(b, ";\n %s*%zu*=%.*s", name, n, (int)take,
		    enc.data + i);
		i += take;
	}
	buf_free(&enc);
}

/* A small extension table: what a mail client needs, no libmagic. */
const char *
send_guess_type(const char *name)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ "txt", "text/plain" }, { "text", "text/plain" },
		{ "md", "text/markdown" }, { "csv", "text/csv" },
		{ "html", "text/html" }, { "htm", "text/html" },
		{ "ics", "text/calendar" }, { "vcf", "text/vcard" },
		{ "diff", "text/x-diff" }, { "patch", "text/x-diff" },
		{ "pdf", "application/pdf" }, { "zip", "application/zip" },
		{ "gz", "application/gzip" }, { "tgz", "application/gzip" },
		{ "tar", "application/x-tar" }, { "xz", "application/x-xz" },
		{ "json", "application/json" }, { "xml", "application/xml" },
		{ "odt", "application/vnd.oasis.opendocument.text" },
		{ "ods", "application/vnd.oasis.opendocument.spreadsheet" },
		{ "docx", "application/vnd.openxmlformats-officedocument."
		    "wordprocessingml.document" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument."
		    "spreadsheetml.sheet" },
		{ "doc", "application/msword" },
		{ "xls", "application/vnd.ms-excel" },
		{ "eml", "message/rfc822" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" }, { "gif", "image/gif" },
		{ "webp", "image/webp" }, { "svg", "image/svg+xml" },
		{ "mp3", "audio/mpeg" }, { "ogg", "audio/ogg" },
		{ "wav", "audio/wav" }, { "mp4", "video/mp4" },
		{ "webm", "video/webm" },
	};
	const char	*dot;
	size_t		 i;

	if (name == NULL || (dot = strrchr(name, '.')) == NULL)
		return ("application/octet-stream");
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return (types[i].type);
	return ("application/octet-stream");
}

/* "Re: Re: RE: Fwd: x" -> "x". */
const char *
send_strip_reply(const char *s)
{
	const char	*p;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncasecmp(s, "re", 2) == 0)
			p = s + 2;
		else if (strncasecmp(s, "aw", 2) == 0 ||
		    strncasecmp(s, "sv", 2) == 0)
			p = s + 2;
		else if (strncasecmp(s, "fwd", 3) == 0)
			p = s + 3;
		else if (strncasecmp(s, "fw", 2) == 0)
			p = s + 2;
		else
			return (s);
		if (*p == '[') {		/* "Re[2]:" */
			p += strspn(p + 1, "0123456789") + 1;
			if (*p != ']')
				return (s);
			p++;
		}
		if (*p != ':')
			return (s);
		s = p + 1;
	}
}

/* True if c may appear unquoted in a dot-atom local part (RFC 5322). */
static int
build_atext(unsigned char c)
{
	return (isalnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c)
	    != NULL);
}

/* Checks local@domain; fills why on failure. */
static int
build_check_addr(const char *a, int *utf8, const char **why)
{
	const char	*at = strrchr(a, '@'), *p;
	size_t		 label = 0;

	*utf8 = build_has_8bit(a, strlen(a));
	if (at == NULL)
		return (*why = "no @", -1);
	if (at == a)
		return (*why = "nothing before the @", -1);
	if (at[1] == '\0')
		return (*why = "no domain after the @", -1);
	if (strlen(a) > 254)
		return (*why = "longer than 254 characters", -1);
	if (a[0] == '"') {
		if (at - a < 2 || at[-1] != '"')
			return (*why = "unbalanced quotes", -1);
	} else {
		for (p = a; p < at; p++) {
			if (*p == '.' && (p == a || p + 1 == at ||
			    p[1] == '.'))
				return (*why = "misplaced dot", -1);
			if (*p != '.' && !build_atext((unsigned char)*p))
				return (*why = "bad character before the @",
				    -1);
		}
	}
	if (at[1] == '[')
		return (a[strlen(a) - 1] == ']' ? 0 :
		    (*why = "bad address literal", -1));
	for (p = at + 1; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return (*why = "empty domain label", -1);
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' &&
		    (unsigned char)*p < 0x80)
			return (*why = "bad character in the domain", -1);
		if (++label > 63)
			return (*why = "domain label too long", -1);
	}
	if (label == 0)
		return (*why = "domain ends with a dot", -1);
	return (0);
}

/* Trims blanks at both ends in place. */
static char *
build_trim(char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\n'))
		s[--n] = '\0';
	return (s);
}

/* Parses one element ("Name <a>", "a") into out. */
static int
build_addr_one(char *s, struct send_addrs *out, struct error *err)
{
	char		*lt, *gt, *name = NULL, *addr, *q, *w;
	const char	*why;
	int		 utf8;
	struct send_addr *a;

	s = build_trim(s);
	if (*s == '\0')
		return (0);
	if ((lt = strrchr(s, '<')) != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || *build_trim(gt + 1) !=
		    '\0')
			return (error_set(err, ERR_CONFIG,
			    "bad address \"%.100s\": unbalanced <>", s));
		*gt = '\0';
		*lt = '\0';
		addr = build_trim(lt + 1);
		name = build_trim(s);
		if (name[0] == '"') {	/* unquote */
			for (q = w = name + 1; *q != '\0' && *q != '"'; q++) {
				if (*q == '\\' && q[1] != '\0')
					q++;
				*w++ = *q;
			}
			*w = '\0';
			name++;
		}
		if (*name == '\0')
			name = NULL;
	} else
		addr = s;
	if (build_check_addr(addr, &utf8, &why) != 0)
		return (error_set(err, ERR_CONFIG, "bad address \"%.100s\": %s",
		    addr, why));
	out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
	a = &out->v[out->n++];
	a->name = name != NULL ? xstrdup(name) : NULL;
	a->addr = xstrdup(addr);
	a->utf8 = utf8;
	return (0);
}

int
send_addrs_parse(const char *list, struct send_addrs *out,
    struct error *err)
{
	char		*copy, *p, *start;
	int		 quoted = 0, angle = 0, r = 0;

	if (list == NULL)
		return (0);
	copy = xstrdup(list);
	for (p = start = copy; r == 0; p++) {
		if (*p == '\\' && quoted && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			angle = 1;
		else if (*p == '>' && !quoted)
			angle = 0;
		if (*p == '\0' || ((*p == ',' || *p == ';') && !quoted &&
		    !angle)) {
			int	end = *p == '\0';

			*p = '\0';
			r = build_addr_one(start, out, err);
			if (end)
				break;
			start = p + 1;
		}
	}
	free(copy);
	return (r);
}

void
send_addrs_free(struct send_addrs *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].addr);
	}
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Appends a display name: atoms as is, quoted, or encoded words. */
static void
build_phrase(const char *name, struct buf *b)
{
	const char	*p;
	int		 plain = 1;

	if (build_has_8bit(name, strlen(name)) || strstr(name, "=?") != NULL) {
		send_encode_words(name, 1, 40, b);
		return;
	}
	for (p = name; *p != '\0'; p++)
		if (!build_atext((unsigned char)*p) && *p != ' ')
			plain = 0;
	if (plain) {
		buf_adds(b, name);
		return;
	}
	buf_addc(b, '"');
	for (p = name; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
}

void
send_addrs_format(const struct send_addrs *a, struct buf *b)
{
	size_t	i;

	for (i = 0; i < a->n; i++) {
		if (i > 0)
			buf_adds(b, ", ");
		if (a->v[i].name != NULL) {
			build_phrase(a->v[i].name, b);
			buf_addf(b, " <%s>", a->v[i].addr);
		} else
			buf_adds(b, a->v[i].addr);
	}
}

/* Fills buf with random bytes from the options' source or getrandom. */
static int
build_random(const struct send_build_opts *o, void *buf, size_t len)
{
	ssize_t	n;
	size_t	done = 0;

	if (o != NULL && o->random != NULL)
		return (o->random(buf, len, o->random_arg));
	while (done < len) {
		n = getrandom((char *)buf + done, len - done, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		done += n;
	}
	return (0);
}

/* A random token of 2*n lowercase base32-ish characters. */
static int
build_token(const struct send_build_opts *o, size_t n, char *out)
{
	static const char	 t[] = "0123456789abcdefghijklmnopqrstuv";
	unsigned char		 r[32];
	size_t			 i;

	if (n > sizeof r || build_random(o, r, n) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		out[2 * i] = t[r[i] & 31];
		out[2 * i + 1] = t[(r[i] >> 5) | ((r[i] & 3) << 3)];
	}
	out[2 * n] = '\0';
	return (0);
}

/* The RFC 5322 date. */
static void
build_date(const struct send_build_opts *o, struct buf *b)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	time_t		 t;
	long		 off;

	if (o == NULL || o->now == 0) {
		t = time(NULL);
		localtime_r(&t, &tm);
		off = tm.tm_gmtoff / 60;
	} else {
		off = o->tz_minutes;
		t = o->now + off * 60;
		gmtime_r(&t, &tm);
	}
	buf_addf(b, "Date: %s, %d %s %d %02d:%02d:%02d %c%02ld%02ld\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* Appends "Name: list" for a parsed address header, if any. */
static void
build_addr_header(const char *name, const struct send_addrs *a,
    struct buf *b)
{
	struct buf	v;

	if (a->n == 0)
		return;
	buf_init(&v);
	send_addrs_format(a, &v);
	send_fold_header(name, buf_str(&v), b);
	buf_free(&v);
}

/* The body text made regular: '\n' ends, a final newline, flowed. */
static void
build_body_text(const char *body, int flowed, struct buf *out)
{
	const char	*p = body != NULL ? body : "", *nl;
	size_t		 n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (flowed) {
			/* Hard breaks everywhere: no trailing blanks but the
			   "-- " separator; space-stuff " ", "From ", ">". */
			size_t	m = n;

			if (!(m == 3 && memcmp(p, "-- ", 3) == 0))
				while (m > 0 && p[m - 1] == ' ')
					m--;
			if (m > 0 && (p[0] == ' ' || (m >= 5 &&
			    memcmp(p, "From ", 5) == 0)))
				buf_addc(out, ' ');
			buf_add(out, p, m);
		} else
			buf_add(out, p, n);
		buf_addc(out, '\n');
		p += nl != NULL ? n + (p[n] == '\r') + 1 : n;
	}
}

/* Longest line of s. */
static size_t
build_longest(const char *s, size_t len)
{
	size_t	i, cur = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			cur = 0;
		else if (++cur > max)
			max = cur;
	}
	return (max);
}

/* Appends the text part's headers and body. */
static void
build_text_part(const struct send_draft *d, const struct send_build_opts *o,
    struct buf *b)
{
	struct buf	 text;
	int		 eight, flowed = o != NULL && o->flowed;

	buf_init(&text);
	build_body_text(d->body, flowed, &text);
	eight = build_has_8bit(text.data != NULL ? text.data : "", text.len);
	buf_addf(b, "Content-Type: text/plain; charset=%s%s\n",
	    eight ? "utf-8" : "us-ascii", flowed ? "; format=flowed" : "");
	if (!eight && build_longest(buf_str(&text), text.len) <= 998) {
		buf_adds(b, "Content-Transfer-Encoding: 7bit\n\n");
		buf_add(b, buf_str(&text), text.len);
	} else if (o != NULL && o->eightbit &&
	    build_longest(buf_str(&text), text.len) <= 998) {
		buf_adds(b, "Content-Transfer-Encoding: 8bit\n\n");
		buf_add(b, buf_str(&text), text.len);
	} else {
		buf_adds(b, "Content-Transfer-Encoding: quoted-printable\n\n");
		send_qp_encode(buf_str(&text), text.len, b);
	}
	buf_free(&text);
}

/* Reads a whole file, refusing more than max bytes. */
static int
build_read_file(const char *path, size_t max, struct buf *out,
    struct error *err)
{
	struct stat	 st;
	char		 chunk[65536];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (error_set(err, ERR_IO, "%s: not a regular file",
		    path));
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return (error_set(err, ERR_REFUSED, "%s: %lld bytes, more "
		    "than the %zu an attachment may have", path,
		    (long long)st.st_size, max));
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || out->len + n > max) {
			close(fd);
			return (error_set(err, ERR_IO, "%s: read failed",
			    path));
		}
		buf_add(out, chunk, n);
	}
	close(fd);
	return (0);
}

/* The base name of a path. */
static const char *
build_basename(const char *path)
{
	const char	*s = strrchr(path, '/');

	return (s != NULL ? s + 1 : path);
}

/* Appends one attachment part. */
static int
build_attach_part(const struct send_attach *a, size_t max, struct buf *b,
    struct error *err)
{
	struct buf	 data;
	const char	*name, *type;

	buf_init(&data);
	if (build_read_file(a->path, max, &data, err) != 0) {
		buf_free(&data);
		return (-1);
	}
	name = a->name != NULL ? a->name : build_basename(a->path);
	type = a->type != NULL ? a->type : send_guess_type(name);
	buf_addf(b, "Content-Type: %s\n", type);
	if (strcasecmp(type, "message/rfc822") == 0) {
		/* RFC 2046 5.2.1: 7bit or 8bit only, never base64. */
		buf_addf(b, "Content-Disposition: %s",
		    "attachment");
		send_rfc2231_param("filename", name, b);
		buf_adds(b, "\nContent-Transfer-Encoding: 8bit\n\n");
		buf_add(b, buf_str(&data), data.len);
		if (data.len > 0 && data.data[data.len - 1] != '\n')
			buf_addc(b, '\n');
	} else {
		buf_adds(b, "Content-Disposition: attachment");
		send_rfc2231_param("filename", name, b);
		buf_adds(b, "\nContent-Transfer-Encoding: base64\n\n");
		send_base64_encode(data.data, data.len, b);
	}
	buf_free(&data);
	return (0);
}

/* Adds the addresses of a list to the envelope. */
static void
build_envelope(struct send_built *out, const struct send_addrs *a)
{
	size_t	i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < out->nrcpt; j++)
			if (strcasecmp(out->rcpt[j], a->v[i].addr) == 0)
				break;
		if (j < out->nrcpt)
			continue;
		out->rcpt = xreallocarray(out->rcpt, out->nrcpt + 2,
		    sizeof *out->rcpt);
		out->rcpt[out->nrcpt++] = xstrdup(a->v[i].addr);
		out->rcpt[out->nrcpt] = NULL;
		if (a->v[i].utf8)
			out->utf8 = 1;
	}
}

int
send_build(const struct send_draft *d, const struct send_build_opts *o,
    struct send_built *out, struct error *err)
{
	struct send_addrs	 from = { 0 }, to = { 0 }, cc = { 0 }, bcc = { 0 };
	struct buf		*b = &out->msg;
	char			 tok1[33], tok2[33], boundary[64];
	const char		*domain;
	size_t			 i, max;
	int			 r = -1;

	memset(out, 0, sizeof *out);
	buf_init(&out->msg);
	max = o != NULL && o->max_attach != 0 ? o->max_attach :
	    BUILD_MAX_ATTACH;
	if (d->from == NULL || *d->from == '\0') {
		error_set(err, ERR_CONFIG, "no From address: set \"from\" in "
		    "the account");
		goto out;
	}
	if (send_addrs_parse(d->from, &from, err) != 0 ||
	    send_addrs_parse(d->to, &to, err) != 0 ||
	    send_addrs_parse(d->cc, &cc, err) != 0 ||
	    send_addrs_parse(d->bcc, &bcc, err) != 0)
		goto out;
	if (from.n != 1) {
		error_set(err, ERR_CONFIG, "From must be one address");
		goto out;
	}
	if (to.n + cc.n + bcc.n == 0) {
		error_set(err, ERR_CONFIG, "no recipient: fill To, Cc or Bcc");
		goto out;
	}
	if (build_token(o, 12, tok1) != 0 || build_token(o, 8, tok2) != 0) {
		error_set(err, ERR_IO, "no random numbers for the Message-ID");
		goto out;
	}
	domain = strrchr(from.v[0].addr, '@') + 1;
	if (build_has_8bit(domain, strlen(domain)))
		domain = "localhost.invalid";
	snprintf(out->message_id, sizeof out->message_id, "<%s.%s@%s>",
	    tok1, tok2, domain);

	build_date(o, b);
	build_addr_header("From", &from, b);
	build_addr_header("To", &to, b);
	build_addr_header("Cc", &cc, b);
	if (d->subject != NULL && *d->subject != '\0')
		build_text_header("Subject", d->subject, b);
	buf_addf(b, "Message-ID: %s\n", out->message_id);
	if (d->in_reply_to != NULL && *d->in_reply_to != '\0')
		send_fold_header("In-Reply-To", d->in_reply_to, b);
	if (d->references != NULL && *d->references != '\0')
		send_fold_header("References", d->references, b);
	buf_adds(b, "MIME-Version: 1.0\n");
	if (d->natt == 0)
		build_text_part(d, o, b);
	else {
		if (build_token(o, 16, tok1) != 0) {
			error_set(err, ERR_IO, "no random numbers");
			goto out;
		}
		snprintf(boundary, sizeof boundary, "=_%s", tok1);
		buf_addf(b, "Content-Type: multipart/mixed;\n boundary=\"%s\""
		    "\n\nThis is a multi-part message in MIME format.\n",
		    boundary);
		buf_addf(b, "\n--%s\n", boundary);
		build_text_part(d, o, b);
		for (i = 0; i < d->natt; i++) {
			buf_addf(b, "\n--%s\n", boundary);
			if (build_attach_part(&d->att[i], max, b, err) != 0)
				goto out;
		}
		buf_addf(b, "\n--%s--\n", boundary);
	}
	out->from = xstrdup(from.v[0].addr);
	build_envelope(out, &to);
	build_envelope(out, &cc);
	build_envelope(out, &bcc);
	if (from.v[0].utf8)
		out->utf8 = 1;
	r = 0;
out:
	send_addrs_free(&from);
	send_addrs_free(&to);
	send_addrs_free(&cc);
	send_addrs_free(&bcc);
	if (r != 0)
		send_built_free(out);
	return (r);
}

void
send_built_free(struct send_built *b)
{
	size_t	i;

	buf_free(&b->msg);
	free(b->from);
	b->from = NULL;
	for (i = 0; i < b->nrcpt; i++)
		free(b->rcpt[i]);
	free(b->rcpt);
	b->rcpt = NULL;
	b->nrcpt = 0;
}

void
send_draft_free(struct send_draft *d)
{
	size_t	i;

	free(d->from);
	free(d->to);
	free(d->cc);
	free(d->bcc);
	free(d->subject);
	free(d->in_reply_to);
	free(d->references);
	free(d->body);
	for (i = 0; i < d->natt; i++) {
		free(d->att[i].path);
		free(d->att[i].name);
		free(d->att[i].type);
	}
	free(d->att);
	memset(d, 0, sizeof *d);
}

void
send_draft_attach(struct send_draft *d, const char *path, const char *name,
    const char *type)
{
	struct send_attach	*a;

	d->att = xreallocarray(d->att, d->natt + 1, sizeof *d->att);
	a = &d->att[d->natt++];
	a->path = xstrdup(path);
	a->name = xstrdup(name != NULL ? name : build_basename(path));
	a->type = type != NULL ? xstrdup(type) : NULL;
}

void
send_draft_detach(struct send_draft *d, size_t i)
{
	if (i >= d->natt)
		return;
	free(d->att[i].path);
	free(d->att[i].name);
	free(d->att[i].type);
	memmove(&d->att[i], &d->att[i + 1], (d->natt - i - 1) *
	    sizeof *d->att);
	d->natt--;
}
