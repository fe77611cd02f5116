/*
 * test_hub.c: backend/hub.c, driven for real.
 *
 * Each case makes a log in a temporary directory, runs a hub on it in a
 * thread and hands it streams on socketpair()s, as fcgi.c and cgi.c do. The
 * test reads the other end and parses what arrives: with FRAMING_FCGI the
 * FastCGI records (FastCGI 1.0, section 3.3: version 1, type, requestId,
 * contentLength, paddingLength), checking every header; then the CGI
 * response head, the "retry:" hint and the SSE events. Events are appended
 * on a second evlog connection followed by hub_notify(), as the committer
 * does.
 *
 * Nothing sleeps and hopes: every wait is a poll() or a condition checked
 * against a deadline, and the deadlines are generous (they only matter
 * when something is broken).
 *
 * The hub writes to sockets whose peer may be gone; like every program that
 * embeds it (fcgi_init(), cgi.c, cli.c), the test ignores SIGPIPE.
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
#include <unistd.h>

#include "bounds.h"
#include "config.h"
#include "eventid.h"
#include "evlog.h"
#include "hub.h"
#include "metrics.h"
#include "testutil.h"

#define DEADLINE_MS	10000	/* for anything that should take far less */
#define STREAMS_MAX	32

/* FastCGI 1.0, section 8. */
#define FCGI_END_REQUEST	3
#define FCGI_STDIN		5
#define FCGI_STDOUT		6

/* ---- reading a stream ---------------------------------------------------- */

struct stream {
	int		 fd;
	int		 framing;
	uint16_t	 reqid;
	unsigned char	*raw;		/* FCGI bytes not yet a whole record */
	size_t		 raw_len, raw_cap;
	char		*buf;		/* response bytes (record contents) */
	size_t		 len, off, cap;
	int		 eof;
	int		 stdout_end;	/* the empty FCGI_STDOUT record */
	int		 end_request;	/* FCGI_END_REQUEST */
	size_t		 records;
	size_t		 total;		/* bytes read from the socket */
};

struct sse_ev {
	int		 has_id;
	char		 id[64];
	uint64_t	 seq;
	char		 event[EVENT_NAME_MAX + 8];
	char		 data[4096];
	size_t		 data_len;
	int		 has_retry;
	long		 retry;
	int		 comment;
	char		 ctext[64];
};

static void
buf_add(struct stream *st, const void *p, size_t n)
{
	if (st->off == st->len)
		st->off = st->len = 0;
	else if (st->off > 1024 * 1024) {
		memmove(st->buf, st->buf + st->off, st->len - st->off);
		st->len -= st->off;
		st->off = 0;
	}
	grow(&st->buf, &st->cap, st->len + n + 1);
	memcpy(st->buf + st->len, p, n);
	st->len += n;
	st->buf[st->len] = '\0';
}

/* Take the whole records out of st->raw, checking every header. */
static void
parse_records(struct stream *st)
{
	const unsigned char	*h;
	size_t			 pos = 0, clen, pad;
	unsigned		 reqid;

	while (st->raw_len - pos >= 8) {
		h = st->raw + pos;
		clen = (size_t)h[4] << 8 | h[5];
		pad = h[6];
		if (st->raw_len - pos < 8 + clen + pad)
			break;
		reqid = (unsigned)h[2] << 8 | h[3];
		if (h[0] != 1)
			fail_msg("record %zu: version %u", st->records, h[0]);
		if (reqid != st->reqid)
			fail_msg("record %zu: requestId %u, want %u",
			    st->records, reqid, st->reqid);
		if (st->end_request)
			fail_msg("record type %u after FCGI_END_REQUEST", h[1]);
		switch (h[1]) {
		case FCGI_STDOUT:
			if (clen == 0)
				st->stdout_end = 1;
			else if (st->stdout_end)
				fail_msg("FCGI_STDOUT after the empty one");
			else
				buf_add(st, h + 8, clen);
			break;
		case FCGI_END_REQUEST:
			if (!st->stdout_end)
				fail_msg("FCGI_END_REQUEST before the end of"
				    " FCGI_STDOUT");
			if (clen != 8)
				fail_msg("FCGI_END_REQUEST of %zu bytes", clen);
			/* appStatus 0, protocolStatus FCGI_REQUEST_COMPLETE */
			if (h[8] || h[9] || h[10] || h[11] || h[12] != 0)
				fail_msg("FCGI_END_REQUEST status %u/%u",
				    h[11], h[12]);
			st->end_request = 1;
			break;
		default:
			fail_msg("unexpected record type %u", h[1]);
		}
		st->records++;
		pos += 8 + clen + pad;
	}
	memmove(st->raw, st->raw + pos, st->raw_len - pos);
	st->raw_len -= pos;
}

/* Read once. 1 if bytes came, 0 at EOF, -2 at the deadline. */
static int
stream_fill(struct stream *st, int64_t deadline)
{
	static char	 tmp[256 * 1024];
	ssize_t		 r;

	if (st->eof)
		return 0;
	r = tu_read_until(st->fd, tmp, sizeof(tmp), deadline);
	if (r == -2)
		return -2;
	if (r == -1)
		fail_msg("read: %s", strerror(errno));
	if (r == 0) {
		st->eof = 1;
		if (st->raw_len != 0)
			fail_msg("EOF inside a FastCGI record");
		return 0;
	}
	st->total += (size_t)r;
	if (st->framing == FRAMING_RAW) {
		buf_add(st, tmp, (size_t)r);
		return 1;
	}
	grow(&st->raw, &st->raw_cap, st->raw_len + (size_t)r);
	memcpy(st->raw + st->raw_len, tmp, (size_t)r);
	st->raw_len += (size_t)r;
	parse_records(st);
	return 1;
}

/* The CGI head ("Status: 200 OK" ... blank line) into head. */
static void
read_head(struct stream *st, char *head, size_t headsz)
{
	int64_t	 deadline = tu_now_ms() + DEADLINE_MS;
	char	*end;
	size_t	 n;

	while ((end = st->buf ? strstr(st->buf + st->off, "\r\n\r\n") :
	    NULL) == NULL) {
		if (stream_fill(st, deadline) != 1)
			fail_msg("no response head (%s)",
			    st->eof ? "EOF" : "timeout");
	}
	n = (size_t)(end + 4 - (st->buf + st->off));
	assert_true(n < headsz);
	memcpy(head, st->buf + st->off, n);
	head[n] = '\0';
	st->off += n;
	if (strncmp(head, "Status: 200 OK\r\n", 16) != 0)
		fail_msg("head does not start with the status: %s", head);
}

static void
parse_block(const char *p, size_t n, struct sse_ev *ev)
{
	const char	*end = p + n, *nl;
	size_t		 l, take;
	int		 ndata = 0;

	memset(ev, 0, sizeof(*ev));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		l = (size_t)(nl - p);
		if (l > 0 && p[0] == ':') {
			ev->comment = 1;
			snprintf(ev->ctext, sizeof(ev->ctext), "%.*s", (int)l,
			    p);
		} else if (l >= 4 && memcmp(p, "id: ", 4) == 0) {
			ev->has_id = 1;
			snprintf(ev->id, sizeof(ev->id), "%.*s", (int)l - 4,
			    p + 4);
			if (strchr(ev->id, '-') == NULL)
				fail_msg("id without epoch: %s", ev->id);
			ev->seq = strtoull(strchr(ev->id, '-') + 1, NULL, 10);
		} else if (l >= 7 && memcmp(p, "event: ", 7) == 0) {
			snprintf(ev->event, sizeof(ev->event), "%.*s",
			    (int)l - 7, p + 7);
		} else if (l >= 6 && memcmp(p, "data: ", 6) == 0) {
			if (ndata++ > 0 && ev->data_len < sizeof(ev->data) - 1)
				ev->data[ev->data_len++] = '\n';
			take = l - 6;
			if (take > sizeof(ev->data) - 1 - ev->data_len)
				take = sizeof(ev->data) - 1 - ev->data_len;
			memcpy(ev->data + ev->data_len, p + 6, take);
			ev->data_len += take;
		} else if (l >= 7 && memcmp(p, "retry: ", 7) == 0) {
			ev->has_retry = 1;
			ev->retry = strtol(p + 7, NULL, 10);
		} else
			fail_msg("unexpected SSE line: %.*s", (int)l, p);
		p = nl + 1;
	}
	ev->data[ev->data_len] = '\0';
}

/* The next SSE block (event, retry or comment): 1, 0 at EOF, -2 timeout. */
static int
next_block(struct stream *st, struct sse_ev *ev, int64_t deadline)
{
	char	*end;
	int	 r;

	for (;;) {
		if (st->buf != NULL && st->len > st->off &&
		    (end = strstr(st->buf + st->off, "\n\n")) != NULL) {
			parse_block(st->buf + st->off,
			    (size_t)(end + 1 - (st->buf + st->off)), ev);
			st->off = (size_t)(end + 2 - st->buf);
			return 1;
		}
		if ((r = stream_fill(st, deadline)) != 1) {
			if (r == 0 && st->len > st->off)
				fail_msg("EOF inside an event: %.*s",
				    (int)(st->len - st->off), st->buf + st->off);
			return r;
		}
	}
}

/* The next event, skipping keepalive comments. */
static void
next_event(struct stream *st, struct sse_ev *ev, int64_t deadline)
{
	int r;

	for (;;) {
		r = next_block(st, ev, deadline);
		if (r != 1)
			fail_msg("no event: %s", r == 0 ? "EOF" : "timeout");
		if (ev->comment) {
			if (strcmp(ev->ctext, ": keepalive") != 0)
				fail_msg("unexpected comment %s", ev->ctext);
			continue;
		}
		if (ev->has_retry && !ev->has_id)
			fail_msg("a second retry line");
		return;
	}
}

/* ---- the fixture ---------------------------------------------------------- */

struct fx;

/* A thread appending while a stream reads (test_seam_concurrent). */
struct appender {
	struct fx	*fx;
	struct evlog	*log;
	pthread_t	 thread;
	int		 running;
	atomic_int	 appended;
	int		 failed;
	char		 err[512];
};

struct fx {
	char		 dir[256];
	char		 db[300];
	struct config	 cfg;
	struct evlog	*w;		/* the writer's connection */
	char		 epoch[EPOCH_HEX_LEN + 1];
	struct hub	*hub;
	pthread_t	 thread;
	int		 running;
	int		 hub_rc;
	struct stream	*streams[STREAMS_MAX];
	int		 nstreams;
	int		 sndbuf;	/* SO_SNDBUF for the hub's end, 0: default */
	struct appender	 app;		/* joined by teardown if still running */
};

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));
	char		 err[512];

	if (fx == NULL || tu_mkdtemp(fx->dir, sizeof(fx->dir)) == -1) {
		free(fx);
		return -1;
	}
	tu_path(fx->db, sizeof(fx->db), fx->dir, "log.db");
	config_defaults(&fx->cfg);
	fx->cfg.sync_full = 0;
	if (evlog_open(&fx->w, fx->db, EVLOG_CREATE, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "%s\n", err);
		tu_rmtree(fx->dir);
		free(fx);
		return -1;
	}
	strcpy(fx->epoch, evlog_epoch(fx->w));
	METRIC_SET(log_first_seq, 0);
	METRIC_SET(log_last_seq, 0);
	*state = fx;
	return 0;
}

static void *
hub_main(void *arg)
{
	struct fx *fx = arg;

	fx->hub_rc = hub_run(fx->hub);
	return NULL;
}

static void
start_hub(struct fx *fx)
{
	char err[512] = "";

	if (hub_create(&fx->hub, fx->db, 1, &fx->cfg, 0, err, sizeof(err)) ==
	    -1)
		fail_msg("hub_create: %s", err);
	assert_string_equal(hub_epoch(fx->hub), fx->epoch);
	assert_int_equal(pthread_create(&fx->thread, NULL, hub_main, fx), 0);
	fx->running = 1;
}

/* hub_stop() and wait for hub_run() to return; the hub is not freed. */
static void
join_hub(struct fx *fx)
{
	if (!fx->running)
		return;
	hub_stop(fx->hub);
	pthread_join(fx->thread, NULL);
	fx->running = 0;
	assert_int_equal(fx->hub_rc, 0);
}

static int
teardown(void **state)
{
	struct fx	*fx = *state;
	int		 i;

	/* A failed case may leave its appender running: it goes first. */
	if (fx->app.running)
		pthread_join(fx->app.thread, NULL);
	evlog_close(fx->app.log);
	if (fx->running) {
		hub_stop(fx->hub);
		pthread_join(fx->thread, NULL);
	}
	hub_free(fx->hub);
	for (i = 0; i < fx->nstreams; i++) {
		close(fx->streams[i]->fd);
		free(fx->streams[i]->raw);
		free(fx->streams[i]->buf);
		free(fx->streams[i]);
	}
	evlog_close(fx->w);
	tu_rmtree(fx->dir);
	free(fx);
	METRIC_SET(subscribers, 0);
	return 0;
}

/* ---- appending ------------------------------------------------------------ */

/* Append n events on topic, data "<topic>:<seq-to-be>" padded to at least
 * size bytes, in batches; tell the hub if it runs. Returns the last seq. */
static uint64_t
append(struct fx *fx, const char *topic, size_t n, size_t size)
{
	struct evlog_new	*evs;
	char			*data;
	size_t			 i, done, batch, dsz = size + 32;
	uint64_t		 last = 0;

	evs = calloc(1000, sizeof(*evs));
	data = calloc(1000, dsz);
	assert_non_null(evs);
	assert_non_null(data);
	for (done = 0; done < n; done += batch) {
		batch = n - done < 1000 ? n - done : 1000;
		for (i = 0; i < batch; i++) {
			char *d = data + i * dsz;
			int len = snprintf(d, dsz, "%s:%zu", topic, done + i);

			if ((size_t)len < size) {
				memset(d + len, 'x', size - (size_t)len);
				len = (int)size;
			}
			evs[i].topic = topic;
			evs[i].event = NULL;
			evs[i].data = d;
			evs[i].data_len = (size_t)len;
		}
		if (evlog_append(fx->w, evs, batch, 1000) == -1)
			fail_msg("append: %s", evlog_errmsg(fx->w));
		last = evs[batch - 1].seq;
		if (fx->hub != NULL)
			hub_notify(fx->hub);
	}
	free(data);
	free(evs);
	return last;
}

/* ---- opening streams -------------------------------------------------- */

/*
 * Hand the hub one end of a socketpair as a validated GET /events for the
 * comma-separated topics, resuming from resume (NULL: live only), and
 * return the other end. The head and the retry hint are read and checked.
 */
static struct stream *
open_stream_raw(struct fx *fx, enum hub_framing framing, uint16_t reqid,
    const char *topics, const char *resume, const char *origin)
{
	struct stream_req	 req;
	struct stream		*st;
	const char		*p, *comma;
	int			 sv[2];

	assert_true(fx->nstreams < STREAMS_MAX);
	memset(&req, 0, sizeof(req));
	for (p = topics; *p != '\0'; p = *comma ? comma + 1 : comma) {
		comma = strchr(p, ',');
		if (comma == NULL)
			comma = p + strlen(p);
		assert_true(req.ntopics < TOPICS_MAX);
		snprintf(req.topics[req.ntopics++], TOPIC_MAX + 1, "%.*s",
		    (int)(comma - p), p);
	}
	if (resume != NULL) {
		assert_int_equal(eventid_parse(resume, strlen(resume),
		    &req.resume), 0);
		req.has_resume = 1;
		snprintf(req.resume_raw, sizeof(req.resume_raw), "%s", resume);
	}
	if (origin != NULL)
		snprintf(req.allow_origin, sizeof(req.allow_origin), "%s",
		    origin);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	if (fx->sndbuf > 0)
		assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF,
		    &fx->sndbuf, sizeof(fx->sndbuf)), 0);
	st = calloc(1, sizeof(*st));
	assert_non_null(st);
	st->fd = sv[1];
	st->framing = framing;
	st->reqid = reqid;
	fx->streams[fx->nstreams++] = st;
	assert_int_equal(hub_adopt(fx->hub, sv[0], reqid, framing, &req), 0);
	return st;
}

static void
check_retry(struct fx *fx, struct stream *st, long *got)
{
	struct sse_ev	 ev;
	long		 want = fx->cfg.retry_ms;
	long		 jitter = want * RETRY_JITTER_PERCENT / 100;

	if (next_block(st, &ev, tu_now_ms() + DEADLINE_MS) != 1)
		fail_msg("no retry hint (%s)", st->eof ? "EOF" : "timeout");
	if (!ev.has_retry || ev.has_id || ev.comment || ev.data_len != 0)
		fail_msg("the first block is not the retry hint");
	if (ev.retry < want - jitter || ev.retry > want + jitter)
		fail_msg("retry %ld outside %ld +- %ld", ev.retry, want,
		    jitter);
	if (got != NULL)
		*got = ev.retry;
}

static struct stream *
open_stream(struct fx *fx, enum hub_framing framing, const char *topics,
    const char *resume)
{
	struct stream	*st;
	char		 head[2048];

	st = open_stream_raw(fx, framing, 7, topics, resume, NULL);
	read_head(st, head, sizeof(head));
	check_retry(fx, st, NULL);
	return st;
}

/* ---- what arrives --------------------------------------------------------- */

static void
expect_id(struct fx *fx, const struct sse_ev *ev, uint64_t seq)
{
	char want[EVENT_ID_MAX + 1];

	eventid_format(want, sizeof(want), fx->epoch, seq);
	if (!ev->has_id || strcmp(ev->id, want) != 0)
		fail_msg("event id \"%s\", want \"%s\"", ev->id, want);
}

/* The next events are exactly seqs[0..n) (on their topics), in order. */
static void
expect_seqs(struct fx *fx, struct stream *st, const uint64_t *seqs,
    size_t n)
{
	struct sse_ev	 ev;
	int64_t		 deadline = tu_now_ms() + DEADLINE_MS;
	size_t		 i;

	for (i = 0; i < n; i++) {
		next_event(st, &ev, deadline);
		expect_id(fx, &ev, seqs[i]);
		assert_string_equal(ev.event, "");
	}
}

static void
expect_range(struct fx *fx, struct stream *st, uint64_t from, uint64_t to)
{
	struct sse_ev	 ev;
	int64_t		 deadline = tu_now_ms() + DEADLINE_MS;
	uint64_t	 seq;

	for (seq = from; seq <= to; seq++) {
		next_event(st, &ev, deadline);
		expect_id(fx, &ev, seq);
	}
}

static void
expect_gap(struct fx *fx, struct stream *st, uint64_t id_seq,
    const char *asked, const char *first_avail)
{
	struct sse_ev	 ev;
	char		 data[256];

	next_event(st, &ev, tu_now_ms() + DEADLINE_MS);
	assert_string_equal(ev.event, "gap");
	expect_id(fx, &ev, id_seq);
	if (first_avail != NULL)
		snprintf(data, sizeof(data), "{\"lastEventId\":\"%s\","
		    "\"firstAvailableId\":\"%s\"}", asked, first_avail);
	else
		snprintf(data, sizeof(data), "{\"lastEventId\":\"%s\","
		    "\"firstAvailableId\":null}", asked);
	assert_string_equal(ev.data, data);
}

/* Read to EOF (at most DEADLINE_MS), keeping what arrives unparsed. */
static void
read_to_eof(struct stream *st)
{
	int64_t deadline = tu_now_ms() + DEADLINE_MS;

	while (!st->eof)
		if (stream_fill(st, deadline) == -2)
			fail_msg("no EOF within %d ms", DEADLINE_MS);
}

static int
wait_subscribers(long want, int64_t deadline)
{
	while (METRIC_GET(subscribers) != want) {
		if (tu_now_ms() > deadline)
			return -1;
		tu_sleep_ms(2);
	}
	return 0;
}

static char *
id_of(struct fx *fx, uint64_t seq, char *buf)
{
	eventid_format(buf, EVENT_ID_MAX + 1, fx->epoch, seq);
	return buf;
}

/* ---- the response head --------------------------------------------------- */

static void
test_head_and_retry(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	char		 head[2048];

	fx->cfg.retry_ms = 3000;
	start_hub(fx);
	st = open_stream_raw(fx, FRAMING_RAW, 0, "a", NULL, NULL);
	read_head(st, head, sizeof(head));
	assert_non_null(strstr(head, "\r\nContent-Type: text/event-stream;"
	    " charset=utf-8\r\n"));
	assert_non_null(strstr(head, "\r\nCache-Control: no-store\r\n"));
	assert_non_null(strstr(head, "\r\nX-Accel-Buffering: no\r\n"));
	assert_null(strstr(head, "Access-Control"));
	assert_null(strstr(head, "Content-Length"));
	check_retry(fx, st, NULL);
}

/* +-30 % per connection, so a mass reconnect is spread out. */
static void
test_retry_jitter(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	char		 head[2048];
	long		 first = -1, r;
	int		 i, differ = 0;

	fx->cfg.retry_ms = 3000;
	start_hub(fx);
	for (i = 0; i < 20; i++) {
		st = open_stream_raw(fx, FRAMING_RAW, 0, "a", NULL, NULL);
		read_head(st, head, sizeof(head));
		check_retry(fx, st, &r);
		if (first == -1)
			first = r;
		differ |= r != first;
	}
	/* 20 draws from 1801 values: all equal only if there is no jitter. */
	assert_true(differ);
}

static void
test_retry_zero(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	char		 head[2048];
	long		 r = -1;

	fx->cfg.retry_ms = 0;
	start_hub(fx);
	st = open_stream_raw(fx, FRAMING_RAW, 0, "a", NULL, NULL);
	read_head(st, head, sizeof(head));
	check_retry(fx, st, &r);
	assert_int_equal(r, 0);
}

static void
test_head_cors(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	char		 head[2048];

	start_hub(fx);
	st = open_stream_raw(fx, FRAMING_RAW, 0, "a", NULL,
	    "https://app.example");
	read_head(st, head, sizeof(head));
	assert_non_null(strstr(head, "\r\nAccess-Control-Allow-Origin:"
	    " https://app.example\r\n"
	    "Access-Control-Allow-Credentials: true\r\n"));
	assert_non_null(strstr(head, "\r\nVary: Origin\r\n"));
	check_retry(fx, st, NULL);
}

/* ---- where a stream starts ------------------------------------------------ */

static void
test_live_only(void **state)
{
	struct fx		*fx = *state;
	struct stream		*probe, *st;
	static const uint64_t	 want[] = { 4, 5 };

	start_hub(fx);
	/* Events 1..3 are in the tail once a live stream has seen them. */
	probe = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 3, 0);
	expect_range(fx, probe, 1, 3);
	/* The head came: the hub has adopted the stream. */
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 2, 0);
	expect_seqs(fx, st, want, 2);
}

/* Live only, also when the old events were never in the tail. */
static void
test_live_only_skips_log(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const uint64_t	 want[] = { 4 };

	append(fx, "a", 3, 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 1);
}

/*
 * Live only means no history (README.md, "Resume point": "neither: live
 * only, no history"): events another process committed before the stream
 * was accepted (the hub has not polled them into its tail yet) are history
 * too. sub_start() reads the log's bounds, so it knows where "now" is.
 */
static void
test_live_only_excludes_unpolled(void **state)
{
	struct fx		*fx = *state;
	struct stream		*probe, *st;
	struct evlog_new	 ev[3];
	static const uint64_t	 want[] = { 5 };
	int			 i;

	start_hub(fx);
	probe = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 1, 0);
	expect_range(fx, probe, 1, 1);
	/* As another process: committed, no hub_notify(). */
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < 3; i++) {
		ev[i].topic = "a";
		ev[i].data = "before";
		ev[i].data_len = 6;
	}
	assert_int_equal(evlog_append(fx->w, ev, 3, 1000), 0);
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 1);
}

static void
test_resume_zero(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	struct sse_ev		 ev;
	static const uint64_t	 want[] = { 1, 2, 3 };
	static const uint64_t	 live[] = { 4, 5 };
	unsigned long long	 replayed, delivered;

	append(fx, "a", 3, 0);
	start_hub(fx);
	replayed = METRIC_GET(events_replayed);
	delivered = METRIC_GET(events_delivered);
	st = open_stream(fx, FRAMING_RAW, "a", "0");
	next_event(st, &ev, tu_now_ms() + DEADLINE_MS);
	expect_id(fx, &ev, 1);
	assert_string_equal(ev.data, "a:0");
	expect_seqs(fx, st, want + 1, 2);
	append(fx, "a", 2, 0);
	expect_seqs(fx, st, live, 2);
	assert_int_equal(METRIC_GET(events_replayed) - replayed, 3);
	assert_int_equal(METRIC_GET(events_delivered) - delivered, 2);
}

static void
test_resume_n(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st1, *st2;
	char			 id[EVENT_ID_MAX + 1];
	static const uint64_t	 from2[] = { 3, 4, 5, 6 };
	static const uint64_t	 from4[] = { 5, 6 };

	append(fx, "a", 5, 0);
	start_hub(fx);
	st1 = open_stream(fx, FRAMING_RAW, "a", id_of(fx, 2, id));
	st2 = open_stream(fx, FRAMING_RAW, "a", "4");	/* a bare seq */
	append(fx, "a", 1, 0);
	expect_seqs(fx, st1, from2, 4);
	expect_seqs(fx, st2, from4, 2);
}

/* Resuming at the newest event: nothing to replay, then live. */
static void
test_resume_at_last(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const uint64_t	 want[] = { 4 };

	append(fx, "a", 3, 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", "3");
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 1);
}

/* Resuming inside the tail (events that arrived after the hub started). */
static void
test_resume_in_tail(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const uint64_t	 want[] = { 5, 6, 7, 8 };

	append(fx, "a", 2, 0);
	start_hub(fx);
	append(fx, "a", 5, 0);
	st = open_stream(fx, FRAMING_RAW, "a", "4");
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 4);
}

/* a, b, c, a, b, c, ...: a stream on a and c sees only those, in order,
 * from the log and then live; one on b alone (the one-topic query) too. */
static void
test_multi_topic(void **state)
{
	struct fx		*fx = *state;
	struct stream		*ac, *b;
	static const uint64_t	 want_ac[] = { 1, 3, 4, 6, 7, 9, 10, 12 };
	static const uint64_t	 want_b[] = { 2, 5, 8, 11 };
	int			 i;

	for (i = 0; i < 3; i++) {
		append(fx, "a", 1, 0);
		append(fx, "b", 1, 0);
		append(fx, "c", 1, 0);
	}
	start_hub(fx);
	ac = open_stream(fx, FRAMING_RAW, "a,c", "0");
	b = open_stream(fx, FRAMING_RAW, "b", "0");
	append(fx, "a", 1, 0);
	append(fx, "b", 1, 0);
	append(fx, "c", 1, 0);
	expect_seqs(fx, ac, want_ac, 8);
	expect_seqs(fx, b, want_b, 4);
}

static void
test_live_topic_filter(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const uint64_t	 want[] = { 2, 5 };

	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "x,z", NULL);
	append(fx, "y", 1, 0);
	append(fx, "x", 1, 0);
	append(fx, "xx", 1, 0);
	append(fx, "y", 1, 0);
	append(fx, "z", 1, 0);
	expect_seqs(fx, st, want, 2);
}

/* ---- gaps ---------------------------------------------------------------- */

static void
test_gap_future_id(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 asked[EVENT_ID_MAX + 1], first[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 1, 2, 3, 4 };
	unsigned long long	 gaps = METRIC_GET(gaps);

	append(fx, "a", 3, 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", id_of(fx, 10, asked));
	expect_gap(fx, st, 0, asked, id_of(fx, 1, first));
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 4);
	assert_int_equal(METRIC_GET(gaps) - gaps, 1);
}

static void
test_gap_future_bare_seq(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 first[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 1, 2 };

	append(fx, "a", 2, 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", "3");
	expect_gap(fx, st, 0, "3", id_of(fx, 1, first));
	expect_seqs(fx, st, want, 2);
}

static void
test_gap_foreign_epoch(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 asked[EVENT_ID_MAX + 1], first[EVENT_ID_MAX + 1];
	char			 other[EPOCH_HEX_LEN + 1];
	static const uint64_t	 want[] = { 1, 2, 3 };

	append(fx, "a", 3, 0);
	strcpy(other, fx->epoch);
	other[0] = other[0] == '0' ? '1' : '0';
	eventid_format(asked, sizeof(asked), other, 2);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", asked);
	expect_gap(fx, st, 0, asked, id_of(fx, 1, first));
	expect_seqs(fx, st, want, 3);
}

static void
test_gap_pruned(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 asked[EVENT_ID_MAX + 1], first[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 7, 8, 9, 10, 11 };
	size_t			 deleted;

	append(fx, "a", 10, 0);
	assert_int_equal(evlog_prune(fx->w, 4, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 6);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", id_of(fx, 3, asked));
	/* The gap's id is just before the first available event, so a
	 * reconnect after it resumes there without another gap. */
	expect_gap(fx, st, 6, asked, id_of(fx, 7, first));
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 5);
}

/* Resume point 0 on a pruned log: the start is gone, that is a gap. */
static void
test_gap_pruned_from_zero(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 first[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 4, 5 };
	size_t			 deleted;

	append(fx, "a", 5, 0);
	assert_int_equal(evlog_prune(fx->w, 2, 0, 100, &deleted), 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", "0");
	expect_gap(fx, st, 3, "0", id_of(fx, 4, first));
	expect_seqs(fx, st, want, 2);
}

/* Resuming right before the first retained event loses nothing. */
static void
test_no_gap_at_first(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 id[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 7, 8, 9, 10 };
	size_t			 deleted;

	append(fx, "a", 10, 0);
	assert_int_equal(evlog_prune(fx->w, 4, 0, 100, &deleted), 0);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", id_of(fx, 6, id));
	expect_seqs(fx, st, want, 4);
}

/* Everything pruned: firstAvailableId is null, the gap's id is the last
 * seq, and the stream goes on live. */
static void
test_gap_emptied_log(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const uint64_t	 want[] = { 6 };
	size_t			 deleted;

	append(fx, "a", 5, 0);
	assert_int_equal(evlog_prune(fx->w, 0, 99999, 100, &deleted), 0);
	assert_int_equal(deleted, 5);
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", "2");
	expect_gap(fx, st, 5, "2", NULL);
	append(fx, "a", 1, 0);
	expect_seqs(fx, st, want, 1);
}

/* Pruned while the hub runs (by another connection, as retention does). */
static void
test_gap_pruned_while_running(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 asked[EVENT_ID_MAX + 1], first[EVENT_ID_MAX + 1];
	static const uint64_t	 want[] = { 9, 10 };
	size_t			 deleted;

	start_hub(fx);
	append(fx, "a", 10, 0);
	assert_int_equal(evlog_prune(fx->w, 2, 0, 100, &deleted), 0);
	st = open_stream(fx, FRAMING_RAW, "a", id_of(fx, 5, asked));
	expect_gap(fx, st, 8, asked, id_of(fx, 9, first));
	expect_seqs(fx, st, want, 2);
}

/* ---- the seam and depth ------------------------------------------------- */

#define SEAM_BEFORE	1000
#define SEAM_EVENTS	5000

static void *
appender_main(void *arg)
{
	struct appender		*a = arg;
	struct evlog_new	 evs[8];
	char			 data[8][32];
	int			 n, i, batch;

	for (n = 0; n < SEAM_EVENTS; n += batch) {
		batch = 1 + n % 7;
		if (batch > SEAM_EVENTS - n)
			batch = SEAM_EVENTS - n;
		memset(evs, 0, sizeof(evs));
		for (i = 0; i < batch; i++) {
			snprintf(data[i], sizeof(data[i]), "s%d", n + i);
			evs[i].topic = "seam";
			evs[i].data = data[i];
			evs[i].data_len = strlen(data[i]);
		}
		if (evlog_append(a->log, evs, (size_t)batch, 1000) == -1) {
			snprintf(a->err, sizeof(a->err), "%s",
			    evlog_errmsg(a->log));
			a->failed = 1;
			break;
		}
		hub_notify(a->fx->hub);
		atomic_store(&a->appended, n + batch);
	}
	return NULL;
}

/*
 * lastEventId=0 while another thread appends continuously: the stream
 * replays from SQLite (the events from before the hub started), joins the
 * tail and goes live, and must see 1..N once each, in order.
 */
static void
test_seam_concurrent(void **state)
{
	struct fx	*fx = *state;
	struct appender	*a = &fx->app;
	struct stream	*st[2];
	char		 err[512];
	int64_t		 deadline;
	int		 i;

	append(fx, "seam", SEAM_BEFORE, 0);
	start_hub(fx);
	a->fx = fx;
	if (evlog_open(&a->log, fx->db, 0, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(pthread_create(&a->thread, NULL, appender_main, a),
	    0);
	a->running = 1;
	/* One stream early, one in the middle of the appends. */
	deadline = tu_now_ms() + DEADLINE_MS;
	while (atomic_load(&a->appended) < 200 && tu_now_ms() < deadline)
		tu_sleep_ms(1);
	st[0] = open_stream(fx, FRAMING_RAW, "seam", "0");
	while (atomic_load(&a->appended) < SEAM_EVENTS / 2 &&
	    tu_now_ms() < deadline)
		tu_sleep_ms(1);
	st[1] = open_stream(fx, FRAMING_FCGI, "seam", "0");
	for (i = 0; i < 2; i++)
		expect_range(fx, st[i], 1, SEAM_BEFORE + SEAM_EVENTS);
	pthread_join(a->thread, NULL);
	a->running = 0;
	if (a->failed)
		fail_msg("appender: %s", a->err);
}

#define DEEP_EVENTS	50000

/* 50,000 events from SQLite, framed for FastCGI (records are split at
 * 65535 bytes), complete and in order, then live. */
static void
test_deep_replay(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;

	append(fx, "deep", DEEP_EVENTS, 20);
	start_hub(fx);
	st = open_stream(fx, FRAMING_FCGI, "deep", "0");
	expect_range(fx, st, 1, DEEP_EVENTS);
	append(fx, "deep", 1, 0);
	expect_range(fx, st, DEEP_EVENTS + 1, DEEP_EVENTS + 1);
	/* Far more than one record's worth went through. */
	assert_true(st->records > 20);
}

/* Events of 3000 bytes: replay batches end at the write batch size, and
 * with two topics the one-topic and the all-topics queries both page. */
static void
test_replay_large_events(void **state)
{
	struct fx	*fx = *state;
	struct stream	*both, *p;
	struct sse_ev	 ev;
	int64_t		 deadline;
	int		 i;

	for (i = 0; i < 200; i++) {
		append(fx, "p", 1, 3000);
		append(fx, "q", 1, 3000);
	}
	start_hub(fx);
	both = open_stream(fx, FRAMING_FCGI, "p,q", "0");
	p = open_stream(fx, FRAMING_RAW, "p", "0");
	expect_range(fx, both, 1, 400);
	deadline = tu_now_ms() + DEADLINE_MS;
	for (i = 0; i < 200; i++) {
		next_event(p, &ev, deadline);
		expect_id(fx, &ev, (uint64_t)i * 2 + 1);
		assert_int_equal(ev.data_len, 3000);
	}
}

#define OFF_TAIL_EVENTS	(TAIL_EVENTS_MAX + 8000)

/*
 * A live subscriber that stops reading, with a backlog bound too large to
 * drop it, while more events arrive than the tail holds: it falls off the
 * tail and, once it reads again, catches up from SQLite, then goes live,
 * without a gap or a duplicate.
 */
static void
test_fell_off_tail(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	unsigned long long	 replayed;

	fx->cfg.backlog_bound = (size_t)1 << 30;
	/* A small socket buffer: the stream is sent little before it stalls. */
	fx->sndbuf = 4096;
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "t", NULL);
	replayed = METRIC_GET(events_replayed);
	append(fx, "t", OFF_TAIL_EVENTS, 0);
	/* Wait until the tail has wrapped past what the stream was sent. */
	{
		int64_t deadline = tu_now_ms() + DEADLINE_MS;

		while (METRIC_GET(log_last_seq) < OFF_TAIL_EVENTS &&
		    tu_now_ms() < deadline)
			tu_sleep_ms(5);
		assert_int_equal(METRIC_GET(log_last_seq), OFF_TAIL_EVENTS);
		assert_int_equal(METRIC_GET(tail_events), TAIL_EVENTS_MAX);
	}
	expect_range(fx, st, 1, OFF_TAIL_EVENTS);
	/* What the tail had lost came from the log. */
	/* What the tail had lost (8000 events, less the few hundred sent
	 * before the socket filled) came from the log. */
	assert_true(METRIC_GET(events_replayed) - replayed >= 4000);
	append(fx, "t", 1, 0);
	expect_range(fx, st, OFF_TAIL_EVENTS + 1, OFF_TAIL_EVENTS + 1);
}

/* ---- slow and departed subscribers ------------------------------------ */

/*
 * A reader that does not read, a 64 KiB backlog bound, 10 MB of events:
 * the hub closes the stream (the reader drains what the socket held and
 * then sees EOF) and counts it as slow.
 */
static void
test_slow_subscriber_dropped(void **state)
{
	struct fx		*fx = *state;
	struct stream		*slow, *fast;
	unsigned long long	 dropped = METRIC_GET(slow_dropped);
	int64_t			 deadline;
	int			 i;

	fx->cfg.backlog_bound = 64 * 1024;
	start_hub(fx);
	slow = open_stream(fx, FRAMING_RAW, "big", NULL);
	/* 10 MB in 1280 events of 8 KiB. */
	for (i = 0; i < 40; i++)
		append(fx, "big", 32, 8192);
	deadline = tu_now_ms() + DEADLINE_MS;
	while (METRIC_GET(slow_dropped) == dropped && tu_now_ms() < deadline)
		tu_sleep_ms(5);
	assert_int_equal(METRIC_GET(slow_dropped) - dropped, 1);
	read_to_eof(slow);
	/* It got far less than was published. */
	assert_true(slow->total < 4 * 1024 * 1024);
	assert_int_equal(wait_subscribers(0, tu_now_ms() + DEADLINE_MS), 0);
	assert_int_equal(METRIC_GET(bytes_queued), 0);

	/* The hub goes on serving; the dropped one would resume like this
	 * (from the last event, so the burst's tail is not live news). */
	fast = open_stream(fx, FRAMING_RAW, "big", "1280");
	append(fx, "big", 1, 0);
	expect_range(fx, fast, 1281, 1281);
}

/* A reader that keeps up is not dropped, however much goes through. */
static void
test_fast_subscriber_kept(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	unsigned long long	 dropped = METRIC_GET(slow_dropped);
	int			 i;

	fx->cfg.backlog_bound = 64 * 1024;
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "big", NULL);
	for (i = 0; i < 8; i++) {
		append(fx, "big", 4, 8192);
		expect_range(fx, st, (uint64_t)i * 4 + 1, (uint64_t)i * 4 + 4);
	}
	assert_int_equal(METRIC_GET(slow_dropped), dropped);
}

/* The peer closes: the subscriber is gone within one heartbeat. */
static void
test_closed_peer_noticed(void **state)
{
	struct fx	*fx = *state;
	struct stream	*raw, *fcgi;
	int64_t		 t0;

	fx->cfg.heartbeat_ms = 200;
	start_hub(fx);
	raw = open_stream(fx, FRAMING_RAW, "a", NULL);
	fcgi = open_stream(fx, FRAMING_FCGI, "a", NULL);
	assert_int_equal(METRIC_GET(subscribers), 2);
	t0 = tu_now_ms();
	shutdown(raw->fd, SHUT_RDWR);
	shutdown(fcgi->fd, SHUT_RDWR);
	if (wait_subscribers(0, t0 + fx->cfg.heartbeat_ms + 250) == -1)
		fail_msg("%ld subscribers still open after %lld ms",
		    (long)METRIC_GET(subscribers),
		    (long long)(tu_now_ms() - t0));
}

/* A departed client noticed while events flow to it. */
static void
test_closed_peer_while_live(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	int		 i;

	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	close(st->fd);
	st->fd = -1;
	for (i = 0; i < 20; i++)
		append(fx, "a", 10, 1000);
	assert_int_equal(wait_subscribers(0, tu_now_ms() + DEADLINE_MS), 0);
}

static void
test_heartbeat_arrives(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	struct sse_ev	 ev;
	int64_t		 t0 = tu_now_ms();

	fx->cfg.heartbeat_ms = 200;
	start_hub(fx);
	st = open_stream(fx, FRAMING_FCGI, "a", NULL);
	assert_int_equal(next_block(st, &ev, t0 + DEADLINE_MS), 1);
	assert_true(ev.comment);
	assert_string_equal(ev.ctext, ": keepalive");
	assert_false(ev.has_id);
}

/* On a quiet stream a keepalive goes out every heartbeat (README.md:
 * "every heartbeat"; config.h: heartbeat 100 ms .. 1 h): with 200 ms, no
 * silence may last three of them. */
static void
test_heartbeat_interval(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;
	struct sse_ev	 ev;
	int64_t		 last, limit;
	int		 i, r;

	fx->cfg.heartbeat_ms = 200;
	limit = 3 * fx->cfg.heartbeat_ms;
	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	last = tu_now_ms();
	for (i = 0; i < 4; i++) {
		r = next_block(st, &ev, last + limit);
		if (r == -2)
			fail_msg("keepalive %d: none within %lld ms (heartbeat"
			    " %lld ms)", i + 1, (long long)limit,
			    fx->cfg.heartbeat_ms);
		assert_int_equal(r, 1);
		assert_true(ev.comment);
		assert_string_equal(ev.ctext, ": keepalive");
		last = tu_now_ms();
	}
}

/* ---- FastCGI framing and the end of a stream ------------------------- */

static void
test_fcgi_records_and_stop(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 head[2048];
	static const uint64_t	 want[] = { 1, 2 };

	start_hub(fx);
	st = open_stream_raw(fx, FRAMING_FCGI, 0x1234, "a", NULL, NULL);
	read_head(st, head, sizeof(head));
	check_retry(fx, st, NULL);
	append(fx, "a", 2, 0);
	expect_seqs(fx, st, want, 2);
	assert_false(st->stdout_end);
	join_hub(fx);
	/* The end: an empty FCGI_STDOUT, FCGI_END_REQUEST, then EOF. */
	read_to_eof(st);
	assert_true(st->stdout_end);
	assert_true(st->end_request);
	assert_int_equal(st->len, st->off);
	assert_int_equal(METRIC_GET(subscribers), 0);
}

/* requestId 1 and 65535: both bytes of the header are right. */
static void
test_fcgi_request_ids(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st[2];
	char		 head[2048];
	int		 i;

	start_hub(fx);
	st[0] = open_stream_raw(fx, FRAMING_FCGI, 1, "a", NULL, NULL);
	st[1] = open_stream_raw(fx, FRAMING_FCGI, 65535, "a", NULL, NULL);
	for (i = 0; i < 2; i++) {
		read_head(st[i], head, sizeof(head));
		check_retry(fx, st[i], NULL);
	}
	append(fx, "a", 1, 0);
	for (i = 0; i < 2; i++)
		expect_range(fx, st[i], 1, 1);
	join_hub(fx);
	for (i = 0; i < 2; i++) {
		read_to_eof(st[i]);
		assert_true(st[i]->end_request);
	}
}

/* A late empty FCGI_STDIN from the web server means nothing. */
static void
test_fcgi_stdin_ignored(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	static const unsigned char stdin_end[8] = { 1, FCGI_STDIN, 0, 7,
				     0, 0, 0, 0 };

	start_hub(fx);
	st = open_stream(fx, FRAMING_FCGI, "a", NULL);
	assert_int_equal(write(st->fd, stdin_end, sizeof(stdin_end)), 8);
	append(fx, "a", 1, 0);
	expect_range(fx, st, 1, 1);
	assert_int_equal(METRIC_GET(subscribers), 1);
}

static void
test_raw_stop_is_eof(void **state)
{
	struct fx	*fx = *state;
	struct stream	*st;

	start_hub(fx);
	st = open_stream(fx, FRAMING_RAW, "a", NULL);
	append(fx, "a", 1, 0);
	expect_range(fx, st, 1, 1);
	join_hub(fx);
	read_to_eof(st);
	assert_int_equal(st->len, st->off);
	assert_int_equal(METRIC_GET(subscribers), 0);
}

/*
 * A stream handed over when the hub is already stopping is never run: it
 * is closed (hub_adopt takes the fd in every case), and the subscriber
 * gauge, counted at the hand-over, goes back down.
 */
static void
test_stop_closes_pending(void **state)
{
	struct fx		*fx = *state;
	struct stream		*st;
	char			 err[512];
	struct stream_req	 req;
	int			 sv[2];

	if (hub_create(&fx->hub, fx->db, 1, &fx->cfg, 0, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	hub_stop(fx->hub);
	memset(&req, 0, sizeof(req));
	req.ntopics = 1;
	strcpy(req.topics[0], "a");
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	st = calloc(1, sizeof(*st));
	assert_non_null(st);
	st->fd = sv[1];
	st->framing = FRAMING_RAW;
	fx->streams[fx->nstreams++] = st;
	assert_int_equal(hub_adopt(fx->hub, sv[0], 0, FRAMING_RAW, &req), 0);
	assert_int_equal(hub_run(fx->hub), 0);
	hub_free(fx->hub);
	fx->hub = NULL;
	read_to_eof(st);
	assert_int_equal(METRIC_GET(subscribers), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_head_and_retry),
	T(test_retry_jitter),
	T(test_retry_zero),
	T(test_head_cors),
	T(test_live_only),
	T(test_live_only_skips_log),
	T(test_live_only_excludes_unpolled),
	T(test_resume_zero),
	T(test_resume_n),
	T(test_resume_at_last),
	T(test_resume_in_tail),
	T(test_multi_topic),
	T(test_live_topic_filter),
	T(test_gap_future_id),
	T(test_gap_future_bare_seq),
	T(test_gap_foreign_epoch),
	T(test_gap_pruned),
	T(test_gap_pruned_from_zero),
	T(test_no_gap_at_first),
	T(test_gap_emptied_log),
	T(test_gap_pruned_while_running),
	T(test_seam_concurrent),
	T(test_deep_replay),
	T(test_replay_large_events),
	T(test_fell_off_tail),
	T(test_slow_subscriber_dropped),
	T(test_fast_subscriber_kept),
	T(test_closed_peer_noticed),
	T(test_closed_peer_while_live),
	T(test_heartbeat_arrives),
	T(test_heartbeat_interval),
	T(test_fcgi_records_and_stop),
	T(test_fcgi_request_ids),
	T(test_fcgi_stdin_ignored),
	T(test_raw_stop_is_eof),
	T(test_stop_closes_pending),
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
