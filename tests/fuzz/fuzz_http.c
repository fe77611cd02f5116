/*
 * fuzz_http.c: backend/http.c, requests as the transports hand them over:
 * http_begin() (and http_publish()) with a struct http_req built the way
 * backend/fcgi.c builds it from FastCGI params, and http_ws_begin() with a
 * struct ws_handshake as wshandshake.c fills it.
 *
 * Input: byte 0 is flags:
 *   0x01  WebSocket: http_ws_begin() instead of http_begin()
 *   0x02  the tight config (max_subscribers 1, one stream per address,
 *         publish_rate 1, max_event_size 200) instead of the plain one
 *   0x04  one stream counted open already (METRIC subscribers = 1)
 *   0x08  no disconnect callback (CGI mode)
 *   0x10  the publish callback fails (the log cannot be written)
 *   0x20  after a stream is accepted, the same request again while the
 *         first is still open
 * then NUL-separated values (FastCGI params are C strings, so NUL is the
 * one byte they cannot hold), in the order of struct http_req: method,
 * path, query, content_type, content_length, authorization,
 * last_event_id, origin, remote_user, remote_addr, cookie, and last the
 * body. A value the input does not reach is NULL (a param not sent).
 * For WebSocket the values are path, query, host, origin, authorization,
 * cookie, forwarded_for, cut and trimmed as wshandshake.c would leave them.
 * Both configs have publish tokens, CORS origins, an admin token, a
 * token_key, private rules and a group.
 *
 * Checked (http.h, README.md):
 *   - the status is one documented for that entry point; body_len and
 *     headers_len are within their buffers and NUL-terminated there; the
 *     extra headers are whole "Name: value" CRLF lines (nothing from the
 *     request can split one); http_format_head() and
 *     http_format_response() succeed;
 *   - HTTP_STREAM only for GET .../events (or .../ws), below
 *     max_subscribers, with 1..TOPICS_MAX distinct valid topics, a resume
 *     point that is the one sent, an allowed origin or none, a WebSocket
 *     accept copied from the handshake; every topic readable by the
 *     subscriber under authref.h's reading of the private-topic rules; a
 *     REMOTE_USER kept as the subscriber (never on /ws), a token's expiry
 *     as the stream's;
 *   - with one stream per address, the same stream again from the same
 *     address is 429 while the first is open;
 *   - HTTP_READ_BODY only for POST .../publish with a configured Bearer
 *     token; then http_publish() answers 201 with the id of what the log
 *     stored (a valid request), or 400, 413, 415, 503;
 *   - POST .../disconnect calls the callback exactly when it answers 204.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "authref.h"
#include "eventid.h"
#include "fuzz.h"
#include "http.h"
#include "hub.h"
#include "metrics.h"
#include "quota.h"
#include "valid.h"

#define EPOCH	"0123abcd"

enum { F_WS = 0x01, F_TIGHT = 0x02, F_FULL = 0x04, F_NODISC = 0x08,
    F_PUBFAIL = 0x10, F_AGAIN = 0x20 };

static struct config	cfg_plain, cfg_tight;

static const char *const conf_lines[][2] = {
	{ "publish_token", "tok-alpha-123" },
	{ "publish_token", "tok-beta-456" },
	{ "cors_origin", "https://app.example.org" },
	{ "cors_origin", "http://localhost:8080" },
	{ "admin_token", "admin-secret-xyz" },
	{ "token_key", "0123456789abcdef0123456789abcdef" },
	{ "private", "user/{user}/*" },
	{ "private", "team/red/* alice,@ops" },
	{ "private", "secret carol" },
	{ "group", "ops: bob, carol" },
	{ "ws_publish_topic", "chat" },
};

static void
init(void)
{
	static int	 done;
	char		 err[256];
	size_t		 i;

	if (done)
		return;
	config_defaults(&cfg_plain);
	for (i = 0; i < sizeof(conf_lines) / sizeof(conf_lines[0]); i++)
		FUZZ_CHECK(config_set(&cfg_plain, conf_lines[i][0],
		    conf_lines[i][1], err, sizeof(err)) == 0);
	cfg_tight = cfg_plain;
	FUZZ_CHECK(config_set(&cfg_tight, "max_subscribers", "1", err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(config_set(&cfg_tight, "max_subscribers_per_address", "1",
	    err, sizeof(err)) == 0);
	FUZZ_CHECK(config_set(&cfg_tight, "publish_rate", "1", err,
	    sizeof(err)) == 0);
	FUZZ_CHECK(config_set(&cfg_tight, "max_event_size", "200", err,
	    sizeof(err)) == 0);
	done = 1;
}

/* ---- the transport's side ---------------------------------------------- */

struct calls {
	int		 fail;
	unsigned	 published, disconnected;
	uint64_t	 seq;
	size_t		 max_data;
};

static int
stub_publish(void *arg, const struct publish_req *req, uint64_t *seq)
{
	struct calls	*c = arg;
	size_t		 n;

	/* What body.c promises the log. */
	n = strlen(req->topic);
	FUZZ_CHECK(valid_topic(req->topic, n));
	n = strlen(req->event);
	FUZZ_CHECK(n == 0 || valid_event_name(req->event, n));
	FUZZ_CHECK(req->data != NULL && req->data[req->data_len] == '\0');
	FUZZ_CHECK(req->data_len <= c->max_data);
	FUZZ_CHECK(valid_utf8(req->data, req->data_len));
	c->published++;
	if (c->fail)
		return -1;
	*seq = ++c->seq;
	return 0;
}

static void
stub_disconnect(void *arg)
{
	struct calls *c = arg;

	c->disconnected++;
}

/* ---- checks ------------------------------------------------------------ */

static int
in_set(int st, const int *set)
{
	for (; *set != 0; set++)
		if (*set == st)
			return 1;
	return 0;
}

static const int begin_statuses[] = { 200, 204, 400, 401, 403, 404, 405,
    413, 429, 500, 501, 503, 0 };
static const int publish_statuses[] = { 201, 400, 413, 415, 503, 0 };
static const int ws_statuses[] = { 400, 401, 403, 404, 429, 503, 0 };

static void
check_resp(const struct http_resp *r, const int *statuses)
{
	static char	 out[HTTP_HEADERS_MAX + HTTP_BODY_MAX + 512];
	const char	*p, *e, *colon;

	if (!in_set(r->status, statuses))
		fprintf(stderr, "status %d\n", r->status);
	FUZZ_CHECK(in_set(r->status, statuses));
	FUZZ_CHECK(r->body_len < sizeof(r->body));
	FUZZ_CHECK(r->body[r->body_len] == '\0');
	FUZZ_CHECK(r->headers_len < sizeof(r->headers));
	FUZZ_CHECK(r->headers[r->headers_len] == '\0' &&
	    strlen(r->headers) == r->headers_len);
	FUZZ_CHECK(r->content_type == NULL || r->content_type[0] != '\0');
	/* Whole header lines: a name, ": ", a value, CRLF. */
	for (p = r->headers; *p != '\0'; p = e + 2) {
		e = strstr(p, "\r\n");
		FUZZ_CHECK(e != NULL);
		colon = memchr(p, ':', (size_t)(e - p));
		FUZZ_CHECK(colon != NULL && colon > p && colon[1] == ' ');
		FUZZ_CHECK(strcspn(p, "\r\n") == (size_t)(e - p));
		for (; p < colon; p++)
			FUZZ_CHECK(*p > ' ' && *p < 0x7f);
	}
	FUZZ_CHECK(http_format_head(r, out, sizeof(out)) > 0);
	FUZZ_CHECK(http_format_response(r, out, sizeof(out)) > 0);
}

static const char *
route(const char *path)
{
	const char *s = path != NULL ? strrchr(path, '/') : NULL;

	return s != NULL ? s + 1 : "";
}

static int
is_origin(const struct config *cfg, const char *o)
{
	int i;

	for (i = 0; i < cfg->norigins; i++)
		if (strcmp(cfg->origins[i], o) == 0)
			return 1;
	return 0;
}

static void
check_stream(const struct config *cfg, const struct stream_req *s)
{
	struct resume_point	 rp;
	int			 i, j;

	FUZZ_CHECK(s->ntopics >= 1 && s->ntopics <= TOPICS_MAX);
	for (i = 0; i < s->ntopics; i++) {
		FUZZ_CHECK(fuzz_terminated(s->topics[i], sizeof(s->topics[i])));
		FUZZ_CHECK(valid_topic(s->topics[i], strlen(s->topics[i])));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(s->topics[i], s->topics[j]) != 0);
		/* Never a topic this subscriber may not read. */
		if (!ref_may_read(cfg, &s->who, s->topics[i]))
			fprintf(stderr, "topic %s given to user \"%s\"\n",
			    s->topics[i], s->who.user);
		FUZZ_CHECK(ref_may_read(cfg, &s->who, s->topics[i]));
	}
	if (s->has_resume) {
		FUZZ_CHECK(fuzz_terminated(s->resume_raw,
		    sizeof(s->resume_raw)));
		FUZZ_CHECK(eventid_parse(s->resume_raw, strlen(s->resume_raw),
		    &rp) == 0);
		FUZZ_CHECK(rp.has_epoch == s->resume.has_epoch &&
		    rp.seq == s->resume.seq &&
		    (!rp.has_epoch || strcmp(rp.epoch, s->resume.epoch) == 0));
	}
	FUZZ_CHECK(fuzz_terminated(s->allow_origin, sizeof(s->allow_origin)));
	FUZZ_CHECK(s->allow_origin[0] == '\0' ||
	    is_origin(cfg, s->allow_origin));
	FUZZ_CHECK(fuzz_terminated(s->who.user, sizeof(s->who.user)));
	if (s->who.from_token) {
		FUZZ_CHECK(ref_valid_name(s->who.user, strlen(s->who.user)));
		FUZZ_CHECK(s->expires == s->who.expires &&
		    s->expires > (int64_t)time(NULL) - 5);
	} else
		FUZZ_CHECK(s->expires == 0 && s->who.npatterns == 0);
}

/* A Bearer token of the config's, as a reference reads the header. */
static int
bearer_ok(const struct config *cfg, const char *a)
{
	size_t	 n;
	int	 i;

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return 0;
	for (a += 7; *a == ' '; a++)
		;
	n = strlen(a);
	while (n > 0 && a[n - 1] == ' ')
		n--;
	for (i = 0; i < cfg->ntokens; i++)
		if (strlen(cfg->tokens[i]) == n &&
		    memcmp(cfg->tokens[i], a, n) == 0)
			return 1;
	return 0;
}

/* ---- the two entry points ---------------------------------------------- */

static void
run_http(const struct http_ctx *ctx, struct calls *calls, unsigned flags,
    char **v, size_t bodylen)
{
	static struct http_resp		 resp, resp2;
	static struct stream_req	 s, s2;
	const struct config		*cfg = ctx->cfg;
	struct http_req			 req;
	const char			*rt, *method;
	size_t				 body_max = 0;
	enum http_next			 next;

	memset(&req, 0, sizeof(req));
	req.method = v[0];
	req.path = v[1];
	req.query = v[2];
	req.content_type = v[3];
	req.content_length = v[4];
	req.authorization = v[5];
	req.last_event_id = v[6];
	req.origin = v[7];
	req.remote_user = v[8];
	req.remote_addr = v[9];
	req.cookie = v[10];
	rt = route(req.path);
	method = req.method != NULL ? req.method : "";

	next = http_begin(ctx, &req, &resp, &s, &body_max);
	switch (next) {
	case HTTP_RESPOND:
		check_resp(&resp, begin_statuses);
		if (resp.status == 200)
			FUZZ_CHECK((strcmp(rt, "metrics") == 0 ||
			    strcmp(rt, "healthz") == 0) &&
			    (strcmp(method, "GET") == 0 ||
			    strcmp(method, "HEAD") == 0));
		if (resp.status == 204)
			FUZZ_CHECK(strcmp(method, "OPTIONS") == 0 ||
			    strcmp(rt, "disconnect") == 0);
		FUZZ_CHECK(calls->disconnected == (strcmp(rt, "disconnect") ==
		    0 && resp.status == 204));
		break;
	case HTTP_STREAM:
		FUZZ_CHECK(strcmp(rt, "events") == 0 &&
		    strcmp(method, "GET") == 0);
		FUZZ_CHECK(METRIC_GET(subscribers) < cfg->max_subscribers);
		check_stream(cfg, &s);
		if (req.remote_user != NULL && req.remote_user[0] != '\0')
			FUZZ_CHECK(strcmp(s.who.user, req.remote_user) == 0);
		if (s.allow_origin[0] != '\0')
			FUZZ_CHECK(req.origin != NULL &&
			    strcmp(req.origin, s.allow_origin) == 0);
		if (flags & F_AGAIN) {
			memset(&resp2, 0, sizeof(resp2));
			next = http_begin(ctx, &req, &resp2, &s2, &body_max);
			if (next == HTTP_STREAM)
				quota_stream_release(s2.slot);
			else
				check_resp(&resp2, begin_statuses);
			if (cfg->max_subscribers_per_address == 1 &&
			    req.remote_addr != NULL &&
			    req.remote_addr[0] != '\0' &&
			    strlen(req.remote_addr) <= QUOTA_ADDR_MAX)
				FUZZ_CHECK(next == HTTP_RESPOND &&
				    resp2.status == 429);
		}
		/* The hub's part: the stream ends. */
		quota_stream_release(s.slot);
		break;
	case HTTP_READ_BODY:
		FUZZ_CHECK(strcmp(rt, "publish") == 0 &&
		    strcmp(method, "POST") == 0);
		FUZZ_CHECK(bearer_ok(cfg, req.authorization));
		FUZZ_CHECK(body_max == cfg->max_event_size * 6 +
		    BODY_OVERHEAD_MAX);
		if (bodylen > body_max)
			break;	/* fcgi.c answers 413 itself */
		calls->published = 0;
		http_publish(ctx, &req, v[11], bodylen, &resp);
		check_resp(&resp, publish_statuses);
		FUZZ_CHECK(calls->published == (resp.status == 201 ||
		    resp.status == 503));
		if (resp.status == 201) {
			char want[EVENT_ID_MAX + 16];

			snprintf(want, sizeof(want), "{\"id\":\"" EPOCH
			    "-%llu\"}\n", (unsigned long long)calls->seq);
			FUZZ_CHECK(strcmp(resp.body, want) == 0);
		}
		break;
	default:
		FUZZ_CHECK(!"unknown enum http_next");
	}
}

/* Copy v into a field as wshandshake.c leaves it: cut at a control byte,
 * spaces trimmed, NUL-terminated within size. */
static void
ws_field(char *dst, size_t size, const char *v, int target)
{
	size_t	 n = 0, s = 0;

	if (v == NULL)
		v = "";
	while (v[n] != '\0' && n < size - 1 &&
	    (target ? (unsigned char)v[n] > 0x20 && (unsigned char)v[n] < 0x7f
	    && v[n] != '#' : ((unsigned char)v[n] >= 0x20 || v[n] == '\t') &&
	    v[n] != 0x7f))
		n++;
	if (!target) {
		while (s < n && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (n > s && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
	}
	memcpy(dst, v + s, n - s);
	dst[n - s] = '\0';
}

static void
run_ws(const struct http_ctx *ctx, unsigned flags, char **v)
{
	static struct ws_handshake	 hs;
	static struct http_resp		 resp, resp2;
	static struct stream_req	 s, s2;
	const struct config		*cfg = ctx->cfg;
	const char			*oh;
	enum http_next			 next;

	memset(&hs, 0, sizeof(hs));
	/* The path is origin-form: it starts with '/'. */
	hs.path[0] = '/';
	ws_field(hs.path + 1, sizeof(hs.path) - 1,
	    v[0] != NULL && v[0][0] == '/' ? v[0] + 1 : v[0], 1);
	ws_field(hs.query, sizeof(hs.query), v[1], 1);
	ws_field(hs.host, sizeof(hs.host), v[2], 0);
	ws_field(hs.origin, sizeof(hs.origin), v[3], 0);
	ws_field(hs.authorization, sizeof(hs.authorization), v[4], 0);
	ws_field(hs.cookie, sizeof(hs.cookie), v[5], 0);
	ws_field(hs.forwarded_for, sizeof(hs.forwarded_for), v[6], 0);
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, hs.accept);

	next = http_ws_begin(ctx, &hs, &resp, &s);
	if (next == HTTP_RESPOND) {
		check_resp(&resp, ws_statuses);
		return;
	}
	FUZZ_CHECK(next == HTTP_STREAM);
	FUZZ_CHECK(strcmp(route(hs.path), "ws") == 0);
	FUZZ_CHECK(METRIC_GET(subscribers) < cfg->max_subscribers);
	check_stream(cfg, &s);
	FUZZ_CHECK(strcmp(s.ws_accept, hs.accept) == 0);
	FUZZ_CHECK(s.ws_may_publish >= 0 && s.ws_may_publish <= cfg->ntokens);
	/* No REMOTE_USER on /ws: only a token names the subscriber. */
	if (!s.who.from_token)
		FUZZ_CHECK(s.who.user[0] == '\0');
	/* This site, or an allowed origin. */
	if (hs.origin[0] != '\0') {
		oh = strstr(hs.origin, "://");
		oh = oh != NULL ? oh + 3 : hs.origin;
		FUZZ_CHECK(strcasecmp(oh, hs.host) == 0 ||
		    is_origin(cfg, hs.origin) || is_origin(cfg, "*"));
	}
	if (flags & F_AGAIN) {
		next = http_ws_begin(ctx, &hs, &resp2, &s2);
		if (next == HTTP_STREAM)
			quota_stream_release(s2.slot);
		else
			check_resp(&resp2, ws_statuses);
		if (cfg->max_subscribers_per_address == 1 &&
		    hs.forwarded_for[0] != '\0')
			FUZZ_CHECK(next == HTTP_RESPOND && resp2.status == 429);
	}
	quota_stream_release(s.slot);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in	 in;
	struct http_ctx	 ctx;
	struct calls	 calls;
	char		*v[12];
	const char	*p;
	size_t		 len, bodylen = 0;
	unsigned	 flags;
	int		 i;

	init();
	fuzz_in_init(&in, data, size);
	flags = fuzz_byte(&in);
	for (i = 0; i < 12; i++) {
		if (in.left == 0) {
			v[i] = NULL;
			continue;
		}
		/* The body is the rest, NULs and all. */
		if (i == 11) {
			bodylen = in.left;
			v[i] = fuzz_memdup(in.p, bodylen);
			in.left = 0;
			continue;
		}
		p = fuzz_piece(&in, '\0', &len);
		v[i] = fuzz_strndup(p, len);
	}

	memset(&calls, 0, sizeof(calls));
	calls.fail = (flags & F_PUBFAIL) != 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = flags & F_TIGHT ? &cfg_tight : &cfg_plain;
	calls.max_data = ctx.cfg->max_event_size;
	ctx.publish = stub_publish;
	ctx.publish_arg = &calls;
	ctx.epoch = EPOCH;
	if (!(flags & F_NODISC)) {
		ctx.disconnect = stub_disconnect;
		ctx.disconnect_arg = &calls;
	}
	/* Every run starts from the same shared state. */
	quota_reset();
	METRIC_SET(subscribers, flags & F_FULL ? 1 : 0);

	if (flags & F_WS)
		run_ws(&ctx, flags, v);
	else
		run_http(&ctx, &calls, flags, v, bodylen);

	METRIC_SET(subscribers, 0);
	for (i = 0; i < 12; i++)
		free(v[i]);
	return 0;
}
