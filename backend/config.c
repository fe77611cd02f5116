/*
 * config.c: settings from defaults, the config file and flags (config.h).
 *
 * Every key is a row of keys[] with its type and range; config_set() parses
 * the value by type, checks the range, then stores it. The file reader only
 * splits lines into key and value, so a flag and a file line go through the
 * very same checks and produce the same message after the "FILE:LINE: ".
 *
 * Numbers are parsed by hand, not with strtoll(): strtoll() takes leading
 * spaces, a sign and a locale, and "-1" silently becoming a huge size_t is
 * the kind of surprise a config file should not have.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "bounds.h"
#include "auth.h"
#include "jsmap.h"
#include "valid.h"

#define DB_DEFAULT	"var/ssereplay.db"
#define LISTEN_DEFAULT	"unix:var/ssereplay.sock"
#define NATS_STREAM_DEFAULT	"SSEREPLAY"
#define NATS_SUBJECT_DEFAULT	"sse"

#define MS_PER_S	1000LL
#define MS_PER_M	(60 * MS_PER_S)
#define MS_PER_H	(60 * MS_PER_M)
#define MS_PER_D	(24 * MS_PER_H)

enum ctype {
	CT_DB,		/* a path */
	CT_LISTEN,	/* unix:PATH | HOST:PORT */
	CT_TOKEN,	/* repeatable, printable ASCII */
	CT_ORIGIN,	/* repeatable, http(s)://host[:port] */
	CT_BOOL,
	CT_COUNT,	/* a whole number */
	CT_DURATION,	/* a whole number + ms|s|m|h|d, stored in ms */
	CT_SIZE,	/* a whole number + k|K|M, stored in bytes */
	CT_SYNC,	/* full | normal */
	CT_TOPIC,	/* repeatable, a valid topic name */
	CT_SECRET,	/* one token, printable ASCII */
	CT_NAME,	/* a user or cookie name: [A-Za-z0-9._-] */
	CT_RULE,	/* repeatable: "PATTERN [WHO,...]", see auth.h */
	CT_GROUP,	/* repeatable: "NAME: USER, USER..." */
	CT_LOG,		/* sqlite | jetstream */
	CT_NATS_URLS,	/* nats://|tls://HOST:PORT[,...] */
	CT_NATS_STREAM,	/* a stream name */
	CT_NATS_PREFIX,	/* a subject prefix */
	CT_PATH,	/* a file */
	CT_NATS_SECRET,	/* printable ASCII, no spaces, 1..NATS_SECRET_MAX */
};

enum key_id {
	K_DB,
	K_LISTEN,
	K_LISTEN_FORCE,
	K_PUBLISH_TOKEN,
	K_CORS_ORIGIN,
	K_RETENTION_MAX_EVENTS,
	K_RETENTION_MAX_AGE,
	K_HEARTBEAT,
	K_RETRY,
	K_MAX_EVENT_SIZE,
	K_MAX_SUBSCRIBERS,
	K_BACKLOG_BOUND,
	K_WORKERS,
	K_SYNC,
	K_WS,
	K_WS_PUBLISH_TOPIC,
	K_WS_MAX_MESSAGE,
	K_ADMIN_TOKEN,
	K_USER,
	K_SANDBOX,
	K_MAX_SUBSCRIBERS_PER_ADDRESS,
	K_PUBLISH_RATE,
	K_PRIVATE,
	K_GROUP,
	K_TOKEN_KEY,
	K_TOKEN_COOKIE,
	K_LOG,
	K_NATS_URL,
	K_NATS_STREAM,
	K_NATS_SUBJECT,
	K_NATS_REPLICAS,
	K_NATS_CREDS,
	K_NATS_USER,
	K_NATS_PASSWORD,
	K_NATS_TOKEN,
	K_NATS_CA,
	K_NATS_TIMEOUT,
	K_NATS_DISCOVER,
};

struct key {
	const char	*name;
	enum key_id	 id;
	enum ctype	 type;
	long long	 min, max;	/* numeric types only */
	const char	*range;		/* min and max as the user writes them */
};

static const struct key keys[] = {
	{ "db", K_DB, CT_DB, 0, 0, NULL },
	{ "listen", K_LISTEN, CT_LISTEN, 0, 0, NULL },
	{ "listen_force", K_LISTEN_FORCE, CT_BOOL, 0, 1, NULL },
	{ "publish_token", K_PUBLISH_TOKEN, CT_TOKEN, 0, 0, NULL },
	{ "cors_origin", K_CORS_ORIGIN, CT_ORIGIN, 0, 0, NULL },
	{ "retention_max_events", K_RETENTION_MAX_EVENTS, CT_COUNT,
	    0, LLONG_MAX, "0 (unlimited) or more" },
	{ "retention_max_age", K_RETENTION_MAX_AGE, CT_DURATION,
	    0, LLONG_MAX, "0 (unlimited) or more" },
	{ "heartbeat", K_HEARTBEAT, CT_DURATION,
	    100, MS_PER_H, "from 100ms to 1h" },
	{ "retry", K_RETRY, CT_DURATION,
	    0, MS_PER_H, "from 0 to 1h" },
	{ "max_event_size", K_MAX_EVENT_SIZE, CT_SIZE,
	    1, EVENT_SIZE_CEILING, "from 1 to 1M" },
	{ "max_subscribers", K_MAX_SUBSCRIBERS, CT_COUNT,
	    1, 1000000, "from 1 to 1000000" },
	{ "backlog_bound", K_BACKLOG_BOUND, CT_SIZE,
	    64 * 1024, 1024LL * 1024 * 1024, "from 64k to 1024M" },
	{ "workers", K_WORKERS, CT_COUNT,
	    1, WORKERS_MAX, "from 1 to 256" },
	{ "sync", K_SYNC, CT_SYNC, 0, 1, NULL },
	{ "ws", K_WS, CT_LISTEN, 0, 0, NULL },
	{ "ws_publish_topic", K_WS_PUBLISH_TOPIC, CT_TOPIC, 0, 0, NULL },
	{ "ws_max_message", K_WS_MAX_MESSAGE, CT_SIZE,
	    1024, 4LL * 1024 * 1024, "from 1k to 4M" },
	{ "admin_token", K_ADMIN_TOKEN, CT_SECRET, 0, 0, NULL },
	{ "user", K_USER, CT_NAME, 0, 0, NULL },
	{ "sandbox", K_SANDBOX, CT_BOOL, 0, 1, NULL },
	{ "max_subscribers_per_address", K_MAX_SUBSCRIBERS_PER_ADDRESS,
	    CT_COUNT, 0, 1000000, "from 0 (unlimited) to 1000000" },
	{ "publish_rate", K_PUBLISH_RATE, CT_COUNT,
	    0, 1000000, "from 0 (unlimited) to 1000000" },
	{ "private", K_PRIVATE, CT_RULE, 0, 0, NULL },
	{ "group", K_GROUP, CT_GROUP, 0, 0, NULL },
	{ "token_key", K_TOKEN_KEY, CT_SECRET, 0, 0, NULL },
	{ "token_cookie", K_TOKEN_COOKIE, CT_NAME, 0, 0, NULL },
	{ "log", K_LOG, CT_LOG, 0, 0, NULL },
	{ "nats_url", K_NATS_URL, CT_NATS_URLS, 0, 0, NULL },
	{ "nats_stream", K_NATS_STREAM, CT_NATS_STREAM, 0, 0, NULL },
	{ "nats_subject", K_NATS_SUBJECT, CT_NATS_PREFIX, 0, 0, NULL },
	{ "nats_replicas", K_NATS_REPLICAS, CT_COUNT, 1, 5, "from 1 to 5" },
	{ "nats_creds", K_NATS_CREDS, CT_PATH, 0, 0, NULL },
	{ "nats_user", K_NATS_USER, CT_NATS_SECRET, 0, 0, NULL },
	{ "nats_password", K_NATS_PASSWORD, CT_NATS_SECRET, 0, 0, NULL },
	{ "nats_token", K_NATS_TOKEN, CT_NATS_SECRET, 0, 0, NULL },
	{ "nats_ca", K_NATS_CA, CT_PATH, 0, 0, NULL },
	{ "nats_timeout", K_NATS_TIMEOUT, CT_DURATION,
	    100, 60 * MS_PER_S, "from 100ms to 60s" },
	{ "nats_discover", K_NATS_DISCOVER, CT_BOOL, 0, 1, NULL },
};

_Static_assert(EVENT_SIZE_CEILING == 1024 * 1024,
    "update the max_event_size range text");
_Static_assert(WORKERS_MAX == 256, "update the workers range text");
_Static_assert(TOKENS_MAX == 32 && ORIGINS_MAX == 32 && TOKEN_MAX == 256 &&
    ORIGIN_MAX == 256, "update the publish_token/cors_origin messages");

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* Both literals are far below PATH_MAX. */
	memcpy(cfg->db, DB_DEFAULT, sizeof(DB_DEFAULT));
	memcpy(cfg->listen, LISTEN_DEFAULT, sizeof(LISTEN_DEFAULT));
	cfg->listen_force = 0;
	cfg->ntokens = 0;
	cfg->norigins = 0;
	cfg->retention_max_events = RETENTION_EVENTS_DEFAULT;
	cfg->retention_max_age_ms = RETENTION_AGE_MS_DEFAULT;
	cfg->heartbeat_ms = HEARTBEAT_MS_DEFAULT;
	cfg->retry_ms = RETRY_MS_DEFAULT;
	cfg->max_event_size = EVENT_SIZE_DEFAULT;
	cfg->max_subscribers = SUBSCRIBERS_DEFAULT;
	cfg->backlog_bound = BACKLOG_BOUND_DEFAULT;
	cfg->workers = WORKERS_DEFAULT;
	cfg->sync_full = 1;
	cfg->sandbox = 1;
	cfg->max_subscribers_per_address = SUBSCRIBERS_PER_ADDRESS_DEFAULT;
	memcpy(cfg->token_cookie, TOKEN_COOKIE_DEFAULT,
	    sizeof(TOKEN_COOKIE_DEFAULT));
	cfg->log = LOG_SQLITE;
	memcpy(cfg->nats_stream, NATS_STREAM_DEFAULT,
	    sizeof(NATS_STREAM_DEFAULT));
	memcpy(cfg->nats_subject, NATS_SUBJECT_DEFAULT,
	    sizeof(NATS_SUBJECT_DEFAULT));
	cfg->nats_replicas = 1;
	cfg->nats_timeout_ms = NATS_TIMEOUT_MS_DEFAULT;
	cfg->nats_discover = 1;
}

static int
valid_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return 1;
}

/*
 * Leading decimal digits of s into *out, without sign, spaces or overflow.
 * Returns the number of digits read (0 if none or on overflow).
 */
static size_t
parse_digits(const char *s, long long *out)
{
	long long	 v = 0;
	size_t		 i;
	int		 d;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		d = s[i] - '0';
		if (v > (LLONG_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return i;
}

/* n * mult, or -1 if it overflows (n and mult are >= 0). */
static long long
scale(long long n, long long mult)
{
	return (n > LLONG_MAX / mult) ? -1 : n * mult;
}

/* A whole number: digits only. Returns 0 or -1. */
static int
parse_count(const char *s, long long *out)
{
	size_t	 n;

	n = parse_digits(s, out);
	return (n == 0 || s[n] != '\0') ? -1 : 0;
}

/* A duration in ms: digits + optional ms|s|m|h|d, no suffix = seconds. */
static int
parse_duration(const char *s, long long *out)
{
	static const struct {
		const char	*sfx;
		long long	 mult;
	} sfx[] = {
		{ "", MS_PER_S }, { "ms", 1 }, { "s", MS_PER_S },
		{ "m", MS_PER_M }, { "h", MS_PER_H }, { "d", MS_PER_D },
	};
	long long	 v;
	size_t		 n, i;

	if ((n = parse_digits(s, &v)) == 0)
		return -1;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (strcmp(s + n, sfx[i].sfx) == 0)
			break;
	if (i == sizeof(sfx) / sizeof(sfx[0]) ||
	    (*out = scale(v, sfx[i].mult)) == -1)
		return -1;
	return 0;
}

/* A size in bytes: digits + optional k|K|M (1024-based). */
static int
parse_size(const char *s, long long *out)
{
	long long	 v, mult;
	size_t		 n;

	if ((n = parse_digits(s, &v)) == 0)
		return -1;
	if (strcmp(s + n, "") == 0)
		mult = 1;
	else if (strcmp(s + n, "k") == 0 || strcmp(s + n, "K") == 0)
		mult = 1024;
	else if (strcmp(s + n, "M") == 0)
		mult = 1024 * 1024;
	else
		return -1;
	return (*out = scale(v, mult)) == -1 ? -1 : 0;
}

static int
parse_bool(const char *s, long long *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0)
		*out = 1;
	else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Printable ASCII other than space: what fits in a header without quoting. */
static int
visible_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

/*
 * HOST:PORT (port 1..65535 after the last ':', so "[::1]:9000" works) or
 * unix:PATH short enough for sockaddr_un. Which hosts are acceptable is
 * decided where the socket is made (listen_force).
 */
static int
check_listen(const char *key, const char *v, char *err, size_t errsz)
{
	const struct sockaddr_un	*su = NULL;
	const char			*colon;
	long long			 port;

	if (strncmp(v, "unix:", 5) == 0) {
		if (v[5] == '\0') {
			snprintf(err, errsz, "%s: unix: needs a path", key);
			return -1;
		}
		if (strlen(v + 5) >= sizeof(su->sun_path)) {
			snprintf(err, errsz, "%s: socket path longer "
			    "than %zu bytes", key, sizeof(su->sun_path) - 1);
			return -1;
		}
		return 0;
	}
	if (!visible_ascii(v) || (colon = strrchr(v, ':')) == NULL ||
	    colon == v || parse_count(colon + 1, &port) == -1 ||
	    port < 1 || port > 65535) {
		snprintf(err, errsz, "%s: not unix:PATH or HOST:PORT", key);
		return -1;
	}
	return 0;
}

/*
 * An origin as browsers send it (RFC 6454, section 6.1): scheme "://" host
 * [":" port], nothing after. We only check its shape; the comparison with
 * the Origin header is exact.
 */
static int
check_origin(const char *v, char *err, size_t errsz)
{
	const char	*host;

	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else {
		snprintf(err, errsz,
		    "cors_origin: must start with http:// or https://");
		return -1;
	}
	if (!visible_ascii(v)) {
		snprintf(err, errsz,
		    "cors_origin: no spaces or control characters");
		return -1;
	}
	if (strlen(v) > ORIGIN_MAX) {
		snprintf(err, errsz, "cors_origin: longer than %d bytes",
		    ORIGIN_MAX);
		return -1;
	}
	if (*host == '\0' || *host == '/' || *host == ':') {
		snprintf(err, errsz, "cors_origin: no host");
		return -1;
	}
	if (host[strlen(host) - 1] == '/') {
		snprintf(err, errsz, "cors_origin: no trailing slash "
		    "(the Origin header has none)");
		return -1;
	}
	if (strchr(host, '/') != NULL) {
		snprintf(err, errsz, "cors_origin: an origin has no path");
		return -1;
	}
	return 0;
}

/*
 * A list of NATS server URLs as nats.c takes it: comma-separated
 * nats://HOST:PORT or tls://HOST:PORT (user:password@ allowed), no
 * spaces. Only the shape is checked; nats.c resolves and connects.
 */
static int
check_nats_urls(const char *v, char *err, size_t errsz)
{
	const char	*p = v, *end, *host, *colon;
	long long	 port;
	char		 one[NATS_URLS_MAX + 1];
	size_t		 n;

	if (*v == '\0' || strlen(v) > NATS_URLS_MAX || !visible_ascii(v)) {
		snprintf(err, errsz, "nats_url: 1 to %d bytes without spaces",
		    NATS_URLS_MAX);
		return -1;
	}
	for (;;) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		memcpy(one, p, n);
		one[n] = '\0';
		if (strncmp(one, "nats://", 7) == 0)
			host = one + 7;
		else if (strncmp(one, "tls://", 6) == 0)
			host = one + 6;
		else {
			snprintf(err, errsz, "nats_url: \"%s\" is not "
			    "nats://HOST:PORT or tls://HOST:PORT", one);
			return -1;
		}
		if (strrchr(host, '@') != NULL)
			host = strrchr(host, '@') + 1;
		if ((colon = strrchr(host, ':')) == NULL || colon == host ||
		    parse_count(colon + 1, &port) == -1 || port < 1 ||
		    port > 65535 || strchr(host, '/') != NULL) {
			snprintf(err, errsz, "nats_url: \"%s\" is not "
			    "nats://HOST:PORT or tls://HOST:PORT", one);
			return -1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

int
config_set(struct config *cfg, const char *key, const char *value,
    char *err, size_t errsz)
{
	const struct key	*k = NULL;
	size_t			 i, len;
	long long		 v = 0;
	int			 bad;

	if (key == NULL || value == NULL) {
		snprintf(err, errsz, "%s: no value", key == NULL ? "?" : key);
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL) {
		snprintf(err, errsz, "%s: unknown key", key);
		return -1;
	}
	len = strlen(value);

	/* First the value's form, by type. */
	switch (k->type) {
	case CT_DB:
		if (len == 0 || len >= sizeof(cfg->db)) {
			snprintf(err, errsz, "%s: must be 1 to %zu bytes",
			    key, sizeof(cfg->db) - 1);
			return -1;
		}
		break;
	case CT_LISTEN:
		if (len >= sizeof(cfg->listen)) {
			snprintf(err, errsz, "%s: too long", key);
			return -1;
		}
		if (check_listen(key, value, err, errsz) == -1)
			return -1;
		break;
	case CT_TOPIC:
		if (cfg->nws_topics >= WS_TOPICS_MAX) {
			snprintf(err, errsz, "%s: more than %d topics", key,
			    WS_TOPICS_MAX);
			return -1;
		}
		if (!valid_topic(value, len)) {
			snprintf(err, errsz, "%s: 1 to %d characters of"
			    " A-Z a-z 0-9 . _ / -", key, TOPIC_MAX);
			return -1;
		}
		break;
	case CT_SECRET:
		if (len == 0 || len > TOKEN_MAX || !visible_ascii(value)) {
			snprintf(err, errsz, "%s: 1 to %d bytes of printable"
			    " ASCII without spaces", key, TOKEN_MAX);
			return -1;
		}
		/* An HMAC key an attacker can guess is no key. */
		if (k->id == K_TOKEN_KEY && len < TOKEN_KEY_MIN) {
			snprintf(err, errsz, "%s: at least %d bytes (make one"
			    " with: openssl rand -hex 32)", key, TOKEN_KEY_MIN);
			return -1;
		}
		break;
	case CT_NAME:
		if (len == 0 || len > NAME_MAX_LEN || !valid_name(value)) {
			snprintf(err, errsz, "%s: 1 to %d characters of"
			    " A-Z a-z 0-9 . _ -", key, NAME_MAX_LEN);
			return -1;
		}
		break;
	case CT_RULE:
		if (cfg->nprivate >= PRIVATE_RULES_MAX) {
			snprintf(err, errsz, "%s: more than %d rules", key,
			    PRIVATE_RULES_MAX);
			return -1;
		}
		if (len > RULE_MAX || auth_rule_check(value, err, errsz) == -1) {
			if (len > RULE_MAX)
				snprintf(err, errsz, "%s: longer than %d bytes",
				    key, RULE_MAX);
			return -1;
		}
		break;
	case CT_GROUP:
		if (cfg->ngroups >= GROUPS_MAX) {
			snprintf(err, errsz, "%s: more than %d groups", key,
			    GROUPS_MAX);
			return -1;
		}
		if (len > RULE_MAX ||
		    auth_group_check(value, err, errsz) == -1) {
			if (len > RULE_MAX)
				snprintf(err, errsz, "%s: longer than %d bytes",
				    key, RULE_MAX);
			return -1;
		}
		break;
	case CT_TOKEN:
		if (cfg->ntokens >= TOKENS_MAX) {
			snprintf(err, errsz, "%s: more than %d tokens",
			    key, TOKENS_MAX);
			return -1;
		}
		if (len == 0 || len > TOKEN_MAX) {
			snprintf(err, errsz, "%s: must be 1 to %d bytes",
			    key, TOKEN_MAX);
			return -1;
		}
		if (!visible_ascii(value)) {
			snprintf(err, errsz, "%s: printable ASCII without "
			    "spaces only", key);
			return -1;
		}
		break;
	case CT_ORIGIN:
		if (cfg->norigins >= ORIGINS_MAX) {
			snprintf(err, errsz, "%s: more than %d origins",
			    key, ORIGINS_MAX);
			return -1;
		}
		if (check_origin(value, err, errsz) == -1)
			return -1;
		break;
	case CT_LOG:
		if (strcmp(value, "sqlite") == 0)
			v = LOG_SQLITE;
		else if (strcmp(value, "jetstream") == 0)
			v = LOG_JETSTREAM;
		else {
			snprintf(err, errsz, "%s: must be sqlite or jetstream",
			    key);
			return -1;
		}
		break;
	case CT_NATS_URLS:
		if (check_nats_urls(value, err, errsz) == -1)
			return -1;
		break;
	case CT_NATS_STREAM:
		if (!jsmap_stream_ok(value)) {
			snprintf(err, errsz, "%s: 1 to %d characters of"
			    " A-Z a-z 0-9 _ -", key, NATS_STREAM_MAX);
			return -1;
		}
		break;
	case CT_NATS_PREFIX:
		if (!jsmap_prefix_ok(value)) {
			snprintf(err, errsz, "%s: 1 to %d characters, tokens"
			    " of A-Z a-z 0-9 _ - separated by single dots",
			    key, NATS_PREFIX_MAX);
			return -1;
		}
		break;
	case CT_PATH:
		if (len == 0 || len >= PATH_MAX) {
			snprintf(err, errsz, "%s: must be 1 to %d bytes",
			    key, PATH_MAX - 1);
			return -1;
		}
		break;
	case CT_NATS_SECRET:
		if (len == 0 || len > NATS_SECRET_MAX ||
		    !visible_ascii(value)) {
			snprintf(err, errsz, "%s: 1 to %d bytes of printable"
			    " ASCII without spaces", key, NATS_SECRET_MAX);
			return -1;
		}
		break;
	case CT_BOOL:
		if (parse_bool(value, &v) == -1) {
			snprintf(err, errsz, "%s: not yes, no, true, false, "
			    "1 or 0", key);
			return -1;
		}
		break;
	case CT_SYNC:
		if (strcasecmp(value, "full") == 0)
			v = 1;
		else if (strcasecmp(value, "normal") == 0)
			v = 0;
		else {
			snprintf(err, errsz, "%s: must be full or normal",
			    key);
			return -1;
		}
		break;
	case CT_COUNT:
	case CT_DURATION:
	case CT_SIZE:
		if (k->type == CT_COUNT)
			bad = parse_count(value, &v);
		else if (k->type == CT_DURATION)
			bad = parse_duration(value, &v);
		else
			bad = parse_size(value, &v);
		if (bad) {
			snprintf(err, errsz, "%s: not %s", key,
			    k->type == CT_COUNT ? "a whole number" :
			    k->type == CT_DURATION ? "a duration (a whole "
			    "number with ms, s, m, h or d)" :
			    "a size (a whole number with k or M)");
			return -1;
		}
		if (v < k->min || v > k->max) {
			snprintf(err, errsz, "%s: must be %s", key,
			    k->range);
			return -1;
		}
		break;
	}

	/* Then store it; every check is behind us. */
	switch (k->id) {
	case K_DB:
		memcpy(cfg->db, value, len + 1);
		break;
	case K_LISTEN:
		memcpy(cfg->listen, value, len + 1);
		break;
	case K_LISTEN_FORCE:
		cfg->listen_force = (int)v;
		break;
	case K_PUBLISH_TOKEN:
		memcpy(cfg->tokens[cfg->ntokens++], value, len + 1);
		break;
	case K_CORS_ORIGIN:
		memcpy(cfg->origins[cfg->norigins++], value, len + 1);
		break;
	case K_RETENTION_MAX_EVENTS:
		cfg->retention_max_events = v;
		break;
	case K_RETENTION_MAX_AGE:
		cfg->retention_max_age_ms = v;
		break;
	case K_HEARTBEAT:
		cfg->heartbeat_ms = v;
		break;
	case K_RETRY:
		cfg->retry_ms = v;
		break;
	case K_MAX_EVENT_SIZE:
		cfg->max_event_size = (size_t)v;
		break;
	case K_MAX_SUBSCRIBERS:
		cfg->max_subscribers = v;
		break;
	case K_BACKLOG_BOUND:
		cfg->backlog_bound = (size_t)v;
		break;
	case K_WORKERS:
		cfg->workers = (int)v;
		break;
	case K_SYNC:
		cfg->sync_full = (int)v;
		break;
	case K_WS:
		memcpy(cfg->ws, value, len + 1);
		break;
	case K_WS_PUBLISH_TOPIC:
		memcpy(cfg->ws_topics[cfg->nws_topics++], value, len + 1);
		break;
	case K_WS_MAX_MESSAGE:
		cfg->ws_max_message = (size_t)v;
		break;
	case K_ADMIN_TOKEN:
		memcpy(cfg->admin_token, value, len + 1);
		break;
	case K_USER:
		memcpy(cfg->user, value, len + 1);
		break;
	case K_SANDBOX:
		cfg->sandbox = (int)v;
		break;
	case K_MAX_SUBSCRIBERS_PER_ADDRESS:
		cfg->max_subscribers_per_address = v;
		break;
	case K_PUBLISH_RATE:
		cfg->publish_rate = v;
		break;
	case K_PRIVATE:
		memcpy(cfg->private_rules[cfg->nprivate++], value, len + 1);
		break;
	case K_GROUP:
		memcpy(cfg->groups[cfg->ngroups++], value, len + 1);
		break;
	case K_TOKEN_KEY:
		memcpy(cfg->token_key, value, len + 1);
		break;
	case K_TOKEN_COOKIE:
		memcpy(cfg->token_cookie, value, len + 1);
		break;
	case K_LOG:
		cfg->log = (int)v;
		break;
	case K_NATS_URL:
		memcpy(cfg->nats_url, value, len + 1);
		break;
	case K_NATS_STREAM:
		memcpy(cfg->nats_stream, value, len + 1);
		break;
	case K_NATS_SUBJECT:
		memcpy(cfg->nats_subject, value, len + 1);
		break;
	case K_NATS_REPLICAS:
		cfg->nats_replicas = (int)v;
		break;
	case K_NATS_CREDS:
		memcpy(cfg->nats_creds, value, len + 1);
		break;
	case K_NATS_USER:
		memcpy(cfg->nats_user, value, len + 1);
		break;
	case K_NATS_PASSWORD:
		memcpy(cfg->nats_password, value, len + 1);
		break;
	case K_NATS_TOKEN:
		memcpy(cfg->nats_token, value, len + 1);
		break;
	case K_NATS_CA:
		memcpy(cfg->nats_ca, value, len + 1);
		break;
	case K_NATS_TIMEOUT:
		cfg->nats_timeout_ms = v;
		break;
	case K_NATS_DISCOVER:
		cfg->nats_discover = (int)v;
		break;
	}
	return 0;
}

int
config_set_log_spec(struct config *cfg, const char *spec, char *err,
    size_t errsz)
{
	if (strncmp(spec, "sqlite:", 7) == 0) {
		if (config_set(cfg, "db", spec + 7, err, errsz) == -1)
			return -1;
		cfg->log = LOG_SQLITE;
		return 0;
	}
	if (strncmp(spec, "jetstream:", 10) == 0) {
		if (config_set(cfg, "nats_url", spec + 10, err, errsz) == -1)
			return -1;
		cfg->log = LOG_JETSTREAM;
		return 0;
	}
	snprintf(err, errsz, "%s: not sqlite:FILE or jetstream:URL", spec);
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim s in place; returns the first kept byte. */
static char *
trim(char *s)
{
	size_t	 n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One line, NUL-terminated and without its LF. */
static int
parse_line(struct config *cfg, char *line, char *err, size_t errsz)
{
	char	*p, *eq, *key, *value;

	/* '#' starts a comment at the start or after whitespace only, so
	 * tokens and URLs may hold a '#'. */
	for (p = line; *p != '\0'; p++)
		if (*p == '#' && (p == line || is_space(p[-1]))) {
			*p = '\0';
			break;
		}
	p = trim(line);
	if (*p == '\0')
		return 0;
	if ((eq = strchr(p, '=')) == NULL) {
		snprintf(err, errsz, "missing '=' (lines are key = value)");
		return -1;
	}
	*eq = '\0';
	key = trim(p);
	value = trim(eq + 1);
	if (*key == '\0') {
		snprintf(err, errsz, "missing key before '='");
		return -1;
	}
	return config_set(cfg, key, value, err, errsz);
}

/*
 * The file is applied to a copy, so a bad line leaves *cfg as it was
 * instead of half-changed.
 */
int
config_load(struct config *cfg, const char *path, char *err, size_t errsz)
{
	struct config	*tmp = NULL;
	FILE		*f = NULL;
	char		 line[CONFIG_LINE_MAX + 1];
	char		 msg[CONFIG_LINE_MAX + 128];
	size_t		 n;
	int		 c, lineno = 0, rc = -1, eof = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((tmp = malloc(sizeof(*tmp))) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	*tmp = *cfg;

	while (!eof) {
		lineno++;
		n = 0;
		while ((c = getc(f)) != '\n') {
			if (c == EOF) {
				eof = 1;
				break;
			}
			if (n == CONFIG_LINE_MAX) {
				snprintf(err, errsz, "%s:%d: line longer "
				    "than %d bytes", path, lineno,
				    CONFIG_LINE_MAX);
				goto out;
			}
			/* A NUL would hide the rest of the line. */
			if (c == '\0') {
				snprintf(err, errsz, "%s:%d: NUL byte",
				    path, lineno);
				goto out;
			}
			line[n++] = (char)c;
		}
		if (eof && ferror(f)) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out;
		}
		line[n] = '\0';
		/* A UTF-8 byte order mark some editors write. */
		if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
			memmove(line, line + 3, n - 2);
		if (parse_line(tmp, line, msg, sizeof(msg)) == -1) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, msg);
			goto out;
		}
	}
	*cfg = *tmp;
	rc = 0;
out:
	free(tmp);
	if (f != NULL)
		fclose(f);
	return rc;
}

size_t
config_ws_max_message(const struct config *cfg)
{
	if (cfg->ws_max_message != 0)
		return cfg->ws_max_message;
	/* JSON may escape data up to 6 bytes per byte, but what publishers
	 * send is mostly text: twice the event plus the fields is enough and
	 * keeps the bound meaningful. */
	return 2 * cfg->max_event_size + BODY_OVERHEAD_MAX;
}
