/*
 * What the attachment list and the URL list need from a message: its
 * parts numbered as the pager numbers them, their decoded content, file
 * names safe to create, and the links of a rendered text.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/private.h"
#include "mime/render.h"
#include "mime/sanitize.h"

/* A walk over the parts: listing them, or looking for one. */
struct parts_walk {
	struct mime_parts	*list;		/* listing: where to add */
	unsigned		 want;		/* extracting: this index */
	const struct mailmime	*found;
	unsigned		 index;
};

/* The name of a transfer encoding. */
static void
parts_encoding(const struct mailmime *m, char *out, size_t size)
{
	const char	*s;

	switch (render_encoding(m)) {
	case MAILMIME_MECHANISM_7BIT:
		s = "7bit";
		break;
	case MAILMIME_MECHANISM_BINARY:
		s = "binary";
		break;
	case MAILMIME_MECHANISM_QUOTED_PRINTABLE:
		s = "quoted-printable";
		break;
	case MAILMIME_MECHANISM_BASE64:
		s = "base64";
		break;
	case MAILMIME_MECHANISM_8BIT:
		s = "8bit";
		break;
	default:
		s = "unknown";
		break;
	}
	snprintf(out, size, "%s", s);
}

/* Adds part m (numbered index) to the list. */
static void
parts_add(struct parts_walk *w, const struct mailmime *m, unsigned depth)
{
	struct mime_parts	*l = w->list;
	struct mime_part	*p;
	const char		*cs;

	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	p = &l->v[l->n++];
	memset(p, 0, sizeof *p);
	p->index = w->index;
	p->depth = depth;
	p->name = render_filename(m);
	if (m->mm_type == MAILMIME_MESSAGE) {
		snprintf(p->type, sizeof p->type, "message/rfc822");
		p->is_message = 1;
		p->size = render_decoded_size(m);
	} else {
		render_ctype(m->mm_content_type, p->type, sizeof p->type);
		p->size = render_decoded_size(m);
	}
	parts_encoding(m, p->encoding, sizeof p->encoding);
	if ((cs = render_charset(m)) != NULL)
		p->charset = sanitize_line(cs);
}

/* Numbers the parts under m depth first, as render_part does. */
static void
parts_walk(struct parts_walk *w, const struct mailmime *m, unsigned depth,
    unsigned msgdepth)
{
	clistiter	*it;

	if (depth > RENDER_MAX_DEPTH || w->found != NULL)
		return;
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
	case MAILMIME_MESSAGE:
		w->index++;
		if (w->list != NULL)
			parts_add(w, m, msgdepth);
		else if (w->index == w->want) {
			w->found = m;
			return;
		}
		if (m->mm_type == MAILMIME_MESSAGE &&
		    m->mm_data.mm_message.mm_msg_mime != NULL)
			parts_walk(w, m->mm_data.mm_message.mm_msg_mime,
			    depth + 1, msgdepth + 1);
		break;
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it))
			parts_walk(w, clist_content(it), depth + 1, msgdepth);
		break;
	}
}

/*
 * Parses msg and walks it; returns the parsed tree (for the caller to
 * free) or NULL when the message is shown as one unparsed text.
 */
static struct mailmime *
parts_parse(const char *msg, size_t len, struct parts_walk *w)
{
	struct mailmime	*m = NULL;
	size_t		 idx = 0, parts = 0;
	unsigned	 depth = 0;

	if (len == 0 || len > RENDER_MAX_SIZE ||
	    render_prescan(msg, len, &depth, &parts) != 0)
		return (NULL);
	if (mailmime_parse(msg, len, &idx, &m) != MAILIMF_NO_ERROR ||
	    m == NULL)
		return (NULL);
	if (m->mm_type == MAILMIME_MESSAGE) {
		if (m->mm_data.mm_message.mm_msg_mime != NULL)
			parts_walk(w, m->mm_data.mm_message.mm_msg_mime, 1, 0);
	} else
		parts_walk(w, m, 1, 0);
	return (m);
}

int
mime_parts_mem(const char *msg, size_t len, struct mime_parts *l,
    struct error *err)
{
	struct parts_walk	 w;
	struct mailmime		*m;

	memset(l, 0, sizeof *l);
	memset(&w, 0, sizeof w);
	w.list = l;
	if ((m = parts_parse(msg != NULL ? msg : "", msg != NULL ? len : 0,
	    &w)) != NULL)
		mailmime_free(m);
	return (0);
}

int
mime_parts_file(const char *path, struct mime_parts *l, struct error *err)
{
	char	*data;
	size_t	 got, total;
	int	 r;

	memset(l, 0, sizeof *l);
	if (render_load(path, RENDER_MAX_SIZE, &data, &got, &total, err) != 0)
		return (-1);
	r = total > RENDER_MAX_SIZE ? 0 : mime_parts_mem(data, got, l, err);
	free(data);
	return (r);
}

void
mime_parts_free(struct mime_parts *l)
{
	size_t	i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].charset);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

int
mime_part_extract_mem(const char *msg, size_t len, unsigned index,
    struct buf *out, struct error *err)
{
	struct parts_walk	 w;
	struct mailmime		*m;
	const char		*raw;
	size_t			 rlen;

	memset(&w, 0, sizeof w);
	w.want = index;
	m = parts_parse(msg != NULL ? msg : "", msg != NULL ? len : 0, &w);
	if (w.found == NULL) {
		if (m != NULL)
			mailmime_free(m);
		return (error_set(err, ERR_NOTFOUND, "no attachment #%u",
		    index));
	}
	if (w.found->mm_type == MAILMIME_MESSAGE) {
		render_message_raw(w.found, &raw, &rlen);
		buf_add(out, raw, rlen);
	} else
		render_decoded(w.found, out);
	mailmime_free(m);
	return (0);
}

int
mime_part_extract_file(const char *path, unsigned index, struct buf *out,
    struct error *err)
{
	char	*data;
	size_t	 got, total;
	int	 r;

	if (render_load(path, RENDER_MAX_SIZE, &data, &got, &total, err) != 0)
		return (-1);
	if (total > RENDER_MAX_SIZE)
		r = error_set(err, ERR_REFUSED, "message too large to parse");
	else
		r = mime_part_extract_mem(data, got, index, out, err);
	free(data);
	return (r);
}

/* Whether a character must not appear in a file name we create. */
static int
parts_bad_char(uint32_t c)
{
	return (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfffd ||
	    c == '/' || c == '\\' || c == 0xad || c == 0x61c ||
	    c == 0x180e || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x206f) ||
	    c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	    (c >= 0xe0000 && c <= 0xe007f));
}

char *
mime_safe_filename(const char *name, unsigned index)
{
	struct buf	 b;
	const char	*s, *slash;
	size_t		 len, n, start;
	uint32_t	 c;
	char		*res;

	buf_init(&b);
	if (name == NULL)
		name = "";
	/* The last component, whichever separator the sender used. */
	s = name;
	if ((slash = strrchr(s, '/')) != NULL)
		s = slash + 1;
	if ((slash = strrchr(s, '\\')) != NULL)
		s = slash + 1;
	len = strlen(s);
	while (len > 0) {
		n = sanitize_utf8_decode(s, len, &c);
		if (parts_bad_char(c))
			buf_addc(&b, '_');
		else if (b.len + n <= 200)
			buf_add(&b, s, n);
		s += n;
		len -= n;
	}
	/* No leading dots or blanks (".." , ".bashrc"), no trailing ones. */
	s = buf_str(&b);
	for (start = 0; s[start] == '.' || s[start] == ' ' ||
	    s[start] == '-' || s[start] == '~'; start++)
		;
	len = b.len;
	while (len > start && (s[len - 1] == ' ' || s[len - 1] == '.'))
		len--;
	if (len == start)
		xasprintf(&res, "attachment-%u", index);
	else
		res = xstrndup(s + start, len - start);
	buf_free(&b);
	return (res);
}

/* The length of a URL starting at s, trailing punctuation left out. */
static size_t
parts_url_len(const char *s)
{
	size_t	n = 0;

	while (s[n] != '\0' && !isspace((unsigned char)s[n]) &&
	    strchr("<>\"'`{}|^", s[n]) == NULL && (unsigned char)s[n] >= 0x21)
		n++;
	while (n > 0 && strchr(".,;:!?)]", s[n - 1]) != NULL)
		n--;
	return (n);
}

size_t
render_urls(const struct render *r, char ***out)
{
	static const char	*schemes[] = { "https://", "http://", "ftp://",
				    "mailto:" };
	char			**v = NULL, *u;
	size_t			 n = 0, i, k, j, len, slen;
	const char		*t;

	for (i = 0; r != NULL && i < r->n && n < RENDER_MAX_URLS; i++) {
		for (t = r->lines[i].text; *t != '\0' &&
		    n < RENDER_MAX_URLS; t++) {
			if (t != r->lines[i].text &&
			    isalnum((unsigned char)t[-1]))
				continue;
			for (k = 0; k < 4; k++) {
				slen = strlen(schemes[k]);
				if (strncasecmp(t, schemes[k], slen) == 0)
					break;
			}
			if (k == 4 || (len = parts_url_len(t)) <= slen)
				continue;
			u = xstrndup(t, len);
			for (j = 0; j < n && strcmp(v[j], u) != 0; j++)
				;
			if (j < n)
				free(u);
			else {
				v = xreallocarray(v, n + 2, sizeof *v);
				v[n++] = u;
			}
			t += len - 1;
		}
	}
	if (v == NULL)
		v = xcalloc(1, sizeof *v);
	v[n] = NULL;
	*out = v;
	return (n);
}
