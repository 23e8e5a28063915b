/*
 * Sanitising of untrusted text for the terminal, and display widths. A
 * small strict UTF-8 decoder feeds a classifier that replaces every
 * character a terminal could act on, or that hides or reorders text, by a
 * visible notation; nothing is dropped silently.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/sanitize.h"

size_t
sanitize_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 lo = 0x80, hi = 0xbf;
	uint32_t		 c;
	size_t			 need, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		c = p[0] & 0x0f;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;	/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		c = p[0] & 0x07;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* nothing above U+10FFFF */
	} else {
		*cp = 0xfffd;
		return (1);
	}
	for (i = 1; i <= need; i++) {
		if (i >= len || p[i] < lo || p[i] > hi) {
			*cp = 0xfffd;
			return (i);
		}
		c = (c << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return (need + 1);
}

void
sanitize_utf8_encode(uint32_t cp, struct buf *out)
{
	char	b[4];

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		b[0] = (char)cp;
		buf_add(out, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 4);
	}
}

int
sanitize_utf8_valid(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		n;

	while (len > 0) {
		if ((unsigned char)*s < 0x80) {
			s++;
			len--;
			continue;
		}
		n = sanitize_utf8_decode(s, len, &cp);
		if (cp == 0xfffd && n != 3)
			return (0);
		if (cp == 0xfffd && memcmp(s, "\xef\xbf\xbd", 3) != 0)
			return (0);
		s += n;
		len -= n;
	}
	return (1);
}

/* Whether a (non-C0) character must be shown as <U+XXXX> instead. */
static int
sanitize_hidden(uint32_t c)
{
	if (c == 0x7f || (c >= 0x80 && c <= 0x9f))
		return (1);			/* DEL, C1 */
	if (c == 0xad || c == 0x34f || c == 0x61c || c == 0x115f ||
	    c == 0x1160 || c == 0x180e || c == 0x3164 || c == 0xffa0)
		return (1);			/* soft hyphen, fillers */
	if (c >= 0x200b && c <= 0x200f)
		return (1);			/* zero-width, LRM/RLM */
	if (c >= 0x2028 && c <= 0x202e)
		return (1);			/* separators, embeddings */
	if (c >= 0x2060 && c <= 0x206f)
		return (1);			/* invisible ops, isolates */
	if (c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb))
		return (1);			/* BOM, annotations */
	if (c >= 0xe0000 && c <= 0xe007f)
		return (1);			/* tag characters */
	if (c >= 0xfdd0 && c <= 0xfdef)
		return (1);			/* noncharacters */
	if ((c & 0xfffe) == 0xfffe)
		return (1);			/* U+xFFFE, U+xFFFF */
	if (c >= 0xd800 && c <= 0xdfff)
		return (1);			/* not from the decoder */
	return (0);
}

/* The columns a printable character takes, for tab stops. */
static int
sanitize_cp_width(uint32_t c)
{
	int	w;

	if (c < 0x80)
		return (1);
	w = wcwidth((wchar_t)c);
	return (w < 0 ? 1 : w);
}

void
sanitize_text(const char *in, size_t len, unsigned flags, struct buf *out)
{
	size_t		 i = 0, n, start;
	uint32_t	 c;
	unsigned	 col = 0;
	char		 caret[2];

	if (in == NULL)
		return;
	while (i < len) {
		/* Copy runs of printable ASCII at once. */
		start = i;
		while (i < len && (unsigned char)in[i] >= 0x20 &&
		    (unsigned char)in[i] < 0x7f)
			i++;
		if (i > start) {
			buf_add(out, in + start, i - start);
			col += (unsigned)(i - start);
			continue;
		}
		n = sanitize_utf8_decode(in + i, len - i, &c);
		i += n;
		if (c == '\r' && i < len && in[i] == '\n')
			continue;
		if (c == '\n' && (flags & SANITIZE_ONE_LINE)) {
			buf_addc(out, ' ');
			col++;
		} else if (c == '\n' && (flags & SANITIZE_KEEP_NEWLINES)) {
			buf_addc(out, '\n');
			col = 0;
		} else if (c == '\t' && (flags & SANITIZE_ONE_LINE)) {
			buf_addc(out, ' ');
			col++;
		} else if (c == '\t' && (flags & SANITIZE_EXPAND_TABS)) {
			do {
				buf_addc(out, ' ');
				col++;
			} while (col % 8 != 0);
		} else if (c < 0x20 || c == 0x7f) {
			caret[0] = '^';
			caret[1] = c == 0x7f ? '?' : (char)(c + '@');
			buf_add(out, caret, 2);
			col += 2;
		} else if (sanitize_hidden(c)) {
			buf_addf(out, "<U+%04X>", (unsigned)c);
			col += c > 0xffff ? 9 : 8;
		} else {
			sanitize_utf8_encode(c, out);
			col += (unsigned)sanitize_cp_width(c);
		}
	}
	if (out->data == NULL)
		buf_add(out, "", 0);
}

char *
sanitize_line(const char *s)
{
	struct buf	b;

	buf_init(&b);
	if (s != NULL)
		sanitize_text(s, strlen(s), SANITIZE_ONE_LINE, &b);
	return (buf_steal(&b));
}

/* The display width of one decoded character; -1 becomes 1. */
static int
sanitize_display_width(uint32_t c)
{
	int	w;

	if (c >= 0x20 && c < 0x7f)
		return (1);
	w = wcwidth((wchar_t)c);
	return (w < 0 ? 1 : w);
}

int
sanitize_width(const char *s)
{
	size_t		len, n;
	uint32_t	c;
	int		w = 0;

	if (s == NULL)
		return (0);
	len = strlen(s);
	while (len > 0) {
		n = sanitize_utf8_decode(s, len, &c);
		w += sanitize_display_width(c);
		s += n;
		len -= n;
	}
	return (w);
}

size_t
sanitize_fit(const char *s, int cols, int *used)
{
	size_t		len, n, off = 0;
	uint32_t	c;
	int		w, total = 0;

	if (s == NULL || cols < 0)
		cols = 0;
	len = s == NULL ? 0 : strlen(s);
	while (off < len) {
		n = sanitize_utf8_decode(s + off, len - off, &c);
		w = sanitize_display_width(c);
		/*
		 * A zero-width character always follows what came before:
		 * it is kept with its base, which was kept.
		 */
		if (w > 0 && total + w > cols)
			break;
		total += w;
		off += n;
	}
	if (used != NULL)
		*used = total;
	return (off);
}
