/*
 * struct error helpers: fill, clear, name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

int
error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return (-1);
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return (-1);
}

void
error_clear(struct error *err)
{
	if (err == NULL)
		return;
	err->kind = ERR_NONE;
	err->msg[0] = '\0';
}

const char *
error_kind_name(enum error_kind kind)
{
	static const char *names[] = { "none", "io", "net", "tls", "auth",
	    "proto", "refused", "unsupported", "cancelled", "config",
	    "notfound" };

	if ((unsigned)kind < sizeof names / sizeof names[0])
		return (names[kind]);
	return ("unknown");
}
