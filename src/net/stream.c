/*
 * libetpan mailstream_low drivers over our sockets: one over a struct tls,
 * one over a plain socket (the greeting and STARTTLS exchange, or a user
 * who asked for no TLS). Every wait polls the socket and the cancel fd, so
 * a worker can be stopped in the middle of any read or write; libetpan's
 * own drivers use select() and their own cancel pipe.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "net/private.h"

struct net_stream {
	int		 fd;
	int		 cancel_fd;
	int		 timeout_ms;
	struct tls	*tls;		/* NULL: plain text */
	atomic_int	 cancelled;
};

static ssize_t	net_stream_read(mailstream_low *, void *, size_t);
static ssize_t	net_stream_write(mailstream_low *, const void *, size_t);
static int	net_stream_close(mailstream_low *);
static int	net_stream_get_fd(mailstream_low *);
static void	net_stream_free(mailstream_low *);
static void	net_stream_cancel(mailstream_low *);

static mailstream_low_driver net_stream_driver = {
	.mailstream_read = net_stream_read,
	.mailstream_write = net_stream_write,
	.mailstream_close = net_stream_close,
	.mailstream_get_fd = net_stream_get_fd,
	.mailstream_free = net_stream_free,
	.mailstream_cancel = net_stream_cancel,
	.mailstream_get_cancel = NULL,
	.mailstream_get_certificate_chain = NULL,
	.mailstream_setup_idle = NULL,
	.mailstream_unsetup_idle = NULL,
	.mailstream_interrupt_idle = NULL,
};

/* A new driver instance; mailstream_low_new() only fails on ENOMEM. */
static mailstream_low *
net_stream_new(int fd, int timeout_ms, int cancel_fd, struct tls *tls)
{
	struct net_stream	*ns;
	mailstream_low		*low;

	ns = xcalloc(1, sizeof *ns);
	ns->fd = fd;
	ns->cancel_fd = cancel_fd;
	ns->timeout_ms = net_timeout(timeout_ms);
	ns->tls = tls;
	atomic_init(&ns->cancelled, 0);
	if ((low = mailstream_low_new(ns, &net_stream_driver)) == NULL)
		fatalx("out of memory");
	return (low);
}

mailstream_low *
tls_stream_low_new(struct tls *tls)
{
	return (net_stream_new(tls->fd, tls->timeout_ms, tls->cancel_fd, tls));
}

mailstream_low *
net_plain_low_new(int fd, int timeout_ms, int cancel_fd)
{
	return (net_stream_new(fd, timeout_ms, cancel_fd, NULL));
}

struct tls *
tls_stream_get(mailstream_low *low)
{
	struct net_stream	*ns;

	if (low == NULL || low->driver != &net_stream_driver)
		return (NULL);
	ns = low->data;
	return (ns->tls);
}

/* The wait for one read or write: libetpan's per-stream timeout wins. */
static int
net_stream_wait(mailstream_low *low, short events)
{
	struct net_stream	*ns = low->data;
	int			 timeout_ms = ns->timeout_ms;

	if (mailstream_low_get_timeout(low) > 0)
		timeout_ms = (int)mailstream_low_get_timeout(low) * 1000;
	if (atomic_load(&ns->cancelled))
		return (-1);
	switch (net_poll(ns->fd, events, ns->cancel_fd, timeout_ms)) {
	case NET_POLL_READY:
		return (atomic_load(&ns->cancelled) ? -1 : 0);
	case NET_POLL_TIMEOUT:
	case NET_POLL_CANCELLED:
	case NET_POLL_ERROR:
		break;
	}
	return (-1);
}

/*
 * Reads what is there, waiting for it. End of file is -1, not 0:
 * libetpan's IMAP literal reader takes 0 as "try again" and would spin
 * for ever on a server that closed in the middle of a literal.
 */
static ssize_t
net_stream_read(mailstream_low *low, void *buf, size_t len)
{
	struct net_stream	*ns = low->data;
	gnutls_session_t	 s;
	ssize_t			 r;

	if (ns->fd == -1 || atomic_load(&ns->cancelled))
		return (-1);
	if (ns->tls == NULL) {
		for (;;) {
			r = recv(ns->fd, buf, len, 0);
			if (r > 0 || len == 0)
				return (r);
			if (r == 0)
				return (-1);	/* end of file, see below */
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return (-1);
			if (net_stream_wait(low, POLLIN) == -1)
				return (-1);
		}
	}

	s = ns->tls->session;
	for (;;) {
		r = gnutls_record_recv(s, buf, len);
		if (r > 0 || len == 0)
			return (r);
		if (r == 0)
			return (-1);	/* end of file, see below */
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_AGAIN) {
			/* Decrypted data may wait in GnuTLS, unseen by poll. */
			if (gnutls_record_check_pending(s) > 0)
				continue;
			if (net_stream_wait(low, gnutls_record_get_direction(s) ?
			    POLLOUT : POLLIN) == -1)
				return (-1);
			continue;
		}
		if (!gnutls_error_is_fatal(r))
			continue;	/* warning alert, rehandshake request */
		return (-1);		/* includes premature termination */
	}
}

static ssize_t
net_stream_write(mailstream_low *low, const void *buf, size_t len)
{
	struct net_stream	*ns = low->data;
	ssize_t			 r;

	if (ns->fd == -1 || atomic_load(&ns->cancelled))
		return (-1);
	if (ns->tls == NULL) {
		for (;;) {
			r = send(ns->fd, buf, len, MSG_NOSIGNAL);
			if (r >= 0)
				return (r);
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return (-1);
			if (net_stream_wait(low, POLLOUT) == -1)
				return (-1);
		}
	}
	for (;;) {
		/* After EAGAIN GnuTLS wants the very same arguments again. */
		r = gnutls_record_send(ns->tls->session, buf, len);
		if (r >= 0)
			return (r);
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r != GNUTLS_E_AGAIN)
			return (-1);
		if (net_stream_wait(low, gnutls_record_get_direction(
		    ns->tls->session) ? POLLOUT : POLLIN) == -1)
			return (-1);
	}
}

static int
net_stream_close(mailstream_low *low)
{
	struct net_stream	*ns = low->data;

	if (ns->fd == -1)
		return (0);
	/* One try at close_notify; a server that is gone is not waited for. */
	if (ns->tls != NULL && !atomic_load(&ns->cancelled))
		gnutls_bye(ns->tls->session, GNUTLS_SHUT_WR);
	close(ns->fd);
	ns->fd = -1;
	return (0);
}

static int
net_stream_get_fd(mailstream_low *low)
{
	struct net_stream	*ns = low->data;

	return (ns->fd);
}

/* Frees the driver and the mailstream_low itself, as libetpan expects. */
static void
net_stream_free(mailstream_low *low)
{
	struct net_stream	*ns = low->data;

	tls_free(&ns->tls);
	free(ns);
	low->data = NULL;
	free(low);
}

/* From another thread: wake up any wait and fail every later call. */
static void
net_stream_cancel(mailstream_low *low)
{
	struct net_stream	*ns = low->data;

	atomic_store(&ns->cancelled, 1);
	if (ns->fd != -1)
		shutdown(ns->fd, SHUT_RDWR);
}

enum net_wait
net_wait_readable(mailstream *s, int timeout_ms, int wake_fd)
{
	mailstream_low		*low = mailstream_get_low(s);
	struct net_stream	*ns;
	struct pollfd		 pfd[3];
	long long		 deadline;
	int			 n, left;

	if (s->read_buffer_len > 0)
		return (NET_WAIT_DATA);
	if (low == NULL || low->driver != &net_stream_driver)
		return (NET_WAIT_ERROR);
	ns = low->data;
	if (ns->fd == -1 || atomic_load(&ns->cancelled))
		return (NET_WAIT_CANCELLED);
	if (ns->tls != NULL &&
	    gnutls_record_check_pending(ns->tls->session) > 0)
		return (NET_WAIT_DATA);

	deadline = timeout_ms < 0 ? -1 : net_now_ms() + timeout_ms;
	for (;;) {
		pfd[0].fd = ns->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = wake_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = ns->cancel_fd;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		left = -1;
		if (deadline >= 0 && (left = (int)(deadline -
		    net_now_ms())) < 0)
			left = 0;
		n = poll(pfd, 3, left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (NET_WAIT_ERROR);
		if (pfd[2].revents != 0 || atomic_load(&ns->cancelled))
			return (NET_WAIT_CANCELLED);
		if (pfd[1].revents != 0)
			return (NET_WAIT_WOKEN);
		if (pfd[0].revents != 0)
			return (NET_WAIT_DATA);
		return (NET_WAIT_TIMEOUT);
	}
}
