"""The system under test: ssereplay + lighttpd in a temporary directory.

Stack() makes a temp dir, picks free loopback ports, writes a config file
there, starts `ssereplay serve` (or spawn-fcgi, or nothing) and
`lighttpd -D -f conf/lighttpd.conf`, and waits for GET /healthz through
lighttpd to answer 200. Everything it starts is stopped by PID (SIGTERM,
then SIGKILL), on close(), on leaving the `with` block, and at exit.
"""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from sseclient import SSEClient, HTTPConn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("SSEREPLAY_BIN") or os.path.join(
    REPO, "backend", ".obj", "ssereplay")
if not os.path.isabs(BIN):
    BIN = os.path.join(REPO, BIN)
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
SPAWN_FCGI = shutil.which("spawn-fcgi") or "/usr/bin/spawn-fcgi"
TOKEN = "test-token-1"
# The unprivileged user the backend drops to when the tests run as root.
RUN_AS = os.environ.get("SSEREPLAY_TEST_USER", "nobody")
TOKEN2 = "test-token-2"
# ssereplay-check is built next to the backend (backend/.obj or .obj-asan).
CHECK_BIN = os.path.join(os.path.dirname(BIN), "ssereplay-check")

_live_stacks = []
# Temp dirs of the current test, so the runner can show logs after a hard
# timeout; see run.py.
TMPDIR_LOG = os.environ.get("SSEREPLAY_TEST_TMPLOG")


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop_pid(proc, timeout=5.0, sig=signal.SIGTERM):
    """Stop a Popen by PID: sig, then SIGKILL after timeout. Returns the
    exit status (or None if it was already reaped)."""
    if proc is None:
        return None
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return proc.wait(5)


def tail_file(path, n=30):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError as e:
        return "(%s)" % e
    return "\n".join(lines[-n:])


def _cleanup_all():
    for st in list(_live_stacks):
        try:
            st.close()
        except Exception:
            pass


atexit.register(_cleanup_all)


def default_config(token=TOKEN, extra=""):
    return ("# written by the integration tests\n"
            "publish_token = %s\n"
            "publish_token = %s\n"
            "%s" % (token, TOKEN2, extra))


class Stack(object):
    """mode: "serve" (ssereplay serve), "spawn" (spawn-fcgi -n -- BIN),
    or None (no backend: the test starts its own)."""

    def __init__(self, args=(), config=None, mode="serve", start=True,
                 lighttpd=True, env=None):
        self.tmp = tempfile.mkdtemp(prefix="ssereplay-it-")
        if TMPDIR_LOG:
            with open(TMPDIR_LOG, "a") as f:
                f.write(self.tmp + "\n")
        self.port = free_port()
        self.sock = os.path.join(self.tmp, "ssereplay.sock")
        self.ws_sock = os.path.join(self.tmp, "ssereplay-ws.sock")
        self.db = os.path.join(self.tmp, "events.db")
        self.conf = os.path.join(self.tmp, "ssereplay.conf")
        self.backend_log = os.path.join(self.tmp, "backend.log")
        self.lighttpd_log = os.path.join(self.tmp, "lighttpd.out")
        self.args = list(args)
        self.mode = mode
        self.extra_env = dict(env or {})
        self.backend = None
        self.lighttpd = None
        self.closed = False
        text = default_config() if config is None else config
        # Started as root, the backend drops to `user` and refuses to
        # serve as root without one (README.md, "Running as a service").
        if os.geteuid() == 0 and not re.search(r"^user\s*=", text, re.M):
            text += "user = %s\n" % RUN_AS
        with open(self.conf, "w") as f:
            f.write(text)
        _live_stacks.append(self)
        if start:
            try:
                if mode is not None:
                    self.start_backend()
                if lighttpd:
                    self.start_lighttpd()
                    self.wait_healthy()
            except BaseException:
                self.dump_logs()
                self.close()
                raise

    # ---- processes --------------------------------------------------------

    def serve_argv(self):
        return [BIN, "serve", "--listen", "unix:" + self.sock, "--db",
                self.db, "--ws", "unix:" + self.ws_sock,
                "--config", self.conf] + self.args

    def start_backend(self, wait=True):
        assert self.backend is None or self.backend.poll() is not None
        env = dict(os.environ)
        env.update(self.extra_env)
        logf = open(self.backend_log, "ab")
        logf.write(("---- start %s (%s) ----\n" % (
            self.mode, time.strftime("%H:%M:%S"))).encode())
        logf.flush()
        if self.mode == "spawn":
            if os.path.exists(self.sock):
                os.unlink(self.sock)
            env["SSEREPLAY_DB"] = self.db
            env["SSEREPLAY_CONFIG"] = self.conf
            argv = [SPAWN_FCGI, "-s", self.sock, "-n", "--", BIN]
        else:
            argv = self.serve_argv()
        self.backend = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
            env=env, cwd=self.tmp)
        logf.close()
        if wait:
            self.wait_socket()
        return self.backend

    def wait_socket(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.backend.poll() is not None:
                raise AssertionError(
                    "backend exited with %s at start; log:\n%s" % (
                        self.backend.returncode,
                        tail_file(self.backend_log)))
            if os.path.exists(self.sock):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.sock)
                    s.close()
                    return
                except OSError:
                    s.close()
            time.sleep(0.02)
        raise AssertionError("backend socket %s not ready after %.0fs" %
                             (self.sock, timeout))

    def start_lighttpd(self):
        env = dict(os.environ)
        env.update(SSEREPLAY_PORT=str(self.port),
                   SSEREPLAY_DOCROOT=os.path.join(REPO, "frontend"),
                   SSEREPLAY_SOCKET=self.sock,
                   SSEREPLAY_WS_SOCKET=self.ws_sock,
                   SSEREPLAY_VAR=self.tmp)
        out = open(self.lighttpd_log, "ab")
        self.lighttpd = subprocess.Popen(
            [LIGHTTPD, "-D", "-f", os.path.join(REPO, "conf",
                                                 "lighttpd.conf")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
            cwd=self.tmp)
        out.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.lighttpd.poll() is not None:
                raise AssertionError("lighttpd exited with %s:\n%s\n%s" % (
                    self.lighttpd.returncode, tail_file(self.lighttpd_log),
                    tail_file(os.path.join(self.tmp,
                                           "lighttpd-error.log"))))
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", self.port))
                s.close()
                return
            except OSError:
                s.close()
            time.sleep(0.02)
        raise AssertionError("lighttpd not listening on %d" % self.port)

    def wait_healthy(self, timeout=15.0):
        """GET /healthz answers 200 through lighttpd, and the other routes
        reach the backend too: lighttpd keeps one backend entry per path
        and disables each for a while after a failed connect, so after a
        backend restart every path must be checked."""
        deadline = time.monotonic() + timeout
        last = None
        probes = [("/healthz", lambda s: s == 200),
                  ("/metrics", lambda s: s == 200),
                  ("/publish", lambda s: s not in (500, 502, 503, 504)),
                  ("/events", lambda s: s not in (500, 502, 503, 504))]
        pending = list(probes)
        while time.monotonic() < deadline:
            if self.backend is not None and self.backend.poll() is not None:
                raise AssertionError("backend exited with %s; log:\n%s" % (
                    self.backend.returncode, tail_file(self.backend_log)))
            path, good = pending[0]
            try:
                st, _, body = self.get(path, timeout=2)
                last = (path, st, body[:200])
                if good(st):
                    pending.pop(0)
                    if not pending:
                        return
                    continue
            except (OSError, http.client.HTTPException) as e:
                last = (path, repr(e))
            except Exception as e:  # sseclient errors
                last = (path, repr(e))
            time.sleep(0.05)
        raise AssertionError("backend not reachable through lighttpd within "
                             "%.0fs (last: %r)" % (timeout, last))

    def kill_backend(self, sig=signal.SIGKILL):
        if self.backend is not None and self.backend.poll() is None:
            os.kill(self.backend.pid, sig)
            self.backend.wait(10)

    def stop_backend(self, timeout=5.0):
        rc = stop_pid(self.backend, timeout)
        return rc

    def restart_backend(self, kill=True):
        if kill:
            self.kill_backend()
        else:
            self.stop_backend()
        self.start_backend()
        self.wait_healthy()

    def close(self):
        if self.closed:
            return
        self.closed = True
        stop_pid(self.lighttpd)
        stop_pid(self.backend)
        if self in _live_stacks:
            _live_stacks.remove(self)
        if not os.environ.get("SSEREPLAY_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            self.dump_logs()
        self.close()
        return False

    def dump_logs(self):
        out = sys.stdout
        out.write("---- %s: backend.log (last 30 lines) ----\n%s\n" % (
            self.tmp, tail_file(self.backend_log)))
        out.write("---- lighttpd-error.log (last 30 lines) ----\n%s\n" %
                  tail_file(os.path.join(self.tmp, "lighttpd-error.log")))
        lo = tail_file(self.lighttpd_log, 10)
        if lo and not lo.startswith("("):
            out.write("---- lighttpd stdout/stderr ----\n%s\n" % lo)
        out.flush()

    # ---- HTTP -------------------------------------------------------------

    def http(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers-dict-lowercase, body-bytes). An event stream
        (which never ends) is read for half a second and then closed."""
        c = HTTPConn("127.0.0.1", self.port, method, path, headers or {},
                     body, timeout=timeout)
        try:
            c.read_head(timeout)
            hdrs = {}
            for k, v in c.headers:
                hdrs.setdefault(k, v)
            if (hdrs.get("content-type", "").startswith("text/event-stream")
                    or method == "HEAD"):
                deadline = time.monotonic() + 0.5
                try:
                    while not c.ended:
                        c.read_some(deadline)
                except Exception:
                    pass
                return c.status, hdrs, bytes(c.raw_body)
            return c.status, hdrs, c.read_body(timeout)
        finally:
            c.close()

    def get(self, path, headers=None, timeout=10):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def raw(self, method, path, headers=None, body=None, timeout=10):
        """An HTTPConn with the head read (for streaming responses)."""
        c = HTTPConn("127.0.0.1", self.port, method, path, headers, body,
                     timeout=timeout)
        c.read_head(timeout)
        return c

    def publish(self, topic, data, event=None, token=TOKEN, fmt="form",
                extra=None, conn=None, headers=None):
        """POST /publish; returns (status, body-text)."""
        return publish(self.port, topic, data, event=event, token=token,
                       fmt=fmt, extra=extra, conn=conn, headers=headers)

    def publish_ok(self, topic, data, event=None, **kw):
        st, body = self.publish(topic, data, event=event, **kw)
        if st != 201:
            raise AssertionError("publish %r -> %s %r" % (data[:60], st,
                                                          body[:300]))
        return json.loads(body)["id"]

    def sse(self, topics, last_event_id=None, query_id=None, extra_query="",
            **kw):
        if isinstance(topics, str):
            topics = [topics]
        q = [("topic", t) for t in topics]
        if query_id is not None:
            q.append(("lastEventId", query_id))
        path = "/events?" + urllib.parse.urlencode(q) + extra_query
        return SSEClient("127.0.0.1", self.port, path,
                         last_event_id=last_event_id, **kw)

    def sse_path(self, path, **kw):
        return SSEClient("127.0.0.1", self.port, path, **kw)

    def metrics(self):
        st, hdrs, body = self.get("/metrics")
        if st != 200:
            raise AssertionError("GET /metrics -> %s %r" % (st, body[:200]))
        return parse_metrics(body.decode())

    def wait_metric(self, name, pred, timeout=10.0, what=""):
        deadline = time.monotonic() + timeout
        v = None
        while time.monotonic() < deadline:
            v = self.metrics().get(name)
            if v is not None and pred(v):
                return v
            time.sleep(0.05)
        raise AssertionError("metric %s never satisfied %s (last %r)" %
                             (name, what, v))

    # ---- CLI --------------------------------------------------------------

    def cli(self, args, input=None, timeout=15, check=False):
        r = subprocess.run([BIN] + list(args), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=self.tmp)
        if check and r.returncode != 0:
            raise AssertionError("ssereplay %s -> exit %s; stderr %r" % (
                " ".join(args), r.returncode, r.stderr[-500:]))
        return r

    def cli_publish(self, topic, data, event=None, stdin=False):
        args = ["publish", "--db", self.db, "--topic", topic]
        if event:
            args += ["--event", event]
        if stdin:
            r = self.cli(args + ["-"], input=data.encode(), check=True)
        else:
            r = self.cli(args + [data], check=True)
        return r.stdout.decode().strip()

    def restart_lighttpd(self):
        """Stop lighttpd (SIGTERM: open streams are cut) and start it again
        on the same port."""
        stop_pid(self.lighttpd)
        self.lighttpd = None
        self.start_lighttpd()

    def backend_rss_kb(self):
        """The backend's VmRSS in KiB (None if it is not running)."""
        if self.backend is None or self.backend.poll() is not None:
            return None
        with open("/proc/%d/status" % self.backend.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def log_events(self, after="0", topic=None):
        """The log as parsed SSE events, via `ssereplay tail`."""
        from sseclient import SSEParser
        args = ["tail", "--db", self.db, "--after", after]
        if topic:
            args += ["--topic", topic]
        r = self.cli(args, check=True)
        p = SSEParser()
        p.feed(r.stdout + b"\n\n")
        return [it[1] for it in p.items if it[0] == "event"]


def publish(port, topic, data, event=None, token=TOKEN, fmt="form",
            extra=None, conn=None, headers=None):
    hdrs = {}
    if token is not None:
        hdrs["Authorization"] = "Bearer " + token
    if fmt == "form":
        fields = [("topic", topic)] if topic is not None else []
        if event is not None:
            fields.append(("event", event))
        if data is not None:
            fields.append(("data", data))
        fields += list((extra or {}).items())
        body = urllib.parse.urlencode(fields).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    elif fmt == "json":
        obj = {}
        if topic is not None:
            obj["topic"] = topic
        if event is not None:
            obj["event"] = event
        if data is not None:
            obj["data"] = data
        obj.update(extra or {})
        body = json.dumps(obj).encode()
        hdrs["Content-Type"] = "application/json"
    else:
        body = data if isinstance(data, bytes) else data.encode()
        hdrs["Content-Type"] = fmt
    hdrs.update(headers or {})
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request("POST", "/publish", body=body, headers=hdrs)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    finally:
        if own:
            c.close()


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out

