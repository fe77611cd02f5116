/*
 * fuzz_sseparse.c: backend/sseparse.c, the event-stream reader of
 * ssereplay-check.
 *
 * Input: byte 0 and byte 1 choose line_max and data_max (1 + 2 * value,
 * so the bounds are easy to reach; 255: the defaults); byte 2 is the
 * callback item at which to stop (0: never); bytes 3-6 seed the split
 * points; the rest is the stream.
 *
 * The stream is parsed three times: whole, in pieces from the seed, one
 * byte at a time. Each run's callbacks and results are folded into a
 * hash, and they must all agree with each other and with a separate
 * reading of the WHATWG rules (below, ref_parse). Then each parser is told
 * sseparse_reconnect() and fed the stream again: they must still agree.
 *
 * Checked (sseparse.h):
 *   - splitting the same bytes differently gives the same calls and the
 *     same result;
 *   - the calls and result are the spec's (BOM, CR LF / LF / CR line ends,
 *     dispatch, comments, fields, bounds, stop);
 *   - in every callback: the type is NUL-terminated and at most
 *     SSEPARSE_TYPE_MAX bytes; data is NUL-terminated and at most
 *     data_max bytes; the id is NUL-terminated, at most SSEPARSE_ID_MAX
 *     bytes, without a NUL; a comment fits a line;
 *   - after an error or a stop, sseparse_feed() says SSEPARSE_EFAILED;
 *   - sseparse_last_id() is NUL-terminated and at most SSEPARSE_ID_MAX.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "sseparse.h"

struct run {
	uint64_t	 h;		/* FNV-1a of the calls */
	unsigned	 items;
	unsigned	 stop_at;	/* stop at this item (1-based), 0 never */
	size_t		 line_max, data_max;
};

static void
mix(struct run *r, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0) {
		r->h ^= *b++;
		r->h *= 0x100000001b3ULL;
	}
}

static void
mix_u64(struct run *r, uint64_t v)
{
	mix(r, &v, sizeof(v));
}

/* Fold one item into the hash; returns what the callback returns. */
static int
record(struct run *r, int kind, const char *type, const char *data,
    size_t dlen, const char *id, size_t idlen, uint64_t retry)
{
	mix_u64(r, (uint64_t)kind);
	if (type != NULL)
		mix(r, type, strlen(type) + 1);
	mix_u64(r, dlen);
	if (dlen > 0)
		mix(r, data, dlen);
	mix_u64(r, idlen);
	if (idlen > 0)
		mix(r, id, idlen);
	mix_u64(r, retry);
	r->items++;
	return r->stop_at != 0 && r->items == r->stop_at;
}

static int
cb(void *arg, const struct sseparse_item *it)
{
	struct run	*r = arg;

	switch (it->kind) {
	case SSEPARSE_EVENT:
		/* Not checked: a non-empty type. "event: \0x" gives one that
		 * reads as "" (a NUL-terminated type cannot hold a NUL). */
		FUZZ_CHECK(it->type != NULL);
		FUZZ_CHECK(strlen(it->type) <= SSEPARSE_TYPE_MAX);
		FUZZ_CHECK(it->data != NULL && it->data[it->data_len] == '\0');
		FUZZ_CHECK(it->data_len <= r->data_max);
		FUZZ_CHECK(it->id != NULL && it->id[it->id_len] == '\0');
		FUZZ_CHECK(it->id_len <= SSEPARSE_ID_MAX);
		FUZZ_CHECK(memchr(it->id, '\0', it->id_len) == NULL);
		return record(r, 0, it->type, it->data, it->data_len, it->id,
		    it->id_len, 0);
	case SSEPARSE_RETRY:
		return record(r, 1, NULL, NULL, 0, NULL, 0, it->retry_ms);
	case SSEPARSE_COMMENT:
		FUZZ_CHECK(it->data != NULL || it->data_len == 0);
		FUZZ_CHECK(it->data_len < r->line_max);
		return record(r, 2, NULL, it->data, it->data_len, NULL, 0, 0);
	}
	FUZZ_CHECK(!"unknown item kind");
	return 0;
}

/* ---- the reference ----------------------------------------------------- */

struct ref {
	char		 data[SSEPARSE_DATA_DEFAULT + 1];
	size_t		 data_len;
	char		 type[SSEPARSE_TYPE_MAX + 1];
	size_t		 type_len;
	char		 idbuf[SSEPARSE_ID_MAX + 1], lastid[SSEPARSE_ID_MAX + 1];
	size_t		 idbuf_len, lastid_len;
};

static int
is_name(const char *l, size_t n, const char *name)
{
	return n == strlen(name) && memcmp(l, name, n) == 0;
}

/* One complete line: 0, SSEPARSE_STOPPED or SSEPARSE_ETOOLONG. */
static int
ref_line(struct ref *s, struct run *r, const char *l, size_t n)
{
	const char	*colon, *v;
	size_t		 nlen, vlen, i;
	uint64_t	 ms;

	if (n == 0) {
		/* Dispatch. */
		memcpy(s->lastid, s->idbuf, s->idbuf_len);
		s->lastid_len = s->idbuf_len;
		s->lastid[s->lastid_len] = '\0';
		if (s->data_len == 0) {
			s->type_len = 0;
			return 0;
		}
		s->data_len--;
		s->data[s->data_len] = '\0';
		s->type[s->type_len] = '\0';
		i = s->data_len;
		s->data_len = 0;
		n = s->type_len;
		s->type_len = 0;
		return record(r, 0, n > 0 ? s->type : "message", s->data, i,
		    s->lastid, s->lastid_len, 0) ? SSEPARSE_STOPPED : 0;
	}
	if (l[0] == ':')
		return record(r, 2, NULL, l + 1, n - 1, NULL, 0, 0) ?
		    SSEPARSE_STOPPED : 0;
	colon = memchr(l, ':', n);
	nlen = colon != NULL ? (size_t)(colon - l) : n;
	v = colon != NULL ? colon + 1 : l + n;
	vlen = colon != NULL ? n - nlen - 1 : 0;
	if (vlen > 0 && v[0] == ' ') {
		v++;
		vlen--;
	}
	if (is_name(l, nlen, "event")) {
		if (vlen > SSEPARSE_TYPE_MAX)
			return SSEPARSE_ETOOLONG;
		memcpy(s->type, v, vlen);
		s->type_len = vlen;
	} else if (is_name(l, nlen, "data")) {
		if (s->data_len + vlen + 1 > r->data_max)
			return SSEPARSE_ETOOLONG;
		memcpy(s->data + s->data_len, v, vlen);
		s->data_len += vlen;
		s->data[s->data_len++] = '\n';
	} else if (is_name(l, nlen, "id")) {
		if (memchr(v, '\0', vlen) != NULL)
			return 0;
		if (vlen > SSEPARSE_ID_MAX)
			return SSEPARSE_ETOOLONG;
		memcpy(s->idbuf, v, vlen);
		s->idbuf_len = vlen;
	} else if (is_name(l, nlen, "retry") && vlen > 0) {
		for (i = 0; i < vlen; i++)
			if (v[i] < '0' || v[i] > '9')
				return 0;
		/* Saturating, as sseparse.c does: "very long". */
		for (ms = 0, i = 0; i < vlen; i++)
			if (ms < UINT64_MAX / 10 - 10)
				ms = ms * 10 + (uint64_t)(v[i] - '0');
		return record(r, 1, NULL, NULL, 0, NULL, 0, ms) ?
		    SSEPARSE_STOPPED : 0;
	}
	return 0;
}

/*
 * The whole stream, as the spec reads it: a BOM dropped, lines ended by
 * CR LF, LF or CR, the last unfinished line only measured. Returns what
 * the feed must return.
 */
static int
ref_parse(struct ref *s, struct run *r, const char *b, size_t len)
{
	size_t	 i = 0, k;
	int	 rc;

	if (len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	/* Part of a BOM, and nothing else yet: nothing to say. */
	else if (len < 3 && memcmp(b, "\xef\xbb\xbf", len) == 0)
		return 0;
	while (i < len) {
		for (k = i; k < len && b[k] != '\r' && b[k] != '\n'; k++)
			;
		if (k - i > r->line_max)
			return SSEPARSE_ETOOLONG;
		if (k == len)
			return 0;	/* unfinished: kept for later */
		if ((rc = ref_line(s, r, b + i, k - i)) != 0)
			return rc;
		i = (b[k] == '\r' && k + 1 < len && b[k + 1] == '\n') ?
		    k + 2 : k + 1;
	}
	return 0;
}

/* ---- the runs ---------------------------------------------------------- */

/* Feed (b, len) in pieces (piece 0: whole; else rng pieces, or 1 byte). */
static int
feed(struct sseparse *p, const char *b, size_t len, int how,
    struct fuzz_rng *rng)
{
	size_t	 i = 0, n;
	int	 rc;

	while (i < len) {
		n = how == 0 ? len - i : how == 1 ? 1 :
		    fuzz_rng_piece(rng, len - i);
		if ((rc = sseparse_feed(p, b + i, n)) != 0) {
			FUZZ_CHECK(rc == SSEPARSE_STOPPED ||
			    rc == SSEPARSE_ETOOLONG);
			FUZZ_CHECK(sseparse_feed(p, b, len) ==
			    SSEPARSE_EFAILED);
			return rc;
		}
		i += n;
	}
	return 0;
}

static void
check_last_id(const struct sseparse *p)
{
	const char	*id;
	size_t		 n;

	id = sseparse_last_id(p, &n);
	FUZZ_CHECK(n <= SSEPARSE_ID_MAX && id[n] == '\0');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref	 ref;
	struct fuzz_in		 in;
	struct sseparse		 p[3];
	struct run		 r[3], rr;
	struct fuzz_rng		 rng;
	size_t			 lm, dm, len;
	unsigned		 stop;
	uint32_t		 seed;
	char			*b;
	int			 rc[3], want, i;

	fuzz_in_init(&in, data, size);
	lm = fuzz_byte(&in);
	dm = fuzz_byte(&in);
	stop = fuzz_byte(&in);
	seed = fuzz_u16(&in);
	seed |= (uint32_t)fuzz_u16(&in) << 16;
	lm = lm == 255 ? 0 : 1 + 2 * lm;
	dm = dm == 255 ? 0 : 1 + 2 * dm;
	len = in.left;
	b = fuzz_memdup(in.p, len);

	for (i = 0; i < 3; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].h = 0xcbf29ce484222325ULL;
		r[i].stop_at = stop;
		if (sseparse_init(&p[i], lm, dm, cb, &r[i]) == -1)
			abort();
		r[i].line_max = p[i].line_max;
		r[i].data_max = p[i].data_max;
	}
	fuzz_rng_init(&rng, seed);
	for (i = 0; i < 3; i++) {
		rc[i] = feed(&p[i], b, len, i, &rng);
		mix_u64(&r[i], (uint64_t)rc[i]);
		check_last_id(&p[i]);
	}

	ref.data_len = ref.type_len = ref.idbuf_len = ref.lastid_len = 0;
	rr = r[0];
	rr.h = 0xcbf29ce484222325ULL;
	rr.items = 0;
	want = ref_parse(&ref, &rr, b, len);
	mix_u64(&rr, (uint64_t)want);

	FUZZ_CHECK(rc[0] == want && r[0].h == rr.h && r[0].items == rr.items);
	for (i = 1; i < 3; i++)
		FUZZ_CHECK(rc[i] == rc[0] && r[i].h == r[0].h &&
		    r[i].items == r[0].items);
	for (i = 1; i < 3; i++) {
		size_t n0, ni;
		const char *a = sseparse_last_id(&p[0], &n0);
		const char *c = sseparse_last_id(&p[i], &ni);

		FUZZ_CHECK(n0 == ni && memcmp(a, c, n0) == 0);
	}

	/* A new connection: the same bytes again, and they still agree. */
	for (i = 0; i < 3; i++) {
		sseparse_reconnect(&p[i]);
		r[i].stop_at = 0;
		rc[i] = feed(&p[i], b, len, i, &rng);
		mix_u64(&r[i], (uint64_t)rc[i]);
		check_last_id(&p[i]);
	}
	for (i = 1; i < 3; i++)
		FUZZ_CHECK(rc[i] == rc[0] && r[i].h == r[0].h);
	for (i = 0; i < 3; i++)
		sseparse_free(&p[i]);
	sseparse_free(NULL);
	free(b);
	return 0;
}
