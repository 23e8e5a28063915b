/*
 * Moving messages between the Maildir folders of the local backend: each
 * file is renamed into the target folder's cur/ or new/ (atomic on one
 * file system; copied, synced and only then unlinked across two), both
 * directories are synced, and the index learns the new name before it
 * forgets the old one, so a crash at any point loses nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/local/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Finds the folder shown as name (or written as its path). */
static char *
local_move_target(struct backend *be, const char *name, struct error *err)
{
	char	**rels, *found = NULL;
	size_t	  n, i;
	const char *shown;

	if (local_folders_scan(be->root, &rels, &n, err) != 0)
		return (NULL);
	for (i = 0; i < n; i++) {
		shown = *rels[i] == '\0' ? "INBOX" :
		    *rels[i] == '.' ? rels[i] + 1 : rels[i];
		if (found == NULL && (strcmp(shown, name) == 0 ||
		    strcmp(rels[i], name) == 0))
			found = xstrdup(rels[i]);
		free(rels[i]);
	}
	free(rels);
	if (found == NULL)
		error_set(err, ERR_NOTFOUND, "no folder named '%s'", name);
	return (found);
}

/* fsync()s a directory so a rename in it is durable. */
static int
local_move_sync_dir(const char *dir)
{
	int	fd, rv;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rv = fsync(fd);
	close(fd);
	return (rv);
}

/* Copies src to dst durably (for a move across file systems). */
static int
local_move_copy(const char *src, const char *dst, struct error *err)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out, rv = 0;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return (error_set(err, ERR_IO, "%s: %s", src,
		    strerror(errno)));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out == -1) {
		close(in);
		return (error_set(err, ERR_IO, "%s: %s", dst,
		    strerror(errno)));
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rv = error_set(err, ERR_IO, "%s: %s", dst,
			    strerror(errno));
			break;
		}
	}
	if (n < 0)
		rv = error_set(err, ERR_IO, "%s: %s", src, strerror(errno));
	if (rv == 0 && fsync(out) != 0)
		rv = error_set(err, ERR_IO, "%s: %s", dst, strerror(errno));
	close(in);
	if (close(out) != 0 && rv == 0)
		rv = error_set(err, ERR_IO, "%s: %s", dst, strerror(errno));
	if (rv != 0)
		unlink(dst);
	return (rv);
}

/* Moves one file into the folder at dir (absolute), keeping cur/new and
   the file name. Returns the new path, or NULL. */
static char *
local_move_file(const char *path, const char *dir, struct error *err)
{
	char	*copy, *copy2, *sub, *base, *to, *srcdir, *todir;
	char	*rv = NULL;

	copy = xstrdup(path);
	copy2 = xstrdup(path);
	base = basename(copy);
	srcdir = dirname(copy2);
	sub = strrchr(srcdir, '/');
	sub = sub != NULL && strcmp(sub, "/new") == 0 ? "new" : "cur";
	xasprintf(&todir, "%s/%s", dir, sub);
	xasprintf(&to, "%s/%s", todir, base);
	if (access(to, F_OK) == 0) {
		error_set(err, ERR_IO, "%s already exists", to);
		goto out;
	}
	if (rename(path, to) != 0) {
		if (errno != EXDEV) {
			error_set(err, ERR_IO, "moving %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (local_move_copy(path, to, err) != 0)
			goto out;
		if (local_move_sync_dir(todir) != 0 || unlink(path) != 0) {
			error_set(err, ERR_IO, "moving %s: %s", path,
			    strerror(errno));
			goto out;
		}
	}
	if (local_move_sync_dir(todir) != 0 || local_move_sync_dir(srcdir) != 0)
		log_warn("fsync after moving %s", to);
	rv = to;
	to = NULL;
out:
	free(to);
	free(todir);
	free(copy);
	free(copy2);
	return (rv);
}

/* Moves every file of one message into dir; updates the index. */
static int
local_move_message(notmuch_database_t *db, const char *id, const char *dir,
    struct error *err)
{
	notmuch_message_t	*m = NULL;
	notmuch_status_t	 st;
	char			**files, *to;
	size_t			 i, dlen = strlen(dir);
	int			 rv = 0;

	st = notmuch_database_find_message(db, id, &m);
	if (st != NOTMUCH_STATUS_SUCCESS || m == NULL)
		return (st != NOTMUCH_STATUS_SUCCESS ?
		    local_nm_error(err, db, st, "message %s", id) :
		    error_set(err, ERR_NOTFOUND, "message %s is gone", id));
	files = local_message_files(m);
	notmuch_message_destroy(m);

	for (i = 0; files[i] != NULL && rv == 0; i++) {
		/* Already there: cur/ or new/ right below dir. */
		if (strncmp(files[i], dir, dlen) == 0 &&
		    (strncmp(files[i] + dlen, "/cur/", 5) == 0 ||
		    strncmp(files[i] + dlen, "/new/", 5) == 0))
			continue;
		if ((to = local_move_file(files[i], dir, err)) == NULL) {
			rv = -1;
			continue;
		}
		rv = local_reindex(db, files[i], to, err);
		free(to);
	}
	local_free_words(&files);
	return (rv);
}

int
local_move(struct backend *be, const char *const *ids, size_t n,
    const char *folder, struct error *err)
{
	notmuch_database_t	*db = NULL;
	char			*rel, *dir;
	size_t			 i;
	int			 rv = 0;

	if ((rel = local_move_target(be, folder, err)) == NULL)
		return (-1);
	if (*rel == '\0')
		dir = xstrdup(be->root);
	else
		xasprintf(&dir, "%s/%s", be->root, rel);
	free(rel);
	if (local_writer_open(be, &db, err) != 0) {
		free(dir);
		return (-1);
	}
	for (i = 0; i < n && rv == 0; i++)
		rv = local_move_message(db, ids[i], dir, err);
	if (local_writer_close(be, &db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	free(dir);
	return (rv);
}
