/*
 * A small file logger, thread-safe, with a hook so that fatal errors
 * leave the terminal usable.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static FILE		*log_file;
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;
static void		(*log_fatal_hook)(void);

int
log_open(const char *path)
{
	int	fd;

	log_close();
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		return (-1);
	if ((log_file = fdopen(fd, "a")) == NULL) {
		close(fd);
		return (-1);
	}
	setvbuf(log_file, NULL, _IOLBF, 0);
	return (0);
}

void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
}

void
log_set_fatal_hook(void (*fn)(void))
{
	log_fatal_hook = fn;
}

static void
log_vwrite(const char *prefix, const char *fmt, va_list ap, int saved)
{
	struct timespec	ts;

	if (log_file == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&log_lock);
	fprintf(log_file, "%lld.%03ld %s", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000, prefix);
	vfprintf(log_file, fmt, ap);
	if (saved != 0)
		fprintf(log_file, ": %s", strerror(saved));
	fputc('\n', log_file);
	pthread_mutex_unlock(&log_lock);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("", fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, saved);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, 0);
	va_end(ap);
}

static void __attribute__((noreturn))
log_vfatal(const char *fmt, va_list ap, int saved)
{
	va_list	ap2;

	if (log_fatal_hook != NULL)
		log_fatal_hook();
	va_copy(ap2, ap);
	log_vwrite("fatal: ", fmt, ap, saved);
	fputs("facteur: ", stderr);
	vfprintf(stderr, fmt, ap2);
	va_end(ap2);
	if (saved != 0)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	exit(70);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vfatal(fmt, ap, saved);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vfatal(fmt, ap, 0);
}
