/*
 * fuzz_wshandshake.c: backend/wshandshake.c, the WebSocket opening
 * handshake.
 *
 * Input: the bytes a client sends, in a heap buffer of exactly their size.
 *
 * Checked (wshandshake.h):
 *   - ws_handshake_complete() gives 0 or the length of a head that ends
 *     with an LF, within the input and WS_REQUEST_MAX; the same length for
 *     any longer prefix, 0 for any shorter one (so feeding it as bytes
 *     arrive finds the same end);
 *   - ws_handshake_parse() of that head answers 0 or a documented status
 *     (400, 405, 414, 426, 431, 500, 505) with a reason;
 *   - on 0 every field is NUL-terminated inside its buffer, the path
 *     starts with '/', path and query hold only visible ASCII and no '#',
 *     Host is there, no kept value has a control byte or surrounding
 *     space, and accept is ws_accept_key() of the request's key
 *     (itself checked once against RFC 6455 §1.3's example);
 *   - ws_handshake_parse() of the whole input, complete or not, does not
 *     crash, and answers 431 past WS_REQUEST_MAX.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "wshandshake.h"

static int
is_status(int st)
{
	return st == 0 || st == 400 || st == 405 || st == 414 || st == 426 ||
	    st == 431 || st == 500 || st == 505;
}

/* A kept header value: no control byte, no space at either end. */
static int
clean_value(const char *v, size_t sz)
{
	size_t n, i;

	if (!fuzz_terminated(v, sz))
		return 0;
	n = strlen(v);
	if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'))
		return 0;
	for (i = 0; i < n; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			return 0;
	return 1;
}

static int
target_chars(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '#')
			return 0;
	return 1;
}

/* The request's Sec-WebSocket-Key, found separately (it was accepted, so
 * there is exactly one, 24 bytes once trimmed). */
static int
find_key(const char *buf, size_t len, char *key)
{
	static const char	 name[] = "sec-websocket-key:";
	const char		*p = buf, *end = buf + len, *nl, *v, *e;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if ((size_t)(nl - p) > sizeof(name) - 1 &&
		    strncasecmp(p, name, sizeof(name) - 1) == 0) {
			v = p + sizeof(name) - 1;
			e = nl;
			if (e > v && e[-1] == '\r')
				e--;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			if (e - v != 24)
				return -1;
			memcpy(key, v, 24);
			return 0;
		}
		p = nl + 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 once;
	struct ws_handshake	*hs;
	struct fuzz_rng		 rng;
	const char		*reason;
	char			*buf, key[24], accept[WS_ACCEPT_LEN + 1];
	size_t			 r, k, i;
	int			 st;

	if (!once) {
		/* RFC 6455 §1.3. */
		ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, accept);
		FUZZ_CHECK(strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
		once = 1;
	}
	buf = fuzz_memdup(data, size);
	hs = (struct ws_handshake *)fuzz_alloc(sizeof(*hs));

	r = ws_handshake_complete(buf, size);
	FUZZ_CHECK(r <= size && r <= WS_REQUEST_MAX);
	if (r > 0) {
		FUZZ_CHECK(r >= 2 && buf[r - 1] == '\n');
		FUZZ_CHECK(ws_handshake_complete(buf, r) == r);
		FUZZ_CHECK(ws_handshake_complete(buf, r - 1) == 0);
	}
	/* Prefixes, as the bytes would arrive. */
	fuzz_rng_init(&rng, (uint32_t)size * 2654435761u);
	for (i = 0; i < 8 && size > 0; i++) {
		k = fuzz_rng_next(&rng) % (size + 1);
		if (r == 0 || k < r)
			FUZZ_CHECK(ws_handshake_complete(buf, k) == 0);
		else
			FUZZ_CHECK(ws_handshake_complete(buf, k) == r);
	}

	if (r > 0) {
		reason = NULL;
		st = ws_handshake_parse(buf, r, hs, &reason);
		FUZZ_CHECK(is_status(st) && reason != NULL);
		if (st != 0)
			FUZZ_CHECK(reason[0] != '\0');
		else {
			FUZZ_CHECK(fuzz_terminated(hs->path, sizeof(hs->path)));
			FUZZ_CHECK(fuzz_terminated(hs->query,
			    sizeof(hs->query)));
			FUZZ_CHECK(hs->path[0] == '/');
			FUZZ_CHECK(target_chars(hs->path) &&
			    target_chars(hs->query));
			FUZZ_CHECK(clean_value(hs->host, sizeof(hs->host)));
			FUZZ_CHECK(hs->host[0] != '\0');
			FUZZ_CHECK(clean_value(hs->origin, sizeof(hs->origin)));
			FUZZ_CHECK(clean_value(hs->authorization,
			    sizeof(hs->authorization)));
			FUZZ_CHECK(fuzz_terminated(hs->accept,
			    sizeof(hs->accept)));
			FUZZ_CHECK(strlen(hs->accept) == WS_ACCEPT_LEN);
			FUZZ_CHECK(find_key(buf, r, key) == 0);
			ws_accept_key(key, sizeof(key), accept);
			FUZZ_CHECK(strcmp(accept, hs->accept) == 0);
		}
		/* The same head, once more without a reason pointer. */
		FUZZ_CHECK(ws_handshake_parse(buf, r, hs, NULL) == st);
	}

	/* The whole input, whatever it is. */
	reason = NULL;
	st = ws_handshake_parse(buf, size, hs, &reason);
	FUZZ_CHECK(is_status(st) && reason != NULL);
	if (size > WS_REQUEST_MAX)
		FUZZ_CHECK(st == 431);
	free(hs);
	free(buf);
	return 0;
}
