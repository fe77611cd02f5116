/*
 * test_wshandshake.c: backend/wshandshake.c, one named case per rule.
 *
 * Every request is copied into a heap buffer of exactly its length before
 * the call, so a parser that reads one byte past len fails under ASan.
 *
 * Note: RFC 6455 §1.3's example key "dGhlIHNhbXBsZSBub25jZQ==" gives
 * "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (SHA-1 checked with openssl dgst).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "wshandshake.h"

#define RFC_KEY		"dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define RL	"GET /ws?topic=news HTTP/1.1\r\n"
#define HOST	"Host: example.com\r\n"
#define UPG	"Upgrade: websocket\r\n"
#define CONN	"Connection: Upgrade\r\n"
#define KEY	"Sec-WebSocket-Key: " RFC_KEY "\r\n"
#define VER	"Sec-WebSocket-Version: 13\r\n"
#define END	"\r\n"
#define GOOD	RL HOST UPG CONN KEY VER END

/* Parse a heap copy of exactly len bytes. */
static int
parse_copy(const char *req, size_t len, struct ws_handshake *hs,
    const char **reason)
{
	char	*buf;
	int	 rc;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, req, len);
	rc = ws_handshake_parse(buf, len, hs, reason);
	free(buf);
	return rc;
}

static size_t
complete_copy(const char *req, size_t len)
{
	char	*buf;
	size_t	 n;

	buf = malloc(len > 0 ? len : 1);
	assert_non_null(buf);
	memcpy(buf, req, len);
	n = ws_handshake_complete(buf, len);
	free(buf);
	return n;
}

/* ------------------------------------------------------------------ */
/* Table: a literal request and the status it must get.                */

struct hcase {
	const char	*req;
	size_t		 len;
	int		 want;
};

#define CASE(nm, req, want)						\
	{ .name = nm, .test_func = run_case,				\
	  .initial_state = &(struct hcase){ req, sizeof(req) - 1, want } }

static void
run_case(void **state)
{
	const struct hcase	*c = *state;
	struct ws_handshake	*hs;
	const char		*reason = NULL;
	int			 rc;

	hs = malloc(sizeof(*hs));
	assert_non_null(hs);
	rc = parse_copy(c->req, c->len, hs, &reason);
	if (rc != c->want)
		print_error("status %d (%s), want %d\n", rc,
		    reason ? reason : "(null)", c->want);
	assert_int_equal(rc, c->want);
	assert_non_null(reason);
	if (rc == 0)
		assert_string_equal(hs->accept, RFC_ACCEPT);
	else
		assert_true(strlen(reason) > 0);
	free(hs);
}

/* ------------------------------------------------------------------ */
/* Fields kept, accept key, sizes, head completion.                    */

/* RFC 6455 §1.3, the client's handshake as printed there. */
static void
test_rfc_example(void **state)
{
	static const char req[] =
	    "GET /chat HTTP/1.1\r\n"
	    "Host: server.example.com\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Origin: http://example.com\r\n"
	    "Sec-WebSocket-Protocol: chat, superchat\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n";
	struct ws_handshake	 hs;
	const char		*reason = NULL;

	(void)state;
	assert_int_equal(parse_copy(req, sizeof(req) - 1, &hs, &reason), 0);
	assert_string_equal(hs.path, "/chat");
	assert_string_equal(hs.query, "");
	assert_string_equal(hs.host, "server.example.com");
	assert_string_equal(hs.origin, "http://example.com");
	assert_string_equal(hs.authorization, "");
	assert_string_equal(hs.accept, RFC_ACCEPT);
	assert_int_equal(strlen(hs.accept), WS_ACCEPT_LEN);
	assert_int_equal(complete_copy(req, sizeof(req) - 1), sizeof(req) - 1);
}

static void
test_fields_kept(void **state)
{
	static const char req[] =
	    "GET /events/ws?topic=a%2Fb&last=x+y HTTP/1.1\r\n"
	    "hOsT:\t example.org:8080 \t\r\n"
	    "origin:   https://app.example.org\r\n"
	    "AUTHORIZATION: Bearer s3cr3t token\r\n"
	    "X-Unknown: whatever\r\n"
	    "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	    "upgrade: WebSocket\r\n"
	    "CONNECTION: keep-alive, Upgrade\r\n"
	    "sec-websocket-key:  x3JJHMbDL1EzLkh9GBhXDw==  \r\n"
	    "SEC-WEBSOCKET-VERSION: 13\r\n"
	    "\r\n";
	struct ws_handshake	 hs;

	(void)state;
	assert_int_equal(parse_copy(req, sizeof(req) - 1, &hs, NULL), 0);
	assert_string_equal(hs.path, "/events/ws");
	assert_string_equal(hs.query, "topic=a%2Fb&last=x+y");
	assert_string_equal(hs.host, "example.org:8080");
	assert_string_equal(hs.origin, "https://app.example.org");
	assert_string_equal(hs.authorization, "Bearer s3cr3t token");
	assert_string_equal(hs.accept, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

/* "/?" is an empty query, "/" none: both "". */
static void
test_empty_query(void **state)
{
	static const char req[] =
	    "GET /? HTTP/1.1\r\n" HOST UPG CONN KEY VER END;
	struct ws_handshake	 hs;

	(void)state;
	assert_int_equal(parse_copy(req, sizeof(req) - 1, &hs, NULL), 0);
	assert_string_equal(hs.path, "/");
	assert_string_equal(hs.query, "");
}

static void
test_accept_key(void **state)
{
	char	 out[WS_ACCEPT_LEN + 1];

	(void)state;
	ws_accept_key(RFC_KEY, strlen(RFC_KEY), out);
	assert_string_equal(out, RFC_ACCEPT);
	ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
	assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
	/* Only keylen bytes count. */
	ws_accept_key(RFC_KEY "garbage", strlen(RFC_KEY), out);
	assert_string_equal(out, RFC_ACCEPT);
}

/* reason may be NULL; hs is cleared on failure paths too. */
static void
test_reason_null(void **state)
{
	static const char req[] = "POST /ws HTTP/1.1\r\n" HOST END;
	struct ws_handshake	 hs;

	(void)state;
	assert_int_equal(parse_copy(req, sizeof(req) - 1, &hs, NULL), 405);
}

/* Which request field a size case stretches. */
enum sfield { S_HOST, S_ORIGIN, S_AUTH, S_PATH, S_QUERY, S_UNKNOWN };

struct scase {
	enum sfield	 field;
	size_t		 len;
	int		 want;
};

#define SCASE(nm, f, n, want)						\
	{ .name = nm, .test_func = run_size,				\
	  .initial_state = &(struct scase){ f, n, want } }

/* Build a valid request with one field of exactly c->len bytes. */
static void
run_size(void **state)
{
	const struct scase	*c = *state;
	struct ws_handshake	 hs;
	char			*req, *val;
	const char		*path = "/ws", *query = "", *host = "h",
				*origin = "", *auth = "", *unk = "";
	int			 n, rc;
	size_t			 cap = c->len + 1024;

	val = malloc(c->len + 1);
	req = malloc(cap);
	assert_non_null(val);
	assert_non_null(req);
	memset(val, 'a', c->len);
	val[c->len] = '\0';
	switch (c->field) {
	case S_HOST:	host = val; break;
	case S_ORIGIN:	origin = val; break;
	case S_AUTH:	auth = val; break;
	case S_PATH:	val[0] = '/'; path = val; break;
	case S_QUERY:	query = val; break;
	case S_UNKNOWN:	unk = val; break;
	}
	n = snprintf(req, cap,
	    "GET %s%s%s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "%s%s%s"
	    "%s%s%s"
	    "X-Filler: %s\r\n"
	    UPG CONN KEY VER END,
	    path, *query ? "?" : "", query, host,
	    *origin ? "Origin: " : "", origin, *origin ? "\r\n" : "",
	    *auth ? "Authorization: " : "", auth, *auth ? "\r\n" : "",
	    unk);
	assert_true(n > 0 && (size_t)n < cap);
	rc = parse_copy(req, (size_t)n, &hs, NULL);
	assert_int_equal(rc, c->want);
	if (rc == 0) {
		switch (c->field) {
		case S_HOST:	assert_string_equal(hs.host, val); break;
		case S_ORIGIN:	assert_string_equal(hs.origin, val); break;
		case S_AUTH:	assert_string_equal(hs.authorization, val);
				break;
		case S_PATH:	assert_string_equal(hs.path, val); break;
		case S_QUERY:	assert_string_equal(hs.query, val); break;
		case S_UNKNOWN:	break;
		}
	}
	free(val);
	free(req);
}

/* Every split of a request: 0 until the last byte, then its length. */
static void
test_complete_split(void **state)
{
	static const char req[] = GOOD;
	size_t	 i, len = sizeof(req) - 1;

	(void)state;
	for (i = 0; i < len; i++)
		assert_int_equal(complete_copy(req, i), 0);
	assert_int_equal(complete_copy(req, len), len);
}

/* Bytes after the empty line (a pipelined frame) are not the head. */
static void
test_complete_trailing(void **state)
{
	static const char req[] = GOOD "\x81\x85" "abcdefghi";
	static const char head[] = GOOD;

	(void)state;
	assert_int_equal(complete_copy(req, sizeof(req) - 1),
	    sizeof(head) - 1);
}

static void
test_complete_bare_lf(void **state)
{
	static const char lf[] = "GET / HTTP/1.1\nHost: a\n\nrest";
	static const char mix1[] = "GET / HTTP/1.1\r\nHost: a\n\r\nrest";
	static const char mix2[] = "GET / HTTP/1.1\r\nHost: a\r\n\nrest";

	(void)state;
	assert_int_equal(complete_copy(lf, sizeof(lf) - 1),
	    sizeof(lf) - 1 - 4);
	assert_int_equal(complete_copy(mix1, sizeof(mix1) - 1),
	    sizeof(mix1) - 1 - 4);
	assert_int_equal(complete_copy(mix2, sizeof(mix2) - 1),
	    sizeof(mix2) - 1 - 4);
}

/* Empty lines before the request line do not end the head. */
static void
test_complete_leading_empty(void **state)
{
	static const char req[] = "\r\n\n" GOOD;

	(void)state;
	assert_int_equal(complete_copy("\r\n", 2), 0);
	assert_int_equal(complete_copy("\r\n\r\n", 4), 0);
	assert_int_equal(complete_copy("\n\n", 2), 0);
	assert_int_equal(complete_copy(req, sizeof(req) - 1),
	    sizeof(req) - 1);
	assert_int_equal(ws_handshake_complete(NULL, 0), 0);
	assert_int_equal(complete_copy("", 0), 0);
}

/* Only WS_REQUEST_MAX bytes are looked at; parse refuses longer. */
static void
test_complete_too_large(void **state)
{
	struct ws_handshake	*hs;
	char	*buf;
	size_t	 len = WS_REQUEST_MAX + 64, head;

	(void)state;
	buf = malloc(len);
	assert_non_null(buf);
	memset(buf, 'a', len);
	memcpy(buf, RL, sizeof(RL) - 1);
	assert_int_equal(ws_handshake_complete(buf, len), 0);
	/* An end just past the limit is not seen either. */
	memcpy(buf + WS_REQUEST_MAX - 2, "\r\n\r\n", 4);
	assert_int_equal(ws_handshake_complete(buf, len), 0);
	/* ...and one right at it is. */
	memcpy(buf + WS_REQUEST_MAX - 4, "\r\n\r\n", 4);
	head = ws_handshake_complete(buf, len);
	assert_int_equal(head, WS_REQUEST_MAX);
	hs = malloc(sizeof(*hs));
	assert_non_null(hs);
	assert_int_equal(ws_handshake_parse(buf, WS_REQUEST_MAX + 1, hs,
	    NULL), 431);
	free(hs);
	free(buf);
}

/* A request head of exactly WS_REQUEST_MAX bytes is fine. */
static void
test_parse_at_limit(void **state)
{
	struct ws_handshake	 hs;
	char			*buf;
	size_t			 fixed, fill;
	int			 n;

	(void)state;
	fixed = sizeof(RL HOST UPG CONN KEY VER "X-Fill: \r\n" END) - 1;
	fill = WS_REQUEST_MAX - fixed;
	buf = malloc(WS_REQUEST_MAX + 1);
	assert_non_null(buf);
	n = snprintf(buf, WS_REQUEST_MAX + 1,
	    RL HOST UPG CONN KEY VER "X-Fill: %*s\r\n" END, (int)fill, "z");
	assert_int_equal(n, WS_REQUEST_MAX);
	assert_int_equal(ws_handshake_complete(buf, (size_t)n),
	    WS_REQUEST_MAX);
	assert_int_equal(parse_copy(buf, (size_t)n, &hs, NULL), 0);
	free(buf);
}

_Static_assert(ORIGIN_MAX == 256, "the Origin size cases assume 256");
_Static_assert(TOKEN_MAX == 256, "the Authorization size cases assume 256");
_Static_assert(QUERY_MAX == 4096, "the query size cases assume 4096");

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_rfc_example),
	cmocka_unit_test(test_fields_kept),
	cmocka_unit_test(test_empty_query),
	cmocka_unit_test(test_accept_key),
	cmocka_unit_test(test_reason_null),
	cmocka_unit_test(test_complete_split),
	cmocka_unit_test(test_complete_trailing),
	cmocka_unit_test(test_complete_bare_lf),
	cmocka_unit_test(test_complete_leading_empty),
	cmocka_unit_test(test_complete_too_large),
	cmocka_unit_test(test_parse_at_limit),

	/* Accepted forms. */
	CASE("valid: the usual request", GOOD, 0),
	CASE("valid: bare LF line ends", "GET /ws HTTP/1.1\nHost: h\n"
	    "Upgrade: websocket\nConnection: Upgrade\n"
	    "Sec-WebSocket-Key: " RFC_KEY "\nSec-WebSocket-Version: 13\n\n",
	    0),
	CASE("valid: CRLF and LF mixed", RL "Host: h\n" UPG
	    "Connection: Upgrade\n" KEY VER "\n", 0),
	CASE("valid: an empty line before the request line",
	    "\r\n" GOOD, 0),
	CASE("valid: header names in any case", RL "HOST: h\r\n"
	    "uPgRaDe: websocket\r\nconnection: Upgrade\r\n"
	    "SEC-WEBSOCKET-KEY: " RFC_KEY "\r\n"
	    "sec-websocket-version: 13\r\n" END, 0),
	CASE("valid: Upgrade value in any case", RL HOST
	    "Upgrade: WebSocket\r\n" CONN KEY VER END, 0),
	CASE("valid: Connection value in any case", RL HOST UPG
	    "Connection: UPGRADE\r\n" KEY VER END, 0),
	CASE("valid: Connection: keep-alive, Upgrade (Firefox)", RL HOST UPG
	    "Connection: keep-alive, Upgrade\r\n" KEY VER END, 0),
	CASE("valid: Connection list with spaces and empty elements", RL HOST
	    UPG "Connection: ,keep-alive ,\t upgrade\t,,\r\n" KEY VER END, 0),
	CASE("valid: Connection split over two lines", RL HOST UPG
	    "Connection: keep-alive\r\nConnection: Upgrade\r\n" KEY VER END,
	    0),
	CASE("valid: Upgrade list", RL HOST "Upgrade: h2c, websocket\r\n"
	    CONN KEY VER END, 0),
	CASE("valid: Upgrade split over two lines", RL HOST
	    "Upgrade: h2c\r\nUpgrade: websocket\r\n" CONN KEY VER END, 0),
	CASE("valid: whitespace around values", RL "Host:  \t h \t\r\n"
	    "Upgrade:websocket\r\nConnection:\tUpgrade \r\n"
	    "Sec-WebSocket-Key:   " RFC_KEY "\t\r\n"
	    "Sec-WebSocket-Version:  13  \r\n" END, 0),
	CASE("valid: fields in another order", RL KEY VER CONN UPG HOST END,
	    0),
	CASE("valid: HTTP/1.2 (a later 1.x)", "GET / HTTP/1.2\r\n" HOST UPG
	    CONN KEY VER END, 0),
	CASE("valid: empty unknown field", RL HOST "X-Empty:\r\n" UPG CONN
	    KEY VER END, 0),
	CASE("valid: obs-text in an unknown field", RL HOST
	    "X-Name: caf\xc3\xa9\r\n" UPG CONN KEY VER END, 0),

	/* 400: the request line. */
	CASE("400: empty head", "\r\n", 400),
	CASE("400: no empty line at the end", RL HOST UPG CONN KEY VER, 400),
	CASE("400: no LF at all", "GET / HTTP/1.1", 400),
	CASE("400: two spaces in the request line",
	    "GET  /ws HTTP/1.1\r\n" HOST UPG CONN KEY VER END, 400),
	CASE("400: tab as separator", "GET\t/ws HTTP/1.1\r\n" HOST UPG CONN
	    KEY VER END, 400),
	CASE("400: no version", "GET /ws\r\n" HOST UPG CONN KEY VER END, 400),
	CASE("400: space after the version", "GET /ws HTTP/1.1 \r\n" HOST UPG
	    CONN KEY VER END, 400),
	CASE("400: lowercase http", "GET /ws http/1.1\r\n" HOST UPG CONN KEY
	    VER END, 400),
	CASE("400: version without a dot", "GET /ws HTTP/11\r\n" HOST UPG
	    CONN KEY VER END, 400),
	CASE("400: method with a non-token byte", "G(T /ws HTTP/1.1\r\n" HOST
	    UPG CONN KEY VER END, 400),
	CASE("400: leading space", " GET /ws HTTP/1.1\r\n" HOST UPG CONN KEY
	    VER END, 400),
	CASE("400: bare CR in the request line", "GET /ws\rx HTTP/1.1\r\n"
	    HOST UPG CONN KEY VER END, 400),
	CASE("400: NUL in the request line", "GET /w\0s HTTP/1.1\r\n" HOST
	    UPG CONN KEY VER END, 400),
	CASE("400: asterisk-form target", "GET * HTTP/1.1\r\n" HOST UPG CONN
	    KEY VER END, 400),
	CASE("400: absolute-form target", "GET http://h/ws HTTP/1.1\r\n" HOST
	    UPG CONN KEY VER END, 400),
	CASE("400: fragment in the target", "GET /ws#x HTTP/1.1\r\n" HOST UPG
	    CONN KEY VER END, 400),
	CASE("400: non-ASCII byte in the target", "GET /caf\xc3\xa9 HTTP/1.1\r\n"
	    HOST UPG CONN KEY VER END, 400),
	CASE("400: DEL in the target", "GET /ws\x7f HTTP/1.1\r\n" HOST UPG
	    CONN KEY VER END, 400),

	/* 505, 405. */
	CASE("505: HTTP/1.0", "GET /ws HTTP/1.0\r\n" HOST UPG CONN KEY VER
	    END, 505),
	CASE("505: HTTP/2.0", "GET /ws HTTP/2.0\r\n" HOST UPG CONN KEY VER
	    END, 505),
	CASE("505: HTTP/0.9", "GET /ws HTTP/0.9\r\n" HOST UPG CONN KEY VER
	    END, 505),
	CASE("405: POST", "POST /ws HTTP/1.1\r\n" HOST UPG CONN KEY VER END,
	    405),
	CASE("405: lowercase get (methods are case-sensitive)",
	    "get /ws HTTP/1.1\r\n" HOST UPG CONN KEY VER END, 405),
	CASE("405: HEAD", "HEAD /ws HTTP/1.1\r\n" HOST UPG CONN KEY VER END,
	    405),

	/* 400: header lines. */
	CASE("400: obs-fold continuation line", RL HOST "X-A: one\r\n"
	    "  two\r\n" UPG CONN KEY VER END, 400),
	CASE("400: obs-fold with a tab", RL HOST UPG "Connection: keep-alive,"
	    "\r\n\tUpgrade\r\n" KEY VER END, 400),
	CASE("400: fold as the first header line", RL " Host: h\r\n" UPG CONN
	    KEY VER END, 400),
	CASE("400: header line without a colon", RL HOST "Bogus\r\n" UPG CONN
	    KEY VER END, 400),
	CASE("400: space before the colon", RL "Host : h\r\n" UPG CONN KEY
	    VER END, 400),
	CASE("400: empty field name", RL HOST ": x\r\n" UPG CONN KEY VER END,
	    400),
	CASE("400: bare CR in a value", RL "Host: a\rb\r\n" UPG CONN KEY VER
	    END, 400),
	CASE("400: NUL in a value", RL "Host: a\0b\r\n" UPG CONN KEY VER END,
	    400),
	CASE("400: DEL in a value", RL "Host: a\x7f\r\n" UPG CONN KEY VER
	    END, 400),
	CASE("400: control byte in an unknown field", RL HOST
	    "X-A: a\x01\r\n" UPG CONN KEY VER END, 400),

	/* 400: required fields. */
	CASE("400: missing Host", RL UPG CONN KEY VER END, 400),
	CASE("400: empty Host", RL "Host:  \r\n" UPG CONN KEY VER END, 400),
	CASE("400: Host twice", RL HOST HOST UPG CONN KEY VER END, 400),
	CASE("400: Host twice, other case", RL HOST "host: other\r\n" UPG CONN
	    KEY VER END, 400),
	CASE("400: Origin twice", RL HOST "Origin: http://a\r\n"
	    "Origin: http://a\r\n" UPG CONN KEY VER END, 400),
	CASE("400: Authorization twice", RL HOST "Authorization: a\r\n"
	    "Authorization: b\r\n" UPG CONN KEY VER END, 400),
	CASE("400: Sec-WebSocket-Key twice", RL HOST UPG CONN KEY KEY VER END,
	    400),
	CASE("400: Sec-WebSocket-Version twice", RL HOST UPG CONN KEY VER VER
	    END, 400),
	CASE("400: missing Upgrade", RL HOST CONN KEY VER END, 400),
	CASE("400: Upgrade without websocket", RL HOST "Upgrade: h2c\r\n"
	    CONN KEY VER END, 400),
	CASE("400: Upgrade: websockets", RL HOST "Upgrade: websockets\r\n"
	    CONN KEY VER END, 400),
	CASE("400: Upgrade: websocket/13", RL HOST "Upgrade: websocket/13\r\n"
	    CONN KEY VER END, 400),
	CASE("400: missing Connection", RL HOST UPG KEY VER END, 400),
	CASE("400: Connection: keep-alive", RL HOST UPG
	    "Connection: keep-alive\r\n" KEY VER END, 400),
	CASE("400: Connection: Upgrades", RL HOST UPG
	    "Connection: Upgrades\r\n" KEY VER END, 400),
	CASE("400: Connection: keep-alive Upgrade (no comma)", RL HOST UPG
	    "Connection: keep-alive Upgrade\r\n" KEY VER END, 400),

	/* 400: the key. */
	CASE("400: missing Sec-WebSocket-Key", RL HOST UPG CONN VER END, 400),
	CASE("400: empty key", RL HOST UPG CONN "Sec-WebSocket-Key:\r\n" VER
	    END, 400),
	CASE("400: key of 23 characters", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n" VER END, 400),
	CASE("400: key of 25 characters", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ===\r\n" VER END, 400),
	CASE("400: key of 24 characters, no padding (18 bytes)", RL HOST UPG
	    CONN "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQab\r\n" VER END,
	    400),
	CASE("400: key of 15 bytes", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n" VER END, 400),
	CASE("400: key with a non-base64 byte", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j!Q==\r\n" VER END, 400),
	CASE("400: key with '=' inside", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBs=SBub25jZQ==\r\n" VER END, 400),
	CASE("400: key not in canonical form", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n" VER END, 400),
	CASE("400: key with a space inside", RL HOST UPG CONN
	    "Sec-WebSocket-Key: dGhlIHNhbXBs ZSBub25jZQ=\r\n" VER END, 400),

	/* 426: the version. */
	CASE("426: missing Sec-WebSocket-Version", RL HOST UPG CONN KEY END,
	    426),
	CASE("426: version 8", RL HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 8\r\n" END, 426),
	CASE("426: version list", RL HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 13, 8\r\n" END, 426),
	CASE("426: version 013", RL HOST UPG CONN KEY
	    "Sec-WebSocket-Version: 013\r\n" END, 426),
	CASE("426: empty version", RL HOST UPG CONN KEY
	    "Sec-WebSocket-Version:\r\n" END, 426),

	/* Order: the first thing judged wins. */
	CASE("order: 505 before 405", "POST /ws HTTP/1.0\r\n" HOST END, 505),
	CASE("order: 405 before bad headers", "POST /ws HTTP/1.1\r\n"
	    "Bogus\r\n" END, 405),
	CASE("order: Upgrade (400) before version (426)", RL HOST CONN KEY
	    END, 400),
	CASE("order: version (426) before key (400)", RL HOST UPG CONN END,
	    426),

	/* Sizes: each kept field at its limit and one past it. */
	SCASE("size: Host of 255 bytes", S_HOST, 255, 0),
	SCASE("size: Host of 256 bytes -> 431", S_HOST, 256, 431),
	SCASE("size: Origin of ORIGIN_MAX bytes", S_ORIGIN, ORIGIN_MAX, 0),
	SCASE("size: Origin of ORIGIN_MAX + 1 bytes -> 431", S_ORIGIN,
	    ORIGIN_MAX + 1, 431),
	SCASE("size: Authorization of TOKEN_MAX + 63 bytes", S_AUTH,
	    TOKEN_MAX + 63, 0),
	SCASE("size: Authorization of TOKEN_MAX + 64 bytes -> 431", S_AUTH,
	    TOKEN_MAX + 64, 431),
	SCASE("size: path of 1023 bytes", S_PATH, 1023, 0),
	SCASE("size: path of 1024 bytes -> 414", S_PATH, 1024, 414),
	SCASE("size: query of QUERY_MAX bytes", S_QUERY, QUERY_MAX, 0),
	SCASE("size: query of QUERY_MAX + 1 bytes -> 414", S_QUERY,
	    QUERY_MAX + 1, 414),
	SCASE("size: a 4 KiB unknown field is fine", S_UNKNOWN, 4096, 0),
	SCASE("size: a head over WS_REQUEST_MAX -> 431", S_UNKNOWN,
	    WS_REQUEST_MAX, 431),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
