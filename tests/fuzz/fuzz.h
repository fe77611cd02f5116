/*
 * fuzz.h: what every libFuzzer harness in tests/fuzz/ shares.
 *
 * A harness is one parser's contract written as checks: it runs the
 * parser on the input and then asserts what the parser's header promises
 * (bounds, NUL termination, round-trips, the same answer however the input
 * is split). A broken promise aborts with FUZZ_CHECK's message, which
 * libFuzzer reports as a crash and saves, like an ASan or UBSan report.
 *
 * The input is read through struct fuzz_in: a cursor that hands out bytes
 * and numbers, and plain zero when the input has run out, so every harness
 * takes any input.
 *
 * Everything is static inline: a harness that uses only part of it builds
 * without unused-function warnings.
 */
#ifndef SSEREPLAY_FUZZ_H
#define SSEREPLAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry point; the prototype keeps -Wmissing-prototypes quiet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold whatever NDEBUG says. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: contract broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The input as a stream of choices. */
struct fuzz_in {
	const uint8_t	*p;
	size_t		 left;
};

static inline void
fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

/* One byte, 0 once the input is used up. */
static inline uint8_t
fuzz_byte(struct fuzz_in *in)
{
	uint8_t b;

	if (in->left == 0)
		return 0;
	b = *in->p++;
	in->left--;
	return b;
}

/* A little-endian 16-bit number. */
static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_byte(in);

	return (uint16_t)(lo | (uint16_t)fuzz_byte(in) << 8);
}

/*
 * The next piece up to the separator byte sep (not included, and taken),
 * or to the end. *len is its length. Never NULL.
 */
static inline const char *
fuzz_piece(struct fuzz_in *in, uint8_t sep, size_t *len)
{
	const uint8_t	*start = in->p, *e;

	e = memchr(in->p, sep, in->left);
	if (e == NULL) {
		*len = in->left;
		in->p += in->left;
		in->left = 0;
	} else {
		*len = (size_t)(e - in->p);
		in->left -= *len + 1;
		in->p = e + 1;
	}
	return (const char *)start;
}

/*
 * A heap copy of (s, len), NUL-terminated, sized exactly so that ASan sees
 * a read past the NUL. Aborts when out of memory (a harness cannot go on).
 */
static inline char *
fuzz_strndup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL)
		abort();
	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* A heap copy of (s, len) without a NUL: reading past len is an error. */
static inline char *
fuzz_memdup(const void *s, size_t len)
{
	char *d = malloc(len > 0 ? len : 1);

	if (d == NULL)
		abort();
	if (len > 0)
		memcpy(d, s, len);
	return d;
}

/* n bytes of zeros (at least 1 allocated), exactly: for output buffers. */
static inline char *
fuzz_alloc(size_t n)
{
	char *d = calloc(n > 0 ? n : 1, 1);

	if (d == NULL)
		abort();
	return d;
}

/* Is there a NUL within the first sz bytes of s? */
static inline int
fuzz_terminated(const char *s, size_t sz)
{
	return memchr(s, '\0', sz) != NULL;
}

/*
 * A small deterministic generator (xorshift32), seeded from the input, for
 * the places where a harness needs many choices (split points) and taking
 * each from the input would make seeds unreadable.
 */
struct fuzz_rng {
	uint32_t s;
};

static inline void
fuzz_rng_init(struct fuzz_rng *r, uint32_t seed)
{
	r->s = seed != 0 ? seed : 0x9e3779b9u;
}

static inline uint32_t
fuzz_rng_next(struct fuzz_rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 17;
	r->s ^= r->s << 5;
	return r->s;
}

/* A piece size in 1..max, small sizes most often (they split tokens). */
static inline size_t
fuzz_rng_piece(struct fuzz_rng *r, size_t max)
{
	uint32_t	 v = fuzz_rng_next(r);
	size_t		 n;

	switch (v & 3) {
	case 0:
		n = 1;
		break;
	case 1:
		n = 1 + (v >> 2) % 8;
		break;
	case 2:
		n = 1 + (v >> 2) % 64;
		break;
	default:
		n = 1 + (v >> 2) % 4096;
		break;
	}
	return n < max ? n : max;
}

#endif
