/*
 * The IMAP backend's memory: folders, their messages kept sorted by UID
 * (binary search) and the display order. Callers hold data_lock.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/xmalloc.h"

/* Finds a folder by its server name. */
struct imap_folder *
imap_folder_find(struct backend *be, const char *name)
{
	size_t	i;

	for (i = 0; i < be->nfolders; i++) {
		if (strcmp(be->folders[i]->name, name) == 0)
			return (be->folders[i]);
	}
	return (NULL);
}

/* Finds or adds a folder. */
struct imap_folder *
imap_folder_add(struct backend *be, const char *name)
{
	struct imap_folder	*f;

	if ((f = imap_folder_find(be, name)) != NULL)
		return (f);
	f = xcalloc(1, sizeof *f);
	f->name = xstrdup(name);
	be->folders = xreallocarray(be->folders, be->nfolders + 1,
	    sizeof *be->folders);
	be->folders[be->nfolders++] = f;
	return (f);
}

/* Where uid is, or would go: the first message whose UID is not lower. */
static size_t
imap_msg_lower(const struct imap_folder *f, uint32_t uid)
{
	size_t	lo = 0, hi = f->nmsgs, mid;

	/* New mail comes last: no search for it. */
	if (f->nmsgs > 0 && f->msgs[f->nmsgs - 1].uid < uid)
		return (f->nmsgs);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (f->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* Binary search of a message by UID. */
struct imap_msg *
imap_msg_find(struct imap_folder *f, uint32_t uid)
{
	size_t	at = imap_msg_lower(f, uid);

	return (at < f->nmsgs && f->msgs[at].uid == uid ? &f->msgs[at] :
	    NULL);
}

/* Finds or inserts a message; pointers into msgs move. */
struct imap_msg *
imap_msg_add(struct imap_folder *f, uint32_t uid)
{
	struct imap_msg	*m;
	size_t		 lo = imap_msg_lower(f, uid);

	if (lo < f->nmsgs && f->msgs[lo].uid == uid)
		return (&f->msgs[lo]);
	/* The array holds at least the next power of two: grow there. */
	if ((f->nmsgs & (f->nmsgs - 1)) == 0)
		f->msgs = xreallocarray(f->msgs, f->nmsgs < 8 ? 16 :
		    f->nmsgs * 2, sizeof *f->msgs);
	memmove(&f->msgs[lo + 1], &f->msgs[lo],
	    (f->nmsgs - lo) * sizeof *f->msgs);
	f->nmsgs++;
	m = &f->msgs[lo];
	memset(m, 0, sizeof *m);
	m->uid = uid;
	m->flags = MSG_UNREAD;
	return (m);
}

/* Frees a message's strings. */
void
imap_msg_clear(struct imap_msg *m)
{
	free(m->from);
	free(m->subject);
	free(m->msgid);
	free(m->refs);
	free(m->keywords);
	m->from = m->subject = m->msgid = m->refs = m->keywords = NULL;
	m->have = 0;
}

/* Forgets every message (UIDVALIDITY changed). */
void
imap_folder_clear(struct imap_folder *f)
{
	size_t	i;

	for (i = 0; i < f->nmsgs; i++)
		imap_msg_clear(&f->msgs[i]);
	free(f->msgs);
	free(f->order);
	f->msgs = NULL;
	f->order = NULL;
	f->nmsgs = f->norder = 0;
	f->modseq = 0;
	f->loaded = 0;
}

void
imap_folder_free(struct imap_folder **fp)
{
	struct imap_folder	*f = *fp;

	if (f == NULL)
		return;
	imap_folder_clear(f);
	free(f->name);
	free(f);
	*fp = NULL;
}

/* Compares UIDs for qsort and bsearch. */
static int
imap_uid_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* Sets the display order and drops messages that are no longer in it. */
void
imap_folder_keep(struct imap_folder *f, const uint32_t *order, size_t n)
{
	uint32_t	*sorted;
	size_t		 i, j;

	sorted = xreallocarray(NULL, n + 1, sizeof *sorted);
	memcpy(sorted, order, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, imap_uid_cmp);
	for (i = j = 0; i < f->nmsgs; i++) {
		if (bsearch(&f->msgs[i].uid, sorted, n, sizeof *sorted,
		    imap_uid_cmp) == NULL) {
			imap_msg_clear(&f->msgs[i]);
			f->dirty = 1;
			continue;
		}
		f->msgs[j++] = f->msgs[i];
	}
	f->nmsgs = j;
	free(f->order);
	f->order = xreallocarray(NULL, n + 1, sizeof *f->order);
	memcpy(f->order, order, n * sizeof *f->order);
	f->norder = n;
	/* In UID order: new UIDs append (the order is newest first, and
	   adding in it would move the whole array each time). */
	for (i = 0; i < n; i++)
		imap_msg_add(f, sorted[i]);
	free(sorted);
	f->loaded = 1;
}

/* The query that opens a folder: folder:"NAME" with " and \ escaped. */
char *
imap_folder_query(const char *name)
{
	struct buf	b;

	buf_init(&b);
	buf_adds(&b, "folder:\"");
	for (; *name != '\0'; name++) {
		if (*name == '"' || *name == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *name);
	}
	buf_addc(&b, '"');
	return (buf_steal(&b));
}

/* The folder a query names, or NULL. Takes the first folder:"..." term,
   also inside "(...) and (...)" as the index builds with a limit. */
char *
imap_query_folder(const char *q)
{
	const char	*s;
	struct buf	 b;

	if (q == NULL || (s = strstr(q, "folder:\"")) == NULL)
		return (NULL);
	buf_init(&b);
	for (s += 8; *s != '\0' && *s != '"'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		buf_addc(&b, *s);
	}
	if (*s != '"' || b.len == 0) {
		buf_free(&b);
		return (NULL);
	}
	return (buf_steal(&b));
}

/* Whether uid falls in one of the n sorted, disjoint ranges. */
static int
imap_in_ranges(uint32_t uid, const uint32_t *lo, const uint32_t *hi,
    size_t n)
{
	size_t	a = 0, b = n, mid;

	while (a < b) {
		mid = a + (b - a) / 2;
		if (uid < lo[mid])
			b = mid;
		else if (uid > hi[mid])
			a = mid + 1;
		else
			return (1);
	}
	return (0);
}

/* Compares ranges by their low end, for qsort. */
static int
imap_range_cmp(const void *a, const void *b)
{
	const uint32_t	*x = a, *y = b;

	return (x[0] < y[0] ? -1 : x[0] > y[0]);
}

/*
 * Forgets the messages in the ranges (VANISHED): one pass over the
 * messages and one over the order, whatever the number of ranges. Returns
 * how many went.
 */
size_t
imap_folder_drop(struct imap_folder *f, const uint32_t *lo,
    const uint32_t *hi, size_t n)
{
	uint32_t	*r, *slo, *shi;
	size_t		 i, j, gone;

	if (n == 0 || f->nmsgs == 0)
		return (0);
	/* Sorted and merged copies, so that a binary search works. */
	r = xreallocarray(NULL, n, 2 * sizeof *r);
	for (i = 0; i < n; i++) {
		r[2 * i] = lo[i] <= hi[i] ? lo[i] : hi[i];
		r[2 * i + 1] = lo[i] <= hi[i] ? hi[i] : lo[i];
	}
	qsort(r, n, 2 * sizeof *r, imap_range_cmp);
	slo = xreallocarray(NULL, n, sizeof *slo);
	shi = xreallocarray(NULL, n, sizeof *shi);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && r[2 * i] <= shi[j - 1] + 1) {
			if (r[2 * i + 1] > shi[j - 1])
				shi[j - 1] = r[2 * i + 1];
			continue;
		}
		slo[j] = r[2 * i];
		shi[j++] = r[2 * i + 1];
	}
	free(r);
	n = j;
	for (i = j = 0; i < f->nmsgs; i++) {
		if (imap_in_ranges(f->msgs[i].uid, slo, shi, n)) {
			imap_msg_clear(&f->msgs[i]);
			continue;
		}
		f->msgs[j++] = f->msgs[i];
	}
	gone = f->nmsgs - j;
	f->nmsgs = j;
	for (i = j = 0; i < f->norder; i++) {
		if (!imap_in_ranges(f->order[i], slo, shi, n))
			f->order[j++] = f->order[i];
	}
	f->norder = j;
	free(slo);
	free(shi);
	if (gone > 0)
		f->dirty = 1;
	return (gone);
}

/* Frees a message's empty strings: NULL stands for them. */
void
imap_msg_compact(struct imap_msg *m)
{
	if (m->refs != NULL && *m->refs == '\0') {
		free(m->refs);
		m->refs = NULL;
	}
	if (m->keywords != NULL && *m->keywords == '\0') {
		free(m->keywords);
		m->keywords = NULL;
	}
}
