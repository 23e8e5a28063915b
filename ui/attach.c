/*
 * The attachment list (name, type, size, encoding of every part; save,
 * save all, open through mailcap, view text inline, pipe) and the URL
 * list, both list screens on the folders key map. Also the runner for
 * commands that take the terminal: curses is suspended, the child waits
 * for nothing from our loop, and the screen is repainted afterwards.
 * A part the backend left on the server (MSGPATH.parts, backend.h) is
 * fetched on the account's worker when it is acted on, then the action
 * goes on; leaving the list cancels the download.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>

#include "backend/backend.h"
#include "config/config.h"
#include "config/keymap.h"
#include "core/buf.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mime/mailcap.h"
#include "mime/render.h"
#include "mime/sanitize.h"
#include "ui/ui.h"

/* A part left on the server (a "missing" line of MSGPATH.parts). */
struct attach_missing {
	unsigned	 index;
	char		 section[64];
	unsigned long	 bytes;		/* as sent: transfer encoded */
};

/* One list screen: attachments of a message, or URLs. */
struct attach {
	char			*path;		/* the message file */
	char			*title;
	struct mime_parts	 parts;		/* attachment list */
	char			**urls;		/* URL list (NULL: attachments) */
	size_t			 nurls;
	size_t			 cursor;
	size_t			 top;
	int			 height;
	/* Parts on the server: whose, and the download under way. */
	struct account		*account;
	char			*id;
	struct attach_missing	*missing;
	size_t			 nmissing;
	struct job		*job;
};

/* What a pending prompt works on (prompts are modal: one at a time). */
static struct {
	struct attach	*a;
	char		*path;		/* save: the file asked about */
	unsigned	 index;		/* 0: the whole message */
	char		*msgpath;	/* the message file */
} attach_pending;

/* Forgets a pending prompt's data. */
static void
attach_pending_clear(void)
{
	free(attach_pending.path);
	free(attach_pending.msgpath);
	memset(&attach_pending, 0, sizeof attach_pending);
}

/* Forgets what MSGPATH.parts said. */
static void
attach_missing_clear(struct attach *a)
{
	free(a->missing);
	free(a->id);
	a->missing = NULL;
	a->id = NULL;
	a->nmissing = 0;
	a->account = NULL;
}

/* Reads MSGPATH.parts: the parts left on the server, and the account
   and message to fetch them from. Nothing when there is no such file. */
static void
attach_missing_load(struct ui *ui, struct attach *a)
{
	struct attach_missing	 m;
	struct account		*acc;
	FILE			*f;
	char			*side, *line = NULL, *name = NULL;
	size_t			 cap = 0, i, len;

	attach_missing_clear(a);
	xasprintf(&side, "%s%s", a->path, BACKEND_PARTS_SUFFIX);
	f = fopen(side, "r");
	free(side);
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		memset(&m, 0, sizeof m);
		if (strncmp(line, "account ", 8) == 0) {
			free(name);
			name = xstrdup(line + 8);
		} else if (strncmp(line, "id ", 3) == 0) {
			free(a->id);
			a->id = xstrdup(line + 3);
		} else if (sscanf(line, "missing %u %63s %lu", &m.index,
		    m.section, &m.bytes) == 3) {
			a->missing = xreallocarray(a->missing, a->nmissing + 1,
			    sizeof *a->missing);
			a->missing[a->nmissing++] = m;
		}
	}
	free(line);
	fclose(f);
	for (i = 0; name != NULL && i < ui_account_count(ui); i++) {
		acc = ui_account_at(ui, i);
		if (acc != NULL && strcmp(acc->name, name) == 0)
			a->account = acc;
	}
	free(name);
}

/* The server copy of part index, or NULL when the file has it. */
static struct attach_missing *
attach_missing_find(struct attach *a, unsigned index)
{
	size_t	i;

	for (i = 0; i < a->nmissing; i++) {
		if (a->missing[i].index == index)
			return (&a->missing[i]);
	}
	return (NULL);
}

/* Reads one key from the terminal, in raw mode, curses suspended. */
static void
attach_wait_key(void)
{
	struct termios	 old, raw;
	char		 c;
	int		 fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return;
	if (write(fd, "Press any key to continue...", 28) == -1) {
		close(fd);
		return;
	}
	if (tcgetattr(fd, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &raw);
		while (read(fd, &c, 1) == -1 && errno == EINTR)
			;
		tcsetattr(fd, TCSANOW, &old);
	}
	close(fd);
}

int
attach_run(struct ui *ui, char *const argv[], const char *in, size_t len,
    int flags)
{
	char		 tmp[] = "/tmp/facteur-pipe-XXXXXX";
	const char	*p;
	sigset_t	 none;
	pid_t		 pid;
	ssize_t		 n;
	int		 fd = -1, status = 0, sig;

	if (flags & ATTACH_RUN_STDIN) {
		if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
			ui_error(ui, "Cannot create a temporary file: %s",
			    strerror(errno));
			return (-1);
		}
		unlink(tmp);
		for (p = in; len > 0; p += n, len -= (size_t)n) {
			if ((n = write(fd, p, len)) == -1) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				ui_error(ui, "Cannot write a temporary file: "
				    "%s", strerror(errno));
				close(fd);
				return (-1);
			}
		}
		lseek(fd, 0, SEEK_SET);
	}
	def_prog_mode();
	endwin();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (fd != -1 && dup2(fd, 0) == -1)
			_exit(127);
		close_range(3, ~0U, 0);
		if (flags & ATTACH_RUN_SANDBOX)
			mailcap_sandbox_child(1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (fd != -1)
		close(fd);
	if (pid != -1) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	if ((flags & ATTACH_RUN_WAIT) ||
	    (pid != -1 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)))
		attach_wait_key();
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	ui_redraw(ui);
	if (pid == -1) {
		ui_error(ui, "Cannot run %s: %s", argv[0], strerror(errno));
		return (-1);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ui_error(ui, "%s exited with status %d", argv[0],
		    WIFEXITED(status) ? WEXITSTATUS(status) :
		    128 + WTERMSIG(status));
		return (-1);
	}
	return (0);
}

/* The save directory (attach_save_dir), "~/" expanded, with a '/'. */
static char *
attach_save_dir(struct ui *ui)
{
	const char	*d = config_get(ui_config(ui), "attach_save_dir");
	const char	*home = getenv("HOME");
	char		*s;

	if (d == NULL || *d == '\0')
		d = "~";
	if (d[0] == '~' && (d[1] == '\0' || d[1] == '/') && home != NULL)
		xasprintf(&s, "%s%s/", home, d + 1);
	else
		xasprintf(&s, "%s/", d);
	return (s);
}

/* Expands a leading "~/" of a path the user typed. Owned. */
static char *
attach_expand(const char *path)
{
	const char	*home = getenv("HOME");
	char		*s;

	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/') &&
	    home != NULL)
		xasprintf(&s, "%s%s", home, path + 1);
	else
		s = xstrdup(path);
	return (s);
}

/*
 * Writes data to path: with excl, never over an existing file. Returns
 * 0, or -1 with errno (EEXIST when the file is there).
 */
static int
attach_write(const char *path, const char *data, size_t len, int excl)
{
	ssize_t	n;
	int	fd, flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;

	flags |= excl ? O_EXCL : O_TRUNC;
	if ((fd = open(path, flags, 0600)) == -1)
		return (-1);
	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return (-1);
		}
		data += n;
		len -= (size_t)n;
	}
	return (close(fd));
}

/* Appends a whole file to out. */
static int
attach_read_file(const char *path, struct buf *out, struct error *err)
{
	char	chunk[65536];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)));
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			close(fd);
			return (error_set(err, ERR_IO, "%s: %s", path,
			    strerror(errno)));
		}
		buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return (0);
}

/* The bytes to save: a part, or the whole message when index is 0. */
static int
attach_content(const char *msgpath, unsigned index, struct buf *out,
    struct error *err)
{
	if (index > 0)
		return (mime_part_extract_file(msgpath, index, out, err));
	return (attach_read_file(msgpath, out, err));
}

/* Saves the pending content to path; excl as attach_write. */
static void
attach_save_to(struct ui *ui, const char *path, int excl)
{
	struct buf	 b;
	struct error	 err;

	buf_init(&b);
	error_clear(&err);
	if (attach_content(attach_pending.msgpath, attach_pending.index, &b,
	    &err) != 0)
		ui_error(ui, "%s", err.msg);
	else if (attach_write(path, buf_str(&b), b.len, excl) != 0)
		ui_error(ui, "Cannot save %s: %s", path, strerror(errno));
	else
		ui_message(ui, "Saved %s (%zu bytes).", path, b.len);
	buf_free(&b);
}

static void	attach_save_done(struct ui *, const char *, void *);

/* The answer to "overwrite?". */
static void
attach_overwrite_done(struct ui *ui, const char *text, void *arg)
{
	if (text != NULL && (text[0] == 'y' || text[0] == 'Y'))
		attach_save_to(ui, attach_pending.path, 0);
	else
		ui_message(ui, "Not saved.");
	attach_pending_clear();
}

/* The answer to "Save to:". */
static void
attach_save_done(struct ui *ui, const char *text, void *arg)
{
	struct stat	 sb;
	char		*path;

	if (text == NULL || *text == '\0') {
		attach_pending_clear();
		return;
	}
	path = attach_expand(text);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		ui_error(ui, "%s is a directory.", path);
		free(path);
		attach_pending_clear();
		return;
	}
	if (lstat(path, &sb) == 0) {
		free(attach_pending.path);
		attach_pending.path = path;
		ui_prompt(ui, "File exists, overwrite? (y/n) ", NULL,
		    attach_overwrite_done, NULL);
		return;
	}
	attach_save_to(ui, path, 1);
	free(path);
	attach_pending_clear();
}

void
attach_save_prompt(struct ui *ui, const char *msgpath, unsigned index,
    const char *name)
{
	char	*dir, *safe, *initial;

	attach_pending_clear();
	attach_pending.msgpath = xstrdup(msgpath);
	attach_pending.index = index;
	dir = attach_save_dir(ui);
	safe = mime_safe_filename(name, index);
	xasprintf(&initial, "%s%s", dir, safe);
	ui_prompt(ui, "Save to file: ", initial, attach_save_done, NULL);
	free(initial);
	free(safe);
	free(dir);
}

/* The answer to "Pipe to command:". */
static void
attach_pipe_done(struct ui *ui, const char *text, void *arg)
{
	struct buf	 b;
	struct error	 err;
	char		*argv[4];

	if (text == NULL || *text == '\0') {
		attach_pending_clear();
		return;
	}
	buf_init(&b);
	error_clear(&err);
	if (attach_content(attach_pending.msgpath, attach_pending.index, &b,
	    &err) != 0)
		ui_error(ui, "%s", err.msg);
	else {
		argv[0] = (char *)"/bin/sh";
		argv[1] = (char *)"-c";
		argv[2] = (char *)text;
		argv[3] = NULL;
		attach_run(ui, argv, buf_str(&b), b.len,
		    ATTACH_RUN_STDIN | ATTACH_RUN_WAIT);
	}
	buf_free(&b);
	attach_pending_clear();
}

void
attach_pipe_prompt(struct ui *ui, const char *msgpath, unsigned index)
{
	attach_pending_clear();
	attach_pending.msgpath = xstrdup(msgpath);
	attach_pending.index = index;
	ui_prompt(ui, index > 0 ? "Pipe attachment to command: " :
	    "Pipe message to command: ", NULL, attach_pipe_done, NULL);
}

/* The answer to "Save all attachments to directory:". */
static void
attach_save_all_done(struct ui *ui, const char *text, void *arg)
{
	struct attach		*a = attach_pending.a;
	struct mime_part	*p;
	struct buf		 b;
	struct error		 err;
	char			*dir, *safe, *path;
	size_t			 i, saved = 0, kept = 0, failed = 0;

	if (text == NULL || *text == '\0' || a == NULL) {
		attach_pending_clear();
		return;
	}
	dir = attach_expand(text);
	buf_init(&b);
	for (i = 0; i < a->parts.n; i++) {
		p = &a->parts.v[i];
		/* The message's own text is not an attachment. */
		if (p->name == NULL && strncmp(p->type, "text/", 5) == 0)
			continue;
		if (p->depth > 0)
			continue;
		buf_reset(&b);
		error_clear(&err);
		if (mime_part_extract_file(a->path, p->index, &b, &err) != 0) {
			failed++;
			continue;
		}
		safe = mime_safe_filename(p->name, p->index);
		xasprintf(&path, "%s/%s", dir, safe);
		if (attach_write(path, buf_str(&b), b.len, 1) == 0)
			saved++;
		else if (errno == EEXIST)
			kept++;
		else
			failed++;
		free(path);
		free(safe);
	}
	buf_free(&b);
	if (failed > 0)
		ui_error(ui, "Saved %zu to %s; %zu failed, %zu already there "
		    "(not overwritten).", saved, dir, failed, kept);
	else
		ui_message(ui, "Saved %zu to %s; %zu already there "
		    "(not overwritten).", saved, dir, kept);
	free(dir);
	attach_pending_clear();
}

/* Opens the selected part: text inline, others through mailcap. */
static void
attach_select(struct ui *ui, struct attach *a)
{
	struct mime_part	*p = &a->parts.v[a->cursor];
	struct mailcap_entry	 e;
	struct buf		 b, msg;
	struct error		 err;
	const char		*mcpath;
	char			 tmp[64], suffix[16] = "", *cmd, *argv[4];
	int			 fd;

	buf_init(&b);
	error_clear(&err);
	if (mime_part_extract_file(a->path, p->index, &b, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		buf_free(&b);
		return;
	}
	if (strncmp(p->type, "text/", 5) == 0 || p->is_message) {
		/* A message of its own, rendered like any other. */
		buf_init(&msg);
		if (!p->is_message)
			buf_addf(&msg, "Content-Type: %s; charset=\"%s\"\n"
			    "Content-Transfer-Encoding: binary\n\n", p->type,
			    p->charset != NULL ? p->charset : "utf-8");
		buf_add(&msg, b.data, b.len);
		pager_open_text(ui, p->name != NULL ? p->name : p->type,
		    buf_str(&msg), msg.len);
		buf_free(&msg);
		buf_free(&b);
		return;
	}
	mcpath = config_get(ui_config(ui), "mailcap_path");
	if (mailcap_find(mcpath, p->type, MAILCAP_INTERACTIVE, &e) != 0 &&
	    mailcap_find(mcpath, p->type, 0, &e) != 0) {
		ui_error(ui, "No mailcap entry for %s: save it with %s.",
		    p->type, ui_key_for(ui, KM_FOLDERS, "save-file"));
		buf_free(&b);
		return;
	}
	if (e.nametemplate != NULL && strstr(e.nametemplate, "%s") != NULL) {
		char *sfx = strstr(e.nametemplate, "%s") + 2;
		size_t k = 0;

		for (; *sfx != '\0' && k + 1 < sizeof suffix; sfx++)
			if (strchr(".-_", *sfx) != NULL ||
			    (*sfx >= 'a' && *sfx <= 'z') ||
			    (*sfx >= '0' && *sfx <= '9'))
				suffix[k++] = *sfx;
		suffix[k] = '\0';
	}
	snprintf(tmp, sizeof tmp, "/tmp/facteur-XXXXXX%s", suffix);
	if ((fd = mkostemps(tmp, (int)strlen(suffix), O_CLOEXEC)) == -1 ||
	    write(fd, b.data, b.len) != (ssize_t)b.len) {
		ui_error(ui, "Cannot write a temporary file: %s",
		    strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		mailcap_entry_free(&e);
		buf_free(&b);
		return;
	}
	close(fd);
	cmd = mailcap_command(&e, tmp, p->type, p->charset);
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = cmd;
	argv[3] = NULL;
	attach_run(ui, argv, NULL, 0, ATTACH_RUN_SANDBOX |
	    (e.copiousoutput ? ATTACH_RUN_WAIT : 0));
	unlink(tmp);
	free(cmd);
	mailcap_entry_free(&e);
	buf_free(&b);
}

/* Opens a URL with $BROWSER (split at blanks) or xdg-open, no shell. */
static void
attach_open_url(struct ui *ui, const char *url)
{
	const char	*browser = getenv("BROWSER");
	char		*copy = NULL, *argv[16], *w, *save = NULL;
	size_t		 n = 0;

	if (url[0] == '-') {
		ui_error(ui, "Not opening a URL that starts with '-'.");
		return;
	}
	if (browser != NULL && *browser != '\0') {
		copy = xstrdup(browser);
		for (w = strtok_r(copy, " \t", &save); w != NULL && n < 14;
		    w = strtok_r(NULL, " \t", &save))
			argv[n++] = w;
	}
	if (n == 0)
		argv[n++] = (char *)"xdg-open";
	argv[n++] = (char *)url;
	argv[n] = NULL;
	attach_run(ui, argv, NULL, 0, 0);
	free(copy);
}

/* The size of a part for people; one on the server is estimated from
   what it takes there (base64: 57 bytes a 78-byte line). */
static void
attach_size(struct attach *a, const struct mime_part *p, char *out,
    size_t len)
{
	struct attach_missing	*m = attach_missing_find(a, p->index);
	size_t			 n = p->size;

	if (m != NULL)
		n = strcmp(p->encoding, "base64") == 0 ? m->bytes / 78 * 57 :
		    m->bytes;
	if (n < 1024)
		snprintf(out, len, "%zu B", n);
	else if (n < 1024 * 1024)
		snprintf(out, len, "%zu KB", (n + 1023) / 1024);
	else
		snprintf(out, len, "%.1f MB", (double)n / (1024 * 1024));
}

/* A part being fetched for an action. */
struct attach_fetch {
	struct ui	*ui;
	struct attach	*a;
	struct account	*account;
	char		*id;
	char		*section;
	char		*act;
	char		*path;
	unsigned	 index;
};

/* [worker] Downloads the part; cancelled when the list goes away. */
static int
attach_fetch_run(struct job *j, void *arg)
{
	struct attach_fetch	*f = arg;

	return (f->account->ops->fetch_part(f->account->backend, f->id,
	    f->section, &f->path, job_cancel_flag(j), job_error(j)));
}

static int	attach_action(struct ui *, void *, const char *);

/* The part is in the message file now: list again, then act. */
static void
attach_fetch_done(struct job *j, void *arg, int result,
    const struct error *err)
{
	struct attach_fetch	*f = arg;
	struct attach		*a = f->a;
	struct mime_parts	 parts;
	struct error		 e;
	size_t			 i;

	a->job = NULL;
	if (result != 0) {
		ui_error(f->ui, "%s", err->msg);
		return;
	}
	error_clear(&e);
	if (mime_parts_file(a->path, &parts, &e) != 0) {
		ui_error(f->ui, "%s", e.msg);
		return;
	}
	mime_parts_free(&a->parts);
	a->parts = parts;
	attach_missing_load(f->ui, a);
	a->cursor = 0;
	for (i = 0; i < a->parts.n; i++) {
		if (a->parts.v[i].index == f->index)
			a->cursor = i;
	}
	ui_message(f->ui, "Part %u fetched from the server.", f->index);
	ui_redraw(f->ui);
	if (a->cursor < a->parts.n && attach_missing_find(a, f->index) ==
	    NULL)
		attach_action(f->ui, a, f->act);
}

static void
attach_fetch_free(void *arg)
{
	struct attach_fetch	*f = arg;

	free(f->id);
	free(f->section);
	free(f->act);
	free(f->path);
	free(f);
}

/*
 * When part index is still on the server, starts fetching it for act
 * and returns 1 (the action goes on once it is in); 0 when the file has
 * it.
 */
static int
attach_need(struct ui *ui, struct attach *a, unsigned index, const char *act)
{
	struct attach_missing	*m = attach_missing_find(a, index);
	struct attach_fetch	*f;

	if (m == NULL)
		return (0);
	if (a->job != NULL) {
		ui_message(ui, "Still fetching from the server (leaving this "
		    "list cancels it).");
		return (1);
	}
	if (a->account == NULL || a->account->backend == NULL ||
	    a->account->ops->fetch_part == NULL || a->id == NULL) {
		ui_error(ui, "Part %u is on the server and its account is "
		    "not open.", index);
		return (1);
	}
	f = xcalloc(1, sizeof *f);
	f->ui = ui;
	f->a = a;
	f->account = a->account;
	f->id = xstrdup(a->id);
	f->section = xstrdup(m->section);
	f->act = xstrdup(act);
	f->index = index;
	a->job = job_new("fetch part", attach_fetch_run, attach_fetch_done,
	    f);
	job_set_free(a->job, attach_fetch_free);
	worker_submit(a->account->worker, a->job);
	ui_message(ui, "Fetching part %u from the server (leaving this list "
	    "cancels it)...", index);
	return (1);
}

/* The first part save-all would take that is still on the server, or 0. */
static unsigned
attach_need_all(struct attach *a)
{
	struct mime_part	*p;
	size_t			 i;

	for (i = 0; i < a->parts.n; i++) {
		p = &a->parts.v[i];
		if ((p->name == NULL && strncmp(p->type, "text/", 5) == 0) ||
		    p->depth > 0)
			continue;
		if (attach_missing_find(a, p->index) != NULL)
			return (p->index);
	}
	return (0);
}

/* Draws the list. */
static void
attach_draw(struct ui *ui, void *data, int top, int height)
{
	struct attach		*a = data;
	struct mime_part	*p;
	struct buf		 b;
	size_t			 n = a->urls != NULL ? a->nurls : a->parts.n;
	size_t			 i;
	char			 size[32];
	int			 cols = ui_cols(ui), y;

	attrset(ui_attr(ui, UC_STATUS));
	ui_put(top, 0, a->title, cols, 1);
	attrset(A_NORMAL);
	top++;
	height--;
	a->height = height;
	if (n == 0) {
		ui_put(top, 0, a->urls != NULL ? "No URLs in this message." :
		    "No attachments.", cols, 0);
		return;
	}
	if (a->cursor < a->top)
		a->top = a->cursor;
	if (height > 0 && a->cursor >= a->top + (size_t)height)
		a->top = a->cursor - (size_t)height + 1;
	buf_init(&b);
	for (y = 0, i = a->top; y < height && i < n; y++, i++) {
		buf_reset(&b);
		if (a->urls != NULL)
			buf_addf(&b, "%3zu %s", i + 1, a->urls[i]);
		else {
			p = &a->parts.v[i];
			attach_size(a, p, size, sizeof size);
			/* A part still on the server says so instead of
			   its encoding (the column fits 80). */
			buf_addf(&b, "%3u %*s%-30s %-24s %9s  %s", p->index,
			    (int)p->depth * 2, "", p->name != NULL ?
			    p->name : "(no name)", p->type, size,
			    attach_missing_find(a, p->index) != NULL ?
			    "on server" : p->encoding);
		}
		attrset(i == a->cursor ? ui_attr(ui, UC_INDEX_CURSOR) :
		    (int)A_NORMAL);
		ui_put(top + y, 0, buf_str(&b), cols, 1);
		attrset(A_NORMAL);
	}
	buf_free(&b);
}

/* The status line. */
static void
attach_status(struct ui *ui, void *data, char *out, size_t len)
{
	struct attach	*a = data;
	size_t		 n = a->urls != NULL ? a->nurls : a->parts.n;

	snprintf(out, len, "facteur: %s  [%zu/%zu]", a->urls != NULL ?
	    "URLs" : "attachments", n > 0 ? a->cursor + 1 : 0, n);
}

/* Moves the cursor by delta, within the list. */
static void
attach_move(struct ui *ui, struct attach *a, long delta)
{
	long	n = (long)(a->urls != NULL ? a->nurls : a->parts.n);
	long	c = (long)a->cursor + delta;

	if (c >= n)
		c = n - 1;
	if (c < 0)
		c = 0;
	a->cursor = (size_t)c;
	ui_redraw(ui);
}

static int
attach_action(struct ui *ui, void *data, const char *act)
{
	struct attach	*a = data;
	long		 page = a->height > 1 ? a->height - 1 : 1;
	size_t		 n = a->urls != NULL ? a->nurls : a->parts.n;
	char		*dir;

	if (strcmp(act, "next-entry") == 0 || strcmp(act, "next-line") == 0)
		attach_move(ui, a, 1);
	else if (strcmp(act, "previous-entry") == 0 ||
	    strcmp(act, "previous-line") == 0)
		attach_move(ui, a, -1);
	else if (strcmp(act, "page-down") == 0)
		attach_move(ui, a, page);
	else if (strcmp(act, "page-up") == 0)
		attach_move(ui, a, -page);
	else if (strcmp(act, "half-down") == 0)
		attach_move(ui, a, page / 2);
	else if (strcmp(act, "half-up") == 0)
		attach_move(ui, a, -page / 2);
	else if (strcmp(act, "first-entry") == 0)
		attach_move(ui, a, -(long)n);
	else if (strcmp(act, "last-entry") == 0)
		attach_move(ui, a, (long)n);
	else if (n == 0 && (strcmp(act, "select-entry") == 0 ||
	    strcmp(act, "save-file") == 0 || strcmp(act, "save-all") == 0 ||
	    strcmp(act, "pipe-message") == 0))
		ui_message(ui, "Nothing to act on.");
	else if (strcmp(act, "select-entry") == 0) {
		if (a->urls != NULL)
			attach_open_url(ui, a->urls[a->cursor]);
		else if (!attach_need(ui, a, a->parts.v[a->cursor].index,
		    act))
			attach_select(ui, a);
	} else if (a->urls != NULL)
		return (0);
	else if ((strcmp(act, "save-file") == 0 ||
	    strcmp(act, "pipe-message") == 0) &&
	    attach_need(ui, a, a->parts.v[a->cursor].index, act))
		return (1);
	else if (strcmp(act, "save-all") == 0 && attach_need_all(a) != 0)
		attach_need(ui, a, attach_need_all(a), act);
	else if (strcmp(act, "save-file") == 0)
		attach_save_prompt(ui, a->path, a->parts.v[a->cursor].index,
		    a->parts.v[a->cursor].name);
	else if (strcmp(act, "save-all") == 0) {
		attach_pending_clear();
		attach_pending.a = a;
		dir = attach_save_dir(ui);
		dir[strlen(dir) - 1] = '\0';
		ui_prompt(ui, "Save all attachments to directory: ", dir,
		    attach_save_all_done, NULL);
		free(dir);
	} else if (strcmp(act, "pipe-message") == 0)
		attach_pipe_prompt(ui, a->path, a->parts.v[a->cursor].index);
	else
		return (0);
	return (1);
}

static void
attach_free(struct ui *ui, void *data)
{
	struct attach	*a = data;
	size_t		 i;

	if (attach_pending.a == a)
		attach_pending_clear();
	if (a->job != NULL)
		job_cancel(a->job);	/* the download stops */
	attach_missing_clear(a);
	mime_parts_free(&a->parts);
	for (i = 0; i < a->nurls; i++)
		free(a->urls[i]);
	free(a->urls);
	free(a->path);
	free(a->title);
	free(a);
}

const struct screen_ops attach_screen_ops = {
	.name = "attachments",
	.keymap = KM_FOLDERS,
	.draw = attach_draw,
	.action = attach_action,
	.free = attach_free,
	.status = attach_status,
};

void
attach_open(struct ui *ui, const char *msgpath, const char *subject)
{
	struct attach	*a;
	struct error	 err;

	a = xcalloc(1, sizeof *a);
	error_clear(&err);
	if (mime_parts_file(msgpath, &a->parts, &err) != 0) {
		ui_error(ui, "%s", err.msg);
		free(a);
		return;
	}
	a->path = xstrdup(msgpath);
	attach_missing_load(ui, a);
	xasprintf(&a->title, "Attachments of: %s", subject != NULL ?
	    subject : "");
	ui_push(ui, &attach_screen_ops, a);
}

void
urls_open(struct ui *ui, const struct render *r)
{
	struct attach	*a;

	a = xcalloc(1, sizeof *a);
	a->nurls = render_urls(r, &a->urls);
	a->title = xstrdup("URLs (Enter opens with $BROWSER or xdg-open)");
	ui_push(ui, &attach_screen_ops, a);
}
