/*
 * fuzz_config.c: backend/config.c, config_set() and config_load().
 *
 * Input: byte 0's low bit picks the mode, byte 1 is the size of the error
 * buffer (0..255, exactly allocated); the rest is
 *   mode 0: lines "KEY=VALUE" (split at the first '='), each given to
 *           config_set() in turn, then written as a file "KEY = VALUE" and
 *           given to config_load() on fresh defaults;
 *   mode 1: a config file, given to config_load() as it is.
 * config.h has no FILE * entry point: the file is one temporary file per
 * process, rewritten for each input and removed at exit.
 *
 * Checked (config.h):
 *   - nothing crashes; every error message is NUL-terminated inside the
 *     caller's buffer;
 *   - after any mix of successes the config keeps its invariants: counts
 *     within their maxima, every string NUL-terminated in its array, every
 *     number within its documented range, every private rule and group
 *     accepted by auth.h;
 *   - a failed config_load() leaves the config as it was;
 *   - a flag and a file line go through the same checks: when the lines
 *     survive the file syntax unchanged (no comment, no surrounding space,
 *     not too long), config_load() succeeds exactly when every
 *     config_set() did, with the same config, or fails at the line where
 *     config_set() first failed, with the same message after "PATH:LINE: ".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "fuzz.h"
#include "valid.h"

#define LINES_MAX	64
#define BIGERR		2048

static char	tmpl[] = "/tmp/ssereplay-fuzz-config.XXXXXX";
static int	tmpfd = -1;

static void
remove_tmp(void)
{
	if (tmpfd != -1)
		unlink(tmpl);
}

/* Make the file hold (buf, len): 0 or abort. */
static void
write_tmp(const char *buf, size_t len)
{
	if (tmpfd == -1) {
		if ((tmpfd = mkstemp(tmpl)) == -1)
			abort();
		atexit(remove_tmp);
	}
	if (ftruncate(tmpfd, 0) == -1 ||
	    (len > 0 && pwrite(tmpfd, buf, len, 0) != (ssize_t)len))
		abort();
}

static int
visible(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

#define TERM(f)	FUZZ_CHECK(fuzz_terminated((f), sizeof(f)))

/* What a config must look like whatever was set. */
static void
check_config(const struct config *c)
{
	char	 err[BIGERR];
	int	 i;

	TERM(c->db);
	TERM(c->listen);
	TERM(c->ws);
	TERM(c->admin_token);
	TERM(c->user);
	TERM(c->token_key);
	TERM(c->token_cookie);
	FUZZ_CHECK(c->db[0] != '\0' && c->listen[0] != '\0');
	FUZZ_CHECK(c->ntokens >= 0 && c->ntokens <= TOKENS_MAX);
	for (i = 0; i < c->ntokens; i++) {
		TERM(c->tokens[i]);
		FUZZ_CHECK(c->tokens[i][0] != '\0' && visible(c->tokens[i]));
	}
	FUZZ_CHECK(c->norigins >= 0 && c->norigins <= ORIGINS_MAX);
	for (i = 0; i < c->norigins; i++) {
		TERM(c->origins[i]);
		FUZZ_CHECK(strncmp(c->origins[i], "http", 4) == 0 &&
		    visible(c->origins[i]));
	}
	FUZZ_CHECK(c->nws_topics >= 0 && c->nws_topics <= WS_TOPICS_MAX);
	for (i = 0; i < c->nws_topics; i++) {
		TERM(c->ws_topics[i]);
		FUZZ_CHECK(valid_topic(c->ws_topics[i],
		    strlen(c->ws_topics[i])));
	}
	FUZZ_CHECK(c->nprivate >= 0 && c->nprivate <= PRIVATE_RULES_MAX);
	for (i = 0; i < c->nprivate; i++) {
		TERM(c->private_rules[i]);
		FUZZ_CHECK(auth_rule_check(c->private_rules[i], err,
		    sizeof(err)) == 0);
	}
	FUZZ_CHECK(c->ngroups >= 0 && c->ngroups <= GROUPS_MAX);
	for (i = 0; i < c->ngroups; i++) {
		TERM(c->groups[i]);
		FUZZ_CHECK(auth_group_check(c->groups[i], err,
		    sizeof(err)) == 0);
	}
	FUZZ_CHECK(c->admin_token[0] == '\0' || visible(c->admin_token));
	FUZZ_CHECK(c->token_key[0] == '\0' ||
	    (strlen(c->token_key) >= TOKEN_KEY_MIN && visible(c->token_key)));
	FUZZ_CHECK(c->token_cookie[0] != '\0');
	FUZZ_CHECK(c->listen_force == 0 || c->listen_force == 1);
	FUZZ_CHECK(c->sandbox == 0 || c->sandbox == 1);
	FUZZ_CHECK(c->sync_full == 0 || c->sync_full == 1);
	FUZZ_CHECK(c->retention_max_events >= 0);
	FUZZ_CHECK(c->retention_max_age_ms >= 0);
	FUZZ_CHECK(c->heartbeat_ms >= 100 && c->heartbeat_ms <= 3600000);
	FUZZ_CHECK(c->retry_ms >= 0 && c->retry_ms <= 3600000);
	FUZZ_CHECK(c->max_event_size >= 1 &&
	    c->max_event_size <= EVENT_SIZE_CEILING);
	FUZZ_CHECK(c->max_subscribers >= 1 && c->max_subscribers <= 1000000);
	FUZZ_CHECK(c->backlog_bound >= 64 * 1024 &&
	    c->backlog_bound <= 1024LL * 1024 * 1024);
	FUZZ_CHECK(c->workers >= 1 && c->workers <= WORKERS_MAX);
	FUZZ_CHECK(c->ws_max_message == 0 || (c->ws_max_message >= 1024 &&
	    c->ws_max_message <= 4 * 1024 * 1024));
	FUZZ_CHECK(c->max_subscribers_per_address >= 0 &&
	    c->max_subscribers_per_address <= 1000000);
	FUZZ_CHECK(c->publish_rate >= 0 && c->publish_rate <= 1000000);
	FUZZ_CHECK(config_ws_max_message(c) >= 1);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Does s reach config_set() unchanged through the file syntax? */
static int
survives(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || is_space(s[0]) || is_space(s[len - 1]))
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || s[i] == '\n' ||
		    (s[i] == '#' && (i == 0 || is_space(s[i - 1]))))
			return 0;
	return 1;
}

static void
mode_set(struct fuzz_in *in, size_t errsz)
{
	static struct config	 a, b, c;
	static char		 big[BIGERR], lbig[BIGERR], want[BIGERR];
	char			*err, *key, *value, *file;
	const char		*line, *eq;
	size_t			 len, klen, vlen, o = 0, n = 0;
	int			 rc, comparable = 1, failed_at = 0;

	config_defaults(&a);
	config_defaults(&b);
	err = fuzz_alloc(errsz);
	file = fuzz_alloc(in->left * 2 + 16);
	/* A BOM on the first line is dropped by the file reader only. */
	if (in->left >= 3 && memcmp(in->p, "\xef\xbb\xbf", 3) == 0)
		comparable = 0;
	while (in->left > 0 && n < LINES_MAX) {
		n++;
		line = fuzz_piece(in, '\n', &len);
		eq = memchr(line, '=', len);
		klen = eq != NULL ? (size_t)(eq - line) : len;
		key = fuzz_strndup(line, klen);
		value = eq != NULL ? fuzz_strndup(eq + 1, len - klen - 1) :
		    NULL;
		vlen = value != NULL ? strlen(value) : 0;

		rc = config_set(&a, key, value, errsz > 0 ? err : NULL,
		    errsz);
		FUZZ_CHECK(rc == 0 || rc == -1);
		if (rc == 0) {
			check_config(&a);
			/* b follows a, with a large error buffer. */
			FUZZ_CHECK(config_set(&b, key, value, big,
			    sizeof(big)) == 0);
		} else {
			/* A failed set changed nothing. */
			FUZZ_CHECK(memcmp(&a, &b, sizeof(a)) == 0);
			FUZZ_CHECK(config_set(&b, key, value, big,
			    sizeof(big)) == -1);
			FUZZ_CHECK(fuzz_terminated(big, sizeof(big)));
			FUZZ_CHECK(big[0] != '\0');
			/* The message does not depend on the buffer: the
			 * small one holds its start. */
			if (errsz > 0) {
				FUZZ_CHECK(fuzz_terminated(err, errsz));
				FUZZ_CHECK(strncmp(err, big, errsz - 1) == 0);
			}
			failed_at = (int)n;
		}

		/* The same line as the file reader would see it. */
		if (value == NULL || !survives(key, klen) ||
		    !survives(value, vlen) || vlen != len - klen - 1 ||
		    klen + 3 + vlen > CONFIG_LINE_MAX)
			comparable = 0;
		if (comparable) {
			memcpy(file + o, key, klen);
			o += klen;
			memcpy(file + o, " = ", 3);
			o += 3;
			memcpy(file + o, value, vlen);
			o += vlen;
			file[o++] = '\n';
		}
		free(key);
		free(value);
		if (failed_at != 0)
			break;
	}
	if (comparable && n > 0) {
		write_tmp(file, o);
		config_defaults(&c);
		rc = config_load(&c, tmpl, lbig, sizeof(lbig));
		if (failed_at == 0) {
			FUZZ_CHECK(rc == 0);
			FUZZ_CHECK(memcmp(&a, &c, sizeof(c)) == 0);
		} else {
			FUZZ_CHECK(rc == -1);
			snprintf(want, sizeof(want), "%s:%d: %s", tmpl,
			    failed_at, big);
			if (strcmp(want, lbig) != 0)
				fprintf(stderr, "set: %s\nload: %s\n", want,
				    lbig);
			FUZZ_CHECK(strcmp(want, lbig) == 0);
		}
	}
	free(file);
	free(err);
}

static void
mode_load(struct fuzz_in *in, size_t errsz)
{
	static struct config	 c, copy;
	char			*err;
	int			 rc;

	config_defaults(&c);
	/* Start from a config with something in it, to see it kept. */
	config_set(&c, "publish_token", "fuzz-token", NULL, 0);
	config_set(&c, "private", "user/{user}/*", NULL, 0);
	copy = c;
	write_tmp((const char *)in->p, in->left);
	err = fuzz_alloc(errsz);
	rc = config_load(&c, tmpl, errsz > 0 ? err : NULL, errsz);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		if (errsz > 0)
			FUZZ_CHECK(fuzz_terminated(err, errsz));
		FUZZ_CHECK(memcmp(&c, &copy, sizeof(c)) == 0);
	}
	check_config(&c);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in	 in;
	unsigned	 mode;
	size_t		 errsz;

	fuzz_in_init(&in, data, size);
	mode = fuzz_byte(&in) & 1;
	errsz = fuzz_byte(&in);
	if (mode == 0)
		mode_set(&in, errsz);
	else
		mode_load(&in, errsz);
	return 0;
}
