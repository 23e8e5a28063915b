/*
 * The POP3 fetcher against the real Dovecot of tests/servers (started by
 * tests/integration/run-pop3): messages put into bob's Maildir are
 * downloaded into a fresh local Maildir byte for byte, indexed with the
 * new-mail tags, fetched once only, and deleted on the server only as the
 * policy says; TLS failures and a wrong password deliver nothing; a fetch
 * killed at random points and re-run neither loses nor duplicates.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <notmuch.h>

#include "backend/backend.h"
#include "backend/fetcher.h"
#include "backend/local/local.h"
#include "backend/pop3/pop3.h"
#include "config/config.h"
#include "core/error.h"
#include "net/net.h"
#include "tests/integration/mailtest.h"

static char	 tdir[64];	/* local side: Maildir + state */
static char	 maildir[128];
static const char *srv_maildir = "MAILDIR_BOB";	/* the server's */
static const char *srv_user = "bob";

static void
run(const char *fmt, ...)
{
	char	cmd[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* Empties bob's server Maildir. */
static void
server_clear(void)
{
	run("rm -f '%s'/cur/* '%s'/new/* '%s'/tmp/*", mailtest_env(srv_maildir),
	    mailtest_env(srv_maildir), mailtest_env(srv_maildir));
}

/* Messages in bob's server Maildir. */
static int
server_count(void)
{
	char	cmd[512];
	FILE	*p;
	int	n = -1;

	snprintf(cmd, sizeof cmd, "ls '%s'/cur '%s'/new | grep -vc -e '^$' "
	    "-e ':$'", mailtest_env(srv_maildir), mailtest_env(srv_maildir));
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return (n);
}

/* Puts one message on the server, as the mail user owns it. */
static void
server_put(const char *name, const char *text, size_t len)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/new/%s", mailtest_env(srv_maildir), name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	cr_assert_eq(chown(path, (uid_t)atoi(mailtest_env("MAIL_UID")),
	    (gid_t)atoi(mailtest_env("MAIL_GID"))), 0);
}

/* A message numbered i with a Message-ID and some awkward lines. */
static char *
corpus_message(int i, size_t *len)
{
	char	*s;
	int	 n;

	n = asprintf(&s, "From: Alice <alice@example.org>\n"
	    "To: bob@localhost\nSubject: message %d\n"
	    "Message-ID: <m%d.%ld@test>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
	    "\n%s"
	    ".\n..two dots\n. space\nbody line %d\n%s", i, i, (long)getpid(),
	    i % 3 == 0 ? "caf\xc3\xa9 8bit \xe2\x82\xac\n" : "",
	    i, i % 2 == 0 ? "a lone CR\rin a line\n" : "end\n");
	cr_assert_gt(n, 0);
	*len = (size_t)n;
	return (s);
}

static void
setup(void)
{
	char	 p[256];

	server_clear();
	snprintf(tdir, sizeof tdir, "/tmp/facteur-pop3-t.XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	snprintf(maildir, sizeof maildir, "%s/Mail", tdir);
	cr_assert_eq(mkdir(maildir, 0700), 0);
	snprintf(p, sizeof p, "XDG_DATA_HOME=%s/data", tdir);
	setenv("XDG_DATA_HOME", p + 14, 1);
	setenv("NOTMUCH_CONFIG", "/dev/null", 1);
}

static void
teardown(void)
{
	run("rm -rf '%s'", tdir);
	server_clear();
}

TestSuite(pop3, .init = setup, .fini = teardown, .timeout = 60);

static struct pop3_account *account(const char *, const char *,
    const char *, const char *);
static int	fetch(struct pop3_account *, const char *,
    struct pop3_stats *, struct error *);

/* A POP3 account as a config block would give it. */
static struct pop3_account *
account(const char *scheme, const char *portkey, const char *keep,
    const char *tls)
{
	struct config_account	 ca;
	struct pop3_account	*pa;
	struct error		 err;
	char			 url[256];

	memset(&ca, 0, sizeof ca);
	snprintf(url, sizeof url, "%s://%s@%s:%s", scheme, srv_user,
	    mailtest_env("MAILTEST_HOST"), mailtest_env(portkey));
	ca.name = (char *)"bob";
	ca.pop3 = url;
	ca.maildir = maildir;
	ca.keep_on_server = (char *)keep;
	ca.tls = (char *)tls;
	ca.tls_ca_file = (char *)mailtest_env("CA_FILE");
	ca.file = (char *)"test";
	ca.line = 1;
	cr_assert_eq(pop3_account_new(&ca, &pa, &err), 0, "%s", err.msg);
	/* The certificate names localhost; we connect to 127.0.0.1. */
	return (pa);
}

/* Opens the local backend on the test Maildir. */
static struct backend *
local_open(void)
{
	struct backend_params	 bp;
	struct backend		*be;
	struct error		 err;

	memset(&bp, 0, sizeof bp);
	bp.name = "bob";
	bp.maildir = maildir;
	bp.nm_config = "";
	bp.exclude_tags = "";
	cr_assert_eq(local_backend_ops.open(&be, &bp, &err), 0, "%s",
	    err.msg);
	return (be);
}

static time_t	fake_now;
static time_t
fake_clock(void)
{
	return (fake_now);
}

/* Runs one fetch; returns its result and fills stats and err. */
static int
fetch(struct pop3_account *pa, const char *password, struct pop3_stats *st,
    struct error *err)
{
	struct pop3_fetch_params	 fp;
	struct backend			*be = local_open();
	int				 rv;

	memset(&fp, 0, sizeof fp);
	fp.password = password;
	fp.local = be;
	fp.tags = "+inbox +unread +bob";
	fp.cancel_fd = -1;
	fp.now = fake_now != 0 ? fake_clock : NULL;
	rv = pop3_fetch(pa, &fp, st, err);
	local_backend_ops.close(&be);
	return (rv);
}

/* Number of files in new/ and cur/ of the local Maildir. */
static int
local_count(void)
{
	const char	*sub[] = { "new", "cur" };
	char		 p[256];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0, i;

	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof p, "%s/%s", maildir, sub[i]);
		if ((d = opendir(p)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				n++;
		closedir(d);
	}
	return (n);
}

/* Messages matching query in the local index (a fresh reader). */
static unsigned
index_count(const char *query)
{
	notmuch_database_t	*db;
	notmuch_query_t		*q;
	unsigned		 n = 0;
	char			*msg = NULL;

	cr_assert_eq(notmuch_database_open_with_config(maildir,
	    NOTMUCH_DATABASE_MODE_READ_ONLY, "", NULL, &db, &msg),
	    NOTMUCH_STATUS_SUCCESS, "%s", msg ? msg : "");
	q = notmuch_query_create(db, query);
	cr_assert_eq(notmuch_query_count_messages(q, &n),
	    NOTMUCH_STATUS_SUCCESS);
	notmuch_query_destroy(q);
	notmuch_database_destroy(db);
	return (n);
}

/* Finds the local file whose Subject is "message i" and compares. */
static void
assert_delivered(int i)
{
	const char	*sub[] = { "new", "cur" };
	char		 p[512], want[64], *exp, buf[8192];
	size_t		 len, got;
	DIR		*d;
	struct dirent	*de;
	FILE		*f;
	int		 k, found = 0;

	exp = corpus_message(i, &len);
	snprintf(want, sizeof want, "Subject: message %d\n", i);
	for (k = 0; k < 2; k++) {
		snprintf(p, sizeof p, "%s/%s", maildir, sub[k]);
		cr_assert_not_null(d = opendir(p));
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "%s/%s/%s", maildir, sub[k],
			    de->d_name);
			cr_assert_not_null(f = fopen(p, "r"));
			got = fread(buf, 1, sizeof buf, f);
			fclose(f);
			if (memmem(buf, got, want, strlen(want)) == NULL)
				continue;
			found++;
			cr_assert_eq(got, len, "message %d: %zu bytes, "
			    "expected %zu", i, got, len);
			cr_assert(memcmp(buf, exp, len) == 0,
			    "message %d differs", i);
		}
		closedir(d);
	}
	cr_assert_eq(found, 1, "message %d found %d times", i, found);
	free(exp);
}

/*
 * Gives bob's new/ a modification time it never had: Dovecot rescans a
 * Maildir only when its mtime (in seconds) changed, and the tests change
 * it several times a second.
 */
static void
server_touch(void)
{
	static time_t	 bump;
	struct timespec	 ts[2];
	char		 p[512];

	bump++;
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) + 1000 + bump;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	snprintf(p, sizeof p, "%s/new", mailtest_env(srv_maildir));
	utimensat(AT_FDCWD, p, ts, 0);
}

/*
 * Each message file gets a name never used before in this run: Dovecot's
 * dovecot-uidlist remembers the names of expunged messages, and a file
 * that comes back under such a name is given its new UID only by the
 * next session's sync, so the session that first sees it lists nothing
 * (the "first test finds 0 messages" of earlier versions of this suite).
 */
static unsigned	put_seq;

static void
put_corpus(int from, int to)
{
	char	*m, name[64];
	size_t	 len;
	int	 i;

	for (i = from; i < to; i++) {
		m = corpus_message(i, &len);
		snprintf(name, sizeof name, "%d.M%dP%ldQ%u.test",
		    1700000000 + i, i, (long)getpid(), ++put_seq);
		server_put(name, m, len);
		free(m);
	}
	server_touch();
}

Test(pop3, plain_text_only_when_asked)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;

	server_clear();
	put_corpus(0, 2);
	pa = account("pop3", "PLAIN_POP3_PORT", NULL, NULL);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), -1);
	cr_expect_eq(err.kind, ERR_TLS, "%s", err.msg);
	pop3_account_free(&pa);
	pa = account("pop3", "PLAIN_POP3_PORT", NULL, "off");
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 2, "fetched %zu of %zu listed (server has "
	    "%d)", st.fetched, st.on_server, server_count());
	assert_delivered(1);
	pop3_account_free(&pa);
}

Test(pop3, pop3s_downloads_byte_for_byte_once_then_incrementally)
{
	struct pop3_account	*pa = account("pop3s", "POP3S_PORT", NULL,
				    NULL);
	struct pop3_stats	 st;
	struct error		 err;
	int			 i;

	put_corpus(0, 6);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 6);
	for (i = 0; i < 6; i++)
		assert_delivered(i);
	cr_expect_eq(index_count("tag:inbox and tag:unread and tag:bob"), 6);

	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 0, "second fetch downloaded %zu",
	    st.fetched);
	cr_expect_eq(local_count(), 6);

	put_corpus(6, 9);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 3);
	cr_expect_eq(local_count(), 9);
	cr_expect_eq(index_count("*"), 9);
	cr_expect_eq(server_count(), 9, "keep_on_server yes deleted mail");
	pop3_account_free(&pa);
}

Test(pop3, starttls_and_delete_policy_empties_the_server)
{
	struct pop3_account	*pa = account("pop3", "POP3_PORT", "no", NULL);
	struct pop3_stats	 st;
	struct error		 err;

	put_corpus(0, 4);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 4);
	cr_expect_eq(st.deleted, 4);
	cr_expect_eq(server_count(), 0);
	cr_expect_eq(local_count(), 4);
	assert_delivered(3);
	pop3_account_free(&pa);
}

Test(pop3, keep_days_deletes_only_after_the_delay)
{
	struct pop3_account	*pa = account("pop3s", "POP3S_PORT", "7d",
				    NULL);
	struct pop3_stats	 st;
	struct error		 err;

	fake_now = 1800000000;
	put_corpus(0, 3);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.deleted, 0);
	fake_now += 6 * 86400;
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(server_count(), 3, "deleted before 7 days");
	fake_now += 2 * 86400;
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.deleted, 3);
	cr_expect_eq(server_count(), 0);
	cr_expect_eq(local_count(), 3);
	fake_now = 0;
	pop3_account_free(&pa);
}

Test(pop3, wrong_password_is_an_auth_error_and_delivers_nothing)
{
	struct pop3_account	*pa = account("pop3s", "POP3S_PORT", "no",
				    NULL);
	struct pop3_stats	 st;
	struct error		 err;

	put_corpus(0, 2);
	cr_assert_eq(fetch(pa, "wrong", &st, &err), -1);
	cr_expect_eq(err.kind, ERR_AUTH, "%s", err.msg);
	cr_expect(strstr(err.msg, "password") != NULL, "%s", err.msg);
	cr_expect_eq(local_count(), 0);
	cr_expect_eq(server_count(), 2);
	pop3_account_free(&pa);
}

Test(pop3, untrusted_or_misnamed_certificate_sends_nothing)
{
	static const char *const ports[] = { "UNKNOWNCA_POP3S_PORT",
	    "BADNAME_POP3S_PORT", "EXPIRED_POP3_PORT" };
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;
	size_t			 i;

	put_corpus(0, 1);
	for (i = 0; i < 3; i++) {
		pa = account(i == 2 ? "pop3" : "pop3s", ports[i], NULL, NULL);
		cr_assert_eq(fetch(pa, "bobpw", &st, &err), -1);
		cr_expect_eq(err.kind, ERR_TLS, "%s: %s", ports[i], err.msg);
		pop3_account_free(&pa);
	}
	cr_expect_eq(local_count(), 0);
}

Test(pop3, apop_logs_in_only_with_the_right_password)
{
	struct pop3_account	*pa;
	struct pop3_stats	 st;
	struct error		 err;

	srv_user = "bob;auth=+APOP";
	pa = account("pop3s", "POP3S_PORT", NULL, NULL);
	srv_user = "bob";
	cr_assert(pa->apop);
	cr_assert_str_eq(pa->user, "bob");
	put_corpus(0, 2);
	cr_assert_eq(fetch(pa, "wrong", &st, &err), -1);
	cr_expect_eq(err.kind, ERR_AUTH, "%s", err.msg);
	cr_expect_eq(local_count(), 0);
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 2);
	assert_delivered(1);
	pop3_account_free(&pa);
}

/* Message-IDs of the local files are all distinct. */
static int
local_distinct(void)
{
	char	cmd[512];
	FILE	*p;
	int	n = -1;

	snprintf(cmd, sizeof cmd, "cat '%s'/new/* '%s'/cur/* 2>/dev/null | "
	    "grep '^Message-ID:' | sort -u | wc -l", maildir, maildir);
	p = popen(cmd, "r");
	fscanf(p, "%d", &n);
	pclose(p);
	return (n);
}

Test(pop3, killed_fetches_neither_lose_nor_duplicate, .timeout = 120)
{
	struct pop3_account	*pa = account("pop3s", "POP3S_PORT", "no",
				    NULL);
	struct pop3_stats	 st;
	struct error		 err;
	int			 run_i, status, n = 300;
	pid_t			 pid;

	put_corpus(0, n);
	srand((unsigned)getpid());
	for (run_i = 0; run_i < 12; run_i++) {
		if ((pid = fork()) == 0) {
			fetch(pa, "bobpw", &st, &err);
			_exit(0);
		}
		usleep((useconds_t)(50000 + rand() % 250000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	cr_assert_eq(fetch(pa, "bobpw", &st, &err), 0, "%s", err.msg);
	cr_expect_eq(local_count(), n, "%d files for %d messages",
	    local_count(), n);
	cr_expect_eq(local_distinct(), n);
	cr_expect_eq(index_count("*"), (unsigned)n);
	cr_expect_eq(index_count("tag:inbox and tag:unread"), (unsigned)n);
	cr_expect_eq(server_count(), 0);
	pop3_account_free(&pa);
	sleep(1);	/* the killed sessions' server processes wind down */
}

/* What the first "indexed" notice of a fetch saw, for the test below. */
static struct {
	volatile int	 indexed;	/* set by the writer thread */
	unsigned	 count;		/* messages a fresh reader saw */
	unsigned	 first;		/* of which message 0 (0 or 1) */
	size_t		 total;
	int		 waited;	/* progress held until indexed */
} early;

/* Writer thread: the first batch is indexed; a new reader looks. */
static void
early_indexed(void *arg)
{
	char	q[64];

	if (early.indexed)
		return;
	early.count = index_count("*");
	snprintf(q, sizeof q, "id:m0.%ld@test", (long)getpid());
	early.first = index_count(q);
	__atomic_store_n(&early.indexed, 1, __ATOMIC_SEQ_CST);
}

/* Download thread: holds the download (up to 20 s) after the first
   message arrived (reported at once) until the first batch was indexed,
   so that the test proves the order, not a race. */
static void
early_progress(void *arg, size_t done, size_t total, uint64_t bytes,
    double secs)
{
	int	i;

	early.total = total;
	if (done == 0 || done >= total || early.waited)
		return;
	early.waited = 1;
	for (i = 0; i < 2000 &&
	    !__atomic_load_n(&early.indexed, __ATOMIC_SEQ_CST); i++)
		usleep(10000);
}

Test(pop3, first_message_is_readable_while_the_download_runs)
{
	struct pop3_account		*pa = account("pop3s", "POP3S_PORT",
					    NULL, NULL);
	struct pop3_fetch_params	 fp;
	struct pop3_stats		 st;
	struct backend			*be = local_open();
	struct error			 err;

	put_corpus(0, 600);
	memset(&early, 0, sizeof early);
	memset(&fp, 0, sizeof fp);
	fp.password = "bobpw";
	fp.local = be;
	fp.tags = "+inbox +unread +bob";
	fp.cancel_fd = -1;
	fp.progress = early_progress;
	fp.indexed = early_indexed;
	cr_assert_eq(pop3_fetch(pa, &fp, &st, &err), 0, "%s", err.msg);
	local_backend_ops.close(&be);
	cr_assert_eq(st.fetched, 600);
	cr_assert(early.waited, "no progress while the download ran");
	cr_assert(early.indexed, "never indexed");
	/* Message 0, the oldest, was readable while the download ran. */
	cr_expect_eq(early.first, 1, "message 0 not in the first batch");
	cr_expect(early.count >= 1 && early.count < 600, "the first batch "
	    "held %u of 600 messages: indexed only after the download",
	    early.count);
	cr_expect_eq(index_count("*"), 600);
	pop3_account_free(&pa);
}

/*
 * The neutral interface the UI uses (backend/fetcher.h), end to end: an
 * untrusted server fails with ERR_TLS and its certificate, which
 * fetcher_trust pins (0600); the next fetch is accepted and delivers.
 */
Test(pop3, fetcher_interface_reports_pins_and_fetches)
{
	struct config_account	 ca;
	struct fetcher		*f;
	struct fetch_params	 fp;
	struct fetch_stats	 st;
	struct tls_peer		 peer;
	struct backend		*be;
	struct error		 err;
	struct stat		 sb;
	char			 url[256];

	put_corpus(0, 2);
	memset(&ca, 0, sizeof ca);
	snprintf(url, sizeof url, "pop3s://bob@%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("UNKNOWNCA_POP3S_PORT"));
	ca.name = (char *)"bob";
	ca.maildir = maildir;
	ca.file = (char *)"test";
	ca.line = 1;
	cr_assert_eq(fetcher_wants(&ca), 0);
	cr_assert_eq(fetcher_new(&ca, &f, &err), -1);
	cr_expect_eq(err.kind, ERR_CONFIG, "%s", err.msg);
	ca.pop3 = url;
	cr_assert_eq(fetcher_wants(&ca), 1);
	cr_assert_eq(fetcher_new(&ca, &f, &err), 0, "%s", err.msg);
	cr_expect_str_eq(fetcher_info(f)->user, "bob");
	cr_expect_eq(fetcher_info(f)->port, atoi(mailtest_env("UNKNOWNCA_POP3S_PORT")));
	cr_expect_not_null(strstr(fetcher_info(f)->server, "pop3s://"));

	be = local_open();
	memset(&fp, 0, sizeof fp);
	memset(&peer, 0, sizeof peer);
	fp.password = "bobpw";
	fp.local = be;
	fp.tags = "+inbox +unread +bob";
	fp.cancel_fd = -1;
	fp.peer = &peer;
	cr_assert_eq(fetcher_run(f, &fp, &st, &err), -1);
	cr_expect_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_expect_eq(fetcher_exit_status(err.kind), 77);
	cr_assert_neq(peer.fingerprint[0], '\0', "no certificate reported");
	cr_expect_eq(local_count(), 0);
	cr_assert_eq(fetcher_trust(f, &peer, &err), 0, "%s", err.msg);
	tls_peer_clear(&peer);
	cr_assert_eq(stat(fetcher_info(f)->pin_file, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600, "pin file mode %o",
	    (unsigned)(sb.st_mode & 0777));
	cr_assert_eq(fetcher_run(f, &fp, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.fetched, 2);
	cr_expect_eq(index_count("tag:inbox and tag:bob"), 2);
	local_backend_ops.close(&be);
	fetcher_free(&f);
	cr_expect_null(f);
}
