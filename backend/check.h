/*
 * check.h: ssereplay-check, an end-to-end checker for any Server-Sent
 * Events server: N clients that behave like a browser's EventSource, an
 * optional publisher, and the bookkeeping that says whether every client
 * saw every event exactly once and in order.
 *
 * The clients (check_run()): HTTP/1.1 GET of the stream URL, chunked or
 * not (httpclient.h), parsed by the WHATWG rules (sseparse.h). On the end
 * of a stream or a failed connection a client waits the server's `retry:`
 * time (3 s until one is given) and reconnects with Last-Event-ID set to
 * the last event ID string, an opaque byte string. Unlike a browser it
 * also reconnects after a non-200 answer (counted as an HTTP error), so a
 * restart of the server behind a proxy can be ridden out.
 *
 * The sequence: every event's data carries the publisher's sequence
 * number under a JSON key or as a whitespace-separated field
 * (--seq-field), and optionally a source ("src", < CHECK_SRC_MAX) when
 * several publishers run and a publish time ("t", realtime microseconds)
 * for the delivery latency. With --publish-url the tool publishes itself,
 * one source per publisher connection; a publish that failed without an
 * answer may or may not have been stored, so its number is neither
 * expected nor held against the server ("uncertain").
 *
 * Per client: distinct events received, missing (acknowledged publishes
 * never received), duplicated, out of order (below the highest already
 * seen from its source), gaps signalled by the server (an event of type
 * --gap-event): the numbers missing right before the first event after
 * a gap are excused, and a gap that excused nothing is "spurious".
 *
 * Faults the tool causes: --chaos P closes a connection with probability P
 * per event received and reconnects after a random pause; --stall makes
 * clients stop reading for a while (slow consumers); --burst-at closes
 * every client at once and reconnects them together.
 *
 * check_probe(): the operator's check of a deployment path (see
 * check_probe() below and the README).
 *
 * Both return the process exit status: 0 all good, 1 a problem found,
 * 2 usage or setup error (message on stderr).
 */
#ifndef SSEREPLAY_CHECK_H
#define SSEREPLAY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define CHECK_CLIENTS_MAX	20000
#define CHECK_SRC_MAX		64	/* publisher sources */
#define CHECK_PUBLISHERS_MAX	CHECK_SRC_MAX
#define CHECK_SEQ_MAX		(1ULL << 31)	/* largest sequence tracked */
#define CHECK_URL_MAX		2048
#define CHECK_TOKEN_MAX		256
#define CHECK_REQ_MAX		(CHECK_URL_MAX + 2048)
#define CHECK_EVENT_MAX		(64 * 1024)	/* default --max-event */
#define CHECK_PAD_MAX		(32 * 1024)	/* --pad */
#define CHECK_FIRST_MISSING	8	/* missing numbers listed per client */
#define CHECK_RETRY_DEFAULT_MS	3000	/* before a server sends retry: */
#define CHECK_RETRY_MAX_MS	60000	/* a longer retry: is capped */

struct check_opts {
	const char	*url;		/* the stream (--url or --probe) */
	unsigned	 clients;
	double		 duration;	/* s of publishing/listening; 0: none */
	uint64_t	 events;	/* events to publish/expect; 0: none */
	double		 chaos;		/* drop probability per event */
	double		 pause_min, pause_max;	/* ms, chaos reconnect pause */
	const char	*publish_url;	/* may be NULL */
	const char	*token;		/* may be NULL */
	const char	*publish_format; /* "form", "json" or "raw" */
	const char	*topic;		/* NULL: the URL's topic= */
	double		 rate;		/* events/s in total; 0: unlimited */
	unsigned	 publishers;	/* publisher connections (sources) */
	const char	*seq_field;	/* JSON key, or field number */
	const char	*gap_event;	/* event type of a signalled gap */
	int		 json;
	int		 progress;	/* -1: when stderr is a TTY */
	double		 settle;	/* s without progress before giving up */
	double		 connect_wait;	/* s for all clients to connect */
	uint64_t	 seed;
	unsigned	 stall_n;	/* clients 0..stall_n-1 stop reading */
	double		 stall_at, stall_for;	/* s after publishing starts */
	int		 stall_rcvbuf;	/* SO_RCVBUF of stalling clients */
	int		 stall_offline;	/* --offline: disconnect instead */
	double		 burst_at;	/* s after publishing starts; <0 off */
	size_t		 max_event;	/* bytes of one event's data */
	size_t		 pad;		/* filler bytes in published data */
	unsigned	 show_clients;	/* rows of the human table */
	double		 idle;		/* probe: s of silence to watch */
	unsigned	 probe_events;	/* probe: events to publish */
	double		 probe_interval;	/* probe: s between them */
};

void	check_defaults(struct check_opts *o);
int	check_run(const struct check_opts *o);
int	check_probe(const struct check_opts *o);

#endif
