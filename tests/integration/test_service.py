"""Running as a service (README.md, "Running as a service"): started as
root, the backend drops to `user` once its sockets and log are open, and
refuses to serve as root without one; after start-up a seccomp filter
limits the system calls of every thread."""

import os
import pwd
import subprocess

from itest import test, note, ok, eq
from stack import Stack, BIN, RUN_AS


def _status(pid):
    """Fields of /proc/PID/status for the process and each of its
    threads."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        fields = {}
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
        out.append(fields)
    return out


def _log(st):
    with open(st.backend_log) as f:
        return f.read()


@test(timeout=30)
def service_refuses_root_without_user():
    if os.geteuid() != 0:
        note("not root here: nothing to refuse")
        return
    with Stack(mode=None, lighttpd=False,
               config="publish_token = x\n# no user\n") as st:
        # Stack adds `user` as root; take it out again.
        with open(st.conf, "w") as f:
            f.write("publish_token = x\n")
        r = subprocess.run([BIN, "serve", "--config", st.conf, "--listen",
                            "unix:" + st.sock, "--db", st.db],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=10)
        ok(r.returncode != 0, "served as root without `user`")
        ok("refusing to serve as root" in r.stderr, "message: %r" % r.stderr)
        ok(not os.path.exists(st.sock), "left a socket behind")
        for user, want in (("root", "is root"),
                           ("no-such-user-here", "no such user")):
            r = subprocess.run([BIN, "serve", "--config", st.conf, "--listen",
                                "unix:" + st.sock, "--db", st.db, "--user",
                                user], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=10)
            ok(r.returncode != 0 and want in r.stderr,
               "--user %s: exit %s, %r" % (user, r.returncode, r.stderr))


@test(timeout=30)
def service_drops_root_to_user():
    if os.geteuid() != 0:
        note("not root here: nothing to drop")
        return
    pw = pwd.getpwnam(RUN_AS)
    with Stack() as st:
        st.publish_ok("svc", "hello")
        for th in _status(st.backend.pid):
            eq(th["Uid"].split(), [str(pw.pw_uid)] * 4, "Uid (real,"
               " effective, saved, fs) of a thread")
            eq(th["Gid"].split(), [str(pw.pw_gid)] * 4, "Gid of a thread")
            eq(th["Groups"].split(), [str(pw.pw_gid)], "supplementary groups")
            eq(th["CapEff"], "0000000000000000", "effective capabilities")
        for path in (st.db, st.sock, st.ws_sock):
            eq(os.stat(path).st_uid, pw.pw_uid, "owner of %s" % path)
        eq(oct(os.stat(st.sock).st_mode & 0o777), "0o660", "socket mode")
        # It still works in every direction after the drop.
        c = st.sse("svc", query_id="0")
        try:
            eq(c.next_event(5).data, "hello", "replay after the drop")
            st.publish_ok("svc", "live")
            eq(c.next_event(5).data, "live", "live after the drop")
        finally:
            c.close()
        # The CLI, as root, still writes the log the server follows.
        st.cli_publish("svc", "from the cli")


@test(timeout=30)
def service_seccomp_filter_on_every_thread():
    with Stack() as st:
        st.publish_ok("f", "x")
        log = _log(st)
        threads = _status(st.backend.pid)
        if "system calls filtered" not in log:
            # Sanitizer builds leave it off (sandbox.h); say so plainly.
            ok(".obj-asan" in BIN, "no filter in a normal build: %s" %
               log[-400:])
            note("sanitizer build: no seccomp filter (by design)")
            return
        for th in threads:
            eq(th["Seccomp"], "2", "Seccomp mode of thread %s" % th["Pid"])
            eq(th.get("NoNewPrivs"), "1", "NoNewPrivs of thread %s" %
               th["Pid"])
        note("%d threads filtered" % len(threads))
        # Everything still works under the filter: stream, replay, WS
        # socket accept, publish, metrics, retention, clean stop.
        c = st.sse("f", query_id="0")
        try:
            eq(c.next_event(5).data, "x", "replay under the filter")
        finally:
            c.close()
        st.metrics()
        st.stop_backend()
        eq(st.backend.returncode, 0, "clean exit under the filter")


@test(timeout=30)
def service_seccomp_can_be_turned_off():
    with Stack(["--sandbox", "no"]) as st:
        st.publish_ok("f", "x")
        for th in _status(st.backend.pid):
            eq(th["Seccomp"], "0", "Seccomp with sandbox = no")
