/*
 * Big messages part by part. A message over IMAP_PARTIAL_MIN with
 * attachments is rebuilt in the body cache from its BODYSTRUCTURE: the
 * header, each part's MIME header, the boundaries and the text parts,
 * fetched in one UID FETCH; an attachment's body is left empty and listed
 * in FILE.parts ("missing INDEX SECTION BYTES OFFSET", format in
 * backend.h), so the pager shows the text at once. fetch_part downloads
 * one such section (streamed, cancellable) and splices it in at OFFSET;
 * the "size" line lets a stale FILE.parts (a crash between the two
 * renames) be noticed, and both files are then dropped.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define PARTS_MAGIC	"facteur-parts 1"
#define PARTS_SMALL	(16 * 1024)	/* smaller parts always come */
#define PARTS_DEPTH	32

enum piece_kind {
	PIECE_TEXT,		/* bytes of our own: boundaries */
	PIECE_SECTION,		/* a section fetched now */
	PIECE_MISSING,		/* a section left out */
};

struct piece {
	enum piece_kind	 kind;
	char		*s;		/* the text, or the section */
	unsigned	 index;		/* missing: as mime_parts numbers it */
	uint32_t	 size;		/* missing: bytes as sent */
	const char	*data;		/* section: what came */
	size_t		 len;
};

/* The file as it will be written. */
struct plan {
	struct piece	*v;
	size_t		 n;
	unsigned	 index;
	int		 missing;
	int		 bad;
};

/* Appends a piece. */
static struct piece *
plan_add(struct plan *pl, enum piece_kind kind, char *s)
{
	struct piece	*p;

	pl->v = xreallocarray(pl->v, pl->n + 1, sizeof *pl->v);
	p = &pl->v[pl->n++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->s = s;
	return (p);
}

/* Frees a plan's strings. */
static void
plan_free(struct plan *pl)
{
	size_t	i;

	for (i = 0; i < pl->n; i++)
		free(pl->v[i].s);
	free(pl->v);
	memset(pl, 0, sizeof *pl);
}

/* The value of a parameter ("boundary"), or NULL. */
static const char *
parts_param(struct mailimap_body_fld_param *pa, const char *name)
{
	struct mailimap_single_body_fld_param	*p;
	clistiter				*it;

	if (pa == NULL || pa->pa_list == NULL)
		return (NULL);
	for (it = clist_begin(pa->pa_list); it != NULL; it = clist_next(it)) {
		p = clist_content(it);
		if (p->pa_name != NULL && strcasecmp(p->pa_name, name) == 0)
			return (p->pa_value);
	}
	return (NULL);
}

/* A section name under prefix ("" at the top). */
static char *
parts_sec(const char *prefix, const char *fmt, ...)
{
	va_list	 ap;
	char	*tail, *s;

	va_start(ap, fmt);
	if (vasprintf(&tail, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	if (*prefix == '\0')
		return (tail);
	xasprintf(&s, "%s.%s", prefix, tail);
	free(tail);
	return (s);
}

/* A leaf: fetched now when it is text to read or small, else left out. */
static void
plan_leaf(struct plan *pl, struct mailimap_body_type_1part *b, char *sec)
{
	struct mailimap_body_fields	*fl = NULL;
	struct piece			*p;
	const char			*dsp = NULL;
	int				 text = 0;

	pl->index++;
	switch (b->bd_type) {
	case MAILIMAP_BODY_TYPE_1PART_BASIC:
		fl = b->bd_data.bd_type_basic->bd_fields;
		break;
	case MAILIMAP_BODY_TYPE_1PART_TEXT:
		fl = b->bd_data.bd_type_text->bd_fields;
		text = 1;
		break;
	case MAILIMAP_BODY_TYPE_1PART_MSG:
		fl = b->bd_data.bd_type_msg->bd_fields;
		break;
	}
	if (b->bd_ext_1part != NULL && b->bd_ext_1part->bd_disposition !=
	    NULL)
		dsp = b->bd_ext_1part->bd_disposition->dsp_type;
	if (dsp != NULL && strcasecmp(dsp, "attachment") == 0)
		text = 0;
	if (fl == NULL || text || fl->bd_size < PARTS_SMALL) {
		plan_add(pl, PIECE_SECTION, sec);
		return;
	}
	p = plan_add(pl, PIECE_MISSING, sec);
	p->index = pl->index;
	p->size = fl->bd_size;
	pl->missing++;
}

static void	plan_body(struct plan *, struct mailimap_body *, const char *,
		    int);

/* A part at sec: a nested multipart, an enclosed message (its header,
   then its body as its own parts) or a leaf. */
static void
plan_part(struct plan *pl, struct mailimap_body *b, const char *sec,
    int depth)
{
	struct mailimap_body_type_1part	*one;
	struct mailimap_body		*inner;

	if (b->bd_type == MAILIMAP_BODY_MPART) {
		plan_body(pl, b, sec, depth + 1);
		return;
	}
	one = b->bd_data.bd_body_1part;
	if (one->bd_type != MAILIMAP_BODY_TYPE_1PART_MSG ||
	    (inner = one->bd_data.bd_type_msg->bd_body) == NULL) {
		plan_leaf(pl, one, xstrdup(sec));
		return;
	}
	pl->index++;		/* the enclosed message itself */
	plan_add(pl, PIECE_SECTION, parts_sec(sec, "HEADER"));
	if (inner->bd_type == MAILIMAP_BODY_MPART)
		plan_body(pl, inner, sec, depth + 1);
	else
		plan_leaf(pl, inner->bd_data.bd_body_1part,
		    parts_sec(sec, "TEXT"));
}

/* A multipart body under prefix: boundaries, each part's MIME header and
   the part. */
static void
plan_body(struct plan *pl, struct mailimap_body *b, const char *prefix,
    int depth)
{
	struct mailimap_body_type_mpart	*mp = b->bd_data.bd_body_mpart;
	const char			*bound;
	clistiter			*it;
	char				*sec, *t;
	int				 i = 1;

	if (depth > PARTS_DEPTH || mp == NULL || mp->bd_ext_mpart == NULL ||
	    (bound = parts_param(mp->bd_ext_mpart->bd_parameter,
	    "boundary")) == NULL || strpbrk(bound, "\r\n") != NULL) {
		pl->bad = 1;
		return;
	}
	for (it = clist_begin(mp->bd_list); it != NULL && !pl->bad;
	    it = clist_next(it), i++) {
		xasprintf(&t, "%s--%s\r\n", i == 1 ? "" : "\r\n", bound);
		plan_add(pl, PIECE_TEXT, t);
		sec = parts_sec(prefix, "%d", i);
		plan_add(pl, PIECE_SECTION, parts_sec(sec, "MIME"));
		plan_part(pl, clist_content(it), sec, depth);
		free(sec);
	}
	xasprintf(&t, "\r\n--%s--\r\n", bound);
	plan_add(pl, PIECE_TEXT, t);
}

/* The IMAP spelling of a section libetpan parsed. */
static void
parts_sec_str(struct mailimap_section *sec, struct buf *b)
{
	struct mailimap_section_spec	*sp;
	struct mailimap_section_msgtext	*mt = NULL;
	clistiter			*it;

	if (sec == NULL || (sp = sec->sec_spec) == NULL)
		return;
	if (sp->sec_type == MAILIMAP_SECTION_SPEC_SECTION_MSGTEXT)
		mt = sp->sec_data.sec_msgtext;
	else {
		for (it = clist_begin(sp->sec_data.sec_part->sec_id);
		    it != NULL; it = clist_next(it)) {
			if (b->len > 0)
				buf_addc(b, '.');
			buf_addf(b, "%u", *(uint32_t *)clist_content(it));
		}
		if (sp->sec_text == NULL)
			return;
		if (sp->sec_text->sec_type == MAILIMAP_SECTION_TEXT_MIME) {
			buf_adds(b, ".MIME");
			return;
		}
		mt = sp->sec_text->sec_msgtext;
		buf_addc(b, '.');
	}
	if (mt != NULL && mt->sec_type == MAILIMAP_SECTION_MSGTEXT_HEADER)
		buf_adds(b, "HEADER");
	else if (mt != NULL && mt->sec_type == MAILIMAP_SECTION_MSGTEXT_TEXT)
		buf_adds(b, "TEXT");
}

/* UID FETCH uid (RFC822.SIZE BODYSTRUCTURE); *res to free. */
static int
parts_probe(struct backend *be, uint32_t uid, uint32_t *size,
    struct mailimap_body **body, clist **res, struct error *err)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_msg_att		*att;
	struct mailimap_msg_att_item	*item;
	clistiter			*it, *jt;
	int				 r;

	*size = 0;
	*body = NULL;
	*res = NULL;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_bodystructure());
	set = mailimap_set_new_single(uid);
	be->stats.fetch_commands++;
	r = mailimap_uid_fetch(be->s, set, ft, res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		*res = NULL;
		return (imap_session_error(be, r, "FETCH", err));
	}
	for (it = clist_begin(*res); it != NULL; it = clist_next(it)) {
		att = clist_content(it);
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_RFC822_SIZE)
				*size = item->att_data.att_static->att_data.
				    att_rfc822_size;
			else if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_BODYSTRUCTURE)
				*body = item->att_data.att_static->att_data.
				    att_bodystructure;
		}
	}
	return (0);
}

/* UID FETCH uid (BODY.PEEK[s]...) of the plan's sections; the pieces
   point into *res afterwards. */
static int
parts_fetch(struct backend *be, uint32_t uid, struct plan *pl, clist **res,
    struct error *err)
{
	struct mailimap_fetch_type		*ft;
	struct mailimap_section			*sec;
	struct mailimap_set			*set;
	struct mailimap_msg_att			*att;
	struct mailimap_msg_att_item		*item;
	struct mailimap_msg_att_body_section	*bs;
	struct buf				 name;
	clistiter				*it, *jt;
	size_t					 i;
	int					 r;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	for (i = 0; i < pl->n; i++) {
		if (pl->v[i].kind != PIECE_SECTION)
			continue;
		if ((sec = imap_section_new(pl->v[i].s)) == NULL) {
			mailimap_fetch_type_free(ft);
			return (error_set(err, ERR_PROTO, "%s: bad section %s",
			    be->name, pl->v[i].s));
		}
		mailimap_fetch_type_new_fetch_att_list_add(ft,
		    mailimap_fetch_att_new_body_peek_section(sec));
	}
	set = mailimap_set_new_single(uid);
	be->stats.fetch_commands++;
	r = mailimap_uid_fetch(be->s, set, ft, res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		*res = NULL;
		return (imap_session_error(be, r, "FETCH", err));
	}
	buf_init(&name);
	for (it = clist_begin(*res); it != NULL; it = clist_next(it)) {
		att = clist_content(it);
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    item->att_data.att_static->att_type !=
			    MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			bs = item->att_data.att_static->att_data.
			    att_body_section;
			buf_reset(&name);
			parts_sec_str(bs->sec_section, &name);
			for (i = 0; i < pl->n; i++) {
				if (pl->v[i].kind != PIECE_SECTION ||
				    strcmp(pl->v[i].s, buf_str(&name)) != 0)
					continue;
				pl->v[i].data = bs->sec_body_part != NULL ?
				    bs->sec_body_part : "";
				pl->v[i].len = bs->sec_body_part != NULL ?
				    bs->sec_length : 0;
			}
		}
	}
	buf_free(&name);
	for (i = 0; i < pl->n; i++) {
		if (pl->v[i].kind == PIECE_SECTION && pl->v[i].data == NULL)
			return (error_set(err, ERR_PROTO, "%s: the server "
			    "left out section %s", be->name, pl->v[i].s));
	}
	return (0);
}

/* Writes all of data to fd. */
static int
parts_write(int fd, const char *data, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		data += w;
		len -= (size_t)w;
	}
	return (0);
}

/* Writes text to path through path.tmp and a rename. */
static int
parts_write_file(const char *path, const char *text, size_t len,
    struct error *err)
{
	char	*tmp;
	int	 fd, rv = 0;

	xasprintf(&tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return (-1);
	}
	if (parts_write(fd, text, len) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rv = error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return (rv);
}

int
imap_fetch_partial(struct backend *be, const char *id, uint32_t uid,
    const char *file, volatile int *cancel, struct error *err)
{
	struct mailimap_body	*body;
	struct plan		 pl;
	struct buf		 msg, side;
	clist			*probe = NULL, *res = NULL;
	uint32_t		 size;
	char			*sidecar;
	size_t			 i;
	int			 rv = 1;

	if (parts_probe(be, uid, &size, &body, &probe, err) != 0)
		return (-1);
	memset(&pl, 0, sizeof pl);
	if (size <= IMAP_PARTIAL_MIN || body == NULL ||
	    body->bd_type != MAILIMAP_BODY_MPART)
		goto out;
	plan_add(&pl, PIECE_SECTION, xstrdup("HEADER"));
	plan_body(&pl, body, "", 0);
	if (pl.bad || pl.missing == 0)
		goto out;
	if (cancel != NULL && *cancel) {
		rv = error_set(err, ERR_CANCELLED, "%s: download cancelled",
		    be->name);
		goto out;
	}
	if (parts_fetch(be, uid, &pl, &res, err) != 0) {
		rv = -1;
		goto out;
	}
	buf_init(&msg);
	buf_init(&side);
	buf_addf(&side, "%s\naccount %s\nid %s\n", PARTS_MAGIC, be->name, id);
	for (i = 0; i < pl.n; i++) {
		switch (pl.v[i].kind) {
		case PIECE_TEXT:
			buf_adds(&msg, pl.v[i].s);
			break;
		case PIECE_SECTION:
			buf_add(&msg, pl.v[i].data, pl.v[i].len);
			break;
		case PIECE_MISSING:
			buf_addf(&side, "missing %u %s %u %zu\n",
			    pl.v[i].index, pl.v[i].s, pl.v[i].size, msg.len);
			break;
		}
	}
	buf_addf(&side, "size %zu\n", msg.len);
	xasprintf(&sidecar, "%s%s", file, BACKEND_PARTS_SUFFIX);
	/* The list first: a message file without it would look whole. */
	rv = 0;
	if (parts_write_file(sidecar, buf_str(&side), side.len, err) != 0 ||
	    parts_write_file(file, msg.data != NULL ? msg.data : "", msg.len,
	    err) != 0) {
		unlink(sidecar);
		rv = -1;
	} else
		log_debug("imap: %s: message %u: %d parts left on the server",
		    be->name, uid, pl.missing);
	free(sidecar);
	buf_free(&msg);
	buf_free(&side);
out:
	plan_free(&pl);
	if (probe != NULL)
		mailimap_fetch_list_free(probe);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	return (rv);
}

/* One line of FILE.parts. */
struct parts_missing {
	unsigned	 index;
	char		 section[64];
	unsigned long	 size;
	size_t		 offset;
};

/* Reads FILE.parts: the missing parts and the size it describes. Returns
   0, or -1 when there is none (the message is whole). */
static int
parts_read(const char *sidecar, struct parts_missing **out, size_t *n,
    size_t *size, char **head)
{
	struct parts_missing	 m;
	struct buf		 h;
	char			*line = NULL;
	size_t			 cap = 0;
	FILE			*f;

	*out = NULL;
	*n = 0;
	*size = (size_t)-1;
	if ((f = fopen(sidecar, "r")) == NULL)
		return (-1);
	buf_init(&h);
	while (getline(&line, &cap, f) > 0) {
		memset(&m, 0, sizeof m);
		if (sscanf(line, "missing %u %63s %lu %zu", &m.index,
		    m.section, &m.size, &m.offset) == 4) {
			*out = xreallocarray(*out, *n + 1, sizeof **out);
			(*out)[(*n)++] = m;
		} else if (sscanf(line, "size %zu", size) != 1)
			buf_adds(&h, line);	/* magic, account, id */
	}
	free(line);
	fclose(f);
	*head = buf_steal(&h);
	return (0);
}

/* Copies len bytes (all when -1) from in to out. */
static int
parts_copy(int in, int out, off_t len)
{
	char	b[65536];
	ssize_t	r;
	size_t	want;

	while (len != 0) {
		want = len < 0 || len > (off_t)sizeof b ? sizeof b :
		    (size_t)len;
		if ((r = read(in, b, want)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0)
			return (len < 0 ? 0 : -1);
		if (parts_write(out, b, (size_t)r) != 0)
			return (-1);
		if (len > 0)
			len -= r;
	}
	return (0);
}

/* Writes file.tmp = file[0, at) + part + file[at, end). */
static int
parts_splice(const char *file, size_t at, const char *part,
    struct error *err)
{
	char	*tmp;
	int	 in = -1, pin = -1, out = -1, rv = -1;

	xasprintf(&tmp, "%s.tmp", file);
	if ((in = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (pin = open(part, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		goto out;
	if (parts_copy(in, out, (off_t)at) != 0 ||
	    parts_copy(pin, out, -1) != 0 || parts_copy(in, out, -1) != 0)
		goto out;
	if (close(out) != 0) {
		out = -1;
		goto out;
	}
	out = -1;
	if (rename(tmp, file) != 0)
		goto out;
	rv = 0;
out:
	if (rv != 0) {
		error_set(err, ERR_IO, "%s: %s", file, strerror(errno));
		unlink(tmp);
	}
	if (in != -1)
		close(in);
	if (pin != -1)
		close(pin);
	if (out != -1)
		close(out);
	free(tmp);
	return (rv);
}

/* fetch_part with the session held. */
static int
parts_fetch_section(struct backend *be, const char *id, const char *section,
    char **path, volatile int *cancel, struct error *err)
{
	struct parts_missing	*miss = NULL;
	struct stat		 sb;
	struct buf		 side;
	uint32_t		 uv, uid;
	char			*folder = NULL, *file = NULL, *sidecar = NULL;
	char			*head = NULL, *part = NULL;
	size_t			 n = 0, size, len, i, k;
	int			 fd, rv = -1;

	*path = NULL;
	if (imap_id_parse(id, &uv, &uid, &folder) != 0)
		return (error_set(err, ERR_NOTFOUND, "bad message id %s",
		    id));
	if (imap_fetch_body_cancel(be, id, &file, cancel, err) != 0)
		goto out;
	xasprintf(&sidecar, "%s%s", file, BACKEND_PARTS_SUFFIX);
	if (parts_read(sidecar, &miss, &n, &size, &head) != 0) {
		*path = file;		/* whole already */
		file = NULL;
		rv = 0;
		goto out;
	}
	if (stat(file, &sb) != 0 || (size_t)sb.st_size != size) {
		unlink(file);
		unlink(sidecar);
		error_set(err, ERR_IO, "%s: the cached copy of message %u was "
		    "stale and is dropped; open it again", be->name, uid);
		goto out;
	}
	for (k = 0; k < n && strcmp(miss[k].section, section) != 0; k++)
		;
	if (k == n) {
		*path = file;		/* that part is there */
		file = NULL;
		rv = 0;
		goto out;
	}
	if (imap_select_msg(be, folder, uv, err) != 0)
		goto out;
	xasprintf(&part, "%s.part.tmp", file);
	if ((fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		error_set(err, ERR_IO, "%s: %s", part, strerror(errno));
		goto out;
	}
	rv = imap_stream_section(be, uid, section, fd, cancel, &len, err);
	if (close(fd) != 0 && rv == 0)
		rv = error_set(err, ERR_IO, "%s: %s", part, strerror(errno));
	if (rv == 0)
		rv = parts_splice(file, miss[k].offset, part, err);
	unlink(part);
	if (rv != 0)
		goto out;
	/* The list without that part; what follows it moved by len. */
	buf_init(&side);
	buf_adds(&side, head);
	for (i = 0; i < n; i++) {
		if (i == k)
			continue;
		buf_addf(&side, "missing %u %s %lu %zu\n", miss[i].index,
		    miss[i].section, miss[i].size, miss[i].offset +
		    (miss[i].offset >= miss[k].offset ? len : 0));
	}
	buf_addf(&side, "size %zu\n", size + len);
	if (n == 1) {
		if (unlink(sidecar) != 0)
			rv = error_set(err, ERR_IO, "%s: %s", sidecar,
			    strerror(errno));
	} else
		rv = parts_write_file(sidecar, buf_str(&side), side.len, err);
	buf_free(&side);
	if (rv == 0) {
		*path = file;
		file = NULL;
	}
out:
	free(miss);
	free(head);
	free(part);
	free(sidecar);
	free(file);
	free(folder);
	return (rv);
}

int
imap_op_fetch_part(struct backend *be, const char *id, const char *section,
    char **path, volatile int *cancel, struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0) {
		imap_conn_release(be);
		return (-1);
	}
	rv = parts_fetch_section(be, id, section, path, cancel, err);
	imap_conn_release(be);
	return (rv);
}

int
imap_op_fetch_message_cancel(struct backend *be, const char *id,
    char **path, volatile int *cancel, struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0) {
		imap_conn_release(be);
		return (-1);
	}
	rv = imap_fetch_body_cancel(be, id, path, cancel, err);
	imap_conn_release(be);
	return (rv);
}
