/*
 * logdrv.h: the event log as the rest of the backend sees it, whichever
 * store holds it. The hub, the committer, CGI and the command-line tools
 * use only this; `log` in the config picks the driver:
 *
 *   sqlite     evlog.h: an SQLite file, embedded (the default)
 *   jetstream  jslog.h: a NATS JetStream stream that several backends
 *              on several machines share
 *
 * What every driver guarantees:
 *   - append assigns each event a sequence number, strictly greater than
 *     every number assigned before, never reused; an event whose append
 *     returned its number is stored durably (SQLite: committed; JetStream:
 *     acknowledged by the stream, i.e. by a quorum of its replicas);
 *   - only the oldest events are ever removed (retention), so what is
 *     retained is the range first..last with nothing missing in between
 *     that was not already missing when it was appended;
 *   - read and read_new return events in sequence order;
 *   - the epoch (EPOCH_HEX_LEN hex) names this log: another log, or this
 *     one made anew, has another.
 *
 * One struct logdrv is used from one thread at a time; only the notify
 * callback of logdrv_follow() runs on another.
 *
 * Errors: functions return 0 or -1 (read also LOGDRV_PRUNED);
 * logdrv_errmsg() says what failed.
 */
#ifndef SSEREPLAY_LOGDRV_H
#define SSEREPLAY_LOGDRV_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evlog.h"

struct logdrv;

enum logdrv_flags {
	LOGDRV_CREATE	= 1 << 0,	/* make the file or stream if missing */
	LOGDRV_SYNC_FULL = 1 << 1,	/* SQLite: fsync every commit */
	LOGDRV_READONLY	= 1 << 2,	/* no appends will be made */
};

/* read(): what it read starts past events retention removed meanwhile. */
#define LOGDRV_PRUNED	1

/* The driver's operations; see the functions below for each contract. */
struct logdrv_ops {
	const char	*name;
	int		(*open)(void **, const struct config *, const char *,
			    int, char *, size_t);
	void		(*close)(void *);
	const char	*(*epoch)(const void *);
	const char	*(*errmsg)(const void *);
	int		(*append)(void *, struct evlog_new *, size_t, int64_t);
	int		(*bounds)(void *, uint64_t, uint64_t *, uint64_t *);
	int		(*read)(void *, const char *, uint64_t, uint64_t,
			    size_t, size_t, evlog_row_fn, void *);
	int		(*follow)(void *, uint64_t, void (*)(void *), void *);
	int		(*read_new)(void *, uint64_t, size_t, size_t,
			    evlog_row_fn, void *);
	int		(*prune)(void *, long long, int64_t, size_t, size_t *);
};

/*
 * Open the log cfg->log names: SQLite at dbpath (cfg->db when NULL), or
 * the JetStream stream of cfg->nats_*. Returns 0, or -1 with a message in
 * err; *out is NULL then.
 */
int logdrv_open(struct logdrv **out, const struct config *cfg,
    const char *dbpath, int flags, char *err, size_t errsz);

/* Close and free. Accepts NULL. */
void logdrv_close(struct logdrv *log);

/* "sqlite" or "jetstream". */
const char *logdrv_name(const struct logdrv *log);

/* The log's epoch, EPOCH_HEX_LEN hex chars, NUL-terminated. */
const char *logdrv_epoch(const struct logdrv *log);

/* The last error's text (valid until the next call on this log). */
const char *logdrv_errmsg(const struct logdrv *log);

/*
 * Append n events (one group) and fill in their seq; ts_ms is the time
 * recorded for SQLite (JetStream records its own). 0: all stored. -1:
 * the events whose seq is not 0 were stored, the others were not (SQLite
 * stores all or none; JetStream has no transactions and may store part
 * of a group, each event at most once).
 */
int logdrv_append(struct logdrv *log, struct evlog_new *evs, size_t n,
    int64_t ts_ms);

/*
 * First retained sequence number (0 if the log is empty) and the last one
 * ever assigned (0 if none). SQLite reads both in one snapshot. A driver
 * that caches them (JetStream, where asking is a round trip) answers from
 * a cache at most NATS_BOUNDS_STALE_MS old, and asks the log when the
 * cached last is below want: so a caller that holds an id up to want
 * (a client's resume point) never sees it as being from the future.
 */
int logdrv_bounds(struct logdrv *log, uint64_t want, uint64_t *first,
    uint64_t *last);

/*
 * Read events with after < seq <= upto in seq order, at most max_rows rows
 * and stopping after the row that reaches max_bytes of data, calling fn
 * for each (the row is valid during the call only). topic NULL reads every
 * topic. Returns 0 (fn may have stopped early), -1, or LOGDRV_PRUNED:
 * nothing was read because events after `after` were removed by
 * retention; logdrv_bounds() now has the new first.
 */
int logdrv_read(struct logdrv *log, const char *topic, uint64_t after,
    uint64_t upto, size_t max_rows, size_t max_bytes, evlog_row_fn fn,
    void *arg);

/*
 * Follow the log from after on: new events, whoever appended them, are
 * read with logdrv_read_new(), and notify(arg) is called (from another
 * thread: it must only wake the reader) when some arrive.
 * SQLite has nobody to tell it, so its readers poll read_new
 * (POLL_INTERVAL_MS); JetStream pushes. 0 or -1.
 */
int logdrv_follow(struct logdrv *log, uint64_t after,
    void (*notify)(void *), void *arg);

/*
 * Events after `after` in seq order (every topic), as read() with no
 * upper bound; after logdrv_follow() from the follower's buffer.
 */
int logdrv_read_new(struct logdrv *log, uint64_t after, size_t max_rows,
    size_t max_bytes, evlog_row_fn fn, void *arg);

/*
 * Retention: delete the oldest events beyond max_events (0 = no limit) or
 * with ts_ms < min_ts_ms (0 = no limit), at most limit in one step;
 * *deleted says how many went. A log with limits of its own (a JetStream
 * stream's max_msgs and max_age) deletes nothing here.
 */
int logdrv_prune(struct logdrv *log, long long max_events, int64_t min_ts_ms,
    size_t limit, size_t *deleted);

/* The drivers, for logdrv.c and the tests. */
extern const struct logdrv_ops logdrv_sqlite_ops;
extern const struct logdrv_ops logdrv_jetstream_ops;

#endif
