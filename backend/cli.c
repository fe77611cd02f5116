/* cli.c: publish and tail. See cli.h. */
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
#include "config.h"
#include "eventid.h"
#include "evlog.h"
#include "bounds.h"
#include "sse.h"
#include "valid.h"

#define TAIL_POLL_MS	100

static int
usage_error(const char *cmd, const char *msg, const char *arg)
{
	fprintf(stderr, "ssereplay %s: %s%s%s\n", cmd, msg, arg ? ": " : "",
	    arg ? arg : "");
	fprintf(stderr, "usage: ssereplay publish --db FILE --topic T"
	    " [--event TYPE] [DATA | - | --lines]\n"
	    "       ssereplay tail --db FILE [--topic T] [--after ID]"
	    " [--follow]\n"
	    "       ssereplay token --user U --topics P[,P...] [--ttl 1h]"
	    " [--config FILE]\n");
	return 2;
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
publish_lines(struct evlog *log, const char *topic, const char *event,
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
		if (evlog_append(log, batch, n, (int64_t)ts.tv_sec * 1000 +
		    ts.tv_nsec / 1000000) == -1) {
			fprintf(stderr, "ssereplay publish: %s; %llu events"
			    " before line %llu were published\n",
			    evlog_errmsg(log), total, lineno - n + 1);
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
		eventid_format(id, sizeof(id), evlog_epoch(log), first);
		printf("%llu events, %s", total, id);
		eventid_format(id, sizeof(id), evlog_epoch(log), last);
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
	struct evlog		*log = NULL;
	struct timespec		 ts;
	const char		*db = NULL, *topic = NULL, *event = "";
	const char		*arg = NULL;
	char			*data = NULL, err[1024], id[EVENT_ID_MAX + 1];
	size_t			 max = EVENT_SIZE_DEFAULT, len;
	long			 n;
	int			 i, status = 1, by_line = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
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
	if (db == NULL || topic == NULL)
		return usage_error("publish", "--db and --topic are required",
		    NULL);
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
		if (evlog_open(&log, db, EVLOG_CREATE | EVLOG_SYNC_FULL, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "ssereplay publish: %s\n", err);
			return 1;
		}
		status = publish_lines(log, topic, event, max);
		evlog_close(log);
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
	if (evlog_open(&log, db, EVLOG_CREATE | EVLOG_SYNC_FULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay publish: %s\n", err);
		goto done;
	}
	memset(&ev, 0, sizeof(ev));
	ev.topic = topic;
	ev.event = event;
	ev.data = data;
	ev.data_len = len;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (evlog_append(log, &ev, 1,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == -1) {
		fprintf(stderr, "ssereplay publish: %s\n", evlog_errmsg(log));
		goto done;
	}
	eventid_format(id, sizeof(id), evlog_epoch(log), ev.seq);
	printf("%s\n", id);
	status = 0;
done:
	evlog_close(log);
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
	struct evlog		*log = NULL;
	struct timespec		 pause = { 0, TAIL_POLL_MS * 1000000L };
	const char		*db = NULL, *topic = NULL, *after_s = NULL;
	char			 err[1024];
	uint64_t		 before;
	int			 i, follow = 0, status = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
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
	if (db == NULL)
		return usage_error("tail", "--db is required", NULL);
	if (topic != NULL && !valid_topic(topic, strlen(topic)))
		return usage_error("tail", "bad topic", topic);
	memset(&after, 0, sizeof(after));
	if (after_s != NULL &&
	    eventid_parse(after_s, strlen(after_s), &after) == -1)
		return usage_error("tail", "bad --after (EPOCH-SEQ or SEQ)",
		    after_s);
	if (access(db, F_OK) == -1) {
		fprintf(stderr, "ssereplay tail: %s: %s\n", db, strerror(errno));
		return 1;
	}
	if (evlog_open(&log, db, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "ssereplay tail: %s\n", err);
		return 1;
	}
	if (after.has_epoch && strcmp(after.epoch, evlog_epoch(log)) != 0) {
		fprintf(stderr, "ssereplay tail: --after %s belongs to another"
		    " log (this one's epoch is %s)\n", after_s,
		    evlog_epoch(log));
		evlog_close(log);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	memset(&t, 0, sizeof(t));
	t.epoch = evlog_epoch(log);
	t.last = after.seq;
	for (;;) {
		before = t.last;
		if (evlog_read(log, topic, t.last, INT64_MAX, 4096,
		    4 * 1024 * 1024, tail_row, &t) == -1) {
			if (!t.failed)
				fprintf(stderr, "ssereplay tail: %s\n",
				    evlog_errmsg(log));
			goto done;
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
	evlog_close(log);
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
