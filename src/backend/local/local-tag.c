/*
 * Changing tags and flags in the local backend, on the worker: one
 * READ_WRITE session per call, then notmuch renames the files so that
 * their Maildir info (S, F, R, D, P) follows the tags. The 'T' (trashed)
 * flag notmuch leaves alone follows the tag deleted here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/local/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

static const struct {
	unsigned	 flag;
	const char	*tag;
} local_flag_tags[] = {
	{ MSG_UNREAD, "unread" },
	{ MSG_FLAGGED, "flagged" },
	{ MSG_REPLIED, "replied" },
	{ MSG_DELETED, "deleted" },
	{ MSG_DRAFT, "draft" },
	{ MSG_PASSED, "passed" },
};

/* Orders Maildir info letters in ASCII order. */
static int
local_char_cmp(const void *a, const void *b)
{
	return (*(const char *)a - *(const char *)b);
}

/* The name path should have so that it carries 'T' iff want, or NULL
   when it already does or is not in a Maildir cur/ or new/ directory. */
static char *
local_trash_name(const char *path, int want)
{
	const char	*base, *dir, *info;
	char		 letters[64], *out;
	size_t		 dirlen, n = 0, i;
	int		 has;

	if ((base = strrchr(path, '/')) == NULL)
		return (NULL);
	for (dir = base; dir > path && dir[-1] != '/'; dir--)
		;
	dirlen = base - dir;
	if (dirlen != 3 || (strncmp(dir, "cur", 3) != 0 &&
	    strncmp(dir, "new", 3) != 0))
		return (NULL);
	base++;

	info = strstr(base, ":2,");
	has = info != NULL && strchr(info + 3, 'T') != NULL;
	if (has == want)
		return (NULL);
	if (info != NULL) {
		for (i = 0; info[3 + i] != '\0' && n < sizeof letters - 2;
		    i++) {
			if (info[3 + i] != 'T' &&
			    memchr(letters, info[3 + i], n) == NULL)
				letters[n++] = info[3 + i];
		}
	} else
		info = base + strlen(base);
	if (want)
		letters[n++] = 'T';
	qsort(letters, n, 1, local_char_cmp);
	letters[n] = '\0';
	/* A file in new/ moves to cur/, as Maildir wants once it has info. */
	xasprintf(&out, "%.*scur/%.*s:2,%s", (int)(dir - path), path,
	    (int)(info - base), base, letters);
	return (out);
}

/* Gives each file of *mp the 'T' flag iff the message is tagged deleted:
   renames it and tells notmuch (new name indexed, old one dropped). *mp
   is looked up again, since files may have moved. */
int
local_trash_sync(notmuch_database_t *db, notmuch_message_t **mp,
    struct error *err)
{
	notmuch_tags_t		*tags;
	notmuch_status_t	 st;
	char			*id, **files, *to;
	size_t			 i;
	int			 want = 0, rv = 0;

	tags = notmuch_message_get_tags(*mp);
	for (; notmuch_tags_valid(tags); notmuch_tags_move_to_next(tags)) {
		if (strcmp(notmuch_tags_get(tags), "deleted") == 0)
			want = 1;
	}
	notmuch_tags_destroy(tags);

	id = xstrdup(notmuch_message_get_message_id(*mp));
	notmuch_message_destroy(*mp);
	st = notmuch_database_find_message(db, id, mp);
	if (st != NOTMUCH_STATUS_SUCCESS || *mp == NULL) {
		rv = local_nm_error(err, db, st, "message %s", id);
		free(id);
		return (rv);
	}
	files = local_message_files(*mp);

	for (i = 0; files[i] != NULL && rv == 0; i++) {
		if ((to = local_trash_name(files[i], want)) == NULL)
			continue;
		if (access(to, F_OK) == 0) {
			log_warnx("%s: exists, not renaming %s", to, files[i]);
			free(to);
			continue;
		}
		if (rename(files[i], to) != 0) {
			rv = error_set(err, ERR_IO, "rename %s: %s", files[i],
			    strerror(errno));
			free(to);
			continue;
		}
		rv = local_reindex(db, files[i], to, err);
		free(to);
	}
	local_free_words(&files);
	free(id);
	return (rv);
}

/* Applies one message's tag changes and syncs its Maildir flags. */
static int
local_tag_message(notmuch_database_t *db, const char *id, char *const *add,
    char *const *rm, struct error *err)
{
	notmuch_message_t	*m;
	notmuch_status_t	 st;
	size_t			 i;
	int			 rv;

	st = notmuch_database_find_message(db, id, &m);
	if (st != NOTMUCH_STATUS_SUCCESS)
		return (local_nm_error(err, db, st, "message %s", id));
	if (m == NULL) {
		log_warnx("message %s: not in the index, not changed", id);
		return (0);
	}
	if ((st = notmuch_message_freeze(m)) != NOTMUCH_STATUS_SUCCESS)
		goto fail;
	for (i = 0; rm[i] != NULL && st == NOTMUCH_STATUS_SUCCESS; i++)
		st = notmuch_message_remove_tag(m, rm[i]);
	for (i = 0; add[i] != NULL && st == NOTMUCH_STATUS_SUCCESS; i++)
		st = notmuch_message_add_tag(m, add[i]);
	if (st != NOTMUCH_STATUS_SUCCESS) {
		notmuch_message_thaw(m);
		goto fail;
	}
	if ((st = notmuch_message_thaw(m)) != NOTMUCH_STATUS_SUCCESS)
		goto fail;
	if ((st = notmuch_message_tags_to_maildir_flags(m)) !=
	    NOTMUCH_STATUS_SUCCESS)
		goto fail;
	rv = local_trash_sync(db, &m, err);
	if (m != NULL)
		notmuch_message_destroy(m);
	return (rv);

fail:
	notmuch_message_destroy(m);
	return (local_nm_error(err, db, st, "message %s", id));
}

/* Applies tag changes to messages in one writer session. */
static int
local_tag_apply(struct backend *be, const char *const *ids, size_t n,
    char *const *add, char *const *rm, struct error *err)
{
	notmuch_database_t	*db;
	notmuch_status_t	 st;
	size_t			 i;
	int			 rv = 0;

	if (n == 0)
		return (0);
	if (local_writer_open(be, &db, err) != 0)
		return (-1);
	if ((st = notmuch_database_begin_atomic(db)) != NOTMUCH_STATUS_SUCCESS)
		rv = local_nm_error(err, db, st, "%s", be->root);
	for (i = 0; rv == 0 && i < n; i++)
		rv = local_tag_message(db, ids[i], add, rm, err);
	if (st == NOTMUCH_STATUS_SUCCESS) {
		st = notmuch_database_end_atomic(db);
		if (rv == 0 && st != NOTMUCH_STATUS_SUCCESS)
			rv = local_nm_error(err, db, st, "%s", be->root);
	}
	if (local_writer_close(be, &db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	return (rv);
}

/* Adds and removes MSG_* flags as tags; add wins over remove. */
int
local_set_flags(struct backend *be, const char *const *ids, size_t n,
    unsigned add, unsigned remove, struct error *err)
{
	char	*a[nitems(local_flag_tags) + 1];
	char	*r[nitems(local_flag_tags) + 1];
	size_t	 na = 0, nr = 0, i;

	for (i = 0; i < nitems(local_flag_tags); i++) {
		if (add & local_flag_tags[i].flag)
			a[na++] = (char *)local_flag_tags[i].tag;
		else if (remove & local_flag_tags[i].flag)
			r[nr++] = (char *)local_flag_tags[i].tag;
	}
	a[na] = r[nr] = NULL;
	return (local_tag_apply(be, ids, n, a, r, err));
}

/* Applies "+a -b" tag changes. */
int
local_set_tags(struct backend *be, const char *const *ids, size_t n,
    const char *changes, struct error *err)
{
	char	**words, **a, **r;
	size_t	  i, na = 0, nr = 0;
	int	  rv = 0;

	words = local_split_words(changes);
	for (i = 0; words[i] != NULL; i++)
		;
	a = xcalloc(i + 1, sizeof *a);
	r = xcalloc(i + 1, sizeof *r);
	for (i = 0; rv == 0 && words[i] != NULL; i++) {
		if ((words[i][0] != '+' && words[i][0] != '-') ||
		    words[i][1] == '\0')
			rv = error_set(err, ERR_CONFIG,
			    "bad tag change \"%s\": use +tag or -tag",
			    words[i]);
		else if (strlen(words[i] + 1) > NOTMUCH_TAG_MAX)
			rv = error_set(err, ERR_CONFIG,
			    "tag too long: %.40s...", words[i] + 1);
		else if (words[i][0] == '+')
			a[na++] = words[i] + 1;
		else
			r[nr++] = words[i] + 1;
	}
	if (rv == 0 && na + nr == 0)
		rv = error_set(err, ERR_CONFIG, "no tag change given");
	if (rv == 0)
		rv = local_tag_apply(be, ids, n, a, r, err);
	free(a);
	free(r);
	local_free_words(&words);
	return (rv);
}
