/*
 * Sanitiser tests: every class of character that must not reach the
 * terminal is shown visibly, invalid UTF-8 is replaced per maximal
 * subsequence, tabs and newlines follow the flags, and widths are right.
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mime/sanitize.h"

int	mime_test_clean(const char *);

static void
sanitize_setup(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
}

TestSuite(sanitize, .init = sanitize_setup);

/* sanitize_text() of in[0..len) with flags, as an owned string. */
static char *
san(const char *in, size_t len, unsigned flags)
{
	struct buf	b;

	buf_init(&b);
	sanitize_text(in, len, flags, &b);
	return (buf_steal(&b));
}

/* Asserts the sanitised form of a NUL-terminated input. */
static void
expect(const char *in, unsigned flags, const char *want)
{
	char	*got = san(in, strlen(in), flags);

	cr_assert_str_eq(got, want, "input \"%s\" flags %u", in, flags);
	cr_assert(mime_test_clean(got) || (flags & SANITIZE_KEEP_NEWLINES),
	    "output of \"%s\" is not clean", in);
	free(got);
}

Test(sanitize, printable_ascii_and_utf8_pass_unchanged)
{
	expect("Hello, world!", 0, "Hello, world!");
	expect("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa7", 0,
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa7");
	expect("", 0, "");
}

Test(sanitize, every_c0_control_becomes_caret_notation)
{
	char	in[2], want[3], *got;
	int	c;

	for (c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		want[0] = '^';
		want[1] = (char)(c + '@');
		want[2] = '\0';
		got = san(in, 1, 0);
		cr_assert_str_eq(got, want, "byte 0x%02x", c);
		free(got);
	}
}

Test(sanitize, escape_sequences_are_defused)
{
	expect("\x1b]0;pwned\x07", 0, "^[]0;pwned^G");
	expect("\x1b[2J", 0, "^[[2J");
	expect("\x1bP+q\x1b\\", 0, "^[P+q^[\\");
}

Test(sanitize, del_becomes_caret_question_mark)
{
	expect("a\x7f" "b", 0, "a^?b");
}

Test(sanitize, c1_controls_are_shown_as_code_points)
{
	expect("\xc2\x9b" "31m", 0, "<U+009B>31m");
	expect("\xc2\x80\xc2\x85\xc2\x9f", 0, "<U+0080><U+0085><U+009F>");
}

Test(sanitize, raw_c1_byte_is_invalid_utf8)
{
	expect("\x9b" "31m", 0, "\xef\xbf\xbd" "31m");
}

Test(sanitize, bidi_controls_are_shown)
{
	expect("a\xe2\x80\xaa" "b\xe2\x80\xab" "c\xe2\x80\xac" "d\xe2\x80\xad"
	    "e\xe2\x80\xae" "f", 0,
	    "a<U+202A>b<U+202B>c<U+202C>d<U+202D>e<U+202E>f");
	expect("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", 0,
	    "<U+2066><U+2067><U+2068><U+2069>");
	expect("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", 0,
	    "<U+200E><U+200F><U+061C>");
}

Test(sanitize, invisible_characters_are_shown)
{
	expect("\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d", 0,
	    "<U+200B><U+200C><U+200D>");
	expect("\xe2\x81\xa0\xe2\x81\xa1\xe2\x81\xa4", 0,
	    "<U+2060><U+2061><U+2064>");
	expect("\xef\xbb\xbf" "bom", 0, "<U+FEFF>bom");
	expect("soft\xc2\xad" "hyphen", 0, "soft<U+00AD>hyphen");
	expect("\xe1\xa0\x8e", 0, "<U+180E>");
	expect("\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", 0, "<U+E0001><U+E007F>");
}

Test(sanitize, noncharacters_are_shown)
{
	expect("\xef\xb7\x90\xef\xbf\xbe\xef\xbf\xbf", 0,
	    "<U+FDD0><U+FFFE><U+FFFF>");
	expect("\xf0\x9f\xbf\xbe", 0, "<U+1FFFE>");
}

Test(sanitize, invalid_utf8_one_replacement_per_maximal_subpart)
{
	/* Unicode's recommended practice, table 3-8. */
	expect("\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd");
	expect("\xe0\x80\xaf", 0,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect("\xf1\x80\x80\x41", 0, "\xef\xbf\xbd" "A");
	expect("\xe2\x82", 0, "\xef\xbf\xbd");
	expect("\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect("\xf4\x90\x80\x80", 0,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	expect("\xff\xfe", 0, "\xef\xbf\xbd\xef\xbf\xbd");
	expect("a\x80" "b", 0, "a\xef\xbf\xbd" "b");
}

Test(sanitize, nul_byte_inside_length_is_shown)
{
	char	*got = san("a\0b", 3, SANITIZE_KEEP_NEWLINES);

	cr_assert_str_eq(got, "a^@b");
	free(got);
}

Test(sanitize, newlines_follow_the_flags)
{
	expect("a\nb", 0, "a^Jb");
	expect("a\nb", SANITIZE_KEEP_NEWLINES, "a\nb");
	expect("a\nb", SANITIZE_ONE_LINE, "a b");
}

Test(sanitize, carriage_return_before_newline_is_dropped)
{
	expect("a\r\nb", SANITIZE_KEEP_NEWLINES, "a\nb");
	expect("a\r\nb", SANITIZE_ONE_LINE, "a b");
	expect("a\rb", SANITIZE_KEEP_NEWLINES, "a^Mb");
	expect("a\r", SANITIZE_KEEP_NEWLINES, "a^M");
}

Test(sanitize, tabs_expand_to_next_multiple_of_eight)
{
	expect("\tx", SANITIZE_EXPAND_TABS, "        x");
	expect("abc\tx", SANITIZE_EXPAND_TABS, "abc     x");
	expect("12345678\tx", SANITIZE_EXPAND_TABS, "12345678        x");
	expect("a\tb\tc", SANITIZE_EXPAND_TABS, "a       b       c");
}

Test(sanitize, tab_columns_restart_after_newline)
{
	expect("abcdef\nab\tx",
	    SANITIZE_EXPAND_TABS | SANITIZE_KEEP_NEWLINES,
	    "abcdef\nab      x");
}

Test(sanitize, tab_columns_count_wide_characters_twice)
{
	/* Two CJK characters take four columns. */
	expect("\xe6\x97\xa5\xe6\x9c\xac\tx", SANITIZE_EXPAND_TABS,
	    "\xe6\x97\xa5\xe6\x9c\xac    x");
}

Test(sanitize, tabs_without_flag_are_caret_and_one_line_space)
{
	expect("a\tb", 0, "a^Ib");
	expect("a\tb", SANITIZE_ONE_LINE, "a b");
}

Test(sanitize, sanitize_line_is_one_line_and_owned)
{
	char	*s = sanitize_line("Subject\n\there\x1b");

	cr_assert_str_eq(s, "Subject  here^[");
	free(s);
	s = sanitize_line(NULL);
	cr_assert_str_eq(s, "");
	free(s);
}

Test(sanitize, output_is_idempotent)
{
	const char	*in = "\x1b[1m\xe2\x80\xae\xff\t\x9b";
	char		*once, *twice;

	once = san(in, strlen(in), SANITIZE_ONE_LINE);
	twice = san(once, strlen(once), SANITIZE_ONE_LINE);
	cr_assert_str_eq(twice, once);
	free(once);
	free(twice);
}

Test(sanitize, every_single_byte_and_pair_gives_clean_output)
{
	char	in[2], *got;
	int	a, b;

	for (a = 0; a < 256; a++) {
		for (b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			got = san(in, 2, SANITIZE_ONE_LINE |
			    SANITIZE_EXPAND_TABS);
			cr_assert(mime_test_clean(got), "bytes %02x %02x", a,
			    b);
			free(got);
		}
	}
}

Test(sanitize, utf8_decode_reports_lengths)
{
	uint32_t	c;

	cr_assert_eq(sanitize_utf8_decode("\xe2\x82\xac", 3, &c), 3);
	cr_assert_eq(c, 0x20ac);
	cr_assert_eq(sanitize_utf8_decode("\xe2\x82", 2, &c), 2);
	cr_assert_eq(c, 0xfffd);
	cr_assert_eq(sanitize_utf8_decode("\xf0\x9f\x93\xa7", 4, &c), 4);
	cr_assert_eq(c, 0x1f4e7);
	cr_assert(sanitize_utf8_valid("\xef\xbf\xbd", 3));
	cr_assert(!sanitize_utf8_valid("a\xc3", 2));
}

Test(sanitize, width_counts_columns)
{
	cr_assert_eq(sanitize_width("abc"), 3);
	cr_assert_eq(sanitize_width(""), 0);
	cr_assert_eq(sanitize_width(NULL), 0);
	cr_assert_eq(sanitize_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);
	cr_assert_eq(sanitize_width("\xf0\x9f\x93\xa7"), 2);
	/* e + combining acute: one column. */
	cr_assert_eq(sanitize_width("e\xcc\x81"), 1);
}

Test(sanitize, fit_never_splits_a_wide_character)
{
	const char	*s = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
	int		 used;

	cr_assert_eq(sanitize_fit(s, 3, &used), 3);
	cr_assert_eq(used, 2);
	cr_assert_eq(sanitize_fit(s, 4, &used), 6);
	cr_assert_eq(used, 4);
	cr_assert_eq(sanitize_fit(s, 100, &used), 9);
	cr_assert_eq(used, 6);
	cr_assert_eq(sanitize_fit(s, 1, &used), 0);
	cr_assert_eq(used, 0);
}

Test(sanitize, fit_keeps_combining_marks_with_their_base)
{
	/* "ée" written as e + U+0301 + e. */
	const char	*s = "e\xcc\x81" "e";
	int		 used;

	cr_assert_eq(sanitize_fit(s, 1, &used), 3);
	cr_assert_eq(used, 1);
	cr_assert_eq(sanitize_fit(s, 2, &used), 4);
	cr_assert_eq(used, 2);
	cr_assert_eq(sanitize_fit(s, 0, &used), 0);
}

Test(sanitize, fit_handles_emoji_and_ascii)
{
	const char	*s = "a\xf0\x9f\x93\xa7" "b";
	int		 used;

	cr_assert_eq(sanitize_fit(s, 2, &used), 1);
	cr_assert_eq(used, 1);
	cr_assert_eq(sanitize_fit(s, 3, &used), 5);
	cr_assert_eq(used, 3);
	cr_assert_eq(sanitize_fit("abc", -1, NULL), 0);
	cr_assert_eq(sanitize_fit(NULL, 5, &used), 0);
}
