/* wsmsg.c: JSON messages of the WebSocket endpoint. See wsmsg.h. */
#include <stdint.h>
#include <string.h>

#include "valid.h"
#include "wsconn.h"
#include "wsmsg.h"

/* Bytes s takes as the inside of a JSON string. */
static size_t
json_escaped_len(const char *s, size_t len)
{
	size_t	 n = len, i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c == '\n' || c == '\r' ||
		    c == '\t' || c == '\b' || c == '\f')
			n += 1;
		else if (c < 0x20)
			n += 5;		/* \u00XX */
	}
	return n;
}

static char *
json_escape(char *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 c;
	size_t		 i;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':	*out++ = '\\'; *out++ = '"'; break;
		case '\\':	*out++ = '\\'; *out++ = '\\'; break;
		case '\n':	*out++ = '\\'; *out++ = 'n'; break;
		case '\r':	*out++ = '\\'; *out++ = 'r'; break;
		case '\t':	*out++ = '\\'; *out++ = 't'; break;
		case '\b':	*out++ = '\\'; *out++ = 'b'; break;
		case '\f':	*out++ = '\\'; *out++ = 'f'; break;
		default:
			if (c < 0x20) {
				memcpy(out, "\\u00", 4);
				out[4] = hex[c >> 4];
				out[5] = hex[c & 0xf];
				out += 6;
			} else
				*out++ = (char)c;
		}
	}
	return out;
}

/* A JSON member list: pairs of (literal text, string to escape or NULL). */
struct piece {
	const char	*lit;		/* copied as is */
	const char	*str;		/* escaped, if not NULL */
	size_t		 len;
};

static ssize_t
emit(char *out, size_t outsz, const struct piece *p, size_t n, int frame)
{
	unsigned char	 hdr[WS_HEADER_MAX];
	size_t		 payload = 0, hlen = 0, i;
	char		*o;

	for (i = 0; i < n; i++) {
		payload += strlen(p[i].lit);
		if (p[i].str != NULL) {
			if (!valid_utf8(p[i].str, p[i].len))
				return -1;
			payload += json_escaped_len(p[i].str, p[i].len);
		}
	}
	if (frame)
		hlen = ws_text_header(hdr, payload);
	if (hlen + payload > outsz)
		return -1;
	memcpy(out, hdr, hlen);
	o = out + hlen;
	for (i = 0; i < n; i++) {
		memcpy(o, p[i].lit, strlen(p[i].lit));
		o += strlen(p[i].lit);
		if (p[i].str != NULL)
			o = json_escape(o, p[i].str, p[i].len);
	}
	return (ssize_t)(o - out);
}

size_t
wsmsg_event_max(size_t topic_len, size_t event_len, size_t data_len)
{
	/* Header, 45 bytes of literal JSON, an id, 6 bytes per byte. */
	return WS_HEADER_MAX + 64 + 64 + 6 * (topic_len + event_len +
	    data_len) + sizeof("message");
}

ssize_t
wsmsg_event(char *out, size_t outsz, const char *id, const char *topic,
    size_t topic_len, const char *event, size_t event_len, const char *data,
    size_t data_len)
{
	struct piece p[5];

	if (event_len == 0) {
		event = "message";
		event_len = 7;
	}
	p[0] = (struct piece){ "{\"id\":\"", id, strlen(id) };
	p[1] = (struct piece){ "\",\"topic\":\"", topic, topic_len };
	p[2] = (struct piece){ "\",\"event\":\"", event, event_len };
	p[3] = (struct piece){ "\",\"data\":\"", data, data_len };
	p[4] = (struct piece){ "\"}", NULL, 0 };
	return emit(out, outsz, p, 5, 1);
}

ssize_t
wsmsg_gap(char *out, size_t outsz, const char *id, const char *asked,
    const char *first)
{
	struct piece p[4];

	p[0] = (struct piece){ "{\"id\":\"", id, strlen(id) };
	p[1] = (struct piece){ "\",\"gap\":{\"lastEventId\":\"", asked,
	    strlen(asked) };
	if (first != NULL) {
		p[2] = (struct piece){ "\",\"firstAvailableId\":\"", first,
		    strlen(first) };
		p[3] = (struct piece){ "\"}}", NULL, 0 };
	} else {
		p[2] = (struct piece){ "\",\"firstAvailableId\":null}}", NULL,
		    0 };
		return emit(out, outsz, p, 3, 1);
	}
	return emit(out, outsz, p, 4, 1);
}

ssize_t
wsmsg_ack(char *out, size_t outsz, const char *id)
{
	struct piece p[2];

	p[0] = (struct piece){ "{\"ack\":\"", id, strlen(id) };
	p[1] = (struct piece){ "\"}", NULL, 0 };
	return emit(out, outsz, p, 2, 0);
}

ssize_t
wsmsg_error(char *out, size_t outsz, const char *reason)
{
	struct piece p[2];

	p[0] = (struct piece){ "{\"error\":\"", reason, strlen(reason) };
	p[1] = (struct piece){ "\"}", NULL, 0 };
	return emit(out, outsz, p, 2, 0);
}
