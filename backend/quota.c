/* limits.c: per-address stream counts and per-token rates. See quota.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "quota.h"

#define ADDR_BUCKETS	4096	/* a power of two */

struct addr_slot {
	struct addr_slot *next;
	long long	  count;
	char		  addr[QUOTA_ADDR_MAX + 1];
};

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static struct addr_slot	*buckets[ADDR_BUCKETS];

/* Token buckets, one per configured publish token. */
static struct {
	double		 tokens;
	int64_t		 last_ms;
	int		 used;
} rates[TOKENS_MAX];

static size_t
addr_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h & (ADDR_BUCKETS - 1);
}

int
quota_stream_acquire(const char *addr, long long max,
    struct addr_slot **slot)
{
	struct addr_slot	*s;
	size_t			 b;
	int			 rc = 0;

	*slot = NULL;
	if (max == 0 || addr == NULL || *addr == '\0' ||
	    strlen(addr) > QUOTA_ADDR_MAX)
		return 0;
	b = addr_hash(addr);
	pthread_mutex_lock(&mtx);
	for (s = buckets[b]; s != NULL; s = s->next)
		if (strcmp(s->addr, addr) == 0)
			break;
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL) {
			rc = -2;
			goto out;
		}
		strcpy(s->addr, addr);
		s->next = buckets[b];
		buckets[b] = s;
	}
	if (s->count >= max) {
		rc = -1;
		goto out;
	}
	s->count++;
	*slot = s;
out:
	pthread_mutex_unlock(&mtx);
	return rc;
}

void
quota_stream_release(struct addr_slot *slot)
{
	struct addr_slot **pp;

	if (slot == NULL)
		return;
	pthread_mutex_lock(&mtx);
	if (--slot->count == 0) {
		/* Free it: a storm of addresses must not leave a table. */
		for (pp = &buckets[addr_hash(slot->addr)]; *pp != slot;
		    pp = &(*pp)->next)
			;
		*pp = slot->next;
		free(slot);
	}
	pthread_mutex_unlock(&mtx);
}

long long
quota_stream_count(const char *addr)
{
	struct addr_slot	*s;
	long long		 n = 0;

	pthread_mutex_lock(&mtx);
	for (s = buckets[addr_hash(addr)]; s != NULL; s = s->next)
		if (strcmp(s->addr, addr) == 0)
			n = s->count;
	pthread_mutex_unlock(&mtx);
	return n;
}

int
quota_publish_allow(int idx, long long rate, int64_t now_ms,
    int64_t *retry_ms)
{
	int ok;

	*retry_ms = 0;
	if (rate == 0 || idx < 0 || idx >= TOKENS_MAX)
		return 1;
	pthread_mutex_lock(&mtx);
	if (!rates[idx].used) {
		rates[idx].used = 1;
		rates[idx].tokens = (double)rate;
		rates[idx].last_ms = now_ms;
	}
	/* Refill at rate per second, up to one second's worth. */
	rates[idx].tokens += (double)(now_ms - rates[idx].last_ms) *
	    (double)rate / 1000.0;
	if (rates[idx].tokens > (double)rate)
		rates[idx].tokens = (double)rate;
	rates[idx].last_ms = now_ms;
	ok = rates[idx].tokens >= 1.0;
	if (ok)
		rates[idx].tokens -= 1.0;
	else
		*retry_ms = (int64_t)((1.0 - rates[idx].tokens) * 1000.0 /
		    (double)rate) + 1;
	pthread_mutex_unlock(&mtx);
	return ok;
}

void
quota_reset(void)
{
	struct addr_slot *s;
	size_t		  b;

	pthread_mutex_lock(&mtx);
	for (b = 0; b < ADDR_BUCKETS; b++)
		while ((s = buckets[b]) != NULL) {
			buckets[b] = s->next;
			free(s);
		}
	memset(rates, 0, sizeof(rates));
	pthread_mutex_unlock(&mtx);
}
