/*
 * test_asyncpub.c: backend/asyncpub.c, and committer_publish_many() and
 * committer_publish() of backend/committer.c underneath it.
 *
 * Every case gets a fresh temporary directory with its own log (setup) and
 * a committer without a hub; teardown stops what the case left running and
 * removes the directory. Jobs are the test's own (struct tjob around a
 * struct pubjob): the done callback records each under a mutex, in the
 * order it came back, with the thread it came back on. What the log holds
 * is read back afterwards on a connection of the test's own and matched
 * with the jobs by sequence number, byte for byte.
 *
 * Waiting is on a condition variable with a deadline, never a sleep; the
 * one sleep (test_stop_commits_queued) only makes it likelier that the stop
 * comes while jobs are queued, and the case passes or fails the same way
 * either way.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "asyncpub.h"
#include "bounds.h"
#include "committer.h"
#include "config.h"
#include "evlog.h"
#include "testutil.h"

#define WAIT_MS		60000	/* generous: the sanitizer build is slow */
#define SUBMITTERS	4
#define PER_SUBMITTER	400

/* One job as the test sees it. */
struct tjob {
	struct pubjob	 pj;		/* what asyncpub sees */
	int		 submitter;	/* which thread submitted it */
	size_t		 index;		/* its place among that thread's */
	char		 data[64];
	size_t		 data_len;
	int		 returned;	/* times done handed it back */
	size_t		 order;		/* when it came back, overall */
};

struct fx {
	char			 dir[256];
	char			 db[300];
	struct config		 cfg;
	struct committer	*com;
	struct asyncpub		*ap;

	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	size_t			 returned;	/* jobs back through done */
	size_t			 calls;		/* done calls */
	size_t			 biggest;	/* longest list done got */
	int			 bad_list;	/* a job not ours, or bad ok */
	int			 on_submitter;	/* done ran on a submitter */
	pthread_t		 submitters[SUBMITTERS + 1];
	int			 nsubmitters;
	/* A gate: done waits while it is closed. */
	int			 gate_closed;
	int			 in_done;	/* done is waiting at the gate */
	/* A thread in asyncpub_stop(), joined by teardown if a case
	 * failed before it did. */
	pthread_t		 stopper;
	int			 stopper_running;
};

/* What done recorded, copied under the mutex: cmocka's assertions jump
 * out of the case, so none is made while the mutex is held. */
struct snap {
	size_t	 returned, calls, biggest;
	int	 bad_list, on_submitter;
};

static struct snap
snapshot(struct fx *fx)
{
	struct snap sn;

	pthread_mutex_lock(&fx->mtx);
	sn.returned = fx->returned;
	sn.calls = fx->calls;
	sn.biggest = fx->biggest;
	sn.bad_list = fx->bad_list;
	sn.on_submitter = fx->on_submitter;
	pthread_mutex_unlock(&fx->mtx);
	return sn;
}

static int
setup(void **state)
{
	struct fx	*fx = calloc(1, sizeof(*fx));
	char		 err[512] = "";

	if (fx == NULL || tu_mkdtemp(fx->dir, sizeof(fx->dir)) == -1) {
		free(fx);
		return -1;
	}
	tu_path(fx->db, sizeof(fx->db), fx->dir, "log.db");
	config_defaults(&fx->cfg);
	fx->cfg.sync_full = 0;		/* no fsync per group: the tests are
					 * about order and counts */
	pthread_mutex_init(&fx->mtx, NULL);
	pthread_cond_init(&fx->cond, NULL);
	if (committer_start(&fx->com, fx->db, &fx->cfg, NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "committer_start: %s\n", err);
		tu_rmtree(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	pthread_mutex_lock(&fx->mtx);
	fx->gate_closed = 0;
	pthread_cond_broadcast(&fx->cond);
	pthread_mutex_unlock(&fx->mtx);
	if (fx->stopper_running)
		pthread_join(fx->stopper, NULL);
	asyncpub_stop(fx->ap);
	committer_stop(fx->com);
	pthread_mutex_destroy(&fx->mtx);
	pthread_cond_destroy(&fx->cond);
	tu_rmtree(fx->dir);
	free(fx);
	return 0;
}

/* ---- the done callback -------------------------------------------------- */

static void
on_done(void *arg, struct pubjob *list)
{
	struct fx	*fx = arg;
	struct pubjob	*j, *next;
	struct tjob	*t;
	size_t		 n = 0;
	int		 i;

	pthread_mutex_lock(&fx->mtx);
	for (i = 0; i < fx->nsubmitters; i++)
		if (pthread_equal(pthread_self(), fx->submitters[i]))
			fx->on_submitter = 1;
	while (fx->gate_closed) {
		fx->in_done = 1;
		pthread_cond_broadcast(&fx->cond);
		pthread_cond_wait(&fx->cond, &fx->mtx);
	}
	fx->in_done = 0;
	for (j = list; j != NULL; j = next) {
		next = j->next;
		t = j->owner;
		if (t == NULL || &t->pj != j)
			fx->bad_list = 1;
		else {
			t->returned++;
			t->order = fx->returned;
		}
		fx->returned++;
		n++;
	}
	fx->calls++;
	if (n > fx->biggest)
		fx->biggest = n;
	pthread_cond_broadcast(&fx->cond);
	pthread_mutex_unlock(&fx->mtx);
}

static void
start_asyncpub(struct fx *fx)
{
	char err[256] = "";

	if (asyncpub_start(&fx->ap, fx->com, on_done, fx, err,
	    sizeof(err)) == -1)
		fail_msg("asyncpub_start: %s", err);
	assert_non_null(fx->ap);
}

/* Wait until done has handed back n jobs in all. */
static void
wait_returned(struct fx *fx, size_t n)
{
	struct timespec	 deadline;
	int		 rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&fx->mtx);
	while (fx->returned < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&fx->cond, &fx->mtx, &deadline);
	pthread_mutex_unlock(&fx->mtx);
	if (rc == ETIMEDOUT)
		fail_msg("%zu of %zu jobs came back before the deadline",
		    snapshot(fx).returned, n);
}

/* ---- jobs --------------------------------------------------------------- */

static void
make_job(struct tjob *t, int submitter, size_t index)
{
	memset(t, 0, sizeof(*t));
	t->submitter = submitter;
	t->index = index;
	snprintf(t->pj.req.topic, sizeof(t->pj.req.topic), "t/%d", submitter);
	/* Every other job has the default event type. */
	if (index % 2 == 1)
		snprintf(t->pj.req.event, sizeof(t->pj.req.event), "e%zu",
		    index % 7);
	t->data_len = (size_t)snprintf(t->data, sizeof(t->data),
	    "job %d.%zu \"\\\n", submitter, index);
	t->data[t->data_len++] = '\0';	/* a NUL inside the data too */
	t->data[t->data_len++] = 'z';
	t->pj.req.data = t->data;
	t->pj.req.data_len = t->data_len;
	t->pj.owner = t;
	t->pj.ok = -7;			/* must be set before done */
	t->pj.seq = 0;
}

/* Every job came back once, committed, with what it was given untouched. */
static void
check_jobs_back(const struct tjob *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct tjob *t = &jobs[i];

		if (t->returned != 1)
			fail_msg("job %d.%zu came back %d times", t->submitter,
			    t->index, t->returned);
		if (t->pj.ok != 1)
			fail_msg("job %d.%zu: ok %d", t->submitter, t->index,
			    t->pj.ok);
		assert_true(t->pj.seq > 0);
		assert_ptr_equal(t->pj.owner, t);
		assert_ptr_equal(t->pj.req.data, t->data);
		assert_int_equal(t->pj.req.data_len, t->data_len);
	}
}

/* ---- the log, read back ------------------------------------------------- */

struct row_copy {
	uint64_t	 seq;
	char		 topic[TOPIC_MAX + 1];
	char		 event[EVENT_NAME_MAX + 1];
	char		 data[64];
	size_t		 data_len;
};

struct rows {
	struct row_copy	*r;
	size_t		 n, cap;
	int		 too_long;
};

static int
copy_row(void *arg, const struct evlog_row *row)
{
	struct rows	*rs = arg;
	struct row_copy	*c;

	if (rs->n == rs->cap) {
		size_t	 bytes = rs->cap * sizeof(*rs->r);

		grow(&rs->r, &bytes, (rs->n + 1) * sizeof(*rs->r));
		rs->cap = bytes / sizeof(*rs->r);
	}
	c = &rs->r[rs->n++];
	memset(c, 0, sizeof(*c));
	c->seq = row->seq;
	if (row->topic_len > TOPIC_MAX || row->event_len > EVENT_NAME_MAX ||
	    row->data_len > sizeof(c->data)) {
		rs->too_long = 1;
		return 0;
	}
	memcpy(c->topic, row->topic, row->topic_len);
	memcpy(c->event, row->event, row->event_len);
	memcpy(c->data, row->data, row->data_len);
	c->data_len = row->data_len;
	return 0;
}

/* Everything in the log at fx->db, in seq order. */
static void
read_log(const struct fx *fx, struct rows *rs)
{
	struct evlog	*log = NULL;
	char		 err[512] = "";

	memset(rs, 0, sizeof(*rs));
	if (evlog_open(&log, fx->db, 0, err, sizeof(err)) == -1)
		fail_msg("evlog_open: %s", err);
	if (evlog_read(log, NULL, 0, UINT64_MAX, 10 * 1000 * 1000, SIZE_MAX,
	    copy_row, rs) == -1)
		fail_msg("evlog_read: %s", evlog_errmsg(log));
	evlog_close(log);
	assert_int_equal(rs->too_long, 0);
}

/* The log holds exactly these events (reqs[i] stored as seqs[i]). */
static void
check_log(const struct fx *fx, const struct publish_req *const *reqs,
    const uint64_t *seqs, size_t n)
{
	struct rows	 rs;
	size_t		 i, lo, hi, mid;

	read_log(fx, &rs);
	if (rs.n != n)
		fail_msg("the log holds %zu events, want %zu", rs.n, n);
	for (i = 1; i < rs.n; i++)
		assert_true(rs.r[i].seq > rs.r[i - 1].seq);
	for (i = 0; i < n; i++) {
		/* Binary search by seq: rows are in seq order. */
		lo = 0;
		hi = rs.n;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (rs.r[mid].seq < seqs[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == rs.n || rs.r[lo].seq != seqs[i])
			fail_msg("seq %llu is not in the log",
			    (unsigned long long)seqs[i]);
		assert_string_equal(rs.r[lo].topic, reqs[i]->topic);
		assert_string_equal(rs.r[lo].event, reqs[i]->event);
		assert_int_equal(rs.r[lo].data_len, reqs[i]->data_len);
		assert_memory_equal(rs.r[lo].data, reqs[i]->data,
		    reqs[i]->data_len);
	}
	free(rs.r);
}

/* check_log() for jobs. */
static void
check_log_jobs(const struct fx *fx, const struct tjob *jobs, size_t n)
{
	const struct publish_req **reqs;
	uint64_t		 *seqs;
	size_t			  i;

	reqs = calloc(n + 1, sizeof(*reqs));
	seqs = calloc(n + 1, sizeof(*seqs));
	assert_non_null(reqs);
	assert_non_null(seqs);
	for (i = 0; i < n; i++) {
		reqs[i] = &jobs[i].pj.req;
		seqs[i] = jobs[i].pj.seq;
	}
	check_log(fx, reqs, seqs, n);
	free(reqs);
	free(seqs);
}

/* ---- asyncpub ----------------------------------------------------------- */

struct submitter {
	struct fx	*fx;
	struct tjob	*jobs;		/* this thread's, in submit order */
	size_t		 n;
	pthread_barrier_t *go;
};

static void *
submit_main(void *arg)
{
	struct submitter	*s = arg;
	size_t			 i;

	pthread_barrier_wait(s->go);
	for (i = 0; i < s->n; i++)
		asyncpub_submit(s->fx->ap, &s->jobs[i].pj);
	return NULL;
}

/* Several threads submit at once: each job comes back once, committed,
 * in each thread's submit order, and the log holds exactly them. */
static void
test_submit_from_threads(void **state)
{
	struct fx		*fx = *state;
	struct submitter	 sub[SUBMITTERS];
	struct tjob		*jobs;
	pthread_barrier_t	 go;
	struct snap		 sn;
	size_t			 total = SUBMITTERS * PER_SUBMITTER, i;
	int			 k, rc[SUBMITTERS];

	jobs = calloc(total, sizeof(*jobs));
	assert_non_null(jobs);
	for (k = 0; k < SUBMITTERS; k++)
		for (i = 0; i < PER_SUBMITTER; i++)
			make_job(&jobs[k * PER_SUBMITTER + i], k, i);
	start_asyncpub(fx);
	pthread_barrier_init(&go, NULL, SUBMITTERS);
	pthread_mutex_lock(&fx->mtx);
	for (k = 0; k < SUBMITTERS; k++) {
		sub[k].fx = fx;
		sub[k].jobs = &jobs[k * PER_SUBMITTER];
		sub[k].n = PER_SUBMITTER;
		sub[k].go = &go;
		rc[k] = pthread_create(&fx->submitters[k], NULL,
		    submit_main, &sub[k]);
	}
	fx->nsubmitters = SUBMITTERS;
	pthread_mutex_unlock(&fx->mtx);
	for (k = 0; k < SUBMITTERS; k++)
		assert_int_equal(rc[k], 0);
	for (k = 0; k < SUBMITTERS; k++)
		pthread_join(fx->submitters[k], NULL);
	pthread_barrier_destroy(&go);
	wait_returned(fx, total);

	sn = snapshot(fx);
	assert_int_equal(sn.returned, total);
	assert_int_equal(sn.bad_list, 0);
	assert_int_equal(sn.on_submitter, 0);
	assert_true(sn.biggest <= COMMIT_BATCH_MAX);
	check_jobs_back(jobs, total);
	/* Per thread: seqs strictly increase in submit order, and the jobs
	 * come back in that order too. */
	for (k = 0; k < SUBMITTERS; k++)
		for (i = 1; i < PER_SUBMITTER; i++) {
			const struct tjob *a = &jobs[k * PER_SUBMITTER + i - 1];
			const struct tjob *b = &jobs[k * PER_SUBMITTER + i];

			if (b->pj.seq <= a->pj.seq)
				fail_msg("thread %d: job %zu has seq %llu after"
				    " %llu", k, i,
				    (unsigned long long)b->pj.seq,
				    (unsigned long long)a->pj.seq);
			assert_true(b->order > a->order);
		}
	asyncpub_stop(fx->ap);
	fx->ap = NULL;
	check_log_jobs(fx, jobs, total);
	free(jobs);
}

/* One submitter: jobs come back in exactly the order they went in, the
 * ids in the same order, and done never runs on the submitter. */
static void
test_submit_order_one_thread(void **state)
{
	struct fx	*fx = *state;
	struct tjob	*jobs;
	size_t		 n = 1000, i;

	jobs = calloc(n, sizeof(*jobs));
	assert_non_null(jobs);
	for (i = 0; i < n; i++)
		make_job(&jobs[i], 0, i);
	start_asyncpub(fx);
	pthread_mutex_lock(&fx->mtx);
	fx->submitters[0] = pthread_self();
	fx->nsubmitters = 1;
	pthread_mutex_unlock(&fx->mtx);
	for (i = 0; i < n; i++)
		asyncpub_submit(fx->ap, &jobs[i].pj);
	wait_returned(fx, n);
	check_jobs_back(jobs, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(jobs[i].order, i);
		if (i > 0)
			assert_true(jobs[i].pj.seq > jobs[i - 1].pj.seq);
	}
	assert_int_equal(snapshot(fx).on_submitter, 0);
	asyncpub_stop(fx->ap);
	fx->ap = NULL;
	check_log_jobs(fx, jobs, n);
	free(jobs);
}

struct stopper {
	struct asyncpub	*ap;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 done;
};

static void *
stop_main(void *arg)
{
	struct stopper *st = arg;

	asyncpub_stop(st->ap);
	pthread_mutex_lock(&st->mtx);
	st->done = 1;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->mtx);
	return NULL;
}

/*
 * Jobs still queued when asyncpub_stop() is called are committed and come
 * back before it returns: done is held at a gate while more than
 * COMMIT_BATCH_MAX jobs queue up behind it (so they come back as more than
 * one list), then stop is called, then the gate opens.
 */
static void
test_stop_commits_queued(void **state)
{
	struct fx		*fx = *state;
	struct tjob		*jobs;
	static struct stopper	 st;
	struct snap		 sn;
	size_t			 n = COMMIT_BATCH_MAX + 50, i;
	struct timespec		 deadline;
	int			 rc = 0, stopped;

	jobs = calloc(n, sizeof(*jobs));
	assert_non_null(jobs);
	for (i = 0; i < n; i++)
		make_job(&jobs[i], 0, i);
	start_asyncpub(fx);
	pthread_mutex_lock(&fx->mtx);
	fx->gate_closed = 1;
	pthread_mutex_unlock(&fx->mtx);

	/* The first job reaches done and waits at the gate. */
	asyncpub_submit(fx->ap, &jobs[0].pj);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&fx->mtx);
	while (!fx->in_done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&fx->cond, &fx->mtx, &deadline);
	pthread_mutex_unlock(&fx->mtx);
	assert_int_not_equal(rc, ETIMEDOUT);

	/* The rest queue behind it. */
	for (i = 1; i < n; i++)
		asyncpub_submit(fx->ap, &jobs[i].pj);
	memset(&st, 0, sizeof(st));
	st.ap = fx->ap;
	pthread_mutex_init(&st.mtx, NULL);
	pthread_cond_init(&st.cond, NULL);
	assert_int_equal(pthread_create(&fx->stopper, NULL, stop_main, &st),
	    0);
	fx->stopper_running = 1;
	fx->ap = NULL;			/* the stopper owns it now */
	tu_sleep_ms(50);		/* let the stop begin */
	pthread_mutex_lock(&st.mtx);
	stopped = st.done;
	pthread_mutex_unlock(&st.mtx);
	assert_int_equal(stopped, 0);	/* held by the gate */
	assert_int_equal(snapshot(fx).returned, 0);

	pthread_mutex_lock(&fx->mtx);
	fx->gate_closed = 0;
	pthread_cond_broadcast(&fx->cond);
	pthread_mutex_unlock(&fx->mtx);
	pthread_join(fx->stopper, NULL);
	fx->stopper_running = 0;
	pthread_mutex_destroy(&st.mtx);
	pthread_cond_destroy(&st.cond);

	/* Stop returned: everything is back, nothing comes later. */
	sn = snapshot(fx);
	assert_int_equal(sn.returned, n);
	assert_int_equal(sn.bad_list, 0);
	assert_true(sn.calls >= 3);	/* 1, then 4096, then the rest */
	assert_true(sn.biggest <= COMMIT_BATCH_MAX);
	check_jobs_back(jobs, n);
	for (i = 1; i < n; i++) {
		assert_true(jobs[i].pj.seq > jobs[i - 1].pj.seq);
		assert_int_equal(jobs[i].order, i);
	}
	check_log_jobs(fx, jobs, n);
	free(jobs);
}

/* Start and stop with nothing submitted; stop accepts NULL. */
static void
test_stop_idle(void **state)
{
	struct fx	*fx = *state;
	struct rows	 rs;

	start_asyncpub(fx);
	asyncpub_stop(fx->ap);
	fx->ap = NULL;
	asyncpub_stop(NULL);
	assert_int_equal(snapshot(fx).calls, 0);
	read_log(fx, &rs);
	assert_int_equal(rs.n, 0);
	free(rs.r);
}

/* ---- committer_publish_many and committer_publish ------------------------ */

/* n requests for the caller number who. */
static struct tjob *
make_reqs(int who, size_t n, const struct publish_req ***reqs)
{
	struct tjob	*jobs;
	size_t		 i;

	jobs = calloc(n + 1, sizeof(*jobs));
	*reqs = calloc(n + 1, sizeof(**reqs));
	assert_non_null(jobs);
	assert_non_null(*reqs);
	for (i = 0; i < n; i++) {
		make_job(&jobs[i], who, i);
		(*reqs)[i] = &jobs[i].pj.req;
	}
	return jobs;
}

static void
test_many_zero(void **state)
{
	struct fx		 *fx = *state;
	const struct publish_req **reqs;
	struct tjob		 *jobs;
	struct rows		  rs;
	uint64_t		  seq = 77;
	int			  ok = 77;

	jobs = make_reqs(0, 1, &reqs);
	committer_publish_many(fx->com, reqs, 0, &seq, &ok);
	free(reqs);
	free(jobs);
	/* Nothing to write: the arrays are not touched. */
	assert_int_equal(seq, 77);
	assert_int_equal(ok, 77);
	read_log(fx, &rs);
	assert_int_equal(rs.n, 0);
	free(rs.r);
}

static void
test_many_one(void **state)
{
	struct fx		 *fx = *state;
	const struct publish_req **reqs;
	struct tjob		 *jobs;
	uint64_t		  seq = 0;
	int			  ok = 0;

	jobs = make_reqs(0, 1, &reqs);
	committer_publish_many(fx->com, reqs, 1, &seq, &ok);
	assert_int_equal(ok, 1);
	assert_true(seq > 0);
	check_log(fx, reqs, &seq, 1);
	free(reqs);
	free(jobs);
}

/* More than one group's worth from one caller: all stored, ids in order
 * and contiguous (nobody else publishes). */
static void
test_many_over_batch(void **state)
{
	struct fx		 *fx = *state;
	const struct publish_req **reqs;
	struct tjob		 *jobs;
	size_t			  n = 2 * COMMIT_BATCH_MAX + 7, i;
	uint64_t		 *seqs;
	int			 *ok;

	jobs = make_reqs(0, n, &reqs);
	seqs = calloc(n, sizeof(*seqs));
	ok = calloc(n, sizeof(*ok));
	assert_non_null(seqs);
	assert_non_null(ok);
	committer_publish_many(fx->com, reqs, n, seqs, ok);
	for (i = 0; i < n; i++) {
		if (ok[i] != 1)
			fail_msg("event %zu: ok %d", i, ok[i]);
		if (i > 0 && seqs[i] != seqs[i - 1] + 1)
			fail_msg("event %zu: seq %llu after %llu", i,
			    (unsigned long long)seqs[i],
			    (unsigned long long)seqs[i - 1]);
	}
	check_log(fx, reqs, seqs, n);
	free(ok);
	free(seqs);
	free(reqs);
	free(jobs);
}

/* committer_publish() alone, and repeatedly. */
static void
test_publish_one(void **state)
{
	struct fx		 *fx = *state;
	const struct publish_req **reqs;
	struct tjob		 *jobs;
	uint64_t		  seqs[3] = { 0, 0, 0 };
	size_t			  i;

	jobs = make_reqs(0, 3, &reqs);
	for (i = 0; i < 3; i++) {
		assert_int_equal(committer_publish(fx->com, reqs[i], &seqs[i]),
		    0);
		if (i > 0)
			assert_true(seqs[i] > seqs[i - 1]);
	}
	check_log(fx, reqs, seqs, 3);
	free(reqs);
	free(jobs);
}

/* Callers of every kind at once share groups. */
struct caller {
	struct fx		 *fx;
	int			  who;
	int			  many;	/* publish_many, else publish */
	size_t			  n;
	const struct publish_req **reqs;
	struct tjob		 *jobs;
	uint64_t		 *seqs;
	int			 *ok;
	pthread_barrier_t	 *go;
};

static void *
caller_main(void *arg)
{
	struct caller	*c = arg;
	size_t		 i;

	pthread_barrier_wait(c->go);
	if (c->many)
		committer_publish_many(c->fx->com, c->reqs, c->n, c->seqs,
		    c->ok);
	else
		for (i = 0; i < c->n; i++)
			c->ok[i] = committer_publish(c->fx->com, c->reqs[i],
			    &c->seqs[i]) == 0;
	return NULL;
}

static void
test_many_concurrent(void **state)
{
	struct fx		 *fx = *state;
	enum { NCALLERS = 5 };
	static const size_t	  sizes[NCALLERS] = { COMMIT_BATCH_MAX + 1,
	    3, 1000, 200, 150 };
	static const int	  many[NCALLERS] = { 1, 1, 1, 0, 0 };
	struct caller		  c[NCALLERS];
	pthread_t		  tid[NCALLERS];
	pthread_barrier_t	  go;
	const struct publish_req **all_reqs;
	uint64_t		 *all_seqs;
	size_t			  total = 0, k, i, at = 0;

	pthread_barrier_init(&go, NULL, NCALLERS);
	for (k = 0; k < NCALLERS; k++) {
		c[k].fx = fx;
		c[k].who = (int)k;
		c[k].many = many[k];
		c[k].n = sizes[k];
		c[k].jobs = make_reqs((int)k, sizes[k], &c[k].reqs);
		c[k].seqs = calloc(sizes[k], sizeof(*c[k].seqs));
		c[k].ok = calloc(sizes[k], sizeof(*c[k].ok));
		assert_non_null(c[k].seqs);
		assert_non_null(c[k].ok);
		c[k].go = &go;
		total += sizes[k];
	}
	for (k = 0; k < NCALLERS; k++)
		assert_int_equal(pthread_create(&tid[k], NULL, caller_main,
		    &c[k]), 0);
	for (k = 0; k < NCALLERS; k++)
		pthread_join(tid[k], NULL);
	pthread_barrier_destroy(&go);

	all_reqs = calloc(total, sizeof(*all_reqs));
	all_seqs = calloc(total, sizeof(*all_seqs));
	assert_non_null(all_reqs);
	assert_non_null(all_seqs);
	for (k = 0; k < NCALLERS; k++) {
		for (i = 0; i < c[k].n; i++) {
			if (c[k].ok[i] != 1)
				fail_msg("caller %zu event %zu: ok %d", k, i,
				    c[k].ok[i]);
			if (i > 0 && c[k].seqs[i] <= c[k].seqs[i - 1])
				fail_msg("caller %zu event %zu: seq %llu after"
				    " %llu", k, i,
				    (unsigned long long)c[k].seqs[i],
				    (unsigned long long)c[k].seqs[i - 1]);
			all_reqs[at] = c[k].reqs[i];
			all_seqs[at++] = c[k].seqs[i];
		}
	}
	check_log(fx, all_reqs, all_seqs, total);
	for (k = 0; k < NCALLERS; k++) {
		free(c[k].jobs);
		free(c[k].reqs);
		free(c[k].seqs);
		free(c[k].ok);
	}
	free(all_reqs);
	free(all_seqs);
}

/* asyncpub and direct publishers at once. */
static void
test_asyncpub_with_direct_publishers(void **state)
{
	struct fx		 *fx = *state;
	struct tjob		 *jobs;
	struct caller		  c;
	pthread_t		  tid;
	pthread_barrier_t	  go;
	const struct publish_req **all_reqs;
	uint64_t		 *all_seqs;
	size_t			  n = 600, m = 300, i;

	jobs = calloc(n, sizeof(*jobs));
	assert_non_null(jobs);
	for (i = 0; i < n; i++)
		make_job(&jobs[i], 0, i);
	start_asyncpub(fx);
	memset(&c, 0, sizeof(c));
	c.fx = fx;
	c.who = 1;
	c.n = m;
	c.jobs = make_reqs(1, m, &c.reqs);
	c.seqs = calloc(m, sizeof(*c.seqs));
	c.ok = calloc(m, sizeof(*c.ok));
	assert_non_null(c.seqs);
	assert_non_null(c.ok);
	pthread_barrier_init(&go, NULL, 2);
	c.go = &go;
	assert_int_equal(pthread_create(&tid, NULL, caller_main, &c), 0);
	pthread_barrier_wait(&go);
	for (i = 0; i < n; i++)
		asyncpub_submit(fx->ap, &jobs[i].pj);
	pthread_join(tid, NULL);
	pthread_barrier_destroy(&go);
	wait_returned(fx, n);
	asyncpub_stop(fx->ap);
	fx->ap = NULL;
	check_jobs_back(jobs, n);

	all_reqs = calloc(n + m, sizeof(*all_reqs));
	all_seqs = calloc(n + m, sizeof(*all_seqs));
	assert_non_null(all_reqs);
	assert_non_null(all_seqs);
	for (i = 0; i < n; i++) {
		all_reqs[i] = &jobs[i].pj.req;
		all_seqs[i] = jobs[i].pj.seq;
		if (i > 0)
			assert_true(jobs[i].pj.seq > jobs[i - 1].pj.seq);
	}
	for (i = 0; i < m; i++) {
		assert_int_equal(c.ok[i], 1);
		all_reqs[n + i] = c.reqs[i];
		all_seqs[n + i] = c.seqs[i];
	}
	check_log(fx, all_reqs, all_seqs, n + m);
	free(all_reqs);
	free(all_seqs);
	free(c.jobs);
	free(c.reqs);
	free(c.seqs);
	free(c.ok);
	free(jobs);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_submit_from_threads),
	T(test_submit_order_one_thread),
	T(test_stop_commits_queued),
	T(test_stop_idle),
	T(test_many_zero),
	T(test_many_one),
	T(test_many_over_batch),
	T(test_publish_one),
	T(test_many_concurrent),
	T(test_asyncpub_with_direct_publishers),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
