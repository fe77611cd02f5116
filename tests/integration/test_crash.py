"""Crash consistency: kill -9 of the backend at random moments while
publishers run at full speed and subscribers stream, then the log against
every 201 the publishers got, and every subscriber against the log.

SSEREPLAY_CRASH_KILLS (default 20) sets the number of kills,
SSEREPLAY_CRASH_SEED the random seed (printed either way, to replay a
failing run's kill timings)."""

import json
import os
import random
import subprocess
import sys
import time

from common import db_rows, seq_of, epoch_of
from itest import test, note, ok
from stack import Stack, TOKEN

HERE = os.path.dirname(os.path.abspath(__file__))
LOAD = os.path.join(HERE, "crashload.py")

KILLS = int(os.environ.get("SSEREPLAY_CRASH_KILLS") or 20)
PUBLISHERS = 4
TOPICS = ["c0", "c1"]
PRE = 10          # events per topic published before the run


def _config():
    # retry 150 ms (jittered +-30 %): subscribers come back quickly after
    # each kill, as a browser honouring retry: does.
    return "publish_token = %s\nretry = 150ms\n" % TOKEN


def _spawn(args, log):
    out = open(log, "ab")
    try:
        return subprocess.Popen([sys.executable, LOAD] + args,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=out)
    finally:
        out.close()


def _results(path, proc, log, what):
    if not os.path.exists(path):
        with open(log, "rb") as f:
            tail = f.read().decode("utf-8", "replace")[-1500:]
        raise AssertionError("%s wrote no results (exit %s): %s" % (
            what, proc.returncode, tail))
    with open(path) as f:
        return json.load(f)


def _first(items, n=5):
    return items[:n] + (["... %d more" % (len(items) - n)]
                        if len(items) > n else [])


@test(timeout=90 + 4 * KILLS)
def crash_kill9_random_moments_no_acked_loss_no_dup_exactly_once():
    seed = int(os.environ.get("SSEREPLAY_CRASH_SEED") or
               random.randrange(1, 10 ** 9))
    rng = random.Random(seed)
    note("seed %d (SSEREPLAY_CRASH_SEED), %d kills (SSEREPLAY_CRASH_KILLS)"
         % (seed, KILLS))
    t_start = time.monotonic()
    with Stack(config=_config()) as st:
        work = os.path.join(st.tmp, "crash")
        os.mkdir(work)
        stop = os.path.join(work, "stop")
        pre = {t: [st.publish_ok(t, "pre-%s-%d" % (t, i))
                   for i in range(PRE)] for t in TOPICS}
        finals = ["final-%s" % t for t in TOPICS]

        # subscribers: (label, topics, first connection's resume point)
        subs_plan = [("all-from0", TOPICS, "0"),
                     ("c0-from0", ["c0"], "0"),
                     ("all-live", TOPICS, None),
                     ("c1-from-pre", ["c1"], pre["c1"][PRE // 2])]
        subs = []
        for label, topics, start in subs_plan:
            out = os.path.join(work, "sub-%s.json" % label)
            log = os.path.join(work, "sub-%s.log" % label)
            args = ["subscribe", "--port", str(st.port), "--topics",
                    ",".join(topics), "--out", out, "--deadline",
                    str(60 + 3 * KILLS),
                    "--finals", ",".join("final-%s" % t for t in topics)]
            if start is not None:
                args += ["--start", start]
            subs.append((label, topics, start, out, log, _spawn(args, log)))
        pubs = []
        for w in range(PUBLISHERS):
            name = "w%d" % w
            out = os.path.join(work, "pub-%s.json" % name)
            log = os.path.join(work, "pub-%s.log" % name)
            pubs.append((name, out, log, _spawn(
                ["publish", "--port", str(st.port), "--token", TOKEN,
                 "--name", name, "--topics", ",".join(TOPICS), "--out",
                 out, "--stop", stop], log)))

        # let everyone get going, then kill at random moments
        time.sleep(0.5)
        kills = []     # (seconds since start, up for, healthy before kill)
        t_run = time.monotonic()
        try:
            for k in range(KILLS):
                up0 = time.monotonic()
                if k > 0 and rng.random() < 0.25:
                    # soon after the start: while it recovers the log and
                    # lighttpd is only reconnecting
                    time.sleep(rng.uniform(0.0, 0.25))
                    healthy = False
                else:
                    if k > 0:
                        st.wait_healthy()
                    time.sleep(rng.uniform(0.2, 1.0))
                    healthy = True
                up = time.monotonic() - up0
                st.kill_backend()
                kills.append((round(time.monotonic() - t_run, 3),
                              round(up, 3), healthy))
                st.start_backend()
            st.wait_healthy()
            time.sleep(0.5)
        finally:
            with open(stop, "w"):
                pass
        run_s = time.monotonic() - t_run
        for name, out, log, p in pubs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for t in TOPICS:
            st.publish_ok(t, "final-%s" % t)
        for sub in subs:
            try:
                sub[5].wait(30)
            except subprocess.TimeoutExpired:
                sub[5].terminate()   # writes what it has
                sub[5].wait(10)

        pub_res = {name: _results(out, p, log, "publisher " + name)
                   for name, out, log, p in pubs}
        sub_res = {sub[0]: _results(sub[3], sub[5], sub[4],
                                    "subscriber " + sub[0]) for sub in subs}
        log_ev = st.log_events()          # `ssereplay tail`, log order
        rows = db_rows(st.db)             # sqlite3: topics
        note("kill times (s since run start, up for s, healthy): %s" %
             " ".join("%.2f/%.2f%s" % (t, u, "" if h else "*")
                      for t, u, h in kills))

        fails = []
        # ---- the log on its own --------------------------------------
        epochs = set(epoch_of(e.id) for e in log_ev)
        if len(epochs) != 1:
            fails.append("log ids have %d epochs: %s" % (len(epochs),
                                                         sorted(epochs)))
        epoch = sorted(epochs)[0] if epochs else None
        log_seqs = [seq_of(e.id) for e in log_ev]
        bad_order = [(log_ev[i - 1].id, log_ev[i].id)
                     for i in range(1, len(log_seqs))
                     if log_seqs[i] <= log_seqs[i - 1]]
        if bad_order:
            fails.append("ids not strictly increasing in log order "
                         "(ssereplay tail): %s" % _first(bad_order))
        topic_of = {r[0]: r[1] for r in rows}
        if sorted(topic_of) != sorted(set(log_seqs)):
            fails.append("ssereplay tail printed %d events, sqlite3 reads "
                         "%d rows" % (len(log_seqs), len(rows)))
        log_by_seq = {}
        where = {}                        # data -> [seq, ...]
        for e in log_ev:
            s = seq_of(e.id)
            log_by_seq[s] = e
            where.setdefault(e.data, []).append(s)
        dup = [(d, s) for d, s in where.items() if len(s) > 1]
        if dup:
            fails.append("%d published data appear more than once in the "
                         "log: %s" % (len(dup), _first(sorted(dup))))

        # ---- the log against every publisher -------------------------
        sent = {}                         # data -> (publisher, n, topic)
        acked = 0
        unanswered_in_log = 0
        other_status = {}
        lost = []
        wrong = []
        for name, res in sorted(pub_res.items()):
            prev = None
            pos_prev = None
            for n, topic, data, status, info in res["attempts"]:
                sent[data] = (name, n, topic)
                s_in_log = where.get(data, [None])[0]
                if status == 201:
                    acked += 1
                    if epoch_of(info) != epoch:
                        wrong.append("%s #%d acked with id %s of another "
                                     "epoch than the log's %s" % (
                                         name, n, info, epoch))
                    s = seq_of(info)
                    ev = log_by_seq.get(s)
                    if ev is None:
                        lost.append("%s #%d %r acked as %s: no such id in "
                                    "the log%s" % (
                                        name, n, data, info,
                                        "" if s_in_log is None else
                                        " (its data is at seq %d)" %
                                        s_in_log))
                    elif ev.data != data or topic_of.get(s) != topic:
                        lost.append("%s #%d acked as %s with %r on %s; the "
                                    "log has %r on %s there" % (
                                        name, n, info, data, topic, ev.data,
                                        topic_of.get(s)))
                    elif ev.type != "message":
                        wrong.append("%s: %s has type %r" % (name, info,
                                                             ev.type))
                    if prev is not None and s <= prev[1]:
                        wrong.append("%s: acked ids not increasing: #%d got "
                                     "%s after #%d got %s" % (
                                         name, n, info, prev[0],
                                         "%s-%d" % (epoch, prev[1])))
                    prev = (n, s)
                else:
                    key = str(status)
                    other_status[key] = other_status.get(key, 0) + 1
                    if s_in_log is not None:
                        unanswered_in_log += 1
                # a publisher sends one request after the other: whatever
                # reached the log is in the order it was sent
                if s_in_log is not None:
                    if pos_prev is not None and s_in_log <= pos_prev[1]:
                        wrong.append("%s: #%d is at seq %d, before #%d at "
                                     "seq %d" % (name, n, s_in_log,
                                                 pos_prev[0], pos_prev[1]))
                    pos_prev = (n, s_in_log)
        if lost:
            fails.append("%d acknowledged events lost or altered: %s" % (
                len(lost), "; ".join(_first(lost))))
        if wrong:
            fails.append("%d ordering/id problems: %s" % (
                len(wrong), "; ".join(_first(wrong))))
        known = set(sent) | set("pre-%s-%d" % (t, i) for t in TOPICS
                                for i in range(PRE)) | set(finals)
        phantom = [(s, d) for d, ss in where.items() if d not in known
                   for s in ss]
        if phantom:
            fails.append("%d events in the log that nobody published: %s" %
                         (len(phantom), _first(sorted(phantom))))
        for t in TOPICS:
            for i, eid in enumerate(pre[t]):
                ev = log_by_seq.get(seq_of(eid))
                if ev is None or ev.data != "pre-%s-%d" % (t, i):
                    fails.append("pre-run event %s lost: %r" % (eid, ev))
        note("%d kills in %.1f s; %d publishes acked (%.0f/s); not acked: "
             "%s (null = no answer), %d of those in the log; the log holds "
             "%d events" % (
                 len(kills), run_s, acked, acked / max(run_s, 0.001),
                 json.dumps(other_status, sort_keys=True),
                 unanswered_in_log, len(log_ev)))
        ok(acked >= 20 * len(kills), "too few publishes acknowledged (%d): "
           "the run did not exercise anything" % acked)

        # ---- every subscriber against the log ------------------------
        log_list = [(seq_of(e.id), e.id, e.data, topic_of.get(seq_of(e.id)))
                    for e in log_ev]
        stats = []
        for label, topics, start, out, log, p in subs:
            res = sub_res[label]
            evs = res["events"]
            conns = res["conns"]
            gaps = [e for e in evs if e[2] != "message"]
            if gaps:
                fails.append("%s: %d non-message events (nothing was "
                             "pruned): %s" % (label, len(gaps),
                                              _first(gaps, 3)))
            if not res["done"]:
                fails.append("%s: did not receive the final events %s "
                             "(got %s) within its deadline; %d events, "
                             "%d connections, last %r" % (
                                 label, finals, res["seen_finals"],
                                 len(evs), len(conns),
                                 evs[-1] if evs else None))
            mine = [x for x in log_list if x[3] in topics]
            got = [(e[1], e[3]) for e in evs]
            if start is None:
                first = seq_of(evs[0][1]) if evs else None
                want_l = [x for x in mine if first is not None and
                          x[0] >= first]
            else:
                after = 0 if start == "0" else seq_of(start)
                want_l = [x for x in mine if x[0] > after]
            want = [(x[1], x[2]) for x in want_l]
            if got != want:
                gs = set(got)
                ws = set(want)
                dups = len(got) - len(gs)
                missing = [w for w in want if w not in gs]
                extra = [g for g in got if g not in ws]
                i = next((i for i, (a, b) in enumerate(zip(got, want))
                          if a != b), min(len(got), len(want)))
                conn_at = evs[i][0] if i < len(evs) else None
                fails.append(
                    "%s: got %d events, the log has %d for it; first "
                    "difference at #%d (on connection %s): got %r, log %r;"
                    " duplicates %d, missing %d %s, not in the log %d %s" % (
                        label, len(got), len(want), i, conn_at,
                        got[i:i + 3], want[i:i + 3], dups, len(missing),
                        _first(missing, 3), len(extra), _first(extra, 3)))
            stats.append("%s %d events/%d connections" % (
                label, len(evs), len(conns)))
        note("subscribers: " + ", ".join(stats))
        note("whole test %.1f s" % (time.monotonic() - t_start))
        if fails:
            print("seed %d; kills %r" % (seed, kills))
            print("backend.log tail:")
            from stack import tail_file
            print(tail_file(st.backend_log, 40))
        ok(not fails, "seed %d: " % seed + "\n".join(fails))
