#!/usr/bin/env python3
"""selftest.py: checks the load client's parsers (`make -C tests/bench check`).

A tiny HTTP server on 127.0.0.1 serves a crafted event stream that uses the
corners of the WHATWG rules (BOM, CR / LF / CRLF line ends, multi-line data,
comments, "data" without a colon, empty id, bad retry, an unterminated last
event), chunked (with extensions, upper-case hex) or not, written all at once,
byte by byte or in random pieces. loadclient -E dumps what it dispatched; it
must be exactly the expected list. A second stream checks the resume: the
client must come back with Last-Event-ID and count no gap or duplicate.
With -W the same server speaks WebSocket (RFC 6455): it checks the
handshake, then sends text frames with 7-, 16- and 64-bit lengths, a
fragmented message with a ping between its fragments, a gap, escaped JSON
strings, other messages and a close, whole, byte by byte or in random
pieces; the client must dump the same events, answer both pings with masked
pongs and the close with a masked close. The WebSocket resume test checks
that lastEventId moves from the path to the query of each reconnect.
Prints "N passed, M failed"; exits non-zero on a failure.
"""
import base64
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, ".obj", "loadclient")

STREAM = (
    b"\xef\xbb\xbf"
    b"retry: 1234\r\n\r\n"
    b": a comment\n"
    b"id: 00000000-1\r"
    b"data: 0 1 0\r\r"
    b"id: 00000000-2\r\n"
    b"data: 0 2 0\r\n"
    b"data:second line\r\n"
    b"data:  two spaces\r\n\r\n"
    b"event: gap\ndata: {\"x\":1}\n\n"
    b"id: 00000000-3\nevent: message\ndata: 0 3 0\n\n"
    b"data\n"
    b"id: 00000000-4\n\n"
    b"unknown: x\n"
    b"retry: 12a\n"
    b"id: 00000000-5\n"
    b"data: 0 4 0\n"
    b"\n"
    b"id\n"
    b"data: 0 5 0\n\n"
    b"data: 0 6 0\n: mid comment\ndata: tail\n\n"
    b"data: unterminated\n"
)
EXPECTED = [
    ("message", "00000000-1", "0 1 0"),
    ("message", "00000000-2", "0 2 0\\nsecond line\\n two spaces"),
    ("gap", "00000000-2", "{\"x\":1}"),
    ("message", "00000000-3", "0 3 0"),
    ("message", "00000000-4", ""),
    ("message", "00000000-5", "0 4 0"),
    ("message", "", "0 5 0"),
    ("message", "", "0 6 0\\ntail"),
]

seen_resume_headers = []

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def ws_frame(op, payload, fin=True):
    n = len(payload)
    b0 = (0x80 if fin else 0) | op
    if n < 126:
        hdr = bytes([b0, n])
    elif n < 65536:
        hdr = bytes([b0, 126]) + n.to_bytes(2, "big")
    else:
        hdr = bytes([b0, 127]) + n.to_bytes(8, "big")
    return hdr + payload


def ws_event(n, data, event="message"):
    return json.dumps({"id": "00000000-%d" % n, "topic": "t", "event": event,
                       "data": data}, separators=(",", ":")).encode()


FRAG = ws_event(4, "0 4 0 fragmented")
WS_FRAMES = [
    ws_frame(0x1, ws_event(1, "0 1 0")),
    ws_frame(0x9, b"hb1"),
    ws_frame(0x1, ws_event(2, "0 2 0 " + "x" * 200)),         # 16-bit length
    ws_frame(0x1, ws_event(3, "0 3 0 " + "y" * 70000)),       # 64-bit length
    ws_frame(0x1, FRAG[:10], fin=False),
    ws_frame(0x9, b"hb2"),
    ws_frame(0x0, FRAG[10:30], fin=False),
    ws_frame(0x0, b"", fin=False),
    ws_frame(0x0, FRAG[30:]),
    ws_frame(0x1, b'{"id":"00000000-9","gap":{"lastEventId":"4",'
             b'"firstAvailableId":"00000000-10"}}'),
    ws_frame(0xA, b""),
    # ensure_ascii: \u00e9, a surrogate pair; plus \/ and \t by hand
    ws_frame(0x1, ws_event(10, '0 5 0 "q" \\ \u00e9 \U0001F600 \n')[:-2] +
             b'\\/\\t"}'),
    ws_frame(0x1, ws_event(11, "z", event="custom")),
    ws_frame(0x1, b'{"ack":"00000000-12"}'),
    ws_frame(0x8, (1000).to_bytes(2, "big") + b"bye"),
]
WS_EXPECTED = [
    ("message", "00000000-1", "0 1 0"),
    ("message", "00000000-2", "0 2 0 " + "x" * 200),
    ("message", "00000000-3", "0 3 0 " + "y" * 70000),
    ("message", "00000000-4", "0 4 0 fragmented"),
    ("gap", "00000000-9",
     '{"lastEventId":"4","firstAvailableId":"00000000-10"}'),
    ("message", "00000000-10",
     '0 5 0 "q" \\\\ \u00e9 \U0001F600 \\n/\\x09'),
    ("custom", "00000000-11", "z"),
]
seen_ws_queries = []


def pieces(data, split, rng):
    if split == "all":
        return [data]
    if split == "byte":
        return [data[i:i + 1] for i in range(len(data))]
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 7)
        out.append(data[i:i + n])
        i += n
    return out


def chunked(parts, rng):
    out = []
    for p in parts:
        size = "%x" % len(p)
        if rng.random() < 0.5:
            size = size.upper()
        ext = ";e=1" if rng.random() < 0.3 else ""
        out.append(size.encode() + ext.encode() + b"\r\n" + p + b"\r\n")
    return out


def ws_pieces(frame, split, rng):
    """A frame's pieces; a long payload goes in 4 KiB pieces after its
    header and first bytes, so that byte-by-byte sending stays quick."""
    if len(frame) <= 1024 or split == "all":
        return pieces(frame, split, rng)
    out = pieces(frame[:32], split, rng)
    out += [frame[i:i + 4096] for i in range(32, len(frame), 4096)]
    return out


def ws_read_frames(conn, timeout):
    """The client's frames until its close (or EOF, or timeout):
    (opcode, payload, masked)."""
    conn.settimeout(timeout)
    buf, frames = b"", []
    while True:
        while len(buf) >= 2:
            n, off = buf[1] & 0x7F, 2
            if n == 126:
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                n, off = int.from_bytes(buf[2:10], "big"), 10
            masked = bool(buf[1] & 0x80)
            key = buf[off:off + 4] if masked else b"\0\0\0\0"
            off += 4 if masked else 0
            if len(buf) < off + n:
                break
            payload = bytes(b ^ key[i & 3]
                            for i, b in enumerate(buf[off:off + n]))
            frames.append((buf[0] & 0x0F, payload, masked))
            buf = buf[off + n:]
            if frames[-1][0] == 0x8:
                return frames
        try:
            b = conn.recv(4096)
        except OSError:
            return frames
        if not b:
            return frames
        buf += b


def handle_ws(conn, path, headers, rng, ws_log):
    key = headers.get("sec-websocket-key", "")
    problems = []
    if headers.get("upgrade", "").lower() != "websocket":
        problems.append("upgrade")
    if "upgrade" not in headers.get("connection", "").lower():
        problems.append("connection")
    if headers.get("sec-websocket-version") != "13":
        problems.append("version")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            problems.append("key length")
    except ValueError:
        problems.append("key")
    if "origin" in headers:
        problems.append("origin sent")
    ws_log.append(("handshake", problems))
    accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID)
                              .digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                  % accept).encode())
    query = path.split("?", 1)[1] if "?" in path else ""
    q = [kv.split("=", 1) for kv in query.split("&")]
    if ["t", "resume"] in q:
        seen_ws_queries.append(query)
        lei = dict(q).get("lastEventId")
        first = 1 if lei in (None, "0") else int(lei.split("-")[1]) + 1
        last = 3 if lei in (None, "0") else 5
        conn.sendall(b"".join(ws_frame(0x1, b'{"id":"r-%d","topic":"t",'
                                       b'"event":"message","data":"0 %d 0"}'
                                       % (i, i))
                              for i in range(first, last + 1)))
        if last == 3:
            conn.sendall(ws_frame(0x8, (1001).to_bytes(2, "big")))
        ws_log.append(("frames", ws_read_frames(conn, 3)))
        return
    split = dict(q)["split"]
    for f in WS_FRAMES:
        for piece in ws_pieces(f, split, rng):
            conn.sendall(piece)
            if split != "all":
                time.sleep(0.0005)
    ws_log.append(("frames", ws_read_frames(conn, 3)))


ws_log = []


def handle(conn):
    rng = random.Random(7)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    req = b""
    while b"\r\n\r\n" not in req:
        b = conn.recv(4096)
        if not b:
            conn.close()
            return
        req += b
    head = req.split(b"\r\n\r\n")[0].decode("latin-1")
    line = head.split("\r\n")[0]
    path = line.split(" ")[1]
    headers = {}
    for h in head.split("\r\n")[1:]:
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    if path.startswith("/ws"):
        handle_ws(conn, path, headers, rng, ws_log)
        return
    q = dict(kv.split("=") for kv in path.split("?", 1)[1].split("&"))
    if q.get("t") == "resume":
        lei = headers.get("last-event-id")
        seen_resume_headers.append(lei)
        if lei is None:
            body = b"".join(b"id: r-%d\ndata: 0 %d 0\n\n" % (i, i)
                            for i in range(1, 4))
        else:
            k = int(lei.split("-")[1])
            body = b"".join(b"id: r-%d\ndata: 0 %d 0\n\n" % (i, i)
                            for i in range(k + 1, 6))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" +
                     b"".join(chunked([body], rng)) +
                     (b"0\r\n\r\n" if lei is None else b""))
        if lei is None:
            conn.close()
        else:
            time.sleep(3)
            conn.close()
        return
    parts = pieces(STREAM, q["split"], rng)
    if q["enc"] == "chunked":
        hdr = b"Transfer-Encoding: chunked\r\n"
        wire = chunked(parts, rng) + [b"0\r\n\r\n"]
    else:
        hdr = b"Connection: close\r\n"
        wire = parts
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" +
                 hdr + b"\r\n")
    for w in wire:
        if q["split"] == "all":
            conn.sendall(w)
            continue
        for piece in pieces(w, q["split"], rng):
            conn.sendall(piece)
            time.sleep(0.0005)
    conn.close()


def handle_quietly(conn):
    try:
        handle(conn)
    except OSError:
        pass    # the client may close after the last chunk's "0\r\n"
    finally:
        conn.close()


def serve(ls):
    while True:
        try:
            c, _ = ls.accept()
        except OSError:
            return
        threading.Thread(target=handle_quietly, args=(c,),
                         daemon=True).start()


def run_client(port, path, extra, tmp):
    dump = os.path.join(tmp, "dump")
    out = subprocess.run([CLIENT, "-q", "-p", str(port), "-u", path, "-c",
                          "1", "-d", "10", "-E", dump] + extra,
                         capture_output=True, text=True, timeout=30)
    kv = dict(f.split("=", 1) for f in out.stdout.split())
    with open(dump, encoding="utf-8") as f:
        events = [tuple(line.rstrip("\n").split("\t")[1:]) for line in f]
    return kv, events


def main():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    threading.Thread(target=serve, args=(ls,), daemon=True).start()
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for enc in ("chunked", "identity"):
            for split in ("all", "byte", "random"):
                name = "stream %s %s" % (enc, split)
                kv, events = run_client(
                    port, "/s?split=%s&enc=%s" % (split, enc), [], tmp)
                problems = []
                if events != EXPECTED:
                    problems.append("events %r" % (events,))
                if kv.get("retry_ms") != "1234":
                    problems.append("retry_ms=%s" % kv.get("retry_ms"))
                if kv.get("comments") != "2":
                    problems.append("comments=%s" % kv.get("comments"))
                if kv.get("srv_gaps") != "1":
                    problems.append("srv_gaps=%s" % kv.get("srv_gaps"))
                if kv.get("dups") != "0" or kv.get("gaps") != "0":
                    problems.append("gaps=%s dups=%s" % (kv.get("gaps"),
                                                        kv.get("dups")))
                if problems:
                    failed += 1
                    print("FAIL %s: %s" % (name, "; ".join(problems)))
                else:
                    passed += 1
                    print("ok   %s" % name)
        seen_resume_headers.clear()
        kv, events = run_client(port, "/r?t=resume", ["-R", "-n", "5", "-I"],
                                tmp)
        problems = []
        if seen_resume_headers != [None, "r-3"]:
            problems.append("Last-Event-ID sent: %r" % seen_resume_headers)
        for k, want in (("unique", "5"), ("gaps", "0"), ("dups", "0"),
                        ("id_gaps", "0"), ("id_dups", "0"),
                        ("reconnects", "1"), ("done", "1"), ("failed", "0")):
            if kv.get(k) != want:
                problems.append("%s=%s (want %s)" % (k, kv.get(k), want))
        if problems:
            failed += 1
            print("FAIL resume: %s" % "; ".join(problems))
        else:
            passed += 1
            print("ok   resume with Last-Event-ID")
        want_client = [(0xA, b"hb1", True), (0xA, b"hb2", True),
                       (0x8, (1000).to_bytes(2, "big"), True)]
        for split in ("all", "byte", "random"):
            name = "websocket %s" % split
            ws_log.clear()
            kv, events = run_client(port, "/ws?split=%s" % split, ["-W"],
                                    tmp)
            time.sleep(0.2)     # the server thread logs the client's frames
            problems = []
            if events != WS_EXPECTED:
                problems.append("events %r" % ([e[:2] + (e[2][:40],)
                                                for e in events],))
            for what, v in ws_log:
                if what == "handshake" and v:
                    problems.append("handshake: %s" % ", ".join(v))
                if what == "frames" and v != want_client:
                    problems.append("client frames %r" % (v,))
            if len(ws_log) != 2:
                problems.append("server log %r" % (ws_log,))
            for k, want in (("srv_gaps", "1"), ("other_events", "2"),
                            ("ws_pings", "2"), ("ws_closes", "1"),
                            ("ws_close_code", "1000"), ("gaps", "0"),
                            ("dups", "0"), ("bad_data", "0")):
                if kv.get(k) != want:
                    problems.append("%s=%s (want %s)" % (k, kv.get(k), want))
            if problems:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(problems)))
            else:
                passed += 1
                print("ok   %s" % name)
        ws_log.clear()
        seen_ws_queries.clear()
        kv, events = run_client(port, "/ws?lastEventId=0&t=resume",
                                ["-W", "-R", "-n", "5", "-I"], tmp)
        time.sleep(0.2)
        problems = []
        if seen_ws_queries != ["t=resume&lastEventId=0",
                               "t=resume&lastEventId=r-3"]:
            problems.append("queries sent: %r" % seen_ws_queries)
        closes = [f for what, v in ws_log if what == "frames" for f in v]
        if (0x8, (1001).to_bytes(2, "big"), True) not in closes:
            problems.append("no masked close 1001 back: %r" % closes)
        for k, want in (("unique", "5"), ("gaps", "0"), ("dups", "0"),
                        ("id_gaps", "0"), ("id_dups", "0"),
                        ("reconnects", "1"), ("done", "1"), ("failed", "0")):
            if kv.get(k) != want:
                problems.append("%s=%s (want %s)" % (k, kv.get(k), want))
        if problems:
            failed += 1
            print("FAIL websocket resume: %s" % "; ".join(problems))
        else:
            passed += 1
            print("ok   websocket resume with lastEventId")
    ls.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
