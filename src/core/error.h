/*
 * Errors that a fallible function hands back to its caller: a kind that
 * decides what the program does, and a fixed-size text for the human.
 */
#ifndef FACTEUR_CORE_ERROR_H
#define FACTEUR_CORE_ERROR_H

enum error_kind {
	ERR_NONE = 0,
	ERR_IO,
	ERR_NET,
	ERR_TLS,
	ERR_AUTH,
	ERR_PROTO,
	ERR_REFUSED,
	ERR_UNSUPPORTED,
	ERR_CANCELLED,
	ERR_CONFIG,
	ERR_NOTFOUND,
};

struct error {
	enum error_kind	 kind;
	char		 msg[256];	/* fixed size: never allocates */
};

/* Fills err (when not NULL) and always returns -1. */
int		 error_set(struct error *, enum error_kind, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* Clears err (when not NULL). */
void		 error_clear(struct error *);
/* A short name for a kind ("io", "config", ...). */
const char	*error_kind_name(enum error_kind);

#endif
