"""The other ways to run the binary: plain CGI, and spawned FastCGI (the
listening socket on fd 0, as spawn-fcgi and lighttpd's bin-path do)."""

import json
import os
import select
import subprocess
import time

from common import ID_RE, db_rows, expect_status, json_loads, seq_of, eq, ok
from itest import test, note, poll
from sseclient import SSEParser
from stack import Stack, BIN, TOKEN, stop_pid


def cgi_env(st, method, script, query="", content_type=None, body=b"",
            auth=None, last_event_id=None, db=True, config=True, extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": method,
           "SCRIPT_NAME": script, "QUERY_STRING": query,
           "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
           "SERVER_SOFTWARE": "ssereplay-tests"}
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if method == "POST":
        env["CONTENT_LENGTH"] = str(len(body))
    if auth is not None:
        env["HTTP_AUTHORIZATION"] = auth
    if last_event_id is not None:
        env["HTTP_LAST_EVENT_ID"] = last_event_id
    if db:
        env["SSEREPLAY_DB"] = st.db
    if config:
        env["SSEREPLAY_CONFIG"] = st.conf
    env.update(extra or {})
    return env


def parse_cgi(out):
    """(status int, headers dict lower, body bytes) of a CGI response."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        j = out.find(sep)
        if j >= 0:
            break
    else:
        raise AssertionError("no blank line after the CGI headers: %r" %
                             out[:300])
    head = out[:j].decode("latin-1").replace("\r\n", "\n").split("\n")
    body = out[j + len(sep):]
    hdrs = {}
    for l in head:
        ok(":" in l, "bad CGI header line %r in %r" % (l, out[:300]))
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    status = 200
    if "status" in hdrs:
        status = int(hdrs["status"].split()[0])
    return status, hdrs, body


def run_cgi(env, body=b"", timeout=10):
    r = subprocess.run([BIN], input=body, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=timeout)
    ok(r.returncode == 0, "CGI exit %s, stderr %r, stdout %r" % (
        r.returncode, r.stderr[-300:], r.stdout[:300]))
    return parse_cgi(r.stdout)


def _cgi_publish(st, data, topic="c", token=TOKEN, **kw):
    body = ("topic=%s&data=%s" % (topic, data)).encode()
    env = cgi_env(st, "POST", "/publish",
                  content_type="application/x-www-form-urlencoded",
                  body=body, auth=None if token is None else
                  "Bearer " + token, **kw)
    return run_cgi(env, body)


@test
def cgi_publish():
    with Stack(mode=None, lighttpd=False) as st:
        s, h, body = _cgi_publish(st, "hello")
        expect_status(s, 201, body, "CGI POST /publish")
        ok("status" in h and h["status"].startswith("201"),
           "Status header %r" % h.get("status"))
        ok(h.get("content-type", "").startswith("application/json"),
           "Content-Type %r" % h.get("content-type"))
        eid = json_loads(body.decode(), "CGI 201 body")["id"]
        ok(ID_RE.match(eid), "id %r" % eid)
        rows = db_rows(st.db)
        eq([(r[0], r[1], r[3]) for r in rows], [(seq_of(eid), "c", "hello")],
           "log after CGI publish")
        # JSON body too
        b = json.dumps({"topic": "c", "event": "k", "data": "j"}).encode()
        s, h, body = run_cgi(cgi_env(st, "POST", "/publish",
                                     content_type="application/json",
                                     body=b, auth="Bearer " + TOKEN), b)
        expect_status(s, 201, body, "CGI JSON publish")


@test
def cgi_publish_errors():
    with Stack(mode=None, lighttpd=False) as st:
        s, h, body = _cgi_publish(st, "x", token=None)
        expect_status(s, 401, body, "CGI publish without token")
        s, h, body = _cgi_publish(st, "x", token="nope")
        expect_status(s, 403, body, "CGI publish wrong token")
        s, h, body = _cgi_publish(st, "x", topic="bad%20topic")
        expect_status(s, 400, body, "CGI publish bad topic")
        s, h, body = run_cgi(cgi_env(st, "GET", "/publish"))
        expect_status(s, 405, body, "CGI GET /publish")
        s, h, body = run_cgi(cgi_env(st, "GET", "/events", query="x=1"))
        expect_status(s, 400, body, "CGI /events without topic")
        s, h, body = run_cgi(cgi_env(st, "GET", "/healthz"))
        expect_status(s, 200, body, "CGI /healthz")


@test
def cgi_settings_from_config_file_only():
    """SSEREPLAY_CONFIG alone: the db comes from its `db` key."""
    with Stack(mode=None, lighttpd=False) as st:
        with open(st.conf, "w") as f:
            f.write("db = %s\npublish_token = %s\n" % (st.db, TOKEN))
        s, h, body = _cgi_publish(st, "via-config", db=False)
        expect_status(s, 201, body, "CGI publish with SSEREPLAY_CONFIG only")
        eq([r[3] for r in db_rows(st.db)], ["via-config"], "log")


@test
def cgi_events_replay_then_follow():
    with Stack(mode=None, lighttpd=False) as st:
        ids = []
        for i in range(3):
            s, h, body = _cgi_publish(st, "r%d" % i)
            expect_status(s, 201, body, "CGI publish")
            ids.append(json.loads(body)["id"])
        env = cgi_env(st, "GET", "/events", query="topic=c&lastEventId=" +
                      ids[0])
        p = subprocess.Popen([BIN], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env)
        try:
            buf = bytearray()
            parser = SSEParser()
            events = []
            head = None

            def pump(timeout):
                nonlocal head
                r, _, _ = select.select([p.stdout], [], [], timeout)
                if not r:
                    return False
                b = os.read(p.stdout.fileno(), 65536)
                if not b:
                    raise AssertionError("CGI /events exited (%s); stderr %r"
                                         % (p.wait(5), p.stderr.read()[-300:]))
                if head is None:
                    buf.extend(b)
                    for sep in (b"\r\n\r\n", b"\n\n"):
                        j = buf.find(sep)
                        if j >= 0:
                            head = parse_cgi(bytes(buf))
                            b = bytes(buf[j + len(sep):])
                            break
                    else:
                        return True
                events.extend(it[1] for it in parser.feed(b)
                              if it[0] == "event")
                return True

            def wait_events(n, timeout):
                deadline = time.monotonic() + timeout
                while len(events) < n and time.monotonic() < deadline:
                    pump(max(0.01, deadline - time.monotonic()))
            wait_events(2, 5)
            ok(head is not None, "no CGI header block")
            s, h, _ = head
            eq(s, 200, "CGI /events status")
            eq(h.get("content-type"), "text/event-stream; charset=utf-8",
               "Content-Type")
            ok(parser.items and parser.items[0][0] == "retry",
               "first item %r" % (parser.items[:1],))
            eq([e.id for e in events], ids[1:], "CGI replay")
            # follows the log by itself: another process publishes
            r = subprocess.run([BIN, "publish", "--db", st.db, "--topic",
                                "c", "live"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            eq(r.returncode, 0, "publish exit (%r)" % r.stderr)
            nid = r.stdout.decode().strip()
            t0 = time.monotonic()
            wait_events(3, 5)
            eq([(e.id, e.data) for e in events[2:]], [(nid, "live")],
               "CGI follow")
            note("CGI follow delay %.0f ms" % ((time.monotonic() - t0) *
                                               1000))
        finally:
            stop_pid(p, 3)


@test
def spawned_fastcgi_through_lighttpd():
    with Stack(mode="spawn") as st:
        ids = [st.publish_ok("sp", "a%d" % i) for i in range(3)]
        c = st.sse("sp", query_id="0")
        try:
            eq(c.header("content-type"), "text/event-stream; charset=utf-8",
               "Content-Type")
            eq([e.id for e in c.collect(3, 5)], ids, "replay")
            nid = st.publish_ok("sp", "live")
            eq(c.next_event(5).id, nid, "live")
        finally:
            c.close()
        s, h, body = st.get("/metrics")
        expect_status(s, 200, body, "metrics")
        r = st.cli(["publish", "--db", st.db, "--topic", "sp", "cli"],
                   check=True)
        ok(ID_RE.match(r.stdout.decode().strip()), "cli id")
        s, body = st.publish("sp", "x", token="wrong")
        expect_status(s, 403, body, "wrong token (config from "
                      "SSEREPLAY_CONFIG)")
