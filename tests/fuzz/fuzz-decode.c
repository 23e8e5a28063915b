/*
 * libFuzzer harness for the header decoders: RFC 2047 encoded words,
 * address lists, RFC 2231 parameters (through a part's disposition),
 * attachment file names and format=flowed. The output of the decoders
 * that feed the screen must be valid UTF-8 without controls.
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "mime/decode.h"
#include "mime/private.h"
#include "mime/render.h"
#include "mime/sanitize.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Aborts unless s is valid UTF-8 without C0 controls. */
static void
fuzz_check(const char *s)
{
	size_t	i;

	if (!sanitize_utf8_valid(s, strlen(s)))
		abort();
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct mime_parts	 l;
	struct buf		 b;
	char			*s, *t, *msg;
	size_t			 i;

	setlocale(LC_CTYPE, "C.UTF-8");
	s = mime_decode_header_mem((const char *)data, len);
	fuzz_check(s);
	free(s);
	t = xstrndup((const char *)data, len);
	s = mime_decode_addresses(t);
	fuzz_check(s);
	free(s);
	s = mime_from_display(t);
	fuzz_check(s);
	free(s);
	s = mime_safe_filename(t, 1);
	fuzz_check(s);
	if (strchr(s, '/') != NULL || s[0] == '.' || s[0] == '\0')
		abort();
	free(s);
	/* RFC 2231: the input as the parameters of a disposition. */
	xasprintf(&msg, "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
	    "Content-Type: application/x-y\nContent-Disposition: attachment;"
	    " %s\n\nx\n--b--\n", t);
	mime_parts_mem(msg, strlen(msg), &l, NULL);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].name != NULL)
			fuzz_check(l.v[i].name);
	}
	mime_parts_free(&l);
	free(msg);
	buf_init(&b);
	render_flowed((const char *)data, len, len > 0 && data[0] & 1, &b);
	buf_free(&b);
	free(t);
	return (0);
}
