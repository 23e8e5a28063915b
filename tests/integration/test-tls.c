/*
 * src/net against real servers: the private Dovecot and Postfix that
 * tests/servers/start runs on 127.0.0.1 (tests/integration/run-net starts
 * them and names their env file in MAILTEST_ENV). Each test checks what a
 * user relies on: verified TLS, refusal before credentials, delivery.
 */
#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/buf.h"
#include "core/error.h"
#include "net/net.h"
#include "tests/integration/mailtest.h"
#include "net/private.h"

#define T_TIMEOUT	10000

static int
port(const char *key)
{
	return (atoi(mailtest_env(key)));
}

static const char *
host(void)
{
	return (mailtest_env("MAILTEST_HOST"));
}

/* Parameters that trust the test CA and verify "localhost". */
static struct tls_params
params(const char *service)
{
	struct tls_params	p = {
		.host = mailtest_env("MAILTEST_TLS_NAME"),
		.ca_file = mailtest_env("CA_FILE"),
		.pin_file = NULL,
		.service = service,
		.timeout_ms = T_TIMEOUT,
		.cancel_fd = -1,
		.peer = NULL,
	};

	return (p);
}

static void
setup(void)
{
	(void)mailtest_env("MAILTEST_HOST");	/* reads the env file */
}

TestSuite(net, .init = setup, .timeout = 30);

/* --- helpers ----------------------------------------------------------- */

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The local port of a socket: Dovecot logs it as rport=. */
static int
local_port(int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return (ntohs(sin.sin_port));
}

/*
 * Waits up to 5 s for a line of the log at path holding needle; returns
 * that line (malloc'd) or NULL.
 */
static char *
log_line(const char *path, const char *needle)
{
	char		 line[4096];
	long long	 end = now_ms() + 5000;
	FILE		*f;

	do {
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof line, f) != NULL) {
				if (strstr(line, needle) != NULL) {
					fclose(f);
					return (strdup(line));
				}
			}
			fclose(f);
		}
		usleep(50000);
	} while (now_ms() < end);
	return (NULL);
}

/* Whether a file holds needle. */
static int
file_has(const char *path, const char *needle)
{
	char	*data = NULL;
	size_t	 len = 0;
	FILE	*f;
	int	 found;

	if ((f = fopen(path, "r")) == NULL)
		return (0);
	found = getdelim(&data, &len, '\0', f) > 0 &&
	    strstr(data, needle) != NULL;
	free(data);
	fclose(f);
	return (found);
}

/* Waits up to 10 s for a message holding token in maildir's new/ or cur/. */
static int
maildir_has(const char *maildir, const char *token)
{
	static const char	*subs[] = { "new", "cur" };
	char			 path[1024];
	struct dirent		*de;
	long long		 end = now_ms() + 10000;
	DIR			*d;
	size_t			 i;

	do {
		for (i = 0; i < 2; i++) {
			snprintf(path, sizeof path, "%s/%s", maildir, subs[i]);
			if ((d = opendir(path)) == NULL)
				continue;
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof path, "%s/%s/%s", maildir,
				    subs[i], de->d_name);
				if (file_has(path, token)) {
					closedir(d);
					return (1);
				}
			}
			closedir(d);
		}
		usleep(50000);
	} while (now_ms() < end);
	return (0);
}

/* A token no other test or run uses. */
static void
token(char *buf, size_t size, const char *what)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, size, "facteur-%s-%d-%lld%09ld", what, (int)getpid(),
	    (long long)ts.tv_sec, ts.tv_nsec);
}

/* The protocol transcript of a session, kept for assertions. */
static void
capture(void *arg, const char *line)
{
	buf_adds(arg, line);
	buf_addc(arg, '\n');
}

static void
assert_modern_tls(struct tls *tls)
{
	cr_assert_not_null(tls, "the session is not encrypted");
	cr_assert(strcmp(tls_version(tls), "TLS1.3") == 0 ||
	    strcmp(tls_version(tls), "TLS1.2") == 0,
	    "negotiated %s", tls_version(tls));
}

static struct tls *
imap_tls(mailimap *imap)
{
	return (tls_stream_get(mailstream_get_low(imap->imap_stream)));
}

/* --- plain TCP --------------------------------------------------------- */

Test(net, connect_to_a_closed_port_says_connection_refused)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	struct error		err = { 0 };
	socklen_t		len = sizeof sin;
	int			s;

	/* A port that was just free: bind, learn it, close. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
	getsockname(s, (struct sockaddr *)&sin, &len);
	close(s);

	cr_assert_eq(net_connect("127.0.0.1", ntohs(sin.sin_port), 2000, -1,
	    &err), -1);
	cr_assert_eq(err.kind, ERR_NET);
	cr_assert(strstr(err.msg, "connection refused") != NULL, "%s",
	    err.msg);
}

Test(net, a_connection_probes_a_silent_peer_within_two_minutes)
{
	struct error	err = { 0 };
	socklen_t	len;
	int		fd, on = 0, idle = 0, intvl = 0, cnt = 0;

	fd = net_connect(host(), port("IMAPS_PORT"), T_TIMEOUT, -1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	len = sizeof on;
	getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len);
	len = sizeof idle;
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len);
	len = sizeof intvl;
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &len);
	len = sizeof cnt;
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &len);
	close(fd);
	/* The kernel's defaults would wait two hours and eleven minutes. */
	cr_assert(on, "keepalive is on");
	cr_assert_leq(idle + intvl * cnt, 120, "%d + %d x %d s", idle, intvl,
	    cnt);
}

/* --- IMAP over TLS ----------------------------------------------------- */

Test(net, imaps_with_the_test_ca_logs_in_over_tls12_or_13)
{
	struct tls_params	 p = params("imap");
	struct tls_peer		 peer = { 0 };
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	p.peer = &peer;
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	assert_modern_tls(imap_tls(imap));
	cr_assert_eq(tls_trust(imap_tls(imap)), TLS_TRUST_CA);
	cr_assert_eq(peer.trust, TLS_TRUST_CA);
	cr_assert_str_eq(peer.reason, "");
	cr_assert(strstr(peer.subject, "CN=localhost") != NULL, "%s",
	    peer.subject);
	cr_assert_eq(mailimap_login(imap, "bob", "bobpw"), MAILIMAP_NO_ERROR);
	cr_assert_eq(mailimap_select(imap, "INBOX"), MAILIMAP_NO_ERROR);
	mailimap_logout(imap);
	mailimap_free(imap);
	tls_peer_clear(&peer);
}

Test(net, imaps_authenticate_plain_through_sasl_logs_in)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(mailimap_authenticate(imap, "PLAIN", "localhost", NULL,
	    NULL, "bob", "bob", "bobpw", NULL), MAILIMAP_NO_ERROR);
	cr_assert_eq(mailimap_select(imap, "INBOX"), MAILIMAP_NO_ERROR);
	mailimap_logout(imap);
	mailimap_free(imap);
}

Test(net, a_certificate_for_the_ip_address_is_verified_without_sni)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	p.host = "127.0.0.1";
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(tls_trust(imap_tls(imap)), TLS_TRUST_CA);
	mailimap_free(imap);
}

/* Copies file from to to. */
static void
copy_file(const char *from, const char *to)
{
	char	 buf[8192];
	size_t	 n;
	FILE	*in = fopen(from, "rb"), *out = fopen(to, "wb");

	cr_assert(in != NULL && out != NULL, "%s: %s", to, strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
}

Test(net, a_ca_file_that_changes_is_read_again)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	struct timespec		 later[2] = { { 0, 0 }, { 0, 0 } };
	char			 path[] = "/tmp/test-net-ca.XXXXXX";
	mailimap		*imap;
	int			 fd;

	cr_assert_geq(fd = mkstemp(path), 0);
	close(fd);
	copy_file(mailtest_env("CA_FILE"), path);
	p.ca_file = path;
	imap = mailimap_new(0, NULL);
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	mailimap_free(imap);

	/* The stores are kept per process: a new CA file must not be
	   judged with the old one. */
	copy_file(mailtest_env("UNKNOWN_CA_FILE"), path);
	clock_gettime(CLOCK_REALTIME, &later[0]);
	later[0].tv_sec += 2;
	later[1] = later[0];
	cr_assert_eq(utimensat(AT_FDCWD, path, later, 0), 0);
	imap = mailimap_new(0, NULL);
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	/* Neither the file nor, after it, the system store knows the CA. */
	cr_assert(strstr(err.msg, "issuer is unknown") != NULL, "%s",
	    err.msg);
	mailimap_free(imap);
	unlink(path);
}

Test(net, unknown_issuer_fails_the_handshake_before_any_login)
{
	struct tls_params	 p = params("imap");
	struct tls_peer		 peer = { 0 };
	struct error		 err = { 0 };
	struct tls		*tls = NULL;
	char			 needle[32], *line;
	int			 fd, rport;

	/* No test CA: the system store does not know it. */
	p.ca_file = NULL;
	p.peer = &peer;
	fd = net_connect(host(), port("IMAPS_PORT"), T_TIMEOUT, -1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	rport = local_port(fd);
	cr_assert_eq(tls_handshake(fd, &p, &tls, &err), -1);
	close(fd);
	cr_assert_null(tls);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "issuer is unknown") != NULL, "%s", err.msg);
	/* What the UI shows to offer trust on first use. */
	cr_assert_eq(strlen(peer.fingerprint), 32 * 3 - 1, "%s",
	    peer.fingerprint);
	cr_assert_not_null(peer.der);
	cr_assert_eq(peer.trust, TLS_TRUST_NONE);

	/* Dovecot saw this connection end with no authentication at all. */
	snprintf(needle, sizeof needle, "rport=%d,", rport);
	line = log_line(mailtest_env("DOVECOT_MAIN_LOG"), needle);
	cr_assert_not_null(line, "no log line for %s", needle);
	cr_assert(strstr(line, "user=<>") != NULL, "%s", line);
	cr_assert(strstr(line, "Login:") == NULL, "%s", line);
	cr_assert(strstr(line, "auth failed") == NULL, "%s", line);
	free(line);
	tls_peer_clear(&peer);
}

Test(net, unknown_issuer_through_imap_connect_leaves_it_disconnected)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	p.ca_file = NULL;
	cr_assert_eq(net_imap_connect(imap, host(), port("UNKNOWNCA_IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "issuer is unknown") != NULL, "%s", err.msg);
	cr_assert_null(imap->imap_stream);
	cr_assert_eq(imap->imap_state, MAILIMAP_STATE_DISCONNECTED);
	mailimap_free(imap);
}

Test(net, certificate_for_another_name_is_refused)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	cr_assert_eq(net_imap_connect(imap, host(), port("BADNAME_IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "does not match") != NULL, "%s", err.msg);
	mailimap_free(imap);
}

Test(net, expired_certificate_is_refused)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);

	cr_assert_eq(net_imap_connect(imap, host(), port("EXPIRED_IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "expired") != NULL, "%s", err.msg);
	mailimap_free(imap);
}

Test(net, starttls_on_imap_encrypts_the_session_before_login)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);
	char			 needle[32], *line;
	int			 rport;

	cr_assert_eq(net_imap_connect(imap, host(), port("IMAP_PORT"),
	    NET_STARTTLS, &p, &err), 0, "%s", err.msg);
	assert_modern_tls(imap_tls(imap));
	/* The capabilities were fetched again over TLS. */
	cr_assert(!mailimap_has_extension(imap, "STARTTLS"));
	cr_assert(mailimap_has_authentication(imap, "PLAIN"));
	rport = local_port(mailstream_low_get_fd(mailstream_get_low(
	    imap->imap_stream)));
	cr_assert_eq(mailimap_login(imap, "bob", "bobpw"), MAILIMAP_NO_ERROR);

	snprintf(needle, sizeof needle, "rport=%d,", rport);
	line = log_line(mailtest_env("DOVECOT_MAIN_LOG"), needle);
	cr_assert_not_null(line, "no log line for %s", needle);
	cr_assert(strstr(line, "Login: user=<bob>") != NULL, "%s", line);
	cr_assert(strstr(line, ", TLS,") != NULL, "%s", line);
	free(line);
	mailimap_logout(imap);
	mailimap_free(imap);
}

Test(net, imap_starttls_required_but_not_offered_sends_no_login)
{
	struct tls_params	 p = params("imap");
	struct net_log		 nl = { .sink = capture };
	struct error		 err = { 0 };
	struct buf		 transcript;
	mailimap		*imap = mailimap_new(0, NULL);

	buf_init(&transcript);
	nl.sink_arg = &transcript;
	mailimap_set_logger(imap, net_imap_logger, &nl);
	cr_assert_eq(net_imap_connect(imap, host(), port("PLAIN_IMAP_PORT"),
	    NET_STARTTLS, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "does not offer STARTTLS") != NULL, "%s",
	    err.msg);
	cr_assert_null(imap->imap_stream);
	cr_assert(strstr(buf_str(&transcript), "S: <") != NULL,
	    "the greeting was not even logged: %s", buf_str(&transcript));
	cr_assert(strstr(buf_str(&transcript), "LOGIN") == NULL, "%s",
	    buf_str(&transcript));
	cr_assert(strstr(buf_str(&transcript), "AUTHENTICATE") == NULL, "%s",
	    buf_str(&transcript));
	/* Nobody ever logged in on the plain-text server. */
	cr_assert(!file_has(mailtest_env("DOVECOT_PLAIN_LOG"), "Login:"));
	cr_assert(!file_has(mailtest_env("DOVECOT_PLAIN_LOG"), "auth failed"));
	mailimap_free(imap);
	buf_free(&transcript);
}

Test(net, pop3_stls_required_but_not_offered_is_refused)
{
	struct tls_params	 p = params("pop3");
	struct error		 err = { 0 };
	mailpop3		*pop3 = mailpop3_new(0, NULL);

	cr_assert_eq(net_pop3_connect(pop3, host(), port("PLAIN_POP3_PORT"),
	    NET_STARTTLS, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "does not offer STARTTLS") != NULL, "%s",
	    err.msg);
	cr_assert_null(pop3->pop3_stream);
	cr_assert(!file_has(mailtest_env("DOVECOT_PLAIN_LOG"), "Login:"));
	mailpop3_free(pop3);
}

Test(net, smtp_starttls_required_but_not_offered_is_refused)
{
	struct tls_params	 p = params("smtp");
	struct error		 err = { 0 };
	mailsmtp		*smtp = mailsmtp_new(0, NULL);

	cr_assert_eq(net_smtp_connect(smtp, host(), port("SMTP_PLAIN_PORT"),
	    NET_STARTTLS, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "does not offer STARTTLS") != NULL, "%s",
	    err.msg);
	cr_assert_null(smtp->stream);
	mailsmtp_free(smtp);
}

Test(net, fewer_capabilities_server_hides_condstore)
{
	struct tls_params		 p = params("imap");
	struct error			 err = { 0 };
	struct mailimap_capability_data	*caps;
	mailimap			*imap = mailimap_new(0, NULL);

	cr_assert_eq(net_imap_connect(imap, host(), port("OLDCAP_IMAP_PORT"),
	    NET_STARTTLS, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(mailimap_login(imap, "bob", "bobpw"), MAILIMAP_NO_ERROR);
	cr_assert_eq(mailimap_capability(imap, &caps), MAILIMAP_NO_ERROR);
	mailimap_capability_data_free(caps);
	cr_assert(mailimap_has_extension(imap, "IMAP4rev1"));
	cr_assert(!mailimap_has_extension(imap, "CONDSTORE"));
	cr_assert(!mailimap_has_extension(imap, "QRESYNC"));
	cr_assert(!mailimap_has_extension(imap, "SORT"));
	mailimap_logout(imap);
	mailimap_free(imap);
}

/* --- pinning ----------------------------------------------------------- */

/* The SHA-256 fingerprint of a PEM file's first certificate. */
static void
pem_fingerprint(const char *path, char *out, size_t size)
{
	gnutls_datum_t		 pem;
	gnutls_x509_crt_t	 crt;
	unsigned char		 md[32];
	size_t			 len = sizeof md, i, o = 0;

	cr_assert_eq(gnutls_load_file(path, &pem), 0);
	gnutls_x509_crt_init(&crt);
	cr_assert_eq(gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM), 0);
	gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &len);
	for (i = 0; i < len; i++)
		o += snprintf(out + o, size - o, "%s%02X", i ? ":" : "", md[i]);
	gnutls_x509_crt_deinit(crt);
	gnutls_free(pem.data);
}

/* A handshake on a fresh connection to port; returns 0 or -1. */
static int
handshake_to(const char *key, struct tls_params *p, struct tls **tls,
    struct error *err)
{
	int	fd, r;

	fd = net_connect(host(), port(key), T_TIMEOUT, -1, err);
	cr_assert_geq(fd, 0, "%s", err->msg);
	r = tls_handshake(fd, p, tls, err);
	close(fd);
	return (r);
}

Test(net, a_ca_file_vouches_for_a_server_the_system_store_does_not_know)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	struct tls		*tls = NULL;

	p.ca_file = mailtest_env("UNKNOWN_CA_FILE");
	cr_assert_eq(handshake_to("UNKNOWNCA_IMAPS_PORT", &p, &tls, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(tls_trust(tls), TLS_TRUST_CA);
	tls_free(&tls);
	/* The same file does not vouch for a server of another CA. */
	cr_assert_eq(handshake_to("IMAPS_PORT", &p, &tls, &err), -1);
	cr_assert(strstr(err.msg, "issuer is unknown") != NULL, "%s",
	    err.msg);
	cr_assert_null(tls);
}

Test(net, pinning_accepts_a_key_the_user_trusted_and_rejects_another)
{
	struct tls_params	 p = params("imap");
	struct tls_peer		 peer = { 0 };
	struct error		 err = { 0 };
	struct tls		*tls = NULL;
	struct stat		 st;
	char			 dir[] = "/tmp/facteur-pin.XXXXXX", file[64];
	char			 expected[100];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/known_hosts", dir);
	p.ca_file = NULL;
	p.pin_file = file;
	p.peer = &peer;

	/* First contact: refused, with the fingerprint to show the user. */
	cr_assert_eq(handshake_to("UNKNOWNCA_IMAPS_PORT", &p, &tls, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert(strstr(err.msg, "issuer is unknown") != NULL, "%s", err.msg);
	cr_assert_eq(peer.key_changed, 0);
	pem_fingerprint(mailtest_env("UNKNOWN_CA_FILE"), expected, sizeof expected);
	cr_assert_str_neq(peer.fingerprint, expected, "the CA, not the server");
	{
		char	path[1024];

		snprintf(path, sizeof path, "%s/tls/unknownca.pem",
		    mailtest_env("MAILTEST_DIR"));
		pem_fingerprint(path, expected, sizeof expected);
	}
	cr_assert_str_eq(peer.fingerprint, expected);

	/* The user accepts: the key is pinned in a private file. */
	cr_assert_eq(tls_pin_store(&p, &peer, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(file, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);

	/* Second handshake: accepted through the pin. */
	cr_assert_eq(handshake_to("UNKNOWNCA_IMAPS_PORT", &p, &tls, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(tls_trust(tls), TLS_TRUST_PIN);
	cr_assert_eq(peer.trust, TLS_TRUST_PIN);
	tls_free(&tls);
	cr_assert_null(tls);

	/* Another key for the same host and service: refused, loudly. */
	cr_assert_eq(handshake_to("EXPIRED_IMAPS_PORT", &p, &tls, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS);
	cr_assert_eq(peer.key_changed, 1);
	cr_assert(strstr(err.msg, "key changed") != NULL, "%s", err.msg);

	/* A pin is per service: POP3 on the same host is not covered. */
	p.service = "pop3";
	cr_assert_eq(handshake_to("UNKNOWNCA_POP3S_PORT", &p, &tls, &err), -1);
	cr_assert_eq(peer.key_changed, 0);

	tls_peer_clear(&peer);
	unlink(file);
	rmdir(dir);
}

/* --- POP3 -------------------------------------------------------------- */

/* Puts a message into bob's Maildir, owned by the mail user. */
static void
deliver_to_bob(const char *tok)
{
	char	path[1024];
	FILE	*f;

	snprintf(path, sizeof path, "%s/new/%s.test", mailtest_env("MAILDIR_BOB"), tok);
	cr_assert_not_null(f = fopen(path, "w"));
	fprintf(f, "From: a@localhost\r\nSubject: %s\r\n\r\nhello\r\n", tok);
	fclose(f);
	cr_assert_eq(chown(path, atoi(mailtest_env("MAIL_UID")), atoi(mailtest_env("MAIL_GID"))),
	    0);
}

static void
pop3_login_and_list(const char *port_key, enum net_mode mode)
{
	struct tls_params	 p = params("pop3");
	struct error		 err = { 0 };
	mailpop3		*pop3 = mailpop3_new(0, NULL);
	carray			*list;
	char			 tok[96];

	token(tok, sizeof tok, "pop3");
	deliver_to_bob(tok);
	cr_assert_eq(net_pop3_connect(pop3, host(), port(port_key), mode, &p,
	    &err), 0, "%s", err.msg);
	assert_modern_tls(tls_stream_get(mailstream_get_low(
	    pop3->pop3_stream)));
	cr_assert_eq(mailpop3_user(pop3, "bob"), MAILPOP3_NO_ERROR);
	cr_assert_eq(mailpop3_pass(pop3, "bobpw"), MAILPOP3_NO_ERROR);
	cr_assert_eq(mailpop3_list(pop3, &list), MAILPOP3_NO_ERROR);
	cr_assert_geq(carray_count(list), 1);
	mailpop3_quit(pop3);
	mailpop3_free(pop3);
}

Test(net, pop3s_logs_in_and_lists)
{
	pop3_login_and_list("POP3S_PORT", NET_TLS_IMPLICIT);
}

Test(net, pop3_stls_logs_in_and_lists)
{
	pop3_login_and_list("POP3_PORT", NET_STARTTLS);
}

/* --- SMTP -------------------------------------------------------------- */

static void
submit_to_carol(const char *port_key, enum net_mode mode)
{
	struct tls_params	 p = params("smtp");
	struct net_log		 nl = { .sink = capture };
	struct error		 err = { 0 };
	struct buf		 transcript;
	mailsmtp		*smtp = mailsmtp_new(0, NULL);
	char			 tok[96], msg[512], me[256];

	buf_init(&transcript);
	nl.sink_arg = &transcript;
	mailsmtp_set_logger(smtp, net_smtp_logger, &nl);
	token(tok, sizeof tok, "smtp");
	snprintf(msg, sizeof msg, "From: bob@localhost\r\nTo: carol@localhost"
	    "\r\nSubject: %s\r\n\r\nBody of %s.\r\n", tok, tok);

	cr_assert_eq(net_smtp_connect(smtp, host(), port(port_key), mode, &p,
	    &err), 0, "%s", err.msg);
	assert_modern_tls(tls_stream_get(mailstream_get_low(smtp->stream)));
	cr_assert(smtp->auth & MAILSMTP_AUTH_PLAIN, "AUTH PLAIN not seen");
	nl.authenticating = 1;
	cr_assert_eq(mailesmtp_auth_sasl(smtp, "PLAIN", "localhost", NULL, NULL,
	    "bob", "bob", "bobpw", NULL), MAILSMTP_NO_ERROR, "%s",
	    smtp->response);
	nl.authenticating = 0;
	cr_assert_eq(mailsmtp_mail(smtp, "bob@localhost"), MAILSMTP_NO_ERROR,
	    "%s", smtp->response);
	cr_assert_eq(mailsmtp_rcpt(smtp, "carol@localhost"), MAILSMTP_NO_ERROR,
	    "%s", smtp->response);
	cr_assert_eq(mailsmtp_data(smtp), MAILSMTP_NO_ERROR);
	cr_assert_eq(mailsmtp_data_message(smtp, msg, strlen(msg)),
	    MAILSMTP_NO_ERROR, "%s", smtp->response);
	mailsmtp_quit(smtp);
	mailsmtp_free(smtp);

	cr_assert(maildir_has(mailtest_env("MAILDIR_CAROL"), tok),
	    "%s never reached carol's Maildir", tok);
	/* EHLO named an address, never this machine. */
	cr_assert(strstr(buf_str(&transcript), "C: EHLO [127.0.0.1]") != NULL,
	    "%s", buf_str(&transcript));
	gethostname(me, sizeof me);
	cr_assert(strstr(buf_str(&transcript), me) == NULL, "%s",
	    buf_str(&transcript));
	cr_assert(strstr(buf_str(&transcript), "bobpw") == NULL);
	buf_free(&transcript);
}

Test(net, submission_starttls_auth_plain_delivers_to_carol)
{
	submit_to_carol("SUB_PORT", NET_STARTTLS);
}

Test(net, smtps_auth_plain_delivers_to_carol)
{
	submit_to_carol("SMTPS_PORT", NET_TLS_IMPLICIT);
}

/* --- cancellation and timeouts ----------------------------------------- */

/* A listener that accepts connections (the kernel does) and never talks. */
static int
silent_listener(int *portp)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof sin;
	int			s;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
	cr_assert_eq(listen(s, 4), 0);
	getsockname(s, (struct sockaddr *)&sin, &len);
	*portp = ntohs(sin.sin_port);
	return (s);
}

struct poke {
	int	fd;
	int	delay_ms;
};

static void *
poke_later(void *arg)
{
	struct poke	*pk = arg;
	uint64_t	 one = 1;

	usleep(pk->delay_ms * 1000);
	if (write(pk->fd, &one, sizeof one) != sizeof one)
		abort();
	return (NULL);
}

Test(net, cancel_fd_stops_a_handshake_the_server_never_answers)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	struct poke		 pk;
	pthread_t		 t;
	long long		 start;
	mailimap		*imap = mailimap_new(0, NULL);
	int			 l, lport;

	l = silent_listener(&lport);
	pk.fd = eventfd(0, EFD_CLOEXEC);
	pk.delay_ms = 200;
	p.cancel_fd = pk.fd;
	p.timeout_ms = 30000;
	pthread_create(&t, NULL, poke_later, &pk);
	start = now_ms();
	cr_assert_eq(net_imap_connect(imap, "127.0.0.1", lport,
	    NET_TLS_IMPLICIT, &p, &err), -1);
	cr_assert_eq(err.kind, ERR_CANCELLED, "%s", err.msg);
	cr_assert_lt(now_ms() - start, 2000);
	pthread_join(t, NULL);
	mailimap_free(imap);
	close(pk.fd);
	close(l);
}

Test(net, a_silent_server_times_out_the_handshake)
{
	struct tls_params	 p = params("imap");
	struct tls		*tls = NULL;
	struct error		 err = { 0 };
	long long		 start;
	int			 l, lport, fd;

	l = silent_listener(&lport);
	p.timeout_ms = 300;
	fd = net_connect("127.0.0.1", lport, 2000, -1, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	start = now_ms();
	cr_assert_eq(tls_handshake(fd, &p, &tls, &err), -1);
	cr_assert_eq(err.kind, ERR_NET);
	cr_assert(strstr(err.msg, "timed out") != NULL, "%s", err.msg);
	cr_assert_lt(now_ms() - start, 2000);
	close(fd);
	close(l);
}

struct canceller {
	mailstream	*s;
	int		 delay_ms;
};

static void *
cancel_later(void *arg)
{
	struct canceller	*c = arg;

	usleep(c->delay_ms * 1000);
	mailstream_cancel(c->s);
	return (NULL);
}

Test(net, mailstream_cancel_unblocks_a_read_from_another_thread)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	struct canceller	 c;
	pthread_t		 t;
	long long		 start;
	mailimap		*imap = mailimap_new(0, NULL);
	char			 b[64];

	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	c.s = imap->imap_stream;
	c.delay_ms = 200;
	pthread_create(&t, NULL, cancel_later, &c);
	start = now_ms();
	/* The server says nothing until asked: this read would block. */
	cr_assert_leq(mailstream_read(imap->imap_stream, b, sizeof b), 0);
	cr_assert_lt(now_ms() - start, 2000);
	pthread_join(t, NULL);
	mailimap_free(imap);
}

Test(net, wait_readable_times_out_and_wakes_up)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	mailimap		*imap = mailimap_new(0, NULL);
	uint64_t		 one = 1;
	int			 wake = eventfd(0, EFD_CLOEXEC);

	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(net_wait_readable(imap->imap_stream, 100, wake),
	    NET_WAIT_TIMEOUT);
	cr_assert_eq(write(wake, &one, sizeof one), sizeof one);
	cr_assert_eq(net_wait_readable(imap->imap_stream, 5000, wake),
	    NET_WAIT_WOKEN);
	cr_assert_eq(mailimap_noop(imap), MAILIMAP_NO_ERROR);
	mailimap_free(imap);
	close(wake);
}

/* --- the protocol log -------------------------------------------------- */

Test(net, the_log_of_a_login_holds_neither_password_nor_its_base64)
{
	static const char	*secrets[] = {
		"bobpw",
		"AGJvYgBib2Jwdw==",	/* "\0bob\0bobpw" */
		"Ym9iAGJvYgBib2Jwdw==",	/* "bob\0bob\0bobpw" */
		"Ym9icHc=",		/* "bobpw" (AUTH LOGIN) */
	};
	struct tls_params	 p = params("imap");
	struct net_log		 nl = { .name = "test", .sink = capture };
	struct error		 err = { 0 };
	struct buf		 log;
	mailimap		*imap;
	mailsmtp		*smtp;
	size_t			 i;

	buf_init(&log);
	nl.sink_arg = &log;

	/* IMAP LOGIN, with the flag left unset: libetpan marks it private. */
	imap = mailimap_new(0, NULL);
	mailimap_set_logger(imap, net_imap_logger, &nl);
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(mailimap_login(imap, "bob", "bobpw"), MAILIMAP_NO_ERROR);
	mailimap_free(imap);

	/* IMAP AUTHENTICATE PLAIN, with the flag set around it. */
	imap = mailimap_new(0, NULL);
	mailimap_set_logger(imap, net_imap_logger, &nl);
	cr_assert_eq(net_imap_connect(imap, host(), port("IMAPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	nl.authenticating = 1;
	cr_assert_eq(mailimap_authenticate(imap, "PLAIN", "localhost", NULL,
	    NULL, "bob", "bob", "bobpw", NULL), MAILIMAP_NO_ERROR);
	nl.authenticating = 0;
	cr_assert_eq(mailimap_select(imap, "INBOX"), MAILIMAP_NO_ERROR);
	mailimap_free(imap);

	/* SMTP AUTH LOGIN: the password goes as an ordinary line. */
	p = params("smtp");
	smtp = mailsmtp_new(0, NULL);
	mailsmtp_set_logger(smtp, net_smtp_logger, &nl);
	cr_assert_eq(net_smtp_connect(smtp, host(), port("SMTPS_PORT"),
	    NET_TLS_IMPLICIT, &p, &err), 0, "%s", err.msg);
	nl.authenticating = 1;
	cr_assert_eq(mailesmtp_auth_sasl(smtp, "LOGIN", "localhost", NULL,
	    NULL, "bob", "bob", "bobpw", NULL), MAILSMTP_NO_ERROR);
	nl.authenticating = 0;
	mailsmtp_quit(smtp);
	mailsmtp_free(smtp);

	/* The transcript is there... */
	cr_assert(strstr(buf_str(&log), "test: C: ") != NULL, "%s",
	    buf_str(&log));
	cr_assert(strstr(buf_str(&log), "SELECT INBOX") != NULL, "%s",
	    buf_str(&log));
	cr_assert(strstr(buf_str(&log), "omitted") != NULL, "%s",
	    buf_str(&log));
	/* ...without a secret in it. */
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		cr_assert(strstr(buf_str(&log), secrets[i]) == NULL,
		    "%s leaked: %s", secrets[i], buf_str(&log));
	buf_free(&log);
}

/* --- hostile servers: plain text injected after "go ahead" ------------- */

struct stub {
	int		 listener;
	const char	*greeting;	/* sent at once */
	const char	*replies[4];	/* one per line received */
};

/* Plays a scripted server for one connection. */
static void *
stub_run(void *arg)
{
	struct stub	*st = arg;
	char		 c;
	int		 fd, i = 0;

	if ((fd = accept(st->listener, NULL, NULL)) == -1)
		return (NULL);
	if (write(fd, st->greeting, strlen(st->greeting)) < 0)
		goto out;
	while (read(fd, &c, 1) == 1) {
		if (c != '\n')
			continue;
		if (i < 4 && st->replies[i] != NULL &&
		    write(fd, st->replies[i], strlen(st->replies[i])) < 0)
			break;
		i++;
	}
out:
	close(fd);
	return (NULL);
}

Test(net, imap_plain_text_injected_after_starttls_ok_is_refused)
{
	struct tls_params	 p = params("imap");
	struct error		 err = { 0 };
	struct stub		 st = {
		.greeting = "* OK [CAPABILITY IMAP4rev1 STARTTLS] stub\r\n",
		.replies = { "1 OK begin TLS\r\n* 1 EXISTS\r\n" },
	};
	pthread_t		 t;
	mailimap		*imap = mailimap_new(0, NULL);
	int			 lport;

	st.listener = silent_listener(&lport);
	pthread_create(&t, NULL, stub_run, &st);
	cr_assert_eq(net_imap_connect(imap, "127.0.0.1", lport, NET_STARTTLS,
	    &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_assert_null(imap->imap_stream);
	pthread_join(t, NULL);
	close(st.listener);
	mailimap_free(imap);
}

Test(net, smtp_plain_text_injected_after_starttls_220_is_refused)
{
	struct tls_params	 p = params("smtp");
	struct error		 err = { 0 };
	struct stub		 st = {
		.greeting = "220 stub ESMTP\r\n",
		.replies = { "250-stub\r\n250 STARTTLS\r\n",
		    "220 go ahead\r\n250 injected\r\n" },
	};
	pthread_t		 t;
	mailsmtp		*smtp = mailsmtp_new(0, NULL);
	int			 lport;

	st.listener = silent_listener(&lport);
	pthread_create(&t, NULL, stub_run, &st);
	cr_assert_eq(net_smtp_connect(smtp, "127.0.0.1", lport, NET_STARTTLS,
	    &p, &err), -1);
	cr_assert_eq(err.kind, ERR_TLS, "%s", err.msg);
	cr_assert_null(smtp->stream);
	pthread_join(t, NULL);
	close(st.listener);
	mailsmtp_free(smtp);
}
