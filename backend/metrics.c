/* metrics.c: see metrics.h. */
#include <stdio.h>

#include "metrics.h"

struct metrics metrics;

int
metrics_render(char *out, size_t outsz)
{
	unsigned long long first, last, count;
	int n, m;

	first = METRIC_GET(log_first_seq);
	last = METRIC_GET(log_last_seq);
	/* Sequence numbers are contiguous in the log (only the oldest events
	 * are ever deleted), so the count needs no COUNT(*) scan. */
	/* The two gauges are set by different threads: never wrap. */
	count = first == 0 || last < first ? 0 : last - first + 1;
	n = snprintf(out, outsz,
	    "# HELP ssereplay_subscribers Open event streams.\n"
	    "# TYPE ssereplay_subscribers gauge\n"
	    "ssereplay_subscribers %ld\n"
	    "# HELP ssereplay_streams_opened_total Event streams accepted.\n"
	    "# TYPE ssereplay_streams_opened_total counter\n"
	    "ssereplay_streams_opened_total %llu\n"
	    "# HELP ssereplay_events_published_total Events committed by this process.\n"
	    "# TYPE ssereplay_events_published_total counter\n"
	    "ssereplay_events_published_total %llu\n"
	    "# HELP ssereplay_publish_errors_total Publishes that failed to commit.\n"
	    "# TYPE ssereplay_publish_errors_total counter\n"
	    "ssereplay_publish_errors_total %llu\n"
	    "# HELP ssereplay_events_delivered_total Live events written to subscribers.\n"
	    "# TYPE ssereplay_events_delivered_total counter\n"
	    "ssereplay_events_delivered_total %llu\n"
	    "# HELP ssereplay_events_replayed_total Events replayed from the log to subscribers.\n"
	    "# TYPE ssereplay_events_replayed_total counter\n"
	    "ssereplay_events_replayed_total %llu\n"
	    "# HELP ssereplay_gaps_total Gap events sent (resume point no longer in the log).\n"
	    "# TYPE ssereplay_gaps_total counter\n"
	    "ssereplay_gaps_total %llu\n"
	    "# HELP ssereplay_slow_subscribers_dropped_total Subscribers disconnected past the backlog bound.\n"
	    "# TYPE ssereplay_slow_subscribers_dropped_total counter\n"
	    "ssereplay_slow_subscribers_dropped_total %llu\n"
	    "# HELP ssereplay_bytes_queued Bytes accepted for subscribers but not yet written.\n"
	    "# TYPE ssereplay_bytes_queued gauge\n"
	    "ssereplay_bytes_queued %lld\n"
	    "# HELP ssereplay_log_events Events retained in the log.\n"
	    "# TYPE ssereplay_log_events gauge\n"
	    "ssereplay_log_events %llu\n"
	    "# HELP ssereplay_log_oldest_seq Sequence number of the oldest retained event (0 = empty).\n"
	    "# TYPE ssereplay_log_oldest_seq gauge\n"
	    "ssereplay_log_oldest_seq %llu\n"
	    "# HELP ssereplay_log_last_seq Last sequence number assigned.\n"
	    "# TYPE ssereplay_log_last_seq gauge\n"
	    "ssereplay_log_last_seq %llu\n"
	    "# HELP ssereplay_tail_events Events held in the shared in-memory tail.\n"
	    "# TYPE ssereplay_tail_events gauge\n"
	    "ssereplay_tail_events %llu\n"
	    "# HELP ssereplay_tail_bytes Encoded bytes held in the shared in-memory tail.\n"
	    "# TYPE ssereplay_tail_bytes gauge\n"
	    "ssereplay_tail_bytes %llu\n",
	    METRIC_GET(subscribers), METRIC_GET(streams_opened),
	    METRIC_GET(events_published), METRIC_GET(publish_errors),
	    METRIC_GET(events_delivered), METRIC_GET(events_replayed),
	    METRIC_GET(gaps), METRIC_GET(slow_dropped),
	    METRIC_GET(bytes_queued), count, first, last,
	    METRIC_GET(tail_events), METRIC_GET(tail_bytes));
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	m = snprintf(out + n, outsz - (size_t)n,
	    "# HELP ssereplay_ws_connections Open WebSocket connections (also counted in ssereplay_subscribers).\n"
	    "# TYPE ssereplay_ws_connections gauge\n"
	    "ssereplay_ws_connections %ld\n"
	    "# HELP ssereplay_ws_refused_total WebSocket handshakes refused (bad request, origin, token, limits).\n"
	    "# TYPE ssereplay_ws_refused_total counter\n"
	    "ssereplay_ws_refused_total %llu\n"
	    "# HELP ssereplay_ws_messages_total WebSocket messages received from clients.\n"
	    "# TYPE ssereplay_ws_messages_total counter\n"
	    "ssereplay_ws_messages_total %llu\n"
	    "# HELP ssereplay_ws_acked_total Events published over WebSocket and acknowledged.\n"
	    "# TYPE ssereplay_ws_acked_total counter\n"
	    "ssereplay_ws_acked_total %llu\n"
	    "# HELP ssereplay_ws_protocol_closes_total WebSocket connections closed for a protocol error (1002, 1003, 1007, 1009).\n"
	    "# TYPE ssereplay_ws_protocol_closes_total counter\n"
	    "ssereplay_ws_protocol_closes_total %llu\n",
	    METRIC_GET(ws_connections), METRIC_GET(ws_refused),
	    METRIC_GET(ws_messages), METRIC_GET(ws_acked),
	    METRIC_GET(ws_protocol_closes));
	if (m < 0 || (size_t)m >= outsz - (size_t)n)
		return -1;
	n += m;
	m = snprintf(out + n, outsz - (size_t)n,
	    "# HELP ssereplay_refusals_total Requests, streams and messages refused by a limit or an authorisation rule, by reason.\n"
	    "# TYPE ssereplay_refusals_total counter\n"
	    "ssereplay_refusals_total{reason=\"subscribers\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"per_address\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"topics\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"event_size\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"body_size\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"header_size\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"ws_message_size\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"publish_rate\"} %llu\n"
	    "ssereplay_refusals_total{reason=\"auth\"} %llu\n"
	    "# HELP ssereplay_reauth_total Streams ended because their access token expired (event: reauth).\n"
	    "# TYPE ssereplay_reauth_total counter\n"
	    "ssereplay_reauth_total %llu\n",
	    METRIC_GET(refused_subscribers), METRIC_GET(refused_per_address),
	    METRIC_GET(refused_topics), METRIC_GET(refused_event_size),
	    METRIC_GET(refused_body_size), METRIC_GET(refused_header_size),
	    METRIC_GET(refused_ws_message_size),
	    METRIC_GET(refused_publish_rate), METRIC_GET(refused_auth),
	    METRIC_GET(reauth_closed));
	if (m < 0 || (size_t)m >= outsz - (size_t)n)
		return -1;
	return n + m;
}
