/*
 * The POP3 fetcher against a scripted hostile server (a forked listener
 * on 127.0.0.1, plain text by the account's own tls = off): malformed and
 * duplicate UIDLs, a drop in the middle of a RETR, a RETR that never
 * ends, lines over 1000 bytes, a mailbox in use. Each gives a clear error
 * or the right handling, and leaves the Maildir and the UIDL state
 * consistent: no partial file in new/ or tmp/, nothing recorded that is
 * not delivered.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/pop3/pop3.h"
#include "config/config.h"
#include "core/error.h"

/* What the scripted server does wrong. */
enum srv_mode {
	SRV_GOOD,
	SRV_BAD_UIDL,		/* a UIDL with a space and a control byte */
	SRV_DUP_UIDL,		/* messages 2 and 3 share a UIDL */
	SRV_DROP_RETR,		/* closes in the middle of RETR 2 */
	SRV_NO_END,		/* RETR 2 never sends its "." line */
	SRV_LONG_LINE,		/* a LIST line of 2000 bytes */
	SRV_IN_USE,		/* -ERR [IN-USE] at PASS */
	SRV_LYING_SIZE,		/* LIST says 10 bytes; the message is larger */
};

/* Three messages as they go on the wire (dot-stuffed, CRLF). */
static const char *const srv_msgs[] = {
	"From: a@example.org\r\nSubject: one\r\n\r\n..leading dot\r\n"
	    ".. \r\n..\r\nbody one\r\n",
	"From: a@example.org\r\nSubject: two\r\n\r\nbody two\r\n"
	    "more of two\r\n",
	"From: a@example.org\r\nSubject: three\r\n\r\nbody three\r\n",
};
/* The same as delivered: LF endings, stuffing undone. */
static const char *const local_msgs[] = {
	"From: a@example.org\nSubject: one\n\n.leading dot\n. \n.\n"
	    "body one\n",
	"From: a@example.org\nSubject: two\n\nbody two\nmore of two\n",
	"From: a@example.org\nSubject: three\n\nbody three\n",
};
#define NMSGS	3

static char	 tdir[64], maildir[128], url[128];
static pid_t	 srv_pid = -1;

/* Writes all of s to the client. */
static void
srv_write(int fd, const char *s)
{
	size_t	len = strlen(s);
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, s, len)) <= 0)
			_exit(0);
		s += w;
		len -= (size_t)w;
	}
}

/* One POP3 session, as the mode says. */
static void
srv_session(int fd, enum srv_mode mode)
{
	FILE	*in = fdopen(dup(fd), "r");
	char	 line[1024], buf[4096];
	int	 i, n;

	srv_write(fd, "+OK scripted\r\n");
	while (fgets(line, sizeof line, in) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "CAPA") == 0)
			srv_write(fd, "+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n");
		else if (strncmp(line, "USER ", 5) == 0)
			srv_write(fd, "+OK\r\n");
		else if (strncmp(line, "PASS ", 5) == 0) {
			if (mode == SRV_IN_USE) {
				srv_write(fd, "-ERR [IN-USE] Mailbox is locked "
				    "by another POP3 session\r\n");
				continue;
			}
			srv_write(fd, "+OK logged in\r\n");
		} else if (strcmp(line, "LIST") == 0) {
			srv_write(fd, "+OK\r\n");
			for (i = 0; i < NMSGS; i++) {
				snprintf(buf, sizeof buf, "%d %zu\r\n", i + 1,
				    mode == SRV_LYING_SIZE ? 10 :
				    strlen(srv_msgs[i]));
				srv_write(fd, buf);
			}
			if (mode == SRV_LONG_LINE) {
				memset(buf, '7', 2000);
				strcpy(buf + 2000, "\r\n");
				srv_write(fd, "4 ");
				srv_write(fd, buf);
			}
			srv_write(fd, ".\r\n");
		} else if (strcmp(line, "UIDL") == 0) {
			srv_write(fd, "+OK\r\n1 uid-one\r\n");
			if (mode == SRV_BAD_UIDL)
				srv_write(fd, "2 uid two\x01\r\n");
			else
				srv_write(fd, "2 uid-two\r\n");
			srv_write(fd, mode == SRV_DUP_UIDL ? "3 uid-two\r\n" :
			    "3 uid-three\r\n");
			srv_write(fd, ".\r\n");
		} else if (sscanf(line, "RETR %d", &n) == 1 && n >= 1 &&
		    n <= NMSGS) {
			srv_write(fd, "+OK\r\n");
			if (n == 2 && mode == SRV_DROP_RETR) {
				srv_write(fd, "From: a@example.org\r\nSubj");
				_exit(0);
			}
			srv_write(fd, srv_msgs[n - 1]);
			if (n == 2 && mode == SRV_NO_END) {
				sleep(30);
				_exit(0);
			}
			srv_write(fd, ".\r\n");
		} else if (strncmp(line, "DELE ", 5) == 0)
			srv_write(fd, "+OK\r\n");
		else if (strcmp(line, "QUIT") == 0) {
			srv_write(fd, "+OK bye\r\n");
			break;
		} else
			srv_write(fd, "-ERR unknown\r\n");
	}
	fclose(in);
}

/* Starts the scripted server; it serves sessions until killed. */
static void
srv_start(enum srv_mode mode)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			lfd, fd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(lfd, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, sizeof url, "pop3://u@127.0.0.1:%d",
	    ntohs(sin.sin_port));
	if ((srv_pid = fork()) == 0) {
		setpgid(0, 0);	/* its sessions die with it */
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				_exit(1);
			if (fork() == 0) {
				srv_session(fd, mode);
				_exit(0);
			}
			close(fd);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
	}
	cr_assert_gt(srv_pid, 0);
	setpgid(srv_pid, srv_pid);
	close(lfd);
}

static void
setup(void)
{
	char	p[256];

	snprintf(tdir, sizeof tdir, "/tmp/facteur-pop3-u.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	snprintf(maildir, sizeof maildir, "%s/Mail", tdir);
	cr_assert_eq(mkdir(maildir, 0700), 0);
	snprintf(p, sizeof p, "%s/data", tdir);
	setenv("XDG_DATA_HOME", p, 1);
	signal(SIGPIPE, SIG_IGN);
}

static void
teardown(void)
{
	char	cmd[128];

	if (srv_pid > 0) {
		kill(-srv_pid, SIGKILL);
		kill(srv_pid, SIGKILL);
		waitpid(srv_pid, NULL, 0);
		srv_pid = -1;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tdir);
	system(cmd);
}

TestSuite(pop3_hostile, .init = setup, .fini = teardown, .timeout = 30);

/* The account of a config block "pop3 URL, tls off, maildir". */
static struct pop3_account *
account(const char *keep)
{
	struct config_account	 ca;
	struct pop3_account	*pa;
	struct error		 err;

	memset(&ca, 0, sizeof ca);
	ca.name = (char *)"hostile";
	ca.pop3 = url;
	ca.tls = (char *)"off";
	ca.maildir = maildir;
	ca.keep_on_server = (char *)keep;
	ca.file = (char *)"test";
	ca.line = 1;
	cr_assert_eq(pop3_account_new(&ca, &pa, &err), 0, "%s", err.msg);
	pa->timeout_ms = 1500;		/* each network wait */
	return (pa);
}

/* Runs one fetch (no index: the Maildir and the state are checked). */
static int
fetch(struct pop3_account *pa, struct pop3_stats *st, struct error *err)
{
	struct pop3_fetch_params	fp;

	memset(&fp, 0, sizeof fp);
	fp.password = "pw";
	fp.cancel_fd = -1;
	return (pop3_fetch(pa, &fp, st, err));
}

/* Files in the Maildir's sub (new, cur, tmp). */
static int
count(const char *sub)
{
	char		 p[256];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(p, sizeof p, "%s/%s", maildir, sub);
	if ((d = opendir(p)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return (n);
}

/* The UIDL state file's text ("" when there is none). */
static char *
state_text(const struct pop3_account *pa)
{
	static char	 buf[4096];
	FILE		*f;
	size_t		 n;

	buf[0] = '\0';
	if ((f = fopen(pa->state_path, "r")) == NULL)
		return (buf);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/* How many files in new/ hold exactly want. */
static int
delivered(const char *want)
{
	char		 p[512], buf[4096];
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	size_t		 n;
	int		 found = 0;

	snprintf(p, sizeof p, "%s/new", maildir);
	if ((d = opendir(p)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/new/%s", maildir, de->d_name);
		cr_assert_not_null(f = fopen(p, "r"));
		n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
		if (strcmp(buf, want) == 0)
			found++;
	}
	closedir(d);
	return (found);
}

/* Nothing half-done: tmp/ empty, no state, nothing in new/. */
static void
assert_untouched(const struct pop3_account *pa)
{
	cr_expect_eq(count("new"), 0, "a file was delivered");
	cr_expect_eq(count("tmp"), 0, "a partial file stayed in tmp/");
	cr_expect_str_empty(state_text(pa), "state recorded: %s",
	    state_text(pa));
}

Test(pop3_hostile, a_well_behaved_server_delivers_every_message_once)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;
	int			 i;

	srv_start(SRV_GOOD);
	pa = account("no");
	cr_assert_eq(fetch(pa, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, NMSGS);
	cr_expect_eq(st.deleted, NMSGS);
	for (i = 0; i < NMSGS; i++)
		cr_expect_eq(delivered(local_msgs[i]), 1, "message %d", i + 1);
	cr_expect(strstr(state_text(pa), "uid-three") != NULL);
	cr_assert_eq(fetch(pa, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 0, "fetched again");
	cr_expect_eq(count("new"), NMSGS);
	pop3_account_free(&pa);
}

Test(pop3_hostile, malformed_uidl_line_is_a_protocol_error)
{
	struct pop3_account	*pa;
	struct error		 err;

	srv_start(SRV_BAD_UIDL);
	pa = account(NULL);
	cr_assert_eq(fetch(pa, NULL, &err), -1);
	cr_expect_eq(err.kind, ERR_PROTO, "%s", err.msg);
	cr_expect(strstr(err.msg, "malformed UIDL line") != NULL, "%s",
	    err.msg);
	cr_expect(strchr(err.msg, '\x01') == NULL, "control byte shown");
	assert_untouched(pa);
	pop3_account_free(&pa);
}

Test(pop3_hostile, duplicate_uidls_are_left_on_the_server)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;

	srv_start(SRV_DUP_UIDL);
	pa = account("no");
	cr_assert_eq(fetch(pa, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 1);
	cr_expect_eq(st.deleted, 1, "a message sharing a UIDL was deleted");
	cr_expect_eq(delivered(local_msgs[0]), 1);
	cr_expect_eq(count("new"), 1);
	cr_expect(strstr(state_text(pa), "uid-two") == NULL);
	pop3_account_free(&pa);
}

Test(pop3_hostile, drop_mid_retr_keeps_what_arrived_and_no_partial_file)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;

	srv_start(SRV_DROP_RETR);
	pa = account("no");
	cr_assert_eq(fetch(pa, &st, &err), -1);
	cr_expect_eq(err.kind, ERR_NET, "%s", err.msg);
	cr_expect(strstr(err.msg, "connection lost") != NULL, "%s", err.msg);
	cr_expect_eq(count("new"), 1, "message 1 kept, nothing of 2");
	cr_expect_eq(delivered(local_msgs[0]), 1);
	cr_expect_eq(count("tmp"), 0, "a partial file stayed in tmp/");
	cr_expect(strstr(state_text(pa), "uid-one") != NULL,
	    "the delivered message was not recorded");
	cr_expect(strstr(state_text(pa), "uid-two") == NULL);
	cr_expect_eq(st.deleted, 0, "DELE without QUIT counted");
	pop3_account_free(&pa);
}

Test(pop3_hostile, retr_without_its_end_times_out_cleanly)
{
	struct pop3_account	*pa;
	struct error		 err;
	time_t			 t0 = time(NULL);

	srv_start(SRV_NO_END);
	pa = account(NULL);
	cr_assert_eq(fetch(pa, NULL, &err), -1);
	cr_expect_eq(err.kind, ERR_NET, "%s", err.msg);
	cr_expect_leq(time(NULL) - t0, 10, "not bounded by the timeout");
	cr_expect(delivered(local_msgs[1]) == 0, "an unfinished message "
	    "was delivered");
	cr_expect_eq(count("tmp"), 0, "a partial file stayed in tmp/");
	cr_expect(strstr(state_text(pa), "uid-two") == NULL);
	pop3_account_free(&pa);
}

Test(pop3_hostile, line_over_1000_bytes_is_a_clear_error)
{
	struct pop3_account	*pa;
	struct error		 err;

	srv_start(SRV_LONG_LINE);
	pa = account(NULL);
	cr_assert_eq(fetch(pa, NULL, &err), -1);
	cr_expect_eq(err.kind, ERR_PROTO, "%s", err.msg);
	cr_expect(strstr(err.msg, "longer than 1000 bytes") != NULL, "%s",
	    err.msg);
	assert_untouched(pa);
	pop3_account_free(&pa);
}

Test(pop3_hostile, mailbox_in_use_says_so_and_is_temporary)
{
	struct pop3_account	*pa;
	struct error		 err;

	srv_start(SRV_IN_USE);
	pa = account(NULL);
	cr_assert_eq(fetch(pa, NULL, &err), -1);
	cr_expect_eq(err.kind, ERR_REFUSED, "%s", err.msg);
	cr_expect(strstr(err.msg, "in use by another client") != NULL, "%s",
	    err.msg);
	cr_expect_eq(pop3_exit_status(err.kind), 75);
	assert_untouched(pa);
	pop3_account_free(&pa);
}

Test(pop3_hostile, a_lying_list_size_within_reason_is_tolerated)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;
	int			 i;

	srv_start(SRV_LYING_SIZE);
	pa = account(NULL);
	cr_assert_eq(fetch(pa, &st, &err), 0, "%s", err.msg);
	for (i = 0; i < NMSGS; i++)
		cr_expect_eq(delivered(local_msgs[i]), 1, "message %d", i + 1);
	pop3_account_free(&pa);
}

Test(pop3_hostile, unreachable_server_is_a_temporary_failure)
{
	struct pop3_account	*pa;
	struct error		 err;

	srv_start(SRV_GOOD);
	kill(srv_pid, SIGKILL);
	waitpid(srv_pid, NULL, 0);
	srv_pid = -1;
	pa = account(NULL);
	cr_assert_eq(fetch(pa, NULL, &err), -1);
	cr_expect_eq(err.kind, ERR_NET, "%s", err.msg);
	cr_expect_eq(pop3_exit_status(err.kind), 75);
	assert_untouched(pa);
	pop3_account_free(&pa);
}

Test(pop3_hostile, password_cmd_stderr_and_status_under_the_interface)
{
	struct pop3_account	*pa;
	struct error		 err;
	char			*pw;

	srv_start(SRV_GOOD);
	pa = account(NULL);
	pa->password_cmd = strdup("echo noise >&2; printf 'pw\\nrest\\n'");
	pw = pop3_password_run(pa, 1, -1, &err);
	cr_assert_not_null(pw, "%s", err.msg);
	cr_expect_str_eq(pw, "pw");
	pop3_secret_free(&pw);
	cr_expect_null(pw);
	free(pa->password_cmd);
	pa->password_cmd = strdup("exit 4");
	cr_expect_null(pop3_password_run(pa, 1, -1, &err));
	cr_expect_eq(err.kind, ERR_AUTH);
	cr_expect(strstr(err.msg, "exit status 4") != NULL, "%s", err.msg);
	pop3_account_free(&pa);
}
