/*
 * sandbox.h: what the server gives up once it has started (README.md,
 * "Running as a service").
 *
 * Root: started as root, `serve` (and the FastCGI mode a web server
 * spawns) opens its sockets and its database, hands those files to the
 * configured `user`, then drops to it (supplementary groups, gid, uid, in
 * that order, and checks that root cannot be regained). Without `user` it
 * refuses to serve as root.
 *
 * System calls: once every thread runs, a seccomp filter (libseccomp, on
 * all threads at once) allows only the calls the server makes from then on
 * and fails every other with EPERM, so that a forgotten path shows up as
 * an error, never as a killed server. Sanitizer builds skip it: their
 * runtime needs calls we do not. `sandbox = no` turns it off.
 */
#ifndef SSEREPLAY_SANDBOX_H
#define SSEREPLAY_SANDBOX_H

#include <stddef.h>

/*
 * If running as root: refuse when user is "", else chown each path that
 * exists (paths ends with NULL) to user and drop to it. A no-op when not
 * root. 0, or -1 with a message in err.
 */
int sandbox_drop_root(const char *user, const char *const *paths, char *err,
    size_t errsz);

/* Install the system call filter on every thread. network_client: the
 * log is a network service (log = jetstream) whose client library
 * connects, reconnects and starts threads at any time, so socket,
 * connect and thread creation stay allowed too. 0 (also when compiled
 * out), or -1 with a message in err. */
int sandbox_seccomp(int network_client, char *err, size_t errsz);

/* 1 if this build can filter system calls. */
int sandbox_seccomp_available(void);

#endif
