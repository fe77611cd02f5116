/*
 * committer.h: group commit. A publisher on any thread queues its event
 * and waits; whoever finds no commit in progress becomes the leader, takes
 * everything queued, appends it in one SQLite transaction (one fsync for
 * the whole group), wakes each publisher of the group with its id, tells
 * the hub, and hands the lead to the next waiting publisher if more came
 * meanwhile. A lone publisher thus commits on its own thread without a
 * context switch; concurrent ones share transactions.
 *
 * Retention runs on a thread of its own with its own connection, a bounded
 * number of rows per transaction, so pruning never stalls publishing for
 * long, nor live streams at all.
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

/*
 * Append n events as one caller and wait until all are committed: they
 * share groups with everyone else's. ok[i] says whether event i was
 * stored, with its id in seqs[i]. Safe from any thread.
 */
void committer_publish_many(struct committer *c,
    const struct publish_req *const *reqs, size_t n, uint64_t *seqs,
    int *ok);

/* Finish what is queued, stop the thread, close the log. Accepts NULL. */
void committer_stop(struct committer *c);

#endif
