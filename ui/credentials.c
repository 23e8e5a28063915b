/*
 * What a network account asks the user: its password (no echo, kept in
 * memory only) and, when the server's certificate is not trusted, whether
 * to pin it after showing its SHA-256 fingerprint, subject, issuer, expiry
 * and why it failed. Pins go to a 0600 file through tls_pin_store.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "net/net.h"
#include "ui/ui.h"

struct credentials {
	struct account		*account;
	credentials_retry_cb	 retry;
};

/*
 * The user ("user@") and host of a server address "scheme://user@host:port",
 * owned, or NULL. The backend parses the same addresses; the UI does not
 * include backend headers, and these two parts are all it needs (the
 * host names the pin, the user the prompt).
 */
static char *
credentials_url_part(const char *url, int want_user)
{
	const char	*h = strstr(url, "://"), *at, *end;

	h = h != NULL ? h + 3 : url;
	end = h + strcspn(h, "/");
	at = memchr(h, '@', end - h);
	if (want_user)
		return (at != NULL ? xstrndup(h, at - h) : NULL);
	if (at != NULL)
		h = at + 1;
	return (xstrndup(h, strcspn(h, ":/")));
}

void
credentials_prepare(struct account *a)
{
	if (a->params.imap == NULL)
		return;
	if (a->params.tls_peer == NULL)
		a->params.tls_peer = xcalloc(1, sizeof *a->params.tls_peer);
	else
		tls_peer_clear(a->params.tls_peer);
}

/* The password prompt's answer. */
static void
credentials_password_done(struct ui *ui, const char *text, void *arg)
{
	struct credentials	*c = arg;
	struct account		*a = c->account;

	if (text == NULL || *text == '\0') {
		ui_error(ui, "%s: no password given; not connected", a->name);
		free(c);
		return;
	}
	if (a->password != NULL)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	a->password = xstrdup(text);
	a->params.password = a->password;
	c->retry(ui, a);
	free(c);
}

/* Creates the parent directories of path, 0700. */
static void
credentials_mkdirs(const char *path)
{
	char	*p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0700);
		*s = '/';
	}
	free(p);
}

/* The trust prompt's answer: pin the key, or give up. */
static void
credentials_trust_done(struct ui *ui, const char *text, void *arg)
{
	struct credentials	*c = arg;
	struct account		*a = c->account;
	struct tls_params	 tp;
	struct error		 err;
	char			*host;

	ui_pop(ui);		/* the certificate's details */
	if (text == NULL || (strcasecmp(text, "yes") != 0 &&
	    strcasecmp(text, "y") != 0)) {
		ui_error(ui, "%s: certificate not trusted; not connected",
		    a->name);
		tls_peer_clear(a->params.tls_peer);
		free(c);
		return;
	}
	memset(&tp, 0, sizeof tp);
	host = credentials_url_part(a->params.imap, 0);
	tp.host = host;
	tp.pin_file = a->params.pin_file;
	tp.service = "imap";
	credentials_mkdirs(tp.pin_file);
	if (tls_pin_store(&tp, a->params.tls_peer, &err) != 0)
		ui_error(ui, "%s: %s", a->name, err.msg);
	else {
		ui_message(ui, "%s: certificate pinned in %s", a->name,
		    tp.pin_file);
		c->retry(ui, a);
	}
	tls_peer_clear(a->params.tls_peer);
	free(host);
	free(c);
}

void
credentials_show_certificate(struct ui *ui, const char *account,
    const char *server, const struct tls_peer *peer, const char *reason,
    const char *pin_file)
{
	struct buf	 b;
	char		 expiry[64];
	struct tm	 tm;
	size_t		 len;

	if (gmtime_r(&peer->not_after, &tm) == NULL ||
	    strftime(expiry, sizeof expiry, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(expiry, sizeof expiry, "unknown");
	buf_init(&b);
	buf_addf(&b, "Subject: Certificate of %s is not trusted\n\n", server);
	buf_addf(&b, "Account:     %s\nServer:      %s\n", account, server);
	buf_addf(&b, "Reason:      %s\n", peer->reason[0] != '\0' ?
	    peer->reason : reason);
	/* 32 bytes in two rows of 16, so that no line wraps. */
	len = strlen(peer->fingerprint);
	buf_addf(&b, "SHA-256:     %.*s\n", (int)(len > 48 ? 48 : len),
	    peer->fingerprint);
	if (len > 48)
		buf_addf(&b, "             %s\n", peer->fingerprint + 48);
	buf_addf(&b, "Subject:     %s\n", peer->subject);
	buf_addf(&b, "Issuer:      %s\n", peer->issuer);
	buf_addf(&b, "Expires:     %s\n\n", expiry);
	buf_addf(&b, "Compare the fingerprint with one you got from the "
	    "server's administrator\nthrough another channel. If you "
	    "trust it, facteur remembers this key for\nthis server in "
	    "%s and accepts it from now on.\n", pin_file);
	pager_open_text(ui, "Untrusted certificate", buf_str(&b), b.len);
	buf_free(&b);
}

/* Shows what the server presented and asks whether to trust it. */
static void
credentials_trust(struct ui *ui, struct account *a,
    const struct error *e, struct credentials *c)
{
	credentials_show_certificate(ui, a->name, a->params.imap,
	    a->params.tls_peer, e->msg, a->params.pin_file);
	ui_prompt(ui, "Trust this certificate? (yes/no) ", NULL,
	    credentials_trust_done, c);
}

int
credentials_ask(struct ui *ui, struct account *a, const struct error *e,
    credentials_retry_cb retry)
{
	struct credentials	*c;
	struct tls_peer		*peer = a->params.tls_peer;
	char			 label[64], *user;

	if (a->params.imap == NULL)
		return (-1);
	if (e->kind == ERR_AUTH && a->params.password_cmd == NULL) {
		c = xcalloc(1, sizeof *c);
		c->account = a;
		c->retry = retry;
		user = a->params.user != NULL ? xstrdup(a->params.user) :
		    credentials_url_part(a->params.imap, 1);
		/* A password we already had was refused: say so. */
		snprintf(label, sizeof label, "%s for %s: ", a->password !=
		    NULL ? "Login refused; password" : "Password",
		    user != NULL ? user : a->name);
		free(user);
		ui_prompt_secret(ui, label, credentials_password_done, c);
		return (0);
	}
	if (e->kind == ERR_TLS && peer != NULL && peer->fingerprint[0] !=
	    '\0' && !peer->key_changed && a->params.pin_file != NULL) {
		c = xcalloc(1, sizeof *c);
		c->account = a;
		c->retry = retry;
		credentials_trust(ui, a, e, c);
		return (0);
	}
	return (-1);
}
