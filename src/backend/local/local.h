/*
 * Extras of the local backend (a Maildir indexed by notmuch) beyond the
 * common table in backend/backend.h, for callers that know an account is
 * local. The table itself is local_backend_ops.
 *
 * Threading: [reader] operations use one READ_ONLY notmuch handle and run
 * on the main thread only; [worker] operations open their own READ_WRITE
 * handle and close it before they return (closing is notmuch's only
 * commit), so they run on the account's worker, one at a time, and block
 * while another program (notmuch new, another facteur) writes. After a
 * worker operation, call refresh on the main thread, then reopen views:
 * a view opened before a refresh must not be read after it.
 *
 * sync counts in *added the messages that are new to the index and in
 * *removed those that left it; a file that was only renamed or moved
 * (flags changed by another client) counts as neither. A new message
 * gets the tags inbox and unread, then its Maildir flags (S, F, R, D, P;
 * T adds deleted). Files that cannot be read, or are not mail, are
 * skipped with a warning in the log and counted.
 *
 * set_flags and set_tags ignore ids that are no longer in the index. Both
 * rename files so that the Maildir info follows the tags (S, F, R, D, P by
 * notmuch; T for the tag deleted by this backend); a file still unread in
 * new/ stays there. A malformed set_tags string is ERR_CONFIG.
 *
 * Errors: a missing Maildir is ERR_NOTFOUND; a damaged index is ERR_IO
 * with a message that says how to rebuild it (the index is never deleted
 * here); a query notmuch cannot parse is ERR_CONFIG naming the query, in
 * notmuch's words when notmuch gives them (it words only the first parse
 * error of a handle). Most malformed queries just match nothing: notmuch's
 * parser is lenient.
 *
 * Cost: open_view counts at open. Counting messages is fast; counting
 * threads reads every matching message (about 0.2 s per 20 000 here), and
 * so does the first view_next of a threads view.
 */
#ifndef FACTEUR_BACKEND_LOCAL_H
#define FACTEUR_BACKEND_LOCAL_H

#include <stddef.h>

#include "backend/backend.h"

/* Files the last sync skipped because they could not be indexed. */
size_t	local_sync_skipped(const struct backend *);

/*
 * [worker] Copies the message file at path into folder (".Sent", created
 * with cur/new/tmp if missing) as cur/NAME:2,flags_info, durably, and
 * indexes it with the space-separated tags added. ERR_IO, ERR_CONFIG for
 * a folder name with "/" or "..".
 */
int	local_append_file(struct backend *, const char *folder,
	    const char *path, const char *flags_info, const char *tags,
	    struct error *);

/*
 * [worker] Indexes files already delivered into the Maildir (absolute
 * paths under its root) in one writer session, giving each message new
 * to the index the tag changes in tags ("+inbox +unread +work") and then
 * its Maildir flags. A message already indexed is left as it is; a file
 * that is not mail stays unindexed with a warning in the log.
 */
int	local_index_files(struct backend *, const char *const *, size_t,
	    const char *, struct error *);

#endif
