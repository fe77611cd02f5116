/* serve.c: the FastCGI daemon. See serve.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "asyncpub.h"
#include "committer.h"
#include "fcgi.h"
#include "http.h"
#include "hub.h"
#include "log.h"
#include "sandbox.h"
#include "serve.h"
#include "wsserve.h"

/* A reconnect storm connects thousands at once: a short backlog makes
 * lighttpd answer 500 (connect, then ENOTCONN). The kernel caps it at
 * net.core.somaxconn. */
#define LISTEN_BACKLOG	4096

static int
listen_unix(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsz, "unix:%s: path too long (max %zu)", path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errsz, "unix:%s: exists and is not a"
			    " socket", path);
			return -1;
		}
		/* A socket file left by a crash is replaced; one that a live
		 * server answers on is not ours to take. */
		if ((probe = socket(AF_UNIX, SOCK_STREAM, 0)) != -1) {
			if (connect(probe, (struct sockaddr *)&sun,
			    sizeof(sun)) == 0) {
				close(probe);
				snprintf(err, errsz, "unix:%s: another server"
				    " is listening there", path);
				return -1;
			}
			close(probe);
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errsz, "unix:%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Only the owner and its group (the web server's) may connect: the
	 * FastCGI socket must stay private (README.md, "Security"). */
	if (chmod(path, 0660) == -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		snprintf(err, errsz, "unix:%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*in4;
	const struct sockaddr_in6	*in6;

	if (sa->sa_family == AF_INET) {
		in4 = (const struct sockaddr_in *)sa;
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		in6 = (const struct sockaddr_in6 *)sa;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static int
listen_tcp(const char *addr, int force, char *err, size_t errsz)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256];
	const char	*colon, *port;
	size_t		 hlen;
	int		 fd = -1, one = 1, rc;

	if ((colon = strrchr(addr, ':')) == NULL || colon == addr ||
	    colon[1] == '\0') {
		snprintf(err, errsz, "listen %s: expected unix:PATH or"
		    " HOST:PORT", addr);
		return -1;
	}
	hlen = (size_t)(colon - addr);
	if (addr[0] == '[' && hlen >= 2 && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errsz, "listen %s: host too long", addr);
		return -1;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsz, "listen %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	if (!is_loopback(res->ai_addr)) {
		if (!force) {
			snprintf(err, errsz, "listen %s: not a loopback address;"
			    " the FastCGI socket must not be reachable by"
			    " others (set listen_force = yes to insist)", addr);
			goto fail;
		}
		log_warn("listening on non-loopback %s: anyone who can reach"
		    " it can forge requests and, with Debian's libfcgi, crash"
		    " the server (CVE-2025-23016)", addr);
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	    -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, res->ai_addr, res->ai_addrlen) ==
	    -1 || listen(fd, LISTEN_BACKLOG) == -1) {
		snprintf(err, errsz, "listen %s: %s", addr, strerror(errno));
		goto fail;
	}
	freeaddrinfo(res);
	return fd;
fail:
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int
serve_listen(const char *addr, int force, char *err, size_t errsz)
{
	if (strncmp(addr, "unix:", 5) == 0)
		return listen_unix(addr + 5, err, errsz);
	return listen_tcp(addr, force, err, errsz);
}

struct hub_thread {
	struct hub	*hub;
	int		 rc;
};

static void *
hub_main(void *arg)
{
	struct hub_thread *ht = arg;

	ht->rc = hub_run(ht->hub);
	return NULL;
}

static int
publish_via_committer(void *arg, const struct publish_req *req, uint64_t *seq)
{
	return committer_publish(arg, req, seq);
}

/* Started as root: hand the log and our sockets to `user`, then drop. */
static int
drop_root(const struct config *cfg, int inherited, char *err, size_t errsz)
{
	char		 wal[PATH_MAX + 8], shm[PATH_MAX + 8];
	const char	*paths[6];
	int		 n = 0;

	snprintf(wal, sizeof(wal), "%s-wal", cfg->db);
	snprintf(shm, sizeof(shm), "%s-shm", cfg->db);
	if (cfg->log == LOG_SQLITE) {
		paths[n++] = cfg->db;
		paths[n++] = wal;
		paths[n++] = shm;
	}
	if (!inherited && strncmp(cfg->listen, "unix:", 5) == 0)
		paths[n++] = cfg->listen + 5;
	if (strncmp(cfg->ws, "unix:", 5) == 0)
		paths[n++] = cfg->ws + 5;
	paths[n] = NULL;
	return sandbox_drop_root(cfg->user, paths, err, errsz);
}

static void
disconnect_via_hub(void *arg)
{
	hub_disconnect_all(arg);
}

int
serve_run(const struct config *cfg, int listen_fd, int inherited)
{
	struct asyncpub		*pub = NULL;
	struct wsserve		*ws = NULL;
	int			 ws_fd = -1, ws_made = 0;
	struct committer	*com = NULL;
	struct hub		*hub = NULL;
	struct fcgi_pool	*pool = NULL;
	struct hub_thread	 ht;
	struct http_ctx		 ctx;
	pthread_t		 hub_tid;
	sigset_t		 set;
	char			 err[1024];
	int			 sig, hub_started = 0, status = 1, fd;

	/* Block the stop signals in every thread; main takes them below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (fcgi_init(err, sizeof(err)) == -1)
		goto fail;
	/* The log first: no connection is accepted before it is usable. */
	if (hub_create(&hub, cfg->db, 1, cfg, 0, err, sizeof(err)) == -1)
		goto fail;
	if (committer_start(&com, cfg->db, cfg, hub, err, sizeof(err)) == -1)
		goto fail;
	if (listen_fd == -1 &&
	    (listen_fd = serve_listen(cfg->listen, cfg->listen_force, err,
	    sizeof(err))) == -1)
		goto fail;
	if (cfg->ws[0] != '\0') {
		if ((ws_fd = serve_listen(cfg->ws, cfg->listen_force, err,
		    sizeof(err))) == -1)
			goto fail;
		ws_made = 1;
	}
	if (drop_root(cfg, inherited, err, sizeof(err)) == -1)
		goto fail;
	if (ws_fd != -1) {
		if (asyncpub_start(&pub, com, hub_publish_done, hub, err,
		    sizeof(err)) == -1)
			goto fail;
		hub_set_publisher(hub, pub);
	}
	ht.hub = hub;
	ht.rc = 0;
	if ((errno = pthread_create(&hub_tid, NULL, hub_main, &ht)) != 0) {
		snprintf(err, sizeof(err), "pthread_create: %s",
		    strerror(errno));
		goto fail;
	}
	hub_started = 1;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.publish = publish_via_committer;
	ctx.publish_arg = com;
	ctx.epoch = committer_epoch(com);
	ctx.disconnect = disconnect_via_hub;
	ctx.disconnect_arg = hub;
	if (fcgi_start(&pool, listen_fd, &ctx, hub, cfg->workers, err,
	    sizeof(err)) == -1)
		goto fail;
	if (ws_fd != -1) {
		/* wsserve owns the socket from here, even on failure. */
		fd = ws_fd;
		ws_fd = -1;
		if (wsserve_start(&ws, fd, &ctx, hub, WS_INTAKE_THREADS, err,
		    sizeof(err)) == -1)
			goto fail;
	}

	/* Every thread runs: from here on, only the calls they make. */
	if (cfg->sandbox && sandbox_seccomp(cfg->log == LOG_JETSTREAM, err,
	    sizeof(err)) == -1)
		goto fail;
	log_info("serving %s%s%s, log %s%s%s (epoch %s), %d workers%s",
	    inherited ? "the inherited socket" : cfg->listen,
	    ws != NULL ? ", WebSocket on " : "", ws != NULL ? cfg->ws : "",
	    cfg->log == LOG_JETSTREAM ? "JetStream stream " : "",
	    cfg->log == LOG_JETSTREAM ? cfg->nats_stream : cfg->db,
	    cfg->log == LOG_JETSTREAM ? " via NATS" : "",
	    ctx.epoch, cfg->workers,
	    cfg->sandbox && sandbox_seccomp_available() ?
	    ", system calls filtered" : "");
	if (sigwait(&set, &sig) != 0)
		sig = SIGTERM;
	log_info("%s: stopping", strsignal(sig));
	status = 0;
	goto stop;
fail:
	log_err("%s", err);
stop:
	/* Order: no new requests, then end the streams, then the log. */
	wsserve_stop(ws);
	fcgi_stop(pool);
	if (hub_started) {
		hub_stop(hub);
		pthread_join(hub_tid, NULL);
		if (ht.rc != 0)
			status = 1;
	}
	/* Publishes still queued are committed; their results find their
	 * clients gone, and hub_free() takes them. */
	asyncpub_stop(pub);
	committer_stop(com);
	hub_free(hub);
	if (ws_fd != -1)
		close(ws_fd);
	if (ws_made && strncmp(cfg->ws, "unix:", 5) == 0)
		unlink(cfg->ws + 5);
	if (listen_fd != -1 && !inherited) {
		close(listen_fd);
		if (strncmp(cfg->listen, "unix:", 5) == 0)
			unlink(cfg->listen + 5);
	}
	return status;
}
