/*
 * The IMAP backend against the private Dovecot of tests/servers (started
 * by tests/integration/run-imap, mailtest_env file in MAILTEST_ENV): login, TLS
 * refusals and pinning, folders and counts, a 10k-message folder opened
 * after one screenful, flags and moves checked through a second
 * connection, the Sent copy APPENDed, the header cache, the old-fashioned
 * server and IDLE push.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "net/net.h"
#include "tests/integration/imaptest.h"
#include "tests/integration/mailtest.h"

/* --- fixtures ---------------------------------------------------------- */

static int	state_says(struct backend *, const void *);

/* Whether LIST has been answered (only LIST says which is INBOX). */
static int
listed(struct backend *be, const void *arg)
{
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, "INBOX")) != NULL &&
	    (f->special & IMAP_SPECIAL_INBOX);
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

/* Opens, then waits for the folder list, which the background thread
   asks once the INBOX's first screen is in. */
static struct backend *
open_ok(const char *u, const char *user, const char *pw)
{
	struct backend	*be = imaptest_open(u, user, pw);

	cr_assert(imaptest_wait(be, listed, NULL, 15000), "no folder list");
	return (be);
}

/* Whether the transcript holds arg, polled (no notify follows some
   commands). */
static int
transcript_gets(const char *needle, int ms)
{
	int	ok = 0;

	for (; ms > 0 && !ok; ms -= 20) {
		pthread_mutex_lock(&imaptest_lock);
		ok = strstr(buf_str(&imaptest_transcript), needle) != NULL;
		pthread_mutex_unlock(&imaptest_lock);
		if (!ok)
			usleep(20000);
	}
	return (ok);
}

/* The flags of uid in folder, seen from the peer: MSG_* bits. */
static int
peer_has_flag(mailimap *s, const char *folder, uint32_t uid, int type)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_msg_att		*att;
	struct mailimap_msg_att_item	*item;
	struct mailimap_flag_fetch	*ff;
	clist				*res = NULL;
	clistiter			*it, *jt;
	int				 found = 0;

	cr_assert_eq(mailimap_examine(s, folder), MAILIMAP_NO_ERROR);
	ft = mailimap_fetch_type_new_fetch_att(mailimap_fetch_att_new_flags());
	set = mailimap_set_new_single(uid);
	cr_assert_eq(mailimap_uid_fetch(s, set, ft, &res), MAILIMAP_NO_ERROR);
	cr_assert_not_null(res, "%s: no FETCH answer for UID %u", folder, uid);
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		att = clist_content(it);
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_DYNAMIC ||
			    item->att_data.att_dyn->att_list == NULL)
				continue;	/* FLAGS () */
			for (clistiter *k = clist_begin(
			    item->att_data.att_dyn->att_list); k != NULL;
			    k = clist_next(k)) {
				ff = clist_content(k);
				if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
				    ff->fl_flag->fl_type == type)
					found = 1;
			}
		}
	}
	mailimap_fetch_list_free(res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	return (found);
}

/* Messages in a folder, from the peer. */
static uint32_t
peer_count(mailimap *s, const char *folder)
{
	cr_assert_eq(mailimap_examine(s, folder), MAILIMAP_NO_ERROR);
	return (s->imap_selection_info->sel_exists);
}

/* Opens a view on folder and waits for the thread to load it. */
static struct view *
view_on(struct backend *be, const char *folder, unsigned flags)
{
	struct view	*v = NULL;
	struct error	 err;
	char		*q = imap_folder_query(folder);

	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, flags,
	    &v, &err), 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_loaded, folder, 15000),
	    "%s never loaded",
	    folder);
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, flags,
	    &v, &err), 0);
	free(q);
	return (v);
}

static void
imap_setup(void)
{
	imaptest_setup("test-imap");
}

TestSuite(imap, .init = imap_setup, .fini = imaptest_teardown, .timeout = 60);

Test(imap, good_login_lists_inbox_and_special_use_folders)
{
	struct backend		*be;
	struct folder_list	 fl;
	struct imap_folder	*f;
	struct error		 err;
	mailimap		*s = imaptest_peer();
	size_t			 i;
	int			 inbox = 0;

	mailimap_create(s, "Sent");
	mailimap_create(s, "Trash");
	mailimap_logout(s);
	mailimap_free(s);
	be = open_ok(imaptest_url, "bob", "bobpw");
	cr_assert_eq(imap_backend_ops.list_folders(be, &fl, &err), 0);
	for (i = 0; i < fl.n; i++)
		inbox += strcmp(fl.v[i].name, "INBOX") == 0;
	cr_assert_eq(inbox, 1);
	cr_assert_str_eq(fl.v[0].name, "INBOX", "INBOX comes first");
	folder_list_free(&fl);
	pthread_mutex_lock(&be->data_lock);
	cr_assert_not_null(f = imap_folder_find(be, "Sent"));
	cr_assert(f->special & IMAP_SPECIAL_SENT);
	cr_assert_not_null(f = imap_folder_find(be, "Trash"));
	cr_assert(f->special & IMAP_SPECIAL_TRASH);
	pthread_mutex_unlock(&be->data_lock);
	cr_assert(transcript_gets("ID (", 5000), "ID is sent after login");
	imap_backend_ops.close(&be);
	cr_assert_null(be);
}

Test(imap, wrong_password_is_an_auth_error_and_never_logged)
{
	struct backend_params	 p = imaptest_params(imaptest_url, "bob",
	    "not-bobpw");
	struct backend		*be = NULL;
	struct error		 err;

	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_AUTH, "%s", err.msg);
	cr_assert_null(be);
	cr_assert(!imaptest_transcript_has("not-bobpw"));
	/* base64 of "\0bob\0not-bobpw", what AUTHENTICATE PLAIN sends */
	cr_assert(!imaptest_transcript_has("AGJvYgBub3QtYm9icHc="));
}

Test(imap, login_is_one_authenticate_plain_whose_credentials_stay_out_of_the_log)
{
	struct backend	*be;
	char		*t, *p;

	be = open_ok(imaptest_url, "bob", "bobpw");
	t = imaptest_transcript_copy();
	/* Dovecot offers SASL-IR: the credentials go with the command, one
	   round trip, and no LOGIN command is sent. */
	cr_assert_not_null(p = strstr(t, "AUTHENTICATE PLAIN"), "%s", t);
	cr_assert_not_null(strstr(p, "<authentication data omitted>"), "%s",
	    t);
	cr_assert_null(strstr(t, " LOGIN "), "%s", t);
	cr_assert_null(strstr(t, "bobpw"), "%s", t);
	cr_assert_null(strstr(t, "AGJvYgBib2Jwdw"), "base64 of the "
	    "credentials: %s", t);
	free(t);
	imap_backend_ops.close(&be);
}

Test(imap, no_password_asks_for_one_and_password_cmd_gives_it)
{
	struct backend_params	 p = imaptest_params(imaptest_url, "bob", NULL);
	struct backend		*be = NULL;
	struct error		 err;

	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_AUTH);
	cr_assert_not_null(strstr(err.msg, "password needed"), "%s", err.msg);
	p.password_cmd = "echo bobpw";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	imap_backend_ops.close(&be);
}

Test(imap, untrusted_certificate_is_refused_with_its_fingerprint_then_pinned)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct tls_peer		 tp;
	struct tls_params	 par;
	struct error		 err;
	char			*u;

	xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("UNKNOWNCA_IMAPS_PORT"));
	p = imaptest_params(u, "bob", "bobpw");
	memset(&tp, 0, sizeof tp);
	p.tls_peer = &tp;
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_assert_neq(tp.fingerprint[0], '\0', "the fingerprint is offered");
	cr_assert_neq(tp.reason[0], '\0');
	cr_assert(!imaptest_transcript_has("data omitted"),
	    "no credentials before trust");
	memset(&par, 0, sizeof par);
	par.host = mailtest_env("MAILTEST_HOST");
	par.pin_file = imaptest_pin_file;
	par.service = "imap";
	cr_assert_eq(tls_pin_store(&par, &tp, &err), 0, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	imap_backend_ops.close(&be);
	tls_peer_clear(&tp);
	free(u);
}

Test(imap, expired_and_wrong_name_certificates_are_refused)
{
	const char		*keys[] = { "EXPIRED_IMAPS_PORT",
				    "BADNAME_IMAPS_PORT" };
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	char			*u;
	int			 i;

	for (i = 0; i < 2; i++) {
		xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
		    mailtest_env(keys[i]));
		p = imaptest_params(u, "bob", "bobpw");
		cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
		cr_assert_eq(err.kind, ERR_TLS, "%s: %s", keys[i], err.msg);
		free(u);
	}
	cr_assert(!imaptest_transcript_has("data omitted"));
}

Test(imap, starttls_is_required_and_plaintext_server_refused)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	char			*u;

	xasprintf(&u, "imap://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("IMAP_PORT"));
	p = imaptest_params(u, "bob", "bobpw");
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert(imaptest_transcript_has("data omitted"),
	    "the login itself is in the transcript, without its data");
	imap_backend_ops.close(&be);
	free(u);
	buf_reset(&imaptest_transcript);
	xasprintf(&u, "imap://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("PLAIN_IMAP_PORT"));
	p = imaptest_params(u, "bob", "bobpw");
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_assert(!imaptest_transcript_has("data omitted"));
	free(u);
}

/* Whether STATUS has counted folder. */
static int
counted(struct backend *be, const void *arg)
{
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, arg)) != NULL && f->total > 0 &&
	    !be->need_status;
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

Test(imap, status_counts_total_and_unread)
{
	struct backend		*be;
	struct folder_list	 fl;
	struct error		 err;
	size_t			 i;
	int			 found = 0;

	imaptest_deliver("Counts", 3, "unread", 0);
	imaptest_deliver("Counts", 2, "read", 1);
	be = open_ok(imaptest_url, "bob", "bobpw");
	/* Counts come in the background, after the first screen. */
	cr_assert(imaptest_wait(be, counted, "Counts", 10000));
	cr_assert_eq(imap_backend_ops.list_folders(be, &fl, &err), 0);
	for (i = 0; i < fl.n; i++) {
		if (strcmp(fl.v[i].name, "Counts") != 0)
			continue;
		found = 1;
		cr_assert_eq(fl.v[i].total, 5);
		cr_assert_eq(fl.v[i].unread, 3);
	}
	cr_assert(found);
	folder_list_free(&fl);
	imap_backend_ops.close(&be);
}

Test(imap, big_folder_first_screen_after_one_small_fetch, .timeout = 120)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct imap_stats	 st;
	struct error		 err;
	mailimap		*s;

	imaptest_deliver("Big", 10000, "big", 1);
	s = imaptest_peer();		/* Dovecot indexes the folder once */
	cr_assert_eq(peer_count(s, "Big"), 10000);
	mailimap_logout(s);
	mailimap_free(s);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Big", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 10000);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 50, &b, &err), 50);
	imap_get_stats(be, &st);
	cr_assert_leq(st.first_batch, IMAP_SCREEN_ROWS,
	    "the first FETCH asks for a screenful, not %lu", st.first_batch);
	{
		/* "TAG FETCH 9921:10000 (...)", not "TAG UID FETCH". */
		char *t = imaptest_transcript_copy();
		const char *p;
		int by_seq = 0;

		for (p = t; (p = strstr(p, " FETCH 9921:10000 (")) != NULL;
		    p++)
			by_seq |= p > t && p[-1] >= '0' && p[-1] <= '9';
		cr_assert(by_seq, "the newest arrivals are asked by sequence "
		    "number first");
		/* The login, ENABLE and the SELECT of INBOX (which the UI
		   opens first) go in one round trip; the sort that follows
		   the first screen needs no second SELECT. */
		p = strstr(t, "AUTHENTICATE PLAIN");
		cr_assert_not_null(p, "%s", t);
		cr_assert_not_null(strstr(p, "ENABLE QRESYNC"), "%s", t);
		cr_assert_not_null(strstr(p, "SELECT \"INBOX\""), "%s", t);
		cr_assert_null(memmem(p, (size_t)(strstr(p, "SELECT \"INBOX\"") -
		    p), "S: ", 3), "a round trip before SELECT: %s", t);
		/* libetpan's SELECT does not quote the name, the raw one
		   does. */
		cr_assert(strstr(p, "SELECT Big") != NULL ||
		    strstr(p, "SELECT \"Big\"") != NULL, "%s", t);
		p = strstr(p, "SELECT Big") != NULL ? strstr(p, "SELECT Big") :
		    strstr(p, "SELECT \"Big\"");
		p++;
		cr_assert_not_null(strstr(p, "UID SORT"), "%s", t);
		cr_assert(strstr(p, "SELECT") == NULL ||
		    strstr(p, "SELECT") > strstr(p, "UID SORT"),
		    "a second SELECT before the sort: %s", t);
		free(t);
	}
	/* Newest first (SORT REVERSE DATE): the last delivered is on top. */
	cr_assert_str_eq(b.v[0].subject, "big 9999");
	cr_assert_str_eq(b.v[0].from, "Sender 9999");
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "Big", 60000),
	    "the background fill completes");
	imap_backend_ops.close(&be);
}

Test(imap, flags_and_moves_are_seen_by_another_connection)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	const char		*id;
	uint32_t		 uv, uid;
	char			*folder;
	mailimap		*s;

	imaptest_deliver("Flags", 3, "flag", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Flags", 0);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 3, &b, &err), 3);
	id = b.v[0].id;
	cr_assert_eq(imap_id_parse(id, &uv, &uid, &folder), 0);
	free(folder);
	cr_assert_eq(imap_backend_ops.set_flags(be, &id, 1,
	    MSG_FLAGGED, MSG_UNREAD, &err), 0, "%s", err.msg);
	s = imaptest_peer();
	cr_assert(peer_has_flag(s, "Flags", uid, MAILIMAP_FLAG_FLAGGED));
	cr_assert(peer_has_flag(s, "Flags", uid, MAILIMAP_FLAG_SEEN));
	cr_assert_eq(imap_backend_ops.set_flags(be, &id, 1, MSG_UNREAD, 0,
	    &err), 0, "%s", err.msg);
	cr_assert_not(peer_has_flag(s, "Flags", uid, MAILIMAP_FLAG_SEEN));
	cr_assert_eq(imap_backend_ops.set_tags(be, &id, 1, "+work", &err), 0,
	    "%s", err.msg);
	cr_assert(peer_has_flag(s, "Flags", uid, MAILIMAP_FLAG_KEYWORD),
	    "tags are IMAP keywords");
	cr_assert_eq(imap_backend_ops.set_tags(be, &id, 1, "+bad(word", &err),
	    -1);
	mailimap_create(s, "Flags2");
	id = b.v[1].id;
	cr_assert_eq(imap_backend_ops.move(be, &id, 1, "Flags2", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(peer_count(s, "Flags"), 2);
	cr_assert_eq(peer_count(s, "Flags2"), 1);
	mailimap_logout(s);
	mailimap_free(s);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
}

/* The flags (MSG_* bits of SEEN/FLAGGED) and bytes of the last message of
   folder, from the peer. */
static char *
peer_last(mailimap *s, const char *folder, int *seen, size_t *len)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct mailimap_msg_att		*att;
	struct mailimap_msg_att_item	*item;
	struct mailimap_flag_fetch	*ff;
	struct mailimap_msg_att_body_section *bs;
	clist				*res = NULL;
	clistiter			*it, *jt, *k;
	char				*body = NULL;

	*seen = 0;
	*len = 0;
	cr_assert_gt(peer_count(s, folder), 0, "%s is empty", folder);
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(mailimap_section_new(
	    NULL)));
	set = mailimap_set_new_single(s->imap_selection_info->sel_exists);
	cr_assert_eq(mailimap_fetch(s, set, ft, &res), MAILIMAP_NO_ERROR);
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		att = clist_content(it);
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
			    item->att_data.att_static->att_type ==
			    MAILIMAP_MSG_ATT_BODY_SECTION) {
				bs = item->att_data.att_static->att_data.
				    att_body_section;
				free(body);
				body = xmalloc(bs->sec_length + 1);
				memcpy(body, bs->sec_body_part,
				    bs->sec_length);
				body[bs->sec_length] = '\0';
				*len = bs->sec_length;
				continue;
			}
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_DYNAMIC)
				continue;
			for (k = clist_begin(item->att_data.att_dyn->att_list);
			    k != NULL; k = clist_next(k)) {
				ff = clist_content(k);
				if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER &&
				    ff->fl_flag->fl_type == MAILIMAP_FLAG_SEEN)
					*seen = 1;
			}
		}
	}
	mailimap_fetch_list_free(res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	cr_assert_not_null(body, "no body fetched from %s", folder);
	return (body);
}

Test(imap, appended_sent_copy_is_seen_in_the_sent_folder_with_crlf)
{
	static const char	 msg[] =
	    "From: bob@example.org\n"
	    "To: carol@example.org\n"
	    "Subject: sent copy\n"
	    "Message-ID: <sent-copy@example.org>\n"
	    "\n"
	    "first line\n"
	    "already crlf\r\n"
	    "\n"
	    "last line\n";
	struct backend		*be;
	struct error		 err;
	struct buf		 want;
	char			*path, *got;
	const char		*p;
	size_t			 len;
	uint32_t		 before;
	int			 seen;
	mailimap		*s;
	FILE			*f;

	xasprintf(&path, "%s/outgoing.eml", imaptest_dir);
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(msg, 1, sizeof msg - 1, f), sizeof msg - 1);
	cr_assert_eq(fclose(f), 0);
	s = imaptest_peer();
	mailimap_create(s, "Sent");	/* none is created by the server */
	before = peer_count(s, "Sent");
	be = open_ok(imaptest_url, "bob", "bobpw");
	cr_assert_not_null(imap_backend_ops.append);
	error_clear(&err);
	cr_assert_eq(imap_backend_ops.append(be, "Sent", path, 0, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(peer_count(s, "Sent"), before + 1);
	got = peer_last(s, "Sent", &seen, &len);
	cr_assert(seen, "the Sent copy is \\Seen");
	buf_init(&want);
	for (p = msg; *p != '\0'; p++) {
		if (*p == '\n' && (p == msg || p[-1] != '\r'))
			buf_addc(&want, '\r');
		buf_addc(&want, *p);
	}
	cr_assert_eq(len, want.len, "%zu bytes stored, %zu sent", len,
	    want.len);
	cr_assert_eq(memcmp(got, want.data, len), 0, "stored:\n%s", got);
	error_clear(&err);
	cr_assert_eq(imap_backend_ops.append(be, "NoSuchFolder", path, 0,
	    &err), -1, "a missing folder is an error");
	cr_assert_str_neq(err.msg, "");
	buf_free(&want);
	free(got);
	free(path);
	mailimap_logout(s);
	mailimap_free(s);
	imap_backend_ops.close(&be);
}

Test(imap, message_body_is_fetched_into_a_private_cache_file)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	struct stat		 sb;
	char			*path = NULL, text[4096];
	FILE			*f;
	size_t			 n;

	imaptest_deliver("Read", 1, "readme", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Read", 0);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 1, &b, &err), 1);
	cr_assert_eq(imap_backend_ops.message_path(be, b.v[0].id, &path,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	cr_assert_eq(imap_backend_ops.fetch_message(be, b.v[0].id, &path,
	    &err), 0, "%s", err.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_not_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_assert_not_null(strstr(text, "Subject: readme 0"));
	free(path);
	cr_assert_eq(imap_backend_ops.message_path(be, b.v[0].id, &path,
	    &err), 0);
	free(path);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
}

Test(imap, reopening_with_the_cache_fetches_only_changes)
{
	struct backend		*be;
	struct view		*v;
	struct imap_stats	 st;

	imaptest_deliver("Cached", 300, "cached", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Cached", 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "Cached", 20000));
	imap_backend_ops.close(&be);

	imaptest_peer_flag("Cached", 7);

	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Cached", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 300);
	imap_backend_ops.close_view(&v);
	imap_get_stats(be, &st);
	/* With QRESYNC the change comes with the SELECT (test-imap-proto
	   has the details); else with one FETCH CHANGEDSINCE. */
	cr_assert(st.changedsince == 1 ||
	    imaptest_transcript_has("(QRESYNC ("),
	    "one FETCH CHANGEDSINCE, or QRESYNC");
	cr_assert_leq(st.fetch_responses, 2,
	    "only the changed message came back (%lu)", st.fetch_responses);
	pthread_mutex_lock(&be->data_lock);
	cr_assert(imap_msg_find(imap_folder_find(be, "Cached"), 7)->flags &
	    MSG_FLAGGED);
	pthread_mutex_unlock(&be->data_lock);
	imap_backend_ops.close(&be);
}

Test(imap, uidvalidity_change_drops_the_cache)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	mailimap		*s;

	imaptest_deliver("Valid", 4, "old", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Valid", 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "Valid", 20000));
	imap_backend_ops.close(&be);

	s = imaptest_peer();
	cr_assert_eq(mailimap_delete(s, "Valid"), MAILIMAP_NO_ERROR);
	mailimap_logout(s);
	mailimap_free(s);
	imaptest_deliver("Valid", 2, "new", 0);

	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Valid", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 2);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 2, &b, &err), 2);
	cr_assert_not_null(strstr(b.v[0].subject, "new"), "%s",
	    b.v[0].subject);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
}

/* Writes one message into a folder (made by imaptest_deliver). */
static void
deliver_one(const char *folder, int n, const char *from, const char *subject,
    const char *date, const char *body)
{
	char	*path;
	FILE	*f;

	imaptest_deliver(folder, 0, "", 0);
	xasprintf(&path, "%s/.%s/cur/%d.M%dP%d.one:2,S",
	    mailtest_env("MAILDIR_BOB"), folder, 1700000000 + n, n,
	    (int)getpid());
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "From: %s\r\nTo: bob@localhost\r\nSubject: %s\r\n"
	    "Date: %s\r\nMessage-ID: <one%d@example.org>\r\n\r\n%s\r\n",
	    from, subject, date, n, body);
	fclose(f);
	if (chown(path, atoi(mailtest_env("MAIL_UID")),
	    atoi(mailtest_env("MAIL_GID"))) != 0)
		cr_assert_fail("chown");
	free(path);
}

struct limit_arg {
	const char	*folder;
	const char	*limit;
};

/* Whether the server has answered the search of a limit. */
static int
answered(struct backend *be, const void *arg)
{
	const struct limit_arg	*la = arg;
	const uint32_t		*uids;
	size_t			 n;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = imap_search_lookup(be, la->folder, la->limit, &uids, &n);
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

/* The subjects of a limited view ("|"-joined, sorted by the view's
   order); after the server's answer when wait is set. */
static char *
limited(struct backend *be, const char *folder, const char *limit, int wait)
{
	struct limit_arg	 la = { folder, limit };
	struct summary_batch	 b;
	struct view		*v = NULL;
	struct error		 err;
	struct buf		 out;
	char			*fq, *q;
	size_t			 i;

	fq = imap_folder_query(folder);
	xasprintf(&q, "(%s) and (%s)", fq, limit);
	free(fq);
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0, "%s", err.msg);
	if (wait) {
		imap_backend_ops.close_view(&v);
		cr_assert(imaptest_wait(be, answered, &la, 10000),
		    "the server never answered %s", limit);
		cr_assert_eq(imap_backend_ops.open_view(be, q,
		    VIEW_NEWEST_FIRST, 0, &v, &err), 0, "%s", err.msg);
	}
	summary_batch_init(&b);
	imap_backend_ops.view_next(v, 100, &b, &err);
	buf_init(&out);
	for (i = 0; i < b.n; i++) {
		if (i > 0)
			buf_addc(&out, '|');
		buf_adds(&out, b.v[i].subject);
	}
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	free(q);
	return (buf_steal(&out));
}

Test(imap, a_cached_inbox_shows_before_the_server_answers)
{
	struct backend_params	 p;
	struct backend		*be;
	struct view		*v = NULL;
	struct summary_batch	 b;
	struct error		 err;
	struct timespec		 t0, t1;
	char			*first, *dead, buf[320];
	size_t			 n;

	imaptest_inbox_lock();
	imaptest_deliver("", 3, "cached inbox", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "INBOX", 0);
	n = imap_backend_ops.view_count(v);
	cr_assert_geq(n, 3);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 1, &b, &err), 1);
	first = xstrdup(b.v[0].subject);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "INBOX", 20000));
	imap_backend_ops.close(&be);

	/* The server is gone: the cache answers, and the state says so. */
	xasprintf(&dead, "imaps://%s:1", mailtest_env("MAILTEST_HOST"));
	p = imaptest_params(dead, "bob", NULL);
	p.password_cmd = "echo bobpw";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.open_view(be, "folder:\"INBOX\"",
	    VIEW_NEWEST_FIRST, 0, &v, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(imap_backend_ops.view_count(v), n);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 1, &b, &err), 1);
	cr_assert_str_eq(b.v[0].subject, first);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	cr_assert_lt((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000, 1000,
	    "the rows came from the cache, not the network");
	cr_assert(imaptest_wait(be, state_says, "refused", 10000), "%s",
	    be->state_msg);
	cr_assert_eq(imap_status(be, buf, sizeof buf), 1, "not online");
	imap_backend_ops.close(&be);
	free(dead);
	free(first);
}

Test(imap, a_typed_password_is_checked_before_the_cached_rows_show)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct view		*v;
	struct error		 err;

	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "INBOX", 0);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
	/* A cache, but a password typed at the prompt: a wrong one is
	   refused by open, so that the UI asks again. */
	p = imaptest_params(imaptest_url, "bob", "not-bobpw");
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_AUTH, "%s", err.msg);
	cr_assert_null(be);
}

Test(imap, a_limit_is_searched_on_the_server_and_finds_body_text)
{
	struct backend	*be;
	struct view	*v;
	char		*s;

	deliver_one("Find", 1, "Alice <alice@example.org>", "Lunch",
	    "Tue, 14 Nov 2023 10:00:00 +0000",
	    "We saw a quokka near the lake.");
	deliver_one("Find", 2, "Bob <bob@example.org>", "Report",
	    "Thu, 01 Feb 2024 10:00:00 +0000", "The numbers are in.");
	deliver_one("Find", 3, "Carol <carol@example.org>", "Quokka facts",
	    "Fri, 02 Feb 2024 10:00:00 +0000", "Nothing to see.");
	deliver_one("Find", 4, "Dan <dan@example.org>", "Dessert",
	    "Sat, 03 Feb 2024 10:00:00 +0000", "Une cr\xc3\xa8me br\xc3\xbbl"
	    "\xc3\xa9" "e, merci.");
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Find", 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "Find", 20000));

	/* At once: the summaries in memory (the subject); then the server,
	   which also finds the body that no header has. */
	s = limited(be, "Find", "quokka", 0);
	cr_assert_str_eq(s, "Quokka facts", "the instant answer: %s", s);
	free(s);
	s = limited(be, "Find", "quokka", 1);
	cr_assert_str_eq(s, "Quokka facts|Lunch", "%s", s);
	free(s);
	cr_assert(transcript_gets("UID SEARCH TEXT quokka", 1000),
	    "the limit went to the server as UID SEARCH");

	s = limited(be, "Find", "body:br\xc3\xbbl\xc3\xa9" "e", 1);
	cr_assert_str_eq(s, "Dessert", "UTF-8 in the body: %s", s);
	free(s);
	s = limited(be, "Find", "body:numbers", 1);
	cr_assert_str_eq(s, "Report", "%s", s);
	free(s);
	s = limited(be, "Find", "from:alice or subject:report", 1);
	cr_assert_str_eq(s, "Report|Lunch", "%s", s);
	free(s);
	s = limited(be, "Find", "date:2024-02 and not from:carol", 1);
	cr_assert_str_eq(s, "Dessert|Report", "%s", s);
	free(s);
	s = limited(be, "Find", "to:bob@localhost and body:\"near the lake\"",
	    1);
	cr_assert_str_eq(s, "Lunch", "%s", s);
	free(s);
	imap_backend_ops.close(&be);
}

Test(imap, a_malformed_limit_is_refused_with_a_message)
{
	struct backend	*be;
	struct view	*v = NULL;
	struct error	 err;

	be = open_ok(imaptest_url, "bob", "bobpw");
	error_clear(&err);
	cr_assert_eq(imap_backend_ops.open_view(be, "(folder:\"INBOX\") and "
	    "((from:alice)", VIEW_NEWEST_FIRST, 0, &v, &err), -1);
	cr_assert_not_null(strstr(err.msg, "')' is missing"), "%s", err.msg);
	cr_assert_eq(imap_backend_ops.open_view(be, "(folder:\"INBOX\") and "
	    "(date:someday)", VIEW_NEWEST_FIRST, 0, &v, &err), -1);
	cr_assert_not_null(strstr(err.msg, "date:someday"), "%s", err.msg);
	imap_backend_ops.close(&be);
}

Test(imap, old_fashioned_server_without_sort_or_condstore_works)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	char			*u;

	imaptest_deliver("Old", 5, "old", 0);
	xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("OLDCAP_IMAPS_PORT"));
	be = open_ok(u, "bob", "bobpw");
	cr_assert_not(be->cap_sort);
	cr_assert_not(be->cap_condstore);
	v = view_on(be, "Old", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 5);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 5, &b, &err), 5);
	cr_assert_str_eq(b.v[0].subject, "old 4", "newest UID first");
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
	free(u);
}

/* How many rows a folder should have. */
struct rows_in {
	const char	*folder;
	size_t		 n;
};

/* Whether the folder has at least that many rows. */
static int
has_rows(struct backend *be, const void *arg)
{
	const struct rows_in	*want = arg;
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, want->folder)) != NULL &&
	    f->norder >= want->n;
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

Test(imap, idle_pushes_a_message_another_connection_appended)
{
	struct backend	*be;
	struct view	*v;
	mailimap	*s;
	const char	*msg = "From: a@example.org\r\nSubject: pushed\r\n"
			    "\r\nhello\r\n";
	struct rows_in	 two = { "Push", 2 };
	uint32_t	 uv, uid;
	struct timespec	 t0, t1;

	imaptest_deliver("Push", 1, "before", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Push", 0);
	imap_backend_ops.close_view(&v);
	usleep(300000);		/* let the thread enter IDLE */
	s = imaptest_peer();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(mailimap_uidplus_append_simple(s, "Push", msg,
	    strlen(msg), &uv, &uid), MAILIMAP_NO_ERROR);
	cr_assert(imaptest_wait(be, has_rows, &two, 5000),
	    "the new message arrives by IDLE");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 3);
	mailimap_logout(s);
	mailimap_free(s);
	imap_backend_ops.close(&be);
}

/* Finds the Dovecot imap process serving our session (by its port in the
   login line) and kills it: a drop mid-session. */
static void
kill_server_side(struct backend *be)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 needle[64], line[2048], *m;
	FILE			*f;
	pid_t			 pid = 0;
	int			 fd;

	imap_conn_acquire(be);
	cr_assert_not_null(be->s);
	fd = mailstream_low_get_fd(mailstream_get_low(be->s->imap_stream));
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	imap_conn_release(be);
	snprintf(needle, sizeof needle, "rport=%d,", ntohs(sin.sin_port));
	cr_assert_not_null(f = fopen(mailtest_env("DOVECOT_MAIN_LOG"), "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (strstr(line, needle) != NULL &&
		    (m = strstr(line, "mpid=")) != NULL)
			pid = (pid_t)atoi(m + 5);
	}
	fclose(f);
	cr_assert_gt(pid, 0, "no login line with %s", needle);
	cr_assert_eq(kill(pid, SIGKILL), 0);
}

static int
reconnected(struct backend *be, const void *arg)
{
	struct imap_stats	st;

	imap_get_stats(be, &st);
	return (st.reconnects >= 1 && has_rows(be, arg));
}

Test(imap, a_dropped_connection_is_reestablished_and_idle_resumes)
{
	struct backend	*be;
	struct view	*v;
	char		 status[320];
	struct rows_in	 two = { "Push", 2 };

	imaptest_deliver("Push", 1, "drop", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Push", 0);
	imap_backend_ops.close_view(&v);
	usleep(300000);
	kill_server_side(be);
	imaptest_deliver("Push", 1, "while away", 0);
	cr_assert(imaptest_wait(be, reconnected, &two, 10000),
	    "reconnected, and the message delivered meanwhile is there");
	imap_status(be, status, sizeof status);
	cr_assert_str_eq(status, "connected");
	imap_backend_ops.close(&be);
}

/* --- a scripted hostile server ----------------------------------------- */

enum hostile {
	HOSTILE_BAD_LIST,	/* LIST answer that does not parse */
	HOSTILE_HUGE_LITERAL,	/* FETCH announces a 1 GB literal */
	HOSTILE_DROP_FETCH,	/* closes in the middle of a FETCH */
};

static pid_t	hostile_pid = -1;

/* Reads one line from fd into buf; returns its length or -1. */
static int
hostile_line(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return (-1);
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return ((int)n);
}

static void
hostile_say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) == -1)
		_exit(1);
}

/* The child: serves connections one at a time, badly. */
static void
hostile_serve(int lfd, enum hostile mode)
{
	char	line[1024], tag[64], out[2048];
	int	fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(0);
		hostile_say(fd, "* OK [CAPABILITY IMAP4rev1 IDLE] hostile\r\n");
		while (hostile_line(fd, line, sizeof line) > 0) {
			if (sscanf(line, "%63s", tag) != 1)
				break;
			if (strstr(line, " LIST ") != NULL) {
				snprintf(out, sizeof out, mode ==
				    HOSTILE_BAD_LIST ? "* LIST (\\Foo \"/\" "
				    "INBOX\r\n%s OK done\r\n" : "* LIST () \"/\" "
				    "INBOX\r\n%s OK done\r\n", tag);
				hostile_say(fd, out);
			} else if (strstr(line, " STATUS ") != NULL) {
				snprintf(out, sizeof out, "* STATUS INBOX "
				    "(MESSAGES 1 UNSEEN 1)\r\n%s OK done\r\n",
				    tag);
				hostile_say(fd, out);
			} else if (strstr(line, " SELECT ") != NULL) {
				snprintf(out, sizeof out, "* 1 EXISTS\r\n"
				    "* OK [UIDVALIDITY 7] v\r\n%s OK "
				    "[READ-WRITE] done\r\n", tag);
				hostile_say(fd, out);
			} else if (strstr(line, " FETCH ") != NULL &&
			    strstr(line, "BODY.PEEK[]") == NULL) {
				/* The background thread's first screen
				   and summaries: nothing to say. */
				snprintf(out, sizeof out, "%s OK done\r\n",
				    tag);
				hostile_say(fd, out);
			} else if (strstr(line, " FETCH ") != NULL &&
			    mode == HOSTILE_HUGE_LITERAL) {
				hostile_say(fd, "* 1 FETCH (UID 1 BODY[] "
				    "{1073741824}\r\n");
				sleep(5);
				break;
			} else if (strstr(line, " FETCH ") != NULL) {
				hostile_say(fd, "* 1 FETCH (UID 1 BODY[] "
				    "{40}\r\nFrom: a@b\r\n");
				break;
			} else if (strstr(line, " LOGOUT") != NULL) {
				snprintf(out, sizeof out, "* BYE\r\n%s OK bye\r\n",
				    tag);
				hostile_say(fd, out);
				break;
			} else {
				snprintf(out, sizeof out, "%s OK done\r\n",
				    tag);
				hostile_say(fd, out);
			}
		}
		close(fd);
	}
}

/* Runs hostile_serve; arg points to the mode. */
static void
hostile_run(int lfd, const void *arg)
{
	hostile_serve(lfd, *(const enum hostile *)arg);
}

/* Starts the hostile server; returns an imap:// URL for it. */
static char *
hostile_start(enum hostile mode)
{
	return (imaptest_scripted(hostile_run, &mode, &hostile_pid));
}

static void
hostile_stop(void)
{
	if (hostile_pid > 0) {
		kill(hostile_pid, SIGTERM);
		waitpid(hostile_pid, NULL, 0);
		hostile_pid = -1;
	}
}

/* Whether the connection state (the status line) mentions arg. */
static int
state_says(struct backend *be, const void *arg)
{
	char	buf[320];

	imap_status(be, buf, sizeof buf);
	return (strstr(buf, arg) != NULL);
}

/* Opens a plain-text session to the hostile server. */
static int
hostile_open(const char *u, struct backend **be, struct error *err)
{
	struct backend_params	p = imaptest_params(u, "bob", "bobpw");

	p.tls = "off";
	return (imap_backend_ops.open(be, &p, err));
}

Test(imap, malformed_list_answer_is_an_error_not_a_crash)
{
	struct backend	*be = NULL;
	struct error	 err;
	char		*u = hostile_start(HOSTILE_BAD_LIST);

	/* The list is asked in the background: its failure shows in the
	   connection state, and the backend carries on. */
	cr_assert_eq(hostile_open(u, &be, &err), 0, "%s", err.msg);
	cr_assert(imaptest_wait(be, state_says, "LIST", 10000), "%s",
	    be->state_msg);
	imap_backend_ops.close(&be);
	cr_assert_null(be);
	hostile_stop();
	free(u);
}

Test(imap, a_1gb_literal_is_refused_before_it_is_allocated)
{
	struct backend	*be = NULL;
	struct error	 err;
	char		*u = hostile_start(HOSTILE_HUGE_LITERAL), *path;
	struct timespec	 t0, t1;

	cr_assert_eq(hostile_open(u, &be, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(imap_backend_ops.fetch_message(be, "7.1.INBOX", &path,
	    &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(err.kind, ERR_PROTO, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "1073741824"), "%s", err.msg);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 3, "refused at once, not after "
	    "the server gave up");
	imap_backend_ops.close(&be);
	hostile_stop();
	free(u);
}

Test(imap, a_drop_mid_fetch_is_an_error_and_the_next_command_reconnects)
{
	struct backend	*be = NULL;
	struct error	 err;
	char		*u = hostile_start(HOSTILE_DROP_FETCH), *path = NULL;
	struct imap_stats st;

	cr_assert_eq(hostile_open(u, &be, &err), 0, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.fetch_message(be, "7.1.INBOX", &path,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NET, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.fetch_message(be, "7.1.INBOX", &path,
	    &err), -1);
	imap_get_stats(be, &st);
	cr_assert_geq(st.connects, 2, "the second fetch connected again");
	imap_backend_ops.close(&be);
	hostile_stop();
	free(u);
}

/* --- a link that can be cut: a relay to the IMAPS port ------------------ */

struct relay {
	pthread_t	 thread;
	int		 port;		/* where the backend connects */
	int		 lfd;		/* listening, or -1 while cut */
	int		 pairs[16][2];	/* client, server */
	int		 npairs;
	int		 frozen[16][2];	/* open, carrying nothing */
	int		 nfrozen;
	int		 stop;
	const char	*target;	/* env key of the port; NULL: IMAPS */
	pthread_mutex_t	 lock;
};

/* Listens on relay->port (0: any; the port is kept for later). */
static void
relay_listen(struct relay *r)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			one = 1, i = 0, rc;

	r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(r->port);
	/* The old listener lives on until the relay's poll returns. */
	while ((rc = bind(r->lfd, (struct sockaddr *)&sin, sizeof sin)) != 0 &&
	    errno == EADDRINUSE && r->port != 0 && i++ < 200)
		usleep(10 * 1000);
	cr_assert_eq(rc, 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(r->lfd, 8), 0);
	getsockname(r->lfd, (struct sockaddr *)&sin, &len);
	r->port = ntohs(sin.sin_port);
}

/* Cuts the link: no listener, every connection closed. */
static void
relay_cut(struct relay *r)
{
	int	i;

	pthread_mutex_lock(&r->lock);
	close(r->lfd);
	r->lfd = -1;
	for (i = 0; i < r->npairs; i++) {
		shutdown(r->pairs[i][0], SHUT_RDWR);
		shutdown(r->pairs[i][1], SHUT_RDWR);
	}
	pthread_mutex_unlock(&r->lock);
}

/*
 * Freezes the connections open so far: they stay open and carry nothing
 * more, as a link does that a suspend broke without a word (new ones are
 * relayed as before).
 */
static void
relay_freeze(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	while (r->npairs > 0 && r->nfrozen < 16) {
		r->npairs--;
		r->frozen[r->nfrozen][0] = r->pairs[r->npairs][0];
		r->frozen[r->nfrozen++][1] = r->pairs[r->npairs][1];
	}
	pthread_mutex_unlock(&r->lock);
}

static void
relay_restore(struct relay *r)
{
	pthread_mutex_lock(&r->lock);
	relay_listen(r);
	pthread_mutex_unlock(&r->lock);
}

/* Accepts and copies bytes both ways until stopped. */
static void *
relay_main(void *arg)
{
	struct relay	*r = arg;
	struct pollfd	 pfd[33];
	char		 buf[16384];
	ssize_t		 n;
	int		 i, k, c, s, nfd;

	while (!r->stop) {
		pthread_mutex_lock(&r->lock);
		nfd = 0;
		pfd[nfd].fd = r->lfd;
		pfd[nfd++].events = POLLIN;
		for (i = 0; i < r->npairs; i++) {
			pfd[nfd].fd = r->pairs[i][0];
			pfd[nfd++].events = POLLIN;
			pfd[nfd].fd = r->pairs[i][1];
			pfd[nfd++].events = POLLIN;
		}
		pthread_mutex_unlock(&r->lock);
		if (poll(pfd, nfd, 50) <= 0)
			continue;
		pthread_mutex_lock(&r->lock);
		if (r->lfd != -1 && pfd[0].fd == r->lfd &&
		    (pfd[0].revents & POLLIN) && r->npairs < 16 &&
		    (c = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
			struct sockaddr_in	sin;

			s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			memset(&sin, 0, sizeof sin);
			sin.sin_family = AF_INET;
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sin.sin_port = htons(atoi(mailtest_env(r->target !=
			    NULL ? r->target : "IMAPS_PORT")));
			if (connect(s, (struct sockaddr *)&sin,
			    sizeof sin) != 0) {
				close(c);
				close(s);
			} else {
				r->pairs[r->npairs][0] = c;
				r->pairs[r->npairs++][1] = s;
			}
		}
		for (i = 1; i < nfd; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = (i - 1) / 2;
			if (k >= r->npairs ||
			    pfd[i].fd != r->pairs[k][(i - 1) % 2])
				continue;
			n = read(pfd[i].fd, buf, sizeof buf);
			if (n <= 0 || send(r->pairs[k][i % 2], buf, n,
			    MSG_NOSIGNAL) != n) {
				close(r->pairs[k][0]);
				close(r->pairs[k][1]);
				r->pairs[k][0] = r->pairs[r->npairs - 1][0];
				r->pairs[k][1] = r->pairs[r->npairs - 1][1];
				r->npairs--;
				break;	/* the poll set changed */
			}
		}
		pthread_mutex_unlock(&r->lock);
	}
	return (NULL);
}

static void
relay_start(struct relay *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	relay_listen(r);
	cr_assert_eq(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static void
relay_stop(struct relay *r)
{
	int	i;

	r->stop = 1;
	pthread_join(r->thread, NULL);
	if (r->lfd != -1)
		close(r->lfd);
	for (i = 0; i < r->npairs; i++) {
		close(r->pairs[i][0]);
		close(r->pairs[i][1]);
	}
	for (i = 0; i < r->nfrozen; i++) {
		close(r->frozen[i][0]);
		close(r->frozen[i][1]);
	}
	pthread_mutex_destroy(&r->lock);
}

/* Whether the row of id shows flag (what the index would draw). */
static int
row_has(struct backend *be, const char *folder, const char *id,
    unsigned flag)
{
	struct view		*v = NULL;
	struct summary_batch	 b;
	struct error		 err;
	char			*q = imap_folder_query(folder);
	size_t			 i;
	int			 found = -1;

	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0);
	summary_batch_init(&b);
	imap_backend_ops.view_next(v, 100, &b, &err);
	for (i = 0; i < b.n; i++) {
		if (strcmp(b.v[i].id, id) == 0)
			found = (b.v[i].flags & flag) != 0;
	}
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	free(q);
	return (found);
}

Test(imap, a_flag_change_made_offline_is_shown_kept_and_sent_once_back)
{
	struct relay		 r;
	struct backend		*be;
	struct backend_params	 p;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	struct stat		 sb;
	const char		*id;
	char			*u, *journal, *folder, state[400];
	uint32_t		 uv, uid;
	mailimap		*s;
	int			 i, on_server = 0;

	signal(SIGPIPE, SIG_IGN);	/* as facteur's main does */
	imaptest_deliver("Offline", 3, "offline", 0);
	relay_start(&r);
	xasprintf(&u, "imaps://%s:%d", mailtest_env("MAILTEST_HOST"), r.port);
	be = open_ok(u, "bob", "bobpw");
	v = view_on(be, "Offline", 0);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 3, &b, &err), 3);
	id = xstrdup(b.v[0].id);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	cr_assert_eq(imap_id_parse(id, &uv, &uid, &folder), 0);
	free(folder);

	/* The link goes down: the change is shown and kept. */
	relay_cut(&r);
	p = imaptest_params(u, "bob", "bobpw");
	cr_assert_eq(imap_backend_ops.set_flags(be, &id, 1, MSG_FLAGGED, 0,
	    &err), 0, "queued, not an error: %s", err.msg);
	cr_assert_eq(row_has(be, "Offline", id, MSG_FLAGGED), 1,
	    "the index shows the flag at once");
	imap_backend_ops.status(be, state, sizeof state);
	cr_assert(strstr(state, "1 flag change waiting") != NULL, "%s",
	    state);
	xasprintf(&journal, "%s/test/pending", p.cache_dir);
	cr_assert_eq(stat(journal, &sb), 0, "the change is on disk");
	cr_assert_eq(sb.st_mode & 0777, 0600);
	s = imaptest_peer();
	cr_assert_not(peer_has_flag(s, "Offline", uid, MAILIMAP_FLAG_FLAGGED),
	    "nothing reached the server yet");

	/* Back: it goes out without anything asked. */
	relay_restore(&r);
	for (i = 0; i < 300 && !on_server; i++) {
		usleep(100 * 1000);
		on_server = peer_has_flag(s, "Offline", uid,
		    MAILIMAP_FLAG_FLAGGED);
	}
	cr_assert(on_server, "the queued change reached the server");
	for (i = 0; i < 50 && stat(journal, &sb) == 0; i++)
		usleep(100 * 1000);
	cr_assert_neq(stat(journal, &sb), 0, "the journal is gone once sent");
	cr_assert_eq(row_has(be, "Offline", id, MSG_FLAGGED), 1);
	mailimap_logout(s);
	mailimap_free(s);
	imap_backend_ops.close(&be);
	relay_stop(&r);
	free(journal);
	free(u);
	free((char *)id);
}

Test(imap, after_a_suspend_a_new_session_replaces_one_the_link_lost)
{
	struct relay		 r;
	struct backend		*be;
	struct view		*v;
	struct imap_stats	 st;
	uint64_t		 one = 1;
	unsigned long		 before;
	struct rows_in		 two = { "Resume", 2 };
	char			*u;
	int			 i;

	imaptest_deliver("Resume", 1, "before the suspend", 0);
	relay_start(&r);
	xasprintf(&u, "imaps://%s:%d", mailtest_env("MAILTEST_HOST"), r.port);
	be = open_ok(u, "bob", "bobpw");
	v = view_on(be, "Resume", 0);
	imap_backend_ops.close_view(&v);
	for (i = 0; i < 100 && !imaptest_transcript_has("+ idling"); i++)
		usleep(50000);
	cr_assert(imaptest_transcript_has("+ idling"), "the thread IDLEs");
	imap_get_stats(be, &st);
	before = st.reconnects;

	/* The lid closes: the link dies silently and the clocks part. */
	relay_freeze(&r);
	pthread_mutex_lock(&be->data_lock);
	be->slept_ms -= 3600 * 1000;
	pthread_mutex_unlock(&be->data_lock);
	/* It opens: the thread's wait ends (here woken; by the machine at
	   most IMAP_AWAKE_SECONDS later). */
	cr_assert_eq(write(be->wake_fd, &one, sizeof one), sizeof one);

	/* A message that arrives now comes by the new session's IDLE: the
	   old one would carry nothing until it timed out. */
	imaptest_deliver("Resume", 1, "after the suspend", 0);
	cr_assert(imaptest_wait(be, has_rows, &two, 15000),
	    "the new message shows after the resume");
	imap_get_stats(be, &st);
	cr_assert_gt(st.reconnects, before, "a new session");
	imap_backend_ops.close(&be);
	relay_stop(&r);
	free(u);
}

Test(imap, a_change_kept_from_a_killed_run_goes_out_at_the_next_start)
{
	struct backend		*be;
	struct backend_params	 p = imaptest_params(imaptest_url, "bob",
				     "bobpw");
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	char			*dir, *journal, *folder, *id;
	uint32_t		 uv, uid;
	mailimap		*s;
	FILE			*f;
	int			 i, on_server = 0;

	imaptest_deliver("Killed", 2, "killed", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Killed", 0);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 2, &b, &err), 2);
	id = xstrdup(b.v[1].id);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
	cr_assert_eq(imap_id_parse(id, &uv, &uid, &folder), 0);
	free(folder);

	/* What a run killed while offline leaves behind. */
	xasprintf(&dir, "%s/test", p.cache_dir);
	xasprintf(&journal, "%s/pending", dir);
	cr_assert_not_null(f = fopen(journal, "w"));
	fprintf(f, "%u %u %s\n", MSG_FLAGGED, 0u, id);
	fclose(f);

	be = open_ok(imaptest_url, "bob", "bobpw");
	s = imaptest_peer();
	for (i = 0; i < 100 && !on_server; i++) {
		on_server = peer_has_flag(s, "Killed", uid,
		    MAILIMAP_FLAG_FLAGGED);
		if (!on_server)
			usleep(100 * 1000);
	}
	cr_assert(on_server, "the change from the journal reached the server");
	cr_assert_eq(access(journal, F_OK), -1, "and the journal is gone");
	mailimap_logout(s);
	mailimap_free(s);
	imap_backend_ops.close(&be);
	free(dir);
	free(journal);
	free(id);
}

/* --- what the user is asked once open (warm cache, reconnects) ------- */

/* Whether the backend waits for the user's answer. */
static int
waits_for_user(struct backend *be, const void *arg)
{
	return (imap_attention_pending(be));
}

/* Whether folder arg holds a message whose subject starts "arrived". */
static int
has_arrived(struct backend *be, const void *arg)
{
	struct imap_folder	*f;
	size_t			 i;
	int			 ok = 0;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, arg)) != NULL && f->loaded) {
		for (i = 0; i < f->nmsgs && !ok; i++)
			ok = f->msgs[i].subject != NULL &&
			    strncmp(f->msgs[i].subject, "arrived", 7) == 0;
	}
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

/* The number of LOGIN and AUTHENTICATE commands the transcript holds. */
static int
transcript_logins(void)
{
	char		*t = imaptest_transcript_copy(), *p;
	int		 n = 0;

	for (p = t; (p = strstr(p, " LOGIN ")) != NULL; p++)
		n++;
	for (p = t; (p = strstr(p, " AUTHENTICATE ")) != NULL; p++)
		n++;
	free(t);
	return (n);
}

/* Leaves a header cache of bob's INBOX for account "test". */
static void
cache_inbox(void)
{
	struct backend	*be;
	struct view	*v;

	imaptest_inbox_lock();
	imaptest_deliver("", 2, "warm", 0);
	be = open_ok(imaptest_url, "bob", "bobpw");
	v = view_on(be, "INBOX", 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, "INBOX", 20000));
	imap_backend_ops.close(&be);
}

/* What the UI does on "yes": pins the key shown, has the backend try
   again, and waits for the session. */
static void
pin_and_retry(struct backend *be, struct tls_peer *peer)
{
	struct tls_params	 par;
	struct error		 err;

	memset(&par, 0, sizeof par);
	par.host = mailtest_env("MAILTEST_HOST");
	par.pin_file = imaptest_pin_file;
	par.service = "imap";
	cr_assert_eq(tls_pin_store(&par, peer, &err), 0, "%s", err.msg);
	tls_peer_clear(peer);
	imap_backend_ops.retry(be, NULL);
	cr_assert(imaptest_wait(be, state_says, "connected", 15000), "%s",
	    be->state_msg);
}

Test(imap, a_login_refused_behind_cached_rows_asks_once_then_takes_a_typed_password)
{
	struct backend_params	 p;
	struct backend		*be;
	struct view		*v = NULL;
	struct error		 err;
	struct tls_peer		 peer;
	char			 msg[256], state[320], *path = NULL, *t;
	struct imap_stats	 st, st2;
	int			 logins;

	cache_inbox();
	p = imaptest_params(imaptest_url, "bob", NULL);
	p.password_cmd = "echo not-bobpw";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.open_view(be, "folder:\"INBOX\"",
	    VIEW_NEWEST_FIRST, 0, &v, &err), 0);
	cr_assert_gt(imap_backend_ops.view_count(v), 0, "the cached rows");
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, waits_for_user, NULL, 15000),
	    "the refused login is not handed to the user: %s", be->state_msg);
	memset(&peer, 0, sizeof peer);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_PASSWORD);
	cr_assert(strstr(msg, "login refused") != NULL, "%s", msg);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_NONE, "asked once for one failure");
	cr_assert_eq(imap_backend_ops.status(be, state, sizeof state), 1);
	cr_assert(strstr(state, "offline") != NULL, "%s", state);

	/* While the user has not answered, nothing tries the server. */
	logins = transcript_logins();
	imap_get_stats(be, &st);
	cr_assert_eq(imap_backend_ops.fetch_message(be, "x", &path, &err), -1);
	cr_assert_eq(err.kind, ERR_NET, "%s", err.msg);
	cr_assert(strstr(err.msg, "offline") != NULL, "%s", err.msg);
	cr_assert_eq(transcript_logins(), logins, "a login was sent");
	imap_get_stats(be, &st2);
	cr_assert_eq(st2.connects, st.connects, "a connection was made");

	/* Mail arrives meanwhile; the typed password brings it in. */
	imaptest_deliver("", 1, "arrived", 0);
	imap_backend_ops.retry(be, "bobpw");
	cr_assert(imaptest_wait(be, has_arrived, "INBOX", 15000),
	    "not online after the typed password: %s", be->state_msg);
	cr_assert_eq(imap_backend_ops.status(be, state, sizeof state), 0,
	    "%s", state);
	t = imaptest_transcript_copy();
	cr_assert(strstr(t, "bobpw") == NULL, "a password was logged");
	free(t);
	imap_backend_ops.close(&be);
}

Test(imap, a_failing_password_cmd_behind_cached_rows_says_its_exit_status)
{
	struct backend_params	 p;
	struct backend		*be;
	struct error		 err;
	char			 msg[256];

	cache_inbox();
	p = imaptest_params(imaptest_url, "bob", NULL);
	p.password_cmd = "exit 3";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert(imaptest_wait(be, waits_for_user, NULL, 15000), "%s",
	    be->state_msg);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, NULL),
	    BACKEND_ATTN_PASSWORD);
	cr_assert(strstr(msg, "password_cmd failed (exit 3)") != NULL, "%s",
	    msg);
	imap_backend_ops.retry(be, "bobpw");
	cr_assert(imaptest_wait(be, state_says, "connected", 15000), "%s",
	    be->state_msg);
	imap_backend_ops.close(&be);
}

Test(imap, a_certificate_refused_once_open_is_offered_again_by_sync_then_pinned)
{
	struct backend_params	 p;
	struct backend		*be;
	struct tls_peer		 peer;
	struct error		 err;
	char			 msg[256], state[320], *u;
	size_t			 added, removed;
	int			 cancel = 0, logins;

	cache_inbox();
	logins = transcript_logins();
	xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("UNKNOWNCA_IMAPS_PORT"));
	p = imaptest_params(u, "bob", NULL);
	p.password_cmd = "echo bobpw";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert(imaptest_wait(be, waits_for_user, NULL, 15000), "%s",
	    be->state_msg);
	memset(&peer, 0, sizeof peer);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_CERTIFICATE);
	cr_assert(strstr(msg, "issuer is unknown") != NULL, "%s", msg);
	cr_assert_neq(peer.fingerprint[0], '\0');
	cr_assert_not_null(peer.der, "the certificate, to pin");
	tls_peer_clear(&peer);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_NONE, "asked once for one failure");
	cr_assert_eq(transcript_logins(), logins,
	    "no credentials before trust");

	/* "No": offline. A sync tries again and asks again. */
	cr_assert_eq(imap_backend_ops.sync(be, NULL, NULL, &cancel, &added,
	    &removed, &err), 0, "%s", err.msg);
	cr_assert_eq(imap_backend_ops.status(be, state, sizeof state), 1);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_CERTIFICATE, "the sync offers it again");

	/* "Yes": the UI pins it and the session comes up. */
	pin_and_retry(be, &peer);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_NONE);
	imap_backend_ops.close(&be);
	free(u);
}

Test(imap, a_reconnect_that_meets_an_untrusted_certificate_asks_the_user)
{
	struct relay		 r;
	struct backend		*be;
	struct view		*v;
	struct tls_peer		 peer;
	char			*u, msg[256];

	signal(SIGPIPE, SIG_IGN);	/* as facteur's main does */
	imaptest_deliver("Reconnect", 2, "reconnect", 0);
	relay_start(&r);
	xasprintf(&u, "imaps://%s:%d", mailtest_env("MAILTEST_HOST"), r.port);
	be = open_ok(u, "bob", "bobpw");
	v = view_on(be, "Reconnect", 0);
	imap_backend_ops.close_view(&v);

	/* The server comes back with a certificate nobody vouches for. */
	relay_cut(&r);
	cr_assert(imaptest_wait(be, state_says, "reconnecting", 15000), "%s",
	    be->state_msg);
	pthread_mutex_lock(&r.lock);
	r.target = "UNKNOWNCA_IMAPS_PORT";
	pthread_mutex_unlock(&r.lock);
	relay_restore(&r);
	cr_assert(imaptest_wait(be, waits_for_user, NULL, 30000), "%s",
	    be->state_msg);
	memset(&peer, 0, sizeof peer);
	cr_assert_eq(imap_backend_ops.attention(be, msg, sizeof msg, &peer),
	    BACKEND_ATTN_CERTIFICATE);
	cr_assert_neq(peer.fingerprint[0], '\0');
	pin_and_retry(be, &peer);
	imap_backend_ops.close(&be);
	relay_stop(&r);
	free(u);
}
