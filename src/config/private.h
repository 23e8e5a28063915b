/*
 * Internals shared by the files of src/config: the config structure, the
 * lexer's statements, the option table and the key map storage. Include
 * only from src/config.
 */
#ifndef FACTEUR_CONFIG_PRIVATE_H
#define FACTEUR_CONFIG_PRIVATE_H

#include <stddef.h>

#include "config/config.h"

struct error;

#define CONFIG_MAXSIZE		(1024 * 1024)	/* bytes per file */
#define CONFIG_MAXDEPTH		10		/* nested "source" */

/* One word of a statement, quotes removed. */
struct config_word {
	char		*s;
	int		 op;	/* an unquoted "=" after "set" */
};

/* One statement: the words of a logical line. */
struct config_stmt {
	struct config_word	*w;
	size_t			 n;
	size_t			 cap;
	unsigned		 line;	/* where its first word is */
};

struct config_lexer {
	const char	*file;
	const char	*p;
	const char	*end;
	unsigned	 line;
};

/* An entry of the option table. */
#define CONFIG_OPT_PATH		0x1	/* "~/" is expanded */
#define CONFIG_OPT_KEYMAP	0x2	/* a key map name */
struct config_option {
	const char		*name;
	enum config_type	 type;
	const char		*def;
	long			 min;
	long			 max;
	const char *const	*words;	/* enums: NULL-terminated */
	int			 flags;
	const char		*doc;
};
extern const struct config_option config_options[];
extern const size_t config_noptions;

/* A key map built into the program (generated from keymaps/). */
struct config_builtin_keymap {
	const char	*name;
	const char	*text;
};
extern const struct config_builtin_keymap config_builtin_keymaps[];
extern const size_t config_nbuiltin_keymaps;

/* A binding; action NULL means "unbound here", hiding generic ones. */
struct config_binding {
	int				 keys[KEYMAP_MAXKEYS];
	size_t				 n;
	const struct action_desc	*action;
	unsigned			 seq;
};

struct config_keymap {
	struct config_binding	*b;
	size_t			 n;
	size_t			 cap;
};

/* A user's bind or unbind, replayed after the key map file. */
struct config_bindop {
	unsigned			 screens;
	int				 keys[KEYMAP_MAXKEYS];
	size_t				 n;
	const struct action_desc	*action;	/* NULL: unbind */
};

struct config_search {
	char	*name;
	char	*query;
};

struct config_color {
	short	 fg;
	short	 bg;
	int	 attrs;
	int	 set;
};
#define CONFIG_NCOLORS	21

struct config {
	const struct action_desc	*actions;
	size_t				 nactions;

	char				**values;	/* NULL: default */
	char				*keymap_file;	/* where set */
	unsigned			 keymap_line;

	struct config_account		**accounts;
	size_t				 naccounts;
	struct config_search		*searches;
	size_t				 nsearches;

	struct config_keymap		 maps[KM_NSCREENS];
	unsigned			 seq;
	struct config_bindop		*ops;
	size_t				 nops;

	struct config_color		 colors[CONFIG_NCOLORS];

	char				**stack;	/* files open */
	size_t				 nstack;
};

/* lexer.c */
void	config_lex_init(struct config_lexer *, const char *, const char *,
	    size_t);
int	config_lex_next(struct config_lexer *, struct config_stmt *,
	    struct error *);
void	config_lex_clear(struct config_stmt *);

/* options.c */
const struct config_option *config_option_find(const char *);
int	config_option_parse(const struct config_option *, const char *,
	    char **, const char *, unsigned, struct error *);
char	*config_expand_path(const char *);
const char *config_suggest(const char *, const char *const *, size_t,
	    size_t);
int	config_error(struct error *, const char *, unsigned,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* keymap.c */
void	config_keymap_bind(struct config *, unsigned, const int *, size_t,
	    const struct action_desc *);
void	config_keymap_unbind(struct config *, unsigned, const int *,
	    size_t);
void	config_keymap_clear(struct config *);

/* color.c */
int	config_color_parse(struct config *, const struct config_stmt *,
	    const char *, unsigned, struct error *);
const char *const *config_color_objects(size_t *);

/* parse.c */
int	config_parse_text(struct config *, const char *, const char *,
	    size_t, int, int, struct error *);

#endif
