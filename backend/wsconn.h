/*
 * wsconn.h: one server-side WebSocket connection's protocol state (RFC
 * 6455 §5, §7) on top of wslay's event API, after the handshake
 * (wshandshake.h). No sockets here: bytes come and go through the io
 * callbacks, so tests feed it memory.
 *
 * What it does with the peer's frames:
 *   - text messages (fragments joined, at most max_msg bytes, valid UTF-8)
 *     go to io->on_text, until the connection is closing;
 *   - a ping is answered with a pong carrying its payload (§5.5.2),
 *     unless a close is queued by then (wslay drops the pong);
 *   - a close is answered with a close echoing its code and reason, or
 *     with an empty close if it had none (§5.5.1; 1005 is never sent);
 *   - anything else fails the connection (§7.1.7): a close frame with the
 *     code below is queued and nothing more is read:
 *       1002  unmasked frame, reserved bits set, unknown opcode, control
 *             frame fragmented or over 125 bytes, continuation without a
 *             start, a new data frame inside a fragmented message, a
 *             length not in its shortest form or with the top bit set, a
 *             close frame of 1 byte or with an invalid code (0-999, 1004,
 *             1005, 1006, 1012 and up to 2999, 5000 and up: wslay's list)
 *       1003  a binary message (we only speak text)
 *       1007  invalid UTF-8 in a text message or a close reason
 *       1009  a message over max_msg bytes (refused at the frame header,
 *             before its payload is buffered)
 *
 * Sending: the caller writes its own pre-encoded data frames (a
 * ws_text_header() then the payload) straight to the socket, so one
 * encoding is shared by every subscriber. wsconn queues only pongs, pings,
 * the close and wsconn_queue_text() messages. Frames must not interleave
 * on the wire, hence the rule:
 *   - write your own frame only when wsconn_want_write() is 0 and
 *     wsconn_closing() is 0 (no data after a close, §5.5.1);
 *   - call wsconn_flush() only when no frame of your own is partly
 *     written; if wsconn_want_write() became 1 meanwhile, finish your frame
 *     first, then flush.
 * wsconn_queue_text() is not bounded here: the caller bounds what it
 * queues, as it bounds its own backlog.
 *
 * Closing: wsconn_close() sends its close after everything queued before it
 * (wslay alone would let it overtake queued messages), then waits for the
 * peer's close; the caller bounds that wait and closes the socket anyway
 * when it runs out (§7.1.1). A failed connection is finished as soon as
 * its close is sent. The caller closes the socket when wsconn_finished(),
 * or when wsconn_read() or wsconn_flush() return -1.
 *
 * Not thread-safe: one thread owns a connection.
 */
#ifndef SSEREPLAY_WSCONN_H
#define SSEREPLAY_WSCONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bytes of the longest server frame header (ws_text_header()). */
#define WS_HEADER_MAX	10

/* After reading stopped, this many more bytes are discarded at most. */
#define WS_DRAIN_MAX	(64 * 1024)

struct wsconn;

struct wsconn_io {
	/*
	 * Read up to len bytes: >0 read, 0 EOF, -1 with errno set
	 * (EAGAIN/EWOULDBLOCK: nothing now; EINTR is retried).
	 */
	ssize_t	(*recv)(void *arg, void *buf, size_t len);
	/*
	 * Write up to len bytes: >=0 written, -1 with errno set (EAGAIN:
	 * try later; EINTR is retried).
	 */
	ssize_t	(*send)(void *arg, const void *buf, size_t len);
	/*
	 * A complete text message arrived: valid UTF-8, at most max_msg
	 * bytes, fragments joined. msg is valid only during the call.
	 */
	void	(*on_text)(void *arg, const char *msg, size_t len);
};

/*
 * A new connection: 0, or -1 (out of memory). io is copied; arg is passed
 * to every io callback. max_msg bounds one assembled message (and so the
 * memory it takes); control frames (<= 125 bytes) are not bound by it.
 * on_text may call wsconn_queue_text(), wsconn_close() and the
 * accessors, never wsconn_read() or wsconn_free().
 */
int	wsconn_new(struct wsconn **out, size_t max_msg,
	    const struct wsconn_io *io, void *arg);

/* Frees everything queued. Accepts NULL. Does not close anything. */
void	wsconn_free(struct wsconn *c);

/*
 * Read and process what the peer sent until recv says EAGAIN (pings
 * answered, closes echoed, protocol violations turned into a queued close:
 * see the top of this file). Once reading has stopped (close received or
 * connection failed) bytes that still arrive are discarded, at most
 * WS_DRAIN_MAX in all, so a level-triggered poller does not spin. Returns
 * 0 to carry on (call wsconn_flush() if wsconn_want_write()), or -1 when
 * the peer is gone (EOF or a read error) or memory ran out: the caller
 * closes the socket.
 */
int	wsconn_read(struct wsconn *c);

/*
 * Send what is queued (pongs, close, messages from wsconn_queue_text).
 * Returns 1 when nothing is left, 0 when send said EAGAIN (call again when
 * writable), -1 on a write error (the caller closes the socket).
 */
int	wsconn_flush(struct wsconn *c);

/*
 * Something is queued or a frame is partly sent. The caller's own frames go
 * to the socket only while this is 0 (see the top of this file).
 */
int	wsconn_want_write(const struct wsconn *c);

/*
 * Queue a text message; msg is copied and must be valid UTF-8 (not checked
 * here). 0, or -1 (out of memory, or closing).
 */
int	wsconn_queue_text(struct wsconn *c, const char *msg, size_t len);

/* Queue a ping with an empty payload. 0, or -1 (out of memory, or closing). */
int	wsconn_ping(struct wsconn *c);

/*
 * Queue a close frame with code and a short reason (may be NULL; cut to
 * 123 bytes at a character boundary, dropped if not valid UTF-8); it is
 * sent after what was queued before it, and after it no more messages are
 * sent. code must be one a peer accepts: 1000-1003, 1007-1014 or
 * 3000-4999. 0, or -1 (invalid code, out of memory); already closing is 0
 * and queues nothing.
 */
int	wsconn_close(struct wsconn *c, uint16_t code, const char *reason);

/*
 * A close frame was sent or received, or queued by wsconn_close() or a
 * protocol error, or the peer is gone.
 */
int	wsconn_closing(const struct wsconn *c);

/*
 * The close handshake is over (sent and received), or our close for a
 * protocol error is sent, or the peer is gone and nothing more can be
 * done: close the socket.
 */
int	wsconn_finished(const struct wsconn *c);

/*
 * Frames received so far (any opcode, including pongs): the caller notices
 * liveness by it changing.
 */
unsigned long wsconn_frames_received(const struct wsconn *c);

/*
 * The close code we sent (0 if none yet, or if our close had no code), for
 * logs and tests.
 */
uint16_t wsconn_close_sent(const struct wsconn *c);

/*
 * Header of an unmasked FIN text frame carrying len payload bytes, as a
 * server sends it (§5.2, shortest length form): writes 2, 4 or 10 bytes
 * into out (WS_HEADER_MAX bytes) and returns that count. len < 2^63.
 */
size_t	ws_text_header(unsigned char *out, uint64_t len);

#endif
