/*
 * Rendering of a whole message into sanitised lines for the pager: chosen
 * headers, the readable text parts (charset and transfer decoded, HTML
 * turned into text), one line per attachment, and notes where something
 * could not be shown as sent. No UI code; safe on worker threads.
 */
#ifndef FACTEUR_MIME_RENDER_H
#define FACTEUR_MIME_RENDER_H

#include <stddef.h>

#include "core/buf.h"
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
	unsigned		 flags;
#define RENDER_LINE_FLOWED	0x1	/* a format=flowed paragraph */
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
	/*
	 * Colon-separated mailcap files whose copiousoutput entry for
	 * text/html is used instead of the built-in converter (see
	 * mailcap.h); NULL or "" for none, so tests never run commands.
	 */
	const char *mailcap_path;
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

/*
 * A rendered message kept in a temporary file (created 0600 in $TMPDIR or
 * /tmp and unlinked at once) instead of memory, so that a message of any
 * size can be shown whole: the reader asks for the lines it shows. In
 * memory it holds one file offset every RENDER_SPOOL_STEP lines. Once
 * made it is read-only: several threads may read it at once (pread).
 */
struct render_spool;
#define RENDER_SPOOL_MAX_BYTES	(512 * 1024 * 1024)
#define RENDER_SPOOL_STEP	64

/* As mime_render_file and mime_render_mem, into a new spool. */
int	render_spool_file(const char *path, const struct render_opts *,
	    struct render_spool **, struct error *);
int	render_spool_mem(const char *msg, size_t len,
	    const struct render_opts *, struct render_spool **,
	    struct error *);
/* How many lines, and text bytes, the spool holds. */
size_t	render_spool_lines(const struct render_spool *);
size_t	render_spool_bytes(const struct render_spool *);
/*
 * Reads lines [first, first + max_lines) into r (free it with
 * render_free), stopping before max_bytes of text (one line at least).
 */
int	render_spool_read(struct render_spool *, size_t first,
	    size_t max_lines, size_t max_bytes, struct render *,
	    struct error *);
/*
 * The first line from line from on (dir > 0), or the last one up to it
 * (dir < 0), holding needle without regard to case; -1 when none (or
 * once *cancel is set), -2 on a read error.
 */
long	render_spool_find(struct render_spool *, size_t from, int dir,
	    const char *needle, volatile int *cancel, struct error *);
/*
 * As render_spool_find, from byte off of line from: dir > 0 finds the
 * first match at off or after it, dir < 0 the last one that starts
 * before it (SIZE_MAX: anywhere in the line); then the lines after
 * (before) it. Lines of kind skip are passed over (skip < 0: none).
 * *match is the byte offset of the match in its line.
 */
long	render_spool_find_at(struct render_spool *, size_t from, size_t off,
	    int dir, const char *needle, int skip, size_t *match,
	    volatile int *cancel, struct error *);
/*
 * The run of lines of the same kind as line at: *start is its first
 * line, *end the one after its last (a folded quote, whole). 0 or -1.
 */
int	render_spool_span(struct render_spool *, size_t at, size_t *start,
	    size_t *end, struct error *);
/*
 * In a NUL-terminated line: the first match of needle (any case) at byte
 * off or after (dir > 0), or the last one starting before off (dir < 0).
 * 1 and *at set when there is one, else 0.
 */
int	render_find_in(const char *text, size_t off, int dir,
	    const char *needle, size_t *at);
/* As render_urls, over the whole spool. */
size_t	render_spool_urls(struct render_spool *, char ***out);
/* Another reference; render_spool_free drops one (thread-safe). */
struct render_spool *render_spool_ref(struct render_spool *);
void	render_spool_free(struct render_spool **);

/*
 * The URLs (http, https, ftp, mailto) that appear in the rendered text,
 * each once, in order of first appearance, at most RENDER_MAX_URLS.
 * Returns how many; *out is a NULL-terminated owned array (free each
 * string, then the array).
 */
#define RENDER_MAX_URLS		1000
size_t	render_urls(const struct render *r, char ***out);

/*
 * One part of a message as the attachment list shows it. index is the
 * number the pager shows in "[-- Attachment #n ... --]"; the message's
 * own parts are numbered depth first, enclosed messages included.
 */
struct mime_part {
	unsigned	 index;
	unsigned	 depth;		/* 0: a part of the top message */
	char		*name;		/* decoded and sanitised, or NULL */
	char		 type[128];	/* "image/png", lowercase */
	char		*charset;	/* text parts: as declared, or NULL */
	char		 encoding[24];	/* "base64", "7bit"... */
	size_t		 size;		/* decoded bytes */
	int		 is_message;	/* message/rfc822: saved raw */
};

struct mime_parts {
	struct mime_part	*v;
	size_t			 n;
};

/*
 * Lists the leaf parts and enclosed messages of a message (none when it
 * is too large, too deep or does not parse: it is then one text). Free
 * the list with mime_parts_free.
 */
int	mime_parts_mem(const char *msg, size_t len, struct mime_parts *,
	    struct error *);
int	mime_parts_file(const char *path, struct mime_parts *,
	    struct error *);
void	mime_parts_free(struct mime_parts *);
/*
 * Appends the content of part index, transfer decoded (an enclosed
 * message: its raw text), to out; ERR_NOTFOUND when there is no such
 * part.
 */
int	mime_part_extract_mem(const char *msg, size_t len, unsigned index,
	    struct buf *out, struct error *);
int	mime_part_extract_file(const char *path, unsigned index,
	    struct buf *out, struct error *);

/*
 * A file name safe to create in a directory: the last path component of
 * name, without controls, '/', '\', leading dots or blanks, at most 200
 * bytes of valid UTF-8; "attachment-N" (N = index) when nothing is left.
 * Owned by the caller.
 */
char	*mime_safe_filename(const char *name, unsigned index);

#endif
