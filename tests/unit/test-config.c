/*
 * Tests of the config language: every statement, quoting, continuation
 * lines, source, accounts, colours, and the exact "file:line: " message of
 * every error. Key bindings have their own file, test-keymap.c.
 */
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/xmalloc.h"
#include "config/config.h"
#include "ui/ui.h"

/* The UI's own action table (ui/actions.c), so the shipped key maps are
   checked against the actions the program really has. */
#define test_actions	ui_actions
#define NACTIONS	ui_nactions

static struct config	*cfg;
static struct error	 err;
static char		 tmpdir[64];

/* A private HOME and XDG_CONFIG_HOME: never the user's own files. */
static void
setup(void)
{
	strcpy(tmpdir, "/tmp/facteur-test-config-XXXXXX");
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

TestSuite(config, .init = setup, .fini = teardown, .timeout = 20);

/* Writes a file under tmpdir and returns its path (static buffer). */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char	 path[256];
	FILE		*f;
	char		*slash;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if ((slash = strrchr(path, '/')) != NULL && slash > path +
	    strlen(tmpdir)) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	cr_assert_not_null(f = fopen(path, "w"));
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return (path);
}

static const char *
srcdir(void)
{
	const char	*s = getenv("top_srcdir");

	return (s != NULL && *s != '\0' ? s : ".");
}

/* Loads text as "config" and expects it to fail with exactly msg. */
static void
expect_error(const char *text, const char *msg)
{
	cr_assert_eq(config_load_string(cfg, "config", text, &err), -1,
	    "loaded without error: %s", text);
	cr_expect_eq(err.kind, ERR_CONFIG);
	cr_expect_str_eq(err.msg, msg, "for input: %s", text);
}

static void
expect_ok(const char *text)
{
	cr_assert_eq(config_load_string(cfg, "config", text, &err), 0,
	    "%s (input: %s)", err.msg, text);
}

Test(config, defaults_are_the_documented_ones)
{
	cr_expect_str_eq(config_get(cfg, "keymap"), "default");
	cr_expect_str_eq(config_get(cfg, "sort"), "date");
	cr_expect_str_eq(config_get(cfg, "prefer"), "plain");
	cr_expect_str_eq(config_get(cfg, "exclude_tags"), "deleted spam");
	cr_expect_str_eq(config_get(cfg, "date_format"), "");
	cr_expect_str_eq(config_get(cfg, "notmuch_config"), "");
	cr_expect_eq(config_get_bool(cfg, "sidebar"), 0);
	cr_expect_eq(config_get_bool(cfg, "sync_on_start"), 1);
	cr_expect_eq(config_get_bool(cfg, "mark_read"), 1);
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 24);
	cr_expect_null(config_get(cfg, "no_such_option"));
	cr_expect_eq(config_account_count(cfg), 0);
	cr_expect_eq(config_search_count(cfg), 0);
}

Test(config, empty_text_and_comments_only_load)
{
	expect_ok("");
	expect_ok("\n\n   \n# just a comment\n\t# another\n");
	cr_expect_str_eq(config_get(cfg, "sort"), "date");
}

Test(config, set_accepts_spaced_and_compact_forms)
{
	expect_ok("set sort = threads\nset prefer=html\n"
	    "set sidebar_width =40\nset date_format= \"%d %b\"\n");
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
	cr_expect_str_eq(config_get(cfg, "prefer"), "html");
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 40);
	cr_expect_str_eq(config_get(cfg, "date_format"), "%d %b");
}

Test(config, set_without_value_turns_a_bool_on_and_unset_off)
{
	expect_ok("set sidebar\nunset mark_read\nunset exclude_tags\n");
	cr_expect_eq(config_get_bool(cfg, "sidebar"), 1);
	cr_expect_eq(config_get_bool(cfg, "mark_read"), 0);
	cr_expect_str_eq(config_get(cfg, "exclude_tags"), "");
}

Test(config, bool_accepts_every_spelling)
{
	static const char *const on[] = { "yes", "true", "on", "1", "YES",
	    "On" };
	static const char *const off[] = { "no", "false", "off", "0", "NO" };
	char	line[64];
	size_t	i;

	for (i = 0; i < sizeof on / sizeof on[0]; i++) {
		snprintf(line, sizeof line, "set sidebar = %s\n", on[i]);
		expect_ok(line);
		cr_expect_eq(config_get_bool(cfg, "sidebar"), 1, "%s", on[i]);
		cr_expect_str_eq(config_get(cfg, "sidebar"), "yes");
	}
	for (i = 0; i < sizeof off / sizeof off[0]; i++) {
		snprintf(line, sizeof line, "set sidebar = %s\n", off[i]);
		expect_ok(line);
		cr_expect_eq(config_get_bool(cfg, "sidebar"), 0, "%s", off[i]);
	}
}

Test(config, number_limits_are_inclusive)
{
	expect_ok("set sidebar_width = 10");
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 10);
	expect_ok("set sidebar_width = 80");
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 80);
}

Test(config, double_quotes_take_escapes)
{
	expect_ok("set date_format = \"a\\\"b\\\\c\\nd\\te # not a comment\"");
	cr_expect_str_eq(config_get(cfg, "date_format"),
	    "a\"b\\c\nd\te # not a comment");
}

Test(config, single_quotes_are_literal)
{
	expect_ok("set date_format = 'a\\nb \"c\" #d'");
	cr_expect_str_eq(config_get(cfg, "date_format"), "a\\nb \"c\" #d");
}

Test(config, quoted_parts_join_into_one_word)
{
	expect_ok("set exclude_tags = spam\" \"'deleted'\"\"");
	cr_expect_str_eq(config_get(cfg, "exclude_tags"), "spam deleted");
	expect_ok("set date_format = \"\"");
	cr_expect_str_eq(config_get(cfg, "date_format"), "");
}

Test(config, equals_sign_inside_a_value_stays)
{
	expect_ok("set date_format = a=b\nset exclude_tags=x=y");
	cr_expect_str_eq(config_get(cfg, "date_format"), "a=b");
	cr_expect_str_eq(config_get(cfg, "exclude_tags"), "x=y");
}

Test(config, comment_starts_only_at_a_word)
{
	expect_ok("set date_format = a#b   # the rest is a comment");
	cr_expect_str_eq(config_get(cfg, "date_format"), "a#b");
	expect_ok("set date_format = \\#x");
	cr_expect_str_eq(config_get(cfg, "date_format"), "#x");
}

Test(config, backslash_at_end_of_line_continues_the_statement)
{
	expect_ok("set \\\n  sort \\\n  = \\\n  threads\n");
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
	expect_ok("set date_format = \"abc\\\ndef\"\n");
	cr_expect_str_eq(config_get(cfg, "date_format"), "abcdef");
}

Test(config, line_numbers_count_continued_lines)
{
	expect_error("set sort = \\\n threads\n\nset sortt = date\n",
	    "config:4: unknown option 'sortt' (did you mean 'sort'?)");
}

Test(config, error_in_continued_statement_names_its_first_line)
{
	expect_error("# one\nset sidebar = \\\n  maybe\n",
	    "config:2: bad value 'maybe' for 'sidebar', expected yes or no");
}

Test(config, unknown_option_reports_file_and_line)
{
	expect_error("set sort = date\nset sortt = date\n",
	    "config:2: unknown option 'sortt' (did you mean 'sort'?)");
}

Test(config, unknown_option_without_a_close_name)
{
	expect_error("set zzzzzzzz = 1",
	    "config:1: unknown option 'zzzzzzzz', expected an option such "
	    "as sort or keymap");
}

Test(config, bad_bool_is_an_error)
{
	expect_error("set sidebar = maybe",
	    "config:1: bad value 'maybe' for 'sidebar', expected yes or no");
}

Test(config, number_out_of_range_is_an_error)
{
	expect_error("set sidebar_width = 81",
	    "config:1: 81 is out of range for 'sidebar_width', expected a "
	    "number from 10 to 80");
	expect_error("set sidebar_width = 9",
	    "config:1: 9 is out of range for 'sidebar_width', expected a "
	    "number from 10 to 80");
}

Test(config, bad_number_is_an_error)
{
	expect_error("set sidebar_width = 2x",
	    "config:1: bad number '2x' for 'sidebar_width', expected a "
	    "number from 10 to 80");
	expect_error("set sidebar_width = 99999999999999999999999",
	    "config:1: bad number '99999999999999999999999' for "
	    "'sidebar_width', expected a number from 10 to 80");
	expect_error("set sidebar_width = \"\"",
	    "config:1: bad number '' for 'sidebar_width', expected a "
	    "number from 10 to 80");
}

Test(config, bad_enum_value_is_an_error)
{
	expect_error("set sort = thread",
	    "config:1: bad value 'thread' for 'sort' (did you mean "
	    "'threads'?), expected date, date-reverse or threads");
	expect_error("set prefer = markdown",
	    "config:1: bad value 'markdown' for 'prefer', expected plain "
	    "or html");
}

Test(config, set_needs_a_value_for_non_bool)
{
	expect_error("set sort",
	    "config:1: missing value for 'sort', expected 'set sort = "
	    "VALUE'");
	expect_error("set sort =",
	    "config:1: missing value for 'sort', expected 'set sort = "
	    "VALUE'");
	expect_error("set = threads",
	    "config:1: missing option name, expected 'set NAME = VALUE'");
	expect_error("set sort threads",
	    "config:1: bad 'set' statement, expected 'set NAME = VALUE' "
	    "(quote a value with spaces)");
	expect_error("set exclude_tags = a b",
	    "config:1: too many arguments to 'set', expected 'set NAME = "
	    "VALUE'");
}

Test(config, unset_refuses_numbers_and_enums)
{
	expect_error("unset sidebar_width",
	    "config:1: cannot unset 'sidebar_width', expected 'set "
	    "sidebar_width = VALUE'");
	expect_error("unset sortt",
	    "config:1: unknown option 'sortt' (did you mean 'sort'?)");
}

Test(config, unknown_statement_is_an_error)
{
	expect_error("\nsett sort = date\n",
	    "config:2: unknown statement 'sett' (did you mean 'set'?)");
	expect_error("frobnicate x",
	    "config:1: unknown statement 'frobnicate', expected set, unset, "
	    "account, search, bind, unbind, color or source");
}

Test(config, missing_argument_is_an_error)
{
	expect_error("bind index j",
	    "config:1: missing argument to 'bind', expected 'bind SCREEN "
	    "KEY ACTION'");
	expect_error("source",
	    "config:1: missing argument to 'source', expected 'source "
	    "FILE'");
	expect_error("search inbox",
	    "config:1: missing argument to 'search', expected 'search NAME "
	    "\"QUERY\"'");
	expect_error("account",
	    "config:1: missing argument to 'account', expected 'account "
	    "NAME'");
}

Test(config, too_many_arguments_is_an_error)
{
	expect_error("bind index j next-entry extra",
	    "config:1: too many arguments to 'bind', expected 'bind SCREEN "
	    "KEY ACTION'");
}

Test(config, unterminated_quotes_are_errors)
{
	expect_error("\n\nset date_format = \"abc\nset sort = date\n",
	    "config:3: unterminated double quote, expected a closing '\"' "
	    "on the same line");
	expect_error("set date_format = 'abc",
	    "config:1: unterminated single quote, expected a closing ''' "
	    "on the same line");
	expect_error("set date_format = \"abc\\",
	    "config:1: unterminated double quote, expected a closing '\"' "
	    "on the same line");
}

Test(config, unknown_escape_is_an_error)
{
	expect_error("set date_format = \"a\\qb\"",
	    "config:1: unknown escape '\\q' in double quotes, expected \\\", "
	    "\\\\, \\n or \\t");
}

Test(config, binding_errors_name_the_bad_word)
{
	expect_error("bind indx j next-entry",
	    "config:1: unknown screen 'indx' (did you mean 'index'?)");
	expect_error("bind index,paper j next-entry",
	    "config:1: unknown screen 'paper' (did you mean 'pager'?)");
	expect_error("bind everywhere j next-entry",
	    "config:1: unknown screen 'everywhere', expected generic, index, "
	    "pager, folders or help");
	expect_error("bind index j next-entyr",
	    "config:1: unknown action 'next-entyr' (did you mean "
	    "'next-entry'?)");
	expect_error("bind index j frobnicate",
	    "config:1: unknown action 'frobnicate', expected an action from "
	    "the help screen");
	expect_error("bind folders,pager d delete-message",
	    "config:1: action 'delete-message' does not work on screen "
	    "'folders', expected it on index, pager");
	expect_error("bind generic d delete-message",
	    "config:1: action 'delete-message' does not work on screen "
	    "'generic', expected it on index, pager");
	expect_error("bind index <Dwn> next-entry",
	    "config:1: bad key '<Dwn>', expected a key such as j, ^L, <C-d> "
	    "or <PageDown>, or up to 4 of them");
	expect_error("bind index abcde next-entry",
	    "config:1: bad key 'abcde', expected a key such as j, ^L, <C-d> "
	    "or <PageDown>, or up to 4 of them");
	expect_error("bind index \"\" next-entry",
	    "config:1: empty key, expected a key such as j, ^L, <C-d> or "
	    "<PageDown>");
	expect_error("unbind index ^1",
	    "config:1: bad key '^1', expected a key such as j, ^L, <C-d> "
	    "or <PageDown>, or up to 4 of them");
}

Test(config, generic_actions_bind_on_any_screen)
{
	expect_ok("bind index,pager,folders,help x quit\n");
}

Test(config, colors_are_stored_as_numbers)
{
	short	fg = 99, bg = 99;
	int	attrs = 99;

	expect_ok("color index_unread bold underline brightwhite default\n"
	    "color status black color208\ncolor quoted2 reverse dim standout "
	    "blue brightblack\n");
	cr_assert_eq(config_color(cfg, "index_unread", &fg, &bg, &attrs), 0);
	cr_expect_eq(fg, 15);
	cr_expect_eq(bg, -1);
	cr_expect_eq(attrs, CONFIG_ATTR_BOLD | CONFIG_ATTR_UNDERLINE);
	cr_assert_eq(config_color(cfg, "status", &fg, &bg, &attrs), 0);
	cr_expect_eq(fg, 0);
	cr_expect_eq(bg, 208);
	cr_expect_eq(attrs, 0);
	cr_assert_eq(config_color(cfg, "quoted2", &fg, &bg, &attrs), 0);
	cr_expect_eq(fg, 4);
	cr_expect_eq(bg, 8);
	cr_expect_eq(attrs, CONFIG_ATTR_REVERSE | CONFIG_ATTR_DIM |
	    CONFIG_ATTR_STANDOUT);
	fg = 99;
	cr_expect_eq(config_color(cfg, "error", &fg, &bg, &attrs), -1);
	cr_expect_eq(fg, 99, "outputs untouched when not set");
	cr_expect_eq(config_color(cfg, "no_such_object", &fg, &bg, &attrs),
	    -1);
}

Test(config, every_color_object_and_name_is_accepted)
{
	static const char *const objs[] = { "normal", "index_unread",
	    "index_flagged", "index_deleted", "index_cursor", "index_date",
	    "index_from", "index_tree", "status", "error", "header_name",
	    "header_value", "quoted", "quoted1", "quoted2", "quoted3",
	    "signature", "search", "sidebar", "sidebar_current", "help_key" };
	static const char *const cols[] = { "black", "red", "green", "yellow",
	    "blue", "magenta", "cyan", "white" };
	char	line[128];
	short	fg, bg;
	size_t	i;

	for (i = 0; i < sizeof objs / sizeof objs[0]; i++) {
		snprintf(line, sizeof line, "color %s %s bright%s", objs[i],
		    cols[i % 8], cols[(i + 1) % 8]);
		expect_ok(line);
		cr_assert_eq(config_color(cfg, objs[i], &fg, &bg, NULL), 0);
		cr_expect_eq(fg, (short)(i % 8), "%s", line);
		cr_expect_eq(bg, (short)((i + 1) % 8 + 8), "%s", line);
	}
	expect_ok("color normal color0 color255");
	cr_assert_eq(config_color(cfg, "normal", &fg, &bg, NULL), 0);
	cr_expect_eq(fg, 0);
	cr_expect_eq(bg, 255);
}

Test(config, color_errors_name_the_bad_word)
{
	expect_error("color index_unread purple default",
	    "config:1: unknown colour 'purple', expected default, black, "
	    "red, green, yellow, blue, magenta, cyan, white, bright<colour> "
	    "or color0..color255");
	expect_error("color index_unread red color256",
	    "config:1: unknown colour 'color256', expected default, black, "
	    "red, green, yellow, blue, magenta, cyan, white, bright<colour> "
	    "or color0..color255");
	expect_error("color index_unread blink red default",
	    "config:1: unknown attribute 'blink', expected bold, underline, "
	    "reverse, dim or standout");
	expect_error("color index_unred red default",
	    "config:1: unknown colour object 'index_unred' (did you mean "
	    "'index_unread'?)");
	expect_error("color frobs red default",
	    "config:1: unknown colour object 'frobs', expected an object "
	    "such as normal, index_unread or status");
	expect_error("color status red",
	    "config:1: missing argument to 'color', expected 'color OBJECT "
	    "[ATTRIBUTE...] FOREGROUND BACKGROUND'");
}

Test(config, account_block_collects_its_keys)
{
	const struct config_account	*a;
	char				 path[256];

	expect_ok("# accounts\n"
	    "account work\n"
	    "  imap      imaps://alice@mail.example.org\n"
	    "  smtp      submission://alice@mail.example.org:587\n"
	    "  password_cmd \"pass show mail/work\"\n"
	    "  from      \"Alice Martin <alice@example.org>\"\n"
	    "tls on\n"
	    "account home\n"
	    "  pop3      pop3s://bob@pop.example.net\n"
	    "  maildir   ~/Mail/home\n"
	    "  keep_on_server 7d\n"
	    "set sort = threads\n");
	cr_assert_eq(config_account_count(cfg), 2);
	a = config_account_at(cfg, 0);
	cr_expect_str_eq(a->name, "work");
	cr_expect_str_eq(a->imap, "imaps://alice@mail.example.org");
	cr_expect_str_eq(a->smtp, "submission://alice@mail.example.org:587");
	cr_expect_str_eq(a->password_cmd, "pass show mail/work");
	cr_expect_str_eq(a->from, "Alice Martin <alice@example.org>");
	cr_expect_str_eq(a->tls, "on");
	cr_expect_null(a->pop3);
	cr_expect_str_eq(a->file, "config");
	cr_expect_eq(a->line, 2);
	cr_expect_str_eq(config_account_get(a, "imap"), a->imap);
	cr_expect_null(config_account_get(a, "user"));
	cr_expect_null(config_account_get(a, "nonsense"));
	a = config_account_at(cfg, 1);
	cr_expect_str_eq(a->name, "home");
	cr_expect_str_eq(a->pop3, "pop3s://bob@pop.example.net");
	cr_expect_str_eq(a->keep_on_server, "7d");
	snprintf(path, sizeof path, "%s/Mail/home", tmpdir);
	cr_expect_str_eq(a->maildir, path);
	cr_expect_eq(a->line, 8);
	cr_expect_null(config_account_at(cfg, 2));
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
}

Test(config, every_account_key_is_accepted)
{
	static const char *const keys[] = { "imap", "pop3", "smtp",
	    "sendmail", "maildir", "from", "alternates", "password_cmd",
	    "keep_on_server", "poll_interval", "tls_ca_file", "user",
	    "notmuch_config" };
	char	text[1024], line[64];
	size_t	i;

	snprintf(text, sizeof text, "account a\n");
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(line, sizeof line, "%s /v%zu\n", keys[i], i);
		strcat(text, line);
	}
	strcat(text, "tls starttls\nsubscribed_only yes\n");
	expect_ok(text);
	cr_expect_str_eq(config_account_get(config_account_at(cfg, 0),
	    "subscribed_only"), "yes");
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(line, sizeof line, "/v%zu", i);
		cr_expect_str_eq(config_account_get(config_account_at(cfg, 0),
		    keys[i]), line, "%s", keys[i]);
	}
}

Test(config, account_key_outside_an_account_is_an_error)
{
	expect_error("imap imaps://example.org",
	    "config:1: account key 'imap' outside an account, expected "
	    "'account NAME' before it");
	expect_error("account a\nimap x\nset sort = date\nsmtp y\n",
	    "config:4: account key 'smtp' outside an account, expected "
	    "'account NAME' before it");
}

Test(config, duplicate_account_is_an_error)
{
	expect_error("account work\n  imap x\naccount home\naccount work\n",
	    "config:4: duplicate account 'work' (first at config:1), "
	    "expected each name once");
}

Test(config, account_key_errors)
{
	expect_error("account a\n imap x\n imap y\n",
	    "config:3: duplicate key 'imap' in account 'a', expected it "
	    "once");
	expect_error("account b\n tls maybe\n",
	    "config:2: bad value 'maybe' for 'tls', expected on, off, "
	    "starttls or implicit");
	expect_error("account s\n subscribed_only sometimes\n",
	    "config:2: bad value 'sometimes' for 'subscribed_only', "
	    "expected yes or no");
	expect_error("account c\n password_cmd pass show x\n",
	    "config:2: too many arguments to 'password_cmd', expected "
	    "'password_cmd VALUE' (quote a value with spaces)");
	expect_error("account d\n from\n",
	    "config:2: missing argument to 'from', expected 'from VALUE' "
	    "(quote a value with spaces)");
	expect_error("account \"\"\n",
	    "config:1: empty account name, expected 'account NAME'");
}

Test(config, searches_keep_their_order)
{
	expect_ok("search inbox \"tag:inbox and not tag:spam\"\n"
	    "search todo 'tag:todo'\nsearch all \"*\"\n");
	cr_assert_eq(config_search_count(cfg), 3);
	cr_expect_str_eq(config_search_name(cfg, 0), "inbox");
	cr_expect_str_eq(config_search_query(cfg, 0),
	    "tag:inbox and not tag:spam");
	cr_expect_str_eq(config_search_name(cfg, 1), "todo");
	cr_expect_str_eq(config_search_query(cfg, 2), "*");
	cr_expect_null(config_search_name(cfg, 3));
	cr_expect_null(config_search_query(cfg, 3));
}

Test(config, search_errors)
{
	expect_error("search a x\nsearch a y\n",
	    "config:2: duplicate search 'a', expected each name once");
	expect_error("search a \"\"",
	    "config:1: empty query, expected 'search NAME \"QUERY\"'");
}

Test(config, source_is_relative_to_the_including_file)
{
	char	path[512];

	snprintf(path, sizeof path, "%s/tests/data/config/main.conf",
	    srcdir());
	cr_assert_eq(config_load_file(cfg, path, &err), 0, "%s", err.msg);
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 30);
	cr_assert_eq(config_account_count(cfg), 1);
	cr_expect_str_eq(config_account_at(cfg, 0)->from,
	    "Alice Martin <alice@example.org>");
	cr_expect_eq(config_account_at(cfg, 0)->line, 2);
	cr_expect(strstr(config_account_at(cfg, 0)->file,
	    "sub/accounts.conf") != NULL, "%s",
	    config_account_at(cfg, 0)->file);
	cr_assert_eq(config_search_count(cfg), 1);
}

Test(config, source_from_a_string_is_relative_to_its_name)
{
	char	name[256], text[64];

	write_file("dir/inc", "set sort = date-reverse\n", 24);
	snprintf(name, sizeof name, "%s/dir/main", tmpdir);
	snprintf(text, sizeof text, "source inc\n");
	cr_assert_eq(config_load_string(cfg, name, text, &err), 0, "%s",
	    err.msg);
	cr_expect_str_eq(config_get(cfg, "sort"), "date-reverse");
}

Test(config, source_expands_tilde)
{
	write_file("inc.conf", "set sidebar\n", 12);
	expect_ok("source ~/inc.conf\n");
	cr_expect_eq(config_get_bool(cfg, "sidebar"), 1);
}

Test(config, error_in_sourced_file_names_that_file)
{
	char	name[256], expect[512];

	write_file("bad.conf", "\n\nset sort = sideways\n", 21);
	snprintf(name, sizeof name, "%s/main", tmpdir);
	cr_assert_eq(config_load_string(cfg, name, "source bad.conf", &err),
	    -1);
	snprintf(expect, sizeof expect, "%s/bad.conf:3: bad value 'sideways' "
	    "for 'sort', expected date, date-reverse or threads", tmpdir);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, source_of_a_missing_file_is_an_error)
{
	char	name[256], expect[512];

	snprintf(name, sizeof name, "%s/main", tmpdir);
	cr_assert_eq(config_load_string(cfg, name,
	    "set sort = date\nsource nope.conf\n", &err), -1);
	snprintf(expect, sizeof expect, "%s:2: cannot read '%s/nope.conf': "
	    "No such file or directory", name, tmpdir);
	cr_expect_eq(err.kind, ERR_CONFIG);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, source_loop_is_an_error)
{
	char	path[512], expect[1024];

	snprintf(path, sizeof path, "%s/tests/data/config/loop-a.conf",
	    srcdir());
	cr_assert_eq(config_load_file(cfg, path, &err), -1);
	snprintf(expect, sizeof expect, "%s/tests/data/config/loop-b.conf:2: "
	    "source loop: '%s/tests/data/config/loop-a.conf' is already "
	    "being read, expected each file once in a chain of source",
	    srcdir(), srcdir());
	cr_expect_eq(err.kind, ERR_CONFIG);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, source_depth_is_limited)
{
	char	name[32], text[128], expect[512];
	int	i;

	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "f%d", i);
		snprintf(text, sizeof text, "source f%d\n", i + 1);
		write_file(name, text, strlen(text));
	}
	snprintf(text, sizeof text, "%s/f0", tmpdir);
	cr_assert_eq(config_load_file(cfg, text, &err), -1);
	snprintf(expect, sizeof expect, "%s/f10:1: source nested too deep, "
	    "expected at most 10 levels", tmpdir);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, missing_top_file_is_not_found)
{
	char	path[256], expect[512];

	snprintf(path, sizeof path, "%s/none", tmpdir);
	cr_assert_eq(config_load_file(cfg, path, &err), -1);
	cr_expect_eq(err.kind, ERR_NOTFOUND);
	snprintf(expect, sizeof expect, "%s: cannot read: No such file or "
	    "directory", path);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, file_without_final_newline_loads)
{
	char	path[512];

	snprintf(path, sizeof path, "%s/tests/data/config/no-newline.conf",
	    srcdir());
	cr_assert_eq(config_load_file(cfg, path, &err), 0, "%s", err.msg);
	cr_expect_eq(config_get_number(cfg, "sidebar_width"), 33);
}

Test(config, crlf_line_endings_load)
{
	char	path[512];

	snprintf(path, sizeof path, "%s/tests/data/config/crlf.conf",
	    srcdir());
	cr_assert_eq(config_load_file(cfg, path, &err), 0, "%s", err.msg);
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
	cr_expect_str_eq(config_get(cfg, "date_format"), "%H:%M");
	cr_assert_eq(config_account_count(cfg), 1);
	cr_expect_str_eq(config_account_at(cfg, 0)->imap, "imaps://a@b");
}

Test(config, nul_byte_is_a_clear_error)
{
	char	path[512], expect[1024];

	snprintf(path, sizeof path, "%s/tests/data/config/nul.conf",
	    srcdir());
	cr_assert_eq(config_load_file(cfg, path, &err), -1);
	snprintf(expect, sizeof expect, "%s:2: NUL byte, expected text",
	    path);
	cr_expect_eq(err.kind, ERR_CONFIG);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, nul_byte_inside_quotes_is_an_error)
{
	const char	*path;
	char		 expect[512];

	path = write_file("q", "set date_format = \"a\0b\"\n", 24);
	cr_assert_eq(config_load_file(cfg, path, &err), -1);
	snprintf(expect, sizeof expect, "%s:1: NUL byte, expected text", path);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, file_larger_than_a_mebibyte_is_refused)
{
	char		*big, expect[512];
	const char	*path;
	size_t		 len = 1024 * 1024 + 1;

	big = xmalloc(len);
	memset(big, '#', len);
	path = write_file("big", big, len);
	free(big);
	cr_assert_eq(config_load_file(cfg, path, &err), -1);
	snprintf(expect, sizeof expect, "%s: cannot read: larger than 1 MiB, "
	    "expected a small text file", path);
	cr_expect_str_eq(err.msg, expect);
}

Test(config, default_path_honours_xdg_config_home)
{
	setenv("XDG_CONFIG_HOME", "/somewhere/cfg", 1);
	cr_expect_str_eq(config_default_path(),
	    "/somewhere/cfg/facteur/config");
	setenv("XDG_CONFIG_HOME", "", 1);
	setenv("HOME", "/home/alice", 1);
	cr_expect_str_eq(config_default_path(),
	    "/home/alice/.config/facteur/config");
	unsetenv("XDG_CONFIG_HOME");
	cr_expect_str_eq(config_default_path(),
	    "/home/alice/.config/facteur/config");
}

Test(config, config_set_checks_like_the_file_without_location)
{
	cr_expect_eq(config_set(cfg, "sort", "threads", &err), 0);
	cr_expect_str_eq(config_get(cfg, "sort"), "threads");
	cr_expect_eq(config_set(cfg, "sidebar", NULL, &err), 0);
	cr_expect_eq(config_get_bool(cfg, "sidebar"), 1);
	cr_expect_eq(config_set(cfg, "sidebar_width", "5", &err), -1);
	cr_expect_str_eq(err.msg, "5 is out of range for 'sidebar_width', "
	    "expected a number from 10 to 80");
	cr_expect_eq(config_set(cfg, "sortt", "date", NULL), -1);
}

Test(config, path_options_expand_tilde)
{
	char	expect[256];

	expect_ok("set maildir = ~/Mail\nset log_file = ~\n"
	    "set notmuch_config = /etc/nm\nset date_format = ~/x\n");
	snprintf(expect, sizeof expect, "%s/Mail", tmpdir);
	cr_expect_str_eq(config_get(cfg, "maildir"), expect);
	cr_expect_str_eq(config_get(cfg, "log_file"), tmpdir);
	cr_expect_str_eq(config_get(cfg, "notmuch_config"), "/etc/nm");
	cr_expect_str_eq(config_get(cfg, "date_format"), "~/x",
	    "not a path: left alone");
}

Test(config, keymap_name_must_be_a_plain_name)
{
	expect_error("set keymap = ../../etc/passwd",
	    "config:1: bad key map name '../../etc/passwd', expected "
	    "letters, digits, '-' or '_'");
}

Test(config, unknown_keymap_names_the_line_that_set_it)
{
	expect_ok("set sort = date\n\nset keymap = emacs\n");
	cr_assert_eq(config_finish(cfg, &err), -1);
	cr_expect_eq(err.kind, ERR_CONFIG);
	cr_expect_str_eq(err.msg, "config:3: unknown key map 'emacs', "
	    "expected default, vim or a file emacs.keys in $FACTEUR_KEYMAPDIR "
	    "or /nonexistent/xdg/facteur/keymaps");
}

static void
count_option(void *arg, const struct config_option_info *info)
{
	static char	 last[64];
	int		*n = arg;

	cr_expect(strcmp(last, info->name) < 0, "%s after %s", info->name,
	    last);
	snprintf(last, sizeof last, "%s", info->name);
	cr_expect_str_eq(config_get(cfg, info->name), info->def,
	    "default of %s", info->name);
	cr_expect(info->doc != NULL && *info->doc != '\0');
	if (strcmp(info->name, "sidebar_width") == 0) {
		cr_expect_eq(info->type, CONFIG_NUMBER);
		cr_expect_str_eq(info->type_name, "number");
		cr_expect_str_eq(info->values, "10..80");
	}
	if (strcmp(info->name, "sort") == 0)
		cr_expect_str_eq(info->values, "date|date-reverse|threads");
	if (strcmp(info->name, "sidebar") == 0) {
		cr_expect_str_eq(info->type_name, "bool");
		cr_expect_null(info->values);
	}
	(*n)++;
}

Test(config, option_foreach_lists_every_option_in_order)
{
	int	n = 0;

	config_option_foreach(count_option, &n);
	cr_expect_eq(n, 17);
}

Test(config, free_accepts_null_and_clears)
{
	struct config	*c = NULL;

	config_free(&c);
	config_free(NULL);
	c = config_new(test_actions, NACTIONS);
	config_free(&c);
	cr_expect_null(c);
}

/*
 * Random bytes and random token soup never crash the parser. The name
 * puts any relative "source" in a folder that does not exist.
 */
#define FUZZ_NAME "/nonexistent-facteur/fuzz"
Test(config, random_input_never_crashes)
{
	static const char *const vocab[] = { "set", "unset", "account",
	    "search", "bind", "unbind", "color", "source", "sort", "=",
	    "threads", "imap", "index", "pager", "generic", "j", "<Down>",
	    "gg", "next-entry", "\"", "'", "\\", "\n", " ", "#", "red",
	    "bold", "keymap", "vim", "^", "<", ">", "\r\n", "default", ",",
	    "tls", "x", "index,pager", "delete-message", "é", "\t" };
	char	buf[512];
	size_t	i, len, k;
	int	round, rc;

	srandom(42);
	for (round = 0; round < 3000; round++) {
		len = random() % (sizeof buf - 1);
		if (round % 2 == 0) {
			for (i = 0; i < len; i++)
				buf[i] = (char)(random() % 255 + 1);
			buf[len] = '\0';
		} else {
			buf[0] = '\0';
			for (k = 0; k < 40; k++) {
				if (strlen(buf) + 20 >= sizeof buf)
					break;
				strcat(buf, vocab[random() % (sizeof vocab /
				    sizeof vocab[0])]);
				if (random() % 2)
					strcat(buf, " ");
			}
		}
		config_free(&cfg);
		cfg = config_new(test_actions, NACTIONS);
		error_clear(&err);
		rc = config_load_string(cfg, FUZZ_NAME, buf, &err);
		if (rc != 0) {
			cr_assert_eq(err.kind, ERR_CONFIG, "%s", buf);
			cr_assert(strncmp(err.msg, FUZZ_NAME ":",
			    strlen(FUZZ_NAME) + 1) == 0, "%s", err.msg);
		} else if (config_finish(cfg, &err) != 0)
			cr_assert(strncmp(err.msg, FUZZ_NAME ":",
			    strlen(FUZZ_NAME) + 1) == 0, "%s", err.msg);
	}
}

/*
 * Every prefix of a full config either loads or fails with a located
 * message: cutting a file anywhere (mid-quote, mid-continuation, mid
 * UTF-8 character) never crashes or loses the file name.
 */
Test(config, every_prefix_of_a_config_loads_or_fails_cleanly)
{
	static const char text[] =
	    "# facteur\nset sort = threads\nset date_format=\"%d \\\"%b\\\"\"\n"
	    "set \\\n  sidebar\naccount work\n  imap imaps://a@b.example\n"
	    "  password_cmd 'pass show mail/work'\nsearch inbox \"tag:inbox\"\n"
	    "bind index,pager d delete-message\nbind generic <Esc>v help\n"
	    "unbind pager q\nbind index é limit\n"
	    "color index_unread bold brightwhite default\n";
	char	buf[sizeof text];
	size_t	len;
	int	ok = 0;

	for (len = 0; len < sizeof text; len++) {
		memcpy(buf, text, len);
		buf[len] = '\0';
		config_free(&cfg);
		cfg = config_new(test_actions, NACTIONS);
		if (config_load_string(cfg, "cut", buf, &err) == 0) {
			ok++;
			continue;
		}
		cr_assert_eq(err.kind, ERR_CONFIG);
		cr_assert(strncmp(err.msg, "cut:", 4) == 0, "at %zu: %s", len,
		    err.msg);
	}
	cr_expect_gt(ok, 1);
	cr_expect_eq(config_account_count(cfg), 1, "the whole text loaded");
	cr_expect_eq(config_color(cfg, "index_unread", NULL, NULL, NULL), 0);
}
