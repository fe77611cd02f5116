/*
 * fuzz_httpclient.c: backend/httpclient.c, response heads and bodies as
 * ssereplay-check reads them.
 *
 * Input: bytes 0-3 seed the split points; byte 4 is an output size for
 * httpc_head_get() (0..255, exactly allocated); the rest is what a server
 * sends: a head, then a body.
 *
 * The head is fed whole and in pieces; then the body (what follows the
 * head) is decoded whole and in pieces, each piece in its own buffer of
 * exactly its size.
 *
 * Checked (httpclient.h):
 *   - both feeds of the head give the same result, take the same bytes and
 *     leave the same state; a complete head is NUL-terminated within
 *     HTTPC_HEAD_MAX, its status 100..599, its kept values NUL-terminated
 *     within HTTPC_VALUE_MAX; MORE takes every byte offered; *used never
 *     exceeds what was offered;
 *   - httpc_head_get() returns 0 or 1 and a NUL-terminated value inside
 *     the caller's buffer;
 *   - decoding never writes more than it was given; both decodes give the
 *     same bytes and the same result; a chunked body gives the bytes and
 *     the result of a separate reading of RFC 9112 §7.1 with the bounds
 *     of httpclient.h (ref_chunked); a Content-Length body gives at most
 *     that many bytes, and all of them when it says DONE;
 *   - httpc_request() refuses CR and LF in what it writes, and otherwise
 *     writes a request line and Host that fit in the buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "httpclient.h"

static int
is_httpc(int rc)
{
	return rc == HTTPC_MORE || rc == HTTPC_DONE || rc == HTTPC_ETOOBIG ||
	    rc == HTTPC_EBADSTATUS || rc == HTTPC_EBADHEADER ||
	    rc == HTTPC_EBADCHUNK;
}

static void
check_head(const struct httpc_head *h)
{
	FUZZ_CHECK(h->len <= HTTPC_HEAD_MAX && h->raw[h->len] == '\0');
	FUZZ_CHECK(h->status >= 100 && h->status <= 599);
	FUZZ_CHECK(h->minor >= 0 && h->minor <= 9);
	FUZZ_CHECK(h->conn_close == 0 || h->conn_close == 1);
	FUZZ_CHECK(h->framing == HTTPC_CHUNKED || h->framing == HTTPC_LENGTH ||
	    h->framing == HTTPC_EOF);
	FUZZ_CHECK(fuzz_terminated(h->content_type, sizeof(h->content_type)));
	FUZZ_CHECK(fuzz_terminated(h->content_encoding,
	    sizeof(h->content_encoding)));
	FUZZ_CHECK(fuzz_terminated(h->transfer_encoding,
	    sizeof(h->transfer_encoding)));
}

/* The same state? (Bytes after a value's NUL are not part of it.) */
static int
same_head(const struct httpc_head *a, const struct httpc_head *b)
{
	return a->len == b->len && memcmp(a->raw, b->raw, a->len) == 0 &&
	    a->linestart == b->linestart && a->done == b->done &&
	    a->minor == b->minor && a->status == b->status &&
	    a->framing == b->framing &&
	    a->content_length == b->content_length &&
	    a->conn_close == b->conn_close &&
	    strcmp(a->content_type, b->content_type) == 0 &&
	    strcmp(a->content_encoding, b->content_encoding) == 0 &&
	    strcmp(a->transfer_encoding, b->transfer_encoding) == 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Take a line end (CR LF or LF) at b[*i]: HTTPC_DONE when taken,
 * HTTPC_MORE, or HTTPC_EBADCHUNK. */
static int
ref_eol(const char *b, size_t len, size_t *i)
{
	if (*i == len)
		return HTTPC_MORE;
	if (b[*i] == '\n') {
		(*i)++;
		return HTTPC_DONE;
	}
	if (b[*i] != '\r')
		return HTTPC_EBADCHUNK;
	if (++*i == len)
		return HTTPC_MORE;
	return b[(*i)++] == '\n' ? HTTPC_DONE : HTTPC_EBADCHUNK;
}

/* Skip past the next LF, counting the bytes before it from n against
 * HTTPC_LINE_MAX: HTTPC_DONE, HTTPC_MORE or HTTPC_ETOOBIG. */
static int
ref_rest_of_line(const char *b, size_t len, size_t *i, size_t n)
{
	for (; *i < len; (*i)++) {
		if (b[*i] == '\n') {
			(*i)++;
			return HTTPC_DONE;
		}
		if (++n > HTTPC_LINE_MAX)
			return HTTPC_ETOOBIG;
	}
	return HTTPC_MORE;
}

/*
 * RFC 9112 §7.1 with httpclient.h's bounds, on the whole body: size (at
 * most HTTPC_CHUNK_DIGITS hex digits), optional extension (after ';',
 * SP or HTAB, at most HTTPC_LINE_MAX bytes), line end, data, line end;
 * after size 0, trailer lines up to an empty one. Returns what decoding
 * must return; the data goes to out.
 */
static int
ref_chunked(const char *b, size_t len, char *out, size_t *outlen)
{
	size_t		 i = 0, digits, n;
	uint64_t	 v;
	int		 x, rc;

	*outlen = 0;
	for (;;) {
		for (v = 0, digits = 0; i < len && (x = hexval(b[i])) >= 0;
		    i++) {
			if (++digits > HTTPC_CHUNK_DIGITS)
				return HTTPC_ETOOBIG;
			v = v * 16 + (uint64_t)x;
		}
		if (i == len)
			return HTTPC_MORE;
		if (digits == 0)
			return HTTPC_EBADCHUNK;
		if (b[i] == ';' || b[i] == ' ' || b[i] == '\t') {
			i++;	/* the extension is what follows */
			rc = ref_rest_of_line(b, len, &i, 0);
		} else
			rc = ref_eol(b, len, &i);
		if (rc != HTTPC_DONE)
			return rc;
		if (v == 0)
			break;
		n = len - i < v ? len - i : (size_t)v;
		memcpy(out + *outlen, b + i, n);
		*outlen += n;
		i += n;
		if (n < v)
			return HTTPC_MORE;
		if ((rc = ref_eol(b, len, &i)) != HTTPC_DONE)
			return rc;
	}
	/* Trailer lines, then the empty line that ends the body. */
	for (;;) {
		if (i == len)
			return HTTPC_MORE;
		if (b[i] == '\r' || b[i] == '\n')
			return ref_eol(b, len, &i);
		i++;
		if ((rc = ref_rest_of_line(b, len, &i, 1)) != HTTPC_DONE)
			return rc;
	}
}

/* Decode (b, len) whole or in pieces; the decoded bytes go to out. */
static int
decode(const struct httpc_head *h, const char *b, size_t len, int split,
    struct fuzz_rng *rng, char *out, size_t *outlen)
{
	struct httpc_body	 body;
	char			*piece;
	size_t			 i = 0, n, got;
	int			 rc = HTTPC_MORE;

	*outlen = 0;
	httpc_body_init(&body, h);
	if (len == 0)
		return body.done ? HTTPC_DONE : HTTPC_MORE;
	while (i < len) {
		n = split ? fuzz_rng_piece(rng, len - i) : len - i;
		piece = fuzz_memdup(b + i, n);
		rc = httpc_body_decode(&body, piece, n, &got);
		FUZZ_CHECK(is_httpc(rc));
		FUZZ_CHECK(got <= n);
		if (rc >= 0) {
			memcpy(out + *outlen, piece, got);
			*outlen += got;
		}
		free(piece);
		i += n;
		if (rc != HTTPC_MORE)
			break;
	}
	if (h->framing == HTTPC_LENGTH) {
		FUZZ_CHECK(*outlen <= h->content_length);
		if (rc == HTTPC_DONE)
			FUZZ_CHECK(*outlen == h->content_length);
	}
	if (h->framing == HTTPC_EOF)
		FUZZ_CHECK(rc == HTTPC_MORE && *outlen == len);
	return rc;
}

static void
check_request(const char *a, size_t alen, const char *b, size_t blen,
    size_t outsz)
{
	char		*method, *host, *out;
	const char	*hdrs[2];
	ssize_t		 n;
	int		 bad;

	method = fuzz_strndup(a, alen);
	host = fuzz_strndup(b, blen);
	hdrs[0] = host;
	hdrs[1] = NULL;
	out = fuzz_alloc(outsz);
	n = httpc_request(out, outsz, method, host, "/events?topic=t", hdrs,
	    outsz % 2 ? method : NULL, strlen(method));
	bad = strpbrk(method, "\r\n") != NULL || strpbrk(host, "\r\n") != NULL;
	FUZZ_CHECK(n == -1 || (size_t)n <= outsz);
	if (bad)
		FUZZ_CHECK(n == -1);
	else if (n >= 0)
		FUZZ_CHECK(memcmp(out, method, strlen(method)) == 0 &&
		    out[strlen(method)] == ' ');
	free(out);
	free(method);
	free(host);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct httpc_head h1, h2;
	struct fuzz_in		 in;
	struct fuzz_rng		 rng;
	const char		*names[] = { "content-type", "Transfer-Encoding",
				    "X-Accel-Buffering", "server" };
	char			*b, *out1, *out2, *val;
	size_t			 len, used1, used2 = 0, i, n, u, outsz;
	size_t			 o1, o2;
	uint32_t		 seed;
	int			 rc1, rc2 = HTTPC_MORE, got, k;

	fuzz_in_init(&in, data, size);
	seed = fuzz_u16(&in);
	seed |= (uint32_t)fuzz_u16(&in) << 16;
	outsz = fuzz_byte(&in);
	fuzz_rng_init(&rng, seed);
	len = in.left;
	b = fuzz_memdup(in.p, len);

	/* The head, whole. */
	httpc_head_init(&h1);
	rc1 = httpc_head_feed(&h1, b, len, &used1);
	FUZZ_CHECK(is_httpc(rc1) && used1 <= len);
	if (rc1 == HTTPC_MORE)
		FUZZ_CHECK(used1 == len);

	/* The head, in pieces. */
	httpc_head_init(&h2);
	for (i = 0; i < len; i += n) {
		n = fuzz_rng_piece(&rng, len - i);
		rc2 = httpc_head_feed(&h2, b + i, n, &u);
		FUZZ_CHECK(is_httpc(rc2) && u <= n);
		used2 += u;
		if (rc2 != HTTPC_MORE)
			break;
		FUZZ_CHECK(u == n);
	}
	if (len == 0)
		rc2 = httpc_head_feed(&h2, b, 0, &used2);
	FUZZ_CHECK(rc1 == rc2);
	if (rc1 == HTTPC_DONE)
		FUZZ_CHECK(used1 == used2);
	FUZZ_CHECK(same_head(&h1, &h2));
	/* Done is done. */
	if (rc1 == HTTPC_DONE)
		FUZZ_CHECK(httpc_head_feed(&h1, b, len, &u) == HTTPC_DONE &&
		    u == 0);

	if (rc1 == HTTPC_DONE) {
		check_head(&h1);
		val = fuzz_alloc(outsz);
		for (k = 0; k < 4; k++) {
			got = httpc_head_get(&h1, names[k], val, outsz);
			FUZZ_CHECK(got == 0 || got == 1);
			if (outsz > 0)
				FUZZ_CHECK(fuzz_terminated(val, outsz));
		}
		free(val);

		/* The body: what follows the head. */
		out1 = fuzz_alloc(len - used1);
		out2 = fuzz_alloc(len - used1);
		rc1 = decode(&h1, b + used1, len - used1, 0, &rng, out1, &o1);
		rc2 = decode(&h1, b + used1, len - used1, 1, &rng, out2, &o2);
		FUZZ_CHECK(rc1 == rc2);
		if (rc1 >= 0)
			FUZZ_CHECK(o1 == o2 && memcmp(out1, out2, o1) == 0);
		if (h1.framing == HTTPC_CHUNKED) {
			rc2 = ref_chunked(b + used1, len - used1, out2, &o2);
			if (rc2 != rc1)
				fprintf(stderr, "chunked: %d, expected %d\n",
				    rc1, rc2);
			FUZZ_CHECK(rc1 == rc2);
			if (rc1 >= 0)
				FUZZ_CHECK(o1 == o2 &&
				    memcmp(out1, out2, o1) == 0);
		}
		free(out1);
		free(out2);
	}

	/* A request from two pieces of the input. */
	n = len / 2;
	check_request(b, n < 64 ? n : 64, b + n, len - n < 64 ? len - n : 64,
	    outsz);
	free(b);
	return 0;
}
