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
    is HTTP/2, resumes exactly from Last-Event-ID and is unbuffered;
  * WebSocket, in the rows that proxy /ws (webservers.WS_ROWS): the npm `ws`
    client (tests/ws/client.mjs) connects through the server over HTTP/1.1
    with the site's Origin, gets a live event, publishes one and gets the
    ack and the event; the same over wss:// (HTTP/1.1 over TLS); where the
    server offers WebSocket over HTTP/2 (RFC 8441, lighttpd does), which
    browsers then use, the same over an HTTP/2 stream; and a quiet socket
    opened at the start outlives twice the server's idle timeout (the
    backend's pings). In the fcgid and CGI rows /ws is not served (404).
"""

import json
import os
import socket
import ssl
import struct
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


def _ws_smoke(d, idle_ws):
    """WebSocket through the server: live event, publish with ack, over
    HTTP/1.1, over TLS (HTTP/1.1), over HTTP/2 if offered; the quiet
    socket opened at the start is still there. Returns a note."""
    import test_ws
    from test_ws import connect, query, ws_url
    if not d.ws:
        r = test_ws.RawWS(("127.0.0.1", d.port))
        try:
            s, h, body = r.handshake(host="127.0.0.1:%d" % d.port,
                                     path="/ws?topic=w")
        finally:
            r.close()
        eq(s, 404, "%s: /ws where WebSocket is not set up" % d.row)
        return "no /ws (404)"
    done = []
    for via, origin in (("http", "http://127.0.0.1:%d" % d.port),
                        ("tls", "https://127.0.0.1:%d" % d.tls_port)):
        topic = "ws-" + via
        w = connect(ws_url(d, query(topic, token=TOKEN),
                           "tls" if via == "tls" else "lighttpd"),
                    headers={"Origin": origin})
        try:
            eid = d.publish_ok(topic, "live " + via)
            eq(test_ws.ev_tuple(w.events(1)[0]),
               (eid, topic, "message", "live " + via),
               "%s %s: live event over WebSocket" % (d.row, via))
            a = w.publish(topic, "ack " + via, event="e")
            eq(test_ws.ev_tuple(w.events(1)[0]),
               (a, topic, "e", "ack " + via),
               "%s %s: own event after the ack" % (d.row, via))
            done.append(via)
        finally:
            w.close()
    if _offers_h2_websocket(d):
        a, ev = _h2_websocket(d, "ws-h2")
        eq((ev["id"], ev["data"]), (a, "over h2"), "%s: WebSocket over "
           "HTTP/2 (RFC 8441)" % d.row)
        done.append("HTTP/2 (RFC 8441)")
    # the quiet socket of the start: alive, and still delivering
    ok(not any("close" in i for i in idle_ws.items),
       "%s: the quiet WebSocket was closed: %s" % (d.row,
                                                    idle_ws.describe()))
    eid = d.publish_ok("ws-idle", "late")
    eq(idle_ws.events(1)[0]["id"], eid, "%s: quiet WebSocket after %.1fs" % (
        d.row, time.monotonic() - idle_ws.items[0]["t"]))
    pings = sum(1 for i in idle_ws.items if "ping" in i)
    return "WebSocket ok over %s; quiet socket %.1fs with %d pings" % (
        ", ".join(done), time.monotonic() - idle_ws.items[0]["t"], pings)


def _h2_frame(typ, flags, sid, payload):
    return (struct.pack("!I", len(payload))[1:] + bytes([typ, flags]) +
            struct.pack("!I", sid) + payload)


def _h2_open(d):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.tls_port),
                                                 timeout=5),
                        server_hostname="localhost")
    ok(s.selected_alpn_protocol() == "h2", "%s: no h2 by ALPN" % d.row)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" +
              _h2_frame(4, 0, 0, b""))
    return s


def _h2_frames(s, deadline):
    """Yield (type, flags, stream, payload) of an HTTP/2 connection."""
    buf = b""
    while True:
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3],
                                                                 "big"):
            n = int.from_bytes(buf[:3], "big")
            yield (buf[3], buf[4], int.from_bytes(buf[5:9], "big") &
                   0x7FFFFFFF, buf[9:9 + n])
            buf = buf[9 + n:]
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            b = s.recv(65536)
        except socket.timeout:
            raise AssertionError("HTTP/2: timed out")
        if not b:
            raise AssertionError("HTTP/2: connection closed")
        buf += b


def _offers_h2_websocket(d):
    """Does the server's HTTP/2 SETTINGS offer extended CONNECT (RFC 8441
    §3, SETTINGS_ENABLE_CONNECT_PROTOCOL = 1)? Browsers then open
    WebSockets on the HTTP/2 connection."""
    s = _h2_open(d)
    try:
        for typ, fl, sid, p in _h2_frames(s, time.monotonic() + 5):
            if typ == 4 and not fl & 1:
                for i in range(0, len(p) - 5, 6):
                    k, v = struct.unpack("!HI", p[i:i + 6])
                    if k == 8:
                        return v == 1
                return False
    finally:
        s.close()


def _h2_websocket(d, topic):
    """RFC 8441 by hand: extended CONNECT on stream 1 (HPACK literals,
    no Huffman), publish one event in a DATA frame, read the ack and the
    event. Returns (ack id, event)."""
    import test_ws

    def lit(name, value):
        n, v = name.encode(), value.encode()
        return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v
    auth = "127.0.0.1:%d" % d.tls_port
    hdrs = (lit(":method", "CONNECT") + lit(":protocol", "websocket") +
            lit(":scheme", "https") + lit(":authority", auth) +
            lit(":path", "/ws?" + test_ws.query(topic, token=TOKEN)) +
            lit("sec-websocket-version", "13") +
            lit("origin", "https://" + auth))
    s = _h2_open(d)
    try:
        s.sendall(_h2_frame(1, 4, 1, hdrs))
        ack = ev = None
        wsbuf = b""
        for typ, fl, sid, p in _h2_frames(s, time.monotonic() + 5):
            if typ == 4 and not fl & 1:
                s.sendall(_h2_frame(4, 1, 0, b""))
            elif typ == 1 and sid == 1:
                # 0x88: indexed :status 200 (RFC 7541 Appendix A)
                ok(p[:1] == b"\x88", "%s: RFC 8441 CONNECT answered %r" % (
                    d.row, p[:40]))
                s.sendall(_h2_frame(0, 0, 1, test_ws.RawWS.frame(
                    1, json.dumps({"topic": topic, "data": "over h2"}))))
            elif typ == 0 and sid == 1:
                ok(not fl & 1, "%s: the HTTP/2 WebSocket stream ended "
                   "(%r)" % (d.row, wsbuf))
                wsbuf += p
                while len(wsbuf) >= 2 and len(wsbuf) >= 2 + (wsbuf[1] &
                                                             0x7F):
                    n = wsbuf[1] & 0x7F
                    ok(n < 126, "long frame")
                    op, payload = wsbuf[0] & 0x0F, wsbuf[2:2 + n]
                    wsbuf = wsbuf[2 + n:]
                    if op == 9:
                        s.sendall(_h2_frame(0, 0, 1, test_ws.RawWS.frame(
                            0xA, payload)))
                    elif op == 1:
                        m = json.loads(payload)
                        if "ack" in m:
                            ack = m["ack"]
                        elif "topic" in m:
                            ev = m
                        else:
                            raise AssertionError("over h2: %r" % m)
                if ack and ev:
                    return ack, ev
            elif typ == 3 and sid == 1:
                raise AssertionError("%s: RST_STREAM %r on the HTTP/2 "
                                     "WebSocket" % (d.row, p))
    finally:
        s.close()


def _prove(row):
    d = Deployment(row).start()
    with d:
        # The idle stream comes first and is checked last, after everything
        # else had time to run: it stays silent for more than 2 timeouts.
        idle = d.sse("idle")
        t_idle = time.monotonic()
        ok(idle.next_item(5)[0] == "retry", "idle stream opened")
        idle_ws = None
        if d.ws:
            from test_ws import connect, query, ws_url
            idle_ws = connect(ws_url(d, query("ws-idle")), headers={
                "Origin": "http://127.0.0.1:%d" % d.port})

        _statuses(d)

        c = d.sse("live")
        c.next_item(5)
        lat = _latency(d, c, "live")
        _cross_process(d, c, "live")
        c.close()

        last = _resume(d, "res")
        # the idle stream, and the quiet WebSocket (a subscriber too)
        t_disc = _disconnect(d, "gone", 1 if idle_ws is None else 2)

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

        try:
            ws_note = _ws_smoke(d, idle_ws)
        finally:
            if idle_ws is not None:
                idle_ws.close()

        if d.kind == "fcgid":
            ok(len(d.backend_pids()) >= 2, "fcgid: one backend process?")
        idle.close()
        note("%s: %s" % (row, ws_note))
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
