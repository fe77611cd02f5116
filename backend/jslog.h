/*
 * jslog.h: the event log on a NATS JetStream stream (log = jetstream),
 * the second driver behind logdrv.h. Several backends, each behind its
 * own web server, share one stream; clients see the same ids, resume and
 * gaps whichever backend they reach.
 *
 * Mapping. One event is one stream message: the subject is the topic
 * under nats_subject (jsmap.h), the payload is the data, a header
 * Ssereplay-Event carries a type other than the default, Nats-Msg-Id makes
 * retries idempotent (the stream's duplicate window), Nats-Expected-Stream
 * makes sure it lands in our stream. The event's sequence number is the
 * stream sequence (global, monotonic, never reused); its time is the
 * stream's. The epoch comes from the stream's identity (jsmap_epoch()).
 *
 * Opening connects (nats.c, reconnecting forever to any of nats_url) and
 * finds the stream, or with LOGDRV_CREATE makes it: subjects PREFIX.>,
 * file storage, nats_replicas replicas, max_msgs and max_age from
 * retention_max_events and retention_max_age. An existing stream keeps its
 * own limits: retention is the stream's business (prune does nothing).
 *
 * Append publishes the group, each with a reply subject of ours, and
 * waits for every acknowledgement (a replicated stream acknowledges once
 * a quorum stored it); an event that got no ack within NATS_ACK_RETRY_MS
 * is sent again with the same Nats-Msg-Id until nats_timeout, so it is
 * stored at most once. While the connection is down, append fails at once.
 *
 * Reads by sequence go through ephemeral pull consumers (no acks, in
 * memory, one replica, removed by the server after NATS_CURSOR_IDLE_MS
 * without use), one per topic filter and position, kept and reused while
 * a replay goes on (making one is a round trip through the cluster's meta
 * group: about 2 ms on loopback). Each fetch asks with no_wait for up to
 * max_rows messages and never waits for new ones.
 *
 * Following: an ordered push consumer on PREFIX.> from the position the
 * hub asks for. nats.c recreates it after a reconnect, a missed heartbeat
 * or a sequence gap, from the last sequence it delivered, so live streams
 * catch up after an outage; a recreation that fails (no leader yet) may
 * leave it silent, so a watchdog on the bounds refresher's thread makes a
 * new one when the stream has events it has not delivered for a while. Its messages wait in a bounded queue
 * (NATS_FOLLOW_BYTES_MAX; beyond it the callback waits, and JetStream's
 * flow control holds the rest back) until logdrv_read_new() takes them.
 *
 * Bounds come from the stream's info, cached for NATS_BOUNDS_STALE_MS and
 * raised by what the follower has seen. A stream that was deleted and
 * made again under a running backend (another epoch) makes every publish
 * fail with that reason: restart the backend to serve the new stream.
 */
#ifndef SSEREPLAY_JSLOG_H
#define SSEREPLAY_JSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * Prepare the stream of cfg for `ssereplay migrate`: make it if missing
 * (as logdrv_open with LOGDRV_CREATE would, plus the epoch pin in its
 * description), refuse one that holds messages, and set its next sequence
 * number to next_seq (a purge up to it), so that copied events keep their
 * ids. Returns 0, or -1 with a message in err.
 */
int jslog_prepare_import(const struct config *cfg, const char *epoch,
    uint64_t next_seq, char *err, size_t errsz);

#endif
