/*
 * The protocol transcript for the debug log, with what must never be
 * written down left out: data libetpan marks private, everything we send
 * while a login is under way (SASL and AUTH LOGIN continuation lines carry
 * the password as ordinary data), and the content of what we receive.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "net/net.h"

#define NET_LOG_LINE	200

/* Hands one line to the sink or to the debug log. */
static void
net_log_emit(struct net_log *nl, const char *line)
{
	char	buf[NET_LOG_LINE + 64];

	snprintf(buf, sizeof buf, "%s%s%s", nl->name != NULL ? nl->name : "",
	    nl->name != NULL ? ": " : "", line);
	if (nl->sink != NULL)
		nl->sink(nl->sink_arg, buf);
	else
		log_debug("%s", buf);
}

/* The first line of data, escaped and cut to NET_LOG_LINE bytes. */
static void
net_log_first_line(char *dst, size_t size, const char *src, size_t len)
{
	size_t	i, o = 0;

	for (i = 0; i < len && src[i] != '\r' && src[i] != '\n'; i++) {
		if (o + 5 >= size)
			break;
		if (isprint((unsigned char)src[i]))
			dst[o++] = src[i];
		else
			o += snprintf(dst + o, size - o, "\\x%02x",
			    (unsigned char)src[i]);
	}
	dst[o] = '\0';
	if (i < len && src[i] != '\r' && src[i] != '\n' && o + 4 < size)
		strcat(dst, "...");
}

/* How many lines data holds (a last one without CRLF counts). */
static size_t
net_log_count_lines(const char *str, size_t size)
{
	size_t	i, n = 0;

	for (i = 0; i < size; i++) {
		if (str[i] == '\n')
			n++;
	}
	if (size > 0 && str[size - 1] != '\n')
		n++;
	return (n);
}

void
net_log_data(struct net_log *nl, int log_type, const char *str, size_t size)
{
	char	line[NET_LOG_LINE + 8], out[NET_LOG_LINE + 48];
	size_t	more;

	if (nl == NULL)
		return;
	switch (log_type) {
	case MAILSTREAM_LOG_TYPE_DATA_SENT_PRIVATE:
		net_log_emit(nl, "C: <private data omitted>");
		return;
	case MAILSTREAM_LOG_TYPE_DATA_SENT:
		if (nl->authenticating) {
			net_log_emit(nl, "C: <authentication data omitted>");
			return;
		}
		net_log_first_line(line, sizeof line, str, size);
		if ((more = net_log_count_lines(str, size)) > 1)
			snprintf(out, sizeof out, "C: %s (+%zu lines)", line,
			    more - 1);
		else
			snprintf(out, sizeof out, "C: %s", line);
		net_log_emit(nl, out);
		return;
	case MAILSTREAM_LOG_TYPE_DATA_RECEIVED:
		if (!nl->log_received) {
			snprintf(out, sizeof out, "S: <%zu bytes>", size);
			net_log_emit(nl, out);
			return;
		}
		net_log_first_line(line, sizeof line, str, size);
		snprintf(out, sizeof out, "S: %s", line);
		net_log_emit(nl, out);
		return;
	case MAILSTREAM_LOG_TYPE_ERROR_PARSE:
		net_log_emit(nl, "parse error");
		return;
	case MAILSTREAM_LOG_TYPE_ERROR_RECEIVED:
		net_log_emit(nl, "receive error");
		return;
	case MAILSTREAM_LOG_TYPE_ERROR_SENT:
		net_log_emit(nl, "send error");
		return;
	}
	/* INFO_SENT/INFO_RECEIVED are stream debug banners: nothing to add. */
}

void
net_imap_logger(mailimap *s, int log_type, const char *str, size_t size,
    void *arg)
{
	net_log_data(arg, log_type, str, size);
}

void
net_pop3_logger(mailpop3 *s, int log_type, const char *str, size_t size,
    void *arg)
{
	net_log_data(arg, log_type, str, size);
}

void
net_smtp_logger(mailsmtp *s, int log_type, const char *str, size_t size,
    void *arg)
{
	net_log_data(arg, log_type, str, size);
}
