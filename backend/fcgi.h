/*
 * fcgi.h: FastCGI intake with libfcgi. A pool of threads accepts
 * connections on the listening socket, lets libfcgi parse each request
 * (FastCGI 1.0: BEGIN_REQUEST, PARAMS, STDIN), and:
 *   - answers short requests (publish, metrics, errors) through libfcgi;
 *   - hands a valid GET /events connection to the hub, which owns it from
 *     then on. FCGX_Free(&req, 0) releases libfcgi's buffers without
 *     writing END_REQUEST or closing the fd; the request is re-initialised
 *     before the next accept, because FCGX_Accept_r() would otherwise
 *     finish (and close) the connection it no longer owns.
 *
 * A publish holds its thread until the event is committed, so the number of
 * threads bounds the publishes in flight (config `workers`).
 */
#ifndef SSEREPLAY_FCGI_H
#define SSEREPLAY_FCGI_H

#include <stddef.h>

#include "http.h"

struct fcgi_pool;
struct hub;

/* Call once, before any thread starts: libfcgi's own initialisation. */
int fcgi_init(char *err, size_t errsz);

/* Start nthreads intake threads on listen_fd. 0, or -1 with err. */
int fcgi_start(struct fcgi_pool **out, int listen_fd,
    const struct http_ctx *ctx, struct hub *hub, int nthreads, char *err,
    size_t errsz);

/* Stop accepting, let requests in progress finish, join. Accepts NULL. */
void fcgi_stop(struct fcgi_pool *pool);

#endif
