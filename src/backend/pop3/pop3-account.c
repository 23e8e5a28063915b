/*
 * A POP3 account from its configuration block: the server URL, how TLS
 * is required, the keep_on_server and poll_interval policies, where the
 * UIDL state lives; and the password from password_cmd.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/fetcher.h"
#include "backend/pop3/private.h"
#include "config/config.h"
#include "core/path.h"
#include "core/xmalloc.h"

#define POP3_PASSWORD_CMD_SECS	60

extern char	**environ;

/* Parses a duration: N, Ns, Nm, Nh or Nd, in seconds; -1 if bad. */
static long
pop3_duration(const char *s, long unit)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno != 0 || v < 0 || v > 100000000L)
		return (-1);
	if (*end == '\0')
		return (v * unit);
	if (end[1] != '\0')
		return (-1);
	switch (*end) {
	case 's':
		return (v);
	case 'm':
		return (v * 60);
	case 'h':
		return (v * 3600);
	case 'd':
		return (v * 86400);
	}
	return (-1);
}

/*
 * Parses pop3s://[user[;auth=+APOP]@]host[:port] or pop3://... into pa
 * (RFC 2384: ";auth=+APOP" asks for APOP, ";auth=*" for the default).
 */
static int
pop3_parse_url(struct pop3_account *pa, const struct config_account *ca,
    struct error *err)
{
	const char	*u = ca->pop3, *h, *at, *end, *colon;
	char		*e;
	long		 port;
	int		 implicit;

	if (strncmp(u, "pop3s://", 8) == 0) {
		implicit = 1;
		h = u + 8;
	} else if (strncmp(u, "pop3://", 7) == 0) {
		implicit = 0;
		h = u + 7;
	} else
		goto bad;
	end = h + strcspn(h, "/?#");
	if (*end != '\0' && strcmp(end, "/") != 0)
		goto bad;
	at = memchr(h, '@', (size_t)(end - h));
	if (at != NULL) {
		if (at == h)
			goto bad;
		pa->user = xstrndup(h, (size_t)(at - h));
		h = at + 1;
		if ((e = strchr(pa->user, ';')) != NULL) {
			if (strcasecmp(e, ";auth=+APOP") == 0)
				pa->apop = 1;
			else if (strcasecmp(e, ";auth=*") != 0)
				goto bad;
			*e = '\0';
			if (*pa->user == '\0')
				goto bad;
		}
	}
	if (*h == '[') {
		colon = memchr(h, ']', (size_t)(end - h));
		if (colon == NULL)
			goto bad;
		pa->host = xstrndup(h + 1, (size_t)(colon - h - 1));
		colon++;
		if (colon != end && *colon != ':')
			goto bad;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		pa->host = xstrndup(h, (size_t)((colon != NULL ? colon : end) -
		    h));
	}
	if (*pa->host == '\0')
		goto bad;
	pa->port = implicit ? 995 : 110;
	if (colon != NULL && colon != end) {
		port = strtol(colon + 1, &e, 10);
		if (e != end || port <= 0 || port > 65535)
			goto bad;
		pa->port = (int)port;
	}
	pa->tls = implicit ? POP3_TLS_IMPLICIT : POP3_TLS_STARTTLS;
	return (0);
bad:
	return (error_set(err, ERR_CONFIG, "%s:%u: account %s: pop3 %s: "
	    "expected pop3s://user@host[:port] or pop3://user@host[:port] "
	    "(user;auth=+APOP@host for APOP)",
	    ca->file, ca->line, ca->name, u));
}

/* Builds a POP3 account from its config block. */
int
pop3_account_new(const struct config_account *ca, struct pop3_account **out,
    struct error *err)
{
	struct pop3_account	*pa;
	const char		*data, *home;
	char			*name, *p;
	long			 v;

	*out = NULL;
	if (ca->pop3 == NULL)
		return (error_set(err, ERR_CONFIG, "%s:%u: account %s has no "
		    "pop3 server", ca->file, ca->line, ca->name));
	pa = xcalloc(1, sizeof *pa);
	pa->name = xstrdup(ca->name);
	pa->timeout_ms = NET_TIMEOUT_DEFAULT_MS;
	if (pop3_parse_url(pa, ca, err) != 0)
		goto fail;
	if (ca->user != NULL) {
		free(pa->user);
		pa->user = xstrdup(ca->user);
	}
	if (pa->user == NULL) {
		error_set(err, ERR_CONFIG, "%s:%u: account %s: no user (give "
		    "it in the URL, pop3s://user@host, or as user)", ca->file,
		    ca->line, ca->name);
		goto fail;
	}
	if (ca->tls != NULL) {
		if (strcmp(ca->tls, "off") == 0) {
			if (pa->tls == POP3_TLS_IMPLICIT) {
				error_set(err, ERR_CONFIG, "%s:%u: account %s: "
				    "tls off contradicts pop3s://", ca->file,
				    ca->line, ca->name);
				goto fail;
			}
			pa->tls = POP3_TLS_OFF;
		} else if (strcmp(ca->tls, "starttls") == 0)
			pa->tls = POP3_TLS_STARTTLS;
		else if (strcmp(ca->tls, "implicit") == 0)
			pa->tls = POP3_TLS_IMPLICIT;
	}
	if (ca->maildir == NULL) {
		error_set(err, ERR_CONFIG, "%s:%u: account %s: a pop3 account "
		    "needs a maildir to download into", ca->file, ca->line,
		    ca->name);
		goto fail;
	}
	pa->maildir = path_expand_home(ca->maildir);
	if (ca->tls_ca_file != NULL)
		pa->ca_file = path_expand_home(ca->tls_ca_file);
	if (ca->password_cmd != NULL)
		pa->password_cmd = xstrdup(ca->password_cmd);

	pa->keep = POP3_KEEP_ALL;
	if (ca->keep_on_server != NULL &&
	    strcmp(ca->keep_on_server, "yes") != 0) {
		if (strcmp(ca->keep_on_server, "no") == 0)
			pa->keep = POP3_KEEP_NONE;
		else if ((p = strchr(ca->keep_on_server, 'd')) != NULL &&
		    p[1] == '\0' &&
		    (v = pop3_duration(ca->keep_on_server, 86400)) >= 0) {
			pa->keep = POP3_KEEP_DAYS;
			pa->keep_days = v / 86400;
		} else {
			error_set(err, ERR_CONFIG, "%s:%u: account %s: "
			    "keep_on_server %s: expected yes, no or a number "
			    "of days (7d)", ca->file, ca->line, ca->name,
			    ca->keep_on_server);
			goto fail;
		}
	}
	if (ca->poll_interval != NULL) {
		v = pop3_duration(ca->poll_interval, 1);
		if (v < 0 || (v > 0 && v < 10)) {
			error_set(err, ERR_CONFIG, "%s:%u: account %s: "
			    "poll_interval %s: expected a duration of at least "
			    "10s (90s, 10m, 1h) or 0", ca->file, ca->line,
			    ca->name, ca->poll_interval);
			goto fail;
		}
		pa->poll_secs = v;
	}

	data = getenv("XDG_DATA_HOME");
	home = getenv("HOME");
	name = xstrdup(ca->name);
	for (p = name; *p != '\0'; p++) {
		if (*p == '/' || (*p == '.' && p == name))
			*p = '_';
	}
	if (data != NULL && *data == '/') {
		xasprintf(&pa->state_path, "%s/facteur/pop3/%s.uidl", data,
		    name);
		xasprintf(&pa->pin_file, "%s/facteur/known_hosts", data);
	} else {
		xasprintf(&pa->state_path, "%s/.local/share/facteur/pop3/"
		    "%s.uidl", home != NULL ? home : "", name);
		xasprintf(&pa->pin_file, "%s/.local/share/facteur/known_hosts",
		    home != NULL ? home : "");
	}
	free(name);
	*out = pa;
	return (0);
fail:
	pop3_account_free(&pa);
	return (-1);
}

/* Frees an account. */
void
pop3_account_free(struct pop3_account **pap)
{
	struct pop3_account	*pa = *pap;

	if (pa == NULL)
		return;
	free(pa->name);
	free(pa->host);
	free(pa->user);
	free(pa->ca_file);
	free(pa->pin_file);
	free(pa->password_cmd);
	free(pa->maildir);
	free(pa->state_path);
	free(pa);
	*pap = NULL;
}

/* Runs password_cmd and returns the first line it prints. */
char *
pop3_password_from_cmd(const struct pop3_account *pa, struct error *err)
{
	return (pop3_password_run(pa, 0, -1, err));
}

/*
 * Runs password_cmd (the user's own text, never a message's) with
 * /bin/sh -c, its output on a pipe; quiet gives it /dev/null as input and
 * error output, so that nothing it says lands on a curses screen. It may
 * take PASSWORD_CMD_SECS to answer, then it is killed; so it is when
 * cancel_fd becomes readable.
 */
char *
pop3_password_run(const struct pop3_account *pa, int quiet, int cancel_fd,
    struct error *err)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, def;
	struct pollfd			 pfd[2];
	char				*argv[4], line[1024], *pw = NULL;
	size_t				 n = 0;
	ssize_t				 r;
	pid_t				 pid;
	int				 fds[2], status, got_line = 0, timed_out = 0;
	int				 cancelled = 0;
	time_t				 deadline;

	if (pa->password_cmd == NULL) {
		error_set(err, ERR_AUTH, "%s: no password_cmd", pa->name);
		return (NULL);
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		error_set(err, ERR_AUTH, "%s: password_cmd: %s", pa->name,
		    strerror(errno));
		return (NULL);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
		    "/dev/null", O_RDONLY, 0);
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO,
		    "/dev/null", O_WRONLY, 0);
	}
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = pa->password_cmd;
	argv[3] = NULL;
	/* Not the worker thread's blocked signals; SIGPIPE as usual. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (r != 0) {
		close(fds[0]);
		error_set(err, ERR_AUTH, "%s: password_cmd: %s", pa->name,
		    strerror((int)r));
		return (NULL);
	}
	/* Reads up to the first line break; drains the rest. */
	deadline = time(NULL) + POP3_PASSWORD_CMD_SECS;
	pfd[0].fd = fds[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = cancel_fd;		/* poll ignores a negative fd */
	pfd[1].events = POLLIN;
	for (;;) {
		if (time(NULL) >= deadline) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, 1000) <= 0)
			continue;
		if (pfd[1].revents != 0) {
			cancelled = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (got_line) {
			char	sink[512];

			if ((r = read(fds[0], sink, sizeof sink)) <= 0 &&
			    !(r == -1 && errno == EINTR))
				break;
			continue;
		}
		r = read(fds[0], line + n, sizeof line - 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(line, '\n', n) != NULL || n == sizeof line - 1)
			got_line = 1;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	line[n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (cancelled)
		error_set(err, ERR_CANCELLED, "%s: fetch cancelled", pa->name);
	else if (timed_out)
		error_set(err, ERR_AUTH, "%s: password_cmd did not answer "
		    "within %d s", pa->name, POP3_PASSWORD_CMD_SECS);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		error_set(err, ERR_AUTH, "%s: password_cmd failed (%s %d)",
		    pa->name, WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (line[0] == '\0')
		error_set(err, ERR_AUTH, "%s: password_cmd printed no "
		    "password", pa->name);
	else
		pw = xstrdup(line);
	explicit_bzero(line, sizeof line);
	return (pw);
}

/* Wipes and frees a secret. */
void
pop3_secret_free(char **sp)
{
	if (*sp == NULL)
		return;
	explicit_bzero(*sp, strlen(*sp));
	free(*sp);
	*sp = NULL;
}

/* The --fetch exit status for an error kind (sysexits.h). */
int
pop3_exit_status(enum error_kind kind)
{
	return (fetcher_exit_status(kind));
}
