/*
 * sse.h: the Server-Sent Events wire format (WHATWG HTML, "Server-sent
 * events", section "Interpreting an event stream"), encoding only.
 *
 * The encoder never touches a socket: it fills a caller's buffer. Every
 * event is encoded once, when it enters the log's in-memory tail or a replay
 * batch, and the bytes are shared by every subscriber.
 *
 * Injection: the browser ends a line at CR LF, LF or a lone CR, so data is
 * split on all three and each piece becomes its own `data: ` line; the id is
 * made by us and the event name is checked by valid_event_name() before it is
 * stored. sse_encode() checks both again and refuses anything with CR or LF.
 */
#ifndef SSEREPLAY_SSE_H
#define SSEREPLAY_SSE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Upper bound of sse_encode()'s output for an event name of event_len bytes
 * and data of data_len bytes (worst case: data made only of lone CRs).
 */
size_t sse_encoded_max(size_t event_len, size_t data_len);

/*
 * Encode one event:
 *   id: <id>\n
 *   event: <event>\n        (omitted when event is NULL, empty or "message")
 *   data: <line>\n          (one per line of data; at least one, so an event
 *                            with empty data is still dispatched)
 *   \n
 * id is NUL-terminated; event may be NULL. Returns the number of bytes
 * written to out, or -1 if out is too small or id/event hold CR, LF or NUL.
 */
ssize_t sse_encode(char *out, size_t outsz, const char *id,
    const char *event, size_t event_len, const char *data, size_t data_len);

/* "retry: <ms>\n\n". Returns bytes written or -1 if out is too small. */
ssize_t sse_encode_retry(char *out, size_t outsz, unsigned ms);

/* The heartbeat comment, ": keepalive\n\n", and its length. */
extern const char SSE_KEEPALIVE[];
#define SSE_KEEPALIVE_LEN 13

#endif
