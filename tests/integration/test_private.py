"""Private topics (README.md, "Private topics"): REMOTE_USER from lighttpd's
own authentication (mod_auth, Basic) and HMAC access tokens, through the
real lighttpd; refusals with reasons; nothing of a refused topic replayed;
event: reauth when a token expires."""

import base64
import os
import subprocess
import time
import urllib.parse

from common import expect_status
from itest import test, note, ok, eq
from sseclient import StreamEnded, Timeout
from stack import Stack, TOKEN, BIN, LIGHTTPD, REPO

KEY = "integration-test-key-0123456789abcdef"

CONFIG = """publish_token = %s
token_key = %s
heartbeat = 1s
private = user/{user}/*
private = ops/* @ops, dave
group = ops: carol, erin
""" % (TOKEN, KEY)

USERS = ("alice", "bob", "carol", "dave", "erin")


def _basic(user):
    raw = ("%s:pw-%s" % (user, user)).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _with_auth(st):
    """lighttpd from conf/lighttpd.conf plus Basic authentication on
    /private/ (same backend, routed by the last path segment), so that the
    backend sees REMOTE_USER exactly as a site using mod_auth would send
    it. Anonymous requests go to /events as usual."""
    users = os.path.join(st.tmp, "users")
    with open(users, "w") as f:
        for u in USERS:
            f.write("%s:pw-%s\n" % (u, u))
    with open(os.path.join(REPO, "conf", "lighttpd.conf")) as f:
        text = f.read()
    text += """
server.modules += ( "mod_auth", "mod_authn_file" )
auth.backend = "plain"
auth.backend.plain.userfile = "%s"
auth.require = ( "/private/" => ( "method" => "basic",
                 "realm" => "ssereplay", "require" => "valid-user" ) )
fastcgi.server += ( "/private/" => (( "socket" => var.socket,
                    "check-local" => "disable" )) )
""" % users
    path = os.path.join(st.tmp, "lighttpd-auth.conf")
    with open(path, "w") as f:
        f.write(text)
    env = dict(os.environ, SSEREPLAY_PORT=str(st.port),
               SSEREPLAY_DOCROOT=os.path.join(REPO, "frontend"),
               SSEREPLAY_SOCKET=st.sock, SSEREPLAY_VAR=st.tmp,
               SSEREPLAY_WS_SOCKET=st.ws_sock)
    out = open(st.lighttpd_log, "ab")
    st.lighttpd = subprocess.Popen([LIGHTTPD, "-D", "-f", path],
                                   stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=out, env=env, cwd=st.tmp)
    out.close()
    st.wait_healthy()


def _stack():
    st = Stack(config=CONFIG, lighttpd=False)
    try:
        _with_auth(st)
    except BaseException:
        st.close()
        raise
    return st


def _mint(st, user, topics, ttl="1h"):
    r = subprocess.run([BIN, "token", "--config", st.conf, "--user", user,
                        "--topics", topics, "--ttl", ttl],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=10)
    eq(r.returncode, 0, "ssereplay token: %s" % r.stderr)
    return r.stdout.strip()


def _path(topics, **extra):
    q = [("topic", t) for t in topics] + sorted(extra.items())
    return "?" + urllib.parse.urlencode(q)


def _refused(st, path, status, reason, headers=None):
    s, h, body = st.get(path, headers=headers)
    expect_status(s, status, body, "GET %s" % path)
    ok(reason in body.decode(), "GET %s: %d without %r in %r" % (
        path, status, reason, body[:200]))
    return h


@test(timeout=60)
def private_remote_user_through_lighttpd_auth():
    with _stack() as st:
        for t in ("user/alice/inbox", "user/bob/inbox", "ops/deploys",
                  "news"):
            st.publish_ok(t, "before " + t)
        # Anonymous: a private topic is 401 with the reason; public is open.
        h = _refused(st, "/events" + _path(["user/alice/inbox"]), 401,
                     "topic user/alice/inbox is private")
        ok("bearer" in h.get("www-authenticate", "").lower(),
           "401 without WWW-Authenticate: %r" % h)
        s, _, _ = st.get("/events" + _path(["news"]))
        eq(s, 200, "anonymous on a public topic")

        # Who may read what, as lighttpd authenticated them.
        cases = [("alice", "user/alice/inbox", 200),
                 ("alice", "user/bob/inbox", 403),
                 ("bob", "user/bob/inbox", 200),
                 ("carol", "ops/deploys", 200),	# @ops
                 ("erin", "ops/deploys", 200),	# @ops
                 ("dave", "ops/deploys", 200),	# listed by name
                 ("bob", "ops/deploys", 403),
                 ("alice", "news", 200)]
        for user, topic, want in cases:
            s, _, body = st.get("/private/events" + _path([topic]),
                                headers=_basic(user))
            eq(s, want, "%s reading %s: %r" % (user, topic, body[:200]))
            if want == 403:
                ok(b"not allowed to read topic " + topic.encode() in body,
                   "403 reason: %r" % body[:200])

        # The refusal is whole: one forbidden topic among allowed ones
        # refuses the stream.
        _refused(st, "/private/events" + _path(
            ["user/alice/inbox", "user/bob/inbox"], lastEventId="0"), 403,
            "not allowed to read topic user/bob/inbox",
            headers=_basic("alice"))

        # Allowed: the replay carries exactly the user's own history.
        c = st.sse_path("/private/events" + _path(
            ["user/alice/inbox", "news"], lastEventId="0"),
            headers=_basic("alice"))
        try:
            got = [e.data for e in c.collect(2, timeout=5)]
            eq(got, ["before user/alice/inbox", "before news"], "replay")
            st.publish_ok("user/bob/inbox", "not for alice")
            st.publish_ok("user/alice/inbox", "live for alice")
            eq(c.next_event(5).data, "live for alice", "live event")
        finally:
            c.close()


@test(timeout=30)
def private_refusal_replays_nothing():
    """The status comes before any byte of the stream."""
    with _stack() as st:
        st.publish_ok("user/bob/inbox", "secret")
        for path, hdr in (
                ("/events" + _path(["user/bob/inbox"], lastEventId="0"),
                 None),
                ("/private/events" + _path(["news", "user/bob/inbox"],
                                           lastEventId="0"),
                 _basic("alice"))):
            s, h, body = st.get(path, headers=hdr)
            ok(s in (401, 403), "%s -> %s" % (path, s))
            ok(b"secret" not in body and
               not h.get("content-type", "").startswith("text/event-stream"),
               "a refused stream leaked: %r %r" % (h, body[:200]))


@test(timeout=40)
def private_access_tokens():
    with _stack() as st:
        st.publish_ok("user/alice/inbox", "a1")
        tok = _mint(st, "alice", "user/{user}/*")
        # In the query.
        c = st.sse(["user/alice/inbox"], query_id="0",
                   extra_query="&access_token=" + tok)
        try:
            eq(c.next_event(5).data, "a1", "replay with a token")
        finally:
            c.close()
        # In the cookie (token_cookie defaults to ssereplay_token).
        c = st.sse(["user/alice/inbox"], query_id="0",
                   headers={"Cookie": "other=1; ssereplay_token=%s; x=y"
                            % tok})
        try:
            eq(c.next_event(5).data, "a1", "replay with the cookie")
        finally:
            c.close()
        # Someone else's topic: 403; a damaged token: 401, not anonymous.
        _refused(st, "/events" + _path(["user/bob/inbox"],
                                       access_token=tok),
                 403, "not allowed to read topic user/bob/inbox")
        bad = tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1]
        _refused(st, "/events" + _path(["news"], access_token=bad), 401,
                 "access token")
        _refused(st, "/events" + _path(["news"], access_token="junk"), 401,
                 "access token malformed")
        # A token of another key.
        other = subprocess.run(
            [BIN, "token", "--user", "alice", "--topics", "user/{user}/*"],
            env=dict(os.environ,
                     SSEREPLAY_TOKEN_KEY="another-key-0123456789abcdef"),
            stdout=subprocess.PIPE, text=True, timeout=10).stdout.strip()
        _refused(st, "/events" + _path(["user/alice/inbox"],
                                       access_token=other), 401,
                 "signature does not verify")
        # Signed in as bob with alice's token: refused.
        _refused(st, "/private/events" + _path(["user/alice/inbox"],
                                               access_token=tok),
                 403, "belongs to another user", headers=_basic("bob"))
        # A token granting a pattern beyond the rules' own grants.
        t2 = _mint(st, "bob", "ops/*")
        s, _, _ = st.get("/events" + _path(["ops/deploys"], access_token=t2))
        eq(s, 200, "a token for ops/* reads ops/deploys")
        m = st.metrics()
        ok(m.get('ssereplay_refusals_total{reason="auth"}', 0) >= 5,
           "auth refusals not counted: %r" % {
               k: v for k, v in m.items() if "refus" in k})


@test(timeout=30)
def private_token_expiry_sends_reauth():
    with _stack() as st:
        tok = _mint(st, "alice", "user/{user}/*", ttl="2")
        c = st.sse(["user/alice/inbox"], extra_query="&access_token=" + tok)
        t0 = time.monotonic()
        try:
            ev = c.collect_until(lambda e: e.type == "reauth", timeout=6)
            took = time.monotonic() - t0
            ok(ev[-1].type == "reauth", "no reauth event: %r" % ev)
            ok("expired" in ev[-1].data, "reauth data: %r" % ev[-1].data)
            note("reauth %.1f s after opening with a 2 s token" % took)
            try:
                c.next_event(5)
                raise AssertionError("the stream went on after reauth")
            except StreamEnded:
                pass
        finally:
            c.close()
        # Reconnecting with the expired token: 401 with the reason.
        _refused(st, "/events" + _path(["user/alice/inbox"],
                                       access_token=tok), 401, "expired")
        m = st.metrics()
        eq(m.get("ssereplay_reauth_total"), 1, "ssereplay_reauth_total")


@test(timeout=20)
def private_config_errors():
    """Bad rules are refused at start with the line and the reason."""
    with Stack(mode=None, lighttpd=False) as st:
        for line, want in (
                ("private = user/{usr}/*", "private:"),
                ("private = a/*/b", "private:"),
                ("private = news", "grants nobody"),
                ("group = ops alice", "group:"),
                ("token_key = short", "at least 16 bytes")):
            path = os.path.join(st.tmp, "bad.conf")
            with open(path, "w") as f:
                f.write(line + "\n")
            r = subprocess.run([BIN, "serve", "--config", path, "--listen",
                                "unix:" + os.path.join(st.tmp, "x.sock"),
                                "--db", os.path.join(st.tmp, "x.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=10)
            ok(r.returncode != 0, "%r accepted" % line)
            ok(want in r.stderr and "bad.conf:1" in r.stderr,
               "%r: message %r" % (line, r.stderr))
