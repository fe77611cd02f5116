/*
 * fuzz_auth.c: backend/auth.c, access tokens and private-topic rules.
 *
 * Input: byte 0 picks the mode (its value modulo 5); the rest is
 *   0  a token, verified as it is against a fixed token_key;
 *   1  a token payload, signed here with the key (so the fuzzer reaches
 *      the payload parser behind the signature), then verified;
 *   2  four bytes of expiry, then "USER\nPATTERN\nPATTERN..." to mint a
 *      token from, then verify;
 *   3  "PATTERN\nTOPIC\nUSER": auth_pattern_match(), auth_rule_check(),
 *      auth_group_check();
 *   4  lines "pRULE", "gGROUP", "tTOPIC", "uUSER", "kPATTERN": private
 *      rules and groups set with config_set(), then auth_topic_private()
 *      and auth_may_read() for each topic, for that user and token
 *      patterns.
 * The clock is fixed (NOW): a run does not depend on the day.
 *
 * Checked (auth.h, and authref.h's second reading of its rules):
 *   - verify answers one of its enum values; on success the principal is
 *     a valid user name, 1..TOKEN_PATTERNS_MAX valid patterns, an expiry
 *     after now; re-minted, it verifies to the same principal; another key
 *     or no key never verifies it;
 *   - a signed payload verifies exactly when authref's reading of the
 *     format accepts it, to the same principal, else MALFORMED or EXPIRED;
 *   - mint succeeds exactly for a valid user, 1..16 valid patterns and a
 *     positive expiry whose token fits ACCESS_TOKEN_MAX; what it mints is
 *     NUL-terminated, verifies to the same principal before its expiry,
 *     is EXPIRED at it, and stops verifying when any one byte changes;
 *     into a short buffer it fails or fits;
 *   - auth_pattern_match() agrees with authref's matcher on every valid
 *     pattern and topic (for the input's user, for "", for any user, and
 *     for runs of the topic's own segments such as "alice/x");
 *     auth_rule_check() accepts exactly the valid patterns; every error
 *     message is NUL-terminated in its buffer;
 *   - auth_topic_private() and auth_may_read() agree with authref: a
 *     public topic is readable by anyone, a private one never by an
 *     anonymous subscriber without a token.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "authref.h"
#include "config.h"
#include "fuzz.h"
#include "valid.h"

#define NOW		INT64_C(1700000000)
#define KEY		"0123456789abcdef0123456789abcdef"
#define OTHER_KEY	"fedcba9876543210fedcba9876543210"
#define PIECES_MAX	24

static struct config	cfg, other, nokey;

static void
init(void)
{
	static int	 done;
	char		 err[256];

	if (done)
		return;
	config_defaults(&cfg);
	config_defaults(&other);
	config_defaults(&nokey);
	FUZZ_CHECK(config_set(&cfg, "token_key", KEY, err, sizeof(err)) == 0);
	FUZZ_CHECK(config_set(&other, "token_key", OTHER_KEY, err,
	    sizeof(err)) == 0);
	done = 1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding; returns the length written (no NUL). */
static size_t
b64(const unsigned char *in, size_t len, char *out)
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
	return o;
}

/* "v1." b64(payload) "." b64(HMAC) of a payload, into a new string. */
static char *
sign(const char *payload, size_t len, size_t *toklen)
{
	unsigned char	 mac[32];
	unsigned int	 n = 0;
	char		*tok;
	size_t		 o;

	tok = fuzz_alloc(3 + 4 * (len / 3 + 1) + 1 + 44 + 1);
	memcpy(tok, "v1.", 3);
	o = 3 + b64((const unsigned char *)payload, len, tok + 3);
	FUZZ_CHECK(HMAC(EVP_sha256(), KEY, (int)strlen(KEY),
	    (const unsigned char *)tok, o, mac, &n) != NULL && n == 32);
	tok[o++] = '.';
	o += b64(mac, 32, tok + o);
	tok[o] = '\0';
	*toklen = o;
	return tok;
}

static int
is_token_err(int rc)
{
	return rc == AUTH_TOKEN_OK || rc == AUTH_TOKEN_MALFORMED ||
	    rc == AUTH_TOKEN_BAD_SIGNATURE || rc == AUTH_TOKEN_EXPIRED ||
	    rc == AUTH_TOKEN_NO_KEY;
}

/* What a verified principal must be. */
static void
check_principal(const struct principal *p, int64_t now)
{
	int i;

	FUZZ_CHECK(p->from_token == 1);
	FUZZ_CHECK(fuzz_terminated(p->user, sizeof(p->user)));
	FUZZ_CHECK(ref_valid_name(p->user, strlen(p->user)));
	FUZZ_CHECK(p->expires > now);
	FUZZ_CHECK(p->npatterns >= 1 && p->npatterns <= TOKEN_PATTERNS_MAX);
	for (i = 0; i < p->npatterns; i++) {
		FUZZ_CHECK(fuzz_terminated(p->patterns[i],
		    sizeof(p->patterns[i])));
		FUZZ_CHECK(ref_valid_pattern(p->patterns[i],
		    strlen(p->patterns[i])));
	}
}

static int
same_principal(const struct principal *a, const struct principal *b)
{
	int i;

	if (strcmp(a->user, b->user) != 0 || a->expires != b->expires ||
	    a->npatterns != b->npatterns || a->from_token != b->from_token)
		return 0;
	for (i = 0; i < a->npatterns; i++)
		if (strcmp(a->patterns[i], b->patterns[i]) != 0)
			return 0;
	return 1;
}

/*
 * Mint a token for p's fields and check it: verifies to p before the
 * expiry, EXPIRED at it, not with another key, not with any byte changed
 * (the one at position pick). Returns the mint's result.
 */
static int
mint_and_check(const char *user, const char *const *pats, int npats,
    int64_t expires, unsigned pick)
{
	struct principal	 p, q;
	char			 out[ACCESS_TOKEN_MAX + 1], *mut;
	const char		*pp[TOKEN_PATTERNS_MAX];
	int			 n, i;

	n = auth_token_mint(&cfg, user, pats, npats, expires, out,
	    sizeof(out));
	if (n < 0)
		return n;
	FUZZ_CHECK((size_t)n == strlen(out) && n <= ACCESS_TOKEN_MAX);
	memset(&p, 0, sizeof(p));
	FUZZ_CHECK(auth_token_verify(&cfg, out, (size_t)n, expires - 1, &p)
	    == AUTH_TOKEN_OK);
	check_principal(&p, expires - 1);
	FUZZ_CHECK(strcmp(p.user, user) == 0 && p.expires == expires &&
	    p.npatterns == npats);
	for (i = 0; i < npats; i++)
		FUZZ_CHECK(strcmp(p.patterns[i], pats[i]) == 0);
	FUZZ_CHECK(auth_token_verify(&cfg, out, (size_t)n, expires, &q) ==
	    AUTH_TOKEN_EXPIRED);
	FUZZ_CHECK(auth_token_verify(&other, out, (size_t)n, expires - 1, &q)
	    != AUTH_TOKEN_OK);
	FUZZ_CHECK(auth_token_verify(&nokey, out, (size_t)n, expires - 1, &q)
	    == AUTH_TOKEN_NO_KEY);
	/* One byte changed, to each of a few others. */
	mut = fuzz_memdup(out, (size_t)n);
	i = (int)(pick % (unsigned)n);
	mut[i] = (char)(mut[i] ^ (1 + (pick >> 8) % 127));
	FUZZ_CHECK(auth_token_verify(&cfg, mut, (size_t)n, expires - 1, &q)
	    != AUTH_TOKEN_OK);
	/* Cut short by a byte. */
	FUZZ_CHECK(auth_token_verify(&cfg, out, (size_t)n - 1, expires - 1,
	    &q) != AUTH_TOKEN_OK);
	free(mut);
	/* Into a short buffer: -1 or the same token. */
	mut = fuzz_alloc(pick % (unsigned)(n + 2));
	for (i = 0; i < p.npatterns; i++)
		pp[i] = p.patterns[i];
	i = auth_token_mint(&cfg, user, pp, npats, expires, mut,
	    pick % (unsigned)(n + 2));
	FUZZ_CHECK(i == -1 || (i == n && strcmp(mut, out) == 0));
	free(mut);
	return n;
}

static void
mode_verify(const char *tok, size_t len)
{
	struct principal	 p, q;
	const char		*pats[TOKEN_PATTERNS_MAX];
	const char		*why;
	char			*copy;
	int			 rc, i;

	copy = fuzz_memdup(tok, len);
	memset(&p, 0, sizeof(p));
	rc = auth_token_verify(&cfg, copy, len, NOW, &p);
	FUZZ_CHECK(is_token_err(rc) && rc != AUTH_TOKEN_NO_KEY);
	why = auth_token_strerror(rc);
	FUZZ_CHECK(why != NULL && why[0] != '\0');
	FUZZ_CHECK(auth_token_verify(&nokey, copy, len, NOW, &q) ==
	    AUTH_TOKEN_NO_KEY);
	if (rc == AUTH_TOKEN_OK) {
		check_principal(&p, NOW);
		FUZZ_CHECK(auth_token_verify(&other, copy, len, NOW, &q) !=
		    AUTH_TOKEN_OK);
		for (i = 0; i < p.npatterns; i++)
			pats[i] = p.patterns[i];
		FUZZ_CHECK(mint_and_check(p.user, pats, p.npatterns,
		    p.expires, (unsigned)len) > 0);
		/* Verified again later than its expiry: refused. */
		FUZZ_CHECK(auth_token_verify(&cfg, copy, len, p.expires, &q) ==
		    AUTH_TOKEN_EXPIRED);
	}
	free(copy);
}

/* authref's reading of a payload: AUTH_TOKEN_OK with *p, or an error. */
static int
ref_payload(const char *s, size_t len, size_t toklen, struct principal *p)
{
	const char	*line = s, *end = s + len, *nl;
	size_t		 n, i;
	int		 k = 0;
	long long	 exp = 0;

	memset(p, 0, sizeof(*p));
	p->from_token = 1;
	if (toklen > ACCESS_TOKEN_MAX || memchr(s, '\0', len) != NULL)
		return AUTH_TOKEN_MALFORMED;
	for (;;) {
		nl = memchr(line, '\n', (size_t)(end - line));
		n = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
		if (k == 0) {
			if (!ref_valid_name(line, n))
				return AUTH_TOKEN_MALFORMED;
			memcpy(p->user, line, n);
		} else if (k == 1) {
			if (n == 0 || n > 18)
				return AUTH_TOKEN_MALFORMED;
			for (i = 0; i < n; i++) {
				if (line[i] < '0' || line[i] > '9')
					return AUTH_TOKEN_MALFORMED;
				exp = exp * 10 + (line[i] - '0');
			}
		} else {
			if (p->npatterns == TOKEN_PATTERNS_MAX ||
			    !ref_valid_pattern(line, n))
				return AUTH_TOKEN_MALFORMED;
			memcpy(p->patterns[p->npatterns++], line, n);
		}
		k++;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (p->npatterns == 0)
		return AUTH_TOKEN_MALFORMED;
	if (exp <= NOW)
		return AUTH_TOKEN_EXPIRED;
	p->expires = exp;
	return AUTH_TOKEN_OK;
}

static void
mode_payload(const char *payload, size_t len)
{
	struct principal	 p, r;
	char			*tok;
	size_t			 toklen;
	int			 rc, want;

	tok = sign(payload, len, &toklen);
	want = ref_payload(payload, len, toklen, &r);
	memset(&p, 0, sizeof(p));
	rc = auth_token_verify(&cfg, tok, toklen, NOW, &p);
	if (rc != want)
		fprintf(stderr, "verify %d, expected %d\n", rc, want);
	FUZZ_CHECK(rc == want);
	if (rc == AUTH_TOKEN_OK) {
		check_principal(&p, NOW);
		FUZZ_CHECK(same_principal(&p, &r));
	}
	free(tok);
}

static void
mode_mint(struct fuzz_in *in)
{
	const char	*pats[PIECES_MAX], *s;
	char		*user, *pp[PIECES_MAX];
	size_t		 len, b64len, plen;
	int64_t		 expires;
	int		 n = 0, i, valid, rc;
	unsigned	 pick;

	expires = fuzz_u16(in);
	expires |= (int64_t)fuzz_u16(in) << 16;
	if (expires & 1)
		expires += NOW;		/* mostly in the future */
	pick = fuzz_u16(in);
	s = fuzz_piece(in, '\n', &len);
	user = fuzz_strndup(s, len);
	while (in->left > 0 && n < PIECES_MAX) {
		s = fuzz_piece(in, '\n', &len);
		pp[n] = fuzz_strndup(s, len);
		pats[n] = pp[n];
		n++;
	}

	/* authref: which mints must succeed. */
	valid = ref_valid_name(user, strlen(user)) && n >= 1 &&
	    n <= TOKEN_PATTERNS_MAX && expires > 0;
	plen = (size_t)snprintf(NULL, 0, "%s\n%" PRId64, user, expires);
	for (i = 0; i < n; i++) {
		valid = valid && ref_valid_pattern(pats[i], strlen(pats[i]));
		plen += 1 + strlen(pats[i]);
	}
	b64len = plen / 3 * 4 + (plen % 3 == 0 ? 0 : plen % 3 + 1);
	if (3 + b64len + 1 + 43 > ACCESS_TOKEN_MAX)
		valid = 0;

	rc = mint_and_check(user, pats, n, expires, pick);
	if ((rc > 0) != valid)
		fprintf(stderr, "mint %d, expected %s (token of %zu bytes)\n",
		    rc, valid ? "success" : "failure", 3 + b64len + 1 + 43);
	FUZZ_CHECK((rc > 0) == valid);
	for (i = 0; i < n; i++)
		free(pp[i]);
	free(user);
}

/*
 * The users a {user} might wrongly take: runs of one to three of the
 * topic's own segments ("alice", "alice/x", "x/inbox/y"...).
 */
static void
match_topic_users(const char *pattern, const char *topic)
{
	const char	*seg[8], *e;
	char		 user[TOPIC_MAX + 1];
	size_t		 n;
	int		 nseg = 0, i, k, got, want;

	for (e = topic; nseg < 8; e++) {
		seg[nseg++] = e;
		if ((e = strchr(e, '/')) == NULL)
			break;
	}
	for (i = 0; i < nseg; i++)
		for (k = 1; k <= 3 && i + k <= nseg; k++) {
			/* To the end of the run's last segment. */
			if ((e = strchr(seg[i + k - 1], '/')) == NULL)
				e = seg[i + k - 1] + strlen(seg[i + k - 1]);
			n = (size_t)(e - seg[i]);
			memcpy(user, seg[i], n);
			user[n] = '\0';
			got = auth_pattern_match(pattern, topic, user);
			want = ref_match(pattern, topic, user);
			if (got != want)
				fprintf(stderr, "match(\"%s\", \"%s\", \"%s\")"
				    " = %d, expected %d\n", pattern, topic,
				    user, got, want);
			FUZZ_CHECK(got == want);
		}
}

static void
mode_match(struct fuzz_in *in)
{
	const char	*s;
	char		*pattern, *topic, *user, *rule, err[64], *small;
	size_t		 len, errsz;
	int		 valid, got, want;

	errsz = fuzz_byte(in) % 80;
	s = fuzz_piece(in, '\n', &len);
	pattern = fuzz_strndup(s, len);
	s = fuzz_piece(in, '\n', &len);
	topic = fuzz_strndup(s, len);
	s = fuzz_piece(in, '\n', &len);
	user = fuzz_strndup(s, len);

	valid = ref_valid_pattern(pattern, strlen(pattern));
	/* A rule with a WHO: valid exactly when its pattern is. */
	if (strcspn(pattern, " \t") == strlen(pattern) && pattern[0] != '\0') {
		rule = fuzz_alloc(strlen(pattern) + 8);
		snprintf(rule, strlen(pattern) + 8, "%s bob", pattern);
		got = auth_rule_check(rule, err, sizeof(err));
		FUZZ_CHECK((got == 0) == valid);
		if (got != 0)
			FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
		/* Without a WHO: only with {user}. */
		got = auth_rule_check(pattern, err, sizeof(err));
		FUZZ_CHECK((got == 0) ==
		    (valid && strstr(pattern, "{user}") != NULL));
		free(rule);
	}
	/* Any text: errors fit in any buffer. */
	small = fuzz_alloc(errsz);
	if (auth_rule_check(user, errsz > 0 ? small : NULL, errsz) != 0 &&
	    errsz > 0)
		FUZZ_CHECK(fuzz_terminated(small, errsz));
	if (auth_group_check(user, errsz > 0 ? small : NULL, errsz) != 0 &&
	    errsz > 0)
		FUZZ_CHECK(fuzz_terminated(small, errsz));
	free(small);

	if (valid && valid_topic(topic, strlen(topic))) {
		got = auth_pattern_match(pattern, topic, user);
		want = ref_match(pattern, topic, user);
		if (got != want)
			fprintf(stderr, "match(\"%s\", \"%s\", \"%s\") = %d,"
			    " expected %d\n", pattern, topic, user, got, want);
		FUZZ_CHECK(got == want);
		FUZZ_CHECK(auth_pattern_match(pattern, topic, "") ==
		    ref_match(pattern, topic, ""));
		FUZZ_CHECK(auth_pattern_match(pattern, topic, NULL) ==
		    ref_match(pattern, topic, NULL));
		match_topic_users(pattern, topic);
	}
	free(pattern);
	free(topic);
	free(user);
}

static void
mode_read(struct fuzz_in *in)
{
	static struct config	 c;
	struct principal	 who, anon;
	char			*line, *topics[4];
	const char		*s;
	size_t			 len;
	int			 nt = 0, i, k, got, want, priv;

	config_defaults(&c);
	memset(&who, 0, sizeof(who));
	memset(&anon, 0, sizeof(anon));
	while (in->left > 0) {
		s = fuzz_piece(in, '\n', &len);
		line = fuzz_strndup(s, len);
		switch (line[0]) {
		case 'p':
			config_set(&c, "private", line + 1, NULL, 0);
			break;
		case 'g':
			config_set(&c, "group", line + 1, NULL, 0);
			break;
		case 't':
			if (nt < 4 && valid_topic(line + 1, strlen(line + 1))) {
				topics[nt++] = line;
				line = NULL;
			}
			break;
		case 'u':
			/* REMOTE_USER: anything the web server passes. */
			if (strlen(line + 1) <= NAME_MAX_LEN)
				snprintf(who.user, sizeof(who.user), "%s",
				    line + 1);
			break;
		case 'k':
			if (who.npatterns < TOKEN_PATTERNS_MAX &&
			    ref_valid_pattern(line + 1, strlen(line + 1))) {
				snprintf(who.patterns[who.npatterns++],
				    sizeof(who.patterns[0]), "%s", line + 1);
				who.from_token = 1;
			}
			break;
		}
		free(line);
	}
	for (i = 0; i < nt; i++) {
		priv = auth_topic_private(&c, topics[i] + 1);
		FUZZ_CHECK(priv == ref_topic_private(&c, topics[i] + 1));
		got = auth_may_read(&c, &who, topics[i] + 1);
		want = ref_may_read(&c, &who, topics[i] + 1);
		if (got != want) {
			fprintf(stderr, "may_read(user \"%s\", \"%s\") = %d,"
			    " expected %d\n", who.user, topics[i] + 1, got,
			    want);
			for (k = 0; k < c.nprivate; k++)
				fprintf(stderr, "private = %s\n",
				    c.private_rules[k]);
			for (k = 0; k < c.ngroups; k++)
				fprintf(stderr, "group = %s\n", c.groups[k]);
			for (k = 0; k < who.npatterns; k++)
				fprintf(stderr, "token pattern %s\n",
				    who.patterns[k]);
		}
		FUZZ_CHECK(got == want);
		FUZZ_CHECK(auth_may_read(&c, &anon, topics[i] + 1) == !priv);
		free(topics[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in	 in;
	unsigned	 mode;

	init();
	fuzz_in_init(&in, data, size);
	mode = fuzz_byte(&in) % 5;
	switch (mode) {
	case 0:
		mode_verify((const char *)in.p, in.left);
		break;
	case 1:
		mode_payload((const char *)in.p, in.left);
		break;
	case 2:
		mode_mint(&in);
		break;
	case 3:
		mode_match(&in);
		break;
	default:
		mode_read(&in);
		break;
	}
	return 0;
}
