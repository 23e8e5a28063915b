/*
 * Indexing files that another part of facteur delivered into the Maildir
 * (the POP3 fetcher): one writer session per batch, the new-mail tags the
 * caller asks for, then the Maildir flags. Readers see the batch once the
 * session closed.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/local/local.h"
#include "backend/local/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Indexes files of the Maildir with new-mail tags (see local.h). */
int
local_index_files(struct backend *be, const char *const *paths, size_t n,
    const char *tags, struct error *err)
{
	notmuch_database_t	 *db;
	notmuch_message_t	 *m;
	notmuch_status_t	  st, st2;
	char			**words;
	size_t			  i;
	int			  rv = 0;

	if (n == 0)
		return (0);
	if (local_writer_open(be, &db, err) != 0)
		return (-1);
	words = local_split_words(tags);
	for (i = 0; i < n && rv == 0; i++) {
		m = NULL;
		st = notmuch_database_begin_atomic(db);
		if (st != NOTMUCH_STATUS_SUCCESS) {
			rv = local_nm_error(err, db, st, "%s", paths[i]);
			break;
		}
		st = notmuch_database_index_file(db, paths[i], NULL, &m);
		switch (st) {
		case NOTMUCH_STATUS_SUCCESS:
			st = local_tag_new(m, (const char *const *)words,
			    paths[i]);
			break;
		case NOTMUCH_STATUS_DUPLICATE_MESSAGE_ID:
			/* Indexed before, or a copy of a known message. */
			st = NOTMUCH_STATUS_SUCCESS;
			break;
		case NOTMUCH_STATUS_FILE_NOT_EMAIL:
			log_warnx("%s: delivered but not indexed: %s",
			    paths[i], notmuch_status_to_string(st));
			st = NOTMUCH_STATUS_SUCCESS;
			break;
		default:
			break;
		}
		if (m != NULL)
			notmuch_message_destroy(m);
		st2 = notmuch_database_end_atomic(db);
		if (st == NOTMUCH_STATUS_SUCCESS)
			st = st2;
		if (st != NOTMUCH_STATUS_SUCCESS)
			rv = local_nm_error(err, db, st, "indexing %s",
			    paths[i]);
	}
	local_free_words(&words);
	if (local_writer_close(be, &db, rv == 0 ? err : NULL) != 0)
		rv = -1;
	return (rv);
}
