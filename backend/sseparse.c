/*
 * sseparse.c: the WHATWG event stream interpretation; see sseparse.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sseparse.h"

static const char BOM[3] = { '\xef', '\xbb', '\xbf' };

int
sseparse_init(struct sseparse *p, size_t line_max, size_t data_max,
    sseparse_cb cb, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->line_max = line_max ? line_max : SSEPARSE_LINE_DEFAULT;
	p->data_max = data_max ? data_max : SSEPARSE_DATA_DEFAULT;
	p->cb = cb;
	p->arg = arg;
	p->line = malloc(p->line_max);
	p->data = malloc(p->data_max + 1);
	if (p->line == NULL || p->data == NULL) {
		sseparse_free(p);
		return -1;
	}
	return 0;
}

void
sseparse_free(struct sseparse *p)
{
	if (p == NULL)
		return;
	free(p->line);
	free(p->data);
	p->line = p->data = NULL;
}

void
sseparse_reconnect(struct sseparse *p)
{
	p->line_len = 0;
	p->data_len = 0;
	p->type_len = 0;
	p->type[0] = '\0';
	/* The ID buffer restarts from the last event ID string. */
	memcpy(p->idbuf, p->lastid, p->lastid_len);
	p->idbuf_len = p->lastid_len;
	p->bom = 0;
	p->cr = 0;
	p->failed = 0;
}

const char *
sseparse_last_id(const struct sseparse *p, size_t *len)
{
	if (len != NULL)
		*len = p->lastid_len;
	return p->lastid;
}

/* "Dispatch the event", step by step. 0, or SSEPARSE_STOPPED. */
static int
dispatch(struct sseparse *p)
{
	struct sseparse_item	 it;

	memcpy(p->lastid, p->idbuf, p->idbuf_len);
	p->lastid_len = p->idbuf_len;
	p->lastid[p->lastid_len] = '\0';
	if (p->data_len == 0) {
		p->type_len = 0;
		return 0;
	}
	p->data_len--;			/* the data buffer's last LF */
	p->data[p->data_len] = '\0';
	p->type[p->type_len] = '\0';
	memset(&it, 0, sizeof(it));
	it.kind = SSEPARSE_EVENT;
	it.type = p->type_len ? p->type : "message";
	it.data = p->data;
	it.data_len = p->data_len;
	it.id = p->lastid;
	it.id_len = p->lastid_len;
	p->data_len = 0;
	p->type_len = 0;
	return p->cb != NULL && p->cb(p->arg, &it) != 0 ? SSEPARSE_STOPPED : 0;
}

static int
field(struct sseparse *p, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	struct sseparse_item	 it;
	uint64_t		 ms;
	size_t			 i;

	if (nlen == 5 && memcmp(name, "event", 5) == 0) {
		if (vlen > SSEPARSE_TYPE_MAX)
			return SSEPARSE_ETOOLONG;
		memcpy(p->type, v, vlen);
		p->type_len = vlen;
	} else if (nlen == 4 && memcmp(name, "data", 4) == 0) {
		if (vlen + 1 > p->data_max - p->data_len)
			return SSEPARSE_ETOOLONG;
		memcpy(p->data + p->data_len, v, vlen);
		p->data_len += vlen;
		p->data[p->data_len++] = '\n';
	} else if (nlen == 2 && memcmp(name, "id", 2) == 0) {
		if (memchr(v, '\0', vlen) != NULL)
			return 0;	/* "ignore the field" */
		if (vlen > SSEPARSE_ID_MAX)
			return SSEPARSE_ETOOLONG;
		memcpy(p->idbuf, v, vlen);
		p->idbuf_len = vlen;
	} else if (nlen == 5 && memcmp(name, "retry", 5) == 0) {
		if (vlen == 0)
			return 0;
		ms = 0;
		for (i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return 0;
			/* Saturate: a huge value means "very long". */
			if (ms < UINT64_MAX / 10 - 10)
				ms = ms * 10 + (uint64_t)(v[i] - '0');
		}
		memset(&it, 0, sizeof(it));
		it.kind = SSEPARSE_RETRY;
		it.retry_ms = ms;
		if (p->cb != NULL && p->cb(p->arg, &it) != 0)
			return SSEPARSE_STOPPED;
	}
	return 0;
}

static int
line(struct sseparse *p)
{
	struct sseparse_item	 it;
	const char		*l = p->line, *colon, *v;
	size_t			 n = p->line_len, nlen, vlen;

	p->line_len = 0;
	if (n == 0)
		return dispatch(p);
	if (l[0] == ':') {
		memset(&it, 0, sizeof(it));
		it.kind = SSEPARSE_COMMENT;
		it.data = l + 1;
		it.data_len = n - 1;
		if (p->cb != NULL && p->cb(p->arg, &it) != 0)
			return SSEPARSE_STOPPED;
		return 0;
	}
	colon = memchr(l, ':', n);
	if (colon == NULL)
		return field(p, l, n, "", 0);
	nlen = (size_t)(colon - l);
	v = colon + 1;
	vlen = n - nlen - 1;
	if (vlen > 0 && v[0] == ' ') {
		v++;
		vlen--;
	}
	return field(p, l, nlen, v, vlen);
}

/* Bytes past the BOM check. */
static int
lines(struct sseparse *p, const char *buf, size_t len)
{
	size_t	 i = 0, k;
	int	 rc;

	while (i < len) {
		if (p->cr) {
			p->cr = 0;
			if (buf[i] == '\n') {
				i++;
				continue;
			}
		}
		for (k = i; k < len && buf[k] != '\r' && buf[k] != '\n'; k++)
			;
		if (k - i > p->line_max - p->line_len)
			return SSEPARSE_ETOOLONG;
		memcpy(p->line + p->line_len, buf + i, k - i);
		p->line_len += k - i;
		if (k == len)
			break;
		p->cr = buf[k] == '\r';
		i = k + 1;
		if ((rc = line(p)) != 0)
			return rc;
	}
	return 0;
}

int
sseparse_feed(struct sseparse *p, const char *buf, size_t len)
{
	int	 rc;

	if (p->failed)
		return SSEPARSE_EFAILED;
	/* The BOM may itself be split; a partial match is content. */
	while (p->bom >= 0 && len > 0) {
		if (buf[0] == BOM[p->bom]) {
			buf++;
			len--;
			if (++p->bom == 3)
				p->bom = -1;
			continue;
		}
		rc = lines(p, BOM, (size_t)p->bom);
		p->bom = -1;
		if (rc != 0)
			goto fail;
	}
	if ((rc = lines(p, buf, len)) != 0)
		goto fail;
	return 0;
fail:
	p->failed = 1;		/* an error, or stopped: until reconnect */
	return rc;
}
