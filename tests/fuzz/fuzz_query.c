/*
 * fuzz_query.c: backend/query.c, the form/query-string iterator.
 *
 * Input: byte 0 and byte 1 are the name and value buffer sizes (0..255,
 * so 0 and 1 are tried too; byte 0's bits also choose how the round trip
 * below spells what it encodes); the rest is the query string, in a heap
 * buffer of exactly its size (ASan sees a read past the end).
 *
 * Checked (query.h):
 *   - every decoded name and value is NUL-terminated inside its buffer,
 *     and its length is below the buffer size and not above the raw
 *     piece's;
 *   - the iterator only moves forward, stays within the string, and ends;
 *     after an error the next call says QUERY_END;
 *   - the pairs and the error are those of a separate reading of the
 *     WHATWG rules below (split on '&', skip empty pieces, first '=',
 *     '+' is a space, %XX; a bad '%' is an error here, by design);
 *   - with buffers of len + 1 bytes QUERY_E_TOOLONG never happens (body.c
 *     relies on it);
 *   - the pairs, percent-encoded again, decode to the same pairs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "query.h"

#define PAIRS_MAX	4096

struct pair {
	const char	*name, *value;	/* heap copies */
	size_t		 nlen, vlen;
};

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The reference decoder: the result query_next must give for [s, e) with
 * an outsz-byte buffer (QUERY_OK with *out, or an error), without writing
 * anything.
 */
static int
ref_decode(const char *s, const char *e, size_t outsz, size_t *outlen)
{
	size_t n = 0;

	if (outsz == 0)
		return QUERY_E_TOOLONG;
	while (s < e) {
		if (*s == '%') {
			if (e - s < 3 || hexval((unsigned char)s[1]) < 0 ||
			    hexval((unsigned char)s[2]) < 0)
				return QUERY_E_ESCAPE;
			s += 3;
		} else
			s++;
		if (++n > outsz - 1)
			return QUERY_E_TOOLONG;
	}
	*outlen = n;
	return QUERY_OK;
}

/* The same, writing the bytes (only called once ref_decode said OK). */
static void
ref_write(const char *s, const char *e, char *out)
{
	while (s < e) {
		if (*s == '%') {
			*out++ = (char)(hexval((unsigned char)s[1]) << 4 |
			    hexval((unsigned char)s[2]));
			s += 3;
		} else {
			*out++ = *s == '+' ? ' ' : *s;
			s++;
		}
	}
}

/*
 * Run the iterator over (q, len) with buffers of namesz and valuesz;
 * check each step against the reference. Fills pairs (if not NULL) and
 * returns the final result (QUERY_END or an error).
 */
static int
run(const char *q, size_t len, size_t namesz, size_t valuesz,
    struct pair *pairs, size_t *npairs)
{
	struct query_iter	 it;
	char			*name, *value, *ref;
	const char		*p = q, *end = q + len, *amp, *eq, *prev;
	size_t			 nlen, vlen, rn = 0, rv = 0, n = 0;
	int			 rc, want;

	name = fuzz_alloc(namesz);
	value = fuzz_alloc(valuesz);
	query_iter_init(&it, q, len);
	for (;;) {
		prev = it.p;
		rc = query_next(&it, name, namesz, &nlen, value, valuesz,
		    &vlen);
		FUZZ_CHECK(it.p >= prev && it.p <= it.end);

		/* The reference's view of the same step. */
		while (p < end && *p == '&')
			p++;
		if (p == end) {
			want = QUERY_END;
		} else {
			for (amp = p; amp < end && *amp != '&'; amp++)
				;
			for (eq = p; eq < amp && *eq != '='; eq++)
				;
			want = ref_decode(p, eq, namesz, &rn);
			if (want == QUERY_OK)
				want = ref_decode(eq < amp ? eq + 1 : amp, amp,
				    valuesz, &rv);
		}
		FUZZ_CHECK(rc == want);
		if (rc != QUERY_OK)
			break;

		FUZZ_CHECK(nlen == rn && vlen == rv);
		FUZZ_CHECK(nlen < namesz && name[nlen] == '\0');
		FUZZ_CHECK(vlen < valuesz && value[vlen] == '\0');
		FUZZ_CHECK(nlen <= (size_t)(eq - p));
		FUZZ_CHECK(vlen <= (size_t)(amp - eq));
		FUZZ_CHECK(it.p == amp);
		ref = fuzz_alloc(nlen + vlen);
		ref_write(p, eq, ref);
		FUZZ_CHECK(memcmp(ref, name, nlen) == 0);
		if (eq < amp)
			ref_write(eq + 1, amp, ref + nlen);
		FUZZ_CHECK(memcmp(ref + nlen, value, vlen) == 0);
		free(ref);
		if (pairs != NULL && n < PAIRS_MAX) {
			pairs[n].name = fuzz_strndup(name, nlen);
			pairs[n].value = fuzz_strndup(value, vlen);
			pairs[n].nlen = nlen;
			pairs[n].vlen = vlen;
			n++;
		}
		p = amp;
		/* Each OK takes a non-empty piece: at most len of them. */
		FUZZ_CHECK(n <= len);
	}
	/* Done or failed: the iterator is at the end and stays there. */
	if (rc != QUERY_END)
		FUZZ_CHECK(it.p == it.end);
	FUZZ_CHECK(query_next(&it, name, namesz, &nlen, value, valuesz,
	    &vlen) == QUERY_END);
	free(name);
	free(value);
	if (npairs != NULL)
		*npairs = n;
	return rc;
}

/* Percent-encode (s, n) into out; mode varies the spelling. */
static size_t
encode(const char *s, size_t n, char *out, unsigned mode)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char lower[] = "0123456789abcdef";
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == ' ' && (mode & 1))
			out[o++] = '+';
		else if (((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-') && (mode & 2))
			out[o++] = (char)c;
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			/* Either case of hex digit is taken. */
			out[o++] = (mode & 4) ? lower[c & 15] : hex[c & 15];
		}
	}
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pair	 pairs[PAIRS_MAX], again[PAIRS_MAX];
	struct fuzz_in		 in;
	size_t			 namesz, valuesz, len, npairs = 0, n2 = 0, i, o;
	char			*q, *enc;
	unsigned		 mode;
	int			 rc;

	fuzz_in_init(&in, data, size);
	namesz = fuzz_byte(&in);
	valuesz = fuzz_byte(&in);
	mode = namesz;
	len = in.left;
	q = fuzz_memdup(in.p, len);

	run(q, len, namesz, valuesz, NULL, NULL);

	/* Room for anything: only QUERY_E_ESCAPE can stop it. */
	rc = run(q, len, len + 1, len + 1, pairs, &npairs);
	FUZZ_CHECK(rc != QUERY_E_TOOLONG);

	/* Round-trip the pairs decoded so far. */
	o = 0;
	for (i = 0; i < npairs; i++)
		o += 3 * (pairs[i].nlen + pairs[i].vlen) + 2;
	enc = fuzz_alloc(o + 1);
	o = 0;
	for (i = 0; i < npairs; i++) {
		if (i > 0 || (mode & 8))
			enc[o++] = '&';
		o += encode(pairs[i].name, pairs[i].nlen, enc + o, mode);
		/* An empty value may be written without its '=' (not
		 * with an empty name too: that piece would be empty). */
		if (pairs[i].vlen > 0 || pairs[i].nlen == 0 || !(mode & 16))
			enc[o++] = '=';
		o += encode(pairs[i].value, pairs[i].vlen, enc + o, mode);
	}
	rc = run(enc, o, o + 1, o + 1, again, &n2);
	FUZZ_CHECK(rc == QUERY_END);
	FUZZ_CHECK(n2 == npairs);
	for (i = 0; i < npairs; i++) {
		FUZZ_CHECK(again[i].nlen == pairs[i].nlen &&
		    memcmp(again[i].name, pairs[i].name, pairs[i].nlen) == 0);
		FUZZ_CHECK(again[i].vlen == pairs[i].vlen &&
		    memcmp(again[i].value, pairs[i].value, pairs[i].vlen) == 0);
	}
	for (i = 0; i < npairs; i++) {
		free((char *)pairs[i].name);
		free((char *)pairs[i].value);
	}
	for (i = 0; i < n2; i++) {
		free((char *)again[i].name);
		free((char *)again[i].value);
	}
	free(enc);
	free(q);
	return 0;
}
