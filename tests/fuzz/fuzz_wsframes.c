/*
 * fuzz_wsframes.c: backend/wsconn.c, a server-side WebSocket connection
 * fed the fuzz input as the client's bytes.
 *
 * Input:
 *   byte 0     flags: 0x01 on_text echoes each message back; 0x02 the
 *              input ends in EOF (else in EAGAIN); 0x04 recv says EAGAIN
 *              after every piece (one piece per wsconn_read()); 0x08 send
 *              says EAGAIN every other call; 0x30 max_msg (16, 125, 1024,
 *              65536); 0x40 a message starting with 'C' makes on_text call
 *              wsconn_close() with it as the reason, 'P' wsconn_ping();
 *              0x80 send takes small pieces
 *   byte 1     flags: 0x01 queue a ping first; 0x02 queue a text first;
 *              0x04 wsconn_close(1001) after the first read; 0x08 try
 *              closing with codes a peer refuses first (must be -1)
 *   bytes 2-5  seed for the piece sizes of recv and send
 *   the rest   what the client sends
 * The recv callback serves the input in pieces of sizes from the seed,
 * the send callback collects the output; wsconn_read() and
 * wsconn_flush() are called as the hub does until the input is used up
 * and nothing is left to send, or the connection is finished or gone.
 *
 * Checked (wsconn.h, RFC 6455):
 *   - on_text gets valid UTF-8 of at most max_msg bytes, never once the
 *     connection is closing, and may queue, ping and close;
 *   - the loop ends: every round reads or writes something;
 *   - the output is a sequence of well-formed server frames: no RSV bits,
 *     not masked, FIN set (we never fragment), lengths in shortest form,
 *     only text, close, ping and pong, control frames at most 125 bytes,
 *     text valid UTF-8, no more text frames than messages queued; at most
 *     one close and nothing after it; a close body is empty or a code and
 *     a valid UTF-8 reason, the code one a peer accepts (never 1005, 1006
 *     or 1015) and the one wsconn_close_sent() reports;
 *   - the output ends at a frame boundary unless the peer went away
 *     mid-flush;
 *   - the close sent is the one wsconn.h's list asks for the first
 *     violation in the client's bytes (1002, 1003, 1007, 1009), or the
 *     echo of the client's close (its code and reason, or empty), read
 *     separately here (expect_close), and it is sent unless the client
 *     went away first;
 *   - ws_text_header() writes the shortest unmasked FIN text header.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "fuzz.h"
#include "valid.h"
#include "wsconn.h"

struct peer {
	const uint8_t	*in;
	size_t		 inlen, inoff;
	unsigned	 f0, f1;
	int		 paused;	/* the next recv says EAGAIN */
	unsigned	 sends;
	struct fuzz_rng	 rng;
	uint8_t		*out;
	size_t		 outlen, outcap;
	size_t		 max_msg;
	unsigned long	 msgs;		/* on_text calls */
	unsigned long	 queued;	/* texts queued by us */
	struct wsconn	*c;
	/* The close the server sent, found by check_output(). */
	int		 closed;
	unsigned	 close_code;	/* 0: an empty close */
	const uint8_t	*close_body;
	size_t		 close_len;
};

static ssize_t
p_recv(void *arg, void *buf, size_t len)
{
	struct peer	*p = arg;
	size_t		 n;

	if (p->inoff == p->inlen) {
		if (p->f0 & 0x02)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	if (p->paused) {
		p->paused = 0;
		errno = EAGAIN;
		return -1;
	}
	FUZZ_CHECK(len > 0);
	n = fuzz_rng_piece(&p->rng, p->inlen - p->inoff);
	if (n > len)
		n = len;
	memcpy(buf, p->in + p->inoff, n);
	p->inoff += n;
	p->paused = (p->f0 & 0x04) != 0;
	return (ssize_t)n;
}

static ssize_t
p_send(void *arg, const void *buf, size_t len)
{
	struct peer	*p = arg;
	size_t		 n = len;

	FUZZ_CHECK(len > 0);
	if ((p->f0 & 0x08) && p->sends++ % 2 == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (p->f0 & 0x80)
		n = fuzz_rng_piece(&p->rng, len);
	if (p->outlen + n > p->outcap) {
		p->outcap = (p->outlen + n) * 2;
		p->out = realloc(p->out, p->outcap);
		if (p->out == NULL)
			abort();
	}
	memcpy(p->out + p->outlen, buf, n);
	p->outlen += n;
	return (ssize_t)n;
}

static void
p_on_text(void *arg, const char *msg, size_t len)
{
	struct peer	*p = arg;
	char		*reason;

	FUZZ_CHECK(msg != NULL);
	FUZZ_CHECK(len <= p->max_msg);
	FUZZ_CHECK(valid_utf8(msg, len));
	FUZZ_CHECK(!wsconn_closing(p->c));
	p->msgs++;
	if (p->f0 & 0x01) {
		FUZZ_CHECK(wsconn_queue_text(p->c, msg, len) == 0);
		p->queued++;
	}
	if ((p->f0 & 0x40) && len > 0 && msg[0] == 'C') {
		/* The rest of the message is the reason: wsconn_close()
		 * cuts it to 123 bytes at a character boundary. */
		reason = fuzz_strndup(msg + 1, len - 1);
		FUZZ_CHECK(wsconn_close(p->c, (uint16_t)(3000 + len % 2000),
		    reason) == 0);
		free(reason);
	} else if ((p->f0 & 0x40) && len > 0 && msg[0] == 'P')
		FUZZ_CHECK(wsconn_ping(p->c) == 0);
}

static int
close_code_ok(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

/*
 * Check the server's frames in (b, n). complete: the output must end at a
 * frame boundary.
 */
static void
check_output(struct peer *p, const uint8_t *b, size_t n, int complete)
{
	size_t		 i = 0, hl, ext;
	uint64_t	 len;
	unsigned	 op, code;
	unsigned long	 texts = 0;
	int		 closed = 0;

	while (i < n) {
		FUZZ_CHECK(!closed);	/* nothing after a close */
		if (n - i < 2)
			goto truncated;
		op = b[i] & 0x0f;
		FUZZ_CHECK((b[i] & 0x80) != 0);		/* FIN */
		FUZZ_CHECK((b[i] & 0x70) == 0);		/* no RSV */
		FUZZ_CHECK(op == 0x1 || op == 0x8 || op == 0x9 || op == 0xa);
		FUZZ_CHECK((b[i + 1] & 0x80) == 0);	/* not masked */
		len = b[i + 1] & 0x7f;
		ext = len == 126 ? 2 : len == 127 ? 8 : 0;
		hl = 2 + ext;
		if (n - i < hl)
			goto truncated;
		if (ext > 0) {
			size_t k;

			for (len = 0, k = 0; k < ext; k++)
				len = len << 8 | b[i + 2 + k];
			FUZZ_CHECK(ext == 2 ? len >= 126 :
			    len > 0xffff && (len >> 63) == 0);
		}
		if (op & 0x8)
			FUZZ_CHECK(len <= 125);
		if ((uint64_t)(n - i - hl) < len)
			goto truncated;
		if (op == 0x1) {
			FUZZ_CHECK(valid_utf8((const char *)b + i + hl,
			    (size_t)len));
			texts++;
		} else if (op == 0x8) {
			FUZZ_CHECK(len != 1);
			code = 0;
			if (len >= 2) {
				code = (unsigned)b[i + hl] << 8 | b[i + hl + 1];
				FUZZ_CHECK(close_code_ok(code));
				FUZZ_CHECK(valid_utf8((const char *)b + i + hl +
				    2, (size_t)len - 2));
			}
			FUZZ_CHECK(wsconn_close_sent(p->c) == code);
			closed = 1;
			p->closed = 1;
			p->close_code = code;
			p->close_body = b + i + hl;
			p->close_len = (size_t)len;
		}
		i += hl + (size_t)len;
	}
	FUZZ_CHECK(texts <= p->queued);
	return;
truncated:
	FUZZ_CHECK(!complete);
	FUZZ_CHECK(texts <= p->queued);
}

/*
 * The first close the server must send for the client's bytes (b, n),
 * read from wsconn.h's list: 1 with *code (0: an empty close) and, for an
 * echo, the peer's close body in echo (125 bytes), *echolen long, else
 * *echolen is SIZE_MAX; 0 when the bytes do not decide it, or decide it
 * in a way this reading leaves alone (text that is not ASCII, whose UTF-8
 * is checked as it arrives). Where several rules apply to one frame, the
 * first to look at it wins: wsconn's scanner (control frame form, length
 * form, a masked close's reason), then wslay once it has the header and a
 * byte of payload (reserved bits, mask, opcode, frame sequence, size),
 * then wsconn's frame_start_cb (binary). wsconn.h does not say which code
 * wins when several apply; this is what it does, written down.
 */
static int
expect_close(const uint8_t *b, size_t n, size_t max_msg, unsigned *code,
    uint8_t *echo, size_t *echolen)
{
	size_t		 i = 0, hl, k, bound;
	uint64_t	 len, msg = 0;
	unsigned	 op, fin, len7, masked;
	int		 frag = 0;
	uint8_t		*body = echo;

	bound = max_msg > 125 ? max_msg : 125;
	*echolen = SIZE_MAX;
	for (;;) {
		if (n - i < 2)
			return 0;
		fin = b[i] & 0x80;
		op = b[i] & 0x0f;
		masked = b[i + 1] & 0x80;
		len7 = b[i + 1] & 0x7f;
		*code = 1002;
		/* What wsconn's scanner judges from the first two bytes. */
		if ((op & 0x8) && (!fin || len7 > 125))
			return 1;
		if (op == 0x8 && len7 == 1)
			return 1;
		hl = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
		if (n - i < hl)
			return 0;
		for (len = len7 < 126 ? len7 : 0, k = 2; k < hl; k++)
			len = len << 8 | b[i + k];
		if ((len7 == 126 && len < 126) ||
		    (len7 == 127 && (len <= 0xffff || (len >> 63) != 0)))
			return 1;
		if (masked)
			hl += 4;
		/* wslay judges the rest once it has the header and a byte of
		 * payload (if any); the scanner holds a control frame back
		 * until all of it is there. */
		if ((uint64_t)(n - i) < hl + (op & 0x8 ? len : len > 0))
			return 0;
		/* The scanner checks a masked close's reason first. */
		if (op == 0x8 && masked && len > 2) {
			for (k = 0; k < len; k++)
				body[k] = b[i + hl + k] ^ b[i + hl - 4 + k % 4];
			if (!valid_utf8((const char *)body + 2,
			    (size_t)len - 2)) {
				*code = 1007;
				return 1;
			}
		}
		if ((b[i] & 0x70) != 0 || !masked ||
		    (op > 0x2 && op < 0x8) || op > 0xa)
			return 1;
		/* The order is wslay's: the frame sequence, then its size,
		 * then frame_start_cb's look at the opcode. */
		if ((op == 0x0 && !frag) || ((op == 0x1 || op == 0x2) && frag))
			return 1;
		if (!(op & 0x8) && msg + len > bound) {
			*code = 1009;
			return 1;
		}
		if (op == 0x2) {
			*code = 1003;
			return 1;
		}
		if ((uint64_t)(n - i) < hl + len)
			return 0;
		/* Unmask the payload, looking at it as it goes. */
		for (k = 0; k < len; k++) {
			uint8_t c = b[i + hl + k] ^ b[i + hl - 4 + k % 4];

			if (op == 0x8)
				body[k] = c;
			else if (op != 0x9 && op != 0xa && c >= 0x80)
				return 0;
		}
		if (op == 0x8) {
			*echolen = (size_t)len;
			if (len == 0) {
				*code = 0;
				return 1;
			}
			*code = (unsigned)body[0] << 8 | body[1];
			if (!((*code >= 1000 && *code <= 1003) ||
			    (*code >= 1007 && *code <= 1011) ||
			    (*code >= 3000 && *code <= 4999))) {
				*code = 1002;
				*echolen = SIZE_MAX;
				return 1;
			}
			return 1;
		}
		if (op == 0x0 || op == 0x1) {
			msg += len;
			frag = !fin;
			if (fin) {
				if (msg > max_msg) {
					*code = 1009;
					return 1;
				}
				msg = 0;
			}
		}
		i += hl + (size_t)len;
	}
}

/* ws_text_header() for a length: the shortest FIN text header. */
static void
check_text_header(uint64_t len)
{
	unsigned char	 h[WS_HEADER_MAX];
	size_t		 n, k;
	uint64_t	 got;

	len &= ~(1ULL << 63);
	n = ws_text_header(h, len);
	FUZZ_CHECK(n == (len < 126 ? 2 : len <= 0xffff ? 4 : 10));
	FUZZ_CHECK(h[0] == 0x81 && (h[1] & 0x80) == 0);
	if (n == 2)
		got = h[1];
	else
		for (got = 0, k = 2; k < n; k++)
			got = got << 8 | h[k];
	FUZZ_CHECK(got == len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t	 max_msgs[4] = { 16, 125, 1024, 65536 };
	struct wsconn_io	 io = { p_recv, p_send, p_on_text };
	struct peer		 p;
	struct fuzz_in		 in;
	unsigned long		 frames = 0, rounds, limit;
	uint8_t			 echo[125];
	size_t			 echolen;
	unsigned		 want;
	uint32_t		 seed;
	int			 gone = 0, rv, first = 1;

	memset(&p, 0, sizeof(p));
	fuzz_in_init(&in, data, size);
	p.f0 = fuzz_byte(&in);
	p.f1 = fuzz_byte(&in);
	seed = fuzz_u16(&in);
	seed |= (uint32_t)fuzz_u16(&in) << 16;
	fuzz_rng_init(&p.rng, seed);
	p.in = in.p;
	p.inlen = in.left;
	p.max_msg = max_msgs[(p.f0 >> 4) & 3];
	check_text_header(seed);
	check_text_header((uint64_t)seed << 16);
	check_text_header((uint64_t)seed << 31);

	if (wsconn_new(&p.c, p.max_msg, &io, &p) == -1)
		abort();
	if (p.f1 & 0x08) {
		FUZZ_CHECK(wsconn_close(p.c, 1005, "no") == -1);
		FUZZ_CHECK(wsconn_close(p.c, 1006, NULL) == -1);
		FUZZ_CHECK(wsconn_close(p.c, 1015, NULL) == -1);
		FUZZ_CHECK(wsconn_close(p.c, 999, NULL) == -1);
		FUZZ_CHECK(!wsconn_closing(p.c) && !wsconn_want_write(p.c));
	}
	if (p.f1 & 0x01)
		FUZZ_CHECK(wsconn_ping(p.c) == 0);
	if (p.f1 & 0x02) {
		FUZZ_CHECK(wsconn_queue_text(p.c, "hello", 5) == 0);
		p.queued++;
	}

	/* Every round takes input or sends: a bound well above that. */
	limit = 4 * (unsigned long)p.inlen + 64;
	for (rounds = 0; ; rounds++) {
		FUZZ_CHECK(rounds < limit);
		rv = wsconn_read(p.c);
		FUZZ_CHECK(rv == 0 || rv == -1);
		FUZZ_CHECK(wsconn_frames_received(p.c) >= frames);
		frames = wsconn_frames_received(p.c);
		if (rv == -1) {
			gone = 1;
			break;
		}
		if (first && (p.f1 & 0x04)) {
			FUZZ_CHECK(wsconn_close(p.c, 1001, "going away") == 0);
			FUZZ_CHECK(wsconn_closing(p.c));
			FUZZ_CHECK(wsconn_queue_text(p.c, "late", 4) == -1);
		}
		first = 0;
		if (wsconn_want_write(p.c)) {
			rv = wsconn_flush(p.c);
			FUZZ_CHECK(rv >= -1 && rv <= 1);
			if (rv == -1) {
				gone = 1;
				break;
			}
			FUZZ_CHECK(rv == 0 || !wsconn_want_write(p.c));
		}
		if (wsconn_finished(p.c) && !wsconn_want_write(p.c))
			break;
		/* Input used up and all sent; with EOF, read until it. */
		if (p.inoff == p.inlen && !(p.f0 & 0x02) &&
		    !wsconn_want_write(p.c))
			break;
	}
	if (wsconn_finished(p.c))
		FUZZ_CHECK(wsconn_closing(p.c));
	check_output(&p, p.out, p.outlen, !gone && !wsconn_want_write(p.c));

	/* The close sent is the one the client's bytes call for (unless
	 * on_text or the test closed first). */
	if (!(p.f0 & 0x40) && !(p.f1 & 0x04) &&
	    expect_close(p.in, p.inlen, p.max_msg, &want, echo, &echolen)) {
		/* Without EOF everything was read and sent. */
		if (!(p.f0 & 0x02))
			FUZZ_CHECK(p.closed);
		if (p.closed && p.close_code != want)
			fprintf(stderr, "close %u, expected %u\n",
			    p.close_code, want);
		if (p.closed)
			FUZZ_CHECK(p.close_code == want);
		if (p.closed && echolen != SIZE_MAX)
			FUZZ_CHECK(p.close_len == echolen &&
			    memcmp(p.close_body, echo, echolen) == 0);
	}
	wsconn_free(p.c);
	wsconn_free(NULL);
	free(p.out);
	return 0;
}
