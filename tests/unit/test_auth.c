/*
 * test_auth.c: backend/auth.c, one named case per rule (auth.h, README.md
 * "Private topics").
 *
 * Every config is built with config_defaults() and config_set() (keys
 * private, group, token_key), so these cases also prove how the config
 * feeds auth: a rule auth_rule_check() refuses, config_set() refuses too.
 *
 * Tokens are checked two ways: minted by auth_token_mint() and verified,
 * and crafted here (our own base64url and HMAC-SHA256) so that a payload
 * auth_token_mint() would never write is still correctly signed, and its
 * refusal is for the reason under test, not for the signature. Tokens
 * given to auth_token_verify() are copied into a heap buffer of exactly
 * their length, so a read past len fails under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "bounds.h"
#include "config.h"

_Static_assert(NAME_MAX_LEN == 64, "the name length cases assume 64");
_Static_assert(TOPIC_MAX == 128, "the pattern length cases assume 128");
_Static_assert(TOKEN_PATTERNS_MAX == 16, "the pattern count cases assume 16");
_Static_assert(GROUP_MEMBERS_MAX == 64, "the member cases assume 64");
_Static_assert(ACCESS_TOKEN_MAX == 2048, "the token size cases assume 2048");

/* Names and patterns at and past their bounds. */
#define S10	"xxxxxxxxxx"
#define N64	S10 S10 S10 S10 S10 S10 "xxxx"
#define N65	N64 "x"
#define P128	S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "xxxxxxxx"
#define P129	P128 "x"

#define KEY		"0123456789abcdef0123456789abcdef"
#define OTHER_KEY	"0123456789abcdef0123456789abcdeF"

/* A time well inside every token's life, and an expiry after it. */
#define NOW	1700000000LL
#define LATER	2000000000LL

/* Build cfg from key/value pairs, ending with NULL; fails on a refusal. */
static void
cfg_build(struct config *cfg, const char *const *kv)
{
	char err[512];

	config_defaults(cfg);
	for (; kv[0] != NULL; kv += 2)
		if (config_set(cfg, kv[0], kv[1], err, sizeof(err)) != 0)
			fail_msg("config_set %s = %s: %s", kv[0], kv[1], err);
}

static void
cfg_with_key(struct config *cfg, const char *key)
{
	const char *kv[] = { "token_key", key, NULL };

	cfg_build(cfg, kv);
}

/* ------------------------------------------------------------------ */
/* auth_rule_check(), auth_group_check(), and config_set() agreeing.   */

struct ccase {
	int		 group;		/* 0: private, 1: group */
	const char	*value;
	int		 want;		/* 0 or -1 */
};

#define RULE_OK(nm, v)							\
	{ .name = nm, .test_func = run_check,				\
	  .initial_state = &(struct ccase){ 0, v, 0 } }
#define RULE_BAD(nm, v)							\
	{ .name = nm, .test_func = run_check,				\
	  .initial_state = &(struct ccase){ 0, v, -1 } }
#define GROUP_OK(nm, v)							\
	{ .name = nm, .test_func = run_check,				\
	  .initial_state = &(struct ccase){ 1, v, 0 } }
#define GROUP_BAD(nm, v)						\
	{ .name = nm, .test_func = run_check,				\
	  .initial_state = &(struct ccase){ 1, v, -1 } }

static void
check_value(int group, const char *value, int want)
{
	struct config	 cfg;
	char		 err[512];
	int		 rc;

	memset(err, 0, sizeof(err));
	rc = group ? auth_group_check(value, err, sizeof(err)) :
	    auth_rule_check(value, err, sizeof(err));
	if (rc != want)
		fail_msg("%s \"%s\": got %d, want %d (%s)",
		    group ? "group" : "private", value, rc, want, err);
	if (want == -1)
		assert_true(err[0] != '\0');

	/* config_set() takes exactly what the check takes. */
	config_defaults(&cfg);
	memset(err, 0, sizeof(err));
	rc = config_set(&cfg, group ? "group" : "private", value, err,
	    sizeof(err));
	assert_int_equal(rc, want);
	if (group) {
		assert_int_equal(cfg.ngroups, want == 0 ? 1 : 0);
		if (want == 0)
			assert_string_equal(cfg.groups[0], value);
	} else {
		assert_int_equal(cfg.nprivate, want == 0 ? 1 : 0);
		if (want == 0)
			assert_string_equal(cfg.private_rules[0], value);
	}
	if (want == -1)
		assert_true(err[0] != '\0');
}

static void
run_check(void **state)
{
	const struct ccase *c = *state;

	check_value(c->group, c->value, c->want);
}

/* "g: m0, m1, ..." with n members, separated by sep. */
static void
members(char *out, size_t outsz, int n, const char *sep)
{
	size_t	 o;
	int	 i;

	o = (size_t)snprintf(out, outsz, "g:");
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, outsz - o, "%sm%d",
		    i == 0 ? " " : sep, i);
	assert_true(o < outsz);
}

static void
test_group_members_max(void **state)
{
	char buf[RULE_MAX + 1];

	(void)state;
	members(buf, sizeof(buf), GROUP_MEMBERS_MAX, ", ");
	check_value(1, buf, 0);
	members(buf, sizeof(buf), GROUP_MEMBERS_MAX, ",");
	check_value(1, buf, 0);
}

static void
test_group_members_past_max_commas(void **state)
{
	char buf[RULE_MAX + 1];

	(void)state;
	members(buf, sizeof(buf), GROUP_MEMBERS_MAX + 1, ", ");
	check_value(1, buf, -1);
}

/* Spaces separate members as commas do (both are accepted): the bound
 * must hold whichever separates them. */
static void
test_group_members_past_max_spaces(void **state)
{
	char buf[RULE_MAX + 1];

	(void)state;
	members(buf, sizeof(buf), GROUP_MEMBERS_MAX + 1, " ");
	check_value(1, buf, -1);
}

/* The config's own bound on the line, on top of the rule's form. */
static void
test_rule_longer_than_rule_max(void **state)
{
	struct config	 cfg;
	char		 buf[RULE_MAX + 64], err[256];
	size_t		 o;

	(void)state;
	o = (size_t)snprintf(buf, sizeof(buf), "ops/* dave");
	while (o <= RULE_MAX)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, ",dave");
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "private", buf, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "private: longer than 512 bytes");
	assert_int_equal(cfg.nprivate, 0);
}

static void
test_token_key_length(void **state)
{
	struct config	 cfg;
	char		 err[256];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.token_key, "");
	assert_int_equal(config_set(&cfg, "token_key", "0123456789abcde",
	    err, sizeof(err)), -1);
	assert_string_equal(cfg.token_key, "");
	assert_int_equal(config_set(&cfg, "token_key", "0123456789abcdef",
	    err, sizeof(err)), 0);
	assert_string_equal(cfg.token_key, "0123456789abcdef");
}

/* ------------------------------------------------------------------ */
/* auth_pattern_match().                                               */

struct mcase {
	const char	*pattern, *topic, *user;
	int		 want;
};

#define MATCH(nm, p, t, u, w)						\
	{ .name = nm, .test_func = run_match,				\
	  .initial_state = &(struct mcase){ p, t, u, w } }

static void
run_match(void **state)
{
	const struct mcase *c = *state;

	if (auth_pattern_match(c->pattern, c->topic, c->user) != c->want)
		fail_msg("\"%s\" against \"%s\" as \"%s\": want %d",
		    c->pattern, c->topic, c->user, c->want);
}

/* ------------------------------------------------------------------ */
/* auth_topic_private() and auth_may_read() under one config.          */

static struct config rcfg;

static const char *const rcfg_kv[] = {
	"private", "user/{user}/*",
	"private", "ops/* @ops, dave",
	"group", "ops: carol, erin",
	"private", "secret/* @nogroup",
	"private", "shared/* alice",
	"private", "shared/* @team",
	"group", "team: bob",
	"private", "inbox/{user}",
	"private", "admin/* root",
	"token_key", KEY,
	NULL
};

static int
group_setup(void **state)
{
	(void)state;
	cfg_build(&rcfg, rcfg_kv);
	return 0;
}

struct pcase {
	const char	*topic;
	int		 want;
};

#define PRIV(nm, t, w)							\
	{ .name = nm, .test_func = run_private,				\
	  .initial_state = &(struct pcase){ t, w } }

static void
run_private(void **state)
{
	const struct pcase *c = *state;

	assert_int_equal(auth_topic_private(&rcfg, c->topic), c->want);
}

/* A principal as the web server gives it (REMOTE_USER). */
struct rcase {
	const char	*user;
	const char	*topic;
	int		 want;
};

#define READ(nm, u, t, w)						\
	{ .name = nm, .test_func = run_read,				\
	  .initial_state = &(struct rcase){ u, t, w } }

static void
run_read(void **state)
{
	const struct rcase	*c = *state;
	struct principal	 p;

	memset(&p, 0, sizeof(p));
	assert_true(strlen(c->user) <= NAME_MAX_LEN);
	strcpy(p.user, c->user);
	if (auth_may_read(&rcfg, &p, c->topic) != c->want)
		fail_msg("\"%s\" reading \"%s\": want %d", c->user, c->topic,
		    c->want);
}

/* A principal from a token minted and verified under rcfg. */
struct tcase {
	const char	*user;
	const char	*patterns[3];
	int		 npatterns;
	const char	*topic;
	int		 want;
};

#define TREAD(nm, u, t, w, ...)						\
	{ .name = nm, .test_func = run_token_read,			\
	  .initial_state = &(struct tcase){ u, { __VA_ARGS__ },		\
	  sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *),	\
	  t, w } }

static void
run_token_read(void **state)
{
	const struct tcase	*c = *state;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	n = auth_token_mint(&rcfg, c->user, c->patterns, c->npatterns, LATER,
	    tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(auth_token_verify(&rcfg, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_OK);
	if (auth_may_read(&rcfg, &p, c->topic) != c->want)
		fail_msg("token of \"%s\" (%s...) reading \"%s\": want %d",
		    c->user, c->patterns[0], c->topic, c->want);
}

/* ------------------------------------------------------------------ */
/* Tokens: our own encoder and signer.                                 */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url, no padding, written bit by bit (not the way auth.c does). */
static size_t
enc(const unsigned char *in, size_t len, char *out)
{
	uint32_t	 acc = 0;
	size_t		 i, o = 0;
	int		 bits = 0;

	for (i = 0; i < len; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64chars[acc >> bits & 63];
		}
	}
	if (bits > 0)
		out[o++] = b64chars[acc << (6 - bits) & 63];
	out[o] = '\0';
	return o;
}

/* "v1." body "." base64url(HMAC-SHA256(key, "v1." body)); malloc'd. */
static char *
sign_body(const char *key, const char *body, size_t *lenp)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	unsigned int	 maclen = 0;
	size_t		 blen = strlen(body), n;
	char		*t;

	t = malloc(3 + blen + 1 + 64);
	assert_non_null(t);
	memcpy(t, "v1.", 3);
	memcpy(t + 3, body, blen);
	n = 3 + blen;
	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)t, n, mac, &maclen));
	assert_int_equal(maclen, 32);
	t[n++] = '.';
	n += enc(mac, maclen, t + n);
	*lenp = n;
	return t;
}

/* A signed token whose payload is (payload, plen). malloc'd. */
static char *
sign_payload(const char *key, const char *payload, size_t plen,
    size_t *lenp)
{
	char	*body, *t;

	body = malloc(plen * 4 / 3 + 4);
	assert_non_null(body);
	enc((const unsigned char *)payload, plen, body);
	t = sign_body(key, body, lenp);
	free(body);
	return t;
}

/* auth_token_verify() on an exact-length heap copy. */
static int
verify(const struct config *cfg, const char *tok, size_t len, int64_t now,
    struct principal *p)
{
	char	*buf;
	int	 rc;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, tok, len);
	rc = auth_token_verify(cfg, buf, len, now, p);
	free(buf);
	return rc;
}

/* A payload crafted here, signed with KEY, verified at NOW. */
struct vcase {
	const char	*payload;
	size_t		 plen;
	int		 want;
};

#define PAYLOAD(nm, s, w)						\
	{ .name = nm, .test_func = run_payload,				\
	  .initial_state = &(struct vcase){ s, sizeof(s) - 1, w } }

static void
run_payload(void **state)
{
	const struct vcase	*c = *state;
	struct config		 cfg;
	struct principal	 p, before;
	char			*t;
	size_t			 len;
	int			 rc;

	cfg_with_key(&cfg, KEY);
	t = sign_payload(KEY, c->payload, c->plen, &len);
	memset(&p, 0x5a, sizeof(p));
	before = p;
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	if (rc != c->want)
		fail_msg("got %d (%s), want %d", rc, auth_token_strerror(rc),
		    c->want);
	/* p is filled only on success. */
	if (rc != AUTH_TOKEN_OK)
		assert_memory_equal(&p, &before, sizeof(p));
}

/* A token minted with KEY for alice, patterns user/{user}/STAR, ops/a. */
static int
mint_alice(const struct config *cfg, int64_t exp, char *out, size_t outsz)
{
	static const char *const pats[] = { "user/{user}/*", "ops/a" };

	return auth_token_mint(cfg, "alice", pats, 2, exp, out, outsz);
}

static void
test_token_round_trip(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(tok));
	assert_true(strncmp(tok, "v1.", 3) == 0);
	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p), AUTH_TOKEN_OK);
	assert_string_equal(p.user, "alice");
	assert_int_equal(p.from_token, 1);
	assert_true(p.expires == LATER);
	assert_int_equal(p.npatterns, 2);
	assert_string_equal(p.patterns[0], "user/{user}/*");
	assert_string_equal(p.patterns[1], "ops/a");
}

/* The largest user, the most patterns. */
static void
test_token_round_trip_bounds(void **state)
{
	const char		*pats[TOKEN_PATTERNS_MAX];
	char			 names[TOKEN_PATTERNS_MAX][32];
	struct config		 cfg;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 i, n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	for (i = 0; i < TOKEN_PATTERNS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d/{user}/*", i);
		pats[i] = names[i];
	}
	n = auth_token_mint(&cfg, N64, pats, TOKEN_PATTERNS_MAX, LATER, tok,
	    sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p), AUTH_TOKEN_OK);
	assert_string_equal(p.user, N64);
	assert_int_equal(p.npatterns, TOKEN_PATTERNS_MAX);
	for (i = 0; i < TOKEN_PATTERNS_MAX; i++)
		assert_string_equal(p.patterns[i], names[i]);

	/* The longest pattern. */
	pats[0] = P128;
	n = auth_token_mint(&cfg, "alice", pats, 1, LATER, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p), AUTH_TOKEN_OK);
	assert_string_equal(p.patterns[0], P128);
}

/* What we sign, auth.c verifies: the two encoders agree. */
static void
test_token_crafted_equals_minted(void **state)
{
	static const char	 payload[] = "alice\n2000000000\nuser/{user}/*"
	    "\nops/a";
	struct config		 cfg;
	char			 tok[ACCESS_TOKEN_MAX + 1], *t;
	size_t			 len;
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	t = sign_payload(KEY, payload, sizeof(payload) - 1, &len);
	assert_int_equal((size_t)n, len);
	assert_memory_equal(tok, t, len);
	free(t);
}

static void
test_token_no_key(void **state)
{
	struct config		 cfg, nokey;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	config_defaults(&nokey);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(verify(&nokey, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_NO_KEY);
	/* Even before looking at the token. */
	assert_int_equal(verify(&nokey, "", 0, NOW, &p), AUTH_TOKEN_NO_KEY);
	assert_int_equal(mint_alice(&nokey, LATER, tok, sizeof(tok)), -1);
}

static void
test_token_wrong_key(void **state)
{
	struct config		 cfg, other;
	struct principal	 p, before;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	cfg_with_key(&other, OTHER_KEY);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	assert_true(n > 0);
	memset(&p, 0x5a, sizeof(p));
	before = p;
	assert_int_equal(verify(&other, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_BAD_SIGNATURE);
	assert_memory_equal(&p, &before, sizeof(p));
}

/* Minted for another key, one that merely extends ours. */
static void
test_token_other_key_longer(void **state)
{
	struct config		 cfg, other;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	cfg_with_key(&other, KEY "0");
	n = mint_alice(&other, LATER, tok, sizeof(tok));
	assert_true(n > 0);
	assert_int_equal(verify(&other, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_OK);
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_BAD_SIGNATURE);
}

/* Every byte of a valid token replaced by every other byte value. */
static void
test_token_every_byte_change(void **state)
{
	struct config		 cfg;
	struct principal	 p, before;
	char			 tok[ACCESS_TOKEN_MAX + 1], orig;
	size_t			 i, n;
	int			 b, rc;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = (size_t)mint_alice(&cfg, LATER, tok, sizeof(tok));
	memset(&p, 0x5a, sizeof(p));
	before = p;
	for (i = 0; i < n; i++) {
		orig = tok[i];
		for (b = 0; b < 256; b++) {
			if ((char)b == orig)
				continue;
			tok[i] = (char)b;
			rc = verify(&cfg, tok, n, NOW, &p);
			if (rc != AUTH_TOKEN_MALFORMED &&
			    rc != AUTH_TOKEN_BAD_SIGNATURE)
				fail_msg("byte %zu set to 0x%02x: got %d", i,
				    b, rc);
		}
		tok[i] = orig;
	}
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(verify(&cfg, tok, n, NOW, &p), AUTH_TOKEN_OK);
}

static void
test_token_truncated(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 2];
	size_t			 i, n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = (size_t)mint_alice(&cfg, LATER, tok, sizeof(tok));
	for (i = 0; i < n; i++)
		if (verify(&cfg, tok, i, NOW, &p) != AUTH_TOKEN_MALFORMED)
			fail_msg("the first %zu of %zu bytes", i, n);
	/* ...and one byte too many. */
	tok[n] = 'A';
	assert_int_equal(verify(&cfg, tok, n + 1, NOW, &p),
	    AUTH_TOKEN_MALFORMED);
}

static void
test_token_expired(void **state)
{
	struct config		 cfg;
	struct principal	 p, before;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, NOW, tok, sizeof(tok));
	memset(&p, 0x5a, sizeof(p));
	before = p;
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_EXPIRED);
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW + 3600, &p),
	    AUTH_TOKEN_EXPIRED);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW - 1, &p),
	    AUTH_TOKEN_OK);
	assert_true(p.expires == NOW);
}

/* A valid signature over a base64url text with one bit too many. */
static void
test_token_noncanonical_payload(void **state)
{
	static const char	 payload[] = "alice\n2000000000\nnews/a";
	struct config		 cfg;
	struct principal	 p;
	char			 body[64], *t;
	size_t			 len, blen;
	const char		*d;
	int			 rc;

	(void)state;
	_Static_assert((sizeof(payload) - 1) % 3 != 0,
	    "the payload must leave spare bits");
	cfg_with_key(&cfg, KEY);
	blen = enc((const unsigned char *)payload, sizeof(payload) - 1, body);
	t = sign_body(KEY, body, &len);
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	assert_int_equal(rc, AUTH_TOKEN_OK);
	/* The spare low bits of the last character set. */
	d = strchr(b64chars, body[blen - 1]);
	body[blen - 1] = b64chars[(d - b64chars) | 1];
	t = sign_body(KEY, body, &len);
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	assert_int_equal(rc, AUTH_TOKEN_MALFORMED);
}

static void
test_token_noncanonical_signature(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	const char		*d;
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	/* 32 bytes are 43 characters: 2 spare bits in the last. */
	assert_true(strlen(strrchr(tok, '.') + 1) == 43);
	d = strchr(b64chars, tok[n - 1]);
	assert_true(((d - b64chars) & 3) == 0);
	tok[n - 1] = b64chars[(d - b64chars) | 1];
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_MALFORMED);
}

/* Signed bodies auth_token_mint() would never write. */
static void
test_token_bad_bodies(void **state)
{
	static const char *const bodies[] = {
		/* "alice\n2000000000\nnews" is YWxpY2UKMjAwMDAwMDAwMApuZXdz */
		"YWxpY2UKMjAwMDAwMDAwMApuZXdzeA==",	/* padding */
		"YWxpY2UKMjAwMDAwMDAwMApuZXdzA",	/* length % 4 == 1 */
		"YWxpY2UKMjAwMDAwMDAwMApuZXd+",		/* base64, not url */
		"YWxpY2UKMjAwMDAwMDAwMApuZXd/",		/* base64, not url */
		"YWxpY2UKMjAwMDAwMDAwMApuZXd ",		/* a space */
		"",					/* nothing */
	};
	struct config		 cfg;
	struct principal	 p;
	char			*t;
	size_t			 i, len;
	int			 rc;

	(void)state;
	cfg_with_key(&cfg, KEY);
	t = sign_body(KEY, "YWxpY2UKMjAwMDAwMDAwMApuZXdz", &len);
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	assert_int_equal(rc, AUTH_TOKEN_OK);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		t = sign_body(KEY, bodies[i], &len);
		rc = verify(&cfg, t, len, NOW, &p);
		free(t);
		if (rc != AUTH_TOKEN_MALFORMED)
			fail_msg("body \"%s\": got %d", bodies[i], rc);
	}
}

static void
test_token_wrong_version(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 tok[ACCESS_TOKEN_MAX + 1];
	int			 n;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, LATER, tok, sizeof(tok));
	tok[1] = '2';
	assert_int_equal(verify(&cfg, tok, (size_t)n, NOW, &p),
	    AUTH_TOKEN_MALFORMED);
}

/* A payload of plen bytes: alice, LATER, then patterns filling it. */
static void
long_payload(char *s, size_t plen)
{
	size_t	 o;

	o = (size_t)snprintf(s, plen + 1, "alice\n2000000000");
	while (o < plen) {
		size_t n = plen - o - 1;	/* after the newline */

		if (n > TOPIC_MAX)
			n = n - TOPIC_MAX >= 2 ? TOPIC_MAX : n - 2;
		s[o++] = '\n';
		memset(s + o, 'p', n);
		o += n;
	}
	s[o] = '\0';
	assert_int_equal(o, plen);
}

/* The longest token there can be (2047 bytes: 2048 would need a base64
 * text of 4k + 1 characters) verifies; 2049 bytes do not. */
static void
test_token_access_token_max(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 s[ACCESS_TOKEN_MAX], *t;
	size_t			 len;
	int			 rc;

	(void)state;
	cfg_with_key(&cfg, KEY);
	long_payload(s, 1500);
	t = sign_payload(KEY, s, strlen(s), &len);
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	assert_int_equal(len, ACCESS_TOKEN_MAX - 1);
	assert_int_equal(rc, AUTH_TOKEN_OK);
	assert_string_equal(p.user, "alice");

	long_payload(s, 1501);
	t = sign_payload(KEY, s, strlen(s), &len);
	rc = verify(&cfg, t, len, NOW, &p);
	free(t);
	assert_int_equal(len, ACCESS_TOKEN_MAX + 1);
	assert_int_equal(rc, AUTH_TOKEN_MALFORMED);
}

/* Split a payload made by long_payload() into its patterns. */
static int
split_patterns(char *s, const char **pats)
{
	char	*line;
	int	 n = 0;

	line = strchr(strchr(s, '\n') + 1, '\n');
	while (line != NULL) {
		*line++ = '\0';
		assert_true(n < TOKEN_PATTERNS_MAX);
		pats[n++] = line;
		line = strchr(line, '\n');
	}
	return n;
}

/* auth.h: "ACCESS_TOKEN_MAX + 1 always suffices" for out. */
static void
test_token_mint_longest(void **state)
{
	const char		*pats[TOKEN_PATTERNS_MAX];
	struct config		 cfg;
	struct principal	 p;
	char			 s[ACCESS_TOKEN_MAX], big[2 * ACCESS_TOKEN_MAX];
	char			 out[ACCESS_TOKEN_MAX + 1];
	int			 n, np;

	(void)state;
	cfg_with_key(&cfg, KEY);
	long_payload(s, 1500);
	np = split_patterns(s, pats);
	/* With room to spare it is made, and verifies... */
	n = auth_token_mint(&cfg, "alice", pats, np, LATER, big, sizeof(big));
	assert_int_equal(n, ACCESS_TOKEN_MAX - 1);
	assert_int_equal(verify(&cfg, big, (size_t)n, NOW, &p),
	    AUTH_TOKEN_OK);
	/* ...and with the room auth.h promises is enough, too. */
	n = auth_token_mint(&cfg, "alice", pats, np, LATER, out, sizeof(out));
	if (n != ACCESS_TOKEN_MAX - 1)
		fail_msg("mint into ACCESS_TOKEN_MAX + 1 bytes: got %d, want %d",
		    n, ACCESS_TOKEN_MAX - 1);
	assert_memory_equal(out, big, (size_t)n + 1);
}

/* Never a token verify would refuse for its size. */
static void
test_token_mint_too_long(void **state)
{
	const char		*pats[TOKEN_PATTERNS_MAX];
	struct config		 cfg;
	char			 s[ACCESS_TOKEN_MAX], big[4 * ACCESS_TOKEN_MAX];
	int			 np;

	(void)state;
	cfg_with_key(&cfg, KEY);
	long_payload(s, 1501);
	np = split_patterns(s, pats);
	assert_int_equal(auth_token_mint(&cfg, "alice", pats, np, LATER, big,
	    sizeof(big)), -1);
}

struct mintcase {
	const char	*user;
	const char	*patterns[TOKEN_PATTERNS_MAX + 1];
	int		 npatterns;
};

#define MINT_BAD(nm, u, n, ...)						\
	{ .name = nm, .test_func = run_mint_bad,			\
	  .initial_state = &(struct mintcase){ u, { __VA_ARGS__ }, n } }

static void
run_mint_bad(void **state)
{
	const struct mintcase	*c = *state;
	struct config		 cfg;
	char			 out[ACCESS_TOKEN_MAX + 1];

	cfg_with_key(&cfg, KEY);
	memset(out, 0x5a, sizeof(out));
	assert_int_equal(auth_token_mint(&cfg, c->user, c->patterns,
	    c->npatterns, LATER, out, sizeof(out)), -1);
}

/* Every out size too small is refused, and nothing is written past it. */
static void
test_token_mint_out_size(void **state)
{
	struct config		 cfg;
	struct principal	 p;
	char			 want[ACCESS_TOKEN_MAX + 1], *buf;
	size_t			 outsz, i;
	int			 n, rc, same, made = 0;

	(void)state;
	cfg_with_key(&cfg, KEY);
	n = mint_alice(&cfg, LATER, want, sizeof(want));
	assert_true(n > 0);
	for (outsz = 0; outsz <= ACCESS_TOKEN_MAX + 1; outsz++) {
		/* Exactly outsz bytes (ASan), then a canary (plain build). */
		buf = malloc(outsz + 64);
		assert_non_null(buf);
		memset(buf, 0xa5, outsz + 64);
		rc = mint_alice(&cfg, LATER, buf, outsz);
		for (i = outsz; i < outsz + 64; i++)
			if ((unsigned char)buf[i] != 0xa5)
				break;
		same = rc == n && strcmp(buf, want) == 0;
		free(buf);
		if (i < outsz + 64)
			fail_msg("outsz %zu: byte %zu written", outsz, i);
		if (outsz <= (size_t)n && rc != -1)
			fail_msg("outsz %zu for %d bytes: got %d", outsz, n,
			    rc);
		if (rc != -1 && !same)
			fail_msg("outsz %zu: another token", outsz);
		made |= rc != -1;
	}
	assert_true(made);
	assert_int_equal(verify(&cfg, want, (size_t)n, NOW, &p),
	    AUTH_TOKEN_OK);
}

static void
test_token_strerror(void **state)
{
	static const int	 errs[] = {
		AUTH_TOKEN_OK, AUTH_TOKEN_MALFORMED, AUTH_TOKEN_BAD_SIGNATURE,
		AUTH_TOKEN_EXPIRED, AUTH_TOKEN_NO_KEY,
	};
	size_t			 i, j;
	const char		*s;

	(void)state;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		s = auth_token_strerror(errs[i]);
		assert_non_null(s);
		assert_true(s[0] != '\0');
		for (j = 0; j < i; j++)
			assert_string_not_equal(s,
			    auth_token_strerror(errs[j]));
	}
	for (i = 0; i < 3; i++) {
		s = auth_token_strerror(i == 0 ? -99 : i == 1 ? 1 : -5);
		assert_non_null(s);
		assert_true(s[0] != '\0');
	}
}

static const struct CMUnitTest tests[] = {
	RULE_OK("rule: README user rule", "user/{user}/*"),
	RULE_OK("rule: README ops rule", "ops/* @ops, dave"),
	RULE_OK("rule: {user} alone", "{user}"),
	RULE_OK("rule: {user} first", "{user}/inbox"),
	RULE_OK("rule: {user} last", "inbox/{user}"),
	RULE_OK("rule: {user} twice", "dm/{user}/{user}"),
	RULE_OK("rule: {user} and WHO", "user/{user}/* admin"),
	RULE_OK("rule: * alone with WHO", "* admin"),
	RULE_OK("rule: every literal character", "aZ09._-/x-Y.z_ dave"),
	RULE_OK("rule: WHO by commas", "ops/* carol,erin,@ops"),
	RULE_OK("rule: WHO by spaces", "ops/* carol erin @ops"),
	RULE_OK("rule: WHO by tab", "ops/*\t@ops"),
	RULE_OK("rule: WHO name characters", "ops/* a.B_c-9"),
	RULE_OK("rule: pattern of TOPIC_MAX", P128 " dave"),
	RULE_OK("rule: {user} pattern of TOPIC_MAX",
	    "{user}/" S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "xxxxxxxxxx"
	    "x"),
	RULE_OK("rule: name of NAME_MAX_LEN", "ops/* " N64),
	RULE_OK("rule: @group of NAME_MAX_LEN", "ops/* @" N64),
	RULE_BAD("rule: empty", ""),
	RULE_BAD("rule: leading space", " ops/* dave"),
	RULE_BAD("rule: grants nobody", "ops/*"),
	RULE_BAD("rule: grants nobody, exact topic", "ops/a"),
	RULE_BAD("rule: grants nobody, trailing space", "ops/* "),
	RULE_BAD("rule: grants nobody, WHO only commas", "ops/* ,"),
	RULE_BAD("rule: {user} inside a segment, before", "user/x{user}/*"),
	RULE_BAD("rule: {user} inside a segment, after", "user/{user}x/*"),
	RULE_BAD("rule: {user} not closed", "user/{user/*"),
	RULE_BAD("rule: stray }", "user/}/* dave"),
	RULE_BAD("rule: {USER}", "user/{USER}/* dave"),
	RULE_BAD("rule: {}", "a/{}/b dave"),
	RULE_BAD("rule: * not last", "ops/*/x dave"),
	RULE_BAD("rule: * first, not last", "*/x dave"),
	RULE_BAD("rule: * inside a segment", "ops/a* dave"),
	RULE_BAD("rule: * starting a segment", "ops/*a dave"),
	RULE_BAD("rule: **", "ops/** dave"),
	RULE_BAD("rule: !", "ops/a!b dave"),
	RULE_BAD("rule: colon", "ops/a:b dave"),
	RULE_BAD("rule: plus", "ops/a+b dave"),
	RULE_BAD("rule: UTF-8", "ops/\xc3\xa9 dave"),
	RULE_BAD("rule: pattern past TOPIC_MAX", P129 " dave"),
	RULE_BAD("rule: {user} pattern past TOPIC_MAX",
	    "{user}/" S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "xxxxxxxxxx"
	    "xx"),
	RULE_BAD("rule: WHO bad character", "ops/* da!ve"),
	RULE_BAD("rule: WHO slash", "ops/* a/b"),
	RULE_BAD("rule: WHO semicolon", "ops/* dave;carol"),
	RULE_BAD("rule: WHO bare @", "ops/* @"),
	RULE_BAD("rule: WHO @@", "ops/* @@ops"),
	RULE_BAD("rule: WHO @ inside", "ops/* da@ve"),
	RULE_BAD("rule: WHO {user}", "ops/* {user}"),
	RULE_BAD("rule: WHO name past NAME_MAX_LEN", "ops/* " N65),
	RULE_BAD("rule: WHO @group past NAME_MAX_LEN", "ops/* @" N65),
	cmocka_unit_test(test_rule_longer_than_rule_max),

	GROUP_OK("group: README", "ops: carol, erin"),
	GROUP_OK("group: no spaces", "ops:carol,erin"),
	GROUP_OK("group: one member", "ops: carol"),
	GROUP_OK("group: name characters", "a.B_c-9: x.Y_z-0"),
	GROUP_OK("group: name of NAME_MAX_LEN", N64 ": carol"),
	GROUP_OK("group: member of NAME_MAX_LEN", "ops: " N64),
	GROUP_BAD("group: no colon", "ops carol"),
	GROUP_BAD("group: empty", ""),
	GROUP_BAD("group: no name", ": carol"),
	GROUP_BAD("group: space in name", "o ps: carol"),
	GROUP_BAD("group: @name", "@ops: carol"),
	GROUP_BAD("group: @member", "ops: @carol"),
	GROUP_BAD("group: bad member", "ops: ca!rol"),
	GROUP_BAD("group: slash in member", "ops: a/b"),
	GROUP_BAD("group: name past NAME_MAX_LEN", N65 ": carol"),
	GROUP_BAD("group: member past NAME_MAX_LEN", "ops: " N65),
	cmocka_unit_test(test_group_members_max),
	cmocka_unit_test(test_group_members_past_max_commas),
	cmocka_unit_test(test_group_members_past_max_spaces),
	cmocka_unit_test(test_token_key_length),

	MATCH("match: exact", "a/b", "a/b", "alice", 1),
	MATCH("match: exact, other topic", "a/b", "a/c", "alice", 0),
	MATCH("match: exact, longer topic", "a/b", "a/bc", "alice", 0),
	MATCH("match: exact, shorter topic", "a/bc", "a/b", "alice", 0),
	MATCH("match: exact, anonymous", "a/b", "a/b", "", 1),
	MATCH("match: {user} last", "inbox/{user}", "inbox/alice", "alice", 1),
	MATCH("match: {user} last, other user", "inbox/{user}", "inbox/alice",
	    "bob", 0),
	MATCH("match: {user} last, prefix of user", "inbox/{user}",
	    "inbox/ali", "alice", 0),
	MATCH("match: {user} first", "{user}/inbox", "alice/inbox", "alice",
	    1),
	MATCH("match: {user} middle", "user/{user}/*", "user/alice/x",
	    "alice", 1),
	MATCH("match: {user} middle, deeper rest", "user/{user}/*",
	    "user/alice/x/y/z", "alice", 1),
	MATCH("match: {user} middle, other user", "user/{user}/*",
	    "user/bob/x", "alice", 0),
	MATCH("match: user/alicex/x", "user/{user}/*", "user/alicex/x",
	    "alice", 0),
	MATCH("match: user/alice (no rest)", "user/{user}/*", "user/alice",
	    "alice", 0),
	MATCH("match: user/alice/ (empty rest)", "user/{user}/*",
	    "user/alice/", "alice", 0),
	MATCH("match: user//x", "user/{user}/*", "user//x", "alice", 0),
	MATCH("match: user//x, anonymous", "user/{user}/*", "user//x", "", 0),
	MATCH("match: anonymous never matches {user}", "user/{user}/*",
	    "user/alice/x", "", 0),
	MATCH("match: {user} twice", "dm/{user}/{user}", "dm/alice/alice",
	    "alice", 1),
	MATCH("match: {user} twice, different", "dm/{user}/{user}",
	    "dm/alice/bob", "alice", 0),
	MATCH("match: {user} is one segment, user with /", "user/{user}/*",
	    "user/alice/x/y", "alice/x", 0),
	MATCH("match: * one character", "ops/*", "ops/a", "", 1),
	MATCH("match: * crosses segments", "ops/*", "ops/a/b/c", "", 1),
	MATCH("match: * needs a character", "ops/*", "ops/", "", 0),
	MATCH("match: * needs its segment", "ops/*", "ops", "", 0),
	MATCH("match: * after another prefix", "ops/*", "opsx/a", "", 0),
	MATCH("match: * alone", "*", "anything/at/all", "", 1),

	PRIV("private: public topic", "news", 0),
	PRIV("private: public, like a rule", "users/alice/x", 0),
	PRIV("private: {user} rule", "user/alice/x", 1),
	PRIV("private: {user} rule, any name", "user/x.Y_z-0/a", 1),
	PRIV("private: {user} rule, no rest", "user/alice", 0),
	PRIV("private: {user} rule, empty segment", "user//x", 0),
	PRIV("private: {user} last", "inbox/bob", 1),
	PRIV("private: {user} last, deeper", "inbox/bob/x", 0),
	PRIV("private: * rule", "ops/deploys", 1),
	PRIV("private: * rule, bare prefix", "ops", 0),
	PRIV("private: * rule, empty rest", "ops/", 0),
	PRIV("private: WHO of an unknown group", "secret/x", 1),

	READ("read: public, anonymous", "", "news", 1),
	READ("read: public, signed in", "alice", "news", 1),
	READ("read: {user}, that user", "alice", "user/alice/x", 1),
	READ("read: {user}, other user", "bob", "user/alice/x", 0),
	READ("read: {user}, user with a prefix", "alicex", "user/alice/x", 0),
	READ("read: {user}, user a prefix", "ali", "user/alice/x", 0),
	READ("read: {user}, anonymous", "", "user/alice/x", 0),
	READ("read: {user} last, that user", "bob", "inbox/bob", 1),
	READ("read: {user} last, other user", "alice", "inbox/bob", 0),
	READ("read: {user}, user with a /", "alice/x", "user/alice/x/y", 0),
	READ("read: WHO user", "dave", "ops/x", 1),
	READ("read: WHO @group, first member", "carol", "ops/x", 1),
	READ("read: WHO @group, second member", "erin", "ops/x", 1),
	READ("read: WHO, not listed", "alice", "ops/x", 0),
	READ("read: WHO, user named as the group", "ops", "ops/x", 0),
	READ("read: WHO, user named @group", "@ops", "ops/x", 0),
	READ("read: WHO, member prefix", "car", "ops/x", 0),
	READ("read: WHO, anonymous", "", "ops/x", 0),
	READ("read: unknown group grants nobody", "alice", "secret/x", 0),
	READ("read: unknown group, user of its name", "nogroup", "secret/x",
	    0),
	READ("read: several rules, the first grants", "alice", "shared/x", 1),
	READ("read: several rules, the second grants", "bob", "shared/x", 1),
	READ("read: several rules, none grants", "carol", "shared/x", 0),
	READ("read: WHO of one user, another user", "alice", "admin/alice",
	    0),
	READ("read: WHO of one user, that user", "root", "admin/alice", 1),

	TREAD("token: {user} substituted", "alice", "user/alice/x", 1,
	    "user/{user}/*"),
	TREAD("token: {user} is the token's user", "alice", "admin/bob/x", 0,
	    "admin/{user}/*"),
	TREAD("token: {user} pattern, own topic", "alice", "admin/alice/x", 1,
	    "admin/{user}/*"),
	TREAD("token: pattern grants", "alice", "admin/x", 1, "admin/*"),
	TREAD("token: exact pattern", "alice", "admin/x", 1, "admin/x"),
	TREAD("token: exact pattern, other topic", "alice", "admin/y", 0,
	    "admin/x"),
	TREAD("token: unrelated pattern", "alice", "admin/x", 0, "news"),
	TREAD("token: second pattern grants", "alice", "admin/x", 1, "news",
	    "admin/x"),
	TREAD("token: public topic", "alice", "news", 1, "admin/x"),
	TREAD("token: user's rules still count", "carol", "ops/x", 1, "news"),

	PAYLOAD("payload: crafted and valid", "alice\n2000000000\nnews",
	    AUTH_TOKEN_OK),
	PAYLOAD("payload: no patterns", "alice\n2000000000",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: empty pattern line", "alice\n2000000000\n",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: empty line between", "alice\n2000000000\n\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: bad pattern", "alice\n2000000000\nops/*/x",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: pattern past TOPIC_MAX", "alice\n2000000000\n" P129,
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: only a user", "alice", AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: empty", "", AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: empty user", "\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: user with a space", "al ice\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: user with a /", "al/ice\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: user with @", "@ops\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: user of NAME_MAX_LEN", N64 "\n2000000000\nnews",
	    AUTH_TOKEN_OK),
	PAYLOAD("payload: user past NAME_MAX_LEN", N65 "\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: CR after the user", "alice\r\n2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: NUL", "alice\n2000000000\nnews\0x",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: empty expiry", "alice\n\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: negative expiry", "alice\n-2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: signed expiry", "alice\n+2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: expiry not a number", "alice\n2e9\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: expiry with a space", "alice\n 2000000000\nnews",
	    AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: expiry of 19 digits",
	    "alice\n1000000000000000000\nnews", AUTH_TOKEN_MALFORMED),
	PAYLOAD("payload: expiry zero", "alice\n0\nnews", AUTH_TOKEN_EXPIRED),
	PAYLOAD("payload: TOKEN_PATTERNS_MAX patterns", "alice\n2000000000"
	    "\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np", AUTH_TOKEN_OK),
	PAYLOAD("payload: past TOKEN_PATTERNS_MAX patterns", "alice\n2000000000"
	    "\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq",
	    AUTH_TOKEN_MALFORMED),

	cmocka_unit_test(test_token_round_trip),
	cmocka_unit_test(test_token_round_trip_bounds),
	cmocka_unit_test(test_token_crafted_equals_minted),
	cmocka_unit_test(test_token_no_key),
	cmocka_unit_test(test_token_wrong_key),
	cmocka_unit_test(test_token_other_key_longer),
	cmocka_unit_test(test_token_every_byte_change),
	cmocka_unit_test(test_token_truncated),
	cmocka_unit_test(test_token_expired),
	cmocka_unit_test(test_token_noncanonical_payload),
	cmocka_unit_test(test_token_noncanonical_signature),
	cmocka_unit_test(test_token_bad_bodies),
	cmocka_unit_test(test_token_wrong_version),
	cmocka_unit_test(test_token_access_token_max),
	cmocka_unit_test(test_token_mint_longest),
	cmocka_unit_test(test_token_mint_too_long),
	cmocka_unit_test(test_token_mint_out_size),

	MINT_BAD("mint: empty user", "", 1, "news"),
	MINT_BAD("mint: user with a space", "al ice", 1, "news"),
	MINT_BAD("mint: user with a /", "al/ice", 1, "news"),
	MINT_BAD("mint: user with a newline", "alice\nops/*", 1, "news"),
	MINT_BAD("mint: user past NAME_MAX_LEN", N65, 1, "news"),
	MINT_BAD("mint: no patterns", "alice", 0, "news"),
	MINT_BAD("mint: negative count", "alice", -1, "news"),
	MINT_BAD("mint: past TOKEN_PATTERNS_MAX", "alice", 17, "a", "b", "c",
	    "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
	    "q"),
	MINT_BAD("mint: bad pattern", "alice", 1, "ops/*/x"),
	MINT_BAD("mint: empty pattern", "alice", 1, ""),
	MINT_BAD("mint: pattern with a newline", "alice", 1, "news\nops/*"),
	MINT_BAD("mint: second pattern bad", "alice", 2, "news", "a b"),
	MINT_BAD("mint: pattern past TOPIC_MAX", "alice", 1, P129),

	cmocka_unit_test(test_token_strerror),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
