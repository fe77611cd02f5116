/* committer.c: see committer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "committer.h"
#include "evlog.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"

/* Retention runs at most this often when the log is busy. */
#define PRUNE_INTERVAL_MS	1000

struct job {
	const struct publish_req *req;
	uint64_t		 seq;
	int			 state;		/* 0 queued, 1 done, -1 failed */
	pthread_cond_t		 done;		/* its own: wake only its owner */
	struct job		*next;
};

struct committer {
	struct evlog	*log;
	const struct config *cfg;
	struct hub	*hub;
	pthread_t	 thread;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 more;		/* jobs queued or stopping */
	struct job	*head, **tail;
	int		 stopping;
	int64_t		 next_prune_ms;
	struct evlog_new batch[COMMIT_BATCH_MAX];
	struct job	*jobs[COMMIT_BATCH_MAX];
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
prune_step(struct committer *c)
{
	const struct config *cfg = c->cfg;
	int64_t		 min_ts = 0;
	size_t		 deleted;

	if (cfg->retention_max_events == 0 && cfg->retention_max_age_ms == 0)
		return 0;
	if (cfg->retention_max_age_ms > 0)
		min_ts = wall_ms() - cfg->retention_max_age_ms;
	if (evlog_prune(c->log, cfg->retention_max_events, min_ts,
	    PRUNE_BATCH_MAX, &deleted) == -1) {
		log_warn("retention: %s", evlog_errmsg(c->log));
		return 0;
	}
	if (deleted > 0)
		log_debug("retention: %zu events pruned", deleted);
	return deleted == PRUNE_BATCH_MAX;
}

/* Prune when due: every PRUNE_INTERVAL_MS, or at once while a backlog of
 * old events remains, one bounded step between commit groups. */
static void
prune_if_due(struct committer *c)
{
	int64_t now = wall_ms();

	if (now < c->next_prune_ms)
		return;
	c->next_prune_ms = now + (prune_step(c) ? 0 : PRUNE_INTERVAL_MS);
}

static void *
committer_main(void *arg)
{
	struct committer *c = arg;
	struct timespec	 deadline;
	struct job	*j;
	size_t		 n, i;
	int		 rc;

	pthread_mutex_lock(&c->mtx);
	for (;;) {
		while (c->head == NULL && !c->stopping) {
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_sec += PRUNE_INTERVAL_MS / 1000;
			if (pthread_cond_timedwait(&c->more, &c->mtx,
			    &deadline) == ETIMEDOUT) {
				pthread_mutex_unlock(&c->mtx);
				prune_if_due(c);
				pthread_mutex_lock(&c->mtx);
			}
		}
		if (c->head == NULL && c->stopping)
			break;
		/* Take the whole queue (up to a batch): one transaction. */
		for (n = 0; c->head != NULL && n < COMMIT_BATCH_MAX; n++) {
			j = c->head;
			c->head = j->next;
			c->jobs[n] = j;
		}
		if (c->head == NULL)
			c->tail = &c->head;
		pthread_mutex_unlock(&c->mtx);

		for (i = 0; i < n; i++) {
			c->batch[i].topic = c->jobs[i]->req->topic;
			c->batch[i].event = c->jobs[i]->req->event;
			c->batch[i].data = c->jobs[i]->req->data;
			c->batch[i].data_len = c->jobs[i]->req->data_len;
		}
		rc = evlog_append(c->log, c->batch, n, wall_ms());
		if (rc == -1) {
			log_err("publish: %s", evlog_errmsg(c->log));
			METRIC_ADD(publish_errors, n);
		} else
			METRIC_ADD(events_published, n);
		if (rc == 0 && c->hub != NULL)
			hub_notify(c->hub);

		pthread_mutex_lock(&c->mtx);
		for (i = 0; i < n; i++) {
			c->jobs[i]->seq = c->batch[i].seq;
			c->jobs[i]->state = rc == 0 ? 1 : -1;
			pthread_cond_signal(&c->jobs[i]->done);
		}
		pthread_mutex_unlock(&c->mtx);
		prune_if_due(c);
		pthread_mutex_lock(&c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

int
committer_start(struct committer **out, const char *dbpath,
    const struct config *cfg, struct hub *hub, char *err, size_t errsz)
{
	struct committer *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	c->cfg = cfg;
	c->hub = hub;
	c->tail = &c->head;
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->more, NULL);
	if (evlog_open(&c->log, dbpath, EVLOG_CREATE |
	    (cfg->sync_full ? EVLOG_SYNC_FULL : 0), err, errsz) == -1)
		goto fail;
	/* Apply retention once before serving, so a restart with a smaller
	 * limit takes effect at once. */
	while (prune_step(c))
		;
	if ((errno = pthread_create(&c->thread, NULL, committer_main, c)) != 0) {
		snprintf(err, errsz, "pthread_create: %s", strerror(errno));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	evlog_close(c->log);
	pthread_mutex_destroy(&c->mtx);
	pthread_cond_destroy(&c->more);
	free(c);
	return -1;
}

const char *
committer_epoch(const struct committer *c)
{
	return evlog_epoch(c->log);
}

int
committer_publish(struct committer *c, const struct publish_req *req,
    uint64_t *seq)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.req = req;
	pthread_cond_init(&j.done, NULL);
	pthread_mutex_lock(&c->mtx);
	if (c->stopping) {
		pthread_mutex_unlock(&c->mtx);
		pthread_cond_destroy(&j.done);
		return -1;
	}
	*c->tail = &j;
	c->tail = &j.next;
	pthread_cond_signal(&c->more);
	while (j.state == 0)
		pthread_cond_wait(&j.done, &c->mtx);
	pthread_mutex_unlock(&c->mtx);
	pthread_cond_destroy(&j.done);
	*seq = j.seq;
	return j.state == 1 ? 0 : -1;
}

void
committer_stop(struct committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mtx);
	c->stopping = 1;
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->mtx);
	pthread_join(c->thread, NULL);
	evlog_close(c->log);
	pthread_mutex_destroy(&c->mtx);
	pthread_cond_destroy(&c->more);
	free(c);
}
