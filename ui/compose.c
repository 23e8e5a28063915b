/*
 * Composing: new messages, replies, forwards and drafts are edited as one
 * file (headers, blank line, body) in $VISUAL or $EDITOR, then reviewed
 * on a screen where recipients, subject and attachments change, and sent
 * through the outbox on the account's worker. Also the outbox screen.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "config/config.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"
#include "send/send.h"
#include "ui/ui.h"

struct compose {
	struct account		*account;
	struct send_draft	 d;
	size_t			 cursor;	/* selected attachment */
	char			*draft;		/* the resumed draft's file */
};

/* What a send or postpone job carries to the worker and back. */
struct compose_job {
	struct account		*account;
	struct ui		*ui;
	struct send_built	 built;
	int			 postpone;
	struct outbox_result	 res;
	char			*subject;
	int			 quiet;		/* say nothing if nothing due */
	char			*ehlo;		/* option ehlo_name, or NULL */
	int			 mode;		/* OUTBOX_FLUSH_* */
	time_t			 next_retry;	/* earliest deferred, or 0 */
	char			*draft;		/* to remove once sent */
};

static struct compose	*compose_pending;	/* for prompt callbacks */
static struct loop_timer *compose_retry_timer;	/* deferred messages */
static struct ui	*compose_retry_ui;
static struct account	*compose_retry_account;

static char		*compose_pin;	/* set on the loop, read by workers */

static void	compose_flush_submit(struct ui *, struct account *, int, int);

static void	compose_edit(struct ui *, struct compose *);
static void	compose_expand_aliases(struct ui *, struct send_draft *);

/* The account's config value for key, or NULL. */
static const char *
compose_conf(struct account *a, const char *key)
{
	if (a == NULL || a->config == NULL)
		return (NULL);
	return (config_account_get(a->config, key));
}

/* The same for a config block. */
static const char *
compose_conf_block(const struct config_account *ca, const char *key)
{
	return (ca != NULL ? config_account_get(ca, key) : NULL);
}

/* The current message's file in the index (or the pager over it). */
static char *
compose_current_path(struct ui *ui, struct account **ap)
{
	struct mailbox		*mb = ui_index_mailbox(ui);
	struct mailbox_row	*r;
	struct error		 err;
	char			*path = NULL;

	if (mb == NULL || (r = mailbox_row(mb, ui_index_cursor(ui), &err)) ==
	    NULL)
		return (NULL);
	*ap = mb->account;
	if ((*ap)->ops->message_path((*ap)->backend, r->s.id, &path, &err) !=
	    0) {
		ui_error(ui, "%s", err.msg);
		return (NULL);
	}
	return (path);
}

/* Writes text to a new 0600 file; returns its path. */
static char *
compose_tmpfile(struct ui *ui, const struct buf *text)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;
	int		 fd;
	size_t		 off = 0;
	ssize_t		 n;

	xasprintf(&path, "%s/facteur-compose-XXXXXX.eml",
	    dir != NULL && *dir == '/' ? dir : "/tmp");
	if ((fd = mkostemps(path, 4, O_CLOEXEC)) == -1) {
		ui_error(ui, "Cannot create a temporary file: %s",
		    strerror(errno));
		free(path);
		return (NULL);
	}
	fchmod(fd, 0600);
	while (off < text->len) {
		n = write(fd, text->data + off, text->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
	}
	close(fd);
	return (path);
}

/* Reads a whole file into b. */
static int
compose_slurp(const char *path, struct buf *b)
{
	char	chunk[8192];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_add(b, chunk, n);
	close(fd);
	return (n < 0 ? -1 : 0);
}

/*
 * Runs the editor on the draft (curses suspended) and reads it back. A
 * header the parser does not understand is said on the status line and
 * the text stays as written, so nothing typed is lost.
 */
static int
compose_run_editor(struct ui *ui, struct send_draft *d)
{
	const char	*ed = getenv("VISUAL");
	struct buf	 text;
	struct error	 err;
	char		*path, *argv[5];
	int		 r;

	if (ed == NULL || *ed == '\0')
		ed = getenv("EDITOR");
	if (ed == NULL || *ed == '\0')
		ed = "vi";
	buf_init(&text);
	send_draft_to_text(d, &text);
	path = compose_tmpfile(ui, &text);
	buf_free(&text);
	if (path == NULL)
		return (-1);
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = xstrdup("exec $FACTEUR_EDITOR \"$1\"");
	argv[3] = "sh";
	argv[4] = NULL;
	{
		char	*args[6] = { argv[0], argv[1], argv[2], argv[3], path,
		    NULL };

		setenv("FACTEUR_EDITOR", ed, 1);
		r = attach_run(ui, args, NULL, 0, 0);
	}
	free(argv[2]);
	buf_init(&text);
	if (r == 0 && compose_slurp(path, &text) == 0) {
		if (send_draft_from_text(text.data != NULL ? text.data : "",
		    text.len, d, &err) != 0) {
			ui_error(ui, "%s", err.msg);
			r = -1;
		}
	}
	buf_free(&text);
	unlink(path);
	free(path);
	compose_expand_aliases(ui, d);
	return (r);
}

/* Expands aliases (option alias_file) in To, Cc and Bcc. */
static void
compose_expand_aliases(struct ui *ui, struct send_draft *d)
{
	const char		*path = config_get(ui_config(ui), "alias_file");
	struct send_aliases	*al;
	struct error		 err;
	char			**f[] = { &d->to, &d->cc, &d->bcc }, *s;
	size_t			 i;

	if (path == NULL || *path == '\0')
		return;
	if (send_aliases_load(path, &al, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	for (i = 0; i < 3; i++) {
		if (*f[i] == NULL)
			continue;
		s = send_aliases_expand(al, *f[i]);
		free(*f[i]);
		*f[i] = s;
	}
	send_aliases_free(&al);
}

/* The identities of an account: its from and alternates. */
static size_t
compose_identities(struct account *a, struct send_identity *ids)
{
	ids[0].from = compose_conf(a, "from");
	ids[0].alternates = compose_conf(a, "alternates");
	return (1);
}

/* Starts composing: kind < 0 is a new message. */
static void
compose_start(struct ui *ui, int kind)
{
	struct compose		*c;
	struct account		*a = ui_account(ui);
	struct send_identity	 ids[1];
	struct error		 err;
	char			*path = NULL;
	const char		*from;

	c = xcalloc(1, sizeof *c);
	if (kind >= 0) {
		if ((path = compose_current_path(ui, &a)) == NULL) {
			ui_message(ui, "No message selected.");
			free(c);
			return;
		}
		compose_identities(a, ids);
		if (send_reply_draft(path, kind, ids, 1, &c->d, &err) != 0) {
			ui_error(ui, "%s", err.msg);
			free(path);
			free(c);
			return;
		}
		/* Edit as new on a draft resumes it: it goes once sent. */
		if (kind == SEND_EDIT_AS_NEW && strstr(path, "/.Drafts/") !=
		    NULL)
			c->draft = path;
		else
			free(path);
	} else {
		from = compose_conf(a, "from");
		c->d.from = xstrdup(from != NULL ? from : "");
	}
	c->account = a;
	if (compose_run_editor(ui, &c->d) != 0 && kind < 0 &&
	    c->d.to == NULL && c->d.body == NULL) {
		send_draft_free(&c->d);
		free(c->draft);
		free(c);
		return;
	}
	ui_push(ui, &compose_screen_ops, c);
}

/* The option ehlo_name, copied for the worker, or NULL. */
static char *
compose_ehlo(struct ui *ui)
{
	const char	*s = config_get(ui_config(ui), "ehlo_name");

	return (s != NULL && *s != '\0' ? xstrdup(s) : NULL);
}

/* Prepares the transport of an account (run on its worker). */
static int
compose_transport_block(const struct config_account *ca, const char *pin,
    const char *ehlo, struct send_transport *t, struct error *err)
{
	const char	*smtp = compose_conf_block(ca, "smtp");
	const char	*sm = compose_conf_block(ca, "sendmail");
	const char	*pwcmd = compose_conf_block(ca, "password_cmd");
	FILE		*f;
	char		 pw[1024];

	if (smtp == NULL && sm == NULL)
		return (error_set(err, ERR_CONFIG, "account %s has neither "
		    "smtp nor sendmail", ca != NULL ? ca->name : "(none)"));
	if (smtp == NULL) {
		memset(t, 0, sizeof *t);
		t->kind = SEND_SENDMAIL;
		t->cancel_fd = -1;
		t->command = xstrdup(sm);
		return (0);
	}
	if (send_transport_parse(t, smtp, compose_conf_block(ca, "user"),
	    compose_conf_block(ca, "tls"), err) != 0)
		return (-1);
	t->ca_file = compose_conf_block(ca, "tls_ca_file");
	t->ehlo = ehlo != NULL ? xstrdup(ehlo) : NULL;
	t->pin_file = pin;
	t->timeout_ms = 30000;
	if (t->user != NULL && pwcmd != NULL) {
		if ((f = popen(pwcmd, "r")) == NULL ||
		    fgets(pw, sizeof pw, f) == NULL) {
			if (f != NULL)
				pclose(f);
			send_transport_clear(t);
			return (error_set(err, ERR_AUTH, "password_cmd of %s "
			    "gave no password", ca->name));
		}
		pclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
		t->password = xstrdup(pw);
		explicit_bzero(pw, sizeof pw);
	}
	return (0);
}

/* The keys the user pinned, as the IMAP accounts keep them:
   $XDG_DATA_HOME/facteur/known_hosts. Owned by the caller. */
static char *
compose_pin_path(void)
{
	const char	*base = getenv("XDG_DATA_HOME");
	const char	*home = getenv("HOME");
	char		*p;

	if (base != NULL && *base == '/')
		xasprintf(&p, "%s/facteur/known_hosts", base);
	else
		xasprintf(&p, "%s/.local/share/facteur/known_hosts",
		    home != NULL ? home : "");
	return (p);
}

/* The transport of an account (run on its worker). */
static int
compose_transport(struct account *a, const char *ehlo,
    struct send_transport *t, struct error *err)
{
	/* A local account sending by SMTP pins as the IMAP ones do. */
	return (compose_transport_block(a->config, a->params.pin_file !=
	    NULL ? a->params.pin_file : compose_pin, ehlo, t, err));
}

/* After the 250: the copy in the local Sent folder. */
static int
compose_record_sent(const char *path, void *arg, struct error *err)
{
	struct account	*a = arg;

	return (send_record(a->backend, a->ops->name, ".Sent", path, "S",
	    "sent", err));
}

/* The earliest next_try of a deferred entry, or 0. */
static time_t
compose_next_retry(struct outbox *ob)
{
	struct outbox_entry	*v;
	size_t			 n, i;
	time_t			 t = 0;

	if (outbox_list(ob, &v, &n, NULL) != 0)
		return (0);
	for (i = 0; i < n; i++)
		if (v[i].state == OUTBOX_DEFERRED && (t == 0 ||
		    v[i].next_try < t))
			t = v[i].next_try;
	outbox_entries_free(v, n);
	return (t);
}

/* True while the outbox holds the entry id. */
static int
compose_in_outbox(struct outbox *ob, const char *id)
{
	struct outbox_entry	*v;
	size_t			 n, i;
	int			 found = 0;

	if (outbox_list(ob, &v, &n, NULL) != 0)
		return (1);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			found = 1;
	outbox_entries_free(v, n);
	return (found);
}

/* Worker: removes the resumed draft; a failure is only logged, the
   message itself being safe. */
static void
compose_forget_draft(struct compose_job *cj)
{
	struct error	err;

	if (send_forget(cj->account->backend, cj->account->ops->name,
	    cj->draft, &err) != 0)
		log_warnx("draft %s not removed: %s", cj->draft, err.msg);
}

/* Worker: queues the message durably, then flushes the outbox. */
static int
compose_job_run(struct job *j, void *arg)
{
	struct compose_job	*cj = arg;
	struct send_transport	 t;
	struct outbox		*ob;
	struct error		*err = job_error(j);
	char			*id = NULL;
	int			 r;

	if (cj->postpone) {
		if (cj->account->backend != NULL &&
		    strcmp(cj->account->ops->name, "local") == 0) {
			char	*tmp;
			int	 fd;

			xasprintf(&tmp, "/tmp/facteur-draft-XXXXXX");
			if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
				free(tmp);
				return (error_set(err, ERR_IO, "temporary "
				    "file: %s", strerror(errno)));
			}
			r = write(fd, cj->built.msg.data, cj->built.msg.len) ==
			    (ssize_t)cj->built.msg.len ? 0 : -1;
			close(fd);
			if (r == 0)
				r = send_record(cj->account->backend,
				    cj->account->ops->name, ".Drafts", tmp, "DS",
				    "draft", err);
			else
				error_set(err, ERR_IO, "cannot write a draft");
			/* The new draft replaces the one resumed. */
			if (r == 0 && cj->draft != NULL)
				compose_forget_draft(cj);
			unlink(tmp);
			free(tmp);
			return (r);
		}
		if ((ob = outbox_open(NULL, err)) == NULL)
			return (-1);
		{
			char	*dir;

			xasprintf(&dir, "%s/../drafts", outbox_dir(ob));
			outbox_free(&ob);
			ob = outbox_open(dir, err);
			free(dir);
		}
		if (ob == NULL)
			return (-1);
		r = outbox_add(ob, &cj->built, NULL, err);
		outbox_free(&ob);
		return (r);
	}
	if ((ob = outbox_open(NULL, err)) == NULL)
		return (-1);
	outbox_set_account(ob, cj->account->name);
	if (outbox_add(ob, &cj->built, &id, err) != 0) {
		outbox_free(&ob);
		return (-1);
	}
	if (compose_transport(cj->account, cj->ehlo, &t, err) != 0) {
		outbox_free(&ob);
		free(id);
		return (-1);
	}
	r = outbox_flush(ob, &t, 0, compose_record_sent, cj->account,
	    &cj->res, err);
	send_transport_clear(&t);
	cj->next_retry = compose_next_retry(ob);
	if (cj->draft != NULL && !compose_in_outbox(ob, id))
		compose_forget_draft(cj);
	free(id);
	outbox_free(&ob);
	return (r);
}

/* Loop: retries the outbox when its earliest deferred message is due. */
static void
compose_retry_fire(struct loop *loop, void *arg)
{
	(void)loop;
	(void)arg;
	compose_retry_timer = NULL;
	compose_flush_submit(compose_retry_ui, compose_retry_account,
	    OUTBOX_FLUSH_DUE, 1);
}

/* Arms the retry timer for when (seconds since the epoch). */
static void
compose_retry_at(struct ui *ui, struct account *a, time_t when)
{
	time_t	now = time(NULL);

	if (when == 0 || compose_retry_timer != NULL)
		return;
	compose_retry_ui = ui;
	compose_retry_account = a;
	compose_retry_timer = loop_add_timer(ui_loop(ui),
	    (int64_t)(when > now ? when - now : 1) * 1000, compose_retry_fire,
	    NULL);
}

/* Loop: says how it went. */
static void
compose_job_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct compose_job	*cj = arg;

	ui_progress(cj->ui, NULL);
	if (cj->postpone) {
		if (result == 0)
			ui_message(cj->ui, "Message postponed.");
		else
			ui_error(cj->ui, "Not postponed: %s", err->msg);
		return;
	}
	compose_retry_at(cj->ui, cj->account, cj->next_retry);
	if (cj->quiet && cj->res.sent == 0 && cj->res.failed == 0 &&
	    cj->res.deferred == 0)
		return;
	if (result == 0 && cj->res.sent > 1)
		ui_message(cj->ui, "%zu messages sent.", cj->res.sent);
	else if (result == 0)
		ui_message(cj->ui, "Message sent.");
	else
		ui_error(cj->ui, "Not sent, kept in the outbox: %s", err->msg);
	index_store_changed(cj->ui, cj->account);
}

static void
compose_job_free(void *arg)
{
	struct compose_job	*cj = arg;

	send_built_free(&cj->built);
	free(cj->subject);
	free(cj->ehlo);
	free(cj->draft);
	free(cj);
}

/* Builds the message and hands it to the worker; the screen goes. */
static void
compose_submit(struct ui *ui, struct compose *c, int postpone)
{
	struct compose_job	*cj;
	struct send_build_opts	 o = { 0 };
	struct error		 err;
	struct job		*j;

	o.flowed = config_get_bool(ui_config(ui), "send_flowed");
	compose_expand_aliases(ui, &c->d);
	cj = xcalloc(1, sizeof *cj);
	if (postpone && c->d.to == NULL && c->d.cc == NULL &&
	    c->d.bcc == NULL)
		c->d.to = xstrdup("undisclosed-recipients@invalid");
	if (send_build(&c->d, &o, &cj->built, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		free(cj);
		return;
	}
	cj->account = c->account;
	cj->ui = ui;
	cj->postpone = postpone;
	cj->ehlo = compose_ehlo(ui);
	cj->draft = c->draft;
	c->draft = NULL;
	j = job_new(postpone ? "postpone" : "send", compose_job_run,
	    compose_job_done, cj);
	job_set_free(j, compose_job_free);
	worker_submit(c->account->worker, j);
	ui_progress(ui, postpone ? "Postponing..." : "Sending...");
	ui_pop(ui);
}

/* Prompt callbacks: each edits one field of the pending compose. */
static void
compose_set_field(struct ui *ui, const char *text, void *arg)
{
	char	**field = arg;

	if (text == NULL || compose_pending == NULL)
		return;
	free(*field);
	*field = *text != '\0' ? xstrdup(text) : NULL;
	ui_redraw(ui);
}

static void
compose_attach_done(struct ui *ui, const char *text, void *arg)
{
	struct compose	*c = compose_pending;
	char		*path;
	const char	*home = getenv("HOME");

	(void)arg;
	if (text == NULL || *text == '\0' || c == NULL)
		return;
	if (text[0] == '~' && text[1] == '/' && home != NULL)
		xasprintf(&path, "%s%s", home, text + 1);
	else
		path = xstrdup(text);
	if (access(path, R_OK) != 0) {
		ui_error(ui, "%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	send_draft_attach(&c->d, path, NULL, NULL);
	c->cursor = c->d.natt - 1;
	free(path);
	ui_redraw(ui);
}

static void
compose_abort_done(struct ui *ui, const char *text, void *arg)
{
	(void)arg;
	if (text != NULL && (text[0] == 'y' || text[0] == 'Y')) {
		ui_pop(ui);
		ui_message(ui, "Message aborted.");
	}
}

static void
compose_prompt_field(struct ui *ui, struct compose *c, const char *label,
    char **field)
{
	compose_pending = c;
	ui_prompt(ui, label, *field != NULL ? *field : "", compose_set_field,
	    field);
}

/* The matches of a completion as one line: "3 matches: a  b  c". */
static char *
compose_shown(const struct send_completion *sc)
{
	struct buf	b;
	size_t		i;

	if (sc->ncand < 2)
		return (NULL);
	buf_init(&b);
	buf_addf(&b, "%zu matches:", sc->ncand);
	for (i = 0; i < sc->ncand && b.len < 1024; i++)
		buf_addf(&b, "  %s", sc->cand[i]);
	return (buf_steal(&b));
}

/* Tab in To, Cc and Bcc: aliases, then addresses of the index. */
static void
compose_complete_address(struct ui *ui, const char *text, void *arg,
    struct ui_completion *out)
{
	struct compose		*c = compose_pending;
	const char		*path = config_get(ui_config(ui), "alias_file");
	const char		*word;
	struct send_aliases	*al = NULL;
	struct send_completion	 sc;
	struct error		 err;
	char			**known = NULL;
	size_t			 nknown = 0;

	(void)arg;
	if ((word = strrchr(text, ',')) == NULL)
		word = text;
	else
		word++;
	word += strspn(word, " \t");
	if (path != NULL && *path != '\0' &&
	    send_aliases_load(path, &al, &err) != 0 && err.kind != ERR_NOTFOUND)
		ui_error(ui, "%s", err.msg);
	if (c != NULL && c->account != NULL && c->account->backend != NULL &&
	    *word != '\0' && send_known_addresses(c->account->backend,
	    c->account->ops->name, word, 200, &known, &nknown, &err) != 0)
		ui_error(ui, "%s", err.msg);
	send_complete_address(text, al, known, nknown, &sc);
	out->text = sc.text;
	sc.text = NULL;
	out->shown = compose_shown(&sc);
	send_completion_clear(&sc);
	send_known_free(known, nknown);
	send_aliases_free(&al);
}

/* Tab in the attach prompt: file names. */
static void
compose_complete_file(struct ui *ui, const char *text, void *arg,
    struct ui_completion *out)
{
	struct send_completion	sc;

	(void)ui;
	(void)arg;
	send_complete_file(text, &sc);
	out->text = sc.text;
	sc.text = NULL;
	out->shown = compose_shown(&sc);
	send_completion_clear(&sc);
}

static void
compose_prompt_address(struct ui *ui, struct compose *c, const char *label,
    char **field)
{
	compose_pending = c;
	ui_prompt_complete(ui, label, *field != NULL ? *field : "",
	    compose_set_field, compose_complete_address, field);
}

static int
compose_action(struct ui *ui, void *data, const char *a)
{
	struct compose	*c = data;
	struct send_attach *at = c->cursor < c->d.natt ? &c->d.att[c->cursor] :
	    NULL;

	compose_pending = c;
	if (strcmp(a, "send-message") == 0)
		compose_submit(ui, c, 0);
	else if (strcmp(a, "postpone-message") == 0)
		compose_submit(ui, c, 1);
	else if (strcmp(a, "edit-message") == 0)
		compose_edit(ui, c);
	else if (strcmp(a, "edit-to") == 0)
		compose_prompt_address(ui, c, "To: ", &c->d.to);
	else if (strcmp(a, "edit-cc") == 0)
		compose_prompt_address(ui, c, "Cc: ", &c->d.cc);
	else if (strcmp(a, "edit-bcc") == 0)
		compose_prompt_address(ui, c, "Bcc: ", &c->d.bcc);
	else if (strcmp(a, "edit-subject") == 0)
		compose_prompt_field(ui, c, "Subject: ", &c->d.subject);
	else if (strcmp(a, "edit-from") == 0)
		compose_prompt_field(ui, c, "From: ", &c->d.from);
	else if (strcmp(a, "attach-file") == 0)
		ui_prompt_complete(ui, "Attach file: ", "",
		    compose_attach_done, compose_complete_file, NULL);
	else if (strcmp(a, "detach-file") == 0) {
		if (at == NULL)
			ui_message(ui, "No attachment.");
		else {
			send_draft_detach(&c->d, c->cursor);
			if (c->cursor > 0 && c->cursor >= c->d.natt)
				c->cursor--;
			ui_redraw(ui);
		}
	} else if (strcmp(a, "rename-attachment") == 0) {
		if (at == NULL)
			ui_message(ui, "No attachment.");
		else
			compose_prompt_field(ui, c, "Name: ", &at->name);
	} else if (strcmp(a, "change-type") == 0) {
		if (at == NULL)
			ui_message(ui, "No attachment.");
		else
			compose_prompt_field(ui, c, "Content type: ",
			    &at->type);
	} else if (strcmp(a, "next-entry") == 0) {
		if (c->cursor + 1 < c->d.natt)
			c->cursor++;
		ui_redraw(ui);
	} else if (strcmp(a, "previous-entry") == 0) {
		if (c->cursor > 0)
			c->cursor--;
		ui_redraw(ui);
	} else if (strcmp(a, "exit") == 0 || strcmp(a, "quit") == 0)
		ui_prompt(ui, "Abort this message? (y/n) ", NULL,
		    compose_abort_done, NULL);
	else
		return (0);
	return (1);
}

/* Back to the editor from the review screen. */
static void
compose_edit(struct ui *ui, struct compose *c)
{
	(void)compose_run_editor(ui, &c->d);
	ui_redraw(ui);
}

static void
compose_draw(struct ui *ui, void *data, int top, int height)
{
	struct compose	*c = data;
	const char	*names[] = { "From", "To", "Cc", "Bcc", "Subject" };
	const char	*vals[] = { c->d.from, c->d.to, c->d.cc, c->d.bcc,
	    c->d.subject };
	char		 line[1024];
	int		 y = top, cols = ui_cols(ui);
	size_t		 i;
	const char	*p, *nl;

	for (i = 0; i < 5 && y < top + height; i++, y++) {
		attrset(ui_attr(ui, UC_HEADER_NAME));
		snprintf(line, sizeof line, "%8s: ", names[i]);
		ui_put(y, 0, line, cols, 0);
		attrset(ui_attr(ui, UC_HEADER_VALUE));
		ui_put(y, 10, vals[i] != NULL ? vals[i] : "", cols - 10, 1);
	}
	attrset(ui_attr(ui, UC_NORMAL));
	if (y < top + height)
		ui_put(y++, 0, "-- Attachments (a attach, D detach, R rename, "
		    "^T type) --", cols, 1);
	for (i = 0; i < c->d.natt && y < top + height; i++, y++) {
		struct stat	st;
		const struct send_attach *at = &c->d.att[i];

		if (stat(at->path, &st) != 0)
			st.st_size = 0;
		snprintf(line, sizeof line, "%s %-30s %-24s %lld bytes",
		    i == c->cursor ? ">" : " ", at->name,
		    at->type != NULL ? at->type :
		    send_guess_type(at->name), (long long)st.st_size);
		if (i == c->cursor)
			attrset(ui_attr(ui, UC_INDEX_CURSOR));
		ui_put(y, 0, line, cols, 1);
		attrset(ui_attr(ui, UC_NORMAL));
	}
	if (y < top + height)
		ui_put(y++, 0, "-- Message (e edit, y send, P postpone, q "
		    "abort) --", cols, 1);
	for (p = c->d.body; p != NULL && *p != '\0' && y < top + height;
	    y++) {
		nl = strchr(p, '\n');
		snprintf(line, sizeof line, "%.*s", (int)(nl != NULL ?
		    (size_t)(nl - p) : strlen(p)), p);
		ui_put(y, 0, line, cols, 1);
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	for (; y < top + height; y++)
		ui_put(y, 0, "", cols, 1);
}

static void
compose_status(struct ui *ui, void *data, char *buf, size_t len)
{
	struct compose	*c = data;

	(void)ui;
	snprintf(buf, len, "Compose: %zu attachment%s", c->d.natt,
	    c->d.natt == 1 ? "" : "s");
}

static void
compose_free(struct ui *ui, void *data)
{
	struct compose	*c = data;

	(void)ui;
	if (compose_pending == c)
		compose_pending = NULL;
	send_draft_free(&c->d);
	free(c->draft);
	free(c);
}

const struct screen_ops compose_screen_ops = {
	.name = "compose",
	.keymap = KM_FOLDERS,
	.draw = compose_draw,
	.action = compose_action,
	.free = compose_free,
	.status = compose_status,
};

/* ---- The outbox screen ---- */

struct outbox_view {
	struct outbox_entry	*v;
	size_t			 n;
	size_t			 cursor;
};

static void
outbox_view_load(struct ui *ui, struct outbox_view *ov)
{
	struct outbox	*ob;
	struct error	 err;

	outbox_entries_free(ov->v, ov->n);
	ov->v = NULL;
	ov->n = 0;
	if ((ob = outbox_open(NULL, &err)) == NULL ||
	    outbox_list(ob, &ov->v, &ov->n, &err) != 0)
		ui_error(ui, "%s", err.msg);
	outbox_free(&ob);
}

static void
outbox_view_draw(struct ui *ui, void *data, int top, int height)
{
	struct outbox_view	*ov = data;
	char			 line[1024];
	int			 y = top, cols = ui_cols(ui);
	size_t			 i;

	if (ov->n == 0 && height > 0)
		ui_put(y++, 0, "The outbox is empty.", cols, 1);
	for (i = 0; i < ov->n && y + 1 < top + height; i++) {
		snprintf(line, sizeof line, "%s %-9s %-30.30s %s",
		    i == ov->cursor ? ">" : " ",
		    outbox_state_name(ov->v[i].state),
		    ov->v[i].rcpt != NULL ? ov->v[i].rcpt[0] : "?",
		    ov->v[i].subject != NULL ? ov->v[i].subject : "");
		if (i == ov->cursor)
			attrset(ui_attr(ui, UC_INDEX_CURSOR));
		ui_put(y++, 0, line, cols, 1);
		attrset(ui_attr(ui, UC_NORMAL));
		if (ov->v[i].error != NULL) {
			attrset(ui_attr(ui, UC_ERROR));
			snprintf(line, sizeof line, "    %s", ov->v[i].error);
			ui_put(y++, 0, line, cols, 1);
			attrset(ui_attr(ui, UC_NORMAL));
		}
	}
	for (; y < top + height; y++)
		ui_put(y, 0, "", cols, 1);
}

/* Retries every message of the outbox now, on the current account. */
static int
outbox_view_retry_run(struct job *j, void *arg)
{
	struct compose_job	*cj = arg;
	struct send_transport	 t;
	struct outbox		*ob;
	struct error		*err = job_error(j);
	int			 r;

	if ((ob = outbox_open(NULL, err)) == NULL)
		return (-1);
	outbox_set_account(ob, cj->account->name);
	if (compose_transport(cj->account, cj->ehlo, &t, err) != 0) {
		outbox_free(&ob);
		return (-1);
	}
	r = outbox_flush(ob, &t, cj->mode, compose_record_sent,
	    cj->account, &cj->res, err);
	send_transport_clear(&t);
	cj->next_retry = compose_next_retry(ob);
	outbox_free(&ob);
	return (r);
}

/* Flushes the outbox on a's worker (mode OUTBOX_FLUSH_*); quiet says
   nothing when nothing was due. */
static void
compose_flush_submit(struct ui *ui, struct account *a, int mode, int quiet)
{
	struct compose_job	*cj;
	struct job		*j;

	if (a == NULL || a->worker == NULL || (compose_conf(a, "smtp") ==
	    NULL && compose_conf(a, "sendmail") == NULL))
		return;
	cj = xcalloc(1, sizeof *cj);
	cj->account = a;
	cj->ui = ui;
	cj->quiet = quiet;
	cj->mode = mode;
	cj->ehlo = compose_ehlo(ui);
	j = job_new("send", outbox_view_retry_run, compose_job_done, cj);
	job_set_free(j, compose_job_free);
	worker_submit(a->worker, j);
	if (!quiet)
		ui_progress(ui, "Sending...");
}

void
compose_opened(struct ui *ui, struct account *a)
{
	if (compose_pin == NULL)
		compose_pin = compose_pin_path();
	compose_flush_submit(ui, a, OUTBOX_FLUSH_DEFERRED, 1);
}

static int
outbox_view_action(struct ui *ui, void *data, const char *a)
{
	struct outbox_view	*ov = data;

	if (strcmp(a, "next-entry") == 0) {
		if (ov->cursor + 1 < ov->n)
			ov->cursor++;
	} else if (strcmp(a, "previous-entry") == 0) {
		if (ov->cursor > 0)
			ov->cursor--;
	} else if (strcmp(a, "send-message") == 0) {
		compose_flush_submit(ui, ui_account(ui), OUTBOX_FLUSH_ALL, 0);
		ui_pop(ui);
		return (1);
	} else
		return (0);
	ui_redraw(ui);
	return (1);
}

static void
outbox_view_free(struct ui *ui, void *data)
{
	struct outbox_view	*ov = data;

	(void)ui;
	outbox_entries_free(ov->v, ov->n);
	free(ov);
}

static void
outbox_view_status(struct ui *ui, void *data, char *buf, size_t len)
{
	struct outbox_view	*ov = data;

	(void)ui;
	snprintf(buf, len, "Outbox: %zu message%s (y: send now)", ov->n,
	    ov->n == 1 ? "" : "s");
}

const struct screen_ops outbox_screen_ops = {
	.name = "outbox",
	.keymap = KM_FOLDERS,
	.draw = outbox_view_draw,
	.action = outbox_view_action,
	.free = outbox_view_free,
	.status = outbox_view_status,
};

int
compose_dispatch(struct ui *ui, const char *a)
{
	static const struct {
		const char	*action;
		int		 kind;
	} kinds[] = {
		{ "compose-message", -1 },
		{ "reply", SEND_REPLY },
		{ "group-reply", SEND_REPLY_ALL },
		{ "list-reply", SEND_REPLY_LIST },
		{ "forward-message", SEND_FORWARD },
		{ "forward-attached", SEND_FORWARD_ATTACH },
		{ "edit-as-new", SEND_EDIT_AS_NEW },
	};
	struct outbox_view	*ov;
	size_t			 i;

	if (compose_pin == NULL)
		compose_pin = compose_pin_path();
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (strcmp(a, kinds[i].action) == 0) {
			compose_start(ui, kinds[i].kind);
			return (1);
		}
	}
	if (strcmp(a, "show-outbox") == 0) {
		ov = xcalloc(1, sizeof *ov);
		outbox_view_load(ui, ov);
		ui_push(ui, &outbox_screen_ops, ov);
		return (1);
	}
	return (0);
}

/* -s: the Sent copy in the account's local Maildir. */
static int
compose_cli_record(const char *path, void *arg, struct error *err)
{
	return (send_record(arg, "local", ".Sent", path, "S", "sent", err));
}

/* -s: the account's local store for the Sent copy, or NULL (said). */
static struct backend *
compose_cli_store(struct config *cfg, const struct config_account *ca)
{
	struct backend_params	 bp;
	struct backend		*be = NULL;
	struct error		 err;
	const char		*nm, *home = getenv("HOME");
	char			*md;

	if (ca->maildir == NULL || ca->imap != NULL)
		return (NULL);
	if (ca->maildir[0] == '~' && ca->maildir[1] == '/' && home != NULL)
		xasprintf(&md, "%s%s", home, ca->maildir + 1);
	else
		md = xstrdup(ca->maildir);
	memset(&bp, 0, sizeof bp);
	nm = ca->notmuch_config != NULL ? ca->notmuch_config :
	    config_get(cfg, "notmuch_config");
	bp.name = ca->name;
	bp.maildir = md;
	bp.nm_config = nm != NULL ? nm : "";
	bp.exclude_tags = "";
	if (local_backend_ops.open(&be, &bp, &err) != 0) {
		fprintf(stderr, "facteur: no copy in Sent: %s\n", err.msg);
		be = NULL;
	}
	free(md);
	return (be);
}

/*
 * facteur -s SUBJECT [-a FILE]... [-c CC] ADDRESS... < body: builds the
 * message, queues it in the outbox and sends it through the first
 * account that can send, without the interface. Exit: 0 sent, 75 kept
 * in the outbox for a later try, 1 refused (kept for editing), 78 bad
 * configuration or arguments. A local account keeps a copy in .Sent;
 * the server's key may be one the user pinned.
 */
int
compose_cli(struct config *cfg, const char *subject, char **att,
    int natt, const char *cc, char **to, int nto)
{
	const struct config_account	*ca = NULL;
	struct send_draft		 d = { 0 };
	struct send_build_opts		 o = { 0 };
	struct send_built		 b;
	struct send_transport		 t;
	struct outbox_result		 res;
	struct send_aliases		*al = NULL;
	struct outbox			*ob;
	struct backend			*store;
	struct error			 err;
	struct buf			 body, tolist;
	const char			*v;
	char				 chunk[8192], *s, *pin;
	ssize_t				 n;
	size_t				 i;
	int				 status = 0, k;

	for (i = 0; i < config_account_count(cfg); i++) {
		ca = config_account_at(cfg, i);
		if (compose_conf_block(ca, "smtp") != NULL ||
		    compose_conf_block(ca, "sendmail") != NULL)
			break;
		ca = NULL;
	}
	if (ca == NULL) {
		fprintf(stderr, "facteur: no account with smtp or sendmail\n");
		return (78);
	}
	buf_init(&body);
	while ((n = read(0, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || body.len + n > 64 * 1024 * 1024) {
			fprintf(stderr, "facteur: cannot read the body\n");
			buf_free(&body);
			return (1);
		}
		buf_add(&body, chunk, n);
	}
	buf_init(&tolist);
	for (k = 0; k < nto; k++) {
		if (k > 0)
			buf_adds(&tolist, ", ");
		buf_adds(&tolist, to[k]);
	}
	v = compose_conf_block(ca, "from");
	d.from = xstrdup(v != NULL ? v : "");
	d.to = buf_steal(&tolist);
	d.cc = cc != NULL ? xstrdup(cc) : NULL;
	d.subject = xstrdup(subject != NULL ? subject : "");
	d.body = buf_steal(&body);
	for (k = 0; k < natt; k++)
		send_draft_attach(&d, att[k], NULL, NULL);
	v = config_get(cfg, "alias_file");
	if (v != NULL && *v != '\0' && send_aliases_load(v, &al, &err) == 0) {
		s = send_aliases_expand(al, d.to);
		free(d.to);
		d.to = s;
		if (d.cc != NULL) {
			s = send_aliases_expand(al, d.cc);
			free(d.cc);
			d.cc = s;
		}
		send_aliases_free(&al);
	}
	o.flowed = config_get_bool(cfg, "send_flowed");
	if (send_build(&d, &o, &b, &err) != 0) {
		fprintf(stderr, "facteur: %s\n", err.msg);
		send_draft_free(&d);
		return (err.kind == ERR_CONFIG ? 78 : 1);
	}
	send_draft_free(&d);
	if ((ob = outbox_open(NULL, &err)) == NULL ||
	    (outbox_set_account(ob, ca->name), outbox_add(ob, &b, NULL,
	    &err)) != 0) {
		fprintf(stderr, "facteur: %s\n", err.msg);
		send_built_free(&b);
		outbox_free(&ob);
		return (1);
	}
	send_built_free(&b);
	v = config_get(cfg, "ehlo_name");
	pin = compose_pin_path();
	if (compose_transport_block(ca, pin, v != NULL && *v != '\0' ? v :
	    NULL, &t, &err) != 0) {
		fprintf(stderr, "facteur: %s (kept in the outbox)\n", err.msg);
		outbox_free(&ob);
		free(pin);
		return (78);
	}
	store = compose_cli_store(cfg, ca);
	if (outbox_flush(ob, &t, OUTBOX_FLUSH_DUE, store != NULL ?
	    compose_cli_record : NULL, store, &res, &err) != 0) {
		fprintf(stderr, "facteur: not sent, kept in the outbox: %s\n",
		    err.msg);
		status = res.failed > 0 ? 1 : 75;
	}
	if (store != NULL)
		local_backend_ops.close(&store);
	send_transport_clear(&t);
	outbox_free(&ob);
	free(pin);
	return (status);
}
