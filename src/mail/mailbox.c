/*
 * A mailbox pulls rows from a backend view lazily and keeps them in
 * display order. Thread children are spliced in after their thread row
 * when it is expanded and removed when it is collapsed.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"

/* Rows pulled at least per trip to the backend once the first screen
   is there (the first screen pulls exactly what it shows). */
#define MAILBOX_CHUNK	16

static void
mailbox_summary_clear(struct summary *s)
{
	free(s->id);
	free(s->thread);
	free(s->from);
	free(s->subject);
	free(s->tags);
	free(s->path);
	memset(s, 0, sizeof *s);
}

static void
mailbox_clear_rows(struct mailbox *mb)
{
	size_t	i;

	for (i = 0; i < mb->nrows; i++)
		mailbox_summary_clear(&mb->rows[i].s);
	mb->nrows = 0;
}

static char *
mailbox_query(const char *base, const char *limit)
{
	char	*q;

	if (limit == NULL || *limit == '\0')
		return (xstrdup(base != NULL && *base != '\0' ? base : "*"));
	if (base == NULL || *base == '\0' || strcmp(base, "*") == 0)
		return (xstrdup(limit));
	xasprintf(&q, "(%s) and (%s)", base, limit);
	return (q);
}

/* Counts the unread messages of the view (a count, no rows read). */
static size_t
mailbox_count_unread(struct mailbox *mb)
{
	struct account	*a = mb->account;
	struct view	*v = NULL;
	struct error	 err;
	char		*q, *uq;
	size_t		 n = 0;

	/*
	 * "(BASE) and (LIMIT and tag:unread)": the shape mailbox_query gives
	 * every backend, whose IMAP one splits it at ") and (" to find the
	 * limit ("(BASE) and tag:unread" was the whole folder to it).
	 */
	if (mb->limit != NULL && *mb->limit != '\0')
		xasprintf(&q, "(%s) and tag:unread", mb->limit);
	else
		q = xstrdup("tag:unread");
	uq = mailbox_query(mb->base_query, q);
	if (a->ops->open_view(a->backend, uq, mb->order, 0, &v, &err) == 0) {
		n = a->ops->view_count(v);
		a->ops->close_view(&v);
	}
	free(uq);
	free(q);
	return (n);
}

static int
mailbox_open_view(struct mailbox *mb, struct error *err)
{
	struct account	*a = mb->account;
	char		*q;
	int		 r;

	q = mailbox_query(mb->base_query, mb->limit);
	r = a->ops->open_view(a->backend, q, mb->order, mb->view_flags,
	    &mb->view, err);
	free(q);
	if (r != 0)
		return (-1);
	mb->count = a->ops->view_count(mb->view);
	mb->count_known = mb->count != VIEW_COUNT_UNKNOWN;
	if (!mb->count_known)
		mb->count = 0;
	mb->fetched = 0;
	mb->at_end = mb->count_known && mb->count == 0;
	mb->unread = mailbox_count_unread(mb);
	return (0);
}

struct mailbox *
mailbox_open(struct account *a, const char *name, const char *query,
    const char *limit, enum view_order order, unsigned flags,
    struct error *err)
{
	struct mailbox	*mb;

	mb = xcalloc(1, sizeof *mb);
	mb->account = a;
	mb->name = xstrdup(name);
	mb->base_query = xstrdup(query);
	mb->limit = limit != NULL && *limit != '\0' ? xstrdup(limit) : NULL;
	mb->order = order;
	mb->view_flags = flags;
	if (mailbox_open_view(mb, err) != 0) {
		mailbox_free(&mb);
		return (NULL);
	}
	return (mb);
}

void
mailbox_free(struct mailbox **mbp)
{
	struct mailbox	*mb = *mbp;

	if (mb == NULL)
		return;
	if (mb->view != NULL)
		mb->account->ops->close_view(&mb->view);
	mailbox_clear_rows(mb);
	free(mb->rows);
	free(mb->name);
	free(mb->base_query);
	free(mb->limit);
	free(mb);
	*mbp = NULL;
}

char *
mailbox_full_query(const struct mailbox *mb)
{
	return (mailbox_query(mb->base_query, mb->limit));
}

void
mailbox_set_count(struct mailbox *mb, size_t n)
{
	if (mb->count_known)
		return;
	mb->count = n > mb->fetched ? n : mb->fetched;
	mb->count_known = 1;
	if (mb->fetched >= mb->count)
		mb->at_end = 1;
}

size_t
mailbox_total(const struct mailbox *mb)
{
	size_t	children = 0, i;

	for (i = 0; i < mb->nrows; i++)
		children += mb->rows[i].child;
	return (mb->count + children);
}

static void
mailbox_reserve(struct mailbox *mb, size_t more)
{
	if (mb->nrows + more <= mb->cap)
		return;
	while (mb->cap < mb->nrows + more)
		mb->cap = mb->cap == 0 ? 256 : mb->cap * 2;
	mb->rows = xreallocarray(mb->rows, mb->cap, sizeof *mb->rows);
}

/* Moves the batch's rows (and their strings) to the end of rows. */
static void
mailbox_take(struct mailbox *mb, size_t at, struct summary_batch *b,
    unsigned child)
{
	size_t	i;

	mailbox_reserve(mb, b->n);
	if (at < mb->nrows)
		memmove(&mb->rows[at + b->n], &mb->rows[at],
		    (mb->nrows - at) * sizeof *mb->rows);
	for (i = 0; i < b->n; i++) {
		memset(&mb->rows[at + i], 0, sizeof mb->rows[at + i]);
		mb->rows[at + i].s = b->v[i];
		mb->rows[at + i].child = child;
	}
	mb->nrows += b->n;
	b->n = 0;	/* the strings moved: free only the array */
}

static int
mailbox_pull(struct mailbox *mb, size_t n, struct error *err)
{
	struct summary_batch	 b;
	long			 got;

	if (mb->at_end)
		return (0);
	summary_batch_init(&b);
	got = mb->account->ops->view_next(mb->view, n, &b, err);
	if (got < 0) {
		summary_batch_free(&b);
		mb->at_end = 1;
		return (-1);
	}
	if (got == 0 || b.n == 0)
		mb->at_end = 1;
	mb->fetched += b.n;
	mailbox_take(mb, mb->nrows, &b, 0);
	summary_batch_free(&b);
	if (mb->count_known && mb->fetched >= mb->count)
		mb->at_end = 1;
	if (!mb->count_known && mb->fetched > mb->count)
		mb->count = mb->fetched;
	if (mb->at_end && !mb->count_known) {
		mb->count = mb->fetched;
		mb->count_known = 1;
	}
	return (0);
}

struct mailbox_row *
mailbox_row(struct mailbox *mb, size_t i, struct error *err)
{
	size_t	want;

	while (i >= mb->nrows && !mb->at_end) {
		want = i + 1 - mb->nrows;
		if (want < MAILBOX_CHUNK && mb->nrows > 0)
			want = MAILBOX_CHUNK;
		if (mailbox_pull(mb, want, err) != 0)
			return (NULL);
	}
	if (i >= mb->nrows)
		return (NULL);
	return (&mb->rows[i]);
}

int
mailbox_prefetch(struct mailbox *mb, size_t upto, struct error *err)
{
	if (mb->at_end || upto <= mb->nrows)
		return (0);
	return (mailbox_row(mb, upto - 1, err) == NULL && !mb->at_end ?
	    -1 : 0);
}

int
mailbox_load_all(struct mailbox *mb, struct error *err)
{
	while (!mb->at_end) {
		if (mailbox_pull(mb, 4096, err) != 0)
			return (-1);
	}
	return (0);
}

long
mailbox_find(const struct mailbox *mb, const char *id)
{
	size_t	i;

	for (i = 0; i < mb->nrows; i++) {
		if (mb->rows[i].s.id != NULL && strcmp(mb->rows[i].s.id, id) == 0)
			return ((long)i);
	}
	return (-1);
}

int
mailbox_toggle_thread(struct mailbox *mb, size_t i, struct error *err)
{
	struct mailbox_row	*r;
	struct summary_batch	 b;
	struct account		*a = mb->account;
	size_t			 j, n;
	char			*q;

	if (!(mb->view_flags & VIEW_THREADS) || i >= mb->nrows)
		return (0);
	while (i > 0 && mb->rows[i].child)
		i--;
	r = &mb->rows[i];
	if (r->expanded) {
		for (n = 0; i + 1 + n < mb->nrows && mb->rows[i + 1 + n].child;
		    n++)
			mailbox_summary_clear(&mb->rows[i + 1 + n].s);
		memmove(&mb->rows[i + 1], &mb->rows[i + 1 + n],
		    (mb->nrows - i - 1 - n) * sizeof *mb->rows);
		mb->nrows -= n;
		mb->rows[i].expanded = 0;
		return (0);
	}
	summary_batch_init(&b);
	q = mailbox_query(mb->base_query, mb->limit);
	if (a->ops->thread_messages(a->backend, r->s.thread, q, &b,
	    err) != 0) {
		free(q);
		summary_batch_free(&b);
		return (-1);
	}
	free(q);
	/* A thread of one message needs no expansion. */
	if (b.n > 1) {
		for (j = 0; j < b.n; j++)
			b.v[j].thread_total = 0;
		mailbox_take(mb, i + 1, &b, 1);
		mb->rows[i].expanded = 1;
	}
	summary_batch_free(&b);
	return (0);
}

int
mailbox_reload(struct mailbox *mb, struct error *err)
{
	size_t	had = mb->fetched;

	if (mb->view != NULL)
		mb->account->ops->close_view(&mb->view);
	mailbox_clear_rows(mb);
	if (mailbox_open_view(mb, err) != 0)
		return (-1);
	if (had > 0 && mailbox_row(mb, had - 1, err) == NULL && !mb->at_end)
		return (-1);
	return (0);
}

void
mailbox_count_flags(struct mailbox *mb, unsigned before, unsigned after)
{
	if ((before & MSG_UNREAD) && !(after & MSG_UNREAD) && mb->unread > 0)
		mb->unread--;
	else if (!(before & MSG_UNREAD) && (after & MSG_UNREAD))
		mb->unread++;
}

void
mailbox_row_set_flags(struct mailbox_row *r, unsigned add, unsigned remove)
{
	struct buf	changes;
	size_t		i;

	/* The tags follow, so the row says the same thing both ways. */
	buf_init(&changes);
	for (i = 0; msg_tag_flags[i].tag != NULL; i++) {
		if (add & msg_tag_flags[i].flag)
			buf_addf(&changes, " +%s", msg_tag_flags[i].tag);
		if (remove & msg_tag_flags[i].flag)
			buf_addf(&changes, " -%s", msg_tag_flags[i].tag);
	}
	if (changes.len > 0 && r->s.tags != NULL)
		mailbox_row_apply_tags(r, buf_str(&changes));
	buf_free(&changes);
	r->s.flags = (r->s.flags | add) & ~remove;
	if (r->s.thread_total > 0) {
		if (remove & MSG_UNREAD)
			r->s.thread_unread = 0;
		if (add & MSG_UNREAD && r->s.thread_unread == 0)
			r->s.thread_unread = 1;
	}
}

/* The flags that notmuch tags stand for follow the tag string. */
static void
mailbox_flags_from_tags(struct mailbox_row *r)
{
	size_t		 i, len;
	const char	*t, *p;
	unsigned	 on;

	for (i = 0; msg_tag_flags[i].tag != NULL; i++) {
		on = 0;
		len = strlen(msg_tag_flags[i].tag);
		for (t = r->s.tags; t != NULL && *t != '\0'; t = p) {
			p = strchr(t, ' ');
			if (p == NULL)
				p = t + strlen(t);
			if ((size_t)(p - t) == len &&
			    strncmp(t, msg_tag_flags[i].tag, len) == 0)
				on = 1;
			while (*p == ' ')
				p++;
		}
		if (on)
			r->s.flags |= msg_tag_flags[i].flag;
		else
			r->s.flags &= ~msg_tag_flags[i].flag;
	}
}

void
mailbox_row_apply_tags(struct mailbox_row *r, const char *changes)
{
	struct buf	 out;
	char		*copy, *word, *save, *tags, *t, *tsave;
	int		 keep;

	copy = xstrdup(changes);
	tags = xstrdup(r->s.tags != NULL ? r->s.tags : "");
	for (word = strtok_r(copy, " \t", &save); word != NULL;
	    word = strtok_r(NULL, " \t", &save)) {
		if (word[0] != '+' && word[0] != '-')
			continue;
		buf_init(&out);
		keep = 0;
		for (t = strtok_r(tags, " ", &tsave); t != NULL;
		    t = strtok_r(NULL, " ", &tsave)) {
			if (strcmp(t, word + 1) == 0) {
				if (word[0] == '-')
					continue;
				keep = 1;
			}
			if (out.len > 0)
				buf_addc(&out, ' ');
			buf_adds(&out, t);
		}
		if (word[0] == '+' && !keep && word[1] != '\0') {
			if (out.len > 0)
				buf_addc(&out, ' ');
			buf_adds(&out, word + 1);
		}
		free(tags);
		tags = buf_steal(&out);
	}
	free(copy);
	free(r->s.tags);
	r->s.tags = tags;
	mailbox_flags_from_tags(r);
}
