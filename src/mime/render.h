/*
 * Rendering of a whole message into sanitised lines for the pager: chosen
 * headers, the readable text parts (charset and transfer decoded, HTML
 * turned into text), one line per attachment, and notes where something
 * could not be shown as sent. No UI code; safe on worker threads.
 */
#ifndef FACTEUR_MIME_RENDER_H
#define FACTEUR_MIME_RENDER_H

#include <stddef.h>

#include "core/error.h"

enum render_kind {
	RENDER_HEADER,
	RENDER_BODY,
	RENDER_QUOTE,
	RENDER_SIGNATURE,
	RENDER_ATTACHMENT,
	RENDER_NOTE,
};

struct render_line {
	char			*text;		/* sanitised UTF-8, no '\n' */
	enum render_kind	 kind;
	unsigned		 quote_depth;	/* RENDER_QUOTE: '>' count */
};

struct render {
	struct render_line	*lines;
	size_t			 n;
	size_t			 cap;
	size_t			 bytes;		/* text bytes in all lines */
};

#define RENDER_MAX_SIZE		(64 * 1024 * 1024)
#define RENDER_MAX_DEPTH	32
#define RENDER_MAX_PARTS	10000
/* Output bounds: text beyond them is cut with a note. */
#define RENDER_MAX_BYTES	(8 * 1024 * 1024)
#define RENDER_MAX_LINE		(16 * 1024)

struct render_opts {
	int	 full_headers;	/* every header, in order */
	int	 prefer_html;	/* multipart/alternative: take text/html */
	size_t	 max_size;	/* not parsed beyond this; 0: RENDER_MAX_SIZE */
};

/*
 * Renders a message into r (which need not be initialised; free it with
 * render_free). opts may be NULL. A message that cannot be parsed, is too
 * deep or too large is rendered as raw text with a RENDER_NOTE line, so
 * these return -1 only when the file cannot be read.
 */
int	mime_render_file(const char *path, const struct render_opts *opts,
	    struct render *r, struct error *err);
int	mime_render_mem(const char *msg, size_t len,
	    const struct render_opts *opts, struct render *r,
	    struct error *err);
/* Frees the lines of r and empties it; r itself is the caller's. */
void	render_free(struct render *r);

#endif
