/*
 * Tests of what the attachment and URL screens use: parts numbered as the
 * pager numbers them, decoded content byte for byte, safe file names,
 * URL extraction, flowed marking, and the sandboxed mailcap filter.
 */
#include <criterion/criterion.h>

#include <sys/stat.h>

#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/mailcap.h"
#include "mime/render.h"

static void
parts_setup(void)
{
	setlocale(LC_CTYPE, "C.UTF-8");
}

TestSuite(mime_parts, .init = parts_setup, .timeout = 60);

/* The path of a corpus message, owned. */
static char *
parts_corpus(const char *name)
{
	const char	*top = getenv("top_srcdir");
	char		*path;

	xasprintf(&path, "%s/tests/data/mime/%s.eml", top != NULL ? top : ".",
	    name);
	return (path);
}

Test(mime_parts, list_gives_names_types_sizes_encodings)
{
	struct mime_parts	 l;
	struct error		 err;
	char			*path = parts_corpus("rfc2231-filenames");

	cr_assert_eq(mime_parts_file(path, &l, &err), 0, "%s", err.msg);
	cr_assert_eq(l.n, 5);
	cr_assert_eq(l.v[0].index, 1);
	cr_assert_null(l.v[0].name);
	cr_assert_str_eq(l.v[0].type, "text/plain");
	cr_assert_str_eq(l.v[0].charset, "utf-8");
	cr_assert_str_eq(l.v[1].name, "€ rates 2025.pdf");
	cr_assert_str_eq(l.v[1].type, "application/pdf");
	cr_assert_str_eq(l.v[1].encoding, "base64");
	cr_assert_eq(l.v[1].size, 9);
	cr_assert_str_eq(l.v[2].name,
	    "a-very-long-file-name-that-continues-here.txt");
	cr_assert_str_eq(l.v[3].name, "café menu.bin");
	cr_assert_str_eq(l.v[4].name, "été.dat");
	mime_parts_free(&l);
	cr_assert_eq(l.n, 0);
	mime_parts_free(NULL);
	free(path);
}

Test(mime_parts, extract_decodes_base64_byte_for_byte)
{
	struct buf	 b;
	struct error	 err;
	char		*path = parts_corpus("rfc2231-filenames");

	buf_init(&b);
	cr_assert_eq(mime_part_extract_file(path, 2, &b, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(b.len, 9);
	cr_assert(memcmp(b.data, "%PDF-1.4\n", 9) == 0);
	buf_reset(&b);
	cr_assert_eq(mime_part_extract_file(path, 4, &b, &err), 0);
	cr_assert_eq(b.len, 3);
	cr_assert(memcmp(b.data, "\0\1\2", 3) == 0);
	buf_reset(&b);
	cr_assert_eq(mime_part_extract_file(path, 6, &b, &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	buf_free(&b);
	free(path);
}

Test(mime_parts, numbers_match_the_pager_across_alternatives)
{
	static const char	 msg[] =
	    "Content-Type: multipart/mixed; boundary=m\n\n"
	    "--m\nContent-Type: multipart/alternative; boundary=a\n\n"
	    "--a\nContent-Type: text/plain\n\nplain\n"
	    "--a\nContent-Type: text/html\n\n<p>html</p>\n--a--\n"
	    "--m\nContent-Type: image/png; name=x.png\n\nPNG\n--m--\n";
	struct render		 r;
	struct mime_parts	 l;
	size_t			 i;
	int			 seen = 0;

	cr_assert_eq(mime_render_mem(msg, sizeof msg - 1, NULL, &r, NULL), 0);
	for (i = 0; i < r.n; i++)
		seen |= strstr(r.lines[i].text, "Attachment #3: x.png") != NULL;
	cr_assert(seen, "the pager numbers the image #3");
	render_free(&r);
	cr_assert_eq(mime_parts_mem(msg, sizeof msg - 1, &l, NULL), 0);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[2].name, "x.png");
	cr_assert_eq(l.v[2].index, 3);
	mime_parts_free(&l);
}

Test(mime_parts, enclosed_message_is_extracted_raw)
{
	struct buf	 b;
	struct error	 err;
	char		*path = parts_corpus("forwarded-rfc822");

	buf_init(&b);
	cr_assert_eq(mime_part_extract_file(path, 2, &b, &err), 0);
	cr_assert(strncmp(buf_str(&b), "From: Carol <carol@example.com>\n",
	    32) == 0, "got %s", buf_str(&b));
	cr_assert_not_null(strstr(buf_str(&b), "Original body =E2=9C=93"));
	buf_free(&b);
	free(path);
}

Test(mime_parts, unparsable_or_huge_message_has_no_parts)
{
	struct mime_parts	 l;
	char			*big;
	size_t			 n = RENDER_MAX_SIZE + 10;

	big = xmalloc(n);
	memset(big, 'a', n);
	memcpy(big, "Subject: x\n\n", 12);
	cr_assert_eq(mime_parts_mem(big, n, &l, NULL), 0);
	cr_assert_eq(l.n, 0);
	free(big);
	cr_assert_eq(mime_parts_mem(NULL, 0, &l, NULL), 0);
	cr_assert_eq(l.n, 0);
}

Test(mime_parts, safe_filename_strips_paths_controls_and_dots)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "/etc/shadow", "shadow" },
		{ "..\\..\\windows\\win.ini", "win.ini" },
		{ "..", "attachment-7" },
		{ ".bashrc", "bashrc" },
		{ "", "attachment-7" },
		{ NULL, "attachment-7" },
		{ "a\033[2Jb.txt", "a_[2Jb.txt" },
		{ "evil\xe2\x80\xaetxt.exe", "evil_txt.exe" },
		{ "bad\xff.bin", "bad_.bin" },
		{ "-rf", "rf" },
		{ "name. ", "name" },
		{ "café.txt", "café.txt" },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = mime_safe_filename(cases[i].in, 7);
		cr_assert_str_eq(s, cases[i].want, "case %zu", i);
		free(s);
	}
}

Test(mime_parts, safe_filename_is_bounded)
{
	char	 name[1000], *s;

	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	s = mime_safe_filename(name, 1);
	cr_assert_eq(strlen(s), 200);
	free(s);
}

Test(mime_parts, urls_are_listed_once_in_order)
{
	static const char	 msg[] =
	    "Subject: links\n\n"
	    "See https://example.org/a?b=c&d=e, and (http://x.example/p).\n"
	    "Again https://example.org/a?b=c&d=e.\n"
	    "Mail mailto:bob@example.org or ftp://ftp.example/f.txt\n"
	    "Not a link: xhttps://no.example nor https:// alone.\n";
	struct render	  r;
	char		**u;
	size_t		  n;

	cr_assert_eq(mime_render_mem(msg, sizeof msg - 1, NULL, &r, NULL), 0);
	n = render_urls(&r, &u);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(u[0], "https://example.org/a?b=c&d=e");
	cr_assert_str_eq(u[1], "http://x.example/p");
	cr_assert_str_eq(u[2], "mailto:bob@example.org");
	cr_assert_str_eq(u[3], "ftp://ftp.example/f.txt");
	cr_assert_null(u[4]);
	while (n > 0)
		free(u[--n]);
	free(u);
	render_free(&r);
}

Test(mime_parts, html_links_are_listed)
{
	struct render	  r;
	char		**u, *path = parts_corpus("multipart-related");
	size_t		  n;

	cr_assert_eq(mime_render_file(path, NULL, &r, NULL), 0);
	n = render_urls(&r, &u);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(u[0], "https://shop.example/sale");
	free(u[0]);
	free(u);
	render_free(&r);
	free(path);
}

Test(mime_parts, flowed_lines_are_marked_for_reflow)
{
	struct render	 r;
	char		*path = parts_corpus("flowed");
	size_t		 i, flowed = 0;

	cr_assert_eq(mime_render_file(path, NULL, &r, NULL), 0);
	for (i = 0; i < r.n; i++) {
		if (r.lines[i].kind == RENDER_HEADER)
			cr_assert_eq(r.lines[i].flags, 0);
		flowed += (r.lines[i].flags & RENDER_LINE_FLOWED) != 0;
	}
	cr_assert_gt(flowed, 0);
	render_free(&r);
	free(path);
}

Test(mime_parts, hundred_megabyte_base64_line_is_bounded)
{
	static const char	 head[] =
	    "Subject: big\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n";
	struct render		 r;
	struct mime_parts	 l;
	size_t			 n = 100 * 1024 * 1024, i;
	char			*msg;

	msg = xmalloc(n);
	memcpy(msg, head, sizeof head - 1);
	for (i = sizeof head - 1; i + 4 <= n - 6; i += 4)
		memcpy(msg + i, "QUFB", 4);
	memcpy(msg + n - 6, "\n--b--", 6);
	cr_assert_eq(mime_render_mem(msg, n, NULL, &r, NULL), 0);
	/* Over RENDER_MAX_SIZE: a note and a bounded unparsed head. */
	cr_assert_leq(r.bytes, RENDER_MAX_BYTES);
	cr_assert_leq(r.n, 2 + 1024 * 1024 / RENDER_MAX_LINE + 16);
	for (i = 0; i < r.n && strstr(r.lines[i].text, "over the") == NULL;
	    i++)
		;
	cr_assert_lt(i, r.n, "a note says the message is too large");
	render_free(&r);
	cr_assert_eq(mime_parts_mem(msg, n, &l, NULL), 0);
	cr_assert_eq(l.n, 0);
	free(msg);
}

/* Writes a mailcap file into a private directory; returns its path. */
static char *
parts_mailcap(const char *content)
{
	char	 dir[] = "/tmp/facteur-mailcap-XXXXXX", *path;
	FILE	*fp;

	cr_assert_not_null(mkdtemp(dir));
	xasprintf(&path, "%s/mailcap", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(content, fp);
	fclose(fp);
	return (path);
}

/* Removes what parts_mailcap made. */
static void
parts_mailcap_remove(char *path)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

Test(mime_parts, mailcap_finds_copiousoutput_and_skips_tests)
{
	char			*path = parts_mailcap(
	    "# comment\n"
	    "text/html; firefox %s; test=test -n \"$DISPLAY\"\n"
	    "text/html; w3m -T text/html %s; needsterminal\n"
	    "text/html; w3m -I %{charset} -dump \\\n"
	    "  -T text/html %s; copiousoutput; nametemplate=%s.html\n"
	    "image/*; viewer %s\n");
	struct mailcap_entry	 e;
	char			*cmd;

	cr_assert_eq(mailcap_find(path, "text/html", MAILCAP_COPIOUS, &e), 0);
	cr_assert(e.copiousoutput);
	cr_assert_str_eq(e.nametemplate, "%s.html");
	cmd = mailcap_command(&e, "/tmp/f.html", "text/html",
	    "utf-8; rm -rf /");
	cr_assert_str_eq(cmd,
	    "w3m -I utf-8rm-rf/ -dump   -T text/html '/tmp/f.html'");
	free(cmd);
	mailcap_entry_free(&e);
	cr_assert_eq(mailcap_find(path, "text/html", MAILCAP_INTERACTIVE,
	    &e), 0);
	cr_assert_str_eq(e.command, "w3m -T text/html %s");
	cr_assert(e.needsterminal);
	mailcap_entry_free(&e);
	cr_assert_eq(mailcap_find(path, "image/png", 0, &e), 0);
	cr_assert_str_eq(e.command, "viewer %s");
	mailcap_entry_free(&e);
	cr_assert_eq(mailcap_find(path, "audio/ogg", 0, &e), -1);
	cr_assert_eq(mailcap_find("/nonexistent:" "", "text/html", 0, &e),
	    -1);
	parts_mailcap_remove(path);
}

Test(mime_parts, html_goes_through_the_mailcap_filter)
{
	char		*path = parts_mailcap(
	    "text/html; tr a-z A-Z < %s; copiousoutput\n");
	char		*msg;
	struct render_opts opts = { 0 };
	struct render	 r;
	size_t		 i;
	int		 seen = 0, noted = 0;

	opts.mailcap_path = path;
	msg = parts_corpus("html-only");
	cr_assert_eq(mime_render_file(msg, &opts, &r, NULL), 0);
	for (i = 0; i < r.n; i++) {
		if (r.lines[i].kind == RENDER_NOTE &&
		    strstr(r.lines[i].text, "shown by mailcap") != NULL)
			noted = 1;
		if (strstr(r.lines[i].text, "<HTML>") != NULL ||
		    strstr(r.lines[i].text, "<P>") != NULL)
			seen = 1;
	}
	cr_assert(noted, "a note names the filter");
	cr_assert(seen, "the filter's output is shown");
	render_free(&r);
	free(msg);
	parts_mailcap_remove(path);
}

Test(mime_parts, filter_gets_a_clean_environment_and_limits)
{
	struct mailcap_entry	 e = { 0 };
	struct buf		 out;
	struct error		 err;
	int			 iso;

	setenv("FACTEUR_SECRET", "leak", 1);
	e.command = (char *)"env | sort; ulimit -v; cat";
	buf_init(&out);
	cr_assert_eq(mailcap_filter(&e, "text/html", NULL, "IN", 2, &out,
	    &iso, &err), 0, "%s", err.msg);
	cr_assert_null(strstr(buf_str(&out), "FACTEUR_SECRET"));
	cr_assert_not_null(strstr(buf_str(&out), "TERM=dumb\n"));
	cr_assert_not_null(strstr(buf_str(&out), "PATH=/usr/local/bin:"));
	/* 512 MB in kilobytes. */
	cr_assert_not_null(strstr(buf_str(&out), "\n524288\nIN"),
	    "got %s", buf_str(&out));
	buf_free(&out);
}

Test(mime_parts, filter_has_no_network_when_the_system_allows)
{
	struct mailcap_entry	 e = { 0 };
	struct buf		 out;
	int			 iso;

	/* Only the loopback device exists in a new network namespace. */
	e.command = (char *)"cat /proc/net/dev | tail -n +3 | cut -d: -f1";
	buf_init(&out);
	cr_assert_eq(mailcap_filter(&e, "text/html", NULL, "", 0, &out,
	    &iso, NULL), 0);
	if (!iso) {
		buf_free(&out);
		cr_skip_test("unshare(CLONE_NEWNET) is not allowed here");
	}
	cr_assert_str_eq(buf_str(&out), "    lo\n");
	buf_free(&out);
}

Test(mime_parts, filter_is_killed_after_its_time_and_output_is_capped,
    .timeout = 30)
{
	struct mailcap_entry	 e = { 0 };
	struct buf		 out;
	struct error		 err;

	e.command = (char *)"sleep 60";
	buf_init(&out);
	cr_assert_eq(mailcap_filter(&e, "text/html", NULL, "", 0, &out, NULL,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_CANCELLED);
	e.command = (char *)"yes";
	cr_assert_eq(mailcap_filter(&e, "text/html", NULL, "", 0, &out, NULL,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_REFUSED);
	cr_assert_eq(out.len, MAILCAP_MAX_OUTPUT);
	buf_free(&out);
}

Test(mime_parts, failing_filter_falls_back_to_builtin_html)
{
	char			*path = parts_mailcap(
	    "text/html; exit 3; copiousoutput\n");
	char			*msg = parts_corpus("html-only");
	struct render_opts	 opts = { 0 };
	struct render		 r;
	size_t			 i;
	int			 noted = 0;

	opts.mailcap_path = path;
	cr_assert_eq(mime_render_file(msg, &opts, &r, NULL), 0);
	for (i = 0; i < r.n; i++)
		noted |= strstr(r.lines[i].text, "(status 3); shown by facteur")
		    != NULL;
	cr_assert(noted);
	cr_assert_gt(r.n, 6);
	render_free(&r);
	free(msg);
	parts_mailcap_remove(path);
}

/* A message of about size bytes: FIRST, many lines, MIDDLE, many, LAST. */
static char *
parts_huge(size_t size, size_t *len, size_t *body_lines)
{
	static const char	 head[] = "From: big@example.org\n"
	    "Subject: Huge\nContent-Type: text/plain; charset=utf-8\n\n"
	    "FIRST LINE\n";
	static const char	 line[] =
	    "All work and no play makes a very long message.\n";
	struct buf		 b;
	size_t			 n = size / (sizeof line - 1), i;

	buf_init(&b);
	buf_add(&b, head, sizeof head - 1);
	for (i = 0; i < n; i++) {
		if (i == n / 2)
			buf_adds(&b, "MIDDLE MARKER https://example.org/mid\n");
		buf_add(&b, line, sizeof line - 1);
	}
	buf_adds(&b, "LAST LINE\n");
	*len = b.len;
	*body_lines = n + 3;
	return (buf_steal(&b));
}

Test(mime_parts, fifty_megabyte_message_spooled_whole_read_in_bounded_windows)
{
	struct render_spool	*sp;
	struct render		 r;
	size_t			 len, body, n, i;
	char			*msg;

	msg = parts_huge(50 * 1024 * 1024, &len, &body);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &sp, NULL), 0);
	free(msg);
	n = render_spool_lines(sp);
	/* Headers (From, Subject, blank) then every body line: nothing cut. */
	cr_assert_eq(n, 3 + body);
	cr_assert_geq(render_spool_bytes(sp), (body - 3) * 47);
	/* The last window: bounded, and it ends with the true last line. */
	cr_assert_eq(render_spool_read(sp, n - 100, 4096, 1024 * 1024, &r,
	    NULL), 0);
	cr_assert_eq(r.n, 100);
	cr_assert_str_eq(r.lines[99].text, "LAST LINE");
	render_free(&r);
	/* A window from the start stops at its line and byte bounds. */
	cr_assert_eq(render_spool_read(sp, 0, 4096, 1024 * 1024, &r, NULL),
	    0);
	cr_assert_eq(r.n, 4096);
	cr_assert_str_eq(r.lines[3].text, "FIRST LINE");
	cr_assert_eq(r.lines[0].kind, RENDER_HEADER);
	render_free(&r);
	cr_assert_eq(render_spool_read(sp, 10, 100000, 4096, &r, NULL), 0);
	cr_assert_leq(r.bytes, 4096);
	cr_assert_eq(r.n, 4096 / 47);
	render_free(&r);
	/* Any line is reachable, also between two index entries. */
	i = n / 2 + 7;
	cr_assert_eq(render_spool_read(sp, i, 1, 1, &r, NULL), 0);
	cr_assert_eq(r.n, 1);
	render_free(&r);
	cr_assert_eq(render_spool_read(sp, n, 10, 4096, &r, NULL), 0);
	cr_assert_eq(r.n, 0);
	render_spool_free(&sp);
	cr_assert_null(sp);
}

Test(mime_parts, spool_holds_the_same_lines_as_the_render)
{
	static const char	*names[] = { "multipart-mixed-attachment",
				    "flowed", "html-only", "digest",
				    "hostile-escapes" };
	struct render_spool	*sp;
	struct render		 r, w;
	size_t			 k, i;
	char			*path;

	for (k = 0; k < sizeof names / sizeof names[0]; k++) {
		path = parts_corpus(names[k]);
		cr_assert_eq(mime_render_file(path, NULL, &r, NULL), 0);
		cr_assert_eq(render_spool_file(path, NULL, &sp, NULL), 0);
		free(path);
		cr_assert_eq(render_spool_lines(sp), r.n, "%s", names[k]);
		cr_assert_eq(render_spool_bytes(sp), r.bytes);
		cr_assert_eq(render_spool_read(sp, 0, r.n + 1, r.bytes + 1,
		    &w, NULL), 0);
		cr_assert_eq(w.n, r.n);
		for (i = 0; i < r.n; i++) {
			cr_assert_str_eq(w.lines[i].text, r.lines[i].text);
			cr_assert_eq(w.lines[i].kind, r.lines[i].kind);
			cr_assert_eq(w.lines[i].quote_depth,
			    r.lines[i].quote_depth);
			cr_assert_eq(w.lines[i].flags, r.lines[i].flags);
		}
		render_free(&w);
		render_free(&r);
		render_spool_free(&sp);
	}
}

Test(mime_parts, spool_file_leaves_nothing_in_tmpdir)
{
	struct render_spool	*sp, *big;
	struct render		 r;
	char			 dir[] = "/tmp/test-spool.XXXXXX";
	char			*old = getenv("TMPDIR"), *msg;
	size_t			 len, body;

	old = old != NULL ? xstrdup(old) : NULL;
	cr_assert_not_null(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
	cr_assert_eq(render_spool_mem("Subject: x\n\nbody\n", 17, NULL, &sp,
	    NULL), 0);
	/* Big enough for a file, unlinked at once. */
	msg = parts_huge(2 * 1024 * 1024, &len, &body);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &big, NULL), 0);
	free(msg);
	/* rmdir succeeds only on an empty directory. */
	cr_assert_eq(rmdir(dir), 0);
	cr_assert_eq(render_spool_lines(sp), 3);
	cr_assert_eq(render_spool_lines(big), 3 + body);
	cr_assert_eq(render_spool_read(big, 3 + body - 1, 1, 100, &r, NULL),
	    0);
	cr_assert_str_eq(r.lines[0].text, "LAST LINE");
	render_free(&r);
	render_spool_free(&big);
	render_spool_free(&sp);
	if (old != NULL)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
}

Test(mime_parts, small_message_needs_no_temporary_file)
{
	struct render_spool	*sp;
	struct render		 r;
	struct error		 err;
	char			*old = getenv("TMPDIR"), *msg;
	size_t			 len, body;

	old = old != NULL ? xstrdup(old) : NULL;
	setenv("TMPDIR", "/nonexistent/facteur-test", 1);
	/* A usual message is spooled in memory: no file, no failure. */
	cr_assert_eq(render_spool_mem("Subject: x\n\nbody\n", 17, NULL, &sp,
	    NULL), 0);
	cr_assert_eq(render_spool_read(sp, 0, 10, 100, &r, NULL), 0);
	cr_assert_eq(r.n, 3);
	cr_assert_str_eq(r.lines[2].text, "body");
	render_free(&r);
	render_spool_free(&sp);
	/* A big one needs the file, and says so when it cannot have it. */
	msg = parts_huge(2 * 1024 * 1024, &len, &body);
	error_clear(&err);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &sp, &err), -1);
	cr_assert_null(sp);
	cr_assert(strstr(err.msg, "temporary file") != NULL, "%s", err.msg);
	free(msg);
	if (old != NULL)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
}

/* A message: 5000 text lines, 6000 quoted ones, then 3 text lines. */
static char *
parts_long_quote(size_t *len)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	buf_adds(&b, "From: q@example.org\nSubject: Quote\n\n");
	for (i = 0; i < 5000; i++)
		buf_addf(&b, "line %zu\n", i);
	for (i = 0; i < 6000; i++)
		buf_addf(&b, "> quoted %zu\n", i);
	buf_adds(&b, "AFTER QUOTE\nfoo bar foo baz foo\nend\n");
	*len = b.len;
	return (buf_steal(&b));
}

Test(mime_parts, spool_span_is_a_whole_quoted_run_from_any_line)
{
	struct render_spool	*sp;
	size_t			 len, s, e, first;
	char			*msg;

	msg = parts_long_quote(&len);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &sp, NULL), 0);
	free(msg);
	/* Lines: From, Subject, blank, 5000 text, 6000 quoted, 3 text. */
	first = 3 + 5000;
	cr_assert_eq(render_spool_lines(sp), first + 6000 + 3);
	cr_assert_eq(render_spool_span(sp, first + 3000, &s, &e, NULL), 0);
	cr_assert_eq(s, first);
	cr_assert_eq(e, first + 6000);
	/* From its first and last line, and across an index step. */
	cr_assert_eq(render_spool_span(sp, first, &s, &e, NULL), 0);
	cr_assert_eq(s, first);
	cr_assert_eq(e, first + 6000);
	cr_assert_eq(render_spool_span(sp, first + 5999, &s, &e, NULL), 0);
	cr_assert_eq(s, first);
	cr_assert_eq(e, first + 6000);
	cr_assert_eq(render_spool_span(sp, 64 * 80, &s, &e, NULL), 0);
	cr_assert_eq(s, first);
	/* A text line's run is the text around it. */
	cr_assert_eq(render_spool_span(sp, first + 6000, &s, &e, NULL), 0);
	cr_assert_eq(s, first + 6000);
	cr_assert_eq(e, first + 6003);
	render_spool_free(&sp);
}

Test(mime_parts, spool_search_visits_every_match_of_a_line)
{
	struct render_spool	*sp;
	size_t			 len, at, line;
	char			*msg;

	msg = parts_long_quote(&len);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &sp, NULL), 0);
	free(msg);
	line = 3 + 5000 + 6000 + 1;	/* "foo bar foo baz foo" */
	cr_assert_eq(render_spool_find_at(sp, 0, 0, 1, "FOO", -1, &at, NULL,
	    NULL), (long)line);
	cr_assert_eq(at, 0);
	cr_assert_eq(render_spool_find_at(sp, line, at + 1, 1, "foo", -1, &at,
	    NULL, NULL), (long)line);
	cr_assert_eq(at, 8);
	cr_assert_eq(render_spool_find_at(sp, line, at + 1, 1, "foo", -1, &at,
	    NULL, NULL), (long)line);
	cr_assert_eq(at, 16);
	cr_assert_eq(render_spool_find_at(sp, line, at + 1, 1, "foo", -1, &at,
	    NULL, NULL), -1);
	/* Backwards, each one before the last. */
	cr_assert_eq(render_spool_find_at(sp, line, 16, -1, "foo", -1, &at,
	    NULL, NULL), (long)line);
	cr_assert_eq(at, 8);
	cr_assert_eq(render_spool_find_at(sp, line, 8, -1, "foo", -1, &at,
	    NULL, NULL), (long)line);
	cr_assert_eq(at, 0);
	cr_assert_eq(render_spool_find_at(sp, line, 0, -1, "foo", -1, &at,
	    NULL, NULL), -1);
	cr_assert_eq(render_spool_find_at(sp, line + 1, SIZE_MAX, -1, "foo",
	    -1, &at, NULL, NULL), (long)line);
	cr_assert_eq(at, 16);
	/* Folded quotes are passed over. */
	cr_assert_eq(render_spool_find_at(sp, 0, 0, 1, "quoted 42", -1, &at,
	    NULL, NULL), 3 + 5000 + 42);
	cr_assert_eq(render_spool_find_at(sp, 0, 0, 1, "quoted 42",
	    RENDER_QUOTE, &at, NULL, NULL), -1);
	render_spool_free(&sp);
}

Test(mime_parts, find_in_line_both_ways)
{
	size_t	at = 99;

	cr_assert(render_find_in("aXa xA", 0, 1, "xa", &at));
	cr_assert_eq(at, 1);
	cr_assert(render_find_in("aXa xA", 2, 1, "xa", &at));
	cr_assert_eq(at, 4);
	cr_assert_not(render_find_in("aXa xA", 5, 1, "xa", &at));
	cr_assert_not(render_find_in("aXa xA", 50, 1, "xa", &at));
	cr_assert(render_find_in("aXa xA", SIZE_MAX, -1, "xa", &at));
	cr_assert_eq(at, 4);
	cr_assert(render_find_in("aXa xA", 4, -1, "xa", &at));
	cr_assert_eq(at, 1);
	cr_assert_not(render_find_in("aXa xA", 1, -1, "xa", &at));
	cr_assert_not(render_find_in("abc", 0, 1, "", &at));
}

Test(mime_parts, spool_search_both_ways_and_urls)
{
	struct render_spool	*sp;
	volatile int		 cancel = 1;
	size_t			 len, body, n;
	long			 mid;
	char			*msg, **urls;

	msg = parts_huge(1024 * 1024, &len, &body);
	cr_assert_eq(render_spool_mem(msg, len, NULL, &sp, NULL), 0);
	free(msg);
	n = render_spool_lines(sp);
	mid = render_spool_find(sp, 0, 1, "middle marker", NULL, NULL);
	cr_assert_gt(mid, 3);
	cr_assert_eq(render_spool_find(sp, (size_t)mid, 1, "MIDDLE", NULL,
	    NULL), mid);
	cr_assert_eq(render_spool_find(sp, (size_t)mid + 1, 1, "MIDDLE", NULL,
	    NULL), -1);
	cr_assert_eq(render_spool_find(sp, n - 1, -1, "middle", NULL, NULL),
	    mid);
	cr_assert_eq(render_spool_find(sp, n - 1, -1, "first line", NULL,
	    NULL), 3);
	cr_assert_eq(render_spool_find(sp, (size_t)mid - 1, -1, "MIDDLE",
	    NULL, NULL), -1);
	cr_assert_eq(render_spool_find(sp, 0, 1, "last line", NULL, NULL),
	    (long)n - 1);
	cr_assert_eq(render_spool_find(sp, 0, 1, "MIDDLE", &cancel, NULL), -1,
	    "a cancelled search finds nothing");
	cr_assert_eq(render_spool_urls(sp, &urls), 1);
	cr_assert_str_eq(urls[0], "https://example.org/mid");
	cr_assert_null(urls[1]);
	free(urls[0]);
	free(urls);
	render_spool_free(&sp);
}
