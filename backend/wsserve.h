/*
 * wsserve.h: the WebSocket socket (`ws = unix:PATH | HOST:PORT`), which the
 * web server proxies /ws to (lighttpd mod_proxy with upgrade, Apache
 * mod_proxy with upgrade=websocket).
 *
 * A few intake threads accept connections and read the handshake with a
 * deadline (WS_HANDSHAKE_TIMEOUT_MS) and a size bound (WS_REQUEST_MAX).
 * A handshake that wshandshake.c and http_ws_begin() accept goes to the
 * hub, which answers 101 and owns the connection from then on; any other
 * gets an HTTP error response with a reason and is closed.
 */
#ifndef SSEREPLAY_WSSERVE_H
#define SSEREPLAY_WSSERVE_H

#include <stddef.h>

#include "http.h"

struct wsserve;
struct hub;

/* Start nthreads intake threads on listen_fd (taken). 0, or -1 with err. */
int wsserve_start(struct wsserve **out, int listen_fd,
    const struct http_ctx *ctx, struct hub *hub, int nthreads, char *err,
    size_t errsz);

/* Stop accepting, finish the handshakes in progress, join, close the
 * socket. Accepts NULL. */
void wsserve_stop(struct wsserve *w);

#endif
