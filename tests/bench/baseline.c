/*
 * baseline.c: the machine's ceiling for `make bench`.
 *
 * A minimal single-threaded epoll HTTP/1.1 server on 127.0.0.1:PORT that
 * serves an event stream the way ssereplay does (chunked text/event-stream,
 * "retry:" first, "id: 00000000-<seq>", "data: <src> <seq> <usec>") with
 * nothing else: no storage, no FastCGI, no proxy. Every event is encoded
 * once into one in-memory log (one chunk per event) and each subscriber is
 * just an offset into it, sent with one send() per wake-up. Whatever a real
 * server does on top costs more; the bench prints each server's figure as a
 * ratio of this one.
 *
 * Modes (-m):
 *   blast  -n events are pre-encoded; once -c subscribers are attached
 *          every subscriber gets all of them as fast as the sockets take
 *          them (a subscriber without a resume point starts at the first).
 *   rate   once -c subscribers are attached, -r events/s are made for -n
 *          events, each stamped with CLOCK_REALTIME when it is made and
 *          sent at once (latency scenarios); new subscribers are live-only.
 *   hub    POST /publish (form "data=..." or a raw body) appends an event
 *          and answers 201 {"id":...} at once (no durability); GET streams
 *          are live-only; what was appended goes out to them 2 ms after
 *          the previous fan-out ended (a fan-out holds up no publish).
 * Every mode resumes a GET with Last-Event-ID: <anything>-<seq> (or the
 * lastEventId=<seq> query) from the event after seq. -n 0 with blast gives
 * idle streams (memory per subscriber).
 *
 * Runs until SIGTERM/SIGINT or -d seconds; then prints one key=value line.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"

#define REQ_MAX		(64 * 1024)
#define SEND_MAX	(1 << 20)

enum mode { M_BLAST, M_RATE, M_HUB };
enum kind { K_HTTP, K_SUB };

struct client {
	int		 fd;
	int		 kind;
	int		 blocked;
	uint32_t	 subidx;
	uint64_t	 pos;		/* subscriber: byte offset in the log */
	char		*rbuf;
	size_t		 rlen;
	char		*wbuf;		/* answers to publishes */
	size_t		 wlen, woff, wcap;
};

static struct {
	int		 port;
	enum mode	 mode;
	uint32_t	 gate;
	uint64_t	 n;
	double		 rate;
	double		 duration;
	uint32_t	 pad;
	int		 quiet;
} o = { .port = 8090, .mode = M_BLAST, .duration = 300 };

static char		*logbuf;
static size_t		 loglen, logcap;
static uint64_t		*offs;		/* offs[i] = start of event seq i+1 */
static uint64_t		 nev, offcap;
static struct client	**subs;
static uint32_t		 nsubs, subcap;
static int		 ep, gate_open, log_dirty;
static uint64_t		 st_subs, st_publishes, st_bytes, st_closed;
static uint64_t		 t_gate_rt, t_gate_mono;
static char		 padding[4096];
static struct client	**grave;
static uint32_t		 ngrave, gravecap;

static const char sse_head[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
	"d\r\nretry: 3000\n\n\r\n";

/* Append one event (one chunk) to the log. */
static void
log_append(const char *data, size_t dl)
{
	char head[96];
	int hl, il;
	char idl[48];
	size_t body, need;

	il = snprintf(idl, sizeof(idl), "id: 00000000-%" PRIu64 "\n", nev + 1);
	body = (size_t)il + 6 + dl + 2;		/* "data: " ... "\n\n" */
	hl = snprintf(head, sizeof(head), "%zx\r\n", body);
	need = loglen + (size_t)hl + body + 2;
	if (need > logcap) {
		logcap = logcap ? logcap : (1 << 20);
		while (logcap < need)
			logcap *= 2;
		logbuf = xrealloc(logbuf, logcap);
	}
	if (nev + 1 >= offcap) {
		offcap = offcap ? offcap * 2 : 65536;
		offs = xrealloc(offs, offcap * sizeof(uint64_t));
	}
	offs[nev] = loglen;
	memcpy(logbuf + loglen, head, (size_t)hl);
	loglen += (size_t)hl;
	memcpy(logbuf + loglen, idl, (size_t)il);
	loglen += (size_t)il;
	memcpy(logbuf + loglen, "data: ", 6);
	loglen += 6;
	memcpy(logbuf + loglen, data, dl);
	loglen += dl;
	memcpy(logbuf + loglen, "\n\n\r\n", 4);
	loglen += 4;
	nev++;
	log_dirty = 1;
}

static void
make_event(uint64_t stamp)
{
	char data[128 + sizeof(padding)];
	int dl;

	dl = snprintf(data, 128, "0 %" PRIu64 " %" PRIu64, nev + 1, stamp);
	if (o.pad) {
		data[dl++] = ' ';
		memcpy(data + dl, padding, o.pad);
		dl += (int)o.pad;
	}
	log_append(data, (size_t)dl);
}

static void
client_close(struct client *c)
{
	if (c->kind == K_SUB) {
		subs[c->subidx] = subs[--nsubs];
		subs[c->subidx]->subidx = c->subidx;
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->kind = K_HTTP;
	free(c->rbuf);
	free(c->wbuf);
	c->rbuf = c->wbuf = NULL;
	/* freed after the current epoll batch: events may still name it */
	if (ngrave == gravecap) {
		gravecap = gravecap ? gravecap * 2 : 256;
		grave = xrealloc(grave, gravecap * sizeof(*grave));
	}
	grave[ngrave++] = c;
	st_closed++;
}

/* Send what the subscriber has not had yet. Returns -1 if it closed. */
static int
sub_flush(struct client *c)
{
	ssize_t r;
	size_t k;

	if (!gate_open)
		return 0;
	while (c->pos < loglen && !c->blocked) {
		k = loglen - c->pos;
		if (k > SEND_MAX)
			k = SEND_MAX;
		r = send(c->fd, logbuf + c->pos, k, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EAGAIN) {
				c->blocked = 1;
				break;
			}
			if (errno == EINTR)
				continue;
			client_close(c);
			return -1;
		}
		c->pos += (size_t)r;
		st_bytes += (uint64_t)r;
	}
	return 0;
}

static void
flush_all(void)
{
	uint32_t i;

	for (i = 0; i < nsubs;) {
		struct client *c = subs[i];

		if (sub_flush(c) == 0)
			i++;
	}
	log_dirty = 0;
}

static int
header_value(const char *h, size_t n, const char *name, const char **v,
    size_t *vl)
{
	const char *p = h, *end = h + n, *eol, *q;
	size_t nl = strlen(name);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':') {
			q = p + nl + 1;
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			*v = q;
			*vl = (size_t)(eol - q);
			while (*vl > 0 && (q[*vl - 1] == '\r' || q[*vl - 1] == ' '))
				(*vl)--;
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static uint64_t
trailing_number(const char *v, size_t vl, int *ok)
{
	uint64_t x = 0;
	size_t i = vl;

	while (i > 0 && v[i - 1] >= '0' && v[i - 1] <= '9')
		i--;
	*ok = i < vl;
	for (; i < vl; i++)
		x = x * 10 + (uint64_t)(v[i] - '0');
	return x;
}

static void
become_subscriber(struct client *c, const char *req, size_t hl)
{
	const char *v, *q;
	size_t vl;
	int ok = 0;
	uint64_t resume = 0;

	if (header_value(req, hl, "last-event-id", &v, &vl))
		resume = trailing_number(v, vl, &ok);
	if (!ok && (q = memmem(req, hl, "lastEventId=", 12)) != NULL) {
		const char *e = q + 12;

		while (e < req + hl && *e >= '0' && *e <= '9')
			e++;
		resume = trailing_number(q + 12, (size_t)(e - q - 12), &ok);
	}
	if (ok)
		c->pos = resume >= nev ? loglen : offs[resume];
	else if (o.mode == M_BLAST)
		c->pos = 0;
	else
		c->pos = loglen;
	c->kind = K_SUB;
	free(c->rbuf);
	c->rbuf = NULL;
	c->rlen = 0;
	if (nsubs == subcap) {
		subcap = subcap ? subcap * 2 : 1024;
		subs = xrealloc(subs, subcap * sizeof(*subs));
	}
	c->subidx = nsubs;
	subs[nsubs++] = c;
	st_subs++;
	if (send(c->fd, sse_head, sizeof(sse_head) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(sse_head) - 1) {
		client_close(c);
		return;
	}
	if (!gate_open && nsubs >= o.gate) {
		gate_open = 1;
		t_gate_rt = now_us(CLOCK_REALTIME);
		t_gate_mono = now_us(CLOCK_MONOTONIC);
		if (!o.quiet)
			fprintf(stderr, "baseline: %u subscribers, go\n", nsubs);
		flush_all();
		return;
	}
	sub_flush(c);
}

static int
hexv(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static void
client_write(struct client *c)
{
	ssize_t r;

	while (c->woff < c->wlen) {
		r = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
		    MSG_NOSIGNAL);
		if (r < 0)
			return;		/* EAGAIN: EPOLLOUT comes back */
		c->woff += (size_t)r;
	}
	c->woff = c->wlen = 0;
}

static void
answer(struct client *c, int status, const char *body)
{
	char buf[256];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	    status, status == 201 ? "Created" : "Error", strlen(body), body);
	if (c->wlen + (size_t)n > c->wcap) {
		c->wcap = (c->wlen + (size_t)n) * 2;
		c->wbuf = xrealloc(c->wbuf, c->wcap);
	}
	memcpy(c->wbuf + c->wlen, buf, (size_t)n);
	c->wlen += (size_t)n;
}

/* One publish: body is a form with data= or the raw data. */
static void
publish(struct client *c, const char *req, size_t hl, const char *body,
    size_t bl)
{
	char data[70000], idj[64];
	const char *v, *p, *e;
	size_t vl, dl = 0;

	if (header_value(req, hl, "content-type", &v, &vl) &&
	    vl >= 33 && strncasecmp(v, "application/x-www-form-urlencoded",
	    33) == 0) {
		p = NULL;
		for (e = body; e + 5 <= body + bl; e++)
			if ((e == body || e[-1] == '&') &&
			    memcmp(e, "data=", 5) == 0) {
				p = e + 5;
				break;
			}
		if (p == NULL) {
			answer(c, 400, "{\"error\":\"no data\"}");
			return;
		}
		for (; p < body + bl && *p != '&' && dl < sizeof(data); p++) {
			if (*p == '+') {
				data[dl++] = ' ';
			} else if (*p == '%' && p + 2 < body + bl &&
			    hexv(p[1]) >= 0 && hexv(p[2]) >= 0) {
				data[dl++] = (char)(hexv(p[1]) * 16 + hexv(p[2]));
				p += 2;
			} else {
				data[dl++] = *p;
			}
		}
	} else {
		dl = bl < sizeof(data) ? bl : sizeof(data);
		memcpy(data, body, dl);
	}
	log_append(data, dl);
	st_publishes++;
	snprintf(idj, sizeof(idj), "{\"id\":\"00000000-%" PRIu64 "\"}", nev);
	answer(c, 201, idj);
}

static void
client_read(struct client *c)
{
	ssize_t r;
	size_t off, hl, bl;
	const char *he, *v;
	size_t vl;

	for (;;) {
		if (c->kind == K_SUB) {
			char sink[4096];

			r = recv(c->fd, sink, sizeof(sink), 0);
		} else {
			if (c->rbuf == NULL)
				c->rbuf = malloc(REQ_MAX);
			if (c->rlen == REQ_MAX) {
				client_close(c);
				return;
			}
			r = recv(c->fd, c->rbuf + c->rlen, REQ_MAX - c->rlen, 0);
		}
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(c);
			return;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (c->kind == K_SUB)
			continue;
		c->rlen += (size_t)r;
		off = 0;
		while (c->kind == K_HTTP && c->rlen > off) {
			he = memmem(c->rbuf + off, c->rlen - off, "\r\n\r\n", 4);
			if (he == NULL)
				break;
			hl = (size_t)(he + 4 - (c->rbuf + off));
			bl = 0;
			if (header_value(c->rbuf + off, hl, "content-length",
			    &v, &vl))
				bl = strtoul(v, NULL, 10);
			if (c->rlen - off < hl + bl)
				break;
			if (c->rlen - off >= 5 &&
			    memcmp(c->rbuf + off, "GET ", 4) == 0) {
				become_subscriber(c, c->rbuf + off, hl);
				return;	/* rbuf is gone */
			}
			if (memcmp(c->rbuf + off, "POST ", 5) == 0 &&
			    o.mode == M_HUB)
				publish(c, c->rbuf + off, hl,
				    c->rbuf + off + hl, bl);
			else
				answer(c, 404, "{\"error\":\"not here\"}");
			off += hl + bl;
		}
		if (off > 0) {
			memmove(c->rbuf, c->rbuf + off, c->rlen - off);
			c->rlen -= off;
		}
		client_write(c);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: baseline [-p port] [-m blast|rate|hub] "
	    "[-c gate-subscribers] [-n events]\n"
	    "    [-r events/s] [-z pad-bytes] [-d seconds] [-q]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[512];
	struct sockaddr_in sa;
	struct rlimit rl;
	uint64_t i, now, t_end, due, last_flush = 0;
	int ls, ch, n, k, one = 1, timeout;

	while ((ch = getopt(argc, argv, "p:m:c:n:r:z:d:q")) != -1) {
		switch (ch) {
		case 'p': o.port = atoi(optarg); break;
		case 'm':
			if (strcmp(optarg, "blast") == 0)
				o.mode = M_BLAST;
			else if (strcmp(optarg, "rate") == 0)
				o.mode = M_RATE;
			else if (strcmp(optarg, "hub") == 0)
				o.mode = M_HUB;
			else
				usage();
			break;
		case 'c': o.gate = (uint32_t)atoi(optarg); break;
		case 'n': o.n = strtoull(optarg, NULL, 10); break;
		case 'r': o.rate = atof(optarg); break;
		case 'z': o.pad = (uint32_t)atoi(optarg); break;
		case 'd': o.duration = atof(optarg); break;
		case 'q': o.quiet = 1; break;
		default: usage();
		}
	}
	if (o.pad >= sizeof(padding) || (o.mode == M_RATE && o.rate <= 0))
		usage();
	memset(padding, 'x', sizeof(padding));
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (o.mode == M_BLAST)
		for (i = 0; i < o.n; i++)
			make_event(now_us(CLOCK_REALTIME));
	if (o.mode == M_HUB || o.gate == 0) {
		gate_open = 1;
		t_gate_rt = now_us(CLOCK_REALTIME);
		t_gate_mono = now_us(CLOCK_MONOTONIC);
	}

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 4096) < 0) {
		perror("baseline: bind/listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	t_end = now_us(CLOCK_MONOTONIC) + (uint64_t)(o.duration * 1e6);

	while (!atomic_load(&stop_flag)) {
		now = now_us(CLOCK_MONOTONIC);
		if (now >= t_end)
			break;
		timeout = 100;
		if (o.mode == M_RATE && gate_open && nev < o.n) {
			due = (uint64_t)(o.rate * (double)(now - t_gate_mono) /
			    1e6) + 1;
			if (due > o.n)
				due = o.n;
			while (nev < due)
				make_event(now_us(CLOCK_REALTIME));
			timeout = 1;
		}
		/*
		 * hub: publishes are answered at once, subscribers get what
		 * came in at most every millisecond (in bigger writes).
		 */
		if (log_dirty && (o.mode != M_HUB ||
		    now - last_flush >= 2000)) {
			flush_all();
			last_flush = now_us(CLOCK_MONOTONIC);
		}
		if (log_dirty)
			timeout = 1;
		n = epoll_wait(ep, evs, 512, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			return 1;
		}
		for (k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					ev.events = EPOLLIN | EPOLLOUT |
					    EPOLLRDHUP | EPOLLET;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (c->fd < 0)
				continue;	/* closed in this batch */
			if (evs[k].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
			    EPOLLERR)) {
				client_read(c);
				if (c->fd < 0)
					continue;
			}
			if (evs[k].events & EPOLLOUT) {
				if (c->kind == K_SUB) {
					c->blocked = 0;
					sub_flush(c);
				} else {
					client_write(c);
				}
			}
		}
		while (ngrave > 0)
			free(grave[--ngrave]);
	}
	printf("mode=%s subscribers=%u subscribed_total=%" PRIu64
	    " events=%" PRIu64 " publishes=%" PRIu64 " bytes_sent=%" PRIu64
	    " log_bytes=%zu t_gate_us=%" PRIu64 "\n",
	    o.mode == M_BLAST ? "blast" : o.mode == M_RATE ? "rate" : "hub",
	    nsubs, st_subs, nev, st_publishes, st_bytes, loglen, t_gate_rt);
	return 0;
}
