/*
 * What src/send asks of the local backend beyond the backend table:
 * appending a sent or postponed message to a folder, removing a sent
 * draft and reading the addresses of recent messages for completion. Implemented in
 * local-append.c; only src/send includes this.
 */
#ifndef FACTEUR_BACKEND_LOCAL_APPEND_H
#define FACTEUR_BACKEND_LOCAL_APPEND_H

#include <stddef.h>

#include "core/error.h"

struct backend;

/*
 * [reader] The From, To and Cc header values (decoded) of the newest
 * messages whose From, To or Cc has a word starting with prefix (letters,
 * digits and ".-_+@" only; anything else matches every message), at most
 * max messages. Free with local_headers_free.
 */
int	local_recent_headers(struct backend *, const char *prefix,
	    size_t max, char ***out, size_t *n, struct error *);
void	local_headers_free(char **, size_t);
/*
 * [worker] Removes the message file at path (inside the Maildir) from the
 * index and the disk: a resumed draft once it is sent. A file already
 * gone is not an error.
 */
int	local_remove_file(struct backend *, const char *path, struct error *);

#endif
