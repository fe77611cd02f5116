#!/usr/bin/env python3
"""seeds.py: write the seed corpora of tests/fuzz/corpus/NAME/.

The seeds are committed; this script is how they were made, so that one
can be changed without hand-editing binary files (each harness's input
layout is at the top of its fuzz_NAME.c). Run it from anywhere:

    python3 tests/fuzz/seeds.py

It rewrites every seed it knows and leaves any other file alone. The
access tokens are signed with the key the harnesses use and expire in 2100.
"""
import base64
import hashlib
import hmac
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b"0123456789abcdef0123456789abcdef"   # fuzz_auth.c, fuzz_http.c
EXPIRES = 4102444800                        # 2100-01-01


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def mint(user, patterns, expires=EXPIRES):
    """An access token as auth_token_mint() makes it (auth.h)."""
    payload = b"\n".join([user, str(expires).encode()] + patterns)
    signed = b"v1." + b64(payload)
    mac = hmac.new(KEY, signed, hashlib.sha256).digest()
    return signed + b"." + b64(mac)


def mask(payload, key=b"\x37\xfa\x21\x3d"):
    return bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def client_frame(b0, payload, key=b"\x37\xfa\x21\x3d"):
    """A masked client frame (RFC 6455 §5.2), shortest length form."""
    n = len(payload)
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n <= 0xffff:
        head = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    return head + key + mask(payload, key)


SEED4 = b"\x01\x02\x03\x04"
TOKEN = mint(b"alice", [b"user/alice/*", b"team/red/*"])

SEEDS = {
    "query": {
        "topics": b"\x20\x40topic=news&topic=sport",
        "resume": b"\x20\x40topic=a%2Fb&lastEventId=0123abcd-42",
        "bad-escape": b"\x08\x08a=1&&b=%zz",
        "plus-utf8": b"\x40\x40name+with+space=caf%C3%A9&flag&=x",
    },
    "eventid": {
        "full": b"\x1e0123abcd-42",
        "bare": b"\x057",
        "max": b"\x1eDEADBEEF-9223372036854775807",
        "zero": b"\x1e0",
    },
    "body": {
        "form": b"\xfctopic=news&event=update&data=hello+world%21",
        "json": b'\xfd{"topic":"chat","data":{"a":[1,2]},"event":"msg"}',
        "json-escapes":
            b'\xfd{"topic":"t/1","data":"caf\\u00e9 \\"q\\"\\n\\u0000"}',
        "form-413": b"\x0atopic=x&data=longer+than+two",
        "json-params": b'\xff{"topic":"news","event":"message","data":""}',
    },
    "config": {
        "set": b"\x00\x80publish_token=tok-1\nheartbeat=15s\n"
               b"max_event_size=64k\nprivate=user/{user}/*\n"
               b"group=ops: bob, carol\ncors_origin=https://example.org",
        "set-bad": b"\x00\x10workers=0",
        "file": b"\x01\x80# ssereplay.conf\ndb = var/ssereplay.db\n"
                b"listen = unix:var/ssereplay.sock\n"
                b"publish_token = s3cret#kept  # a comment\n"
                b"retention_max_age = 7d\nsync = normal\n"
                b"token_key = 0123456789abcdef0123456789abcdef\n"
                b"private = team/red/* alice,@ops\n",
        "file-bom-bad": b"\x01\x20\xef\xbb\xbfws = 127.0.0.1:9000\nnope\n",
    },
    "wshandshake": {
        "rfc6455": b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n"
                   b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Origin: http://example.com\r\n"
                   b"Sec-WebSocket-Protocol: chat, superchat\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n",
        "ours": b"\r\nGET /api/ws?topic=news&lastEventId=5 HTTP/1.1\n"
                b"host: localhost:8080\nconnection: keep-alive, Upgrade\n"
                b"upgrade: WebSocket\nsec-websocket-version: 13\n"
                b"sec-websocket-key: AQIDBAUGBwgJCgsMDQ4PEA==\n"
                b"Authorization: Bearer tok-alpha-123\n"
                b"Cookie: a=b; ssereplay_token=x\n\n",
        "post-1.0": b"POST /ws HTTP/1.0\r\nHost: a\r\n\r\n",
    },
    "wsframes": {
        # RFC 6455 §5.7: a masked "Hello", a masked ping, then a close.
        "rfc-hello-ping-close":
            b"\x61\x00" + SEED4 +
            client_frame(0x81, b"Hello") + client_frame(0x89, b"Hello") +
            client_frame(0x88, b"\x03\xe8bye"),
        "fragments-blocking":
            b"\x0d\x03" + SEED4 +
            client_frame(0x01, b"Hel") + client_frame(0x8a, b"") +
            client_frame(0x80, b"lo") + client_frame(0x88, b""),
        "long-close-by-text":
            b"\xe7\x04" + SEED4 + client_frame(0x81, b"x" * 200) +
            client_frame(0x81, b"Cgoodbye \xc3\xa9"),
        "unmasked-eof": b"\x02\x08" + SEED4 + b"\x81\x05Hello",
        "binary-utf8": b"\x21\x00" + SEED4 + client_frame(0x82, b"\x00") +
            client_frame(0x81, b"\xc3"),
    },
    "sseparse": {
        "events": b"\xff\xff\x00" + SEED4 +
                  b"\xef\xbb\xbfretry: 3000\n: hi\n\nid: 0123abcd-1\n"
                  b"event: update\ndata: hello\ndata: world\n\n",
        "line-ends": b"\x08\x08\x02" + SEED4 +
                     b"data: a\r\ndata: b\r\rid\n\ndata:x\r\n\r\n"
                     b"id: a\x00b\n\n",
        "too-long": b"\x02\x40\x00" + SEED4 + b"data: 0123456789\n\n",
    },
    "httpclient": {
        "chunked": SEED4 + b"\x40" +
                   b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                   b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
                   b"\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n"
                   b"Trailer: x\r\n\r\n",
        "length-1.0": SEED4 + b"\x10" +
                      b"HTTP/1.0 200 OK\nContent-Length: 5\n\nhello",
        "no-content": SEED4 + b"\x00HTTP/1.1 204 No Content\r\n\r\n",
        "until-close": SEED4 + b"\x08HTTP/1.1 200 OK\r\n"
                       b"Content-Encoding: gzip\r\nConnection: close\r\n"
                       b"\r\nrest until close",
    },
    "http": {
        # flags, then method, path, query, content_type, content_length,
        # authorization, last_event_id, origin, remote_user, remote_addr,
        # cookie, body, separated by NUL.
        "events-user": b"\x00" + b"\x00".join([
            b"GET", b"/api/events", b"topic=news&topic=user/alice/inbox",
            b"", b"", b"", b"", b"https://app.example.org", b"alice",
            b"127.0.0.1", b""]),
        "events-slash-user": b"\x00" + b"\x00".join([
            b"GET", b"/events", b"topic=user/alice/x/inbox", b"", b"", b"",
            b"", b"", b"alice/x", b"127.0.0.1", b""]),
        "events-resume-twice": b"\x22" + b"\x00".join([
            b"GET", b"/events", b"topic=news&lastEventId=3", b"", b"", b"",
            b"0123abcd-41", b"", b"", b"10.0.0.1", b""]),
        "events-token": b"\x00" + b"\x00".join([
            b"GET", b"/events",
            b"topic=user/alice/x&topic=team/red/plan&access_token=" + TOKEN,
            b"", b"", b"", b"", b"", b"", b"127.0.0.1", b""]),
        "events-cookie": b"\x00" + b"\x00".join([
            b"GET", b"/events", b"topic=team/red/plan", b"", b"", b"", b"",
            b"", b"alice", b"", b"theme=dark; ssereplay_token=" + TOKEN]),
        "publish-json": b"\x00" + b"\x00".join([
            b"POST", b"/publish", b"", b"application/json", b"27",
            b"Bearer tok-alpha-123", b"", b"", b"", b"", b"",
            b'{"topic":"news","data":"hi"}']),
        "publish-form-fail": b"\x12" + b"\x00".join([
            b"POST", b"/publish", b"", b"application/x-www-form-urlencoded",
            b"", b"bearer   tok-beta-456 ", b"", b"", b"", b"", b"",
            b"topic=news&data=a+b"]),
        "disconnect": b"\x00" + b"\x00".join([
            b"POST", b"/disconnect", b"", b"", b"",
            b"Bearer admin-secret-xyz"]),
        "preflight": b"\x00" + b"\x00".join([
            b"OPTIONS", b"/publish", b"", b"", b"", b"", b"",
            b"http://localhost:8080"]),
        "metrics": b"\x00" + b"\x00".join([b"HEAD", b"/metrics"]),
        # WebSocket: path, query, host, origin, authorization, cookie,
        # forwarded_for.
        "ws-publish-token": b"\x01" + b"\x00".join([
            b"/ws", b"topic=chat&token=tok-beta-456", b"localhost:8080",
            b"http://localhost:8080", b"", b"", b"192.0.2.1"]),
        "ws-access-token": b"\x21" + b"\x00".join([
            b"/app/ws", b"topic=user/alice/inbox&access_token=" + TOKEN,
            b"example.org", b"https://app.example.org",
            b"Bearer tok-alpha-123", b"", b"192.0.2.7"]),
    },
    "jsmap": {
        "subject": b"\x00sse.user.alice.v1%2E2",
        "subject-empty-segments": b"\x00sse.%.a.%",
        "topic": b"\x00a//b.c/",
        "ack-old": b"\x01$JS.ACK.EVENTS.c1.1.42.7.1795507115363190756.3",
        "ack-new": b"\x01$JS.ACK.hub.ACCHASH.EVENTS.c1.1.43.8.17.0.xyz",
        "puback": b"\x02{\"stream\":\"EVENTS\",\"seq\":7,"
                  b"\"duplicate\":true}",
        "puback-error": b"\x02{\"error\":{\"code\":400,\"err_code\":"
                        b"10071,\"description\":\"wrong last sequence\"}}",
    },
    "auth": {
        "verify": b"\x00" + TOKEN,
        "payload": b"\x01alice\n4102444800\nuser/{user}/*\nnews",
        "mint": b"\x02\x01\x00\x10\x00\x05\x03bob\nuser/bob/*\nchat",
        "match": b"\x03\x20user/{user}/*\nuser/alice/inbox\nalice",
        # "alice/x" must not be the {user} of user/alice/x/...
        "match-slash-user": b"\x03\x08user/{user}/*\nuser/alice/x/inbox\n"
                            b"alice/x",
        "may-read": b"\x04puser/{user}/*\npteam/red/* alice,@ops\n"
                    b"gops: bob, carol\ntteam/red/plan\ntuser/alice/inbox\n"
                    b"ubob\nkuser/{user}/*",
    },
}


def main():
    for name, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for seed, data in seeds.items():
            with open(os.path.join(d, seed), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
