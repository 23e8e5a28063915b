/*
 * The IMAP backend's protocol work, run by whoever holds the session:
 * LIST and STATUS, SELECT with CONDSTORE, the display order from UID SORT
 * or UID SEARCH, summaries for the rows on screen first and the rest in
 * batches, flag changes since the last HIGHESTMODSEQ, STORE, MOVE and
 * message bodies streamed into the cache.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

/* Builds a UID set from uids (any order, no duplicates needed). */
static struct mailimap_set *
imap_set_from(const uint32_t *uids, size_t n)
{
	struct mailimap_set	*set = mailimap_set_new_empty();
	uint32_t		*v;
	size_t			 i, j;

	v = xreallocarray(NULL, n + 1, sizeof *v);
	memcpy(v, uids, n * sizeof *v);
	for (i = 1; i < n; i++) {	/* insertion sort: n is small */
		uint32_t x = v[i];

		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j] <= v[j - 1] + 1; j++)
			;
		mailimap_set_add_interval(set, v[i], v[j - 1]);
	}
	free(v);
	return (set);
}

/* The special use of a folder from its LIST attributes. */
static unsigned
imap_special(struct mailimap_mailbox_list *mb)
{
	static const struct {
		const char	*name;
		unsigned	 flag;
	} uses[] = {
		{ "Sent", IMAP_SPECIAL_SENT },
		{ "Drafts", IMAP_SPECIAL_DRAFTS },
		{ "Trash", IMAP_SPECIAL_TRASH },
		{ "Junk", IMAP_SPECIAL_JUNK },
		{ "Archive", IMAP_SPECIAL_ARCHIVE },
	};
	struct mailimap_mbx_list_oflag	*of;
	clistiter			*it;
	unsigned			 flags = 0;
	size_t				 i;

	if (strcasecmp(mb->mb_name, "INBOX") == 0)
		flags |= IMAP_SPECIAL_INBOX;
	if (mb->mb_flag == NULL || mb->mb_flag->mbf_oflags == NULL)
		return (flags);
	for (it = clist_begin(mb->mb_flag->mbf_oflags); it != NULL;
	    it = clist_next(it)) {
		of = clist_content(it);
		if (of->of_type != MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT ||
		    of->of_flag_ext == NULL)
			continue;
		for (i = 0; i < sizeof uses / sizeof uses[0]; i++) {
			if (strcasecmp(of->of_flag_ext, uses[i].name) == 0)
				flags |= uses[i].flag;
		}
	}
	return (flags);
}

/* Whether LIST says the folder cannot be selected. */
static int
imap_noselect(struct mailimap_mailbox_list *mb)
{
	struct mailimap_mbx_list_oflag	*of;
	clistiter			*it;

	if (mb->mb_flag == NULL)
		return (0);
	if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		return (1);
	if (mb->mb_flag->mbf_oflags == NULL)
		return (0);
	for (it = clist_begin(mb->mb_flag->mbf_oflags); it != NULL;
	    it = clist_next(it)) {
		of = clist_content(it);
		if (of->of_flag_ext != NULL &&
		    strcasecmp(of->of_flag_ext, "NonExistent") == 0)
			return (1);
	}
	return (0);
}

/* Asks STATUS (MESSAGES UNSEEN) of one folder. */
static int
imap_status_of(struct backend *be, const char *name, unsigned long *total,
    unsigned long *unread, struct error *err)
{
	struct mailimap_status_att_list		*sl;
	struct mailimap_mailbox_data_status	*st = NULL;
	struct mailimap_status_info		*si;
	clistiter				*it;
	int					 r;

	sl = mailimap_status_att_list_new_empty();
	mailimap_status_att_list_add(sl, MAILIMAP_STATUS_ATT_MESSAGES);
	mailimap_status_att_list_add(sl, MAILIMAP_STATUS_ATT_UNSEEN);
	r = mailimap_status(be->s, name, sl, &st);
	mailimap_status_att_list_free(sl);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "STATUS", err));
	if (st == NULL)		/* OK without the STATUS line */
		return (0);
	for (it = clist_begin(st->st_info_list); it != NULL;
	    it = clist_next(it)) {
		si = clist_content(it);
		if (si->st_att == MAILIMAP_STATUS_ATT_MESSAGES)
			*total = si->st_value;
		else if (si->st_att == MAILIMAP_STATUS_ATT_UNSEEN)
			*unread = si->st_value;
	}
	mailimap_mailbox_data_status_free(st);
	return (0);
}

/* LIST "" "*" with special uses and LSUB, then (with_status) STATUS of
   each folder shown; without, the counts are left for the background
   thread. */
int
imap_list(struct backend *be, int with_status, struct error *err)
{
	struct mailimap_mailbox_list	*mb;
	struct imap_folder		*f, **keep;
	clist				*list = NULL, *subs = NULL;
	clistiter			*it;
	char				**names;
	size_t				 n = 0, i, j, nkeep;
	unsigned long			 total, unread;
	unsigned			*special;
	int				 r, *noselect, shown;

	if ((r = mailimap_list(be->s, "", "*", &list)) != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "LIST", err));
	names = xcalloc(clist_count(list) + 1, sizeof *names);
	special = xcalloc(clist_count(list) + 1, sizeof *special);
	noselect = xcalloc(clist_count(list) + 1, sizeof *noselect);
	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		mb = clist_content(it);
		names[n] = xstrdup(mb->mb_name);
		special[n] = imap_special(mb);
		noselect[n++] = imap_noselect(mb);
	}
	mailimap_list_result_free(list);
	/* Subscriptions (a server without them: none). */
	if ((r = mailimap_lsub(be->s, "", "*", &subs)) != MAILIMAP_NO_ERROR) {
		subs = NULL;
		if (be->s == NULL || r == MAILIMAP_ERROR_STREAM ||
		    r == MAILIMAP_ERROR_PARSE) {
			for (i = 0; i < n; i++)
				free(names[i]);
			free(names);
			free(special);
			free(noselect);
			return (imap_session_error(be, r, "LSUB", err));
		}
	}

	pthread_mutex_lock(&be->data_lock);
	keep = xcalloc(n + 1, sizeof *keep);
	for (i = nkeep = 0; i < n; i++) {
		f = imap_folder_add(be, names[i]);
		f->special = special[i];
		f->noselect = noselect[i];
		f->subscribed = 0;
		keep[nkeep++] = f;
	}
	for (it = subs != NULL ? clist_begin(subs) : NULL; it != NULL;
	    it = clist_next(it)) {
		mb = clist_content(it);
		if ((f = imap_folder_find(be, mb->mb_name)) != NULL)
			f->subscribed = 1;
	}
	if (subs != NULL)
		mailimap_list_result_free(subs);
	for (i = 0; i < be->nfolders; i++) {
		for (j = 0; j < nkeep && keep[j] != be->folders[i]; j++)
			;
		if (j == nkeep)
			imap_folder_free(&be->folders[i]);
	}
	/* INBOX first, then the server's order. */
	free(be->folders);
	be->folders = keep;
	be->nfolders = nkeep;
	for (i = 1; i < nkeep; i++) {
		if (keep[i]->special & IMAP_SPECIAL_INBOX) {
			f = keep[i];
			memmove(&keep[1], &keep[0], i * sizeof *keep);
			keep[0] = f;
		}
	}
	pthread_mutex_unlock(&be->data_lock);

	pthread_mutex_lock(&be->data_lock);
	be->need_status = !with_status;
	pthread_mutex_unlock(&be->data_lock);
	for (i = 0; i < n && with_status; i++) {
		pthread_mutex_lock(&be->data_lock);
		shown = (f = imap_folder_find(be, names[i])) != NULL &&
		    imap_folder_shown(be, f);
		pthread_mutex_unlock(&be->data_lock);
		total = unread = 0;
		if (!shown)
			continue;	/* subscribed_only hides it */
		if (!noselect[i] &&
		    imap_status_of(be, names[i], &total, &unread, err) != 0) {
			if (be->s == NULL)
				break;
			continue;
		}
		pthread_mutex_lock(&be->data_lock);
		if ((f = imap_folder_find(be, names[i])) != NULL) {
			f->total = total;
			f->unread = unread;
		}
		pthread_mutex_unlock(&be->data_lock);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(special);
	free(noselect);
	imap_notify(be, BACKEND_CHANGED_FOLDERS);
	return (be->s == NULL ? -1 : 0);
}

static void	imap_select_installed(struct backend *, const char *, uint64_t);

/* Whether ENABLE QRESYNC goes with this session's first SELECT (RFC
   7162 allows it only before one); asked once per session. */
static int
imap_qresync_wanted(struct backend *be)
{
	if (be->qresync_conn == be->stats.connects)
		return (0);
	be->qresync_conn = be->stats.connects;
	be->qresync_on = 0;
	return (be->selected == NULL && mailimap_has_qresync(be->s) &&
	    mailimap_has_enable(be->s));
}

/* The UIDs we know of a folder as a sequence set (msgs are sorted). */
static void
imap_known_uids(struct imap_folder *f, struct buf *b)
{
	size_t	i, j;

	for (i = 0; i < f->nmsgs; i = j) {
		for (j = i + 1; j < f->nmsgs &&
		    f->msgs[j].uid == f->msgs[j - 1].uid + 1; j++)
			;
		if (i > 0)
			buf_addc(b, ',');
		if (j - 1 == i)
			buf_addf(b, "%u", f->msgs[i].uid);
		else
			buf_addf(b, "%u:%u", f->msgs[i].uid,
			    f->msgs[j - 1].uid);
	}
}

/* What the answer to SELECT ... (QRESYNC ...) said. */
struct imap_resync {
	struct backend		*be;
	struct imap_folder	*f;		/* data_lock held by each */
	uint32_t		 exists, uidvalidity, uidnext;
	uint64_t		 modseq;
	size_t			 vanished;
	int			 bad;
	int			 enabled;	/* ENABLED QRESYNC came */
	char			**keep;		/* VANISHED and FETCH lines */
	size_t			 nkeep;
};

/* A number at *s, moved past; -1 when there is none. */
static int
imap_text_number(const char **s, const char *end, uint64_t *out)
{
	uint64_t	v = 0;
	const char	*p = *s;

	if (p >= end || *p < '0' || *p > '9')
		return (-1);
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > UINT64_MAX / 10 - 10)
			return (-1);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*out = v;
	return (0);
}

/* Applies "FETCH (UID 3 FLAGS (\Seen kw) MODSEQ (7))" to the folder. */
static void
imap_resync_fetch(struct imap_resync *rs, const char *s, const char *end)
{
	struct imap_msg	*m;
	struct buf	 kw;
	const char	*w, *fl = NULL, *flend = NULL;
	uint64_t	 uid = 0;
	unsigned	 flags = MSG_UNREAD;
	size_t		 wl;

	for (; s < end; s++) {
		if (end - s > 4 && strncasecmp(s, "UID ", 4) == 0) {
			s += 4;
			if (imap_text_number(&s, end, &uid) != 0)
				return;
		}
		if (end - s > 6 && strncasecmp(s, "FLAGS ", 6) == 0 &&
		    s[6] == '(') {
			fl = s + 7;
			for (flend = fl; flend < end && *flend != ')'; flend++)
				;
			s = flend;
		}
	}
	rs->be->stats.fetch_responses++;
	if (uid == 0 || uid > UINT32_MAX || fl == NULL ||
	    (m = imap_msg_find(rs->f, (uint32_t)uid)) == NULL)
		return;
	buf_init(&kw);
	for (s = fl; s < flend; s = w + wl) {
		while (s < flend && *s == ' ')
			s++;
		w = s;
		while (s < flend && *s != ' ')
			s++;
		if ((wl = s - w) == 0)
			break;
		if (wl == 5 && strncasecmp(w, "\\Seen", 5) == 0)
			flags &= ~MSG_UNREAD;
		else if (wl == 8 && strncasecmp(w, "\\Flagged", 8) == 0)
			flags |= MSG_FLAGGED;
		else if (wl == 9 && strncasecmp(w, "\\Answered", 9) == 0)
			flags |= MSG_REPLIED;
		else if (wl == 8 && strncasecmp(w, "\\Deleted", 8) == 0)
			flags |= MSG_DELETED;
		else if (wl == 6 && strncasecmp(w, "\\Draft", 6) == 0)
			flags |= MSG_DRAFT;
		else if (*w != '\\') {
			if (wl == 10 && strncasecmp(w, "$Forwarded", 10) == 0)
				flags |= MSG_PASSED;
			if (kw.len > 0)
				buf_addc(&kw, ' ');
			buf_add(&kw, w, wl);
		}
	}
	m->flags = flags;
	free(m->keywords);
	m->keywords = buf_steal(&kw);
	rs->f->dirty = 1;
}

/* Applies a VANISHED or FETCH line kept from the answer (data_lock
   held). */
static void
imap_resync_apply(struct imap_resync *rs, const char *s, size_t len)
{
	const char	*end = s + len, *p = s;
	uint32_t	*lo, *hi;
	uint64_t	 v;
	size_t		 n;

	if (len > 9 && strncasecmp(s, "VANISHED ", 9) == 0) {
		n = len > 19 && strncasecmp(s, "VANISHED (EARLIER) ", 19) ==
		    0 ? 19 : 9;
		if (imap_seqset_parse(s + n, len - n, &lo, &hi, &n) != 0) {
			rs->bad = 1;
			return;
		}
		rs->vanished += imap_folder_drop(rs->f, lo, hi, n);
		free(lo);
		free(hi);
		return;
	}
	if (imap_text_number(&p, end, &v) == 0 && end - p > 7 &&
	    strncasecmp(p, " FETCH ", 7) == 0)
		imap_resync_fetch(rs, p + 7, end);
}

/* Takes one untagged line of the SELECT answer (no lock held): the
   counters now, VANISHED and FETCH kept for later. */
static void
imap_resync_line(void *arg, const char *s, size_t len)
{
	struct imap_resync	*rs = arg;
	const char		*end = s + len, *p = s;
	uint64_t		 v;

	if ((len > 9 && strncasecmp(s, "VANISHED ", 9) == 0) ||
	    (imap_text_number(&p, end, &v) == 0 && end - p > 7 &&
	    strncasecmp(p, " FETCH ", 7) == 0)) {
		rs->keep = xreallocarray(rs->keep, rs->nkeep + 1,
		    sizeof *rs->keep);
		rs->keep[rs->nkeep++] = xstrndup(s, len);
		return;
	}
	p = s;
	if (len >= 16 && strncasecmp(s, "ENABLED ", 8) == 0) {
		for (p = s + 7; p + 8 <= end; p++) {
			if (strncasecmp(p, " QRESYNC", 8) == 0 &&
			    (p + 8 == end || p[8] == ' '))
				rs->enabled = 1;
		}
		return;
	}
	if (len > 4 && strncasecmp(s, "OK [", 4) == 0) {
		p = s + 4;
		if (end - p > 12 && strncasecmp(p, "UIDVALIDITY ", 12) == 0) {
			p += 12;
			if (imap_text_number(&p, end, &v) == 0 &&
			    v <= UINT32_MAX)
				rs->uidvalidity = (uint32_t)v;
		} else if (end - p > 8 && strncasecmp(p, "UIDNEXT ", 8) == 0) {
			p += 8;
			if (imap_text_number(&p, end, &v) == 0 &&
			    v <= UINT32_MAX)
				rs->uidnext = (uint32_t)v;
		} else if (end - p > 14 &&
		    strncasecmp(p, "HIGHESTMODSEQ ", 14) == 0) {
			p += 14;
			if (imap_text_number(&p, end, &v) == 0)
				rs->modseq = v;
		}
		return;
	}
	if (imap_text_number(&p, end, &v) != 0 || p >= end || *p != ' ')
		return;
	p++;
	if (end - p >= 6 && strncasecmp(p, "EXISTS", 6) == 0 &&
	    v <= UINT32_MAX)
		rs->exists = (uint32_t)v;
}

/* The SELECT command for name: with QRESYNC parameters when uv is set,
   else CONDSTORE when offered and cond is set. */
static void
imap_select_cmd(struct backend *be, const char *name, uint32_t uv,
    uint64_t modseq, int cond, struct buf *cmd)
{
	struct imap_folder	*f;
	const char		*c;

	buf_adds(cmd, "SELECT \"");
	for (c = name; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\')
			buf_addc(cmd, '\\');
		buf_addc(cmd, *c);
	}
	buf_addc(cmd, '"');
	if (uv != 0) {
		buf_addf(cmd, " (QRESYNC (%u %llu", uv,
		    (unsigned long long)modseq);
		pthread_mutex_lock(&be->data_lock);
		f = imap_folder_add(be, name);
		if (f->nmsgs > 0) {
			buf_addc(cmd, ' ');
			imap_known_uids(f, cmd);
		}
		pthread_mutex_unlock(&be->data_lock);
		buf_adds(cmd, "))");
	} else if (cond && be->cap_condstore)
		buf_adds(cmd, " (CONDSTORE)");
}

/*
 * Reads the answers of an ENABLE (when enable is set) and a SELECT of
 * name sent from raw tag first: the VANISHED (EARLIER) and FETCH lines are
 * applied to the folder (uv set: a QRESYNC SELECT), and libetpan is told a
 * folder is selected.
 */
static int
imap_select_finish(struct backend *be, const char *name, int enable,
    uint32_t uv, unsigned first, uint64_t *now, struct error *err)
{
	struct mailimap_selection_info	*si;
	struct imap_resync		 rs;
	size_t				 i;
	int				 rv;

	memset(&rs, 0, sizeof rs);
	rs.be = be;
	rv = imap_raw_finish(be, first, enable ? 2 : 1, imap_resync_line, &rs,
	    err);
	if (enable)
		be->qresync_on = rs.enabled;
	pthread_mutex_lock(&be->data_lock);
	rs.f = imap_folder_add(be, name);
	for (i = 0; i < rs.nkeep; i++) {
		if (rv == 0 && uv != 0 && rs.uidvalidity == uv)
			imap_resync_apply(&rs, rs.keep[i], strlen(rs.keep[i]));
		free(rs.keep[i]);
	}
	pthread_mutex_unlock(&be->data_lock);
	free(rs.keep);
	if (rv != 0)
		return (-1);
	if (rs.bad || rs.uidvalidity == 0) {
		imap_disconnect(be);
		return (error_set(err, ERR_PROTO, "%s: %s: bad answer to "
		    "SELECT", be->name, name));
	}
	be->s->imap_state = MAILIMAP_STATE_SELECTED;
	if ((si = mailimap_selection_info_new()) != NULL) {
		if (be->s->imap_selection_info != NULL)
			mailimap_selection_info_free(
			    be->s->imap_selection_info);
		be->s->imap_selection_info = si;
		si->sel_uidvalidity = rs.uidvalidity;
		si->sel_uidnext = rs.uidnext;
		si->sel_exists = rs.exists;
		si->sel_has_exists = 1;
		si->sel_perm = MAILIMAP_MAILBOX_READWRITE;
	}
	*now = rs.modseq;
	be->sel_resynced = uv != 0 && rs.uidvalidity == uv;
	if (rs.vanished > 0)
		log_debug("imap: %s: %s: %zu vanished", be->name, name,
		    rs.vanished);
	return (0);
}

/*
 * SELECT through the raw path, after ENABLE QRESYNC in the same write when
 * enable is set (one round trip for both, on the way to a first screen);
 * with QRESYNC parameters when uv is set -- which libetpan 1.9.4's
 * mailimap_select_qresync cannot send: it leaves out the parentheses
 * around QRESYNC, which Dovecot takes as a plain SELECT.
 */
static int
imap_select_raw(struct backend *be, const char *name, int enable,
    uint32_t uv, uint64_t modseq, uint64_t *now, struct error *err)
{
	struct buf	 cmd;
	const char	*cmds[2];
	unsigned	 first;
	size_t		 n = 0;
	int		 rv;

	buf_init(&cmd);
	imap_select_cmd(be, name, uv, modseq, 1, &cmd);
	if (enable)
		cmds[n++] = "ENABLE QRESYNC";
	cmds[n++] = buf_str(&cmd);
	rv = imap_raw_send(be, cmds, n, &first, err);
	buf_free(&cmd);
	if (rv != 0)
		return (-1);
	return (imap_select_finish(be, name, enable, uv, first, now, err));
}

/* SELECT, with QRESYNC when the folder is cached and the server offers
   it, else with CONDSTORE when offered; the folder's UIDVALIDITY decides
   whether what we know of it still holds. */
int
imap_select(struct backend *be, const char *name, struct error *err)
{
	struct imap_folder	*f;
	uint64_t		 modseq = 0, known_modseq;
	uint32_t		 known_uv;
	int			 r, enable;

	enable = imap_qresync_wanted(be);
	free(be->selected);
	be->selected = NULL;
	be->sel_resynced = 0;
	be->sel_fresh = 0;
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_add(be, name);
	if (!f->loaded && f->nmsgs == 0)
		imap_cache_load(be, f);
	known_uv = f->uidvalidity;
	known_modseq = f->modseq;
	pthread_mutex_unlock(&be->data_lock);
	if (known_uv == 0 || known_modseq == 0 || !(be->qresync_on || enable))
		known_uv = 0;
	r = MAILIMAP_NO_ERROR;
	if ((enable || known_uv != 0) && strpbrk(name, "\r\n") == NULL) {
		if (imap_select_raw(be, name, enable, known_uv, known_modseq,
		    &modseq, err) != 0) {
			/* QRESYNC offered but not enabled: a plain one. */
			if (err->kind != ERR_PROTO || !enable ||
			    be->qresync_on || known_uv == 0 || be->s == NULL)
				return (-1);
			error_clear(err);
			if (imap_select_raw(be, name, 0, 0, 0, &modseq,
			    err) != 0)
				return (-1);
		}
	} else if (be->cap_condstore)
		r = mailimap_select_condstore(be->s, name, &modseq);
	else
		r = mailimap_select(be->s, name);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "SELECT", err));
	imap_select_installed(be, name, modseq);
	return (0);
}

/* Takes in a SELECT of name that succeeded: what we know of the folder
   holds only with the same UIDVALIDITY. */
static void
imap_select_installed(struct backend *be, const char *name, uint64_t modseq)
{
	struct imap_folder	*f;
	uint32_t		 uv;

	be->selected = xstrdup(name);
	be->sel_modseq = modseq;
	uv = be->s->imap_selection_info->sel_uidvalidity;
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_add(be, name);
	if (f->uidvalidity != 0 && f->uidvalidity != uv) {
		log_warnx("%s: %s: UIDVALIDITY changed, cache dropped",
		    be->name, name);
		imap_folder_clear(f);
		imap_cache_drop(be, name);
	}
	f->uidvalidity = uv;
	pthread_mutex_unlock(&be->data_lock);
}

int
imap_select_ahead(struct backend *be, const char *name, struct error *err)
{
	struct buf	 cmd;
	const char	*cmds[2];
	int		 rv;

	/* What this session's first SELECT would have asked. */
	be->qresync_conn = be->stats.connects;
	be->qresync_on = 0;
	free(be->ahead);
	be->ahead = NULL;
	buf_init(&cmd);
	imap_select_cmd(be, name, 0, 0, 0, &cmd);
	cmds[0] = "ENABLE QRESYNC CONDSTORE";
	cmds[1] = buf_str(&cmd);
	rv = imap_raw_send(be, cmds, 2, &be->ahead_tag, err);
	buf_free(&cmd);
	if (rv == 0)
		be->ahead = xstrdup(name);
	return (rv);
}

int
imap_select_ahead_done(struct backend *be, struct error *err)
{
	uint64_t	 modseq = 0;
	char		*name = be->ahead;
	int		 rv;

	if (name == NULL)
		return (0);
	be->ahead = NULL;
	free(be->selected);
	be->selected = NULL;
	be->sel_resynced = be->sel_fresh = 0;
	rv = imap_select_finish(be, name, 1, 0, be->ahead_tag, &modseq, err);
	if (rv == 0) {
		imap_select_installed(be, name, modseq);
		be->sel_fresh = 1;
	} else if (err->kind == ERR_PROTO && be->s != NULL) {
		/* Refused (no such folder, say): the usual path will say. */
		error_clear(err);
		rv = 0;
	}
	free(name);
	return (rv);
}

/* What an ESEARCH answer to UID SEARCH RETURN (ALL) gave. */
struct imap_esearch {
	const char	*tag;
	uint32_t	*lo, *hi;
	size_t		 n;
	int		 seen;		/* our ESEARCH came */
	int		 bad;		/* it did not parse */
};

/* Takes "ESEARCH (TAG "F1") UID ALL 1:5,9" apart (other lines pass). */
static void
imap_esearch_line(void *arg, const char *s, size_t len)
{
	struct imap_esearch	*es = arg;
	const char		*end = s + len, *w;
	size_t			 wl;

	if (len < 7 || strncasecmp(s, "ESEARCH", 7) != 0 ||
	    (len > 7 && s[7] != ' '))
		return;
	es->seen = 1;
	s += 7;
	while (s < end) {
		while (s < end && *s == ' ')
			s++;
		if (s < end && *s == '(') {	/* the (TAG "...") */
			while (s < end && *s != ')')
				s++;
			s++;
			continue;
		}
		w = s;
		while (s < end && *s != ' ')
			s++;
		wl = s - w;
		if (wl == 3 && strncasecmp(w, "UID", 3) == 0)
			continue;
		while (s < end && *s == ' ')
			s++;
		if (wl == 3 && strncasecmp(w, "ALL", 3) == 0) {
			w = s;
			while (s < end && *s != ' ')
				s++;
			free(es->lo);
			free(es->hi);
			if (imap_seqset_parse(w, s - w, &es->lo, &es->hi,
			    &es->n) != 0)
				es->bad = 1;
			continue;
		}
		while (s < end && *s != ' ')	/* MIN 3, COUNT 5... */
			s++;
	}
}

/* Compares UIDs, greatest first, for qsort. */
static int
imap_uid_desc(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? 1 : x > y ? -1 : 0);
}

/* UIDs, newest first, from UID SEARCH RETURN (ALL) ALL (RFC 4731): a
   compact sequence set instead of every UID spelt out. */
static int
imap_order_esearch(struct backend *be, uint32_t **out, size_t *n,
    struct error *err)
{
	struct imap_esearch	 es;
	uint32_t		*v, u;
	uint64_t		 total = 0, limit;
	size_t			 i, k = 0;

	memset(&es, 0, sizeof es);
	if (imap_raw(be, "UID SEARCH RETURN (ALL) ALL", imap_esearch_line,
	    &es, err) != 0) {
		free(es.lo);
		free(es.hi);
		return (-1);
	}
	/* No more UIDs than messages: a lying range is an error. */
	limit = (uint64_t)be->s->imap_selection_info->sel_exists;
	for (i = 0; i < es.n && !es.bad; i++) {
		if (es.hi[i] == UINT32_MAX || es.lo[i] == 0)
			es.bad = 1;
		total += (uint64_t)es.hi[i] - es.lo[i] + 1;
	}
	if (!es.seen || es.bad || total > limit + 1024) {
		free(es.lo);
		free(es.hi);
		imap_disconnect(be);
		return (error_set(err, ERR_PROTO, "%s: bad ESEARCH answer",
		    be->name));
	}
	v = xreallocarray(NULL, total + 1, sizeof *v);
	for (i = es.n; i > 0; i--) {
		for (u = es.hi[i - 1]; ; u--) {
			v[k++] = u;
			if (u == es.lo[i - 1])
				break;
		}
	}
	free(es.lo);
	free(es.hi);
	/* Ranges come in ascending order; make sure of it. */
	for (i = 1; i < k && v[i] < v[i - 1]; i++)
		;
	if (i < k)
		qsort(v, k, sizeof *v, imap_uid_desc);
	*out = v;
	*n = k;
	return (0);
}

/* The display order, newest first: UID SORT (REVERSE DATE), else UIDs
   from UID SEARCH RETURN (ALL) ALL with ESEARCH, else from UID SEARCH
   ALL, in reverse. */
static int
imap_order(struct backend *be, uint32_t **out, size_t *n,
    struct error *err)
{
	struct mailimap_search_key	*key;
	clist				*res = NULL;
	clistiter			*it;
	uint32_t			*v;
	size_t				 i = 0;
	int				 r;

	/* An empty folder: nothing to ask (libetpan 1.9.4 takes the empty
	   "* SORT" answer for none, and leaks it). */
	if (be->s->imap_selection_info->sel_exists == 0) {
		*out = xreallocarray(NULL, 1, sizeof **out);
		*n = 0;
		return (0);
	}
	if (!be->cap_sort && mailimap_has_extension(be->s, "ESEARCH"))
		return (imap_order_esearch(be, out, n, err));
	key = mailimap_search_key_new_all();
	if (be->cap_sort) {
		struct mailimap_sort_key *sk = mailimap_sort_key_new_date(1);

		r = mailimap_uid_sort(be->s, "UTF-8", sk, key, &res);
		mailimap_sort_key_free(sk);
	} else
		r = mailimap_uid_search(be->s, NULL, key, &res);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, be->cap_sort ? "SORT" :
		    "SEARCH", err));
	v = xreallocarray(NULL, clist_count(res) + 1, sizeof *v);
	for (it = clist_begin(res); it != NULL; it = clist_next(it))
		v[i++] = *(uint32_t *)clist_content(it);
	if (be->cap_sort)
		mailimap_sort_result_free(res);
	else {
		mailimap_search_result_free(res);
		/* SEARCH answers in ascending order: newest UID first. */
		for (size_t a = 0, b = i; a + 1 < b; a++, b--) {
			uint32_t t = v[a];

			v[a] = v[b - 1];
			v[b - 1] = t;
		}
	}
	*out = v;
	*n = i;
	return (0);
}

/* Decodes RFC 2047 words into UTF-8; NULL in, "" out. */
static char *
imap_decode(const char *s)
{
	char	*out = NULL;
	size_t	 idx = 0;

	if (s == NULL)
		return (xstrdup(""));
	if (mailmime_encoded_phrase_parse("iso-8859-1", s, strlen(s), &idx,
	    "utf-8", &out) != MAILIMF_NO_ERROR || out == NULL)
		return (xstrdup(s));
	{
		char *copy = xstrdup(out);

		free(out);
		return (copy);
	}
}

/* The sender to show: the decoded name, else mailbox@host. */
static char *
imap_from(struct mailimap_envelope *env)
{
	struct mailimap_address	*a;
	char			*name, *out;

	if (env->env_from == NULL || env->env_from->frm_list == NULL ||
	    clist_begin(env->env_from->frm_list) == NULL)
		return (xstrdup(""));
	a = clist_content(clist_begin(env->env_from->frm_list));
	if (a->ad_personal_name != NULL) {
		name = imap_decode(a->ad_personal_name);
		if (*name != '\0')
			return (name);
		free(name);
	}
	xasprintf(&out, "%s@%s", a->ad_mailbox_name != NULL ?
	    a->ad_mailbox_name : "", a->ad_host_name != NULL ?
	    a->ad_host_name : "");
	return (out);
}

/* Seconds since the epoch of an IMAP date-time. */
static int64_t
imap_time(struct mailimap_date_time *d)
{
	struct tm	tm;
	int		zone = d->dt_zone, sign = zone < 0 ? -1 : 1;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = d->dt_year - 1900;
	tm.tm_mon = d->dt_month - 1;
	tm.tm_mday = d->dt_day;
	tm.tm_hour = d->dt_hour;
	tm.tm_min = d->dt_min;
	tm.tm_sec = d->dt_sec;
	zone *= sign;
	return ((int64_t)timegm(&tm) - sign * ((zone / 100) * 3600 +
	    (zone % 100) * 60));
}

/* The Date header's time, or -1. */
static int64_t
imap_env_date(const char *s)
{
	struct mailimf_date_time	*d = NULL;
	struct mailimap_date_time	 t;
	size_t				 idx = 0;

	if (s == NULL || mailimf_date_time_parse(s, strlen(s), &idx, &d) !=
	    MAILIMF_NO_ERROR)
		return (-1);
	t.dt_day = d->dt_day;
	t.dt_month = d->dt_month;
	t.dt_year = d->dt_year;
	t.dt_hour = d->dt_hour;
	t.dt_min = d->dt_min;
	t.dt_sec = d->dt_sec;
	t.dt_zone = d->dt_zone;
	mailimf_date_time_free(d);
	return (imap_time(&t));
}

/* Message flags from a FETCH FLAGS list; keywords into kw. */
static unsigned
imap_flags(struct mailimap_msg_att_dynamic *dyn, struct buf *kw)
{
	struct mailimap_flag_fetch	*ff;
	clistiter			*it;
	unsigned			 flags = MSG_UNREAD;

	if (dyn == NULL || dyn->att_list == NULL)
		return (flags);
	for (it = clist_begin(dyn->att_list); it != NULL;
	    it = clist_next(it)) {
		ff = clist_content(it);
		if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER)
			continue;
		switch (ff->fl_flag->fl_type) {
		case MAILIMAP_FLAG_SEEN:
			flags &= ~MSG_UNREAD;
			break;
		case MAILIMAP_FLAG_FLAGGED:
			flags |= MSG_FLAGGED;
			break;
		case MAILIMAP_FLAG_ANSWERED:
			flags |= MSG_REPLIED;
			break;
		case MAILIMAP_FLAG_DELETED:
			flags |= MSG_DELETED;
			break;
		case MAILIMAP_FLAG_DRAFT:
			flags |= MSG_DRAFT;
			break;
		case MAILIMAP_FLAG_KEYWORD:
			if (kw == NULL)
				break;
			if (strcasecmp(ff->fl_flag->fl_data.fl_keyword,
			    "$Forwarded") == 0)
				flags |= MSG_PASSED;
			if (kw->len > 0)
				buf_addc(kw, ' ');
			buf_adds(kw, ff->fl_flag->fl_data.fl_keyword);
			break;
		}
	}
	return (flags);
}

/* The message ids in a References header, space-separated. */
static void
imap_refs(struct buf *b, const char *s, size_t len)
{
	const char	*end = s + len, *lt, *gt;

	while (s < end && (lt = memchr(s, '<', end - s)) != NULL) {
		if ((gt = memchr(lt, '>', end - lt)) == NULL)
			break;
		if (b->len > 0)
			buf_addc(b, ' ');
		buf_add(b, lt, gt - lt + 1);
		s = gt + 1;
	}
}

/* Takes one FETCH response into the folder (data_lock held); imap.c's
   first screen uses it too. */
void
imap_apply(struct backend *be, struct imap_folder *f,
    struct mailimap_msg_att *att, int summary)
{
	struct mailimap_msg_att_item	*item;
	struct mailimap_msg_att_static	*st;
	struct mailimap_envelope	*env = NULL;
	struct mailimap_msg_att_dynamic	*dyn = NULL;
	struct imap_msg			*m;
	struct buf			 refs, kw;
	clistiter			*it;
	uint32_t			 uid = 0, size = 0;
	int64_t				 idate = 0, d;
	const char			*hdr = NULL;
	size_t				 hdrlen = 0;

	buf_init(&refs);
	buf_init(&kw);
	for (it = clist_begin(att->att_list); it != NULL;
	    it = clist_next(it)) {
		item = clist_content(it);
		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			dyn = item->att_data.att_dyn;
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_ENVELOPE:
			env = st->att_data.att_env;
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			idate = imap_time(st->att_data.att_internal_date);
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			size = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			hdr = st->att_data.att_body_section->sec_body_part;
			hdrlen = st->att_data.att_body_section->sec_length;
			break;
		}
	}
	be->stats.fetch_responses++;
	if (uid == 0 || (m = imap_msg_find(f, uid)) == NULL) {
		buf_free(&refs);
		buf_free(&kw);
		return;
	}
	if (dyn != NULL) {
		m->flags = imap_flags(dyn, &kw);
		free(m->keywords);
		m->keywords = buf_steal(&kw);
	}
	buf_free(&kw);
	if (summary && env != NULL) {
		imap_msg_clear(m);
		if (dyn != NULL) {
			buf_init(&kw);
			imap_flags(dyn, &kw);
			m->keywords = buf_steal(&kw);
		}
		m->from = imap_from(env);
		m->subject = imap_decode(env->env_subject);
		m->msgid = xstrdup(env->env_message_id != NULL ?
		    env->env_message_id : "");
		if (hdr != NULL)
			imap_refs(&refs, hdr, hdrlen);
		if (env->env_in_reply_to != NULL)
			imap_refs(&refs, env->env_in_reply_to,
			    strlen(env->env_in_reply_to));
		m->refs = buf_steal(&refs);
		d = imap_env_date(env->env_date);
		m->date = d >= 0 ? d : idate;
		m->size = size;
		m->have = 1;
		f->dirty = 1;
	}
	buf_free(&refs);
}

/* The FETCH items of a summary: UID FLAGS ENVELOPE INTERNALDATE and
   the References header (IMAP_SUMMARY_ATTS in text). */
struct mailimap_fetch_type *
imap_summary_items(void)
{
	struct mailimap_fetch_type	*ft;
	clist				*hl;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_flags());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_envelope());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_internaldate());
	/* No RFC822.SIZE: no row shows it, and on a Maildir it makes
	   Dovecot read its whole uidlist first (100k: 0.3 to 0.5 s before
	   the first summary). */
	hl = clist_new();
	clist_append(hl, xstrdup("References"));
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new_header_fields(mailimap_header_list_new(hl))));
	return (ft);
}

/* UID FETCH of uids with the summary items (or just FLAGS). */
static int
imap_fetch_uids(struct backend *be, const char *folder,
    const uint32_t *uids, size_t n, int summary, uint64_t changedsince,
    struct error *err)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_set		*set;
	struct imap_folder		*f;
	clist				*res = NULL;
	clistiter			*it;
	int				 r;

	if (summary)
		ft = imap_summary_items();
	else {
		ft = mailimap_fetch_type_new_fetch_att_list_empty();
		mailimap_fetch_type_new_fetch_att_list_add(ft,
		    mailimap_fetch_att_new_uid());
		mailimap_fetch_type_new_fetch_att_list_add(ft,
		    mailimap_fetch_att_new_flags());
	}
	if (uids == NULL)
		set = mailimap_set_new_interval(1, 0);
	else
		set = imap_set_from(uids, n);
	be->stats.fetch_commands++;
	if (changedsince != 0) {
		be->stats.changedsince++;
		r = mailimap_uid_fetch_changedsince(be->s, set, ft,
		    changedsince, &res);
	} else
		r = mailimap_uid_fetch(be->s, set, ft, &res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "FETCH", err));
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) != NULL) {
		for (it = clist_begin(res); it != NULL; it = clist_next(it))
			imap_apply(be, f, clist_content(it), summary);
	}
	pthread_mutex_unlock(&be->data_lock);
	mailimap_fetch_list_free(res);
	return (0);
}

/* Recounts a folder's totals from what we know (data_lock held). */
void
imap_recount(struct imap_folder *f)
{
	size_t	i, unread = 0, have = 0;

	for (i = 0; i < f->nmsgs; i++) {
		if (!f->msgs[i].have)
			continue;
		have++;
		if (f->msgs[i].flags & MSG_UNREAD)
			unread++;
	}
	f->total = f->norder;
	if (have == f->nmsgs)
		f->unread = unread;
}

/*
 * Brings a folder up to date: SELECT, the order, flag changes since our
 * HIGHESTMODSEQ (all flags without CONDSTORE), then the summaries of the
 * first screen. The rest is left to imap_fill.
 */
int
imap_folder_sync(struct backend *be, const char *name, struct error *err)
{
	struct imap_folder	*f;
	uint32_t		*order = NULL;
	uint64_t		 old, now;
	size_t			 n = 0;
	int			 had, more, fresh;

	/* A first screen selected it a moment ago: no second SELECT. */
	fresh = be->sel_fresh && be->selected != NULL &&
	    strcmp(be->selected, name) == 0;
	be->sel_fresh = 0;
	if (!fresh && imap_select(be, name, err) != 0)
		return (-1);
	now = be->sel_modseq;
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_add(be, name);
	/* QRESYNC told what vanished and what changed: when nothing was
	   added either, the cached order holds and no search is needed. */
	if (be->sel_resynced && f->norder == f->nmsgs &&
	    f->nmsgs == be->s->imap_selection_info->sel_exists) {
		f->loaded = 1;
		pthread_mutex_unlock(&be->data_lock);
		goto counted;
	}
	pthread_mutex_unlock(&be->data_lock);
	if (imap_order(be, &order, &n, err) != 0)
		return (-1);
	pthread_mutex_lock(&be->data_lock);
	f = imap_folder_add(be, name);
	old = f->modseq;
	had = f->nmsgs > 0;
	imap_folder_keep(f, order, n);
	pthread_mutex_unlock(&be->data_lock);
	free(order);
	if (had && n > 0 && !be->sel_resynced) {
		if (be->cap_condstore && old != 0 && now != 0) {
			if (old != now && imap_fetch_uids(be, name, NULL, 0, 0,
			    old, err) != 0)
				return (-1);
		} else if (imap_fetch_uids(be, name, NULL, 0, 0, 0, err) != 0)
			return (-1);
	}
counted:
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, name)) != NULL) {
		if (f->modseq != now)
			f->dirty = 1;
		f->modseq = now;
		imap_recount(f);
	}
	pthread_mutex_unlock(&be->data_lock);
	return (imap_fill(be, name, IMAP_SCREEN_ROWS, &more, err));
}

/* Fetches the summaries of up to max rows that lack one, top rows first.
   *more is 1 when some were fetched; when none are missing the folder's
   cache file is brought up to date. */
int
imap_fill(struct backend *be, const char *name, size_t max, int *more,
    struct error *err)
{
	struct imap_folder	*f;
	struct imap_msg		*m;
	uint32_t		*uids;
	size_t			 i, n = 0;
	int			 first, rv;

	*more = 0;
	uids = xreallocarray(NULL, max + 1, sizeof *uids);
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, name)) == NULL) {
		pthread_mutex_unlock(&be->data_lock);
		free(uids);
		return (0);
	}
	first = be->stats.first_batch == 0;
	for (i = 0; i < f->norder && n < max; i++) {
		m = imap_msg_find(f, f->order[i]);
		if (m != NULL && !m->have)
			uids[n++] = f->order[i];
	}
	if (n == 0 && f->dirty) {
		imap_recount(f);
		imap_cache_save(be, f);
	}
	pthread_mutex_unlock(&be->data_lock);
	if (n == 0) {
		free(uids);
		return (0);
	}
	if (first)
		be->stats.first_batch = n;
	rv = imap_fetch_uids(be, name, uids, n, 1, 0, err);
	free(uids);
	if (rv == 0)
		*more = 1;
	return (rv);
}

/* After IDLE or NOOP said something: the open folder again, cheaply. */
int
imap_poll_changes(struct backend *be, struct error *err)
{
	char	*cur;
	int	 rv = 0;

	pthread_mutex_lock(&be->data_lock);
	cur = be->current != NULL ? xstrdup(be->current) : NULL;
	pthread_mutex_unlock(&be->data_lock);
	if (cur == NULL)
		return (0);
	if ((rv = imap_folder_sync(be, cur, err)) == 0)
		imap_notify(be, BACKEND_CHANGED_ROWS);
	free(cur);
	return (rv);
}

/* Parses an id "UIDVALIDITY.UID.FOLDER"; folder owned by the caller. */
int
imap_id_parse(const char *id, uint32_t *uv, uint32_t *uid, char **folder)
{
	unsigned long	 a, b;
	char		*end;

	errno = 0;
	a = strtoul(id, &end, 10);
	if (errno != 0 || *end != '.' || a > UINT32_MAX)
		return (-1);
	b = strtoul(end + 1, &end, 10);
	if (errno != 0 || *end != '.' || b == 0 || b > UINT32_MAX)
		return (-1);
	*uv = (uint32_t)a;
	*uid = (uint32_t)b;
	*folder = xstrdup(end + 1);
	return (0);
}

/* Makes sure folder is selected and its UIDVALIDITY is still uv. */
static int
imap_select_for(struct backend *be, const char *folder, uint32_t uv,
    struct error *err)
{
	if ((be->selected == NULL || strcmp(be->selected, folder) != 0) &&
	    imap_select(be, folder, err) != 0)
		return (-1);
	if (be->s->imap_selection_info->sel_uidvalidity != uv)
		return (error_set(err, ERR_NOTFOUND, "%s: %s changed on the "
		    "server; reopen it", be->name, folder));
	return (0);
}

/* A flag list for STORE from MSG_* bits. */
static struct mailimap_flag_list *
imap_flag_list(unsigned flags)
{
	struct mailimap_flag_list	*fl = mailimap_flag_list_new_empty();

	if (flags & MSG_UNREAD)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (flags & MSG_FLAGGED)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (flags & MSG_REPLIED)
		mailimap_flag_list_add(fl, mailimap_flag_new_answered());
	if (flags & MSG_DELETED)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	if (flags & MSG_DRAFT)
		mailimap_flag_list_add(fl, mailimap_flag_new_draft());
	if (flags & MSG_PASSED)
		mailimap_flag_list_add(fl,
		    mailimap_flag_new_flag_keyword(xstrdup("$Forwarded")));
	return (fl);
}

/* One UID STORE +FLAGS.SILENT or -FLAGS.SILENT. */
static int
imap_store1(struct backend *be, uint32_t uid, unsigned flags, int add,
    struct error *err)
{
	struct mailimap_store_att_flags	*sf;
	struct mailimap_set		*set;
	int				 r;

	if (flags == 0)
		return (0);
	set = mailimap_set_new_single(uid);
	if (add)
		sf = mailimap_store_att_flags_new_add_flags_silent(
		    imap_flag_list(flags));
	else
		sf = mailimap_store_att_flags_new_remove_flags_silent(
		    imap_flag_list(flags));
	r = mailimap_uid_store(be->s, set, sf);
	mailimap_store_att_flags_free(sf);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "STORE", err));
	return (0);
}

/* The Trash folder, or NULL (data_lock held). */
static const char *
imap_trash(struct backend *be)
{
	size_t	i;

	for (i = 0; i < be->nfolders; i++) {
		if (be->folders[i]->special & IMAP_SPECIAL_TRASH)
			return (be->folders[i]->name);
	}
	return (NULL);
}

/* The flags of a STORE as IMAP writes them, "(\Seen \Flagged)". */
static void
imap_flag_text(struct buf *b, unsigned flags)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ MSG_UNREAD, "\\Seen" },
		{ MSG_FLAGGED, "\\Flagged" },
		{ MSG_REPLIED, "\\Answered" },
		{ MSG_DELETED, "\\Deleted" },
		{ MSG_DRAFT, "\\Draft" },
		{ MSG_PASSED, "$Forwarded" },
	};
	size_t	i;
	int	first = 1;

	buf_addc(b, '(');
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (flags & names[i].bit) {
			if (!first)
				buf_addc(b, ' ');
			buf_adds(b, names[i].name);
			first = 0;
		}
	}
	buf_addc(b, ')');
}

/* STOREs to send together: each command's text, the change it belongs
   to and its answer (1 OK, 0 refused, -1 none). */
struct imap_stores {
	struct backend	 *be;
	char		**cmd;
	size_t		 *owner;
	int		 *ok;
	char		**why;
	size_t		  n;
	size_t		  cap;
	size_t		  next;
};

/* Adds one command for change owner. */
static void
imap_stores_add(struct imap_stores *st, size_t owner, struct buf *b)
{
	if (st->n == st->cap) {
		st->cap = st->cap == 0 ? 16 : st->cap * 2;
		st->cmd = xreallocarray(st->cmd, st->cap, sizeof *st->cmd);
		st->owner = xreallocarray(st->owner, st->cap,
		    sizeof *st->owner);
		st->ok = xreallocarray(st->ok, st->cap, sizeof *st->ok);
		st->why = xreallocarray(st->why, st->cap, sizeof *st->why);
	}
	st->cmd[st->n] = buf_steal(b);
	st->owner[st->n] = owner;
	st->ok[st->n] = -1;
	st->why[st->n] = NULL;
	st->n++;
	buf_init(b);
}

static void
imap_stores_free(struct imap_stores *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++) {
		free(st->cmd[i]);
		free(st->why[i]);
	}
	free(st->cmd);
	free(st->owner);
	free(st->ok);
	free(st->why);
	memset(st, 0, sizeof *st);
}

static int
imap_stores_next(void *arg, struct buf *b)
{
	struct imap_stores	*st = arg;

	if (st->next == st->n)
		return (0);
	buf_adds(b, st->cmd[st->next++]);
	return (1);
}

static void
imap_stores_done(void *arg, size_t i, int ok, const char *text)
{
	struct imap_stores	*st = arg;

	st->ok[i] = ok;
	if (!ok)
		st->why[i] = xstrdup(text[0] != '\0' ? text : "refused");
}

/* Writes the commands at once (IMAP_PIPE_STORES in flight at most) and
   reads their completions. */
static int
imap_stores_send(struct backend *be, struct imap_stores *st,
    struct error *err)
{
	struct imap_pipe	p;

	if (st->n == 0)
		return (0);
	memset(&p, 0, sizeof p);
	p.be = be;
	p.what = "STORE";
	p.depth = IMAP_PIPE_STORES;
	p.next = imap_stores_next;
	p.done = imap_stores_done;
	p.arg = st;
	return (imap_pipe_run(&p, err));
}

/* Whether change c is a delete that means a move to the Trash: its
   Trash folder then, else NULL. */
static char *
imap_change_trash(struct backend *be, const struct imap_change *c,
    const char *folder)
{
	char	*trash = NULL;

	if (!(c->add & MSG_DELETED))
		return (NULL);
	pthread_mutex_lock(&be->data_lock);
	if (imap_trash(be) != NULL && strcmp(imap_trash(be), folder) != 0)
		trash = xstrdup(imap_trash(be));
	pthread_mutex_unlock(&be->data_lock);
	return (trash);
}

/* Marks the changes [i, j) refused with e. */
static void
imap_change_refuse(struct imap_change *c, size_t i, size_t j,
    const struct error *e)
{
	for (; i < j; i++) {
		c[i].result = IMAP_CHANGE_REFUSED;
		c[i].err = *e;
	}
}

/* Whether a failure means the session is gone (the rest must wait). */
static int
imap_change_lost(const struct error *e)
{
	return (e->kind == ERR_NET || e->kind == ERR_CANCELLED);
}

int
imap_store_changes(struct backend *be, struct imap_change *c, size_t n,
    struct error *err)
{
	struct imap_stores	 st;
	struct imap_folder	*f;
	struct imap_msg		*m;
	struct error		 e;
	struct buf		 b;
	uint32_t		 uv, uid, uv2, uid2;
	char			*folder, *other, *trash;
	size_t			 i, j, k, *sent, *okd;
	unsigned		 sadd, srem;
	int			 r, same;

	for (i = 0; i < n; i++)
		c[i].result = IMAP_CHANGE_UNSENT;
	for (i = 0; i < n; i = j) {
		j = i + 1;
		error_clear(&e);
		if (imap_id_parse(c[i].id, &uv, &uid, &folder) != 0) {
			error_set(&e, ERR_NOTFOUND, "bad message id %s",
			    c[i].id);
			imap_change_refuse(c, i, j, &e);
			continue;
		}
		if ((trash = imap_change_trash(be, &c[i], folder)) != NULL) {
			/* Delete means: to the Trash. */
			r = imap_move_msgs(be, &c[i].id, 1, trash, &e);
			free(trash);
			free(folder);
			if (r == 0)
				c[i].result = IMAP_CHANGE_DONE;
			else if (imap_change_lost(&e)) {
				*err = e;
				return (-1);
			} else
				imap_change_refuse(c, i, j, &e);
			continue;
		}
		/* The changes after it in the same folder go with it. */
		for (; j < n; j++) {
			if (imap_id_parse(c[j].id, &uv2, &uid2, &other) != 0)
				break;
			same = uv2 == uv && strcmp(other, folder) == 0;
			trash = same ? imap_change_trash(be, &c[j], other) :
			    NULL;
			free(other);
			if (!same || trash != NULL) {
				free(trash);
				break;
			}
		}
		if (imap_select_for(be, folder, uv, &e) != 0) {
			free(folder);
			if (imap_change_lost(&e)) {
				*err = e;
				return (-1);
			}
			imap_change_refuse(c, i, j, &e);
			continue;
		}
		memset(&st, 0, sizeof st);
		buf_init(&b);
		for (k = i; k < j; k++) {
			if (imap_id_parse(c[k].id, &uv2, &uid, &other) != 0)
				continue;
			free(other);
			/* MSG_UNREAD is the absence of \Seen. */
			sadd = (c[k].add & ~MSG_UNREAD) |
			    (c[k].remove & MSG_UNREAD);
			srem = (c[k].remove & ~MSG_UNREAD) |
			    (c[k].add & MSG_UNREAD);
			if (sadd != 0) {
				buf_addf(&b, "UID STORE %u +FLAGS.SILENT ",
				    uid);
				imap_flag_text(&b, sadd);
				imap_stores_add(&st, k, &b);
			}
			if (srem != 0) {
				buf_addf(&b, "UID STORE %u -FLAGS.SILENT ",
				    uid);
				imap_flag_text(&b, srem);
				imap_stores_add(&st, k, &b);
			}
		}
		buf_free(&b);
		r = imap_stores_send(be, &st, err);
		sent = xcalloc(j - i, sizeof *sent);
		okd = xcalloc(j - i, sizeof *okd);
		for (k = 0; k < st.n; k++) {
			sent[st.owner[k] - i]++;
			if (st.ok[k] == 1)
				okd[st.owner[k] - i]++;
			else if (st.ok[k] == 0 &&
			    c[st.owner[k]].result == IMAP_CHANGE_UNSENT) {
				c[st.owner[k]].result = IMAP_CHANGE_REFUSED;
				error_set(&c[st.owner[k]].err, ERR_PROTO,
				    "%s: STORE failed: %s", be->name,
				    st.why[k]);
			}
		}
		pthread_mutex_lock(&be->data_lock);
		f = imap_folder_find(be, folder);
		for (k = i; k < j; k++) {
			if (c[k].result != IMAP_CHANGE_UNSENT ||
			    okd[k - i] != sent[k - i])
				continue;
			c[k].result = IMAP_CHANGE_DONE;
			if (f != NULL && imap_id_parse(c[k].id, &uv2, &uid,
			    &other) == 0) {
				free(other);
				if ((m = imap_msg_find(f, uid)) != NULL) {
					m->flags = (m->flags | c[k].add) &
					    ~c[k].remove;
					f->dirty = 1;
				}
			}
		}
		if (f != NULL)
			imap_recount(f);
		pthread_mutex_unlock(&be->data_lock);
		free(sent);
		free(okd);
		imap_stores_free(&st);
		free(folder);
		if (r != 0)
			return (-1);
	}
	return (0);
}

int
imap_store_flags(struct backend *be, const char *const *ids, size_t n,
    unsigned add, unsigned remove, struct error *err)
{
	struct imap_change	*c;
	size_t			 i;
	int			 rv = 0;

	c = xcalloc(n + 1, sizeof *c);
	for (i = 0; i < n; i++) {
		c[i].id = ids[i];
		c[i].add = add;
		c[i].remove = remove;
	}
	if (imap_store_changes(be, c, n, err) != 0)
		rv = -1;
	for (i = 0; i < n && rv == 0; i++) {
		if (c[i].result == IMAP_CHANGE_REFUSED) {
			if (err != NULL)
				*err = c[i].err;
			rv = -1;
		}
	}
	free(c);
	return (rv);
}

/* Whether s is a keyword IMAP accepts (an atom, no backslash). */
static int
imap_keyword_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("(){%*\"\\]", *s) != NULL)
			return (0);
	}
	return (1);
}

/* Applies "+kw -kw" to a keyword list (data_lock held). */
static char *
imap_keywords_apply(const char *old, const char *kw, int add)
{
	struct buf	 b;
	char		*copy = xstrdup(old != NULL ? old : ""), *w, *save;

	buf_init(&b);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (strcmp(w, kw) == 0)
			continue;
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, w);
	}
	if (add) {
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, kw);
	}
	free(copy);
	return (buf_steal(&b));
}

int
imap_store_keywords(struct backend *be, const char *const *ids, size_t n,
    const char *changes, struct error *err)
{
	struct imap_stores	 st;
	struct imap_folder	*f;
	struct imap_msg		*m;
	struct buf		 b;
	uint32_t		 uv, uv2, uid;
	char			*folder, *other, *copy, *w, *save, *kws;
	char			*word;
	size_t			 i, j, k;
	int			 r, rv = 0;

	copy = xstrdup(changes);
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if ((*w != '+' && *w != '-') || !imap_keyword_ok(w + 1)) {
			error_set(err, ERR_CONFIG, "'%s': not +word or -word "
			    "(an IMAP keyword)", w);
			free(copy);
			return (-1);
		}
	}
	free(copy);
	for (i = 0; i < n && rv == 0; i = j) {
		if (imap_id_parse(ids[i], &uv, &uid, &folder) != 0)
			return (error_set(err, ERR_NOTFOUND, "bad message "
			    "id %s", ids[i]));
		if (imap_select_for(be, folder, uv, err) != 0) {
			free(folder);
			return (-1);
		}
		/* Each word of each message of this folder a STORE of its
		   own, all written at once. */
		memset(&st, 0, sizeof st);
		buf_init(&b);
		for (j = i; j < n; j++) {
			if (imap_id_parse(ids[j], &uv2, &uid, &other) != 0)
				break;
			k = uv2 == uv && strcmp(other, folder) == 0;
			free(other);
			if (!k)
				break;
			copy = xstrdup(changes);
			for (w = strtok_r(copy, " ", &save); w != NULL;
			    w = strtok_r(NULL, " ", &save)) {
				buf_addf(&b, "UID STORE %u %cFLAGS.SILENT (%s)",
				    uid, *w, w + 1);
				imap_stores_add(&st, j, &b);
			}
			free(copy);
		}
		if (j == i)
			j = i + 1;
		buf_free(&b);
		r = imap_stores_send(be, &st, err);
		pthread_mutex_lock(&be->data_lock);
		f = imap_folder_find(be, folder);
		for (k = 0; k < st.n; k++) {
			if (st.ok[k] == 0 && rv == 0 && r == 0) {
				error_set(err, ERR_PROTO, "%s: STORE failed: "
				    "%s", be->name, st.why[k]);
				rv = -1;
			}
			if (st.ok[k] != 1 || f == NULL ||
			    imap_id_parse(ids[st.owner[k]], &uv2, &uid,
			    &other) != 0)
				continue;
			free(other);
			if ((m = imap_msg_find(f, uid)) == NULL)
				continue;
			/* "UID STORE n +FLAGS.SILENT (word)" */
			word = strrchr(st.cmd[k], '(') + 1;
			word[strcspn(word, ")")] = '\0';
			kws = imap_keywords_apply(m->keywords, word,
			    strstr(st.cmd[k], " +FLAGS") != NULL);
			free(m->keywords);
			m->keywords = kws;
			f->dirty = 1;
		}
		pthread_mutex_unlock(&be->data_lock);
		imap_stores_free(&st);
		free(folder);
		if (r != 0)
			return (-1);
	}
	return (rv);
}

/* Forgets one message of a folder (data_lock held). */
static void
imap_forget(struct imap_folder *f, uint32_t uid)
{
	struct imap_msg	*m;
	size_t		 i, j;

	for (i = j = 0; i < f->norder; i++) {
		if (f->order[i] != uid)
			f->order[j++] = f->order[i];
	}
	f->norder = j;
	if ((m = imap_msg_find(f, uid)) != NULL) {
		imap_msg_clear(m);
		i = m - f->msgs;
		memmove(m, m + 1, (f->nmsgs - i - 1) * sizeof *m);
		f->nmsgs--;
	}
	f->dirty = 1;
	imap_recount(f);
}

int
imap_move_msgs(struct backend *be, const char *const *ids, size_t n,
    const char *to, struct error *err)
{
	struct imap_folder	*f;
	struct mailimap_set	*set;
	uint32_t		 uv, uid;
	char			*folder;
	size_t			 i;
	int			 r;

	for (i = 0; i < n; i++) {
		if (imap_id_parse(ids[i], &uv, &uid, &folder) != 0)
			return (error_set(err, ERR_NOTFOUND, "bad message "
			    "id %s", ids[i]));
		if (imap_select_for(be, folder, uv, err) != 0) {
			free(folder);
			return (-1);
		}
		set = mailimap_set_new_single(uid);
		if (be->cap_move)
			r = mailimap_uid_move(be->s, set, to);
		else {
			r = mailimap_uid_copy(be->s, set, to);
			if (r == MAILIMAP_NO_ERROR &&
			    imap_store1(be, uid, MSG_DELETED, 1, err) != 0) {
				mailimap_set_free(set);
				free(folder);
				return (-1);
			}
			if (r == MAILIMAP_NO_ERROR)
				r = be->cap_uidplus ?
				    mailimap_uid_expunge(be->s, set) :
				    mailimap_expunge(be->s);
		}
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR) {
			free(folder);
			return (imap_session_error(be, r, "MOVE", err));
		}
		pthread_mutex_lock(&be->data_lock);
		if ((f = imap_folder_find(be, folder)) != NULL)
			imap_forget(f, uid);
		if ((f = imap_folder_find(be, to)) != NULL) {
			f->total++;
			f->loaded = 0;
		}
		pthread_mutex_unlock(&be->data_lock);
		free(folder);
	}
	imap_notify(be, BACKEND_CHANGED_ROWS | BACKEND_CHANGED_FOLDERS);
	return (0);
}

/* The cache file of a message body. */
char *
imap_body_path(struct backend *be, const char *folder, uint32_t uv,
    uint32_t uid)
{
	struct buf	 b;
	const char	*s;
	char		*path;

	if (be->cache_dir == NULL)
		return (NULL);
	buf_init(&b);
	for (s = folder; *s != '\0'; s++)
		buf_addf(&b, "%02x", (unsigned char)*s);
	xasprintf(&path, "%s/msg-%s-%u-%u.eml", be->cache_dir, buf_str(&b),
	    uv, uid);
	buf_free(&b);
	return (path);
}

struct imap_body {
	int		 fd;
	size_t		 len;
	int		 failed;
	volatile int	*cancel;
};

/* Streams a body section to the file, bounded by IMAP_LITERAL_MAX;
   stops when cancelled. */
static bool
imap_body_write(int type, struct mailimap_msg_att_body_section *sec,
    const char *bytes, size_t len, void *arg)
{
	struct imap_body	*b = arg;
	ssize_t			 w;

	if (b->cancel != NULL && *b->cancel) {
		b->failed = ECANCELED;
		return (false);
	}
	b->len += len;
	if (b->len > IMAP_LITERAL_MAX) {
		b->failed = EFBIG;
		return (false);
	}
	while (len > 0) {
		if ((w = write(b->fd, bytes, len)) == -1) {
			if (errno == EINTR)
				continue;
			b->failed = errno;
			return (false);
		}
		bytes += w;
		len -= (size_t)w;
	}
	return (true);
}

/* A libetpan section from its IMAP spelling: "" (the whole message),
   "HEADER", "TEXT", "1.2", "1.2.MIME", "1.2.HEADER", "1.2.TEXT". NULL
   when malformed. */
struct mailimap_section *
imap_section_new(const char *s)
{
	struct mailimap_section_part	*part;
	clist				*ids;
	uint32_t			*id;
	unsigned long			 n;
	char				*end;

	if (*s == '\0')
		return (mailimap_section_new(NULL));
	if (strcmp(s, "HEADER") == 0)
		return (mailimap_section_new_header());
	if (strcmp(s, "TEXT") == 0)
		return (mailimap_section_new_text());
	ids = clist_new();
	while (*s >= '0' && *s <= '9') {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno != 0 || n == 0 || n > 100000)
			break;
		id = xmalloc(sizeof *id);
		*id = (uint32_t)n;
		clist_append(ids, id);
		s = end;
		if (*s != '.')
			break;
		s++;
	}
	if (clist_count(ids) == 0 || (*s != '\0' && strcmp(s, "MIME") != 0 &&
	    strcmp(s, "HEADER") != 0 && strcmp(s, "TEXT") != 0)) {
		for (clistiter *it = clist_begin(ids); it != NULL;
		    it = clist_next(it))
			free(clist_content(it));
		clist_free(ids);
		return (NULL);
	}
	part = mailimap_section_part_new(ids);
	if (*s == '\0')
		return (mailimap_section_new_part(part));
	if (strcmp(s, "MIME") == 0)
		return (mailimap_section_new_part_mime(part));
	if (strcmp(s, "HEADER") == 0)
		return (mailimap_section_new_part_header(part));
	return (mailimap_section_new_part_text(part));
}

/* Drops a session in the middle of an answer: the socket is shut first,
   so that libetpan's LOGOUT on the way out fails at once instead of
   reading the rest of the literal (or waiting for a stalled server). */
void
imap_abandon(struct backend *be)
{
	if (be->s != NULL && be->s->imap_stream != NULL)
		mailstream_low_cancel(mailstream_get_low(be->s->imap_stream));
	imap_disconnect(be);
}

/* Watches a cancel flag while a download waits on the network: when it
   is set, the session's cancel fd wakes the stream driver's wait. */
struct imap_watch {
	volatile int	*cancel;
	int		 fd;
	int		 done;
	int		 fired;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	pthread_t	 thread;
};

static void *
imap_watch_run(void *arg)
{
	struct imap_watch	*w = arg;
	struct timespec		 ts;
	uint64_t		 one = 1;

	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		if (*w->cancel) {
			if (write(w->fd, &one, sizeof one) == -1)
				log_warn("imap cancel");
			w->fired = 1;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return (NULL);
}

/* Stops the watcher; empties the cancel fd it may have written. Returns
   1 when it fired. */
static int
imap_watch_stop(struct imap_watch *w)
{
	uint64_t	v;

	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while (read(w->fd, &v, sizeof v) > 0)
		;
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	return (w->fired);
}

/*
 * Streams BODY.PEEK[section] of uid in the selected folder to fd; *len
 * gets its size. When *cancel becomes true (checked as bytes arrive, and
 * every 50 ms by a watcher that wakes a stalled wait through the cancel
 * fd) the command is abandoned mid-literal: the session is dropped, to be
 * re-established by whoever needs it next, and the call fails with
 * ERR_CANCELLED.
 */
int
imap_stream_section(struct backend *be, uint32_t uid, const char *section,
    int fd, volatile int *cancel, size_t *len, struct error *err)
{
	struct mailimap_fetch_type	*ft;
	struct mailimap_section		*sec;
	struct mailimap_set		*set;
	struct imap_body		 b;
	struct imap_watch		 w;
	clist				*res = NULL;
	int				 r, watching = 0;

	if ((sec = imap_section_new(section)) == NULL)
		return (error_set(err, ERR_NOTFOUND, "%s: bad section %s",
		    be->name, section));
	memset(&b, 0, sizeof b);
	b.fd = fd;
	b.cancel = cancel;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(sec));
	set = mailimap_set_new_single(uid);
	mailimap_set_msg_body_handler(be->s, imap_body_write, &b);
	if (cancel != NULL && be->cancel_fd != -1) {
		memset(&w, 0, sizeof w);
		w.cancel = cancel;
		w.fd = be->cancel_fd;
		pthread_mutex_init(&w.lock, NULL);
		pthread_cond_init(&w.cond, NULL);
		watching = pthread_create(&w.thread, NULL, imap_watch_run,
		    &w) == 0;
		if (!watching) {
			pthread_mutex_destroy(&w.lock);
			pthread_cond_destroy(&w.cond);
		}
	}
	be->stats.fetch_commands++;
	r = mailimap_uid_fetch(be->s, set, ft, &res);
	if (watching && imap_watch_stop(&w) && b.failed == 0 &&
	    r != MAILIMAP_NO_ERROR)
		b.failed = ECANCELED;	/* the wait was cut short */
	if (be->s != NULL)
		mailimap_set_msg_body_handler(be->s, NULL, NULL);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r == MAILIMAP_NO_ERROR)
		mailimap_fetch_list_free(res);
	*len = b.len;
	if (b.failed != 0) {
		/* The literal was left half read: the session is lost. */
		if (r != MAILIMAP_NO_ERROR)
			imap_abandon(be);
		if (b.failed == ECANCELED)
			return (error_set(err, ERR_CANCELLED, "%s: download "
			    "cancelled", be->name));
		return (error_set(err, ERR_IO, "%s: message: %s", be->name,
		    strerror(b.failed)));
	}
	if (r != MAILIMAP_NO_ERROR)
		return (imap_session_error(be, r, "FETCH", err));
	if (b.len == 0 && *section == '\0')
		return (error_set(err, ERR_NOTFOUND, "%s: message %u is gone "
		    "from the server", be->name, uid));
	return (0);
}

/* Makes sure folder is selected and uid's UIDVALIDITY still holds, for
   the part fetches of imap-parts.c. */
int
imap_select_msg(struct backend *be, const char *folder, uint32_t uv,
    struct error *err)
{
	return (imap_select_for(be, folder, uv, err));
}

int
imap_fetch_body_cancel(struct backend *be, const char *id, char **path,
    volatile int *cancel, struct error *err)
{
	uint32_t	 uv, uid;
	char		*folder, *file, *tmp;
	size_t		 len;
	int		 fd, r;

	*path = NULL;
	if (imap_id_parse(id, &uv, &uid, &folder) != 0)
		return (error_set(err, ERR_NOTFOUND, "bad message id %s",
		    id));
	if ((file = imap_body_path(be, folder, uv, uid)) == NULL) {
		free(folder);
		return (error_set(err, ERR_CONFIG, "%s: no cache directory",
		    be->name));
	}
	if (access(file, R_OK) == 0) {
		free(folder);
		*path = file;
		return (0);
	}
	if (imap_select_for(be, folder, uv, err) != 0) {
		free(folder);
		free(file);
		return (-1);
	}
	free(folder);
	/* Big, with attachments: the text parts only, the rest on demand. */
	if ((r = imap_fetch_partial(be, id, uid, file, cancel, err)) <= 0) {
		if (r == 0)
			*path = file;
		else
			free(file);
		return (r);
	}
	xasprintf(&tmp, "%s.tmp", file);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		free(tmp);
		free(file);
		return (-1);
	}
	r = imap_stream_section(be, uid, "", fd, cancel, &len, err);
	if (close(fd) == -1 && r == 0)
		r = error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
	if (r == 0 && rename(tmp, file) == -1)
		r = error_set(err, ERR_IO, "%s: %s", file, strerror(errno));
	if (r != 0) {
		unlink(tmp);
		free(tmp);
		free(file);
		return (-1);
	}
	free(tmp);
	*path = file;
	return (0);
}

int
imap_fetch_body(struct backend *be, const char *id, char **path,
    struct error *err)
{
	return (imap_fetch_body_cancel(be, id, path, NULL, err));
}
