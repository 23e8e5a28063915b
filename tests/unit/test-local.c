/*
 * Tests of the local backend (Maildir + notmuch): each test writes a small
 * Maildir by hand in a fresh temporary directory, opens it with no notmuch
 * config, and checks what a user would see: folders, counts, rows, flags
 * and the files' Maildir info.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/local/local.h"
#include "core/xmalloc.h"

static char		 tmpdir[512];
static char		 maildir[1024];
static const struct backend_ops *ops = &local_backend_ops;

/* Removes one entry of the temporary tree. */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return (remove(path));
}

static void
setup(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/facteur-local-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	snprintf(maildir, sizeof maildir, "%s/Mail", tmpdir);
	cr_assert_eq(mkdir(maildir, 0700), 0);
}

static void
teardown(void)
{
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(local, .init = setup, .fini = teardown, .timeout = 60);

/* Makes rel (below the Maildir root, "" for the root) a Maildir folder. */
static void
md_folder(const char *rel)
{
	const char	*sub[] = { "", "/cur", "/new", "/tmp" };
	char		 path[PATH_MAX];
	const char	*slash;
	size_t		 i;

	for (slash = strchr(rel, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		snprintf(path, sizeof path, "%s/%.*s", maildir,
		    (int)(slash - rel), rel);
		if (mkdir(path, 0700) != 0)
			cr_assert_eq(errno, EEXIST, "mkdir %s", path);
	}
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s%s", maildir, rel, sub[i]);
		if (mkdir(path, 0700) != 0)
			cr_assert_eq(errno, EEXIST, "mkdir %s", path);
	}
}

/* Writes a message at file (relative to the root); day orders dates. */
static void
md_write(const char *file, const char *id, const char *subject, int day,
    const char *from, const char *reply_to, const char *refs)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", maildir, file);
	f = fopen(path, "w");
	cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
	fprintf(f, "From: %s\n", from != NULL ? from :
	    "\"Alice Example\" <alice@example.org>");
	fprintf(f, "To: bob@example.org\n");
	fprintf(f, "Subject: %s\n", subject);
	fprintf(f, "Date: %02d Jan 2024 10:00:00 +0000\n", day);
	fprintf(f, "Message-ID: <%s>\n", id);
	if (reply_to != NULL)
		fprintf(f, "In-Reply-To: <%s>\n", reply_to);
	if (refs != NULL)
		fprintf(f, "References: %s\n", refs);
	fprintf(f, "\nHello, this is %s.\n", subject);
	cr_assert_eq(fclose(f), 0);
}

/* Renames a file of the Maildir, as another mail client would. */
static void
md_rename(const char *from, const char *to)
{
	char	a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof a, "%s/%s", maildir, from);
	snprintf(b, sizeof b, "%s/%s", maildir, to);
	cr_assert_eq(rename(a, b), 0, "rename %s: %s", a, strerror(errno));
}

/* Tells whether a file exists below the Maildir root. */
static int
md_exists(const char *file)
{
	char	path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", maildir, file);
	return (access(path, F_OK) == 0);
}

static struct backend *
open_be(const char *exclude, const char *const *searches)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;

	memset(&p, 0, sizeof p);
	p.name = "test";
	p.maildir = maildir;
	p.nm_config = "";
	p.exclude_tags = exclude;
	p.searches = searches;
	error_clear(&err);
	cr_assert_eq(ops->open(&be, &p, &err), 0, "open: %s", err.msg);
	cr_assert_not_null(be);
	return (be);
}

static void
sync_be(struct backend *be, size_t want_added, size_t want_removed)
{
	struct error	err;
	size_t		added = 99, removed = 99;

	error_clear(&err);
	cr_assert_eq(ops->sync(be, NULL, NULL, NULL, &added, &removed, &err),
	    0, "sync: %s", err.msg);
	cr_assert_eq(added, want_added, "added %zu, expected %zu", added,
	    want_added);
	cr_assert_eq(removed, want_removed, "removed %zu, expected %zu",
	    removed, want_removed);
	cr_assert_eq(ops->refresh(be, &err), 0, "refresh: %s", err.msg);
}

/* Reads a whole view into rows; returns its count. */
static size_t
read_view(struct backend *be, const char *query, enum view_order order,
    unsigned flags, struct summary_batch *rows)
{
	struct view	*v = NULL;
	struct error	 err;
	size_t		 count;
	long		 got;

	summary_batch_init(rows);
	cr_assert_eq(ops->open_view(be, query, order, flags, &v, &err), 0,
	    "open_view %s: %s", query, err.msg);
	count = ops->view_count(v);
	if (count == VIEW_COUNT_UNKNOWN) {
		/* Threads are counted on the worker, with the same answer. */
		cr_assert(flags & VIEW_THREADS, "only threads go uncounted");
		cr_assert_eq(ops->count(be, query, flags, &count, &err), 0,
		    "count %s: %s", query, err.msg);
	}
	while ((got = ops->view_next(v, 1000, rows, &err)) > 0)
		;
	cr_assert_eq(got, 0, "view_next: %s", err.msg);
	ops->close_view(&v);
	cr_assert_null(v);
	cr_assert_eq(rows->n, count, "%zu rows, count said %zu", rows->n,
	    count);
	return (count);
}

/* The one row of query. */
static void
one_row(struct backend *be, const char *query, struct summary_batch *rows)
{
	read_view(be, query, VIEW_NEWEST_FIRST, 0, rows);
	cr_assert_eq(rows->n, 1, "%s: %zu rows", query, rows->n);
}

static size_t
count_of(struct backend *be, const char *query)
{
	struct summary_batch	rows;
	size_t			n;

	n = read_view(be, query, VIEW_NEWEST_FIRST, 0, &rows);
	summary_batch_free(&rows);
	return (n);
}

/* The path of message id, relative to the Maildir root. */
static char *
path_of(struct backend *be, const char *id)
{
	struct error	 err;
	char		*path = NULL, *rel;

	cr_assert_eq(ops->message_path(be, id, &path, &err), 0,
	    "message_path %s: %s", id, err.msg);
	cr_assert_eq(strncmp(path, maildir, strlen(maildir)), 0,
	    "%s outside %s", path, maildir);
	rel = xstrdup(path + strlen(maildir) + 1);
	free(path);
	return (rel);
}

static void
set_flags(struct backend *be, const char *id, unsigned add, unsigned remove)
{
	struct error	err;
	const char	*ids[] = { id };

	cr_assert_eq(ops->set_flags(be, ids, 1, add, remove, &err), 0,
	    "set_flags: %s", err.msg);
	cr_assert_eq(ops->refresh(be, &err), 0, "refresh: %s", err.msg);
}

static const struct folder_info *
find_folder(const struct folder_list *fl, const char *name)
{
	size_t	i;

	for (i = 0; i < fl->n; i++) {
		if (strcmp(fl->v[i].name, name) == 0)
			return (&fl->v[i]);
	}
	cr_assert_fail("folder %s not listed", name);
	return (NULL);
}

Test(local, open_creates_the_database_in_the_maildir)
{
	struct backend	*be;
	char		 path[PATH_MAX];
	struct stat	 sb;

	md_folder("");
	be = open_be(NULL, NULL);
	snprintf(path, sizeof path, "%s/.notmuch/xapian", maildir);
	cr_assert_eq(stat(path, &sb), 0, "no database at %s", path);
	cr_assert(S_ISDIR(sb.st_mode));
	cr_assert_eq(count_of(be, "*"), 0);
	ops->close(&be);
	cr_assert_null(be);

	/* A second open finds the database it made. */
	be = open_be(NULL, NULL);
	ops->close(&be);
}

/* Whether .notmuch holds a creation's leftover (facteur-new.PID.N). */
static int
creation_left(void)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[PATH_MAX];
	int		 found = 0;

	snprintf(path, sizeof path, "%s/.notmuch", maildir);
	if ((d = opendir(path)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL)
		found |= strncmp(de->d_name, "facteur-new.", 12) == 0;
	closedir(d);
	return (found);
}

Test(local, an_interrupted_creation_is_cleared_and_the_index_made_again)
{
	struct backend	*be;
	char		 path[PATH_MAX + 64], stage[PATH_MAX];
	const char	*sub[] = { "", "/.notmuch", "/.notmuch/xapian" };
	FILE		*f;
	pid_t		 dead;
	size_t		 i;

	/* What a process killed while Xapian wrote a new database left:
	   its stage, named after its pid (one that is gone). */
	if ((dead = fork()) == 0)
		_exit(0);
	cr_assert_eq(waitpid(dead, NULL, 0), dead);
	md_folder("");
	snprintf(path, sizeof path, "%s/.notmuch", maildir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(stage, sizeof stage, "%s/.notmuch/facteur-new.%ld.0",
	    maildir, (long)dead);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s%s", stage, sub[i]);
		cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s", path);
	}
	snprintf(path, sizeof path, "%s/.notmuch/xapian/postlist.glass",
	    stage);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("half", f);
	fclose(f);
	/* And one of a dead process that had this one's pid. */
	snprintf(path, sizeof path, "%s/.notmuch/facteur-new.%ld.0", maildir,
	    (long)getpid());
	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s", path);
	snprintf(path, sizeof path, "%s/.notmuch/facteur-new.%ld.0/junk",
	    maildir, (long)getpid());
	cr_assert_not_null(f = fopen(path, "w"));
	fclose(f);

	md_write("cur/1.test:2,S", "one@test", "One", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);
	cr_assert_eq(count_of(be, "subject:One"), 1);
	ops->close(&be);
	cr_assert(!creation_left(), "%s is left behind", stage);
}

Test(local, a_kill_while_the_index_is_made_never_leaves_it_half_made)
{
	struct backend_params	 p;
	struct backend		*be;
	struct error		 err;
	char			 root[PATH_MAX];
	pid_t			 pid;
	int			 i, status, killed = 0;

	/* SIGKILL at 0 to 12 ms into the first open of a new Maildir, the
	   time notmuch takes to make its database: each next open works. */
	for (i = 0; i < 40; i++) {
		snprintf(root, sizeof root, "%s/Mail", tmpdir);
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		cr_assert_eq(mkdir(maildir, 0700), 0);
		md_folder("");
		memset(&p, 0, sizeof p);
		p.name = "test";
		p.maildir = maildir;
		p.nm_config = "";
		if ((pid = fork()) == 0) {
			be = NULL;
			_exit(ops->open(&be, &p, &err) != 0);
		}
		cr_assert_gt(pid, 0);
		usleep((useconds_t)i * 300);
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status))
			killed++;
		else
			cr_assert_eq(WEXITSTATUS(status), 0,
			    "the open before the kill failed");
		be = NULL;
		error_clear(&err);
		cr_assert_eq(ops->open(&be, &p, &err), 0,
		    "open after a kill at %d us: %s", i * 300, err.msg);
		ops->close(&be);
		cr_assert(!creation_left(), "a creation's stage is left "
		    "behind (kill at %d us)", i * 300);
	}
	cr_assert_gt(killed, 0, "no open was ever killed");
}

Test(local, sync_tags_new_mail_inbox_unread_but_seen_files_not_unread)
{
	struct backend		*be;
	struct summary_batch	 rows;

	md_folder("");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("cur/2.host:2,S", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	md_write("cur/3.host:2,FS", "three@test", "Third", 3, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 3, 0);

	one_row(be, "id:one@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "inbox unread");
	cr_assert_eq(rows.v[0].flags, MSG_UNREAD);
	cr_assert_str_eq(rows.v[0].subject, "First");
	cr_assert_str_eq(rows.v[0].from, "Alice Example");
	summary_batch_free(&rows);

	one_row(be, "id:two@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "inbox");
	cr_assert_eq(rows.v[0].flags, 0);
	summary_batch_free(&rows);

	one_row(be, "id:three@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "flagged inbox");
	cr_assert_eq(rows.v[0].flags, MSG_FLAGGED);
	summary_batch_free(&rows);

	/* Files in new/ stay there. */
	cr_assert(md_exists("new/1.host"));
	ops->close(&be);
}

Test(local, second_sync_with_nothing_changed_adds_and_removes_nothing)
{
	struct backend	*be;

	md_folder("");
	md_folder(".Sent");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	md_write(".Sent/cur/2.host:2,S", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 2, 0);
	sync_be(be, 0, 0);
	sync_be(be, 0, 0);
	cr_assert_eq(count_of(be, "*"), 2);
	ops->close(&be);
}

Test(local, unchanged_directory_mtime_means_directory_not_reread)
{
	struct backend	*be;
	struct timespec	 ts[2];
	char		 path[PATH_MAX];

	md_folder("");
	md_write("cur/1.host:2,", "one@test", "First", 1, NULL, NULL, NULL);
	snprintf(path, sizeof path, "%s/cur", maildir);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 100;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);

	/* A file slipped in behind an unchanged mtime is not seen... */
	md_write("cur/2.host:2,", "two@test", "Second", 2, NULL, NULL, NULL);
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	sync_be(be, 0, 0);
	cr_assert_eq(count_of(be, "*"), 1);

	/* ...and is once the directory's mtime moves. */
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - 50;
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	sync_be(be, 1, 0);
	cr_assert_eq(count_of(be, "*"), 2);
	ops->close(&be);
}

Test(local, removed_file_disappears_after_sync)
{
	struct backend	*be;
	struct error	 err;
	char		 path[PATH_MAX], *p = NULL;

	md_folder("");
	md_write("cur/1.host:2,S", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("cur/2.host:2,S", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 2, 0);
	snprintf(path, sizeof path, "%s/cur/1.host:2,S", maildir);
	cr_assert_eq(unlink(path), 0);
	sync_be(be, 0, 1);
	cr_assert_eq(count_of(be, "*"), 1);
	cr_assert_eq(count_of(be, "id:one@test"), 0);
	cr_assert_eq(ops->message_path(be, "one@test", &p, &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	cr_assert_null(p);
	ops->close(&be);
}

Test(local, deleted_folder_messages_leave_the_index)
{
	struct backend	*be;
	char		 cmd[PATH_MAX + 32];

	md_folder("");
	md_folder(".Old");
	md_write(".Old/cur/1.host:2,S", "one@test", "First", 1, NULL, NULL,
	    NULL);
	md_write("cur/2.host:2,S", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 2, 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s/.Old'", maildir);
	cr_assert_eq(system(cmd), 0);
	sync_be(be, 0, 1);
	cr_assert_eq(count_of(be, "*"), 1);
	ops->close(&be);
}

Test(local, file_renamed_by_another_client_keeps_message_and_tags)
{
	struct backend		*be;
	struct summary_batch	 rows;
	const char		*ids[] = { "one@test" };
	struct error		 err;
	char			*rel;

	md_folder("");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);
	cr_assert_eq(ops->set_tags(be, ids, 1, "+work", &err), 0, "%s",
	    err.msg);
	cr_assert_eq(ops->refresh(be, &err), 0);
	rel = path_of(be, "one@test");
	cr_assert_str_eq(rel, "new/1.host", "still unread, moved: %s", rel);
	free(rel);

	/* Read and flagged elsewhere: new name, same message. */
	md_rename("new/1.host", "cur/1.host:2,FS");
	sync_be(be, 0, 0);
	one_row(be, "id:one@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "flagged inbox work");
	cr_assert_str_eq(rows.v[0].path + strlen(maildir),
	    "/cur/1.host:2,FS");
	summary_batch_free(&rows);

	/* Unflagged elsewhere: the tag follows once the old name is gone. */
	md_rename("cur/1.host:2,FS", "cur/1.host:2,S");
	sync_be(be, 0, 0);
	one_row(be, "id:one@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "inbox work");
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, subfolders_are_listed_with_total_and_unread)
{
	struct backend			*be;
	struct folder_list		 fl;
	const struct folder_info	*fi;
	struct error			 err;

	md_folder("");
	md_folder(".Sent");
	md_folder("Lists/dev");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("new/2.host", "two@test", "Second", 2, NULL, NULL, NULL);
	md_write("cur/3.host:2,S", "three@test", "Third", 3, NULL, NULL,
	    NULL);
	md_write(".Sent/cur/4.host:2,S", "four@test", "Fourth", 4, NULL,
	    NULL, NULL);
	md_write(".Sent/cur/5.host:2,", "five@test", "Fifth", 5, NULL, NULL,
	    NULL);
	md_write("Lists/dev/new/6.host", "six@test", "Sixth", 6, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 6, 0);

	cr_assert_eq(ops->list_folders(be, &fl, &err), 0, "%s", err.msg);
	cr_assert_eq(fl.n, 3, "%zu folders", fl.n);
	cr_assert_str_eq(fl.v[0].name, "INBOX");
	fi = find_folder(&fl, "INBOX");
	cr_assert_eq(fi->total, 3);
	cr_assert_eq(fi->unread, 2);
	cr_assert_eq(fi->flags, 0);
	fi = find_folder(&fl, "Sent");
	cr_assert_str_eq(fi->query, "folder:\".Sent\"");
	cr_assert_eq(fi->total, 2);
	cr_assert_eq(fi->unread, 1);
	fi = find_folder(&fl, "Lists/dev");
	cr_assert_eq(fi->total, 1);
	cr_assert_eq(fi->unread, 1);

	/* The query of a folder opens exactly its messages. */
	cr_assert_eq(count_of(be, find_folder(&fl, "INBOX")->query), 3);
	cr_assert_eq(count_of(be, find_folder(&fl, "Sent")->query), 2);
	folder_list_free(&fl);
	cr_assert_eq(fl.n, 0);
	ops->close(&be);
}

Test(local, saved_searches_are_listed_after_folders_with_counts)
{
	const char *const	 searches[] = { "Todo", "tag:flagged",
				     "Alice", "from:alice@example.org",
				     NULL };
	struct backend		*be;
	struct folder_list	 fl;
	struct error		 err;

	md_folder("");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("cur/2.host:2,FS", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	md_write("cur/3.host:2,F", "three@test", "Third", 3,
	    "Carol <carol@example.org>", NULL, NULL);
	be = open_be(NULL, searches);
	sync_be(be, 3, 0);
	cr_assert_eq(ops->list_folders(be, &fl, &err), 0, "%s", err.msg);
	cr_assert_eq(fl.n, 3);
	cr_assert_str_eq(fl.v[1].name, "Todo");
	cr_assert_str_eq(fl.v[1].query, "tag:flagged");
	cr_assert_eq(fl.v[1].flags, FOLDER_SEARCH);
	cr_assert_eq(fl.v[1].total, 2);
	cr_assert_eq(fl.v[1].unread, 1);
	cr_assert_str_eq(fl.v[2].name, "Alice");
	cr_assert_eq(fl.v[2].total, 2);
	cr_assert_eq(fl.v[2].unread, 1);
	folder_list_free(&fl);
	ops->close(&be);
}

Test(local, views_sort_newest_or_oldest_first)
{
	struct backend		*be;
	struct summary_batch	 rows;

	md_folder("");
	md_write("cur/b:2,S", "b@test", "Middle", 2, NULL, NULL, NULL);
	md_write("cur/c:2,S", "c@test", "Newest", 3, NULL, NULL, NULL);
	md_write("cur/a:2,S", "a@test", "Oldest", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 3, 0);

	cr_assert_eq(read_view(be, "*", VIEW_NEWEST_FIRST, 0, &rows), 3);
	cr_assert_str_eq(rows.v[0].subject, "Newest");
	cr_assert_str_eq(rows.v[1].subject, "Middle");
	cr_assert_str_eq(rows.v[2].subject, "Oldest");
	cr_assert_gt(rows.v[0].date, rows.v[1].date);
	cr_assert_str_eq(rows.v[0].id, "c@test");
	summary_batch_free(&rows);

	cr_assert_eq(read_view(be, "", VIEW_OLDEST_FIRST, 0, &rows), 3);
	cr_assert_str_eq(rows.v[0].subject, "Oldest");
	cr_assert_str_eq(rows.v[2].subject, "Newest");
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, view_next_in_chunks_returns_every_row_once)
{
	struct backend		*be;
	struct summary_batch	 rows;
	struct view		*v;
	struct error		 err;
	char			 file[64], id[64];
	int			 i, seen[25];
	long			 got;
	size_t			 k;

	md_folder("");
	for (i = 0; i < 25; i++) {
		snprintf(file, sizeof file, "cur/%d.host:2,S", i);
		snprintf(id, sizeof id, "m%d@test", i);
		md_write(file, id, "Chunk", 1 + i, NULL, NULL, NULL);
	}
	be = open_be(NULL, NULL);
	sync_be(be, 25, 0);

	summary_batch_init(&rows);
	cr_assert_eq(ops->open_view(be, "*", VIEW_OLDEST_FIRST, 0, &v, &err),
	    0);
	cr_assert_eq(ops->view_count(v), 25);
	cr_assert_eq(ops->view_next(v, 7, &rows, &err), 7);
	cr_assert_eq(ops->view_next(v, 7, &rows, &err), 7);
	cr_assert_eq(ops->view_next(v, 7, &rows, &err), 7);
	cr_assert_eq(ops->view_next(v, 7, &rows, &err), 4);
	got = ops->view_next(v, 7, &rows, &err);
	cr_assert_eq(got, 0);
	ops->close_view(&v);

	memset(seen, 0, sizeof seen);
	for (k = 0; k < rows.n; k++) {
		cr_assert_eq(sscanf(rows.v[k].id, "m%d@test", &i), 1);
		cr_assert(i >= 0 && i < 25);
		seen[i]++;
		cr_assert_eq(i, (int)k, "row %zu is m%d", k, i);
	}
	for (i = 0; i < 25; i++)
		cr_assert_eq(seen[i], 1, "m%d seen %d times", i, seen[i]);
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, threads_view_groups_a_reply_chain_with_depths)
{
	struct backend		*be;
	struct summary_batch	 rows, msgs;
	struct error		 err;

	md_folder("");
	md_write("cur/1:2,S", "root@test", "Plans", 1, NULL, NULL, NULL);
	md_write("new/2", "reply@test", "Re: Plans", 2,
	    "Bob <bob@example.org>", "root@test", "<root@test>");
	md_write("new/3", "reply2@test", "Re: Re: Plans", 3, NULL,
	    "reply@test", "<root@test> <reply@test>");
	md_write("cur/4:2,S", "other@test", "Unrelated", 4, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 4, 0);

	cr_assert_eq(read_view(be, "*", VIEW_OLDEST_FIRST, VIEW_THREADS,
	    &rows), 2);
	cr_assert_str_eq(rows.v[0].subject, "Plans");
	cr_assert_eq(rows.v[0].thread_total, 3);
	cr_assert_eq(rows.v[0].thread_unread, 2);
	cr_assert(rows.v[0].flags & MSG_UNREAD);
	cr_assert_not_null(strstr(rows.v[0].from, "Bob"), "authors: %s",
	    rows.v[0].from);
	cr_assert_str_eq(rows.v[0].id, "root@test");
	cr_assert_eq(rows.v[1].thread_total, 1);
	cr_assert_eq(rows.v[1].thread_unread, 0);

	summary_batch_init(&msgs);
	cr_assert_eq(ops->thread_messages(be, rows.v[0].thread, NULL, &msgs,
	    &err), 0, "%s", err.msg);
	cr_assert_eq(msgs.n, 3);
	cr_assert_str_eq(msgs.v[0].id, "root@test");
	cr_assert_eq(msgs.v[0].depth, 0);
	cr_assert_str_eq(msgs.v[1].id, "reply@test");
	cr_assert_eq(msgs.v[1].depth, 1);
	cr_assert_str_eq(msgs.v[1].from, "Bob");
	cr_assert_str_eq(msgs.v[2].id, "reply2@test");
	cr_assert_eq(msgs.v[2].depth, 2);
	summary_batch_free(&msgs);
	summary_batch_free(&rows);

	/* Newest first, the row stands for the newest message. */
	read_view(be, "*", VIEW_NEWEST_FIRST, VIEW_THREADS, &rows);
	cr_assert_str_eq(rows.v[1].id, "reply2@test");
	summary_batch_free(&rows);

	cr_assert_eq(ops->thread_messages(be, "ffffffffffffffff", NULL, &msgs,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	ops->close(&be);
}

Test(local, malformed_query_is_a_config_error_in_notmuchs_words)
{
	struct backend	*be;
	struct view	*v = NULL;
	struct error	 err;

	md_folder("");
	be = open_be("deleted", NULL);
	cr_assert_eq(ops->open_view(be, "date:nonsense..", VIEW_NEWEST_FIRST,
	    0, &v, &err), -1);
	cr_assert_null(v);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_not_null(strstr(err.msg, "date:nonsense.."), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "date specification"), "%s",
	    err.msg);

	/* notmuch words only a handle's first error; later ones still
	   fail with the query named, and good queries still work. */
	cr_assert_eq(ops->open_view(be, "foo AND", VIEW_NEWEST_FIRST, 0, &v,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_not_null(strstr(err.msg, "foo AND"), "%s", err.msg);
	cr_assert_null(strstr(err.msg, "date"), "stale text: %s", err.msg);
	cr_assert_eq(count_of(be, "*"), 0);
	ops->close(&be);
}

Test(local, from_is_decoded_display_name_or_address)
{
	struct backend		*be;
	struct summary_batch	 rows;

	md_folder("");
	md_write("cur/1:2,S", "one@test", "A", 1,
	    "=?UTF-8?Q?Ren=C3=A9_Dupont?= <rene@example.org>", NULL, NULL);
	md_write("cur/2:2,S", "two@test", "B", 2, "<bare@example.org>", NULL,
	    NULL);
	md_write("cur/3:2,S", "three@test", "C", 3, "plain@example.org",
	    NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 3, 0);
	read_view(be, "*", VIEW_OLDEST_FIRST, 0, &rows);
	cr_assert_str_eq(rows.v[0].from, "René Dupont");
	cr_assert_str_eq(rows.v[1].from, "bare@example.org");
	cr_assert_str_eq(rows.v[2].from, "plain@example.org");
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, excluded_tags_hide_messages_unless_the_query_names_them)
{
	struct backend			*be;
	struct folder_list		 fl;
	struct error			 err;

	md_folder("");
	md_write("cur/1:2,S", "one@test", "Kept", 1, NULL, NULL, NULL);
	md_write("cur/2:2,S", "two@test", "Binned", 2, NULL, NULL, NULL);
	md_write("cur/3:2,ST", "three@test", "Trashed elsewhere", 3, NULL,
	    NULL, NULL);
	be = open_be("deleted spam", NULL);
	sync_be(be, 3, 0);
	set_flags(be, "two@test", MSG_DELETED, 0);

	cr_assert_eq(count_of(be, "*"), 1);
	cr_assert_eq(count_of(be, "tag:deleted"), 2);
	cr_assert_eq(ops->list_folders(be, &fl, &err), 0, "%s", err.msg);
	cr_assert_eq(fl.v[0].total, 1);
	folder_list_free(&fl);
	ops->close(&be);
}

Test(local, set_flags_changes_tags_and_maildir_info)
{
	struct backend		*be;
	struct summary_batch	 rows;
	char			*rel;

	md_folder("");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);

	set_flags(be, "one@test", MSG_FLAGGED, MSG_UNREAD);
	one_row(be, "id:one@test", &rows);
	cr_assert_eq(rows.v[0].flags, MSG_FLAGGED);
	summary_batch_free(&rows);
	rel = path_of(be, "one@test");
	cr_assert_str_eq(rel, "cur/1.host:2,FS");
	free(rel);
	cr_assert_not(md_exists("new/1.host"));

	set_flags(be, "one@test", MSG_UNREAD | MSG_REPLIED, MSG_FLAGGED);
	one_row(be, "id:one@test", &rows);
	cr_assert_eq(rows.v[0].flags, MSG_UNREAD | MSG_REPLIED);
	summary_batch_free(&rows);
	rel = path_of(be, "one@test");
	cr_assert_str_eq(rel, "cur/1.host:2,R");
	free(rel);

	/* What we wrote is what a later sync reads back. */
	sync_be(be, 0, 0);
	one_row(be, "id:one@test", &rows);
	cr_assert_eq(rows.v[0].flags, MSG_UNREAD | MSG_REPLIED);
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, deleted_flag_renames_file_with_maildir_T)
{
	struct backend		*be;
	struct summary_batch	 rows;
	char			*rel;

	md_folder("");
	md_write("cur/1.host:2,S", "one@test", "First", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);

	set_flags(be, "one@test", MSG_DELETED, 0);
	rel = path_of(be, "one@test");
	cr_assert_str_eq(rel, "cur/1.host:2,ST");
	free(rel);
	cr_assert(md_exists("cur/1.host:2,ST"));
	cr_assert_not(md_exists("cur/1.host:2,S"));
	one_row(be, "id:one@test", &rows);
	cr_assert_eq(rows.v[0].flags, MSG_DELETED);
	summary_batch_free(&rows);
	sync_be(be, 0, 0);

	set_flags(be, "one@test", MSG_FLAGGED, MSG_DELETED);
	rel = path_of(be, "one@test");
	cr_assert_str_eq(rel, "cur/1.host:2,FS");
	free(rel);
	cr_assert_not(md_exists("cur/1.host:2,ST"));
	one_row(be, "id:one@test", &rows);
	cr_assert_eq(rows.v[0].flags, MSG_FLAGGED);
	summary_batch_free(&rows);
	ops->close(&be);
}

Test(local, set_tags_adds_and_removes_free_tags)
{
	struct backend		*be;
	struct summary_batch	 rows;
	struct error		 err;
	const char		*ids[] = { "one@test", "gone@test" };

	md_folder("");
	md_write("cur/1:2,S", "one@test", "First", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);
	cr_assert_eq(ops->set_tags(be, ids, 2, "+work -inbox  +todo", &err),
	    0, "%s", err.msg);
	cr_assert_eq(ops->refresh(be, &err), 0);
	one_row(be, "id:one@test", &rows);
	cr_assert_str_eq(rows.v[0].tags, "todo work");
	summary_batch_free(&rows);

	cr_assert_eq(ops->set_tags(be, ids, 1, "work", &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_not_null(strstr(err.msg, "\"work\""), "%s", err.msg);
	ops->close(&be);
}

Test(local, missing_maildir_is_not_found_and_named)
{
	struct backend_params	 p;
	struct backend		*be = (struct backend *)&p;
	struct error		 err;
	char			 path[PATH_MAX];

	snprintf(path, sizeof path, "%s/nowhere", tmpdir);
	memset(&p, 0, sizeof p);
	p.maildir = path;
	p.nm_config = "";
	cr_assert_eq(ops->open(&be, &p, &err), -1);
	cr_assert_null(be);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	cr_assert_not_null(strstr(err.msg, path), "%s", err.msg);
}

Test(local, corrupt_index_is_an_io_error_that_says_how_to_rebuild)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	char			 path[PATH_MAX];
	FILE			*f;

	md_folder("");
	snprintf(path, sizeof path, "%s/.notmuch", maildir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.notmuch/xapian", maildir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/.notmuch/xapian/iamglass", maildir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("this is not a xapian database\n", f);
	fclose(f);

	memset(&p, 0, sizeof p);
	p.maildir = maildir;
	p.nm_config = "";
	cr_assert_eq(ops->open(&be, &p, &err), -1);
	cr_assert_null(be);
	cr_assert_eq(err.kind, ERR_IO);
	cr_assert_not_null(strstr(err.msg, "damaged"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "move"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "/.notmuch"), "%s", err.msg);
	/* The damaged index is left for the user. */
	cr_assert_eq(access(path, F_OK), 0);
}

Test(local, unreadable_or_non_mail_files_are_skipped_and_counted)
{
	struct backend	*be;
	char		 path[PATH_MAX];
	FILE		*f;

	md_folder("");
	md_write("cur/1:2,S", "one@test", "First", 1, NULL, NULL, NULL);
	snprintf(path, sizeof path, "%s/cur/empty:2,S", maildir);
	cr_assert_not_null(f = fopen(path, "w"));
	fclose(f);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);
	cr_assert_eq(local_sync_skipped(be), 1);
	ops->close(&be);
}

static size_t	progress_calls, progress_last, progress_total;

static void
on_progress(void *arg, size_t done, size_t total, const char *what)
{
	(void)arg;
	cr_assert_str_eq(what, "indexing");
	cr_assert_geq(done, progress_last);
	progress_calls++;
	progress_last = done;
	progress_total = total;
}

Test(local, sync_reports_progress_and_stops_when_cancelled)
{
	struct backend	*be;
	struct error	 err;
	volatile int	 cancel = 1;
	size_t		 added = 9, removed = 9;
	char		 file[64], id[64];
	int		 i;

	md_folder("");
	for (i = 0; i < 250; i++) {
		snprintf(file, sizeof file, "new/%d.host", i);
		snprintf(id, sizeof id, "m%d@test", i);
		md_write(file, id, "Bulk", 1 + i % 28, NULL, NULL, NULL);
	}
	be = open_be(NULL, NULL);
	cr_assert_eq(ops->sync(be, on_progress, NULL, &cancel, &added,
	    &removed, &err), -1);
	cr_assert_eq(err.kind, ERR_CANCELLED);
	cr_assert_eq(added, 0);

	cancel = 0;
	progress_calls = progress_last = 0;
	cr_assert_eq(ops->sync(be, on_progress, NULL, &cancel, &added,
	    &removed, &err), 0, "%s", err.msg);
	cr_assert_eq(added, 250);
	cr_assert_eq(progress_total, 250);
	cr_assert_eq(progress_last, 250);
	cr_assert(progress_calls >= 3 && progress_calls <= 5, "%zu calls",
	    progress_calls);
	cr_assert_eq(ops->refresh(be, &err), 0);
	cr_assert_eq(count_of(be, "tag:unread"), 250);
	ops->close(&be);
}

struct writer_arg {
	struct backend	*be;
	const char	*ids[20];
	int		 rounds;
	int		 failed;
	char		 msg[256];
	volatile int	 done;
};

static void *
writer_main(void *p)
{
	struct writer_arg	*wa = p;
	struct error		 err;
	int			 i;

	for (i = 0; i < wa->rounds && !wa->failed; i++) {
		if (ops->set_flags(wa->be, wa->ids, 20,
		    i % 2 == 0 ? MSG_FLAGGED : 0,
		    i % 2 == 0 ? 0 : MSG_FLAGGED, &err) != 0) {
			wa->failed = 1;
			snprintf(wa->msg, sizeof wa->msg, "%s", err.msg);
		}
	}
	wa->done = 1;
	return (NULL);
}

Test(local, reader_stays_usable_while_a_writer_runs_in_another_thread)
{
	static char		 ids[20][32];
	struct backend		*be;
	struct writer_arg	 wa;
	struct folder_list	 fl;
	struct error		 err;
	pthread_t		 t;
	char			 file[64];
	int			 i, reads = 0;

	md_folder("");
	memset(&wa, 0, sizeof wa);
	for (i = 0; i < 20; i++) {
		snprintf(file, sizeof file, "cur/%d.host:2,S", i);
		snprintf(ids[i], sizeof ids[i], "m%d@test", i);
		md_write(file, ids[i], "Busy", 1 + i, NULL, NULL, NULL);
		wa.ids[i] = ids[i];
	}
	be = open_be(NULL, NULL);
	sync_be(be, 20, 0);

	wa.be = be;
	wa.rounds = 6;
	cr_assert_eq(pthread_create(&t, NULL, writer_main, &wa), 0);
	while (!wa.done || reads == 0) {
		cr_assert_eq(ops->list_folders(be, &fl, &err), 0, "%s",
		    err.msg);
		cr_assert_eq(fl.v[0].total, 20);
		folder_list_free(&fl);
		cr_assert_eq(count_of(be, "*"), 20);
		reads++;
	}
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_not(wa.failed, "writer: %s", wa.msg);
	cr_assert_eq(ops->refresh(be, &err), 0);
	/* Six rounds: flagged, unflagged, ... ending unflagged. */
	cr_assert_eq(count_of(be, "tag:flagged"), 0);
	ops->close(&be);
}

/* Finds the notmuch program on PATH. */
static int
have_notmuch(void)
{
	const char	*path = getenv("PATH");
	char		*copy, *dir, *save = NULL, prog[PATH_MAX];
	int		 found = 0;

	if (path == NULL)
		path = "/usr/bin:/bin";
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(prog, sizeof prog, "%s/notmuch", dir);
		found = access(prog, X_OK) == 0;
	}
	free(copy);
	return (found);
}

Test(local, notmuch_cli_sees_tags_that_set_flags_wrote)
{
	struct backend	*be;
	char		 config[PATH_MAX], cmd[2 * PATH_MAX], line[256];
	FILE		*f, *p;

	cr_assert(have_notmuch(), "the notmuch program is not on PATH: "
	    "install the Debian package notmuch (contrib/check does)");
	md_folder("");
	md_write("cur/1:2,S", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("cur/2:2,S", "two@test", "Second", 2, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 2, 0);
	set_flags(be, "two@test", MSG_FLAGGED, 0);

	snprintf(config, sizeof config, "%s/notmuch-config", tmpdir);
	cr_assert_not_null(f = fopen(config, "w"));
	fprintf(f, "[database]\npath=%s\n", maildir);
	fclose(f);
	snprintf(cmd, sizeof cmd, "NOTMUCH_CONFIG='%s' notmuch search "
	    "--output=messages tag:flagged 2>&1", config);
	cr_assert_not_null(p = popen(cmd, "r"));
	cr_assert_not_null(fgets(line, sizeof line, p), "no output");
	line[strcspn(line, "\n")] = '\0';
	cr_assert_str_eq(line, "id:two@test");
	cr_assert_null(fgets(line, sizeof line, p), "extra: %s", line);
	cr_assert_eq(pclose(p), 0);
	ops->close(&be);
}

Test(local, move_puts_the_file_in_the_target_folder_and_keeps_tags)
{
	struct backend	*be;
	struct error	 err;
	const char	*ids[] = { "two@test" };
	char		*rel;

	md_folder("");
	md_folder(".Archive");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	md_write("cur/2.host:2,S", "two@test", "Second", 2, NULL, NULL,
	    NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 2, 0);
	set_flags(be, "two@test", MSG_FLAGGED, 0);

	error_clear(&err);
	cr_assert_eq(ops->move(be, ids, 1, "Archive", &err), 0, "move: %s",
	    err.msg);
	cr_assert_eq(ops->refresh(be, &err), 0, "%s", err.msg);
	cr_assert(md_exists(".Archive/cur/2.host:2,FS"));
	cr_assert_not(md_exists("cur/2.host:2,FS"));
	rel = path_of(be, "two@test");
	cr_assert_str_eq(rel, ".Archive/cur/2.host:2,FS");
	free(rel);
	cr_assert_eq(count_of(be, "folder:\".Archive\""), 1);
	cr_assert_eq(count_of(be, "folder:\"\""), 1);
	cr_assert_eq(count_of(be, "tag:flagged"), 1);
	/* Nothing changed on disk that a sync would have to repair. */
	sync_be(be, 0, 0);

	/* Back to the top folder, by its shown name. */
	cr_assert_eq(ops->move(be, ids, 1, "INBOX", &err), 0, "%s", err.msg);
	cr_assert_eq(ops->refresh(be, &err), 0, "%s", err.msg);
	cr_assert(md_exists("cur/2.host:2,FS"));
	cr_assert_eq(count_of(be, "folder:\"\""), 2);
	ops->close(&be);
}

Test(local, move_to_an_unknown_folder_is_an_error_and_moves_nothing)
{
	struct backend	*be;
	struct error	 err;
	const char	*ids[] = { "one@test" };

	md_folder("");
	md_write("new/1.host", "one@test", "First", 1, NULL, NULL, NULL);
	be = open_be(NULL, NULL);
	sync_be(be, 1, 0);
	error_clear(&err);
	cr_assert_eq(ops->move(be, ids, 1, "Nowhere", &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	cr_assert_str_eq(err.msg, "no folder named 'Nowhere'");
	cr_assert(md_exists("new/1.host"));
	ops->close(&be);
}
