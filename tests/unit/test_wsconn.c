/*
 * test_wsconn.c: backend/wsconn.c, fed client frames from memory.
 *
 * The test plays the client: it builds frames (masked with a key that
 * changes from frame to frame, unless a case wants them bare), hands them
 * to the connection through the recv callback, and parses what the
 * connection sends back, checking every server frame is well formed
 * (FIN, no mask, shortest length) before looking at opcodes, close codes
 * and payloads.
 *
 * The scenario table runs each case with the input cut into reads of
 * every size in READ_SIZES, so frame headers, mask keys, payloads and
 * UTF-8 sequences get split at every point.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "wsconn.h"

#define FIN	0x80
#define RSV1	0x40
#define RSV2	0x20
#define RSV3	0x10
#define OP_CONT	0x0
#define OP_TEXT	0x1
#define OP_BIN	0x2
#define OP_CLOSE 0x8
#define OP_PING	0x9
#define OP_PONG	0xa

#define MAX_MSGS	8
#define MAX_FRAMES	64
#define MSG_MAX		1024	/* max_msg unless a case says otherwise */

/* What the input does when it runs out. */
enum rend { END_EAGAIN, END_EOF, END_ERROR };

struct peer {
	unsigned char	*in;		/* what the client sent */
	size_t		 inlen, incap, inoff;
	size_t		 rchunk;	/* bytes per recv; 0: all asked */
	enum rend	 rend;
	unsigned char	*out;		/* what the server sent */
	size_t		 outlen, outcap;
	size_t		 wchunk;	/* bytes per send; 0: all offered */
	int		 wblock;	/* every other send says EAGAIN */
	int		 werr;		/* send fails with this errno */
	unsigned	 sends;
	char		*msgs[MAX_MSGS];	/* on_text's messages */
	size_t		 msglen[MAX_MSGS];
	int		 nmsgs;
	int		 echo;		/* on_text queues the message back */
	unsigned char	 keyseed;	/* varies the mask key */
	struct wsconn	*c;
};

/* A frame the server sent, pointing into peer.out. */
struct sframe {
	unsigned		 b0;	/* FIN, RSV, opcode */
	const unsigned char	*data;
	size_t			 len;
};

/* ------------------------------------------------------------------ */
/* The io callbacks.                                                   */

static ssize_t
t_recv(void *arg, void *buf, size_t len)
{
	struct peer	*p = arg;
	size_t		 n = p->inlen - p->inoff;

	if (n == 0) {
		switch (p->rend) {
		case END_EOF:
			return 0;
		case END_ERROR:
			errno = ECONNRESET;
			return -1;
		case END_EAGAIN:
			break;
		}
		errno = EAGAIN;
		return -1;
	}
	if (n > len)
		n = len;
	if (p->rchunk != 0 && n > p->rchunk)
		n = p->rchunk;
	memcpy(buf, p->in + p->inoff, n);
	p->inoff += n;
	return (ssize_t)n;
}

static ssize_t
t_send(void *arg, const void *buf, size_t len)
{
	struct peer	*p = arg;
	size_t		 n = len;

	if (p->werr != 0) {
		errno = p->werr;
		return -1;
	}
	if (p->wblock && p->sends++ % 2 == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (p->wchunk != 0 && n > p->wchunk)
		n = p->wchunk;
	grow(&p->out, &p->outcap, p->outlen + n);
	memcpy(p->out + p->outlen, buf, n);
	p->outlen += n;
	return (ssize_t)n;
}

static void
t_on_text(void *arg, const char *msg, size_t len)
{
	struct peer	*p = arg;

	assert_true(p->nmsgs < MAX_MSGS);
	p->msgs[p->nmsgs] = malloc(len + 1);
	assert_non_null(p->msgs[p->nmsgs]);
	memcpy(p->msgs[p->nmsgs], msg, len);
	p->msgs[p->nmsgs][len] = '\0';
	p->msglen[p->nmsgs] = len;
	p->nmsgs++;
	if (p->echo)
		assert_int_equal(wsconn_queue_text(p->c, msg, len), 0);
}

static const struct wsconn_io t_io = { t_recv, t_send, t_on_text };

static struct peer *
peer_new(size_t max_msg)
{
	struct peer	*p;

	p = calloc(1, sizeof(*p));
	assert_non_null(p);
	assert_int_equal(wsconn_new(&p->c, max_msg, &t_io, p), 0);
	assert_non_null(p->c);
	return p;
}

static void
peer_free(struct peer *p)
{
	int	 i;

	if (p == NULL)
		return;
	wsconn_free(p->c);
	for (i = 0; i < p->nmsgs; i++)
		free(p->msgs[i]);
	free(p->in);
	free(p->out);
	free(p);
}

/* ------------------------------------------------------------------ */
/* The client side: building frames.                                   */

static void
put(struct peer *p, const void *b, size_t n)
{
	grow(&p->in, &p->incap, p->inlen + n);
	if (n > 0)
		memcpy(p->in + p->inlen, b, n);
	p->inlen += n;
}

/* One frame with first byte b0; masked unless bare. Shortest length. */
static void
frame_mask(struct peer *p, unsigned b0, const void *payload, size_t len,
    int masked)
{
	const unsigned char	*pl = payload;
	unsigned char		 h[14], key[4];
	size_t			 hl = 0, i;
	unsigned		 m = masked ? 0x80 : 0;

	h[hl++] = (unsigned char)b0;
	if (len < 126)
		h[hl++] = (unsigned char)(m | len);
	else if (len <= 0xffff) {
		h[hl++] = (unsigned char)(m | 126);
		h[hl++] = (unsigned char)(len >> 8);
		h[hl++] = (unsigned char)len;
	} else {
		h[hl++] = (unsigned char)(m | 127);
		for (i = 0; i < 8; i++)
			h[hl++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	key[0] = (unsigned char)(0x37 + p->keyseed);
	key[1] = (unsigned char)(0xfa ^ p->keyseed);
	key[2] = (unsigned char)(0x21 + 3 * p->keyseed);
	key[3] = 0x3d;
	p->keyseed++;
	if (masked) {
		memcpy(h + hl, key, 4);
		hl += 4;
	}
	put(p, h, hl);
	grow(&p->in, &p->incap, p->inlen + len);
	for (i = 0; i < len; i++)
		p->in[p->inlen + i] = pl[i] ^ (masked ? key[i % 4] : 0);
	p->inlen += len;
}

static void
frame(struct peer *p, unsigned b0, const void *payload, size_t len)
{
	frame_mask(p, b0, payload, len, 1);
}

static void
text(struct peer *p, const char *s)
{
	frame(p, FIN | OP_TEXT, s, strlen(s));
}

/* A close frame with code and reason of rlen bytes. */
static void
closef(struct peer *p, uint16_t code, const char *reason, size_t rlen)
{
	unsigned char	 b[2 + 125];

	assert_true(rlen <= 123);
	b[0] = (unsigned char)(code >> 8);
	b[1] = (unsigned char)code;
	memcpy(b + 2, reason, rlen);
	frame(p, FIN | OP_CLOSE, b, 2 + rlen);
}

/* n bytes of 'x' as the payload of a frame with first byte b0. */
static void
filler(struct peer *p, unsigned b0, size_t n)
{
	char	*b;

	b = malloc(n > 0 ? n : 1);
	assert_non_null(b);
	memset(b, 'x', n);
	frame(p, b0, b, n);
	free(b);
}

/* ------------------------------------------------------------------ */
/* The server side: parsing what it sent.                              */

/*
 * Split p->out into frames, checking each is a server frame: FIN set
 * (we never fragment), no RSV, no mask, shortest length, complete.
 */
static int
parse_out(const struct peer *p, struct sframe *f, int max)
{
	size_t		 off = 0, hl, i;
	uint64_t	 len;
	int		 n = 0;

	while (off < p->outlen) {
		assert_true(n < max);
		assert_true(p->outlen - off >= 2);
		f[n].b0 = p->out[off];
		assert_true(f[n].b0 & FIN);
		assert_int_equal(f[n].b0 & (RSV1 | RSV2 | RSV3), 0);
		assert_int_equal(p->out[off + 1] & 0x80, 0);	/* unmasked */
		len = p->out[off + 1] & 0x7f;
		hl = 2;
		if (len == 126) {
			assert_true(p->outlen - off >= 4);
			len = (uint64_t)p->out[off + 2] << 8 | p->out[off + 3];
			assert_true(len >= 126);
			hl = 4;
		} else if (len == 127) {
			assert_true(p->outlen - off >= 10);
			len = 0;
			for (i = 0; i < 8; i++)
				len = len << 8 | p->out[off + 2 + i];
			assert_true(len > 0xffff);
			hl = 10;
		}
		assert_true(p->outlen - off - hl >= len);
		f[n].data = p->out + off + hl;
		f[n].len = (size_t)len;
		off += hl + (size_t)len;
		n++;
	}
	return n;
}

/* The code of a close frame; 0 if it has none. */
static unsigned
code_of(const struct sframe *f)
{
	assert_int_equal(f->b0 & 0x0f, OP_CLOSE);
	if (f->len == 0)
		return 0;
	assert_true(f->len >= 2);
	return (unsigned)f->data[0] << 8 | f->data[1];
}

/* Read everything, flush everything. */
static void
pump(struct peer *p)
{
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(wsconn_want_write(p->c), 0);
}

/* The server sent exactly one frame, a close with code. */
static void
expect_only_close(struct peer *p, unsigned code)
{
	struct sframe	 f[MAX_FRAMES];
	int		 n;

	n = parse_out(p, f, MAX_FRAMES);
	assert_int_equal(n, 1);
	assert_int_equal(code_of(&f[0]), code);
	assert_true(wsconn_closing(p->c));
	assert_true(wsconn_finished(p->c));
	assert_int_equal(wsconn_close_sent(p->c), code);
}

/* ------------------------------------------------------------------ */
/* Scenarios: input, then what must come of it, for every read size.   */

#define CLOSE_EMPTY	1	/* a close frame without a code */

struct scen {
	void		(*build)(struct peer *);
	size_t		 max_msg;	/* 0: MSG_MAX */
	unsigned	 close;		/* 0: none; CLOSE_EMPTY; or the code */
	const char	*reason;	/* the close's reason, if close */
	const char	*msgs[4];	/* on_text's messages, NULL-ended */
	const char	*pongs[4];	/* pong payloads, NULL-ended */
};

static const size_t READ_SIZES[] = { 0, 1, 2, 3, 5, 7, 13, 64 };

static void
run_scen_once(const struct scen *s, size_t rchunk)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];
	int		 n, i, npongs = 0;

	p = peer_new(s->max_msg != 0 ? s->max_msg : MSG_MAX);
	p->rchunk = rchunk;
	s->build(p);
	pump(p);

	for (i = 0; s->msgs[i] != NULL; i++) {
		assert_true(i < p->nmsgs);
		assert_int_equal(p->msglen[i], strlen(s->msgs[i]));
		assert_memory_equal(p->msgs[i], s->msgs[i], p->msglen[i]);
	}
	assert_int_equal(p->nmsgs, i);

	n = parse_out(p, f, MAX_FRAMES);
	for (i = 0; i < n && (f[i].b0 & 0x0f) == OP_PONG; i++) {
		assert_non_null(s->pongs[npongs]);
		assert_int_equal(f[i].len, strlen(s->pongs[npongs]));
		assert_memory_equal(f[i].data, s->pongs[npongs], f[i].len);
		npongs++;
	}
	assert_null(s->pongs[npongs]);
	if (s->close == 0) {
		assert_int_equal(i, n);
		assert_false(wsconn_closing(p->c));
		assert_false(wsconn_finished(p->c));
		assert_int_equal(wsconn_close_sent(p->c), 0);
	} else {
		/* The close is the last frame, and finishes it. */
		assert_int_equal(i, n - 1);
		assert_int_equal(code_of(&f[i]),
		    s->close == CLOSE_EMPTY ? 0 : s->close);
		if (s->reason != NULL) {
			assert_int_equal(f[i].len - 2, strlen(s->reason));
			assert_memory_equal(f[i].data + 2, s->reason,
			    f[i].len - 2);
		}
		assert_true(wsconn_closing(p->c));
		assert_true(wsconn_finished(p->c));
		assert_int_equal(wsconn_close_sent(p->c),
		    s->close == CLOSE_EMPTY ? 0 : s->close);
		/* Closing: nothing more is queued. */
		assert_int_equal(wsconn_queue_text(p->c, "x", 1), -1);
		assert_int_equal(wsconn_ping(p->c), -1);
	}
	peer_free(p);
}

static void
run_scen(void **state)
{
	const struct scen	*s = *state;
	size_t			 i;

	for (i = 0; i < sizeof(READ_SIZES) / sizeof(READ_SIZES[0]); i++)
		run_scen_once(s, READ_SIZES[i]);
}

#define SCEN(nm, ...)							\
	{ .name = nm, .test_func = run_scen,				\
	  .initial_state = &(struct scen){ __VA_ARGS__ } }

/* Builders, one per scenario input. */

static void
b_text(struct peer *p)
{
	text(p, "hello");
}

static void
b_text_empty(struct peer *p)
{
	frame(p, FIN | OP_TEXT, "", 0);
}

static void
b_text_two(struct peer *p)
{
	text(p, "one");
	text(p, "two");
}

static void
b_text_utf8(struct peer *p)
{
	text(p, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void
b_frag_ping(struct peer *p)
{
	frame(p, OP_TEXT, "Hel", 3);
	frame(p, FIN | OP_PING, "abc", 3);
	frame(p, OP_CONT, "lo, ", 4);
	frame(p, FIN | OP_CONT, "world", 5);
}

static void
b_frag_empty(struct peer *p)
{
	frame(p, OP_TEXT, "", 0);
	frame(p, OP_CONT, "a", 1);
	frame(p, FIN | OP_CONT, "", 0);
}

static void
b_ping(struct peer *p)
{
	frame(p, FIN | OP_PING, "xyz", 3);
}

static void
b_ping_empty(struct peer *p)
{
	frame(p, FIN | OP_PING, "", 0);
}

static void
b_ping_125(struct peer *p)
{
	char	 b[126];

	memset(b, 'p', 125);
	b[125] = '\0';
	frame(p, FIN | OP_PING, b, 125);
}

static void
b_pong(struct peer *p)
{
	frame(p, FIN | OP_PONG, "unsolicited", 11);
}

static void
b_close_1000(struct peer *p)
{
	closef(p, 1000, "bye", 3);
}

static void
b_close_utf8_reason(struct peer *p)
{
	closef(p, 1001, "ab\xc3\xa9\xe2\x82\xac", 7);
}

static void
b_close_empty(struct peer *p)
{
	frame(p, FIN | OP_CLOSE, "", 0);
}

static void
b_close_then_text(struct peer *p)
{
	closef(p, 1000, "", 0);
	text(p, "too late");
}

static void
b_close_1byte(struct peer *p)
{
	frame(p, FIN | OP_CLOSE, "\x03", 1);
}

static void
b_close_bad_reason(struct peer *p)
{
	closef(p, 1000, "ab\xff", 3);
}

/* Valid as a whole; wslay, fed in pieces, skips 2 bytes of each. */
static void
b_close_split_reason(struct peer *p)
{
	closef(p, 1000, "x\xc3\xa9y\xc3\xa9", 6);
}

static void
b_close_surrogate_reason(struct peer *p)
{
	closef(p, 1000, "\xed\xa0\x80", 3);
}

#define CLOSE_CODE_BUILDER(name, code)					\
static void								\
name(struct peer *p)							\
{									\
	closef(p, code, "", 0);						\
}
CLOSE_CODE_BUILDER(b_close_0, 0)
CLOSE_CODE_BUILDER(b_close_999, 999)
CLOSE_CODE_BUILDER(b_close_1001, 1001)
CLOSE_CODE_BUILDER(b_close_1004, 1004)
CLOSE_CODE_BUILDER(b_close_1005, 1005)
CLOSE_CODE_BUILDER(b_close_1006, 1006)
CLOSE_CODE_BUILDER(b_close_1011, 1011)
CLOSE_CODE_BUILDER(b_close_1015, 1015)
CLOSE_CODE_BUILDER(b_close_1100, 1100)
CLOSE_CODE_BUILDER(b_close_2999, 2999)
CLOSE_CODE_BUILDER(b_close_3000, 3000)
CLOSE_CODE_BUILDER(b_close_4999, 4999)
CLOSE_CODE_BUILDER(b_close_5000, 5000)

static void
b_unmasked(struct peer *p)
{
	frame_mask(p, FIN | OP_TEXT, "hello", 5, 0);
}

static void
b_unmasked_ping(struct peer *p)
{
	frame_mask(p, FIN | OP_PING, "hi", 2, 0);
}

static void
b_rsv1(struct peer *p)
{
	frame(p, FIN | RSV1 | OP_TEXT, "hello", 5);
}

static void
b_rsv2(struct peer *p)
{
	frame(p, FIN | RSV2 | OP_TEXT, "hello", 5);
}

static void
b_rsv3_ping(struct peer *p)
{
	frame(p, FIN | RSV3 | OP_PING, "hi", 2);
}

static void
b_op3(struct peer *p)
{
	frame(p, FIN | 0x3, "hello", 5);
}

static void
b_opb(struct peer *p)
{
	frame(p, FIN | 0xb, "hi", 2);
}

static void
b_cont_no_start(struct peer *p)
{
	frame(p, FIN | OP_CONT, "hello", 5);
}

static void
b_text_in_frag(struct peer *p)
{
	frame(p, OP_TEXT, "a", 1);
	frame(p, FIN | OP_TEXT, "b", 1);
}

static void
b_ping_126(struct peer *p)
{
	filler(p, FIN | OP_PING, 126);
}

static void
b_close_126(struct peer *p)
{
	char	 b[126];

	memset(b, 'r', sizeof(b));
	b[0] = 0x03;
	b[1] = (char)0xe8;
	frame(p, FIN | OP_CLOSE, b, sizeof(b));
}

static void
b_ping_fragmented(struct peer *p)
{
	frame(p, OP_PING, "a", 1);
	frame(p, FIN | OP_CONT, "b", 1);
}

/* A good message, then a bad frame: the message still arrives. */
static void
b_text_then_bad(struct peer *p)
{
	text(p, "first");
	frame(p, FIN | OP_PING, "p", 1);
	filler(p, FIN | OP_PONG, 126);
	text(p, "never");
}

/* Length in 16 bits where 7 would do. */
static void
b_len16_short(struct peer *p)
{
	static const unsigned char h[] = {
		FIN | OP_TEXT, 0x80 | 126, 0, 5, 1, 2, 3, 4
	};

	put(p, h, sizeof(h));
	put(p, "ifmmp", 5);
}

static void
b_len64_short(struct peer *p)
{
	static const unsigned char h[] = {
		FIN | OP_TEXT, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
		1, 2, 3, 4
	};

	put(p, h, sizeof(h));
}

static void
b_len64_top_bit(struct peer *p)
{
	static const unsigned char h[] = {
		FIN | OP_TEXT, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 5,
		1, 2, 3, 4
	};

	put(p, h, sizeof(h));
}

static void
b_utf8_bad(struct peer *p)
{
	text(p, "ab\xff");
}

static void
b_utf8_overlong(struct peer *p)
{
	text(p, "\xc0\xaf");
}

static void
b_utf8_surrogate(struct peer *p)
{
	text(p, "\xed\xa0\x80");
}

static void
b_utf8_above_max(struct peer *p)
{
	text(p, "\xf4\x90\x80\x80");
}

static void
b_utf8_truncated(struct peer *p)
{
	text(p, "ab\xc3");
}

/* "é" = C3 A9 split between fragments: valid once joined. */
static void
b_utf8_split_ok(struct peer *p)
{
	frame(p, OP_TEXT, "caf\xc3", 4);
	frame(p, FIN | OP_CONT, "\xa9!", 2);
}

/* A 4-byte sequence over three fragments, a ping in between. */
static void
b_utf8_split3_ok(struct peer *p)
{
	frame(p, OP_TEXT, "\xf0\x9f", 2);
	frame(p, FIN | OP_PING, "", 0);
	frame(p, OP_CONT, "\x98", 1);
	frame(p, FIN | OP_CONT, "\x80", 1);
}

static void
b_utf8_split_bad(struct peer *p)
{
	frame(p, OP_TEXT, "caf\xc3", 4);
	frame(p, FIN | OP_CONT, "A", 1);
}

static void
b_utf8_split_truncated(struct peer *p)
{
	frame(p, OP_TEXT, "ok", 2);
	frame(p, FIN | OP_CONT, "\xe2\x82", 2);
}

static void
b_binary(struct peer *p)
{
	frame(p, FIN | OP_BIN, "\x00\x01\x02", 3);
}

static void
b_binary_fragmented(struct peer *p)
{
	frame(p, OP_BIN, "\x00", 1);
	frame(p, FIN | OP_CONT, "\x01", 1);
}

static void
b_big_single(struct peer *p)
{
	filler(p, FIN | OP_TEXT, 201);
}

static void
b_big_exact(struct peer *p)
{
	filler(p, FIN | OP_TEXT, 200);
}

static void
b_big_fragmented(struct peer *p)
{
	filler(p, OP_TEXT, 100);
	filler(p, OP_CONT, 100);
	filler(p, FIN | OP_CONT, 1);
}

static void
b_big_fragmented_exact(struct peer *p)
{
	filler(p, OP_TEXT, 100);
	filler(p, OP_CONT, 99);
	filler(p, FIN | OP_CONT, 1);
}

static void
b_ping_100(struct peer *p)
{
	filler(p, FIN | OP_PING, 100);
}

static void
b_text_10(struct peer *p)
{
	filler(p, FIN | OP_TEXT, 10);
}

static void
b_text_11(struct peer *p)
{
	filler(p, FIN | OP_TEXT, 11);
}

/* Announces 2^40 bytes: refused at the header, nothing is buffered. */
static void
b_big_announced(struct peer *p)
{
	static const unsigned char h[] = {
		FIN | OP_TEXT, 0x80 | 127, 0, 0, 0x01, 0, 0, 0, 0, 0,
		1, 2, 3, 4, 'a', 'b'
	};

	put(p, h, sizeof(h));
}

static const char X200[] =
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

static const char P125[] =
    "ppppppppppppppppppppppppppppppppppppppppppppppppp"
    "ppppppppppppppppppppppppppppppppppppppppppppppppp"
    "ppppppppppppppppppppppppppp";

_Static_assert(sizeof(X200) - 1 == 200, "X200 is 200 bytes");
_Static_assert(sizeof(P125) - 1 == 125, "P125 is 125 bytes");

/* ------------------------------------------------------------------ */
/* Single cases.                                                       */

static void
test_text_header(void **state)
{
	static const struct {
		uint64_t	 len;
		size_t		 n;
		unsigned char	 bytes[WS_HEADER_MAX];
	} c[] = {
		{ 0, 2, { 0x81, 0 } },
		{ 125, 2, { 0x81, 125 } },
		{ 126, 4, { 0x81, 126, 0, 126 } },
		{ 65535, 4, { 0x81, 126, 0xff, 0xff } },
		{ 65536, 10, { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 } },
		{ 0x0102030405060708ULL, 10,
		  { 0x81, 127, 1, 2, 3, 4, 5, 6, 7, 8 } },
	};
	unsigned char	 out[WS_HEADER_MAX + 1];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(out, 0xee, sizeof(out));
		assert_int_equal(ws_text_header(out, c[i].len), c[i].n);
		assert_memory_equal(out, c[i].bytes, c[i].n);
		assert_int_equal(out[c[i].n], 0xee);	/* no overrun */
	}
}

/* The exact bytes of what we queue, sent one byte per send(). */
static void
check_exact_output(int wblock)
{
	static const size_t	 sizes[] = { 0, 5, 125, 126, 300, 65535,
				    70000 };
	struct peer		*p;
	unsigned char		*want = NULL, h[WS_HEADER_MAX];
	size_t			 wantlen = 0, wantcap = 0, i, hl;
	char			*msg;
	int			 rc, rounds = 0;

	p = peer_new(MSG_MAX);
	p->wchunk = 1;
	p->wblock = wblock;
	msg = malloc(70000);
	assert_non_null(msg);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(msg, 'a' + (int)i, sizes[i]);
		assert_int_equal(wsconn_queue_text(p->c, msg, sizes[i]), 0);
		hl = ws_text_header(h, sizes[i]);
		grow(&want, &wantcap, wantlen + hl + sizes[i]);
		memcpy(want + wantlen, h, hl);
		memcpy(want + wantlen + hl, msg, sizes[i]);
		wantlen += hl + sizes[i];
	}
	/* The close goes after the messages queued before it. */
	assert_int_equal(wsconn_close(p->c, 1000, "done"), 0);
	grow(&want, &wantcap, wantlen + 8);
	memcpy(want + wantlen, "\x88\x06\x03\xe8" "done", 8);
	wantlen += 8;
	assert_true(wsconn_want_write(p->c));
	assert_int_equal(wsconn_queue_text(p->c, "late", 4), -1);

	while ((rc = wsconn_flush(p->c)) == 0) {
		assert_true(wblock);
		assert_true(wsconn_want_write(p->c));
		assert_true(++rounds < 1000000);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(wsconn_want_write(p->c), 0);
	assert_int_equal(p->outlen, wantlen);
	assert_memory_equal(p->out, want, wantlen);
	assert_int_equal(wsconn_close_sent(p->c), 1000);
	/* Sent but not answered yet: not finished. */
	assert_true(wsconn_closing(p->c));
	assert_false(wsconn_finished(p->c));
	free(msg);
	free(want);
	peer_free(p);
}

static void
test_send_one_byte(void **state)
{
	(void)state;
	check_exact_output(0);
}

static void
test_send_one_byte_eagain(void **state)
{
	(void)state;
	check_exact_output(1);
}

/* A pong queued while a message is half sent waits for its end. */
static void
test_pong_between_frames(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];
	char		 msg[300];

	(void)state;
	p = peer_new(MSG_MAX);
	memset(msg, 'm', sizeof(msg));
	assert_int_equal(wsconn_queue_text(p->c, msg, sizeof(msg)), 0);
	p->wchunk = 100;
	p->wblock = 1;
	assert_int_equal(wsconn_flush(p->c), 0);	/* EAGAIN at once */
	assert_int_equal(wsconn_flush(p->c), 0);	/* 100 bytes, EAGAIN */
	assert_true(p->outlen > 0 && p->outlen < sizeof(msg));
	frame(p, FIN | OP_PING, "pp", 2);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_true(wsconn_want_write(p->c));
	p->wblock = 0;
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 2);
	assert_int_equal(f[0].b0, FIN | OP_TEXT);
	assert_int_equal(f[0].len, sizeof(msg));
	assert_int_equal(f[1].b0, FIN | OP_PONG);
	assert_memory_equal(f[1].data, "pp", 2);
	peer_free(p);
}

static void
test_send_error(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_queue_text(p->c, "x", 1), 0);
	p->werr = EPIPE;
	assert_int_equal(wsconn_flush(p->c), -1);
	assert_true(wsconn_finished(p->c));
	assert_int_equal(wsconn_flush(p->c), -1);
	assert_int_equal(wsconn_want_write(p->c), 0);
	peer_free(p);
}

static void
test_eof(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	text(p, "last words");
	p->rend = END_EOF;
	assert_int_equal(wsconn_read(p->c), -1);
	assert_int_equal(p->nmsgs, 1);
	assert_string_equal(p->msgs[0], "last words");
	assert_true(wsconn_finished(p->c));
	assert_true(wsconn_closing(p->c));
	assert_int_equal(wsconn_want_write(p->c), 0);
	assert_int_equal(wsconn_read(p->c), -1);
	assert_int_equal(p->outlen, 0);
	peer_free(p);
}

/* EOF in the middle of a frame (a held control frame, too). */
static void
test_eof_mid_frame(void **state)
{
	size_t		 cut;

	(void)state;
	for (cut = 1; cut < 8; cut++) {
		struct peer	*p = peer_new(MSG_MAX);

		frame(p, FIN | OP_PING, "abc", 3);
		p->inlen = cut;		/* 2 header + 4 mask + 3 payload */
		p->rend = END_EOF;
		assert_int_equal(wsconn_read(p->c), -1);
		assert_true(wsconn_finished(p->c));
		assert_int_equal(p->outlen, 0);
		peer_free(p);
	}
}

static void
test_read_error(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	frame(p, OP_TEXT, "part", 4);
	p->rend = END_ERROR;
	assert_int_equal(wsconn_read(p->c), -1);
	assert_int_equal(p->nmsgs, 0);
	assert_true(wsconn_finished(p->c));
	peer_free(p);
}

/* Nothing to read: 0, nothing happens. */
static void
test_read_nothing(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_want_write(p->c), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(wsconn_frames_received(p->c), 0);
	assert_false(wsconn_closing(p->c));
	peer_free(p);
}

/* Input arriving over several reads, each until EAGAIN. */
static void
test_read_in_rounds(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	frame(p, OP_TEXT, "ab", 2);
	frame(p, FIN | OP_PING, "q", 1);
	p->inlen -= 3;			/* the ping lacks its last 3 bytes */
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(p->nmsgs, 0);
	assert_int_equal(wsconn_want_write(p->c), 0);	/* ping held */
	p->inlen += 3;
	frame(p, FIN | OP_CONT, "cd", 2);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(p->nmsgs, 1);
	assert_string_equal(p->msgs[0], "abcd");
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(p->outlen, 3);
	assert_memory_equal(p->out, "\x8a\x01q", 3);
	peer_free(p);
}

static void
test_frames_received(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_frames_received(p->c), 0);
	frame(p, FIN | OP_PONG, "", 0);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_frames_received(p->c), 1);
	frame(p, OP_TEXT, "a", 1);
	frame(p, FIN | OP_PING, "", 0);
	frame(p, FIN | OP_CONT, "b", 1);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_frames_received(p->c), 4);
	pump(p);
	assert_int_equal(p->nmsgs, 1);
	peer_free(p);
}

static void
test_ping_api(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_want_write(p->c), 0);
	assert_int_equal(wsconn_ping(p->c), 0);
	assert_true(wsconn_want_write(p->c));
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 1);
	assert_int_equal(f[0].b0, FIN | OP_PING);
	assert_int_equal(f[0].len, 0);
	peer_free(p);
}

/* on_text may queue a reply. */
static void
test_echo_from_on_text(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];

	(void)state;
	p = peer_new(MSG_MAX);
	p->echo = 1;
	text(p, "ping?");
	text(p, "again");
	pump(p);
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 2);
	assert_int_equal(f[0].b0, FIN | OP_TEXT);
	assert_int_equal(f[0].len, 5);
	assert_memory_equal(f[0].data, "ping?", 5);
	assert_memory_equal(f[1].data, "again", 5);
	peer_free(p);
}

/* We close; the peer answers; then it is finished. */
static void
test_server_close(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_close(p->c, 1001, "going away"), 0);
	assert_true(wsconn_closing(p->c));
	assert_int_equal(wsconn_close(p->c, 1000, "again"), 0); /* no-op */
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_false(wsconn_finished(p->c));
	/* Messages still in flight from the peer are not acted upon. */
	text(p, "crossing");
	frame(p, FIN | OP_PING, "", 0);
	closef(p, 1001, "", 0);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(p->nmsgs, 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_true(wsconn_finished(p->c));
	/* One close, ours; no pong after it, no second close. */
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 1);
	assert_int_equal(code_of(&f[0]), 1001);
	assert_int_equal(f[0].len, 2 + 10);
	assert_memory_equal(f[0].data + 2, "going away", 10);
	assert_int_equal(wsconn_close_sent(p->c), 1001);
	peer_free(p);
}

/* The peer's close overtakes ours while ours waits behind a message. */
static void
test_server_close_crossing(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];
	int		 n;

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_queue_text(p->c, "m", 1), 0);
	assert_int_equal(wsconn_close(p->c, 1001, NULL), 0);
	closef(p, 1000, "", 0);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_true(wsconn_finished(p->c));
	n = parse_out(p, f, MAX_FRAMES);
	assert_true(n >= 1);
	assert_int_equal(code_of(&f[n - 1]), 1000);	/* the echo */
	assert_int_equal(wsconn_close_sent(p->c), 1000);
	peer_free(p);
}

static void
test_server_close_codes(void **state)
{
	static const uint16_t	 bad[] = { 0, 999, 1004, 1005, 1006, 1015,
				    1016, 2999, 5000, 65535 };
	static const uint16_t	 good[] = { 1000, 1001, 1002, 1003, 1007,
				    1008, 1009, 1010, 1011, 1012, 1013, 1014,
				    3000, 4999 };
	struct peer		*p;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = peer_new(MSG_MAX);
		assert_int_equal(wsconn_close(p->c, bad[i], "x"), -1);
		assert_false(wsconn_closing(p->c));
		assert_int_equal(wsconn_want_write(p->c), 0);
		peer_free(p);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		p = peer_new(MSG_MAX);
		assert_int_equal(wsconn_close(p->c, good[i], "x"), 0);
		assert_int_equal(wsconn_flush(p->c), 1);
		assert_int_equal(wsconn_close_sent(p->c), good[i]);
		peer_free(p);
	}
}

/* A long reason is cut to 123 bytes, not inside a character. */
static void
test_server_close_reason_cut(void **state)
{
	struct peer	*p;
	struct sframe	 f[MAX_FRAMES];
	char		 reason[200];

	(void)state;
	p = peer_new(MSG_MAX);
	memset(reason, 'r', 122);
	memcpy(reason + 122, "\xc3\xa9tail", 7);	/* é at 122..123 */
	assert_int_equal(wsconn_close(p->c, 1000, reason), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 1);
	assert_int_equal(f[0].len, 2 + 122);
	assert_memory_equal(f[0].data + 2, reason, 122);
	peer_free(p);

	/* Not UTF-8: no reason at all. */
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_close(p->c, 1000, "bad\xff"), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(parse_out(p, f, MAX_FRAMES), 1);
	assert_int_equal(f[0].len, 2);
	peer_free(p);
}

/* After the close handshake, bytes are dropped; EOF is still seen. */
static void
test_drain_after_close(void **state)
{
	struct peer	*p;
	size_t		 outlen;

	(void)state;
	p = peer_new(MSG_MAX);
	closef(p, 1000, "", 0);
	pump(p);
	assert_true(wsconn_finished(p->c));
	outlen = p->outlen;
	text(p, "ignored");
	frame(p, FIN | OP_PING, "", 0);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(p->inoff, p->inlen);	/* taken and dropped */
	assert_int_equal(p->nmsgs, 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_int_equal(p->outlen, outlen);
	p->rend = END_EOF;
	assert_int_equal(wsconn_read(p->c), -1);
	peer_free(p);
}

/* A peer that keeps sending after our close is cut off. */
static void
test_drain_bounded(void **state)
{
	struct peer	*p;
	size_t		 i;

	(void)state;
	p = peer_new(MSG_MAX);
	frame(p, FIN | OP_BIN, "b", 1);
	for (i = 0; i < WS_DRAIN_MAX / 1000 + 10; i++)
		filler(p, FIN | OP_TEXT, 1000);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_int_equal(wsconn_flush(p->c), 1);
	assert_true(wsconn_finished(p->c));
	assert_int_equal(wsconn_read(p->c), -1);
	assert_int_equal(p->nmsgs, 0);
	peer_free(p);
}

/* A protocol error queues its close ahead of queued messages. */
static void
test_failure_after_queue(void **state)
{
	struct peer	*p;

	(void)state;
	p = peer_new(MSG_MAX);
	assert_int_equal(wsconn_queue_text(p->c, "queued", 6), 0);
	frame_mask(p, FIN | OP_TEXT, "bare", 4, 0);
	assert_int_equal(wsconn_read(p->c), 0);
	assert_true(wsconn_closing(p->c));
	assert_int_equal(wsconn_queue_text(p->c, "more", 4), -1);
	assert_int_equal(wsconn_close(p->c, 1000, NULL), 0);	/* closing */
	assert_int_equal(wsconn_flush(p->c), 1);
	expect_only_close(p, 1002);
	peer_free(p);
}

/* A 70000-byte message with a 64-bit length. */
static void
test_large_message(void **state)
{
	struct peer	*p;
	size_t		 rchunk;

	(void)state;
	for (rchunk = 0; rchunk < 2000; rchunk += 1999) {
		p = peer_new(100000);
		p->rchunk = rchunk;
		filler(p, FIN | OP_TEXT, 70000);
		text(p, "after");
		pump(p);
		assert_int_equal(p->nmsgs, 2);
		assert_int_equal(p->msglen[0], 70000);
		assert_int_equal(p->msgs[0][69999], 'x');
		assert_string_equal(p->msgs[1], "after");
		assert_int_equal(p->outlen, 0);
		peer_free(p);
	}
}

static void
test_free_null(void **state)
{
	(void)state;
	wsconn_free(NULL);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_text_header),
	cmocka_unit_test(test_send_one_byte),
	cmocka_unit_test(test_send_one_byte_eagain),
	cmocka_unit_test(test_pong_between_frames),
	cmocka_unit_test(test_send_error),
	cmocka_unit_test(test_eof),
	cmocka_unit_test(test_eof_mid_frame),
	cmocka_unit_test(test_read_error),
	cmocka_unit_test(test_read_nothing),
	cmocka_unit_test(test_read_in_rounds),
	cmocka_unit_test(test_frames_received),
	cmocka_unit_test(test_ping_api),
	cmocka_unit_test(test_echo_from_on_text),
	cmocka_unit_test(test_server_close),
	cmocka_unit_test(test_server_close_crossing),
	cmocka_unit_test(test_server_close_codes),
	cmocka_unit_test(test_server_close_reason_cut),
	cmocka_unit_test(test_drain_after_close),
	cmocka_unit_test(test_drain_bounded),
	cmocka_unit_test(test_failure_after_queue),
	cmocka_unit_test(test_large_message),
	cmocka_unit_test(test_free_null),

	/* Messages. */
	SCEN("text: a masked message arrives", .build = b_text,
	    .msgs = { "hello" }),
	SCEN("text: an empty message", .build = b_text_empty,
	    .msgs = { "" }),
	SCEN("text: two messages in one read", .build = b_text_two,
	    .msgs = { "one", "two" }),
	SCEN("text: multibyte UTF-8", .build = b_text_utf8,
	    .msgs = { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" }),
	SCEN("text: 3 fragments, a ping between them", .build = b_frag_ping,
	    .msgs = { "Hello, world" }, .pongs = { "abc" }),
	SCEN("text: empty fragments", .build = b_frag_empty,
	    .msgs = { "a" }),
	SCEN("text: UTF-8 split between fragments is accepted",
	    .build = b_utf8_split_ok, .msgs = { "caf\xc3\xa9!" }),
	SCEN("text: 4-byte UTF-8 over 3 fragments and a ping",
	    .build = b_utf8_split3_ok, .msgs = { "\xf0\x9f\x98\x80" },
	    .pongs = { "" }),
	SCEN("text: exactly max_msg in one frame", .build = b_big_exact,
	    .max_msg = 200, .msgs = { X200 }),
	SCEN("text: exactly max_msg in fragments",
	    .build = b_big_fragmented_exact, .max_msg = 200,
	    .msgs = { X200 }),

	/* Control frames. */
	SCEN("ping: answered by a pong with its payload", .build = b_ping,
	    .pongs = { "xyz" }),
	SCEN("ping: empty", .build = b_ping_empty, .pongs = { "" }),
	SCEN("ping: 125 bytes", .build = b_ping_125, .pongs = { P125 }),
	SCEN("pong: only counted", .build = b_pong),
	SCEN("close 1000: echoed with its reason", .build = b_close_1000,
	    .close = 1000, .reason = "bye"),
	SCEN("close: a UTF-8 reason echoed", .build = b_close_utf8_reason,
	    .close = 1001, .reason = "ab\xc3\xa9\xe2\x82\xac"),
	SCEN("close: split reason valid as a whole is echoed",
	    .build = b_close_split_reason, .close = 1000,
	    .reason = "x\xc3\xa9y\xc3\xa9"),
	SCEN("close: empty, answered empty (1005 never sent)",
	    .build = b_close_empty, .close = CLOSE_EMPTY),
	SCEN("close: what follows it is not read",
	    .build = b_close_then_text, .close = 1000),
	SCEN("close 1001 echoed", .build = b_close_1001, .close = 1001),
	SCEN("close 1011 echoed", .build = b_close_1011, .close = 1011),
	SCEN("close 3000 echoed", .build = b_close_3000, .close = 3000),
	SCEN("close 4999 echoed", .build = b_close_4999, .close = 4999),

	/* 1002. */
	SCEN("1002: unmasked frame", .build = b_unmasked, .close = 1002),
	SCEN("1002: unmasked ping", .build = b_unmasked_ping, .close = 1002),
	SCEN("1002: RSV1 set", .build = b_rsv1, .close = 1002),
	SCEN("1002: RSV2 set", .build = b_rsv2, .close = 1002),
	SCEN("1002: RSV3 set on a ping", .build = b_rsv3_ping,
	    .close = 1002),
	SCEN("1002: opcode 0x3", .build = b_op3, .close = 1002),
	SCEN("1002: opcode 0xB", .build = b_opb, .close = 1002),
	SCEN("1002: continuation without a start",
	    .build = b_cont_no_start, .close = 1002),
	SCEN("1002: new text frame inside a fragmented message",
	    .build = b_text_in_frag, .close = 1002),
	SCEN("1002: ping of 126 bytes", .build = b_ping_126, .close = 1002),
	SCEN("1002: close of 126 bytes", .build = b_close_126,
	    .close = 1002),
	SCEN("1002: fragmented ping", .build = b_ping_fragmented,
	    .close = 1002),
	/* wslay drops a pong not yet sent once a close is queued. */
	SCEN("1002: a good message, then a bad frame",
	    .build = b_text_then_bad, .close = 1002, .msgs = { "first" }),
	SCEN("1002: 16-bit length below 126", .build = b_len16_short,
	    .close = 1002),
	SCEN("1002: 64-bit length below 65536", .build = b_len64_short,
	    .close = 1002),
	SCEN("1002: 64-bit length with the top bit set",
	    .build = b_len64_top_bit, .close = 1002),
	SCEN("1002: close of 1 byte", .build = b_close_1byte, .close = 1002),
	SCEN("1002: close code 0", .build = b_close_0, .close = 1002),
	SCEN("1002: close code 999", .build = b_close_999, .close = 1002),
	SCEN("1002: close code 1004", .build = b_close_1004, .close = 1002),
	SCEN("1002: close code 1005", .build = b_close_1005, .close = 1002),
	SCEN("1002: close code 1006", .build = b_close_1006, .close = 1002),
	SCEN("1002: close code 1015", .build = b_close_1015, .close = 1002),
	SCEN("1002: close code 1100", .build = b_close_1100, .close = 1002),
	SCEN("1002: close code 2999", .build = b_close_2999, .close = 1002),
	SCEN("1002: close code 5000", .build = b_close_5000, .close = 1002),

	/* 1007. */
	SCEN("1007: invalid byte", .build = b_utf8_bad, .close = 1007),
	SCEN("1007: overlong form", .build = b_utf8_overlong, .close = 1007),
	SCEN("1007: surrogate", .build = b_utf8_surrogate, .close = 1007),
	SCEN("1007: above U+10FFFF", .build = b_utf8_above_max,
	    .close = 1007),
	SCEN("1007: truncated at the end", .build = b_utf8_truncated,
	    .close = 1007),
	SCEN("1007: split between fragments, invalid when joined",
	    .build = b_utf8_split_bad, .close = 1007),
	SCEN("1007: truncated in the last fragment",
	    .build = b_utf8_split_truncated, .close = 1007),
	SCEN("1007: invalid close reason", .build = b_close_bad_reason,
	    .close = 1007),
	SCEN("1007: surrogate in a close reason",
	    .build = b_close_surrogate_reason, .close = 1007),

	/* 1003, 1009. */
	SCEN("1003: binary message", .build = b_binary, .close = 1003),
	SCEN("1003: fragmented binary message",
	    .build = b_binary_fragmented, .close = 1003),
	SCEN("1009: one frame over max_msg", .build = b_big_single,
	    .max_msg = 200, .close = 1009),
	SCEN("1009: fragments over max_msg", .build = b_big_fragmented,
	    .max_msg = 200, .close = 1009),
	SCEN("1009: 2^40 bytes announced", .build = b_big_announced,
	    .close = 1009),

	/* A max_msg below 125 does not bound control frames. */
	SCEN("small max_msg: a 100-byte ping is answered",
	    .build = b_ping_100, .max_msg = 10, .pongs = { X200 + 100 }),
	SCEN("small max_msg: exactly max_msg", .build = b_text_10,
	    .max_msg = 10, .msgs = { X200 + 190 }),
	SCEN("1009: small max_msg, one byte over", .build = b_text_11,
	    .max_msg = 10, .close = 1009),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
