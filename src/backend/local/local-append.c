/*
 * Appending a message file to a folder of the local Maildir and indexing
 * it: how a sent message reaches the Sent folder (and a postponed one
 * Drafts). The copy is fsync'd, file and directory, before it is indexed.
 * Also what src/send needs besides: a sent draft removed, the addresses
 * of recent messages for completion.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/local/local-append.h"
#include "backend/local/local.h"
#include "backend/local/private.h"
#include "core/xmalloc.h"

/* Creates folder/{cur,new,tmp} as needed. */
static int
local_append_mkdirs(const char *dir, struct error *err)
{
	static const char	*subs[] = { "", "/cur", "/new", "/tmp" };
	char			*p;
	size_t			 i;

	for (i = 0; i < nitems(subs); i++) {
		xasprintf(&p, "%s%s", dir, subs[i]);
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			error_set(err, ERR_IO, "%s: %s", p, strerror(errno));
			free(p);
			return (-1);
		}
		free(p);
	}
	return (0);
}

/* Copies src into tmp/ then cur/ durably; returns the final path. */
static char *
local_append_copy(const char *src, const char *dir, const char *info,
    struct error *err)
{
	static unsigned	 seq;
	struct timespec	 ts;
	char		 buf[65536], *tmp, *dst, *curdir;
	ssize_t		 n;
	int		 in, out = -1, fd;

	clock_gettime(CLOCK_REALTIME, &ts);
	xasprintf(&tmp, "%s/tmp/%lld.M%ldP%dQ%u.facteur", dir,
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(), seq);
	xasprintf(&dst, "%s/cur/%lld.M%ldP%dQ%u.facteur:2,%s", dir,
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(), seq++,
	    info != NULL ? info : "");
	xasprintf(&curdir, "%s/cur", dir);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		goto fail;
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			goto fail;
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		goto fail;
	}
	out = -1;
	close(in);
	in = -1;
	if (rename(tmp, dst) != 0)
		goto fail;
	if ((fd = open(curdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	free(tmp);
	free(curdir);
	return (dst);
fail:
	error_set(err, ERR_IO, "saving to %s: %s", dir, strerror(errno));
	if (in != -1)
		close(in);
	if (out != -1)
		close(out);
	unlink(tmp);
	free(tmp);
	free(dst);
	free(curdir);
	return (NULL);
}

int
local_append_file(struct backend *be, const char *folder, const char *path,
    const char *flags_info, const char *tags, struct error *err)
{
	notmuch_database_t	*db = NULL;
	notmuch_message_t	*m = NULL;
	notmuch_status_t	 st;
	char			*dir, *dst, **words, **w;
	int			 rv = 0;

	if (folder == NULL || strstr(folder, "..") != NULL ||
	    strchr(folder, '/') != NULL)
		return (error_set(err, ERR_CONFIG, "bad folder name '%s'",
		    folder != NULL ? folder : ""));
	xasprintf(&dir, "%s/%s", be->root, folder);
	if (local_append_mkdirs(dir, err) != 0 ||
	    (dst = local_append_copy(path, dir, flags_info, err)) == NULL) {
		free(dir);
		return (-1);
	}
	free(dir);
	if (local_writer_open(be, &db, err) != 0) {
		free(dst);
		return (-1);
	}
	st = notmuch_database_index_file(db, dst, NULL, &m);
	if (st != NOTMUCH_STATUS_SUCCESS &&
	    st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
		rv = local_nm_error(err, db, st, "indexing %s", dst);
	else if (m != NULL && tags != NULL) {
		words = local_split_words(tags);
		for (w = words; w != NULL && *w != NULL; w++)
			notmuch_message_add_tag(m, *w);
		local_free_words(&words);
	}
	if (m != NULL)
		notmuch_message_destroy(m);
	if (local_writer_close(be, &db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	free(dst);
	return (rv);
}

/* The query for addresses starting with prefix, or NULL for all. */
static char *
local_address_query(const char *prefix)
{
	const char	*p;
	char		*q;

	if (prefix == NULL || *prefix == '\0')
		return (NULL);
	for (p = prefix; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_+@", *p) == NULL)
			return (NULL);
	xasprintf(&q, "from:%s* or to:%s* or cc:%s*", prefix, prefix,
	    prefix);
	return (q);
}

int
local_recent_headers(struct backend *be, const char *prefix, size_t max,
    char ***out, size_t *n, struct error *err)
{
	static const char	*names[] = { "from", "to", "cc" };
	notmuch_query_t		*q;
	notmuch_messages_t	*ms = NULL;
	notmuch_message_t	*m;
	const char		*h;
	char			*qs, **v = NULL;
	size_t			 nv = 0, seen = 0, i;
	unsigned		 count;

	*out = NULL;
	*n = 0;
	if (be == NULL || be->ro == NULL)
		return (0);
	qs = local_address_query(prefix);
	q = local_query_new(be, qs != NULL ? qs : "*", 0, &count, err);
	free(qs);
	if (q == NULL)
		return (-1);
	notmuch_query_set_sort(q, NOTMUCH_SORT_NEWEST_FIRST);
	if (notmuch_query_search_messages(q, &ms) != NOTMUCH_STATUS_SUCCESS) {
		notmuch_query_destroy(q);
		return (error_set(err, ERR_IO, "address query failed"));
	}
	for (; notmuch_messages_valid(ms) && seen < max;
	    notmuch_messages_move_to_next(ms), seen++) {
		m = notmuch_messages_get(ms);
		for (i = 0; i < nitems(names); i++) {
			h = notmuch_message_get_header(m, names[i]);
			if (h == NULL || *h == '\0')
				continue;
			v = xreallocarray(v, nv + 1, sizeof *v);
			v[nv++] = xstrdup(h);
		}
		notmuch_message_destroy(m);
	}
	notmuch_query_destroy(q);
	*out = v;
	*n = nv;
	return (0);
}

void
local_headers_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
local_remove_file(struct backend *be, const char *path, struct error *err)
{
	notmuch_database_t	*db = NULL;
	notmuch_status_t	 st;
	size_t			 n = strlen(be->root);
	int			 rv = 0;

	if (strncmp(path, be->root, n) != 0 || path[n] != '/' ||
	    strstr(path, "/../") != NULL)
		return (error_set(err, ERR_CONFIG, "%s is not in %s", path,
		    be->root));
	if (local_writer_open(be, &db, err) != 0)
		return (-1);
	st = notmuch_database_remove_message(db, path);
	if (st != NOTMUCH_STATUS_SUCCESS &&
	    st != NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID)
		rv = local_nm_error(err, db, st, "removing %s", path);
	if (local_writer_close(be, &db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	if (rv == 0 && unlink(path) != 0 && errno != ENOENT)
		rv = error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	return (rv);
}
