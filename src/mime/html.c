/*
 * A small HTML-to-text converter, good enough to read HTML-only mail: one
 * linear pass over the markup with a little state for line breaks, lists,
 * blockquotes, <pre> and links. It never fetches anything and never
 * interprets scripts or styles; it only drops them.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/private.h"
#include "mime/sanitize.h"

#define HTML_MAX_LINKS	1000

struct html {
	struct buf	*out;
	int		 want;		/* newlines wanted before more text */
	int		 nl_run;	/* newlines at the end of out */
	int		 space;		/* a collapsed blank is pending */
	int		 nospace;	/* just wrote a bullet */
	int		 pre;
	int		 quote;
	int		 list;
	char		*href;		/* inside <a href> */
	char		*links[HTML_MAX_LINKS];
	size_t		 nlinks;
};

static const struct {
	const char	*name;
	uint32_t	 cp;
} html_entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "hellip", 0x2026 },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "lsquo", 0x2018 },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "ldquo", 0x201c },
	{ "rdquo", 0x201d }, { "bdquo", 0x201e }, { "laquo", 0xab },
	{ "raquo", 0xbb }, { "euro", 0x20ac }, { "pound", 0xa3 },
	{ "yen", 0xa5 }, { "cent", 0xa2 }, { "sect", 0xa7 },
	{ "deg", 0xb0 }, { "plusmn", 0xb1 }, { "times", 0xd7 },
	{ "divide", 0xf7 }, { "middot", 0xb7 }, { "bull", 0x2022 },
	{ "para", 0xb6 }, { "iexcl", 0xa1 }, { "iquest", 0xbf },
	{ "shy", 0xad }, { "zwnj", 0x200c }, { "zwj", 0x200d },
	{ "lrm", 0x200e }, { "rlm", 0x200f }, { "ensp", 0x2002 },
	{ "emsp", 0x2003 }, { "thinsp", 0x2009 }, { "larr", 0x2190 },
	{ "rarr", 0x2192 }, { "uarr", 0x2191 }, { "darr", 0x2193 },
	{ "agrave", 0xe0 }, { "aacute", 0xe1 }, { "acirc", 0xe2 },
	{ "atilde", 0xe3 }, { "auml", 0xe4 }, { "aring", 0xe5 },
	{ "aelig", 0xe6 }, { "ccedil", 0xe7 }, { "egrave", 0xe8 },
	{ "eacute", 0xe9 }, { "ecirc", 0xea }, { "euml", 0xeb },
	{ "igrave", 0xec }, { "iacute", 0xed }, { "icirc", 0xee },
	{ "iuml", 0xef }, { "ntilde", 0xf1 }, { "ograve", 0xf2 },
	{ "oacute", 0xf3 }, { "ocirc", 0xf4 }, { "otilde", 0xf5 },
	{ "ouml", 0xf6 }, { "oslash", 0xf8 }, { "ugrave", 0xf9 },
	{ "uacute", 0xfa }, { "ucirc", 0xfb }, { "uuml", 0xfc },
	{ "yacute", 0xfd }, { "yuml", 0xff }, { "szlig", 0xdf },
	{ "Agrave", 0xc0 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 },
	{ "Auml", 0xc4 }, { "Aring", 0xc5 }, { "AElig", 0xc6 },
	{ "Ccedil", 0xc7 }, { "Egrave", 0xc8 }, { "Eacute", 0xc9 },
	{ "Ecirc", 0xca }, { "Ntilde", 0xd1 }, { "Ouml", 0xd6 },
	{ "Oslash", 0xd8 }, { "Uuml", 0xdc }, { "oelig", 0x153 },
	{ "OElig", 0x152 },
};

/* Block elements, and how many newlines they want around them. */
static const struct {
	const char	*name;
	int		 breaks;
} html_blocks[] = {
	{ "p", 2 }, { "h1", 2 }, { "h2", 2 }, { "h3", 2 }, { "h4", 2 },
	{ "h5", 2 }, { "h6", 2 }, { "blockquote", 2 }, { "pre", 2 },
	{ "table", 2 }, { "ul", 2 }, { "ol", 2 }, { "dl", 2 },
	{ "div", 1 }, { "tr", 1 }, { "li", 1 }, { "dt", 1 }, { "dd", 1 },
	{ "section", 1 }, { "article", 1 }, { "header", 1 },
	{ "footer", 1 }, { "nav", 1 }, { "form", 1 }, { "address", 1 },
	{ "center", 1 }, { "figure", 1 }, { "main", 1 }, { "aside", 1 },
	{ "fieldset", 1 }, { "caption", 1 }, { "body", 1 }, { "hr", 1 },
};

/* Asks for at least n newlines before the next text. */
static void
html_break(struct html *h, int n)
{
	if (h->out->len == 0)
		return;
	if (h->want < n)
		h->want = n;
	h->space = 0;
}

/* Writes pending newlines, then the quote prefix at a line start. */
static void
html_flush(struct html *h)
{
	int	i;

	if (h->out->len == 0)
		h->want = 0;
	while (h->nl_run < h->want) {
		buf_addc(h->out, '\n');
		h->nl_run++;
		h->space = 0;
	}
	h->want = 0;
	if (h->nl_run > 0 || h->out->len == 0) {
		for (i = 0; i < h->quote; i++)
			buf_adds(h->out, "> ");
		h->space = 0;
	}
}

/* Emits text bytes, collapsing blanks unless inside <pre>. */
static void
html_text(struct html *h, const char *s, size_t len)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (h->pre > 0 && c == '\n') {
			h->want = h->nl_run + 1;
			html_flush(h);
			continue;
		}
		if (h->pre == 0 && (c == ' ' || c == '\t' || c == '\n' ||
		    c == '\r' || c == '\f')) {
			if (h->nl_run == 0 && h->out->len > 0 && !h->nospace)
				h->space = 1;
			continue;
		}
		if (c == '\r')
			continue;
		if (h->want > 0 || h->nl_run > 0 || h->out->len == 0)
			html_flush(h);
		if (h->space && h->want == 0)
			buf_addc(h->out, ' ');
		h->space = 0;
		h->nospace = 0;
		h->nl_run = 0;
		buf_addc(h->out, c);
	}
}

/* Emits text as it is: no collapsing (bullets, no-break spaces). */
static void
html_raw(struct html *h, const char *s, size_t len)
{
	if (h->want > 0 || h->nl_run > 0 || h->out->len == 0)
		html_flush(h);
	if (h->space && h->want == 0)
		buf_addc(h->out, ' ');
	h->space = 0;
	h->nospace = 0;
	h->nl_run = 0;
	buf_add(h->out, s, len);
}

/* Emits one code point as text (a no-break space is a kept blank). */
static void
html_text_cp(struct html *h, uint32_t cp)
{
	struct buf	b;

	if (cp == 0xa0 && h->pre == 0) {
		html_raw(h, " ", 1);
		return;
	}
	buf_init(&b);
	sanitize_utf8_encode(cp, &b);
	html_text(h, buf_str(&b), b.len);
	buf_free(&b);
}

/*
 * Decodes the entity at s[0] == '&'; returns the bytes used (0 when it is
 * not an entity) and the code point in *cp.
 */
static size_t
html_entity(const char *s, size_t len, uint32_t *cp)
{
	size_t		i, n;
	uint32_t	v = 0;
	int		hex = 0, digits = 0, d;

	if (len < 3)
		return (0);
	if (s[1] == '#') {
		i = 2;
		if (s[i] == 'x' || s[i] == 'X') {
			hex = 1;
			i++;
		}
		for (; i < len && i < 16; i++) {
			if (hex && isxdigit((unsigned char)s[i]))
				d = isdigit((unsigned char)s[i]) ? s[i] - '0' :
				    (tolower((unsigned char)s[i]) - 'a' + 10);
			else if (!hex && isdigit((unsigned char)s[i]))
				d = s[i] - '0';
			else
				break;
			if (v < 0x110000)
				v = v * (hex ? 16 : 10) + (uint32_t)d;
			digits++;
		}
		if (digits == 0)
			return (0);
		if (i < len && s[i] == ';')
			i++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			v = 0xfffd;
		*cp = v;
		return (i);
	}
	for (i = 1; i < len && i < 12 && isalnum((unsigned char)s[i]); i++)
		;
	if (i >= len || s[i] != ';')
		return (0);
	n = i - 1;
	for (d = 0; d < (int)(sizeof html_entities /
	    sizeof html_entities[0]); d++) {
		if (strlen(html_entities[d].name) == n &&
		    strncmp(html_entities[d].name, s + 1, n) == 0) {
			*cp = html_entities[d].cp;
			return (i + 1);
		}
	}
	return (0);
}

/* Appends s[0..len) with entities decoded (for attribute values). */
static void
html_decode_into(const char *s, size_t len, struct buf *b)
{
	size_t		i = 0, n;
	uint32_t	cp;

	while (i < len) {
		if (s[i] == '&' && (n = html_entity(s + i, len - i, &cp)) > 0) {
			sanitize_utf8_encode(cp, b);
			i += n;
		} else
			buf_addc(b, s[i++]);
	}
}

/* Finds needle (lowercase) in s case-insensitively, or returns len. */
static size_t
html_find(const char *s, size_t len, const char *needle)
{
	size_t	n = strlen(needle), i;

	for (i = 0; i + n <= len; i++) {
		if (strncasecmp(s + i, needle, n) == 0)
			return (i);
	}
	return (len);
}

/* Gets attribute name's value from a tag's attribute text, or NULL. */
static char *
html_attr(const char *s, size_t len, const char *name)
{
	struct buf	 b;
	size_t		 i = 0, nstart, nlen, vstart, vlen;
	char		 q;

	while (i < len) {
		while (i < len && (isspace((unsigned char)s[i]) || s[i] == '/'))
			i++;
		nstart = i;
		while (i < len && !isspace((unsigned char)s[i]) &&
		    s[i] != '=' && s[i] != '>' && s[i] != '/')
			i++;
		nlen = i - nstart;
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		vstart = vlen = 0;
		if (i < len && s[i] == '=') {
			i++;
			while (i < len && isspace((unsigned char)s[i]))
				i++;
			if (i < len && (s[i] == '"' || s[i] == '\'')) {
				q = s[i++];
				vstart = i;
				while (i < len && s[i] != q)
					i++;
				vlen = i - vstart;
				if (i < len)
					i++;
			} else {
				vstart = i;
				while (i < len && !isspace((unsigned char)s[i]))
					i++;
				vlen = i - vstart;
			}
		}
		if (nlen == 0) {
			i++;
			continue;
		}
		if (nlen == strlen(name) &&
		    strncasecmp(s + nstart, name, nlen) == 0) {
			buf_init(&b);
			html_decode_into(s + vstart, vlen, &b);
			return (buf_steal(&b));
		}
	}
	return (NULL);
}

/* The number of a link, adding it to the list (0 when the list is full). */
static size_t
html_link(struct html *h, const char *url)
{
	size_t	i;

	/* Only recent links are compared, so many anchors stay linear. */
	for (i = h->nlinks > 32 ? h->nlinks - 32 : 0; i < h->nlinks; i++) {
		if (strcmp(h->links[i], url) == 0)
			return (i + 1);
	}
	if (h->nlinks == HTML_MAX_LINKS)
		return (0);
	h->links[h->nlinks++] = xstrdup(url);
	return (h->nlinks);
}

/* Acts on one tag: name (lowercase), closing flag and attribute text. */
static void
html_tag(struct html *h, const char *name, int closing, const char *attrs,
    size_t alen)
{
	char	*v, num[32];
	size_t	 i, n;

	if (strcmp(name, "br") == 0) {
		if (h->out->len > 0) {
			if (h->want < h->nl_run)
				h->want = h->nl_run;
			if (++h->want > 2)
				h->want = 2;
		}
		h->space = 0;
		return;
	}
	if (strcmp(name, "a") == 0) {
		if (!closing) {
			free(h->href);
			h->href = html_attr(attrs, alen, "href");
			return;
		}
		if (h->href != NULL && *h->href != '\0' && *h->href != '#' &&
		    strncasecmp(h->href, "javascript:", 11) != 0 &&
		    (n = html_link(h, h->href)) > 0) {
			snprintf(num, sizeof num, "[%zu]", n);
			html_text(h, num, strlen(num));
		}
		free(h->href);
		h->href = NULL;
		return;
	}
	if (strcmp(name, "img") == 0) {
		if ((v = html_attr(attrs, alen, "alt")) != NULL && *v != '\0') {
			html_text(h, "[", 1);
			html_text(h, v, strlen(v));
			html_text(h, "]", 1);
		}
		free(v);
		return;
	}
	if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
		if (h->nl_run == 0 && h->out->len > 0)
			h->space = 1;
		return;
	}
	for (i = 0; i < sizeof html_blocks / sizeof html_blocks[0]; i++) {
		if (strcmp(name, html_blocks[i].name) == 0)
			break;
	}
	if (i == sizeof html_blocks / sizeof html_blocks[0])
		return;
	n = (size_t)html_blocks[i].breaks;
	if ((strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0) &&
	    h->list > (closing ? 1 : 0))
		n = 1;		/* nested lists stay together */
	html_break(h, (int)n);
	if (strcmp(name, "blockquote") == 0) {
		if (!closing)
			h->quote++;
		else if (h->quote > 0)
			h->quote--;
	} else if (strcmp(name, "pre") == 0) {
		if (!closing)
			h->pre++;
		else if (h->pre > 0)
			h->pre--;
	} else if (strcmp(name, "ul") == 0 || strcmp(name, "ol") == 0) {
		if (!closing)
			h->list++;
		else if (h->list > 0)
			h->list--;
	} else if (strcmp(name, "li") == 0 && !closing) {
		for (i = 1; i < (size_t)h->list; i++)
			html_raw(h, "  ", 2);
		html_raw(h, "* ", 2);
		h->nospace = 1;
	} else if (strcmp(name, "hr") == 0 && !closing) {
		html_text(h, "----------", 10);
		html_break(h, 1);
	}
}

void
html_to_text(const char *s, size_t len, struct buf *out)
{
	struct html	 h;
	size_t		 i = 0, j, n, end;
	uint32_t	 cp;
	char		 name[16], close[24], q;
	int		 closing;

	memset(&h, 0, sizeof h);
	h.out = out;
	if (out->data == NULL)
		buf_add(out, "", 0);
	h.nl_run = 0;
	while (i < len) {
		if (s[i] == '&') {
			if ((n = html_entity(s + i, len - i, &cp)) > 0) {
				html_text_cp(&h, cp);
				i += n;
			} else
				html_text(&h, s + i++, 1);
			continue;
		}
		if (s[i] != '<') {
			for (j = i; j < len && s[j] != '<' && s[j] != '&'; j++)
				;
			html_text(&h, s + i, j - i);
			i = j;
			continue;
		}
		if (len - i >= 4 && strncmp(s + i, "<!--", 4) == 0) {
			j = html_find(s + i + 4, len - i - 4, "-->");
			i += 4 + j + 3;
			continue;
		}
		if (i + 1 < len && (s[i + 1] == '!' || s[i + 1] == '?')) {
			for (j = i; j < len && s[j] != '>'; j++)
				;
			i = j + 1;
			continue;
		}
		j = i + 1;
		closing = j < len && s[j] == '/';
		if (closing)
			j++;
		if (j >= len || !isalpha((unsigned char)s[j])) {
			html_text(&h, "<", 1);
			i++;
			continue;
		}
		n = 0;
		while (j < len && (isalnum((unsigned char)s[j]) ||
		    s[j] == '-' || s[j] == ':')) {
			if (n + 1 < sizeof name)
				name[n++] = (char)tolower((unsigned char)s[j]);
			j++;
		}
		name[n] = '\0';
		/* The end of the tag, skipping quoted attribute values. */
		for (end = j; end < len && s[end] != '>'; end++) {
			if (s[end] == '"' || s[end] == '\'') {
				q = s[end];
				while (end + 1 < len && s[end + 1] != q)
					end++;
				end++;
				if (end >= len)
					break;
			}
		}
		html_tag(&h, name, closing, s + j,
		    (end < len ? end : len) - j);
		i = end + 1;
		if (closing || i >= len)
			continue;
		/* Elements whose content is never shown. */
		if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
		    strcmp(name, "title") == 0 ||
		    strcmp(name, "template") == 0) {
			snprintf(close, sizeof close, "</%s", name);
			j = html_find(s + i, len - i, close);
			i += j;
		} else if (strcmp(name, "head") == 0) {
			j = html_find(s + i, len - i, "</head");
			n = html_find(s + i, len - i, "<body");
			i += j < n ? j : n;
		}
	}
	if (h.nlinks > 0) {
		h.want = 2;
		h.quote = 0;
		for (i = 0; i < h.nlinks; i++) {
			html_flush(&h);
			buf_addf(out, "[%zu] %s", i + 1, h.links[i]);
			h.nl_run = 0;
			h.want = 1;
			free(h.links[i]);
		}
	}
	free(h.href);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_addc(out, '\n');
}
