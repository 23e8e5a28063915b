/*
 * Fetchers: protocols that download a remote mailbox into an account's own
 * Maildir, indexed through its local backend (POP3 today). The interface
 * and `facteur --fetch` see only this header; which protocol does the
 * work, and how, is the fetcher's business.
 *
 * Threading: fetcher_new, fetcher_info, fetcher_free and fetcher_trust
 * are quick and may run on any thread. fetcher_password and fetcher_run
 * block (a command, the network) and belong on the account's worker (or
 * in `facteur --fetch`); their callbacks run on that thread.
 */
#ifndef FACTEUR_BACKEND_FETCHER_H
#define FACTEUR_BACKEND_FETCHER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

struct backend;
struct config_account;
struct tls_peer;
struct fetcher;

/* What the interface may show or needs to know about a fetch account. */
struct fetcher_info {
	const char	*name;		/* the account */
	const char	*user;		/* login name */
	const char	*host;
	int		 port;
	const char	*server;	/* "pop3s://host:port", for messages */
	const char	*pin_file;	/* where trusted keys are pinned */
	const char	*maildir;	/* where mail goes (expanded) */
	long		 poll_secs;	/* 0: no background fetch */
	int		 password_cmd;	/* 1: no password to ask */
};

/* Counters of one fetch. */
struct fetch_stats {
	size_t		 on_server;	/* messages the server holds */
	size_t		 to_fetch;	/* not yet downloaded */
	size_t		 fetched;	/* delivered by this run */
	size_t		 recovered;	/* delivered by a run that died */
	size_t		 deleted;	/* deleted on the server */
	uint64_t	 bytes;		/* received for delivered messages */
	double		 seconds;
};

/* Progress, from the fetching thread: done of total, bytes so far. */
typedef void (*fetch_progress_cb)(void *, size_t done, size_t total,
	    uint64_t bytes, double seconds);
/* New mail is indexed (readable), from the fetching thread. */
typedef void (*fetch_indexed_cb)(void *);

struct fetch_params {
	const char		*password;	/* required */
	struct backend		*local;		/* the account's local backend */
	const char		*tags;		/* "+inbox +unread +acct" */
	int			 cancel_fd;	/* -1, or readable to cancel */
	volatile int		*cancel;	/* NULL, or non-zero to cancel */
	fetch_progress_cb	 progress;	/* or NULL */
	fetch_indexed_cb	 indexed;	/* or NULL */
	void			*arg;
	struct tls_peer		*peer;		/* NULL, or filled on ERR_TLS with
						   the certificate the server
						   showed (tls_peer_clear) */
};

/* What a protocol implements (the pop3 backend: pop3_fetcher_ops). */
struct fetcher_ops {
	int	 (*wants)(const struct config_account *);
	int	 (*create)(const struct config_account *, void **,
		    struct fetcher_info *, struct error *);
	void	 (*destroy)(void **);
	char	*(*password)(void *, int, int, struct error *);
	int	 (*run)(void *, const struct fetch_params *,
		    struct fetch_stats *, struct error *);
	int	 (*trust)(void *, const struct tls_peer *, struct error *);
};

extern const struct fetcher_ops pop3_fetcher_ops;

/* 1 if the account's mail is fetched into its Maildir (a pop3 line). */
int	fetcher_wants(const struct config_account *);

/*
 * The fetcher of an account, from its config block. ERR_CONFIG (the
 * message starts with "file:line: ") when the block is wrong or the
 * account fetches nothing.
 */
int	fetcher_new(const struct config_account *, struct fetcher **,
	    struct error *);
void	fetcher_free(struct fetcher **);
const struct fetcher_info *fetcher_info(const struct fetcher *);

/*
 * Runs the account's password_cmd and returns the first line it prints
 * (owned; free with fetcher_secret_free). quiet gives the command
 * /dev/null as input and error output (under curses); cancel_fd (-1:
 * none) readable kills it (ERR_CANCELLED). ERR_AUTH when it fails.
 */
char	*fetcher_password(const struct fetcher *, int, int, struct error *);
/* Overwrites a secret with zeros and frees it; clears the pointer. */
void	fetcher_secret_free(char **);

/*
 * Downloads the new mail (blocks). Errors: ERR_NET, ERR_TLS (see
 * params.peer), ERR_AUTH, ERR_REFUSED (mailbox or fetch in use),
 * ERR_PROTO, ERR_IO (disk full...), ERR_CANCELLED. Whatever the error,
 * what was delivered stays, and nothing not durable locally is deleted
 * on the server. stats may be NULL.
 */
int	fetcher_run(const struct fetcher *, const struct fetch_params *,
	    struct fetch_stats *, struct error *);

/*
 * Pins the certificate a failed fetch reported (the user said yes) in
 * the account's pin file (0600, directories made 0700), so that the
 * next fetch accepts this key for this server.
 */
int	fetcher_trust(const struct fetcher *, const struct tls_peer *,
	    struct error *);

/* The sysexits(3) status for an error kind (75, 77, 78...). */
int	fetcher_exit_status(enum error_kind);

#endif
