/*
 * A TCP connect that can be cancelled and timed out: getaddrinfo, then a
 * non-blocking connect to each address in turn, polled together with the
 * caller's cancel fd.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "net/private.h"

long long
net_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
net_timeout(int timeout_ms)
{
	return (timeout_ms > 0 ? timeout_ms : NET_TIMEOUT_DEFAULT_MS);
}

enum net_poll_result
net_poll(int fd, short events, int cancel_fd, int timeout_ms)
{
	struct pollfd	pfd[2];
	long long	deadline;
	int		n, left;

	deadline = timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
	for (;;) {
		pfd[0].fd = fd;
		pfd[0].events = events;
		pfd[0].revents = 0;
		pfd[1].fd = cancel_fd;	/* poll ignores a negative fd */
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;

		left = -1;
		if (deadline >= 0) {
			left = (int)(deadline - net_now_ms());
			if (left < 0)
				left = 0;
		}
		n = poll(pfd, 2, left);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (NET_POLL_ERROR);
		}
		if (pfd[1].revents != 0)
			return (NET_POLL_CANCELLED);
		if (n == 0)
			return (NET_POLL_TIMEOUT);
		/* Errors and hangups show up as readiness: the call says. */
		return (NET_POLL_READY);
	}
}

/* Keepalive: first probe after 60 s of silence, then every 15 s, 4 lost
   probes end the connection (about two minutes in all). */
static const int	net_keepalive[3] = { 60, 15, 4 };

/* Connects one address; 0, or -1 with errno, or -2 timed out, -3 cancelled. */
static int
net_connect_one(const struct addrinfo *ai, long long deadline, int cancel_fd,
    int *fdp)
{
	socklen_t	len;
	int		fd, soerr, one = 1, left;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return (-1);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		left = (int)(deadline - net_now_ms());
		switch (net_poll(fd, POLLOUT, cancel_fd, left < 0 ? 0 : left)) {
		case NET_POLL_READY:
			break;
		case NET_POLL_TIMEOUT:
			close(fd);
			return (-2);
		case NET_POLL_CANCELLED:
			close(fd);
			return (-3);
		case NET_POLL_ERROR:
			goto fail;
		}
		len = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
			goto fail;
		if (soerr != 0) {
			errno = soerr;
			goto fail;
		}
	}
	/* Commands are small and answered one by one: do not let Nagle wait. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/*
	 * A session that waits in IDLE for half an hour sends nothing: a
	 * peer gone without a word (a network change, a NAT that forgot us)
	 * is noticed by keepalive probes (net_keepalive) instead.
	 */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &net_keepalive[0],
	    sizeof net_keepalive[0]);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &net_keepalive[1],
	    sizeof net_keepalive[1]);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &net_keepalive[2],
	    sizeof net_keepalive[2]);
	*fdp = fd;
	return (0);

fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return (-1);
}

int
net_connect(const char *host, int port, int timeout_ms, int cancel_fd,
    struct error *err)
{
	struct addrinfo	 hints, *res, *ai;
	char		 serv[16];
	long long	 deadline;
	int		 r, fd = -1, saved = 0;

	if (port <= 0 || port > 65535)
		return (error_set(err, ERR_CONFIG, "%s: bad port %d", host,
		    port));
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(serv, sizeof serv, "%d", port);
	r = getaddrinfo(host, serv, &hints, &res);
	if (r != 0) {
		if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_FAIL)
			return (error_set(err, ERR_NET, "%s: host not found",
			    host));
		if (r == EAI_AGAIN)
			return (error_set(err, ERR_NET,
			    "%s: host not found (temporary failure)", host));
		if (r == EAI_SYSTEM)
			return (error_set(err, ERR_NET, "%s: %s", host,
			    strerror(errno)));
		return (error_set(err, ERR_NET, "%s: %s", host,
		    gai_strerror(r)));
	}

	deadline = net_now_ms() + net_timeout(timeout_ms);
	r = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		r = net_connect_one(ai, deadline, cancel_fd, &fd);
		if (r == 0 || r == -2 || r == -3)
			break;
		saved = errno;
	}
	freeaddrinfo(res);

	switch (r) {
	case 0:
		return (fd);
	case -2:
		return (error_set(err, ERR_NET, "%s:%d: connection timed out",
		    host, port));
	case -3:
		return (error_set(err, ERR_CANCELLED, "%s:%d: cancelled", host,
		    port));
	}
	if (saved == ECONNREFUSED)
		return (error_set(err, ERR_NET, "%s:%d: connection refused",
		    host, port));
	if (saved == ETIMEDOUT)
		return (error_set(err, ERR_NET, "%s:%d: connection timed out",
		    host, port));
	return (error_set(err, ERR_NET, "%s:%d: %s", host, port,
	    strerror(saved)));
}
