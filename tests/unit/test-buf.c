/*
 * core/buf: base64 as SASL (one line) and MIME (lines of 76) want it.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "core/buf.h"

Test(buf, base64_of_sasl_plain_credentials_is_one_padded_line)
{
	struct buf	b;

	buf_init(&b);
	buf_add_base64(&b, "\0bob\0bobpw", 10, 0);
	cr_assert_str_eq(buf_str(&b), "AGJvYgBib2Jwdw==");
	buf_reset(&b);
	buf_add_base64(&b, "ab", 2, 0);
	cr_assert_str_eq(buf_str(&b), "YWI=");
	buf_reset(&b);
	buf_add_base64(&b, "", 0, 0);
	cr_assert_str_eq(buf_str(&b), "");
	buf_free(&b);
}

Test(buf, base64_for_mime_breaks_lines_at_76)
{
	struct buf	b;
	char		in[120];
	const char	*nl;

	memset(in, 'x', sizeof in);
	buf_init(&b);
	buf_add_base64(&b, in, sizeof in, 76);
	nl = strchr(buf_str(&b), '\n');
	cr_assert_not_null(nl);
	cr_assert_eq(nl - buf_str(&b), 76);
	cr_assert_eq(b.len, 160 + 3, "160 characters in 3 lines: %zu",
	    b.len);
	cr_assert_eq(buf_str(&b)[b.len - 1], '\n');
	buf_free(&b);
}
