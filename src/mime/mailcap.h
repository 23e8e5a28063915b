/*
 * Mailcap (RFC 1524) look-up and the sandboxed runner for its filters:
 * a "copiousoutput" command turns a part (HTML) into text with a time,
 * memory and output limit, a clean environment and, where the system
 * allows it, no network. Nothing here reads the user's files unless the
 * caller names them.
 */
#ifndef FACTEUR_MIME_MAILCAP_H
#define FACTEUR_MIME_MAILCAP_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/* The files read when the user sets nothing (mailcap_path option). */
#define MAILCAP_DEFAULT_PATH	"~/.mailcap:/etc/mailcap"

#define MAILCAP_COPIOUS		0x1	/* only entries with copiousoutput */
#define MAILCAP_INTERACTIVE	0x2	/* only entries without it */

struct mailcap_entry {
	char	*type;		/* "text/html", or "image" for any image */
	char	*command;	/* view command, % escapes not expanded */
	int	 copiousoutput;
	int	 needsterminal;
	char	*nametemplate;	/* "%s.html" or NULL */
};

/*
 * Finds the first entry for type (lowercase "type/subtype") in the files
 * of path, a colon-separated list where "~/" is $HOME; files that do not
 * exist are skipped. flags is MAILCAP_COPIOUS, MAILCAP_INTERACTIVE or 0.
 * Entries with a "test=" field are skipped (running tests is running
 * commands on every look-up). Returns 0 and fills e, or -1 when none.
 */
int	 mailcap_find(const char *path, const char *type, unsigned flags,
	    struct mailcap_entry *e);
void	 mailcap_entry_free(struct mailcap_entry *);

/*
 * The shell command for e with %s replaced by file (quoted), %t by type
 * and %{charset} by charset (both reduced to [A-Za-z0-9/.+_-]); other
 * %{param} become empty. Owned by the caller.
 */
char	*mailcap_command(const struct mailcap_entry *, const char *file,
	    const char *type, const char *charset);

/* Limits of a filter run. */
#define MAILCAP_TIMEOUT_MS	5000
#define MAILCAP_MAX_MEMORY	(512UL * 1024 * 1024)
#define MAILCAP_MAX_OUTPUT	(4UL * 1024 * 1024)

/*
 * Runs the command of e (through /bin/sh -c) on in[0..len), given both as
 * the file %s names (a private temporary file) and on standard input, and
 * appends at most MAILCAP_MAX_OUTPUT bytes of its standard output to out.
 * The child gets an empty environment but PATH, HOME, LANG and TERM=dumb,
 * no terminal, RLIMIT_CPU and RLIMIT_AS, and its own empty network
 * namespace when unshare(2) allows it (*isolated, when not NULL, says
 * whether it did). It is killed after MAILCAP_TIMEOUT_MS. Returns 0 when
 * it exited with status 0. Safe on a worker thread.
 */
int	 mailcap_filter(const struct mailcap_entry *e, const char *type,
	    const char *charset, const char *in, size_t len, struct buf *out,
	    int *isolated, struct error *);

/*
 * Prepares a child after fork(2) for an untrusted command: its own
 * process group, resource limits and, when possible, no network. Only
 * async-signal-safe calls. Returns 1 when the network is cut off.
 */
int	 mailcap_sandbox_child(int interactive);

#endif
