/*
 * libFuzzer harness for the built-in HTML-to-text converter: any bytes
 * as HTML; the sanitised result must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "mime/private.h"
#include "mime/sanitize.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct buf	text, clean;

	buf_init(&text);
	buf_init(&clean);
	html_to_text((const char *)data, len, &text);
	sanitize_text(buf_str(&text), text.len, SANITIZE_KEEP_NEWLINES |
	    SANITIZE_EXPAND_TABS, &clean);
	if (!sanitize_utf8_valid(buf_str(&clean), clean.len))
		abort();
	buf_free(&text);
	buf_free(&clean);
	return (0);
}
