/*
 * fuzz_jsmap.c: backend/jsmap.c, what the JetStream driver reads from
 * NATS: subjects, the reply subjects of delivered messages, publish
 * acknowledgements.
 *
 * Input: byte 0 picks the parser (mod 3), the rest is its input, in a
 * heap buffer of exactly its size.
 *
 * Checked (jsmap.h):
 *   0  jsmap_topic() (prefix "sse"): a subject it decodes is a valid
 *      topic, NUL-terminated, of the length returned, and encoding it
 *      again gives exactly the subject (decoding accepts only what
 *      encoding makes); a short output buffer is refused, never overrun;
 *      and if the input is itself a valid topic, it round-trips through
 *      jsmap_subject() and back;
 *   1  jsmap_ack_parse(): the input as a C string (to its first NUL);
 *      the answer does not depend on anything past it;
 *   2  jsmap_puback_parse(): 0 gives a seq > 0, 1 a NUL-terminated
 *      description, -1 leaves seq 0.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "jsmap.h"
#include "valid.h"

static void
subjects(const char *s, size_t len)
{
	char	 topic[TOPIC_MAX + 1], small[8], again[JSMAP_SUBJECT_MAX + 1];
	char	 subj[JSMAP_SUBJECT_MAX + 1], back[TOPIC_MAX + 1];
	int	 n, m;

	n = jsmap_topic(topic, sizeof(topic), "sse", s, len);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == strlen(topic));
		FUZZ_CHECK(valid_topic(topic, (size_t)n));
		m = jsmap_subject(again, sizeof(again), "sse", topic,
		    (size_t)n);
		FUZZ_CHECK(m >= 0 && (size_t)m == len);
		FUZZ_CHECK(memcmp(again, s, len) == 0);
		if (n >= (int)sizeof(small))
			FUZZ_CHECK(jsmap_topic(small, sizeof(small), "sse", s,
			    len) == -1);
	}
	if (valid_topic(s, len)) {
		m = jsmap_subject(subj, sizeof(subj), "sse", s, len);
		FUZZ_CHECK(m > 0 && (size_t)m == strlen(subj));
		n = jsmap_topic(back, sizeof(back), "sse", subj, (size_t)m);
		FUZZ_CHECK(n >= 0 && (size_t)n == len);
		FUZZ_CHECK(memcmp(back, s, len) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, err[64];
	uint64_t	 seq, pending;
	int64_t		 ts;
	int		 dup, code, r;

	if (size == 0)
		return 0;
	s = fuzz_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		subjects(s, size - 1);
		break;
	case 1:
		(void)jsmap_ack_parse(s, &seq, &ts, &pending);
		break;
	case 2:
		seq = 7;
		r = jsmap_puback_parse(s, size - 1, &seq, &dup, &code, err,
		    sizeof(err));
		FUZZ_CHECK(r >= -1 && r <= 1);
		if (r == 0)
			FUZZ_CHECK(seq > 0 && (dup == 0 || dup == 1));
		else
			FUZZ_CHECK(seq == 0);
		if (r == 1)
			FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		break;
	}
	free(s);
	return 0;
}
