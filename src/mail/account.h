/*
 * An account: its configuration, its backend and the worker thread that
 * runs the backend's blocking operations.
 */
#ifndef FACTEUR_MAIL_ACCOUNT_H
#define FACTEUR_MAIL_ACCOUNT_H

#include "backend/backend.h"

struct loop;
struct worker;

struct account {
	char			*name;
	const struct backend_ops *ops;
	struct backend		*backend;	/* NULL until opened */
	struct worker		*worker;
	struct backend_params	 params;
	char			*maildir;
	char			*nm_config;	/* NULL: notmuch's own */
	char			*exclude_tags;
	char			**searches;	/* NAME, QUERY, ..., NULL */
	int			 opening;
	int			 syncing;
	int			 stale;		/* reader must refresh */
};

struct account	*account_new(struct loop *, const char *name,
		    const char *maildir, const char *nm_config,
		    const char *exclude_tags);
void		 account_add_search(struct account *, const char *,
		    const char *);
void		 account_free(struct account **);

#endif
