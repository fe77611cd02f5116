/*
 * benchutil.h: the few helpers every bench tool needs (the load client,
 * the publisher, the baseline): a clock in microseconds, a stop flag set by
 * SIGINT/SIGTERM, and realloc that exits on failure (a bench tool out of
 * memory has no result worth keeping).
 */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_int	 stop_flag;

static inline uint64_t
now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_flag, 1);
}

static inline void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		perror("realloc");
		exit(2);
	}
	return q;
}

#endif
