/*
 * test_evlog.c: backend/evlog.c, one named case per rule.
 *
 * Every case gets a fresh temporary directory (setup) that teardown removes
 * with whatever the case left in it. Rows read back are copied out of the
 * callback into a small collector, so the checks run after evlog_read()
 * returned. The cross-process case forks: the child appends on its own
 * connection and reports its sequence numbers through a pipe; it never
 * calls a cmocka assertion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "bounds.h"
#include "evlog.h"
#include "testutil.h"

struct fx {
	char		 dir[256];
	char		 db[300];
	struct evlog	*log;
	struct evlog	*log2;
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
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	evlog_close(fx->log);
	evlog_close(fx->log2);
	tu_rmtree(fx->dir);
	free(fx);
	return 0;
}

static struct evlog *
open_log(const char *path, int flags)
{
	struct evlog	*log = NULL;
	char		 err[512] = "";

	if (evlog_open(&log, path, flags, err, sizeof(err)) == -1)
		fail_msg("evlog_open %s: %s", path, err);
	assert_non_null(log);
	return log;
}

/* Append one event per data string, all in one call, at ts_ms. */
static void
append_n(struct evlog *log, const char *topic, size_t n, int64_t ts_ms,
    uint64_t *seqs)
{
	struct evlog_new	*evs;
	char			(*data)[32];
	size_t			 i;

	evs = calloc(n, sizeof(*evs));
	data = calloc(n, sizeof(*data));
	assert_non_null(evs);
	assert_non_null(data);
	for (i = 0; i < n; i++) {
		snprintf(data[i], sizeof(data[i]), "d%zu", i);
		evs[i].topic = topic;
		evs[i].data = data[i];
		evs[i].data_len = strlen(data[i]);
	}
	if (evlog_append(log, evs, n, ts_ms) == -1)
		fail_msg("evlog_append: %s", evlog_errmsg(log));
	for (i = 0; seqs != NULL && i < n; i++)
		seqs[i] = evs[i].seq;
	free(data);
	free(evs);
}

static void
check_bounds(struct evlog *log, uint64_t want_first, uint64_t want_last)
{
	uint64_t first = 99, last = 99;

	assert_int_equal(evlog_bounds(log, &first, &last), 0);
	assert_int_equal(first, want_first);
	assert_int_equal(last, want_last);
}

/* ---- reading: a collector ---------------------------------------------- */

#define COLLECT_MAX	64

struct collect {
	size_t		 n;
	uint64_t	 seq[COLLECT_MAX];
	char		 topic[COLLECT_MAX][TOPIC_MAX + 1];
	char		 event[COLLECT_MAX][EVENT_NAME_MAX + 1];
	char		 data[COLLECT_MAX][64];
	size_t		 data_len[COLLECT_MAX];
	int64_t		 ts[COLLECT_MAX];
	size_t		 stop_after;	/* return 1 after this many (0: never) */
	size_t		 fail_after;	/* return -1 at this row (0: never) */
};

static int
collect_row(void *arg, const struct evlog_row *row)
{
	struct collect	*c = arg;
	size_t		 i = c->n;

	if (c->fail_after != 0 && i + 1 == c->fail_after)
		return -1;
	if (i == COLLECT_MAX)
		return -1;
	c->seq[i] = row->seq;
	snprintf(c->topic[i], sizeof(c->topic[i]), "%.*s",
	    (int)row->topic_len, row->topic);
	snprintf(c->event[i], sizeof(c->event[i]), "%.*s",
	    (int)row->event_len, row->event);
	c->data_len[i] = row->data_len;
	memcpy(c->data[i], row->data,
	    row->data_len < sizeof(c->data[i]) ? row->data_len :
	    sizeof(c->data[i]));
	c->ts[i] = row->ts_ms;
	c->n++;
	if (c->stop_after != 0 && c->n == c->stop_after)
		return 1;
	return 0;
}

static void
read_into(struct evlog *log, const char *topic, uint64_t after,
    uint64_t upto, size_t max_rows, size_t max_bytes, struct collect *c)
{
	if (evlog_read(log, topic, after, upto, max_rows, max_bytes,
	    collect_row, c) == -1)
		fail_msg("evlog_read: %s", evlog_errmsg(log));
}

static void
check_seqs(const struct collect *c, const uint64_t *want, size_t n)
{
	size_t i;

	assert_int_equal(c->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(c->seq[i], want[i]);
}

/* ---- creation and epoch ----------------------------------------------- */

static void
test_create_new(void **state)
{
	struct fx	*fx = *state;
	const char	*e;
	size_t		 i;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	assert_int_equal(access(fx->db, F_OK), 0);
	e = evlog_epoch(fx->log);
	assert_int_equal(strlen(e), EPOCH_HEX_LEN);
	for (i = 0; i < EPOCH_HEX_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", e[i]));
	check_bounds(fx->log, 0, 0);
}

static void
test_create_full_sync(void **state)
{
	struct fx *fx = *state;

	fx->log = open_log(fx->db, EVLOG_CREATE | EVLOG_SYNC_FULL);
	append_n(fx->log, "t", 1, 1000, NULL);
	check_bounds(fx->log, 1, 1);
}

static void
test_epoch_survives_reopen(void **state)
{
	struct fx	*fx = *state;
	char		 before[EPOCH_HEX_LEN + 1];

	fx->log = open_log(fx->db, EVLOG_CREATE);
	strcpy(before, evlog_epoch(fx->log));
	append_n(fx->log, "t", 2, 1000, NULL);
	evlog_close(fx->log);
	fx->log = open_log(fx->db, 0);
	assert_string_equal(evlog_epoch(fx->log), before);
	evlog_close(fx->log);
	/* EVLOG_CREATE on an existing log keeps it as it is. */
	fx->log = open_log(fx->db, EVLOG_CREATE);
	assert_string_equal(evlog_epoch(fx->log), before);
	check_bounds(fx->log, 1, 2);
}

static void
test_new_db_new_epoch(void **state)
{
	struct fx	*fx = *state;
	char		 other[320];

	tu_path(other, sizeof(other), fx->dir, "other.db");
	fx->log = open_log(fx->db, EVLOG_CREATE);
	fx->log2 = open_log(other, EVLOG_CREATE);
	/* 32 random bits each: equal only by a 1 in 4e9 accident. */
	assert_string_not_equal(evlog_epoch(fx->log), evlog_epoch(fx->log2));
}

static void
test_missing_without_create(void **state)
{
	struct fx	*fx = *state;
	struct evlog	*log = (struct evlog *)1;
	char		 err[512] = "";

	assert_int_equal(evlog_open(&log, fx->db, 0, err, sizeof(err)), -1);
	assert_null(log);
	assert_non_null(strstr(err, fx->db));
	assert_int_equal(access(fx->db, F_OK), -1);
}

/* ---- appending -------------------------------------------------------- */

static void
test_append_increasing(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 a[3], b[2];

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 3, 1000, a);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[1], 2);
	assert_int_equal(a[2], 3);
	append_n(fx->log, "u", 2, 1000, b);
	assert_int_equal(b[0], 4);
	assert_int_equal(b[1], 5);
	check_bounds(fx->log, 1, 5);
}

static void
test_append_zero(void **state)
{
	struct fx *fx = *state;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	assert_int_equal(evlog_append(fx->log, NULL, 0, 1000), 0);
	check_bounds(fx->log, 0, 0);
}

/* topic, event (NULL and "" both mean the default), data with a NUL, ts. */
static void
test_append_fields(void **state)
{
	struct fx		*fx = *state;
	struct evlog_new	 evs[3];
	struct collect		 c;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	memset(evs, 0, sizeof(evs));
	evs[0].topic = "a/b";
	evs[0].event = "update";
	evs[0].data = "x\0y";
	evs[0].data_len = 3;
	evs[1].topic = "c";
	evs[1].event = NULL;
	evs[1].data = "";
	evs[1].data_len = 0;
	evs[2].topic = "c";
	evs[2].event = "";
	evs[2].data = "z";
	evs[2].data_len = 1;
	assert_int_equal(evlog_append(fx->log, evs, 3, 1234567), 0);

	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 1 << 20, &c);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.topic[0], "a/b");
	assert_string_equal(c.event[0], "update");
	assert_int_equal(c.data_len[0], 3);
	assert_memory_equal(c.data[0], "x\0y", 3);
	assert_int_equal(c.ts[0], 1234567);
	assert_string_equal(c.event[1], "");
	assert_int_equal(c.data_len[1], 0);
	assert_string_equal(c.event[2], "");
	assert_int_equal(c.data_len[2], 1);
}

/* ---- bounds ----------------------------------------------------------- */

static void
test_bounds_empty(void **state)
{
	struct fx *fx = *state;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	check_bounds(fx->log, 0, 0);
}

static void
test_bounds_nonempty(void **state)
{
	struct fx *fx = *state;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 7, 1000, NULL);
	check_bounds(fx->log, 1, 7);
}

/* ---- reading ---------------------------------------------------------- */

/* Topics a, b, a, b, ...: seq 1, 3, 5, ... are "a". */
static void
fill_ab(struct evlog *log, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		append_n(log, i % 2 == 0 ? "a" : "b", 1, 1000, NULL);
}

static void
test_read_all_topics(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 1, 2, 3, 4, 5, 6 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 6);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 1 << 20, &c);
	check_seqs(&c, want, 6);
	assert_string_equal(c.topic[0], "a");
	assert_string_equal(c.topic[1], "b");
}

static void
test_read_one_topic(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 2, 4, 6 };
	size_t			 i;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 6);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, "b", 0, UINT64_MAX, 100, 1 << 20, &c);
	check_seqs(&c, want, 3);
	for (i = 0; i < c.n; i++)
		assert_string_equal(c.topic[i], "b");
}

static void
test_read_unknown_topic(void **state)
{
	struct fx	*fx = *state;
	struct collect	 c;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 4);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, "zzz", 0, UINT64_MAX, 100, 1 << 20, &c);
	assert_int_equal(c.n, 0);
}

/* after < seq <= upto. */
static void
test_read_after_upto(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 3, 4, 5 };
	static const uint64_t	 want_a[] = { 3, 5 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 8);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 2, 5, 100, 1 << 20, &c);
	check_seqs(&c, want, 3);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, "a", 2, 6, 100, 1 << 20, &c);
	check_seqs(&c, want_a, 2);
}

static void
test_read_empty_range(void **state)
{
	struct fx	*fx = *state;
	struct collect	 c;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 4);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 3, 3, 100, 1 << 20, &c);
	assert_int_equal(c.n, 0);
	read_into(fx->log, NULL, 4, 2, 100, 1 << 20, &c);
	assert_int_equal(c.n, 0);
	read_into(fx->log, NULL, 4, UINT64_MAX, 100, 1 << 20, &c);
	assert_int_equal(c.n, 0);
}

static void
test_read_max_rows(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 1, 2, 3 };
	static const uint64_t	 want_b[] = { 2, 4 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 8);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 3, 1 << 20, &c);
	check_seqs(&c, want, 3);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, "b", 0, UINT64_MAX, 2, 1 << 20, &c);
	check_seqs(&c, want_b, 2);
}

/* Data of 2 bytes each ("d0"): the read stops after the row that reaches
 * max_bytes, so 5 bytes take 3 rows and 6 bytes take 3 rows too. */
static void
test_read_max_bytes(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 1, 2, 3 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 8);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 5, &c);
	check_seqs(&c, want, 3);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 6, &c);
	check_seqs(&c, want, 3);
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 7, &c);
	assert_int_equal(c.n, 4);
	/* At least one row is always read. */
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 0, UINT64_MAX, 100, 1, &c);
	assert_int_equal(c.n, 1);
}

static void
test_read_callback_stop(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 1, 2 };
	static const uint64_t	 rest[] = { 3, 4, 5, 6 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 6);
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(evlog_read(fx->log, NULL, 0, UINT64_MAX, 100,
	    1 << 20, collect_row, &c), 0);
	check_seqs(&c, want, 2);
	/* The statement was left ready for the next read. */
	memset(&c, 0, sizeof(c));
	read_into(fx->log, NULL, 2, UINT64_MAX, 100, 1 << 20, &c);
	check_seqs(&c, rest, 4);
}

static void
test_read_callback_fail(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	static const uint64_t	 want[] = { 2, 4, 6 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fill_ab(fx->log, 6);
	memset(&c, 0, sizeof(c));
	c.fail_after = 2;
	assert_int_equal(evlog_read(fx->log, "b", 0, UINT64_MAX, 100,
	    1 << 20, collect_row, &c), -1);
	assert_int_equal(c.n, 1);
	/* A failed read leaves the log usable. */
	memset(&c, 0, sizeof(c));
	read_into(fx->log, "b", 0, UINT64_MAX, 100, 1 << 20, &c);
	check_seqs(&c, want, 3);
	append_n(fx->log, "a", 1, 1000, NULL);
	check_bounds(fx->log, 1, 7);
}

/* ---- pruning ---------------------------------------------------------- */

static void
test_prune_count(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 10, 1000, NULL);
	assert_int_equal(evlog_prune(fx->log, 3, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 7);
	check_bounds(fx->log, 8, 10);
	/* Nothing more to do. */
	assert_int_equal(evlog_prune(fx->log, 3, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 0);
	check_bounds(fx->log, 8, 10);
}

static void
test_prune_count_limited(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 10, 1000, NULL);
	assert_int_equal(evlog_prune(fx->log, 3, 0, 4, &deleted), 0);
	assert_int_equal(deleted, 4);
	check_bounds(fx->log, 5, 10);
	assert_int_equal(evlog_prune(fx->log, 3, 0, 4, &deleted), 0);
	assert_int_equal(deleted, 3);
	check_bounds(fx->log, 8, 10);
}

static void
test_prune_no_limits(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 5, 1000, NULL);
	assert_int_equal(evlog_prune(fx->log, 0, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(evlog_prune(fx->log, 5, 0, 100, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(evlog_prune(fx->log, 0, 1000, 100, &deleted), 0);
	assert_int_equal(deleted, 0);	/* ts < 1000 only */
	check_bounds(fx->log, 1, 5);
}

static void
test_prune_age(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 3, 1000, NULL);
	append_n(fx->log, "t", 3, 2000, NULL);
	append_n(fx->log, "t", 3, 3000, NULL);
	assert_int_equal(evlog_prune(fx->log, 0, 2500, 100, &deleted), 0);
	assert_int_equal(deleted, 6);
	check_bounds(fx->log, 7, 9);
}

static void
test_prune_age_limited(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 3, 1000, NULL);
	append_n(fx->log, "t", 3, 2000, NULL);
	append_n(fx->log, "t", 3, 3000, NULL);
	assert_int_equal(evlog_prune(fx->log, 0, 2500, 4, &deleted), 0);
	assert_int_equal(deleted, 4);
	check_bounds(fx->log, 5, 9);
	assert_int_equal(evlog_prune(fx->log, 0, 2500, 4, &deleted), 0);
	assert_int_equal(deleted, 2);
	check_bounds(fx->log, 7, 9);
	assert_int_equal(evlog_prune(fx->log, 0, 2500, 4, &deleted), 0);
	assert_int_equal(deleted, 0);
}

/* Both limits in one call share the row limit. */
static void
test_prune_count_and_age(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 4, 1000, NULL);
	append_n(fx->log, "t", 4, 3000, NULL);
	/* Count keeps 6 (deletes 1, 2), age then deletes 3, 4. */
	assert_int_equal(evlog_prune(fx->log, 6, 2000, 100, &deleted), 0);
	assert_int_equal(deleted, 4);
	check_bounds(fx->log, 5, 8);
	append_n(fx->log, "t", 4, 5000, NULL);
	assert_int_equal(evlog_prune(fx->log, 6, 4000, 3, &deleted), 0);
	assert_int_equal(deleted, 3);
	check_bounds(fx->log, 8, 12);
}

/* AUTOINCREMENT: an emptied log goes on counting, also after reopening. */
static void
test_prune_all_seq_continues(void **state)
{
	struct fx	*fx = *state;
	size_t		 deleted = 99;
	uint64_t	 seq;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 5, 1000, NULL);
	assert_int_equal(evlog_prune(fx->log, 0, 9999, 100, &deleted), 0);
	assert_int_equal(deleted, 5);
	check_bounds(fx->log, 0, 5);
	append_n(fx->log, "t", 1, 10000, &seq);
	assert_int_equal(seq, 6);
	check_bounds(fx->log, 6, 6);

	assert_int_equal(evlog_prune(fx->log, 0, 99999, 100, &deleted), 0);
	assert_int_equal(deleted, 1);
	evlog_close(fx->log);
	fx->log = open_log(fx->db, 0);
	check_bounds(fx->log, 0, 6);
	append_n(fx->log, "t", 1, 100000, &seq);
	assert_int_equal(seq, 7);
}

/* ---- schema version and foreign files --------------------------------- */

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char	*msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

static void
expect_refused(const char *path, int flags, const char *msg)
{
	struct evlog	*log = (struct evlog *)1;
	char		 err[512] = "";

	assert_int_equal(evlog_open(&log, path, flags, err, sizeof(err)), -1);
	assert_null(log);
	if (strstr(err, msg) == NULL || strstr(err, path) == NULL)
		fail_msg("error \"%s\" lacks \"%s\" or the path", err, msg);
}

static void
test_other_user_version(void **state)
{
	struct fx *fx = *state;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	evlog_close(fx->log);
	fx->log = NULL;
	sql_exec(fx->db, "PRAGMA user_version = 2");
	expect_refused(fx->db, 0, "database schema version 2, this build"
	    " knows 1");
	expect_refused(fx->db, EVLOG_CREATE, "database schema version 2");
}

static void
test_foreign_db_refused(void **state)
{
	struct fx *fx = *state;

	sql_exec(fx->db, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)");
	expect_refused(fx->db, 0, "not an ssereplay database");
	/* The foreign table was not touched. */
	sql_exec(fx->db, "SELECT x FROM notes");
}

static void
test_not_sqlite_refused(void **state)
{
	struct fx	*fx = *state;
	FILE		*f;
	int		 i;

	assert_non_null(f = fopen(fx->db, "w"));
	for (i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", f);
	fclose(f);
	expect_refused(fx->db, 0, "not a database");
	expect_refused(fx->db, EVLOG_CREATE, "not a database");
}

/* A read-only connection reads what a writer stored. */
static void
test_readonly_reads(void **state)
{
	struct fx		*fx = *state;
	struct collect		 c;
	struct evlog		*ro = NULL;
	struct evlog_new	 ev = { .topic = "t", .data = "x", .data_len = 1 };
	char			 err[512] = "";
	static const uint64_t	 want[] = { 1, 2, 3 };

	fx->log = open_log(fx->db, EVLOG_CREATE);
	append_n(fx->log, "t", 3, 1000, NULL);
	if (evlog_open(&ro, fx->db, EVLOG_READONLY, err, sizeof(err)) == -1)
		fail_msg("read-only open: %s", err);
	fx->log2 = ro;
	assert_string_equal(evlog_epoch(ro), evlog_epoch(fx->log));
	check_bounds(ro, 1, 3);
	memset(&c, 0, sizeof(c));
	read_into(ro, NULL, 0, UINT64_MAX, 100, 1 << 20, &c);
	check_seqs(&c, want, 3);
	/* ...and cannot write. */
	assert_int_equal(evlog_append(ro, &ev, 1, 1000), -1);
	assert_true(strlen(evlog_errmsg(ro)) > 0);
}

/* ---- several writers -------------------------------------------------- */

/* Two connections taking turns, as two processes would. */
static void
test_two_connections_alternate(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 seqs[3], prev = 0;
	int		 i;
	size_t		 j;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	fx->log2 = open_log(fx->db, 0);
	assert_string_equal(evlog_epoch(fx->log), evlog_epoch(fx->log2));
	for (i = 0; i < 100; i++) {
		append_n(i % 2 ? fx->log2 : fx->log, "t", (size_t)(i % 3) + 1,
		    1000, seqs);
		for (j = 0; j < (size_t)(i % 3) + 1; j++) {
			assert_int_equal(seqs[j], prev + 1);
			prev = seqs[j];
		}
		/* Each sees the other's appends at once. */
		check_bounds(i % 2 ? fx->log : fx->log2, 1, prev);
	}
}

#define FORK_EVENTS	500

/* Append FORK_EVENTS one by one on a new connection, after a byte on
 * start_fd (-1: at once). 0, or -1 with the failure in err. */
static int
fork_appender(const char *path, int start_fd, uint64_t *seqs, char *err,
    size_t errsz)
{
	struct evlog		*log = NULL;
	struct evlog_new	 ev;
	char			 data[32], go;
	int			 i, ret = -1;

	if (evlog_open(&log, path, 0, err, errsz) == -1)
		return -1;
	if (start_fd != -1 && read(start_fd, &go, 1) != 1) {
		snprintf(err, errsz, "start pipe closed");
		goto done;
	}
	for (i = 0; i < FORK_EVENTS; i++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(data, sizeof(data), "%d:%d", (int)getpid(), i);
		ev.topic = "t";
		ev.data = data;
		ev.data_len = strlen(data);
		if (evlog_append(log, &ev, 1, 1000) == -1) {
			snprintf(err, errsz, "append %d: %s", i,
			    evlog_errmsg(log));
			goto done;
		}
		seqs[i] = ev.seq;
	}
	ret = 0;
done:
	evlog_close(log);
	return ret;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A child process and the parent append at once: no "database is
 * locked", and 2 x FORK_EVENTS distinct sequence numbers. */
static void
test_fork_concurrent(void **state)
{
	struct fx	*fx = *state;
	uint64_t	 mine[FORK_EVENTS], theirs[FORK_EVENTS];
	uint64_t	 all[2 * FORK_EVENTS];
	char		 err[512] = "", cerr[512] = "";
	int		 go[2], res[2], status, i, rc;
	size_t		 got = 0;
	ssize_t		 r;
	pid_t		 pid;

	fx->log = open_log(fx->db, EVLOG_CREATE);
	evlog_close(fx->log);
	fx->log = NULL;
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(res), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(go[1]);
		close(res[0]);
		rc = fork_appender(fx->db, go[0], theirs, cerr, sizeof(cerr));
		if (rc == 0) {
			if (write(res[1], theirs, sizeof(theirs)) !=
			    (ssize_t)sizeof(theirs))
				_exit(3);
		} else
			(void)!write(res[1], cerr, strlen(cerr));
		_exit(rc == 0 ? 0 : 1);
	}
	close(go[0]);
	close(res[1]);
	/* Both start together: the child waits on the pipe. */
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	rc = fork_appender(fx->db, -1, mine, err, sizeof(err));
	while ((r = read(res[0], (char *)theirs + got,
	    sizeof(theirs) - got)) > 0)
		got += (size_t)r;
	close(res[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (rc == -1)
		fail_msg("parent: %s", err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("child failed: %.*s", (int)got, (char *)theirs);
	assert_int_equal(got, sizeof(theirs));

	/* Increasing within each process, distinct across both. */
	for (i = 1; i < FORK_EVENTS; i++) {
		assert_true(mine[i] > mine[i - 1]);
		assert_true(theirs[i] > theirs[i - 1]);
	}
	memcpy(all, mine, sizeof(mine));
	memcpy(all + FORK_EVENTS, theirs, sizeof(theirs));
	qsort(all, 2 * FORK_EVENTS, sizeof(all[0]), cmp_u64);
	for (i = 0; i < 2 * FORK_EVENTS; i++)
		assert_int_equal(all[i], (uint64_t)i + 1);
	fx->log = open_log(fx->db, 0);
	check_bounds(fx->log, 1, 2 * FORK_EVENTS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_create_new),
	T(test_create_full_sync),
	T(test_epoch_survives_reopen),
	T(test_new_db_new_epoch),
	T(test_missing_without_create),
	T(test_append_increasing),
	T(test_append_zero),
	T(test_append_fields),
	T(test_bounds_empty),
	T(test_bounds_nonempty),
	T(test_read_all_topics),
	T(test_read_one_topic),
	T(test_read_unknown_topic),
	T(test_read_after_upto),
	T(test_read_empty_range),
	T(test_read_max_rows),
	T(test_read_max_bytes),
	T(test_read_callback_stop),
	T(test_read_callback_fail),
	T(test_prune_count),
	T(test_prune_count_limited),
	T(test_prune_no_limits),
	T(test_prune_age),
	T(test_prune_age_limited),
	T(test_prune_count_and_age),
	T(test_prune_all_seq_continues),
	T(test_other_user_version),
	T(test_foreign_db_refused),
	T(test_not_sqlite_refused),
	T(test_readonly_reads),
	T(test_two_connections_alternate),
	T(test_fork_concurrent),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
