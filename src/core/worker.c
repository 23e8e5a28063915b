/*
 * A worker is one thread that takes jobs from a FIFO, runs them, and
 * posts each finished job to the loop, where its done callback runs and
 * the job is freed. Cancellation is a flag: a queued job is skipped, a
 * running job sees it between steps, and its callback is never called.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"

struct job {
	char			*name;
	job_run_cb		 run;
	job_done_cb		 done;
	job_progress_cb		 progress;
	job_free_cb		 free_arg;
	void			*arg;
	volatile int		 cancelled;
	int			 result;
	struct error		 err;
	struct worker		*worker;
	struct job		*next;
};

struct worker {
	struct loop		*loop;
	char			*name;
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct job		*head;
	struct job		*tail;
	struct job		*running;
	int64_t			 since;		/* when running started, ms */
	size_t			 busy;
	int			 stop;
};

struct job_progress_msg {
	struct job	*job;
	size_t		 done;
	size_t		 total;
	char		 what[64];
};

struct job *
job_new(const char *name, job_run_cb run, job_done_cb done, void *arg)
{
	struct job	*j;

	j = xcalloc(1, sizeof *j);
	j->name = xstrdup(name);
	j->run = run;
	j->done = done;
	j->arg = arg;
	return (j);
}

void
job_set_free(struct job *j, job_free_cb fn)
{
	j->free_arg = fn;
}

void
job_set_progress(struct job *j, job_progress_cb fn)
{
	j->progress = fn;
}

const char *
job_name(const struct job *j)
{
	return (j->name);
}

void
job_cancel(struct job *j)
{
	if (j != NULL)
		j->cancelled = 1;
}

int
job_cancelled(const struct job *j)
{
	return (j->cancelled);
}

volatile int *
job_cancel_flag(struct job *j)
{
	return (&j->cancelled);
}

struct error *
job_error(struct job *j)
{
	return (&j->err);
}

static void
job_free(struct job **jp)
{
	struct job	*j = *jp;

	if (j == NULL)
		return;
	if (j->free_arg != NULL)
		j->free_arg(j->arg);
	free(j->name);
	free(j);
	*jp = NULL;
}

/* On the loop thread: progress of a job that may since have been
   cancelled, but is not yet freed (its completion is posted after). */
static void
job_progress_deliver(struct loop *l, void *arg)
{
	struct job_progress_msg	*m = arg;

	if (!m->job->cancelled && m->job->progress != NULL)
		m->job->progress(m->job, m->job->arg, m->done, m->total,
		    m->what);
	free(m);
}

void
job_progress(struct job *j, size_t done, size_t total, const char *what)
{
	struct job_progress_msg	*m;

	if (j->progress == NULL || j->cancelled)
		return;
	m = xcalloc(1, sizeof *m);
	m->job = j;
	m->done = done;
	m->total = total;
	if (what != NULL)
		strncpy(m->what, what, sizeof m->what - 1);
	loop_post(j->worker->loop, job_progress_deliver, m);
}

/* On the loop thread: a job came back from its worker. */
static void
worker_complete(struct loop *l, void *arg)
{
	struct job	*j = arg;
	struct worker	*w = j->worker;

	pthread_mutex_lock(&w->lock);
	w->busy--;
	pthread_mutex_unlock(&w->lock);
	if (!j->cancelled && j->done != NULL)
		j->done(j, j->arg, j->result, &j->err);
	job_free(&j);
}

/* Monotonic milliseconds. */
static int64_t
worker_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct job	*j;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->head == NULL) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		j = w->head;
		w->head = j->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->running = j;
		w->since = worker_now_ms();
		pthread_mutex_unlock(&w->lock);

		if (!j->cancelled) {
			error_clear(&j->err);
			j->result = j->run(j, j->arg);
		} else
			j->result = error_set(&j->err, ERR_CANCELLED,
			    "cancelled");

		pthread_mutex_lock(&w->lock);
		w->running = NULL;
		pthread_mutex_unlock(&w->lock);
		loop_post(w->loop, worker_complete, j);
	}
	return (NULL);
}

struct worker *
worker_new(struct loop *l, const char *name)
{
	struct worker	*w;
	int		 r;

	/*
	 * Workers mostly wait for I/O: one malloc arena for every thread
	 * (not one more per thread, each holding a few hundred KB resident
	 * once used) costs no measurable time. Set before the first thread.
	 */
	mallopt(M_ARENA_MAX, 1);
	w = xcalloc(1, sizeof *w);
	w->loop = l;
	w->name = xstrdup(name);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if ((r = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
		fatalx("pthread_create: %s", strerror(r));
	return (w);
}

void
worker_submit(struct worker *w, struct job *j)
{
	j->worker = w;
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->busy++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

size_t
worker_busy(struct worker *w)
{
	size_t	n;

	pthread_mutex_lock(&w->lock);
	n = w->busy;
	pthread_mutex_unlock(&w->lock);
	return (n);
}

void
worker_cancel_all(struct worker *w)
{
	struct job	*j;

	pthread_mutex_lock(&w->lock);
	for (j = w->head; j != NULL; j = j->next)
		j->cancelled = 1;
	if (w->running != NULL)
		w->running->cancelled = 1;
	pthread_mutex_unlock(&w->lock);
}

void
worker_free(struct worker **wp)
{
	struct worker	*w = *wp;

	if (w == NULL)
		return;
	worker_cancel_all(w);
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	/*
	 * Completions already posted still reference the worker (for its
	 * busy count); drain them here so none outlives it.
	 */
	while (w->busy > 0)
		loop_once(w->loop, 10);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->name);
	free(w);
	*wp = NULL;
}

int
worker_running(struct worker *w, char *name, size_t size, int64_t *ms)
{
	int	found = 0;

	pthread_mutex_lock(&w->lock);
	if (w->running != NULL && w->running->progress == NULL &&
	    !w->running->cancelled) {
		snprintf(name, size, "%s", w->running->name);
		*ms = worker_now_ms() - w->since;
		found = 1;
	}
	pthread_mutex_unlock(&w->lock);
	return (found);
}
