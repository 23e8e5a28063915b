/*
 * facteur --fetch: downloads the new mail of POP3 accounts without the
 * terminal interface (for cron or a systemd timer), with progress on
 * standard error when it is a terminal, a one-line summary per account,
 * and a sysexits(3) status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/fetcher.h"
#include "config/config.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "net/net.h"

int	fetch_main(struct config *, char **, int);

/* Progress on a terminal: one line rewritten in place. */
static void
fetch_progress(void *arg, size_t done, size_t total, uint64_t bytes,
    double secs)
{
	const char	*name = arg;

	fprintf(stderr, "\r%s: fetching %zu/%zu, %.1f MB/s   ", name, done,
	    total, secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
	fflush(stderr);
}

/* Reads a password from the terminal with echo off. */
static char *
fetch_ask_password(const struct fetcher_info *pa)
{
	struct termios	 old, raw;
	char		 line[1024], *pw = NULL;
	FILE		*tty;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL)
		return (NULL);
	fprintf(tty, "Password for %s@%s (%s): ", pa->user, pa->host,
	    pa->name);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &raw);
	}
	if (fgets(line, sizeof line, tty) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		pw = xstrdup(line);
	}
	explicit_bzero(line, sizeof line);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	return (pw);
}

/* Server text made printable, into out. */
static const char *
fetch_clean(const char *in, char *out, size_t size)
{
	size_t	i;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	return (out);
}

/*
 * An untrusted certificate: shows its fingerprint and, on a terminal,
 * asks whether to pin it (trust on first use, as for IMAP). Returns 1
 * when it was pinned and the fetch may be tried again.
 */
static int
fetch_trust(const struct fetcher *f, const struct tls_peer *peer,
    const struct error *e)
{
	const struct fetcher_info *pa = fetcher_info(f);
	struct error		 err;
	char			 line[64], a[256], b[256];
	FILE			*tty;
	int			 yes;

	if (peer->fingerprint[0] == '\0')
		return (0);
	fprintf(stderr, "facteur: %s\n", e->msg);
	fprintf(stderr, "  server:  %s:%d\n  SHA-256: %s\n  subject: %s\n"
	    "  issuer:  %s\n", pa->host, pa->port, peer->fingerprint,
	    fetch_clean(peer->subject, a, sizeof a),
	    fetch_clean(peer->issuer, b, sizeof b));
	if (peer->key_changed) {
		fprintf(stderr, "facteur: %s: the server's key changed since "
		    "you trusted it; if that is expected, remove its line "
		    "from %s\n", pa->name, pa->pin_file);
		return (0);
	}
	if (!isatty(STDIN_FILENO) || (tty = fopen("/dev/tty", "r+e")) ==
	    NULL) {
		fprintf(stderr, "facteur: %s: to trust this certificate, "
		    "compare the fingerprint with the one your provider "
		    "gives, then run facteur --fetch %s in a terminal and "
		    "answer yes\n", pa->name, pa->name);
		return (0);
	}
	fprintf(tty, "Trust this certificate for %s? (yes/no) ", pa->host);
	fflush(tty);
	yes = fgets(line, sizeof line, tty) != NULL &&
	    (strcmp(line, "yes\n") == 0 || strcmp(line, "y\n") == 0);
	fclose(tty);
	if (!yes)
		return (0);
	if (fetcher_trust(f, peer, &err) != 0) {
		fprintf(stderr, "facteur: %s: %s\n", pa->name, err.msg);
		return (0);
	}
	fprintf(stderr, "facteur: %s: certificate pinned in %s\n", pa->name,
	    pa->pin_file);
	return (1);
}

/* Fetches one account; returns its exit status. */
static int
fetch_account(struct config *cfg, const struct config_account *ca)
{
	struct fetcher			*f;
	const struct fetcher_info	*pa;
	struct fetch_params		 fp;
	struct fetch_stats		 st;
	struct backend_params		 bp;
	struct backend			*be = NULL;
	struct tls_peer			 peer;
	struct error			 err;
	const char			*nm;
	char				*pw = NULL, *tags;
	int				 rv;

	error_clear(&err);
	if (fetcher_new(ca, &f, &err) != 0) {
		fprintf(stderr, "facteur: %s\n", err.msg);
		return (fetcher_exit_status(err.kind));
	}
	pa = fetcher_info(f);
	if (pa->password_cmd)
		pw = fetcher_password(f, 0, -1, &err);
	else if (isatty(STDIN_FILENO)) {
		if ((pw = fetch_ask_password(pa)) == NULL)
			error_set(&err, ERR_AUTH, "%s: no password", pa->name);
	} else
		error_set(&err, ERR_AUTH, "%s: no password_cmd and standard "
		    "input is not a terminal to ask for the password",
		    pa->name);
	if (pw == NULL)
		goto fail;

	memset(&bp, 0, sizeof bp);
	nm = ca->notmuch_config != NULL ? ca->notmuch_config :
	    config_get(cfg, "notmuch_config");
	bp.name = pa->name;
	bp.maildir = pa->maildir;
	bp.nm_config = nm != NULL ? nm : "";
	bp.exclude_tags = "";
	if (local_backend_ops.open(&be, &bp, &err) != 0)
		goto fail;

	memset(&fp, 0, sizeof fp);
	xasprintf(&tags, "+inbox +unread +%s", pa->name);
	fp.password = pw;
	fp.local = be;
	fp.tags = tags;
	fp.cancel_fd = -1;
	if (isatty(STDERR_FILENO)) {
		fp.progress = fetch_progress;
		fp.arg = (void *)pa->name;
	}
	memset(&peer, 0, sizeof peer);
	fp.peer = &peer;
	rv = fetcher_run(f, &fp, &st, &err);
	if (rv != 0 && err.kind == ERR_TLS && fetch_trust(f, &peer, &err)) {
		tls_peer_clear(&peer);
		error_clear(&err);
		rv = fetcher_run(f, &fp, &st, &err);
	}
	tls_peer_clear(&peer);
	free(tags);
	if (fp.progress != NULL)
		fputc('\n', stderr);
	if (rv != 0)
		goto fail;
	printf("%s: %zu new message%s (%.1f MB in %.1f s), %zu deleted on "
	    "the server, %zu there\n", pa->name, st.fetched + st.recovered,
	    st.fetched + st.recovered == 1 ? "" : "s",
	    (double)st.bytes / 1e6, st.seconds, st.deleted, st.on_server -
	    st.deleted);
	local_backend_ops.close(&be);
	fetcher_secret_free(&pw);
	fetcher_free(&f);
	return (0);
fail:
	fprintf(stderr, "facteur: %s\n", err.msg);
	if (be != NULL)
		local_backend_ops.close(&be);
	fetcher_secret_free(&pw);
	fetcher_free(&f);
	return (fetcher_exit_status(err.kind));
}

/* facteur --fetch [ACCOUNT...]: returns the exit status. */
int
fetch_main(struct config *cfg, char **names, int nnames)
{
	const struct config_account	*ca;
	size_t				 i;
	int				 k, status = 0, rv, found;

	for (k = 0; k < nnames; k++) {
		found = 0;
		for (i = 0; i < config_account_count(cfg); i++) {
			ca = config_account_at(cfg, i);
			if (strcmp(ca->name, names[k]) == 0 &&
			    fetcher_wants(ca))
				found = 1;
		}
		if (!found) {
			fprintf(stderr, "facteur: no POP3 account named %s\n",
			    names[k]);
			return (78);
		}
	}
	found = 0;
	for (i = 0; i < config_account_count(cfg); i++) {
		ca = config_account_at(cfg, i);
		if (!fetcher_wants(ca))
			continue;
		for (k = 0; k < nnames; k++) {
			if (strcmp(ca->name, names[k]) == 0)
				break;
		}
		if (nnames > 0 && k == nnames)
			continue;
		found++;
		if ((rv = fetch_account(cfg, ca)) != 0 && status == 0)
			status = rv;
	}
	if (found == 0) {
		fprintf(stderr, "facteur: no POP3 account in the "
		    "configuration\n");
		return (78);
	}
	return (status);
}
