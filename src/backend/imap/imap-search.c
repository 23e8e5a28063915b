/*
 * A limit on an IMAP folder, searched twice: at once over the summaries in
 * memory (which lack bodies and recipients, so some terms stay unknown
 * there), and on the server as UID SEARCH, whose answer the view shows
 * when it comes. The limit is the local backend's notmuch-like language:
 * from:, to:, subject:, body:, date:A..B, tag:, words, and/or/not.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define IMAP_SEARCH_KEEP	8	/* results kept per account */
#define IMAP_QUERY_DEPTH	32	/* parentheses and nots */

enum imap_qtype {
	IMAP_Q_AND,
	IMAP_Q_OR,
	IMAP_Q_NOT,
	IMAP_Q_FROM,
	IMAP_Q_TO,
	IMAP_Q_SUBJECT,
	IMAP_Q_BODY,
	IMAP_Q_TEXT,		/* a bare word: anywhere */
	IMAP_Q_FLAG,		/* MSG_* set (MSG_UNREAD: not \Seen) */
	IMAP_Q_KEYWORD,
	IMAP_Q_DATE,		/* [since, before) in seconds, 0 for open */
};

struct imap_query {
	enum imap_qtype		 type;
	char			*text;
	unsigned		 flag;
	int64_t			 since, before;
	struct imap_query	*a, *b;	/* AND, OR: a and b; NOT: a */
};

/* A server-side search: asked, then answered or failed. */
struct imap_search {
	char			*folder;
	char			*query;
	uint32_t		 uv;
	uint64_t		 modseq;	/* the folder's, when asked */
	size_t			 norder;	/* and its size */
	int			 state;		/* 0 asked, 1 done, -1 */
	uint32_t		*uids;		/* sorted */
	size_t			 n;
	struct imap_search	*next;
};

struct imap_lexer {
	const char	*p;
	char		*tok;		/* current token, owned */
	int		 quoted;
	int		 depth;
};

void
imap_query_free(struct imap_query **qp)
{
	struct imap_query	*q = *qp;

	if (q == NULL)
		return;
	imap_query_free(&q->a);
	imap_query_free(&q->b);
	free(q->text);
	free(q);
	*qp = NULL;
}

/* Reads the next token: a word (field:value, value quoted or not), a
   parenthesis, or NULL at the end. */
static void
imap_lex(struct imap_lexer *lx)
{
	const char	*s = lx->p, *colon;
	char		*out;
	size_t		 n = 0;

	free(lx->tok);
	lx->tok = NULL;
	lx->quoted = 0;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0') {
		lx->p = s;
		return;
	}
	out = xmalloc(strlen(s) + 1);
	if (*s == '(' || *s == ')') {
		out[n++] = *s++;
		out[n] = '\0';
		lx->tok = out;
		lx->p = s;
		return;
	}
	colon = NULL;
	while (*s != '\0' && !isspace((unsigned char)*s) && *s != '(' &&
	    *s != ')') {
		if (*s == '"') {
			/* "a phrase", or field:"a phrase" */
			lx->quoted = 1;
			for (s++; *s != '\0' && *s != '"'; s++) {
				if (*s == '\\' && s[1] != '\0')
					s++;
				out[n++] = *s;
			}
			if (*s == '"')
				s++;
			continue;
		}
		if (*s == ':' && colon == NULL)
			colon = s;
		out[n++] = *s++;
	}
	out[n] = '\0';
	lx->tok = out;
	lx->p = s;
}

static struct imap_query *imap_parse_or(struct imap_lexer *, struct error *);

/* A new node. */
static struct imap_query *
imap_q(enum imap_qtype type, const char *text)
{
	struct imap_query	*q = xcalloc(1, sizeof *q);

	q->type = type;
	if (text != NULL)
		q->text = xstrdup(text);
	return (q);
}

/* Days since the epoch of a civil date (proleptic Gregorian). */
static int64_t
imap_days(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/*
 * One end of a date range as [*from, *to) in seconds (UTC days): YYYY,
 * YYYY-MM, YYYY-MM-DD, today, yesterday, or N followed by d, w, m or y
 * (that long ago, to now).
 */
static int
imap_date_end(const char *s, int64_t now, int64_t *from, int64_t *to)
{
	int	y, m = 0, d = 0, len = 0;
	char	unit = 0;
	long	n;
	int64_t	day = now / 86400;

	if (strcasecmp(s, "today") == 0) {
		*from = day * 86400;
		*to = *from + 86400;
		return (0);
	}
	if (strcasecmp(s, "yesterday") == 0) {
		*from = (day - 1) * 86400;
		*to = day * 86400;
		return (0);
	}
	if (sscanf(s, "%ld%c%n", &n, &unit, &len) == 2 && s[len] == '\0' &&
	    n >= 0 && n < 100000 && strchr("dwmy", unit) != NULL) {
		*from = now - n * (unit == 'd' ? 86400 : unit == 'w' ?
		    7 * 86400 : unit == 'm' ? 30 * 86400 : 365 * 86400);
		*to = now + 86400;
		return (0);
	}
	len = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &len) == 3 &&
	    s[len] == '\0' && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
		*from = imap_days(y, m, d) * 86400;
		*to = *from + 86400;
		return (0);
	}
	len = 0;
	if (sscanf(s, "%4d-%2d%n", &y, &m, &len) == 2 && s[len] == '\0' &&
	    m >= 1 && m <= 12) {
		*from = imap_days(y, m, 1) * 86400;
		*to = imap_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) *
		    86400;
		return (0);
	}
	len = 0;
	if (sscanf(s, "%4d%n", &y, &len) == 1 && s[len] == '\0' && len == 4) {
		*from = imap_days(y, 1, 1) * 86400;
		*to = imap_days(y + 1, 1, 1) * 86400;
		return (0);
	}
	return (-1);
}

/* date:A..B, date:A.., date:..B or date:A. */
static struct imap_query *
imap_parse_date(const char *v, struct error *err)
{
	struct imap_query	*q;
	const char		*dots = strstr(v, "..");
	char			*a, *b;
	int64_t			 from, to, now = time(NULL);
	int			 bad = 0;

	q = imap_q(IMAP_Q_DATE, NULL);
	a = dots != NULL ? xstrndup(v, dots - v) : xstrdup(v);
	b = dots != NULL ? xstrdup(dots + 2) : xstrdup(v);
	if (*a != '\0') {
		if (imap_date_end(a, now, &from, &to) != 0)
			bad = 1;
		else
			q->since = from;
	}
	if (*b != '\0') {
		if (imap_date_end(b, now, &from, &to) != 0)
			bad = 1;
		else
			q->before = to;
	}
	free(a);
	free(b);
	if (bad || (q->since == 0 && q->before == 0)) {
		imap_query_free(&q);
		error_set(err, ERR_CONFIG, "date:%s: use YYYY-MM-DD, YYYY-MM, "
		    "YYYY, today, yesterday or 2w (d, w, m, y), and A..B",
		    v);
		return (NULL);
	}
	return (q);
}

/* tag:NAME: the flags facteur shows, else an IMAP keyword. */
static struct imap_query *
imap_parse_tag(const char *v)
{
	struct imap_query	*q;
	size_t			 i;

	for (i = 0; msg_tag_flags[i].tag != NULL; i++) {
		if (strcasecmp(v, msg_tag_flags[i].tag) == 0) {
			q = imap_q(IMAP_Q_FLAG, NULL);
			q->flag = msg_tag_flags[i].flag;
			return (q);
		}
	}
	return (imap_q(IMAP_Q_KEYWORD, v));
}

/* A term: field:value or a word. */
static struct imap_query *
imap_parse_term(struct imap_lexer *lx, struct error *err)
{
	static const struct {
		const char	*field;
		enum imap_qtype	 type;
	} fields[] = {
		{ "from", IMAP_Q_FROM }, { "to", IMAP_Q_TO },
		{ "subject", IMAP_Q_SUBJECT }, { "body", IMAP_Q_BODY },
	};
	struct imap_query	*q = NULL;
	char			*tok = lx->tok, *colon, *v;
	size_t			 i;

	colon = lx->quoted && tok[0] != '\0' && strchr(tok, ':') == NULL ?
	    NULL : strchr(tok, ':');
	if (colon != NULL) {
		*colon = '\0';
		v = colon + 1;
		for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
			if (strcasecmp(tok, fields[i].field) == 0 && *v != '\0')
				q = imap_q(fields[i].type, v);
		}
		if (q == NULL && strcasecmp(tok, "tag") == 0 && *v != '\0')
			q = imap_parse_tag(v);
		else if (q == NULL && strcasecmp(tok, "date") == 0) {
			if ((q = imap_parse_date(v, err)) == NULL)
				return (NULL);
		}
		if (q == NULL)
			*colon = ':';	/* a word with a colon */
	}
	if (q == NULL)
		q = imap_q(IMAP_Q_TEXT, tok);
	imap_lex(lx);
	return (q);
}

/* not X, -X, (X), or a term. */
static struct imap_query *
imap_parse_unary(struct imap_lexer *lx, struct error *err)
{
	struct imap_query	*q, *n;

	if (lx->tok == NULL) {
		error_set(err, ERR_CONFIG, "limit: a term is missing");
		return (NULL);
	}
	if (++lx->depth > IMAP_QUERY_DEPTH) {
		error_set(err, ERR_CONFIG, "limit: nested too deep");
		return (NULL);
	}
	if (!lx->quoted && (strcasecmp(lx->tok, "not") == 0 ||
	    (lx->tok[0] == '-' && lx->tok[1] != '\0'))) {
		if (lx->tok[0] == '-')
			memmove(lx->tok, lx->tok + 1, strlen(lx->tok));
		else
			imap_lex(lx);
		if ((q = imap_parse_unary(lx, err)) == NULL)
			return (NULL);
		n = imap_q(IMAP_Q_NOT, NULL);
		n->a = q;
		lx->depth--;
		return (n);
	}
	if (!lx->quoted && strcmp(lx->tok, "(") == 0) {
		imap_lex(lx);
		if ((q = imap_parse_or(lx, err)) == NULL)
			return (NULL);
		if (lx->tok == NULL || strcmp(lx->tok, ")") != 0) {
			imap_query_free(&q);
			error_set(err, ERR_CONFIG, "limit: ')' is missing");
			return (NULL);
		}
		imap_lex(lx);
		lx->depth--;
		return (q);
	}
	if (!lx->quoted && strcmp(lx->tok, ")") == 0) {
		error_set(err, ERR_CONFIG, "limit: unexpected ')'");
		return (NULL);
	}
	lx->depth--;
	return (imap_parse_term(lx, err));
}

/* Whether the current token is the word w (not quoted). */
static int
imap_lex_is(struct imap_lexer *lx, const char *w)
{
	return (lx->tok != NULL && !lx->quoted && strcasecmp(lx->tok, w) == 0);
}

/* Terms side by side, or joined by "and". */
static struct imap_query *
imap_parse_and(struct imap_lexer *lx, struct error *err)
{
	struct imap_query	*q, *r, *n;

	if ((q = imap_parse_unary(lx, err)) == NULL)
		return (NULL);
	while (lx->tok != NULL && !imap_lex_is(lx, "or") &&
	    strcmp(lx->tok, ")") != 0) {
		if (imap_lex_is(lx, "and"))
			imap_lex(lx);
		if ((r = imap_parse_unary(lx, err)) == NULL) {
			imap_query_free(&q);
			return (NULL);
		}
		n = imap_q(IMAP_Q_AND, NULL);
		n->a = q;
		n->b = r;
		q = n;
	}
	return (q);
}

static struct imap_query *
imap_parse_or(struct imap_lexer *lx, struct error *err)
{
	struct imap_query	*q, *r, *n;

	if ((q = imap_parse_and(lx, err)) == NULL)
		return (NULL);
	while (imap_lex_is(lx, "or")) {
		imap_lex(lx);
		if ((r = imap_parse_and(lx, err)) == NULL) {
			imap_query_free(&q);
			return (NULL);
		}
		n = imap_q(IMAP_Q_OR, NULL);
		n->a = q;
		n->b = r;
		q = n;
	}
	return (q);
}

struct imap_query *
imap_query_parse(const char *s, struct error *err)
{
	struct imap_lexer	 lx;
	struct imap_query	*q;

	memset(&lx, 0, sizeof lx);
	lx.p = s;
	imap_lex(&lx);
	if (lx.tok == NULL) {
		error_set(err, ERR_CONFIG, "limit: empty");
		return (NULL);
	}
	q = imap_parse_or(&lx, err);
	if (q != NULL && lx.tok != NULL) {
		imap_query_free(&q);
		error_set(err, ERR_CONFIG, "limit: unexpected '%s'", lx.tok);
	}
	free(lx.tok);
	return (q);
}

/* Whether text is in s (case-insensitive). */
static int
imap_contains(const char *s, const char *text)
{
	return (s != NULL && strcasestr(s, text) != NULL);
}

int
imap_query_match(const struct imap_query *q, const struct imap_msg *m)
{
	int	a, b;

	switch (q->type) {
	case IMAP_Q_AND:
		a = imap_query_match(q->a, m);
		b = imap_query_match(q->b, m);
		return (a == 0 || b == 0 ? 0 : a < 0 || b < 0 ? -1 : 1);
	case IMAP_Q_OR:
		a = imap_query_match(q->a, m);
		b = imap_query_match(q->b, m);
		return (a == 1 || b == 1 ? 1 : a < 0 || b < 0 ? -1 : 0);
	case IMAP_Q_NOT:
		a = imap_query_match(q->a, m);
		return (a < 0 ? -1 : !a);
	case IMAP_Q_FLAG:
		/* Flags not in yet: the server's search says. */
		if (!m->have)
			return (-1);
		return ((m->flags & q->flag) != 0);
	case IMAP_Q_KEYWORD:
		if (!m->have)
			return (-1);
		if (m->keywords == NULL)
			return (0);
		{
			const char	*k = m->keywords;
			size_t		 len = strlen(q->text);

			while ((k = strcasestr(k, q->text)) != NULL) {
				if ((k == m->keywords || k[-1] == ' ') &&
				    (k[len] == '\0' || k[len] == ' '))
					return (1);
				k += len;
			}
		}
		return (0);
	default:
		break;
	}
	if (!m->have)
		return (-1);
	switch (q->type) {
	case IMAP_Q_FROM:
		return (imap_contains(m->from, q->text));
	case IMAP_Q_SUBJECT:
		return (imap_contains(m->subject, q->text));
	case IMAP_Q_TEXT:
		/* Found in what we have; else the body may have it. */
		return (imap_contains(m->subject, q->text) ||
		    imap_contains(m->from, q->text) ? 1 : -1);
	case IMAP_Q_DATE:
		return ((q->since == 0 || m->date >= q->since) &&
		    (q->before == 0 || m->date < q->before));
	default:		/* to:, body: are not in memory */
		return (-1);
	}
}

/* An IMAP date of a time in seconds (UTC). */
static struct mailimap_date *
imap_qdate(int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	gmtime_r(&tt, &tm);
	return (mailimap_date_new(tm.tm_mday, tm.tm_mon + 1,
	    tm.tm_year + 1900));
}

/* A search key with only a type (flags). */
static struct mailimap_search_key *
imap_key_type(int type)
{
	return (mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL,
	    NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL));
}

/* The flag key of MSG_* bit f. */
static struct mailimap_search_key *
imap_key_flag(unsigned f)
{
	switch (f) {
	case MSG_UNREAD:
		return (imap_key_type(MAILIMAP_SEARCH_KEY_UNSEEN));
	case MSG_FLAGGED:
		return (imap_key_type(MAILIMAP_SEARCH_KEY_FLAGGED));
	case MSG_REPLIED:
		return (imap_key_type(MAILIMAP_SEARCH_KEY_ANSWERED));
	case MSG_DRAFT:
		return (imap_key_type(MAILIMAP_SEARCH_KEY_DRAFT));
	case MSG_DELETED:
		return (imap_key_type(MAILIMAP_SEARCH_KEY_DELETED));
	default:
		return (mailimap_search_key_new_keyword(xstrdup("$Forwarded")));
	}
}

struct mailimap_search_key *
imap_query_key(const struct imap_query *q)
{
	struct mailimap_search_key	*k;

	switch (q->type) {
	case IMAP_Q_AND:
		k = mailimap_search_key_new_multiple_empty();
		mailimap_search_key_multiple_add(k, imap_query_key(q->a));
		mailimap_search_key_multiple_add(k, imap_query_key(q->b));
		return (k);
	case IMAP_Q_OR:
		return (mailimap_search_key_new_or(imap_query_key(q->a),
		    imap_query_key(q->b)));
	case IMAP_Q_NOT:
		return (mailimap_search_key_new_not(imap_query_key(q->a)));
	case IMAP_Q_FROM:
		return (mailimap_search_key_new_from(xstrdup(q->text)));
	case IMAP_Q_TO:		/* notmuch's to: is To or Cc */
		return (mailimap_search_key_new_or(
		    mailimap_search_key_new_to(xstrdup(q->text)),
		    mailimap_search_key_new_cc(xstrdup(q->text))));
	case IMAP_Q_SUBJECT:
		return (mailimap_search_key_new_subject(xstrdup(q->text)));
	case IMAP_Q_BODY:
		return (mailimap_search_key_new_body(xstrdup(q->text)));
	case IMAP_Q_TEXT:
		return (mailimap_search_key_new_text(xstrdup(q->text)));
	case IMAP_Q_FLAG:
		return (imap_key_flag(q->flag));
	case IMAP_Q_KEYWORD:
		return (mailimap_search_key_new_keyword(xstrdup(q->text)));
	case IMAP_Q_DATE:
		k = mailimap_search_key_new_multiple_empty();
		if (q->since != 0)
			mailimap_search_key_multiple_add(k,
			    mailimap_search_key_new_sentsince(
			    imap_qdate(q->since)));
		if (q->before != 0)
			mailimap_search_key_multiple_add(k,
			    mailimap_search_key_new_sentbefore(
			    imap_qdate(q->before)));
		return (k);
	}
	return (mailimap_search_key_new_all());
}

/* The search of folder and query, or NULL (data_lock held). */
static struct imap_search *
imap_search_find(struct backend *be, const char *folder, const char *query)
{
	struct imap_search	*s;

	for (s = be->searches; s != NULL; s = s->next) {
		if (strcmp(s->folder, folder) == 0 &&
		    strcmp(s->query, query) == 0)
			return (s);
	}
	return (NULL);
}

static void
imap_search_free1(struct imap_search *s)
{
	free(s->folder);
	free(s->query);
	free(s->uids);
	free(s);
}

void
imap_search_want(struct backend *be, const char *folder, const char *query)
{
	struct imap_search	*s, **sp;
	struct imap_folder	*f;
	uint64_t		 one = 1;
	size_t			 n;

	f = imap_folder_find(be, folder);
	if ((s = imap_search_find(be, folder, query)) != NULL) {
		/* Answered before the folder changed: ask again. */
		if (s->state == 0 || f == NULL || (s->uv == f->uidvalidity &&
		    s->modseq == f->modseq && s->norder == f->norder))
			return;
		s->state = 0;
	} else {
		s = xcalloc(1, sizeof *s);
		s->folder = xstrdup(folder);
		s->query = xstrdup(query);
		s->next = be->searches;
		be->searches = s;
		/* Keep the newest few. */
		for (sp = &be->searches, n = 0; *sp != NULL; n++) {
			if (n < IMAP_SEARCH_KEEP || (*sp)->state == 0) {
				sp = &(*sp)->next;
				continue;
			}
			s = *sp;
			*sp = s->next;
			imap_search_free1(s);
		}
	}
	if (write(be->wake_fd, &one, sizeof one) == -1)
		log_warn("imap wake");
}

int
imap_search_lookup(struct backend *be, const char *folder,
    const char *query, const uint32_t **uids, size_t *n)
{
	struct imap_search	*s;
	struct imap_folder	*f;

	if ((s = imap_search_find(be, folder, query)) == NULL ||
	    s->state != 1 || (f = imap_folder_find(be, folder)) == NULL ||
	    s->uv != f->uidvalidity)
		return (0);
	*uids = s->uids;
	*n = s->n;
	return (1);
}

/* Whether uid is in the sorted array. */
int
imap_search_has(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t	lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (uids[mid] == uid)
			return (1);
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (0);
}

/* Compares UIDs for qsort. */
static int
imap_search_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * Runs one asked search on the server (conn held): selects its folder,
 * sends UID SEARCH CHARSET UTF-8 and keeps the answer. Returns 1 when one
 * ran (answered or refused), 0 when none was asked, -1 when the session
 * failed.
 */
int
imap_search_run(struct backend *be, struct error *err)
{
	struct mailimap_search_key	*key;
	struct imap_search		*s;
	struct imap_query		*q;
	struct imap_folder		*f;
	struct error			 perr;
	clist				*res = NULL;
	clistiter			*it;
	char				*folder, *query;
	uint32_t			*v = NULL, uv;
	uint64_t			 modseq = 0;
	size_t				 n = 0, norder = 0;
	int				 r;

	pthread_mutex_lock(&be->data_lock);
	for (s = be->searches; s != NULL && s->state != 0; s = s->next)
		;
	if (s == NULL) {
		pthread_mutex_unlock(&be->data_lock);
		return (0);
	}
	folder = xstrdup(s->folder);
	query = xstrdup(s->query);
	pthread_mutex_unlock(&be->data_lock);

	error_clear(&perr);
	if ((q = imap_query_parse(query, &perr)) == NULL) {
		log_warnx("%s: %s", be->name, perr.msg);
		r = -2;
		goto done;
	}
	if ((be->selected == NULL || strcmp(be->selected, folder) != 0) &&
	    imap_select(be, folder, err) != 0) {
		imap_query_free(&q);
		r = be->s == NULL ? -1 : -2;
		goto done;
	}
	key = imap_query_key(q);
	imap_query_free(&q);
	log_debug("imap: %s: %s: searching the server for %s", be->name,
	    folder, query);
	r = mailimap_uid_search(be->s, "UTF-8", key, &res);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		imap_session_error(be, r, "SEARCH", err);
		log_warnx("%s", err->msg);
		r = be->s == NULL ? -1 : -2;
		goto done;
	}
	v = xreallocarray(NULL, clist_count(res) + 1, sizeof *v);
	for (it = clist_begin(res); it != NULL; it = clist_next(it))
		v[n++] = *(uint32_t *)clist_content(it);
	mailimap_search_result_free(res);
	qsort(v, n, sizeof *v, imap_search_cmp);
	r = 1;
done:
	uv = be->s != NULL && be->selected != NULL &&
	    strcmp(be->selected, folder) == 0 ?
	    be->s->imap_selection_info->sel_uidvalidity : 0;
	pthread_mutex_lock(&be->data_lock);
	if ((f = imap_folder_find(be, folder)) != NULL) {
		modseq = f->modseq;
		norder = f->norder;
	}
	if ((s = imap_search_find(be, folder, query)) != NULL &&
	    s->state == 0 && r != -1) {
		free(s->uids);
		s->uids = v;
		s->n = n;
		v = NULL;
		s->uv = uv;
		s->modseq = modseq;
		s->norder = norder;
		s->state = r == 1 ? 1 : -1;
	}
	pthread_mutex_unlock(&be->data_lock);
	free(v);
	free(folder);
	free(query);
	if (r == 1) {
		log_debug("imap: %s: the server found %zu", be->name, n);
		imap_notify(be, BACKEND_CHANGED_ROWS);
	}
	return (r == -1 ? -1 : 1);
}

void
imap_search_free(struct backend *be)
{
	struct imap_search	*s;

	while ((s = be->searches) != NULL) {
		be->searches = s->next;
		imap_search_free1(s);
	}
}
