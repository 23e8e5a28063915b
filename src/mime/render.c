/*
 * Rendering of a message for the pager. A cheap pre-scan bounds the MIME
 * structure before libetpan's mailmime_parse (quadratic on deep nesting)
 * sees it; the tree walk then picks the readable parts, and every line
 * goes through the sanitiser on its way out, within an output budget.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/mailcap.h"
#include "mime/private.h"
#include "mime/render.h"
#include "mime/sanitize.h"


struct render_ctx {
	const struct render_opts	*opts;
	struct render			*r;
	unsigned			 attach;	/* parts numbered */
	int				 full;		/* budget used up */
	unsigned			 line_flags;	/* for new lines */
	size_t				 max_bytes;	/* output budget */
	struct render_spool		*spool;		/* lines go there */
	enum render_kind		 last_kind;	/* of the last line */
	int				 last_empty;
};

/*
 * A render spooled to an unlinked temporary file: each line is an 8-byte
 * record header (text length, kind, flags, quote depth) and its text.
 * Only every RENDER_SPOOL_STEP-th line's offset is kept in memory. A
 * render smaller than RENDER_SPOOL_MEM never gets a file: its records
 * stay in memory (mem), which is most mail.
 */
struct render_spool {
	int		 fd;		/* -1: no file (yet) */
	char		*mem;		/* the records, when there is no file */
	size_t		 n;		/* lines */
	size_t		 bytes;		/* text bytes */
	off_t		 size;		/* file bytes */
	off_t		*index;		/* offset of line k * STEP */
	size_t		 nindex;
	size_t		 capindex;
	struct buf	 out;		/* while writing: not yet written */
	int		 werrno;	/* a write failed */
	_Atomic unsigned refs;
};

#define RENDER_SPOOL_RECORD	8
#define RENDER_SPOOL_MEM	(256 * 1024)

static int	render_spool_open(struct render_spool *);

/* A header field as found in a raw header block. */
struct render_field {
	const char	*name;
	size_t		 nlen;
	const char	*value;
	size_t		 vlen;
};

/* Writes what the spool holds in its buffer; 0 or -1 (werrno set). */
static int
render_spool_flush(struct render_spool *sp)
{
	size_t	 off = 0;
	ssize_t	 n;

	if (sp->fd == -1 && sp->out.len > 0 && render_spool_open(sp) != 0) {
		buf_reset(&sp->out);
		return (-1);
	}
	while (off < sp->out.len && sp->werrno == 0) {
		n = write(sp->fd, sp->out.data + off, sp->out.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			sp->werrno = errno;
		else
			off += (size_t)n;
	}
	buf_reset(&sp->out);
	return (sp->werrno == 0 ? 0 : -1);
}

/* Appends one line record to the spool. */
static void
render_spool_add(struct render_spool *sp, const struct render_line *l)
{
	unsigned char	h[RENDER_SPOOL_RECORD];
	size_t		len = strlen(l->text);
	unsigned	d = l->quote_depth > 0xffff ? 0xffff : l->quote_depth;

	if (sp->n % RENDER_SPOOL_STEP == 0) {
		if (sp->nindex == sp->capindex) {
			sp->capindex = sp->capindex == 0 ? 64 :
			    sp->capindex * 2;
			sp->index = xreallocarray(sp->index, sp->capindex,
			    sizeof *sp->index);
		}
		sp->index[sp->nindex++] = sp->size;
	}
	h[0] = len & 0xff;
	h[1] = (len >> 8) & 0xff;
	h[2] = (len >> 16) & 0xff;
	h[3] = (len >> 24) & 0xff;
	h[4] = (unsigned char)l->kind;
	h[5] = (unsigned char)l->flags;
	h[6] = d & 0xff;
	h[7] = (d >> 8) & 0xff;
	buf_add(&sp->out, h, sizeof h);
	buf_add(&sp->out, l->text, len);
	sp->n++;
	sp->bytes += len;
	sp->size += (off_t)(sizeof h + len);
	if (sp->out.len >= RENDER_SPOOL_MEM)
		render_spool_flush(sp);
}

/* Appends one finished line (text owned) to the render. */
static void
render_push(struct render_ctx *ctx, enum render_kind kind, unsigned depth,
    char *text)
{
	struct render		*r = ctx->r;
	struct render_line	*l, one;
	size_t			 len = strlen(text);

	if (ctx->full) {
		free(text);
		return;
	}
	if (r->bytes + len > ctx->max_bytes) {
		free(text);
		text = xstrdup("[-- message too long: "
		    "the rest is not shown --]");
		kind = RENDER_NOTE;
		depth = 0;
		ctx->full = 1;
	}
	ctx->last_kind = kind;
	ctx->last_empty = *text == '\0';
	if (ctx->spool != NULL) {
		one.text = text;
		one.kind = kind;
		one.quote_depth = kind == RENDER_QUOTE ? depth : 0;
		one.flags = kind == RENDER_BODY || kind == RENDER_QUOTE ?
		    ctx->line_flags : 0;
		render_spool_add(ctx->spool, &one);
		if (ctx->spool->werrno != 0)
			ctx->full = 1;
		r->n++;
		r->bytes += len;
		free(text);
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap == 0 ? 64 : r->cap * 2;
		r->lines = xreallocarray(r->lines, r->cap, sizeof *r->lines);
	}
	l = &r->lines[r->n++];
	l->text = text;
	l->kind = kind;
	l->quote_depth = kind == RENDER_QUOTE ? depth : 0;
	l->flags = kind == RENDER_BODY || kind == RENDER_QUOTE ?
	    ctx->line_flags : 0;
	r->bytes += strlen(text);
}

/*
 * Sanitises raw[0..len) (one line, no '\n') and appends it, cut into
 * pieces of at most RENDER_MAX_LINE bytes at character boundaries.
 */
static void
render_emit(struct render_ctx *ctx, enum render_kind kind, unsigned depth,
    const char *raw, size_t len)
{
	struct buf	 b;
	size_t		 off = 0, n;

	if (ctx->full)
		return;
	/* Sanitising never shrinks a line: this trips the budget. */
	if (len > ctx->max_bytes - ctx->r->bytes + 1)
		len = ctx->max_bytes - ctx->r->bytes + 1;
	buf_init(&b);
	sanitize_text(raw, len, SANITIZE_EXPAND_TABS, &b);
	if (b.len <= RENDER_MAX_LINE) {
		render_push(ctx, kind, depth, buf_steal(&b));
		return;
	}
	while (off < b.len && !ctx->full) {
		n = b.len - off;
		if (n > RENDER_MAX_LINE) {
			n = RENDER_MAX_LINE;
			while (n > 0 &&
			    ((unsigned char)b.data[off + n] & 0xc0) == 0x80)
				n--;
		}
		render_push(ctx, kind, depth, xstrndup(b.data + off, n));
		off += n;
	}
	buf_free(&b);
}

/* Appends a line of our own (a note or attachment line). */
static void
render_note(struct render_ctx *ctx, enum render_kind kind, const char *s)
{
	render_emit(ctx, kind, 0, s, strlen(s));
}

/* Classifies a body line: quote depth, 0 when it is not a quote. */
static unsigned
render_quote_depth(const char *s, size_t len)
{
	size_t		i = 0;
	unsigned	depth = 0;

	while (i < len && s[i] == ' ')
		i++;
	while (i < len && (s[i] == '>' || (depth > 0 && s[i] == ' '))) {
		if (s[i] == '>')
			depth++;
		i++;
	}
	return (depth);
}

/* Appends UTF-8 text split into body, quote and signature lines. */
static void
render_text(struct render_ctx *ctx, const char *s, size_t len)
{
	size_t		 start = 0, end, l;
	unsigned	 q;
	int		 sig = 0;

	while (start < len && !ctx->full) {
		end = start;
		while (end < len && s[end] != '\n')
			end++;
		l = end - start;
		if (l > 0 && s[start + l - 1] == '\r')
			l--;
		if (l == 3 && memcmp(s + start, "-- ", 3) == 0)
			sig = 1;
		if (sig)
			render_emit(ctx, RENDER_SIGNATURE, 0, s + start, l);
		else if ((q = render_quote_depth(s + start, l)) > 0)
			render_emit(ctx, RENDER_QUOTE, q, s + start, l);
		else
			render_emit(ctx, RENDER_BODY, 0, s + start, l);
		start = end + 1;
	}
}

/* The offset where a header block ends (its blank line or the end). */
static size_t
render_header_end(const char *s, size_t len)
{
	size_t	i = 0;

	while (i < len) {
		if (s[i] == '\n')
			return (i);
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			return (i);
		while (i < len && s[i] != '\n')
			i++;
		i++;
	}
	return (len);
}

/* The offset of the body after a header block at s. */
static size_t
render_body_start(const char *s, size_t len)
{
	size_t	i = render_header_end(s, len);

	if (i < len && s[i] == '\r')
		i++;
	if (i < len && s[i] == '\n')
		i++;
	return (i);
}

/*
 * Splits a header block into fields, in order; returns how many. A line
 * without a colon becomes a field with an empty name.
 */
static size_t
render_fields(const char *s, size_t len, struct render_field **out)
{
	struct render_field	*f = NULL;
	size_t			 n = 0, cap = 0, i = 0, ls, le, c;

	len = render_header_end(s, len);
	while (i < len) {
		ls = i;
		while (i < len && s[i] != '\n')
			i++;
		le = i;
		i++;
		if ((s[ls] == ' ' || s[ls] == '\t') && n > 0) {
			f[n - 1].vlen = (size_t)(s + le - f[n - 1].value);
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			f = xreallocarray(f, cap, sizeof *f);
		}
		for (c = ls; c < le && s[c] != ':'; c++)
			;
		if (c == le) {
			f[n].name = s + ls;
			f[n].nlen = 0;
			f[n].value = s + ls;
		} else {
			f[n].name = s + ls;
			f[n].nlen = c - ls;
			f[n].value = s + c + 1;
		}
		f[n].vlen = (size_t)(s + le - f[n].value);
		n++;
	}
	*out = f;
	return (n);
}

/* Whether a field has the given name. */
static int
render_field_is(const struct render_field *f, const char *name)
{
	size_t	n = f->nlen;

	while (n > 0 && (f->name[n - 1] == ' ' || f->name[n - 1] == '\t'))
		n--;
	return (n == strlen(name) && strncasecmp(f->name, name, n) == 0);
}

/* Decodes a field's value for display. */
static char *
render_field_value(const struct render_field *f, int address)
{
	char	*raw, *s;

	if (!address || memchr(f->value, '\0', f->vlen) != NULL)
		return (mime_decode_header_mem(f->value, f->vlen));
	raw = xstrndup(f->value, f->vlen);
	s = mime_decode_addresses(raw);
	free(raw);
	return (s);
}

/* Appends the header lines of a message, then an empty line. */
static void
render_headers(struct render_ctx *ctx, const char *s, size_t len)
{
	static const char	*shown[] = { "From", "To", "Cc", "Date",
				    "Subject" };
	struct render_field	*f;
	struct buf		 b;
	size_t			 n, i, k;
	char			*v;
	int			 address;

	n = render_fields(s, len, &f);
	buf_init(&b);
	if (ctx->opts->full_headers) {
		for (i = 0; i < n; i++) {
			buf_reset(&b);
			v = render_field_value(&f[i], 0);
			if (f[i].nlen == 0)
				buf_adds(&b, v);
			else {
				buf_add(&b, f[i].name, f[i].nlen);
				buf_addf(&b, ": %s", v);
			}
			free(v);
			render_emit(ctx, RENDER_HEADER, 0, buf_str(&b), b.len);
		}
	} else {
		for (k = 0; k < sizeof shown / sizeof shown[0]; k++) {
			for (i = 0; i < n; i++) {
				if (render_field_is(&f[i], shown[k]))
					break;
			}
			if (i == n)
				continue;
			address = k < 3;
			v = render_field_value(&f[i], address);
			buf_reset(&b);
			buf_addf(&b, "%s: %s", shown[k], v);
			free(v);
			render_emit(ctx, RENDER_HEADER, 0, buf_str(&b), b.len);
		}
	}
	buf_free(&b);
	free(f);
	render_note(ctx, RENDER_HEADER, "");
}

/* "type/subtype" of a content type, lowercase; text/plain for none. */
void
render_ctype(const struct mailmime_content *ct, char *out, size_t size)
{
	const char	*type = "application";
	size_t		 i;

	if (ct == NULL || ct->ct_type == NULL) {
		snprintf(out, size, "text/plain");
		return;
	}
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    ct->ct_type->tp_data.tp_discrete_type != NULL) {
		switch (ct->ct_type->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT:
			type = "text";
			break;
		case MAILMIME_DISCRETE_TYPE_IMAGE:
			type = "image";
			break;
		case MAILMIME_DISCRETE_TYPE_AUDIO:
			type = "audio";
			break;
		case MAILMIME_DISCRETE_TYPE_VIDEO:
			type = "video";
			break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			if (ct->ct_type->tp_data.tp_discrete_type->dt_extension
			    != NULL)
				type = ct->ct_type->tp_data.tp_discrete_type->
				    dt_extension;
			break;
		}
	} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type != NULL) {
		switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE:
			type = "message";
			break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			type = "multipart";
			break;
		case MAILMIME_COMPOSITE_TYPE_EXTENSION:
			if (ct->ct_type->tp_data.tp_composite_type->ct_token
			    != NULL)
				type = ct->ct_type->tp_data.tp_composite_type->
				    ct_token;
			break;
		}
	}
	snprintf(out, size, "%s/%s", type,
	    ct->ct_subtype != NULL ? ct->ct_subtype : "");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* A name/value parameter pair, from either parameter list. */
struct render_param {
	const char	*name;
	const char	*value;
};

/* Collects the parameters of a part: content type or disposition. */
static size_t
render_params(const struct mailmime *m, int disposition,
    struct render_param *p, size_t max)
{
	struct mailmime_disposition_parm	*dp;
	struct mailmime_parameter		*pa;
	struct mailmime_field			*f;
	clistiter				*it, *jt;
	size_t					 n = 0;

	if (!disposition) {
		if (m->mm_content_type == NULL ||
		    m->mm_content_type->ct_parameters == NULL)
			return (0);
		for (it = clist_begin(m->mm_content_type->ct_parameters);
		    it != NULL && n < max; it = clist_next(it)) {
			pa = clist_content(it);
			p[n].name = pa->pa_name;
			p[n++].value = pa->pa_value;
		}
		return (n);
	}
	if (m->mm_mime_fields == NULL)
		return (0);
	for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type != MAILMIME_FIELD_DISPOSITION ||
		    f->fld_data.fld_disposition == NULL)
			continue;
		for (jt = clist_begin(f->fld_data.fld_disposition->dsp_parms);
		    jt != NULL && n < max; jt = clist_next(jt)) {
			dp = clist_content(jt);
			if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME) {
				p[n].name = "filename";
				p[n++].value = dp->pa_data.pa_filename;
			} else if (dp->pa_type ==
			    MAILMIME_DISPOSITION_PARM_PARAMETER) {
				p[n].name = dp->pa_data.pa_parameter->pa_name;
				p[n++].value =
				    dp->pa_data.pa_parameter->pa_value;
			}
		}
	}
	return (n);
}

/* Finds a parameter by exact (case-insensitive) name. */
static const char *
render_param_find(const struct render_param *p, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i].name != NULL && p[i].value != NULL &&
		    strcasecmp(p[i].name, name) == 0)
			return (p[i].value);
	}
	return (NULL);
}

/* Appends an RFC 2231 %-encoded value as bytes. */
static void
render_pct_decode(const char *s, struct buf *out)
{
	int	hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			hi = isdigit((unsigned char)s[1]) ? s[1] - '0' :
			    tolower((unsigned char)s[1]) - 'a' + 10;
			lo = isdigit((unsigned char)s[2]) ? s[2] - '0' :
			    tolower((unsigned char)s[2]) - 'a' + 10;
			buf_addc(out, (char)(hi << 4 | lo));
			s += 2;
		} else
			buf_addc(out, *s);
	}
}

/*
 * The value of parameter key, decoded: RFC 2231 (key*, key*0*, ...) first,
 * then RFC 2047 in a plain value. NULL when absent; owned by the caller.
 */
static char *
render_param_value(const struct render_param *p, size_t n, const char *key)
{
	struct buf	 bytes, text;
	const char	*v, *q1, *q2;
	char		 name[64], charset[64] = "", *res;
	unsigned	 i;
	int		 ext, found = 0;

	buf_init(&bytes);
	for (i = 0; i < 100; i++) {
		ext = 1;
		if (i == 0) {
			snprintf(name, sizeof name, "%s*", key);
			if ((v = render_param_find(p, n, name)) != NULL) {
				found = 1;
				i = 100;	/* a single extended value */
				goto add;
			}
		}
		snprintf(name, sizeof name, "%s*%u*", key, i);
		if ((v = render_param_find(p, n, name)) == NULL) {
			ext = 0;
			snprintf(name, sizeof name, "%s*%u", key, i);
			if ((v = render_param_find(p, n, name)) == NULL)
				break;
		}
		found = 1;
add:
		if (!ext) {
			buf_adds(&bytes, v);
			continue;
		}
		if (bytes.len == 0 && charset[0] == '\0' &&
		    (q1 = strchr(v, '\'')) != NULL &&
		    (q2 = strchr(q1 + 1, '\'')) != NULL) {
			snprintf(charset, sizeof charset, "%.*s",
			    (int)(q1 - v), v);
			v = q2 + 1;
		}
		render_pct_decode(v, &bytes);
	}
	if (found) {
		buf_init(&text);
		mime_charset_to_utf8(charset[0] != '\0' ? charset : NULL,
		    buf_str(&bytes), bytes.len, &text);
		buf_free(&bytes);
		res = mime_decode_header(buf_str(&text));
		buf_free(&text);
		return (res);
	}
	buf_free(&bytes);
	if ((v = render_param_find(p, n, key)) != NULL)
		return (mime_decode_header(v));
	return (NULL);
}

/* The file name of a part, or NULL. */
char *
render_filename(const struct mailmime *m)
{
	struct render_param	 p[64];
	size_t			 n;
	char			*s;

	n = render_params(m, 1, p, 64);
	if ((s = render_param_value(p, n, "filename")) != NULL && *s != '\0')
		return (s);
	free(s);
	n = render_params(m, 0, p, 64);
	if ((s = render_param_value(p, n, "name")) != NULL && *s != '\0')
		return (s);
	free(s);
	return (NULL);
}

/* The charset parameter of a part, or NULL (borrowed). */
const char *
render_charset(const struct mailmime *m)
{
	struct render_param	p[64];
	size_t			n;

	n = render_params(m, 0, p, 64);
	return (render_param_find(p, n, "charset"));
}

/* The transfer encoding of a part. */
int
render_encoding(const struct mailmime *m)
{
	struct mailmime_field	*f;
	clistiter		*it;

	if (m->mm_mime_fields == NULL)
		return (MAILMIME_MECHANISM_8BIT);
	for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		f = clist_content(it);
		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING &&
		    f->fld_data.fld_encoding != NULL)
			return (f->fld_data.fld_encoding->enc_type);
	}
	return (MAILMIME_MECHANISM_8BIT);
}

/* The raw (still encoded) content of a part; 0 when it has none. */
int
render_raw_content(const struct mailmime *m, const char **p, size_t *len)
{
	const struct mailmime_data	*d = m->mm_body;

	if (m->mm_type == MAILMIME_SINGLE && m->mm_data.mm_single != NULL)
		d = m->mm_data.mm_single;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL) {
		*p = "";
		*len = 0;
		return (0);
	}
	*p = d->dt_data.dt_text.dt_data;
	*len = d->dt_data.dt_text.dt_length;
	return (1);
}

/* Appends the transfer-decoded content of a part. */
void
render_decoded(const struct mailmime *m, struct buf *out)
{
	const char	*p;
	size_t		 len;

	render_raw_content(m, &p, &len);
	switch (render_encoding(m)) {
	case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
		mime_decode_qp(p, len, 0, out);
		break;
	case MAILMIME_MECHANISM_BASE64:
		mime_decode_base64(p, len, out);
		break;
	default:
		buf_add(out, p, len);
		break;
	}
}

/* The decoded size of a part, without keeping the decoded bytes. */
size_t
render_decoded_size(const struct mailmime *m)
{
	struct buf	 b;
	const char	*p;
	size_t		 len;

	if (m->mm_type == MAILMIME_MESSAGE) {
		render_message_raw(m, &p, &len);
		return (len);
	}
	render_raw_content(m, &p, &len);
	switch (render_encoding(m)) {
	case MAILMIME_MECHANISM_BASE64:
		return (mime_base64_decoded_len(p, len));
	case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
		buf_init(&b);
		mime_decode_qp(p, len, 0, &b);
		len = b.len;
		buf_free(&b);
		return (len);
	}
	return (len);
}

/* Formats a size for people: "512 B", "12 KB", "3.4 MB". */
void
render_size(size_t n, char *out, size_t size)
{
	if (n < 1024)
		snprintf(out, size, "%zu B", n);
	else if (n < 1024 * 1024)
		snprintf(out, size, "%zu KB", (n + 1023) / 1024);
	else
		snprintf(out, size, "%.1f MB", (double)n / (1024 * 1024));
}

/* Appends the "[-- Attachment #n: name (type, size) --]" line. */
static void
render_attachment_line(struct render_ctx *ctx, const struct mailmime *m,
    const char *ctype)
{
	struct buf		 b;
	char			*name, size[32];

	if (ctx->r->n > 0 && !ctx->last_empty &&
	    ctx->last_kind != RENDER_ATTACHMENT &&
	    ctx->last_kind != RENDER_HEADER)
		render_note(ctx, RENDER_BODY, "");
	render_size(render_decoded_size(m), size, sizeof size);
	name = render_filename(m);
	buf_init(&b);
	if (name != NULL)
		buf_addf(&b, "[-- Attachment #%u: %s (%s, %s) --]",
		    ctx->attach, name, ctype, size);
	else
		buf_addf(&b, "[-- Attachment #%u (%s, %s) --]", ctx->attach,
		    ctype, size);
	render_note(ctx, RENDER_ATTACHMENT, buf_str(&b));
	buf_free(&b);
	free(name);
}

/* A Content-Type parameter of a part (borrowed), or NULL. */
static const char *
render_ctype_param(const struct mailmime *m, const char *name)
{
	struct render_param	p[64];
	size_t			n;

	n = render_params(m, 0, p, 64);
	return (render_param_find(p, n, name));
}

/*
 * Undoes RFC 3676 format=flowed: lines ending in a space are joined with
 * the next one at the same quote depth, space-stuffing is removed and,
 * with delsp, the space that marked the soft break. Quotes come out as
 * ">>> " before each joined paragraph.
 */
void
render_flowed(const char *s, size_t len, int delsp, struct buf *out)
{
	size_t		 start = 0, end, l, keep;
	unsigned	 depth, prev = 0, k;
	const char	*p;
	int		 soft = 0, flowed, sigsep;

	while (start < len) {
		end = start;
		while (end < len && s[end] != '\n')
			end++;
		p = s + start;
		l = end - start;
		start = end + 1;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		for (depth = 0; depth < l && p[depth] == '>'; depth++)
			;
		p += depth;
		l -= depth;
		if (l > 0 && p[0] == ' ') {	/* space-stuffing */
			p++;
			l--;
		}
		sigsep = l == 3 && memcmp(p, "-- ", 3) == 0;
		if (soft && (depth != prev || sigsep)) {
			buf_addc(out, '\n');
			soft = 0;
		}
		if (!soft) {
			for (k = 0; k < depth; k++)
				buf_addc(out, '>');
			if (depth > 0)
				buf_addc(out, ' ');
		}
		flowed = !sigsep && l > 0 && p[l - 1] == ' ';
		keep = flowed && delsp ? l - 1 : l;
		buf_add(out, p, keep);
		if (!flowed)
			buf_addc(out, '\n');
		soft = flowed;
		prev = depth;
	}
	if (soft)
		buf_addc(out, '\n');
}

/*
 * Turns HTML into text with the user's mailcap copiousoutput entry;
 * 0 when it did (a note says so), -1 to fall back to the built-in one.
 */
static int
render_html_mailcap(struct render_ctx *ctx, const struct buf *html,
    struct buf *out)
{
	struct mailcap_entry	 e;
	struct error		 err;
	struct buf		 note;
	int			 iso = 0, r;

	if (ctx->opts->mailcap_path == NULL ||
	    *ctx->opts->mailcap_path == '\0' ||
	    mailcap_find(ctx->opts->mailcap_path, "text/html",
	    MAILCAP_COPIOUS, &e) != 0)
		return (-1);
	error_clear(&err);
	buf_init(&note);
	r = mailcap_filter(&e, "text/html", "utf-8", buf_str(html),
	    html->len, out, &iso, &err);
	if (r != 0) {
		buf_addf(&note, "[-- mailcap filter for text/html: %s; "
		    "shown by facteur instead --]", err.msg);
		buf_reset(out);
	} else
		buf_addf(&note, "[-- text/html shown by mailcap: %.60s%s --]",
		    e.command, iso ? "" : " (network not isolated)");
	render_note(ctx, RENDER_NOTE, buf_str(&note));
	buf_free(&note);
	mailcap_entry_free(&e);
	return (r);
}

/* Appends a text part: decoded, converted, HTML made text. */
static void
render_text_part(struct render_ctx *ctx, const struct mailmime *m,
    const char *ctype)
{
	struct buf	 raw, text, html, note;
	const char	*charset, *format, *delsp;
	char		*cs;

	buf_init(&raw);
	buf_init(&text);
	render_decoded(m, &raw);
	charset = render_charset(m);
	if (mime_charset_to_utf8(charset, buf_str(&raw), raw.len,
	    &text) != 0) {
		cs = sanitize_line(charset);
		buf_init(&note);
		buf_addf(&note,
		    "[-- charset '%.40s' unknown: shown as UTF-8 --]", cs);
		render_note(ctx, RENDER_NOTE, buf_str(&note));
		buf_free(&note);
		free(cs);
	}
	buf_free(&raw);
	buf_init(&html);
	format = render_ctype_param(m, "format");
	if (strcmp(ctype, "text/html") == 0) {
		if (render_html_mailcap(ctx, &text, &html) != 0)
			html_to_text(buf_str(&text), text.len, &html);
		render_text(ctx, buf_str(&html), html.len);
	} else if (strcmp(ctype, "text/plain") == 0 && format != NULL &&
	    strcasecmp(format, "flowed") == 0) {
		delsp = render_ctype_param(m, "delsp");
		render_flowed(buf_str(&text), text.len, delsp != NULL &&
		    strcasecmp(delsp, "yes") == 0, &html);
		ctx->line_flags = RENDER_LINE_FLOWED;
		render_text(ctx, buf_str(&html), html.len);
		ctx->line_flags = 0;
	} else
		render_text(ctx, buf_str(&text), text.len);
	buf_free(&html);
	buf_free(&text);
}

static void	render_part(struct render_ctx *, const struct mailmime *,
		    unsigned, int);

/*
 * Whether m is a message of a multipart/digest without a Content-Type of
 * its own: libetpan then parses the enclosed message's header as the
 * part's MIME header, and m's raw content starts at its body.
 */
int
render_digest_quirk(const struct mailmime *m)
{
	struct mailmime_field	*f;
	clistiter		*it;
	char			 ctype[128];

	if (m->mm_type != MAILMIME_MESSAGE || m->mm_parent == NULL ||
	    m->mm_mime_start == NULL)
		return (0);
	render_ctype(m->mm_parent->mm_content_type, ctype, sizeof ctype);
	if (strcmp(ctype, "multipart/digest") != 0)
		return (0);
	if (m->mm_mime_fields != NULL) {
		for (it = clist_begin(m->mm_mime_fields->fld_list); it != NULL;
		    it = clist_next(it)) {
			f = clist_content(it);
			if (f->fld_type == MAILMIME_FIELD_TYPE)
				return (0);
		}
	}
	return (1);
}

/* The raw text of an enclosed message, headers included. */
void
render_message_raw(const struct mailmime *m, const char **p, size_t *len)
{
	render_raw_content(m, p, len);
	if (!render_digest_quirk(m))
		return;
	*p = m->mm_mime_start;
	*len = m->mm_length;
	while (*len > 0 && (**p == '\r' || **p == '\n')) {
		(*p)++;
		(*len)--;
	}
}

/* Appends a message: its headers, then its body. */
static void
render_message(struct render_ctx *ctx, const struct mailmime *m,
    unsigned depth)
{
	const char	*p;
	size_t		 len;

	render_message_raw(m, &p, &len);
	render_headers(ctx, p, len);
	if (m->mm_data.mm_message.mm_msg_mime != NULL)
		render_part(ctx, m->mm_data.mm_message.mm_msg_mime, depth + 1,
		    1);
}

/*
 * How many numbers the parts under m take (leaves and enclosed messages,
 * as render_part counts them), for the branches that are not shown.
 */
unsigned
render_count(const struct mailmime *m, unsigned depth)
{
	clistiter	*it;
	unsigned	 n = 0;

	if (depth > RENDER_MAX_DEPTH)
		return (0);
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		return (1);
	case MAILMIME_MESSAGE:
		if (m->mm_data.mm_message.mm_msg_mime != NULL)
			n = render_count(m->mm_data.mm_message.mm_msg_mime,
			    depth + 1);
		return (1 + n);
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it))
			n += render_count(clist_content(it), depth + 1);
		return (n);
	}
	return (0);
}

/* What readable text a part leads with: 1 plain, 2 HTML, 0 none. */
static int
render_text_kind(const struct mailmime *m, unsigned depth)
{
	char		 ctype[128];
	clistiter	*it;
	int		 kind = 0;

	if (depth > RENDER_MAX_DEPTH)
		return (0);
	render_ctype(m->mm_content_type, ctype, sizeof ctype);
	if (m->mm_type == MAILMIME_SINGLE) {
		if (strcmp(ctype, "text/html") == 0)
			return (2);
		return (strncmp(ctype, "text/", 5) == 0 ? 1 : 0);
	}
	if (m->mm_type != MAILMIME_MULTIPLE)
		return (0);
	it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
	if (strcmp(ctype, "multipart/alternative") != 0)
		return (it != NULL ? render_text_kind(clist_content(it),
		    depth + 1) : 0);
	for (; it != NULL; it = clist_next(it))
		kind |= render_text_kind(clist_content(it), depth + 1);
	return (kind);
}

/* Picks and appends one alternative; the others keep their numbers. */
static void
render_alternative(struct render_ctx *ctx, const struct mailmime *m,
    unsigned depth, int first)
{
	const struct mailmime	*pick = NULL, *fallback = NULL, *c;
	clistiter		*it;
	int			 want, kind;

	want = ctx->opts->prefer_html ? 2 : 1;
	for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
	    it = clist_next(it)) {
		c = clist_content(it);
		kind = render_text_kind(c, depth + 1);
		if (kind & want)
			pick = c;
		else if (kind != 0)
			fallback = c;
	}
	if (pick == NULL)
		pick = fallback;
	if (pick == NULL &&
	    (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list)) != NULL)
		pick = clist_content(it);
	for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it != NULL;
	    it = clist_next(it)) {
		c = clist_content(it);
		if (c == pick)
			render_part(ctx, pick, depth + 1, first);
		else
			ctx->attach += render_count(c, depth + 1);
	}
}

/* Says that a message is signed or encrypted, with what. */
static void
render_crypto_note(struct render_ctx *ctx, const struct mailmime *m,
    const char *ctype)
{
	struct buf	 b;
	const char	*proto = render_ctype_param(m, "protocol");
	char		*p;

	p = sanitize_line(proto != NULL ? proto : "unknown protocol");
	buf_init(&b);
	if (strcmp(ctype, "multipart/signed") == 0)
		buf_addf(&b, "[-- signed message (%.60s): the signature is "
		    "not checked --]", p);
	else if (strcmp(ctype, "multipart/encrypted") == 0)
		buf_addf(&b, "[-- encrypted message (%.60s): facteur cannot "
		    "decrypt it --]", p);
	else
		buf_addf(&b, "[-- S/MIME data (%s): not decrypted or checked "
		    "--]", ctype);
	render_note(ctx, RENDER_NOTE, buf_str(&b));
	buf_free(&b);
	free(p);
}

/*
 * Appends one part. first says whether it is the body (no attachment line
 * before a text part) or a later part of a mixed multipart.
 */
static void
render_part(struct render_ctx *ctx, const struct mailmime *m, unsigned depth,
    int first)
{
	char		 ctype[128];
	clistiter	*it;
	int		 i = 0, related, encrypted;

	if (ctx->full)
		return;
	if (depth > RENDER_MAX_DEPTH) {
		render_note(ctx, RENDER_NOTE,
		    "[-- nested too deep: part not shown --]");
		return;
	}
	render_ctype(m->mm_content_type, ctype, sizeof ctype);
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		ctx->attach++;
		if (strcmp(ctype, "application/pkcs7-mime") == 0 ||
		    strcmp(ctype, "application/x-pkcs7-mime") == 0)
			render_crypto_note(ctx, m, ctype);
		if (strncmp(ctype, "text/", 5) != 0) {
			render_attachment_line(ctx, m, ctype);
			break;
		}
		if (!first)
			render_attachment_line(ctx, m, ctype);
		render_text_part(ctx, m, ctype);
		break;
	case MAILMIME_MESSAGE:
		ctx->attach++;
		render_attachment_line(ctx, m, "message/rfc822");
		render_message(ctx, m, depth);
		break;
	case MAILMIME_MULTIPLE:
		if (strcmp(ctype, "multipart/alternative") == 0) {
			render_alternative(ctx, m, depth, first);
			break;
		}
		encrypted = strcmp(ctype, "multipart/encrypted") == 0;
		if (encrypted || strcmp(ctype, "multipart/signed") == 0)
			render_crypto_note(ctx, m, ctype);
		related = strcmp(ctype, "multipart/related") == 0;
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL && !ctx->full; it = clist_next(it)) {
			/* multipart/related: only the root is shown. */
			if (i > 0 && related)
				ctx->attach += render_count(clist_content(it),
				    depth + 1);
			else
				render_part(ctx, clist_content(it), depth + 1,
				    first && i == 0 && !encrypted);
			i++;
		}
		break;
	}
}

/* One entry of the pre-scan's stack: a boundary, or a message level. */
struct render_level {
	const char	*boundary;	/* NULL: a message/rfc822 level */
	size_t		 len;
};

/* Finds boundary=... in a Content-Type value. */
static int
render_scan_boundary(const char *v, size_t vlen, const char **b, size_t *blen)
{
	size_t	i, s;

	for (i = 0; i + 9 <= vlen; i++) {
		if (strncasecmp(v + i, "boundary", 8) != 0)
			continue;
		s = i + 8;
		while (s < vlen && (v[s] == ' ' || v[s] == '\t'))
			s++;
		if (s >= vlen || v[s] != '=')
			continue;
		s++;
		while (s < vlen && (v[s] == ' ' || v[s] == '\t'))
			s++;
		if (s < vlen && v[s] == '"') {
			*b = v + ++s;
			while (s < vlen && v[s] != '"')
				s++;
		} else {
			*b = v + s;
			while (s < vlen && v[s] != ';' && v[s] != ' ' &&
			    v[s] != '\t' && v[s] != '\r' && v[s] != '\n')
				s++;
		}
		*blen = (size_t)(v + s - *b);
		return (*blen > 0);
	}
	return (0);
}

/*
 * Bounds the MIME structure before parsing: nesting depth (multiparts and
 * enclosed messages) and part count, with a line-by-line simulation that
 * costs O(length * depth limit). Returns 0 within the limits.
 */
int
render_prescan(const char *s, size_t len, unsigned *depth_out,
    size_t *parts_out)
{
	struct render_level	 st[RENDER_MAX_DEPTH + 2];
	const char		*ct = NULL, *b, *l;
	size_t			 i = 0, ll, ctlen = 0, blen, parts = 0;
	unsigned		 n = 0, maxd = 0, k;
	int			 headers = 1, in_ct = 0, close;

	while (i < len) {
		l = s + i;
		while (i < len && s[i] != '\n')
			i++;
		ll = (size_t)(s + i - l);
		i++;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		if (headers && ll > 0 && (l[0] == ' ' || l[0] == '\t')) {
			if (in_ct)
				ctlen = (size_t)(l + ll - ct);
			continue;
		}
		if (headers && ll > 0) {
			in_ct = ll >= 13 &&
			    strncasecmp(l, "content-type:", 13) == 0;
			if (in_ct) {
				ct = l + 13;
				ctlen = ll - 13;
			}
			if (ll < 2 || l[0] != '-' || l[1] != '-')
				continue;
		}
		if (headers && ll == 0) {
			headers = 0;
			in_ct = 0;
			if (ct == NULL)
				continue;
			while (ctlen > 0 && (*ct == ' ' || *ct == '\t')) {
				ct++;
				ctlen--;
			}
			if (ctlen >= 10 &&
			    strncasecmp(ct, "multipart/", 10) == 0 &&
			    render_scan_boundary(ct, ctlen, &b, &blen)) {
				if (n > RENDER_MAX_DEPTH)
					return (-1);
				st[n].boundary = b;
				st[n++].len = blen;
			} else if (ctlen >= 14 &&
			    strncasecmp(ct, "message/rfc822", 14) == 0) {
				if (n > RENDER_MAX_DEPTH)
					return (-1);
				st[n].boundary = NULL;
				st[n++].len = 0;
				headers = 1;	/* the enclosed message's */
			}
			ct = NULL;
			if (n > maxd)
				maxd = n;
			*depth_out = maxd;
			continue;
		}
		if (ll < 2 || l[0] != '-' || l[1] != '-' || n == 0)
			continue;
		for (k = n; k > 0; k--) {
			if (st[k - 1].boundary == NULL ||
			    ll < 2 + st[k - 1].len ||
			    memcmp(l + 2, st[k - 1].boundary,
			    st[k - 1].len) != 0)
				continue;
			close = ll >= 4 + st[k - 1].len &&
			    l[2 + st[k - 1].len] == '-' &&
			    l[3 + st[k - 1].len] == '-';
			n = close ? k - 1 : k;
			headers = !close;
			ct = NULL;
			in_ct = 0;
			if (!close && ++parts > RENDER_MAX_PARTS) {
				*parts_out = parts;
				return (-1);
			}
			break;
		}
	}
	*depth_out = maxd;
	*parts_out = parts;
	return (0);
}

/* Appends raw text as body lines (no decoding), bounded. */
static void
render_raw_body(struct render_ctx *ctx, const char *s, size_t len)
{
	render_text(ctx, s, len);
}

/* Renders a message that is not parsed: headers, a note, raw text. */
static void
render_unparsed(struct render_ctx *ctx, const char *msg, size_t len,
    const char *note, size_t show)
{
	size_t	body;

	render_headers(ctx, msg, len);
	render_note(ctx, RENDER_NOTE, note);
	body = render_body_start(msg, len);
	if (len - body > show)
		len = body + show;
	render_raw_body(ctx, msg + body, len - body);
}

/* Renders msg[0..avail) of a message that is total bytes long. */
static void
render_mem(struct render_ctx *ctx, const char *msg, size_t avail,
    size_t total)
{
	struct mailmime	*m = NULL;
	struct buf	 note;
	size_t		 idx = 0, parts = 0, max;
	unsigned	 depth = 0;
	char		 a[32], b[32];

	max = ctx->opts->max_size > 0 ? ctx->opts->max_size : RENDER_MAX_SIZE;
	buf_init(&note);
	if (total > max) {
		render_size(total, a, sizeof a);
		render_size(max, b, sizeof b);
		buf_addf(&note, "[-- message is %s, over the %s limit: "
		    "shown unparsed --]", a, b);
		render_unparsed(ctx, msg, avail, buf_str(&note),
		    RENDER_OVERSIZE_SHOW);
	} else if (render_prescan(msg, avail, &depth, &parts) != 0) {
		if (parts > RENDER_MAX_PARTS)
			buf_addf(&note, "[-- more than %d parts: shown as raw "
			    "text --]", RENDER_MAX_PARTS);
		else
			buf_addf(&note, "[-- nested more than %d levels deep: "
			    "shown as raw text --]", RENDER_MAX_DEPTH);
		render_unparsed(ctx, msg, avail, buf_str(&note), avail);
	} else if (mailmime_parse(msg, avail, &idx, &m) != MAILIMF_NO_ERROR ||
	    m == NULL) {
		render_unparsed(ctx, msg, avail,
		    "[-- message could not be parsed: shown as raw text --]",
		    avail);
	} else {
		if (m->mm_type == MAILMIME_MESSAGE)
			render_message(ctx, m, 0);
		else {
			render_headers(ctx, msg, avail);
			render_part(ctx, m, 1, 1);
		}
		mailmime_free(m);
	}
	buf_free(&note);
}

/* Starts a render with the given options. */
static void
render_start(struct render_ctx *ctx, const struct render_opts *opts,
    struct render *r)
{
	static const struct render_opts	defaults;

	memset(r, 0, sizeof *r);
	ctx->opts = opts != NULL ? opts : &defaults;
	ctx->r = r;
	ctx->attach = 0;
	ctx->full = 0;
	ctx->line_flags = 0;
	ctx->max_bytes = RENDER_MAX_BYTES;
	ctx->spool = NULL;
	ctx->last_kind = RENDER_HEADER;
	ctx->last_empty = 1;
}

int
mime_render_mem(const char *msg, size_t len, const struct render_opts *opts,
    struct render *r, struct error *err)
{
	struct render_ctx	ctx;
	size_t			max;

	render_start(&ctx, opts, r);
	if (msg == NULL)
		len = 0;
	max = ctx.opts->max_size > 0 ? ctx.opts->max_size : RENDER_MAX_SIZE;
	render_mem(&ctx, msg != NULL ? msg : "", len > max ?
	    (len < max + RENDER_OVERSIZE_SHOW ? len : max +
	    RENDER_OVERSIZE_SHOW) : len, len);
	return (0);
}

int
render_load(const char *path, size_t max, char **datap, size_t *gotp,
    size_t *totalp, struct error *err)
{
	struct stat	 sb;
	char		*data;
	size_t		 want, got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (error_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno)));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return (error_set(err, ERR_IO, "%s: not a readable file",
		    path));
	}
	want = (size_t)sb.st_size;
	if (want > max)
		want = max + RENDER_OVERSIZE_SHOW < want ?
		    max + RENDER_OVERSIZE_SHOW : want;
	data = xmalloc(want + 1);
	while (got < want) {
		n = read(fd, data + got, want - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(data);
			close(fd);
			return (error_set(err, ERR_IO, "%s: %s", path,
			    strerror(errno)));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	*datap = data;
	*gotp = got;
	*totalp = (size_t)sb.st_size > got ? (size_t)sb.st_size : got;
	return (0);
}

int
mime_render_file(const char *path, const struct render_opts *opts,
    struct render *r, struct error *err)
{
	struct render_ctx	 ctx;
	char			*data;
	size_t			 got, total, max;

	render_start(&ctx, opts, r);
	max = ctx.opts->max_size > 0 ? ctx.opts->max_size : RENDER_MAX_SIZE;
	if (render_load(path, max, &data, &got, &total, err) != 0)
		return (-1);
	render_mem(&ctx, data, got, total);
	free(data);
	return (0);
}

void
render_free(struct render *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->lines[i].text);
	free(r->lines);
	memset(r, 0, sizeof *r);
}

/* Gives the spool its unlinked temporary file; 0 or -1 (werrno set). */
static int
render_spool_open(struct render_spool *sp)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;

	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	xasprintf(&path, "%s/facteur-render.XXXXXX", dir);
	if ((sp->fd = mkostemp(path, O_CLOEXEC)) == -1) {
		sp->werrno = errno;
		free(path);
		return (-1);
	}
	/* mkostemp creates it 0600; nothing is left behind on a crash. */
	unlink(path);
	free(path);
	return (0);
}

/* Creates an empty spool; its file is made once it outgrows memory. */
static struct render_spool *
render_spool_new(void)
{
	struct render_spool	*sp;

	sp = xcalloc(1, sizeof *sp);
	sp->fd = -1;
	buf_init(&sp->out);
	sp->refs = 1;
	return (sp);
}

/* Renders msg[0..got) of a message total bytes long into a new spool. */
static int
render_spool_run(const char *msg, size_t got, size_t total,
    const struct render_opts *opts, struct render_spool **out,
    struct error *err)
{
	struct render_ctx	 ctx;
	struct render		 r;
	struct render_spool	*sp;

	*out = NULL;
	sp = render_spool_new();
	render_start(&ctx, opts, &r);
	ctx.spool = sp;
	ctx.max_bytes = RENDER_SPOOL_MAX_BYTES;
	render_mem(&ctx, msg, got, total);
	if (sp->fd == -1)
		sp->mem = buf_steal(&sp->out);
	else
		render_spool_flush(sp);
	buf_free(&sp->out);
	if (sp->werrno != 0) {
		error_set(err, ERR_IO, "temporary file for the message: %s",
		    strerror(sp->werrno));
		render_spool_free(&sp);
		return (-1);
	}
	*out = sp;
	return (0);
}

int
render_spool_file(const char *path, const struct render_opts *opts,
    struct render_spool **out, struct error *err)
{
	static const struct render_opts	 defaults;
	const struct render_opts	*o = opts != NULL ? opts : &defaults;
	char				*data;
	size_t				 got, total, max;
	int				 rc;

	*out = NULL;
	max = o->max_size > 0 ? o->max_size : RENDER_MAX_SIZE;
	if (render_load(path, max, &data, &got, &total, err) != 0)
		return (-1);
	rc = render_spool_run(data, got, total, o, out, err);
	free(data);
	return (rc);
}

int
render_spool_mem(const char *msg, size_t len, const struct render_opts *opts,
    struct render_spool **out, struct error *err)
{
	static const struct render_opts	 defaults;
	const struct render_opts	*o = opts != NULL ? opts : &defaults;
	size_t				 max;

	if (msg == NULL) {
		msg = "";
		len = 0;
	}
	max = o->max_size > 0 ? o->max_size : RENDER_MAX_SIZE;
	return (render_spool_run(msg, len > max ? (len < max +
	    RENDER_OVERSIZE_SHOW ? len : max + RENDER_OVERSIZE_SHOW) : len, len,
	    o, out, err));
}

size_t
render_spool_lines(const struct render_spool *sp)
{
	return (sp != NULL ? sp->n : 0);
}

size_t
render_spool_bytes(const struct render_spool *sp)
{
	return (sp != NULL ? sp->bytes : 0);
}

/* Reads exactly len bytes at off; 0 or -1. */
static int
render_spool_pread(struct render_spool *sp, void *to, size_t len, off_t off,
    struct error *err)
{
	size_t	 got = 0;
	ssize_t	 n;

	if (sp->fd == -1) {
		/* In memory; the callers stay within sp->size. */
		memcpy(to, sp->mem + off, len);
		return (0);
	}
	while (got < len) {
		n = pread(sp->fd, (char *)to + got, len - got,
		    off + (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (error_set(err, ERR_IO, "temporary file for the "
			    "message: %s", n == 0 ? "cut short" :
			    strerror(errno)));
		got += (size_t)n;
	}
	return (0);
}

/* A buffered reader over the spool, from one line on. */
struct render_spool_cursor {
	struct render_spool	*sp;
	off_t			 off;		/* of buf[0] */
	char			*buf;
	size_t			 len;
	size_t			 pos;
	size_t			 line;		/* the next line's number */
};

/* Fills the cursor's buffer with at least want bytes from its position. */
static int
render_spool_fill(struct render_spool_cursor *c, size_t want,
    struct error *err)
{
	size_t	keep = c->len - c->pos, size;
	off_t	at = c->off + (off_t)c->pos;

	if (keep >= want)
		return (0);
	size = want > 64 * 1024 ? want : 64 * 1024;
	if (at + (off_t)size > c->sp->size)
		size = (size_t)(c->sp->size - at);
	if (size < want)
		return (error_set(err, ERR_IO, "temporary file for the "
		    "message: cut short"));
	free(c->buf);
	c->buf = xmalloc(size);
	c->off = at;
	c->pos = 0;
	c->len = size;
	return (render_spool_pread(c->sp, c->buf, size, at, err));
}

/* Reads the cursor's next line; its text points into the buffer. */
static int
render_spool_next(struct render_spool_cursor *c, struct render_line *l,
    size_t *len, struct error *err)
{
	const unsigned char	*h;

	if (render_spool_fill(c, RENDER_SPOOL_RECORD, err) != 0)
		return (-1);
	h = (const unsigned char *)c->buf + c->pos;
	*len = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 |
	    (size_t)h[3] << 24;
	l->kind = (enum render_kind)h[4];
	l->flags = h[5];
	l->quote_depth = (unsigned)h[6] | (unsigned)h[7] << 8;
	if (render_spool_fill(c, RENDER_SPOOL_RECORD + *len, err) != 0)
		return (-1);
	l->text = c->buf + c->pos + RENDER_SPOOL_RECORD;
	c->pos += RENDER_SPOOL_RECORD + *len;
	c->line++;
	return (0);
}

/* Positions a cursor on line first (first < lines). */
static int
render_spool_seek(struct render_spool *sp, size_t first,
    struct render_spool_cursor *c, struct error *err)
{
	struct render_line	l;
	size_t			len;

	memset(c, 0, sizeof *c);
	c->sp = sp;
	c->off = sp->index[first / RENDER_SPOOL_STEP];
	c->line = first - first % RENDER_SPOOL_STEP;
	while (c->line < first) {
		if (render_spool_next(c, &l, &len, err) != 0)
			return (-1);
	}
	return (0);
}

int
render_spool_read(struct render_spool *sp, size_t first, size_t max_lines,
    size_t max_bytes, struct render *r, struct error *err)
{
	struct render_spool_cursor	 c;
	struct render_line		 l;
	size_t				 len;

	memset(r, 0, sizeof *r);
	if (first >= sp->n || max_lines == 0)
		return (0);
	if (render_spool_seek(sp, first, &c, err) != 0) {
		free(c.buf);
		return (-1);
	}
	while (c.line < sp->n && r->n < max_lines &&
	    (r->n == 0 || r->bytes < max_bytes)) {
		if (render_spool_next(&c, &l, &len, err) != 0) {
			free(c.buf);
			render_free(r);
			return (-1);
		}
		if (r->n > 0 && r->bytes + len > max_bytes)
			break;
		if (r->n == r->cap) {
			r->cap = r->cap == 0 ? 64 : r->cap * 2;
			r->lines = xreallocarray(r->lines, r->cap,
			    sizeof *r->lines);
		}
		l.text = xstrndup(l.text, len);
		r->lines[r->n++] = l;
		r->bytes += len;
	}
	free(c.buf);
	return (0);
}

int
render_find_in(const char *text, size_t off, int dir, const char *needle,
    size_t *at)
{
	const char	*m, *last = NULL;
	size_t		 len = strlen(text);

	if (*needle == '\0')
		return (0);
	if (dir > 0) {
		if (off > len || (m = strcasestr(text + off, needle)) == NULL)
			return (0);
		*at = (size_t)(m - text);
		return (1);
	}
	for (m = text; (m = strcasestr(m, needle)) != NULL &&
	    (size_t)(m - text) < off; m++)
		last = m;
	if (last == NULL)
		return (0);
	*at = (size_t)(last - text);
	return (1);
}

/* render_find_in on text[0..len), which is not NUL-terminated. */
static int
render_spool_match(const char *text, size_t len, size_t off, int dir,
    const char *needle, size_t *at)
{
	char	*s;
	int	 found;

	s = xstrndup(text, len);
	found = render_find_in(s, off, dir, needle, at);
	free(s);
	return (found);
}

long
render_spool_find(struct render_spool *sp, size_t from, int dir,
    const char *needle, volatile int *cancel, struct error *err)
{
	size_t	at;

	return (render_spool_find_at(sp, from, dir > 0 ? 0 : SIZE_MAX, dir,
	    needle, -1, &at, cancel, err));
}

long
render_spool_find_at(struct render_spool *sp, size_t from, size_t off,
    int dir, const char *needle, int skip, size_t *match,
    volatile int *cancel, struct error *err)
{
	struct render_spool_cursor	 c;
	struct render_line		 l;
	size_t				 len, block, start, end, i, at;
	size_t				 hit_at = 0;
	long				 hit;

	memset(&c, 0, sizeof c);
	if (sp->n == 0 || *needle == '\0')
		return (-1);
	if (from >= sp->n) {
		from = sp->n - 1;
		off = SIZE_MAX;
	}
	if (dir > 0) {
		if (render_spool_seek(sp, from, &c, err) != 0)
			goto fail;
		while (c.line < sp->n) {
			if (cancel != NULL && *cancel)
				break;
			if (render_spool_next(&c, &l, &len, err) != 0)
				goto fail;
			if ((skip < 0 || l.kind != (enum render_kind)skip) &&
			    render_spool_match(l.text, len, c.line - 1 == from ?
			    off : 0, 1, needle, &at)) {
				free(c.buf);
				*match = at;
				return ((long)c.line - 1);
			}
		}
		free(c.buf);
		return (-1);
	}
	/* Backwards: one block of STEP lines at a time, last line first. */
	for (block = from / RENDER_SPOOL_STEP + 1; block > 0; block--) {
		if (cancel != NULL && *cancel)
			break;
		start = (block - 1) * RENDER_SPOOL_STEP;
		end = start + RENDER_SPOOL_STEP - 1;
		if (end > from)
			end = from;
		hit = -1;
		if (render_spool_seek(sp, start, &c, err) != 0)
			goto fail;
		for (i = start; i <= end; i++) {
			if (render_spool_next(&c, &l, &len, err) != 0)
				goto fail;
			if ((skip < 0 || l.kind != (enum render_kind)skip) &&
			    render_spool_match(l.text, len, i == from ? off :
			    SIZE_MAX, -1, needle, &at)) {
				hit = (long)i;
				hit_at = at;
			}
		}
		free(c.buf);
		c.buf = NULL;
		if (hit != -1) {
			*match = hit_at;
			return (hit);
		}
	}
	return (-1);
fail:
	free(c.buf);
	return (-2);
}

int
render_spool_span(struct render_spool *sp, size_t at, size_t *start,
    size_t *end, struct error *err)
{
	struct render_spool_cursor	 c;
	struct render_line		 l;
	enum render_kind		 kind;
	size_t				 len, block, first, i, s;

	memset(&c, 0, sizeof c);
	if (at >= sp->n) {
		*start = *end = at;
		return (0);
	}
	if (render_spool_seek(sp, at, &c, err) != 0 ||
	    render_spool_next(&c, &l, &len, err) != 0)
		goto fail;
	kind = l.kind;
	while (c.line < sp->n) {
		if (render_spool_next(&c, &l, &len, err) != 0)
			goto fail;
		if (l.kind != kind) {
			c.line--;
			break;
		}
	}
	*end = c.line;
	free(c.buf);
	c.buf = NULL;
	/* Backwards, a block of STEP lines at a time. */
	s = at;
	for (block = at / RENDER_SPOOL_STEP + 1; block > 0; block--) {
		first = (block - 1) * RENDER_SPOOL_STEP;
		if (render_spool_seek(sp, first, &c, err) != 0)
			goto fail;
		for (i = first; i < s; i++) {
			if (render_spool_next(&c, &l, &len, err) != 0)
				goto fail;
			if (l.kind != kind)
				first = i + 1;
		}
		free(c.buf);
		c.buf = NULL;
		if (first > (block - 1) * RENDER_SPOOL_STEP || first == 0) {
			s = first;
			break;
		}
		s = first;
	}
	*start = s;
	return (0);
fail:
	free(c.buf);
	return (-1);
}

size_t
render_spool_urls(struct render_spool *sp, char ***out)
{
	struct render_spool_cursor	 c;
	struct render			 one;
	struct render_line		 l;
	char				**v = NULL, **got;
	size_t				 n = 0, len, k, j;

	memset(&c, 0, sizeof c);
	if (sp->n > 0 && render_spool_seek(sp, 0, &c, NULL) == 0) {
		while (c.line < sp->n && n < RENDER_MAX_URLS) {
			if (render_spool_next(&c, &l, &len, NULL) != 0)
				break;
			if (memmem(l.text, len, ":", 1) == NULL)
				continue;
			l.text = xstrndup(l.text, len);
			one.lines = &l;
			one.n = 1;
			render_urls(&one, &got);
			for (k = 0; got[k] != NULL; k++) {
				for (j = 0; j < n && strcmp(v[j], got[k]) != 0;
				    j++)
					;
				if (j < n || n == RENDER_MAX_URLS)
					free(got[k]);
				else {
					v = xreallocarray(v, n + 2, sizeof *v);
					v[n++] = got[k];
				}
			}
			free(got);
			free(l.text);
		}
	}
	free(c.buf);
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	v[n] = NULL;
	*out = v;
	return (n);
}

struct render_spool *
render_spool_ref(struct render_spool *sp)
{
	sp->refs++;
	return (sp);
}

void
render_spool_free(struct render_spool **spp)
{
	struct render_spool	*sp = *spp;

	if (sp == NULL)
		return;
	*spp = NULL;
	if (--sp->refs > 0)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	free(sp->mem);
	buf_free(&sp->out);
	free(sp->index);
	free(sp);
}
