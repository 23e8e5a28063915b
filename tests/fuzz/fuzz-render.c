/*
 * libFuzzer harness for the message parser and renderer: any bytes as a
 * message, rendered with both preferences, its parts listed and each
 * extracted, its URLs listed. Every rendered line must be valid UTF-8.
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "mime/render.h"
#include "mime/sanitize.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct render_opts	  opts = { 0 };
	struct render		  r;
	struct mime_parts	  l;
	struct buf		  b;
	char			**u;
	size_t			  i, n;

	setlocale(LC_CTYPE, "C.UTF-8");
	opts.prefer_html = len > 0 && data[0] & 1;
	opts.full_headers = len > 0 && data[0] & 2;
	mime_render_mem((const char *)data, len, &opts, &r, NULL);
	for (i = 0; i < r.n; i++) {
		if (!sanitize_utf8_valid(r.lines[i].text,
		    strlen(r.lines[i].text)))
			abort();
	}
	n = render_urls(&r, &u);
	for (i = 0; i < n; i++)
		free(u[i]);
	free(u);
	render_free(&r);
	mime_parts_mem((const char *)data, len, &l, NULL);
	buf_init(&b);
	for (i = 0; i < l.n && i < 20; i++) {
		buf_reset(&b);
		mime_part_extract_mem((const char *)data, len, l.v[i].index, &b,
		    NULL);
	}
	buf_free(&b);
	mime_parts_free(&l);
	return (0);
}
