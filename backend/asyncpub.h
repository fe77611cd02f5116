/*
 * asyncpub.h: publishing for callers that must not block, such as the hub
 * thread when a WebSocket client sends an event. Jobs are queued; one
 * thread takes everything queued at once, commits it through the group
 * committer (one wait for the lot, so a burst shares transactions), and
 * hands the finished jobs back through the done callback in the order
 * they were submitted. A job with a refusal is not committed; it only
 * keeps its place in that order.
 */
#ifndef SSEREPLAY_ASYNCPUB_H
#define SSEREPLAY_ASYNCPUB_H

#include <stdint.h>

#include "body.h"

struct asyncpub;
struct committer;

struct pubjob {
	struct publish_req	 req;	/* the submitter's, untouched here */
	/* Not to be committed: only to come back in its place in the
	 * order, so that a refusal does not overtake earlier publishes. */
	const char		*refusal;
	void			*owner;	/* the submitter's, untouched here */
	int			 ok;	/* set before done: committed */
	uint64_t		 seq;	/* set before done: its id */
	struct pubjob		*next;
};

/* Gets a list of finished jobs, on the asyncpub thread; takes them. */
typedef void (*asyncpub_done_fn)(void *arg, struct pubjob *list);

/* Start the thread. 0, or -1 with a message in err. */
int asyncpub_start(struct asyncpub **out, struct committer *c,
    asyncpub_done_fn done, void *arg, char *err, size_t errsz);

/* Queue a job (ownership passes until it comes back through done). Safe
 * from any thread. */
void asyncpub_submit(struct asyncpub *p, struct pubjob *job);

/* Commit what is queued, hand it back, stop the thread. Accepts NULL. */
void asyncpub_stop(struct asyncpub *p);

#endif
