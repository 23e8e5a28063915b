/*
 * Tab completion for the compose prompts: the last address of a list
 * from aliases and addresses seen in the index, and file names for
 * attachments. Pure functions over their inputs, so tests need no screen.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "send/send.h"

/* More matches than this are counted, not listed. */
#define COMPLETE_MAX	200

void
send_completion_clear(struct send_completion *c)
{
	size_t	i;

	free(c->text);
	for (i = 0; i < c->ncand; i++)
		free(c->cand[i]);
	free(c->cand);
	memset(c, 0, sizeof *c);
}

/* Adds s to the matches unless it is there already. */
static void
complete_add(struct send_completion *c, const char *s)
{
	size_t	i;

	for (i = 0; i < c->ncand; i++)
		if (strcasecmp(c->cand[i], s) == 0)
			return;
	if (c->ncand >= COMPLETE_MAX)
		return;
	c->cand = xreallocarray(c->cand, c->ncand + 1, sizeof *c->cand);
	c->cand[c->ncand++] = xstrdup(s);
}

/* The length the matches share from the start, case folded, whole UTF-8
   characters only. */
static size_t
complete_common(struct send_completion *c)
{
	size_t	i, n;

	if (c->ncand == 0)
		return (0);
	n = strlen(c->cand[0]);
	for (i = 1; i < c->ncand; i++) {
		size_t	k = 0;

		while (k < n && c->cand[i][k] != '\0' &&
		    (c->cand[i][k] == c->cand[0][k] || ((c->cand[i][k] &
		    0x80) == 0 && strncasecmp(&c->cand[i][k],
		    &c->cand[0][k], 1) == 0)))
			k++;
		n = k;
	}
	while (n > 0 && (c->cand[0][n] & 0xc0) == 0x80)
		n--;
	return (n);
}

/* True when s, or a word of it, starts with prefix (case folded). */
static int
complete_match(const char *s, const char *prefix, size_t len)
{
	const char	*p;

	if (len == 0)
		return (1);
	for (p = s; *p != '\0'; p++) {
		if ((p == s || strchr(" <\"'.(", p[-1]) != NULL) &&
		    strncasecmp(p, prefix, len) == 0)
			return (1);
	}
	return (0);
}

/* Where the last entry of an address list starts. */
static const char *
complete_last_entry(const char *text)
{
	const char	*p, *start = text;
	int		 quoted = 0, angle = 0;

	for (p = text; *p != '\0'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			angle = 1;
		else if (*p == '>' && !quoted)
			angle = 0;
		else if (*p == ',' && !quoted && !angle)
			start = p + 1;
	}
	while (*start == ' ' || *start == '\t')
		start++;
	return (start);
}

void
send_complete_address(const char *text, const struct send_aliases *al,
    char *const *known, size_t nknown, struct send_completion *c)
{
	const char	*word = complete_last_entry(text), *name;
	size_t		 len = strlen(word), i, n;
	struct buf	 b;

	memset(c, 0, sizeof *c);
	if (len == 0)
		return;
	for (i = 0; (name = send_aliases_name(al, i)) != NULL; i++)
		if (strncasecmp(name, word, len) == 0)
			complete_add(c, name);
	for (i = 0; i < nknown; i++)
		if (complete_match(known[i], word, len))
			complete_add(c, known[i]);
	if (c->ncand == 0)
		return;
	buf_init(&b);
	buf_add(&b, text, word - text);
	if (c->ncand == 1) {
		buf_adds(&b, c->cand[0]);
		free(c->cand[0]);
		free(c->cand);
		c->cand = NULL;
		c->ncand = 0;
	} else if ((n = complete_common(c)) > len &&
	    strncasecmp(c->cand[0], word, len) == 0) {
		/* Only when every match starts with the word itself. */
		for (i = 0; i < c->ncand; i++)
			if (strncasecmp(c->cand[i], word, len) != 0)
				break;
		buf_add(&b, i == c->ncand ? c->cand[0] : word,
		    i == c->ncand ? n : len);
	} else
		buf_adds(&b, word);
	c->text = buf_steal(&b);
	if (strcmp(c->text, text) == 0) {
		free(c->text);
		c->text = NULL;
	}
}

static int
complete_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

void
send_complete_file(const char *text, struct send_completion *c)
{
	const char	*home = getenv("HOME"), *slash, *base;
	char		*dir, *full;
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	size_t		 blen, n, i;
	struct buf	 b;

	memset(c, 0, sizeof *c);
	slash = strrchr(text, '/');
	base = slash != NULL ? slash + 1 : text;
	blen = strlen(base);
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == text)
		dir = xstrdup("/");
	else if (text[0] == '~' && slash == text + 1 && home != NULL)
		dir = xstrdup(home);
	else if (text[0] == '~' && text[1] == '/' && home != NULL)
		xasprintf(&dir, "%s%.*s", home, (int)(slash - text - 1),
		    text + 1);
	else
		dir = xstrndup(text, slash - text);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, base, blen) != 0 ||
		    (de->d_name[0] == '.' && blen == 0))
			continue;
		xasprintf(&full, "%s/%s", dir, de->d_name);
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
			free(full);
			xasprintf(&full, "%s/", de->d_name);
			complete_add(c, full);
		} else
			complete_add(c, de->d_name);
		free(full);
	}
	closedir(d);
	free(dir);
	if (c->ncand == 0)
		return;
	qsort(c->cand, c->ncand, sizeof *c->cand, complete_cmp);
	buf_init(&b);
	buf_add(&b, text, base - text);
	if (c->ncand == 1) {
		buf_adds(&b, c->cand[0]);
		send_completion_clear(c);
	} else {
		/* File names are compared exactly. */
		n = strlen(c->cand[0]);
		for (i = 1; i < c->ncand; i++) {
			size_t	k = 0;

			while (k < n && c->cand[i][k] == c->cand[0][k])
				k++;
			n = k;
		}
		buf_add(&b, c->cand[0], n);
	}
	c->text = buf_steal(&b);
	if (strcmp(c->text, text) == 0) {
		free(c->text);
		c->text = NULL;
	}
}
