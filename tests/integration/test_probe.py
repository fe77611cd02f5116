"""ssereplay-check --probe against deliberately misconfigured copies of
conf/lighttpd.conf and conf/apache-proxy-fcgi.conf: each misconfiguration
must be found and named with its fix, and the shipped configs must pass.
(lighttpd 1.4.69's mod_deflate with deflate.mimetypes = ("text/") left the
stream uncompressed, so compression has no case. Apache 2.4.71 with
Timeout/ProxyTimeout 2 s did not cut a silent mod_proxy_fcgi stream within
6 s, so the idle cut has a lighttpd case only.)"""

import json
import os
import subprocess
import time

from itest import test, note, ok, eq
from stack import Stack, TOKEN, CHECK_BIN, LIGHTTPD, REPO
import webservers


def _lighttpd_copy(st, edit):
    """Start lighttpd with an edited copy of conf/lighttpd.conf."""
    with open(os.path.join(REPO, "conf", "lighttpd.conf")) as f:
        text = f.read()
    text = edit(text)
    path = os.path.join(st.tmp, "lighttpd-probe.conf")
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


class _ApacheCopy(webservers.Deployment):
    """The apache-proxy-fcgi row, started from an edited copy of its file."""

    def __init__(self, edit, heartbeat):
        webservers.Deployment.__init__(
            self, "apache-proxy-fcgi", tls=False,
            config=webservers.test_config() + "heartbeat = %s\n" % heartbeat)
        self.edit = edit

    def apache_argv(self, var, port, tls):
        argv = webservers.Deployment.apache_argv(self, var, port, tls)
        with open(argv[-1]) as f:
            text = self.edit(f.read())
        path = os.path.join(self.tmp, "apache-probe.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        argv[-1] = path
        return argv


def _probe(edit, heartbeat="2s", idle=5, apache=False):
    if apache:
        with _ApacheCopy(edit, heartbeat) as d:
            d.start()
            return _run_probe(d, idle)
    cfg = "publish_token = %s\nheartbeat = %s\n" % (TOKEN, heartbeat)
    with Stack(config=cfg, lighttpd=False) as st:
        _lighttpd_copy(st, edit)
        return _run_probe(st, idle)


def _run_probe(st, idle):
    base = "http://127.0.0.1:%d" % st.port
    t0 = time.monotonic()
    r = subprocess.run([CHECK_BIN, "--probe", base + "/events?topic=p",
                        "--publish-url", base + "/publish", "--token",
                        TOKEN, "--idle", str(idle), "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    try:
        res = json.loads(r.stdout)
    except ValueError:
        raise AssertionError("probe exit %s: %r %r" % (
            r.returncode, r.stdout[-400:], r.stderr[-400:]))
    res["_rc"] = r.returncode
    found = {f["check"]: f for f in res["findings"]}
    for f in res["findings"]:
        note("%s %s: %s" % (f["status"], f["check"], f["detail"]))
    note("probe took %.1f s" % (time.monotonic() - t0))
    return res, found


@test(timeout=60)
def probe_shipped_lighttpd_conf_passes_every_check():
    res, found = _probe(lambda t: t)
    for check in ("compression", "buffering", "last-event-id", "idle"):
        eq(found[check]["status"], "ok", check)
    eq(res["_rc"], 0, "exit status")


@test(timeout=60)
def probe_finds_buffering_with_stream_response_body_0():
    res, found = _probe(lambda t: t.replace(
        "server.stream-response-body = 2", "server.stream-response-body = 0"),
        idle=2)
    eq(found["buffering"]["status"], "problem", "buffering")
    ok("stream-response-body" in found["buffering"]["fix"], "fix named")
    eq(res["_rc"], 1, "exit status")


@test(timeout=60)
def probe_finds_idle_cut_before_heartbeat_with_short_max_write_idle():
    res, found = _probe(lambda t: t.replace(
        "server.max-write-idle = 360", "server.max-write-idle = 2"),
        heartbeat="8s", idle=6)
    eq(found["idle"]["status"], "problem", "idle")
    ok("max-write-idle" in found["idle"]["fix"], "fix named")
    eq(res["_rc"], 1, "exit status")


def _edit_checked(old, new):
    def edit(text):
        ok(old in text, "the shipped file has %r" % old)
        return text.replace(old, new)
    return edit


@test(timeout=90)
def probe_shipped_apache_proxy_fcgi_conf_passes_every_check():
    # The test copy's Timeout/ProxyTimeout are 2 s: heartbeat inside it.
    res, found = _probe(lambda t: t, heartbeat="500ms", apache=True)
    for check in ("compression", "buffering", "last-event-id", "idle"):
        eq(found[check]["status"], "ok", check)
    eq(res["_rc"], 0, "exit status")


@test(timeout=90)
def probe_finds_buffering_in_apache_without_flushpackets():
    res, found = _probe(_edit_checked(
        "fcgi://ssereplay/events\" flushpackets=on",
        "fcgi://ssereplay/events\" flushpackets=off"), idle=2, apache=True)
    eq(found["buffering"]["status"], "problem", "buffering")
    ok("flushpackets" in found["buffering"]["fix"], "fix named: %r" %
       found["buffering"]["fix"])
    eq(res["_rc"], 1, "exit status")

