/*
 * loadclient.c: the SSE load client of `make bench`.
 *
 * Opens N HTTP/1.1 connections to GET PATH on HOST:PORT (epoll, non-blocking,
 * optionally spread over T threads), decodes chunked or identity bodies, and
 * parses the stream by the WHATWG EventSource rules: a leading BOM is
 * dropped, lines end with CRLF, LF or CR (also split across reads), "data"
 * lines accumulate with LF between them, ":" lines are comments, "id" sets
 * the last event ID buffer, "retry" takes digits only, a blank line
 * dispatches, and an event without data is not delivered.
 *
 * Each delivered default-type ("message") event is expected to carry
 *     <src> <seq> <usec>[ anything]        (' ' or '+' between fields)
 * where src is the publisher slot (< 64), seq counts from 1 per src and usec
 * is the CLOCK_REALTIME publish time in microseconds. From that the client
 * measures publish-to-receive latency and counts, per connection and per
 * src, gaps (seq skipped) and duplicates (seq not above the last one seen).
 * With -I it also checks ids of the form <hex>-<n>: strictly increasing, by
 * exactly 1 (a one-topic log). "event: gap" and other types are counted.
 *
 * Like a browser, a connection that ends (or that is dropped on purpose with
 * probability -P after an event) is reopened with Last-Event-ID set to the
 * last id string received (-R), and the per-connection sequence tracking
 * carries on across the reconnect: a logical subscriber must see every event
 * exactly once.
 *
 * The run ends when every connection has -n events (0 = never), at the -d
 * deadline, or on SIGTERM/SIGINT. One line of key=value results goes to
 * stdout; -f FILE is written once every first connection got its 200 and
 * headers (so a publisher can start), -O FILE gets one CSV line per
 * connection, -E FILE one line per dispatched event (conn, type, id, data
 * with \n escaped): the parser's self-test (selftest.py) reads it.
 *
 * -W speaks WebSocket (RFC 6455) instead, to ssereplay's /ws: the request
 * is the opening handshake (§4.1: Upgrade, Connection, Sec-WebSocket-Key of
 * 16 random bytes, version 13; no Origin, as a non-browser client), the
 * answer must be 101, and then every text message is one event
 *     {"id":"ID","topic":"T","event":"E","data":"D"}
 * or a gap {"id":"ID","gap":{...}}, found by a scan for those keys in the
 * server's field order (a bench client, not a JSON parser; the data string
 * is unescaped per RFC 8259). The data and the id then go through the very
 * checks of the SSE mode. Frames are parsed incrementally (§5.2: headers
 * and payloads split across reads, 7/16/64-bit lengths), fragmented
 * messages with control frames between their fragments are joined, a ping
 * is answered with a masked pong carrying its payload (§5.5.2), a close
 * with a masked close echoing its code (§5.5.1), and then the connection
 * resumes like an SSE one, with lastEventId in the query (a lastEventId
 * already in -u, or -L, is the first connection's). A masked server frame,
 * reserved bits, an unknown opcode or a bad fragment sequence is a protocol
 * error: counted as bad data, the connection is dropped and resumed.
 * Deliberately omitted: Sec-WebSocket-Accept is not verified (it needs
 * SHA-1, and the server here is ours), extensions are never offered.
 *
 * In both modes bytes= counts every byte read from the sockets (headers,
 * framing, keepalives: what the wire carried) and bytes_per_event divides
 * it by the events delivered.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#include "hist.h"

#define MAXSRC		64
#define RBUF_SIZE	(256 * 1024)
#define HDR_MAX		8192
#define ID_MAX		128
#define TYPE_MAX	64
#define MAXTHREADS	16
#define ERR_DELAY_US	200000
#define WS_CTL_MAX	125		/* RFC 6455 §5.5 */
#define WS_HDR_MAX	14		/* 2 + 8 length + 4 mask */

enum cstate { C_IDLE, C_CONNECTING, C_HEADERS, C_BODY, C_DONE };
enum chstate { CH_SIZE, CH_EXT, CH_DATA, CH_CRLF, CH_END };
enum wsstate { WS_HDR, WS_PAYLOAD };
enum wsop {
	WS_CONT = 0x0, WS_TEXT = 0x1, WS_BINARY = 0x2,
	WS_CLOSE = 0x8, WS_PING = 0x9, WS_PONG = 0xA
};

struct conn {
	int		 fd;
	uint32_t	 idx;
	uint8_t		 state;
	uint8_t		 chunked;
	uint8_t		 cst;
	uint8_t		 cdigits;
	uint8_t		 skip_lf;
	uint8_t		 bom;
	uint8_t		 ready_once;
	uint8_t		 queued;
	uint8_t		 typelen;
	uint8_t		 idlen;
	uint8_t		 lastidlen;
	uint8_t		 failed;
	uint8_t		 wsst;		/* -W: enum wsstate */
	uint8_t		 wsop;		/* opcode of the frame being read */
	uint8_t		 wsfin;
	uint8_t		 wsmsg;		/* opcode of a fragmented message, or 0 */
	uint8_t		 wshlen;
	uint8_t		 ctllen;
	uint8_t		 wsh[WS_HDR_MAX];
	char		 ctl[WS_CTL_MAX];
	uint64_t	 crem;		/* chunk or frame payload left */
	uint64_t	 reconnect_at;	/* monotonic us */
	char		*hdr;
	uint32_t	 hlen;
	char		*line;
	uint32_t	 llen, lcap;
	char		*data;
	uint32_t	 dlen, dcap;
	char		 type[TYPE_MAX];
	char		 idbuf[ID_MAX];
	char		 lastid[ID_MAX];
	uint64_t	 id_last;
	uint32_t	*src_last;
	uint64_t	 uniq;
	uint32_t	 gaps, dups, id_gaps, id_dups, reconnects;
};

struct stats {
	uint64_t	events, uniq, dups, gaps, id_dups, id_gaps, id_checked;
	uint64_t	srv_gaps, other, comments, bad_data, bytes, reconnects;
	uint64_t	drops, http_errors, conn_errors, eofs, failed, retry_ms;
	uint64_t	chunks, reads, ws_pings, ws_closes;
	uint64_t	t_first, t_last;
	int		ws_close_code;	/* the last close code received */
};

struct worker {
	int		 id;
	int		 ep;
	pthread_t	 th;
	uint32_t	*mine;		/* conn indices */
	uint32_t	 nmine;
	uint32_t	 next_initial;
	uint32_t	 connecting;
	uint32_t	 max_connecting;
	uint32_t	*rq;		/* reconnect queue (conn indices) */
	uint32_t	 rqn;
	char		*rbuf;
	uint64_t	 now_rt;	/* realtime us of the current batch */
	uint64_t	 rng;
	struct stats	 st;
	struct hist	 lat;
};

static struct {
	const char	*host;
	int		 port;
	const char	*path;
	uint32_t	 nconns;
	uint64_t	 expect;
	double		 duration;
	double		 drop_p;
	int		 reconnect;
	int		 idcheck;
	int		 ws;
	int		 threads;
	uint32_t	 max_connecting;
	const char	*first_id;
	const char	*ready_file;
	const char	*conn_csv;
	const char	*dump;
	int		 quiet;
} o = {
	.host = "127.0.0.1", .port = 8080, .path = "/events?topic=bench",
	.nconns = 1, .duration = 30, .threads = 1, .max_connecting = 256,
};

static struct conn	*conns;
static struct worker	 workers[MAXTHREADS];
static struct sockaddr_in addr;
static atomic_uint	 n_done;
static atomic_uint	 n_ready;
static uint64_t		 t_start_mono, t_deadline_mono, t_start_rt;
static _Atomic uint64_t	 t_ready_mono;
static FILE		*dumpf;
static pthread_mutex_t	 dump_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
rng_next(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static int
grow(char **buf, uint32_t *cap, size_t need)
{
	size_t n;

	if (need <= *cap)
		return 0;
	if (need > (64u << 20))
		return -1;		/* a line or event over 64 MiB: give up */
	n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	*buf = xrealloc(*buf, n);
	*cap = (uint32_t)n;
	return 0;
}

/* ---- connection lifecycle ---------------------------------------------- */

static void conn_start(struct worker *w, struct conn *c);

static void
conn_reset_stream(struct conn *c)
{
	c->chunked = 0;
	c->cst = CH_SIZE;
	c->cdigits = 0;
	c->crem = 0;
	c->skip_lf = 0;
	c->bom = 0;
	c->hlen = 0;
	c->llen = 0;
	c->dlen = 0;
	c->typelen = 0;
	c->wsst = WS_HDR;
	c->wshlen = 0;
	c->wsmsg = 0;
	c->ctllen = 0;
	/* Like browsers: the new stream's id buffer starts from the last id. */
	memcpy(c->idbuf, c->lastid, c->lastidlen);
	c->idlen = c->lastidlen;
}

static void
conn_close_fd(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == C_CONNECTING || c->state == C_HEADERS)
		w->connecting--;
	free(c->hdr);
	c->hdr = NULL;
}

static void
conn_done(struct worker *w, struct conn *c, int failed)
{
	conn_close_fd(w, c);
	c->state = C_DONE;
	if (failed) {
		c->failed = 1;
		w->st.failed++;
	}
	atomic_fetch_add(&n_done, 1);
}

/* Close and reopen after delay_us (resuming with Last-Event-ID). */
static void
conn_restart(struct worker *w, struct conn *c, uint64_t delay_us)
{
	conn_close_fd(w, c);
	c->state = C_IDLE;
	c->reconnect_at = now_us(CLOCK_MONOTONIC) + delay_us;
	c->reconnects++;
	w->st.reconnects++;
	if (!c->queued) {
		c->queued = 1;
		w->rq[w->rqn++] = c->idx;
	}
}

/* The stream ended or failed: reconnect with -R, else give up on it. */
static void
conn_lost(struct worker *w, struct conn *c, uint64_t delay_us)
{
	if (o.reconnect && !atomic_load(&stop_flag))
		conn_restart(w, c, delay_us);
	else
		conn_done(w, c, 1);
}

static void
conn_start(struct worker *w, struct conn *c)
{
	struct epoll_event ev;
	int fd, one = 1;

	conn_reset_stream(c);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		w->st.conn_errors++;
		if (!o.quiet)
			fprintf(stderr, "loadclient: socket: %s\n",
			    strerror(errno));
		conn_lost(w, c, ERR_DELAY_US);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->state = C_CONNECTING;
	w->connecting++;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS) {
		w->st.conn_errors++;
		conn_lost(w, c, ERR_DELAY_US);
		return;
	}
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("epoll_ctl");
		exit(2);
	}
}

/* RFC 4648 base64 of n bytes into out (4 * ceil(n / 3) + 1 bytes). */
static void
base64(char *out, const unsigned char *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (i < n) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

/*
 * The WebSocket opening handshake (RFC 6455 §4.1) for o.path plus the
 * resume point lei (may be NULL), as a query parameter: /ws has no header
 * for it. Ids are <hex>-<n> or digits, so they need no escaping.
 */
static int
ws_request(struct worker *w, char *req, size_t size, const char *lei)
{
	unsigned char nonce[16];
	char key[25];
	uint64_t r;
	int i;

	for (i = 0; i < 16; i += 8) {
		r = rng_next(&w->rng);
		memcpy(nonce + i, &r, 8);
	}
	base64(key, nonce, sizeof(nonce));
	return snprintf(req, size,
	    "GET %s%s%s%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n", o.path,
	    lei ? (strchr(o.path, '?') ? "&" : "?") : "",
	    lei ? "lastEventId=" : "", lei ? lei : "", o.host, o.port, key);
}

static void
conn_send_request(struct worker *w, struct conn *c)
{
	char req[1024];
	const char *lei = NULL;
	struct epoll_event ev;
	int n, err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
		w->st.conn_errors++;
		conn_lost(w, c, ERR_DELAY_US);
		return;
	}
	if (c->lastidlen > 0)
		lei = c->lastid;
	else if (c->reconnects == 0 && o.first_id != NULL)
		lei = o.first_id;
	if (o.ws)
		n = ws_request(w, req, sizeof(req), lei);
	else
		n = snprintf(req, sizeof(req),
		    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Accept: text/event-stream\r\n"
		    "Cache-Control: no-cache\r\n%s%s%s\r\n", o.path, o.host,
		    o.port, lei ? "Last-Event-ID: " : "", lei ? lei : "",
		    lei ? "\r\n" : "");
	if (n <= 0 || (size_t)n >= sizeof(req) ||
	    send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		w->st.conn_errors++;
		conn_lost(w, c, ERR_DELAY_US);
		return;
	}
	c->state = C_HEADERS;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* ---- event handling ----------------------------------------------------- */

static void
write_ready_file(void)
{
	FILE *f;

	t_ready_mono = now_us(CLOCK_MONOTONIC);
	if (o.ready_file == NULL)
		return;
	f = fopen(o.ready_file, "w");
	if (f != NULL) {
		fprintf(f, "ready %u\n", o.nconns);
		fclose(f);
	}
}

static int
parse_u64(const char **pp, const char *end, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	*pp = p;
	*out = v;
	return 0;
}

static int
skip_sep(const char **pp, const char *end)
{
	if (*pp < end && (**pp == ' ' || **pp == '+')) {
		(*pp)++;
		return 0;
	}
	return -1;
}

/* A delivered "message" event. Returns -1 when the connection went away. */
static int
on_message(struct worker *w, struct conn *c, const char *d, size_t n)
{
	const char *p = d, *end = d + n;
	uint64_t src, seq, us, last;
	struct stats *st = &w->st;

	st->events++;
	if (st->t_first == 0)
		st->t_first = w->now_rt;
	st->t_last = w->now_rt;
	if (o.idcheck && c->idlen > 0) {
		const char *dash = memrchr(c->idbuf, '-', c->idlen);
		const char *q = dash ? dash + 1 : NULL;
		uint64_t id;

		if (q != NULL && parse_u64(&q, c->idbuf + c->idlen, &id) == 0 &&
		    q == c->idbuf + c->idlen) {
			st->id_checked++;
			if (c->id_last != 0 && id <= c->id_last) {
				st->id_dups++;
				c->id_dups++;
			} else if (c->id_last != 0 && id != c->id_last + 1) {
				st->id_gaps += id - c->id_last - 1;
				c->id_gaps++;
			}
			if (id > c->id_last)
				c->id_last = id;
		}
	}
	if (parse_u64(&p, end, &src) || skip_sep(&p, end) ||
	    parse_u64(&p, end, &seq) || skip_sep(&p, end) ||
	    parse_u64(&p, end, &us) || src >= MAXSRC) {
		st->bad_data++;
	} else {
		if (us != 0) {
			int64_t lat = (int64_t)(w->now_rt - us);

			hist_add(&w->lat, lat < 0 ? 0 : (uint64_t)lat);
		}
		if (c->src_last == NULL)
			c->src_last = calloc(MAXSRC, sizeof(uint32_t));
		last = c->src_last[src];
		if (seq > last) {
			if (seq != last + 1) {
				st->gaps += seq - last - 1;
				c->gaps++;
			}
			c->src_last[src] = (uint32_t)seq;
			c->uniq++;
			st->uniq++;
		} else {
			st->dups++;
			c->dups++;
		}
	}
	if (o.expect && c->uniq >= o.expect) {
		conn_done(w, c, 0);
		return -1;
	}
	if (o.drop_p > 0 &&
	    (double)(rng_next(&w->rng) >> 11) * 0x1.0p-53 < o.drop_p) {
		st->drops++;
		conn_restart(w, c, 0);
		return -1;
	}
	return 0;
}

/* -E: one line per dispatched event: conn, type, last event id, data. */
static void
dump_event(const struct conn *c, const char *type, size_t typelen,
    const char *d, size_t n)
{
	size_t i;

	pthread_mutex_lock(&dump_mu);
	fprintf(dumpf, "%u\t%.*s\t%.*s\t", c->idx,
	    typelen ? (int)typelen : 7, typelen ? type : "message",
	    (int)c->lastidlen, c->lastid);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (ch == '\n')
			fputs("\\n", dumpf);
		else if (ch == '\\')
			fputs("\\\\", dumpf);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(dumpf, "\\x%02x", ch);
		else
			fputc(ch, dumpf);
	}
	fputc('\n', dumpf);
	pthread_mutex_unlock(&dump_mu);
}

/*
 * An event either mode dispatched: its type (empty: "message") and data;
 * c->idbuf and c->lastid hold its id. Returns -1 when the connection went
 * away.
 */
static int
deliver(struct worker *w, struct conn *c, const char *type, size_t typelen,
    const char *d, size_t n)
{
	if (dumpf != NULL)
		dump_event(c, type, typelen, d, n);
	if (typelen == 0 || (typelen == 7 && memcmp(type, "message", 7) == 0))
		return on_message(w, c, d, n);
	if (typelen == 3 && memcmp(type, "gap", 3) == 0)
		w->st.srv_gaps++;
	else
		w->st.other++;
	return 0;
}

static int
dispatch(struct worker *w, struct conn *c)
{
	memcpy(c->lastid, c->idbuf, c->idlen);
	c->lastidlen = c->idlen;
	if (c->dlen == 0) {
		c->typelen = 0;
		return 0;
	}
	c->dlen--;			/* the data buffer's last LF */
	if (deliver(w, c, c->type, c->typelen, c->data, c->dlen) < 0)
		return -1;
	c->dlen = 0;
	c->typelen = 0;
	return 0;
}

static int
process_line(struct worker *w, struct conn *c, const char *s, size_t n)
{
	const char *colon, *v;
	size_t nl, vl;

	if (n == 0)
		return dispatch(w, c);
	if (s[0] == ':') {
		w->st.comments++;
		return 0;
	}
	colon = memchr(s, ':', n);
	if (colon != NULL) {
		nl = (size_t)(colon - s);
		v = colon + 1;
		vl = n - nl - 1;
		if (vl > 0 && *v == ' ') {
			v++;
			vl--;
		}
	} else {
		nl = n;
		v = s + n;
		vl = 0;
	}
	if (nl == 4 && memcmp(s, "data", 4) == 0) {
		if (grow(&c->data, &c->dcap, (size_t)c->dlen + vl + 1) < 0)
			return -2;
		memcpy(c->data + c->dlen, v, vl);
		c->dlen += (uint32_t)vl;
		c->data[c->dlen++] = '\n';
	} else if (nl == 2 && memcmp(s, "id", 2) == 0) {
		if (memchr(v, '\0', vl) == NULL) {
			if (vl >= ID_MAX)
				vl = ID_MAX - 1;  /* longer ids are cut */
			memcpy(c->idbuf, v, vl);
			c->idlen = (uint8_t)vl;
		}
	} else if (nl == 5 && memcmp(s, "event", 5) == 0) {
		if (vl >= TYPE_MAX)
			vl = TYPE_MAX - 1;
		memcpy(c->type, v, vl);
		c->typelen = (uint8_t)vl;
	} else if (nl == 5 && memcmp(s, "retry", 5) == 0) {
		uint64_t ms = 0;
		size_t i;

		for (i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
			ms = ms * 10 + (uint64_t)(v[i] - '0');
		if (vl > 0 && i == vl)
			w->st.retry_ms = ms;
	}
	return 0;
}

/*
 * Feed decoded body bytes to the event-stream parser. Returns -1 when the
 * connection was closed or restarted meanwhile.
 */
static int
sse_feed(struct worker *w, struct conn *c, const char *p, size_t n)
{
	static const char bom[3] = { '\xEF', '\xBB', '\xBF' };
	const char *nl, *cr, *e;
	size_t len;
	int rc;

	while (c->bom < 3 && n > 0) {
		if (*p == bom[c->bom]) {
			c->bom++;
			p++;
			n--;
			continue;
		}
		if (c->bom > 0) {
			/* a partial BOM is data after all */
			uint8_t k = c->bom;

			c->bom = 3;
			if (sse_feed(w, c, bom, k) < 0)
				return -1;
		}
		c->bom = 3;
	}
	while (n > 0) {
		if (c->skip_lf) {
			c->skip_lf = 0;
			if (*p == '\n') {
				p++;
				n--;
				continue;
			}
		}
		nl = memchr(p, '\n', n);
		cr = memchr(p, '\r', nl ? (size_t)(nl - p) : n);
		e = cr ? cr : nl;
		if (e == NULL) {
			if (grow(&c->line, &c->lcap, (size_t)c->llen + n) < 0)
				goto toolong;
			memcpy(c->line + c->llen, p, n);
			c->llen += (uint32_t)n;
			return 0;
		}
		len = (size_t)(e - p);
		if (c->llen > 0) {
			if (grow(&c->line, &c->lcap, (size_t)c->llen + len) < 0)
				goto toolong;
			memcpy(c->line + c->llen, p, len);
			c->llen += (uint32_t)len;
			rc = process_line(w, c, c->line, c->llen);
			c->llen = 0;
		} else {
			rc = process_line(w, c, p, len);
		}
		if (rc == -2)
			goto toolong;
		if (rc < 0)
			return -1;
		if (*e == '\r')
			c->skip_lf = 1;
		n -= len + 1;
		p = e + 1;
	}
	return 0;
toolong:
	w->st.bad_data++;
	conn_lost(w, c, ERR_DELAY_US);
	return -1;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int ws_feed(struct worker *w, struct conn *c, char *p, size_t n);

/* Chunked transfer decoding (or -W: frames). Returns -1 when the
 * connection went away. */
static int
body_feed(struct worker *w, struct conn *c, char *p, size_t n)
{
	const char *lf;
	size_t k;
	int v;

	if (o.ws)
		return ws_feed(w, c, p, n);
	if (!c->chunked)
		return sse_feed(w, c, p, n);
	while (n > 0) {
		switch (c->cst) {
		case CH_SIZE:
			v = hexval(*p);
			if (v >= 0) {
				if (c->crem > (1u << 30))
					goto bad;
				c->crem = c->crem * 16 + (uint64_t)v;
				c->cdigits = 1;
				p++;
				n--;
			} else {
				if (!c->cdigits)
					goto bad;
				c->cst = CH_EXT;
			}
			break;
		case CH_EXT:
			lf = memchr(p, '\n', n);
			if (lf == NULL)
				return 0;
			n -= (size_t)(lf + 1 - p);
			p += lf + 1 - p;
			if (c->crem == 0) {
				/* last chunk: the server ended the stream */
				c->cst = CH_END;
				w->st.eofs++;
				conn_lost(w, c, 0);
				return -1;
			}
			c->cst = CH_DATA;
			w->st.chunks++;
			break;
		case CH_DATA:
			k = n < c->crem ? n : (size_t)c->crem;
			if (sse_feed(w, c, p, k) < 0)
				return -1;
			p += k;
			n -= k;
			c->crem -= k;
			if (c->crem == 0)
				c->cst = CH_CRLF;
			break;
		case CH_CRLF:
			if (*p == '\r') {
				p++;
				n--;
			} else if (*p == '\n') {
				p++;
				n--;
				c->cst = CH_SIZE;
				c->cdigits = 0;
				c->crem = 0;
			} else {
				goto bad;
			}
			break;
		default:
			return 0;
		}
	}
	return 0;
bad:
	w->st.bad_data++;
	if (!o.quiet)
		fprintf(stderr, "loadclient: conn %u: bad chunked framing\n",
		    c->idx);
	conn_lost(w, c, ERR_DELAY_US);
	return -1;
}

/* ---- WebSocket (-W) ---------------------------------------------------- */

#define WS_MSG_MAX	(64u << 20)	/* as grow(): a bench client gives up */

/*
 * Send one masked control frame (RFC 6455 §5.3: every client frame is
 * masked). The client writes nothing else after the handshake, so the
 * socket buffer takes these few bytes whole; if it does not, that is an
 * error (-1), never half a frame on the wire.
 */
static int
ws_send_control(struct worker *w, struct conn *c, unsigned op,
    const char *pl, size_t n)
{
	unsigned char f[6 + WS_CTL_MAX];
	uint64_t r = rng_next(&w->rng);
	size_t i;

	if (n > WS_CTL_MAX)
		n = WS_CTL_MAX;
	f[0] = (unsigned char)(0x80 | op);
	f[1] = (unsigned char)(0x80 | n);
	memcpy(f + 2, &r, 4);
	for (i = 0; i < n; i++)
		f[6 + i] = (unsigned char)pl[i] ^ f[2 + (i & 3)];
	return send(c->fd, f, 6 + n, MSG_NOSIGNAL) == (ssize_t)(6 + n) ?
	    0 : -1;
}

static int
hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	for (i = 0; i < 4; i++) {
		if ((d = hexval(s[i])) < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static char *
utf8_put(char *out, uint32_t cp)
{
	if (cp >= 0xD800 && cp < 0xE000)
		cp = 0xFFFD;			/* a lone surrogate */
	if (cp < 0x80) {
		*out++ = (char)cp;
	} else if (cp < 0x800) {
		*out++ = (char)(0xC0 | cp >> 6);
		*out++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*out++ = (char)(0xE0 | cp >> 12);
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*out++ = (char)(0xF0 | cp >> 18);
		*out++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char)(0x80 | (cp & 0x3F));
	}
	return out;
}

/*
 * The JSON string (RFC 8259 §7) that starts at s, just after its opening
 * quote, unescaped in place: no escape is shorter than what it stands for,
 * so the output never overtakes the input. Sets *after past the closing
 * quote. Returns the length, or -1 (not closed before lim, bad escape).
 */
static ssize_t
json_string(char *s, const char *lim, const char **after)
{
	const char *i, *q, *bs;
	char *out;
	uint32_t cp, lo;

	q = memchr(s, '"', (size_t)(lim - s));
	if (q == NULL)
		return -1;
	bs = memchr(s, '\\', (size_t)(q - s));
	if (bs == NULL) {			/* the usual case: no escape */
		*after = q + 1;
		return q - s;
	}
	out = s + (bs - s);
	for (i = bs; i < lim && *i != '"'; ) {
		if (*i != '\\') {
			*out++ = *i++;
			continue;
		}
		if (lim - i < 2)
			return -1;
		switch (i[1]) {
		case '"': case '\\': case '/': *out++ = i[1]; break;
		case 'b': *out++ = '\b'; break;
		case 'f': *out++ = '\f'; break;
		case 'n': *out++ = '\n'; break;
		case 'r': *out++ = '\r'; break;
		case 't': *out++ = '\t'; break;
		case 'u':
			if (lim - i < 6 || hex4(i + 2, &cp) < 0)
				return -1;
			i += 6;
			if (cp >= 0xD800 && cp < 0xDC00 && lim - i >= 6 &&
			    i[0] == '\\' && i[1] == 'u' && hex4(i + 2, &lo) == 0 &&
			    lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				    (lo - 0xDC00);
				i += 6;
			}
			out = utf8_put(out, cp);
			continue;
		default:
			return -1;
		}
		i += 2;
	}
	if (i >= lim)
		return -1;
	*after = i + 1;
	return out - s;
}

/*
 * One text message, in the server's field order:
 *     {"id":"ID","topic":"T","event":"E","data":"D"}
 *     {"id":"ID","gap":{"lastEventId":...,"firstAvailableId":...}}
 * The id becomes the resume point (a gap's too, as in SSE), the gap goes
 * on with its object as data, like SSE's "event: gap". Anything without an
 * id first ({"ack":...}, {"error":...}) is counted as another event. m is
 * modified (the data is unescaped in place). Returns -1 when the
 * connection went away.
 */
static int
ws_message(struct worker *w, struct conn *c, char *m, size_t n)
{
	static const char k_id[] = "{\"id\":\"", k_gap[] = ",\"gap\":",
	    k_event[] = "\"event\":\"", k_data[] = "\"data\":\"";
	const char *lim = m + n, *q, *type = "", *after;
	char *p;
	size_t idlen, typelen = 0;
	ssize_t dlen;

	if (n < sizeof(k_id) - 1 || memcmp(m, k_id, sizeof(k_id) - 1) != 0) {
		w->st.other++;
		return 0;
	}
	p = m + sizeof(k_id) - 1;
	if ((q = memchr(p, '"', (size_t)(lim - p))) == NULL)
		goto bad;
	idlen = (size_t)(q - p);
	if (idlen >= ID_MAX)
		idlen = ID_MAX - 1;		/* longer ids are cut, as in SSE */
	memcpy(c->idbuf, p, idlen);
	memcpy(c->lastid, p, idlen);
	c->idlen = c->lastidlen = (uint8_t)idlen;
	p += q + 1 - p;
	if ((size_t)(lim - p) > sizeof(k_gap) - 1 &&
	    memcmp(p, k_gap, sizeof(k_gap) - 1) == 0) {
		p += sizeof(k_gap) - 1;
		return deliver(w, c, "gap", 3, p,
		    (size_t)(lim - p) - (lim[-1] == '}'));
	}
	/* Topics and event names cannot hold a quote: the first match of a
	 * key is the key. */
	q = memmem(p, (size_t)(lim - p), k_event, sizeof(k_event) - 1);
	if (q != NULL) {
		type = q + sizeof(k_event) - 1;
		if ((q = memchr(type, '"', (size_t)(lim - type))) == NULL)
			goto bad;
		typelen = (size_t)(q - type);
		if (typelen >= TYPE_MAX)
			typelen = TYPE_MAX - 1;
		p += q + 1 - p;
	}
	if ((q = memmem(p, (size_t)(lim - p), k_data, sizeof(k_data) - 1)) ==
	    NULL)
		goto bad;
	p += q + sizeof(k_data) - 1 - p;
	if ((dlen = json_string(p, lim, &after)) < 0)
		goto bad;
	return deliver(w, c, type, typelen, p, (size_t)dlen);
bad:
	w->st.bad_data++;
	return 0;
}

/* Header bytes the frame starting with h[0], h[1] has (RFC 6455 §5.2). */
static size_t
ws_hdr_size(const uint8_t *h)
{
	size_t len7 = h[1] & 0x7F;

	return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) +
	    (h[1] & 0x80 ? 4 : 0);
}

/* A complete frame header in c->wsh: 0, or -1 for a protocol error. */
static int
ws_hdr_parse(struct conn *c)
{
	const uint8_t *h = c->wsh;
	unsigned op = h[0] & 0x0F, len7 = h[1] & 0x7F;
	uint64_t len = len7;
	int i;

	if (h[0] & 0x70)
		return -1;	/* RSV1-3: no extension was negotiated */
	if (h[1] & 0x80)
		return -1;	/* §5.1: a server never masks */
	if (len7 == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (len7 == 127) {
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | h[i];
	}
	if (len > WS_MSG_MAX)
		return -1;	/* also a 64-bit length with its top bit set */
	c->wsfin = h[0] >> 7;
	c->wsop = (uint8_t)op;
	switch (op) {
	case WS_CONT:
		if (c->wsmsg == 0)
			return -1;
		break;
	case WS_TEXT:
	case WS_BINARY:
		if (c->wsmsg != 0)
			return -1;	/* a new message inside a fragmented one */
		break;
	case WS_CLOSE:
	case WS_PING:
	case WS_PONG:
		if (!c->wsfin || len > WS_CTL_MAX)
			return -1;	/* §5.5 */
		break;
	default:
		return -1;
	}
	c->crem = len;
	c->ctllen = 0;
	return 0;
}

/* A complete data message. Returns -1 when the connection went away. */
static int
ws_data(struct worker *w, struct conn *c, unsigned op, char *m, size_t n)
{
	if (op == WS_TEXT)
		return ws_message(w, c, m, n);
	w->st.other++;			/* binary: not ours */
	return 0;
}

/* The frame just read is complete. Returns -1 when the connection went
 * away. */
static int
ws_frame_end(struct worker *w, struct conn *c)
{
	unsigned op;
	int rc;

	switch (c->wsop) {
	case WS_PING:
		w->st.ws_pings++;
		if (ws_send_control(w, c, WS_PONG, c->ctl, c->ctllen) == 0)
			return 0;
		w->st.conn_errors++;
		conn_lost(w, c, ERR_DELAY_US);
		return -1;
	case WS_PONG:
		return 0;
	case WS_CLOSE:
		/* §5.5.1: answer with a close echoing the code, then resume
		 * like an SSE stream the server ended. */
		w->st.ws_closes++;
		w->st.ws_close_code = c->ctllen >= 2 ?
		    (uint8_t)c->ctl[0] << 8 | (uint8_t)c->ctl[1] : 1005;
		(void)ws_send_control(w, c, WS_CLOSE, c->ctl,
		    c->ctllen >= 2 ? 2 : 0);
		w->st.eofs++;
		conn_lost(w, c, 0);
		return -1;
	}
	if (!c->wsfin) {
		if (c->wsop != WS_CONT)
			c->wsmsg = c->wsop;
		return 0;
	}
	op = c->wsop == WS_CONT ? c->wsmsg : c->wsop;
	c->wsmsg = 0;
	rc = ws_data(w, c, op, c->data, c->dlen);
	c->dlen = 0;
	return rc;
}

/*
 * Feed the bytes after the 101 to the frame parser. A whole unfragmented
 * message within this read is used where it lies; anything split is
 * gathered in c->data (messages) or c->ctl (control frames). Returns -1
 * when the connection was closed or restarted meanwhile.
 */
static int
ws_feed(struct worker *w, struct conn *c, char *p, size_t n)
{
	size_t k, need;
	int rc;

	while (n > 0) {
		if (c->wsst == WS_HDR) {
			need = c->wshlen < 2 ? 2 : ws_hdr_size(c->wsh);
			while (c->wshlen < need && n > 0) {
				c->wsh[c->wshlen++] = (uint8_t)*p++;
				n--;
				if (c->wshlen == 2)
					need = ws_hdr_size(c->wsh);
			}
			if (c->wshlen < need)
				return 0;
			if (ws_hdr_parse(c) < 0)
				goto bad;
			c->wsst = WS_PAYLOAD;
			if (c->crem > 0)
				continue;
		} else {
			k = n < c->crem ? n : (size_t)c->crem;
			if (c->wsop >= WS_CLOSE) {
				memcpy(c->ctl + c->ctllen, p, k);
				c->ctllen = (uint8_t)(c->ctllen + k);
			} else if (c->wsfin && c->wsop != WS_CONT &&
			    c->dlen == 0 && k == c->crem) {
				/* the whole payload is in this read */
				c->wsst = WS_HDR;
				c->wshlen = 0;
				c->crem = 0;
				rc = ws_data(w, c, c->wsop, p, k);
				if (rc < 0)
					return -1;
				p += k;
				n -= k;
				continue;
			} else {
				if (grow(&c->data, &c->dcap,
				    (size_t)c->dlen + k) < 0)
					goto bad;
				memcpy(c->data + c->dlen, p, k);
				c->dlen += (uint32_t)k;
			}
			p += k;
			n -= k;
			c->crem -= k;
			if (c->crem > 0)
				return 0;
		}
		c->wsst = WS_HDR;
		c->wshlen = 0;
		if (ws_frame_end(w, c) < 0)
			return -1;
	}
	return 0;
bad:
	w->st.bad_data++;
	if (!o.quiet)
		fprintf(stderr, "loadclient: conn %u: WebSocket protocol "
		    "error\n", c->idx);
	conn_lost(w, c, ERR_DELAY_US);
	return -1;
}

static int
header_has(const char *h, size_t n, const char *name, const char *token)
{
	const char *p = h, *end = h + n, *eol;
	size_t nl = strlen(name), tl = strlen(token);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			const char *q;

			for (q = p + nl + 1; q + tl <= eol; q++)
				if (strncasecmp(q, token, tl) == 0)
					return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static int
headers_feed(struct worker *w, struct conn *c, char *p, size_t n)
{
	size_t from, take, hl;
	const char *end;
	int status = 0, want = o.ws ? 101 : 200;

	if (c->hdr == NULL)
		c->hdr = xrealloc(NULL, HDR_MAX);
	from = c->hlen > 3 ? c->hlen - 3 : 0;
	take = n < HDR_MAX - c->hlen ? n : HDR_MAX - c->hlen;
	memcpy(c->hdr + c->hlen, p, take);
	c->hlen += (uint32_t)take;
	end = memmem(c->hdr + from, c->hlen - from, "\r\n\r\n", 4);
	if (end == NULL) {
		if (c->hlen >= HDR_MAX) {
			w->st.http_errors++;
			conn_lost(w, c, ERR_DELAY_US);
			return -1;
		}
		return 0;
	}
	hl = (size_t)(end + 4 - c->hdr);
	if (c->hlen < 12 || memcmp(c->hdr, "HTTP/1.", 7) != 0 ||
	    sscanf(c->hdr + 9, "%3d", &status) != 1 || status != want ||
	    (o.ws && !header_has(c->hdr, hl, "upgrade", "websocket"))) {
		w->st.http_errors++;
		if (!o.quiet && w->st.http_errors <= 3)
			fprintf(stderr, "loadclient: conn %u: %.*s\n", c->idx,
			    (int)strcspn(c->hdr, "\r\n"), c->hdr);
		conn_lost(w, c, ERR_DELAY_US);
		return -1;
	}
	c->chunked = (uint8_t)(!o.ws && header_has(c->hdr, hl,
	    "transfer-encoding", "chunked"));
	c->state = C_BODY;
	w->connecting--;
	if (!c->ready_once) {
		c->ready_once = 1;
		if (atomic_fetch_add(&n_ready, 1) + 1 == o.nconns)
			write_ready_file();
	}
	/* The bytes after the header, from this read. */
	{
		size_t consumed_before = c->hlen - take;  /* in hdr before p */
		size_t body_off = hl - consumed_before;

		free(c->hdr);
		c->hdr = NULL;
		c->hlen = 0;
		if (body_off < n)
			return body_feed(w, c, p + body_off, n - body_off);
	}
	return 0;
}

static void
conn_readable(struct worker *w, struct conn *c)
{
	ssize_t r = recv(c->fd, w->rbuf, RBUF_SIZE, 0);

	if (r > 0) {
		w->st.bytes += (uint64_t)r;
		w->st.reads++;
		if (c->state == C_HEADERS)
			headers_feed(w, c, w->rbuf, (size_t)r);
		else
			body_feed(w, c, w->rbuf, (size_t)r);
		return;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	w->st.eofs++;
	conn_lost(w, c, c->state == C_HEADERS ? ERR_DELAY_US : 0);
}

/* ---- worker loop -------------------------------------------------------- */

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[512];
	uint64_t now;
	uint32_t i, j;
	int n, k, timeout;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0) {
		perror("epoll_create1");
		exit(2);
	}
	while (!atomic_load(&stop_flag)) {
		now = now_us(CLOCK_MONOTONIC);
		if (now >= t_deadline_mono ||
		    atomic_load(&n_done) >= o.nconns)
			break;
		timeout = 50;
		/* reconnects first (they are behind), then initial connects */
		for (i = 0, j = 0; i < w->rqn; i++) {
			struct conn *c = &conns[w->rq[i]];

			if (c->reconnect_at <= now &&
			    w->connecting < w->max_connecting) {
				c->queued = 0;
				conn_start(w, c);
			} else {
				if (c->reconnect_at > now)
					timeout = 5;
				else
					timeout = 1;
				w->rq[j++] = w->rq[i];
			}
		}
		w->rqn = j;
		while (w->next_initial < w->nmine &&
		    w->connecting < w->max_connecting)
			conn_start(w, &conns[w->mine[w->next_initial++]]);
		n = epoll_wait(w->ep, evs, 512, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			exit(2);
		}
		w->now_rt = now_us(CLOCK_REALTIME);
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;

			if (c->fd < 0)
				continue;
			if (c->state == C_CONNECTING)
				conn_send_request(w, c);
			else if (c->state == C_HEADERS || c->state == C_BODY)
				conn_readable(w, c);
		}
	}
	return NULL;
}

/*
 * -W: a lastEventId in the path becomes the first connection's resume point
 * (unless -L gave one) and leaves the path, to which every connection adds
 * its own: a repeated parameter would be refused.
 */
static void
ws_path_resume(void)
{
	static const char key[] = "lastEventId=";
	char *path, *q, *p, *amp;
	size_t kl = sizeof(key) - 1;

	path = xrealloc(NULL, strlen(o.path) + 1);
	strcpy(path, o.path);
	q = strchr(path, '?');
	for (p = q; p != NULL; p = strchr(p + 1, '&')) {
		if (strncmp(p + 1, key, kl) != 0)
			continue;
		amp = strchr(p + 1, '&');
		if (o.first_id == NULL) {
			size_t n = amp ? (size_t)(amp - (p + 1 + kl)) :
			    strlen(p + 1 + kl);
			char *id = xrealloc(NULL, n + 1);

			memcpy(id, p + 1 + kl, n);
			id[n] = '\0';
			o.first_id = id;
		}
		if (amp != NULL)
			memmove(p + 1, amp + 1, strlen(amp + 1) + 1);
		else
			*(p == q ? p + 1 : p) = '\0';
		break;
	}
	if (q != NULL && q[1] == '\0')
		*q = '\0';
	o.path = path;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadclient [-h host] [-p port] [-u path] [-c conns] "
	    "[-n events/conn]\n"
	    "    [-d seconds] [-P drop-probability] [-R] [-I] [-T threads]\n"
	    "    [-L first-last-event-id] [-f ready-file] [-O conn-csv] "
	    "[-E event-dump]\n    [-m max-connecting] [-q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct stats t;
	struct hist lat;
	struct rlimit rl;
	uint64_t missing = 0, conns_gap = 0, conns_dup = 0, t_end;
	uint32_t i;
	int ch, k;

	while ((ch = getopt(argc, argv, "h:p:u:c:n:d:P:RIT:L:f:O:E:m:Wq")) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'u': o.path = optarg; break;
		case 'c': o.nconns = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': o.expect = strtoull(optarg, NULL, 10); break;
		case 'd': o.duration = atof(optarg); break;
		case 'P': o.drop_p = atof(optarg); break;
		case 'R': o.reconnect = 1; break;
		case 'I': o.idcheck = 1; break;
		case 'T': o.threads = atoi(optarg); break;
		case 'L': o.first_id = optarg; break;
		case 'f': o.ready_file = optarg; break;
		case 'O': o.conn_csv = optarg; break;
		case 'E': o.dump = optarg; break;
		case 'm': o.max_connecting = (uint32_t)atoi(optarg); break;
		case 'W': o.ws = 1; break;
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (o.nconns == 0 || o.threads < 1 || o.threads > MAXTHREADS ||
	    o.port <= 0 || o.max_connecting == 0)
		usage();
	if (o.drop_p > 0 && !o.reconnect)
		o.reconnect = 1;	/* a drop always resumes */
	if (o.ws)
		ws_path_resume();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
		fprintf(stderr, "loadclient: host must be an IPv4 address\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.nconns + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)o.nconns + 64)
			fprintf(stderr, "loadclient: warning: fd limit %llu "
			    "< %u connections (ulimit -n)\n",
			    (unsigned long long)rl.rlim_cur, o.nconns);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (o.dump != NULL && (dumpf = fopen(o.dump, "w")) == NULL) {
		perror(o.dump);
		return 2;
	}

	conns = calloc(o.nconns, sizeof(*conns));
	if (conns == NULL) {
		perror("calloc");
		return 2;
	}
	for (k = 0; k < o.threads; k++) {
		struct worker *w = &workers[k];

		w->id = k;
		w->mine = calloc(o.nconns / (uint32_t)o.threads + 1,
		    sizeof(uint32_t));
		w->rq = calloc(o.nconns / (uint32_t)o.threads + 1,
		    sizeof(uint32_t));
		w->rbuf = malloc(RBUF_SIZE);
		w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(k + 1) ^
		    now_us(CLOCK_REALTIME);
		w->max_connecting = o.max_connecting / (uint32_t)o.threads;
		if (w->max_connecting == 0)
			w->max_connecting = 1;
		if (hist_init(&w->lat) < 0 || !w->mine || !w->rq || !w->rbuf) {
			perror("malloc");
			return 2;
		}
	}
	for (i = 0; i < o.nconns; i++) {
		struct worker *w = &workers[i % (uint32_t)o.threads];

		conns[i].fd = -1;
		conns[i].idx = i;
		w->mine[w->nmine++] = i;
	}
	t_start_mono = now_us(CLOCK_MONOTONIC);
	t_start_rt = now_us(CLOCK_REALTIME);
	t_deadline_mono = t_start_mono + (uint64_t)(o.duration * 1e6);
	if (o.threads == 1) {
		worker_run(&workers[0]);
	} else {
		for (k = 0; k < o.threads; k++)
			pthread_create(&workers[k].th, NULL, worker_run,
			    &workers[k]);
		for (k = 0; k < o.threads; k++)
			pthread_join(workers[k].th, NULL);
	}
	t_end = now_us(CLOCK_MONOTONIC);

	memset(&t, 0, sizeof(t));
	hist_init(&lat);
	for (k = 0; k < o.threads; k++) {
		struct stats *s = &workers[k].st;

		t.events += s->events; t.uniq += s->uniq; t.dups += s->dups;
		t.gaps += s->gaps; t.id_dups += s->id_dups;
		t.id_gaps += s->id_gaps; t.id_checked += s->id_checked;
		t.srv_gaps += s->srv_gaps; t.other += s->other;
		t.comments += s->comments; t.bad_data += s->bad_data;
		t.bytes += s->bytes; t.reconnects += s->reconnects;
		t.drops += s->drops; t.http_errors += s->http_errors;
		t.conn_errors += s->conn_errors; t.eofs += s->eofs;
		t.failed += s->failed;
		t.chunks += s->chunks;
		t.reads += s->reads;
		t.ws_pings += s->ws_pings;
		t.ws_closes += s->ws_closes;
		if (s->ws_close_code)
			t.ws_close_code = s->ws_close_code;
		if (s->retry_ms)
			t.retry_ms = s->retry_ms;
		if (s->t_first && (t.t_first == 0 || s->t_first < t.t_first))
			t.t_first = s->t_first;
		if (s->t_last > t.t_last)
			t.t_last = s->t_last;
		hist_merge(&lat, &workers[k].lat);
	}
	for (i = 0; i < o.nconns; i++) {
		if (o.expect && conns[i].uniq < o.expect)
			missing += o.expect - conns[i].uniq;
		conns_gap += conns[i].gaps || conns[i].id_gaps;
		conns_dup += conns[i].dups || conns[i].id_dups;
	}
	if (o.conn_csv != NULL) {
		FILE *f = fopen(o.conn_csv, "w");

		if (f != NULL) {
			fprintf(f, "conn,events,gaps,dups,id_gaps,id_dups,"
			    "reconnects,failed\n");
			for (i = 0; i < o.nconns; i++)
				fprintf(f, "%u,%" PRIu64 ",%u,%u,%u,%u,%u,%u\n",
				    i, conns[i].uniq, conns[i].gaps,
				    conns[i].dups, conns[i].id_gaps,
				    conns[i].id_dups, conns[i].reconnects,
				    conns[i].failed);
			fclose(f);
		}
	}
	{
		double span = t.t_last > t.t_first ?
		    (double)(t.t_last - t.t_first) / 1e6 : 0;
		double ready_s = t_ready_mono ?
		    (double)(t_ready_mono - t_start_mono) / 1e6 : -1;

		printf("mode=%s conns=%u ready=%u done=%u failed=%" PRIu64
		    " events=%" PRIu64 " unique=%" PRIu64 " missing=%" PRIu64
		    " gaps=%" PRIu64 " dups=%" PRIu64
		    " conns_with_gaps=%" PRIu64 " conns_with_dups=%" PRIu64
		    " id_checked=%" PRIu64 " id_gaps=%" PRIu64
		    " id_dups=%" PRIu64 " srv_gaps=%" PRIu64
		    " other_events=%" PRIu64 " comments=%" PRIu64
		    " bad_data=%" PRIu64 " bytes=%" PRIu64
		    " bytes_per_event=%.1f reads=%" PRIu64 " chunks=%" PRIu64
		    " ws_pings=%" PRIu64 " ws_closes=%" PRIu64
		    " ws_close_code=%d"
		    " reconnects=%" PRIu64 " drops=%" PRIu64
		    " http_errors=%" PRIu64 " conn_errors=%" PRIu64
		    " eofs=%" PRIu64 " retry_ms=%" PRIu64
		    " ready_s=%.3f elapsed_s=%.3f span_s=%.3f rate=%.0f"
		    " t_start_us=%" PRIu64 " t_first_us=%" PRIu64
		    " t_last_us=%" PRIu64 " lat_n=%" PRIu64
		    " p50_us=%" PRIu64 " p99_us=%" PRIu64
		    " p999_us=%" PRIu64 " max_us=%" PRIu64 "\n",
		    o.ws ? "ws" : "sse",
		    o.nconns, atomic_load(&n_ready), atomic_load(&n_done),
		    t.failed, t.events, t.uniq, missing, t.gaps, t.dups,
		    conns_gap, conns_dup, t.id_checked, t.id_gaps, t.id_dups,
		    t.srv_gaps, t.other, t.comments, t.bad_data, t.bytes,
		    t.events ? (double)t.bytes / (double)t.events : 0,
		    t.reads, t.chunks, t.ws_pings, t.ws_closes,
		    t.ws_close_code,
		    t.reconnects, t.drops, t.http_errors, t.conn_errors,
		    t.eofs, t.retry_ms, ready_s,
		    (double)(t_end - t_start_mono) / 1e6, span,
		    span > 0 ? (double)t.events / span : 0,
		    t_start_rt, t.t_first, t.t_last, lat.n,
		    hist_quantile(&lat, 0.50), hist_quantile(&lat, 0.99),
		    hist_quantile(&lat, 0.999), lat.max);
	}
	if (dumpf != NULL)
		fclose(dumpf);
	return 0;
}
