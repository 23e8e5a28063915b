/*
 * The POP3 fetcher: downloads the messages of a POP3 mailbox that this
 * account has not seen yet into the account's own Maildir, indexes them
 * with notmuch through the local backend, and deletes them on the server
 * only as the account's keep_on_server policy says, and only once the
 * local copy is durable. The account itself is browsed as a local one.
 *
 * Crash safety: a message is written to tmp/, made durable (fsync, or one
 * syncfs for a large batch), linked into new/ (the directory fsynced),
 * indexed, and only then its UIDL is recorded in the state file (temp,
 * fsync, rename). Each delivered file carries a
 * marker of its UIDL in its name (",P=<hash>"), so a message delivered by
 * a run that died before recording it is recognised, not fetched again.
 * DELE is sent after the state is durable and takes effect at QUIT.
 *
 * For the crash-safety tests only (never for users):
 * FACTEUR_TEST_KILL_AT=PHASE:N makes the fetching process SIGKILL itself
 * the Nth time it reaches PHASE: retr (a message written to tmp/, not
 * fsynced), deliver (linked into new/, not indexed), index (a batch
 * indexed, not recorded), record (its UIDLs recorded), dele (a DELE
 * answered, before QUIT).
 *
 * Messages are stored with LF line endings: the CRLF of the wire becomes
 * LF, dot-stuffing is undone, anything else is kept byte for byte.
 *
 * The download and the indexing overlap: pop3_fetch streams messages
 * into tmp/ while a writer thread of its own links, indexes and records
 * them, the first message alone and at once (readable early), then in
 * batches (POP3_BATCH, POP3_BATCH_MS). The indexed callback runs on that
 * thread. The fetch stops with ERR_IO ("No space left") before a message
 * would leave less than 4 MB free for the index; SIGXFSZ is ignored, so
 * a file size limit fails a write (EFBIG) instead of killing the process.
 *
 * Everything here blocks and runs on the account's worker thread (or in
 * `facteur --fetch`). One fetch per account at a time: a second one, in
 * this or another process, fails with ERR_REFUSED ("already fetching").
 * The interface uses it through backend/fetcher.h (pop3_fetcher_ops).
 */
#ifndef FACTEUR_BACKEND_POP3_H
#define FACTEUR_BACKEND_POP3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

struct backend;
struct config_account;
struct tls_peer;

/* What the server keeps after a fetch. */
enum pop3_keep {
	POP3_KEEP_ALL,		/* keep_on_server yes: never DELE */
	POP3_KEEP_NONE,		/* no: DELE once the local copy is durable */
	POP3_KEEP_DAYS,		/* Nd: DELE N days after the download */
};

enum pop3_tls {
	POP3_TLS_IMPLICIT,	/* pop3s://, port 995 */
	POP3_TLS_STARTTLS,	/* pop3://: STLS required */
	POP3_TLS_OFF,		/* tls = off: plain text, by request only */
};

/* A POP3 account, as its configuration block describes it. */
struct pop3_account {
	char		*name;
	char		*host;
	int		 port;
	char		*user;
	int		 apop;		/* ;auth=+APOP in the URL */
	enum pop3_tls	 tls;
	char		*ca_file;	/* extra trusted CAs, or NULL */
	char		*pin_file;	/* keys the user pinned (known_hosts) */
	char		*password_cmd;	/* or NULL: ask */
	char		*maildir;	/* expanded */
	enum pop3_keep	 keep;
	long		 keep_days;	/* POP3_KEEP_DAYS */
	long		 poll_secs;	/* 0: no background polling */
	char		*state_path;	/* the UIDL state file */
	int		 timeout_ms;	/* each network wait */
};

/*
 * Builds a POP3 account from its config block (ca->pop3 set). Errors are
 * ERR_CONFIG and start with "file:line: ". The state file is
 * $XDG_DATA_HOME/facteur/pop3/<name>.uidl (~/.local/share when unset).
 */
int	pop3_account_new(const struct config_account *,
	    struct pop3_account **, struct error *);
void	pop3_account_free(struct pop3_account **);

/*
 * Runs the account's password_cmd with /bin/sh -c and returns the first
 * line of its output (owned; wipe and free), its error output left where
 * ours goes. ERR_AUTH if it fails or prints nothing. The password is
 * never logged.
 */
char	*pop3_password_from_cmd(const struct pop3_account *, struct error *);
/*
 * The same; quiet gives the command /dev/null as standard input and error
 * (under the curses interface). Not a shell with any text but the
 * user's own password_cmd. The command is killed when it stays silent
 * for 60 s (ERR_AUTH) or when cancel_fd (-1: none) becomes readable
 * (ERR_CANCELLED).
 */
char	*pop3_password_run(const struct pop3_account *, int, int,
	    struct error *);
/* Overwrites a secret with zeros and frees it; clears the pointer. */
void	pop3_secret_free(char **);

/* Counters of one fetch. */
struct pop3_stats {
	size_t		 on_server;	/* messages listed */
	size_t		 to_fetch;	/* not yet downloaded */
	size_t		 fetched;	/* delivered by this run */
	size_t		 recovered;	/* delivered by a run that died */
	size_t		 deleted;	/* DELE sent and QUIT accepted */
	uint64_t	 bytes;		/* received for delivered messages */
	double		 seconds;
};

/* Progress from the worker: done of total messages, bytes so far. */
typedef void (*pop3_progress_cb)(void *, size_t done, size_t total,
	    uint64_t bytes, double seconds);
/* Called after each batch was indexed (new mail is visible), on the
   fetch's writer thread. */
typedef void (*pop3_indexed_cb)(void *);

struct pop3_fetch_params {
	const char	*password;	/* required */
	struct backend	*local;		/* the account's local backend */
	const char	*tags;		/* "+inbox +unread +acct" */
	int		 cancel_fd;	/* -1, or readable to cancel */
	volatile int	*cancel;	/* NULL, or non-zero to cancel */
	pop3_progress_cb progress;
	pop3_indexed_cb	 indexed;
	void		*arg;
	time_t		(*now)(void);	/* NULL: time(); tests fake it */
	struct tls_peer	*peer;		/* NULL, or filled on ERR_TLS with
					   what the server showed, for trust
					   on first use (tls_peer_clear) */
};

/*
 * Fetches new messages (see the top of this file). Errors: ERR_NET
 * (unreachable, connection lost, timed out), ERR_TLS (certificate),
 * ERR_AUTH (wrong login), ERR_REFUSED (mailbox in use by another client,
 * or another fetch runs), ERR_PROTO (the server broke the protocol),
 * ERR_IO (disk full, Maildir unwritable), ERR_CANCELLED. Whatever the
 * error, what was delivered and recorded stays so, and nothing that is
 * not durable locally is deleted on the server. stats may be NULL.
 */
int	pop3_fetch(const struct pop3_account *,
	    const struct pop3_fetch_params *, struct pop3_stats *,
	    struct error *);

/* Creates the parent directories of path (0700). */
int	pop3_mkdirs_parent(const char *, struct error *);

/* The sysexits(3) status --fetch exits with for an error kind. */
int	pop3_exit_status(enum error_kind);

#endif
