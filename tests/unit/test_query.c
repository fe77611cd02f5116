/*
 * test_query.c: backend/query.c, one named case per rule.
 *
 * Each case iterates a whole input and renders the pairs as
 * "name=value|name=value|", bytes outside printable ASCII (and '|', '<')
 * shown as <hh>, then checks the rendering and the final return code. The
 * input and both output buffers are heap blocks of exactly the given size,
 * so a read or write past any of them fails under ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "query.h"

struct qcase {
	const char	*s;
	size_t		 len;
	size_t		 namesz, valuesz;
	const char	*want;		/* rendered pairs */
	int		 rc;		/* what ends the iteration */
};

#define CASE_SZ(nm, s, nsz, vsz, want, rc)				\
	{ .name = nm, .test_func = run_case, .initial_state =		\
	  &(struct qcase){ s, sizeof(s) - 1, nsz, vsz, want, rc } }
#define CASE(nm, s, want, rc)	CASE_SZ(nm, s, 64, 64, want, rc)

static void
render(char *out, size_t outsz, const char *s, size_t len)
{
	size_t	 i, n = strlen(out);
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '|' || c == '<')
			n += (size_t)snprintf(out + n, outsz - n, "<%02x>", c);
		else
			n += (size_t)snprintf(out + n, outsz - n, "%c", c);
		assert_true(n < outsz);
	}
}

static void
run_case(void **state)
{
	const struct qcase	*c = *state;
	struct query_iter	 it;
	char			*in, *name, *value;
	char			 got[1024] = "";
	size_t			 nl, vl;
	int			 rc;

	in = malloc(c->len > 0 ? c->len : 1);
	name = malloc(c->namesz > 0 ? c->namesz : 1);
	value = malloc(c->valuesz > 0 ? c->valuesz : 1);
	assert_non_null(in);
	assert_non_null(name);
	assert_non_null(value);
	memcpy(in, c->s, c->len);

	query_iter_init(&it, in, c->len);
	while ((rc = query_next(&it, name, c->namesz, &nl, value,
	    c->valuesz, &vl)) == QUERY_OK) {
		/* Lengths are exact and both outputs NUL-terminated. */
		assert_true(nl < c->namesz);
		assert_true(vl < c->valuesz);
		assert_int_equal(name[nl], '\0');
		assert_int_equal(value[vl], '\0');
		render(got, sizeof(got), name, nl);
		render(got, sizeof(got), "=", 1);
		render(got, sizeof(got), value, vl);
		strcat(got, "|");
	}
	assert_string_equal(got, c->want);
	assert_int_equal(rc, c->rc);
	/* After the end or an error, the iterator stays at the end. */
	assert_int_equal(query_next(&it, name, c->namesz, &nl, value,
	    c->valuesz, &vl), QUERY_END);
	free(in);
	free(name);
	free(value);
}

/* Only len bytes are looked at. */
static void
test_respects_len(void **state)
{
	struct query_iter	 it;
	char			 n[8], v[8];
	size_t			 nl, vl;

	(void)state;
	query_iter_init(&it, "a=1&b=2", 3);
	assert_int_equal(query_next(&it, n, sizeof(n), &nl, v, sizeof(v),
	    &vl), QUERY_OK);
	assert_string_equal(n, "a");
	assert_string_equal(v, "1");
	assert_int_equal(query_next(&it, n, sizeof(n), &nl, v, sizeof(v),
	    &vl), QUERY_END);
	/* "%41" cut after "%4" is a truncated escape, not "A". */
	query_iter_init(&it, "a=%41", 4);
	assert_int_equal(query_next(&it, n, sizeof(n), &nl, v, sizeof(v),
	    &vl), QUERY_E_ESCAPE);
}

static void
test_null_input(void **state)
{
	struct query_iter	 it;
	char			 n[8], v[8];
	size_t			 nl, vl;

	(void)state;
	query_iter_init(&it, NULL, 0);
	assert_int_equal(query_next(&it, n, sizeof(n), &nl, v, sizeof(v),
	    &vl), QUERY_END);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_respects_len),
	cmocka_unit_test(test_null_input),

	/* Splitting (WHATWG URL, form-urlencoded parsing, steps 1-3). */
	CASE("split: two pairs", "a=1&b=2", "a=1|b=2|", QUERY_END),
	CASE("split: empty input", "", "", QUERY_END),
	CASE("split: empty piece skipped", "a=1&&b=2", "a=1|b=2|", QUERY_END),
	CASE("split: leading and trailing &", "&a=1&", "a=1|", QUERY_END),
	CASE("split: only &", "&&&", "", QUERY_END),
	CASE("split: no '=' is an empty value", "flag", "flag=|", QUERY_END),
	CASE("split: '=' with nothing after", "a=", "a=|", QUERY_END),
	CASE("split: empty name", "=1", "=1|", QUERY_END),
	CASE("split: only '='", "=", "=|", QUERY_END),
	CASE("split: at the first '='", "a=b=c", "a=b=c|", QUERY_END),
	CASE("split: ';' is not a separator", "a=1;b=2", "a=1;b=2|",
	    QUERY_END),
	CASE("split: same name twice is two pairs", "a=1&a=2", "a=1|a=2|",
	    QUERY_END),

	/* Decoding. */
	CASE("plus: becomes a space", "a+b=c+d", "a b=c d|", QUERY_END),
	CASE("plus: many", "q=++", "q=  |", QUERY_END),
	CASE("pct: uppercase hex", "%41=%4A", "A=J|", QUERY_END),
	CASE("pct: lowercase hex", "%61=%4a", "a=J|", QUERY_END),
	CASE("pct: %2B is a literal plus", "a=%2B", "a=+|", QUERY_END),
	CASE("pct: %26 does not split", "a=%261&b=2", "a=&1|b=2|",
	    QUERY_END),
	CASE("pct: %3D in the name does not split", "a%3Db=c", "a=b=c|",
	    QUERY_END),
	CASE("pct: %20 is a space", "a=x%20y", "a=x y|", QUERY_END),
	CASE("pct: UTF-8 bytes", "a=%C3%A9", "a=<c3><a9>|", QUERY_END),
	CASE("pct: %00 is a NUL byte, kept", "a=x%00y", "a=x<00>y|",
	    QUERY_END),
	CASE("pct: %00 in the name", "%00=1", "<00>=1|", QUERY_END),
	CASE("pct: %FF high byte", "a=%ff", "a=<ff>|", QUERY_END),
	CASE("raw: bytes pass through", "a=\xc3\xa9", "a=<c3><a9>|",
	    QUERY_END),

	/* Bad escapes (we refuse what WHATWG would pass through). */
	CASE("escape: lone %", "a=%", "", QUERY_E_ESCAPE),
	CASE("escape: truncated %4", "a=%4", "", QUERY_E_ESCAPE),
	CASE("escape: %4 before &", "a=%4&b=1", "", QUERY_E_ESCAPE),
	CASE("escape: not hex %zz", "a=%zz", "", QUERY_E_ESCAPE),
	CASE("escape: second digit not hex", "a=%4g", "", QUERY_E_ESCAPE),
	CASE("escape: in the name", "%=1", "", QUERY_E_ESCAPE),
	CASE("escape: %+1 is not hex", "a=%+1", "", QUERY_E_ESCAPE),
	CASE("escape: after a good pair", "a=1&b=%", "a=1|",
	    QUERY_E_ESCAPE),
	CASE("escape: stops the iteration", "a=%&b=2", "", QUERY_E_ESCAPE),

	/* Sizes: namesz and valuesz count the NUL. */
	CASE_SZ("size: value fills buffer", "a=abc", 2, 4, "a=abc|",
	    QUERY_END),
	CASE_SZ("size: value one too long", "a=abcd", 2, 4, "",
	    QUERY_E_TOOLONG),
	CASE_SZ("size: name one too long", "ab=1", 2, 4, "",
	    QUERY_E_TOOLONG),
	CASE_SZ("size: decoded length counts", "a=%41%42%43", 2, 4,
	    "a=ABC|", QUERY_END),
	CASE_SZ("size: empty value in 1 byte", "a=", 2, 1, "a=|", QUERY_END),
	CASE_SZ("size: too long after a good pair", "a=1&b=long", 2, 4,
	    "a=1|", QUERY_E_TOOLONG),
	CASE_SZ("size: zero-size name buffer", "a=1", 0, 4, "",
	    QUERY_E_TOOLONG),
};

int
main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
