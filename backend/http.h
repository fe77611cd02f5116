/*
 * http.h: the HTTP contract, independent of how the request arrived
 * (FastCGI or CGI). Validation returns the status to send; nothing here
 * touches a socket.
 *
 *   GET  /events   validated into a struct stream_req for the hub
 *   POST /publish  authenticated, body parsed, committed, 201 {"id":..}
 *   GET  /metrics  Prometheus text
 *   GET  /healthz  "ok"
 *   POST /disconnect  admin token: end every stream (demo, operators)
 *   OPTIONS        CORS preflight for /events and /publish
 *   GET  /ws       (on the WebSocket socket) http_ws_begin
 *
 * Routing looks at the last path segment, so the API can be mounted under
 * any prefix (/api/events works like /events).
 */
#ifndef SSEREPLAY_HTTP_H
#define SSEREPLAY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "config.h"
#include "hub.h"
#include "wshandshake.h"

/* The CGI variables we use (RFC 3875, 4.1); any may be NULL. */
struct http_req {
	const char	*method;		/* REQUEST_METHOD */
	const char	*path;			/* SCRIPT_NAME + PATH_INFO */
	const char	*query;			/* QUERY_STRING */
	const char	*content_type;		/* CONTENT_TYPE */
	const char	*content_length;	/* CONTENT_LENGTH */
	const char	*authorization;		/* HTTP_AUTHORIZATION */
	const char	*last_event_id;		/* HTTP_LAST_EVENT_ID */
	const char	*origin;		/* HTTP_ORIGIN */
	const char	*remote_user;		/* REMOTE_USER */
	const char	*remote_addr;		/* REMOTE_ADDR */
	const char	*cookie;		/* HTTP_COOKIE */
};

#define HTTP_HEADERS_MAX	1024
#define HTTP_BODY_MAX		8192

struct http_resp {
	int		 status;
	const char	*content_type;
	char		 headers[HTTP_HEADERS_MAX];	/* extra lines, CRLF each */
	size_t		 headers_len;
	char		 body[HTTP_BODY_MAX];
	size_t		 body_len;
};

/* What the transport offers the handlers. */
struct http_ctx {
	const struct config *cfg;
	/* Commit one event; 0 with *seq set, or -1 if it could not be stored. */
	int		(*publish)(void *arg, const struct publish_req *req,
			    uint64_t *seq);
	void		*publish_arg;
	const char	*epoch;
	/* End every open stream (POST /disconnect); NULL: not offered. */
	void		(*disconnect)(void *arg);
	void		*disconnect_arg;
};

enum http_next {
	HTTP_RESPOND,	/* resp is complete: send it */
	HTTP_READ_BODY,	/* read the body (at most *body_max), then http_publish */
	HTTP_STREAM,	/* stream is filled in: hand the connection to the hub */
};

/*
 * Look at a request's method, path, headers and query. Returns what the
 * transport does next; fills resp, stream or body_max accordingly.
 */
enum http_next http_begin(const struct http_ctx *ctx,
    const struct http_req *req, struct http_resp *resp,
    struct stream_req *stream, size_t *body_max);

/*
 * Look at a WebSocket handshake that wshandshake.c found well-formed: the
 * route (/ws), Origin, the query (topic, lastEventId, token), the token,
 * the subscriber limit. HTTP_STREAM with stream filled in (hand the
 * connection to the hub), or HTTP_RESPOND with an error in resp.
 */
enum http_next http_ws_begin(const struct http_ctx *ctx,
    const struct ws_handshake *hs, struct http_resp *resp,
    struct stream_req *stream);

/* A whole HTTP/1.1 response head for resp (Connection: close), as the
 * WebSocket socket answers a refused handshake. Length, or -1. */
int http_format_response(const struct http_resp *resp, char *out,
    size_t outsz);

/* Finish a POST /publish whose body (len bytes) was read. Fills resp. */
void http_publish(const struct http_ctx *ctx, const struct http_req *req,
    const char *body, size_t len, struct http_resp *resp);

/* Fill resp with an error: status and a plain-text reason. */
void http_error(struct http_resp *resp, int status, const char *reason);

/*
 * The CGI-style response head ("Status: ...", Content-Type, extra headers,
 * Content-Length, blank line). Returns its length, or -1 if out is small.
 */
int http_format_head(const struct http_resp *resp, char *out, size_t outsz);

#endif
