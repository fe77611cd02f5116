/*
 * hub.c: the fan-out loop. See hub.h for the design; the notes here are
 * about the mechanics.
 *
 * Ownership: the hub owns every struct sub and its fd from hub_adopt() on,
 * and every struct tail_ev. A sub is closed only at a safe point (the end of
 * a loop iteration, sweep_dead()), never while a list is being walked.
 *
 * FastCGI framing (FastCGI 1.0, section 5.3 and 6): stream bytes go out as
 * FCGI_STDOUT records of at most 65535 content bytes each; the stream ends
 * with an empty FCGI_STDOUT record and FCGI_END_REQUEST. Records that still
 * arrive on the connection (a late empty FCGI_STDIN, say) are read and
 * ignored; EOF means the web server closed the connection because the
 * client went away.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "hub.h"
#include "logdrv.h"
#include "quota.h"
#include "log.h"
#include "metrics.h"
#include "sse.h"
#include "wsconn.h"
#include "wsmsg.h"

#define FCGI_HEADER_LEN		8
#define FCGI_VERSION_1		1
#define FCGI_END_REQUEST	3
#define FCGI_STDOUT		6

/* Content iovecs per writev; each may need a record header beside it. */
#define IOV_BATCH		256
#define WIOV_MAX		(2 * IOV_BATCH + WRITE_BATCH_BYTES / FCGI_CONTENT_MAX + 8)

/*
 * Live streams are written in passes, and a pass waits for the web server
 * to have taken the previous one: then events published one by one reach
 * each subscriber in batches, and the busier the web server, the bigger the
 * batches (one FastCGI read and one client write per event per subscriber
 * is what caps throughput through lighttpd). The wait is FANOUT_WAIT_FACTOR
 * times the time the web server took to drain the previous pass from a few
 * sampled sockets (SIOCOUTQ: bytes it has not read yet), kept between these
 * bounds; the upper bound caps the latency it adds. Measured with
 * `make bench` (README.md, "Performance"): factor 2 gave 4,700 publishes/s
 * in scenario 5, 4 gave 6,400, 8 and 16 no more but twice the latency.
 */
#define FANOUT_MIN_MS		1
#define FANOUT_MAX_MS		100
#define FANOUT_PROBES		8
#ifndef FANOUT_WAIT_FACTOR
#define FANOUT_WAIT_FACTOR	4
#endif
/* Replay batches a subscriber may take in one loop iteration, so that one
 * deep replay does not starve everyone else. */
#define PUMP_BUDGET		4
/* A dropped slow subscriber gets this long to take what is already
 * queued for it, so that its response can end properly. */
#define SLOW_DRAIN_MS		1000
#define EPOLL_EVENTS		256

struct tail_ev {
	uint64_t	 seq;
	uint64_t	 end_off;	/* tail bytes up to and including this */
	uint32_t	 len;		/* encoded SSE bytes */
	uint32_t	 ws_len;	/* WebSocket frame bytes, 0 = none */
	uint16_t	 topic_len;
	char		*sse;		/* points into mem[] */
	char		*ws;		/* points into mem[], if ws_len */
	char		 mem[];		/* topic, NUL, SSE bytes, frame */
};

enum sub_state { SUB_REPLAY, SUB_LIVE };

/*
 * What a WebSocket subscriber has beyond a stream. It outlives its sub
 * while publishes it sent are still being committed (inflight > 0), so
 * that their results find out the client has gone; only the hub thread
 * touches it.
 */
struct wsub {
	struct hub	*h;
	struct sub	*s;		/* NULL once the connection closed */
	struct wsconn	*conn;
	int64_t		 last_rx_ms;	/* a frame came in */
	int64_t		 last_ping_ms;
	unsigned long	 rx_seen;
	uint32_t	 inflight;	/* publishes waiting for their commit */
	uint16_t	 close_code;	/* for a graceful end; 0 = 1001 */
	int		 may_publish;	/* 1 + the publish token's index */
	struct principal who;		/* for private topics */
};

struct sub {
	int		 fd;
	uint16_t	 reqid;
	uint8_t		 framing;
	uint8_t		 state;
	uint8_t		 ntopics;
	uint8_t		 dead;		/* closing at the next sweep */
	uint8_t		 graceful;	/* send END_REQUEST when closing */
	uint8_t		 queued;	/* on the run list */
	uint8_t		 want_out;	/* EPOLLOUT registered */
	uint8_t		 probe_ok;	/* SIOCOUTQ tells the drain (below) */
	uint32_t	 idx;		/* in hub->subs */
	uint64_t	 cursor;	/* last seq sent or skipped */
	uint64_t	 tail_pos;	/* LIVE: next tail entry to look at */
	uint64_t	 history_end;	/* newest seq when it connected: what
					 * it gets up to there is replay */
	int64_t		 last_write_ms;
	int64_t		 drain_until;	/* dropped: finish what is pending,
					 * then end cleanly, or cut then */
	struct wsub	*w;		/* FRAMING_WS only */
	struct addr_slot *slot;		/* its address's count (quota.h) */
	int64_t		 expires;	/* unix s: its token ends it; 0 never */
	char		*pend;		/* unsent bytes, already framed */
	uint32_t	 pend_len;
	uint32_t	 pend_off;
	struct sub	*run_next;
	struct sub	*dead_next;
	char		 topics[];	/* ntopics x (length byte, name, NUL) */
};

struct handoff {
	int			 fd;
	uint16_t		 reqid;
	enum hub_framing	 framing;
	struct stream_req	 req;
	struct handoff		*next;
};

struct hub {
	struct logdrv	*log;
	const struct config *cfg;
	int		 epfd;
	int		 wakefd;
	int		 exit_when_idle;
	atomic_int	 stop;
	uint64_t	 rnd;

	pthread_mutex_t	 adopt_mtx;
	struct handoff	*adopt_head, **adopt_tail;

	/* The tail: a ring of the newest events, positions are absolute. */
	struct tail_ev	**ring;
	size_t		 ring_mask;
	uint64_t	 base_pos, end_pos;
	uint64_t	 base_off;	/* end_off of the entry before base_pos */
	uint64_t	 end_off;
	uint64_t	 tail_bytes;
	uint64_t	 last_seq;	/* newest seq read from the log */
	int		 tail_grew;
	int		 ws_enabled;	/* encode WebSocket frames too */

	struct asyncpub	*publisher;
	struct pubjob	*done_head, **done_tail;	/* under adopt_mtx */
	atomic_int	 disconnect;	/* hub_disconnect_all() asked */

	struct sub	**subs;
	size_t		 nsubs, subs_cap;
	struct sub	*run_head;
	struct sub	*dead_head;

	char		*scratch;	/* encoding buffer for replay and ingest */
	size_t		 scratch_cap;
	struct iovec	 wiov[WIOV_MAX];
	unsigned char	 whdr[WIOV_MAX][FCGI_HEADER_LEN];

	int64_t		 next_poll_ms, next_beat_ms, next_bounds_ms;
	int64_t		 last_fanout_ms;
	int64_t		 fanout_wait_ms;	/* adaptive, see FANOUT_MIN_MS */
	struct sub	*probes[FANOUT_PROBES];	/* written by the last pass */
	int		 nprobes;		/* 0: the pass was drained */
	size_t		 passes;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t
hub_random(struct hub *h)
{
	/* xorshift64: jitter only, not security. */
	h->rnd ^= h->rnd << 13;
	h->rnd ^= h->rnd >> 7;
	h->rnd ^= h->rnd << 17;
	return h->rnd;
}

static int
scratch_reserve(struct hub *h, size_t need)
{
	char	*p;
	size_t	 cap;

	if (need <= h->scratch_cap)
		return 0;
	cap = h->scratch_cap ? h->scratch_cap : 64 * 1024;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(h->scratch, cap)) == NULL)
		return -1;
	h->scratch = p;
	h->scratch_cap = cap;
	return 0;
}

/* ---- the tail ---------------------------------------------------------- */

static struct tail_ev *
tail_at(const struct hub *h, uint64_t pos)
{
	return h->ring[pos & h->ring_mask];
}

static uint64_t
tail_first_seq(const struct hub *h)
{
	if (h->base_pos == h->end_pos)
		return h->last_seq + 1;
	return tail_at(h, h->base_pos)->seq;
}

/* Offset of the tail bytes before position pos. */
static uint64_t
tail_off_before(const struct hub *h, uint64_t pos)
{
	if (pos <= h->base_pos)
		return h->base_off;
	return tail_at(h, pos - 1)->end_off;
}

/* First position whose seq is greater than seq. */
static uint64_t
tail_find_after(const struct hub *h, uint64_t seq)
{
	uint64_t lo = h->base_pos, hi = h->end_pos, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tail_at(h, mid)->seq <= seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
tail_evict_oldest(struct hub *h)
{
	struct tail_ev *e = tail_at(h, h->base_pos);

	h->ring[h->base_pos & h->ring_mask] = NULL;
	h->base_off = e->end_off;
	h->tail_bytes -= (uint64_t)e->len + e->ws_len;
	h->base_pos++;
	free(e);
}

static int
ingest_row(void *arg, const struct evlog_row *row)
{
	struct hub	*h = arg;
	struct tail_ev	*e;
	char		 id[EVENT_ID_MAX + 1];
	size_t		 max, wmax = 0;
	ssize_t		 n, wn = 0;

	if (row->seq <= h->last_seq)
		return 0;
	if (row->topic_len > TOPIC_MAX || row->event_len > EVENT_NAME_MAX) {
		log_warn("event %llu: topic or name too long, skipped",
		    (unsigned long long)row->seq);
		h->last_seq = row->seq;
		return 0;
	}
	eventid_format(id, sizeof(id), logdrv_epoch(h->log), row->seq);
	max = sse_encoded_max(row->event_len, row->data_len);
	if (h->ws_enabled)
		wmax = wsmsg_event_max(row->topic_len, row->event_len,
		    row->data_len);
	if (scratch_reserve(h, max + wmax) == -1)
		return -1;
	n = sse_encode(h->scratch, max, id, row->event,
	    row->event_len, row->data, row->data_len);
	if (n >= 0 && h->ws_enabled)
		wn = wsmsg_event(h->scratch + n, wmax, id, row->topic,
		    row->topic_len, row->event, row->event_len, row->data,
		    row->data_len);
	if (n < 0 || wn < 0) {
		/* Only a hand-edited database can hold such a name. */
		log_warn("event %llu: cannot be encoded, skipped",
		    (unsigned long long)row->seq);
		h->last_seq = row->seq;
		return 0;
	}
	if ((e = malloc(sizeof(*e) + row->topic_len + 1 + (size_t)n +
	    (size_t)wn)) == NULL)
		return -1;
	e->seq = row->seq;
	e->len = (uint32_t)n;
	e->ws_len = (uint32_t)wn;
	e->topic_len = (uint16_t)row->topic_len;
	memcpy(e->mem, row->topic, row->topic_len);
	e->mem[row->topic_len] = '\0';
	e->sse = e->mem + row->topic_len + 1;
	e->ws = e->sse + n;
	/* Both encodings sit next to each other in the scratch buffer. */
	memcpy(e->sse, h->scratch, (size_t)n + (size_t)wn);

	while (h->end_pos - h->base_pos >= h->ring_mask + 1 ||
	    (h->end_pos > h->base_pos &&
	    h->tail_bytes + e->len + e->ws_len > TAIL_BYTES_MAX))
		tail_evict_oldest(h);
	h->end_off += e->len;
	e->end_off = h->end_off;
	h->tail_bytes += (uint64_t)e->len + e->ws_len;
	h->ring[h->end_pos & h->ring_mask] = e;
	h->end_pos++;
	h->last_seq = e->seq;
	h->tail_grew = 1;
	return 0;
}

/* Read every event the log has after the tail into it. */
static int
tail_ingest(struct hub *h)
{
	uint64_t before;

	for (;;) {
		before = h->last_seq;
		if (logdrv_read_new(h->log, h->last_seq, 4096,
		    4 * 1024 * 1024, ingest_row, h) == -1) {
			log_err("reading new events: %s", logdrv_errmsg(h->log));
			return -1;
		}
		if (h->last_seq == before)
			break;
	}
	METRIC_SET(tail_events, h->end_pos - h->base_pos);
	METRIC_SET(tail_bytes, h->tail_bytes);
	if (h->last_seq > METRIC_GET(log_last_seq))
		METRIC_SET(log_last_seq, h->last_seq);
	return 0;
}

/* ---- subscribers: output ---------------------------------------------- */

static void
sub_kill(struct hub *h, struct sub *s, int graceful)
{
	if (s->dead)
		return;
	s->dead = 1;
	s->graceful = graceful;
	s->dead_next = h->dead_head;
	h->dead_head = s;
}

static void
sub_want_out(struct hub *h, struct sub *s, int on)
{
	struct epoll_event ev;

	if (s->want_out == on)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = (s->framing != FRAMING_RAW ? EPOLLIN | EPOLLRDHUP : 0) |
	    (on ? EPOLLOUT : 0);
	ev.data.ptr = s;
	if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, s->fd, &ev) == -1) {
		log_err("epoll_ctl: %s", strerror(errno));
		sub_kill(h, s, 0);
		return;
	}
	s->want_out = (uint8_t)on;
}

static void
fcgi_header(unsigned char *hdr, int type, uint16_t reqid, size_t len)
{
	hdr[0] = FCGI_VERSION_1;
	hdr[1] = (unsigned char)type;
	hdr[2] = (unsigned char)(reqid >> 8);
	hdr[3] = (unsigned char)(reqid & 0xff);
	hdr[4] = (unsigned char)(len >> 8);
	hdr[5] = (unsigned char)(len & 0xff);
	hdr[6] = 0;	/* no padding: it is optional (FastCGI 1.0, 3.3) */
	hdr[7] = 0;
}

/*
 * Send content (iov, n; n <= IOV_BATCH, total <= WRITE_BATCH_BYTES) to s,
 * framed for its connection. What the socket does not take now is copied
 * to s->pend and sent when it drains. The caller has checked that nothing
 * is pending. Returns 0, or -1 when the connection is gone (s is killed).
 */
static int
sub_send(struct hub *h, struct sub *s, const struct iovec *iov, int n,
    size_t total)
{
	struct iovec	*w = h->wiov;
	size_t		 rec_left = 0, left = total, take, done, off;
	int		 nw = 0, nh = 0, i;
	const char	*p;
	size_t		 len;
	ssize_t		 r;
	char		*q;

	for (i = 0; i < n; i++) {
		p = iov[i].iov_base;
		len = iov[i].iov_len;
		while (len > 0) {
			if (s->framing == FRAMING_FCGI && rec_left == 0) {
				rec_left = left < FCGI_CONTENT_MAX ? left :
				    FCGI_CONTENT_MAX;
				fcgi_header(h->whdr[nh], FCGI_STDOUT, s->reqid,
				    rec_left);
				w[nw].iov_base = h->whdr[nh++];
				w[nw++].iov_len = FCGI_HEADER_LEN;
			}
			take = len;
			if (s->framing == FRAMING_FCGI && take > rec_left)
				take = rec_left;
			w[nw].iov_base = (void *)p;
			w[nw++].iov_len = take;
			p += take;
			len -= take;
			left -= take;
			if (s->framing == FRAMING_FCGI)
				rec_left -= take;
		}
	}
	total += (size_t)nh * FCGI_HEADER_LEN;
	if (total == 0)
		return 0;

	do
		r = writev(s->fd, w, nw);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			sub_kill(h, s, 0);
			return -1;
		}
		r = 0;
	}
	s->last_write_ms = now_ms();
	done = (size_t)r;
	if (done == total)
		return 0;

	/* Keep the rest; it is at most one write batch. */
	if ((q = malloc(total - done)) == NULL) {
		log_err("out of memory queueing %zu bytes", total - done);
		sub_kill(h, s, 0);
		return -1;
	}
	off = 0;
	for (i = 0; i < nw; i++) {
		len = w[i].iov_len;
		if (done >= len) {
			done -= len;
			continue;
		}
		memcpy(q + off, (char *)w[i].iov_base + done, len - done);
		off += len - done;
		done = 0;
	}
	s->pend = q;
	s->pend_len = (uint32_t)off;
	s->pend_off = 0;
	METRIC_ADD(bytes_queued, (long long)off);
	sub_want_out(h, s, 1);
	return 0;
}

static int
sub_send_buf(struct hub *h, struct sub *s, const char *buf, size_t len)
{
	struct iovec iov;

	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	return sub_send(h, s, &iov, 1, len);
}

/* Write what is pending. Returns 1 if all went, 0 if some is left, -1. */
static int
sub_flush_pending(struct hub *h, struct sub *s)
{
	ssize_t r;

	while (s->pend != NULL) {
		r = write(s->fd, s->pend + s->pend_off, s->pend_len - s->pend_off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			sub_kill(h, s, 0);
			return -1;
		}
		s->last_write_ms = now_ms();
		s->pend_off += (uint32_t)r;
		METRIC_ADD(bytes_queued, -(long long)r);
		if (s->pend_off == s->pend_len) {
			free(s->pend);
			s->pend = NULL;
			s->pend_len = s->pend_off = 0;
		}
	}
	sub_want_out(h, s, 0);
	return 1;
}

/* ---- WebSocket subscribers ------------------------------------------ */

static ssize_t
ws_io_recv(void *arg, void *buf, size_t len)
{
	struct wsub *w = arg;

	return read(w->s->fd, buf, len);
}

static ssize_t
ws_io_send(void *arg, const void *buf, size_t len)
{
	struct wsub *w = arg;

	return write(w->s->fd, buf, len);
}

static void
ws_send_error(struct wsub *w, const char *reason)
{
	char	 out[512];
	ssize_t	 n;

	if ((n = wsmsg_error(out, sizeof(out), reason)) > 0)
		wsconn_queue_text(w->conn, out, (size_t)n);
}

/*
 * Refuse a message (reason: static text). Answers go in the order the
 * messages came: behind publishes still being committed, a refusal waits
 * its turn in the publisher's queue.
 */
static void
ws_reply_error(struct wsub *w, const char *reason)
{
	struct pubjob *job;

	if (w->inflight == 0 || w->h->publisher == NULL) {
		ws_send_error(w, reason);
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		ws_send_error(w, reason);	/* out of order, but said */
		return;
	}
	job->refusal = reason;
	job->owner = w;
	w->inflight++;
	asyncpub_submit(w->h->publisher, job);
}

static int
ws_topic_open(const struct config *cfg, const char *topic)
{
	int i;

	for (i = 0; i < cfg->nws_topics; i++)
		if (strcmp(cfg->ws_topics[i], topic) == 0)
			return 1;
	return 0;
}

/* A text message from the client: an event to publish. */
static void
ws_on_text(void *arg, const char *msg, size_t len)
{
	struct wsub	*w = arg;
	struct hub	*h = w->h;
	struct pubjob	*job;
	const char	*reason;
	int64_t		 retry;
	int		 rc;

	METRIC_ADD(ws_messages, 1);
	if (wsconn_closing(w->conn))
		return;
	if (h->publisher == NULL) {
		ws_reply_error(w, "publishing is not available here");
		return;
	}
	/* Refusals wait in order behind publishes (ws_reply_error), so a
	 * client that never waits for answers is stopped here. */
	if (w->inflight >= 2 * WS_INFLIGHT_MAX) {
		wsconn_close(w->conn, 1008, "too many messages waiting for"
		    " their answer");
		return;
	}
	if (w->inflight >= WS_INFLIGHT_MAX) {
		ws_reply_error(w, "too many publishes waiting for their"
		    " commit; wait for the acks");
		return;
	}
	if ((job = calloc(1, sizeof(*job))) == NULL) {
		ws_reply_error(w, "out of memory");
		return;
	}
	rc = body_parse_publish("application/json", msg, len,
	    h->cfg->max_event_size, &job->req, &reason);
	if (rc != 0) {
		if (rc == 413)
			METRIC_ADD(refused_event_size, 1);
		free(job);
		ws_reply_error(w, reason);
		return;
	}
	/* Anonymous publishing is limited to the configured topics; a
	 * token shown at connect time opens every topic. */
	if (!w->may_publish && !ws_topic_open(h->cfg, job->req.topic)) {
		body_free(&job->req);
		free(job);
		ws_reply_error(w, "not allowed to publish to this topic"
		    " (connect with a publish token)");
		return;
	}
	/* Private topics: publishing needs what reading needs. */
	if (!auth_may_read(h->cfg, &w->who, job->req.topic)) {
		METRIC_ADD(refused_auth, 1);
		body_free(&job->req);
		free(job);
		ws_reply_error(w, "not allowed to publish to this private"
		    " topic");
		return;
	}
	if (w->may_publish && !quota_publish_allow(w->may_publish - 1,
	    h->cfg->publish_rate, now_ms(), &retry)) {
		METRIC_ADD(refused_publish_rate, 1);
		body_free(&job->req);
		free(job);
		ws_reply_error(w, "publish rate for this token exceeded"
		    " (publish_rate)");
		return;
	}
	job->owner = w;
	w->inflight++;
	asyncpub_submit(h->publisher, job);
}

/* A close went out that we did not ask for: wsconn refused what the
 * client sent (1002, 1003, 1007, 1009). Count it once. */
static void
ws_note_close(struct wsub *w)
{
	uint16_t code = wsconn_close_sent(w->conn);

	if (code == 0 || w->close_code != 0)
		return;
	w->close_code = code;
	if (code != 1000)
		METRIC_ADD(ws_protocol_closes, 1);
	if (code == 1009)
		METRIC_ADD(refused_ws_message_size, 1);
}

/* Send what wsconn has queued (acks, pongs, pings, close), unless one of
 * our own frames is half written; notice the end of the connection. */
static void
ws_service(struct hub *h, struct sub *s)
{
	struct wsconn	*c = s->w->conn;
	int		 r;

	if (s->dead)
		return;
	if (s->pend == NULL && wsconn_want_write(c)) {
		r = wsconn_flush(c);
		ws_note_close(s->w);
		if (r == -1) {
			sub_kill(h, s, 0);
			return;
		}
		s->last_write_ms = now_ms();
		if (r == 0) {
			sub_want_out(h, s, 1);
			return;
		}
	}
	if (wsconn_finished(c))
		sub_kill(h, s, 0);
}

/* Read what the client sent; -1 if it went away. */
static void
ws_on_readable(struct hub *h, struct sub *s)
{
	struct wsub *w = s->w;

	if (wsconn_read(w->conn) == -1) {
		sub_kill(h, s, 0);
		return;
	}
	if (wsconn_frames_received(w->conn) != w->rx_seen) {
		w->rx_seen = wsconn_frames_received(w->conn);
		w->last_rx_ms = now_ms();
	}
	ws_service(h, s);
}

/*
 * End a stream on purpose. SSE ends its response; a WebSocket sends a
 * close frame with code and waits (at most SLOW_DRAIN_MS) for the client's
 * close, so that its last frames are not lost to a reset.
 */
static void
sub_end(struct hub *h, struct sub *s, uint16_t code, int64_t now)
{
	if (s->dead)
		return;
	if (s->framing != FRAMING_WS) {
		sub_kill(h, s, 1);
		return;
	}
	if (!wsconn_closing(s->w->conn)) {
		s->w->close_code = code;
		wsconn_close(s->w->conn, code, code == 1008 ?
		    "access token expired" : code == 1012 ?
		    "disconnected by the operator; resume with lastEventId" :
		    code == 1013 ? "too far behind; resume with lastEventId" :
		    "server going away; resume with lastEventId");
	}
	if (s->drain_until == 0 || s->drain_until > now + SLOW_DRAIN_MS)
		s->drain_until = now + SLOW_DRAIN_MS;
	ws_service(h, s);
}

static void
wsub_release(struct wsub *w)
{
	if (w->s == NULL && w->inflight == 0)
		free(w);
}

/* Results of WebSocket publishes, on the hub thread: ack each client. */
static void
ws_take_done(struct hub *h)
{
	struct pubjob	*list, *job;
	struct wsub	*w;
	char		 id[EVENT_ID_MAX + 1], out[128];
	ssize_t		 n;

	pthread_mutex_lock(&h->adopt_mtx);
	list = h->done_head;
	h->done_head = NULL;
	h->done_tail = &h->done_head;
	pthread_mutex_unlock(&h->adopt_mtx);
	while ((job = list) != NULL) {
		list = job->next;
		w = job->owner;
		w->inflight--;
		if (w->s != NULL && !w->s->dead) {
			if (job->refusal != NULL)
				ws_send_error(w, job->refusal);
			else if (job->ok) {
				eventid_format(id, sizeof(id),
				    logdrv_epoch(h->log), job->seq);
				n = wsmsg_ack(out, sizeof(out), id);
				if (n > 0)
					wsconn_queue_text(w->conn, out,
					    (size_t)n);
				METRIC_ADD(ws_acked, 1);
			} else
				ws_send_error(w, "the event could not be"
				    " stored; try again");
			ws_service(h, w->s);
		}
		wsub_release(w);
		body_free(&job->req);
		free(job);
	}
}

/* ---- subscribers: what to send ---------------------------------------- */

static int
sub_matches(const struct sub *s, const char *topic, size_t len)
{
	const unsigned char *p = (const unsigned char *)s->topics;
	int i;

	for (i = 0; i < s->ntopics; i++) {
		if (p[0] == len && memcmp(p + 1, topic, len) == 0)
			return 1;
		p += 2 + p[0];
	}
	return 0;
}

static void
sub_go_live(struct hub *h, struct sub *s)
{
	s->state = SUB_LIVE;
	s->tail_pos = tail_find_after(h, s->cursor);
}

/* Send the next live batch. Returns 1 if something was sent, 0 if the
 * subscriber is up to date, -1 if it failed. */
static int
sub_live_step(struct hub *h, struct sub *s)
{
	struct iovec	 iov[IOV_BATCH];
	struct tail_ev	*e;
	uint64_t	 pos;
	size_t		 total = 0, len;
	int		 n = 0, replayed = 0;

	if (s->tail_pos < h->base_pos) {
		/* It fell off the tail: the log still has everything. */
		s->state = SUB_REPLAY;
		return 1;
	}
	for (pos = s->tail_pos; pos < h->end_pos && n < IOV_BATCH &&
	    total < WRITE_BATCH_BYTES; pos++) {
		e = tail_at(h, pos);
		if (e->seq > s->cursor &&
		    sub_matches(s, e->mem, e->topic_len)) {
			len = s->framing == FRAMING_WS ? e->ws_len : e->len;
			if (total + len > WRITE_BATCH_BYTES && n > 0)
				break;
			iov[n].iov_base = s->framing == FRAMING_WS ? e->ws :
			    e->sse;
			iov[n++].iov_len = len;
			total += len;
			replayed += e->seq <= s->history_end;
		}
		if (e->seq > s->cursor)
			s->cursor = e->seq;
	}
	s->tail_pos = pos;
	if (n == 0)
		return 0;
	METRIC_ADD(events_delivered, (unsigned long long)(n - replayed));
	METRIC_ADD(events_replayed, (unsigned long long)replayed);
	return sub_send(h, s, iov, n, total) == -1 ? -1 : 1;
}

struct replay_ctx {
	struct hub	*h;
	struct sub	*s;
	size_t		 used;
	size_t		 rows;
	size_t		 sent;
	size_t		 bytes;
	uint64_t	 last;
	int		 full;
};

static int
replay_row(void *arg, const struct evlog_row *row)
{
	struct replay_ctx *c = arg;
	struct hub	*h = c->h;
	char		 id[EVENT_ID_MAX + 1];
	size_t		 max;
	ssize_t		 n;

	c->rows++;
	c->bytes += row->data_len;
	c->last = row->seq;
	if (row->topic_len > TOPIC_MAX ||
	    !sub_matches(c->s, row->topic, row->topic_len))
		return 0;
	if (row->event_len > EVENT_NAME_MAX)
		return 0;
	eventid_format(id, sizeof(id), logdrv_epoch(h->log), row->seq);
	if (c->s->framing == FRAMING_WS)
		max = wsmsg_event_max(row->topic_len, row->event_len,
		    row->data_len);
	else
		max = sse_encoded_max(row->event_len, row->data_len);
	if (scratch_reserve(h, c->used + max) == -1)
		return -1;
	if (c->s->framing == FRAMING_WS)
		n = wsmsg_event(h->scratch + c->used, max, id, row->topic,
		    row->topic_len, row->event, row->event_len, row->data,
		    row->data_len);
	else
		n = sse_encode(h->scratch + c->used, max, id, row->event,
		    row->event_len, row->data, row->data_len);
	if (n < 0)
		return 0;
	c->used += (size_t)n;
	c->sent++;
	/* Stop at the write batch size: what is read is what is sent. */
	if (c->used >= WRITE_BATCH_BYTES) {
		c->full = 1;
		return 1;
	}
	return 0;
}

static int
send_gap(struct hub *h, struct sub *s, const char *asked, uint64_t first,
    uint64_t new_cursor)
{
	char	 data[256], id[EVENT_ID_MAX + 1], firstid[EVENT_ID_MAX + 1];
	char	 out[512];
	ssize_t	 n;

	eventid_format(id, sizeof(id), logdrv_epoch(h->log), new_cursor);
	if (first != 0) {
		eventid_format(firstid, sizeof(firstid), logdrv_epoch(h->log),
		    first);
		snprintf(data, sizeof(data),
		    "{\"lastEventId\":\"%s\",\"firstAvailableId\":\"%s\"}",
		    asked, firstid);
	} else
		snprintf(data, sizeof(data),
		    "{\"lastEventId\":\"%s\",\"firstAvailableId\":null}", asked);
	if (s->framing == FRAMING_WS)
		n = wsmsg_gap(out, sizeof(out), id, asked,
		    first != 0 ? firstid : NULL);
	else
		n = sse_encode(out, sizeof(out), id, "gap", 3, data,
		    strlen(data));
	if (n < 0)
		return -1;
	METRIC_ADD(gaps, 1);
	s->cursor = new_cursor;
	return sub_send_buf(h, s, out, (size_t)n);
}

/* Send the next replay batch from SQLite, or join the tail. */
static int
sub_replay_step(struct hub *h, struct sub *s)
{
	struct replay_ctx c;
	uint64_t	 bound, first, last;
	char		 asked[EVENT_ID_MAX + 1];
	const char	*topic;
	int		 rc;

	bound = tail_first_seq(h) - 1;
	if (s->cursor >= bound) {
		sub_go_live(h, s);
		return sub_live_step(h, s);
	}
	/* Retention may have pruned what this subscriber still needs. */
	first = METRIC_GET(log_first_seq);
	if (first > s->cursor + 1) {
		eventid_format(asked, sizeof(asked), logdrv_epoch(h->log),
		    s->cursor);
		return send_gap(h, s, asked, first, first - 1) == -1 ? -1 : 1;
	}
	memset(&c, 0, sizeof(c));
	c.h = h;
	c.s = s;
	topic = s->ntopics == 1 ? s->topics + 1 : NULL;
	rc = logdrv_read(h->log, topic, s->cursor, bound, REPLAY_BATCH_ROWS,
	    REPLAY_BATCH_BYTES, replay_row, &c);
	if (rc == -1) {
		log_err("replay: %s", logdrv_errmsg(h->log));
		sub_kill(h, s, 1);
		return -1;
	}
	if (rc == LOGDRV_PRUNED) {
		/* Retention took what it needs since the last look: the
		 * next step sends the gap from the new first. */
		if (logdrv_bounds(h->log, 0, &first, &last) == 0)
			METRIC_SET(log_first_seq, first);
		return 1;
	}
	if (c.rows < REPLAY_BATCH_ROWS && c.bytes < REPLAY_BATCH_BYTES &&
	    !c.full)
		s->cursor = bound;	/* read everything up to the tail */
	else
		s->cursor = c.last;
	if (c.sent == 0)
		return 1;
	METRIC_ADD(events_replayed, c.sent);
	return sub_send_buf(h, s, h->scratch, c.used) == -1 ? -1 : 1;
}

static void
sub_run_later(struct hub *h, struct sub *s)
{
	if (s->queued || s->dead)
		return;
	s->queued = 1;
	s->run_next = h->run_head;
	h->run_head = s;
}

/*
 * Give s what it is missing, a few batches at most; if more remains, it
 * goes on the run list for the next iteration.
 */
static void
sub_pump(struct hub *h, struct sub *s)
{
	int i, r;

	for (i = 0; i < PUMP_BUDGET; i++) {
		if (s->dead || s->pend != NULL || s->drain_until != 0)
			return;
		/* Frames of wsconn's first: ours must not cut into them. */
		if (s->framing == FRAMING_WS && (wsconn_want_write(s->w->conn) ||
		    wsconn_closing(s->w->conn)))
			return;
		if (s->state == SUB_REPLAY)
			r = sub_replay_step(h, s);
		else
			r = sub_live_step(h, s);
		if (r <= 0)
			return;
	}
	sub_run_later(h, s);
}

/* ---- subscribers: lifecycle ------------------------------------------- */

static void
sub_free(struct hub *h, struct sub *s)
{
	unsigned char	 end[2 * FCGI_HEADER_LEN + 8];
	struct sub	*last;
	int		 i;

	if (s->graceful && s->pend == NULL) {
		if (s->framing == FRAMING_FCGI) {
			/* End of stdout, then FCGI_END_REQUEST with
			 * appStatus 0 and FCGI_REQUEST_COMPLETE. */
			fcgi_header(end, FCGI_STDOUT, s->reqid, 0);
			fcgi_header(end + 8, FCGI_END_REQUEST, s->reqid, 8);
			memset(end + 16, 0, 8);
			if (write(s->fd, end, sizeof(end)) == -1)
				log_debug("end of stream: %s", strerror(errno));
		}
		if (s->framing == FRAMING_WS &&
		    !wsconn_closing(s->w->conn)) {
			wsconn_close(s->w->conn, s->w->close_code ?
			    s->w->close_code : 1001, "server going away;"
			    " resume with lastEventId");
			wsconn_flush(s->w->conn);
		}
	}
	if (s->framing == FRAMING_WS) {
		/* Read what the client sent last (a pong, its close): closing
		 * with unread input would reset the connection, and the client
		 * could lose our close frame. */
		for (i = 0; i < 64 && read(s->fd, end, sizeof(end)) > 0; i++)
			;
		wsconn_free(s->w->conn);
		s->w->conn = NULL;
		s->w->s = NULL;
		wsub_release(s->w);
		METRIC_ADD(ws_connections, -1);
	}
	if (s->pend != NULL)
		METRIC_ADD(bytes_queued,
		    -(long long)(s->pend_len - s->pend_off));
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	last = h->subs[--h->nsubs];
	h->subs[s->idx] = last;
	last->idx = s->idx;
	METRIC_ADD(subscribers, -1);
	quota_stream_release(s->slot);
	free(s->pend);
	free(s);
}

static void
sweep_dead(struct hub *h)
{
	struct sub *s, **pp;
	int	    i;

	if (h->dead_head == NULL)
		return;
	/* Dead subscribers must leave the run list before they are freed. */
	for (pp = &h->run_head; (s = *pp) != NULL; ) {
		if (s->dead)
			*pp = s->run_next;
		else
			pp = &s->run_next;
	}
	while ((s = h->dead_head) != NULL) {
		h->dead_head = s->dead_next;
		for (i = 0; i < h->nprobes; i++)
			if (h->probes[i] == s)
				h->probes[i--] = h->probes[--h->nprobes];
		sub_free(h, s);
	}
}

/* A WebSocket hand-off carries the handshake's answer. */
static int
s_framing_ws(const struct stream_req *req)
{
	return req->ws_accept[0] != '\0';
}

static size_t
header_block(struct hub *h, const struct stream_req *req, char *out,
    size_t outsz)
{
	unsigned long	 jitter, retry;
	int		 n;

	if (s_framing_ws(req)) {
		n = snprintf(out, outsz,
		    "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n"
		    "\r\n", req->ws_accept);
		if (n < 0 || (size_t)n >= outsz)
			return 0;
		return (size_t)n;
	}

	/* +-RETRY_JITTER_PERCENT around the hint, per connection, so that a
	 * mass disconnect does not reconnect as one herd. */
	retry = (unsigned long)h->cfg->retry_ms;
	jitter = retry * RETRY_JITTER_PERCENT / 100;
	if (jitter > 0)
		retry = retry - jitter + hub_random(h) % (2 * jitter + 1);
	n = snprintf(out, outsz,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "%s%s%s%s"
	    "\r\n"
	    "retry: %lu\n\n",
	    req->allow_origin[0] ? "Access-Control-Allow-Origin: " : "",
	    req->allow_origin,
	    req->allow_origin[0] ? "\r\nAccess-Control-Allow-Credentials: "
	    "true\r\n" : "",
	    req->allow_origin[0] ? "Vary: Origin\r\n" : "",
	    retry);
	if (n < 0 || (size_t)n >= outsz)
		return 0;
	return (size_t)n;
}

/*
 * Decide where a new stream starts (WHATWG: the id is the resume point; we
 * add the epoch and the gap signal, README.md "Resuming").
 */
static int
sub_start(struct hub *h, struct sub *s, const struct stream_req *req)
{
	uint64_t	 first, last, gap_cursor = 0;
	char		 head[1024];
	size_t		 n;
	int		 gap = 0;

	/* The resume point's seq as "want": a driver that caches the
	 * bounds (JetStream) must not take an id another backend handed out
	 * for one from the future. */
	if (logdrv_bounds(h->log, req->has_resume && (!req->resume.has_epoch ||
	    strcmp(req->resume.epoch, logdrv_epoch(h->log)) == 0) ?
	    req->resume.seq : 0, &first, &last) == -1) {
		log_err("log bounds: %s", logdrv_errmsg(h->log));
		return -1;
	}
	METRIC_SET(log_first_seq, first);
	s->history_end = h->last_seq;
	if (!req->has_resume) {
		/* Live only: nothing committed before now, even what the
		 * tail has not read yet (another process's appends). */
		s->cursor = last > h->last_seq ? last : h->last_seq;
		s->state = SUB_LIVE;
		s->tail_pos = h->end_pos;
	} else {
		s->state = SUB_REPLAY;
		s->cursor = req->resume.seq;
		if (req->resume.has_epoch &&
		    strcmp(req->resume.epoch, logdrv_epoch(h->log)) != 0)
			gap = 1;	/* another log's id */
		else if (req->resume.seq > last)
			gap = 1;	/* from the future: not this log */
		else if (first == 0 ? req->resume.seq < last :
		    req->resume.seq + 1 < first)
			gap = 1;	/* pruned by retention */
		if (gap)
			gap_cursor = first != 0 ? first - 1 : last;
	}

	n = header_block(h, req, head, sizeof(head));
	if (n == 0 || sub_send_buf(h, s, head, n) == -1)
		return -1;
	if (gap && send_gap(h, s, req->resume_raw, first, gap_cursor) == -1)
		return -1;
	return 0;
}

static int
is_unix_socket(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

static const struct wsconn_io ws_io = {
	ws_io_recv, ws_io_send, ws_on_text
};

static void
adopt_one(struct hub *h, struct handoff *ho)
{
	struct epoll_event	 ev;
	struct sub		*s, **grown;
	size_t			 tlen = 0, cap;
	char			*p;
	int			 i, flags;

	for (i = 0; i < ho->req.ntopics; i++)
		tlen += 2 + strlen(ho->req.topics[i]);
	if ((s = calloc(1, sizeof(*s) + tlen)) == NULL)
		goto fail;
	if (h->nsubs == h->subs_cap) {
		cap = h->subs_cap ? h->subs_cap * 2 : 1024;
		if ((grown = realloc(h->subs, cap * sizeof(*grown))) == NULL)
			goto fail;
		h->subs = grown;
		h->subs_cap = cap;
	}
	s->fd = ho->fd;
	s->slot = ho->req.slot;
	ho->req.slot = NULL;		/* the sub's now */
	s->expires = ho->req.expires;
	s->reqid = ho->reqid;
	s->framing = (uint8_t)ho->framing;
	s->ntopics = (uint8_t)ho->req.ntopics;
	for (p = s->topics, i = 0; i < ho->req.ntopics; i++) {
		*p = (char)strlen(ho->req.topics[i]);
		memcpy(p + 1, ho->req.topics[i], (unsigned char)*p + 1);
		p += 2 + (unsigned char)*p;
	}
	flags = fcntl(s->fd, F_GETFL);
	if (flags == -1 || fcntl(s->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	if (s->framing == FRAMING_WS) {
		if ((s->w = calloc(1, sizeof(*s->w))) == NULL)
			goto fail;
		s->w->h = h;
		s->w->s = s;
		s->w->may_publish = ho->req.ws_may_publish;
		s->w->who = ho->req.who;
		s->w->last_rx_ms = s->w->last_ping_ms = now_ms();
		if (wsconn_new(&s->w->conn, config_ws_max_message(h->cfg),
		    &ws_io, s->w) == -1)
			goto fail;
	}
	/* The drain probe: a web server's connection (FastCGI, or the
	 * proxied WebSocket tunnel on a Unix socket) reads as fast as it can
	 * pass bytes on, so what it has not read is what it has not taken.
	 * On TCP, SIOCOUTQ also counts bytes merely unacknowledged, and a
	 * direct WebSocket client's network would set the pace: not probed. */
	s->probe_ok = s->framing == FRAMING_FCGI ||
	    (s->framing == FRAMING_WS && is_unix_socket(s->fd));
	memset(&ev, 0, sizeof(ev));
	ev.events = s->framing != FRAMING_RAW ? EPOLLIN | EPOLLRDHUP : 0;
	ev.data.ptr = s;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, s->fd, &ev) == -1) {
		log_err("epoll_ctl add: %s", strerror(errno));
		goto fail;
	}
	s->idx = (uint32_t)h->nsubs;
	h->subs[h->nsubs++] = s;
	METRIC_ADD(streams_opened, 1);
	if (s->framing == FRAMING_WS)
		METRIC_ADD(ws_connections, 1);
	/* subscribers was counted by hub_adopt (so that the limit holds
	 * before the hand-off is processed). */
	if (sub_start(h, s, &ho->req) == -1) {
		sub_kill(h, s, 0);
		return;
	}
	sub_pump(h, s);
	return;
fail:
	log_err("cannot adopt stream: %s", strerror(errno));
	METRIC_ADD(subscribers, -1);
	close(ho->fd);
	quota_stream_release(ho->req.slot);
	if (s != NULL)
		quota_stream_release(s->slot);
	if (s != NULL && s->w != NULL) {
		wsconn_free(s->w->conn);
		free(s->w);
	}
	free(s);
}

static void
adopt_pending(struct hub *h)
{
	struct handoff *list, *ho;

	pthread_mutex_lock(&h->adopt_mtx);
	list = h->adopt_head;
	h->adopt_head = NULL;
	h->adopt_tail = &h->adopt_head;
	pthread_mutex_unlock(&h->adopt_mtx);
	while ((ho = list) != NULL) {
		list = ho->next;
		adopt_one(h, ho);
		free(ho);
	}
}

/* ---- the loop --------------------------------------------------------- */

/* Close subscribers whose unsent backlog passed the bound. */
static void
drop_slow(struct hub *h, int64_t now)
{
	struct sub	*s;
	uint64_t	 lag, pos;
	struct tail_ev	*e;
	size_t		 i;

	for (i = 0; i < h->nsubs; i++) {
		s = h->subs[i];
		if (s->dead || s->pend == NULL || s->state != SUB_LIVE ||
		    s->drain_until != 0)
			continue;
		lag = s->pend_len - s->pend_off;
		if (s->tail_pos >= h->base_pos)
			lag += h->end_off - tail_off_before(h, s->tail_pos);
		/* The offsets count SSE bytes; a frame is larger by its
		 * JSON, never by twice. */
		if (s->framing == FRAMING_WS)
			lag *= 2;
		if (lag <= h->cfg->backlog_bound)
			continue;
		/* Only its own topics count: measure them exactly. */
		lag = s->pend_len - s->pend_off;
		for (pos = s->tail_pos < h->base_pos ? h->base_pos :
		    s->tail_pos; pos < h->end_pos; pos++) {
			e = tail_at(h, pos);
			if (e->seq > s->cursor &&
			    sub_matches(s, e->mem, e->topic_len))
				lag += s->framing == FRAMING_WS ? e->ws_len :
				    e->len;
		}
		if (lag > h->cfg->backlog_bound) {
			log_info("subscriber fd %d: %llu bytes behind, dropped"
			    " (it resumes from the log)", s->fd,
			    (unsigned long long)lag);
			METRIC_ADD(slow_dropped, 1);
			s->drain_until = now + SLOW_DRAIN_MS;
		}
	}
}

static void
fanout(struct hub *h, int64_t now)
{
	struct sub	*s;
	size_t		 i, step;

	for (i = 0; i < h->nsubs; i++) {
		s = h->subs[i];
		if (!s->dead && s->pend == NULL && s->state == SUB_LIVE)
			sub_pump(h, s);
	}
	h->tail_grew = 0;
	h->last_fanout_ms = now;
	/* Sample subscribers spread over the pass to time the drain, from
	 * a different start each pass so that no one client always counts. */
	h->nprobes = 0;
	step = h->nsubs / FANOUT_PROBES + 1;
	for (i = h->passes++ % step; i < h->nsubs &&
	    h->nprobes < FANOUT_PROBES; i += step) {
		s = h->subs[i];
		if (!s->dead && s->probe_ok)
			h->probes[h->nprobes++] = s;
	}
	drop_slow(h, now);
}

/*
 * Has the web server taken the last pass? When it has, set the next wait
 * to twice the time it took. Returns 1 if drained.
 */
static int
fanout_drained(struct hub *h, int64_t now)
{
	int64_t	wait;
	int	i, queued, busy = 0;

	/* Most, not all: a client that stops reading makes the web server
	 * stop reading its stream, and must not hold up everyone. */
	for (i = 0; i < h->nprobes; i++)
		if (ioctl(h->probes[i]->fd, SIOCOUTQ, &queued) == 0 &&
		    queued > 0)
			busy++;
	if (busy > 0 && 2 * busy >= h->nprobes)
		return 0;
	if (h->nprobes > 0) {
		wait = FANOUT_WAIT_FACTOR * (now - h->last_fanout_ms);
		if (wait < FANOUT_MIN_MS)
			wait = FANOUT_MIN_MS;
		if (wait > FANOUT_MAX_MS)
			wait = FANOUT_MAX_MS;
		h->fanout_wait_ms = wait;
		h->nprobes = 0;
	}
	return 1;
}

/* May a new pass start now? */
static int
fanout_due(struct hub *h, int64_t now)
{
	if (!h->tail_grew)
		return 0;
	if (now - h->last_fanout_ms >= FANOUT_MAX_MS)
		return 1;
	return fanout_drained(h, now) &&
	    now - h->last_fanout_ms >= h->fanout_wait_ms;
}

/* How often to look for quiet streams: a quarter of the heartbeat (at most
 * a second), so that no stream stays silent much past its heartbeat. */
static int64_t
beat_tick_ms(const struct hub *h)
{
	int64_t tick = h->cfg->heartbeat_ms / 4;

	if (tick > 1000)
		tick = 1000;
	if (tick < POLL_INTERVAL_MS)
		tick = POLL_INTERVAL_MS;
	return tick;
}

/* Ping a WebSocket whose client has been quiet for a heartbeat (or to
 * which nothing was written); drop it when a ping went unanswered for
 * another one. Proxies that close idle tunnels (lighttpd after
 * server.max-read-idle) see traffic both ways. */
static void
ws_heartbeat(struct hub *h, struct sub *s, int64_t now)
{
	struct wsub	*w = s->w;
	int64_t		 hb = h->cfg->heartbeat_ms;

	if (s->dead || s->drain_until != 0)
		return;
	if (now - w->last_rx_ms >= 2 * hb) {
		log_info("websocket fd %d: no answer to ping for %lld ms,"
		    " dropped", s->fd, (long long)(now - w->last_rx_ms));
		sub_kill(h, s, 0);
		return;
	}
	if ((now - w->last_rx_ms >= hb || now - s->last_write_ms >= hb) &&
	    now - w->last_ping_ms >= hb) {
		wsconn_ping(w->conn);
		w->last_ping_ms = now;
		ws_service(h, s);
	}
}

/* Its access token expired: say so in-band, then end (README.md,
 * "Private topics"). The client gets a new token and reconnects. */
static void
sub_reauth(struct hub *h, struct sub *s, int64_t now)
{
	static const char sse[] = "event: reauth\n"
	    "data: {\"reason\":\"access token expired\"}\n\n";
	static const char ws[] = "{\"reauth\":{\"reason\":\"access token"
	    " expired\"}}";

	METRIC_ADD(reauth_closed, 1);
	s->expires = 0;
	if (s->framing == FRAMING_WS) {
		wsconn_queue_text(s->w->conn, ws, sizeof(ws) - 1);
		sub_end(h, s, 1008, now);
		return;
	}
	if (s->pend == NULL)
		sub_send_buf(h, s, sse, sizeof(sse) - 1);
	sub_kill(h, s, 1);
}

static void
heartbeat(struct hub *h, int64_t now)
{
	struct sub	*s;
	size_t		 i;
	int64_t		 wall = (int64_t)time(NULL);

	for (i = 0; i < h->nsubs; i++) {
		s = h->subs[i];
		if (s->expires != 0 && wall >= s->expires && !s->dead) {
			sub_reauth(h, s, now);
			continue;
		}
		if (s->drain_until != 0 && now >= s->drain_until) {
			sub_kill(h, s, 0);	/* it never took its queue */
			continue;
		}
		if (s->framing == FRAMING_WS) {
			ws_heartbeat(h, s, now);
			continue;
		}
		if (s->dead || s->pend != NULL || s->drain_until != 0 ||
		    now - s->last_write_ms < h->cfg->heartbeat_ms)
			continue;
		/* A departed client also shows up here, as EPIPE. */
		sub_send_buf(h, s, SSE_KEEPALIVE, SSE_KEEPALIVE_LEN);
	}
}

static void
on_sub_event(struct hub *h, struct sub *s, uint32_t events)
{
	char	buf[4096];
	ssize_t	r;

	if (s->dead)
		return;
	if (s->framing == FRAMING_WS &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		/* A close frame may come with the FIN: read it first. */
		ws_on_readable(h, s);
		if (s->dead)
			return;
		events &= ~(uint32_t)(EPOLLIN | EPOLLRDHUP);
	}
	if (events & EPOLLIN) {
		/* Records after the request (e.g. an empty FCGI_STDIN) mean
		 * nothing to a stream; EOF means the client left. */
		r = read(s->fd, buf, sizeof(buf));
		if (r == 0) {
			/* The web server shut its side (lighttpd's
			 * tcp-fin-propagate): end the request properly. */
			sub_kill(h, s, 1);
			return;
		}
		if (r == -1 && errno != EAGAIN && errno != EINTR) {
			sub_kill(h, s, 0);
			return;
		}
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		sub_kill(h, s, 0);
		return;
	}
	if (events & EPOLLRDHUP) {
		sub_kill(h, s, 1);
		return;
	}
	if (events & EPOLLOUT) {
		if (sub_flush_pending(h, s) != 1)
			return;
		if (s->framing == FRAMING_WS) {
			ws_service(h, s);
			if (s->dead || wsconn_want_write(s->w->conn))
				return;
		}
		if (s->drain_until != 0)	/* dropped: end it cleanly */
			sub_end(h, s, 1013, now_ms());
		else
			sub_pump(h, s);
	}
}

/* POST /disconnect: every stream ends; clients come back and resume. */
static void
disconnect_all(struct hub *h, int64_t now)
{
	size_t i;

	log_info("disconnecting all %zu streams (asked by POST /disconnect)",
	    h->nsubs);
	for (i = 0; i < h->nsubs; i++)
		sub_end(h, h->subs[i], 1012, now);
}

static void
stop_all(struct hub *h)
{
	size_t i;

	for (i = 0; i < h->nsubs; i++) {
		/* One last try to send what is queued, then end cleanly. */
		if (h->subs[i]->pend != NULL)
			sub_flush_pending(h, h->subs[i]);
		sub_kill(h, h->subs[i], 1);
	}
	sweep_dead(h);
}

int
hub_run(struct hub *h)
{
	struct epoll_event	 evs[EPOLL_EVENTS];
	struct sub		*run;
	uint64_t		 v, first, last;
	int64_t			 now, timeout;
	int			 n, i, notified;

	if (tail_ingest(h) == -1)
		return -1;
	now = now_ms();
	h->next_poll_ms = now + POLL_INTERVAL_MS;
	h->next_beat_ms = now + beat_tick_ms(h);
	h->next_bounds_ms = now;
	h->fanout_wait_ms = FANOUT_MIN_MS;
	while (!atomic_load(&h->stop)) {
		now = now_ms();
		timeout = h->next_poll_ms - now;
		if (h->run_head != NULL || timeout < 0)
			timeout = 0;
		/* While a pass drains or the next one waits, look often. */
		if (h->tail_grew || h->nprobes > 0) {
			if (h->nprobes > 0 && timeout > FANOUT_MIN_MS)
				timeout = FANOUT_MIN_MS;
			else if (h->last_fanout_ms + h->fanout_wait_ms - now <
			    timeout)
				timeout = h->last_fanout_ms + h->fanout_wait_ms -
				    now;
		}
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(h->epfd, evs, EPOLL_EVENTS, (int)timeout);
		if (n == -1 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		notified = 0;
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				if (read(h->wakefd, &v, sizeof(v)) == -1 &&
				    errno != EAGAIN)
					log_err("eventfd: %s", strerror(errno));
				notified = 1;
			} else
				on_sub_event(h, evs[i].data.ptr, evs[i].events);
		}
		adopt_pending(h);
		ws_take_done(h);
		now = now_ms();
		if (atomic_exchange(&h->disconnect, 0))
			disconnect_all(h, now);
		if (notified || now >= h->next_poll_ms) {
			tail_ingest(h);
			h->next_poll_ms = now + POLL_INTERVAL_MS;
		}
		if (h->nprobes > 0)
			fanout_drained(h, now);
		if (fanout_due(h, now))
			fanout(h, now);
		/* Run what still has something to send, a budget each. */
		run = h->run_head;
		h->run_head = NULL;
		while (run != NULL) {
			struct sub *s = run;

			run = s->run_next;
			s->queued = 0;
			sub_pump(h, s);
		}
		if (now >= h->next_beat_ms) {
			heartbeat(h, now);
			h->next_beat_ms = now + beat_tick_ms(h);
		}
		if (now >= h->next_bounds_ms) {
			if (logdrv_bounds(h->log, 0, &first, &last) == 0) {
				METRIC_SET(log_first_seq, first);
				if (last > METRIC_GET(log_last_seq))
					METRIC_SET(log_last_seq, last);
			}
			h->next_bounds_ms = now + 1000;
		}
		sweep_dead(h);
		if (h->exit_when_idle && h->nsubs == 0) {
			pthread_mutex_lock(&h->adopt_mtx);
			n = h->adopt_head == NULL;
			pthread_mutex_unlock(&h->adopt_mtx);
			if (n)
				break;
		}
	}
	stop_all(h);
	return 0;
}

/* ---- creation and hand-off -------------------------------------------- */

static void
follow_notify(void *arg)
{
	hub_notify(arg);
}

int
hub_create(struct hub **out, const char *dbpath, int create,
    const struct config *cfg, int exit_when_idle, char *err, size_t errsz)
{
	struct epoll_event	 ev;
	struct hub		*h;
	char			 dberr[512];

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	h->cfg = cfg;
	h->epfd = h->wakefd = -1;
	h->exit_when_idle = exit_when_idle;
	pthread_mutex_init(&h->adopt_mtx, NULL);
	h->adopt_tail = &h->adopt_head;
	h->done_tail = &h->done_head;
	h->ws_enabled = cfg->ws[0] != '\0';
	if (getrandom(&h->rnd, sizeof(h->rnd), 0) != sizeof(h->rnd) ||
	    h->rnd == 0)
		h->rnd = (uint64_t)time(NULL) | 1;
	if (logdrv_open(&h->log, cfg, dbpath, (create ? LOGDRV_CREATE : 0) |
	    (cfg->sync_full ? LOGDRV_SYNC_FULL : 0), dberr,
	    sizeof(dberr)) == -1) {
		snprintf(err, errsz, "%s", dberr);
		goto fail;
	}
	if ((h->ring = calloc(TAIL_EVENTS_MAX, sizeof(*h->ring))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto fail;
	}
	h->ring_mask = TAIL_EVENTS_MAX - 1;
	/* The tail starts empty at the log's end: older events replay from
	 * SQLite. */
	if (logdrv_bounds(h->log, 0, &h->base_off, &h->last_seq) == -1) {
		snprintf(err, errsz, "%s", logdrv_errmsg(h->log));
		goto fail;
	}
	h->base_off = h->end_off = 0;
	if ((h->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (h->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errsz, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wakefd, &ev) == -1) {
		snprintf(err, errsz, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	/* New events from now on, whoever appends them; a driver that
	 * pushes (JetStream) wakes the loop, SQLite is polled. */
	if (logdrv_follow(h->log, h->last_seq, follow_notify, h) == -1) {
		snprintf(err, errsz, "%s", logdrv_errmsg(h->log));
		goto fail;
	}
	*out = h;
	return 0;
fail:
	hub_free(h);
	return -1;
}

const char *
hub_epoch(const struct hub *h)
{
	return logdrv_epoch(h->log);
}

int
hub_adopt(struct hub *h, int fd, uint16_t request_id,
    enum hub_framing framing, const struct stream_req *req)
{
	struct handoff *ho;

	if ((ho = malloc(sizeof(*ho))) == NULL) {
		close(fd);
		quota_stream_release(req->slot);
		return -1;
	}
	ho->fd = fd;
	ho->reqid = request_id;
	ho->framing = framing;
	ho->req = *req;
	ho->next = NULL;
	METRIC_ADD(subscribers, 1);
	pthread_mutex_lock(&h->adopt_mtx);
	*h->adopt_tail = ho;
	h->adopt_tail = &ho->next;
	pthread_mutex_unlock(&h->adopt_mtx);
	hub_notify(h);
	return 0;
}

void
hub_notify(struct hub *h)
{
	uint64_t one = 1;

	/* Async-signal-safe; a full counter (EAGAIN) still wakes the loop. */
	if (write(h->wakefd, &one, sizeof(one)) == -1) {
		/* nothing to do */
	}
}

void
hub_set_publisher(struct hub *h, struct asyncpub *p)
{
	h->publisher = p;
}

void
hub_publish_done(void *arg, struct pubjob *list)
{
	struct hub	*h = arg;
	struct pubjob	*last;

	for (last = list; last->next != NULL; last = last->next)
		;
	pthread_mutex_lock(&h->adopt_mtx);
	*h->done_tail = list;
	h->done_tail = &last->next;
	pthread_mutex_unlock(&h->adopt_mtx);
	hub_notify(h);
}

void
hub_disconnect_all(struct hub *h)
{
	atomic_store(&h->disconnect, 1);
	hub_notify(h);
}

void
hub_stop(struct hub *h)
{
	atomic_store(&h->stop, 1);
	hub_notify(h);
}

static void
refuse_stopping(const struct handoff *ho)
{
	static const char body[] = "Status: 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Retry-After: 1\r\n\r\nthe server is stopping\n";
	unsigned char	 rec[3 * FCGI_HEADER_LEN + 8 + sizeof(body)];
	size_t		 len = sizeof(body) - 1, off = 0;

	static const char ws_body[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: 23\r\nConnection: close\r\n"
	    "Retry-After: 1\r\n\r\nthe server is stopping\n";

	if (ho->framing == FRAMING_WS) {
		if (write(ho->fd, ws_body, sizeof(ws_body) - 1) == -1)
			log_debug("refusing a websocket: %s", strerror(errno));
		return;
	}
	if (ho->framing == FRAMING_FCGI) {
		fcgi_header(rec, FCGI_STDOUT, ho->reqid, len);
		off = FCGI_HEADER_LEN;
	}
	memcpy(rec + off, body, len);
	off += len;
	if (ho->framing == FRAMING_FCGI) {
		fcgi_header(rec + off, FCGI_STDOUT, ho->reqid, 0);
		fcgi_header(rec + off + FCGI_HEADER_LEN, FCGI_END_REQUEST,
		    ho->reqid, 8);
		memset(rec + off + 2 * FCGI_HEADER_LEN, 0, 8);
		off += 2 * FCGI_HEADER_LEN + 8;
	}
	if (write(ho->fd, rec, off) == -1)
		log_debug("refusing a stream: %s", strerror(errno));
}

void
hub_free(struct hub *h)
{
	struct handoff *ho;

	if (h == NULL)
		return;
	/* First: a follower's notify must not find the eventfd gone. */
	logdrv_close(h->log);
	h->log = NULL;
	while (h->nsubs > 0) {
		h->subs[0]->graceful = 0;
		sub_free(h, h->subs[0]);
	}
	while ((ho = h->adopt_head) != NULL) {
		/* Handed over as the hub stopped: answer, don't just hang up. */
		h->adopt_head = ho->next;
		refuse_stopping(ho);
		quota_stream_release(ho->req.slot);
		METRIC_ADD(subscribers, -1);
		close(ho->fd);
		free(ho);
	}
	/* Results that came after the loop ended: their clients are gone. */
	ws_take_done(h);
	if (h->ring != NULL)
		while (h->base_pos < h->end_pos)
			tail_evict_oldest(h);
	free(h->ring);
	free(h->subs);
	free(h->scratch);
	if (h->epfd != -1)
		close(h->epfd);
	if (h->wakefd != -1)
		close(h->wakefd);
	pthread_mutex_destroy(&h->adopt_mtx);
	free(h);
}
