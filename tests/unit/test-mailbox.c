/*
 * The mailbox model over a fake backend: rows are pulled only as far as
 * asked, in order, once; threads expand and collapse in place; a reload
 * keeps the loaded depth; flag and tag edits change the row at once.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"

/* The fake store: n messages, ids m0..m(n-1), newest first; every
   fifth message is unread; thread "t0" holds m0, m1 and m2. */
static size_t	fake_n = 1000;
static size_t	fake_pulled;	/* rows handed out by view_next */
static size_t	fake_calls;	/* view_next calls */
static char	fake_last_query[256];

struct view {
	size_t	pos;
	size_t	count;
	int	unread_only;
};

static void
fake_row(struct summary_batch *b, size_t i, unsigned depth)
{
	struct summary	s;
	char		id[32], thread[32], subject[64];

	memset(&s, 0, sizeof s);
	snprintf(id, sizeof id, "m%zu", i);
	snprintf(thread, sizeof thread, "t%zu", i < 3 ? (size_t)0 : i);
	snprintf(subject, sizeof subject, "Subject %zu", i);
	s.id = id;
	s.thread = thread;
	s.subject = subject;
	s.from = "Alice";
	s.tags = i % 5 == 0 ? "inbox unread" : "inbox";
	s.flags = i % 5 == 0 ? MSG_UNREAD : 0;
	s.date = (int64_t)(2000000000 - i);
	s.depth = depth;
	summary_batch_add(b, &s);
}

static int
fake_open_view(struct backend *be, const char *q, enum view_order o,
    unsigned flags, struct view **vp, struct error *err)
{
	struct view	*v = xcalloc(1, sizeof *v);

	snprintf(fake_last_query, sizeof fake_last_query, "%s", q);
	v->unread_only = strstr(q, "tag:unread") != NULL;
	v->count = v->unread_only ? (fake_n + 4) / 5 : fake_n;
	*vp = v;
	return (0);
}

static int	fake_uncounted;	/* view_count does not know */

static size_t
fake_view_count(struct view *v)
{
	return (fake_uncounted && !v->unread_only ? VIEW_COUNT_UNKNOWN :
	    v->count);
}

static long
fake_view_next(struct view *v, size_t n, struct summary_batch *b,
    struct error *err)
{
	size_t	got = 0;

	fake_calls++;
	while (got < n && v->pos < v->count) {
		fake_row(b, v->pos++, 0);
		got++;
	}
	fake_pulled += got;
	return ((long)got);
}

static int
fake_thread_messages(struct backend *be, const char *thread,
    const char *q, struct summary_batch *b, struct error *err)
{
	size_t	i;

	if (strcmp(thread, "t0") != 0) {
		fake_row(b, (size_t)atoi(thread + 1), 0);
		return (0);
	}
	for (i = 0; i < 3; i++)
		fake_row(b, i, (unsigned)i);
	return (0);
}

static void
fake_close_view(struct view **vp)
{
	free(*vp);
	*vp = NULL;
}

static const struct backend_ops fake_ops = {
	.name = "fake",
	.open_view = fake_open_view,
	.view_count = fake_view_count,
	.view_next = fake_view_next,
	.thread_messages = fake_thread_messages,
	.close_view = fake_close_view,
};

static struct account	fake_account = { .name = "fake", .ops = &fake_ops };

static struct mailbox *
open_mb(const char *limit, unsigned flags)
{
	struct mailbox	*mb;
	struct error	 err;

	fake_pulled = fake_calls = 0;
	mb = mailbox_open(&fake_account, "INBOX", "folder:\"\"", limit,
	    VIEW_NEWEST_FIRST, flags, &err);
	cr_assert_not_null(mb, "%s", err.msg);
	return (mb);
}

Test(mailbox, opening_pulls_no_rows_and_knows_the_counts)
{
	struct mailbox	*mb = open_mb(NULL, 0);

	cr_assert_eq(fake_pulled, 0);
	cr_assert_eq(mailbox_total(mb), 1000);
	cr_assert_eq(mb->unread, 200);
	mailbox_free(&mb);
	cr_assert_null(mb);
}

Test(mailbox, first_screen_pulls_exactly_the_rows_shown)
{
	struct mailbox		*mb = open_mb(NULL, 0);
	struct mailbox_row	*r;
	struct error		 err;

	r = mailbox_row(mb, 21, &err);
	cr_assert_not_null(r);
	cr_assert_str_eq(r->s.id, "m21");
	cr_assert_eq(fake_pulled, 22);
	/* Rows already there cost nothing. */
	cr_assert_str_eq(mailbox_row(mb, 3, &err)->s.id, "m3");
	cr_assert_eq(fake_pulled, 22);
	/* One row further pulls a small chunk, not the rest. */
	mailbox_row(mb, 22, &err);
	cr_assert_leq(fake_pulled, 22 + 16);
	mailbox_free(&mb);
}

Test(mailbox, every_row_comes_once_in_order_and_the_end_is_known)
{
	struct mailbox	*mb = open_mb(NULL, 0);
	struct error	 err;
	size_t		 i;

	cr_assert_eq(mailbox_load_all(mb, &err), 0);
	cr_assert_eq(mb->nrows, 1000);
	cr_assert_eq(fake_pulled, 1000);
	for (i = 0; i < mb->nrows; i++) {
		char	want[32];

		snprintf(want, sizeof want, "m%zu", i);
		cr_assert_str_eq(mb->rows[i].s.id, want);
	}
	cr_assert_null(mailbox_row(mb, 1000, &err));
	cr_assert_eq(mailbox_find(mb, "m999"), 999);
	cr_assert_eq(mailbox_find(mb, "nope"), -1);
	mailbox_free(&mb);
}

Test(mailbox, limit_is_anded_with_the_folder_query)
{
	struct mailbox	*mb = open_mb("from:alice", 0);

	/* The last query is the unread count's: "(BASE) and (LIMIT...)",
	   the shape every backend splits the same way. */
	cr_assert_str_eq(fake_last_query,
	    "(folder:\"\") and ((from:alice) and tag:unread)");
	cr_assert_str_eq(mb->limit, "from:alice");
	mailbox_free(&mb);
}

Test(mailbox, thread_expands_after_its_row_and_collapses_back)
{
	struct mailbox	*mb = open_mb(NULL, VIEW_THREADS);
	struct error	 err;

	mailbox_row(mb, 5, &err);
	cr_assert_eq(mailbox_toggle_thread(mb, 0, &err), 0);
	cr_assert(mb->rows[0].expanded);
	cr_assert_eq(mailbox_total(mb), 1003);
	cr_assert_str_eq(mb->rows[1].s.id, "m0");
	cr_assert_eq(mb->rows[3].s.depth, 2);
	cr_assert(mb->rows[3].child);
	cr_assert_str_eq(mb->rows[4].s.id, "m1");	/* the next thread */
	/* Collapsing from a child collapses its thread. */
	cr_assert_eq(mailbox_toggle_thread(mb, 2, &err), 0);
	cr_assert_not(mb->rows[0].expanded);
	cr_assert_eq(mailbox_total(mb), 1000);
	cr_assert_str_eq(mb->rows[1].s.id, "m1");
	/* A thread of one message does not expand. */
	cr_assert_eq(mailbox_toggle_thread(mb, 4, &err), 0);
	cr_assert_not(mb->rows[4].expanded);
	mailbox_free(&mb);
}

Test(mailbox, reload_keeps_as_many_rows_as_were_loaded)
{
	struct mailbox	*mb = open_mb(NULL, 0);
	struct error	 err;

	mailbox_row(mb, 99, &err);
	cr_assert_eq(mailbox_reload(mb, &err), 0);
	cr_assert_geq(mb->nrows, 100);
	cr_assert_eq(mailbox_find(mb, "m99"), 99);
	mailbox_free(&mb);
}

Test(mailbox, flag_and_tag_edits_change_the_row_and_counts)
{
	struct mailbox		*mb = open_mb(NULL, 0);
	struct mailbox_row	*r;
	struct error		 err;

	r = mailbox_row(mb, 0, &err);
	cr_assert(r->s.flags & MSG_UNREAD);
	mailbox_count_flags(mb, r->s.flags, r->s.flags & ~MSG_UNREAD);
	mailbox_row_set_flags(r, MSG_FLAGGED, MSG_UNREAD);
	cr_assert_eq(r->s.flags, MSG_FLAGGED);
	cr_assert_str_eq(r->s.tags, "inbox flagged");
	cr_assert_eq(mb->unread, 199);
	mailbox_row_apply_tags(r, "+work -inbox +work -nothere +unread");
	cr_assert_str_eq(r->s.tags, "flagged work unread");
	cr_assert(r->s.flags & MSG_UNREAD, "the unread tag is unread");
	mailbox_row_apply_tags(r, "-unread -work +flagged");
	cr_assert_str_eq(r->s.tags, "flagged");
	cr_assert_eq(r->s.flags, MSG_FLAGGED);
	mailbox_free(&mb);
}

Test(mailbox, an_uncounted_view_grows_as_rows_arrive_until_counted)
{
	struct mailbox	*mb;
	struct error	 err;

	fake_uncounted = 1;
	mb = open_mb(NULL, VIEW_THREADS);
	cr_assert_not(mb->count_known);
	cr_assert_eq(mailbox_total(mb), 0);
	cr_assert_not_null(mailbox_row(mb, 21, &err));
	cr_assert_eq(mailbox_total(mb), 22);
	/* The worker's count arrives. */
	mailbox_set_count(mb, 1000);
	cr_assert(mb->count_known);
	cr_assert_eq(mailbox_total(mb), 1000);
	mailbox_free(&mb);

	/* Or the end is reached first: then the count is known too. */
	mb = open_mb(NULL, 0);
	mailbox_free(&mb);
	mb = open_mb(NULL, VIEW_THREADS);
	cr_assert_eq(mailbox_load_all(mb, &err), 0);
	cr_assert(mb->count_known);
	cr_assert_eq(mailbox_total(mb), 1000);
	mailbox_free(&mb);
	fake_uncounted = 0;
}
