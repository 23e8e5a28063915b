/*
 * Internals shared by the files of src/net: the TLS session and the poll
 * helper that every wait of the module goes through.
 */
#ifndef FACTEUR_NET_PRIVATE_H
#define FACTEUR_NET_PRIVATE_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "net/net.h"

struct tls {
	gnutls_session_t		 session;
	gnutls_certificate_credentials_t cred;	/* shared by every session */
	gnutls_x509_trust_list_t	 anchors; /* the CA file's, or NULL */
	int				 fd;
	int				 cancel_fd;
	int				 timeout_ms;
	enum tls_trust			 trust;
	char				*desc;
	/* During the handshake only: what the verify callback needs. */
	const struct tls_params		*params;
	const char			*host;
	struct tls_peer			*peer;
};

/*
 * Starts reading the system trust store on a thread of its own, unless it
 * is read or being read; a handshake that needs it waits for it then.
 */
void	tls_preload(void);

/* What net_poll() saw. */
enum net_poll_result {
	NET_POLL_READY,
	NET_POLL_TIMEOUT,
	NET_POLL_CANCELLED,
	NET_POLL_ERROR,		/* errno is set */
};

/*
 * Waits until fd has one of events, cancel_fd is readable or timeout_ms
 * (< 0: forever) passed. EINTR restarts with the time left.
 */
enum net_poll_result net_poll(int fd, short events, int cancel_fd,
	    int timeout_ms);
/* Milliseconds on the monotonic clock. */
long long net_now_ms(void);
/* timeout_ms, or the default when it is <= 0. */
int	net_timeout(int timeout_ms);

#endif
