/*
 * File name helpers shared by the configuration, the accounts and the
 * fetchers.
 */
#ifndef FACTEUR_CORE_PATH_H
#define FACTEUR_CORE_PATH_H

/* A copy of path with a leading "~" or "~/" replaced by $HOME (left as
   it is when HOME is unset, and for "~user"). Never fails. */
char	*path_expand_home(const char *);

#endif
