/*
 * auth.h: private topics, and who the subscriber is (README.md, "Private
 * topics"). Pure functions over the config: no I/O, no clock of their own.
 *
 * Topics are public unless a rule makes them private:
 *
 *   private = PATTERN [WHO[,WHO...]]
 *
 * PATTERN is a topic with two kinds of wildcard: a whole segment `{user}`
 * matches exactly the subscriber's user name (only a valid name, 1 to
 * NAME_MAX_LEN of A-Z a-z 0-9 . _ -, ever matches: "alice/x" does not),
 * and a final segment `*` matches one or more characters of any rest. A topic that matches some rule's pattern is private; it may be read
 * by the user its `{user}` matched, by the users and @groups listed in WHO
 * of any rule it matches, and by a token whose own patterns match it. The
 * first matching rule does not end the search: every matching rule may
 * grant.
 *
 *   group = NAME: USER, USER...
 *
 * Who the subscriber is comes from the web server (REMOTE_USER, whatever
 * authenticated it) or from an access token minted by the site's own
 * application (or `ssereplay token`), for EventSource cannot set headers:
 *
 *   v1.<base64url(user "\n" expiry-unix-seconds "\n" pattern "\n" ...)>
 *     .<base64url(HMAC-SHA256(token_key, "v1." + middle part))>
 *
 * compared in constant time. An expired token is refused, never taken as
 * anonymous; a stream opened with a token ends at its expiry with
 * `event: reauth`.
 */
#ifndef SSEREPLAY_AUTH_H
#define SSEREPLAY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "config.h"

/* Check the form of a `private` / `group` value. 0, or -1 with err. */
int auth_rule_check(const char *value, char *err, size_t errsz);
int auth_group_check(const char *value, char *err, size_t errsz);

/* Who asks. user "" = anonymous; a token adds its patterns and expiry. */
struct principal {
	char		 user[NAME_MAX_LEN + 1];
	int		 from_token;
	int64_t		 expires;		/* unix seconds; 0 = never */
	int		 npatterns;
	char		 patterns[TOKEN_PATTERNS_MAX][TOPIC_MAX + 1];
};

/* A topic matched against a pattern (for `user`, "" matches no {user}). */
int auth_pattern_match(const char *pattern, const char *topic,
    const char *user);

/* Is topic private under cfg? */
int auth_topic_private(const struct config *cfg, const char *topic);

/* May p read (and, over WebSocket, publish to) topic? Public: always. */
int auth_may_read(const struct config *cfg, const struct principal *p,
    const char *topic);

enum auth_token_err {
	AUTH_TOKEN_OK = 0,
	AUTH_TOKEN_MALFORMED = -1,
	AUTH_TOKEN_BAD_SIGNATURE = -2,
	AUTH_TOKEN_EXPIRED = -3,
	AUTH_TOKEN_NO_KEY = -4,		/* the config has no token_key */
};

/*
 * Verify an access token (len bytes) against cfg->token_key at time now
 * (unix seconds) and fill *p. Returns AUTH_TOKEN_OK or an error; p is
 * filled only on success.
 */
int auth_token_verify(const struct config *cfg, const char *tok, size_t len,
    int64_t now, struct principal *p);

/*
 * Mint a token for user with patterns (each a valid pattern) valid until
 * expires (unix seconds). Returns its length, or -1 (no key, a bad user or
 * pattern, out too small: ACCESS_TOKEN_MAX + 1 always suffices).
 */
int auth_token_mint(const struct config *cfg, const char *user,
    const char *const *patterns, int npatterns, int64_t expires, char *out,
    size_t outsz);

/* A human-readable reason for an auth_token_err. */
const char *auth_token_strerror(int err);

#endif
