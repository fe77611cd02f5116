/* wsserve.c: WebSocket intake. See wsserve.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "wshandshake.h"
#include "wsserve.h"

struct wsserve {
	int			 listen_fd;
	const struct http_ctx	*ctx;
	struct hub		*hub;
	atomic_int		 stopping;
	int			 nthreads;
	pthread_t		 tids[WS_INTAKE_THREADS];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of buf before the deadline; errors are the client's loss. */
static void
write_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	struct pollfd	 pfd;
	ssize_t		 r;
	int64_t		 left;

	while (len > 0) {
		r = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r > 0) {
			buf += r;
			len -= (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    (left = deadline - mono_ms()) > 0) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			poll(&pfd, 1, (int)left);
			continue;
		}
		return;
	}
}

static void
refuse(int fd, const struct http_resp *resp, int64_t deadline)
{
	char	 head[HTTP_HEADERS_MAX + 256];
	int	 n;

	METRIC_ADD(ws_refused, 1);
	if ((n = http_format_response(resp, head, sizeof(head))) < 0)
		return;
	write_all(fd, head, (size_t)n, deadline);
	write_all(fd, resp->body, resp->body_len, deadline);
}

/*
 * Read the request head of a new connection and decide. Returns 1 when
 * the connection went to the hub, 0 when it was answered (or given up)
 * and is to be closed.
 */
static int
handshake(struct wsserve *w, int fd)
{
	struct http_resp	*resp;
	struct ws_handshake	*hs;
	struct stream_req	*stream;
	struct pollfd		 pfd;
	char			 buf[WS_REQUEST_MAX];
	const char		*reason = NULL;
	size_t			 len = 0, head = 0;
	int64_t			 deadline, left;
	ssize_t			 r;
	int			 status, rc = 0;

	/* Large structures live on the heap: threads have small stacks. */
	resp = malloc(sizeof(*resp));
	hs = malloc(sizeof(*hs));
	stream = malloc(sizeof(*stream));
	if (resp == NULL || hs == NULL || stream == NULL) {
		log_err("websocket handshake: out of memory");
		goto out;
	}
	memset(resp, 0, sizeof(*resp));
	deadline = mono_ms() + WS_HANDSHAKE_TIMEOUT_MS;
	while ((head = ws_handshake_complete(buf, len)) == 0) {
		if (len == sizeof(buf)) {
			http_error(resp, 431, "request head too large");
			refuse(fd, resp, deadline);
			goto out;
		}
		if ((left = deadline - mono_ms()) <= 0) {
			http_error(resp, 408, "handshake not completed in time");
			refuse(fd, resp, deadline + 1000);
			goto out;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (r == 0)
			goto out;	/* gone before asking anything */
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			goto out;
		}
		len += (size_t)r;
	}
	if (head != len) {
		/* A client must wait for our 101 before sending frames. */
		http_error(resp, 400, "data after the handshake, before the"
		    " answer");
		refuse(fd, resp, deadline);
		goto out;
	}
	status = ws_handshake_parse(buf, len, hs, &reason);
	if (status != 0) {
		http_error(resp, status, reason ? reason : "bad handshake");
		if (status == 426)
			snprintf(resp->headers, sizeof(resp->headers),
			    "Sec-WebSocket-Version: 13\r\n");
		resp->headers_len = strlen(resp->headers);
		refuse(fd, resp, deadline);
		goto out;
	}
	if (http_ws_begin(w->ctx, hs, resp, stream) != HTTP_STREAM) {
		refuse(fd, resp, deadline);
		goto out;
	}
	hub_adopt(w->hub, fd, 0, FRAMING_WS, stream);
	rc = 1;
out:
	free(resp);
	free(hs);
	free(stream);
	return rc;
}

static void *
intake_main(void *arg)
{
	struct wsserve	*w = arg;
	int		 fd;

	while (!atomic_load(&w->stopping)) {
		fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd == -1) {
			if (atomic_load(&w->stopping))
				break;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors: wait rather than spin. */
			log_warn("websocket accept: %s", strerror(errno));
			usleep(100 * 1000);
			continue;
		}
		if (!handshake(w, fd))
			close(fd);
	}
	return NULL;
}

int
wsserve_start(struct wsserve **out, int listen_fd,
    const struct http_ctx *ctx, struct hub *hub, int nthreads, char *err,
    size_t errsz)
{
	struct wsserve	*w;
	pthread_attr_t	 attr;
	int		 i;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errsz, "out of memory");
		close(listen_fd);
		return -1;
	}
	w->listen_fd = listen_fd;
	w->ctx = ctx;
	w->hub = hub;
	if (nthreads > WS_INTAKE_THREADS)
		nthreads = WS_INTAKE_THREADS;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < nthreads; i++) {
		if ((errno = pthread_create(&w->tids[i], &attr, intake_main,
		    w)) != 0) {
			snprintf(err, errsz, "pthread_create: %s",
			    strerror(errno));
			pthread_attr_destroy(&attr);
			wsserve_stop(w);
			return -1;
		}
		w->nthreads++;
	}
	pthread_attr_destroy(&attr);
	*out = w;
	return 0;
}

void
wsserve_stop(struct wsserve *w)
{
	int i;

	if (w == NULL)
		return;
	atomic_store(&w->stopping, 1);
	/* Wakes the threads blocked in accept() (Linux: EINVAL). */
	shutdown(w->listen_fd, SHUT_RDWR);
	for (i = 0; i < w->nthreads; i++)
		pthread_join(w->tids[i], NULL);
	close(w->listen_fd);
	free(w);
}
