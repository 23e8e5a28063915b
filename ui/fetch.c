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
#include "backend/pop3/pop3.h"
#include "config/config.h"
#include "core/error.h"
#include "core/xmalloc.h"

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
fetch_ask_password(const struct pop3_account *pa)
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

/* Fetches one account; returns its exit status. */
static int
fetch_account(struct config *cfg, const struct config_account *ca)
{
	struct pop3_account		*pa;
	struct pop3_fetch_params	 fp;
	struct pop3_stats		 st;
	struct backend_params		 bp;
	struct backend			*be = NULL;
	struct error			 err;
	const char			*nm;
	char				*pw = NULL, *tags;
	int				 rv;

	error_clear(&err);
	if (pop3_account_new(ca, &pa, &err) != 0) {
		fprintf(stderr, "facteur: %s\n", err.msg);
		return (pop3_exit_status(err.kind));
	}
	if (pa->password_cmd != NULL)
		pw = pop3_password_from_cmd(pa, &err);
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
		fp.arg = pa->name;
	}
	rv = pop3_fetch(pa, &fp, &st, &err);
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
	pop3_secret_free(&pw);
	pop3_account_free(&pa);
	return (0);
fail:
	fprintf(stderr, "facteur: %s\n", err.msg);
	if (be != NULL)
		local_backend_ops.close(&be);
	pop3_secret_free(&pw);
	pop3_account_free(&pa);
	return (pop3_exit_status(err.kind));
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
			if (strcmp(ca->name, names[k]) == 0 && ca->pop3 != NULL)
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
		if (ca->pop3 == NULL)
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
