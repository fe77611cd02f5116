#!/usr/bin/env python3
"""selftest.py: checks the load client's parsers (`make -C tests/bench check`).

A tiny HTTP server on 127.0.0.1 serves a crafted event stream that uses the
corners of the WHATWG rules (BOM, CR / LF / CRLF line ends, multi-line data,
comments, "data" without a colon, empty id, bad retry, an unterminated last
event), chunked (with extensions, upper-case hex) or not, written all at once,
byte by byte or in random pieces. loadclient -E dumps what it dispatched; it
must be exactly the expected list. A second stream checks the resume: the
client must come back with Last-Event-ID and count no gap or duplicate.
Prints "N passed, M failed"; exits non-zero on a failure.
"""
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
    with open(dump) as f:
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
    ls.close()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
