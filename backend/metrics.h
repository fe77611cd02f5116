/*
 * metrics.h: process-wide counters and gauges, updated with relaxed atomics
 * from any thread and rendered in the Prometheus text exposition format
 * (version 0.0.4) for GET /metrics.
 */
#ifndef SSEREPLAY_METRICS_H
#define SSEREPLAY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct metrics {
	atomic_long		subscribers;		/* gauge: open streams */
	atomic_ullong		streams_opened;
	atomic_ullong		events_published;	/* committed by this process */
	atomic_ullong		events_delivered;	/* live, per subscriber */
	atomic_ullong		events_replayed;	/* from the log, per subscriber */
	atomic_ullong		gaps;
	atomic_ullong		slow_dropped;
	atomic_ullong		publish_errors;
	atomic_llong		bytes_queued;		/* gauge: unsent bytes held */
	atomic_ullong		log_first_seq;		/* gauge: 0 = empty */
	atomic_ullong		log_last_seq;		/* gauge: last assigned */
	atomic_ullong		tail_events;		/* gauge: in-memory tail */
	atomic_ullong		tail_bytes;
	atomic_long		ws_connections;		/* gauge: open WebSockets */
	atomic_ullong		ws_refused;		/* handshakes refused */
	atomic_ullong		ws_messages;		/* messages received */
	atomic_ullong		ws_acked;		/* publishes acknowledged */
	atomic_ullong		ws_protocol_closes;	/* closed for a protocol error */
	/* Refusals by limit (ssereplay_refusals_total{reason=...}). */
	atomic_ullong		refused_subscribers;	/* max_subscribers */
	atomic_ullong		refused_per_address;	/* max_subscribers_per_address */
	atomic_ullong		refused_topics;		/* TOPICS_MAX */
	atomic_ullong		refused_event_size;	/* max_event_size */
	atomic_ullong		refused_body_size;	/* request body */
	atomic_ullong		refused_header_size;	/* query / handshake head */
	atomic_ullong		refused_ws_message_size; /* ws_max_message */
	atomic_ullong		refused_publish_rate;	/* publish_rate */
	atomic_ullong		refused_auth;		/* private topic, token */
	atomic_ullong		reauth_closed;		/* streams ended at token expiry */
};

extern struct metrics metrics;

#define METRIC_ADD(field, n) \
	atomic_fetch_add_explicit(&metrics.field, (n), memory_order_relaxed)
#define METRIC_SET(field, v) \
	atomic_store_explicit(&metrics.field, (v), memory_order_relaxed)
#define METRIC_GET(field) \
	atomic_load_explicit(&metrics.field, memory_order_relaxed)

/*
 * Render all metrics into out. Returns the length written, or -1 if out is
 * too small (8 KiB suffices).
 */
int metrics_render(char *out, size_t outsz);

#endif
