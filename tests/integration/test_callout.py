"""test_callout.py -- the `http` handler end to end (docs/handlers.md "http"):
a real daemon, redis-server and smsc-sim, and a backend written here
(http.server on a loopback port of this process) that answers, is slow,
fails and returns bad bodies, and records every request it gets."""
import json
import os
import re
import signal
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
import prom
from harness import wait_for
from test_metrics import scrape
from test_vas import VasEnv, unshow

M = "13900000001"


class Backend:
    """The backend: path -> behaviour. Requests are recorded (method, path,
    query, headers, body, client port) in arrival order."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()   # /slow and /hold wait for it
        self.flaky_ok = False              # /flaky: 500 until set
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.handle(self)

            do_POST = do_GET

        class Srv(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the daemon closed a call it gave up on: nothing to report

        self.srv = Srv(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def of(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    @staticmethod
    def fields(r):
        """The MO's fields as the backend read them (query, form or JSON)."""
        if r["ctype"].startswith("application/json"):
            return json.loads(r["body"].decode("utf-8"))
        f = dict(urllib.parse.parse_qsl(r["query"]))
        if r["ctype"] == "application/x-www-form-urlencoded":
            f.update(urllib.parse.parse_qsl(r["body"].decode("ascii")))
        return f

    def handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else b""
        rec = {"method": h.command, "path": u.path, "query": u.query, "body": body,
               "ctype": h.headers.get("Content-Type") or "", "port": h.client_address[1]}
        with self.lock:
            self.requests.append(rec)
        f = self.fields(rec)
        status, ctype, out = 200, "text/plain; charset=utf-8", b""
        p = u.path
        if p == "/echo":
            out = ("echo:%s|%s" % (f.get("text"), f.get("cap1"))).encode()
        elif p == "/json":
            ctype, out = "application/json", json.dumps({"reply": "J:" + f["text"]}).encode()
        elif p == "/empty":
            out = b""
        elif p == "/fail":
            status, out = 500, b"oops"
        elif p in ("/slow", "/hold"):
            self.release.wait(20)
            out = ("late:" + f["text"]).encode()
        elif p == "/flaky":
            if not self.flaky_ok:
                status, out = 503, b"down"
            else:
                out = ("ok:" + f["text"]).encode()
        elif p == "/bad":
            kind = f.get("cap1")
            if kind == "NOTUTF8":
                out = b"\xff\xfe\xfd"
            elif kind == "BADJSON":
                ctype, out = "application/json", b'{"reply": '
            elif kind == "NOFIELD":
                ctype, out = "application/json", b'{"text": "x"}'
            elif kind == "CTRL":
                out = b"a\x01b"
            elif kind == "TOOLONG":
                out = ("长" * 700).encode()     # UCS-2: more than 8 parts of 67
            elif kind == "LATIN1":
                ctype, out = "text/plain; charset=iso-8859-1", b"caf\xe9"
            elif kind == "HUGE":
                out = b"x" * 100000
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(out)))
            h.end_headers()
            h.wfile.write(out)
        except OSError:
            pass  # the daemon gave up on the call (HUGE, a timeout)


def routes(b, refused_port, hold_timeout_ms=5000, get_path="/echo"):
    """The test routes (one per behaviour), then help for the rest."""
    def route(name, how, opts):
        o = "".join("      %s: %s\n" % kv for kv in opts.items())
        return "  - name: %s\n    %s\n    handler: http\n    options:\n%s" % (name, how, o)
    never = "\n        failures: 0"
    return ("routes:\n" +
            route("cb_get", 'regex: "^GET ?(.*)$"',
                  {"url": '"%s"' % b.url(get_path), "breaker": never}) +
            route("cb_form", 'regex: "^FORM ?(.*)$"',
                  {"url": '"%s?x=1"' % b.url("/echo"), "method": "POST", "breaker": never}) +
            route("cb_json", 'regex: "^JSON ?(.*)$"',
                  {"url": '"%s"' % b.url("/json"), "method": "POST", "body": "json",
                   "breaker": never}) +
            route("cb_empty", 'match: ["EMPTY"]', {"url": '"%s"' % b.url("/empty")}) +
            route("cb_slow", 'match: ["SLOW"]',
                  {"url": '"%s"' % b.url("/slow"), "timeout_ms": 300, "breaker": never}) +
            route("cb_slowfb", 'match: ["SLOWFB"]',
                  {"url": '"%s"' % b.url("/slow"), "timeout_ms": 300, "breaker": never,
                   "fallback": '"FALLBACK"'}) +
            route("cb_fail", 'match: ["FAIL"]', {"url": '"%s"' % b.url("/fail"),
                                                 "breaker": never}) +
            route("cb_refused", 'match: ["REFUSED"]',
                  {"url": '"http://127.0.0.1:%d/x"' % refused_port, "breaker": never}) +
            route("cb_bad", 'regex: "^BAD (.*)$"', {"url": '"%s"' % b.url("/bad"),
                                                    "breaker": never}) +
            route("cb_hold", 'match: ["HOLD"]',
                  {"url": '"%s"' % b.url("/hold"), "timeout_ms": hold_timeout_ms,
                   "max_concurrent": 2, "fallback": '"BUSY"', "breaker": never}) +
            route("cb_flaky", 'match: ["FLAKY"]',
                  {"url": '"%s"' % b.url("/flaky"), "fallback": '"FB"',
                   "breaker": "\n        failures: 3\n        window_s: 60\n        open_s: 3"}) +
            route("cb_redo", 'match: ["REDO"]', {"url": '"%s"' % b.url("/flaky"),
                                                 "breaker": never}) +
            "  - handler: help\n")


class CalloutTest(harness.Env):
    def setUp(self):
        super().setUp()
        self.b = Backend()
        self.addCleanup(self.b.close)
        self.redis = self.start_redis()
        self.sim_port = harness.free_port()
        self.refused_port = harness.free_port()   # reserved, never listening
        self.nsim = 0

    def config(self, **kw):
        self.hport = harness.free_port()   # GET /metrics
        path = self.write_config(self.sim_port, self.redis.port,
                                 limits="  rate_limit_count: 1000000\n"
                                        "  shutdown_timeout_ms: 100\n",
                                 extra="http:\n  listen: 127.0.0.1:%d\n" % self.hport)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = text.replace("routes:\n  - handler: help\n",
                            routes(self.b, self.refused_port, **kw))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def start_callout(self, **kw):
        self.daemon = self.start_daemon(self.config(**kw))
        self.daemon.wait_log(r"event=waiting_for_redis", timeout=10)
        return self.daemon

    # A simulator running steps after wait_bound (test_vas.VasEnv's).
    script = VasEnv.start_script

    def finish(self, sim, timeout=40):
        rc, out = self.run_sim_script(sim, timeout)
        self.assertEqual(rc, 0, out)
        self.assertIn(" 0 failed", out)
        return [unshow(t) for t in
                re.findall(r'(?m)^ok  line \d+: expect \S+ \S+(?: \d+)? -> "(.*)"$', out)]

    def run_script(self, steps, timeout=40):
        return self.finish(self.script(steps), timeout)

    def failed_lines(self, route):
        return re.findall(r"event=callout_failed route=%s .*" % route, self.daemon.output())

    # ---- item 1: what the backend receives --------------------------------
    def test_get_form_and_json_fields_as_received(self):
        self.start_callout()
        texts = self.run_script(
            "send %s GET HELLO\nexpect %s ^echo:\n"
            "send --ucs2 %s FORM 你好 A&B=C\nexpect %s ^echo:\n"
            "send --ucs2 %s JSON 你好\"\nexpect %s ^J:\n"
            "send %s GET AGAIN\nexpect %s ^echo:\n" % ((M,) * 8))
        self.assertEqual(texts, ["echo:GET HELLO|HELLO", "echo:FORM 你好 A&B=C|你好 A&B=C",
                                 'J:JSON 你好"', "echo:GET AGAIN|AGAIN"])
        g = self.b.of("/echo")
        self.assertEqual([r["method"] for r in g], ["GET", "POST", "GET"])
        self.assertEqual(self.b.fields(g[0]), {"msisdn": M, "service": "10086",
                                               "text": "GET HELLO", "cap1": "HELLO"})
        self.assertEqual(g[0]["body"], b"")
        self.assertEqual(g[1]["ctype"], "application/x-www-form-urlencoded")
        self.assertEqual(g[1]["query"], "x=1")
        self.assertEqual(urllib.parse.parse_qs(g[1]["body"].decode("ascii")),
                         {"msisdn": [M], "service": ["10086"], "text": ["FORM 你好 A&B=C"],
                          "cap1": ["你好 A&B=C"]})
        j = self.b.of("/json")[0]
        self.assertEqual(j["method"], "POST")
        self.assertEqual(j["ctype"], "application/json; charset=utf-8")
        self.assertEqual(json.loads(j["body"]), {"msisdn": M, "service": "10086",
                                                 "text": 'JSON 你好"', "caps": ['你好"']})
        # Keep-alive: the two GETs, one after the other, used one connection.
        self.assertEqual(g[0]["port"], g[2]["port"])
        out = self.daemon.output()
        self.assertEqual(len(re.findall(r"event=mo msisdn=%s .*route=cb_\w+ .*outcome=reply" % M,
                                        out)), 4)

    # ---- item 2: replies, silence, failures --------------------------------
    def test_empty_body_is_no_reply(self):
        self.start_callout()
        self.run_script("send %s EMPTY\nexpect_status ESME_ROK\n"
                        "send %s GET MARK\nexpect %s ^echo:GET.MARK\nexpect_none %s 0\n"
                        % ((M,) * 4))
        self.assertRegex(self.daemon.output(), r"event=mo msisdn=%s .*route=cb_empty .*"
                                               r"outcome=silent" % M)

    def test_slow_backend_times_out_to_temporary_error_or_fallback(self):
        self.start_callout()
        texts = self.run_script("send %s SLOW\nexpect_status ESME_RX_T_APPN 5000\n"
                                "send %s SLOWFB\nexpect %s ^FALLBACK$ 5000\n"
                                "expect_status ESME_ROK\n" % ((M,) * 3))
        self.assertEqual(texts, ["FALLBACK"])
        (slow,) = self.failed_lines("cb_slow")
        self.assertRegex(slow, r"reason=timeout ms=\d+ action=temporary_error")
        ms = int(re.search(r"ms=(\d+)", slow).group(1))
        self.assertGreaterEqual(ms, 290)
        self.assertRegex(self.failed_lines("cb_slowfb")[0], r"reason=timeout .*action=fallback")

    def test_500_connection_refused_and_bad_bodies_are_backend_failures(self):
        self.start_callout()
        kinds = ["NOTUTF8", "BADJSON", "NOFIELD", "CTRL", "TOOLONG", "LATIN1", "HUGE"]
        steps = "send %s FAIL\nexpect_status ESME_RX_T_APPN 5000\n" % M
        steps += "send %s REFUSED\nexpect_status ESME_RX_T_APPN 5000\n" % M
        for k in kinds:
            steps += "send %s BAD %s\nexpect_status ESME_RX_T_APPN 5000\n" % (M, k)
        steps += "send %s GET MARK\nexpect %s ^echo:GET.MARK\nexpect_none %s 0\n" % ((M,) * 3)
        self.run_script(steps)
        self.assertRegex(self.failed_lines("cb_fail")[0], r"reason=status status=500 ")
        self.assertRegex(self.failed_lines("cb_refused")[0], r"reason=connect ")
        reasons = [re.search(r"reason=(\w+)", l).group(1) for l in self.failed_lines("cb_bad")]
        self.assertEqual(reasons, ["bad_utf8", "bad_json", "no_reply_field", "control_chars",
                                   "too_long", "bad_charset", "too_big"])
        # Never the whole body in the log.
        self.assertNotIn("长长长", self.daemon.output())

    # ---- max_concurrent ------------------------------------------------------
    def test_max_concurrent(self):
        self.start_callout()
        a, b, c = M, "13900000002", "13900000003"
        sim = self.script("send %s HOLD\nsend %s HOLD\nsend %s HOLD\nexpect %s ^BUSY$\n"
                          "expect %s ^late:HOLD$ 10000\nexpect %s ^late:HOLD$ 10000\n"
                          % (a, b, c, c, a, b))
        self.daemon.wait_log(r"event=callout_failed route=cb_hold .*reason=max_concurrent",
                             timeout=20)
        # The two calls started may still be on their way to the backend.
        wait_for(lambda: len(self.b.of("/hold")) == 2, 10, "the backend to get two calls")
        self.b.release.set()
        self.finish(sim)
        self.assertEqual(len(self.b.of("/hold")), 2)

    def test_metrics_count_each_result(self):
        self.start_callout()
        self.run_script("send %s GET A\nexpect %s ^echo:\nsend %s GET B\nexpect %s ^echo:\n"
                        "send %s EMPTY\nexpect_status ESME_ROK\n"
                        "send %s FAIL\nexpect_status ESME_RX_T_APPN 5000\n"
                        "send %s SLOW\nexpect_status ESME_RX_T_APPN 5000\n" % ((M,) * 7))
        smp = prom.samples(scrape(self.hport))
        want = {("cb_get", "reply"): 2, ("cb_empty", "silent"): 1, ("cb_fail", "failed"): 1,
                ("cb_slow", "timeout"): 1, ("cb_get", "failed"): 0}
        for (route, result), n in want.items():
            self.assertEqual(prom.value(smp, "shortcoded_callout_total", route=route,
                                        result=result), n, (route, result))
        # Calls that got a response: two GETs, the empty one, the 500.
        self.assertEqual(prom.value(smp, "shortcoded_callout_duration_seconds_count",
                                    route="cb_get"), 2)
        self.assertEqual(prom.value(smp, "shortcoded_callout_duration_seconds_count",
                                    route="cb_slow"), 0)

    # ---- the breaker -----------------------------------------------------------
    def test_breaker_opens_then_half_open_probe_closes_it(self):
        self.start_callout()
        texts = self.run_script("send %s FLAKY\nexpect %s ^FB$\n" % (M, M) * 4)
        self.assertEqual(texts, ["FB"] * 4)
        # Three failures opened it: the fourth was answered without a call.
        self.assertEqual(len(self.b.of("/flaky")), 3)
        out = self.daemon.output()
        self.assertEqual(len(re.findall(r"event=breaker_open route=cb_flaky", out)), 1)
        self.assertRegex(self.failed_lines("cb_flaky")[3], r"reason=breaker_open ms=0 ")
        opened = harness.log_time(re.search(r"(\S+) \S+ event=breaker_open", out).group(1))
        self.b.flaky_ok = True
        # open_s is 3: once it passed (by the log's clock), one call goes through.
        wait_for(lambda: time.time() >= opened + 3.2, 10, "open_s to pass")
        texts = self.run_script("send %s FLAKY\nexpect %s ^ok:FLAKY$\n" % (M, M) * 2)
        self.assertEqual(len(self.b.of("/flaky")), 5)
        self.daemon.wait_log(r"event=breaker_closed route=cb_flaky", timeout=5)

    # ---- redelivery --------------------------------------------------------------
    def test_temporary_error_then_redelivery_succeeds(self):
        self.start_callout()
        self.run_script("send %s REDO\nexpect_status ESME_RX_T_APPN 5000\n" % M)
        self.b.flaky_ok = True
        texts = self.run_script("send %s REDO\nexpect %s ^ok:REDO$\nexpect_status ESME_ROK\n"
                                % (M, M))
        self.assertEqual(texts, ["ok:REDO"])
        # The backend saw the MO twice, the same both times (docs/reliability.md).
        f = [self.b.fields(r) for r in self.b.of("/flaky")]
        self.assertEqual(len(f), 2)
        self.assertEqual(f[0], f[1])

    # ---- item 3: reload and shutdown ----------------------------------------------
    def test_reload_applies_a_changed_url(self):
        d = self.start_callout()
        self.assertEqual(self.run_script("send %s GET ONE\nexpect %s ^echo:\n" % (M, M)),
                         ["echo:GET ONE|ONE"])
        self.config(get_path="/json")
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=reloaded ", timeout=10)
        self.assertEqual(self.run_script("send %s GET TWO\nexpect %s ^J:\n" % (M, M)),
                         ["J:GET TWO"])

    def test_sigterm_waits_for_calls_in_flight(self):
        # limits.shutdown_timeout_ms is 100; the call may take its 8 s.
        d = self.start_callout(hold_timeout_ms=8000)
        sim = self.script("send %s HOLD\nexpect %s ^late:HOLD$ 15000\nexpect_status ESME_ROK\n"
                          % (M, M))
        wait_for(lambda: self.b.of("/hold"), 15, "the backend to get the call")
        d.signal(signal.SIGTERM)
        d.wait_log(r"event=shutdown inflight=1", timeout=5)
        # Well past shutdown_timeout_ms: a daemon that did not wait for the
        # call would have stopped by now, and the reply below never comes.
        time.sleep(0.5)
        self.b.release.set()
        self.finish(sim)
        self.assertEqual(d.wait(10), 0)
        self.assertNotIn("event=shutdown_incomplete", d.output())

    def test_sigterm_with_the_smsc_gone_ends_calls_in_flight(self):
        # The binds are lost during the shutdown: nothing can be answered
        # any more, so the daemon stops the call (no fallback reply) and exits.
        d = self.start_callout(hold_timeout_ms=8000)
        sim = self.script("send %s HOLD\nexpect %s ^late:HOLD$ 15000\n" % (M, M))
        wait_for(lambda: self.b.of("/hold"), 15, "the backend to get the call")
        d.signal(signal.SIGTERM)
        d.wait_log(r"event=shutdown inflight=1", timeout=5)
        sim.signal(signal.SIGKILL)
        self.assertEqual(d.wait(10), 0)
        self.assertRegex(d.output(), r"event=mo msisdn=%s .*route=cb_hold .*"
                                     r"outcome=temporary_error reason=\"callout stopped\"" % M)
        self.assertNotIn("event=callout_failed", d.output())


if __name__ == "__main__":
    harness.main()
