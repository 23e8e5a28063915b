/*
 * What the IMAP backend offers beyond the backend table: parsing an
 * account's server address (the UI needs the host to pin a certificate),
 * the connection state for the status line, and counters and a protocol
 * transcript for the tests.
 */
#ifndef FACTEUR_BACKEND_IMAP_IMAP_H
#define FACTEUR_BACKEND_IMAP_IMAP_H

#include <stddef.h>

#include "backend/backend.h"

/* Counters of protocol work, for tests and benchmarks. */
struct imap_stats {
	unsigned long	 connects;
	unsigned long	 logins;
	unsigned long	 fetch_commands;
	unsigned long	 fetch_responses;	/* FETCH responses parsed */
	unsigned long	 changedsince;		/* FETCH ... CHANGEDSINCE */
	unsigned long	 first_batch;		/* rows in the first fetch */
	unsigned long	 idles;
	unsigned long	 reconnects;
};

/*
 * Parses "imaps://host[:port]", "imap://host[:port]" or a bare host
 * (imaps). host is owned by the caller; implicit is 1 for imaps. Fails
 * with ERR_CONFIG on anything else.
 */
int	imap_url_parse(const char *, char **host, int *port, int *implicit,
	    struct error *);

/* The user of "imaps://user@host", owned, or NULL. */
char	*imap_url_user(const char *);

/* A copy of the counters. */
void	imap_get_stats(struct backend *, struct imap_stats *);
/* One line on the connection ("connected", "reconnecting in 4 s: ..."),
   written into buf; returns 1 when the session is not online. */
int	imap_status(struct backend *, char *, size_t);
/* Every session opened after this logs its protocol lines (credentials
   dropped) to sink; NULL stops. For tests. */
void	imap_set_transcript(void (*)(void *, const char *), void *);

#endif
