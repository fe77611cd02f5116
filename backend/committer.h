/*
 * committer.h: group commit. Publishers on any thread hand their event to
 * one committer thread and wait; the committer takes everything queued,
 * appends it in one SQLite transaction (one fsync for the whole group),
 * then wakes every publisher with its id and tells the hub. Between groups
 * it applies retention, a bounded number of rows at a time, so pruning
 * never stalls publishing or live streams.
 */
#ifndef SSEREPLAY_COMMITTER_H
#define SSEREPLAY_COMMITTER_H

#include <stdint.h>

#include "body.h"
#include "config.h"

struct committer;
struct hub;

/* Open the log (creating it if missing) and start the thread. hub may be
 * NULL. Returns 0, or -1 with a message in err. */
int committer_start(struct committer **out, const char *dbpath,
    const struct config *cfg, struct hub *hub, char *err, size_t errsz);

/* The log's epoch. */
const char *committer_epoch(const struct committer *c);

/*
 * Append one event and wait until it is committed (or failed). Safe from
 * any thread; req is borrowed for the duration of the call. Returns 0 with
 * *seq set, or -1 (the log could not be written; the event is not stored).
 */
int committer_publish(struct committer *c, const struct publish_req *req,
    uint64_t *seq);

/* Finish what is queued, stop the thread, close the log. Accepts NULL. */
void committer_stop(struct committer *c);

#endif
