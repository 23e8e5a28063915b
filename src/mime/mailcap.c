/*
 * Mailcap look-up and the sandbox its commands run in. A filter child is
 * forked from a worker thread, so between fork(2) and execve(2) it makes
 * only async-signal-safe calls: everything it needs is built before.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "mime/mailcap.h"

/* Longest mailcap line we read, continuation lines joined. */
#define MAILCAP_MAX_LINE	8192

/* Whether an entry's type field matches type (or is "image/" any). */
static int
mailcap_type_matches(const char *pattern, const char *type)
{
	const char	*slash = strchr(pattern, '/');
	size_t		 n;

	if (strcasecmp(pattern, type) == 0)
		return (1);
	n = slash != NULL ? (size_t)(slash - pattern) : strlen(pattern);
	if (slash != NULL && strcmp(slash, "/*") != 0)
		return (0);
	return (strncasecmp(pattern, type, n) == 0 && type[n] == '/');
}

/* Trims blanks at both ends of s, in place. */
static char *
mailcap_trim(char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return (s);
}

/*
 * Splits a mailcap line at unescaped ';' into at most max fields, in
 * place; "\;" becomes ";" in the command. Returns the field count.
 */
static size_t
mailcap_split(char *line, char **f, size_t max)
{
	char	*r = line, *w = line;
	size_t	 n = 0;

	f[n++] = w;
	while (*r != '\0') {
		if (r[0] == '\\' && r[1] != '\0') {
			*w++ = r[1];
			r += 2;
			continue;
		}
		if (*r == ';' && n < max) {
			*w++ = '\0';
			r++;
			f[n++] = w;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (n);
}

/* Parses one logical line; 0 when it is an entry for type. */
static int
mailcap_parse(char *line, const char *type, unsigned flags,
    struct mailcap_entry *e)
{
	char	*f[32], *v;
	size_t	 n, i;
	int	 copious = 0, term = 0, test = 0;
	char	*tmpl = NULL;

	line = mailcap_trim(line);
	if (*line == '#' || *line == '\0')
		return (-1);
	n = mailcap_split(line, f, 32);
	if (n < 2 || !mailcap_type_matches(mailcap_trim(f[0]), type))
		return (-1);
	for (i = 2; i < n; i++) {
		v = mailcap_trim(f[i]);
		if (strcasecmp(v, "copiousoutput") == 0)
			copious = 1;
		else if (strcasecmp(v, "needsterminal") == 0)
			term = 1;
		else if (strncasecmp(v, "test", 4) == 0 &&
		    mailcap_trim(v + 4)[0] == '=')
			test = 1;
		else if (strncasecmp(v, "nametemplate=", 13) == 0)
			tmpl = v + 13;
	}
	if (test || *mailcap_trim(f[1]) == '\0')
		return (-1);
	if ((flags & MAILCAP_COPIOUS) && !copious)
		return (-1);
	if ((flags & MAILCAP_INTERACTIVE) && copious)
		return (-1);
	e->type = xstrdup(mailcap_trim(f[0]));
	e->command = xstrdup(mailcap_trim(f[1]));
	e->copiousoutput = copious;
	e->needsterminal = term;
	e->nametemplate = tmpl != NULL ? xstrdup(mailcap_trim(tmpl)) : NULL;
	return (0);
}

/* Looks for type in one file. */
static int
mailcap_find_file(const char *file, const char *type, unsigned flags,
    struct mailcap_entry *e)
{
	FILE		*fp;
	struct buf	 line;
	char		 chunk[1024];
	size_t		 n;
	int		 found = -1, more;

	if ((fp = fopen(file, "re")) == NULL)
		return (-1);
	buf_init(&line);
	while (found != 0 && fgets(chunk, sizeof chunk, fp) != NULL) {
		n = strlen(chunk);
		more = n > 0 && chunk[n - 1] != '\n' && !feof(fp);
		if (n > 0 && chunk[n - 1] == '\n')
			chunk[--n] = '\0';
		if (!more && n > 0 && chunk[n - 1] == '\\') {
			chunk[--n] = '\0';
			more = 1;
		}
		if (line.len + n < MAILCAP_MAX_LINE)
			buf_add(&line, chunk, n);
		if (more)
			continue;
		found = mailcap_parse((char *)buf_str(&line), type, flags, e);
		buf_reset(&line);
	}
	buf_free(&line);
	fclose(fp);
	return (found);
}

int
mailcap_find(const char *path, const char *type, unsigned flags,
    struct mailcap_entry *e)
{
	const char	*p = path, *end, *home;
	char		*file;
	size_t		 n;
	int		 r = -1;

	memset(e, 0, sizeof *e);
	if (path == NULL)
		return (-1);
	while (*p != '\0' && r != 0) {
		end = strchr(p, ':');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		file = NULL;
		if (n >= 2 && p[0] == '~' && p[1] == '/') {
			if ((home = getenv("HOME")) != NULL && *home != '\0')
				xasprintf(&file, "%s%.*s", home, (int)n - 1,
				    p + 1);
		} else if (n > 0)
			file = xstrndup(p, n);
		if (file != NULL)
			r = mailcap_find_file(file, type, flags, e);
		free(file);
		p += n;
		if (*p == ':')
			p++;
	}
	return (r);
}

void
mailcap_entry_free(struct mailcap_entry *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->command);
	free(e->nametemplate);
	memset(e, 0, sizeof *e);
}

/* Appends s reduced to characters harmless in a shell word. */
static void
mailcap_add_safe(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("/.+_-", *s) != NULL)
			buf_addc(b, *s);
	}
}

char *
mailcap_command(const struct mailcap_entry *e, const char *file,
    const char *type, const char *charset)
{
	struct buf	 b;
	const char	*c, *close;

	buf_init(&b);
	for (c = e->command; *c != '\0'; c++) {
		if (*c != '%' || c[1] == '\0') {
			buf_addc(&b, *c);
			continue;
		}
		c++;
		switch (*c) {
		case 's':	/* our own temporary name: no quote in it */
			buf_addf(&b, "'%s'", file);
			break;
		case 't':
			mailcap_add_safe(&b, type);
			break;
		case '{':
			if ((close = strchr(c, '}')) == NULL)
				break;
			if (close - c == 8 && strncasecmp(c + 1, "charset",
			    7) == 0)
				mailcap_add_safe(&b, charset != NULL ?
				    charset : "utf-8");
			c = close;
			break;
		case '%':
			buf_addc(&b, '%');
			break;
		default:	/* %n, %F and the like: nothing for us */
			break;
		}
	}
	return (buf_steal(&b));
}

int
mailcap_sandbox_child(int interactive)
{
	struct rlimit	rl;

	if (!interactive) {
		setpgid(0, 0);
		rl.rlim_cur = rl.rlim_max = MAILCAP_TIMEOUT_MS / 1000 + 1;
		setrlimit(RLIMIT_CPU, &rl);
		rl.rlim_cur = rl.rlim_max = MAILCAP_MAX_MEMORY;
		setrlimit(RLIMIT_AS, &rl);
		rl.rlim_cur = rl.rlim_max = 0;
		setrlimit(RLIMIT_CORE, &rl);
	}
	if (unshare(CLONE_NEWNET) == 0)
		return (1);
	/* Not root: a user namespace may still give us a network one. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		return (1);
	return (0);
}

/* The temporary file suffix a nametemplate asks for (".html"). */
static void
mailcap_suffix(const struct mailcap_entry *e, char *out, size_t size)
{
	const char	*t = e->nametemplate, *s;
	size_t		 n = 0;

	out[0] = '\0';
	if (t == NULL || (s = strstr(t, "%s")) == NULL)
		return;
	for (s += 2; *s != '\0' && n + 1 < size; s++) {
		if (isalnum((unsigned char)*s) || *s == '.' || *s == '-' ||
		    *s == '_')
			out[n++] = *s;
	}
	out[n] = '\0';
}

/* Milliseconds on the monotonic clock. */
static long long
mailcap_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Writes all of p[0..len) to fd. */
static int
mailcap_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

int
mailcap_filter(const struct mailcap_entry *e, const char *type,
    const char *charset, const char *in, size_t len, struct buf *out,
    int *isolated, struct error *err)
{
	char		 tmp[64], suffix[16], *cmd, *argv[4], *envp[5];
	char		 path_env[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char		 lang_env[] = "LANG=C.UTF-8", term_env[] = "TERM=dumb";
	char		*home_env = NULL, chunk[8192];
	const char	*tmpdir = "/tmp";
	struct pollfd	 pfd;
	long long	 deadline;
	size_t		 got = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 fd, infd, nullfd, pfds[2], st[2], status, killed = 0;
	int		 iso = 0, r;

	if (isolated != NULL)
		*isolated = 0;
	mailcap_suffix(e, suffix, sizeof suffix);
	snprintf(tmp, sizeof tmp, "%s/facteur-XXXXXX%s", tmpdir, suffix);
	if ((fd = mkostemps(tmp, (int)strlen(suffix), O_CLOEXEC)) == -1)
		return (error_set(err, ERR_IO, "temporary file: %s",
		    strerror(errno)));
	if (mailcap_write_all(fd, in, len) != 0) {
		close(fd);
		unlink(tmp);
		return (error_set(err, ERR_IO, "temporary file: %s",
		    strerror(errno)));
	}
	close(fd);
	infd = open(tmp, O_RDONLY | O_CLOEXEC);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (infd == -1 || nullfd == -1 || pipe2(pfds, O_CLOEXEC) == -1 ||
	    pipe2(st, O_CLOEXEC) == -1) {
		r = error_set(err, ERR_IO, "filter: %s", strerror(errno));
		if (infd != -1)
			close(infd);
		if (nullfd != -1)
			close(nullfd);
		unlink(tmp);
		return (r);
	}
	cmd = mailcap_command(e, tmp, type, charset);
	xasprintf(&home_env, "HOME=%s", getenv("HOME") != NULL ?
	    getenv("HOME") : "/");
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = cmd;
	argv[3] = NULL;
	envp[0] = path_env;
	envp[1] = home_env;
	envp[2] = lang_env;
	envp[3] = term_env;
	envp[4] = NULL;

	if ((pid = fork()) == 0) {
		iso = mailcap_sandbox_child(0);
		n = write(st[1], &iso, sizeof iso);
		if (dup2(infd, 0) == -1 || dup2(pfds[1], 1) == -1 ||
		    dup2(nullfd, 2) == -1)
			_exit(127);
		close_range(3, ~0U, 0);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(infd);
	close(nullfd);
	close(pfds[1]);
	close(st[1]);
	free(cmd);
	free(home_env);
	if (pid == -1) {
		r = error_set(err, ERR_IO, "fork: %s", strerror(errno));
		close(pfds[0]);
		close(st[0]);
		unlink(tmp);
		return (r);
	}
	if (read(st[0], &iso, sizeof iso) != (ssize_t)sizeof iso)
		iso = 0;
	close(st[0]);
	if (isolated != NULL)
		*isolated = iso;

	deadline = mailcap_now() + MAILCAP_TIMEOUT_MS;
	pfd.fd = pfds[0];
	pfd.events = POLLIN;
	for (;;) {
		long long left = deadline - mailcap_now();

		if (left <= 0) {
			killed = 1;
			break;
		}
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			killed = 1;
			break;
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(pfds[0], chunk, sizeof chunk)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break;
		if (got + (size_t)n > MAILCAP_MAX_OUTPUT) {
			buf_add(out, chunk, MAILCAP_MAX_OUTPUT - got);
			killed = 2;
			break;
		}
		buf_add(out, chunk, (size_t)n);
		got += (size_t)n;
	}
	close(pfds[0]);
	if (killed) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	unlink(tmp);
	if (killed == 1)
		return (error_set(err, ERR_CANCELLED,
		    "filter killed after %d seconds",
		    MAILCAP_TIMEOUT_MS / 1000));
	if (killed == 2)
		return (error_set(err, ERR_REFUSED,
		    "filter output cut at %lu bytes", MAILCAP_MAX_OUTPUT));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return (error_set(err, ERR_IO, "filter failed (status %d)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
		    WTERMSIG(status)));
	return (0);
}
