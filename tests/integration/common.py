"""Helpers shared by the test files."""

import http.client
import json
import re
import sqlite3
import threading
import time

import stack
from itest import eq, ok

ID_RE = re.compile(r"^[0-9a-f]{8}-(0|[1-9][0-9]*)$")


def seq_of(event_id):
    ok(ID_RE.match(event_id or ""), "bad event id %r" % (event_id,))
    return int(event_id.split("-", 1)[1])


def epoch_of(event_id):
    ok(ID_RE.match(event_id or ""), "bad event id %r" % (event_id,))
    return event_id.split("-", 1)[0]


def db_rows(db, topics=None):
    """(seq, topic, event, data) of the log, read directly with sqlite3
    (schema from backend/evlog.h), in seq order."""
    # `serve` listens a few ms before it has created the schema, so right
    # after a start the file (or its tables) may not exist yet: wait a bit.
    deadline = time.monotonic() + 5
    while True:
        try:
            con = sqlite3.connect("file:%s?mode=ro" % db, uri=True,
                                  timeout=10)
            try:
                rows = con.execute(
                    "SELECT seq, topic, event, data FROM events ORDER BY seq"
                ).fetchall()
            finally:
                con.close()
            break
        except sqlite3.OperationalError as e:
            if time.monotonic() > deadline or not (
                    "no such table" in str(e) or "unable to open" in str(e)):
                raise
            time.sleep(0.02)
    out = []
    for seq, topic, event, data in rows:
        if isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        if topics is None or topic in topics:
            out.append((seq, topic, event, data))
    return out


def assert_contiguous(seqs, expected, what):
    """seqs must be exactly expected (both lists of ints), with a useful
    message about the first difference."""
    if seqs == expected:
        return
    dups = sorted(set(s for s in seqs if seqs.count(s) > 1))[:10] \
        if len(seqs) < 5000 else "?"
    missing = sorted(set(expected) - set(seqs))
    extra = sorted(set(seqs) - set(expected))
    first = next((i for i, (a, b) in enumerate(zip(seqs, expected))
                  if a != b), min(len(seqs), len(expected)))
    raise AssertionError(
        "%s: got %d events, expected %d; first difference at index %d "
        "(got %r, expected %r); duplicates %s; missing %s; unexpected %s; "
        "in order: %s" % (
            what, len(seqs), len(expected), first, seqs[first:first + 5],
            expected[first:first + 5], dups, missing[:10], extra[:10],
            seqs == sorted(seqs)))


class Publisher(threading.Thread):
    """Publishes continuously over HTTP until stop(); records every
    acknowledged (seq, id, topic, data). With tolerate_errors, failed
    publishes (backend down) are retried after a short pause."""

    def __init__(self, st, topics, interval=0.0, prefix="p",
                 tolerate_errors=False, limit=None):
        threading.Thread.__init__(self, daemon=True)
        self.st = st
        self.topics = topics
        self.interval = interval
        self.prefix = prefix
        self.tolerate = tolerate_errors
        self.limit = limit
        self.acked = []       # (seq, id, topic, data)
        self.failures = []
        self.error = None
        self._halt = threading.Event()
        self.lock = threading.Lock()

    def stop(self, timeout=20):
        self._halt.set()
        self.join(timeout)
        ok(not self.is_alive(), "publisher thread did not stop")
        if self.error:
            raise AssertionError("publisher failed: %s" % self.error)

    def run(self):
        conn = None
        i = 0
        try:
            while not self._halt.is_set():
                if self.limit is not None and i >= self.limit:
                    break
                topic = self.topics[i % len(self.topics)]
                data = "%s-%d" % (self.prefix, i)
                if conn is None:
                    conn = http.client.HTTPConnection(
                        "127.0.0.1", self.st.port, timeout=20)
                try:
                    stt, body = stack.publish(self.st.port, topic, data,
                                              conn=conn)
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = None
                    stt, body = None, repr(e)
                if stt == 201:
                    eid = json.loads(body)["id"]
                    with self.lock:
                        self.acked.append((seq_of(eid), eid, topic, data))
                    i += 1
                else:
                    self.failures.append((stt, body[:200]))
                    if not self.tolerate:
                        raise AssertionError("publish -> %s %r" % (stt,
                                                                    body))
                    if conn is not None:
                        conn.close()
                        conn = None
                    time.sleep(0.05)
                    continue
                if self.interval:
                    time.sleep(self.interval)
        except Exception as e:  # reported by stop()
            self.error = "%s: %s" % (type(e).__name__, e)
        finally:
            if conn is not None:
                conn.close()

    def snapshot(self):
        with self.lock:
            return list(self.acked)


class Reader(threading.Thread):
    """Reads events from an SSEClient in the background until stopped, the
    stream ends, or pred(event) is true."""

    def __init__(self, client, until=None, timeout=60):
        threading.Thread.__init__(self, daemon=True)
        self.c = client
        self.until = until
        self.timeout = timeout
        self.events = []
        self.ended = False
        self.error = None
        self._halt = threading.Event()

    def run(self):
        from sseclient import Timeout, StreamEnded
        deadline = time.monotonic() + self.timeout
        try:
            while not self._halt.is_set() and time.monotonic() < deadline:
                try:
                    ev = self.c.next_event(0.2)
                except Timeout:
                    continue
                except StreamEnded:
                    self.ended = True
                    return
                self.events.append(ev)
                if self.until and self.until(ev):
                    return
        except Exception as e:
            self.error = "%s: %s" % (type(e).__name__, e)

    def stop(self):
        self._halt.set()
        self.join(10)


def first_item(client, timeout=5):
    return client.next_item(timeout)


def json_loads(s, what):
    try:
        return json.loads(s)
    except ValueError:
        raise AssertionError("%s: not JSON: %r" % (what, s[:300]))


def expect_status(got, want, body, what):
    if got != want:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        raise AssertionError("%s: expected HTTP %s, got %s (body %r)" % (
            what, want, got, (body or "")[:300]))


__all__ = ["ID_RE", "seq_of", "epoch_of", "db_rows", "assert_contiguous",
           "Publisher", "Reader", "json_loads", "expect_status", "eq", "ok"]
