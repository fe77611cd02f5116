/*
 * test_httpclient.c: backend/httpclient.c, one named case per rule:
 * response heads (status line, framing per RFC 9112 §6.3, bounds,
 * malformed lines) and bodies (chunked with extensions and trailers,
 * Content-Length, until close). Every case is fed whole, one byte at a
 * time, and split in two at every point.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpclient.h"

/* ---- heads ---- */

struct hcase {
	const char	*name;
	const char	*in;
	int		 rc;		/* final httpc_head_feed() result */
	int		 status;
	enum httpc_framing framing;
	const char	*ctype;
	const char	*rest;		/* bytes left for the body */
};

static const struct hcase heads[] = {
	{ "chunked_sse", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream"
	  "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", HTTPC_DONE, 200,
	  HTTPC_CHUNKED, "text/event-stream", "5\r\n" },
	{ "content_length", "HTTP/1.1 201 Created\r\nContent-Length: 12\r\n"
	  "\r\n{\"id\":\"1\"}", HTTPC_DONE, 201, HTTPC_LENGTH, "",
	  "{\"id\":\"1\"}" },
	{ "until_close", "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n",
	  HTTPC_DONE, 200, HTTPC_EOF, "text/plain", "" },
	{ "bare_lf", "HTTP/1.1 200 OK\nContent-Type:  a/b  \n\nxy",
	  HTTPC_DONE, 200, HTTPC_EOF, "a/b", "xy" },
	{ "no_reason", "HTTP/1.1 204\r\n\r\n", HTTPC_DONE, 204, HTTPC_LENGTH,
	  "", "" },
	{ "header_case", "HTTP/1.1 200 OK\r\ncOnTeNt-TyPe: x/y\r\n"
	  "TRANSFER-ENCODING: gzip, Chunked\r\n\r\n", HTTPC_DONE, 200,
	  HTTPC_CHUNKED, "x/y", "" },
	{ "te_not_chunked_reads_to_close", "HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n", HTTPC_DONE,
	  200, HTTPC_EOF, "", "" },
	{ "not_yet", "HTTP/1.1 200 OK\r\nContent-Type: x\r\n", HTTPC_MORE, 0,
	  HTTPC_EOF, "", "" },
	{ "bad_version", "HTTP/2 200 OK\r\n\r\n", HTTPC_EBADSTATUS, 0,
	  HTTPC_EOF, "", "" },
	{ "bad_status", "HTTP/1.1 2x0 OK\r\n\r\n", HTTPC_EBADSTATUS, 0,
	  HTTPC_EOF, "", "" },
	{ "not_http", "SSH-2.0-OpenSSH\r\n\r\n", HTTPC_EBADSTATUS, 0,
	  HTTPC_EOF, "", "" },
	{ "header_without_colon", "HTTP/1.1 200 OK\r\nBroken\r\n\r\n",
	  HTTPC_EBADHEADER, 0, HTTPC_EOF, "", "" },
	{ "obs_fold_refused", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
	  HTTPC_EBADHEADER, 0, HTTPC_EOF, "", "" },
	{ "space_in_name", "HTTP/1.1 200 OK\r\nA b: c\r\n\r\n",
	  HTTPC_EBADHEADER, 0, HTTPC_EOF, "", "" },
	{ "bad_length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	  HTTPC_EBADHEADER, 0, HTTPC_EOF, "", "" },
	{ "conflicting_lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	  "Content-Length: 2\r\n\r\n", HTTPC_EBADHEADER, 0, HTTPC_EOF, "",
	  "" },
};

static void
head_run(const struct hcase *tc, size_t split, int bytewise)
{
	struct httpc_head	*h = malloc(sizeof(*h));
	size_t			 len = strlen(tc->in), used, off = 0;
	int			 rc = HTTPC_MORE;

	assert_non_null(h);
	httpc_head_init(h);
	if (bytewise) {
		for (off = 0; off < len && rc == HTTPC_MORE; off++)
			rc = httpc_head_feed(h, tc->in + off, 1, &used);
	} else {
		rc = httpc_head_feed(h, tc->in, split, &used);
		off = used;
		if (rc == HTTPC_MORE) {
			rc = httpc_head_feed(h, tc->in + split, len - split,
			    &used);
			off = split + used;
		}
	}
	if (rc != tc->rc)
		fail_msg("%s (split %zu%s): rc %d, want %d", tc->name, split,
		    bytewise ? " bytewise" : "", rc, tc->rc);
	if (rc == HTTPC_DONE) {
		assert_int_equal(h->status, tc->status);
		assert_int_equal(h->framing, tc->framing);
		assert_string_equal(h->content_type, tc->ctype);
		assert_string_equal(tc->in + off, tc->rest);
	}
	free(h);
}

static void
test_heads(void **state)
{
	size_t	 i, s;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		for (s = 0; s <= strlen(heads[i].in); s++)
			head_run(&heads[i], s, 0);
		head_run(&heads[i], 0, 1);
	}
}

static void
test_head_too_big(void **state)
{
	struct httpc_head	*h = malloc(sizeof(*h));
	char			 line[1024];
	size_t			 used;
	int			 i, rc = HTTPC_MORE;

	(void)state;
	assert_non_null(h);
	httpc_head_init(h);
	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	rc = httpc_head_feed(h, "HTTP/1.1 200 OK\r\n", 17, &used);
	for (i = 0; i < 40 && rc == HTTPC_MORE; i++)
		rc = httpc_head_feed(h, line, sizeof(line), &used);
	assert_int_equal(rc, HTTPC_ETOOBIG);
	free(h);
}

static void
test_head_get(void **state)
{
	struct httpc_head	*h = malloc(sizeof(*h));
	const char		*in = "HTTP/1.1 200 OK\r\nX-Accel-Buffering:  no "
	    "\r\nConnection: close\r\n\r\n";
	char			 v[16];
	size_t			 used;

	(void)state;
	assert_non_null(h);
	httpc_head_init(h);
	assert_int_equal(httpc_head_feed(h, in, strlen(in), &used),
	    HTTPC_DONE);
	assert_int_equal(httpc_head_get(h, "x-accel-buffering", v, sizeof(v)),
	    1);
	assert_string_equal(v, "no");
	assert_int_equal(httpc_head_get(h, "Via", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	assert_int_equal(h->conn_close, 1);
	free(h);
}

/* ---- bodies ---- */

struct bcase {
	const char	*name;
	const char	*head;
	const char	*in;
	int		 rc;		/* last httpc_body_decode() result */
	const char	*out;		/* decoded bytes */
};

#define CHUNKED	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

static const struct bcase bodies[] = {
	{ "chunks", CHUNKED, "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
	  HTTPC_DONE, "hello world" },
	{ "chunk_hex_upper_lower", CHUNKED, "A\r\n0123456789\r\na\r\n"
	  "abcdefghij\r\n", HTTPC_MORE, "0123456789abcdefghij" },
	{ "chunk_extension", CHUNKED, "3;name=val\r\nabc\r\n0\r\n\r\n",
	  HTTPC_DONE, "abc" },
	{ "trailers", CHUNKED, "2\r\nok\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n",
	  HTTPC_DONE, "ok" },
	{ "bare_lf_chunks", CHUNKED, "2\nok\n0\n\n", HTTPC_DONE, "ok" },
	{ "crlf_inside_data", CHUNKED, "4\r\n\r\n\r\n\r\n", HTTPC_MORE,
	  "\r\n\r\n" },
	{ "bytes_after_end_ignored", CHUNKED, "1\r\nx\r\n0\r\n\r\nGARBAGE",
	  HTTPC_DONE, "x" },
	{ "no_size_digits", CHUNKED, "\r\nab\r\n", HTTPC_EBADCHUNK, "" },
	{ "bad_size", CHUNKED, "z\r\n", HTTPC_EBADCHUNK, "" },
	{ "missing_crlf_after_data", CHUNKED, "2\r\nokX", HTTPC_EBADCHUNK,
	  "ok" },
	{ "size_too_long", CHUNKED, "1000000000000000\r\n", HTTPC_ETOOBIG,
	  "" },
	{ "content_length", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n",
	  "abcdef", HTTPC_DONE, "abcd" },
	{ "until_close", "HTTP/1.1 200 OK\r\n\r\n", "anything\r\n0\r\n\r\n",
	  HTTPC_MORE, "anything\r\n0\r\n\r\n" },
};

/* Decode in pieces; the decoded bytes are appended to out. */
static int
body_piece(struct httpc_body *b, const char *in, size_t n, char *out,
    size_t *outn)
{
	char	 buf[256];
	size_t	 got;
	int	 rc;

	assert_true(n <= sizeof(buf));
	memcpy(buf, in, n);
	rc = httpc_body_decode(b, buf, n, &got);
	if (rc >= 0) {
		memcpy(out + *outn, buf, got);
		*outn += got;
	}
	return rc;
}

static void
body_run(const struct bcase *tc, size_t split, int bytewise)
{
	struct httpc_head	*h = malloc(sizeof(*h));
	struct httpc_body	 b;
	char			 out[256];
	size_t			 used, outn = 0, len = strlen(tc->in), i;
	int			 rc = HTTPC_MORE;

	assert_non_null(h);
	httpc_head_init(h);
	assert_int_equal(httpc_head_feed(h, tc->head, strlen(tc->head),
	    &used), HTTPC_DONE);
	httpc_body_init(&b, h);
	if (bytewise) {
		for (i = 0; i < len && rc >= 0; i++)
			rc = body_piece(&b, tc->in + i, 1, out, &outn);
	} else {
		rc = body_piece(&b, tc->in, split, out, &outn);
		if (rc >= 0)
			rc = body_piece(&b, tc->in + split, len - split, out,
			    &outn);
	}
	out[outn] = '\0';
	if (rc != tc->rc || (rc >= 0 && strcmp(out, tc->out) != 0))
		fail_msg("%s (split %zu%s): rc %d out \"%s\", want %d \"%s\"",
		    tc->name, split, bytewise ? " bytewise" : "", rc, out,
		    tc->rc, tc->out);
	free(h);
}

static void
test_bodies(void **state)
{
	size_t	 i, s;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (s = 0; s <= strlen(bodies[i].in); s++)
			body_run(&bodies[i], s, 0);
		body_run(&bodies[i], 0, 1);
	}
}

static void
test_extension_too_long(void **state)
{
	struct httpc_head	*h = malloc(sizeof(*h));
	struct httpc_body	 b;
	char			 buf[HTTPC_LINE_MAX + 16];
	size_t			 used, out;

	(void)state;
	assert_non_null(h);
	httpc_head_init(h);
	assert_int_equal(httpc_head_feed(h, CHUNKED, strlen(CHUNKED), &used),
	    HTTPC_DONE);
	httpc_body_init(&b, h);
	memset(buf, 'e', sizeof(buf));
	memcpy(buf, "1;", 2);
	assert_int_equal(httpc_body_decode(&b, buf, sizeof(buf), &out),
	    HTTPC_ETOOBIG);
	free(h);
}

/* ---- requests ---- */

static void
test_request(void **state)
{
	char		 out[512];
	const char	*hdrs[] = { "Last-Event-ID: 7e45f74b-3", NULL };
	const char	*bad[] = { "X: a\r\nInjected: 1", NULL };
	ssize_t		 n;

	(void)state;
	n = httpc_request(out, sizeof(out), "GET", "h:80", "/events?topic=a",
	    hdrs, NULL, 0);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "GET /events?topic=a HTTP/1.1\r\nHost: h:80"
	    "\r\nLast-Event-ID: 7e45f74b-3\r\n\r\n");
	n = httpc_request(out, sizeof(out), "POST", "h", "/p", NULL, "ab", 2);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "POST /p HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 2\r\n\r\nab");
	assert_int_equal(httpc_request(out, sizeof(out), "GET", "h", "/",
	    bad, NULL, 0), -1);
	assert_int_equal(httpc_request(out, sizeof(out), "GET", "h",
	    "/\r\nX: 1", NULL, NULL, 0), -1);
	assert_int_equal(httpc_request(out, 20, "GET", "h", "/long/path",
	    hdrs, NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_head_too_big),
		cmocka_unit_test(test_head_get),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_extension_too_long),
		cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
