/*
 * serve.h: the long-running FastCGI server: opens (or inherits) the
 * listening socket, starts the committer, the hub and the intake threads,
 * and stops them cleanly on SIGTERM/SIGINT.
 *
 * Signals: every thread runs with SIGTERM, SIGINT and SIGHUP blocked; the
 * main thread takes them with sigwait(). That also takes SIGTERM back from
 * libfcgi, whose own handler would only set a flag nobody looks at.
 */
#ifndef SSEREPLAY_SERVE_H
#define SSEREPLAY_SERVE_H

#include "config.h"

/*
 * Open the listening socket named by addr ("unix:PATH" or "HOST:PORT").
 * A Unix socket is created with mode 0660 (a stale socket file is
 * replaced; one a live server answers on is an error). A TCP address that
 * is not loopback is refused unless force is set. Returns the fd, or -1
 * with a message in err.
 */
int serve_listen(const char *addr, int force, char *err, size_t errsz);

/*
 * Run the server on listen_fd (-1: open cfg->listen). inherited says that
 * the fd came from the parent (fd 0: lighttpd bin-path, spawn-fcgi,
 * mod_fcgid) and is not ours to unlink. Returns the process exit status.
 */
int serve_run(const struct config *cfg, int listen_fd, int inherited);

#endif
