/*
 * Accounts: hold the backend parameters and own the worker thread.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/worker.h"
#include "core/path.h"
#include "core/xmalloc.h"
#include "mail/account.h"

struct account_notify {
	account_notify_cb	 cb;
	void			*arg;
	struct account		*account;
};

struct account *
account_new(struct loop *loop, const char *name, const char *maildir,
    const char *nm_config, const char *exclude_tags)
{
	struct account	*a;

	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	a->ops = &local_backend_ops;
	a->maildir = xstrdup(maildir);
	a->nm_config = nm_config != NULL ? xstrdup(nm_config) : NULL;
	a->exclude_tags = xstrdup(exclude_tags != NULL ? exclude_tags : "");
	a->searches = xcalloc(1, sizeof *a->searches);
	a->worker = worker_new(loop, name);
	a->params.name = a->name;
	a->params.maildir = a->maildir;
	a->params.nm_config = a->nm_config;
	a->params.exclude_tags = a->exclude_tags;
	a->params.searches = (const char *const *)a->searches;
	return (a);
}

void
account_add_search(struct account *a, const char *name, const char *query)
{
	size_t	n;

	for (n = 0; a->searches[n] != NULL; n++)
		;
	a->searches = xreallocarray(a->searches, n + 3, sizeof *a->searches);
	a->searches[n] = xstrdup(name);
	a->searches[n + 1] = xstrdup(query);
	a->searches[n + 2] = NULL;
	a->params.searches = (const char *const *)a->searches;
}

void
account_free(struct account **ap)
{
	struct account	*a = *ap;
	size_t		 i;

	if (a == NULL)
		return;
	worker_free(&a->worker);
	if (a->backend != NULL)
		a->ops->close(&a->backend);
	for (i = 0; a->searches[i] != NULL; i++)
		free(a->searches[i]);
	free(a->searches);
	free(a->name);
	free(a->maildir);
	free(a->nm_config);
	free(a->exclude_tags);
	free(a->notify);
	if (a->password != NULL)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	free(a->pin_file);
	free(a->cache_dir);
	free(a->params.tls_peer);	/* its DER is cleared by the UI */
	free(a);
	*ap = NULL;
}

/* Forwards a backend's notification (any thread) to the UI's callback. */
static void
account_notified(void *arg, unsigned what)
{
	struct account_notify	*an = arg;

	(void)what;
	if (an->cb != NULL)
		an->cb(an->account, an->arg);
}

void
account_set_notify(struct account *a, account_notify_cb cb, void *arg)
{
	struct account_notify	*an = a->notify;

	if (an == NULL) {
		an = xcalloc(1, sizeof *an);
		a->notify = an;
	}
	an->cb = cb;
	an->arg = arg;
	an->account = a;
	a->params.notify = account_notified;
	a->params.notify_arg = an;
}

/* Checks that a Maildir can be opened. */
static int
account_check_maildir(const char *name, const char *path, struct error *err)
{
	struct stat	sb;

	if (stat(path, &sb) == -1) {
		if (errno == ENOENT)
			return (error_set(err, ERR_NOTFOUND, "%s: %s: no such "
			    "Maildir (give one with -f DIR, or set maildir in "
			    "an account)", name, path));
		return (error_set(err, ERR_IO, "%s: %s: %s", name, path,
		    strerror(errno)));
	}
	if (!S_ISDIR(sb.st_mode))
		return (error_set(err, ERR_NOTFOUND, "%s: %s: not a directory",
		    name, path));
	if (access(path, R_OK | X_OK) == -1)
		return (error_set(err, ERR_IO, "%s: %s: %s", name, path,
		    strerror(errno)));
	return (0);
}

/* $XDG_<KIND>_HOME/facteur (or ~/DEFAULT/facteur), owned. */
static char *
account_xdg(const char *var, const char *fallback)
{
	const char	*base = getenv(var), *home = getenv("HOME");
	char		*out;

	if (base != NULL && *base == '/')
		xasprintf(&out, "%s/facteur", base);
	else
		xasprintf(&out, "%s/%s/facteur", home != NULL ? home : "",
		    fallback);
	return (out);
}

/* Seconds in "90", "90s", "10m" or "1h"; -1 when malformed. */
static long
account_seconds(const char *s)
{
	char	unit = 's', extra;
	long	v;
	int	n;

	n = sscanf(s, "%ld%c%c", &v, &unit, &extra);
	if (n < 1 || n > 2 || v < 0 || v > 1000000L)
		return (-1);
	if (unit == 'm')
		return (v * 60);
	if (unit == 'h')
		return (v * 3600);
	return (unit == 's' ? v : -1);
}

/* An IMAP account: the server holds the mail; keys pinned by the user
   go to $XDG_DATA_HOME/facteur/known_hosts, the cache under
   $XDG_CACHE_HOME/facteur. */
static struct account *
account_imap(struct loop *loop, struct config *cfg,
    const struct config_account *ca, struct error *err)
{
	struct account	*a;
	char		*dir;
	long		 secs = 0;

	/* How often other folders' counts are asked when the server
	   cannot push them: at least 10 s, or 0 for never. */
	if (ca->poll_interval != NULL &&
	    ((secs = account_seconds(ca->poll_interval)) < 0 ||
	    (secs > 0 && secs < 10))) {
		error_set(err, ERR_CONFIG, "%s:%u: account %s: poll_interval "
		    "%s: expected a duration of at least 10s (90s, 10m, 1h) "
		    "or 0", ca->file, ca->line, ca->name, ca->poll_interval);
		return (NULL);
	}

	a = account_new(loop, ca->name, "", "",
	    config_get(cfg, "exclude_tags"));
	a->config = ca;
	a->ops = &imap_backend_ops;
	dir = account_xdg("XDG_DATA_HOME", ".local/share");
	xasprintf(&a->pin_file, "%s/known_hosts", dir);
	free(dir);
	a->cache_dir = account_xdg("XDG_CACHE_HOME", ".cache");
	a->params.imap = ca->imap;
	a->params.user = ca->user;
	a->params.password_cmd = ca->password_cmd;
	a->params.tls = ca->tls;
	a->params.tls_ca_file = ca->tls_ca_file;
	a->params.pin_file = a->pin_file;
	a->params.cache_dir = a->cache_dir;
	a->params.poll_secs = ca->poll_interval == NULL ? 0 :
	    secs == 0 ? -1 : (int)secs;
	a->params.subscribed_only = ca->subscribed_only != NULL &&
	    strcmp(ca->subscribed_only, "yes") == 0;
	return (a);
}

struct account *
account_from_config(struct loop *loop, struct config *cfg,
    const struct config_account *ca, const char *maildir, struct error *err)
{
	struct account	*a;
	const char	*nm, *name = ca != NULL ? ca->name : "local";
	char		*path;

	if (ca != NULL && ca->imap != NULL)
		return (account_imap(loop, cfg, ca, err));
	if (ca != NULL)
		maildir = ca->maildir;
	if (maildir == NULL) {
		error_set(err, ERR_CONFIG, "%s:%u: account %s has no "
		    "maildir; only local Maildir accounts can be read yet",
		    ca->file, ca->line, ca->name);
		return (NULL);
	}
	path = path_expand_home(maildir);
	if (account_check_maildir(name, path, err) != 0) {
		free(path);
		return (NULL);
	}
	nm = ca != NULL && ca->notmuch_config != NULL ? ca->notmuch_config :
	    config_get(cfg, "notmuch_config");
	a = account_new(loop, name, path, nm != NULL ? nm : "",
	    config_get(cfg, "exclude_tags"));
	a->config = ca;
	free(path);
	return (a);
}
