/*
 * fuzz_eventid.c: backend/eventid.c, resume points and event ids.
 *
 * Input: byte 0 is an output buffer size for eventid_format() (0..255);
 * the rest is a Last-Event-ID / lastEventId value, in a heap buffer of
 * exactly its size.
 *
 * Checked (eventid.h):
 *   - eventid_parse() accepts exactly "SEQ" and "EPOCH-SEQ" (EPOCH: 8 hex
 *     digits of either case; SEQ: 1..20 digits, at most INT64_MAX; the
 *     whole at most RESUME_ID_MAX bytes), compared with a separate reading;
 *   - on success the epoch is stored lowercase and NUL-terminated, and the
 *     sequence number is the digits' value;
 *   - parse(format(x)) == x, and format() fits EVENT_ID_MAX + 1 bytes;
 *   - format() into a short buffer returns -1 or a NUL-terminated string
 *     of the length it returns, never more than the buffer; an epoch of
 *     the wrong length is refused.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eventid.h"
#include "fuzz.h"

/* The rules of eventid.h, read separately. 0 with *rp, or -1. */
static int
ref_parse(const char *s, size_t len, struct resume_point *rp)
{
	size_t		 i;
	uint64_t	 v = 0;

	memset(rp, 0, sizeof(*rp));
	if (len == 0 || len > RESUME_ID_MAX)
		return -1;
	if (len > EPOCH_HEX_LEN && s[EPOCH_HEX_LEN] == '-') {
		for (i = 0; i < EPOCH_HEX_LEN; i++) {
			if (!isxdigit((unsigned char)s[i]))
				return -1;
			rp->epoch[i] = (char)tolower((unsigned char)s[i]);
		}
		rp->has_epoch = 1;
		s += EPOCH_HEX_LEN + 1;
		len -= EPOCH_HEX_LEN + 1;
	}
	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		/* 20 digits may overflow uint64_t: stop at INT64_MAX. */
		if (v > (uint64_t)INT64_MAX / 10 ||
		    v * 10 + (uint64_t)(s[i] - '0') > (uint64_t)INT64_MAX)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	rp->seq = v;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in		 in;
	struct resume_point	 rp, ref, back;
	char			 id[EVENT_ID_MAX + 1], *s, *small;
	const char		*epoch;
	size_t			 len, outsz, i;
	int			 rc, n;

	fuzz_in_init(&in, data, size);
	outsz = fuzz_byte(&in);
	len = in.left;
	s = fuzz_memdup(in.p, len);

	memset(&rp, 0xa5, sizeof(rp));
	rc = eventid_parse(s, len, &rp);
	FUZZ_CHECK(rc == ref_parse(s, len, &ref));
	if (rc == 0) {
		FUZZ_CHECK(rp.has_epoch == ref.has_epoch);
		FUZZ_CHECK(rp.seq == ref.seq && rp.seq <= (uint64_t)INT64_MAX);
		if (rp.has_epoch) {
			FUZZ_CHECK(rp.epoch[EPOCH_HEX_LEN] == '\0');
			FUZZ_CHECK(memcmp(rp.epoch, ref.epoch, EPOCH_HEX_LEN)
			    == 0);
			for (i = 0; i < EPOCH_HEX_LEN; i++)
				FUZZ_CHECK(isxdigit((unsigned char)rp.epoch[i])
				    && !isupper((unsigned char)rp.epoch[i]));
		}

		/* The round trip, through a full id. */
		epoch = rp.has_epoch ? rp.epoch : "0123abcd";
		n = eventid_format(id, sizeof(id), epoch, rp.seq);
		FUZZ_CHECK(n > 0 && (size_t)n == strlen(id) &&
		    n <= EVENT_ID_MAX);
		FUZZ_CHECK(eventid_parse(id, (size_t)n, &back) == 0);
		FUZZ_CHECK(back.has_epoch && back.seq == rp.seq &&
		    strcmp(back.epoch, epoch) == 0);
		/* A bare number, printed in decimal, parses back to itself. */
		if (!rp.has_epoch) {
			n = snprintf(id, sizeof(id), "%" PRIu64, rp.seq);
			FUZZ_CHECK(eventid_parse(id, (size_t)n, &back) == 0 &&
			    !back.has_epoch && back.seq == rp.seq);
		}
	}

	/* format() into a buffer of the input's size, exactly. */
	small = fuzz_alloc(outsz);
	epoch = rc == 0 && rp.has_epoch ? rp.epoch : "deadbeef";
	n = eventid_format(outsz > 0 ? small : NULL, outsz, epoch,
	    rc == 0 ? rp.seq : len);
	FUZZ_CHECK(n == -1 || ((size_t)n < outsz && small[n] == '\0' &&
	    strlen(small) == (size_t)n));
	if (outsz > EVENT_ID_MAX)
		FUZZ_CHECK(n > 0);
	free(small);

	/* An epoch that is not EPOCH_HEX_LEN long is refused. */
	small = fuzz_strndup(s, len);
	if (strlen(small) != EPOCH_HEX_LEN)
		FUZZ_CHECK(eventid_format(id, sizeof(id), small, 1) == -1);
	free(small);
	free(s);
	return 0;
}
