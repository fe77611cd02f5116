/*
 * hist.h: a log-linear latency histogram in microseconds (32 sub-buckets per
 * power of two, so a quantile is within ~3 %), shared by the bench tools.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>
#include <stdlib.h>

#define HIST_SUB	32
#define HIST_BUCKETS	(64 + 58 * HIST_SUB)

struct hist {
	uint64_t	*b;
	uint64_t	 n;
	uint64_t	 max;
};

static inline int
hist_init(struct hist *h)
{
	h->b = calloc(HIST_BUCKETS, sizeof(uint64_t));
	h->n = 0;
	h->max = 0;
	return h->b ? 0 : -1;
}

static inline unsigned
hist_index(uint64_t v)
{
	unsigned m;

	if (v < 64)
		return (unsigned)v;
	m = 63u - (unsigned)__builtin_clzll(v);		/* v in [2^m, 2^m+1) */
	return 64u + (m - 6u) * HIST_SUB +
	    (unsigned)((v >> (m - 5u)) - HIST_SUB);
}

/* The middle of bucket i. */
static inline uint64_t
hist_value(unsigned i)
{
	unsigned m, s;

	if (i < 64)
		return i;
	m = (i - 64u) / HIST_SUB + 6u;
	s = (i - 64u) % HIST_SUB + HIST_SUB;
	return ((uint64_t)s << (m - 5u)) + ((1ULL << (m - 5u)) >> 1);
}

static inline void
hist_add(struct hist *h, uint64_t v)
{
	unsigned i = hist_index(v);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->b[i]++;
	h->n++;
	if (v > h->max)
		h->max = v;
}

static inline void
hist_merge(struct hist *into, const struct hist *from)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->n += from->n;
	if (from->max > into->max)
		into->max = from->max;
}

static inline uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (h->n == 0)
		return 0;
	want = (uint64_t)(q * (double)h->n);
	if (want >= h->n)
		want = h->n - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want) {
			uint64_t v = hist_value(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

#endif
