/*
 * logdrv.c: the log driver dispatch (logdrv.h), and the SQLite driver,
 * which is evlog.c as it always was: this file only adapts its calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logdrv.h"

struct logdrv {
	const struct logdrv_ops	*ops;
	void			*impl;
};

/* ---- SQLite ------------------------------------------------------------ */

static int
sq_open(void **out, const struct config *cfg, const char *dbpath, int flags,
    char *err, size_t errsz)
{
	struct evlog	*log;
	int		 ef = 0;

	if (dbpath == NULL)
		dbpath = cfg->db;
	if (flags & LOGDRV_CREATE)
		ef |= EVLOG_CREATE;
	if (flags & LOGDRV_SYNC_FULL)
		ef |= EVLOG_SYNC_FULL;
	if (flags & LOGDRV_READONLY)
		ef |= EVLOG_READONLY;
	if (evlog_open(&log, dbpath, ef, err, errsz) == -1)
		return -1;
	*out = log;
	return 0;
}

static void
sq_close(void *impl)
{
	evlog_close(impl);
}

static const char *
sq_epoch(const void *impl)
{
	return evlog_epoch(impl);
}

static const char *
sq_errmsg(const void *impl)
{
	return evlog_errmsg(impl);
}

static int
sq_append(void *impl, struct evlog_new *evs, size_t n, int64_t ts_ms)
{
	size_t	 i;

	if (evlog_append(impl, evs, n, ts_ms) == 0)
		return 0;
	/* Rolled back: none is stored, whatever seq it was given. */
	for (i = 0; i < n; i++)
		evs[i].seq = 0;
	return -1;
}

static int
sq_bounds(void *impl, uint64_t want, uint64_t *first, uint64_t *last)
{
	(void)want;	/* one local query: always current */
	return evlog_bounds(impl, first, last);
}

static int
sq_read(void *impl, const char *topic, uint64_t after, uint64_t upto,
    size_t max_rows, size_t max_bytes, evlog_row_fn fn, void *arg)
{
	return evlog_read(impl, topic, after, upto, max_rows, max_bytes, fn,
	    arg);
}

static int
sq_follow(void *impl, uint64_t after, void (*notify)(void *), void *arg)
{
	/* Nobody tells an SQLite reader: read_new is polled. */
	(void)impl;
	(void)after;
	(void)notify;
	(void)arg;
	return 0;
}

static int
sq_read_new(void *impl, uint64_t after, size_t max_rows, size_t max_bytes,
    evlog_row_fn fn, void *arg)
{
	return evlog_read(impl, NULL, after, INT64_MAX, max_rows, max_bytes,
	    fn, arg);
}

static int
sq_prune(void *impl, long long max_events, int64_t min_ts_ms, size_t limit,
    size_t *deleted)
{
	return evlog_prune(impl, max_events, min_ts_ms, limit, deleted);
}

const struct logdrv_ops logdrv_sqlite_ops = {
	"sqlite", sq_open, sq_close, sq_epoch, sq_errmsg, sq_append,
	sq_bounds, sq_read, sq_follow, sq_read_new, sq_prune,
};

/* ---- dispatch ---------------------------------------------------------- */

int
logdrv_open(struct logdrv **out, const struct config *cfg,
    const char *dbpath, int flags, char *err, size_t errsz)
{
	struct logdrv	*log;

	*out = NULL;
	if ((log = calloc(1, sizeof(*log))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	log->ops = cfg->log == LOG_JETSTREAM ? &logdrv_jetstream_ops :
	    &logdrv_sqlite_ops;
	if (log->ops->open(&log->impl, cfg, dbpath, flags, err, errsz) ==
	    -1) {
		free(log);
		return -1;
	}
	*out = log;
	return 0;
}

void
logdrv_close(struct logdrv *log)
{
	if (log == NULL)
		return;
	log->ops->close(log->impl);
	free(log);
}

const char *
logdrv_name(const struct logdrv *log)
{
	return log->ops->name;
}

const char *
logdrv_epoch(const struct logdrv *log)
{
	return log->ops->epoch(log->impl);
}

const char *
logdrv_errmsg(const struct logdrv *log)
{
	return log->ops->errmsg(log->impl);
}

int
logdrv_append(struct logdrv *log, struct evlog_new *evs, size_t n,
    int64_t ts_ms)
{
	return log->ops->append(log->impl, evs, n, ts_ms);
}

int
logdrv_bounds(struct logdrv *log, uint64_t want, uint64_t *first,
    uint64_t *last)
{
	return log->ops->bounds(log->impl, want, first, last);
}

int
logdrv_read(struct logdrv *log, const char *topic, uint64_t after,
    uint64_t upto, size_t max_rows, size_t max_bytes, evlog_row_fn fn,
    void *arg)
{
	return log->ops->read(log->impl, topic, after, upto, max_rows,
	    max_bytes, fn, arg);
}

int
logdrv_follow(struct logdrv *log, uint64_t after, void (*notify)(void *),
    void *arg)
{
	return log->ops->follow(log->impl, after, notify, arg);
}

int
logdrv_read_new(struct logdrv *log, uint64_t after, size_t max_rows,
    size_t max_bytes, evlog_row_fn fn, void *arg)
{
	return log->ops->read_new(log->impl, after, max_rows, max_bytes, fn,
	    arg);
}

int
logdrv_prune(struct logdrv *log, long long max_events, int64_t min_ts_ms,
    size_t limit, size_t *deleted)
{
	return log->ops->prune(log->impl, max_events, min_ts_ms, limit,
	    deleted);
}
