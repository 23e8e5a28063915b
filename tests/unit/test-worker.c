/*
 * Workers: jobs run in FIFO order off the loop thread, completions come
 * back on the loop thread, cancelled jobs never call back, progress
 * arrives before completion, and many jobs all complete.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/worker.h"

static pthread_t	main_thread;
static int		order[1000];
static int		norder;
static int		done_count;
static int		ran_on_main;
static int		done_off_main;
static int		freed;

static int
run_record(struct job *j, void *arg)
{
	if (pthread_equal(pthread_self(), main_thread))
		ran_on_main = 1;
	order[norder++] = (int)(intptr_t)arg;
	return (0);
}

static void
done_count_up(struct job *j, void *arg, int result,
    const struct error *err)
{
	if (!pthread_equal(pthread_self(), main_thread))
		done_off_main = 1;
	done_count++;
}

static void
stop_after(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void
setup(void)
{
	main_thread = pthread_self();
	norder = done_count = ran_on_main = done_off_main = freed = 0;
}

TestSuite(worker, .init = setup, .timeout = 20);

Test(worker, jobs_run_in_fifo_order_off_the_loop_thread)
{
	struct loop	*l = loop_new();
	struct worker	*w = worker_new(l, "test");
	int		 i;

	for (i = 0; i < 1000; i++)
		worker_submit(w, job_new("n", run_record, done_count_up,
		    (void *)(intptr_t)i));
	while (done_count < 1000)
		loop_once(l, 100);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(order[i], i, "job %d ran as %d", i, order[i]);
	cr_assert_eq(ran_on_main, 0);
	cr_assert_eq(done_off_main, 0);
	cr_assert_eq(worker_busy(w), 0);
	worker_free(&w);
	cr_assert_null(w);
	loop_free(&l);
}

static volatile int	release;

static int
run_blocking(struct job *j, void *arg)
{
	while (!release && !job_cancelled(j))
		usleep(1000);
	return (job_cancelled(j) ? error_set(NULL, ERR_CANCELLED, "x") : 0);
}

static void
free_count(void *arg)
{
	freed++;
}

Test(worker, cancelled_jobs_never_call_back_but_are_freed)
{
	struct loop	*l = loop_new();
	struct worker	*w = worker_new(l, "test");
	struct job	*first, *second, *third;

	release = 0;
	first = job_new("block", run_blocking, done_count_up, NULL);
	second = job_new("queued", run_record, done_count_up, (void *)7);
	third = job_new("kept", run_record, done_count_up, (void *)8);
	job_set_free(first, free_count);
	job_set_free(second, free_count);
	job_set_free(third, free_count);
	worker_submit(w, first);
	worker_submit(w, second);
	worker_submit(w, third);
	job_cancel(second);	/* still queued: never runs */
	job_cancel(first);	/* running: sees the flag */
	while (worker_busy(w) > 0)
		loop_once(l, 50);
	cr_assert_eq(done_count, 1);	/* only the third */
	cr_assert_eq(norder, 1);
	cr_assert_eq(order[0], 8);
	cr_assert_eq(freed, 3);
	worker_free(&w);
	loop_free(&l);
}

static int		progress_seen;
static int		progress_before_done = 1;

static int
run_progress(struct job *j, void *arg)
{
	size_t	i;

	for (i = 1; i <= 5; i++)
		job_progress(j, i, 5, "step");
	return (error_set(NULL, ERR_IO, "ignored"));
}

static void
on_progress(struct job *j, void *arg, size_t done, size_t total,
    const char *what)
{
	cr_assert_eq(total, 5);
	cr_assert_str_eq(what, "step");
	progress_seen++;
	if (done_count > 0)
		progress_before_done = 0;
}

static void
done_expect_failure(struct job *j, void *arg, int result,
    const struct error *err)
{
	cr_assert_eq(result, -1);
	done_count++;
	loop_stop(arg);
}

Test(worker, progress_arrives_on_loop_thread_before_completion)
{
	struct loop	*l = loop_new();
	struct worker	*w = worker_new(l, "test");
	struct job	*j;

	progress_seen = 0;
	j = job_new("p", run_progress, done_expect_failure, l);
	job_set_progress(j, on_progress);
	worker_submit(w, j);
	loop_add_timer(l, 5000, stop_after, NULL);
	loop_run(l);
	cr_assert_eq(progress_seen, 5);
	cr_assert(progress_before_done);
	cr_assert_eq(done_count, 1);
	worker_free(&w);
	loop_free(&l);
}

static int
run_fail(struct job *j, void *arg)
{
	return (0);
}

Test(worker, free_with_queued_jobs_cancels_them_without_callbacks)
{
	struct loop	*l = loop_new();
	struct worker	*w = worker_new(l, "test");
	int		 i;
	struct job	*j;

	release = 0;
	worker_submit(w, job_new("block", run_blocking, done_count_up, NULL));
	for (i = 0; i < 50; i++) {
		j = job_new("q", run_fail, done_count_up, NULL);
		job_set_free(j, free_count);
		worker_submit(w, j);
	}
	worker_free(&w);
	cr_assert_eq(done_count, 0);
	cr_assert_eq(freed, 50);
	loop_free(&l);
}

static volatile int	slow_release;

static int
run_until_released(struct job *j, void *arg)
{
	while (!slow_release)
		usleep(1000);
	return (0);
}

Test(worker, running_names_a_silent_job_and_how_long_it_ran)
{
	struct loop	*l = loop_new();
	struct worker	*w = worker_new(l, "test");
	struct job	*j;
	char		 name[32];
	int64_t		 ms = -1;
	int		 i;

	cr_assert_eq(worker_running(w, name, sizeof name, &ms), 0,
	    "an idle worker runs nothing");
	slow_release = 0;
	worker_submit(w, job_new("move", run_until_released, NULL, NULL));
	for (i = 0; i < 2000 && !worker_running(w, name, sizeof name, &ms);
	    i++)
		usleep(1000);
	usleep(300 * 1000);
	cr_assert_eq(worker_running(w, name, sizeof name, &ms), 1);
	cr_assert_str_eq(name, "move");
	cr_assert_geq(ms, 300, "ran %lld ms", (long long)ms);
	slow_release = 1;
	worker_free(&w);

	/* A job that shows progress of its own is not named. */
	w = worker_new(l, "test");
	slow_release = 0;
	j = job_new("sync", run_until_released, NULL, NULL);
	job_set_progress(j, on_progress);
	worker_submit(w, j);
	usleep(100 * 1000);
	cr_assert_eq(worker_busy(w), 1);
	cr_assert_eq(worker_running(w, name, sizeof name, &ms), 0);
	slow_release = 1;
	worker_free(&w);
	loop_free(&l);
}
