/*
 * bounds.h: every bound ssereplay places on outside input or on memory, in
 * one place. Configurable ones are defaults here and may be changed in the
 * config file (config.h names the key next to each field).
 */
#ifndef SSEREPLAY_BOUNDS_H
#define SSEREPLAY_BOUNDS_H

/* Topics: 1..TOPIC_MAX bytes of [A-Za-z0-9._/-]; 1..TOPICS_MAX per stream. */
#define TOPIC_MAX		128
#define TOPICS_MAX		16

/* Event type names: 1..EVENT_NAME_MAX bytes of [A-Za-z0-9._:-]. */
#define EVENT_NAME_MAX		64

/* An event id as we print it: 8 hex digits of epoch, '-', up to 20 digits. */
#define EPOCH_HEX_LEN		8
#define EVENT_ID_MAX		(EPOCH_HEX_LEN + 1 + 20)
/* A Last-Event-ID / lastEventId value we are willing to look at. */
#define RESUME_ID_MAX		64

/* Query strings and request bodies. */
#define QUERY_MAX		4096
#define BODY_OVERHEAD_MAX	4096	/* form/JSON framing around the data */

/* Event data: default and hard ceiling for `max_event_size`. */
#define EVENT_SIZE_DEFAULT	(64 * 1024)
#define EVENT_SIZE_CEILING	(1024 * 1024)

/* Publisher tokens and CORS origins from the config. */
#define TOKENS_MAX		32
#define TOKEN_MAX		256
#define ORIGINS_MAX		32
#define ORIGIN_MAX		256

/* Topics open to anonymous WebSocket publishing (ws_publish_topic). */
#define WS_TOPICS_MAX		32
/* WebSocket: intake threads doing handshakes, how long a handshake may
 * take, publishes one connection may have waiting for their commit. */
#define WS_INTAKE_THREADS	4
#define WS_HANDSHAKE_TIMEOUT_MS	5000
#define WS_INFLIGHT_MAX		256

/* Private topics (auth.h): rules, groups, their text; user names. */
#define PRIVATE_RULES_MAX	32
#define GROUPS_MAX		32
#define RULE_MAX		512
#define NAME_MAX_LEN		64
#define GROUP_MEMBERS_MAX	64
/* Access tokens: the HMAC key's least length, the token's greatest, the
 * topic patterns one may carry, the cookie it may come in. */
#define TOKEN_KEY_MIN		16
#define ACCESS_TOKEN_MAX	2048
#define TOKEN_PATTERNS_MAX	16
#define TOKEN_COOKIE_DEFAULT	"ssereplay_token"

/* Streams one client address may hold open (default). */
#define SUBSCRIBERS_PER_ADDRESS_DEFAULT	1000

/* Config file lines. */
#define CONFIG_LINE_MAX		1024

/* Streams, heartbeats, backlog. */
#define SUBSCRIBERS_DEFAULT	20000
#define HEARTBEAT_MS_DEFAULT	15000
#define RETRY_MS_DEFAULT	3000
#define RETRY_JITTER_PERCENT	30
#define BACKLOG_BOUND_DEFAULT	(4 * 1024 * 1024)
#define WORKERS_DEFAULT		16
#define WORKERS_MAX		256

/* Retention defaults (0 = unlimited). */
#define RETENTION_EVENTS_DEFAULT	1000000
#define RETENTION_AGE_MS_DEFAULT	(7LL * 24 * 3600 * 1000)

/* Group commit: events per transaction, rows deleted per pruning step. */
#define COMMIT_BATCH_MAX	4096
#define PRUNE_BATCH_MAX		5000

/* The in-memory tail of the log shared by live subscribers. */
#define TAIL_EVENTS_MAX		(256 * 1024)
#define TAIL_BYTES_MAX		(64 * 1024 * 1024)

/* Replay from SQLite: bytes read per batch while the socket drains. */
#define REPLAY_BATCH_BYTES	(256 * 1024)
#define REPLAY_BATCH_ROWS	2048

/* One writev: FastCGI records are at most 65535 content bytes. */
#define FCGI_CONTENT_MAX	65535
#define WRITE_BATCH_BYTES	(256 * 1024)

/* Another process's appends reach live streams within this interval. */
#define POLL_INTERVAL_MS	25

/* SQLITE_BUSY: wait this long in total before giving up. */
#define DB_BUSY_TIMEOUT_MS	10000

/* The JetStream log (jslog.h): server URLs (comma-separated), stream name,
 * subject prefix, credentials; how long a publish may wait for its ack
 * (default), how stale the cached stream bounds may be, events the
 * follower may hold for the hub, replay cursors kept per connection. */
#define NATS_URLS_MAX		1024
#define NATS_STREAM_MAX		32
#define NATS_PREFIX_MAX		64
#define NATS_SECRET_MAX		256
#define NATS_TIMEOUT_MS_DEFAULT	5000
#define NATS_ACK_RETRY_MS	1000
#define NATS_BOUNDS_STALE_MS	250
#define NATS_FOLLOW_BYTES_MAX	(64 * 1024 * 1024)
#define NATS_CURSORS_MAX	32
#define NATS_CURSOR_IDLE_MS	20000

#endif
