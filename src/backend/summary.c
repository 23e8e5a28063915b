/*
 * The plain containers that backends hand back (backend.h): a growable
 * array of summaries whose strings it owns, and the folder list.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/xmalloc.h"

const struct msg_tag_flag msg_tag_flags[] = {
	{ "unread", MSG_UNREAD }, { "flagged", MSG_FLAGGED },
	{ "replied", MSG_REPLIED }, { "deleted", MSG_DELETED },
	{ "draft", MSG_DRAFT }, { "passed", MSG_PASSED },
	{ NULL, 0 },
};

/* Copies s, or NULL. */
static char *
summary_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* Makes an empty batch. */
void
summary_batch_init(struct summary_batch *b)
{
	b->v = NULL;
	b->n = b->cap = 0;
}

/* Frees the rows' strings and the array; the batch is empty after. */
void
summary_batch_free(struct summary_batch *b)
{
	struct summary	*s;
	size_t		 i;

	for (i = 0; i < b->n; i++) {
		s = &b->v[i];
		free(s->id);
		free(s->thread);
		free(s->from);
		free(s->subject);
		free(s->tags);
		free(s->path);
	}
	free(b->v);
	summary_batch_init(b);
}

/* Appends a copy of s (strings copied); the array doubles when full. */
struct summary *
summary_batch_add(struct summary_batch *b, const struct summary *s)
{
	struct summary	*d;

	if (b->n == b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
	}
	d = &b->v[b->n++];
	*d = *s;
	d->id = summary_strdup(s->id);
	d->thread = summary_strdup(s->thread);
	d->from = summary_strdup(s->from);
	d->subject = summary_strdup(s->subject);
	d->tags = summary_strdup(s->tags != NULL ? s->tags : "");
	d->path = summary_strdup(s->path);
	return (d);
}

/* Frees the folders' strings and the array; the list is empty after. */
void
folder_list_free(struct folder_list *fl)
{
	size_t	i;

	for (i = 0; i < fl->n; i++) {
		free(fl->v[i].name);
		free(fl->v[i].query);
	}
	free(fl->v);
	fl->v = NULL;
	fl->n = 0;
}
