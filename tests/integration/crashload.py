#!/usr/bin/env python3
"""Client processes for test_crash.py (standard library only).

    crashload.py publish   --port P --token T --name W --topics a,b
                           --out FILE --stop FILE
    crashload.py subscribe --port P --topics a,b [--start ID] --finals x,y
                           --out FILE --deadline SECONDS

publish: POSTs /publish as fast as the answers come, over one keep-alive
connection through lighttpd, until the stop file exists. Every attempt has
data of its own ("W-<n>", never sent twice, never retried with the same
data) and is recorded: [n, topic, data, status, id-or-reason]. status is
201 with the acknowledged id, another HTTP status with the body, or null
when no answer came (connection refused/reset/closed); no answer is
"uncertain": the event may or may not be in the log, but at most once.

subscribe: an EventSource as a browser runs it. The URL stays the same
for every connection (topics, and lastEventId=ID with --start); once an
event has arrived, each reconnect sends Last-Event-ID with the last id
received. A stream that ends, a refused connection or a non-200 answer is
retried after the server's retry: hint (a browser would give up on a
non-200; a page would make a new EventSource). It stops once it has seen
an event with each of the --finals data, or at the deadline. Records every
event [conn, id, type, data] and every connection attempt.

Each writes its JSON results to --out (via a temp file and rename) when it
stops; SIGTERM stops it too.
"""

import argparse
import http.client
import json
import os
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

from sseclient import SSEClient, Timeout, StreamEnded  # noqa: E402

_halt = [False]


def _on_term(signum, frame):
    _halt[0] = True


def _write(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def publish(a):
    topics = a.topics.split(",")
    hdrs = {"Authorization": "Bearer " + a.token,
            "Content-Type": "application/x-www-form-urlencoded"}
    attempts = []
    conn = None
    n = 0
    t0 = time.monotonic()
    while not _halt[0] and not os.path.exists(a.stop):
        topic = topics[n % len(topics)]
        data = "%s-%d" % (a.name, n)
        body = urllib.parse.urlencode([("topic", topic), ("data", data)])
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", a.port,
                                              timeout=30)
        try:
            conn.request("POST", "/publish", body=body, headers=hdrs)
            r = conn.getresponse()
            status = r.status
            text = r.read().decode("utf-8", "replace")
            if r.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            conn = None
            status, text = None, "%s: %s" % (type(e).__name__, e)
        if status == 201:
            try:
                attempts.append([n, topic, data, 201, json.loads(text)["id"]])
            except (ValueError, KeyError, TypeError):
                attempts.append([n, topic, data, -1, "bad 201 body %r" %
                                 text[:200]])
        else:
            attempts.append([n, topic, data, status, text[:200]])
            # the backend is down (or lighttpd has it disabled for a
            # moment): do not spin
            time.sleep(0.01)
        n += 1
    if conn is not None:
        conn.close()
    _write(a.out, {"name": a.name, "attempts": attempts,
                   "seconds": time.monotonic() - t0})


def subscribe(a):
    topics = a.topics.split(",")
    finals = set(a.finals.split(",")) if a.finals else set()
    q = [("topic", t) for t in topics]
    if a.start is not None:
        q.append(("lastEventId", a.start))
    path = "/events?" + urllib.parse.urlencode(q)
    events = []      # [conn, id, type, data]
    conns = []       # [t, status or error, events received on it]
    seen_finals = set()
    last_id = None
    retry_ms = 300
    t0 = time.monotonic()
    deadline = t0 + a.deadline
    done = False
    while not done and not _halt[0] and time.monotonic() < deadline:
        cno = len(conns)
        rec = [round(time.monotonic() - t0, 3), None, 0]
        conns.append(rec)
        c = None
        try:
            c = SSEClient("127.0.0.1", a.port, path, last_event_id=last_id,
                          timeout=5)
            rec[1] = c.status
            if c.status == 200:
                while not _halt[0] and time.monotonic() < deadline:
                    try:
                        it = c.next_item(0.5)
                    except Timeout:
                        continue
                    if it[0] == "retry":
                        retry_ms = it[1]
                        continue
                    if it[0] != "event":
                        continue
                    ev = it[1]
                    rec[2] += 1
                    events.append([cno, ev.id, ev.type, ev.data])
                    if ev.id:
                        last_id = ev.id
                    if ev.data in finals:
                        seen_finals.add(ev.data)
                        if seen_finals >= finals:
                            done = True
                            break
        except StreamEnded:
            pass
        except Exception as e:  # refused, reset, bad head: reconnect
            if rec[1] is None:
                rec[1] = "%s: %s" % (type(e).__name__, e)
        finally:
            if c is not None:
                c.close()
        if not done:
            time.sleep(retry_ms / 1000.0)
    _write(a.out, {"topics": topics, "start": a.start, "events": events,
                   "conns": conns, "done": done,
                   "seen_finals": sorted(seen_finals),
                   "seconds": time.monotonic() - t0})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("publish", "subscribe"))
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token")
    ap.add_argument("--name", default="w")
    ap.add_argument("--topics", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop")
    ap.add_argument("--start")
    ap.add_argument("--finals", default="")
    ap.add_argument("--deadline", type=float, default=120)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, _on_term)
    if a.role == "publish":
        publish(a)
    else:
        subscribe(a)


if __name__ == "__main__":
    main()
