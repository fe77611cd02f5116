/*
 * valid.h: the grammar of every name that comes from outside. Each function
 * takes (s, len), never reads past len, and returns 1 when s is acceptable,
 * 0 otherwise. No allocation, no side effects.
 */
#ifndef SSEREPLAY_VALID_H
#define SSEREPLAY_VALID_H

#include <stddef.h>

/* A topic: 1..TOPIC_MAX bytes of [A-Za-z0-9._/-]. */
int valid_topic(const char *s, size_t len);

/* An event type name: 1..EVENT_NAME_MAX bytes of [A-Za-z0-9._:-]. */
int valid_event_name(const char *s, size_t len);

/*
 * Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF. NUL bytes are allowed (they are valid UTF-8).
 */
int valid_utf8(const char *s, size_t len);

#endif
