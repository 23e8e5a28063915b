/*
 * A bounded random test with a fixed seed: messages assembled from MIME
 * fragments and random bytes must render without crashing, and every line
 * that comes out must be valid UTF-8 without controls.
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mime/decode.h"
#include "mime/render.h"

int	mime_test_clean(const char *);

static void
fuzz_setup(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
}

TestSuite(fuzz, .init = fuzz_setup, .timeout = 120);

/* xorshift64: the same sequence on every run and platform. */
static uint64_t
fuzz_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

static const char *fuzz_pieces[] = {
	"From: ", "To: ", "Subject: ", "Content-Type: ", "\n", "\r\n", "\n\n",
	"MIME-Version: 1.0\n", "multipart/mixed; boundary=\"b\"\n",
	"multipart/alternative; boundary=b\n", "message/rfc822\n",
	"text/html; charset=utf-8\n", "text/plain; charset=x-foo\n",
	"text/plain; charset=iso-2022-jp\n", "--b\n", "--b--\n", "--b",
	"Content-Transfer-Encoding: base64\n",
	"Content-Transfer-Encoding: quoted-printable\n",
	"=?utf-8?q?", "=?utf-8?b?", "?=", "=?x?q?", "=C3", "=1B", "=\n",
	"<a href=\"x\">", "<script>", "</", "&#", "&amp;", ";", "<br>",
	"<blockquote>", "\x1b[2J", "\x1b]0;", "\x07", "\xc2\x9b", "\x9b",
	"\xe2\x80\xae", "\xff", "\xc3", "\t", "> ", "-- \n", "\0", "=?",
	"name*0*=utf-8''%", "Content-Disposition: attachment; filename=",
	"QUJD", "AAAA", "<", ">", "\"", "\\", "a@b", ",",
};

/* Builds a random message into b. */
static void
fuzz_message(uint64_t *seed, struct buf *b)
{
	size_t		n, i, k;
	uint64_t	r;
	char		c;

	buf_reset(b);
	n = fuzz_next(seed) % 60;
	for (i = 0; i < n; i++) {
		r = fuzz_next(seed);
		if (r % 3 == 0) {
			for (k = 0; k < (r >> 8) % 8; k++) {
				c = (char)(fuzz_next(seed) & 0xff);
				buf_add(b, &c, 1);
			}
		} else {
			k = (r >> 8) % (sizeof fuzz_pieces /
			    sizeof fuzz_pieces[0]);
			/* "\0" is one byte long. */
			buf_add(b, fuzz_pieces[k], fuzz_pieces[k][0] == '\0' ?
			    1 : strlen(fuzz_pieces[k]));
		}
	}
}

Test(fuzz, random_messages_render_clean)
{
	struct render_opts	 opts = { 0 };
	struct render		 r;
	struct buf		 b;
	uint64_t		 seed = 0x5eed1234abcdULL;
	size_t			 i, j;

	buf_init(&b);
	for (i = 0; i < 3000; i++) {
		fuzz_message(&seed, &b);
		opts.prefer_html = i % 2;
		opts.full_headers = i % 3 == 0;
		cr_assert_eq(mime_render_mem(buf_str(&b), b.len, &opts, &r,
		    NULL), 0);
		for (j = 0; j < r.n; j++)
			cr_assert(mime_test_clean(r.lines[j].text),
			    "iteration %zu line %zu not clean", i, j);
		render_free(&r);
	}
	buf_free(&b);
}

Test(fuzz, random_headers_decode_clean)
{
	struct buf	 b;
	uint64_t	 seed = 0xfeedfaceULL;
	size_t		 i;
	char		*s;

	buf_init(&b);
	for (i = 0; i < 5000; i++) {
		fuzz_message(&seed, &b);
		s = mime_decode_header(buf_str(&b));
		cr_assert(mime_test_clean(s), "iteration %zu", i);
		free(s);
		s = mime_decode_header_mem(buf_str(&b), b.len);
		cr_assert(mime_test_clean(s), "iteration %zu", i);
		free(s);
		s = mime_decode_addresses(buf_str(&b));
		cr_assert(mime_test_clean(s), "iteration %zu", i);
		free(s);
		s = mime_from_display(buf_str(&b));
		cr_assert(mime_test_clean(s), "iteration %zu", i);
		free(s);
	}
	buf_free(&b);
}

Test(fuzz, many_unended_encoded_words_decode_and_stay_visible)
{
	struct buf	 b;
	size_t		 i;
	char		*s;

	buf_init(&b);
	for (i = 0; i < 200000; i++)
		buf_adds(&b, "=?a?q?");
	s = mime_decode_header(buf_str(&b));
	cr_assert_gt(strlen(s), 0);
	cr_assert(mime_test_clean(s));
	free(s);
	buf_free(&b);
}

Test(fuzz, html_with_many_links_renders)
{
	struct render	 r;
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	buf_adds(&b, "Subject: links\nContent-Type: text/html\n\n");
	for (i = 0; i < 200000; i++)
		buf_addf(&b, "<a href=\"https://example.org/%zu\">l</a>",
		    i % 5000);
	cr_assert_eq(mime_render_mem(buf_str(&b), b.len, NULL, &r, NULL), 0);
	cr_assert_gt(r.n, 1000);
	cr_assert_str_eq(r.lines[r.n - 1].text,
	    "[1000] https://example.org/999");
	render_free(&r);
	buf_free(&b);
}
