/*
 * Key bindings: key codes, key names as the user writes them, and the
 * lookup from a sequence of keys to an action name per screen. The UI
 * translates its terminal key codes into the KEYC_* codes below, so this
 * module never sees curses.
 */
#ifndef FACTEUR_CONFIG_KEYMAP_H
#define FACTEUR_CONFIG_KEYMAP_H

#include <stddef.h>

struct config;

/* Screens, as bits: an action lists where it is valid. */
#define KM_GENERIC	0x01	/* every screen */
#define KM_INDEX	0x02
#define KM_PAGER	0x04
#define KM_FOLDERS	0x08
#define KM_HELP		0x10
#define KM_NSCREENS	5

/* One action the UI implements; the table belongs to the UI. */
struct action_desc {
	const char	*name;		/* "next-entry" */
	const char	*description;	/* one line, for help */
	unsigned	 screens;	/* KM_* bits */
};

/*
 * Key codes. Printable keys are their Unicode code point, control keys
 * their ASCII code (^L is 12, <Tab> 9, <Enter> 13, <Esc> 27, <Space> 32);
 * a line feed (10) is read as <Enter>. Keys without a character are
 * KEYC_BASE + n, above every code point.
 */
#define KEYC_BASE	0x110000
enum {
	KEYC_UP = KEYC_BASE,
	KEYC_DOWN,
	KEYC_LEFT,
	KEYC_RIGHT,
	KEYC_PAGEUP,
	KEYC_PAGEDOWN,
	KEYC_HOME,
	KEYC_END,
	KEYC_BACKSPACE,
	KEYC_DELETE,
	KEYC_INSERT,
	KEYC_BTAB,			/* shift-tab */
	KEYC_F1,			/* KEYC_F1 + 11 is <F12> */
	KEYC_LAST = KEYC_F1 + 11
};
#define KEYC_F(n)	(KEYC_F1 + (n) - 1)
#define KEYC_TAB	9
#define KEYC_ENTER	13
#define KEYC_ESC	27
#define KEYC_SPACE	' '
#define KEYC_CTRL(c)	((c) & 0x1f)

#define KEYMAP_MAXKEYS	4	/* longest sequence ("gg", "<Esc>v") */

enum km_match {
	KM_NONE,		/* nothing starts with these keys */
	KM_PREFIX,		/* a longer sequence starts with them: wait */
	KM_MATCH		/* *action is set */
};

/*
 * Looks keys up on one screen (a single KM_* bit): the screen's own
 * bindings first, then the generic ones. On KM_MATCH, *action points to
 * the action's name in the UI's table.
 */
enum km_match	 keymap_lookup(const struct config *, unsigned,
		    const int *, size_t, const char **);

/*
 * Calls cb for every active binding of a screen, for the help screen:
 * the screen's own bindings, then the generic ones it does not shadow.
 * Each group is in the order of the action table, and keys for the same
 * action in the order they were bound, so the caller may merge
 * neighbours with the same action. keyname is valid during the call.
 */
void		 keymap_foreach(const struct config *, unsigned,
		    void (*)(void *, const char *, const char *,
		    const char *), void *);

/*
 * Writes the name of a key sequence ("j", "<PageDown>", "^L", "gg") to
 * buf. Returns 0, or -1 if a key has no name or buf is too short (buf is
 * then truncated but still terminated).
 */
int		 keymap_key_name(const int *, size_t, char *, size_t);

/*
 * Parses a key word as written in a bind statement into at most
 * KEYMAP_MAXKEYS codes. Returns 0, or -1 if the word is empty, too long
 * or names an unknown key.
 *
 * A word is a sequence of keys: a character ("j", "é", "<", "^"), a
 * control key "^X" (letters and @[\]^_?, ^? is 127), or a name in angle
 * brackets, case-insensitive: <Up> <Down> <Left> <Right> <PageUp>
 * <PageDown> (<PgUp> <PgDn>) <Home> <End> <Insert> <Delete> <Backspace>
 * <Enter> <Return> <Tab> <S-Tab> <Esc> <Space> <F1>..<F12>, <C-x> for ^X,
 * <M-x> for <Esc>x, <lt> for a "<" followed by more keys and <Caret> for
 * a "^" followed by more keys. A "<" followed by letters, digits or "-"
 * and ">" must be a known name; any other "<" is the key "<" itself, and
 * so is a "^" at the end of the word.
 */
int		 keymap_parse_key(const char *, int *, size_t *);

#endif
