/*
 * Internals shared by the files of src/mime only.
 */
#ifndef FACTEUR_MIME_PRIVATE_H
#define FACTEUR_MIME_PRIVATE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

struct mailmime;
struct mailmime_content;

/*
 * Turns HTML (already UTF-8) into readable text appended to out: no
 * script, style or head, block tags as line breaks, list items as "* ",
 * blockquotes as "> ", entities decoded, blanks collapsed, and the links
 * numbered as "[n] url" lines at the end. Output is not sanitised.
 */
void	html_to_text(const char *html, size_t len, struct buf *out);

/* Shared by render.c and parts.c (see render.c for each). */
#define RENDER_OVERSIZE_SHOW	(1024 * 1024)
void	 render_ctype(const struct mailmime_content *, char *, size_t);
char	*render_filename(const struct mailmime *);
const char *render_charset(const struct mailmime *);
int	 render_encoding(const struct mailmime *);
int	 render_raw_content(const struct mailmime *, const char **, size_t *);
void	 render_decoded(const struct mailmime *, struct buf *);
size_t	 render_decoded_size(const struct mailmime *);
void	 render_size(size_t, char *, size_t);
int	 render_prescan(const char *, size_t, unsigned *, size_t *);
int	 render_digest_quirk(const struct mailmime *);
void	 render_message_raw(const struct mailmime *, const char **,
	    size_t *);
unsigned render_count(const struct mailmime *, unsigned);
void	 render_flowed(const char *, size_t, int, struct buf *);
/*
 * Reads at most max + RENDER_OVERSIZE_SHOW bytes of a message file into
 * an owned NUL-terminated *data; *total is the file's size.
 */
int	 render_load(const char *path, size_t max, char **data, size_t *got,
	    size_t *total, struct error *);

#endif
