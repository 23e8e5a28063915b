/*
 * imap-pipe: times what pipelining changes in the IMAP backend, driving
 * the backend directly (no terminal): the whole background load of a
 * folder's summaries from a cold cache, N flag changes in one call (a
 * thread marked), N flag changes replayed from the offline journal, and
 * N changes made one call at a time (one key each). Run it against the
 * test Dovecot, through bench/imap-relay for a wide-area link. Build:
 *   cc -std=c11 -D_GNU_SOURCE -I SRC/src -I SRC -I BUILD -o imap-pipe \
 *     SRC/bench/imap-pipe.c BUILD/libimap.a BUILD/libnet.a \
 *     BUILD/libbackend.a BUILD/libcore.a $(pkg-config --libs gnutls \
 *     libetpan) -lpthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/xmalloc.h"

static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Whether every message of folder has its summary. */
static int
bench_filled(struct backend *be, const char *folder)
{
	struct imap_folder	*f;
	size_t			 i, have = 0, n = 0;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) != NULL && f->loaded &&
	    be->current != NULL && strcmp(be->current, folder) == 0) {
		n = f->norder;
		for (i = 0; i < f->nmsgs; i++)
			have += f->msgs[i].have;
	}
	pthread_mutex_unlock(&be->data_lock);
	return (n > 0 && have == n);
}

static struct backend *
bench_open(struct backend_params *p)
{
	struct backend	*be = NULL;
	struct error	 err;

	if (imap_backend_ops.open(&be, p, &err) != 0) {
		fprintf(stderr, "imap-pipe: %s\n", err.msg);
		exit(1);
	}
	return (be);
}

/* Opens folder and waits for every summary; returns the seconds. */
static double
bench_load(struct backend *be, const char *folder, double t0)
{
	struct view	*v = NULL;
	struct error	 err;
	char		*q = imap_folder_query(folder);

	if (imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0, &v,
	    &err) != 0) {
		fprintf(stderr, "imap-pipe: %s\n", err.msg);
		exit(1);
	}
	imap_backend_ops.close_view(&v);
	free(q);
	while (!bench_filled(be, folder)) {
		if (bench_now() - t0 > 600) {
			fprintf(stderr, "imap-pipe: not loaded in 600 s\n");
			exit(1);
		}
		usleep(2000);
	}
	return (bench_now() - t0);
}

/* The ids of the first n rows of folder. */
static char **
bench_ids(struct backend *be, const char *folder, size_t n)
{
	struct view		*v = NULL;
	struct summary_batch	 b;
	struct error		 err;
	char			*q = imap_folder_query(folder), **ids;
	size_t			 i;

	imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0, &v, &err);
	summary_batch_init(&b);
	if (imap_backend_ops.view_next(v, n, &b, &err) != (long)n) {
		fprintf(stderr, "imap-pipe: fewer than %zu rows\n", n);
		exit(1);
	}
	ids = xcalloc(n + 1, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = xstrdup(b.v[i].id);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	free(q);
	return (ids);
}

int
main(int argc, char **argv)
{
	struct backend_params	 p;
	struct backend		*be;
	struct error		 err;
	const char		*folder;
	char			 cache[] = "/tmp/imap-pipe.XXXXXX", **ids;
	char			*journal, *cmd;
	size_t			 i, n;
	double			 t0, full, one, each, replay, plain;
	FILE			*f;

	if (argc != 7) {
		fprintf(stderr, "usage: imap-pipe imaps://HOST:PORT CAFILE "
		    "USER PASSWORD FOLDER N\n");
		return (2);
	}
	folder = argv[5];
	n = strtoul(argv[6], NULL, 10);
	if (mkdtemp(cache) == NULL)
		return (1);
	memset(&p, 0, sizeof p);
	p.name = "bench";
	p.imap = argv[1];
	p.tls_ca_file = argv[2];
	p.user = argv[3];
	p.password = argv[4];
	p.cache_dir = cache;

	/* The whole background load, from launch, cold. */
	t0 = bench_now();
	be = bench_open(&p);
	full = bench_load(be, folder, t0);
	ids = bench_ids(be, folder, n);

	/* n changes in one call: a thread marked read, then unread. */
	t0 = bench_now();
	if (imap_backend_ops.set_flags(be, (const char *const *)ids, n,
	    MSG_FLAGGED, 0, &err) != 0)
		fprintf(stderr, "imap-pipe: %s\n", err.msg);
	one = bench_now() - t0;

	/* n changes one call each: a key pressed n times. */
	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (imap_backend_ops.set_flags(be,
		    (const char *const *)&ids[i], 1, 0, MSG_FLAGGED,
		    &err) != 0)
			fprintf(stderr, "imap-pipe: %s\n", err.msg);
	}
	each = bench_now() - t0;
	imap_backend_ops.close(&be);

	/* A start with nothing waiting, then one with n changes in the
	   journal: the difference is their replay. */
	t0 = bench_now();
	be = bench_open(&p);
	plain = bench_now() - t0;
	imap_backend_ops.close(&be);
	xasprintf(&journal, "%s/bench/pending", cache);
	if ((f = fopen(journal, "w")) == NULL)
		return (1);
	for (i = 0; i < n; i++)
		fprintf(f, "%u %u %s\n", MSG_FLAGGED, 0u, ids[i]);
	fclose(f);
	t0 = bench_now();
	be = bench_open(&p);
	replay = bench_now() - t0 - plain;
	if (imap_queue_count(be) != 0)
		fprintf(stderr, "imap-pipe: the journal was not sent\n");
	imap_backend_ops.close(&be);

	printf("%s: every summary loaded %.2f s after open; %zu flag "
	    "changes: one call %.0f ms, replayed from the journal %.0f ms, "
	    "one call each %.0f ms\n", folder, full, n, one * 1000,
	    replay * 1000, each * 1000);
	xasprintf(&cmd, "rm -rf '%s'", cache);
	if (system(cmd) != 0)
		fprintf(stderr, "imap-pipe: %s left\n", cache);
	free(cmd);
	free(journal);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return (0);
}
