/*
 * httpclient.h: the client side of HTTP/1.1 (RFC 9112) as ssereplay-check
 * needs it: writing a request, parsing a response head, decoding a body
 * (chunked, Content-Length or until close). No sockets: everything takes
 * (buf, len), so tests feed input whole, byte by byte or split anywhere.
 *
 * The head: httpc_head_feed() collects bytes until the empty line that
 * ends it (CRLF CRLF; a bare LF is accepted as a line end, RFC 9112 §2.2),
 * at most HTTPC_HEAD_MAX bytes, then parses the status line and the
 * headers the caller needs (Content-Type, Content-Encoding,
 * Transfer-Encoding, Content-Length, Connection). The raw head stays
 * available for reports. Bytes after the head belong to the body: *used
 * says how many of buf were taken.
 *
 * The body: httpc_body_decode() decodes in place: the body's bytes are
 * moved to the front of buf (output never overtakes input) and chunk
 * framing is dropped. Chunk sizes are at most HTTPC_CHUNK_DIGITS hex
 * digits, extensions and trailer lines at most HTTPC_LINE_MAX bytes.
 *
 * Errors: the feed/decode functions return an enum httpc_status (negative
 * on a malformed or oversized message; the connection is then unusable).
 * httpc_request() returns the length written or -1.
 */
#ifndef SSEREPLAY_HTTPCLIENT_H
#define SSEREPLAY_HTTPCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTPC_HEAD_MAX		16384	/* a whole response head */
#define HTTPC_VALUE_MAX		128	/* a header value we keep */
#define HTTPC_CHUNK_DIGITS	15	/* hex digits of a chunk size */
#define HTTPC_LINE_MAX		4096	/* chunk extension, trailer line */

enum httpc_status {
	HTTPC_MORE = 0,			/* feed more bytes */
	HTTPC_DONE = 1,			/* head complete / body ended */
	HTTPC_ETOOBIG = -1,		/* past a bound */
	HTTPC_EBADSTATUS = -2,		/* not "HTTP/1.x NNN ..." */
	HTTPC_EBADHEADER = -3,		/* a header line without ':' etc. */
	HTTPC_EBADCHUNK = -4		/* chunked framing broken */
};

enum httpc_framing {
	HTTPC_CHUNKED,			/* Transfer-Encoding: chunked */
	HTTPC_LENGTH,			/* Content-Length */
	HTTPC_EOF			/* until the server closes */
};

struct httpc_head {
	char		 raw[HTTPC_HEAD_MAX + 1];	/* NUL-terminated */
	size_t		 len;
	size_t		 linestart;	/* where the current line began */
	int		 done;
	int		 minor;		/* HTTP/1.minor */
	int		 status;
	enum httpc_framing framing;
	uint64_t	 content_length;
	int		 conn_close;	/* Connection: close (or HTTP/1.0) */
	/* Values, NUL-terminated, cut to HTTPC_VALUE_MAX; "" if absent. */
	char		 content_type[HTTPC_VALUE_MAX + 1];
	char		 content_encoding[HTTPC_VALUE_MAX + 1];
	char		 transfer_encoding[HTTPC_VALUE_MAX + 1];
};

struct httpc_body {
	enum httpc_framing framing;
	int		 state;		/* chunked decoder state */
	uint64_t	 left;		/* bytes left in chunk / body */
	unsigned	 digits;
	size_t		 linelen;	/* extension or trailer line so far */
	int		 done;
	uint64_t	 chunks;	/* data chunks seen */
};

void	httpc_head_init(struct httpc_head *h);

/* Feed head bytes; *used = bytes of buf taken. HTTPC_MORE, HTTPC_DONE or
 * an error. */
int	httpc_head_feed(struct httpc_head *h, const char *buf, size_t len,
	    size_t *used);

/*
 * The value of header name (case-insensitive) in a completed head, copied
 * NUL-terminated into out (cut to outsz - 1). 1 if present, 0 if not.
 */
int	httpc_head_get(const struct httpc_head *h, const char *name, char *out,
	    size_t outsz);

/* Start decoding the body of a response with head h. */
void	httpc_body_init(struct httpc_body *b, const struct httpc_head *h);

/*
 * Decode len bytes of buf in place; *outlen = body bytes now at the front
 * of buf. HTTPC_DONE once the body has ended (bytes after it are ignored),
 * HTTPC_MORE, or an error. For HTTPC_EOF framing the body never ends
 * here: the caller sees the close.
 */
int	httpc_body_decode(struct httpc_body *b, char *buf, size_t len,
	    size_t *outlen);

/*
 * Write "METHOD path HTTP/1.1" with Host and the given extra header lines
 * (each "Name: value", NULL-terminated list, may be NULL), then
 * Content-Length when body is not NULL, the empty line and the body.
 * Header values must not hold CR or LF (-1 if one does). Returns the
 * length written, or -1 if out is too small.
 */
ssize_t	httpc_request(char *out, size_t outsz, const char *method,
	    const char *host, const char *path, const char *const *headers,
	    const char *body, size_t body_len);

#endif
