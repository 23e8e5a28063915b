/*
 * Logging to a file (never to the terminal while the UI owns it), in the
 * manner of tmux's log.c. Nothing is written unless log_open() was called.
 * Secrets never reach a log: callers pass no credential here.
 */
#ifndef FACTEUR_CORE_LOG_H
#define FACTEUR_CORE_LOG_H

/* Opens path for appending (0600). Returns 0 or -1. */
int	log_open(const char *);
void	log_close(void);
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A warning with strerror(errno) appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Broken invariants only, never bad input: restore the terminal, exit. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Called by fatal() before it prints (the UI restores the terminal). */
void	log_set_fatal_hook(void (*)(void));

#endif
