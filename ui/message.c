/*
 * Actions on one message or thread, shared by the index and the pager:
 * read/unread, flag, delete/undelete, tags, save to a folder. The model
 * changes at once (instant redraw); the write goes to the account's
 * worker, and the reader handle is refreshed when it is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"
#include "ui/ui.h"

struct message_job {
	struct ui	*ui;
	struct account	*account;
	char		**ids;
	size_t		 n;
	unsigned	 add;
	unsigned	 remove;
	char		*tags;		/* set_tags changes, or NULL */
	char		*folder;	/* move target, or NULL */
};

static void
message_job_free(void *arg)
{
	struct message_job	*mj = arg;
	size_t			 i;

	for (i = 0; i < mj->n; i++)
		free(mj->ids[i]);
	free(mj->ids);
	free(mj->tags);
	free(mj->folder);
	free(mj);
}

static int
message_job_run(struct job *j, void *arg)
{
	struct message_job	*mj = arg;
	struct account		*a = mj->account;
	const char *const	*ids = (const char *const *)mj->ids;

	if (mj->folder != NULL)
		return (a->ops->move(a->backend, ids, mj->n, mj->folder,
		    job_error(j)));
	if (mj->tags != NULL)
		return (a->ops->set_tags(a->backend, ids, mj->n, mj->tags,
		    job_error(j)));
	return (a->ops->set_flags(a->backend, ids, mj->n, mj->add,
	    mj->remove, job_error(j)));
}

static void
message_job_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct message_job	*mj = arg;
	struct error		 e;

	if (result != 0) {
		ui_error(mj->ui, "%s", err->msg);
		/* Show the store's truth again. */
		index_store_changed(mj->ui, mj->account);
		return;
	}
	if (mj->folder != NULL) {
		ui_message(mj->ui, "Moved %zu message%s to %s", mj->n,
		    mj->n == 1 ? "" : "s", mj->folder);
		index_store_changed(mj->ui, mj->account);
		return;
	}
	error_clear(&e);
	if (mj->account->ops->refresh(mj->account->backend, &e) != 0)
		ui_error(mj->ui, "%s", e.msg);
	folders_refresh(mj->ui);
}

/* The ids a row stands for: itself, or every message of its thread. */
static int
message_ids(struct ui *ui, struct mailbox *mb, struct mailbox_row *r,
    struct message_job *mj)
{
	struct account		*a = mb->account;
	struct summary_batch	 b;
	struct error		 err;
	size_t			 i;

	if (r->s.thread_total > 1 && !r->child && !r->expanded) {
		summary_batch_init(&b);
		if (a->ops->thread_messages(a->backend, r->s.thread,
		    mb->base_query, &b, &err) != 0) {
			ui_error(ui, "%s", err.msg);
			summary_batch_free(&b);
			return (-1);
		}
		mj->ids = xcalloc(b.n + 1, sizeof *mj->ids);
		for (i = 0; i < b.n; i++)
			mj->ids[mj->n++] = xstrdup(b.v[i].id);
		summary_batch_free(&b);
		return (0);
	}
	mj->ids = xcalloc(1, sizeof *mj->ids);
	mj->ids[mj->n++] = xstrdup(r->s.id);
	return (0);
}

static void
message_submit(struct ui *ui, struct mailbox *mb, struct mailbox_row *r,
    unsigned add, unsigned remove, const char *tags, const char *folder)
{
	struct message_job	*mj;
	struct job		*j;

	mj = xcalloc(1, sizeof *mj);
	mj->ui = ui;
	mj->account = mb->account;
	mj->add = add;
	mj->remove = remove;
	mj->tags = tags != NULL ? xstrdup(tags) : NULL;
	mj->folder = folder != NULL ? xstrdup(folder) : NULL;
	if (message_ids(ui, mb, r, mj) != 0) {
		message_job_free(mj);
		return;
	}
	j = job_new("flags", message_job_run, message_job_done, mj);
	job_set_free(j, message_job_free);
	worker_submit(mb->account->worker, j);
}

struct message_prompt {
	struct mailbox	*mb;
	char		*id;
	int		 move;
};

static void
message_prompt_done(struct ui *ui, const char *text, void *arg)
{
	struct message_prompt	*mp = arg;
	struct mailbox		*mb = ui_index_mailbox(ui);
	struct mailbox_row	*r;
	long			 at;

	if (text != NULL && *text != '\0' && mb == mp->mb &&
	    (at = mailbox_find(mb, mp->id)) >= 0) {
		r = &mb->rows[at];
		if (mp->move)
			message_submit(ui, mb, r, 0, 0, NULL, text);
		else {
			if (strspn(text, " ") == strlen(text) ||
			    (text[0] != '+' && text[0] != '-')) {
				ui_error(ui, "Tags are changed as +tag -tag");
			} else {
				unsigned	before = r->s.flags;

				mailbox_row_apply_tags(r, text);
				mailbox_count_flags(mb, before, r->s.flags);
				message_submit(ui, mb, r, 0, 0, text, NULL);
			}
		}
		ui_redraw(ui);
	}
	free(mp->id);
	free(mp);
}

/*
 * Tab in the "Move to folder" prompt: the account's folders (not its
 * saved searches) whose name starts with the text, case folded. One
 * match completes; several extend the text to what they share and are
 * listed.
 */
static void
message_complete_folder(struct ui *ui, const char *text, void *arg,
    struct ui_completion *out)
{
	struct message_prompt	*mp = arg;
	struct account		*a = mp->mb->account;
	struct folder_list	 fl = { NULL, 0 };
	struct error		 err;
	struct buf		 shown;
	const char		*first = NULL, *name;
	size_t			 i, len = strlen(text), common = 0, n = 0, k;

	error_clear(&err);
	if (a->ops->list_folders(a->backend, &fl, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	buf_init(&shown);
	for (i = 0; i < fl.n; i++) {
		name = fl.v[i].name;
		if ((fl.v[i].flags & FOLDER_SEARCH) ||
		    strncasecmp(name, text, len) != 0)
			continue;
		if (n++ == 0) {
			first = name;
			common = strlen(name);
		} else {
			for (k = 0; k < common && strncasecmp(first + k,
			    name + k, 1) == 0; k++)
				;
			common = k;
		}
		if (shown.len < 1024)
			buf_addf(&shown, "  %s", name);
	}
	if (n == 1)
		out->text = xstrdup(first);
	else if (n > 1) {
		if (common > len)
			out->text = xstrndup(first, common);
		xasprintf(&out->shown, "%zu matches:%s", n,
		    buf_str(&shown));
	} else
		out->shown = xstrdup("No folder starts with that.");
	buf_free(&shown);
	folder_list_free(&fl);
}

int
ui_message_action(struct ui *ui, struct mailbox *mb, size_t i,
    const char *a)
{
	struct mailbox_row	*r;
	struct message_prompt	*mp;
	struct error		 err;
	unsigned		 add = 0, remove = 0;
	int			 advance = 0;

	if (mb == NULL)
		return (0);
	error_clear(&err);
	if ((r = mailbox_row(mb, i, &err)) == NULL) {
		if (strcmp(a, "toggle-new") == 0 ||
		    strcmp(a, "flag-message") == 0 ||
		    strcmp(a, "delete-message") == 0 ||
		    strcmp(a, "undelete-message") == 0 ||
		    strcmp(a, "modify-tags") == 0 ||
		    strcmp(a, "save-message") == 0) {
			ui_message(ui, "No message selected.");
			return (1);
		}
		return (0);
	}
	if (strcmp(a, "toggle-new") == 0) {
		if (r->s.flags & MSG_UNREAD)
			remove = MSG_UNREAD;
		else
			add = MSG_UNREAD;
	} else if (strcmp(a, "flag-message") == 0) {
		if (r->s.flags & MSG_FLAGGED)
			remove = MSG_FLAGGED;
		else
			add = MSG_FLAGGED;
	} else if (strcmp(a, "delete-message") == 0) {
		add = MSG_DELETED;
		advance = 1;
	} else if (strcmp(a, "undelete-message") == 0) {
		remove = MSG_DELETED;
		advance = 1;
	} else if (strcmp(a, "modify-tags") == 0 ||
	    strcmp(a, "save-message") == 0) {
		mp = xcalloc(1, sizeof *mp);
		mp->mb = mb;
		mp->id = xstrdup(r->s.id);
		mp->move = strcmp(a, "save-message") == 0;
		if (mp->move && mb->account->ops->move == NULL) {
			ui_error(ui, "This account cannot move messages.");
			free(mp->id);
			free(mp);
			return (1);
		}
		if (mp->move)
			ui_prompt_complete(ui, "Move to folder: ", NULL,
			    message_prompt_done, message_complete_folder, mp);
		else
			ui_prompt(ui, "Tags (+tag -tag): ", NULL,
			    message_prompt_done, mp);
		return (1);
	} else
		return (0);

	if (!(r->s.thread_total > 1 && !r->child))
		mailbox_count_flags(mb, r->s.flags, (r->s.flags | add) &
		    ~remove);
	mailbox_row_set_flags(r, add, remove);
	message_submit(ui, mb, r, add, remove, NULL, NULL);
	if (advance && mailbox_row(mb, i + 1, &err) != NULL &&
	    ui_index_mailbox(ui) == mb && ui_index_cursor(ui) == i)
		ui_index_set_cursor(ui, i + 1);
	ui_redraw(ui);
	return (1);
}
