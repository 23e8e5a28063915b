/*
 * Folders of the local backend: the Maildir folders found on disk (the
 * root as INBOX, Maildir++ ".Sub" folders and nested "Dir/cur" folders)
 * and the saved searches, each with notmuch counts.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/local/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct local_names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

/* Appends a copy of s. */
static void
local_names_add(struct local_names *names, const char *s)
{
	if (names->n == names->cap) {
		names->cap = names->cap == 0 ? 16 : names->cap * 2;
		names->v = xreallocarray(names->v, names->cap,
		    sizeof *names->v);
	}
	names->v[names->n++] = xstrdup(s);
}

/* Tells whether path/name is a directory (following links). */
static int
local_is_dir(const char *path, const char *name)
{
	struct stat	 sb;
	char		*p;
	int		 rv;

	xasprintf(&p, "%s/%s", path, name);
	rv = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	return (rv);
}

/* Adds rel if it is a Maildir folder, then walks its subdirectories. */
static int
local_folders_walk(const char *root, const char *rel, int depth,
    struct local_names *names, struct error *err)
{
	DIR		*d;
	struct dirent	*de;
	char		*path, *sub;
	int		 rv = 0;

	if (*rel == '\0')
		path = xstrdup(root);
	else
		xasprintf(&path, "%s/%s", root, rel);
	if (local_is_dir(path, "cur") && local_is_dir(path, "new"))
		local_names_add(names, rel);
	if (depth >= LOCAL_MAX_DEPTH) {
		free(path);
		return (0);
	}

	if ((d = opendir(path)) == NULL) {
		if (*rel == '\0')
			rv = error_set(err, ERR_IO, "%s: %s", path,
			    strerror(errno));
		else
			log_warn("%s", path);
		free(path);
		return (rv);
	}
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".notmuch") == 0 ||
		    strcmp(de->d_name, "cur") == 0 ||
		    strcmp(de->d_name, "new") == 0 ||
		    strcmp(de->d_name, "tmp") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK &&
		    de->d_type != DT_UNKNOWN)
			continue;
		if (!local_is_dir(path, de->d_name))
			continue;
		if (*rel == '\0')
			sub = xstrdup(de->d_name);
		else
			xasprintf(&sub, "%s/%s", rel, de->d_name);
		rv = local_folders_walk(root, sub, depth + 1, names, err);
		free(sub);
	}
	closedir(d);
	free(path);
	return (rv);
}

/* Orders folder paths bytewise; "" (the root) comes first. */
static int
local_names_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Finds the Maildir folders below root, as sorted relative paths. */
int
local_folders_scan(const char *root, char ***out, size_t *n,
    struct error *err)
{
	struct local_names	names = { NULL, 0, 0 };
	size_t			i;

	*out = NULL;
	*n = 0;
	if (local_folders_walk(root, "", 0, &names, err) != 0) {
		for (i = 0; i < names.n; i++)
			free(names.v[i]);
		free(names.v);
		return (-1);
	}
	if (names.n > 1)
		qsort(names.v, names.n, sizeof *names.v, local_names_cmp);
	*out = names.v;
	*n = names.n;
	return (0);
}

/* Counts the messages of qs (excluded tags left out) and its unread. */
static int
local_count(struct backend *be, const char *qs, unsigned long *total,
    unsigned long *unread, struct error *err)
{
	notmuch_query_t	*q;
	unsigned	 count;
	char		*uqs;

	if ((q = local_query_new(be, qs, 0, &count, err)) == NULL)
		return (-1);
	notmuch_query_destroy(q);
	*total = count;

	xasprintf(&uqs, "(%s) and tag:unread", qs);
	q = local_query_new(be, uqs, 0, &count, err);
	free(uqs);
	if (q == NULL)
		return (-1);
	notmuch_query_destroy(q);
	*unread = count;
	return (0);
}

/* Builds folder:"rel" with the quotes inside rel doubled. */
static char *
local_folder_query(const char *rel)
{
	struct buf	b;

	buf_init(&b);
	buf_adds(&b, "folder:\"");
	for (; *rel != '\0'; rel++) {
		if (*rel == '"')
			buf_addc(&b, '"');
		buf_addc(&b, *rel);
	}
	buf_addc(&b, '"');
	return (buf_steal(&b));
}

/* Appends an entry to the list, taking name and query. */
static struct folder_info *
local_folder_add(struct folder_list *fl, char *name, char *query,
    unsigned flags)
{
	struct folder_info	*fi;

	fl->v = xreallocarray(fl->v, fl->n + 1, sizeof *fl->v);
	fi = &fl->v[fl->n++];
	fi->name = name;
	fi->query = query;
	fi->total = fi->unread = 0;
	fi->flags = flags;
	return (fi);
}

/* Lists the Maildir folders, then the saved searches, with counts. */
int
local_list_folders(struct backend *be, struct folder_list *fl,
    struct error *err)
{
	struct folder_info	 *fi;
	char			**rels, *name;
	size_t			  n, i;
	int			  rv = 0;

	fl->v = NULL;
	fl->n = 0;
	if (local_folders_scan(be->root, &rels, &n, err) != 0)
		return (-1);
	for (i = 0; i < n; i++) {
		if (rv == 0) {
			if (*rels[i] == '\0')
				name = xstrdup("INBOX");
			else if (*rels[i] == '.')
				name = xstrdup(rels[i] + 1);
			else
				name = xstrdup(rels[i]);
			fi = local_folder_add(fl, name,
			    local_folder_query(rels[i]), 0);
			rv = local_count(be, fi->query, &fi->total,
			    &fi->unread, err);
		}
		free(rels[i]);
	}
	free(rels);

	for (i = 0; rv == 0 && be->searches[i] != NULL; i += 2) {
		fi = local_folder_add(fl, xstrdup(be->searches[i]),
		    xstrdup(be->searches[i + 1]), FOLDER_SEARCH);
		rv = local_count(be, fi->query, &fi->total, &fi->unread, err);
	}
	if (rv != 0)
		folder_list_free(fl);
	return (rv);
}
