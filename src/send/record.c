/*
 * Recording a sent or postponed message in the account's own store: the
 * local backend copies it into a Maildir folder and indexes it; a network
 * backend (IMAP) APPENDs the Sent copy to its Sent folder through the
 * backend's append operation. Also the addresses of the index offered
 * for completion.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backend/backend.h"
#include "backend/local/local-append.h"
#include "backend/local/local.h"
#include "core/xmalloc.h"
#include "send/send.h"

/* The operations of a backend other than the local one, by name. */
static const struct backend_ops *
send_record_ops(const char *backend_name)
{
	if (strcmp(backend_name, imap_backend_ops.name) == 0)
		return (&imap_backend_ops);
	return (NULL);
}

/* Maildir flag letters ("S", "DS") as MSG_* bits for append. */
static unsigned
send_record_flags(const char *flags)
{
	unsigned	f = MSG_UNREAD;

	for (; flags != NULL && *flags != '\0'; flags++) {
		switch (*flags) {
		case 'S':
			f &= ~MSG_UNREAD;
			break;
		case 'D':
			f |= MSG_DRAFT;
			break;
		case 'F':
			f |= MSG_FLAGGED;
			break;
		case 'R':
			f |= MSG_REPLIED;
			break;
		}
	}
	return (f);
}

int
send_record(struct backend *be, const char *backend_name,
    const char *folder, const char *path, const char *flags,
    const char *tags, struct error *err)
{
	const struct backend_ops	*ops;

	if (be == NULL || backend_name == NULL)
		return (0);
	if (strcmp(backend_name, "local") == 0)
		return (local_append_file(be, folder, path, flags, tags, err));
	/* Elsewhere only the Sent copy is kept, in the server's Sent
	   folder (SPECIAL-USE \Sent); their drafts are not kept yet. */
	if (strcmp(folder, ".Sent") != 0 ||
	    (ops = send_record_ops(backend_name)) == NULL ||
	    ops->append == NULL)
		return (0);
	return (ops->append(be, "Sent", path, send_record_flags(flags), err));
}

int
send_forget(struct backend *be, const char *backend_name, const char *path,
    struct error *err)
{
	if (be == NULL || backend_name == NULL ||
	    strcmp(backend_name, "local") != 0)
		return (0);
	return (local_remove_file(be, path, err));
}

int
send_known_addresses(struct backend *be, const char *backend_name,
    const char *prefix, size_t max, char ***out, size_t *n,
    struct error *err)
{
	struct send_addrs	 as;
	struct error		 ignored;
	const char		*name;
	char			**h, **v = NULL, *s;
	size_t			 nh, nv = 0, i, j, k;

	*out = NULL;
	*n = 0;
	if (be == NULL || backend_name == NULL ||
	    strcmp(backend_name, "local") != 0)
		return (0);
	if (local_recent_headers(be, prefix, max, &h, &nh, err) != 0)
		return (-1);
	for (i = 0; i < nh; i++) {
		memset(&as, 0, sizeof as);
		if (send_addrs_parse(h[i], &as, &ignored) != 0) {
			send_addrs_free(&as);
			continue;
		}
		for (j = 0; j < as.n; j++) {
			xasprintf(&s, "<%s>", as.v[j].addr);
			for (k = 0; k < nv; k++)
				if (strcasecmp(v[k], as.v[j].addr) == 0 ||
				    strcasestr(v[k], s) != NULL)
					break;
			free(s);
			if (k < nv)
				continue;
			name = as.v[j].name;
			if (name == NULL || *name == '\0' ||
			    strchr(name, '"') != NULL)
				s = xstrdup(as.v[j].addr);
			else if (strpbrk(name, ",;:<>@()[]\\.") != NULL)
				xasprintf(&s, "\"%s\" <%s>", name,
				    as.v[j].addr);
			else
				xasprintf(&s, "%s <%s>", name, as.v[j].addr);
			v = xreallocarray(v, nv + 1, sizeof *v);
			v[nv++] = s;
		}
		send_addrs_free(&as);
	}
	local_headers_free(h, nh);
	*out = v;
	*n = nv;
	return (0);
}

void
send_known_free(char **v, size_t n)
{
	local_headers_free(v, n);	/* the same array of strings */
}
