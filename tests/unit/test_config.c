/*
 * test_config.c: backend/config.c, one named case per rule.
 *
 * config_set() cases are a table: key, value, and either the field it must
 * set or the exact message. A refused value must leave the whole struct as
 * it was. config_load() cases write a temporary file (mkstemp) and check
 * the values or the "PATH:LINE: what" message. The WebSocket keys (ws,
 * ws_publish_topic, ws_max_message) and admin_token go through the same
 * table, with config_ws_max_message() checked on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

enum field {
	F_NONE,		/* an error case */
	F_DB,
	F_LISTEN,
	F_FORCE,
	F_TOKEN,
	F_ORIGIN,
	F_RET_EVENTS,
	F_RET_AGE,
	F_HEARTBEAT,
	F_RETRY,
	F_MAX_EVENT,
	F_MAX_SUBS,
	F_BACKLOG,
	F_WORKERS,
	F_SYNC,
	F_LOG,
	F_NATS_URL,
	F_NATS_STREAM,
	F_NATS_SUBJECT,
	F_NATS_REPLICAS,
	F_NATS_CREDS,
	F_NATS_USER,
	F_NATS_TIMEOUT,
	F_NATS_DISCOVER,
	F_WS,
	F_WS_TOPIC,
	F_WS_MAX,
	F_ADMIN,
};

struct scase {
	const char	*key, *value;
	enum field	 f;
	long long	 num;		/* numeric fields */
	const char	*str;		/* string fields, or the message */
};

#define SETN(nm, k, v, f, n)						\
	{ .name = nm, .test_func = run_set, .initial_state =		\
	  &(struct scase){ k, v, f, n, NULL } }
#define SETS(nm, k, v, f, s)						\
	{ .name = nm, .test_func = run_set, .initial_state =		\
	  &(struct scase){ k, v, f, 0, s } }
#define BAD(nm, k, v, msg)						\
	{ .name = nm, .test_func = run_set, .initial_state =		\
	  &(struct scase){ k, v, F_NONE, 0, msg } }

#define S10	"xxxxxxxxxx"
#define S100	S10 S10 S10 S10 S10 S10 S10 S10 S10 S10
#define S256	S100 S100 S10 S10 S10 S10 S10 "xxxxxx"

/* sizeof(sun_path) is 108 on Linux: 107 bytes of path fit. */
#define P107	S100 "xxxxxxx"

static void
run_set(void **state)
{
	const struct scase	*c = *state;
	struct config		 cfg, before;
	char			 err[256] = "";
	long long		 got = 0;
	const char		*s = NULL;

	config_defaults(&cfg);
	before = cfg;
	if (c->f == F_NONE) {
		assert_int_equal(config_set(&cfg, c->key, c->value, err,
		    sizeof(err)), -1);
		assert_string_equal(err, c->str);
		/* A refused value changes nothing. */
		assert_memory_equal(&cfg, &before, sizeof(cfg));
		return;
	}
	if (config_set(&cfg, c->key, c->value, err, sizeof(err)) != 0)
		fail_msg("config_set: %s", err);
	switch (c->f) {
	case F_DB:
		s = cfg.db;
		break;
	case F_LISTEN:
		s = cfg.listen;
		break;
	case F_TOKEN:
		assert_int_equal(cfg.ntokens, 1);
		s = cfg.tokens[0];
		break;
	case F_ORIGIN:
		assert_int_equal(cfg.norigins, 1);
		s = cfg.origins[0];
		break;
	case F_FORCE:
		got = cfg.listen_force;
		break;
	case F_RET_EVENTS:
		got = cfg.retention_max_events;
		break;
	case F_RET_AGE:
		got = cfg.retention_max_age_ms;
		break;
	case F_HEARTBEAT:
		got = cfg.heartbeat_ms;
		break;
	case F_RETRY:
		got = cfg.retry_ms;
		break;
	case F_MAX_EVENT:
		got = (long long)cfg.max_event_size;
		break;
	case F_MAX_SUBS:
		got = cfg.max_subscribers;
		break;
	case F_BACKLOG:
		got = (long long)cfg.backlog_bound;
		break;
	case F_WORKERS:
		got = cfg.workers;
		break;
	case F_SYNC:
		got = cfg.sync_full;
		break;
	case F_LOG:
		got = cfg.log;
		break;
	case F_NATS_URL:
		s = cfg.nats_url;
		break;
	case F_NATS_STREAM:
		s = cfg.nats_stream;
		break;
	case F_NATS_SUBJECT:
		s = cfg.nats_subject;
		break;
	case F_NATS_REPLICAS:
		got = cfg.nats_replicas;
		break;
	case F_NATS_CREDS:
		s = cfg.nats_creds;
		break;
	case F_NATS_USER:
		s = cfg.nats_user;
		break;
	case F_NATS_TIMEOUT:
		got = cfg.nats_timeout_ms;
		break;
	case F_NATS_DISCOVER:
		got = cfg.nats_discover;
		break;
	case F_WS:
		s = cfg.ws;
		break;
	case F_WS_TOPIC:
		assert_int_equal(cfg.nws_topics, 1);
		s = cfg.ws_topics[0];
		break;
	case F_WS_MAX:
		got = (long long)cfg.ws_max_message;
		break;
	case F_ADMIN:
		s = cfg.admin_token;
		break;
	case F_NONE:
		break;
	}
	if (s != NULL)
		assert_string_equal(s, c->str);
	else
		assert_true(got == c->num);
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct config	 cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.db, "var/ssereplay.db");
	assert_string_equal(cfg.listen, "unix:var/ssereplay.sock");
	assert_int_equal(cfg.listen_force, 0);
	assert_int_equal(cfg.ntokens, 0);
	assert_int_equal(cfg.norigins, 0);
	assert_true(cfg.retention_max_events == RETENTION_EVENTS_DEFAULT);
	assert_true(cfg.retention_max_age_ms == RETENTION_AGE_MS_DEFAULT);
	assert_true(cfg.heartbeat_ms == HEARTBEAT_MS_DEFAULT);
	assert_true(cfg.retry_ms == RETRY_MS_DEFAULT);
	assert_true(cfg.max_event_size == EVENT_SIZE_DEFAULT);
	assert_true(cfg.max_subscribers == SUBSCRIBERS_DEFAULT);
	assert_true(cfg.backlog_bound == BACKLOG_BOUND_DEFAULT);
	assert_int_equal(cfg.workers, WORKERS_DEFAULT);
	assert_int_equal(cfg.sync_full, 1);
}

/* A second value for a single key replaces the first (flags over file). */
static void
test_later_value_wins(void **state)
{
	struct config	 cfg;
	char		 err[128];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "heartbeat", "5s", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "heartbeat", "7s", err,
	    sizeof(err)), 0);
	assert_true(cfg.heartbeat_ms == 7000);
}

static void
test_tokens_up_to_max(void **state)
{
	struct config	 cfg, before;
	char		 err[128], tok[32];
	int		 i;

	(void)state;
	config_defaults(&cfg);
	for (i = 0; i < TOKENS_MAX; i++) {
		snprintf(tok, sizeof(tok), "token-%d", i);
		assert_int_equal(config_set(&cfg, "publish_token", tok, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(cfg.ntokens, TOKENS_MAX);
	assert_string_equal(cfg.tokens[0], "token-0");
	assert_string_equal(cfg.tokens[TOKENS_MAX - 1], "token-31");
	before = cfg;
	assert_int_equal(config_set(&cfg, "publish_token", "one-more", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "publish_token: more than 32 tokens");
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void
test_origins_up_to_max(void **state)
{
	struct config	 cfg;
	char		 err[128], o[64];
	int		 i;

	(void)state;
	config_defaults(&cfg);
	for (i = 0; i < ORIGINS_MAX; i++) {
		snprintf(o, sizeof(o), "https://h%d.example", i);
		assert_int_equal(config_set(&cfg, "cors_origin", o, err,
		    sizeof(err)), 0);
	}
	assert_int_equal(cfg.norigins, ORIGINS_MAX);
	assert_string_equal(cfg.origins[ORIGINS_MAX - 1],
	    "https://h31.example");
	assert_int_equal(config_set(&cfg, "cors_origin", "https://x.example",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "cors_origin: more than 32 origins");
}

static void
test_db_too_long(void **state)
{
	struct config	 cfg;
	char		 err[128], *v;

	(void)state;
	config_defaults(&cfg);
	v = malloc(PATH_MAX + 1);
	assert_non_null(v);
	memset(v, 'd', PATH_MAX);
	v[PATH_MAX - 1] = '\0';		/* PATH_MAX - 1 bytes: fits */
	assert_int_equal(config_set(&cfg, "db", v, err, sizeof(err)), 0);
	assert_int_equal(strlen(cfg.db), PATH_MAX - 1);
	v[PATH_MAX - 1] = 'd';
	v[PATH_MAX] = '\0';		/* PATH_MAX bytes: no room for NUL */
	assert_int_equal(config_set(&cfg, "db", v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "db: must be 1 to "));
	free(v);
}

/* A small message buffer is truncated, still NUL-terminated. */
static void
test_small_err_buffer(void **state)
{
	struct config	 cfg;
	char		 err[8];

	(void)state;
	config_defaults(&cfg);
	memset(err, 'z', sizeof(err));
	assert_int_equal(config_set(&cfg, "nope", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "nope: u");
	assert_int_equal(config_set(&cfg, "nope", "1", NULL, 0), -1);
}

/* ------------------------------------------------------------------ */
/* config_load() with temporary files.                                 */

struct tmpfile {
	char	 path[64];
};

static void
tmp_write(struct tmpfile *t, const char *s, size_t len)
{
	int	 fd;

	strcpy(t->path, "/tmp/ssereplay-test-config.XXXXXX");
	fd = mkstemp(t->path);
	assert_true(fd != -1);
	assert_true(write(fd, s, len) == (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Load s (a literal, embedded NULs kept); returns config_load()'s rc. */
#define LOAD(cfg, s, err, t)						\
	load(cfg, s, sizeof(s) - 1, err, sizeof(err), t)

static int
load(struct config *cfg, const char *s, size_t len, char *err,
    size_t errsz, struct tmpfile *t)
{
	int	 rc;

	tmp_write(t, s, len);
	rc = config_load(cfg, t->path, err, errsz);
	unlink(t->path);
	return rc;
}

/* The message with the temporary path replaced by "F". */
static const char *
strip_path(const char *err, const struct tmpfile *t)
{
	size_t	 n = strlen(t->path);
	static char	 buf[512];

	assert_true(strncmp(err, t->path, n) == 0);
	snprintf(buf, sizeof(buf), "F%s", err + n);
	return buf;
}

static void
test_load_every_key(void **state)
{
	static const char	 file[] =
	    "# every key\n"
	    "db = /var/lib/ssereplay/events.db\n"
	    "listen = 127.0.0.1:9000\n"
	    "listen_force = yes\n"
	    "publish_token = first\n"
	    "publish_token = second\n"
	    "cors_origin = https://www.example.org\n"
	    "retention_max_events = 0\n"
	    "retention_max_age = 30d\n"
	    "heartbeat = 250ms\n"
	    "retry = 2m\n"
	    "max_event_size = 128k\n"
	    "max_subscribers = 500\n"
	    "backlog_bound = 8M\n"
	    "workers = 4\n"
	    "sync = normal\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.db, "/var/lib/ssereplay/events.db");
	assert_string_equal(cfg.listen, "127.0.0.1:9000");
	assert_int_equal(cfg.listen_force, 1);
	assert_int_equal(cfg.ntokens, 2);
	assert_string_equal(cfg.tokens[0], "first");
	assert_string_equal(cfg.tokens[1], "second");
	assert_int_equal(cfg.norigins, 1);
	assert_string_equal(cfg.origins[0], "https://www.example.org");
	assert_true(cfg.retention_max_events == 0);
	assert_true(cfg.retention_max_age_ms == 30LL * 86400 * 1000);
	assert_true(cfg.heartbeat_ms == 250);
	assert_true(cfg.retry_ms == 120000);
	assert_true(cfg.max_event_size == 128 * 1024);
	assert_true(cfg.max_subscribers == 500);
	assert_true(cfg.backlog_bound == 8 * 1024 * 1024);
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.sync_full, 0);
}

/* The file we ship documents the defaults: loading it changes none. */
static void
test_load_shipped_file(void **state)
{
	struct config	 cfg, def;
	char		 err[512], path[512];
	const char	*slash;
	FILE		*f;

	(void)state;
	/* This file is tests/unit/test_config.c under the top directory. */
	slash = strstr(__FILE__, "tests/unit/test_config.c");
	assert_non_null(slash);
	snprintf(path, sizeof(path), "%.*sconf/ssereplay.conf",
	    (int)(slash - __FILE__), __FILE__);
	if ((f = fopen(path, "r")) == NULL)
		skip();
	fclose(f);

	config_defaults(&cfg);
	config_defaults(&def);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.db, def.db);
	assert_string_equal(cfg.listen, def.listen);
	assert_int_equal(cfg.listen_force, def.listen_force);
	assert_true(cfg.retention_max_events == def.retention_max_events);
	assert_true(cfg.retention_max_age_ms == def.retention_max_age_ms);
	assert_true(cfg.heartbeat_ms == def.heartbeat_ms);
	assert_true(cfg.retry_ms == def.retry_ms);
	assert_true(cfg.max_event_size == def.max_event_size);
	assert_true(cfg.max_subscribers == def.max_subscribers);
	assert_true(cfg.backlog_bound == def.backlog_bound);
	assert_int_equal(cfg.workers, def.workers);
	assert_int_equal(cfg.sync_full, def.sync_full);
}

static void
test_load_comments_and_blanks(void **state)
{
	static const char	 file[] =
	    "# a comment\n"
	    "\n"
	    "   \t \n"
	    "   # an indented comment\n"
	    "#heartbeat = 1s\n"
	    "heartbeat = 20s # after whitespace\n"
	    "retry = 5s\t# after a tab\n"
	    "publish_token = ab#cd\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_true(cfg.heartbeat_ms == 20000);
	assert_true(cfg.retry_ms == 5000);
	/* '#' inside a word is not a comment. */
	assert_int_equal(cfg.ntokens, 1);
	assert_string_equal(cfg.tokens[0], "ab#cd");
}

static void
test_load_spaces_trimmed(void **state)
{
	static const char	 file[] =
	    "   heartbeat   =   30s   \n"
	    "\tworkers\t=\t8\t\n"
	    "db=no spaces.db\n"
	    "publish_token = a=b\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_true(cfg.heartbeat_ms == 30000);
	assert_int_equal(cfg.workers, 8);
	/* Inner spaces stay; only the ends are trimmed. */
	assert_string_equal(cfg.db, "no spaces.db");
	/* The first '=' splits. */
	assert_string_equal(cfg.tokens[0], "a=b");
}

static void
test_load_crlf_and_no_final_newline(void **state)
{
	static const char	 file[] =
	    "heartbeat = 2s\r\n"
	    "workers = 3";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_true(cfg.heartbeat_ms == 2000);
	assert_int_equal(cfg.workers, 3);
}

static void
test_load_bom(void **state)
{
	static const char	 file[] = "\xef\xbb\xbfworkers = 5\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_int_equal(cfg.workers, 5);
}

static void
test_load_empty_file(void **state)
{
	struct config	 cfg, def;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	def = cfg;
	assert_int_equal(LOAD(&cfg, "", err, &t), 0);
	assert_memory_equal(&cfg, &def, sizeof(cfg));
}

static void
test_load_unknown_key_line(void **state)
{
	static const char	 file[] =
	    "# line 1\n"
	    "workers = 2\n"
	    "\n"
	    "max_event_szie = 1k\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, file, err, &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:4: max_event_szie: unknown key");
}

static void
test_load_bad_value_line(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, "workers = 2\nheartbeat = 50ms\n", err,
	    &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:2: heartbeat: must be from 100ms to 1h");
}

static void
test_load_missing_equals(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, "\n\nheartbeat 15s\n", err, &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:3: missing '=' (lines are key = value)");
}

static void
test_load_missing_key(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, "  = 15s\n", err, &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:1: missing key before '='");
}

/* CONFIG_LINE_MAX bytes (without the LF) pass; one more is an error. */
static void
test_load_line_length(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "", *file;
	size_t		 pre, i;

	(void)state;
	file = malloc(CONFIG_LINE_MAX + 32);
	assert_non_null(file);
	/* "db = ddd...d" padded to exactly CONFIG_LINE_MAX bytes. */
	pre = strlen("workers = 2\n");
	memcpy(file, "workers = 2\ndb = ", pre + 5);
	for (i = pre + 5; i < pre + CONFIG_LINE_MAX; i++)
		file[i] = 'd';
	file[pre + CONFIG_LINE_MAX] = '\n';

	config_defaults(&cfg);
	if (load(&cfg, file, pre + CONFIG_LINE_MAX + 1, err, sizeof(err),
	    &t) != 0)
		fail_msg("%s", err);
	assert_int_equal(strlen(cfg.db), CONFIG_LINE_MAX - 5);

	file[pre + CONFIG_LINE_MAX] = 'd';
	file[pre + CONFIG_LINE_MAX + 1] = '\n';
	config_defaults(&cfg);
	assert_int_equal(load(&cfg, file, pre + CONFIG_LINE_MAX + 2, err,
	    sizeof(err), &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:2: line longer than 1024 bytes");
	free(file);
}

static void
test_load_nul_byte(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, "workers = 2\0 # hidden\n", err, &t), -1);
	assert_string_equal(strip_path(err, &t), "F:1: NUL byte");
}

static void
test_load_tokens_past_max(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "", *file;
	size_t		 n = 0, sz = 64 * (TOKENS_MAX + 1);
	int		 i;

	(void)state;
	file = malloc(sz);
	assert_non_null(file);
	for (i = 0; i <= TOKENS_MAX; i++)
		n += (size_t)snprintf(file + n, sz - n,
		    "publish_token = t%d\n", i);
	config_defaults(&cfg);
	assert_int_equal(load(&cfg, file, n, err, sizeof(err), &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:33: publish_token: more than 32 tokens");
	free(file);
}

/* A file with an error changes nothing, even its good lines. */
static void
test_load_all_or_nothing(void **state)
{
	struct config	 cfg, before;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	before = cfg;
	assert_int_equal(LOAD(&cfg, "workers = 2\npublish_token = x\n"
	    "workers = 0\n", err, &t), -1);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void
test_load_missing_file(void **state)
{
	struct config	 cfg;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/ssereplay.conf",
	    err, sizeof(err)), -1);
	assert_string_equal(err,
	    "/nonexistent/ssereplay.conf: No such file or directory");
}

/* ------------------------------------------------------------------ */
/* The WebSocket keys and admin_token.                                  */

static void
test_ws_defaults(void **state)
{
	struct config	 cfg;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.ws, "");
	assert_int_equal(cfg.nws_topics, 0);
	assert_true(cfg.ws_max_message == 0);
	assert_string_equal(cfg.admin_token, "");
}

static void
test_ws_topics_up_to_max(void **state)
{
	struct config	 cfg, before;
	char		 err[128], topic[32];
	int		 i;

	(void)state;
	config_defaults(&cfg);
	for (i = 0; i < WS_TOPICS_MAX; i++) {
		snprintf(topic, sizeof(topic), "room/%d", i);
		if (config_set(&cfg, "ws_publish_topic", topic, err,
		    sizeof(err)) != 0)
			fail_msg("topic %d: %s", i, err);
	}
	assert_int_equal(cfg.nws_topics, WS_TOPICS_MAX);
	assert_string_equal(cfg.ws_topics[0], "room/0");
	assert_string_equal(cfg.ws_topics[WS_TOPICS_MAX - 1], "room/31");
	before = cfg;
	assert_int_equal(config_set(&cfg, "ws_publish_topic", "one-more", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "ws_publish_topic: more than 32 topics");
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

/* Each line adds one, in order; an invalid one in between adds nothing. */
static void
test_ws_topics_repeat(void **state)
{
	struct config	 cfg;
	char		 err[128];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "ws_publish_topic", "a", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "ws_publish_topic", "b c", err,
	    sizeof(err)), -1);
	assert_int_equal(config_set(&cfg, "ws_publish_topic", "b", err,
	    sizeof(err)), 0);
	assert_int_equal(cfg.nws_topics, 2);
	assert_string_equal(cfg.ws_topics[0], "a");
	assert_string_equal(cfg.ws_topics[1], "b");
}

/* One admin_token: a second replaces the first. */
static void
test_admin_token_later_wins(void **state)
{
	struct config	 cfg;
	char		 err[128];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "admin_token", "first", err,
	    sizeof(err)), 0);
	assert_int_equal(config_set(&cfg, "admin_token", "second", err,
	    sizeof(err)), 0);
	assert_string_equal(cfg.admin_token, "second");
}

/* Derived from max_event_size unless ws_max_message is set. */
static void
test_ws_max_message_derived(void **state)
{
	struct config	 cfg;
	char		 err[128];

	(void)state;
	config_defaults(&cfg);
	assert_true(config_ws_max_message(&cfg) ==
	    2 * EVENT_SIZE_DEFAULT + BODY_OVERHEAD_MAX);
	/* What conf/ssereplay.conf says the default is: 132k. */
	assert_true(config_ws_max_message(&cfg) == 132 * 1024);
	assert_int_equal(config_set(&cfg, "max_event_size", "1k", err,
	    sizeof(err)), 0);
	assert_true(config_ws_max_message(&cfg) ==
	    2 * 1024 + BODY_OVERHEAD_MAX);
	assert_int_equal(config_set(&cfg, "max_event_size", "1M", err,
	    sizeof(err)), 0);
	assert_true(config_ws_max_message(&cfg) ==
	    2 * 1024 * 1024 + BODY_OVERHEAD_MAX);
	/* Always room for an event of max_event_size. */
	assert_true(config_ws_max_message(&cfg) > cfg.max_event_size);
}

static void
test_ws_max_message_override(void **state)
{
	struct config	 cfg;
	char		 err[128];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "ws_max_message", "1k", err,
	    sizeof(err)), 0);
	assert_true(config_ws_max_message(&cfg) == 1024);
	/* max_event_size no longer matters, whichever is set last. */
	assert_int_equal(config_set(&cfg, "max_event_size", "1M", err,
	    sizeof(err)), 0);
	assert_true(config_ws_max_message(&cfg) == 1024);
	assert_int_equal(config_set(&cfg, "ws_max_message", "4M", err,
	    sizeof(err)), 0);
	assert_true(config_ws_max_message(&cfg) == 4 * 1024 * 1024);
}

static void
test_load_ws_keys(void **state)
{
	static const char	 file[] =
	    "ws = unix:/run/ssereplay-ws.sock\n"
	    "ws_publish_topic = demo\n"
	    "ws_publish_topic = chat/room-1\n"
	    "ws_max_message = 256k\n"
	    "admin_token = s3cr#t\n";
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	if (LOAD(&cfg, file, err, &t) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.ws, "unix:/run/ssereplay-ws.sock");
	assert_int_equal(cfg.nws_topics, 2);
	assert_string_equal(cfg.ws_topics[0], "demo");
	assert_string_equal(cfg.ws_topics[1], "chat/room-1");
	assert_true(cfg.ws_max_message == 256 * 1024);
	assert_true(config_ws_max_message(&cfg) == 256 * 1024);
	assert_string_equal(cfg.admin_token, "s3cr#t");
}

static void
test_load_ws_bad_line(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "";

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(LOAD(&cfg, "workers = 2\nws = localhost\n", err,
	    &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:2: ws: not unix:PATH or HOST:PORT");
	assert_int_equal(LOAD(&cfg, "ws_max_message = 512\n", err, &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:1: ws_max_message: must be from 1k to 4M");
}

static void
test_load_ws_topics_past_max(void **state)
{
	struct config	 cfg;
	struct tmpfile	 t;
	char		 err[512] = "", *file;
	size_t		 n = 0, sz = 64 * (WS_TOPICS_MAX + 1);
	int		 i;

	(void)state;
	file = malloc(sz);
	assert_non_null(file);
	for (i = 0; i <= WS_TOPICS_MAX; i++)
		n += (size_t)snprintf(file + n, sz - n,
		    "ws_publish_topic = t%d\n", i);
	config_defaults(&cfg);
	assert_int_equal(load(&cfg, file, n, err, sizeof(err), &t), -1);
	assert_string_equal(strip_path(err, &t),
	    "F:33: ws_publish_topic: more than 32 topics");
	assert_int_equal(cfg.nws_topics, 0);
	free(file);
}

/* The shipped file turns the WebSocket on, validly. */
static void
test_load_shipped_file_ws(void **state)
{
	struct config	 cfg, again;
	char		 err[512], path[512];
	const char	*slash;
	FILE		*f;
	int		 i;

	(void)state;
	slash = strstr(__FILE__, "tests/unit/test_config.c");
	assert_non_null(slash);
	snprintf(path, sizeof(path), "%.*sconf/ssereplay.conf",
	    (int)(slash - __FILE__), __FILE__);
	if ((f = fopen(path, "r")) == NULL)
		skip();
	fclose(f);

	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(cfg.ws[0] != '\0');
	/* What was loaded passes config_set() again. */
	config_defaults(&again);
	if (config_set(&again, "ws", cfg.ws, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	for (i = 0; i < cfg.nws_topics; i++)
		if (config_set(&again, "ws_publish_topic", cfg.ws_topics[i],
		    err, sizeof(err)) != 0)
			fail_msg("%s", err);
	if (cfg.admin_token[0] != '\0' && config_set(&again, "admin_token",
	    cfg.admin_token, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_true(config_ws_max_message(&cfg) > cfg.max_event_size);
}

_Static_assert(WS_TOPICS_MAX == 32, "messages say 32");

_Static_assert(TOKENS_MAX == 32 && ORIGINS_MAX == 32, "messages say 32");
_Static_assert(TOKEN_MAX == 256 && ORIGIN_MAX == 256, "S256 is 256");
_Static_assert(CONFIG_LINE_MAX == 1024, "message says 1024");
_Static_assert(WORKERS_MAX == 256, "cases assume 256");

static void
nats_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.log, LOG_SQLITE);
	assert_string_equal(cfg.nats_url, "");
	assert_string_equal(cfg.nats_stream, "SSEREPLAY");
	assert_string_equal(cfg.nats_subject, "sse");
	assert_int_equal(cfg.nats_replicas, 1);
	assert_int_equal(cfg.nats_timeout_ms, 5000);
	assert_int_equal(cfg.nats_discover, 1);
}

static void
log_spec(void **state)
{
	struct config	 cfg;
	char		 err[256];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set_log_spec(&cfg,
	    "jetstream:nats://a:1,nats://b:2", err, sizeof(err)), 0);
	assert_int_equal(cfg.log, LOG_JETSTREAM);
	assert_string_equal(cfg.nats_url, "nats://a:1,nats://b:2");
	assert_int_equal(config_set_log_spec(&cfg, "sqlite:/tmp/x.db", err,
	    sizeof(err)), 0);
	assert_int_equal(cfg.log, LOG_SQLITE);
	assert_string_equal(cfg.db, "/tmp/x.db");
	assert_int_equal(config_set_log_spec(&cfg, "sqlite:", err,
	    sizeof(err)), -1);
	assert_int_equal(config_set_log_spec(&cfg, "jetstream:x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "nats_url: \"x\" is not nats://HOST:PORT or"
	    " tls://HOST:PORT");
	assert_int_equal(config_set_log_spec(&cfg, "redis://x", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "redis://x: not sqlite:FILE or jetstream:URL");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(nats_defaults),
	cmocka_unit_test(log_spec),
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_later_value_wins),
	cmocka_unit_test(test_tokens_up_to_max),
	cmocka_unit_test(test_origins_up_to_max),
	cmocka_unit_test(test_db_too_long),
	cmocka_unit_test(test_small_err_buffer),

	BAD("key: unknown", "nope", "1", "nope: unknown key"),
	BAD("key: case-sensitive", "Heartbeat", "1s",
	    "Heartbeat: unknown key"),
	BAD("key: flag spelling is the caller's job", "max-event-size", "1k",
	    "max-event-size: unknown key"),

	SETS("db: a path", "db", "/srv/events.db", F_DB, "/srv/events.db"),
	BAD("db: empty", "db", "", "db: must be 1 to 4095 bytes"),

	SETS("listen: unix socket", "listen", "unix:/run/s.sock", F_LISTEN,
	    "unix:/run/s.sock"),
	SETS("listen: host and port", "listen", "127.0.0.1:9000", F_LISTEN,
	    "127.0.0.1:9000"),
	SETS("listen: IPv6", "listen", "[::1]:9000", F_LISTEN, "[::1]:9000"),
	SETS("listen: longest unix path", "listen", "unix:" P107, F_LISTEN,
	    "unix:" P107),
	BAD("listen: unix path too long", "listen", "unix:" P107 "x",
	    "listen: socket path longer than 107 bytes"),
	BAD("listen: unix without path", "listen", "unix:",
	    "listen: unix: needs a path"),
	BAD("listen: no port", "listen", "localhost",
	    "listen: not unix:PATH or HOST:PORT"),
	BAD("listen: no host", "listen", ":9000",
	    "listen: not unix:PATH or HOST:PORT"),
	BAD("listen: port 0", "listen", "localhost:0",
	    "listen: not unix:PATH or HOST:PORT"),
	BAD("listen: port 65536", "listen", "localhost:65536",
	    "listen: not unix:PATH or HOST:PORT"),
	BAD("listen: port not a number", "listen", "localhost:http",
	    "listen: not unix:PATH or HOST:PORT"),
	BAD("listen: space", "listen", "local host:90",
	    "listen: not unix:PATH or HOST:PORT"),

	SETN("bool: yes", "listen_force", "yes", F_FORCE, 1),
	SETN("bool: true", "listen_force", "true", F_FORCE, 1),
	SETN("bool: 1", "listen_force", "1", F_FORCE, 1),
	SETN("bool: YES any case", "listen_force", "YES", F_FORCE, 1),
	SETN("bool: no", "listen_force", "no", F_FORCE, 0),
	SETN("bool: false", "listen_force", "false", F_FORCE, 0),
	SETN("bool: 0", "listen_force", "0", F_FORCE, 0),
	BAD("bool: other word", "listen_force", "maybe",
	    "listen_force: not yes, no, true, false, 1 or 0"),
	BAD("bool: empty", "listen_force", "",
	    "listen_force: not yes, no, true, false, 1 or 0"),

	SETS("token: plain", "publish_token", "s3cr3t", F_TOKEN, "s3cr3t"),
	SETS("token: punctuation", "publish_token", "a-b_c.d~e+f/g=",
	    F_TOKEN, "a-b_c.d~e+f/g="),
	SETS("token: TOKEN_MAX bytes", "publish_token", S256, F_TOKEN, S256),
	BAD("token: TOKEN_MAX + 1 bytes", "publish_token", S256 "x",
	    "publish_token: must be 1 to 256 bytes"),
	BAD("token: empty", "publish_token", "",
	    "publish_token: must be 1 to 256 bytes"),
	BAD("token: space", "publish_token", "a b",
	    "publish_token: printable ASCII without spaces only"),
	BAD("token: tab", "publish_token", "a\tb",
	    "publish_token: printable ASCII without spaces only"),
	BAD("token: DEL", "publish_token", "a\x7f",
	    "publish_token: printable ASCII without spaces only"),
	BAD("token: non-ASCII", "publish_token", "caf\xc3\xa9",
	    "publish_token: printable ASCII without spaces only"),

	SETS("origin: https", "cors_origin", "https://www.example.org",
	    F_ORIGIN, "https://www.example.org"),
	SETS("origin: http with port", "cors_origin", "http://localhost:8080",
	    F_ORIGIN, "http://localhost:8080"),
	BAD("origin: trailing slash", "cors_origin", "https://example.org/",
	    "cors_origin: no trailing slash (the Origin header has none)"),
	BAD("origin: path", "cors_origin", "https://example.org/app",
	    "cors_origin: an origin has no path"),
	BAD("origin: other scheme", "cors_origin", "ftp://example.org",
	    "cors_origin: must start with http:// or https://"),
	BAD("origin: no scheme", "cors_origin", "example.org",
	    "cors_origin: must start with http:// or https://"),
	BAD("origin: wildcard", "cors_origin", "*",
	    "cors_origin: must start with http:// or https://"),
	BAD("origin: no host", "cors_origin", "https://",
	    "cors_origin: no host"),
	BAD("origin: space", "cors_origin", "https://a b.org",
	    "cors_origin: no spaces or control characters"),
	BAD("origin: too long", "cors_origin", "https://" S256,
	    "cors_origin: longer than 256 bytes"),

	SETN("count: zero", "retention_max_events", "0", F_RET_EVENTS, 0),
	SETN("count: plain", "retention_max_events", "5000", F_RET_EVENTS,
	    5000),
	SETN("count: largest", "retention_max_events", "9223372036854775807",
	    F_RET_EVENTS, 9223372036854775807LL),
	BAD("count: overflow", "retention_max_events", "9223372036854775808",
	    "retention_max_events: not a whole number"),
	BAD("count: negative", "retention_max_events", "-1",
	    "retention_max_events: not a whole number"),
	BAD("count: plus sign", "retention_max_events", "+1",
	    "retention_max_events: not a whole number"),
	BAD("count: no suffix allowed", "retention_max_events", "1k",
	    "retention_max_events: not a whole number"),
	BAD("count: empty", "retention_max_events", "",
	    "retention_max_events: not a whole number"),
	BAD("count: inner space", "retention_max_events", "1 000",
	    "retention_max_events: not a whole number"),

	SETN("duration: no suffix is seconds", "retention_max_age", "90",
	    F_RET_AGE, 90000),
	SETN("duration: ms", "heartbeat", "100ms", F_HEARTBEAT, 100),
	SETN("duration: s", "heartbeat", "15s", F_HEARTBEAT, 15000),
	SETN("duration: m", "heartbeat", "2m", F_HEARTBEAT, 120000),
	SETN("duration: h", "heartbeat", "1h", F_HEARTBEAT, 3600000),
	SETN("duration: d", "retention_max_age", "7d", F_RET_AGE,
	    7LL * 86400 * 1000),
	SETN("duration: zero age is unlimited", "retention_max_age", "0",
	    F_RET_AGE, 0),
	BAD("duration: unknown suffix", "retention_max_age", "1w",
	    "retention_max_age: not a duration (a whole number with ms, s, "
	    "m, h or d)"),
	BAD("duration: uppercase suffix", "heartbeat", "15S",
	    "heartbeat: not a duration (a whole number with ms, s, m, h or "
	    "d)"),
	BAD("duration: space before suffix", "heartbeat", "15 s",
	    "heartbeat: not a duration (a whole number with ms, s, m, h or "
	    "d)"),
	BAD("duration: fraction", "heartbeat", "1.5s",
	    "heartbeat: not a duration (a whole number with ms, s, m, h or "
	    "d)"),
	BAD("duration: suffix only", "heartbeat", "s",
	    "heartbeat: not a duration (a whole number with ms, s, m, h or "
	    "d)"),
	BAD("duration: negative", "retry", "-1s",
	    "retry: not a duration (a whole number with ms, s, m, h or d)"),
	BAD("duration: overflow in ms", "retention_max_age",
	    "9223372036854775807s", "retention_max_age: not a duration (a "
	    "whole number with ms, s, m, h or d)"),
	BAD("heartbeat: below 100ms", "heartbeat", "99ms",
	    "heartbeat: must be from 100ms to 1h"),
	BAD("heartbeat: zero", "heartbeat", "0",
	    "heartbeat: must be from 100ms to 1h"),
	BAD("heartbeat: above 1h", "heartbeat", "3601s",
	    "heartbeat: must be from 100ms to 1h"),
	SETN("retry: zero", "retry", "0", F_RETRY, 0),
	SETN("retry: 1h", "retry", "60m", F_RETRY, 3600000),
	BAD("retry: above 1h", "retry", "3600001ms",
	    "retry: must be from 0 to 1h"),

	SETN("size: no suffix is bytes", "max_event_size", "100",
	    F_MAX_EVENT, 100),
	SETN("size: k", "max_event_size", "64k", F_MAX_EVENT, 65536),
	SETN("size: K", "max_event_size", "64K", F_MAX_EVENT, 65536),
	SETN("size: M", "max_event_size", "1M", F_MAX_EVENT, 1048576),
	SETN("size: smallest", "max_event_size", "1", F_MAX_EVENT, 1),
	BAD("size: zero", "max_event_size", "0",
	    "max_event_size: must be from 1 to 1M"),
	BAD("size: above the ceiling", "max_event_size", "1025k",
	    "max_event_size: must be from 1 to 1M"),
	BAD("size: lowercase m", "max_event_size", "1m",
	    "max_event_size: not a size (a whole number with k or M)"),
	BAD("size: G", "backlog_bound", "1G",
	    "backlog_bound: not a size (a whole number with k or M)"),
	BAD("size: kb", "max_event_size", "1kb",
	    "max_event_size: not a size (a whole number with k or M)"),
	BAD("size: overflow", "backlog_bound", "9223372036854775807M",
	    "backlog_bound: not a size (a whole number with k or M)"),
	SETN("backlog: 64k lowest", "backlog_bound", "64k", F_BACKLOG,
	    65536),
	SETN("backlog: 1024M highest", "backlog_bound", "1024M", F_BACKLOG,
	    1073741824),
	BAD("backlog: below 64k", "backlog_bound", "65535",
	    "backlog_bound: must be from 64k to 1024M"),
	BAD("backlog: above 1G", "backlog_bound", "1025M",
	    "backlog_bound: must be from 64k to 1024M"),

	SETN("subscribers: lowest", "max_subscribers", "1", F_MAX_SUBS, 1),
	SETN("subscribers: highest", "max_subscribers", "1000000",
	    F_MAX_SUBS, 1000000),
	BAD("subscribers: zero", "max_subscribers", "0",
	    "max_subscribers: must be from 1 to 1000000"),
	BAD("subscribers: above", "max_subscribers", "1000001",
	    "max_subscribers: must be from 1 to 1000000"),
	SETN("workers: lowest", "workers", "1", F_WORKERS, 1),
	SETN("workers: WORKERS_MAX", "workers", "256", F_WORKERS, 256),
	BAD("workers: zero", "workers", "0", "workers: must be from 1 to 256"),
	BAD("workers: above", "workers", "257",
	    "workers: must be from 1 to 256"),

	SETN("sync: full", "sync", "full", F_SYNC, 1),
	SETN("sync: normal", "sync", "normal", F_SYNC, 0),
	SETN("sync: any case", "sync", "FULL", F_SYNC, 1),
	BAD("sync: other", "sync", "off", "sync: must be full or normal"),

	/* The event log: which, and the JetStream settings. */
	SETN("log: sqlite", "log", "sqlite", F_LOG, LOG_SQLITE),
	SETN("log: jetstream", "log", "jetstream", F_LOG, LOG_JETSTREAM),
	BAD("log: other", "log", "nats", "log: must be sqlite or jetstream"),
	BAD("log: case matters", "log", "JetStream",
	    "log: must be sqlite or jetstream"),
	SETS("nats_url: one", "nats_url", "nats://127.0.0.1:4222",
	    F_NATS_URL, "nats://127.0.0.1:4222"),
	SETS("nats_url: a list", "nats_url",
	    "nats://a:4222,nats://b:4223,tls://c:4443", F_NATS_URL,
	    "nats://a:4222,nats://b:4223,tls://c:4443"),
	SETS("nats_url: user and password", "nats_url",
	    "nats://u:p@h:4222", F_NATS_URL, "nats://u:p@h:4222"),
	BAD("nats_url: no scheme", "nats_url", "127.0.0.1:4222",
	    "nats_url: \"127.0.0.1:4222\" is not nats://HOST:PORT or"
	    " tls://HOST:PORT"),
	BAD("nats_url: no port", "nats_url", "nats://h",
	    "nats_url: \"nats://h\" is not nats://HOST:PORT or"
	    " tls://HOST:PORT"),
	BAD("nats_url: port 0", "nats_url", "nats://h:0",
	    "nats_url: \"nats://h:0\" is not nats://HOST:PORT or"
	    " tls://HOST:PORT"),
	BAD("nats_url: empty element", "nats_url", "nats://h:1,,nats://g:2",
	    "nats_url: \"\" is not nats://HOST:PORT or tls://HOST:PORT"),
	BAD("nats_url: a path", "nats_url", "nats://h:1/x",
	    "nats_url: \"nats://h:1/x\" is not nats://HOST:PORT or"
	    " tls://HOST:PORT"),
	BAD("nats_url: spaces", "nats_url", "nats://h:1, nats://g:2",
	    "nats_url: 1 to 1024 bytes without spaces"),
	SETS("nats_stream: name", "nats_stream", "EVENTS_1-a",
	    F_NATS_STREAM, "EVENTS_1-a"),
	BAD("nats_stream: a dot", "nats_stream", "A.B",
	    "nats_stream: 1 to 32 characters of A-Z a-z 0-9 _ -"),
	BAD("nats_stream: a wildcard", "nats_stream", "A*",
	    "nats_stream: 1 to 32 characters of A-Z a-z 0-9 _ -"),
	BAD("nats_stream: 33 characters", "nats_stream", S10 S10 S10 "xxx",
	    "nats_stream: 1 to 32 characters of A-Z a-z 0-9 _ -"),
	SETS("nats_subject: tokens", "nats_subject", "app.sse-1",
	    F_NATS_SUBJECT, "app.sse-1"),
	BAD("nats_subject: empty token", "nats_subject", "app..sse",
	    "nats_subject: 1 to 64 characters, tokens of A-Z a-z 0-9 _ -"
	    " separated by single dots"),
	BAD("nats_subject: trailing dot", "nats_subject", "sse.",
	    "nats_subject: 1 to 64 characters, tokens of A-Z a-z 0-9 _ -"
	    " separated by single dots"),
	BAD("nats_subject: wildcard", "nats_subject", "sse.>",
	    "nats_subject: 1 to 64 characters, tokens of A-Z a-z 0-9 _ -"
	    " separated by single dots"),
	SETN("nats_replicas: 3", "nats_replicas", "3", F_NATS_REPLICAS, 3),
	BAD("nats_replicas: 0", "nats_replicas", "0",
	    "nats_replicas: must be from 1 to 5"),
	BAD("nats_replicas: 6", "nats_replicas", "6",
	    "nats_replicas: must be from 1 to 5"),
	SETS("nats_creds: a file", "nats_creds", "/etc/ssereplay/nats.creds",
	    F_NATS_CREDS, "/etc/ssereplay/nats.creds"),
	SETS("nats_user: a name", "nats_user", "sse", F_NATS_USER, "sse"),
	BAD("nats_password: spaces", "nats_password", "a b",
	    "nats_password: 1 to 256 bytes of printable ASCII without spaces"),
	SETN("nats_timeout: 2s", "nats_timeout", "2s", F_NATS_TIMEOUT, 2000),
	BAD("nats_timeout: too short", "nats_timeout", "50ms",
	    "nats_timeout: must be from 100ms to 60s"),
	SETN("nats_discover: no", "nats_discover", "no", F_NATS_DISCOVER, 0),

	cmocka_unit_test(test_load_every_key),
	cmocka_unit_test(test_load_shipped_file),
	cmocka_unit_test(test_load_comments_and_blanks),
	cmocka_unit_test(test_load_spaces_trimmed),
	cmocka_unit_test(test_load_crlf_and_no_final_newline),
	cmocka_unit_test(test_load_bom),
	cmocka_unit_test(test_load_empty_file),
	cmocka_unit_test(test_load_unknown_key_line),
	cmocka_unit_test(test_load_bad_value_line),
	cmocka_unit_test(test_load_missing_equals),
	cmocka_unit_test(test_load_missing_key),
	cmocka_unit_test(test_load_line_length),
	cmocka_unit_test(test_load_nul_byte),
	cmocka_unit_test(test_load_tokens_past_max),
	cmocka_unit_test(test_load_all_or_nothing),
	cmocka_unit_test(test_load_missing_file),

	/* The WebSocket keys and admin_token. */
	cmocka_unit_test(test_ws_defaults),
	cmocka_unit_test(test_ws_topics_up_to_max),
	cmocka_unit_test(test_ws_topics_repeat),
	cmocka_unit_test(test_admin_token_later_wins),
	cmocka_unit_test(test_ws_max_message_derived),
	cmocka_unit_test(test_ws_max_message_override),
	cmocka_unit_test(test_load_ws_keys),
	cmocka_unit_test(test_load_ws_bad_line),
	cmocka_unit_test(test_load_ws_topics_past_max),
	cmocka_unit_test(test_load_shipped_file_ws),

	SETS("ws: unix socket", "ws", "unix:/run/ws.sock", F_WS,
	    "unix:/run/ws.sock"),
	SETS("ws: relative unix socket", "ws", "unix:var/ws.sock", F_WS,
	    "unix:var/ws.sock"),
	SETS("ws: host and port", "ws", "127.0.0.1:9001", F_WS,
	    "127.0.0.1:9001"),
	SETS("ws: IPv6", "ws", "[::1]:9001", F_WS, "[::1]:9001"),
	SETS("ws: port 65535", "ws", "localhost:65535", F_WS,
	    "localhost:65535"),
	SETS("ws: longest unix path", "ws", "unix:" P107, F_WS,
	    "unix:" P107),
	BAD("ws: unix path too long", "ws", "unix:" P107 "x",
	    "ws: socket path longer than 107 bytes"),
	BAD("ws: unix without path", "ws", "unix:",
	    "ws: unix: needs a path"),
	BAD("ws: empty", "ws", "", "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: no port", "ws", "localhost",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: empty port", "ws", "localhost:",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: no host", "ws", ":9001", "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: port 0", "ws", "localhost:0",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: port 65536", "ws", "localhost:65536",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: signed port", "ws", "localhost:+90",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: port not a number", "ws", "localhost:http",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: space", "ws", "local host:90",
	    "ws: not unix:PATH or HOST:PORT"),
	BAD("ws: a URL", "ws", "ws://localhost:9001/ws",
	    "ws: not unix:PATH or HOST:PORT"),

	SETS("ws_publish_topic: plain", "ws_publish_topic", "demo",
	    F_WS_TOPIC, "demo"),
	SETS("ws_publish_topic: alphabet", "ws_publish_topic", "A-z_0.9/x",
	    F_WS_TOPIC, "A-z_0.9/x"),
	SETS("ws_publish_topic: 128 characters", "ws_publish_topic",
	    S100 S10 S10 "xxxxxxxx", F_WS_TOPIC, S100 S10 S10 "xxxxxxxx"),
	BAD("ws_publish_topic: 129 characters", "ws_publish_topic",
	    S100 S10 S10 "xxxxxxxxx",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),
	BAD("ws_publish_topic: empty", "ws_publish_topic", "",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),
	BAD("ws_publish_topic: space", "ws_publish_topic", "a b",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),
	BAD("ws_publish_topic: star", "ws_publish_topic", "news/*",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),
	BAD("ws_publish_topic: colon", "ws_publish_topic", "a:b",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),
	BAD("ws_publish_topic: non-ASCII", "ws_publish_topic", "caf\xc3\xa9",
	    "ws_publish_topic: 1 to 128 characters of A-Z a-z 0-9 . _ / -"),

	SETN("ws_max_message: 1k lowest", "ws_max_message", "1k", F_WS_MAX,
	    1024),
	SETN("ws_max_message: 1024 bytes", "ws_max_message", "1024",
	    F_WS_MAX, 1024),
	SETN("ws_max_message: 132k", "ws_max_message", "132k", F_WS_MAX,
	    135168),
	SETN("ws_max_message: 4M highest", "ws_max_message", "4M", F_WS_MAX,
	    4194304),
	SETN("ws_max_message: 4096k highest", "ws_max_message", "4096k",
	    F_WS_MAX, 4194304),
	BAD("ws_max_message: 1023", "ws_max_message", "1023",
	    "ws_max_message: must be from 1k to 4M"),
	BAD("ws_max_message: zero", "ws_max_message", "0",
	    "ws_max_message: must be from 1k to 4M"),
	BAD("ws_max_message: 4M + 1", "ws_max_message", "4194305",
	    "ws_max_message: must be from 1k to 4M"),
	BAD("ws_max_message: 5M", "ws_max_message", "5M",
	    "ws_max_message: must be from 1k to 4M"),
	BAD("ws_max_message: lowercase m", "ws_max_message", "1m",
	    "ws_max_message: not a size (a whole number with k or M)"),
	BAD("ws_max_message: negative", "ws_max_message", "-1k",
	    "ws_max_message: not a size (a whole number with k or M)"),
	BAD("ws_max_message: empty", "ws_max_message", "",
	    "ws_max_message: not a size (a whole number with k or M)"),

	SETS("admin_token: plain", "admin_token", "demo-admin", F_ADMIN,
	    "demo-admin"),
	SETS("admin_token: punctuation", "admin_token", "a-b_c.d~e+f/g=#!",
	    F_ADMIN, "a-b_c.d~e+f/g=#!"),
	SETS("admin_token: TOKEN_MAX bytes", "admin_token", S256, F_ADMIN,
	    S256),
	SETS("admin_token: one byte", "admin_token", "x", F_ADMIN, "x"),
	BAD("admin_token: TOKEN_MAX + 1 bytes", "admin_token", S256 "x",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: empty", "admin_token", "",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: space", "admin_token", "a b",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: tab", "admin_token", "a\tb",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: DEL", "admin_token", "a\x7f",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: control", "admin_token", "a\x01",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
	BAD("admin_token: non-ASCII", "admin_token", "caf\xc3\xa9",
	    "admin_token: 1 to 256 bytes of printable ASCII without spaces"),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
