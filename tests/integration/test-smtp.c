/*
 * Sending against the real Postfix of tests/servers (submission with
 * STARTTLS, SMTPS, AUTH PLAIN and LOGIN, refusals), against a scripted
 * fake server for what Postfix will not do (421 mid-transaction, a drop
 * before the final 250), the outbox across crashes, and the sendmail
 * transport with a fake sendmail. Messages sent through Postfix are
 * fetched back over IMAP and POP3 and compared with what was built.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <libetpan/libetpan.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/render.h"
#include "net/net.h"
#include "tests/integration/mailtest.h"
#include "send/send.h"

#define T_TIMEOUT	10000

/* --- helpers ---------------------------------------------------------- */

static struct buf	transcript;

static void
record(void *arg, const char *line)
{
	(void)arg;
	buf_adds(&transcript, line);
	buf_addc(&transcript, '\n');
}

static char	tmpdir[64];

static void
setup(void)
{
	buf_init(&transcript);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-smtp.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	signal(SIGPIPE, SIG_IGN);
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	buf_free(&transcript);
}

TestSuite(smtp, .init = setup, .fini = teardown, .timeout = 60);

/* A transport to the test Postfix: key names the port. */
static struct send_transport
postfix(const char *port_key, int mode, const char *user, const char *pw)
{
	struct send_transport	t = { 0 };

	t.kind = SEND_SMTP;
	t.host = xstrdup(mailtest_env("MAILTEST_HOST"));
	t.tls_name = mailtest_env("MAILTEST_TLS_NAME");
	t.port = atoi(mailtest_env(port_key));
	t.mode = mode;
	t.user = user != NULL ? xstrdup(user) : NULL;
	t.password = pw != NULL ? xstrdup(pw) : NULL;
	t.ca_file = mailtest_env("CA_FILE");
	t.timeout_ms = T_TIMEOUT;
	t.cancel_fd = -1;
	t.transcript = record;
	return (t);
}

/* A unique token to find our message again. */
static void
token(char *out, size_t size)
{
	static unsigned	n;
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, size, "tok%ld%09ld%u", (long)ts.tv_sec, ts.tv_nsec,
	    n++);
}

/* Builds and queues a message to rcpt with body. */
static struct outbox *
queue(const char *to, const char *subject, const char *body, char **id)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	struct outbox		*ob;
	char			*dir;

	xasprintf(&dir, "%s/outbox", tmpdir);
	ob = outbox_open(dir, &err);
	free(dir);
	cr_assert_not_null(ob, "%s", err.msg);
	d.from = "Bob Example <bob@localhost>";
	d.to = (char *)to;
	d.subject = (char *)subject;
	d.body = (char *)body;
	cr_assert_eq(send_build(&d, NULL, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(outbox_add(ob, &b, id, &err), 0, "%s", err.msg);
	send_built_free(&b);
	return (ob);
}

/* The outbox's only entry. */
static void
only_entry(struct outbox *ob, struct outbox_entry **v, size_t *n)
{
	struct error	err;

	cr_assert_eq(outbox_list(ob, v, n, &err), 0);
	cr_assert_eq(*n, 1, "%zu entries in the outbox", *n);
}

/* Waits for a file in the Maildir holding tok; returns its contents. */
static char *
wait_delivery(const char *maildir, const char *tok)
{
	char		 path[512], *data = NULL;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	size_t		 len;
	int		 tries, sub;
	static const char *subs[] = { "new", "cur" };

	for (tries = 0; tries < 100; tries++) {
		for (sub = 0; sub < 2; sub++) {
			snprintf(path, sizeof path, "%s/%s", maildir,
			    subs[sub]);
			if ((d = opendir(path)) == NULL)
				continue;
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s/%s",
				    maildir, subs[sub], de->d_name);
				if ((f = fopen(path, "r")) == NULL)
					continue;
				data = NULL;
				len = 0;
				{
					FILE	*m = open_memstream(&data,
					    &len);
					char	 chunk[4096];
					size_t	 n;

					while ((n = fread(chunk, 1,
					    sizeof chunk, f)) > 0)
						fwrite(chunk, 1, n, m);
					fclose(m);
				}
				fclose(f);
				if (strstr(data, tok) != NULL) {
					closedir(d);
					return (data);
				}
				free(data);
				data = NULL;
			}
			closedir(d);
		}
		usleep(100000);
	}
	return (NULL);
}

/* The body of a message: after the first blank line. */
static const char *
body_of(const char *msg)
{
	const char	*p = strstr(msg, "\n\n");

	return (p != NULL ? p + 2 : "");
}

/* --- real Postfix ----------------------------------------------------- */

Test(smtp, submission_starttls_auth_plain_delivers_body_byte_for_byte)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	struct outbox_entry	*v;
	size_t			 n;
	char			 tok[64], *body, *got, *sent;

	token(tok, sizeof tok);
	xasprintf(&body, "Hello Carol, %s\n.leading dot\nÇa marche très "
	    "bien — 日本語\n\n-- \nBob\n", tok);
	ob = queue("Carol <carol@localhost>", "Réunion — ordre du jour",
	    body, NULL);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	sent = NULL;
	{
		FILE	*f = fopen(v[0].path, "r");
		size_t	 len = 0;
		char	 chunk[8192];
		FILE	*m = open_memstream(&sent, &len);

		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			fwrite(chunk, 1, n, m);
		fclose(m);
		fclose(f);
	}
	outbox_entries_free(v, 1);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s\n%s", err.msg, buf_str(&transcript));
	cr_assert_eq(res.sent, 1);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0, "the outbox still holds the message");
	got = wait_delivery(mailtest_env("MAILDIR_CAROL"), tok);
	cr_assert_not_null(got, "not delivered to carol");
	cr_assert_str_eq(body_of(got), body_of(sent));
	cr_assert_not_null(strstr(got, "\nSubject: =?utf-8?q?R=C3=A9union"));
	/* The credentials never reached the transcript. */
	cr_assert_null(strstr(buf_str(&transcript), "bobpw"));
	cr_assert_null(strstr(buf_str(&transcript), "Ym9icHc"));
	/* One write held MAIL, RCPT and DATA: the server offers
	   PIPELINING. */
	cr_assert_not_null(strstr(buf_str(&transcript),
	    "C: MAIL FROM:<bob@localhost> SIZE="), "%s",
	    buf_str(&transcript));
	cr_assert_not_null(strstr(buf_str(&transcript),
	    "\r\nRCPT TO:<carol@localhost>\r\nDATA\r\n\n"), "%s",
	    buf_str(&transcript));
	cr_assert_null(strstr(buf_str(&transcript), "EHLO localhost"));
	free(got);
	free(sent);
	free(body);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, smtps_auth_login_delivers)
{
	struct send_transport	 t = postfix("SMTPS_PORT", NET_TLS_IMPLICIT,
	    "bob", "bobpw");
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	char			 tok[64], *body, *got;

	t.auth_mech = "LOGIN";
	token(tok, sizeof tok);
	xasprintf(&body, "via smtps %s\n", tok);
	ob = queue("carol@localhost", "smtps", body, NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s\n%s", err.msg, buf_str(&transcript));
	got = wait_delivery(mailtest_env("MAILDIR_CAROL"), tok);
	cr_assert_not_null(got);
	cr_assert_null(strstr(buf_str(&transcript), "bobpw"));
	cr_assert_null(strstr(buf_str(&transcript), "Ym9icHc"));
	free(got);
	free(body);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, unknown_user_keeps_the_message_with_the_servers_words)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct outbox_result	 res;
	struct outbox		*ob;
	struct outbox_entry	*v;
	struct error		 err;
	size_t			 n;

	ob = queue("nobody-here@localhost", "lost", "x\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1);
	cr_assert_eq(res.failed, 1);
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_FAILED);
	cr_assert_not_null(strstr(v[0].error, "recipient "
	    "<nobody-here@localhost> refused: 550"), "%s", v[0].error);
	cr_assert_not_null(strstr(v[0].error, "nobody-here@localhost"));
	outbox_entries_free(v, n);
	/* A failed message is not retried without being asked. */
	buf_reset(&transcript);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0);
	cr_assert_null(strstr(buf_str(&transcript), "MAIL FROM"));
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, wrong_password_is_a_clear_error_and_the_message_waits)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "wrong");
	struct outbox_result	 res;
	struct outbox		*ob;
	struct outbox_entry	*v;
	struct error		 err;
	size_t			 n;

	ob = queue("carol@localhost", "pw", "x\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1);
	cr_assert_not_null(strstr(err.msg, "login refused for bob: 535"),
	    "%s", err.msg);
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_DEFERRED);
	cr_assert_null(strstr(buf_str(&transcript), "wrong"));
	outbox_entries_free(v, n);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, message_over_size_is_refused_before_mail_from)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct smtp_session	*ss;
	struct error		 err;
	char			*big, *rcpt[] = { "carol@localhost", NULL };
	size_t			 len = 11 * 1024 * 1024;

	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	cr_assert(smtp_caps(ss) & SMTP_HAS_SIZE);
	big = xmalloc(len);
	memset(big, 'a', len);
	memcpy(big, "Subject: big\n\n", 14);
	cr_assert_eq(smtp_send(ss, "bob@localhost", rcpt, 1, 0, big, len,
	    &err), SEND_PERMFAIL);
	cr_assert_not_null(strstr(err.msg, "message too big for"), "%s",
	    err.msg);
	cr_assert_null(strstr(buf_str(&transcript), "MAIL FROM"));
	free(big);
	smtp_close(&ss);
	send_transport_clear(&t);
}

Test(smtp, untrusted_certificate_is_refused_before_auth)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct smtp_session	*ss;
	struct error		 err;

	t.ca_file = NULL;	/* the test CA is not trusted */
	cr_assert_eq(smtp_open(&t, &ss, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_assert_null(strstr(buf_str(&transcript), "AUTH"));
	send_transport_clear(&t);
}

Test(smtp, plain_smtp_needs_tls_off)
{
	struct send_transport	 t;
	struct error		 err;

	cr_assert_eq(send_transport_parse(&t, "smtp://mail.example", NULL,
	    NULL, &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_eq(send_transport_parse(&t, "submission://me@mx.example",
	    NULL, NULL, &err), 0);
	cr_assert_eq(t.port, 587);
	cr_assert_eq(t.mode, NET_STARTTLS);
	cr_assert_str_eq(t.user, "me");
	send_transport_clear(&t);
	cr_assert_eq(send_transport_parse(&t, "smtps://mx.example:2465",
	    "bob", NULL, &err), 0);
	cr_assert_eq(t.port, 2465);
	cr_assert_eq(t.mode, NET_TLS_IMPLICIT);
	send_transport_clear(&t);
}

/* --- a scripted fake server ------------------------------------------- */

enum fake_mode {
	FAKE_OK,
	FAKE_421_AFTER_RCPT,
	FAKE_DROP_AFTER_DATA,
};

struct fake {
	pid_t	pid;
	int	port;
	char	count[128];	/* file: one line per message accepted */
};

/* Reads one line from fd (slowly, byte by byte: it is a test). */
static int
fake_line(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size && read(fd, &c, 1) == 1) {
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return (n > 0 ? 0 : -1);
}

/* Closes without a reset: unread input must not destroy our reply. */
static void
fake_close(int fd)
{
	char	c;

	shutdown(fd, SHUT_WR);
	while (read(fd, &c, 1) == 1)
		;
	close(fd);
}

static void
fake_say(int fd, const char *s)
{
	(void)write(fd, s, strlen(s));
}

/* Serves connections: modes[i] is the behaviour of connection i. */
static void
fake_serve(int ls, const enum fake_mode *modes, size_t nmodes,
    const char *count)
{
	char	line[1024];
	size_t	c;
	int	fd, indata;

	alarm(20);	/* never outlive a failed test */
	for (c = 0; c < nmodes; c++) {
		if ((fd = accept(ls, NULL, NULL)) == -1)
			_exit(1);
		fake_say(fd, "220 fake ESMTP\r\n");
		indata = 0;
		while (fake_line(fd, line, sizeof line) == 0) {
			if (indata) {
				if (strcmp(line, ".\r\n") != 0)
					continue;
				indata = 0;
				if (modes[c] == FAKE_DROP_AFTER_DATA)
					break;
				FILE *f = fopen(count, "a");
				fputs("message\n", f);
				fclose(f);
				fake_say(fd, "250 2.0.0 queued\r\n");
			} else if (strncmp(line, "EHLO", 4) == 0)
				fake_say(fd, "250-fake\r\n250-PIPELINING\r\n"
				    "250 SIZE 1000000\r\n");
			else if (strncmp(line, "MAIL", 4) == 0)
				fake_say(fd, "250 ok\r\n");
			else if (strncmp(line, "RCPT", 4) == 0) {
				if (modes[c] == FAKE_421_AFTER_RCPT) {
					fake_say(fd, "421 4.3.2 shutting down"
					    "\r\n");
					break;
				}
				fake_say(fd, "250 ok\r\n");
			} else if (strncmp(line, "DATA", 4) == 0) {
				fake_say(fd, "354 go\r\n");
				indata = 1;
			} else if (strncmp(line, "QUIT", 4) == 0) {
				fake_say(fd, "221 bye\r\n");
				break;
			} else if (strncmp(line, "RSET", 4) == 0)
				fake_say(fd, "250 ok\r\n");
			else
				fake_say(fd, "500 what\r\n");
		}
		fake_close(fd);
	}
	_exit(0);
}

static struct fake
fake_start(const enum fake_mode *modes, size_t n)
{
	struct fake		f;
	struct sockaddr_in	sin = { 0 };
	socklen_t		len = sizeof sin;
	int			ls, one = 1;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(ls, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(ls, 8), 0);
	getsockname(ls, (struct sockaddr *)&sin, &len);
	f.port = ntohs(sin.sin_port);
	snprintf(f.count, sizeof f.count, "%s/count", tmpdir);
	if ((f.pid = fork()) == 0)
		fake_serve(ls, modes, n, f.count);
	close(ls);
	return (f);
}

static int
fake_count(struct fake *f)
{
	FILE	*fp = fopen(f->count, "r");
	char	 line[64];
	int	 n = 0;

	if (fp == NULL)
		return (0);
	while (fgets(line, sizeof line, fp) != NULL)
		n++;
	fclose(fp);
	return (n);
}

static void
fake_stop(struct fake *f)
{
	kill(f->pid, SIGTERM);
	waitpid(f->pid, NULL, 0);
}

static struct send_transport
fake_transport(struct fake *f)
{
	struct send_transport	t = { 0 };

	t.kind = SEND_SMTP;
	t.host = xstrdup("127.0.0.1");
	t.port = f->port;
	t.mode = NET_PLAIN;
	t.timeout_ms = 5000;
	t.cancel_fd = -1;
	t.transcript = record;
	return (t);
}

/* Makes a deferred entry due now (instead of waiting out the back-off). */
static void
force_due(void)
{
	/* outbox_flush(force = 1) does it; kept as a named step. */
}

Test(smtp, a_421_mid_transaction_defers_and_a_retry_sends_once)
{
	enum fake_mode		 modes[] = { FAKE_421_AFTER_RCPT, FAKE_OK };
	struct fake		 f = fake_start(modes, 2);
	struct send_transport	 t = fake_transport(&f);
	struct outbox_result	 res;
	struct outbox		*ob;
	struct outbox_entry	*v;
	struct error		 err;
	size_t			 n;

	ob = queue("carol@localhost", "421", "x\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1);
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_DEFERRED);
	cr_assert_not_null(strstr(v[0].error, "closing the connection, try "
	    "later"), "%s", v[0].error);
	cr_assert_not_null(strstr(v[0].error, "421 4.3.2 shutting down"));
	cr_assert_gt(v[0].next_try, time(NULL));
	outbox_entries_free(v, n);
	/* Not due yet: nothing happens without force. */
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0);
	cr_assert_eq(res.sent, 0);
	force_due();
	cr_assert_eq(outbox_flush(ob, &t, 1, NULL, NULL, &res, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(res.sent, 1);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	fake_stop(&f);
	cr_assert_eq(fake_count(&f), 1);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, a_drop_after_data_keeps_the_message_and_a_retry_sends_it)
{
	enum fake_mode		 modes[] = { FAKE_DROP_AFTER_DATA, FAKE_OK };
	struct fake		 f = fake_start(modes, 2);
	struct send_transport	 t = fake_transport(&f);
	struct outbox_result	 res;
	struct outbox		*ob;
	struct outbox_entry	*v;
	struct error		 err;
	size_t			 n;

	ob = queue("carol@localhost", "drop", "x\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1);
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_DEFERRED);
	cr_assert_not_null(strstr(v[0].error, "connection lost"), "%s",
	    v[0].error);
	outbox_entries_free(v, n);
	cr_assert_eq(outbox_flush(ob, &t, 1, NULL, NULL, &res, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	fake_stop(&f);
	cr_assert_eq(fake_count(&f), 1);
	outbox_free(&ob);
	send_transport_clear(&t);
}

/* Records the Sent copy by counting calls. */
static int
count_sent(const char *path, void *arg, struct error *err)
{
	(void)path;
	(void)err;
	(*(int *)arg)++;
	return (0);
}

Test(smtp, a_crash_at_any_step_never_loses_the_message)
{
	int	step;

	for (step = 1; step <= 3; step++) {
		enum fake_mode		 modes[] = { FAKE_OK, FAKE_OK };
		struct fake		 f = fake_start(modes, 2);
		struct send_transport	 t = fake_transport(&f);
		struct outbox_result	 res;
		struct outbox		*ob;
		struct outbox_entry	*v;
		struct error		 err;
		size_t			 n;
		pid_t			 pid;
		int			 status, recorded = 0;

		ob = queue("carol@localhost", "crash", "x\n", NULL);
		if ((pid = fork()) == 0) {
			outbox_crash_at = step;
			outbox_flush(ob, &t, 0, NULL, NULL, &res, &err);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		cr_assert_eq(WEXITSTATUS(status), 99, "step %d", step);
		only_entry(ob, &v, &n);
		cr_assert_eq(v[0].state, step == 1 ? OUTBOX_SENDING :
		    OUTBOX_SENT, "step %d: %s", step,
		    outbox_state_name(v[0].state));
		outbox_entries_free(v, n);
		cr_assert_eq(outbox_flush(ob, &t, 0, count_sent, &recorded,
		    &res, &err), 0, "step %d: %s", step, err.msg);
		cr_assert_eq(recorded, 1, "step %d", step);
		cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
		cr_assert_eq(n, 0, "step %d", step);
		fake_stop(&f);
		/* Sent exactly once: step 1 crashed before the send. */
		cr_assert_eq(fake_count(&f), 1, "step %d", step);
		unlink(f.count);
		outbox_free(&ob);
		send_transport_clear(&t);
	}
}

/* --- sendmail --------------------------------------------------------- */

static struct send_transport
fake_sendmail(int code)
{
	struct send_transport	t = { 0 };
	char			*script;
	FILE			*f;

	xasprintf(&script, "%s/sendmail", tmpdir);
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s/args\n"
	    "cat > %s/stdin\necho 'fake: mailbox full' >&2\nexit %d\n",
	    tmpdir, tmpdir, code);
	fclose(f);
	chmod(script, 0700);
	t.kind = SEND_SENDMAIL;
	xasprintf(&t.command, "%s -oi", script);
	free(script);
	return (t);
}

static char *
slurp(const char *name)
{
	char	*path, *data = NULL;
	size_t	 len = 0;
	FILE	*f, *m;
	char	 chunk[4096];
	size_t	 n;

	xasprintf(&path, "%s/%s", tmpdir, name);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return (NULL);
	m = open_memstream(&data, &len);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return (data);
}

Test(smtp, sendmail_exit_0_sends_with_recipients_as_arguments)
{
	struct send_transport	 t = fake_sendmail(0);
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	struct outbox_entry	*v;
	size_t			 n;
	char			*args, *in;

	ob = queue("carol@localhost, \"Dave; x\" <dave@localhost>", "sm",
	    "hello\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s", err.msg);
	args = slurp("args");
	cr_assert_str_eq(args, "-oi\n--\ncarol@localhost\ndave@localhost\n");
	in = slurp("stdin");
	cr_assert_str_eq(body_of(in), "hello\n");
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	free(args);
	free(in);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, sendmail_exit_75_is_queued_and_exit_1_is_kept)
{
	struct send_transport	 t = fake_sendmail(75);
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	struct outbox_entry	*v;
	size_t			 n;

	ob = queue("carol@localhost", "sm", "hello\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(res.sent, 1);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	send_transport_clear(&t);
	outbox_free(&ob);

	t = fake_sendmail(1);
	ob = queue("carol@localhost", "sm", "hello\n", NULL);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1);
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_FAILED);
	cr_assert_str_eq(v[0].error, "sendmail failed (exit 1): fake: "
	    "mailbox full");
	outbox_entries_free(v, n);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, a_flush_sends_only_its_own_accounts_messages)
{
	struct send_transport	 t = fake_sendmail(0);
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	struct outbox_entry	*v;
	size_t			 n;
	struct send_draft	 d = { 0 };
	struct send_built	 b;

	ob = queue("carol@localhost", "mine", "x\n", NULL);
	outbox_set_account(ob, "work");
	d.from = "bob@localhost";
	d.to = "dave@localhost";
	d.subject = "theirs";
	d.body = "y\n";
	cr_assert_eq(send_build(&d, NULL, &b, &err), 0);
	cr_assert_eq(outbox_add(ob, &b, NULL, &err), 0);
	send_built_free(&b);
	outbox_set_account(ob, "home");
	/* "home" sends the message of no account, not "work"'s. */
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0);
	cr_assert_eq(res.sent, 1);
	only_entry(ob, &v, &n);
	cr_assert_str_eq(v[0].subject, "theirs");
	cr_assert_str_eq(v[0].account, "work");
	outbox_entries_free(v, n);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, one_flush_sends_many_messages_over_one_connection)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct outbox_result	 res;
	struct outbox		*ob = NULL;
	struct error		 err;
	struct timespec		 a, b;
	const char		*p;
	char			 tok[64], *body;
	int			 i, n = 200, ehlo = 0;
	double			 secs;

	token(tok, sizeof tok);
	for (i = 0; i < n; i++) {
		xasprintf(&body, "bulk %s number %d\n", tok, i);
		if (ob != NULL)
			outbox_free(&ob);
		ob = queue("carol@localhost", "bulk", body, NULL);
		free(body);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert_eq(res.sent, (size_t)n);
	/* One connection: EHLO before and after STARTTLS, nothing more. */
	for (p = buf_str(&transcript); (p = strstr(p, "C: EHLO")) != NULL;
	    p++)
		ehlo++;
	cr_assert_eq(ehlo, 2, "%d EHLO: more than one connection", ehlo);
	secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	fprintf(stderr, "smtp: %d messages in %.3f s (%.0f messages/s)\n",
	    n, secs, n / secs);
	outbox_free(&ob);
	send_transport_clear(&t);
}

Test(smtp, ehlo_name_is_the_configured_one_never_the_host_name)
{
	struct send_transport	 t = postfix("SMTPS_PORT", NET_TLS_IMPLICIT,
	    "bob", "bobpw");
	struct smtp_session	*ss;
	struct error		 err;
	char			 host[256];

	t.ehlo = xstrdup("client.example");
	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	cr_assert_not_null(strstr(buf_str(&transcript),
	    "C: EHLO client.example\r\n"), "%s", buf_str(&transcript));
	cr_assert(smtp_caps(ss) & SMTP_HAS_PIPELINING);
	if (gethostname(host, sizeof host) == 0 && strlen(host) > 3 &&
	    strstr(host, "localhost") == NULL)
		cr_assert_null(strstr(buf_str(&transcript), host));
	smtp_close(&ss);
	free(t.ehlo);
	t.ehlo = xstrdup("bad name; rm");
	cr_assert_eq(smtp_open(&t, &ss, &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	send_transport_clear(&t);
}

Test(smtp, an_8bit_body_goes_as_body_8bitmime_and_arrives_unchanged)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct send_draft	 d = { 0 };
	struct send_build_opts	 o = { 0 };
	struct send_built	 b;
	struct smtp_session	*ss;
	struct error		 err;
	char			 tok[64], *body, *got;

	token(tok, sizeof tok);
	xasprintf(&body, "8bit %s: Grüße, 日本語\n", tok);
	d.from = "bob@localhost";
	d.to = "carol@localhost";
	d.subject = "8bit";
	d.body = body;
	o.eightbit = 1;
	cr_assert_eq(send_build(&d, &o, &b, &err), 0);
	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	cr_assert(smtp_caps(ss) & SMTP_HAS_8BITMIME);
	cr_assert_eq(smtp_send(ss, b.from, b.rcpt, b.nrcpt, b.utf8,
	    b.msg.data, b.msg.len, &err), SEND_OK, "%s", err.msg);
	cr_assert_not_null(strstr(buf_str(&transcript), " BODY=8BITMIME"));
	got = wait_delivery(mailtest_env("MAILDIR_CAROL"), tok);
	cr_assert_not_null(got);
	cr_assert_str_eq(body_of(got), body_of(b.msg.data));
	free(got);
	free(body);
	smtp_close(&ss);
	send_built_free(&b);
	send_transport_clear(&t);
}

Test(smtp, utf8_addresses_need_smtputf8_and_say_so)
{
	enum fake_mode		 modes[] = { FAKE_OK };
	struct fake		 f = fake_start(modes, 1);
	struct send_transport	 t = fake_transport(&f);
	struct smtp_session	*ss;
	struct error		 err;
	char			*rcpt[] = { "josé@exemple.fr", NULL };
	const char		*msg = "Subject: x\n\nx\n";

	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	cr_assert_eq(smtp_send(ss, "bob@localhost", rcpt, 1, 1, msg,
	    strlen(msg), &err), SEND_PERMFAIL);
	cr_assert_str_eq(err.msg, "127.0.0.1 does not offer SMTPUTF8: it "
	    "cannot take the non-ASCII addresses of this message");
	cr_assert_null(strstr(buf_str(&transcript), "MAIL FROM"));
	smtp_close(&ss);
	fake_stop(&f);
	send_transport_clear(&t);
}

Test(smtp, postfix_takes_smtputf8_when_the_envelope_needs_it)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct smtp_session	*ss;
	struct error		 err;
	char			*rcpt[] = { "carol@localhost", NULL };
	const char		*msg = "Subject: utf8\n\nx\n";

	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	if (!(smtp_caps(ss) & SMTP_HAS_SMTPUTF8))
		cr_skip_test("this Postfix does not offer SMTPUTF8");
	cr_assert_eq(smtp_send(ss, "bob@localhost", rcpt, 1, 1, msg,
	    strlen(msg), &err), SEND_OK, "%s", err.msg);
	cr_assert_not_null(strstr(buf_str(&transcript), " SMTPUTF8\r\n"));
	smtp_close(&ss);
	send_transport_clear(&t);
}

/* --- fetched back over IMAP and POP3 ---------------------------------- */

static struct tls_params
fb_tls(const char *service)
{
	struct tls_params	p = { 0 };

	p.host = mailtest_env("MAILTEST_TLS_NAME");
	p.ca_file = mailtest_env("CA_FILE");
	p.service = service;
	p.timeout_ms = T_TIMEOUT;
	p.cancel_fd = -1;
	return (p);
}

/* The message as a Maildir holds it: CRLF made LF. */
static char *
fb_lf(const char *data, size_t len)
{
	char	*out = xmalloc(len + 1), *q = out;
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
			*q++ = data[i];
	*q = '\0';
	return (out);
}

/* Carol's copy of the message with this Message-ID, over IMAP. */
static char *
fb_imap(const char *msgid)
{
	struct tls_params		 tp = fb_tls("imap");
	struct mailimap_search_key	*key;
	struct mailimap_set		*set;
	struct mailimap_fetch_type	*ft;
	struct mailimap_msg_att		*ma;
	struct mailimap_msg_att_item	*it;
	struct error			 err;
	clistiter			*ci;
	clist				*found = NULL, *fr = NULL;
	mailimap			*imap = mailimap_new(0, NULL);
	char				*msg = NULL;
	uint32_t			 uid;

	cr_assert_eq(net_imap_connect(imap, mailtest_env("MAILTEST_HOST"),
	    atoi(mailtest_env("IMAP_PORT")), NET_STARTTLS, &tp, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(mailimap_login(imap, "carol", "carolpw"),
	    MAILIMAP_NO_ERROR);
	cr_assert_eq(mailimap_select(imap, "INBOX"), MAILIMAP_NO_ERROR);
	key = mailimap_search_key_new_header(xstrdup("Message-ID"),
	    xstrdup(msgid));
	cr_assert_eq(mailimap_uid_search(imap, NULL, key, &found),
	    MAILIMAP_NO_ERROR);
	mailimap_search_key_free(key);
	cr_assert_eq(clist_count(found), 1, "%d messages with %s over IMAP",
	    clist_count(found), msgid);
	uid = *(uint32_t *)clist_content(clist_begin(found));
	mailimap_search_result_free(found);
	set = mailimap_set_new_single(uid);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)));
	cr_assert_eq(mailimap_uid_fetch(imap, set, ft, &fr),
	    MAILIMAP_NO_ERROR);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	cr_assert_eq(clist_count(fr), 1);
	ma = clist_content(clist_begin(fr));
	for (ci = clist_begin(ma->att_list); ci != NULL; ci = clist_next(ci)) {
		it = clist_content(ci);
		if (it->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
		    it->att_data.att_static->att_type ==
		    MAILIMAP_MSG_ATT_BODY_SECTION) {
			struct mailimap_msg_att_body_section *bs =
			    it->att_data.att_static->att_data.att_body_section;

			msg = fb_lf(bs->sec_body_part, bs->sec_length);
		}
	}
	mailimap_fetch_list_free(fr);
	mailimap_logout(imap);
	mailimap_free(imap);
	cr_assert_not_null(msg, "no BODY[] in the FETCH response");
	return (msg);
}

/* Carol's copy of the message with this Message-ID, over POP3 (newest
   first; nothing deleted). */
static char *
fb_pop3(const char *msgid)
{
	struct tls_params	 tp = fb_tls("pop3");
	struct mailpop3_msg_info *info;
	struct error		 err;
	mailpop3		*pop3 = mailpop3_new(0, NULL);
	carray			*list;
	char			*r, *msg = NULL, *want;
	size_t			 len;
	unsigned		 i;

	cr_assert_eq(net_pop3_connect(pop3, mailtest_env("MAILTEST_HOST"),
	    atoi(mailtest_env("POP3_PORT")), NET_STARTTLS, &tp, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(mailpop3_user(pop3, "carol"), MAILPOP3_NO_ERROR);
	cr_assert_eq(mailpop3_pass(pop3, "carolpw"), MAILPOP3_NO_ERROR);
	cr_assert_eq(mailpop3_list(pop3, &list), MAILPOP3_NO_ERROR);
	xasprintf(&want, "\nMessage-ID: %s\r\n", msgid);
	for (i = carray_count(list); i > 0 && msg == NULL; i--) {
		if ((info = carray_get(list, i - 1)) == NULL)
			continue;
		if (mailpop3_retr(pop3, info->msg_index, &r, &len) !=
		    MAILPOP3_NO_ERROR)
			continue;
		if (memmem(r, len, want, strlen(want)) != NULL)
			msg = fb_lf(r, len);
		mailpop3_retr_free(r);
	}
	free(want);
	mailpop3_quit(pop3);
	mailpop3_free(pop3);
	cr_assert_not_null(msg, "%s not found over POP3", msgid);
	return (msg);
}

/* The unfolded value of the first header name in msg, or NULL. */
static char *
fb_header(const char *msg, const char *name)
{
	const char	*p = msg, *e;
	size_t		 n = strlen(name);
	struct buf	 b;

	while (*p != '\0' && *p != '\n') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			buf_init(&b);
			p += n + 1;
			for (;;) {
				buf_add(&b, p, e - p);
				if (*e == '\n' &&
				    (e[1] == ' ' || e[1] == '\t')) {
					p = e + 1;
					e = strchr(p, '\n');
					if (e == NULL)
						e = p + strlen(p);
					continue;
				}
				break;
			}
			return (buf_steal(&b));
		}
		p = *e == '\n' ? e + 1 : e;
	}
	return (NULL);
}

/* Every header of sent is in got with the same value; every part has
   the same type, name and decoded bytes. */
static void
fb_compare(const char *how, const char *sent, const char *got)
{
	static const char	*names[] = { "From", "To", "Cc", "Subject",
	    "Date", "Message-ID", "MIME-Version", "Content-Type" };
	struct mime_parts	 ps = { 0 }, pg = { 0 };
	struct buf		 bs, bg;
	struct error		 err;
	char			*a, *b;
	size_t			 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		a = fb_header(sent, names[i]);
		b = fb_header(got, names[i]);
		if (a == NULL) {
			cr_assert_null(b, "%s: %s appeared", how, names[i]);
			continue;
		}
		cr_assert_not_null(b, "%s: no %s", how, names[i]);
		cr_assert_str_eq(b, a, "%s: %s differs", how, names[i]);
		free(a);
		free(b);
	}
	cr_assert_eq(mime_parts_mem(sent, strlen(sent), &ps, &err), 0);
	cr_assert_eq(mime_parts_mem(got, strlen(got), &pg, &err), 0);
	cr_assert_eq(pg.n, ps.n, "%s: %zu parts, %zu sent", how, pg.n, ps.n);
	for (i = 0; i < ps.n; i++) {
		cr_assert_str_eq(pg.v[i].type, ps.v[i].type, "%s", how);
		if (ps.v[i].name != NULL)
			cr_assert_str_eq(pg.v[i].name, ps.v[i].name, "%s",
			    how);
		buf_init(&bs);
		buf_init(&bg);
		cr_assert_eq(mime_part_extract_mem(sent, strlen(sent),
		    ps.v[i].index, &bs, &err), 0);
		cr_assert_eq(mime_part_extract_mem(got, strlen(got),
		    pg.v[i].index, &bg, &err), 0);
		cr_assert_eq(bg.len, bs.len, "%s: part %zu", how, i);
		cr_assert_eq(memcmp(bg.data, bs.data, bs.len), 0,
		    "%s: part %zu bytes differ", how, i);
		buf_free(&bs);
		buf_free(&bg);
	}
	mime_parts_free(&ps);
	mime_parts_free(&pg);
}

/* Sends a message with UTF-8 names, subject, body and a binary
   attachment through port, then fetches it back both ways. */
static void
fb_round_trip(const char *port_key, int mode, const char *mech)
{
	struct send_transport	 t = postfix(port_key, mode, "bob", "bobpw");
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct outbox_result	 res;
	struct mime_parts	 parts = { 0 };
	struct outbox		*ob;
	struct error		 err;
	struct buf		 att;
	unsigned char		 bin[5000];
	char			 tok[64], *dir, *path, *subject, *body, *got,
				*dec, *sent, *id = NULL;
	const char		*how[] = { "IMAP", "POP3" };
	size_t			 i;
	int			 k;
	FILE			*f;

	t.auth_mech = mech;
	token(tok, sizeof tok);
	for (i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)(i * 7 + i / 256);
	xasprintf(&path, "%s/bin", tmpdir);
	f = fopen(path, "w");
	fwrite(bin, 1, sizeof bin, f);
	fclose(f);
	xasprintf(&subject, "Réunion — ordre du jour 日本語 %s", tok);
	xasprintf(&body, "Bonjour Carol, %s\nÇa marche.\n", tok);
	d.from = xstrdup("Bob Éxample <bob@localhost>");
	d.to = xstrdup("\"Jönsson, Carol\" <carol@localhost>");
	d.subject = xstrdup(subject);
	d.body = xstrdup(body);
	send_draft_attach(&d, path, "données €.bin", NULL);
	cr_assert_eq(send_build(&d, NULL, &b, &err), 0, "%s", err.msg);
	sent = xstrdup(b.msg.data);
	xasprintf(&dir, "%s/outbox", tmpdir);
	ob = outbox_open(dir, &err);
	cr_assert_not_null(ob, "%s", err.msg);
	cr_assert_eq(outbox_add(ob, &b, &id, &err), 0, "%s", err.msg);
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), 0,
	    "%s\n%s", err.msg, buf_str(&transcript));
	cr_assert_eq(res.sent, 1);
	got = wait_delivery(mailtest_env("MAILDIR_CAROL"), tok);
	cr_assert_not_null(got, "not delivered to carol");
	free(got);
	for (k = 0; k < 2; k++) {
		got = k == 0 ? fb_imap(b.message_id) : fb_pop3(b.message_id);
		fb_compare(how[k], sent, got);
		/* What a reader sees: the decoded subject and names. */
		{
			char	*raw = fb_header(got, "Subject");

			dec = mime_decode_header(raw);
			free(raw);
		}
		cr_assert_str_eq(dec + strspn(dec, " "), subject, "%s",
		    how[k]);
		free(dec);
		{
			char	*raw = fb_header(got, "From");

			dec = mime_decode_addresses(raw);
			free(raw);
		}
		cr_assert_not_null(strstr(dec, "Bob Éxample"), "%s: %s",
		    how[k], dec);
		free(dec);
		{
			char	*raw = fb_header(got, "To");

			dec = mime_decode_addresses(raw);
			free(raw);
		}
		cr_assert_not_null(strstr(dec, "Jönsson, Carol"), "%s: %s",
		    how[k], dec);
		free(dec);
		/* The attachment: its name and the very bytes of the file. */
		cr_assert_eq(mime_parts_mem(got, strlen(got), &parts, &err), 0);
		for (i = 0; i < parts.n; i++)
			if (parts.v[i].name != NULL &&
			    strcmp(parts.v[i].name, "données €.bin") == 0)
				break;
		cr_assert_lt(i, parts.n, "%s: no attachment", how[k]);
		buf_init(&att);
		cr_assert_eq(mime_part_extract_mem(got, strlen(got),
		    parts.v[i].index, &att, &err), 0);
		cr_assert_eq(att.len, sizeof bin, "%s", how[k]);
		cr_assert_eq(memcmp(att.data, bin, sizeof bin), 0, "%s",
		    how[k]);
		buf_free(&att);
		mime_parts_free(&parts);
		free(got);
	}
	send_built_free(&b);
	send_draft_free(&d);
	outbox_free(&ob);
	send_transport_clear(&t);
	free(id);
	free(sent);
	free(dir);
	free(path);
	free(subject);
	free(body);
}

Test(smtp, submission_message_fetched_back_over_imap_and_pop3_is_the_same)
{
	fb_round_trip("SUB_PORT", NET_STARTTLS, "PLAIN");
}

Test(smtp, smtps_message_fetched_back_over_imap_and_pop3_is_the_same)
{
	fb_round_trip("SMTPS_PORT", NET_TLS_IMPLICIT, "LOGIN");
}

/* --- the real Postfix killed mid-DATA --------------------------------- */

static int	kill_port;	/* the server's port */
static int	killed;		/* the pid killed, or 0 */

/* The first pid=N in the output of an ss command that names the process
   (which), with its local port in *lport when asked. */
static int
kill_ss_pid(const char *cmd, const char *which, int *lport)
{
	char	 line[1024], *p, *c;
	FILE	*f;
	int	 pid = 0;

	if ((f = popen(cmd, "r")) == NULL)
		return (0);
	while (pid == 0 && fgets(line, sizeof line, f) != NULL) {
		if ((p = strstr(line, which)) == NULL)
			continue;
		if ((p = strstr(p, "pid=")) == NULL)
			continue;
		pid = atoi(p + 4);
		if (lport != NULL) {
			/* "0 0 127.0.0.1:45678 127.0.0.1:20001 ..." */
			c = strchr(line, ':');
			*lport = c != NULL ? atoi(c + 1) : 0;
		}
	}
	pclose(f);
	return (pid);
}

/* The transcript hook: when the server says 354, the smtpd serving this
   very connection (found with ss) is killed before the body goes. */
static void
kill_at_354(void *arg, const char *line)
{
	char	cmd[256], me[64];
	int	lport = 0, pid;

	record(arg, line);
	if (killed != 0 || strncmp(line, "S: 354", 6) != 0)
		return;
	snprintf(me, sizeof me, "pid=%d,", (int)getpid());
	snprintf(cmd, sizeof cmd, "ss -tnpH state established "
	    "'( dport = :%d )'", kill_port);
	if (kill_ss_pid(cmd, me, &lport) == 0 || lport == 0)
		return;
	snprintf(cmd, sizeof cmd, "ss -tnpH state established "
	    "'( sport = :%d and dport = :%d )'", kill_port, lport);
	if ((pid = kill_ss_pid(cmd, "\"smtpd\"", NULL)) > 0 &&
	    kill(pid, SIGKILL) == 0)
		killed = pid;
}

/* How many files of the Maildir hold tok. */
static int
count_delivered(const char *maildir, const char *tok)
{
	static const char *subs[] = { "new", "cur" };
	char		 path[512], *data;
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	size_t		 len;
	int		 sub, n = 0;

	for (sub = 0; sub < 2; sub++) {
		snprintf(path, sizeof path, "%s/%s", maildir, subs[sub]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s/%s", maildir,
			    subs[sub], de->d_name);
			if ((f = fopen(path, "r")) == NULL)
				continue;
			data = xmalloc(4096);
			len = fread(data, 1, 4095, f);
			data[len] = '\0';
			if (strstr(data, tok) != NULL)
				n++;
			free(data);
			fclose(f);
		}
		closedir(d);
	}
	return (n);
}

Test(smtp, postfix_killed_mid_data_keeps_the_message_and_a_retry_sends_it_once)
{
	struct send_transport	 t = postfix("SUB_PORT", NET_STARTTLS, "bob",
	    "bobpw");
	struct outbox_result	 res;
	struct outbox		*ob;
	struct outbox_entry	*v;
	struct error		 err;
	struct buf		 body;
	struct smtp_session	*ss;
	char			 tok[64], subject[96];
	size_t			 n, i;

	if (system("command -v ss >/dev/null 2>&1") != 0)
		cr_skip_test("ss (iproute2) is needed to find the smtpd");
	token(tok, sizeof tok);
	snprintf(subject, sizeof subject, "killed %s", tok);
	/* 4 MB: the body is still going when the server dies. */
	buf_init(&body);
	for (i = 0; i < 4 * 1024 * 1024 / 64; i++)
		buf_addf(&body, "%063zu\n", i);
	ob = queue("carol@localhost", subject, buf_str(&body), NULL);
	buf_free(&body);
	/*
	 * Postfix's master throttles a service for a minute when a new
	 * smtpd dies before it has served anyone ("bad command startup"):
	 * one session first, so the smtpd killed is one that has.
	 */
	cr_assert_eq(smtp_open(&t, &ss, &err), 0, "%s", err.msg);
	smtp_close(&ss);
	usleep(200000);
	kill_port = t.port;
	killed = 0;
	t.transcript = kill_at_354;
	cr_assert_eq(outbox_flush(ob, &t, 0, NULL, NULL, &res, &err), -1,
	    "%s", buf_str(&transcript));
	cr_assert_neq(killed, 0, "no smtpd found to kill:\n%s",
	    buf_str(&transcript));
	only_entry(ob, &v, &n);
	cr_assert_eq(v[0].state, OUTBOX_DEFERRED, "%s",
	    outbox_state_name(v[0].state));
	cr_assert_not_null(strstr(v[0].error, "connection lost"), "%s",
	    v[0].error);
	outbox_entries_free(v, n);
	/* Postfix's master starts a new smtpd: the retry goes through. */
	t.transcript = record;
	cr_assert_eq(outbox_flush(ob, &t, 1, NULL, NULL, &res, &err), 0,
	    "%s\n%s", err.msg, buf_str(&transcript));
	cr_assert_eq(res.sent, 1);
	cr_assert_eq(outbox_list(ob, &v, &n, &err), 0);
	cr_assert_eq(n, 0, "the outbox still holds the message");
	free(wait_delivery(mailtest_env("MAILDIR_CAROL"), subject));
	usleep(500000);
	cr_assert_eq(count_delivered(mailtest_env("MAILDIR_CAROL"), subject), 1);
	outbox_free(&ob);
	send_transport_clear(&t);
}
