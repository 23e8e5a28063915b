/*
 * Tests of key names, bindings and lookups, and of the two shipped key
 * maps, read from the source tree and from the copy built into the
 * library.
 */
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/xmalloc.h"
#include "config/config.h"
#include "ui/ui.h"
#include "config/private.h"

/* The UI's own action table (ui/actions.c), so the shipped key maps are
   checked against the actions the program really has. */
#define test_actions	ui_actions
#define NACTIONS	ui_nactions

static struct config	*cfg;
static struct error	 err;
static char		 tmpdir[64];

/* A private HOME and XDG_CONFIG_HOME: never the user's own key maps. */
static void
setup(void)
{
	strcpy(tmpdir, "/tmp/facteur-test-keymap-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	setenv("HOME", tmpdir, 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent/xdg", 1);
	unsetenv("FACTEUR_KEYMAPDIR");
	cfg = config_new(test_actions, NACTIONS);
	error_clear(&err);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static void
teardown(void)
{
	config_free(&cfg);
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(keymap, .init = setup, .fini = teardown, .timeout = 20);

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return (s != NULL && *s != '\0' ? s : ".");
}

/* Writes dir/name under tmpdir. */
static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/%s/%s", tmpdir, dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* Puts a key map file in a private $FACTEUR_KEYMAPDIR. */
static void
use_keymap(const char *name, const char *text)
{
	char	file[64], dir[128];

	snprintf(file, sizeof file, "%s.keys", name);
	write_file("km", file, text);
	snprintf(dir, sizeof dir, "%s/km", tmpdir);
	setenv("FACTEUR_KEYMAPDIR", dir, 1);
}

/* Loads text and finishes, asserting success. */
static void
load(const char *text)
{
	cr_assert_eq(config_load_string(cfg, "config", text, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(config_finish(cfg, &err), 0, "%s", err.msg);
}

/* What a key word does on a screen: the action, "" for a prefix, NULL. */
static const char *
lookup(unsigned screen, const char *word)
{
	const char	*action = NULL;
	int		 keys[KEYMAP_MAXKEYS];
	size_t		 n;

	cr_assert_eq(keymap_parse_key(word, keys, &n), 0, "key %s", word);
	switch (keymap_lookup(cfg, screen, keys, n, &action)) {
	case KM_MATCH:
		cr_assert_not_null(action);
		return (action);
	case KM_PREFIX:
		return ("");
	case KM_NONE:
		break;
	}
	return (NULL);
}

#define expect_action(screen, word, want) do {				\
	const char *got_ = lookup(screen, word);			\
	cr_expect(got_ != NULL && strcmp(got_, want) == 0,		\
	    "%s on screen %#x: got %s, want %s", word, screen,		\
	    got_ == NULL ? "nothing" : got_, want);			\
} while (0)
#define expect_nothing(screen, word) do {				\
	const char *got_ = lookup(screen, word);			\
	cr_expect_null(got_, "%s on screen %#x: got %s", word, screen,	\
	    got_);							\
} while (0)

Test(keymap, parses_characters_controls_and_names)
{
	static const struct {
		const char	*word;
		int		 keys[KEYMAP_MAXKEYS];
		size_t		 n;
	} cases[] = {
		{ "j", { 'j' }, 1 },
		{ "J", { 'J' }, 1 },
		{ "é", { 0xe9 }, 1 },
		{ "日", { 0x65e5 }, 1 },
		{ "📧", { 0x1f4e7 }, 1 },
		{ "<", { '<' }, 1 },
		{ ">", { '>' }, 1 },
		{ "^", { '^' }, 1 },
		{ "<Down>", { KEYC_DOWN }, 1 },
		{ "<down>", { KEYC_DOWN }, 1 },
		{ "<PageDown>", { KEYC_PAGEDOWN }, 1 },
		{ "<PgDn>", { KEYC_PAGEDOWN }, 1 },
		{ "<PageUp>", { KEYC_PAGEUP }, 1 },
		{ "<Space>", { ' ' }, 1 },
		{ " ", { ' ' }, 1 },
		{ "<Enter>", { 13 }, 1 },
		{ "<Return>", { 13 }, 1 },
		{ "^M", { 13 }, 1 },
		{ "^J", { 13 }, 1 },
		{ "<Tab>", { 9 }, 1 },
		{ "<S-Tab>", { KEYC_BTAB }, 1 },
		{ "<Esc>", { 27 }, 1 },
		{ "<Backspace>", { KEYC_BACKSPACE }, 1 },
		{ "<Home>", { KEYC_HOME }, 1 },
		{ "<End>", { KEYC_END }, 1 },
		{ "<Delete>", { KEYC_DELETE }, 1 },
		{ "<Insert>", { KEYC_INSERT }, 1 },
		{ "^D", { 4 }, 1 },
		{ "^d", { 4 }, 1 },
		{ "<C-d>", { 4 }, 1 },
		{ "^L", { 12 }, 1 },
		{ "^@", { 0 }, 1 },
		{ "^?", { 127 }, 1 },
		{ "<F1>", { KEYC_F1 }, 1 },
		{ "<F12>", { KEYC_F(12) }, 1 },
		{ "<M-x>", { 27, 'x' }, 2 },
		{ "gg", { 'g', 'g' }, 2 },
		{ "<Esc>v", { 27, 'v' }, 2 },
		{ "abcd", { 'a', 'b', 'c', 'd' }, 4 },
		{ "<lt>a>", { '<', 'a', '>' }, 3 },
		{ "<Caret>x", { '^', 'x' }, 2 },
		{ "a<", { 'a', '<' }, 2 },
		{ "<a", { '<', 'a' }, 2 },
		{ "<>", { '<', '>' }, 2 },
	};
	int	keys[KEYMAP_MAXKEYS];
	size_t	i, j, n;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(keymap_parse_key(cases[i].word, keys, &n), 0,
		    "%s", cases[i].word);
		cr_expect_eq(n, cases[i].n, "%s", cases[i].word);
		for (j = 0; j < n && j < cases[i].n; j++)
			cr_expect_eq(keys[j], cases[i].keys[j], "%s key %zu",
			    cases[i].word, j);
	}
}

Test(keymap, refuses_bad_key_words)
{
	static const char *const bad[] = { "", "<Dwn>", "<F13>", "<F0>",
	    "<C-1>", "^1", "abcde", "<Esc><Esc><Esc><M-x>", "\xff", "\xc3",
	    "\xed\xa0\x80", "<C- >", "<Foo-Bar>" };
	int	keys[KEYMAP_MAXKEYS];
	size_t	i, n;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_expect_eq(keymap_parse_key(bad[i], keys, &n), -1, "%s",
		    bad[i]);
	cr_expect_eq(keymap_parse_key(NULL, keys, &n), -1);
}

Test(keymap, key_names_round_trip)
{
	static const char *const words[] = { "j", "J", "é", "<", "^", ">",
	    "<Down>", "<Up>", "<Left>", "<Right>", "<PageDown>", "<PageUp>",
	    "<Home>", "<End>", "<Space>", "<Enter>", "<Tab>", "<S-Tab>",
	    "<Esc>", "<Backspace>", "<Delete>", "<Insert>", "^D", "^L", "^@",
	    "^?", "<F1>", "<F10>", "<F12>", "gg", "<Esc>v", "zA", "<lt>a>",
	    "<Caret>x", "a<", "a^", "\\", "日本", "<Esc>/" };
	char	name[64];
	int	keys[KEYMAP_MAXKEYS], again[KEYMAP_MAXKEYS];
	size_t	i, n, m;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		cr_assert_eq(keymap_parse_key(words[i], keys, &n), 0, "%s",
		    words[i]);
		cr_assert_eq(keymap_key_name(keys, n, name, sizeof name), 0,
		    "%s", words[i]);
		cr_expect_str_eq(name, words[i]);
		cr_assert_eq(keymap_parse_key(name, again, &m), 0, "%s", name);
		cr_expect_eq(m, n, "%s", name);
		cr_expect_arr_eq(again, keys, n * sizeof keys[0], "%s", name);
	}
}

Test(keymap, every_code_point_round_trips)
{
	char	name[64];
	int	key, back[KEYMAP_MAXKEYS];
	size_t	n;

	for (key = 0; key < 0x11000; key += (key < 0x800 ? 1 : 7)) {
		if ((key >= 0x80 && key < 0xa0) || (key >= 0xd800 &&
		    key <= 0xdfff) || key == '\n')
			continue;
		cr_assert_eq(keymap_key_name(&key, 1, name, sizeof name), 0,
		    "%#x", key);
		cr_assert_eq(keymap_parse_key(name, back, &n), 0, "%#x %s",
		    key, name);
		cr_assert_eq(n, 1, "%#x %s", key, name);
		cr_assert_eq(back[0], key, "%#x %s", key, name);
	}
}

Test(keymap, key_name_reports_short_buffers_and_bad_keys)
{
	int	keys[] = { KEYC_PAGEDOWN, 'x' }, bad = 0x90;
	int	none = KEYC_LAST + 1;
	char	buf[6];

	cr_expect_eq(keymap_key_name(keys, 2, buf, sizeof buf), -1);
	cr_expect_eq(strlen(buf) < sizeof buf, 1);
	cr_expect_eq(keymap_key_name(&bad, 1, buf, sizeof buf), -1);
	cr_expect_eq(keymap_key_name(&none, 1, buf, sizeof buf), -1);
	cr_expect_eq(keymap_key_name(keys, 0, buf, sizeof buf), -1);
	cr_expect_eq(keymap_key_name(keys, 1, buf, 0), -1);
}

Test(keymap, screen_bindings_come_before_generic_ones)
{
	use_keymap("default", "# empty\n");
	load("bind generic j next-entry\nbind index j display-message\n");
	expect_action(KM_INDEX, "j", "display-message");
	expect_action(KM_PAGER, "j", "next-entry");
	expect_action(KM_GENERIC, "j", "next-entry");
	expect_nothing(KM_INDEX, "k");
}

Test(keymap, comma_list_binds_on_each_screen)
{
	use_keymap("default", "");
	load("bind index,pager d delete-message\n");
	expect_action(KM_INDEX, "d", "delete-message");
	expect_action(KM_PAGER, "d", "delete-message");
	expect_nothing(KM_FOLDERS, "d");
	expect_nothing(KM_GENERIC, "d");
}

Test(keymap, first_key_of_a_sequence_is_a_prefix)
{
	use_keymap("default", "");
	load("bind generic gg first-entry\nbind generic <Esc>v help\n");
	cr_expect_str_eq(lookup(KM_INDEX, "g"), "");
	expect_action(KM_INDEX, "gg", "first-entry");
	expect_nothing(KM_INDEX, "gx");
	cr_expect_str_eq(lookup(KM_PAGER, "<Esc>"), "");
	expect_action(KM_PAGER, "<Esc>v", "help");
}

Test(keymap, binding_a_prefix_replaces_the_longer_sequence)
{
	use_keymap("default", "");
	load("bind generic gg first-entry\nbind generic g last-entry\n");
	expect_action(KM_INDEX, "g", "last-entry");
	expect_nothing(KM_INDEX, "gg");
	load("bind generic gx help\n");
	cr_expect_str_eq(lookup(KM_INDEX, "g"), "");
	expect_action(KM_INDEX, "gx", "help");
}

Test(keymap, screen_key_shadows_generic_sequence)
{
	use_keymap("default", "");
	load("bind generic gg first-entry\nbind index g limit\n");
	expect_action(KM_INDEX, "g", "limit");
	cr_expect_str_eq(lookup(KM_PAGER, "g"), "");
}

Test(keymap, later_bind_of_the_same_key_wins)
{
	use_keymap("default", "");
	load("bind index x limit\nbind index x flag-message\n");
	expect_action(KM_INDEX, "x", "flag-message");
}

Test(keymap, unbind_on_a_screen_hides_the_generic_binding_there)
{
	use_keymap("default", "");
	load("bind generic x help\nunbind index x\n");
	expect_nothing(KM_INDEX, "x");
	expect_action(KM_PAGER, "x", "help");
	load("unbind generic x\n");
	expect_nothing(KM_PAGER, "x");
}

Test(keymap, unbind_removes_sequences_starting_with_the_key)
{
	use_keymap("default", "");
	load("bind index gg first-entry\nunbind index g\n");
	expect_nothing(KM_INDEX, "g");
	expect_nothing(KM_INDEX, "gg");
}

Test(keymap, line_feed_is_read_as_enter)
{
	const char	*action = NULL;
	int		 lf = '\n';

	use_keymap("default", "");
	load("bind index <Enter> display-message\n");
	cr_assert_eq(keymap_lookup(cfg, KM_INDEX, &lf, 1, &action),
	    KM_MATCH);
	cr_expect_str_eq(action, "display-message");
}

Test(keymap, lookup_refuses_bad_arguments)
{
	int	keys[5] = { 'j', 'j', 'j', 'j', 'j' };

	use_keymap("default", "");
	load("bind generic j next-entry\n");
	cr_expect_eq(keymap_lookup(cfg, 0, keys, 1, NULL), KM_NONE);
	cr_expect_eq(keymap_lookup(cfg, KM_INDEX | KM_PAGER, keys, 1, NULL),
	    KM_NONE);
	cr_expect_eq(keymap_lookup(cfg, KM_INDEX, keys, 0, NULL), KM_NONE);
	cr_expect_eq(keymap_lookup(cfg, KM_INDEX, keys, 5, NULL), KM_NONE);
	cr_expect_eq(keymap_lookup(cfg, KM_INDEX, keys, 1, NULL), KM_MATCH);
}

Test(keymap, user_binds_win_even_when_set_keymap_comes_after)
{
	load("bind index j limit\nunbind index x\nbind generic Q quit\n"
	    "set keymap = vim\n");
	expect_action(KM_INDEX, "j", "limit");
	expect_nothing(KM_INDEX, "x");
	expect_action(KM_PAGER, "x", "delete-message");
	expect_action(KM_PAGER, "j", "next-line");
	expect_action(KM_FOLDERS, "Q", "quit");
	expect_action(KM_INDEX, "gg", "first-entry");
}

Test(keymap, user_binds_win_over_the_default_keymap)
{
	load("bind index d limit\n");
	expect_action(KM_INDEX, "d", "limit");
	expect_action(KM_PAGER, "d", "delete-message");
}

Test(keymap, finish_twice_gives_the_same_bindings)
{
	load("bind index j limit\nunbind pager q\n");
	cr_assert_eq(config_finish(cfg, &err), 0, "%s", err.msg);
	expect_action(KM_INDEX, "j", "limit");
	expect_nothing(KM_PAGER, "q");
	expect_action(KM_INDEX, "d", "delete-message");
}

Test(keymap, changing_keymap_and_finishing_again_switches)
{
	load("");
	expect_action(KM_INDEX, "l", "limit");
	cr_assert_eq(config_set(cfg, "keymap", "vim", &err), 0);
	cr_assert_eq(config_finish(cfg, &err), 0, "%s", err.msg);
	expect_action(KM_INDEX, "l", "display-message");
}

struct listing {
	char	lines[32][96];
	size_t	n;
};

static void
collect(void *arg, const char *key, const char *action, const char *desc)
{
	struct listing	*l = arg;

	cr_assert(l->n < 32);
	snprintf(l->lines[l->n++], sizeof l->lines[0], "%s %s: %s", key,
	    action, desc);
}

Test(keymap, foreach_lists_own_then_unshadowed_generic_in_table_order)
{
	static const char *const want[] = {
		"q quit: leave facteur",
		"<Enter> display-message: read the selected message",
		"d delete-message: mark the message deleted (undo with u)",
		"? help: show the key bindings",
		"j next-entry: move to the next entry",
		"<Down> next-entry: move to the next entry",
	};
	struct listing	l = { .n = 0 };
	size_t		i;

	use_keymap("default", "bind generic q exit\n"
	    "bind generic j next-entry\nbind generic gg first-entry\n"
	    "bind generic <Down> next-entry\nbind generic ? help\n"
	    "bind index d delete-message\nbind index q quit\n"
	    "bind index <Enter> display-message\n");
	load("bind index g limit\nunbind index g\n");
	keymap_foreach(cfg, KM_INDEX, collect, &l);
	cr_assert_eq(l.n, sizeof want / sizeof want[0]);
	for (i = 0; i < l.n; i++)
		cr_expect_str_eq(l.lines[i], want[i]);
}

Test(keymap, foreach_generic_lists_only_generic)
{
	struct listing	l = { .n = 0 };

	use_keymap("default", "bind generic q exit\nbind index d "
	    "delete-message\n");
	load("");
	keymap_foreach(cfg, KM_GENERIC, collect, &l);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.lines[0], "q exit: leave this screen");
}

/* Keys the issue requires of default.keys, with what they must do. */
static const struct {
	unsigned	 screen;
	const char	*key;
	const char	*action;
} default_keys[] = {
	{ KM_INDEX, "j", "next-entry" },
	{ KM_INDEX, "k", "previous-entry" },
	{ KM_INDEX, "<Down>", "next-entry" },
	{ KM_INDEX, "<Up>", "previous-entry" },
	{ KM_INDEX, "<Enter>", "display-message" },
	{ KM_INDEX, "q", "quit" },
	{ KM_INDEX, "/", "search" },
	{ KM_INDEX, "n", "search-next" },
	{ KM_INDEX, "l", "limit" },
	{ KM_INDEX, "N", "toggle-new" },
	{ KM_INDEX, "F", "flag-message" },
	{ KM_INDEX, "d", "delete-message" },
	{ KM_INDEX, "u", "undelete-message" },
	{ KM_INDEX, "s", "save-message" },
	{ KM_INDEX, "t", "modify-tags" },
	{ KM_INDEX, "c", "change-folder" },
	{ KM_INDEX, "?", "help" },
	{ KM_INDEX, "<PageUp>", "page-up" },
	{ KM_INDEX, "<PageDown>", "page-down" },
	{ KM_INDEX, "<Home>", "first-entry" },
	{ KM_INDEX, "<End>", "last-entry" },
	{ KM_INDEX, "^L", "redraw" },
	{ KM_INDEX, "$", "sync" },
	{ KM_INDEX, "m", "compose-message" },
	{ KM_INDEX, "r", "reply" },
	{ KM_INDEX, "g", "group-reply" },
	{ KM_INDEX, "L", "list-reply" },
	{ KM_INDEX, "f", "forward-message" },
	{ KM_PAGER, "r", "reply" },
	{ KM_FOLDERS, "y", "send-message" },
	{ KM_FOLDERS, "P", "postpone-message" },
	{ KM_FOLDERS, "a", "attach-file" },
	{ KM_PAGER, "j", "next-line" },
	{ KM_PAGER, "k", "previous-line" },
	{ KM_PAGER, "<Down>", "next-line" },
	{ KM_PAGER, "<Up>", "previous-line" },
	{ KM_PAGER, "<Enter>", "next-line" },
	{ KM_PAGER, "<Space>", "next-page" },
	{ KM_PAGER, "<PageDown>", "next-page" },
	{ KM_PAGER, "-", "previous-page" },
	{ KM_PAGER, "<PageUp>", "previous-page" },
	{ KM_PAGER, "<Home>", "top" },
	{ KM_PAGER, "<End>", "bottom" },
	{ KM_PAGER, "q", "exit" },
	{ KM_PAGER, "i", "exit" },
	{ KM_PAGER, "J", "next-message" },
	{ KM_PAGER, "K", "previous-message" },
	{ KM_PAGER, "h", "toggle-headers" },
	{ KM_PAGER, "N", "toggle-new" },
	{ KM_PAGER, "F", "flag-message" },
	{ KM_PAGER, "d", "delete-message" },
	{ KM_PAGER, "s", "save-message" },
	{ KM_PAGER, "/", "search" },
	{ KM_PAGER, "?", "help" },
	{ KM_FOLDERS, "<Enter>", "select-entry" },
	{ KM_FOLDERS, "j", "next-entry" },
	{ KM_FOLDERS, "q", "exit" },
	{ KM_HELP, "q", "exit" },
	{ KM_HELP, "<PageDown>", "page-down" },
};

/* Keys vim.keys must have. */
static const struct {
	unsigned	 screen;
	const char	*key;
	const char	*action;
} vim_keys[] = {
	{ KM_INDEX, "j", "next-entry" },
	{ KM_INDEX, "k", "previous-entry" },
	{ KM_INDEX, "gg", "first-entry" },
	{ KM_INDEX, "G", "last-entry" },
	{ KM_INDEX, "^D", "half-down" },
	{ KM_INDEX, "^U", "half-up" },
	{ KM_INDEX, "^F", "page-down" },
	{ KM_INDEX, "^B", "page-up" },
	{ KM_INDEX, "/", "search" },
	{ KM_INDEX, "?", "search-reverse" },
	{ KM_INDEX, "n", "search-next" },
	{ KM_INDEX, "N", "search-previous" },
	{ KM_INDEX, "q", "quit" },
	{ KM_INDEX, "<Enter>", "display-message" },
	{ KM_INDEX, "dd", "delete-message" },
	{ KM_INDEX, "za", "collapse-thread" },
	{ KM_INDEX, "<F1>", "help" },
	{ KM_INDEX, "m", "compose-message" },
	{ KM_INDEX, "r", "reply" },
	{ KM_PAGER, "gg", "top" },
	{ KM_PAGER, "G", "bottom" },
	{ KM_PAGER, "^D", "half-down" },
	{ KM_PAGER, "^F", "next-page" },
	{ KM_PAGER, "^B", "previous-page" },
	{ KM_PAGER, "j", "next-line" },
	{ KM_PAGER, "q", "exit" },
	{ KM_PAGER, "n", "search-next" },
	{ KM_FOLDERS, "<Enter>", "select-entry" },
	{ KM_FOLDERS, "gg", "first-entry" },
	{ KM_HELP, "q", "exit" },
};

static void
check_default(void)
{
	size_t	i;

	load("");
	for (i = 0; i < sizeof default_keys / sizeof default_keys[0]; i++)
		expect_action(default_keys[i].screen, default_keys[i].key,
		    default_keys[i].action);
}

static void
check_vim(void)
{
	size_t	i;

	load("set keymap = vim\n");
	for (i = 0; i < sizeof vim_keys / sizeof vim_keys[0]; i++)
		expect_action(vim_keys[i].screen, vim_keys[i].key,
		    vim_keys[i].action);
	cr_expect_str_eq(lookup(KM_INDEX, "g"), "");
	cr_expect_str_eq(lookup(KM_INDEX, "d"), "");
}

static void
use_source_tree(void)
{
	struct stat	sb;
	char		dir[512], file[600];

	snprintf(dir, sizeof dir, "%s/keymaps", srcdir());
	snprintf(file, sizeof file, "%s/vim.keys", dir);
	cr_assert_eq(stat(file, &sb), 0, "%s: set top_srcdir", file);
	setenv("FACTEUR_KEYMAPDIR", dir, 1);
}

Test(keymap, default_keys_from_the_built_in_copy)
{
	check_default();
}

Test(keymap, default_keys_from_the_source_tree)
{
	use_source_tree();
	check_default();
}

Test(keymap, vim_keys_from_the_built_in_copy)
{
	check_vim();
}

Test(keymap, vim_keys_from_the_source_tree)
{
	use_source_tree();
	check_vim();
}

Test(keymap, built_in_copies_match_the_files)
{
	char	 path[512], *text;
	FILE	*f;
	long	 len;
	size_t	 i;

	cr_assert_eq(config_nbuiltin_keymaps, 2);
	for (i = 0; i < config_nbuiltin_keymaps; i++) {
		snprintf(path, sizeof path, "%s/keymaps/%s.keys", srcdir(),
		    config_builtin_keymaps[i].name);
		cr_assert_not_null(f = fopen(path, "r"), "%s", path);
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		text = xmalloc(len + 1);
		cr_assert_eq(fread(text, 1, len, f), (size_t)len);
		text[len] = '\0';
		fclose(f);
		cr_expect_str_eq(config_builtin_keymaps[i].text, text,
		    "%s is stale", path);
		free(text);
	}
}

Test(keymap, xdg_keymap_folder_is_searched)
{
	char	xdg[128];

	snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	mkdir(xdg, 0700);
	write_file("xdg/facteur", "x", "");
	write_file("xdg/facteur/keymaps", "mine.keys",
	    "bind generic x help\n");
	load("set keymap = mine\n");
	expect_action(KM_INDEX, "x", "help");
	expect_nothing(KM_INDEX, "j");
}

Test(keymap, keymap_dir_comes_before_the_built_in_copy)
{
	use_keymap("default", "bind generic x help\n");
	load("");
	expect_action(KM_INDEX, "x", "help");
	expect_nothing(KM_INDEX, "j");
}

Test(keymap, keymap_file_allows_only_bind_and_unbind)
{
	char	expect[512];

	use_keymap("odd", "# comment\nset sort = threads\n");
	cr_assert_eq(config_load_string(cfg, "config", "set keymap = odd",
	    &err), 0);
	cr_assert_eq(config_finish(cfg, &err), -1);
	snprintf(expect, sizeof expect, "%s/km/odd.keys:2: 'set' in a key "
	    "map, expected only bind and unbind", tmpdir);
	cr_expect_str_eq(err.msg, expect);
	expect_nothing(KM_INDEX, "j");
}

Test(keymap, error_in_keymap_file_names_that_file)
{
	char	expect[512];

	use_keymap("default", "bind index j next-entry\n"
	    "bind pager j nxt-line\n");
	cr_assert_eq(config_load_string(cfg, "config", "", &err), 0);
	cr_assert_eq(config_finish(cfg, &err), -1);
	cr_expect_eq(err.kind, ERR_CONFIG);
	snprintf(expect, sizeof expect, "%s/km/default.keys:2: unknown "
	    "action 'nxt-line' (did you mean 'next-line'?)", tmpdir);
	cr_expect_str_eq(err.msg, expect);
}
