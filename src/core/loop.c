/*
 * One event loop per program on the main thread. poll() waits on the
 * watched descriptors, the signal self-pipe and the wake-up pipe that
 * loop_post writes to; timers are a list sorted by deadline. Callbacks
 * never free a watched descriptor during dispatch: they are marked dead
 * and reaped after the turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct loop_fd {
	int		 fd;
	short		 events;
	loop_fd_cb	 cb;
	void		*arg;
	int		 dead;
	struct loop_fd	*next;
};

struct loop_timer {
	int64_t			 when;
	uint64_t		 seq;	/* equal deadlines fire in order */
	loop_timer_cb		 cb;
	void			*arg;
	struct loop_timer	*next;
};

struct loop_post {
	loop_post_cb		 cb;
	void			*arg;
	struct loop_post	*next;
};

struct loop_sig {
	int		 signo;
	loop_signal_cb	 cb;
	void		*arg;
};

struct loop {
	int64_t			 now;
	int			 running;
	struct loop_fd		*fds;
	struct loop_timer	*timers;
	uint64_t		 timer_seq;

	int			 wake[2];	/* loop_post */
	pthread_mutex_t		 post_lock;
	struct loop_post	*post_head;
	struct loop_post	*post_tail;

	struct loop_sig		 sigs[32];
	size_t			 nsigs;

	loop_idle_cb		 idle;
	void			*idle_arg;

	struct pollfd		*pfds;
	struct loop_fd		**pmap;
	size_t			 pcap;
};

/* The self-pipe is process-wide: a signal handler has no loop pointer. */
static int	loop_sigpipe[2] = { -1, -1 };

static void
loop_set_flags(int fd)
{
	int	fl;

	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int64_t
loop_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct loop *
loop_new(void)
{
	struct loop	*l;

	l = xcalloc(1, sizeof *l);
	if (pipe(l->wake) == -1)
		fatal("pipe");
	loop_set_flags(l->wake[0]);
	loop_set_flags(l->wake[1]);
	if (loop_sigpipe[0] == -1) {
		if (pipe(loop_sigpipe) == -1)
			fatal("pipe");
		loop_set_flags(loop_sigpipe[0]);
		loop_set_flags(loop_sigpipe[1]);
	}
	pthread_mutex_init(&l->post_lock, NULL);
	l->now = loop_clock();
	return (l);
}

void
loop_free(struct loop **lp)
{
	struct loop		*l = *lp;
	struct loop_fd		*f;
	struct loop_timer	*t;
	struct loop_post	*p;
	size_t			 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nsigs; i++)
		signal(l->sigs[i].signo, SIG_DFL);
	while ((f = l->fds) != NULL) {
		l->fds = f->next;
		free(f);
	}
	while ((t = l->timers) != NULL) {
		l->timers = t->next;
		free(t);
	}
	while ((p = l->post_head) != NULL) {
		l->post_head = p->next;
		free(p);
	}
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_mutex_destroy(&l->post_lock);
	free(l->pfds);
	free(l->pmap);
	free(l);
	*lp = NULL;
}

int64_t
loop_now(struct loop *l)
{
	return (l->now);
}

struct loop_fd *
loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg)
{
	struct loop_fd	*f;

	f = xcalloc(1, sizeof *f);
	f->fd = fd;
	f->events = events;
	f->cb = cb;
	f->arg = arg;
	f->next = l->fds;
	l->fds = f;
	return (f);
}

void
loop_remove_fd(struct loop *l, struct loop_fd **fp)
{
	if (*fp != NULL)
		(*fp)->dead = 1;	/* reaped after the turn */
	*fp = NULL;
}

static void
loop_reap_fds(struct loop *l)
{
	struct loop_fd	**pp, *f;

	pp = &l->fds;
	while ((f = *pp) != NULL) {
		if (f->dead) {
			*pp = f->next;
			free(f);
		} else
			pp = &f->next;
	}
}

struct loop_timer *
loop_add_timer(struct loop *l, int64_t ms, loop_timer_cb cb, void *arg)
{
	struct loop_timer	*t, **pp;

	t = xcalloc(1, sizeof *t);
	t->when = loop_clock() + (ms < 0 ? 0 : ms);
	t->seq = l->timer_seq++;
	t->cb = cb;
	t->arg = arg;
	for (pp = &l->timers; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->when > t->when)
			break;
	}
	t->next = *pp;
	*pp = t;
	return (t);
}

void
loop_cancel_timer(struct loop *l, struct loop_timer **tp)
{
	struct loop_timer	**pp;

	if (*tp == NULL)
		return;
	for (pp = &l->timers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == *tp) {
			*pp = (*tp)->next;
			free(*tp);
			break;
		}
	}
	*tp = NULL;
}

static void
loop_sighandler(int signo)
{
	unsigned char	c = (unsigned char)signo;
	int		saved = errno;

	(void)write(loop_sigpipe[1], &c, 1);
	errno = saved;
}

int
loop_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	struct sigaction	sa;

	if (l->nsigs == sizeof l->sigs / sizeof l->sigs[0])
		return (-1);
	l->sigs[l->nsigs].signo = signo;
	l->sigs[l->nsigs].cb = cb;
	l->sigs[l->nsigs].arg = arg;
	l->nsigs++;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_sighandler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return (sigaction(signo, &sa, NULL));
}

void
loop_post(struct loop *l, loop_post_cb cb, void *arg)
{
	struct loop_post	*p;
	char			 c = 1;

	p = xcalloc(1, sizeof *p);
	p->cb = cb;
	p->arg = arg;
	pthread_mutex_lock(&l->post_lock);
	if (l->post_tail != NULL)
		l->post_tail->next = p;
	else
		l->post_head = p;
	l->post_tail = p;
	pthread_mutex_unlock(&l->post_lock);
	(void)write(l->wake[1], &c, 1);	/* EAGAIN: a wake-up is pending */
}

void
loop_set_idle(struct loop *l, loop_idle_cb cb, void *arg)
{
	l->idle = cb;
	l->idle_arg = arg;
}

static void
loop_drain(int fd)
{
	char	buf[256];

	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void
loop_signals_drain(struct loop *l)
{
	unsigned char	buf[64];
	ssize_t		n, i;
	size_t		j;

	while ((n = read(loop_sigpipe[0], buf, sizeof buf)) > 0) {
		for (i = 0; i < n; i++) {
			for (j = 0; j < l->nsigs; j++) {
				if (l->sigs[j].signo == buf[i])
					l->sigs[j].cb(l, buf[i],
					    l->sigs[j].arg);
			}
		}
	}
}

static void
loop_posts_drain(struct loop *l)
{
	struct loop_post	*p, *next;

	loop_drain(l->wake[0]);
	pthread_mutex_lock(&l->post_lock);
	p = l->post_head;
	l->post_head = l->post_tail = NULL;
	pthread_mutex_unlock(&l->post_lock);
	for (; p != NULL; p = next) {
		next = p->next;
		p->cb(l, p->arg);
		free(p);
	}
}

static void
loop_timers_run(struct loop *l)
{
	struct loop_timer	*t;
	int64_t			 now = loop_clock();

	/* Only timers due now; ones added by callbacks wait a turn. */
	while ((t = l->timers) != NULL && t->when <= now) {
		l->timers = t->next;
		t->cb(l, t->arg);
		free(t);
	}
}

static int
loop_timeout(struct loop *l, int max_ms)
{
	int64_t	delta;
	int	timeout = max_ms;

	if (l->timers != NULL) {
		delta = l->timers->when - loop_clock();
		if (delta < 0)
			delta = 0;
		if (timeout < 0 || delta < timeout)
			timeout = (int)(delta > 1000000 ? 1000000 : delta);
	}
	return (timeout);
}

void
loop_once(struct loop *l, int max_ms)
{
	struct loop_fd	*f;
	size_t		 n = 2, i;
	int		 r;

	for (f = l->fds; f != NULL; f = f->next)
		n++;
	if (n > l->pcap) {
		l->pcap = n * 2;
		l->pfds = xreallocarray(l->pfds, l->pcap, sizeof *l->pfds);
		l->pmap = xreallocarray(l->pmap, l->pcap, sizeof *l->pmap);
	}
	l->pfds[0].fd = loop_sigpipe[0];
	l->pfds[0].events = POLLIN;
	l->pfds[1].fd = l->wake[0];
	l->pfds[1].events = POLLIN;
	n = 2;
	for (f = l->fds; f != NULL; f = f->next) {
		if (f->dead)
			continue;
		l->pfds[n].fd = f->fd;
		l->pfds[n].events = f->events;
		l->pmap[n] = f;
		n++;
	}
	for (i = 0; i < n; i++)
		l->pfds[i].revents = 0;

	r = poll(l->pfds, n, loop_timeout(l, max_ms));
	if (r == -1 && errno != EINTR)
		fatal("poll");
	l->now = loop_clock();

	loop_signals_drain(l);
	if (r > 0 && (l->pfds[1].revents & POLLIN))
		loop_posts_drain(l);
	for (i = 2; r > 0 && i < n; i++) {
		f = l->pmap[i];
		if (l->pfds[i].revents != 0 && !f->dead)
			f->cb(l, f->fd, l->pfds[i].revents, f->arg);
	}
	loop_timers_run(l);
	loop_reap_fds(l);
	if (l->idle != NULL)
		l->idle(l, l->idle_arg);
}

int
loop_run(struct loop *l)
{
	l->running = 1;
	while (l->running)
		loop_once(l, -1);
	return (0);
}

void
loop_stop(struct loop *l)
{
	l->running = 0;
}
