/*
 * The per-account UIDL state file: one "TIME UIDL" line per message
 * downloaded and still on the server, rewritten whole and atomically
 * (temp, fsync, rename, fsync of the directory). A lock file beside it
 * keeps two fetches of one account apart, across processes too.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "backend/pop3/private.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define POP3_STATE_MAGIC	"facteur-pop3-uidl 1"

static int	pop3_state_cmp(const void *, const void *);

/* Creates path and its parents (mode 0700). */
int
pop3_mkdirs(const char *path, struct error *err)
{
	char	*p, *s;

	s = xstrdup(path);
	for (p = s + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		int end = (*p == '\0');
		*p = '\0';
		if (mkdir(s, 0700) == -1 && errno != EEXIST) {
			error_set(err, ERR_IO, "%s: %s", s, strerror(errno));
			free(s);
			return (-1);
		}
		if (end)
			break;
		*p = '/';
	}
	free(s);
	return (0);
}

/* Creates the parent directories of path. */
int
pop3_mkdirs_parent(const char *path, struct error *err)
{
	char	*dir, *slash;
	int	 rv = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		rv = pop3_mkdirs(dir, err);
	}
	free(dir);
	return (rv);
}

/* The marker of a UIDL in file names: 128 bits of SHA-256, in hex. */
void
pop3_marker(const char *account, const char *uidl, char out[33])
{
	unsigned char	 md[32];
	char		*in;
	size_t		 al = strlen(account), ul = strlen(uidl), i;

	in = xmalloc(al + ul + 1);
	memcpy(in, account, al);
	in[al] = '\0';
	memcpy(in + al + 1, uidl, ul);
	gnutls_hash_fast(GNUTLS_DIG_SHA256, in, al + ul + 1, md);
	free(in);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Takes the account's fetch lock; ERR_REFUSED if another fetch runs. */
int
pop3_state_lock(const struct pop3_account *pa, struct pop3_state *st,
    struct error *err)
{
	char	*path, *slash;

	memset(st, 0, sizeof *st);
	st->lock_fd = -1;
	path = xstrdup(pa->state_path);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		if (pop3_mkdirs(path, err) != 0) {
			free(path);
			return (-1);
		}
	}
	free(path);
	xasprintf(&path, "%s.lock", pa->state_path);
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd == -1) {
		error_set(err, ERR_IO, "%s: %s", path, strerror(errno));
		free(path);
		return (-1);
	}
	free(path);
	if (flock(st->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		close(st->lock_fd);
		st->lock_fd = -1;
		return (error_set(err, ERR_REFUSED, "%s: already fetching "
		    "(in this or another facteur)", pa->name));
	}
	return (0);
}

/* Reads the state file; a missing file is an empty state. */
int
pop3_state_load(const struct pop3_account *pa, struct pop3_state *st,
    struct error *err)
{
	FILE		*f;
	char		 line[POP3_LINE_MAX + 1], *sp, *end;
	long long	 t;
	unsigned	 lineno = 0;

	if ((f = fopen(pa->state_path, "re")) == NULL) {
		if (errno == ENOENT)
			return (0);
		return (error_set(err, ERR_IO, "%s: %s", pa->state_path,
		    strerror(errno)));
	}
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1 && strcmp(line, POP3_STATE_MAGIC) == 0)
			continue;
		t = strtoll(line, &end, 10);
		sp = end;
		if (sp == line || *sp != ' ' || sp[1] == '\0') {
			/* File names still carry markers: nothing is lost. */
			log_warnx("%s:%u: ignored malformed line",
			    pa->state_path, lineno);
			continue;
		}
		pop3_state_add(st, sp + 1, (time_t)t);
	}
	if (ferror(f)) {
		fclose(f);
		return (error_set(err, ERR_IO, "%s: read error",
		    pa->state_path));
	}
	fclose(f);
	if (st->n > 0)
		qsort(st->v, st->n, sizeof *st->v, pop3_state_cmp);
	return (0);
}

/* Orders entries by UIDL. */
static int
pop3_state_cmp(const void *a, const void *b)
{
	const struct pop3_state_entry	*x = a, *y = b;

	return (strcmp(x->uidl, y->uidl));
}

/* The entry of a UIDL, or NULL. */
struct pop3_state_entry *
pop3_state_find(struct pop3_state *st, const char *uidl)
{
	struct pop3_state_entry	key;

	if (st->n == 0)
		return (NULL);
	key.uidl = (char *)uidl;
	return (bsearch(&key, st->v, st->n, sizeof *st->v, pop3_state_cmp));
}

/* Adds an entry while loading (find needs the sort that follows). */
void
pop3_state_add(struct pop3_state *st, const char *uidl, time_t when)
{
	if (st->n == st->cap) {
		st->cap = st->cap == 0 ? 64 : st->cap * 2;
		st->v = xreallocarray(st->v, st->cap, sizeof *st->v);
	}
	st->v[st->n].uidl = xstrdup(uidl);
	st->v[st->n++].when = when;
}

/* Fsyncs the directory that holds path. */
static int
pop3_sync_parent(const char *path, struct error *err)
{
	char	*dir, *slash;
	int	 fd, rv = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1)
		rv = error_set(err, ERR_IO, "%s: %s", dir, strerror(errno));
	if (fd != -1)
		close(fd);
	free(dir);
	return (rv);
}

/*
 * Writes the state: the recorded messages of the listing v (those the
 * server still has), atomically. Entries for messages the server no
 * longer lists are dropped.
 */
int
pop3_state_save(const struct pop3_account *pa, struct pop3_state *st,
    struct pop3_msg *v, size_t n, struct error *err)
{
	FILE	*f;
	char	*tmp;
	size_t	 i;
	int	 fd, bad;

	xasprintf(&tmp, "%s.tmp", pa->state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		error_set(err, ERR_IO, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		free(tmp);
		return (-1);
	}
	fprintf(f, "%s\n", POP3_STATE_MAGIC);
	for (i = 0; i < n; i++) {
		if (v[i].recorded && !v[i].dup)
			fprintf(f, "%lld %s\n", (long long)v[i].when,
			    v[i].uidl);
	}
	bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
	if (fclose(f) != 0)
		bad = 1;
	if (bad || rename(tmp, pa->state_path) != 0) {
		error_set(err, ERR_IO, "%s: %s", pa->state_path,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return (-1);
	}
	free(tmp);
	(void)st;
	return (pop3_sync_parent(pa->state_path, err));
}

/* Frees the state and releases the lock. */
void
pop3_state_free(struct pop3_state *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->v[i].uidl);
	free(st->v);
	st->v = NULL;
	st->n = st->cap = 0;
	if (st->lock_fd != -1)
		close(st->lock_fd);
	st->lock_fd = -1;
}
