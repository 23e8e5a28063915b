/*
 * The IMAP backend's insides: the session, the folders and the messages
 * known so far, shared by the account's worker (blocking operations), the
 * backend's own thread (background fill, IDLE, reconnect) and the main
 * thread's [reader] operations, which read memory only.
 */
#ifndef FACTEUR_BACKEND_IMAP_PRIVATE_H
#define FACTEUR_BACKEND_IMAP_PRIVATE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <libetpan/libetpan.h>

#include "backend/backend.h"
#include "backend/imap/imap.h"
#include "net/net.h"

#define IMAP_SCREEN_ROWS	80	/* summaries fetched before notify */
#define IMAP_IDLE_SECONDS	(25 * 60) /* renewed before 29 minutes */
#define IMAP_POLL_SECONDS	60	/* NOOP when there is no IDLE */
#define IMAP_AWAKE_SECONDS	30	/* an IDLE wait looks at the clocks */
#define IMAP_SLEPT_SECONDS	10	/* a gap that long was a suspend */
#define IMAP_BACKOFF_MAX	60	/* seconds between reconnects */
#define IMAP_LITERAL_MAX	(256 * 1024 * 1024)
#define IMAP_PARTIAL_MIN	(1024 * 1024) /* bigger: text parts first */
#define IMAP_PIPE_DEPTH		4	/* summary batches in flight */
#define IMAP_PIPE_ROWS		250	/* rows in each */
#define IMAP_FILL_NOTIFY_MS	200	/* at most a notice this often */
#define IMAP_PIPE_STORES	64	/* STOREs in flight */

/* Special-use folders (RFC 6154). */
#define IMAP_SPECIAL_SENT	0x01
#define IMAP_SPECIAL_DRAFTS	0x02
#define IMAP_SPECIAL_TRASH	0x04
#define IMAP_SPECIAL_JUNK	0x08
#define IMAP_SPECIAL_ARCHIVE	0x10
#define IMAP_SPECIAL_INBOX	0x20

/* One message of a folder; headers are NULL until fetched. */
struct imap_msg {
	uint32_t	 uid;
	unsigned	 flags;		/* MSG_* */
	int		 have;		/* summary fetched */
	uint32_t	 size;		/* before date: no padding */
	int64_t		 date;
	char		*from;		/* decoded display name or address */
	char		*subject;	/* decoded */
	char		*msgid;		/* "<...>" */
	char		*refs;		/* References then In-Reply-To ids */
	char		*keywords;	/* space-separated, "" or NULL if none */
};

struct buf;
struct imap_search;

struct imap_folder {
	char		*name;		/* as the server spells it */
	unsigned	 special;	/* IMAP_SPECIAL_* */
	int		 noselect;
	int		 subscribed;	/* LSUB lists it */
	unsigned long	 total;
	unsigned long	 unread;
	uint32_t	 uidvalidity;
	uint64_t	 modseq;	/* HIGHESTMODSEQ we are in step with */
	int		 loaded;	/* the order is known */
	int		 dirty;		/* cache file to rewrite */
	struct imap_msg	*msgs;		/* sorted by uid */
	size_t		 nmsgs;
	uint32_t	*order;		/* uids, newest first */
	size_t		 norder;
	int		 cache_head;	/* only the cache's first rows in */
};

enum imap_state {
	IMAP_OFFLINE,
	IMAP_CONNECTING,
	IMAP_ONLINE,
	IMAP_RECONNECTING,
};

struct backend {
	struct backend_params	 p;	/* strings below are ours */
	char			*name;
	char			*host;
	int			 port;
	enum net_mode		 mode;
	char			*user;
	char			*password;
	char			*password_cmd;
	FILE			*password_pipe;	/* password_cmd running */
	char			*ca_file;
	char			*pin_file;
	char			*cache_dir;	/* DIR/account, or NULL */

	/* The session; whoever holds conn_lock may use it. */
	pthread_mutex_t		 conn_lock;
	mailimap		*s;
	struct net_log		 log;
	char			*selected;	/* folder selected on s */
	uint64_t		 sel_modseq;	/* its HIGHESTMODSEQ */
	int			 cap_sort, cap_condstore, cap_move;
	int			 cap_uidplus, cap_idle;
	int			 need_status;	/* counts not asked yet */
	int			 need_list;	/* LIST not done yet */
	int			 need_id;	/* ID not sent on this session */
	/* imap-counts.c: the other folders' counts while one is open. */
	int			 poll_secs;	/* 0: never */
	int			 subscribed_only;
	int			 notify_refused; /* NOTIFY SET said NO */
	int64_t			 counts_next;	/* ms: next count poll */
	int			 cancel_fd;	/* eventfd: stop a wait */
	/* QRESYNC (imap-fetch.c): ENABLE is tried before the first SELECT
	   of each session (stats.connects tells the sessions apart). */
	unsigned long		 qresync_conn;	/* session it was tried on */
	int			 qresync_on;	/* and the server enabled it */
	int			 sel_resynced;	/* last SELECT had QRESYNC */
	int			 sel_fresh;	/* just selected by a first screen */
	const char		*select_ahead;	/* to SELECT with the login */
	char			*ahead;		/* SELECT sent with the login */
	unsigned		 ahead_tag;	/* its ENABLE's raw tag */
	int64_t			 slept_ms;	/* boot - monotonic clock, last seen */
	unsigned		 raw_tag;	/* imap-raw.c: our own tags */
	/* The literal guard over what the server sends (imap_guard). */
	int			 lit_state;
	uint64_t		 lit_value;
	uint64_t		 lit_skip;	/* payload bytes left */
	uint64_t		 lit_refused;	/* size refused, or 0 */

	/* Folders and messages; data_lock, held briefly. */
	pthread_mutex_t		 data_lock;
	pthread_cond_t		 cond;
	struct imap_folder	**folders;
	size_t			 nfolders;
	char			*current;	/* folder the UI shows */
	char			*want;		/* asked for, not loaded */
	int			 waiting;	/* workers wanting conn */
	int			 stop;
	enum imap_state		 state;
	char			 state_msg[320];
	/* The user's answer awaited (BACKEND_ATTN_*) after a refused login
	   or certificate once open: the thread does not reconnect until it
	   comes (imap_attention_*). */
	int			 attn_ok;	/* open: failures ask the user */
	int			 attn;
	int			 attn_told;	/* handed to the UI */
	char			 attn_msg[256];
	struct tls_peer		 attn_peer;
	char			*attn_password;	/* typed, for the next login */

	/* The background thread. */
	pthread_t		 thread;
	int			 thread_running;
	int			 wake_fd;	/* eventfd: break IDLE */

	struct imap_stats	 stats;

	/* imap-search.c: limits searched on the server (data_lock). */
	struct imap_search	*searches;

	/* imap-queue.c: flag changes waiting for the server (data_lock),
	   and the last one it refused, for the status line. */
	struct imap_pending	*pending;
	size_t			 npending;
	char			 refused[256];
};

/* imap.c */
void	imap_notify(struct backend *, unsigned);
int	imap_session_error(struct backend *, int, const char *,
	    struct error *);
int	imap_connect(struct backend *, struct error *);
/* The UID of a FETCH response, or 0. */
uint32_t imap_att_uid(struct mailimap_msg_att *);
/* The FETCH items of a summary, as libetpan builds them and as the raw
   pipelined commands write them (the two must agree). */
struct mailimap_fetch_type *imap_summary_items(void);
#define IMAP_SUMMARY_ATTS "(UID FLAGS ENVELOPE INTERNALDATE " \
	"BODY.PEEK[HEADER.FIELDS (References)])"
void	imap_backend_free(struct backend *);
/* Watches received bytes for literals over IMAP_LITERAL_MAX. */
void	imap_guard(struct backend *, char *, size_t);
void	imap_disconnect(struct backend *);
void	imap_conn_acquire(struct backend *);
void	imap_conn_release(struct backend *);
const char *imap_response(struct backend *);
/* imap-attn.c: what the user must answer once open (BACKEND_ATTN_*):
   set goes offline and tells the UI (peer's DER taken), clear forgets,
   pending says whether an answer is awaited (nothing reconnects then),
   password takes a typed one for the next login. */
void	imap_attention_set(struct backend *, int, const struct error *,
	    struct tls_peer *);
void	imap_attention_clear(struct backend *);
int	imap_attention_pending(struct backend *);
int	imap_attention_error(struct backend *, struct error *);
void	imap_attention_password(struct backend *);
void	imap_attention_free(struct backend *);
/* The backend ops attention and retry. */
int	imap_attention(struct backend *, char *, size_t, struct tls_peer *);
void	imap_retry(struct backend *, const char *);
/* In IDLE: waits up to ms for the server or a wake-up; *slept when the
   computer was suspended meanwhile (the session is then not trusted). */
enum net_wait imap_idle_wait(struct backend *, int, int *);

/* cache.c: a new private (0600) file to write, or NULL (logged). */
FILE	*imap_file_create(const char *);

/* imap-queue.c: flag changes made offline. */
void	imap_queue_load(struct backend *);
/* Shows the changes at once and keeps them (journal fsynced). */
int	imap_queue_add(struct backend *, const char *const *, size_t,
	    unsigned, unsigned);
size_t	imap_queue_count(struct backend *);
/* With the session held: sends what waits, in order; -1 with ERR_NET
   when the connection is lost again (the rest is kept). */
int	imap_queue_replay(struct backend *, struct error *);
void	imap_queue_free(struct backend *);

/* imap-fetch.c */
int	imap_list(struct backend *, int, struct error *);
int	imap_select(struct backend *, const char *, struct error *);
/* ENABLE QRESYNC CONDSTORE and SELECT name written right behind the
   login, before its answer; imap_select_ahead_done reads theirs after it
   and leaves the folder selected (sel_fresh), or not if refused. */
int	imap_select_ahead(struct backend *, const char *, struct error *);
int	imap_select_ahead_done(struct backend *, struct error *);
int	imap_folder_sync(struct backend *, const char *, struct error *);
int	imap_fill(struct backend *, const char *, size_t, int *,
	    struct error *);
int	imap_poll_changes(struct backend *, struct error *);
int	imap_store_flags(struct backend *, const char *const *, size_t,
	    unsigned, unsigned, struct error *);
int	imap_store_keywords(struct backend *, const char *const *, size_t,
	    const char *, struct error *);
int	imap_move_msgs(struct backend *, const char *const *, size_t,
	    const char *, struct error *);
int	imap_fetch_body(struct backend *, const char *, char **,
	    struct error *);
int	imap_fetch_body_cancel(struct backend *, const char *, char **,
	    volatile int *, struct error *);
struct mailimap_section *imap_section_new(const char *);
int	imap_stream_section(struct backend *, uint32_t, const char *, int,
	    volatile int *, size_t *, struct error *);
int	imap_select_msg(struct backend *, const char *, uint32_t,
	    struct error *);
/* Drops the session mid-answer (socket shut first: no LOGOUT wait). */
void	imap_abandon(struct backend *);
char	*imap_body_path(struct backend *, const char *, uint32_t,
	    uint32_t);
int	imap_id_parse(const char *, uint32_t *, uint32_t *, char **);
void	imap_recount(struct imap_folder *);
/* One FETCH response into the folder (data_lock held); summary: the
   envelope too. Messages not in the folder are skipped. */
void	imap_apply(struct backend *, struct imap_folder *,
	    struct mailimap_msg_att *, int);

/* imap-data.c (callers hold data_lock) */
struct imap_folder *imap_folder_find(struct backend *, const char *);
struct imap_folder *imap_folder_add(struct backend *, const char *);
struct imap_msg *imap_msg_find(struct imap_folder *, uint32_t);
struct imap_msg *imap_msg_add(struct imap_folder *, uint32_t);
void	imap_msg_clear(struct imap_msg *);
/* Frees empty References and keyword strings (NULL means the same): with
   100k messages they are 6 MB. */
void	imap_msg_compact(struct imap_msg *);
void	imap_folder_clear(struct imap_folder *);
void	imap_folder_free(struct imap_folder **);
void	imap_folder_keep(struct imap_folder *, const uint32_t *, size_t);
/* Forgets the messages whose UIDs fall in the n ranges [lo[i], hi[i]]. */
size_t	imap_folder_drop(struct imap_folder *, const uint32_t *lo,
	    const uint32_t *hi, size_t n);
char	*imap_folder_query(const char *);
char	*imap_query_folder(const char *);

/* imap-raw.c: commands libetpan cannot parse the answers of. Sends
   "TAG cmd", gives each untagged response (literals inlined) to each,
   and fails on NO/BAD (ERR_PROTO) or a broken stream (ERR_NET, session
   dropped). */
int	imap_raw(struct backend *, const char *,
	    void (*)(void *, const char *, size_t), void *, struct error *);
/* The same for n commands written at once (one round trip): the answer
   is the last one's; the others' completions are read and let pass. */
int	imap_raw_pipeline(struct backend *, const char *const *, size_t,
	    void (*)(void *, const char *, size_t), void *, struct error *);
/* The two halves of it: the commands written (the first one's tag number
   in *first), then, maybe after other answers, their answers read. */
int	imap_raw_send(struct backend *, const char *const *, size_t,
	    unsigned *first, struct error *);
int	imap_raw_finish(struct backend *, unsigned first, size_t,
	    void (*)(void *, const char *, size_t), void *, struct error *);
/* Reads one response (literals inlined, CRLF kept) into line; -1 when
   the stream broke or the response is too big. */
int	imap_raw_response(mailstream *, MMAPString *);
/* Parses a sequence set "1:3,7" into ranges; -1 when malformed. */
int	imap_seqset_parse(const char *, size_t, uint32_t **lo, uint32_t **hi,
	    size_t *n);

/* imap-pipe.c: several tagged commands in flight. next writes the next
   command (no tag, no CRLF) or returns 0; stop, before each, returns
   IMAP_PIPE_STOP to send no more (those in flight are read) or
   IMAP_PIPE_DROP to drop the session if any are in flight; done gets
   each completion in order (ok: tagged OK; text: the server's, made
   printable). A FETCH response handler (mailimap_set_msg_att_handler)
   sees every row as it comes and may set cancelled after cancelling the
   stream. Fails with ERR_NET (session dropped) when the connection is
   lost or the answers go out of step. */
#define IMAP_PIPE_STOP	1
#define IMAP_PIPE_DROP	2
struct imap_pipe {
	struct backend	*be;
	const char	*what;		/* "FETCH", for messages */
	size_t		 depth;		/* commands in flight at most */
	int		(*next)(void *, struct buf *);
	int		(*stop)(void *);
	void		(*done)(void *, size_t, int, const char *);
	void		*arg;
	size_t		 inflight;
	size_t		 completed;
	int		 cancelled;	/* set by a handler */
	int		 dropped;	/* the session was dropped on purpose */
};
int	imap_pipe_run(struct imap_pipe *, struct error *);
/* The background load of name's summaries, IMAP_PIPE_DEPTH batches in
   flight, the UI told as rows come; stops sending when someone else
   wants the session, drops it when another folder is wanted or the
   backend closes. *more as imap_fill. */
int	imap_pipe_fill(struct backend *, const char *, int *,
	    struct error *);

/* imap-fetch.c: flag changes, their STOREs pipelined; each gets a
   result. -1 (ERR_NET) when the session is lost: the changes without a
   result are IMAP_CHANGE_UNSENT. */
#define IMAP_CHANGE_UNSENT	0
#define IMAP_CHANGE_DONE	1
#define IMAP_CHANGE_REFUSED	2
struct imap_change {
	const char	*id;
	unsigned	 add;
	unsigned	 remove;
	int		 result;
	struct error	 err;		/* why refused */
};
int	imap_store_changes(struct backend *, struct imap_change *, size_t,
	    struct error *);

/*
 * imap-counts.c: the other folders' counts kept fresh while one is open.
 * With NOTIFY (RFC 5465) the server pushes them during IDLE, and NOTIFY
 * is on only while we IDLE, so that libetpan never meets an unsolicited
 * STATUS; else LIST-STATUS (RFC 5819) or a STATUS per folder every
 * poll_secs, the IDLE cut short for it.
 */
/* Whether the server pushes counts (NOTIFY with IDLE): the STATUS round
   after the first screen is then left to it. Needs conn. */
int	imap_counts_pushed(struct backend *);
/* IDLE with NOTIFY on until something happens, we are woken or the
   renewal comes; applies what the server said. Needs conn. */
int	imap_counts_idle(struct backend *, struct error *);
/* The longest wait (ms) before the next count poll is due, at most ms. */
int	imap_counts_wait(struct backend *, int ms);
/* Asks the counts when the poll is due (LIST-STATUS, else LIST and a
   STATUS per folder). Needs conn. */
int	imap_counts_poll(struct backend *, struct error *);
/* Takes "STATUS name (MESSAGES n UNSEEN n ...)" into the folder list;
   returns 1 when a count changed. */
int	imap_counts_status(struct backend *, const char *, size_t);
/* Whether a folder is shown: subscribed, INBOX or special-use, or every
   folder without subscribed_only (data_lock held). */
int	imap_folder_shown(struct backend *, const struct imap_folder *);
int	imap_op_subscribe_folder(struct backend *, const char *, int,
	    struct error *);

/* imap-parts.c: messages over IMAP_PARTIAL_MIN with attachments get
   their text parts only (file + file.parts); 1: fetch it whole. */
int	imap_fetch_partial(struct backend *, const char *id, uint32_t uid,
	    const char *file, volatile int *cancel, struct error *);
/* The backend ops fetch_part and fetch_message_cancel. */
int	imap_op_fetch_part(struct backend *, const char *id,
	    const char *section, char **path, volatile int *cancel,
	    struct error *);
int	imap_op_fetch_message_cancel(struct backend *, const char *id,
	    char **path, volatile int *cancel, struct error *);

/* imap-view.c: the [reader] operations. */
int	imap_refresh(struct backend *, struct error *);
int	imap_list_folders(struct backend *, struct folder_list *,
	    struct error *);
int	imap_open_view(struct backend *, const char *, enum view_order,
	    unsigned, struct view **, struct error *);
size_t	imap_view_count(struct view *);
long	imap_view_next(struct view *, size_t, struct summary_batch *,
	    struct error *);
int	imap_thread_messages(struct backend *, const char *, const char *,
	    struct summary_batch *, struct error *);
void	imap_close_view(struct view **);
int	imap_message_path(struct backend *, const char *, char **,
	    struct error *);

/* imap.c: the first screen of a folder never seen, by sequence number
   (the newest arrivals), before its order is asked. */
int	imap_first_screen(struct backend *, const char *, struct error *);

/* imap-search.c: a limit, matched over the summaries in memory (1 yes,
   0 no, -1 unknown there: to:, body:) and sent as UID SEARCH, which the
   background thread runs (imap-view.c asks; answers kept per folder and
   query, under data_lock). */
struct imap_query;
struct imap_query *imap_query_parse(const char *, struct error *);
int	imap_query_match(const struct imap_query *, const struct imap_msg *);
struct mailimap_search_key *imap_query_key(const struct imap_query *);
void	imap_query_free(struct imap_query **);
int	imap_search_run(struct backend *, struct error *);
int	imap_search_lookup(struct backend *, const char *, const char *,
	    const uint32_t **, size_t *);
int	imap_search_has(const uint32_t *, size_t, uint32_t);
void	imap_search_want(struct backend *, const char *, const char *);
void	imap_search_free(struct backend *);

/* cache.c */
int	imap_cache_exists(struct backend *, const char *);
/* Loads at most max rows (0: all), and marks a partial load. */
int	imap_cache_load_rows(struct backend *, struct imap_folder *,
	    size_t);
/* Completes a partial load of folder, parsing without data_lock. */
int	imap_cache_complete(struct backend *, const char *);
int	imap_cache_load(struct backend *, struct imap_folder *);
int	imap_cache_save(struct backend *, struct imap_folder *);
void	imap_cache_drop(struct backend *, const char *);

#endif
