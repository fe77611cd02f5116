/*
 * test_sse.c: backend/sse.c, one named case per rule.
 *
 * Besides exact-byte cases, the file holds a small decoder that follows
 * WHATWG HTML, "Interpreting an event stream", the way a browser does:
 * lines end at CR LF, LF or CR; a leading ':' is a comment; one space after
 * the field's colon is dropped; `data` lines are joined with LF; `id` sets
 * the last event ID; a blank line dispatches. Round trips through it show
 * that what the encoder writes is what an EventSource delivers: the payload
 * with CR LF and CR turned into LF, and no byte of it escaping its `data:`
 * lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bounds.h"
#include "sse.h"

#define ID	"0123abcd-1"

/* ------------------------------------------------------------------ */
/* The test-side decoder.                                              */

#define DEC_EVENTS	8
#define DEC_FIELD	128
#define DEC_DATA	(64 * 1024)

struct dec_event {
	char	 id[DEC_FIELD];
	char	 type[DEC_FIELD];
	char	*data;			/* DEC_DATA bytes */
	size_t	 data_len;
};

struct dec {
	struct dec_event ev[DEC_EVENTS];
	int		 nev;
	char		 last_id[DEC_FIELD];
	char		 type[DEC_FIELD];	/* event type buffer */
	char		*data;			/* data buffer */
	size_t		 data_len;
	long		 retry;			/* -1 until set */
	int		 unknown;		/* fields we never write */
	int		 partial;		/* bytes after the last line end */
};

static void
dec_init(struct dec *d)
{
	int	 i;

	memset(d, 0, sizeof(*d));
	d->retry = -1;
	d->data = malloc(DEC_DATA);
	assert_non_null(d->data);
	for (i = 0; i < DEC_EVENTS; i++) {
		d->ev[i].data = malloc(DEC_DATA);
		assert_non_null(d->ev[i].data);
	}
}

static void
dec_free(struct dec *d)
{
	int	 i;

	free(d->data);
	for (i = 0; i < DEC_EVENTS; i++)
		free(d->ev[i].data);
}

static void
dec_setstr(char *dst, const char *v, size_t vlen)
{
	assert_true(vlen < DEC_FIELD);
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* "Dispatch the event", WHATWG HTML. */
static void
dec_dispatch(struct dec *d)
{
	struct dec_event	*e;

	if (d->data_len == 0) {
		d->type[0] = '\0';
		return;
	}
	/* The buffer ends in LF (each data line appends one): drop it. */
	d->data_len--;
	assert_true(d->nev < DEC_EVENTS);
	e = &d->ev[d->nev++];
	memcpy(e->id, d->last_id, sizeof(e->id));
	if (d->type[0] == '\0')
		strcpy(e->type, "message");
	else
		memcpy(e->type, d->type, sizeof(e->type));
	memcpy(e->data, d->data, d->data_len);
	e->data_len = d->data_len;
	d->data_len = 0;
	d->type[0] = '\0';
}

/* "Process the field", WHATWG HTML. */
static void
dec_line(struct dec *d, const char *line, size_t len)
{
	const char	*colon, *v = "";
	size_t		 flen = len, vlen = 0, i;
	long		 r;

	if (len == 0) {
		dec_dispatch(d);
		return;
	}
	if (line[0] == ':')
		return;
	if ((colon = memchr(line, ':', len)) != NULL) {
		flen = (size_t)(colon - line);
		v = colon + 1;
		vlen = len - flen - 1;
		if (vlen > 0 && v[0] == ' ') {
			v++;
			vlen--;
		}
	}
	if (flen == 5 && memcmp(line, "event", 5) == 0)
		dec_setstr(d->type, v, vlen);
	else if (flen == 4 && memcmp(line, "data", 4) == 0) {
		assert_true(vlen + 1 <= DEC_DATA - d->data_len);
		memcpy(d->data + d->data_len, v, vlen);
		d->data_len += vlen;
		d->data[d->data_len++] = '\n';
	} else if (flen == 2 && memcmp(line, "id", 2) == 0) {
		if (memchr(v, '\0', vlen) == NULL)
			dec_setstr(d->last_id, v, vlen);
	} else if (flen == 5 && memcmp(line, "retry", 5) == 0) {
		for (i = 0, r = 0; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
			r = r * 10 + (v[i] - '0');
		if (vlen > 0 && i == vlen)
			d->retry = r;
	} else
		d->unknown++;
}

/* A whole stream: lines end at CR LF, LF or a lone CR. */
static void
dec_feed(struct dec *d, const char *s, size_t len)
{
	size_t	 pos = 0, e;

	while (pos < len) {
		for (e = pos; e < len && s[e] != '\r' && s[e] != '\n'; e++)
			continue;
		if (e == len) {
			d->partial = 1;
			break;
		}
		dec_line(d, s + pos, e - pos);
		if (s[e] == '\r' && e + 1 < len && s[e + 1] == '\n')
			e++;
		pos = e + 1;
	}
}

/* What the browser makes of a payload: CR LF and lone CR become LF. */
static size_t
normalize(char *out, const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			out[n++] = '\n';
			if (i + 1 < len && s[i + 1] == '\n')
				i++;
		} else
			out[n++] = s[i];
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/*
 * Encode into a heap buffer of exactly sse_encoded_max() bytes (so the
 * bound is checked under ASan too). Returns the buffer; *n is the length.
 */
static char *
encode(const char *id, const char *event, size_t event_len,
    const char *data, size_t data_len, ssize_t *n)
{
	size_t	 max;
	char	*out;

	max = sse_encoded_max(event_len, data_len);
	out = malloc(max);
	assert_non_null(out);
	*n = sse_encode(out, max, id, event, event_len, data, data_len);
	return out;
}

/*
 * The properties every encoded event has: it ends with a blank line, holds
 * no CR at all, and every line is `id: `, `event: `, `data: ` or blank.
 */
static void
check_shape(const char *s, size_t len)
{
	size_t	 pos = 0, e;

	assert_true(len >= 2);
	assert_memory_equal(s + len - 2, "\n\n", 2);
	assert_null(memchr(s, '\r', len));
	while (pos < len) {
		for (e = pos; s[e] != '\n'; e++)
			continue;
		if (e > pos)
			assert_true(strncmp(s + pos, "id: ", 4) == 0 ||
			    strncmp(s + pos, "event: ", 7) == 0 ||
			    strncmp(s + pos, "data: ", 6) == 0);
		pos = e + 1;
	}
}

/* Encode, decode, and compare with what the browser should see. */
static void
roundtrip(const char *event, size_t event_len, const char *data,
    size_t data_len)
{
	struct dec	 d;
	ssize_t		 n;
	char		*out, *want;
	size_t		 wantlen;
	const char	*type;

	out = encode(ID, event, event_len, data, data_len, &n);
	assert_true(n > 0);
	assert_true((size_t)n <= sse_encoded_max(event_len, data_len));
	check_shape(out, (size_t)n);

	dec_init(&d);
	dec_feed(&d, out, (size_t)n);
	assert_int_equal(d.partial, 0);
	assert_int_equal(d.unknown, 0);
	assert_int_equal(d.nev, 1);
	assert_string_equal(d.ev[0].id, ID);
	type = (event == NULL || event_len == 0) ? "message" : event;
	assert_int_equal(strlen(d.ev[0].type), event_len == 0 ? 7 :
	    event_len);
	assert_memory_equal(d.ev[0].type, type, strlen(d.ev[0].type));

	want = malloc(data_len + 1);
	assert_non_null(want);
	wantlen = normalize(want, data, data_len);
	assert_int_equal(d.ev[0].data_len, wantlen);
	if (wantlen > 0)
		assert_memory_equal(d.ev[0].data, want, wantlen);
	free(want);
	dec_free(&d);
	free(out);
}

/* ------------------------------------------------------------------ */
/* Exact bytes: one case per rule.                                     */

struct xcase {
	const char	*event;
	size_t		 event_len;
	const char	*data;
	size_t		 data_len;
	const char	*want;		/* NULL: sse_encode() must fail */
	size_t		 want_len;
};

/* ev, data and want are literals: lengths include embedded NULs. */
#define XCASE(nm, data, want)						\
	{ .name = nm, .test_func = run_exact, .initial_state =		\
	  &(struct xcase){ NULL, 0, data, sizeof(data) - 1,		\
	  want, sizeof(want) - 1 } }
#define XCASE_EV(nm, ev, data, want)					\
	{ .name = nm, .test_func = run_exact, .initial_state =		\
	  &(struct xcase){ ev, sizeof(ev) - 1, data, sizeof(data) - 1,	\
	  want, sizeof(want) - 1 } }
#define XFAIL(nm, ev, data)					\
	{ .name = nm, .test_func = run_exact, .initial_state =		\
	  &(struct xcase){ ev, sizeof(ev) - 1, data, sizeof(data) - 1,	\
	  NULL, 0 } }

static void
run_exact(void **state)
{
	const struct xcase	*c = *state;
	char			*evbuf = NULL;
	char			*out;
	ssize_t			 n;

	/* The name in a block of exactly its length (ASan checks reads). */
	if (c->event != NULL) {
		evbuf = malloc(c->event_len > 0 ? c->event_len : 1);
		assert_non_null(evbuf);
		memcpy(evbuf, c->event, c->event_len);
	}
	out = encode(ID, evbuf, c->event_len, c->data, c->data_len, &n);
	if (c->want == NULL)
		assert_int_equal(n, -1);
	else {
		assert_int_equal(n, c->want_len);
		assert_memory_equal(out, c->want, c->want_len);
		/* And the browser sees the intended event. */
		roundtrip(evbuf, c->event_len, c->data, c->data_len);
	}
	free(out);
	free(evbuf);
}

/* ------------------------------------------------------------------ */
/* Other rules.                                                        */

static void
test_id_with_lf_refused(void **state)
{
	char	 out[256];

	(void)state;
	assert_int_equal(sse_encode(out, sizeof(out), "1\ndata: x", NULL, 0,
	    "a", 1), -1);
}

static void
test_id_with_cr_refused(void **state)
{
	char	 out[256];

	(void)state;
	assert_int_equal(sse_encode(out, sizeof(out), "1\rdata: x", NULL, 0,
	    "a", 1), -1);
}

/* event_len bounds the name: bytes after it are not looked at. */
static void
test_event_len_respected(void **state)
{
	char	 out[256];
	ssize_t	 n;

	(void)state;
	n = sse_encode(out, sizeof(out), ID, "update\nid: 9", 6, "x", 1);
	assert_int_equal(n, sizeof("id: " ID "\nevent: update\ndata: x\n\n")
	    - 1);
	assert_memory_equal(out, "id: " ID "\nevent: update\ndata: x\n\n",
	    (size_t)n);
}

/* NULL data with length 0 is an empty event, not a crash. */
static void
test_null_data_empty(void **state)
{
	char	 out[64];
	ssize_t	 n;

	(void)state;
	n = sse_encode(out, sizeof(out), ID, NULL, 0, NULL, 0);
	assert_int_equal(n, sizeof("id: " ID "\ndata: \n\n") - 1);
	assert_memory_equal(out, "id: " ID "\ndata: \n\n", (size_t)n);
}

/*
 * Every buffer one byte short fails, with nothing written past its end
 * (each is a heap block of exactly that size); the exact size succeeds.
 */
static void
test_every_short_buffer(void **state)
{
	static const char	 data[] = "line1\r\nline2\rline3\n";
	char			 full[256], *out;
	ssize_t			 need, n;
	size_t			 sz;

	(void)state;
	need = sse_encode(full, sizeof(full), ID, "tick", 4, data,
	    sizeof(data) - 1);
	assert_true(need > 0);
	for (sz = 0; sz <= (size_t)need; sz++) {
		out = malloc(sz > 0 ? sz : 1);
		assert_non_null(out);
		n = sse_encode(out, sz, ID, "tick", 4, data, sizeof(data) - 1);
		if (sz < (size_t)need)
			assert_int_equal(n, -1);
		else {
			assert_int_equal(n, need);
			assert_memory_equal(out, full, (size_t)need);
		}
		free(out);
	}
}

/* The bound holds for the worst case: longest id and name, only CRs. */
static void
test_max_worst_case(void **state)
{
	static const size_t	 lens[] = { 0, 1, 2, 100, 4096 };
	char			 id[EVENT_ID_MAX + 1], ev[EVENT_NAME_MAX];
	char			*data, *out;
	size_t			 i, max;
	ssize_t			 n;

	(void)state;
	memset(id, '9', EVENT_ID_MAX);
	id[EVENT_ID_MAX] = '\0';
	memset(ev, 'e', sizeof(ev));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		data = malloc(lens[i] + 1);
		assert_non_null(data);
		memset(data, '\r', lens[i]);
		max = sse_encoded_max(sizeof(ev), lens[i]);
		out = malloc(max);
		assert_non_null(out);
		n = sse_encode(out, max, id, ev, sizeof(ev), data, lens[i]);
		assert_true(n > 0);
		/* n CRs are n + 1 lines of "data: \n". */
		assert_int_equal(n, 4 + EVENT_ID_MAX + 1 + 7 + sizeof(ev) +
		    1 + 7 * (lens[i] + 1) + 1);
		free(out);
		free(data);
	}
}

static void
test_max_saturates(void **state)
{
	(void)state;
	assert_true(sse_encoded_max(SIZE_MAX, 0) == SIZE_MAX);
	assert_true(sse_encoded_max(0, SIZE_MAX) == SIZE_MAX);
	assert_true(sse_encoded_max(0, SIZE_MAX / 7) == SIZE_MAX);
	assert_true(sse_encoded_max(0, 0) < 100);
}

static void
test_retry(void **state)
{
	char		 out[64];
	struct dec	 d;

	(void)state;
	assert_int_equal(sse_encode_retry(out, sizeof(out), 3000), 13);
	assert_memory_equal(out, "retry: 3000\n\n", 13);
	dec_init(&d);
	dec_feed(&d, out, 13);
	assert_int_equal(d.retry, 3000);
	assert_int_equal(d.nev, 0);
	assert_int_equal(d.partial, 0);
	dec_free(&d);
}

static void
test_retry_zero(void **state)
{
	char	 out[64];

	(void)state;
	assert_int_equal(sse_encode_retry(out, sizeof(out), 0), 10);
	assert_memory_equal(out, "retry: 0\n\n", 10);
}

static void
test_retry_too_small(void **state)
{
	char	 out[64];

	(void)state;
	/* "retry: 3000\n\n" is 13 bytes; snprintf needs room for a NUL. */
	assert_int_equal(sse_encode_retry(out, 14, 3000), 13);
	assert_int_equal(sse_encode_retry(out, 13, 3000), -1);
	assert_int_equal(sse_encode_retry(out, 0, 3000), -1);
}

static void
test_keepalive(void **state)
{
	struct dec	 d;

	(void)state;
	assert_int_equal(strlen(SSE_KEEPALIVE), SSE_KEEPALIVE_LEN);
	assert_string_equal(SSE_KEEPALIVE, ": keepalive\n\n");
	/* A comment: the browser dispatches nothing and keeps its id. */
	dec_init(&d);
	dec_feed(&d, SSE_KEEPALIVE, SSE_KEEPALIVE_LEN);
	assert_int_equal(d.nev, 0);
	assert_int_equal(d.unknown, 0);
	assert_int_equal(d.partial, 0);
	dec_free(&d);
}

/* Payloads of every kind, with and without a type. */
static void
test_roundtrip_many(void **state)
{
	static const char *const payloads[] = {
		"", "x", "hello, world", "{\"a\":1,\"b\":[1,2]}",
		" leading space", "  two spaces", "\ttab", "trailing space ",
		":looks like a comment", "data: nested", "id: 7", "retry: 1",
		"event: x", "\n", "\r", "\r\n", "\n\r", "\r\r\n", "\n\n\n",
		"a\nb\nc", "a\rb\rc", "a\r\nb\r\nc", "mixed\r\n\n\r end",
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		("\xef\xbb\xbf" "BOM first"), "last\n", "last\r", "last\r\n",
	};
	static const char *const events[] = { NULL, "update", "a:b.c-d_e" };
	size_t	 i, j;

	(void)state;
	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
		for (j = 0; j < sizeof(events) / sizeof(events[0]); j++)
			roundtrip(events[j], events[j] == NULL ? 0 :
			    strlen(events[j]), payloads[i],
			    strlen(payloads[i]));
}

/* A NUL is a character to the browser: it stays inside its line. */
static void
test_roundtrip_nul(void **state)
{
	(void)state;
	roundtrip(NULL, 0, "a\0b", 3);
	roundtrip(NULL, 0, "\0", 1);
	roundtrip(NULL, 0, "\r\0\n", 3);
}

/* Every string of up to 4 bytes over the bytes that matter. */
static void
test_roundtrip_exhaustive(void **state)
{
	static const char	 alpha[] = { 'a', ' ', '\r', '\n', ':', '\0' };
	const size_t		 na = sizeof(alpha);
	char			 s[4];
	size_t			 len, k, idx, total;

	(void)state;
	for (len = 0; len <= 4; len++) {
		for (total = 1, k = 0; k < len; k++)
			total *= na;
		for (idx = 0; idx < total; idx++) {
			size_t	 v = idx;

			for (k = 0; k < len; k++) {
				s[k] = alpha[v % na];
				v /= na;
			}
			roundtrip(NULL, 0, s, len);
		}
	}
}

/* A long line of 60000 bytes and one of 30000 short lines. */
static void
test_roundtrip_large(void **state)
{
	char	*s;
	size_t	 i, len = 60000;

	(void)state;
	s = malloc(len);
	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	roundtrip("big", 3, s, len);
	for (i = 0; i < len; i++)
		s[i] = (i % 2) ? '\n' : 'z';
	roundtrip("big", 3, s, len);
	free(s);
}

/*
 * Two events back to back, the payload cut at every point: whatever the
 * first half ends with (a CR, say) and the second begins with (a LF), the
 * browser sees two events with their own ids and data, nothing merged.
 */
static void
test_roundtrip_every_split(void **state)
{
	static const char *const tricky[] = {
		"a\r\nb", "\rid: 99\n", "\r\n\r\n", " x\r",
		"data: y\n\nevent: z\r", ":c\r\n:d", "\n\nid: 5\r\r",
	};
	struct dec	 d;
	char		*e1, *e2, *both, *want;
	size_t		 t, i, len, wl;
	ssize_t		 n1, n2;

	(void)state;
	for (t = 0; t < sizeof(tricky) / sizeof(tricky[0]); t++) {
		len = strlen(tricky[t]);
		for (i = 0; i <= len; i++) {
			e1 = encode("e-1", NULL, 0, tricky[t], i, &n1);
			e2 = encode("e-2", "second", 6, tricky[t] + i, len - i,
			    &n2);
			assert_true(n1 > 0 && n2 > 0);
			both = malloc((size_t)(n1 + n2));
			assert_non_null(both);
			memcpy(both, e1, (size_t)n1);
			memcpy(both + n1, e2, (size_t)n2);

			dec_init(&d);
			dec_feed(&d, both, (size_t)(n1 + n2));
			assert_int_equal(d.partial, 0);
			assert_int_equal(d.unknown, 0);
			assert_int_equal(d.nev, 2);
			assert_string_equal(d.ev[0].id, "e-1");
			assert_string_equal(d.ev[0].type, "message");
			assert_string_equal(d.ev[1].id, "e-2");
			assert_string_equal(d.ev[1].type, "second");

			want = malloc(len + 1);
			assert_non_null(want);
			wl = normalize(want, tricky[t], i);
			assert_int_equal(d.ev[0].data_len, wl);
			assert_memory_equal(d.ev[0].data, want, wl);
			wl = normalize(want, tricky[t] + i, len - i);
			assert_int_equal(d.ev[1].data_len, wl);
			assert_memory_equal(d.ev[1].data, want, wl);

			free(want);
			dec_free(&d);
			free(both);
			free(e1);
			free(e2);
		}
	}
}

#define HEAD	"id: " ID "\n"

static const struct CMUnitTest tests[] = {
	/* Data lines and injection attempts. */
	XCASE("data: one line", "hello", HEAD "data: hello\n\n"),
	XCASE("data: empty is one empty data line", "",
	    HEAD "data: \n\n"),
	XCASE("data: leading space kept", " x",
	    HEAD "data:  x\n\n"),
	XCASE("data: LF splits", "a\nb",
	    HEAD "data: a\ndata: b\n\n"),
	XCASE("data: lone CR splits", "a\rb",
	    HEAD "data: a\ndata: b\n\n"),
	XCASE("data: CR LF is one break", "a\r\nb",
	    HEAD "data: a\ndata: b\n\n"),
	XCASE("data: LF CR is two breaks", "a\n\rb",
	    HEAD "data: a\ndata: \ndata: b\n\n"),
	XCASE("data: CR CR LF is two breaks", "a\r\r\nb",
	    HEAD "data: a\ndata: \ndata: b\n\n"),
	XCASE("inject: CR then id line", "\rid: 99",
	    HEAD "data: \ndata: id: 99\n\n"),
	XCASE("inject: LF then id line", "x\nid: 99",
	    HEAD "data: x\ndata: id: 99\n\n"),
	XCASE("inject: blank line then event", "\n\nevent: x",
	    HEAD "data: \ndata: \ndata: event: x\n\n"),
	XCASE("inject: CR CR then event", "\r\revent: x",
	    HEAD "data: \ndata: \ndata: event: x\n\n"),
	XCASE("inject: retry line", "\r\nretry: 1",
	    HEAD "data: \ndata: retry: 1\n\n"),
	XCASE("data: lone CR at end", "abc\r",
	    HEAD "data: abc\ndata: \n\n"),
	XCASE("data: LF at end", "abc\n",
	    HEAD "data: abc\ndata: \n\n"),
	XCASE("data: CR LF at end", "abc\r\n",
	    HEAD "data: abc\ndata: \n\n"),
	XCASE("data: only CR", "\r", HEAD "data: \ndata: \n\n"),
	XCASE("data: colon first", ":x", HEAD "data: :x\n\n"),
	XCASE("data: NUL kept in line", "a\0b",
	    HEAD "data: a\0b\n\n"),

	/* The event line. */
	XCASE("event: NULL means none", "x", HEAD "data: x\n\n"),
	XCASE_EV("event: empty means none", "", "x", HEAD "data: x\n\n"),
	XCASE_EV("event: message is the default", "message", "x",
	    HEAD "data: x\n\n"),
	XCASE_EV("event: named", "update", "x",
	    HEAD "event: update\ndata: x\n\n"),
	XCASE_EV("event: messages is not message", "messages", "x",
	    HEAD "event: messages\ndata: x\n\n"),
	XFAIL("event: LF refused", "a\ndata: x", "x"),
	XFAIL("event: CR refused", "a\rdata: x", "x"),
	XFAIL("event: CR LF refused", "a\r\n", "x"),
	XFAIL("event: NUL refused", "a\0b", "x"),

	cmocka_unit_test(test_id_with_lf_refused),
	cmocka_unit_test(test_id_with_cr_refused),
	cmocka_unit_test(test_event_len_respected),
	cmocka_unit_test(test_null_data_empty),
	cmocka_unit_test(test_every_short_buffer),
	cmocka_unit_test(test_max_worst_case),
	cmocka_unit_test(test_max_saturates),
	cmocka_unit_test(test_retry),
	cmocka_unit_test(test_retry_zero),
	cmocka_unit_test(test_retry_too_small),
	cmocka_unit_test(test_keepalive),
	cmocka_unit_test(test_roundtrip_many),
	cmocka_unit_test(test_roundtrip_nul),
	cmocka_unit_test(test_roundtrip_exhaustive),
	cmocka_unit_test(test_roundtrip_large),
	cmocka_unit_test(test_roundtrip_every_split),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
