/*
 * The POP3 side of the fetcher interface (backend/fetcher.h): a POP3
 * account behind struct fetcher, so that the interface and --fetch never
 * see pop3.h. Each operation forwards to pop3_account_new, pop3_fetch
 * and friends.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/fetcher.h"
#include "backend/pop3/pop3.h"
#include "config/config.h"
#include "core/xmalloc.h"
#include "net/net.h"

/* A POP3 account and the strings its fetcher_info points to. */
struct pop3_fetcher {
	struct pop3_account	*pa;
	char			*server;
};

/* A config block with a pop3 line fetches over POP3. */
static int
pop3_fetcher_wants(const struct config_account *ca)
{
	return (ca->pop3 != NULL);
}

static int
pop3_fetcher_create(const struct config_account *ca, void **out,
    struct fetcher_info *info, struct error *err)
{
	struct pop3_fetcher	*pf;
	struct pop3_account	*pa;

	if (pop3_account_new(ca, &pa, err) != 0)
		return (-1);
	pf = xcalloc(1, sizeof *pf);
	pf->pa = pa;
	xasprintf(&pf->server, "%s://%s:%d", pa->tls == POP3_TLS_IMPLICIT ?
	    "pop3s" : "pop3", pa->host, pa->port);
	memset(info, 0, sizeof *info);
	info->name = pa->name;
	info->user = pa->user;
	info->host = pa->host;
	info->port = pa->port;
	info->server = pf->server;
	info->pin_file = pa->pin_file;
	info->maildir = pa->maildir;
	info->poll_secs = pa->poll_secs;
	info->password_cmd = pa->password_cmd != NULL;
	*out = pf;
	return (0);
}

static void
pop3_fetcher_destroy(void **p)
{
	struct pop3_fetcher	*pf = *p;

	if (pf == NULL)
		return;
	pop3_account_free(&pf->pa);
	free(pf->server);
	free(pf);
	*p = NULL;
}

static char *
pop3_fetcher_password(void *p, int quiet, int cancel_fd, struct error *err)
{
	struct pop3_fetcher	*pf = p;

	return (pop3_password_run(pf->pa, quiet, cancel_fd, err));
}

static int
pop3_fetcher_run(void *p, const struct fetch_params *in,
    struct fetch_stats *out, struct error *err)
{
	struct pop3_fetcher		*pf = p;
	struct pop3_fetch_params	 fp;
	struct pop3_stats		 st;
	int				 rv;

	memset(&fp, 0, sizeof fp);
	fp.password = in->password;
	fp.local = in->local;
	fp.tags = in->tags;
	fp.cancel_fd = in->cancel_fd;
	fp.cancel = in->cancel;
	fp.progress = in->progress;
	fp.indexed = in->indexed;
	fp.arg = in->arg;
	fp.peer = in->peer;
	rv = pop3_fetch(pf->pa, &fp, &st, err);
	if (out != NULL) {
		memset(out, 0, sizeof *out);
		out->on_server = st.on_server;
		out->to_fetch = st.to_fetch;
		out->fetched = st.fetched;
		out->recovered = st.recovered;
		out->deleted = st.deleted;
		out->bytes = st.bytes;
		out->seconds = st.seconds;
	}
	return (rv);
}

static int
pop3_fetcher_trust(void *p, const struct tls_peer *peer, struct error *err)
{
	struct pop3_fetcher	*pf = p;
	struct tls_params	 tp;

	if (peer == NULL || peer->fingerprint[0] == '\0')
		return (error_set(err, ERR_TLS, "%s: no certificate to trust",
		    pf->pa->name));
	if (peer->key_changed)
		return (error_set(err, ERR_TLS, "%s: the server's key changed "
		    "since you trusted it; if that is expected, remove its "
		    "line from %s", pf->pa->name, pf->pa->pin_file));
	memset(&tp, 0, sizeof tp);
	tp.host = pf->pa->host;
	tp.pin_file = pf->pa->pin_file;
	tp.service = "pop3";
	if (pop3_mkdirs_parent(pf->pa->pin_file, err) != 0)
		return (-1);
	return (tls_pin_store(&tp, peer, err));
}

const struct fetcher_ops pop3_fetcher_ops = {
	.wants = pop3_fetcher_wants,
	.create = pop3_fetcher_create,
	.destroy = pop3_fetcher_destroy,
	.password = pop3_fetcher_password,
	.run = pop3_fetcher_run,
	.trust = pop3_fetcher_trust,
};
