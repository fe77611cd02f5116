/*
 * test_logdrv.c: backend/logdrv.c, the log driver interface, through the
 * SQLite driver (the JetStream driver is exercised against real servers
 * by tests/integration/test_jetstream.py). Each case names the rule of
 * logdrv.h it checks. Every case gets a fresh temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "logdrv.h"
#include "testutil.h"

struct fx {
	char		 dir[256];
	char		 db[300];
	struct config	 cfg;
	struct logdrv	*log;
};

struct rows {
	size_t		 n;
	uint64_t	 seq[64];
	char		 topic[64][TOPIC_MAX + 1];
	char		 data[64][32];
	int		 stop_after;	/* fn returns 1 at this row (1-based) */
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || tu_mkdtemp(fx->dir, sizeof(fx->dir)) == -1) {
		free(fx);
		return -1;
	}
	tu_path(fx->db, sizeof(fx->db), fx->dir, "log.db");
	config_defaults(&fx->cfg);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	logdrv_close(fx->log);
	tu_rmtree(fx->dir);
	free(fx);
	return 0;
}

static struct logdrv *
open_log(struct fx *fx, int flags)
{
	struct logdrv	*log = NULL;
	char		 err[512] = "";

	if (logdrv_open(&log, &fx->cfg, fx->db, flags, err, sizeof(err)) ==
	    -1)
		fail_msg("logdrv_open: %s", err);
	return log;
}

static void
append(struct logdrv *log, const char *topic, const char *data,
    uint64_t *seq)
{
	struct evlog_new ev;

	memset(&ev, 0, sizeof(ev));
	ev.topic = topic;
	ev.event = "";
	ev.data = data;
	ev.data_len = strlen(data);
	assert_int_equal(logdrv_append(log, &ev, 1, 1000), 0);
	if (seq != NULL)
		*seq = ev.seq;
}

static int
collect(void *arg, const struct evlog_row *row)
{
	struct rows *r = arg;

	if (r->n == 64)
		return -1;
	r->seq[r->n] = row->seq;
	snprintf(r->topic[r->n], sizeof(r->topic[0]), "%.*s",
	    (int)row->topic_len, row->topic);
	snprintf(r->data[r->n], sizeof(r->data[0]), "%.*s",
	    (int)row->data_len, row->data);
	r->n++;
	return r->stop_after != 0 && (int)r->n == r->stop_after ? 1 : 0;
}

/* The default log is SQLite; it names itself and has an epoch. */
static void
sqlite_is_the_default(void **state)
{
	struct fx	*fx = *state;
	const char	*e;

	fx->log = open_log(fx, LOGDRV_CREATE);
	assert_string_equal(logdrv_name(fx->log), "sqlite");
	e = logdrv_epoch(fx->log);
	assert_int_equal(strlen(e), EPOCH_HEX_LEN);
}

/* dbpath NULL: the config's db. */
static void
dbpath_from_config(void **state)
{
	struct fx	*fx = *state;
	struct logdrv	*log = NULL;
	char		 err[512];
	uint64_t	 first, last;

	memcpy(fx->cfg.db, fx->db, strlen(fx->db) + 1);
	assert_int_equal(logdrv_open(&log, &fx->cfg, NULL, LOGDRV_CREATE, err,
	    sizeof(err)), 0);
	append(log, "t", "x", NULL);
	logdrv_close(log);
	fx->log = open_log(fx, 0);
	assert_int_equal(logdrv_bounds(fx->log, 0, &first, &last), 0);
	assert_true(first == 1 && last == 1);
}

/* Append assigns increasing numbers; bounds see them (want is only a
 * hint for caching drivers: SQLite is always current). */
static void
append_and_bounds(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 s1, s2, first, last;

	fx->log = open_log(fx, LOGDRV_CREATE);
	assert_int_equal(logdrv_bounds(fx->log, 0, &first, &last), 0);
	assert_true(first == 0 && last == 0);
	append(fx->log, "a", "1", &s1);
	append(fx->log, "b", "2", &s2);
	assert_true(s1 == 1 && s2 == 2);
	assert_int_equal(logdrv_bounds(fx->log, 1000, &first, &last), 0);
	assert_true(first == 1 && last == 2);
}

/* A group of n: all stored, in order. */
static void
append_group(void **state)
{
	struct fx		*fx = *state;
	struct evlog_new	 evs[3];
	size_t			 i;

	fx->log = open_log(fx, LOGDRV_CREATE);
	memset(evs, 0, sizeof(evs));
	for (i = 0; i < 3; i++) {
		evs[i].topic = "g";
		evs[i].data = "d";
		evs[i].data_len = 1;
	}
	assert_int_equal(logdrv_append(fx->log, evs, 3, 1), 0);
	for (i = 0; i < 3; i++)
		assert_true(evs[i].seq == i + 1);
}

/* A failed append reports every event as not stored (seq 0). */
static void
failed_append_stores_nothing(void **state)
{
	struct fx		*fx = *state;
	struct evlog_new	 evs[2];
	struct logdrv		*ro;
	uint64_t		 first, last;

	fx->log = open_log(fx, LOGDRV_CREATE);
	ro = open_log(fx, LOGDRV_READONLY);
	memset(evs, 0, sizeof(evs));
	evs[0].topic = evs[1].topic = "t";
	evs[0].data = evs[1].data = "x";
	evs[0].data_len = evs[1].data_len = 1;
	assert_int_equal(logdrv_append(ro, evs, 2, 1), -1);
	assert_true(evs[0].seq == 0 && evs[1].seq == 0);
	assert_true(strlen(logdrv_errmsg(ro)) > 0);
	logdrv_close(ro);
	assert_int_equal(logdrv_bounds(fx->log, 0, &first, &last), 0);
	assert_true(last == 0);
}

/* read: after < seq <= upto, in order, one topic or all, max_rows, and
 * the callback may stop. */
static void
read_ranges(void **state)
{
	struct fx	*fx = *state;
	struct rows	 r;
	int		 i;

	fx->log = open_log(fx, LOGDRV_CREATE);
	for (i = 0; i < 10; i++)
		append(fx->log, i % 2 ? "odd" : "even", i % 2 ? "o" : "e",
		    NULL);
	memset(&r, 0, sizeof(r));
	assert_int_equal(logdrv_read(fx->log, NULL, 2, 6, 100, 1 << 20,
	    collect, &r), 0);
	assert_int_equal(r.n, 4);
	assert_true(r.seq[0] == 3 && r.seq[3] == 6);
	memset(&r, 0, sizeof(r));
	assert_int_equal(logdrv_read(fx->log, "odd", 0, INT64_MAX, 100,
	    1 << 20, collect, &r), 0);
	assert_int_equal(r.n, 5);
	for (i = 0; i < 5; i++) {
		assert_true(r.seq[i] == (uint64_t)(2 * i + 2));
		assert_string_equal(r.topic[i], "odd");
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(logdrv_read(fx->log, NULL, 0, INT64_MAX, 3, 1 << 20,
	    collect, &r), 0);
	assert_int_equal(r.n, 3);
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_int_equal(logdrv_read(fx->log, NULL, 0, INT64_MAX, 100,
	    1 << 20, collect, &r), 0);
	assert_int_equal(r.n, 2);
	memset(&r, 0, sizeof(r));
	assert_int_equal(logdrv_read(fx->log, NULL, 5, 5, 100, 1 << 20,
	    collect, &r), 0);
	assert_int_equal(r.n, 0);
}

static int	notified;

static void
count_notify(void *arg)
{
	(void)arg;
	notified++;
}

/* follow + read_new: SQLite is polled (no notify), read_new returns
 * every topic after `after`, whoever appended. */
static void
follow_and_read_new(void **state)
{
	struct fx	*fx = *state;
	struct logdrv	*writer;
	struct rows	 r;

	fx->log = open_log(fx, LOGDRV_CREATE);
	append(fx->log, "a", "old", NULL);
	notified = 0;
	assert_int_equal(logdrv_follow(fx->log, 1, count_notify, NULL), 0);
	writer = open_log(fx, 0);
	append(writer, "b", "new1", NULL);
	append(writer, "c", "new2", NULL);
	logdrv_close(writer);
	memset(&r, 0, sizeof(r));
	assert_int_equal(logdrv_read_new(fx->log, 1, 100, 1 << 20, collect,
	    &r), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.data[0], "new1");
	assert_string_equal(r.data[1], "new2");
	assert_int_equal(notified, 0);
}

/* prune: the oldest beyond max_events go; numbers are not reused. */
static void
prune_oldest(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 first, last, s;
	size_t		 deleted;
	int		 i;

	fx->log = open_log(fx, LOGDRV_CREATE);
	for (i = 0; i < 10; i++)
		append(fx->log, "p", "x", NULL);
	assert_int_equal(logdrv_prune(fx->log, 4, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 6);
	assert_int_equal(logdrv_bounds(fx->log, 0, &first, &last), 0);
	assert_true(first == 7 && last == 10);
	append(fx->log, "p", "y", &s);
	assert_true(s == 11);
}

/* The JetStream driver refuses to start without servers, and says why. */
static void
jetstream_needs_servers(void **state)
{
	struct fx	*fx = *state;
	struct logdrv	*log = NULL;
	char		 err[512] = "";

	fx->cfg.log = LOG_JETSTREAM;
	assert_int_equal(logdrv_open(&log, &fx->cfg, NULL, LOGDRV_CREATE,
	    err, sizeof(err)), -1);
	assert_null(log);
	assert_string_equal(err, "log = jetstream needs nats_url");
}

/* ... and reports a server it cannot reach (nothing listens on port 1). */
static void
jetstream_unreachable(void **state)
{
	struct fx	*fx = *state;
	struct logdrv	*log = NULL;
	char		 err[512] = "";

	fx->cfg.log = LOG_JETSTREAM;
	memcpy(fx->cfg.nats_url, "nats://127.0.0.1:1",
	    sizeof("nats://127.0.0.1:1"));
	assert_int_equal(logdrv_open(&log, &fx->cfg, NULL, LOGDRV_CREATE,
	    err, sizeof(err)), -1);
	assert_null(log);
	assert_non_null(strstr(err, "nats nats://127.0.0.1:1: "));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(sqlite_is_the_default),
	T(dbpath_from_config),
	T(append_and_bounds),
	T(append_group),
	T(failed_append_stores_nothing),
	T(read_ranges),
	T(follow_and_read_new),
	T(prune_oldest),
	T(jetstream_needs_servers),
	T(jetstream_unreachable),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
