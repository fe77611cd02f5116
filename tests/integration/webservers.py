"""The deployment rows of the README: the real web server started from the
file in conf/, in front of the real backend, on loopback high ports.

    d = Deployment("apache-fcgid"); d.start(); ...; d.close()

Rows (ROWS): lighttpd-daemon (conf/lighttpd.conf + lighttpd-tls.conf),
lighttpd-spawn (lighttpd-spawn.conf + lighttpd-spawn-tls.conf),
apache-proxy-fcgi, apache-fcgid, apache-cgi (each with -DSSEREPLAY_TLS for
its HTTPS + HTTP/2 variant, run as a second Apache on its own port).

The test copies differ from the shipped files only in the idle/IO timeouts
(SERVER_TIMEOUT instead of 300 or 360 s) and the backend's heartbeat
(HEARTBEAT_MS): lighttpd files are copied with that one line replaced (the
replacement is checked), Apache files are used as they are, with `-C
Define ...` overrides. Apache children run as www-data (Apache will not run
them as root), so for the Apache rows the backend, its database and every
CLI call run as www-data too, as in production with the service's group.

WebSocket (/ws) is proxied in the rows with a long-running backend
(WS_ROWS): lighttpd-daemon and apache-proxy-fcgi run `ssereplay serve
--ws unix:...` (Stack.serve_argv), lighttpd-spawn's spawned backend gets
`ws = unix:...` in its config file. mod_fcgid and CGI processes serve one
request each and cannot hold a WebSocket: those rows have no /ws (their
conf files say so) and the tests check that /ws is not served there.

Deployment extends stack.Stack (HTTP helpers, publish, sse, metrics, cli)
and stops everything it started by PID.
"""

import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import time

import stack
from sseclient import SSEParser, Timeout, StreamEnded
from stack import Stack, BIN, REPO, TOKEN, free_port, stop_pid, tail_file

APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
CURL = shutil.which("curl") or "/usr/bin/curl"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
CONF = os.path.join(REPO, "conf")

HEARTBEAT_MS = 500      # backend heartbeat in the test copies
SERVER_TIMEOUT = 2      # seconds: idle/IO timeouts in the test copies
CORS_ORIGIN = "https://app.example.org"
APACHE_USER = "www-data"

ROWS = ["lighttpd-daemon", "lighttpd-spawn", "apache-proxy-fcgi",
        "apache-fcgid", "apache-cgi"]

# How the backend runs in each row: "serve" (external daemon), "spawn"
# (one process spawned by the server), "fcgid" (several, one request each),
# "cgi" (one per request).
BACKEND = {"lighttpd-daemon": "serve", "lighttpd-spawn": "spawn",
           "apache-proxy-fcgi": "serve", "apache-fcgid": "fcgid",
           "apache-cgi": "cgi"}

# Rows whose web server proxies /ws to the backend's WebSocket socket.
WS_ROWS = ("lighttpd-daemon", "lighttpd-spawn", "apache-proxy-fcgi")

APACHE_FILE = {"apache-proxy-fcgi": "apache-proxy-fcgi.conf",
               "apache-fcgid": "apache-fcgid.conf",
               "apache-cgi": "apache-cgi.conf"}
LIGHTTPD_FILES = {"lighttpd-daemon": ("lighttpd.conf", "lighttpd-tls.conf"),
                  "lighttpd-spawn": ("lighttpd-spawn.conf",
                                     "lighttpd-spawn-tls.conf")}


def test_config(extra=""):
    return stack.default_config(extra=(
        "heartbeat = %dms\n"
        "max_event_size = 1k\n"
        "cors_origin = %s\n%s" % (HEARTBEAT_MS, CORS_ORIGIN, extra)))


def make_cert(d):
    """A self-signed certificate for localhost: (cert, key) paths."""
    cert = os.path.join(d, "cert.pem")
    key = os.path.join(d, "key.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-keyout", key,
                    "-out", cert], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    return cert, key


def copy_with(src, dst, replacements):
    """Copy a conf file, replacing each (old, new) exactly once."""
    with open(src) as f:
        text = f.read()
    for old, new in replacements:
        n = text.count(old)
        if n != 1:
            raise AssertionError("%s: %r found %d times, expected once" % (
                src, old, n))
        text = text.replace(old, new)
    with open(dst, "w") as f:
        f.write(text)


def _demote(user):
    pw = pwd.getpwnam(user)

    def fn():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return fn


def proc_env(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    out = {}
    for kv in raw.split(b"\0"):
        k, _, v = kv.partition(b"=")
        if k:
            out[k.decode("latin-1")] = v.decode("latin-1")
    return out


class Deployment(Stack):
    def __init__(self, row, config=None, tls=True, timeout=SERVER_TIMEOUT,
                 apache_defines=None):
        assert row in ROWS, row
        Stack.__init__(self, config=test_config() if config is None
                       else config, mode=None, start=False, lighttpd=False)
        self.row = row
        self.kind = BACKEND[row]
        self.apache = row.startswith("apache")
        self.tls = tls
        self.timeout = timeout
        self.apache_defines = dict(apache_defines or {})
        self.tls_port = free_port() if tls else None
        self.servers = []          # (name, Popen, errorlog)
        self.user = APACHE_USER if self.apache else None
        self.bin_real = os.path.realpath(BIN)
        os.chmod(self.tmp, 0o755)
        # Backend files in their own directory, writable by the backend's
        # user (the socket, the database with its -wal/-shm).
        self.data = os.path.join(self.tmp, "data")
        os.mkdir(self.data)
        self.sock = os.path.join(self.data, "ssereplay.sock")
        self.ws_sock = os.path.join(self.data, "ssereplay-ws.sock")
        self.db = os.path.join(self.data, "events.db")
        self.ws = row in WS_ROWS
        if self.kind == "spawn":
            # lighttpd starts the backend: its WebSocket socket comes from
            # its config file (conf/lighttpd-spawn.conf). Only here: every
            # process of mod_fcgid would try to bind it.
            with open(self.conf, "a") as f:
                f.write("ws = unix:%s\n" % self.ws_sock)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
            os.chmod(self.conf, 0o644)
        if tls:
            self.cert, self.key = make_cert(self.tmp)

    # ---- start ------------------------------------------------------------

    def start(self):
        try:
            if self.kind == "serve":
                self._start_serve()
            if self.apache:
                self._start_apache("http", tls=False, port=self.port)
                if self.tls:
                    self._start_apache("tls", tls=True, port=self.tls_port)
            else:
                self._start_lighttpd()
            self.wait_healthy()
        except BaseException:
            self.dump_logs()
            self.close()
            raise
        return self

    def _start_serve(self):
        logf = open(self.backend_log, "ab")
        self.backend = subprocess.Popen(
            self.serve_argv(), stdin=subprocess.DEVNULL, stdout=logf,
            stderr=logf, cwd=self.tmp,
            preexec_fn=_demote(self.user) if self.user else None)
        logf.close()
        self.wait_socket()

    def _start_lighttpd(self):
        base, tls = LIGHTTPD_FILES[self.row]
        cdir = os.path.join(self.tmp, "conf")
        os.mkdir(cdir)
        copy_with(os.path.join(CONF, base), os.path.join(cdir, base),
                  [("server.max-write-idle = 360\n",
                    "server.max-write-idle = %d\n" % self.timeout)])
        shutil.copy(os.path.join(CONF, tls), os.path.join(cdir, tls))
        env = dict(os.environ,
                   SSEREPLAY_PORT=str(self.port),
                   SSEREPLAY_DOCROOT=os.path.join(REPO, "frontend"),
                   SSEREPLAY_SOCKET=self.sock, SSEREPLAY_VAR=self.tmp,
                   SSEREPLAY_WS_SOCKET=self.ws_sock, SSEREPLAY_BIN=BIN,
                   SSEREPLAY_CONFIG=self.conf,
                   SSEREPLAY_DB=self.db)
        if self.tls:
            env.update(SSEREPLAY_TLS_PORT=str(self.tls_port),
                       SSEREPLAY_CERT=self.cert, SSEREPLAY_KEY=self.key)
        out = open(self.lighttpd_log, "ab")
        self.lighttpd = subprocess.Popen(
            [stack.LIGHTTPD, "-D", "-f",
             os.path.join(cdir, tls if self.tls else base)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
            cwd=self.tmp)
        out.close()
        self.servers.append(("lighttpd", self.lighttpd,
                             os.path.join(self.tmp, "lighttpd-error.log")))
        self._wait_listen(self.lighttpd, self.port)
        if self.tls:
            self._wait_listen(self.lighttpd, self.tls_port)

    def apache_argv(self, var, port, tls):
        defs = {"SSEREPLAY_PORT": port, "SSEREPLAY_VAR": var,
                "SSEREPLAY_SERVERNAME": "localhost",
                "SSEREPLAY_DOCROOT": os.path.join(REPO, "frontend"),
                "SSEREPLAY_SOCKET": self.sock, "SSEREPLAY_BIN": BIN,
                "SSEREPLAY_WS_SOCKET": self.ws_sock,
                "SSEREPLAY_CONFIG": self.conf, "SSEREPLAY_DB": self.db,
                "SSEREPLAY_TIMEOUT": self.timeout,
                "SSEREPLAY_USER": self.user}
        if tls:
            defs.update(SSEREPLAY_CERT=self.cert, SSEREPLAY_KEY=self.key)
        defs.update(self.apache_defines)
        argv = [APACHE, "-DSTANDALONE", "-DFOREGROUND"]
        if tls:
            argv.append("-DSSEREPLAY_TLS")
        for k, v in defs.items():
            argv += ["-C", "Define %s %s" % (k, v)]
        return argv + ["-f", os.path.join(CONF, APACHE_FILE[self.row])]

    def _start_apache(self, name, tls, port):
        var = os.path.join(self.tmp, "apache-" + name)
        os.mkdir(var)
        if self.kind == "fcgid":
            # mod_fcgid's sockets are made by the children (www-data); Debian
            # creates /var/lib/apache2/fcgid owned by www-data the same way.
            os.mkdir(os.path.join(var, "fcgid"))
            pw = pwd.getpwnam(self.user)
            os.chown(os.path.join(var, "fcgid"), pw.pw_uid, pw.pw_gid)
        out = open(os.path.join(var, "apache.out"), "ab")
        p = subprocess.Popen(self.apache_argv(var, port, tls),
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=out, cwd=self.tmp)
        out.close()
        self.servers.append(("apache-" + name, p,
                             os.path.join(var, "apache-error.log")))
        self._wait_listen(p, port, os.path.join(var, "apache.out"))

    def _wait_listen(self, proc, port, out=None, timeout=15):
        import socket
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError("%s exited with %s:\n%s" % (
                    self.row, proc.returncode,
                    tail_file(out or self.lighttpd_log)))
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", port))
                return
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(0.02)
        raise AssertionError("%s not listening on %d" % (self.row, port))

    # ---- stop -------------------------------------------------------------

    def close(self):
        if self.closed:
            return
        for name, p, _ in reversed(self.servers):
            # Apache: SIGTERM stops the children (and mod_fcgid's processes)
            stop_pid(p, 10)
        self.lighttpd = None
        Stack.close(self)

    def dump_logs(self):
        import sys
        out = sys.stdout
        out.write("---- %s %s: backend.log ----\n%s\n" % (
            self.row, self.tmp, tail_file(self.backend_log)))
        for name, p, log in self.servers:
            out.write("---- %s error log ----\n%s\n" % (name,
                                                        tail_file(log)))
        out.flush()

    # ---- the backend, seen from outside -----------------------------------

    def backend_pids(self):
        """PIDs of the backend processes of this deployment."""
        if self.kind == "serve":
            return [self.backend.pid] if self.backend.poll() is None else []
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                exe = os.readlink("/proc/%s/exe" % d)
            except OSError:
                continue
            if exe != self.bin_real:
                continue
            if proc_env(int(d)).get("SSEREPLAY_DB") == self.db:
                pids.append(int(d))
        return pids

    def backend_streams(self):
        """Streams the backend holds open. serve/spawn: the subscriber
        gauge of /metrics. fcgid (one request per process, /metrics lands in
        an idle process): connections open in backend processes, i.e. their
        sockets other than the listening one on fd 0. CGI: live /events
        processes."""
        if self.kind in ("serve", "spawn"):
            return int(self.metrics()["ssereplay_subscribers"])
        n = 0
        for pid in self.backend_pids():
            if self.kind == "cgi":
                if proc_env(pid).get("SCRIPT_NAME") == "/events":
                    n += 1
                continue
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                if fd == "0":
                    continue
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(
                            "socket:"):
                        n += 1
                except OSError:
                    pass
        return n

    def cli(self, args, input=None, timeout=15, check=False):
        r = subprocess.run([BIN] + list(args), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=self.tmp,
                           preexec_fn=_demote(self.user) if self.user
                           else None)
        if check and r.returncode != 0:
            raise AssertionError("ssereplay %s -> exit %s; stderr %r" % (
                " ".join(args), r.returncode, r.stderr[-500:]))
        return r

    def server_errors(self):
        return "\n".join("%s: %s" % (n, tail_file(log, 10))
                         for n, _, log in self.servers)


class CurlStream(object):
    """An event stream read through `curl -N` (HTTP/2 over TLS here): the
    response head, then events parsed as they arrive on curl's stdout."""

    def __init__(self, url, last_event_id=None, http2=True, timeout=10):
        argv = [CURL, "-sS", "-k", "-N", "-i", "--no-buffer",
                "-H", "Accept: text/event-stream"]
        if http2:
            argv.append("--http2")
        if last_event_id is not None:
            argv += ["-H", "Last-Event-ID: " + last_event_id]
        self.p = subprocess.Popen(argv + [url], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.fd = self.p.stdout.fileno()
        self.buf = bytearray()
        self.parser = SSEParser()
        self.pending = []
        self.eof = False
        self.status_line = None
        self.headers = {}
        deadline = time.monotonic() + timeout
        while True:
            j = self.buf.find(b"\r\n\r\n")
            if j >= 0:
                break
            if not self._read(deadline):
                raise AssertionError("curl %s: no response head (%r, %r)" % (
                    url, bytes(self.buf[:200]), self.p.stderr.read()[-300:]))
        head = bytes(self.buf[:j]).decode("latin-1").split("\r\n")
        rest = bytes(self.buf[j + 4:])
        self.buf.clear()
        self.status_line = head[0]
        for l in head[1:]:
            k, _, v = l.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self._feed(rest)

    def _read(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("timed out")
        r, _, _ = select.select([self.fd], [], [], left)
        if not r:
            raise Timeout("timed out")
        b = os.read(self.fd, 65536)
        if not b:
            self.eof = True
            return False
        self.buf += b
        return True

    def _feed(self, b):
        for it in self.parser.feed(b):
            self.pending.append(it)

    def next_item(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.pending:
            if self.eof or not self._read(deadline):
                raise StreamEnded("curl stream ended")
            b = bytes(self.buf)
            self.buf.clear()
            self._feed(b)
        return self.pending.pop(0)

    def next_event(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            it = self.next_item(max(1e-3, deadline - time.monotonic()))
            if it[0] == "event":
                return it[1]

    def collect(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        return [self.next_event(max(1e-3, deadline - time.monotonic()))
                for _ in range(n)]

    def close(self):
        stop_pid(self.p, 3)
        for f in (self.p.stdout, self.p.stderr):
            try:
                f.close()
            except OSError:
                pass
