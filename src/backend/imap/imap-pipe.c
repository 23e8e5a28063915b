/*
 * Several tagged commands in flight on libetpan's session: the commands
 * are written with libetpan's own tags (mailimap_send_current_tag), then
 * each completion is read in turn by libetpan's response parser, told
 * which tag to expect, so that it stays in step. The background summary
 * load uses it with a few UID FETCH batches in flight, and the flag
 * changes with their STOREs written at once.
 */
#include <sys/types.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* A pipeline that lost its session: the socket is shut first (no reading
   the rest of what is in flight), and the error said. */
static int
imap_pipe_broken(struct backend *be, int r, const char *what,
    struct error *err)
{
	if (be->lit_refused != 0)
		return (imap_session_error(be, r, what, err));
	imap_abandon(be);
	if (r == MAILIMAP_ERROR_FATAL)
		return (error_set(err, ERR_NET, "%s: %s: the server closed the "
		    "connection", be->name, what));
	if (r == MAILIMAP_ERROR_PROTOCOL)
		return (error_set(err, ERR_NET, "%s: %s: unexpected answer; "
		    "reconnecting", be->name, what));
	return (error_set(err, ERR_NET, "%s: %s: connection lost", be->name,
	    what));
}

/*
 * libetpan fails a completion that is BAD and one whose tag is not the
 * one expected alike (MAILIMAP_ERROR_PROTOCOL). What it parsed is still
 * in its buffer: a BAD with our tag leaves the session in step (the
 * command is refused); anything else does not.
 */
static int
imap_pipe_bad(struct backend *be, int tag)
{
	MMAPString	*buf = be->s->imap_stream_buffer;
	char		 want[24];
	size_t		 end, start, tlen;

	if (buf == NULL || buf->len < 2)
		return (0);
	end = buf->len;
	while (end > 0 && (buf->str[end - 1] == '\n' ||
	    buf->str[end - 1] == '\r'))
		end--;
	for (start = end; start > 0 && buf->str[start - 1] != '\n'; start--)
		;
	tlen = (size_t)snprintf(want, sizeof want, "%d ", tag);
	return (end - start > tlen + 3 &&
	    strncmp(buf->str + start, want, tlen) == 0 &&
	    strncasecmp(buf->str + start + tlen, "BAD", 3) == 0);
}

int
imap_pipe_run(struct imap_pipe *p, struct error *err)
{
	struct backend			*be = p->be;
	struct mailimap_response	*resp;
	struct buf			 b;
	int				*tags, last, r, ok, stop = 0;
	size_t				 first = 0, sent, i;
	char				 text[160];

	if (be->s == NULL || be->s->imap_stream == NULL)
		return (error_set(err, ERR_NET, "%s: not connected",
		    be->name));
	tags = xreallocarray(NULL, p->depth, sizeof *tags);
	buf_init(&b);
	p->inflight = 0;
	for (;;) {
		for (sent = 0; p->inflight < p->depth && !stop; sent++) {
			if (p->stop != NULL && (stop = p->stop(p->arg)) != 0)
				break;
			buf_reset(&b);
			if (!p->next(p->arg, &b)) {
				stop = 1;
				break;
			}
			buf_add(&b, "\r\n", 2);
			if (mailimap_send_current_tag(be->s) !=
			    MAILIMAP_NO_ERROR || mailstream_write(
			    be->s->imap_stream, b.data, b.len) < 0) {
				r = MAILIMAP_ERROR_STREAM;
				goto broken;
			}
			tags[(first + p->inflight++) % p->depth] =
			    be->s->imap_tag;
		}
		if (stop == IMAP_PIPE_DROP && p->inflight > 0) {
			imap_abandon(be);
			p->dropped = 1;
			break;
		}
		if (sent > 0 && mailstream_flush(be->s->imap_stream) == -1) {
			r = MAILIMAP_ERROR_STREAM;
			goto broken;
		}
		if (p->inflight == 0)
			break;
		/* libetpan checks the tag of the completion against its
		   last one: it is told the oldest in flight, then set back. */
		last = be->s->imap_tag;
		be->s->imap_tag = tags[first % p->depth];
		resp = NULL;
		if (mailimap_read_line(be->s) == NULL)
			r = MAILIMAP_ERROR_STREAM;
		else
			r = mailimap_parse_response(be->s, &resp);
		be->s->imap_tag = last;
		if (p->cancelled) {
			if (r == MAILIMAP_NO_ERROR)
				mailimap_response_free(resp);
			imap_abandon(be);
			p->dropped = 1;
			break;
		}
		if (r == MAILIMAP_ERROR_PROTOCOL &&
		    imap_pipe_bad(be, tags[first % p->depth]))
			ok = 0;
		else if (r != MAILIMAP_NO_ERROR)
			goto broken;
		else {
			ok = resp->rsp_resp_done->rsp_data.rsp_tagged->
			    rsp_cond_state->rsp_type ==
			    MAILIMAP_RESP_COND_STATE_OK;
			mailimap_response_free(resp);
		}
		snprintf(text, sizeof text, "%s", imap_response(be));
		for (i = 0; text[i] != '\0'; i++) {
			if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
				text[i] = '?';
		}
		p->inflight--;
		if (p->done != NULL)
			p->done(p->arg, p->completed, ok, text);
		p->completed++;
		first++;
	}
	buf_free(&b);
	free(tags);
	return (0);

broken:
	buf_free(&b);
	free(tags);
	p->inflight = 0;
	return (imap_pipe_broken(be, r, p->what, err));
}

/* Appends "a:b,c" for uids (sorted here) to b. */
static void
imap_pipe_set(struct buf *b, uint32_t *v, size_t n)
{
	size_t		i, j;
	uint32_t	x;

	for (i = 1; i < n; i++) {	/* insertion sort: n is small */
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] <= v[j - 1] + 1; j++)
			;
		if (i > 0)
			buf_addc(b, ',');
		if (j - 1 == i)
			buf_addf(b, "%u", v[i]);
		else
			buf_addf(b, "%u:%u", v[i], v[j - 1]);
	}
}

/* The background load of one folder's summaries. */
struct imap_fill {
	struct backend	*be;
	struct imap_pipe *p;
	const char	*name;
	size_t		 cursor;	/* next place in the order to look */
	uint32_t	*uids;
	size_t		 rows;		/* summaries in since the last notify */
	int64_t		 notified;	/* when (monotonic ms) */
	size_t		 fetched;
	int		 refused;
	int		 stopped;	/* for someone else, not done */
	char		 why[160];
};

/* Whether the load is no longer wanted: quitting, or another folder
   asked for (data_lock held). */
static int
imap_fill_moot(struct imap_fill *fl)
{
	struct backend	*be = fl->be;

	return (be->stop || (be->want != NULL &&
	    strcmp(be->want, fl->name) != 0));
}

/*
 * Tells the UI that rows came, at most every IMAP_FILL_NOTIFY_MS (unless
 * forced): each notice makes it reopen its view of the whole folder, and
 * at 100k rows one every 250 rows kept data_lock so busy that the load
 * took 12.5 s, most of it in the UI's reloads (perf: imap_msg_find and
 * imap_open_view).
 */
static void
imap_fill_notify(struct imap_fill *fl, int force)
{
	struct timespec	ts;
	int64_t		now;

	if (fl->rows == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (!force && now - fl->notified < IMAP_FILL_NOTIFY_MS)
		return;
	fl->notified = now;
	fl->rows = 0;
	imap_notify(fl->be, BACKEND_CHANGED_ROWS);
}

/* libetpan's handler: each FETCH response as it is parsed, whichever
   command in flight it answers, goes into the folder at once. */
static void
imap_fill_row(struct mailimap_msg_att *att, void *arg)
{
	struct imap_fill	*fl = arg;
	struct backend		*be = fl->be;
	struct imap_folder	*f;
	struct imap_msg		*m;
	uint32_t		 uid = imap_att_uid(att);
	int			 moot;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, fl->name)) != NULL) {
		imap_apply(be, f, att, 1);
		/* Row by row, not once the folder is in: the empty
		   strings never pile up. */
		if (uid != 0 && (m = imap_msg_find(f, uid)) != NULL)
			imap_msg_compact(m);
	}
	moot = imap_fill_moot(fl);
	pthread_mutex_unlock(&be->data_lock);
	fl->fetched++;
	fl->rows++;
	imap_fill_notify(fl, 0);
	/* At most this response: the rest in flight is not read. */
	if (moot && fl->p->inflight > 1 && !fl->p->cancelled) {
		fl->p->cancelled = 1;
		mailstream_low_cancel(mailstream_get_low(be->s->imap_stream));
	}
}

/* The next UID FETCH: the next IMAP_PIPE_ROWS rows lacking a summary,
   top rows first. The order changes only under conn, which we hold. */
static int
imap_fill_next(void *arg, struct buf *b)
{
	struct imap_fill	*fl = arg;
	struct backend		*be = fl->be;
	struct imap_folder	*f;
	struct imap_msg		*m;
	size_t			 n = 0;

	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, fl->name)) != NULL) {
		for (; fl->cursor < f->norder && n < IMAP_PIPE_ROWS;
		    fl->cursor++) {
			m = imap_msg_find(f, f->order[fl->cursor]);
			if (m != NULL && !m->have)
				fl->uids[n++] = f->order[fl->cursor];
		}
	}
	if (n > 0) {
		be->stats.fetch_commands++;
		if (be->stats.first_batch == 0)
			be->stats.first_batch = n;
	}
	pthread_mutex_unlock(&be->data_lock);
	if (n == 0)
		return (0);
	buf_adds(b, "UID FETCH ");
	imap_pipe_set(b, fl->uids, n);
	buf_adds(b, " " IMAP_SUMMARY_ATTS);
	return (1);
}

/* Before each command: anyone else wanting the session (a worker, a
   limit to search, another folder) stops the sending; a load that no
   longer matters drops what is in flight. */
static int
imap_fill_stop(void *arg)
{
	struct imap_fill	*fl = arg;
	struct backend		*be = fl->be;
	struct pollfd		 pfd;
	int			 moot;

	pthread_mutex_lock(&be->data_lock);
	moot = imap_fill_moot(fl);
	pthread_mutex_unlock(&be->data_lock);
	fl->stopped = 1;
	if (moot)
		return (IMAP_PIPE_DROP);
	pfd.fd = be->wake_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 1)
		return (IMAP_PIPE_STOP);
	fl->stopped = 0;
	return (0);
}

/* A batch completed: its rows are in (the handler took them). */
static void
imap_fill_done(void *arg, size_t i, int ok, const char *text)
{
	struct imap_fill	*fl = arg;

	if (!ok && !fl->refused) {
		fl->refused = 1;
		snprintf(fl->why, sizeof fl->why, "%s", text);
	}
	imap_fill_notify(fl, 0);
}

/* Does nothing: with it set, libetpan hands each FETCH response to the
   message handler as it is parsed. */
static void
imap_pipe_progress(size_t current, size_t maximum, void *arg)
{
}

int
imap_pipe_fill(struct backend *be, const char *name, int *more,
    struct error *err)
{
	struct imap_pipe	 p;
	struct imap_fill	 fl;
	struct imap_folder	*f;
	struct imap_msg		*m;
	size_t			 i, missing = 0;
	int			 rv;

	*more = 0;
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, name)) != NULL) {
		for (i = 0; i < f->norder && missing == 0; i++) {
			m = imap_msg_find(f, f->order[i]);
			missing += m != NULL && !m->have;
		}
		if (missing == 0 && f->dirty) {
			imap_recount(f);
			imap_cache_save(be, f);
		}
	}
	pthread_mutex_unlock(&be->data_lock);
	if (missing == 0)
		return (0);

	memset(&fl, 0, sizeof fl);
	memset(&p, 0, sizeof p);
	fl.be = be;
	fl.p = &p;
	fl.name = name;
	fl.uids = xreallocarray(NULL, IMAP_PIPE_ROWS, sizeof *fl.uids);
	p.be = be;
	p.what = "FETCH";
	p.depth = IMAP_PIPE_DEPTH;
	p.next = imap_fill_next;
	p.stop = imap_fill_stop;
	p.done = imap_fill_done;
	p.arg = &fl;
	mailimap_set_progress_callback(be->s, NULL, imap_pipe_progress, NULL);
	mailimap_set_msg_att_handler(be->s, imap_fill_row, &fl);
	rv = imap_pipe_run(&p, err);
	imap_fill_notify(&fl, 1);	/* the last rows */
	if (be->s != NULL) {
		mailimap_set_msg_att_handler(be->s, NULL, NULL);
		mailimap_set_progress_callback(be->s, NULL, NULL, NULL);
	}
	free(fl.uids);
	if (fl.fetched > 0 || p.completed > 0 || fl.stopped)
		*more = 1;
	if (p.dropped) {
		log_debug("imap: %s: %s: summary load left (%zu in)",
		    be->name, name, fl.fetched);
		*more = 1;
		return (0);
	}
	if (rv != 0)
		return (-1);
	if (fl.refused)
		return (error_set(err, ERR_PROTO, "%s: FETCH failed: %s",
		    be->name, fl.why[0] != '\0' ? fl.why : "refused"));
	return (0);
}
