"""Reconnect storm: 10,000 SSE clients connect at once through lighttpd,
each with a Last-Event-ID (so each gets a replay), hold until every one has
exactly the events after its id, then all disconnect at once. Twice. The
backend's RSS must come back to where it was before the storms, and
ssereplay_subscribers and ssereplay_bytes_queued to 0.

lighttpd takes two descriptors per stream (the client's and the FastCGI
one) and stops accepting at 90 % of its max_fds. Where one lighttpd cannot
hold 10,000 streams (descriptor hard limit, or lighttpd's own max_fds), the
clients are spread over several lighttpd front ends, each started from the
same conf/lighttpd.conf on a port of its own, all in front of the one
backend: the backend still holds 10,000 streams at once. If even that is
not possible (the client process or the backend cannot have 10,000
descriptors), the test fails with the reason; it never shrinks the storm.

A client refused on the way (lighttpd answers 500 when it cannot get a
FastCGI connection to the backend, e.g. while the backend's listen backlog
is full) retries after a short pause, as a page would; those retries and
lighttpd's complaints are counted and shown, not failed on.

SSEREPLAY_STORM_CLIENTS overrides the 10,000 (for a quick local look)."""

import math
import os
import random
import re
import resource
import subprocess
import time

from itest import test, note, ok, eq
from stack import (Stack, TOKEN, BIN, LIGHTTPD, REPO, free_port, stop_pid,
                   tail_file)
from stormclient import storm

N = int(os.environ.get("SSEREPLAY_STORM_CLIENTS") or 10000)
EVENTS = 100          # in the log; each client resumes somewhere in it
RSS_MARGIN_KB = 4 * 1024       # after a storm vs before the first
RSS_GROWTH_KB = 1024           # after the second vs after the first
ASAN = ".obj-asan" in BIN


def _nofile(pid="self"):
    with open("/proc/%s/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3]), int(line.split()[4])
    return None


def _raise_nofile(want):
    """Raise this process's descriptor limit (its children inherit it):
    the hard limit to want if we may (root with CAP_SYS_RESOURCE), the soft
    one to the hard. Returns (soft, hard, why-not)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    why = None
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError) as e:
            why = "setrlimit(NOFILE, %d): %s" % (want, e)
            with open("/proc/self/status") as f:
                cap = [l for l in f if l.startswith("CapEff:")]
            if cap and not (int(cap[0].split()[1], 16) >> 24) & 1:
                why += " (no CAP_SYS_RESOURCE)"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft, hard, why


def _lighttpd_max_fds(proc, errlog):
    """What lighttpd really uses: it logs "can't have more connections
    than fds/2: CONNS FDS" when server.max-connections is above it;
    otherwise its max_fds is at least 2 * max-connections (32768 here),
    bounded by its descriptor limit. (lighttpd 1.4.69 running as root
    takes conf/lighttpd.conf's server.max-fds = 65536 as unset, since it
    does not fit its 16-bit setting, and uses 4096; 65535 would give it
    the descriptor limit.)"""
    text = ""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            with open(errlog) as f:
                text = f.read()
        except OSError:
            text = ""
        if "server started" in text:
            break
        time.sleep(0.05)
    m = re.search(r"more connections than fds/2: *(\d+) (\d+)", text)
    soft = _nofile(proc.pid)[0]
    if m:
        return min(int(m.group(2)), soft), text
    return soft, text


def _start_front(st, k):
    """Another lighttpd from conf/lighttpd.conf, unchanged, on a port of
    its own, in front of the same backend socket."""
    var = os.path.join(st.tmp, "front%d" % k)
    os.mkdir(var)
    port = free_port()
    env = dict(os.environ, SSEREPLAY_PORT=str(port),
               SSEREPLAY_DOCROOT=os.path.join(REPO, "frontend"),
               SSEREPLAY_SOCKET=st.sock, SSEREPLAY_WS_SOCKET=st.ws_sock,
               SSEREPLAY_VAR=var)
    out = open(os.path.join(var, "lighttpd.out"), "ab")
    p = subprocess.Popen([LIGHTTPD, "-D", "-f",
                          os.path.join(REPO, "conf", "lighttpd.conf")],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         env=env, cwd=var)
    out.close()
    import socket
    deadline = time.monotonic() + 10
    while True:
        if p.poll() is not None:
            raise AssertionError("front-end lighttpd %d exited with %s: %s"
                                 % (k, p.returncode, tail_file(os.path.join(
                                     var, "lighttpd-error.log"))))
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.close()
            break
        except OSError:
            s.close()
        if time.monotonic() > deadline:
            raise AssertionError("front-end lighttpd %d not listening" % k)
        time.sleep(0.02)
    return p, port, os.path.join(var, "lighttpd-error.log")


def _settled(st, timeout=30):
    """Wait for no subscriber and no queued byte; returns the metrics."""
    deadline = time.monotonic() + timeout
    m = {}
    while time.monotonic() < deadline:
        m = st.metrics()
        if (m.get("ssereplay_subscribers") == 0 and
                m.get("ssereplay_bytes_queued") == 0):
            return m
        time.sleep(0.1)
    raise AssertionError(
        "after the storm: ssereplay_subscribers %r, ssereplay_bytes_queued "
        "%r, not back to 0 within %ds" % (
            m.get("ssereplay_subscribers"), m.get("ssereplay_bytes_queued"),
            timeout))


def _rss_settled(st):
    """The backend's RSS once it stops moving (freeing can lag a little)."""
    last = st.backend_rss_kb()
    for _ in range(10):
        time.sleep(0.2)
        cur = st.backend_rss_kb()
        if abs(cur - last) < 64:
            return cur
        last = cur
    return last


def _refusals(m):
    return {k: v for k, v in m.items()
            if k.startswith("ssereplay_refusals_total")}


@test(timeout=180 if ASAN else 120)
def storm_10000_clients_replay_then_leave_memory_returns_twice():
    t_start = time.monotonic()
    need_client = N + 200            # this process's sockets
    need_backend = N + 200           # one FastCGI connection per stream
    soft, hard, why = _raise_nofile(4 * N + 1000)
    note("descriptor limit %d/%d%s" % (soft, hard,
                                       "; %s" % why if why else ""))
    ok(soft >= need_client and soft >= need_backend,
       "a storm of %d clients is not possible here: the client process "
       "needs %d descriptors and the backend %d, the limit is %d and "
       "cannot be raised (%s)" % (N, need_client, need_backend, soft, why))
    config = ("publish_token = %s\n"
              # every client comes from 127.0.0.1
              "max_subscribers_per_address = 0\n"
              "max_subscribers = %d\n" % (TOKEN, N + 1000))
    fronts = []
    with Stack(config=config) as st:
        try:
            b_soft = _nofile(st.backend.pid)[0]
            ok(b_soft >= need_backend, "the backend's descriptor limit is "
               "%d, a storm of %d needs %d" % (b_soft, N, need_backend))
            lt_fds, lt_log = _lighttpd_max_fds(
                st.lighttpd, os.path.join(st.tmp, "lighttpd-error.log"))
            # 90 % of max_fds, 2 per stream, some for listeners and logs
            per_front = (lt_fds * 9 // 10 - 100) // 2
            ok(per_front > 0, "lighttpd max_fds %d" % lt_fds)
            n_front = int(math.ceil(N / float(per_front)))
            ok(n_front <= 8, "%d clients would need %d lighttpd front ends "
               "of %d streams each (max_fds %d)" % (N, n_front, per_front,
                                                     lt_fds))
            ports = [st.port]
            for k in range(1, n_front):
                p, port, _ = _start_front(st, k)
                fronts.append(p)
                ports.append(port)
            note("lighttpd max_fds %d here (%s), so up to %d streams per "
                 "lighttpd: %d clients through %d lighttpd front end%s from "
                 "conf/lighttpd.conf, one backend" % (
                     lt_fds, "its log: " + re.search(
                         r"can't have more connections than fds/2[^\n]*",
                         lt_log).group(0) if "fds/2" in lt_log else
                     "its descriptor limit", per_front, N, n_front,
                     "s" if n_front > 1 else ""))

            ids = []
            for i in range(EVENTS):
                ids.append(st.publish_ok("storm", "storm-%03d-%s" % (
                    i, "x" * 40)))
            log = [(eid, "storm-%03d-%s" % (i, "x" * 40))
                   for i, eid in enumerate(ids)]
            rng = random.Random(8)
            rss_fresh = st.backend_rss_kb()
            targets = [("127.0.0.1", p) for p in ports]
            path = "/events?topic=storm"

            def plan(n):
                resume, want = [], []
                for i in range(n):
                    k = rng.randrange(-1, EVENTS - 1)   # -1: from "0"
                    resume.append("0" if k < 0 else ids[k])
                    want.append(log[k + 1:])
                return resume, want

            # a small warm-up first: one-time allocations (SQLite's cache,
            # worker threads' stacks) are not what this test is about
            r, w = plan(200)
            res = storm(targets, path, r, w, deadline_s=30)
            ok(not res["unserved"] and not res["wrong"],
               "warm-up: %r" % res)
            _settled(st)
            rss_before = _rss_settled(st)
            m_before = st.metrics()
            rss_after = []
            for round_no in (1, 2):
                resume, want = plan(N)
                peak = {}

                def on_served():
                    m = st.metrics()
                    peak["subscribers"] = m.get("ssereplay_subscribers")
                    peak["bytes_queued"] = m.get("ssereplay_bytes_queued")
                    peak["rss"] = st.backend_rss_kb()
                    return peak

                res = storm(targets, path, resume, want, deadline_s=45,
                            on_served=on_served)
                raise_unserved(res, round_no, st)
                eq(peak["subscribers"], N, "storm %d: ssereplay_subscribers "
                   "while every client was connected" % round_no)
                _settled(st)
                rss = _rss_settled(st)
                rss_after.append(rss)
                st_ = res["stats"]
                note("storm %d: %d clients served in %.1f s (connects "
                     "issued in %.2f s), %d events / %.1f MB received, "
                     "%d connections (%d clients retried: %s), statuses %s;"
                     " while all were connected: subscribers %d, bytes "
                     "queued %d, backend RSS %d KiB; RSS %d KiB after" % (
                         round_no, res["served"], res["served_s"],
                         res["connect_spread_s"], st_["events"],
                         st_["bytes"] / 1e6, st_["connects"],
                         res["retried_clients"],
                         _top(res["fail_reasons"]), st_["statuses"],
                         peak["subscribers"], peak["bytes_queued"],
                         peak["rss"], rss))
            note("backend RSS KiB: fresh %d, before the storms (after a "
                 "200-client warm-up) %d, after storm 1 %d, after storm 2 "
                 "%d" % (rss_fresh, rss_before, rss_after[0],
                         rss_after[1]))
            m_end = st.metrics()
            ref0, ref1 = _refusals(m_before), _refusals(m_end)
            grown = {k: v - ref0.get(k, 0) for k, v in ref1.items()
                     if v != ref0.get(k, 0)}
            if grown:
                note("refusals during the storms: %r" % grown)
            lt_lines = _lighttpd_complaints(
                [os.path.join(st.tmp, "lighttpd-error.log")] +
                [os.path.join(st.tmp, "front%d" % k, "lighttpd-error.log")
                 for k in range(1, n_front)])
            if lt_lines:
                note("lighttpd error logs: %s" % _top(lt_lines, 6))
            eq(m_end.get("ssereplay_subscribers"), 0, "subscribers at the "
               "end")
            eq(m_end.get("ssereplay_bytes_queued"), 0, "bytes queued at the "
               "end")
            for k, p in enumerate([st.lighttpd] + fronts):
                ok(p.poll() is None, "lighttpd front end %d died" % k)
            ok(st.backend.poll() is None, "the backend died: %s" %
               tail_file(st.backend_log))
            if ASAN:
                # ASan's quarantine keeps freed memory resident: RSS says
                # nothing about leaks there (LeakSanitizer does, at exit).
                note("RSS bounds not asserted under ASan")
            else:
                ok(rss_after[0] <= rss_before + RSS_MARGIN_KB,
                   "backend RSS %d KiB after storm 1, %d KiB before: grew "
                   "%d KiB (bound %d)" % (rss_after[0], rss_before,
                                          rss_after[0] - rss_before,
                                          RSS_MARGIN_KB))
                ok(rss_after[1] <= rss_after[0] + RSS_GROWTH_KB,
                   "backend RSS grew again in storm 2: %d -> %d KiB "
                   "(bound +%d)" % (rss_after[0], rss_after[1],
                                    RSS_GROWTH_KB))
            # a clean stop after the storms; under ASan, LeakSanitizer
            # reports at exit whatever the storms left allocated
            with open(st.backend_log, "rb") as f:
                f.seek(0, 2)
                log_at = f.tell()
            rc = st.stop_backend(timeout=30)
            with open(st.backend_log, "rb") as f:
                f.seek(log_at)
                exit_log = f.read().decode("utf-8", "replace")
            ok(rc == 0 and "Sanitizer" not in exit_log,
               "backend stop after the storms: exit %s, log: %s" % (
                   rc, exit_log[-3000:]))
            note("whole test %.1f s" % (time.monotonic() - t_start))
        finally:
            for p in fronts:
                stop_pid(p)


def _lighttpd_complaints(paths):
    """Counts of lighttpd's error-log messages, without times and the
    numbers and paths that differ from line to line."""
    out = {}
    for p in paths:
        try:
            with open(p, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            msg = re.sub(r"^[0-9-]+ [0-9:]+: \([^)]*\) ", "", line)
            if msg.startswith(("server started", "server stopped",
                               "can't have more connections")):
                continue
            msg = re.sub(r"unix:\S+", "unix:SOCK", msg)
            msg = re.sub(r"\d+", "N", msg)
            out[msg[:120]] = out.get(msg[:120], 0) + 1
    return out


def _top(d, n=4):
    items = sorted(d.items(), key=lambda kv: -kv[1])
    return ", ".join("%s x%d" % kv for kv in items[:n]) or "none"


def raise_unserved(res, round_no, st):
    if res["unserved"] or res["wrong"]:
        raise AssertionError(
            "storm %d: %d of %d clients not served within the deadline "
            "(first %r), %d got the wrong events: %s; connection failures "
            "%s; statuses %r; lighttpd: %s" % (
                round_no, len(res["unserved"]), res["clients"],
                res["unserved"][:5], len(res["wrong"]),
                "\n".join(res["wrong"][:5]), _top(res["fail_reasons"], 8),
                res["stats"]["statuses"],
                tail_file(os.path.join(st.tmp, "lighttpd-error.log"), 8)))
