/*
 * Internals shared by the files of src/mime only.
 */
#ifndef FACTEUR_MIME_PRIVATE_H
#define FACTEUR_MIME_PRIVATE_H

#include <stddef.h>

#include "core/buf.h"

/*
 * Turns HTML (already UTF-8) into readable text appended to out: no
 * script, style or head, block tags as line breaks, list items as "* ",
 * blockquotes as "> ", entities decoded, blanks collapsed, and the links
 * numbered as "[n] url" lines at the end. Output is not sanitised.
 */
void	html_to_text(const char *html, size_t len, struct buf *out);

#endif
