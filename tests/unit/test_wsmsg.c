/*
 * test_wsmsg.c: backend/wsmsg.c, one named case per rule.
 *
 * Every frame that comes out is checked the way a client sees it: FIN text
 * opcode (0x81), no mask, the length in its shortest form and equal to what
 * follows, then the payload parsed with Jansson (which rejects anything
 * RFC 8259 does not allow) back to exactly the fields given: no more
 * members, no fewer, every byte of every string. Buffers are heap blocks
 * with a canary after outsz, so a write past the end shows even where
 * ASan cannot see it (inside the same block).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bounds.h"
#include "wsconn.h"
#include "wsmsg.h"

#define ID		"0badcafe-42"
#define ID_LONGEST	"ffffffff-18446744073709551615"
#define CANARY		0xa5
#define CANARY_LEN	64

_Static_assert(sizeof(ID_LONGEST) - 1 == EVENT_ID_MAX,
    "ID_LONGEST is the longest id eventid_format() makes");

/* ---- helpers ------------------------------------------------------------ */

/* A block of outsz bytes and a canary after them. */
static char *
canary_buf(size_t outsz)
{
	char *b = malloc(outsz + CANARY_LEN);

	assert_non_null(b);
	memset(b, CANARY, outsz + CANARY_LEN);
	return b;
}

static void
check_canary(const char *b, size_t outsz)
{
	size_t i;

	for (i = 0; i < CANARY_LEN; i++)
		if ((unsigned char)b[outsz + i] != CANARY)
			fail_msg("byte %zu past outsz %zu was written", i,
			    outsz);
}

/*
 * Check the server frame f (n bytes: all that was written) and return its
 * payload's offset; *plen is the payload's length.
 */
static size_t
check_frame(const unsigned char *f, size_t n, size_t *plen)
{
	uint64_t	 len = 0;
	size_t		 hlen, i;

	assert_true(n >= 2);
	assert_int_equal(f[0], 0x81);		/* FIN, no RSV, text */
	assert_int_equal(f[1] & 0x80, 0);	/* a server never masks */
	if ((f[1] & 0x7f) < 126) {
		len = f[1] & 0x7f;
		hlen = 2;
	} else if ((f[1] & 0x7f) == 126) {
		assert_true(n >= 4);
		len = (uint64_t)f[2] << 8 | f[3];
		assert_true(len >= 126);	/* shortest form */
		hlen = 4;
	} else {
		assert_true(n >= 10);
		for (i = 0; i < 8; i++)
			len = len << 8 | f[2 + i];
		assert_true(len > 0xffff);	/* shortest form */
		assert_int_equal(len >> 63, 0);
		hlen = 10;
	}
	assert_true(len == n - hlen);
	*plen = (size_t)len;
	return hlen;
}

/* The JSON text (len bytes), parsed strictly; NULs in strings allowed. */
static json_t *
parse(const char *text, size_t len)
{
	json_error_t	 jerr;
	json_t		*j;

	j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	    &jerr);
	if (j == NULL)
		fail_msg("not JSON (%s at %d): %.*s", jerr.text, jerr.position,
		    (int)(len < 200 ? len : 200), text);
	assert_true(json_is_object(j));
	return j;
}

/* obj[key] is the string s (len bytes, NULs and all). */
static void
check_member(const json_t *obj, const char *key, const char *s, size_t len)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		fail_msg("no member \"%s\"", key);
	if (!json_is_string(v))
		fail_msg("member \"%s\" is not a string", key);
	assert_int_equal(json_string_length(v), len);
	if (len > 0)
		assert_memory_equal(json_string_value(v), s, len);
}

/*
 * Encode an event into a block of exactly wsmsg_event_max() bytes, check
 * the frame and every field, then check that one byte less is refused
 * without a write past it. Returns the frame's length.
 */
static size_t
check_event(const char *id, const char *topic, size_t tlen,
    const char *event, size_t elen, const char *data, size_t dlen)
{
	char		*out;
	json_t		*j;
	size_t		 max, plen, hlen, n;
	ssize_t		 r;

	max = wsmsg_event_max(tlen, elen, dlen);
	out = canary_buf(max);
	r = wsmsg_event(out, max, id, topic, tlen, event, elen, data, dlen);
	if (r < 0)
		fail_msg("wsmsg_event refused a valid event");
	n = (size_t)r;
	assert_true(n <= max);
	check_canary(out, max);
	hlen = check_frame((unsigned char *)out, n, &plen);
	j = parse(out + hlen, plen);
	assert_int_equal(json_object_size(j), 4);
	check_member(j, "id", id, strlen(id));
	check_member(j, "topic", topic, tlen);
	if (elen == 0)
		check_member(j, "event", "message", 7);
	else
		check_member(j, "event", event, elen);
	check_member(j, "data", data, dlen);
	json_decref(j);
	free(out);

	/* Exactly n bytes are enough; n - 1 are not. */
	out = canary_buf(n);
	assert_int_equal(wsmsg_event(out, n, id, topic, tlen, event, elen,
	    data, dlen), (ssize_t)n);
	check_canary(out, n);
	free(out);
	out = canary_buf(n - 1);
	assert_int_equal(wsmsg_event(out, n - 1, id, topic, tlen, event, elen,
	    data, dlen), -1);
	check_canary(out, n - 1);
	free(out);
	return n;
}

/* ---- wsmsg_event: what goes in comes out -------------------------------- */

struct ecase {
	const char	*topic;
	const char	*event;
	const char	*data;
	size_t		 dlen;		/* 0: strlen(data) */
};

static void
run_event(void **state)
{
	const struct ecase *c = *state;

	check_event(ID, c->topic, strlen(c->topic), c->event,
	    strlen(c->event), c->data, c->dlen ? c->dlen : strlen(c->data));
}

#define EV(nm, t, e, d)							\
	{ .name = nm, .test_func = run_event, .initial_state =		\
	  &(struct ecase){ t, e, d, 0 } }
/* Data with NULs: its length from the literal. */
#define EVN(nm, t, e, d)						\
	{ .name = nm, .test_func = run_event, .initial_state =		\
	  &(struct ecase){ t, e, d, sizeof(d) - 1 } }

/* Every control character, in order; then the same shuffled among text. */
#define CTL								\
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" \
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"

/* Every byte from 0x00 to 0x7f. */
static void
test_event_all_ascii(void **state)
{
	char	 d[128];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(d); i++)
		d[i] = (char)i;
	check_event(ID, "t", 1, "e", 1, d, sizeof(d));
}

/* Each control character alone, so none hides behind its neighbours. */
static void
test_event_each_control(void **state)
{
	char	 d[3];
	int	 c;

	(void)state;
	for (c = 0; c < 0x20; c++) {
		d[0] = 'a';
		d[1] = (char)c;
		d[2] = 'z';
		check_event(ID, "t", 1, "", 0, d, 3);
		check_event(ID, "t", 1, "", 0, d + 1, 1);
	}
}

/* Event ids as the hub makes them, the longest included. */
static void
test_event_ids(void **state)
{
	(void)state;
	check_event(ID_LONGEST, "t", 1, "e", 1, "x", 1);
	check_event("0", "t", 1, "e", 1, "x", 1);
	/* Not what eventid_format() makes, but still sent as given. */
	check_event("a\"b\\c\n", "t", 1, "e", 1, "x", 1);
}

/* The exact bytes of one small frame. */
static void
test_event_exact_bytes(void **state)
{
	static const char json[] = "{\"id\":\"" ID "\",\"topic\":\"news\","
	    "\"event\":\"update\",\"data\":\"a\\\"b\\\\c\\n\\u0001\"}";
	char	 out[256];
	ssize_t	 n;

	(void)state;
	n = wsmsg_event(out, sizeof(out), ID, "news", 4, "update", 6,
	    "a\"b\\c\n\x01", 7);
	assert_int_equal(n, 2 + sizeof(json) - 1);
	assert_int_equal((unsigned char)out[0], 0x81);
	assert_int_equal((unsigned char)out[1], sizeof(json) - 1);
	assert_memory_equal(out + 2, json, sizeof(json) - 1);
}

/* Lengths are taken as given: bytes past them are not looked at. */
static void
test_event_lengths_not_strings(void **state)
{
	(void)state;
	check_event(ID, "topicXX", 5, "evYY", 2, "data\"\\more", 4);
}

/* ---- frame lengths ------------------------------------------------------ */

/* The frame of an event whose payload is exactly plen bytes (data made of
 * 'x'). */
static void
frame_of_payload(size_t plen, size_t want_hlen)
{
	char		*data, *out;
	size_t		 base, dlen, max, hlen, got;
	ssize_t		 n;
	char		 small[256];

	/* The payload of an event with empty data. */
	n = wsmsg_event(small, sizeof(small), ID, "t", 1, "e", 1, "", 0);
	assert_true(n > 2 && n < 127);
	base = (size_t)n - 2;
	assert_true(plen >= base);
	dlen = plen - base;
	data = malloc(dlen + 1);
	assert_non_null(data);
	memset(data, 'x', dlen);
	max = wsmsg_event_max(1, 1, dlen);
	out = canary_buf(max);
	n = wsmsg_event(out, max, ID, "t", 1, "e", 1, data, dlen);
	assert_int_equal(n, (ssize_t)(want_hlen + plen));
	check_canary(out, max);
	hlen = check_frame((unsigned char *)out, (size_t)n, &got);
	assert_int_equal(hlen, want_hlen);
	assert_int_equal(got, plen);
	json_decref(parse(out + hlen, got));
	free(out);
	free(data);
}

static void
test_frame_len_7bit_125(void **state)
{
	(void)state;
	frame_of_payload(125, 2);
}

static void
test_frame_len_16bit_126(void **state)
{
	char	 out[512], data[128];
	ssize_t	 n;

	(void)state;
	frame_of_payload(126, 4);
	/* The bytes themselves: 126, then 0x00 0x7e. */
	memset(data, 'x', sizeof(data));
	n = wsmsg_event(out, sizeof(out), ID, "t", 1, "e", 1, "", 0);
	n = wsmsg_event(out, sizeof(out), ID, "t", 1, "e", 1, data,
	    (size_t)(126 - (n - 2)));
	assert_int_equal(n, 4 + 126);
	assert_memory_equal(out, "\x81\x7e\x00\x7e", 4);
}

static void
test_frame_len_16bit_65535(void **state)
{
	(void)state;
	frame_of_payload(65535, 4);
}

static void
test_frame_len_64bit_65536(void **state)
{
	char		*data, *out;
	size_t		 max, dlen;
	ssize_t		 n;
	char		 small[256];

	(void)state;
	frame_of_payload(65536, 10);
	/* The bytes themselves: 127, then 65536 in eight bytes. */
	n = wsmsg_event(small, sizeof(small), ID, "t", 1, "e", 1, "", 0);
	dlen = 65536 - ((size_t)n - 2);
	data = malloc(dlen);
	assert_non_null(data);
	memset(data, 'y', dlen);
	max = wsmsg_event_max(1, 1, dlen);
	out = canary_buf(max);
	n = wsmsg_event(out, max, ID, "t", 1, "e", 1, data, dlen);
	assert_int_equal(n, 10 + 65536);
	assert_memory_equal(out, "\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
	    10);
	free(out);
	free(data);
}

static void
test_frame_len_largest_event(void **state)
{
	(void)state;
	/* An event of EVENT_SIZE_CEILING bytes, escaped 6 to 1 at worst. */
	frame_of_payload(EVENT_SIZE_CEILING + 200, 10);
}

/* Escaping grows the payload across the 7-bit boundary: the header must
 * follow the escaped length, not the raw one. */
static void
test_frame_len_after_escaping(void **state)
{
	char	 d[40];
	size_t	 n;

	(void)state;
	memset(d, '\x01', sizeof(d));	/* 40 bytes become 240 */
	n = check_event(ID, "t", 1, "e", 1, d, sizeof(d));
	assert_true(n > 126);
	memset(d, '"', sizeof(d));	/* 40 bytes become 80 */
	check_event(ID, "t", 1, "e", 1, d, sizeof(d));
}

/* ---- invalid UTF-8 ------------------------------------------------------ */

static const struct {
	const char	*name;
	const char	*s;
	size_t		 len;
} bad_utf8[] = {
#define B(nm, s) { nm, s, sizeof(s) - 1 }
	B("lone continuation", "a\x80z"),
	B("0xff", "\xff"),
	B("0xfe", "a\xfe"),
	B("overlong slash", "\xc0\xaf"),
	B("overlong NUL", "\xc0\x80"),
	B("overlong 3-byte", "\xe0\x80\xaf"),
	B("surrogate U+D800", "\xed\xa0\x80"),
	B("surrogate U+DFFF", "\xed\xbf\xbf"),
	B("above U+10FFFF", "\xf4\x90\x80\x80"),
	B("5-byte form", "\xf8\x88\x80\x80\x80"),
	B("cut 2-byte at end", "ab\xc3"),
	B("cut 3-byte at end", "\xe2\x82"),
	B("cut 4-byte at end", "\xf0\x9f\x98"),
	B("cut 3-byte before ASCII", "\xe2\x82x"),
#undef B
};
#define NBAD	(sizeof(bad_utf8) / sizeof(bad_utf8[0]))

static void
test_event_invalid_utf8(void **state)
{
	char	 out[1024], id[64];
	size_t	 i, field;
	ssize_t	 n;

	(void)state;
	for (i = 0; i < NBAD; i++) {
		const char	*s = bad_utf8[i].s;
		size_t		 len = bad_utf8[i].len;

		for (field = 0; field < 4; field++) {
			memset(out, CANARY, sizeof(out));
			snprintf(id, sizeof(id), "%s", s);
			switch (field) {
			case 0:
				n = wsmsg_event(out, sizeof(out), id, "t", 1,
				    "e", 1, "d", 1);
				break;
			case 1:
				n = wsmsg_event(out, sizeof(out), ID, s, len,
				    "e", 1, "d", 1);
				break;
			case 2:
				n = wsmsg_event(out, sizeof(out), ID, "t", 1,
				    s, len, "d", 1);
				break;
			default:
				n = wsmsg_event(out, sizeof(out), ID, "t", 1,
				    "e", 1, s, len);
				break;
			}
			if (n != -1)
				fail_msg("%s in field %zu: got %zd, want -1",
				    bad_utf8[i].name, field, n);
		}
	}
}

/* The edges of what is valid pass. */
static void
test_event_utf8_edges(void **state)
{
	static const char d[] =
	    "\xc2\x80"			/* U+0080 */
	    "\xdf\xbf"			/* U+07FF */
	    "\xe0\xa0\x80"		/* U+0800 */
	    "\xed\x9f\xbf"		/* U+D7FF */
	    "\xee\x80\x80"		/* U+E000 */
	    "\xef\xbf\xbd"		/* U+FFFD */
	    "\xf0\x90\x80\x80"		/* U+10000 */
	    "\xf4\x8f\xbf\xbf";		/* U+10FFFF */

	(void)state;
	check_event(ID, "t", 1, "e", 1, d, sizeof(d) - 1);
}

/* ---- too small a buffer ------------------------------------------------- */

/* Every size below the frame's is refused, none written past. */
static void
test_event_every_short_size(void **state)
{
	static const char d[] = "q\"\\\x01\xe2\x80\xa8";
	char	*out;
	ssize_t	 need;
	size_t	 sz;

	(void)state;
	out = canary_buf(256);
	need = wsmsg_event(out, 256, ID, "t", 1, "", 0, d, sizeof(d) - 1);
	assert_true(need > 0);
	free(out);
	for (sz = 0; sz < (size_t)need; sz++) {
		out = canary_buf(sz);
		assert_int_equal(wsmsg_event(out, sz, ID, "t", 1, "", 0, d,
		    sizeof(d) - 1), -1);
		check_canary(out, sz);
		free(out);
	}
}

/* The 16-bit and 64-bit headers are counted too: one byte short fails. */
static void
test_event_short_by_one_large(void **state)
{
	char	*data, *out;
	size_t	 dlen = 70000, need;
	ssize_t	 n;

	(void)state;
	data = malloc(dlen);
	assert_non_null(data);
	memset(data, '\x1f', dlen);
	out = canary_buf(wsmsg_event_max(1, 1, dlen));
	n = wsmsg_event(out, wsmsg_event_max(1, 1, dlen), ID, "t", 1, "e", 1,
	    data, dlen);
	assert_true(n > 0);
	need = (size_t)n;
	free(out);
	out = canary_buf(need - 1);
	assert_int_equal(wsmsg_event(out, need - 1, ID, "t", 1, "e", 1, data,
	    dlen), -1);
	check_canary(out, need - 1);
	free(out);
	free(data);
}

/* ---- wsmsg_event_max ---------------------------------------------------- */

/*
 * The worst cases for each byte: a control character (6 bytes escaped), a
 * quote (2), a 4-byte sequence (1 per byte); an empty event name sent as
 * "message"; the longest id. The bound must hold for each, at sizes around
 * every header change.
 */
static void
test_max_is_upper_bound(void **state)
{
	static const size_t dlens[] = { 0, 1, 2, 15, 16, 20, 21, 125, 126,
	    10922, 10923, 65535, 65536, 100000, EVENT_SIZE_CEILING };
	static const char fill[] = { '\x00', '\x01', '\x1f', '"', '\\', '\n' };
	static const size_t tlens[] = { 0, 1, TOPIC_MAX };
	static const size_t elens[] = { 0, 1, EVENT_NAME_MAX };
	char		*t, *e, *d, *out;
	size_t		 di, fi, ti, ei, max;
	ssize_t		 n;

	(void)state;
	d = malloc(EVENT_SIZE_CEILING);
	t = malloc(TOPIC_MAX);
	e = malloc(EVENT_NAME_MAX);
	assert_non_null(d);
	assert_non_null(t);
	assert_non_null(e);
	for (fi = 0; fi < sizeof(fill); fi++) {
		memset(d, fill[fi], EVENT_SIZE_CEILING);
		memset(t, fill[fi], TOPIC_MAX);
		memset(e, fill[fi], EVENT_NAME_MAX);
		for (di = 0; di < sizeof(dlens) / sizeof(dlens[0]); di++)
		for (ti = 0; ti < 3; ti++)
		for (ei = 0; ei < 3; ei++) {
			if (dlens[di] > 70000 && (ti != 2 || ei != 2))
				continue;	/* the big ones once each */
			max = wsmsg_event_max(tlens[ti], elens[ei],
			    dlens[di]);
			out = canary_buf(max);
			n = wsmsg_event(out, max, ID_LONGEST, t, tlens[ti], e,
			    elens[ei], d, dlens[di]);
			if (n < 0 || (size_t)n > max)
				fail_msg("fill 0x%02x, lengths %zu %zu %zu: got"
				    " %zd, bound %zu", (unsigned char)fill[fi],
				    tlens[ti],
				    elens[ei], dlens[di], n, max);
			check_canary(out, max);
			free(out);
		}
	}
	free(d);
	free(t);
	free(e);
}

/* Multi-byte characters are not escaped: a 4-byte sequence stays 4. */
static void
test_max_utf8(void **state)
{
	char	 d[4 * 1000], *out;
	size_t	 i, max;
	ssize_t	 n;

	(void)state;
	for (i = 0; i < sizeof(d); i += 4)
		memcpy(d + i, "\xf0\x9f\x98\x80", 4);
	max = wsmsg_event_max(0, 0, sizeof(d));
	out = canary_buf(max);
	n = wsmsg_event(out, max, ID_LONGEST, "", 0, "", 0, d, sizeof(d));
	assert_true(n > 0 && (size_t)n <= max);
	check_canary(out, max);
	free(out);
}

/* ---- wsmsg_gap ---------------------------------------------------------- */

static void
check_gap(const char *id, const char *asked, const char *first)
{
	char		*out;
	json_t		*j, *g, *f;
	size_t		 hlen, plen, n, sz = 512;
	ssize_t		 r;

	out = canary_buf(sz);
	r = wsmsg_gap(out, sz, id, asked, first);
	assert_true(r > 0);
	n = (size_t)r;
	check_canary(out, sz);
	hlen = check_frame((unsigned char *)out, n, &plen);
	j = parse(out + hlen, plen);
	assert_int_equal(json_object_size(j), 2);
	check_member(j, "id", id, strlen(id));
	g = json_object_get(j, "gap");
	assert_non_null(g);
	assert_true(json_is_object(g));
	assert_int_equal(json_object_size(g), 2);
	check_member(g, "lastEventId", asked, strlen(asked));
	f = json_object_get(g, "firstAvailableId");
	assert_non_null(f);
	if (first == NULL)
		assert_true(json_is_null(f));
	else
		check_member(g, "firstAvailableId", first, strlen(first));
	json_decref(j);
	free(out);

	/* n bytes do, n - 1 do not. */
	out = canary_buf(n);
	assert_int_equal(wsmsg_gap(out, n, id, asked, first), (ssize_t)n);
	check_canary(out, n);
	free(out);
	out = canary_buf(n - 1);
	assert_int_equal(wsmsg_gap(out, n - 1, id, asked, first), -1);
	check_canary(out, n - 1);
	free(out);
}

static void
test_gap_first_available(void **state)
{
	(void)state;
	check_gap("0badcafe-10", "0badcafe-3", "0badcafe-7");
	check_gap(ID_LONGEST, "5", ID_LONGEST);
}

static void
test_gap_nothing_available(void **state)
{
	(void)state;
	check_gap("0badcafe-10", "0badcafe-3", NULL);
	check_gap("0badcafe-0", "0", NULL);
}

static void
test_gap_exact_bytes(void **state)
{
	static const char a[] = "{\"id\":\"e-9\",\"gap\":{\"lastEventId\":\"e-2\","
	    "\"firstAvailableId\":\"e-5\"}}";
	static const char b[] = "{\"id\":\"e-9\",\"gap\":{\"lastEventId\":\"e-2\","
	    "\"firstAvailableId\":null}}";
	char	 out[256];

	(void)state;
	assert_int_equal(wsmsg_gap(out, sizeof(out), "e-9", "e-2", "e-5"),
	    2 + sizeof(a) - 1);
	assert_memory_equal(out, "\x81", 1);
	assert_int_equal((unsigned char)out[1], sizeof(a) - 1);
	assert_memory_equal(out + 2, a, sizeof(a) - 1);
	assert_int_equal(wsmsg_gap(out, sizeof(out), "e-9", "e-2", NULL),
	    2 + sizeof(b) - 1);
	assert_int_equal((unsigned char)out[1], sizeof(b) - 1);
	assert_memory_equal(out + 2, b, sizeof(b) - 1);
}

/* Strings that need escaping are escaped here too. */
static void
test_gap_escaped(void **state)
{
	(void)state;
	check_gap("i\"d", "as\\ked\n", "fir\x01st");
}

static void
test_gap_invalid_utf8(void **state)
{
	char	 out[512], bad[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < NBAD; i++) {
		snprintf(bad, sizeof(bad), "%s", bad_utf8[i].s);
		if (strlen(bad) != bad_utf8[i].len)
			continue;	/* holds a NUL: not a C string */
		if (wsmsg_gap(out, sizeof(out), bad, "1", "2") != -1 ||
		    wsmsg_gap(out, sizeof(out), "1", bad, "2") != -1 ||
		    wsmsg_gap(out, sizeof(out), "1", bad, NULL) != -1 ||
		    wsmsg_gap(out, sizeof(out), "1", "2", bad) != -1)
			fail_msg("gap with %s accepted", bad_utf8[i].name);
	}
}

static void
test_gap_every_short_size(void **state)
{
	char	*out;
	ssize_t	 need;
	size_t	 sz;
	int	 k;

	(void)state;
	for (k = 0; k < 2; k++) {
		const char *first = k ? NULL : "0badcafe-7";

		out = canary_buf(256);
		need = wsmsg_gap(out, 256, "0badcafe-10", "0badcafe-3", first);
		assert_true(need > 0);
		free(out);
		for (sz = 0; sz < (size_t)need; sz++) {
			out = canary_buf(sz);
			assert_int_equal(wsmsg_gap(out, sz, "0badcafe-10",
			    "0badcafe-3", first), -1);
			check_canary(out, sz);
			free(out);
		}
	}
}

/* ---- wsmsg_ack and wsmsg_error: bare JSON ------------------------------- */

static void
test_ack_exact(void **state)
{
	static const char want[] = "{\"ack\":\"0badcafe-42\"}";
	char	*out;
	json_t	*j;

	(void)state;
	out = canary_buf(sizeof(want) - 1);
	assert_int_equal(wsmsg_ack(out, sizeof(want) - 1, "0badcafe-42"),
	    sizeof(want) - 1);
	check_canary(out, sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	j = parse(out, sizeof(want) - 1);
	assert_int_equal(json_object_size(j), 1);
	check_member(j, "ack", "0badcafe-42", 11);
	json_decref(j);
	free(out);
}

static void
test_error_exact(void **state)
{
	static const char want[] = "{\"error\":\"not allowed to publish"
	    " to topic x\"}";
	char	 out[128];
	json_t	*j;
	ssize_t	 n;

	(void)state;
	n = wsmsg_error(out, sizeof(out), "not allowed to publish to topic x");
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	j = parse(out, (size_t)n);
	assert_int_equal(json_object_size(j), 1);
	check_member(j, "error", "not allowed to publish to topic x", 33);
	json_decref(j);
}

/* A reason with everything that must be escaped comes back whole. */
static void
test_error_escaped(void **state)
{
	static const char r[] = "bad \"data\": \\ \n\t\x01\x1f \x7f \xe2\x80\xa8"
	    " \xc3\xa9";
	char	 out[256];
	json_t	*j;
	ssize_t	 n;

	(void)state;
	n = wsmsg_error(out, sizeof(out), r);
	assert_true(n > 0);
	assert_int_equal(out[0], '{');		/* no frame header */
	j = parse(out, (size_t)n);
	assert_int_equal(json_object_size(j), 1);
	check_member(j, "error", r, sizeof(r) - 1);
	json_decref(j);
}

static void
test_ack_error_short(void **state)
{
	char	*out;
	ssize_t	 need;
	size_t	 sz;

	(void)state;
	out = canary_buf(64);
	need = wsmsg_ack(out, 64, "0badcafe-42");
	free(out);
	for (sz = 0; sz < (size_t)need; sz++) {
		out = canary_buf(sz);
		assert_int_equal(wsmsg_ack(out, sz, "0badcafe-42"), -1);
		check_canary(out, sz);
		free(out);
	}
	out = canary_buf(64);
	need = wsmsg_error(out, 64, "a \"b\"");
	free(out);
	for (sz = 0; sz < (size_t)need; sz++) {
		out = canary_buf(sz);
		assert_int_equal(wsmsg_error(out, sz, "a \"b\""), -1);
		check_canary(out, sz);
		free(out);
	}
}

static void
test_ack_error_invalid_utf8(void **state)
{
	char	 out[256], bad[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < NBAD; i++) {
		snprintf(bad, sizeof(bad), "%s", bad_utf8[i].s);
		if (strlen(bad) != bad_utf8[i].len)
			continue;
		if (wsmsg_ack(out, sizeof(out), bad) != -1 ||
		    wsmsg_error(out, sizeof(out), bad) != -1)
			fail_msg("ack/error with %s accepted",
			    bad_utf8[i].name);
	}
}

static const struct CMUnitTest tests[] = {
	EV("event: plain", "news", "update", "hello"),
	EV("event: empty data", "news", "update", ""),
	EV("event: empty name is message", "news", "", "x"),
	EV("event: name message stays message", "news", "message", "x"),
	EV("event: quotes", "t", "e", "\"quoted\" \"\""),
	EV("event: backslashes", "t", "e", "\\ \\\\ \\n \\u0000 \\\""),
	EV("event: slash", "a/b", "e", "</script> / //"),
	EV("event: JSON inside data", "t", "e",
	    "{\"id\":\"x\",\"topic\":\"y\"}"),
	EVN("event: every control character", "t", "e", CTL),
	EVN("event: control characters among text", "t", "e",
	    "a" CTL "b" CTL "c"),
	EVN("event: NUL only", "t", "e", "\0"),
	EV("event: CR LF", "t", "e", "line1\r\nline2\rline3\n"),
	EV("event: DEL", "t", "e", "a\x7f" "b\x7f"),
	EV("event: 2-byte UTF-8", "t", "e", "caf\xc3\xa9 \xc3\xbc"),
	EV("event: 3-byte UTF-8", "t", "e", "\xe2\x82\xac \xe6\x97\xa5"),
	EV("event: 4-byte UTF-8", "t", "e", "\xf0\x9f\x98\x80\xf0\x9f\x8e\x89"),
	EV("event: U+2028 and U+2029", "t", "e",
	    "a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"),
	EV("event: U+FEFF", "t", "e", "\xef\xbb\xbfx"),
	EV("event: topic with escapes", "t\"o\\p\x01", "e", "x"),
	EV("event: name with escapes", "t", "e\"v\\n\x1f", "x"),
	EV("event: longest topic and name",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
	    "x"),
	cmocka_unit_test(test_event_all_ascii),
	cmocka_unit_test(test_event_each_control),
	cmocka_unit_test(test_event_ids),
	cmocka_unit_test(test_event_exact_bytes),
	cmocka_unit_test(test_event_lengths_not_strings),
	cmocka_unit_test(test_frame_len_7bit_125),
	cmocka_unit_test(test_frame_len_16bit_126),
	cmocka_unit_test(test_frame_len_16bit_65535),
	cmocka_unit_test(test_frame_len_64bit_65536),
	cmocka_unit_test(test_frame_len_largest_event),
	cmocka_unit_test(test_frame_len_after_escaping),
	cmocka_unit_test(test_event_invalid_utf8),
	cmocka_unit_test(test_event_utf8_edges),
	cmocka_unit_test(test_event_every_short_size),
	cmocka_unit_test(test_event_short_by_one_large),
	cmocka_unit_test(test_max_is_upper_bound),
	cmocka_unit_test(test_max_utf8),
	cmocka_unit_test(test_gap_first_available),
	cmocka_unit_test(test_gap_nothing_available),
	cmocka_unit_test(test_gap_exact_bytes),
	cmocka_unit_test(test_gap_escaped),
	cmocka_unit_test(test_gap_invalid_utf8),
	cmocka_unit_test(test_gap_every_short_size),
	cmocka_unit_test(test_ack_exact),
	cmocka_unit_test(test_error_exact),
	cmocka_unit_test(test_error_escaped),
	cmocka_unit_test(test_ack_error_short),
	cmocka_unit_test(test_ack_error_invalid_utf8),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
