/*
 * The IMAP backend's protocol extensions against the private Dovecot of
 * tests/servers (run by tests/integration/run-imap-proto): QRESYNC on a
 * warm cache and while a folder is open, ESEARCH and plain SEARCH for the
 * order, a 20 MB download cancelled half way, and big messages fetched
 * part by part (the attachment only when asked); and scripted servers for
 * what Dovecot will not do (a lying ESEARCH, a stalled download, LOGIN
 * disabled, NOTIFY refused).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/xmalloc.h"
#include "mime/render.h"
#include "net/net.h"
#include "tests/integration/imaptest.h"
#include "tests/integration/mailtest.h"

/* --- fixtures ---------------------------------------------------------- */

/* Opens a view on folder and waits for the thread to load it. */
static struct view *
view_on(struct backend *be, const char *folder, unsigned flags)
{
	struct view	*v = NULL;
	struct error	 err;
	char		*q = imap_folder_query(folder);

	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, flags,
	    &v, &err), 0);
	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_loaded, folder, 15000),
	    "%s never loaded", folder);
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, flags,
	    &v, &err), 0);
	free(q);
	return (v);
}

/* Expunges uids of folder from a second connection. */
static void
peer_expunge(const char *folder, const uint32_t *uids, size_t n)
{
	struct mailimap_store_att_flags	*sf;
	struct mailimap_flag_list	*fl;
	struct mailimap_set		*set;
	mailimap			*s = imaptest_peer();
	size_t				 i;

	cr_assert_eq(mailimap_select(s, folder), MAILIMAP_NO_ERROR);
	set = mailimap_set_new_empty();
	for (i = 0; i < n; i++)
		mailimap_set_add_single(set, uids[i]);
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	cr_assert_eq(mailimap_uid_store(s, set, sf), MAILIMAP_NO_ERROR);
	cr_assert_eq(mailimap_uid_expunge(s, set), MAILIMAP_NO_ERROR);
	mailimap_store_att_flags_free(sf);
	mailimap_set_free(set);
	mailimap_logout(s);
	mailimap_free(s);
}

/* Forgets the transcript so far. */
static void
transcript_reset(void)
{
	pthread_mutex_lock(&imaptest_lock);
	buf_free(&imaptest_transcript);
	buf_init(&imaptest_transcript);
	pthread_mutex_unlock(&imaptest_lock);
}

/* Waits up to ms for the transcript to have s (work the background
   thread does after the first screen). */
static int
transcript_wait(const char *s, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (imaptest_transcript_has(s))
			return (1);
		usleep(20000);
	}
	return (imaptest_transcript_has(s));
}

/* Whether folder has uid. */
static int
has_uid(struct backend *be, const char *folder, uint32_t uid)
{
	struct imap_folder	*f;
	size_t			 i;
	int			 found = 0;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) != NULL) {
		found = imap_msg_find(f, uid) != NULL;
		for (i = 0; i < f->norder; i++)
			found += f->order[i] == uid;
	}
	pthread_mutex_unlock(&be->data_lock);
	return (found);
}

/* Opens folder with its summaries all fetched, then closes: a warm cache. */
static void
warm(const char *u, const char *folder)
{
	struct backend	*be = imaptest_open(u, "bob", "bobpw");
	struct view	*v = view_on(be, folder, 0);

	imap_backend_ops.close_view(&v);
	cr_assert(imaptest_wait(be, imaptest_filled, folder, 20000),
	    "%s filled", folder);
	imap_backend_ops.close(&be);
}

static void
proto_setup(void)
{
	imaptest_setup("test-imap-proto");
}

TestSuite(proto, .init = proto_setup, .fini = imaptest_teardown, .timeout = 60);

Test(proto, qresync_reopen_drops_exactly_the_expunged_and_fetches_nothing)
{
	struct backend		*be;
	struct view		*v;
	struct imap_stats	 st;
	const uint32_t		 gone[] = { 4, 9 };
	uint32_t		 uid;

	imaptest_deliver("Qr", 30, "qr", 0);
	warm(imaptest_url, "Qr");
	peer_expunge("Qr", gone, 2);
	transcript_reset();

	be = imaptest_open(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Qr", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 28);
	imap_backend_ops.close_view(&v);
	for (uid = 1; uid <= 30; uid++)
		cr_assert_eq(has_uid(be, "Qr", uid), uid == 4 || uid == 9 ?
		    0 : 2, "uid %u", uid);
	cr_assert(imaptest_filled(be, "Qr"),
	    "the other 28 summaries came from the cache");
	imap_get_stats(be, &st);
	cr_assert_eq(st.fetch_commands, 0, "no FETCH at all (%lu)",
	    st.fetch_commands);
	cr_assert_eq(st.fetch_responses, 0, "no FETCH response (%lu)",
	    st.fetch_responses);
	cr_assert(imaptest_transcript_has("ENABLE QRESYNC"));
	cr_assert(imaptest_transcript_has("QRESYNC ("), "SELECT with QRESYNC");
	cr_assert_not(imaptest_transcript_has("UID SORT"),
	    "the cached order held");
	imap_backend_ops.close(&be);
}

Test(proto, qresync_changed_flags_come_with_the_select)
{
	struct backend		*be;
	struct view		*v;
	struct imap_stats	 st;
	unsigned		 flags;

	imaptest_deliver("Qf", 10, "qf", 0);
	warm(imaptest_url, "Qf");
	imaptest_peer_flag("Qf", 3);

	be = imaptest_open(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Qf", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 10);
	imap_backend_ops.close_view(&v);
	pthread_mutex_lock(&be->data_lock);
	flags = imap_msg_find(imap_folder_find(be, "Qf"), 3)->flags;
	pthread_mutex_unlock(&be->data_lock);
	imap_get_stats(be, &st);
	cr_assert(flags & MSG_FLAGGED, "the flag set elsewhere is seen "
	    "(%lu FETCH, %lu responses)", st.fetch_commands,
	    st.fetch_responses);
	cr_assert_eq(st.fetch_commands, 0, "no FETCH command (%lu)",
	    st.fetch_commands);
	cr_assert_eq(st.fetch_responses, 1, "one FETCH, in the SELECT (%lu)",
	    st.fetch_responses);
	imap_backend_ops.close(&be);
}

/* Whether folder "Qo" is down to 8 rows. */
static int
down_to_8(struct backend *be, const void *arg)
{
	struct imap_folder	*f;
	int			 ok;

	pthread_mutex_lock(&be->data_lock);
	ok = (f = imap_folder_find(be, "Qo")) != NULL && f->norder == 8;
	pthread_mutex_unlock(&be->data_lock);
	return (ok);
}

Test(proto, qresync_expunges_by_another_client_apply_while_open)
{
	struct backend	*be;
	struct view	*v;
	const uint32_t	 gone[] = { 2, 3 };
	uint32_t	 uid;

	imaptest_deliver("Qo", 10, "qo", 0);
	warm(imaptest_url, "Qo");
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	v = view_on(be, "Qo", 0);
	imap_backend_ops.close_view(&v);
	usleep(300000);		/* let the thread enter IDLE */
	peer_expunge("Qo", gone, 2);
	cr_assert(imaptest_wait(be, down_to_8, NULL, 5000),
	    "the expunges arrive by IDLE");
	for (uid = 1; uid <= 10; uid++)
		cr_assert_eq(has_uid(be, "Qo", uid), uid == 2 || uid == 3 ?
		    0 : 2, "uid %u", uid);
	imap_backend_ops.close(&be);
}

Test(proto, without_qresync_the_uid_list_comparison_still_drops_expunged)
{
	struct backend	*be;
	struct view	*v;
	const uint32_t	 gone[] = { 2, 5 };
	uint32_t	 uid;
	char		*u;

	xasprintf(&u, "imaps://%s:%s", mailtest_env("MAILTEST_HOST"),
	    mailtest_env("OLDCAP_IMAPS_PORT"));
	imaptest_deliver("Qold", 10, "qold", 0);
	warm(u, "Qold");
	peer_expunge("Qold", gone, 2);
	transcript_reset();
	be = imaptest_open(u, "bob", "bobpw");
	v = view_on(be, "Qold", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 8);
	imap_backend_ops.close_view(&v);
	for (uid = 1; uid <= 10; uid++)
		cr_assert_eq(has_uid(be, "Qold", uid), uid == 2 || uid == 5 ?
		    0 : 2, "uid %u", uid);
	cr_assert_not(imaptest_transcript_has("QRESYNC"));
	cr_assert(transcript_wait("UID SEARCH ALL", 10000), "plain SEARCH");
	cr_assert_not(imaptest_transcript_has("RETURN"), "no ESEARCH asked");
	imap_backend_ops.close(&be);
	free(u);
}

Test(proto, esearch_gives_the_order_when_sort_is_not_offered)
{
	struct backend		*be;
	struct view		*v;
	struct summary_batch	 b;
	struct error		 err;
	const uint32_t		 gone[] = { 5, 6 };
	size_t			 i;
	uint32_t		 uv, uid, prev = UINT32_MAX;
	char			*folder;

	imaptest_deliver("Es", 12, "es", 0);
	peer_expunge("Es", gone, 2);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	imap_conn_acquire(be);
	be->cap_sort = 0;	/* Dovecot has both: take SORT away */
	imap_conn_release(be);
	v = view_on(be, "Es", 0);
	cr_assert_eq(imap_backend_ops.view_count(v), 10);
	summary_batch_init(&b);
	cr_assert_eq(imap_backend_ops.view_next(v, 10, &b, &err), 10);
	for (i = 0; i < b.n; i++) {
		cr_assert_eq(imap_id_parse(b.v[i].id, &uv, &uid, &folder), 0);
		free(folder);
		cr_assert_lt(uid, prev, "newest UID first");
		cr_assert(uid != 5 && uid != 6);
		prev = uid;
	}
	cr_assert_str_eq(b.v[0].subject, "es 11");
	cr_assert(transcript_wait("UID SEARCH RETURN (ALL) ALL", 10000));
	cr_assert_not(imaptest_transcript_has("UID SORT"));
	/* The session is still in step after the raw command. */
	cr_assert_eq(imap_backend_ops.fetch_message(be, b.v[0].id, &folder,
	    &err), 0, "%s", err.msg);
	free(folder);
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	imap_backend_ops.close(&be);
}

/* --- big messages --------------------------------------------------- */

/* Writes a message file into folder's Maildir, owned as Dovecot wants. */
static void
deliver_file(const char *folder, const char *name, const char *head,
    const char *body, size_t len)
{
	char	*dir, *sub, *path;
	FILE	*f;
	int	 i, uid = atoi(mailtest_env("MAIL_UID")),
		 gid = atoi(mailtest_env("MAIL_GID"));

	xasprintf(&dir, "%s/.%s", mailtest_env("MAILDIR_BOB"), folder);
	mkdir(dir, 0700);
	cr_assert_eq(chown(dir, uid, gid), 0);
	for (i = 0; i < 3; i++) {
		xasprintf(&sub, "%s/%s", dir, i == 0 ? "cur" : i == 1 ?
		    "new" : "tmp");
		mkdir(sub, 0700);
		cr_assert_eq(chown(sub, uid, gid), 0);
		free(sub);
	}
	xasprintf(&path, "%s/cur/%s:2,S", dir, name);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs(head, f);
	cr_assert_eq(fwrite(body, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chown(path, uid, gid), 0);
	free(path);
	free(dir);
}

/* n bytes of base64 lines (76 columns, CRLF) of pseudo-random data;
   *raw gets the data itself. */
static char *
base64_lines(size_t n, unsigned char **raw, size_t *len)
{
	static const char	 a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char		*d = xmalloc(n);
	struct buf		 b;
	uint32_t		 x = 12345;
	size_t			 i, col = 0;
	unsigned		 v;

	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		d[i] = (unsigned char)(x >> 16);
	}
	buf_init(&b);
	for (i = 0; i < n; i += 3) {
		v = (unsigned)d[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		buf_addc(&b, a[(v >> 18) & 63]);
		buf_addc(&b, a[(v >> 12) & 63]);
		buf_addc(&b, i + 1 < n ? a[(v >> 6) & 63] : '=');
		buf_addc(&b, i + 2 < n ? a[v & 63] : '=');
		if ((col += 4) == 76) {
			buf_adds(&b, "\r\n");
			col = 0;
		}
	}
	if (col > 0)
		buf_adds(&b, "\r\n");
	*raw = d;
	*len = b.len;
	return (buf_steal(&b));
}

/* The id of the row of folder whose subject is subject. */
static char *
row_id(struct backend *be, const char *folder, const char *subject)
{
	struct summary_batch	 b;
	struct error		 err;
	struct view		*v = view_on(be, folder, 0);
	char			*id = NULL;
	size_t			 i;

	summary_batch_init(&b);
	cr_assert_geq(imap_backend_ops.view_next(v, 100, &b, &err), 1);
	for (i = 0; i < b.n; i++) {
		if (strcmp(b.v[i].subject, subject) == 0)
			id = xstrdup(b.v[i].id);
	}
	summary_batch_free(&b);
	imap_backend_ops.close_view(&v);
	cr_assert_not_null(id, "no row \"%s\"", subject);
	return (id);
}

/* Files in the cache directory whose name ends with suffix. */
static int
cache_files(const char *suffix)
{
	struct dirent	*de;
	char		*dir;
	DIR		*d;
	size_t		 n = strlen(suffix), l;
	int		 count = 0;

	xasprintf(&dir, "%s/test", imaptest_cache_dir);
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			l = strlen(de->d_name);
			if (l >= n && strcmp(de->d_name + l - n, suffix) == 0)
				count++;
		}
		closedir(d);
	}
	free(dir);
	return (count);
}

/* Sets *cancel once a download has put its first bytes in a .tmp file. */
struct canceller {
	volatile int	 cancel;
	volatile int	 stop;
	off_t		 seen;
	pthread_t	 thread;
};

static void *
canceller_run(void *arg)
{
	struct canceller	*c = arg;
	struct dirent		*de;
	struct stat		 sb;
	char			*dir, *path;
	DIR			*d;
	int			 i;

	xasprintf(&dir, "%s/test", imaptest_cache_dir);
	for (i = 0; i < 30000 && !c->stop && !c->cancel; i++) {
		if ((d = opendir(dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				if (strstr(de->d_name, ".tmp") == NULL)
					continue;
				xasprintf(&path, "%s/%s", dir, de->d_name);
				if (stat(path, &sb) == 0 && sb.st_size > 0) {
					c->seen = sb.st_size;
					c->cancel = 1;
				}
				free(path);
			}
			closedir(d);
		}
		usleep(500);
	}
	free(dir);
	return (NULL);
}

Test(proto, a_cancelled_20mb_download_leaves_nothing_and_the_next_works,
    .timeout = 120)
{
	struct backend		*be;
	struct imap_stats	 st0, st1;
	struct error		 err;
	struct canceller	 c;
	struct stat		 sb;
	unsigned char		*raw;
	char			*body, *big, *small, *path = NULL;
	const char		*head = "From: a@example.org\r\n"
				    "Subject: huge\r\nMIME-Version: 1.0\r\n"
				    "Content-Type: application/octet-stream\r\n"
				    "Content-Transfer-Encoding: base64\r\n\r\n";
	size_t			 len;

	body = base64_lines(15 * 1024 * 1024, &raw, &len);
	cr_assert_gt(len, 20 * 1000 * 1000);
	deliver_file("Big", "1700000001.M1P1.big", head, body, len);
	deliver_file("Big", "1700000002.M2P1.big",
	    "From: a@example.org\r\nSubject: small\r\n\r\n", "hi\r\n", 4);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	big = row_id(be, "Big", "huge");
	small = row_id(be, "Big", "small");

	memset(&c, 0, sizeof c);
	cr_assert_eq(pthread_create(&c.thread, NULL, canceller_run, &c), 0);
	cr_assert_not_null(imap_backend_ops.fetch_message_cancel);
	imap_get_stats(be, &st0);
	cr_assert_eq(imap_backend_ops.fetch_message_cancel(be, big, &path,
	    &c.cancel, &err), -1, "the download was not cancelled");
	c.stop = 1;
	pthread_join(c.thread, NULL);
	cr_assert_eq(err.kind, ERR_CANCELLED, "%s", err.msg);
	cr_assert_gt(c.seen, 0, "cancelled after the first bytes");
	cr_assert_lt(c.seen, (off_t)len, "cancelled before the end");
	cr_assert_eq(cache_files(".eml"), 0, "no message file cached");
	cr_assert_eq(cache_files(".tmp"), 0, "no partial file left");

	/* The next operations work, on a new connection. */
	cr_assert_eq(imap_backend_ops.fetch_message(be, small, &path, &err),
	    0, "%s", err.msg);
	free(path);
	cr_assert_eq(imap_backend_ops.fetch_message(be, big, &path, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq((size_t)sb.st_size, strlen(head) + len);
	free(path);
	imap_get_stats(be, &st1);
	cr_assert_gt(st1.connects, st0.connects, "reconnected");
	free(big);
	free(small);
	free(body);
	free(raw);
	imap_backend_ops.close(&be);
}

/* Reads a whole file. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf	 b;
	char		 chunk[65536];
	size_t		 n;
	FILE		*f;

	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return (buf_steal(&b));
}

Test(proto, a_big_attachment_is_fetched_only_when_asked, .timeout = 120)
{
	struct backend		*be;
	struct error		 err;
	struct buf		 msg, got;
	struct mime_parts	 parts;
	unsigned char		*raw;
	char			*b64, *id, *path = NULL, *path2 = NULL;
	char			*sidecar, *text;
	size_t			 len, rawlen = 5 * 1024 * 1024, flen;

	b64 = base64_lines(rawlen, &raw, &len);
	buf_init(&msg);
	buf_adds(&msg, "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\nHello Bob, the blob is attached.\r\n"
	    "--sep\r\nContent-Type: application/octet-stream; name=blob.bin"
	    "\r\nContent-Disposition: attachment; filename=blob.bin\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	buf_add(&msg, b64, len);
	buf_adds(&msg, "--sep--\r\n");
	deliver_file("Att", "1700000003.M3P1.att", "From: a@example.org\r\n"
	    "Subject: with blob\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=sep\r\n\r\n",
	    msg.data, msg.len);
	buf_free(&msg);
	be = imaptest_open(imaptest_url, "bob", "bobpw");
	id = row_id(be, "Att", "with blob");

	transcript_reset();
	cr_assert_eq(imap_backend_ops.fetch_message(be, id, &path, &err), 0,
	    "%s", err.msg);
	text = slurp(path, &flen);
	cr_assert_lt(flen, 64 * 1024, "the attachment stayed on the server "
	    "(%zu bytes cached)", flen);
	cr_assert_not_null(strstr(text, "the blob is attached"),
	    "the text part is there at once");
	cr_assert_not(imaptest_transcript_has("BODY.PEEK[2]"));
	cr_assert_not(imaptest_transcript_has("BODY.PEEK[]"));
	free(text);
	xasprintf(&sidecar, "%s%s", path, BACKEND_PARTS_SUFFIX);
	text = slurp(sidecar, &flen);
	cr_assert_not_null(strstr(text, "\nmissing 2 2 "), "%s", text);
	cr_assert_not_null(strstr(text, "\naccount test\n"), "%s", text);
	free(text);
	cr_assert_eq(mime_parts_file(path, &parts, &err), 0);
	cr_assert_eq(parts.n, 2);
	cr_assert_str_eq(parts.v[1].name, "blob.bin");
	mime_parts_free(&parts);

	/* Saving it: exactly that section, spliced in; the bytes equal. */
	cr_assert_not_null(imap_backend_ops.fetch_part);
	cr_assert_eq(imap_backend_ops.fetch_part(be, id, "2", &path2, NULL,
	    &err), 0, "%s", err.msg);
	cr_assert_str_eq(path2, path);
	cr_assert(imaptest_transcript_has("BODY.PEEK[2]"));
	cr_assert_not(imaptest_transcript_has("BODY.PEEK[]"));
	cr_assert_eq(access(sidecar, F_OK), -1, "nothing is missing now");
	buf_init(&got);
	cr_assert_eq(mime_part_extract_file(path, 2, &got, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(got.len, rawlen);
	cr_assert(memcmp(got.data, raw, rawlen) == 0, "the saved bytes "
	    "equal the original");
	buf_free(&got);
	buf_init(&got);
	cr_assert_eq(mime_part_extract_file(path, 1, &got, &err), 0);
	cr_assert_not_null(strstr(buf_str(&got), "the blob is attached"));
	buf_free(&got);
	free(sidecar);
	free(path);
	free(path2);
	free(id);
	free(b64);
	free(raw);
	imap_backend_ops.close(&be);
}

/* --- scripted servers, for what Dovecot will not do ------------------ */

/* Reads one line from fd into line (NUL-terminated, CRLF kept). */
static int
script_line(int fd, char *line, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1)
			return (-1);
		line[n++] = c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return (0);
}

/* A scripted server's canned answer: to a line holding needle, fmt
   (which takes the command's tag once). */
struct canned {
	const char	*needle;
	const char	*fmt;
};

/* Writes into out the answer of the first entry of c (ended by a NULL
   needle) that line holds, else a plain OK. */
static void
script_canned(const struct canned *c, const char *line, const char *tag,
    char *out, size_t size)
{
	for (; c->needle != NULL; c++) {
		if (strstr(line, c->needle) != NULL) {
			snprintf(out, size, c->fmt, tag);
			return;
		}
	}
	snprintf(out, size, "%s OK done\r\n", tag);
}

/* Writes s to fd; -1 when the client is gone. */
static int
script_say(int fd, const char *s)
{
	return (write(fd, s, strlen(s)) == -1 ? -1 : 0);
}

/* What a scripted server does with one command line: its answer into
   out (or written on fd itself); -1 hangs up. */
typedef int	(*script_answer)(int fd, const char *line, const char *tag,
		    char *out, size_t size, void *state);

/* Serves connection after connection until killed: the greeting, then
   each command line's answer. */
static void
script_serve(int lfd, const char *greeting, script_answer answer,
    void *state)
{
	char	line[1024], tag[64], out[512];
	int	fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(0);
		if (script_say(fd, greeting) == 0) {
			while (script_line(fd, line, sizeof line) == 0 &&
			    sscanf(line, "%63s", tag) == 1) {
				out[0] = '\0';
				if (answer(fd, line, tag, out, sizeof out,
				    state) != 0 || script_say(fd, out) != 0)
					break;
			}
		}
		close(fd);
	}
}

/* Serves connections: ESEARCH offered, no SORT; SEARCH RETURN answers
   a range of four billion UIDs for a folder of one message; with stall,
   a message download sends ten bytes of its literal and stops. */
static int
liar_answer(int fd, const char *line, const char *tag, char *out,
    size_t size, void *stall)
{
	static const struct canned replies[] = {
		{ " SELECT ", "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n"
		    "%s OK [READ-WRITE] done\r\n" },
		{ "SEARCH RETURN", "* ESEARCH (TAG \"%1$s\") UID ALL "
		    "1:4294967294\r\n%1$s OK done\r\n" },
		{ " CAPABILITY", "* CAPABILITY IMAP4rev1 ESEARCH\r\n"
		    "%s OK done\r\n" },
		{ " STATUS ", "* STATUS INBOX (MESSAGES 1 UNSEEN 1)\r\n"
		    "%s OK done\r\n" },
		{ " LIST ", "* LIST () \"/\" INBOX\r\n%s OK done\r\n" },
		{ NULL, NULL }
	};
	char	c;

	if (*(int *)stall && strstr(line, "BODY.PEEK[]") != NULL) {
		if (script_say(fd, "* 1 FETCH (UID 1 BODY[] {100000}\r\n"
		    "0123456789") == 0)
			while (read(fd, &c, 1) == 1)	/* until it hangs up */
				;
		return (-1);
	}
	script_canned(replies, line, tag, out, size);
	return (0);
}

/* Runs the liar; arg says whether to stall. */
static void
liar_run(int lfd, const void *arg)
{
	int	stall = *(const int *)arg;

	script_serve(lfd, "* OK [CAPABILITY IMAP4rev1 ESEARCH] liar\r\n",
	    liar_answer, &stall);
}

/* Starts the scripted server; returns its imap:// URL. */
static char *
liar_start(int stall, pid_t *pid)
{
	return (imaptest_scripted(liar_run, &stall, pid));
}

Test(proto, an_esearch_range_larger_than_the_folder_is_refused)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	struct timespec		 t0, t1;
	pid_t			 pid;
	char			*u = liar_start(0, &pid);
	int			 r;

	p = imaptest_params(u, "bob", "bobpw");
	p.tls = "off";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	imap_conn_acquire(be);
	if (be->s == NULL)
		cr_assert_eq(imap_connect(be, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = imap_folder_sync(be, "INBOX", &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	imap_conn_release(be);
	cr_assert_eq(r, -1);
	cr_assert_eq(err.kind, ERR_PROTO, "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "ESEARCH"), "%s", err.msg);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 2, "refused before expanding it");
	imap_backend_ops.close(&be);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(u);
}

/* Sets the flag after 300 ms. */
static void *
cancel_later(void *arg)
{
	usleep(300000);
	*(volatile int *)arg = 1;
	return (NULL);
}

Test(proto, a_download_stalled_by_the_server_is_cancelled_at_once)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	struct timespec		 t0, t1;
	pthread_t		 t;
	volatile int		 cancel = 0;
	pid_t			 pid;
	char			*u = liar_start(1, &pid), *path = NULL;

	p = imaptest_params(u, "bob", "bobpw");
	p.tls = "off";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(pthread_create(&t, NULL, cancel_later, (void *)&cancel),
	    0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(imap_backend_ops.fetch_message_cancel(be, "7.1.INBOX",
	    &path, &cancel, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pthread_join(t, NULL);
	cr_assert_eq(err.kind, ERR_CANCELLED, "%s", err.msg);
	cr_assert_lt(t1.tv_sec - t0.tv_sec, 3, "cancelled while the server "
	    "said nothing, not after the network timeout");
	cr_assert_eq(cache_files(".tmp"), 0, "no partial file left");
	cr_assert_eq(cache_files(".eml"), 0);
	imap_backend_ops.close(&be);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(u);
}

/*
 * A server with LOGINDISABLED and only AUTH=LOGIN, as some do over plain
 * text: the LOGIN command is refused; AUTHENTICATE LOGIN asks for the
 * user and the password (base64) in two challenges.
 */
static int
sasl_answer(int fd, const char *line, const char *tag, char *out,
    size_t size, void *state)
{
	static const struct canned replies[] = {
		{ " LOGIN ", "%s NO LOGIN is disabled\r\n" },
		{ " LIST ", "* LIST () \"/\" INBOX\r\n%s OK done\r\n" },
		{ NULL, NULL }
	};
	char	reply[1024];
	int	ok;

	if (strstr(line, " AUTHENTICATE LOGIN") == NULL) {
		script_canned(replies, line, tag, out, size);
		return (0);
	}
	if (script_say(fd, "+ VXNlcm5hbWU6\r\n") != 0 ||
	    script_line(fd, reply, sizeof reply) != 0)
		return (-1);
	ok = strcmp(reply, "Ym9i\r\n") == 0;
	if (script_say(fd, "+ UGFzc3dvcmQ6\r\n") != 0 ||
	    script_line(fd, reply, sizeof reply) != 0)
		return (-1);
	ok = ok && strcmp(reply, "Ym9icHc=\r\n") == 0;
	snprintf(out, size, ok ? "%s OK [CAPABILITY IMAP4rev1] in\r\n" :
	    "%s NO [AUTHENTICATIONFAILED] no\r\n", tag);
	return (0);
}

static void
sasl_serve(int lfd, const void *arg)
{
	script_serve(lfd, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED "
	    "AUTH=LOGIN] sasl\r\n", sasl_answer, NULL);
}

Test(proto, login_disabled_logs_in_by_authenticate_login_and_keeps_it_private)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct error		 err;
	pid_t			 pid;
	char			*u = imaptest_scripted(sasl_serve, NULL, &pid);

	p = imaptest_params(u, "bob", "bobpw");
	p.tls = "off";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	imap_backend_ops.close(&be);
	/* The LOGIN command would have been refused; the challenges'
	   answers (base64 of "bob", "bobpw") never reach the log. */
	cr_assert(imaptest_transcript_has("S: + VXNlcm5hbWU6") &&
	    imaptest_transcript_has("S: + UGFzc3dvcmQ6"),
	    "the server's two AUTHENTICATE LOGIN challenges were answered");
	cr_assert_not(imaptest_transcript_has("Ym9icHc"));
	cr_assert_not(imaptest_transcript_has("bobpw"));

	p = imaptest_params(u, "bob", "not-bobpw");
	p.tls = "off";
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_AUTH, "%s", err.msg);
	cr_assert_null(be);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(u);
}

/*
 * A server that offers NOTIFY and IDLE but refuses NOTIFY SET, as one
 * with a limit on notifications may: the counts of the other folder
 * must then be polled (one STATUS every poll interval). Each STATUS of
 * "Other" answers one message more than the last, so the folder list
 * shows how many polls there have been.
 */
struct refuser {
	unsigned	polls;		/* STATUS of Other so far */
	char		idle[64];	/* the IDLE's tag */
};

static int
refuser_answer(int fd, const char *line, const char *tag, char *out,
    size_t size, void *state)
{
	static const struct canned replies[] = {
		{ " NOTIFY SET ", "%s NO [NOTIFICATIONOVERFLOW] not for "
		    "you\r\n" },
		{ " STATUS ", "* STATUS INBOX (MESSAGES 0 UNSEEN 0)\r\n"
		    "%s OK done\r\n" },
		{ " SELECT ", "* 0 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n"
		    "%s OK [READ-WRITE] done\r\n" },
		{ " CAPABILITY", "* CAPABILITY IMAP4rev1 IDLE NOTIFY\r\n"
		    "%s OK done\r\n" },
		{ " LIST ", "* LIST () \"/\" INBOX\r\n* LIST () \"/\" "
		    "Other\r\n%s OK done\r\n" },
		{ NULL, NULL }
	};
	struct refuser	*r = state;

	if (strcmp(line, "DONE\r\n") == 0)
		snprintf(out, size, "%s OK idled\r\n", r->idle);
	else if (strstr(line, " IDLE") != NULL) {
		snprintf(r->idle, sizeof r->idle, "%s", tag);
		snprintf(out, size, "+ idling\r\n");
	} else if (strstr(line, " STATUS ") != NULL &&
	    strstr(line, "Other") != NULL)
		snprintf(out, size, "* STATUS Other (MESSAGES %u UNSEEN 1)\r\n"
		    "%s OK done\r\n", ++r->polls, tag);
	else
		script_canned(replies, line, tag, out, size);
	return (0);
}

static void
refuser_serve(int lfd, const void *arg)
{
	struct refuser	r;

	memset(&r, 0, sizeof r);
	script_serve(lfd, "* OK [CAPABILITY IMAP4rev1 IDLE NOTIFY] "
	    "refuser\r\n", refuser_answer, &r);
}

/* Whether the folder list shows at least arg (an unsigned long) messages
   in "Other". */
static int
other_total_at_least(struct backend *be, const void *arg)
{
	struct folder_info	fi;

	return (imaptest_folder(be, "Other", &fi) &&
	    fi.total >= *(const unsigned long *)arg);
}

Test(proto, a_refused_notify_falls_back_to_polling_the_counts)
{
	struct backend_params	 p;
	struct backend		*be = NULL;
	struct view		*v = NULL;
	struct error		 err;
	unsigned long		 three = 3;
	pid_t			 pid;
	char			*u = imaptest_scripted(refuser_serve, NULL, &pid);
	char			*q, *t, *s;
	int			 sets = 0;

	p = imaptest_params(u, "bob", "bobpw");
	p.tls = "off";
	p.poll_secs = 1;
	cr_assert_eq(imap_backend_ops.open(&be, &p, &err), 0, "%s", err.msg);
	q = imap_folder_query("INBOX");
	cr_assert_eq(imap_backend_ops.open_view(be, q, VIEW_NEWEST_FIRST, 0,
	    &v, &err), 0, "%s", err.msg);
	imap_backend_ops.close_view(&v);
	free(q);
	/* Three polls (one a second) within 15 s, room for a loaded
	   machine: the refusal did not leave us in an IDLE of half an hour
	   with no count coming. */
	if (!imaptest_wait(be, other_total_at_least, &three, 15000)) {
		t = imaptest_transcript_copy();
		cr_assert_fail("the counts were not polled:\n%s", t);
	}
	t = imaptest_transcript_copy();
	for (s = t; (s = strstr(s, "NOTIFY SET")) != NULL; s++)
		sets++;
	cr_assert_eq(sets, 1, "NOTIFY asked once, not again after its "
	    "refusal:\n%s", t);
	cr_assert(imaptest_transcript_has(" IDLE"), "still IDLEs on INBOX");
	free(t);
	imap_backend_ops.close(&be);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(u);
}
