/*
 * testutil.h: small helpers shared by the unit tests that need a file
 * system or a clock: a private temporary directory (removed with all it
 * holds), the monotonic time in ms, and a read that waits with a deadline
 * instead of sleeping and hoping.
 *
 * Everything is static inline, so a test that uses only part of it builds
 * without unused-function warnings.
 */
#ifndef SSEREPLAY_TESTUTIL_H
#define SSEREPLAY_TESTUTIL_H

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Make a fresh directory under $TMPDIR (or /tmp). 0 or -1. */
static inline int
tu_mkdtemp(char *dir, size_t dirsz)
{
	const char *base = getenv("TMPDIR");

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (snprintf(dir, dirsz, "%s/ssereplay-test.XXXXXX", base) >=
	    (int)dirsz)
		return -1;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static inline int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

/* Remove dir and everything below it. Accepts "" (nothing to do). */
static inline void
tu_rmtree(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		return;
	nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "dir/name" into out. */
static inline void
tu_path(char *out, size_t outsz, const char *dir, const char *name)
{
	snprintf(out, outsz, "%s/%s", dir, name);
}

static inline int64_t
tu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void
tu_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Read what fd has (at most cap bytes), waiting until deadline_ms
 * (tu_now_ms() clock) for something to arrive. Returns the bytes read,
 * 0 at EOF, -1 on error, -2 when the deadline passed with nothing to read.
 */
static inline ssize_t
tu_read_until(int fd, void *buf, size_t cap, int64_t deadline_ms)
{
	struct pollfd	 pfd;
	int64_t		 left;
	ssize_t		 r;
	int		 n;

	for (;;) {
		left = deadline_ms - tu_now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -2;
		r = read(fd, buf, cap);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		return r;
	}
}


/*
 * Grow the buffer *pp (of *cap bytes) to hold at least need bytes,
 * doubling from 16 KiB. Fails the test when memory runs out. Include
 * <cmocka.h> before this header.
 */
static inline void
grow(void *pp, size_t *cap, size_t need)
{
	void	**p = pp;
	size_t	 c = *cap ? *cap : 16384;
	void	*q;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	q = realloc(*p, c);
	assert_non_null(q);
	*p = q;
	*cap = c;
}

#endif
