/*
 * Accounts: hold the backend parameters and own the worker thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"

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
	free(a);
	*ap = NULL;
}
