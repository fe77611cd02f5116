/*
 * test_body.c: backend/body.c, one named case per rule.
 *
 * Bodies are copied into heap blocks of exactly their length (no NUL after
 * them), so reading past len fails under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "body.h"
#include "bounds.h"

#define FORM	"application/x-www-form-urlencoded"
#define JSON	"application/json"
#define MAXDATA	1024

struct bcase {
	const char	*ct;
	const char	*body;
	size_t		 len;
	size_t		 max_data;
	int		 status;
	const char	*reason;	/* exact, when status != 0 */
	const char	*topic, *event, *data;
	size_t		 data_len;
};

/* body and data are literals: lengths include embedded NULs. */
#define OKM(nm, ct, body, max, topic, event, data)			\
	{ .name = nm, .test_func = run_case, .initial_state =		\
	  &(struct bcase){ ct, body, sizeof(body) - 1, max, 0, NULL,	\
	  topic, event, data, sizeof(data) - 1 } }
#define OK(nm, ct, body, topic, event, data)				\
	OKM(nm, ct, body, MAXDATA, topic, event, data)
#define ERRM(nm, ct, body, max, status, reason)			\
	{ .name = nm, .test_func = run_case, .initial_state =		\
	  &(struct bcase){ ct, body, sizeof(body) - 1, max, status,	\
	  reason, NULL, NULL, NULL, 0 } }
#define ERR(nm, ct, body, status, reason)				\
	ERRM(nm, ct, body, MAXDATA, status, reason)

#define R_MISSING_TOPIC	"missing field: topic"
#define R_MISSING_DATA	"missing field: data"
#define R_UNKNOWN	"unknown field: use topic, event and data"
#define R_BAD_TOPIC	"bad topic: 1 to 128 bytes of A-Z a-z 0-9 . _ / -"
#define R_BAD_EVENT	"bad event name: 1 to 64 bytes of A-Z a-z 0-9 . _ : -"
#define R_TOO_LARGE	"data too large"
#define R_CT		"unsupported Content-Type: use " \
			"application/x-www-form-urlencoded or application/json"
#define R_BAD_JSON	"invalid JSON"

#define A64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A128	A64 A64

static void
run_case(void **state)
{
	const struct bcase	*c = *state;
	struct publish_req	 req;
	const char		*reason = NULL;
	char			*body;
	int			 rc;

	body = malloc(c->len > 0 ? c->len : 1);
	assert_non_null(body);
	memcpy(body, c->body, c->len);
	memset(&req, 0x5a, sizeof(req));

	rc = body_parse_publish(c->ct, body, c->len, c->max_data, &req,
	    &reason);
	assert_int_equal(rc, c->status);
	if (rc != 0) {
		/* A short plain-text line for the response body. */
		assert_non_null(reason);
		assert_string_equal(reason, c->reason);
		assert_true(strlen(reason) < 100);
		assert_null(strchr(reason, '\n'));
		assert_null(req.data);		/* nothing to free */
	} else {
		assert_string_equal(req.topic, c->topic);
		assert_string_equal(req.event, c->event);
		assert_non_null(req.data);
		assert_int_equal(req.data_len, c->data_len);
		assert_memory_equal(req.data, c->data, c->data_len);
		assert_int_equal(req.data[req.data_len], '\0');
	}
	body_free(&req);
	free(body);
}

static void
test_free_null(void **state)
{
	(void)state;
	body_free(NULL);
}

/* A NULL body with length 0 is an empty body. */
static void
test_null_body(void **state)
{
	struct publish_req	 req;
	const char		*reason = NULL;

	(void)state;
	assert_int_equal(body_parse_publish(FORM, NULL, 0, MAXDATA, &req,
	    &reason), 400);
	assert_string_equal(reason, R_MISSING_TOPIC);
}

/* data of exactly max_data bytes passes, one more is 413. */
static void
test_data_at_limit(void **state)
{
	struct publish_req	 req;
	const char		*reason = NULL;
	char			*body;
	size_t			 max = EVENT_SIZE_DEFAULT, pre, i;
	static const char	 head[] = "topic=t&data=";

	(void)state;
	pre = sizeof(head) - 1;
	body = malloc(pre + max + 1);
	assert_non_null(body);
	memcpy(body, head, pre);
	for (i = 0; i < max + 1; i++)
		body[pre + i] = 'x';
	assert_int_equal(body_parse_publish(FORM, body, pre + max, max, &req,
	    &reason), 0);
	assert_int_equal(req.data_len, max);
	body_free(&req);
	assert_int_equal(body_parse_publish(FORM, body, pre + max + 1, max,
	    &req, &reason), 413);
	assert_string_equal(reason, R_TOO_LARGE);
	free(body);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_free_null),
	cmocka_unit_test(test_null_body),
	cmocka_unit_test(test_data_at_limit),

	/* Content-Type. */
	ERR("ct: missing", NULL, "topic=t&data=x", 415, R_CT),
	ERR("ct: empty", "", "topic=t&data=x", 415, R_CT),
	ERR("ct: text/plain", "text/plain", "topic=t&data=x", 415, R_CT),
	ERR("ct: multipart", "multipart/form-data; boundary=x",
	    "topic=t&data=x", 415, R_CT),
	ERR("ct: prefix is not enough", "application/jsonx",
	    "{\"topic\":\"t\",\"data\":\"x\"}", 415, R_CT),
	ERR("ct: a list is not a type", JSON ", text/plain",
	    "{\"topic\":\"t\",\"data\":\"x\"}", 415, R_CT),
	ERR("ct: junk after the type", JSON " x",
	    "{\"topic\":\"t\",\"data\":\"x\"}", 415, R_CT),
	OK("ct: form with charset", FORM "; charset=utf-8",
	    "topic=t&data=x", "t", "", "x"),
	OK("ct: form in capitals", "Application/X-WWW-Form-URLEncoded",
	    "topic=t&data=x", "t", "", "x"),
	OK("ct: json in capitals", "APPLICATION/JSON",
	    "{\"topic\":\"t\",\"data\":\"x\"}", "t", "", "x"),
	OK("ct: json with spaced parameter", JSON " ; charset=UTF-8",
	    "{\"topic\":\"t\",\"data\":\"x\"}", "t", "", "x"),

	/* Form bodies. */
	OK("form: topic and data", FORM, "topic=news&data=hello",
	    "news", "", "hello"),
	OK("form: with event", FORM, "topic=news&event=update&data=x",
	    "news", "update", "x"),
	OK("form: any order", FORM, "data=x&event=e&topic=t", "t", "e", "x"),
	OK("form: decoding", FORM, "topic=a/b&data=a+b%0Ac%25",
	    "a/b", "", "a b\nc%"),
	OK("form: empty data", FORM, "topic=t&data=", "t", "", ""),
	OK("form: data without '='", FORM, "topic=t&data", "t", "", ""),
	OK("form: empty event is default", FORM, "topic=t&event=&data=x",
	    "t", "", "x"),
	OK("form: event message is default", FORM,
	    "topic=t&event=message&data=x", "t", "", "x"),
	OK("form: NUL in data kept", FORM, "topic=t&data=a%00b",
	    "t", "", "a\0b"),
	OK("form: UTF-8 data", FORM, "topic=t&data=caf%C3%A9",
	    "t", "", "caf\xc3\xa9"),
	OK("form: empty pieces ignored", FORM, "&topic=t&&data=x&",
	    "t", "", "x"),
	OK("form: longest topic", FORM, "topic=" A128 "&data=x",
	    A128, "", "x"),
	OK("form: longest event", FORM, "topic=t&event=" A64 "&data=x",
	    "t", A64, "x"),
	OKM("form: data at max_data after decoding", FORM,
	    "topic=t&data=%41%42%43%44", 4, "t", "", "ABCD"),
	ERRM("form: data over max_data", FORM, "topic=t&data=hello", 4,
	    413, R_TOO_LARGE),
	ERR("form: empty body", FORM, "", 400, R_MISSING_TOPIC),
	ERR("form: missing topic", FORM, "data=x", 400, R_MISSING_TOPIC),
	ERR("form: missing data", FORM, "topic=t", 400, R_MISSING_DATA),
	ERR("form: repeated topic", FORM, "topic=a&topic=b&data=x", 400,
	    "repeated field: topic"),
	ERR("form: repeated event", FORM, "topic=a&event=b&event=b&data=x",
	    400, "repeated field: event"),
	ERR("form: repeated data", FORM, "topic=a&data=x&data=y", 400,
	    "repeated field: data"),
	ERR("form: unknown field", FORM, "topic=t&data=x&tpoic=y", 400,
	    R_UNKNOWN),
	ERR("form: field names are case-sensitive", FORM,
	    "Topic=t&data=x", 400, R_UNKNOWN),
	ERR("form: NUL in a field name", FORM, "topic%00=t&data=x", 400,
	    R_UNKNOWN),
	ERR("form: empty topic", FORM, "topic=&data=x", 400, R_BAD_TOPIC),
	ERR("form: topic with space", FORM, "topic=a+b&data=x", 400,
	    R_BAD_TOPIC),
	ERR("form: topic with NUL", FORM, "topic=a%00&data=x", 400,
	    R_BAD_TOPIC),
	ERR("form: topic too long", FORM, "topic=" A128 "a&data=x", 400,
	    R_BAD_TOPIC),
	ERR("form: event with LF", FORM, "topic=t&event=a%0Ab&data=x", 400,
	    R_BAD_EVENT),
	ERR("form: event too long", FORM, "topic=t&event=" A64 "a&data=x",
	    400, R_BAD_EVENT),
	ERR("form: data not UTF-8", FORM, "topic=t&data=%FF", 400,
	    "data is not valid UTF-8"),
	ERR("form: data with a surrogate", FORM,
	    "topic=t&data=%ED%A0%80", 400, "data is not valid UTF-8"),
	ERR("form: bad escape", FORM, "topic=t&data=%zz", 400,
	    "bad %-escape in form body"),
	ERR("form: truncated escape", FORM, "topic=t&data=%4", 400,
	    "bad %-escape in form body"),

	/* JSON bodies. */
	OK("json: topic and data", JSON, "{\"topic\":\"news\",\"data\":\"hi\"}",
	    "news", "", "hi"),
	OK("json: with event", JSON,
	    "{\"topic\":\"t\",\"event\":\"up\",\"data\":\"x\"}", "t", "up", "x"),
	OK("json: event message is default", JSON,
	    "{\"topic\":\"t\",\"event\":\"message\",\"data\":\"x\"}",
	    "t", "", "x"),
	OK("json: empty event is default", JSON,
	    "{\"topic\":\"t\",\"event\":\"\",\"data\":\"x\"}", "t", "", "x"),
	OK("json: string escapes decoded", JSON,
	    "{\"topic\":\"t\",\"data\":\"a\\nb\\u00e9\\\"\"}",
	    "t", "", "a\nb\xc3\xa9\""),
	OK("json: NUL in data kept", JSON,
	    "{\"topic\":\"t\",\"data\":\"a\\u0000b\"}", "t", "", "a\0b"),
	OK("json: empty data", JSON, "{\"topic\":\"t\",\"data\":\"\"}",
	    "t", "", ""),
	OK("json: object data stored compact", JSON,
	    "{\"topic\":\"t\",\"data\": { \"a\" : [1, 2] } }",
	    "t", "", "{\"a\":[1,2]}"),
	OK("json: number data", JSON, "{\"topic\":\"t\",\"data\":42}",
	    "t", "", "42"),
	OK("json: boolean data", JSON, "{\"topic\":\"t\",\"data\":true}",
	    "t", "", "true"),
	OK("json: null data", JSON, "{\"topic\":\"t\",\"data\":null}",
	    "t", "", "null"),
	OK("json: array data", JSON, "{\"topic\":\"t\",\"data\":[1,\"x\"]}",
	    "t", "", "[1,\"x\"]"),
	OK("json: whitespace around", JSON,
	    " \n{ \"data\" : \"x\" , \"topic\" : \"t\" }\n", "t", "", "x"),
	ERRM("json: string data over max_data", JSON,
	    "{\"topic\":\"t\",\"data\":\"hello\"}", 4, 413, R_TOO_LARGE),
	ERRM("json: compact data over max_data", JSON,
	    "{\"topic\":\"t\",\"data\":[1,2,3]}", 4, 413, R_TOO_LARGE),
	OKM("json: compact data at max_data", JSON,
	    "{\"topic\":\"t\",\"data\":[ 1 , 2 ]}", 5, "t", "", "[1,2]"),
	ERR("json: empty body", JSON, "", 400, R_BAD_JSON),
	ERR("json: truncated", JSON, "{\"topic\":\"t\"", 400, R_BAD_JSON),
	ERR("json: trailing garbage", JSON,
	    "{\"topic\":\"t\",\"data\":\"x\"} x", 400, R_BAD_JSON),
	ERR("json: lone surrogate escape", JSON,
	    "{\"topic\":\"t\",\"data\":\"\\ud800\"}", 400, R_BAD_JSON),
	ERR("json: invalid UTF-8", JSON,
	    "{\"topic\":\"t\",\"data\":\"\xff\"}", 400,
	    "body is not valid UTF-8"),
	ERR("json: overlong UTF-8", JSON,
	    "{\"topic\":\"t\",\"data\":\"\xc0\xaf\"}", 400,
	    "body is not valid UTF-8"),
	ERR("json: array at top level", JSON, "[1]", 400,
	    "JSON body must be an object"),
	ERR("json: string at top level", JSON, "\"x\"", 400,
	    "JSON body must be an object"),
	ERR("json: duplicate key", JSON,
	    "{\"topic\":\"a\",\"topic\":\"b\",\"data\":\"x\"}", 400,
	    "repeated key in JSON body"),
	ERR("json: missing topic", JSON, "{\"data\":\"x\"}", 400,
	    R_MISSING_TOPIC),
	ERR("json: missing data", JSON, "{\"topic\":\"t\"}", 400,
	    R_MISSING_DATA),
	ERR("json: empty object", JSON, "{}", 400, R_MISSING_TOPIC),
	ERR("json: unknown field", JSON,
	    "{\"topic\":\"t\",\"data\":\"x\",\"id\":1}", 400, R_UNKNOWN),
	ERR("json: topic not a string", JSON,
	    "{\"topic\":1,\"data\":\"x\"}", 400,
	    "topic must be a JSON string"),
	ERR("json: event not a string", JSON,
	    "{\"topic\":\"t\",\"event\":null,\"data\":\"x\"}", 400,
	    "event must be a JSON string"),
	ERR("json: topic with NUL", JSON,
	    "{\"topic\":\"a\\u0000b\",\"data\":\"x\"}", 400, R_BAD_TOPIC),
	ERR("json: event with NUL", JSON,
	    "{\"topic\":\"t\",\"event\":\"e\\u0000\",\"data\":\"x\"}", 400,
	    R_BAD_EVENT),
	ERR("json: event with CR", JSON,
	    "{\"topic\":\"t\",\"event\":\"e\\rid: 1\",\"data\":\"x\"}", 400,
	    R_BAD_EVENT),
	ERR("json: bad topic", JSON, "{\"topic\":\"a b\",\"data\":\"x\"}",
	    400, R_BAD_TOPIC),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
