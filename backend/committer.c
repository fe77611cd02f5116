/* committer.c: group commit and retention. See committer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "committer.h"
#include "logdrv.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"

/* Retention runs this often, or at once while a backlog of old events
 * remains. */
#define PRUNE_INTERVAL_MS	1000

struct job {
	const struct publish_req *req;
	uint64_t		 seq;
	int			 state;		/* 0 queued, 1 done, -1 failed */
	pthread_cond_t		*wake;		/* its owner's: wake only it */
	struct job		*next;
};

struct committer {
	struct logdrv	*log;		/* used by the leader only */
	struct logdrv	*prune_log;	/* used by the pruner only */
	const struct config *cfg;
	struct hub	*hub;
	pthread_mutex_t	 mtx;
	struct job	*head, **tail;
	int		 leading;	/* a commit is in progress */
	int		 stopping;
	struct evlog_new batch[COMMIT_BATCH_MAX];	/* the leader's */
	struct job	*jobs[COMMIT_BATCH_MAX];

	pthread_t	 pruner;
	pthread_cond_t	 prune_wake;	/* stopping */
	int		 pruner_started;
};

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One bounded retention step; returns 1 if there may be more to delete. */
static int
prune_step(const struct config *cfg, struct logdrv *log)
{
	int64_t		 min_ts = 0;
	size_t		 deleted;

	if (cfg->retention_max_events == 0 && cfg->retention_max_age_ms == 0)
		return 0;
	if (cfg->retention_max_age_ms > 0)
		min_ts = wall_ms() - cfg->retention_max_age_ms;
	if (logdrv_prune(log, cfg->retention_max_events, min_ts,
	    PRUNE_BATCH_MAX, &deleted) == -1) {
		log_warn("retention: %s", logdrv_errmsg(log));
		return 0;
	}
	if (deleted > 0)
		log_debug("retention: %zu events pruned", deleted);
	return deleted == PRUNE_BATCH_MAX;
}

static void *
pruner_main(void *arg)
{
	struct committer *c = arg;
	struct timespec	 deadline;
	int		 more = 0;

	pthread_mutex_lock(&c->mtx);
	while (!c->stopping) {
		if (!more) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += PRUNE_INTERVAL_MS / 1000;
			pthread_cond_timedwait(&c->prune_wake, &c->mtx,
			    &deadline);
			if (c->stopping)
				break;
		}
		pthread_mutex_unlock(&c->mtx);
		more = prune_step(c->cfg, c->prune_log);
		pthread_mutex_lock(&c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

/*
 * Lead one group: called with the mutex held and c->leading set; returns
 * with the mutex held. The mutex is released during the commit, so more
 * publishers queue meanwhile and form the next group.
 */
static void
lead_group(struct committer *c)
{
	struct job	*j;
	size_t		 n, i, stored = 0;
	int		 rc;

	for (n = 0; c->head != NULL && n < COMMIT_BATCH_MAX; n++) {
		j = c->head;
		c->head = j->next;
		c->jobs[n] = j;
		c->batch[n].topic = j->req->topic;
		c->batch[n].event = j->req->event;
		c->batch[n].data = j->req->data;
		c->batch[n].data_len = j->req->data_len;
	}
	if (c->head == NULL)
		c->tail = &c->head;
	pthread_mutex_unlock(&c->mtx);

	/* On failure, a driver without transactions (JetStream) may have
	 * stored part of the group: those have their seq, the rest 0. */
	rc = logdrv_append(c->log, c->batch, n, wall_ms());
	for (i = 0; i < n; i++)
		if (rc == 0 || c->batch[i].seq != 0)
			stored++;
	if (rc == -1) {
		log_err("publish: %s", logdrv_errmsg(c->log));
		METRIC_ADD(publish_errors, n - stored);
	}
	if (stored > 0) {
		METRIC_ADD(events_published, stored);
		if (c->hub != NULL)
			hub_notify(c->hub);
	}

	pthread_mutex_lock(&c->mtx);
	for (i = 0; i < n; i++) {
		c->jobs[i]->seq = c->batch[i].seq;
		c->jobs[i]->state = rc == 0 || c->batch[i].seq != 0 ? 1 : -1;
		pthread_cond_signal(c->jobs[i]->wake);
	}
}

int
committer_start(struct committer **out, const char *dbpath,
    const struct config *cfg, struct hub *hub, char *err, size_t errsz)
{
	struct committer *c;
	int flags = LOGDRV_CREATE | (cfg->sync_full ? LOGDRV_SYNC_FULL : 0);

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	c->cfg = cfg;
	c->hub = hub;
	c->tail = &c->head;
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->prune_wake, NULL);
	if (logdrv_open(&c->log, cfg, dbpath, flags, err, errsz) == -1 ||
	    logdrv_open(&c->prune_log, cfg, dbpath, flags, err, errsz) == -1)
		goto fail;
	/* Apply retention once before serving, so a restart with a smaller
	 * limit takes effect at once. */
	while (prune_step(cfg, c->prune_log))
		;
	if ((errno = pthread_create(&c->pruner, NULL, pruner_main, c)) != 0) {
		snprintf(err, errsz, "pthread_create: %s", strerror(errno));
		goto fail;
	}
	c->pruner_started = 1;
	*out = c;
	return 0;
fail:
	committer_stop(c);
	return -1;
}

const char *
committer_epoch(const struct committer *c)
{
	return logdrv_epoch(c->log);
}

int
committer_publish(struct committer *c, const struct publish_req *req,
    uint64_t *seq)
{
	int ok;

	committer_publish_many(c, &req, 1, seq, &ok);
	return ok ? 0 : -1;
}

void
committer_publish_many(struct committer *c,
    const struct publish_req *const *reqs, size_t n, uint64_t *seqs,
    int *ok)
{
	struct job	 one, *jobs = &one;
	pthread_cond_t	 wake;
	size_t		 i, waiting = 0;

	if (n > 1 && (jobs = calloc(n, sizeof(*jobs))) == NULL) {
		log_err("publish: out of memory for %zu events", n);
		for (i = 0; i < n; i++)
			ok[i] = 0;
		return;
	}
	pthread_cond_init(&wake, NULL);
	pthread_mutex_lock(&c->mtx);
	for (i = 0; i < n && !c->stopping; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].req = reqs[i];
		jobs[i].wake = &wake;
		*c->tail = &jobs[i];
		c->tail = &jobs[i].next;
		waiting++;
	}
	/* Jobs complete in queue order: the last one done means all are. */
	while (waiting > 0 && jobs[waiting - 1].state == 0) {
		if (!c->leading) {
			c->leading = 1;
			lead_group(c);
			c->leading = 0;
			/* More came while we committed: wake the first of
			 * them to lead the next group. */
			if (c->head != NULL)
				pthread_cond_signal(c->head->wake);
		} else
			pthread_cond_wait(&wake, &c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	pthread_cond_destroy(&wake);
	for (i = 0; i < n; i++) {
		ok[i] = i < waiting && jobs[i].state == 1;
		seqs[i] = ok[i] ? jobs[i].seq : 0;
	}
	if (jobs != &one)
		free(jobs);
}

void
committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mtx);
	c->stopping = 1;
	pthread_cond_signal(&c->prune_wake);
	pthread_mutex_unlock(&c->mtx);
	if (c->pruner_started)
		pthread_join(c->pruner, NULL);
	/* The caller has stopped the publishing threads: nobody leads. */
	logdrv_close(c->log);
	logdrv_close(c->prune_log);
	pthread_mutex_destroy(&c->mtx);
	pthread_cond_destroy(&c->prune_wake);
	free(c);
}
