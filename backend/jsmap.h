/*
 * jsmap.h: the pure parts of the JetStream log driver (jslog.c), apart so
 * that tests reach them without a server. Nothing here does I/O.
 *
 * Subjects. A topic is 1..TOPIC_MAX bytes of [A-Za-z0-9._/-]; a NATS
 * subject is tokens separated by '.', each non-empty, none "*" or ">", no
 * whitespace. A topic maps to PREFIX "." then one token per '/'-separated
 * segment of the topic, so topic hierarchies stay subject hierarchies for
 * other NATS tools ("sse.user.alice.>"):
 *   - a '.' inside a segment is written "%2E" (uppercase, exactly so);
 *   - an empty segment ("a//b", "/a", "a/") is the token "%" alone.
 * '%' is not a topic character, so the mapping is injective, and decoding
 * accepts exactly what encoding produces: anything else is not ours.
 *   "news"      -> "sse.news"        "user/alice" -> "sse.user.alice"
 *   "v1.2"      -> "sse.v1%2E2"      "a//b"       -> "sse.a.%.b"
 *
 * Epochs. An id's epoch names the log. For a stream it is derived from the
 * stream's identity: FNV-1a 64 of the stream name, a NUL and its creation
 * time (nanoseconds, decimal), folded to 32 bits; a stream that is deleted
 * and made again has another creation time and so another epoch, and a
 * client resuming with an old id gets `event: gap` as after a recreated
 * database. `ssereplay migrate` pins the epoch of the SQLite log it copies
 * by writing "ssereplay-epoch=XXXXXXXX" into the stream's description;
 * such a pin wins over the derivation.
 */
#ifndef SSEREPLAY_JSMAP_H
#define SSEREPLAY_JSMAP_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

/* Room for PREFIX "." and the longest mapped topic (128 dots: 384 bytes). */
#define JSMAP_SUBJECT_MAX	(NATS_PREFIX_MAX + 1 + 3 * TOPIC_MAX)

/* The description's epoch pin. */
#define JSMAP_EPOCH_PIN		"ssereplay-epoch="

/* A subject prefix: 1..NATS_PREFIX_MAX bytes of [A-Za-z0-9_-] tokens
 * separated by single dots. 1 if valid. */
int jsmap_prefix_ok(const char *prefix);

/* A stream name: 1..NATS_STREAM_MAX bytes of [A-Za-z0-9_-]. 1 if valid. */
int jsmap_stream_ok(const char *name);

/*
 * Write PREFIX.mapped(topic) and a NUL into out. The topic must be valid
 * (valid_topic()). Returns the length, or -1 if outsz is too small
 * (JSMAP_SUBJECT_MAX + 1 always suffices) or the topic is not valid.
 */
int jsmap_subject(char *out, size_t outsz, const char *prefix,
    const char *topic, size_t topic_len);

/*
 * The topic of a subject under prefix, written with a NUL into out
 * (TOPIC_MAX + 1 suffices). Returns its length, or -1 if the subject is
 * not prefix "." followed by a mapping jsmap_subject() makes.
 */
int jsmap_topic(char *out, size_t outsz, const char *prefix,
    const char *subject, size_t subject_len);

/*
 * The epoch (EPOCH_HEX_LEN lowercase hex and a NUL into out) of the stream
 * named name created at created_ns, with description desc (may be NULL).
 */
void jsmap_epoch(char out[EPOCH_HEX_LEN + 1], const char *name,
    int64_t created_ns, const char *desc);

/*
 * The stream sequence, storage time and pending count from the reply
 * subject of a message a JetStream consumer delivered:
 *   $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
 * or the newer form with domain and account hash after "ACK" (and maybe
 * a random token at the end). Returns 0, or -1 if reply is not one.
 */
int jsmap_ack_parse(const char *reply, uint64_t *sseq, int64_t *ts_ns,
    uint64_t *pending);

/*
 * A JetStream publish acknowledgement (JSON). Returns 0 with *seq (and
 * *duplicate) set; 1 if it is an error answer, its description in err
 * (*code its err_code); -1 if it is not JSON of either shape.
 */
int jsmap_puback_parse(const char *buf, size_t len, uint64_t *seq,
    int *duplicate, int *code, char *err, size_t errsz);

#endif
