#!/usr/bin/env python3
"""Integration test runner for ssereplay (standard library only).

    python3 tests/integration/run.py --results FILE [-k SUBSTRING]

Every test runs in its own process group with a deadline: a test that
raises or runs past its timeout fails, and everything it started is killed
by the group id of the process this runner started. One line per test,
then "integration: N passed, M failed"; "N M" is appended to FILE.

Environment: SSEREPLAY_BIN (default backend/.obj/ssereplay),
SSEREPLAY_KEEP=1 keeps the temp directories, SSEREPLAY_TEST_TIMEOUT scales
nothing but overrides every test's timeout when set.
"""

import argparse
import glob
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # leave no __pycache__ in the tree

import itest  # noqa: E402


class TestTimeout(Exception):
    pass


def load_tests():
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3])
    return itest.ORDER, itest.TESTS


def tail(path, n=30):
    try:
        with open(path, "rb") as f:
            return "\n".join(f.read().decode("utf-8", "replace")
                             .splitlines()[-n:])
    except OSError as e:
        return "(%s)" % e


def run_one(name, resfile):
    """In the child: run one test, write {"ok", "reason", "notes"}."""
    _, tests = load_tests()
    fn, timeout = tests[name]
    timeout = float(os.environ.get("SSEREPLAY_TEST_TIMEOUT") or timeout)

    def on_alarm(signum, frame):
        raise TestTimeout("test timed out after %.0fs" % (timeout - 3))

    def on_term(signum, frame):
        sys.exit(3)   # atexit cleans up the stacks

    # Anything a test runs with a relative path lands in a scratch dir
    # (removed by the parent), never in the repository.
    scratch = tempfile.mkdtemp(prefix="ssereplay-it-cwd-")
    if os.environ.get("SSEREPLAY_TEST_TMPLOG"):
        with open(os.environ["SSEREPLAY_TEST_TMPLOG"], "a") as f:
            f.write(scratch + "\n")
    os.chdir(scratch)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(max(1, int(timeout - 3)))
    res = {"ok": False, "reason": "", "notes": itest.NOTES}
    try:
        fn()
        res["ok"] = True
    except BaseException as e:  # noqa: B902 -- a test that raises fails
        signal.alarm(0)
        reason = ("%s: %s" % (type(e).__name__, e)).strip()
        first = reason.splitlines()[0] if reason else type(e).__name__
        res["reason"] = first[:400]
        print("---- traceback ----")
        traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    finally:
        signal.alarm(0)
        with open(resfile, "w") as f:
            json.dump(res, f)
    return 0 if res["ok"] else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", help="append 'passed failed' here")
    ap.add_argument("-k", action="append", default=[],
                    help="run tests whose name contains this (repeatable)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--resfile", help=argparse.SUPPRESS)
    ap.add_argument("-v", action="store_true",
                    help="show the output of passing tests too")
    a = ap.parse_args()

    if a.one:
        sys.exit(run_one(a.one, a.resfile))

    order, tests = load_tests()
    names = [n for n in order if not a.k or any(k in n for k in a.k)]
    import stack
    if not os.path.exists(stack.BIN):
        print("note: %s does not exist; every test will fail" % stack.BIN)
    passed = failed = 0
    work = tempfile.mkdtemp(prefix="ssereplay-run-")
    t_all = time.monotonic()
    try:
        for name in names:
            timeout = float(os.environ.get("SSEREPLAY_TEST_TIMEOUT") or
                            tests[name][1])
            resfile = os.path.join(work, "res.json")
            tmplog = os.path.join(work, "tmpdirs")
            for p in (resfile, tmplog):
                if os.path.exists(p):
                    os.unlink(p)
            env = dict(os.environ, SSEREPLAY_TEST_TMPLOG=tmplog,
                       PYTHONUNBUFFERED="1")
            t0 = time.monotonic()
            child = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "--one", name,
                 "--resfile", resfile],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
            hard = False
            try:
                out, _ = child.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                hard = True
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                out, _ = child.communicate()
            # Whatever the test left behind in its group goes too.
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            dt = time.monotonic() - t0
            res = None
            try:
                with open(resfile) as f:
                    res = json.load(f)
            except (OSError, ValueError):
                pass
            text = out.decode("utf-8", "replace")
            if res and res["ok"]:
                passed += 1
                extra = ""
                if res.get("notes"):
                    extra = " [" + "; ".join(res["notes"]) + "]"
                print("PASS %s (%.1fs)%s" % (name, dt, extra), flush=True)
                if a.v and text.strip():
                    print(indent(text))
            else:
                failed += 1
                if hard:
                    reason = "hard timeout after %.0fs (killed)" % timeout
                elif res:
                    reason = res["reason"]
                else:
                    reason = "test process exited %s without a result" % (
                        child.returncode)
                print("FAIL %s: %s (%.1fs)" % (name, reason, dt), flush=True)
                if text.strip():
                    print(indent(text))
                if hard and os.path.exists(tmplog):
                    with open(tmplog) as f:
                        for d in f.read().split():
                            print(indent("---- %s: backend.log ----\n%s\n"
                                         "---- lighttpd-error.log ----\n%s"
                                         % (d, tail(os.path.join(
                                             d, "backend.log")),
                                            tail(os.path.join(
                                                d, "lighttpd-error.log")))))
            # Temp dirs of a killed test are removed here.
            if os.path.exists(tmplog) and not os.environ.get(
                    "SSEREPLAY_KEEP"):
                with open(tmplog) as f:
                    for d in f.read().split():
                        shutil.rmtree(d, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("(integration suite took %.0fs)" % (time.monotonic() - t_all))
    print("integration: %d passed, %d failed" % (passed, failed))
    if a.results:
        with open(a.results, "a") as f:
            f.write("%d %d\n" % (passed, failed))
    sys.exit(0 if failed == 0 else 1)


def indent(text):
    return "\n".join("    " + l for l in text.rstrip().splitlines())


if __name__ == "__main__":
    main()
