/*
 * Fixtures shared by the IMAP integration suites: see imaptest.h. Each
 * test gets a fresh directory for its pins and header cache; the servers
 * themselves are started once per suite by its run-* wrapper.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/xmalloc.h"
#include "net/net.h"
#include "tests/integration/imaptest.h"
#include "tests/integration/mailtest.h"

char		*imaptest_dir;
char		*imaptest_pin_file;
char		*imaptest_cache_dir;
char		*imaptest_url;
pthread_mutex_t	 imaptest_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t	 imaptest_cond = PTHREAD_COND_INITIALIZER;
int		 imaptest_notes;
struct buf	 imaptest_transcript;

static int	imaptest_inbox_fd = -1;

void
imaptest_inbox_lock(void)
{
	char	*path;

	/* Beside the servers' files: one lock per run of the suite. */
	xasprintf(&path, "%s.inbox-lock", mailtest_env("CA_FILE"));
	imaptest_inbox_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(imaptest_inbox_fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(flock(imaptest_inbox_fd, LOCK_EX), 0, "%s: %s", path,
	    strerror(errno));
	free(path);
}

/* The transcript sink: every protocol line, credentials dropped. */
static void
imaptest_line(void *arg, const char *line)
{
	pthread_mutex_lock(&imaptest_lock);
	buf_adds(&imaptest_transcript, line);
	buf_addc(&imaptest_transcript, '\n');
	pthread_mutex_unlock(&imaptest_lock);
}

int
imaptest_transcript_has(const char *s)
{
	int	found;

	pthread_mutex_lock(&imaptest_lock);
	found = strstr(buf_str(&imaptest_transcript), s) != NULL;
	pthread_mutex_unlock(&imaptest_lock);
	return (found);
}

char *
imaptest_transcript_copy(void)
{
	char	*t;

	pthread_mutex_lock(&imaptest_lock);
	t = xstrdup(buf_str(&imaptest_transcript));
	pthread_mutex_unlock(&imaptest_lock);
	return (t);
}

void
imaptest_setup(const char *name)
{
	xasprintf(&imaptest_dir, "/tmp/%s.XXXXXX", name);
	cr_assert_not_null(mkdtemp(imaptest_dir));
	xasprintf(&imaptest_pin_file, "%s/known_hosts", imaptest_dir);
	xasprintf(&imaptest_cache_dir, "%s/cache", imaptest_dir);
	xasprintf(&imaptest_url, "imaps://%s:%s",
	    mailtest_env("MAILTEST_HOST"), mailtest_env("IMAPS_PORT"));
	buf_init(&imaptest_transcript);
	imap_set_transcript(imaptest_line, NULL);
}

void
imaptest_teardown(void)
{
	char	*cmd;

	if (imaptest_inbox_fd != -1) {
		close(imaptest_inbox_fd);	/* the lock goes with it */
		imaptest_inbox_fd = -1;
	}

	imap_set_transcript(NULL, NULL);
	xasprintf(&cmd, "rm -rf '%s'", imaptest_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", imaptest_dir);
	free(cmd);
	free(imaptest_dir);
	free(imaptest_pin_file);
	free(imaptest_cache_dir);
	free(imaptest_url);
	imaptest_dir = imaptest_pin_file = imaptest_cache_dir = NULL;
	imaptest_url = NULL;
	buf_free(&imaptest_transcript);
}

void
imaptest_notify(void *arg, unsigned what)
{
	pthread_mutex_lock(&imaptest_lock);
	imaptest_notes++;
	pthread_cond_broadcast(&imaptest_cond);
	pthread_mutex_unlock(&imaptest_lock);
}

struct backend_params
imaptest_params(const char *u, const char *user, const char *password)
{
	struct backend_params	p;

	memset(&p, 0, sizeof p);
	p.name = "test";
	p.imap = u;
	p.user = user;
	p.password = password;
	p.tls_ca_file = mailtest_env("CA_FILE");
	p.pin_file = imaptest_pin_file;
	p.cache_dir = imaptest_cache_dir;
	p.notify = imaptest_notify;
	return (p);
}

struct backend *
imaptest_open(const char *u, const char *user, const char *password)
{
	struct backend_params	 p = imaptest_params(u, user, password);
	struct backend		*be = NULL;
	struct error		 err;

	error_clear(&err);
	if (imap_backend_ops.open(&be, &p, &err) != 0)
		cr_assert_fail("open: %s", err.msg);
	return (be);
}

int
imaptest_wait(struct backend *be, int (*cond)(struct backend *,
    const void *), const void *arg, int ms)
{
	struct timespec	ts;
	int		ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&imaptest_lock);
	while (!(ok = cond(be, arg))) {
		if (pthread_cond_timedwait(&imaptest_cond, &imaptest_lock,
		    &ts) != 0) {
			ok = cond(be, arg);
			break;
		}
	}
	pthread_mutex_unlock(&imaptest_lock);
	return (ok);
}

int
imaptest_loaded(struct backend *be, const void *arg)
{
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, arg)) != NULL && f->loaded &&
	    be->current != NULL && strcmp(be->current, arg) == 0;
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

int
imaptest_filled(struct backend *be, const void *arg)
{
	const char		*folder = arg;
	struct imap_folder	*f;
	size_t			 i, have = 0, n = 0;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) != NULL && f->loaded) {
		n = f->norder;
		for (i = 0; i < f->nmsgs; i++)
			have += f->msgs[i].have;
	}
	pthread_mutex_unlock(&be->data_lock);
	return (n > 0 && have == n);
}

mailimap *
imaptest_peer(void)
{
	struct tls_params	 tp;
	struct error		 err;
	mailimap		*s = mailimap_new(0, NULL);

	memset(&tp, 0, sizeof tp);
	tp.ca_file = mailtest_env("CA_FILE");
	tp.service = "imap";
	tp.timeout_ms = 10000;
	tp.cancel_fd = -1;
	if (net_imap_connect(s, mailtest_env("MAILTEST_HOST"),
	    atoi(mailtest_env("IMAPS_PORT")), NET_TLS_IMPLICIT, &tp,
	    &err) != 0)
		cr_assert_fail("peer: %s", err.msg);
	cr_assert_eq(mailimap_login(s, "bob", "bobpw"), MAILIMAP_NO_ERROR);
	return (s);
}

/* Another client adds flag to uid of folder. */
static void
imaptest_peer_add(const char *folder, uint32_t uid, struct mailimap_flag *flag)
{
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sf;
	struct mailimap_set		*set;
	mailimap			*s = imaptest_peer();

	cr_assert_eq(mailimap_select(s, folder), MAILIMAP_NO_ERROR);
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, flag);
	sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	set = mailimap_set_new_single(uid);
	cr_assert_eq(mailimap_uid_store(s, set, sf), MAILIMAP_NO_ERROR);
	mailimap_set_free(set);
	mailimap_store_att_flags_free(sf);
	mailimap_logout(s);
	mailimap_free(s);
}

void
imaptest_peer_flag(const char *folder, uint32_t uid)
{
	imaptest_peer_add(folder, uid, mailimap_flag_new_flagged());
}

void
imaptest_peer_seen(const char *folder, uint32_t uid)
{
	imaptest_peer_add(folder, uid, mailimap_flag_new_seen());
}

void
imaptest_deliver(const char *folder, int n, const char *subject, int seen)
{
	static int	 serial;
	char		*dir, *path, *sub;
	FILE		*f;
	int		 i, uid, gid;

	uid = atoi(mailtest_env("MAIL_UID"));
	gid = atoi(mailtest_env("MAIL_GID"));
	if (*folder == '\0')
		xasprintf(&dir, "%s", mailtest_env("MAILDIR_BOB"));
	else {
		xasprintf(&dir, "%s/.%s", mailtest_env("MAILDIR_BOB"), folder);
		mkdir(dir, 0700);
		if (chown(dir, uid, gid) != 0)
			cr_assert_fail("chown");
		for (i = 0; i < 3; i++) {
			xasprintf(&sub, "%s/%s", dir, i == 0 ? "cur" : i == 1 ?
			    "new" : "tmp");
			mkdir(sub, 0700);
			if (chown(sub, uid, gid) != 0)
				cr_assert_fail("chown");
			free(sub);
		}
	}
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/cur/%d.M%dP%d.test:2,%s", dir,
		    1700000000 + i, serial++, (int)getpid(), seen ? "S" : "");
		cr_assert_not_null(f = fopen(path, "w"));
		fprintf(f, "From: Sender %d <s%d@example.org>\r\n"
		    "To: bob@localhost\r\nSubject: %s %d\r\n"
		    "Date: Tue, 14 Nov 2023 %02d:%02d:%02d +0000\r\n"
		    "Message-ID: <m%d.%s@example.org>\r\n\r\nBody %d\r\n",
		    i, i, subject, i, (i / 3600) % 24, (i / 60) % 60, i % 60,
		    i, subject, i);
		fclose(f);
		if (chown(path, uid, gid) != 0)
			cr_assert_fail("chown");
		free(path);
	}
	free(dir);
}

char *
imaptest_scripted(void (*serve)(int, const void *), const void *arg,
    pid_t *pid)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			*u;
	int			 lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(lfd, 4), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	if ((*pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		serve(lfd, arg);
		_exit(0);
	}
	close(lfd);
	xasprintf(&u, "imap://127.0.0.1:%d", ntohs(sin.sin_port));
	return (u);
}

int
imaptest_folder(struct backend *be, const char *name, struct folder_info *out)
{
	struct folder_list	 fl;
	struct error		 err;
	size_t			 i;
	int			 found = 0;

	memset(out, 0, sizeof *out);
	if (imap_backend_ops.list_folders(be, &fl, &err) != 0)
		return (0);
	for (i = 0; i < fl.n && !found; i++) {
		if (strcmp(fl.v[i].name, name) == 0) {
			found = 1;
			out->total = fl.v[i].total;
			out->unread = fl.v[i].unread;
			out->flags = fl.v[i].flags;
		}
	}
	folder_list_free(&fl);
	return (found);
}
