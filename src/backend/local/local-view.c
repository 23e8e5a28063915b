/*
 * Reading the local index on the main thread: views (one row per message
 * or per thread, pulled lazily from notmuch's iterators), the messages of
 * one thread in reply order, and the file of a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/local/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Creates a query on the reader with the excluded tags applied and, if
   count is not NULL, counts its messages (or threads). */
notmuch_query_t *
local_query_new(struct backend *be, const char *qs, int threads,
    unsigned *count, struct error *err)
{
	return (local_query_new_on(be, be->ro, qs, threads, count, err));
}

/* The same, on any handle (the worker counts on its own). */
notmuch_query_t *
local_query_new_on(struct backend *be, notmuch_database_t *db,
    const char *qs, int threads, unsigned *count, struct error *err)
{
	notmuch_query_t		*q;
	notmuch_status_t	 st = NOTMUCH_STATUS_SUCCESS;
	char			*mark;
	size_t			 i;

	if (qs == NULL || *qs == '\0')
		qs = "*";
	if ((q = notmuch_query_create(db, qs)) == NULL) {
		error_set(err, ERR_IO, "query %s: out of memory", qs);
		return (NULL);
	}
	mark = local_status_mark(db);
	notmuch_query_set_omit_excluded(q, NOTMUCH_EXCLUDE_TRUE);
	for (i = 0; be->exclude[i] != NULL; i++) {
		/* IGNORED: the query names the tag itself, so it shows. */
		st = notmuch_query_add_tag_exclude(q, be->exclude[i]);
		if (st == NOTMUCH_STATUS_IGNORED)
			st = NOTMUCH_STATUS_SUCCESS;
		if (st != NOTMUCH_STATUS_SUCCESS)
			break;
	}
	if (st == NOTMUCH_STATUS_SUCCESS && count != NULL && threads)
		st = notmuch_query_count_threads(q, count);
	else if (st == NOTMUCH_STATUS_SUCCESS && count != NULL)
		st = notmuch_query_count_messages(q, count);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		local_query_error(err, db, &mark, st, qs);
		notmuch_query_destroy(q);
		return (NULL);
	}
	free(mark);
	return (q);
}

/* Takes the display name of a From header, or its address. */
static char *
local_from_name(const char *from)
{
	const char	*lt, *gt, *s, *e;
	struct buf	 b;

	if (from == NULL)
		return (xstrdup(""));
	if ((lt = strchr(from, '<')) == NULL) {
		s = from + strspn(from, " \t");
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		return (xstrndup(s, e - s));
	}

	buf_init(&b);
	for (s = from; s < lt; s++) {
		if (*s == '"')
			continue;
		if (*s == '\\' && s + 1 < lt)
			s++;
		if ((*s == ' ' || *s == '\t') && (b.len == 0 ||
		    b.data[b.len - 1] == ' '))
			continue;
		buf_addc(&b, *s == '\t' ? ' ' : *s);
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	if (b.len > 0)
		return (buf_steal(&b));
	buf_free(&b);
	if ((gt = strchr(lt, '>')) == NULL)
		gt = lt + strlen(lt);
	return (xstrndup(lt + 1, gt - lt - 1));
}

/* Joins tags with spaces and maps the known ones to MSG_* flags. */
static char *
local_tags_string(notmuch_tags_t *tags, unsigned *flags)
{
	struct buf	 b;
	const char	*t;
	size_t		 i;

	buf_init(&b);
	*flags = 0;
	for (; notmuch_tags_valid(tags); notmuch_tags_move_to_next(tags)) {
		t = notmuch_tags_get(tags);
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, t);
		for (i = 0; msg_tag_flags[i].tag != NULL; i++) {
			if (strcmp(t, msg_tag_flags[i].tag) == 0)
				*flags |= msg_tag_flags[i].flag;
		}
		/* notmuch's own tag, not one the user sets. */
		if (strcmp(t, "attachment") == 0)
			*flags |= MSG_ATTACHMENT;
	}
	notmuch_tags_destroy(tags);
	return (buf_steal(&b));
}

/* Appends one message as a row at depth. */
static void
local_add_message(struct summary_batch *out, notmuch_message_t *m,
    unsigned depth)
{
	struct summary	 s;
	char		*from, *tags;
	const char	*subject;

	memset(&s, 0, sizeof s);
	from = local_from_name(notmuch_message_get_header(m, "from"));
	tags = local_tags_string(notmuch_message_get_tags(m), &s.flags);
	subject = notmuch_message_get_header(m, "subject");
	s.id = (char *)notmuch_message_get_message_id(m);
	s.thread = (char *)notmuch_message_get_thread_id(m);
	s.from = from;
	s.subject = (char *)(subject != NULL ? subject : "");
	s.tags = tags;
	s.path = (char *)notmuch_message_get_filename(m);
	s.date = notmuch_message_get_date(m);
	s.depth = depth;
	s.thread_total = 1;
	s.thread_unread = (s.flags & MSG_UNREAD) ? 1 : 0;
	summary_batch_add(out, &s);
	free(tags);
	free(from);
}

/* Tells whether a message carries tag. */
static int
local_has_tag(notmuch_message_t *m, const char *tag)
{
	notmuch_tags_t	*tags;
	int		 found = 0;

	tags = notmuch_message_get_tags(m);
	for (; !found && notmuch_tags_valid(tags);
	    notmuch_tags_move_to_next(tags))
		found = strcmp(notmuch_tags_get(tags), tag) == 0;
	notmuch_tags_destroy(tags);
	return (found);
}

/* Appends one thread as a row: its newest (or, oldest first, its first)
   matched message, with the thread's subject, authors, tags and counts. */
static void
local_add_thread(struct summary_batch *out, notmuch_thread_t *t,
    enum view_order order)
{
	notmuch_messages_t	*ms;
	notmuch_message_t	*m, *pick = NULL;
	notmuch_bool_t		 match;
	struct summary		 s;
	const char		*subject;
	char			*tags, *authors, *p;
	unsigned		 unread = 0;

	memset(&s, 0, sizeof s);
	ms = notmuch_thread_get_messages(t);
	for (; notmuch_messages_valid(ms); notmuch_messages_move_to_next(ms)) {
		m = notmuch_messages_get(ms);
		if (local_has_tag(m, "unread"))
			unread++;
		if (notmuch_message_get_flag_st(m, NOTMUCH_MESSAGE_FLAG_MATCH,
		    &match) != NOTMUCH_STATUS_SUCCESS || !match)
			continue;
		if (pick == NULL || order == VIEW_NEWEST_FIRST)
			pick = m;
	}

	tags = local_tags_string(notmuch_thread_get_tags(t), &s.flags);
	/* notmuch puts a '|' between matched and other authors. */
	authors = xstrdup(notmuch_thread_get_authors(t) != NULL ?
	    notmuch_thread_get_authors(t) : "");
	for (p = authors; (p = strchr(p, '|')) != NULL; p++)
		*p = ',';
	subject = notmuch_thread_get_subject(t);
	s.thread = (char *)notmuch_thread_get_thread_id(t);
	s.from = authors;
	s.subject = (char *)(subject != NULL ? subject : "");
	s.tags = tags;
	if (pick != NULL) {
		s.id = (char *)notmuch_message_get_message_id(pick);
		s.path = (char *)notmuch_message_get_filename(pick);
	} else
		s.id = (char *)"";
	s.date = notmuch_thread_get_newest_date(t);
	s.thread_total = notmuch_thread_get_total_messages(t);
	s.thread_unread = unread;
	summary_batch_add(out, &s);
	free(authors);
	free(tags);
}

/* Opens a view on qs: counts now, rows later through view_next. */
int
local_open_view(struct backend *be, const char *qs, enum view_order order,
    unsigned flags, struct view **vp, struct error *err)
{
	struct view		*v;
	unsigned		 count;

	*vp = NULL;
	v = xcalloc(1, sizeof *v);
	v->be = be;
	v->order = order;
	v->flags = flags;
	/*
	 * Counting threads reads every matching message (a second on a big
	 * folder): only messages are counted here, which also checks the
	 * query; the threads are counted on the worker (local_count_view).
	 */
	v->query = local_query_new(be, qs, 0, &count, err);
	if (v->query == NULL) {
		free(v);
		return (-1);
	}
	notmuch_query_set_sort(v->query, order == VIEW_OLDEST_FIRST ?
	    NOTMUCH_SORT_OLDEST_FIRST : NOTMUCH_SORT_NEWEST_FIRST);
	v->count = count;
	if ((flags & VIEW_THREADS) && count > 1)
		v->count = VIEW_COUNT_UNKNOWN;
	*vp = v;
	return (0);
}

/* [worker] Counts the rows of a view of qs on a handle of its own. */
int
local_count_view(struct backend *be, const char *qs, unsigned flags, size_t *n,
    struct error *err)
{
	notmuch_database_t	*db = NULL;
	notmuch_query_t		*q;
	notmuch_status_t	 st;
	unsigned		 count = 0;
	char			*msg = NULL;

	st = local_db_open(be, NOTMUCH_DATABASE_MODE_READ_ONLY, &db, &msg);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		error_set(err, ERR_IO, "%s: cannot open the index: %s",
		    be->root, msg != NULL ? msg : notmuch_status_to_string(st));
		free(msg);
		return (-1);
	}
	free(msg);
	q = local_query_new_on(be, db, qs, flags & VIEW_THREADS, &count, err);
	if (q != NULL)
		notmuch_query_destroy(q);
	notmuch_database_destroy(db);
	*n = count;
	return (q != NULL ? 0 : -1);
}

/* Number of rows of the view, as counted when it was opened. */
size_t
local_view_count(struct view *v)
{
	return (v->count);
}

/* Starts the iterator on the first call. */
static int
local_view_start(struct view *v, struct error *err)
{
	notmuch_status_t	st;

	if (v->messages != NULL || v->threads != NULL)
		return (0);
	if (v->flags & VIEW_THREADS)
		st = notmuch_query_search_threads(v->query, &v->threads);
	else
		st = notmuch_query_search_messages(v->query, &v->messages);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, v->be->ro, st, "query %s",
		    notmuch_query_get_query_string(v->query)));
	return (0);
}

/* Appends up to n more rows; each notmuch object is freed once used so
   that memory stays bounded however far the view is read. */
long
local_view_next(struct view *v, size_t n, struct summary_batch *out,
    struct error *err)
{
	notmuch_message_t	*m;
	notmuch_thread_t	*t;
	size_t			 added = 0;

	if (local_view_start(v, err) != 0)
		return (-1);
	while (added < n) {
		if (v->threads != NULL) {
			if (!notmuch_threads_valid(v->threads))
				break;
			if ((t = notmuch_threads_get(v->threads)) == NULL)
				goto fail;
			local_add_thread(out, t, v->order);
			notmuch_thread_destroy(t);
			notmuch_threads_move_to_next(v->threads);
		} else {
			if (!notmuch_messages_valid(v->messages))
				break;
			if ((m = notmuch_messages_get(v->messages)) == NULL)
				goto fail;
			local_add_message(out, m, 0);
			notmuch_message_destroy(m);
			notmuch_messages_move_to_next(v->messages);
		}
		added++;
	}
	return ((long)added);

fail:
	local_nm_error(err, v->be->ro, NOTMUCH_STATUS_XAPIAN_EXCEPTION,
	    "reading %s", notmuch_query_get_query_string(v->query));
	return (-1);
}

/* Closes a view and clears the pointer. */
void
local_close_view(struct view **vp)
{
	if (*vp == NULL)
		return;
	if ((*vp)->query != NULL)
		notmuch_query_destroy((*vp)->query);
	free(*vp);
	*vp = NULL;
}

/* Appends m and, depth first, its replies. */
static void
local_add_subtree(struct summary_batch *out, notmuch_messages_t *ms,
    unsigned depth)
{
	notmuch_message_t	*m;

	for (; notmuch_messages_valid(ms); notmuch_messages_move_to_next(ms)) {
		m = notmuch_messages_get(ms);
		local_add_message(out, m, depth);
		local_add_subtree(out, notmuch_message_get_replies(m),
		    depth + 1);
	}
}

/* Appends the messages of a thread in reply order with their depths. */
int
local_thread_messages(struct backend *be, const char *thread,
    const char *qs, struct summary_batch *out, struct error *err)
{
	notmuch_query_t		*q;
	notmuch_threads_t	*ts;
	notmuch_thread_t	*t;
	notmuch_status_t	 st;
	char			*full;
	int			 rv = 0;

	if (thread == NULL || *thread == '\0' ||
	    strspn(thread, "0123456789abcdefABCDEF") != strlen(thread))
		return (error_set(err, ERR_NOTFOUND, "bad thread id"));
	if (qs == NULL || *qs == '\0')
		xasprintf(&full, "thread:%s", thread);
	else
		xasprintf(&full, "thread:%s and (%s)", thread, qs);
	q = local_query_new(be, full, 0, NULL, err);
	free(full);
	if (q == NULL)
		return (-1);
	notmuch_query_set_sort(q, NOTMUCH_SORT_OLDEST_FIRST);
	st = notmuch_query_search_threads(q, &ts);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		rv = local_nm_error(err, be->ro, st, "thread %s", thread);
		goto out;
	}
	if (!notmuch_threads_valid(ts) ||
	    (t = notmuch_threads_get(ts)) == NULL) {
		rv = error_set(err, ERR_NOTFOUND, "thread %s not found",
		    thread);
		goto out;
	}
	local_add_subtree(out, notmuch_thread_get_toplevel_messages(t), 0);
out:
	notmuch_query_destroy(q);
	return (rv);
}

/* Looks a message up by id and returns its first file. */
int
local_message_path(struct backend *be, const char *id, char **path,
    struct error *err)
{
	notmuch_message_t	*m;
	notmuch_status_t	 st;
	const char		*f;

	*path = NULL;
	st = notmuch_database_find_message(be->ro, id, &m);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, be->ro, st, "message %s", id));
	if (m == NULL)
		return (error_set(err, ERR_NOTFOUND, "message %s not found",
		    id));
	if ((f = notmuch_message_get_filename(m)) == NULL) {
		notmuch_message_destroy(m);
		return (error_set(err, ERR_NOTFOUND, "message %s has no file",
		    id));
	}
	*path = xstrdup(f);
	notmuch_message_destroy(m);
	return (0);
}
