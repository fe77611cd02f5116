/*
 * evlog.c: the event log on SQLite. See evlog.h for the contract.
 *
 * Every statement is prepared once, from the table below, when the log is
 * opened; parameters are always bound, never formatted into SQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "evlog.h"

#define SCHEMA_VERSION	1

enum stmt_id {
	ST_BEGIN_IMMEDIATE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_FIRST,
	ST_LAST,
	ST_READ_ALL,
	ST_READ_TOPIC,
	ST_PRUNE_COUNT,
	ST_PRUNE_AGE,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT] =
	    "INSERT INTO events(topic, event, data, ts) VALUES (?1, ?2, ?3, ?4)",
	[ST_FIRST] = "SELECT min(seq) FROM events",
	[ST_LAST] = "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
	[ST_READ_ALL] =
	    "SELECT seq, topic, event, data, ts FROM events"
	    " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
	[ST_READ_TOPIC] =
	    "SELECT seq, topic, event, data, ts FROM events"
	    " WHERE topic = ?4 AND seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
	/* The oldest rows past the count limit, at most ?2 of them. */
	[ST_PRUNE_COUNT] =
	    "DELETE FROM events WHERE seq IN (SELECT seq FROM events"
	    " WHERE seq <= (SELECT max(seq) FROM events) - ?1"
	    " ORDER BY seq LIMIT ?2)",
	/* The oldest rows older than ?1; ts grows with seq, so stop at the
	 * first young one instead of scanning the table. */
	[ST_PRUNE_AGE] =
	    "DELETE FROM events WHERE seq IN (SELECT seq FROM events"
	    " ORDER BY seq LIMIT ?2) AND ts < ?1",
};

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS events("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  topic TEXT NOT NULL,"
	"  event TEXT NOT NULL DEFAULT '',"
	"  data BLOB NOT NULL,"
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS events_topic_seq ON events(topic, seq);";

struct evlog {
	sqlite3		*db;
	sqlite3_stmt	*st[ST__COUNT];
	char		 epoch[EPOCH_HEX_LEN + 1];
	char		 err[512];
};

static void
set_err(struct evlog *log, const char *what)
{
	snprintf(log->err, sizeof(log->err), "%s: %s", what,
	    log->db ? sqlite3_errmsg(log->db) : "out of memory");
}

/*
 * Step a statement, waiting out SQLITE_BUSY beyond what the busy handler
 * already waited (it does not cover every case, e.g. a lock upgrade), with
 * a bound so that a stuck writer elsewhere becomes an error, not a hang.
 */
static int
step(sqlite3_stmt *st)
{
	struct timespec	 pause = { 0, 2 * 1000 * 1000 };
	int		 rc, tries = 0;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return rc;
		if (++tries > DB_BUSY_TIMEOUT_MS / 2)
			return rc;
		sqlite3_reset(st);
		nanosleep(&pause, NULL);
	}
}

static int
exec_simple(struct evlog *log, enum stmt_id id)
{
	sqlite3_stmt	*st = log->st[id];
	int		 rc;

	rc = step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		set_err(log, stmt_sql[id]);
		return -1;
	}
	return 0;
}

/* Make the schema and epoch in a new database, or check an existing one. */
static int
init_schema(struct evlog *log, int create)
{
	sqlite3_stmt	*st = NULL;
	unsigned char	 rnd[EPOCH_HEX_LEN / 2];
	char		 epoch[EPOCH_HEX_LEN + 1];
	int		 version = -1, rc, ret = -1;
	size_t		 i;

	if (sqlite3_exec(log->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		set_err(log, "BEGIN IMMEDIATE");
		return -1;
	}
	if (sqlite3_prepare_v2(log->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		set_err(log, "PRAGMA user_version");
		goto done;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;

	if (version == 0) {
		if (!create) {
			snprintf(log->err, sizeof(log->err),
			    "not an ssereplay database (no schema)");
			goto done;
		}
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			snprintf(log->err, sizeof(log->err), "getrandom: %s",
			    strerror(errno));
			goto done;
		}
		for (i = 0; i < sizeof(rnd); i++)
			snprintf(epoch + 2 * i, 3, "%02x", rnd[i]);
		if (sqlite3_exec(log->db, schema_sql, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			set_err(log, "create schema");
			goto done;
		}
		if (sqlite3_prepare_v2(log->db,
		    "INSERT INTO meta(key, value) VALUES ('epoch', ?1)", -1,
		    &st, NULL) != SQLITE_OK) {
			set_err(log, "insert epoch");
			goto done;
		}
		sqlite3_bind_text(st, 1, epoch, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			set_err(log, "insert epoch");
			goto done;
		}
		sqlite3_finalize(st);
		st = NULL;
		if (sqlite3_exec(log->db, "PRAGMA user_version = 1", NULL, NULL,
		    NULL) != SQLITE_OK) {
			set_err(log, "PRAGMA user_version = 1");
			goto done;
		}
	} else if (version != SCHEMA_VERSION) {
		snprintf(log->err, sizeof(log->err),
		    "database schema version %d, this build knows %d", version,
		    SCHEMA_VERSION);
		goto done;
	}

	if (sqlite3_prepare_v2(log->db,
	    "SELECT value FROM meta WHERE key = 'epoch'", -1, &st, NULL) !=
	    SQLITE_OK) {
		set_err(log, "read epoch");
		goto done;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_bytes(st, 0) != EPOCH_HEX_LEN) {
		snprintf(log->err, sizeof(log->err), "database has no valid epoch");
		goto done;
	}
	memcpy(log->epoch, sqlite3_column_text(st, 0), EPOCH_HEX_LEN);
	log->epoch[EPOCH_HEX_LEN] = '\0';
	ret = 0;
done:
	sqlite3_finalize(st);
	sqlite3_exec(log->db, ret == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL,
	    NULL);
	return ret;
}

int
evlog_open(struct evlog **out, const char *path, int flags, char *err,
    size_t errsz)
{
	struct evlog	*log;
	int		 oflags, i;
	char		 pragma[64];

	*out = NULL;
	if ((log = calloc(1, sizeof(*log))) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	if (flags & EVLOG_READONLY)
		oflags = SQLITE_OPEN_READONLY;
	else
		oflags = SQLITE_OPEN_READWRITE |
		    ((flags & EVLOG_CREATE) ? SQLITE_OPEN_CREATE : 0);
	/* Each connection is used by one thread at a time: no mutex needed. */
	oflags |= SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &log->db, oflags, NULL) != SQLITE_OK) {
		snprintf(log->err, sizeof(log->err), "open: %s",
		    log->db ? sqlite3_errmsg(log->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(log->db, 1);
	sqlite3_busy_timeout(log->db, DB_BUSY_TIMEOUT_MS);
	if (!(flags & EVLOG_READONLY) &&
	    sqlite3_exec(log->db, "PRAGMA journal_mode = WAL", NULL, NULL,
	    NULL) != SQLITE_OK) {
		set_err(log, "PRAGMA journal_mode = WAL");
		goto fail;
	}
	/* WAL + NORMAL survives a crash of the process (the WAL is written
	 * before COMMIT returns); FULL also survives a crash of the machine. */
	snprintf(pragma, sizeof(pragma), "PRAGMA synchronous = %s",
	    (flags & EVLOG_SYNC_FULL) ? "FULL" : "NORMAL");
	if (sqlite3_exec(log->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		set_err(log, pragma);
		goto fail;
	}
	if (init_schema(log, !(flags & EVLOG_READONLY) &&
	    (flags & EVLOG_CREATE)) == -1)
		goto fail;
	for (i = 0; i < ST__COUNT; i++) {
		if (sqlite3_prepare_v3(log->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &log->st[i], NULL) != SQLITE_OK) {
			set_err(log, stmt_sql[i]);
			goto fail;
		}
	}
	*out = log;
	return 0;
fail:
	snprintf(err, errsz, "%s: %s", path, log->err);
	evlog_close(log);
	return -1;
}

void
evlog_close(struct evlog *log)
{
	int i;

	if (log == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(log->st[i]);
	sqlite3_close(log->db);
	free(log);
}

const char *
evlog_epoch(const struct evlog *log)
{
	return log->epoch;
}

const char *
evlog_errmsg(const struct evlog *log)
{
	return log->err;
}

int
evlog_append(struct evlog *log, struct evlog_new *evs, size_t n, int64_t ts_ms)
{
	sqlite3_stmt	*st = log->st[ST_INSERT];
	size_t		 i;
	const char	*ev;

	if (n == 0)
		return 0;
	if (exec_simple(log, ST_BEGIN_IMMEDIATE) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		ev = evs[i].event != NULL ? evs[i].event : "";
		sqlite3_bind_text(st, 1, evs[i].topic, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ev, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, evs[i].data, evs[i].data_len,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, ts_ms);
		if (sqlite3_step(st) != SQLITE_DONE) {
			set_err(log, stmt_sql[ST_INSERT]);
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			exec_simple(log, ST_ROLLBACK);
			return -1;
		}
		evs[i].seq = (uint64_t)sqlite3_last_insert_rowid(log->db);
		sqlite3_reset(st);
	}
	sqlite3_clear_bindings(st);
	if (exec_simple(log, ST_COMMIT) == -1) {
		exec_simple(log, ST_ROLLBACK);
		return -1;
	}
	return 0;
}

static int
read_u64(struct evlog *log, enum stmt_id id, uint64_t *out)
{
	sqlite3_stmt	*st = log->st[id];
	int		 rc;

	*out = 0;
	rc = step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			*out = (uint64_t)sqlite3_column_int64(st, 0);
	} else if (rc != SQLITE_DONE) {
		set_err(log, stmt_sql[id]);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
evlog_bounds(struct evlog *log, uint64_t *first, uint64_t *last)
{
	int ret = -1;

	/* One read transaction, so the two values belong together. */
	if (exec_simple(log, ST_BEGIN) == -1)
		return -1;
	if (read_u64(log, ST_FIRST, first) == 0 &&
	    read_u64(log, ST_LAST, last) == 0)
		ret = 0;
	exec_simple(log, ST_COMMIT);
	return ret;
}

int
evlog_read(struct evlog *log, const char *topic, uint64_t after,
    uint64_t upto, size_t max_rows, size_t max_bytes, evlog_row_fn fn,
    void *arg)
{
	sqlite3_stmt	*st;
	struct evlog_row row;
	enum stmt_id	 id = topic != NULL ? ST_READ_TOPIC : ST_READ_ALL;
	size_t		 bytes = 0;
	int		 rc, r, ret = -1;

	if (upto > (uint64_t)INT64_MAX)
		upto = INT64_MAX;
	if (after >= upto)
		return 0;
	st = log->st[id];
	sqlite3_bind_int64(st, 1, (int64_t)after);
	sqlite3_bind_int64(st, 2, (int64_t)upto);
	sqlite3_bind_int64(st, 3, (int64_t)max_rows);
	if (topic != NULL)
		sqlite3_bind_text(st, 4, topic, -1, SQLITE_STATIC);
	for (;;) {
		rc = step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			set_err(log, stmt_sql[id]);
			goto done;
		}
		row.seq = (uint64_t)sqlite3_column_int64(st, 0);
		row.topic = (const char *)sqlite3_column_text(st, 1);
		row.topic_len = (size_t)sqlite3_column_bytes(st, 1);
		row.event = (const char *)sqlite3_column_text(st, 2);
		row.event_len = (size_t)sqlite3_column_bytes(st, 2);
		row.data = sqlite3_column_blob(st, 3);
		row.data_len = (size_t)sqlite3_column_bytes(st, 3);
		row.ts_ms = sqlite3_column_int64(st, 4);
		if (row.topic == NULL || row.event == NULL) {
			snprintf(log->err, sizeof(log->err), "out of memory");
			goto done;
		}
		if (row.data == NULL)
			row.data = "";
		r = fn(arg, &row);
		if (r < 0)
			goto done;
		if (r > 0)
			break;
		bytes += row.data_len;
		if (bytes >= max_bytes)
			break;
	}
	ret = 0;
done:
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int
evlog_prune(struct evlog *log, long long max_events, int64_t min_ts_ms,
    size_t limit, size_t *deleted)
{
	sqlite3_stmt	*st;
	int		 rc;

	*deleted = 0;
	if (exec_simple(log, ST_BEGIN_IMMEDIATE) == -1)
		return -1;
	if (max_events > 0) {
		st = log->st[ST_PRUNE_COUNT];
		sqlite3_bind_int64(st, 1, max_events);
		sqlite3_bind_int64(st, 2, (int64_t)limit);
		rc = step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			set_err(log, stmt_sql[ST_PRUNE_COUNT]);
			goto fail;
		}
		*deleted += (size_t)sqlite3_changes(log->db);
	}
	if (min_ts_ms > 0 && *deleted < limit) {
		st = log->st[ST_PRUNE_AGE];
		sqlite3_bind_int64(st, 1, min_ts_ms);
		sqlite3_bind_int64(st, 2, (int64_t)(limit - *deleted));
		rc = step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			set_err(log, stmt_sql[ST_PRUNE_AGE]);
			goto fail;
		}
		*deleted += (size_t)sqlite3_changes(log->db);
	}
	if (exec_simple(log, ST_COMMIT) == -1)
		goto fail;
	return 0;
fail:
	*deleted = 0;
	exec_simple(log, ST_ROLLBACK);
	return -1;
}
