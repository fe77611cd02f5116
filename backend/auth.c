/* auth.c: private topics and access tokens. See auth.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "valid.h"

#define TOKEN_PREFIX	"v1."
#define MAC_LEN		32	/* SHA-256 */

static int
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int
valid_name_n(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!name_char(s[i]))
			return 0;
	return 1;
}

/*
 * A pattern: a topic whose segments may also be `{user}` (whole segment)
 * or, last, `*`. Returns 1 if valid.
 */
static int
valid_pattern_n(const char *s, size_t len)
{
	size_t	 i = 0, seg;
	char	 lit[TOPIC_MAX + 1];
	size_t	 litlen = 0;

	if (len == 0 || len > TOPIC_MAX)
		return 0;
	while (i <= len) {
		/* One segment: [i, seg). */
		for (seg = i; seg < len && s[seg] != '/'; seg++)
			;
		if (seg - i == 6 && memcmp(s + i, "{user}", 6) == 0)
			;
		else if (seg - i == 1 && s[i] == '*') {
			if (seg != len)
				return 0;	/* only last */
		} else {
			/* Literal: topic characters only. */
			if (memchr(s + i, '{', seg - i) != NULL ||
			    memchr(s + i, '}', seg - i) != NULL ||
			    memchr(s + i, '*', seg - i) != NULL)
				return 0;
		}
		memcpy(lit + litlen, s + i, seg - i);
		litlen += seg - i;
		if (seg < len)
			lit[litlen++] = '/';
		i = seg + 1;
	}
	/* The rest must be what a topic may hold, wildcards aside. */
	for (i = 0; i < litlen; i++)
		if (lit[i] == '{' || lit[i] == '}' || lit[i] == '*')
			lit[i] = 'x';
	return valid_topic(lit, litlen);
}

/*
 * Match topic against pattern. user: the name {user} must be; NULL: any
 * name ({user} then matches any non-empty run of name characters).
 */
static int
match(const char *p, const char *t, const char *user)
{
	size_t n;

	for (;;) {
		if (strncmp(p, "{user}", 6) == 0 &&
		    (p[6] == '/' || p[6] == '\0')) {
			if (user != NULL) {
				/* Only a name can be a segment: a user
				 * "alice/x" must not read user/alice/x/... */
				n = strlen(user);
				if (!valid_name_n(user, n) ||
				    strncmp(t, user, n) != 0)
					return 0;
			} else
				for (n = 0; name_char(t[n]); n++)
					;
			if (n == 0 || (t[n] != '/' && t[n] != '\0'))
				return 0;
			t += n;
			p += 6;
			continue;
		}
		if (p[0] == '*' && p[1] == '\0')
			return t[0] != '\0';
		if (*p == '\0')
			return *t == '\0';
		if (*p != *t)
			return 0;
		p++;
		t++;
	}
}

int
auth_pattern_match(const char *pattern, const char *topic, const char *user)
{
	return match(pattern, topic, user);
}

/* Split a rule into its pattern and its WHO list (may be ""). */
static int
split_rule(const char *value, char *pattern, const char **who)
{
	size_t n;

	n = strcspn(value, " \t");
	if (n == 0 || n > TOPIC_MAX || !valid_pattern_n(value, n))
		return -1;
	memcpy(pattern, value, n);
	pattern[n] = '\0';
	value += n;
	while (*value == ' ' || *value == '\t')
		value++;
	*who = value;
	return 0;
}

/* Call fn for each name of a comma list; -1 if one is not a name. */
static int
each_name(const char *list, int allow_group,
    int (*fn)(void *, const char *, size_t), void *arg)
{
	const char	*p = list, *e;
	size_t		 n, off;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, ", \t");
		n = (size_t)(e - p);
		off = allow_group && p[0] == '@' ? 1 : 0;
		if (!valid_name_n(p + off, n - off))
			return -1;
		if (fn != NULL && fn(arg, p, n))
			return 1;
		p = e;
	}
	return 0;
}

static int
count_name(void *arg, const char *name, size_t n)
{
	(void)name;
	(void)n;
	(*(int *)arg)++;
	return 0;
}

int
auth_rule_check(const char *value, char *err, size_t errsz)
{
	char		 pattern[TOPIC_MAX + 1];
	const char	*who;
	int		 names = 0;

	if (split_rule(value, pattern, &who) == -1) {
		snprintf(err, errsz, "private: expected PATTERN [WHO,...]:"
		    " a topic whose segments may be {user} or, last, *");
		return -1;
	}
	if (each_name(who, 1, count_name, &names) == -1) {
		snprintf(err, errsz, "private: WHO must be user names or"
		    " @groups of A-Z a-z 0-9 . _ -, separated by commas");
		return -1;
	}
	if (names == 0 && strstr(pattern, "{user}") == NULL) {
		snprintf(err, errsz, "private: %s grants nobody: add {user}"
		    " to the pattern or a list of users and @groups", pattern);
		return -1;
	}
	return 0;
}

int
auth_group_check(const char *value, char *err, size_t errsz)
{
	const char	*colon = strchr(value, ':');
	int		 n = 0;

	if (colon == NULL || !valid_name_n(value, (size_t)(colon - value)) ||
	    each_name(colon + 1, 0, count_name, &n) == -1) {
		snprintf(err, errsz, "group: expected NAME: USER, USER..."
		    " (names of A-Z a-z 0-9 . _ -)");
		return -1;
	}
	if (n > GROUP_MEMBERS_MAX) {
		snprintf(err, errsz, "group: more than %d members",
		    GROUP_MEMBERS_MAX);
		return -1;
	}
	return 0;
}

int
auth_topic_private(const struct config *cfg, const char *topic)
{
	char		 pattern[TOPIC_MAX + 1];
	const char	*who;
	int		 i;

	for (i = 0; i < cfg->nprivate; i++)
		if (split_rule(cfg->private_rules[i], pattern, &who) == 0 &&
		    match(pattern, topic, NULL))
			return 1;
	return 0;
}

struct who_ctx {
	const struct config	*cfg;
	const char		*user;
};

static int
same_name(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && memcmp(a, b, n) == 0;
}

static int
is_user(void *arg, const char *name, size_t n)
{
	return same_name(name, n, arg);
}

/* Is user a member of the group named (name, n)? */
static int
in_group(const struct config *cfg, const char *name, size_t n,
    const char *user)
{
	const char	*colon;
	int		 i;

	for (i = 0; i < cfg->ngroups; i++) {
		colon = strchr(cfg->groups[i], ':');
		if (colon != NULL && (size_t)(colon - cfg->groups[i]) == n &&
		    memcmp(cfg->groups[i], name, n) == 0 &&
		    each_name(colon + 1, 0, is_user, (void *)user) == 1)
			return 1;
	}
	return 0;
}

static int
who_grants(void *arg, const char *name, size_t n)
{
	struct who_ctx *c = arg;

	if (name[0] == '@')
		return in_group(c->cfg, name + 1, n - 1, c->user);
	return same_name(name, n, c->user);
}

int
auth_may_read(const struct config *cfg, const struct principal *p,
    const char *topic)
{
	struct who_ctx	 c = { cfg, p->user };
	char		 pattern[TOPIC_MAX + 1];
	const char	*who;
	int		 i, private = 0;

	for (i = 0; i < cfg->nprivate; i++) {
		if (split_rule(cfg->private_rules[i], pattern, &who) == -1 ||
		    !match(pattern, topic, NULL))
			continue;
		private = 1;
		if (p->user[0] == '\0')
			continue;
		if (strstr(pattern, "{user}") != NULL &&
		    match(pattern, topic, p->user))
			return 1;
		if (each_name(who, 1, who_grants, &c) == 1)
			return 1;
	}
	if (!private)
		return 1;
	/* A token's {user} is its own user; "" matches no {user}. */
	for (i = 0; i < p->npatterns; i++)
		if (match(p->patterns[i], topic, p->user))
			return 1;
	return 0;
}

/* ---- tokens ------------------------------------------------------------ */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; out must hold 4 * ceil(len / 3) + 1. */
static size_t
b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t		 i, o = 0;
	uint32_t	 v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

/* Length of the base64url (unpadded) text of n bytes. */
static size_t
b64_len(size_t n)
{
	return 4 * (n / 3) + (n % 3 != 0 ? n % 3 + 1 : 0);
}

static int
b64_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64url, c)) == NULL)
		return -1;
	return (int)(p - b64url);
}

/* Decode base64url without padding; -1 on a bad character or length. */
static long
b64_decode(const char *in, size_t len, unsigned char *out, size_t outsz)
{
	size_t		 i, o = 0;
	uint32_t	 v = 0;
	int		 d, bits = 0;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = b64_value(in[i])) < 0)
			return -1;
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outsz)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	/* Leftover bits must be zero: one encoding per value. */
	if ((v & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

static int
token_mac(const struct config *cfg, const char *data, size_t len,
    unsigned char *mac)
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), cfg->token_key, (int)strlen(cfg->token_key),
	    (const unsigned char *)data, len, mac, &n) == NULL || n != MAC_LEN)
		return -1;
	return 0;
}

int
auth_token_mint(const struct config *cfg, const char *user,
    const char *const *patterns, int npatterns, int64_t expires, char *out,
    size_t outsz)
{
	char		 payload[ACCESS_TOKEN_MAX];
	unsigned char	 mac[MAC_LEN];
	size_t		 plen = 0, o;
	int		 i, n;

	if (cfg->token_key[0] == '\0' || !valid_name_n(user, strlen(user)) ||
	    npatterns < 1 || npatterns > TOKEN_PATTERNS_MAX || expires <= 0)
		return -1;
	n = snprintf(payload, sizeof(payload), "%s\n%lld", user,
	    (long long)expires);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return -1;
	plen = (size_t)n;
	for (i = 0; i < npatterns; i++) {
		if (!valid_pattern_n(patterns[i], strlen(patterns[i])))
			return -1;
		n = snprintf(payload + plen, sizeof(payload) - plen, "\n%s",
		    patterns[i]);
		if (n < 0 || (size_t)n >= sizeof(payload) - plen)
			return -1;
		plen += (size_t)n;
	}
	/* "v1." + b64(payload) + "." + b64(mac) + NUL, exactly. */
	if (outsz < sizeof(TOKEN_PREFIX) - 1 + b64_len(plen) + 1 +
	    b64_len(MAC_LEN) + 1)
		return -1;
	o = sizeof(TOKEN_PREFIX) - 1;
	memcpy(out, TOKEN_PREFIX, o);
	o += b64_encode((const unsigned char *)payload, plen, out + o);
	if (token_mac(cfg, out, o, mac) == -1)
		return -1;
	out[o++] = '.';
	o += b64_encode(mac, MAC_LEN, out + o);
	if (o > ACCESS_TOKEN_MAX)
		return -1;
	return (int)o;
}

int
auth_token_verify(const struct config *cfg, const char *tok, size_t len,
    int64_t now, struct principal *out)
{
	struct principal p;
	unsigned char	 mac[MAC_LEN], given[MAC_LEN + 2];
	char		 payload[ACCESS_TOKEN_MAX];
	const char	*dot, *line, *end;
	long		 plen, glen;
	long long	 exp = 0;
	size_t		 n, i;

	if (cfg->token_key[0] == '\0')
		return AUTH_TOKEN_NO_KEY;
	if (len > ACCESS_TOKEN_MAX || len < sizeof(TOKEN_PREFIX) ||
	    memcmp(tok, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1) != 0)
		return AUTH_TOKEN_MALFORMED;
	dot = memchr(tok + sizeof(TOKEN_PREFIX) - 1, '.',
	    len - (sizeof(TOKEN_PREFIX) - 1));
	if (dot == NULL)
		return AUTH_TOKEN_MALFORMED;
	/* The signature first: nothing of an unsigned payload is read. */
	glen = b64_decode(dot + 1, len - (size_t)(dot + 1 - tok), given,
	    sizeof(given));
	if (glen != MAC_LEN)
		return AUTH_TOKEN_MALFORMED;
	if (token_mac(cfg, tok, (size_t)(dot - tok), mac) == -1 ||
	    CRYPTO_memcmp(mac, given, MAC_LEN) != 0)
		return AUTH_TOKEN_BAD_SIGNATURE;
	plen = b64_decode(tok + sizeof(TOKEN_PREFIX) - 1,
	    (size_t)(dot - tok) - (sizeof(TOKEN_PREFIX) - 1),
	    (unsigned char *)payload, sizeof(payload) - 1);
	if (plen < 0)
		return AUTH_TOKEN_MALFORMED;
	payload[plen] = '\0';
	if (memchr(payload, '\0', (size_t)plen) != NULL)
		return AUTH_TOKEN_MALFORMED;

	memset(&p, 0, sizeof(p));
	p.from_token = 1;
	/* user, expiry, then one pattern per line. */
	for (line = payload, i = 0; line != NULL; i++) {
		end = strchr(line, '\n');
		n = end != NULL ? (size_t)(end - line) : strlen(line);
		if (i == 0) {
			if (!valid_name_n(line, n))
				return AUTH_TOKEN_MALFORMED;
			memcpy(p.user, line, n);
		} else if (i == 1) {
			if (n == 0 || n > 18 || strspn(line, "0123456789") < n)
				return AUTH_TOKEN_MALFORMED;
			exp = strtoll(line, NULL, 10);
		} else {
			if (p.npatterns == TOKEN_PATTERNS_MAX ||
			    !valid_pattern_n(line, n))
				return AUTH_TOKEN_MALFORMED;
			memcpy(p.patterns[p.npatterns++], line, n);
		}
		line = end != NULL ? end + 1 : NULL;
	}
	if (p.npatterns == 0)
		return AUTH_TOKEN_MALFORMED;
	if (exp <= now)
		return AUTH_TOKEN_EXPIRED;
	p.expires = exp;
	*out = p;
	return AUTH_TOKEN_OK;
}

const char *
auth_token_strerror(int err)
{
	switch (err) {
	case AUTH_TOKEN_OK:
		return "ok";
	case AUTH_TOKEN_MALFORMED:
		return "access token malformed";
	case AUTH_TOKEN_BAD_SIGNATURE:
		return "access token signature does not verify";
	case AUTH_TOKEN_EXPIRED:
		return "access token expired: get a new one";
	case AUTH_TOKEN_NO_KEY:
		return "access tokens are not configured (token_key)";
	}
	return "access token refused";
}
