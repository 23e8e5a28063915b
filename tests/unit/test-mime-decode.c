/*
 * Decoding tests: RFC 2047 headers (well-formed and the usual breakage),
 * charset aliases and fallbacks, quoted-printable, base64 and address
 * display.
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mime/decode.h"

int	mime_test_clean(const char *);

static void
decode_setup(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
}

TestSuite(decode, .init = decode_setup);

/* Asserts mime_decode_header(raw) == want, and that it is clean. */
static void
hdr(const char *raw, const char *want)
{
	char	*got = mime_decode_header(raw);

	cr_assert_str_eq(got, want, "header \"%s\"", raw);
	cr_assert(mime_test_clean(got), "header \"%s\" not clean", raw);
	free(got);
}

Test(decode, header_q_and_b_words)
{
	hdr("=?UTF-8?Q?caf=C3=A9?=", "caf\xc3\xa9");
	hdr("=?utf-8?b?Y2Fmw6k=?=", "caf\xc3\xa9");
	hdr("=?ISO-8859-1?Q?J=F6rg_M=FCller?=", "J\xc3\xb6rg M\xc3\xbcller");
	hdr("=?utf-8?q?caf=c3=a9?=", "caf\xc3\xa9");
}

Test(decode, header_plain_text_unchanged_and_trimmed)
{
	hdr("  Hello world  ", "Hello world");
	hdr("", "");
	hdr(NULL, "");
}

Test(decode, header_adjacent_words_joined_without_blank)
{
	hdr("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
	hdr("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
	hdr("=?utf-8?q?a?= =?iso-8859-1?q?=E9?=", "a\xc3\xa9");
}

Test(decode, header_blank_between_word_and_text_kept)
{
	hdr("=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c");
	hdr("Re: =?utf-8?q?caf=C3=A9?= !", "Re: caf\xc3\xa9 !");
}

Test(decode, header_character_split_across_words)
{
	hdr("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "caf\xc3\xa9");
	hdr("=?utf-8?b?w6nD?= =?utf-8?b?qQ==?=", "\xc3\xa9\xc3\xa9");
}

Test(decode, header_folded_lines_unfolded)
{
	hdr("a long\r\n subject", "a long subject");
	hdr("a long\n\tsubject", "a long subject");
}

Test(decode, header_word_broken_by_fold)
{
	hdr("=?utf-8?q?split=20wo\r\n rd?=", "split word");
}

Test(decode, header_missing_end_is_still_decoded)
{
	hdr("=?utf-8?q?no=20end", "no end");
	hdr("=?utf-8?q?broken =?utf-8?q?ok?= tail", "brokenok tail");
}

Test(decode, header_word_inside_quotes)
{
	hdr("\"=?utf-8?q?Jos=C3=A9?=\" <j@x>", "\"Jos\xc3\xa9\" <j@x>");
}

Test(decode, header_raw_utf8_and_raw_windows1252)
{
	hdr("caf\xc3\xa9", "caf\xc3\xa9");
	hdr("caf\xe9 \x93q\x94", "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d");
}

Test(decode, header_unknown_charset_kept_visibly)
{
	hdr("=?x-nope?q?abc?= def", "=?x-nope?q?abc?= def");
	hdr("=?x-nope?q?a?= =?x-nope?q?b?=", "=?x-nope?q?a?= =?x-nope?q?b?=");
}

Test(decode, header_not_an_encoded_word_is_literal)
{
	hdr("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	hdr("a =? b", "a =? b");
	hdr("=?", "=?");
}

Test(decode, header_encoded_controls_are_visible)
{
	hdr("=?utf-8?q?=1B]0;pwned=07?=", "^[]0;pwned^G");
	hdr("=?utf-8?q?=E2=80=AEgnp.exe?=", "<U+202E>gnp.exe");
	hdr("=?utf-8?q?a=0Ab?=", "a b");
	hdr("=?utf-8?b?wps=?=", "<U+009B>");
}

/* Converts and checks the result and the return value. */
static void
conv(const char *cs, const char *in, int rc, const char *want)
{
	struct buf	b;

	buf_init(&b);
	cr_assert_eq(mime_charset_to_utf8(cs, in, strlen(in), &b), rc,
	    "charset %s", cs != NULL ? cs : "(null)");
	cr_assert_str_eq(buf_str(&b), want, "charset %s",
	    cs != NULL ? cs : "(null)");
	buf_free(&b);
}

Test(decode, charset_aliases)
{
	conv("latin1", "caf\xe9", 0, "caf\xc3\xa9");
	conv("ISO-8859-1", "\x80", 0, "\xe2\x82\xac");
	conv("utf8", "\xc3\xa9", 0, "\xc3\xa9");
	conv("\"UTF-8\"", "\xc3\xa9", 0, "\xc3\xa9");
	conv("x-unknown", "caf\xe9", 0, "caf\xc3\xa9");
	conv("us-ascii", "caf\xc3\xa9", 0, "caf\xc3\xa9");
	conv(NULL, "plain", 0, "plain");
	conv("ks_c_5601-1987", "\xc7\xd1", 0, "\xed\x95\x9c");
	conv("iso-8859-8-i", "\xf9", 0, "\xd7\xa9");
	conv("koi8-r", "\xf0", 0, "\xd0\x9f");
	conv("windows-1252", "\x93x\x94", 0, "\xe2\x80\x9cx\xe2\x80\x9d");
}

Test(decode, charset_gb2312_read_as_gb18030_superset)
{
	/* 0x81 0x30 0x89 0x38 is GB18030 for U+00DF, not in GB2312. */
	conv("gb2312", "\xc4\xe3\x81\x30\x89\x38", 0,
	    "\xe4\xbd\xa0\xc3\x9f");
	conv("GB2312", "\xc4\xe3", 0, "\xe4\xbd\xa0");
}

Test(decode, charset_unknown_returns_1_and_utf8_with_replacement)
{
	conv("x-foo", "caf\xc3\xa9 \xff", 1, "caf\xc3\xa9 \xef\xbf\xbd");
	conv("utf-8//TRANSLIT", "ok", 1, "ok");
	conv("a-name-that-is-far-too-long-to-be-any-charset-at-all-really",
	    "x", 1, "x");
}

Test(decode, charset_lying_bytes_replaced_rest_kept)
{
	conv("utf-8", "a\xe9" "b", 0, "a\xef\xbf\xbd" "b");
	conv("shift_jis", "\x82\xa0\xff" "z", 0, "\xe3\x81\x82\xef\xbf\xbd"
	    "z");
	conv("iso-2022-jp", "\x1b$B\x24\x22\x1b(B ok", 0, "\xe3\x81\x82 ok");
	conv("euc-jp", "\xa4\xa2\xa4", 0, "\xe3\x81\x82\xef\xbf\xbd");
}

/* Asserts a transfer decoding. */
static void
qp(const char *in, int header, const char *want)
{
	struct buf	b;

	buf_init(&b);
	mime_decode_qp(in, strlen(in), header, &b);
	cr_assert_str_eq(buf_str(&b), want, "qp \"%s\"", in);
	buf_free(&b);
}

Test(decode, quoted_printable_tolerant)
{
	qp("caf=C3=A9", 0, "caf\xc3\xa9");
	qp("caf=c3=a9", 0, "caf\xc3\xa9");
	qp("soft=\nbreak", 0, "softbreak");
	qp("soft=\r\nbreak", 0, "softbreak");
	qp("soft=  \nbreak", 0, "softbreak");
	qp("bad =ZZ and =4", 0, "bad =ZZ and =4");
	qp("end=", 0, "end");
	qp("a_b", 0, "a_b");
	qp("a_b=5F", 1, "a b_");
	qp("", 0, "");
}

/* Asserts a base64 decoding and its predicted length. */
static void
b64(const char *in, const char *want, size_t wantlen)
{
	struct buf	b;

	buf_init(&b);
	mime_decode_base64(in, strlen(in), &b);
	cr_assert_eq(b.len, wantlen, "base64 \"%s\"", in);
	cr_assert(memcmp(buf_str(&b), want, wantlen) == 0, "base64 \"%s\"",
	    in);
	cr_assert_eq(mime_base64_decoded_len(in, strlen(in)), wantlen);
	buf_free(&b);
}

Test(decode, base64_tolerant)
{
	b64("QUJD", "ABC", 3);
	b64("QU\nJD\r\n", "ABC", 3);
	b64("QUJ", "AB", 2);
	b64("QQ==", "A", 1);
	b64("QQ==QUJD", "A", 1);
	b64("Q!U*J D", "ABC", 3);
	b64("AAA=", "\0\0", 2);
	b64("", "", 0);
}

/* Asserts an address display. */
static void
addr(const char *raw, const char *want)
{
	char	*got = mime_decode_addresses(raw);

	cr_assert_str_eq(got, want, "addresses \"%s\"", raw);
	cr_assert(mime_test_clean(got));
	free(got);
}

Test(decode, addresses_list_with_decoded_names)
{
	addr("Alice <a@example.org>, =?utf-8?q?Jos=C3=A9?= <j@example.org>",
	    "Alice <a@example.org>, Jos\xc3\xa9 <j@example.org>");
	addr("bare@example.org", "bare@example.org");
	addr("\"=?utf-8?q?Jos=C3=A9?=\" <j@x.org>", "Jos\xc3\xa9 <j@x.org>");
}

Test(decode, addresses_name_with_comma_is_quoted)
{
	addr("\"Doe, Jane\" <jane@example.org>",
	    "\"Doe, Jane\" <jane@example.org>");
}

Test(decode, addresses_groups)
{
	addr("undisclosed-recipients:;", "undisclosed-recipients:;");
	addr("Team: a@x.org, B <b@y.org>;", "Team: a@x.org, B <b@y.org>;");
}

Test(decode, addresses_unparsable_shown_decoded)
{
	addr("not an <address", "not an <address");
	addr("=?utf-8?q?Jos=C3=A9?= <<<", "Jos\xc3\xa9 <<<");
}

Test(decode, addresses_controls_are_visible)
{
	addr("\"\x1b]0;x\x07" "Eve\" <eve@example.org>",
	    "\"^[]0;x^GEve\" <eve@example.org>");
}

/* Asserts the index's sender column. */
static void
from(const char *raw, const char *want)
{
	char	*got = mime_from_display(raw);

	cr_assert_str_eq(got, want, "from \"%s\"", raw);
	free(got);
}

Test(decode, from_display_name_or_address)
{
	from("=?utf-8?q?Jos=C3=A9?= <jose@x.org>", "Jos\xc3\xa9");
	from("\"Doe, Jane\" <jane@x.org>, other@x.org", "Doe, Jane");
	from("bare@x.org", "bare@x.org");
	from("<angle@x.org>", "angle@x.org");
	from("\"\" <empty@x.org>", "empty@x.org");
	from("garbage <<", "garbage <<");
	from(NULL, "");
}
