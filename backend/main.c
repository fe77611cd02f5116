/*
 * main.c: command dispatch.
 *
 *   ssereplay serve --listen ADDR --db FILE [--config FILE] [--KEY VALUE...]
 *   ssereplay publish ...   ssereplay tail ...   ssereplay migrate ...
 *                           (cli.h)
 *   ssereplay               with a listening socket on fd 0: FastCGI, as
 *                           spawned by lighttpd bin-path, spawn-fcgi or
 *                           mod_fcgid; with GATEWAY_INTERFACE set: CGI.
 *
 * Settings come from the defaults, then the config file (--config, or
 * SSEREPLAY_CONFIG in the environment), then SSEREPLAY_DB, then flags.
 * `FCGX_IsCGI()` is never asked: it only looks at fd 0, which says nothing
 * about a daemon that opened its own socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgi.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "serve.h"

#define SSEREPLAY_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ssereplay serve --listen unix:PATH|HOST:PORT --db FILE"
	    " [--config FILE] [--KEY VALUE ...]\n"
	    "       ssereplay publish --db FILE --topic T [--event TYPE]"
	    " [DATA | -]\n"
	    "       ssereplay tail --db FILE [--topic T] [--after ID]"
	    " [--follow]\n"
	    "       ssereplay token --user U --topics P[,P...] [--ttl 1h]"
	    " [--config FILE]\n"
	    "       ssereplay migrate --from sqlite:FILE --to jetstream:URL"
	    " [--config FILE]\n"
	    "       ssereplay --version | --help\n"
	    "Every config key is also a flag: --max-event-size 64k,"
	    " --publish-token T, ... (see conf/ssereplay.conf).\n"
	    "Started with no arguments, it serves FastCGI on a listening"
	    " socket at fd 0, or one CGI request.\n");
}

static struct config cfg;	/* large: keep it off the stack */

/* Load SSEREPLAY_CONFIG and SSEREPLAY_DB from the environment. */
static int
load_env(void)
{
	const char	*path = getenv("SSEREPLAY_CONFIG");
	const char	*db = getenv("SSEREPLAY_DB");
	char		 err[1024];

	if (path != NULL && *path &&
	    config_load(&cfg, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay: %s\n", err);
		return -1;
	}
	if (db != NULL && *db &&
	    config_set(&cfg, "db", db, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay: SSEREPLAY_DB: %s\n", err);
		return -1;
	}
	return 0;
}

static int
fd0_is_listening(void)
{
	int		v = 0;
	socklen_t	len = sizeof(v);

	return getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &v,
	    &len) == 0 && v != 0;
}

static int
cmd_serve(int argc, char **argv)
{
	char	 key[64], err[1024];
	size_t	 i;
	int	 a;

	/* The config file first, wherever --config appears. */
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--config") != 0)
			continue;
		if (a + 1 >= argc) {
			fprintf(stderr, "ssereplay serve: --config needs a"
			    " file\n");
			return 2;
		}
		if (config_load(&cfg, argv[a + 1], err, sizeof(err)) == -1) {
			fprintf(stderr, "ssereplay serve: %s\n", err);
			return 2;
		}
	}
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--config") == 0) {
			a++;
			continue;
		}
		if (strcmp(argv[a], "--verbose") == 0 ||
		    strcmp(argv[a], "-v") == 0) {
			log_set_level(LOG_DEBUG);
			continue;
		}
		if (strncmp(argv[a], "--", 2) != 0 || argv[a][2] == '\0' ||
		    strlen(argv[a]) - 2 >= sizeof(key)) {
			fprintf(stderr, "ssereplay serve: unexpected argument:"
			    " %s\n", argv[a]);
			usage(stderr);
			return 2;
		}
		/* --max-event-size -> max_event_size */
		for (i = 0; argv[a][i + 2] != '\0'; i++)
			key[i] = argv[a][i + 2] == '-' ? '_' : argv[a][i + 2];
		key[i] = '\0';
		if (a + 1 >= argc) {
			fprintf(stderr, "ssereplay serve: %s needs a value\n",
			    argv[a]);
			return 2;
		}
		if (config_set(&cfg, key, argv[a + 1], err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "ssereplay serve: %s\n", err);
			return 2;
		}
		a++;
	}
	if (cfg.log == LOG_SQLITE && cfg.db[0] == '\0') {
		fprintf(stderr, "ssereplay serve: no database: give --db FILE"
		    " or db = FILE in the config\n");
		return 2;
	}
	if (cfg.log == LOG_JETSTREAM && cfg.nats_url[0] == '\0') {
		fprintf(stderr, "ssereplay serve: log = jetstream needs"
		    " nats_url (--nats-url nats://HOST:PORT,...)\n");
		return 2;
	}
	if (cfg.listen[0] == '\0') {
		if (fd0_is_listening())
			return serve_run(&cfg, STDIN_FILENO, 1);
		fprintf(stderr, "ssereplay serve: nowhere to listen: give"
		    " --listen unix:PATH or HOST:PORT\n");
		return 2;
	}
	return serve_run(&cfg, -1, 0);
}

int
main(int argc, char **argv)
{
	config_defaults(&cfg);
	if (argc >= 2 && strcmp(argv[1], "publish") == 0)
		return cli_publish(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "tail") == 0)
		return cli_tail(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "token") == 0)
		return cli_token(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
		return cli_migrate(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
		if (load_env() == -1)
			return 2;
		return cmd_serve(argc - 2, argv + 2);
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("ssereplay %s\n", SSEREPLAY_VERSION);
		return 0;
	}
	/* Apache's mod_cgi may pass words of a query without '=' as
	 * arguments (RFC 3875, 4.4): only an unknown first word that is not
	 * from there is an error. */
	if (argc == 1 || getenv("GATEWAY_INTERFACE") != NULL) {
		if (load_env() == -1)
			return 2;
		if (cfg.db[0] == '\0') {
			fprintf(stderr, "ssereplay: no database: set"
			    " SSEREPLAY_DB or SSEREPLAY_CONFIG\n");
			return 2;
		}
		if (fd0_is_listening())
			return serve_run(&cfg, STDIN_FILENO, 1);
		if (getenv("GATEWAY_INTERFACE") != NULL)
			return cgi_run(&cfg);
		usage(stderr);
		return 2;
	}
	fprintf(stderr, "ssereplay: unknown command: %s\n", argv[1]);
	usage(stderr);
	return 2;
}
