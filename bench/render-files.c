/*
 * bench/render's driver: renders every file named on standard input (one
 * path a line) the way the pager does, and prints the count, lines and
 * bytes rendered. Built by bench/render against the build's libmime.a.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "mime/render.h"

int
main(void)
{
	struct render	 r;
	struct error	 err;
	char		 path[4096];
	size_t		 n = 0, lines = 0, bytes = 0, len;

	setlocale(LC_CTYPE, "C.UTF-8");
	while (fgets(path, sizeof path, stdin) != NULL) {
		len = strlen(path);
		if (len > 0 && path[len - 1] == '\n')
			path[--len] = '\0';
		if (mime_render_file(path, NULL, &r, &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			continue;
		}
		n++;
		lines += r.n;
		bytes += r.bytes;
		render_free(&r);
	}
	printf("rendered %zu messages, %zu lines, %zu bytes\n", n, lines,
	    bytes);
	return (0);
}
