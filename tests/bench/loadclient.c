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

enum cstate { C_IDLE, C_CONNECTING, C_HEADERS, C_BODY, C_DONE };
enum chstate { CH_SIZE, CH_EXT, CH_DATA, CH_CRLF, CH_END };

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
	uint64_t	 crem;
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
	uint64_t	chunks;
	uint64_t	t_first, t_last;
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
	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n%s%s%s\r\n", o.path, o.host, o.port,
	    lei ? "Last-Event-ID: " : "", lei ? lei : "", lei ? "\r\n" : "");
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
dump_event(const struct conn *c)
{
	uint32_t i;

	pthread_mutex_lock(&dump_mu);
	fprintf(dumpf, "%u\t%.*s\t%.*s\t", c->idx,
	    c->typelen ? (int)c->typelen : 7, c->typelen ? c->type : "message",
	    (int)c->lastidlen, c->lastid);
	for (i = 0; i < c->dlen; i++) {
		unsigned char ch = (unsigned char)c->data[i];

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
	if (dumpf != NULL)
		dump_event(c);
	if (c->typelen == 0 ||
	    (c->typelen == 7 && memcmp(c->type, "message", 7) == 0)) {
		if (on_message(w, c, c->data, c->dlen) < 0)
			return -1;
	} else if (c->typelen == 3 && memcmp(c->type, "gap", 3) == 0) {
		w->st.srv_gaps++;
	} else {
		w->st.other++;
	}
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

/* Chunked transfer decoding. Returns -1 when the connection went away. */
static int
body_feed(struct worker *w, struct conn *c, const char *p, size_t n)
{
	const char *lf;
	size_t k;
	int v;

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
			p = lf + 1;
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
headers_feed(struct worker *w, struct conn *c, const char *p, size_t n)
{
	size_t from, take, hl;
	const char *end;
	int status = 0;

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
	    sscanf(c->hdr + 9, "%3d", &status) != 1 || status != 200) {
		w->st.http_errors++;
		if (!o.quiet && w->st.http_errors <= 3)
			fprintf(stderr, "loadclient: conn %u: %.*s\n", c->idx,
			    (int)strcspn(c->hdr, "\r\n"), c->hdr);
		conn_lost(w, c, ERR_DELAY_US);
		return -1;
	}
	c->chunked = (uint8_t)header_has(c->hdr, hl, "transfer-encoding",
	    "chunked");
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

	while ((ch = getopt(argc, argv, "h:p:u:c:n:d:P:RIT:L:f:O:E:m:q")) != -1) {
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
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (o.nconns == 0 || o.threads < 1 || o.threads > MAXTHREADS ||
	    o.port <= 0 || o.max_connecting == 0)
		usage();
	if (o.drop_p > 0 && !o.reconnect)
		o.reconnect = 1;	/* a drop always resumes */
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

		printf("conns=%u ready=%u done=%u failed=%" PRIu64
		    " events=%" PRIu64 " unique=%" PRIu64 " missing=%" PRIu64
		    " gaps=%" PRIu64 " dups=%" PRIu64
		    " conns_with_gaps=%" PRIu64 " conns_with_dups=%" PRIu64
		    " id_checked=%" PRIu64 " id_gaps=%" PRIu64
		    " id_dups=%" PRIu64 " srv_gaps=%" PRIu64
		    " other_events=%" PRIu64 " comments=%" PRIu64
		    " bad_data=%" PRIu64 " bytes=%" PRIu64 " chunks=%" PRIu64
		    " reconnects=%" PRIu64 " drops=%" PRIu64
		    " http_errors=%" PRIu64 " conn_errors=%" PRIu64
		    " eofs=%" PRIu64 " retry_ms=%" PRIu64
		    " ready_s=%.3f elapsed_s=%.3f span_s=%.3f rate=%.0f"
		    " t_start_us=%" PRIu64 " t_first_us=%" PRIu64
		    " t_last_us=%" PRIu64 " lat_n=%" PRIu64
		    " p50_us=%" PRIu64 " p99_us=%" PRIu64
		    " p999_us=%" PRIu64 " max_us=%" PRIu64 "\n",
		    o.nconns, atomic_load(&n_ready), atomic_load(&n_done),
		    t.failed, t.events, t.uniq, missing, t.gaps, t.dups,
		    conns_gap, conns_dup, t.id_checked, t.id_gaps, t.id_dups,
		    t.srv_gaps, t.other, t.comments, t.bad_data, t.bytes,
		    t.chunks,
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
