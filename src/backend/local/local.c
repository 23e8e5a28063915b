/*
 * The local backend: a Maildir indexed by notmuch. This file opens and
 * closes the store, holds the operations table and the helpers that the
 * other files of the folder share (errors, the writer session).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/local/local.h"
#include "backend/local/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Copies notmuch's malloc'd message into a short, one-line text. */
static void
local_take_message(char *dst, size_t len, char **msg)
{
	char	*p;

	dst[0] = '\0';
	if (msg == NULL || *msg == NULL)
		return;
	snprintf(dst, len, "%s", *msg);
	for (p = dst; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	while (p > dst && p[-1] == ' ')
		*--p = '\0';
	free(*msg);
	*msg = NULL;
}

/* Fills err from a notmuch status and the database's last message. */
int
local_nm_error(struct error *err, notmuch_database_t *db,
    notmuch_status_t st, const char *fmt, ...)
{
	char		 what[128];
	const char	*detail = NULL;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (db != NULL)
		detail = notmuch_database_status_string(db);
	if (detail != NULL && *detail != '\0') {
		return (error_set(err, ERR_IO, "%s: %s (%.*s)", what,
		    notmuch_status_to_string(st),
		    (int)strcspn(detail, "\n"), detail));
	}
	return (error_set(err, ERR_IO, "%s: %s", what,
	    notmuch_status_to_string(st)));
}

/* A copy of the database's status text: notmuch keeps the old text and
   reports only the first query error of a handle, so a failing call's
   own words are those that differ from the mark. */
char *
local_status_mark(notmuch_database_t *db)
{
	const char	*s = notmuch_database_status_string(db);

	return (xstrdup(s != NULL ? s : ""));
}

/* Fills err for a query notmuch could not run; frees mark. */
int
local_query_error(struct error *err, notmuch_database_t *db, char **mark,
    notmuch_status_t st, const char *qs)
{
	static const char	 prefix[] =
	    "A Xapian exception occurred parsing query: ";
	const char		*s = notmuch_database_status_string(db);
	int			 fresh;

	fresh = s != NULL && *mark != NULL && strcmp(s, *mark) != 0;
	free(*mark);
	*mark = NULL;
	if (st != NOTMUCH_STATUS_XAPIAN_EXCEPTION)
		return (local_nm_error(err, db, st, "query %s", qs));
	if (!fresh) {
		return (error_set(err, ERR_CONFIG,
		    "query %s: notmuch cannot parse it", qs));
	}
	if (strncmp(s, prefix, sizeof prefix - 1) == 0)
		s += sizeof prefix - 1;
	return (error_set(err, ERR_CONFIG, "query %s: %.*s", qs,
	    (int)strcspn(s, "\n"), s));
}

/* Turns a failed open into a message that tells the user what to do. */
static int
local_open_error(struct backend *be, notmuch_status_t st, char **msg,
    struct error *err)
{
	char	text[200];

	local_take_message(text, sizeof text, msg);
	if (*text == '\0')
		snprintf(text, sizeof text, "%s", notmuch_status_to_string(st));
	switch (st) {
	case NOTMUCH_STATUS_XAPIAN_EXCEPTION:
	case NOTMUCH_STATUS_PATH_ERROR:
	case NOTMUCH_STATUS_UPGRADE_REQUIRED:
		return (error_set(err, ERR_IO, "notmuch index %s/.notmuch is "
		    "damaged (%s); to rebuild it, move %s/.notmuch away and "
		    "facteur re-indexes the Maildir", be->root, text,
		    be->root));
	case NOTMUCH_STATUS_NO_CONFIG:
		return (error_set(err, ERR_CONFIG, "notmuch config %s: %s",
		    be->nm_config != NULL ? be->nm_config : "(default)",
		    text));
	default:
		return (error_set(err, ERR_IO, "notmuch index %s: %s",
		    be->root, text));
	}
}

/* Opens the database in mode; a missing default config means none. */
notmuch_status_t
local_db_open(struct backend *be, notmuch_database_mode_t mode,
    notmuch_database_t **db, char **msg)
{
	notmuch_status_t	st;

	st = notmuch_database_open_with_config(be->root, mode, be->nm_config,
	    NULL, db, msg);
	if (st == NOTMUCH_STATUS_NO_CONFIG && be->nm_config == NULL) {
		free(*msg);
		*msg = NULL;
		st = notmuch_database_open_with_config(be->root, mode, "",
		    NULL, db, msg);
	}
	return (st);
}

/* Opens a READ_WRITE session; blocks while another writer holds it. */
int
local_writer_open(struct backend *be, notmuch_database_t **db,
    struct error *err)
{
	notmuch_status_t	 st;
	char			*msg = NULL;

	*db = NULL;
	st = local_db_open(be, NOTMUCH_DATABASE_MODE_READ_WRITE, db, &msg);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_open_error(be, st, &msg, err));
	free(msg);
	/*
	 * A database that needs an upgrade refuses every write. notmuch new
	 * upgrades on its own; so do we. This is also what a process killed
	 * while creating the database leaves behind (no version yet).
	 */
	if (notmuch_database_needs_upgrade(*db)) {
		log_warnx("%s: upgrading the notmuch database", be->root);
		st = notmuch_database_upgrade(*db, NULL, NULL);
		if (st != NOTMUCH_STATUS_SUCCESS) {
			notmuch_database_destroy(*db);
			*db = NULL;
			return (error_set(err, ERR_IO, "%s: the notmuch "
			    "database needs an upgrade that failed: %s",
			    be->root, notmuch_status_to_string(st)));
		}
	}
	return (0);
}

/* Closes a writer session, which commits it. */
int
local_writer_close(struct backend *be, notmuch_database_t **db,
    struct error *err)
{
	notmuch_status_t	st;
	int			rv = 0;

	if (*db == NULL)
		return (0);
	st = notmuch_database_close(*db);
	if (st != NOTMUCH_STATUS_SUCCESS)
		rv = local_nm_error(err, *db, st, "%s: commit", be->root);
	notmuch_database_destroy(*db);
	*db = NULL;
	return (rv);
}

/* Splits a space-separated list into a NULL-ended array of words. */
char **
local_split_words(const char *s)
{
	char	**v;
	size_t	  n = 0, len;

	v = xcalloc(1, sizeof *v);
	if (s == NULL)
		return (v);
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t");
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrndup(s, len);
		v[n] = NULL;
		s += len;
	}
	return (v);
}

/* Frees a word array and clears the pointer. */
void
local_free_words(char ***vp)
{
	char	**v = *vp;
	size_t	  i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
	*vp = NULL;
}

/* The file names of a message, as a NULL-ended array for
   local_free_words. */
char **
local_message_files(notmuch_message_t *m)
{
	notmuch_filenames_t	*fns;
	char			**v;
	size_t			  n = 0;

	v = xcalloc(1, sizeof *v);
	fns = notmuch_message_get_filenames(m);
	for (; notmuch_filenames_valid(fns);
	    notmuch_filenames_move_to_next(fns)) {
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = xstrdup(notmuch_filenames_get(fns));
		v[n] = NULL;
	}
	notmuch_filenames_destroy(fns);
	return (v);
}

/* Tells the index that a message file was renamed from one name to
   another: the new name is indexed before the old one is forgotten, so
   the message is never absent from the index. */
int
local_reindex(notmuch_database_t *db, const char *from, const char *to,
    struct error *err)
{
	notmuch_message_t	*m = NULL;
	notmuch_status_t	 st;

	st = notmuch_database_index_file(db, to, NULL, &m);
	if (m != NULL)
		notmuch_message_destroy(m);
	if (st == NOTMUCH_STATUS_SUCCESS ||
	    st == NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID) {
		st = notmuch_database_remove_message(db, from);
		if (st == NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
			st = NOTMUCH_STATUS_SUCCESS;
	}
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, db, st, "indexing %s", to));
	return (0);
}

/* Releases the backend and everything it holds. */
static void
local_close(struct backend **bep)
{
	struct backend	*be = *bep;

	if (be == NULL)
		return;
	if (be->ro != NULL)
		notmuch_database_destroy(be->ro);
	local_free_words(&be->exclude);
	local_free_words(&be->searches);
	free(be->nm_config);
	free(be->root);
	free(be);
	*bep = NULL;
}

/* Checks the Maildir root and stores its canonical path. */
static int
local_check_root(struct backend *be, const char *maildir, struct error *err)
{
	char		path[PATH_MAX];
	struct stat	sb;

	if (maildir == NULL || *maildir == '\0')
		return (error_set(err, ERR_CONFIG, "no maildir set"));
	if (realpath(maildir, path) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			return (error_set(err, ERR_NOTFOUND,
			    "maildir %s does not exist", maildir));
		}
		return (error_set(err, ERR_IO, "maildir %s: %s", maildir,
		    strerror(errno)));
	}
	if (stat(path, &sb) != 0)
		return (error_set(err, ERR_IO, "maildir %s: %s", maildir,
		    strerror(errno)));
	if (!S_ISDIR(sb.st_mode))
		return (error_set(err, ERR_NOTFOUND,
		    "maildir %s is not a directory", maildir));
	if (access(path, R_OK|W_OK|X_OK) != 0)
		return (error_set(err, ERR_IO, "maildir %s: %s", maildir,
		    strerror(errno)));
	be->root = xstrdup(path);
	return (0);
}

/* nftw callback: removes one entry, children first. */
static int
local_rm_entry(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 &&
	    errno != ENOENT)
		log_warn("%s", path);
	return (0);
}

/*
 * Removes what creations killed before their end left in .notmuch: the
 * directories facteur-new.PID.N of processes that are gone. (A creation
 * renames a whole database into place, or none.)
 */
static void
local_create_leftovers(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*path, *end;
	long		 pid;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "facteur-new.", 12) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + 12, &end, 10);
		if (errno != 0 || *end != '.' || pid <= 0 ||
		    pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		xasprintf(&path, "%s/%s", dir, de->d_name);
		nftw(path, local_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(path);
	}
	closedir(d);
}

static atomic_uint	local_create_seq;

/*
 * Creates the database at the root if there is none yet. A process killed
 * while Xapian writes a new database would leave .notmuch/xapian half
 * made, which notmuch then refuses as damaged: the database is made in
 * .notmuch/facteur-new.PID.N and renamed into place once complete, so a
 * kill leaves either no database (made again at the next start) or a
 * whole one. An empty database holds no path, so it may move. Two
 * processes creating at once: the second rename finds the first's
 * database and uses it. With the user's own notmuch config, which may put
 * the database elsewhere, notmuch creates it where that says.
 */
static int
local_create_if_missing(struct backend *be, struct error *err)
{
	notmuch_database_t	*db = NULL;
	notmuch_status_t	 st;
	struct stat		 sb;
	char			*dir, *stage = NULL, *from = NULL, *to, *msg = NULL;
	int			 rv = 0, fd;

	xasprintf(&dir, "%s/.notmuch", be->root);
	local_create_leftovers(dir);
	xasprintf(&to, "%s/xapian", dir);
	if (stat(to, &sb) == 0 || errno != ENOENT)
		goto out;
	log_debug("%s: creating notmuch database", be->root);
	if (be->nm_config != NULL && *be->nm_config != '\0') {
		st = notmuch_database_create_with_config(be->root,
		    be->nm_config, NULL, &db, &msg);
		if (st != NOTMUCH_STATUS_SUCCESS &&
		    st != NOTMUCH_STATUS_DATABASE_EXISTS)
			rv = local_open_error(be, st, &msg, err);
		else
			rv = local_writer_close(be, &db, err);
		free(msg);
		goto out;
	}

	/* N tells apart two threads of this process; what a dead process
	   of the same pid left under this name goes first. */
	xasprintf(&stage, "%s/facteur-new.%ld.%u", dir, (long)getpid(),
	    atomic_fetch_add(&local_create_seq, 1));
	xasprintf(&from, "%s/.notmuch/xapian", stage);
	nftw(stage, local_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    mkdir(stage, 0700) != 0) {
		rv = error_set(err, ERR_IO, "%s: %s", stage, strerror(errno));
		goto out;
	}
	st = notmuch_database_create_with_config(stage, "", NULL, &db, &msg);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		rv = local_open_error(be, st, &msg, err);
		goto out;
	}
	free(msg);
	if ((rv = local_writer_close(be, &db, err)) != 0)
		goto out;
	if (rename(from, to) != 0 && errno != ENOTEMPTY && errno != EEXIST) {
		rv = error_set(err, ERR_IO, "%s: %s", to, strerror(errno));
		goto out;
	}
	/* The rename reaches the disk before any mail is indexed. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
out:
	if (stage != NULL)
		nftw(stage, local_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	free(stage);
	free(from);
	free(to);
	return (rv);
}

/* Opens the Maildir at params->maildir, creating its index if needed. */
static int
local_open(struct backend **bep, const struct backend_params *params,
    struct error *err)
{
	struct backend		*be;
	notmuch_status_t	 st;
	char			*msg = NULL;
	size_t			 n;

	*bep = NULL;
	be = xcalloc(1, sizeof *be);
	if (params->nm_config != NULL)
		be->nm_config = xstrdup(params->nm_config);
	be->exclude = local_split_words(params->exclude_tags);
	for (n = 0; params->searches != NULL &&
	    params->searches[n] != NULL; n++)
		;
	be->searches = xcalloc(n + 1, sizeof *be->searches);
	for (n = 0; params->searches != NULL &&
	    params->searches[n] != NULL; n++)
		be->searches[n] = xstrdup(params->searches[n]);
	if (n % 2 != 0) {
		local_close(&be);
		return (error_set(err, ERR_CONFIG,
		    "saved search without a query"));
	}

	if (local_check_root(be, params->maildir, err) != 0 ||
	    local_create_if_missing(be, err) != 0) {
		local_close(&be);
		return (-1);
	}
	st = local_db_open(be, NOTMUCH_DATABASE_MODE_READ_ONLY, &be->ro, &msg);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		local_open_error(be, st, &msg, err);
		local_close(&be);
		return (-1);
	}
	free(msg);
	*bep = be;
	return (0);
}

/* Picks up what writers committed since the last open or refresh. */
static int
local_refresh(struct backend *be, struct error *err)
{
	notmuch_status_t	st;

	st = notmuch_database_reopen(be->ro, NOTMUCH_DATABASE_MODE_READ_ONLY);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, be->ro, st, "%s: reopen",
		    be->root));
	return (0);
}

/* Files the last sync skipped because they could not be indexed. */
size_t
local_sync_skipped(const struct backend *be)
{
	return (be->skipped);
}

const struct backend_ops local_backend_ops = {
	.name = "local",
	.open = local_open,
	.sync = local_sync,
	.refresh = local_refresh,
	.list_folders = local_list_folders,
	.open_view = local_open_view,
	.view_count = local_view_count,
	.count = local_count_view,
	.view_next = local_view_next,
	.thread_messages = local_thread_messages,
	.close_view = local_close_view,
	.message_path = local_message_path,
	.set_flags = local_set_flags,
	.set_tags = local_set_tags,
	.move = local_move,
	.close = local_close,
};
