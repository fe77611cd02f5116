/*
 * eventid.c: event ids and resume points (eventid.h).
 *
 * Resume points come from the Last-Event-ID header, which the browser fills
 * from whatever the last `id:` line said (WHATWG HTML, "server-sent events",
 * the last event ID string), or from a lastEventId query parameter anybody
 * can type. So the parser is strict: exact lengths, digits only, no sign, no
 * spaces, no overflow. Anything odd is refused rather than guessed at.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eventid.h"
#include "bounds.h"

/* 20 digits: UINT64_MAX has 20, INT64_MAX has 19. */
#define SEQ_DIGITS_MAX	20

int
eventid_format(char *out, size_t outsz, const char *epoch, uint64_t seq)
{
	int	 n;

	/* A short or NULL epoch would print an id no parser accepts. */
	if (out == NULL || epoch == NULL ||
	    strnlen(epoch, EPOCH_HEX_LEN + 1) != EPOCH_HEX_LEN)
		return -1;
	n = snprintf(out, outsz, "%.*s-%" PRIu64, EPOCH_HEX_LEN, epoch, seq);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
}

/* 1..SEQ_DIGITS_MAX decimal digits whose value fits in int64_t. */
static int
parse_seq(const char *s, size_t len, uint64_t *out)
{
	uint64_t	 v = 0;
	unsigned	 d;
	size_t		 i;

	if (len == 0 || len > SEQ_DIGITS_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		/* Checked before the multiply, so v never wraps. */
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
eventid_parse(const char *s, size_t len, struct resume_point *out)
{
	struct resume_point	 rp;
	size_t			 i;
	char			 c;

	if (s == NULL || out == NULL || len == 0 || len > RESUME_ID_MAX)
		return -1;
	memset(&rp, 0, sizeof(rp));

	/*
	 * A full id has its '-' right after the epoch; a bare sequence
	 * number has no '-' at all, so anything else fails in parse_seq().
	 */
	if (len > EPOCH_HEX_LEN && s[EPOCH_HEX_LEN] == '-') {
		for (i = 0; i < EPOCH_HEX_LEN; i++) {
			c = s[i];
			if (c >= '0' && c <= '9')
				rp.epoch[i] = c;
			else if (c >= 'a' && c <= 'f')
				rp.epoch[i] = c;
			else if (c >= 'A' && c <= 'F')
				rp.epoch[i] = (char)(c - 'A' + 'a');
			else
				return -1;
		}
		rp.epoch[EPOCH_HEX_LEN] = '\0';
		rp.has_epoch = 1;
		s += EPOCH_HEX_LEN + 1;
		len -= EPOCH_HEX_LEN + 1;
	}
	if (parse_seq(s, len, &rp.seq) == -1)
		return -1;
	*out = rp;
	return 0;
}
