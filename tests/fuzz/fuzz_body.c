/*
 * fuzz_body.c: backend/body.c, the body of POST /publish.
 *
 * Input: byte 0 picks the Content-Type (its low 2 bits: form, JSON, and
 * each again with parameters and other letter case) and max_data (its
 * high 6 bits: 0..63 bytes, so 413 is easy to reach); the rest is the
 * body, in a heap buffer of exactly its size.
 *
 * Checked (body.h):
 *   - the result is 0 or one of 400, 413 (never 415 for these types, never
 *     500 without memory trouble), with a reason on error and nothing left
 *     to free;
 *   - on success the topic passes valid_topic(), the event is "" or passes
 *     valid_event_name() and is not "message", and the data is
 *     NUL-terminated, valid UTF-8 and at most max_data bytes;
 *   - what was parsed, written again as a form body and as a JSON body
 *     (fields in an order taken from the input), parses to the same
 *     request;
 *   - other Content-Types are 415.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "fuzz.h"
#include "valid.h"

static const char *const ctypes[4] = {
	"application/x-www-form-urlencoded",
	"application/json",
	"Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
	"application/JSON;charset=utf-8",
};

static int
is_json(unsigned t)
{
	return t == 1 || t == 3;
}

/* Percent-encode (s, n) at out; returns the bytes written (<= 3n). */
static size_t
form_enc(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
			out[o++] = (char)c;
		else if (c == ' ')
			out[o++] = '+';
		else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

/* A JSON string for valid UTF-8 (s, n) at out (<= 6n + 2 bytes). */
static size_t
json_enc(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 i, o = 0;
	unsigned char	 c;

	out[o++] = '"';
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)sprintf(out + o, "\\u00%c%c", hex[c >> 4],
			    hex[c & 15]);
		} else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	return o;
}

/*
 * Write req as a body of the given kind, fields in the order the bits of
 * order say, parse it and check the result is req again.
 */
static void
round_trip(const struct publish_req *req, int json, unsigned order,
    size_t max_data)
{
	struct publish_req	 again;
	const char		*names[3] = { "topic", "event", "data" };
	const char		*vals[3];
	size_t			 lens[3], cap, o = 0;
	const char		*reason = NULL;
	char			*buf, *exact;
	int			 idx[3] = { 0, 1, 2 }, t, i, k, first = 1, rc;

	vals[0] = req->topic;
	lens[0] = strlen(req->topic);
	vals[1] = req->event;
	lens[1] = strlen(req->event);
	vals[2] = req->data;
	lens[2] = req->data_len;
	/* One of the six orders. */
	for (i = 2; i > 0; i--) {
		k = (int)(order % (unsigned)(i + 1));
		order /= (unsigned)(i + 1);
		t = idx[i];
		idx[i] = idx[k];
		idx[k] = t;
	}
	cap = 6 * (lens[0] + lens[1] + lens[2]) + 64;
	buf = fuzz_alloc(cap);
	if (json)
		buf[o++] = '{';
	for (i = 0; i < 3; i++) {
		k = idx[i];
		/* An empty event is the default: leave it out. */
		if (k == 1 && lens[1] == 0)
			continue;
		if (!first)
			buf[o++] = json ? ',' : '&';
		first = 0;
		if (json) {
			o += json_enc(names[k], strlen(names[k]), buf + o);
			buf[o++] = ':';
			o += json_enc(vals[k], lens[k], buf + o);
		} else {
			o += (size_t)sprintf(buf + o, "%s=", names[k]);
			o += form_enc(vals[k], lens[k], buf + o);
		}
	}
	if (json)
		buf[o++] = '}';
	FUZZ_CHECK(o <= cap);
	exact = fuzz_memdup(buf, o);
	rc = body_parse_publish(json ? ctypes[1] : ctypes[0], exact, o,
	    max_data, &again, &reason);
	if (rc != 0)
		fprintf(stderr, "round trip refused: %d %s\n", rc, reason);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(strcmp(again.topic, req->topic) == 0);
	FUZZ_CHECK(strcmp(again.event, req->event) == 0);
	FUZZ_CHECK(again.data_len == req->data_len &&
	    memcmp(again.data, req->data, req->data_len) == 0);
	body_free(&again);
	free(exact);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in;
	struct publish_req	 req;
	const char		*reason = NULL;
	char			*body;
	unsigned		 b0, type;
	size_t			 max_data, len, tlen, elen;
	int			 rc;

	fuzz_in_init(&in, data, size);
	b0 = fuzz_byte(&in);
	type = b0 & 3;
	max_data = b0 >> 2;
	len = in.left;
	body = fuzz_memdup(in.p, len);

	memset(&req, 0x5a, sizeof(req));
	rc = body_parse_publish(ctypes[type], body, len, max_data, &req,
	    &reason);
	if (rc != 0) {
		FUZZ_CHECK(rc == 400 || rc == 413);
		FUZZ_CHECK(reason != NULL && reason[0] != '\0');
		FUZZ_CHECK(req.data == NULL && req.data_len == 0);
	} else {
		FUZZ_CHECK(reason == NULL);
		FUZZ_CHECK(fuzz_terminated(req.topic, sizeof(req.topic)));
		tlen = strlen(req.topic);
		FUZZ_CHECK(valid_topic(req.topic, tlen));
		FUZZ_CHECK(fuzz_terminated(req.event, sizeof(req.event)));
		elen = strlen(req.event);
		FUZZ_CHECK(elen == 0 || valid_event_name(req.event, elen));
		FUZZ_CHECK(strcmp(req.event, "message") != 0);
		FUZZ_CHECK(req.data != NULL && req.data[req.data_len] == '\0');
		FUZZ_CHECK(req.data_len <= max_data);
		FUZZ_CHECK(valid_utf8(req.data, req.data_len));

		round_trip(&req, 0, (unsigned)len, max_data);
		round_trip(&req, 1, (unsigned)len / 7, max_data);
	}
	body_free(&req);
	body_free(&req);	/* twice, and NULL: both allowed */
	body_free(NULL);

	/* Anything but the two media types is 415, whatever the body. */
	rc = body_parse_publish(is_json(type) ? "application/jsonx" :
	    "text/plain", body, len, max_data, &req, &reason);
	FUZZ_CHECK(rc == 415 && reason != NULL && req.data == NULL);
	rc = body_parse_publish(NULL, body, len, max_data, &req, &reason);
	FUZZ_CHECK(rc == 415);
	free(body);
	return 0;
}
