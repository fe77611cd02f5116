/*
 * httpclient.c: HTTP/1.1 responses as a client reads them; see
 * httpclient.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpclient.h"

enum {
	CH_SIZE, CH_SIZE_LF, CH_EXT, CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER, CH_TRAILER_LINE, CH_TRAILER_LF
};

void
httpc_head_init(struct httpc_head *h)
{
	memset(h, 0, sizeof(*h));
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy (v, n) trimmed of OWS into out, cut to outsz - 1. */
static void
copy_value(char *out, size_t outsz, const char *v, size_t n)
{
	while (n > 0 && is_ows(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_ows(v[n - 1]))
		n--;
	if (n > outsz - 1)
		n = outsz - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

/* The next line of the completed head from *pos: (start, len). 0 at end. */
static int
next_line(const struct httpc_head *h, size_t *pos, const char **l,
    size_t *n)
{
	const char	*s = h->raw + *pos, *nl;

	if (*pos >= h->len)
		return 0;
	nl = memchr(s, '\n', h->len - *pos);
	if (nl == NULL)
		return 0;
	*l = s;
	*n = (size_t)(nl - s);
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	*pos += (size_t)(nl - s) + 1;
	return 1;
}

static int
parse_status(struct httpc_head *h, const char *l, size_t n)
{
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    l[7] < '0' || l[7] > '9' || l[8] != ' ' ||
	    l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' ||
	    l[11] < '0' || l[11] > '9' || (n > 12 && l[12] != ' '))
		return HTTPC_EBADSTATUS;
	h->minor = l[7] - '0';
	h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	return 0;
}

/* Does the comma-separated list (v) end with the token tok? */
static int
last_token_is(const char *v, const char *tok)
{
	const char	*c = strrchr(v, ',');
	char		 t[HTTPC_VALUE_MAX + 1];

	copy_value(t, sizeof(t), c ? c + 1 : v, strlen(c ? c + 1 : v));
	return strcasecmp(t, tok) == 0;
}

static int
has_token(const char *v, const char *tok)
{
	size_t		 tl = strlen(tok), n;
	const char	*p = v, *e;

	while (*p != '\0') {
		while (*p == ',' || is_ows(*p))
			p++;
		e = p;
		while (*e != '\0' && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && is_ows(p[n - 1]))
			n--;
		if (n == tl && strncasecmp(p, tok, tl) == 0)
			return 1;
		p = e;
	}
	return 0;
}

static int
parse_head(struct httpc_head *h)
{
	const char	*l, *colon;
	char		 v[HTTPC_VALUE_MAX + 1];
	size_t		 pos = 0, n, nlen, i;
	int		 rc, have_len = 0;
	uint64_t	 cl;

	if (!next_line(h, &pos, &l, &n))
		return HTTPC_EBADSTATUS;
	if ((rc = parse_status(h, l, n)) < 0)
		return rc;
	h->conn_close = h->minor == 0;
	while (next_line(h, &pos, &l, &n) && n > 0) {
		if (is_ows(l[0]))	/* obs-fold: RFC 9112 §5.2 lets us refuse */
			return HTTPC_EBADHEADER;
		colon = memchr(l, ':', n);
		if (colon == NULL || colon == l)
			return HTTPC_EBADHEADER;
		nlen = (size_t)(colon - l);
		for (i = 0; i < nlen; i++)
			if (l[i] <= ' ' || l[i] >= 0x7f)
				return HTTPC_EBADHEADER;
		copy_value(v, sizeof(v), colon + 1, n - nlen - 1);
#define IS(name) (nlen == sizeof(name) - 1 && \
		    strncasecmp(l, name, nlen) == 0)
		if (IS("content-type"))
			memcpy(h->content_type, v, strlen(v) + 1);
		else if (IS("content-encoding"))
			memcpy(h->content_encoding, v, strlen(v) + 1);
		else if (IS("transfer-encoding"))
			memcpy(h->transfer_encoding, v, strlen(v) + 1);
		else if (IS("connection")) {
			if (has_token(v, "close"))
				h->conn_close = 1;
			else if (has_token(v, "keep-alive"))
				h->conn_close = 0;
		} else if (IS("content-length")) {
			if (v[0] == '\0' || strlen(v) > 18)
				return HTTPC_EBADHEADER;
			for (cl = 0, i = 0; v[i] != '\0'; i++) {
				if (v[i] < '0' || v[i] > '9')
					return HTTPC_EBADHEADER;
				cl = cl * 10 + (uint64_t)(v[i] - '0');
			}
			if (have_len && cl != h->content_length)
				return HTTPC_EBADHEADER;
			have_len = 1;
			h->content_length = cl;
		}
#undef IS
	}
	/* RFC 9112 §6.3, in its order. */
	if (h->status / 100 == 1 || h->status == 204 || h->status == 304) {
		h->framing = HTTPC_LENGTH;
		h->content_length = 0;
	} else if (h->transfer_encoding[0] != '\0')
		h->framing = last_token_is(h->transfer_encoding, "chunked") ?
		    HTTPC_CHUNKED : HTTPC_EOF;
	else if (have_len)
		h->framing = HTTPC_LENGTH;
	else
		h->framing = HTTPC_EOF;
	return 0;
}

int
httpc_head_feed(struct httpc_head *h, const char *buf, size_t len,
    size_t *used)
{
	size_t	 i, n;
	int	 rc;

	*used = 0;
	if (h->done)
		return HTTPC_DONE;
	for (i = 0; i < len; i++) {
		if (h->len >= HTTPC_HEAD_MAX)
			return HTTPC_ETOOBIG;
		h->raw[h->len++] = buf[i];
		if (buf[i] != '\n')
			continue;
		n = h->len - 1 - h->linestart;
		if (n > 0 && h->raw[h->len - 2] == '\r')
			n--;
		if (n == 0 && h->linestart > 0) {
			h->raw[h->len] = '\0';
			h->done = 1;
			*used = i + 1;
			if ((rc = parse_head(h)) < 0)
				return rc;
			return HTTPC_DONE;
		}
		h->linestart = h->len;
	}
	*used = len;
	return HTTPC_MORE;
}

int
httpc_head_get(const struct httpc_head *h, const char *name, char *out,
    size_t outsz)
{
	const char	*l, *colon;
	size_t		 pos = 0, n, nl = strlen(name);

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (!h->done || !next_line(h, &pos, &l, &n))
		return 0;
	while (next_line(h, &pos, &l, &n) && n > 0) {
		colon = memchr(l, ':', n);
		if (colon == NULL || (size_t)(colon - l) != nl ||
		    strncasecmp(l, name, nl) != 0)
			continue;
		copy_value(out, outsz, colon + 1, n - nl - 1);
		return 1;
	}
	return 0;
}

void
httpc_body_init(struct httpc_body *b, const struct httpc_head *h)
{
	memset(b, 0, sizeof(*b));
	b->framing = h->framing;
	b->state = CH_SIZE;
	if (h->framing == HTTPC_LENGTH) {
		b->left = h->content_length;
		b->done = b->left == 0;
	}
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

static int
chunked(struct httpc_body *b, char *buf, size_t len, size_t *outlen)
{
	size_t	 i = 0, out = 0, n;
	int	 x;
	char	 c;

	while (i < len && !b->done) {
		if (b->state == CH_DATA) {
			n = len - i;
			if (n > b->left)
				n = (size_t)b->left;
			memmove(buf + out, buf + i, n);
			out += n;
			i += n;
			b->left -= n;
			if (b->left == 0)
				b->state = CH_DATA_CR;
			continue;
		}
		c = buf[i++];
		switch (b->state) {
		case CH_SIZE:
			if ((x = hexval(c)) >= 0) {
				if (++b->digits > HTTPC_CHUNK_DIGITS)
					return HTTPC_ETOOBIG;
				b->left = b->left * 16 + (uint64_t)x;
				break;
			}
			if (b->digits == 0)
				return HTTPC_EBADCHUNK;
			if (c == ';' || c == ' ' || c == '\t') {
				b->state = CH_EXT;
				b->linelen = 0;
			} else if (c == '\r')
				b->state = CH_SIZE_LF;
			else if (c == '\n')
				goto size_done;
			else
				return HTTPC_EBADCHUNK;
			break;
		case CH_EXT:
			if (c == '\n')
				goto size_done;
			if (++b->linelen > HTTPC_LINE_MAX)
				return HTTPC_ETOOBIG;
			break;
		case CH_SIZE_LF:
			if (c != '\n')
				return HTTPC_EBADCHUNK;
		size_done:
			b->digits = 0;
			if (b->left == 0) {
				b->state = CH_TRAILER;
			} else {
				b->state = CH_DATA;
				b->chunks++;
			}
			break;
		case CH_DATA_CR:
			if (c == '\r')
				b->state = CH_DATA_LF;
			else if (c == '\n')
				b->state = CH_SIZE;
			else
				return HTTPC_EBADCHUNK;
			break;
		case CH_DATA_LF:
			if (c != '\n')
				return HTTPC_EBADCHUNK;
			b->state = CH_SIZE;
			break;
		case CH_TRAILER:
			if (c == '\r')
				b->state = CH_TRAILER_LF;
			else if (c == '\n')
				b->done = 1;
			else {
				b->state = CH_TRAILER_LINE;
				b->linelen = 1;
			}
			break;
		case CH_TRAILER_LINE:
			if (c == '\n')
				b->state = CH_TRAILER;
			else if (++b->linelen > HTTPC_LINE_MAX)
				return HTTPC_ETOOBIG;
			break;
		case CH_TRAILER_LF:
			if (c != '\n')
				return HTTPC_EBADCHUNK;
			b->done = 1;
			break;
		default:
			return HTTPC_EBADCHUNK;
		}
	}
	*outlen = out;
	return b->done ? HTTPC_DONE : HTTPC_MORE;
}

int
httpc_body_decode(struct httpc_body *b, char *buf, size_t len,
    size_t *outlen)
{
	*outlen = 0;
	if (b->done)
		return HTTPC_DONE;
	switch (b->framing) {
	case HTTPC_CHUNKED:
		return chunked(b, buf, len, outlen);
	case HTTPC_LENGTH:
		*outlen = len < b->left ? len : (size_t)b->left;
		b->left -= *outlen;
		if (b->left == 0)
			b->done = 1;
		return b->done ? HTTPC_DONE : HTTPC_MORE;
	case HTTPC_EOF:
	default:
		*outlen = len;
		return HTTPC_MORE;
	}
}

static int
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

ssize_t
httpc_request(char *out, size_t outsz, const char *method, const char *host,
    const char *path, const char *const *headers, const char *body,
    size_t body_len)
{
	size_t	 n = 0;
	int	 r;

	if (has_crlf(method) || has_crlf(host) || has_crlf(path))
		return -1;
	r = snprintf(out, outsz, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
	    path, host);
	if (r < 0 || (size_t)r >= outsz)
		return -1;
	n = (size_t)r;
	for (; headers != NULL && *headers != NULL; headers++) {
		if (has_crlf(*headers))
			return -1;
		r = snprintf(out + n, outsz - n, "%s\r\n", *headers);
		if (r < 0 || (size_t)r >= outsz - n)
			return -1;
		n += (size_t)r;
	}
	if (body != NULL) {
		r = snprintf(out + n, outsz - n, "Content-Length: %zu\r\n",
		    body_len);
		if (r < 0 || (size_t)r >= outsz - n)
			return -1;
		n += (size_t)r;
	}
	if (outsz - n < 2 + (body ? body_len : 0))
		return -1;
	memcpy(out + n, "\r\n", 2);
	n += 2;
	if (body != NULL) {
		memcpy(out + n, body, body_len);
		n += body_len;
	}
	return (ssize_t)n;
}
