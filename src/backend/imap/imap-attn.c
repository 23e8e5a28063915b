/*
 * What the IMAP backend waits for the user about once it is open: a login
 * the server refused (or a password_cmd that failed) and a certificate
 * that no longer verifies, met by the background thread or a worker
 * operation. The backend goes offline and stays there, without trying
 * again on its own, until the UI hands back a password or says the key
 * was pinned (imap_retry), or a sync asks for another try.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* The text of an error without its "account: " prefix. */
static const char *
imap_attention_text(struct backend *be, const char *msg)
{
	size_t	len = strlen(be->name);

	if (strncmp(msg, be->name, len) == 0 && msg[len] == ':' &&
	    msg[len + 1] == ' ')
		return (msg + len + 2);
	return (msg);
}

/*
 * Records that the user must answer (kind, why, and for a certificate
 * the peer, whose DER is taken) and goes offline; the UI is told with
 * BACKEND_ATTENTION. A request already pending is replaced: it is one
 * failure, and the UI is asked once for it.
 */
void
imap_attention_set(struct backend *be, int kind, const struct error *err,
    struct tls_peer *peer)
{
	const char	*text = imap_attention_text(be, err->msg);

	pthread_mutex_lock(&be->data_lock);
	if (be->attn == kind && be->attn_told) {
		/* Asked already and not answered (a worker met the same
		   failure): no second prompt. */
		pthread_mutex_unlock(&be->data_lock);
		if (peer != NULL)
			tls_peer_clear(peer);
		return;
	}
	be->attn = kind;
	be->attn_told = 0;
	snprintf(be->attn_msg, sizeof be->attn_msg, "%s",
	    kind == BACKEND_ATTN_CERTIFICATE && peer != NULL &&
	    peer->reason[0] != '\0' ? peer->reason : text);
	tls_peer_clear(&be->attn_peer);
	if (peer != NULL) {
		be->attn_peer = *peer;		/* the DER goes too */
		memset(peer, 0, sizeof *peer);
	}
	be->state = IMAP_OFFLINE;
	snprintf(be->state_msg, sizeof be->state_msg, "offline: %s", text);
	pthread_mutex_unlock(&be->data_lock);
	log_debug("imap: %s: waiting for the user: %s", be->name, text);
	imap_notify(be, BACKEND_ATTENTION | BACKEND_CHANGED_FOLDERS);
}

/* Forgets the request (a sync tries again, and asks anew on failure). */
void
imap_attention_clear(struct backend *be)
{
	pthread_mutex_lock(&be->data_lock);
	be->attn = BACKEND_ATTN_NONE;
	be->attn_told = 0;
	tls_peer_clear(&be->attn_peer);
	pthread_mutex_unlock(&be->data_lock);
}

int
imap_attention_pending(struct backend *be)
{
	int	pending;

	pthread_mutex_lock(&be->data_lock);
	pending = be->attn != BACKEND_ATTN_NONE;
	pthread_mutex_unlock(&be->data_lock);
	return (pending);
}

/* Takes the password the user typed, if any, for the login to come. */
void
imap_attention_password(struct backend *be)
{
	pthread_mutex_lock(&be->data_lock);
	if (be->attn_password != NULL) {
		if (be->password != NULL) {
			explicit_bzero(be->password, strlen(be->password));
			free(be->password);
		}
		be->password = be->attn_password;
		be->attn_password = NULL;
	}
	pthread_mutex_unlock(&be->data_lock);
}

/* [reader] The backend op attention. */
int
imap_attention(struct backend *be, char *msg, size_t size,
    struct tls_peer *peer)
{
	int	kind = BACKEND_ATTN_NONE;

	if (peer != NULL)
		tls_peer_clear(peer);
	pthread_mutex_lock(&be->data_lock);
	if (be->attn != BACKEND_ATTN_NONE && !be->attn_told) {
		kind = be->attn;
		be->attn_told = 1;
		snprintf(msg, size, "%s", be->attn_msg);
		if (peer != NULL && kind == BACKEND_ATTN_CERTIFICATE) {
			*peer = be->attn_peer;
			if (be->attn_peer.der != NULL) {
				peer->der = xmalloc(be->attn_peer.der_len);
				memcpy(peer->der, be->attn_peer.der,
				    be->attn_peer.der_len);
			}
		}
	}
	pthread_mutex_unlock(&be->data_lock);
	return (kind);
}

/* [reader] The backend op retry: wakes the thread to connect at once. */
void
imap_retry(struct backend *be, const char *password)
{
	uint64_t	one = 1;

	pthread_mutex_lock(&be->data_lock);
	if (password != NULL) {
		if (be->attn_password != NULL) {
			explicit_bzero(be->attn_password,
			    strlen(be->attn_password));
			free(be->attn_password);
		}
		be->attn_password = xstrdup(password);
	}
	be->attn = BACKEND_ATTN_NONE;
	be->attn_told = 0;
	tls_peer_clear(&be->attn_peer);
	be->state = IMAP_RECONNECTING;
	snprintf(be->state_msg, sizeof be->state_msg, "connecting...");
	pthread_mutex_unlock(&be->data_lock);
	if (write(be->wake_fd, &one, sizeof one) == -1)
		log_warn("imap wake");
	imap_notify(be, BACKEND_CHANGED_FOLDERS);
}

/* Frees what a request holds. */
void
imap_attention_free(struct backend *be)
{
	tls_peer_clear(&be->attn_peer);
	if (be->attn_password != NULL) {
		explicit_bzero(be->attn_password, strlen(be->attn_password));
		free(be->attn_password);
		be->attn_password = NULL;
	}
}

/* While an answer is awaited: -1 with ERR_NET (offline, as a dropped
   connection is: flag changes are kept for later), without a try. */
int
imap_attention_error(struct backend *be, struct error *err)
{
	char	msg[256];
	int	pending;

	pthread_mutex_lock(&be->data_lock);
	pending = be->attn != BACKEND_ATTN_NONE;
	snprintf(msg, sizeof msg, "%s", be->attn_msg);
	pthread_mutex_unlock(&be->data_lock);
	if (!pending)
		return (0);
	return (error_set(err, ERR_NET, "%s: offline: %s", be->name, msg));
}
