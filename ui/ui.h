/*
 * The terminal front end: a stack of screens (index, pager, folder list,
 * help) drawn by one paint function once per loop turn, a status line
 * with a one-line prompt, and key dispatch through named actions. Only
 * the loop thread calls anything here.
 */
#ifndef FACTEUR_UI_UI_H
#define FACTEUR_UI_UI_H

#include <stddef.h>
#include <stdint.h>

#include "config/keymap.h"

struct config;
struct loop;
struct account;
struct error;
struct ui;

struct screen_ops {
	const char	*name;
	unsigned	 keymap;	/* KM_* bit of its bindings */
	/* Draws into rows [top, top+height) of the terminal. */
	void		(*draw)(struct ui *, void *, int top, int height);
	/* Handles a named action. Returns 1 if handled. */
	int		(*action)(struct ui *, void *, const char *);
	void		(*free)(struct ui *, void *);
	/* Optional: a short description for the status line. */
	void		(*status)(struct ui *, void *, char *, size_t);
	/* Optional: 1 keeps the previous frame (its content is due soon). */
	int		(*held)(struct ui *, void *);
};

/* Prompt completion: called with the text the user typed (NULL when
   cancelled). */
typedef void (*ui_prompt_cb)(struct ui *, const char *, void *);

enum ui_color {
	UC_NORMAL, UC_INDEX_UNREAD, UC_INDEX_FLAGGED, UC_INDEX_DELETED,
	UC_INDEX_CURSOR, UC_INDEX_DATE, UC_INDEX_FROM, UC_INDEX_TREE,
	UC_STATUS, UC_ERROR, UC_HEADER_NAME, UC_HEADER_VALUE, UC_QUOTED,
	UC_QUOTED1, UC_QUOTED2, UC_QUOTED3, UC_SIGNATURE, UC_SEARCH,
	UC_SIDEBAR, UC_SIDEBAR_CURRENT, UC_HELP_KEY, UC_MAX
};

struct ui_options {
	const char	*sort;		/* date | date-reverse | threads */
	int		 sidebar;
	int		 sidebar_width;
	int		 mark_read;
	int		 prefer_html;
	int		 sync_on_start;
	const char	*date_format;
};

struct ui	*ui_new(struct loop *, struct config *, struct account **,
		    size_t, const struct ui_options *);
/* Takes the terminal, opens the first account, runs until quit. Returns
   the exit status. */
int		 ui_run(struct ui *);
void		 ui_free(struct ui **);

/* Screens. */
void		 ui_push(struct ui *, const struct screen_ops *, void *);
void		 ui_pop(struct ui *);
void		 ui_redraw(struct ui *);

/* The status line: a message that stays a few seconds. */
void		 ui_message(struct ui *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 ui_error(struct ui *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Background work shown in the status line; NULL clears it. */
void		 ui_progress(struct ui *, const char *);
void		 ui_prompt(struct ui *, const char *, const char *,
		    ui_prompt_cb, void *);
/* Whether a prompt is in use. */
int		 ui_prompting(struct ui *);
/* The same with no echo; the text is wiped once cb has run. */
void		 ui_prompt_secret(struct ui *, const char *, ui_prompt_cb,
		    void *);
/* What Tab does in a prompt: the new text (NULL: unchanged) and, when
   several things match, a line listing them; both owned by the prompt. */
struct ui_completion {
	char	*text;
	char	*shown;
};
typedef void (*ui_complete_cb)(struct ui *, const char *, void *,
		    struct ui_completion *);
/* A prompt where Tab calls complete with the text typed so far. */
void		 ui_prompt_complete(struct ui *, const char *, const char *,
		    ui_prompt_cb, ui_complete_cb, void *);

/* ui/credentials.c: passwords and certificate trust for network
   accounts. */
typedef void (*credentials_retry_cb)(struct ui *, struct account *);
/* Opens a page with what a server presented (fingerprint, subject,
   issuer, expiry, why it is not trusted) and where a pin would go. */
struct tls_peer;
void		 credentials_show_certificate(struct ui *, const char *account,
		    const char *server, const struct tls_peer *,
		    const char *reason, const char *pin_file);
/* Gives the account somewhere to receive the certificate shown. */
void		 credentials_prepare(struct account *);
/* After a failed open: asks for a password (ERR_AUTH) or whether to
   trust the certificate shown (ERR_TLS), then calls retry. Returns -1
   when there is nothing to ask (the caller reports err). */
int		 credentials_ask(struct ui *, struct account *,
		    const struct error *, credentials_retry_cb);
/* An open account's backend waits for the user (a login refused, a
   certificate that no longer verifies): asks once, unless a prompt is in
   use (then when it ends), and has the backend try again. Returns 1
   when it asked (or said why it cannot). */
int		 credentials_attention(struct ui *, struct account *);

/* ui/pop3ui.c: fetching POP3 accounts into their Maildirs. */
/* The fetch-mail action: the account shown, else the first POP3 one. */
void		 pop3ui_fetch(struct ui *);
/* An account opened: a POP3 one fetches now and every poll_interval. */
void		 pop3ui_opened(struct ui *, struct account *);
/* Cancels the fetches that run (^C); returns 1 if there was one. */
int		 pop3ui_cancel(struct ui *);
/* Cancels fetches and timers when the interface ends. */
void		 pop3ui_shutdown(struct ui *);

/* Accessors for screens. */
struct loop	*ui_loop(struct ui *);
struct config	*ui_config(struct ui *);
const struct ui_options *ui_options(struct ui *);
struct account	*ui_account(struct ui *);
struct account	*ui_account_at(struct ui *, size_t);
size_t		 ui_account_count(struct ui *);
int		 ui_cols(struct ui *);
int		 ui_lines(struct ui *);
int		 ui_attr(struct ui *, enum ui_color);

/* Drawing helpers: puts the sanitised UTF-8 text at (y, x) within cols
   columns, padding with spaces when pad. Returns the columns used. */
int		 ui_put(int y, int x, const char *, int cols, int pad);
/* The first key bound to action on a screen, for hints ("?"). */
const char	*ui_key_for(struct ui *, unsigned, const char *);

/* Index screen (ui/index.c). */
void		*index_new(struct ui *);
extern const struct screen_ops index_screen_ops;
/* Opens a folder or query in the index (replaces the mailbox). */
void		 index_open(struct ui *, struct account *, const char *,
		    const char *);
/* Called when the account's store changed (after sync or a write). */
void		 index_store_changed(struct ui *, struct account *);
/* The folder list, reused by the sidebar. */
void		 folders_draw_list(struct ui *, int, int, int, int, int,
		    size_t, long);

/* Pager (ui/pager.c). */
void		 pager_open(struct ui *, struct account *, const char *id,
		    const char *subject);
extern const struct screen_ops pager_screen_ops;

/* Inline view of a text attachment: msg is a whole message (copied). */
void		 pager_open_text(struct ui *, const char *title,
		    const char *msg, size_t len);

/* Attachment and URL lists (ui/attach.c), on the folders key map. */
struct render;
void		 attach_open(struct ui *, const char *msgpath,
		    const char *subject);
void		 urls_open(struct ui *, const struct render *);
extern const struct screen_ops attach_screen_ops;
/* Prompts for a file and saves part index (0: the whole message). */
void		 attach_save_prompt(struct ui *, const char *msgpath,
		    unsigned index, const char *name);
/* Prompts for a command and pipes part index (0: the message) to it. */
void		 attach_pipe_prompt(struct ui *, const char *msgpath,
		    unsigned index);
/*
 * Runs argv (execvp, no shell unless argv says so) on the terminal with
 * curses suspended, waits for it and repaints. Flags: in[0..len) on its
 * standard input, "press any key" afterwards, mailcap sandbox.
 */
#define ATTACH_RUN_STDIN	0x1
#define ATTACH_RUN_WAIT		0x2
#define ATTACH_RUN_SANDBOX	0x4
int		 attach_run(struct ui *, char *const argv[], const char *in,
		    size_t len, int flags);

/* Folder list (ui/folders.c). */
void		 folders_open(struct ui *);
void		 folders_refresh(struct ui *);
extern const struct screen_ops folders_screen_ops;

/* Compose, review and the outbox (ui/compose.c): compose-message, reply,
   group-reply, list-reply, forward-*, edit-as-new, show-outbox. Returns 1
   if it handled the action. */
int		 compose_dispatch(struct ui *, const char *);
/* An account opened: sends what its outbox holds that is due. */
void		 compose_opened(struct ui *, struct account *);
/* facteur -s: sends stdin without the interface; returns the exit status
   (0 sent, 75 kept for a retry, 1 refused, 78 configuration). */
int		 compose_cli(struct config *, const char *, char **, int,
		    const char *, char **, int);
extern const struct screen_ops compose_screen_ops;
extern const struct screen_ops outbox_screen_ops;

/* Help (ui/help.c). */
void		 help_open(struct ui *, unsigned);
extern const struct screen_ops help_screen_ops;

/* Actions (ui/actions.c). */
extern const struct action_desc ui_actions[];
extern const size_t ui_nactions;

/* Shared between index and pager: flag and tag actions on a message. */
struct mailbox;
struct mailbox_row;
int		 ui_message_action(struct ui *, struct mailbox *, size_t,
		    const char *);
struct mailbox	*ui_index_mailbox(struct ui *);
size_t		 ui_index_cursor(struct ui *);
void		 ui_index_set_cursor(struct ui *, size_t);

#endif
