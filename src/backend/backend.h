/*
 * The table of operations every mail backend implements, and the plain
 * data it hands back. The UI and the model only ever see this header:
 * which protocol is behind a folder is the backend's business.
 *
 * Threading contract: operations marked [worker] may block (disk,
 * network) and run only on the account's worker thread. Operations
 * marked [reader] are bounded, local reads (an index lookup, a few dozen
 * rows) that the main thread may call directly; a backend without a fast
 * local index leaves them NULL and the core fetches through the worker.
 */
#ifndef FACTEUR_BACKEND_H
#define FACTEUR_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

/* Message flags, the same for every backend. */
#define MSG_UNREAD	0x01
#define MSG_FLAGGED	0x02
#define MSG_REPLIED	0x04
#define MSG_DELETED	0x08	/* trashed: hidden after a sync */
#define MSG_ATTACHMENT	0x10
#define MSG_DRAFT	0x20
#define MSG_PASSED	0x40

/* The notmuch tags (and tag: search terms) that stand for the flags a
   user sets; msg_tag_flags ends with a NULL tag. */
struct msg_tag_flag {
	const char	*tag;
	unsigned	 flag;
};
extern const struct msg_tag_flag msg_tag_flags[];

/* One row of an index: a message, or a collapsed thread. */
struct summary {
	char		*id;		/* backend key: notmuch message id */
	char		*thread;	/* thread key */
	char		*from;		/* decoded display name or address */
	char		*subject;	/* decoded; NOT sanitised */
	char		*tags;		/* space-separated, "" if none */
	char		*path;		/* a file of the message, or NULL */
	int64_t		 date;		/* seconds since the epoch */
	unsigned	 flags;		/* MSG_* */
	unsigned	 depth;		/* depth in its thread, 0 = root */
	unsigned	 thread_total;	/* messages in the thread (threads view) */
	unsigned	 thread_unread;
};

/* An owned array of summaries; summary_batch_free frees the strings. */
struct summary_batch {
	struct summary	*v;
	size_t		 n;
	size_t		 cap;
};
void	summary_batch_init(struct summary_batch *);
void	summary_batch_free(struct summary_batch *);
/* Appends a row; strings are copied. Returns the new row. */
struct summary *summary_batch_add(struct summary_batch *,
	    const struct summary *);

/* A folder: a Maildir folder or a saved search. */
#define FOLDER_SEARCH	0x01	/* a saved search, not a folder on disk */
#define FOLDER_SUBSCRIBED 0x02	/* imap: on the server's subscribed list */
struct folder_info {
	char		*name;		/* shown to the user */
	char		*query;		/* what open_view takes */
	unsigned long	 total;
	unsigned long	 unread;
	unsigned	 flags;		/* FOLDER_* */
};
struct folder_list {
	struct folder_info	*v;
	size_t			 n;
};
void	folder_list_free(struct folder_list *);

enum view_order {
	VIEW_NEWEST_FIRST,
	VIEW_OLDEST_FIRST,
};
#define VIEW_THREADS	0x01	/* one row per thread */
#define VIEW_COUNT_UNKNOWN	((size_t)-1)

/* What a backend is opened with (filled from the config). */
struct backend_params {
	const char	*name;		/* account name */
	const char	*maildir;	/* local: the Maildir root */
	const char	*nm_config;	/* local: notmuch config path; "" = none,
					   NULL = notmuch's own lookup */
	const char	*exclude_tags;	/* space-separated, e.g. "deleted spam" */
	const char	*const *searches; /* NAME, QUERY pairs, NULL-ended */
	/* Called from any thread when the store changed behind the open
	   views (rows fetched in the background, IDLE push): the core
	   reloads on the loop thread. May be NULL. */
	void		(*notify)(void *, unsigned what);
	void		*notify_arg;
	/* imap: the server and how to log in. */
	const char	*imap;		/* imaps://host[:port], imap://... */
	const char	*user;
	const char	*password;	/* in memory only; NULL: password_cmd,
					   else ERR_AUTH so the UI asks */
	const char	*password_cmd;	/* run on the worker, first line */
	const char	*tls;		/* "off": plain text; else verified */
	const char	*tls_ca_file;	/* extra trusted CAs, or NULL */
	const char	*pin_file;	/* keys the user pinned, or NULL */
	const char	*cache_dir;	/* header and body cache, or NULL */
	int		 poll_secs;	/* imap: other folders' counts asked
					   this often where the server cannot
					   push them; 0: 60 s, -1: never */
	int		 subscribed_only; /* imap: list only subscribed
					   folders (INBOX, special-use too) */
	struct tls_peer	*tls_peer;	/* NULL, or filled on ERR_TLS with
					   the certificate shown; the owner
					   clears it (tls_peer_clear) */
};
#define BACKEND_CHANGED_ROWS	0x01	/* rows or counts changed */
#define BACKEND_CHANGED_FOLDERS	0x02	/* the folder list changed */
#define BACKEND_ATTENTION	0x04	/* the user must answer: attention */

/*
 * What an open network backend waits for the user about, after its
 * session failed in the background (a reconnect, or the connect behind
 * rows shown from a cache): it stays offline, without trying again on its
 * own, until retry (or a sync, which asks anew if it fails again).
 */
enum backend_attention {
	BACKEND_ATTN_NONE,
	BACKEND_ATTN_PASSWORD,		/* login refused, or no password */
	BACKEND_ATTN_CERTIFICATE,	/* the certificate did not verify */
};

/* Progress of long work, reported from the worker; may be NULL. */
typedef void (*backend_progress_cb)(void *, size_t done, size_t total,
	    const char *what);

struct backend;		/* opaque, one per account */
struct tls_peer;	/* net/net.h */
struct view;		/* an open, ordered result list */

struct backend_ops {
	const char	*name;

	/* [worker] Opens or creates the store. */
	int	(*open)(struct backend **, const struct backend_params *,
		    struct error *);
	/* [worker] Brings the index up to date with the store (new,
	   removed and renamed files). Calls progress now and then. Cheap
	   to cancel: checks *cancel between files. */
	int	(*sync)(struct backend *, backend_progress_cb, void *,
		    volatile int *cancel, size_t *added, size_t *removed,
		    struct error *);
	/* [reader] Picks up what the writer committed. */
	int	(*refresh)(struct backend *, struct error *);
	/* [reader] Folders and saved searches with counts. */
	int	(*list_folders)(struct backend *, struct folder_list *,
		    struct error *);
	/* [reader] Opens a view on query; O(1) in the number of matches
	   beyond the count. */
	int	(*open_view)(struct backend *, const char *query,
		    enum view_order, unsigned flags, struct view **,
		    struct error *);
	/* [reader] Number of rows of the view, or VIEW_COUNT_UNKNOWN when
	   counting would cost more than a screenful (threads): the core
	   then asks count on the worker. */
	size_t	(*view_count)(struct view *);
	/* [worker] Counts the rows a view of query would have (the same
	   flags as open_view). NULL: view_count always knows. */
	int	(*count)(struct backend *, const char *query, unsigned flags,
		    size_t *, struct error *);
	/* [reader] Appends up to n more rows, in order, to out; rows come
	   strictly in sequence (a forward iterator). Returns the number
	   added, 0 at the end, -1 on error. */
	long	(*view_next)(struct view *, size_t n, struct summary_batch *,
		    struct error *);
	/* [reader] The messages of one thread in thread order with
	   depths. */
	int	(*thread_messages)(struct backend *, const char *thread,
		    const char *query, struct summary_batch *,
		    struct error *);
	void	(*close_view)(struct view **);
	/* [reader] The path of a file holding the message. Owned by the
	   caller. */
	int	(*message_path)(struct backend *, const char *id, char **,
		    struct error *);
	/* [worker] Adds and removes flags on messages (ids), and syncs the
	   store's own flags (Maildir info) with them. */
	int	(*set_flags)(struct backend *, const char *const *ids,
		    size_t n, unsigned add, unsigned remove, struct error *);
	/* [worker] Adds and removes free-form tags ("+a -b"). */
	int	(*set_tags)(struct backend *, const char *const *ids,
		    size_t n, const char *changes, struct error *);
	/* [worker] Moves messages (ids) to the folder named as in
	   list_folders; NULL if the backend cannot. */
	int	(*move)(struct backend *, const char *const *ids, size_t n,
		    const char *folder, struct error *);
	/* [worker] Releases everything. */
	void	(*close)(struct backend **);
	/* [worker] Fetches a message that message_path reported as not
	   cached (ERR_NOTFOUND) into the backend's cache and returns its
	   path, owned by the caller. NULL: message_path always works. */
	int	(*fetch_message)(struct backend *, const char *id, char **,
		    struct error *);
	/* [reader] One line on the connection ("connected", "reconnecting
	   in 4 s: ..."); returns 1 when it is not online. NULL: local. */
	int	(*status)(struct backend *, char *, size_t);
	/* [worker] Create, rename and delete folders (names as in
	   list_folders) on the server. NULL: not supported. */
	int	(*create_folder)(struct backend *, const char *,
		    struct error *);
	int	(*rename_folder)(struct backend *, const char *,
		    const char *, struct error *);
	int	(*delete_folder)(struct backend *, const char *,
		    struct error *);
	/* [worker] Stores the message file at path in a folder: a role
	   ("Sent": the SPECIAL-USE \\Sent folder, else one named Sent) or a
	   name as in list_folders, with flags (MSG_*; seen unless
	   MSG_UNREAD). NULL: not supported (the local backend appends
	   through send_record). */
	int	(*append)(struct backend *, const char *folder_role_or_name,
		    const char *path, unsigned flags, struct error *);
	/* [worker] fetch_message, cancellable: *cancel (NULL: never) is
	   looked at as bytes arrive; once set, the download stops, nothing
	   is left in the cache, the call fails with ERR_CANCELLED and the
	   connection is re-established for the next operation. NULL: use
	   fetch_message. */
	int	(*fetch_message_cancel)(struct backend *, const char *id,
		    char **path, volatile int *cancel, struct error *);
	/* [worker] Fills in a part that a message file left out (see
	   BACKEND_PARTS_SUFFIX below): section as its PATH.parts names it.
	   The message file is rewritten with the part in place and its
	   path returned (owned by the caller); cancel as above. NULL: the
	   backend always fetches whole messages. */
	int	(*fetch_part)(struct backend *, const char *id,
		    const char *section, char **path, volatile int *cancel,
		    struct error *);
	/* [reader] What the backend waits for the user about: a
	   BACKEND_ATTN_* with a short reason in msg ("login refused",
	   "password_cmd failed (exit 1)", the certificate's fault) and,
	   for a certificate, what the server showed copied into peer
	   (cleared first; the caller clears it after). Each request is
	   handed out once (BACKEND_ATTN_NONE after) until a new failure.
	   NULL: the backend never asks. */
	int	(*attention)(struct backend *, char *msg, size_t,
		    struct tls_peer *peer);
	/* [reader] The user answered: a password typed for this run only
	   (copied; NULL: none new, e.g. the certificate was pinned), and
	   the session is tried again at once in the background. Never
	   blocks. */
	void	(*retry)(struct backend *, const char *password);
	/* [worker] Subscribes to a folder (name as in list_folders), or
	   unsubscribes (subscribe 0). NULL: not supported. */
	int	(*subscribe_folder)(struct backend *, const char *,
		    int subscribe, struct error *);
};

/*
 * Messages fetched part by part. A backend may give (message_path,
 * fetch_message) a message file that leaves some parts out: every header
 * and the whole MIME structure are there, but the bodies of the parts
 * left out are empty. It then writes beside it PATH.parts, a text file:
 *
 *	facteur-parts 1
 *	account NAME		the account (struct account's name)
 *	id ID			the message, as the backend names it
 *	size N			bytes of PATH it describes (else stale)
 *	missing INDEX SECTION BYTES OFFSET
 *
 * with one "missing" line per part left out: INDEX numbers it as the
 * pager and mime_parts do, SECTION is what fetch_part takes, BYTES its
 * size as sent (transfer encoded), OFFSET where its body goes in PATH.
 * fetch_part removes the line, and the file when nothing is missing.
 */
#define BACKEND_PARTS_SUFFIX	".parts"

extern const struct backend_ops local_backend_ops;
extern const struct backend_ops imap_backend_ops;

#endif
