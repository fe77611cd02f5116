/*
 * body.h: the body of POST /publish, form-encoded or JSON, parsed and
 * checked in isolation (no I/O).
 *
 *   application/x-www-form-urlencoded: topic=T&event=E&data=D
 *   application/json: {"topic":"T","event":"E","data":"D"}
 *     (data may also be any other JSON value; it is then stored as its
 *      compact JSON text, so {"data":{"a":1}} stores {"a":1})
 *
 * topic is required and must pass valid_topic(); event is optional (absent,
 * empty or "message" all mean the default type) and must pass
 * valid_event_name(); data is required (may be empty), must be valid UTF-8
 * and at most max_data bytes. Unknown fields and repeated fields are errors,
 * so a typo never publishes something other than what was meant.
 */
#ifndef SSEREPLAY_BODY_H
#define SSEREPLAY_BODY_H

#include <stddef.h>

#include "bounds.h"

struct publish_req {
	char	 topic[TOPIC_MAX + 1];
	char	 event[EVENT_NAME_MAX + 1];	/* "" = default "message" */
	char	*data;		/* owned, NUL-terminated; free with body_free() */
	size_t	 data_len;
};

/*
 * Parse body (len bytes, need not be NUL-terminated) of the given
 * Content-Type (may be NULL; parameters such as "; charset=utf-8" are
 * allowed, matching is case-insensitive). On success returns 0 and fills
 * *out (caller frees with body_free). Otherwise returns the HTTP status to
 * send (400, 413 data larger than max_data, 415 other content types) and
 * points *reason at a static plain-text explanation; *out holds nothing to
 * free.
 */
int body_parse_publish(const char *content_type, const char *body,
    size_t len, size_t max_data, struct publish_req *out,
    const char **reason);

/* Free what body_parse_publish() allocated. Accepts NULL. */
void body_free(struct publish_req *req);

#endif
