/*
 * The model of one open folder or query: the rows materialised so far
 * from a backend view, in display order, with thread expansion. Rows are
 * pulled from the backend only as far as the screen needs them, so a
 * folder of any size opens in the time of one screenful. Only the loop
 * thread touches a mailbox.
 */
#ifndef FACTEUR_MAIL_MAILBOX_H
#define FACTEUR_MAIL_MAILBOX_H

#include <stddef.h>

#include "backend/backend.h"

struct account;

/* A displayed row: a message, or a collapsed thread (threads view). */
struct mailbox_row {
	struct summary	 s;		/* strings owned by the mailbox */
	unsigned	 child;		/* 1: a message of an expanded thread */
	unsigned	 expanded;	/* thread rows: children shown */
};

struct mailbox {
	struct account		*account;
	char			*base_query;	/* the folder's own query */
	char			*limit;		/* user's limit, or NULL */
	char			*name;		/* shown in the status line */
	enum view_order		 order;
	unsigned		 view_flags;	/* VIEW_THREADS */
	struct view		*view;
	size_t			 count;		/* backend rows in the view */
	int			 count_known;	/* else count is a lower bound */
	size_t			 unread;	/* unread messages of the view */
	size_t			 fetched;	/* backend rows pulled so far */
	int			 at_end;
	struct mailbox_row	*rows;		/* display rows */
	size_t			 nrows;
	size_t			 cap;
};

/* Opens query (a folder query) on account. Fills err on failure. */
struct mailbox	*mailbox_open(struct account *, const char *name,
		    const char *query, const char *limit, enum view_order,
		    unsigned flags, struct error *);
void		 mailbox_free(struct mailbox **);

/* Rows the backend reports, plus expanded thread children loaded (while
   the count is not known: the rows loaded so far). */
size_t		 mailbox_total(const struct mailbox *);
/* Makes sure display rows 0..i exist (pulling from the view as needed).
   Returns the row, or NULL past the end or on error. */
struct mailbox_row *mailbox_row(struct mailbox *, size_t, struct error *);
/* Pulls rows up to (not including) upto, if not there yet. */
int		 mailbox_prefetch(struct mailbox *, size_t, struct error *);
/* Pulls everything (for End and searches). */
int		 mailbox_load_all(struct mailbox *, struct error *);
/* Finds a loaded row by message id; returns its index or -1. */
long		 mailbox_find(const struct mailbox *, const char *);
/* Expands or collapses the thread at row i (threads view). */
int		 mailbox_toggle_thread(struct mailbox *, size_t,
		    struct error *);
/* Reopens the view (after the store changed) and reloads as many rows
   as were loaded. */
int		 mailbox_reload(struct mailbox *, struct error *);
/* Sets flags on the row in the model (the caller queues the write). */
void		 mailbox_row_set_flags(struct mailbox_row *, unsigned add,
		    unsigned remove);
/* Applies "+a -b" tag changes to the row's tag string. */
void		 mailbox_row_apply_tags(struct mailbox_row *, const char *);
/* The full query of the mailbox (folder and limit). Owned by caller. */
char		*mailbox_full_query(const struct mailbox *);
/* The worker counted the rows: n. */
void		 mailbox_set_count(struct mailbox *, size_t);
/* Keeps the unread count in step with a flag change of one message. */
void		 mailbox_count_flags(struct mailbox *, unsigned before,
		    unsigned after);

#endif
