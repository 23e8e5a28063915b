/*
 * POP3 in the interface: the fetch-mail action, a fetch when a POP3
 * account opens and every poll_interval after, progress in the status
 * line, cancellation with ^C, the password asked without echo when the
 * account has no password_cmd, and an untrusted certificate shown with
 * its fingerprint and pinned on "yes". The fetch itself (fetcher_run, of
 * backend/fetcher.h) runs on the account's worker and indexes into the
 * account's local backend; each indexed batch reloads the index through
 * the account's notify path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/fetcher.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "net/net.h"
#include "ui/ui.h"

/* What started a fetch: the user (everything said), the account's
   opening (the password may be asked; no "no new mail"), or the poll
   timer (never asks; only news and errors). */
#define POP3UI_USER		0
#define POP3UI_START		1
#define POP3UI_POLL		2

/* One POP3 account's state on the loop thread. */
struct pop3ui_entry {
	struct ui		*ui;
	struct account		*account;
	struct job		*job;		/* the fetch running, or NULL */
	struct pop3ui_job	*fetch;		/* its argument */
	struct loop_timer	*poll;
	long			 poll_secs;
	int			 asking;	/* a prompt is up */
	int			 ask_why;	/* what asked it */
	int			 failed_config;	/* reported once */
};

/* A fetch job's argument; it owns everything the worker touches. */
struct pop3ui_job {
	struct ui		*ui;
	struct account		*account;
	struct fetcher		*fetcher;
	struct job		*job;
	char			*password;	/* a copy, wiped in free */
	char			*tags;
	int			 cancel[2];	/* pipe: readable cancels */
	int			 why;
	struct fetch_stats	 stats;
	struct tls_peer		 peer;		/* shown on ERR_TLS */
};

/* An untrusted certificate the user is asked about. */
struct pop3ui_trust {
	struct pop3ui_entry	*entry;
	struct fetcher		*fetcher;
	struct tls_peer		 peer;
	int			 why;
};

static struct pop3ui_entry	**pop3ui_entries;
static size_t			 pop3ui_nentries;

static void	pop3ui_start(struct ui *, struct pop3ui_entry *, int);

/* The entry of a POP3 account (created on first use), or NULL. */
static struct pop3ui_entry *
pop3ui_entry(struct ui *ui, struct account *a)
{
	struct pop3ui_entry	*e;
	size_t			 i;

	if (a == NULL || a->config == NULL || !fetcher_wants(a->config))
		return (NULL);
	for (i = 0; i < pop3ui_nentries; i++) {
		if (pop3ui_entries[i]->account == a)
			return (pop3ui_entries[i]);
	}
	pop3ui_entries = xreallocarray(pop3ui_entries, pop3ui_nentries + 1,
	    sizeof *pop3ui_entries);
	e = xcalloc(1, sizeof *e);
	pop3ui_entries[pop3ui_nentries++] = e;
	e->ui = ui;
	e->account = a;
	return (e);
}

/* Worker: the fetcher's progress, with its rate, to the loop thread. */
static void
pop3ui_progress_worker(void *arg, size_t done, size_t total,
    uint64_t bytes, double secs)
{
	struct pop3ui_job	*f = arg;
	char			 rate[32];

	snprintf(rate, sizeof rate, "%.1f", secs > 0.05 ?
	    (double)bytes / 1e6 / secs : 0.0);
	job_progress(f->job, done, total, rate);
}

/* Worker: a batch was indexed; the index reloads on the loop thread. */
static void
pop3ui_indexed_worker(void *arg)
{
	struct pop3ui_job	*f = arg;
	struct account		*a = f->account;

	if (!job_cancelled(f->job) && a->params.notify != NULL)
		a->params.notify(a->params.notify_arg, 0);
}

/* Worker: the password, then the fetch into the local backend. */
static int
pop3ui_run(struct job *j, void *arg)
{
	struct pop3ui_job	*f = arg;
	struct fetch_params	 fp;

	if (f->account->backend == NULL)
		return (error_set(job_error(j), ERR_IO, "%s: the Maildir is "
		    "not open", f->account->name));
	if (f->password == NULL &&
	    (f->password = fetcher_password(f->fetcher, 1, f->cancel[0],
	    job_error(j))) == NULL)
		return (-1);
	memset(&fp, 0, sizeof fp);
	fp.password = f->password;
	fp.local = f->account->backend;
	fp.tags = f->tags;
	fp.cancel_fd = f->cancel[0];
	fp.cancel = job_cancel_flag(j);
	fp.progress = pop3ui_progress_worker;
	fp.indexed = pop3ui_indexed_worker;
	fp.arg = f;
	fp.peer = &f->peer;
	return (fetcher_run(f->fetcher, &fp, &f->stats, job_error(j)));
}

/* Loop thread: "bob: Fetching 120/5000, 3.1 MB/s". */
static void
pop3ui_progress(struct job *j, void *arg, size_t done, size_t total,
    const char *rate)
{
	struct pop3ui_job	*f = arg;
	char			 text[128];

	if (total == 0)
		snprintf(text, sizeof text, "%s: checking for mail",
		    f->account->name);
	else
		snprintf(text, sizeof text, "%s: Fetching %zu/%zu, %s MB/s",
		    f->account->name, done, total, rate);
	ui_progress(f->ui, text);
}

/* Loop thread: the poll timer fired. */
static void
pop3ui_poll(struct loop *loop, void *arg)
{
	struct pop3ui_entry	*e = arg;

	e->poll = NULL;
	pop3ui_start(e->ui, e, POP3UI_POLL);
}

/* Arms the next background fetch, poll_interval from now. */
static void
pop3ui_arm(struct pop3ui_entry *e)
{
	struct loop	*loop = ui_loop(e->ui);

	loop_cancel_timer(loop, &e->poll);
	if (e->poll_secs > 0)
		e->poll = loop_add_timer(loop, (int64_t)e->poll_secs * 1000,
		    pop3ui_poll, e);
}

/* The trust prompt's answer: pin the key and fetch again, or give up. */
static void
pop3ui_trust_done(struct ui *ui, const char *text, void *arg)
{
	struct pop3ui_trust	*t = arg;
	struct pop3ui_entry	*e = t->entry;
	const char		*name = e->account->name;
	struct error		 err;

	ui_pop(ui);		/* the certificate's details */
	e->asking = 0;
	if (text == NULL || (strcasecmp(text, "yes") != 0 &&
	    strcasecmp(text, "y") != 0))
		ui_error(ui, "%s: certificate not trusted; not fetched", name);
	else if (fetcher_trust(t->fetcher, &t->peer, &err) != 0)
		ui_error(ui, "%s", err.msg);
	else {
		ui_message(ui, "%s: certificate pinned in %s", name,
		    fetcher_info(t->fetcher)->pin_file);
		pop3ui_start(ui, e, t->why);
	}
	if (e->job == NULL && !e->asking)
		pop3ui_arm(e);
	tls_peer_clear(&t->peer);
	fetcher_free(&t->fetcher);
	free(t);
}

/*
 * Shows the certificate a fetch refused (fingerprint, subject, issuer,
 * expiry, reason) and asks whether to trust it. Takes the job's peer and
 * fetcher. Returns 0 when the question is up.
 */
static int
pop3ui_trust(struct ui *ui, struct pop3ui_entry *e, struct pop3ui_job *f,
    const struct error *err)
{
	const struct fetcher_info	*fi = fetcher_info(f->fetcher);
	struct tls_peer			*peer = &f->peer;
	struct pop3ui_trust		*t;

	if (err->kind != ERR_TLS || peer->fingerprint[0] == '\0' ||
	    peer->key_changed || fi->pin_file == NULL || e->asking ||
	    f->why == POP3UI_POLL)
		return (-1);
	credentials_show_certificate(ui, fi->name, fi->server, peer,
	    err->msg, fi->pin_file);
	t = xcalloc(1, sizeof *t);
	t->entry = e;
	t->why = f->why;
	t->fetcher = f->fetcher;
	f->fetcher = NULL;
	t->peer = *peer;		/* takes its certificate */
	memset(peer, 0, sizeof *peer);
	e->asking = 1;
	ui_prompt(ui, "Trust this certificate? (yes/no) ", NULL,
	    pop3ui_trust_done, t);
	return (0);
}

/* Loop thread: the fetch ended (not called when cancelled). */
static void
pop3ui_done(struct job *j, void *arg, int result, const struct error *err)
{
	struct pop3ui_job	*f = arg;
	struct pop3ui_entry	*e = pop3ui_entry(f->ui, f->account);
	struct ui		*ui = f->ui;
	struct account		*a = f->account;
	size_t			 n;

	if (e != NULL && e->job == j) {
		e->job = NULL;
		e->fetch = NULL;
	}
	ui_progress(ui, NULL);
	if (result != 0) {
		if (err->kind == ERR_AUTH && a->config->password_cmd == NULL &&
		    a->password != NULL) {
			/* The typed password was refused: ask next time. */
			explicit_bzero(a->password, strlen(a->password));
			free(a->password);
			a->password = NULL;
		}
		if (e != NULL && pop3ui_trust(ui, e, f, err) == 0)
			return;
		ui_error(ui, "%s", err->msg);
	} else {
		n = f->stats.fetched + f->stats.recovered;
		if (n > 0)
			ui_message(ui, "%s: %zu new message%s (%.1f MB in "
			    "%.1f s)", a->name, n, n == 1 ? "" : "s",
			    (double)f->stats.bytes / 1e6, f->stats.seconds);
		else if (f->why == POP3UI_USER)
			ui_message(ui, "%s: no new mail", a->name);
		if (n > 0)
			index_store_changed(ui, a);
	}
	if (e != NULL)
		pop3ui_arm(e);
}

/* Frees a fetch's argument, wiping its password copy. */
static void
pop3ui_job_free(void *arg)
{
	struct pop3ui_job	*f = arg;

	fetcher_secret_free(&f->password);
	fetcher_free(&f->fetcher);
	tls_peer_clear(&f->peer);
	free(f->tags);
	if (f->cancel[0] != -1)
		close(f->cancel[0]);
	if (f->cancel[1] != -1)
		close(f->cancel[1]);
	free(f);
}

/* Queues a fetch on the account's worker. */
static void
pop3ui_submit(struct ui *ui, struct pop3ui_entry *e, int why)
{
	struct account		*a = e->account;
	struct pop3ui_job	*f;
	struct error		 err;
	char			 text[128];

	f = xcalloc(1, sizeof *f);
	f->ui = ui;
	f->account = a;
	f->why = why;
	if (fetcher_new(a->config, &f->fetcher, &err) != 0) {
		if (!e->failed_config || why == POP3UI_USER)
			ui_error(ui, "%s", err.msg);
		e->failed_config = 1;
		free(f);
		return;
	}
	if (pipe2(f->cancel, O_CLOEXEC | O_NONBLOCK) == -1) {
		ui_error(ui, "%s: %s", a->name, strerror(errno));
		fetcher_free(&f->fetcher);
		free(f);
		return;
	}
	if (a->config->password_cmd == NULL)
		f->password = xstrdup(a->password);
	xasprintf(&f->tags, "+inbox +unread +%s", a->name);
	f->job = job_new("fetch", pop3ui_run, pop3ui_done, f);
	job_set_progress(f->job, pop3ui_progress);
	job_set_free(f->job, pop3ui_job_free);
	e->job = f->job;
	e->fetch = f;
	worker_submit(a->worker, f->job);
	snprintf(text, sizeof text, "%s: connecting", a->name);
	ui_progress(ui, text);
}

/* The password prompt's answer. */
static void
pop3ui_password_done(struct ui *ui, const char *text, void *arg)
{
	struct pop3ui_entry	*e = arg;
	struct account		*a = e->account;

	e->asking = 0;
	if (text == NULL || *text == '\0') {
		ui_message(ui, "%s: no password given; not fetched", a->name);
		pop3ui_arm(e);
		return;
	}
	if (a->password != NULL)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	a->password = xstrdup(text);
	pop3ui_submit(ui, e, e->ask_why);
}

/* Starts a fetch unless one runs; asks for the password first when the
   account has no password_cmd and none was typed yet. */
static void
pop3ui_start(struct ui *ui, struct pop3ui_entry *e, int why)
{
	struct account		*a = e->account;
	struct fetcher		*fe;
	struct error		 err;
	char			 label[64];

	if (e->job != NULL || e->asking) {
		if (why == POP3UI_USER)
			ui_message(ui, "%s: already fetching (^C cancels)",
			    a->name);
		return;
	}
	if (a->backend == NULL) {
		if (why == POP3UI_USER)
			ui_message(ui, "%s: not open yet", a->name);
		return;
	}
	if (a->config->password_cmd != NULL || a->password != NULL) {
		pop3ui_submit(ui, e, why);
		return;
	}
	/* A prompt out of the blue would steal the user's keys. */
	if (why == POP3UI_POLL) {
		pop3ui_arm(e);
		return;
	}
	if (fetcher_new(a->config, &fe, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	snprintf(label, sizeof label, "Password for %s@%s: ",
	    fetcher_info(fe)->user, fetcher_info(fe)->host);
	fetcher_free(&fe);
	e->asking = 1;
	e->ask_why = why;
	ui_prompt_secret(ui, label, pop3ui_password_done, e);
}

void
pop3ui_fetch(struct ui *ui)
{
	struct pop3ui_entry	*e;
	struct account		*a = ui_account(ui);
	size_t			 i;
	int			 any = 0;

	/* The account shown first, then the other POP3 accounts. */
	if ((e = pop3ui_entry(ui, a)) != NULL) {
		pop3ui_start(ui, e, POP3UI_USER);
		return;
	}
	for (i = 0; i < ui_account_count(ui); i++) {
		if ((e = pop3ui_entry(ui, ui_account_at(ui, i))) != NULL) {
			pop3ui_start(ui, e, POP3UI_USER);
			any = 1;
			break;
		}
	}
	if (!any)
		ui_message(ui, "%s: not a POP3 account: nothing to fetch",
		    a->name);
}

void
pop3ui_opened(struct ui *ui, struct account *a)
{
	struct pop3ui_entry	*e;
	struct fetcher		*fe;
	struct error		 err;

	if ((e = pop3ui_entry(ui, a)) == NULL)
		return;
	if (fetcher_new(a->config, &fe, &err) != 0) {
		e->failed_config = 1;
		ui_error(ui, "%s", err.msg);
		return;
	}
	e->poll_secs = fetcher_info(fe)->poll_secs;
	fetcher_free(&fe);
	pop3ui_start(ui, e, POP3UI_START);
}

int
pop3ui_cancel(struct ui *ui)
{
	struct pop3ui_entry	*e;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < pop3ui_nentries; i++) {
		e = pop3ui_entries[i];
		if (e->job == NULL)
			continue;
		/* The flag stops it between messages, the pipe mid-read. */
		job_cancel(e->job);
		if (write(e->fetch->cancel[1], "x", 1) == -1)
			log_warn("%s: cancel", e->account->name);
		e->job = NULL;
		e->fetch = NULL;
		pop3ui_arm(e);
		if (ui != NULL)
			ui_message(ui, "%s: fetch cancelled; what arrived is "
			    "kept", e->account->name);
		n++;
	}
	if (n > 0 && ui != NULL)
		ui_progress(ui, NULL);
	return (n > 0);
}

void
pop3ui_shutdown(struct ui *ui)
{
	size_t	i;

	pop3ui_cancel(NULL);
	for (i = 0; i < pop3ui_nentries; i++) {
		loop_cancel_timer(ui_loop(ui), &pop3ui_entries[i]->poll);
		free(pop3ui_entries[i]);
	}
	free(pop3ui_entries);
	pop3ui_entries = NULL;
	pop3ui_nentries = 0;
}
