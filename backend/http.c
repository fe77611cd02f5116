/* http.c: the HTTP contract. See http.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <time.h>

#include "auth.h"
#include "body.h"
#include "eventid.h"
#include "quota.h"
#include "http.h"
#include "metrics.h"
#include "query.h"
#include "valid.h"

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void
add_header(struct http_resp *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_header(struct http_resp *resp, const char *fmt, ...)
{
	va_list	ap;
	size_t	room = sizeof(resp->headers) - resp->headers_len;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(resp->headers + resp->headers_len, room, fmt, ap);
	va_end(ap);
	/* Our own headers always fit; never leave half of one. */
	if (n > 0 && (size_t)n < room)
		resp->headers_len += (size_t)n;
	else
		resp->headers[resp->headers_len] = '\0';
}

static void
set_body(struct http_resp *resp, int status, const char *ctype,
    const char *body, size_t len)
{
	resp->status = status;
	resp->content_type = ctype;
	if (len >= sizeof(resp->body))
		len = sizeof(resp->body) - 1;
	memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->body_len = len;
}

void
http_error(struct http_resp *resp, int status, const char *reason)
{
	char text[512];
	int  n;

	n = snprintf(text, sizeof(text), "%s\n", reason);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	set_body(resp, status, "text/plain; charset=utf-8", text, (size_t)n);
}

int
http_format_head(const struct http_resp *resp, char *out, size_t outsz)
{
	int n;

	n = snprintf(out, outsz,
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "Content-Length: %zu\r\n"
	    "\r\n",
	    resp->status, status_text(resp->status),
	    resp->content_type ? "Content-Type: " : "",
	    resp->content_type ? resp->content_type : "",
	    resp->content_type ? "\r\n" : "",
	    resp->headers, resp->body_len);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The route is the last path segment. */
static const char *
route_of(const char *path)
{
	const char *slash;

	if (path == NULL || (slash = strrchr(path, '/')) == NULL)
		return "";
	return slash + 1;
}

static const char *
allowed_origin(const struct config *cfg, const char *origin)
{
	int i;

	if (origin == NULL || *origin == '\0')
		return NULL;
	for (i = 0; i < cfg->norigins; i++)
		if (strcmp(cfg->origins[i], origin) == 0)
			return cfg->origins[i];
	return NULL;
}

static void
add_cors(const struct config *cfg, const struct http_req *req,
    struct http_resp *resp)
{
	const char *origin = allowed_origin(cfg, req->origin);

	if (origin == NULL)
		return;
	add_header(resp, "Access-Control-Allow-Origin: %s\r\n"
	    "Access-Control-Allow-Credentials: true\r\n"
	    "Vary: Origin\r\n", origin);
}

/*
 * Compare a presented token with every configured one in time that does
 * not depend on where (or whether) they differ.
 */
static unsigned int
secret_eq(const char *tok, size_t len, const char *secret)
{
	unsigned int	 diff;
	size_t		 i, slen = strlen(secret);

	diff = len != slen || slen == 0;
	for (i = 0; i < TOKEN_MAX; i++)
		diff |= (unsigned char)(i < len ? tok[i] : 0) ^
		    (unsigned char)(i < slen ? secret[i] : 0);
	return diff == 0;
}

/* 1 + the index of the matching publish token, or 0. Every token is
 * compared in full, whichever matches. */
static int
token_ok(const struct config *cfg, const char *tok, size_t len)
{
	unsigned int	 found = 0;
	int		 t;

	if (len > TOKEN_MAX)
		return 0;
	for (t = 0; t < cfg->ntokens; t++)
		found |= secret_eq(tok, len, cfg->tokens[t]) * (unsigned)(t + 1);
	return (int)found;
}

/* The token of an "Authorization: Bearer TOKEN" header, or NULL. */
static const char *
bearer_token(const char *a, size_t *len)
{
	const char *tok;

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return NULL;
	for (tok = a + 7; *tok == ' '; tok++)
		;
	*len = strlen(tok);
	while (*len > 0 && tok[*len - 1] == ' ')
		(*len)--;
	return *len > 0 ? tok : NULL;
}

/* 0 if authorised, else the status (401 or 403) with resp filled in. */
static int
check_auth(const struct config *cfg, const struct http_req *req,
    struct http_resp *resp, int *idx)
{
	const char	*a = req->authorization, *tok;
	size_t		 len;

	if (a == NULL || *a == '\0') {
		http_error(resp, 401, "missing Authorization: Bearer token");
		add_header(resp, "WWW-Authenticate: Bearer realm=\"ssereplay\"\r\n");
		return 401;
	}
	if (strncasecmp(a, "Bearer ", 7) != 0) {
		http_error(resp, 401, "Authorization must use the Bearer scheme");
		add_header(resp, "WWW-Authenticate: Bearer realm=\"ssereplay\"\r\n");
		return 401;
	}
	for (tok = a + 7; *tok == ' '; tok++)
		;
	len = strlen(tok);
	while (len > 0 && tok[len - 1] == ' ')
		len--;
	if (len == 0 || len > TOKEN_MAX || (*idx = token_ok(cfg, tok, len)) == 0) {
		http_error(resp, 403, "token not accepted");
		return 403;
	}
	(*idx)--;
	return 0;
}

/* The value of cookie name in a Cookie header (RFC 6265, 5.4), or NULL. */
static const char *
cookie_value(const char *header, const char *name, size_t *len)
{
	const char	*p = header;
	size_t		 nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			p += nlen + 1;
			*len = strcspn(p, ";");
			while (*len > 0 && p[*len - 1] == ' ')
				(*len)--;
			return p;
		}
		p = strchr(p, ';');
	}
	return NULL;
}

/*
 * Who subscribes, and may they read every topic asked for? Identity comes
 * from the web server (REMOTE_USER) and/or an access token (the query's
 * access_token, else the cookie). Returns 0 with s->who and s->expires
 * set, or the status with resp filled in.
 */
static int
authorize_stream(const struct http_ctx *ctx, const char *remote_user,
    const char *access, const char *cookie, struct stream_req *s,
    struct http_resp *resp)
{
	struct principal	*who = &s->who;
	const char		*tok = NULL;
	char			 text[TOPIC_MAX + 128];
	size_t			 len = 0;
	int			 i, rc, anonymous;

	memset(who, 0, sizeof(*who));
	if (remote_user != NULL && *remote_user != '\0') {
		if (strlen(remote_user) > NAME_MAX_LEN) {
			METRIC_ADD(refused_auth, 1);
			http_error(resp, 403, "REMOTE_USER too long");
			return 403;
		}
		strcpy(who->user, remote_user);
	}
	if (access != NULL && *access != '\0') {
		tok = access;
		len = strlen(access);
	} else if (cookie != NULL && ctx->cfg->token_key[0] != '\0')
		tok = cookie_value(cookie, ctx->cfg->token_cookie, &len);
	if (tok != NULL) {
		struct principal t;

		rc = auth_token_verify(ctx->cfg, tok, len,
		    (int64_t)time(NULL), &t);
		if (rc != AUTH_TOKEN_OK) {
			/* Never taken as anonymous: the client meant to be
			 * someone, and must learn that it is not. */
			METRIC_ADD(refused_auth, 1);
			http_error(resp, 401, auth_token_strerror(rc));
			add_header(resp, "WWW-Authenticate: Bearer"
			    " realm=\"ssereplay\", error=\"invalid_token\"\r\n");
			return 401;
		}
		if (who->user[0] != '\0' && strcmp(who->user, t.user) != 0) {
			METRIC_ADD(refused_auth, 1);
			http_error(resp, 403, "the access token belongs to"
			    " another user than the one signed in");
			return 403;
		}
		*who = t;
		s->expires = t.expires;
	}
	anonymous = who->user[0] == '\0' && !who->from_token;
	for (i = 0; i < s->ntopics; i++) {
		if (auth_may_read(ctx->cfg, who, s->topics[i]))
			continue;
		METRIC_ADD(refused_auth, 1);
		if (anonymous) {
			snprintf(text, sizeof(text), "topic %s is private: sign"
			    " in, or pass an access token", s->topics[i]);
			http_error(resp, 401, text);
			add_header(resp, "WWW-Authenticate: Bearer"
			    " realm=\"ssereplay\"\r\n");
			return 401;
		}
		snprintf(text, sizeof(text), "not allowed to read topic %s",
		    s->topics[i]);
		http_error(resp, 403, text);
		return 403;
	}
	return 0;
}

/* Count one more stream from addr; 0, or the status with resp filled. */
static int
acquire_address(const struct http_ctx *ctx, const char *addr,
    struct stream_req *s, struct http_resp *resp)
{
	int rc;

	rc = quota_stream_acquire(addr, ctx->cfg->max_subscribers_per_address,
	    &s->slot);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		METRIC_ADD(refused_per_address, 1);
		http_error(resp, 429, "too many open streams from this address");
	} else
		http_error(resp, 503, "out of memory");
	add_header(resp, "Retry-After: %lld\r\n",
	    (ctx->cfg->retry_ms + 999) / 1000 + 1);
	return resp->status;
}

/*
 * The query of /events (and of /ws, which also takes token=; token is NULL
 * for /events, else TOKEN_MAX + 1 bytes, "" when absent).
 */
static int
parse_events_query(const char *query, struct stream_req *s, char *token,
    char *access, const char **reason)
{
	struct query_iter it;
	char		 name[32], value[ACCESS_TOKEN_MAX + 1];
	size_t		 nlen, vlen, qlen;
	const char	*q = query ? query : "";
	int		 rc, i, have_query_id = 0;

	qlen = strlen(q);
	if (qlen > QUERY_MAX) {
		METRIC_ADD(refused_header_size, 1);
		*reason = "query string too long";
		return -1;
	}
	query_iter_init(&it, q, qlen);
	while ((rc = query_next(&it, name, sizeof(name), &nlen, value,
	    sizeof(value), &vlen)) == QUERY_OK) {
		if (strcmp(name, "topic") == 0 && nlen == 5) {
			if (!valid_topic(value, vlen)) {
				*reason = "bad topic: 1 to 128 characters of"
				    " A-Z a-z 0-9 . _ / -";
				return -1;
			}
			for (i = 0; i < s->ntopics; i++)
				if (strcmp(s->topics[i], value) == 0)
					break;
			if (i < s->ntopics)
				continue;	/* the same topic twice */
			if (s->ntopics == TOPICS_MAX) {
				METRIC_ADD(refused_topics, 1);
				*reason = "too many topics (at most 16)";
				return -1;
			}
			memcpy(s->topics[s->ntopics++], value, vlen + 1);
		} else if (strcmp(name, "lastEventId") == 0 && nlen == 11) {
			if (have_query_id++) {
				*reason = "lastEventId given twice";
				return -1;
			}
			if (eventid_parse(value, vlen, &s->resume) == -1) {
				*reason = "malformed lastEventId: expected"
				    " EPOCH-SEQ or SEQ";
				return -1;
			}
			s->has_resume = 1;
			memcpy(s->resume_raw, value, vlen + 1);
		} else if (strcmp(name, "access_token") == 0 && nlen == 12) {
			/* A NUL would cut the token short where it is
			 * compared: "secret%00junk" must not pass. */
			if (vlen == 0 || vlen > ACCESS_TOKEN_MAX ||
			    access[0] != '\0' || memchr(value, '\0', vlen)) {
				*reason = "access_token: given twice, empty, too"
				    " long or with a NUL";
				return -1;
			}
			memcpy(access, value, vlen + 1);
		} else if (token != NULL && strcmp(name, "token") == 0 &&
		    nlen == 5) {
			if (vlen == 0 || vlen > TOKEN_MAX || token[0] != '\0' ||
			    memchr(value, '\0', vlen)) {
				*reason = "token: given twice, empty, too long or"
				    " with a NUL";
				return -1;
			}
			memcpy(token, value, vlen + 1);
		} else {
			*reason = token != NULL ? "unknown query parameter"
			    " (expected topic, lastEventId, access_token,"
			    " token)" : "unknown query parameter (expected"
			    " topic, lastEventId, access_token)";
			return -1;
		}
	}
	if (rc != QUERY_END) {
		*reason = rc == QUERY_E_ESCAPE ? "bad %-escape in query" :
		    "query parameter too long";
		return -1;
	}
	if (s->ntopics == 0) {
		*reason = "at least one topic parameter is required";
		return -1;
	}
	return 0;
}

static enum http_next
begin_events(const struct http_ctx *ctx, const struct http_req *req,
    struct http_resp *resp, struct stream_req *s)
{
	const char	*reason = NULL, *origin;
	const char	*h = req->last_event_id;
	char		 access[ACCESS_TOKEN_MAX + 1];
	size_t		 hlen;

	memset(s, 0, sizeof(*s));
	access[0] = '\0';
	if (parse_events_query(req->query, s, NULL, access, &reason) == -1) {
		http_error(resp, 400, reason);
		add_cors(ctx->cfg, req, resp);
		return HTTP_RESPOND;
	}
	/* The header wins over the parameter: it is what a reconnecting
	 * EventSource sends (WHATWG HTML, "reestablish the connection"). */
	if (h != NULL && *h != '\0') {
		hlen = strlen(h);
		if (eventid_parse(h, hlen, &s->resume) == -1) {
			http_error(resp, 400, "malformed Last-Event-ID: expected"
			    " EPOCH-SEQ or SEQ");
			add_cors(ctx->cfg, req, resp);
			return HTTP_RESPOND;
		}
		s->has_resume = 1;
		memcpy(s->resume_raw, h, hlen + 1);
	}
	if (authorize_stream(ctx, req->remote_user, access, req->cookie, s,
	    resp) != 0) {
		add_cors(ctx->cfg, req, resp);
		return HTTP_RESPOND;
	}
	if (METRIC_GET(subscribers) >= ctx->cfg->max_subscribers) {
		METRIC_ADD(refused_subscribers, 1);
		http_error(resp, 503, "too many open streams, try again later");
		add_header(resp, "Retry-After: %lld\r\n",
		    (ctx->cfg->retry_ms + 999) / 1000 + 1);
		add_cors(ctx->cfg, req, resp);
		return HTTP_RESPOND;
	}
	if (acquire_address(ctx, req->remote_addr, s, resp) != 0) {
		add_cors(ctx->cfg, req, resp);
		return HTTP_RESPOND;
	}
	origin = allowed_origin(ctx->cfg, req->origin);
	if (origin != NULL)
		snprintf(s->allow_origin, sizeof(s->allow_origin), "%s", origin);
	return HTTP_STREAM;
}

static void
preflight(const struct http_ctx *ctx, const struct http_req *req,
    struct http_resp *resp, const char *methods)
{
	set_body(resp, 204, NULL, "", 0);
	add_header(resp, "Allow: %s\r\n", methods);
	if (allowed_origin(ctx->cfg, req->origin) == NULL)
		return;	/* no allow header: the browser refuses */
	add_cors(ctx->cfg, req, resp);
	add_header(resp, "Access-Control-Allow-Methods: %s\r\n"
	    "Access-Control-Allow-Headers: Authorization, Content-Type,"
	    " Last-Event-ID\r\n"
	    "Access-Control-Max-Age: 600\r\n", methods);
}

/* POST /disconnect: the operator's (and the demo's) "drop everyone". */
static enum http_next
begin_disconnect(const struct http_ctx *ctx, const struct http_req *req,
    struct http_resp *resp)
{
	const char	*method = req->method ? req->method : "", *tok;
	size_t		 len = 0;

	if (ctx->cfg->admin_token[0] == '\0') {
		http_error(resp, 404, "not found (/disconnect needs admin_token"
		    " in the config)");
		return HTTP_RESPOND;
	}
	if (strcmp(method, "POST") != 0) {
		http_error(resp, 405, "use POST for /disconnect");
		add_header(resp, "Allow: POST\r\n");
		return HTTP_RESPOND;
	}
	if ((tok = bearer_token(req->authorization, &len)) == NULL) {
		http_error(resp, 401, "missing Authorization: Bearer token");
		add_header(resp, "WWW-Authenticate: Bearer realm=\"ssereplay\"\r\n");
		return HTTP_RESPOND;
	}
	if (len > TOKEN_MAX || !secret_eq(tok, len, ctx->cfg->admin_token)) {
		http_error(resp, 403, "token not accepted");
		return HTTP_RESPOND;
	}
	if (ctx->disconnect == NULL) {
		http_error(resp, 501, "not available in CGI mode (each stream"
		    " is its own process)");
		return HTTP_RESPOND;
	}
	ctx->disconnect(ctx->disconnect_arg);
	set_body(resp, 204, NULL, "", 0);
	return HTTP_RESPOND;
}

/* The host[:port] of an origin "scheme://host[:port]". */
static const char *
origin_host(const char *origin)
{
	const char *p = strstr(origin, "://");

	return p != NULL ? p + 3 : origin;
}

enum http_next
http_ws_begin(const struct http_ctx *ctx, const struct ws_handshake *hs,
    struct http_resp *resp, struct stream_req *s)
{
	const char	*reason = NULL, *tok;
	char		 token[TOKEN_MAX + 1], access[ACCESS_TOKEN_MAX + 1];
	size_t		 len = 0;
	int		 i, origin_ok, idx;

	memset(resp, 0, sizeof(*resp));
	memset(s, 0, sizeof(*s));
	token[0] = access[0] = '\0';
	if (strcmp(route_of(hs->path), "ws") != 0) {
		http_error(resp, 404, "not found (the WebSocket endpoint is"
		    " /ws)");
		return HTTP_RESPOND;
	}
	/* A page from another site must not open a socket that carries the
	 * user's cookies: browsers always send Origin, and it must be this
	 * site (the Host the client asked for) or an allowed origin. */
	origin_ok = hs->origin[0] == '\0' ||
	    strcasecmp(origin_host(hs->origin), hs->host) == 0;
	for (i = 0; !origin_ok && i < ctx->cfg->norigins; i++)
		origin_ok = strcmp(ctx->cfg->origins[i], hs->origin) == 0;
	if (!origin_ok) {
		http_error(resp, 403, "origin not allowed (not this site and"
		    " not in cors_origin)");
		return HTTP_RESPOND;
	}
	if (parse_events_query(hs->query, s, token, access, &reason) == -1) {
		http_error(resp, 400, reason);
		return HTTP_RESPOND;
	}
	/* A token may come as a header (non-browser clients) or in the
	 * query (browsers cannot set headers on a WebSocket). */
	tok = bearer_token(hs->authorization[0] ? hs->authorization : NULL,
	    &len);
	if (tok == NULL && token[0] != '\0') {
		tok = token;
		len = strlen(token);
	}
	if (hs->authorization[0] != '\0' && tok == NULL) {
		http_error(resp, 401, strncasecmp(hs->authorization,
		    "Bearer ", 7) == 0 ? "empty Bearer token" :
		    "Authorization must use the Bearer scheme");
		return HTTP_RESPOND;
	}
	if (tok != NULL) {
		/* A wrong token is refused, never taken as anonymous. */
		if ((idx = token_ok(ctx->cfg, tok, len)) == 0) {
			METRIC_ADD(refused_auth, 1);
			http_error(resp, 403, "token not accepted");
			return HTTP_RESPOND;
		}
		s->ws_may_publish = idx;	/* 1 + its index */
	}
	/* No REMOTE_USER here: a proxied header could be forged by the
	 * client; WebSocket identity is the access token. */
	if (authorize_stream(ctx, NULL, access,
	    hs->cookie[0] ? hs->cookie : NULL, s, resp) != 0)
		return HTTP_RESPOND;
	if (METRIC_GET(subscribers) >= ctx->cfg->max_subscribers) {
		METRIC_ADD(refused_subscribers, 1);
		http_error(resp, 503, "too many open streams, try again later");
		add_header(resp, "Retry-After: %lld\r\n",
		    (ctx->cfg->retry_ms + 999) / 1000 + 1);
		return HTTP_RESPOND;
	}
	if (acquire_address(ctx, hs->forwarded_for, s, resp) != 0)
		return HTTP_RESPOND;
	memcpy(s->ws_accept, hs->accept, sizeof(s->ws_accept));
	return HTTP_STREAM;
}

int
http_format_response(const struct http_resp *resp, char *out, size_t outsz)
{
	int n;

	n = snprintf(out, outsz,
	    "HTTP/1.1 %d %s\r\n"
	    "%s%s%s"
	    "%s"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n"
	    "\r\n",
	    resp->status, status_text(resp->status),
	    resp->content_type ? "Content-Type: " : "",
	    resp->content_type ? resp->content_type : "",
	    resp->content_type ? "\r\n" : "",
	    resp->headers, resp->body_len);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
}

enum http_next
http_begin(const struct http_ctx *ctx, const struct http_req *req,
    struct http_resp *resp, struct stream_req *stream, size_t *body_max)
{
	const char	*route = route_of(req->path);
	const char	*method = req->method ? req->method : "";
	char		 text[HTTP_BODY_MAX];
	long long	 clen;
	int64_t		 retry;
	int		 idx;
	char		*end;
	int		 n;

	memset(resp, 0, sizeof(*resp));
	if (strcmp(route, "events") == 0) {
		if (strcmp(method, "OPTIONS") == 0) {
			preflight(ctx, req, resp, "GET, OPTIONS");
			return HTTP_RESPOND;
		}
		if (strcmp(method, "GET") != 0) {
			http_error(resp, 405, "use GET for /events");
			add_header(resp, "Allow: GET, OPTIONS\r\n");
			return HTTP_RESPOND;
		}
		return begin_events(ctx, req, resp, stream);
	}
	if (strcmp(route, "publish") == 0) {
		if (strcmp(method, "OPTIONS") == 0) {
			preflight(ctx, req, resp, "POST, OPTIONS");
			return HTTP_RESPOND;
		}
		if (strcmp(method, "POST") != 0) {
			http_error(resp, 405, "use POST for /publish");
			add_header(resp, "Allow: POST, OPTIONS\r\n");
			add_cors(ctx->cfg, req, resp);
			return HTTP_RESPOND;
		}
		if (check_auth(ctx->cfg, req, resp, &idx) != 0) {
			add_cors(ctx->cfg, req, resp);
			return HTTP_RESPOND;
		}
		if (!quota_publish_allow(idx, ctx->cfg->publish_rate,
		    mono_ms(), &retry)) {
			METRIC_ADD(refused_publish_rate, 1);
			http_error(resp, 429, "publish rate for this token"
			    " exceeded (publish_rate)");
			add_header(resp, "Retry-After: %lld\r\n",
			    (long long)(retry + 999) / 1000);
			add_cors(ctx->cfg, req, resp);
			return HTTP_RESPOND;
		}
		/* Percent-encoding triples a byte and JSON's \u00XX makes six
		 * of it: allow for that before data is measured exactly. */
		*body_max = ctx->cfg->max_event_size * 6 + BODY_OVERHEAD_MAX;
		if (req->content_length != NULL && *req->content_length) {
			clen = strtoll(req->content_length, &end, 10);
			if (*end != '\0' || clen < 0) {
				http_error(resp, 400, "bad Content-Length");
				add_cors(ctx->cfg, req, resp);
				return HTTP_RESPOND;
			}
			if ((unsigned long long)clen > *body_max) {
				METRIC_ADD(refused_body_size, 1);
				http_error(resp, 413, "body too large");
				add_cors(ctx->cfg, req, resp);
				return HTTP_RESPOND;
			}
		}
		return HTTP_READ_BODY;
	}
	if (strcmp(route, "disconnect") == 0)
		return begin_disconnect(ctx, req, resp);
	if (strcmp(route, "metrics") == 0 || strcmp(route, "healthz") == 0) {
		if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
			http_error(resp, 405, "use GET");
			add_header(resp, "Allow: GET, HEAD\r\n");
			return HTTP_RESPOND;
		}
		if (route[0] == 'h') {
			set_body(resp, 200, "text/plain; charset=utf-8", "ok\n",
			    3);
			return HTTP_RESPOND;
		}
		n = metrics_render(text, sizeof(text));
		if (n < 0) {
			http_error(resp, 500, "metrics do not fit");
			return HTTP_RESPOND;
		}
		set_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
		    text, (size_t)n);
		return HTTP_RESPOND;
	}
	http_error(resp, 404, "not found (the API is /events, /publish,"
	    " /metrics, /healthz, /disconnect; WebSocket: /ws)");
	return HTTP_RESPOND;
}

void
http_publish(const struct http_ctx *ctx, const struct http_req *req,
    const char *body, size_t len, struct http_resp *resp)
{
	struct publish_req	 pub;
	const char		*reason = NULL;
	char			 id[EVENT_ID_MAX + 1], json[EVENT_ID_MAX + 16];
	uint64_t		 seq;
	int			 status, n;

	memset(resp, 0, sizeof(*resp));
	status = body_parse_publish(req->content_type, body, len,
	    ctx->cfg->max_event_size, &pub, &reason);
	if (status != 0) {
		if (status == 413)
			METRIC_ADD(refused_event_size, 1);
		http_error(resp, status, reason ? reason : "bad request");
		add_cors(ctx->cfg, req, resp);
		return;
	}
	if (ctx->publish(ctx->publish_arg, &pub, &seq) == -1) {
		http_error(resp, 503, "the event log cannot be written now;"
		    " nothing was stored");
		add_header(resp, "Retry-After: 1\r\n");
	} else {
		eventid_format(id, sizeof(id), ctx->epoch, seq);
		n = snprintf(json, sizeof(json), "{\"id\":\"%s\"}\n", id);
		set_body(resp, 201, "application/json", json, (size_t)n);
	}
	body_free(&pub);
	add_cors(ctx->cfg, req, resp);
}
