"""A three-node nats-server cluster with JetStream on loopback.

NatsCluster(n=3) writes one config per node into a temporary directory
(client, cluster and monitoring ports picked free on 127.0.0.1, a store
directory each), starts every `nats-server -c FILE` and waits until the
JetStream meta group has a leader (GET /jsz on a node's monitoring port).
Nodes are stopped by PID: kill(i) (SIGKILL by default), start(i) brings
one back with its store, close() stops them all (also at exit).
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from stack import free_port, stop_pid, tail_file, TMPDIR_LOG

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"

_live = []


def _cleanup():
    for c in list(_live):
        try:
            c.close()
        except Exception:
            pass


atexit.register(_cleanup)


class NatsCluster(object):
    def __init__(self, n=3, name="ssereplay-test", start=True):
        self.tmp = tempfile.mkdtemp(prefix="ssereplay-nats-")
        if TMPDIR_LOG:
            with open(TMPDIR_LOG, "a") as f:
                f.write(self.tmp + "\n")
        self.n = n
        self.name = name
        self.ports = [free_port() for _ in range(n)]
        self.cports = [free_port() for _ in range(n)]
        self.mports = [free_port() for _ in range(n)]
        self.procs = [None] * n
        self.closed = False
        routes = ", ".join("nats-route://127.0.0.1:%d" % p
                           for p in self.cports)
        for i in range(n):
            store = os.path.join(self.tmp, "n%d" % i)
            os.makedirs(store)
            with open(self.conf(i), "w") as f:
                f.write(
                    "server_name: n%d\n"
                    "listen: 127.0.0.1:%d\n"
                    "http: 127.0.0.1:%d\n"
                    "jetstream {\n  store_dir: \"%s\"\n"
                    "  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n"
                    "cluster {\n  name: %s\n  listen: 127.0.0.1:%d\n"
                    "  routes: [%s]\n}\n" % (
                        i, self.ports[i], self.mports[i], store, name,
                        self.cports[i], routes))
        _live.append(self)
        if start:
            try:
                for i in range(n):
                    self.start(i, wait=False)
                self.wait_ready()
            except BaseException:
                self.dump_logs()
                self.close()
                raise

    def conf(self, i):
        return os.path.join(self.tmp, "n%d.conf" % i)

    def log(self, i):
        return os.path.join(self.tmp, "n%d.log" % i)

    @property
    def urls(self):
        return ",".join("nats://127.0.0.1:%d" % p for p in self.ports)

    def url(self, i):
        return "nats://127.0.0.1:%d" % self.ports[i]

    def start(self, i, wait=True):
        assert self.procs[i] is None or self.procs[i].poll() is not None
        out = open(self.log(i), "ab")
        self.procs[i] = subprocess.Popen(
            [NATS_SERVER, "-c", self.conf(i)], stdin=subprocess.DEVNULL,
            stdout=out, stderr=out, cwd=self.tmp)
        out.close()
        if wait:
            self.wait_ready()

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        if p is not None and p.poll() is None:
            os.kill(p.pid, sig)
            p.wait(15)

    def alive(self):
        return [i for i in range(self.n)
                if self.procs[i] is not None and self.procs[i].poll() is None]

    def jsz(self, i, query=""):
        with urllib.request.urlopen("http://127.0.0.1:%d/jsz%s" % (
                self.mports[i], query), timeout=2) as r:
            return json.loads(r.read().decode())

    def wait_ready(self, timeout=30.0):
        """Every running node answers and sees a meta leader."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            ok = True
            for i in self.alive():
                try:
                    j = self.jsz(i)
                    if not (j.get("meta_cluster") or {}).get("leader"):
                        ok = False
                        last = "n%d: no meta leader yet" % i
                except Exception as e:
                    ok = False
                    last = "n%d: %r" % (i, e)
            for i in range(self.n):
                if self.procs[i] is not None and \
                        self.procs[i].poll() is not None and \
                        self.procs[i].returncode not in (-9, -15, 0):
                    raise AssertionError("nats-server n%d exited %s:\n%s" % (
                        i, self.procs[i].returncode, tail_file(self.log(i))))
            if ok and self.alive():
                return
            time.sleep(0.1)
        raise AssertionError("nats cluster not ready in %.0fs (%s)" % (
            timeout, last))

    def stream_leader(self, stream):
        """The server name leading stream (None if unknown)."""
        for i in self.alive():
            try:
                j = self.jsz(i, "?streams=1&config=0")
            except Exception:
                continue
            for acc in j.get("account_details") or []:
                for s in acc.get("stream_detail") or []:
                    if s.get("name") == stream:
                        cl = s.get("cluster") or {}
                        if cl.get("leader"):
                            return cl["leader"]
        return None

    def index_of(self, server_name):
        return int(server_name[1:])

    def close(self):
        if self.closed:
            return
        self.closed = True
        for p in self.procs:
            stop_pid(p)
        if self in _live:
            _live.remove(self)
        if not os.environ.get("SSEREPLAY_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def dump_logs(self):
        for i in range(self.n):
            print("---- %s: nats n%d (last 15 lines) ----\n%s" % (
                self.tmp, i, tail_file(self.log(i), 15)))

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            self.dump_logs()
        self.close()
        return False


def js_config(cluster, stream, replicas=3, extra="", urls=None):
    """A backend config on the JetStream stream `stream` of cluster."""
    from stack import default_config
    return default_config(extra=(
        "log = jetstream\n"
        "nats_url = %s\n"
        "nats_stream = %s\n"
        "nats_replicas = %d\n"
        "heartbeat = 1s\n%s" % (urls or cluster.urls, stream, replicas,
                                extra)))


def nats_request(port, subject, payload=b"", timeout=5.0):
    """One request with the plain NATS protocol (no client library in
    the tests): returns the reply payload (JSON decoded when it is)."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout)
    try:
        f = s.makefile("rb")
        f.readline()   # INFO
        if isinstance(payload, str):
            payload = payload.encode()
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n'
                  b"SUB _INBOX.tests 1\r\n"
                  b"PUB " + subject.encode() + b" _INBOX.tests " +
                  str(len(payload)).encode() + b"\r\n" + payload + b"\r\n")
        while True:
            line = f.readline()
            if not line:
                raise AssertionError("nats: connection closed")
            if line.startswith(b"PING"):
                s.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise AssertionError("nats: %r" % line)
            elif line.startswith(b"MSG"):
                n = int(line.split()[-1])
                body = f.read(n + 2)[:n]
                try:
                    return json.loads(body.decode())
                except ValueError:
                    return body
    finally:
        s.close()


def stream_info(cluster, stream, node=None):
    for i in ([node] if node is not None else cluster.alive()):
        try:
            return nats_request(cluster.ports[i],
                                "$JS.API.STREAM.INFO." + stream)
        except OSError:
            continue
    raise AssertionError("no node answered")


def delete_stream(cluster, stream):
    i = cluster.alive()[0]
    return nats_request(cluster.ports[i], "$JS.API.STREAM.DELETE." + stream)
