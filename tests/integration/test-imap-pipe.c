/*
 * Pipelining in the IMAP backend (run by tests/integration/run-imap-pipe
 * against the private Dovecot of tests/servers): the background summary
 * load keeps several UID FETCH batches in flight and the flag changes go
 * out as STOREs written together, checked against the server through a
 * second connection; opening another folder or closing drops the load in
 * flight and nothing is lost; a scripted server hangs up with batches in
 * flight, and refuses STOREs (NO and BAD).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "tests/integration/imaptest.h"

/* --- fixtures ---------------------------------------------------------- */

/* Asks for folder (the UI opening it). */
static void
want(struct backend *be, const char *folder)
{
	struct view	*v = NULL;
	struct error	 err;
	char		*q = imap_folder_query(folder);

	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0, "%s", err.msg);
	imap_backend_ops.close_view(&v);
	free(q);
}

/* The most commands holding s the transcript shows written at once: a
   write of several lines is logged "NAME: C: first (+N lines)". */
static int
written_together(const char *s)
{
	char	*t = imaptest_transcript_copy(), *line, *save, *more;
	int	 n, best = 0;

	for (line = strtok_r(t, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((line = strstr(line, "C: ")) == NULL ||
		    strstr(line, s) == NULL)
			continue;
		n = 1;
		if ((more = strstr(line, " (+")) != NULL)
			n += atoi(more + 3);
		if (n > best)
			best = n;
	}
	free(t);
	if (getenv("PIPE_DUMP") != NULL) {
		t = imaptest_transcript_copy();
		fprintf(stderr, "%s", t);
		free(t);
	}
	return (best);
}

/* What the server holds for a folder, read by a second connection. */
struct peer_msg {
	uint32_t	 uid;
	int		 seen;
	int		 flagged;
	char		*subject;
};

static size_t
peer_dump(const char *folder, struct peer_msg **out)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_msg_att_item	*item;
	struct mailimap_flag_fetch	*ff;
	struct peer_msg			*v;
	clist				*res = NULL;
	clistiter			*it, *jt, *kt;
	mailimap			*s = imaptest_peer();
	size_t				 n = 0;

	cr_assert_eq(mailimap_examine(s, folder), MAILIMAP_NO_ERROR);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_envelope());
	set = mailimap_set_new_interval(1, 0);
	cr_assert_eq(mailimap_uid_fetch(s, set, ft, &res), MAILIMAP_NO_ERROR);
	v = xcalloc(clist_count(res) + 1, sizeof *v);
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);

		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
				if (item->att_data.att_dyn->att_list == NULL)
					continue;
				for (kt = clist_begin(item->att_data.att_dyn->
				    att_list); kt != NULL; kt = clist_next(kt)) {
					ff = clist_content(kt);
					if (ff->fl_type !=
					    MAILIMAP_FLAG_FETCH_OTHER)
						continue;
					if (ff->fl_flag->fl_type ==
					    MAILIMAP_FLAG_SEEN)
						v[n].seen = 1;
					if (ff->fl_flag->fl_type ==
					    MAILIMAP_FLAG_FLAGGED)
						v[n].flagged = 1;
				}
				continue;
			}
			if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_UID)
				v[n].uid = item->att_data.att_static->
				    att_data.att_uid;
			else if (item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_ENVELOPE)
				v[n].subject = xstrdup(item->att_data.
				    att_static->att_data.att_env->env_subject);
		}
		n++;
	}
	mailimap_fetch_list_free(res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	mailimap_logout(s);
	mailimap_free(s);
	*out = v;
	return (n);
}

static void
peer_free(struct peer_msg *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i].subject);
	free(v);
}

/* Checks the backend's folder against the server's: the same messages,
   each once, with its subject and read state. */
static void
same_as_server(struct backend *be, const char *folder, size_t expect)
{
	struct imap_folder	*f;
	struct imap_msg		*m;
	struct peer_msg		*v;
	size_t			 i, n = peer_dump(folder, &v);

	cr_assert_eq(n, expect, "the server has %zu", n);
	pthread_mutex_lock(&be->data_lock);
	cr_assert_not_null(f = imap_folder_find(be, folder));
	cr_assert_eq(f->nmsgs, n, "%zu messages, the server %zu", f->nmsgs,
	    n);
	cr_assert_eq(f->norder, n, "%zu rows, the server %zu", f->norder, n);
	for (i = 0; i < f->nmsgs; i++) {
		if (i > 0)
			cr_assert_lt(f->msgs[i - 1].uid, f->msgs[i].uid,
			    "each message once");
	}
	for (i = 0; i < n; i++) {
		cr_assert_not_null(m = imap_msg_find(f, v[i].uid), "uid %u",
		    v[i].uid);
		cr_assert(m->have, "uid %u has its summary", v[i].uid);
		cr_assert_str_eq(m->subject, v[i].subject, "uid %u",
		    v[i].uid);
		cr_assert_eq((m->flags & MSG_UNREAD) == 0, v[i].seen,
		    "uid %u read state", v[i].uid);
		cr_assert_eq((m->flags & MSG_FLAGGED) != 0, v[i].flagged,
		    "uid %u flagged", v[i].uid);
	}
	pthread_mutex_unlock(&be->data_lock);
	peer_free(v, n);
}

/* The ids of the first n rows of folder, newest first. */
static char **
row_ids(struct backend *be, const char *folder, size_t n)
{
	struct view		*v = NULL;
	struct summary_batch	 b;
	struct error		 err;
	char			*q = imap_folder_query(folder), **ids;
	size_t			 i;

	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0, "%s", err.msg);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, n, &b, &err), (long)n);
	ids = xcalloc(n + 1, sizeof *ids);
	for (i = 0; i < n; i++)
		ids[i] = xstrdup(b.v[i].id);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	free(q);
	return (ids);
}

/* Whether uid is one of ids'. */
static int
ids_have(char **ids, uint32_t uid)
{
	uint32_t	 uv, u;
	char		*folder;
	size_t		 i;
	int		 found = 0;

	for (i = 0; ids[i] != NULL && !found; i++) {
		cr_assert_eq(imap_id_parse(ids[i], &uv, &u, &folder), 0);
		free(folder);
		found = u == uid;
	}
	return (found);
}

static void
ids_free(char **ids)
{
	size_t	i;

	for (i = 0; ids[i] != NULL; i++)
		free(ids[i]);
	free(ids);
}

/* Waits until the folder has n messages with a summary or more. */
static int
some_in(struct backend *be, const void *arg)
{
	struct imap_stats	st;

	imap_get_stats(be, &st);
	return (st.fetch_responses >= *(const unsigned long *)arg);
}

static void
pipe_setup(void)
{
	imaptest_setup("test-imap-pipe");
}

TestSuite(pipe, .init = pipe_setup, .fini = imaptest_teardown,
    .timeout = 60);

/* --- against Dovecot --------------------------------------------------- */

Test(pipe, a_folder_loads_with_batches_in_flight_complete_and_right)
{
	struct backend	*be;

	imaptest_deliver("Pipe", 1200, "pipe unread", 0);
	imaptest_deliver("Pipe", 900, "pipe read", 1);
	imaptest_peer_flag("Pipe", 1500);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Pipe");
	cr_assert(imaptest_wait(be, imaptest_loaded, "Pipe", 15000));
	cr_assert(imaptest_wait(be, imaptest_filled, "Pipe", 30000),
	    "every summary came");
	cr_assert_geq(written_together("UID FETCH"), 2, "several UID FETCH "
	    "sent before the first completion");
	same_as_server(be, "Pipe", 2100);
	imap_backend_ops.close(&be);
}

Test(pipe, flag_changes_go_out_together_and_reach_the_server)
{
	struct backend	*be;
	struct peer_msg	*v;
	struct error	 err;
	char		**ids;
	size_t		 i, n;

	imaptest_deliver("Marks", 60, "mark", 0);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Marks");
	cr_assert(imaptest_wait(be, imaptest_filled, "Marks", 15000));
	ids = row_ids(be, "Marks", 50);
	cr_assert_eq(imap_backend_ops.set_flags(be, (const char *const *)ids,
	    50, MSG_FLAGGED, MSG_UNREAD, &err), 0, "%s", err.msg);
	cr_assert_geq(written_together("UID STORE"), 50, "the 50 STOREs "
	    "written together (%d)", written_together("UID STORE"));
	n = peer_dump("Marks", &v);
	cr_assert_eq(n, 60);
	for (i = 0; i < n; i++) {
		cr_assert_eq(v[i].flagged, ids_have(ids, v[i].uid), "uid %u",
		    v[i].uid);
		cr_assert_eq(v[i].seen, ids_have(ids, v[i].uid), "uid %u",
		    v[i].uid);
	}
	peer_free(v, n);
	same_as_server(be, "Marks", 60);
	ids_free(ids);
	imap_backend_ops.close(&be);
}

Test(pipe, the_offline_journal_goes_out_as_stores_in_flight)
{
	struct backend	*be;
	struct peer_msg	*v;
	char		**ids, *journal;
	size_t		 i, n;
	FILE		*f;
	int		 done = 0;

	imaptest_deliver("Journal", 30, "journal", 0);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Journal");
	cr_assert(imaptest_wait(be, imaptest_filled, "Journal", 15000));
	ids = row_ids(be, "Journal", 20);
	imap_backend_ops.close(&be);

	/* What a run that could not reach the server leaves behind. */
	xasprintf(&journal, "%s/test/pending", imaptest_cache_dir);
	cr_assert_not_null(f = fopen(journal, "w"));
	for (i = 0; i < 20; i++)
		fprintf(f, "%u %u %s\n", MSG_FLAGGED, 0u, ids[i]);
	fclose(f);

	be = imaptest_open(imaptest_url, "bob", "bobpw");
	for (i = 0; i < 100 && !done; i++) {
		done = imap_queue_count(be) == 0;
		if (!done)
			usleep(50 * 1000);
	}
	cr_assert(done, "the journal was sent");
	cr_assert_eq(access(journal, F_OK), -1, "and removed");
	cr_assert_geq(written_together("UID STORE"), 20, "the 20 STOREs "
	    "written together (%d)", written_together("UID STORE"));
	n = peer_dump("Journal", &v);
	for (i = 0; i < n; i++)
		cr_assert_eq(v[i].flagged, ids_have(ids, v[i].uid), "uid %u",
		    v[i].uid);
	peer_free(v, n);
	ids_free(ids);
	free(journal);
	imap_backend_ops.close(&be);
}

Test(pipe, another_folder_opened_mid_load_then_the_first_reopens_complete)
{
	struct backend		*be;
	struct imap_stats	 st;
	unsigned long		 some = 400;

	imaptest_deliver("Huge", 8000, "huge", 0);
	imaptest_deliver("Tiny", 5, "tiny", 0);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Huge");
	cr_assert(imaptest_wait(be, some_in, &some, 20000));
	cr_assert_not(imaptest_filled(be, "Huge"), "still loading");
	want(be, "Tiny");
	cr_assert(imaptest_wait(be, imaptest_loaded, "Tiny", 15000));
	cr_assert(imaptest_wait(be, imaptest_filled, "Tiny", 15000));
	imap_get_stats(be, &st);
	cr_assert_lt(st.fetch_responses, 8000 + 5, "the load of Huge was "
	    "left (%lu rows in)", st.fetch_responses);
	same_as_server(be, "Tiny", 5);

	want(be, "Huge");
	cr_assert(imaptest_wait(be, imaptest_loaded, "Huge", 15000));
	cr_assert(imaptest_wait(be, imaptest_filled, "Huge", 30000));
	same_as_server(be, "Huge", 8000);
	imap_backend_ops.close(&be);
}

Test(pipe, closing_mid_load_then_opening_again_completes_the_folder)
{
	struct backend	*be;
	unsigned long	 some = 400;

	imaptest_deliver("Quit", 8000, "quit", 0);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Quit");
	cr_assert(imaptest_wait(be, some_in, &some, 20000));
	cr_assert_not(imaptest_filled(be, "Quit"), "still loading");
	imap_backend_ops.close(&be);

	/* What came before the close is in the cache; the rest now. */
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	want(be, "Quit");
	cr_assert(imaptest_wait(be, imaptest_loaded, "Quit", 15000));
	cr_assert(imaptest_wait(be, imaptest_filled, "Quit", 30000));
	same_as_server(be, "Quit", 8000);
	imap_backend_ops.close(&be);
}

/* --- a scripted server ------------------------------------------------- */

#define FAKE_N	600

/* Reads one line from fd; 0 at end of file. */
static int
fake_line(int fd, char *line, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return (0);
		line[n++] = c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return (1);
}

/* Whether more is waiting to be read on fd at once. */
static int
fake_more(int fd)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	return (poll(&pfd, 1, 200) == 1);
}

/* One summary FETCH response for uid (sequence number = uid). */
static void
fake_row(struct buf *b, uint32_t uid)
{
	buf_addf(b, "* %u FETCH (UID %u FLAGS (%s) INTERNALDATE "
	    "\"14-Nov-2023 10:00:00 +0000\" ENVELOPE (\"Tue, 14 Nov 2023 "
	    "10:00:00 +0000\" \"fake %u\" ((NIL NIL \"s\" \"example.org\")) "
	    "((NIL NIL \"s\" \"example.org\")) ((NIL NIL \"s\" "
	    "\"example.org\")) NIL NIL NIL NIL \"<m%u@example.org>\") "
	    "BODY[HEADER.FIELDS (References)] {2}\r\n\r\n)\r\n", uid, uid,
	    uid % 2 ? "\\Seen" : "", uid, uid);
}

/* Appends the rows of the UID set at s ("a:b,c ..."), at most max. */
static size_t
fake_rows(struct buf *b, const char *s, size_t max)
{
	unsigned long	lo, hi, u;
	size_t		n = 0;
	char		*end;

	for (;;) {
		lo = hi = strtoul(s, &end, 10);
		if (*end == ':')
			hi = strtoul(end + 1, &end, 10);
		if (hi == 0 || hi > FAKE_N)
			hi = FAKE_N;
		for (u = lo; u <= hi && n < max; u++, n++)
			fake_row(b, (uint32_t)u);
		if (*end != ',')
			return (n);
		s = end + 1;
	}
}

static void
fake_say(int fd, struct buf *b)
{
	if (b->len > 0 && write(fd, b->data, b->len) == -1)
		_exit(1);
	buf_reset(b);
}

/* Serves INBOX of FAKE_N messages: the first connection hangs up in the
   middle of the first of several summary batches in flight (and writes
   "pipelined" in note); later ones answer everything but refuse STORE on
   UID 5 (NO) and 6 (BAD), and write "stores" in note when STOREs came
   together. */
static void
fake_serve(int lfd, const void *arg)
{
	const char	*note = arg;
	struct buf	 b;
	char		 line[4096], tag[64], *p;
	int		 fd, conn = 0, stores = 0;
	uint32_t	 u;
	FILE		*f;

	buf_init(&b);
	while ((fd = accept(lfd, NULL, NULL)) != -1) {
		conn++;
		buf_adds(&b, "* OK [CAPABILITY IMAP4rev1] fake\r\n");
		fake_say(fd, &b);
		while (fake_line(fd, line, sizeof line)) {
			if (sscanf(line, "%63s", tag) != 1)
				break;
			if (strstr(line, " SELECT ") != NULL ||
			    strstr(line, " EXAMINE ") != NULL)
				buf_addf(&b, "* %d EXISTS\r\n* OK [UIDVALIDITY "
				    "7] v\r\n* OK [UIDNEXT %d] n\r\n%s OK "
				    "[READ-WRITE] done\r\n", FAKE_N, FAKE_N + 1,
				    tag);
			else if (strstr(line, " UID SEARCH") != NULL) {
				buf_adds(&b, "* SEARCH");
				for (u = 1; u <= FAKE_N; u++)
					buf_addf(&b, " %u", u);
				buf_addf(&b, "\r\n%s OK done\r\n", tag);
			} else if (strstr(line, "ENVELOPE") != NULL &&
			    (p = strstr(line, "FETCH ")) != NULL) {
				if (conn == 1 && strstr(line, "UID FETCH") !=
				    NULL && fake_more(fd)) {
					/* Hang up in the middle of it. */
					fake_rows(&b, p + 6, 100);
					fake_say(fd, &b);
					if ((f = fopen(note, "a")) != NULL) {
						fputs("pipelined\n", f);
						fclose(f);
					}
					break;
				}
				fake_rows(&b, p + 6, FAKE_N);
				buf_addf(&b, "%s OK done\r\n", tag);
			} else if ((p = strstr(line, "FETCH ")) != NULL) {
				for (u = 1; u <= FAKE_N; u++)
					buf_addf(&b, "* %u FETCH (UID %u FLAGS "
					    "(%s))\r\n", u, u, u % 2 ?
					    "\\Seen" : "");
				buf_addf(&b, "%s OK done\r\n", tag);
			} else if (strstr(line, " UID STORE ") != NULL) {
				if (stores++ == 0 && fake_more(fd) &&
				    (f = fopen(note, "a")) != NULL) {
					fputs("stores\n", f);
					fclose(f);
				}
				if (strstr(line, " UID STORE 5 ") != NULL)
					buf_addf(&b, "%s NO [CANNOT] not this "
					    "one\r\n", tag);
				else if (strstr(line, " UID STORE 6 ") != NULL)
					buf_addf(&b, "%s BAD nor this one\r\n",
					    tag);
				else
					buf_addf(&b, "%s OK done\r\n", tag);
			} else if (strstr(line, " CAPABILITY") != NULL)
				buf_addf(&b, "* CAPABILITY IMAP4rev1\r\n%s OK "
				    "done\r\n", tag);
			else if (strstr(line, " STATUS ") != NULL)
				buf_addf(&b, "* STATUS INBOX (MESSAGES %d "
				    "UNSEEN %d)\r\n%s OK done\r\n", FAKE_N,
				    FAKE_N / 2, tag);
			else if (strstr(line, " LIST ") != NULL)
				buf_addf(&b, "* LIST () \"/\" INBOX\r\n%s OK "
				    "done\r\n", tag);
			else if (strstr(line, " LOGOUT") != NULL) {
				buf_addf(&b, "* BYE\r\n%s OK done\r\n", tag);
				fake_say(fd, &b);
				break;
			} else
				buf_addf(&b, "%s OK done\r\n", tag);
			fake_say(fd, &b);
		}
		buf_reset(&b);
		close(fd);
	}
	_exit(0);
}

/* Whether the scripted server noted s. */
static int
fake_noted(const char *note, const char *s)
{
	char	line[64];
	FILE	*f;
	int	 found = 0;

	if ((f = fopen(note, "r")) == NULL)
		return (0);
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strncmp(line, s, strlen(s)) == 0;
	fclose(f);
	return (found);
}

Test(pipe, a_hang_up_with_batches_in_flight_is_said_and_loses_nothing)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct imap_folder	*f;
	struct imap_msg		*m;
	struct imap_stats	 st;
	struct error		 err;
	unsigned long		 connects;
	char			*note, *u, *subject, status[400];
	const char		*ids[4];
	pid_t			 pid;
	int			 i, said = 0, filled = 0;

	xasprintf(&note, "%s/note", imaptest_dir);
	u = imaptest_scripted(fake_serve, note, &pid);
	p = imaptest_params(u, "bob", "bobpw");
	p.tls = "off";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	want(be, "INBOX");
	for (i = 0; i < 3000 && !(said && filled); i++) {
		if (imap_status(be, status, sizeof status) &&
		    strstr(status, "connection lost") != NULL)
			said = 1;
		filled = imaptest_filled(be, "INBOX");
		usleep(10 * 1000);
	}
	cr_assert(fake_noted(note, "pipelined"), "the server saw batches in "
	    "flight and hung up");
	cr_assert(said, "the lost connection was said");
	cr_assert(filled, "every summary came after reconnecting");
	pthread_mutex_lock(&be->data_lock);
	cr_assert_not_null(f = imap_folder_find(be, "INBOX"));
	cr_assert_eq(f->nmsgs, FAKE_N, "%zu messages", f->nmsgs);
	cr_assert_eq(f->norder, FAKE_N, "%zu rows", f->norder);
	for (i = 0; i < FAKE_N; i++) {
		cr_assert_eq(f->msgs[i].uid, (uint32_t)i + 1, "each once");
		m = &f->msgs[i];
		xasprintf(&subject, "fake %u", m->uid);
		cr_assert_str_eq(m->subject, subject);
		free(subject);
		cr_assert_eq((m->flags & MSG_UNREAD) != 0, m->uid % 2 == 0,
		    "uid %u", m->uid);
	}
	pthread_mutex_unlock(&be->data_lock);

	/* STOREs written together; the first refused is said, the others
	   are in, and the session stays in step. */
	ids[0] = "7.3.INBOX";
	ids[1] = "7.4.INBOX";
	ids[2] = "7.5.INBOX";
	ids[3] = "7.6.INBOX";
	cr_assert_eq(imap_backend_ops.set_flags(be, ids, 4, MSG_FLAGGED, 0,
	    &err), -1);
	cr_assert_not_null(strstr(err.msg, "not this one"), "%s", err.msg);
	cr_assert(fake_noted(note, "stores"), "the STOREs came together");
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_find(be, "INBOX");
	for (i = 3; i <= 6; i++)
		cr_assert_eq((imap_msg_find(f, i)->flags & MSG_FLAGGED) != 0,
		    i < 5, "uid %d", i);
	pthread_mutex_unlock(&be->data_lock);
	imap_get_stats(be, &st);
	connects = st.connects;
	cr_assert_eq(imap_backend_ops.set_flags(be, ids, 2, 0, MSG_FLAGGED,
	    &err), 0, "%s", err.msg);
	imap_get_stats(be, &st);
	cr_assert_eq(st.connects, connects, "no reconnecting after a BAD");
	pthread_mutex_lock(&be->data_lock);
	cr_assert_eq(imap_msg_find(f, 3)->flags & MSG_FLAGGED, 0);
	pthread_mutex_unlock(&be->data_lock);
	imap_backend_ops.close(&be);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(u);
	free(note);
}
