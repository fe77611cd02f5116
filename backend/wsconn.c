/*
 * wsconn.c: a WebSocket connection on wslay's event API (wsconn.h).
 *
 * What wslay 1.1.1 checks itself in server mode, and answers with the
 * right close code: masking, reserved bits, unknown opcodes, continuation
 * without a start, a data frame inside a fragmented message (1002); UTF-8
 * of text messages across fragments (1007); the message size at each
 * frame header (1009); the close code's validity (1002); pings (pong) and
 * closes (echo).
 *
 * What it gets wrong or lacks, and what this file adds:
 *   - Violations its frame layer finds (control frame fragmented or over
 *     125 bytes, a length not in shortest form or with the top bit set)
 *     make it queue a close *without* a code and return an error that
 *     looks like a failed read. The scanner below (struct wsscan) watches
 *     the bytes on their way in, frame by frame, and withholds such a
 *     frame from its first byte on: we queue 1002 ourselves and wslay
 *     never sees it.
 *   - It checks the UTF-8 of a close reason chunk by chunk, skipping the
 *     first two bytes of *every* chunk: a close frame that arrives in
 *     pieces is echoed with an invalid reason, or refused (1007) for a
 *     valid one whose character straddles a piece. The scanner unmasks
 *     close payloads and checks the reason whole (1007), and holds every
 *     control frame back until all of it is there, so wslay gets it in
 *     one piece.
 *   - A close frame of 1 byte is echoed as an empty close; §5.5.1 says
 *     the body starts with a 2-byte code, so the scanner refuses it (1002).
 *   - It delivers binary messages: we refuse them at their first frame
 *     (1003, on_frame_recv_start).
 *   - After a short read it returns before the peer's bytes are used up:
 *     wsconn_read() calls it again until recv says EAGAIN.
 *   - A close queued with wslay_event_queue_close() goes before messages
 *     already queued (control frames have their own queue): wsconn_close()
 *     holds it back until wslay's queue is empty.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <wslay/wslay.h>

#include "valid.h"
#include "wsconn.h"

/* RFC 6455 §5.5: control frames carry at most 125 bytes. */
#define CTRL_PAYLOAD_MAX	125
/* A close reason: 125 bytes less the 2-byte code. */
#define CLOSE_REASON_MAX	(CTRL_PAYLOAD_MAX - 2)
/* A whole control frame: 2 header bytes, 4 of mask, 125 of payload. */
#define CTRL_FRAME_MAX		(2 + 4 + CTRL_PAYLOAD_MAX)

#define OP_CONT		0x0
#define OP_TEXT		0x1
#define OP_BINARY	0x2
#define OP_CLOSE	0x8

/*
 * The scanner: follows frame boundaries in the bytes read, in step with
 * wslay (both see the same bytes in the same order), looking only at what
 * wslay mishandles (see the top of this file). It also holds back a
 * control frame until all of it has arrived, so wslay always gets one in
 * one piece and checks its close reason right.
 */
struct wsscan {
	unsigned char	 hdr[14];	/* 2 + 8 ext. length + 4 mask */
	size_t		 hdrlen;	/* header bytes seen */
	size_t		 hdrneed;	/* this header's size (2 until known) */
	uint64_t	 left;		/* payload bytes still to come */
	uint64_t	 seen;		/* bytes of this frame seen so far */
	int		 close;		/* masked close: keep its payload */
	unsigned char	 body[CTRL_PAYLOAD_MAX]; /* ...unmasked */
	size_t		 bodylen;
};

static void
scan_reset(struct wsscan *s)
{
	s->hdrlen = 0;
	s->hdrneed = 2;
	s->left = 0;
	s->seen = 0;
	s->close = 0;
	s->bodylen = 0;
}

/*
 * The header is complete up to s->hdrlen bytes: judge what is known so
 * far. Returns 0, or the close code to refuse the frame with.
 */
static uint16_t
scan_header(struct wsscan *s)
{
	unsigned	 op = s->hdr[0] & 0x0f, fin = s->hdr[0] & 0x80;
	unsigned	 len7, masked;
	size_t		 ext, i;
	uint64_t	 len = 0;

	if (s->hdrlen < 2)
		return 0;
	len7 = s->hdr[1] & 0x7f;
	masked = s->hdr[1] & 0x80;
	ext = (len7 == 126) ? 2 : (len7 == 127) ? 8 : 0;
	if (s->hdrlen == 2) {
		/* §5.5: control frames are not fragmented, <= 125 bytes. */
		if ((op & 0x8) && (!fin || len7 > CTRL_PAYLOAD_MAX))
			return 1002;
		/* §5.5.1: a close body starts with a 2-byte code. */
		if (op == OP_CLOSE && len7 == 1)
			return 1002;
		s->hdrneed = 2 + ext + (masked ? 4 : 0);
		s->left = len7;
	}
	if (ext > 0 && s->hdrlen == 2 + ext) {
		for (i = 0; i < ext; i++)
			len = len << 8 | s->hdr[2 + i];
		/* §5.2: the shortest form, and the top bit is 0. */
		if (ext == 2 && len < 126)
			return 1002;
		if (ext == 8 && (len < 65536 || (len >> 63) != 0))
			return 1002;
		s->left = len;
	}
	if (s->hdrlen == s->hdrneed)
		s->close = (op == OP_CLOSE && masked);
	return 0;
}

/* Is the frame in progress an unfinished control frame? */
static int
scan_in_ctrl(const struct wsscan *s)
{
	return s->hdrlen > 0 && (s->hdr[0] & 0x08);
}

/*
 * buf[0, from) was scanned before (the start of an unfinished control
 * frame); follow buf[from, total). Returns how many bytes of buf may go to
 * wslay now. The rest is either an unfinished control frame, to be held
 * until it is complete, or, with *refuse set to a close code, a frame we
 * refuse: wslay gets every frame before it and nothing of it.
 */
static size_t
scan_feed(struct wsscan *s, const unsigned char *buf, size_t from,
    size_t total, uint16_t *refuse)
{
	const unsigned char	*mask;
	size_t			 i = from, k;
	uint16_t		 code;

	while (i < total) {
		if (s->hdrlen < s->hdrneed) {
			s->hdr[s->hdrlen++] = buf[i];
			if ((code = scan_header(s)) != 0) {
				*refuse = code;
				/* From the first byte of this frame on. */
				return s->seen > i ? 0 : i - (size_t)s->seen;
			}
			i++;
			s->seen++;
			if (s->hdrlen == s->hdrneed && s->left == 0)
				scan_reset(s);
			continue;
		}
		if (!s->close) {
			k = (s->left < total - i) ? (size_t)s->left : total - i;
			i += k;
			s->seen += k;
			s->left -= k;
		} else {
			/* <= 125 bytes, by scan_header(). */
			mask = s->hdr + s->hdrneed - 4;
			s->body[s->bodylen] = buf[i] ^ mask[s->bodylen % 4];
			s->bodylen++;
			s->left--;
			if (s->left == 0 && s->bodylen > 2 &&
			    !valid_utf8((const char *)s->body + 2,
			    s->bodylen - 2)) {
				*refuse = 1007;
				return s->seen > i ? 0 : i - (size_t)s->seen;
			}
			i++;
			s->seen++;
		}
		if (s->left == 0)
			scan_reset(s);
	}
	/* A control frame is held from its first byte (it began in buf). */
	if (scan_in_ctrl(s))
		return s->seen > total ? 0 : total - (size_t)s->seen;
	return total;
}

struct wsconn {
	wslay_event_context_ptr	 ctx;
	struct wsconn_io	 io;
	void			*arg;
	size_t			 max_msg;
	struct wsscan		 scan;
	/* Bytes read but held back from wslay, see scan_feed(). */
	unsigned char		 stash[CTRL_FRAME_MAX];
	size_t			 stashlen;
	uint16_t		 refuse;	/* close code asked by scan */
	int			 eagain;	/* last recv said EAGAIN */
	int			 wblock;	/* last send said EAGAIN */
	unsigned long		 sent;		/* sends that wrote bytes */
	int			 gone;		/* EOF, read/write error */
	int			 nomem;		/* could not queue a close */
	int			 close_requested; /* wsconn_close() called */
	int			 close_pending;	/* ...not queued to wslay yet */
	uint16_t		 close_code;
	char			 close_reason[CLOSE_REASON_MAX];
	size_t			 close_reason_len;
	unsigned long		 frames;
	size_t			 drained;	/* bytes dropped by drain() */
};

/*
 * Fail the connection (§7.1.7): queue a close with code, read no more.
 * A close already queued (ours or wslay's) stays the one sent.
 */
static void
fail(struct wsconn *c, uint16_t code, const char *reason)
{
	int	 rv;

	rv = wslay_event_queue_close(c->ctx, code, (const uint8_t *)reason,
	    reason != NULL ? strlen(reason) : 0);
	if (rv != 0 && rv != WSLAY_ERR_NO_MORE_MSG)
		c->nomem = 1;
	wslay_event_shutdown_read(c->ctx);
	c->close_pending = 0;
}

static ssize_t
recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
    void *user)
{
	struct wsconn	*c = user;
	ssize_t		 n;
	size_t		 total = 0, keep;

	(void)flags;
	/* Past a refused frame nothing more goes to wslay. */
	if (c->refuse != 0)
		goto wouldblock;
	/*
	 * wslay asks when its 4 KiB buffer is (nearly) empty, so held bytes
	 * fit; if they ever did not, they would go in pieces, unchecked.
	 */
	if (c->stashlen > 0 && len <= c->stashlen) {
		memcpy(buf, c->stash, len);
		memmove(c->stash, c->stash + len, c->stashlen - len);
		c->stashlen -= len;
		return (ssize_t)len;
	}
	memcpy(buf, c->stash, c->stashlen);
	total = c->stashlen;
	c->stashlen = 0;
	for (;;) {
		n = c->io.recv(c->arg, buf + total, len - total);
		if (n > 0 && (size_t)n <= len - total)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->eagain = 1;
			/* Still unfinished: hold it again. */
			memcpy(c->stash, buf, total);
			c->stashlen = total;
			goto wouldblock;
		}
		c->gone = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	keep = scan_feed(&c->scan, buf, total, total + (size_t)n,
	    &c->refuse);
	total += (size_t)n;
	if (c->refuse == 0 && keep < total) {
		/* At most an unfinished control frame, by scan_feed(). */
		if (total - keep <= sizeof(c->stash)) {
			memcpy(c->stash, buf + keep, total - keep);
			c->stashlen = total - keep;
		} else
			c->refuse = 1011;	/* cannot happen */
	}
	if (keep > 0)
		return (ssize_t)keep;
	/* Nothing for wslay yet; wsconn_read() calls again unless EAGAIN. */
wouldblock:
	wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	return -1;
}

static ssize_t
send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
    int flags, void *user)
{
	struct wsconn	*c = user;
	ssize_t		 n;

	(void)flags;
	for (;;) {
		n = c->io.send(c->arg, data, len);
		if (n > 0 && (size_t)n <= len) {
			c->sent++;
			return n;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/* wslay takes 0 for an error: nothing written is "later". */
		if (n == 0 || (n == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))) {
			c->wblock = 1;
			wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
			return -1;
		}
		c->gone = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
}

static void
frame_start_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_frame_recv_start_arg *a, void *user)
{
	struct wsconn	*c = user;

	(void)ctx;
	c->frames++;
	/* Refused at its first frame, before it is buffered. */
	if (a->opcode == OP_BINARY)
		fail(c, 1003, "binary messages are not accepted");
}

static void
msg_cb(wslay_event_context_ptr ctx,
    const struct wslay_event_on_msg_recv_arg *a, void *user)
{
	struct wsconn	*c = user;

	(void)ctx;
	/* Closes and pings are answered by wslay; pongs only count. */
	if (a->opcode != OP_TEXT)
		return;
	/* A message that arrives while we close is not acted upon. */
	if (wsconn_closing(c))
		return;
	/* Only when max_msg < 125: wslay's bound is not below that. */
	if (a->msg_length > c->max_msg) {
		fail(c, 1009, NULL);
		return;
	}
	/* wslay checked it already; a second look costs little. */
	if (!valid_utf8((const char *)a->msg, a->msg_length)) {
		fail(c, 1007, NULL);
		return;
	}
	c->io.on_text(c->arg, a->msg != NULL ? (const char *)a->msg : "",
	    a->msg_length);
}

int
wsconn_new(struct wsconn **out, size_t max_msg, const struct wsconn_io *io,
    void *arg)
{
	struct wslay_event_callbacks	 cb;
	struct wsconn			*c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->io = *io;
	c->arg = arg;
	scan_reset(&c->scan);

	memset(&cb, 0, sizeof(cb));
	cb.recv_callback = recv_cb;
	cb.send_callback = send_cb;
	cb.on_frame_recv_start_callback = frame_start_cb;
	cb.on_msg_recv_callback = msg_cb;
	if (wslay_event_context_server_init(&c->ctx, &cb, c) != 0) {
		free(c);
		return -1;
	}
	/*
	 * wslay's default is 2 GiB: a library default is not a limit. It
	 * applies the bound to control frames too, so never below 125.
	 */
	c->max_msg = max_msg;
	wslay_event_config_set_max_recv_msg_length(c->ctx,
	    max_msg > CTRL_PAYLOAD_MAX ? max_msg : CTRL_PAYLOAD_MAX);
	*out = c;
	return 0;
}

void
wsconn_free(struct wsconn *c)
{
	if (c == NULL)
		return;
	wslay_event_context_free(c->ctx);
	free(c);
}

/*
 * Reading has stopped: take what still arrives and drop it, so the socket
 * does not stay readable, and notice EOF. Past WS_DRAIN_MAX the peer is
 * only wasting our time.
 */
static int
drain(struct wsconn *c)
{
	char	 buf[4096];
	ssize_t	 n;

	for (;;) {
		n = c->io.recv(c->arg, buf, sizeof(buf));
		if (n > 0 && (size_t)n <= sizeof(buf)) {
			c->drained += (size_t)n;
			if (c->drained > WS_DRAIN_MAX)
				break;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		break;
	}
	c->gone = 1;
	return -1;
}

int
wsconn_read(struct wsconn *c)
{
	int	 rv;

	if (c->gone || c->nomem)
		return -1;
	if (!wslay_event_get_read_enabled(c->ctx))
		return drain(c);
	/* wslay returns after a short read: go on until EAGAIN. */
	do {
		c->eagain = 0;
		rv = wslay_event_recv(c->ctx);
		if (c->refuse != 0 && wslay_event_get_read_enabled(c->ctx))
			fail(c, c->refuse, NULL);
		if (c->gone || c->nomem || rv == WSLAY_ERR_NOMEM) {
			/* wslay queued a close we will not send. */
			c->gone = 1;
			wslay_event_shutdown_write(c->ctx);
			return -1;
		}
		/*
		 * Any other error is a violation the scanner let through;
		 * wslay queued a close without a code and stopped reading.
		 */
		if (rv != 0)
			break;
	} while (!c->eagain && wslay_event_get_read_enabled(c->ctx));
	/* The peer's close came first: wslay queued the echo, ours is moot. */
	if (wslay_event_get_close_received(c->ctx))
		c->close_pending = 0;
	return 0;
}

int
wsconn_flush(struct wsconn *c)
{
	unsigned long	 sent;
	int		 rv;

	if (c->gone || c->nomem)
		return -1;
	for (;;) {
		/*
		 * wslay returns after a short write too, not only at EAGAIN:
		 * go on while it makes progress.
		 */
		sent = c->sent;
		c->wblock = 0;
		if (wslay_event_send(c->ctx) != 0) {
			c->gone = 1;
			return -1;
		}
		/* A close went out (wslay's, for an error): ours is moot. */
		if (!wslay_event_get_write_enabled(c->ctx))
			c->close_pending = 0;
		if (wslay_event_want_write(c->ctx)) {
			if (c->wblock || c->sent == sent)
				break;
			continue;
		}
		/* wsconn_close() after the queue: now it is empty. */
		if (!c->close_pending ||
		    wslay_event_get_queued_msg_count(c->ctx) != 0)
			break;
		c->close_pending = 0;
		rv = wslay_event_queue_close(c->ctx, c->close_code,
		    (const uint8_t *)c->close_reason, c->close_reason_len);
		if (rv == WSLAY_ERR_NO_MORE_MSG)
			break;		/* the peer's close came first */
		if (rv != 0) {
			c->nomem = 1;
			return -1;
		}
	}
	return wsconn_want_write(c) ? 0 : 1;
}

int
wsconn_want_write(const struct wsconn *c)
{
	if (c->gone)
		return 0;
	return c->close_pending || wslay_event_want_write(c->ctx);
}

int
wsconn_queue_text(struct wsconn *c, const char *msg, size_t len)
{
	struct wslay_event_msg	 m;

	if (wsconn_closing(c))
		return -1;
	m.opcode = OP_TEXT;
	m.msg = (const uint8_t *)msg;
	m.msg_length = len;
	return wslay_event_queue_msg(c->ctx, &m) == 0 ? 0 : -1;
}

int
wsconn_ping(struct wsconn *c)
{
	struct wslay_event_msg	 m;

	if (wsconn_closing(c))
		return -1;
	m.opcode = WSLAY_PING;
	m.msg = NULL;
	m.msg_length = 0;
	return wslay_event_queue_msg(c->ctx, &m) == 0 ? 0 : -1;
}

/* Codes a peer accepts (§7.4.1, §7.4.2, the IANA registry). */
static int
close_code_sendable(uint16_t code)
{
	return (code >= 1000 && code <= 1003) ||
	    (code >= 1007 && code <= 1014) ||
	    (code >= 3000 && code <= 4999);
}

int
wsconn_close(struct wsconn *c, uint16_t code, const char *reason)
{
	size_t	 len;

	if (!close_code_sendable(code))
		return -1;
	if (wsconn_closing(c))
		return 0;
	len = (reason != NULL) ? strlen(reason) : 0;
	if (len > CLOSE_REASON_MAX) {
		len = CLOSE_REASON_MAX;
		/* Do not cut a character: back off its continuation bytes. */
		while (len > 0 && ((unsigned char)reason[len] & 0xc0) == 0x80)
			len--;
	}
	if (!valid_utf8(reason, len))
		len = 0;
	if (len > 0)
		memcpy(c->close_reason, reason, len);
	c->close_reason_len = len;
	c->close_code = code;
	c->close_requested = 1;
	c->close_pending = 1;
	/* Nothing queued before it: queue it now, it keeps no one waiting. */
	if (wslay_event_get_queued_msg_count(c->ctx) == 0) {
		c->close_pending = 0;
		if (wslay_event_queue_close(c->ctx, code,
		    (const uint8_t *)c->close_reason, len) != 0) {
			c->nomem = 1;
			return -1;
		}
	}
	return 0;
}

int
wsconn_closing(const struct wsconn *c)
{
	return c->close_requested || c->gone || c->nomem ||
	    !wslay_event_get_read_enabled(c->ctx) ||
	    wslay_event_get_close_sent(c->ctx);
}

int
wsconn_finished(const struct wsconn *c)
{
	if (c->gone || c->nomem)
		return 1;
	if (!wslay_event_get_close_sent(c->ctx))
		return 0;
	/* Read stops at the peer's close, or when we failed the connection. */
	return !wslay_event_get_read_enabled(c->ctx);
}

unsigned long
wsconn_frames_received(const struct wsconn *c)
{
	return c->frames;
}

uint16_t
wsconn_close_sent(const struct wsconn *c)
{
	uint16_t	 code;

	if (!wslay_event_get_close_sent(c->ctx))
		return 0;
	code = wslay_event_get_status_code_sent(c->ctx);
	/* wslay's names for "no code in it" and "none sent". */
	if (code == WSLAY_CODE_NO_STATUS_RCVD ||
	    code == WSLAY_CODE_ABNORMAL_CLOSURE)
		return 0;
	return code;
}

size_t
ws_text_header(unsigned char *out, uint64_t len)
{
	int	 i;

	out[0] = 0x80 | OP_TEXT;	/* FIN, no RSV, text */
	if (len < 126) {
		out[1] = (unsigned char)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (unsigned char)(len >> 8);
		out[3] = (unsigned char)len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = (unsigned char)(len >> (56 - 8 * i));
	return 10;
}
