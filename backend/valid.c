/*
 * valid.c: the grammar of names from outside (valid.h).
 *
 * Topics and event names are checked against a closed set of bytes rather
 * than "anything printable": they appear in SQL parameters, in URLs, in log
 * lines and, for event names, on an `event:` line of the stream, so a small
 * alphabet with no separators, spaces, CR, LF or NUL keeps every one of those
 * places safe without escaping.
 */
#include <stddef.h>

#include "bounds.h"
#include "valid.h"

/* [A-Za-z0-9] and the bytes of extra (a NUL-terminated list). */
static int
name_byte(unsigned char c, const char *extra)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	/* c == 0 would match extra's terminator: NUL is never allowed. */
	for (; c != '\0' && *extra != '\0'; extra++)
		if ((unsigned char)*extra == c)
			return 1;
	return 0;
}

static int
valid_name(const char *s, size_t len, size_t max, const char *extra)
{
	size_t	 i;

	if (s == NULL || len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (!name_byte((unsigned char)s[i], extra))
			return 0;
	return 1;
}

int
valid_topic(const char *s, size_t len)
{
	return valid_name(s, len, TOPIC_MAX, "._/-");
}

int
valid_event_name(const char *s, size_t len)
{
	return valid_name(s, len, EVENT_NAME_MAX, "._:-");
}

/*
 * RFC 3629, section 4 (UTF8-octets), taken literally:
 *
 *   UTF8-1 = %x00-7F
 *   UTF8-2 = %xC2-DF UTF8-tail
 *   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 *   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *            %xF4 %x80-8F 2( UTF8-tail )
 *
 * The narrowed second-byte ranges are what exclude overlong forms (C0, C1,
 * E0 80-9F, F0 80-8F), surrogates (ED A0-BF) and code points above U+10FFFF
 * (F4 90-BF, F5-FF).
 */
int
valid_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	unsigned char		 lo, hi;

	if (len > 0 && s == NULL)
		return 0;
	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xBF;
		if (p[i] >= 0xC2 && p[i] <= 0xDF)
			n = 1;
		else if (p[i] == 0xE0) {
			n = 2;
			lo = 0xA0;
		} else if (p[i] == 0xED) {
			n = 2;
			hi = 0x9F;
		} else if (p[i] >= 0xE1 && p[i] <= 0xEF)
			n = 2;
		else if (p[i] == 0xF0) {
			n = 3;
			lo = 0x90;
		} else if (p[i] >= 0xF1 && p[i] <= 0xF3)
			n = 3;
		else if (p[i] == 0xF4) {
			n = 3;
			hi = 0x8F;
		} else
			return 0;
		/* Check the length on the safe side before reading on. */
		if (len - i - 1 < n)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k <= n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return 0;
		i += n + 1;
	}
	return 1;
}
