/*
 * test_jsmap.c: backend/jsmap.c, the pure parts of the JetStream driver:
 * the topic <-> subject mapping (table of named cases, then every topic
 * of a generated set round-trips and no two topics share a subject), the
 * subjects decoding refuses, the epoch derivation, the reply subject and
 * publish acknowledgement parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsmap.h"
#include "valid.h"

struct mcase {
	const char	*topic, *subject;
};

#define MAP(nm, t, s)							\
	{ .name = nm, .test_func = run_map, .initial_state =		\
	  &(struct mcase){ t, s } }

/* Encode, decode back, and the subject is a valid NATS subject. */
static void
run_map(void **state)
{
	const struct mcase	*c = *state;
	char			 subj[JSMAP_SUBJECT_MAX + 1];
	char			 topic[TOPIC_MAX + 1];
	int			 n;

	n = jsmap_subject(subj, sizeof(subj), "sse", c->topic,
	    strlen(c->topic));
	assert_int_equal(n, (int)strlen(c->subject));
	assert_string_equal(subj, c->subject);
	n = jsmap_topic(topic, sizeof(topic), "sse", subj, strlen(subj));
	assert_int_equal(n, (int)strlen(c->topic));
	assert_string_equal(topic, c->topic);
}

/* What decoding must refuse: not made by jsmap_subject(). */
static void
decode_refuses(void **state)
{
	static const char *const bad[] = {
		"sse",			/* no topic */
		"sse.",			/* empty token */
		"sse..a",		/* empty token */
		"sse.a.",		/* trailing dot */
		"other.a",		/* another prefix */
		"ssex.a",		/* a longer first token */
		"sse.a%2eb",		/* lowercase escape */
		"sse.a%2Fb",		/* another escape */
		"sse.a%",		/* '%' inside a token */
		"sse.%%",		/* two of them */
		"sse.a*b",		/* not a topic character */
		"sse.*",		/* a wildcard */
		"sse.>",		/* a wildcard */
		"sse.a b",		/* a space */
	};
	char	 topic[TOPIC_MAX + 1];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jsmap_topic(topic, sizeof(topic), "sse", bad[i],
		    strlen(bad[i])) != -1)
			fail_msg("decoded %s into %s", bad[i], topic);
}

/* Encoding refuses what is not a topic, and a short buffer. */
static void
encode_refuses(void **state)
{
	char	 subj[JSMAP_SUBJECT_MAX + 1];
	char	 dots[TOPIC_MAX + 1];

	(void)state;
	assert_int_equal(jsmap_subject(subj, sizeof(subj), "sse", "", 0), -1);
	assert_int_equal(jsmap_subject(subj, sizeof(subj), "sse", "a b", 3),
	    -1);
	assert_int_equal(jsmap_subject(subj, sizeof(subj), "sse", "a*", 2),
	    -1);
	assert_int_equal(jsmap_subject(subj, 8, "sse", "abcdef", 6), -1);
	assert_int_equal(jsmap_subject(subj, 11, "sse", "abcdef", 6), 10);
	assert_int_equal(jsmap_subject(subj, 10, "sse", "abcdef", 6), -1);
	/* The longest mapping fits JSMAP_SUBJECT_MAX with the longest
	 * prefix. */
	memset(dots, '.', TOPIC_MAX);
	dots[TOPIC_MAX] = '\0';
	assert_int_equal(jsmap_subject(subj, sizeof(subj),
	    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp",
	    dots, TOPIC_MAX), NATS_PREFIX_MAX + 1 + 3 * TOPIC_MAX);
}

/*
 * Every topic of length 1..4 over an alphabet of the characters that
 * matter ('.', '/', a letter, '-'): round-trips, and the subjects are all
 * different (the mapping is injective).
 */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
round_trip_all(void **state)
{
	static const char alpha[] = "./a-";
	char		**subjects;
	char		 topic[8], back[TOPIC_MAX + 1];
	char		 subj[JSMAP_SUBJECT_MAX + 1];
	size_t		 n = 0, cap = 4 + 16 + 64 + 256, i, len, k, v;
	int		 r;

	(void)state;
	subjects = calloc(cap, sizeof(*subjects));
	assert_non_null(subjects);
	for (len = 1; len <= 4; len++) {
		size_t count = 1;

		for (i = 0; i < len; i++)
			count *= 4;
		for (k = 0; k < count; k++) {
			v = k;
			for (i = 0; i < len; i++) {
				topic[i] = alpha[v % 4];
				v /= 4;
			}
			topic[len] = '\0';
			r = jsmap_subject(subj, sizeof(subj), "x.y", topic,
			    len);
			assert_true(r > 0);
			/* A NATS subject: no empty token, no wildcard. */
			assert_null(strstr(subj, ".."));
			assert_true(subj[r - 1] != '.');
			assert_null(strchr(subj, '*'));
			assert_null(strchr(subj, '>'));
			r = jsmap_topic(back, sizeof(back), "x.y", subj,
			    strlen(subj));
			assert_int_equal(r, (int)len);
			assert_string_equal(back, topic);
			subjects[n] = strdup(subj);
			assert_non_null(subjects[n]);
			n++;
		}
	}
	assert_int_equal(n, cap);
	qsort(subjects, n, sizeof(*subjects), cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(subjects[i - 1], subjects[i]) == 0)
			fail_msg("two topics map to %s", subjects[i]);
	for (i = 0; i < n; i++)
		free(subjects[i]);
	free(subjects);
}

static void
prefix_and_stream_names(void **state)
{
	(void)state;
	assert_true(jsmap_prefix_ok("sse"));
	assert_true(jsmap_prefix_ok("app.events-1.sse_x"));
	assert_false(jsmap_prefix_ok(""));
	assert_false(jsmap_prefix_ok(".sse"));
	assert_false(jsmap_prefix_ok("sse."));
	assert_false(jsmap_prefix_ok("a..b"));
	assert_false(jsmap_prefix_ok("a.*"));
	assert_false(jsmap_prefix_ok("a.>"));
	assert_false(jsmap_prefix_ok("a b"));
	assert_false(jsmap_prefix_ok("a/b"));
	assert_true(jsmap_stream_ok("SSEREPLAY"));
	assert_true(jsmap_stream_ok("ev_1-x"));
	assert_false(jsmap_stream_ok(""));
	assert_false(jsmap_stream_ok("a.b"));
	assert_false(jsmap_stream_ok("a b"));
	assert_false(jsmap_stream_ok("a/b"));
	assert_false(jsmap_stream_ok("012345678901234567890123456789012"));
}

static void
epoch_derivation(void **state)
{
	char	 a[EPOCH_HEX_LEN + 1], b[EPOCH_HEX_LEN + 1];
	size_t	 i;

	(void)state;
	/* Stable: the same identity, the same epoch. */
	jsmap_epoch(a, "EVENTS", 1795507115363190756LL, NULL);
	jsmap_epoch(b, "EVENTS", 1795507115363190756LL, "a description");
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), EPOCH_HEX_LEN);
	for (i = 0; i < EPOCH_HEX_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	/* FNV-1a 64 of "EVENTS\0" "1795507115363190756", folded. */
	assert_string_equal(a, "94775711");
	/* Made anew (another creation time), or another name: another. */
	jsmap_epoch(b, "EVENTS", 1795507115363190757LL, NULL);
	assert_string_not_equal(a, b);
	jsmap_epoch(b, "EVENTS2", 1795507115363190756LL, NULL);
	assert_string_not_equal(a, b);
	/* The pin of migrate wins, wherever it is in the description. */
	jsmap_epoch(b, "EVENTS", 1, "ssereplay event log, "
	    "ssereplay-epoch=7e45f74b");
	assert_string_equal(b, "7e45f74b");
	/* A malformed pin is no pin. */
	jsmap_epoch(b, "EVENTS", 1795507115363190756LL,
	    "ssereplay-epoch=7E45F74B");
	assert_string_equal(b, a);
	jsmap_epoch(b, "EVENTS", 1795507115363190756LL,
	    "ssereplay-epoch=7e45f74");
	assert_string_equal(b, a);
	jsmap_epoch(b, "EVENTS", 1795507115363190756LL,
	    "ssereplay-epoch=7e45f74b0");
	assert_string_equal(b, a);
}

static void
ack_subjects(void **state)
{
	uint64_t	 seq, pending;
	int64_t		 ts;

	(void)state;
	assert_int_equal(jsmap_ack_parse("$JS.ACK.EVENTS.c1.1.42.7."
	    "1795507115363190756.3", &seq, &ts, &pending), 0);
	assert_true(seq == 42);
	assert_true(ts == 1795507115363190756LL);
	assert_true(pending == 3);
	/* With domain and account hash (and a random token). */
	assert_int_equal(jsmap_ack_parse("$JS.ACK.hub.ACCHASH.EVENTS.c1.1.43"
	    ".8.17.0.xyz", &seq, &ts, &pending), 0);
	assert_true(seq == 43 && ts == 17 && pending == 0);
	assert_int_equal(jsmap_ack_parse("$JS.ACK.hub.ACCHASH.EVENTS.c1.1.44"
	    ".8.17.5", &seq, &ts, &pending), 0);
	assert_true(seq == 44 && pending == 5);
	assert_int_equal(jsmap_ack_parse(NULL, &seq, &ts, &pending), -1);
	assert_int_equal(jsmap_ack_parse("_INBOX.x", &seq, &ts, &pending), -1);
	assert_int_equal(jsmap_ack_parse("$JS.ACK.EVENTS.c1.1.x.7.1.3", &seq,
	    &ts, &pending), -1);
	assert_int_equal(jsmap_ack_parse("$JS.ACK.EVENTS.c1.1.4.7.1", &seq,
	    &ts, &pending), -1);
	assert_int_equal(jsmap_ack_parse("$JS.ACK.EVENTS.c1.1."
	    "99999999999999999999999.7.1.3", &seq, &ts, &pending), -1);
}

static void
pub_acks(void **state)
{
	char		 err[128];
	uint64_t	 seq;
	int		 dup, code;

	(void)state;
#define PA(s) jsmap_puback_parse(s, strlen(s), &seq, &dup, &code, err,	\
	    sizeof(err))
	assert_int_equal(PA("{\"stream\":\"EVENTS\",\"seq\":7}"), 0);
	assert_true(seq == 7 && dup == 0);
	assert_int_equal(PA("{\"stream\":\"EVENTS\",\"seq\":7,"
	    "\"duplicate\":true}"), 0);
	assert_true(seq == 7 && dup == 1);
	assert_int_equal(PA("{\"error\":{\"code\":400,\"err_code\":10071,"
	    "\"description\":\"wrong last sequence: 0\"}}"), 1);
	assert_int_equal(code, 10071);
	assert_string_equal(err, "wrong last sequence: 0");
	assert_int_equal(PA("{\"error\":{}}"), 1);
	assert_string_equal(err, "error without description");
	assert_int_equal(PA(""), -1);
	assert_int_equal(PA("[]"), -1);
	assert_int_equal(PA("{\"seq\":7}"), -1);
	assert_int_equal(PA("{\"stream\":\"S\",\"seq\":0}"), -1);
	assert_int_equal(PA("{\"stream\":\"S\",\"seq\":\"7\"}"), -1);
#undef PA
}

static const struct CMUnitTest tests[] = {
	MAP("one token", "news", "sse.news"),
	MAP("segments become tokens", "user/alice/inbox",
	    "sse.user.alice.inbox"),
	MAP("a dot inside a segment", "v1.2", "sse.v1%2E2"),
	MAP("dots only", "..", "sse.%2E%2E"),
	MAP("a lone dot", ".", "sse.%2E"),
	MAP("empty segment inside", "a//b", "sse.a.%.b"),
	MAP("leading slash", "/a", "sse.%.a"),
	MAP("trailing slash", "a/", "sse.a.%"),
	MAP("a lone slash", "/", "sse.%.%"),
	MAP("slashes and dots", "./.", "sse.%2E.%2E"),
	MAP("dashes and underscores", "a-b_c", "sse.a-b_c"),
	MAP("a dot next to a slash", "a./b", "sse.a%2E.b"),
	cmocka_unit_test(decode_refuses),
	cmocka_unit_test(encode_refuses),
	cmocka_unit_test(round_trip_all),
	cmocka_unit_test(prefix_and_stream_names),
	cmocka_unit_test(epoch_derivation),
	cmocka_unit_test(ack_subjects),
	cmocka_unit_test(pub_acks),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
