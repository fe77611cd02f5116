/* cli.c: publish and tail. See cli.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
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
	    " [--event TYPE] [DATA | -]\n"
	    "       ssereplay tail --db FILE [--topic T] [--after ID]"
	    " [--follow]\n");
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
	int			 i, status = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc)
			topic = argv[++i];
		else if (strcmp(argv[i], "--event") == 0 && i + 1 < argc)
			event = argv[++i];
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
