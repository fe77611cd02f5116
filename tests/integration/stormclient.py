"""A reconnect storm on raw non-blocking sockets (standard library only).

storm(targets, path, resume, want, ...) opens one HTTP/1.1 GET per entry of
resume, all at once, spread over the (host, port) targets, each with
`Last-Event-ID: <resume[i]>`, and reads every response with one epoll loop:
status line and head, then the chunked body, split into events at blank
lines (the backend ends lines with LF). A client is served when it holds
want[i] exactly: the (id, data) of every event after its resume point, in
order, once. A refused connection, a non-200 answer or a stream that ends
before that is retried after a short random pause, like a browser's
EventSource (with Last-Event-ID = the last id it got, so a retry continues
where it stopped); all of that is counted. Once every client is served (or
at the deadline) on_served() is called with all sockets still open, then
every socket is closed at once: half with FIN, half with RST.
"""

import errno
import random
import selectors
import socket
import struct
import time

from sseclient import Dechunker


class _Client(object):
    __slots__ = ("i", "target", "sock", "state", "head", "dech", "body",
                 "got", "last_id", "retry_at", "conns", "fails", "done",
                 "bad")

    def __init__(self, i, target, resume):
        self.i = i
        self.target = target
        self.sock = None
        self.state = "idle"       # idle | connecting | head | body
        self.head = bytearray()
        self.dech = None
        self.body = bytearray()
        self.got = []             # (id, data)
        self.last_id = resume
        self.retry_at = 0.0
        self.conns = 0
        self.fails = []           # reasons, one per failed connection
        self.done = False
        self.bad = []             # unexpected items (gap, other types)


def _events(buf):
    """Complete events in buf (removed from it): [(id, type, data)]."""
    out = []
    end = buf.rfind(b"\n\n")
    if end < 0:
        return out
    blocks = bytes(buf[:end]).split(b"\n\n")
    del buf[:end + 2]
    for blk in blocks:
        eid = None
        etype = "message"
        data = []
        for line in blk.split(b"\n"):
            if not line or line[:1] == b":":
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"id":
                eid = value.decode("utf-8", "replace")
            elif name == b"data":
                data.append(value.decode("utf-8", "replace"))
            elif name == b"event":
                etype = value.decode("utf-8", "replace")
        if data:
            out.append((eid, etype, "\n".join(data)))
    return out


def storm(targets, path, resume, want, deadline_s=60.0, on_served=None,
          retry=(0.2, 1.0), host_header="127.0.0.1"):
    """See the module doc. Returns a dict of figures; the caller checks
    result["unserved"] and result["wrong"]."""
    n = len(resume)
    sel = selectors.DefaultSelector()
    clients = [_Client(i, targets[i % len(targets)], resume[i])
               for i in range(n)]
    rng = random.Random(n)
    t0 = time.monotonic()
    deadline = t0 + deadline_s
    stats = {"connects": 0, "connect_errors": 0, "statuses": {},
             "ended_early": 0, "events": 0, "bytes": 0}
    pending = []                  # waiting for a reconnect
    served = 0
    t_served = None

    def start(c):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        c.sock = s
        c.state = "connecting"
        c.head = bytearray()
        c.dech = None
        c.body = bytearray()
        c.conns += 1
        stats["connects"] += 1
        err = s.connect_ex(c.target)
        if err not in (0, errno.EINPROGRESS):
            fail(c, "connect: %s" % errno.errorcode.get(err, err))
            return
        sel.register(s, selectors.EVENT_WRITE, c)

    def drop(c):
        if c.sock is not None:
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
            c.sock = None
        c.state = "idle"

    def fail(c, why):
        c.fails.append(why)
        drop(c)
        c.retry_at = time.monotonic() + rng.uniform(*retry)
        pending.append(c)

    def request(c):
        lines = ["GET %s HTTP/1.1" % path,
                 "Host: %s:%d" % (host_header, c.target[1]),
                 "Accept: text/event-stream", "Cache-Control: no-cache"]
        if c.last_id is not None:
            lines.append("Last-Event-ID: %s" % c.last_id)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def on_body(c, chunk):
        nonlocal served, t_served
        c.body += c.dech.feed(chunk)
        for eid, etype, data in _events(c.body):
            stats["events"] += 1
            if eid:
                c.last_id = eid
            if etype != "message":
                c.bad.append((eid, etype, data[:100]))
                continue
            c.got.append((eid, data))
            if not c.done and len(c.got) >= len(want[c.i]):
                c.done = True
                served += 1
                if served == n:
                    t_served = time.monotonic()

    # the storm: every connect at once
    for c in clients:
        start(c)
    t_connected = time.monotonic()
    while served < n and time.monotonic() < deadline:
        now = time.monotonic()
        if pending:
            due = [c for c in pending if c.retry_at <= now]
            if due:
                pending[:] = [c for c in pending if c.retry_at > now]
                for c in due:
                    start(c)
        for key, mask in sel.select(0.05):
            c = key.data
            if c.state == "connecting":
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    stats["connect_errors"] += 1
                    fail(c, "connect: %s" % errno.errorcode.get(err, err))
                    continue
                try:
                    c.sock.send(request(c))    # small: goes out whole
                except OSError as e:
                    fail(c, "send: %s" % e)
                    continue
                c.state = "head"
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                b = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                b = None
                why = "recv: %s" % e
            if not b:
                if b is not None:
                    why = "closed by the server"
                if c.state == "body" and not c.done:
                    stats["ended_early"] += 1
                if c.done:
                    drop(c)    # served, then closed: should not happen
                    c.bad.append((None, "closed", why))
                else:
                    fail(c, why)
                continue
            stats["bytes"] += len(b)
            if c.state == "head":
                c.head += b
                j = c.head.find(b"\r\n\r\n")
                if j < 0:
                    continue
                head = bytes(c.head[:j]).decode("latin-1")
                rest = bytes(c.head[j + 4:])
                status = head.split(" ", 2)[1] if " " in head else "?"
                stats["statuses"][status] = stats["statuses"].get(
                    status, 0) + 1
                if status != "200":
                    fail(c, "HTTP %s" % status)
                    continue
                if "chunked" not in head.lower():
                    fail(c, "not chunked: %r" % head[:200])
                    continue
                c.state = "body"
                c.dech = Dechunker()
                on_body(c, rest)
            else:
                on_body(c, b)
                if c.dech.done and not c.done:
                    stats["ended_early"] += 1
                    fail(c, "stream ended")
    t_end = time.monotonic()
    held = None
    if on_served is not None:
        held = on_served()
    # everyone leaves at once
    t_close = time.monotonic()
    for c in clients:
        if c.sock is None:
            continue
        if c.i % 2:
            try:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
            except OSError:
                pass
        drop(c)
    sel.close()
    wrong = []
    for c in clients:
        if c.got != want[c.i] or c.bad:
            k = next((k for k, (a, b) in enumerate(zip(c.got, want[c.i]))
                      if a != b), min(len(c.got), len(want[c.i])))
            wrong.append("client %d (resume %r, %d connections, fails %r): "
                         "got %d events, want %d; first difference at #%d: "
                         "got %r, want %r; other items %r" % (
                             c.i, resume[c.i], c.conns, c.fails[:3],
                             len(c.got), len(want[c.i]), k,
                             c.got[k:k + 2], want[c.i][k:k + 2],
                             c.bad[:3]))
    reasons = {}
    for c in clients:
        for f in c.fails:
            reasons[f] = reasons.get(f, 0) + 1
    return {
        "clients": n,
        "served": served,
        "unserved": [c.i for c in clients if not c.done],
        "wrong": wrong,
        "retried_clients": sum(1 for c in clients if c.conns > 1),
        "fail_reasons": reasons,
        "connect_spread_s": t_connected - t0,
        "served_s": (t_served or t_end) - t0,
        "close_s": time.monotonic() - t_close,
        "held": held,
        "stats": stats,
    }
