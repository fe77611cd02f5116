"""Limits (README.md, "Limits"): each refuses with a status and a reason
and counts in ssereplay_refusals_total{reason=...}."""

import time

from common import expect_status
from itest import test, ok, eq
from stack import Stack, TOKEN, TOKEN2


def _refusals(st, reason):
    return st.metrics().get('ssereplay_refusals_total{reason="%s"}' % reason)


@test(timeout=40)
def limit_streams_per_address():
    with Stack(["--max-subscribers-per-address", "3"]) as st:
        eq(_refusals(st, "per_address"), 0, "before")
        open_ = [st.sse("a") for _ in range(3)]
        try:
            for c in open_:
                eq(c.next_item(5)[0], "retry", "stream opened")
            s, h, body = st.get("/events?topic=a")
            expect_status(s, 429, body, "a fourth stream from 127.0.0.1")
            ok(b"too many open streams from this address" in body,
               "reason: %r" % body)
            ok(h.get("retry-after", "").isdigit(), "Retry-After: %r" % h)
            eq(_refusals(st, "per_address"), 1, "counted")
            # One ends: the address may open one again.
            open_.pop().close()
            st.wait_metric("ssereplay_subscribers", lambda v: v == 2,
                           what="the closed stream is gone")
            c = st.sse("a")
            open_.append(c)
            eq(c.next_item(5)[0], "retry", "a stream after one closed")
        finally:
            for c in open_:
                c.close()
        st.wait_metric("ssereplay_subscribers", lambda v: v == 0,
                       what="all streams gone")


@test(timeout=30)
def limit_publish_rate_per_token():
    with Stack(["--publish-rate", "5"]) as st:
        codes = [st.publish("r", "x%d" % i)[0] for i in range(8)]
        eq(codes[:5], [201] * 5, "the first second's worth")
        ok(429 in codes[5:], "no 429 past the rate: %r" % codes)
        s, body = st.publish("r", "again")
        expect_status(s, 429, body, "still over the rate")
        ok("publish rate" in body, "reason: %r" % body)
        # The other token has its own bucket.
        eq(st.publish("r", "other", token=TOKEN2)[0], 201, "token 2")
        time.sleep(0.5)
        eq(st.publish("r", "later")[0], 201, "refilled after 0.5 s")
        ok(_refusals(st, "publish_rate") >= 2, "counted")


@test(timeout=30)
def limit_sizes_and_topics_counted():
    with Stack(["--max-event-size", "1k"]) as st:
        s, body = st.publish("t", "x" * 1025)
        expect_status(s, 413, body, "data over max_event_size")
        eq(_refusals(st, "event_size"), 1, "event_size")
        s, h, body = st.request("POST", "/publish", body=b"x" * 20000,
                                headers={"Authorization": "Bearer " + TOKEN,
                                         "Content-Type":
                                         "application/x-www-form-urlencoded"})
        expect_status(s, 413, body, "a body over the bound")
        eq(_refusals(st, "body_size"), 1, "body_size")
        s, _, body = st.get("/events?" + "&".join("topic=t%d" % i
                                                  for i in range(17)))
        expect_status(s, 400, body, "17 topics")
        eq(_refusals(st, "topics"), 1, "topics")
        s, _, body = st.get("/events?topic=a&x=" + "y" * 4100)
        expect_status(s, 400, body, "a query over 4 KiB")
        ok(b"too long" in body, "reason: %r" % body)
        eq(_refusals(st, "header_size"), 1, "header_size")


@test(timeout=30)
def limit_total_subscribers_counted():
    with Stack(["--max-subscribers", "1"]) as st:
        a = st.sse("m")
        try:
            eq(a.next_item(5)[0], "retry", "first")
            s, h, body = st.get("/events?topic=m")
            expect_status(s, 503, body, "second")
            eq(_refusals(st, "subscribers"), 1, "subscribers")
        finally:
            a.close()
