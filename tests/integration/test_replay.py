"""Resume points, replay/live seam, gaps, retention, slow subscribers,
cross-process publishing, restart after kill -9."""

import json
import os
import subprocess
import threading
import time

import stack as stk
from common import (ID_RE, Publisher, Reader, assert_contiguous, db_rows,
                    expect_status, json_loads, seq_of, epoch_of, eq, ok)
from itest import test, note, poll
from sseclient import Timeout, StreamEnded
from stack import Stack, BIN


def _publish_n(st, topic, n, prefix="e"):
    return [st.publish_ok(topic, "%s%d" % (prefix, i)) for i in range(n)]


@test
def resume_header_param_and_precedence():
    with Stack() as st:
        ids = _publish_n(st, "r", 6)
        # Last-Event-ID header
        c = st.sse("r", last_event_id=ids[2])
        try:
            eq([e.id for e in c.collect(3, 5)], ids[3:], "after header id")
            eq(c.drain(1.0, 0.4), [], "nothing more")
        finally:
            c.close()
        # lastEventId parameter
        c = st.sse("r", query_id=ids[3])
        try:
            eq([e.id for e in c.collect(2, 5)], ids[4:], "after param id")
        finally:
            c.close()
        # header wins over the parameter
        c = st.sse("r", last_event_id=ids[4], query_id="0")
        try:
            got = c.collect(1, 5)
            eq(got[0].id, ids[5], "header takes precedence over parameter")
        finally:
            c.close()
        # lastEventId=0 = from the start, also as a header
        for kw in (dict(query_id="0"), dict(last_event_id="0")):
            c = st.sse("r", **kw)
            try:
                eq([e.id for e in c.collect(6, 5)], ids, "from 0 (%s)" % kw)
            finally:
                c.close()
        # bare sequence number in the current epoch
        c = st.sse("r", query_id=str(seq_of(ids[1])))
        try:
            eq([e.id for e in c.collect(4, 5)], ids[2:], "bare seq")
            eq(c.drain(1.0, 0.4), [], "nothing after bare-seq replay")
        finally:
            c.close()
        # the newest id: nothing to replay, then live
        c = st.sse("r", last_event_id=ids[-1])
        try:
            eq(c.next_item(5)[0], "retry", "first item")
            eq(c.drain(1.0, 0.4), [], "nothing after the newest id")
            nid = st.publish_ok("r", "live")
            eq(c.next_event(5).id, nid, "live after newest id")
        finally:
            c.close()


@test
def resume_malformed_400():
    with Stack() as st:
        ids = _publish_n(st, "r", 1)
        ep = epoch_of(ids[0])
        bad = ["abc", "-1", "+1", "1.5", "1e3", "0x10", ep + "-", ep + "-x",
               ep[:7] + "-1", ep + "a-1", "zzzzzzzz-1", ep + "--1",
               ep + "-1-2", "1" * 21, "99999999999999999999",
               ep + "-99999999999999999999", "x" * 65]
        fails = []
        for v in bad:
            s, h, body = st.get("/events?topic=r&lastEventId=" + v)
            if s != 400:
                fails.append("lastEventId=%r: %s %r" % (v, s, body[:80]))
            s, h, body = st.get("/events?topic=r",
                                headers={"Last-Event-ID": v})
            if s != 400:
                fails.append("Last-Event-ID: %r: %s %r" % (v, s, body[:80]))
        ok(not fails, "malformed resume points accepted:\n" +
           "\n".join(fails))


@test(timeout=90)
def replay_then_live_seam_concurrent():
    """A publisher runs continuously while clients connect with various
    resume points: every client sees exactly the log, contiguous, ordered,
    without duplicates, across the replay/live seam."""
    with Stack(["--sync", "normal"]) as st:
        pre = []
        for i in range(60):
            t = "s" if i % 3 else "o"
            pre.append((seq_of(st.publish_ok(t, "pre%d" % i)), t))
        pub = Publisher(st, ["s", "s", "o"], prefix="run")
        pub.start()
        clients = []   # (label, topics, resume-seq or None, client)
        try:
            s_ids = [s for s, t in pre if t == "s"]
            epoch = epoch_of(st.publish_ok("s", "pre-last"))
            plan = [("from0", ["s"], "0"), ("from0-both", ["s", "o"], "0"),
                    ("mid", ["s"], "%s-%d" % (epoch, s_ids[10])),
                    ("bare", ["s"], str(s_ids[20])),
                    ("live", ["s"], None), ("live-both", ["s", "o"], None)]
            for k in range(12):
                label, topics, rid = plan[k % len(plan)]
                if k >= len(plan) and rid not in (None, "0"):
                    # resume from something published during the run
                    snap = pub.snapshot()
                    if snap:
                        rid = snap[len(snap) // 2][1]
                c = st.sse(topics, last_event_id=rid)
                clients.append(("%s#%d" % (label, k), topics, rid, c,
                                Reader(c)))
                clients[-1][4].start()
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            pub.stop()
        fin_s = st.publish_ok("s", "final")
        fin_o = st.publish_ok("o", "final")
        note("published %d events during the run" % len(pub.acked))
        ok(len(pub.acked) >= 50, "publisher too slow: %d" % len(pub.acked))
        for label, topics, rid, c, rd in clients:
            finals = set([fin_s] + ([fin_o] if "o" in topics else []))
            poll(lambda: finals <= set(e.id for e in rd.events), 20, 0.05,
                 "%s: final events" % label)
            rd.stop()
            c.close()
        log = db_rows(st.db)
        fails = []
        for label, topics, rid, c, rd in clients:
            got = [seq_of(e.id) for e in rd.events]
            want_all = [s for s, t, _, _ in log if t in topics]
            if rid is None:
                if not got:
                    fails.append("%s: no events" % label)
                    continue
                start = got[0]
                if start not in want_all:
                    fails.append("%s: first event %d not in log" % (label,
                                                                    start))
                    continue
                want = want_all[want_all.index(start):]
            else:
                after = seq_of(rid) if "-" in rid else int(rid)
                want = [s for s in want_all if s > after]
            try:
                assert_contiguous(got, want, label)
            except AssertionError as e:
                fails.append(str(e))
            for e in rd.events:
                if e.type != "message":
                    fails.append("%s: unexpected %s event %r" % (label,
                                                                 e.type, e))
                    break
        ok(not fails, "\n".join(fails))


def _gap_event(c, what):
    ev = c.next_event(5)
    eq(ev.type, "gap", "%s: first event type" % what)
    data = json_loads(ev.data, "%s: gap data" % what)
    ok(isinstance(data, dict) and "lastEventId" in data and
       "firstAvailableId" in data, "%s: gap data %r" % (what, ev.data))
    return ev, data


@test
def gap_after_retention():
    with Stack(["--retention-max-events", "5"]) as st:
        ids = _publish_n(st, "g", 20)
        st.wait_metric("ssereplay_log_events", lambda v: v == 5, 10, "== 5")
        eq(st.metrics()["ssereplay_log_oldest_seq"], seq_of(ids[15]),
           "log_oldest_seq")
        c = st.sse("g", last_event_id=ids[1])
        try:
            ev, data = _gap_event(c, "retention")
            eq(data["lastEventId"], ids[1], "gap lastEventId")
            eq(data["firstAvailableId"], ids[15], "gap firstAvailableId")
            eq(ev.id, ids[14], "gap event id (the one before the first "
               "available)")
            eq([e.id for e in c.collect(5, 5)], ids[15:], "replay after gap")
        finally:
            c.close()
        # reconnecting with the gap's id does not give the gap again
        c = st.sse("g", last_event_id=ids[14])
        try:
            evs = c.collect(5, 5)
            eq([(e.type, e.id) for e in evs],
               [("message", i) for i in ids[15:]], "resume at gap id")
        finally:
            c.close()
        # from 0 (the start): events 1..15 are gone, so a gap too
        c = st.sse("g", query_id="0")
        try:
            ev, data = _gap_event(c, "from 0 after retention")
            eq(data["lastEventId"], "0", "gap lastEventId as sent")
            eq(data["firstAvailableId"], ids[15], "firstAvailableId")
        finally:
            c.close()
        # just before the first retained one: no gap
        c = st.sse("g", last_event_id=ids[14])
        try:
            ev = c.next_event(5)
            eq((ev.type, ev.id), ("message", ids[15]), "no gap at the edge")
        finally:
            c.close()


@test
def gap_after_epoch_change():
    with Stack() as st:
        old = _publish_n(st, "g", 3, "old")
        rc = st.stop_backend()
        eq(rc, 0, "backend exit status on SIGTERM")
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(st.db + suffix):
                os.unlink(st.db + suffix)
        st.start_backend()
        st.wait_healthy()
        new = _publish_n(st, "g", 2, "new")
        ok(epoch_of(new[0]) != epoch_of(old[0]), "epoch did not change: %s "
           "vs %s" % (new[0], old[0]))
        c = st.sse("g", last_event_id=old[-1])
        try:
            ev, data = _gap_event(c, "old epoch")
            eq(data, {"lastEventId": old[-1], "firstAvailableId": new[0]},
               "gap data")
            eq(epoch_of(ev.id), epoch_of(new[0]), "gap id epoch")
            eq(seq_of(ev.id), seq_of(new[0]) - 1, "gap id seq")
            evs = c.collect(2, 5)
            eq([(e.id, e.data) for e in evs],
               [(new[0], "new0"), (new[1], "new1")], "replay after gap")
        finally:
            c.close()


@test
def gap_future_id_and_empty_log():
    with Stack() as st:
        # empty log, newer-than-newest id
        c = st.sse("g", query_id="0")
        try:
            eq(c.next_item(5)[0], "retry", "first item")
            eq(c.drain(0.8, 0.4), [], "from 0 on an empty log: nothing")
        finally:
            c.close()
        c = st.sse("g", query_id="999999")
        try:
            ev, data = _gap_event(c, "future id on empty log")
            eq(data, {"lastEventId": "999999", "firstAvailableId": None},
               "gap data on empty log")
            nid = st.publish_ok("g", "first")
            ev = c.next_event(5)
            eq((ev.type, ev.id), ("message", nid), "live after gap")
        finally:
            c.close()
        ids = [nid] + _publish_n(st, "g", 3)
        fut = epoch_of(nid) + "-999999"
        c = st.sse("g", last_event_id=fut)
        try:
            ev, data = _gap_event(c, "future id")
            eq(data, {"lastEventId": fut, "firstAvailableId": ids[0]},
               "gap data")
            eq(seq_of(ev.id), seq_of(ids[0]) - 1, "gap id seq")
            eq([e.id for e in c.collect(4, 5)], ids, "replay after gap")
        finally:
            c.close()


@test
def retention_max_age():
    with Stack(["--retention-max-age", "1s"]) as st:
        old = _publish_n(st, "a", 3)
        time.sleep(1.3)
        # a commit gives the committer a chance to prune; a pruner that
        # also runs on a quiet log is fine too
        new = st.publish_ok("b", "fresh")
        st.wait_metric("ssereplay_log_events", lambda v: v <= 1, 15,
                       "<= 1 after the age limit")
        rows = db_rows(st.db)
        ok(all(r[0] > seq_of(old[-1]) for r in rows),
           "old events still in the log: %r" % rows)
        c = st.sse("a", last_event_id=old[0])
        try:
            ev, data = _gap_event(c, "after age pruning")
            eq(data["lastEventId"], old[0], "lastEventId")
        finally:
            c.close()
        n2 = st.publish_ok("a", "after")
        ok(seq_of(n2) > seq_of(new), "seq reused after pruning")


@test(timeout=120)
def slow_subscriber_dropped_and_resumes():
    size = 32000
    count = 650       # ~20 MB
    # 1 MiB of slack is ~32 events: far below what the slow client owes
    # (20 MB), far above what a reading client lags by, even on an ASan
    # build on a loaded machine.
    with Stack(["--backlog-bound", "1M", "--sync", "normal"]) as st:
        first = st.publish_ok("big", "warmup")
        fast = st.sse("big", query_id="0")
        fast_rd = Reader(fast, timeout=100)
        fast_rd.start()
        slow = st.sse("big", query_id="0", rcvbuf=4096)
        ev = slow.next_event(5)
        eq(ev.id, first, "slow client's first event")
        slow_seen = [ev]
        m0 = st.metrics()
        # the slow client stops reading now
        ids = [first]
        t0 = time.monotonic()
        conn = None
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", st.port, timeout=30)
        payload = b"x" * size
        # Paced at ~8 MB/s: the "fast" client is a Python thread in this
        # process, and an unpaced publisher loop starves it of the GIL
        # (then it really is far behind and rightly dropped).
        pace = size / 8e6
        for i in range(count):
            s, body = stk.publish(st.port, None, b"topic=big&data=%06d%s" % (
                i, payload), fmt="application/x-www-form-urlencoded",
                conn=conn)
            expect_status(s, 201, body, "publish #%d" % i)
            ids.append(json.loads(body)["id"])
            wait = t0 + (i + 1) * pace - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        conn.close()
        note("published %.1f MB in %.1fs" % (count * size / 1e6,
                                             time.monotonic() - t0))
        st.wait_metric("ssereplay_slow_subscribers_dropped_total",
                       lambda v: v >= m0[
                           "ssereplay_slow_subscribers_dropped_total"] + 1,
                       30, "to increase")
        # the fast client got everything, in order, and is still connected
        poll(lambda: len(fast_rd.events) >= len(ids) or fast_rd.ended, 60,
             0.1, "fast client to receive all events")
        ok(not fast_rd.ended, "fast client was disconnected too (got %d of "
           "%d)" % (len(fast_rd.events), len(ids)))
        assert_contiguous([seq_of(e.id) for e in fast_rd.events],
                          [seq_of(i) for i in ids], "fast client")
        fast_rd.stop()
        fast.close()
        # the slow client: take what was buffered until its stream ends
        slow_seen += slow.read_to_end(60)
        ok(slow.ended, "slow stream did not end")
        last = slow_seen[-1].id
        note("slow client got %d events before the drop" % len(slow_seen))
        ok(len(slow_seen) < len(ids), "slow client was never behind")
        again = st.sse("big", last_event_id=last)
        try:
            rest = again.collect_until(lambda e: e.id == ids[-1], 60)
        finally:
            again.close()
        got = [seq_of(e.id) for e in slow_seen + rest]
        assert_contiguous(got, [seq_of(i) for i in ids],
                          "slow client before + after reconnect")
        bad = [e.id for e in slow_seen + rest
               if e.data[:6] != "%06d" % (seq_of(e.id) - seq_of(first) - 1)
               and e.id != first]
        ok(not bad, "data does not match ids: %s" % bad[:5])


@test(timeout=120)
def cross_process_publish_concurrency():
    """ssereplay publish processes and HTTP publishes at the same time: no
    'database is locked', unique increasing ids, all delivered in order."""
    with Stack() as st:
        sub = st.sse("x")
        eq(sub.next_item(5)[0], "retry", "first item")
        rd = Reader(sub, timeout=100)
        rd.start()
        results = {}
        errors = []

        def cli_worker(w, n):
            ids = []
            for i in range(n):
                r = subprocess.run(
                    [BIN, "publish", "--db", st.db, "--topic", "x",
                     "cli-%d-%d" % (w, i)], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, timeout=30)
                err = r.stderr.decode("utf-8", "replace")
                if r.returncode != 0 or "locked" in err.lower():
                    errors.append("cli %d/%d: exit %s stderr %r" % (
                        w, i, r.returncode, err[-300:]))
                    continue
                ids.append(r.stdout.decode().strip())
            results["cli%d" % w] = ids

        def http_worker(w, n):
            ids = []
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", st.port,
                                              timeout=30)
            for i in range(n):
                s, body = stk.publish(st.port, "x", "http-%d-%d" % (w, i),
                                      conn=conn)
                if s != 201:
                    errors.append("http %d/%d: %s %r" % (w, i, s, body))
                    continue
                ids.append(json.loads(body)["id"])
            conn.close()
            results["http%d" % w] = ids

        ths = [threading.Thread(target=cli_worker, args=(w, 20))
               for w in range(3)]
        ths += [threading.Thread(target=http_worker, args=(w, 60))
                for w in range(2)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(100)
        ok(not any(t.is_alive() for t in ths), "workers hung")
        ok(not errors, "%d publish errors:\n%s" % (len(errors),
                                                   "\n".join(errors[:10])))
        allids = []
        for k, ids in sorted(results.items()):
            bad = [i for i in ids if not ID_RE.match(i)]
            ok(not bad, "%s printed bad ids %r" % (k, bad[:3]))
            seqs = [seq_of(i) for i in ids]
            ok(seqs == sorted(seqs) and len(set(seqs)) == len(seqs),
               "%s: ids not increasing: %s" % (k, seqs))
            allids += ids
        ok(len(set(allids)) == len(allids), "duplicate ids across "
           "publishers")
        eq(len(allids), 3 * 20 + 2 * 60, "ids")
        log = [r[0] for r in db_rows(st.db, ["x"])]
        eq(sorted(seq_of(i) for i in allids), log, "log vs acknowledged ids")
        poll(lambda: len(rd.events) >= len(allids), 10, 0.05,
             "live subscriber to get every event")
        rd.stop()
        sub.close()
        assert_contiguous([seq_of(e.id) for e in rd.events], log,
                          "live subscriber")
        eq(st.cli(["tail", "--db", st.db]).returncode, 0, "tail exit")


@test
def cli_publish_reaches_live_stream():
    with Stack() as st:
        c = st.sse("cli")
        try:
            eq(c.next_item(5)[0], "retry", "first item")
            delays = []
            for i in range(5):
                r = subprocess.run(
                    [BIN, "publish", "--db", st.db, "--topic", "cli",
                     "--event", "ping", "n%d" % i], stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, timeout=15)
                t0 = time.monotonic()
                eq(r.returncode, 0, "publish exit (stderr %r)" % r.stderr)
                eid = r.stdout.decode().strip()
                ok(ID_RE.match(eid), "printed id %r" % eid)
                ev = c.next_event(2.0)
                delays.append((time.monotonic() - t0) * 1000)
                eq((ev.id, ev.type, ev.data), (eid, "ping", "n%d" % i),
                   "delivered event")
            note("delivery delays ms: %s" % ", ".join("%.0f" % d
                                                      for d in delays))
            ok(max(delays) < 2000, "delay %.0f ms" % max(delays))
        finally:
            c.close()


@test(timeout=120)
def resume_after_backend_kill9():
    with Stack() as st:
        pre = _publish_n(st, "k", 5, "pre")
        pub = Publisher(st, ["k"], interval=0.005, prefix="k",
                        tolerate_errors=True)
        specs = [("from0", "0"), ("mid", pre[2]), ("live", None)]
        cl = []
        for label, rid in specs:
            c = st.sse("k", last_event_id=rid)
            eq(c.next_item(5)[0], "retry", "first item")
            cl.append([label, rid, c, []])
        pub.start()
        try:
            # every client has something before the crash
            for x in cl:
                x[3] += x[2].collect(3, 10)
            for x in cl:
                rd = Reader(x[2], timeout=30)
                x.append(rd)
                rd.start()
            time.sleep(0.3)
            st.kill_backend()
            note("killed after %d acked publishes" % len(pub.acked))
            # every stream ends one way or another
            for x in cl:
                x[4].join(15)
                ok(not x[4].is_alive(), "%s: stream did not end after kill "
                   "-9" % x[0])
                x[3] += x[4].events
                x[2].close()
            st.start_backend()
            st.wait_healthy()
            time.sleep(0.5)
        finally:
            pub.stop()
        fin = st.publish_ok("k", "final")
        for x in cl:
            last = x[3][-1].id
            c = st.sse("k", last_event_id=last)
            try:
                x[3] += c.collect_until(lambda e: e.id == fin, 15)
            finally:
                c.close()
        log = [r[0] for r in db_rows(st.db, ["k"])]
        acked = [a[0] for a in pub.acked]
        missing = sorted(set(acked) - set(log))
        ok(not missing, "acknowledged events missing from the log after "
           "kill -9: %s" % missing[:10])
        fails = []
        for label, rid, c, evs, rd in cl:
            got = [seq_of(e.id) for e in evs]
            if rid is None:
                want = log[log.index(got[0]):] if got[0] in log else log
            else:
                after = seq_of(rid) if "-" in rid else int(rid)
                want = [s for s in log if s > after]
            try:
                assert_contiguous(got, want, label)
            except AssertionError as e:
                fails.append(str(e))
        ok(not fails, "\n".join(fails))
