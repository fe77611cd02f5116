/*
 * test_http.c: backend/http.c, one named case per rule.
 *
 * http_begin() cases are a table: the request's CGI variables, what must
 * come next (respond, read the body, stream), the status, a piece of the
 * body, headers that must and must not be there, and for streams the
 * validated stream_req. http_publish() runs against a fake publish
 * callback that records what it was given and can be told to fail.
 *
 * The config comes from config_defaults() with fields set directly: two
 * origins, three tokens, a 1 KiB event limit.
 *
 * http_ws_begin() has a table of its own: the handshake fields (path,
 * query, Host, Origin, Authorization) set directly in a struct
 * ws_handshake, and either the refusal or the stream_req it must fill.
 * POST /disconnect runs against a fake disconnect callback that counts its
 * calls; http_format_response() is checked byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "config.h"
#include "http.h"
#include "hub.h"
#include "metrics.h"

#define ORIGIN_A	"https://app.example"
#define ORIGIN_B	"http://localhost:8080"
#define EPOCH		"0badcafe"
#define MAX_EVENT	1024
#define BODY_MAX	(MAX_EVENT * 6 + BODY_OVERHEAD_MAX)
#define FORM		"application/x-www-form-urlencoded"
#define JSON		"application/json"

static struct config	 cfg;
static struct http_ctx	 ctx;

/* The fake publish callback. */
static struct {
	int			 calls;
	int			 fail;
	uint64_t		 next_seq;
	char			 topic[TOPIC_MAX + 1];
	char			 event[EVENT_NAME_MAX + 1];
	char			 data[256];
	size_t			 data_len;
} pub;

static int
fake_publish(void *arg, const struct publish_req *req, uint64_t *seq)
{
	assert_ptr_equal(arg, &pub);
	pub.calls++;
	snprintf(pub.topic, sizeof(pub.topic), "%s", req->topic);
	snprintf(pub.event, sizeof(pub.event), "%s", req->event);
	pub.data_len = req->data_len;
	memcpy(pub.data, req->data,
	    req->data_len < sizeof(pub.data) ? req->data_len : sizeof(pub.data));
	if (pub.fail)
		return -1;
	*seq = pub.next_seq;
	return 0;
}

static int
setup(void **state)
{
	(void)state;
	config_defaults(&cfg);
	strcpy(cfg.origins[0], ORIGIN_A);
	strcpy(cfg.origins[1], ORIGIN_B);
	cfg.norigins = 2;
	strcpy(cfg.tokens[0], "secret1");
	strcpy(cfg.tokens[1], "secret2");
	strcpy(cfg.tokens[2], "tok3");
	cfg.ntokens = 3;
	cfg.max_event_size = MAX_EVENT;
	cfg.retry_ms = 3000;
	cfg.max_subscribers = 100;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg;
	ctx.publish = fake_publish;
	ctx.publish_arg = &pub;
	ctx.epoch = EPOCH;
	memset(&pub, 0, sizeof(pub));
	pub.next_seq = 42;
	METRIC_SET(subscribers, 0);
	return 0;
}

/* Every header line ends in CR LF and has a name; nothing else is there. */
static void
check_headers_wellformed(const struct http_resp *resp)
{
	const char	*p = resp->headers, *end = p + resp->headers_len;
	const char	*crlf;

	assert_int_equal(strlen(resp->headers), resp->headers_len);
	while (p < end) {
		crlf = strstr(p, "\r\n");
		assert_non_null(crlf);
		assert_null(memchr(p, '\n', (size_t)(crlf - p)));
		assert_null(memchr(p, '\r', (size_t)(crlf - p)));
		assert_non_null(memchr(p, ':', (size_t)(crlf - p)));
		p = crlf + 2;
	}
	assert_true(resp->body_len < sizeof(resp->body));
}

static int
has_header(const struct http_resp *resp, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "%s\r\n", line);
	return strncmp(resp->headers, want, strlen(want)) == 0 ||
	    (strstr(resp->headers, want) != NULL &&
	    strstr(resp->headers, want)[-1] == '\n');
}

/* ---- http_begin: the table -------------------------------------------- */

struct hcase {
	const char	*method, *path, *query, *ctype, *clen, *auth, *leid;
	const char	*origin;
	enum http_next	 next;
	int		 status;	/* HTTP_RESPOND */
	const char	*body;		/* a piece of it */
	const char	*ctype_want;
	const char	*has[4];	/* whole header lines */
	const char	*hasnt[3];	/* header name prefixes */
	/* HTTP_STREAM */
	int		 ntopics;
	const char	*topic0, *topic_last;
	int		 has_resume;
	int		 resume_epoch;
	uint64_t	 seq;
	const char	*raw;
	const char	*allow;
};

static void
run_begin(void **state)
{
	const struct hcase	*c = *state;
	struct http_req		 req;
	struct http_resp	*resp;
	struct stream_req	*s;
	size_t			 body_max = 0;
	enum http_next		 next;
	int			 i;

	resp = malloc(sizeof(*resp));
	s = malloc(sizeof(*s));
	assert_non_null(resp);
	assert_non_null(s);
	memset(resp, 0x5a, sizeof(*resp));
	memset(s, 0x5a, sizeof(*s));
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.path = c->path;
	req.query = c->query;
	req.content_type = c->ctype;
	req.content_length = c->clen;
	req.authorization = c->auth;
	req.last_event_id = c->leid;
	req.origin = c->origin;

	next = http_begin(&ctx, &req, resp, s, &body_max);
	assert_int_equal(next, c->next);
	assert_int_equal(pub.calls, 0);
	switch (next) {
	case HTTP_RESPOND:
		assert_int_equal(resp->status, c->status);
		check_headers_wellformed(resp);
		if (c->body != NULL && strstr(resp->body, c->body) == NULL)
			fail_msg("body \"%s\" lacks \"%s\"", resp->body,
			    c->body);
		if (c->ctype_want != NULL) {
			assert_non_null(resp->content_type);
			assert_string_equal(resp->content_type, c->ctype_want);
		}
		break;
	case HTTP_READ_BODY:
		assert_int_equal(body_max, BODY_MAX);
		break;
	case HTTP_STREAM:
		assert_int_equal(s->ntopics, c->ntopics);
		assert_string_equal(s->topics[0], c->topic0);
		assert_string_equal(s->topics[s->ntopics - 1], c->topic_last);
		assert_int_equal(s->has_resume, c->has_resume);
		if (c->has_resume) {
			assert_int_equal(s->resume.seq, c->seq);
			assert_int_equal(s->resume.has_epoch, c->resume_epoch);
			assert_string_equal(s->resume_raw, c->raw);
		}
		assert_string_equal(s->allow_origin,
		    c->allow != NULL ? c->allow : "");
		break;
	}
	if (next != HTTP_STREAM) {
		for (i = 0; i < 4 && c->has[i] != NULL; i++)
			if (!has_header(resp, c->has[i]))
				fail_msg("no header \"%s\" in:\n%s", c->has[i],
				    resp->headers);
		for (i = 0; i < 3 && c->hasnt[i] != NULL; i++)
			if (strstr(resp->headers, c->hasnt[i]) != NULL)
				fail_msg("header \"%s\" must not be in:\n%s",
				    c->hasnt[i], resp->headers);
	}
	free(resp);
	free(s);
}

#define CASE(nm, ...)							\
	{ .name = nm, .test_func = run_begin, .setup_func = setup,	\
	  .initial_state = &(struct hcase){ __VA_ARGS__ } }

#define GET_EVENTS(q)	.method = "GET", .path = "/events", .query = q
#define POST_PUBLISH	.method = "POST", .path = "/publish"
#define BAD400(piece)	.next = HTTP_RESPOND, .status = 400, .body = piece, \
			.ctype_want = "text/plain; charset=utf-8"
#define STREAM1(t)	.next = HTTP_STREAM, .ntopics = 1, .topic0 = t,	\
			.topic_last = t

#define A16	"aaaaaaaaaaaaaaaa"
#define A64	A16 A16 A16 A16
#define A128	A64 A64
#define T8(p)	"topic=" p "1&topic=" p "2&topic=" p "3&topic=" p "4&"	\
		"topic=" p "5&topic=" p "6&topic=" p "7&topic=" p "8"
#define T16	T8("a") "&" T8("b")

#define ACAO_A		"Access-Control-Allow-Origin: " ORIGIN_A
#define ACAO		"Access-Control-Allow-Origin"
#define WWW_AUTH	"WWW-Authenticate: Bearer realm=\"ssereplay\""
#define R_NO_TOPIC	"at least one topic parameter is required"
#define R_BAD_TOPIC	"bad topic"
#define R_MANY		"too many topics (at most 16)"
#define R_UNKNOWN	"unknown query parameter"
#define R_ESCAPE	"bad %-escape in query"
#define R_BAD_ID	"malformed lastEventId"
#define R_BAD_HDR	"malformed Last-Event-ID"


/* ---- /events: the subscriber limit ------------------------------------ */

static void
begin_events(struct http_resp *resp, struct stream_req *s,
    enum http_next want)
{
	struct http_req	 req;
	size_t		 body_max = 0;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/events";
	req.query = "topic=a";
	req.origin = ORIGIN_A;
	assert_int_equal(http_begin(&ctx, &req, resp, s, &body_max), want);
}

static void
test_events_503_at_limit(void **state)
{
	struct http_resp	 resp;
	struct stream_req	 s;

	(void)state;
	cfg.max_subscribers = 5;
	METRIC_SET(subscribers, 4);
	begin_events(&resp, &s, HTTP_STREAM);
	METRIC_SET(subscribers, 5);
	begin_events(&resp, &s, HTTP_RESPOND);
	assert_int_equal(resp.status, 503);
	/* retry 3000 ms: come back in 4 s. */
	assert_true(has_header(&resp, "Retry-After: 4"));
	assert_true(has_header(&resp, ACAO_A));
	check_headers_wellformed(&resp);
	METRIC_SET(subscribers, 9);
	begin_events(&resp, &s, HTTP_RESPOND);
	assert_int_equal(resp.status, 503);
	METRIC_SET(subscribers, 0);
}

/* A bad request is 400 even when full: the client must fix it first. */
static void
test_events_400_before_503(void **state)
{
	struct http_req		 req;
	struct http_resp	 resp;
	struct stream_req	 s;
	size_t			 body_max = 0;

	(void)state;
	cfg.max_subscribers = 1;
	METRIC_SET(subscribers, 1);
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/events";
	req.query = "topic=a*";
	assert_int_equal(http_begin(&ctx, &req, &resp, &s, &body_max),
	    HTTP_RESPOND);
	assert_int_equal(resp.status, 400);
	METRIC_SET(subscribers, 0);
}

/* ---- http_publish ------------------------------------------------------ */

static void
publish(const char *ctype, const char *body, const char *origin,
    struct http_resp *resp)
{
	struct http_req	 req;
	char		*copy;
	size_t		 len = strlen(body);

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/publish";
	req.content_type = ctype;
	req.authorization = "Bearer secret1";
	req.origin = origin;
	/* Exactly len bytes, no NUL after them. */
	copy = malloc(len > 0 ? len : 1);
	assert_non_null(copy);
	memcpy(copy, body, len);
	memset(resp, 0x5a, sizeof(*resp));
	http_publish(&ctx, &req, copy, len, resp);
	free(copy);
	check_headers_wellformed(resp);
}

static void
test_publish_201_json(void **state)
{
	struct http_resp resp;

	(void)state;
	publish(JSON, "{\"topic\":\"news\",\"event\":\"update\","
	    "\"data\":\"hello\"}", NULL, &resp);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.body, "{\"id\":\"" EPOCH "-42\"}\n");
	assert_int_equal(resp.body_len, strlen(resp.body));
	assert_int_equal(pub.calls, 1);
	assert_string_equal(pub.topic, "news");
	assert_string_equal(pub.event, "update");
	assert_int_equal(pub.data_len, 5);
	assert_memory_equal(pub.data, "hello", 5);
	assert_null(strstr(resp.headers, ACAO));
}

static void
test_publish_201_form(void **state)
{
	struct http_resp resp;

	(void)state;
	pub.next_seq = 18446744073709551615ULL >> 1;
	publish(FORM "; charset=utf-8", "topic=a%2Fb&data=x+y%0Az", NULL,
	    &resp);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body,
	    "{\"id\":\"" EPOCH "-9223372036854775807\"}\n");
	assert_string_equal(pub.topic, "a/b");
	assert_string_equal(pub.event, "");
	assert_int_equal(pub.data_len, 5);
	assert_memory_equal(pub.data, "x y\nz", 5);
}

static void
test_publish_201_cors(void **state)
{
	struct http_resp resp;

	(void)state;
	publish(JSON, "{\"topic\":\"a\",\"data\":\"\"}", ORIGIN_B, &resp);
	assert_int_equal(resp.status, 201);
	assert_true(has_header(&resp, "Access-Control-Allow-Origin: "
	    ORIGIN_B));
	assert_true(has_header(&resp, "Access-Control-Allow-Credentials: "
	    "true"));
	assert_true(has_header(&resp, "Vary: Origin"));
	publish(JSON, "{\"topic\":\"a\",\"data\":\"\"}", "https://x.example",
	    &resp);
	assert_int_equal(resp.status, 201);
	assert_null(strstr(resp.headers, ACAO));
}

struct pcase {
	const char	*ctype;
	const char	*body;
	int		 status;
	const char	*reason;
};

static void
run_publish_err(void **state)
{
	const struct pcase	*c = *state;
	struct http_resp	 resp;
	char			 want[256];

	publish(c->ctype, c->body, ORIGIN_A, &resp);
	assert_int_equal(resp.status, c->status);
	assert_int_equal(pub.calls, 0);
	assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
	snprintf(want, sizeof(want), "%s\n", c->reason);
	assert_string_equal(resp.body, want);
	assert_true(has_header(&resp, ACAO_A));
}

#define PERR(nm, ct, body, st, reason)					\
	{ .name = nm, .test_func = run_publish_err, .setup_func = setup,	\
	  .initial_state = &(struct pcase){ ct, body, st, reason } }

#define D1025	A128 A128 A128 A128 A128 A128 A128 A128 "a"


static void
test_publish_503_on_failure(void **state)
{
	struct http_resp resp;

	(void)state;
	pub.fail = 1;
	publish(JSON, "{\"topic\":\"a\",\"data\":\"x\"}", ORIGIN_A, &resp);
	assert_int_equal(resp.status, 503);
	assert_int_equal(pub.calls, 1);
	assert_true(has_header(&resp, "Retry-After: 1"));
	assert_true(has_header(&resp, ACAO_A));
	assert_non_null(strstr(resp.body, "nothing was stored"));
	assert_null(strstr(resp.body, "{\"id\""));
}

/* ---- http_error and http_format_head ---------------------------------- */

static void
test_error_body(void **state)
{
	struct http_resp resp;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	http_error(&resp, 404, "no such thing");
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.content_type, "text/plain; charset=utf-8");
	assert_string_equal(resp.body, "no such thing\n");
	assert_int_equal(resp.body_len, 14);
}

static void
test_error_long_reason(void **state)
{
	struct http_resp	 resp;
	char			 reason[2000];

	(void)state;
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memset(&resp, 0, sizeof(resp));
	http_error(&resp, 400, reason);
	assert_int_equal(resp.status, 400);
	assert_true(resp.body_len < sizeof(resp.body));
	assert_int_equal(strlen(resp.body), resp.body_len);
}

static void
test_head_exact(void **state)
{
	struct http_resp	 resp;
	char			 out[2048];
	static const char	 want[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 3\r\n"
	    "\r\n";
	struct http_req		 req;
	struct stream_req	 s;
	size_t			 body_max;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.path = "/healthz";
	assert_int_equal(http_begin(&ctx, &req, &resp, &s, &body_max),
	    HTTP_RESPOND);
	assert_int_equal(http_format_head(&resp, out, sizeof(out)),
	    (int)sizeof(want) - 1);
	assert_string_equal(out, want);
}

static void
test_head_no_content_type(void **state)
{
	struct http_resp	 resp;
	char			 out[2048];
	struct http_req		 req;
	struct stream_req	 s;
	size_t			 body_max;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.method = "OPTIONS";
	req.path = "/publish";
	assert_int_equal(http_begin(&ctx, &req, &resp, &s, &body_max),
	    HTTP_RESPOND);
	assert_true(http_format_head(&resp, out, sizeof(out)) > 0);
	assert_string_equal(out,
	    "Status: 204 No Content\r\n"
	    "Cache-Control: no-store\r\n"
	    "Allow: POST, OPTIONS\r\n"
	    "Content-Length: 0\r\n"
	    "\r\n");
}

static void
test_head_extra_headers(void **state)
{
	struct http_resp	 resp;
	char			 out[2048];
	struct http_req		 req;
	struct stream_req	 s;
	size_t			 body_max;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/publish";
	req.authorization = "Basic x";
	req.origin = ORIGIN_A;
	assert_int_equal(http_begin(&ctx, &req, &resp, &s, &body_max),
	    HTTP_RESPOND);
	assert_true(http_format_head(&resp, out, sizeof(out)) > 0);
	assert_true(strncmp(out, "Status: 401 Unauthorized\r\n", 26) == 0);
	assert_non_null(strstr(out, "\r\n" WWW_AUTH "\r\n"));
	assert_non_null(strstr(out, "\r\n" ACAO_A "\r\n"));
	/* Content-Length is the body's, and the head ends the headers. */
	{
		char cl[64];

		snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n\r\n",
		    resp.body_len);
		assert_non_null(strstr(out, cl));
		assert_int_equal(strstr(out, "\r\n\r\n") + 4 - out,
		    strlen(out));
	}
}

struct stcase {
	int		 status;
	const char	*line;
};

static void
run_status_line(void **state)
{
	const struct stcase	*c = *state;
	struct http_resp	 resp;
	char			 out[1024];

	memset(&resp, 0, sizeof(resp));
	http_error(&resp, c->status, "x");
	assert_true(http_format_head(&resp, out, sizeof(out)) > 0);
	if (strncmp(out, c->line, strlen(c->line)) != 0 ||
	    strncmp(out + strlen(c->line), "\r\n", 2) != 0)
		fail_msg("head starts \"%.40s\", want \"%s\"", out, c->line);
}

#define ST(nm, st, line)						\
	{ .name = nm, .test_func = run_status_line, .initial_state =	\
	  &(struct stcase){ st, line } }


static void
test_head_small_buffer(void **state)
{
	struct http_resp	 resp;
	char			 out[1024];
	int			 n;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	http_error(&resp, 400, "bad");
	n = http_format_head(&resp, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_int_equal(http_format_head(&resp, out, (size_t)n + 1), n);
	assert_int_equal(http_format_head(&resp, out, (size_t)n), -1);
	assert_int_equal(http_format_head(&resp, out, 10), -1);
}

/* ---- http_ws_begin: the table ----------------------------------------- */

/*
 * A handshake that wshandshake.c found well-formed, as http_ws_begin()
 * gets it: the fields are set directly. Unless a case says otherwise the
 * client asked for Host WS_HOST and sent no Origin.
 */
#define WS_HOST		"ws.example:8443"
#define WS_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define R_ORIGIN	"origin not allowed"
#define R_TOKEN_TWICE	"token: given twice, empty, too long or with a NUL"

struct wcase {
	const char	*path, *query, *host, *origin, *auth;
	enum http_next	 next;
	int		 status;	/* HTTP_RESPOND */
	const char	*body;		/* a piece of it */
	const char	*has[2];	/* whole header lines */
	/* HTTP_STREAM */
	int		 may_publish;
	int		 ntopics;
	const char	*topic0;
	int		 has_resume;
	uint64_t	 seq;
	const char	*raw;
};

/* Static, not allocated: a failed assertion must not leak them. */
static struct ws_handshake	 ws_hs;
static struct http_resp		 ws_resp;
static struct stream_req	 ws_stream;

static struct ws_handshake *
make_hs(const char *path, const char *query, const char *host,
    const char *origin, const char *auth)
{
	struct ws_handshake *hs = &ws_hs;

	memset(hs, 0, sizeof(*hs));
	snprintf(hs->path, sizeof(hs->path), "%s", path ? path : "/ws");
	snprintf(hs->query, sizeof(hs->query), "%s", query ? query : "");
	snprintf(hs->host, sizeof(hs->host), "%s", host ? host : WS_HOST);
	snprintf(hs->origin, sizeof(hs->origin), "%s", origin ? origin : "");
	snprintf(hs->authorization, sizeof(hs->authorization), "%s",
	    auth ? auth : "");
	memcpy(hs->accept, WS_ACCEPT, sizeof(WS_ACCEPT));
	return hs;
}

/* http_ws_begin() on hs into fresh (poisoned) resp and s. */
static enum http_next
ws_begin(const struct ws_handshake *hs, struct http_resp **resp,
    struct stream_req **s)
{
	*resp = &ws_resp;
	*s = &ws_stream;
	memset(*resp, 0x5a, sizeof(**resp));
	memset(*s, 0x5a, sizeof(**s));
	return http_ws_begin(&ctx, hs, *resp, *s);
}

static void
run_ws(void **state)
{
	const struct wcase	*c = *state;
	struct ws_handshake	*hs;
	struct http_resp	*resp;
	struct stream_req	*s;
	enum http_next		 next;
	int			 i;

	hs = make_hs(c->path, c->query, c->host, c->origin, c->auth);
	next = ws_begin(hs, &resp, &s);
	if (next != c->next && next == HTTP_RESPOND)
		fail_msg("responds %d (%s), want a stream", resp->status,
		    resp->body);
	if (next != c->next)
		fail_msg("streams (ws_may_publish %d), want %d",
		    s->ws_may_publish, c->status);
	if (next == HTTP_RESPOND) {
		assert_int_equal(resp->status, c->status);
		check_headers_wellformed(resp);
		assert_string_equal(resp->content_type,
		    "text/plain; charset=utf-8");
		if (c->body != NULL && strstr(resp->body, c->body) == NULL)
			fail_msg("body \"%s\" lacks \"%s\"", resp->body,
			    c->body);
		for (i = 0; i < 2 && c->has[i] != NULL; i++)
			if (!has_header(resp, c->has[i]))
				fail_msg("no header \"%s\" in:\n%s", c->has[i],
				    resp->headers);
	} else {
		assert_int_equal(s->ntopics, c->ntopics);
		assert_string_equal(s->topics[0], c->topic0);
		assert_int_equal(s->ws_may_publish, c->may_publish);
		assert_int_equal(s->has_resume, c->has_resume);
		if (c->has_resume) {
			assert_int_equal(s->resume.seq, c->seq);
			assert_string_equal(s->resume_raw, c->raw);
		}
		/* The handshake's answer travels with the stream. */
		assert_string_equal(s->ws_accept, WS_ACCEPT);
		assert_null(s->slot);
		assert_int_equal(s->expires, 0);
	}
}

#define WS(nm, ...)							\
	{ .name = nm, .test_func = run_ws, .setup_func = setup,		\
	  .initial_state = &(struct wcase){ __VA_ARGS__ } }
#define WS_STREAM(t)	.next = HTTP_STREAM, .ntopics = 1, .topic0 = t
#define WS_REFUSE(st, piece)	.next = HTTP_RESPOND, .status = st,	\
			.body = piece

/* "*" is not special for WebSocket: any page opening a socket with the
 * user's cookies is what the Origin check is there to stop. */
static void
test_ws_origin_star(void **state)
{
	struct ws_handshake	*hs;
	struct http_resp	*resp;
	struct stream_req	*s;

	(void)state;
	hs = make_hs("/ws", "topic=a", NULL, "https://evil.example", NULL);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 403);
	strcpy(cfg.origins[cfg.norigins++], "*");
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 403);
}

/* max_subscribers open: 503 with Retry-After, as for /events. */
static void
test_ws_503_at_limit(void **state)
{
	struct ws_handshake	*hs;
	struct http_resp	*resp;
	struct stream_req	*s;

	(void)state;
	cfg.max_subscribers = 5;
	hs = make_hs("/ws", "topic=a", NULL, NULL, NULL);
	METRIC_SET(subscribers, 4);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_STREAM);
	METRIC_SET(subscribers, 5);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 503);
	/* retry 3000 ms: come back in 4 s. */
	assert_true(has_header(resp, "Retry-After: 4"));
	check_headers_wellformed(resp);
	METRIC_SET(subscribers, 6);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 503);
	/* A bad request is 400 even when full. */
	snprintf(hs->query, sizeof(hs->query), "topic=a*");
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 400);
	METRIC_SET(subscribers, 0);
}

/* A refused token is counted (ssereplay_refusals_total{reason="auth"}). */
static void
test_ws_wrong_token_counted(void **state)
{
	struct ws_handshake	*hs;
	struct http_resp	*resp;
	struct stream_req	*s;
	unsigned long long	 before = METRIC_GET(refused_auth);

	(void)state;
	hs = make_hs("/ws", "topic=a&token=nope", NULL, NULL, NULL);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	assert_int_equal(resp->status, 403);
	assert_true(METRIC_GET(refused_auth) == before + 1);
}

/* ---- POST /disconnect -------------------------------------------------- */

#define ADMIN	"adm1n-t0ken"

static struct {
	int	 calls;
	void	*arg;
} disc;

static void
fake_disconnect(void *arg)
{
	disc.calls++;
	disc.arg = arg;
}

struct dcase {
	const char	*admin;		/* admin_token, NULL: none */
	int		 no_callback;	/* ctx.disconnect NULL (CGI) */
	const char	*method, *path, *auth;
	int		 status;
	const char	*has;		/* a whole header line */
	int		 calls;		/* disconnect calls expected */
};

static void
run_disconnect(void **state)
{
	const struct dcase	*c = *state;
	struct http_req		 req;
	struct http_resp	*resp;
	struct stream_req	*s;
	size_t			 body_max = 0;

	memset(&disc, 0, sizeof(disc));
	if (c->admin != NULL)
		snprintf(cfg.admin_token, sizeof(cfg.admin_token), "%s",
		    c->admin);
	if (!c->no_callback) {
		ctx.disconnect = fake_disconnect;
		ctx.disconnect_arg = &disc;
	}
	resp = &ws_resp;
	s = &ws_stream;
	memset(resp, 0x5a, sizeof(*resp));
	memset(&req, 0, sizeof(req));
	req.method = c->method;
	req.path = c->path ? c->path : "/disconnect";
	req.authorization = c->auth;
	assert_int_equal(http_begin(&ctx, &req, resp, s, &body_max),
	    HTTP_RESPOND);
	assert_int_equal(resp->status, c->status);
	check_headers_wellformed(resp);
	if (c->has != NULL && !has_header(resp, c->has))
		fail_msg("no header \"%s\" in:\n%s", c->has, resp->headers);
	assert_int_equal(disc.calls, c->calls);
	if (c->calls > 0) {
		assert_ptr_equal(disc.arg, &disc);
		assert_int_equal(resp->body_len, 0);
		assert_null(resp->content_type);
	}
	assert_int_equal(pub.calls, 0);
}

#define DC(nm, ...)							\
	{ .name = nm, .test_func = run_disconnect, .setup_func = setup,	\
	  .initial_state = &(struct dcase){ __VA_ARGS__ } }

/* ---- http_format_response ---------------------------------------------- */

static void
test_response_exact(void **state)
{
	struct http_resp	 resp;
	char			 out[2048];
	static const char	 want[] =
	    "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 5\r\n"
	    "Connection: close\r\n"
	    "\r\n";

	(void)state;
	memset(&resp, 0, sizeof(resp));
	http_error(&resp, 403, "nope");
	assert_int_equal(http_format_response(&resp, out, sizeof(out)),
	    (int)sizeof(want) - 1);
	assert_string_equal(out, want);
}

static void
test_response_no_content_type(void **state)
{
	struct http_resp	 resp;
	char			 out[2048];

	(void)state;
	memset(&resp, 0, sizeof(resp));
	resp.status = 204;
	assert_true(http_format_response(&resp, out, sizeof(out)) > 0);
	assert_string_equal(out,
	    "HTTP/1.1 204 No Content\r\n"
	    "Content-Length: 0\r\n"
	    "Connection: close\r\n"
	    "\r\n");
}

/* A refused handshake as it goes on the wire: extra headers in between,
 * the length of the body, the head ending at the blank line. */
static void
test_response_from_ws_503(void **state)
{
	struct ws_handshake	*hs;
	struct http_resp	*resp;
	struct stream_req	*s;
	char			 out[2048], cl[64];
	int			 n;

	(void)state;
	cfg.max_subscribers = 1;
	METRIC_SET(subscribers, 1);
	hs = make_hs("/ws", "topic=a", NULL, NULL, NULL);
	assert_int_equal(ws_begin(hs, &resp, &s), HTTP_RESPOND);
	METRIC_SET(subscribers, 0);
	n = http_format_response(resp, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_true(strncmp(out, "HTTP/1.1 503 Service Unavailable\r\n",
	    34) == 0);
	assert_non_null(strstr(out, "\r\nRetry-After: 4\r\n"));
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n",
	    resp->body_len);
	assert_non_null(strstr(out, cl));
	assert_non_null(strstr(out, "\r\nConnection: close\r\n\r\n"));
	assert_int_equal(strstr(out, "\r\n\r\n") + 4 - out, n);
	assert_null(strstr(out, "Status:"));
}

static void
test_response_small_buffer(void **state)
{
	struct http_resp	 resp;
	char			 out[1024];
	int			 n;

	(void)state;
	memset(&resp, 0, sizeof(resp));
	http_error(&resp, 400, "bad");
	n = http_format_response(&resp, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(http_format_response(&resp, out, (size_t)n + 1), n);
	assert_int_equal(http_format_response(&resp, out, (size_t)n), -1);
	assert_int_equal(http_format_response(&resp, out, 10), -1);
}

static void
run_response_line(void **state)
{
	const struct stcase	*c = *state;
	struct http_resp	 resp;
	char			 out[1024];

	memset(&resp, 0, sizeof(resp));
	http_error(&resp, c->status, "x");
	assert_true(http_format_response(&resp, out, sizeof(out)) > 0);
	if (strncmp(out, c->line, strlen(c->line)) != 0 ||
	    strncmp(out + strlen(c->line), "\r\n", 2) != 0)
		fail_msg("head starts \"%.40s\", want \"%s\"", out, c->line);
}

#define RL(nm, st, line)						\
	{ .name = nm, .test_func = run_response_line, .initial_state =	\
	  &(struct stcase){ st, line } }

#define T(fn) cmocka_unit_test_setup(fn, setup)

static const struct CMUnitTest tests[] = {
	/* GET /events: topics. */
	CASE("events: no query is 400", GET_EVENTS(NULL), BAD400(R_NO_TOPIC)),
	CASE("events: empty query is 400", GET_EVENTS(""),
	    BAD400(R_NO_TOPIC)),
	CASE("events: only lastEventId is 400", GET_EVENTS("lastEventId=0"),
	    BAD400(R_NO_TOPIC)),
	CASE("events: one topic streams", GET_EVENTS("topic=news"),
	    STREAM1("news")),
	CASE("events: topic alphabet", GET_EVENTS("topic=A-z_0.9%2Fx"),
	    STREAM1("A-z_0.9/x")),
	CASE("events: 16 topics stream", GET_EVENTS(T16),
	    .next = HTTP_STREAM, .ntopics = 16, .topic0 = "a1",
	    .topic_last = "b8"),
	CASE("events: 17 topics are 400", GET_EVENTS(T16 "&topic=c"),
	    BAD400(R_MANY)),
	CASE("events: duplicate topics collapse",
	    GET_EVENTS(T16 "&topic=a1&topic=b8&topic=a5"),
	    .next = HTTP_STREAM, .ntopics = 16, .topic0 = "a1",
	    .topic_last = "b8"),
	CASE("events: same topic twice is one",
	    GET_EVENTS("topic=x&topic=x"), STREAM1("x")),
	CASE("events: space in topic is 400", GET_EVENTS("topic=a+b"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: star in topic is 400", GET_EVENTS("topic=a*b"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: colon in topic is 400", GET_EVENTS("topic=a:b"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: NUL in topic is 400", GET_EVENTS("topic=a%00b"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: non-ASCII topic is 400", GET_EVENTS("topic=%C3%A9"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: empty topic is 400", GET_EVENTS("topic="),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: bare topic is 400", GET_EVENTS("topic"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: 128-char topic streams", GET_EVENTS("topic=" A128),
	    STREAM1(A128)),
	CASE("events: 129-char topic is 400", GET_EVENTS("topic=" A128 "a"),
	    BAD400(R_BAD_TOPIC)),
	CASE("events: 256-char topic is 400",
	    GET_EVENTS("topic=" A128 A128), BAD400("")),
	CASE("events: unknown parameter is 400",
	    GET_EVENTS("topic=a&since=5"), BAD400(R_UNKNOWN)),
	CASE("events: parameter names are case-sensitive",
	    GET_EVENTS("Topic=a"), BAD400(R_UNKNOWN)),
	CASE("events: NUL after the name is unknown",
	    GET_EVENTS("topic%00=a"), BAD400(R_UNKNOWN)),
	CASE("events: long parameter name is 400",
	    GET_EVENTS("topic=a&" A64 "=1"), BAD400("")),
	CASE("events: bad escape is 400", GET_EVENTS("topic=%zz"),
	    BAD400(R_ESCAPE)),
	CASE("events: cut escape is 400", GET_EVENTS("topic=a%4"),
	    BAD400(R_ESCAPE)),
	CASE("events: query over QUERY_MAX is 400",
	    GET_EVENTS("topic=a&" A128 A128 A128 A128 A128 A128 A128 A128
	    A128 A128 A128 A128 A128 A128 A128 A128 A128 A128 A128 A128
	    A128 A128 A128 A128 A128 A128 A128 A128 A128 A128 A128 A128),
	    BAD400("query string too long")),

	/* GET /events: the resume point. */
	CASE("events: no resume point is live only", GET_EVENTS("topic=a"),
	    STREAM1("a"), .has_resume = 0),
	CASE("events: lastEventId=0", GET_EVENTS("topic=a&lastEventId=0"),
	    STREAM1("a"), .has_resume = 1, .seq = 0, .raw = "0"),
	CASE("events: lastEventId full id",
	    GET_EVENTS("lastEventId=" EPOCH "-17&topic=a"), STREAM1("a"),
	    .has_resume = 1, .resume_epoch = 1, .seq = 17,
	    .raw = EPOCH "-17"),
	CASE("events: lastEventId letters are 400",
	    GET_EVENTS("topic=a&lastEventId=abc"), BAD400(R_BAD_ID)),
	CASE("events: lastEventId negative is 400",
	    GET_EVENTS("topic=a&lastEventId=-1"), BAD400(R_BAD_ID)),
	CASE("events: lastEventId empty is 400",
	    GET_EVENTS("topic=a&lastEventId="), BAD400(R_BAD_ID)),
	CASE("events: lastEventId short epoch is 400",
	    GET_EVENTS("topic=a&lastEventId=abc-1"), BAD400(R_BAD_ID)),
	CASE("events: lastEventId twice is 400",
	    GET_EVENTS("topic=a&lastEventId=1&lastEventId=2"),
	    BAD400("lastEventId given twice")),
	CASE("events: Last-Event-ID header", GET_EVENTS("topic=a"),
	    .leid = EPOCH "-9", STREAM1("a"), .has_resume = 1,
	    .resume_epoch = 1, .seq = 9, .raw = EPOCH "-9"),
	CASE("events: Last-Event-ID bare seq", GET_EVENTS("topic=a"),
	    .leid = "12", STREAM1("a"), .has_resume = 1, .seq = 12,
	    .raw = "12"),
	CASE("events: malformed Last-Event-ID is 400",
	    GET_EVENTS("topic=a"), .leid = "12x", BAD400(R_BAD_HDR)),
	CASE("events: Last-Event-ID with space is 400",
	    GET_EVENTS("topic=a"), .leid = " 12", BAD400(R_BAD_HDR)),
	CASE("events: overlong Last-Event-ID is 400",
	    GET_EVENTS("topic=a"), .leid = A128, BAD400(R_BAD_HDR)),
	CASE("events: header wins over parameter",
	    GET_EVENTS("topic=a&lastEventId=5"), .leid = "7", STREAM1("a"),
	    .has_resume = 1, .seq = 7, .raw = "7"),
	CASE("events: empty header leaves the parameter",
	    GET_EVENTS("topic=a&lastEventId=5"), .leid = "", STREAM1("a"),
	    .has_resume = 1, .seq = 5, .raw = "5"),

	/* /events: methods. */
	CASE("events: POST is 405 with Allow", .method = "POST",
	    .path = "/events", .query = "topic=a", .next = HTTP_RESPOND,
	    .status = 405, .has = { "Allow: GET, OPTIONS" }),
	CASE("events: HEAD is 405", .method = "HEAD", .path = "/events",
	    .query = "topic=a", .next = HTTP_RESPOND, .status = 405,
	    .has = { "Allow: GET, OPTIONS" }),
	CASE("events: no method is 405", .path = "/events",
	    .query = "topic=a", .next = HTTP_RESPOND, .status = 405),
	CASE("events: preflight from an allowed origin", .method = "OPTIONS",
	    .path = "/events", .origin = ORIGIN_B, .next = HTTP_RESPOND,
	    .status = 204, .has = { "Allow: GET, OPTIONS",
	    "Access-Control-Allow-Origin: " ORIGIN_B,
	    "Access-Control-Allow-Methods: GET, OPTIONS",
	    "Access-Control-Allow-Headers: Authorization, Content-Type,"
	    " Last-Event-ID" }),
	CASE("events: preflight from another origin", .method = "OPTIONS",
	    .path = "/events", .origin = "https://evil.example",
	    .next = HTTP_RESPOND, .status = 204,
	    .has = { "Allow: GET, OPTIONS" },
	    .hasnt = { "Access-Control-" }),
	CASE("events: preflight without origin", .method = "OPTIONS",
	    .path = "/events", .next = HTTP_RESPOND, .status = 204,
	    .has = { "Allow: GET, OPTIONS" },
	    .hasnt = { "Access-Control-" }),

	/* /events: CORS. */
	CASE("events: stream from an allowed origin",
	    GET_EVENTS("topic=a"), .origin = ORIGIN_A, STREAM1("a"),
	    .allow = ORIGIN_A),
	CASE("events: stream from another origin", GET_EVENTS("topic=a"),
	    .origin = "https://evil.example", STREAM1("a"), .allow = ""),
	CASE("events: origin must match exactly", GET_EVENTS("topic=a"),
	    .origin = ORIGIN_A ".evil", STREAM1("a"), .allow = ""),
	CASE("events: origin prefix does not match", GET_EVENTS("topic=a"),
	    .origin = "https://app.exampl", STREAM1("a"), .allow = ""),
	CASE("events: 400 from an allowed origin has CORS",
	    GET_EVENTS("topic="), .origin = ORIGIN_A, BAD400(R_BAD_TOPIC),
	    .has = { ACAO_A, "Vary: Origin" }),
	CASE("events: 400 from another origin has no CORS",
	    GET_EVENTS("topic="), .origin = "https://evil.example",
	    BAD400(R_BAD_TOPIC), .hasnt = { ACAO }),
	CASE("events: 400 without origin has no CORS",
	    GET_EVENTS("topic="), BAD400(R_BAD_TOPIC), .hasnt = { ACAO }),

	/* POST /publish. */
	CASE("publish: GET is 405 with Allow", .method = "GET",
	    .path = "/publish", .next = HTTP_RESPOND, .status = 405,
	    .has = { "Allow: POST, OPTIONS" }),
	CASE("publish: no Authorization is 401", POST_PUBLISH,
	    .next = HTTP_RESPOND, .status = 401, .has = { WWW_AUTH }),
	CASE("publish: empty Authorization is 401", POST_PUBLISH,
	    .auth = "", .next = HTTP_RESPOND, .status = 401,
	    .has = { WWW_AUTH }),
	CASE("publish: Basic is 401", POST_PUBLISH,
	    .auth = "Basic dXNlcjpwYXNz", .next = HTTP_RESPOND,
	    .status = 401, .has = { WWW_AUTH }),
	CASE("publish: Bearer without space is 401", POST_PUBLISH,
	    .auth = "Bearersecret1", .next = HTTP_RESPOND, .status = 401,
	    .has = { WWW_AUTH }),
	CASE("publish: wrong token is 403", POST_PUBLISH,
	    .auth = "Bearer nope", .next = HTTP_RESPOND, .status = 403,
	    .hasnt = { "WWW-Authenticate" }),
	CASE("publish: empty token is 403", POST_PUBLISH,
	    .auth = "Bearer ", .next = HTTP_RESPOND, .status = 403),
	CASE("publish: token prefix is 403", POST_PUBLISH,
	    .auth = "Bearer secret", .next = HTTP_RESPOND, .status = 403),
	CASE("publish: token plus a byte is 403", POST_PUBLISH,
	    .auth = "Bearer secret1x", .next = HTTP_RESPOND, .status = 403),
	CASE("publish: token case matters", POST_PUBLISH,
	    .auth = "Bearer SECRET1", .next = HTTP_RESPOND, .status = 403),
	CASE("publish: overlong token is 403", POST_PUBLISH,
	    .auth = "Bearer " A128 A128 "a", .next = HTTP_RESPOND,
	    .status = 403),
	CASE("publish: first token", POST_PUBLISH, .auth = "Bearer secret1",
	    .next = HTTP_READ_BODY),
	CASE("publish: right token among several", POST_PUBLISH,
	    .auth = "Bearer tok3", .next = HTTP_READ_BODY),
	CASE("publish: scheme is case-insensitive", POST_PUBLISH,
	    .auth = "bearer secret2", .next = HTTP_READ_BODY),
	CASE("publish: spaces around the token", POST_PUBLISH,
	    .auth = "Bearer   secret2  ", .next = HTTP_READ_BODY),
	CASE("publish: 401 from an allowed origin has CORS", POST_PUBLISH,
	    .origin = ORIGIN_A, .next = HTTP_RESPOND, .status = 401,
	    .has = { WWW_AUTH, ACAO_A }),
	CASE("publish: Content-Length over the limit is 413", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "10241", .next = HTTP_RESPOND,
	    .status = 413),
	CASE("publish: huge Content-Length is 413", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "99999999999999999999999",
	    .next = HTTP_RESPOND, .status = 413),
	CASE("publish: Content-Length at the limit", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "10240",
	    .next = HTTP_READ_BODY),
	CASE("publish: Content-Length 0 reads", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "0", .next = HTTP_READ_BODY),
	CASE("publish: Content-Length letters is 400", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "12a", .next = HTTP_RESPOND,
	    .status = 400),
	CASE("publish: negative Content-Length is 400", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "-1", .next = HTTP_RESPOND,
	    .status = 400),
	CASE("publish: 413 from an allowed origin has CORS", POST_PUBLISH,
	    .auth = "Bearer secret1", .clen = "10241", .origin = ORIGIN_A,
	    .next = HTTP_RESPOND, .status = 413, .has = { ACAO_A }),
	CASE("publish: 403 comes before 413", POST_PUBLISH,
	    .auth = "Bearer nope", .clen = "99999999", .next = HTTP_RESPOND,
	    .status = 403),
	CASE("publish: preflight from an allowed origin",
	    .method = "OPTIONS", .path = "/publish", .origin = ORIGIN_A,
	    .next = HTTP_RESPOND, .status = 204,
	    .has = { "Allow: POST, OPTIONS", ACAO_A,
	    "Access-Control-Allow-Methods: POST, OPTIONS" }),
	CASE("publish: preflight from another origin", .method = "OPTIONS",
	    .path = "/publish", .origin = "https://evil.example",
	    .next = HTTP_RESPOND, .status = 204,
	    .has = { "Allow: POST, OPTIONS" },
	    .hasnt = { "Access-Control-" }),

	/* /metrics, /healthz, 404. */
	CASE("metrics: GET is Prometheus text", .method = "GET",
	    .path = "/metrics", .next = HTTP_RESPOND, .status = 200,
	    .ctype_want = "text/plain; version=0.0.4; charset=utf-8",
	    .body = "# TYPE ssereplay_subscribers gauge\n"),
	CASE("metrics: HEAD is 200", .method = "HEAD", .path = "/metrics",
	    .next = HTTP_RESPOND, .status = 200),
	CASE("metrics: POST is 405", .method = "POST", .path = "/metrics",
	    .next = HTTP_RESPOND, .status = 405,
	    .has = { "Allow: GET, HEAD" }),
	CASE("healthz: GET is ok", .method = "GET", .path = "/healthz",
	    .next = HTTP_RESPOND, .status = 200, .body = "ok\n",
	    .ctype_want = "text/plain; charset=utf-8"),
	CASE("healthz: DELETE is 405", .method = "DELETE",
	    .path = "/healthz", .next = HTTP_RESPOND, .status = 405),
	CASE("404: root", .method = "GET", .path = "/",
	    .next = HTTP_RESPOND, .status = 404, .body = "not found"),
	CASE("404: unknown route", .method = "GET", .path = "/stream",
	    .next = HTTP_RESPOND, .status = 404),
	CASE("404: route with a suffix", .method = "GET",
	    .path = "/eventsx", .query = "topic=a", .next = HTTP_RESPOND,
	    .status = 404),
	CASE("404: route as a prefix segment", .method = "GET",
	    .path = "/events/more", .query = "topic=a",
	    .next = HTTP_RESPOND, .status = 404),
	CASE("404: no path", .method = "GET", .next = HTTP_RESPOND,
	    .status = 404),
	CASE("404: empty path", .method = "GET", .path = "",
	    .next = HTTP_RESPOND, .status = 404),

	/* Mounted under a prefix. */
	CASE("prefix: /api/events streams", .method = "GET",
	    .path = "/api/events", .query = "topic=a", STREAM1("a")),
	CASE("prefix: /api/events validates", .method = "GET",
	    .path = "/api/events", .query = "", BAD400(R_NO_TOPIC)),
	CASE("prefix: /a/b/publish reads", .method = "POST",
	    .path = "/a/b/publish", .auth = "Bearer secret1",
	    .next = HTTP_READ_BODY),
	CASE("prefix: /api/metrics", .method = "GET", .path = "/api/metrics",
	    .next = HTTP_RESPOND, .status = 200,
	    .ctype_want = "text/plain; version=0.0.4; charset=utf-8"),
	CASE("prefix: /x/healthz", .method = "GET", .path = "/x/healthz",
	    .next = HTTP_RESPOND, .status = 200, .body = "ok\n"),
	PERR("publish: invalid JSON is 400", JSON, "{\"topic\":", 400,
	    "invalid JSON"),
	PERR("publish: missing topic is 400", JSON, "{\"data\":\"x\"}", 400,
	    "missing field: topic"),
	PERR("publish: bad topic is 400", FORM, "topic=a*b&data=x", 400,
	    "bad topic: 1 to 128 bytes of A-Z a-z 0-9 . _ / -"),
	PERR("publish: empty JSON body is 400", JSON, "", 400,
	    "invalid JSON"),
	PERR("publish: empty form body is 400", FORM, "", 400,
	    "missing field: topic"),
	PERR("publish: data over max_event_size is 413", FORM,
	    "topic=a&data=" D1025, 413, "data too large"),
	PERR("publish: text/plain is 415", "text/plain", "hello", 415,
	    "unsupported Content-Type: use "
	    "application/x-www-form-urlencoded or application/json"),
	PERR("publish: no Content-Type is 415", NULL, "topic=a&data=x", 415,
	    "unsupported Content-Type: use "
	    "application/x-www-form-urlencoded or application/json"),
	ST("status: 200", 200, "Status: 200 OK"),
	ST("status: 201", 201, "Status: 201 Created"),
	ST("status: 204", 204, "Status: 204 No Content"),
	ST("status: 400", 400, "Status: 400 Bad Request"),
	ST("status: 401", 401, "Status: 401 Unauthorized"),
	ST("status: 403", 403, "Status: 403 Forbidden"),
	ST("status: 404", 404, "Status: 404 Not Found"),
	ST("status: 405", 405, "Status: 405 Method Not Allowed"),
	ST("status: 413", 413, "Status: 413 Content Too Large"),
	ST("status: 415", 415, "Status: 415 Unsupported Media Type"),
	ST("status: 500", 500, "Status: 500 Internal Server Error"),
	ST("status: 503", 503, "Status: 503 Service Unavailable"),
	T(test_events_503_at_limit),
	T(test_events_400_before_503),
	T(test_publish_201_json),
	T(test_publish_201_form),
	T(test_publish_201_cors),
	T(test_publish_503_on_failure),
	T(test_error_body),
	T(test_error_long_reason),
	T(test_head_exact),
	T(test_head_no_content_type),
	T(test_head_extra_headers),
	T(test_head_small_buffer),
	/* WebSocket handshakes (http_ws_begin): the route. */
	WS("ws: /ws streams", .query = "topic=a", WS_STREAM("a")),
	WS("ws: /prefix/ws streams", .path = "/api/ws", .query = "topic=a",
	    WS_STREAM("a")),
	WS("ws: deep prefix streams", .path = "/a/b/c/ws", .query = "topic=a",
	    WS_STREAM("a")),
	WS("ws: /events is 404", .path = "/events", .query = "topic=a",
	    WS_REFUSE(404, "/ws")),
	WS("ws: /wsx is 404", .path = "/wsx", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: /xws is 404", .path = "/xws", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: /ws/ is 404", .path = "/ws/", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: /ws/more is 404", .path = "/ws/more", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: / is 404", .path = "/", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: route is case-sensitive", .path = "/WS", .query = "topic=a",
	    WS_REFUSE(404, NULL)),
	WS("ws: 404 before a bad query", .path = "/nope", .query = "",
	    WS_REFUSE(404, NULL)),

	/* WebSocket: Origin. */
	WS("ws: no Origin streams", .query = "topic=a", WS_STREAM("a")),
	WS("ws: this site's origin (https)", .query = "topic=a",
	    .origin = "https://" WS_HOST, WS_STREAM("a")),
	WS("ws: this site's origin (http)", .query = "topic=a",
	    .origin = "http://" WS_HOST, WS_STREAM("a")),
	WS("ws: origin host case-insensitive", .query = "topic=a",
	    .origin = "https://WS.Example:8443", WS_STREAM("a")),
	WS("ws: Host case-insensitive", .query = "topic=a",
	    .host = "WS.EXAMPLE:8443", .origin = "https://ws.example:8443",
	    WS_STREAM("a")),
	WS("ws: origin without the port is 403", .query = "topic=a",
	    .origin = "https://ws.example", WS_REFUSE(403, R_ORIGIN)),
	WS("ws: origin with another port is 403", .query = "topic=a",
	    .origin = "https://ws.example:8444", WS_REFUSE(403, R_ORIGIN)),
	WS("ws: origin with a port Host lacks is 403", .query = "topic=a",
	    .host = "ws.example", .origin = "https://ws.example:8443",
	    WS_REFUSE(403, R_ORIGIN)),
	WS("ws: other origin is 403", .query = "topic=a",
	    .origin = "https://evil.example", WS_REFUSE(403, R_ORIGIN)),
	WS("ws: Host as a prefix of the origin is 403", .query = "topic=a",
	    .origin = "https://" WS_HOST ".evil.example",
	    WS_REFUSE(403, R_ORIGIN)),
	WS("ws: Host as a suffix of the origin is 403", .query = "topic=a",
	    .origin = "https://evil." WS_HOST, WS_REFUSE(403, R_ORIGIN)),
	WS("ws: origin null is 403", .query = "topic=a", .origin = "null",
	    WS_REFUSE(403, R_ORIGIN)),
	WS("ws: origin in cors_origin streams", .query = "topic=a",
	    .origin = ORIGIN_A, WS_STREAM("a")),
	WS("ws: second cors_origin streams", .query = "topic=a",
	    .origin = ORIGIN_B, WS_STREAM("a")),
	WS("ws: cors_origin match is exact", .query = "topic=a",
	    .origin = ORIGIN_A ".evil", WS_REFUSE(403, R_ORIGIN)),
	WS("ws: cors_origin prefix is 403", .query = "topic=a",
	    .origin = "https://app.exampl", WS_REFUSE(403, R_ORIGIN)),
	WS("ws: 403 origin before a bad query", .query = "",
	    .origin = "https://evil.example", WS_REFUSE(403, R_ORIGIN)),

	/* WebSocket: the query. */
	WS("ws: no query is 400", WS_REFUSE(400, R_NO_TOPIC)),
	WS("ws: only lastEventId is 400", .query = "lastEventId=0",
	    WS_REFUSE(400, R_NO_TOPIC)),
	WS("ws: only a token is 400", .query = "token=secret1",
	    WS_REFUSE(400, R_NO_TOPIC)),
	WS("ws: bad topic is 400", .query = "topic=a*b",
	    WS_REFUSE(400, R_BAD_TOPIC)),
	WS("ws: empty topic is 400", .query = "topic=",
	    WS_REFUSE(400, R_BAD_TOPIC)),
	WS("ws: 129-char topic is 400", .query = "topic=" A128 "a",
	    WS_REFUSE(400, R_BAD_TOPIC)),
	WS("ws: 16 topics stream", .query = T16, .next = HTTP_STREAM,
	    .ntopics = 16, .topic0 = "a1"),
	WS("ws: 17 topics are 400", .query = T16 "&topic=c",
	    WS_REFUSE(400, R_MANY)),
	WS("ws: unknown parameter is 400", .query = "topic=a&since=5",
	    WS_REFUSE(400, R_UNKNOWN)),
	WS("ws: unknown parameter names token", .query = "topic=a&tok=1",
	    WS_REFUSE(400, "token)")),
	WS("ws: bad escape is 400", .query = "topic=%zz",
	    WS_REFUSE(400, R_ESCAPE)),
	WS("ws: token twice is 400",
	    .query = "topic=a&token=secret1&token=secret1",
	    WS_REFUSE(400, R_TOKEN_TWICE)),
	WS("ws: two different tokens are 400",
	    .query = "topic=a&token=secret1&token=secret2",
	    WS_REFUSE(400, R_TOKEN_TWICE)),
	WS("ws: empty token is 400", .query = "topic=a&token=",
	    WS_REFUSE(400, R_TOKEN_TWICE)),
	WS("ws: overlong token is 400",
	    .query = "topic=a&token=" A128 A128 "a",
	    WS_REFUSE(400, R_TOKEN_TWICE)),
	WS("ws: malformed lastEventId is 400",
	    .query = "topic=a&lastEventId=abc", WS_REFUSE(400, R_BAD_ID)),
	WS("ws: empty lastEventId is 400", .query = "topic=a&lastEventId=",
	    WS_REFUSE(400, R_BAD_ID)),
	WS("ws: short-epoch lastEventId is 400",
	    .query = "topic=a&lastEventId=abc-1", WS_REFUSE(400, R_BAD_ID)),
	WS("ws: lastEventId twice is 400",
	    .query = "topic=a&lastEventId=1&lastEventId=2",
	    WS_REFUSE(400, "lastEventId given twice")),
	WS("ws: no lastEventId is live only", .query = "topic=a",
	    WS_STREAM("a"), .has_resume = 0),
	WS("ws: lastEventId full id resumes",
	    .query = "lastEventId=" EPOCH "-17&topic=a", WS_STREAM("a"),
	    .has_resume = 1, .seq = 17, .raw = EPOCH "-17"),
	WS("ws: lastEventId=0 resumes from the start",
	    .query = "topic=a&lastEventId=0", WS_STREAM("a"),
	    .has_resume = 1, .seq = 0, .raw = "0"),

	/* WebSocket: publish tokens. */
	WS("ws: no token cannot publish", .query = "topic=a",
	    WS_STREAM("a"), .may_publish = 0),
	WS("ws: token= first token", .query = "topic=a&token=secret1",
	    WS_STREAM("a"), .may_publish = 1),
	WS("ws: token= third token", .query = "token=tok3&topic=a",
	    WS_STREAM("a"), .may_publish = 3),
	WS("ws: token= escaped", .query = "topic=a&token=sec%72et2",
	    WS_STREAM("a"), .may_publish = 2),
	WS("ws: Bearer first token", .query = "topic=a",
	    .auth = "Bearer secret1", WS_STREAM("a"), .may_publish = 1),
	WS("ws: Bearer second token", .query = "topic=a",
	    .auth = "Bearer secret2", WS_STREAM("a"), .may_publish = 2),
	WS("ws: bearer any case, spaces", .query = "topic=a",
	    .auth = "bEaReR   tok3  ", WS_STREAM("a"), .may_publish = 3),
	WS("ws: wrong token= is 403", .query = "topic=a&token=nope",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: token= prefix is 403", .query = "topic=a&token=secret",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: token= plus a byte is 403", .query = "topic=a&token=secret1x",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: token= case matters", .query = "topic=a&token=SECRET1",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: token= with a NUL is 400, never a shorter token",
	    .query = "topic=a&token=secret1%00x",
	    WS_REFUSE(400, R_TOKEN_TWICE)),
	WS("ws: wrong Bearer is 403", .query = "topic=a",
	    .auth = "Bearer nope", WS_REFUSE(403, "token not accepted")),
	WS("ws: overlong Bearer is 403", .query = "topic=a",
	    .auth = "Bearer " A128 A128 "a",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: Bearer is used before token=",
	    .query = "topic=a&token=secret1", .auth = "Bearer nope",
	    WS_REFUSE(403, "token not accepted")),
	WS("ws: Basic is 401", .query = "topic=a",
	    .auth = "Basic dXNlcjpwYXNz", WS_REFUSE(401, "Bearer")),
	WS("ws: Bearer without space is 401", .query = "topic=a",
	    .auth = "Bearersecret1", WS_REFUSE(401, "Bearer")),
	WS("ws: Bearer without token is 401", .query = "topic=a",
	    .auth = "Bearer ", WS_REFUSE(401, "Bearer")),
	WS("ws: 400 before the token is looked at",
	    .query = "topic=a&since=1", .auth = "Bearer nope",
	    WS_REFUSE(400, R_UNKNOWN)),
	cmocka_unit_test_setup(test_ws_origin_star, setup),
	cmocka_unit_test_setup(test_ws_503_at_limit, setup),
	cmocka_unit_test_setup(test_ws_wrong_token_counted, setup),

	/* POST /disconnect. */
	DC("disconnect: no admin_token is 404", .method = "POST",
	    .auth = "Bearer " ADMIN, .status = 404),
	DC("disconnect: no admin_token, GET is 404", .method = "GET",
	    .status = 404),
	DC("disconnect: GET is 405", .admin = ADMIN, .method = "GET",
	    .auth = "Bearer " ADMIN, .status = 405, .has = "Allow: POST"),
	DC("disconnect: OPTIONS is 405", .admin = ADMIN, .method = "OPTIONS",
	    .status = 405, .has = "Allow: POST"),
	DC("disconnect: no method is 405", .admin = ADMIN, .status = 405),
	DC("disconnect: no Authorization is 401", .admin = ADMIN,
	    .method = "POST", .status = 401, .has = WWW_AUTH),
	DC("disconnect: Basic is 401", .admin = ADMIN, .method = "POST",
	    .auth = "Basic dXNlcjpwYXNz", .status = 401, .has = WWW_AUTH),
	DC("disconnect: Bearer without token is 401", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer ", .status = 401),
	DC("disconnect: wrong token is 403", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer nope", .status = 403),
	DC("disconnect: a publish token is 403", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer secret1", .status = 403),
	DC("disconnect: token prefix is 403", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer adm1n", .status = 403),
	DC("disconnect: token plus a byte is 403", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer " ADMIN "x", .status = 403),
	DC("disconnect: overlong token is 403", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer " A128 A128 "a",
	    .status = 403),
	DC("disconnect: right token is 204, once", .admin = ADMIN,
	    .method = "POST", .auth = "Bearer " ADMIN, .status = 204,
	    .calls = 1),
	DC("disconnect: bearer any case, spaces", .admin = ADMIN,
	    .method = "POST", .auth = "bearer  " ADMIN " ", .status = 204,
	    .calls = 1),
	DC("disconnect: under a prefix", .admin = ADMIN, .method = "POST",
	    .path = "/api/disconnect", .auth = "Bearer " ADMIN,
	    .status = 204, .calls = 1),
	DC("disconnect: no callback is 501", .admin = ADMIN,
	    .no_callback = 1, .method = "POST", .auth = "Bearer " ADMIN,
	    .status = 501),
	DC("disconnect: no callback, wrong token is 403", .admin = ADMIN,
	    .no_callback = 1, .method = "POST", .auth = "Bearer nope",
	    .status = 403),

	/* http_format_response. */
	cmocka_unit_test_setup(test_response_exact, setup),
	cmocka_unit_test_setup(test_response_no_content_type, setup),
	cmocka_unit_test_setup(test_response_from_ws_503, setup),
	cmocka_unit_test_setup(test_response_small_buffer, setup),
	RL("response: 400", 400, "HTTP/1.1 400 Bad Request"),
	RL("response: 401", 401, "HTTP/1.1 401 Unauthorized"),
	RL("response: 403", 403, "HTTP/1.1 403 Forbidden"),
	RL("response: 404", 404, "HTTP/1.1 404 Not Found"),
	RL("response: 405", 405, "HTTP/1.1 405 Method Not Allowed"),
	RL("response: 408", 408, "HTTP/1.1 408 Request Timeout"),
	RL("response: 414", 414, "HTTP/1.1 414 URI Too Long"),
	RL("response: 426", 426, "HTTP/1.1 426 Upgrade Required"),
	RL("response: 429", 429, "HTTP/1.1 429 Too Many Requests"),
	RL("response: 431", 431,
	    "HTTP/1.1 431 Request Header Fields Too Large"),
	RL("response: 500", 500, "HTTP/1.1 500 Internal Server Error"),
	RL("response: 503", 503, "HTTP/1.1 503 Service Unavailable"),
	RL("response: 505", 505, "HTTP/1.1 505 HTTP Version Not Supported"),
};

int
main(void)
{
	/* One group: tests/unit/run.sh counts the last PASSED line. */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
