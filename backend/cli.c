/* cli.c: publish, tail, token and migrate. See cli.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cli.h"
#include "config.h"
#include "eventid.h"
#include "jslog.h"
#include "logdrv.h"
#include "bounds.h"
#include "sse.h"
#include "valid.h"

#define TAIL_POLL_MS	100

/* The settings the tools read (large: off the stack). */
static struct config cli_cfg, cli_cfg2;

static int
usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "ssereplay %s: %s%s%s\n", cmd, msg, arg ? ": " : "",
	    arg ? arg : "");
	fprintf(stderr, "usage: ssereplay publish LOG --topic T"
	    " [--event TYPE] [DATA | - | --lines]\n"
	    "       ssereplay tail LOG [--topic T] [--after ID]"
	    " [--follow]\n"
	    "       ssereplay token --user U --topics P[,P...] [--ttl 1h]"
	    " [--config FILE]\n"
	    "       ssereplay migrate --from sqlite:FILE --to jetstream:URL"
	    " [--config FILE] [--nats-KEY VALUE ...]\n"
	    "LOG is --db FILE, --log sqlite:FILE|jetstream:URL[,URL...], or"
	    " --config FILE (its log and nats_* keys).\n");
	return 2;
}

/*
 * The log options the tools share: --config FILE, --db FILE, --log SPEC
 * and --nats-KEY VALUE (any nats_* config key). Takes argv[*i] (and its
 * value) into cfg if it is one of them: 1 taken, 0 not one, -1 bad
 * (message printed). cfg must hold the defaults first.
 */
static int
log_option(const char *cmd, struct config *cfg, int argc, char **argv,
    int *i, int *have_log)
{
	char	 key[64], err[1024];
	size_t	 k;
	int	 rc;

	if (strcmp(argv[*i], "--config") != 0 && strcmp(argv[*i], "--db") != 0
	    && strcmp(argv[*i], "--log") != 0 &&
	    strncmp(argv[*i], "--nats-", 7) != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "ssereplay %s: %s needs a value\n", cmd,
		    argv[*i]);
		return -1;
	}
	if (strcmp(argv[*i], "--config") == 0)
		rc = config_load(cfg, argv[*i + 1], err, sizeof(err));
	else if (strcmp(argv[*i], "--db") == 0) {
		rc = config_set(cfg, "db", argv[*i + 1], err, sizeof(err));
		if (rc == 0)
			cfg->log = LOG_SQLITE;
	} else if (strcmp(argv[*i], "--log") == 0)
		rc = config_set_log_spec(cfg, argv[*i + 1], err, sizeof(err));
	else {
		for (k = 0; argv[*i][k + 2] != '\0' && k + 1 < sizeof(key);
		    k++)
			key[k] = argv[*i][k + 2] == '-' ? '_' : argv[*i][k + 2];
		key[k] = '\0';
		rc = config_set(cfg, key, argv[*i + 1], err, sizeof(err));
	}
	if (rc == -1) {
		fprintf(stderr, "ssereplay %s: %s\n", cmd, err);
		return -1;
	}
	*have_log = 1;
	(*i)++;
	return 1;
}

/* Read all of stdin, at most max bytes. -1 if larger or on error. */
static long
read_stdin(size_t max, char **out)
{
	size_t	 cap = 4096, len = 0;
	char	*buf, *grown;
	ssize_t	 n;

	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;
			cap *= 2;
			if ((grown = realloc(buf, cap)) == NULL)
				break;
			buf = grown;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		if (n == 0) {
			*out = buf;
			return len > max ? -1 : (long)len;
		}
		len += (size_t)n;
	}
	free(buf);
	return -1;
}

/*
 * --lines: every line of stdin (LF or CR LF ended) is the data of one
 * event; events are committed COMMIT_BATCH_MAX at a time, so a bulk import
 * costs one fsync per batch, not per event.
 */
/*
 * Read one line of stdin into buf (without its LF), at most cap bytes; a
 * longer line is consumed and reported as cap bytes long, so the caller
 * sees that it is too long. Returns the length, or -1 at end of input.
 */
static ssize_t
read_line(char *buf, size_t cap)
{
	size_t	len = 0;
	int	c;

	while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
		if (len < cap)
			buf[len++] = (char)c;
	}
	if (c == EOF && len == 0)
		return -1;
	return (ssize_t)len;
}

static int
publish_lines(struct logdrv *log, const char *topic, const char *event,
    size_t max)
{
	struct evlog_new	*batch = NULL;
	struct timespec		 ts;
	char			**lines = NULL, *line = NULL, id[EVENT_ID_MAX + 1];
	size_t			 cap = 0, n = 0, i, len;
	unsigned long long	 lineno = 0, total = 0;
	uint64_t		 first = 0, last = 0;
	ssize_t			 got;
	int			 status = 1, eof = 0;

	cap = max + 2;	/* the data, a CR, and one byte to see it is too long */
	batch = calloc(COMMIT_BATCH_MAX, sizeof(*batch));
	lines = calloc(COMMIT_BATCH_MAX, sizeof(*lines));
	line = malloc(cap);
	if (batch == NULL || lines == NULL || line == NULL) {
		fprintf(stderr, "ssereplay publish: out of memory\n");
		goto done;
	}
	while (!eof) {
		n = 0;
		while (n < COMMIT_BATCH_MAX) {
			if ((got = read_line(line, cap)) == -1) {
				eof = 1;
				break;
			}
			lineno++;
			len = (size_t)got;
			if (len > 0 && line[len - 1] == '\r')
				len--;
			if (len > max || !valid_utf8(line, len)) {
				fprintf(stderr, "ssereplay publish: stdin line"
				    " %llu: %s; %llu events before it were"
				    " published\n", lineno, len > max ?
				    "larger than max_event_size" :
				    "not valid UTF-8", total);
				goto done;
			}
			if ((lines[n] = malloc(len + 1)) == NULL) {
				fprintf(stderr, "ssereplay publish: out of"
				    " memory\n");
				goto done;
			}
			memcpy(lines[n], line, len);
			lines[n][len] = '\0';
			batch[n].topic = topic;
			batch[n].event = event;
			batch[n].data = lines[n];
			batch[n].data_len = len;
			n++;
		}
		if (n == 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (logdrv_append(log, batch, n, (int64_t)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000) == -1) {
			fprintf(stderr, "ssereplay publish: %s; %llu events"
			    " before line %llu were published\n",
			    logdrv_errmsg(log), total, lineno - n + 1);
			goto done;
		}
		if (total == 0)
			first = batch[0].seq;
		last = batch[n - 1].seq;
		total += n;
		for (i = 0; i < n; i++) {
			free(lines[i]);
			lines[i] = NULL;
		}
	}
	if (total > 0) {
		eventid_format(id, sizeof(id), logdrv_epoch(log), first);
		printf("%llu events, %s", total, id);
		eventid_format(id, sizeof(id), logdrv_epoch(log), last);
		printf(" .. %s\n", id);
	} else
		printf("0 events\n");
	status = 0;
done:
	if (lines != NULL)
		for (i = 0; i < COMMIT_BATCH_MAX; i++)
			free(lines[i]);
	free(lines);
	free(batch);
	free(line);
	return status;
}

int
cli_publish(int argc, char **argv)
{
	struct evlog_new	 ev;
	struct logdrv		*log = NULL;
	struct timespec		 ts;
	const char		*topic = NULL, *event = "";
	const char		*arg = NULL;
	char			*data = NULL, err[1024], id[EVENT_ID_MAX + 1];
	size_t			 max = EVENT_SIZE_DEFAULT, len;
	long			 n;
	int			 i, r, status = 1, by_line = 0, have_log = 0;

	config_defaults(&cli_cfg);
	for (i = 0; i < argc; i++) {
		if ((r = log_option("publish", &cli_cfg, argc, argv, &i,
		    &have_log)) == -1)
			return 2;
		else if (r == 1)
			continue;
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
			topic = argv[++i];
		else if (strcmp(argv[i], "--event") == 0 && i + 1 < argc)
			event = argv[++i];
		else if (strcmp(argv[i], "--lines") == 0)
			by_line = 1;
		else if (strcmp(argv[i], "--") == 0 && i + 2 == argc)
			arg = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("publish", "unknown option or"
			    " missing value", argv[i]);
		else if (arg == NULL)
			arg = argv[i];
		else
			return usage_error("publish", "more than one DATA",
			    argv[i]);
	}
	if (!have_log || topic == NULL)
		return usage_error("publish", "a log (--db, --log or --config)"
		    " and --topic are required", NULL);
	if (!valid_topic(topic, strlen(topic)))
		return usage_error("publish", "bad topic (1 to 128 of"
		    " A-Z a-z 0-9 . _ / -)", topic);
	if (strcmp(event, "message") == 0)
		event = "";
	if (*event && !valid_event_name(event, strlen(event)))
		return usage_error("publish", "bad event type (1 to 64 of"
		    " A-Z a-z 0-9 . _ : -)", event);
	if (by_line) {
		if (arg != NULL)
			return usage_error("publish", "--lines reads stdin:"
			    " no DATA argument", arg);
		if (logdrv_open(&log, &cli_cfg, NULL, LOGDRV_CREATE |
		    LOGDRV_SYNC_FULL, err, sizeof(err)) == -1) {
			fprintf(stderr, "ssereplay publish: %s\n", err);
			return 1;
		}
		status = publish_lines(log, topic, event, max);
		logdrv_close(log);
		return status;
	}
	if (arg == NULL || strcmp(arg, "-") == 0) {
		if ((n = read_stdin(max, &data)) < 0) {
			fprintf(stderr, "ssereplay publish: data from stdin"
			    " is larger than %zu bytes or unreadable\n", max);
			return 1;
		}
		len = (size_t)n;
	} else {
		len = strlen(arg);
		if ((data = strdup(arg)) == NULL)
			return 1;
	}
	if (len > max) {
		fprintf(stderr, "ssereplay publish: data is larger than %zu"
		    " bytes\n", max);
		goto done;
	}
	if (!valid_utf8(data, len)) {
		fprintf(stderr, "ssereplay publish: data is not valid UTF-8\n");
		goto done;
	}
	if (logdrv_open(&log, &cli_cfg, NULL, LOGDRV_CREATE |
	    LOGDRV_SYNC_FULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay publish: %s\n", err);
		goto done;
	}
	memset(&ev, 0, sizeof(ev));
	ev.topic = topic;
	ev.event = event;
	ev.data = data;
	ev.data_len = len;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (logdrv_append(log, &ev, 1,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == -1) {
		fprintf(stderr, "ssereplay publish: %s\n", logdrv_errmsg(log));
		goto done;
	}
	eventid_format(id, sizeof(id), logdrv_epoch(log), ev.seq);
	printf("%s\n", id);
	status = 0;
done:
	logdrv_close(log);
	free(data);
	return status;
}

struct tail_out {
	const char	*epoch;
	char		*buf;
	size_t		 cap;
	uint64_t	 last;
	int		 failed;
};

static int
tail_row(void *arg, const struct evlog_row *row)
{
	struct tail_out	*t = arg;
	char		 id[EVENT_ID_MAX + 1], *grown;
	size_t		 need;
	ssize_t		 n;

	t->last = row->seq;
	need = sse_encoded_max(row->event_len, row->data_len);
	if (need > t->cap) {
		if ((grown = realloc(t->buf, need)) == NULL)
			return -1;
		t->buf = grown;
		t->cap = need;
	}
	eventid_format(id, sizeof(id), t->epoch, row->seq);
	n = sse_encode(t->buf, t->cap, id, row->event, row->event_len,
	    row->data, row->data_len);
	if (n < 0)
		return 0;
	if (fwrite(t->buf, 1, (size_t)n, stdout) != (size_t)n) {
		t->failed = 1;
		return -1;
	}
	return 0;
}

int
cli_tail(int argc, char **argv)
{
	struct tail_out		 t;
	struct resume_point	 after;
	struct logdrv		*log = NULL;
	struct timespec		 pause = { 0, TAIL_POLL_MS * 1000000L };
	const char		*topic = NULL, *after_s = NULL;
	char			 err[1024];
	uint64_t		 before;
	int			 i, r, follow = 0, status = 1, have_log = 0;

	config_defaults(&cli_cfg);
	for (i = 0; i < argc; i++) {
		if ((r = log_option("tail", &cli_cfg, argc, argv, &i,
		    &have_log)) == -1)
			return 2;
		else if (r == 1)
			continue;
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
			topic = argv[++i];
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc)
			after_s = argv[++i];
		else if (strcmp(argv[i], "--follow") == 0 ||
		    strcmp(argv[i], "-f") == 0)
			follow = 1;
		else
			return usage_error("tail", "unknown option or missing"
			    " value", argv[i]);
	}
	if (!have_log)
		return usage_error("tail", "a log (--db, --log or --config) is"
		    " required", NULL);
	if (topic != NULL && !valid_topic(topic, strlen(topic)))
		return usage_error("tail", "bad topic", topic);
	memset(&after, 0, sizeof(after));
	if (after_s != NULL &&
	    eventid_parse(after_s, strlen(after_s), &after) == -1)
		return usage_error("tail", "bad --after (EPOCH-SEQ or SEQ)",
		    after_s);
	if (cli_cfg.log == LOG_SQLITE && access(cli_cfg.db, F_OK) == -1) {
		fprintf(stderr, "ssereplay tail: %s: %s\n", cli_cfg.db,
		    strerror(errno));
		return 1;
	}
	if (logdrv_open(&log, &cli_cfg, NULL, LOGDRV_READONLY, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay tail: %s\n", err);
		return 1;
	}
	if (after.has_epoch && strcmp(after.epoch, logdrv_epoch(log)) != 0) {
		fprintf(stderr, "ssereplay tail: --after %s belongs to another"
		    " log (this one's epoch is %s)\n", after_s,
		    logdrv_epoch(log));
		logdrv_close(log);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&t, 0, sizeof(t));
	t.epoch = logdrv_epoch(log);
	t.last = after.seq;
	for (;;) {
		before = t.last;
		r = logdrv_read(log, topic, t.last, INT64_MAX, 4096,
		    4 * 1024 * 1024, tail_row, &t);
		if (r == -1) {
			if (!t.failed)
				fprintf(stderr, "ssereplay tail: %s\n",
				    logdrv_errmsg(log));
			goto done;
		}
		if (r == LOGDRV_PRUNED) {
			/* Retention was faster: go on from what is left. */
			uint64_t first, last;

			if (logdrv_bounds(log, 0, &first, &last) == 0 &&
			    first > t.last + 1)
				t.last = first - 1;
			continue;
		}
		if (fflush(stdout) == EOF)
			goto done;
		if (t.last != before)
			continue;
		if (!follow)
			break;
		nanosleep(&pause, NULL);
	}
	status = 0;
done:
	if (t.failed && errno == EPIPE)
		status = 0;
	free(t.buf);
	logdrv_close(log);
	return status;
}

/* "90", "90s", "15m", "12h", "7d" in seconds; -1 if not that. */
static long long
parse_ttl(const char *s)
{
	long long	 v = 0;
	const char	*p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100LL * 365 * 86400)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (strcmp(p, "") == 0 || strcmp(p, "s") == 0)
		return v;
	if (strcmp(p, "m") == 0)
		return v * 60;
	if (strcmp(p, "h") == 0)
		return v * 3600;
	if (strcmp(p, "d") == 0)
		return v * 86400;
	return -1;
}

int
cli_token(int argc, char **argv)
{
	static struct config	 cfg;	/* large */
	const char		*user = NULL, *topics = NULL, *conf = NULL;
	const char		*key = getenv("SSEREPLAY_TOKEN_KEY");
	const char		*pats[TOKEN_PATTERNS_MAX];
	char			 list[TOKEN_PATTERNS_MAX * (TOPIC_MAX + 1)];
	char			 err[1024], out[ACCESS_TOKEN_MAX + 1], *p;
	long long		 ttl = 3600;
	int			 i, n = 0;

	config_defaults(&cfg);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--topics") == 0 && i + 1 < argc)
			topics = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
			if ((ttl = parse_ttl(argv[++i])) <= 0)
				return usage_error("token", "bad --ttl (e.g."
				    " 900, 15m, 12h, 7d)", argv[i]);
		} else
			return usage_error("token", "unknown option or"
			    " missing value", argv[i]);
	}
	if (user == NULL || topics == NULL)
		return usage_error("token", "--user and --topics are required",
		    NULL);
	if (conf != NULL && config_load(&cfg, conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay token: %s\n", err);
		return 1;
	}
	if (cfg.token_key[0] == '\0' && key != NULL &&
	    config_set(&cfg, "token_key", key, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay token: SSEREPLAY_TOKEN_KEY: %s\n",
		    err);
		return 1;
	}
	if (cfg.token_key[0] == '\0')
		return usage_error("token", "no key: --config FILE with"
		    " token_key, or SSEREPLAY_TOKEN_KEY", NULL);
	if (strlen(topics) >= sizeof(list))
		return usage_error("token", "--topics too long", NULL);
	strcpy(list, topics);
	for (p = strtok(list, ","); p != NULL; p = strtok(NULL, ",")) {
		if (n == TOKEN_PATTERNS_MAX)
			return usage_error("token", "more than 16 patterns",
			    NULL);
		pats[n++] = p;
	}
	if (auth_token_mint(&cfg, user, pats, n, (int64_t)time(NULL) + ttl,
	    out, sizeof(out)) < 0)
		return usage_error("token", "cannot mint: --user must be 1 to"
		    " 64 of A-Z a-z 0-9 . _ -, --topics 1 to 16 topic patterns"
		    " ({user} segments, a final *)", NULL);
	printf("%s\n", out);
	return 0;
}

/*
 * migrate: copy an SQLite log into a JetStream stream, keeping the ids.
 * The stream is made (or must be empty), its epoch pinned to the SQLite
 * log's and its next sequence set to the first event's, so that every
 * copied event gets the sequence number it had: clients resume across the
 * move without a gap. Events are read in batches and appended as groups
 * (the append retries idempotently; a failure stops the copy, and running
 * it again refuses the half-filled stream: delete it first).
 */
struct copy_batch {
	struct evlog_new	*evs;
	uint64_t		*want;	/* the source's seq of each */
	char			*mem;
	size_t			 n, cap, used, mem_cap;
};

static int
copy_row(void *arg, const struct evlog_row *row)
{
	struct copy_batch	*b = arg;
	size_t			 need = row->topic_len + 1 + row->event_len + 1 +
				    row->data_len + 1;
	char			*p;

	if (b->n == b->cap || b->used + need > b->mem_cap)
		return 1;	/* full: this row goes in the next batch */
	if (row->topic_len == 0)
		return 0;	/* not an event of ours */
	p = b->mem + b->used;
	memcpy(p, row->topic, row->topic_len);
	p[row->topic_len] = '\0';
	b->evs[b->n].topic = p;
	p += row->topic_len + 1;
	memcpy(p, row->event, row->event_len);
	p[row->event_len] = '\0';
	b->evs[b->n].event = p;
	p += row->event_len + 1;
	memcpy(p, row->data, row->data_len);
	p[row->data_len] = '\0';
	b->evs[b->n].data = p;
	b->evs[b->n].data_len = row->data_len;
	b->evs[b->n].want_seq = row->seq;
	b->want[b->n] = row->seq;
	b->used += need;
	b->n++;
	return 0;
}

int
cli_migrate(int argc, char **argv)
{
	struct copy_batch	 b;
	struct logdrv		*src = NULL, *dst = NULL;
	const char		*from = NULL, *to = NULL;
	char			 err[1024], id0[EVENT_ID_MAX + 1];
	char			 id1[EVENT_ID_MAX + 1];
	uint64_t		 first, last, pos, copied = 0;
	size_t			 i, start;
	int			 a, r, status = 1, have = 0;

	config_defaults(&cli_cfg);
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--from") == 0 && a + 1 < argc)
			from = argv[++a];
		else if (strcmp(argv[a], "--to") == 0 && a + 1 < argc)
			to = argv[++a];
		else if ((r = log_option("migrate", &cli_cfg, argc, argv, &a,
		    &have)) == -1)
			return 2;
		else if (r == 0)
			return usage_error("migrate", "unknown option or"
			    " missing value", argv[a]);
	}
	if (from == NULL || to == NULL)
		return usage_error("migrate", "--from and --to are required",
		    NULL);
	/* The destination: the config's nats_* keys with --to's servers;
	 * the source: the same settings with --from's file. */
	cli_cfg2 = cli_cfg;
	if (config_set_log_spec(&cli_cfg, to, err, sizeof(err)) == -1 ||
	    config_set_log_spec(&cli_cfg2, from, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay migrate: %s\n", err);
		return 2;
	}
	if (cli_cfg2.log != LOG_SQLITE || cli_cfg.log != LOG_JETSTREAM)
		return usage_error("migrate", "copies from sqlite:FILE to"
		    " jetstream:URL only", NULL);
	memset(&b, 0, sizeof(b));
	if (access(cli_cfg2.db, F_OK) == -1) {
		fprintf(stderr, "ssereplay migrate: %s: %s\n", cli_cfg2.db,
		    strerror(errno));
		return 1;
	}
	if (logdrv_open(&src, &cli_cfg2, NULL, LOGDRV_READONLY, err,
	    sizeof(err)) == -1 || logdrv_bounds(src, 0, &first, &last) == -1) {
		fprintf(stderr, "ssereplay migrate: %s\n", src != NULL ?
		    logdrv_errmsg(src) : err);
		goto done;
	}
	if (jslog_prepare_import(&cli_cfg, logdrv_epoch(src),
	    first != 0 ? first : last + 1, err, sizeof(err)) == -1 ||
	    logdrv_open(&dst, &cli_cfg, NULL, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay migrate: %s\n", err);
		goto done;
	}
	if (strcmp(logdrv_epoch(src), logdrv_epoch(dst)) != 0)
		fprintf(stderr, "ssereplay migrate: warning: the stream's"
		    " epoch %s is not the log's %s: clients will get a gap\n",
		    logdrv_epoch(dst), logdrv_epoch(src));
	b.cap = COMMIT_BATCH_MAX;
	b.mem_cap = 8 * 1024 * 1024 + 3 * EVENT_SIZE_CEILING;
	b.evs = calloc(b.cap, sizeof(*b.evs));
	b.want = calloc(b.cap, sizeof(*b.want));
	b.mem = malloc(b.mem_cap);
	if (b.evs == NULL || b.want == NULL || b.mem == NULL) {
		fprintf(stderr, "ssereplay migrate: out of memory\n");
		goto done;
	}
	pos = first != 0 ? first - 1 : last;
	while (pos < last) {
		b.n = b.used = 0;
		if (logdrv_read(src, NULL, pos, last, b.cap, 8 * 1024 * 1024,
		    copy_row, &b) == -1) {
			fprintf(stderr, "ssereplay migrate: %s\n",
			    logdrv_errmsg(src));
			goto done;
		}
		if (b.n == 0)
			break;
		/* The very first: JetStream 2.9 does not apply the
		 * expected-last-sequence check right after the purge that
		 * set the start; it gets its number anyway (checked). */
		start = 0;
		if (copied == 0) {
			b.evs[0].want_seq = 0;
			if (logdrv_append(dst, b.evs, 1, 0) == -1) {
				fprintf(stderr, "ssereplay migrate: %s\n",
				    logdrv_errmsg(dst));
				goto done;
			}
			start = 1;
		}
		if (b.n > start && logdrv_append(dst, b.evs + start,
		    b.n - start, 0) == -1) {
			fprintf(stderr, "ssereplay migrate: %s; %llu events"
			    " were copied\n", logdrv_errmsg(dst),
			    (unsigned long long)copied);
			goto done;
		}
		for (i = 0; i < b.n; i++)
			if (b.evs[i].seq != b.want[i]) {
				fprintf(stderr, "ssereplay migrate: event %llu"
				    " became %llu in the stream (someone else"
				    " publishes to it?); %llu copied\n",
				    (unsigned long long)b.want[i],
				    (unsigned long long)b.evs[i].seq,
				    (unsigned long long)(copied + i));
				goto done;
			}
		copied += b.n;
		pos = b.want[b.n - 1];
	}
	if (copied > 0) {
		eventid_format(id0, sizeof(id0), logdrv_epoch(dst),
		    first != 0 ? first : last);
		eventid_format(id1, sizeof(id1), logdrv_epoch(dst), pos);
		printf("%llu events copied to stream %s, %s .. %s\n",
		    (unsigned long long)copied, cli_cfg.nats_stream, id0, id1);
	} else
		printf("0 events copied to stream %s (epoch %s)\n",
		    cli_cfg.nats_stream, logdrv_epoch(dst));
	status = 0;
done:
	free(b.evs);
	free(b.want);
	free(b.mem);
	logdrv_close(dst);
	logdrv_close(src);
	return status;
}
