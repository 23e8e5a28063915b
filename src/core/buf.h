/*
 * A growable byte buffer, always NUL-terminated, for building strings.
 */
#ifndef FACTEUR_CORE_BUF_H
#define FACTEUR_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until something is added */
	size_t	 len;
	size_t	 cap;
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
void	buf_add(struct buf *, const void *, size_t);
void	buf_addc(struct buf *, char);
void	buf_adds(struct buf *, const char *);
void	buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends data in base64, ending each line of wrap characters and the
   last one with "\n" (wrap 0: one line, no newline). */
void	buf_add_base64(struct buf *, const void *, size_t, size_t wrap);
/* Hands the data to the caller (never NULL) and resets the buffer. */
char	*buf_steal(struct buf *);
/* The data as a string, "" when empty; valid until the next change. */
const char *buf_str(const struct buf *);

#endif
