/*
 * core/path: "~" in configured paths.
 */
#include <stdlib.h>

#include <criterion/criterion.h>

#include "core/path.h"

Test(path, tilde_slash_is_the_home_directory)
{
	char	*p;

	setenv("HOME", "/home/bob", 1);
	p = path_expand_home("~/Mail/inbox");
	cr_assert_str_eq(p, "/home/bob/Mail/inbox");
	free(p);
	p = path_expand_home("~");
	cr_assert_str_eq(p, "/home/bob");
	free(p);
}

Test(path, other_paths_are_left_alone)
{
	char	*p;

	setenv("HOME", "/home/bob", 1);
	p = path_expand_home("~alice/Mail");
	cr_assert_str_eq(p, "~alice/Mail");
	free(p);
	p = path_expand_home("/var/mail/~/x");
	cr_assert_str_eq(p, "/var/mail/~/x");
	free(p);
	unsetenv("HOME");
	p = path_expand_home("~/Mail");
	cr_assert_str_eq(p, "~/Mail");
	free(p);
}
