/*
 * The IMAP header cache: one file per folder (0600) under the account's
 * cache directory, a header line with the format version, UIDVALIDITY and
 * HIGHESTMODSEQ, then one line per message in display order made of
 * tagged fields ("u=12<TAB>S=subject..."). A reader skips tags it does not
 * know and a newer format keeps the old tags, so a release reads the cache
 * of an older one and never has to download everything again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/imap/private.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define IMAP_CACHE_MAGIC	"facteur-imap-cache"
#define IMAP_CACHE_VERSION	1

/* The cache file of a folder, or NULL without a cache directory. */
static char *
imap_cache_path(struct backend *be, const char *folder)
{
	struct buf	 b;
	char		*path;

	if (be->cache_dir == NULL)
		return (NULL);
	buf_init(&b);
	for (; *folder != '\0'; folder++)
		buf_addf(&b, "%02x", (unsigned char)*folder);
	xasprintf(&path, "%s/hdr-%s", be->cache_dir, buf_str(&b));
	buf_free(&b);
	return (path);
}

/* Writes s with tab, newline and backslash escaped. */
static void
imap_cache_put(FILE *f, char tag, const char *s)
{
	if (s == NULL)
		return;
	fprintf(f, "\t%c=", tag);
	for (; *s != '\0'; s++) {
		if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else if (*s == '\\')
			fputs("\\\\", f);
		else
			fputc(*s, f);
	}
}

/* Undoes imap_cache_put's escapes in place. */
static char *
imap_cache_unescape(char *s)
{
	char	*r, *w;

	for (r = w = s; *r != '\0'; r++) {
		if (*r == '\\' && r[1] != '\0') {
			r++;
			*w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' :
			    *r == 'r' ? '\r' : *r;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return (s);
}

/* Saves a folder (data_lock held): written aside, then renamed. */
int
imap_cache_save(struct backend *be, struct imap_folder *fo)
{
	struct imap_msg	*m;
	char		*path, *tmp;
	FILE		*f;
	size_t		 i;
	int		 fd;

	if ((path = imap_cache_path(be, fo->name)) == NULL)
		return (0);
	xasprintf(&tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		if (fd != -1)
			close(fd);
		free(tmp);
		free(path);
		return (-1);
	}
	fprintf(f, "%s\t%d\tv=%u\tm=%llu\n", IMAP_CACHE_MAGIC,
	    IMAP_CACHE_VERSION, fo->uidvalidity,
	    (unsigned long long)fo->modseq);
	for (i = 0; i < fo->norder; i++) {
		if ((m = imap_msg_find(fo, fo->order[i])) == NULL)
			continue;
		fprintf(f, "u=%u", m->uid);
		if (m->have) {
			fprintf(f, "\tf=%u\td=%lld\ts=%u", m->flags,
			    (long long)m->date, m->size);
			imap_cache_put(f, 'F', m->from);
			imap_cache_put(f, 'S', m->subject);
			imap_cache_put(f, 'i', m->msgid);
			imap_cache_put(f, 'r', m->refs);
			imap_cache_put(f, 'k', m->keywords);
		}
		fputc('\n', f);
	}
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0 ||
	    rename(tmp, path) == -1) {
		log_warn("%s", path);
		unlink(tmp);
		free(tmp);
		free(path);
		return (-1);
	}
	fo->dirty = 0;
	free(tmp);
	free(path);
	return (0);
}

/* Reads one message line into the folder. */
static void
imap_cache_line(struct imap_folder *fo, char *line, uint32_t **order,
    size_t *n, size_t *cap)
{
	struct imap_msg	*m = NULL;
	char		*field, *val, *save = NULL;
	unsigned long	 uid;

	for (field = strtok_r(line, "\t", &save); field != NULL;
	    field = strtok_r(NULL, "\t", &save)) {
		if (field[0] == '\0' || field[1] != '=')
			continue;
		val = imap_cache_unescape(field + 2);
		if (field[0] == 'u') {
			uid = strtoul(val, NULL, 10);
			if (uid == 0 || uid > UINT32_MAX || m != NULL)
				return;
			m = imap_msg_add(fo, (uint32_t)uid);
			if (*n == *cap) {
				*cap = *cap == 0 ? 256 : *cap * 2;
				*order = xreallocarray(*order, *cap,
				    sizeof **order);
			}
			(*order)[(*n)++] = (uint32_t)uid;
			continue;
		}
		if (m == NULL)
			return;		/* u= comes first */
		switch (field[0]) {
		case 'f':
			m->flags = (unsigned)strtoul(val, NULL, 10);
			m->have = 1;
			break;
		case 'd':
			m->date = strtoll(val, NULL, 10);
			break;
		case 's':
			m->size = (uint32_t)strtoul(val, NULL, 10);
			break;
		case 'F':
			free(m->from);
			m->from = xstrdup(val);
			break;
		case 'S':
			free(m->subject);
			m->subject = xstrdup(val);
			break;
		case 'i':
			free(m->msgid);
			m->msgid = xstrdup(val);
			break;
		case 'r':
			free(m->refs);
			m->refs = xstrdup(val);
			break;
		case 'k':
			free(m->keywords);
			m->keywords = xstrdup(val);
			break;
		default:	/* a newer release's field */
			break;
		}
	}
	if (m != NULL && m->have) {
		if (m->from == NULL)
			m->from = xstrdup("");
		if (m->subject == NULL)
			m->subject = xstrdup("");
	}
}

/* Loads a folder's cache file into an empty folder (data_lock held).
   Returns 0 when something was loaded. */
int
imap_cache_load(struct backend *be, struct imap_folder *fo)
{
	char		*path, *line = NULL, *p;
	uint32_t	*order = NULL;
	size_t		 size = 0, n = 0, cap = 0;
	unsigned long	 uv = 0;
	unsigned long long modseq = 0;
	FILE		*f;
	int		 version;

	if ((path = imap_cache_path(be, fo->name)) == NULL)
		return (-1);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return (-1);
	if (getline(&line, &size, f) <= 0 ||
	    strncmp(line, IMAP_CACHE_MAGIC "\t", sizeof IMAP_CACHE_MAGIC) !=
	    0) {
		free(line);
		fclose(f);
		return (-1);
	}
	version = atoi(line + sizeof IMAP_CACHE_MAGIC);
	if (version < 1) {
		free(line);
		fclose(f);
		return (-1);
	}
	if ((p = strstr(line, "\tv=")) != NULL)
		uv = strtoul(p + 3, NULL, 10);
	if ((p = strstr(line, "\tm=")) != NULL)
		modseq = strtoull(p + 3, NULL, 10);
	imap_folder_clear(fo);
	fo->uidvalidity = (uint32_t)uv;
	fo->modseq = modseq;
	while (getline(&line, &size, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		imap_cache_line(fo, line, &order, &n, &cap);
	}
	free(line);
	fclose(f);
	free(fo->order);
	fo->order = order;
	fo->norder = n;
	fo->total = n;
	fo->loaded = 0;		/* the server has not confirmed it yet */
	fo->dirty = 0;
	return (0);
}

/* Removes a folder's cache (its UIDVALIDITY changed). */
void
imap_cache_drop(struct backend *be, const char *folder)
{
	char	*path;

	if ((path = imap_cache_path(be, folder)) == NULL)
		return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
	free(path);
}
