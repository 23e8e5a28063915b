/*
 * The other folders' counts while a folder is open and idle, against the
 * private Dovecot of tests/servers: pushed through NOTIFY by the main
 * server, polled with LIST-STATUS by the variant without NOTIFY and with
 * a STATUS per folder by the old-fashioned one; and subscriptions
 * (SUBSCRIBE/UNSUBSCRIBE checked with LSUB by a second connection, the
 * subscribed_only folder list).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/xmalloc.h"
#include "tests/integration/imaptest.h"
#include "tests/integration/mailtest.h"

/* What the folder list should say of one folder. */
struct counts {
	const char	*folder;
	unsigned long	 total;
	unsigned long	 unread;
	unsigned	 flags;		/* FOLDER_SUBSCRIBED, checked if set */
};

/* Whether list_folders (what the UI reads) shows the counts of arg. */
static int
counts_are(struct backend *be, const void *arg)
{
	const struct counts	*want = arg;
	struct folder_info	 fi;

	return (imaptest_folder(be, want->folder, &fi) &&
	    fi.total == want->total && fi.unread == want->unread &&
	    (fi.flags & want->flags) == want->flags);
}

/* Whether list_folders shows folder at all. */
static int
shown(struct backend *be, const char *folder)
{
	struct folder_info	fi;

	return (imaptest_folder(be, folder, &fi));
}

/* Opens bob's account on the IMAPS port named by port_key with INBOX
   open, and waits until the thread has it and the folder list. */
static struct backend *
open_inbox(const char *port_key, int poll_secs, int subscribed_only)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct view		*v = NULL;
	struct error		 err;
	char			*u, *q;

	xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env(port_key));
	p = imaptest_params(u, "bob", "bobpw");
	p.poll_secs = poll_secs;
	p.subscribed_only = subscribed_only;
	error_clear(&err);
	if (imap_backend_ops.open(&be, &p, &err) != 0)
		cr_assert_fail("open: %s", err.msg);
	q = imap_folder_query("INBOX");
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0);
	imap_backend_ops.close_view(&v);
	free(q);
	if (!imaptest_wait(be, imaptest_loaded, "INBOX", 15000)) {
		char	*t = imaptest_transcript_copy();

		cr_assert_fail("INBOX never loaded:\n%s", t);
	}
	free(u);	/* the backend keeps its own copy */
	return (be);
}

/* Another client appends an unread message to folder. */
static void
peer_append(const char *folder)
{
	struct mailimap_flag_list	*fl;
	const char			*msg = "From: a@example.org\r\n"
					    "Subject: elsewhere\r\n\r\nhi\r\n";
	mailimap			*s = imaptest_peer();

	fl = mailimap_flag_list_new_empty();
	cr_assert_eq(mailimap_append(s, folder, fl, NULL, msg, strlen(msg)),
	    MAILIMAP_NO_ERROR);
	mailimap_flag_list_free(fl);
	mailimap_logout(s);
	mailimap_free(s);
}

/* Whether another client's LSUB lists folder. */
static int
peer_subscribed(const char *folder)
{
	struct mailimap_mailbox_list	*mb;
	clist				*list = NULL;
	clistiter			*it;
	mailimap			*s = imaptest_peer();
	int				 found = 0;

	cr_assert_eq(mailimap_lsub(s, "", "*", &list), MAILIMAP_NO_ERROR);
	for (it = list != NULL ? clist_begin(list) : NULL; it != NULL;
	    it = clist_next(it)) {
		mb = clist_content(it);
		found |= strcmp(mb->mb_name, folder) == 0;
	}
	if (list != NULL)
		mailimap_list_result_free(list);
	mailimap_logout(s);
	mailimap_free(s);
	return (found);
}

/*
 * The scenario every variant must pass: folder has one unread and one
 * read message; with INBOX open and idle on the server of port_key,
 * another client appends to it (2 unread of 3), then marks the first read
 * (1 unread of 3). The folder list follows, with no call from us.
 */
static struct backend *
counts_follow_another_client(const char *port_key, int poll_secs,
    const char *folder)
{
	struct backend	*be;
	struct counts	 c = { folder, 2, 1, 0 };

	imaptest_deliver(folder, 1, "unread", 0);
	imaptest_deliver(folder, 1, "read", 1);
	be = open_inbox(port_key, poll_secs, 0);

	cr_assert(imaptest_wait(be, counts_are, &c, 15000),
	    "%s: no first counts", folder);
	usleep(300000);		/* let the thread enter IDLE */
	peer_append(folder);
	c.total = 3;
	c.unread = 2;
	cr_assert(imaptest_wait(be, counts_are, &c, 15000),
	    "%s: the delivery never showed in the counts", folder);
	imaptest_peer_seen(folder, 1);
	c.unread = 1;
	cr_assert(imaptest_wait(be, counts_are, &c, 15000),
	    "%s: the message read elsewhere never showed", folder);
	return (be);
}

static void
counts_setup(void)
{
	imaptest_setup("test-imap-counts");
}

TestSuite(counts, .init = counts_setup, .fini = imaptest_teardown,
    .timeout = 60);

Test(counts, notify_pushes_other_folders_counts_while_inbox_idles)
{
	struct backend	*be;

	be = counts_follow_another_client("IMAPS_PORT", 0, "Pushed");
	cr_assert(imaptest_transcript_has("NOTIFY SET STATUS (SELECTED "
	    "(MessageNew MessageExpunge FlagChange)) (PERSONAL"));
	/* Pushed, not asked: no STATUS command named the folder. */
	cr_assert_not(imaptest_transcript_has("STATUS Pushed (MESSAGES "
	    "UNSEEN)"));
	cr_assert_not(imaptest_transcript_has("RETURN (STATUS"));
	imap_backend_ops.close(&be);
}

Test(counts, libetpan_commands_work_between_notify_idles)
{
	struct backend		*be;
	struct imap_stats	 st0, st1;
	struct error		 err;
	struct counts		 c = { "Busy", 4, 4, 0 };
	char			*path;
	FILE			*f;

	imaptest_deliver("Busy", 1, "unread", 0);
	xasprintf(&path, "%s/ours.eml", imaptest_dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("From: bob@localhost\nSubject: ours\n\nappended\n", f);
	fclose(f);
	be = open_inbox("IMAPS_PORT", 0, 0);
	imap_get_stats(be, &st0);
	/* Deliveries while we hold the session (NOTIFY is off then), and
	   a folder operation through libetpan in between. */
	imap_conn_acquire(be);
	peer_append("Busy");
	imap_conn_release(be);
	error_clear(&err);
	cr_assert_eq(imap_backend_ops.create_folder(be, "BusyToo", &err), 0,
	    "%s", err.msg);
	peer_append("Busy");
	usleep(300000);		/* the push arrives during IDLE */
	/* APPEND waits for the server's "+": a STATUS there would break
	   libetpan's reading of it. */
	cr_assert_eq(imap_backend_ops.append(be, "Busy", path, MSG_UNREAD,
	    &err), 0, "%s", err.msg);
	free(path);
	cr_assert(imaptest_wait(be, counts_are, &c, 15000),
	    "counts lost while NOTIFY was off");
	cr_assert_eq(imap_backend_ops.delete_folder(be, "BusyToo", &err), 0,
	    "%s", err.msg);
	imap_get_stats(be, &st1);
	cr_assert_eq(st1.connects, st0.connects, "the session was dropped:\n%s",
	    imaptest_transcript_copy());
	imap_backend_ops.close(&be);
}

Test(counts, without_notify_list_status_polls_the_counts)
{
	struct backend	*be;

	be = counts_follow_another_client("NONOTIFY_IMAPS_PORT", 1, "Listed");
	cr_assert(imaptest_transcript_has("LIST \"\" \"*\" RETURN (STATUS "
	    "(MESSAGES UNSEEN))"));
	cr_assert_not(imaptest_transcript_has("NOTIFY"));
	imap_backend_ops.close(&be);
}

Test(counts, old_server_polls_a_status_per_folder)
{
	struct backend	*be;

	be = counts_follow_another_client("OLDCAP_IMAPS_PORT", 1, "Polled");
	cr_assert_not(imaptest_transcript_has("NOTIFY"));
	cr_assert_not(imaptest_transcript_has("RETURN (STATUS"));
	imap_backend_ops.close(&be);
}

/* Whether folder has n rows. */
struct rows {
	const char	*folder;
	size_t		 n;
};
static int
rows_are(struct backend *be, const void *arg)
{
	const struct rows	*want = arg;
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, want->folder)) != NULL && f->loaded &&
	    f->norder == want->n;
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

Test(counts, an_empty_folder_opens_and_its_first_mail_arrives_by_idle)
{
	struct backend	*be;
	struct view	*v = NULL;
	struct error	 err;
	struct rows	 r = { "Empty", 0 };
	char		*q = imap_folder_query("Empty");

	imaptest_deliver("Empty", 0, "", 0);
	be = open_inbox("IMAPS_PORT", 0, 0);
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0);
	imap_backend_ops.close_view(&v);
	free(q);
	/* Nothing to sort: the folder is loaded at once. */
	cr_assert(imaptest_wait(be, imaptest_loaded, "Empty", 15000),
	    "an empty folder never loads");
	cr_assert(rows_are(be, &r));
	usleep(300000);		/* let the thread enter IDLE */
	peer_append("Empty");
	r.n = 1;
	cr_assert(imaptest_wait(be, rows_are, &r, 15000),
	    "the first message never arrived");
	imap_backend_ops.close(&be);
}

Test(counts, subscribe_and_unsubscribe_reach_the_server)
{
	struct backend	*be;
	struct error	 err;
	struct counts	 c = { "Sub", 1, 1, FOLDER_SUBSCRIBED };

	imaptest_deliver("Sub", 1, "unread", 0);
	be = open_inbox("IMAPS_PORT", 0, 0);
	cr_assert_not(peer_subscribed("Sub"));
	error_clear(&err);
	cr_assert_eq(imap_backend_ops.subscribe_folder(be, "Sub", 1, &err), 0,
	    "%s", err.msg);
	cr_assert(peer_subscribed("Sub"), "LSUB does not list it");
	cr_assert(imaptest_wait(be, counts_are, &c, 15000),
	    "the list does not mark it subscribed");
	cr_assert_eq(imap_backend_ops.subscribe_folder(be, "Sub", 0, &err), 0,
	    "%s", err.msg);
	cr_assert_not(peer_subscribed("Sub"), "LSUB still lists it");
	c.flags = 0;
	cr_assert(counts_are(be, &c));
	imap_backend_ops.close(&be);
}

Test(counts, subscribed_only_lists_subscribed_inbox_and_special_use)
{
	struct backend	*be;
	mailimap	*s;
	struct counts	 kept = { "Kept", 1, 1, FOLDER_SUBSCRIBED };

	imaptest_deliver("Kept", 1, "x", 0);
	imaptest_deliver("Hidden", 1, "x", 0);
	imaptest_deliver("Trash", 1, "x", 0);	/* special-use */
	s = imaptest_peer();
	cr_assert_eq(mailimap_subscribe(s, "Kept"), MAILIMAP_NO_ERROR);
	mailimap_logout(s);
	mailimap_free(s);
	be = open_inbox("IMAPS_PORT", 0, 1);
	cr_assert(imaptest_wait(be, counts_are, &kept, 15000), "no list");
	cr_assert(shown(be, "INBOX"));
	cr_assert(shown(be, "Kept"));
	cr_assert(shown(be, "Trash"));
	cr_assert_not(shown(be, "Hidden"));
	imap_backend_ops.close(&be);

	be = open_inbox("IMAPS_PORT", 0, 0);
	cr_assert(imaptest_wait(be, counts_are, &kept, 15000), "no list");
	cr_assert(shown(be, "Hidden"), "without the option every folder shows");
	imap_backend_ops.close(&be);
}
