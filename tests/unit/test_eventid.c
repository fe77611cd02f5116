/*
 * test_eventid.c: backend/eventid.c, one named case per rule.
 *
 * Parser inputs are copied into a heap buffer of exactly their length, so a
 * read past len fails under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eventid.h"
#include "bounds.h"

struct pcase {
	const char	*s;
	size_t		 len;
	int		 want;		/* 0 or -1 */
	int		 has_epoch;
	const char	*epoch;		/* lowercase, when has_epoch */
	uint64_t	 seq;
};

#define OK_BARE(nm, s, seq)						\
	{ .name = nm, .test_func = run_parse, .initial_state =		\
	  &(struct pcase){ s, sizeof(s) - 1, 0, 0, NULL, seq } }
#define OK_FULL(nm, s, ep, seq)						\
	{ .name = nm, .test_func = run_parse, .initial_state =		\
	  &(struct pcase){ s, sizeof(s) - 1, 0, 1, ep, seq } }
#define BAD(nm, s)							\
	{ .name = nm, .test_func = run_parse, .initial_state =		\
	  &(struct pcase){ s, sizeof(s) - 1, -1, 0, NULL, 0 } }

/* 16 and 64 zeros for the length cases. */
#define Z16	"0000000000000000"
#define Z64	Z16 Z16 Z16 Z16

_Static_assert(RESUME_ID_MAX == 64, "the length case assumes 64");
_Static_assert(EPOCH_HEX_LEN == 8, "the epoch cases assume 8 hex digits");

static void
run_parse(void **state)
{
	const struct pcase	*c = *state;
	struct resume_point	 rp;
	char			*buf;

	buf = malloc(c->len > 0 ? c->len : 1);
	assert_non_null(buf);
	memcpy(buf, c->s, c->len);
	memset(&rp, 0x5a, sizeof(rp));
	assert_int_equal(eventid_parse(buf, c->len, &rp), c->want);
	if (c->want == 0) {
		assert_int_equal(rp.has_epoch, c->has_epoch);
		assert_true(rp.seq == c->seq);
		if (c->has_epoch)
			assert_string_equal(rp.epoch, c->epoch);
	}
	free(buf);
}

static void
test_format_basic(void **state)
{
	char	 out[EVENT_ID_MAX + 1];

	(void)state;
	assert_int_equal(eventid_format(out, sizeof(out), "0123abcd", 42), 11);
	assert_string_equal(out, "0123abcd-42");
	assert_int_equal(eventid_format(out, sizeof(out), "ffffffff", 0), 10);
	assert_string_equal(out, "ffffffff-0");
}

/* The longest id is EVENT_ID_MAX bytes and EVENT_ID_MAX + 1 holds it. */
static void
test_format_longest_fits(void **state)
{
	char	 out[EVENT_ID_MAX + 1];

	(void)state;
	assert_int_equal(eventid_format(out, sizeof(out), "0123abcd",
	    UINT64_MAX), EVENT_ID_MAX);
	assert_string_equal(out, "0123abcd-18446744073709551615");
}

static void
test_format_too_small(void **state)
{
	char	 out[16];

	(void)state;
	/* "0123abcd-42" is 11 bytes: 12 fits, 11 does not (no NUL). */
	assert_int_equal(eventid_format(out, 12, "0123abcd", 42), 11);
	assert_int_equal(eventid_format(out, 11, "0123abcd", 42), -1);
	assert_int_equal(eventid_format(out, 0, "0123abcd", 42), -1);
}

static void
test_format_bad_epoch(void **state)
{
	char	 out[EVENT_ID_MAX + 1];

	(void)state;
	assert_int_equal(eventid_format(out, sizeof(out), "0123abc", 1), -1);
	assert_int_equal(eventid_format(out, sizeof(out), "0123abcde", 1),
	    -1);
	assert_int_equal(eventid_format(out, sizeof(out), NULL, 1), -1);
}

/* What we print, we parse back to the same place. */
static void
test_format_parse_roundtrip(void **state)
{
	static const uint64_t	 seqs[] = { 0, 1, 9, 10, 4096,
	    (uint64_t)INT64_MAX };
	struct resume_point	 rp;
	char			 out[EVENT_ID_MAX + 1];
	size_t			 i;
	int			 n;

	(void)state;
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		n = eventid_format(out, sizeof(out), "9f00e1aa", seqs[i]);
		assert_true(n > 0);
		assert_int_equal(eventid_parse(out, (size_t)n, &rp), 0);
		assert_int_equal(rp.has_epoch, 1);
		assert_string_equal(rp.epoch, "9f00e1aa");
		assert_true(rp.seq == seqs[i]);
	}
}

/* Only len bytes are looked at. */
static void
test_parse_respects_len(void **state)
{
	struct resume_point	 rp;

	(void)state;
	assert_int_equal(eventid_parse("42garbage", 2, &rp), 0);
	assert_true(rp.seq == 42);
	assert_int_equal(eventid_parse("0123abcd-7x", 10, &rp), 0);
	assert_true(rp.seq == 7);
	assert_int_equal(eventid_parse("", 0, &rp), -1);
	assert_int_equal(eventid_parse(NULL, 0, &rp), -1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_format_basic),
	cmocka_unit_test(test_format_longest_fits),
	cmocka_unit_test(test_format_too_small),
	cmocka_unit_test(test_format_bad_epoch),
	cmocka_unit_test(test_format_parse_roundtrip),
	cmocka_unit_test(test_parse_respects_len),

	/* Bare sequence numbers: 1..20 digits fitting in int64. */
	OK_BARE("parse: 0 means from the start", "0", 0),
	OK_BARE("parse: plain number", "42", 42),
	OK_BARE("parse: leading zeros", "007", 7),
	OK_BARE("parse: INT64_MAX", "9223372036854775807",
	    (uint64_t)INT64_MAX),
	OK_BARE("parse: 20 digits", "00000000000000000001", 1),
	BAD("parse: 21 digits", "000000000000000000001"),
	BAD("parse: INT64_MAX + 1", "9223372036854775808"),
	BAD("parse: UINT64_MAX", "18446744073709551615"),
	BAD("parse: wraps uint64", "18446744073709551616"),
	BAD("parse: empty", ""),
	BAD("parse: minus sign", "-1"),
	BAD("parse: plus sign", "+1"),
	BAD("parse: leading space", " 1"),
	BAD("parse: trailing space", "1 "),
	BAD("parse: trailing LF", "1\n"),
	BAD("parse: NUL inside", "1\0" "2"),
	BAD("parse: hex number", "0x10"),
	BAD("parse: exponent", "1e3"),
	BAD("parse: decimal point", "1.0"),
	BAD("parse: non-ASCII digit", "\xef\xbc\x91"),
	BAD("parse: longer than RESUME_ID_MAX", Z64 "0"),

	/* Full ids: exactly EPOCH_HEX_LEN hex digits, '-', sequence. */
	OK_FULL("parse: full id", "0123abcd-42", "0123abcd", 42),
	OK_FULL("parse: uppercase epoch lowercased", "0123ABCD-42",
	    "0123abcd", 42),
	OK_FULL("parse: mixed-case epoch", "DeadBeef-0", "deadbeef", 0),
	OK_FULL("parse: full id with INT64_MAX", "0123abcd-"
	    "9223372036854775807", "0123abcd", (uint64_t)INT64_MAX),
	BAD("parse: full id past INT64_MAX", "0123abcd-9223372036854775808"),
	BAD("parse: epoch 7 digits", "0123abc-42"),
	BAD("parse: epoch 9 digits", "0123abcde-42"),
	BAD("parse: epoch not hex", "0123abcg-42"),
	BAD("parse: epoch with space", "0123 bcd-42"),
	BAD("parse: empty epoch", "-42"),
	BAD("parse: empty sequence", "0123abcd-"),
	BAD("parse: negative sequence", "0123abcd--1"),
	BAD("parse: signed sequence", "0123abcd-+1"),
	BAD("parse: two dashes", "0123abcd-42-1"),
	BAD("parse: sequence 21 digits", "0123abcd-000000000000000000001"),
	BAD("parse: epoch only", "0123abcd"),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
