/* cgi.c: plain CGI. See cgi.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgi.h"
#include "logdrv.h"
#include "http.h"
#include "hub.h"
#include "log.h"

/* Request body bytes read and dropped after an early answer, at most. */
#define CGI_DRAIN_MAX	(1024 * 1024)

struct cgi_publisher {
	struct logdrv	*log;
};

static int
publish_direct(void *arg, const struct publish_req *req, uint64_t *seq)
{
	struct cgi_publisher	*p = arg;
	struct evlog_new	 ev;
	struct timespec		 ts;

	memset(&ev, 0, sizeof(ev));
	ev.topic = req->topic;
	ev.event = req->event;
	ev.data = req->data;
	ev.data_len = req->data_len;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (logdrv_append(p->log, &ev, 1,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == -1 &&
	    ev.seq == 0) {
		log_err("publish: %s", logdrv_errmsg(p->log));
		return -1;
	}
	*seq = ev.seq;
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
respond(const struct http_resp *resp, int head_only)
{
	char head[HTTP_HEADERS_MAX + 512];
	int  n;

	if ((n = http_format_head(resp, head, sizeof(head))) < 0)
		return;
	if (write_all(STDOUT_FILENO, head, (size_t)n) == 0 && !head_only)
		write_all(STDOUT_FILENO, resp->body, resp->body_len);
}

/* Read CONTENT_LENGTH bytes (at most max) from stdin. */
static long
read_body(const char *clen, size_t max, char **out)
{
	unsigned long long	 want;
	char			*end, *buf;
	size_t			 got = 0;
	ssize_t			 n;

	*out = NULL;
	want = clen != NULL && *clen ? strtoull(clen, &end, 10) : 0;
	if (clen != NULL && *clen && *end != '\0')
		return -3;
	if (want > max)
		return -1;
	if ((buf = malloc(want + 1)) == NULL)
		return -2;
	while (got < want) {
		n = read(STDIN_FILENO, buf + got, want - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*out = buf;
	return (long)got;
}

/*
 * Read and drop what is left of the request body (after an early answer:
 * 401, 413...), at most a bound. A web server that gives us stdin as a
 * socket (Apache mod_cgid) turns unread input at our exit into a reset that
 * can cut the response it is still reading.
 */
static void
drain_stdin(const char *clen)
{
	char			 buf[4096];
	unsigned long long	 left;
	char			*end;
	ssize_t			 n;

	if (clen == NULL || *clen == '\0')
		return;
	left = strtoull(clen, &end, 10);
	if (*end != '\0' || left > CGI_DRAIN_MAX)
		return;
	while (left > 0) {
		n = read(STDIN_FILENO, buf, left < sizeof(buf) ? left :
		    sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (unsigned long long)n;
	}
}

int
cgi_run(const struct config *cfg)
{
	struct cgi_publisher	 pub = { NULL };
	struct http_req		 hr;
	struct http_resp	*resp = NULL;
	struct stream_req	*stream = NULL;
	struct http_ctx		 ctx;
	struct hub		*hub = NULL;
	char			 path[2048], err[1024], *body;
	const char		*script, *info;
	size_t			 body_max = 0;
	long			 len;
	int			 status = 1;

	signal(SIGPIPE, SIG_IGN);
	memset(&hr, 0, sizeof(hr));
	hr.method = getenv("REQUEST_METHOD");
	script = getenv("SCRIPT_NAME");
	info = getenv("PATH_INFO");
	snprintf(path, sizeof(path), "%s%s", script ? script : "",
	    info ? info : "");
	hr.path = path;
	hr.query = getenv("QUERY_STRING");
	hr.content_type = getenv("CONTENT_TYPE");
	hr.content_length = getenv("CONTENT_LENGTH");
	hr.authorization = getenv("HTTP_AUTHORIZATION");
	hr.last_event_id = getenv("HTTP_LAST_EVENT_ID");
	hr.origin = getenv("HTTP_ORIGIN");
	hr.remote_user = getenv("REMOTE_USER");
	hr.remote_addr = getenv("REMOTE_ADDR");
	hr.cookie = getenv("HTTP_COOKIE");

	resp = malloc(sizeof(*resp));
	stream = malloc(sizeof(*stream));
	if (resp == NULL || stream == NULL) {
		log_err("out of memory");
		goto done;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.publish = publish_direct;
	ctx.publish_arg = &pub;

	switch (http_begin(&ctx, &hr, resp, stream, &body_max)) {
	case HTTP_RESPOND:
		drain_stdin(hr.content_length);
		respond(resp, hr.method && strcmp(hr.method, "HEAD") == 0);
		status = 0;
		break;
	case HTTP_READ_BODY:
		if (logdrv_open(&pub.log, cfg, NULL, LOGDRV_CREATE |
		    (cfg->sync_full ? LOGDRV_SYNC_FULL : 0), err,
		    sizeof(err)) == -1) {
			log_err("%s", err);
			drain_stdin(hr.content_length);
			http_error(resp, 503, "the event log cannot be opened");
			respond(resp, 0);
			break;
		}
		ctx.epoch = logdrv_epoch(pub.log);
		len = read_body(hr.content_length, body_max, &body);
		if (len == -1) {
			drain_stdin(hr.content_length);
			http_error(resp, 413, "body too large");
		}
		else if (len == -3)
			http_error(resp, 400, "bad Content-Length");
		else if (len < 0)
			http_error(resp, 503, "out of memory");
		else {
			http_publish(&ctx, &hr, body, (size_t)len, resp);
			free(body);
		}
		respond(resp, 0);
		status = 0;
		break;
	case HTTP_STREAM:
		if (hub_create(&hub, cfg->db, 1, cfg, 1, err,
		    sizeof(err)) == -1) {
			log_err("%s", err);
			http_error(resp, 503, "the event log cannot be opened");
			respond(resp, 0);
			break;
		}
		/* The hub owns stdout from here and closes it at the end. */
		if (hub_adopt(hub, STDOUT_FILENO, 0, FRAMING_RAW, stream) == 0 &&
		    hub_run(hub) == 0)
			status = 0;
		break;
	}
done:
	hub_free(hub);
	logdrv_close(pub.log);
	free(resp);
	free(stream);
	return status;
}
