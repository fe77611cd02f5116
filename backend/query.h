/*
 * query.h: application/x-www-form-urlencoded, as used by query strings and
 * form bodies (WHATWG URL, "application/x-www-form-urlencoded parsing").
 *
 * An iterator over name=value pairs that decodes '+' and %XX into caller
 * buffers. It never allocates and never reads past the end given.
 */
#ifndef SSEREPLAY_QUERY_H
#define SSEREPLAY_QUERY_H

#include <stddef.h>

enum query_err {
	QUERY_OK	= 0,
	QUERY_END	= 1,	/* no more pairs */
	QUERY_E_ESCAPE	= -1,	/* '%' not followed by two hex digits */
	QUERY_E_TOOLONG	= -2,	/* a decoded name or value does not fit */
};

struct query_iter {
	const char	*p;
	const char	*end;
};

/* Start iterating over (s, len). s need not be NUL-terminated. */
void query_iter_init(struct query_iter *it, const char *s, size_t len);

/*
 * Decode the next pair. Empty pieces ("a=1&&b=2") are skipped; a piece with
 * no '=' has an empty value. name and value are written NUL-terminated
 * (decoded bytes may include NUL: use the lengths). Returns QUERY_OK,
 * QUERY_END, or a negative enum query_err; after an error the iterator is
 * left at the end.
 */
int query_next(struct query_iter *it, char *name, size_t namesz,
    size_t *namelen, char *value, size_t valuesz, size_t *valuelen);

#endif
