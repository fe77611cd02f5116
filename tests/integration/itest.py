"""The test registry and small assertion helpers (no unittest)."""

import time

TESTS = {}          # name -> (function, timeout seconds)
ORDER = []
NOTES = []          # short notes of the running test, shown on its line


def test(fn=None, timeout=60):
    """Register a test: @test or @test(timeout=90)."""
    def reg(f):
        name = f.__module__ + "." + f.__name__
        if name in TESTS:
            raise RuntimeError("duplicate test " + name)
        TESTS[name] = (f, timeout)
        ORDER.append(name)
        return f
    if fn is not None:
        return reg(fn)
    return reg


def note(msg):
    NOTES.append(msg)
    print("note: " + msg, flush=True)


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: expected %r, got %r" % (what or "value",
                                                          want, got))


def ok(cond, what):
    if not cond:
        raise AssertionError(what)


def poll(fn, timeout=10.0, interval=0.05, what="condition"):
    """Call fn until it returns a true value; return it, or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError("%s not reached within %.1fs (last %r)" %
                                 (what, timeout, last))
        time.sleep(interval)
