/* jsmap.c: subjects, epochs and JetStream answers. See jsmap.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "jsmap.h"
#include "valid.h"

static int
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
jsmap_prefix_ok(const char *prefix)
{
	size_t	 i, len = strlen(prefix);

	if (len == 0 || len > NATS_PREFIX_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (prefix[i] == '.') {
			/* No empty token: not first, not last, not twice. */
			if (i == 0 || i + 1 == len || prefix[i + 1] == '.')
				return 0;
		} else if (!is_word(prefix[i]))
			return 0;
	}
	return 1;
}

int
jsmap_stream_ok(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > NATS_STREAM_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!is_word(name[i]))
			return 0;
	return 1;
}

int
jsmap_subject(char *out, size_t outsz, const char *prefix,
    const char *topic, size_t topic_len)
{
	size_t	 o, i, plen = strlen(prefix), seg = 0;

	if (!valid_topic(topic, topic_len) || plen + 2 > outsz)
		return -1;
	memcpy(out, prefix, plen);
	o = plen;
	out[o++] = '.';
	/* seg: bytes written for the current segment so far. */
	for (i = 0; i <= topic_len; i++) {
		if (i == topic_len || topic[i] == '/') {
			if (seg == 0) {
				if (o + 1 >= outsz)
					return -1;
				out[o++] = '%';
			}
			if (i == topic_len)
				break;
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
			seg = 0;
		} else if (topic[i] == '.') {
			if (o + 3 >= outsz)
				return -1;
			memcpy(out + o, "%2E", 3);
			o += 3;
			seg += 3;
		} else {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = topic[i];
			seg++;
		}
	}
	out[o] = '\0';
	return (int)o;
}

int
jsmap_topic(char *out, size_t outsz, const char *prefix,
    const char *subject, size_t subject_len)
{
	size_t	 plen = strlen(prefix), i, o = 0, tok_start;
	char	 c;

	if (subject_len <= plen + 1 || memcmp(subject, prefix, plen) != 0 ||
	    subject[plen] != '.')
		return -1;
	i = plen + 1;
	for (;;) {
		tok_start = i;
		/* The lone "%" token: an empty segment. */
		if (i < subject_len && subject[i] == '%' &&
		    (i + 1 == subject_len || subject[i + 1] == '.')) {
			i++;
		} else {
			while (i < subject_len && subject[i] != '.') {
				c = subject[i];
				if (c == '%') {
					if (i + 3 > subject_len ||
					    memcmp(subject + i, "%2E", 3) != 0)
						return -1;
					c = '.';
					i += 3;
				} else if (is_word(c))
					i++;
				else
					return -1;
				if (o + 1 >= outsz)
					return -1;
				out[o++] = c;
			}
			if (i == tok_start)
				return -1;	/* an empty token */
		}
		if (i == subject_len)
			break;
		/* subject[i] == '.': the next segment. */
		if (o + 1 >= outsz)
			return -1;
		out[o++] = '/';
		i++;
		if (i == subject_len)
			return -1;	/* a trailing dot */
	}
	out[o] = '\0';
	if (!valid_topic(out, o))
		return -1;
	return (int)o;
}

static int
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

void
jsmap_epoch(char out[EPOCH_HEX_LEN + 1], const char *name,
    int64_t created_ns, const char *desc)
{
	const char	*pin;
	char		 num[32];
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a 64 */
	size_t		 i, len;
	int		 n;

	if (desc != NULL && (pin = strstr(desc, JSMAP_EPOCH_PIN)) != NULL) {
		pin += sizeof(JSMAP_EPOCH_PIN) - 1;
		for (i = 0; i < EPOCH_HEX_LEN && is_lower_hex(pin[i]); i++)
			;
		if (i == EPOCH_HEX_LEN && !is_lower_hex(pin[i])) {
			memcpy(out, pin, EPOCH_HEX_LEN);
			out[EPOCH_HEX_LEN] = '\0';
			return;
		}
	}
	len = strlen(name);
	for (i = 0; i <= len; i++) {	/* the NUL too */
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	n = snprintf(num, sizeof(num), "%" PRId64, created_ns);
	for (i = 0; n > 0 && i < (size_t)n; i++) {
		h ^= (unsigned char)num[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, EPOCH_HEX_LEN + 1, "%08" PRIx32,
	    (uint32_t)(h ^ (h >> 32)));
}

/* A decimal token of s (to the next '.' or the end) into *v. */
static int
token_u64(const char *s, size_t len, uint64_t *v)
{
	size_t	 i;

	*v = 0;
	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (*v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

int
jsmap_ack_parse(const char *reply, uint64_t *sseq, int64_t *ts_ns,
    uint64_t *pending)
{
	const char	*tok[16];
	size_t		 tlen[16], ntok = 0, base;
	const char	*p = reply, *dot;
	uint64_t	 ts;

	if (reply == NULL || strncmp(reply, "$JS.ACK.", 8) != 0)
		return -1;
	for (;;) {
		if (ntok == 16)
			return -1;
		dot = strchr(p, '.');
		tok[ntok] = p;
		tlen[ntok] = dot != NULL ? (size_t)(dot - p) : strlen(p);
		ntok++;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	/* 9 tokens: the old form; 11 or 12: with domain and account hash. */
	if (ntok == 9)
		base = 2;
	else if (ntok == 11 || ntok == 12)
		base = 4;
	else
		return -1;
	/* base: stream, +1 consumer, +2 delivered, +3 sseq, +4 cseq,
	 * +5 timestamp, +6 pending. */
	if (token_u64(tok[base + 3], tlen[base + 3], sseq) == -1 ||
	    token_u64(tok[base + 5], tlen[base + 5], &ts) == -1 ||
	    token_u64(tok[base + 6], tlen[base + 6], pending) == -1 ||
	    ts > (uint64_t)INT64_MAX)
		return -1;
	*ts_ns = (int64_t)ts;
	return 0;
}

int
jsmap_puback_parse(const char *buf, size_t len, uint64_t *seq,
    int *duplicate, int *code, char *err, size_t errsz)
{
	json_t		*root, *e, *v;
	json_error_t	 jerr;
	int		 ret = -1;

	*seq = 0;
	*duplicate = 0;
	*code = 0;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if ((root = json_loadb(buf, len, 0, &jerr)) == NULL)
		return -1;
	if (!json_is_object(root))
		goto out;
	if ((e = json_object_get(root, "error")) != NULL) {
		if (!json_is_object(e))
			goto out;
		v = json_object_get(e, "err_code");
		if (json_is_integer(v))
			*code = (int)json_integer_value(v);
		v = json_object_get(e, "description");
		if (err != NULL && errsz > 0)
			snprintf(err, errsz, "%s", json_is_string(v) ?
			    json_string_value(v) : "error without description");
		ret = 1;
		goto out;
	}
	v = json_object_get(root, "seq");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    !json_is_string(json_object_get(root, "stream")))
		goto out;
	*seq = (uint64_t)json_integer_value(v);
	*duplicate = json_is_true(json_object_get(root, "duplicate"));
	ret = 0;
out:
	json_decref(root);
	return ret;
}
