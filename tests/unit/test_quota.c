/*
 * test_quota.c: backend/quota.c, one named case per rule (quota.h).
 *
 * Every case starts and ends with quota_reset(), so none sees another's
 * counts and nothing is left for LeakSanitizer. The publish bucket is fed
 * its clock (now_ms) by the test: no sleeping. The threaded cases check
 * that counts stay exact and never pass max under contention.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "bounds.h"
#include "quota.h"

_Static_assert(QUOTA_ADDR_MAX == 64, "the address length cases assume 64");

#define A16	"0123456789abcdef"
#define ADDR64	A16 A16 A16 A16
#define ADDR65	ADDR64 "0"

static int
setup(void **state)
{
	(void)state;
	quota_reset();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	quota_reset();
	return 0;
}

/* ------------------------------------------------------------------ */
/* Streams per address.                                                */

static void
test_stream_counts(void **state)
{
	struct addr_slot	*s[3];
	int			 i;

	(void)state;
	assert_true(quota_stream_count("192.0.2.1") == 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(quota_stream_acquire("192.0.2.1", 10, &s[i]),
		    0);
		assert_non_null(s[i]);
		assert_true(quota_stream_count("192.0.2.1") == i + 1);
	}
	for (i = 2; i >= 0; i--) {
		quota_stream_release(s[i]);
		assert_true(quota_stream_count("192.0.2.1") == i);
	}
}

static void
test_stream_refused_at_max(void **state)
{
	struct addr_slot	*a, *b, *c;

	(void)state;
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &a), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &b), 0);
	c = (struct addr_slot *)&c;		/* must be reset */
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &c), -1);
	assert_null(c);
	/* A refusal counts nothing. */
	assert_true(quota_stream_count("192.0.2.1") == 2);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &c), -1);
	assert_true(quota_stream_count("192.0.2.1") == 2);
	/* One ends: one more may start. */
	quota_stream_release(a);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &c), 0);
	assert_non_null(c);
	assert_true(quota_stream_count("192.0.2.1") == 2);
	quota_stream_release(b);
	quota_stream_release(c);
	assert_true(quota_stream_count("192.0.2.1") == 0);
}

static void
test_stream_max_one(void **state)
{
	struct addr_slot	*a, *b;

	(void)state;
	assert_int_equal(quota_stream_acquire("2001:db8::1", 1, &a), 0);
	assert_int_equal(quota_stream_acquire("2001:db8::1", 1, &b), -1);
	assert_null(b);
	quota_stream_release(a);
	assert_int_equal(quota_stream_acquire("2001:db8::1", 1, &b), 0);
	quota_stream_release(b);
}

/* A lower max, as after a reload, refuses until enough have ended. */
static void
test_stream_max_lowered(void **state)
{
	struct addr_slot	*s[4], *x;
	int			 i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(quota_stream_acquire("192.0.2.1", 4, &s[i]),
		    0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &x), -1);
	quota_stream_release(s[0]);
	quota_stream_release(s[1]);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &x), -1);
	quota_stream_release(s[2]);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &x), 0);
	quota_stream_release(x);
	quota_stream_release(s[3]);
	assert_true(quota_stream_count("192.0.2.1") == 0);
}

static void
test_stream_unlimited(void **state)
{
	struct addr_slot	*s;
	int			 i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		s = (struct addr_slot *)&s;
		assert_int_equal(quota_stream_acquire("192.0.2.1", 0, &s), 0);
		assert_null(s);
	}
	assert_true(quota_stream_count("192.0.2.1") == 0);
	quota_stream_release(NULL);
	assert_true(quota_stream_count("192.0.2.1") == 0);
}

static void
test_stream_no_address(void **state)
{
	struct addr_slot	*s;

	(void)state;
	s = (struct addr_slot *)&s;
	assert_int_equal(quota_stream_acquire("", 1, &s), 0);
	assert_null(s);
	s = (struct addr_slot *)&s;
	assert_int_equal(quota_stream_acquire(NULL, 1, &s), 0);
	assert_null(s);
	/* Not counted, so never refused. */
	assert_int_equal(quota_stream_acquire("", 1, &s), 0);
	assert_null(s);
	assert_true(quota_stream_count("") == 0);
}

static void
test_stream_address_length(void **state)
{
	struct addr_slot	*s, *t;

	(void)state;
	assert_int_equal(quota_stream_acquire(ADDR64, 1, &s), 0);
	assert_non_null(s);
	assert_true(quota_stream_count(ADDR64) == 1);
	assert_int_equal(quota_stream_acquire(ADDR64, 1, &t), -1);

	t = (struct addr_slot *)&t;
	assert_int_equal(quota_stream_acquire(ADDR65, 1, &t), 0);
	assert_null(t);
	assert_int_equal(quota_stream_acquire(ADDR65, 1, &t), 0);
	assert_null(t);
	assert_true(quota_stream_count(ADDR65) == 0);
	/* The 64-byte prefix of the long one is another address. */
	assert_true(quota_stream_count(ADDR64) == 1);
	quota_stream_release(s);
	assert_true(quota_stream_count(ADDR64) == 0);
}

static void
test_stream_addresses_independent(void **state)
{
	struct addr_slot	*a[2], *b, *x;

	(void)state;
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &a[0]), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &a[1]), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &x), -1);
	/* A full address leaves the others alone, prefixes included. */
	assert_int_equal(quota_stream_acquire("192.0.2.10", 2, &b), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.", 2, &x), 0);
	assert_true(quota_stream_count("192.0.2.1") == 2);
	assert_true(quota_stream_count("192.0.2.10") == 1);
	assert_true(quota_stream_count("192.0.2.") == 1);
	assert_true(quota_stream_count("192.0.2.2") == 0);
	quota_stream_release(b);
	assert_true(quota_stream_count("192.0.2.1") == 2);
	assert_true(quota_stream_count("192.0.2.10") == 0);
	quota_stream_release(a[0]);
	quota_stream_release(a[1]);
	quota_stream_release(x);
	assert_true(quota_stream_count("192.0.2.") == 0);
}

/* Back to zero, the entry is gone: a new one starts from nothing. */
static void
test_stream_release_to_zero(void **state)
{
	struct addr_slot	*a, *b;
	int			 i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_int_equal(quota_stream_acquire("192.0.2.1", 1, &a), 0);
		assert_true(quota_stream_count("192.0.2.1") == 1);
		quota_stream_release(a);
		assert_true(quota_stream_count("192.0.2.1") == 0);
	}
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &a), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 2, &b), 0);
	quota_stream_release(a);
	quota_stream_release(b);
	assert_true(quota_stream_count("192.0.2.1") == 0);
}

/*
 * More addresses than the table has buckets, so some share one; freed in
 * an order unlike the order of insertion, so entries leave from the head,
 * the middle and the end of a chain.
 */
#define MANY	10000

static void
test_stream_many_addresses(void **state)
{
	static struct addr_slot	*s[MANY];
	struct addr_slot	*x;
	char			 addr[32];
	int			 i;

	(void)state;
	for (i = 0; i < MANY; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		assert_int_equal(quota_stream_acquire(addr, 1, &s[i]), 0);
		assert_non_null(s[i]);
	}
	for (i = 0; i < MANY; i += 3) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		assert_int_equal(quota_stream_acquire(addr, 1, &x), -1);
		quota_stream_release(s[i]);
		assert_true(quota_stream_count(addr) == 0);
	}
	for (i = MANY - 1; i >= 0; i--) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16 & 255,
		    i >> 8 & 255, i & 255);
		if (i % 3 == 0) {
			assert_true(quota_stream_count(addr) == 0);
			continue;
		}
		assert_true(quota_stream_count(addr) == 1);
		quota_stream_release(s[i]);
		assert_true(quota_stream_count(addr) == 0);
	}
}

/* ---- threads ------------------------------------------------------- */

#define THREADS		8
#define ROUNDS		5000
#define HOLD		100

static const char *const taddrs[] = {
	"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2",
};
#define NADDRS	(int)(sizeof(taddrs) / sizeof(taddrs[0]))

struct worker {
	pthread_t	 t;
	int		 id;
	long long	 max;
	int		 ok, refused, over, errors;
	struct addr_slot *held[HOLD];
	int		 nheld;
};

/* Acquire and release in a loop; count what never may happen. */
static void *
churn(void *arg)
{
	struct worker		*w = arg;
	struct addr_slot	*s;
	const char		*addr;
	int			 i, rc;

	for (i = 0; i < ROUNDS; i++) {
		addr = taddrs[(i + w->id) % NADDRS];
		rc = quota_stream_acquire(addr, w->max, &s);
		if (rc == 0 && s != NULL) {
			w->ok++;
			if (quota_stream_count(addr) > w->max)
				w->over++;
			quota_stream_release(s);
		} else if (rc == -1 && s == NULL)
			w->refused++;
		else
			w->errors++;
	}
	return NULL;
}

static void
test_stream_threads_churn(void **state)
{
	struct worker	 w[THREADS];
	int		 i, ok = 0;

	(void)state;
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].max = 3;
		assert_int_equal(pthread_create(&w[i].t, NULL, churn, &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(w[i].t, NULL), 0);
		assert_int_equal(w[i].over, 0);
		assert_int_equal(w[i].errors, 0);
		assert_int_equal(w[i].ok + w[i].refused, ROUNDS);
		ok += w[i].ok;
	}
	assert_true(ok > 0);
	for (i = 0; i < NADDRS; i++)
		assert_true(quota_stream_count(taddrs[i]) == 0);
}

/* Each thread takes HOLD slots of one shared address and keeps them. */
static void *
take(void *arg)
{
	struct worker		*w = arg;
	struct addr_slot	*s;
	int			 i, rc;

	for (i = 0; i < HOLD; i++) {
		rc = quota_stream_acquire("198.51.100.7", w->max, &s);
		if (rc == 0 && s != NULL)
			w->held[w->nheld++] = s;
		else if (rc == -1 && s == NULL)
			w->refused++;
		else
			w->errors++;
	}
	return NULL;
}

static void *
give_back(void *arg)
{
	struct worker	*w = arg;
	int		 i;

	for (i = 0; i < w->nheld; i++)
		quota_stream_release(w->held[i]);
	return NULL;
}

static void
run_hold(long long max, long long want)
{
	struct worker	 w[THREADS];
	long long	 held = 0;
	int		 i;

	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].max = max;
		assert_int_equal(pthread_create(&w[i].t, NULL, take, &w[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(w[i].t, NULL), 0);
		assert_int_equal(w[i].errors, 0);
		held += w[i].nheld;
	}
	assert_true(held == want);
	assert_true(quota_stream_count("198.51.100.7") == want);
	/* Released from other threads than took them. */
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&w[i].t, NULL, give_back,
		    &w[(i + 1) % THREADS]), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(w[i].t, NULL), 0);
	assert_true(quota_stream_count("198.51.100.7") == 0);
}

static void
test_stream_threads_exact_count(void **state)
{
	(void)state;
	run_hold(THREADS * HOLD, THREADS * HOLD);
}

/* Fewer places than asked for: exactly max are given, never one more. */
static void
test_stream_threads_at_max(void **state)
{
	(void)state;
	run_hold(THREADS * HOLD / 2 + 7, THREADS * HOLD / 2 + 7);
}

/* ------------------------------------------------------------------ */
/* Publishes per token.                                                */

#define T0	1000000		/* any start: the clock is ours */

/* Allowed calls in a burst at now_ms (stops at limit). */
static int
burst(int idx, long long rate, int64_t now, int limit)
{
	int64_t	 retry;
	int	 n = 0;

	while (n < limit && quota_publish_allow(idx, rate, now, &retry))
		n++;
	return n;
}

static void
test_publish_rate_in_one_second(void **state)
{
	int64_t	 retry = -1;

	(void)state;
	assert_int_equal(burst(0, 5, T0, 100), 5);
	assert_int_equal(quota_publish_allow(0, 5, T0, &retry), 0);
	/* The next one is 1/5 s away. */
	assert_true(retry >= 190 && retry <= 210);
	assert_int_equal(quota_publish_allow(0, 5, T0 + retry / 2, &retry), 0);
	assert_true(retry > 0 && retry <= 210);
}

/* Retry when told to and it is allowed. */
static void
test_publish_retry_is_honest(void **state)
{
	static const long long	 rates[] = { 1, 3, 7, 10, 333, 1000 };
	int64_t			 now, retry;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		now = T0;
		assert_int_equal(burst((int)i, rates[i], now, 100000),
		    (int)rates[i]);
		assert_int_equal(quota_publish_allow((int)i, rates[i], now,
		    &retry), 0);
		assert_true(retry >= 1);
		assert_true(retry <= 1000 / rates[i] + 2);
		now += retry;
		if (!quota_publish_allow((int)i, rates[i], now, &retry))
			fail_msg("rate %lld: refused at the retry time",
			    rates[i]);
	}
}

static void
test_publish_refill(void **state)
{
	int64_t	 retry;

	(void)state;
	assert_int_equal(burst(0, 10, T0, 100), 10);
	/* 100 ms is one more. */
	assert_int_equal(burst(0, 10, T0 + 100, 100), 1);
	/* 500 ms more is five. */
	assert_int_equal(burst(0, 10, T0 + 600, 100), 5);
	/* A whole second refills all. */
	assert_int_equal(burst(0, 10, T0 + 1600, 100), 10);
	assert_int_equal(quota_publish_allow(0, 10, T0 + 1600, &retry), 0);
}

/* The bucket holds one second's worth, however long it was idle. */
static void
test_publish_bucket_capped(void **state)
{
	(void)state;
	assert_int_equal(burst(0, 10, T0, 100), 10);
	assert_int_equal(burst(0, 10, T0 + 3600 * 1000, 100), 10);
	/* Unused since the start: still one second's worth. */
	assert_int_equal(burst(1, 10, T0 + 3600 * 1000, 100), 10);
}

/* A steady pace at the rate is never refused. */
static void
test_publish_steady_pace(void **state)
{
	int64_t	 retry;
	int	 i;

	(void)state;
	for (i = 0; i < 10000; i++)
		if (!quota_publish_allow(0, 10, T0 + (int64_t)i * 100,
		    &retry))
			fail_msg("refused at %d", i);
}

static void
test_publish_tokens_independent(void **state)
{
	int64_t	 retry;

	(void)state;
	assert_int_equal(burst(0, 3, T0, 100), 3);
	assert_int_equal(quota_publish_allow(0, 3, T0, &retry), 0);
	assert_int_equal(burst(1, 3, T0, 100), 3);
	assert_int_equal(burst(TOKENS_MAX - 1, 3, T0, 100), 3);
	assert_int_equal(quota_publish_allow(1, 3, T0, &retry), 0);
}

static void
test_publish_unlimited(void **state)
{
	int64_t	 retry = -1;

	(void)state;
	assert_int_equal(burst(0, 0, T0, 100000), 100000);
	assert_int_equal(quota_publish_allow(0, 0, T0, &retry), 1);
	assert_true(retry == 0);
}

static void
test_publish_index_out_of_range(void **state)
{
	static const int	 idx[] = { -1, TOKENS_MAX, TOKENS_MAX + 1,
	    -1000000, 1000000 };
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		assert_int_equal(burst(idx[i], 1, T0, 1000), 1000);
}

static void
test_publish_reset(void **state)
{
	int64_t	 retry;

	(void)state;
	assert_int_equal(burst(0, 2, T0, 100), 2);
	assert_int_equal(quota_publish_allow(0, 2, T0, &retry), 0);
	quota_reset();
	assert_int_equal(burst(0, 2, T0, 100), 2);
}

static void
test_reset_forgets_streams(void **state)
{
	struct addr_slot	*a, *b;

	(void)state;
	assert_int_equal(quota_stream_acquire("192.0.2.1", 1, &a), 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 1, &b), -1);
	quota_reset();
	assert_true(quota_stream_count("192.0.2.1") == 0);
	assert_int_equal(quota_stream_acquire("192.0.2.1", 1, &b), 0);
	quota_stream_release(b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_stream_counts),
	T(test_stream_refused_at_max),
	T(test_stream_max_one),
	T(test_stream_max_lowered),
	T(test_stream_unlimited),
	T(test_stream_no_address),
	T(test_stream_address_length),
	T(test_stream_addresses_independent),
	T(test_stream_release_to_zero),
	T(test_stream_many_addresses),
	T(test_stream_threads_churn),
	T(test_stream_threads_exact_count),
	T(test_stream_threads_at_max),
	T(test_publish_rate_in_one_second),
	T(test_publish_retry_is_honest),
	T(test_publish_refill),
	T(test_publish_bucket_capped),
	T(test_publish_steady_pace),
	T(test_publish_tokens_independent),
	T(test_publish_unlimited),
	T(test_publish_index_out_of_range),
	T(test_publish_reset),
	T(test_reset_forgets_streams),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
