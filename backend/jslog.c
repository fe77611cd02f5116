/*
 * jslog.c: the event log on NATS JetStream. See jslog.h for the design and
 * logdrv.h for the contract; the notes here are about the mechanics.
 *
 * Threads: a struct jslog is used by one thread at a time (logdrv.h),
 * except the follower queue, which the nats.c delivery thread of the
 * ordered consumer fills (on_follow) under fmtx. Connection events are
 * only logged.
 *
 * Our own request/reply: publishes and fetches use plain subscriptions on
 * inboxes of ours rather than nats.c's helpers, for control over timeouts,
 * retries and the no_wait fetch (which nats.c 3.4's FetchRequest waits
 * out instead of returning on "404 No Messages").
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nats/nats.h>

#include "jslog.h"
#include "jsmap.h"
#include "log.h"
#include "logdrv.h"
#include "valid.h"

#define HDR_EVENT	"Ssereplay-Event"
#define HDR_MSGID	"Nats-Msg-Id"
#define HDR_STREAM	"Nats-Expected-Stream"
#define HDR_LASTSEQ	"Nats-Expected-Last-Sequence"
#define HDR_STATUS	"Status"
/* Follower heartbeats: a silent consumer is recreated after two (by
 * nats.c), and after FOLLOW_STALL_MS without progress by our watchdog. */
#define FOLLOW_STALL_MS		3000
#define FOLLOW_HEARTBEAT_NS	(1000LL * 1000 * 1000)
/* A no-responders answer (no stream leader yet) is retried this soon. */
#define NORESP_RETRY_MS		50
/* A cursor whose position is this far behind a read is not reused. */
#define CURSOR_SKIP_MAX		1024
/* Servers of nats_url we take. */
#define NATS_SERVERS_MAX	32
/* Creating a consumer and fetching: how long to wait for the cluster. */
#define API_TIMEOUT_MS		5000

struct cursor {
	int		 used;
	char		 filter[JSMAP_SUBJECT_MAX + 1];	/* "" = all */
	char		 name[128];	/* the consumer */
	char		 next_subj[256 + NATS_STREAM_MAX];
	uint64_t	 from;		/* what it hands out next is >= from */
	natsMsg		**held;		/* fetched, not yet handed out */
	size_t		 nheld, held_off, held_cap;
	char		 pf_reply[192];	/* a fetch asked ahead, "" = none */
	int		 pf_batch;
	natsSubscription *sub;		/* its fetches' answers: inbox.* */
	char		 inbox[128];
	int64_t		 used_ms;
};

struct fitem {
	natsMsg		*m;
	uint64_t	 seq;
	struct fitem	*next;
};

struct jslog {
	const struct config *cfg;
	natsConnection	*nc;
	jsCtx		*js;
	char		 stream[NATS_STREAM_MAX + 1];
	char		 prefix[NATS_PREFIX_MAX + 1];
	char		 epoch[EPOCH_HEX_LEN + 1];
	int64_t		 created;
	char		 err[512];

	/* Publishing: replies come to pub_inbox.<gen>.<i>. */
	natsSubscription *pub_sub;
	char		 pub_inbox[128];
	uint64_t	 pub_gen;
	char		 msgid_base[17];
	uint64_t	 msgid_next;
	int		 recreated;	/* the stream is not ours any more */

	/* Reading: each cursor's fetch answers come to its own inbox. */
	uint64_t	 fetch_n;
	struct cursor	 cursors[NATS_CURSORS_MAX];

	/* Bounds from the stream info, under fmtx: kept fresh by the
	 * refresher thread (started by the first bounds call), so that the
	 * hub never waits for the cluster on a new stream. */
	uint64_t	 info_first, info_last;
	int64_t		 info_ms;
	pthread_t	 refresher;
	int		 refresher_started;
	int		 rstop;
	pthread_cond_t	 rcond;

	/* The follower. */
	natsSubscription *follow_sub;
	pthread_mutex_t	 fmtx;
	pthread_cond_t	 fcond;
	struct fitem	*fhead, **ftail;
	size_t		 fbytes;
	uint64_t	 follow_last;	/* newest seq it delivered */
	int		 fstop;
	unsigned	 fstarted, fdone;	/* subscriptions made, and
					 * those past their last callback */
	int		 following;	/* the watchdog may act */
	uint64_t	 watch_seq;	/* follow_last at watch_ms */
	int64_t		 watch_ms;
	void		(*notify)(void *);
	void		*notify_arg;
};

static void js_close_impl(struct jslog *);
static void follow_stop(struct jslog *);
static int follow_start(struct jslog *, uint64_t, char *, size_t);

/* nats.c is initialised once and closed with the last log. */
static pthread_mutex_t	lib_mtx = PTHREAD_MUTEX_INITIALIZER;
static int		lib_users;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_err(struct jslog *d, const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	snprintf(d->err, sizeof(d->err), "%s: %s%s%s", what,
	    natsStatus_GetText(s), last != NULL && *last ? ": " : "",
	    last != NULL ? last : "");
}

static void
on_disconnected(natsConnection *nc, void *arg)
{
	(void)arg;
	if (natsConnection_Status(nc) != NATS_CONN_STATUS_CLOSED)
		log_warn("nats: disconnected, reconnecting");
}

static void
on_reconnected(natsConnection *nc, void *arg)
{
	char url[256];

	(void)arg;
	if (natsConnection_GetConnectedUrl(nc, url, sizeof(url)) != NATS_OK)
		snprintf(url, sizeof(url), "?");
	log_info("nats: reconnected to %s", url);
}

static void
on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus s,
    void *arg)
{
	(void)nc;
	(void)sub;
	(void)arg;
	/* Missed heartbeats of the follower are expected when a node goes;
	 * nats.c recreates the consumer. */
	if (s == NATS_MISSED_HEARTBEAT)
		log_debug("nats: follower missed heartbeats; recreating it");
	else
		log_warn("nats: %s", natsStatus_GetText(s));
}

static int
lib_open(char *err, size_t errsz)
{
	natsStatus	 s = NATS_OK;

	pthread_mutex_lock(&lib_mtx);
	if (lib_users == 0)
		s = nats_Open(-1);
	if (s == NATS_OK)
		lib_users++;
	pthread_mutex_unlock(&lib_mtx);
	if (s != NATS_OK) {
		snprintf(err, errsz, "nats_Open: %s", natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

static void
lib_close(void)
{
	pthread_mutex_lock(&lib_mtx);
	if (--lib_users == 0)
		nats_CloseAndWait(2000);
	pthread_mutex_unlock(&lib_mtx);
}

/* Connect with cfg's servers and credentials. */
static int
js_connect(const struct config *cfg, natsConnection **nc, jsCtx **js,
    char *err, size_t errsz)
{
	natsOptions	*o = NULL;
	natsStatus	 s;
	const char	*last, *servers[NATS_SERVERS_MAX];
	char		 urls[NATS_URLS_MAX + 1], *p, *save = NULL;
	int		 nservers = 0;

	*nc = NULL;
	*js = NULL;
	if (cfg->nats_url[0] == '\0') {
		snprintf(err, errsz, "log = jetstream needs nats_url");
		return -1;
	}
	/* nats.c 3.4 takes a list only as an array. */
	snprintf(urls, sizeof(urls), "%s", cfg->nats_url);
	for (p = strtok_r(urls, ",", &save); p != NULL && nservers <
	    NATS_SERVERS_MAX; p = strtok_r(NULL, ",", &save))
		servers[nservers++] = p;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, nservers);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, "ssereplay");
	/* Only nats_url's servers, or also those the cluster names. */
	if (s == NATS_OK)
		s = natsOptions_SetIgnoreDiscoveredServers(o,
		    !cfg->nats_discover);
	/* Reconnect forever, quickly: publishes fail meanwhile (fast),
	 * streams stay open and catch up afterwards. */
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(o, 100, 500);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(o, 2);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(o, on_disconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(o, on_reconnected, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(o, on_async_error, NULL);
	if (s == NATS_OK && cfg->nats_creds[0] != '\0')
		s = natsOptions_SetUserCredentialsFromFiles(o, cfg->nats_creds,
		    NULL);
	if (s == NATS_OK && cfg->nats_user[0] != '\0')
		s = natsOptions_SetUserInfo(o, cfg->nats_user,
		    cfg->nats_password);
	if (s == NATS_OK && cfg->nats_token[0] != '\0')
		s = natsOptions_SetToken(o, cfg->nats_token);
	if (s == NATS_OK && cfg->nats_ca[0] != '\0') {
		s = natsOptions_LoadCATrustedCertificates(o, cfg->nats_ca);
		if (s == NATS_OK)
			s = natsOptions_SetSecure(o, true);
	}
	if (s == NATS_OK)
		s = natsConnection_Connect(nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(js, *nc, NULL);
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		last = nats_GetLastError(NULL);
		snprintf(err, errsz, "nats %s: %s%s%s", cfg->nats_url,
		    natsStatus_GetText(s), last != NULL && *last ? ": " : "",
		    last != NULL ? last : "");
		jsCtx_Destroy(*js);
		natsConnection_Destroy(*nc);
		*js = NULL;
		*nc = NULL;
		return -1;
	}
	return 0;
}

/* Our subjects as the stream's only subject pattern. */
static void
stream_subject(char *out, size_t outsz, const char *prefix)
{
	snprintf(out, outsz, "%s.>", prefix);
}

/*
 * Find the stream (make it with create) and check that it takes our
 * subjects. *si is the caller's to destroy.
 */
static int
find_stream(const struct config *cfg, jsCtx *js, int create,
    const char *desc, jsStreamInfo **si, char *err, size_t errsz)
{
	jsStreamConfig	 sc;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 subj[NATS_PREFIX_MAX + 3];
	const char	*subjs[1];
	int		 i, ok = 0;

	*si = NULL;
	stream_subject(subj, sizeof(subj), cfg->nats_subject);
	s = js_GetStreamInfo(si, js, cfg->nats_stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND && create) {
		jsStreamConfig_Init(&sc);
		sc.Name = cfg->nats_stream;
		sc.Description = desc;
		subjs[0] = subj;
		sc.Subjects = subjs;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Retention = js_LimitsPolicy;
		sc.Discard = js_DiscardOld;
		sc.Replicas = cfg->nats_replicas;
		sc.MaxMsgs = cfg->retention_max_events > 0 ?
		    cfg->retention_max_events : -1;
		sc.MaxAge = cfg->retention_max_age_ms > 0 ?
		    cfg->retention_max_age_ms * 1000000LL : 0;
		s = js_AddStream(si, js, &sc, NULL, &jerr);
		/* Another backend may have made it just now. */
		if (s != NATS_OK && jerr == JSStreamNameExistErr)
			s = js_GetStreamInfo(si, js, cfg->nats_stream, NULL,
			    &jerr);
		if (s == NATS_OK)
			log_info("made JetStream stream %s (subjects %s, %d"
			    " replicas)", cfg->nats_stream, subj,
			    cfg->nats_replicas);
	}
	if (s == NATS_NOT_FOUND) {
		snprintf(err, errsz, "JetStream stream %s does not exist",
		    cfg->nats_stream);
		return -1;
	}
	if (s != NATS_OK) {
		snprintf(err, errsz, "JetStream stream %s: %s (%s)",
		    cfg->nats_stream, natsStatus_GetText(s),
		    nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
		jsStreamInfo_Destroy(*si);
		*si = NULL;
		return -1;
	}
	for (i = 0; (*si)->Config != NULL && i < (*si)->Config->SubjectsLen;
	    i++)
		if (strcmp((*si)->Config->Subjects[i], subj) == 0)
			ok = 1;
	if (!ok) {
		snprintf(err, errsz, "JetStream stream %s does not take the"
		    " subjects %s (nats_subject)", cfg->nats_stream, subj);
		jsStreamInfo_Destroy(*si);
		*si = NULL;
		return -1;
	}
	return 0;
}

static void
info_take(struct jslog *d, const jsStreamInfo *si)
{
	d->info_first = si->State.Msgs > 0 ? si->State.FirstSeq : 0;
	d->info_last = si->State.LastSeq;
	d->info_ms = mono_ms();
}

static const char *
stream_desc(const jsStreamInfo *si)
{
	return si->Config != NULL ? si->Config->Description : NULL;
}

static int
js_open(void **out, const struct config *cfg, const char *dbpath, int flags,
    char *err, size_t errsz)
{
	struct jslog	*d;
	jsStreamInfo	*si = NULL;
	unsigned char	 rnd[8];
	natsStatus	 s;
	char		 sub[160];
	size_t		 i;

	(void)dbpath;
	*out = NULL;
	if (lib_open(err, errsz) == -1)
		return -1;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "out of memory");
		lib_close();
		return -1;
	}
	d->cfg = cfg;
	pthread_mutex_init(&d->fmtx, NULL);
	pthread_cond_init(&d->fcond, NULL);
	pthread_cond_init(&d->rcond, NULL);
	d->ftail = &d->fhead;
	memcpy(d->stream, cfg->nats_stream, sizeof(d->stream));
	memcpy(d->prefix, cfg->nats_subject, sizeof(d->prefix));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errsz, "getrandom failed");
		goto fail;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(d->msgid_base + 2 * i, 3, "%02x", rnd[i]);
	if (js_connect(cfg, &d->nc, &d->js, err, errsz) == -1)
		goto fail;
	if (find_stream(cfg, d->js, (flags & LOGDRV_CREATE) != 0, NULL, &si,
	    err, errsz) == -1)
		goto fail;
	d->created = si->Created;
	jsmap_epoch(d->epoch, d->stream, si->Created, stream_desc(si));
	info_take(d, si);
	jsStreamInfo_Destroy(si);
	si = NULL;
	if (!(flags & LOGDRV_READONLY)) {
		snprintf(d->pub_inbox, sizeof(d->pub_inbox), "_INBOX.%s%s",
		    d->msgid_base, "p");
		snprintf(sub, sizeof(sub), "%s.>", d->pub_inbox);
		if ((s = natsConnection_SubscribeSync(&d->pub_sub, d->nc,
		    sub)) != NATS_OK ||
		    (s = natsSubscription_SetPendingLimits(d->pub_sub, -1,
		    -1)) != NATS_OK) {
			set_err(d, "subscribe", s);
			snprintf(err, errsz, "%s", d->err);
			goto fail;
		}
	}
	*out = d;
	return 0;
fail:
	js_close_impl(d);
	return -1;
}

static void
cursor_drop(struct cursor *c)
{
	size_t i;

	for (i = c->held_off; i < c->nheld; i++)
		natsMsg_Destroy(c->held[i]);
	free(c->held);
	if (c->sub != NULL) {
		natsSubscription_Unsubscribe(c->sub);
		natsSubscription_Destroy(c->sub);
	}
	/* The consumer itself goes when the server finds it idle. */
	memset(c, 0, sizeof(*c));
}

static void
js_close_impl(struct jslog *d)
{
	struct fitem	*f;
	size_t		 i;

	if (d == NULL)
		return;
	if (d->refresher_started) {
		pthread_mutex_lock(&d->fmtx);
		d->rstop = 1;
		pthread_cond_signal(&d->rcond);
		pthread_mutex_unlock(&d->fmtx);
		pthread_join(d->refresher, NULL);
	}
	if (d->follow_sub != NULL) {
		/* Let a callback waiting for room go, then stop delivery. */
		pthread_mutex_lock(&d->fmtx);
		d->fstop = 1;
		pthread_cond_broadcast(&d->fcond);
		pthread_mutex_unlock(&d->fmtx);
		follow_stop(d);
	}
	for (i = 0; i < NATS_CURSORS_MAX; i++)
		if (d->cursors[i].used)
			cursor_drop(&d->cursors[i]);
	natsSubscription_Destroy(d->pub_sub);
	jsCtx_Destroy(d->js);
	if (d->nc != NULL) {
		natsConnection_Close(d->nc);
		natsConnection_Destroy(d->nc);
	}
	while ((f = d->fhead) != NULL) {
		d->fhead = f->next;
		natsMsg_Destroy(f->m);
		free(f);
	}
	pthread_mutex_destroy(&d->fmtx);
	pthread_cond_destroy(&d->fcond);
	pthread_cond_destroy(&d->rcond);
	free(d);
	lib_close();
}

static void
js_close(void *impl)
{
	js_close_impl(impl);
}

static const char *
js_epoch(const void *impl)
{
	return ((const struct jslog *)impl)->epoch;
}

static const char *
js_errmsg(const void *impl)
{
	return ((const struct jslog *)impl)->err;
}

/* ---- bounds ------------------------------------------------------------ */

/* JetStream API calls wait this long at most (the hub's thread makes
 * some: a replay's consumer, a resume point newer than the cache). */
static jsOptions *
api_opts(jsOptions *o)
{
	jsOptions_Init(o);
	o->Wait = API_TIMEOUT_MS;
	return o;
}

/*
 * Ask the stream for its state; notice a stream made anew. Any thread:
 * the results go in under fmtx; the message of a failure into err.
 */
static int
info_refresh(struct jslog *d, char *err, size_t errsz)
{
	jsStreamInfo	*si = NULL;
	jsOptions	 o;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 epoch[EPOCH_HEX_LEN + 1];
	const char	*last;

	if (natsConnection_Status(d->nc) != NATS_CONN_STATUS_CONNECTED) {
		snprintf(err, errsz, "not connected to NATS");
		return -1;
	}
	s = js_GetStreamInfo(&si, d->js, d->stream, api_opts(&o), &jerr);
	if (s != NATS_OK) {
		last = nats_GetLastError(NULL);
		snprintf(err, errsz, "stream info: %s%s%s",
		    natsStatus_GetText(s), last != NULL ? ": " : "",
		    last != NULL ? last : "");
		return -1;
	}
	jsmap_epoch(epoch, d->stream, si->Created, stream_desc(si));
	pthread_mutex_lock(&d->fmtx);
	if (strcmp(epoch, d->epoch) != 0 && !d->recreated) {
		d->recreated = 1;
		log_err("JetStream stream %s was made anew (epoch %s, ours"
		    " %s): publishes fail until the backend restarts",
		    d->stream, epoch, d->epoch);
	}
	info_take(d, si);
	pthread_mutex_unlock(&d->fmtx);
	jsStreamInfo_Destroy(si);
	return 0;
}

/*
 * The follower's watchdog, on the refresher's thread: nats.c recreates
 * the ordered consumer after a reconnect or missed heartbeats, but a
 * recreation that fails (no stream leader yet, the meta group electing)
 * can leave it silent for good. If the stream has events the follower has
 * not delivered for FOLLOW_STALL_MS, make a new one from the last it
 * delivered; on_follow drops what it sees twice.
 */
static void
follow_watch(struct jslog *d)
{
	uint64_t	 fl, last;
	int64_t		 now = mono_ms();
	int		 stalled;
	char		 err[256];

	pthread_mutex_lock(&d->fmtx);
	fl = d->follow_last;
	last = d->info_last;
	if (fl != d->watch_seq) {
		d->watch_seq = fl;
		d->watch_ms = now;
	}
	stalled = d->following && !d->fstop && last > fl &&
	    now - d->watch_ms > FOLLOW_STALL_MS;
	pthread_mutex_unlock(&d->fmtx);
	if (!stalled ||
	    natsConnection_Status(d->nc) != NATS_CONN_STATUS_CONNECTED)
		return;
	log_warn("nats: following the stream stalled at %llu (it has %llu):"
	    " recreating the consumer", (unsigned long long)fl,
	    (unsigned long long)last);
	if (d->follow_sub != NULL)
		follow_stop(d);
	if (follow_start(d, fl, err, sizeof(err)) == -1)
		log_warn("nats: %s", err);
	pthread_mutex_lock(&d->fmtx);
	d->watch_ms = mono_ms();
	pthread_mutex_unlock(&d->fmtx);
}

static void *
refresher_main(void *arg)
{
	struct jslog	*d = arg;
	struct timespec	 until;
	char		 err[256];

	pthread_mutex_lock(&d->fmtx);
	while (!d->rstop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (NATS_BOUNDS_STALE_MS / 2) * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&d->rcond, &d->fmtx, &until);
		if (d->rstop)
			break;
		pthread_mutex_unlock(&d->fmtx);
		if (info_refresh(d, err, sizeof(err)) == -1)
			log_debug("nats: %s", err);
		else
			follow_watch(d);
		pthread_mutex_lock(&d->fmtx);
	}
	pthread_mutex_unlock(&d->fmtx);
	return NULL;
}

static int
js_bounds(void *impl, uint64_t want, uint64_t *first, uint64_t *last)
{
	struct jslog	*d = impl;
	uint64_t	 known;
	int		 i;

	if (!d->refresher_started) {
		if (pthread_create(&d->refresher, NULL, refresher_main, d) !=
		    0) {
			snprintf(d->err, sizeof(d->err), "pthread_create"
			    " failed");
			return -1;
		}
		d->refresher_started = 1;
	}
	for (i = 0; i < 2; i++) {
		pthread_mutex_lock(&d->fmtx);
		known = d->info_last > d->follow_last ? d->info_last :
		    d->follow_last;
		*first = d->info_first;
		/* What the follower saw beyond a stale empty answer. */
		if (*first == 0 && known > d->info_last)
			*first = d->info_last + 1;
		*last = known;
		pthread_mutex_unlock(&d->fmtx);
		/* An id another backend handed out may be newer than what we
		 * know: ask, rather than call it one from the future. */
		if (want <= known || i == 1)
			break;
		if (info_refresh(d, d->err, sizeof(d->err)) == -1)
			return -1;
	}
	return 0;
}

/* ---- append ------------------------------------------------------------ */

static int
send_one(struct jslog *d, natsMsg *m)
{
	natsStatus s = natsConnection_PublishMsg(d->nc, m);

	if (s != NATS_OK) {
		set_err(d, "publish", s);
		return -1;
	}
	return 0;
}

/* The index i of a reply subject pub_inbox.<gen>.<i>, or -1. */
static long
reply_index(struct jslog *d, const char *subj, size_t n)
{
	size_t		 plen = strlen(d->pub_inbox);
	char		*end;
	unsigned long long gen, idx;

	if (strncmp(subj, d->pub_inbox, plen) != 0 || subj[plen] != '.')
		return -1;
	gen = strtoull(subj + plen + 1, &end, 10);
	if (*end != '.' || gen != d->pub_gen)
		return -1;
	idx = strtoull(end + 1, &end, 10);
	if (*end != '\0' || idx >= n)
		return -1;
	return (long)idx;
}

static int
js_append(void *impl, struct evlog_new *evs, size_t n, int64_t ts_ms)
{
	struct jslog	*d = impl;
	natsMsg		**msgs = NULL, *r = NULL;
	int64_t		*retry_at = NULL, now, deadline, wait, next;
	char		 subj[JSMAP_SUBJECT_MAX + 1], reply[192], id[64];
	char		 why[256];
	const char	*status;
	uint64_t	 seq;
	size_t		 i, done = 0;
	long		 idx;
	int		 dup, code, rc, ret = -1;
	natsStatus	 s;

	(void)ts_ms;	/* the stream records its own time */
	for (i = 0; i < n; i++)
		evs[i].seq = 0;
	if (n == 0)
		return 0;
	if (d->pub_sub == NULL) {
		snprintf(d->err, sizeof(d->err), "opened read-only");
		return -1;
	}
	if (d->recreated) {
		snprintf(d->err, sizeof(d->err), "JetStream stream %s was made"
		    " anew: restart the backend", d->stream);
		return -1;
	}
	/* Fail fast while the connection is down: nothing is stored. */
	if (natsConnection_Status(d->nc) != NATS_CONN_STATUS_CONNECTED) {
		snprintf(d->err, sizeof(d->err), "not connected to NATS");
		return -1;
	}
	if ((msgs = calloc(n, sizeof(*msgs))) == NULL ||
	    (retry_at = calloc(n, sizeof(*retry_at))) == NULL) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		goto out;
	}
	d->pub_gen++;
	now = mono_ms();
	deadline = now + d->cfg->nats_timeout_ms;
	for (i = 0; i < n; i++) {
		if (jsmap_subject(subj, sizeof(subj), d->prefix, evs[i].topic,
		    strlen(evs[i].topic)) == -1) {
			snprintf(d->err, sizeof(d->err), "bad topic");
			goto out;
		}
		snprintf(reply, sizeof(reply), "%s.%" PRIu64 ".%zu",
		    d->pub_inbox, d->pub_gen, i);
		snprintf(id, sizeof(id), "%s-%" PRIu64, d->msgid_base,
		    d->msgid_next++);
		s = natsMsg_Create(&msgs[i], subj, reply, evs[i].data,
		    (int)evs[i].data_len);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(msgs[i], HDR_MSGID, id);
		if (s == NATS_OK)
			s = natsMsgHeader_Set(msgs[i], HDR_STREAM, d->stream);
		if (s == NATS_OK && evs[i].event != NULL && *evs[i].event)
			s = natsMsgHeader_Set(msgs[i], HDR_EVENT,
			    evs[i].event);
		/* An exact seq: stored only right after its predecessor
		 * (otherwise refused, and sent again until it fits). */
		if (s == NATS_OK && evs[i].want_seq != 0) {
			snprintf(id, sizeof(id), "%" PRIu64,
			    evs[i].want_seq - 1);
			s = natsMsgHeader_Set(msgs[i], HDR_LASTSEQ, id);
		}
		if (s != NATS_OK) {
			set_err(d, "message", s);
			goto out;
		}
		if (send_one(d, msgs[i]) == -1)
			goto out;
		retry_at[i] = now + NATS_ACK_RETRY_MS;
	}
	snprintf(why, sizeof(why), "no acknowledgement");
	while (done < n) {
		now = mono_ms();
		if (now >= deadline)
			break;
		next = deadline;
		for (i = 0; i < n; i++) {
			if (evs[i].seq != 0)
				continue;
			if (retry_at[i] <= now) {
				/* Same Nats-Msg-Id: stored at most once. */
				if (natsConnection_Status(d->nc) ==
				    NATS_CONN_STATUS_CONNECTED &&
				    send_one(d, msgs[i]) == -1)
					goto out;
				retry_at[i] = now + NATS_ACK_RETRY_MS;
			}
			if (retry_at[i] < next)
				next = retry_at[i];
		}
		wait = next - now;
		if (wait < 1)
			wait = 1;
		s = natsSubscription_NextMsg(&r, d->pub_sub, wait);
		if (s == NATS_TIMEOUT)
			continue;
		if (s == NATS_NO_RESPONDERS) {
			/* Nobody takes our subjects now: the stream is
			 * electing a leader (a node went). nats.c does not
			 * say which message it was: every one waiting goes
			 * again soon, within the deadline. */
			snprintf(why, sizeof(why), "the stream has no"
			    " leader (no responders)");
			now = mono_ms();
			for (i = 0; i < n; i++)
				if (evs[i].seq == 0 &&
				    retry_at[i] > now + NORESP_RETRY_MS)
					retry_at[i] = now + NORESP_RETRY_MS;
			continue;
		}
		if (s != NATS_OK) {
			set_err(d, "waiting for acks", s);
			goto out;
		}
		idx = reply_index(d, natsMsg_GetSubject(r), n);
		if (idx < 0 || evs[idx].seq != 0) {
			natsMsg_Destroy(r);
			continue;
		}
		status = NULL;
		if (natsMsgHeader_Get(r, HDR_STATUS, &status) == NATS_OK &&
		    status != NULL) {
			/* 503: nobody takes the subject (no stream leader
			 * right now): try again soon. */
			snprintf(why, sizeof(why), "NATS status %s", status);
			retry_at[idx] = mono_ms() + NORESP_RETRY_MS;
			natsMsg_Destroy(r);
			continue;
		}
		rc = jsmap_puback_parse(natsMsg_GetData(r),
		    (size_t)natsMsg_GetDataLength(r), &seq, &dup, &code,
		    why, sizeof(why));
		natsMsg_Destroy(r);
		if (rc == 0) {
			evs[idx].seq = seq;
			done++;
		} else {
			/* An error answer (a leader change, a store not
			 * ready): the same message again, a bit later. */
			if (rc < 0)
				snprintf(why, sizeof(why), "a malformed ack");
			retry_at[idx] = mono_ms() + NORESP_RETRY_MS * 2;
		}
	}
	if (done == n)
		ret = 0;
	else
		snprintf(d->err, sizeof(d->err), "%zu of %zu events not"
		    " acknowledged by JetStream within %lld ms (%s)", n - done,
		    n, d->cfg->nats_timeout_ms, why);
out:
	if (msgs != NULL)
		for (i = 0; i < n; i++)
			natsMsg_Destroy(msgs[i]);
	free(msgs);
	free(retry_at);
	return ret;
}

/* ---- rows -------------------------------------------------------------- */

/*
 * Hand message m (seq known) to fn as a row. Returns fn's answer; a
 * message that is not one of ours (another publisher's subject under our
 * prefix) is handed over with an empty topic, which no stream matches.
 */
static int
give_row(struct jslog *d, natsMsg *m, uint64_t seq, evlog_row_fn fn,
    void *arg, size_t *bytes)
{
	struct evlog_row row;
	char		 topic[TOPIC_MAX + 1];
	const char	*subj = natsMsg_GetSubject(m), *ev = NULL;
	uint64_t	 sseq, pending;
	int64_t		 ts_ns = 0;
	int		 tl;

	memset(&row, 0, sizeof(row));
	row.seq = seq;
	tl = jsmap_topic(topic, sizeof(topic), d->prefix, subj, strlen(subj));
	if (tl < 0) {
		topic[0] = '\0';
		tl = 0;
	}
	row.topic = topic;
	row.topic_len = (size_t)tl;
	if (natsMsgHeader_Get(m, HDR_EVENT, &ev) != NATS_OK || ev == NULL ||
	    !valid_event_name(ev, strlen(ev)))
		ev = "";
	row.event = ev;
	row.event_len = strlen(ev);
	row.data = natsMsg_GetData(m);
	row.data_len = (size_t)natsMsg_GetDataLength(m);
	if (row.data == NULL)
		row.data = "";
	if (jsmap_ack_parse(natsMsg_GetReply(m), &sseq, &ts_ns, &pending) == 0)
		row.ts_ms = ts_ns / 1000000;
	*bytes += row.data_len;
	return fn(arg, &row);
}

/* ---- reading by sequence: cursors -------------------------------------- */

/* Make a consumer for filter from seq after+1. LOGDRV_PRUNED: the
 * stream's first is past after+1 (the cursor is made all the same). */
static int
cursor_make(struct jslog *d, struct cursor *c, const char *filter,
    uint64_t after)
{
	jsConsumerConfig cc;
	jsConsumerInfo	*ci = NULL;
	jsOptions	 o;
	char		 sub[160];
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	int		 ret = 0;

	jsConsumerConfig_Init(&cc);
	cc.DeliverPolicy = js_DeliverByStartSequence;
	cc.OptStartSeq = after + 1;
	cc.AckPolicy = js_AckNone;
	cc.FilterSubject = *filter ? filter : NULL;
	cc.InactiveThreshold = (int64_t)NATS_CURSOR_IDLE_MS * 1000000LL * 3 / 2;
	cc.MemoryStorage = true;
	cc.Replicas = 1;
	if (natsConnection_Status(d->nc) != NATS_CONN_STATUS_CONNECTED) {
		snprintf(d->err, sizeof(d->err), "not connected to NATS");
		return -1;
	}
	s = js_AddConsumer(&ci, d->js, d->stream, &cc, api_opts(&o), &jerr);
	if (s != NATS_OK) {
		set_err(d, "consumer", s);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->used = 1;
	/* Its own inbox: answers to another cursor's fetch asked ahead
	 * never land here. */
	snprintf(c->inbox, sizeof(c->inbox), "_INBOX.%sf%" PRIu64,
	    d->msgid_base, ++d->fetch_n);
	snprintf(sub, sizeof(sub), "%s.*", c->inbox);
	if ((s = natsConnection_SubscribeSync(&c->sub, d->nc, sub)) !=
	    NATS_OK || (s = natsSubscription_SetPendingLimits(c->sub, -1,
	    -1)) != NATS_OK) {
		set_err(d, "subscribe", s);
		jsConsumerInfo_Destroy(ci);
		cursor_drop(c);
		return -1;
	}
	snprintf(c->filter, sizeof(c->filter), "%s", filter);
	snprintf(c->name, sizeof(c->name), "%s", ci->Name);
	snprintf(c->next_subj, sizeof(c->next_subj),
	    "$JS.API.CONSUMER.MSG.NEXT.%s.%s", d->stream, ci->Name);
	c->from = after + 1;
	c->used_ms = mono_ms();
	/* A start before the first retained message starts at it. */
	if (ci->Delivered.Stream > after) {
		c->from = ci->Delivered.Stream + 1;
		pthread_mutex_lock(&d->fmtx);
		if (d->info_first < c->from) {
			d->info_first = c->from;
			if (d->info_last < ci->Delivered.Stream)
				d->info_last = ci->Delivered.Stream;
		}
		pthread_mutex_unlock(&d->fmtx);
		ret = LOGDRV_PRUNED;
	}
	jsConsumerInfo_Destroy(ci);
	return ret;
}

static int
held_push(struct cursor *c, natsMsg *m)
{
	natsMsg	**p;
	size_t	  cap;

	if (c->held_off > 0 && c->held_off == c->nheld)
		c->held_off = c->nheld = 0;
	if (c->nheld == c->held_cap) {
		cap = c->held_cap ? c->held_cap * 2 : 256;
		if ((p = realloc(c->held, cap * sizeof(*p))) == NULL)
			return -1;
		c->held = p;
		c->held_cap = cap;
	}
	c->held[c->nheld++] = m;
	return 0;
}

static int
fetch_send(struct jslog *d, struct cursor *c, int batch, char *reply,
    size_t replysz)
{
	natsStatus	 s;
	char		 body[96];

	snprintf(reply, replysz, "%s.%" PRIu64, c->inbox, ++d->fetch_n);
	snprintf(body, sizeof(body), "{\"batch\":%d,\"no_wait\":true}", batch);
	if ((s = natsConnection_PublishRequestString(d->nc, c->next_subj,
	    reply, body)) != NATS_OK) {
		set_err(d, "fetch", s);
		return -1;
	}
	return 0;
}

/*
 * One no_wait fetch of up to *batch messages into c->held (*batch is set
 * to what was asked: a fetch asked ahead keeps its own size). *got says
 * how many came. A full batch asks for the next one at once, so that the
 * server reads it while the hub writes this one. Returns 0, or -1 (the
 * cursor is no longer usable).
 */
static int
cursor_fetch(struct jslog *d, struct cursor *c, int *batch, size_t *got)
{
	natsMsg		*m = NULL;
	natsStatus	 s;
	char		 reply[192];
	const char	*status, *rep, *p;
	uint64_t	 sseq, pending = 1;
	int64_t		 ts, deadline;
	size_t		 nlen = strlen(c->name);

	*got = 0;
	if (natsConnection_Status(d->nc) != NATS_CONN_STATUS_CONNECTED) {
		snprintf(d->err, sizeof(d->err), "not connected to NATS");
		return -1;
	}
	if (c->pf_reply[0] != '\0') {
		memcpy(reply, c->pf_reply, sizeof(reply));
		*batch = c->pf_batch;
		c->pf_reply[0] = '\0';
	} else if (fetch_send(d, c, *batch, reply, sizeof(reply)) == -1)
		return -1;
	deadline = mono_ms() + API_TIMEOUT_MS;
	while ((int)*got < *batch) {
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			snprintf(d->err, sizeof(d->err), "fetch: no answer"
			    " from JetStream within %d ms", API_TIMEOUT_MS);
			return -1;
		}
		s = natsSubscription_NextMsg(&m, c->sub, left);
		if (s == NATS_TIMEOUT)
			continue;
		if (s != NATS_OK) {
			set_err(d, "fetch", s);
			return -1;
		}
		status = NULL;
		if (natsMsgHeader_Get(m, HDR_STATUS, &status) == NATS_OK &&
		    status != NULL) {
			/* For an earlier request: not ours to end on. */
			if (strcmp(natsMsg_GetSubject(m), reply) != 0) {
				natsMsg_Destroy(m);
				continue;
			}
			/* 404 no messages, 408 the request ended: done. */
			if (strncmp(status, "404", 3) == 0 ||
			    strncmp(status, "408", 3) == 0) {
				natsMsg_Destroy(m);
				return 0;
			}
			snprintf(d->err, sizeof(d->err), "fetch: NATS status"
			    " %s", status);
			natsMsg_Destroy(m);
			return -1;
		}
		/* Only messages of this cursor's consumer count. */
		rep = natsMsg_GetReply(m);
		if (jsmap_ack_parse(rep, &sseq, &ts, &pending) == -1 ||
		    (p = strstr(rep, c->name)) == NULL || p[-1] != '.' ||
		    p[nlen] != '.') {
			natsMsg_Destroy(m);
			continue;
		}
		if (held_push(c, m) == -1) {
			natsMsg_Destroy(m);
			snprintf(d->err, sizeof(d->err), "out of memory");
			return -1;
		}
		(*got)++;
		/* Nothing more is waiting: no need to wait for the 404. */
		if (pending == 0)
			break;
	}
	if ((int)*got == *batch && pending > 0 &&
	    fetch_send(d, c, *batch, c->pf_reply, sizeof(c->pf_reply)) == 0)
		c->pf_batch = *batch;
	return 0;
}

static struct cursor *
cursor_find(struct jslog *d, const char *filter, uint64_t after)
{
	struct cursor	*c, *free_c = NULL, *lru = NULL;
	int64_t		 now = mono_ms();
	size_t		 i;

	for (i = 0; i < NATS_CURSORS_MAX; i++) {
		c = &d->cursors[i];
		if (c->used && now - c->used_ms > NATS_CURSOR_IDLE_MS)
			cursor_drop(c);
		if (!c->used) {
			if (free_c == NULL)
				free_c = c;
			continue;
		}
		if (strcmp(c->filter, filter) == 0 && c->from <= after + 1 &&
		    after + 1 - c->from <= CURSOR_SKIP_MAX)
			return c;
		if (lru == NULL || c->used_ms < lru->used_ms)
			lru = c;
	}
	if (free_c != NULL)
		return free_c;
	cursor_drop(lru);
	return lru;
}

static uint64_t
msg_seq(natsMsg *m)
{
	uint64_t	 sseq = 0, pending;
	int64_t		 ts;

	if (jsmap_ack_parse(natsMsg_GetReply(m), &sseq, &ts, &pending) == -1)
		return 0;
	return sseq;
}

static int
js_read(void *impl, const char *topic, uint64_t after, uint64_t upto,
    size_t max_rows, size_t max_bytes, evlog_row_fn fn, void *arg)
{
	struct jslog	*d = impl;
	struct cursor	*c;
	char		 filter[JSMAP_SUBJECT_MAX + 1] = "";
	natsMsg		*m;
	uint64_t	 seq;
	size_t		 rows = 0, bytes = 0, got;
	int		 r, fetched_empty = 0, batch;

	if (after >= upto || max_rows == 0)
		return 0;
	if (topic != NULL && jsmap_subject(filter, sizeof(filter), d->prefix,
	    topic, strlen(topic)) == -1) {
		snprintf(d->err, sizeof(d->err), "bad topic");
		return -1;
	}
	c = cursor_find(d, filter, after);
	if (!c->used) {
		r = cursor_make(d, c, filter, after);
		if (r == -1)
			return -1;
		if (r == LOGDRV_PRUNED)
			return LOGDRV_PRUNED;
	}
	c->used_ms = mono_ms();
	for (;;) {
		while (c->held_off < c->nheld) {
			m = c->held[c->held_off];
			seq = msg_seq(m);
			if (seq > upto)
				return 0;	/* kept for the next read */
			c->held_off++;
			c->from = seq + 1;
			if (seq <= after) {
				natsMsg_Destroy(m);
				continue;
			}
			r = give_row(d, m, seq, fn, arg, &bytes);
			natsMsg_Destroy(m);
			if (r < 0)
				return -1;
			rows++;
			if (r > 0 || rows >= max_rows || bytes >= max_bytes)
				return 0;
		}
		if (fetched_empty)
			return 0;
		batch = (int)(max_rows - rows);
		if (batch > REPLAY_BATCH_ROWS)
			batch = REPLAY_BATCH_ROWS;
		if (cursor_fetch(d, c, &batch, &got) == -1) {
			cursor_drop(c);
			return -1;
		}
		/* Fewer than asked: that is all there is for now. */
		if (got < (size_t)batch)
			fetched_empty = 1;
	}
}

/* ---- following --------------------------------------------------------- */

static void
on_follow(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	struct jslog	*d = arg;
	struct fitem	*f;
	uint64_t	 seq;
	int		 wake;

	(void)nc;
	(void)sub;
	seq = msg_seq(m);
	if (seq == 0 || (f = malloc(sizeof(*f))) == NULL) {
		/* Not a stream message, or no memory: the hub gets it by
		 * replay when it notices the hole (a later seq). */
		natsMsg_Destroy(m);
		return;
	}
	f->m = m;
	f->seq = seq;
	f->next = NULL;
	pthread_mutex_lock(&d->fmtx);
	/* Bounded: wait for the hub to take some (flow control holds the
	 * server back meanwhile). */
	while (d->fbytes > NATS_FOLLOW_BYTES_MAX && !d->fstop)
		pthread_cond_wait(&d->fcond, &d->fmtx);
	if (d->fstop || seq <= d->follow_last) {
		pthread_mutex_unlock(&d->fmtx);
		natsMsg_Destroy(m);
		free(f);
		return;
	}
	wake = d->fhead == NULL;
	*d->ftail = f;
	d->ftail = &f->next;
	d->fbytes += (size_t)natsMsg_GetDataLength(m) + 256;
	d->follow_last = seq;
	pthread_mutex_unlock(&d->fmtx);
	if (wake && d->notify != NULL)
		d->notify(d->notify_arg);
}

static void
on_follow_done(void *arg)
{
	struct jslog *d = arg;

	pthread_mutex_lock(&d->fmtx);
	d->fdone++;
	pthread_mutex_unlock(&d->fmtx);
}

/*
 * Make the ordered consumer from after+1 into d->follow_sub (none may be
 * there). The hub's thread at start, then only the refresher's. 0, or -1
 * with a message in err.
 */
static int
follow_start(struct jslog *d, uint64_t after, char *err, size_t errsz)
{
	jsSubOptions	 so;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 subj[NATS_PREFIX_MAX + 3];
	const char	*last;

	stream_subject(subj, sizeof(subj), d->prefix);
	jsSubOptions_Init(&so);
	so.Stream = d->stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = after + 1;
	so.Config.Heartbeat = FOLLOW_HEARTBEAT_NS;
	s = js_Subscribe(&d->follow_sub, d->js, subj, on_follow, d, NULL, &so,
	    &jerr);
	if (s == NATS_OK) {
		pthread_mutex_lock(&d->fmtx);
		d->fstarted++;
		pthread_mutex_unlock(&d->fmtx);
		s = natsSubscription_SetOnCompleteCB(d->follow_sub,
		    on_follow_done, d);
	}
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(d->follow_sub, -1, -1);
	if (s != NATS_OK) {
		last = nats_GetLastError(NULL);
		snprintf(err, errsz, "following the stream: %s%s%s",
		    natsStatus_GetText(s), last != NULL ? ": " : "",
		    last != NULL ? last : "");
		if (d->follow_sub != NULL)
			follow_stop(d);
		return -1;
	}
	return 0;
}

/* Stop delivery: once this returns (or 2 s passed), no callback of the
 * subscription runs. */
static void
follow_stop(struct jslog *d)
{
	int64_t		 until = mono_ms() + 2000;
	unsigned	 want;

	pthread_mutex_lock(&d->fmtx);
	want = d->fstarted;
	pthread_mutex_unlock(&d->fmtx);
	if (natsSubscription_Unsubscribe(d->follow_sub) == NATS_OK ||
	    natsSubscription_IsValid(d->follow_sub)) {
		pthread_mutex_lock(&d->fmtx);
		while (d->fdone != want && mono_ms() < until) {
			/* A callback may wait for room: let it go. */
			pthread_cond_broadcast(&d->fcond);
			pthread_mutex_unlock(&d->fmtx);
			nats_Sleep(5);
			pthread_mutex_lock(&d->fmtx);
		}
		pthread_mutex_unlock(&d->fmtx);
	}
	natsSubscription_Destroy(d->follow_sub);
	d->follow_sub = NULL;
}

static int
js_follow(void *impl, uint64_t after, void (*notify)(void *), void *arg)
{
	struct jslog	*d = impl;

	if (d->follow_sub != NULL) {
		snprintf(d->err, sizeof(d->err), "already following");
		return -1;
	}
	d->notify = notify;
	d->notify_arg = arg;
	pthread_mutex_lock(&d->fmtx);
	d->follow_last = after;
	pthread_mutex_unlock(&d->fmtx);
	if (follow_start(d, after, d->err, sizeof(d->err)) == -1)
		return -1;
	pthread_mutex_lock(&d->fmtx);
	d->following = 1;
	d->watch_seq = after;
	d->watch_ms = mono_ms();
	pthread_mutex_unlock(&d->fmtx);
	return 0;
}

static int
js_read_new(void *impl, uint64_t after, size_t max_rows, size_t max_bytes,
    evlog_row_fn fn, void *arg)
{
	struct jslog	*d = impl;
	struct fitem	*f;
	size_t		 rows = 0, bytes = 0;
	int		 r;

	if (d->follow_sub == NULL)
		return js_read(impl, NULL, after, INT64_MAX, max_rows,
		    max_bytes, fn, arg);
	while (rows < max_rows && bytes < max_bytes) {
		pthread_mutex_lock(&d->fmtx);
		if ((f = d->fhead) != NULL) {
			if ((d->fhead = f->next) == NULL)
				d->ftail = &d->fhead;
			d->fbytes -= (size_t)natsMsg_GetDataLength(f->m) + 256;
			pthread_cond_signal(&d->fcond);
		}
		pthread_mutex_unlock(&d->fmtx);
		if (f == NULL)
			break;
		r = 0;
		if (f->seq > after) {
			r = give_row(d, f->m, f->seq, fn, arg, &bytes);
			rows++;
		}
		natsMsg_Destroy(f->m);
		free(f);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	return 0;
}

static int
js_prune(void *impl, long long max_events, int64_t min_ts_ms, size_t limit,
    size_t *deleted)
{
	/* The stream's own max_msgs and max_age do it. */
	(void)impl;
	(void)max_events;
	(void)min_ts_ms;
	(void)limit;
	*deleted = 0;
	return 0;
}

const struct logdrv_ops logdrv_jetstream_ops = {
	"jetstream", js_open, js_close, js_epoch, js_errmsg, js_append,
	js_bounds, js_read, js_follow, js_read_new, js_prune,
};

/* ---- migration --------------------------------------------------------- */

int
jslog_prepare_import(const struct config *cfg, const char *epoch,
    uint64_t next_seq, char *err, size_t errsz)
{
	natsConnection	*nc = NULL;
	jsCtx		*js = NULL;
	jsStreamInfo	*si = NULL;
	jsOptions	 o;
	jsErrCode	 jerr = 0;
	natsStatus	 s;
	char		 desc[64], have[EPOCH_HEX_LEN + 1];
	int		 ret = -1;

	if (lib_open(err, errsz) == -1)
		return -1;
	snprintf(desc, sizeof(desc), "ssereplay event log, "
	    JSMAP_EPOCH_PIN "%s", epoch);
	if (js_connect(cfg, &nc, &js, err, errsz) == -1 ||
	    find_stream(cfg, js, 1, desc, &si, err, errsz) == -1)
		goto out;
	if (si->State.Msgs > 0 || si->State.LastSeq >= next_seq) {
		snprintf(err, errsz, "JetStream stream %s is not empty (last"
		    " sequence %" PRIu64 "): migrate into a new stream",
		    cfg->nats_stream, si->State.LastSeq);
		goto out;
	}
	jsmap_epoch(have, cfg->nats_stream, si->Created, stream_desc(si));
	if (strcmp(have, epoch) != 0)
		log_warn("stream %s existed without the epoch pin: ids change"
		    " (epoch %s, was %s)", cfg->nats_stream, have, epoch);
	if (next_seq > si->State.LastSeq + 1) {
		jsOptions_Init(&o);
		o.Stream.Purge.Sequence = next_seq;
		if ((s = js_PurgeStream(js, cfg->nats_stream, &o, &jerr)) !=
		    NATS_OK) {
			snprintf(err, errsz, "purge to %" PRIu64 ": %s",
			    next_seq, natsStatus_GetText(s));
			goto out;
		}
	}
	ret = 0;
out:
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	if (nc != NULL) {
		natsConnection_Close(nc);
		natsConnection_Destroy(nc);
	}
	lib_close();
	return ret;
}
