/*
 * Composing and sending mail: the message builder (RFC 5322 headers,
 * RFC 2047 words, RFC 2231 file names, quoted-printable and base64), the
 * reply and forward logic, SMTP submission over src/net, the sendmail
 * transport and a durable outbox that a message leaves only after the
 * server's final 250.
 *
 * Everything here blocks and runs on an account's worker, except the
 * builder and the reply logic, which are pure and run anywhere.
 */
#ifndef FACTEUR_SEND_SEND_H
#define FACTEUR_SEND_SEND_H

#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/error.h"

struct backend;

/* ---- Addresses (build.c) ---- */

struct send_addr {
	char	*name;		/* display name, UTF-8, or NULL */
	char	*addr;		/* local@domain, validated */
	int	 utf8;		/* needs SMTPUTF8 */
};

struct send_addrs {
	struct send_addr *v;
	size_t		  n;
};

/*
 * Parses a comma-separated list of "Name <a@b>", "\"Last, First\" <a@b>"
 * or "a@b" (UTF-8 allowed) and appends to out. An empty list is fine. A
 * bad address is ERR_CONFIG naming it ("bad address \"x\": no @").
 */
int	send_addrs_parse(const char *, struct send_addrs *, struct error *);
void	send_addrs_free(struct send_addrs *);
/* Appends the list as a header value: encoded words, quoting, ", ". */
void	send_addrs_format(const struct send_addrs *, struct buf *);

/* ---- Aliases (alias.c) ---- */

struct send_aliases;

/*
 * Reads a mutt aliases file. ERR_NOTFOUND when it does not exist,
 * ERR_CONFIG ("file:line: ...") for a line it cannot read.
 */
int	send_aliases_load(const char *, struct send_aliases **,
	    struct error *);
void	send_aliases_free(struct send_aliases **);
/* The list with each bare alias name replaced by its addresses (owned;
   NULL for NULL). Names that are no alias are left as written. */
char	*send_aliases_expand(const struct send_aliases *, const char *);
/* The name of alias i, or NULL past the last. */
const char *send_aliases_name(const struct send_aliases *, size_t);

/* ---- Completion in prompts (complete.c) ---- */

/* What Tab does: the new text, and what matched when several did. */
struct send_completion {
	char	*text;		/* new prompt text; NULL: unchanged */
	char	**cand;		/* the matches when several */
	size_t	 ncand;
};

void	send_completion_clear(struct send_completion *);
/*
 * Completes the last entry of a comma-separated address list from the
 * alias names and the known addresses ("Name <a@b>") whose name, any
 * word of it, or address starts with it, case folded.
 */
void	send_complete_address(const char *text, const struct send_aliases *,
	    char *const *known, size_t nknown, struct send_completion *);
/* Completes a file name ("~/" is $HOME); a directory gets its '/'. */
void	send_complete_file(const char *text, struct send_completion *);
/*
 * [reader] Addresses from recent messages of the account's index whose
 * name or address starts with prefix, "Name <a@b>" each, most recent
 * first, at most max; 0 and none when the backend keeps no index.
 */
int	send_known_addresses(struct backend *, const char *backend_name,
	    const char *prefix, size_t max, char ***out, size_t *n,
	    struct error *);
void	send_known_free(char **, size_t);

/* ---- The builder (build.c) ---- */

/* Fills buf with len random bytes; returns 0 or -1. */
typedef int (*send_random_cb)(void *, size_t, void *);

struct send_attach {
	char	*path;		/* file to read at build time */
	char	*name;		/* file name shown, UTF-8 */
	char	*type;		/* "image/png"; NULL: from the name */
};

struct send_draft {
	char		*from;
	char		*to;
	char		*cc;
	char		*bcc;
	char		*subject;
	char		*in_reply_to;	/* "<id>" or NULL */
	char		*references;	/* "<a> <b>" or NULL */
	char		*body;		/* UTF-8, '\n' line ends */
	struct send_attach *att;
	size_t		 natt;
};

struct send_build_opts {
	time_t		 now;		/* 0: time(NULL) in local time */
	int		 tz_minutes;	/* offset east of UTC when now != 0 */
	send_random_cb	 random;	/* NULL: getrandom() */
	void		*random_arg;
	int		 eightbit;	/* UTF-8 body as 8bit, not QP */
	int		 flowed;	/* format=flowed */
	size_t		 max_attach;	/* 0: 64 MiB per attachment */
};

/*
 * The result of a build: the message (LF line ends, as a Maildir holds
 * it; the transports send CRLF), its envelope and its Message-ID.
 */
struct send_built {
	struct buf	 msg;
	char		*from;		/* envelope sender */
	char		**rcpt;		/* To + Cc + Bcc, NULL-terminated */
	size_t		 nrcpt;
	int		 utf8;		/* an address needs SMTPUTF8 */
	char		 message_id[128];
};

/*
 * Builds draft into out. Errors: ERR_CONFIG for a bad or missing address
 * (naming it) or no recipient, ERR_IO for an attachment that cannot be
 * read (naming it), ERR_REFUSED for one that is too big.
 */
int	send_build(const struct send_draft *, const struct send_build_opts *,
	    struct send_built *, struct error *);
void	send_built_free(struct send_built *);
void	send_draft_free(struct send_draft *);

/* Helpers, exposed for tests and the reply logic. */
void	send_encode_words(const char *, int phrase, size_t used,
	    struct buf *);
void	send_fold_header(const char *name, const char *value, struct buf *);
void	send_qp_encode(const char *, size_t, struct buf *);
void	send_base64_encode(const void *, size_t, struct buf *);
void	send_rfc2231_param(const char *name, const char *value,
	    struct buf *);
const char *send_guess_type(const char *name);
/* "Re: Re: RE: Fwd: x" -> "x" (the tail of the argument). */
const char *send_strip_reply(const char *);

/* ---- Recording (record.c) ---- */

/*
 * [worker] Keeps a copy of the message file at path in folder (".Sent",
 * ".Drafts") of the account's store, with Maildir flags and tags, when
 * the backend (named by backend_name) can; 0 when it cannot yet.
 */
int	send_record(struct backend *, const char *backend_name,
	    const char *folder, const char *path, const char *flags,
	    const char *tags, struct error *);
/* [worker] Removes the message file at path from the account's store
   (a resumed draft once sent); 0 when the backend keeps none. */
int	send_forget(struct backend *, const char *backend_name,
	    const char *path, struct error *);

/* ---- Replies and forwards (reply.c) ---- */

enum send_reply_kind {
	SEND_REPLY,		/* to Reply-To or From */
	SEND_REPLY_ALL,		/* and every To and Cc but us */
	SEND_REPLY_LIST,	/* to List-Post */
	SEND_FORWARD,		/* inline */
	SEND_FORWARD_ATTACH,	/* as a message/rfc822 attachment */
	SEND_EDIT_AS_NEW,	/* same headers and body, new identity */
};

struct send_identity {
	const char	*from;		/* "Name <me@example.org>" */
	const char	*alternates;	/* POSIX ERE on addresses, or NULL */
};

/*
 * Fills draft from the message in path: recipients, the From identity
 * that the original was addressed to (ids[0] when none matches),
 * Subject without a Re: chain, In-Reply-To, References and the rendered
 * body quoted with "> ". ERR_IO when the file cannot be read;
 * ERR_NOTFOUND for SEND_REPLY_LIST when there is no List-Post mailto.
 */
int	send_reply_draft(const char *path, enum send_reply_kind,
	    const struct send_identity *ids, size_t nids,
	    struct send_draft *, struct error *);

/*
 * The editor file: headers (From, To, Cc, Bcc, Subject, and hidden
 * In-Reply-To/References kept as is), a blank line, the body. Parse
 * gives ERR_CONFIG for a header line it does not understand.
 */
void	send_draft_to_text(const struct send_draft *, struct buf *);
int	send_draft_from_text(const char *, size_t, struct send_draft *,
	    struct error *);
/* Adds an attachment to a draft (copies the strings). */
void	send_draft_attach(struct send_draft *, const char *path,
	    const char *name, const char *type);
void	send_draft_detach(struct send_draft *, size_t);

/* ---- Transports (smtp.c, sendmail.c) ---- */

enum send_kind {
	SEND_SMTP,
	SEND_SENDMAIL,
};

struct send_transport {
	enum send_kind	 kind;
	/* SMTP */
	char		*host;
	int		 port;
	int		 mode;		/* enum net_mode */
	char		*user;		/* NULL: no AUTH */
	char		*password;
	char		*ehlo;		/* NULL: "[local address]" */
	const char	*tls_name;	/* name to verify; NULL: host */
	const char	*auth_mech;	/* "PLAIN", "LOGIN"; NULL: best */
	const char	*ca_file;
	const char	*pin_file;
	int		 timeout_ms;
	int		 cancel_fd;
	/* Called with each protocol line, credentials left out (tests). */
	void		(*transcript)(void *, const char *);
	void		*transcript_arg;
	/* sendmail */
	char		*command;	/* run by /bin/sh; recipients appended */
};

/*
 * Fills t from a URL: submission://host[:587], smtps://host[:465],
 * smtp://host[:25] (only with tls "off"), user@ in the URL or user. A
 * URL that would send in clear without tls = off is ERR_CONFIG.
 */
int	send_transport_parse(struct send_transport *, const char *url,
	    const char *user, const char *tls, struct error *);
void	send_transport_clear(struct send_transport *);

/* What happened to one message. */
enum send_status {
	SEND_OK = 0,		/* 250 after DATA (or sendmail exit 0) */
	SEND_QUEUED,		/* sendmail exit 75: the MTA queued it */
	SEND_TEMPFAIL,		/* 4xx or network: retry later */
	SEND_PERMFAIL,		/* 5xx, bad address, too big: edit it */
};

struct smtp_session;

/*
 * Connects, says EHLO, STARTTLS as the mode asks (verified, pinned) and
 * authenticates with PLAIN or LOGIN when user is set. ERR_TLS before any
 * credential is sent on a bad certificate; ERR_AUTH on 535.
 */
int	smtp_open(const struct send_transport *, struct smtp_session **,
	    struct error *);
/*
 * Sends one message (LF or CRLF line ends) in one pipelined transaction
 * when the server offers PIPELINING. Returns the status; err says why,
 * naming the recipient and quoting the server on a refusal.
 */
enum send_status smtp_send(struct smtp_session *, const char *from,
	    char *const *rcpt, size_t nrcpt, int utf8, const char *msg,
	    size_t len, struct error *);
void	smtp_close(struct smtp_session **);
/* What the server offered (for tests and the log). */
#define SMTP_HAS_PIPELINING	0x1
#define SMTP_HAS_8BITMIME	0x2
#define SMTP_HAS_SMTPUTF8	0x4
#define SMTP_HAS_SIZE		0x8
unsigned smtp_caps(const struct smtp_session *);
/* True once the connection is gone or out of step: open a new one. */
int	smtp_broken(const struct smtp_session *);

/* Pipes msg to the command, recipients as arguments after "--". */
enum send_status sendmail_send(const struct send_transport *,
	    const char *from, char *const *rcpt, size_t nrcpt,
	    const char *msg, size_t len, struct error *);

/* ---- The outbox (outbox.c) ---- */

enum outbox_state {
	OUTBOX_QUEUED,
	OUTBOX_SENDING,		/* a crash here: sent again, maybe twice */
	OUTBOX_SENT,		/* 250 seen; recording in Sent pending */
	OUTBOX_DEFERRED,	/* temporary failure, next_try set */
	OUTBOX_FAILED,		/* permanent failure: edit and resend */
};

struct outbox_entry {
	char		*id;		/* file name in new/ */
	char		*path;		/* the message file */
	enum outbox_state state;
	unsigned	 attempts;
	time_t		 next_try;
	char		*error;		/* last error, or NULL */
	char		*from;
	char		**rcpt;		/* NULL-terminated */
	size_t		 nrcpt;
	int		 utf8;
	char		*subject;	/* decoded, for the list */
	char		*account;	/* who queued it, or NULL */
};

struct outbox;

/* Opens (creating it 0700) the outbox Maildir at dir; NULL: default. */
struct outbox	*outbox_open(const char *dir, struct error *);
void		 outbox_free(struct outbox **);
const char	*outbox_dir(const struct outbox *);
/* Names the account: messages added are its own, and a flush sends only
   its own and those of no account. */
void		 outbox_set_account(struct outbox *, const char *);
/*
 * Writes the message and its envelope durably (fsync of the files and of
 * the directories) and returns its id in id (owned by the caller).
 */
int	outbox_add(struct outbox *, const struct send_built *, char **id,
	    struct error *);
/* The entries, oldest first; free with outbox_entries_free. */
int	outbox_list(struct outbox *, struct outbox_entry **, size_t *,
	    struct error *);
void	outbox_entries_free(struct outbox_entry *, size_t);
int	outbox_remove(struct outbox *, const char *id, struct error *);

/* Called after a message is sent, before it leaves the outbox. */
typedef int (*outbox_sent_cb)(const char *path, void *, struct error *);

struct outbox_result {
	size_t	sent;
	size_t	deferred;
	size_t	failed;
	char	last_error[256];
};

/* What a flush sends besides queued messages. */
#define OUTBOX_FLUSH_DUE	0	/* deferred ones past next_try */
#define OUTBOX_FLUSH_ALL	1	/* every message, failed ones too */
#define OUTBOX_FLUSH_DEFERRED	2	/* deferred ones now (a restart) */

/*
 * Sends every entry that is due (see OUTBOX_FLUSH_*) over one
 * connection, holding an flock on DIR/.lock so two
 * flushes never send the same message, finishes the recording of entries
 * left in OUTBOX_SENT by a crash, and records each outcome. Returns 0
 * when every due message left the outbox.
 */
int	outbox_flush(struct outbox *, const struct send_transport *, int force,
	    outbox_sent_cb, void *, struct outbox_result *, struct error *);
/* The back-off after n failed attempts: 1, 2, 4 ... 60 minutes. */
time_t	outbox_backoff(unsigned);
const char *outbox_state_name(enum outbox_state);

/* Test hook: exits the process at step n of a flush (see outbox.c). */
extern int outbox_crash_at;

#endif
