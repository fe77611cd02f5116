/* fcgi.c: FastCGI intake threads. See fcgi.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi.h"
#include "hub.h"
#include "log.h"

/* Request body bytes read and dropped after an early answer, at most. */
#define DRAIN_MAX	(1024 * 1024)

/* Interrupts a worker blocked in accept() when the pool stops. */
#define WAKE_SIGNAL	SIGUSR2

struct worker {
	struct fcgi_pool *pool;
	pthread_t	 thread;
	atomic_int	 exited;
};

struct fcgi_pool {
	int			 listen_fd;
	const struct http_ctx	*ctx;
	struct hub		*hub;
	atomic_int		 stopping;
	int			 unix_socket;	/* AF_UNIX listener */
	int			 nworkers;
	struct worker		*workers;
};

static void
wake_handler(int sig)
{
	(void)sig;	/* only there to make accept() return EINTR */
}

int
fcgi_init(char *err, size_t errsz)
{
	struct sigaction sa;
	int rc;

	if ((rc = FCGX_Init()) != 0) {
		snprintf(err, errsz, "FCGX_Init failed (%d)", rc);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must return */
	if (sigaction(WAKE_SIGNAL, &sa, NULL) == -1) {
		snprintf(err, errsz, "sigaction: %s", strerror(errno));
		return -1;
	}
	/* libfcgi installs a SIGPIPE handler only if none is set; we want
	 * EPIPE from write(), not a signal, everywhere. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void
respond(FCGX_Request *req, const struct http_resp *resp, int head_only)
{
	char head[HTTP_HEADERS_MAX + 512];
	int  n;

	if ((n = http_format_head(resp, head, sizeof(head))) < 0) {
		log_err("response head too large");
		return;
	}
	FCGX_PutStr(head, n, req->out);
	if (!head_only && resp->body_len > 0)
		FCGX_PutStr(resp->body, (int)resp->body_len, req->out);
}

/* Read the whole request body, at most max bytes. Returns its length, or
 * -1 if it is larger (413), -2 if out of memory. */
static long
read_body(FCGX_Request *req, size_t max, char **out)
{
	size_t	 cap = 4096, len = 0;
	char	*buf, *grown;
	int	 n;

	*out = NULL;
	if ((buf = malloc(cap)) == NULL)
		return -2;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				return -1;
			}
			cap *= 2;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				return -2;
			}
			buf = grown;
		}
		n = FCGX_GetStr(buf + len, (int)(cap - len), req->in);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			return -1;
		}
	}
	*out = buf;
	return (long)len;
}

/* Handle one request. Returns 1 if the connection went to the hub (the
 * request must be re-initialised), 0 otherwise. */
static int
handle(struct fcgi_pool *pool, FCGX_Request *req)
{
	struct http_req		 hr;
	struct http_resp	*resp;
	struct stream_req	*stream;
	char			 path[2048];
	const char		*script, *info;
	char			*body;
	size_t			 body_max = 0;
	long			 len;
	int			 fd, ret = 0, head_only;
	uint16_t		 reqid;

	/* Large structs: keep them off the worker's stack. */
	resp = malloc(sizeof(*resp));
	stream = malloc(sizeof(*stream));
	if (resp == NULL || stream == NULL) {
		FCGX_FPrintF(req->out, "Status: 503 Service Unavailable\r\n"
		    "Content-Type: text/plain\r\n\r\nout of memory\n");
		goto done;
	}
	memset(&hr, 0, sizeof(hr));
	hr.method = FCGX_GetParam("REQUEST_METHOD", req->envp);
	script = FCGX_GetParam("SCRIPT_NAME", req->envp);
	info = FCGX_GetParam("PATH_INFO", req->envp);
	snprintf(path, sizeof(path), "%s%s", script ? script : "",
	    info ? info : "");
	hr.path = path;
	hr.query = FCGX_GetParam("QUERY_STRING", req->envp);
	hr.content_type = FCGX_GetParam("CONTENT_TYPE", req->envp);
	hr.content_length = FCGX_GetParam("CONTENT_LENGTH", req->envp);
	hr.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", req->envp);
	hr.last_event_id = FCGX_GetParam("HTTP_LAST_EVENT_ID", req->envp);
	hr.origin = FCGX_GetParam("HTTP_ORIGIN", req->envp);
	hr.remote_user = FCGX_GetParam("REMOTE_USER", req->envp);
	hr.remote_addr = FCGX_GetParam("REMOTE_ADDR", req->envp);
	hr.cookie = FCGX_GetParam("HTTP_COOKIE", req->envp);
	head_only = hr.method != NULL && strcmp(hr.method, "HEAD") == 0;

	switch (http_begin(pool->ctx, &hr, resp, stream, &body_max)) {
	case HTTP_RESPOND:
		respond(req, resp, head_only);
		break;
	case HTTP_READ_BODY:
		len = read_body(req, body_max, &body);
		if (len == -1)
			http_error(resp, 413, "body too large");
		else if (len == -2)
			http_error(resp, 503, "out of memory");
		else {
			http_publish(pool->ctx, &hr, body, (size_t)len, resp);
			free(body);
		}
		respond(req, resp, 0);
		break;
	case HTTP_STREAM:
		fd = req->ipcFd;
		reqid = (uint16_t)req->requestId;
		/* Release libfcgi's hold without END_REQUEST or close. */
		FCGX_Free(req, 0);
		hub_adopt(pool->hub, fd, reqid, FRAMING_FCGI, stream);
		ret = 1;
		break;
	}
done:
	free(resp);
	free(stream);
	return ret;
}

/*
 * Read what is left of the request's FCGI_STDIN (an answer may come before
 * the body was read: 401, 413...), up to a bound. Returns 1 if the stream
 * ended, 0 if there was more than the bound or an error.
 */
static int
drain_stdin(FCGX_Request *req)
{
	char	buf[4096];
	size_t	total = 0;
	int	n;

	while ((n = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0) {
		total += (size_t)n;
		if (total > DRAIN_MAX)
			return 0;
	}
	return FCGX_GetError(req->in) == 0;
}

static void *
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct fcgi_pool	*pool = w->pool;
	FCGX_Request		 req;
	sigset_t		 set;
	int			 rc;

	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	FCGX_InitRequest(&req, pool->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&pool->stopping)) {
		rc = FCGX_Accept_r(&req);
		if (rc < 0) {
			if (atomic_load(&pool->stopping))
				break;
			if (rc == -EINTR || errno == EINTR)
				continue;
			log_err("FastCGI accept failed (%d)", rc);
			/* Do not spin on a persistent error. */
			sleep(1);
			continue;
		}
		if (handle(pool, &req)) {
			FCGX_InitRequest(&req, pool->listen_fd,
			    FCGI_FAIL_ACCEPT_ON_INTR);
			continue;
		}
		/* Finish now (END_REQUEST, close), not at the next accept:
		 * the connection should not wait for another request. On a
		 * Unix socket whose request we have read to the end, close
		 * at once: libfcgi's lingering close (shutdown, then wait
		 * for the peer's EOF) protects a peer still sending (Apache
		 * sends FCGI_STDIN after the params and fails the request
		 * with 503 if that write fails) and TCP from a reset; a
		 * Unix socket keeps what was written for the peer to read. */
		if (pool->unix_socket && drain_stdin(&req))
			req.detached = 1;
		FCGX_Finish_r(&req);
	}
	/* A connection the web server asked to keep (FCGI_KEEP_CONN) must
	 * still be closed: nobody will read another request from it. */
	req.keepConnection = 0;
	FCGX_Finish_r(&req);
	atomic_store(&w->exited, 1);
	return NULL;
}

int
fcgi_start(struct fcgi_pool **out, int listen_fd, const struct http_ctx *ctx,
    struct hub *hub, int nthreads, char *err, size_t errsz)
{
	struct fcgi_pool	*pool;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	int			 i;

	*out = NULL;
	if ((pool = calloc(1, sizeof(*pool))) == NULL ||
	    (pool->workers = calloc((size_t)nthreads,
	    sizeof(*pool->workers))) == NULL) {
		free(pool);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	pool->listen_fd = listen_fd;
	pool->unix_socket = getsockname(listen_fd, (struct sockaddr *)&ss,
	    &sslen) == 0 && ss.ss_family == AF_UNIX;
	pool->ctx = ctx;
	pool->hub = hub;
	for (i = 0; i < nthreads; i++) {
		pool->workers[i].pool = pool;
		if ((errno = pthread_create(&pool->workers[i].thread, NULL,
		    worker_main, &pool->workers[i])) != 0) {
			snprintf(err, errsz, "pthread_create: %s",
			    strerror(errno));
			pool->nworkers = i;
			fcgi_stop(pool);
			return -1;
		}
	}
	pool->nworkers = nthreads;
	*out = pool;
	return 0;
}

void
fcgi_stop(struct fcgi_pool *pool)
{
	struct timespec	 pause = { 0, 20 * 1000 * 1000 };
	int		 i, running;

	if (pool == NULL)
		return;
	atomic_store(&pool->stopping, 1);
	FCGX_ShutdownPending();
	/* A signal may land just before a worker blocks in accept(): keep
	 * knocking until every worker is out. */
	do {
		running = 0;
		for (i = 0; i < pool->nworkers; i++) {
			if (atomic_load(&pool->workers[i].exited))
				continue;
			running++;
			pthread_kill(pool->workers[i].thread, WAKE_SIGNAL);
		}
		if (running)
			nanosleep(&pause, NULL);
	} while (running);
	for (i = 0; i < pool->nworkers; i++)
		pthread_join(pool->workers[i].thread, NULL);
	free(pool->workers);
	free(pool);
}
