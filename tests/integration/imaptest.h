/*
 * Fixtures shared by the IMAP integration suites (test-imap.c and
 * test-imap-proto.c): a private directory with the pin file and header
 * cache, the backend's notices and protocol transcript, backend
 * parameters for the test servers, messages put straight into bob's
 * Maildir, and a second connection that plays "another client".
 */
#ifndef FACTEUR_TESTS_IMAPTEST_H
#define FACTEUR_TESTS_IMAPTEST_H

#include <sys/types.h>

#include <pthread.h>
#include <stdint.h>

#include <libetpan/libetpan.h>

#include "backend/backend.h"
#include "core/buf.h"

extern char		*imaptest_dir;		/* removed by teardown */
extern char		*imaptest_pin_file;
extern char		*imaptest_cache_dir;
extern char		*imaptest_url;		/* bob's IMAPS server */
/* Held to read imaptest_transcript or imaptest_notes; signalled on
   each notice. */
extern pthread_mutex_t	 imaptest_lock;
extern pthread_cond_t	 imaptest_cond;
extern int		 imaptest_notes;
extern struct buf	 imaptest_transcript;	/* every protocol line */

/* Whether the transcript holds s so far. */
int	imaptest_transcript_has(const char *);
/* A copy of the transcript so far, to free. */
char	*imaptest_transcript_copy(void);
/* Makes /tmp/NAME.XXXXXX and starts the transcript. */
void	imaptest_setup(const char *);
/* For a test that puts mail into bob's INBOX or counts on what it holds:
   criterion runs tests side by side, so such tests take turns (the lock
   is held until the test's teardown). */
void	imaptest_inbox_lock(void);
/* Stops the transcript and removes the directory. */
void	imaptest_teardown(void);
/* The backend's notify: counts and signals. */
void	imaptest_notify(void *, unsigned);
/* Backend parameters for url as user (password may be NULL). */
struct backend_params imaptest_params(const char *, const char *,
	    const char *);
/* Opens the backend on url as user, or fails the test. */
struct backend *imaptest_open(const char *, const char *, const char *);
/* Waits until cond(be, arg) holds or ms pass; returns whether it holds.
   cond runs with imaptest_lock held. */
int	imaptest_wait(struct backend *, int (*)(struct backend *,
	    const void *), const void *, int);
/* Conditions for imaptest_wait: the folder named arg is loaded and
   current; every message of it has its summary. */
int	imaptest_loaded(struct backend *, const void *);
int	imaptest_filled(struct backend *, const void *);
/* A second session, logged in as bob. */
mailimap *imaptest_peer(void);
/* Another client sets \Flagged on uid of folder. */
void	imaptest_peer_flag(const char *, uint32_t);
/* Another client marks uid of folder read (\Seen). */
void	imaptest_peer_seen(const char *, uint32_t);
/* Puts n messages "SUBJECT i" into bob's folder ("" for INBOX), seen
   or not. */
void	imaptest_deliver(const char *, int, const char *, int);
/* Whether the folder list (what the UI reads) shows name; if so its
   counts and flags are copied to *out (name and query left NULL). */
int	imaptest_folder(struct backend *, const char *, struct folder_info *);
/* A scripted server for what Dovecot will not do: a forked child (killed
   with the test) running serve(listening socket, arg) on a port of
   127.0.0.1; returns its imap:// URL, to free. */
char	*imaptest_scripted(void (*)(int, const void *), const void *,
	    pid_t *);

#endif
