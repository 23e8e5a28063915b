/*
 * The sendmail transport: pipes the message to a local command (run by
 * /bin/sh, the envelope recipients appended as arguments after "--", so
 * Bcc is honoured without -t). Exit 0 is sent, 75 (EX_TEMPFAIL) is
 * queued by the MTA, anything else a failure quoting its first line.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "mime/sanitize.h"
#include "send/send.h"

#define SENDMAIL_ERR_MAX	4096

enum send_status
sendmail_send(const struct send_transport *t, const char *from,
    char *const *rcpt, size_t nrcpt, const char *msg, size_t len,
    struct error *err)
{
	int		 in[2], errp[2], status;
	pid_t		 pid;
	char		*script, **argv, ebuf[SENDMAIL_ERR_MAX], *first;
	size_t		 i, off = 0, elen = 0;
	ssize_t		 n;
	struct pollfd	 pfd[2];

	(void)from;
	if (t->command == NULL || *t->command == '\0') {
		error_set(err, ERR_CONFIG, "no sendmail command");
		return (SEND_PERMFAIL);
	}
	if (pipe2(in, O_CLOEXEC) != 0)
		return (error_set(err, ERR_IO, "pipe: %s", strerror(errno)),
		    SEND_TEMPFAIL);
	if (pipe2(errp, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return (error_set(err, ERR_IO, "pipe: %s", strerror(errno)),
		    SEND_TEMPFAIL);
	}
	xasprintf(&script, "%s -- \"$@\"", t->command);
	argv = xcalloc(nrcpt + 5, sizeof *argv);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = "sendmail";
	for (i = 0; i < nrcpt; i++)
		argv[4 + i] = rcpt[i];
	if ((pid = fork()) == -1) {
		error_set(err, ERR_IO, "fork: %s", strerror(errno));
		close(in[0]); close(in[1]); close(errp[0]); close(errp[1]);
		free(script);
		free(argv);
		return (SEND_TEMPFAIL);
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		dup2(in[0], 0);
		dup2(errp[1], 2);
		dup2(errp[1], 1);
		execv("/bin/sh", argv);
		_exit(127);
	}
	free(script);
	free(argv);
	close(in[0]);
	close(errp[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (len == 0) {
		close(in[1]);
		in[1] = -1;
	}
	/* Write the message and read what it says, both at once. */
	while (in[1] != -1 || errp[0] != -1) {
		pfd[0].fd = in[1];
		pfd[0].events = POLLOUT;
		pfd[1].fd = errp[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in[1] != -1 && pfd[0].revents != 0) {
			n = write(in[1], msg + off, len - off);
			if (n > 0)
				off += n;
			if ((n == -1 && errno != EAGAIN && errno != EINTR) ||
			    off == len) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (errp[0] != -1 && pfd[1].revents != 0) {
			n = read(errp[0], ebuf + elen, sizeof ebuf - 1 - elen);
			if (n <= 0 && !(n == -1 && errno == EINTR)) {
				close(errp[0]);
				errp[0] = -1;
			} else if (n > 0)
				elen += n;
			if (elen == sizeof ebuf - 1) {
				close(errp[0]);
				errp[0] = -1;
			}
		}
	}
	if (in[1] != -1)
		close(in[1]);
	if (errp[0] != -1)
		close(errp[0]);
	ebuf[elen] = '\0';
	ebuf[strcspn(ebuf, "\n")] = '\0';
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == len)
		return (SEND_OK);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 75)
		return (SEND_QUEUED);
	first = sanitize_line(ebuf);
	if (WIFEXITED(status))
		error_set(err, ERR_REFUSED, "sendmail failed (exit %d)%s%s",
		    WEXITSTATUS(status), *first != '\0' ? ": " : "", first);
	else
		error_set(err, ERR_REFUSED, "sendmail killed by signal %d",
		    WTERMSIG(status));
	free(first);
	return (SEND_PERMFAIL);
}
