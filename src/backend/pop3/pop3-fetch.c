/*
 * One fetch: lock, list, recognise what an interrupted run delivered,
 * stream new messages into tmp/ (RETRs pipelined when the server allows)
 * while a writer thread makes them durable, links them into new/, indexes
 * and records them in batches (the first message alone, at once, so that
 * it is readable early), then DELE what the policy says and QUIT. The
 * order of the steps is the crash-safety argument of pop3.h: nothing is
 * linked before it is fsynced, nothing recorded before it is indexed,
 * nothing deleted before it is recorded.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/local/local.h"
#include "backend/pop3/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct pop3_run {
	const struct pop3_account	*pa;
	const struct pop3_fetch_params	*fp;
	struct pop3_stats		*stats;
	struct pop3_conn		 c;
	struct pop3_state		 st;
	struct pop3_msg			*v;
	size_t				 n;
	char				*dirs[3];	/* tmp new cur */
	char				 host[64];
	unsigned			 seq;
	struct pop3_msg			**batch;
	size_t				 nbatch;

	/* The writer thread and the queue of files in tmp/ it takes. */
	pthread_t			 writer;
	int				 writer_on;
	pthread_mutex_t			 lock;
	pthread_cond_t			 cond;
	struct pop3_msg			**queue;
	size_t				 nqueue;
	int				 eof;		/* no more to come */
	int				 wfailed;	/* werr is set */
	struct error			 werr;
	size_t				 ncommits;

	double				 t0;
	double				 last_commit;
	double				 last_progress;
	size_t				 done;
	size_t				 total;
};

/*
 * Test hook, for the crash-safety tests only: FACTEUR_TEST_KILL_AT=PHASE:N
 * makes the process SIGKILL itself the Nth time it reaches PHASE (see
 * pop3.h). Unset, it costs one getenv per message.
 */
static void
pop3_test_kill(const char *phase)
{
	static long	 seen;
	const char	*e, *colon;
	size_t		 len = strlen(phase);
	long		 n;

	if ((e = getenv("FACTEUR_TEST_KILL_AT")) == NULL ||
	    (colon = strchr(e, ':')) == NULL || (size_t)(colon - e) != len ||
	    strncmp(e, phase, len) != 0)
		return;
	n = strtol(colon + 1, NULL, 10);
	if (__atomic_add_fetch(&seen, 1, __ATOMIC_SEQ_CST) == n)
		raise(SIGKILL);
}

/* Seconds on the monotonic clock. */
static double
pop3_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* The wall clock, or the test's fake one. */
static time_t
pop3_now(struct pop3_run *r)
{
	return (r->fp->now != NULL ? r->fp->now() : time(NULL));
}

/* True once the caller asked to stop. */
static int
pop3_cancelled(struct pop3_run *r)
{
	return (r->fp->cancel != NULL && *r->fp->cancel);
}

/* Reports progress at most ten times a second (always when force). */
static void
pop3_progress(struct pop3_run *r, int force)
{
	double	now = pop3_clock();

	if (r->fp->progress == NULL ||
	    (!force && now - r->last_progress < 0.1))
		return;
	r->last_progress = now;
	r->fp->progress(r->fp->arg, r->done, r->total,
	    r->stats->bytes, now - r->t0);
}

/* Fsyncs a directory. */
static int
pop3_fsync_dir(const char *dir, struct error *err)
{
	int	fd, rv = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rv = error_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
	if (fd != -1)
		close(fd);
	return (rv);
}

/*
 * Makes the batch visible and durable: new/ fsynced, the files indexed,
 * then their UIDLs recorded in the state file.
 */
static int
pop3_commit(struct pop3_run *r, struct error *err)
{
	const char	**paths;
	size_t		  i;
	time_t		  now;

	r->last_commit = pop3_clock();
	if (r->nbatch == 0)
		return (0);
	if (pop3_fsync_dir(r->dirs[1], err) != 0)
		return (-1);
	if (r->fp->local != NULL) {
		paths = xreallocarray(NULL, r->nbatch, sizeof *paths);
		for (i = 0; i < r->nbatch; i++)
			paths[i] = r->batch[i]->path;
		if (local_index_files(r->fp->local, paths, r->nbatch,
		    r->fp->tags != NULL ? r->fp->tags : "+inbox +unread",
		    err) != 0) {
			free(paths);
			return (-1);
		}
		free(paths);
	}
	pop3_test_kill("index");
	now = pop3_now(r);
	for (i = 0; i < r->nbatch; i++) {
		r->batch[i]->recorded = 1;
		r->batch[i]->when = now;
	}
	if (pop3_state_save(r->pa, &r->st, r->v, r->n, err) != 0) {
		for (i = 0; i < r->nbatch; i++)
			r->batch[i]->recorded = 0;
		return (-1);
	}
	r->nbatch = 0;
	pop3_test_kill("record");
	if (r->fp->indexed != NULL)
		r->fp->indexed(r->fp->arg);
	return (0);
}

/* Adds a delivered message to the batch. */
static void
pop3_batch_add(struct pop3_run *r, struct pop3_msg *m)
{
	r->batch = xreallocarray(r->batch, r->nbatch + 1, sizeof *r->batch);
	r->batch[r->nbatch++] = m;
}

/* Creates the Maildir's tmp, new and cur if they are missing. */
static int
pop3_maildir_prepare(struct pop3_run *r, struct error *err)
{
	static const char *const names[] = { "tmp", "new", "cur" };
	struct stat	 sb;
	size_t		 i;
	char		*p;

	if (stat(r->pa->maildir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return (error_set(err, ERR_NOTFOUND, "%s: maildir %s does not "
		    "exist", r->pa->name, r->pa->maildir));
	for (i = 0; i < 3; i++) {
		xasprintf(&r->dirs[i], "%s/%s", r->pa->maildir, names[i]);
		if (mkdir(r->dirs[i], 0700) == -1 && errno != EEXIST)
			return (error_set(err, ERR_IO, "%s: %s", r->dirs[i],
			    strerror(errno)));
	}
	if (gethostname(r->host, sizeof r->host) != 0 || *r->host == '\0')
		strcpy(r->host, "localhost");
	r->host[sizeof r->host - 1] = '\0';
	for (p = r->host; *p != '\0'; p++) {
		if (*p == '/' || *p == ':' || *p == ',')
			*p = '_';
	}
	return (0);
}

/* Removes what a dead fetch left in tmp/ (our marked files only). */
static void
pop3_clean_tmp(struct pop3_run *r)
{
	DIR		*d;
	struct dirent	*de;
	char		*p;

	if ((d = opendir(r->dirs[0])) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ",P=") == NULL)
			continue;
		xasprintf(&p, "%s/%s", r->dirs[0], de->d_name);
		if (unlink(p) == 0)
			log_debug("%s: removed stale %s", r->pa->name, p);
		free(p);
	}
	closedir(d);
}

/* Orders messages by marker, for the scan. */
static int
pop3_cmp_hash(const void *a, const void *b)
{
	const struct pop3_msg *const *x = a, *const *y = b;

	return (strcmp((*x)->hash, (*y)->hash));
}

/*
 * Finds files that a run which died before recording them delivered
 * (by the marker in their names) and queues them for indexing and
 * recording instead of fetching them again.
 */
static void
pop3_recover(struct pop3_run *r, struct pop3_msg **todo, size_t ntodo)
{
	struct pop3_msg	**sorted, key, *kp = &key, **found;
	DIR		 *d;
	struct dirent	 *de;
	const char	 *mk;
	size_t		  i;

	if (ntodo == 0)
		return;
	sorted = xreallocarray(NULL, ntodo, sizeof *sorted);
	memcpy(sorted, todo, ntodo * sizeof *sorted);
	qsort(sorted, ntodo, sizeof *sorted, pop3_cmp_hash);
	for (i = 1; i < 3; i++) {
		if ((d = opendir(r->dirs[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if ((mk = strstr(de->d_name, ",P=")) == NULL ||
			    strlen(mk + 3) < 32)
				continue;
			memcpy(key.hash, mk + 3, 32);
			key.hash[32] = '\0';
			found = bsearch(&kp, sorted, ntodo, sizeof *sorted,
			    pop3_cmp_hash);
			if (found == NULL || (*found)->path != NULL)
				continue;
			xasprintf(&(*found)->path, "%s/%s", r->dirs[i],
			    de->d_name);
			pop3_batch_add(r, *found);
			r->stats->recovered++;
		}
		closedir(d);
	}
	free(sorted);
}

/*
 * Writer thread: makes files of tmp/ durable before they are linked. A
 * few files are fsynced one by one (the first batch must be quick);
 * many at once, the filesystem is (syncfs: one flush instead of one per
 * message, though it also flushes what others wrote), or each file when
 * syncfs fails.
 */
static int
pop3_sync_files(struct pop3_run *r, struct pop3_msg **v, size_t n,
    struct error *err)
{
	size_t	i;
	int	fd;

	if (n > POP3_SYNCFS_MIN && (fd = open(r->dirs[0],
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (syncfs(fd) == 0) {
			close(fd);
			return (0);
		}
		log_warn("%s: syncfs", r->dirs[0]);
		close(fd);
	}
	for (i = 0; i < n; i++) {
		if ((fd = open(v[i]->tmp, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fsync(fd) != 0) {
			error_set(err, ERR_IO, "%s: %s", v[i]->tmp,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return (-1);
		}
		close(fd);
	}
	return (0);
}

/*
 * Writer thread: links a durable file of tmp/ into new/ and adds it to
 * the batch. On error the file stays in tmp/ (removed at the end).
 */
static int
pop3_link(struct pop3_run *r, struct pop3_msg *m, struct error *err)
{
	char	*dst;

	xasprintf(&dst, "%s/%s", r->dirs[1], m->tmp + strlen(r->dirs[0]) + 1);
	if (link(m->tmp, dst) != 0 && rename(m->tmp, dst) != 0) {
		error_set(err, ERR_IO, "%s: %s", dst, strerror(errno));
		free(dst);
		return (-1);
	}
	unlink(m->tmp);
	free(m->tmp);
	m->tmp = NULL;
	m->path = dst;
	pthread_mutex_lock(&r->lock);
	r->stats->fetched++;
	pthread_mutex_unlock(&r->lock);
	pop3_batch_add(r, m);
	pop3_test_kill("deliver");
	return (0);
}

/*
 * The writer thread: takes the files the download queued, links and
 * commits them: the first one alone and at once, then in batches of
 * POP3_BATCH or every POP3_BATCH_MS. On error it records it, drops the
 * rest of the queue (left in tmp/) and stops; the download sees wfailed.
 */
static void *
pop3_writer(void *arg)
{
	struct pop3_run	 *r = arg;
	struct pop3_msg	**take = NULL;
	struct error	  err, err2;
	struct timespec	  ts;
	size_t		  ntake, i;
	double		  due;
	int		  failed = 0;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		/* Wait for a batch: full, due, or the end. */
		while (!r->eof && (r->nqueue == 0 || (r->ncommits > 0 &&
		    r->nqueue < POP3_BATCH &&
		    pop3_clock() - r->last_commit < POP3_BATCH_MS / 1000.0))) {
			if (r->nqueue == 0 || r->ncommits == 0)
				pthread_cond_wait(&r->cond, &r->lock);
			else {
				due = r->last_commit + POP3_BATCH_MS / 1000.0 -
				    pop3_clock();
				if (due < 0)
					due = 0;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += (time_t)due;
				ts.tv_nsec += (long)((due - (double)(time_t)due) *
				    1e9);
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&r->cond, &r->lock, &ts);
			}
		}
		if (r->nqueue == 0)
			break;		/* the end, all done */
		take = xreallocarray(take, r->nqueue, sizeof *take);
		memcpy(take, r->queue, r->nqueue * sizeof *take);
		ntake = r->nqueue;
		r->nqueue = 0;
		pthread_cond_broadcast(&r->cond);	/* room in the queue */
		pthread_mutex_unlock(&r->lock);

		if (pop3_sync_files(r, take, ntake, &err) != 0)
			failed = 1;
		for (i = 0; i < ntake && !failed; i++) {
			if (pop3_link(r, take[i], &err) != 0)
				failed = 1;
		}
		/* What was linked is kept, even after an error. */
		if (!failed && pop3_commit(r, &err) != 0)
			failed = 1;
		else if (failed && pop3_commit(r, &err2) != 0)
			log_warnx("%s: %s", r->pa->name, err2.msg);

		pthread_mutex_lock(&r->lock);
		r->ncommits++;
		if (failed) {
			r->werr = err;
			r->wfailed = 1;
			r->nqueue = 0;
			pthread_cond_broadcast(&r->cond);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	free(take);
	return (NULL);
}

/* Starts the writer thread. */
static int
pop3_writer_start(struct pop3_run *r, struct error *err)
{
	int	e;

	if ((e = pthread_create(&r->writer, NULL, pop3_writer, r)) != 0)
		return (error_set(err, ERR_IO, "%s: writer thread: %s",
		    r->pa->name, strerror(e)));
	r->writer_on = 1;
	return (0);
}

/*
 * Tells the writer that nothing more comes, waits until it has committed
 * the queue, and returns its error if it had one.
 */
static int
pop3_writer_finish(struct pop3_run *r, struct error *err)
{
	if (!r->writer_on)
		return (0);
	pthread_mutex_lock(&r->lock);
	r->eof = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->writer, NULL);
	r->writer_on = 0;
	if (r->wfailed) {
		if (err != NULL)
			*err = r->werr;
		return (-1);
	}
	return (0);
}

/* Hands a file of tmp/ to the writer; waits while the queue is full.
   Returns -1 (the writer's error in err) once the writer failed. */
static int
pop3_queue(struct pop3_run *r, struct pop3_msg *m, struct error *err)
{
	pthread_mutex_lock(&r->lock);
	while (!r->wfailed && r->nqueue >= POP3_QUEUE_MAX)
		pthread_cond_wait(&r->cond, &r->lock);
	if (r->wfailed) {
		*err = r->werr;
		pthread_mutex_unlock(&r->lock);
		return (-1);
	}
	r->queue[r->nqueue++] = m;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return (0);
}

/*
 * Stops before a message would leave less than POP3_DISK_RESERVE free:
 * the index needs room to commit what arrived (Xapian on a full disk may
 * even abort the process), and a full disk helps nobody.
 */
static int
pop3_check_room(struct pop3_run *r, struct pop3_msg *m, struct error *err)
{
	struct statvfs	sv;
	uint64_t	avail;

	if (statvfs(r->dirs[0], &sv) != 0)
		return (0);	/* unknown: the writes will tell */
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	if (avail >= POP3_DISK_RESERVE + m->size * 2)
		return (0);
	return (error_set(err, ERR_IO, "%s: No space left on device: less "
	    "than %d MB free in %s (nothing was deleted on the server)",
	    r->pa->name, POP3_DISK_RESERVE >> 20, r->pa->maildir));
}

/* Reads one RETR answer into a new file of tmp/, for the writer. */
static int
pop3_deliver(struct pop3_run *r, struct pop3_msg *m, struct error *err)
{
	struct timespec	 ts;
	char		*name, *tmp;
	uint64_t	 wire, limit;
	int		 fd, st, rv = -1;

	if ((st = pop3_status(&r->c, err)) < 0)
		return (-1);
	if (st == 0) {
		/* Gone (another client deleted it): not ours to record. */
		log_warnx("%s: RETR %u refused: %s", r->pa->name, m->num,
		    pop3_clean(r->c.text));
		return (0);
	}
	if (pop3_check_room(r, m, err) != 0)
		return (-1);
	clock_gettime(CLOCK_REALTIME, &ts);
	xasprintf(&name, "%lld.M%ldP%ldQ%u.%s,P=%s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000, (long)getpid(), ++r->seq, r->host, m->hash);
	xasprintf(&tmp, "%s/%s", r->dirs[0], name);
	free(name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	limit = m->size + m->size / 2 + POP3_SIZE_SLACK;
	if (pop3_retr_body(&r->c, fd, limit, &wire, err) != 0) {
		close(fd);
		unlink(tmp);
		goto out;
	}
	pop3_test_kill("retr");
	if (close(fd) != 0) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	pthread_mutex_lock(&r->lock);
	r->stats->bytes += wire;
	pthread_mutex_unlock(&r->lock);
	m->tmp = tmp;
	tmp = NULL;
	rv = pop3_queue(r, m, err);
out:
	free(tmp);
	return (rv);
}

/* Downloads todo[0..ntodo), RETRs in flight up to the window. */
static int
pop3_download(struct pop3_run *r, struct pop3_msg **todo, size_t ntodo,
    struct error *err)
{
	size_t	sent = 0, recv = 0, window;

	window = r->c.pipelining ? POP3_WINDOW : 1;
	while (recv < ntodo) {
		if (pop3_cancelled(r))
			return (error_set(err, ERR_CANCELLED, "%s: fetch "
			    "cancelled", r->pa->name));
		if (sent < ntodo && sent - recv < window) {
			while (sent < ntodo && sent - recv < window) {
				if (pop3_send(&r->c, "RETR %u",
				    todo[sent]->num) != 0)
					return (error_set(err, ERR_NET, "%s: "
					    "connection lost", r->pa->name));
				sent++;
			}
			if (pop3_flush(&r->c, err) != 0)
				return (-1);
		}
		if (pop3_deliver(r, todo[recv], err) != 0)
			return (-1);
		recv++;
		r->done++;
		/* The first message at once: "Fetching 1/N" shows early. */
		pop3_progress(r, r->done == 1);
	}
	return (0);
}

/* Sends DELE for what the policy lets go, then QUIT (which commits). */
static int
pop3_expunge(struct pop3_run *r, struct error *err)
{
	struct pop3_msg	**del = NULL;
	size_t		  ndel = 0, i, sent = 0, recv = 0, window;
	time_t		  now = pop3_now(r);
	int		  st;

	for (i = 0; i < r->n; i++) {
		if (!r->v[i].recorded || r->v[i].dup)
			continue;
		if (r->pa->keep == POP3_KEEP_NONE ||
		    (r->pa->keep == POP3_KEEP_DAYS &&
		    now - r->v[i].when >= r->pa->keep_days * 86400L)) {
			del = xreallocarray(del, ndel + 1, sizeof *del);
			del[ndel++] = &r->v[i];
		}
	}
	window = r->c.pipelining ? POP3_WINDOW * 4 : 1;
	while (recv < ndel) {
		while (sent < ndel && sent - recv < window) {
			if (pop3_send(&r->c, "DELE %u", del[sent]->num) != 0)
				goto lost;
			sent++;
		}
		if (pop3_flush(&r->c, err) != 0)
			goto fail;
		if ((st = pop3_status(&r->c, err)) < 0)
			goto fail;
		if (st == 0)
			log_warnx("%s: DELE %u refused: %s", r->pa->name,
			    del[recv]->num, pop3_clean(r->c.text));
		recv++;
		pop3_test_kill("dele");
	}
	free(del);
	if (pop3_send(&r->c, "QUIT") != 0 || pop3_flush(&r->c, err) != 0)
		return (error_set(err, ERR_NET, "%s: connection lost at QUIT; "
		    "messages may stay on the server", r->pa->name));
	if ((st = pop3_status(&r->c, err)) <= 0)
		return (error_set(err, ERR_NET, "%s: QUIT failed; messages "
		    "may stay on the server", r->pa->name));
	r->stats->deleted = ndel;
	return (0);
lost:
	error_set(err, ERR_NET, "%s: connection lost", r->pa->name);
fail:
	free(del);
	return (-1);
}

/* Fetches new messages of the account (see pop3.h). */
int
pop3_fetch(const struct pop3_account *pa, const struct pop3_fetch_params *fp,
    struct pop3_stats *stats, struct error *err)
{
	struct pop3_run		  r;
	struct pop3_stats	  dummy;
	struct pop3_state_entry	 *e;
	struct pop3_msg		**todo = NULL;
	struct error		  err2;
	size_t			  ntodo = 0, i, nrec = 0;
	int			  rv = -1, quit = 0;

	/* A file size limit (ulimit -f) must fail a write with EFBIG, which
	   stops the fetch with a message, not kill the process mid-way. */
	signal(SIGXFSZ, SIG_IGN);
	memset(&r, 0, sizeof r);
	memset(&dummy, 0, sizeof dummy);
	r.pa = pa;
	r.fp = fp;
	r.stats = stats != NULL ? stats : &dummy;
	memset(r.stats, 0, sizeof *r.stats);
	r.t0 = r.last_commit = pop3_clock();
	r.st.lock_fd = -1;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);

	if (pop3_maildir_prepare(&r, err) != 0 ||
	    pop3_state_lock(pa, &r.st, err) != 0)
		goto out;
	if (pop3_state_load(pa, &r.st, err) != 0)
		goto out;
	pop3_clean_tmp(&r);
	if (pop3_conn_open(&r.c, pa, fp->cancel_fd, fp->peer, err) != 0)
		goto out;
	if (pop3_login(&r.c, pa, fp->password, err) != 0 ||
	    pop3_list(&r.c, &r.v, &r.n, err) != 0)
		goto out;
	r.stats->on_server = r.n;

	for (i = 0; i < r.n; i++) {
		if (r.v[i].dup)
			continue;
		if ((e = pop3_state_find(&r.st, r.v[i].uidl)) != NULL) {
			r.v[i].recorded = 1;
			r.v[i].when = e->when;
			nrec++;
			continue;
		}
		pop3_marker(pa->name, r.v[i].uidl, r.v[i].hash);
		todo = xreallocarray(todo, ntodo + 1, sizeof *todo);
		todo[ntodo++] = &r.v[i];
	}
	pop3_recover(&r, todo, ntodo);
	if (r.nbatch > 0) {
		log_warnx("%s: %zu messages delivered by an interrupted fetch",
		    pa->name, r.nbatch);
		if (pop3_commit(&r, err) != 0)
			goto out;
	}
	for (i = 0; i < ntodo; ) {	/* drop the recovered ones */
		if (todo[i]->recorded)
			todo[i] = todo[--ntodo];
		else
			i++;
	}
	/* Oldest first, as the server numbers them. */
	for (i = 1; i < ntodo; i++) {
		struct pop3_msg *m = todo[i];
		size_t j = i;

		while (j > 0 && todo[j - 1]->num > m->num) {
			todo[j] = todo[j - 1];
			j--;
		}
		todo[j] = m;
	}
	r.total = r.stats->to_fetch = ntodo;
	pop3_progress(&r, 1);
	r.queue = xreallocarray(NULL, POP3_QUEUE_MAX, sizeof *r.queue);
	if (pop3_writer_start(&r, err) != 0)
		goto out;
	if (pop3_download(&r, todo, ntodo, err) != 0)
		goto out;
	if (pop3_writer_finish(&r, err) != 0)
		goto out;
	if (nrec != r.st.n && r.stats->fetched == 0 &&
	    r.stats->recovered == 0 &&
	    pop3_state_save(pa, &r.st, r.v, r.n, err) != 0)
		goto out;
	pop3_progress(&r, 1);
	quit = 1;
	if (pop3_expunge(&r, err) != 0)
		goto out;
	rv = 0;
out:
	/* Keep what arrived: the writer commits its queue, then stops. */
	if (pop3_writer_finish(&r, &err2) != 0 && rv != 0)
		log_warnx("%s: %s", pa->name, err2.msg);
	if (rv != 0 && r.nbatch > 0) {
		if (pop3_commit(&r, &err2) != 0)
			log_warnx("%s: %s", pa->name, err2.msg);
	}
	for (i = 0; i < r.n; i++) {	/* never linked: not kept */
		if (r.v[i].tmp != NULL)
			unlink(r.v[i].tmp);
	}
	(void)quit;
	pop3_conn_close(&r.c, 0);
	r.stats->seconds = pop3_clock() - r.t0;
	pop3_msgs_free(&r.v, r.n);
	pop3_state_free(&r.st);
	free(todo);
	free(r.batch);
	free(r.queue);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.cond);
	for (i = 0; i < 3; i++)
		free(r.dirs[i]);
	return (rv);
}
