/*
 * Charset conversion, transfer decoding, RFC 2047 header decoding and
 * address display. The RFC 2047 decoder is our own (libetpan's drops text
 * on broken input and passes unknown charsets through raw); iconv does the
 * charsets, with aliases for the names real mail uses.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/sanitize.h"

enum decode_cs {
	DECODE_CS_UTF8,
	DECODE_CS_AUTO,		/* UTF-8 where valid, windows-1252 elsewhere */
	DECODE_CS_ICONV,
	DECODE_CS_UNKNOWN,
};

#define DECODE_AUTO	"auto"
#define DECODE_WORD_MAX	1000	/* encoded text beyond this is not a word */

/* Charset names seen in mail, mapped to what iconv should use. */
static const struct {
	const char	*alias;
	const char	*name;
} decode_aliases[] = {
	{ "utf8", "UTF-8" },
	{ "utf-8", "UTF-8" },
	{ "unicode-1-1-utf-8", "UTF-8" },
	{ "x-unicode20utf8", "UTF-8" },
	{ "us-ascii", DECODE_AUTO },
	{ "ascii", DECODE_AUTO },
	{ "ansi_x3.4-1968", DECODE_AUTO },
	{ "iso-646-us", DECODE_AUTO },
	{ "x-unknown", DECODE_AUTO },
	{ "unknown", DECODE_AUTO },
	{ "unknown-8bit", DECODE_AUTO },
	{ "x-user-defined", DECODE_AUTO },
	{ "default", DECODE_AUTO },
	{ "8bit", DECODE_AUTO },
	/* Mail labelled latin1 is nearly always windows-1252 (WHATWG). */
	{ "latin1", "WINDOWS-1252" },
	{ "latin-1", "WINDOWS-1252" },
	{ "l1", "WINDOWS-1252" },
	{ "iso-8859-1", "WINDOWS-1252" },
	{ "iso8859-1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" },
	{ "iso_8859-1:1987", "WINDOWS-1252" },
	{ "iso-ir-100", "WINDOWS-1252" },
	{ "cp819", "WINDOWS-1252" },
	{ "ibm819", "WINDOWS-1252" },
	{ "cp1252", "WINDOWS-1252" },
	{ "windows-1252", "WINDOWS-1252" },
	{ "x-cp1252", "WINDOWS-1252" },
	{ "ks_c_5601-1987", "CP949" },
	{ "ks_c_5601-1989", "CP949" },
	{ "ks_c_5601", "CP949" },
	{ "ksc5601", "CP949" },
	{ "euc-kr", "CP949" },
	{ "korean", "CP949" },
	{ "gb2312", "GB18030" },
	{ "gb_2312-80", "GB18030" },
	{ "csgb2312", "GB18030" },
	{ "euc-cn", "GB18030" },
	{ "x-euc-cn", "GB18030" },
	{ "gbk", "GB18030" },
	{ "x-gbk", "GB18030" },
	{ "cp936", "GB18030" },
	{ "chinese", "GB18030" },
	{ "big5", "BIG5-HKSCS" },
	{ "x-x-big5", "BIG5-HKSCS" },
	{ "cn-big5", "BIG5-HKSCS" },
	{ "csbig5", "BIG5-HKSCS" },
	{ "shift_jis", "CP932" },
	{ "shift-jis", "CP932" },
	{ "sjis", "CP932" },
	{ "x-sjis", "CP932" },
	{ "ms_kanji", "CP932" },
	{ "csshiftjis", "CP932" },
	{ "windows-31j", "CP932" },
	{ "iso-2022-jp", "ISO-2022-JP-2" },
	{ "csiso2022jp", "ISO-2022-JP-2" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "iso-8859-8-e", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" },
	{ "iso-8859-6-e", "ISO-8859-6" },
	{ "tis-620", "CP874" },
	{ "windows-874", "CP874" },
	{ "x-mac-roman", "MACINTOSH" },
};

/* windows-1252 bytes 0x80..0x9f (0 where the byte is undefined). */
static const uint16_t decode_cp1252[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* Resolves a charset label; name gets what to give iconv. */
static enum decode_cs
decode_charset_resolve(const char *charset, char *name, size_t namesz)
{
	char	low[64];
	size_t	i, n = 0;

	if (charset == NULL)
		return (DECODE_CS_AUTO);
	while (*charset == ' ' || *charset == '\t' || *charset == '"')
		charset++;
	for (; *charset != '\0' && *charset != '"' && *charset != '*' &&
	    *charset != ' ' && *charset != '\t'; charset++) {
		if (n + 1 >= sizeof low)
			return (DECODE_CS_UNKNOWN);
		/* Only names iconv could know: no "//TRANSLIT" tricks. */
		if (!isalnum((unsigned char)*charset) &&
		    strchr("-_.:+()", *charset) == NULL)
			return (DECODE_CS_UNKNOWN);
		low[n++] = (char)tolower((unsigned char)*charset);
	}
	low[n] = '\0';
	if (n == 0)
		return (DECODE_CS_AUTO);
	for (i = 0; i < sizeof decode_aliases / sizeof decode_aliases[0];
	    i++) {
		if (strcmp(low, decode_aliases[i].alias) != 0)
			continue;
		if (strcmp(decode_aliases[i].name, "UTF-8") == 0)
			return (DECODE_CS_UTF8);
		if (strcmp(decode_aliases[i].name, DECODE_AUTO) == 0)
			return (DECODE_CS_AUTO);
		snprintf(name, namesz, "%s", decode_aliases[i].name);
		return (DECODE_CS_ICONV);
	}
	if (n >= namesz)
		return (DECODE_CS_UNKNOWN);
	memcpy(name, low, n + 1);
	return (DECODE_CS_ICONV);
}

/* The end of the valid UTF-8 (a real U+FFFD included) from i. */
static size_t
decode_valid(const char *in, size_t len, size_t i)
{
	size_t		n;
	uint32_t	c;

	while (i < len) {
		if ((unsigned char)in[i] < 0x80) {
			i++;
			continue;
		}
		n = sanitize_utf8_decode(in + i, len - i, &c);
		if (c == 0xfffd && (n != 3 ||
		    memcmp(in + i, "\xef\xbf\xbd", 3) != 0))
			break;
		i += n;
	}
	return (i);
}

/* Appends UTF-8 text, with U+FFFD for invalid sequences. */
static void
decode_utf8(const char *in, size_t len, struct buf *out)
{
	size_t		i = 0, start, n;
	uint32_t	c;

	while (i < len) {
		start = i;
		i = decode_valid(in, len, i);
		buf_add(out, in + start, i - start);
		if (i < len && (unsigned char)in[i] >= 0x80) {
			n = sanitize_utf8_decode(in + i, len - i, &c);
			sanitize_utf8_encode(0xfffd, out);
			i += n;
		}
	}
}

/* Appends text that is UTF-8 where valid and windows-1252 elsewhere. */
static void
decode_auto(const char *in, size_t len, struct buf *out)
{
	size_t		i = 0, start;
	uint32_t	c;
	unsigned char	b;

	while (i < len) {
		start = i;
		i = decode_valid(in, len, i);
		buf_add(out, in + start, i - start);
		if (i < len && (unsigned char)in[i] >= 0x80) {
			b = (unsigned char)in[i++];
			if (b < 0xa0)
				c = decode_cp1252[b - 0x80];
			else
				c = b;
			sanitize_utf8_encode(c == 0 ? 0xfffd : c, out);
		}
	}
}

/* Converts with iconv; returns -1 if the conversion cannot be done. */
static int
decode_iconv(const char *name, const char *in, size_t len, struct buf *out)
{
	iconv_t	 cd;
	char	 chunk[4096], *ip = (char *)in, *op;
	size_t	 il = len, ol, r;
	int	 done = 0;

	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return (-1);
	while (!done) {
		op = chunk;
		ol = sizeof chunk;
		if (il > 0)
			r = iconv(cd, &ip, &il, &op, &ol);
		else {
			r = iconv(cd, NULL, NULL, &op, &ol);
			done = r != (size_t)-1 || errno != E2BIG;
		}
		buf_add(out, chunk, sizeof chunk - ol);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EILSEQ) {
			/* A byte the charset does not have: mark it, go on. */
			sanitize_utf8_encode(0xfffd, out);
			ip++;
			il--;
		} else if (errno == EINVAL) {
			/* Truncated sequence at the end. */
			sanitize_utf8_encode(0xfffd, out);
			il = 0;
		} else {
			iconv_close(cd);
			return (-1);
		}
	}
	iconv_close(cd);
	return (0);
}

int
mime_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out)
{
	char	name[64];
	size_t	mark = out->len;

	if (out->data == NULL)
		buf_add(out, "", 0);
	switch (decode_charset_resolve(charset, name, sizeof name)) {
	case DECODE_CS_UTF8:
		decode_utf8(in, len, out);
		return (0);
	case DECODE_CS_AUTO:
		decode_auto(in, len, out);
		return (0);
	case DECODE_CS_ICONV:
		if (decode_iconv(name, in, len, out) == 0)
			return (0);
		out->len = mark;
		out->data[mark] = '\0';
		break;
	case DECODE_CS_UNKNOWN:
		break;
	}
	decode_utf8(in, len, out);
	return (1);
}

/* The value of a hex digit, or -1. */
static int
decode_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

void
mime_decode_qp(const char *in, size_t len, int header, struct buf *out)
{
	size_t	i = 0, j, start;
	int	hi, lo;

	if (out->data == NULL)
		buf_add(out, "", 0);
	while (i < len) {
		start = i;
		while (i < len && in[i] != '=' && (!header || in[i] != '_'))
			i++;
		buf_add(out, in + start, i - start);
		if (i >= len)
			break;
		if (in[i] == '_') {
			buf_addc(out, ' ');
			i++;
			continue;
		}
		/* A soft line break: '=', maybe trailing blanks, newline. */
		j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j < len && (in[j] == '\n' || in[j] == '\r')) {
			if (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n')
				j++;
			i = j + 1;
			continue;
		}
		if (j == len && !header) {
			i = len;	/* '=' at the very end */
			continue;
		}
		if (i + 2 < len && (hi = decode_hex(in[i + 1])) != -1 &&
		    (lo = decode_hex(in[i + 2])) != -1) {
			buf_addc(out, (char)(hi << 4 | lo));
			i += 3;
			continue;
		}
		buf_addc(out, '=');	/* not an escape: keep it */
		i++;
	}
}

/* The value of a base64 character, or -1. */
static int
decode_b64(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '+')
		return (62);
	if (c == '/')
		return (63);
	return (-1);
}

void
mime_decode_base64(const char *in, size_t len, struct buf *out)
{
	char		 chunk[4096];
	size_t		 i, n = 0;
	uint32_t	 acc = 0;
	int		 bits = 0, v;

	if (out->data == NULL)
		buf_add(out, "", 0);
	for (i = 0; i < len && in[i] != '='; i++) {
		if ((v = decode_b64((unsigned char)in[i])) == -1)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			chunk[n++] = (char)((acc >> bits) & 0xff);
			if (n == sizeof chunk) {
				buf_add(out, chunk, n);
				n = 0;
			}
		}
	}
	buf_add(out, chunk, n);
}

size_t
mime_base64_decoded_len(const char *in, size_t len)
{
	size_t	i, sextets = 0;

	for (i = 0; i < len && in[i] != '='; i++) {
		if (decode_b64((unsigned char)in[i]) != -1)
			sextets++;
	}
	return (sextets * 6 / 8);
}

/* An RFC 2047 encoded word found in a header. */
struct decode_word {
	char		 charset[65];
	char		 enc;		/* 'Q' or 'B' */
	const char	*text;
	size_t		 textlen;
	size_t		 total;		/* raw length, "=?" to "?=" */
};

/* Whether s[0..len) starts a well-formed "=?charset?X?" prefix. */
static size_t
decode_word_prefix(const char *s, size_t len, struct decode_word *w)
{
	size_t	i, n;

	if (len < 6 || s[0] != '=' || s[1] != '?')
		return (0);
	for (i = 2; i < len && s[i] != '?'; i++) {
		if (isspace((unsigned char)s[i]) || s[i] == '=' ||
		    i - 2 >= sizeof w->charset - 1)
			return (0);
	}
	n = i - 2;
	if (n == 0 || i + 2 >= len || s[i + 2] != '?')
		return (0);
	w->enc = (char)toupper((unsigned char)s[i + 1]);
	if (w->enc != 'Q' && w->enc != 'B')
		return (0);
	memcpy(w->charset, s + 2, n);
	w->charset[n] = '\0';
	return (i + 3);
}

/*
 * Parses an encoded word at s. A missing "?=" ends the word at the next
 * blank (or the end); a fold inside a word is part of its text.
 */
static int
decode_word_parse(const char *s, size_t len, struct decode_word *w)
{
	struct decode_word	 next;
	size_t			 start, i, blank = 0;
	int			 seen_blank = 0;

	if ((start = decode_word_prefix(s, len, w)) == 0)
		return (0);
	/* Words are short (75 bytes by the RFC): a bound keeps it linear. */
	if (len - start > DECODE_WORD_MAX)
		len = start + DECODE_WORD_MAX;
	for (i = start; i < len; i++) {
		if (s[i] == '?' && i + 1 < len && s[i + 1] == '=') {
			w->text = s + start;
			w->textlen = i - start;
			w->total = i + 2;
			return (1);
		}
		if (isspace((unsigned char)s[i])) {
			if (!seen_blank)
				blank = i;
			seen_blank = 1;
			continue;
		}
		/* Another encoded word after a blank: this one is unended. */
		if (seen_blank && s[i] == '=' &&
		    decode_word_prefix(s + i, len - i, &next) != 0)
			break;
	}
	w->text = s + start;
	w->textlen = (seen_blank ? blank : len) - start;
	w->total = seen_blank ? blank : len;
	return (1);
}

/* Appends the bytes an encoded word stands for. */
static void
decode_word_bytes(const struct decode_word *w, struct buf *out)
{
	struct buf	clean;
	size_t		i;

	/* Folds inside the word are the encoder's, not text. */
	buf_init(&clean);
	for (i = 0; i < w->textlen; i++) {
		if (w->text[i] == '\r' || w->text[i] == '\n') {
			while (i + 1 < w->textlen &&
			    (w->text[i + 1] == ' ' || w->text[i + 1] == '\t' ||
			    w->text[i + 1] == '\r' || w->text[i + 1] == '\n'))
				i++;
			continue;
		}
		buf_addc(&clean, w->text[i]);
	}
	if (w->enc == 'B')
		mime_decode_base64(buf_str(&clean), clean.len, out);
	else
		mime_decode_qp(buf_str(&clean), clean.len, 1, out);
	buf_free(&clean);
}

/* Encoded words waiting to be converted together (one charset). */
struct decode_group {
	char		charset[65];
	struct buf	bytes;
	struct buf	raw;	/* as written, shown if the charset fails */
	int		active;
};

/* Converts a group of encoded words into text. */
static void
decode_group_flush(struct decode_group *g, struct buf *text)
{
	size_t	mark;

	if (!g->active)
		return;
	if (text->data == NULL)
		buf_add(text, "", 0);
	mark = text->len;
	if (mime_charset_to_utf8(g->charset, buf_str(&g->bytes), g->bytes.len,
	    text) != 0) {
		/* Unknown charset: keep the words as they were written. */
		text->len = mark;
		text->data[mark] = '\0';
		decode_auto(buf_str(&g->raw), g->raw.len, text);
	}
	buf_reset(&g->bytes);
	buf_reset(&g->raw);
	g->active = 0;
}

/* Appends raw text without its line breaks (unfolding). */
static void
decode_add_unfolded(struct buf *b, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			buf_addc(b, s[i]);
	}
}

/* Trims blanks at both ends of an owned string, in place. */
static char *
decode_trim(char *s)
{
	size_t	len = strlen(s), start = 0;

	while (len > 0 && s[len - 1] == ' ')
		len--;
	s[len] = '\0';
	while (s[start] == ' ')
		start++;
	if (start > 0)
		memmove(s, s + start, len - start + 1);
	return (s);
}

char *
mime_decode_header(const char *raw)
{
	if (raw == NULL)
		return (xstrdup(""));
	return (mime_decode_header_mem(raw, strlen(raw)));
}

char *
mime_decode_header_mem(const char *raw, size_t len)
{
	struct decode_group	 g;
	struct decode_word	 w;
	struct buf		 text, lit, ws, out;
	size_t			 i = 0;
	int			 in_words = 0;
	char			 c;

	if (raw == NULL)
		return (xstrdup(""));
	buf_init(&text);
	buf_init(&lit);
	buf_init(&ws);
	buf_init(&g.bytes);
	buf_init(&g.raw);
	g.active = 0;
	while (i < len) {
		if (raw[i] == '=' && decode_word_parse(raw + i, len - i, &w)) {
			if (!in_words) {
				decode_add_unfolded(&lit, buf_str(&ws),
				    ws.len);
				decode_auto(buf_str(&lit), lit.len, &text);
				buf_reset(&lit);
			}
			if (g.active &&
			    strcasecmp(g.charset, w.charset) != 0)
				decode_group_flush(&g, &text);
			if (g.active)
				buf_add(&g.raw, buf_str(&ws), ws.len);
			buf_reset(&ws);
			if (!g.active) {
				memcpy(g.charset, w.charset, sizeof g.charset);
				g.active = 1;
			}
			decode_add_unfolded(&g.raw, raw + i, w.total);
			decode_word_bytes(&w, &g.bytes);
			in_words = 1;
			i += w.total;
			continue;
		}
		c = raw[i++];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			/* A line break not followed by a blank was a fold. */
			if ((c == '\r' || c == '\n') && i < len &&
			    raw[i] != ' ' && raw[i] != '\t' &&
			    raw[i] != '\r' && raw[i] != '\n')
				c = ' ';
			if (c == '\r' || c == '\n')
				continue;
			buf_addc(in_words ? &ws : &lit, c);
			continue;
		}
		if (in_words) {
			decode_group_flush(&g, &text);
			buf_add(&lit, buf_str(&ws), ws.len);
			buf_reset(&ws);
			in_words = 0;
		}
		buf_addc(&lit, c);
	}
	decode_group_flush(&g, &text);
	decode_auto(buf_str(&lit), lit.len, &text);

	buf_init(&out);
	sanitize_text(buf_str(&text), text.len, SANITIZE_ONE_LINE, &out);
	buf_free(&text);
	buf_free(&lit);
	buf_free(&ws);
	buf_free(&g.bytes);
	buf_free(&g.raw);
	return (decode_trim(buf_steal(&out)));
}

/* Decodes a display name, which libetpan may hand back still quoted. */
static char *
decode_display_name(const char *raw)
{
	struct buf	 b;
	size_t		 len = strlen(raw), i;
	char		*s;

	while (len > 0 && isspace((unsigned char)*raw)) {
		raw++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)raw[len - 1]))
		len--;
	if (len < 2 || raw[0] != '"' || raw[len - 1] != '"')
		return (mime_decode_header(raw));
	buf_init(&b);
	for (i = 1; i < len - 1; i++) {
		if (raw[i] == '\\' && i + 1 < len - 1)
			i++;
		buf_addc(&b, raw[i]);
	}
	s = mime_decode_header(buf_str(&b));
	buf_free(&b);
	return (s);
}

/* Appends one mailbox as "Name <addr>" (or the bare address). */
static void
decode_add_mailbox(const struct mailimf_mailbox *mb, struct buf *out)
{
	char	*name = NULL;

	if (mb->mb_display_name != NULL)
		name = decode_display_name(mb->mb_display_name);
	if (name != NULL && *name != '\0') {
		if (strpbrk(name, ",;:<>") != NULL)
			buf_addf(out, "\"%s\" <%s>", name,
			    mb->mb_addr_spec != NULL ? mb->mb_addr_spec : "");
		else
			buf_addf(out, "%s <%s>", name,
			    mb->mb_addr_spec != NULL ? mb->mb_addr_spec : "");
	} else if (mb->mb_addr_spec != NULL)
		buf_adds(out, mb->mb_addr_spec);
	free(name);
}

/* Appends the mailboxes of a list, comma-separated. */
static void
decode_add_mailbox_list(const struct mailimf_mailbox_list *list,
    struct buf *out)
{
	clistiter	*it;
	int		 first = 1;

	if (list == NULL || list->mb_list == NULL)
		return;
	for (it = clist_begin(list->mb_list); it != NULL;
	    it = clist_next(it)) {
		if (!first)
			buf_adds(out, ", ");
		first = 0;
		decode_add_mailbox(clist_content(it), out);
	}
}

/* Whether an address that libetpan accepted looks like one. */
static int
decode_addr_ok(const struct mailimf_mailbox *mb)
{
	const char	*p;

	if (mb == NULL || mb->mb_addr_spec == NULL || *mb->mb_addr_spec == '\0')
		return (0);
	for (p = mb->mb_addr_spec; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\\\"", *p))
			return (0);
	}
	return (1);
}

/* Whether every mailbox of a parsed list looks like an address. */
static int
decode_list_ok(const struct mailimf_address_list *list)
{
	const struct mailimf_address	*ad;
	const struct mailimf_group	*grp;
	clistiter			*it, *jt;

	for (it = clist_begin(list->ad_list); it != NULL;
	    it = clist_next(it)) {
		ad = clist_content(it);
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			if (!decode_addr_ok(ad->ad_data.ad_mailbox))
				return (0);
			continue;
		}
		if (ad->ad_type != MAILIMF_ADDRESS_GROUP ||
		    (grp = ad->ad_data.ad_group) == NULL)
			return (0);
		if (grp->grp_mb_list == NULL)
			continue;
		for (jt = clist_begin(grp->grp_mb_list->mb_list); jt != NULL;
		    jt = clist_next(jt)) {
			if (!decode_addr_ok(clist_content(jt)))
				return (0);
		}
	}
	return (1);
}

/* Parses raw as an address list; NULL unless all of it parsed. */
static struct mailimf_address_list *
decode_parse_addresses(const char *raw)
{
	struct mailimf_address_list	*list = NULL;
	size_t				 idx = 0, len = strlen(raw);

	if (mailimf_address_list_parse(raw, len, &idx, &list) !=
	    MAILIMF_NO_ERROR)
		return (NULL);
	while (idx < len && isspace((unsigned char)raw[idx]))
		idx++;
	if (idx != len || list->ad_list == NULL ||
	    clist_begin(list->ad_list) == NULL || !decode_list_ok(list)) {
		mailimf_address_list_free(list);
		return (NULL);
	}
	return (list);
}

char *
mime_decode_addresses(const char *raw)
{
	struct mailimf_address_list	*list;
	struct mailimf_address		*ad;
	struct mailimf_group		*grp;
	struct buf			 b;
	clistiter			*it;
	char				*name, *s;
	int				 first = 1;

	if (raw == NULL)
		return (xstrdup(""));
	if ((list = decode_parse_addresses(raw)) == NULL)
		return (mime_decode_header(raw));
	buf_init(&b);
	for (it = clist_begin(list->ad_list); it != NULL;
	    it = clist_next(it)) {
		ad = clist_content(it);
		if (!first)
			buf_adds(&b, ", ");
		first = 0;
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX &&
		    ad->ad_data.ad_mailbox != NULL)
			decode_add_mailbox(ad->ad_data.ad_mailbox, &b);
		else if (ad->ad_type == MAILIMF_ADDRESS_GROUP &&
		    (grp = ad->ad_data.ad_group) != NULL) {
			name = mime_decode_header(grp->grp_display_name);
			buf_addf(&b, "%s:", name);
			free(name);
			if (grp->grp_mb_list != NULL &&
			    clist_begin(grp->grp_mb_list->mb_list) != NULL)
				buf_addc(&b, ' ');
			decode_add_mailbox_list(grp->grp_mb_list, &b);
			buf_addc(&b, ';');
		}
	}
	mailimf_address_list_free(list);
	s = sanitize_line(buf_str(&b));
	buf_free(&b);
	return (decode_trim(s));
}

char *
mime_from_display(const char *raw)
{
	struct mailimf_address_list	*list;
	struct mailimf_address		*ad;
	struct mailimf_mailbox		*mb = NULL;
	struct mailimf_group		*grp;
	clistiter			*it;
	char				*s = NULL;

	if (raw == NULL)
		return (xstrdup(""));
	if ((list = decode_parse_addresses(raw)) == NULL)
		return (mime_decode_header(raw));
	ad = clist_content(clist_begin(list->ad_list));
	if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX)
		mb = ad->ad_data.ad_mailbox;
	else if (ad->ad_type == MAILIMF_ADDRESS_GROUP &&
	    (grp = ad->ad_data.ad_group) != NULL) {
		if (grp->grp_mb_list != NULL &&
		    (it = clist_begin(grp->grp_mb_list->mb_list)) != NULL)
			mb = clist_content(it);
		else
			s = mime_decode_header(grp->grp_display_name);
	}
	if (s == NULL && mb != NULL && mb->mb_display_name != NULL) {
		s = decode_display_name(mb->mb_display_name);
		if (*s == '\0') {
			free(s);
			s = NULL;
		}
	}
	if (s == NULL && mb != NULL && mb->mb_addr_spec != NULL)
		s = decode_trim(sanitize_line(mb->mb_addr_spec));
	mailimf_address_list_free(list);
	return (s != NULL ? s : mime_decode_header(raw));
}
