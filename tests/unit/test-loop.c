/*
 * The event loop: timers in deadline order, cancellation, posts from
 * other threads in order, signals through the self-pipe, fd readiness.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"

static char	trace[64];

static void
mark(struct loop *l, void *arg)
{
	strncat(trace, arg, sizeof trace - strlen(trace) - 1);
}

static void
stop(struct loop *l, void *arg)
{
	loop_stop(l);
}

Test(loop, timers_fire_in_deadline_order_then_insertion_order)
{
	struct loop	*l = loop_new();

	trace[0] = '\0';
	loop_add_timer(l, 30, mark, "c");
	loop_add_timer(l, 10, mark, "a");
	loop_add_timer(l, 20, mark, "b");
	loop_add_timer(l, 20, mark, "B");
	loop_add_timer(l, 40, stop, NULL);
	loop_run(l);
	cr_assert_str_eq(trace, "abBc");
	loop_free(&l);
	cr_assert_null(l);
}

Test(loop, cancelled_timer_never_fires)
{
	struct loop		*l = loop_new();
	struct loop_timer	*t;

	trace[0] = '\0';
	t = loop_add_timer(l, 5, mark, "x");
	loop_add_timer(l, 1, mark, "y");
	loop_cancel_timer(l, &t);
	cr_assert_null(t);
	loop_cancel_timer(l, &t);	/* NULL is fine */
	loop_add_timer(l, 20, stop, NULL);
	loop_run(l);
	cr_assert_str_eq(trace, "y");
	loop_free(&l);
}

Test(loop, timer_waits_at_least_its_delay)
{
	struct loop	*l = loop_new();
	int64_t		 start = loop_now(l);

	loop_add_timer(l, 50, stop, NULL);
	loop_run(l);
	cr_assert_geq(loop_now(l) - start, 50);
	loop_free(&l);
}

struct poster {
	struct loop	*loop;
	int		 base;
};

static int	seen[4000];
static int	nseen;

static void
record(struct loop *l, void *arg)
{
	seen[nseen++] = (int)(intptr_t)arg;
	if (nseen == 4000)
		loop_stop(l);
}

static void *
poster_main(void *arg)
{
	struct poster	*p = arg;
	int		 i;

	for (i = 0; i < 2000; i++)
		loop_post(p->loop, record, (void *)(intptr_t)(p->base + i));
	return (NULL);
}

Test(loop, posts_from_two_threads_all_arrive_each_in_its_order)
{
	struct loop	*l = loop_new();
	struct poster	 a = { l, 0 }, b = { l, 10000 };
	pthread_t	 ta, tb;
	int		 i, lasta = -1, lastb = 9999, na = 0, nb = 0;

	nseen = 0;
	pthread_create(&ta, NULL, poster_main, &a);
	pthread_create(&tb, NULL, poster_main, &b);
	loop_run(l);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	for (i = 0; i < nseen; i++) {
		if (seen[i] < 10000) {
			cr_assert_eq(seen[i], lasta + 1);
			lasta = seen[i];
			na++;
		} else {
			cr_assert_eq(seen[i], lastb + 1);
			lastb = seen[i];
			nb++;
		}
	}
	cr_assert_eq(na, 2000);
	cr_assert_eq(nb, 2000);
	loop_free(&l);
}

static int	got_signal;

static void
on_signal(struct loop *l, int signo, void *arg)
{
	got_signal = signo;
	loop_stop(l);
}

Test(loop, signal_is_delivered_on_the_loop_thread)
{
	struct loop	*l = loop_new();

	got_signal = 0;
	loop_signal(l, SIGUSR1, on_signal, NULL);
	kill(getpid(), SIGUSR1);
	loop_add_timer(l, 2000, stop, NULL);	/* bound */
	loop_run(l);
	cr_assert_eq(got_signal, SIGUSR1);
	loop_free(&l);
}

static int	readable;

static void
on_read(struct loop *l, int fd, short revents, void *arg)
{
	char	c;

	if (read(fd, &c, 1) == 1)
		readable = c;
	loop_stop(l);
}

Test(loop, fd_callback_runs_when_readable_and_not_after_removal)
{
	struct loop	*l = loop_new();
	struct loop_fd	*f;
	int		 p[2];

	cr_assert_eq(pipe(p), 0);
	readable = 0;
	f = loop_add_fd(l, p[0], POLLIN, on_read, NULL);
	cr_assert_eq(write(p[1], "z", 1), 1);
	loop_add_timer(l, 2000, stop, NULL);
	loop_run(l);
	cr_assert_eq(readable, 'z');
	loop_remove_fd(l, &f);
	cr_assert_null(f);
	readable = 0;
	cr_assert_eq(write(p[1], "y", 1), 1);
	loop_once(l, 20);
	cr_assert_eq(readable, 0);
	loop_free(&l);
	close(p[0]);
	close(p[1]);
}
