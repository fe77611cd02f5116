#!/usr/bin/env python3
"""How many concurrent streams each deployment row holds on this machine
(not part of the suite: it takes a minute or two per row).

    make -C tests/bench tools
    python3 tests/integration/deploy_capacity.py [ROW=N ...]

For each row: the real server from conf/ with the shipped timeouts and the
default heartbeat (15 s), the bench load client opening N streams
(tests/bench/.obj/loadclient -c N), then how many got their 200 and stayed
open, and what the backend says it holds. One line per row.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import stack  # noqa: E402
import webservers  # noqa: E402

LOADCLIENT = os.path.join(stack.REPO, "tests", "bench", ".obj", "loadclient")
DEFAULT = {"lighttpd-daemon": 1000, "lighttpd-spawn": 1000,
           "apache-proxy-fcgi": 1000, "apache-fcgid": 200, "apache-cgi": 200}


def backend_connections(d):
    """Accepted sockets in the backend processes (all but the listener)."""
    n = 0
    for pid in d.backend_pids():
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            n += link.startswith("socket:")
        n -= 1
    return n


def measure(row, n, hold=8.0):
    cfg = stack.default_config(extra="max_subscribers = 20000\n")
    d = webservers.Deployment(row, config=cfg, tls=False, timeout=300 if
                              row.startswith("apache") else 360)
    if row.startswith("lighttpd"):
        d.timeout = 360
    d.start()
    try:
        ready = os.path.join(d.tmp, "ready")
        t0 = time.monotonic()
        p = subprocess.Popen([LOADCLIENT, "-p", str(d.port), "-u",
                              "/events?topic=cap", "-c", str(n), "-d",
                              str(hold + 20), "-f", ready, "-q"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # wait for all to be ready, or for the count to stop growing
        last, same = -1, 0
        while time.monotonic() - t0 < hold + 15:
            time.sleep(1)
            try:
                held = d.backend_streams()
            except Exception:
                held = -1
            if os.path.exists(ready) or (held == last and held > 0 and
                                         same >= 3):
                break
            same = same + 1 if held == last else 0
            last = held
        time.sleep(2)
        try:
            held = d.backend_streams()
        except Exception as e:   # no worker left to answer /metrics
            held = "%d (connections; /metrics: %s)" % (
                backend_connections(d), type(e).__name__)
        procs = len(d.backend_pids())
        os.kill(p.pid, 15)
        out, err = p.communicate(30)
        m = dict(re.findall(r"(\w+)=(\S+)", out.decode()))
        return ("%s: asked %d, backend holds %s streams (%d backend "
                "processes); loadclient ready=%s http_errors=%s "
                "conn_errors=%s eofs=%s; %.0fs" % (
                    row, n, held, procs, m.get("ready"),
                    m.get("http_errors"), m.get("conn_errors"), m.get("eofs"),
                    time.monotonic() - t0))
    finally:
        d.close()


def main():
    rows = dict(DEFAULT)
    if len(sys.argv) > 1:
        rows = {}
        for a in sys.argv[1:]:
            r, _, n = a.partition("=")
            rows[r] = int(n or DEFAULT[r])
    for r, n in rows.items():
        print(measure(r, n), flush=True)


if __name__ == "__main__":
    main()
