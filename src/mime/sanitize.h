/*
 * The single gate between mail bytes and the terminal: whatever a message
 * contains comes out as valid UTF-8 without controls, escapes, bidi or
 * invisible characters, each of which is shown visibly instead of dropped.
 */
#ifndef FACTEUR_MIME_SANITIZE_H
#define FACTEUR_MIME_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define SANITIZE_KEEP_NEWLINES	0x1	/* '\n' passes through */
#define SANITIZE_EXPAND_TABS	0x2	/* '\t' becomes spaces to a tab stop */
#define SANITIZE_ONE_LINE	0x4	/* '\n' and '\t' become one space */

/*
 * Appends the sanitised form of in[0..len) to out. Output is valid UTF-8.
 * C0 controls, ESC and DEL are shown as ^X, other removed characters as
 * <U+XXXX>, invalid UTF-8 as U+FFFD (one per maximal invalid subsequence).
 * "\r\n" becomes "\n" (or one space with SANITIZE_ONE_LINE); a lone '\r'
 * becomes ^M. Without flags '\n' and '\t' are shown as ^J and ^I.
 */
void	 sanitize_text(const char *in, size_t len, unsigned flags,
	    struct buf *out);
/* sanitize_text() of a NUL-terminated string in one-line mode, owned. */
char	*sanitize_line(const char *);

/*
 * Decodes one UTF-8 character from s[0..len) (len > 0) into *cp and returns
 * the bytes used. An invalid sequence gives U+FFFD and the length of the
 * maximal invalid subsequence (at least 1).
 */
size_t	 sanitize_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Appends the UTF-8 encoding of cp (U+FFFD when cp is not a scalar). */
void	 sanitize_utf8_encode(uint32_t cp, struct buf *out);
/* 1 when s[0..len) is entirely valid UTF-8. */
int	 sanitize_utf8_valid(const char *s, size_t len);

/*
 * Display columns of a (sanitised) UTF-8 string, by wcwidth(3): the caller
 * must have set a UTF-8 LC_CTYPE. Characters wcwidth cannot measure count
 * one column.
 */
int	 sanitize_width(const char *utf8);
/*
 * The byte length of the longest prefix of utf8 that fits in cols columns
 * without splitting a character or separating combining marks from their
 * base; *used (when not NULL) gets the columns that prefix takes.
 */
size_t	 sanitize_fit(const char *utf8, int cols, int *used);

#endif
