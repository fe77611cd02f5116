/*
 * wshandshake.h: the server's side of the WebSocket opening handshake
 * (RFC 6455 §4.2.1, §4.2.2) on an HTTP/1.1 request head (RFC 9112).
 * No sockets: everything takes (buf, len), so tests feed input whole, byte
 * by byte or split anywhere.
 *
 * The caller collects bytes until ws_handshake_complete() says the head is
 * there, refusing with 431 a head that is not complete within
 * WS_REQUEST_MAX bytes, then calls ws_handshake_parse() once. On 0 it
 * answers "101 Switching Protocols" with "Upgrade: websocket",
 * "Connection: Upgrade" and "Sec-WebSocket-Accept: <hs->accept>"; on a
 * status it answers that status with *reason as the body (and with
 * "Sec-WebSocket-Version: 13" when the status is 426, §4.4) and closes.
 *
 * Deliberate strictness: the request-target must be in origin-form
 * ("/path?query"); the key must be the canonical base64 of 16 bytes; the
 * fields that must not repeat (Host, Origin, Authorization,
 * Sec-WebSocket-Key, Sec-WebSocket-Version: RFC 9110 §5.3, RFC 6455
 * §11.3.1, §11.3.5) are refused when they do, even with equal values; a
 * bare CR, a control byte or an obs-fold continuation line (RFC 9112 §5.2)
 * is refused rather than repaired. Two parsers that repair differently
 * disagree about what was asked. Extensions and subprotocols
 * (Sec-WebSocket-Extensions, Sec-WebSocket-Protocol) are not negotiated:
 * the fields are ignored and none is answered.
 */
#ifndef SSEREPLAY_WSHANDSHAKE_H
#define SSEREPLAY_WSHANDSHAKE_H

#include <stddef.h>

#include "bounds.h"

#define WS_REQUEST_MAX	8192	/* bytes of request head we accept */
#define WS_ACCEPT_LEN	28	/* base64 of a SHA-1 */

/* What the caller needs of the request: NUL-terminated copies. */
struct ws_handshake {
	/* The request-target before '?', as sent. */
	char	path[1024];
	/* After '?', "" if none, not decoded. */
	char	query[QUERY_MAX + 1];
	/* The Host header ("" if none). */
	char	host[256];
	/* The Origin header, "" if none. */
	char	origin[ORIGIN_MAX + 1];
	/* The Authorization header, "" if none. */
	char	authorization[TOKEN_MAX + 64];
	/* The Cookie header ("" if none, or if longer than this: the
	 * access token cookie is then not seen, and a private topic is
	 * refused with a reason). */
	char	cookie[4096];
	/* The last address of X-Forwarded-For (set by our proxy), "". */
	char	forwarded_for[64 + 1];
	/* The Sec-WebSocket-Accept to answer with. */
	char	accept[WS_ACCEPT_LEN + 1];
};

/*
 * Length of the request head in buf (through the empty line that ends it,
 * CRLF CRLF; a bare LF also ends a line), or 0 if it is not complete yet.
 * Only the first WS_REQUEST_MAX bytes are looked at: 0 with len >=
 * WS_REQUEST_MAX means the head is too large (431). Empty lines before the
 * request line (RFC 9112 §2.2) do not end it.
 */
size_t ws_handshake_complete(const char *buf, size_t len);

/*
 * Parse and validate a complete head: len bytes, not NUL-terminated,
 * through the empty line (bytes after it are not looked at). Returns 0
 * with *hs filled, or an HTTP status with *reason (may be NULL) pointing
 * at static plain text; *hs is then unspecified.
 *   400  malformed request line or header line, missing or empty Host,
 *        missing or invalid Sec-WebSocket-Key, no "websocket" token in
 *        Upgrade, no "upgrade" token in Connection (both are
 *        comma-separated lists, matched case-insensitively, and may be
 *        split over several lines), a field repeated that must not be,
 *        an obs-fold continuation line, a request-target not in origin-form
 *   405  method not GET (methods are case-sensitive)
 *   414  path longer than 1023 bytes or query longer than QUERY_MAX
 *   426  Sec-WebSocket-Version missing or not 13
 *   431  a kept field value longer than its buffer in struct ws_handshake,
 *        or len > WS_REQUEST_MAX
 *   500  libcrypto failed to compute the accept key
 *   505  not HTTP/1.1 or a later HTTP/1.x
 * Header names are case-insensitive; whitespace around values is trimmed.
 * The request line is judged first (400, 505, 405, 414 in that order),
 * then each header line in order, then Host, Upgrade, Connection, Version
 * and Key.
 */
int ws_handshake_parse(const char *buf, size_t len, struct ws_handshake *hs,
    const char **reason);

/*
 * RFC 6455 §4.2.2: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")),
 * NUL-terminated into out (WS_ACCEPT_LEN + 1 bytes). If libcrypto fails
 * (out of memory), out is the empty string.
 */
void ws_accept_key(const char *key, size_t keylen, char *out);

#endif
