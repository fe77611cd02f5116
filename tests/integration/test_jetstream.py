"""The JetStream log (log = jetstream): a three-node nats-server cluster
(JetStream, replicas 3) on loopback, started and stopped by PID, and two
ssereplay backends, each behind its own lighttpd, on one stream. Every
test makes its own cluster and stream (natscluster.py)."""

import json
import os
import signal
import subprocess
import threading
import time

from itest import test, note, ok, eq, poll
from natscluster import (NatsCluster, js_config, stream_info, delete_stream)
from stack import Stack, TOKEN, CHECK_BIN, BIN
from sseclient import Timeout, StreamEnded


class Pair(object):
    """Cluster + backends A and B (each with its lighttpd) on one stream."""

    def __init__(self, stream="EVENTS", extra="", n=2):
        self.cluster = NatsCluster()
        self.stream = stream
        self.stacks = []
        try:
            for _ in range(n):
                self.stacks.append(Stack(config=js_config(
                    self.cluster, stream, extra=extra)))
        except BaseException:
            self.close()
            raise

    @property
    def a(self):
        return self.stacks[0]

    @property
    def b(self):
        return self.stacks[1]

    def close(self):
        for st in self.stacks:
            st.close()
        self.cluster.close()

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            for st in self.stacks:
                st.dump_logs()
            self.cluster.dump_logs()
        self.close()
        return False


def _seqs(evs):
    return [int(e.id.split("-")[1]) for e in evs]


def _epoch(ev_id):
    return ev_id.split("-")[0]


@test(timeout=60)
def jetstream_publish_on_a_arrives_on_b_and_back_within_100ms():
    """Publish through A, a stream on B gets it (and the reverse), with
    the same ids, each within 100 ms of the 201."""
    with Pair() as p:
        ca = p.a.sse("x")
        cb = p.b.sse("x")
        lat = []
        for i in range(20):
            src, dst = (p.a, cb) if i % 2 == 0 else (p.b, ca)
            t0 = time.monotonic()
            eid = src.publish_ok("x", "m%d" % i)
            t1 = time.monotonic()
            ev = dst.collect_until(lambda e: e.id == eid, timeout=2)[-1]
            lat.append((time.monotonic() - t1) * 1000)
            eq((ev.id, ev.data), (eid, "m%d" % i), "event %d" % i)
        lat.sort()
        note("from the 201 on one backend to the event on the other: p50 "
             "%.1f ms, max %.1f ms" % (lat[len(lat) // 2], lat[-1]))
        ok(lat[-1] < 100, "slowest %.0f ms" % lat[-1])
        # Both streams have all 20, in the log's order, one epoch.
        for c in (ca, cb):
            c.drain(timeout=1, quiet=0.3)
            evs = c.events
            eq([e.data for e in evs], ["m%d" % i for i in range(20)],
               "every event on each stream")
            eq(_seqs(evs), sorted(_seqs(evs)), "in order")
            eq(set(_epoch(e.id) for e in evs), {_epoch(eid)}, "one epoch")


@test(timeout=60)
def jetstream_resume_across_backends_no_gap_no_duplicate():
    """A client reads part of a topic on A, leaves, events keep coming
    through B; it reconnects to B with its Last-Event-ID (one topic, then
    two topics, then a deep resume from 0 that B replays from JetStream)
    and gets exactly the rest, in order."""
    with Pair() as p:
        ids = []
        for i in range(30):
            st = p.a if i % 3 else p.b
            ids.append(st.publish_ok("r1" if i % 2 else "r2", "e%d" % i))
        c = p.a.sse("r1", query_id="0")
        got = c.collect(5)
        c.close()
        last = got[-1].id
        for i in range(30, 40):
            ids.append(p.b.publish_ok("r1" if i % 2 else "r2", "e%d" % i))
        c = p.b.sse("r1", last_event_id=last)
        rest = c.collect_until(lambda e: e.data == "e39", timeout=5)
        ok(all(e.type != "gap" for e in rest), "a gap: %r" % rest[:2])
        want = [i for i in range(40) if i % 2 == 1][5:]
        eq([e.data for e in rest], ["e%d" % i for i in want], "the rest")
        eq(c.drain(timeout=0.5), [], "nothing more")
        # Two topics (one consumer over every subject, filtered here).
        c2 = p.b.sse(["r1", "r2"], last_event_id=ids[9])
        evs = c2.collect(30, timeout=5)
        eq([e.data for e in evs], ["e%d" % i for i in range(10, 40)],
           "two topics from id 10")
        # B restarted: its tail is empty, everything replays from the
        # stream.
        p.b.restart_backend(kill=False)
        c3 = p.b.sse("r2", query_id="0")
        evs = c3.collect(20, timeout=5)
        eq([e.data for e in evs], ["e%d" % i for i in range(0, 40, 2)],
           "deep resume of one topic from JetStream")
        eq([e.id for e in evs], [ids[i] for i in range(0, 40, 2)], "ids")


@test(timeout=60)
def jetstream_concurrent_deep_replays_exact():
    """6,000 events on two topics (in chunks of 1,000, through the CLI),
    then a backend with an empty tail serves three replays from the stream
    at once (one topic, the other, both: three consumers whose batches and
    read-ahead interleave): each gets exactly its events, in order."""
    with Pair(n=1) as p:
        for k in range(6):
            topic = "p" if k % 2 == 0 else "q"
            p.a.cli(["publish", "--log", "jetstream:" + p.cluster.urls,
                     "--nats-stream", p.stream, "--topic", topic,
                     "--lines"], input="".join(
                         "%s%d\n" % (topic, k * 1000 + i)
                         for i in range(1000)).encode(), check=True,
                    timeout=30)
        p.a.restart_backend(kill=False)
        cs = [p.a.sse("p", query_id="0"), p.a.sse("q", query_id="0"),
              p.a.sse(["p", "q"], query_id="0")]
        want = [3000, 3000, 6000]
        got = [[] for _ in cs]
        deadline = time.monotonic() + 30
        while any(len(g) < w for g, w in zip(got, want)):
            ok(time.monotonic() < deadline, "replays did not finish: %r" %
               [len(g) for g in got])
            for k, c in enumerate(cs):
                if len(got[k]) < want[k]:
                    try:
                        got[k].append(c.next_event(timeout=0.05))
                    except Timeout:
                        pass
        exp_p = ["p%d" % (k * 1000 + i) for k in (0, 2, 4)
                 for i in range(1000)]
        exp_q = ["q%d" % (k * 1000 + i) for k in (1, 3, 5)
                 for i in range(1000)]
        eq([e.data for e in got[0]], exp_p, "topic p")
        eq([e.data for e in got[1]], exp_q, "topic q")
        eq([e.data for e in got[2]], ["%s%d" % ("p" if (n // 1000) % 2 == 0
                                                  else "q", n)
                                       for n in range(6000)], "both")
        eq(_seqs(got[2]), list(range(1, 6001)), "ids")


def _storm(stacks, seconds, topic="storm", threads=6):
    """Publish from threads through the given stacks for a while.
    Returns (acked: {id: data}, failed count)."""
    acked = {}
    failed = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(k):
        import http.client
        st = stacks[k % len(stacks)]
        conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=15)
        n = 0
        while time.monotonic() < stop:
            data = "t%d-%d" % (k, n)
            n += 1
            try:
                status, body = st.publish(topic, data, conn=conn)
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", st.port,
                                                  timeout=15)
                status, body = None, ""
            with lock:
                if status == 201:
                    acked[json.loads(body)["id"]] = data
                else:
                    failed[0] += 1
            if status != 201:
                time.sleep(0.05)
        conn.close()

    ts = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    return ts, acked, failed


@test(timeout=90)
def jetstream_node_killed_in_publish_storm_no_acked_event_lost():
    """Six publishers through both backends; the node leading the stream
    is killed (SIGKILL) a second in. Every event that got a 201 is in the
    stream exactly once and in order (read back through both backends),
    live streams opened before the kill continue and end up with every
    acknowledged event, and publishing works again without the node."""
    with Pair() as p:
        live = [p.a.sse("storm"), p.b.sse("storm")]
        ts, acked, failed = _storm([p.a, p.b], 9.0)
        time.sleep(1.0)
        leader = p.cluster.stream_leader(p.stream)
        ok(leader is not None, "no stream leader found")
        t0 = time.monotonic()
        p.cluster.kill(p.cluster.index_of(leader))
        before = len(acked)
        for t in ts:
            t.join()
        note("killed %s (the stream leader) after %d acknowledged "
             "publishes; %d acknowledged in all, %d failed (503: no "
             "acknowledgement within nats_timeout while the stream elected "
             "a new leader)" % (leader, before, len(acked),
                                                failed[0]))
        ok(len(acked) > before, "no publish succeeded after the kill")
        # Nothing acknowledged is lost: read everything back.
        for st in (p.a, p.b):
            c = st.sse("storm", query_id="0")
            evs = c.drain(timeout=15, quiet=1.0)
            seqs = _seqs(evs)
            eq(seqs, sorted(set(seqs)), "ordered, no duplicate (%d)" %
               st.port)
            have = {e.id: e.data for e in evs}
            lost = sorted((i for i in acked if have.get(i) != acked[i]),
                          key=lambda i: int(i.split("-")[1]))
            if lost:
                info = stream_info(p.cluster, p.stream)
                raise AssertionError(
                    "%d acknowledged events missing on %d (stream: %r): %s" %
                    (len(lost), st.port, info.get("state"), ", ".join(
                        "%s=%r (there: %r)" % (i, acked[i], have.get(i))
                        for i in lost[:8])))
        # The live streams went on through the election.
        for c in live:
            evs = c.drain(timeout=10, quiet=1.0)
            have = {e.id for e in evs}
            eq(sorted(i for i in acked if i not in have), [],
               "live stream missed acknowledged events")
            eq(_seqs(evs), sorted(set(_seqs(evs))), "live order")
        note("checked %.1f s after the kill" % (time.monotonic() - t0))


@test(timeout=90)
def jetstream_backend_killed_clients_move_and_resume_exactly_once():
    """Ten clients on A while events are published through B; A is
    killed (SIGKILL); the clients reconnect to B with their Last-Event-ID
    and every one ends with every event exactly once, in order."""
    with Pair() as p:
        clients = [p.a.sse("mv", query_id="0") for _ in range(10)]
        total = 300
        got = [[] for _ in clients]

        def publish():
            for i in range(total):
                p.b.publish_ok("mv", "d%d" % i)
                time.sleep(0.005)

        t = threading.Thread(target=publish)
        t.start()
        time.sleep(0.5)
        p.a.kill_backend()
        # What reached each client before the kill.
        for k, c in enumerate(clients):
            try:
                got[k] += c.drain(timeout=0.5, quiet=0.1)
            except (Timeout, StreamEnded):
                pass
            c.close()
        moved = []
        for k in range(len(clients)):
            last = got[k][-1].id if got[k] else "0"
            moved.append(last)
            c = p.b.sse("mv", last_event_id=last)
            got[k] += c.collect_until(lambda e: e.data == "d%d" %
                                      (total - 1), timeout=10)
            c.close()
        t.join()
        for k in range(len(clients)):
            eq([e.data for e in got[k]], ["d%d" % i for i in range(total)],
               "client %d: every event once, in order" % k)
            ok(all(e.type != "gap" for e in got[k]), "a gap")
        note("clients moved to B after ids %s" % ", ".join(
            sorted(set(m.split("-")[-1] for m in moved), key=int)))


def _check_argv(sub, pub, *args, topic="chk"):
    return [CHECK_BIN, "--url", "http://127.0.0.1:%d/events?topic=%s" % (
        sub.port, topic), "--publish-url",
        "http://127.0.0.1:%d/publish" % pub.port, "--token", TOKEN,
        "--json", "--no-progress", "--seed", "99"] + [str(a) for a in args]


@test(timeout=90)
def jetstream_ssereplay_check_chaos_across_two_backends():
    """ssereplay-check twice at once: clients on A publishing through B,
    and clients on B publishing through A (same topic), with random drops
    (P = 0.01): every client gets every event exactly once, in order."""
    with Pair(extra="retry = 300ms\n") as p:
        args = ["--clients", 20, "--events", 3000, "--publishers", 2,
                "--rate", 1000, "--chaos", 0.01, "--pause", "10:100",
                "--settle", 15]
        procs = [subprocess.Popen(_check_argv(p.a, p.b, *args),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True),
                 subprocess.Popen(_check_argv(p.b, p.a, *args,
                                              topic="chk2"),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)]
        for name, pr in zip(("A<-B", "B<-A"), procs):
            out, err = pr.communicate(timeout=80)
            try:
                res = json.loads(out)
            except ValueError:
                raise AssertionError("ssereplay-check exit %s: %r %r" % (
                    pr.returncode, out[-300:], err[-600:]))
            t = res["total"]
            note("%s: received %d of %d, missing %d, dup %d, ooo %d, gaps "
                 "%d, drops %d, latency p50/p99 %.0f/%.0f ms" % (
                     name, t["received"], t["expected"], t["missing"],
                     t["duplicated"], t["out_of_order"], t["gaps"],
                     t["chaos_drops"], t["latency_ms"]["p50"],
                     t["latency_ms"]["p99"]))
            eq((t["missing"], t["duplicated"], t["out_of_order"],
                t["gaps"]), (0, 0, 0, 0), "%s exactly once" % name)
            ok(t["chaos_drops"] > 100, "too few drops")
            eq(pr.returncode, 0, "ssereplay-check exit status")


@test(timeout=60)
def jetstream_retention_and_recreated_stream_give_gaps():
    """The stream keeps 10 events (max_msgs from retention_max_events when
    the backend makes it): a resume point older than the first retained
    gets the gap with firstAvailableId; a stream deleted and made anew has
    another epoch, and an id of the old one gets a gap."""
    with Pair(extra="retention_max_events = 10\n") as p:
        ids = [p.a.publish_ok("g", "v%d" % i) for i in range(30)]
        # The backends' view of the stream's bounds is at most 250 ms old.
        time.sleep(0.4)
        info = stream_info(p.cluster, p.stream)
        eq(info["config"]["max_msgs"], 10, "max_msgs")
        eq(info["state"]["first_seq"], 21, "first retained")
        c = p.b.sse("g", last_event_id=ids[4])
        gap = c.next_event(timeout=3)
        eq(gap.type, "gap", "first event")
        eq(json.loads(gap.data), {"lastEventId": ids[4],
                                  "firstAvailableId": ids[20]}, "gap data")
        evs = c.collect(10, timeout=3)
        eq([e.data for e in evs], ["v%d" % i for i in range(20, 30)],
           "what is left")
        # Within the retained range: no gap.
        c = p.a.sse("g", last_event_id=ids[24])
        eq([e.data for e in c.collect(5)], ["v%d" % i for i in
                                            range(25, 30)], "tail")
        # A stream made anew: delete it, restart A (it makes it again).
        old_epoch = _epoch(ids[0])
        delete_stream(p.cluster, p.stream)
        p.a.restart_backend(kill=False)
        new_id = p.a.publish_ok("g", "new")
        ok(_epoch(new_id) != old_epoch, "same epoch after recreation")
        time.sleep(0.4)
        c = p.a.sse("g", last_event_id=ids[29])
        gap = c.next_event(timeout=3)
        eq(gap.type, "gap", "an old epoch's id")
        eq(json.loads(gap.data)["firstAvailableId"], new_id, "gap target")
        eq(c.next_event(timeout=3).data, "new", "then the new stream")


@test(timeout=60)
def jetstream_connection_lost_streams_stay_open_publish_503_then_catch_up():
    """Backend A talks to one NATS node only (nats_discover = no); that node is killed (not
    the stream's leader: the cluster keeps working for B). A's publishes
    answer 503 at once and store nothing; A's open streams stay open
    (heartbeats) while B goes on publishing; the node comes back, A
    reconnects, and its streams catch up with everything B published,
    with no gap or duplicate, then A publishes again."""
    cluster = NatsCluster()
    try:
        with Stack(config=js_config(cluster, "EVENTS")) as b:
            leader = poll(lambda: cluster.stream_leader("EVENTS"),
                          what="a stream leader")
            lone = [i for i in range(3) if "n%d" % i != leader][0]
            with Stack(config=js_config(cluster, "EVENTS",
                                        urls=cluster.url(lone),
                                        extra="nats_discover = no\n")) as a:
                ca = a.sse("o", query_id="0")
                ids = [a.publish_ok("o", "before%d" % i) for i in range(3)]
                eq([e.id for e in ca.collect(3)], ids, "before")
                cluster.kill(lone)
                time.sleep(0.3)
                t0 = time.monotonic()
                st, body = a.publish("o", "lost")
                dt = time.monotonic() - t0
                eq(st, 503, "publish while A has no NATS: %r" % body)
                note("A's publish without NATS: %d in %.0f ms" % (
                    st, dt * 1000))
                ok(dt < 1.0, "not fast: %.2f s" % dt)
                during = [b.publish_ok("o", "during%d" % i)
                          for i in range(5)]
                ok(ca.next_item(timeout=3)[0] == "comment",
                   "A's stream is open (heartbeat)")
                t0 = time.monotonic()
                cluster.start(lone)
                evs = ca.collect(5, timeout=15)
                note("A's stream caught up %.1f s after the node was "
                     "started" % (time.monotonic() - t0))
                eq([e.id for e in evs], during, "caught up, in order")
                after = poll(lambda: a.publish("o", "after")[0] == 201 or
                             None, timeout=10, interval=0.1,
                             what="A publishes again")
                ok(after, "publish after")
                ev = ca.next_event(timeout=3)
                eq(ev.data, "after", "then live again")
                datas = [e.data for e in ca.events]
                ok("lost" not in datas, "the 503 event was stored")
                ok(all(e.type != "gap" for e in ca.events), "a gap")
    finally:
        cluster.close()


@test(timeout=60)
def jetstream_migrate_from_sqlite_keeps_ids_and_resume():
    """`ssereplay migrate --from sqlite:FILE --to jetstream:URL` copies a
    log whose first 20 events were pruned: the stream gets the same
    sequence numbers and epoch, so a client resumes with an id from the
    SQLite days without a gap; `tail --log jetstream:` prints the same."""
    cluster = NatsCluster()
    try:
        with Stack(mode=None, lighttpd=False) as sq:
            r = sq.cli(["publish", "--db", sq.db, "--topic", "m",
                        "--lines"], input="".join(
                            "old%d\n" % i for i in range(50)).encode(),
                       check=True)
            import sqlite3
            db = sqlite3.connect(sq.db)
            db.execute("DELETE FROM events WHERE seq <= 20")
            db.commit()
            db.close()
            old = sq.log_events()
            eq(len(old), 30, "events left in SQLite")
            urls = cluster.urls
            r = sq.cli(["migrate", "--from", "sqlite:" + sq.db, "--to",
                        "jetstream:" + urls, "--nats-stream", "MIG",
                        "--nats-replicas", "3"], check=True, timeout=30)
            note(r.stdout.decode().strip())
            r = sq.cli(["tail", "--log", "jetstream:" + urls,
                        "--nats-stream", "MIG"], check=True)
            from sseclient import SSEParser
            pp = SSEParser()
            pp.feed(r.stdout + b"\n\n")
            evs = [it[1] for it in pp.items if it[0] == "event"]
            eq([(e.id, e.data) for e in evs], [(e.id, e.data) for e in old],
               "the stream holds the same ids and data")
            # Migrating again into the filled stream is refused.
            r = sq.cli(["migrate", "--from", "sqlite:" + sq.db, "--to",
                        "jetstream:" + urls, "--nats-stream", "MIG"])
            ok(r.returncode != 0 and b"not empty" in r.stderr,
               "second migrate: %r" % r.stderr)
        with Stack(config=js_config(cluster, "MIG")) as st:
            c = st.sse("m", last_event_id=old[9].id)
            new = st.publish_ok("m", "new")
            evs = c.collect_until(lambda e: e.data == "new", timeout=5)
            eq([e.data for e in evs], ["old%d" % i for i in range(30, 50)] +
               ["new"], "resume across the migration")
            eq(int(new.split("-")[1]), 51, "numbering continues")
    finally:
        cluster.close()


@test(timeout=60)
def jetstream_cli_publish_and_tail_on_the_shared_stream():
    """`ssereplay publish --log jetstream:URL` appends to the stream the
    backends follow: a stream on B gets it with the printed id and type;
    `tail` prints it."""
    with Pair() as p:
        cb = p.b.sse("w")
        r = p.a.cli(["publish", "--log", "jetstream:" + p.cluster.urls,
                     "--nats-stream", p.stream, "--topic", "w", "--event",
                     "cli", "from the CLI"], check=True)
        eid = r.stdout.decode().strip()
        ev = cb.next_event(timeout=3)
        eq((ev.id, ev.type, ev.data), (eid, "cli", "from the CLI"), "CLI")
        r = p.a.cli(["tail", "--log", "jetstream:" + p.cluster.url(2),
                     "--nats-stream", p.stream, "--topic", "w"], check=True)
        ok(("id: %s\nevent: cli\ndata: from the CLI" % eid).encode() in
           r.stdout, "tail: %r" % r.stdout)
