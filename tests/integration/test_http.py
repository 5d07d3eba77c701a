"""test_http.py -- the HTTP server end to end (docs/operations.md "HTTP API",
docs/contracts.md "HTTP"): a real daemon, redis-server and smsc-sim; the
client is http.client from the standard library."""
import http.client
import json
import os
import socket
import time
import urllib.parse

import harness
from harness import wait_for

TOKEN = "t0k3n-for-tests"


class HttpEnv(harness.Env):
    def setUp(self):
        super().setUp()
        self.redis = self.start_redis()
        self.r = harness.Redis(self.redis.port)
        self.hport = harness.free_port()

    def tearDown(self):
        self.r.close()
        super().tearDown()

    def daemon(self, sim_port, http=None, extra="", wait_bound=True):
        if http is None:
            http = ("http:\n  listen: 127.0.0.1:%d\n  token: %s\n  max_body: 2048\n"
                    "  sendsms_users:\n    - username: kannel\n      password: pw1\n"
                    % (self.hport, TOKEN))
        cfg = self.write_config(sim_port, self.redis.port, extra=http + extra)
        d = self.start_daemon(cfg)
        if wait_bound:
            d.wait_log(r"event=bound ", timeout=10)
        return d

    def req(self, method, path, body=None, headers=None, token=None):
        """(status, body bytes) of one request on a new connection."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.hport, timeout=10)
        try:
            c.request(method, path, body=body, headers=h)
            resp = c.getresponse()
            return resp.status, resp.read()
        finally:
            c.close()

    def health(self):
        try:
            return self.req("GET", "/healthz")
        except OSError:
            return None, b""


class Health(HttpEnv):
    def test_ok_then_refused_binds_then_ok(self):
        sim = self.start_sim()
        port = sim.port
        d = self.daemon(port)
        st, body = wait_for(lambda: (lambda h: h if h[0] == 200 else None)(self.health()), 10,
                            "/healthz 200")
        self.assertEqual(body, b"ok\n")
        # The SMSC goes away and comes back refusing our credentials.
        sim.stop()
        bad = self.start_sim("--account", "someone:else", port=port, name="sim_refusing")
        st, body = wait_for(lambda: (lambda h: h if h[0] == 503 else None)(self.health()), 10,
                            "/healthz 503")
        self.assertIn(b"no bind bound", body)
        bad.stop()
        self.start_sim(port=port, name="sim_again")
        d.wait_log(r"event=bound ", count=2, timeout=10)
        wait_for(lambda: self.health()[0] == 200, 10, "/healthz 200 again")

    def test_redis_down_is_503_with_reason(self):
        sim = self.start_sim()
        self.daemon(sim.port)
        wait_for(lambda: self.health()[0] == 200, 10, "/healthz 200")
        self.redis.stop()
        st, body = wait_for(lambda: (lambda h: h if h[0] == 503 else None)(self.health()), 10,
                            "/healthz 503")
        self.assertIn(b"redis: ", body)
        self.assertNotIn(b"no bind bound", body)

    def test_off_when_listen_empty(self):
        sim = self.start_sim()
        d = self.daemon(sim.port, http="http:\n  listen: \"\"\n  token: %s\n" % TOKEN)
        self.assertEqual(d.count(r"event=http_listening"), 0)
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.hport), timeout=2).close()

    def test_sigterm_stops_cleanly(self):
        sim = self.start_sim()
        d = self.daemon(sim.port)
        wait_for(lambda: self.health()[0] == 200, 10, "/healthz 200")
        # An idle keep-alive connection must not hold the shutdown.
        idle = socket.create_connection(("127.0.0.1", self.hport), timeout=5)
        d.signal(harness.signal.SIGTERM)
        self.assertEqual(d.wait(10), 0)
        idle.close()
        d.wait_log(r"event=stopped")


if __name__ == "__main__":
    harness.main()
