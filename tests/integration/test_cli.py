"""The command line: serve (flags, config, errors, listen), publish, tail."""

import os
import signal
import socket
import stat
import subprocess
import time

from common import ID_RE, seq_of, expect_status, eq, ok
from itest import test, note, poll
from sseclient import SSEParser, Timeout
from stack import RUN_AS, Stack, BIN, free_port, stop_pid, tail_file, TOKEN


def _run_fail(args, what, cwd=None, timeout=6):
    """Run BIN args; it must exit non-zero within 5 s with a message on
    stderr. Returns stderr text."""
    t0 = time.monotonic()
    try:
        r = subprocess.run([BIN] + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: still running after %ds (expected a prompt "
                             "error exit)" % (what, timeout))
    dt = time.monotonic() - t0
    err = r.stderr.decode("utf-8", "replace")
    ok(r.returncode != 0, "%s: exit status 0 (stderr %r)" % (what, err))
    ok(err.strip(), "%s: exit %s but nothing on stderr" % (what,
                                                           r.returncode))
    ok(dt < 5, "%s: took %.1fs to fail" % (what, dt))
    return err


def _serve_args(st, *extra):
    return ["serve", "--listen", "unix:" + st.sock, "--db", st.db,
            "--config", st.conf] + list(extra)


def _run_fail_many(cases, limit=5.0):
    """cases: [(args, what)]. Start them all at once; each must exit
    non-zero within `limit` seconds with a message on stderr. Survivors are
    killed. Returns a list of failure messages."""
    procs = []
    for case in cases:
        args, what = case[0], case[1]
        want = case[2] if len(case) > 2 else None
        p = subprocess.Popen([BIN] + args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append((p, what, want))
    deadline = time.monotonic() + limit
    fails = []
    for p, what, want in procs:
        try:
            out, err = p.communicate(timeout=max(0.1, deadline -
                                                 time.monotonic()))
        except subprocess.TimeoutExpired:
            stop_pid(p, 2)
            fails.append("%s: still running after %.0fs (accepted?)" % (
                what, limit))
            continue
        err = err.decode("utf-8", "replace")
        if p.returncode == 0:
            fails.append("%s: exit status 0 (stderr %r)" % (what, err))
        elif not err.strip():
            fails.append("%s: exit %s but nothing on stderr" % (
                what, p.returncode))
        elif want and want not in err:
            fails.append("%s: stderr does not mention %r: %r" % (
                what, want, err[-200:]))
    return fails


@test
def cli_unknown_flag_and_command():
    with Stack(mode=None, lighttpd=False) as st:
        fails = _run_fail_many([
            (_serve_args(st, "--bogus"), "serve --bogus"),
            (["serve", "--listen", "unix:%s/b.sock" % st.tmp, "--db", st.db,
              "--config", st.conf, "--bogus", "1"], "serve --bogus 1"),
            (["frobnicate"], "unknown subcommand"),
            (["publish", "--db", st.db, "--topic", "t", "--bogus", "x"],
             "publish --bogus"),
            (["tail", "--db", st.db, "--bogus"], "tail --bogus"),
            (["serve", "--listen", "unix:%s/c.sock" % st.tmp, "--db", st.db,
              "--config", st.conf, "--heartbeat"], "flag without a value"),
        ])
        ok(not fails, "\n".join(fails))
        ok(not os.path.exists(st.sock), "socket created by a failed start")


@test
def cli_bad_config_file():
    with Stack(mode=None, lighttpd=False) as st:
        cases = [
            ("not a key value line", "garbage"),
            ("unknown key", "bogus_key = 1"),
            ("bad duration", "heartbeat = abc"),
            ("bad size", "max_event_size = 12Q"),
            ("size above ceiling", "max_event_size = 2M"),
            ("bad enum", "sync = maybe"),
            ("bad boolean", "listen_force = perhaps"),
            ("negative", "retention_max_events = -1"),
            ("workers 0", "workers = 0"),
            ("empty value", "retry ="),
        ]
        runs = []
        for i, (what, line) in enumerate(cases):
            conf = os.path.join(st.tmp, "c%d" % i, "ssereplay.conf")
            os.mkdir(os.path.dirname(conf))
            with open(conf, "w") as f:
                f.write("# line one is a comment\n%s\n" % line)
            runs.append((["serve", "--listen", "unix:%s/s%d.sock" % (
                st.tmp, i), "--db", st.db, "--config", conf],
                "config: " + what, "ssereplay.conf:2"))
        fails = _run_fail_many(runs)
        os.unlink(st.conf)
        try:
            _run_fail(_serve_args(st), "missing config file")
        except AssertionError as e:
            fails.append(str(e))
        ok(not fails, "\n".join(fails))


@test
def cli_bad_flag_values():
    with Stack(mode=None, lighttpd=False) as st:
        cases = [
            ["--heartbeat", "abc"], ["--heartbeat", "10ms"],
            ["--heartbeat", "2h"], ["--retry", "-1"], ["--retry", "2x"],
            ["--max-event-size", "2M"], ["--max-event-size", "0"],
            ["--max-subscribers", "0"], ["--max-subscribers", "many"],
            ["--backlog-bound", "1k"], ["--workers", "0"],
            ["--workers", "100000"], ["--sync", "sometimes"],
            ["--retention-max-events", "x"], ["--retention-max-age", "1y"],
            ["--listen-force", "perhaps"], ["--cors-origin", ""],
            ["--publish-token", ""],
        ]
        runs = []
        for i, extra in enumerate(cases):
            sock = os.path.join(st.tmp, "s%d.sock" % i)
            runs.append((["serve", "--listen", "unix:" + sock, "--db", st.db,
                          "--config", st.conf] + extra, " ".join(extra)))
        for lst in ("nonsense", "unix:", "127.0.0.1:99999", "127.0.0.1:x",
                    "127.0.0.1:"):
            runs.append((["serve", "--listen", lst, "--db", st.db,
                          "--config", st.conf], "--listen " + lst))
        fails = _run_fail_many(runs)
        ok(not fails, "%d bad values accepted:\n%s" % (len(fails),
                                                       "\n".join(fails)))


@test
def cli_unwritable_db():
    with Stack(mode=None, lighttpd=False) as st:
        f = os.path.join(st.tmp, "file.txt")
        with open(f, "w") as fh:
            fh.write("not a directory\n")
        _run_fail(_serve_args(st)[:3] + ["--db", os.path.join(f, "db"),
                                         "--config", st.conf],
                  "serve --db under a regular file")
        _run_fail(["publish", "--db", os.path.join(f, "db"), "--topic", "t",
                   "x"], "publish --db under a regular file")
        _run_fail(_serve_args(st)[:3] + ["--db", f, "--config", st.conf],
                  "serve --db that is not a database")


@test
def cli_listen_non_loopback_refused():
    with Stack(mode=None, lighttpd=False) as st:
        port = free_port()
        err = _run_fail(["serve", "--listen", "0.0.0.0:%d" % port, "--db",
                         st.db, "--config", st.conf], "listen 0.0.0.0")
        note("stderr: %s" % err.strip().splitlines()[-1][:120])
        p = subprocess.Popen([BIN, "serve", "--listen", "0.0.0.0:%d" % port,
                              "--db", st.db, "--config", st.conf,
                              "--listen-force", "yes"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            def up():
                if p.poll() is not None:
                    raise AssertionError("--listen-force yes: exited %s: %r"
                                         % (p.returncode,
                                            p.stderr.read()[-300:]))
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", port))
                    return True
                except OSError:
                    return False
                finally:
                    s.close()
            poll(up, 5, 0.05, "listening on 0.0.0.0:%d" % port)
            os.kill(p.pid, signal.SIGTERM)
            eq(p.wait(5), 0, "exit after SIGTERM")
        finally:
            stop_pid(p)


@test
def cli_listen_tcp_loopback():
    with Stack(mode=None, lighttpd=False) as st:
        port = free_port()
        p = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:%d" % port,
                              "--db", st.db, "--config", st.conf],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            def up():
                if p.poll() is not None:
                    raise AssertionError("exited %s: %r" % (
                        p.returncode, p.stderr.read()[-300:]))
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", port))
                    return True
                except OSError:
                    return False
                finally:
                    s.close()
            poll(up, 5, 0.05, "listening on 127.0.0.1:%d" % port)
            os.kill(p.pid, signal.SIGTERM)
            eq(p.wait(5), 0, "exit after SIGTERM")
        finally:
            stop_pid(p)


@test
def cli_unix_socket_mode_and_sigterm():
    with Stack(lighttpd=False) as st:
        mode = stat.S_IMODE(os.stat(st.sock).st_mode)
        ok(stat.S_ISSOCK(os.stat(st.sock).st_mode), "not a socket")
        eq(oct(mode), oct(0o660), "socket file mode")
        t0 = time.monotonic()
        os.kill(st.backend.pid, signal.SIGTERM)
        rc = st.backend.wait(10)
        dt = time.monotonic() - t0
        note("idle SIGTERM exit %s after %.2fs" % (rc, dt))
        eq(rc, 0, "exit status after SIGTERM")
        ok(dt < 2.5, "SIGTERM took %.2fs" % dt)
        # it starts again on the same socket path and db
        st.start_backend()
        eq(stat.S_IMODE(os.stat(st.sock).st_mode), 0o660, "mode on restart")


@test
def cli_restart_after_kill9_stale_socket():
    with Stack() as st:
        st.publish_ok("t", "x")
        st.kill_backend()
        ok(os.path.exists(st.sock), "(socket file removed by kill -9?)")
        st.start_backend()
        st.wait_healthy()
        st.publish_ok("t", "y")


@test
def cli_every_flag_accepted():
    args = ["--publish-token", "flag-tok", "--retention-max-events", "100",
            "--retention-max-age", "10s", "--heartbeat", "1s", "--retry",
            "2s", "--max-event-size", "1k", "--max-subscribers", "5",
            "--cors-origin", "http://a.example", "--backlog-bound", "64k",
            "--workers", "4", "--sync", "normal", "--listen-force", "yes"]
    with Stack(args) as st:
        s, body = st.publish("f", "x", token="flag-tok")
        expect_status(s, 201, body, "publish with --publish-token")
        s, body = st.publish("f", "x" * 1025, token="flag-tok")
        expect_status(s, 413, body, "1025 bytes with --max-event-size 1k")
        c = st.sse("f", headers={"Origin": "http://a.example"})
        try:
            eq(c.header("access-control-allow-origin"), "http://a.example",
               "--cors-origin")
            it = c.next_item(5)
            eq(it[0], "retry", "first item")
            ok(1400 <= it[1] <= 2600, "--retry 2s gave %d" % it[1])
            t0 = time.monotonic()
            while True:
                it = c.next_item(3)
                if it[0] == "comment":
                    break
            # (exact heartbeat timing is checked in test_stream)
            ok(time.monotonic() - t0 < 2.6, "--heartbeat 1s: first comment "
               "after %.1fs" % (time.monotonic() - t0))
        finally:
            c.close()


@test
def cli_flags_override_config():
    conf = ("publish_token = %s\n"
            "heartbeat = 1h   # overridden by --heartbeat\n"
            "retry = 10s\n"
            "\n"
            "   # indented comment\n"
            "max_event_size = 1k\n" % TOKEN)
    with Stack(["--heartbeat", "1s", "--max-event-size", "2k"],
               config=conf) as st:
        c = st.sse("o")
        try:
            it = c.next_item(5)
            eq(it[0], "retry", "first item")
            ok(7000 <= it[1] <= 13000, "retry = 10s from the config gave %d"
               % it[1])
            it = c.next_item(3)
            eq(it[0], "comment", "heartbeat from --heartbeat 1s")
        finally:
            c.close()
        s, body = st.publish("o", "x" * 2000)
        expect_status(s, 201, body, "2000 bytes: flag 2k overrides config 1k")


@test
def cli_serve_from_config_only():
    """db and listen are config keys too (conf/ssereplay.conf)."""
    with Stack(mode=None, lighttpd=False) as st:
        with open(st.conf, "w") as f:
            f.write("db = %s\nlisten = unix:%s\npublish_token = %s\n"
                    "user = %s\n" % (st.db, st.sock, TOKEN, RUN_AS))
        logf = open(st.backend_log, "ab")
        st.backend = subprocess.Popen([BIN, "serve", "--config", st.conf],
                                      stdout=logf, stderr=logf, cwd=st.tmp)
        logf.close()
        st.wait_socket()
        st.start_lighttpd()
        st.wait_healthy()
        st.publish_ok("c", "x")
        ok(os.path.exists(st.db), "db not created at the configured path")


@test
def cli_publish_lines_bulk_import():
    """--lines: one event per stdin line, CR LF and LF both end a line,
    committed in batches; a bad line stops with its number and says how
    many events went in before it."""
    with Stack(lighttpd=False) as st:
        n = 10000
        body = "".join("row %d\n" % i for i in range(n - 2))
        body += "crlf row\r\n" + "last row without newline"
        r = st.cli(["publish", "--db", st.db, "--topic", "bulk",
                    "--event", "imp", "--lines"], input=body.encode(),
                   check=True)
        out = r.stdout.decode().strip()
        ok(out.startswith("%d events, " % n), "summary %r" % out)
        from common import db_rows
        rows = db_rows(st.db)
        eq(len(rows), n, "rows stored")
        eq([r[3] for r in rows[:2]], ["row 0", "row 1"], "first rows")
        eq([r[3] for r in rows[-2:]], ["crlf row", "last row without newline"],
           "last rows")
        ok(all(r[2] == "imp" and r[1] == "bulk" for r in rows),
           "topic and type of every row")
        seqs = [r[0] for r in rows]
        eq(seqs, list(range(seqs[0], seqs[0] + n)), "contiguous seqs")
        # A line over max_event_size (64 KiB) in the second batch: the
        # first batch (4096 lines) is in, the rest is not.
        bad = "".join("ok %d\n" % i for i in range(5000))
        bad += "x" * 70000 + "\n" + "after\n"
        r = st.cli(["publish", "--db", st.db, "--topic", "bulk", "--lines"],
                   input=bad.encode())
        ok(r.returncode != 0, "a too long line must fail")
        err = r.stderr.decode()
        ok("line 5001" in err and "4096 events before it" in err,
           "stderr %r" % err)
        eq(len(db_rows(st.db)), n + 4096, "rows after the failed import")
        r = st.cli(["publish", "--db", st.db, "--topic", "bulk", "--lines",
                    "data"])
        ok(r.returncode != 0 and b"--lines" in r.stderr,
           "DATA with --lines must be refused: %r" % r.stderr)


@test
def cli_publish_prints_id_and_stdin():
    with Stack(lighttpd=False) as st:
        i1 = st.cli_publish("p", "argument data")
        ok(ID_RE.match(i1), "publish printed %r" % i1)
        i2 = st.cli_publish("p", "multi\nline\r\nstdin é", event="kind",
                            stdin=True)
        ok(ID_RE.match(i2), "publish - printed %r" % i2)
        ok(seq_of(i2) > seq_of(i1), "ids not increasing")
        from common import db_rows
        rows = db_rows(st.db)
        eq([(r[1], r[3]) for r in rows],
           [("p", "argument data"), ("p", "multi\nline\r\nstdin é")],
           "stored data")
        eq(rows[1][2], "kind", "stored event type")


@test
def cli_publish_bad_input():
    with Stack(lighttpd=False) as st:
        _run_fail(["publish", "--db", st.db, "--topic", "bad topic", "x"],
                  "publish bad topic")
        _run_fail(["publish", "--db", st.db, "x"], "publish without --topic")
        _run_fail(["publish", "--db", st.db, "--topic", "t", "--event",
                   "bad name", "x"], "publish bad event name")
        r = subprocess.run([BIN, "publish", "--db", st.db, "--topic", "t",
                            "-"], input=b"\xff\xfe", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        ok(r.returncode != 0, "invalid UTF-8 on stdin accepted: %r" %
           r.stdout)
        from common import db_rows
        eq(db_rows(st.db), [], "log after refused publishes")


def _parse_sse(b):
    p = SSEParser()
    p.feed(b + b"\n\n")
    return [it[1] for it in p.items if it[0] == "event"]


@test
def cli_tail_format_topic_after():
    with Stack(lighttpd=False) as st:
        a1 = st.cli_publish("a", "one")
        b1 = st.cli_publish("b", "two\nlines", event="typ")
        a2 = st.cli_publish("a", "")
        a3 = st.cli_publish("a", "x\r\ny\rz")
        r = st.cli(["tail", "--db", st.db], check=True)
        out = r.stdout.decode()
        for line in out.replace("\r\n", "\n").split("\n"):
            ok(line == "" or line.startswith(("id: ", "event: ", "data: ")),
               "unexpected line %r in tail output:\n%s" % (line, out))
        evs = _parse_sse(r.stdout)
        eq([(e.id, e.type, e.data) for e in evs],
           [(a1, "message", "one"), (b1, "typ", "two\nlines"),
            (a2, "message", ""), (a3, "message", "x\ny\nz")],
           "tail output parsed")
        ok(("id: %s\nevent: typ\ndata: two\ndata: lines\n\n" % b1) in out,
           "tail wire format: %r" % out)
        evs = _parse_sse(st.cli(["tail", "--db", st.db, "--topic", "a"],
                                check=True).stdout)
        eq([e.id for e in evs], [a1, a2, a3], "tail --topic a")
        evs = _parse_sse(st.cli(["tail", "--db", st.db, "--after", a1],
                                check=True).stdout)
        eq([e.id for e in evs], [b1, a2, a3], "tail --after full id")
        evs = _parse_sse(st.cli(["tail", "--db", st.db, "--topic", "a",
                                 "--after", str(seq_of(a2))],
                                check=True).stdout)
        eq([e.id for e in evs], [a3], "tail --topic a --after bare seq")


@test
def cli_tail_follow():
    with Stack() as st:
        a1 = st.cli_publish("f", "before")
        p = subprocess.Popen([BIN, "tail", "--db", st.db, "--topic", "f",
                              "--follow"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            os.set_blocking(p.stdout.fileno(), False)
            parser = SSEParser()
            got = []

            def read_until(n, timeout):
                deadline = time.monotonic() + timeout
                while len(got) < n and time.monotonic() < deadline:
                    try:
                        b = os.read(p.stdout.fileno(), 65536)
                    except BlockingIOError:
                        b = None
                    if b:
                        got.extend(it[1] for it in parser.feed(b)
                                   if it[0] == "event")
                    elif b == b"":
                        break
                    else:
                        time.sleep(0.02)
                return got
            read_until(1, 5)
            eq([e.id for e in got], [a1], "tail --follow: existing event")
            a2 = st.cli_publish("f", "cli-live")
            a3 = st.publish_ok("f", "http-live")
            st.publish_ok("other", "not mine")
            read_until(3, 5)
            eq([(e.id, e.data) for e in got],
               [(a1, "before"), (a2, "cli-live"), (a3, "http-live")],
               "tail --follow output")
            ok(p.poll() is None, "tail --follow exited (%s)" % p.returncode)
        finally:
            stop_pid(p)
