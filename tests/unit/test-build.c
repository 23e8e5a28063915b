/*
 * The message builder and the reply logic: exact output with a fixed
 * clock and a seeded random source, encoded words and file names that
 * the MIME decoders read back, address validation, quoting, References,
 * identity choice and Re: stripping.
 */
#include <sys/stat.h>

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/render.h"
#include "send/send.h"

/* A counter as the random source: the same bytes every run. */
static int
test_random(void *buf, size_t len, void *arg)
{
	unsigned char	*p = buf;
	unsigned	*n = arg;
	size_t		 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((*n)++ * 7);
	return (0);
}

static struct send_build_opts
fixed_opts(unsigned *seed)
{
	struct send_build_opts	o = { 0 };

	*seed = 0;
	o.now = 1700000000;	/* Tue, 14 Nov 2023 22:13:20 UTC */
	o.tz_minutes = 60;
	o.random = test_random;
	o.random_arg = seed;
	return (o);
}

static char *
write_tmp(const char *name, const void *data, size_t len)
{
	char	*path;
	FILE	*f;

	xasprintf(&path, "/tmp/test-build-%d-%s", (int)getpid(), name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fwrite(data, 1, len, f);
	fclose(f);
	return (path);
}

Test(build, plain_ascii_message_is_exact)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);

	d.from = "Bob <bob@example.org>";
	d.to = "carol@example.org";
	d.subject = "Lunch";
	d.body = "See you at noon.\n";
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	cr_assert_str_eq(buf_str(&b.msg),
	    "Date: Tue, 14 Nov 2023 23:13:20 +0100\n"
	    "From: Bob <bob@example.org>\n"
	    "To: carol@example.org\n"
	    "Subject: Lunch\n"
	    "Message-ID: <007oegl8s03pahh9o1vp6ida.k2rq2j9bg3nruj5c@example.org>\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n"
	    "\n"
	    "See you at noon.\n");
	cr_assert_str_eq(b.from, "bob@example.org");
	cr_assert_eq(b.nrcpt, 1);
	cr_assert_str_eq(b.rcpt[0], "carol@example.org");
	send_built_free(&b);
}

Test(build, utf8_subject_and_name_become_encoded_words_that_decode_back)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);
	const char		*subj = "Réunion à 14 h — ordre du jour très "
	    "détaillé pour l'équipe de développement";
	char			*s, *e, *dec;

	d.from = "Zoë Lefèvre <zoe@example.org>";
	d.to = "\"Dupont, Jean\" <jean@example.org>";
	d.subject = (char *)subj;
	d.body = "x\n";
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	s = strstr(b.msg.data, "\nFrom: ");
	cr_assert_not_null(s);
	cr_assert(strncmp(s, "\nFrom: =?utf-8?q?Zo=C3=AB_Lef=C3=A8vre?= "
	    "<zoe@example.org>\n", 51) == 0, "%s", s);
	cr_assert_not_null(strstr(b.msg.data,
	    "\nTo: \"Dupont, Jean\" <jean@example.org>\n"));
	/* No line over 76, no raw 8-bit anywhere in the headers. */
	for (s = b.msg.data; (e = strchr(s, '\n')) != NULL &&
	    e != s; s = e + 1)
		cr_assert_leq(e - s, 76, "%.*s", (int)(e - s), s);
	for (s = b.msg.data; *s != '\0'; s++)
		cr_assert_lt((unsigned char)*s, 0x80);
	s = strstr(b.msg.data, "\nSubject:") + 9;
	e = strstr(s, "\nMessage-ID:");
	dec = mime_decode_header_mem(s, e - s);
	cr_assert_str_eq(dec, subj);
	free(dec);
	send_built_free(&b);
}

Test(build, folds_long_address_lists_between_addresses)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);
	char			*to = strstr("", "");

	(void)to;
	d.from = "bob@example.org";
	d.to = "alice.longname@example.org, bernard.longname@example.org, "
	    "camille.longname@example.org, dominique@example.org";
	d.body = "";
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	cr_assert_not_null(strstr(b.msg.data,
	    "To: alice.longname@example.org, bernard.longname@example.org,\n"
	    " camille.longname@example.org, dominique@example.org\n"),
	    "%s", b.msg.data);
	cr_assert_eq(b.nrcpt, 4);
	send_built_free(&b);
}

Test(build, utf8_body_is_quoted_printable_and_8bit_when_asked)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);
	char			*body;

	d.from = "bob@example.org";
	d.to = "carol@example.org";
	d.body = "Ça va ? 1+1=2\nFrom here on\ntrailing \n";
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	body = strstr(b.msg.data, "\n\n") + 2;
	cr_assert_not_null(strstr(b.msg.data,
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n"));
	cr_assert_str_eq(body, "=C3=87a va ? 1+1=3D2\n=46rom here on\n"
	    "trailing=20\n");
	send_built_free(&b);

	o.eightbit = 1;
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	cr_assert_not_null(strstr(b.msg.data,
	    "Content-Transfer-Encoding: 8bit\n\nÇa va ? 1+1=2\n"));
	send_built_free(&b);
}

Test(build, qp_lines_stay_within_76_columns)
{
	struct buf	 b;
	char		 line[301];
	char		*s, *e;

	memset(line, 'a', 300);
	line[300] = '\0';
	line[150] = '=';
	buf_init(&b);
	send_qp_encode(line, 300, &b);
	for (s = b.data; (e = strchr(s, '\n')) != NULL; s = e + 1)
		cr_assert_leq(e - s, 76);
	cr_assert_leq(strlen(s), 76);
	/* It decodes back to the same line. */
	{
		struct buf	back;

		buf_init(&back);
		mime_decode_qp(b.data, b.len, 0, &back);
		cr_assert_str_eq(buf_str(&back), line);
		buf_free(&back);
	}
	buf_free(&b);
}

Test(build, attachment_is_base64_with_rfc2231_name)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);
	unsigned char		 bin[300];
	struct mime_parts	 parts = { 0 };
	struct buf		 out;
	char			*path;
	size_t			 i;

	for (i = 0; i < sizeof bin; i++)
		bin[i] = (unsigned char)i;
	path = write_tmp("att.bin", bin, sizeof bin);
	d.from = "bob@example.org";
	d.to = "carol@example.org";
	d.subject = "files";
	d.body = "see attached\n";
	send_draft_attach(&d, path, "résumé.pdf", NULL);
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	cr_assert_not_null(strstr(b.msg.data,
	    "Content-Type: application/pdf\n"
	    "Content-Disposition: attachment;\n"
	    " filename*=utf-8''r%C3%A9sum%C3%A9.pdf\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
	    "LS4vMDEyMzQ1Njc4\n"), "%s", b.msg.data);
	cr_assert_not_null(strstr(b.msg.data, "Content-Type: multipart/mixed;"
	    "\n boundary=\"=_"));
	/* The MIME module reads the name and the bytes back. */
	cr_assert_eq(mime_parts_mem(b.msg.data, b.msg.len, &parts, &err), 0);
	for (i = 0; i < parts.n; i++)
		if (parts.v[i].name != NULL)
			break;
	cr_assert_lt(i, parts.n);
	cr_assert_str_eq(parts.v[i].name, "résumé.pdf");
	buf_init(&out);
	cr_assert_eq(mime_part_extract_mem(b.msg.data, b.msg.len,
	    parts.v[i].index, &out, &err), 0);
	cr_assert_eq(out.len, sizeof bin);
	cr_assert_eq(memcmp(out.data, bin, sizeof bin), 0);
	buf_free(&out);
	mime_parts_free(&parts);
	send_built_free(&b);
	d.from = d.to = d.subject = d.body = NULL;
	send_draft_free(&d);
	unlink(path);
	free(path);
}

Test(build, long_utf8_filename_uses_rfc2231_continuations)
{
	struct buf	b;
	char		name[200];

	strcpy(name, "");
	for (int i = 0; i < 12; i++)
		strcat(name, "été-");
	strcat(name, ".txt");
	buf_init(&b);
	send_rfc2231_param("filename", name, &b);
	cr_assert(strncmp(b.data, ";\n filename*0*=utf-8''", 21) == 0, "%s",
	    b.data);
	cr_assert_not_null(strstr(b.data, ";\n filename*1*="));
	buf_free(&b);
}

Test(build, bad_addresses_are_refused_with_the_address_named)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);

	d.from = "bob@example.org";
	d.to = "carol@example.org, dave.example.org";
	d.body = "x";
	cr_assert_eq(send_build(&d, &o, &b, &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_str_eq(err.msg, "bad address \"dave.example.org\": no @");
	d.to = "a..b@example.org";
	cr_assert_eq(send_build(&d, &o, &b, &err), -1);
	cr_assert_str_eq(err.msg, "bad address \"a..b@example.org\": "
	    "misplaced dot");
	d.to = "Carol <carol@>";
	cr_assert_eq(send_build(&d, &o, &b, &err), -1);
	cr_assert_str_eq(err.msg, "bad address \"carol@\": no domain after "
	    "the @");
	d.to = "";
	cr_assert_eq(send_build(&d, &o, &b, &err), -1);
	cr_assert_str_eq(err.msg, "no recipient: fill To, Cc or Bcc");
}

Test(build, bcc_is_in_the_envelope_only_and_utf8_address_is_flagged)
{
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct error		 err;
	unsigned		 seed;
	struct send_build_opts	 o = fixed_opts(&seed);

	d.from = "bob@example.org";
	d.to = "carol@example.org";
	d.bcc = "secret@example.org, CAROL@example.org, josé@exemple.fr";
	d.body = "x\n";
	cr_assert_eq(send_build(&d, &o, &b, &err), 0, "%s", err.msg);
	cr_assert_null(strstr(b.msg.data, "secret"));
	cr_assert_null(strstr(b.msg.data, "Bcc"));
	cr_assert_eq(b.nrcpt, 3);
	cr_assert_str_eq(b.rcpt[1], "secret@example.org");
	cr_assert_eq(b.utf8, 1);
	send_built_free(&b);
}

Test(build, message_ids_differ_with_the_real_random_source)
{
	struct send_draft	 d = { 0 };
	struct send_built	 a, b;
	struct error		 err;

	d.from = "bob@example.org";
	d.to = "carol@example.org";
	d.body = "x\n";
	cr_assert_eq(send_build(&d, NULL, &a, &err), 0);
	cr_assert_eq(send_build(&d, NULL, &b, &err), 0);
	cr_assert_str_neq(a.message_id, b.message_id);
	cr_assert(strstr(a.message_id, "@example.org>") != NULL);
	send_built_free(&a);
	send_built_free(&b);
}

Test(reply, strips_re_chains)
{
	cr_assert_str_eq(send_strip_reply("Re: RE: Fwd: re[2]: Aw: hello"),
	    "hello");
	cr_assert_str_eq(send_strip_reply("Reunion"), "Reunion");
	cr_assert_str_eq(send_strip_reply("Re:"), "");
}

static const char *original =
    "From: \"Martin, Alice\" <alice@example.com>\n"
    "To: Bob <bob@example.org>, dave@example.net\n"
    "Cc: bob.work@corp.example, eve@example.net\n"
    "Subject: Re: Re: =?utf-8?q?d=C3=A9jeuner?=\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
    "Message-ID: <m2@example.com>\n"
    "References: <m0@example.com>\n"
    " <m1@example.com>\n"
    "List-Post: <mailto:lunch@lists.example.com>\n"
    "\n"
    "Shall we meet?\n"
    "> earlier text\n";

Test(reply, reply_quotes_and_threads)
{
	struct send_identity	 ids[] = {
		{ "Bob <bob@example.org>", NULL },
		{ "Bob Work <bob.work@corp.example>", NULL },
	};
	struct send_draft	 d;
	struct error		 err;
	char			*path = write_tmp("orig.eml", original,
	    strlen(original));

	cr_assert_eq(send_reply_draft(path, SEND_REPLY, ids, 2, &d, &err), 0,
	    "%s", err.msg);
	cr_assert_str_eq(d.to, "\"Martin, Alice\" <alice@example.com>");
	cr_assert_null(d.cc);
	cr_assert_str_eq(d.subject, "Re: déjeuner");
	cr_assert_str_eq(d.in_reply_to, "<m2@example.com>");
	cr_assert_str_eq(d.references,
	    "<m0@example.com> <m1@example.com> <m2@example.com>");
	cr_assert_str_eq(d.from, "Bob <bob@example.org>");
	cr_assert_str_eq(d.body, "On Mon, 1 Jan 2024 10:00:00 +0000, "
	    "\"Martin, Alice\" <alice@example.com> wrote:\n"
	    "> Shall we meet?\n>> earlier text\n");
	send_draft_free(&d);
	unlink(path);
	free(path);
}

Test(reply, reply_all_leaves_us_out_and_list_reply_uses_list_post)
{
	struct send_identity	 ids[] = {
		{ "Me <me@elsewhere.example>", "^bob(\\.work)?@" },
	};
	struct send_draft	 d;
	struct error		 err;
	char			*path = write_tmp("orig2.eml", original,
	    strlen(original));

	cr_assert_eq(send_reply_draft(path, SEND_REPLY_ALL, ids, 1, &d, &err),
	    0);
	cr_assert_str_eq(d.to, "\"Martin, Alice\" <alice@example.com>");
	cr_assert_str_eq(d.cc, "dave@example.net, eve@example.net");
	send_draft_free(&d);
	cr_assert_eq(send_reply_draft(path, SEND_REPLY_LIST, ids, 1, &d, &err),
	    0);
	cr_assert_str_eq(d.to, "lunch@lists.example.com");
	send_draft_free(&d);
	unlink(path);
	free(path);
}

Test(reply, identity_is_the_one_the_message_was_sent_to)
{
	struct send_identity	 ids[] = {
		{ "Bob Home <bob@home.example>", NULL },
		{ "Bob Work <bob.work@corp.example>", "^bob\\.work@" },
	};
	struct send_draft	 d;
	struct error		 err;
	char			*path = write_tmp("orig3.eml", original,
	    strlen(original));

	cr_assert_eq(send_reply_draft(path, SEND_REPLY, ids, 2, &d, &err), 0);
	cr_assert_str_eq(d.from, "Bob Work <bob.work@corp.example>");
	send_draft_free(&d);
	cr_assert_eq(send_reply_draft(path, SEND_FORWARD, ids, 2, &d, &err),
	    0);
	cr_assert_str_eq(d.subject, "Fwd: déjeuner");
	cr_assert_null(d.in_reply_to);
	cr_assert_not_null(strstr(d.body, "Shall we meet?\n"));
	send_draft_free(&d);
	cr_assert_eq(send_reply_draft(path, SEND_FORWARD_ATTACH, ids, 2, &d,
	    &err), 0);
	cr_assert_eq(d.natt, 1);
	cr_assert_str_eq(d.att[0].type, "message/rfc822");
	send_draft_free(&d);
	unlink(path);
	free(path);
}

Test(reply, missing_list_post_is_a_clear_error)
{
	const char		*m = "From: a@b.example\nSubject: x\n\nbody\n";
	struct send_draft	 d;
	struct error		 err;
	char			*path = write_tmp("nolist.eml", m, strlen(m));

	cr_assert_eq(send_reply_draft(path, SEND_REPLY_LIST, NULL, 0, &d,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
	unlink(path);
	free(path);
}

Test(reply, editor_text_round_trips_and_rejects_unknown_headers)
{
	struct send_draft	 d = { 0 }, e = { 0 };
	struct buf		 b;
	struct error		 err;
	const char		*bad = "From: a@b.example\nX-Foo: 1\n\nbody\n";

	d.from = xstrdup("Bob <bob@example.org>");
	d.to = xstrdup("carol@example.org");
	d.subject = xstrdup("Hello");
	d.in_reply_to = xstrdup("<x@y>");
	d.body = xstrdup("Line one\n\nLine three\n");
	buf_init(&b);
	send_draft_to_text(&d, &b);
	cr_assert_eq(send_draft_from_text(b.data, b.len, &e, &err), 0);
	cr_assert_str_eq(e.from, d.from);
	cr_assert_str_eq(e.to, d.to);
	cr_assert_null(e.cc);
	cr_assert_str_eq(e.subject, "Hello");
	cr_assert_str_eq(e.in_reply_to, "<x@y>");
	cr_assert_str_eq(e.body, d.body);
	send_draft_free(&e);
	cr_assert_eq(send_draft_from_text(bad, strlen(bad), &e, &err), -1);
	cr_assert_eq(err.kind, ERR_CONFIG);
	cr_assert_not_null(strstr(err.msg, "line 2"));
	send_draft_free(&e);
	send_draft_free(&d);
	buf_free(&b);
}

Test(alias, mutt_aliases_expand_bare_names_recursively)
{
	const char		*text = "# friends\n"
	    "alias carol Carol Jones <carol@example.org>\n"
	    "alias -group work team carol, \\\n"
	    "  \"Martin, Alice\" <alice@example.com>\n"
	    "alias loop loop\n";
	struct send_aliases	*al;
	struct error		 err;
	char			*path = write_tmp("aliases", text, strlen(text));
	char			*s;

	cr_assert_eq(send_aliases_load(path, &al, &err), 0, "%s", err.msg);
	s = send_aliases_expand(al, "team, dave@example.org, nobody");
	cr_assert_str_eq(s, "Carol Jones <carol@example.org>, "
	    "\"Martin, Alice\" <alice@example.com>, dave@example.org, "
	    "nobody");
	free(s);
	s = send_aliases_expand(al, "loop");
	cr_assert_str_eq(s, "loop");
	free(s);
	send_aliases_free(&al);
	cr_assert_null(al);
	unlink(path);
	free(path);
	cr_assert_eq(send_aliases_load("/nonexistent/aliases", &al, &err), -1);
	cr_assert_eq(err.kind, ERR_NOTFOUND);
}

Test(alias, bad_line_names_file_and_line)
{
	const char		*text = "\nalias lonely\n";
	struct send_aliases	*al;
	struct error		 err;
	char			*path = write_tmp("aliases2", text, strlen(text));
	char			*want;

	cr_assert_eq(send_aliases_load(path, &al, &err), -1);
	xasprintf(&want, "%s:2: alias needs a name and an address", path);
	cr_assert_str_eq(err.msg, want);
	free(want);
	unlink(path);
	free(path);
}

Test(complete, alias_name_completes_the_last_address_only)
{
	const char		*text =
	    "alias carol Carol <carol@example.org>\n"
	    "alias team carol, dave@example.org\n"
	    "alias tess Tess <tess@example.org>\n";
	struct send_aliases	*al;
	struct send_completion	 c;
	struct error		 err;
	char			*path;

	path = write_tmp("aliases3", text, strlen(text));
	cr_assert_eq(send_aliases_load(path, &al, &err), 0, "%s", err.msg);
	send_complete_address("bob@example.org, ca", al, NULL, 0, &c);
	cr_assert_str_eq(c.text, "bob@example.org, carol");
	cr_assert_eq(c.ncand, 0);
	send_completion_clear(&c);
	/* Two aliases: what they share, and both listed. */
	send_complete_address("T", al, NULL, 0, &c);
	cr_assert_str_eq(c.text, "te");
	cr_assert_eq(c.ncand, 2);
	cr_assert_str_eq(c.cand[0], "team");
	cr_assert_str_eq(c.cand[1], "tess");
	send_completion_clear(&c);
	/* Nothing matches: the text stays. */
	send_complete_address("zed", al, NULL, 0, &c);
	cr_assert_null(c.text);
	cr_assert_eq(c.ncand, 0);
	send_aliases_free(&al);
	unlink(path);
	free(path);
}

Test(complete, known_addresses_match_a_word_of_the_name_or_the_address)
{
	char			*known[] = { "Alice Martin <alice@example.org>",
	    "Bob <bob@example.net>", "\"Martin, Zoé\" <zoe@example.org>" };
	struct send_completion	 c;

	send_complete_address("mart", NULL, known, 3, &c);
	cr_assert_null(c.text, "the matches share no start: text stays");
	cr_assert_eq(c.ncand, 2);
	cr_assert_str_eq(c.cand[0], "Alice Martin <alice@example.org>");
	send_completion_clear(&c);
	send_complete_address("x@y.org, bob@", NULL, known, 3, &c);
	cr_assert_str_eq(c.text, "x@y.org, Bob <bob@example.net>");
	send_completion_clear(&c);
	send_complete_address("zo", NULL, known, 3, &c);
	cr_assert_str_eq(c.text, "\"Martin, Zoé\" <zoe@example.org>");
	send_completion_clear(&c);
}

Test(complete, file_names_complete_with_a_slash_after_directories)
{
	char			 dir[] = "/tmp/facteur-complete.XXXXXX", *p;
	struct send_completion	 c;
	const char		*files[] = { "report-2025.pdf",
	    "report-2026.pdf", "photo.jpg" };
	size_t			 i;

	cr_assert_not_null(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		xasprintf(&p, "%s/%s", dir, files[i]);
		fclose(fopen(p, "w"));
		free(p);
	}
	xasprintf(&p, "%s/photos", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	free(p);

	xasprintf(&p, "%s/rep", dir);
	send_complete_file(p, &c);
	free(p);
	xasprintf(&p, "%s/report-202", dir);
	cr_assert_str_eq(c.text, p);
	cr_assert_eq(c.ncand, 2);
	cr_assert_str_eq(c.cand[1], "report-2026.pdf");
	free(p);
	send_completion_clear(&c);

	xasprintf(&p, "%s/report-2026", dir);
	send_complete_file(p, &c);
	free(p);
	xasprintf(&p, "%s/report-2026.pdf", dir);
	cr_assert_str_eq(c.text, p);
	free(p);
	send_completion_clear(&c);

	xasprintf(&p, "%s/photo", dir);
	send_complete_file(p, &c);
	cr_assert_null(c.text, "photo.jpg and photos/ share only photo");
	cr_assert_eq(c.ncand, 2);
	cr_assert_str_eq(c.cand[1], "photos/");
	free(p);
	send_completion_clear(&c);

	/* ~/ is $HOME, and stays written as ~/. */
	setenv("HOME", dir, 1);
	send_complete_file("~/pho", &c);
	cr_assert_str_eq(c.text, "~/photo");
	send_completion_clear(&c);
	send_complete_file("~/nothing", &c);
	cr_assert_null(c.text);
	cr_assert_eq(c.ncand, 0);

	for (i = 0; i < 3; i++) {
		xasprintf(&p, "%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	xasprintf(&p, "%s/photos", dir);
	rmdir(p);
	free(p);
	rmdir(dir);
}
