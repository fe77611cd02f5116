/*
 * wshandshake.c: the WebSocket opening handshake (wshandshake.h).
 *
 * The head is read line by line; a line ends at LF, and one CR right
 * before the LF belongs to the line end (RFC 9112 §2.2). Any other CR, NUL
 * or control byte is an error, never a separator: lighttpd or a proxy in
 * front may split lines differently from us, and a request that two
 * parsers read differently is how a header gets smuggled.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "wshandshake.h"

/* RFC 6455 §1.3: the GUID appended to the key. */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* The key is base64 of 16 bytes: 22 characters and "==". */
#define WS_KEY_LEN	24

/* Fields we remember having seen, to refuse repeats and absences. */
enum {
	SEEN_HOST	= 1 << 0,
	SEEN_ORIGIN	= 1 << 1,
	SEEN_AUTH	= 1 << 2,
	SEEN_KEY	= 1 << 3,
	SEEN_VERSION	= 1 << 4,
	UPGRADE_OK	= 1 << 5,	/* "websocket" seen in Upgrade */
	CONNECTION_OK	= 1 << 6,	/* "upgrade" seen in Connection */
	VERSION_OK	= 1 << 7	/* Sec-WebSocket-Version is 13 */
};

/* The state of one parse: where we are and what we saw. */
struct hsparse {
	const char	*p;		/* next unread byte */
	const char	*end;		/* one past the last byte */
	unsigned	 seen;		/* SEEN_* and *_OK bits */
	char		 key[WS_KEY_LEN];
};

/* RFC 9110 §5.6.2: tchar. */
static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 §5.5: field-vchar, SP or HTAB (obs-text allowed). */
static int
is_field_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The next line of the head into [*line, *line + *linelen), without its
 * CR LF or LF. 0, or -1 when no LF is left.
 */
static int
next_line(struct hsparse *ps, const char **line, size_t *linelen)
{
	const char	*lf;
	size_t		 n;

	lf = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	if (lf == NULL)
		return -1;
	n = (size_t)(lf - ps->p);
	if (n > 0 && ps->p[n - 1] == '\r')
		n--;
	*line = ps->p;
	*linelen = n;
	ps->p = lf + 1;
	return 0;
}

size_t
ws_handshake_complete(const char *buf, size_t len)
{
	size_t	 i = 0;

	if (buf == NULL)
		return 0;
	if (len > WS_REQUEST_MAX)
		len = WS_REQUEST_MAX;
	/* Empty lines before the request line are skipped (RFC 9112 §2.2). */
	for (;;) {
		if (i < len && buf[i] == '\n')
			i++;
		else if (len - i >= 2 && buf[i] == '\r' && buf[i + 1] == '\n')
			i += 2;
		else
			break;
	}
	/* The head ends at an LF whose next line is empty. */
	for (; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (len - i >= 2 && buf[i + 1] == '\n')
			return i + 2;
		if (len - i >= 3 && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3). Returns 0 for HTTP/1.1 through
 * HTTP/1.9, 505 for another version, 400 if it is not a version at all.
 */
static int
check_version(const char *v, size_t len)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 ||
	    v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || v[7] == '0')
		return 505;
	return 0;
}

/*
 * The request line: method SP request-target SP HTTP-version, single
 * spaces (RFC 9112 §3). Fills hs->path and hs->query.
 */
static int
parse_request_line(const char *line, size_t len, struct ws_handshake *hs,
    const char **reason)
{
	const char	*sp1, *sp2, *target, *q, *tend;
	size_t		 tlen, plen, qlen, i;
	int		 status;

	sp1 = memchr(line, ' ', len);
	if (sp1 == NULL || sp1 == line)
		goto malformed;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (size_t)(target - line));
	if (sp2 == NULL || sp2 == target)
		goto malformed;
	tend = sp2;
	tlen = (size_t)(tend - target);

	for (i = 0; i < (size_t)(sp1 - line); i++)
		if (!is_tchar((unsigned char)line[i]))
			goto malformed;

	if ((status = check_version(sp2 + 1,
	    len - (size_t)(sp2 + 1 - line))) != 0) {
		if (status == 505) {
			*reason = "only HTTP/1.1 can be upgraded to a WebSocket";
			return 505;
		}
		goto malformed;
	}

	if ((size_t)(sp1 - line) != 3 || memcmp(line, "GET", 3) != 0) {
		*reason = "a WebSocket handshake is a GET request";
		return 405;
	}

	/* Origin-form: "/" path ["?" query], visible ASCII, no fragment. */
	q = memchr(target, '?', tlen);
	plen = (size_t)((q != NULL ? q : tend) - target);
	qlen = (q != NULL) ? (size_t)(tend - q - 1) : 0;
	if (plen >= sizeof(hs->path) || qlen >= sizeof(hs->query)) {
		*reason = "request-target too long";
		return 414;
	}
	if (target[0] != '/') {
		*reason = "the request-target must be a path";
		return 400;
	}
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c <= 0x20 || c >= 0x7f || c == '#') {
			*reason = "invalid byte in the request-target";
			return 400;
		}
	}
	memcpy(hs->path, target, plen);
	hs->path[plen] = '\0';
	if (q != NULL)
		memcpy(hs->query, q + 1, qlen);
	hs->query[qlen] = '\0';
	return 0;

malformed:
	*reason = "malformed request line";
	return 400;
}

/*
 * Does the comma-separated list [v, v + len) hold token, compared
 * case-insensitively? Elements are trimmed; empty ones skipped (RFC 9110
 * §5.6.1). For Upgrade, "websocket/13" is not "websocket": RFC 6455 §4.1
 * asks for the bare keyword.
 */
static int
list_has(const char *v, size_t len, const char *token)
{
	const char	*p = v, *end = v + len, *comma, *s, *e;
	size_t		 tl = strlen(token);

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		e = (comma != NULL) ? comma : end;
		s = p;
		while (s < e && is_ows(*s))
			s++;
		while (e > s && is_ows(e[-1]))
			e--;
		if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
			return 1;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

/* Copy a value into a field of struct ws_handshake: 0 or 431. */
static int
keep(char *dst, size_t dstsz, const char *v, size_t len, const char **reason,
    const char *toolong)
{
	if (len >= dstsz) {
		*reason = toolong;
		return 431;
	}
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

/* Is name (namelen bytes) the field called want? */
static int
name_is(const char *name, size_t namelen, const char *want)
{
	return namelen == strlen(want) &&
	    strncasecmp(name, want, namelen) == 0;
}

/* A field that may appear once: 0, or 400 when it was seen before. */
static int
once(struct hsparse *ps, unsigned bit, const char **reason)
{
	if (ps->seen & bit) {
		*reason = "a header field that must not repeat is repeated";
		return 400;
	}
	ps->seen |= bit;
	return 0;
}

/* One header line: name ":" OWS value OWS (RFC 9112 §5). */
static int
parse_field(struct hsparse *ps, const char *line, size_t len,
    struct ws_handshake *hs, const char **reason)
{
	const char	*colon, *v, *vend;
	size_t		 namelen, vlen, i;
	int		 status;

	if (is_ows(line[0])) {
		*reason = "obsolete line folding is not accepted";
		return 400;
	}
	colon = memchr(line, ':', len);
	if (colon == NULL || colon == line)
		goto malformed;
	namelen = (size_t)(colon - line);
	/* No whitespace between name and colon (RFC 9112 §5.1). */
	for (i = 0; i < namelen; i++)
		if (!is_tchar((unsigned char)line[i]))
			goto malformed;
	v = colon + 1;
	vend = line + len;
	for (i = 0; i < (size_t)(vend - v); i++)
		if (!is_field_byte((unsigned char)v[i]))
			goto malformed;
	while (v < vend && is_ows(*v))
		v++;
	while (vend > v && is_ows(vend[-1]))
		vend--;
	vlen = (size_t)(vend - v);

	if (name_is(line, namelen, "Host")) {
		if ((status = once(ps, SEEN_HOST, reason)) != 0)
			return status;
		return keep(hs->host, sizeof(hs->host), v, vlen, reason,
		    "Host too long");
	}
	if (name_is(line, namelen, "Origin")) {
		if ((status = once(ps, SEEN_ORIGIN, reason)) != 0)
			return status;
		return keep(hs->origin, sizeof(hs->origin), v, vlen, reason,
		    "Origin too long");
	}
	if (name_is(line, namelen, "Authorization")) {
		if ((status = once(ps, SEEN_AUTH, reason)) != 0)
			return status;
		return keep(hs->authorization, sizeof(hs->authorization), v,
		    vlen, reason, "Authorization too long");
	}
	if (name_is(line, namelen, "Cookie")) {
		/* Not a reason to refuse the upgrade: see the header. */
		if (hs->cookie[0] == '\0' && vlen < sizeof(hs->cookie)) {
			memcpy(hs->cookie, v, vlen);
			hs->cookie[vlen] = '\0';
		}
		return 0;
	}
	if (name_is(line, namelen, "X-Forwarded-For")) {
		/* The last hop is the one our own proxy added. */
		for (i = vlen; i > 0 && v[i - 1] != ','; i--)
			;
		while (i < vlen && is_ows(v[i]))
			i++;
		if (vlen - i < sizeof(hs->forwarded_for)) {
			memcpy(hs->forwarded_for, v + i, vlen - i);
			hs->forwarded_for[vlen - i] = '\0';
		}
		return 0;
	}
	if (name_is(line, namelen, "Sec-WebSocket-Key")) {
		if ((status = once(ps, SEEN_KEY, reason)) != 0)
			return status;
		if (vlen != WS_KEY_LEN) {
			*reason = "invalid Sec-WebSocket-Key";
			return 400;
		}
		memcpy(ps->key, v, WS_KEY_LEN);
		return 0;
	}
	if (name_is(line, namelen, "Sec-WebSocket-Version")) {
		if ((status = once(ps, SEEN_VERSION, reason)) != 0)
			return status;
		if (vlen == 2 && memcmp(v, "13", 2) == 0)
			ps->seen |= VERSION_OK;
		return 0;
	}
	if (name_is(line, namelen, "Upgrade")) {
		if (list_has(v, vlen, "websocket"))
			ps->seen |= UPGRADE_OK;
		return 0;
	}
	if (name_is(line, namelen, "Connection")) {
		if (list_has(v, vlen, "upgrade"))
			ps->seen |= CONNECTION_OK;
		return 0;
	}
	return 0;

malformed:
	*reason = "malformed header line";
	return 400;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * RFC 6455 §4.1: the key is base64 (RFC 4648 §4) of 16 random bytes: 22
 * characters, the last carrying 2 bits (its low 4 bits zero), then "==".
 */
static int
key_valid(const char *k)
{
	int	 i;

	for (i = 0; i < WS_KEY_LEN - 2; i++)
		if (b64val((unsigned char)k[i]) == -1)
			return 0;
	if ((b64val((unsigned char)k[WS_KEY_LEN - 3]) & 0x0f) != 0)
		return 0;
	return k[WS_KEY_LEN - 2] == '=' && k[WS_KEY_LEN - 1] == '=';
}

int
ws_handshake_parse(const char *buf, size_t len, struct ws_handshake *hs,
    const char **reason)
{
	struct hsparse	 ps;
	const char	*line, *dummy;
	size_t		 linelen, i;
	int		 status;

	if (reason == NULL)
		reason = &dummy;
	*reason = "";
	memset(hs, 0, sizeof(*hs));
	memset(&ps, 0, sizeof(ps));
	if (len > WS_REQUEST_MAX) {
		*reason = "request head too large";
		return 431;
	}
	if (buf == NULL)
		goto incomplete;
	ps.p = buf;
	ps.end = buf + len;

	/* Skip empty lines before the request line (RFC 9112 §2.2). */
	do {
		if (next_line(&ps, &line, &linelen) == -1)
			goto incomplete;
	} while (linelen == 0);
	for (i = 0; i < linelen; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f) {
			*reason = "malformed request line";
			return 400;
		}
	}
	if ((status = parse_request_line(line, linelen, hs, reason)) != 0)
		return status;

	for (;;) {
		if (next_line(&ps, &line, &linelen) == -1)
			goto incomplete;
		if (linelen == 0)
			break;
		if ((status = parse_field(&ps, line, linelen, hs,
		    reason)) != 0)
			return status;
	}

	if (hs->host[0] == '\0') {
		*reason = "missing Host";
		return 400;
	}
	if (!(ps.seen & UPGRADE_OK)) {
		*reason = "Upgrade: websocket is required";
		return 400;
	}
	if (!(ps.seen & CONNECTION_OK)) {
		*reason = "Connection: Upgrade is required";
		return 400;
	}
	if (!(ps.seen & VERSION_OK)) {
		*reason = "only Sec-WebSocket-Version 13 is supported";
		return 426;
	}
	if (!(ps.seen & SEEN_KEY) || !key_valid(ps.key)) {
		*reason = "missing or invalid Sec-WebSocket-Key";
		return 400;
	}
	ws_accept_key(ps.key, WS_KEY_LEN, hs->accept);
	if (hs->accept[0] == '\0') {
		*reason = "cannot compute Sec-WebSocket-Accept";
		return 500;
	}
	*reason = "";
	return 0;

incomplete:
	*reason = "incomplete request head";
	return 400;
}

void
ws_accept_key(const char *key, size_t keylen, char *out)
{
	EVP_MD_CTX	*md;
	unsigned char	 digest[EVP_MAX_MD_SIZE];
	unsigned int	 dlen = 0;
	int		 ok;

	out[0] = '\0';
	if ((md = EVP_MD_CTX_new()) == NULL)
		return;
	ok = EVP_DigestInit_ex(md, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(md, key, keylen) == 1 &&
	    EVP_DigestUpdate(md, WS_GUID, sizeof(WS_GUID) - 1) == 1 &&
	    EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == 20;
	EVP_MD_CTX_free(md);
	/* 20 bytes are 28 base64 characters; EVP_EncodeBlock adds the NUL. */
	if (ok)
		EVP_EncodeBlock((unsigned char *)out, digest, 20);
}
