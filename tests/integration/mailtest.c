/*
 * The servers' env file for the integration suites: read once, KEY=VALUE
 * lines with optional single quotes, looked up by key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/integration/mailtest.h"

#define MAILTEST_MAX	128

static char	*mailtest_keys[MAILTEST_MAX], *mailtest_values[MAILTEST_MAX];
static int	 mailtest_count;

/* Reads the env file named by MAILTEST_ENV, once. */
static void
mailtest_load(void)
{
	const char	*path = getenv("MAILTEST_ENV");
	char		 line[1024], *eq, *v;
	FILE		*f;
	size_t		 n;

	if (mailtest_count > 0)
		return;
	if (path == NULL)
		cr_skip_test("MAILTEST_ENV unset: run the suite through its "
		    "tests/integration/run-* wrapper");
	if ((f = fopen(path, "r")) == NULL)
		cr_assert_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f) != NULL &&
	    mailtest_count < MAILTEST_MAX) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		v = eq + 1;
		n = strlen(v);
		if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
			v[n - 1] = '\0';
			v++;
		}
		mailtest_keys[mailtest_count] = strdup(line);
		mailtest_values[mailtest_count++] = strdup(v);
	}
	fclose(f);
}

const char *
mailtest_env(const char *key)
{
	int	i;

	mailtest_load();
	for (i = 0; i < mailtest_count; i++) {
		if (strcmp(mailtest_keys[i], key) == 0)
			return (mailtest_values[i]);
	}
	cr_assert_fail("%s missing from the env file", key);
	return (NULL);
}
