/*
 * check.c: ssereplay-check's clients, publisher and report (check_run())
 * and the deployment probe (check_probe()); see check.h.
 *
 * check_run() is one epoll loop in one thread: stream clients and
 * publisher connections are non-blocking sockets; timers (reconnects,
 * stalls, the publishing rate) are checked every loop turn (at most
 * LOOP_TICK_MS apart). The parsers (httpclient.h, sseparse.h) do all the
 * decoding; this file only moves bytes and keeps the books.
 *
 * check_probe() is sequential: blocking steps with deadlines, one after
 * the other, because it measures time and nothing else runs meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "httpclient.h"
#include "sseparse.h"

#define LOOP_TICK_MS	5
#define RBUF_SIZE	(256 * 1024)
#define CONNECTING_MAX	256		/* connects in flight at once */
#define PUB_RETRY_MS	100		/* a publisher connection failed */
#define HIST_BUCKETS	128		/* 4 per power of two of us */
#define PROGRESS_MS	500

/* ------------------------------------------------------------------ */
/* Small things.                                                       */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;		/* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

/* Uniform in [0, 1). */
static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* A latency histogram: log2 buckets, 4 per power of two (about ±9 %). */
struct hist {
	uint64_t	 b[HIST_BUCKETS];
	uint64_t	 n;
	int64_t		 max;
};

static void
hist_add(struct hist *h, int64_t us)
{
	int	 i = 0;
	double	 x;

	if (us < 1)
		us = 1;
	x = log2((double)us) * 4;
	if (x > 0)
		i = (int)x;
	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->b[i]++;
	h->n++;
	if (us > h->max)
		h->max = us;
}

static void
hist_merge(struct hist *to, const struct hist *from)
{
	int	 i;

	for (i = 0; i < HIST_BUCKETS; i++)
		to->b[i] += from->b[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

/* The q-quantile in ms (the bucket's upper edge, capped at max). */
static double
hist_ms(const struct hist *h, double q)
{
	uint64_t	 want, acc = 0;
	int		 i;
	double		 v;

	if (h->n == 0)
		return 0;
	want = (uint64_t)ceil(q * (double)h->n);
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		acc += h->b[i];
		if (acc >= want)
			break;
	}
	v = exp2((double)(i + 1) / 4);
	if (v > (double)h->max)
		v = (double)h->max;
	return v / 1000.0;
}

/* A growable bitmap over sequence numbers 1..CHECK_SEQ_MAX. */
struct bits {
	uint8_t		*b;
	uint64_t	 cap;		/* bits */
};

static int
bits_get(const struct bits *s, uint64_t i)
{
	return i < s->cap && (s->b[i >> 3] >> (i & 7) & 1);
}

static int
bits_set(struct bits *s, uint64_t i)
{
	uint64_t	 ncap;
	uint8_t		*nb;

	if (i >= CHECK_SEQ_MAX)
		return -1;
	if (i >= s->cap) {
		ncap = s->cap ? s->cap : 4096;
		while (ncap <= i)
			ncap *= 2;
		if ((nb = realloc(s->b, ncap / 8)) == NULL)
			return -1;
		memset(nb + s->cap / 8, 0, (ncap - s->cap) / 8);
		s->b = nb;
		s->cap = ncap;
	}
	s->b[i >> 3] |= (uint8_t)(1u << (i & 7));
	return 0;
}

static void
bits_free(struct bits *s)
{
	free(s->b);
	s->b = NULL;
	s->cap = 0;
}

/* ------------------------------------------------------------------ */
/* URLs and sockets.                                                   */

struct url {
	char		 host[256];
	char		 port[8];
	char		 hostport[272];		/* the Host header */
	char		 path[CHECK_URL_MAX];
	struct sockaddr_storage addr;
	socklen_t	 alen;
};

/* "http://host[:port][/path]"; resolves host. 0 or -1 with a message. */
static int
url_parse(const char *s, struct url *u)
{
	struct addrinfo	 hints, *res = NULL;
	const char	*h, *e, *p;
	size_t		 n;
	int		 rc;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "http://", 7) != 0) {
		fprintf(stderr, "ssereplay-check: %s: only http:// URLs\n", s);
		return -1;
	}
	h = s + 7;
	e = h + strcspn(h, "/?");
	p = *e == '\0' ? "/" : e;
	if (*h == '[') {		/* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (rb == NULL || (size_t)(rb - h - 1) >= sizeof(u->host))
			goto bad;
		memcpy(u->host, h + 1, (size_t)(rb - h - 1));
		h = rb + 1;
	} else {
		n = strcspn(h, ":/?");
		if (n == 0 || n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, h, n);
		h += n;
	}
	if (*h == ':') {
		n = (size_t)(e - h - 1);
		if (n == 0 || n >= sizeof(u->port))
			goto bad;
		memcpy(u->port, h + 1, n);
	} else if (h != e)
		goto bad;
	else
		strcpy(u->port, "80");
	if (strlen(p) + 1 >= sizeof(u->path) || strpbrk(p, " \r\n") != NULL)
		goto bad;
	n = 0;
	if (*p == '?')
		u->path[n++] = '/';
	memcpy(u->path + n, p, strlen(p) + 1);
	snprintf(u->hostport, sizeof(u->hostport), "%s%s%s:%s",
	    strchr(u->host, ':') ? "[" : "", u->host,
	    strchr(u->host, ':') ? "]" : "", u->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		fprintf(stderr, "ssereplay-check: %s: %s\n", u->host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
	u->alen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
bad:
	fprintf(stderr, "ssereplay-check: %s: bad URL\n", s);
	return -1;
}

/* The value of query parameter name in path (not decoded), or "". */
static void
query_param(const char *path, const char *name, char *out, size_t outsz)
{
	const char	*q = strchr(path, '?'), *e;
	size_t		 nl = strlen(name), n;

	out[0] = '\0';
	while (q != NULL) {
		q++;
		e = q + strcspn(q, "&");
		if ((size_t)(e - q) > nl && strncmp(q, name, nl) == 0 &&
		    q[nl] == '=') {
			n = (size_t)(e - q) - nl - 1;
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, q + nl + 1, n);
			out[n] = '\0';
			return;
		}
		q = *e ? e : NULL;
	}
}

/* A non-blocking connect; -1 on immediate failure. */
static int
sock_connect(const struct url *u, int rcvbuf)
{
	int	 fd, one = 1;

	fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf));
	if (connect(fd, (const struct sockaddr *)&u->addr, u->alen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static size_t
urlencode(char *out, size_t outsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 o = 0, i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (o + 4 > outsz)
			break;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/*
 * The number under a JSON key ("key": 123) or in whitespace-separated
 * field number key (1-based) of data. 0 if found, -1 if not.
 */
static int
data_u64(const char *d, size_t n, const char *key, uint64_t *out)
{
	const char	*p, *e = d + n;
	size_t		 kl = strlen(key);
	unsigned long	 fieldno;
	char		*end;
	uint64_t	 v;
	int		 digits;

	if (kl == 0)
		return -1;
	fieldno = strtoul(key, &end, 10);
	if (*end == '\0') {		/* a field number */
		p = d;
		while (fieldno-- > 0) {
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (fieldno == 0)
				break;
			while (p < e && *p != ' ' && *p != '\t')
				p++;
		}
	} else {
		for (p = d; p + kl + 2 <= e; p++) {
			if (*p == '"' && memcmp(p + 1, key, kl) == 0 &&
			    p[kl + 1] == '"') {
				p += kl + 2;
				while (p < e && (*p == ' ' || *p == '\t'))
					p++;
				if (p < e && *p == ':')
					break;
			}
		}
		if (p + kl + 2 > e || p >= e)
			return -1;
		p++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
	}
	for (v = 0, digits = 0; p < e && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 18)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* check_run(): the state.                                             */

enum cstate { CL_WAIT, CL_CONNECTING, CL_HEAD, CL_BODY, CL_DEAD };

struct srcbook {
	struct bits	 seen, excused;
	uint64_t	 max;		/* highest seq seen */
	uint64_t	 low;		/* all of 1..low accounted for */
};

struct run;

struct client {
	struct run	*run;
	unsigned	 idx;
	int		 fd;
	enum cstate	 state;
	char		 req[CHECK_REQ_MAX];
	size_t		 req_len, req_off;
	struct httpc_head *head;	/* while CL_HEAD */
	struct httpc_body body;
	struct sseparse	 sp;
	uint64_t	 retry_ms;
	int64_t		 reconnect_at;	/* monotonic us, CL_WAIT */
	int64_t		 down_at;	/* since when without a stream; 0 */
	int		 drop;		/* chaos picked this connection */
	int		 stalled;
	int		 ever_connected;
	int		 gap_pending;	/* a gap: next event per src decides */
	uint64_t	 gap_open;	/* bit per src still to see */
	int		 gap_justified;
	struct srcbook	 src[CHECK_SRC_MAX];
	/* counters */
	uint64_t	 received, dups, ooo, gaps, gaps_spurious, other;
	uint64_t	 bad_data, comments, reconnects, chaos_drops;
	uint64_t	 server_closes, http_errors, conn_errors, parse_errors;
	uint64_t	 missing, excused, expected;
	uint64_t	 first_missing[CHECK_FIRST_MISSING];
	unsigned	 nfirst_missing;
	int		 last_status;
	struct hist	 resume, latency;
};

enum pstate { PB_IDLE, PB_CONNECTING, PB_SENDING, PB_READING, PB_DOWN };

struct pubconn {
	unsigned	 src;
	int		 fd;
	enum pstate	 state;
	char		 req[CHECK_REQ_MAX + 3 * CHECK_PAD_MAX + 1024];
	size_t		 req_len, req_off;
	struct httpc_head head;
	struct httpc_body body;
	uint64_t	 seq;		/* in flight */
	int64_t		 retry_at;
};

struct run {
	const struct check_opts *o;
	struct url	 url, purl;
	char		 topic[256];
	int		 ep;
	char		*rbuf;
	struct client	*cl;
	unsigned	 n;
	unsigned	 connecting;
	struct pubconn	*pub;
	unsigned	 npub;
	int		 publishing;	/* 0 before, 1 during, 2 after */
	int64_t		 t0, t_pub0, t_pubend, t_last_progress, t_progress;
	uint64_t	 pub_ok, pub_err, pub_sent;
	uint64_t	 src_next[CHECK_SRC_MAX];	/* next seq to publish */
	uint64_t	 src_max[CHECK_SRC_MAX];	/* highest seq expected */
	uint64_t	 src_min[CHECK_SRC_MAX];	/* lowest (no publisher) */
	struct bits	 uncertain[CHECK_SRC_MAX];
	uint64_t	 progress_mark;		/* sum of received */
	int		 stall_state;	/* 0 before, 1 stalled, 2 after */
	int		 burst_done;
	uint64_t	 rng;
	int		 show_progress;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ------------------------------------------------------------------ */
/* Stream clients.                                                     */

static int	client_on_item(void *arg, const struct sseparse_item *it);

static void
client_close(struct run *r, struct client *c, int64_t wait_us)
{
	if (c->fd != -1) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == CL_CONNECTING || c->state == CL_HEAD)
		r->connecting--;
	free(c->head);
	c->head = NULL;
	sseparse_reconnect(&c->sp);
	if (c->down_at == 0)
		c->down_at = now_us();
	c->state = CL_WAIT;
	c->reconnect_at = now_us() + wait_us;
	c->drop = 0;
}

static int64_t
retry_us(const struct client *c)
{
	uint64_t ms = c->retry_ms;

	if (ms > CHECK_RETRY_MAX_MS)
		ms = CHECK_RETRY_MAX_MS;
	return (int64_t)ms * 1000;
}

static int64_t
chaos_pause_us(struct run *r)
{
	const struct check_opts *o = r->o;

	return (int64_t)((o->pause_min + (o->pause_max - o->pause_min) *
	    rng_unit(&r->rng)) * 1000);
}

static void
client_connect(struct run *r, struct client *c)
{
	const char	*hdrs[5];
	char		 lei[SSEPARSE_ID_MAX + 32];
	const char	*id;
	size_t		 idlen, i, k = 0;
	struct epoll_event ev;
	ssize_t		 n;

	hdrs[k++] = "Accept: text/event-stream";
	hdrs[k++] = "Cache-Control: no-cache";
	id = sseparse_last_id(&c->sp, &idlen);
	if (idlen > 0) {
		/* An id with CR or LF cannot be sent; a browser neither. */
		for (i = 0; i < idlen; i++)
			if (id[i] == '\r' || id[i] == '\n')
				break;
		if (i == idlen) {
			snprintf(lei, sizeof(lei), "Last-Event-ID: %s", id);
			hdrs[k++] = lei;
		}
	}
	hdrs[k] = NULL;
	n = httpc_request(c->req, sizeof(c->req), "GET", r->url.hostport,
	    r->url.path, hdrs, NULL, 0);
	if (n < 0) {
		c->state = CL_DEAD;
		return;
	}
	c->req_len = (size_t)n;
	c->req_off = 0;
	c->fd = sock_connect(&r->url, c->idx < r->o->stall_n ?
	    r->o->stall_rcvbuf : 0);
	if (c->fd == -1) {
		c->conn_errors++;
		c->state = CL_WAIT;
		c->reconnect_at = now_us() + retry_us(c);
		return;
	}
	if (c->ever_connected)
		c->reconnects++;
	c->ever_connected = 1;
	c->state = CL_CONNECTING;
	r->connecting++;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLOUT | EPOLLIN;
	ev.data.u64 = c->idx;
	epoll_ctl(r->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
client_set_reading(struct run *r, struct client *c, int on)
{
	struct epoll_event ev;

	c->stalled = !on;
	if (c->fd == -1 || c->state == CL_CONNECTING)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = on ? EPOLLIN : 0;
	ev.data.u64 = c->idx;
	epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
client_writable(struct run *r, struct client *c)
{
	struct epoll_event ev;
	ssize_t		 w;
	int		 err = 0;
	socklen_t	 el = sizeof(err);

	if (c->state == CL_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			c->conn_errors++;
			client_close(r, c, retry_us(c));
			return;
		}
	}
	while (c->req_off < c->req_len) {
		w = write(c->fd, c->req + c->req_off, c->req_len - c->req_off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN)
			return;
		if (w <= 0) {
			c->conn_errors++;
			client_close(r, c, retry_us(c));
			return;
		}
		c->req_off += (size_t)w;
	}
	if (c->state == CL_CONNECTING) {
		c->state = CL_HEAD;
		if ((c->head = malloc(sizeof(*c->head))) == NULL) {
			client_close(r, c, retry_us(c));
			return;
		}
		httpc_head_init(c->head);
		memset(&ev, 0, sizeof(ev));
		ev.events = c->stalled ? 0 : EPOLLIN;
		ev.data.u64 = c->idx;
		epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

/* Decoded body bytes of c: into the SSE parser. */
static int
client_body(struct run *r, struct client *c, char *buf, size_t len)
{
	size_t	 out;
	int	 rc;

	rc = httpc_body_decode(&c->body, buf, len, &out);
	if (rc < 0) {
		c->parse_errors++;
		return -1;
	}
	if (out > 0 && (rc = sseparse_feed(&c->sp, buf, out)) != 0) {
		if (rc == SSEPARSE_STOPPED)
			return 0;	/* chaos: c->drop is set */
		c->parse_errors++;
		return -1;
	}
	if (rc == HTTPC_DONE) {
		c->server_closes++;
		client_close(r, c, retry_us(c));
		return 1;
	}
	return 0;
}

static void
client_readable(struct run *r, struct client *c)
{
	ssize_t		 n;
	size_t		 used;
	int		 rc, i;

	/* A few reads per turn, so one busy client cannot starve others. */
	for (i = 0; i < 4 && c->fd != -1 && !c->stalled; i++) {
		n = read(c->fd, r->rbuf, RBUF_SIZE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n == 0)
				c->server_closes++;
			else
				c->conn_errors++;
			client_close(r, c, retry_us(c));
			return;
		}
		used = 0;
		if (c->state == CL_HEAD) {
			rc = httpc_head_feed(c->head, r->rbuf, (size_t)n,
			    &used);
			if (rc < 0) {
				c->parse_errors++;
				client_close(r, c, retry_us(c));
				return;
			}
			if (rc == HTTPC_MORE)
				continue;
			r->connecting--;
			c->state = CL_BODY;
			c->last_status = c->head->status;
			if (c->head->content_encoding[0] != '\0' &&
			    strcmp(c->head->content_encoding, "identity")) {
				/* Compressed: we cannot read it, ever. */
				c->http_errors++;
				client_close(r, c, 0);
				c->state = CL_DEAD;
				return;
			}
			if (c->head->status != 200 || strncmp(
			    c->head->content_type, "text/event-stream", 17)) {
				/* A browser would give up; we try again. */
				c->http_errors++;
				client_close(r, c, retry_us(c));
				return;
			}
			httpc_body_init(&c->body, c->head);
			free(c->head);
			c->head = NULL;
		}
		if ((size_t)n > used && client_body(r, c, r->rbuf + used,
		    (size_t)n - used) != 0) {
			if (c->fd != -1)
				client_close(r, c, retry_us(c));
			return;
		}
		if (c->drop) {
			c->chaos_drops++;
			client_close(r, c, chaos_pause_us(r));
			return;
		}
	}
}

/* Excuse a..b (inclusive) of src s for client c, if not seen. */
static void
excuse(struct client *c, unsigned s, uint64_t a, uint64_t b)
{
	uint64_t	 i;

	for (i = a; i <= b && i < CHECK_SEQ_MAX; i++)
		if (!bits_get(&c->src[s].seen, i)) {
			bits_set(&c->src[s].excused, i);
			c->gap_justified = 1;
		}
}

static int
client_on_item(void *arg, const struct sseparse_item *it)
{
	struct client	*c = arg;
	struct run	*r;
	struct srcbook	*sb;
	uint64_t	 seq, src = 0, t;
	int64_t		 now;

	r = c->run;
	if (it->kind == SSEPARSE_RETRY) {
		c->retry_ms = it->retry_ms;
		return 0;
	}
	if (it->kind == SSEPARSE_COMMENT) {
		c->comments++;
		return 0;
	}
	now = now_us();
	if (c->down_at != 0 && c->ever_connected) {
		if (c->received > 0 || c->gaps > 0)
			hist_add(&c->resume, now - c->down_at);
		c->down_at = 0;
	}
	if (strcmp(it->type, r->o->gap_event) == 0) {
		if (c->gap_pending && !c->gap_justified)
			c->gaps_spurious++;
		c->gaps++;
		c->gap_pending = 1;
		c->gap_justified = 0;
		c->gap_open = ~0ULL;
		return 0;
	}
	if (data_u64(it->data, it->data_len, r->o->seq_field, &seq) < 0 ||
	    seq == 0 || seq >= CHECK_SEQ_MAX) {
		if (strcmp(it->type, "message") != 0)
			c->other++;
		else
			c->bad_data++;
		return 0;
	}
	if (data_u64(it->data, it->data_len, "src", &src) < 0 ||
	    src >= CHECK_SRC_MAX)
		src = 0;
	sb = &c->src[src];
	if (c->gap_pending && (c->gap_open >> src & 1)) {
		c->gap_open &= ~(1ULL << src);
		if (seq > sb->max + 1)
			excuse(c, (unsigned)src, sb->max + 1, seq - 1);
	}
	if (bits_get(&sb->seen, seq)) {
		c->dups++;
	} else {
		if (seq < sb->max)
			c->ooo++;
		bits_set(&sb->seen, seq);
		c->received++;
		if (seq > sb->max)
			sb->max = seq;
	}
	if (r->o->publish_url == NULL) {
		/* no publisher of ours: the range is what anyone saw */
		if (r->src_min[src] == 0 || seq < r->src_min[src])
			r->src_min[src] = seq;
	}
	if (r->o->publish_url == NULL && seq > r->src_max[src])
		r->src_max[src] = seq;
	if (data_u64(it->data, it->data_len, "t", &t) == 0 && t > 0)
		hist_add(&c->latency, real_us() - (int64_t)t);
	if (r->o->chaos > 0 && rng_unit(&r->rng) < r->o->chaos) {
		c->drop = 1;	/* stop here: the id must not move on */
		return 1;
	}
	return 0;
}

/* Has c accounted for every expected number? Advances the watermarks. */
static int
client_complete(struct run *r, struct client *c)
{
	struct srcbook	*sb;
	unsigned	 s;

	for (s = 0; s < CHECK_SRC_MAX; s++) {
		sb = &c->src[s];
		if (sb->low == 0 && r->src_min[s] > 1)
			sb->low = r->src_min[s] - 1;
		while (sb->low < r->src_max[s] &&
		    (bits_get(&sb->seen, sb->low + 1) ||
		    bits_get(&sb->excused, sb->low + 1) ||
		    bits_get(&r->uncertain[s], sb->low + 1)))
			sb->low++;
		if (sb->low < r->src_max[s])
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Publishers.                                                         */

#define PUB_TAG		(1ULL << 40)

static void
pub_fail(struct run *r, struct pubconn *p)
{
	if (p->fd != -1) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
		p->fd = -1;
	}
	if (p->state == PB_SENDING || p->state == PB_READING ||
	    (p->state == PB_CONNECTING && p->seq != 0)) {
		/* Sent, maybe stored: neither expected nor held against. */
		bits_set(&r->uncertain[p->src], p->seq);
		r->pub_err++;
	}
	p->seq = 0;
	p->state = PB_DOWN;
	p->retry_at = now_us() + PUB_RETRY_MS * 1000;
}

static int
pub_build(struct run *r, struct pubconn *p)
{
	const struct check_opts *o = r->o;
	static char	 data[CHECK_PAD_MAX + 256], body[3 * CHECK_PAD_MAX + 1024];
	char		 auth[CHECK_TOKEN_MAX + 32];
	const char	*hdrs[4];
	const char	*ct;
	size_t		 k = 0, n;
	ssize_t		 len;

	n = (size_t)snprintf(data, sizeof(data),
	    "{\"src\":%u,\"%s\":%" PRIu64 ",\"t\":%" PRId64 ",\"pad\":\"",
	    p->src, o->seq_field, p->seq, real_us());
	memset(data + n, 'x', o->pad);	/* --pad: bigger events */
	n += o->pad;
	memcpy(data + n, "\"}", 3);
	n += 2;
	if (strcmp(o->publish_format, "json") == 0) {
		snprintf(body, sizeof(body), "{\"topic\":\"%s\",\"data\":%s}",
		    r->topic, data);
		ct = "Content-Type: application/json";
	} else if (strcmp(o->publish_format, "raw") == 0) {
		snprintf(body, sizeof(body), "%s", data);
		ct = "Content-Type: text/plain";
	} else {
		k = (size_t)snprintf(body, sizeof(body), "topic=%s&data=",
		    r->topic);
		urlencode(body + k, sizeof(body) - k, data, n);
		k = 0;
		ct = "Content-Type: application/x-www-form-urlencoded";
	}
	hdrs[k++] = ct;
	if (o->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		    o->token);
		hdrs[k++] = auth;
	}
	hdrs[k] = NULL;
	len = httpc_request(p->req, sizeof(p->req), "POST", r->purl.hostport,
	    r->purl.path, hdrs, body, strlen(body));
	if (len < 0)
		return -1;
	p->req_len = (size_t)len;
	p->req_off = 0;
	return 0;
}

/* Start publishing the next number of p's source. */
static void
pub_start(struct run *r, struct pubconn *p)
{
	struct epoll_event ev;

	p->seq = ++r->src_next[p->src];
	r->pub_sent++;
	if (pub_build(r, p) < 0) {
		fprintf(stderr, "ssereplay-check: request too large\n");
		stop_flag = 1;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.u64 = PUB_TAG | p->src;
	if (p->fd == -1) {
		p->fd = sock_connect(&r->purl, 0);
		if (p->fd == -1) {
			p->state = PB_CONNECTING;
			pub_fail(r, p);
			return;
		}
		p->state = PB_CONNECTING;
		ev.events = EPOLLOUT | EPOLLIN;
		epoll_ctl(r->ep, EPOLL_CTL_ADD, p->fd, &ev);
	} else {
		p->state = PB_SENDING;
		ev.events = EPOLLOUT | EPOLLIN;
		epoll_ctl(r->ep, EPOLL_CTL_MOD, p->fd, &ev);
	}
}

static void
pub_event(struct run *r, struct pubconn *p, uint32_t events)
{
	struct epoll_event ev;
	ssize_t		 n;
	size_t		 used, out;
	int		 rc, err = 0;
	socklen_t	 el = sizeof(err);

	if (p->state == PB_CONNECTING) {
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err != 0) {
			pub_fail(r, p);
			return;
		}
		p->state = PB_SENDING;
	}
	if (p->state == PB_SENDING && (events & (EPOLLOUT | EPOLLERR))) {
		while (p->req_off < p->req_len) {
			n = write(p->fd, p->req + p->req_off,
			    p->req_len - p->req_off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN)
				return;
			if (n <= 0) {
				pub_fail(r, p);
				return;
			}
			p->req_off += (size_t)n;
		}
		p->state = PB_READING;
		httpc_head_init(&p->head);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = PUB_TAG | p->src;
		epoll_ctl(r->ep, EPOLL_CTL_MOD, p->fd, &ev);
		return;
	}
	if (p->state != PB_READING) {
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
			/* An idle keep-alive connection closed: reopen later. */
			epoll_ctl(r->ep, EPOLL_CTL_DEL, p->fd, NULL);
			close(p->fd);
			p->fd = -1;
		}
		return;
	}
	for (;;) {
		n = read(p->fd, r->rbuf, RBUF_SIZE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			pub_fail(r, p);
			return;
		}
		used = 0;
		if (!p->head.done) {
			rc = httpc_head_feed(&p->head, r->rbuf, (size_t)n,
			    &used);
			if (rc < 0) {
				pub_fail(r, p);
				return;
			}
			if (rc == HTTPC_MORE)
				continue;
			httpc_body_init(&p->body, &p->head);
		}
		rc = httpc_body_decode(&p->body, r->rbuf + used,
		    (size_t)n - used, &out);
		if (rc < 0) {
			pub_fail(r, p);
			return;
		}
		if (rc == HTTPC_DONE || p->head.framing == HTTPC_EOF)
			break;
	}
	if (p->head.status / 100 == 2) {
		r->pub_ok++;
		if (p->seq > r->src_max[p->src])
			r->src_max[p->src] = p->seq;
	} else {
		bits_set(&r->uncertain[p->src], p->seq);
		r->pub_err++;
		if (p->head.status / 100 == 4 && p->head.status != 429) {
			fprintf(stderr, "ssereplay-check: publishing got %d:"
			    " check --publish-url, --token and "
			    "--publish-format\n", p->head.status);
			stop_flag = 1;
		}
	}
	p->seq = 0;
	p->state = PB_IDLE;
	if (p->head.conn_close || p->head.framing == HTTPC_EOF) {
		epoll_ctl(r->ep, EPOLL_CTL_DEL, p->fd, NULL);
		close(p->fd);
		p->fd = -1;
	}
}

static int
pub_target_reached(const struct run *r)
{
	const struct check_opts *o = r->o;

	if (o->events > 0 && r->pub_ok >= o->events)
		return 1;
	if (o->duration > 0 &&
	    now_us() - r->t_pub0 >= (int64_t)(o->duration * 1e6))
		return 1;
	return 0;
}

static void
pub_tick(struct run *r)
{
	const struct check_opts *o = r->o;
	struct pubconn	*p;
	unsigned	 i, busy = 0;
	uint64_t	 allowed;
	int64_t		 now = now_us();

	for (i = 0; i < r->npub; i++)
		if (r->pub[i].state != PB_IDLE && r->pub[i].state != PB_DOWN)
			busy++;
	if (pub_target_reached(r)) {
		if (busy == 0 && r->publishing == 1) {
			r->publishing = 2;
			r->t_pubend = now;
			r->t_last_progress = now;
		}
		return;
	}
	for (i = 0; i < r->npub; i++) {
		p = &r->pub[i];
		if (p->state == PB_DOWN && now >= p->retry_at)
			p->state = PB_IDLE;
		if (p->state != PB_IDLE)
			continue;
		if (o->events > 0 && r->pub_ok + busy >= o->events)
			return;
		if (o->rate > 0) {
			allowed = (uint64_t)((double)(now - r->t_pub0) / 1e6 *
			    o->rate) + 1;
			if (r->pub_sent >= allowed)
				return;
		}
		pub_start(r, p);
		busy++;
	}
}

/* ------------------------------------------------------------------ */
/* The report.                                                         */

/* Count what c missed; fills the first missing numbers. */
static void
client_tally(struct run *r, struct client *c)
{
	struct srcbook	*sb;
	uint64_t	 i, first;
	unsigned	 s;

	c->missing = c->excused = c->expected = 0;
	c->nfirst_missing = 0;
	if (c->gap_pending && !c->gap_justified)
		c->gaps_spurious++;
	c->gap_pending = 0;
	for (s = 0; s < CHECK_SRC_MAX; s++) {
		sb = &c->src[s];
		first = r->src_min[s] > 0 ? r->src_min[s] : 1;
		for (i = first; i <= r->src_max[s] && r->src_max[s] > 0; i++) {
			if (bits_get(&r->uncertain[s], i))
				continue;
			c->expected++;
			if (bits_get(&sb->seen, i))
				continue;
			if (bits_get(&sb->excused, i)) {
				c->excused++;
				continue;
			}
			c->missing++;
			if (c->nfirst_missing < CHECK_FIRST_MISSING)
				c->first_missing[c->nfirst_missing++] =
				    (uint64_t)s << 48 | i;
		}
	}
}

static int
client_ok(const struct client *c)
{
	return c->missing == 0 && c->dups == 0 && c->ooo == 0 &&
	    c->gaps_spurious == 0 && c->parse_errors == 0 &&
	    c->state != CL_DEAD;
}

static void
print_missing(FILE *f, const struct client *c, int json)
{
	unsigned	 i;
	uint64_t	 v;

	for (i = 0; i < c->nfirst_missing; i++) {
		v = c->first_missing[i];
		if (json)
			fprintf(f, "%s\"%u:%" PRIu64 "\"", i ? "," : "",
			    (unsigned)(v >> 48), (uint64_t)(v & 0xffffffffffffULL));
		else
			fprintf(f, "%s%u:%" PRIu64, i ? " " : "",
			    (unsigned)(v >> 48), (uint64_t)(v & 0xffffffffffffULL));
	}
}

#define SUM_FIELDS(X) X(expected) X(received) X(missing) X(excused) \
	X(dups) X(ooo) X(gaps) X(gaps_spurious) X(reconnects) \
	X(chaos_drops) X(server_closes) X(http_errors) X(conn_errors) \
	X(parse_errors) X(bad_data) X(other) X(comments)

static void
json_client(FILE *f, const struct client *c, const char *name)
{
	fprintf(f, "{%s\"expected\":%" PRIu64 ",\"received\":%" PRIu64
	    ",\"missing\":%" PRIu64 ",\"first_missing\":[",
	    name, c->expected, c->received, c->missing);
	print_missing(f, c, 1);
	fprintf(f, "],\"excused_by_gap\":%" PRIu64 ",\"duplicated\":%" PRIu64
	    ",\"out_of_order\":%" PRIu64 ",\"gaps\":%" PRIu64
	    ",\"gaps_spurious\":%" PRIu64 ",\"reconnects\":%" PRIu64
	    ",\"chaos_drops\":%" PRIu64 ",\"server_closes\":%" PRIu64
	    ",\"http_errors\":%" PRIu64 ",\"conn_errors\":%" PRIu64
	    ",\"parse_errors\":%" PRIu64 ",\"bad_data\":%" PRIu64
	    ",\"other_events\":%" PRIu64 ",\"comments\":%" PRIu64,
	    c->excused, c->dups, c->ooo, c->gaps, c->gaps_spurious,
	    c->reconnects, c->chaos_drops, c->server_closes, c->http_errors,
	    c->conn_errors, c->parse_errors, c->bad_data, c->other,
	    c->comments);
	fprintf(f, ",\"resume_ms\":{\"n\":%" PRIu64 ",\"p50\":%.1f,"
	    "\"p99\":%.1f,\"max\":%.1f}", c->resume.n, hist_ms(&c->resume,
	    0.5), hist_ms(&c->resume, 0.99), (double)c->resume.max / 1000);
	fprintf(f, ",\"latency_ms\":{\"n\":%" PRIu64 ",\"p50\":%.1f,"
	    "\"p99\":%.1f,\"max\":%.1f}", c->latency.n,
	    hist_ms(&c->latency, 0.5), hist_ms(&c->latency, 0.99),
	    (double)c->latency.max / 1000);
	fprintf(f, ",\"ok\":%s}", client_ok(c) ? "true" : "false");
}

static void
human_row(FILE *f, const char *name, const struct client *c)
{
	fprintf(f, "%-7s %8" PRIu64 " %8" PRIu64 " %7" PRIu64 " %7" PRIu64
	    " %5" PRIu64 " %5" PRIu64 " %4" PRIu64 " %6" PRIu64
	    " %8.1f %8.1f %8.1f %8.1f  ", name, c->expected, c->received,
	    c->missing, c->excused, c->dups, c->ooo, c->gaps, c->reconnects,
	    hist_ms(&c->resume, 0.5), (double)c->resume.max / 1000,
	    hist_ms(&c->latency, 0.5), hist_ms(&c->latency, 0.99));
	if (c->missing > 0) {
		fprintf(f, "missing ");
		print_missing(f, c, 0);
	} else
		fprintf(f, "%s", client_ok(c) ? "ok" : "FAIL");
	fprintf(f, "\n");
}

static int
report(struct run *r)
{
	const struct check_opts *o = r->o;
	struct client	 tot;
	unsigned	 i, bad = 0, shown = 0;
	double		 secs = (double)(now_us() - r->t0) / 1e6;
	char		 name[32];
	FILE		*f = stdout;

	memset(&tot, 0, sizeof(tot));
	for (i = 0; i < r->n; i++) {
		struct client *c = &r->cl[i];

		client_tally(r, c);
		if (!client_ok(c))
			bad++;
#define ADD(x) tot.x += c->x;
		SUM_FIELDS(ADD)
#undef ADD
		tot.nfirst_missing = 0;
		hist_merge(&tot.resume, &c->resume);
		hist_merge(&tot.latency, &c->latency);
	}
	if (o->json) {
		fprintf(f, "{\"url\":\"%s%s\",\"clients\":%u,\"seed\":%" PRIu64
		    ",\"seconds\":%.2f,\"chaos\":%g,\"published\":{\"ok\":%"
		    PRIu64 ",\"failed_or_uncertain\":%" PRIu64 "},",
		    r->url.hostport, r->url.path, r->n, o->seed, secs,
		    o->chaos, r->pub_ok, r->pub_err);
		fprintf(f, "\"total\":");
		json_client(f, &tot, "");
		fprintf(f, ",\"clients_failed\":%u,\"per_client\":[", bad);
		for (i = 0; i < r->n; i++) {
			snprintf(name, sizeof(name), "\"client\":%u,", i);
			fprintf(f, "%s", i ? ",\n" : "\n");
			json_client(f, &r->cl[i], name);
		}
		fprintf(f, "],\"ok\":%s}\n", bad ? "false" : "true");
	} else {
		fprintf(f, "ssereplay-check: %u clients, %.1f s, published %"
		    PRIu64 " (%" PRIu64 " failed or uncertain), chaos %g, "
		    "seed %" PRIu64 "\n", r->n, secs, r->pub_ok, r->pub_err,
		    o->chaos, o->seed);
		fprintf(f, "%-7s %8s %8s %7s %7s %5s %5s %4s %6s %8s %8s "
		    "%8s %8s\n", "client", "expected", "received", "missing",
		    "excused", "dup", "ooo", "gaps", "reconn", "resume50",
		    "resumemax", "lat50", "lat99");
		for (i = 0; i < r->n; i++) {
			/* All rows of a small run; the failures of a big one. */
			if (r->n > o->show_clients && client_ok(&r->cl[i]))
				continue;
			if (shown++ >= o->show_clients)
				break;
			snprintf(name, sizeof(name), "%u", i);
			human_row(f, name, &r->cl[i]);
		}
		human_row(f, "total", &tot);
		fprintf(f, "(times in ms; excused = missing after a gap the "
		    "server signalled)\n");
		fprintf(f, "chaos drops %" PRIu64 ", server closes %" PRIu64
		    ", HTTP errors %" PRIu64 ", connect errors %" PRIu64
		    ", parse errors %" PRIu64 ", spurious gaps %" PRIu64
		    ", events without a sequence %" PRIu64 "\n",
		    tot.chaos_drops, tot.server_closes, tot.http_errors,
		    tot.conn_errors, tot.parse_errors, tot.gaps_spurious,
		    tot.bad_data);
		fprintf(f, "%s: %u of %u clients saw every event exactly once,"
		    " in order\n", bad ? "FAIL" : "OK", r->n - bad, r->n);
	}
	fflush(f);
	if (r->pub_ok == 0 && o->publish_url != NULL) {
		fprintf(stderr, "ssereplay-check: nothing was published\n");
		return 1;
	}
	if (tot.expected == 0) {
		fprintf(stderr, "ssereplay-check: no events to check\n");
		return 1;
	}
	return bad ? 1 : 0;
}

static void
progress(struct run *r, int final)
{
	uint64_t	 recv = 0, recon = 0, exp = 0;
	unsigned	 i, up = 0;

	for (i = 0; i < r->n; i++) {
		recv += r->cl[i].received;
		recon += r->cl[i].reconnects;
		up += r->cl[i].state == CL_BODY;
	}
	for (i = 0; i < CHECK_SRC_MAX; i++)
		exp += r->src_max[i];
	fprintf(stderr, "\r%6.1fs  streams %u/%u  published %" PRIu64
	    "  received %" PRIu64 "/%" PRIu64 "  reconnects %" PRIu64 "   %s",
	    (double)(now_us() - r->t0) / 1e6, up, r->n, r->pub_ok, recv,
	    exp * r->n, recon, final ? "\n" : "");
}

/* ------------------------------------------------------------------ */
/* check_run(): the loop.                                              */

static void
timers(struct run *r)
{
	const struct check_opts *o = r->o;
	int64_t		 now = now_us(), since;
	unsigned	 i;
	struct client	*c;

	for (i = 0; i < r->n; i++) {
		c = &r->cl[i];
		if (c->state == CL_WAIT && now >= c->reconnect_at &&
		    r->connecting < CONNECTING_MAX)
			client_connect(r, c);
	}
	if (r->publishing == 0)
		return;
	since = now - r->t_pub0;
	if (o->stall_n > 0 && r->stall_state == 0 &&
	    since >= (int64_t)(o->stall_at * 1e6)) {
		for (i = 0; i < o->stall_n && i < r->n; i++) {
			c = &r->cl[i];
			if (!o->stall_offline)
				client_set_reading(r, c, 0);
			else if (c->state != CL_WAIT && c->state != CL_DEAD) {
				/* --offline: gone, back when the stall ends */
				client_close(r, c, (int64_t)(o->stall_for * 1e6));
				c->reconnects++;
			}
		}
		r->stall_state = 1;
	}
	if (r->stall_state == 1 &&
	    since >= (int64_t)((o->stall_at + o->stall_for) * 1e6)) {
		for (i = 0; i < o->stall_n && i < r->n && !o->stall_offline; i++)
			client_set_reading(r, &r->cl[i], 1);
		r->stall_state = 2;
		r->t_last_progress = now;
	}
	if (o->burst_at >= 0 && !r->burst_done &&
	    since >= (int64_t)(o->burst_at * 1e6)) {
		for (i = 0; i < r->n; i++) {
			c = &r->cl[i];
			if (c->state == CL_BODY || c->state == CL_HEAD) {
				c->chaos_drops++;
				client_close(r, c, (int64_t)(rng_unit(&r->rng)
				    * 10000));
			}
		}
		r->burst_done = 1;
	}
}

static int
all_complete(struct run *r)
{
	unsigned	 i;

	for (i = 0; i < r->n; i++)
		if (r->cl[i].state != CL_DEAD && !client_complete(r,
		    &r->cl[i]))
			return 0;
	return 1;
}

/* Without a publisher of ours: how many numbers anyone has seen. */
static uint64_t
seen_range(const struct run *r)
{
	uint64_t	 n = 0;
	unsigned	 s;

	for (s = 0; s < CHECK_SRC_MAX; s++)
		if (r->src_max[s] > 0)
			n += r->src_max[s] - r->src_min[s] + 1;
	return n;
}

static int
all_connected(const struct run *r)
{
	unsigned	 i;

	for (i = 0; i < r->n; i++)
		if (r->cl[i].state != CL_BODY)
			return 0;
	return 1;
}

static int
run_setup(struct run *r, const struct check_opts *o)
{
	char		 tmp[256];
	unsigned	 i;

	memset(r, 0, sizeof(*r));
	r->ep = -1;
	r->o = o;
	r->rng = o->seed ? o->seed : 0x9e3779b97f4a7c15ULL;
	if (url_parse(o->url, &r->url) < 0)
		return -1;
	if (o->publish_url != NULL && url_parse(o->publish_url, &r->purl) < 0)
		return -1;
	if (o->topic != NULL)
		snprintf(tmp, sizeof(tmp), "%s", o->topic);
	else
		query_param(r->url.path, "topic", tmp, sizeof(tmp));
	urlencode(r->topic, sizeof(r->topic), tmp, strlen(tmp));
	r->n = o->clients;
	r->npub = o->publish_url ? o->publishers : 0;
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->rbuf = malloc(RBUF_SIZE);
	r->cl = calloc(r->n, sizeof(*r->cl));
	r->pub = calloc(r->npub ? r->npub : 1, sizeof(*r->pub));
	if (r->ep == -1 || r->rbuf == NULL || r->cl == NULL || r->pub == NULL)
		return -1;
	for (i = 0; i < r->n; i++) {
		r->cl[i].run = r;
		r->cl[i].idx = i;
		r->cl[i].fd = -1;
		r->cl[i].retry_ms = CHECK_RETRY_DEFAULT_MS;
		if (sseparse_init(&r->cl[i].sp, o->max_event + 1024,
		    o->max_event + 1024, client_on_item, &r->cl[i]) < 0)
			return -1;
	}
	for (i = 0; i < r->npub; i++) {
		r->pub[i].src = i;
		r->pub[i].fd = -1;
	}
	return 0;
}

static void
run_free(struct run *r)
{
	unsigned	 i, s;

	for (i = 0; r->cl != NULL && i < r->n; i++) {
		if (r->cl[i].fd != -1)
			close(r->cl[i].fd);
		free(r->cl[i].head);
		sseparse_free(&r->cl[i].sp);
		for (s = 0; s < CHECK_SRC_MAX; s++) {
			bits_free(&r->cl[i].src[s].seen);
			bits_free(&r->cl[i].src[s].excused);
		}
	}
	for (i = 0; r->pub != NULL && i < r->npub; i++)
		if (r->pub[i].fd != -1)
			close(r->pub[i].fd);
	for (s = 0; s < CHECK_SRC_MAX; s++)
		bits_free(&r->uncertain[s]);
	free(r->cl);
	free(r->pub);
	free(r->rbuf);
	if (r->ep != -1)
		close(r->ep);
}

int
check_run(const struct check_opts *o)
{
	struct run		 r;
	struct epoll_event	 evs[256];
	struct sigaction	 sa;
	int			 i, n, rc = 2;
	int64_t			 now, settle = (int64_t)(o->settle * 1e6);
	uint64_t		 sum;
	unsigned		 k;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (run_setup(&r, o) < 0)
		goto out;
	r.show_progress = o->progress < 0 ? isatty(2) && !o->json :
	    o->progress;
	r.t0 = r.t_progress = now_us();
	while (!stop_flag) {
		n = epoll_wait(r.ep, evs, 256, LOOP_TICK_MS);
		if (n == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag & PUB_TAG) {
				pub_event(&r, &r.pub[tag & 0xffff],
				    evs[i].events);
				continue;
			}
			struct client *c = &r.cl[tag];
			if (c->fd == -1)
				continue;
			if (c->state == CL_CONNECTING ||
			    (evs[i].events & EPOLLOUT))
				client_writable(&r, c);
			if (c->fd != -1 && c->state != CL_CONNECTING &&
			    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				client_readable(&r, c);
		}
		timers(&r);
		now = now_us();
		if (r.publishing == 0) {
			if (all_connected(&r) || now - r.t0 >=
			    (int64_t)(o->connect_wait * 1e6)) {
				if (!all_connected(&r))
					fprintf(stderr, "ssereplay-check: not "
					    "every client connected within "
					    "%.0f s; going on\n",
					    o->connect_wait);
				r.publishing = 1;
				r.t_pub0 = now;
			}
		}
		if (r.publishing == 1) {
			if (r.npub > 0)
				pub_tick(&r);
			else if (pub_target_reached(&r) || (o->events > 0 &&
			    seen_range(&r) >= o->events &&
			    all_complete(&r))) {
				r.publishing = 2;
				r.t_pubend = r.t_last_progress = now;
			}
		}
		if (r.show_progress && now - r.t_progress >=
		    PROGRESS_MS * 1000) {
			progress(&r, 0);
			r.t_progress = now;
		}
		if (r.publishing != 2)
			continue;
		/* Settling: every client complete, or no progress. */
		for (sum = 0, k = 0; k < r.n; k++)
			sum += r.cl[k].received + r.cl[k].reconnects;
		if (sum != r.progress_mark) {
			r.progress_mark = sum;
			r.t_last_progress = now;
		}
		if (r.stall_state == 1)
			continue;
		if (all_complete(&r) || now - r.t_last_progress >= settle)
			break;
	}
	if (r.show_progress)
		progress(&r, 1);
	rc = report(&r);
out:
	run_free(&r);
	return rc;
}

/* ------------------------------------------------------------------ */
/* check_probe(): a deployment path, step by step.                     */

#define PROBE_ITEMS_MAX	256

struct pitem {
	enum sseparse_kind kind;
	int64_t		 t;		/* monotonic us of arrival */
	uint64_t	 seq;		/* 0 if none */
	char		 id[SSEPARSE_ID_MAX + 1];
};

struct pstream {
	int		 fd;
	struct httpc_head head;
	struct httpc_body body;
	struct sseparse	 sp;
	const char	*seq_field;
	int		 closed;
	int64_t		 t_open, t_head, t_closed, t_last;
	struct pitem	 it[PROBE_ITEMS_MAX];
	unsigned	 nit;
	uint64_t	 bytes;
};

static int
pstream_item(void *arg, const struct sseparse_item *it)
{
	struct pstream	*ps = arg;
	struct pitem	*p;

	if (ps->nit >= PROBE_ITEMS_MAX)
		return 0;
	p = &ps->it[ps->nit++];
	memset(p, 0, sizeof(*p));
	p->kind = it->kind;
	p->t = now_us();
	if (it->kind == SSEPARSE_EVENT) {
		snprintf(p->id, sizeof(p->id), "%.*s", (int)it->id_len,
		    it->id);
		if (data_u64(it->data, it->data_len, ps->seq_field,
		    &p->seq) < 0)
			p->seq = 0;
	}
	return 0;
}

/* Connect with a deadline; a blocking fd, or -1. */
static int
connect_wait(const struct url *u, int64_t deadline)
{
	struct pollfd	 pfd;
	int		 fd, err = 0, fl;
	socklen_t	 el = sizeof(err);
	int64_t		 left;

	if ((fd = sock_connect(u, 0)) == -1)
		return -1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	left = (deadline - now_us()) / 1000;
	if (left < 0 || poll(&pfd, 1, (int)left) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 || err) {
		close(fd);
		return -1;
	}
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

static int
send_all(int fd, const char *b, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
pstream_close(struct pstream *ps)
{
	if (ps->fd != -1)
		close(ps->fd);
	ps->fd = -1;
	sseparse_free(&ps->sp);
}

static int
pstream_open(struct pstream *ps, const struct url *u, const char *lei,
    int gzip, const char *seq_field)
{
	const char	*hdrs[5];
	char		 req[CHECK_REQ_MAX], leih[SSEPARSE_ID_MAX + 32];
	size_t		 k = 0;
	ssize_t		 n;

	memset(ps, 0, sizeof(*ps));
	ps->fd = -1;
	ps->seq_field = seq_field;
	if (sseparse_init(&ps->sp, 0, 0, pstream_item, ps) < 0)
		return -1;
	hdrs[k++] = "Accept: text/event-stream";
	hdrs[k++] = "Cache-Control: no-cache";
	if (gzip)	/* what browsers send */
		hdrs[k++] = "Accept-Encoding: gzip, deflate, br";
	if (lei != NULL) {
		snprintf(leih, sizeof(leih), "Last-Event-ID: %s", lei);
		hdrs[k++] = leih;
	}
	hdrs[k] = NULL;
	n = httpc_request(req, sizeof(req), "GET", u->hostport, u->path, hdrs,
	    NULL, 0);
	ps->t_open = now_us();
	if (n < 0 || (ps->fd = connect_wait(u, now_us() + 5000000)) == -1 ||
	    send_all(ps->fd, req, (size_t)n) < 0)
		return -1;
	httpc_head_init(&ps->head);
	return 0;
}

/* Read until the deadline, the close, or want items have arrived. */
static void
pstream_pump(struct pstream *ps, int64_t deadline, unsigned want)
{
	struct pollfd	 pfd;
	char		 buf[16384];
	ssize_t		 n;
	size_t		 used, out;
	int64_t		 left;
	int		 rc;

	while (ps->fd != -1 && !ps->closed && (want == 0 || ps->nit < want)) {
		left = (deadline - now_us()) / 1000;
		if (left <= 0)
			return;
		pfd.fd = ps->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(ps->fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto closed;
		ps->bytes += (uint64_t)n;
		ps->t_last = now_us();
		used = 0;
		if (!ps->head.done) {
			rc = httpc_head_feed(&ps->head, buf, (size_t)n, &used);
			if (rc < 0)
				goto closed;
			if (rc == HTTPC_MORE)
				continue;
			ps->t_head = now_us();
			httpc_body_init(&ps->body, &ps->head);
			if (ps->head.content_encoding[0] != '\0')
				continue;	/* cannot decode: timing only */
		}
		if (ps->head.content_encoding[0] != '\0')
			continue;
		rc = httpc_body_decode(&ps->body, buf + used,
		    (size_t)n - used, &out);
		if (rc < 0 || sseparse_feed(&ps->sp, buf + used, out) < 0 ||
		    rc == HTTPC_DONE)
			goto closed;
	}
	return;
closed:
	ps->closed = 1;
	ps->t_closed = now_us();
}

/* One blocking publish; the HTTP status, or -1. */
static int
probe_publish(const struct check_opts *o, const struct url *pu,
    const char *topic, uint64_t seq)
{
	struct run	 r;
	struct pubconn	*p;
	struct httpc_head *h;
	char		 buf[4096];
	size_t		 used;
	ssize_t		 n;
	int		 fd, rc = -1;
	int64_t		 deadline = now_us() + 10000000;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.purl = *pu;
	snprintf(r.topic, sizeof(r.topic), "%s", topic);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	h = &p->head;
	p->seq = seq;
	if (pub_build(&r, p) < 0 || (fd = connect_wait(pu, deadline)) == -1)
		goto out;
	if (send_all(fd, p->req, p->req_len) == 0) {
		httpc_head_init(h);
		while (!h->done) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			int64_t left = (deadline - now_us()) / 1000;

			if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
				break;
			if ((n = read(fd, buf, sizeof(buf))) <= 0)
				break;
			if (httpc_head_feed(h, buf, (size_t)n, &used) < 0)
				break;
		}
		if (h->done)
			rc = h->status;
	}
	close(fd);
out:
	free(p);
	return rc;
}

struct finding {
	const char	*check;
	const char	*status;	/* "ok", "problem", "unknown" */
	char		 detail[512];
	const char	*fix;
};

#define FIX_BUFFER "lighttpd: server.stream-response-body = 2; Apache " \
	"mod_proxy_fcgi: flushpackets=on on the ProxyPass (or " \
	"<Proxy> ProxySet flushpackets=on) and no mod_deflate on the " \
	"stream; nginx: fastcgi_buffering off / proxy_buffering off (or " \
	"X-Accel-Buffering: no); a CDN: no response buffering for " \
	"text/event-stream"
#define FIX_COMPRESS "lighttpd: take text/event-stream out of " \
	"deflate.mimetypes; Apache: SetEnvIf Request_URI /events$ " \
	"no-gzip=1 (mod_deflate), or RemoveOutputFilter; nginx: gzip off in " \
	"the stream's location; a CDN: exclude text/event-stream from " \
	"compression"
#define FIX_LEI "forward the Last-Event-ID request header (Apache: no " \
	"RequestHeader unset Last-Event-ID; nginx: no proxy_set_header " \
	"Last-Event-ID \"\"; a CDN: add it to the forwarded headers), or " \
	"resume with ?lastEventId= in the URL"
#define FIX_IDLE "keep the server's heartbeat below every idle timeout on " \
	"the path: lighttpd server.max-write-idle; Apache Timeout / " \
	"ProxyTimeout (or timeout= on the ProxyPass); nginx " \
	"proxy_read_timeout / fastcgi_read_timeout; a load balancer's or " \
	"CDN's idle timeout; or lower the heartbeat (ssereplay: heartbeat)"
#define FIX_CTYPE "serve the stream as text/event-stream (a proxy rewrote " \
	"it, or the URL is not the stream)"

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static int
probe_report(const struct check_opts *o, struct finding *fd, unsigned nfd)
{
	unsigned	 i, problems = 0;

	for (i = 0; i < nfd; i++)
		problems += strcmp(fd[i].status, "problem") == 0;
	if (o->json) {
		printf("{\"url\":");
		json_str(stdout, o->url);
		printf(",\"findings\":[");
		for (i = 0; i < nfd; i++) {
			printf("%s{\"check\":\"%s\",\"status\":\"%s\","
			    "\"detail\":", i ? ",\n" : "\n", fd[i].check,
			    fd[i].status);
			json_str(stdout, fd[i].detail);
			printf(",\"fix\":");
			if (fd[i].fix && strcmp(fd[i].status, "ok") != 0)
				json_str(stdout, fd[i].fix);
			else
				printf("null");
			printf("}");
		}
		printf("],\"problems\":%u,\"ok\":%s}\n", problems,
		    problems ? "false" : "true");
	} else {
		printf("ssereplay-check --probe %s\n", o->url);
		for (i = 0; i < nfd; i++) {
			printf("%-8s %-12s %s\n", fd[i].status, fd[i].check,
			    fd[i].detail);
			if (fd[i].fix && strcmp(fd[i].status, "ok") != 0)
				printf("%21sfix: %s\n", "", fd[i].fix);
		}
		printf("%s: %u problem(s) on the path\n",
		    problems ? "FAIL" : "OK", problems);
	}
	fflush(stdout);
	return problems ? 1 : 0;
}

int
check_probe(const struct check_opts *o)
{
	struct url		 u, pu;
	struct pstream		*ps = NULL;
	struct finding		 fd[8];
	struct sigaction	 sa;
	int64_t			 pub_t[64], arr_t[64], t, maxd = 0, cut;
	char			 topic[256], tmp[256], lastid[SSEPARSE_ID_MAX + 1];
	unsigned		 nfd = 0, i, k, nev, got = 0, clumps = 0;
	unsigned		 want, replayed = 0, comments = 0;
	uint64_t		 base, seq;
	int			 rc = 2, st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	memset(fd, 0, sizeof(fd));
	nev = o->probe_events < 2 ? 2 : o->probe_events > 64 ? 64 :
	    o->probe_events;
	if (url_parse(o->url, &u) < 0 || (o->publish_url != NULL &&
	    url_parse(o->publish_url, &pu) < 0))
		return 2;
	if (o->topic != NULL)
		snprintf(tmp, sizeof(tmp), "%s", o->topic);
	else
		query_param(u.path, "topic", tmp, sizeof(tmp));
	urlencode(topic, sizeof(topic), tmp, strlen(tmp));
	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return 2;

	/* 1. The head, asking for compression as browsers do. */
	if (pstream_open(ps, &u, NULL, 1, o->seq_field) < 0) {
		fprintf(stderr, "ssereplay-check: cannot reach %s\n", o->url);
		goto out;
	}
	pstream_pump(ps, now_us() + 2000000, 0);
	if (!ps->head.done) {
		fd[nfd].check = "compression";
		fd[nfd].status = "unknown";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "no response head within 2 s (see buffering)");
		nfd++;
	} else {
		fd[nfd].check = "compression";
		fd[nfd].fix = FIX_COMPRESS;
		if (ps->head.content_encoding[0] != '\0' &&
		    strcmp(ps->head.content_encoding, "identity") != 0) {
			fd[nfd].status = "problem";
			snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
			    "the stream is sent with Content-Encoding: %s "
			    "(compressors hold events back until their "
			    "buffer fills)", ps->head.content_encoding);
		} else {
			fd[nfd].status = "ok";
			snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
			    "not compressed (asked with Accept-Encoding: "
			    "gzip, deflate, br)");
		}
		nfd++;
		fd[nfd].check = "content-type";
		fd[nfd].fix = FIX_CTYPE;
		if (ps->head.status != 200 || strncmp(ps->head.content_type,
		    "text/event-stream", 17) != 0) {
			fd[nfd].status = "problem";
			snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
			    "status %d, Content-Type \"%s\"", ps->head.status,
			    ps->head.content_type);
		} else {
			fd[nfd].status = "ok";
			snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
			    "200, %s", ps->head.content_type);
		}
		nfd++;
	}
	pstream_close(ps);

	if (o->publish_url == NULL) {
		fd[nfd].check = "buffering";
		fd[nfd].status = "unknown";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "not measured: needs --publish-url");
		nfd++;
		goto idle;
	}

	/*
	 * 2. Buffering: events published at known intervals must arrive at
	 * those intervals, each soon after its publish was acknowledged.
	 */
	base = (uint64_t)(real_us() / 1000) % 1000000000ULL * 100;
	if (pstream_open(ps, &u, NULL, 0, o->seq_field) < 0)
		goto out;
	pstream_pump(ps, now_us() + 1000000, 0);
	for (i = 0; i < nev; i++) {
		st = probe_publish(o, &pu, topic, base + i + 1);
		pub_t[i] = now_us();
		arr_t[i] = 0;
		if (st / 100 != 2) {
			fprintf(stderr, "ssereplay-check: publishing got %d\n",
			    st);
			goto out;
		}
		pstream_pump(ps, pub_t[i] + (int64_t)(o->probe_interval *
		    1e6), 0);
	}
	pstream_pump(ps, now_us() + 3000000, 0);
	lastid[0] = '\0';
	want = nev / 2;		/* resume after this one */
	for (k = 0; k < ps->nit; k++) {
		seq = ps->it[k].seq;
		if (ps->it[k].kind != SSEPARSE_EVENT || seq <= base ||
		    seq > base + nev || arr_t[seq - base - 1] != 0)
			continue;
		arr_t[seq - base - 1] = ps->it[k].t;
		if (seq == base + want)
			snprintf(lastid, sizeof(lastid), "%s", ps->it[k].id);
	}
	for (i = 0, t = 0; i < nev; i++) {
		if (arr_t[i] == 0)
			continue;
		got++;
		if (arr_t[i] - pub_t[i] > maxd)
			maxd = arr_t[i] - pub_t[i];
		/* a clump: arrivals closer than a quarter interval */
		if (t == 0 || arr_t[i] - t > (int64_t)(o->probe_interval *
		    1e6 / 4))
			clumps++;
		t = arr_t[i];
	}
	fd[nfd].check = "buffering";
	fd[nfd].fix = FIX_BUFFER;
	if (!ps->head.done) {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "no response head at all while %u events were published "
		    "over %.1f s: the path holds the whole response until it "
		    "ends", nev, (double)(now_us() - ps->t_open) / 1e6);
	} else if (got == 0) {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "headers arrived after %.0f ms but none of %u events "
		    "published over %.1f s did (%" PRIu64 " body bytes): "
		    "the path buffers the body",
		    (double)(ps->t_head - ps->t_open) / 1000, nev,
		    nev * o->probe_interval, ps->bytes);
	} else if (got < nev || clumps < got || maxd > 1000000) {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "%u of %u events arrived, in %u clump(s), up to %.0f ms "
		    "after their publish: the path buffers", got, nev,
		    clumps, (double)maxd / 1000);
	} else {
		fd[nfd].status = "ok";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "%u events published %.0f ms apart arrived one by one, "
		    "at most %.0f ms after their publish", nev,
		    o->probe_interval * 1000, (double)maxd / 1000);
	}
	nfd++;
	pstream_close(ps);

	/* 3. Last-Event-ID: a reconnect from the middle gets the rest. */
	fd[nfd].check = "last-event-id";
	fd[nfd].fix = FIX_LEI;
	if (lastid[0] == '\0') {
		fd[nfd].status = "unknown";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "not measured: event %u did not arrive with an id", want);
		nfd++;
		goto idle;
	}
	if (pstream_open(ps, &u, lastid, 0, o->seq_field) < 0)
		goto out;
	pstream_pump(ps, now_us() + 3000000, 0);
	for (k = 0; k < ps->nit; k++)
		if (ps->it[k].kind == SSEPARSE_EVENT &&
		    ps->it[k].seq > base + want && ps->it[k].seq <= base + nev)
			replayed++;
	if (replayed == nev - want) {
		fd[nfd].status = "ok";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "reconnecting with Last-Event-ID: %s replayed the %u "
		    "later events", lastid, replayed);
	} else {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "reconnecting with Last-Event-ID: %s replayed %u of the "
		    "%u later events: the header is stripped on the way (or "
		    "the server does not resume)", lastid, replayed,
		    nev - want);
	}
	nfd++;
	pstream_close(ps);

idle:
	/* 4. Silence: the heartbeat must come before any idle cut. */
	if (pstream_open(ps, &u, NULL, 0, o->seq_field) < 0)
		goto out;
	pstream_pump(ps, now_us() + (int64_t)(o->idle * 1e6), 0);
	for (k = 0; k < ps->nit; k++)
		comments += ps->it[k].kind == SSEPARSE_COMMENT;
	fd[nfd].check = "idle";
	fd[nfd].fix = FIX_IDLE;
	cut = ps->t_closed - (ps->t_last ? ps->t_last : ps->t_open);
	if (ps->closed && comments == 0) {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "the stream was cut after %.1f s of silence, before any "
		    "heartbeat arrived", (double)(ps->t_closed - ps->t_open) /
		    1e6);
	} else if (ps->closed) {
		fd[nfd].status = "problem";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "%u heartbeat(s) arrived, yet the stream was cut %.1f s "
		    "after the last byte (%.1f s after it opened): a limit "
		    "shorter than the heartbeat interval, or on the whole "
		    "response", comments, (double)cut / 1e6,
		    (double)(ps->t_closed - ps->t_open) / 1e6);
	} else if (comments == 0) {
		fd[nfd].status = "unknown";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "no heartbeat and no cut within %.0f s (--idle longer "
		    "than the heartbeat tells more)", o->idle);
	} else {
		for (k = 0; k < ps->nit; k++)
			if (ps->it[k].kind == SSEPARSE_COMMENT)
				break;
		fd[nfd].status = "ok";
		snprintf(fd[nfd].detail, sizeof(fd[nfd].detail),
		    "%u heartbeat(s) in %.0f s of silence, the first after "
		    "%.1f s; the stream stayed open", comments, o->idle,
		    (double)(ps->it[k].t - ps->t_open) / 1e6);
	}
	nfd++;
	pstream_close(ps);
	rc = probe_report(o, fd, nfd);
out:
	if (ps != NULL)
		pstream_close(ps);
	free(ps);
	return rc;
}

void
check_defaults(struct check_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->clients = 1;
	o->pause_min = 10;
	o->pause_max = 250;
	o->publish_format = "form";
	o->publishers = 1;
	o->seq_field = "seq";
	o->gap_event = "gap";
	o->progress = -1;
	o->settle = 10;
	o->connect_wait = 10;
	o->stall_rcvbuf = 4096;
	o->burst_at = -1;
	o->max_event = CHECK_EVENT_MAX;
	o->show_clients = 20;
	o->idle = 20;
	o->probe_events = 6;
	o->probe_interval = 0.5;
}
