/*
 * facteur: a terminal mail reader. main() reads the command line and the
 * configuration, builds the accounts and hands the terminal to the UI.
 */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/path.h"
#include "core/xmalloc.h"
#include "mail/account.h"
#include "ui/ui.h"

/* sysexits(3) codes, as mail programs use them. */
#define EX_USAGE	64
#define EX_NOINPUT	66
#define EX_SOFTWARE	70
#define EX_CONFIG	78

void	pager_shutdown(void);
int	fetch_main(struct config *, char **, int);
void	folders_shutdown(void);

static void
usage(FILE *f)
{
	fprintf(f,
"usage: facteur [-hnv] [-F config] [-f maildir]\n"
"       facteur -s subject [-a file]... [-c cc] address... < body\n"
"\n"
"Read, search and triage mail in a terminal.\n"
"\n"
"  -f DIR       open the Maildir DIR (indexed with notmuch in DIR/.notmuch;\n"
"               created on first use); without it: the accounts of the\n"
"               configuration, else $MAILDIR, else ~/Maildir\n"
"  -F FILE      read FILE instead of the default configuration\n"
"               ($XDG_CONFIG_HOME/facteur/config or ~/.config/facteur/config)\n"
"  -n           read no configuration file at all\n"
"  -C           check the configuration and exit (errors name file:line)\n"
"  --fetch [ACCOUNT...]  download new mail of the POP3 accounts (all, or\n"
"               those named) without the interface, then exit: 0 done,\n"
"               75 temporary failure, 77 bad credentials, 78 config error\n"
"  -s SUBJECT   send the standard input to ADDRESS... without the\n"
"               interface (with -a FILE attachments, -c CC copies), through\n"
"               the first account with smtp or sendmail: 0 sent, 75 kept\n"
"               in the outbox for later, 1 refused, 78 config error\n"
"  -h, --help   show this help and exit\n"
"  -v, --version  show the version and exit\n"
"\n"
"Press ? inside facteur for the keys; see facteur(1) and facteur.conf(5).\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ "fetch", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct config		*cfg;
	struct error		 err;
	struct loop		*loop;
	struct ui		*ui;
	struct ui_options	 opts;
	struct account		**accounts = NULL, *a;
	const struct config_account *ca;
	size_t			 naccounts = 0, i, j;
	const char		*cfgfile = NULL, *maildir = NULL, *v;
	char			*path;
	int			 ch, noconfig = 0, check = 0, status;
	int			 fetch = 0;
	const char		*send_subject = NULL, *send_cc = NULL;
	char			**send_att = NULL;
	int			 send_natt = 0;
	struct stat		 sb;

	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
		/* Mail is mostly UTF-8: prefer it when the locale is C. */
		if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
			setlocale(LC_CTYPE, "");
	}
	signal(SIGPIPE, SIG_IGN);

	while ((ch = getopt_long(argc, argv, "a:c:CF:f:hns:v", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			send_att = xreallocarray(send_att, send_natt + 1,
			    sizeof *send_att);
			send_att[send_natt++] = optarg;
			break;
		case 'c':
			send_cc = optarg;
			break;
		case 's':
			send_subject = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'F':
			cfgfile = optarg;
			break;
		case 'f':
			maildir = optarg;
			break;
		case 'h':
			usage(stdout);
			return (0);
		case 'n':
			noconfig = 1;
			break;
		case 'P':
			fetch = 1;
			break;
		case 'v':
			printf("facteur %s\n", PACKAGE_VERSION);
			return (0);
		default:
			usage(stderr);
			return (EX_USAGE);
		}
	}
	if ((send_att != NULL || send_cc != NULL) && send_subject == NULL) {
		usage(stderr);
		return (EX_USAGE);
	}
	if (send_subject != NULL && optind == argc) {
		fprintf(stderr, "facteur: -s needs at least one address\n");
		return (EX_USAGE);
	}
	if (optind != argc && !fetch && send_subject == NULL) {
		usage(stderr);
		return (EX_USAGE);
	}

	error_clear(&err);
	cfg = config_new(ui_actions, ui_nactions);
	if (!noconfig) {
		if (cfgfile != NULL) {
			if (config_load_file(cfg, cfgfile, &err) != 0)
				goto config_error;
		} else if (stat(config_default_path(), &sb) == 0) {
			if (config_load_file(cfg, config_default_path(),
			    &err) != 0)
				goto config_error;
		}
	}
	if (config_finish(cfg, &err) != 0)
		goto config_error;
	if (check) {
		printf("facteur: configuration is valid\n");
		config_free(&cfg);
		return (0);
	}
	if (fetch) {
		status = fetch_main(cfg, argv + optind, argc - optind);
		config_free(&cfg);
		return (status);
	}
	if (send_subject != NULL) {
		status = compose_cli(cfg, send_subject, send_att, send_natt,
		    send_cc, argv + optind, argc - optind);
		free(send_att);
		config_free(&cfg);
		return (status);
	}

	v = config_get(cfg, "log_file");
	if (v == NULL || *v == '\0')
		v = getenv("FACTEUR_LOG");
	if (v != NULL && *v != '\0') {
		path = path_expand_home(v);
		if (log_open(path) != 0)
			fprintf(stderr, "facteur: %s: %s (no log)\n", path,
			    strerror(errno));
		free(path);
	}

	loop = loop_new();
	if (maildir == NULL) {
		for (i = 0; i < config_account_count(cfg); i++) {
			ca = config_account_at(cfg, i);
			error_clear(&err);
			a = account_from_config(loop, cfg, ca, NULL, &err);
			if (a == NULL && err.kind == ERR_CONFIG) {
				/* Not readable here: say so, go on. */
				fprintf(stderr, "facteur: %s\n", err.msg);
				continue;
			}
			if (a == NULL) {
				fprintf(stderr, "facteur: %s\n", err.msg);
				status = EX_NOINPUT;
				goto out_accounts;
			}
			accounts = xreallocarray(accounts, naccounts + 1,
			    sizeof *accounts);
			accounts[naccounts++] = a;
		}
	}
	if (naccounts == 0) {
		if (maildir == NULL && (v = config_get(cfg, "maildir")) != NULL
		    && *v != '\0')
			maildir = v;
		if (maildir == NULL)
			maildir = getenv("MAILDIR");
		if (maildir == NULL || *maildir == '\0')
			maildir = "~/Maildir";
		error_clear(&err);
		a = account_from_config(loop, cfg, NULL, maildir, &err);
		if (a == NULL) {
			fprintf(stderr, "facteur: %s\n", err.msg);
			status = EX_NOINPUT;
			goto out_accounts;
		}
		accounts = xcalloc(1, sizeof *accounts);
		accounts[naccounts++] = a;
	}
	for (i = 0; i < naccounts; i++) {
		for (j = 0; j < config_search_count(cfg); j++)
			account_add_search(accounts[i],
			    config_search_name(cfg, j),
			    config_search_query(cfg, j));
	}

	memset(&opts, 0, sizeof opts);
	opts.sort = config_get(cfg, "sort");
	opts.sidebar = config_get_bool(cfg, "sidebar");
	opts.sidebar_width = (int)config_get_number(cfg, "sidebar_width");
	opts.mark_read = config_get_bool(cfg, "mark_read");
	opts.prefer_html = strcmp(config_get(cfg, "prefer"), "html") == 0;
	opts.sync_on_start = config_get_bool(cfg, "sync_on_start");
	opts.date_format = config_get(cfg, "date_format");

	ui = ui_new(loop, cfg, accounts, naccounts, &opts);
	status = ui_run(ui);
	pager_shutdown();
	for (i = 0; i < naccounts; i++)
		account_free(&accounts[i]);
	naccounts = 0;
	folders_shutdown();
	ui_free(&ui);
out_accounts:
	for (i = 0; i < naccounts; i++)
		account_free(&accounts[i]);
	free(accounts);
	loop_free(&loop);
	config_free(&cfg);
	log_close();
	return (status);

config_error:
	fprintf(stderr, "facteur: %s\n", err.msg);
	config_free(&cfg);
	return (EX_CONFIG);
}
