/*
 * File name helpers: the user's home in configured paths.
 */
#include <stdlib.h>

#include "core/path.h"
#include "core/xmalloc.h"

char *
path_expand_home(const char *path)
{
	const char	*home = getenv("HOME");
	char		*out;

	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') &&
	    home != NULL) {
		xasprintf(&out, "%s%s", home, path + 1);
		return (out);
	}
	return (xstrdup(path));
}
