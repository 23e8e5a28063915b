/*
 * The fetcher front: picks the protocol that fetches an account's mail
 * (POP3 today) from its config block and forwards to it, so that the
 * interface never includes a protocol's header.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/fetcher.h"
#include "config/config.h"
#include "core/xmalloc.h"

struct fetcher {
	const struct fetcher_ops	*ops;
	void				*impl;
	struct fetcher_info		 info;
};

/* The protocols that fetch, in the order they are asked. */
static const struct fetcher_ops *const fetcher_protocols[] = {
	&pop3_fetcher_ops,
};

/* The protocol of an account, or NULL. */
static const struct fetcher_ops *
fetcher_ops_for(const struct config_account *ca)
{
	size_t	i;

	for (i = 0; i < sizeof fetcher_protocols / sizeof *fetcher_protocols;
	    i++) {
		if (fetcher_protocols[i]->wants(ca))
			return (fetcher_protocols[i]);
	}
	return (NULL);
}

int
fetcher_wants(const struct config_account *ca)
{
	return (ca != NULL && fetcher_ops_for(ca) != NULL);
}

int
fetcher_new(const struct config_account *ca, struct fetcher **out,
    struct error *err)
{
	const struct fetcher_ops	*ops;
	struct fetcher			*f;

	*out = NULL;
	if ((ops = fetcher_ops_for(ca)) == NULL)
		return (error_set(err, ERR_CONFIG, "%s:%u: account %s: no "
		    "pop3 line: nothing to fetch", ca->file, ca->line,
		    ca->name));
	f = xcalloc(1, sizeof *f);
	f->ops = ops;
	if (ops->create(ca, &f->impl, &f->info, err) != 0) {
		free(f);
		return (-1);
	}
	*out = f;
	return (0);
}

void
fetcher_free(struct fetcher **fp)
{
	struct fetcher	*f = *fp;

	if (f == NULL)
		return;
	f->ops->destroy(&f->impl);
	free(f);
	*fp = NULL;
}

const struct fetcher_info *
fetcher_info(const struct fetcher *f)
{
	return (&f->info);
}

char *
fetcher_password(const struct fetcher *f, int quiet, int cancel_fd,
    struct error *err)
{
	return (f->ops->password(f->impl, quiet, cancel_fd, err));
}

void
fetcher_secret_free(char **sp)
{
	if (*sp == NULL)
		return;
	explicit_bzero(*sp, strlen(*sp));
	free(*sp);
	*sp = NULL;
}

int
fetcher_run(const struct fetcher *f, const struct fetch_params *fp,
    struct fetch_stats *stats, struct error *err)
{
	return (f->ops->run(f->impl, fp, stats, err));
}

int
fetcher_trust(const struct fetcher *f, const struct tls_peer *peer,
    struct error *err)
{
	return (f->ops->trust(f->impl, peer, err));
}

int
fetcher_exit_status(enum error_kind kind)
{
	switch (kind) {
	case ERR_NONE:
		return (0);
	case ERR_NET:
	case ERR_REFUSED:
	case ERR_CANCELLED:
		return (75);	/* EX_TEMPFAIL */
	case ERR_AUTH:
	case ERR_TLS:
		return (77);	/* EX_NOPERM */
	case ERR_CONFIG:
	case ERR_NOTFOUND:
		return (78);	/* EX_CONFIG */
	case ERR_IO:
		return (74);	/* EX_IOERR */
	default:
		return (76);	/* EX_PROTOCOL */
	}
}
