"""GET /ws: the WebSocket endpoint (RFC 6455), with a client no one here
wrote (the npm `ws` package, driven through tests/ws/client.mjs) and, for
the framing cases that a correct client cannot produce, hand-made frames
over a plain socket (RawWS below).

Three ways in: the backend's own socket (`--ws unix:...`, "direct"),
through lighttpd (conf/lighttpd.conf, mod_proxy with the upgrade header)
and through Apache (conf/apache-proxy-fcgi.conf, ProxyPass ...
upgrade=websocket). Every case states what it proves in its docstring.
"""

import base64
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.parse

from common import (ID_RE, Publisher, assert_contiguous, db_rows,
                    expect_status, epoch_of, seq_of, eq, ok)
from itest import test, note, poll
from sseclient import Timeout, StreamEnded
from stack import Stack, REPO, TOKEN, TOKEN2, default_config, tail_file

NODE = shutil.which("node") or "/usr/bin/node"
CLIENT = os.path.join(REPO, "tests", "ws", "client.mjs")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455 §1.3
KEY = "dGhlIHNhbXBsZSBub25jZQ=="                 # the RFC's sample key
ADMIN = "test-admin-token"
CORS = "https://app.example.org"


# ---- URLs -------------------------------------------------------------------

def query(topics, last=None, token=None, extra=()):
    if isinstance(topics, str):
        topics = [topics]
    q = [("topic", t) for t in topics]
    if last is not None:
        q.append(("lastEventId", last))
    if token is not None:
        q.append(("token", token))
    q += list(extra)
    return urllib.parse.urlencode(q)


def ws_url(st, q, via="lighttpd", path="/ws"):
    """direct: the backend's socket; lighttpd (Stack) or any web server
    on st.port; tls: the HTTPS port of a Deployment."""
    if via == "direct":
        return "ws+unix://%s:%s?%s" % (st.ws_sock, path, q)
    if via == "tls":
        return "wss://127.0.0.1:%d%s?%s" % (st.tls_port, path, q)
    return "ws://127.0.0.1:%d%s?%s" % (st.port, path, q)


# ---- the Node client --------------------------------------------------------

class NodeWS(object):
    """tests/ws/client.mjs in a subprocess: every line it prints is kept
    (self.items); take() hands out the first one not taken yet that
    matches, so events that arrive while a test waits for an ack are
    still there afterwards."""

    def __init__(self, url, headers=None, timeout=30, args=()):
        argv = [NODE, CLIENT, "--timeout", str(timeout)] + list(args)
        for k, v in (headers or {}).items():
            argv += ["-H", "%s: %s" % (k, v)]
        self.url = url
        self.p = subprocess.Popen(argv + [url], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.items = []
        self.taken = set()
        self.eof = False
        self.err = b""
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                it = json.loads(line)
            except ValueError:
                it = {"garbage": line.decode("utf-8", "replace")}
            it["t"] = time.monotonic()
            with self.cv:
                self.items.append(it)
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def _read_err(self):
        self.err = self.p.stderr.read()

    def describe(self):
        with self.cv:
            its = [{k: v for k, v in i.items() if k != "t"}
                   for i in self.items[-12:]]
        return "%s: last output %s%s" % (
            self.url, json.dumps(its)[:1500],
            (" stderr %r" % self.err[-300:]) if self.err else "")

    def take(self, pred, timeout=5.0, what="an item"):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, it in enumerate(self.items):
                    if i not in self.taken and pred(it):
                        self.taken.add(i)
                        return it
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    break
                self.cv.wait(min(left, 0.1))
        raise AssertionError("%s: no %s within %.1fs (%s)" % (
            "client ended" if self.eof else "timeout", what, timeout,
            self.describe()))

    def cmd(self, obj):
        self.p.stdin.write((json.dumps(obj) + "\n").encode())
        self.p.stdin.flush()

    # -- what tests ask for --

    def opened(self, timeout=5.0):
        it = self.take(lambda i: any(k in i for k in (
            "open", "unexpected-response", "close", "timeout")),
            timeout, "handshake result")
        if "open" not in it:
            raise AssertionError("WebSocket not opened: %s (%s)" % (
                json.dumps({k: v for k, v in it.items() if k != "t"})[:500],
                self.describe()))
        return self

    def refused(self, timeout=5.0):
        """(status, headers, body) of a refused handshake."""
        it = self.take(lambda i: any(k in i for k in (
            "open", "unexpected-response", "close", "timeout")),
            timeout, "handshake result")
        if "unexpected-response" not in it:
            raise AssertionError("handshake not refused: %s" % (
                self.describe()))
        return it["unexpected-response"], it["headers"], it["body"]

    def msg(self, pred=lambda m: True, timeout=5.0, what="message"):
        return self.take(lambda i: "msg" in i and pred(i["msg"]), timeout,
                         what)["msg"]

    def events(self, n, timeout=5.0):
        return [self.msg(lambda m: "topic" in m, timeout, "event %d of %d"
                         % (k + 1, n)) for k in range(n)]

    def answer(self, timeout=5.0):
        return self.msg(lambda m: "ack" in m or "error" in m, timeout,
                        "ack or error")

    def publish(self, topic, data, event=None, timeout=5.0):
        """Publish over the socket; the id of its ack (fails on error)."""
        obj = {"topic": topic, "data": data}
        if event is not None:
            obj["event"] = event
        self.cmd({"json": obj})
        a = self.answer(timeout)
        ok("ack" in a, "publish %r over WebSocket: answer %r" % (obj, a))
        ok(ID_RE.match(a["ack"]), "ack id %r" % a["ack"])
        return a["ack"]

    def closed(self, timeout=5.0):
        it = self.take(lambda i: "close" in i or "timeout" in i, timeout,
                       "close")
        ok("close" in it, "no close: %s" % self.describe())
        return it["close"]["code"], it["close"]["reason"]

    def quiet(self, seconds, pred=lambda i: "msg" in i, what="message"):
        """Nothing matching pred arrives for this long."""
        try:
            it = self.take(pred, seconds, what)
        except AssertionError:
            return
        raise AssertionError("unexpected %s: %r" % (what, it))

    def all_msgs(self):
        with self.cv:
            return [i["msg"] for i in self.items if "msg" in i]

    def close(self):
        if self.p.poll() is None:
            try:
                self.cmd({"exit": True})
            except OSError:
                pass
            try:
                self.p.wait(2)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def connect(url, headers=None, timeout=8.0, args=()):
    """Open a NodeWS, retrying a 502/503 from the web server for a while
    (after a backend restart lighttpd's mod_proxy holds back a backend it
    failed to reach for a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        c = NodeWS(url, headers=headers, args=args)
        it = c.take(lambda i: any(k in i for k in (
            "open", "unexpected-response", "close", "timeout")), 5,
            "handshake result")
        if "open" in it:
            return c
        c.close()
        if not (it.get("unexpected-response") in (502, 503) and
                time.monotonic() < deadline):
            raise AssertionError("WebSocket to %s not opened: %r" % (url, it))
        time.sleep(0.1)


def ev_tuple(m):
    return (m["id"], m["topic"], m["event"], m["data"])


# ---- hand-made frames -------------------------------------------------------

class RawWS(object):
    """A WebSocket client on a plain socket: any request head, any frame
    (unmasked, reserved bits, bad opcodes). addr: a unix socket path or
    (host, port)."""

    def __init__(self, addr, timeout=5.0):
        if isinstance(addr, str):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(addr)
        self.buf = bytearray()
        self.eof = False

    def head(self, path="/ws?topic=t", method="GET", host="localhost",
             key=KEY, version="13", headers=None, drop=()):
        h = [("Host", host), ("Upgrade", "websocket"),
             ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
             ("Sec-WebSocket-Version", version)]
        h = [(k, v) for k, v in h if k not in drop and v is not None]
        h += list((headers or {}).items())
        return ("%s %s HTTP/1.1\r\n" % (method, path) +
                "".join("%s: %s\r\n" % kv for kv in h) + "\r\n").encode()

    def handshake(self, timeout=5.0, **kw):
        """Send a head; (status, headers, body). On 101 the body is
        empty and frames follow; otherwise the body is read to its end."""
        self.s.sendall(self.head(**kw))
        return self.read_response(timeout)

    def read_response(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise AssertionError("no response head (got %r)" %
                                     bytes(self.buf[:300]))
        i = self.buf.index(b"\r\n\r\n")
        lines = bytes(self.buf[:i]).decode("latin-1").split("\r\n")
        del self.buf[:i + 4]
        status = int(lines[0].split()[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        body = b""
        if status != 101:
            n = hdrs.get("content-length")
            if n is not None:
                while len(self.buf) < int(n) and self._fill(deadline):
                    pass
                body = bytes(self.buf[:int(n)])
            else:
                while self._fill(deadline):
                    pass
                body = bytes(self.buf)
        return status, hdrs, body.decode("utf-8", "replace")

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("timed out")
        self.s.settimeout(left)
        try:
            b = self.s.recv(65536)
        except socket.timeout:
            raise Timeout("timed out")
        except ConnectionResetError:
            b = b""
        if not b:
            self.eof = True
            return False
        self.buf += b
        return True

    @staticmethod
    def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, mbit | 127, n)
        if not mask:
            return hdr + payload
        key = os.urandom(4)
        return hdr + key + bytes(c ^ key[i % 4]
                                 for i, c in enumerate(payload))

    def send(self, opcode, payload=b"", **kw):
        self.s.sendall(self.frame(opcode, payload, **kw))

    def text(self, s, **kw):
        self.send(0x1, s, **kw)

    def read_frame(self, timeout=5.0):
        """(fin, opcode, payload) of the next server frame, or None at
        the end of the connection."""
        deadline = time.monotonic() + timeout
        while True:
            b = self.buf
            if len(b) >= 2:
                n = b[1] & 0x7F
                off = 2
                if n == 126 and len(b) >= 4:
                    n = struct.unpack("!H", b[2:4])[0]
                    off = 4
                elif n == 127 and len(b) >= 10:
                    n = struct.unpack("!Q", b[2:10])[0]
                    off = 10
                ok(not b[1] & 0x80, "server frame is masked")
                if (b[1] & 0x7F) < 126 or off > 2:
                    if len(b) >= off + n:
                        fin, op = bool(b[0] & 0x80), b[0] & 0x0F
                        payload = bytes(b[off:off + n])
                        del b[:off + n]
                        return fin, op, payload
            if self.eof or not self._fill(deadline):
                return None

    def read_close(self, timeout=5.0, answer_pings=True):
        """Read until the server's close frame: (code, reason, frames
        before it); code None if the connection ended without one."""
        deadline = time.monotonic() + timeout
        frames = []
        while True:
            f = self.read_frame(max(0.01, deadline - time.monotonic()))
            if f is None:
                return None, "", frames
            fin, op, payload = f
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else 1005
                return code, payload[2:].decode("utf-8", "replace"), frames
            if op == 0x9 and answer_pings:
                try:
                    self.send(0xA, payload)
                except OSError:
                    pass
            frames.append(f)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()
                            ).decode()


def ws_config(extra=""):
    return default_config(extra="ws_publish_topic = open\n"
                          "admin_token = %s\n%s" % (ADMIN, extra))


# ---- live delivery, publish, permissions ------------------------------------

@test(timeout=30)
def ws_live_same_ids_as_sse_direct_and_through_lighttpd():
    """One event reaches SSE and WebSocket subscribers alike, with the same
    id, type and data, directly and through lighttpd; a socket of two
    topics gets both (with the topic), one of a single topic gets only
    its own; data is carried byte for byte (CR, LF, CR LF, non-ASCII)."""
    with Stack(config=ws_config()) as st:
        sse = st.sse("live")
        eq(sse.next_item(5)[0], "retry", "SSE stream opened")
        a = connect(ws_url(st, query("live")))
        b = NodeWS(ws_url(st, query(["live", "other"]), "direct")).opened()
        try:
            datas = ["plain", "two\nlines", "cr\rlf\r\nend",
                     "caf\u00e9 \u2713", '{"json":"text"}']
            want = []
            for i, d in enumerate(datas):
                ev = "tick" if i % 2 else None
                eid = st.publish_ok("live", d, event=ev)
                want.append((eid, "live", ev or "message", d))
            oid = st.publish_ok("other", "o1")
            evs = sse.collect(len(datas), 5)
            eq([(e.id, e.type) for e in evs], [(w[0], w[2]) for w in want],
               "SSE ids and types")
            eq([ev_tuple(m) for m in a.events(len(want))], want,
               "WebSocket through lighttpd")
            got_b = [ev_tuple(m) for m in b.events(len(want) + 1)]
            eq(got_b, want + [(oid, "other", "message", "o1")],
               "WebSocket direct, two topics")
            for m in a.all_msgs() + b.all_msgs():
                eq(sorted(m), ["data", "event", "id", "topic"],
                   "fields of an event message %r" % m)
            a.quiet(0.3)
        finally:
            a.close()
            b.close()
            sse.close()


@test(timeout=30)
def ws_publish_ack_and_event_reaches_sse():
    """A client with a token (in the URL, through lighttpd) publishes: the
    ack carries the id the SSE stream shows, the event type and data are
    kept, non-string data is stored as its compact JSON text, and the
    publisher's own subscription gets its event. Bad messages get an
    {"error": reason} and the connection stays usable."""
    with Stack(config=ws_config("max_event_size = 1k\n")) as st:
        sse = st.sse("pub")
        sse.next_item(5)
        w = connect(ws_url(st, query("pub", token=TOKEN)))
        try:
            a1 = w.publish("pub", "hello", event="note")
            ev = sse.next_event(5)
            eq((ev.id, ev.type, ev.data), (a1, "note", "hello"),
               "the SSE stream gets the WebSocket publish")
            eq(ev_tuple(w.events(1)[0]), (a1, "pub", "note", "hello"),
               "the publisher's own stream")
            a2 = w.publish("pub", {"a": [1, 2], "b": None, "c": "\u00e9"})
            ev = sse.next_event(5)
            eq((ev.id, ev.type, json.loads(ev.data)),
               (a2, "message", {"a": [1, 2], "b": None, "c": "\u00e9"}),
               "JSON data on the SSE stream")
            ok(" " not in ev.data, "non-string data not compact: %r" %
               ev.data)
            eq(w.events(1)[0]["data"], ev.data, "same data over WebSocket")
            bad = [
                ("not JSON", {"send": "topic=pub&data=x"}),
                ("unknown field", {"json": {"topic": "pub", "data": "x",
                                            "extra": 1}}),
                ("no data", {"json": {"topic": "pub"}}),
                ("no topic", {"json": {"data": "x"}}),
                ("bad topic", {"json": {"topic": "a b", "data": "x"}}),
                ("bad event", {"json": {"topic": "pub", "event": "a b",
                                        "data": "x"}}),
                ("data too large", {"json": {"topic": "pub",
                                             "data": "x" * 1500}}),
                ("a JSON array", {"send": "[1,2]"}),
            ]
            for what, c in bad:
                w.cmd(c)
                a = w.answer()
                ok("error" in a and isinstance(a["error"], str) and
                   a["error"], "%s: answer %r, want an error" % (what, a))
            a3 = w.publish("pub", "after the errors")
            ok(seq_of(a3) == seq_of(a2) + 1, "ids %s then %s: an error "
               "took a sequence number?" % (a2, a3))
            eq([r[0] for r in db_rows(st.db, ["pub"])],
               [seq_of(a1), seq_of(a2), seq_of(a3)],
               "the log holds exactly the acknowledged events")
        finally:
            w.close()
            sse.close()


@test(timeout=30)
def ws_publish_anonymous_only_to_ws_publish_topic_token_opens_all():
    """Without a token, publishing is allowed only to the topics listed
    with ws_publish_topic; a valid token (URL or Authorization: Bearer,
    either configured token) opens every topic. Reading needs no token."""
    with Stack(config=ws_config()) as st:
        anon = NodeWS(ws_url(st, query("open"), "direct")).opened()
        hdr = connect(ws_url(st, query("open")),
                      headers={"Authorization": "Bearer " + TOKEN2})
        tok = connect(ws_url(st, query("open", token=TOKEN)))
        try:
            a = anon.publish("open", "anon-ok")
            anon.cmd({"json": {"topic": "closed", "data": "anon-refused"}})
            r = anon.answer()
            ok("error" in r, "anonymous publish to a topic not in "
               "ws_publish_topic: %r" % r)
            b = hdr.publish("closed", "bearer-ok")
            c = tok.publish("closed", "token-ok")
            rows = db_rows(st.db)
            eq([(s, t, d) for s, t, _, d in rows],
               [(seq_of(a), "open", "anon-ok"),
                (seq_of(b), "closed", "bearer-ok"),
                (seq_of(c), "closed", "token-ok")],
               "the log: the refused publish is not there")
        finally:
            for x in (anon, hdr, tok):
                x.close()


@test(timeout=20)
def ws_bad_token_is_403_never_anonymous():
    """A token that is not configured is refused at the handshake (403
    with a reason), in the URL or in Authorization, even for a topic
    anyone may publish to, directly and through lighttpd; the refusal is
    counted in ssereplay_ws_refused_total."""
    with Stack(config=ws_config()) as st:
        before = st.metrics().get("ssereplay_ws_refused_total", 0)
        cases = [
            (ws_url(st, query("open", token="wrong")), None),
            (ws_url(st, query("open", token="wrong"), "direct"), None),
            (ws_url(st, query("open")), {"Authorization": "Bearer wrong"}),
            (ws_url(st, query("open"), "direct"),
             {"Authorization": "Bearer " + TOKEN + "x"}),
        ]
        for url, h in cases:
            with NodeWS(url, headers=h) as c:
                s, hd, body = c.refused()
                expect_status(s, 403, body, "bad token %s %r" % (url, h))
                ok(body.strip(), "403 without a reason")
        st.wait_metric("ssereplay_ws_refused_total",
                       lambda v: v >= before + len(cases), 5,
                       ">= %d" % (before + len(cases)))


@test(timeout=20)
def ws_answers_come_in_the_order_sent():
    """README: "answers come in the order sent", also when an {"error"}
    found before the commit (permission, bad JSON) follows a publish that
    still waits for its commit. Twelve messages sent together: publish,
    refused, publish, refused..."""
    with Stack(config=ws_config()) as st:
        with NodeWS(ws_url(st, query("open"), "direct")) as w:
            w.opened()
            want = []
            for i in range(6):
                w.cmd({"json": {"topic": "open", "data": "ok%d" % i}})
                w.cmd({"json": {"topic": "closed", "data": "no%d" % i}})
                want += ["ack", "error"]
            got = [("ack" if "ack" in a else "error") for a in
                   (w.answer() for _ in range(len(want)))]
            eq(got, want,
               "KNOWN BACKEND BUG: order of the answers to %d messages "
               "(ws_on_text() in backend/hub.c queues an error at once, "
               "acks only after the commit)" % len(want))


# ---- resume -----------------------------------------------------------------

@test(timeout=30)
def ws_resume_after_drop_exactly_once():
    """lastEventId replays everything after it once, then live; a client
    that drops (no close frame) and comes back with the last id it saw
    gets exactly what it missed, no gap, no duplicate. A bare sequence
    number works as a resume point; no lastEventId means live only."""
    with Stack(config=ws_config()) as st:
        ids = [st.publish_ok("r", "r%d" % i) for i in range(6)]
        # live only: no history
        w0 = NodeWS(ws_url(st, query("r"), "direct")).opened()
        w = NodeWS(ws_url(st, query("r", last=ids[0]), "direct")).opened()
        try:
            eq([m["id"] for m in w.events(5)], ids[1:], "replay after "
               "ids[0]")
            live = [st.publish_ok("r", "l%d" % i) for i in range(2)]
            eq([m["id"] for m in w.events(2)], live, "then live")
            eq([m["id"] for m in w0.events(2)], live, "live only: no "
               "history, then the live events")
            last = live[-1]
            w.cmd({"terminate": True})
            code, _ = w.closed()
            eq(code, 1006, "close code after terminate")
        finally:
            w.close()
            w0.close()
        missed = [st.publish_ok("r", "m%d" % i) for i in range(3)]
        w = connect(ws_url(st, query("r", last=last)))
        try:
            eq([m["id"] for m in w.events(3)], missed, "resume through "
               "lighttpd")
            more = [st.publish_ok("r", "n%d" % i) for i in range(2)]
            eq([m["id"] for m in w.events(2)], more, "live after resume")
            w.quiet(0.3)
            ok(not any("gap" in m for m in w.all_msgs()), "a gap: %r" %
               w.all_msgs())
        finally:
            w.close()
        # a bare sequence number, and 0 for everything
        with NodeWS(ws_url(st, query("r", last=str(seq_of(missed[1]))),
                           "direct")) as w:
            w.opened()
            eq([m["id"] for m in w.events(3)], missed[2:] + more,
               "resume from a bare sequence number")
        with NodeWS(ws_url(st, query("r", last="0"), "direct")) as w:
            w.opened()
            eq([m["id"] for m in w.events(13)], ids + live + missed + more,
               "lastEventId=0: everything")
            w.quiet(0.2)


@test(timeout=45)
def ws_resume_after_backend_kill9_no_gap_no_duplicate():
    """Events are published continuously (HTTP, through lighttpd) while a
    WebSocket client reads through lighttpd; the backend is killed with
    SIGKILL and restarted; the client reconnects with the last id it saw.
    What it got before and after is exactly the topic's log, in order:
    no gap, no duplicate, nothing acknowledged lost."""
    with Stack(config=ws_config()) as st:
        pub = Publisher(st, ["k"], interval=0.004, prefix="k",
                        tolerate_errors=True)
        pub.start()
        w = connect(ws_url(st, query("k", last="0")))
        try:
            w.events(30, 10)
            st.kill_backend(signal.SIGKILL)
            code, _ = w.closed(5)
            ok(code in (1006, 1001, 1011), "close code %s after kill -9" %
               code)
            first = [m for m in w.all_msgs()]
        finally:
            w.close()
        ok(all("id" in m and "topic" in m for m in first),
           "unexpected messages before the kill: %r" %
           [m for m in first if "topic" not in m][:3])
        n_before = len(first)
        st.start_backend()
        st.wait_healthy()
        poll(lambda: len(pub.snapshot()) >= n_before + 30, 10, 0.05,
             "publishes after the restart")
        w = connect(ws_url(st, query("k", last=first[-1]["id"])))
        try:
            time.sleep(0.2)
            pub.stop()
            rows = db_rows(st.db, ["k"])
            want = [r[0] for r in rows]
            last_seq = want[-1]
            second = []
            deadline = time.monotonic() + 10
            while not second or seq_of(second[-1]["id"]) < last_seq:
                left = deadline - time.monotonic()
                ok(left > 0, "resumed stream stopped at %s, log ends at %d"
                   % (second[-1]["id"] if second else None, last_seq))
                m = w.msg(timeout=left)
                ok("gap" not in m, "gap after kill -9: %r" % m)
                second.append(m)
            w.quiet(0.3)
        finally:
            w.close()
        got = [seq_of(m["id"]) for m in first + second]
        assert_contiguous(got, want, "WebSocket across kill -9")
        acked = set(s for s, _, _, _ in pub.snapshot())
        ok(acked <= set(want), "acknowledged events missing from the log: "
           "%s" % sorted(acked - set(want))[:10])
        note("%d events before the kill, %d after; %d publish failures "
             "while down" % (len(first), len(second), len(pub.failures)))


def _gap(w, what):
    m = w.msg(timeout=5, what="gap")
    ok("gap" in m, "%s: first message %r is not a gap" % (what, m))
    eq(sorted(m), ["gap", "id"], "%s: fields of the gap message" % what)
    eq(sorted(m["gap"]), ["firstAvailableId", "lastEventId"],
       "%s: fields of gap" % what)
    return m


@test(timeout=30)
def ws_gap_for_pruned_foreign_and_future_resume_points():
    """A resume point the log cannot serve gets the gap message, as SSE
    gets `event: gap`: pruned by retention, from another log's epoch, from
    the future, on an empty log (firstAvailableId null). Its id resumes
    without the gap; the replay after it is exact."""
    with Stack(["--retention-max-events", "5"], config=ws_config()) as st:
        ids = [st.publish_ok("g", "g%d" % i) for i in range(20)]
        st.wait_metric("ssereplay_log_events", lambda v: v == 5, 10, "== 5")
        with NodeWS(ws_url(st, query("g", last=ids[1]))) as w:
            w.opened()
            m = _gap(w, "pruned")
            eq(m, {"id": ids[14], "gap": {"lastEventId": ids[1],
                                          "firstAvailableId": ids[15]}},
               "gap after retention")
            eq([x["id"] for x in w.events(5)], ids[15:], "replay after gap")
        with NodeWS(ws_url(st, query("g", last=ids[14]), "direct")) as w:
            w.opened()
            eq([x["id"] for x in w.events(5)], ids[15:], "resume at the "
               "gap's id: no second gap")
            ok(not any("gap" in x for x in w.all_msgs()), "gap again")
        ep = epoch_of(ids[0])
        other = ("%08x" % (int(ep, 16) ^ 0xFFFFFFFF)) + "-3"
        future = ep + "-999999"
        for what, last in (("another epoch", other), ("future", future)):
            with NodeWS(ws_url(st, query("g", last=last), "direct")) as w:
                w.opened()
                m = _gap(w, what)
                eq(m["gap"], {"lastEventId": last,
                              "firstAvailableId": ids[15]}, what)
                eq(seq_of(m["id"]), seq_of(ids[15]) - 1, "%s: gap id" % what)
                eq([x["id"] for x in w.events(5)], ids[15:],
                   "%s: replay after gap" % what)
    with Stack(config=ws_config()) as st:
        with NodeWS(ws_url(st, query("g", last="999999"), "direct")) as w:
            w.opened()
            m = _gap(w, "empty log")
            eq(m["gap"], {"lastEventId": "999999",
                          "firstAvailableId": None}, "gap on an empty log")
            nid = st.publish_ok("g", "first")
            eq([x["id"] for x in w.events(1)], [nid], "live after the gap")


# ---- handshake --------------------------------------------------------------

@test(timeout=30)
def ws_origin_checked_against_host_and_cors_origin():
    """Origin: absent is allowed (not a browser); equal to the Host the
    client asked for is allowed; a configured cors_origin is allowed;
    anything else (another host, another port, "null", a look-alike of
    the allowed origin) is 403 with a reason."""
    with Stack(config=ws_config("cors_origin = %s\n" % CORS)) as st:
        site = "http://127.0.0.1:%d" % st.port
        allowed = [None, site, CORS]
        refused = ["http://evil.example", "http://127.0.0.1:%d" % (
            st.port + 1), "http://localhost:%d" % st.port, "null",
            "https://app.example.org.evil.example"]
        for via in ("lighttpd", "direct"):
            for o in allowed + refused:
                h = {} if o is None else {"Origin": o}
                if via == "direct":
                    # the backend's socket: Host is whatever we send
                    h["Host"] = "127.0.0.1:%d" % st.port
                with NodeWS(ws_url(st, query("t"), via), headers=h) as c:
                    if o in allowed:
                        c.opened()
                    else:
                        s, hd, body = c.refused()
                        expect_status(s, 403, body, "%s Origin %r" % (via, o))
                        ok("origin" in body.lower(), "403 reason %r" % body)


@test(timeout=20)
def ws_cors_origin_star_refused_by_the_config():
    """No wildcard: letting any page open a socket that carries the
    user's cookies is what the Origin check is for. `cors_origin = *` is
    refused at start with the line and the reason."""
    import subprocess
    from stack import BIN
    with Stack(mode=None, lighttpd=False) as st:
        path = os.path.join(st.tmp, "star.conf")
        with open(path, "w") as f:
            f.write("cors_origin = *\n")
        r = subprocess.run([BIN, "serve", "--config", path, "--listen",
                            "unix:" + st.sock, "--db", st.db, "--ws",
                            "unix:" + st.ws_sock], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=10)
        ok(r.returncode != 0, "cors_origin = * accepted")
        ok("star.conf:1: cors_origin" in r.stderr, "message: %r" % r.stderr)


@test(timeout=30)
def ws_handshake_errors():
    """Plain HTTP answers with a reason for every bad handshake, from the
    backend's socket and through lighttpd: 426 + Sec-WebSocket-Version: 13
    for version 12, 405 for POST, 400 for a missing or bad key, missing
    upgrade headers, a bad query (as /events), 404 for a path not ending
    in /ws, 431 for a head over 8 KiB, 408 for a head not complete in 5 s,
    503 when max_subscribers (shared with SSE) is reached. A good one gets
    101 with the RFC's Sec-WebSocket-Accept."""
    with Stack(config=ws_config()) as st:
        slow = RawWS(st.ws_sock)
        slow.s.sendall(b"GET /ws?topic=t HTTP/1.1\r\nHost: x\r\n")
        t_slow = time.monotonic()

        def direct(**kw):
            r = RawWS(st.ws_sock)
            try:
                return r.handshake(**kw)
            finally:
                r.close()

        def proxied(**kw):
            r = RawWS(("127.0.0.1", st.port))
            try:
                return r.handshake(host="127.0.0.1:%d" % st.port, **kw)
            finally:
                r.close()

        s, h, body = direct()
        eq(s, 101, "a good handshake")
        eq(h.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
           "Sec-WebSocket-Accept of the RFC 6455 §1.3 sample key")
        eq(h.get("upgrade", "").lower(), "websocket", "Upgrade")
        s, h, body = direct(path="/api/v1/ws?topic=t")
        eq(s, 101, "routed by the last segment: /api/v1/ws")
        cases = [
            ("version 12", dict(version="12"), 426),
            ("no version", dict(version=None), 426),
            ("POST", dict(method="POST"), 405),
            ("no key", dict(drop=("Sec-WebSocket-Key",)), 400),
            ("short key", dict(key=base64.b64encode(b"x" * 15).decode()),
             400),
            ("key not base64", dict(key="not a key at all!!!!!!=="), 400),
            ("no Upgrade", dict(drop=("Upgrade",)), 400),
            ("no Connection", dict(drop=("Connection",)), 400),
            ("Upgrade: h2c", dict(drop=("Upgrade",),
                                  headers={"Upgrade": "h2c"}), 400),
            ("no topic", dict(path="/ws"), 400),
            ("empty topic", dict(path="/ws?topic="), 400),
            ("bad topic", dict(path="/ws?topic=a%20b"), 400),
            ("17 topics", dict(path="/ws?" + "&".join(
                "topic=t%d" % i for i in range(17))), 400),
            ("long topic", dict(path="/ws?topic=" + "x" * 129), 400),
            ("bad lastEventId", dict(path="/ws?topic=t&lastEventId=abc"),
             400),
            ("unknown parameter", dict(path="/ws?topic=t&foo=1"), 400),
        ]
        fails = []
        for what, kw, want in cases:
            for via, fn in (("direct", direct), ("lighttpd", proxied)):
                if via == "lighttpd" and what in ("no version", "no Upgrade",
                                                  "no Connection",
                                                  "Upgrade: h2c", "POST"):
                    continue   # lighttpd's own handling, checked below
                try:
                    s, h, body = fn(**kw)
                except Exception as e:
                    fails.append("%s %s: %s" % (via, what, e))
                    continue
                if s != want:
                    fails.append("%s %s: %s, want %s (%r)" % (
                        via, what, s, want, body[:100]))
                    continue
                if not body.strip():
                    fails.append("%s %s: %s without a reason" % (via, what,
                                                                 s))
                if want == 426 and h.get("sec-websocket-version") != "13":
                    fails.append("%s %s: 426 without Sec-WebSocket-Version:"
                                 " 13 (%r)" % (via, what, h))
                if via == "direct" and not h.get(
                        "content-type", "").startswith("text/plain"):
                    fails.append("%s %s: Content-Type %r" % (
                        via, what, h.get("content-type")))
        # Through lighttpd a POST with upgrade headers is refused by
        # someone (lighttpd or the backend); it never becomes a socket.
        s, h, body = proxied(method="POST", headers={"Content-Length": "0"})
        if s not in (400, 405):
            fails.append("lighttpd POST: %s" % s)
        s, h, body = direct(path="/events?topic=t")
        if s != 404:
            fails.append("direct /events on the WebSocket socket: %s" % s)
        s, h, body = direct(path="/wsx?topic=t")
        if s != 404:
            fails.append("direct /wsx: %s" % s)
        s, h, body = direct(headers={"X-Pad": "p" * 9000})
        if s != 431:
            fails.append("direct 9000-byte header: %s" % s)
        ok(not fails, "%d handshake cases wrong:\n%s" % (len(fails),
                                                        "\n".join(fails)))
        # the head that never ends: 408 after 5 s
        s, h, body = slow.read_response(8)
        dt = time.monotonic() - t_slow
        slow.close()
        eq(s, 408, "incomplete head")
        ok(4.0 <= dt <= 7.5, "408 after %.1fs, want about 5 s" % dt)
    with Stack(["--max-subscribers", "1"], config=ws_config()) as st:
        sse = st.sse("t")
        sse.next_item(5)
        try:
            with NodeWS(ws_url(st, query("t"), "direct")) as c:
                s, h, body = c.refused()
                expect_status(s, 503, body, "WebSocket past max_subscribers")
        finally:
            sse.close()
        poll(lambda: st.metrics().get("ssereplay_subscribers") == 0, 5,
             0.05, "subscriber gone")
        with NodeWS(ws_url(st, query("t"), "direct")) as c:
            c.opened()
            s, h, body = st.get("/events?topic=t")
            expect_status(s, 503, body, "SSE past max_subscribers held by "
                          "a WebSocket")


# ---- framing ----------------------------------------------------------------

def _raw_open(st, path="/ws?topic=t"):
    r = RawWS(st.ws_sock)
    s, h, body = r.handshake(path=path)
    eq(s, 101, "handshake (%r)" % body)
    return r


@test(timeout=30)
def ws_protocol_errors_close_with_rfc_codes():
    """Frames a conforming client never sends, built by hand on the
    backend's socket: each closes the connection with the RFC 6455 §7.4
    code (1002 protocol error, 1003 binary, 1007 bad UTF-8, 1009 too big),
    and each is counted in ssereplay_ws_protocol_closes_total."""
    with Stack(config=ws_config("ws_max_message = 4k\n")) as st:
        F = RawWS.frame
        head = '{"topic":"open","data":"'
        cases = [
            ("unmasked text", F(1, "{}", mask=False), 1002),
            ("unmasked ping", F(9, "p", mask=False), 1002),
            ("RSV1", F(1, "{}", rsv=4), 1002),
            ("RSV3", F(1, "{}", rsv=1), 1002),
            ("opcode 3", F(3, "x"), 1002),
            ("opcode 0xB", F(0xB, "x"), 1002),
            ("continuation first", F(0, "x"), 1002),
            ("text inside a fragmented text",
             F(1, head, fin=False) + F(1, "x"), 1002),
            ("fragmented ping", F(9, "p", fin=False), 1002),
            ("ping of 126 bytes", F(9, "p" * 126), 1002),
            ("close of 1 byte", F(8, b"\x03"), 1002),
            ("invalid UTF-8", F(1, b'{"topic":"open","data":"\xff"}'), 1007),
            ("overlong UTF-8", F(1, b'"\xc0\xaf"'), 1007),
            ("surrogate in UTF-8", F(1, b'"\xed\xa0\x80"'), 1007),
            ("UTF-8 cut across fragments, never completed",
             F(1, b'"a\xc3', fin=False) + F(0, b'("'), 1007),
            ("binary", F(2, b"\x00\x01"), 1003),
            ("text over ws_max_message", F(1, "x" * 5000), 1009),
            ("fragments over ws_max_message",
             F(1, "x" * 3000, fin=False) + F(0, "x" * 3000), 1009),
            # (judged when its first payload byte arrives: wslay reports
            # the frame start only then)
            ("a 2^40-byte length", struct.pack("!BBQ", 0x81, 0xFF, 1 << 40)
             + b"mask" + b"x", 1009),
            ("a 64-bit length not in shortest form",
             struct.pack("!BBQ", 0x81, 0xFF, 100) + b"mask" + b"x" * 100,
             1002),
            ("a length with the top bit set",
             struct.pack("!BBQ", 0x81, 0xFF, 1 << 63) + b"mask", 1002),
        ]
        before = st.metrics().get("ssereplay_ws_protocol_closes_total", 0)
        fails = []
        for what, data, want in cases:
            r = _raw_open(st)
            try:
                r.s.sendall(data)
                code, reason, _ = r.read_close(3)
                if code != want:
                    fails.append("%s: close %s (%r), want %s" % (
                        what, code, reason, want))
                # then the server ends the connection (after our close
                # frame at the latest)
                try:
                    r.send(8, struct.pack("!H", want))
                except OSError:
                    pass
                if r.read_frame(3) is not None:
                    fails.append("%s: frames after the close" % what)
            except Exception as e:
                fails.append("%s: %s: %s" % (what, type(e).__name__, e))
            finally:
                r.close()
        ok(not fails, "%d of %d cases wrong:\n%s" % (len(fails), len(cases),
                                                    "\n".join(fails)))
        st.wait_metric("ssereplay_ws_protocol_closes_total",
                       lambda v: v >= before + len(cases), 5,
                       ">= %d" % (before + len(cases)))
        # the same through lighttpd with the real client: binary -> 1003,
        # too large -> 1009
        with connect(ws_url(st, query("t"))) as c:
            c.cmd({"binary": base64.b64encode(b"\x00bin").decode()})
            eq(c.closed()[0], 1003, "binary message through lighttpd")
        with connect(ws_url(st, query("t"))) as c:
            c.cmd({"json": {"topic": "open", "data": "y" * 5000}})
            eq(c.closed()[0], 1009, "message over ws_max_message through "
               "lighttpd")


@test(timeout=20)
def ws_fragments_with_ping_between_and_pings_answered():
    """A message split in frames with a ping between them (RFC 6455 §5.4)
    is joined and acknowledged; the ping gets its pong with the same
    payload, before the ack. Masked frames by hand on the backend's
    socket, and the real client's fragmentation through lighttpd. Also:
    an unsolicited pong is ignored, a close from the client is echoed."""
    with Stack(config=ws_config()) as st:
        r = _raw_open(st, "/ws?topic=open")
        try:
            msg = json.dumps({"topic": "open", "data": "frag\u00e9"},
                             ensure_ascii=False)
            b = msg.encode()
            # cut inside the two-byte character too
            cut = b.index(b"\xc3") + 1
            r.send(1, b[:10], fin=False)
            r.send(9, b"ping-1")
            r.send(0, b[10:cut], fin=False)
            r.send(0xA, b"unsolicited")
            r.send(0, b[cut:])
            got = []
            while len(got) < 3:
                f = r.read_frame(5)
                ok(f is not None, "connection ended; got %r" % got)
                got.append(f)
            eq(got[0][1:], (0xA, b"ping-1"), "pong for the ping, first")
            # the ack and the event itself, in either order
            msgs = [json.loads(f[2]) for f in got[1:]]
            acks = [m for m in msgs if "ack" in m]
            evs = [m for m in msgs if "topic" in m]
            ok(len(acks) == 1 and len(evs) == 1, "after the fragmented "
               "message: %r" % msgs)
            eq((evs[0]["id"], evs[0]["data"]), (acks[0]["ack"],
                                                "frag\u00e9"),
               "the joined message as an event")
            r.send(8, struct.pack("!H", 1000) + b"bye")
            code, reason, _ = r.read_close(3)
            eq(code, 1000, "close echoed")
        finally:
            r.close()
        with connect(ws_url(st, query("open"))) as c:
            c.cmd({"fragments": ['{"topic":"open",', '"data":', '"f2"}'],
                   "ping_between": "pp"})
            a = c.answer()
            ok("ack" in a, "answer to the real client's fragments: %r" % a)
            c.take(lambda i: i.get("pong") == "pp", 5, "pong")
            c.take(lambda i: i.get("pong") == "pp", 5, "second pong")
            eq(ev_tuple(c.events(1)[0]), (a["ack"], "open", "message", "f2"),
               "the event")


@test(timeout=25)
def ws_server_pings_at_heartbeat_and_drops_a_silent_peer():
    """With --heartbeat 1s: a quiet client gets pings and, answering them
    (the ws default), stays connected past 3 heartbeats and still gets
    events; a peer that sends nothing at all (hand-made, never pongs) and
    one that does not answer pings (--no-auto-pong) are dropped within
    2-3 heartbeats."""
    with Stack(["--heartbeat", "1s"], config=ws_config()) as st:
        t0 = time.monotonic()
        good = NodeWS(ws_url(st, query("hb"))).opened()
        mute = NodeWS(ws_url(st, query("hb")),
                      args=["--no-auto-pong"]).opened()
        raw = _raw_open(st, "/ws?topic=hb")
        try:
            good.take(lambda i: "ping" in i, 2.5, "server ping")
            # the raw peer: count pings until the end
            pings = 0
            end = None
            while True:
                f = raw.read_frame(6)
                if f is None or f[1] == 0x8:
                    end = time.monotonic() - t0
                    break
                if f[1] == 0x9:
                    pings += 1
            ok(pings >= 1, "the silent peer got no ping")
            ok(1.5 <= end <= 3.8, "silent peer dropped after %.1fs, want "
               "2-3 heartbeats of 1 s" % end)
            code, _ = mute.closed(4)
            dt = mute.items[-1]["t"] - t0
            ok(dt <= 4.0, "peer without pongs dropped after %.1fs" % dt)
            while time.monotonic() - t0 < 3.5:
                time.sleep(0.1)
            eid = st.publish_ok("hb", "still here")
            eq(good.events(1)[0]["id"], eid, "the answering client after "
               "3.5 heartbeats")
            npings = sum(1 for i in good.items if "ping" in i)
            ok(npings >= 2, "only %d pings in 3.5 s" % npings)
            note("silent peer dropped after %.1fs (%d pings), no-pong peer "
                 "after %.1fs with code %s" % (end, pings, dt, code))
        finally:
            raw.close()
            good.close()
            mute.close()


@test(timeout=30)
def ws_slow_reader_closed_1013_then_resumes():
    """A reader that stops reading, whose backlog passes backlog_bound, is
    closed (1013 if the close frame gets through at all) and resumes from
    the log with lastEventId: everything, once, in order."""
    with Stack(["--backlog-bound", "64k"], config=ws_config(
            "max_event_size = 4k\n")) as st:
        r = RawWS(st.ws_sock)
        r.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s, h, body = r.handshake(path="/ws?topic=slow")
        eq(s, 101, "handshake")
        before = st.metrics().get("ssereplay_slow_subscribers_dropped_total",
                                  0)
        ids = []
        payload = "z" * 3000
        for i in range(150):
            ids.append(st.publish_ok("slow", "%d:%s" % (i, payload)))
        st.wait_metric("ssereplay_slow_subscribers_dropped_total",
                       lambda v: v > before, 10, "> %d" % before)
        got = []
        code = None
        while True:
            f = r.read_frame(5)
            if f is None:
                break
            if f[1] == 0x8:
                code = struct.unpack("!H", f[2][:2])[0]
                break
            if f[1] == 0x1:
                got.append(json.loads(f[2]))
        r.close()
        ok(code in (1013, None), "close code %s" % code)
        ok(len(got) < len(ids), "the slow reader got everything?")
        eq([m["id"] for m in got], ids[:len(got)], "before the drop")
        last = got[-1]["id"] if got else None
        with NodeWS(ws_url(st, query("slow", last=last or "0"),
                           "direct")) as w:
            w.opened()
            rest = w.events(len(ids) - len(got), 10)
            eq([m["id"] for m in rest], ids[len(got):], "resumed")
        note("slow reader got %d of %d events, close %s" % (
            len(got), len(ids), code))


# ---- operations -------------------------------------------------------------

@test(timeout=25)
def ws_admin_disconnect_1012_and_sse_ends():
    """POST /disconnect with the admin token: every WebSocket (direct and
    through lighttpd) closes with 1012, every SSE stream ends; without the
    token nothing happens. Clients resume from their last id."""
    with Stack(config=ws_config()) as st:
        sse = st.sse("d")
        sse.next_item(5)
        a = NodeWS(ws_url(st, query("d"), "direct")).opened()
        b = connect(ws_url(st, query("d")))
        try:
            e1 = st.publish_ok("d", "before")
            eq(a.events(1)[0]["id"], e1, "direct")
            eq(b.events(1)[0]["id"], e1, "lighttpd")
            eq(sse.next_event(5).id, e1, "SSE")
            for hdrs, what in (({}, "no token"),
                               ({"Authorization": "Bearer " + TOKEN},
                                "a publish token"),
                               ({"Authorization": "Bearer wrong"},
                                "a wrong token")):
                s, h, body = st.request("POST", "/disconnect", body=b"",
                                        headers=hdrs)
                ok(s in (401, 403), "POST /disconnect with %s: %s" % (
                    what, s))
            a.quiet(0.2, lambda i: "close" in i, "close")
            s, h, body = st.request("POST", "/disconnect", body=b"",
                                    headers={"Authorization": "Bearer " +
                                             ADMIN})
            expect_status(s, 204, body, "POST /disconnect")
            for c, what in ((a, "direct"), (b, "lighttpd")):
                code, reason = c.closed(3)
                eq(code, 1012, "%s close code" % what)
                ok(reason, "%s: close without a reason" % what)
            t0 = time.monotonic()
            try:
                while True:
                    it = sse.next_item(max(0.05, 3 - (time.monotonic() -
                                                      t0)))
                    ok(it[0] == "comment", "SSE after disconnect: %r" % (it,))
            except StreamEnded:
                pass
            except Timeout:
                raise AssertionError("the SSE stream did not end")
        finally:
            a.close()
            b.close()
            sse.close()
        e2 = st.publish_ok("d", "after")
        with connect(ws_url(st, query("d", last=e1))) as c:
            eq(c.events(1)[0]["id"], e2, "resume after the disconnect")


@test(timeout=20)
def ws_shutdown_closes_with_1001():
    """SIGTERM to the backend: WebSockets (direct and through lighttpd)
    get close 1001 with a reason telling them to resume; the backend
    starts again on the same sockets."""
    with Stack(config=ws_config()) as st:
        a = NodeWS(ws_url(st, query("s"), "direct")).opened()
        b = connect(ws_url(st, query("s")))
        try:
            rc = st.stop_backend()
            eq(rc, 0, "backend exit status on SIGTERM")
            for c, what in ((a, "direct"), (b, "lighttpd")):
                code, reason = c.closed(5)
                eq(code, 1001, "%s close code on shutdown" % what)
        finally:
            a.close()
            b.close()
        # it starts again on the same socket paths (the files are removed,
        # or replaced as stale when the backend, dropped to its user,
        # cannot remove them) and serves WebSocket there
        st.start_backend()
        st.wait_healthy()
        with connect(ws_url(st, query("s"))) as c:
            eid = st.publish_ok("s", "after restart")
            eq(c.events(1)[0]["id"], eid, "WebSocket after the restart")


@test(timeout=20)
def ws_metrics_move():
    """/metrics: ssereplay_ws_connections follows open sockets; messages,
    acks, refusals and protocol closes are counted."""
    with Stack(config=ws_config()) as st:
        m0 = st.metrics()
        for k in ("ssereplay_ws_connections", "ssereplay_ws_refused_total",
                  "ssereplay_ws_messages_total", "ssereplay_ws_acked_total",
                  "ssereplay_ws_protocol_closes_total"):
            ok(k in m0, "%s missing from /metrics" % k)
        eq(m0["ssereplay_ws_connections"], 0, "connections at start")
        a = NodeWS(ws_url(st, query("m"), "direct")).opened()
        b = connect(ws_url(st, query("m")))
        try:
            st.wait_metric("ssereplay_ws_connections", lambda v: v == 2, 5,
                           "== 2")
            ok(st.metrics()["ssereplay_subscribers"] >= 2,
               "WebSockets are subscribers too")
            a.publish("open", "x")
            a.publish("open", "y")
            a.cmd({"json": {"topic": "closed", "data": "z"}})
            a.answer()
            with NodeWS(ws_url(st, query("m", token="bad"), "direct")) as c:
                c.refused()
            r = _raw_open(st)
            r.send(1, "{}", mask=False)
            r.read_close(3)
            r.close()
            m = st.wait_metric("ssereplay_ws_acked_total",
                               lambda v: v >= m0[
                                   "ssereplay_ws_acked_total"] + 2, 5)
            m1 = st.metrics()
            ok(m1["ssereplay_ws_messages_total"] >=
               m0["ssereplay_ws_messages_total"] + 3, "messages_total")
            ok(m1["ssereplay_ws_refused_total"] >=
               m0["ssereplay_ws_refused_total"] + 1, "refused_total")
            ok(m1["ssereplay_ws_protocol_closes_total"] >=
               m0["ssereplay_ws_protocol_closes_total"] + 1,
               "protocol_closes_total")
        finally:
            a.close()
            b.close()
        st.wait_metric("ssereplay_ws_connections", lambda v: v == 0, 5,
                       "== 0 after the clients left")


# ---- through Apache ---------------------------------------------------------

@test(timeout=40)
def ws_through_apache_proxy_fcgi():
    """conf/apache-proxy-fcgi.conf (ProxyPass /ws ... upgrade=websocket,
    ProxyPreserveHost On): the site's own Origin passes (Apache keeps the
    Host), another is 403 (the backend's answer comes through), a bad
    query is 400, version 12 is 426; live delivery with the SSE stream's
    ids, publish with ack, resume after a drop, 1012 on /disconnect."""
    import webservers
    d = webservers.Deployment("apache-proxy-fcgi", tls=False, config=(
        webservers.test_config(extra="ws_publish_topic = open\n"
                               "admin_token = %s\n" % ADMIN)))
    d.start()
    with d:
        site = "http://127.0.0.1:%d" % d.port
        with NodeWS(ws_url(d, query("t")),
                    headers={"Origin": "http://evil.example"}) as c:
            s, h, body = c.refused()
            expect_status(s, 403, body, "Apache: foreign Origin")
            ok("origin" in body.lower(), "Apache 403 reason %r" % body)
        with NodeWS(ws_url(d, "topic=a%20b")) as c:
            s, h, body = c.refused()
            expect_status(s, 400, body, "Apache: bad topic")
        r = RawWS(("127.0.0.1", d.port))
        try:
            s, h, body = r.handshake(host="127.0.0.1:%d" % d.port,
                                     version="12")
            eq(s, 426, "Apache: version 12")
        finally:
            r.close()
        sse = d.sse("ap")
        sse.next_item(5)
        w = connect(ws_url(d, query("ap")), headers={"Origin": site})
        try:
            eid = d.publish_ok("ap", "via apache")
            eq(ev_tuple(w.events(1)[0]), (eid, "ap", "message",
                                          "via apache"), "live")
            eq(sse.next_event(5).id, eid, "SSE")
            w.publish("open", "from ws")
            w.cmd({"json": {"topic": "ap", "data": "anon"}})
            ok("error" in w.answer(), "anonymous publish to ap refused")
            last = eid
            w.cmd({"terminate": True})
            w.closed()
        finally:
            w.close()
            sse.close()
        missed = [d.publish_ok("ap", "m%d" % i) for i in range(3)]
        w = connect(ws_url(d, query("ap", last=last, token=TOKEN)),
                    headers={"Origin": site})
        try:
            eq([m["id"] for m in w.events(3)], missed, "Apache: resume")
            b = w.publish("ap", "with token")
            eq(w.events(1)[0]["id"], b, "own event")
            s, h, body = d.request("POST", "/disconnect", body=b"",
                                   headers={"Authorization": "Bearer " +
                                            ADMIN})
            expect_status(s, 204, body, "Apache: POST /disconnect")
            eq(w.closed(5)[0], 1012, "Apache: close on /disconnect")
        finally:
            w.close()
