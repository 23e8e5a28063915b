/*
 * bench/smtp's driver: queues N messages in an outbox, writes the same
 * messages as files for msmtp, then sends the outbox in one flush (one
 * connection, pipelined transactions) and prints the time the flush took.
 * Built by bench/smtp against the build's libraries.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"
#include "net/net.h"
#include "send/send.h"

/* Seconds since some fixed point. */
static double
smtp_flush_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	struct send_transport	 t = { 0 };
	struct send_draft	 d = { 0 };
	struct send_built	 b;
	struct outbox_result	 res;
	struct outbox		*ob;
	struct error		 err;
	struct buf		 body;
	char			*path, subject[128];
	double			 t0, t1;
	FILE			*f;
	int			 n, i, j;

	if (argc != 7) {
		fprintf(stderr, "usage: smtp-flush DIR N HOST PORT CA_FILE "
		    "TLS_NAME\n");
		return (64);
	}
	setlocale(LC_CTYPE, "C.UTF-8");
	n = atoi(argv[2]);
	xasprintf(&path, "%s/outbox", argv[1]);
	if ((ob = outbox_open(path, &err)) == NULL) {
		fprintf(stderr, "smtp-flush: %s\n", err.msg);
		return (1);
	}
	free(path);
	/* About 2 KB of text each, as a short mail is. */
	buf_init(&body);
	for (j = 0; j < 30; j++)
		buf_addf(&body, "Line %02d of a benchmark message, plain "
		    "text with a few words.\n", j);
	d.from = "Bob <bob@localhost>";
	d.to = "Carol <carol@localhost>";
	d.body = (char *)buf_str(&body);
	d.subject = subject;
	for (i = 0; i < n; i++) {
		snprintf(subject, sizeof subject, "bench smtp %d", i);
		if (send_build(&d, NULL, &b, &err) != 0 ||
		    outbox_add(ob, &b, NULL, &err) != 0) {
			fprintf(stderr, "smtp-flush: %s\n", err.msg);
			return (1);
		}
		xasprintf(&path, "%s/msg/%05d.eml", argv[1], i);
		if ((f = fopen(path, "w")) == NULL ||
		    fwrite(b.msg.data, 1, b.msg.len, f) != b.msg.len ||
		    fclose(f) != 0) {
			perror(path);
			return (1);
		}
		free(path);
		send_built_free(&b);
	}
	buf_free(&body);

	t.kind = SEND_SMTP;
	t.host = xstrdup(argv[3]);
	t.port = atoi(argv[4]);
	t.mode = NET_STARTTLS;
	t.user = xstrdup("bob");
	t.password = xstrdup("bobpw");
	t.ca_file = argv[5];
	t.tls_name = argv[6];
	t.timeout_ms = 30000;
	t.cancel_fd = -1;
	t0 = smtp_flush_now();
	if (outbox_flush(ob, &t, OUTBOX_FLUSH_DUE, NULL, NULL, &res,
	    &err) != 0) {
		fprintf(stderr, "smtp-flush: %zu sent, %zu deferred, %zu "
		    "failed: %s\n", res.sent, res.deferred, res.failed,
		    err.msg);
		return (1);
	}
	t1 = smtp_flush_now();
	printf("%zu %.3f\n", res.sent, t1 - t0);
	send_transport_clear(&t);
	outbox_free(&ob);
	return (0);
}
