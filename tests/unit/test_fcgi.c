/*
 * test_fcgi.c: backend/fcgi.c with backend/http.c behind it, through a
 * small test-side FastCGI client (FastCGI 1.0: FCGI_BEGIN_REQUEST with
 * role FCGI_RESPONDER, FCGI_PARAMS name-value pairs in the 1- and 4-byte
 * length encodings, an empty FCGI_PARAMS, FCGI_STDIN and an empty
 * FCGI_STDIN; then FCGI_STDOUT records and FCGI_END_REQUEST back).
 *
 * One server for the whole file (group setup), as serve.c builds it: a
 * Unix socket from serve_listen(), a hub in a thread, a committer for
 * publishes, and the intake pool. Pool 1 has a single worker, so a request
 * that is answered while a stream is open proves that the worker went back
 * to accept after handing the stream to the hub. Pool 4 has four workers
 * on a second socket for concurrent publishes.
 *
 * libfcgi's shutdown flag (FCGX_ShutdownPending) is process-wide and never
 * cleared, so a process can stop its pools only once: the last case stops
 * both and times it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bounds.h"
#include "committer.h"
#include "config.h"
#include "eventid.h"
#include "evlog.h"
#include "fcgi.h"
#include "http.h"
#include "hub.h"
#include "metrics.h"
#include "serve.h"
#include "testutil.h"

#define DEADLINE_MS	10000
#define TOKEN		"fcgi-test-token"

/* FastCGI 1.0, section 8. */
#define FCGI_BEGIN_REQUEST	1
#define FCGI_END_REQUEST	3
#define FCGI_PARAMS		4
#define FCGI_STDIN		5
#define FCGI_STDOUT		6
#define FCGI_STDERR		7
#define FCGI_RESPONDER		1
#define FCGI_KEEP_CONN		1

/* ---- the server -------------------------------------------------------- */

static struct server {
	char			 dir[256];
	char			 db[300];
	char			 sock1[300], sock4[300];
	struct config		 cfg;
	struct hub		*hub;
	pthread_t		 hub_thread;
	int			 hub_running;
	int			 hub_rc;
	struct committer	*com;
	struct http_ctx		 ctx;
	int			 lfd1, lfd4;
	struct fcgi_pool	*pool1, *pool4;
	char			 epoch[EPOCH_HEX_LEN + 1];
} srv = { .lfd1 = -1, .lfd4 = -1 };

/* test_stop_prompt stops pool 4 from a thread: static, and joined by
 * group_teardown if a failed case left it running. */
static struct stopper {
	struct fcgi_pool	*pool;
	pthread_t		 thread;
	int			 running;
	int64_t			 ms;
} stopper;

static void *
hub_main(void *arg)
{
	(void)arg;
	srv.hub_rc = hub_run(srv.hub);
	return NULL;
}

/*
 * The stop test holds one publish in its worker until fcgi_stop() has
 * begun: fcgi_stop() sets its flag before it signals the workers with
 * SIGUSR2, and the test's SIGUSR2 handler (installed over fcgi.c's, which
 * does nothing either; neither uses SA_RESTART) notes that a signal came.
 */
static atomic_int		 hold_publish, in_publish;
static volatile sig_atomic_t	 usr2_seen;

static void
note_usr2(int sig)
{
	(void)sig;
	usr2_seen = 1;
}

static int
publish_via_committer(void *arg, const struct publish_req *req,
    uint64_t *seq)
{
	int64_t deadline;

	if (atomic_load(&hold_publish)) {
		atomic_store(&in_publish, 1);
		deadline = tu_now_ms() + DEADLINE_MS;
		while (!usr2_seen && tu_now_ms() < deadline)
			tu_sleep_ms(1);
	}
	return committer_publish(arg, req, seq);
}

static int
listen_on(char *path, size_t pathsz, const char *name)
{
	char	addr[400], err[512];
	int	fd;

	tu_path(path, pathsz, srv.dir, name);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	if ((fd = serve_listen(addr, 0, err, sizeof(err))) == -1)
		fprintf(stderr, "serve_listen: %s\n", err);
	return fd;
}

static int
group_setup(void **state)
{
	char err[512];

	(void)state;
	if (tu_mkdtemp(srv.dir, sizeof(srv.dir)) == -1)
		return -1;
	tu_path(srv.db, sizeof(srv.db), srv.dir, "log.db");
	config_defaults(&srv.cfg);
	strcpy(srv.cfg.tokens[0], "another-token");
	strcpy(srv.cfg.tokens[1], TOKEN);
	srv.cfg.ntokens = 2;
	srv.cfg.sync_full = 0;
	srv.cfg.heartbeat_ms = 15000;
	if ((srv.lfd1 = listen_on(srv.sock1, sizeof(srv.sock1),
	    "one.sock")) == -1 ||
	    (srv.lfd4 = listen_on(srv.sock4, sizeof(srv.sock4),
	    "four.sock")) == -1)
		return -1;
	if (hub_create(&srv.hub, srv.db, 1, &srv.cfg, 0, err,
	    sizeof(err)) == -1 ||
	    committer_start(&srv.com, srv.db, &srv.cfg, srv.hub, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (pthread_create(&srv.hub_thread, NULL, hub_main, NULL) != 0)
		return -1;
	srv.hub_running = 1;
	strcpy(srv.epoch, committer_epoch(srv.com));
	srv.ctx.cfg = &srv.cfg;
	srv.ctx.publish = publish_via_committer;
	srv.ctx.publish_arg = srv.com;
	srv.ctx.epoch = srv.epoch;
	if (fcgi_start(&srv.pool1, srv.lfd1, &srv.ctx, srv.hub, 1, err,
	    sizeof(err)) == -1 ||
	    fcgi_start(&srv.pool4, srv.lfd4, &srv.ctx, srv.hub, 4, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static void close_stop_conns(void);

static int
group_teardown(void **state)
{
	(void)state;
	atomic_store(&hold_publish, 0);
	if (stopper.running)
		pthread_join(stopper.thread, NULL);
	close_stop_conns();
	/* The order of serve_run(): intake, then streams, then the log. */
	fcgi_stop(srv.pool4);
	fcgi_stop(srv.pool1);
	if (srv.hub_running) {
		hub_stop(srv.hub);
		pthread_join(srv.hub_thread, NULL);
	}
	committer_stop(srv.com);
	hub_free(srv.hub);
	if (srv.lfd1 != -1)
		close(srv.lfd1);
	if (srv.lfd4 != -1)
		close(srv.lfd4);
	tu_rmtree(srv.dir);
	return 0;
}

/* ---- the client: writing ----------------------------------------------- */

/*
 * A whole request is built into one buffer first (no I/O, no assertions,
 * so publisher threads can use it too), then written.
 */
struct obuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 oom;
};

static void
ob_put(struct obuf *b, const void *p, size_t n)
{
	unsigned char	*q;
	size_t		 cap;

	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

/* One record, padded to a multiple of 8 as the spec recommends (3.3). */
static void
ob_record(struct obuf *b, int type, uint16_t id, const void *content,
    size_t len)
{
	static const unsigned char zeros[8];
	unsigned char	 hdr[8];
	size_t		 pad = (8 - len % 8) % 8;

	hdr[0] = 1;
	hdr[1] = (unsigned char)type;
	hdr[2] = (unsigned char)(id >> 8);
	hdr[3] = (unsigned char)(id & 0xff);
	hdr[4] = (unsigned char)(len >> 8);
	hdr[5] = (unsigned char)(len & 0xff);
	hdr[6] = (unsigned char)pad;
	hdr[7] = 0;
	ob_put(b, hdr, sizeof(hdr));
	ob_put(b, content, len);
	ob_put(b, zeros, pad);
}

/* A length in the FastCGI name-value encoding (3.4): one byte below 128,
 * else four with the high bit set. */
static void
ob_nvlen(struct obuf *b, size_t len)
{
	unsigned char l[4];

	if (len < 128) {
		l[0] = (unsigned char)len;
		ob_put(b, l, 1);
		return;
	}
	l[0] = (unsigned char)((len >> 24) | 0x80);
	l[1] = (unsigned char)(len >> 16);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	ob_put(b, l, 4);
}

/*
 * FCGI_BEGIN_REQUEST (FCGI_RESPONDER), the PARAMS nv (name, value, ...,
 * NULL) cut into two records at an odd place (inside a pair), the empty
 * FCGI_PARAMS, the body in FCGI_STDIN records of at most 65535 bytes and
 * the empty FCGI_STDIN. Returns 0, or -1 when out of memory.
 */
static int
build_request(struct obuf *out, uint16_t id, int keep_conn,
    const char *const *nv, const char *body, size_t len)
{
	struct obuf	 params;
	unsigned char	 begin[8] = { 0, FCGI_RESPONDER,
			    (unsigned char)(keep_conn ? FCGI_KEEP_CONN : 0),
			    0, 0, 0, 0, 0 };
	size_t		 cut, n;
	int		 i;

	memset(&params, 0, sizeof(params));
	for (i = 0; nv[i] != NULL; i += 2) {
		ob_nvlen(&params, strlen(nv[i]));
		ob_nvlen(&params, strlen(nv[i + 1]));
		ob_put(&params, nv[i], strlen(nv[i]));
		ob_put(&params, nv[i + 1], strlen(nv[i + 1]));
	}
	ob_record(out, FCGI_BEGIN_REQUEST, id, begin, sizeof(begin));
	cut = params.len / 2 | 1;
	if (cut > params.len)
		cut = params.len;
	if (cut > FCGI_CONTENT_MAX || params.len - cut > FCGI_CONTENT_MAX)
		out->oom = 1;
	else {
		ob_record(out, FCGI_PARAMS, id, params.p, cut);
		ob_record(out, FCGI_PARAMS, id, params.p + cut,
		    params.len - cut);
	}
	ob_record(out, FCGI_PARAMS, id, NULL, 0);
	while (len > 0) {
		n = len < FCGI_CONTENT_MAX ? len : FCGI_CONTENT_MAX;
		ob_record(out, FCGI_STDIN, id, body, n);
		body += n;
		len -= n;
	}
	ob_record(out, FCGI_STDIN, id, NULL, 0);
	free(params.p);
	return out->oom || params.oom ? -1 : 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char	*q = p;
	ssize_t		 r;

	while (n > 0) {
		r = send(fd, q, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		q += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
send_request(int fd, uint16_t id, int keep_conn, const char *const *nv,
    const char *body, size_t len)
{
	struct obuf b;

	memset(&b, 0, sizeof(b));
	assert_int_equal(build_request(&b, id, keep_conn, nv, body, len), 0);
	if (write_all(fd, b.p, b.len) == -1)
		fail_msg("send: %s", strerror(errno));
	free(b.p);
}

/* Unix socket path, or -1 (no assertion: threads use it). */
static int
try_connect(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
connect_to(const char *path)
{
	int fd = try_connect(path);

	if (fd == -1)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

/* ---- the client: reading ---------------------------------------------- */

struct conn {
	int		 fd;
	uint16_t	 id;
	unsigned char	*raw;
	size_t		 raw_len, raw_cap;
	char		*out;		/* FCGI_STDOUT contents */
	size_t		 out_len, out_off, out_cap;
	size_t		 records;
	int		 stdout_end, end_request, eof;
	unsigned	 app_status, proto_status;
};

static void
conn_records(struct conn *c)
{
	const unsigned char	*h;
	size_t			 pos = 0, clen, pad;
	unsigned		 id;

	while (c->raw_len - pos >= 8) {
		h = c->raw + pos;
		clen = (size_t)h[4] << 8 | h[5];
		pad = h[6];
		if (c->raw_len - pos < 8 + clen + pad)
			break;
		id = (unsigned)h[2] << 8 | h[3];
		if (h[0] != 1)
			fail_msg("record version %u", h[0]);
		if (id != c->id)
			fail_msg("record type %u for requestId %u, want %u",
			    h[1], id, c->id);
		if (c->end_request)
			fail_msg("record type %u after FCGI_END_REQUEST", h[1]);
		switch (h[1]) {
		case FCGI_STDOUT:
			if (clen == 0) {
				c->stdout_end = 1;
				break;
			}
			if (c->stdout_end)
				fail_msg("FCGI_STDOUT after its end");
			grow(&c->out, &c->out_cap, c->out_len + clen + 1);
			memcpy(c->out + c->out_len, h + 8, clen);
			c->out_len += clen;
			c->out[c->out_len] = '\0';
			break;
		case FCGI_STDERR:
			fprintf(stderr, "FCGI_STDERR: %.*s\n", (int)clen,
			    (const char *)h + 8);
			break;
		case FCGI_END_REQUEST:
			if (clen != 8)
				fail_msg("FCGI_END_REQUEST of %zu bytes", clen);
			c->app_status = (unsigned)h[8] << 24 |
			    (unsigned)h[9] << 16 | (unsigned)h[10] << 8 | h[11];
			c->proto_status = h[12];
			c->end_request = 1;
			break;
		default:
			fail_msg("unexpected record type %u", h[1]);
		}
		c->records++;
		pos += 8 + clen + pad;
	}
	memmove(c->raw, c->raw + pos, c->raw_len - pos);
	c->raw_len -= pos;
}

/* Read once: 1, 0 at EOF, -2 at the deadline. */
static int
conn_fill(struct conn *c, int64_t deadline)
{
	char	 tmp[65536];
	ssize_t	 r;

	if (c->eof)
		return 0;
	r = tu_read_until(c->fd, tmp, sizeof(tmp), deadline);
	if (r == -2)
		return -2;
	if (r == -1)
		fail_msg("read: %s", strerror(errno));
	if (r == 0) {
		c->eof = 1;
		if (c->raw_len != 0)
			fail_msg("EOF inside a record");
		return 0;
	}
	grow(&c->raw, &c->raw_cap, c->raw_len + (size_t)r);
	memcpy(c->raw + c->raw_len, tmp, (size_t)r);
	c->raw_len += (size_t)r;
	conn_records(c);
	return 1;
}

static void
conn_wait_end(struct conn *c)
{
	int64_t deadline = tu_now_ms() + DEADLINE_MS;

	while (!c->end_request)
		if (conn_fill(c, deadline) != 1)
			fail_msg("no FCGI_END_REQUEST (%s); got: %.*s",
			    c->eof ? "EOF" : "timeout", (int)c->out_len,
			    c->out ? c->out : "");
}

/* Wait until needle appears in the unread output; consume through it. */
static void
conn_wait_text(struct conn *c, const char *needle)
{
	int64_t	 deadline = tu_now_ms() + DEADLINE_MS;
	char	*p;

	while (c->out == NULL ||
	    (p = strstr(c->out + c->out_off, needle)) == NULL)
		if (conn_fill(c, deadline) != 1)
			fail_msg("\"%s\" did not arrive (%s)", needle,
			    c->eof ? "EOF" : "timeout");
	c->out_off = (size_t)(p + strlen(needle) - c->out);
}

static void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->raw);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* A new connection to sock for requestId id. */
static void
conn_open(struct conn *c, const char *sock, uint16_t id)
{
	int fd = connect_to(sock);

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->id = id;
}

/* ---- requests ------------------------------------------------------------ */

struct resp {
	int	 status;
	char	 head[2048];
	char	*body;		/* into the conn's output */
	size_t	 body_len;
};

/* Split the CGI response into status, head and body. */
static void
parse_resp(struct conn *c, struct resp *r)
{
	char	*end;
	size_t	 n;

	memset(r, 0, sizeof(*r));
	if (c->out == NULL || strncmp(c->out, "Status: ", 8) != 0)
		fail_msg("no Status line: %.*s", (int)c->out_len,
		    c->out ? c->out : "");
	r->status = atoi(c->out + 8);
	end = strstr(c->out, "\r\n\r\n");
	assert_non_null(end);
	n = (size_t)(end + 4 - c->out);
	assert_true(n < sizeof(r->head));
	memcpy(r->head, c->out, n);
	r->head[n] = '\0';
	r->body = c->out + n;
	r->body_len = c->out_len - n;
}

/*
 * Send one whole request on a new connection to sock and read the answer
 * to FCGI_END_REQUEST. nv are the PARAMS; body (len bytes) the STDIN.
 */
static void
request(const char *sock, uint16_t id, const char *const *nv,
    const char *body, size_t len, struct conn *c, struct resp *r)
{
	conn_open(c, sock, id);
	send_request(c->fd, id, 0, nv, body, len);
	conn_wait_end(c);
	parse_resp(c, r);
	assert_true(c->stdout_end);
	assert_int_equal(c->app_status, 0);
	assert_int_equal(c->proto_status, 0);	/* FCGI_REQUEST_COMPLETE */
}

static void
simple_get(const char *path, uint16_t id, struct conn *c, struct resp *r)
{
	const char *nv[] = { "REQUEST_METHOD", "GET", "SCRIPT_NAME", path,
	    "QUERY_STRING", "", "SERVER_PROTOCOL", "HTTP/1.1", NULL };

	request(srv.sock1, id, nv, NULL, 0, c, r);
}

/* POST /publish with a JSON body; returns the seq from the 201's id. */
static uint64_t
publish_json(const char *sock, uint16_t id, const char *topic,
    const char *data)
{
	struct conn	 c;
	struct resp	 r;
	char		 body[512], clen[32], want[64];
	const char	*nv[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    "CONTENT_LENGTH", clen, "HTTP_AUTHORIZATION", "Bearer " TOKEN,
	    NULL };
	uint64_t	 seq;
	int		 n;

	n = snprintf(body, sizeof(body), "{\"topic\":\"%s\",\"data\":\"%s\"}",
	    topic, data);
	snprintf(clen, sizeof(clen), "%d", n);
	request(sock, id, nv, body, (size_t)n, &c, &r);
	if (r.status != 201)
		fail_msg("publish: %d %.*s", r.status, (int)r.body_len,
		    r.body);
	snprintf(want, sizeof(want), "{\"id\":\"%s-", srv.epoch);
	if (strncmp(r.body, want, strlen(want)) != 0)
		fail_msg("publish body %s", r.body);
	seq = strtoull(r.body + strlen(want), NULL, 10);
	conn_close(&c);
	return seq;
}

/* The event with seq in the log: topic and data. */
struct logged {
	uint64_t	 seq;
	int		 found;
	char		 topic[TOPIC_MAX + 1];
	char		 event[EVENT_NAME_MAX + 1];
	size_t		 data_len;
	char		 data_head[32];
};

static int
logged_row(void *arg, const struct evlog_row *row)
{
	struct logged *l = arg;

	if (row->seq != l->seq)
		return 0;
	l->found = 1;
	snprintf(l->topic, sizeof(l->topic), "%.*s", (int)row->topic_len,
	    row->topic);
	snprintf(l->event, sizeof(l->event), "%.*s", (int)row->event_len,
	    row->event);
	l->data_len = row->data_len;
	snprintf(l->data_head, sizeof(l->data_head), "%.*s",
	    (int)(row->data_len < 31 ? row->data_len : 31), row->data);
	return 1;
}

static void
read_logged(uint64_t seq, struct logged *l)
{
	struct evlog	*log = NULL;
	char		 err[512];

	memset(l, 0, sizeof(*l));
	l->seq = seq;
	if (evlog_open(&log, srv.db, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(evlog_read(log, NULL, seq - 1, seq, 1, 1 << 30,
	    logged_row, l), 0);
	evlog_close(log);
	if (!l->found)
		fail_msg("seq %llu is not in the log", (unsigned long long)seq);
}

static uint64_t
log_last(void)
{
	struct evlog	*log = NULL;
	char		 err[512];
	uint64_t	 first, last;

	if (evlog_open(&log, srv.db, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(evlog_bounds(log, &first, &last), 0);
	evlog_close(log);
	return last;
}

/* Open GET /events on sock1 and read up to the retry hint. */
static void
open_stream(struct conn *c, uint16_t id, const char *query)
{
	const char *nv[] = { "REQUEST_METHOD", "GET", "SCRIPT_NAME",
	    "/events", "QUERY_STRING", query, "HTTP_ACCEPT",
	    "text/event-stream", NULL };

	conn_open(c, srv.sock1, id);
	send_request(c->fd, id, 0, nv, NULL, 0);
	conn_wait_text(c, "\r\n\r\n");
	if (strncmp(c->out, "Status: 200 OK\r\nContent-Type: text/event-stream",
	    47) != 0)
		fail_msg("stream head: %s", c->out);
	conn_wait_text(c, "retry: ");
	conn_wait_text(c, "\n\n");
	assert_false(c->stdout_end);
	assert_false(c->end_request);
}

static void
wait_event(struct conn *c, uint64_t seq, const char *data)
{
	char want[256];

	snprintf(want, sizeof(want), "id: %s-%llu\ndata: %s\n\n", srv.epoch,
	    (unsigned long long)seq, data);
	conn_wait_text(c, want);
}

/* ---- the cases ---------------------------------------------------------- */

static void
test_healthz(void **state)
{
	struct conn	c;
	struct resp	r;

	(void)state;
	simple_get("/healthz", 3, &c, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.head, "Status: 200 OK\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Length: 3\r\n\r\n");
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "ok\n", 3);
	/* Without FCGI_KEEP_CONN the server closes the connection. */
	assert_int_equal(conn_fill(&c, tu_now_ms() + DEADLINE_MS), 0);
	conn_close(&c);
}

static void
test_head_has_no_body(void **state)
{
	struct conn	 c;
	struct resp	 r;
	const char	*nv[] = { "REQUEST_METHOD", "HEAD",
	    "SCRIPT_NAME", "/healthz", NULL };

	(void)state;
	request(srv.sock1, 4, nv, NULL, 0, &c, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "\r\nContent-Length: 3\r\n"));
	assert_int_equal(r.body_len, 0);
	conn_close(&c);
}

static void
test_not_found(void **state)
{
	struct conn	c;
	struct resp	r;

	(void)state;
	simple_get("/nothing/here", 5, &c, &r);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body_len, strtoul(strstr(r.head,
	    "Content-Length: ") + 16, NULL, 10));
	conn_close(&c);
}

/* SCRIPT_NAME + PATH_INFO make the path: a prefix mount routes. */
static void
test_prefix_mount(void **state)
{
	struct conn	 c;
	struct resp	 r;
	const char	*nv[] = { "REQUEST_METHOD", "GET",
	    "SCRIPT_NAME", "/api", "PATH_INFO", "/metrics", NULL };

	(void)state;
	request(srv.sock1, 6, nv, NULL, 0, &c, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.head, "Content-Type: text/plain;"
	    " version=0.0.4; charset=utf-8\r\n"));
	assert_non_null(strstr(r.body, "# TYPE ssereplay_subscribers gauge"));
	conn_close(&c);
}

/* A refused /events is answered, not handed to the hub. */
static void
test_events_400_answered(void **state)
{
	struct conn	c;
	struct resp	r;

	(void)state;
	simple_get("/events", 8, &c, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "topic"));
	conn_close(&c);
}

/* Params with 4-byte lengths: a 300-byte value and a 150-byte name. */
static void
test_params_long_lengths(void **state)
{
	struct conn	 c;
	struct resp	 r;
	char		 agent[301], name[151];
	const char	*nv[] = { "REQUEST_METHOD", "GET", name, "x",
	    "SCRIPT_NAME", "/healthz", "HTTP_USER_AGENT", agent, NULL };

	(void)state;
	memset(agent, 'u', 300);
	agent[300] = '\0';
	memcpy(name, "HTTP_X_", 7);
	memset(name + 7, 'N', 143);
	name[150] = '\0';
	request(srv.sock1, 9, nv, NULL, 0, &c, &r);
	assert_int_equal(r.status, 200);
	conn_close(&c);
}

static void
test_publish_commits(void **state)
{
	struct conn	 c;
	struct resp	 r;
	struct logged	 l;
	static const char body[] =
	    "{\"topic\":\"orders/1\",\"event\":\"update\",\"data\":\"hi\"}";
	const char	*nv[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    "CONTENT_LENGTH", "49", "HTTP_AUTHORIZATION", "Bearer " TOKEN,
	    NULL };
	char		 want[64];
	uint64_t	 seq;

	(void)state;
	assert_int_equal(sizeof(body) - 1, 49);
	request(srv.sock1, 10, nv, body, sizeof(body) - 1, &c, &r);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.head, "Content-Type: application/json\r\n"));
	snprintf(want, sizeof(want), "{\"id\":\"%s-", srv.epoch);
	assert_true(strncmp(r.body, want, strlen(want)) == 0);
	seq = strtoull(r.body + strlen(want), NULL, 10);
	assert_true(seq > 0);
	assert_string_equal(r.body + strlen(want) +
	    strspn(r.body + strlen(want), "0123456789"), "\"}\n");
	conn_close(&c);
	/* 201 means committed: it is in the log now. */
	read_logged(seq, &l);
	assert_string_equal(l.topic, "orders/1");
	assert_string_equal(l.event, "update");
	assert_int_equal(l.data_len, 2);
	assert_string_equal(l.data_head, "hi");
}

/* A 64 KiB event in a form body: STDIN comes in several records. */
static void
test_publish_large_body(void **state)
{
	struct conn	 c;
	struct resp	 r;
	struct logged	 l;
	const char	*nv[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish",
	    "CONTENT_TYPE", "application/x-www-form-urlencoded",
	    "HTTP_AUTHORIZATION", "Bearer " TOKEN, NULL };
	char		*body, want[64];
	size_t		 len, pre = strlen("topic=big&data=");
	uint64_t	 seq;

	(void)state;
	len = pre + EVENT_SIZE_DEFAULT;
	body = malloc(len);
	assert_non_null(body);
	memcpy(body, "topic=big&data=", pre);
	memset(body + pre, 'b', EVENT_SIZE_DEFAULT);
	request(srv.sock1, 11, nv, body, len, &c, &r);
	free(body);
	assert_int_equal(r.status, 201);
	snprintf(want, sizeof(want), "{\"id\":\"%s-", srv.epoch);
	assert_true(strncmp(r.body, want, strlen(want)) == 0);
	seq = strtoull(r.body + strlen(want), NULL, 10);
	conn_close(&c);
	read_logged(seq, &l);
	assert_string_equal(l.topic, "big");
	assert_int_equal(l.data_len, EVENT_SIZE_DEFAULT);
}

static void
test_publish_unauthorized(void **state)
{
	struct conn	 c;
	struct resp	 r;
	static const char body[] = "{\"topic\":\"t\",\"data\":\"x\"}";
	const char	*nv401[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    NULL };
	const char	*nv403[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    "HTTP_AUTHORIZATION", "Bearer wrong", NULL };
	uint64_t	 before = log_last();

	(void)state;
	request(srv.sock1, 12, nv401, body, sizeof(body) - 1, &c, &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.head, "\r\nWWW-Authenticate: Bearer"));
	conn_close(&c);
	request(srv.sock1, 13, nv403, body, sizeof(body) - 1, &c, &r);
	assert_int_equal(r.status, 403);
	conn_close(&c);
	assert_int_equal(log_last(), before);
}

/*
 * No Content-Length: the reader stops past body_max (max_event_size x 6 +
 * BODY_OVERHEAD_MAX) with "body too large"; a body of exactly body_max is
 * read and then refused by the parser for its data ("data too large").
 */
static void
post_form_of(size_t len, uint16_t id, int status, const char *reason)
{
	struct conn	 c;
	struct resp	 r;
	const char	*nv[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish",
	    "CONTENT_TYPE", "application/x-www-form-urlencoded",
	    "HTTP_AUTHORIZATION", "Bearer " TOKEN, NULL };
	char		*body;
	uint64_t	 before = log_last();

	body = malloc(len);
	assert_non_null(body);
	memcpy(body, "topic=t&data=", 13);
	memset(body + 13, 'z', len - 13);
	request(srv.sock1, id, nv, body, len, &c, &r);
	free(body);
	assert_int_equal(r.status, status);
	assert_int_equal(r.body_len, strlen(reason));
	assert_memory_equal(r.body, reason, strlen(reason));
	conn_close(&c);
	assert_int_equal(log_last(), before);
}

static void
test_publish_body_too_large(void **state)
{
	(void)state;
	post_form_of(EVENT_SIZE_DEFAULT * 6 + BODY_OVERHEAD_MAX + 1, 14, 413,
	    "body too large\n");
}

static void
test_publish_body_at_limit(void **state)
{
	(void)state;
	post_form_of(EVENT_SIZE_DEFAULT * 6 + BODY_OVERHEAD_MAX, 15, 413,
	    "data too large\n");
}

/*
 * GET /events is handed to the hub (requestId 7); the single worker goes
 * back to accept, so a publish on a new connection is answered while the
 * stream is open, and its event arrives on the stream in FCGI_STDOUT
 * records carrying requestId 7.
 */
static void
test_stream_handoff(void **state)
{
	struct conn	 st, c;
	struct resp	 r;
	uint64_t	 seq1, seq2;

	(void)state;
	open_stream(&st, 7, "topic=handoff");
	seq1 = publish_json(srv.sock1, 1, "handoff", "first");
	wait_event(&st, seq1, "first");
	/* Another request on a new connection, the stream still open. */
	simple_get("/healthz", 2, &c, &r);
	assert_int_equal(r.status, 200);
	conn_close(&c);
	seq2 = publish_json(srv.sock1, 3, "handoff", "second");
	assert_true(seq2 > seq1);
	wait_event(&st, seq2, "second");
	assert_false(st.stdout_end);
	assert_false(st.end_request);
	assert_int_equal(METRIC_GET(subscribers), 1);
	conn_close(&st);
	/* The hub notices the client left. */
	{
		int64_t deadline = tu_now_ms() + DEADLINE_MS;

		while (METRIC_GET(subscribers) != 0 && tu_now_ms() < deadline)
			tu_sleep_ms(2);
		assert_int_equal(METRIC_GET(subscribers), 0);
	}
}

/* lastEventId=0 over FastCGI: what was published replays, then live. */
static void
test_stream_replay(void **state)
{
	struct conn	 st;
	uint64_t	 s1, s2, s3;

	(void)state;
	s1 = publish_json(srv.sock1, 20, "replay", "r1");
	s2 = publish_json(srv.sock1, 21, "replay", "r2");
	open_stream(&st, 0x4242, "topic=replay&lastEventId=0");
	wait_event(&st, s1, "r1");
	wait_event(&st, s2, "r2");
	s3 = publish_json(srv.sock1, 22, "replay", "r3");
	wait_event(&st, s3, "r3");
	conn_close(&st);
}

/* FCGI_KEEP_CONN: two requests, one connection. */
static void
test_keep_conn(void **state)
{
	struct conn	 c;
	struct resp	 r;
	const char	*nv[] = { "REQUEST_METHOD", "GET",
	    "SCRIPT_NAME", "/healthz", NULL };

	(void)state;
	conn_open(&c, srv.sock1, 1);
	send_request(c.fd, 1, 1, nv, NULL, 0);
	conn_wait_end(&c);
	parse_resp(&c, &r);
	assert_int_equal(r.status, 200);
	assert_false(c.eof);

	/* The same connection, the next request. */
	free(c.out);
	c.out = NULL;
	c.out_len = c.out_off = c.out_cap = 0;
	c.stdout_end = c.end_request = 0;
	c.id = 2;
	send_request(c.fd, 2, 1, nv, NULL, 0);
	conn_wait_end(&c);
	parse_resp(&c, &r);
	assert_int_equal(r.status, 200);
	conn_close(&c);
}

/* ---- concurrent publishes through four workers ------------------------ */

#define PUB_THREADS	8
#define PUB_EACH	25

struct pub_thread {
	pthread_t	 t;
	int		 n;
	uint64_t	 seqs[PUB_EACH];
	int		 failed;
	char		 err[256];
};

/* One publish without cmocka (this runs off the main thread): 0 with
 * *seq from the 201, or -1 with err. */
static int
raw_publish(int n, int i, uint64_t *seq, char *err, size_t errsz)
{
	char		 body[128], clen[16], want[64], buf[8192];
	char		 content[8192];
	const char	*nv[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    "CONTENT_LENGTH", clen, "HTTP_AUTHORIZATION", "Bearer " TOKEN,
	    NULL };
	struct obuf	 req;
	size_t		 got = 0, pos, rlen, pad, clen_total = 0;
	char		*p;
	int		 fd = -1, bl, done = 0, ret = -1;
	uint16_t	 id = (uint16_t)(100 + n);
	ssize_t		 r;

	memset(&req, 0, sizeof(req));
	bl = snprintf(body, sizeof(body), "{\"topic\":\"conc\",\"data\":"
	    "\"%d-%d\"}", n, i);
	snprintf(clen, sizeof(clen), "%d", bl);
	if (build_request(&req, id, 0, nv, body, (size_t)bl) == -1) {
		snprintf(err, errsz, "out of memory");
		goto done;
	}
	if ((fd = try_connect(srv.sock4)) == -1 ||
	    write_all(fd, req.p, req.len) == -1) {
		snprintf(err, errsz, "connect/send: %s", strerror(errno));
		goto done;
	}
	/* The server closes after FCGI_END_REQUEST: read to EOF. */
	while (got < sizeof(buf) &&
	    (r = read(fd, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)r;
	for (pos = 0; pos + 8 <= got; pos += 8 + rlen + pad) {
		rlen = (size_t)(unsigned char)buf[pos + 4] << 8 |
		    (unsigned char)buf[pos + 5];
		pad = (unsigned char)buf[pos + 6];
		if (buf[pos] != 1 || (((unsigned char)buf[pos + 2] << 8) |
		    (unsigned char)buf[pos + 3]) != id ||
		    pos + 8 + rlen + pad > got) {
			snprintf(err, errsz, "bad record at %zu", pos);
			goto done;
		}
		if (buf[pos + 1] == FCGI_STDOUT &&
		    clen_total + rlen < sizeof(content)) {
			memcpy(content + clen_total, buf + pos + 8, rlen);
			clen_total += rlen;
		}
		if (buf[pos + 1] == FCGI_END_REQUEST)
			done = 1;
	}
	content[clen_total] = '\0';
	snprintf(want, sizeof(want), "{\"id\":\"%s-", srv.epoch);
	if (!done || strncmp(content, "Status: 201", 11) != 0 ||
	    (p = strstr(content, want)) == NULL) {
		snprintf(err, errsz, "response: %.200s", content);
		goto done;
	}
	*seq = strtoull(p + strlen(want), NULL, 10);
	ret = 0;
done:
	if (fd != -1)
		close(fd);
	free(req.p);
	return ret;
}

static void *
pub_main(void *arg)
{
	struct pub_thread	*pt = arg;
	int			 i;

	for (i = 0; i < PUB_EACH; i++)
		if (raw_publish(pt->n, i, &pt->seqs[i], pt->err,
		    sizeof(pt->err)) == -1) {
			pt->failed = 1;
			break;
		}
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_concurrent_publishes(void **state)
{
	struct pub_thread	 pt[PUB_THREADS];
	uint64_t		 all[PUB_THREADS * PUB_EACH];
	struct logged		 l;
	int			 i, j;

	(void)state;
	memset(pt, 0, sizeof(pt));
	for (i = 0; i < PUB_THREADS; i++) {
		pt[i].n = i;
		assert_int_equal(pthread_create(&pt[i].t, NULL, pub_main,
		    &pt[i]), 0);
	}
	for (i = 0; i < PUB_THREADS; i++)
		pthread_join(pt[i].t, NULL);
	for (i = 0; i < PUB_THREADS; i++)
		if (pt[i].failed)
			fail_msg("publisher %d: %s", i, pt[i].err);
	for (i = 0; i < PUB_THREADS; i++)
		for (j = 0; j < PUB_EACH; j++)
			all[i * PUB_EACH + j] = pt[i].seqs[j];
	qsort(all, PUB_THREADS * PUB_EACH, sizeof(all[0]), cmp_u64);
	for (i = 1; i < PUB_THREADS * PUB_EACH; i++)
		assert_true(all[i] > all[i - 1]);
	read_logged(pt[3].seqs[7], &l);
	assert_string_equal(l.topic, "conc");
	assert_string_equal(l.data_head, "3-7");
}


static void *
stopper_main(void *arg)
{
	struct stopper	*sp = arg;
	int64_t		 t0 = tu_now_ms();

	fcgi_stop(sp->pool);
	sp->ms = tu_now_ms() - t0;
	return NULL;
}

/*
 * Last (a process can stop its pools once). fcgi_stop() on pool 4 while
 * three workers wait in accept or on an idle FCGI_KEEP_CONN connection and
 * one is in the middle of a publish on another kept connection (held in
 * publish_via_committer until the stop has begun):
 *   - it returns promptly (< 2 s);
 *   - the request in progress finishes: 201 and FCGI_END_REQUEST;
 *   - its worker then closes the kept connection (EOF), since nothing
 *     will ever read from it again.
 * Then pool 1 stops promptly too, and the stream it handed to the hub is
 * not affected: it goes on, and ends cleanly (empty FCGI_STDOUT,
 * FCGI_END_REQUEST for its requestId) when the hub stops.
 */
/* test_stop_prompt's connections: static, so that group_teardown can
 * close them if the case fails half-way. */
static struct conn	 stop_conns[3] = { { .fd = -1 }, { .fd = -1 },
			    { .fd = -1 } };

static void
close_stop_conns(void)
{
	int i;

	for (i = 0; i < 3; i++)
		conn_close(&stop_conns[i]);
}

static void
test_stop_prompt(void **state)
{
	struct conn		*st = &stop_conns[0], *idle = &stop_conns[1];
	struct conn		*held = &stop_conns[2];
	struct resp		 r;
	struct publish_req	 req;
	static const char	 body[] = "{\"topic\":\"stop\",\"data\":\"held\"}";
	const char		*nv_get[] = { "REQUEST_METHOD", "GET",
	    "SCRIPT_NAME", "/healthz", NULL };
	const char		*nv_pub[] = { "REQUEST_METHOD", "POST",
	    "SCRIPT_NAME", "/publish", "CONTENT_TYPE", "application/json",
	    "HTTP_AUTHORIZATION", "Bearer " TOKEN, NULL };
	uint64_t		 seq;
	int64_t			 deadline, t1;

	(void)state;
	open_stream(st, 0x0107, "topic=stop");

	/* An idle kept connection: its worker waits for the next request. */
	conn_open(idle, srv.sock4, 5);
	send_request(idle->fd, 5, 1, nv_get, NULL, 0);
	conn_wait_end(idle);
	parse_resp(idle, &r);
	assert_int_equal(r.status, 200);

	/* A publish in progress on another kept connection. */
	atomic_store(&hold_publish, 1);
	conn_open(held, srv.sock4, 6);
	send_request(held->fd, 6, 1, nv_pub, body, sizeof(body) - 1);
	deadline = tu_now_ms() + DEADLINE_MS;
	while (!atomic_load(&in_publish) && tu_now_ms() < deadline)
		tu_sleep_ms(1);
	assert_true(atomic_load(&in_publish));

	stopper.pool = srv.pool4;
	stopper.ms = -1;
	srv.pool4 = NULL;	/* the stopper's now */
	assert_int_equal(pthread_create(&stopper.thread, NULL, stopper_main,
	    &stopper), 0);
	stopper.running = 1;
	conn_wait_end(held);
	parse_resp(held, &r);
	assert_int_equal(r.status, 201);
	pthread_join(stopper.thread, NULL);
	stopper.running = 0;
	atomic_store(&hold_publish, 0);
	if (stopper.ms >= 2000)
		fail_msg("fcgi_stop (pool 4) took %lld ms",
		    (long long)stopper.ms);
	/* Its worker has exited: the connection is closed by now or never. */
	deadline = tu_now_ms() + 2000;
	while (!held->eof)
		if (conn_fill(held, deadline) == -2)
			fail_msg("the kept connection of a finished request"
			    " was left open by fcgi_stop()");
	conn_close(held);
	/* And the idle one, whichever way its worker went out. */
	deadline = tu_now_ms() + 2000;
	while (!idle->eof)
		if (conn_fill(idle, deadline) == -2)
			fail_msg("an idle kept connection was left open by"
			    " fcgi_stop()");
	conn_close(idle);

	t1 = tu_now_ms();
	fcgi_stop(srv.pool1);
	srv.pool1 = NULL;
	if (tu_now_ms() - t1 >= 2000)
		fail_msg("fcgi_stop (pool 1) took %lld ms",
		    (long long)(tu_now_ms() - t1));

	memset(&req, 0, sizeof(req));
	strcpy(req.topic, "stop");
	req.data = "after";
	req.data_len = 5;
	assert_int_equal(committer_publish(srv.com, &req, &seq), 0);
	wait_event(st, seq, "after");

	hub_stop(srv.hub);
	pthread_join(srv.hub_thread, NULL);
	srv.hub_running = 0;
	assert_int_equal(srv.hub_rc, 0);
	while (!st->eof)
		if (conn_fill(st, tu_now_ms() + DEADLINE_MS) == -2)
			fail_msg("the stream did not end");
	assert_true(st->stdout_end);
	assert_true(st->end_request);
	assert_int_equal(st->proto_status, 0);
	conn_close(st);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_healthz),
	cmocka_unit_test(test_head_has_no_body),
	cmocka_unit_test(test_not_found),
	cmocka_unit_test(test_prefix_mount),
	cmocka_unit_test(test_events_400_answered),
	cmocka_unit_test(test_params_long_lengths),
	cmocka_unit_test(test_publish_commits),
	cmocka_unit_test(test_publish_large_body),
	cmocka_unit_test(test_publish_unauthorized),
	cmocka_unit_test(test_publish_body_too_large),
	cmocka_unit_test(test_publish_body_at_limit),
	cmocka_unit_test(test_stream_handoff),
	cmocka_unit_test(test_stream_replay),
	cmocka_unit_test(test_keep_conn),
	cmocka_unit_test(test_concurrent_publishes),
	cmocka_unit_test(test_stop_prompt),	/* must be last */
};

int
main(void)
{
	char			 err[256];

	struct sigaction	 sa;

	if (fcgi_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	/* As fcgi_init()'s handler, plus a note for test_stop_prompt. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = note_usr2;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) == -1)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
