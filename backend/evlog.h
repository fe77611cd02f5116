/*
 * evlog.h: the durable event log, an SQLite database in WAL mode. All SQL of
 * ssereplay lives in evlog.c.
 *
 * Schema (PRAGMA user_version = 1):
 *   meta(key, value)        the epoch: random hex made at creation
 *   events(seq INTEGER PRIMARY KEY AUTOINCREMENT, topic, event, data, ts)
 *   events_topic_seq        index (topic, seq) for one-topic replay
 * AUTOINCREMENT means a sequence number is never reused, even after the
 * newest events are pruned. Only the oldest events are ever deleted, so the
 * retained sequence numbers are contiguous.
 *
 * One struct evlog is one SQLite connection: use it from one thread at a
 * time. Several connections and processes may write at once; SQLITE_BUSY is
 * waited out for up to DB_BUSY_TIMEOUT_MS and then reported as an error.
 *
 * Errors: functions return 0 or -1; evlog_errmsg() says what failed
 * (statement and SQLite's message).
 */
#ifndef SSEREPLAY_EVLOG_H
#define SSEREPLAY_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

struct evlog;

enum evlog_flags {
	EVLOG_CREATE	= 1 << 0,	/* create the file and schema if missing */
	EVLOG_SYNC_FULL	= 1 << 1,	/* fsync every commit (else NORMAL) */
	EVLOG_READONLY	= 1 << 2,
};

/* An event to append: borrowed pointers, seq filled in by evlog_append. */
struct evlog_new {
	const char	*topic;
	const char	*event;		/* NULL or "" = default type */
	const char	*data;
	size_t		 data_len;
	uint64_t	 want_seq;	/* 0, or the seq it must get (a copy
					 * that keeps ids; JetStream only) */
	uint64_t	 seq;		/* out */
};

/* A row handed to a read callback: valid only during the call. */
struct evlog_row {
	uint64_t	 seq;
	const char	*topic;
	size_t		 topic_len;
	const char	*event;		/* "" = default type */
	size_t		 event_len;
	const char	*data;
	size_t		 data_len;
	int64_t		 ts_ms;
};

/* Return 0 to go on, 1 to stop before the next row, -1 to fail. */
typedef int (*evlog_row_fn)(void *arg, const struct evlog_row *row);

/*
 * Open (and with EVLOG_CREATE create) the log at path. On failure returns
 * -1 with a message in err; *out is NULL.
 */
int evlog_open(struct evlog **out, const char *path, int flags, char *err,
    size_t errsz);

/* Close and free. Accepts NULL. */
void evlog_close(struct evlog *log);

/* The log's epoch, EPOCH_HEX_LEN hex chars, NUL-terminated. */
const char *evlog_epoch(const struct evlog *log);

/* The last error's text (static until the next call on this log). */
const char *evlog_errmsg(const struct evlog *log);

/*
 * Append n events in one transaction (group commit) and fill in their seq.
 * All or none are stored. ts_ms is the wall-clock time recorded for each.
 */
int evlog_append(struct evlog *log, struct evlog_new *evs, size_t n,
    int64_t ts_ms);

/*
 * First retained sequence number (0 if the log is empty) and the last one
 * ever assigned (0 if none), read in one snapshot.
 */
int evlog_bounds(struct evlog *log, uint64_t *first, uint64_t *last);

/*
 * Read events with after < seq <= upto in seq order, at most max_rows rows
 * and stopping after the row that reaches max_bytes of data, calling fn for
 * each. topic NULL reads every topic. Returns 0 (fn may have stopped
 * early) or -1.
 */
int evlog_read(struct evlog *log, const char *topic, uint64_t after,
    uint64_t upto, size_t max_rows, size_t max_bytes, evlog_row_fn fn,
    void *arg);

/*
 * Delete the oldest events beyond max_events (0 = no count limit) or with
 * ts_ms < min_ts_ms (0 = no age limit), at most limit rows in one
 * transaction. *deleted says how many went. An age limit may empty a
 * quiet log; sequence numbers still continue after it (AUTOINCREMENT).
 */
int evlog_prune(struct evlog *log, long long max_events, int64_t min_ts_ms,
    size_t limit, size_t *deleted);

#endif
