/*
 * What every integration suite shares: the env file that tests/servers/start
 * writes (ports, CA, users, Maildir paths), named by MAILTEST_ENV, which
 * the suites' run-* wrappers set after starting the servers.
 */
#ifndef FACTEUR_TESTS_MAILTEST_H
#define FACTEUR_TESTS_MAILTEST_H

/* The value of key in the env file; fails the test when it is missing,
   skips it (visibly: a skip counts as a failure in contrib/check) when
   the suite was not started by its wrapper. */
const char	*mailtest_env(const char *);

#endif
