/*
 * Loads libnotmuch with dlopen() the first time the local backend needs
 * it (nm.h says why) and fills the table of its functions.
 */
#define NM_IMPLEMENTATION

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#include "backend/local/nm.h"
#include "core/log.h"

static struct nm_syms	nm_syms;
static pthread_once_t	nm_once = PTHREAD_ONCE_INIT;
static int		nm_loaded;
static char		nm_error[256];

/* Opens the library and looks up every function of nm-syms.h. */
static void
nm_load(void)
{
	void	*h, *p;

	if ((h = dlopen(NOTMUCH_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(nm_error, sizeof nm_error, "%s", dlerror());
		return;
	}
#define NM_SYM(f)							\
	if ((p = dlsym(h, #f)) == NULL) {				\
		snprintf(nm_error, sizeof nm_error, "%s: no %s",	\
		    NOTMUCH_SONAME, #f);				\
		return;							\
	}								\
	memcpy(&nm_syms.f, &p, sizeof p);
#include "backend/local/nm-syms.h"
#undef NM_SYM
	nm_loaded = 1;
}

const struct nm_syms *
nm_get(void)
{
	pthread_once(&nm_once, nm_load);
	if (!nm_loaded)
		fatalx("cannot load notmuch: %s", nm_error);
	return (&nm_syms);
}
