/*
 * Connecting libetpan's IMAP, POP3 and SMTP sessions through our own
 * transport: connect, TLS at once or after STARTTLS, the greeting, and for
 * SMTP an EHLO that does not give the machine's name away. STARTTLS is
 * all or nothing: when it was asked for and cannot happen, we disconnect
 * before a single credential could be sent.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/error.h"
#include "net/private.h"

#define NET_STREAM_BUFFER	8192
#define NET_EHLO_MAX_LINES	200

/* Copies server text for an error message: printable ASCII only. */
static const char *
net_clean(char *dst, size_t size, const char *src)
{
	size_t	i;

	if (src == NULL)
		src = "";
	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = isprint((unsigned char)src[i]) ? src[i] : '?';
	dst[i] = '\0';
	while (i > 0 && dst[i - 1] == ' ')
		dst[--i] = '\0';
	return (dst);
}

/* The name the certificate must carry. */
static const char *
net_tls_name(const char *host, const struct tls_params *p)
{
	return (p->host != NULL ? p->host : host);
}

/*
 * Connects and, for implicit TLS, shakes hands: returns the stream to hand
 * to libetpan, or NULL.
 */
static mailstream *
net_open(const char *host, int port, enum net_mode mode,
    const struct tls_params *p, struct error *err)
{
	struct tls_params	 tp = *p;
	struct tls		*tls;
	mailstream_low		*low;
	mailstream		*s;
	int			 fd;

	/* Without a CA file the system store is needed: read it meanwhile. */
	if (mode != NET_PLAIN && (p->ca_file == NULL || *p->ca_file == '\0'))
		tls_preload();
	fd = net_connect(host, port, p->timeout_ms, p->cancel_fd, err);
	if (fd == -1)
		return (NULL);
	if (mode == NET_TLS_IMPLICIT) {
		tp.host = net_tls_name(host, p);
		if (tls_handshake(fd, &tp, &tls, err) != 0) {
			close(fd);
			return (NULL);
		}
		low = tls_stream_low_new(tls);
	} else
		low = net_plain_low_new(fd, p->timeout_ms, p->cancel_fd);
	if ((s = mailstream_new(low, NET_STREAM_BUFFER)) == NULL) {
		mailstream_low_close(low);
		mailstream_low_free(low);
		error_set(err, ERR_IO, "out of memory");
	}
	return (s);
}

/*
 * Replaces the plain-text driver under s by a TLS one on the same socket,
 * after the server agreed to STARTTLS.
 */
static int
net_upgrade(mailstream *s, const char *host, const struct tls_params *p,
    struct error *err)
{
	struct tls_params	 tp = *p;
	struct tls		*tls;
	mailstream_low		*old = mailstream_get_low(s);

	/*
	 * Whatever the server sent after its "go ahead" was sent in clear and
	 * would be read as if it came through TLS (CVE-2020-15953, 2011-0411).
	 */
	if (s->read_buffer_len != 0)
		return (error_set(err, ERR_TLS,
		    "%s: server sent data after agreeing to STARTTLS", host));
	tp.host = net_tls_name(host, p);
	if (tls_handshake(mailstream_low_get_fd(old), &tp, &tls, err) != 0)
		return (-1);
	/* Frees the old driver, not the socket. */
	mailstream_low_free(old);
	mailstream_set_low(s, tls_stream_low_new(tls));
	return (0);
}

/* Closes an IMAP session that failed half-way and marks it disconnected. */
static void
net_imap_drop(mailimap *imap)
{
	if (imap->imap_stream != NULL) {
		mailstream_close(imap->imap_stream);
		imap->imap_stream = NULL;
	}
	imap->imap_state = MAILIMAP_STATE_DISCONNECTED;
}

/* An IMAP error code as an error for the user. */
static int
net_imap_error(mailimap *imap, const char *host, const char *what, int r,
    struct error *err)
{
	char	text[160];

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return (error_set(err, ERR_NET, "%s: connection lost (%s)",
		    host, what));
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return (error_set(err, ERR_REFUSED,
		    "%s: server refused the connection", host));
	case MAILIMAP_ERROR_PARSE:
		return (error_set(err, ERR_PROTO,
		    "%s: unexpected answer to %s", host, what));
	}
	net_clean(text, sizeof text, imap->imap_response);
	return (error_set(err, ERR_PROTO, "%s: %s failed: %s", host, what,
	    text[0] != '\0' ? text : "error"));
}

/* Refreshes the capabilities: those seen before TLS cannot be trusted. */
static int
net_imap_capability(mailimap *imap, const char *host, struct error *err)
{
	struct mailimap_capability_data	*caps;
	int				 r;

	r = mailimap_capability(imap, &caps);
	if (r != MAILIMAP_NO_ERROR)
		return (net_imap_error(imap, host, "CAPABILITY", r, err));
	mailimap_capability_data_free(caps);
	return (0);
}

int
net_imap_connect(mailimap *imap, const char *host, int port,
    enum net_mode mode, const struct tls_params *p, struct error *err)
{
	mailstream	*s;
	int		 r;

	if (imap->imap_stream != NULL)
		net_imap_drop(imap);
	if ((s = net_open(host, port, mode, p, err)) == NULL)
		return (-1);
	r = mailimap_connect(imap, s);
	if (imap->imap_stream == NULL)
		mailstream_close(s);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		net_imap_error(imap, host, "greeting", r, err);
		goto fail;
	}
	if (mode != NET_STARTTLS)
		return (0);

	if (r == MAILIMAP_NO_ERROR_AUTHENTICATED) {
		error_set(err, ERR_TLS, "%s: server logged us in before "
		    "STARTTLS (PREAUTH): refusing to go on without TLS", host);
		goto fail;
	}
	if (imap->imap_connection_info == NULL ||
	    imap->imap_connection_info->imap_capability == NULL) {
		if (net_imap_capability(imap, host, err) != 0)
			goto fail;
	}
	if (!mailimap_has_extension(imap, "STARTTLS")) {
		error_set(err, ERR_TLS, "%s: server does not offer STARTTLS",
		    host);
		goto fail;
	}
	r = mailimap_starttls(imap);
	if (r != MAILIMAP_NO_ERROR) {
		if (r == MAILIMAP_ERROR_STARTTLS)
			error_set(err, ERR_TLS, "%s: server refused STARTTLS",
			    host);
		else
			net_imap_error(imap, host, "STARTTLS", r, err);
		goto fail;
	}
	if (net_upgrade(imap->imap_stream, host, p, err) != 0)
		goto fail;
	if (net_imap_capability(imap, host, err) != 0)
		goto fail;
	return (0);

fail:
	net_imap_drop(imap);
	return (-1);
}

/* Closes a POP3 session that failed half-way. */
static void
net_pop3_drop(mailpop3 *pop3)
{
	if (pop3->pop3_stream != NULL) {
		mailstream_close(pop3->pop3_stream);
		pop3->pop3_stream = NULL;
	}
	pop3->pop3_state = 0;	/* POP3_STATE_DISCONNECTED, private to libetpan */
}

/* Whether CAPA lists STLS; -1 when the server has no CAPA. */
static int
net_pop3_has_stls(mailpop3 *pop3)
{
	struct mailpop3_capa	*cap;
	clist			*caps;
	clistiter		*it;
	int			 found = 0;

	if (mailpop3_capa(pop3, &caps) != MAILPOP3_NO_ERROR)
		return (-1);
	for (it = clist_begin(caps); it != NULL; it = clist_next(it)) {
		cap = clist_content(it);
		if (strcasecmp(cap->cap_name, "STLS") == 0)
			found = 1;
	}
	mailpop3_capa_resp_free(caps);
	return (found);
}

int
net_pop3_connect(mailpop3 *pop3, const char *host, int port,
    enum net_mode mode, const struct tls_params *p, struct error *err)
{
	mailstream	*s;
	char		 text[160];
	int		 r;

	if (pop3->pop3_stream != NULL)
		net_pop3_drop(pop3);
	if ((s = net_open(host, port, mode, p, err)) == NULL)
		return (-1);
	r = mailpop3_connect(pop3, s);
	if (pop3->pop3_stream == NULL)
		mailstream_close(s);
	if (r != MAILPOP3_NO_ERROR) {
		if (r == MAILPOP3_ERROR_STREAM)
			error_set(err, ERR_NET, "%s: connection lost", host);
		else
			error_set(err, ERR_REFUSED, "%s: server refused the "
			    "connection: %s", host, net_clean(text,
			    sizeof text, pop3->pop3_response));
		goto fail;
	}
	if (mode != NET_STARTTLS)
		return (0);

	if (net_pop3_has_stls(pop3) == 0) {
		error_set(err, ERR_TLS, "%s: server does not offer STARTTLS",
		    host);
		goto fail;
	}
	r = mailpop3_stls(pop3);
	if (r != MAILPOP3_NO_ERROR) {
		if (r == MAILPOP3_ERROR_STREAM)
			error_set(err, ERR_NET, "%s: connection lost", host);
		else
			error_set(err, ERR_TLS, "%s: server does not offer "
			    "STARTTLS (STLS refused)", host);
		goto fail;
	}
	if (net_upgrade(pop3->pop3_stream, host, p, err) != 0)
		goto fail;
	return (0);

fail:
	net_pop3_drop(pop3);
	return (-1);
}

/* Closes an SMTP session that failed half-way. */
static void
net_smtp_drop(mailsmtp *smtp)
{
	if (smtp->stream != NULL) {
		mailstream_close(smtp->stream);
		smtp->stream = NULL;
	}
}

/* Sets libetpan's extension flags from one EHLO line, as it would. */
static void
net_smtp_ehlo_line(mailsmtp *smtp, const char *line)
{
	static const struct {
		const char	*name;
		int		 flag;
	} exts[] = {
		{ "EXPN", MAILSMTP_ESMTP_EXPN },
		{ "ETRN", MAILSMTP_ESMTP_ETRN },
		{ "DSN", MAILSMTP_ESMTP_DSN },
		{ "8BITMIME", MAILSMTP_ESMTP_8BITMIME },
		{ "STARTTLS", MAILSMTP_ESMTP_STARTTLS },
		{ "SIZE", MAILSMTP_ESMTP_SIZE },
		{ "CLIENTID", MAILSMTP_ESMTP_CLIENTID },
		{ "PIPELINING", MAILSMTP_ESMTP_PIPELINING },
	}, mechs[] = {
		{ "LOGIN", MAILSMTP_AUTH_LOGIN },
		{ "PLAIN", MAILSMTP_AUTH_PLAIN },
		{ "CRAM-MD5", MAILSMTP_AUTH_CRAM_MD5 },
		{ "DIGEST-MD5", MAILSMTP_AUTH_DIGEST_MD5 },
		{ "GSSAPI", MAILSMTP_AUTH_GSSAPI },
		{ "SRP", MAILSMTP_AUTH_SRP },
		{ "NTLM", MAILSMTP_AUTH_NTLM },
		{ "KERBEROS_V4", MAILSMTP_AUTH_KERBEROS_V4 },
	};
	size_t		 i, n, len;
	const char	*w;

	len = strcspn(line, " =");
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		if (strlen(exts[i].name) == len &&
		    strncasecmp(line, exts[i].name, len) == 0) {
			smtp->esmtp |= exts[i].flag;
			if (exts[i].flag == MAILSMTP_ESMTP_SIZE &&
			    line[len] == ' ')
				smtp->smtp_max_msg_size = strtoul(line + len,
				    NULL, 10);
		}
	}
	if (len != 4 || strncasecmp(line, "AUTH", 4) != 0)
		return;
	/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN". */
	for (w = line + 5; *w != '\0'; w += n) {
		w += strspn(w, " ");
		n = strcspn(w, " ");
		for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
			if (strlen(mechs[i].name) == n &&
			    strncasecmp(w, mechs[i].name, n) == 0)
				smtp->auth |= mechs[i].flag;
		}
	}
}

/*
 * EHLO with an address literal. libetpan's mailesmtp_ehlo() sends the
 * machine's gethostname(); mailesmtp_ehlo_with_ip(s, 1) sends the local
 * address but reads it into a struct sockaddr too small for IPv6 and then
 * fails. So we write the command ourselves through the public stream API
 * and set the same session fields mailesmtp_parse_ehlo() would: "[a.b.c.d]"
 * or "[IPv6:...]" (RFC 5321 4.1.3), which the server sees anyway.
 */
int
net_smtp_ehlo(mailsmtp *smtp, struct error *err)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof ss;
	char			 addr[NI_MAXHOST], cmd[NI_MAXHOST + 16];
	char			 text[160], *line;
	int			 fd, code = 0, i, more;

	if (smtp->stream == NULL)
		return (error_set(err, ERR_NET, "not connected"));
	fd = mailstream_low_get_fd(mailstream_get_low(smtp->stream));
	if (fd == -1 || getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, addr, sizeof addr, NULL,
	    0, NI_NUMERICHOST) != 0)
		snprintf(cmd, sizeof cmd, "EHLO [127.0.0.1]\r\n");
	else if (ss.ss_family == AF_INET6)
		snprintf(cmd, sizeof cmd, "EHLO [IPv6:%s]\r\n", addr);
	else
		snprintf(cmd, sizeof cmd, "EHLO [%s]\r\n", addr);
	if (mailstream_write(smtp->stream, cmd, strlen(cmd)) == -1 ||
	    mailstream_flush(smtp->stream) == -1)
		return (error_set(err, ERR_NET, "connection lost (EHLO)"));

	smtp->esmtp = MAILSMTP_ESMTP;
	smtp->auth = MAILSMTP_AUTH_CHECKED;
	mmap_string_assign(smtp->response_buffer, "");
	for (i = 0, more = 1; more; i++) {
		line = mailstream_read_line_remove_eol(smtp->stream,
		    smtp->line_buffer);
		if (line == NULL)
			return (error_set(err, ERR_NET,
			    "connection lost (EHLO)"));
		if (i == NET_EHLO_MAX_LINES || strlen(line) < 3 ||
		    !isdigit((unsigned char)line[0]))
			return (error_set(err, ERR_PROTO,
			    "bad answer to EHLO"));
		code = atoi(line);
		more = line[3] == '-';
		line += line[3] == '\0' ? 3 : 4;
		mmap_string_append(smtp->response_buffer, line);
		mmap_string_append(smtp->response_buffer, "\n");
		if (code == 250 && i > 0)
			net_smtp_ehlo_line(smtp, line);
	}
	smtp->response = smtp->response_buffer->str;
	smtp->response_code = code;
	if (code != 250)
		return (error_set(err, ERR_PROTO, "EHLO refused: %d %s", code,
		    net_clean(text, sizeof text, smtp->response)));
	return (0);
}

int
net_smtp_connect(mailsmtp *smtp, const char *host, int port,
    enum net_mode mode, const struct tls_params *p, struct error *err)
{
	mailstream	*s;
	char		 text[160];
	int		 r;

	if (smtp->stream != NULL)
		net_smtp_drop(smtp);
	if ((s = net_open(host, port, mode, p, err)) == NULL)
		return (-1);
	/* mailsmtp_connect() closes the stream itself when it fails. */
	r = mailsmtp_connect(smtp, s);
	if (r != MAILSMTP_NO_ERROR) {
		if (r == MAILSMTP_ERROR_STREAM)
			return (error_set(err, ERR_NET, "%s: connection lost",
			    host));
		return (error_set(err, ERR_REFUSED, "%s: server refused the "
		    "connection: %s", host, net_clean(text, sizeof text,
		    smtp->response)));
	}
	if (net_smtp_ehlo(smtp, err) != 0)
		goto fail;
	if (mode != NET_STARTTLS)
		return (0);

	if (!(smtp->esmtp & MAILSMTP_ESMTP_STARTTLS)) {
		error_set(err, ERR_TLS, "%s: server does not offer STARTTLS",
		    host);
		goto fail;
	}
	r = mailesmtp_starttls(smtp);
	if (r != MAILSMTP_NO_ERROR) {
		if (r == MAILSMTP_ERROR_STREAM)
			error_set(err, ERR_NET, "%s: connection lost", host);
		else
			error_set(err, ERR_TLS, "%s: server refused STARTTLS: "
			    "%s", host, net_clean(text, sizeof text,
			    smtp->response));
		goto fail;
	}
	if (net_upgrade(smtp->stream, host, p, err) != 0)
		goto fail;
	/* What the server offered in clear is forgotten (RFC 3207 4.2). */
	if (net_smtp_ehlo(smtp, err) != 0)
		goto fail;
	return (0);

fail:
	net_smtp_drop(smtp);
	return (-1);
}
