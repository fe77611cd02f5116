/*
 * query.c: application/x-www-form-urlencoded (query.h).
 *
 * WHATWG URL, "application/x-www-form-urlencoded parsing": split on '&',
 * skip empty pieces, split each piece at its first '=', replace '+' with a
 * space, then percent-decode.
 *
 * Deliberate difference: the standard passes a '%' that is not followed by
 * two hex digits through as a literal '%'. We refuse it (QUERY_E_ESCAPE):
 * such input comes from a broken client or a probe, and guessing what it
 * meant is how two parsers come to disagree about one request.
 */
#include <stddef.h>

#include "query.h"

void
query_iter_init(struct query_iter *it, const char *s, size_t len)
{
	it->p = s;
	it->end = (s == NULL) ? s : s + len;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode [s, end) into out (outsz bytes, room for the NUL included).
 * Returns QUERY_OK and the decoded length in *outlen, or an error.
 */
static int
decode(const char *s, const char *end, char *out, size_t outsz,
    size_t *outlen)
{
	size_t	 n = 0;
	int	 hi, lo;
	char	 c;

	if (out == NULL || outsz == 0)
		return QUERY_E_TOOLONG;
	while (s < end) {
		c = *s;
		if (c == '%') {
			/* Two more bytes must exist before we look at them. */
			if (end - s < 3)
				return QUERY_E_ESCAPE;
			hi = hexval((unsigned char)s[1]);
			lo = hexval((unsigned char)s[2]);
			if (hi == -1 || lo == -1)
				return QUERY_E_ESCAPE;
			c = (char)(unsigned char)(hi << 4 | lo);
			s += 3;
		} else {
			if (c == '+')
				c = ' ';
			s++;
		}
		/* Keep one byte for the NUL. */
		if (n >= outsz - 1)
			return QUERY_E_TOOLONG;
		out[n++] = c;
	}
	out[n] = '\0';
	*outlen = n;
	return QUERY_OK;
}

int
query_next(struct query_iter *it, char *name, size_t namesz,
    size_t *namelen, char *value, size_t valuesz, size_t *valuelen)
{
	const char	*piece, *eq, *amp;
	size_t		 nl = 0, vl = 0;
	int		 rc;

	/* Skip empty pieces ("a=1&&b=2", a leading or trailing '&'). */
	while (it->p != NULL && it->p < it->end && *it->p == '&')
		it->p++;
	if (it->p == NULL || it->p >= it->end)
		return QUERY_END;

	piece = it->p;
	for (amp = piece; amp < it->end && *amp != '&'; amp++)
		continue;
	for (eq = piece; eq < amp && *eq != '='; eq++)
		continue;

	if ((rc = decode(piece, eq, name, namesz, &nl)) != QUERY_OK)
		goto fail;
	/* No '=' means an empty value, not a missing one. */
	if ((rc = decode(eq < amp ? eq + 1 : amp, amp, value, valuesz,
	    &vl)) != QUERY_OK)
		goto fail;

	it->p = amp;
	if (namelen != NULL)
		*namelen = nl;
	if (valuelen != NULL)
		*valuelen = vl;
	return QUERY_OK;
fail:
	it->p = it->end;
	return rc;
}
