/*
 * Worker threads and their jobs. Each account owns one worker with a FIFO
 * of jobs; a job's run function blocks as long as it likes on the worker,
 * then its done callback runs on the loop thread. A job belongs to whoever
 * holds it: the caller fills it, worker_submit takes it, the loop frees it
 * after the done callback.
 */
#ifndef FACTEUR_CORE_WORKER_H
#define FACTEUR_CORE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct loop;
struct worker;
struct job;

/* Runs on the worker thread. Fills the job's error and returns 0/-1. */
typedef int (*job_run_cb)(struct job *, void *);
/* Runs on the loop thread after run, unless the job was cancelled. */
typedef void (*job_done_cb)(struct job *, void *, int result,
	    const struct error *);
/* Runs on the loop thread: progress reported by job_progress. */
typedef void (*job_progress_cb)(struct job *, void *, size_t done,
	    size_t total, const char *what);
/* Frees the argument; runs on the loop thread, always, exactly once. */
typedef void (*job_free_cb)(void *);

struct job	*job_new(const char *, job_run_cb, job_done_cb, void *);
void		 job_set_free(struct job *, job_free_cb);
void		 job_set_progress(struct job *, job_progress_cb);
/* The job's name, for the status line and the log. */
const char	*job_name(const struct job *);

/* From the loop thread: the done callback will not run, and run sees
   job_cancelled() true from now on. The caller forgets the job. */
void		 job_cancel(struct job *);
/* From the worker: true once cancelled (check between steps). */
int		 job_cancelled(const struct job *);
/* A flag the worker's blocking code can poll (e.g. between files). */
volatile int	*job_cancel_flag(struct job *);
/* From the worker: the job's error, to fill when run fails. */
struct error	*job_error(struct job *);
/* From the worker: posts progress to the loop thread. */
void		 job_progress(struct job *, size_t, size_t, const char *);

/* Starts a thread named name that posts completions to loop. */
struct worker	*worker_new(struct loop *, const char *);
/* Queues the job (FIFO). The worker owns it from here on. */
void		 worker_submit(struct worker *, struct job *);
/* Number of jobs queued or running. */
size_t		 worker_busy(struct worker *);
/* From the loop thread: 1 when a job that reports no progress of its own
   is running, with its name and how long it has run (ms), for a busy
   indicator; 0 otherwise. */
int		 worker_running(struct worker *, char *, size_t, int64_t *);
/* Cancels every queued job and the running one; they are freed on the
   loop thread. */
void		 worker_cancel_all(struct worker *);
/* Cancels all, waits for the running job to return and joins. */
void		 worker_free(struct worker **);

#endif
