/*
 * Bringing the notmuch index up to date with the Maildir, as notmuch new
 * does: a folder whose directory mtime matches the one stored in the
 * index is not read again; in the others, the files on disk and the files
 * the index knows are compared. New files are indexed first and removed
 * ones dropped after, so a file that another client renamed keeps its
 * message and tags.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/local/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct local_list {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

struct local_mtime {
	char	*rel;
	time_t	 mtime;
};

struct local_sync {
	struct backend		*be;
	notmuch_database_t	*db;
	backend_progress_cb	 cb;
	void			*arg;
	volatile int		*cancel;

	struct local_list	 add;	/* files to index */
	struct local_list	 del;	/* files to drop */
	struct local_list	 gone;	/* directories to drop, parents first */
	struct local_mtime	*mtimes;	/* stored once all is done */
	size_t			 nmtimes;

	size_t			 done;
	size_t			 total;
	size_t			 batch;	/* files since the last commit */
	size_t			 added;
	size_t			 removed;
	size_t			 skipped;
};

/* Appends s to a list, taking it. */
static void
local_list_take(struct local_list *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = s;
}

/* Frees a list's strings and array. */
static void
local_list_free(struct local_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Orders names bytewise, as notmuch lists a directory's files. */
static int
local_list_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Joins a relative directory and a name ("" is the root). */
static char *
local_join(const char *rel, const char *name)
{
	char	*s;

	if (*rel == '\0')
		return (xstrdup(name));
	xasprintf(&s, "%s/%s", rel, name);
	return (s);
}

/* Tells whether a file in a cur/ directory carries Maildir flag c. */
int
local_maildir_has_flag(const char *path, char c)
{
	const char	*base, *info, *dir;
	size_t		 dirlen;

	if ((base = strrchr(path, '/')) == NULL)
		return (0);
	for (dir = base; dir > path && dir[-1] != '/'; dir--)
		;
	dirlen = base - dir;
	if (dirlen != 3 || strncmp(dir, "cur", 3) != 0)
		return (0);
	if ((info = strstr(base, ":2,")) == NULL)
		return (0);
	return (strchr(info + 3, c) != NULL);
}

/* Reads the regular files of a directory, sorted; -1 if unreadable. */
static int
local_sync_read_dir(const char *path, struct local_list *out)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;

	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG) {
			if (de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
				continue;
			if (fstatat(dirfd(d), de->d_name, &sb, 0) != 0 ||
			    !S_ISREG(sb.st_mode))
				continue;
		}
		local_list_take(out, xstrdup(de->d_name));
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, local_list_cmp);
	return (0);
}

/* Compares one cur/ or new/ directory with the index, unless its mtime
   says it has not changed since the last sync. */
static int
local_sync_scan_dir(struct local_sync *s, const char *rel, struct error *err)
{
	notmuch_directory_t	*dir;
	notmuch_filenames_t	*fns;
	notmuch_status_t	 st;
	struct local_list	 fs = { NULL, 0, 0 }, db = { NULL, 0, 0 };
	struct local_mtime	*lm;
	struct stat		 sb;
	time_t			 now;
	char			*path;
	size_t			 i = 0, j = 0;
	int			 c;

	path = local_join(s->be->root, rel);
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT)
			log_warn("%s", path);
		free(path);
		return (0);
	}
	now = time(NULL);
	st = notmuch_database_get_directory(s->db, rel, &dir);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		free(path);
		return (local_nm_error(err, s->db, st, "%s", rel));
	}
	if (dir != NULL && notmuch_directory_get_mtime(dir) == sb.st_mtime) {
		notmuch_directory_destroy(dir);
		free(path);
		return (0);
	}

	if (local_sync_read_dir(path, &fs) != 0) {
		log_warn("%s", path);
		s->skipped++;
		if (dir != NULL)
			notmuch_directory_destroy(dir);
		free(path);
		return (0);
	}
	free(path);
	if (dir != NULL) {
		fns = notmuch_directory_get_child_files(dir);
		for (; notmuch_filenames_valid(fns);
		    notmuch_filenames_move_to_next(fns))
			local_list_take(&db,
			    xstrdup(notmuch_filenames_get(fns)));
		notmuch_filenames_destroy(fns);
		notmuch_directory_destroy(dir);
		if (db.n > 1)
			qsort(db.v, db.n, sizeof *db.v, local_list_cmp);
	}

	while (i < fs.n || j < db.n) {
		if (i == fs.n)
			c = 1;
		else if (j == db.n)
			c = -1;
		else
			c = strcmp(fs.v[i], db.v[j]);
		if (c < 0)
			local_list_take(&s->add, local_join(rel, fs.v[i++]));
		else if (c > 0)
			local_list_take(&s->del, local_join(rel, db.v[j++]));
		else {
			i++;
			j++;
		}
	}
	local_list_free(&fs);
	local_list_free(&db);

	/* A change later in this same second would keep this mtime. */
	if (sb.st_mtime != now) {
		s->mtimes = xreallocarray(s->mtimes, s->nmtimes + 1,
		    sizeof *s->mtimes);
		lm = &s->mtimes[s->nmtimes++];
		lm->rel = xstrdup(rel);
		lm->mtime = sb.st_mtime;
	}
	return (0);
}

/* Adds rel/name for each of the names, and frees them. */
static void
local_list_names(struct local_list *l, const char *rel,
    notmuch_filenames_t *fns)
{
	for (; notmuch_filenames_valid(fns);
	    notmuch_filenames_move_to_next(fns))
		local_list_take(l, local_join(rel,
		    notmuch_filenames_get(fns)));
	notmuch_filenames_destroy(fns);
}

/* Queues every file the index knows below rel for removal. */
static int
local_sync_forget_dir(struct local_sync *s, const char *rel, int depth,
    struct error *err)
{
	notmuch_directory_t	*dir;
	notmuch_status_t	 st;
	struct local_list	 subs = { NULL, 0, 0 };
	size_t			 i;
	int			 rv = 0;

	st = notmuch_database_get_directory(s->db, rel, &dir);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, s->db, st, "%s", rel));
	if (dir == NULL)
		return (0);
	local_list_take(&s->gone, xstrdup(rel));
	local_list_names(&s->del, rel,
	    notmuch_directory_get_child_files(dir));
	local_list_names(&subs, rel,
	    notmuch_directory_get_child_directories(dir));
	notmuch_directory_destroy(dir);
	for (i = 0; rv == 0 && i < subs.n && depth < LOCAL_MAX_DEPTH; i++)
		rv = local_sync_forget_dir(s, subs.v[i], depth + 1, err);
	local_list_free(&subs);
	return (rv);
}

/* Walks the directories the index knows and forgets those that are
   gone from disk (a folder deleted or renamed by another client). */
static int
local_sync_scan_gone(struct local_sync *s, const char *rel, int depth,
    struct error *err)
{
	notmuch_directory_t	*dir;
	notmuch_status_t	 st;
	struct local_list	 subs = { NULL, 0, 0 };
	struct stat		 sb;
	char			*path;
	size_t			 i;
	int			 rv = 0;

	st = notmuch_database_get_directory(s->db, rel, &dir);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, s->db, st, "%s", rel));
	if (dir == NULL)
		return (0);
	local_list_names(&subs, rel,
	    notmuch_directory_get_child_directories(dir));
	notmuch_directory_destroy(dir);

	for (i = 0; rv == 0 && i < subs.n; i++) {
		path = local_join(s->be->root, subs.v[i]);
		if (stat(path, &sb) != 0 && (errno == ENOENT ||
		    errno == ENOTDIR))
			rv = local_sync_forget_dir(s, subs.v[i], depth, err);
		else if (depth < LOCAL_MAX_DEPTH)
			rv = local_sync_scan_gone(s, subs.v[i], depth + 1,
			    err);
		free(path);
	}
	local_list_free(&subs);
	return (rv);
}

/* Reports progress every LOCAL_PROGRESS_EVERY files and at the end. */
static void
local_sync_progress(struct local_sync *s)
{
	if (s->cb == NULL)
		return;
	if (s->done % LOCAL_PROGRESS_EVERY == 0 || s->done == s->total)
		s->cb(s->arg, s->done, s->total, "indexing");
}

/* Counts one file done; commits (closes and reopens) after a batch. */
static int
local_sync_step(struct local_sync *s, struct error *err)
{
	s->done++;
	local_sync_progress(s);
	if (++s->batch < LOCAL_SYNC_BATCH)
		return (0);
	s->batch = 0;
	if (local_writer_close(s->be, &s->db, err) != 0)
		return (-1);
	return (local_writer_open(s->be, &s->db, err));
}

/* The tags of the file's Maildir flags (T, trashed, is "deleted"). */
static notmuch_status_t
local_tag_flags(notmuch_message_t *m, const char *path)
{
	notmuch_status_t	st;

	st = notmuch_message_maildir_flags_to_tags(m);
	if (st == NOTMUCH_STATUS_SUCCESS && local_maildir_has_flag(path, 'T'))
		st = notmuch_message_add_tag(m, "deleted");
	return (st);
}

/* What a message new to the index gets before its flags. */
static const char *const local_sync_new_tags[] = { "inbox", "unread", NULL };

/* Applies tag words ("+a" or "a" adds, "-b" removes) and then the
   file's Maildir flags to a message just indexed (see private.h). */
notmuch_status_t
local_tag_new(notmuch_message_t *m, const char *const *words,
    const char *path)
{
	notmuch_status_t	st;
	size_t			i;

	if ((st = notmuch_message_freeze(m)) != NOTMUCH_STATUS_SUCCESS)
		return (st);
	for (i = 0; words[i] != NULL && st == NOTMUCH_STATUS_SUCCESS; i++) {
		if (words[i][0] == '-')
			st = notmuch_message_remove_tag(m, words[i] + 1);
		else
			st = notmuch_message_add_tag(m, words[i] +
			    (words[i][0] == '+'));
	}
	if (st == NOTMUCH_STATUS_SUCCESS)
		st = local_tag_flags(m, path);
	if (st == NOTMUCH_STATUS_SUCCESS)
		return (notmuch_message_thaw(m));
	notmuch_message_thaw(m);
	return (st);
}

/* Indexes one file; unreadable files and non-mail are skipped. */
static int
local_sync_index(struct local_sync *s, const char *rel, struct error *err)
{
	notmuch_message_t	*m = NULL;
	notmuch_status_t	 st, st2;
	char			*path;

	path = local_join(s->be->root, rel);
	if ((st = notmuch_database_begin_atomic(s->db)) !=
	    NOTMUCH_STATUS_SUCCESS) {
		free(path);
		return (local_nm_error(err, s->db, st, "%s", rel));
	}
	st = notmuch_database_index_file(s->db, path, NULL, &m);
	switch (st) {
	case NOTMUCH_STATUS_SUCCESS:
		s->added++;
		st = local_tag_new(m, local_sync_new_tags, path);
		break;
	case NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID:
		/* Another file of a known message: a copy or a rename. */
		st = local_tag_flags(m, path);
		break;
	case NOTMUCH_STATUS_FILE_ERROR:
	case NOTMUCH_STATUS_FILE_NOT_EMAIL:
		log_warnx("%s: skipped: %s", path,
		    notmuch_status_to_string(st));
		s->skipped++;
		st = NOTMUCH_STATUS_SUCCESS;
		break;
	default:
		break;
	}
	if (m != NULL)
		notmuch_message_destroy(m);
	st2 = notmuch_database_end_atomic(s->db);
	free(path);
	if (st == NOTMUCH_STATUS_SUCCESS)
		st = st2;
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, s->db, st, "indexing %s", rel));
	return (local_sync_step(s, err));
}

/* Drops one file from the index; the message goes with its last file. */
static int
local_sync_remove(struct local_sync *s, const char *rel, struct error *err)
{
	notmuch_message_t	*m = NULL;
	notmuch_status_t	 st;
	char			*path;

	path = local_join(s->be->root, rel);
	st = notmuch_database_find_message_by_filename(s->db, path, &m);
	if (st != NOTMUCH_STATUS_SUCCESS || m == NULL) {
		free(path);
		if (st != NOTMUCH_STATUS_SUCCESS)
			return (local_nm_error(err, s->db, st, "%s", rel));
		return (local_sync_step(s, err));
	}
	if ((st = notmuch_database_begin_atomic(s->db)) ==
	    NOTMUCH_STATUS_SUCCESS) {
		st = notmuch_database_remove_message(s->db, path);
		if (st == NOTMUCH_STATUS_SUCCESS)
			s->removed++;
		else if (st == NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
			/* The files left decide the flags now. */
			st = notmuch_message_maildir_flags_to_tags(m);
		}
		if (st == NOTMUCH_STATUS_SUCCESS)
			st = notmuch_database_end_atomic(s->db);
		else
			notmuch_database_end_atomic(s->db);
	}
	notmuch_message_destroy(m);
	free(path);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, s->db, st, "removing %s", rel));
	return (local_sync_step(s, err));
}

/* Drops vanished directories, deepest first, and stores the mtimes of
   the directories that were read: the next sync skips them. */
static int
local_sync_finish(struct local_sync *s, struct error *err)
{
	notmuch_directory_t	*dir;
	notmuch_status_t	 st;
	size_t			 i;

	for (i = s->gone.n; i > 0; i--) {
		st = notmuch_database_get_directory(s->db, s->gone.v[i - 1],
		    &dir);
		if (st == NOTMUCH_STATUS_SUCCESS && dir != NULL)
			st = notmuch_directory_delete(dir);
		if (st != NOTMUCH_STATUS_SUCCESS)
			return (local_nm_error(err, s->db, st, "%s",
			    s->gone.v[i - 1]));
	}
	for (i = 0; i < s->nmtimes; i++) {
		st = notmuch_database_get_directory(s->db, s->mtimes[i].rel,
		    &dir);
		if (st != NOTMUCH_STATUS_SUCCESS)
			return (local_nm_error(err, s->db, st, "%s",
			    s->mtimes[i].rel));
		if (dir == NULL)	/* no file was ever indexed there */
			continue;
		st = notmuch_directory_set_mtime(dir, s->mtimes[i].mtime);
		notmuch_directory_destroy(dir);
		if (st != NOTMUCH_STATUS_SUCCESS)
			return (local_nm_error(err, s->db, st, "%s",
			    s->mtimes[i].rel));
	}
	return (0);
}

/* Finds what changed on disk since the last sync. */
static int
local_sync_scan(struct local_sync *s, struct error *err)
{
	char	**folders, *rel;
	size_t	  n, i;
	int	  rv = 0;

	if (local_folders_scan(s->be->root, &folders, &n, err) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (rv == 0) {
			rel = local_join(folders[i], "cur");
			rv = local_sync_scan_dir(s, rel, err);
			free(rel);
		}
		if (rv == 0) {
			rel = local_join(folders[i], "new");
			rv = local_sync_scan_dir(s, rel, err);
			free(rel);
		}
		free(folders[i]);
	}
	free(folders);
	if (rv == 0)
		rv = local_sync_scan_gone(s, "", 0, err);
	return (rv);
}

/* Checks whether the user asked to stop. */
static int
local_sync_cancelled(struct local_sync *s, struct error *err)
{
	if (s->cancel == NULL || !*s->cancel)
		return (0);
	return (error_set(err, ERR_CANCELLED, "%s: sync cancelled",
	    s->be->root));
}

/* Brings the index up to date with the Maildir. */
int
local_sync(struct backend *be, backend_progress_cb cb, void *arg,
    volatile int *cancel, size_t *added, size_t *removed, struct error *err)
{
	struct local_sync	s;
	size_t			i;
	int			rv;

	memset(&s, 0, sizeof s);
	s.be = be;
	s.cb = cb;
	s.arg = arg;
	s.cancel = cancel;
	if ((rv = local_writer_open(be, &s.db, err)) != 0)
		goto out;

	if ((rv = local_sync_scan(&s, err)) != 0)
		goto out;
	s.total = s.add.n + s.del.n;
	log_debug("%s: sync: %zu files to index, %zu to drop", be->root,
	    s.add.n, s.del.n);
	if (s.total > 0 && cb != NULL)
		cb(arg, 0, s.total, "indexing");
	for (i = 0; rv == 0 && i < s.add.n; i++) {
		if ((rv = local_sync_cancelled(&s, err)) == 0)
			rv = local_sync_index(&s, s.add.v[i], err);
	}
	for (i = 0; rv == 0 && i < s.del.n; i++) {
		if ((rv = local_sync_cancelled(&s, err)) == 0)
			rv = local_sync_remove(&s, s.del.v[i], err);
	}
	if (rv == 0)
		rv = local_sync_finish(&s, err);

out:
	/* Even after a failure, what was done is kept: the next sync
	   rereads the directories whose mtime was not stored. */
	if (local_writer_close(be, &s.db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	local_list_free(&s.add);
	local_list_free(&s.del);
	local_list_free(&s.gone);
	for (i = 0; i < s.nmtimes; i++)
		free(s.mtimes[i].rel);
	free(s.mtimes);
	be->skipped = s.skipped;
	if (added != NULL)
		*added = s.added;
	if (removed != NULL)
		*removed = s.removed;
	return (rv);
}
