"""POST /publish: formats, auth, validation, encoding round trips,
durability, metrics, CORS."""

import json
import time

from common import (ID_RE, db_rows, expect_status, json_loads, seq_of, eq,
                    ok)
from itest import test, note, poll
from sseclient import Timeout
from stack import Stack, TOKEN, TOKEN2


@test
def publish_form_and_json_201():
    with Stack() as st:
        s, body = st.publish("p", "hello")
        expect_status(s, 201, body, "form publish")
        obj = json_loads(body, "201 body")
        ok(isinstance(obj, dict) and "id" in obj, "201 body %r" % body)
        i1 = obj["id"]
        ok(ID_RE.match(i1), "id %r does not look like <8 hex>-<seq>" % i1)
        s, body = st.publish("p", "world", event="greet", fmt="json")
        expect_status(s, 201, body, "json publish")
        i2 = json_loads(body, "201 body")["id"]
        ok(ID_RE.match(i2), "id %r" % i2)
        eq(i1.split("-")[0], i2.split("-")[0], "epoch of both ids")
        ok(seq_of(i2) > seq_of(i1), "ids not increasing: %s then %s" % (i1,
                                                                         i2))
        c = st.sse("p", query_id="0")
        try:
            evs = c.collect(2, 5)
            eq([(e.id, e.type, e.data) for e in evs],
               [(i1, "message", "hello"), (i2, "greet", "world")],
               "replayed events")
        finally:
            c.close()


@test
def publish_content_type_with_charset():
    with Stack() as st:
        import stack as stk
        s, body = stk.publish(st.port, None, json.dumps(
            {"topic": "p", "data": "x"}).encode(),
            fmt="application/json; charset=utf-8")
        expect_status(s, 201, body, "application/json; charset=utf-8")
        s, body = stk.publish(st.port, None, b"topic=p&data=y",
                              fmt="application/x-www-form-urlencoded; "
                                  "charset=UTF-8")
        expect_status(s, 201, body, "form with charset")


@test
def publish_auth():
    with Stack() as st:
        s, body = st.publish("p", "x", token=None)
        expect_status(s, 401, body, "no Authorization")
        s, body = st.publish("p", "x", token="wrong-token")
        expect_status(s, 403, body, "wrong token")
        s, body = st.publish("p", "x", token=TOKEN + "x")
        expect_status(s, 403, body, "token with extra char")
        s, body = st.publish("p", "x", token=TOKEN[:-1])
        expect_status(s, 403, body, "token prefix")
        s, body = st.publish("p", "x", token=TOKEN2)
        expect_status(s, 201, body, "second configured token")
        s, body = st.publish("p", "x", token=None,
                             headers={"Authorization": "Basic dTpw"})
        ok(s in (401, 403), "Basic auth: expected 401/403, got %s %r" %
           (s, body))
        # nothing unauthorised reached the log
        eq(len(db_rows(st.db)), 1, "events in the log")


@test
def publish_token_from_flag():
    with Stack(["--publish-token", "flag-token"],
               config="# no tokens here\n") as st:
        s, body = st.publish("p", "x", token="flag-token")
        expect_status(s, 201, body, "--publish-token flag-token")
        s, body = st.publish("p", "x", token=TOKEN)
        expect_status(s, 403, body, "token not configured")


@test
def publish_bad_fields_400():
    with Stack() as st:
        cases = [
            ("missing topic (form)", dict(topic=None, data="x")),
            ("missing data (form)", dict(topic="p", data=None)),
            ("missing topic (json)", dict(topic=None, data="x", fmt="json")),
            ("missing data (json)", dict(topic="p", data=None, fmt="json")),
            ("unknown field (form)", dict(topic="p", data="x",
                                          extra={"evnet": "y"})),
            ("unknown field (json)", dict(topic="p", data="x", fmt="json",
                                          extra={"id": "5"})),
            ("bad topic space", dict(topic="a b", data="x")),
            ("bad topic colon", dict(topic="a:b", data="x")),
            ("empty topic", dict(topic="", data="x")),
            ("topic 129", dict(topic="t" * 129, data="x")),
            ("json topic number", dict(topic=5, data="x", fmt="json")),
            ("repeated field", dict(topic="p", data="x",
                                    extra={"topic": "q"})),
        ]
        fails = []
        for what, kw in cases:
            s, body = st.publish(**kw)
            if s != 400:
                fails.append("%s: got %s %r" % (what, s, body[:100]))
        import stack as stk
        raw = [
            ("json not an object", b"[1,2]", "application/json"),
            ("json broken", b'{"topic":"p","data":', "application/json"),
            ("json duplicate key", b'{"topic":"p","topic":"q","data":"x"}',
             "application/json"),
            ("form bad escape", b"topic=p&data=%zz",
             "application/x-www-form-urlencoded"),
        ]
        for what, body_b, ct in raw:
            s, body = stk.publish(st.port, None, body_b, fmt=ct)
            if s != 400:
                fails.append("%s: got %s %r" % (what, s, body[:100]))
        # topic of exactly 128 is fine
        s, body = st.publish("t" * 128, "x")
        if s != 201:
            fails.append("128-byte topic: got %s %r" % (s, body[:100]))
        ok(not fails, "%d bad publishes not refused with 400:\n%s" % (
            len(fails), "\n".join(fails)))
        eq(len(db_rows(st.db)), 1, "events in the log (only the 128 one)")


@test
def publish_event_name_validation():
    with Stack() as st:
        bad = ["a b", "a\nb", "a\rb", "a\r\nb", "x\nid: 5", "a!b", "a;b",
               "é", "e" * 65, "a\tb", "a\0b"]
        fails = []
        for name in bad:
            for fmt in ("form", "json"):
                s, body = st.publish("p", "x", event=name, fmt=fmt)
                if s != 400:
                    fails.append("%r (%s): %s %r" % (name, fmt, s, body[:80]))
        good = ["a", "A.b_c-d:e", "e" * 64, "message", ""]
        for name in good:
            s, body = st.publish("p", "x", event=name)
            if s != 201:
                fails.append("valid name %r: %s %r" % (name, s, body[:80]))
        ok(not fails, "event name checks failed:\n" + "\n".join(fails))


@test
def publish_invalid_utf8_400():
    with Stack() as st:
        import stack as stk
        cases = [
            ("form %FF", b"topic=p&data=%FF"),
            ("form overlong %C0%AF", b"topic=p&data=%C0%AF"),
            ("form surrogate %ED%A0%80", b"topic=p&data=%ED%A0%80"),
            ("form truncated %E2%82", b"topic=p&data=%E2%82"),
            ("form > U+10FFFF %F4%90%80%80", b"topic=p&data=%F4%90%80%80"),
        ]
        fails = []
        for what, b in cases:
            s, body = stk.publish(st.port, None, b,
                                  fmt="application/x-www-form-urlencoded")
            if s != 400:
                fails.append("%s: %s %r" % (what, s, body[:80]))
        s, body = stk.publish(st.port, None,
                              b'{"topic":"p","data":"\xff\xfe"}',
                              fmt="application/json")
        if s != 400:
            fails.append("raw \\xff in JSON: %s %r" % (s, body[:80]))
        s, body = stk.publish(st.port, None,
                              b'{"topic":"p","data":"\\ud800"}',
                              fmt="application/json")
        if s != 400:
            fails.append("JSON lone surrogate \\ud800: %s %r" % (s,
                                                                 body[:80]))
        ok(not fails, "invalid UTF-8 accepted:\n" + "\n".join(fails))
        eq(len(db_rows(st.db)), 0, "events in the log")


@test
def publish_too_large_413():
    with Stack(["--max-event-size", "1k"]) as st:
        s, body = st.publish("p", "x" * 1024)
        expect_status(s, 201, body, "1024 bytes with --max-event-size 1k")
        s, body = st.publish("p", "x" * 1025)
        expect_status(s, 413, body, "1025 bytes with --max-event-size 1k")
        s, body = st.publish("p", "é" * 513, fmt="json")   # 1026 bytes
        expect_status(s, 413, body, "1026 UTF-8 bytes (513 chars) in JSON")
        s, body = st.publish("p", "x" * 200000)
        expect_status(s, 413, body, "200000 bytes")


@test
def publish_default_size_limit():
    with Stack() as st:
        s, body = st.publish("p", "x" * 65536)
        expect_status(s, 201, body, "64 KiB (default max_event_size 64k)")
        s, body = st.publish("p", "x" * 65537)
        expect_status(s, 413, body, "64 KiB + 1")


@test
def publish_unsupported_media_415():
    import stack as stk
    with Stack() as st:
        for ct in ("text/plain", "multipart/form-data; boundary=x",
                   "application/jsonx", "application/xml"):
            s, body = stk.publish(st.port, None, b"topic=p&data=x", fmt=ct)
            expect_status(s, 415, body, "Content-Type " + ct)
        s, h, body = st.request("POST", "/publish", body=b"topic=p&data=x",
                                headers={"Authorization": "Bearer " + TOKEN})
        expect_status(s, 415, body, "no Content-Type")


@test
def publish_other_methods_405():
    with Stack() as st:
        for m in ("GET", "PUT", "DELETE"):
            s, h, body = st.request(m, "/publish",
                                    headers={"Authorization": "Bearer " +
                                             TOKEN})
            expect_status(s, 405, body, m + " /publish")


@test
def publish_encoding_roundtrip():
    """Data with CR/LF/CRLF and injection attempts round-trips through the
    WHATWG parser: one event each, same id, CR and CRLF read back as LF."""
    cases = [
        "plain",
        "\r", "\n", "\r\n",
        "a\rb", "a\nb", "a\r\nb", "a\n\rb", "a\r\r\nb",
        "\nid: 5",
        "\n\nevent: x\ndata: y",
        "\r\rid: 9\r\r",
        "data: nested",
        ": not a comment",
        "id: 7",
        "retry: 1",
        " leading space",
        "  two leading spaces",
        "trailing\n",
        "\n\n\n",
        "",
        "tab\there",
        "unicode é € 𝄞 日本",
        "nul\0inside",
        "event: evil\r\ndata: x\r\n\r\nid: 999\r\n",
    ]
    with Stack() as st:
        c = st.sse("enc")
        try:
            eq(c.next_item(5)[0], "retry", "first item")
            fails = []
            for i, d in enumerate(cases):
                fmt = "json" if i % 2 else "form"
                eid = st.publish_ok("enc", d, fmt=fmt)
                want = d.replace("\r\n", "\n").replace("\r", "\n")
                try:
                    ev = c.next_event(5)
                except Timeout:
                    fails.append("%r: no event" % d)
                    break
                if (ev.id, ev.type, ev.data) != (eid, "message", want):
                    fails.append("%r (%s): got id=%r type=%r data=%r, want "
                                 "id=%r data=%r" % (d, fmt, ev.id, ev.type,
                                                    ev.data, eid, want))
            # no extra events sneaked in
            try:
                extra = c.next_event(0.5)
                fails.append("extra event %r" % extra)
            except Timeout:
                pass
            ok(not fails, "round trip failures:\n" + "\n".join(fails))
            # and replay gives the same
            r = st.sse("enc", query_id="0")
            try:
                evs = r.collect(len(cases), 10)
                got = [e.data for e in evs]
                want = [d.replace("\r\n", "\n").replace("\r", "\n")
                        for d in cases]
                eq(got, want, "replayed data")
                try:
                    extra = r.next_event(0.5)
                    raise AssertionError("extra replayed event %r" % extra)
                except Timeout:
                    pass
            finally:
                r.close()
        finally:
            c.close()


@test
def publish_wire_format():
    """id first, `event:` omitted for the default type, one data line per
    payload line, blank line after each event."""
    with Stack() as st:
        i1 = st.publish_ok("w", "a\r\nb", event="message")
        i2 = st.publish_ok("w", "c", event="custom")
        i3 = st.publish_ok("w", "")
        c = st.sse("w", query_id="0")
        try:
            evs = c.collect(3, 5)
            eq([(e.type, e.data) for e in evs],
               [("message", "a\nb"), ("custom", "c"), ("message", "")],
               "events")
            raw = bytes(c.raw_body).decode()
            ok("event: message" not in raw, "default type was written as "
               "'event: message': %r" % raw)
            for want in ("id: %s\ndata: a\ndata: b\n\n" % i1,
                         "id: %s\nevent: custom\ndata: c\n\n" % i2,
                         "id: %s\ndata: \n\n" % i3):
                ok(want in raw.replace("\r\n", "\n"),
                   "wire text %r not found in %r" % (want, raw))
        finally:
            c.close()


@test
def publish_empty_data_delivered():
    with Stack() as st:
        c = st.sse("e")
        try:
            eq(c.next_item(5)[0], "retry", "first item")
            i1 = st.publish_ok("e", "")
            i2 = st.publish_ok("e", "", fmt="json", event="blank")
            evs = c.collect(2, 5)
            eq([(e.id, e.type, e.data) for e in evs],
               [(i1, "message", ""), (i2, "blank", "")], "empty events")
        finally:
            c.close()


@test
def publish_json_nonstring_data():
    import stack as stk
    with Stack() as st:
        cases = [
            (b'{"topic":"j","data":{"x":[1,2,{"y":"z"}]}}',
             '{"x":[1,2,{"y":"z"}]}'),
            (b'{"topic":"j","data":42}', "42"),
            (b'{"topic":"j","data":true}', "true"),
            (b'{"topic":"j","data":[ 1 , "a\\nb" ]}', '[1,"a\\nb"]'),
            (b'{"topic":"j","data":"str"}', "str"),
        ]
        ids = []
        for body_b, _ in cases:
            s, body = stk.publish(st.port, None, body_b,
                                  fmt="application/json")
            expect_status(s, 201, body, body_b.decode())
            ids.append(json_loads(body, "201")["id"])
        c = st.sse("j", query_id="0")
        try:
            evs = c.collect(len(cases), 5)
            eq([e.data for e in evs], [w for _, w in cases],
               "stored compact JSON text")
        finally:
            c.close()


@test
def publish_ack_survives_kill9():
    with Stack() as st:
        ids = [st.publish_ok("d", "durable-%d" % i) for i in range(5)]
        st.kill_backend()          # SIGKILL right after the 201s
        st.start_backend()
        st.wait_healthy()
        c = st.sse("d", query_id="0")
        try:
            evs = c.collect(5, 5)
            eq([(e.id, e.data) for e in evs],
               [(i, "durable-%d" % n) for n, i in enumerate(ids)],
               "replay after kill -9")
        finally:
            c.close()
        nid = st.publish_ok("d", "after")
        ok(seq_of(nid) > seq_of(ids[-1]), "id reused after restart: %s "
           "after %s" % (nid, ids[-1]))
        eq(nid.split("-")[0], ids[0].split("-")[0], "epoch after restart")


@test
def metrics_format_and_names():
    with Stack() as st:
        s, h, body = st.get("/metrics")
        expect_status(s, 200, body, "GET /metrics")
        ct = h.get("content-type", "")
        ok(ct.replace(" ", "").startswith("text/plain;version=0.0.4"),
           "Content-Type %r" % ct)
        text = body.decode()
        names = ["ssereplay_subscribers", "ssereplay_streams_opened_total",
                 "ssereplay_events_published_total",
                 "ssereplay_events_delivered_total",
                 "ssereplay_events_replayed_total", "ssereplay_gaps_total",
                 "ssereplay_slow_subscribers_dropped_total",
                 "ssereplay_log_events", "ssereplay_log_oldest_seq",
                 "ssereplay_bytes_queued"]
        from stack import parse_metrics
        m = parse_metrics(text)
        missing = [n for n in names if n not in m]
        ok(not missing, "metrics missing: %s" % missing)
        for n in names:
            ok(("# TYPE %s " % n) in text, "no # TYPE line for %s" % n)
        s, h, body = st.get("/healthz")
        expect_status(s, 200, body, "GET /healthz")


@test
def metrics_counters_move():
    with Stack() as st:
        m0 = st.metrics()
        live = st.sse("m")
        try:
            eq(live.next_item(5)[0], "retry", "first item")
            m1 = st.wait_metric("ssereplay_subscribers",
                                lambda v: v == m0["ssereplay_subscribers"] + 1,
                                5, "+1")
            m1 = st.metrics()
            eq(m1["ssereplay_streams_opened_total"] -
               m0["ssereplay_streams_opened_total"], 1, "streams_opened +")
            ids = [st.publish_ok("m", "x%d" % i) for i in range(3)]
            live.collect(3, 5)
            m2 = st.metrics()
            eq(m2["ssereplay_events_published_total"] -
               m0["ssereplay_events_published_total"], 3, "published +")
            st.wait_metric("ssereplay_events_delivered_total",
                           lambda v: v - m0[
                               "ssereplay_events_delivered_total"] == 3, 3,
                           "delivered +3")
            # gauges may be refreshed on a timer: allow a few seconds
            st.wait_metric("ssereplay_log_events", lambda v: v == 3, 3,
                           "== 3")
            st.wait_metric("ssereplay_log_oldest_seq",
                           lambda v: v == seq_of(ids[0]), 3,
                           "== %d" % seq_of(ids[0]))
            rep = st.sse("m", query_id="0")
            rep.collect(3, 5)
            rep.close()
            st.wait_metric("ssereplay_events_replayed_total",
                           lambda v: v - m0[
                               "ssereplay_events_replayed_total"] == 3, 3,
                           "replayed +3")
            g = st.sse("m", last_event_id=ids[0].split("-")[0] + "-999999")
            ev = g.next_event(5)
            eq(ev.type, "gap", "event after a future id")
            g.close()
            m3 = st.metrics()
            eq(m3["ssereplay_gaps_total"] - m0["ssereplay_gaps_total"], 1,
               "gaps +")
            ok(m3["ssereplay_bytes_queued"] >= 0, "bytes_queued >= 0")
            eq(m3["ssereplay_slow_subscribers_dropped_total"],
               m0["ssereplay_slow_subscribers_dropped_total"],
               "slow drops (none expected)")
        finally:
            live.close()


# ---- CORS -----------------------------------------------------------------

@test
def cors_allowed_and_other_origin():
    with Stack(["--cors-origin", "http://a.example"]) as st:
        good = {"Origin": "http://a.example"}
        bad = {"Origin": "http://b.example"}
        c = st.sse("c", headers=good)
        try:
            expect_status(c.status, 200, b"", "/events with allowed Origin")
            eq(c.header("access-control-allow-origin"), "http://a.example",
               "ACAO on /events")
        finally:
            c.close()
        c = st.sse("c", headers=bad)
        try:
            expect_status(c.status, 200, b"", "/events with other Origin")
            eq(c.header("access-control-allow-origin"), None,
               "ACAO on /events for another origin")
        finally:
            c.close()
        import http.client
        for hdrs, want in ((good, "http://a.example"), (bad, None)):
            conn = http.client.HTTPConnection("127.0.0.1", st.port,
                                              timeout=10)
            conn.request("POST", "/publish", body="topic=c&data=x",
                         headers=dict(hdrs, **{
                             "Authorization": "Bearer " + TOKEN,
                             "Content-Type":
                             "application/x-www-form-urlencoded"}))
            r = conn.getresponse()
            r.read()
            expect_status(r.status, 201, b"", "publish with Origin")
            eq(r.getheader("Access-Control-Allow-Origin"), want,
               "ACAO on /publish for %s" % hdrs["Origin"])
            conn.close()


@test
def cors_preflight():
    with Stack(["--cors-origin", "http://a.example"]) as st:
        s, h, body = st.request("OPTIONS", "/publish", headers={
            "Origin": "http://a.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        expect_status(s, 204, body, "preflight OPTIONS /publish")
        eq(h.get("access-control-allow-origin"), "http://a.example", "ACAO")
        meth = h.get("access-control-allow-methods", "")
        ok("POST" in meth.upper(), "Allow-Methods %r lacks POST" % meth)
        ah = h.get("access-control-allow-headers", "").lower()
        for want in ("authorization", "content-type"):
            ok(want in ah, "Allow-Headers %r lacks %s" % (ah, want))
        s, h, body = st.request("OPTIONS", "/events?topic=c", headers={
            "Origin": "http://a.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id"})
        expect_status(s, 204, body, "preflight OPTIONS /events")
        eq(h.get("access-control-allow-origin"), "http://a.example", "ACAO")
        ah = h.get("access-control-allow-headers", "").lower()
        ok("last-event-id" in ah, "Allow-Headers %r lacks Last-Event-ID" %
           ah)
        s, h, body = st.request("OPTIONS", "/publish", headers={
            "Origin": "http://b.example",
            "Access-Control-Request-Method": "POST"})
        eq(h.get("access-control-allow-origin"), None,
           "ACAO on a preflight from another origin (status %s)" % s)


@test
def cors_none_configured():
    with Stack() as st:
        c = st.sse("c", headers={"Origin": "http://a.example"})
        try:
            expect_status(c.status, 200, b"", "/events")
            eq(c.header("access-control-allow-origin"), None,
               "ACAO without --cors-origin")
        finally:
            c.close()
