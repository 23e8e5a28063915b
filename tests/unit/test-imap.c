/*
 * The IMAP backend's offline parts: server addresses, folder queries, the
 * header cache file (including one written by a newer release), the
 * literal guard fed whole and split at every byte, and threads computed
 * from References and In-Reply-To. No server is needed.
 */
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/xmalloc.h"

Test(imap_url, imaps_host_and_port)
{
	char	*host;
	int	 port, implicit;

	cr_assert_eq(imap_url_parse("imaps://mail.example.org:1993", &host,
	    &port, &implicit, NULL), 0);
	cr_assert_str_eq(host, "mail.example.org");
	cr_assert_eq(port, 1993);
	cr_assert_eq(implicit, 1);
	free(host);
}

Test(imap_url, imap_means_starttls_on_143_and_user_is_taken_apart)
{
	char	*host, *user;
	int	 port, implicit;

	cr_assert_eq(imap_url_parse("imap://bob@localhost", &host, &port,
	    &implicit, NULL), 0);
	cr_assert_str_eq(host, "localhost");
	cr_assert_eq(port, 143);
	cr_assert_eq(implicit, 0);
	cr_assert_str_eq(user = imap_url_user("imap://bob@localhost"), "bob");
	cr_assert_null(imap_url_user("imaps://localhost"));
	free(user);
	free(host);
}

Test(imap_url, bad_addresses_are_config_errors)
{
	struct error	 err;
	char		*host;
	int		 port, implicit;

	cr_assert_eq(imap_url_parse("pop3s://x", &host, &port, &implicit,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_eq(imap_url_parse("imaps://x:0", &host, &port, &implicit,
	    &err), -1);
	cr_assert_eq(imap_url_parse("imaps://x:99999", &host, &port,
	    &implicit, &err), -1);
	cr_assert_eq(imap_url_parse("imaps://", &host, &port, &implicit,
	    &err), -1);
}

Test(imap_query, folder_names_survive_quotes_and_the_limit_wrapper)
{
	char	*q = imap_folder_query("We \"said\" \\ hi"), *name, *w;

	name = imap_query_folder(q);
	cr_assert_str_eq(name, "We \"said\" \\ hi");
	free(name);
	xasprintf(&w, "(%s) and (tag:unread)", q);
	name = imap_query_folder(w);
	cr_assert_str_eq(name, "We \"said\" \\ hi");
	free(name);
	free(w);
	free(q);
	cr_assert_null(imap_query_folder("tag:inbox"));
}

/* --- a backend with no session ----------------------------------------- */

static char	 dir[] = "/tmp/test-imap-unit.XXXXXX";

static struct backend *
fake_backend(void)
{
	struct backend	*be = xcalloc(1, sizeof *be);

	pthread_mutex_init(&be->conn_lock, NULL);
	pthread_mutex_init(&be->data_lock, NULL);
	pthread_cond_init(&be->cond, NULL);
	be->name = xstrdup("unit");
	be->wake_fd = eventfd(0, EFD_NONBLOCK);
	be->cancel_fd = -1;
	return (be);
}

static void
add_msg(struct imap_folder *f, uint32_t uid, const char *subject,
    const char *msgid, const char *refs, int64_t date)
{
	struct imap_msg	*m = imap_msg_add(f, uid);

	m->have = 1;
	m->from = xstrdup("Someone");
	m->subject = xstrdup(subject);
	m->msgid = xstrdup(msgid);
	m->refs = xstrdup(refs);
	m->keywords = xstrdup("");
	m->date = date;
	m->flags = MSG_UNREAD;
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

Test(imap_cache, round_trip_keeps_order_fields_and_escapes,
    .init = setup, .fini = teardown)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f, *g;
	struct imap_msg		*m;
	struct stat		 sb;
	uint32_t		 order[] = { 9, 3, 5 };
	char			*path;

	be->cache_dir = xstrdup(dir);
	f = imap_folder_add(be, "INBOX");
	imap_folder_keep(f, order, 3);
	add_msg(f, 9, "tab\there\nnewline \\ back", "<9@x>", "", 900);
	add_msg(f, 3, "three", "<3@x>", "<9@x>", 300);
	f->uidvalidity = 77;
	f->modseq = 12345;
	cr_assert_eq(imap_cache_save(be, f), 0);
	xasprintf(&path, "%s/hdr-%s", dir, "494e424f58");
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	free(path);

	g = imap_folder_add(be, "Other");
	free(g->name);
	g->name = xstrdup("INBOX");	/* reads INBOX's file */
	cr_assert_eq(imap_cache_load(be, g), 0);
	cr_assert_eq(g->uidvalidity, 77);
	cr_assert_eq(g->modseq, 12345);
	cr_assert_eq(g->norder, 3);
	cr_assert_eq(g->order[0], 9);
	cr_assert_eq(g->order[2], 5);
	cr_assert_not_null(m = imap_msg_find(g, 9));
	cr_assert_str_eq(m->subject, "tab\there\nnewline \\ back");
	cr_assert_eq(m->date, 900);
	cr_assert_not_null(m = imap_msg_find(g, 5));
	cr_assert_not(m->have, "a message without summary stays to fetch");
	imap_backend_free(be);
}

Test(imap_cache, a_newer_release_cache_is_read_for_what_we_know,
    .init = setup, .fini = teardown)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f;
	struct imap_msg		*m;
	char			*path;
	FILE			*fp;

	be->cache_dir = xstrdup(dir);
	xasprintf(&path, "%s/hdr-%s", dir, "494e424f58");
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "facteur-imap-cache\t7\tv=5\tm=99\tz=future\n"
	    "u=4\tf=2\tX=new field\td=40\tS=four\tF=Ann\n"
	    "u=2\tQ=something\n");
	fclose(fp);
	free(path);
	f = imap_folder_add(be, "INBOX");
	cr_assert_eq(imap_cache_load(be, f), 0);
	cr_assert_eq(f->uidvalidity, 5);
	cr_assert_eq(f->norder, 2);
	cr_assert_not_null(m = imap_msg_find(f, 4));
	cr_assert_str_eq(m->subject, "four");
	cr_assert_str_eq(m->from, "Ann");
	cr_assert_eq(m->flags, MSG_FLAGGED);
	imap_backend_free(be);
}

Test(imap_cache, garbage_is_not_a_cache, .init = setup, .fini = teardown)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f;
	char			*path;
	FILE			*fp;

	be->cache_dir = xstrdup(dir);
	xasprintf(&path, "%s/hdr-%s", dir, "494e424f58");
	cr_assert_not_null(fp = fopen(path, "w"));
	fprintf(fp, "something else\nu=1\n");
	fclose(fp);
	free(path);
	f = imap_folder_add(be, "INBOX");
	cr_assert_eq(imap_cache_load(be, f), -1);
	cr_assert_eq(f->norder, 0);
	imap_backend_free(be);
}

/* Feeds text to the guard in pieces of at most step bytes. */
static uint64_t
guard(const char *text, size_t step)
{
	struct backend	*be = fake_backend();
	char		*copy = xstrdup(text);
	size_t		 len = strlen(copy), i, n;
	uint64_t	 refused;

	for (i = 0; i < len && be->lit_refused == 0; i += n) {
		n = len - i < step ? len - i : step;
		imap_guard(be, copy + i, n);
	}
	refused = be->lit_refused;
	free(copy);
	imap_backend_free(be);
	return (refused);
}

Test(imap_guard, a_1gb_literal_is_refused_however_the_bytes_arrive)
{
	const char	*text = "* 1 FETCH (UID 1 BODY[] {1073741824}\r\n";
	size_t		 step;

	for (step = 1; step <= strlen(text); step++)
		cr_assert_eq(guard(text, step), 1073741824, "step %zu", step);
}

Test(imap_guard, literal_payloads_are_skipped_even_when_they_look_huge)
{
	const char	*text = "* 1 FETCH (BODY[] {24}\r\n{9999999999999}\r\nabcdef"
			    " UID 3)\r\n* 2 FETCH (BODY[] {3}\r\nabc)\r\n";
	size_t		 step;

	for (step = 1; step <= strlen(text); step++)
		cr_assert_eq(guard(text, step), 0, "step %zu", step);
	cr_assert_gt(guard("{12345678901234567890123}\r\n", 3), 0,
	    "a number too long to hold is refused too");
}

Test(imap_threads, replies_group_under_their_root_in_thread_order)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	uint32_t		 order[] = { 5, 4, 3, 2, 1 };
	char			*q = imap_folder_query("INBOX");

	f = imap_folder_add(be, "INBOX");
	imap_folder_keep(f, order, 5);
	f->uidvalidity = 1;
	add_msg(f, 1, "root", "<1@x>", "", 100);
	add_msg(f, 2, "other", "<2@x>", "", 200);
	add_msg(f, 3, "re: root", "<3@x>", "<1@x>", 300);
	add_msg(f, 4, "re: re: root", "<4@x>", "<1@x> <3@x>", 400);
	add_msg(f, 5, "re: root again", "<5@x>", "<1@x>", 500);
	be->current = xstrdup("INBOX");

	cr_assert_eq(imap_open_view(be, q, VIEW_NEWEST_FIRST, VIEW_THREADS,
	    &v, &err), 0);
	cr_assert_eq(imap_view_count(v), 2, "two threads");
	summary_batch_init(&b);
	cr_assert_eq(imap_view_next(v, 10, &b, &err), 2);
	cr_assert_str_eq(b.v[0].subject, "root", "newest thread first");
	cr_assert_eq(b.v[0].thread_total, 4);
	cr_assert_eq(b.v[1].thread_total, 1);
	cr_assert_eq(imap_thread_messages(be, b.v[0].thread, q, &b, &err), 0);
	cr_assert_eq(b.n, 6);
	cr_assert_str_eq(b.v[2].subject, "root");
	cr_assert_eq(b.v[2].depth, 0);
	cr_assert_str_eq(b.v[3].subject, "re: root");
	cr_assert_eq(b.v[3].depth, 1);
	cr_assert_str_eq(b.v[4].subject, "re: re: root");
	cr_assert_eq(b.v[4].depth, 2);
	cr_assert_str_eq(b.v[5].subject, "re: root again");
	cr_assert_eq(b.v[5].depth, 1);
	summary_batch_free(&b);
	imap_close_view(&v);
	free(q);
	imap_backend_free(be);
}

Test(imap_threads, a_reference_loop_does_not_hang)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f;
	struct view		*v;
	struct error		 err;
	uint32_t		 order[] = { 2, 1 };
	char			*q = imap_folder_query("INBOX");

	f = imap_folder_add(be, "INBOX");
	imap_folder_keep(f, order, 2);
	add_msg(f, 1, "a", "<a@x>", "<b@x>", 100);
	add_msg(f, 2, "b", "<b@x>", "<a@x>", 200);
	be->current = xstrdup("INBOX");
	cr_assert_eq(imap_open_view(be, q, VIEW_NEWEST_FIRST, VIEW_THREADS,
	    &v, &err), 0);
	cr_assert_geq(imap_view_count(v), 1);
	imap_close_view(&v);
	free(q);
	imap_backend_free(be);
}

Test(imap_view, unfetched_rows_are_placeholders_and_limits_filter)
{
	struct backend		*be = fake_backend();
	struct imap_folder	*f;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	uint32_t		 order[] = { 3, 2, 1 };
	char			*q = imap_folder_query("INBOX"), *lq;

	f = imap_folder_add(be, "INBOX");
	imap_folder_keep(f, order, 3);
	f->uidvalidity = 9;
	add_msg(f, 3, "budget", "<3@x>", "", 300);
	add_msg(f, 1, "lunch", "<1@x>", "", 100);
	imap_msg_find(f, 1)->flags = 0;
	be->current = xstrdup("INBOX");
	cr_assert_eq(imap_open_view(be, q, VIEW_NEWEST_FIRST, 0, &v, &err),
	    0);
	summary_batch_init(&b);
	cr_assert_eq(imap_view_next(v, 10, &b, &err), 3);
	cr_assert_str_eq(b.v[0].id, "9.3.INBOX");
	cr_assert_str_eq(b.v[1].subject, "...", "not fetched yet");
	summary_batch_free(&b);
	imap_close_view(&v);
	xasprintf(&lq, "(%s) and (budget)", q);
	cr_assert_eq(imap_open_view(be, lq, VIEW_OLDEST_FIRST, 0, &v, &err),
	    0);
	cr_assert_eq(imap_view_count(v), 1);
	imap_close_view(&v);
	free(lq);
	free(q);
	imap_backend_free(be);
}
