/*
 * Internals of the local backend (a Maildir indexed by notmuch), shared
 * by the files of this folder only. The main thread reads through one
 * READ_ONLY handle; every write opens its own READ_WRITE handle on the
 * worker and closes it, which is notmuch's only commit.
 */
#ifndef FACTEUR_BACKEND_LOCAL_PRIVATE_H
#define FACTEUR_BACKEND_LOCAL_PRIVATE_H

#include "backend/backend.h"
#include "backend/local/nm.h"

/* Messages indexed per writer session during a sync: a killed process
   loses at most this many, and readers see a big first index grow. */
#define LOCAL_SYNC_BATCH	5000
/* Files between two progress reports. */
#define LOCAL_PROGRESS_EVERY	100
/* How deep the folder walk goes below the Maildir root. */
#define LOCAL_MAX_DEPTH		16

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

struct backend {
	char			 *root;		/* realpath of the Maildir */
	char			 *nm_config;	/* NULL: notmuch's lookup */
	char			**exclude;	/* tags, NULL-ended */
	char			**searches;	/* NAME, QUERY, ..., NULL */
	notmuch_database_t	 *ro;		/* main thread only */
	size_t			  skipped;	/* by the last sync */
};

struct view {
	struct backend		*be;
	notmuch_query_t		*query;
	notmuch_messages_t	*messages;	/* flat view */
	notmuch_threads_t	*threads;	/* VIEW_THREADS */
	enum view_order		 order;
	unsigned		 flags;
	size_t			 count;
};

/* local.c */
notmuch_status_t local_db_open(struct backend *, notmuch_database_mode_t,
	     notmuch_database_t **, char **);
int	 local_nm_error(struct error *, notmuch_database_t *,
	     notmuch_status_t, const char *, ...)
	     __attribute__((format(printf, 4, 5)));
char	*local_status_mark(notmuch_database_t *);
int	 local_query_error(struct error *, notmuch_database_t *, char **,
	     notmuch_status_t, const char *);
int	 local_writer_open(struct backend *, notmuch_database_t **,
	     struct error *);
int	 local_writer_close(struct backend *, notmuch_database_t **,
	     struct error *);
char	**local_split_words(const char *);
void	 local_free_words(char ***);
char	**local_message_files(notmuch_message_t *);
int	 local_reindex(notmuch_database_t *, const char *, const char *,
	     struct error *);

/* local-folders.c */
int	 local_folders_scan(const char *, char ***, size_t *, struct error *);
int	 local_list_folders(struct backend *, struct folder_list *,
	     struct error *);

/* local-sync.c */
int	 local_sync(struct backend *, backend_progress_cb, void *,
	     volatile int *, size_t *, size_t *, struct error *);
int	 local_maildir_has_flag(const char *, char);
notmuch_status_t local_tag_new(notmuch_message_t *, const char *const *,
	     const char *);

/* local-view.c */
notmuch_query_t *local_query_new(struct backend *, const char *, int,
	     unsigned *, struct error *);
notmuch_query_t *local_query_new_on(struct backend *, notmuch_database_t *,
	     const char *, int, unsigned *, struct error *);
int	 local_count_view(struct backend *, const char *, unsigned, size_t *,
	     struct error *);
int	 local_open_view(struct backend *, const char *, enum view_order,
	     unsigned, struct view **, struct error *);
size_t	 local_view_count(struct view *);
long	 local_view_next(struct view *, size_t, struct summary_batch *,
	     struct error *);
int	 local_thread_messages(struct backend *, const char *, const char *,
	     struct summary_batch *, struct error *);
void	 local_close_view(struct view **);
int	 local_message_path(struct backend *, const char *, char **,
	     struct error *);

/* local-move.c */
int	 local_move(struct backend *, const char *const *, size_t,
	     const char *, struct error *);

/* local-tag.c */
int	 local_set_flags(struct backend *, const char *const *, size_t,
	     unsigned, unsigned, struct error *);
int	 local_set_tags(struct backend *, const char *const *, size_t,
	     const char *, struct error *);
int	 local_trash_sync(notmuch_database_t *, notmuch_message_t **,
	     struct error *);

#endif
