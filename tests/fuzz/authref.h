/*
 * authref.h: the private-topic rules of backend/auth.h, written a second
 * time from the header's words alone, so the harnesses can compare
 * auth.c (and http.c, which uses it) with them.
 *
 *   - A pattern is a topic whose whole segments may also be `{user}`, and
 *     whose last segment may be `*`; at most TOPIC_MAX bytes.
 *   - `{user}` matches exactly the subscriber's user name, which then
 *     cannot contain a '/': only a name (1..NAME_MAX_LEN characters of
 *     [A-Za-z0-9._-], as auth.c checks) matches a `{user}`, so "" and
 *     "alice/x" match none; with no user given (is the topic private at
 *     all?) it matches any non-empty run of name characters.
 *   - A final `*` matches one or more characters of any rest.
 *   - A topic matching some rule's pattern is private; it may be read by
 *     the user its `{user}` matched, by the users and @groups in WHO of any
 *     rule it matches, and by a token whose own patterns match it (their
 *     `{user}` being the token's user).
 *
 * Slow and plain on purpose. Everything is static inline.
 */
#ifndef SSEREPLAY_AUTHREF_H
#define SSEREPLAY_AUTHREF_H

#include <string.h>

#include "auth.h"
#include "bounds.h"
#include "config.h"

static inline int
ref_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static inline int
ref_topic_char(char c)
{
	return ref_name_char(c) || c == '/';
}

/* A user or group name: 1..NAME_MAX_LEN name characters. */
static inline int
ref_valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < n; i++)
		if (!ref_name_char(s[i]))
			return 0;
	return 1;
}

/* Is (s, n) a pattern? */
static inline int
ref_valid_pattern(const char *s, size_t n)
{
	size_t i = 0, e, k;

	if (n == 0 || n > TOPIC_MAX)
		return 0;
	for (;;) {
		for (e = i; e < n && s[e] != '/'; e++)
			;
		if (e - i == 6 && memcmp(s + i, "{user}", 6) == 0)
			;
		else if (e - i == 1 && s[i] == '*' && e == n)
			;
		else
			for (k = i; k < e; k++)
				if (!ref_topic_char(s[k]))
					return 0;
		if (e == n)
			return 1;
		i = e + 1;
	}
}

/*
 * Does topic match a valid pattern? user: the name `{user}` must be, or
 * NULL for any name.
 */
static inline int
ref_match(const char *pattern, const char *topic, const char *user)
{
	const char	*p = pattern, *t = topic, *e;
	size_t		 n, seg;
	int		 first = 1;

	for (;;) {
		if (!first) {
			if (*t != '/')
				return 0;
			t++;
		}
		first = 0;
		e = strchr(p, '/');
		seg = e != NULL ? (size_t)(e - p) : strlen(p);
		if (seg == 1 && p[0] == '*' && e == NULL)
			return *t != '\0';
		if (seg == 6 && memcmp(p, "{user}", 6) == 0) {
			if (user == NULL) {
				for (n = 0; ref_name_char(t[n]); n++)
					;
			} else {
				n = strlen(user);
				if (!ref_valid_name(user, n) ||
				    strncmp(t, user, n) != 0)
					return 0;
			}
			if (n == 0)
				return 0;
		} else {
			n = seg;
			if (strncmp(t, p, n) != 0)
				return 0;
		}
		t += n;
		if (*t != '/' && *t != '\0')
			return 0;
		if (e == NULL)
			return *t == '\0';
		p = e + 1;
	}
}

/* The pattern of a rule "PATTERN [WHO...]" into pat; WHO's start. */
static inline const char *
ref_rule_split(const char *rule, char *pat)
{
	size_t n = strcspn(rule, " \t");

	if (n > TOPIC_MAX)
		n = TOPIC_MAX;
	memcpy(pat, rule, n);
	pat[n] = '\0';
	rule += strcspn(rule, " \t");
	return rule + strspn(rule, " \t");
}

/* Is (name, n) one of the names of list (separated by ", \t")? */
static inline int
ref_in_list(const char *list, const char *name, size_t n)
{
	const char	*p = list;
	size_t		 k;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		k = strcspn(p, ", \t");
		if (k == n && memcmp(p, name, n) == 0)
			return 1;
		p += k;
	}
}

/* Is user a member of group (name, n) under cfg? */
static inline int
ref_in_group(const struct config *cfg, const char *name, size_t n,
    const char *user)
{
	const char	*colon;
	int		 i;

	for (i = 0; i < cfg->ngroups; i++) {
		colon = strchr(cfg->groups[i], ':');
		if (colon != NULL && (size_t)(colon - cfg->groups[i]) == n &&
		    memcmp(cfg->groups[i], name, n) == 0 &&
		    ref_in_list(colon + 1, user, strlen(user)))
			return 1;
	}
	return 0;
}

/* Does WHO grant user (a name, or @group holding it)? */
static inline int
ref_who_grants(const struct config *cfg, const char *who, const char *user)
{
	const char	*p = who;
	size_t		 k;

	for (;;) {
		p += strspn(p, ", \t");
		if (*p == '\0')
			return 0;
		k = strcspn(p, ", \t");
		if (p[0] == '@') {
			if (ref_in_group(cfg, p + 1, k - 1, user))
				return 1;
		} else if (k == strlen(user) && memcmp(p, user, k) == 0)
			return 1;
		p += k;
	}
}

static inline int
ref_topic_private(const struct config *cfg, const char *topic)
{
	char	 pat[TOPIC_MAX + 1];
	int	 i;

	for (i = 0; i < cfg->nprivate; i++) {
		ref_rule_split(cfg->private_rules[i], pat);
		if (ref_match(pat, topic, NULL))
			return 1;
	}
	return 0;
}

static inline int
ref_may_read(const struct config *cfg, const struct principal *who,
    const char *topic)
{
	char		 pat[TOPIC_MAX + 1];
	const char	*list;
	int		 i;

	if (!ref_topic_private(cfg, topic))
		return 1;
	if (who->user[0] != '\0')
		for (i = 0; i < cfg->nprivate; i++) {
			list = ref_rule_split(cfg->private_rules[i], pat);
			if (!ref_match(pat, topic, NULL))
				continue;
			if ((strstr(pat, "{user}") != NULL &&
			    ref_match(pat, topic, who->user)) ||
			    ref_who_grants(cfg, list, who->user))
				return 1;
		}
	/* A token's {user} is its own user (never "" in a real token). */
	for (i = 0; i < who->npatterns; i++)
		if (ref_match(who->patterns[i], topic, who->user))
			return 1;
	return 0;
}

#endif
