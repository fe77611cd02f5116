/*
 * publisher.c: the HTTP publisher of `make bench`.
 *
 * Drives POST PATH on HOST:PORT over C keep-alive connections ("slots"),
 * each with up to D requests in flight (pipelined), either at a fixed total
 * rate (-r events/s, paced every millisecond) or as fast as the server
 * answers (-r 0), until -n events are acknowledged or the -d deadline.
 *
 * Every event's data is "<src> <seq> <usec>" (plus -z bytes of padding):
 * src = -s base + slot number, seq counts from 1 per slot, usec is the
 * CLOCK_REALTIME time at which the request is written, or at a fixed rate
 * the time it was due (so a server that falls behind shows it in the load
 * client's publish-to-receive latency instead of hiding it in the window). -F form sends the body as
 * application/x-www-form-urlencoded "topic=T&data=..." with a Bearer token
 * (ssereplay); -F raw sends the data itself as text/plain (nchan, whose
 * channel is in the URL).
 *
 * A server may close a keep-alive connection after some number of requests
 * (lighttpd: server.max-keep-alive-requests; nginx: keepalive_requests) and
 * drop what was pipelined behind the last answered request. Those requests
 * were never answered, so they are re-sent in order on a new connection with
 * the same seq (a duplicate seen by subscribers would mean the server did
 * store one). 429/502/503/504 are re-sent too (counted as rejected); any
 * other non-2xx is counted as failed and not re-sent.
 *
 * Output: one line of key=value on stdout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#include "hist.h"

#define RBUF_CAP	(256 * 1024)
#define ERR_DELAY_US	100000

enum { S_IDLE, S_CONNECTING, S_OPEN };

struct slot {
	int		 fd;
	int		 state;
	uint32_t	 src;
	uint64_t	 next_seq;
	uint64_t	*if_seq, *if_t;	/* in flight, FIFO of depth */
	uint32_t	 if_head, if_n;
	uint64_t	*rq;		/* to re-send, ascending */
	uint32_t	 rq_n, rq_cap;
	char		*wbuf;
	size_t		 wlen, woff, wcap;
	char		*rbuf;
	size_t		 rlen;
	uint32_t	 on_conn;	/* answers on this connection */
	uint64_t	 reconnect_at;
	int		 close_after;	/* server said Connection: close */
	int		 want_out;
};

static struct {
	const char	*host;
	int		 port;
	const char	*path;
	const char	*topic;
	const char	*token;
	uint32_t	 nslots;
	uint32_t	 depth;
	double		 rate;
	uint64_t	 count;
	double		 duration;
	uint32_t	 srcbase;
	int		 raw;
	uint32_t	 pad;
	int		 quiet;
} o = {
	.host = "127.0.0.1", .port = 8080, .path = "/publish",
	.topic = "bench", .token = "demo-token", .nslots = 1, .depth = 1,
	.count = 1000, .duration = 30,
};

static struct {
	uint64_t	issued, sent, ok, failed, rejected, resent;
	uint64_t	reconnects, server_closes, conn_errors;
	uint64_t	t_first, t_last, lag_max;
	uint32_t	max_on_conn;
	int		bad_status_shown;
} st;

static struct slot	*slots;
static struct sockaddr_in addr;
static int		 ep;
static struct hist	 rtt;
static uint64_t		 t0_mono, t0_rt;
static char		 padding[4096];

static void
rq_push_front(struct slot *s, const uint64_t *seqs, uint32_t n)
{
	if (s->rq_n + n > s->rq_cap) {
		s->rq_cap = (s->rq_n + n) * 2;
		s->rq = xrealloc(s->rq, s->rq_cap * sizeof(uint64_t));
	}
	memmove(s->rq + n, s->rq, s->rq_n * sizeof(uint64_t));
	memcpy(s->rq, seqs, n * sizeof(uint64_t));
	s->rq_n += n;
}

static uint64_t
rq_pop_front(struct slot *s)
{
	uint64_t v = s->rq[0];

	s->rq_n--;
	memmove(s->rq, s->rq + 1, s->rq_n * sizeof(uint64_t));
	return v;
}

static void
slot_close(struct slot *s, uint64_t delay_us)
{
	uint32_t i;

	if (s->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
	/* Unanswered requests go back in front of the queue, in order. */
	if (s->if_n > 0) {
		uint64_t *all = malloc(s->if_n * sizeof(uint64_t));

		for (i = 0; i < s->if_n; i++)
			all[i] = s->if_seq[(s->if_head + i) % o.depth];
		rq_push_front(s, all, s->if_n);
		st.resent += s->if_n;
		free(all);
	}
	s->if_n = 0;
	s->if_head = 0;
	s->wlen = s->woff = 0;
	s->rlen = 0;
	s->close_after = 0;
	if (s->on_conn > st.max_on_conn)
		st.max_on_conn = s->on_conn;
	s->on_conn = 0;
	s->state = S_IDLE;
	s->reconnect_at = now_us(CLOCK_MONOTONIC) + delay_us;
}

static void
slot_connect(struct slot *s)
{
	struct epoll_event ev;
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		perror("socket");
		exit(2);
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS) {
		st.conn_errors++;
		close(s->fd);
		s->fd = -1;
		s->reconnect_at = now_us(CLOCK_MONOTONIC) + ERR_DELAY_US;
		return;
	}
	s->state = S_CONNECTING;
	s->want_out = 1;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

static void
set_out(struct slot *s, int want)
{
	struct epoll_event ev;

	if (s->want_out == want || s->fd < 0)
		return;
	s->want_out = want;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	ev.data.ptr = s;
	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void
append_req(struct slot *s, uint64_t seq, uint64_t now_rt)
{
	char data[128], hdr[512];
	char body[128 + sizeof(padding) + 256];
	int dl, bl, hl, i;

	dl = snprintf(data, sizeof(data), "%u %" PRIu64 " %" PRIu64, s->src,
	    seq, now_rt);
	if (o.raw) {
		memcpy(body, data, (size_t)dl);
		bl = dl;
		if (o.pad) {
			body[bl++] = ' ';
			memcpy(body + bl, padding, o.pad);
			bl += (int)o.pad;
		}
		hl = snprintf(hdr, sizeof(hdr),
		    "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
		    o.path, o.host, o.port, bl);
	} else {
		for (i = 0; i < dl; i++)
			if (data[i] == ' ')
				data[i] = '+';
		bl = snprintf(body, sizeof(body), "topic=%s&data=%.*s",
		    o.topic, dl, data);
		if (o.pad) {
			body[bl++] = '+';
			memcpy(body + bl, padding, o.pad);
			bl += (int)o.pad;
		}
		hl = snprintf(hdr, sizeof(hdr),
		    "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Authorization: Bearer %s\r\n"
		    "Content-Type: application/x-www-form-urlencoded\r\n"
		    "Content-Length: %d\r\n\r\n",
		    o.path, o.host, o.port, o.token, bl);
	}
	if (s->wlen + (size_t)(hl + bl) > s->wcap) {
		s->wcap = (s->wlen + (size_t)(hl + bl)) * 2 + 4096;
		s->wbuf = xrealloc(s->wbuf, s->wcap);
	}
	memcpy(s->wbuf + s->wlen, hdr, (size_t)hl);
	memcpy(s->wbuf + s->wlen + hl, body, (size_t)bl);
	s->wlen += (size_t)(hl + bl);
}

static void
slot_flush(struct slot *s)
{
	ssize_t r;

	while (s->woff < s->wlen) {
		r = send(s->fd, s->wbuf + s->woff, s->wlen - s->woff,
		    MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			st.conn_errors++;
			slot_close(s, ERR_DELAY_US);
			st.reconnects++;
			return;
		}
		s->woff += (size_t)r;
	}
	if (s->woff == s->wlen)
		s->woff = s->wlen = 0;
	set_out(s, s->wlen > 0);
}

/* Put requests on the wire while the window and the rate allow. */
static void
slot_fill(struct slot *s, uint64_t allowed, uint64_t now_rt)
{
	uint32_t pos;
	uint64_t seq, stamp;
	int added = 0;

	if (s->state != S_OPEN || s->close_after)
		return;
	while (s->if_n < o.depth) {
		stamp = now_rt;
		if (s->rq_n > 0) {
			seq = rq_pop_front(s);
		} else if (st.issued < allowed) {
			seq = ++s->next_seq;
			/* at a fixed rate: the time it was due, not when the
			 * window let it out (no coordinated omission) */
			if (o.rate > 0)
				stamp = t0_rt + (uint64_t)((double)st.issued *
				    1e6 / o.rate);
			st.issued++;
		} else {
			break;
		}
		pos = (s->if_head + s->if_n) % o.depth;
		s->if_seq[pos] = seq;
		s->if_t[pos] = now_rt;
		s->if_n++;
		append_req(s, seq, stamp);
		st.sent++;
		if (st.t_first == 0)
			st.t_first = now_rt;
		added = 1;
	}
	if (added)
		slot_flush(s);
}

static int
find_header(const char *h, size_t n, const char *name, char *out,
    size_t outsz)
{
	const char *p = h, *end = h + n, *eol, *v;
	size_t nl = strlen(name), k;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			k = (size_t)(eol - v);
			while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == ' '))
				k--;
			if (k >= outsz)
				k = outsz - 1;
			memcpy(out, v, k);
			out[k] = '\0';
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

/*
 * Length of a complete chunked body at p (n bytes), or 0 if incomplete,
 * -1 if malformed.
 */
static long
chunked_len(const char *p, size_t n)
{
	size_t off = 0;
	unsigned long sz;
	const char *lf;
	char *endp;

	for (;;) {
		lf = memchr(p + off, '\n', n - off);
		if (lf == NULL)
			return 0;
		sz = strtoul(p + off, &endp, 16);
		if (endp == p + off)
			return -1;
		off = (size_t)(lf - p) + 1;
		if (sz == 0) {
			/* trailers until an empty line */
			for (;;) {
				lf = memchr(p + off, '\n', n - off);
				if (lf == NULL)
					return 0;
				if (lf == p + off ||
				    (lf == p + off + 1 && p[off] == '\r'))
					return (long)((size_t)(lf - p) + 1);
				off = (size_t)(lf - p) + 1;
			}
		}
		if (off + sz + 2 > n)
			return 0;
		off += sz + 2;
	}
}

static void
on_response(struct slot *s, int status, uint64_t now_rt)
{
	uint64_t seq, t;

	if (s->if_n == 0) {
		if (!o.quiet)
			fprintf(stderr, "publisher: answer without request "
			    "(status %d)\n", status);
		return;
	}
	seq = s->if_seq[s->if_head];
	t = s->if_t[s->if_head];
	s->if_head = (s->if_head + 1) % o.depth;
	s->if_n--;
	s->on_conn++;
	if (status >= 200 && status < 300) {
		st.ok++;
		st.t_last = now_rt;
		hist_add(&rtt, now_rt > t ? now_rt - t : 0);
		return;
	}
	if (!o.quiet && st.bad_status_shown++ < 5)
		fprintf(stderr, "publisher: status %d for src %u seq %" PRIu64
		    "\n", status, s->src, seq);
	if (status == 429 || status == 502 || status == 503 || status == 504) {
		st.rejected++;
		rq_push_front(s, &seq, 1);
	} else {
		st.failed++;
	}
}

/* Parse every complete response in rbuf. Returns -1 if the slot closed. */
static int
parse_responses(struct slot *s, uint64_t now_rt)
{
	size_t off = 0;
	char val[64];
	const char *he;
	size_t hl, total;
	long bl;
	int status;

	for (;;) {
		if (s->rlen - off < 12)
			break;
		he = memmem(s->rbuf + off, s->rlen - off, "\r\n\r\n", 4);
		if (he == NULL)
			break;
		hl = (size_t)(he + 4 - (s->rbuf + off));
		if (memcmp(s->rbuf + off, "HTTP/1.", 7) != 0 ||
		    sscanf(s->rbuf + off + 9, "%3d", &status) != 1) {
			st.conn_errors++;
			slot_close(s, ERR_DELAY_US);
			st.reconnects++;
			return -1;
		}
		if (find_header(s->rbuf + off, hl, "content-length", val,
		    sizeof(val))) {
			total = hl + strtoul(val, NULL, 10);
			if (s->rlen - off < total)
				break;
		} else if (find_header(s->rbuf + off, hl, "transfer-encoding",
		    val, sizeof(val)) && strcasestr(val, "chunked")) {
			bl = chunked_len(s->rbuf + off + hl,
			    s->rlen - off - hl);
			if (bl < 0) {
				st.conn_errors++;
				slot_close(s, ERR_DELAY_US);
				st.reconnects++;
				return -1;
			}
			if (bl == 0)
				break;
			total = hl + (size_t)bl;
		} else if (status == 204 || status == 304 || status < 200) {
			total = hl;
		} else {
			/* body until close: not expected from our servers */
			total = s->rlen - off;
			s->close_after = 1;
		}
		if (status >= 100 && status < 200) {
			off += total;	/* interim answer */
			continue;
		}
		if (find_header(s->rbuf + off, hl, "connection", val,
		    sizeof(val)) && strcasestr(val, "close"))
			s->close_after = 1;
		off += total;
		on_response(s, status, now_rt);
		if (s->close_after) {
			st.server_closes++;
			slot_close(s, 0);
			st.reconnects++;
			return -1;
		}
	}
	if (off > 0) {
		memmove(s->rbuf, s->rbuf + off, s->rlen - off);
		s->rlen -= off;
	}
	return 0;
}

static void
slot_event(struct slot *s, uint32_t events, uint64_t now_rt)
{
	ssize_t r;

	if (s->state == S_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 ||
		    err) {
			st.conn_errors++;
			slot_close(s, ERR_DELAY_US);
			return;
		}
		s->state = S_OPEN;
		set_out(s, 0);
		return;			/* the main loop fills it */
	}
	if (events & EPOLLOUT)
		slot_flush(s);
	if (s->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		if (s->rlen == RBUF_CAP) {
			st.conn_errors++;
			slot_close(s, ERR_DELAY_US);
			return;
		}
		r = recv(s->fd, s->rbuf + s->rlen, RBUF_CAP - s->rlen, 0);
		if (r > 0) {
			s->rlen += (size_t)r;
			if (parse_responses(s, now_rt) < 0)
				return;
			if ((size_t)r < RBUF_CAP / 2)
				return;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* closed by the server: re-send what it did not answer */
		if (s->if_n > 0)
			st.server_closes++;
		slot_close(s, 0);
		st.reconnects++;
		return;
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: publisher [-h host] [-p port] [-u path] [-t topic] "
	    "[-a token]\n"
	    "    [-c conns] [-D depth] [-r rate|0] [-n count] [-d seconds]\n"
	    "    [-s src-base] [-F form|raw] [-z pad-bytes] [-q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	uint64_t now, now_rt, allowed, t_end;
	uint32_t i, rr = 0;
	int ch, n, k, timeout;

	while ((ch = getopt(argc, argv, "h:p:u:t:a:c:D:r:n:d:s:F:z:q")) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'u': o.path = optarg; break;
		case 't': o.topic = optarg; break;
		case 'a': o.token = optarg; break;
		case 'c': o.nslots = (uint32_t)atoi(optarg); break;
		case 'D': o.depth = (uint32_t)atoi(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'n': o.count = strtoull(optarg, NULL, 10); break;
		case 'd': o.duration = atof(optarg); break;
		case 's': o.srcbase = (uint32_t)atoi(optarg); break;
		case 'F':
			if (strcmp(optarg, "raw") == 0)
				o.raw = 1;
			else if (strcmp(optarg, "form") == 0)
				o.raw = 0;
			else
				usage();
			break;
		case 'z': o.pad = (uint32_t)atoi(optarg); break;
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (o.nslots == 0 || o.depth == 0 || o.depth > 4096 ||
	    o.pad >= sizeof(padding) || o.port <= 0)
		usage();
	memset(padding, 'x', sizeof(padding));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o.port);
	if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1) {
		fprintf(stderr, "publisher: host must be an IPv4 address\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (hist_init(&rtt) < 0)
		return 2;
	ep = epoll_create1(EPOLL_CLOEXEC);
	slots = calloc(o.nslots, sizeof(*slots));
	if (ep < 0 || slots == NULL)
		return 2;
	for (i = 0; i < o.nslots; i++) {
		struct slot *s = &slots[i];

		s->fd = -1;
		s->src = o.srcbase + i;
		s->if_seq = calloc(o.depth, sizeof(uint64_t));
		s->if_t = calloc(o.depth, sizeof(uint64_t));
		s->rbuf = malloc(RBUF_CAP);
		if (!s->if_seq || !s->if_t || !s->rbuf)
			return 2;
		slot_connect(s);
	}
	t0_mono = now_us(CLOCK_MONOTONIC);
	t0_rt = now_us(CLOCK_REALTIME);
	t_end = t0_mono + (uint64_t)(o.duration * 1e6);
	while (!atomic_load(&stop_flag)) {
		now = now_us(CLOCK_MONOTONIC);
		now_rt = now_us(CLOCK_REALTIME);
		if (now >= t_end || st.ok + st.failed >= o.count)
			break;
		if (o.rate > 0) {
			allowed = (uint64_t)(o.rate * (double)(now - t0_mono) /
			    1e6) + 1;
			if (allowed > o.count)
				allowed = o.count;
			if (allowed > st.issued + 1 &&
			    allowed - st.issued > st.lag_max)
				st.lag_max = allowed - st.issued;
			timeout = 1;
		} else {
			allowed = o.count;
			timeout = 50;
		}
		for (i = 0; i < o.nslots; i++) {
			struct slot *s = &slots[(rr + i) % o.nslots];

			if (s->state == S_IDLE && s->reconnect_at <= now)
				slot_connect(s);
			else if (s->state == S_IDLE)
				timeout = 1;
			slot_fill(s, allowed, now_rt);
		}
		rr++;
		n = epoll_wait(ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			perror("epoll_wait");
			return 2;
		}
		now_rt = now_us(CLOCK_REALTIME);
		for (k = 0; k < n; k++)
			slot_event(evs[k].data.ptr, evs[k].events, now_rt);
	}
	for (i = 0; i < o.nslots; i++)
		if (slots[i].on_conn > st.max_on_conn)
			st.max_on_conn = slots[i].on_conn;
	{
		double span = st.t_last > st.t_first ?
		    (double)(st.t_last - st.t_first) / 1e6 : 0;

		printf("issued=%" PRIu64 " sent=%" PRIu64 " ok=%" PRIu64
		    " failed=%" PRIu64 " rejected=%" PRIu64
		    " resent=%" PRIu64 " reconnects=%" PRIu64
		    " server_closes=%" PRIu64 " conn_errors=%" PRIu64
		    " max_per_conn=%u lag_max=%" PRIu64
		    " span_s=%.3f rate=%.0f t_first_us=%" PRIu64
		    " t_last_us=%" PRIu64 " p50_us=%" PRIu64
		    " p99_us=%" PRIu64 " max_us=%" PRIu64 "\n",
		    st.issued, st.sent, st.ok, st.failed, st.rejected,
		    st.resent, st.reconnects, st.server_closes,
		    st.conn_errors, st.max_on_conn, st.lag_max, span,
		    span > 0 ? (double)st.ok / span : 0, st.t_first,
		    st.t_last, hist_quantile(&rtt, 0.5),
		    hist_quantile(&rtt, 0.99), rtt.max);
	}
	return 0;
}
