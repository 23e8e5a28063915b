/*
 * Address aliases in mutt's syntax ("alias key Name <a@b>, c@d", with an
 * optional "-group name", '#' comments and '\' continuations). A bare
 * word in To, Cc or Bcc that names an alias becomes its addresses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "send/send.h"

#define ALIAS_MAX_FILE	(4 * 1024 * 1024)
#define ALIAS_MAX_DEPTH	5

struct send_aliases {
	char	**keys;
	char	**values;
	size_t	  n;
};

/* Adds one "alias" line (after the word alias). */
static int
alias_line(struct send_aliases *al, char *p, const char *path,
    unsigned lineno, struct error *err)
{
	char	*key;
	size_t	 n;

	p += strspn(p, " \t");
	while (strncmp(p, "-group", 6) == 0 && (p[6] == ' ' ||
	    p[6] == '\t')) {
		p += 6 + strspn(p + 6, " \t");
		p += strcspn(p, " \t");		/* the group name */
		p += strspn(p, " \t");
	}
	n = strcspn(p, " \t");
	if (n == 0 || p[n] == '\0')
		return (error_set(err, ERR_CONFIG, "%s:%u: alias needs a "
		    "name and an address", path, lineno));
	key = xstrndup(p, n);
	p += n + strspn(p + n, " \t");
	al->keys = xreallocarray(al->keys, al->n + 1, sizeof *al->keys);
	al->values = xreallocarray(al->values, al->n + 1,
	    sizeof *al->values);
	al->keys[al->n] = key;
	al->values[al->n++] = xstrdup(p);
	return (0);
}

int
send_aliases_load(const char *path, struct send_aliases **out,
    struct error *err)
{
	struct send_aliases	*al;
	struct buf		 logical;
	FILE			*f;
	char			*line = NULL, *p;
	size_t			 cap = 0, total = 0;
	ssize_t			 n;
	unsigned		 lineno = 0, start = 0;
	int			 r = 0;

	*out = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return (error_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO,
		    "%s: %s", path, strerror(errno)));
	al = xcalloc(1, sizeof *al);
	buf_init(&logical);
	while (r == 0 && (n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((total += n) > ALIAS_MAX_FILE) {
			r = error_set(err, ERR_CONFIG, "%s: too big", path);
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (logical.len == 0)
			start = lineno;
		if (n > 0 && line[n - 1] == '\\') {
			buf_add(&logical, line, n - 1);
			continue;
		}
		buf_add(&logical, line, n);
		p = logical.data != NULL ? logical.data : "";
		p += strspn(p, " \t");
		if (strncmp(p, "alias", 5) == 0 && (p[5] == ' ' ||
		    p[5] == '\t'))
			r = alias_line(al, p + 5, path, start, err);
		buf_reset(&logical);
	}
	free(line);
	fclose(f);
	buf_free(&logical);
	if (r != 0) {
		send_aliases_free(&al);
		return (-1);
	}
	*out = al;
	return (0);
}

void
send_aliases_free(struct send_aliases **alp)
{
	struct send_aliases	*al = *alp;
	size_t			 i;

	if (al == NULL)
		return;
	for (i = 0; i < al->n; i++) {
		free(al->keys[i]);
		free(al->values[i]);
	}
	free(al->keys);
	free(al->values);
	free(al);
	*alp = NULL;
}

/* The value of key, the last definition winning as in mutt, or NULL. */
static const char *
alias_find(const struct send_aliases *al, const char *key, size_t len)
{
	size_t	i;

	for (i = al->n; i > 0; i--)
		if (strlen(al->keys[i - 1]) == len &&
		    strncasecmp(al->keys[i - 1], key, len) == 0)
			return (al->values[i - 1]);
	return (NULL);
}

/* Appends list to b with aliases expanded, depth levels deep at most. */
static void
alias_expand(const struct send_aliases *al, const char *list, int depth,
    struct buf *b)
{
	const char	*p = list, *end, *s, *e, *v;
	struct buf	 one;
	int		 quoted = 0, angle = 0;

	while (*p != '\0') {
		for (end = p; *end != '\0'; end++) {
			if (*end == '"')
				quoted = !quoted;
			else if (*end == '<' && !quoted)
				angle = 1;
			else if (*end == '>' && !quoted)
				angle = 0;
			else if (*end == ',' && !quoted && !angle)
				break;
		}
		for (s = p; s < end && (*s == ' ' || *s == '\t'); s++)
			;
		for (e = end; e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e > s) {
			buf_init(&one);
			if (depth < ALIAS_MAX_DEPTH && memchr(s, '@', e - s) ==
			    NULL && strcspn(s, " \t<\"") >= (size_t)(e - s) &&
			    (v = alias_find(al, s, e - s)) != NULL)
				alias_expand(al, v, depth + 1, &one);
			else
				buf_add(&one, s, e - s);
			if (one.len > 0 && b->len > 0)
				buf_adds(b, ", ");
			buf_add(b, buf_str(&one), one.len);
			buf_free(&one);
		}
		p = *end == ',' ? end + 1 : end;
	}
}

char *
send_aliases_expand(const struct send_aliases *al, const char *list)
{
	struct buf	b;

	if (list == NULL)
		return (NULL);
	buf_init(&b);
	if (al == NULL)
		buf_adds(&b, list);
	else
		alias_expand(al, list, 0, &b);
	return (buf_steal(&b));
}

const char *
send_aliases_name(const struct send_aliases *al, size_t i)
{
	if (al == NULL || i >= al->n)
		return (NULL);
	return (al->keys[i]);
}
