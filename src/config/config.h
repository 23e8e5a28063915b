/*
 * The user's configuration: options, accounts, saved searches, colours
 * and key bindings, read from muttrc-like files. Loading stops at the
 * first error, whose message starts with "file:line: ".
 */
#ifndef FACTEUR_CONFIG_CONFIG_H
#define FACTEUR_CONFIG_CONFIG_H

#include <stddef.h>

#include "config/keymap.h"

struct error;
struct config;

enum config_type {
	CONFIG_BOOL,
	CONFIG_NUMBER,
	CONFIG_STRING,
	CONFIG_ENUM
};

/* What config_option_foreach reports about one option. */
struct config_option_info {
	const char		*name;
	enum config_type	 type;
	const char		*type_name;	/* "bool", "number", ... */
	const char		*values;	/* "10..80", "a|b", NULL */
	const char		*def;		/* as in a config file */
	const char		*doc;		/* one line */
};

/*
 * One "account NAME" block. Every key is NULL when the block does not set
 * it; a leading "~/" is expanded in maildir, tls_ca_file and
 * notmuch_config. Owned by the config, read-only.
 */
struct config_account {
	char		*name;
	char		*imap;
	char		*pop3;
	char		*smtp;
	char		*sendmail;
	char		*maildir;
	char		*from;
	char		*alternates;
	char		*password_cmd;
	char		*keep_on_server;
	char		*poll_interval;
	char		*subscribed_only; /* imap: yes or no */
	char		*tls;		/* on, off, starttls, implicit */
	char		*tls_ca_file;
	char		*user;
	char		*notmuch_config;
	char		*file;		/* where "account NAME" is */
	unsigned	 line;
};

/* Colour attributes, for the UI to turn into A_* bits. */
#define CONFIG_ATTR_BOLD	0x01
#define CONFIG_ATTR_UNDERLINE	0x02
#define CONFIG_ATTR_REVERSE	0x04
#define CONFIG_ATTR_DIM		0x08
#define CONFIG_ATTR_STANDOUT	0x10

/*
 * A new configuration with every option at its default and no binding.
 * actions is the UI's table of actions; it must outlive the config.
 */
struct config	*config_new(const struct action_desc *, size_t);
void		 config_free(struct config **);

/* Reads a file (at most 1 MiB, no NUL byte). Returns 0 or -1. */
int		 config_load_file(struct config *, const char *,
		    struct error *);
/*
 * Reads text as if it were a file called name (used in messages and to
 * resolve a relative "source"). Returns 0 or -1.
 */
int		 config_load_string(struct config *, const char *,
		    const char *, struct error *);
/*
 * Loads the key map named by the "keymap" option, then applies the
 * user's bind and unbind statements again in order, so they win wherever
 * "set keymap" was written. Call after loading; calling it again starts
 * the bindings afresh. The key map NAME is read from the first of
 * $FACTEUR_KEYMAPDIR/NAME.keys, $XDG_CONFIG_HOME/facteur/keymaps/NAME.keys
 * (~/.config when XDG_CONFIG_HOME is unset) and the copy built into the
 * program. Returns 0 or -1.
 */
int		 config_finish(struct config *, struct error *);

/*
 * An option's value in canonical form ("yes"/"no" for bools, a decimal
 * number, the enum word); valid until the option changes. NULL if there
 * is no such option.
 */
const char	*config_get(const struct config *, const char *);
/* A bool option: 1 or 0. Asking for another type is a program bug. */
int		 config_get_bool(const struct config *, const char *);
/* A number option. Asking for another type is a program bug. */
long		 config_get_number(const struct config *, const char *);
/* Sets an option as "set name = value" would. Returns 0 or -1. */
int		 config_set(struct config *, const char *, const char *,
		    struct error *);
/* Calls cb for every option, in alphabetical order. */
void		 config_option_foreach(void (*)(void *,
		    const struct config_option_info *), void *);

/* Accounts in the order they were written. */
size_t		 config_account_count(const struct config *);
const struct config_account *config_account_at(const struct config *,
		    size_t);
/* An account key by name ("imap"), NULL if unset or no such key. */
const char	*config_account_get(const struct config_account *,
		    const char *);

/* Saved searches in the order they were written. */
size_t		 config_search_count(const struct config *);
const char	*config_search_name(const struct config *, size_t);
const char	*config_search_query(const struct config *, size_t);

/*
 * The colour the user gave an object ("index_unread"): fg and bg are -1
 * for the terminal's default, 0-7, 8-15 for bright, or up to 255; attrs
 * is CONFIG_ATTR_* bits. Returns 0 if the user set it, -1 if not (the
 * outputs are then untouched).
 */
int		 config_color(const struct config *, const char *, short *,
		    short *, int *);

/*
 * $XDG_CONFIG_HOME/facteur/config, or ~/.config/facteur/config when
 * XDG_CONFIG_HOME is unset or empty. A static buffer.
 */
const char	*config_default_path(void);

#endif
