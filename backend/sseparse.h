/*
 * sseparse.h: an event stream as a browser's EventSource reads it (WHATWG
 * HTML, "Server-sent events", section "Interpreting an event stream"),
 * decoding only. The counterpart of sse.h, for ssereplay-check.
 *
 * The parser never touches a socket: sseparse_feed() takes (buf, len) of
 * the decoded response body, in pieces of any size, and calls back once per
 * dispatched event, per `retry:` accepted and per comment. Splitting the
 * same bytes differently gives the same calls.
 *
 * The rules, in the spec's order:
 *   - one leading U+FEFF (EF BB BF) of the stream is dropped;
 *   - a line ends at CR LF, LF or a lone CR; a CR that ends one buffer and
 *     an LF that starts the next are one line end;
 *   - an empty line dispatches: the last event ID string becomes the ID
 *     buffer, and if the data buffer is not empty an event is delivered
 *     with its final LF removed, type "message" when none was given;
 *   - a line starting with ':' is a comment;
 *   - "name:value" (one leading space of value dropped) or "name" alone
 *     (empty value); "event" sets the type, "data" appends value and LF,
 *     "id" sets the ID buffer unless value contains NUL, "retry" sets the
 *     reconnection time when value is ASCII digits only; other names are
 *     ignored.
 *   - at the end of a stream a half-received event is discarded
 *     (sseparse_reconnect()); the last event ID string survives it.
 * Not done: UTF-8 decoding (bytes are passed through; ids are compared as
 * opaque byte strings, which is all a client needs).
 *
 * Bounds: a line is at most line_max bytes and the data of one event at
 * most data_max bytes (both given to sseparse_init()); ids and type names
 * at most SSEPARSE_ID_MAX / SSEPARSE_TYPE_MAX. Past a bound the parser
 * returns SSEPARSE_ETOOLONG and stays failed until sseparse_reconnect():
 * the caller drops the connection, as it cannot know what it missed.
 *
 * Errors: sseparse_init() 0/-1; sseparse_feed() 0, SSEPARSE_STOPPED or a
 * negative enum sseparse_err.
 */
#ifndef SSEREPLAY_SSEPARSE_H
#define SSEREPLAY_SSEPARSE_H

#include <stddef.h>
#include <stdint.h>

#define SSEPARSE_ID_MAX		256	/* longest id we keep (bytes) */
#define SSEPARSE_TYPE_MAX	256	/* longest event type */
#define SSEPARSE_LINE_DEFAULT	(1024 * 1024 + 64)
#define SSEPARSE_DATA_DEFAULT	(1024 * 1024 + 64)

#define SSEPARSE_STOPPED	1	/* the callback asked to stop */

enum sseparse_err {
	SSEPARSE_ETOOLONG = -1,		/* a line, data, id or type too long */
	SSEPARSE_EFAILED = -2		/* fed again after an error */
};

enum sseparse_kind {
	SSEPARSE_EVENT,			/* an event was dispatched */
	SSEPARSE_RETRY,			/* retry: accepted (see .retry_ms) */
	SSEPARSE_COMMENT		/* a ':' line (see .data: its text) */
};

/* What a callback sees; the pointers are valid during the call only. */
struct sseparse_item {
	enum sseparse_kind	 kind;
	const char		*type;		/* EVENT: NUL-terminated */
	const char		*data;		/* EVENT: data; COMMENT: text */
	size_t			 data_len;
	const char		*id;		/* EVENT: last event ID string */
	size_t			 id_len;
	uint64_t		 retry_ms;	/* RETRY */
};

/*
 * Returns 0 to go on, or non-zero to stop: sseparse_feed() then returns
 * SSEPARSE_STOPPED at once, the rest of its buffer unread, and the parser
 * takes no more bytes until sseparse_reconnect() (a client that drops the
 * connection right after an event must not let the last event ID move
 * past it).
 */
typedef int (*sseparse_cb)(void *arg, const struct sseparse_item *it);

struct sseparse {
	size_t		 line_max, data_max;
	char		*line;			/* line_max bytes */
	size_t		 line_len;
	char		*data;			/* data_max + 1 bytes */
	size_t		 data_len;
	char		 type[SSEPARSE_TYPE_MAX + 1];
	size_t		 type_len;
	char		 idbuf[SSEPARSE_ID_MAX + 1];	/* the ID buffer */
	size_t		 idbuf_len;
	char		 lastid[SSEPARSE_ID_MAX + 1];	/* last event ID string */
	size_t		 lastid_len;
	int		 bom;		/* BOM bytes matched; -1: past it */
	int		 cr;		/* last byte seen was CR */
	int		 failed;
	sseparse_cb	 cb;
	void		*arg;
};

/*
 * Allocate the line and data buffers (0 for either: the default).
 * cb is called for every item; arg is passed through. 0 or -1.
 */
int	sseparse_init(struct sseparse *p, size_t line_max, size_t data_max,
	    sseparse_cb cb, void *arg);

/* Free the buffers. p may be NULL. */
void	sseparse_free(struct sseparse *p);

/* Feed body bytes. 0, SSEPARSE_STOPPED or a negative sseparse_err. */
int	sseparse_feed(struct sseparse *p, const char *buf, size_t len);

/*
 * A new connection: the half-received event, the BOM state and the error
 * are forgotten; the last event ID string is kept (it is what the caller
 * sends as Last-Event-ID).
 */
void	sseparse_reconnect(struct sseparse *p);

/* The last event ID string (NUL-terminated) and its length. */
const char *sseparse_last_id(const struct sseparse *p, size_t *len);

#endif
