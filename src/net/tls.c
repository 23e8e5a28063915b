/*
 * The GnuTLS client: TLS 1.2/1.3 only, system trust plus an optional CA
 * file, SNI, and a verify callback that runs inside the handshake, so a
 * server is judged before a single byte of ours reaches it. A key the user
 * pinned (trust on first use) is accepted where the chain is not.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/error.h"
#include "core/xmalloc.h"
#include "net/private.h"

#define TLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_MAX_CHAIN	16	/* GnuTLS's own default depth */

/*
 * Trust anchors, read once per process: the system store (20-30 ms of CPU
 * to parse its ~150 certificates, and half a megabyte) and each CA file,
 * read again when it changes. A chain is checked against the account's CA
 * file first and against the system store only when that fails, so an
 * account with its own CA never pays for the system store; for the others
 * the store is read on a thread of its own while the connection is set up
 * (tls_preload). Lists live as long as the process: sessions on any thread
 * may still be checking a chain against an older one.
 */
struct tls_anchors {
	char				*ca_file;
	struct timespec			 mtime;
	off_t				 size;
	gnutls_x509_trust_list_t	 list;
	struct tls_anchors		*next;
};
static struct tls_anchors	*tls_files;
static gnutls_x509_trust_list_t	 tls_system;
static enum {
	TLS_SYSTEM_UNREAD,
	TLS_SYSTEM_READING,
	TLS_SYSTEM_READ
} tls_system_state;
static gnutls_certificate_credentials_t tls_cred;
static pthread_mutex_t	 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 tls_cond = PTHREAD_COND_INITIALIZER;

/* Reads the system store (an empty or missing one is an empty list). */
static gnutls_x509_trust_list_t
tls_system_read(void)
{
	gnutls_x509_trust_list_t	list;

	if (gnutls_x509_trust_list_init(&list, 0) != 0)
		return (NULL);
	gnutls_x509_trust_list_add_system_trust(list, 0, 0);
	return (list);
}

/* Publishes the system store read by whoever set TLS_SYSTEM_READING. */
static void
tls_system_done(gnutls_x509_trust_list_t list)
{
	pthread_mutex_lock(&tls_lock);
	tls_system = list;
	tls_system_state = TLS_SYSTEM_READ;
	pthread_cond_broadcast(&tls_cond);
	pthread_mutex_unlock(&tls_lock);
}

/* The preloading thread's body. */
static void *
tls_system_thread(void *arg)
{
	(void)arg;
	tls_system_done(tls_system_read());
	return (NULL);
}

void
tls_preload(void)
{
	pthread_attr_t	attr;
	pthread_t	tid;
	int		started = 0;

	pthread_mutex_lock(&tls_lock);
	if (tls_system_state != TLS_SYSTEM_UNREAD) {
		pthread_mutex_unlock(&tls_lock);
		return;
	}
	tls_system_state = TLS_SYSTEM_READING;
	pthread_mutex_unlock(&tls_lock);
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		started = pthread_create(&tid, &attr, tls_system_thread,
		    NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	if (!started)
		tls_system_done(tls_system_read());
}

/* The system store, read here or waited for if a thread is reading it. */
static gnutls_x509_trust_list_t
tls_system_get(void)
{
	gnutls_x509_trust_list_t	list;

	pthread_mutex_lock(&tls_lock);
	if (tls_system_state == TLS_SYSTEM_UNREAD) {
		tls_system_state = TLS_SYSTEM_READING;
		pthread_mutex_unlock(&tls_lock);
		tls_system_done(tls_system_read());
		pthread_mutex_lock(&tls_lock);
	}
	while (tls_system_state != TLS_SYSTEM_READ)
		pthread_cond_wait(&tls_cond, &tls_lock);
	list = tls_system;
	pthread_mutex_unlock(&tls_lock);
	return (list);
}

/*
 * The anchors of ca_file (NULL for none: *listp is then NULL) and the
 * credentials every session shares: they carry no anchor, since tls_verify
 * checks the chain itself.
 */
static int
tls_anchors_get(const char *ca_file, gnutls_x509_trust_list_t *listp,
    gnutls_certificate_credentials_t *credp, struct error *err)
{
	struct tls_anchors		*a;
	struct stat			 sb;
	gnutls_x509_trust_list_t	 list;
	int				 r;

	*listp = NULL;
	pthread_mutex_lock(&tls_lock);
	if (tls_cred == NULL &&
	    (r = gnutls_certificate_allocate_credentials(&tls_cred)) != 0) {
		pthread_mutex_unlock(&tls_lock);
		return (error_set(err, ERR_TLS, "TLS: %s", gnutls_strerror(r)));
	}
	*credp = tls_cred;
	pthread_mutex_unlock(&tls_lock);
	if (ca_file == NULL || *ca_file == '\0')
		return (0);
	if (stat(ca_file, &sb) != 0)
		return (error_set(err, ERR_CONFIG, "%s: %s", ca_file,
		    strerror(errno)));
	pthread_mutex_lock(&tls_lock);
	for (a = tls_files; a != NULL; a = a->next) {
		if (strcmp(a->ca_file, ca_file) == 0 &&
		    a->size == sb.st_size &&
		    a->mtime.tv_sec == sb.st_mtim.tv_sec &&
		    a->mtime.tv_nsec == sb.st_mtim.tv_nsec) {
			*listp = a->list;
			pthread_mutex_unlock(&tls_lock);
			return (0);
		}
	}
	if ((r = gnutls_x509_trust_list_init(&list, 0)) != 0) {
		pthread_mutex_unlock(&tls_lock);
		return (error_set(err, ERR_TLS, "TLS: %s", gnutls_strerror(r)));
	}
	r = gnutls_x509_trust_list_add_trust_file(list, ca_file, NULL,
	    GNUTLS_X509_FMT_PEM, 0, 0);
	if (r <= 0) {
		gnutls_x509_trust_list_deinit(list, 1);
		pthread_mutex_unlock(&tls_lock);
		return (error_set(err, ERR_CONFIG, "%s: no CA certificate "
		    "read (%s)", ca_file, r < 0 ? gnutls_strerror(r) :
		    "empty file"));
	}
	a = xcalloc(1, sizeof *a);
	a->ca_file = xstrdup(ca_file);
	a->mtime = sb.st_mtim;
	a->size = sb.st_size;
	a->list = list;
	a->next = tls_files;
	tls_files = a;
	*listp = list;
	pthread_mutex_unlock(&tls_lock);
	return (0);
}

void
tls_peer_clear(struct tls_peer *peer)
{
	if (peer == NULL)
		return;
	free(peer->der);
	memset(peer, 0, sizeof *peer);
}

/* Copies what the UI shows about a certificate into peer. */
static void
tls_peer_fill(struct tls_peer *peer, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t	crt;
	unsigned char		md[32];
	size_t			len, i;
	gnutls_datum_t		dn;
	char			*q;

	tls_peer_clear(peer);
	peer->der = xmalloc(der->size);
	memcpy(peer->der, der->data, der->size);
	peer->der_len = der->size;

	if (gnutls_x509_crt_init(&crt) != 0)
		return;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != 0) {
		gnutls_x509_crt_deinit(crt);
		return;
	}
	len = sizeof md;
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md,
	    &len) == 0) {
		q = peer->fingerprint;
		for (i = 0; i < len; i++)
			q += sprintf(q, "%s%02X", i == 0 ? "" : ":", md[i]);
	}
	len = sizeof md;
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, md,
	    &len) == 0) {
		gnutls_datum_t	raw = { md, (unsigned int)len }, b64;

		if (gnutls_base64_encode2(&raw, &b64) == 0) {
			snprintf(peer->pin_sha256, sizeof peer->pin_sha256,
			    "%.*s", (int)b64.size, b64.data);
			gnutls_free(b64.data);
		}
	}
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		snprintf(peer->subject, sizeof peer->subject, "%.*s",
		    (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) == 0) {
		snprintf(peer->issuer, sizeof peer->issuer, "%.*s",
		    (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	peer->not_after = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
}

/* Checks a chain for host against one list of anchors. */
static int
tls_chain_check1(gnutls_x509_trust_list_t list, gnutls_x509_crt_t *crts,
    unsigned int n, const char *host, unsigned int *status)
{
	gnutls_typed_vdata_st	data[2];

	memset(data, 0, sizeof data);
	data[0].type = GNUTLS_DT_DNS_HOSTNAME;
	data[0].data = (unsigned char *)host;
	data[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	return (gnutls_x509_trust_list_verify_crt2(list, crts, n, data, 2, 0,
	    status, NULL));
}

/*
 * Checks the server's chain and host name against the CA file's anchors,
 * then, if they do not vouch for it, against the system store. *status is
 * 0 when one of them does, else the more telling of the two verdicts (an
 * expired or misnamed certificate says more than "signer not found").
 */
static int
tls_chain_check(struct tls *tls, const gnutls_datum_t *chain, unsigned int n,
    unsigned int *status)
{
	gnutls_x509_crt_t	crts[TLS_MAX_CHAIN];
	unsigned int		i, got = 0, first = 0;
	const unsigned int	unknown = GNUTLS_CERT_INVALID |
				    GNUTLS_CERT_SIGNER_NOT_FOUND;
	int			r = 0;

	if (n > TLS_MAX_CHAIN)
		n = TLS_MAX_CHAIN;
	for (got = 0; got < n; got++) {
		if ((r = gnutls_x509_crt_init(&crts[got])) != 0)
			goto out;
		if ((r = gnutls_x509_crt_import(crts[got], &chain[got],
		    GNUTLS_X509_FMT_DER)) != 0) {
			got++;
			goto out;
		}
	}
	if (tls->anchors != NULL) {
		r = tls_chain_check1(tls->anchors, crts, n, tls->host, &first);
		if (r != 0 || first == 0) {
			*status = first;
			goto out;
		}
	}
	r = tls_chain_check1(tls_system_get(), crts, n, tls->host, status);
	if (r == 0 && *status != 0 && (first & ~unknown) != 0)
		*status = first;
out:
	for (i = 0; i < got; i++)
		gnutls_x509_crt_deinit(crts[i]);
	return (r);
}

/*
 * GnuTLS calls this inside the handshake once it has the server's
 * certificate: accept a chain valid for the host, else a pinned key.
 * Non-zero aborts the handshake with GNUTLS_E_CERTIFICATE_ERROR.
 */
static int
tls_verify(gnutls_session_t session)
{
	struct tls		*tls = gnutls_session_get_ptr(session);
	struct tls_peer		*peer = tls->peer;
	const struct tls_params	*p = tls->params;
	const gnutls_datum_t	*chain;
	gnutls_datum_t		 txt;
	unsigned int		 status, n;
	int			 r;

	chain = gnutls_certificate_get_peers(session, &n);
	if (chain == NULL || n == 0) {
		snprintf(peer->reason, sizeof peer->reason,
		    "the server sent no certificate");
		return (-1);
	}
	tls_peer_fill(peer, &chain[0]);

	if ((r = tls_chain_check(tls, chain, n, &status)) != 0) {
		snprintf(peer->reason, sizeof peer->reason,
		    "certificate not verified: %s", gnutls_strerror(r));
		return (-1);
	}
	if (status == 0) {
		peer->trust = tls->trust = TLS_TRUST_CA;
		return (0);
	}
	if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &txt, 0) == 0) {
		snprintf(peer->reason, sizeof peer->reason, "%.*s",
		    (int)txt.size, txt.data);
		gnutls_free(txt.data);
	} else
		snprintf(peer->reason, sizeof peer->reason,
		    "The certificate is NOT trusted.");

	if (p->pin_file == NULL)
		return (-1);
	r = gnutls_verify_stored_pubkey(p->pin_file, NULL, tls->host,
	    p->service != NULL ? p->service : "", GNUTLS_CRT_X509, &chain[0],
	    0);
	if (r == 0) {
		peer->trust = tls->trust = TLS_TRUST_PIN;
		peer->reason[0] = '\0';
		return (0);
	}
	if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		peer->key_changed = 1;
		snprintf(peer->reason, sizeof peer->reason,
		    "the server key changed: it is not the key pinned for %s "
		    "(the server was replaced, or someone is in between)",
		    tls->host);
	}
	return (-1);
}

/* Says why a handshake failed, for a human. */
static int
tls_handshake_error(struct tls *tls, int r, struct error *err)
{
	const char	*host = tls->host;

	switch (r) {
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		return (error_set(err, ERR_TLS, "%s: %s", host,
		    tls->peer->reason[0] != '\0' ? tls->peer->reason :
		    "The certificate is NOT trusted."));
	case GNUTLS_E_TIMEDOUT:
		return (error_set(err, ERR_NET, "%s: TLS handshake timed out",
		    host));
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return (error_set(err, ERR_NET,
		    "%s: connection lost during the TLS handshake", host));
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_NO_CIPHER_SUITES:
	case GNUTLS_E_INSUFFICIENT_SECURITY:
		return (error_set(err, ERR_TLS,
		    "%s: no common TLS version or cipher (TLS 1.2 or later "
		    "is required): %s", host, gnutls_strerror(r)));
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
		return (error_set(err, ERR_TLS,
		    "%s: the server does not speak TLS on this port (%s)",
		    host, gnutls_strerror(r)));
	}
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return (error_set(err, ERR_TLS, "%s: TLS alert from server: %s",
		    host, gnutls_alert_get_name(
		    gnutls_alert_get(tls->session))));
	return (error_set(err, ERR_TLS, "%s: TLS handshake failed: %s", host,
	    gnutls_strerror(r)));
}

/* True when host is an IP address literal: no SNI then (RFC 6066). */
static int
tls_is_address(const char *host)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1);
}

int
tls_handshake(int fd, const struct tls_params *p, struct tls **tlsp,
    struct error *err)
{
	struct tls			*tls;
	struct tls_peer			 scratch;
	gnutls_x509_trust_list_t	 anchors;
	const char			*errpos;
	long long			 deadline;
	int				 r, left;
	short				 events;

	*tlsp = NULL;
	if (p->host == NULL || *p->host == '\0')
		return (error_set(err, ERR_CONFIG, "TLS needs a host name"));
	memset(&scratch, 0, sizeof scratch);

	tls = xcalloc(1, sizeof *tls);
	tls->fd = fd;
	tls->cancel_fd = p->cancel_fd;
	tls->timeout_ms = net_timeout(p->timeout_ms);
	tls->params = p;
	tls->host = p->host;
	tls->peer = p->peer != NULL ? p->peer : &scratch;
	tls_peer_clear(tls->peer);

	if (tls_anchors_get(p->ca_file, &anchors, &tls->cred, err) != 0)
		goto fail;
	tls->anchors = anchors;
	if (anchors == NULL)
		tls_preload();
	r = gnutls_init(&tls->session, GNUTLS_CLIENT | GNUTLS_NO_SIGNAL |
	    GNUTLS_NONBLOCK);
	if (r != 0)
		goto gnutls_fail;
	gnutls_session_set_ptr(tls->session, tls);
	if ((r = gnutls_priority_set_direct(tls->session, TLS_PRIORITY,
	    &errpos)) != 0)
		goto gnutls_fail;
	if ((r = gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE,
	    tls->cred)) != 0)
		goto gnutls_fail;
	if (!tls_is_address(p->host) && (r = gnutls_server_name_set(
	    tls->session, GNUTLS_NAME_DNS, p->host, strlen(p->host))) != 0)
		goto gnutls_fail;
	/*
	 * Rather than gnutls_session_set_verify_cert(): the callback does the
	 * same verification (chain and host name, inside the handshake) and
	 * can fall back to a pinned key.
	 */
	gnutls_session_set_verify_function(tls->session, tls_verify);
	gnutls_transport_set_int(tls->session, fd);
	gnutls_handshake_set_timeout(tls->session, tls->timeout_ms);

	deadline = net_now_ms() + tls->timeout_ms;
	for (;;) {
		r = gnutls_handshake(tls->session);
		if (r == 0)
			break;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED &&
		    gnutls_error_is_fatal(r)) {
			tls_handshake_error(tls, r, err);
			goto fail;
		}
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			continue;	/* a warning alert */
		events = gnutls_record_get_direction(tls->session) ?
		    POLLOUT : POLLIN;
		left = (int)(deadline - net_now_ms());
		switch (net_poll(fd, events, p->cancel_fd, left < 0 ? 0 :
		    left)) {
		case NET_POLL_READY:
			continue;
		case NET_POLL_TIMEOUT:
			error_set(err, ERR_NET, "%s: TLS handshake timed out",
			    p->host);
			goto fail;
		case NET_POLL_CANCELLED:
			error_set(err, ERR_CANCELLED, "%s: cancelled", p->host);
			goto fail;
		case NET_POLL_ERROR:
			error_set(err, ERR_NET, "%s: %s", p->host,
			    strerror(errno));
			goto fail;
		}
	}
	if (tls->trust == TLS_TRUST_NONE) {
		/* Cannot happen: the callback ran or the handshake failed. */
		error_set(err, ERR_TLS, "%s: certificate was not checked",
		    p->host);
		goto fail;
	}
	tls->params = NULL;
	tls->peer = NULL;
	tls->host = NULL;
	tls_peer_clear(&scratch);
	*tlsp = tls;
	return (0);

gnutls_fail:
	error_set(err, ERR_TLS, "%s: %s", p->host, gnutls_strerror(r));
fail:
	if (p->peer != NULL)
		p->peer->trust = TLS_TRUST_NONE;
	tls_peer_clear(&scratch);
	tls->peer = NULL;
	tls_free(&tls);
	return (-1);
}

void
tls_free(struct tls **tlsp)
{
	struct tls	*tls = *tlsp;

	if (tls == NULL)
		return;
	if (tls->session != NULL)
		gnutls_deinit(tls->session);
	/* tls->cred and tls->anchors belong to the process. */
	if (tls->desc != NULL)
		gnutls_free(tls->desc);
	free(tls);
	*tlsp = NULL;
}

const char *
tls_version(struct tls *tls)
{
	const char	*name;

	name = gnutls_protocol_get_name(gnutls_protocol_get_version(
	    tls->session));
	return (name != NULL ? name : "unknown");
}

const char *
tls_cipher(struct tls *tls)
{
	if (tls->desc == NULL)
		tls->desc = gnutls_session_get_desc(tls->session);
	return (tls->desc != NULL ? tls->desc : "");
}

enum tls_trust
tls_trust(struct tls *tls)
{
	return (tls->trust);
}

int
tls_pin_store(const struct tls_params *p, const struct tls_peer *peer,
    struct error *err)
{
	gnutls_datum_t	der;
	int		fd, r;

	if (p->pin_file == NULL || peer == NULL || peer->der == NULL)
		return (error_set(err, ERR_CONFIG,
		    "no pin file or no certificate to pin"));
	/* GnuTLS would create the file with the umask: make it 0600 first. */
	fd = open(p->pin_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return (error_set(err, ERR_IO, "%s: %s", p->pin_file,
		    strerror(errno)));
	close(fd);
	der.data = peer->der;
	der.size = (unsigned int)peer->der_len;
	r = gnutls_store_pubkey(p->pin_file, NULL, p->host,
	    p->service != NULL ? p->service : "", GNUTLS_CRT_X509, &der, 0, 0);
	if (r != 0)
		return (error_set(err, ERR_IO, "%s: cannot store the key: %s",
		    p->pin_file, gnutls_strerror(r)));
	return (0);
}
