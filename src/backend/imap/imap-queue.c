/*
 * Flag changes made while the server cannot be reached: shown at once
 * (the summaries in memory change), kept in order in a queue and in a
 * journal beside the header cache (ACCOUNT/pending, 0600, one
 * "ADD REMOVE ID" line each, fsynced) so that a killed process loses
 * none, and replayed first thing once a session is up. A change the
 * server refuses is undone in memory and said in the status line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct imap_pending {
	char			*id;
	unsigned		 add;
	unsigned		 remove;
	struct imap_pending	*next;
};

/* The journal's path, or NULL without a cache directory. */
static char *
imap_queue_path(struct backend *be)
{
	char	*path;

	if (be->cache_dir == NULL)
		return (NULL);
	xasprintf(&path, "%s/pending", be->cache_dir);
	return (path);
}

/* Writes the whole queue to the journal, atomically; an empty queue
   removes it. Called with data_lock held. */
static void
imap_queue_save(struct backend *be)
{
	struct imap_pending	*q;
	char			*path, *tmp;
	FILE			*f;

	if ((path = imap_queue_path(be)) == NULL)
		return;
	if (be->pending == NULL) {
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("%s", path);
		free(path);
		return;
	}
	xasprintf(&tmp, "%s.tmp", path);
	if ((f = imap_file_create(tmp)) == NULL) {
		free(tmp);
		free(path);
		return;
	}
	for (q = be->pending; q != NULL; q = q->next)
		fprintf(f, "%u %u %s\n", q->add, q->remove, q->id);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		log_warn("%s", tmp);
		fclose(f);
		unlink(tmp);
	} else if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_warn("%s", path);
		unlink(tmp);
	}
	free(tmp);
	free(path);
}

/* Appends one change to the queue (data_lock held). */
static void
imap_queue_push(struct backend *be, const char *id, unsigned add,
    unsigned remove)
{
	struct imap_pending	*q, **qp;

	q = xcalloc(1, sizeof *q);
	q->id = xstrdup(id);
	q->add = add;
	q->remove = remove;
	for (qp = &be->pending; *qp != NULL; qp = &(*qp)->next)
		;
	*qp = q;
	be->npending++;
}

/* Sets a message's flags in memory (data_lock held). */
static void
imap_queue_apply(struct backend *be, const char *id, unsigned add,
    unsigned remove)
{
	struct imap_folder	*f;
	struct imap_msg		*m;
	uint32_t		 uv, uid;
	char			*folder;

	if (imap_id_parse(id, &uv, &uid, &folder) != 0)
		return;
	if ((f = imap_folder_find(be, folder)) != NULL && f->uidvalidity ==
	    uv && (m = imap_msg_find(f, uid)) != NULL) {
		m->flags = (m->flags | add) & ~remove;
		f->dirty = 1;
		imap_recount(f);
	}
	free(folder);
}

void
imap_queue_load(struct backend *be)
{
	char		*path, line[2048], *id, *end;
	unsigned long	 add, remove;
	FILE		*f;

	if ((path = imap_queue_path(be)) == NULL)
		return;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			log_warn("%s", path);
		free(path);
		return;
	}
	pthread_mutex_lock(&be->data_lock);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		add = strtoul(line, &end, 10);
		if (*end != ' ')
			continue;
		remove = strtoul(end + 1, &id, 10);
		if (*id != ' ' || id[1] == '\0')
			continue;
		imap_queue_push(be, id + 1, (unsigned)add, (unsigned)remove);
	}
	pthread_mutex_unlock(&be->data_lock);
	fclose(f);
	log_debug("imap: %s: %zu flag changes waiting from last time",
	    be->name, be->npending);
	free(path);
}

int
imap_queue_add(struct backend *be, const char *const *ids, size_t n,
    unsigned add, unsigned remove)
{
	size_t	i;

	pthread_mutex_lock(&be->data_lock);
	for (i = 0; i < n; i++) {
		imap_queue_push(be, ids[i], add, remove);
		imap_queue_apply(be, ids[i], add, remove);
	}
	imap_queue_save(be);
	pthread_mutex_unlock(&be->data_lock);
	imap_notify(be, BACKEND_CHANGED_ROWS);
	return (0);
}

size_t
imap_queue_count(struct backend *be)
{
	size_t	n;

	pthread_mutex_lock(&be->data_lock);
	n = be->npending;
	pthread_mutex_unlock(&be->data_lock);
	return (n);
}

int
imap_queue_replay(struct backend *be, struct error *err)
{
	struct imap_pending	*q, **qp;
	struct imap_change	*c;
	size_t			 i, n;
	int			 rv, undone = 0;

	/* Only whoever holds the session adds to the queue: it stays as
	   copied here while the STOREs go, all written at once. */
	pthread_mutex_lock(&be->data_lock);
	n = be->npending;
	c = xcalloc(n + 1, sizeof *c);
	for (i = 0, q = be->pending; q != NULL && i < n; q = q->next, i++) {
		c[i].id = q->id;
		c[i].add = q->add;
		c[i].remove = q->remove;
	}
	pthread_mutex_unlock(&be->data_lock);
	if (n == 0) {
		free(c);
		return (0);
	}
	rv = imap_store_changes(be, c, n, err);
	pthread_mutex_lock(&be->data_lock);
	qp = &be->pending;
	for (i = 0; i < n && *qp != NULL; i++) {
		q = *qp;
		if (c[i].result == IMAP_CHANGE_UNSENT) {
			qp = &q->next;	/* still waiting; kept */
			continue;
		}
		if (c[i].result == IMAP_CHANGE_REFUSED) {
			/* Refused: show the server's state again. */
			imap_queue_apply(be, q->id, q->remove, q->add);
			snprintf(be->refused, sizeof be->refused,
			    "a flag change made offline was refused: %.180s",
			    c[i].err.msg);
			log_warnx("%s", be->refused);
			undone = 1;
		}
		*qp = q->next;
		be->npending--;
		free(q->id);
		free(q);
	}
	imap_queue_save(be);
	pthread_mutex_unlock(&be->data_lock);
	free(c);
	if (undone)
		imap_notify(be, BACKEND_CHANGED_ROWS);
	if (rv != 0)
		return (-1);
	error_clear(err);
	return (0);
}

void
imap_queue_free(struct backend *be)
{
	struct imap_pending	*q;

	while ((q = be->pending) != NULL) {
		be->pending = q->next;
		free(q->id);
		free(q);
	}
	be->npending = 0;
}
