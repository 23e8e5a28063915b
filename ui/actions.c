/*
 * Every action a key can be bound to, with the screens where it means
 * something and the one-line description the help screen shows.
 */
#include <stddef.h>

#include "config/keymap.h"
#include "ui/ui.h"

#define G	KM_GENERIC
#define I	KM_INDEX
#define P	KM_PAGER
#define F	KM_FOLDERS
#define H	KM_HELP
#define ALL	(G | I | P | F | H)

const struct action_desc ui_actions[] = {
	{ "quit", "leave facteur", ALL },
	{ "exit", "leave this screen", ALL },
	{ "help", "show the key bindings", ALL },
	{ "redraw", "redraw the screen", ALL },
	{ "next-entry", "move to the next entry", ALL },
	{ "previous-entry", "move to the previous entry", ALL },
	{ "page-down", "move down one page", ALL },
	{ "page-up", "move up one page", ALL },
	{ "half-down", "move down half a page", ALL },
	{ "half-up", "move up half a page", ALL },
	{ "first-entry", "move to the first entry", ALL },
	{ "last-entry", "move to the last entry", ALL },
	{ "search", "search forward for text", ALL },
	{ "search-reverse", "search backward for text", ALL },
	{ "search-next", "repeat the last search", ALL },
	{ "search-previous", "repeat the last search backward", ALL },
	{ "sync", "index new and removed mail, apply deletions", ALL },
	{ "fetch-mail", "download new mail of a POP3 account (^C cancels)",
	  ALL },
	{ "change-folder", "choose a folder or saved search", ALL },
	{ "create-folder", "create a folder on the IMAP server", ALL },
	{ "rename-folder", "rename the open folder on the IMAP server", ALL },
	{ "delete-folder", "delete the open folder and its mail (asks)", ALL },
	{ "toggle-sidebar", "show or hide the folder sidebar", ALL },
	{ "display-message", "read the selected message", I },
	{ "limit", "show only messages matching a notmuch query", I },
	{ "toggle-threads", "switch between threads and messages", I },
	{ "collapse-thread", "expand or collapse the current thread", I },
	{ "collapse-all", "collapse every expanded thread", I },
	{ "toggle-new", "mark the message read or unread", I | P },
	{ "flag-message", "flag or unflag the message", I | P },
	{ "delete-message", "mark the message deleted (undo with u)", I | P },
	{ "undelete-message", "remove the deleted mark", I | P },
	{ "modify-tags", "add or remove tags (+tag -tag)", I | P },
	{ "save-message", "move the message to another folder", I | P },
	{ "compose-message", "write a new message in the editor", I | P },
	{ "reply", "reply to the sender (Reply-To or From)", I | P },
	{ "group-reply", "reply to the sender and every recipient", I | P },
	{ "list-reply", "reply to the mailing list (List-Post)", I | P },
	{ "forward-message", "forward the message inline", I | P },
	{ "forward-attached", "forward the message as an attachment", I | P },
	{ "edit-as-new", "edit a copy of the message, or resume a draft",
	  I | P },
	{ "show-outbox", "list the messages waiting to be sent", I | P },
	{ "next-line", "scroll down one line", P },
	{ "previous-line", "scroll up one line", P },
	{ "next-page", "scroll down one page", P },
	{ "previous-page", "scroll up one page", P },
	{ "top", "go to the top of the message", P },
	{ "bottom", "go to the bottom of the message", P },
	{ "next-message", "show the next message", P },
	{ "previous-message", "show the previous message", P },
	{ "toggle-headers", "show all headers or the usual few", P },
	{ "view-attachments", "list the message's attachments", P },
	{ "list-urls", "list the links in the message to open one", P },
	{ "toggle-quoted", "fold or unfold quoted text", P },
	{ "pipe-message", "pipe the message or attachment to a command",
	  P | F },
	{ "save-file", "save the message or attachment to a file", P | F },
	{ "save-all", "save every attachment into a directory", F },
	{ "select-entry", "open the selected folder", F },
	{ "subscribe-folder", "subscribe to the selected IMAP folder", F },
	{ "unsubscribe-folder", "unsubscribe from the selected IMAP folder",
	  F },
	{ "send-message", "send the message (in the outbox: send all now)", F },
	{ "postpone-message", "save the message to Drafts for later", F },
	{ "edit-message", "edit the headers and the body again", F },
	{ "edit-to", "change the To recipients", F },
	{ "edit-cc", "change the Cc recipients", F },
	{ "edit-bcc", "change the Bcc recipients", F },
	{ "edit-subject", "change the subject", F },
	{ "edit-from", "change the sender identity", F },
	{ "attach-file", "attach a file", F },
	{ "detach-file", "remove the selected attachment", F },
	{ "rename-attachment", "change the attachment's file name", F },
	{ "change-type", "change the attachment's content type", F },
};
const size_t ui_nactions = sizeof ui_actions / sizeof ui_actions[0];
