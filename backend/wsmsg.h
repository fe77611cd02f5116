/*
 * wsmsg.h: the JSON messages of the WebSocket endpoint (README.md,
 * "WebSocket"), encoded without allocation.
 *
 * Events and gaps are encoded once and shared by every subscriber, so they
 * come out as complete server frames (an unmasked FIN text frame: header
 * and payload), like the SSE encoder's bytes. Acks and errors are queued
 * per connection through wsconn, which frames them itself: they come out
 * as bare JSON text.
 *
 *   {"id":"ID","topic":"T","event":"E","data":"D"}
 *   {"id":"ID","gap":{"lastEventId":"ASKED","firstAvailableId":"F"|null}}
 *   {"ack":"ID"}
 *   {"error":"REASON"}
 *
 * Strings are escaped as RFC 8259 requires (quote, backslash, control
 * characters); the input must be valid UTF-8, which the text frame
 * carrying it needs as well.
 */
#ifndef SSEREPLAY_WSMSG_H
#define SSEREPLAY_WSMSG_H

#include <stddef.h>
#include <sys/types.h>

/* An upper bound of wsmsg_event()'s output for these field lengths. */
size_t wsmsg_event_max(size_t topic_len, size_t event_len, size_t data_len);

/*
 * The frame of one event: header and JSON. An empty event name is sent as
 * "message". Returns the length, or -1 if out is too small or a field is
 * not valid UTF-8 (only a hand-edited log can hold such a field).
 */
ssize_t wsmsg_event(char *out, size_t outsz, const char *id,
    const char *topic, size_t topic_len, const char *event, size_t event_len,
    const char *data, size_t data_len);

/* The frame of a gap signal; first may be NULL (nothing available). */
ssize_t wsmsg_gap(char *out, size_t outsz, const char *id, const char *asked,
    const char *first);

/* Bare JSON text: {"ack":"ID"} and {"error":"REASON"}. -1 if too small. */
ssize_t wsmsg_ack(char *out, size_t outsz, const char *id);
ssize_t wsmsg_error(char *out, size_t outsz, const char *reason);

#endif
