/*
 * hub.h: the fan-out. One thread runs an epoll loop that owns every open
 * event stream after its headers were accepted, and the log's in-memory
 * tail.
 *
 * The tail holds the newest events, each encoded once as SSE bytes and
 * shared by every subscriber. A live subscriber is only a cursor into it:
 * when events arrive, each subscriber gets everything it is missing in one
 * writev, its FastCGI record headers pointing around the shared bytes. A
 * subscriber behind the tail (a deep resume, or one that fell off it)
 * replays from SQLite in batches, one batch each time its socket drains,
 * and joins the tail where it starts; the cursor is a sequence number, so
 * the seam between replay and live has neither gap nor duplicate.
 *
 * Events enter the tail only by reading the log in sequence order (after a
 * hub_notify() from our own committer, and every POLL_INTERVAL_MS for other
 * processes), so the tail is exactly the log's order, whoever wrote it.
 *
 * A subscriber whose unsent backlog passes the configured bound is closed
 * at a safe point; it resumes from the log with Last-Event-ID and loses
 * nothing. A subscriber that goes away is noticed by EOF/EPIPE on its
 * connection (web servers never send FCGI_ABORT_REQUEST) or, at the latest,
 * by the next heartbeat write.
 */
#ifndef SSEREPLAY_HUB_H
#define SSEREPLAY_HUB_H

#include <stdint.h>

#include "asyncpub.h"
#include "auth.h"
#include "config.h"
#include "eventid.h"
#include "bounds.h"
#include "wshandshake.h"

struct hub;

/* How the bytes of a stream are framed on its connection. */
enum hub_framing {
	FRAMING_FCGI,	/* FastCGI FCGI_STDOUT records, then FCGI_END_REQUEST */
	FRAMING_RAW,	/* plain bytes (CGI: our stdout) */
	FRAMING_WS,	/* WebSocket frames after a 101 (our own socket) */
};

/* A validated GET /events, as http.c hands it over. */
struct stream_req {
	int			ntopics;
	char			topics[TOPICS_MAX][TOPIC_MAX + 1];
	int			has_resume;
	struct resume_point	resume;
	char			resume_raw[RESUME_ID_MAX + 1];	/* as sent */
	char			allow_origin[ORIGIN_MAX + 1];	/* "" = none */
	/* WebSocket only: the handshake's answer, and whether the client
	 * showed a publish token (else only ws_publish_topic topics). */
	char			ws_accept[WS_ACCEPT_LEN + 1];
	int			ws_may_publish;
	/* Who subscribes (WebSocket publishing checks it too), when an
	 * access token ends the stream (unix seconds, 0 = never), and the
	 * per-address count to release when it ends (quota.h). */
	struct principal	who;
	int64_t			expires;
	struct addr_slot	*slot;
};

/*
 * Create a hub reading the log at dbpath (created if create is set).
 * exit_when_idle makes hub_run() return once its last stream has ended
 * (CGI: one stream per process). Returns 0, or -1 with a message in err.
 */
int hub_create(struct hub **out, const char *dbpath, int create,
    const struct config *cfg, int exit_when_idle, char *err, size_t errsz);

/* The epoch of the log the hub serves (for ids made elsewhere). */
const char *hub_epoch(const struct hub *h);

/*
 * Hand over a connection whose request was validated: the hub writes the
 * response headers, then the stream, and finally FCGI_END_REQUEST and
 * close. Takes ownership of fd and of req->slot in every case. Safe from any thread.
 * Returns 0, or -1 (fd closed) when out of memory.
 */
int hub_adopt(struct hub *h, int fd, uint16_t request_id,
    enum hub_framing framing, const struct stream_req *req);

/* New events were committed: read them into the tail now. Safe from any
 * thread and from a signal handler. */
void hub_notify(struct hub *h);

/*
 * Publish what WebSocket clients send through p (set before hub_run();
 * without it they get an error). hub_publish_done() is the asyncpub done
 * callback that brings the results back to the hub thread, which answers
 * each client with its ack.
 */
void hub_set_publisher(struct hub *h, struct asyncpub *p);
void hub_publish_done(void *hub, struct pubjob *list);

/* End every stream and WebSocket now (POST /disconnect, the demo's "drop
 * all connections"): SSE streams end cleanly, WebSockets close with 1012.
 * Clients reconnect and resume. Safe from any thread. */
void hub_disconnect_all(struct hub *h);

/* Ask hub_run() to end its streams cleanly and return. Safe from any
 * thread and from a signal handler. */
void hub_stop(struct hub *h);

/* Run the loop until hub_stop() (or idle, see hub_create). 0 or -1. */
int hub_run(struct hub *h);

/* Free. Accepts NULL. Call after hub_run() returned. */
void hub_free(struct hub *h);

#endif
