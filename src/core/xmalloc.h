/*
 * Small allocations that cannot fail: on exhaustion the program stops
 * with a message (as tmux's xmalloc). Sizes from untrusted input must be
 * checked against a limit before they get here.
 */
#ifndef FACTEUR_CORE_XMALLOC_H
#define FACTEUR_CORE_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
