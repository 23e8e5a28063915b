/*
 * Key names and key bindings. Each screen keeps its own list of bindings,
 * kept free of prefixes (binding "gg" drops "g" and the reverse), so a
 * lookup is a match, a prefix or nothing; the generic list answers for
 * keys a screen does not bind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "config/private.h"

/* Named keys; the first name of a code is the one keymap_key_name uses. */
static const struct {
	const char	*name;
	int		 key;
} keymap_names[] = {
	{ "Up", KEYC_UP },
	{ "Down", KEYC_DOWN },
	{ "Left", KEYC_LEFT },
	{ "Right", KEYC_RIGHT },
	{ "PageUp", KEYC_PAGEUP },
	{ "PgUp", KEYC_PAGEUP },
	{ "PageDown", KEYC_PAGEDOWN },
	{ "PgDn", KEYC_PAGEDOWN },
	{ "Home", KEYC_HOME },
	{ "End", KEYC_END },
	{ "Backspace", KEYC_BACKSPACE },
	{ "BS", KEYC_BACKSPACE },
	{ "Delete", KEYC_DELETE },
	{ "Del", KEYC_DELETE },
	{ "Insert", KEYC_INSERT },
	{ "Ins", KEYC_INSERT },
	{ "S-Tab", KEYC_BTAB },
	{ "Enter", KEYC_ENTER },
	{ "Return", KEYC_ENTER },
	{ "CR", KEYC_ENTER },
	{ "Tab", KEYC_TAB },
	{ "Esc", KEYC_ESC },
	{ "Escape", KEYC_ESC },
	{ "Space", KEYC_SPACE },
	{ "lt", '<' },
	{ "Caret", '^' },
};
#define KEYMAP_NNAMES (sizeof keymap_names / sizeof keymap_names[0])

/* Index of a screen bit in config->maps. */
static int
keymap_screen_index(unsigned screen)
{
	int	i;

	for (i = 0; i < KM_NSCREENS; i++) {
		if (screen == (1U << i))
			return (i);
	}
	return (-1);
}

/* Decodes one UTF-8 character; returns its length or 0 if invalid. */
static size_t
keymap_utf8(const unsigned char *s, int *cp)
{
	size_t	len, i;
	int	c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
	    (c >= 0x80 && c < 0xa0))
		return (0);
	*cp = c;
	return (len);
}

/* The control key for c (a letter or one of @[\]^_?), or -1. */
static int
keymap_ctrl(int c)
{
	if (c == '?')
		return (127);
	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	if (c >= '@' && c <= '_')
		return (c & 0x1f);
	return (-1);
}

/* Parses the name inside <...>, which may stand for two keys (<M-x>). */
static int
keymap_parse_name(const char *s, size_t len, int *keys, size_t *n)
{
	char	 name[16];
	size_t	 i;
	int	 f;

	if (len >= sizeof name)
		return (-1);
	memcpy(name, s, len);
	name[len] = '\0';
	for (i = 0; i < KEYMAP_NNAMES; i++) {
		if (strcasecmp(name, keymap_names[i].name) == 0) {
			keys[0] = keymap_names[i].key;
			*n = 1;
			return (0);
		}
	}
	if ((name[0] == 'F' || name[0] == 'f') && len >= 2 && len <= 3 &&
	    name[1] >= '1' && name[1] <= '9' &&
	    (len == 2 || (name[2] >= '0' && name[2] <= '9'))) {
		f = atoi(name + 1);
		if (f >= 1 && f <= 12) {
			keys[0] = KEYC_F(f);
			*n = 1;
			return (0);
		}
	}
	if (len == 3 && name[1] == '-' && strchr("CcMmAa", name[0]) != NULL) {
		if (name[0] == 'C' || name[0] == 'c') {
			if (name[2] == ' ')
				return (-1);
			if ((keys[0] = keymap_ctrl((unsigned char)name[2])) < 0)
				return (-1);
			*n = 1;
			return (0);
		}
		if ((unsigned char)name[2] <= ' ' || name[2] == 127)
			return (-1);
		keys[0] = KEYC_ESC;
		keys[1] = (unsigned char)name[2];
		*n = 2;
		return (0);
	}
	return (-1);
}

/* Is s[0..len) made of letters, digits and "-" only (a name's shape)? */
static int
keymap_name_shape(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return (0);
	}
	return (1);
}

/* Parses a key word into codes; see keymap.h for the syntax. */
int
keymap_parse_key(const char *s, int *keys, size_t *n)
{
	const char	*close;
	int		 k[2], c;
	size_t		 nk, len, i;

	*n = 0;
	if (s == NULL || *s == '\0')
		return (-1);
	while (*s != '\0') {
		nk = 1;
		if (*s == '<' && (close = strchr(s + 1, '>')) != NULL &&
		    keymap_name_shape(s + 1, close - s - 1)) {
			if (keymap_parse_name(s + 1, close - s - 1, k,
			    &nk) != 0)
				return (-1);
			s = close + 1;
		} else if (*s == '^' && s[1] != '\0') {
			if ((k[0] = keymap_ctrl((unsigned char)s[1])) < 0)
				return (-1);
			s += 2;
		} else {
			if ((len = keymap_utf8((const unsigned char *)s,
			    &c)) == 0)
				return (-1);
			k[0] = c;
			s += len;
		}
		for (i = 0; i < nk; i++) {
			if (*n == KEYMAP_MAXKEYS)
				return (-1);
			keys[(*n)++] = k[i] == '\n' ? KEYC_ENTER : k[i];
		}
	}
	return (0);
}

/* Appends the name of one key; last is set for the final key. */
static int
keymap_name_one(int key, int last, char *buf, size_t len)
{
	char	tmp[16];
	size_t	i, used;

	tmp[0] = '\0';
	if (key == '<' && !last)
		snprintf(tmp, sizeof tmp, "<lt>");
	else if (key == '^' && !last)
		snprintf(tmp, sizeof tmp, "<Caret>");
	else if (key == KEYC_SPACE || key == KEYC_TAB || key == KEYC_ENTER ||
	    key == KEYC_ESC || (key >= KEYC_BASE && key < KEYC_F1)) {
		for (i = 0; i < KEYMAP_NNAMES; i++) {
			if (keymap_names[i].key == key) {
				snprintf(tmp, sizeof tmp, "<%s>",
				    keymap_names[i].name);
				break;
			}
		}
	} else if (key >= KEYC_F1 && key <= KEYC_LAST)
		snprintf(tmp, sizeof tmp, "<F%d>", key - KEYC_F1 + 1);
	else if (key >= 0 && key < 32)
		snprintf(tmp, sizeof tmp, "^%c", key | 0x40);
	else if (key == 127)
		snprintf(tmp, sizeof tmp, "^?");
	else if (key > 0 && key < 0x80)
		snprintf(tmp, sizeof tmp, "%c", key);
	else if (key < 0xa0 || (key >= 0xd800 && key <= 0xdfff) ||
	    key > 0x10ffff)
		return (-1);
	else if (key < 0x800)
		snprintf(tmp, sizeof tmp, "%c%c", 0xc0 | (key >> 6),
		    0x80 | (key & 0x3f));
	else if (key < 0x10000)
		snprintf(tmp, sizeof tmp, "%c%c%c", 0xe0 | (key >> 12),
		    0x80 | ((key >> 6) & 0x3f), 0x80 | (key & 0x3f));
	else
		snprintf(tmp, sizeof tmp, "%c%c%c%c", 0xf0 | (key >> 18),
		    0x80 | ((key >> 12) & 0x3f), 0x80 | ((key >> 6) & 0x3f),
		    0x80 | (key & 0x3f));
	if (tmp[0] == '\0')
		return (-1);
	used = strlen(buf);
	if (used + strlen(tmp) + 1 > len) {
		snprintf(buf + used, len - used, "%s", tmp);
		return (-1);
	}
	memcpy(buf + used, tmp, strlen(tmp) + 1);
	return (0);
}

/* Writes the name of a key sequence; see keymap.h. */
int
keymap_key_name(const int *keys, size_t n, char *buf, size_t len)
{
	size_t	i;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	if (n == 0 || n > KEYMAP_MAXKEYS)
		return (-1);
	for (i = 0; i < n; i++) {
		if (keymap_name_one(keys[i], i == n - 1, buf, len) != 0)
			return (-1);
	}
	return (0);
}

/* Does one sequence start with the other (or equal it)? */
static int
keymap_overlap(const int *a, size_t na, const int *b, size_t nb)
{
	size_t	n = na < nb ? na : nb;

	return (memcmp(a, b, n * sizeof *a) == 0);
}

/* Drops a screen's bindings that overlap keys. */
static void
keymap_remove(struct config_keymap *map, const int *keys, size_t n)
{
	size_t	i, j;

	for (i = j = 0; i < map->n; i++) {
		if (!keymap_overlap(map->b[i].keys, map->b[i].n, keys, n))
			map->b[j++] = map->b[i];
	}
	map->n = j;
}

/* Adds a binding (action NULL: a hole hiding generic bindings). */
static void
keymap_add(struct config *cfg, struct config_keymap *map, const int *keys,
    size_t n, const struct action_desc *action)
{
	struct config_binding	*b;

	keymap_remove(map, keys, n);
	if (map->n == map->cap) {
		map->cap = map->cap == 0 ? 32 : map->cap * 2;
		map->b = xreallocarray(map->b, map->cap, sizeof *map->b);
	}
	b = &map->b[map->n++];
	memset(b, 0, sizeof *b);
	memcpy(b->keys, keys, n * sizeof *keys);
	b->n = n;
	b->action = action;
	b->seq = cfg->seq++;
}

/* Binds keys to action on every screen in the screens bits. */
void
config_keymap_bind(struct config *cfg, unsigned screens, const int *keys,
    size_t n, const struct action_desc *action)
{
	int	i;

	for (i = 0; i < KM_NSCREENS; i++) {
		if (screens & (1U << i))
			keymap_add(cfg, &cfg->maps[i], keys, n, action);
	}
}

/*
 * Unbinds keys (and sequences overlapping them) on the screens in the
 * bits; on a screen other than generic, the keys then do nothing there
 * even if a generic binding has them.
 */
void
config_keymap_unbind(struct config *cfg, unsigned screens, const int *keys,
    size_t n)
{
	int	i;

	for (i = 0; i < KM_NSCREENS; i++) {
		if (!(screens & (1U << i)))
			continue;
		if ((1U << i) == KM_GENERIC)
			keymap_remove(&cfg->maps[i], keys, n);
		else
			keymap_add(cfg, &cfg->maps[i], keys, n, NULL);
	}
}

/* Forgets every binding. */
void
config_keymap_clear(struct config *cfg)
{
	int	i;

	for (i = 0; i < KM_NSCREENS; i++)
		cfg->maps[i].n = 0;
}

/* Looks keys up in one screen's list. */
static enum km_match
keymap_find(const struct config_keymap *map, const int *keys, size_t n,
    const struct config_binding **found)
{
	size_t	i;

	for (i = 0; i < map->n; i++) {
		if (!keymap_overlap(map->b[i].keys, map->b[i].n, keys, n))
			continue;
		*found = &map->b[i];
		if (map->b[i].n > n)
			return (KM_PREFIX);
		if (map->b[i].n == n)
			return (KM_MATCH);
		/* A shorter binding matched first: keys went past it. */
		return (KM_NONE);
	}
	return (KM_NONE);
}

/* Looks keys up on one screen, then in the generic bindings. */
enum km_match
keymap_lookup(const struct config *cfg, unsigned screen, const int *keys,
    size_t n, const char **action)
{
	const struct config_binding	*b = NULL;
	enum km_match			 m;
	int				 in[KEYMAP_MAXKEYS], idx;
	size_t				 i;

	if (n == 0 || n > KEYMAP_MAXKEYS || (idx = keymap_screen_index(screen))
	    < 0)
		return (KM_NONE);
	for (i = 0; i < n; i++)
		in[i] = keys[i] == '\n' ? KEYC_ENTER : keys[i];
	m = keymap_find(&cfg->maps[idx], in, n, &b);
	if (b == NULL && idx != 0)
		m = keymap_find(&cfg->maps[0], in, n, &b);
	if (m == KM_MATCH && b->action == NULL)
		return (KM_NONE);
	if (m == KM_MATCH && action != NULL)
		*action = b->action->name;
	return (m);
}

/* Orders bindings by their action's place in the table, then by age. */
static int
keymap_cmp(const void *a, const void *b)
{
	const struct config_binding	*x = *(const void *const *)a;
	const struct config_binding	*y = *(const void *const *)b;

	if (x->action != y->action)
		return (x->action < y->action ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* Calls cb for a list of bindings in a sensible order. */
static void
keymap_emit(const struct config_binding **list, size_t n,
    void (*cb)(void *, const char *, const char *, const char *), void *arg)
{
	char	name[64];
	size_t	i;

	qsort(list, n, sizeof *list, keymap_cmp);
	for (i = 0; i < n; i++) {
		keymap_key_name(list[i]->keys, list[i]->n, name, sizeof name);
		cb(arg, name, list[i]->action->name,
		    list[i]->action->description);
	}
}

/* Lists a screen's active bindings for the help screen; see keymap.h. */
void
keymap_foreach(const struct config *cfg, unsigned screen,
    void (*cb)(void *, const char *, const char *, const char *), void *arg)
{
	const struct config_keymap	 *own, *gen = &cfg->maps[0];
	const struct config_binding	**list, *b;
	size_t				  i, j, n;
	int				  idx, hidden;

	if ((idx = keymap_screen_index(screen)) < 0)
		return;
	own = &cfg->maps[idx];
	list = xcalloc(own->n + gen->n + 1, sizeof *list);
	n = 0;
	if (idx != 0) {
		for (i = 0; i < own->n; i++) {
			if (own->b[i].action != NULL)
				list[n++] = &own->b[i];
		}
		keymap_emit(list, n, cb, arg);
	}
	n = 0;
	for (i = 0; i < gen->n; i++) {
		b = &gen->b[i];
		hidden = 0;
		for (j = 0; idx != 0 && j < own->n; j++) {
			if (keymap_overlap(own->b[j].keys, own->b[j].n,
			    b->keys, b->n))
				hidden = 1;
		}
		if (!hidden)
			list[n++] = b;
	}
	keymap_emit(list, n, cb, arg);
	free(list);
}
