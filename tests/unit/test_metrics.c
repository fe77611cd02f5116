/*
 * test_metrics.c: backend/metrics.c, one named case per rule.
 *
 * The counters are process-wide: every case starts from zeroed metrics
 * (setup) and looks for whole lines in the rendered text, so a value of 1
 * cannot match inside 10.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define RENDER_MAX	8192

static const struct mname {
	const char	*name;
	const char	*type;
} names[] = {
	{ "ssereplay_subscribers", "gauge" },
	{ "ssereplay_streams_opened_total", "counter" },
	{ "ssereplay_events_published_total", "counter" },
	{ "ssereplay_publish_errors_total", "counter" },
	{ "ssereplay_events_delivered_total", "counter" },
	{ "ssereplay_events_replayed_total", "counter" },
	{ "ssereplay_gaps_total", "counter" },
	{ "ssereplay_slow_subscribers_dropped_total", "counter" },
	{ "ssereplay_bytes_queued", "gauge" },
	{ "ssereplay_log_events", "gauge" },
	{ "ssereplay_log_oldest_seq", "gauge" },
	{ "ssereplay_log_last_seq", "gauge" },
	{ "ssereplay_tail_events", "gauge" },
	{ "ssereplay_tail_bytes", "gauge" },
	{ "ssereplay_ws_connections", "gauge" },
	{ "ssereplay_ws_refused_total", "counter" },
	{ "ssereplay_ws_messages_total", "counter" },
	{ "ssereplay_ws_acked_total", "counter" },
	{ "ssereplay_ws_protocol_closes_total", "counter" },
	{ "ssereplay_reauth_total", "counter" },
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static const char *const reasons[] = {
	"subscribers", "per_address", "topics", "event_size", "body_size",
	"header_size", "ws_message_size", "publish_rate", "auth",
};
#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

static void
zero_metrics(void)
{
	METRIC_SET(subscribers, 0);
	METRIC_SET(streams_opened, 0);
	METRIC_SET(events_published, 0);
	METRIC_SET(events_delivered, 0);
	METRIC_SET(events_replayed, 0);
	METRIC_SET(gaps, 0);
	METRIC_SET(slow_dropped, 0);
	METRIC_SET(publish_errors, 0);
	METRIC_SET(bytes_queued, 0);
	METRIC_SET(log_first_seq, 0);
	METRIC_SET(log_last_seq, 0);
	METRIC_SET(tail_events, 0);
	METRIC_SET(tail_bytes, 0);
	memset(&metrics, 0, sizeof(metrics));
}

static int
setup(void **state)
{
	(void)state;
	zero_metrics();
	return 0;
}

static void
render(char *out)
{
	int n;

	n = metrics_render(out, RENDER_MAX);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
}

/* The whole line "name value" is present. */
static void
expect_line(const char *text, const char *name, const char *value)
{
	char		 line[256];
	const char	*p;
	size_t		 len;

	len = (size_t)snprintf(line, sizeof(line), "%s %s\n", name, value);
	for (p = text; (p = strstr(p, line)) != NULL; p += len)
		if (p == text || p[-1] == '\n')
			return;
	fail_msg("no line \"%s %s\" in:\n%s", name, value, text);
}

static void
test_every_name_help_type(void **state)
{
	char	 out[RENDER_MAX], want[256];
	size_t	 i;

	(void)state;
	render(out);
	for (i = 0; i < NNAMES; i++) {
		snprintf(want, sizeof(want), "# HELP %s ", names[i].name);
		if (strstr(out, want) == NULL)
			fail_msg("no HELP for %s", names[i].name);
		snprintf(want, sizeof(want), "# TYPE %s %s\n", names[i].name,
		    names[i].type);
		if (strstr(out, want) == NULL)
			fail_msg("no TYPE %s for %s", names[i].type,
			    names[i].name);
		expect_line(out, names[i].name, "0");
	}
}

/* Prometheus text 0.0.4: every line ends in LF, HELP/TYPE come before the
 * sample of their metric, and there is nothing else. */
static void
test_format_lines(void **state)
{
	char		 out[RENDER_MAX];
	const char	*p, *nl;
	size_t		 lines = 0, samples = 0;

	(void)state;
	render(out);
	assert_int_equal(out[strlen(out) - 1], '\n');
	for (p = out; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		assert_true(nl > p);		/* no blank lines */
		lines++;
		if (*p != '#')
			samples++;
		else
			assert_true(strncmp(p, "# HELP ", 7) == 0 ||
			    strncmp(p, "# TYPE ", 7) == 0);
	}
	/* One family with a label: a HELP, a TYPE, a sample per reason. */
	assert_int_equal(samples, NNAMES + NREASONS);
	assert_int_equal(lines, 3 * NNAMES + 2 + NREASONS);
}

/* ssereplay_refusals_total{reason=...}: every reason, with its counter. */
static void
test_refusal_reasons(void **state)
{
	char	 out[RENDER_MAX], name[128];
	size_t	 i;

	(void)state;
	METRIC_SET(refused_subscribers, 1);
	METRIC_SET(refused_per_address, 2);
	METRIC_SET(refused_topics, 3);
	METRIC_SET(refused_event_size, 4);
	METRIC_SET(refused_body_size, 5);
	METRIC_SET(refused_header_size, 6);
	METRIC_SET(refused_ws_message_size, 7);
	METRIC_SET(refused_publish_rate, 8);
	METRIC_SET(refused_auth, 9);
	render(out);
	assert_non_null(strstr(out, "# TYPE ssereplay_refusals_total counter\n"));
	for (i = 0; i < NREASONS; i++) {
		char want[16];

		snprintf(name, sizeof(name),
		    "ssereplay_refusals_total{reason=\"%s\"}", reasons[i]);
		snprintf(want, sizeof(want), "%zu", i + 1);
		expect_line(out, name, want);
	}
}

static void
test_reflects_counters(void **state)
{
	char out[RENDER_MAX];

	(void)state;
	METRIC_ADD(subscribers, 3);
	METRIC_ADD(streams_opened, 11);
	METRIC_ADD(events_published, 12);
	METRIC_ADD(publish_errors, 13);
	METRIC_ADD(events_delivered, 14);
	METRIC_ADD(events_replayed, 15);
	METRIC_ADD(gaps, 16);
	METRIC_ADD(slow_dropped, 17);
	METRIC_ADD(bytes_queued, 18);
	METRIC_ADD(ws_acked, 21);
	METRIC_SET(tail_events, 19);
	METRIC_SET(tail_bytes, 20);
	render(out);
	expect_line(out, "ssereplay_subscribers", "3");
	expect_line(out, "ssereplay_streams_opened_total", "11");
	expect_line(out, "ssereplay_events_published_total", "12");
	expect_line(out, "ssereplay_publish_errors_total", "13");
	expect_line(out, "ssereplay_events_delivered_total", "14");
	expect_line(out, "ssereplay_events_replayed_total", "15");
	expect_line(out, "ssereplay_gaps_total", "16");
	expect_line(out, "ssereplay_slow_subscribers_dropped_total", "17");
	expect_line(out, "ssereplay_bytes_queued", "18");
	expect_line(out, "ssereplay_tail_events", "19");
	expect_line(out, "ssereplay_tail_bytes", "20");
	expect_line(out, "ssereplay_ws_acked_total", "21");

	/* A later change shows in the next render. */
	METRIC_ADD(gaps, 1);
	METRIC_ADD(subscribers, -3);
	render(out);
	expect_line(out, "ssereplay_gaps_total", "17");
	expect_line(out, "ssereplay_subscribers", "0");
}

static void
test_large_values(void **state)
{
	char out[RENDER_MAX];

	(void)state;
	METRIC_SET(events_delivered, 18446744073709551615ULL);
	METRIC_SET(bytes_queued, 9223372036854775807LL);
	render(out);
	expect_line(out, "ssereplay_events_delivered_total",
	    "18446744073709551615");
	expect_line(out, "ssereplay_bytes_queued", "9223372036854775807");
}

static void
test_log_events_empty(void **state)
{
	char out[RENDER_MAX];

	(void)state;
	METRIC_SET(log_first_seq, 0);
	METRIC_SET(log_last_seq, 0);
	render(out);
	expect_line(out, "ssereplay_log_events", "0");
	/* Emptied by retention: the last seq stays, the count is 0. */
	METRIC_SET(log_last_seq, 500);
	render(out);
	expect_line(out, "ssereplay_log_events", "0");
	expect_line(out, "ssereplay_log_oldest_seq", "0");
	expect_line(out, "ssereplay_log_last_seq", "500");
}

static void
test_log_events_count(void **state)
{
	char out[RENDER_MAX];

	(void)state;
	METRIC_SET(log_first_seq, 1);
	METRIC_SET(log_last_seq, 1);
	render(out);
	expect_line(out, "ssereplay_log_events", "1");
	METRIC_SET(log_first_seq, 101);
	METRIC_SET(log_last_seq, 250);
	render(out);
	expect_line(out, "ssereplay_log_events", "150");
	expect_line(out, "ssereplay_log_oldest_seq", "101");
	expect_line(out, "ssereplay_log_last_seq", "250");
}

/* The header promises that 8 KiB suffice, even with the widest values. */
static void
test_8k_suffices(void **state)
{
	char out[8192];

	(void)state;
	METRIC_SET(subscribers, -9223372036854775807L - 1);
	METRIC_SET(streams_opened, 18446744073709551615ULL);
	METRIC_SET(events_published, 18446744073709551615ULL);
	METRIC_SET(publish_errors, 18446744073709551615ULL);
	METRIC_SET(events_delivered, 18446744073709551615ULL);
	METRIC_SET(events_replayed, 18446744073709551615ULL);
	METRIC_SET(gaps, 18446744073709551615ULL);
	METRIC_SET(slow_dropped, 18446744073709551615ULL);
	METRIC_SET(bytes_queued, -9223372036854775807LL - 1);
	METRIC_SET(ws_connections, -9223372036854775807L - 1);
	METRIC_SET(ws_refused, 18446744073709551615ULL);
	METRIC_SET(ws_messages, 18446744073709551615ULL);
	METRIC_SET(ws_acked, 18446744073709551615ULL);
	METRIC_SET(ws_protocol_closes, 18446744073709551615ULL);
	METRIC_SET(log_first_seq, 1);
	METRIC_SET(log_last_seq, 18446744073709551615ULL);
	METRIC_SET(tail_events, 18446744073709551615ULL);
	METRIC_SET(tail_bytes, 18446744073709551615ULL);
	assert_true(metrics_render(out, sizeof(out)) > 0);
}

static void
test_small_buffer(void **state)
{
	char	 out[RENDER_MAX];
	int	 n;

	(void)state;
	n = metrics_render(out, sizeof(out));
	assert_true(n > 0);
	/* Exactly enough (with the NUL) works; one byte less does not. */
	assert_int_equal(metrics_render(out, (size_t)n + 1), n);
	assert_int_equal(metrics_render(out, (size_t)n), -1);
	assert_int_equal(metrics_render(out, 16), -1);
	assert_int_equal(metrics_render(out, 1), -1);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)

static const struct CMUnitTest tests[] = {
	T(test_every_name_help_type),
	T(test_format_lines),
	T(test_reflects_counters),
	T(test_large_values),
	T(test_log_events_empty),
	T(test_log_events_count),
	T(test_8k_suffices),
	T(test_refusal_reasons),
	T(test_small_buffer),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
