/*
 * quota.h: limits that span requests, shared by every thread: open
 * streams per client address, and publishes per token per second (a token
 * bucket holding one second's worth). Each refusal is counted in /metrics
 * (ssereplay_refusals_total) by the caller.
 */
#ifndef SSEREPLAY_QUOTA_H
#define SSEREPLAY_QUOTA_H

#include <stdint.h>

/* Client addresses as the web server reports them (IPv6 fits). */
#define QUOTA_ADDR_MAX		64

struct addr_slot;

/*
 * Count one more stream from addr, unless it has max (0 = unlimited)
 * already. Returns 0 with *slot set (NULL when nothing is tracked: no
 * limit, or no address), -1 when refused, -2 when out of memory.
 */
int quota_stream_acquire(const char *addr, long long max,
    struct addr_slot **slot);

/* The stream counted by slot ended. Accepts NULL. Safe from any thread. */
void quota_stream_release(struct addr_slot *slot);

/* Streams counted for addr now (for tests and /metrics). */
long long quota_stream_count(const char *addr);

/*
 * May token number idx publish one more event now (rate per second, 0 =
 * unlimited)? 1 yes, 0 no with *retry_ms set to when one will be allowed.
 */
int quota_publish_allow(int idx, long long rate, int64_t now_ms,
    int64_t *retry_ms);

/* Forget everything (tests). */
void quota_reset(void);

#endif
