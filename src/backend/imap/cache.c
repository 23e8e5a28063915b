/*
 * The IMAP header cache: one file per folder (0600) under the account's
 * cache directory, a header line with the format version, UIDVALIDITY and
 * HIGHESTMODSEQ, then one line per message in display order made of
 * tagged fields ("u=12<TAB>S=subject..."). A reader skips tags it does not
 * know and a newer format keeps the old tags, so a release reads the cache
 * of an older one and never has to download everything again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define IMAP_CACHE_MAGIC	"facteur-imap-cache"
#define IMAP_CACHE_VERSION	1

/* The cache file of a folder, or NULL without a cache directory. */
static char *
imap_cache_path(struct backend *be, const char *folder)
{
	struct buf	 b;
	char		*path;

	if (be->cache_dir == NULL)
		return (NULL);
	buf_init(&b);
	for (; *folder != '\0'; folder++)
		buf_addf(&b, "%02x", (unsigned char)*folder);
	xasprintf(&path, "%s/hdr-%s", be->cache_dir, buf_str(&b));
	buf_free(&b);
	return (path);
}

/* Writes s with tab, newline and backslash escaped. */
static void
imap_cache_put(FILE *f, char tag, const char *s)
{
	if (s == NULL)
		return;
	fprintf(f, "\t%c=", tag);
	for (; *s != '\0'; s++) {
		if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

/* Undoes imap_cache_put's escapes in place. */
static char *
imap_cache_unescape(char *s)
{
	char	*r, *w;

	for (r = w = s; *r != '\0'; r++) {
		if (*r == '\\' && r[1] != '\0') {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' :
			    *r == 'r' ? '\r' : *r;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return (s);
}

/* Creates (or truncates) a private file, 0600, for writing; logs and
   returns NULL when it cannot. */
FILE *
imap_file_create(const char *path)
{
	FILE	*f;
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s", path);
		if (fd != -1)
			close(fd);
		return (NULL);
	}
	return (f);
}

/* Saves a folder (data_lock held): written aside, then renamed. */
int
imap_cache_save(struct backend *be, struct imap_folder *fo)
{
	struct imap_msg	*m;
	char		*path, *tmp;
	FILE		*f;
	size_t		 i;

	/* Only the file's first rows are in memory: it stays as it is. */
	if (fo->cache_head)
		return (0);
	if ((path = imap_cache_path(be, fo->name)) == NULL)
		return (0);
	xasprintf(&tmp, "%s.tmp", path);
	if ((f = imap_file_create(tmp)) == NULL) {
		free(tmp);
		free(path);
		return (-1);
	}
	fprintf(f, "%s\t%d\tv=%u\tm=%llu\n", IMAP_CACHE_MAGIC,
	    IMAP_CACHE_VERSION, fo->uidvalidity,
	    (unsigned long long)fo->modseq);
	for (i = 0; i < fo->norder; i++) {
		if ((m = imap_msg_find(fo, fo->order[i])) == NULL)
			continue;
		fprintf(f, "u=%u", m->uid);
		if (m->have) {
			fprintf(f, "\tf=%u\td=%lld\ts=%u", m->flags,
			    (long long)m->date, m->size);
			imap_cache_put(f, 'F', m->from);
			imap_cache_put(f, 'S', m->subject);
			imap_cache_put(f, 'i', m->msgid);
			imap_cache_put(f, 'r', m->refs);
			imap_cache_put(f, 'k', m->keywords);
		}
		fputc('\n', f);
	}
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0 ||
	    rename(tmp, path) == -1) {
		log_warn("%s", path);
		unlink(tmp);
		free(tmp);
		free(path);
		return (-1);
	}
	fo->dirty = 0;
	free(tmp);
	free(path);
	return (0);
}

/* The messages read from a cache file, in the file's (display) order. */
struct imap_cache_rows {
	struct imap_msg	*v;
	size_t		 n;
	size_t		 cap;
};

/* Reads one message line; u= comes first. */
static void
imap_cache_line(struct imap_cache_rows *rows, char *line)
{
	struct imap_msg	*m = NULL;
	char		*field, *val, *save = NULL;
	unsigned long	 uid;

	for (field = strtok_r(line, "\t", &save); field != NULL;
	    field = strtok_r(NULL, "\t", &save)) {
		if (field[0] == '\0' || field[1] != '=')
			continue;
		val = imap_cache_unescape(field + 2);
		if (field[0] == 'u') {
			uid = strtoul(val, NULL, 10);
			if (uid == 0 || uid > UINT32_MAX || m != NULL)
				return;
			if (rows->n == rows->cap) {
				rows->cap = rows->cap == 0 ? 256 :
				    rows->cap * 2;
				rows->v = xreallocarray(rows->v, rows->cap,
				    sizeof *rows->v);
			}
			m = &rows->v[rows->n++];
			memset(m, 0, sizeof *m);
			m->uid = (uint32_t)uid;
			m->flags = MSG_UNREAD;
			continue;
		}
		if (m == NULL)
			return;
		switch (field[0]) {
		case 'f':
			m->flags = (unsigned)strtoul(val, NULL, 10);
			m->have = 1;
			break;
		case 'd':
			m->date = strtoll(val, NULL, 10);
			break;
		case 's':
			m->size = (uint32_t)strtoul(val, NULL, 10);
			break;
		case 'F':
			free(m->from);
			m->from = xstrdup(val);
			break;
		case 'S':
			free(m->subject);
			m->subject = xstrdup(val);
			break;
		case 'i':
			free(m->msgid);
			m->msgid = xstrdup(val);
			break;
		case 'r':	/* "" is NULL: 100k empty strings are 3 MB */
			free(m->refs);
			m->refs = *val != '\0' ? xstrdup(val) : NULL;
			break;
		case 'k':
			free(m->keywords);
			m->keywords = *val != '\0' ? xstrdup(val) : NULL;
			break;
		default:	/* a newer release's field */
			break;
		}
	}
	if (m != NULL && m->have) {
		if (m->from == NULL)
			m->from = xstrdup("");
		if (m->subject == NULL)
			m->subject = xstrdup("");
	}
}

/* Compares messages by UID, for qsort. */
static int
imap_cache_uid_cmp(const void *a, const void *b)
{
	const struct imap_msg	*x = a, *y = b;

	return (x->uid < y->uid ? -1 : x->uid > y->uid);
}

/*
 * Reads a folder's cache file: at most max message lines (0: all) into
 * rows, *uv and *modseq from its header, *more set when lines were left.
 * Needs no lock: it touches no folder.
 */
static int
imap_cache_read(struct backend *be, const char *name, size_t max,
    struct imap_cache_rows *rows, uint32_t *uv, uint64_t *modseq,
    int *more)
{
	char		*path, *line = NULL, *p;
	size_t		 size = 0;
	FILE		*f;

	memset(rows, 0, sizeof *rows);
	*more = 0;
	if ((path = imap_cache_path(be, name)) == NULL)
		return (-1);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return (-1);
	if (getline(&line, &size, f) <= 0 ||
	    strncmp(line, IMAP_CACHE_MAGIC "\t", sizeof IMAP_CACHE_MAGIC) !=
	    0 || atoi(line + sizeof IMAP_CACHE_MAGIC) < 1) {
		free(line);
		fclose(f);
		return (-1);
	}
	*uv = (p = strstr(line, "\tv=")) != NULL ?
	    (uint32_t)strtoul(p + 3, NULL, 10) : 0;
	*modseq = (p = strstr(line, "\tm=")) != NULL ?
	    strtoull(p + 3, NULL, 10) : 0;
	while (getline(&line, &size, f) > 0) {
		if (max != 0 && rows->n == max) {
			*more = 1;
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		imap_cache_line(rows, line);
	}
	free(line);
	fclose(f);
	return (0);
}

/* Puts rows into an empty folder: the order as read, the messages sorted
   by UID (one sort, not an insertion each) with duplicates dropped. */
static void
imap_cache_install(struct imap_folder *fo, struct imap_cache_rows *rows,
    uint32_t uv, uint64_t modseq)
{
	struct imap_msg	*m;
	size_t		 i, j, cap;
	char		*seen;

	imap_folder_clear(fo);
	fo->uidvalidity = uv;
	fo->modseq = modseq;
	fo->order = xreallocarray(NULL, rows->n + 1, sizeof *fo->order);
	for (i = 0; i < rows->n; i++)
		fo->order[i] = rows->v[i].uid;
	fo->norder = rows->n;
	if (rows->n > 1)	/* an empty folder's cache has no rows */
		qsort(rows->v, rows->n, sizeof *rows->v, imap_cache_uid_cmp);
	for (i = j = 0; i < rows->n; i++) {
		if (j > 0 && rows->v[j - 1].uid == rows->v[i].uid) {
			imap_msg_clear(&rows->v[i]);
			continue;
		}
		rows->v[j++] = rows->v[i];
	}
	/* imap_msg_add grows the array at powers of two: keep that. */
	for (cap = 16; cap < j; cap *= 2)
		;
	fo->msgs = xreallocarray(rows->v, cap, sizeof *fo->msgs);
	fo->nmsgs = j;
	if (j < rows->n) {	/* a duplicate line: keep the order unique */
		seen = xcalloc(fo->nmsgs + 1, 1);
		for (i = j = 0; i < fo->norder; i++) {
			m = imap_msg_find(fo, fo->order[i]);
			if (seen[m - fo->msgs])
				continue;
			seen[m - fo->msgs] = 1;
			fo->order[j++] = fo->order[i];
		}
		free(seen);
		fo->norder = j;
	}
	rows->v = NULL;
	rows->n = rows->cap = 0;
	fo->total = fo->norder;
	fo->loaded = 0;		/* the server has not confirmed it yet */
	fo->dirty = 0;
}

int
imap_cache_load_rows(struct backend *be, struct imap_folder *fo, size_t max)
{
	struct imap_cache_rows	 rows;
	uint64_t		 modseq;
	uint32_t		 uv;
	int			 more;

	if (imap_cache_read(be, fo->name, max, &rows, &uv, &modseq,
	    &more) != 0)
		return (-1);
	imap_cache_install(fo, &rows, uv, modseq);
	fo->cache_head = more;
	return (0);
}

/* Loads a folder's cache file into an empty folder (data_lock held).
   Returns 0 when something was loaded. */
int
imap_cache_load(struct backend *be, struct imap_folder *fo)
{
	return (imap_cache_load_rows(be, fo, 0));
}

/*
 * Completes the partial load of a folder (data_lock not held): the file
 * is read and parsed unlocked, then put in place if the folder is still
 * only partly loaded. Returns 1 when rows changed.
 */
int
imap_cache_complete(struct backend *be, const char *name)
{
	struct imap_cache_rows	 rows;
	struct imap_folder	*fo;
	uint64_t		 modseq;
	uint32_t		 uv;
	size_t			 i;
	int			 more, done = 0;

	pthread_mutex_lock(&be->data_lock);
	fo = imap_folder_find(be, name);
	if (fo == NULL || !fo->cache_head || fo->loaded) {
		pthread_mutex_unlock(&be->data_lock);
		return (0);
	}
	pthread_mutex_unlock(&be->data_lock);
	if (imap_cache_read(be, name, 0, &rows, &uv, &modseq, &more) != 0) {
		/* Gone meanwhile: what we have is all there is. */
		pthread_mutex_lock(&be->data_lock);
		if ((fo = imap_folder_find(be, name)) != NULL)
			fo->cache_head = 0;
		pthread_mutex_unlock(&be->data_lock);
		return (0);
	}
	pthread_mutex_lock(&be->data_lock);
	fo = imap_folder_find(be, name);
	if (fo != NULL && fo->cache_head && !fo->loaded) {
		imap_cache_install(fo, &rows, uv, modseq);
		fo->cache_head = 0;
		done = 1;
	}
	pthread_mutex_unlock(&be->data_lock);
	for (i = 0; i < rows.n; i++)
		imap_msg_clear(&rows.v[i]);
	free(rows.v);
	return (done);
}

/* Whether a folder has a cache file. */
int
imap_cache_exists(struct backend *be, const char *name)
{
	char	*path;
	int	 ok;

	if ((path = imap_cache_path(be, name)) == NULL)
		return (0);
	ok = access(path, R_OK) == 0;
	free(path);
	return (ok);
}

/* Removes a folder's cache (its UIDVALIDITY changed). */
void
imap_cache_drop(struct backend *be, const char *folder)
{
	char	*path;

	if ((path = imap_cache_path(be, folder)) == NULL)
		return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
	free(path);
}
