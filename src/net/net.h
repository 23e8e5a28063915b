/*
 * facteur's own transport: a cancellable TCP connect, a GnuTLS client that
 * verifies the chain and the host name inside the handshake (or accepts a
 * key the user pinned), libetpan stream drivers over it, and the connect +
 * STARTTLS sequence for IMAP, POP3 and SMTP. Every TLS connection of every
 * protocol goes through here; libetpan's own TLS is never used.
 *
 * Everything blocks and runs on an account's worker thread. A caller-owned
 * cancel fd (an eventfd or pipe) made readable from any thread aborts a
 * wait; we poll it and never read it. SIGPIPE: we send with MSG_NOSIGNAL
 * and GNUTLS_NO_SIGNAL, but main() still ignores SIGPIPE for libraries.
 */
#ifndef FACTEUR_NET_NET_H
#define FACTEUR_NET_NET_H

#include <stddef.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "core/error.h"

#define NET_TIMEOUT_DEFAULT_MS	60000	/* timeout_ms <= 0 means this */

/*
 * Resolves host and connects to port, trying each address in turn until
 * timeout_ms (for the whole attempt) runs out. The fd returned is
 * non-blocking and close-on-exec. cancel_fd is -1 or readable to cancel.
 * Errors: ERR_NET ("host not found", "connection refused", "timed out"),
 * ERR_CANCELLED. Name resolution itself is not cancellable.
 */
int	net_connect(const char *host, int port, int timeout_ms, int cancel_fd,
	    struct error *);

/* How a server is trusted after a handshake. */
enum tls_trust {
	TLS_TRUST_NONE = 0,	/* handshake failed or never happened */
	TLS_TRUST_CA,		/* chain and host name verified */
	TLS_TRUST_PIN,		/* key matches the one the user pinned */
};

/*
 * What the server showed, so the UI can offer trust on first use. Filled
 * whenever the handshake got as far as the certificate, on success and on
 * failure. Clear with tls_peer_clear().
 */
struct tls_peer {
	enum tls_trust	 trust;
	int		 key_changed;	/* a different key is pinned */
	char		 fingerprint[100]; /* SHA-256 "AB:CD:..." of the cert */
	char		 pin_sha256[64];   /* base64 SHA-256 of the key */
	char		 subject[256];
	char		 issuer[256];
	time_t		 not_after;
	char		 reason[256];	/* why it is not trusted, or "" */
	unsigned char	*der;		/* the server certificate, owned */
	size_t		 der_len;
};

struct tls_params {
	const char	*host;		/* name to verify; NULL: connect host */
	const char	*ca_file;	/* extra trusted CAs, or NULL */
	const char	*pin_file;	/* pinned keys, or NULL: no pinning */
	const char	*service;	/* "imap", "pop3", "smtp": pin key */
	int		 timeout_ms;	/* handshake, then each read/write */
	int		 cancel_fd;	/* -1, or readable to cancel */
	struct tls_peer	*peer;		/* NULL, or filled (see above) */
};

struct tls;

/*
 * Runs a TLS 1.2/1.3 client handshake on the connected fd. The server is
 * accepted if its chain verifies against the system store plus ca_file and
 * it is valid for host, or else if pin_file holds this very key for
 * host/service. Nothing is sent after the handshake, so no credential can
 * reach an unverified server. On failure: ERR_TLS with the reason
 * ("The certificate issuer is unknown", "... does not match", "expired",
 * "server key changed"), ERR_NET (timed out, connection lost) or
 * ERR_CANCELLED; params->peer says what was shown. The fd stays the
 * caller's: tls_free() does not close it.
 */
int	tls_handshake(int fd, const struct tls_params *, struct tls **,
	    struct error *);
void	tls_free(struct tls **);
/* "TLS1.3", "TLS1.2". */
const char *tls_version(struct tls *);
/* A description of the session ("(TLS1.3)-(ECDHE-...)-(AES-256-GCM)"). */
const char *tls_cipher(struct tls *);
/* How the server was trusted. */
enum tls_trust tls_trust(struct tls *);

/*
 * Pins peer's key for params->host and params->service in
 * params->pin_file (created 0600), after the user accepted it. The next
 * handshake with the same pin_file then succeeds. ERR_IO on failure.
 */
int	tls_pin_store(const struct tls_params *, const struct tls_peer *,
	    struct error *);
void	tls_peer_clear(struct tls_peer *);

/*
 * libetpan stream drivers. Reads and writes wait with poll() on the socket
 * and the cancel fd, each wait bounded by the timeout. mailstream_cancel()
 * from another thread shuts the socket down; it must not race with
 * mailstream_close(). Closing the stream closes the fd; freeing the
 * driver alone (mailstream_low_free, as STARTTLS does) does not.
 */
mailstream_low	*tls_stream_low_new(struct tls *);	/* takes the tls */
mailstream_low	*net_plain_low_new(int fd, int timeout_ms, int cancel_fd);
/* The TLS session under a stream, or NULL when it is plain text. */
struct tls	*tls_stream_get(mailstream_low *);

enum net_wait {
	NET_WAIT_ERROR = -1,
	NET_WAIT_DATA,		/* something to read */
	NET_WAIT_TIMEOUT,
	NET_WAIT_WOKEN,		/* wake_fd became readable (not read) */
	NET_WAIT_CANCELLED,
};
/*
 * Waits until s has something to read, looking at libetpan's and GnuTLS's
 * buffers first: the IMAP IDLE wait for our drivers (libetpan's
 * mailstream_wait_idle needs its own cancel object, which we do not use).
 */
enum net_wait net_wait_readable(mailstream *s, int timeout_ms, int wake_fd);

enum net_mode {
	NET_TLS_IMPLICIT,	/* imaps 993, pop3s 995, smtps 465 */
	NET_STARTTLS,		/* required: refuse to go on without it */
	NET_PLAIN,		/* the user asked for no encryption at all */
};

/*
 * Connects a mailimap/mailpop3/mailsmtp session, reads the greeting and,
 * for NET_STARTTLS, upgrades to TLS before anything else is sent (ERR_TLS
 * "server does not offer STARTTLS" when it cannot). IMAP capabilities are
 * fetched again after STARTTLS. SMTP says EHLO (again after STARTTLS) with
 * an address literal, never the machine's host name: see smtp.c. On
 * failure the session is left disconnected.
 */
int	net_imap_connect(mailimap *, const char *host, int port, enum net_mode,
	    const struct tls_params *, struct error *);
int	net_pop3_connect(mailpop3 *, const char *host, int port, enum net_mode,
	    const struct tls_params *, struct error *);
int	net_smtp_connect(mailsmtp *, const char *host, int port, enum net_mode,
	    const struct tls_params *, struct error *);
/* EHLO [local address]: the SMTP part of the above, for a reconnect. */
int	net_smtp_ehlo(mailsmtp *, struct error *);

/*
 * Protocol logging. A struct net_log goes as context to
 * mailimap/mailpop3/mailsmtp_set_logger with the matching callback. It
 * logs what we send, except data libetpan marks private and everything
 * sent while `authenticating` is set (the caller sets it around LOGIN,
 * AUTHENTICATE, AUTH, USER/PASS); of what we receive it logs only sizes,
 * unless log_received is set, and then only each chunk's first line:
 * message bodies never reach a log.
 */
struct net_log {
	const char	*name;		/* prefix, e.g. the account name */
	int		 authenticating;
	int		 log_received;
	/* NULL: log_debug(); else called with one sanitised line. */
	void		(*sink)(void *, const char *);
	void		*sink_arg;
};
void	net_log_data(struct net_log *, int log_type, const char *, size_t);
void	net_imap_logger(mailimap *, int, const char *, size_t, void *);
void	net_pop3_logger(mailpop3 *, int, const char *, size_t, void *);
void	net_smtp_logger(mailsmtp *, int, const char *, size_t, void *);

#endif
