/*
 * test_sseparse.c: backend/sseparse.c, one named case per WHATWG rule.
 *
 * Each case is a byte string and the items a browser would see, written
 * as text: E<type|id|data> per event, R<ms> per retry, C<text> per
 * comment. Every case is fed whole, one byte at a time, and split in two
 * at every point: the items must be the same each time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sseparse.h"

struct out {
	char	 s[4096];
	size_t	 n;
	int	 stop_after;	/* stop after this many events; 0 never */
	int	 events;
};

static int
collect(void *arg, const struct sseparse_item *it)
{
	struct out	*o = arg;
	int		 w;

	switch (it->kind) {
	case SSEPARSE_EVENT:
		w = snprintf(o->s + o->n, sizeof(o->s) - o->n, "E<%s|%.*s|%.*s>",
		    it->type, (int)it->id_len, it->id, (int)it->data_len,
		    it->data);
		o->events++;
		break;
	case SSEPARSE_RETRY:
		w = snprintf(o->s + o->n, sizeof(o->s) - o->n, "R<%llu>",
		    (unsigned long long)it->retry_ms);
		break;
	default:
		w = snprintf(o->s + o->n, sizeof(o->s) - o->n, "C<%.*s>",
		    (int)it->data_len, it->data);
		break;
	}
	assert_true(w > 0 && (size_t)w < sizeof(o->s) - o->n);
	o->n += (size_t)w;
	return o->stop_after && o->events >= o->stop_after;
}

struct tcase {
	const char	*name;
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	const char	*want;
};

#define C(n, i, w)	{ n, i, 0, w }

static const struct tcase cases[] = {
	C("lf_lines", "data: a\n\n", "E<message||a>"),
	C("crlf_lines", "data: a\r\n\r\n", "E<message||a>"),
	C("cr_lines", "data: a\r\r", "E<message||a>"),
	C("mixed_line_ends", "data: a\rdata: b\r\ndata: c\n\r\n",
	    "E<message||a\nb\nc>"),
	C("bom_dropped", "\xef\xbb\xbf" "data: x\n\n", "E<message||x>"),
	C("bom_only_first", "\xef\xbb\xbf\xef\xbb\xbf" "data: x\n\n",
	    ""),			/* 2nd BOM is part of a field name */
	C("partial_bom_is_content", "\xef\xbb" "data: x\n\n", ""),
	C("comment", ": keepalive\n\n", "C< keepalive>"),
	C("comment_not_an_event", ":data: x\n\n", "C<data: x>"),
	C("one_space_stripped", "data:  two\n\n", "E<message|| two>"),
	C("no_space", "data:x\n\n", "E<message||x>"),
	C("field_without_colon", "data\ndata\n\n", "E<message||\n>"),
	C("empty_data_dispatches_nothing", "event: e\n\n",
	    ""),
	C("data_then_empty_line", "data\n\n", "E<message||>"),
	C("event_type", "event: gap\ndata: {}\n\n", "E<gap||{}>"),
	C("type_reset_after_dispatch", "event: a\ndata: 1\n\ndata: 2\n\n",
	    "E<a||1>E<message||2>"),
	C("id_set", "id: 7e-1\ndata: a\n\n", "E<message|7e-1|a>"),
	C("id_persists", "id: 5\ndata: a\n\ndata: b\n\n",
	    "E<message|5|a>E<message|5|b>"),
	C("id_empty_resets", "id: 5\ndata: a\n\nid\ndata: b\n\n",
	    "E<message|5|a>E<message||b>"),
	{ "id_with_nul_ignored", "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n",
	    33, "E<message|1|a>E<message|1|b>" },
	C("id_without_data_still_sets", "id: 9\n\ndata: a\n\n",
	    "E<message|9|a>"),
	C("retry_digits", "retry: 1500\n", "R<1500>"),
	C("retry_not_digits", "retry: 15s\nretry: -1\nretry:\nretry: 1 5\n",
	    ""),
	C("retry_leading_space_only_one", "retry:  10\n", ""),
	C("unknown_field_ignored", "foo: bar\ndata: a\n\n", "E<message||a>"),
	C("field_names_case_sensitive", "Data: a\n\n", ""),
	C("incomplete_event_not_dispatched", "data: a\n", ""),
	C("colon_in_value", "data: a:b: c\n\n", "E<message||a:b: c>"),
	C("cr_then_lf_is_one_end", "data: a\r\ndata: b\r\n\r\n",
	    "E<message||a\nb>"),
	C("lf_cr_is_two_ends", "data: a\n\rdata: b\n\n",
	    "E<message||a>E<message||b>"),
};

static void
run_split(const struct tcase *tc, size_t split, int bytewise)
{
	struct sseparse	 p;
	struct out	 o;
	size_t		 len = tc->len ? tc->len : strlen(tc->in), i;

	memset(&o, 0, sizeof(o));
	assert_int_equal(sseparse_init(&p, 1024, 1024, collect, &o), 0);
	if (bytewise) {
		for (i = 0; i < len; i++)
			assert_int_equal(sseparse_feed(&p, tc->in + i, 1), 0);
	} else {
		assert_int_equal(sseparse_feed(&p, tc->in, split), 0);
		assert_int_equal(sseparse_feed(&p, tc->in + split,
		    len - split), 0);
	}
	o.s[o.n] = '\0';
	if (strcmp(o.s, tc->want) != 0)
		fail_msg("%s (split %zu%s): got \"%s\", want \"%s\"",
		    tc->name, split, bytewise ? ", bytewise" : "", o.s,
		    tc->want);
	sseparse_free(&p);
}

static void
test_table(void **state)
{
	size_t	 i, s, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		for (s = 0; s <= len; s++)
			run_split(&cases[i], s, 0);
		run_split(&cases[i], 0, 1);
	}
}

/* A CR at the end of one buffer and LF at the start of the next. */
static void
test_cr_at_buffer_boundary(void **state)
{
	struct sseparse	 p;
	struct out	 o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(sseparse_init(&p, 0, 0, collect, &o), 0);
	assert_int_equal(sseparse_feed(&p, "data: a\r", 8), 0);
	assert_int_equal(sseparse_feed(&p, "\ndata: b\r", 9), 0);
	assert_int_equal(sseparse_feed(&p, "\n\r", 2), 0);
	assert_int_equal(sseparse_feed(&p, "\n", 1), 0);
	o.s[o.n] = '\0';
	assert_string_equal(o.s, "E<message||a\nb>");
	sseparse_free(&p);
}

static void
test_line_too_long(void **state)
{
	struct sseparse	 p;
	struct out	 o;
	char		 big[100];

	(void)state;
	memset(&o, 0, sizeof(o));
	memset(big, 'x', sizeof(big));
	assert_int_equal(sseparse_init(&p, 64, 64, collect, &o), 0);
	assert_int_equal(sseparse_feed(&p, "data: ", 6), 0);
	assert_int_equal(sseparse_feed(&p, big, sizeof(big)),
	    SSEPARSE_ETOOLONG);
	assert_int_equal(sseparse_feed(&p, "\n\n", 2), SSEPARSE_EFAILED);
	sseparse_reconnect(&p);
	assert_int_equal(sseparse_feed(&p, "data: ok\n\n", 10), 0);
	o.s[o.n] = '\0';
	assert_string_equal(o.s, "E<message||ok>");
	sseparse_free(&p);
}

static void
test_data_too_long(void **state)
{
	struct sseparse	 p;
	struct out	 o;
	int		 i, rc = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(sseparse_init(&p, 64, 64, collect, &o), 0);
	for (i = 0; i < 20 && rc == 0; i++)
		rc = sseparse_feed(&p, "data: 0123456789\n", 17);
	assert_int_equal(rc, SSEPARSE_ETOOLONG);
	assert_int_equal(o.n, 0);
	sseparse_free(&p);
}

static void
test_id_too_long(void **state)
{
	struct sseparse	 p;
	struct out	 o;
	char		 line[SSEPARSE_ID_MAX + 16];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(sseparse_init(&p, 0, 0, collect, &o), 0);
	memcpy(line, "id: ", 4);
	memset(line + 4, '1', SSEPARSE_ID_MAX + 1);
	line[SSEPARSE_ID_MAX + 5] = '\n';
	assert_int_equal(sseparse_feed(&p, line, SSEPARSE_ID_MAX + 6),
	    SSEPARSE_ETOOLONG);
	sseparse_free(&p);
}

/*
 * Reconnect: the half-received event is dropped, the last event ID
 * string survives, and a BOM may start the new stream.
 */
static void
test_reconnect_keeps_last_id(void **state)
{
	struct sseparse	 p;
	struct out	 o;
	const char	*id;
	size_t		 n;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(sseparse_init(&p, 0, 0, collect, &o), 0);
	assert_int_equal(sseparse_feed(&p, "id: 3\ndata: a\n\nid: 4\ndata: b\n",
	    29), 0);
	id = sseparse_last_id(&p, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(id, "3", 1);
	sseparse_reconnect(&p);
	assert_int_equal(sseparse_feed(&p, "\xef\xbb\xbf\ndata: c\n\n", 13),
	    0);
	o.s[o.n] = '\0';
	assert_string_equal(o.s, "E<message|3|a>E<message|3|c>");
	sseparse_free(&p);
}

/* A callback that stops: the id does not move past the last event seen. */
static void
test_stop_holds_last_id(void **state)
{
	struct sseparse	 p;
	struct out	 o;
	const char	*id;
	size_t		 n;
	const char	*in = "id: 1\ndata: a\n\nid: 2\ndata: b\n\n";

	(void)state;
	memset(&o, 0, sizeof(o));
	o.stop_after = 1;
	assert_int_equal(sseparse_init(&p, 0, 0, collect, &o), 0);
	assert_int_equal(sseparse_feed(&p, in, strlen(in)), SSEPARSE_STOPPED);
	id = sseparse_last_id(&p, &n);
	assert_int_equal(n, 1);
	assert_memory_equal(id, "1", 1);
	assert_int_equal(sseparse_feed(&p, "\n", 1), SSEPARSE_EFAILED);
	sseparse_reconnect(&p);
	o.stop_after = 0;
	assert_int_equal(sseparse_feed(&p, "id: 2\ndata: b\n\n", 15), 0);
	o.s[o.n] = '\0';
	assert_string_equal(o.s, "E<message|1|a>E<message|2|b>");
	sseparse_free(&p);
}

static void
test_free_null(void **state)
{
	(void)state;
	sseparse_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_cr_at_buffer_boundary),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_data_too_long),
		cmocka_unit_test(test_id_too_long),
		cmocka_unit_test(test_reconnect_keeps_last_id),
		cmocka_unit_test(test_stop_holds_last_id),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
