/*
 * An account: its configuration, its backend and the worker thread that
 * runs the backend's blocking operations.
 */
#ifndef FACTEUR_MAIL_ACCOUNT_H
#define FACTEUR_MAIL_ACCOUNT_H

#include <stdatomic.h>

#include "backend/backend.h"

struct loop;
struct worker;
struct config;
struct config_account;

struct account {
	char			*name;
	const struct config_account *config;	/* NULL: from -f or defaults */
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
	void			*notify;	/* account_set_notify */
	char			*password;	/* memory only (the prompt) */
	char			*pin_file;	/* imap: pinned keys */
	char			*cache_dir;	/* imap: header/body cache */
	int			 offline;	/* the status line says so */
	atomic_int		 notice_posted;	/* a change notice waits */
};

/* Tells the core that the store changed behind the views; may be called
   from any thread (the UI posts it to the loop). */
typedef void (*account_notify_cb)(struct account *, void *);
void		 account_set_notify(struct account *, account_notify_cb,
		    void *);

/*
 * Builds the account a configuration block describes (ca NULL: a local
 * Maildir at maildir). Checks what can be checked without blocking (the
 * Maildir exists); returns NULL and fills err (ERR_NOTFOUND, ERR_CONFIG
 * naming file:line) when the account cannot be used.
 */
struct account	*account_from_config(struct loop *, struct config *,
		    const struct config_account *, const char *maildir,
		    struct error *);

struct account	*account_new(struct loop *, const char *name,
		    const char *maildir, const char *nm_config,
		    const char *exclude_tags);
void		 account_add_search(struct account *, const char *,
		    const char *);
void		 account_free(struct account **);

#endif
