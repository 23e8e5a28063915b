/*
 * The terminal side of facteur: ncurses setup, the screen stack, key
 * dispatch through the key maps, the status line and its prompt, and the
 * one paint function that draws everything once per loop turn when
 * something changed.
 */
#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>

#include "config/config.h"
#include "config/keymap.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "mail/mailbox.h"
#include "mime/sanitize.h"
#include "ui/ui.h"

#define UI_MIN_COLS	20
#define UI_MIN_LINES	5
#define UI_MESSAGE_MS	4000
#define UI_BUSY_MS	500	/* a silent job this long is named */
#define UI_MAXKEYS	4

struct ui_screen {
	const struct screen_ops	*ops;
	void			*data;
};

struct ui {
	struct loop		*loop;
	struct config		*config;
	struct ui_options	 opts;
	struct account		**accounts;
	size_t			 naccounts;
	size_t			 current;	/* account shown */

	struct ui_screen	 stack[8];
	size_t			 depth;

	int			 dirty;
	int			 running;
	int			 status;	/* exit status */
	int			 curses;	/* the terminal is ours */
	int			 attrs[UC_MAX];

	char			 message[256];
	int			 message_error;
	struct loop_timer	*message_timer;
	char			 progress[128];
	char			 busy[64];	/* a slow silent job */
	struct loop_timer	*busy_timer;

	int			 keys[UI_MAXKEYS];
	size_t			 nkeys;

	/* The prompt, when active. */
	int			 prompting;
	int			 prompt_secret;	/* no echo; wiped after */
	char			 prompt_label[64];
	struct buf		 prompt_text;
	ui_prompt_cb		 prompt_cb;
	void			*prompt_arg;
	ui_complete_cb		 prompt_complete;	/* Tab, or NULL */
	char			*prompt_shown;	/* the matches Tab found */

	struct loop_fd		*tty;
	int64_t			 started;	/* loop time at ui_run */
	int			 painted_rows;
};

static struct ui	*ui_global;	/* for the fatal hook */

static void	ui_paint(struct loop *, void *);

struct loop *
ui_loop(struct ui *ui)
{
	return (ui->loop);
}

struct config *
ui_config(struct ui *ui)
{
	return (ui->config);
}

const struct ui_options *
ui_options(struct ui *ui)
{
	return (&ui->opts);
}

struct account *
ui_account(struct ui *ui)
{
	return (ui->accounts[ui->current]);
}

struct account *
ui_account_at(struct ui *ui, size_t i)
{
	return (i < ui->naccounts ? ui->accounts[i] : NULL);
}

size_t
ui_account_count(struct ui *ui)
{
	return (ui->naccounts);
}

int
ui_cols(struct ui *ui)
{
	return (COLS);
}

int
ui_lines(struct ui *ui)
{
	return (LINES);
}

int
ui_attr(struct ui *ui, enum ui_color c)
{
	return (ui->attrs[c]);
}

void
ui_redraw(struct ui *ui)
{
	ui->dirty = 1;
}

struct ui *
ui_new(struct loop *loop, struct config *cfg, struct account **accounts,
    size_t naccounts, const struct ui_options *opts)
{
	struct ui	*ui;

	ui = xcalloc(1, sizeof *ui);
	ui->loop = loop;
	ui->config = cfg;
	ui->opts = *opts;
	ui->accounts = accounts;
	ui->naccounts = naccounts;
	buf_init(&ui->prompt_text);
	ui->dirty = 1;
	return (ui);
}

void
ui_push(struct ui *ui, const struct screen_ops *ops, void *data)
{
	if (ui->depth == sizeof ui->stack / sizeof ui->stack[0])
		fatalx("screen stack overflow");
	ui->stack[ui->depth].ops = ops;
	ui->stack[ui->depth].data = data;
	ui->depth++;
	ui->nkeys = 0;
	ui->dirty = 1;
}

void
ui_pop(struct ui *ui)
{
	struct ui_screen	*s;

	if (ui->depth <= 1) {
		ui->running = 0;
		return;
	}
	s = &ui->stack[--ui->depth];
	if (s->ops->free != NULL)
		s->ops->free(ui, s->data);
	ui->nkeys = 0;
	ui->dirty = 1;
}

static void
ui_message_expire(struct loop *loop, void *arg)
{
	struct ui	*ui = arg;

	ui->message_timer = NULL;
	ui->message[0] = '\0';
	ui->dirty = 1;
}

static void
ui_vmessage(struct ui *ui, int error, const char *fmt, va_list ap)
{
	char	raw[256];
	char	*clean;

	vsnprintf(raw, sizeof raw, fmt, ap);
	/* Messages may quote server or mail text: keep them safe. */
	clean = sanitize_line(raw);
	snprintf(ui->message, sizeof ui->message, "%s", clean);
	free(clean);
	ui->message_error = error;
	loop_cancel_timer(ui->loop, &ui->message_timer);
	ui->message_timer = loop_add_timer(ui->loop,
	    error ? UI_MESSAGE_MS * 2 : UI_MESSAGE_MS, ui_message_expire, ui);
	ui->dirty = 1;
	if (!ui->curses) {
		fprintf(stderr, "facteur: %s\n", ui->message);
	}
	if (error)
		log_warnx("%s", ui->message);
}

void
ui_message(struct ui *ui, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	ui_vmessage(ui, 0, fmt, ap);
	va_end(ap);
}

void
ui_error(struct ui *ui, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	ui_vmessage(ui, 1, fmt, ap);
	va_end(ap);
}

/* What the status line says while a job named name runs long. */
static const char *
ui_busy_label(const char *name)
{
	static const struct {
		const char	*job;
		const char	*label;
	} labels[] = {
		{ "flags", "Saving changes..." },
		{ "folder", "Changing folders..." },
		{ "count", "Counting..." },
		{ "render", "Rendering..." },
		{ "search", "Searching..." },
		{ "fetch", "Downloading..." },
	};
	size_t	i;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		if (strcmp(labels[i].job, name) == 0)
			return (labels[i].label);
	}
	return ("Working...");
}

/*
 * The busy indicator: a job that reports no progress of its own and has
 * run for half a second is named in the status line until it ends.
 */
static void
ui_busy_tick(struct loop *loop, void *arg)
{
	struct ui	*ui = arg;
	const char	*text = "";
	char		 name[32];
	int64_t		 ms;
	size_t		 i, busy = 0;

	ui->busy_timer = NULL;
	for (i = 0; i < ui->naccounts; i++) {
		if (ui->accounts[i]->worker == NULL)
			continue;
		busy += worker_busy(ui->accounts[i]->worker);
		if (*text == '\0' && worker_running(ui->accounts[i]->worker,
		    name, sizeof name, &ms) && ms >= UI_BUSY_MS)
			text = ui_busy_label(name);
	}
	if (strcmp(text, ui->busy) != 0) {
		snprintf(ui->busy, sizeof ui->busy, "%s", text);
		ui->dirty = 1;
	}
	if (busy > 0)
		ui->busy_timer = loop_add_timer(loop, UI_BUSY_MS / 2,
		    ui_busy_tick, ui);
}

/* Before each paint: watches the workers while any has work. */
static void
ui_busy_watch(struct ui *ui)
{
	size_t	i, busy = 0;

	if (ui->busy_timer != NULL)
		return;
	for (i = 0; i < ui->naccounts; i++) {
		if (ui->accounts[i]->worker != NULL)
			busy += worker_busy(ui->accounts[i]->worker);
	}
	if (busy > 0)
		ui->busy_timer = loop_add_timer(ui->loop, UI_BUSY_MS / 2,
		    ui_busy_tick, ui);
	else if (ui->busy[0] != '\0') {
		ui->busy[0] = '\0';
		ui->dirty = 1;
	}
}

void
ui_progress(struct ui *ui, const char *text)
{
	if (text == NULL)
		ui->progress[0] = '\0';
	else
		snprintf(ui->progress, sizeof ui->progress, "%s", text);
	ui->dirty = 1;
}

void
ui_prompt(struct ui *ui, const char *label, const char *initial,
    ui_prompt_cb cb, void *arg)
{
	ui->prompting = 1;
	ui->prompt_secret = 0;
	snprintf(ui->prompt_label, sizeof ui->prompt_label, "%s", label);
	buf_reset(&ui->prompt_text);
	if (initial != NULL)
		buf_adds(&ui->prompt_text, initial);
	ui->prompt_cb = cb;
	ui->prompt_arg = arg;
	ui->prompt_complete = NULL;
	free(ui->prompt_shown);
	ui->prompt_shown = NULL;
	ui->dirty = 1;
}

/* Whether a prompt is in use (another one must wait). */
int
ui_prompting(struct ui *ui)
{
	return (ui->prompting);
}

/* A prompt with Tab completion. */
void
ui_prompt_complete(struct ui *ui, const char *label, const char *initial,
    ui_prompt_cb cb, ui_complete_cb complete, void *arg)
{
	ui_prompt(ui, label, initial, cb, arg);
	ui->prompt_complete = complete;
}

/* Tab: asks the completion callback and takes what it gives. */
static void
ui_prompt_tab(struct ui *ui)
{
	struct ui_completion	 c = { NULL, NULL };
	char			*text;

	text = xstrdup(buf_str(&ui->prompt_text));
	ui->prompt_complete(ui, text, ui->prompt_arg, &c);
	free(text);
	if (c.text != NULL) {
		buf_reset(&ui->prompt_text);
		buf_adds(&ui->prompt_text, c.text);
		free(c.text);
	}
	free(ui->prompt_shown);
	ui->prompt_shown = c.shown;
	if (c.text == NULL && c.shown == NULL)
		beep();
}

static void
ui_prompt_finish(struct ui *ui, int accept)
{
	ui_prompt_cb	 cb = ui->prompt_cb;
	char		*text;
	size_t		 i;
	int		 secret;

	ui->prompting = 0;
	ui->dirty = 1;
	ui->prompt_complete = NULL;
	free(ui->prompt_shown);
	ui->prompt_shown = NULL;
	text = xstrdup(buf_str(&ui->prompt_text));
	if (ui->prompt_secret && ui->prompt_text.data != NULL)
		explicit_bzero(ui->prompt_text.data, ui->prompt_text.len);
	buf_reset(&ui->prompt_text);
	secret = ui->prompt_secret;
	cb(ui, accept ? text : NULL, ui->prompt_arg);
	if (secret)
		explicit_bzero(text, strlen(text));
	if (!ui->prompting)
		ui->prompt_secret = 0;
	free(text);
	/* What a backend asked while the prompt was in use. */
	for (i = 0; i < ui->naccounts && !ui->prompting; i++)
		credentials_attention(ui, ui->accounts[i]);
}

/* A prompt whose text is not shown (passwords) and is wiped after. */
void
ui_prompt_secret(struct ui *ui, const char *label, ui_prompt_cb cb,
    void *arg)
{
	ui_prompt(ui, label, NULL, cb, arg);
	ui->prompt_secret = 1;
}

/* Removes the last UTF-8 character of the prompt text. */
static void
ui_prompt_backspace(struct ui *ui)
{
	struct buf	*b = &ui->prompt_text;

	while (b->len > 0) {
		b->len--;
		if (((unsigned char)b->data[b->len] & 0xc0) != 0x80)
			break;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
}

static void
ui_prompt_key(struct ui *ui, int ret, wint_t wc)
{
	char	mb[MB_LEN_MAX];
	size_t	n;
	mbstate_t ps;

	if (ret == KEY_CODE_YES) {
		switch (wc) {
		case KEY_ENTER:
			ui_prompt_finish(ui, 1);
			return;
		case KEY_BACKSPACE:
		case KEY_DC:
			ui_prompt_backspace(ui);
			break;
		}
		ui->dirty = 1;
		return;
	}
	if (wc == '\t' && ui->prompt_complete != NULL) {
		ui_prompt_tab(ui);
		ui->dirty = 1;
		return;
	}
	free(ui->prompt_shown);
	ui->prompt_shown = NULL;
	switch (wc) {
	case '\r':
	case '\n':
		ui_prompt_finish(ui, 1);
		return;
	case 27:	/* Esc */
	case 7:		/* ^G */
		ui_prompt_finish(ui, 0);
		return;
	case 127:
	case 8:
		ui_prompt_backspace(ui);
		break;
	case 21:	/* ^U */
		buf_reset(&ui->prompt_text);
		break;
	case 23:	/* ^W: delete the last word */
		while (ui->prompt_text.len > 0 &&
		    ui->prompt_text.data[ui->prompt_text.len - 1] == ' ')
			ui_prompt_backspace(ui);
		while (ui->prompt_text.len > 0 &&
		    ui->prompt_text.data[ui->prompt_text.len - 1] != ' ')
			ui_prompt_backspace(ui);
		break;
	default:
		if (wc < 32 || (wc >= 0x7f && wc < 0xa0))
			break;
		memset(&ps, 0, sizeof ps);
		n = wcrtomb(mb, (wchar_t)wc, &ps);
		if (n != (size_t)-1 && ui->prompt_text.len < 1024)
			buf_add(&ui->prompt_text, mb, n);
		break;
	}
	ui->dirty = 1;
}

/* Turns an ncurses key into a key map code. */
static int
ui_translate_key(int ret, wint_t wc)
{
	if (ret != KEY_CODE_YES) {
		if (wc == '\n')
			return ('\r');
		return ((int)wc);
	}
	switch (wc) {
	case KEY_UP:		return (KEYC_UP);
	case KEY_DOWN:		return (KEYC_DOWN);
	case KEY_LEFT:		return (KEYC_LEFT);
	case KEY_RIGHT:		return (KEYC_RIGHT);
	case KEY_NPAGE:		return (KEYC_PAGEDOWN);
	case KEY_PPAGE:		return (KEYC_PAGEUP);
	case KEY_HOME:		return (KEYC_HOME);
	case KEY_END:		return (KEYC_END);
	case KEY_ENTER:		return ('\r');
	case KEY_BACKSPACE:	return (KEYC_BACKSPACE);
	case KEY_DC:		return (KEYC_DELETE);
	case KEY_IC:		return (KEYC_INSERT);
	case KEY_BTAB:		return (KEYC_BTAB);
	}
	if (wc >= (wint_t)KEY_F(1) && wc <= (wint_t)KEY_F(12))
		return (KEYC_F1 + (int)(wc - KEY_F(1)));
	return (-1);
}

static int
ui_too_small(void)
{
	return (COLS < UI_MIN_COLS || LINES < UI_MIN_LINES);
}

static int	ui_folder_action(struct ui *, const char *);

/* Runs an action on the top screen, then on the generic handlers. */
static void
ui_dispatch(struct ui *ui, const char *action)
{
	struct ui_screen	*s = &ui->stack[ui->depth - 1];

	if (strcmp(action, "redraw") == 0) {
		clearok(curscr, TRUE);
		ui->dirty = 1;
		return;
	}
	if (strcmp(action, "quit") == 0) {
		ui->running = 0;
		return;
	}
	if (ui_too_small())
		return;
	if (s->ops->action != NULL && s->ops->action(ui, s->data, action))
		return;
	if (strcmp(action, "exit") == 0) {
		ui_pop(ui);
		return;
	}
	if (strcmp(action, "help") == 0) {
		help_open(ui, s->ops->keymap);
		return;
	}
	if (strcmp(action, "change-folder") == 0) {
		folders_open(ui);
		return;
	}
	if (compose_dispatch(ui, action))
		return;
	if (strcmp(action, "fetch-mail") == 0) {
		pop3ui_fetch(ui);
		return;
	}
	if (ui_folder_action(ui, action))
		return;
	ui_message(ui, "%s: not available here", action);
}

static void
ui_key(struct ui *ui, int ret, wint_t wc)
{
	struct ui_screen	*s;
	const char		*action;
	enum km_match		 m;
	int			 key;
	char			 name[64];

	if (ret == KEY_CODE_YES && wc == KEY_RESIZE) {
		ui->dirty = 1;
		return;
	}
	if (ui->prompting) {
		ui_prompt_key(ui, ret, wc);
		return;
	}
	if ((key = ui_translate_key(ret, wc)) == -1)
		return;
	if (ui->message[0] != '\0' && !ui->message_error) {
		ui->message[0] = '\0';
		ui->dirty = 1;
	}
	s = &ui->stack[ui->depth - 1];
	ui->keys[ui->nkeys++] = key;
	m = keymap_lookup(ui->config, s->ops->keymap, ui->keys, ui->nkeys,
	    &action);
	switch (m) {
	case KM_PREFIX:
		if (ui->nkeys < UI_MAXKEYS)
			return;
		/* FALLTHROUGH */
	case KM_NONE:
		keymap_key_name(ui->keys, ui->nkeys, name, sizeof name);
		ui->nkeys = 0;
		ui_message(ui, "Key %s is not bound. Press %s for help.",
		    name, ui_key_for(ui, s->ops->keymap, "help"));
		return;
	case KM_MATCH:
		ui->nkeys = 0;
		ui_dispatch(ui, action);
		return;
	}
}

static void
ui_tty_read(struct loop *loop, int fd, short revents, void *arg)
{
	struct ui	*ui = arg;
	wint_t		 wc;
	int		 ret;

	/* Drains every key: ncurses never keeps one that poll cannot see. */
	while ((ret = get_wch(&wc)) != ERR) {
		ui_key(ui, ret, wc);
		if (!ui->running)
			break;
	}
	if (revents & (POLLHUP | POLLERR)) {
		/* The terminal went away: leave without touching it. */
		ui->running = 0;
		ui->status = 0;
	}
	if (!ui->running)
		loop_stop(loop);
}

struct ui_keyfind {
	const char	*action;
	char		 key[32];
};

static void
ui_keyfind_cb(void *arg, const char *keyname, const char *action,
    const char *description)
{
	struct ui_keyfind	*kf = arg;

	if (kf->key[0] == '\0' && strcmp(action, kf->action) == 0)
		snprintf(kf->key, sizeof kf->key, "%s", keyname);
}

const char *
ui_key_for(struct ui *ui, unsigned screen, const char *action)
{
	static struct ui_keyfind	kf;

	memset(&kf, 0, sizeof kf);
	kf.action = action;
	keymap_foreach(ui->config, screen, ui_keyfind_cb, &kf);
	if (kf.key[0] == '\0')
		snprintf(kf.key, sizeof kf.key, ":%s", action);
	return (kf.key);
}

int
ui_put(int y, int x, const char *text, int cols, int pad)
{
	size_t	len;
	int	used = 0;

	if (cols <= 0)
		return (0);
	len = sanitize_fit(text, cols, &used);
	if (len > 0)
		mvaddnstr(y, x, text, (int)len);
	else
		move(y, x);
	if (pad) {
		while (used < cols) {
			addch(' ');
			used++;
		}
	}
	return (used);
}

/* A secret prompt shows one '*' per character typed. */
static char *
ui_prompt_stars(struct ui *ui)
{
	const char	*p = buf_str(&ui->prompt_text);
	char		*s;
	size_t		 n = 0;

	for (; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	s = xmalloc(n + 1);
	memset(s, '*', n);
	s[n] = '\0';
	return (s);
}

/* Puts untrusted text: sanitised first. */
static void
ui_draw_status(struct ui *ui)
{
	struct ui_screen	*s = &ui->stack[ui->depth - 1];
	char			 left[512], right[160];
	int			 y = LINES - 1, w;

	if (ui->prompting) {
		char	*clean;

		if (ui->prompt_shown != NULL && y > 0) {
			clean = sanitize_line(ui->prompt_shown);
			attrset(ui->attrs[UC_STATUS]);
			move(y - 1, 0);
			clrtoeol();
			ui_put(y - 1, 0, clean, COLS, 1);
			free(clean);
		}
		attrset(A_NORMAL);
		move(y, 0);
		clrtoeol();
		w = ui_put(y, 0, ui->prompt_label, COLS, 0);
		/* Show the end of the text when it is too long. */
		clean = ui->prompt_secret ? ui_prompt_stars(ui) :
		    sanitize_line(buf_str(&ui->prompt_text));
		{
			const char	*p = clean;
			int		 room = COLS - w - 1;

			while (sanitize_width(p) > room && *p != '\0') {
				p++;
				while ((*p & 0xc0) == 0x80)
					p++;
			}
			w += ui_put(y, w, p, room, 0);
		}
		free(clean);
		curs_set(1);
		move(y, w);
		return;
	}
	curs_set(0);
	left[0] = '\0';
	if (s->ops->status != NULL)
		s->ops->status(ui, s->data, left, sizeof left);
	snprintf(right, sizeof right, "%s", ui->progress[0] != '\0' ?
	    ui->progress : ui->busy);

	/* Line above the bottom: the status bar. */
	attrset(ui->attrs[UC_STATUS]);
	move(y - 1, 0);
	w = ui_put(y - 1, 0, left, COLS, 1);
	if (right[0] != '\0' && COLS > 8) {
		int	rw = sanitize_width(right);

		/* A long one (why an account is offline) is cut, not left
		   out, and leaves a third of the bar to the screen's. */
		if (rw + 2 >= COLS && rw > COLS * 2 / 3)
			rw = COLS * 2 / 3;
		ui_put(y - 1, COLS - rw - 1, right, rw, 0);
	}
	attrset(A_NORMAL);
	move(y, 0);
	clrtoeol();
	if (ui->message[0] != '\0') {
		if (ui->message_error)
			attrset(ui->attrs[UC_ERROR]);
		ui_put(y, 0, ui->message, COLS, 0);
		attrset(A_NORMAL);
	}
	(void)w;
}

static void
ui_draw_too_small(void)
{
	erase();
	mvaddnstr(0, 0, "Terminal too small", COLS);
	if (LINES > 1)
		mvaddnstr(1, 0, "(need 20x5)", COLS);
}

static void
ui_paint(struct loop *loop, void *arg)
{
	struct ui		*ui = arg;
	struct ui_screen	*s;

	if (ui->curses && ui->running)
		ui_busy_watch(ui);
	if (!ui->curses || !ui->dirty || !ui->running)
		return;
	ui->dirty = 0;
	if (ui_too_small()) {
		ui_draw_too_small();
		refresh();
		return;
	}
	s = &ui->stack[ui->depth - 1];
	if (s->ops->held != NULL && s->ops->held(ui, s->data)) {
		ui->dirty = 1;
		return;
	}
	erase();
	s->ops->draw(ui, s->data, 0, LINES - 2);
	ui_draw_status(ui);
	refresh();
	if (!ui->painted_rows && ui_index_mailbox(ui) != NULL) {
		ui->painted_rows = 1;
		log_debug("first index screen drawn at %lld ms",
		    (long long)(loop_now(ui->loop) - ui->started));
	}
}

static void
ui_on_signal(struct loop *loop, int signo, void *arg)
{
	struct ui	*ui = arg;
	struct winsize	 ws;

	switch (signo) {
	case SIGTERM:
	case SIGHUP:
		ui->running = 0;
		ui->status = 0;
		loop_stop(loop);
		break;
	case SIGINT:
		/* Cancels a prompt or a fetch; else asks how to leave. */
		if (ui->prompting)
			ui_prompt_finish(ui, 0);
		else if (pop3ui_cancel(ui))
			;
		else
			ui_message(ui, "Press %s to quit.",
			    ui_key_for(ui, KM_INDEX, "quit"));
		break;
	case SIGTSTP:
		/* Give the terminal back, stop; SIGCONT brings us here. */
		endwin();
		kill(getpid(), SIGSTOP);
		refresh();
		clearok(curscr, TRUE);
		ui->dirty = 1;
		break;
	case SIGCONT:
		clearok(curscr, TRUE);
		ui->dirty = 1;
		break;
	case SIGWINCH:
		/* The handler is ours, not ncurses': tell it the size. */
		if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_row > 0 && ws.ws_col > 0)
			resizeterm(ws.ws_row, ws.ws_col);
		clearok(curscr, TRUE);
		ui->dirty = 1;
		break;
	case SIGCHLD:
		break;
	}
}

static void
ui_fatal_hook(void)
{
	if (ui_global != NULL && ui_global->curses) {
		endwin();
		ui_global->curses = 0;
	}
}

static short
ui_color_default(enum ui_color c, short *fg, short *bg, int *attrs)
{
	*fg = -1;
	*bg = -1;
	*attrs = 0;
	switch (c) {
	case UC_INDEX_UNREAD:	*attrs = A_BOLD; break;
	case UC_INDEX_FLAGGED:	*fg = COLOR_RED; *attrs = A_BOLD; break;
	case UC_INDEX_DELETED:	*fg = COLOR_YELLOW; *attrs = A_DIM; break;
	case UC_INDEX_CURSOR:	*attrs = A_REVERSE; break;
	case UC_INDEX_DATE:	break;
	case UC_INDEX_TREE:	*fg = COLOR_MAGENTA; break;
	case UC_STATUS:		*attrs = A_REVERSE; break;
	case UC_ERROR:		*fg = COLOR_RED; *attrs = A_BOLD; break;
	case UC_HEADER_NAME:	*fg = COLOR_GREEN; *attrs = A_BOLD; break;
	case UC_QUOTED:
	case UC_QUOTED1:	*fg = COLOR_CYAN; break;
	case UC_QUOTED2:	*fg = COLOR_YELLOW; break;
	case UC_QUOTED3:	*fg = COLOR_GREEN; break;
	case UC_SIGNATURE:	*attrs = A_DIM; break;
	case UC_SEARCH:		*attrs = A_REVERSE | A_BOLD; break;
	case UC_SIDEBAR_CURRENT: *attrs = A_BOLD | A_UNDERLINE; break;
	case UC_HELP_KEY:	*fg = COLOR_YELLOW; *attrs = A_BOLD; break;
	default:		break;
	}
	return (0);
}

static const char *ui_color_names[UC_MAX] = {
	"normal", "index_unread", "index_flagged", "index_deleted",
	"index_cursor", "index_date", "index_from", "index_tree", "status",
	"error", "header_name", "header_value", "quoted", "quoted1",
	"quoted2", "quoted3", "signature", "search", "sidebar",
	"sidebar_current", "help_key",
};

static void
ui_colors(struct ui *ui)
{
	short	fg, bg;
	int	attrs, cattrs, c, have = has_colors();

	if (have) {
		start_color();
		use_default_colors();
	}
	for (c = 0; c < UC_MAX; c++) {
		ui_color_default(c, &fg, &bg, &attrs);
		if (config_color(ui->config, ui_color_names[c], &fg, &bg,
		    &cattrs) == 0) {
			attrs = 0;
			if (cattrs & CONFIG_ATTR_BOLD)
				attrs |= A_BOLD;
			if (cattrs & CONFIG_ATTR_UNDERLINE)
				attrs |= A_UNDERLINE;
			if (cattrs & CONFIG_ATTR_REVERSE)
				attrs |= A_REVERSE;
			if (cattrs & CONFIG_ATTR_DIM)
				attrs |= A_DIM;
			if (cattrs & CONFIG_ATTR_STANDOUT)
				attrs |= A_STANDOUT;
			/* The cursor and status bar stay visible. */
			if (c == UC_INDEX_CURSOR || c == UC_STATUS)
				attrs |= fg == -1 && bg == -1 ? A_REVERSE : 0;
		}
		ui->attrs[c] = attrs;
		if (have && (fg != -1 || bg != -1) && c + 1 < COLOR_PAIRS &&
		    fg < COLORS && bg < COLORS) {
			init_pair((short)(c + 1), fg, bg);
			ui->attrs[c] |= COLOR_PAIR(c + 1);
		}
	}
}

/* Opens the accounts' stores in their workers. */
static int	ui_open_accounts(struct ui *);

int
ui_run(struct ui *ui)
{
	const char	*term = getenv("TERM");

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "facteur: standard input and output must be "
		    "a terminal\n");
		return (64);
	}
	if (term == NULL || *term == '\0')
		setenv("TERM", "vt100", 1);
	ui_global = ui;
	log_set_fatal_hook(ui_fatal_hook);
	if (newterm(NULL, stdout, stdin) == NULL) {
		fprintf(stderr, "facteur: cannot use terminal type '%s'\n",
		    getenv("TERM"));
		return (69);
	}
	ui->curses = 1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	/* A screen goes out in one write, not cut by checks for typing. */
	typeahead(-1);
	set_escdelay(25);
	curs_set(0);
	ui_colors(ui);

	loop_signal(ui->loop, SIGTERM, ui_on_signal, ui);
	loop_signal(ui->loop, SIGHUP, ui_on_signal, ui);
	loop_signal(ui->loop, SIGINT, ui_on_signal, ui);
	loop_signal(ui->loop, SIGTSTP, ui_on_signal, ui);
	loop_signal(ui->loop, SIGCONT, ui_on_signal, ui);
	loop_signal(ui->loop, SIGCHLD, ui_on_signal, ui);
	loop_signal(ui->loop, SIGWINCH, ui_on_signal, ui);
	ui->tty = loop_add_fd(ui->loop, STDIN_FILENO, POLLIN, ui_tty_read,
	    ui);
	loop_set_idle(ui->loop, ui_paint, ui);

	ui->running = 1;
	ui->started = loop_now(ui->loop);
	ui_push(ui, &index_screen_ops, index_new(ui));
	ui_open_accounts(ui);
	ui_paint(ui->loop, ui);
	while (ui->running)
		loop_once(ui->loop, -1);

	loop_set_idle(ui->loop, NULL, NULL);
	loop_remove_fd(ui->loop, &ui->tty);
	pop3ui_shutdown(ui);
	while (ui->depth > 0) {
		struct ui_screen *s = &ui->stack[--ui->depth];

		if (s->ops->free != NULL)
			s->ops->free(ui, s->data);
	}
	endwin();
	ui->curses = 0;
	return (ui->status);
}

/* --- Creating, renaming and deleting folders on the server. --- */

enum ui_folder_op { UI_FOLDER_CREATE, UI_FOLDER_RENAME, UI_FOLDER_DELETE };

struct ui_folder {
	struct ui		*ui;
	struct account		*account;
	enum ui_folder_op	 op;
	char			*name;
	char			*to;
};

static int
ui_folder_run(struct job *j, void *arg)
{
	struct ui_folder	*f = arg;
	struct account		*a = f->account;

	switch (f->op) {
	case UI_FOLDER_CREATE:
		return (a->ops->create_folder(a->backend, f->name,
		    job_error(j)));
	case UI_FOLDER_RENAME:
		return (a->ops->rename_folder(a->backend, f->name, f->to,
		    job_error(j)));
	case UI_FOLDER_DELETE:
		break;
	}
	return (a->ops->delete_folder(a->backend, f->name, job_error(j)));
}

static void
ui_folder_done(struct job *j, void *arg, int result, const struct error *err)
{
	struct ui_folder	*f = arg;
	static const char	*done[] = { "created", "renamed", "deleted" };

	if (result != 0) {
		ui_error(f->ui, "%s", err->msg);
		return;
	}
	ui_message(f->ui, "%s: folder %s %s", f->account->name, f->name,
	    done[f->op]);
	folders_refresh(f->ui);
	if (f->op != UI_FOLDER_CREATE)	/* the open folder is gone */
		index_open(f->ui, f->account, NULL, NULL);
}

static void
ui_folder_free(void *arg)
{
	struct ui_folder	*f = arg;

	free(f->name);
	free(f->to);
	free(f);
}

/* Runs f on its account's worker. */
static void
ui_folder_submit(struct ui_folder *f)
{
	struct job	*j;

	j = job_new("folder", ui_folder_run, ui_folder_done, f);
	job_set_free(j, ui_folder_free);
	worker_submit(f->account->worker, j);
}

/* A prompt's answer: the new name, or "yes" to delete. */
static void
ui_folder_answer(struct ui *ui, const char *text, void *arg)
{
	struct ui_folder	*f = arg;

	if (text == NULL || *text == '\0' || (f->op == UI_FOLDER_DELETE &&
	    strcmp(text, "yes") != 0)) {
		ui_folder_free(f);
		return;
	}
	if (f->op == UI_FOLDER_CREATE)
		f->name = xstrdup(text);
	else if (f->op == UI_FOLDER_RENAME)
		f->to = xstrdup(text);
	ui_folder_submit(f);
}

/* create-folder, rename-folder and delete-folder (the open folder). */
static int
ui_folder_action(struct ui *ui, const char *action)
{
	struct account		*a = ui_account(ui);
	struct mailbox		*mb = ui_index_mailbox(ui);
	struct ui_folder	*f;
	char			 label[64];
	int			 op;

	if (strcmp(action, "create-folder") == 0)
		op = UI_FOLDER_CREATE;
	else if (strcmp(action, "rename-folder") == 0)
		op = UI_FOLDER_RENAME;
	else if (strcmp(action, "delete-folder") == 0)
		op = UI_FOLDER_DELETE;
	else
		return (0);
	if (a == NULL || a->backend == NULL || a->ops->create_folder == NULL) {
		ui_error(ui, "%s: only IMAP accounts manage folders", action);
		return (1);
	}
	if (op != UI_FOLDER_CREATE && (mb == NULL || mb->name == NULL)) {
		ui_error(ui, "%s: no folder is open", action);
		return (1);
	}
	f = xcalloc(1, sizeof *f);
	f->ui = ui;
	f->account = a;
	f->op = (enum ui_folder_op)op;
	if (op != UI_FOLDER_CREATE)
		f->name = xstrdup(mb->name);
	switch (f->op) {
	case UI_FOLDER_CREATE:
		ui_prompt(ui, "New folder: ", NULL, ui_folder_answer, f);
		break;
	case UI_FOLDER_RENAME:
		snprintf(label, sizeof label, "Rename %.30s to: ", f->name);
		ui_prompt(ui, label, f->name, ui_folder_answer, f);
		break;
	case UI_FOLDER_DELETE:
		snprintf(label, sizeof label, "Delete %.24s and its mail? "
		    "(yes/no) ", f->name);
		ui_prompt(ui, label, NULL, ui_folder_answer, f);
		break;
	}
	return (1);
}

/* --- Opening and syncing accounts, in the workers. --- */

struct ui_open {
	struct ui	*ui;
	struct account	*account;
	struct backend	*backend;
	size_t		 added;
	size_t		 removed;
	int		 sync;
};

static void	ui_sync_account(struct ui *, struct account *);
static void	ui_open_account(struct ui *, struct account *);
static void	ui_net_status(struct ui *, struct account *);

static int
ui_open_run(struct job *j, void *arg)
{
	struct ui_open	*o = arg;

	return (o->account->ops->open(&o->backend, &o->account->params,
	    job_error(j)));
}

static void
ui_open_done(struct job *j, void *arg, int result, const struct error *err)
{
	struct ui_open	*o = arg;
	struct ui	*ui = o->ui;
	struct account	*a = o->account;

	a->opening = 0;
	ui_progress(ui, NULL);
	if (result != 0) {
		/* A password to ask, or a certificate to trust: then again. */
		if (credentials_ask(ui, a, err, ui_open_account) == 0)
			return;
		ui_error(ui, "%s: %s", a->name, err->msg);
		return;
	}
	a->backend = o->backend;
	o->backend = NULL;
	log_debug("%s: opened at %lld ms", a->name,
	    (long long)(loop_now(ui->loop) - ui->started));
	if (a == ui_account(ui))
		index_open(ui, a, NULL, NULL);
	log_debug("%s: index open at %lld ms", a->name,
	    (long long)(loop_now(ui->loop) - ui->started));
	ui_net_status(ui, a);
	/* Opened offline from its cache, waiting for the user: no sync
	   behind the question (it would ask it again). */
	if (credentials_attention(ui, a) == 0 && ui->opts.sync_on_start)
		ui_sync_account(ui, a);
	pop3ui_opened(ui, a);
	compose_opened(ui, a);
}

static void
ui_open_free(void *arg)
{
	struct ui_open	*o = arg;

	if (o->backend != NULL)
		o->account->ops->close(&o->backend);
	free(o);
}

struct ui_changed {
	struct ui	*ui;
	struct account	*account;
};

/* Shows a network account's connection trouble in the status line,
   and clears it once it is back. */
static void
ui_net_status(struct ui *ui, struct account *a)
{
	char	state[320], text[128];

	if (a->backend == NULL || a->ops->status == NULL)
		return;
	if (a->ops->status(a->backend, state, sizeof state)) {
		snprintf(text, sizeof text, "%.40s: %.80s", a->name, state);
		ui_progress(ui, text);
		a->offline = 1;
	} else if (a->offline) {
		a->offline = 0;
		ui_progress(ui, NULL);
		ui_message(ui, "%s: %s", a->name, state);
	}
}

/* On the loop thread: a backend said its store changed. */
static void
ui_changed(struct loop *loop, void *arg)
{
	struct ui_changed	*c = arg;

	/* From here a new notice is posted again: none is lost. */
	atomic_store(&c->account->notice_posted, 0);
	if (c->account->backend != NULL)
		index_store_changed(c->ui, c->account);
	ui_net_status(c->ui, c->account);
	credentials_attention(c->ui, c->account);
	free(c);
}

/* Any thread: forwards a backend's change notice to the loop, unless
   one already waits there (it reads the store as it is when it runs, so
   notices that come meanwhile are one reload, not one each). */
static void
ui_account_notify(struct account *a, void *arg)
{
	struct ui		*ui = arg;
	struct ui_changed	*c;

	if (atomic_exchange(&a->notice_posted, 1))
		return;
	c = xcalloc(1, sizeof *c);
	c->ui = ui;
	c->account = a;
	loop_post(ui->loop, ui_changed, c);
}

/* Opens one account's backend in its worker. */
static void
ui_open_account(struct ui *ui, struct account *a)
{
	struct ui_open	*o;
	struct job	*j;

	o = xcalloc(1, sizeof *o);
	o->ui = ui;
	o->account = a;
	a->opening = 1;
	account_set_notify(a, ui_account_notify, ui);
	credentials_prepare(a);
	j = job_new("open", ui_open_run, ui_open_done, o);
	job_set_free(j, ui_open_free);
	worker_submit(a->worker, j);
	ui_progress(ui, "Opening...");
}

static int
ui_open_accounts(struct ui *ui)
{
	size_t		 i;

	for (i = 0; i < ui->naccounts; i++)
		ui_open_account(ui, ui->accounts[i]);
	return (0);
}

/* Backend progress, on the worker: forwarded to the loop thread. */
static void
ui_sync_report(void *arg, size_t done, size_t total, const char *what)
{
	job_progress(arg, done, total, what);
}

struct ui_sync {
	struct ui	*ui;
	struct account	*account;
	size_t		 added;
	size_t		 removed;
	struct job	*job;
};

static int
ui_sync_run(struct job *j, void *arg)
{
	struct ui_sync	*s = arg;
	struct account	*a = s->account;

	return (a->ops->sync(a->backend, ui_sync_report, j,
	    job_cancel_flag(j), &s->added, &s->removed, job_error(j)));
}

static void
ui_sync_progress(struct job *j, void *arg, size_t done, size_t total,
    const char *what)
{
	struct ui_sync	*s = arg;
	char		 text[128];

	if (total > 0)
		snprintf(text, sizeof text, "%s: %s %zu/%zu",
		    s->account->name, what, done, total);
	else
		snprintf(text, sizeof text, "%s: %s %zu", s->account->name,
		    what, done);
	ui_progress(s->ui, text);
}

static void
ui_sync_done(struct job *j, void *arg, int result, const struct error *err)
{
	struct ui_sync	*s = arg;
	struct ui	*ui = s->ui;

	s->account->syncing = 0;
	ui_progress(ui, NULL);
	if (result != 0) {
		ui_error(ui, "%s: sync failed: %s", s->account->name,
		    err->msg);
		return;
	}
	index_store_changed(ui, s->account);
	if (s->added > 0 || s->removed > 0)
		ui_message(ui, "%s: %zu new, %zu removed", s->account->name,
		    s->added, s->removed);
}

static void
ui_sync_account(struct ui *ui, struct account *a)
{
	struct ui_sync	*s;
	struct job	*j;

	if (a->backend == NULL || a->syncing)
		return;
	a->syncing = 1;
	s = xcalloc(1, sizeof *s);
	s->ui = ui;
	s->account = a;
	j = job_new("sync", ui_sync_run, ui_sync_done, s);
	job_set_progress(j, ui_sync_progress);
	job_set_free(j, free);
	worker_submit(a->worker, j);
	ui_progress(ui, "Indexing...");
}

/* The generic "sync" action, for whichever screen. */
void	ui_sync(struct ui *);
void
ui_sync(struct ui *ui)
{
	ui_sync_account(ui, ui_account(ui));
}

void
ui_free(struct ui **uip)
{
	struct ui	*ui = *uip;

	if (ui == NULL)
		return;
	loop_cancel_timer(ui->loop, &ui->message_timer);
	loop_cancel_timer(ui->loop, &ui->busy_timer);
	buf_free(&ui->prompt_text);
	free(ui->prompt_shown);
	if (ui_global == ui)
		ui_global = NULL;
	free(ui);
	*uip = NULL;
}
