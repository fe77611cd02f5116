/*
 * test_valid.c: backend/valid.c, one named case per rule.
 *
 * Every input is copied into a heap buffer of exactly its length before the
 * call, so a function that reads one byte past len fails under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "valid.h"

struct vcase {
	int		(*fn)(const char *, size_t);
	const char	*s;
	size_t		 len;
	int		 want;
};

/* 16, 64 and 128 bytes of 'a', to build the length cases. */
#define A16	"aaaaaaaaaaaaaaaa"
#define A64	A16 A16 A16 A16
#define A128	A64 A64

/* s is a literal: its length includes embedded NULs. */
#define CASE(nm, fn, s, want)						\
	{ .name = nm, .test_func = run_case,				\
	  .initial_state = &(struct vcase){ fn, s, sizeof(s) - 1, want } }

static void
run_case(void **state)
{
	const struct vcase	*c = *state;
	char			*buf;

	/* malloc(0) may return NULL; one spare byte keeps it simple. */
	buf = malloc(c->len > 0 ? c->len : 1);
	assert_non_null(buf);
	memcpy(buf, c->s, c->len);
	assert_int_equal(c->fn(buf, c->len), c->want);
	free(buf);
}

/* Only len bytes count: a valid prefix of a bad string is valid. */
static void
test_len_bounds_read(void **state)
{
	(void)state;
	assert_int_equal(valid_topic("abc def", 3), 1);
	assert_int_equal(valid_event_name("ping\n", 4), 1);
	assert_int_equal(valid_utf8("ok\xff", 2), 1);
	/* ...and a cut multibyte sequence is not. */
	assert_int_equal(valid_utf8("\xc3\xa9", 1), 0);
}

static void
test_null(void **state)
{
	(void)state;
	assert_int_equal(valid_topic(NULL, 0), 0);
	assert_int_equal(valid_event_name(NULL, 0), 0);
	assert_int_equal(valid_utf8(NULL, 0), 1);	/* empty is valid */
	assert_int_equal(valid_utf8(NULL, 1), 0);
}

_Static_assert(TOPIC_MAX == 128, "the topic length cases assume 128");
_Static_assert(EVENT_NAME_MAX == 64, "the event length cases assume 64");

static const struct CMUnitTest tests[] = {
	/* Topics: 1..TOPIC_MAX of [A-Za-z0-9._/-]. */
	CASE("topic: one letter", valid_topic, "a", 1),
	CASE("topic: every allowed class", valid_topic,
	    "Az09._/-", 1),
	CASE("topic: path-like", valid_topic, "news/eu.sport-1_x", 1),
	CASE("topic: empty", valid_topic, "", 0),
	CASE("topic: exactly TOPIC_MAX", valid_topic, A128, 1),
	CASE("topic: TOPIC_MAX + 1", valid_topic, A128 "a", 0),
	CASE("topic: space", valid_topic, "a b", 0),
	CASE("topic: colon (event names only)", valid_topic, "a:b", 0),
	CASE("topic: NUL inside", valid_topic, "a\0b", 0),
	CASE("topic: lone NUL", valid_topic, "\0", 0),
	CASE("topic: LF", valid_topic, "a\n", 0),
	CASE("topic: CR", valid_topic, "a\r", 0),
	CASE("topic: percent", valid_topic, "a%20", 0),
	CASE("topic: ampersand", valid_topic, "a&b", 0),
	CASE("topic: comma", valid_topic, "a,b", 0),
	CASE("topic: non-ASCII", valid_topic, "caf\xc3\xa9", 0),
	CASE("topic: high byte", valid_topic, "\xff", 0),

	/* Event names: 1..EVENT_NAME_MAX of [A-Za-z0-9._:-]. */
	CASE("event: plain", valid_event_name, "update", 1),
	CASE("event: every allowed class", valid_event_name,
	    "Az09._:-", 1),
	CASE("event: empty", valid_event_name, "", 0),
	CASE("event: exactly EVENT_NAME_MAX", valid_event_name, A64, 1),
	CASE("event: EVENT_NAME_MAX + 1", valid_event_name, A64 "a", 0),
	CASE("event: slash (topics only)", valid_event_name, "a/b", 0),
	CASE("event: LF would end the event: line", valid_event_name,
	    "a\nid: 9", 0),
	CASE("event: CR would end the event: line", valid_event_name,
	    "a\rid: 9", 0),
	CASE("event: NUL", valid_event_name, "a\0", 0),
	CASE("event: space", valid_event_name, "a b", 0),
	CASE("event: non-ASCII", valid_event_name, "\xc3\xa9", 0),

	/* UTF-8, RFC 3629 section 4. */
	CASE("utf8: empty", valid_utf8, "", 1),
	CASE("utf8: ASCII", valid_utf8, "hello, world", 1),
	CASE("utf8: NUL is a character", valid_utf8, "a\0b", 1),
	CASE("utf8: 2 bytes U+00E9", valid_utf8, "\xc3\xa9", 1),
	CASE("utf8: 2 bytes U+0080 lowest", valid_utf8, "\xc2\x80", 1),
	CASE("utf8: 3 bytes U+20AC", valid_utf8, "\xe2\x82\xac", 1),
	CASE("utf8: 3 bytes U+0800 lowest", valid_utf8, "\xe0\xa0\x80", 1),
	CASE("utf8: U+D7FF below surrogates", valid_utf8, "\xed\x9f\xbf", 1),
	CASE("utf8: U+E000 above surrogates", valid_utf8, "\xee\x80\x80", 1),
	CASE("utf8: U+FFFF", valid_utf8, "\xef\xbf\xbf", 1),
	CASE("utf8: 4 bytes U+1F600", valid_utf8, "\xf0\x9f\x98\x80", 1),
	CASE("utf8: 4 bytes U+10000 lowest", valid_utf8,
	    "\xf0\x90\x80\x80", 1),
	CASE("utf8: U+10FFFF highest", valid_utf8, "\xf4\x8f\xbf\xbf", 1),
	CASE("utf8: above U+10FFFF", valid_utf8, "\xf4\x90\x80\x80", 0),
	CASE("utf8: F5 lead", valid_utf8, "\xf5\x80\x80\x80", 0),
	CASE("utf8: FE", valid_utf8, "\xfe", 0),
	CASE("utf8: FF", valid_utf8, "\xff", 0),
	CASE("utf8: overlong C0 80 (NUL)", valid_utf8, "\xc0\x80", 0),
	CASE("utf8: overlong C1 BF", valid_utf8, "\xc1\xbf", 0),
	CASE("utf8: overlong E0 9F BF", valid_utf8, "\xe0\x9f\xbf", 0),
	CASE("utf8: overlong F0 8F BF BF", valid_utf8,
	    "\xf0\x8f\xbf\xbf", 0),
	CASE("utf8: surrogate ED A0 80", valid_utf8, "\xed\xa0\x80", 0),
	CASE("utf8: surrogate ED BF BF", valid_utf8, "\xed\xbf\xbf", 0),
	CASE("utf8: lone continuation", valid_utf8, "a\x80", 0),
	CASE("utf8: bad continuation", valid_utf8, "\xc3\x28", 0),
	CASE("utf8: 3-byte cut at end", valid_utf8, "ab\xe2\x82", 0),
	CASE("utf8: 4-byte cut at end", valid_utf8, "\xf0\x9f\x98", 0),
	CASE("utf8: lead at end", valid_utf8, "abc\xc3", 0),
	CASE("utf8: ASCII inside a sequence", valid_utf8, "\xe2\x82" "a", 0),
	CASE("utf8: CESU-8 surrogate pair", valid_utf8,
	    "\xed\xa0\xbd\xed\xb8\x80", 0),

	cmocka_unit_test(test_len_bounds_read),
	cmocka_unit_test(test_null),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
