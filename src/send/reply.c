/*
 * Replies, forwards and the editor file. A reply takes its recipients
 * from the original's headers, picks the identity the original was
 * addressed to, strips the Re: chain and quotes the rendered text; the
 * editor file holds the headers and the body together.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/render.h"
#include "send/send.h"

#define REPLY_MAX_HEADER	(1024 * 1024)

/* The original's header block, unfolded, read from path. */
struct reply_headers {
	char	*text;
	size_t	 len;
};

/* Reads the header block of a message file (up to 1 MiB). */
static int
reply_read_headers(const char *path, struct reply_headers *h,
    struct error *err)
{
	FILE		*f;
	struct buf	 b;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	if ((f = fopen(path, "re")) == NULL)
		return (error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)));
	buf_init(&b);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || b.len > REPLY_MAX_HEADER)
			break;
		if ((line[0] == ' ' || line[0] == '\t') && b.len > 0) {
			b.len--;		/* unfold: drop the '\n' */
			b.data[b.len] = '\0';
		}
		buf_add(&b, line, n);
		buf_addc(&b, '\n');
	}
	free(line);
	fclose(f);
	h->len = b.len;
	h->text = buf_steal(&b);
	return (0);
}

/* The raw value of the first header called name, or NULL (owned). */
static char *
reply_header(const struct reply_headers *h, const char *name)
{
	const char	*p = h->text, *nl;
	size_t		 n = strlen(name);

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if ((size_t)(nl - p) > n && strncasecmp(p, name, n) == 0 &&
		    p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return (xstrndup(p, nl - p));
		}
		if (*nl == '\0')
			break;
	}
	return (NULL);
}

/* Appends "Name <addr>" with a quoted name when it needs quotes. */
static void
reply_add_addr(struct buf *b, const char *name, const char *addr)
{
	const char	*p;
	int		 quote = 0;

	if (b->len > 0)
		buf_adds(b, ", ");
	if (name == NULL || *name == '\0') {
		buf_adds(b, addr);
		return;
	}
	for (p = name; *p != '\0'; p++)
		if (strchr(",;:<>@\"()[]\\.", *p) != NULL)
			quote = 1;
	if (quote) {
		buf_addc(b, '"');
		for (p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
	} else
		buf_adds(b, name);
	buf_addf(b, " <%s>", addr);
}

/* True if the list in b already holds addr. */
static int
reply_has_addr(const char *list, const char *addr)
{
	const char	*p;
	size_t		 n = strlen(addr);

	for (p = list; (p = strcasestr(p, addr)) != NULL; p += n) {
		if ((p == list || strchr(" <,", p[-1]) != NULL) &&
		    strchr(">,", p[n]) != NULL)
			return (1);
		if (p[n] == '\0')
			return (1);
	}
	return (0);
}

/* Is addr one of ours (identity from or alternates)? Returns the index. */
static int
reply_ours(const char *addr, const struct send_identity *ids, size_t nids)
{
	struct send_addrs	 a = { 0 };
	regex_t			 re;
	size_t			 i;
	int			 hit;

	for (i = 0; i < nids; i++) {
		if (ids[i].from != NULL &&
		    send_addrs_parse(ids[i].from, &a, NULL) == 0 && a.n == 1 &&
		    strcasecmp(a.v[0].addr, addr) == 0) {
			send_addrs_free(&a);
			return ((int)i);
		}
		send_addrs_free(&a);
		if (ids[i].alternates != NULL && regcomp(&re,
		    ids[i].alternates, REG_EXTENDED | REG_ICASE | REG_NOSUB)
		    == 0) {
			hit = regexec(&re, addr, 0, NULL, 0) == 0;
			regfree(&re);
			if (hit)
				return ((int)i);
		}
	}
	return (-1);
}

/*
 * Appends every address of the raw header value to b, display names
 * decoded, skipping ours (unless keep_ours) and those already in skip.
 * The first of our addresses seen sets *id.
 */
static void
reply_collect(const char *raw, struct buf *b, const char *skip,
    const struct send_identity *ids, size_t nids, int keep_ours, int *id)
{
	struct mailimf_address_list	*list = NULL;
	struct mailimf_address		*ad;
	struct mailimf_mailbox		*mb;
	clistiter			*it, *jt;
	size_t				 idx = 0;
	char				*name;
	int				 which;

	if (raw == NULL || mailimf_address_list_parse(raw, strlen(raw), &idx,
	    &list) != MAILIMF_NO_ERROR)
		return;
	for (it = clist_begin(list->ad_list); it != NULL; it = it->next) {
		ad = clist_content(it);
		jt = NULL;
		if (ad->ad_type == MAILIMF_ADDRESS_GROUP) {
			if (ad->ad_data.ad_group->grp_mb_list == NULL)
				continue;
			jt = clist_begin(ad->ad_data.ad_group->grp_mb_list->
			    mb_list);
			mb = jt != NULL ? clist_content(jt) : NULL;
		} else
			mb = ad->ad_data.ad_mailbox;
		for (; mb != NULL; mb = jt != NULL && (jt = jt->next) != NULL ?
		    clist_content(jt) : NULL) {
			if (mb->mb_addr_spec == NULL)
				continue;
			which = reply_ours(mb->mb_addr_spec, ids, nids);
			if (which != -1 && *id == -1)
				*id = which;
			if ((which != -1 && !keep_ours) ||
			    reply_has_addr(buf_str(b), mb->mb_addr_spec) ||
			    (skip != NULL && reply_has_addr(skip,
			    mb->mb_addr_spec)))
				continue;
			name = mb->mb_display_name != NULL ?
			    mime_decode_header(mb->mb_display_name) : NULL;
			reply_add_addr(b, name, mb->mb_addr_spec);
			free(name);
			if (jt == NULL)
				break;
		}
	}
	mailimf_address_list_free(list);
}

/* The first mailto: address of a List-Post header, or NULL. */
static char *
reply_list_post(const char *raw)
{
	const char	*p;
	size_t		 n;

	if (raw == NULL || (p = strcasestr(raw, "<mailto:")) == NULL)
		return (NULL);
	p += 8;
	n = strcspn(p, ">?");
	return (n > 0 ? xstrndup(p, n) : NULL);
}

/* Appends the rendered body of path to b, each line behind prefix. */
static void
reply_quote(const char *path, const char *prefix, struct buf *b)
{
	struct render		 r = { 0 };
	struct render_opts	 o = { 0 };
	size_t			 i;

	if (mime_render_file(path, &o, &r, NULL) != 0)
		return;
	for (i = 0; i < r.n; i++) {
		if (r.lines[i].kind == RENDER_HEADER ||
		    (*prefix == '>' && (r.lines[i].kind == RENDER_NOTE ||
		    r.lines[i].kind == RENDER_ATTACHMENT)))
			continue;	/* no "[attachment]" lines in a quote */
		if (r.lines[i].kind == RENDER_SIGNATURE && *prefix == '>')
			break;		/* no quoted signatures */
		if (*prefix == '>' && r.lines[i].text[0] == '>')
			buf_addf(b, ">%s\n", r.lines[i].text);
		else if (*prefix == '>' && r.lines[i].text[0] == '\0')
			buf_adds(b, ">\n");
		else
			buf_addf(b, "%s%s\n", prefix, r.lines[i].text);
	}
	/* No empty first lines: the renderer separates headers and body. */
	render_free(&r);
}

/* Drops the blank lines that start a quoted body. */
static void
reply_trim_quote(struct buf *b, size_t from)
{
	size_t	i = from;

	while (i + 1 < b->len && b->data[i] == '>' && b->data[i + 1] == '\n')
		i += 2;
	if (i > from) {
		memmove(b->data + from, b->data + i, b->len - i + 1);
		b->len -= i - from;
	}
}

int
send_reply_draft(const char *path, enum send_reply_kind kind,
    const struct send_identity *ids, size_t nids, struct send_draft *d,
    struct error *err)
{
	struct reply_headers	 h = { 0 };
	struct buf		 to, cc, body;
	char			*from_raw, *reply_to, *rcpt_to, *rcpt_cc, *msgid;
	char			*refs, *subj_raw, *subj, *date, *from_disp, *lp;
	char			*delivered;
	const char		*s;
	int			 id = -1;
	size_t			 start;

	memset(d, 0, sizeof *d);
	if (reply_read_headers(path, &h, err) != 0)
		return (-1);
	from_raw = reply_header(&h, "From");
	reply_to = reply_header(&h, "Reply-To");
	rcpt_to = reply_header(&h, "To");
	rcpt_cc = reply_header(&h, "Cc");
	msgid = reply_header(&h, "Message-ID");
	refs = reply_header(&h, "References");
	subj_raw = reply_header(&h, "Subject");
	date = reply_header(&h, "Date");
	delivered = reply_header(&h, "Delivered-To");
	subj = mime_decode_header(subj_raw != NULL ? subj_raw : "");
	from_disp = mime_decode_addresses(from_raw != NULL ? from_raw : "");
	buf_init(&to);
	buf_init(&cc);
	buf_init(&body);

	/* Which of us it was sent to: To, Cc, then Delivered-To. */
	{
		struct buf	scratch;

		buf_init(&scratch);
		reply_collect(rcpt_to, &scratch, NULL, ids, nids, 0, &id);
		reply_collect(rcpt_cc, &scratch, NULL, ids, nids, 0, &id);
		reply_collect(delivered, &scratch, NULL, ids, nids, 0, &id);
		buf_free(&scratch);
	}

	switch (kind) {
	case SEND_REPLY_LIST:
		lp = reply_header(&h, "List-Post");
		s = lp;
		lp = reply_list_post(s);
		free((char *)s);
		if (lp == NULL) {
			error_set(err, ERR_NOTFOUND, "no List-Post address in "
			    "this message");
			goto fail;
		}
		buf_adds(&to, lp);
		free(lp);
		break;
	case SEND_REPLY:
	case SEND_REPLY_ALL: {
		int	dummy = -1;

		reply_collect(reply_to != NULL ? reply_to : from_raw, &to,
		    NULL, ids, nids, 1, &dummy);
		if (to.len == 0)	/* a reply to our own message */
			reply_collect(rcpt_to, &to, NULL, ids, nids, 0,
			    &dummy);
		if (kind == SEND_REPLY_ALL) {
			reply_collect(rcpt_to, &cc, buf_str(&to), ids, nids,
			    0, &dummy);
			reply_collect(rcpt_cc, &cc, buf_str(&to), ids, nids,
			    0, &dummy);
		}
		break;
	}
	default:
		break;
	}

	s = send_strip_reply(subj);
	switch (kind) {
	case SEND_FORWARD:
	case SEND_FORWARD_ATTACH:
		xasprintf(&d->subject, "Fwd: %s", s);
		break;
	case SEND_EDIT_AS_NEW:
		d->subject = xstrdup(subj);
		d->to = xstrdup(buf_str(&to));
		break;
	default:
		xasprintf(&d->subject, "Re: %s", s);
		break;
	}
	if (kind != SEND_EDIT_AS_NEW) {
		d->to = xstrdup(buf_str(&to));
		d->cc = cc.len > 0 ? xstrdup(buf_str(&cc)) : NULL;
	} else {
		free(d->to);
		d->to = rcpt_to != NULL ? mime_decode_addresses(rcpt_to) :
		    xstrdup("");
		d->cc = rcpt_cc != NULL ? mime_decode_addresses(rcpt_cc) :
		    NULL;
	}
	d->from = xstrdup(nids > 0 && ids[id == -1 ? 0 : id].from != NULL ?
	    ids[id == -1 ? 0 : id].from : "");

	if (kind <= SEND_REPLY_LIST && msgid != NULL) {
		char	*m = xstrndup(msgid, strcspn(msgid, " \t"));

		d->in_reply_to = m;
		if (refs != NULL)
			xasprintf(&d->references, "%s %s", refs, m);
		else
			d->references = xstrdup(m);
	}

	switch (kind) {
	case SEND_FORWARD:
		buf_adds(&body, "\n----- Forwarded message -----\n");
		buf_addf(&body, "From: %s\n", from_disp);
		if (date != NULL)
			buf_addf(&body, "Date: %s\n", date);
		buf_addf(&body, "Subject: %s\n\n", subj);
		reply_quote(path, "", &body);
		buf_adds(&body, "----- End forwarded message -----\n");
		break;
	case SEND_FORWARD_ATTACH:
		send_draft_attach(d, path, "forwarded.eml", "message/rfc822");
		break;
	case SEND_EDIT_AS_NEW:
		reply_quote(path, "", &body);
		break;
	default:
		if (date != NULL)
			buf_addf(&body, "On %s, %s wrote:\n", date, from_disp);
		else
			buf_addf(&body, "%s wrote:\n", from_disp);
		start = body.len;
		reply_quote(path, "> ", &body);
		reply_trim_quote(&body, start);
		break;
	}
	d->body = buf_steal(&body);
	free(h.text);
	free(from_raw); free(reply_to); free(rcpt_to); free(rcpt_cc);
	free(msgid); free(refs); free(subj_raw); free(date); free(delivered);
	free(subj); free(from_disp);
	buf_free(&to);
	buf_free(&cc);
	return (0);

fail:
	free(h.text);
	free(from_raw); free(reply_to); free(rcpt_to); free(rcpt_cc);
	free(msgid); free(refs); free(subj_raw); free(date); free(delivered);
	free(subj); free(from_disp);
	buf_free(&to);
	buf_free(&cc);
	buf_free(&body);
	send_draft_free(d);
	return (-1);
}

/* Appends "Name: value\n" to the editor text. */
static void
reply_text_field(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, "%s: %s\n", name, value != NULL ? value : "");
}

void
send_draft_to_text(const struct send_draft *d, struct buf *b)
{
	reply_text_field(b, "From", d->from);
	reply_text_field(b, "To", d->to);
	reply_text_field(b, "Cc", d->cc);
	reply_text_field(b, "Bcc", d->bcc);
	reply_text_field(b, "Subject", d->subject);
	if (d->in_reply_to != NULL)
		reply_text_field(b, "In-Reply-To", d->in_reply_to);
	if (d->references != NULL)
		reply_text_field(b, "References", d->references);
	buf_addc(b, '\n');
	if (d->body != NULL)
		buf_adds(b, d->body);
}

/* Replaces *field by value trimmed (NULL when empty). */
static void
reply_set(char **field, const char *v, size_t n)
{
	while (n > 0 && (*v == ' ' || *v == '\t'))
		v++, n--;
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r'))
		n--;
	free(*field);
	*field = n > 0 ? xstrndup(v, n) : NULL;
}

int
send_draft_from_text(const char *text, size_t len, struct send_draft *d,
    struct error *err)
{
	static const char	*names[] = { "From", "To", "Cc", "Bcc",
	    "Subject", "In-Reply-To", "References" };
	char			**fields[] = { &d->from, &d->to, &d->cc,
	    &d->bcc, &d->subject, &d->in_reply_to, &d->references };
	const char		*p = text, *end = text + len, *nl, *colon;
	char			**last = NULL;
	size_t			 i, n, lineno = 0;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n == 0 || (n == 1 && *p == '\r')) {
			p += n + 1;
			break;
		}
		if ((*p == ' ' || *p == '\t') && last != NULL) {
			char	*joined;

			xasprintf(&joined, "%s %.*s", *last != NULL ? *last :
			    "", (int)n, p);
			reply_set(last, joined, strlen(joined));
			free(joined);
			p += n + 1;
			continue;
		}
		colon = memchr(p, ':', n);
		for (i = 0; colon != NULL && i < 7; i++)
			if ((size_t)(colon - p) == strlen(names[i]) &&
			    strncasecmp(p, names[i], colon - p) == 0)
				break;
		if (colon == NULL || i == 7)
			return (error_set(err, ERR_CONFIG, "line %zu of the "
			    "headers: \"%.40s\" is not From, To, Cc, Bcc or "
			    "Subject (leave a blank line before the body)",
			    lineno, p));
		reply_set(fields[i], colon + 1, n - (colon + 1 - p));
		last = fields[i];
		p += n + 1;
	}
	free(d->body);
	d->body = p < end ? xstrndup(p, end - p) : xstrdup("");
	return (0);
}
