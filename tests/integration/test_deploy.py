"""Every deployment the README recommends, proven with the real server
started from its file in conf/ (see webservers.py): one test per row, each
over HTTP/1.1 and over HTTP/2 with TLS.

Each row proves:
  * the page and the API under one origin (GET / is frontend/index.html);
  * the statuses of the HTTP contract (201, 400, 401, 403, 405, 413, 415)
    and a CORS preflight come through the server unchanged (status, the
    backend's Content-Type, the allow headers);
  * streaming is unbuffered: a single small event, published alone, reaches
    a waiting stream by itself (asserted within 1 s; the time is noted),
    which a server holding 4 KB / 64 KB / the whole response would not do;
  * Last-Event-ID (a header, as a reconnecting EventSource sends it) reaches
    the backend and resume is exact: no gap, no duplicate, while events
    are published around the reconnect;
  * events published by another backend process (the CLI; in the fcgid and
    CGI rows every HTTP publish is another process as well) reach streams;
  * a client that leaves is cleaned up in the backend (its stream count
    returns to the earlier value) within a heartbeat or two;
  * an idle stream outlives twice the server's idle/IO timeout (shortened
    in the test copies) thanks to the heartbeat, and still delivers;
  * over HTTPS + HTTP/2 (curl --http2, self-signed certificate): the stream
    is HTTP/2, resumes exactly from Last-Event-ID and is unbuffered.
"""

import json
import os
import time

from common import expect_status, seq_of, assert_contiguous, eq, ok
from itest import test, note, poll
from sseclient import Timeout, StreamEnded
from stack import TOKEN
import webservers
from webservers import (Deployment, CurlStream, HEARTBEAT_MS, SERVER_TIMEOUT,
                        CORS_ORIGIN, REPO)

HB = HEARTBEAT_MS / 1000.0


def _statuses(d):
    """The HTTP contract through the server, unchanged."""
    with open(os.path.join(REPO, "frontend", "index.html"), "rb") as f:
        page = f.read()
    s, h, body = d.get("/")
    expect_status(s, 200, body, "GET / (the page)")
    eq(body, page, "GET / body is frontend/index.html")
    ok(h.get("content-type", "").startswith("text/html"),
       "GET / Content-Type %r" % h.get("content-type"))

    def plain(s, h, body, want, what):
        expect_status(s, want, body, what)
        ct = h.get("content-type", "")
        ok(ct.startswith("text/plain"), "%s: Content-Type %r (the "
           "backend's text/plain answer replaced?)" % (what, ct))
        ok(body.strip(), "%s: empty body" % what)

    s, body = d.publish("t", "no-token", token=None)
    expect_status(s, 401, body, "publish without a token")
    s, body = d.publish("t", "bad-token", token="wrong")
    expect_status(s, 403, body, "publish with an unknown token")
    s, body = d.publish("t", "x" * 2000)
    expect_status(s, 413, body, "publish of 2000 bytes (max 1k)")
    s, body = d.publish("t", "plain", fmt="text/plain")
    expect_status(s, 415, body, "publish as text/plain")
    s, body = d.publish("bad topic", "x")
    expect_status(s, 400, body, "publish to a bad topic")
    s, h, body = d.get("/publish")
    plain(s, h, body, 405, "GET /publish")
    s, h, body = d.get("/events")
    plain(s, h, body, 400, "GET /events without a topic")
    s, h, body = d.get("/events?topic=t&lastEventId=abc")
    plain(s, h, body, 400, "GET /events with a malformed id")
    s, h, body = d.get("/healthz")
    expect_status(s, 200, body, "GET /healthz")
    # both tokens of the config, form and JSON
    s, body = d.publish("t", "json", fmt="json", token=webservers.stack.TOKEN2)
    expect_status(s, 201, body, "JSON publish with the second token")
    # CORS preflight from the configured origin, and from another
    s, h, body = d.request("OPTIONS", "/publish", headers={
        "Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    expect_status(s, 204, body, "preflight OPTIONS /publish")
    eq(h.get("access-control-allow-origin"), CORS_ORIGIN,
       "preflight Access-Control-Allow-Origin")
    ok("Authorization" in h.get("access-control-allow-headers", ""),
       "preflight allow-headers %r" % h.get("access-control-allow-headers"))
    s, h, body = d.request("OPTIONS", "/events", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method":
        "GET", "Access-Control-Request-Headers": "last-event-id"})
    expect_status(s, 204, body, "preflight OPTIONS /events, other origin")
    ok("access-control-allow-origin" not in h,
       "allow header for an unknown origin: %r" % h)
    # a cross-origin stream carries the allow header
    c = d.sse("t", headers={"Origin": CORS_ORIGIN})
    try:
        eq(c.header("access-control-allow-origin"), CORS_ORIGIN,
           "stream Access-Control-Allow-Origin")
    finally:
        c.close()


def _latency(d, c, topic, n=5):
    """Publish n single events one at a time; each must arrive alone,
    before the next is published. Returns the delays in ms (from the 201)."""
    out = []
    for i in range(n):
        st, body = d.publish(topic, "lat-%d" % i)
        t_ack = time.monotonic()
        expect_status(st, 201, body, "publish for latency")
        eid = json.loads(body)["id"]
        try:
            ev = c.next_event(1.0)
        except Timeout:
            raise AssertionError(
                "%s: a single %d-byte event did not reach the stream within "
                "1 s of its 201 (buffered until more output?)" % (
                    d.row, len(body)))
        out.append((time.monotonic() - t_ack) * 1000)
        eq((ev.id, ev.data), (eid, "lat-%d" % i), "event %d on the stream" % i)
    return out


def _resume(d, topic):
    """Read a stream, leave it in the middle, come back with Last-Event-ID
    (header only) while another thread keeps publishing: every event of the
    topic exactly once, in order."""
    first = [d.publish_ok(topic, "r%d" % i) for i in range(6)]
    c = d.sse(topic, query_id=first[0])      # saved position: the query
    got = c.collect(5, 5)
    eq([e.id for e in got], first[1:], "replay after the saved position")
    last = got[2].id                          # leave after the 3rd of them
    c.close()
    more = [d.publish_ok(topic, "m%d" % i) for i in range(3)]
    c = d.sse(topic, last_event_id=last)      # reconnect: the header
    try:
        more2 = [d.publish_ok(topic, "n%d" % i) for i in range(3)]
        want = first[4:] + more + more2
        got2 = c.collect(len(want), 5)
        assert_contiguous([seq_of(e.id) for e in got2],
                          [seq_of(i) for i in want],
                          "%s resume from Last-Event-ID %s" % (d.row, last))
        try:
            extra = c.next_event(0.3)
            raise AssertionError("unexpected event after resume: %r" % extra)
        except Timeout:
            pass
    finally:
        c.close()
    return want[-1]


def _cross_process(d, c, topic):
    """An event appended by another process (the CLI) reaches the stream."""
    r = d.cli(["publish", "--db", d.db, "--topic", topic, "from-cli"],
              check=True)
    eid = r.stdout.decode().strip()
    ev = c.next_event(2)
    eq((ev.id, ev.data), (eid, "from-cli"), "CLI publish on the stream")


def _disconnect(d, topic, before):
    """A departing client is cleaned up in the backend: its stream count
    goes from `before` (the streams the test holds) to one more and back.
    Returns the seconds the way back took."""
    poll(lambda: d.backend_streams() == before, 5, 0.02,
         "%s: backend stream count settles at %d" % (d.row, before))
    c = d.sse(topic)
    c.next_item(5)        # retry: the stream is open in the backend
    poll(lambda: d.backend_streams() == before + 1, 5, 0.02,
         "%s: backend stream count %d -> %d" % (d.row, before, before + 1))
    t0 = time.monotonic()
    c.close()
    limit = 2 * HB + 1.5
    poll(lambda: d.backend_streams() == before, limit, 0.02,
         "%s: backend stream count back to %d after the client left" % (
             d.row, before))
    return time.monotonic() - t0


def _tls(d, topic, after_id):
    """HTTP/2 over TLS: head, exact resume, unbuffered live events."""
    base = "https://127.0.0.1:%d" % d.tls_port
    want = [d.publish_ok(topic, "h%d" % i) for i in range(3)]
    c = CurlStream(base + "/events?topic=" + topic, last_event_id=after_id)
    try:
        ok(c.status_line.startswith("HTTP/2 200"), "%s TLS: status line %r "
           "(not HTTP/2?)" % (d.row, c.status_line))
        eq(c.headers.get("content-type"), "text/event-stream; charset=utf-8",
           "TLS Content-Type")
        got = c.collect(len(want), 5)
        eq([e.id for e in got], want, "%s HTTP/2 resume" % d.row)
        return _latency(d, c, topic, 3), c
    except BaseException:
        c.close()
        raise


def _prove(row):
    d = Deployment(row).start()
    with d:
        # The idle stream comes first and is checked last, after everything
        # else had time to run: it stays silent for more than 2 timeouts.
        idle = d.sse("idle")
        t_idle = time.monotonic()
        ok(idle.next_item(5)[0] == "retry", "idle stream opened")

        _statuses(d)

        c = d.sse("live")
        c.next_item(5)
        lat = _latency(d, c, "live")
        _cross_process(d, c, "live")
        c.close()

        last = _resume(d, "res")
        t_disc = _disconnect(d, "gone", 1)   # the idle stream

        lat2, tls_stream = _tls(d, "res", last)

        # the idle stream: kept alive by heartbeats past 2 x the timeout
        # (read until then, then take what is already there)
        need = 2 * SERVER_TIMEOUT + 0.5
        comments = 0
        deadline = t_idle + need
        try:
            while True:
                try:
                    it = idle.next_item(max(0.05, deadline -
                                            time.monotonic()))
                except Timeout:
                    if time.monotonic() >= deadline:
                        break
                    continue
                if it[0] != "comment":
                    raise AssertionError("idle stream got %r" % (it,))
                comments += 1
        except StreamEnded:
            raise AssertionError(
                "%s: the idle stream was cut after %.1fs (server timeout "
                "%ds, heartbeat %dms)" % (row, time.monotonic() - t_idle,
                                          SERVER_TIMEOUT, HEARTBEAT_MS))
        eid = d.publish_ok("idle", "still-here")
        ev = idle.next_event(2)
        eq((ev.id, ev.data), (eid, "still-here"), "idle stream after %.1fs"
           % (time.monotonic() - t_idle))
        ok(comments >= 2, "idle stream: only %d heartbeats" % comments)
        # the HTTP/2 stream lived through it too
        eid = d.publish_ok("res", "tls-late")
        ev = tls_stream.next_event(2)
        eq(ev.id, eid, "HTTP/2 stream after the idle period")
        tls_stream.close()

        if d.kind == "fcgid":
            ok(len(d.backend_pids()) >= 2, "fcgid: one backend process?")
        idle.close()
        note("%s: HTTP/1.1 latency ms median %.1f max %.1f; HTTP/2+TLS "
             "median %.1f max %.1f; disconnect cleanup %.0f ms; idle %.1fs "
             "(> 2 x %ds) with %d heartbeats" % (
                 row, sorted(lat)[len(lat) // 2], max(lat),
                 sorted(lat2)[len(lat2) // 2], max(lat2), t_disc * 1000,
                 time.monotonic() - t_idle, SERVER_TIMEOUT, comments))


@test(timeout=40)
def lighttpd_daemon():
    _prove("lighttpd-daemon")


@test(timeout=40)
def lighttpd_spawn():
    _prove("lighttpd-spawn")


@test(timeout=40)
def apache_proxy_fcgi():
    _prove("apache-proxy-fcgi")


@test(timeout=40)
def apache_fcgid():
    _prove("apache-fcgid")


@test(timeout=40)
def apache_cgi():
    _prove("apache-cgi")
