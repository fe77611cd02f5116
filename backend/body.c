/*
 * body.c: the body of POST /publish (body.h).
 *
 * Two encodings, one set of rules. Both feed set_field(), so a field means
 * the same thing whichever way it arrives, and both refuse unknown and
 * repeated fields: a misspelt "evnet" or a second "topic" is an error, never
 * a silent choice.
 *
 *   form:  WHATWG URL, "application/x-www-form-urlencoded parsing", through
 *          query.h (which also refuses malformed %-escapes).
 *   JSON:  RFC 8259 through Jansson, with duplicate keys refused and NUL
 *          allowed inside strings (it is valid UTF-8 and a form body can
 *          carry it as %00); topic and event then go through valid.h, whose
 *          alphabets exclude NUL.
 *
 * Deliberate omission: the charset parameter of Content-Type is not looked
 * at. Both formats are UTF-8 by definition and the data is checked to be
 * well-formed UTF-8 (RFC 3629), so a wrong label cannot smuggle anything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "body.h"
#include "bounds.h"
#include "query.h"
#include "valid.h"

/* The limits, as text for the messages. */
#define STR1(x)		#x
#define STR(x)		STR1(x)

#define HTTP_OK			0
#define HTTP_BAD_REQUEST	400
#define HTTP_TOO_LARGE		413
#define HTTP_UNSUPPORTED	415
#define HTTP_INTERNAL		500

enum body_kind {
	BODY_FORM,
	BODY_JSON,
};

/* Which fields have been seen, to refuse repeats and find missing ones. */
#define SEEN_TOPIC	0x1
#define SEEN_EVENT	0x2
#define SEEN_DATA	0x4

/*
 * The media type of a Content-Type value (RFC 9110, section 8.3.1:
 * type "/" subtype, case-insensitive, then optional OWS ";" parameters).
 * Returns 0 and the kind, or -1 for anything we do not take.
 */
static int
media_type(const char *ct, enum body_kind *kind)
{
	static const char	 form[] = "application/x-www-form-urlencoded";
	static const char	 json[] = "application/json";
	size_t			 n;

	if (ct == NULL)
		return -1;
	ct += strspn(ct, " \t");
	n = strcspn(ct, "; \t");
	if (n == sizeof(form) - 1 && strncasecmp(ct, form, n) == 0)
		*kind = BODY_FORM;
	else if (n == sizeof(json) - 1 && strncasecmp(ct, json, n) == 0)
		*kind = BODY_JSON;
	else
		return -1;
	ct += n;
	ct += strspn(ct, " \t");
	return (*ct == '\0' || *ct == ';') ? 0 : -1;
}

/*
 * Take one field. val need not be NUL-terminated and may hold NUL bytes
 * (rejected for topic and event by their alphabets). Copies what it keeps.
 * Returns 0 or the HTTP status, with *reason set.
 */
static int
set_field(struct publish_req *out, unsigned *seen, const char *name,
    size_t namelen, const char *val, size_t vallen, size_t max_data,
    const char **reason)
{
	if (namelen == 5 && memcmp(name, "topic", 5) == 0) {
		if (*seen & SEEN_TOPIC) {
			*reason = "repeated field: topic";
			return HTTP_BAD_REQUEST;
		}
		*seen |= SEEN_TOPIC;
		/* valid_topic() bounds vallen by TOPIC_MAX: it fits. */
		if (!valid_topic(val, vallen)) {
			*reason = "bad topic: 1 to " STR(TOPIC_MAX)
			    " bytes of A-Z a-z 0-9 . _ / -";
			return HTTP_BAD_REQUEST;
		}
		memcpy(out->topic, val, vallen);
		out->topic[vallen] = '\0';
	} else if (namelen == 5 && memcmp(name, "event", 5) == 0) {
		if (*seen & SEEN_EVENT) {
			*reason = "repeated field: event";
			return HTTP_BAD_REQUEST;
		}
		*seen |= SEEN_EVENT;
		/*
		 * "message" is what the browser calls an event without a
		 * type (WHATWG HTML, "dispatch the event"); store one name
		 * for one meaning.
		 */
		if (vallen == 0 ||
		    (vallen == 7 && memcmp(val, "message", 7) == 0)) {
			out->event[0] = '\0';
			return HTTP_OK;
		}
		if (!valid_event_name(val, vallen)) {
			*reason = "bad event name: 1 to " STR(EVENT_NAME_MAX)
			    " bytes of A-Z a-z 0-9 . _ : -";
			return HTTP_BAD_REQUEST;
		}
		memcpy(out->event, val, vallen);
		out->event[vallen] = '\0';
	} else if (namelen == 4 && memcmp(name, "data", 4) == 0) {
		if (*seen & SEEN_DATA) {
			*reason = "repeated field: data";
			return HTTP_BAD_REQUEST;
		}
		*seen |= SEEN_DATA;
		if (vallen > max_data) {
			*reason = "data too large";
			return HTTP_TOO_LARGE;
		}
		if (!valid_utf8(val, vallen)) {
			*reason = "data is not valid UTF-8";
			return HTTP_BAD_REQUEST;
		}
		if (vallen == SIZE_MAX ||
		    (out->data = malloc(vallen + 1)) == NULL) {
			*reason = "out of memory";
			return HTTP_INTERNAL;
		}
		if (vallen > 0)
			memcpy(out->data, val, vallen);
		out->data[vallen] = '\0';
		out->data_len = vallen;
	} else {
		*reason = "unknown field: use topic, event and data";
		return HTTP_BAD_REQUEST;
	}
	return HTTP_OK;
}

static int
parse_form(const char *body, size_t len, size_t max_data,
    struct publish_req *out, unsigned *seen, const char **reason)
{
	struct query_iter	 it;
	char			*buf = NULL;
	size_t			 bufsz, namelen, vallen;
	int			 rc = HTTP_OK, qrc;

	/*
	 * A decoded name or value is never longer than the body, so two
	 * buffers of len + 1 make QUERY_E_TOOLONG impossible and let an
	 * over-long data field reach the 413 check with its real length.
	 */
	if (len > SIZE_MAX / 2 - 1) {
		*reason = "body too large";
		return HTTP_TOO_LARGE;
	}
	bufsz = len + 1;
	if ((buf = malloc(2 * bufsz)) == NULL) {
		*reason = "out of memory";
		return HTTP_INTERNAL;
	}
	query_iter_init(&it, body, len);
	while ((qrc = query_next(&it, buf, bufsz, &namelen, buf + bufsz,
	    bufsz, &vallen)) == QUERY_OK) {
		rc = set_field(out, seen, buf, namelen, buf + bufsz, vallen,
		    max_data, reason);
		if (rc != HTTP_OK)
			goto out;
	}
	if (qrc == QUERY_E_ESCAPE) {
		*reason = "bad %-escape in form body";
		rc = HTTP_BAD_REQUEST;
	} else if (qrc != QUERY_END) {
		*reason = "malformed form body";
		rc = HTTP_BAD_REQUEST;
	}
out:
	free(buf);
	return rc;
}

static int
parse_json(const char *body, size_t len, size_t max_data,
    struct publish_req *out, unsigned *seen, const char **reason)
{
	json_error_t	 jerr;
	json_t		*root = NULL, *v;
	const char	*key;
	size_t		 keylen;
	char		*text = NULL;
	int		 rc = HTTP_OK;

	/* Jansson refuses bad UTF-8 too; this says so in words. */
	if (!valid_utf8(body, len)) {
		*reason = "body is not valid UTF-8";
		return HTTP_BAD_REQUEST;
	}
	/* DECODE_ANY so that "42" gets "must be an object", not a shrug. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL |
	    JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		*reason = json_error_code(&jerr) == json_error_duplicate_key ?
		    "repeated key in JSON body" : "invalid JSON";
		rc = HTTP_BAD_REQUEST;
		goto out;
	}
	if (!json_is_object(root)) {
		*reason = "JSON body must be an object";
		rc = HTTP_BAD_REQUEST;
		goto out;
	}

	/* Jansson refuses NUL in keys, so keylen is the whole key. */
	json_object_keylen_foreach(root, key, keylen, v) {
		if (json_is_string(v)) {
			rc = set_field(out, seen, key, keylen,
			    json_string_value(v), json_string_length(v),
			    max_data, reason);
		} else if (keylen == 4 && memcmp(key, "data", 4) == 0) {
			/* Any other JSON value is kept as compact JSON. */
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			if (text == NULL) {
				*reason = "out of memory";
				rc = HTTP_INTERNAL;
				goto out;
			}
			rc = set_field(out, seen, key, keylen, text,
			    strlen(text), max_data, reason);
			free(text);
			text = NULL;
		} else if (keylen == 5 && memcmp(key, "topic", 5) == 0) {
			*reason = "topic must be a JSON string";
			rc = HTTP_BAD_REQUEST;
		} else if (keylen == 5 && memcmp(key, "event", 5) == 0) {
			*reason = "event must be a JSON string";
			rc = HTTP_BAD_REQUEST;
		} else {
			*reason = "unknown field: use topic, event and data";
			rc = HTTP_BAD_REQUEST;
		}
		if (rc != HTTP_OK)
			goto out;
	}
out:
	json_decref(root);
	return rc;
}

int
body_parse_publish(const char *content_type, const char *body, size_t len,
    size_t max_data, struct publish_req *out, const char **reason)
{
	enum body_kind	 kind;
	unsigned	 seen = 0;
	const char	*dummy;
	int		 rc;

	if (reason == NULL)
		reason = &dummy;
	*reason = NULL;
	memset(out, 0, sizeof(*out));

	if (media_type(content_type, &kind) == -1) {
		*reason = "unsupported Content-Type: use "
		    "application/x-www-form-urlencoded or application/json";
		return HTTP_UNSUPPORTED;
	}
	if (body == NULL && len > 0) {
		*reason = "missing body";
		return HTTP_BAD_REQUEST;
	}
	if (body == NULL)
		body = "";

	if (kind == BODY_FORM)
		rc = parse_form(body, len, max_data, out, &seen, reason);
	else
		rc = parse_json(body, len, max_data, out, &seen, reason);
	if (rc != HTTP_OK)
		goto fail;

	if (!(seen & SEEN_TOPIC)) {
		*reason = "missing field: topic";
		rc = HTTP_BAD_REQUEST;
		goto fail;
	}
	if (!(seen & SEEN_DATA)) {
		*reason = "missing field: data";
		rc = HTTP_BAD_REQUEST;
		goto fail;
	}
	return HTTP_OK;
fail:
	body_free(out);
	return rc;
}

void
body_free(struct publish_req *req)
{
	if (req == NULL)
		return;
	free(req->data);
	req->data = NULL;
	req->data_len = 0;
}
