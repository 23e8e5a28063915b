/*
 * The central event loop: poll() over file descriptors, a signal
 * self-pipe, a wake-up descriptor that worker threads write to when they
 * post work for the main thread, and timers. Only the thread that runs
 * the loop touches the UI and the model.
 */
#ifndef FACTEUR_CORE_LOOP_H
#define FACTEUR_CORE_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;
struct loop_fd;

typedef void (*loop_fd_cb)(struct loop *, int fd, short revents, void *);
typedef void (*loop_timer_cb)(struct loop *, void *);
typedef void (*loop_signal_cb)(struct loop *, int signo, void *);
typedef void (*loop_post_cb)(struct loop *, void *);
/* Called once per turn after events were handled: the place to draw. */
typedef void (*loop_idle_cb)(struct loop *, void *);

struct loop	*loop_new(void);
void		 loop_free(struct loop **);

/* Milliseconds on the monotonic clock, updated once per turn. */
int64_t		 loop_now(struct loop *);

/* Watches fd for events (POLLIN, POLLOUT). Returns a handle. */
struct loop_fd	*loop_add_fd(struct loop *, int, short, loop_fd_cb, void *);
void		 loop_remove_fd(struct loop *, struct loop_fd **);

/* Runs cb once after ms milliseconds (0: next turn). */
struct loop_timer *loop_add_timer(struct loop *, int64_t, loop_timer_cb,
		    void *);
/* Cancels a timer that has not fired; NULL is fine. Clears the pointer. */
void		 loop_cancel_timer(struct loop *, struct loop_timer **);

/* Delivers signo to cb on the loop thread (through the self-pipe). */
int		 loop_signal(struct loop *, int, loop_signal_cb, void *);

/* Thread-safe: runs cb(arg) on the loop thread at its next turn, in the
   order posted. Callable from any thread. */
void		 loop_post(struct loop *, loop_post_cb, void *);

void		 loop_set_idle(struct loop *, loop_idle_cb, void *);

/* Runs until loop_stop. Returns 0. */
int		 loop_run(struct loop *);
/* Runs one turn, waiting at most max_ms (-1: no limit beyond timers). */
void		 loop_once(struct loop *, int);
void		 loop_stop(struct loop *);

#endif
