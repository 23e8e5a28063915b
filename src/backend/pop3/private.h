/*
 * Internals of the POP3 fetcher, shared by the files of this folder: the
 * connection with its own buffered line reader over libetpan's stream
 * (libetpan's RETR holds a whole message in memory and cannot pipeline),
 * the listing, and the UIDL state file.
 */
#ifndef FACTEUR_BACKEND_POP3_PRIVATE_H
#define FACTEUR_BACKEND_POP3_PRIVATE_H

#include <stdint.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "backend/pop3/pop3.h"
#include "net/net.h"

#define POP3_LINE_MAX		1000	/* a protocol line, CRLF excluded */
#define POP3_UIDL_MAX		70	/* RFC 1939 */
#define POP3_MAX_MESSAGES	1000000
/* A message may exceed its LIST size by this much before we give up. */
#define POP3_SIZE_SLACK		(64 * 1024 * 1024)
#define POP3_WINDOW		16	/* RETRs in flight with PIPELINING */
#define POP3_BATCH		200	/* messages per index session */
#define POP3_BATCH_MS		500	/* or this long since the last */
#define POP3_QUEUE_MAX		800	/* downloaded, not yet linked */
#define POP3_SYNCFS_MIN		64	/* fewer files: fsync each */
#define POP3_DISK_RESERVE	(4 << 20) /* left free for the index */

struct pop3_conn {
	mailpop3		*p;
	mailstream		*s;
	struct net_log		 log;
	const char		*host;
	char			 rbuf[65536];
	size_t			 rpos;
	size_t			 rlen;
	char			 text[POP3_LINE_MAX + 1]; /* last status */
	int			 pipelining;
	int			 sasl_plain;
	int			 user;
};

/* One message the server lists. */
struct pop3_msg {
	unsigned		 num;
	uint64_t		 size;
	char			*uidl;		/* NULL until UIDL */
	char			 hash[33];	/* marker in file names */
	int			 dup;		/* UIDL listed twice */
	int			 recorded;	/* in the state file */
	time_t			 when;		/* downloaded at */
	char			*tmp;		/* in tmp/, for the writer */
	char			*path;		/* delivered by this run */
};

/* The UIDL state: what was downloaded, and when. */
struct pop3_state_entry {
	char			*uidl;
	time_t			 when;
};
struct pop3_state {
	struct pop3_state_entry	*v;
	size_t			 n;
	size_t			 cap;
	int			 lock_fd;
};

/* pop3-proto.c */
int	pop3_conn_open(struct pop3_conn *, const struct pop3_account *,
	    int, struct tls_peer *, struct error *);
void	pop3_conn_close(struct pop3_conn *, int);
int	pop3_login(struct pop3_conn *, const struct pop3_account *,
	    const char *, struct error *);
int	pop3_send(struct pop3_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	pop3_flush(struct pop3_conn *, struct error *);
int	pop3_status(struct pop3_conn *, struct error *);
int	pop3_read_line(struct pop3_conn *, char *, size_t, struct error *);
int	pop3_list(struct pop3_conn *, struct pop3_msg **, size_t *,
	    struct error *);
int	pop3_retr_body(struct pop3_conn *, int, uint64_t, uint64_t *,
	    struct error *);
void	pop3_msgs_free(struct pop3_msg **, size_t);
const char *pop3_clean(const char *);

/* pop3-state.c */
int	pop3_state_lock(const struct pop3_account *, struct pop3_state *,
	    struct error *);
int	pop3_state_load(const struct pop3_account *, struct pop3_state *,
	    struct error *);
struct pop3_state_entry *pop3_state_find(struct pop3_state *, const char *);
void	pop3_state_add(struct pop3_state *, const char *, time_t);
int	pop3_state_save(const struct pop3_account *, struct pop3_state *,
	    struct pop3_msg *, size_t, struct error *);
void	pop3_state_free(struct pop3_state *);
void	pop3_marker(const char *, const char *, char [33]);
int	pop3_mkdirs(const char *, struct error *);

#endif
