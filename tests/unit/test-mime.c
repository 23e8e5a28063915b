/*
 * Rendering tests: the corpus under tests/data/mime (each NAME.eml is
 * rendered and compared with NAME.expected, one "KIND|text" line per
 * render line) and generated hostile messages that must stay bounded.
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/render.h"
#include "mime/sanitize.h"

int	mime_test_clean(const char *);

static void
mime_setup(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
}

TestSuite(mime, .init = mime_setup, .timeout = 60);

/*
 * 1 when s is valid UTF-8 without anything the sanitiser must remove:
 * controls, DEL, C1, bidi and invisible characters, noncharacters.
 */
int
mime_test_clean(const char *s)
{
	size_t		len = strlen(s), n;
	uint32_t	c;

	if (!sanitize_utf8_valid(s, len))
		return (0);
	while (len > 0) {
		n = sanitize_utf8_decode(s, len, &c);
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xad ||
		    c == 0x61c || c == 0x180e ||
		    (c >= 0x200b && c <= 0x200f) ||
		    (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2060 && c <= 0x2069) || c == 0xfeff ||
		    (c >= 0xe0000 && c <= 0xe007f) ||
		    (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
			return (0);
		s += n;
		len -= n;
	}
	return (1);
}

/* The render as the corpus writes it: "KIND|text" lines. */
static char *
mime_format(const struct render *r)
{
	static const char	*tags[] = { "H", "B", "Q", "S", "A", "N" };
	struct buf		 b;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < r->n; i++) {
		if (r->lines[i].kind == RENDER_QUOTE)
			buf_addf(&b, "Q%u|", r->lines[i].quote_depth);
		else
			buf_addf(&b, "%s|", tags[r->lines[i].kind]);
		buf_adds(&b, r->lines[i].text);
		buf_addc(&b, '\n');
	}
	return (buf_steal(&b));
}

/* Reads a whole file into an owned string. */
static char *
mime_slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*data;
	long	 len;

	f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)len + 1);
	cr_assert_eq(fread(data, 1, (size_t)len, f), (size_t)len);
	data[len] = '\0';
	fclose(f);
	if (lenp != NULL)
		*lenp = (size_t)len;
	return (data);
}

/* Renders a corpus message and compares it with its expected text. */
static void
mime_corpus(const char *name, int full_headers, int prefer_html)
{
	struct render_opts	 opts = { 0 };
	struct render		 r;
	struct error		 err;
	const char		*top = getenv("top_srcdir");
	char			*path, *got, *want, *g, *w, *gl, *wl;
	size_t			 i, line = 1;

	if (top == NULL)
		top = ".";
	opts.full_headers = full_headers;
	opts.prefer_html = prefer_html;
	xasprintf(&path, "%s/tests/data/mime/%s.eml", top, name);
	cr_assert_eq(mime_render_file(path, &opts, &r, &err), 0, "%s: %s",
	    path, err.msg);
	free(path);
	for (i = 0; i < r.n; i++)
		cr_assert(mime_test_clean(r.lines[i].text),
		    "%s: line %zu is not clean", name, i + 1);
	got = mime_format(&r);
	render_free(&r);
	xasprintf(&path, "%s/tests/data/mime/%s.expected", top, name);
	want = mime_slurp(path, NULL);
	free(path);
	/* Report the first differing line, not two whole renders. */
	for (g = got, w = want; *g != '\0' || *w != '\0'; line++) {
		gl = strchr(g, '\n');
		wl = strchr(w, '\n');
		if (gl == NULL)
			gl = g + strlen(g);
		if (wl == NULL)
			wl = w + strlen(w);
		cr_assert(gl - g == wl - w &&
		    memcmp(g, w, (size_t)(gl - g)) == 0,
		    "%s line %zu:\n got: %.*s\nwant: %.*s", name, line,
		    (int)(gl - g), g, (int)(wl - w), w);
		g = *gl != '\0' ? gl + 1 : gl;
		w = *wl != '\0' ? wl + 1 : wl;
	}
	free(got);
	free(want);
}

Test(mime, corpus_plain_ascii) { mime_corpus("plain-ascii", 0, 0); }
Test(mime, corpus_utf8_8bit) { mime_corpus("utf8-8bit", 0, 0); }
Test(mime, corpus_latin1_quoted_printable) { mime_corpus("latin1-qp", 0, 0); }
Test(mime, corpus_base64_utf8) { mime_corpus("base64-utf8", 0, 0); }
Test(mime, corpus_windows1252_smart_quotes)
{
	mime_corpus("cp1252-smart-quotes", 0, 0);
}
Test(mime, corpus_koi8r) { mime_corpus("koi8r", 0, 0); }
Test(mime, corpus_iso2022jp) { mime_corpus("iso2022jp", 0, 0); }
Test(mime, corpus_gb2312) { mime_corpus("gb2312", 0, 0); }
Test(mime, corpus_big5) { mime_corpus("big5", 0, 0); }
Test(mime, corpus_shift_jis) { mime_corpus("shift-jis", 0, 0); }
Test(mime, corpus_unknown_charset_noted_and_shown_as_utf8)
{
	mime_corpus("unknown-charset", 0, 0);
}
Test(mime, corpus_lying_charset_replaces_bad_bytes_only)
{
	mime_corpus("lying-charset", 0, 0);
}
Test(mime, corpus_rfc2047_headers_in_full_header_mode)
{
	mime_corpus("full-rfc2047-subjects", 1, 0);
}
Test(mime, corpus_alternative_prefers_plain)
{
	mime_corpus("multipart-alternative", 0, 0);
}
Test(mime, corpus_mixed_lists_attachments_and_inlines_text)
{
	mime_corpus("multipart-mixed-attachment", 0, 0);
}
Test(mime, corpus_html_only_is_readable_text)
{
	mime_corpus("html-only", 0, 0);
}
Test(mime, corpus_forwarded_message_inline)
{
	mime_corpus("forwarded-rfc822", 0, 0);
}
Test(mime, corpus_quotes_and_signature_classified)
{
	mime_corpus("quotes-signature", 0, 0);
}
Test(mime, corpus_tabs_expanded_to_stops)
{
	mime_corpus("tabs", 0, 0);
}
Test(mime, corpus_escape_sequences_shown_not_sent)
{
	mime_corpus("hostile-escapes", 0, 0);
}
Test(mime, corpus_bidi_and_invisible_shown)
{
	mime_corpus("hostile-bidi-subject", 0, 0);
}
Test(mime, corpus_nul_bytes_shown)
{
	mime_corpus("hostile-nul-body", 0, 0);
}
Test(mime, corpus_invalid_utf8_replaced)
{
	mime_corpus("hostile-invalid-utf8", 0, 0);
}
Test(mime, corpus_unterminated_boundary_still_shows_parts)
{
	mime_corpus("unterminated-boundary", 0, 0);
}
Test(mime, corpus_multilingual_parts_each_in_its_charset)
{
	mime_corpus("multilingual", 0, 0);
}
Test(mime, corpus_rfc2231_encoded_and_continued_filenames)
{
	mime_corpus("rfc2231-filenames", 0, 0);
}
Test(mime, corpus_related_shows_root_and_numbers_the_rest)
{
	mime_corpus("multipart-related", 0, 0);
}
Test(mime, corpus_signed_is_said_unchecked)
{
	mime_corpus("signed", 0, 0);
}
Test(mime, corpus_encrypted_is_said_and_listed)
{
	mime_corpus("encrypted", 0, 0);
}
Test(mime, corpus_digest_shows_each_message_with_headers)
{
	mime_corpus("digest", 0, 0);
}
Test(mime, corpus_flowed_paragraphs_joined)
{
	mime_corpus("flowed", 0, 0);
}
Test(mime, corpus_flowed_delsp_joins_without_space)
{
	mime_corpus("flowed-delsp", 0, 0);
}
Test(mime, corpus_boundary_prefix_of_another_is_not_confused)
{
	mime_corpus("hostile-boundary-prefix", 0, 0);
}

/* Renders msg with options; asserts every line is clean. */
static void
mime_render_checked(const char *msg, size_t len,
    const struct render_opts *opts, struct render *r)
{
	size_t	i;

	cr_assert_eq(mime_render_mem(msg, len, opts, r, NULL), 0);
	for (i = 0; i < r->n; i++)
		cr_assert(mime_test_clean(r->lines[i].text),
		    "line %zu is not clean", i + 1);
}

/* Whether some line of kind contains needle. */
static int
mime_has(const struct render *r, enum render_kind kind, const char *needle)
{
	size_t	i;

	for (i = 0; i < r->n; i++) {
		if (r->lines[i].kind == kind &&
		    strstr(r->lines[i].text, needle) != NULL)
			return (1);
	}
	return (0);
}

/* How many lines are of kind. */
static size_t
mime_count(const struct render *r, enum render_kind kind)
{
	size_t	i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->lines[i].kind == kind;
	return (n);
}

Test(mime, alternative_takes_html_when_preferred)
{
	struct render_opts	 opts = { .prefer_html = 1 };
	struct render		 r;
	const char		*top = getenv("top_srcdir");
	char			*path, *msg;
	size_t			 len;

	xasprintf(&path, "%s/tests/data/mime/multipart-alternative.eml",
	    top != NULL ? top : ".");
	msg = mime_slurp(path, &len);
	mime_render_checked(msg, len, &opts, &r);
	cr_assert(mime_has(&r, RENDER_BODY, "HTML version."));
	cr_assert(!mime_has(&r, RENDER_BODY, "Plain version."));
	render_free(&r);
	free(msg);
	free(path);
}

Test(mime, crlf_message_renders_like_lf)
{
	const char	*lf = "From: a@b\nSubject: s\n\nline one\n> q\n";
	const char	*crlf = "From: a@b\r\nSubject: s\r\n\r\nline one\r\n"
			    "> q\r\n";
	struct render	 a, b;
	char		*fa, *fb;

	mime_render_checked(lf, strlen(lf), NULL, &a);
	mime_render_checked(crlf, strlen(crlf), NULL, &b);
	fa = mime_format(&a);
	fb = mime_format(&b);
	cr_assert_str_eq(fb, fa);
	cr_assert_str_eq(fa, "H|From: a@b\nH|Subject: s\nH|\nB|line one\n"
	    "Q1|> q\n");
	free(fa);
	free(fb);
	render_free(&a);
	render_free(&b);
}

Test(mime, missing_file_is_not_found_error)
{
	struct render	r;
	struct error	err;

	cr_assert_eq(mime_render_file("/nonexistent/facteur/x.eml", NULL, &r,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	cr_assert_eq(r.n, 0);
	render_free(&r);
}

Test(mime, render_free_empties_and_tolerates_null)
{
	struct render	r;

	mime_render_checked("Subject: x\n\nbody\n", 17, NULL, &r);
	cr_assert_gt(r.n, 0);
	render_free(&r);
	cr_assert_eq(r.n, 0);
	cr_assert_null(r.lines);
	render_free(&r);
	render_free(NULL);
}

Test(mime, empty_message_renders_without_crash)
{
	struct render	r;

	mime_render_checked("", 0, NULL, &r);
	render_free(&r);
	mime_render_checked(NULL, 0, NULL, &r);
	render_free(&r);
}

Test(mime, oversized_message_shows_note_headers_and_text)
{
	struct render_opts	 opts = { .max_size = 64 };
	struct render		 r;
	const char		*msg = "From: big@example.org\nSubject: Big\n\n"
				    "The body of a message that is over the "
				    "limit we set for this test.\n";

	mime_render_checked(msg, strlen(msg), &opts, &r);
	cr_assert(mime_has(&r, RENDER_HEADER, "Subject: Big"));
	cr_assert(mime_has(&r, RENDER_NOTE, "over the 64 B limit"));
	cr_assert(mime_has(&r, RENDER_BODY, "The body of a message"));
	render_free(&r);
}

/* Builds a message nested depth multiparts deep. */
static char *
mime_deep(unsigned depth, size_t *len)
{
	struct buf	b;
	unsigned	i;

	buf_init(&b);
	buf_adds(&b, "From: deep@example.org\nSubject: deep\nMIME-Version: "
	    "1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n");
	for (i = 0; i < depth; i++)
		buf_addf(&b, "--b%u\nContent-Type: multipart/mixed; "
		    "boundary=\"b%u\"\n\n", i, i + 1);
	buf_addf(&b, "--b%u\nContent-Type: text/plain\n\ninnermost\n",
	    depth);
	for (i = depth + 1; i > 0; i--)
		buf_addf(&b, "--b%u--\n", i - 1);
	*len = b.len;
	return (buf_steal(&b));
}

Test(mime, thousand_deep_nesting_falls_back_to_raw_with_note)
{
	struct render	 r;
	char		*msg;
	size_t		 len;

	msg = mime_deep(1000, &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert(mime_has(&r, RENDER_NOTE, "nested more than 32 levels"));
	cr_assert(mime_has(&r, RENDER_HEADER, "Subject: deep"));
	cr_assert(mime_has(&r, RENDER_BODY, "innermost"));
	render_free(&r);
	free(msg);
}

Test(mime, nesting_within_limit_is_parsed)
{
	struct render	 r;
	char		*msg;
	size_t		 len;

	msg = mime_deep(20, &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert_eq(mime_count(&r, RENDER_NOTE), 0);
	cr_assert(mime_has(&r, RENDER_BODY, "innermost"));
	cr_assert(!mime_has(&r, RENDER_BODY, "--b3"));
	render_free(&r);
	free(msg);
}

/* Builds a multipart/mixed message with n attachment parts. */
static char *
mime_many(unsigned n, size_t *len)
{
	struct buf	b;
	unsigned	i;

	buf_init(&b);
	buf_adds(&b, "From: many@example.org\nSubject: many\nMIME-Version: "
	    "1.0\nContent-Type: multipart/mixed; boundary=\"p\"\n\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "--p\nContent-Type: application/octet-stream; "
		    "name=\"f%u.bin\"\n\nxx\n", i);
	buf_adds(&b, "--p--\n");
	*len = b.len;
	return (buf_steal(&b));
}

Test(mime, ten_thousand_parts_are_all_listed)
{
	struct render	 r;
	char		*msg;
	size_t		 len;

	msg = mime_many(10000, &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert_eq(mime_count(&r, RENDER_ATTACHMENT), 10000);
	cr_assert(mime_has(&r, RENDER_ATTACHMENT,
	    "[-- Attachment #10000: f9999.bin (application/octet-stream, "
	    "2 B) --]"));
	render_free(&r);
	free(msg);
}

Test(mime, more_than_ten_thousand_parts_falls_back_with_note)
{
	struct render	 r;
	char		*msg;
	size_t		 len;

	msg = mime_many(10001, &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert(mime_has(&r, RENDER_NOTE, "more than 10000 parts"));
	cr_assert_eq(mime_count(&r, RENDER_ATTACHMENT), 0);
	render_free(&r);
	free(msg);
}

/* A message whose only part is one 20 MB line of base64. */
static char *
mime_huge_base64(const char *ctype, size_t *len)
{
	struct buf	 b;
	size_t		 n = 20 * 1024 * 1024, i;

	buf_init(&b);
	buf_addf(&b, "From: huge@example.org\nSubject: huge\nMIME-Version: "
	    "1.0\nContent-Type: %s\nContent-Transfer-Encoding: base64\n\n",
	    ctype);
	/* "QUJD" is "ABC": the text part is one 15 MB line. */
	for (i = 0; i < n; i += 4)
		buf_add(&b, "QUJD", 4);
	buf_addc(&b, '\n');
	*len = b.len;
	return (buf_steal(&b));
}

Test(mime, twenty_megabyte_base64_text_line_is_bounded)
{
	struct render	 r;
	char		*msg;
	size_t		 len, i;

	msg = mime_huge_base64("text/plain; charset=us-ascii", &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert_leq(r.bytes, RENDER_MAX_BYTES + 100);
	for (i = 0; i < r.n; i++)
		cr_assert_leq(strlen(r.lines[i].text), RENDER_MAX_LINE);
	cr_assert(mime_has(&r, RENDER_NOTE, "message too long"));
	cr_assert(mime_has(&r, RENDER_BODY, "ABCABC"));
	render_free(&r);
	free(msg);
}

Test(mime, twenty_megabyte_base64_attachment_is_one_line)
{
	struct render	 r;
	char		*msg;
	size_t		 len;

	msg = mime_huge_base64("application/octet-stream; name=big.bin", &len);
	mime_render_checked(msg, len, NULL, &r);
	cr_assert(mime_has(&r, RENDER_ATTACHMENT,
	    "[-- Attachment #1: big.bin (application/octet-stream, 15.0 MB) "
	    "--]"));
	cr_assert_lt(r.bytes, 4096);
	render_free(&r);
	free(msg);
}

Test(mime, deep_forwarded_messages_are_bounded)
{
	struct buf	 b;
	struct render	 r;
	unsigned	 i;

	buf_init(&b);
	for (i = 0; i < 200; i++)
		buf_addf(&b, "From: l%u@example.org\nSubject: level %u\n"
		    "MIME-Version: 1.0\nContent-Type: message/rfc822\n\n",
		    i, i);
	buf_adds(&b, "From: last@example.org\nSubject: last\n\nbottom\n");
	mime_render_checked(buf_str(&b), b.len, NULL, &r);
	cr_assert(mime_has(&r, RENDER_NOTE, "nested more than 32 levels"));
	render_free(&r);
	buf_free(&b);
}

/* One thread's share of the concurrency test. */
static void *
mime_thread(void *arg)
{
	const char	*top = getenv("top_srcdir");
	struct render	 r;
	char		*path, *out = NULL, *s;
	int		 i;

	(void)arg;
	xasprintf(&path, "%s/tests/data/mime/iso2022jp.eml",
	    top != NULL ? top : ".");
	for (i = 0; i < 200; i++) {
		if (mime_render_file(path, NULL, &r, NULL) != 0)
			break;
		s = mime_format(&r);
		render_free(&r);
		if (out != NULL && strcmp(out, s) != 0) {
			free(s);
			break;
		}
		free(out);
		out = s;
	}
	free(path);
	if (i < 200) {
		free(out);
		return (NULL);
	}
	return (out);
}

Test(mime, renders_concurrently_on_worker_threads)
{
	pthread_t	 t[4];
	char		*out[4];
	int		 i;

	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, mime_thread, NULL), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], (void **)&out[i]);
		cr_assert_not_null(out[i], "thread %d saw varying output", i);
	}
	for (i = 1; i < 4; i++)
		cr_assert_str_eq(out[i], out[0]);
	for (i = 0; i < 4; i++)
		free(out[i]);
}
