/*
 * The other folders' unread and total counts, kept fresh while one folder
 * is open: pushed by the server through NOTIFY (RFC 5465) while we IDLE,
 * else asked every poll interval with LIST-STATUS (RFC 5819) or a STATUS
 * per folder. Also subscriptions: SUBSCRIBE/UNSUBSCRIBE, and which
 * folders subscribed_only shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/*
 * The selected folder's new, expunged and changed messages (as plain
 * IDLE gives them) and a STATUS for every other personal folder when
 * something happens there; STATUS first answers with every folder's.
 */
#define IMAP_NOTIFY_SET "NOTIFY SET STATUS (SELECTED (MessageNew " \
	"MessageExpunge FlagChange)) (PERSONAL (MessageNew MessageExpunge " \
	"FlagChange))"
#define IMAP_LIST_STATUS "LIST \"\" \"*\" RETURN (STATUS (MESSAGES UNSEEN))"

/* Monotonic milliseconds. */
static int64_t
imap_counts_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Whether NOTIFY brings the counts (it needs IDLE, and was not refused). */
int
imap_counts_pushed(struct backend *be)
{
	return (be->s != NULL && be->cap_idle && !be->notify_refused &&
	    mailimap_has_extension(be->s, "NOTIFY"));
}

/* Whether the folder list shows f (subscribed_only hides the rest). */
int
imap_folder_shown(struct backend *be, const struct imap_folder *f)
{
	return (!be->subscribed_only || f->subscribed || f->special != 0 ||
	    (be->current != NULL && strcmp(be->current, f->name) == 0));
}

/* Reads an astring (atom, "quoted" or an inlined {n} literal) at *sp
   into out; -1 when malformed. */
static int
imap_counts_astring(const char **sp, const char *end, struct buf *out)
{
	const char	*s = *sp;
	size_t		 n = 0;

	if (s < end && *s == '"') {
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\' && s + 1 < end)
				s++;
			buf_addc(out, *s);
		}
		if (s >= end)
			return (-1);
		*sp = s + 1;
		return (0);
	}
	if (s < end && *s == '{') {
		for (s++; s < end && *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (size_t)(*s - '0');
			if (n > 4096)
				return (-1);
		}
		if (s < end && *s == '+')
			s++;
		if (end - s < 3 || strncmp(s, "}\r\n", 3) != 0 ||
		    (size_t)(end - s - 3) < n)
			return (-1);
		buf_add(out, s + 3, n);
		*sp = s + 3 + n;
		return (0);
	}
	for (; s < end && *s != ' ' && *s != '(' && *s != ')'; s++)
		buf_addc(out, *s);
	if (s == *sp)
		return (-1);
	*sp = s;
	return (0);
}

/* Reads a number of up to 63 bits at *sp; -1 when there is none. */
static int
imap_counts_number(const char **sp, const char *end, uint64_t *out)
{
	const char	*s = *sp;
	uint64_t	 v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return (-1);
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX >> 1) / 10)
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*sp = s;
	return (0);
}

/* Takes one STATUS answer's MESSAGES and UNSEEN into the folder list. */
int
imap_counts_status(struct backend *be, const char *s, size_t len)
{
	struct imap_folder	*f;
	struct buf		 name, att;
	const char		*end = s + len;
	uint64_t		 v, total = 0, unseen = 0;
	int			 has_total = 0, has_unseen = 0, changed = 0;

	if (len < 7 || strncasecmp(s, "STATUS ", 7) != 0)
		return (0);
	s += 7;
	buf_init(&name);
	buf_init(&att);
	if (imap_counts_astring(&s, end, &name) != 0)
		goto bad;
	while (s < end && *s == ' ')
		s++;
	if (s >= end || *s++ != '(')
		goto bad;
	while (s < end && *s != ')') {
		while (s < end && *s == ' ')
			s++;
		buf_reset(&att);
		for (; s < end && *s != ' ' && *s != ')'; s++)
			buf_addc(&att, *s);
		if (s >= end || *s++ != ' ' ||
		    imap_counts_number(&s, end, &v) != 0)
			goto bad;
		if (strcasecmp(buf_str(&att), "MESSAGES") == 0) {
			total = v;
			has_total = 1;
		} else if (strcasecmp(buf_str(&att), "UNSEEN") == 0) {
			unseen = v;
			has_unseen = 1;
		}
	}
	if (s >= end)
		goto bad;
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_find(be, buf_str(&name));
	if (f == NULL && strcasecmp(buf_str(&name), "INBOX") == 0)
		f = imap_folder_find(be, "INBOX");
	/* The open folder is counted from its own messages. */
	if (f != NULL && (be->current == NULL ||
	    strcmp(be->current, f->name) != 0)) {
		if (has_total && f->total != total) {
			f->total = (unsigned long)total;
			changed = 1;
		}
		if (has_unseen && f->unread != unseen) {
			f->unread = (unsigned long)unseen;
			changed = 1;
		}
	}
	pthread_mutex_unlock(&be->data_lock);
	if (changed)
		log_debug("imap: %s: %s now %llu/%llu", be->name,
		    buf_str(&name), (unsigned long long)unseen,
		    (unsigned long long)total);
	buf_free(&name);
	buf_free(&att);
	return (changed);
bad:
	log_debug("imap: %s: STATUS answer not understood", be->name);
	buf_free(&name);
	buf_free(&att);
	return (0);
}

/* One IDLE with NOTIFY on: our three tags and what came. */
struct imap_nidle {
	char		 set[16];	/* NOTIFY SET */
	char		 idle[16];
	char		 none[16];	/* NOTIFY NONE */
	int		 changed;	/* a count changed */
	int		 selected;	/* the open folder changed */
};

enum {
	IMAP_NIDLE_UNTAGGED,
	IMAP_NIDLE_CONTINUE,
	IMAP_NIDLE_TAGGED,
};

/*
 * Reads one response of the NOTIFY IDLE and takes in an untagged one:
 * STATUS updates the counts; EXISTS, EXPUNGE, FETCH or VANISHED mean the
 * open folder changed. Returns IMAP_NIDLE_*, or -1 with the session
 * dropped; a tagged answer's tag and whether it is OK come back.
 */
static int
imap_nidle_read(struct backend *be, MMAPString *line, struct imap_nidle *ni,
    char *tag, size_t tagsize, int *ok, struct error *err)
{
	const char	*s, *sp;
	size_t		 len;

	if (imap_raw_response(be->s->imap_stream, line) != 0) {
		imap_abandon(be);
		return (error_set(err, ERR_NET, "%s: connection lost",
		    be->name));
	}
	s = line->str;
	len = line->len;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len >= 1 && s[0] == '+')
		return (IMAP_NIDLE_CONTINUE);
	if (len >= 2 && s[0] == '*' && s[1] == ' ') {
		s += 2;
		len -= 2;
		if (len >= 3 && strncasecmp(s, "BYE", 3) == 0) {
			imap_abandon(be);
			return (error_set(err, ERR_NET, "%s: the server closed "
			    "the connection", be->name));
		}
		if (len >= 7 && strncasecmp(s, "STATUS ", 7) == 0) {
			ni->changed |= imap_counts_status(be, s, len);
			return (IMAP_NIDLE_UNTAGGED);
		}
		if (len >= 9 && strncasecmp(s, "VANISHED ", 9) == 0) {
			ni->selected = 1;
			return (IMAP_NIDLE_UNTAGGED);
		}
		/* "n EXISTS", "n EXPUNGE", "n FETCH (...)"; "n RECENT"
		   comes with EXISTS. */
		for (sp = s; sp < s + len && *sp >= '0' && *sp <= '9'; sp++)
			;
		if (sp > s && sp < s + len && *sp == ' ' &&
		    (strncasecmp(sp + 1, "EXISTS", 6) == 0 ||
		    strncasecmp(sp + 1, "EXPUNGE", 7) == 0 ||
		    strncasecmp(sp + 1, "FETCH", 5) == 0))
			ni->selected = 1;
		return (IMAP_NIDLE_UNTAGGED);
	}
	sp = memchr(s, ' ', len);
	if (sp == NULL || (size_t)(sp - s) + 1 > tagsize) {
		imap_abandon(be);
		return (error_set(err, ERR_NET, "%s: unexpected answer; "
		    "reconnecting", be->name));
	}
	snprintf(tag, tagsize, "%.*s", (int)(sp - s), s);
	*ok = (size_t)(s + len - sp) >= 3 && strncasecmp(sp + 1, "OK", 2) == 0;
	return (IMAP_NIDLE_TAGGED);
}

/* Writes cmd on the session; -1 with the session dropped. */
static int
imap_nidle_write(struct backend *be, const char *cmd, struct error *err)
{
	mailstream	*st = be->s->imap_stream;

	if (mailstream_write(st, cmd, strlen(cmd)) < 0 ||
	    mailstream_flush(st) == -1) {
		imap_disconnect(be);
		return (error_set(err, ERR_NET, "%s: connection lost",
		    be->name));
	}
	return (0);
}

/* NOTIFY SET's answer: refused, the counts are polled instead. */
static void
imap_nidle_set(struct backend *be, int ok)
{
	if (ok) {
		pthread_mutex_lock(&be->data_lock);
		be->need_status = 0;	/* every count came */
		pthread_mutex_unlock(&be->data_lock);
		return;
	}
	log_warnx("%s: the server refused NOTIFY; counts are polled",
	    be->name);
	be->notify_refused = 1;
}

/* Reads until the tagged answer to want (cont: or a continuation);
   returns 1 for the continuation, 0 for want. */
static int
imap_nidle_until(struct backend *be, MMAPString *line, struct imap_nidle *ni,
    const char *want, int cont, struct error *err)
{
	char	tag[16];
	int	ok, r;

	for (;;) {
		if ((r = imap_nidle_read(be, line, ni, tag, sizeof tag, &ok,
		    err)) < 0)
			return (-1);
		if (r == IMAP_NIDLE_CONTINUE && cont)
			return (1);
		if (r != IMAP_NIDLE_TAGGED)
			continue;
		if (strcmp(tag, ni->set) == 0)
			imap_nidle_set(be, ok);
		if (strcmp(tag, want) == 0)
			return (0);
		if (cont && strcmp(tag, ni->idle) == 0) {
			/* IDLE refused, NOTIFY perhaps on: a new session. */
			imap_abandon(be);
			return (error_set(err, ERR_NET, "%s: IDLE refused",
			    be->name));
		}
	}
}

/* One IDLE with NOTIFY on, ended by the server, a wake-up or renewal. */
int
imap_counts_idle(struct backend *be, struct error *err)
{
	struct imap_nidle	 ni;
	MMAPString		*line;
	enum net_wait		 w;
	char			*cmd, tag[16];
	int64_t			 deadline, left;
	int			 r, ok, slept, rv = -1;

	memset(&ni, 0, sizeof ni);
	snprintf(ni.set, sizeof ni.set, "F%u", ++be->raw_tag);
	snprintf(ni.idle, sizeof ni.idle, "F%u", ++be->raw_tag);
	snprintf(ni.none, sizeof ni.none, "F%u", ++be->raw_tag);
	/* NOTIFY's answer (every folder's STATUS) first, then IDLE on its
	   own: its "+" is then the first line the server sends for it. */
	xasprintf(&cmd, "%s %s\r\n", ni.set, IMAP_NOTIFY_SET);
	r = imap_nidle_write(be, cmd, err);
	free(cmd);
	if (r != 0)
		return (-1);
	line = mmap_string_new("");
	if (imap_nidle_until(be, line, &ni, ni.set, 0, err) != 0)
		goto out;
	if (be->notify_refused) {
		/* Not this IDLE either: the next one polls the counts. */
		rv = 0;
		goto out;
	}
	xasprintf(&cmd, "%s IDLE\r\n", ni.idle);
	r = imap_nidle_write(be, cmd, err);
	free(cmd);
	if (r != 0)
		goto out;
	be->stats.idles++;
	if (imap_nidle_until(be, line, &ni, ni.idle, 1, err) != 1)
		goto out;	/* an error, or IDLE answered at once */

	deadline = imap_counts_now() + IMAP_IDLE_SECONDS * 1000LL;
	while (!ni.selected) {
		if (ni.changed && be->s->imap_stream->read_buffer_len == 0) {
			imap_notify(be, BACKEND_CHANGED_FOLDERS);
			ni.changed = 0;
		}
		left = deadline - imap_counts_now();
		w = imap_idle_wait(be, left > 0 ? (int)left : 0, &slept);
		if (slept) {
			imap_abandon(be);
			error_set(err, ERR_NET, "%s: the computer slept: a new "
			    "session", be->name);
			goto out;
		}
		if (w == NET_WAIT_ERROR || w == NET_WAIT_CANCELLED) {
			imap_abandon(be);
			error_set(err, ERR_NET, "%s: connection lost",
			    be->name);
			goto out;
		}
		if (w != NET_WAIT_DATA)
			break;
		if ((r = imap_nidle_read(be, line, &ni, tag, sizeof tag, &ok,
		    err)) < 0)
			goto out;
		if (r == IMAP_NIDLE_TAGGED) {
			imap_abandon(be);
			error_set(err, ERR_NET, "%s: IDLE ended by the "
			    "server", be->name);
			goto out;
		}
	}

	/* DONE, and NOTIFY off before libetpan reads again. */
	xasprintf(&cmd, "DONE\r\n%s NOTIFY NONE\r\n", ni.none);
	r = imap_nidle_write(be, cmd, err);
	free(cmd);
	if (r != 0 || imap_nidle_until(be, line, &ni, ni.none, 0, err) != 0)
		goto out;
	rv = 0;
out:
	mmap_string_free(line);
	if (ni.changed)
		imap_notify(be, BACKEND_CHANGED_FOLDERS);
	if (rv == 0 && ni.selected)
		rv = imap_poll_changes(be, err);
	return (rv);
}

/* How long IDLE may last before the next count poll is due. */
int
imap_counts_wait(struct backend *be, int ms)
{
	int64_t	now, left;

	if (be->poll_secs <= 0 || imap_counts_pushed(be))
		return (ms);
	now = imap_counts_now();
	if (be->counts_next == 0)
		be->counts_next = now + be->poll_secs * 1000LL;
	left = be->counts_next - now;
	if (left < 0)
		left = 0;
	return (left < ms ? (int)left : ms);
}

/* What a LIST-STATUS answer changed. */
struct imap_lstatus {
	struct backend	*be;
	int		 changed;
};

/* Takes a LIST-STATUS answer's STATUS lines in. */
static void
imap_counts_line(void *arg, const char *s, size_t len)
{
	struct imap_lstatus	*ls = arg;

	ls->changed |= imap_counts_status(ls->be, s, len);
}

/* The counts by LIST-STATUS, or LIST and STATUS each, when due. */
int
imap_counts_poll(struct backend *be, struct error *err)
{
	struct imap_lstatus	 ls;
	int64_t			 now = imap_counts_now();

	if (be->poll_secs <= 0 || be->s == NULL || imap_counts_pushed(be) ||
	    (be->counts_next != 0 && now < be->counts_next))
		return (0);
	be->counts_next = now + be->poll_secs * 1000LL;
	if (!mailimap_has_extension(be->s, "LIST-STATUS"))
		return (imap_list(be, 1, err));	/* LIST, STATUS each */
	ls.be = be;
	ls.changed = 0;
	if (imap_raw(be, IMAP_LIST_STATUS, imap_counts_line, &ls, err) != 0)
		return (-1);
	pthread_mutex_lock(&be->data_lock);
	be->need_status = 0;
	pthread_mutex_unlock(&be->data_lock);
	if (ls.changed)
		imap_notify(be, BACKEND_CHANGED_FOLDERS);
	return (0);
}

/* [worker] SUBSCRIBE or UNSUBSCRIBE, then the list marks it. */
int
imap_op_subscribe_folder(struct backend *be, const char *name, int on,
    struct error *err)
{
	struct imap_folder	*f;
	int			 r, rv = -1;

	imap_conn_acquire(be);
	if (be->s == NULL && imap_connect(be, err) != 0)
		goto out;
	r = on ? mailimap_subscribe(be->s, name) :
	    mailimap_unsubscribe(be->s, name);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_error(be, r, on ? "SUBSCRIBE" : "UNSUBSCRIBE",
		    err);
		goto out;
	}
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, name)) != NULL)
		f->subscribed = on;
	pthread_mutex_unlock(&be->data_lock);
	log_debug("imap: %s: %ssubscribed %s", be->name, on ? "" : "un",
	    name);
	rv = 0;
out:
	imap_conn_release(be);
	if (rv == 0)
		imap_notify(be, BACKEND_CHANGED_FOLDERS);
	return (rv);
}
