/* asyncpub.c: publishing without blocking the caller. See asyncpub.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asyncpub.h"
#include "bounds.h"
#include "committer.h"
#include "log.h"

struct asyncpub {
	struct committer	*com;
	asyncpub_done_fn	 done;
	void			*arg;
	pthread_t		 tid;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 wake;
	struct pubjob		*head, **tail;
	int			 stopping;
	/* The thread's own arrays for one committer call. */
	const struct publish_req *reqs[COMMIT_BATCH_MAX];
	uint64_t		 seqs[COMMIT_BATCH_MAX];
	int			 ok[COMMIT_BATCH_MAX];
};

/* Commit one list, COMMIT_BATCH_MAX jobs at a time; refusals pass. */
static void
commit_list(struct asyncpub *p, struct pubjob *list)
{
	struct pubjob	*j, *first, *last;
	size_t		 n, i, k;

	while (list != NULL) {
		first = last = list;
		for (k = 0, n = 0, j = list; j != NULL && k < COMMIT_BATCH_MAX;
		    j = j->next, k++) {
			if (j->refusal == NULL)
				p->reqs[n++] = &j->req;
			last = j;
		}
		list = last->next;
		last->next = NULL;
		if (n > 0)
			committer_publish_many(p->com, p->reqs, n, p->seqs,
			    p->ok);
		for (i = 0, j = first; j != NULL; j = j->next) {
			if (j->refusal != NULL) {
				j->ok = 0;
				j->seq = 0;
				continue;
			}
			j->ok = p->ok[i];
			j->seq = p->seqs[i];
			i++;
		}
		p->done(p->arg, first);
	}
}

static void *
asyncpub_main(void *arg)
{
	struct asyncpub	*p = arg;
	struct pubjob	*list;

	pthread_mutex_lock(&p->mtx);
	for (;;) {
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->mtx);
		if (p->head == NULL)
			break;		/* stopping, and nothing left */
		list = p->head;
		p->head = NULL;
		p->tail = &p->head;
		pthread_mutex_unlock(&p->mtx);
		commit_list(p, list);
		pthread_mutex_lock(&p->mtx);
	}
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

int
asyncpub_start(struct asyncpub **out, struct committer *c,
    asyncpub_done_fn done, void *arg, char *err, size_t errsz)
{
	struct asyncpub *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	p->com = c;
	p->done = done;
	p->arg = arg;
	p->tail = &p->head;
	pthread_mutex_init(&p->mtx, NULL);
	pthread_cond_init(&p->wake, NULL);
	if ((errno = pthread_create(&p->tid, NULL, asyncpub_main, p)) != 0) {
		snprintf(err, errsz, "pthread_create: %s", strerror(errno));
		pthread_mutex_destroy(&p->mtx);
		pthread_cond_destroy(&p->wake);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void
asyncpub_submit(struct asyncpub *p, struct pubjob *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->mtx);
	*p->tail = job;
	p->tail = &job->next;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mtx);
}

void
asyncpub_stop(struct asyncpub *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mtx);
	p->stopping = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mtx);
	pthread_join(p->tid, NULL);
	pthread_mutex_destroy(&p->mtx);
	pthread_cond_destroy(&p->wake);
	free(p);
}
