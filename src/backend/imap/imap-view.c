/*
 * The IMAP backend's [reader] operations, on the main thread: they read
 * the folders and summaries in memory (or the header cache on disk) and
 * never the network. A folder not loaded yet is asked of the background
 * thread, which calls notify when its rows arrive. Threads are computed
 * here from Message-ID, References and In-Reply-To.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define IMAP_THREAD_DEPTH_MAX	256
#define IMAP_CACHE_HEAD_ROWS	(2 * IMAP_SCREEN_ROWS) /* read at once */

struct view {
	struct backend	*be;
	char		*folder;
	uint32_t	 uv;
	uint32_t	*uids;		/* one per row (thread roots) */
	unsigned	*total;		/* threads: messages per row */
	unsigned	*unread;
	size_t		 n;
	size_t		 pos;
	int		 threads;
};

/* A message-id to message index table, open addressing. */
struct imap_idmap {
	const char	**keys;
	size_t		 *vals;
	size_t		  size;		/* a power of two */
};

/* FNV-1a. */
static size_t
imap_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/* Indexes the folder's messages by Message-ID. */
static void
imap_idmap_build(struct imap_idmap *map, struct imap_folder *f)
{
	size_t	i, h;

	for (map->size = 16; map->size < f->nmsgs * 2; map->size *= 2)
		;
	map->keys = xcalloc(map->size, sizeof *map->keys);
	map->vals = xcalloc(map->size, sizeof *map->vals);
	for (i = 0; i < f->nmsgs; i++) {
		if (f->msgs[i].msgid == NULL || *f->msgs[i].msgid == '\0')
			continue;
		h = imap_hash(f->msgs[i].msgid) & (map->size - 1);
		while (map->keys[h] != NULL &&
		    strcmp(map->keys[h], f->msgs[i].msgid) != 0)
			h = (h + 1) & (map->size - 1);
		if (map->keys[h] == NULL) {
			map->keys[h] = f->msgs[i].msgid;
			map->vals[h] = i;
		}
	}
}

/* The index of the message with this id, or -1. */
static long
imap_idmap_get(struct imap_idmap *map, const char *id, size_t len)
{
	size_t	h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	h &= map->size - 1;
	while (map->keys[h] != NULL) {
		if (strlen(map->keys[h]) == len &&
		    memcmp(map->keys[h], id, len) == 0)
			return ((long)map->vals[h]);
		h = (h + 1) & (map->size - 1);
	}
	return (-1);
}

static void
imap_idmap_free(struct imap_idmap *map)
{
	free(map->keys);
	free(map->vals);
}

/* The parent of message i: the last of its References (then
   In-Reply-To) that is in the folder, or -1. */
static long
imap_parent(struct imap_folder *f, struct imap_idmap *map, size_t i)
{
	const char	*refs = f->msgs[i].refs, *s, *e;
	long		 p, best = -1;

	if (refs == NULL)
		return (-1);
	for (s = refs; *s != '\0'; s = e) {
		s += strspn(s, " ");
		e = s + strcspn(s, " ");
		if (e == s)
			break;
		p = imap_idmap_get(map, s, e - s);
		if (p >= 0 && (size_t)p != i)
			best = p;
	}
	return (best);
}

/* Every message's parent index (-1 for none) with loops broken. */
static long *
imap_parents(struct imap_folder *f)
{
	struct imap_idmap	 map;
	long			*parent, p;
	size_t			 i, steps;

	parent = xreallocarray(NULL, f->nmsgs + 1, sizeof *parent);
	imap_idmap_build(&map, f);
	for (i = 0; i < f->nmsgs; i++)
		parent[i] = f->msgs[i].have ? imap_parent(f, &map, i) : -1;
	imap_idmap_free(&map);
	for (i = 0; i < f->nmsgs; i++) {
		/* A chain that comes back to i is a loop: cut it at i. */
		for (p = parent[i], steps = 0; p >= 0 &&
		    steps < IMAP_THREAD_DEPTH_MAX; p = parent[p], steps++) {
			if ((size_t)p == i) {
				parent[i] = -1;
				break;
			}
		}
		if (steps == IMAP_THREAD_DEPTH_MAX)
			parent[i] = -1;
	}
	return (parent);
}

/* The root index of message i. */
static size_t
imap_root(const long *parent, size_t i)
{
	while (parent[i] >= 0)
		i = (size_t)parent[i];
	return (i);
}

/* The limit part of "(folder:"X") and (LIMIT)", owned, or NULL. */
static char *
imap_query_limit(const char *q)
{
	const char	*s;
	size_t		 len;

	if ((s = strstr(q, ") and (")) == NULL)
		return (NULL);
	s += 7;
	len = strlen(s);
	if (len > 0 && s[len - 1] == ')')
		len--;
	return (xstrndup(s, len));
}

int
imap_refresh(struct backend *be, struct error *err)
{
	return (0);
}

int
imap_list_folders(struct backend *be, struct folder_list *fl,
    struct error *err)
{
	struct imap_folder	*f;
	size_t			 i;

	pthread_mutex_lock(&be->data_lock);
	fl->v = xcalloc(be->nfolders + 1, sizeof *fl->v);
	fl->n = 0;
	for (i = 0; i < be->nfolders; i++) {
		f = be->folders[i];
		if (f->noselect || !imap_folder_shown(be, f))
			continue;
		fl->v[fl->n].name = xstrdup(f->name);
		fl->v[fl->n].query = imap_folder_query(f->name);
		fl->v[fl->n].total = f->total;
		fl->v[fl->n].unread = f->unread;
		if (f->subscribed)
			fl->v[fl->n].flags |= FOLDER_SUBSCRIBED;
		fl->n++;
	}
	pthread_mutex_unlock(&be->data_lock);
	return (0);
}

/* Asks the background thread for a folder (data_lock held). */
static void
imap_want(struct backend *be, const char *folder)
{
	uint64_t	one = 1;

	if (be->want != NULL && strcmp(be->want, folder) == 0)
		return;
	free(be->want);
	be->want = xstrdup(folder);
	if (write(be->wake_fd, &one, sizeof one) == -1)
		log_warn("imap wake");
}

int
imap_open_view(struct backend *be, const char *query, enum view_order order,
    unsigned flags, struct view **vp, struct error *err)
{
	struct imap_folder	*f;
	struct imap_msg		*m;
	struct imap_query	*q = NULL;
	struct view		*v;
	const uint32_t		*found = NULL;
	size_t			 nfound = 0;
	char			*folder, *limit;
	long			*parent = NULL;
	size_t			 i, j, r, *rowof = NULL;

	if ((folder = imap_query_folder(query)) == NULL)
		folder = xstrdup("INBOX");
	if ((limit = imap_query_limit(query)) != NULL &&
	    limit[strspn(limit, " \t")] == '\0') {
		free(limit);
		limit = NULL;
	}
	if (limit != NULL && (q = imap_query_parse(limit, err)) == NULL) {
		free(limit);
		free(folder);
		return (-1);
	}
	v = xcalloc(1, sizeof *v);
	v->be = be;
	v->folder = folder;
	v->threads = (flags & VIEW_THREADS) != 0;

	pthread_mutex_lock(&be->data_lock);
	if (be->current == NULL || strcmp(be->current, folder) != 0)
		imap_want(be, folder);
	/* Before the folder list (or for a folder it lacks), a cached
	   folder is shown; only the cache's first rows are read here, the
	   background thread reads the rest and notifies. */
	if ((f = imap_folder_find(be, folder)) == NULL &&
	    imap_cache_exists(be, folder))
		f = imap_folder_add(be, folder);
	if (f != NULL && !f->loaded && f->nmsgs == 0 &&
	    imap_cache_load_rows(be, f, IMAP_CACHE_HEAD_ROWS) == 0 &&
	    f->cache_head) {
		uint64_t one = 1;

		if (write(be->wake_fd, &one, sizeof one) == -1)
			log_warn("imap wake");
	}
	/* A limit is also searched on the server, whose answer (when in)
	   adds what the summaries in memory cannot tell. */
	if (q != NULL) {
		imap_search_want(be, folder, limit);
		if (!imap_search_lookup(be, folder, limit, &found, &nfound))
			nfound = 0;
	}
	if (f == NULL || f->norder == 0) {
		pthread_mutex_unlock(&be->data_lock);
		imap_query_free(&q);
		free(limit);
		*vp = v;
		return (0);
	}
	v->uv = f->uidvalidity;
	v->uids = xreallocarray(NULL, f->norder + 1, sizeof *v->uids);
	if (v->threads) {
		parent = imap_parents(f);
		rowof = xreallocarray(NULL, f->nmsgs + 1, sizeof *rowof);
		for (i = 0; i < f->nmsgs; i++)
			rowof[i] = SIZE_MAX;
		v->total = xcalloc(f->norder + 1, sizeof *v->total);
		v->unread = xcalloc(f->norder + 1, sizeof *v->unread);
	}
	for (i = 0; i < f->norder; i++) {
		if ((m = imap_msg_find(f, f->order[i])) == NULL)
			continue;
		if (q != NULL && imap_query_match(q, m) != 1 &&
		    !imap_search_has(found, nfound, m->uid))
			continue;
		if (!v->threads) {
			v->uids[v->n++] = m->uid;
			continue;
		}
		j = imap_root(parent, (size_t)(m - f->msgs));
		if ((r = rowof[j]) == SIZE_MAX) {
			r = rowof[j] = v->n;
			v->uids[v->n++] = f->msgs[j].uid;
		}
		v->total[r]++;
		if (m->flags & MSG_UNREAD)
			v->unread[r]++;
	}
	pthread_mutex_unlock(&be->data_lock);
	imap_query_free(&q);
	free(parent);
	free(rowof);
	free(limit);
	if (order == VIEW_OLDEST_FIRST) {
		for (i = 0, j = v->n; i + 1 < j; i++, j--) {
			uint32_t t = v->uids[i];

			v->uids[i] = v->uids[j - 1];
			v->uids[j - 1] = t;
			if (v->threads) {
				unsigned u = v->total[i];

				v->total[i] = v->total[j - 1];
				v->total[j - 1] = u;
				u = v->unread[i];
				v->unread[i] = v->unread[j - 1];
				v->unread[j - 1] = u;
			}
		}
	}
	*vp = v;
	return (0);
}

size_t
imap_view_count(struct view *v)
{
	return (v->n);
}

/* Fills a summary row for message m (data_lock held). */
static void
imap_row(struct summary *s, const char *folder, uint32_t uv,
    struct imap_msg *m, uint32_t root, char **id, char **thread)
{
	xasprintf(id, "%u.%u.%s", uv, m->uid, folder);
	xasprintf(thread, "%u.%u.%s", uv, root, folder);
	memset(s, 0, sizeof *s);
	s->id = *id;
	s->thread = *thread;
	s->from = m->have ? m->from : "";
	s->subject = m->have ? m->subject : "...";
	s->tags = m->keywords != NULL ? m->keywords : "";
	s->date = m->date;
	s->flags = m->flags;
}

long
imap_view_next(struct view *v, size_t n, struct summary_batch *out,
    struct error *err)
{
	struct imap_folder	*f;
	struct imap_msg		*m, gone;
	struct summary		 s;
	char			*id, *thread;
	long			 added = 0;

	pthread_mutex_lock(&v->be->data_lock);
	f = imap_folder_find(v->be, v->folder);
	for (; n > 0 && v->pos < v->n; n--, v->pos++) {
		m = f != NULL ? imap_msg_find(f, v->uids[v->pos]) : NULL;
		if (m == NULL) {	/* expunged since the view opened */
			memset(&gone, 0, sizeof gone);
			gone.uid = v->uids[v->pos];
			m = &gone;
		}
		imap_row(&s, v->folder, v->uv, m, m->uid, &id, &thread);
		if (v->threads) {
			s.thread_total = v->total[v->pos];
			s.thread_unread = v->unread[v->pos];
		}
		summary_batch_add(out, &s);
		free(id);
		free(thread);
		added++;
	}
	pthread_mutex_unlock(&v->be->data_lock);
	return (added);
}

/* Appends i and its replies, oldest first, depth first. */
static void
imap_thread_walk(struct imap_folder *f, const long *parent, size_t i,
    unsigned depth, uint32_t root, struct summary_batch *out,
    const char *folder)
{
	struct summary	 s;
	char		*id, *thread;
	size_t		 j, k, *kids = NULL, nkids = 0;

	imap_row(&s, folder, f->uidvalidity, &f->msgs[i], root, &id,
	    &thread);
	s.depth = depth;
	summary_batch_add(out, &s);
	free(id);
	free(thread);
	if (depth >= IMAP_THREAD_DEPTH_MAX)
		return;
	for (j = 0; j < f->nmsgs; j++) {
		if (parent[j] == (long)i) {
			kids = xreallocarray(kids, nkids + 1, sizeof *kids);
			for (k = nkids; k > 0 &&
			    f->msgs[kids[k - 1]].date > f->msgs[j].date; k--)
				kids[k] = kids[k - 1];
			kids[k] = j;
			nkids++;
		}
	}
	for (k = 0; k < nkids; k++)
		imap_thread_walk(f, parent, kids[k], depth + 1, root, out,
		    folder);
	free(kids);
}

int
imap_thread_messages(struct backend *be, const char *thread,
    const char *query, struct summary_batch *out, struct error *err)
{
	struct imap_folder	*f;
	struct imap_msg		*m;
	uint32_t		 uv, uid;
	char			*folder;
	long			*parent;

	if (imap_id_parse(thread, &uv, &uid, &folder) != 0)
		return (error_set(err, ERR_NOTFOUND, "bad thread id"));
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) == NULL ||
	    f->uidvalidity != uv || (m = imap_msg_find(f, uid)) == NULL) {
		pthread_mutex_unlock(&be->data_lock);
		free(folder);
		return (error_set(err, ERR_NOTFOUND, "thread not found"));
	}
	parent = imap_parents(f);
	imap_thread_walk(f, parent, (size_t)(m - f->msgs), 0, uid, out,
	    folder);
	pthread_mutex_unlock(&be->data_lock);
	free(parent);
	free(folder);
	return (0);
}

void
imap_close_view(struct view **vp)
{
	struct view	*v = *vp;

	if (v == NULL)
		return;
	free(v->folder);
	free(v->uids);
	free(v->total);
	free(v->unread);
	free(v);
	*vp = NULL;
}

int
imap_message_path(struct backend *be, const char *id, char **path,
    struct error *err)
{
	uint32_t	 uv, uid;
	char		*folder, *file;

	*path = NULL;
	if (imap_id_parse(id, &uv, &uid, &folder) != 0)
		return (error_set(err, ERR_NOTFOUND, "bad message id %s",
		    id));
	file = imap_body_path(be, folder, uv, uid);
	free(folder);
	if (file != NULL && access(file, R_OK) == 0) {
		*path = file;
		return (0);
	}
	free(file);
	return (error_set(err, ERR_NOTFOUND, "not fetched yet"));
}
