/*
 * Decoding of what mail encodes: RFC 2047 encoded words in headers,
 * charsets (through iconv), quoted-printable and base64, and address
 * headers for display. Everything is tolerant of real-world breakage and
 * safe to call from any thread.
 */
#ifndef FACTEUR_MIME_DECODE_H
#define FACTEUR_MIME_DECODE_H

#include <stddef.h>

#include "core/buf.h"

/*
 * Decodes a raw header value (folded, with encoded words, maybe 8-bit)
 * into one sanitised line of UTF-8, trimmed. Encoded words in an unknown
 * charset are kept as they were written. Never NULL; owned by the caller.
 */
char	*mime_decode_header(const char *raw);
/* The same for raw[0..len), which may contain NUL bytes (shown as ^@). */
char	*mime_decode_header_mem(const char *raw, size_t len);

/*
 * Converts in[0..len) from charset to UTF-8, appending to out. Returns 0,
 * or 1 when the charset is unknown or cannot be converted: the bytes were
 * then appended as UTF-8 with U+FFFD for invalid sequences and the caller
 * should say so. Bytes invalid in a known charset become U+FFFD. A NULL or
 * empty charset, "us-ascii" and "x-unknown" mean "UTF-8 if valid, otherwise
 * windows-1252". The output is valid UTF-8 but not sanitised.
 */
int	 mime_charset_to_utf8(const char *charset, const char *in, size_t len,
	    struct buf *out);

/*
 * Quoted-printable decoding, appended to out. Soft line breaks, lowercase
 * hex and stray '=' are accepted; a bad '=' sequence is kept literally.
 * With header set, '_' is a space (the RFC 2047 Q encoding).
 */
void	 mime_decode_qp(const char *in, size_t len, int header,
	    struct buf *out);
/*
 * Base64 decoding, appended to out. Characters outside the alphabet and
 * line lengths are ignored; decoding stops at the first '='.
 */
void	 mime_decode_base64(const char *in, size_t len, struct buf *out);
/* The number of bytes mime_decode_base64() would produce. */
size_t	 mime_base64_decoded_len(const char *in, size_t len);

/*
 * An address header for display: "Name <addr>, Other <addr2>", display
 * names decoded, all sanitised to one line. When the header does not parse
 * as an address list, its decoded text. Never NULL; owned by the caller.
 */
char	*mime_decode_addresses(const char *raw);
/*
 * The first sender for the index: the decoded display name, or the address
 * when there is none. Never NULL; owned by the caller.
 */
char	*mime_from_display(const char *raw);

#endif
