/*
 * sse.c: the Server-Sent Events wire format (sse.h).
 *
 * WHATWG HTML, "Server-sent events", "Interpreting an event stream": a line
 * ends at CR LF, a lone LF or a lone CR; "field: value" loses exactly one
 * space after the colon; every `data` field appends its value and a LF to
 * the data buffer, and the final LF is removed when the event is
 * dispatched on a blank line.
 *
 * So the encoder splits data at every CR LF, LF and lone CR and writes each
 * piece as "data: " + piece + LF. The space is always written, so a piece
 * that itself starts with a space keeps it. The browser rebuilds the data
 * with LF between pieces: what it sees is the payload with CR LF and CR
 * turned into LF, which is the most the format can carry, and no byte of the
 * payload can end up outside a `data:` line (no forged `id:` or `event:`).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "bounds.h"
#include "sse.h"

const char SSE_KEEPALIVE[] = ": keepalive\n\n";
_Static_assert(sizeof(SSE_KEEPALIVE) - 1 == SSE_KEEPALIVE_LEN,
    "SSE_KEEPALIVE_LEN does not match SSE_KEEPALIVE");

#define ID_PREFIX	"id: "
#define EVENT_PREFIX	"event: "
#define DATA_PREFIX	"data: "
#define LIT_LEN(s)	(sizeof(s) - 1)

/*
 * The id is not an argument: ids are ours (eventid_format()), at most
 * EVENT_ID_MAX bytes, and the bound assumes so. sse_encode() still checks
 * the real space, so a longer id fails with -1 instead of overflowing.
 *
 * Data of n bytes has at most n line breaks, so at most n + 1 lines; each
 * line costs its bytes plus DATA_PREFIX and a LF. Worst case (only lone
 * CRs) is (n + 1) * (LIT_LEN(DATA_PREFIX) + 1). Saturates at SIZE_MAX.
 */
size_t
sse_encoded_max(size_t event_len, size_t data_len)
{
	const size_t	 line = LIT_LEN(DATA_PREFIX) + 1;
	size_t		 fixed;

	fixed = LIT_LEN(ID_PREFIX) + EVENT_ID_MAX + 1 +
	    LIT_LEN(EVENT_PREFIX) + 1 + line + 1;
	if (event_len > SIZE_MAX - fixed)
		return SIZE_MAX;
	fixed += event_len;
	if (data_len > (SIZE_MAX - fixed) / line)
		return SIZE_MAX;
	return fixed + data_len * line;
}

/* Append (s, len) at out[*pos], if it fits. */
static int
put(char *out, size_t outsz, size_t *pos, const char *s, size_t len)
{
	if (len > outsz - *pos)
		return -1;
	memcpy(out + *pos, s, len);
	*pos += len;
	return 0;
}

/* CR, LF or NUL anywhere in (s, len)? */
static int
has_break(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 1;
	return 0;
}

ssize_t
sse_encode(char *out, size_t outsz, const char *id, const char *event,
    size_t event_len, const char *data, size_t data_len)
{
	size_t	 pos = 0, i, start, idlen;

	if (out == NULL || id == NULL || (data == NULL && data_len > 0) ||
	    (event == NULL && event_len > 0))
		return -1;
	/* The count is returned as ssize_t: never write more than fits. */
	if (outsz > (size_t)SSIZE_MAX)
		outsz = (size_t)SSIZE_MAX;
	/*
	 * Every data byte costs at least one output byte, so this refuses
	 * nothing that could fit, and keeps i <= data_len below from
	 * wrapping.
	 */
	if (data_len >= outsz)
		return -1;
	if (data == NULL)
		data = "";	/* data_len is 0: no pointer arithmetic on NULL */

	/*
	 * The id and the name were checked when the event was made; a CR or
	 * LF here would end the line early and let the rest pose as another
	 * field, so check again. id is NUL-terminated and so holds no NUL.
	 */
	idlen = strlen(id);
	if (has_break(id, idlen) || has_break(event, event_len))
		return -1;

	if (put(out, outsz, &pos, ID_PREFIX, LIT_LEN(ID_PREFIX)) == -1 ||
	    put(out, outsz, &pos, id, idlen) == -1 ||
	    put(out, outsz, &pos, "\n", 1) == -1)
		return -1;

	/* "message" is the type the browser uses when there is none. */
	if (event_len > 0 &&
	    !(event_len == 7 && memcmp(event, "message", 7) == 0)) {
		if (put(out, outsz, &pos, EVENT_PREFIX,
		    LIT_LEN(EVENT_PREFIX)) == -1 ||
		    put(out, outsz, &pos, event, event_len) == -1 ||
		    put(out, outsz, &pos, "\n", 1) == -1)
			return -1;
	}

	/*
	 * One `data: ` line per piece. The loop runs one extra time at
	 * i == data_len to write the last piece, which is empty when data is
	 * empty or ends in a line break: that empty line is what makes the
	 * browser keep the trailing newline (and dispatch an empty event).
	 */
	start = 0;
	for (i = 0; i <= data_len; i++) {
		if (i < data_len && data[i] != '\r' && data[i] != '\n')
			continue;
		if (put(out, outsz, &pos, DATA_PREFIX,
		    LIT_LEN(DATA_PREFIX)) == -1 ||
		    put(out, outsz, &pos, data + start, i - start) == -1 ||
		    put(out, outsz, &pos, "\n", 1) == -1)
			return -1;
		/* CR LF is one line break, not two. */
		if (i + 1 < data_len && data[i] == '\r' && data[i + 1] == '\n')
			i++;
		start = i + 1;
	}

	if (put(out, outsz, &pos, "\n", 1) == -1)
		return -1;
	return (ssize_t)pos;
}

ssize_t
sse_encode_retry(char *out, size_t outsz, unsigned ms)
{
	int	 n;

	if (out == NULL || outsz == 0)
		return -1;
	n = snprintf(out, outsz, "retry: %u\n\n", ms);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	return n;
}
