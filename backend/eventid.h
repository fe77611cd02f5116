/*
 * eventid.h: event ids as clients see them.
 *
 * An id is "<epoch>-<seq>": the log's epoch, EPOCH_HEX_LEN lowercase hex
 * digits made at random when the database is created, and the event's
 * sequence number in decimal. The epoch lets a server tell that a client's
 * resume point belongs to another (recreated or restored) log instead of
 * silently resuming at the wrong place.
 *
 * A resume point (Last-Event-ID header or lastEventId parameter) is either a
 * full id or a bare sequence number, taken in the current epoch:
 * "lastEventId=0" means "from the start".
 */
#ifndef SSEREPLAY_EVENTID_H
#define SSEREPLAY_EVENTID_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"

struct resume_point {
	int		has_epoch;		/* 0 for a bare sequence number */
	char		epoch[EPOCH_HEX_LEN + 1];	/* NUL-terminated if has_epoch */
	uint64_t	seq;
};

/*
 * Write "<epoch>-<seq>" and a NUL into out. epoch must be EPOCH_HEX_LEN
 * chars. Returns the length written (without NUL), or -1 if outsz is too
 * small (EVENT_ID_MAX + 1 always suffices).
 */
int eventid_format(char *out, size_t outsz, const char *epoch, uint64_t seq);

/*
 * Parse a resume point from (s, len). Accepts "SEQ" or "EPOCH-SEQ" where
 * EPOCH is exactly EPOCH_HEX_LEN hex digits (either case, stored lowercase)
 * and SEQ is 1..20 decimal digits fitting in int64 (no sign, no spaces).
 * Returns 0 and fills *out, or -1 for anything else (including len 0 or
 * len > RESUME_ID_MAX).
 */
int eventid_parse(const char *s, size_t len, struct resume_point *out);

#endif
