/*
 * What a network account asks the user: its password (no echo, kept in
 * memory only) and, when the server's certificate is not trusted, whether
 * to pin it after showing its SHA-256 fingerprint, subject, issuer, expiry
 * and why it failed. Pins go to a 0600 file through tls_pin_store. Asked
 * when an open fails, and when an open backend says it waits for the user
 * (its attention op: a reconnect, or a connect behind cached rows).
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
	int			 open;	/* the backend is open: retry there */
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
	if (c->open) {
		/* The backend keeps it for this run; nothing else does. */
		if (a->backend != NULL && a->ops->retry != NULL)
			a->ops->retry(a->backend, text);
		ui_message(ui, "%s: connecting...", a->name);
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

/*
 * Why a password is asked, for the prompt: the error's text without the
 * account's name and past its first colon ("login refused", "password_cmd
 * failed (exit 1)"), capitalised unless it starts with a name.
 */
static void
credentials_reason(const char *account, const char *msg, char *out,
    size_t size)
{
	size_t	len = strlen(account);

	if (strncmp(msg, account, len) == 0 && strncmp(msg + len, ": ",
	    2) == 0)
		msg += len + 2;
	snprintf(out, size, "%.*s", (int)strcspn(msg, ":"), msg);
	/* "login refused", not a name such as "password_cmd". */
	if (out[0] >= 'a' && out[0] <= 'z' && strcspn(out, "_ ") ==
	    strcspn(out, " "))
		out[0] = (char)(out[0] - 'a' + 'A');
}

/* Asks the password without echo; reason (or NULL) says why first. */
static void
credentials_password(struct ui *ui, struct account *a, const char *reason,
    int open, credentials_retry_cb retry)
{
	struct credentials	*c;
	char			 label[64], *user;

	c = xcalloc(1, sizeof *c);
	c->account = a;
	c->retry = retry;
	c->open = open;
	user = a->params.user != NULL ? xstrdup(a->params.user) :
	    credentials_url_part(a->params.imap, 1);
	if (reason != NULL)
		snprintf(label, sizeof label, "%.30s; password for %.16s: ",
		    reason, user != NULL ? user : a->name);
	else
		snprintf(label, sizeof label, "Password for %.30s: ",
		    user != NULL ? user : a->name);
	free(user);
	ui_prompt_secret(ui, label, credentials_password_done, c);
}

int
credentials_ask(struct ui *ui, struct account *a, const struct error *e,
    credentials_retry_cb retry)
{
	struct credentials	*c;
	struct tls_peer		*peer = a->params.tls_peer;
	char			 reason[64] = "";

	if (a->params.imap == NULL)
		return (-1);
	if (e->kind == ERR_AUTH) {
		/* A password we had (typed, or password_cmd's) was refused,
		   or password_cmd failed: say so. */
		if (a->password != NULL)
			snprintf(reason, sizeof reason, "Login refused");
		else if (a->params.password_cmd != NULL)
			credentials_reason(a->name, e->msg, reason,
			    sizeof reason);
		credentials_password(ui, a, a->password != NULL ||
		    a->params.password_cmd != NULL ? reason : NULL, 0, retry);
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

/* After the user pinned the certificate: the open backend tries again. */
static void
credentials_resume(struct ui *ui, struct account *a)
{
	if (a->backend != NULL && a->ops->retry != NULL)
		a->ops->retry(a->backend, NULL);
}

int
credentials_attention(struct ui *ui, struct account *a)
{
	struct credentials	*c;
	struct error		 e;
	char			 reason[64];
	int			 kind;

	if (a->backend == NULL || a->ops->attention == NULL ||
	    a->params.imap == NULL || ui_prompting(ui))
		return (0);	/* a prompt in use: asked when it ends */
	credentials_prepare(a);
	error_clear(&e);
	kind = a->ops->attention(a->backend, e.msg, sizeof e.msg,
	    a->params.tls_peer);
	switch (kind) {
	case BACKEND_ATTN_PASSWORD:
		credentials_reason(a->name, e.msg, reason, sizeof reason);
		credentials_password(ui, a, reason, 1, credentials_resume);
		break;
	case BACKEND_ATTN_CERTIFICATE:
		e.kind = ERR_TLS;
		if (a->params.tls_peer->fingerprint[0] == '\0' ||
		    a->params.tls_peer->key_changed ||
		    a->params.pin_file == NULL) {
			/* Not offered (a pinned key changed): said only. */
			ui_error(ui, "%s: offline: %s", a->name, e.msg);
			tls_peer_clear(a->params.tls_peer);
			break;
		}
		c = xcalloc(1, sizeof *c);
		c->account = a;
		c->retry = credentials_resume;
		c->open = 1;
		credentials_trust(ui, a, &e, c);
		break;
	}
	return (kind != BACKEND_ATTN_NONE);
}
