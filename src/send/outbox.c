/*
 * The outbox: a Maildir (by default $XDG_DATA_HOME/facteur/outbox) whose
 * messages wait in new/, each with a sidecar file in .meta/ holding its
 * envelope, state, attempts and last error. Every write is fsync'd, file
 * and directory, before the next step, so a crash leaves each message
 * either still in the outbox or sent and recorded.
 *
 * The one duplicate window: a crash after the server's 250 for DATA and
 * before the state "sent" reached the disk (one small file written and
 * renamed) sends the message again on the next flush.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "mime/decode.h"
#include "send/send.h"

#define OUTBOX_MAX_MSG	(256 * 1024 * 1024)

int outbox_crash_at;

struct outbox {
	char	*dir;
	char	*account;	/* owner of what we add; flush filter */
	unsigned seq;
};

/* Exits at the given step of a flush when the test hook asks for it. */
static void
outbox_step(int n)
{
	if (outbox_crash_at == n)
		_exit(99);
}

const char *
outbox_state_name(enum outbox_state s)
{
	switch (s) {
	case OUTBOX_QUEUED:
		return ("queued");
	case OUTBOX_SENDING:
		return ("sending");
	case OUTBOX_SENT:
		return ("sent");
	case OUTBOX_DEFERRED:
		return ("deferred");
	case OUTBOX_FAILED:
		return ("failed");
	}
	return ("?");
}

time_t
outbox_backoff(unsigned n)
{
	time_t	t = 60;

	while (n-- > 1 && t < 3600)
		t *= 2;
	return (t > 3600 ? 3600 : t);
}

/* mkdir -p with mode 0700 for what we create. */
static int
outbox_mkdirs(const char *path, struct error *err)
{
	char	*p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		goto fail;
	free(p);
	return (0);
fail:
	error_set(err, ERR_IO, "%s: %s", p, strerror(errno));
	free(p);
	return (-1);
}

/* fsyncs a directory so a rename or unlink in it is durable. */
static int
outbox_sync_dir(const char *dir)
{
	int	fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	r = fsync(fd);
	close(fd);
	return (r);
}

struct outbox *
outbox_open(const char *dir, struct error *err)
{
	struct outbox	*ob;
	const char	*base, *home;
	char		*path, *sub;
	static const char *subs[] = { "tmp", "new", "cur", ".meta" };
	size_t		 i;

	if (dir != NULL)
		path = xstrdup(dir);
	else if ((base = getenv("XDG_DATA_HOME")) != NULL && *base == '/')
		xasprintf(&path, "%s/facteur/outbox", base);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		xasprintf(&path, "%s/.local/share/facteur/outbox", home);
	else {
		error_set(err, ERR_CONFIG, "no HOME for the outbox");
		return (NULL);
	}
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		xasprintf(&sub, "%s/%s", path, subs[i]);
		if (outbox_mkdirs(sub, err) != 0) {
			free(sub);
			free(path);
			return (NULL);
		}
		free(sub);
	}
	ob = xcalloc(1, sizeof *ob);
	ob->dir = path;
	return (ob);
}

void
outbox_free(struct outbox **obp)
{
	if (*obp == NULL)
		return;
	free((*obp)->dir);
	free((*obp)->account);
	free(*obp);
	*obp = NULL;
}

const char *
outbox_dir(const struct outbox *ob)
{
	return (ob->dir);
}

void
outbox_set_account(struct outbox *ob, const char *name)
{
	free(ob->account);
	ob->account = name != NULL ? xstrdup(name) : NULL;
}

/* Writes data to dir/tmp-name, fsyncs, renames to final, fsyncs dir. */
static int
outbox_write_file(const char *tmp, const char *final, const char *dir,
    const char *data, size_t len, int durable, struct error *err)
{
	int	fd;
	size_t	off = 0;
	ssize_t	n;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return (error_set(err, ERR_IO, "%s: %s", tmp,
		    strerror(errno)));
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += n;
	}
	if (durable && fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, final) != 0)
		goto fail;
	if (durable && outbox_sync_dir(dir) != 0)
		goto fail;
	return (0);
fail:
	error_set(err, ERR_IO, "%s: %s", final, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return (-1);
}

/*
 * Writes the sidecar of e, durably unless the state is only advice (the
 * "sending" mark: a crash then leaves "queued", which means the same).
 */
static int
outbox_write_meta(struct outbox *ob, const struct outbox_entry *e,
    struct error *err)
{
	struct buf	 b;
	char		*tmp, *final, *dir, *line;
	size_t		 i;
	int		 r;

	buf_init(&b);
	buf_addf(&b, "state %s\nattempts %u\nnext %lld\nutf8 %d\n",
	    outbox_state_name(e->state), e->attempts,
	    (long long)e->next_try, e->utf8);
	if (e->error != NULL) {
		line = xstrdup(e->error);
		line[strcspn(line, "\n")] = '\0';
		buf_addf(&b, "error %s\n", line);
		free(line);
	}
	if (e->account != NULL)
		buf_addf(&b, "account %s\n", e->account);
	buf_addf(&b, "from %s\n", e->from != NULL ? e->from : "");
	for (i = 0; i < e->nrcpt; i++)
		buf_addf(&b, "rcpt %s\n", e->rcpt[i]);
	xasprintf(&dir, "%s/.meta", ob->dir);
	xasprintf(&tmp, "%s/.meta/.%s.tmp", ob->dir, e->id);
	xasprintf(&final, "%s/.meta/%s", ob->dir, e->id);
	r = outbox_write_file(tmp, final, dir, buf_str(&b), b.len,
	    e->state != OUTBOX_SENDING, err);
	free(dir);
	free(tmp);
	free(final);
	buf_free(&b);
	return (r);
}

/* The Subject of the message file, decoded, or "". */
static char *
outbox_subject(const char *path)
{
	FILE	*f;
	char	*line = NULL, *raw = NULL, *s;
	size_t	 cap = 0;
	ssize_t	 n;

	if ((f = fopen(path, "re")) == NULL)
		return (xstrdup(""));
	while ((n = getline(&line, &cap, f)) > 1) {
		line[strcspn(line, "\r\n")] = '\0';
		if (raw != NULL && (line[0] == ' ' || line[0] == '\t')) {
			s = raw;
			xasprintf(&raw, "%s%s", s, line);
			free(s);
		} else if (raw != NULL)
			break;
		else if (strncasecmp(line, "Subject:", 8) == 0)
			raw = xstrdup(line + 8);
	}
	free(line);
	fclose(f);
	s = mime_decode_header(raw != NULL ? raw : "");
	free(raw);
	return (s);
}

/* Reads the sidecar for id into e (envelope missing: FAILED). */
static void
outbox_read_meta(struct outbox *ob, struct outbox_entry *e)
{
	FILE		*f;
	char		*path, *line = NULL;
	size_t		 cap = 0;
	ssize_t		 n;

	xasprintf(&path, "%s/.meta/%s", ob->dir, e->id);
	f = fopen(path, "re");
	free(path);
	if (f == NULL) {
		e->state = OUTBOX_FAILED;
		e->error = xstrdup("its envelope is missing: edit and send "
		    "it again");
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (strncmp(line, "state ", 6) == 0) {
			const char	*s = line + 6;

			e->state = strcmp(s, "sending") == 0 ? OUTBOX_SENDING :
			    strcmp(s, "sent") == 0 ? OUTBOX_SENT :
			    strcmp(s, "deferred") == 0 ? OUTBOX_DEFERRED :
			    strcmp(s, "failed") == 0 ? OUTBOX_FAILED :
			    OUTBOX_QUEUED;
		} else if (strncmp(line, "attempts ", 9) == 0)
			e->attempts = strtoul(line + 9, NULL, 10);
		else if (strncmp(line, "next ", 5) == 0)
			e->next_try = strtoll(line + 5, NULL, 10);
		else if (strncmp(line, "utf8 ", 5) == 0)
			e->utf8 = atoi(line + 5);
		else if (strncmp(line, "error ", 6) == 0) {
			free(e->error);
			e->error = xstrdup(line + 6);
		} else if (strncmp(line, "account ", 8) == 0) {
			free(e->account);
			e->account = xstrdup(line + 8);
		} else if (strncmp(line, "from ", 5) == 0) {
			free(e->from);
			e->from = xstrdup(line + 5);
		} else if (strncmp(line, "rcpt ", 5) == 0) {
			e->rcpt = xreallocarray(e->rcpt, e->nrcpt + 2,
			    sizeof *e->rcpt);
			e->rcpt[e->nrcpt++] = xstrdup(line + 5);
			e->rcpt[e->nrcpt] = NULL;
		}
	}
	free(line);
	fclose(f);
}

int
outbox_add(struct outbox *ob, const struct send_built *b, char **idp,
    struct error *err)
{
	struct outbox_entry	 e = { 0 };
	struct timespec		 ts;
	char			 id[128], *tmp, *final, *dir;
	int			 r;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(id, sizeof id, "%lld.%09ld.P%dQ%u.facteur",
	    (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), ob->seq++);
	e.id = id;
	e.state = OUTBOX_QUEUED;
	e.from = b->from;
	e.rcpt = b->rcpt;
	e.nrcpt = b->nrcpt;
	e.utf8 = b->utf8;
	e.account = ob->account;
	/* The envelope first: a message file never lacks its sidecar. */
	if (outbox_write_meta(ob, &e, err) != 0)
		return (-1);
	xasprintf(&tmp, "%s/tmp/%s", ob->dir, id);
	xasprintf(&final, "%s/new/%s", ob->dir, id);
	xasprintf(&dir, "%s/new", ob->dir);
	r = outbox_write_file(tmp, final, dir, b->msg.data, b->msg.len, 1,
	    err);
	free(tmp);
	free(final);
	free(dir);
	if (r == 0 && idp != NULL)
		*idp = xstrdup(id);
	return (r);
}

/* Sorts entries by id, which starts with the time they were queued. */
static int
outbox_cmp(const void *a, const void *b)
{
	return (strcmp(((const struct outbox_entry *)a)->id,
	    ((const struct outbox_entry *)b)->id));
}

int
outbox_list(struct outbox *ob, struct outbox_entry **out, size_t *np,
    struct error *err)
{
	DIR			*d;
	struct dirent		*de;
	struct outbox_entry	*v = NULL, *e;
	size_t			 n = 0;
	char			*dir;

	xasprintf(&dir, "%s/new", ob->dir);
	if ((d = opendir(dir)) == NULL) {
		error_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
		free(dir);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		e = &v[n++];
		memset(e, 0, sizeof *e);
		e->id = xstrdup(de->d_name);
		xasprintf(&e->path, "%s/%s", dir, de->d_name);
		outbox_read_meta(ob, e);
		e->subject = outbox_subject(e->path);
	}
	closedir(d);
	free(dir);
	if (n > 1)
		qsort(v, n, sizeof *v, outbox_cmp);
	*out = v;
	*np = n;
	return (0);
}

void
outbox_entries_free(struct outbox_entry *v, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].path);
		free(v[i].error);
		free(v[i].from);
		free(v[i].subject);
		free(v[i].account);
		for (j = 0; j < v[i].nrcpt; j++)
			free(v[i].rcpt[j]);
		free(v[i].rcpt);
	}
	free(v);
}

/* Removes the message and its sidecar; sync: make it durable now. */
static int
outbox_unlink(struct outbox *ob, const char *id, int sync, struct error *err)
{
	char	*path, *dir;
	int	 r = 0;

	if (strchr(id, '/') != NULL || id[0] == '.')
		return (error_set(err, ERR_CONFIG, "bad outbox id"));
	xasprintf(&path, "%s/new/%s", ob->dir, id);
	xasprintf(&dir, "%s/new", ob->dir);
	if (unlink(path) != 0 && errno != ENOENT)
		r = error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
	else if (sync)
		(void)outbox_sync_dir(dir);
	free(path);
	free(dir);
	if (r != 0)
		return (-1);
	/* The sidecar goes last: an orphan sidecar is harmless. */
	xasprintf(&path, "%s/.meta/%s", ob->dir, id);
	(void)unlink(path);
	free(path);
	return (0);
}

int
outbox_remove(struct outbox *ob, const char *id, struct error *err)
{
	return (outbox_unlink(ob, id, 1, err));
}

/* Reads a message file whole. */
static int
outbox_read_msg(const char *path, struct buf *b, struct error *err)
{
	int		 fd;
	char		 chunk[65536];
	ssize_t		 n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (error_set(err, ERR_IO, "%s: %s", path,
		    strerror(errno)));
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || b->len + n > OUTBOX_MAX_MSG) {
			close(fd);
			return (error_set(err, ERR_IO, "%s: cannot read",
			    path));
		}
		buf_add(b, chunk, n);
	}
	close(fd);
	return (0);
}

/* Records a failure on e. */
static void
outbox_failed(struct outbox *ob, struct outbox_entry *e, int temporary,
    const char *msg, time_t now, struct outbox_result *res)
{
	e->attempts++;
	free(e->error);
	e->error = xstrdup(msg);
	if (temporary) {
		e->state = OUTBOX_DEFERRED;
		e->next_try = now + outbox_backoff(e->attempts);
		res->deferred++;
	} else {
		e->state = OUTBOX_FAILED;
		res->failed++;
	}
	snprintf(res->last_error, sizeof res->last_error, "%s", msg);
	(void)outbox_write_meta(ob, e, NULL);
}

/* After the 250: record the copy, then leave the outbox. */
static int
outbox_finish(struct outbox *ob, struct outbox_entry *e, outbox_sent_cb cb,
    void *arg, struct outbox_result *res, struct error *err)
{
	struct error	 cerr;
	char		 msg[300];

	if (cb != NULL && cb(e->path, arg, &cerr) != 0) {
		/* Sent, not recorded: stay "sent" and retry recording. */
		snprintf(msg, sizeof msg, "sent, but not saved to Sent: %s",
		    cerr.msg);
		free(e->error);
		e->error = xstrdup(msg);
		(void)outbox_write_meta(ob, e, NULL);
		snprintf(res->last_error, sizeof res->last_error, "%.255s",
		    msg);
		return (error_set(err, cerr.kind, "%.255s", msg));
	}
	outbox_step(3);
	/*
	 * Not fsync'd one by one: the flush syncs the directory once at
	 * the end. A crash before that may bring the message back as
	 * "sent", which only records it again, never sends it again.
	 */
	if (outbox_unlink(ob, e->id, 0, err) != 0)
		return (-1);
	res->sent++;
	return (0);
}

int
outbox_flush(struct outbox *ob, const struct send_transport *t, int force,
    outbox_sent_cb cb, void *arg, struct outbox_result *res,
    struct error *err)
{
	struct outbox_entry	*v;
	struct smtp_session	*ss = NULL;
	struct error		 serr;
	struct buf		 msg;
	size_t			 n, i;
	time_t			 now = time(NULL);
	enum send_status	 st;
	int			 r = 0, open_failed = 0, lockfd;
	char			*lock;

	memset(res, 0, sizeof *res);
	/* One flush at a time, across threads and processes. */
	xasprintf(&lock, "%s/.lock", ob->dir);
	lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (lockfd == -1 || flock(lockfd, LOCK_EX) != 0) {
		if (lockfd != -1)
			close(lockfd);
		return (error_set(err, ERR_IO, "%s: cannot lock the outbox",
		    ob->dir));
	}
	if (outbox_list(ob, &v, &n, err) != 0) {
		close(lockfd);
		return (-1);
	}
	buf_init(&msg);
	for (i = 0; i < n; i++) {
		struct outbox_entry	*e = &v[i];

		if (ob->account != NULL && e->account != NULL &&
		    strcmp(ob->account, e->account) != 0)
			continue;	/* another account sends it */
		if (e->state == OUTBOX_SENT) {
			if (outbox_finish(ob, e, cb, arg, res, &serr) != 0)
				r = -1;
			continue;
		}
		if (force != OUTBOX_FLUSH_ALL && e->state == OUTBOX_FAILED)
			continue;
		if (force == OUTBOX_FLUSH_DUE && e->state == OUTBOX_DEFERRED &&
		    e->next_try > now)
			continue;
		if (e->nrcpt == 0 || e->from == NULL) {
			outbox_failed(ob, e, 0, e->error != NULL ? e->error :
			    "no envelope", now, res);
			r = -1;
			continue;
		}
		buf_reset(&msg);
		if (outbox_read_msg(e->path, &msg, &serr) != 0) {
			outbox_failed(ob, e, 0, serr.msg, now, res);
			r = -1;
			continue;
		}
		if (t->kind == SEND_SMTP && ss == NULL && (open_failed ||
		    smtp_open(t, &ss, &serr) != 0)) {
			open_failed = 1;
			/* Nothing was sent: every due message waits. */
			outbox_failed(ob, e, serr.kind != ERR_CONFIG,
			    serr.msg, now, res);
			r = -1;
			continue;
		}
		e->state = OUTBOX_SENDING;
		if (outbox_write_meta(ob, e, &serr) != 0) {
			r = -1;
			snprintf(res->last_error, sizeof res->last_error,
			    "%s", serr.msg);
			continue;
		}
		outbox_step(1);
		if (t->kind == SEND_SMTP)
			st = smtp_send(ss, e->from, e->rcpt, e->nrcpt, e->utf8,
			    msg.data, msg.len, &serr);
		else
			st = sendmail_send(t, e->from, e->rcpt, e->nrcpt,
			    msg.data, msg.len, &serr);
		if (st == SEND_OK || st == SEND_QUEUED) {
			/* The duplicate window closes with this write. */
			e->state = OUTBOX_SENT;
			free(e->error);
			e->error = st == SEND_QUEUED ? xstrdup("queued by the "
			    "local MTA") : NULL;
			if (outbox_write_meta(ob, e, &serr) != 0) {
				r = -1;
				continue;
			}
			outbox_step(2);
			if (outbox_finish(ob, e, cb, arg, res, &serr) != 0)
				r = -1;
			continue;
		}
		outbox_failed(ob, e, st == SEND_TEMPFAIL, serr.msg, now, res);
		r = -1;
		if (ss != NULL && smtp_broken(ss))
			smtp_close(&ss);
	}
	buf_free(&msg);
	smtp_close(&ss);
	outbox_entries_free(v, n);
	if (res->sent > 0) {
		xasprintf(&lock, "%s/new", ob->dir);
		(void)outbox_sync_dir(lock);
		free(lock);
	}
	close(lockfd);		/* and the lock with it */
	if (r != 0)
		return (error_set(err, ERR_NET, "%s", res->last_error));
	return (0);
}
