/*
 * The IMAP backend: one session per account over net.h's verified TLS,
 * logged in with a password that lives only in memory, and a thread of
 * the backend's own that fills summaries in the background, IDLEs on the
 * folder the user looks at and reconnects with back-off. Worker operations
 * take the session from that thread by waking it (imap_conn_acquire).
 */
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

static void	(*imap_transcript)(void *, const char *);
static void	*imap_transcript_arg;

void
imap_set_transcript(void (*sink)(void *, const char *), void *arg)
{
	imap_transcript = sink;
	imap_transcript_arg = arg;
}

int
imap_url_parse(const char *url, char **host, int *port, int *implicit,
    struct error *err)
{
	const char	*h = url, *colon, *at;
	char		*end;
	long		 n;
	size_t		 len;

	*implicit = 1;
	if (strncasecmp(url, "imaps://", 8) == 0)
		h = url + 8;
	else if (strncasecmp(url, "imap://", 7) == 0) {
		h = url + 7;
		*implicit = 0;
	} else if (strstr(url, "://") != NULL)
		return (error_set(err, ERR_CONFIG, "%s: not an imap:// or "
		    "imaps:// address", url));
	/* imaps://user@host: the user is taken by imap_url_user. */
	if ((at = strchr(h, '@')) != NULL && at < h + strcspn(h, "/"))
		h = at + 1;
	len = strcspn(h, ":/");
	if (len == 0)
		return (error_set(err, ERR_CONFIG, "%s: no host name", url));
	*port = *implicit ? 993 : 143;
	colon = h + len;
	if (*colon == ':') {
		errno = 0;
		n = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || n < 1 || n > 65535 ||
		    (*end != '\0' && *end != '/'))
			return (error_set(err, ERR_CONFIG, "%s: bad port",
			    url));
		*port = (int)n;
	}
	*host = xstrndup(h, len);
	return (0);
}

char *
imap_url_user(const char *url)
{
	const char	*h = strstr(url, "://"), *at;

	h = h != NULL ? h + 3 : url;
	if ((at = strchr(h, '@')) == NULL || at > h + strcspn(h, "/"))
		return (NULL);
	return (xstrndup(h, at - h));
}

/* Tells the UI that rows or folders changed. */
void
imap_notify(struct backend *be, unsigned what)
{
	if (be->p.notify != NULL)
		be->p.notify(be->p.notify_arg, what);
}

/* The server's text of the last tagged reply, for messages. */
const char *
imap_response(struct backend *be)
{
	if (be->s == NULL || be->s->imap_response == NULL)
		return ("");
	return (be->s->imap_response);
}

/* Turns a libetpan result into an error; a stream error drops the session
   so that the next user reconnects. */
int
imap_session_error(struct backend *be, int r, const char *what,
    struct error *err)
{
	char	 text[160];
	size_t	 i;

	snprintf(text, sizeof text, "%s", imap_response(be));
	for (i = 0; text[i] != '\0'; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	}
	if (be->lit_refused != 0) {
		error_set(err, ERR_PROTO, "%s: %s: the server announced %llu "
		    "bytes, more than the %d this client accepts", be->name,
		    what, (unsigned long long)be->lit_refused,
		    IMAP_LITERAL_MAX);
		imap_disconnect(be);
		return (-1);
	}
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
		imap_disconnect(be);
		return (error_set(err, ERR_NET, "%s: %s: connection lost",
		    be->name, what));
	case MAILIMAP_ERROR_LOGIN:
		return (error_set(err, ERR_AUTH, "%s: login refused: %s",
		    be->name, text));
	case MAILIMAP_ERROR_MEMORY:
		imap_disconnect(be);
		return (error_set(err, ERR_CANCELLED, "%s: %s: interrupted",
		    be->name, what));
	default:
		return (error_set(err, ERR_PROTO, "%s: %s failed: %s",
		    be->name, what, text[0] != '\0' ? text : "refused"));
	}
}

enum {
	IMAP_LIT_TEXT,		/* outside a literal announcement */
	IMAP_LIT_SIZE,		/* after '{': digits */
	IMAP_LIT_CR,		/* after '}' */
	IMAP_LIT_LF,		/* after "}\r" */
};

/*
 * Watches every chunk the server sends, before libetpan parses it, for
 * literal announcements "{N}\r\n" (skipping the payload of those it lets
 * through). libetpan allocates N bytes as soon as it parses one, so an
 * announcement over IMAP_LITERAL_MAX is refused here: the chunk's line
 * is left unfinished and the socket shut, and the command fails with a
 * stream error that imap_session_error reports as ERR_PROTO.
 */
void
imap_guard(struct backend *be, char *p, size_t len)
{
	size_t	i, n;

	for (i = 0; i < len; i++) {
		if (be->lit_skip > 0) {
			n = len - i;
			if (n > be->lit_skip)
				n = (size_t)be->lit_skip;
			be->lit_skip -= n;
			i += n - 1;
			continue;
		}
		switch (be->lit_state) {
		case IMAP_LIT_TEXT:
			if (p[i] == '{') {
				be->lit_state = IMAP_LIT_SIZE;
				be->lit_value = 0;
			}
			break;
		case IMAP_LIT_SIZE:
			if (p[i] >= '0' && p[i] <= '9') {
				if (be->lit_value <= IMAP_LITERAL_MAX)
					be->lit_value = be->lit_value * 10 +
					    (uint64_t)(p[i] - '0');
			} else if (p[i] == '}')
				be->lit_state = IMAP_LIT_CR;
			else if (p[i] != '+')
				be->lit_state = IMAP_LIT_TEXT;
			break;
		case IMAP_LIT_CR:
			be->lit_state = p[i] == '\r' ? IMAP_LIT_LF :
			    IMAP_LIT_TEXT;
			break;
		case IMAP_LIT_LF:
			be->lit_state = IMAP_LIT_TEXT;
			if (p[i] != '\n')
				break;
			if (be->lit_value > IMAP_LITERAL_MAX) {
				be->lit_refused = be->lit_value;
				p[i] = ' ';	/* the line never ends */
				if (be->s != NULL)
					mailstream_low_cancel(
					    mailstream_get_low(be->s->imap_stream));
				return;
			}
			be->lit_skip = be->lit_value;
			break;
		}
	}
}

/* The session's logger: the literal guard, then net.h's logger. */
static void
imap_logger(mailimap *s, int type, const char *str, size_t size,
    void *arg)
{
	struct backend	*be = arg;

	if (type == MAILSTREAM_LOG_TYPE_DATA_RECEIVED && size > 0)
		imap_guard(be, (char *)str, size); /* libetpan's buffer */
	net_log_data(&be->log, type, str, size);
}

/*
 * Starts password_cmd, unless the password is known or the command already
 * runs: its line is read when the login needs it, so the command runs
 * while the connection and the TLS handshake are under way.
 */
static int
imap_password_start(struct backend *be, struct error *err)
{
	if (be->password != NULL || be->password_cmd == NULL ||
	    be->password_pipe != NULL)
		return (0);
	if ((be->password_pipe = popen(be->password_cmd, "r")) == NULL)
		return (error_set(err, ERR_AUTH, "%s: password_cmd: %s",
		    be->name, strerror(errno)));
	return (0);
}

/* Reads password_cmd's first line as the password. */
static int
imap_password_cmd(struct backend *be, struct error *err)
{
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 n;
	int	 status;

	if (imap_password_start(be, err) != 0)
		return (-1);
	n = getline(&line, &size, be->password_pipe);
	status = pclose(be->password_pipe);
	be->password_pipe = NULL;
	if (n <= 0 || status != 0) {
		if (line != NULL)
			explicit_bzero(line, size);
		free(line);
		if (status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) != 0)
			return (error_set(err, ERR_AUTH, "%s: password_cmd "
			    "failed (exit %d)", be->name,
			    WEXITSTATUS(status)));
		return (error_set(err, ERR_AUTH, "%s: password_cmd failed "
		    "(%s)", be->name, status == 0 ? "no output" :
		    "killed"));
	}
	line[strcspn(line, "\r\n")] = '\0';
	be->password = xstrdup(line);
	explicit_bzero(line, size);
	free(line);
	return (0);
}

/* Sends ID (who we are; the server's answer is not used). */
static void
imap_send_id(struct backend *be)
{
	struct mailimap_id_params_list	*idl, *idr = NULL;
	char				*idv[4];
	int				 i;

	be->need_id = 0;
	if (be->s == NULL || !mailimap_has_id(be->s))
		return;
	/*
	 * libetpan 1.9.4's mailimap_id_param_free frees neither name nor
	 * value (mailimap_id_basic leaks them): the strings stay ours.
	 */
	for (i = 0; i < 4; i++)
		idv[i] = xstrdup(i == 0 ? "name" : i == 1 ? "facteur" :
		    i == 2 ? "version" : PACKAGE_VERSION);
	idl = mailimap_id_params_list_new_empty();
	mailimap_id_params_list_add_name_value(idl, idv[0], idv[1]);
	mailimap_id_params_list_add_name_value(idl, idv[2], idv[3]);
	if (mailimap_id(be->s, idl, &idr) == MAILIMAP_NO_ERROR && idr != NULL)
		mailimap_id_params_list_free(idr);
	mailimap_id_params_list_free(idl);
	for (i = 0; i < 4; i++)
		free(idv[i]);
}

/*
 * After login: the capabilities (asked only if the LOGIN answer did not
 * carry them, as Dovecot's does), and ENABLE CONDSTORE unless QRESYNC,
 * which the first SELECT enables and which implies it. ID waits until
 * the first screen is in: every round trip before it is time the user
 * waits for, on a slow link most of all.
 */
static void
imap_after_login(struct backend *be, int have_caps)
{
	struct mailimap_capability_data	*want, *got = NULL;
	mailimap			*s = be->s;

	if (!have_caps) {
		/* libetpan reads the list it keeps without checking it is
		   there: an empty one until the server's answer replaces it. */
		if (s->imap_connection_info->imap_capability == NULL)
			s->imap_connection_info->imap_capability =
			    mailimap_capability_data_new(clist_new());
		if (mailimap_capability(s, &got) == MAILIMAP_NO_ERROR &&
		    got != NULL)
			mailimap_capability_data_free(got);
		got = NULL;
	}
	be->need_id = 1;
	be->cap_sort = mailimap_has_extension(s, "SORT");
	be->cap_condstore = mailimap_has_condstore(s);
	be->cap_move = mailimap_has_extension(s, "MOVE");
	be->cap_uidplus = mailimap_has_extension(s, "UIDPLUS");
	be->cap_idle = mailimap_has_idle(s);
	if (be->cap_condstore && mailimap_has_enable(s) &&
	    !mailimap_has_qresync(s) && be->selected == NULL) {
		want = mailimap_capability_data_new(clist_new());
		clist_append(want->cap_list, mailimap_capability_new(
		    MAILIMAP_CAPABILITY_NAME, NULL, xstrdup("CONDSTORE")));
		if (mailimap_enable(s, want, &got) == MAILIMAP_NO_ERROR &&
		    got != NULL)
			mailimap_capability_data_free(got);
		mailimap_capability_data_free(want);
	}
}

/*
 * AUTHENTICATE PLAIN with the credentials in the command itself (SASL-IR,
 * RFC 4959): one round trip, as LOGIN, where Cyrus SASL through libetpan
 * would wait for the server's empty challenge first. libetpan's parser
 * reads the answer, so its session (state, the CAPABILITY code) stays in
 * step. Returns a MAILIMAP_ code as mailimap_login does.
 */
static int
imap_auth_plain(struct backend *be)
{
	struct mailimap_response	*resp = NULL;
	struct buf			 raw, cmd;
	struct error			 err;
	int				 r;

	error_clear(&err);
	buf_init(&raw);
	buf_init(&cmd);
	buf_addc(&raw, '\0');
	buf_adds(&raw, be->user);
	buf_addc(&raw, '\0');
	buf_adds(&raw, be->password);
	buf_add_base64(&cmd, raw.data, raw.len, 0);
	buf_adds(&cmd, "\r\n");
	explicit_bzero(raw.data, raw.len);
	buf_free(&raw);
	/* The mechanism goes to the protocol log, the credentials do not. */
	r = MAILIMAP_ERROR_STREAM;
	if (mailimap_send_current_tag(be->s) == MAILIMAP_NO_ERROR &&
	    mailstream_write(be->s->imap_stream, "AUTHENTICATE PLAIN ",
	    19) == 19 && mailstream_flush(be->s->imap_stream) == 0) {
		be->log.authenticating = 1;
		if (mailstream_write(be->s->imap_stream, cmd.data,
		    cmd.len) == (ssize_t)cmd.len &&
		    mailstream_flush(be->s->imap_stream) == 0)
			r = MAILIMAP_NO_ERROR;
		be->log.authenticating = 0;
	}
	explicit_bzero(cmd.data, cmd.len);
	buf_free(&cmd);
	/* The folder the UI opens first, in the same round trip. */
	if (r == MAILIMAP_NO_ERROR && be->select_ahead != NULL &&
	    imap_select_ahead(be, be->select_ahead, &err) != 0)
		r = MAILIMAP_ERROR_STREAM;
	if (r != MAILIMAP_NO_ERROR)
		return (r);
	if (mailimap_read_line(be->s) == NULL)
		return (MAILIMAP_ERROR_STREAM);
	if ((r = mailimap_parse_response(be->s, &resp)) != MAILIMAP_NO_ERROR)
		return (r);
	r = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->
	    rsp_type == MAILIMAP_RESP_COND_STATE_OK ? MAILIMAP_NO_ERROR :
	    MAILIMAP_ERROR_LOGIN;
	mailimap_response_free(resp);
	if (r != MAILIMAP_NO_ERROR)
		return (r);	/* the session goes, and what was ahead */
	be->s->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	if (imap_select_ahead_done(be, &err) != 0)
		return (MAILIMAP_ERROR_STREAM);
	return (MAILIMAP_NO_ERROR);
}

/* Logs in with the password we have, from password_cmd, or asks. */
static int
imap_login(struct backend *be, struct error *err)
{
	const char	*mech = NULL;
	int		 r, plain;

	imap_attention_password(be);	/* one the user typed meanwhile */
	if (be->password == NULL && be->password_cmd != NULL &&
	    imap_password_cmd(be, err) != 0)
		return (-1);
	if (be->password == NULL)
		return (error_set(err, ERR_AUTH, "%s: password needed for %s "
		    "at %s", be->name, be->user, be->host));
	/*
	 * AUTHENTICATE PLAIN where it takes one round trip, else the LOGIN
	 * command; where that is disabled, AUTHENTICATE PLAIN or LOGIN with
	 * the server's challenges (Cyrus SASL through libetpan).
	 */
	plain = mailimap_has_authentication(be->s, "PLAIN") &&
	    mailimap_has_extension(be->s, "SASL-IR");
	if (!plain && mailimap_has_extension(be->s, "LOGINDISABLED")) {
		if (mailimap_has_authentication(be->s, "PLAIN"))
			mech = "PLAIN";
		else if (mailimap_has_authentication(be->s, "LOGIN"))
			mech = "LOGIN";
		else
			return (error_set(err, ERR_AUTH, "%s: the server "
			    "refuses LOGIN here and offers no AUTHENTICATE "
			    "PLAIN or LOGIN", be->name));
	}
	/* The greeting's capabilities go: the LOGIN answer's replace them. */
	if (be->s->imap_connection_info != NULL &&
	    be->s->imap_connection_info->imap_capability != NULL) {
		mailimap_capability_data_free(
		    be->s->imap_connection_info->imap_capability);
		be->s->imap_connection_info->imap_capability = NULL;
	}
	if (plain)
		r = imap_auth_plain(be);
	else if (mech != NULL) {
		be->log.authenticating = 1;
		r = mailimap_authenticate(be->s, mech, be->host, NULL, NULL,
		    be->user, be->user, be->password, NULL);
		be->log.authenticating = 0;
		log_debug("imap: %s: AUTHENTICATE %s", be->name, mech);
	} else {
		be->log.authenticating = 1;
		r = mailimap_login(be->s, be->user, be->password);
		be->log.authenticating = 0;
	}
	if (r != MAILIMAP_NO_ERROR) {
		if (r == MAILIMAP_ERROR_LOGIN) {
			/* A wrong password is forgotten: the UI asks. */
			explicit_bzero(be->password, strlen(be->password));
			free(be->password);
			be->password = NULL;
		}
		return (imap_session_error(be, r, "login", err));
	}
	be->stats.logins++;
	imap_after_login(be, be->s->imap_connection_info != NULL &&
	    be->s->imap_connection_info->imap_capability != NULL);
	log_debug("imap: %s: logged in", be->name);
	return (0);
}

/* Connects and logs in; on failure the session is gone. Needs conn. */
int
imap_connect(struct backend *be, struct error *err)
{
	struct tls_params	 tp;
	struct tls_peer		 peer;
	int			 r;

	imap_disconnect(be);
	if (imap_attention_error(be, err) != 0)
		return (-1);	/* the user's answer first */
	memset(&tp, 0, sizeof tp);
	memset(&peer, 0, sizeof peer);
	tp.host = be->host;
	tp.ca_file = be->ca_file;
	tp.pin_file = be->pin_file;
	tp.service = "imap";
	tp.timeout_ms = NET_TIMEOUT_DEFAULT_MS;
	tp.cancel_fd = be->cancel_fd;
	tp.peer = &peer;
	be->s = mailimap_new(0, NULL);
	be->log.name = be->name;
	be->log.sink = imap_transcript;
	be->log.sink_arg = imap_transcript_arg;
	be->log.log_received = imap_transcript != NULL;
	be->lit_state = IMAP_LIT_TEXT;
	be->lit_skip = be->lit_refused = 0;
	mailimap_set_logger(be->s, imap_logger, be);
	be->stats.connects++;
	log_debug("imap: %s: connecting to %s:%d", be->name, be->host,
	    be->port);
	r = net_imap_connect(be->s, be->host, be->port, be->mode, &tp, err);
	if (r != 0) {
		if (err != NULL && err->kind == ERR_TLS && be->attn_ok &&
		    peer.fingerprint[0] != '\0')
			imap_attention_set(be, BACKEND_ATTN_CERTIFICATE, err,
			    &peer);
		else if (err != NULL && err->kind == ERR_TLS &&
		    be->p.tls_peer != NULL && !be->attn_ok) {
			tls_peer_clear(be->p.tls_peer);
			*be->p.tls_peer = peer;	/* the DER goes too */
		} else
			tls_peer_clear(&peer);
		mailimap_free(be->s);
		be->s = NULL;
		return (-1);
	}
	tls_peer_clear(&peer);
	log_debug("imap: %s: connected", be->name);
	if (imap_login(be, err) != 0) {
		/* Refused (or no password_cmd answer): the UI asks. */
		if (be->attn_ok && err != NULL && err->kind == ERR_AUTH &&
		    be->password == NULL)
			imap_attention_set(be, BACKEND_ATTN_PASSWORD, err, NULL);
		imap_disconnect(be);
		return (-1);
	}
	return (0);
}

/* Drops the session (no LOGOUT: it may be dead already). */
void
imap_disconnect(struct backend *be)
{
	if (be->s == NULL)
		return;
	mailimap_free(be->s);
	be->s = NULL;
	free(be->selected);
	be->selected = NULL;
	free(be->ahead);
	be->ahead = NULL;
	be->sel_fresh = 0;
}

/* Takes the session from the background thread (breaking IDLE). */
void
imap_conn_acquire(struct backend *be)
{
	uint64_t	one = 1;

	pthread_mutex_lock(&be->data_lock);
	be->waiting++;
	pthread_mutex_unlock(&be->data_lock);
	if (write(be->wake_fd, &one, sizeof one) == -1)
		log_warn("imap wake");
	pthread_mutex_lock(&be->conn_lock);
}

/* Gives the session back. */
void
imap_conn_release(struct backend *be)
{
	pthread_mutex_unlock(&be->conn_lock);
	pthread_mutex_lock(&be->data_lock);
	be->waiting--;
	pthread_cond_broadcast(&be->cond);
	pthread_mutex_unlock(&be->data_lock);
}

/* Empties the wake eventfd. */
static void
imap_wake_drain(struct backend *be)
{
	uint64_t	v;

	while (read(be->wake_fd, &v, sizeof v) > 0)
		;
}

/* Sleeps up to ms unless woken or stopped; returns 1 when stopped. */
static int
imap_sleep(struct backend *be, int ms)
{
	struct pollfd	pfd;

	pfd.fd = be->wake_fd;
	pfd.events = POLLIN;
	poll(&pfd, 1, ms);
	imap_wake_drain(be);
	return (be->stop);
}

/* Sets the state line and tells the UI. */
static void
imap_set_state(struct backend *be, enum imap_state st, const char *msg)
{
	pthread_mutex_lock(&be->data_lock);
	be->state = st;
	snprintf(be->state_msg, sizeof be->state_msg, "%s", msg);
	pthread_mutex_unlock(&be->data_lock);
	imap_notify(be, BACKEND_CHANGED_FOLDERS);
}

int
imap_status(struct backend *be, char *buf, size_t size)
{
	int	off;

	pthread_mutex_lock(&be->data_lock);
	off = be->state != IMAP_ONLINE;
	if (be->refused[0] != '\0' && !off) {
		/* Said once, as the message after coming back online. */
		snprintf(buf, size, "%s", be->refused);
		be->refused[0] = '\0';
	} else if (be->npending > 0)
		snprintf(buf, size, "%s (%zu flag change%s waiting)",
		    be->state_msg, be->npending, be->npending == 1 ? "" : "s");
	else
		snprintf(buf, size, "%s", be->state_msg);
	pthread_mutex_unlock(&be->data_lock);
	return (off);
}

void
imap_get_stats(struct backend *be, struct imap_stats *st)
{
	pthread_mutex_lock(&be->data_lock);
	*st = be->stats;
	pthread_mutex_unlock(&be->data_lock);
}

/*
 * Whether the machine slept since the last look (whatever the thread did
 * meanwhile): CLOCK_BOOTTIME runs on during a suspend, CLOCK_MONOTONIC
 * does not. The first look only notes.
 */
static int
imap_slept(struct backend *be)
{
	struct timespec	boot, mono;
	int64_t		gap;
	int		slept;

	if (clock_gettime(CLOCK_BOOTTIME, &boot) != 0 ||
	    clock_gettime(CLOCK_MONOTONIC, &mono) != 0)
		return (0);
	gap = (int64_t)(boot.tv_sec - mono.tv_sec) * 1000 +
	    (boot.tv_nsec - mono.tv_nsec) / 1000000;
	pthread_mutex_lock(&be->data_lock);
	slept = be->slept_ms != 0 &&
	    gap - be->slept_ms >= IMAP_SLEPT_SECONDS * 1000;
	be->slept_ms = gap != 0 ? gap : 1;
	pthread_mutex_unlock(&be->data_lock);
	return (slept);
}

/*
 * Waits in IDLE for the server, a wake-up or ms (the renewal time, or the
 * next count poll), looking at the clocks every IMAP_AWAKE_SECONDS (poll's
 * clock stops during a suspend). After a suspend the session is not trusted: the server or a
 * NAT in between has often forgotten it while nothing says so.
 */
enum net_wait
imap_idle_wait(struct backend *be, int ms, int *slept)
{
	enum net_wait	w;
	int		left = ms;

	if ((*slept = imap_slept(be)) != 0)
		return (NET_WAIT_TIMEOUT);
	for (;;) {
		w = net_wait_readable(be->s->imap_stream, left <
		    IMAP_AWAKE_SECONDS * 1000 ? left :
		    IMAP_AWAKE_SECONDS * 1000, be->wake_fd);
		if ((*slept = imap_slept(be)) != 0)
			return (w);
		if (w != NET_WAIT_TIMEOUT)
			return (w);
		if ((left -= IMAP_AWAKE_SECONDS * 1000) <= 0)
			return (w);
	}
}

/* IDLEs on the selected folder until something happens, we are woken or
   the renewal time comes; then takes in what the server said. */
static int
imap_idle(struct backend *be, struct error *err)
{
	enum net_wait	 w;
	int		 r, slept;

	if (imap_counts_pushed(be))	/* NOTIFY: other folders too */
		return (imap_counts_idle(be, err));
	if (!be->cap_idle) {
		if ((slept = imap_slept(be)) == 0) {
			if (imap_sleep(be, imap_counts_wait(be,
			    IMAP_POLL_SECONDS * 1000)))
				return (0);
			slept = imap_slept(be);
		}
		if (slept) {
			imap_abandon(be);
			return (error_set(err, ERR_NET, "%s: the computer "
			    "slept: a new session", be->name));
		}
		pthread_mutex_lock(&be->data_lock);
		if (be->waiting > 0 || be->want != NULL) {
			pthread_mutex_unlock(&be->data_lock);
			return (0);
		}
		pthread_mutex_unlock(&be->data_lock);
		if (imap_poll_changes(be, err) != 0)
			return (-1);
		return (imap_counts_poll(be, err));
	}
	be->stats.idles++;
	if ((r = mailimap_idle(be->s)) != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "IDLE", err));
	w = imap_idle_wait(be, imap_counts_wait(be, IMAP_IDLE_SECONDS * 1000),
	    &slept);
	/* No LOGOUT waits on a link that may be dead: the socket goes. */
	if (slept) {
		imap_abandon(be);
		return (error_set(err, ERR_NET, "%s: the computer slept: "
		    "a new session", be->name));
	}
	if (w == NET_WAIT_ERROR || w == NET_WAIT_CANCELLED) {
		imap_abandon(be);
		return (error_set(err, ERR_NET, "%s: connection lost",
		    be->name));
	}
	if ((r = mailimap_idle_done(be->s)) != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "IDLE", err));
	if (w == NET_WAIT_DATA && imap_poll_changes(be, err) != 0)
		return (-1);
	return (imap_counts_poll(be, err));
}

/* After a failed step: says so, waits (session free for the workers),
   and doubles the wait for next time. */
static void
imap_backoff(struct backend *be, unsigned *backoff, const struct error *err)
{
	char	msg[300];

	if (be->s == NULL) {
		snprintf(msg, sizeof msg, "reconnecting in %u s: %s",
		    *backoff, err->msg);
		imap_set_state(be, IMAP_RECONNECTING, msg);
	} else
		log_warnx("%s", err->msg);
	pthread_mutex_unlock(&be->conn_lock);
	imap_sleep(be, (int)*backoff * 1000);
	pthread_mutex_lock(&be->conn_lock);
	if (*backoff < IMAP_BACKOFF_MAX)
		*backoff *= 2;
}

/* The UID of a FETCH response, or 0. */
uint32_t
imap_att_uid(struct mailimap_msg_att *att)
{
	struct mailimap_msg_att_item	*item;
	clistiter			*it;

	for (it = clist_begin(att->att_list); it != NULL;
	    it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
			return (item->att_data.att_static->att_data.att_uid);
	}
	return (0);
}

/*
 * The first screen of a folder we know nothing of: the summaries of its
 * last IMAP_SCREEN_ROWS messages by sequence number, the newest arrivals,
 * which are the newest by date in nearly every folder, in one FETCH; the
 * UI is told at once. The display order (UID SORT, which costs Dovecot a
 * pass over the whole folder) comes after, in imap_folder_sync. Needs
 * conn.
 */
int
imap_first_screen(struct backend *be, const char *name, struct error *err)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct imap_folder		*f;
	clist				*res = NULL;
	clistiter			*it;
	uint32_t			*uids, exists, lo, uid;
	size_t				 n = 0, i;
	int				 r, known;

	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_find(be, name);
	known = f != NULL && (f->loaded || f->norder > 0);
	pthread_mutex_unlock(&be->data_lock);
	if (known || imap_cache_exists(be, name))
		return (0);
	/* Selected with the login (imap_select_ahead), or now. */
	if (!(be->sel_fresh && be->selected != NULL &&
	    strcmp(be->selected, name) == 0) && imap_select(be, name, err) != 0)
		return (-1);
	be->sel_fresh = 1;
	/* A folder of a screenful or less is sorted at once, whole. */
	exists = be->s->imap_selection_info->sel_exists;
	if (exists <= IMAP_SCREEN_ROWS)
		return (0);
	lo = exists - IMAP_SCREEN_ROWS + 1;
	ft = imap_summary_items();
	set = mailimap_set_new_interval(lo, exists);
	be->stats.fetch_commands++;
	r = mailimap_fetch(be->s, set, ft, &res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		be->sel_fresh = 0;
		return (imap_session_error(be, r, "FETCH", err));
	}
	uids = xreallocarray(NULL, clist_count(res) + 1, sizeof *uids);
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		if ((uid = imap_att_uid(clist_content(it))) != 0)
			uids[n++] = uid;
	}
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_add(be, name);
	if (!f->loaded && f->norder == 0 && n > 0) {
		/* Sequence order is UID order: newest last. */
		f->order = xreallocarray(NULL, n, sizeof *f->order);
		for (i = 0; i < n; i++) {
			f->order[i] = uids[n - 1 - i];
			imap_msg_add(f, uids[i]);
		}
		f->norder = n;
		f->total = exists;
		for (it = clist_begin(res); it != NULL; it = clist_next(it))
			imap_apply(be, f, clist_content(it), 1);
		/* Those rows' flags are as of this SELECT: the order's sync
		   then asks only for changes since, not every message's. */
		if (f->modseq == 0)
			f->modseq = be->sel_modseq;
		if (be->stats.first_batch == 0)
			be->stats.first_batch = n;
	}
	pthread_mutex_unlock(&be->data_lock);
	mailimap_fetch_list_free(res);
	free(uids);
	imap_notify(be, BACKEND_CHANGED_ROWS);
	log_debug("imap: %s: %s: first screen in (newest %zu of %u)",
	    be->name, name, n, exists);
	return (0);
}

/* Completes the folders shown from their cache's first rows only. */
static void
imap_complete_heads(struct backend *be)
{
	char	**names;
	size_t	  i, n = 0;
	int	  changed = 0;

	pthread_mutex_lock(&be->data_lock);
	names = xcalloc(be->nfolders + 1, sizeof *names);
	for (i = 0; i < be->nfolders; i++) {
		if (be->folders[i]->cache_head)
			names[n++] = xstrdup(be->folders[i]->name);
	}
	pthread_mutex_unlock(&be->data_lock);
	for (i = 0; i < n; i++) {
		changed |= imap_cache_complete(be, names[i]);
		free(names[i]);
	}
	free(names);
	if (changed) {
		log_debug("imap: %s: header cache loaded", be->name);
		imap_notify(be, BACKEND_CHANGED_ROWS);
	}
}

/* Frees the empty References and keyword strings of a folder's
   messages (NULL means the same): with 100k messages they are 6 MB. */
static void
imap_compact(struct backend *be, const char *name)
{
	struct imap_folder	*f;
	size_t			 i;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, name)) != NULL) {
		for (i = 0; i < f->nmsgs; i++)
			imap_msg_compact(&f->msgs[i]);
	}
	pthread_mutex_unlock(&be->data_lock);
}

/* One step of background work; called with conn held. Returns 1 when
   there was nothing to do but wait. */
static int
imap_step(struct backend *be, unsigned *backoff)
{
	struct error	 err;
	char		*want, *cur, msg[300];
	int		 more = 0, r;

	error_clear(&err);
	imap_complete_heads(be);
	if (be->s == NULL && imap_attention_pending(be)) {
		/* Offline until the user answers (imap_retry wakes us). */
		pthread_mutex_unlock(&be->conn_lock);
		imap_sleep(be, -1);
		pthread_mutex_lock(&be->conn_lock);
		return (1);
	}
	if (be->s == NULL) {
		imap_set_state(be, IMAP_RECONNECTING, "connecting...");
		if (imap_connect(be, &err) != 0) {
			if (err.kind == ERR_AUTH || err.kind == ERR_TLS) {
				snprintf(msg, sizeof msg, "offline: %s",
				    err.msg);
				imap_set_state(be, IMAP_OFFLINE, msg);
				imap_sleep(be, -1);
				return (0);
			}
			imap_backoff(be, backoff, &err);
			return (0);
		}
		be->stats.reconnects++;
		if (imap_queue_replay(be, &err) != 0) {
			imap_backoff(be, backoff, &err);
			return (0);
		}
		imap_set_state(be, IMAP_ONLINE, "connected");
		pthread_mutex_lock(&be->data_lock);
		if (be->want == NULL && be->current != NULL)
			be->want = xstrdup(be->current);
		pthread_mutex_unlock(&be->data_lock);
	}

	pthread_mutex_lock(&be->data_lock);
	want = be->want != NULL ? xstrdup(be->want) : NULL;
	cur = be->current != NULL ? xstrdup(be->current) : NULL;
	pthread_mutex_unlock(&be->data_lock);
	if (want != NULL) {
		if (imap_first_screen(be, want, &err) == 0 &&
		    imap_folder_sync(be, want, &err) == 0) {
			pthread_mutex_lock(&be->data_lock);
			free(be->current);
			be->current = want;
			want = NULL;
			if (be->want != NULL &&
			    strcmp(be->want, be->current) == 0) {
				free(be->want);
				be->want = NULL;
			}
			pthread_mutex_unlock(&be->data_lock);
			imap_notify(be, BACKEND_CHANGED_ROWS);
			/* The first screen is in: what waited for it. */
			if (be->need_list) {
				if (imap_list(be, 0, &err) == 0)
					be->need_list = 0;
				else
					imap_backoff(be, backoff, &err);
			}
			if (be->s != NULL && be->need_id)
				imap_send_id(be);
		} else if (err.kind == ERR_NET)
			imap_backoff(be, backoff, &err);
		else {
			/* No such folder, say: the UI shows it empty. */
			log_warnx("%s", err.msg);
			pthread_mutex_lock(&be->data_lock);
			free(be->want);
			be->want = NULL;
			pthread_mutex_unlock(&be->data_lock);
		}
		free(want);
		free(cur);
		return (0);
	}
	/* A limit the user typed: the server's answer before more rows. */
	if ((r = imap_search_run(be, &err)) != 0) {
		if (r < 0)
			imap_backoff(be, backoff, &err);
		free(cur);
		return (0);
	}
	if (cur == NULL && be->need_list == 2) {
		/* Just opened: the UI names the folder it shows within
		   moments, and its first screen goes before the list. */
		be->need_list = 1;
		pthread_mutex_unlock(&be->conn_lock);
		imap_sleep(be, 250);
		pthread_mutex_lock(&be->conn_lock);
		free(cur);
		return (0);
	}
	if (cur == NULL && (be->need_status || be->need_list)) {
		if (imap_list(be, 1, &err) != 0)
			imap_backoff(be, backoff, &err);
		else
			be->need_list = 0;
		if (be->s != NULL && be->need_id)
			imap_send_id(be);
		return (0);
	}
	if (cur == NULL) {
		pthread_mutex_unlock(&be->conn_lock);
		imap_sleep(be, -1);
		pthread_mutex_lock(&be->conn_lock);
		return (1);
	}
	if (be->selected == NULL || strcmp(be->selected, cur) != 0) {
		if (imap_select(be, cur, &err) != 0) {
			free(cur);
			imap_backoff(be, backoff, &err);
			return (0);
		}
	}
	if (imap_pipe_fill(be, cur, &more, &err) == 0 && more) {
		*backoff = 1;
		imap_compact(be, cur);
		imap_notify(be, BACKEND_CHANGED_ROWS);
		free(cur);
		return (0);
	}
	free(cur);
	/* The open folder is in: now the other folders' counts (NOTIFY
	   brings them with the IDLE that follows). */
	if (err.kind == ERR_NONE && ((be->need_status &&
	    !imap_counts_pushed(be)) || be->need_list)) {
		if (imap_list(be, 1, &err) != 0) {
			imap_backoff(be, backoff, &err);
			return (0);
		}
		be->need_list = 0;
	}
	if (err.kind == ERR_NONE && imap_idle(be, &err) == 0) {
		*backoff = 1;
		return (1);
	}
	imap_backoff(be, backoff, &err);
	return (0);
}

/* The background thread: owns the session when no worker needs it. */
static void *
imap_thread(void *arg)
{
	struct backend	*be = arg;
	unsigned	 backoff = 1;

	pthread_mutex_lock(&be->conn_lock);
	for (;;) {
		/* Drain before looking at waiting: a later wake stays. */
		imap_wake_drain(be);
		pthread_mutex_lock(&be->data_lock);
		if (be->stop) {
			pthread_mutex_unlock(&be->data_lock);
			break;
		}
		if (be->waiting > 0) {
			pthread_mutex_unlock(&be->conn_lock);
			while (be->waiting > 0 && !be->stop)
				pthread_cond_wait(&be->cond, &be->data_lock);
			pthread_mutex_unlock(&be->data_lock);
			pthread_mutex_lock(&be->conn_lock);
			continue;
		}
		pthread_mutex_unlock(&be->data_lock);
		imap_step(be, &backoff);
	}
	pthread_mutex_unlock(&be->conn_lock);
	return (NULL);
}

/* Creates a directory and its parents, 0700. */
static int
imap_mkdirs(const char *path)
{
	char	*p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) == -1 && errno != EEXIST) {
			free(p);
			return (-1);
		}
		*s = '/';
	}
	free(p);
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/* Copies s, or NULL. */
static char *
imap_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* [worker] Connects, logs in, lists folders and starts the thread. */
static int
imap_open(struct backend **bep, const struct backend_params *p,
    struct error *err)
{
	struct backend	*be;
	int		 implicit, r;

	*bep = NULL;
	if (p->imap == NULL)
		return (error_set(err, ERR_CONFIG, "%s: no imap server",
		    p->name));
	be = xcalloc(1, sizeof *be);
	be->p = *p;
	be->name = xstrdup(p->name);
	be->p.name = be->name;
	be->wake_fd = -1;
	be->cancel_fd = -1;
	pthread_mutex_init(&be->conn_lock, NULL);
	pthread_mutex_init(&be->data_lock, NULL);
	pthread_cond_init(&be->cond, NULL);
	if (imap_url_parse(p->imap, &be->host, &be->port, &implicit,
	    err) != 0)
		goto fail;
	if (p->tls != NULL && strcasecmp(p->tls, "off") == 0)
		be->mode = NET_PLAIN;
	else
		be->mode = implicit ? NET_TLS_IMPLICIT : NET_STARTTLS;
	if (p->user != NULL)
		be->user = xstrdup(p->user);
	else if ((be->user = imap_url_user(p->imap)) == NULL)
		be->user = xstrdup(getenv("USER") != NULL ? getenv("USER") :
		    "");
	be->password = imap_strdup(p->password);
	be->password_cmd = imap_strdup(p->password_cmd);
	be->ca_file = imap_strdup(p->tls_ca_file);
	be->pin_file = imap_strdup(p->pin_file);
	be->poll_secs = p->poll_secs == 0 ? IMAP_POLL_SECONDS :
	    p->poll_secs < 0 ? 0 : p->poll_secs;
	be->subscribed_only = p->subscribed_only;
	if (p->cache_dir != NULL) {
		xasprintf(&be->cache_dir, "%s/%s", p->cache_dir, be->name);
		if (imap_mkdirs(be->cache_dir) != 0) {
			error_set(err, ERR_IO, "%s: %s", be->cache_dir,
			    strerror(errno));
			goto fail;
		}
	}
	be->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	be->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (be->wake_fd == -1 || be->cancel_fd == -1) {
		error_set(err, ERR_IO, "eventfd: %s", strerror(errno));
		goto fail;
	}
	snprintf(be->state_msg, sizeof be->state_msg, "connecting...");
	if (imap_password_start(be, err) != 0)
		goto fail;
	/*
	 * With a header cache and a password_cmd, the UI shows the cached
	 * rows at once and the thread connects behind them (a failing
	 * password_cmd, a refused login or an untrusted certificate is then
	 * handed to the UI: imap-attn.c).
	 * Otherwise the login is checked here, so that the UI can ask for a
	 * password (again, if the one typed is refused) or about a
	 * certificate. The folder list comes after the first screen either
	 * way.
	 */
	imap_queue_load(be);	/* changes a past run could not send */
	be->need_list = 2;	/* 2: the UI has not named its folder yet */
	if (be->password_cmd != NULL && imap_cache_exists(be, "INBOX")) {
		be->state = IMAP_CONNECTING;
		log_debug("imap: %s: opened from the header cache", be->name);
	} else {
		/* The UI opens INBOX first: its SELECT goes with the login. */
		if (!imap_cache_exists(be, "INBOX"))
			be->select_ahead = "INBOX";
		r = imap_connect(be, err);
		be->select_ahead = NULL;
		if (r != 0)
			goto fail;
		if (imap_queue_replay(be, err) != 0)
			error_clear(err);	/* kept for the thread */
		be->state = IMAP_ONLINE;
		snprintf(be->state_msg, sizeof be->state_msg, "connected");
	}
	be->attn_ok = 1;	/* from now on, failures ask the user */
	if (pthread_create(&be->thread, NULL, imap_thread, be) != 0) {
		error_set(err, ERR_IO, "cannot start a thread");
		goto fail;
	}
	be->thread_running = 1;
	*bep = be;
	return (0);

fail:
	imap_backend_free(be);
	return (-1);
}

/* Frees what imap_open allocated (the thread is stopped). */
void
imap_backend_free(struct backend *be)
{
	size_t	i;

	imap_disconnect(be);
	imap_search_free(be);
	imap_queue_free(be);
	imap_attention_free(be);
	for (i = 0; i < be->nfolders; i++)
		imap_folder_free(&be->folders[i]);
	free(be->folders);
	free(be->name);
	free(be->host);
	free(be->user);
	if (be->password != NULL)
		explicit_bzero(be->password, strlen(be->password));
	free(be->password);
	if (be->password_pipe != NULL)
		pclose(be->password_pipe);
	free(be->password_cmd);
	free(be->ca_file);
	free(be->pin_file);
	free(be->cache_dir);
	free(be->current);
	free(be->want);
	if (be->wake_fd != -1)
		close(be->wake_fd);
	if (be->cancel_fd != -1)
		close(be->cancel_fd);
	pthread_mutex_destroy(&be->conn_lock);
	pthread_mutex_destroy(&be->data_lock);
	pthread_cond_destroy(&be->cond);
	free(be);
}

/* [worker] Stops the thread, saves the caches, logs out. */
static void
imap_close(struct backend **bep)
{
	struct backend	*be = *bep;
	uint64_t	 one = 1;
	size_t		 i;

	if (be == NULL)
		return;
	if (be->thread_running) {
		pthread_mutex_lock(&be->data_lock);
		be->stop = 1;
		pthread_cond_broadcast(&be->cond);
		pthread_mutex_unlock(&be->data_lock);
		if (write(be->wake_fd, &one, sizeof one) == -1)
			log_warn("imap wake");
		pthread_join(be->thread, NULL);
	}
	for (i = 0; i < be->nfolders; i++) {
		if (be->folders[i]->dirty)
			imap_cache_save(be, be->folders[i]);
	}
	if (be->s != NULL)
		mailimap_logout(be->s);
	imap_backend_free(be);
	*bep = NULL;
}

/* [worker] Refreshes the folder list and counts, and the open folder. */
static int
imap_sync(struct backend *be, backend_progress_cb progress, void *arg,
    volatile int *cancel, size_t *added, size_t *removed,
    struct error *err)
{
	char	*cur;
	int	 rv = 0, held;

	*added = *removed = 0;
	/* Just opened: the thread is bringing in the first screen, then
	   the list and counts; a sync now would only delay them. Unless
	   the user was asked and said no: a sync tries again (and asks
	   again if it fails again). */
	held = imap_attention_pending(be);
	pthread_mutex_lock(&be->data_lock);
	if (be->need_list && !held) {
		pthread_mutex_unlock(&be->data_lock);
		return (0);
	}
	pthread_mutex_unlock(&be->data_lock);
	imap_conn_acquire(be);
	if (held)
		imap_attention_clear(be);
	if (be->s == NULL) {
		if (imap_connect(be, err) != 0) {
			imap_conn_release(be);
			if (!imap_attention_pending(be))
				return (-1);
			error_clear(err);	/* the UI asks the user */
			return (0);
		}
		if (imap_queue_replay(be, err) != 0)
			error_clear(err);	/* kept for the thread */
		imap_set_state(be, IMAP_ONLINE, "connected");
	}
	if (progress != NULL)
		progress(arg, 0, 0, "folders");
	rv = imap_list(be, 1, err);
	pthread_mutex_lock(&be->data_lock);
	cur = be->current != NULL ? xstrdup(be->current) : NULL;
	pthread_mutex_unlock(&be->data_lock);
	if (rv == 0 && cur != NULL && !*cancel)
		rv = imap_folder_sync(be, cur, err);
	free(cur);
	imap_conn_release(be);
	imap_notify(be, BACKEND_CHANGED_ROWS | BACKEND_CHANGED_FOLDERS);
	return (rv);
}

/* [worker] Flags, through the session. */
static int
imap_set_flags(struct backend *be, const char *const *ids, size_t n,
    unsigned add, unsigned remove, struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if ((be->s != NULL || imap_connect(be, err) == 0) &&
	    (rv = imap_queue_replay(be, err)) == 0)
		rv = imap_store_flags(be, ids, n, add, remove, err);
	else
		rv = -1;
	/*
	 * The server cannot be reached: the change is shown and kept, and
	 * goes out once a session is up (STORE +FLAGS/-FLAGS is the same
	 * twice, so ids that went out before a drop may go again). Delete
	 * means a move to the Trash, which is not queued.
	 */
	if (rv != 0 && err->kind == ERR_NET && !(add & MSG_DELETED)) {
		log_debug("imap: %s: offline, %zu flag change%s queued",
		    be->name, n, n == 1 ? "" : "s");
		rv = imap_queue_add(be, ids, n, add, remove);
		error_clear(err);
	}
	imap_conn_release(be);
	return (rv);
}

/* [worker] Tags are IMAP keywords ("+work -later"). */
static int
imap_set_tags(struct backend *be, const char *const *ids, size_t n,
    const char *changes, struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0) {
		imap_conn_release(be);
		return (-1);
	}
	rv = imap_store_keywords(be, ids, n, changes, err);
	imap_conn_release(be);
	return (rv);
}

/* [worker] Moves messages to another folder. */
static int
imap_move(struct backend *be, const char *const *ids, size_t n,
    const char *folder, struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0) {
		imap_conn_release(be);
		return (-1);
	}
	rv = imap_move_msgs(be, ids, n, folder, err);
	imap_conn_release(be);
	return (rv);
}

/* [worker] Downloads a message into the cache. */
static int
imap_fetch_message(struct backend *be, const char *id, char **path,
    struct error *err)
{
	int	rv;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0) {
		imap_conn_release(be);
		return (-1);
	}
	rv = imap_fetch_body(be, id, path, err);
	imap_conn_release(be);
	return (rv);
}

/* [worker] CREATE, RENAME or DELETE (to NULL), then LIST again. */
static int
imap_folder_change(struct backend *be, const char *name, const char *to,
    int create, struct error *err)
{
	struct imap_folder	*f;
	int			 r, rv = -1;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0)
		goto out;
	if (!create && be->selected != NULL &&
	    strcmp(be->selected, name) == 0) {
		/* Step out of it first (EXAMINE expunges nothing, unlike
		   CLOSE; libetpan has no UNSELECT). */
		if (strcasecmp(name, "INBOX") != 0 &&
		    (r = mailimap_examine(be->s, "INBOX")) !=
		    MAILIMAP_NO_ERROR) {
			imap_session_error(be, r, "EXAMINE", err);
			goto out;
		}
		free(be->selected);
		be->selected = NULL;
	}
	if (create)
		r = mailimap_create(be->s, name);
	else if (to != NULL)
		r = mailimap_rename(be->s, name, to);
	else
		r = mailimap_delete(be->s, name);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_error(be, r, create ? "CREATE" : to != NULL ?
		    "RENAME" : "DELETE", err);
		goto out;
	}
	if (!create) {
		pthread_mutex_lock(&be->data_lock);
		if ((f = imap_folder_find(be, name)) != NULL)
			imap_folder_clear(f);
		if (be->current != NULL && strcmp(be->current, name) == 0) {
			free(be->current);
			be->current = NULL;
		}
		pthread_mutex_unlock(&be->data_lock);
		imap_cache_drop(be, name);
	}
	rv = imap_list(be, 1, err);
out:
	imap_conn_release(be);
	return (rv);
}

static int
imap_create_folder(struct backend *be, const char *name, struct error *err)
{
	return (imap_folder_change(be, name, NULL, 1, err));
}

static int
imap_rename_folder(struct backend *be, const char *name, const char *to,
    struct error *err)
{
	return (imap_folder_change(be, name, to, 0, err));
}

static int
imap_delete_folder(struct backend *be, const char *name, struct error *err)
{
	return (imap_folder_change(be, name, NULL, 0, err));
}

/* Reads the message file at path with CRLF line endings, as IMAP wants. */
static int
imap_read_crlf(const char *path, struct buf *b, struct error *err)
{
	FILE	*f;
	int	 c, prev = 0;

	if ((f = fopen(path, "rb")) == NULL)
		return (error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)));
	while ((c = getc(f)) != EOF) {
		if (c == '\n' && prev != '\r')
			buf_addc(b, '\r');
		buf_addc(b, (char)c);
		prev = c;
	}
	if (ferror(f)) {
		fclose(f);
		return (error_set(err, ERR_IO, "%s: read error", path));
	}
	fclose(f);
	return (0);
}

/* The server name of a role ("Sent": SPECIAL-USE, else "Sent") or name. */
static char *
imap_append_target(struct backend *be, const char *role)
{
	char	*name = NULL;
	size_t	 i;

	if (strcmp(role, "Sent") != 0)
		return (xstrdup(role));
	pthread_mutex_lock(&be->data_lock);
	for (i = 0; i < be->nfolders && name == NULL; i++) {
		if (be->folders[i]->special & IMAP_SPECIAL_SENT)
			name = xstrdup(be->folders[i]->name);
	}
	pthread_mutex_unlock(&be->data_lock);
	return (name != NULL ? name : xstrdup("Sent"));
}

/* [worker] APPENDs a message file to a folder (the Sent copy). */
static int
imap_append(struct backend *be, const char *role, const char *path,
    unsigned flags, struct error *err)
{
	struct mailimap_flag_list	*fl;
	struct buf			 b;
	char				*folder = NULL;
	int				 r, rv = -1, known;

	buf_init(&b);
	if (imap_read_crlf(path, &b, err) != 0)
		goto out_buf;
	if (b.len > IMAP_LITERAL_MAX) {
		error_set(err, ERR_IO, "%s: too big to store", path);
		goto out_buf;
	}
	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0)
		goto out;
	pthread_mutex_lock(&be->data_lock);
	known = be->nfolders > 0;
	pthread_mutex_unlock(&be->data_lock);
	if (!known && imap_list(be, 0, err) != 0)
		goto out;
	folder = imap_append_target(be, role);
	fl = mailimap_flag_list_new_empty();
	if (!(flags & MSG_UNREAD))
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (flags & MSG_FLAGGED)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (flags & MSG_REPLIED)
		mailimap_flag_list_add(fl, mailimap_flag_new_answered());
	if (flags & MSG_DRAFT)
		mailimap_flag_list_add(fl, mailimap_flag_new_draft());
	r = mailimap_append(be->s, folder, fl, NULL,
	    b.data != NULL ? b.data : "", b.len);
	mailimap_flag_list_free(fl);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_error(be, r, "APPEND", err);
		goto out;
	}
	log_debug("imap: %s: stored %zu bytes in %s", be->name, b.len,
	    folder);
	rv = 0;
out:
	imap_conn_release(be);
	if (rv == 0)
		imap_notify(be, BACKEND_CHANGED_FOLDERS);
out_buf:
	free(folder);
	buf_free(&b);
	return (rv);
}

const struct backend_ops imap_backend_ops = {
	.name = "imap",
	.open = imap_open,
	.sync = imap_sync,
	.refresh = imap_refresh,
	.list_folders = imap_list_folders,
	.open_view = imap_open_view,
	.view_count = imap_view_count,
	.view_next = imap_view_next,
	.thread_messages = imap_thread_messages,
	.close_view = imap_close_view,
	.message_path = imap_message_path,
	.set_flags = imap_set_flags,
	.set_tags = imap_set_tags,
	.move = imap_move,
	.close = imap_close,
	.fetch_message = imap_fetch_message,
	.status = imap_status,
	.create_folder = imap_create_folder,
	.rename_folder = imap_rename_folder,
	.delete_folder = imap_delete_folder,
	.append = imap_append,
	.fetch_message_cancel = imap_op_fetch_message_cancel,
	.fetch_part = imap_op_fetch_part,
	.attention = imap_attention,
	.retry = imap_retry,
	.subscribe_folder = imap_op_subscribe_folder,
};
