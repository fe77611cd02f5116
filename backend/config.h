/*
 * config.h: the server's settings, from defaults, then the config file, then
 * command-line flags (each later source overrides the earlier).
 *
 * The file is `key = value` lines; `#` starts a comment (only at the start
 * of a line or after whitespace); blank lines are ignored; keys are the
 * field names below. Durations take ms, s, m, h or d (no suffix = seconds);
 * sizes take k or M (no suffix = bytes); booleans are yes/no/true/false/1/0.
 * Repeatable keys: publish_token, cors_origin, ws_publish_topic, private,
 * group (each line adds one). `log = jetstream` needs nats_url; the other
 * nats_* keys have defaults (jslog.h).
 *
 * Errors come back as -1 with a message "FILE:LINE: what" (or "KEY: what"
 * for a flag) in the caller's buffer; nothing is printed here.
 */
#ifndef SSEREPLAY_CONFIG_H
#define SSEREPLAY_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "bounds.h"

/* Which event log (logdrv.h). */
enum log_kind {
	LOG_SQLITE,		/* log = sqlite: the file `db` */
	LOG_JETSTREAM,		/* log = jetstream: the stream of nats_* */
};

struct config {
	int		log;				/* log: enum log_kind */
	char		db[PATH_MAX];			/* db */
	char		listen[PATH_MAX];		/* listen: unix:PATH | HOST:PORT */
	int		listen_force;			/* listen_force */
	char		tokens[TOKENS_MAX][TOKEN_MAX + 1];	/* publish_token */
	int		ntokens;
	char		origins[ORIGINS_MAX][ORIGIN_MAX + 1];	/* cors_origin */
	int		norigins;
	long long	retention_max_events;		/* 0 = unlimited */
	long long	retention_max_age_ms;		/* retention_max_age, 0 = unlimited */
	long long	heartbeat_ms;			/* heartbeat, 100 ms .. 1 h */
	long long	retry_ms;			/* retry, 0 .. 1 h */
	size_t		max_event_size;			/* 1 .. EVENT_SIZE_CEILING */
	long long	max_subscribers;		/* 1 .. 1000000 */
	size_t		backlog_bound;			/* 64k .. 1G */
	int		workers;			/* 1 .. WORKERS_MAX */
	int		sync_full;			/* sync = full | normal */
	char		ws[PATH_MAX];			/* ws: WebSocket socket, "" = none */
	char		ws_topics[WS_TOPICS_MAX][TOPIC_MAX + 1];	/* ws_publish_topic */
	int		nws_topics;			/* anonymous WebSocket publishing */
	size_t		ws_max_message;			/* ws_max_message, 0 = derived */
	char		admin_token[TOKEN_MAX + 1];	/* admin_token, "" = no /disconnect */
	char		user[NAME_MAX_LEN + 1];		/* user: drop to it when root */
	int		sandbox;			/* sandbox: seccomp after start-up */
	long long	max_subscribers_per_address;	/* 0 = unlimited */
	long long	publish_rate;			/* per token per second, 0 = unlimited */
	char		private_rules[PRIVATE_RULES_MAX][RULE_MAX + 1];	/* private */
	int		nprivate;
	char		groups[GROUPS_MAX][RULE_MAX + 1];	/* group */
	int		ngroups;
	char		token_key[TOKEN_MAX + 1];	/* token_key: HMAC key, "" = none */
	char		token_cookie[NAME_MAX_LEN + 1];	/* token_cookie */
	/* log = jetstream (jslog.h) */
	char		nats_url[NATS_URLS_MAX + 1];	/* nats_url: URL[,URL...] */
	char		nats_stream[NATS_STREAM_MAX + 1];	/* nats_stream */
	char		nats_subject[NATS_PREFIX_MAX + 1];	/* nats_subject: prefix */
	int		nats_replicas;			/* nats_replicas: 1..5, at creation */
	char		nats_creds[PATH_MAX];		/* nats_creds: JWT + NKey file */
	char		nats_user[NATS_SECRET_MAX + 1];	/* nats_user */
	char		nats_password[NATS_SECRET_MAX + 1];	/* nats_password */
	char		nats_token[NATS_SECRET_MAX + 1];	/* nats_token */
	char		nats_ca[PATH_MAX];		/* nats_ca: CA file for tls:// */
	long long	nats_timeout_ms;		/* nats_timeout: publish ack wait */
	int		nats_discover;			/* nats_discover: servers the cluster names */
};

/* The largest WebSocket message accepted: ws_max_message, or twice
 * max_event_size plus BODY_OVERHEAD_MAX (enough for text; data made only
 * of control characters, 6 bytes each escaped, may need a larger
 * ws_max_message). */
size_t config_ws_max_message(const struct config *cfg);

/* Fill every field with its default (see bounds.h and conf/ssereplay.conf). */
void config_defaults(struct config *cfg);

/*
 * Set one key from its text value, checking type and range. Returns 0, or
 * -1 with a message "KEY: what" in err (unknown key, bad value, too many
 * repeats, value too long).
 */
int config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errsz);

/*
 * A log named as the tools take it: "sqlite:FILE" (log = sqlite, db =
 * FILE) or "jetstream:URL[,URL...]" (log = jetstream, nats_url = the
 * URLs). Returns 0, or -1 with a message in err.
 */
int config_set_log_spec(struct config *cfg, const char *spec, char *err,
    size_t errsz);

/*
 * Read a config file and config_set() each line. Returns 0, or -1 with
 * "PATH:LINE: what" (or "PATH: strerror") in err. Lines longer than
 * CONFIG_LINE_MAX are errors.
 */
int config_load(struct config *cfg, const char *path, char *err,
    size_t errsz);

#endif
