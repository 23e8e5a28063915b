/*
 * Recording a sent or postponed message in the account's own store: the
 * local backend copies it into a Maildir folder and indexes it. Other
 * backends (IMAP APPEND to the Sent folder) plug in here.
 */
#include <string.h>

#include "backend/local/local.h"
#include "send/send.h"

int
send_record(struct backend *be, const char *backend_name,
    const char *folder, const char *path, const char *flags,
    const char *tags, struct error *err)
{
	if (be == NULL || backend_name == NULL)
		return (0);
	if (strcmp(backend_name, "local") == 0)
		return (local_append_file(be, folder, path, flags, tags, err));
	/* IMAP: APPEND to the SPECIAL-USE \Sent folder is the IMAP
	   backend's to add; until then the copy is not kept. */
	return (0);
}
