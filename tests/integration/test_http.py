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
        self.assertNotIn(b"no bind bound", body)
        # Once the daemon tried again: why it cannot connect.
        st, body = wait_for(
            lambda: (lambda h: h if b"Connection refused" in h[1] else None)(self.health()), 10,
            "/healthz to say why")
        self.assertRegex(body, rb"^redis: not connected: Connection refused\n$")

    def test_redis_emptied_is_503(self):
        harness.put_service(self.r, "SVC1", "音乐包", 500)
        sim = self.start_sim()
        d = self.daemon(sim.port)
        wait_for(lambda: self.health()[0] == 200, 10, "/healthz 200")
        self.r("FLUSHALL")
        d.wait_log(r"event=redis_dataset_lost ", timeout=10)
        st, body = self.health()
        self.assertEqual((st, body), (503, b"redis: dataset lost (the catalogue vanished): "
                                           b"MOs get the temporary error\n"))
        harness.put_service(self.r, "SVC1", "音乐包", 500)
        d.wait_log(r"event=redis_dataset_back ", timeout=10)
        self.assertEqual(self.health()[0], 200)

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


class Api(HttpEnv):
    def setUp(self):
        super().setUp()
        self.sim = self.start_sim()
        harness.put_service(self.r, "SVC1", "音乐包", 500, provider="sp1")
        self.d = self.daemon(self.sim.port, extra="mt:\n  block_ms: 200\n")

    def post(self, path, body, token=TOKEN):
        st, b = self.req("POST", path, body, token=token)
        return st, (json.loads(b) if b.startswith(b"{") else b)

    def test_auth(self):
        push = {"to": "13800138000", "text": "hi"}
        for path in ("/v1/mt", "/v1/orders"):
            st, b = self.post(path, push, token=None)
            self.assertEqual((st, b["error"]), (401, "unauthorized"), path)
            st, b = self.post(path, push, token="wrong")
            self.assertEqual((st, b["error"]), (401, "unauthorized"), path)
            st, b = self.post(path, push, token=TOKEN + "x")
            self.assertEqual(st, 401)
        st, b = self.req("GET", "/v1/mt/abc")
        self.assertEqual(st, 401)
        st, b = self.req("GET", "/v1/mt/abc", headers={"Authorization": "Basic " + TOKEN})
        self.assertEqual(st, 401)
        self.assertEqual(self.r("XLEN", "mt:push"), 0)
        self.assertNotIn(TOKEN, self.d.output())

    def test_bad_input_names_the_field(self):
        cases = [
            (b"{not json", 400, "bad_json", None),
            (b"[1,2]", 400, "not_an_object", None),
            (b'{"to":"1","to":"2","text":"x"}', 400, "bad_json", None),
            ({"text": "hi"}, 400, "missing_field", "to"),
            ({"to": "13800138000"}, 400, "missing_field", "text"),
            ({"to": "13800138000", "text": "hi", "colour": "red"}, 400, "unknown_field",
             "colour"),
            ({"to": "1380013800a", "text": "hi"}, 400, "bad_to", "to"),
            ({"to": "13800138000", "text": ""}, 400, "empty_text", "text"),
            ({"to": "13800138000", "text": "hi", "priority": 12}, 400, "bad_priority",
             "priority"),
            ({"to": "13800138000", "text": "hi", "priority": [1]}, 400, "bad_type", "priority"),
            ({"to": "13800138000", "text": "hi", "kind": "Bill"}, 400, "bad_kind", "kind"),
            ({"to": "13800138000", "text": "hi", "from": "x"}, 400, "bad_from", "from"),
            ({"to": "13800138000", "text": "hi", "quiet": 2}, 400, "bad_quiet", "quiet"),
            ({"to": "13800138000", "text": "hi", "not_after": "soon"}, 400, "bad_not_after",
             "not_after"),
            ({"id": "has space", "to": "13800138000", "text": "hi"}, 400, "bad_id", "id"),
        ]
        for body, want, err, field in cases:
            st, b = self.post("/v1/mt", body)
            self.assertEqual((st, b.get("error"), b.get("field")), (want, err, field), body)
        order = {"id": "o1", "msisdn": "13800138000", "service": "SVC1", "channel": "sp"}
        for k in order:
            o = dict(order)
            del o[k]
            st, b = self.post("/v1/orders", o)
            self.assertEqual((st, b["error"], b["field"]), (400, "missing_field", k))
        st, b = self.post("/v1/orders", dict(order, extra="1"))
        self.assertEqual((st, b["error"], b["field"]), (400, "unknown_field", "extra"))
        st, b = self.post("/v1/orders", dict(order, msisdn="abc"))
        self.assertEqual((st, b["error"], b["field"]), (400, "bad_msisdn", "msisdn"))
        st, b = self.post("/v1/orders", dict(order, service="NOPE"))
        self.assertEqual((st, b["error"], b["field"]), (400, "unknown_service", "service"))
        st, b = self.post("/v1/orders", dict(order, channel="a b"))
        self.assertEqual((st, b["error"], b["field"]), (400, "bad_field", "channel"))
        self.assertEqual(self.r("XLEN", "mt:push"), 0)
        self.assertEqual(self.r("XLEN", "vas:orders"), 0)

    def test_too_large_is_413(self):
        st, b = self.post("/v1/mt", {"to": "13800138000", "text": "x" * 3000})
        self.assertEqual(st, 413)
        # A declared size over the limit is answered before any of the body.
        s = socket.create_connection(("127.0.0.1", self.hport), timeout=5)
        s.sendall(b"POST /v1/mt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                  b"Content-Length: 1000000000\r\n\r\n" % TOKEN.encode())
        self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 413 "))
        s.close()
        # Also without a Content-Length (chunked), the limit holds.
        c = http.client.HTTPConnection("127.0.0.1", self.hport, timeout=10)
        c.putrequest("POST", "/v1/mt")
        c.putheader("Authorization", "Bearer " + TOKEN)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        for _ in range(4):
            c.send(b"400\r\n" + b"x" * 1024 + b"\r\n")
        c.send(b"0\r\n\r\n")
        self.assertEqual(c.getresponse().status, 413)
        c.close()
        self.assertEqual(self.r("XLEN", "mt:push"), 0)

    def test_unknown_id_is_404(self):
        st, b = self.req("GET", "/v1/mt/never-pushed", token=TOKEN)
        self.assertEqual((st, json.loads(b)["error"]), (404, "unknown_id"))

    def test_push_is_sent_and_shows_sent(self):
        st, b = self.post("/v1/mt", {"id": "p1", "to": "13800138001", "text": "账单已出",
                                     "kind": "bill", "priority": 3})
        self.assertEqual((st, b["id"]), (202, "p1"))
        # The 202 came after XADD: the entry is there now.
        self.assertEqual(self.r("XLEN", "mt:push"), 1)
        self.sim.wait_log(r'event=mt .*to="?13800138001"? ', timeout=10)

        def sent():
            st, b = self.req("GET", "/v1/mt/p1", token=TOKEN)
            return json.loads(b) if st == 200 and json.loads(b).get("state") == "sent" else None
        rec = wait_for(sent, 10, "mt:{p1} sent")
        self.assertEqual((rec["id"], rec["to"], rec["kind"]), ("p1", "13800138001", "bill"))
        # Without an id one is made and returned.
        st, b = self.post("/v1/mt", {"to": "13800138002", "text": "hi", "quiet": False})
        self.assertEqual(st, 202)
        self.assertTrue(b["id"].startswith("http-"), b)
        self.sim.wait_log(r'event=mt .*to="?13800138002"? ', timeout=10)

    def test_order_is_queued(self):
        order = {"id": "o1", "msisdn": "13800138000", "service": "SVC1", "channel": "sp"}
        st, b = self.post("/v1/orders", order)
        self.assertEqual((st, b["id"]), (202, "o1"))
        # The 202 came after XADD: the entry is there, as the stream's reader
        # (core/orders.c, tested in test_orders.py) takes it.
        (entry, fields), = self.r.stream("vas:orders")
        self.assertEqual(fields, order)
        self.assertEqual(b["entry"], entry)

    def test_redis_down_is_503(self):
        self.redis.stop()
        self.d.wait_log(r"event=redis_(disconnected|connect_failed|lost)", timeout=10)
        for path, body in (("/v1/mt", {"to": "13800138000", "text": "hi"}),
                           ("/v1/orders", {"id": "o1", "msisdn": "13800138000",
                                           "service": "SVC1", "channel": "sp"})):
            st, b = self.post(path, body)
            self.assertEqual((st, b["error"]), (503, "redis_unavailable"), path)
        st, b = self.req("GET", "/v1/mt/x", token=TOKEN)
        self.assertEqual(st, 503)

    def test_client_gone_while_redis_answers(self):
        # Redis holds writes: the daemon's XADD waits; the client leaves.
        self.assertEqual(self.r("CLIENT", "PAUSE", "5000", "WRITE"), "OK")
        body = json.dumps({"id": "gone1", "to": "13800138000", "text": "hi"}).encode()
        s = socket.create_connection(("127.0.0.1", self.hport), timeout=5)
        s.sendall(b"POST /v1/mt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (TOKEN.encode(), len(body), body))
        wait_for(lambda: "cmd=xadd" in self.r("CLIENT", "LIST"), 5, "the XADD to wait")
        s.close()
        self.r("CLIENT", "UNPAUSE")
        wait_for(lambda: self.r("XLEN", "mt:push") == 1, 5, "the XADD done")
        self.d.wait_log(r"event=http_request method=POST path=/v1/mt status=202", timeout=5)
        self.assertEqual(self.health()[0], 200)


class ApiWaitsForReplicas(HttpEnv):
    """With redis.wait_replicas: 1 a 202 means a replica has the entry: the
    XADD is followed by WAIT (store/wait.c, sc_store_write)."""

    def test_202_only_once_a_replica_has_the_entry(self):
        sim = self.start_sim()
        cfg = self.write_config(sim.port, self.redis.port, extra=(
            "http:\n  listen: 127.0.0.1:%d\n  token: %s\n" % (self.hport, TOKEN)))
        with open(cfg, encoding="utf-8") as f:
            text = f.read()
        url = "redis:\n  url: redis://127.0.0.1:%d\n" % self.redis.port
        self.assertIn(url, text)
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(text.replace(url, url + "  wait_replicas: 1\n"))
        self.start_daemon(cfg).wait_log(r"event=bound ", timeout=10)
        push = {"id": "w1", "to": "13800138001", "text": "hi"}
        # No replica: WAIT answers 0, the caller hears 503 (the entry may be
        # on the master; a retry with the same id is sent once).
        st, b = self.req("POST", "/v1/mt", push, token=TOKEN)
        self.assertEqual((st, json.loads(b)["error"]), (503, "redis_unavailable"))
        self.r("CONFIG", "SET", "repl-diskless-sync-delay", "0")  # not 5 s
        d = os.path.join(self.dir, "replica")
        os.makedirs(d)
        # Without AOF: a replica that SIGTERM reaches while it rewrites its
        # AOF after the sync took 10 s to stop (killed by the harness).
        rep = self.start_redis(name="replica", durable=False, args=[
            "--dir", d, "--replicaof", "127.0.0.1", str(self.redis.port)])
        rr = harness.Redis(rep.port)
        self.addCleanup(rr.close)
        wait_for(lambda: "master_link_status:up" in rr("INFO", "replication"), 10,
                 "the replica in sync")
        # The daemon probes until WAIT counts the replica, then answers 202;
        # the entry is on the replica when the 202 comes, without waiting.
        def posted():
            st, b = self.req("POST", "/v1/mt", dict(push, id="w2"), token=TOKEN)
            return st == 202
        wait_for(posted, 10, "a 202 with the replica up")
        self.assertTrue(any(f.get("id") == "w2" for _, f in rr.stream("mt:push")))


class ClientGoneMidBody(HttpEnv):
    def test_half_a_body_then_gone(self):
        """libmicrohttpd 0.9.75 with epoll takes a short read as "drained"
        (connection.c recv_param_adapter): a FIN that came with the last
        bytes is seen only at the connection timeout (docs/operations.md).
        So: nothing is kept, nothing breaks, and it ends by timeout_s."""
        sim = self.start_sim()
        d = self.daemon(sim.port, http="http:\n  listen: 127.0.0.1:%d\n  token: %s\n"
                        "  timeout_s: 1\n" % (self.hport, TOKEN))
        for i in range(3):
            s = socket.create_connection(("127.0.0.1", self.hport), timeout=5)
            s.sendall(b"POST /v1/mt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                      b"Content-Length: 500\r\n\r\n{\"to\":" % TOKEN.encode())
            s.close()
            d.wait_log(r"event=http_request method=POST path=/v1/mt status=0 .*"
                       r"end=(client_abort|timeout|read_error)", timeout=5, count=i + 1)
        self.assertEqual(self.health()[0], 200)
        self.assertEqual(self.r("XLEN", "mt:push"), 0)


class SendSms(HttpEnv):
    """Kannel's GET /cgi-bin/sendsms: its parameters, answers and texts."""
    def setUp(self):
        super().setUp()
        self.sim = self.start_sim()
        self.d = self.daemon(self.sim.port, extra="mt:\n  block_ms: 200\n")

    def sendsms(self, **q):
        args = dict(username="kannel", password="pw1")
        args.update(q)
        args = {k: v for k, v in args.items() if v is not None}
        st, b = self.req("GET", "/cgi-bin/sendsms?" + urllib.parse.urlencode(args))
        return st, b.decode("utf-8", "replace")

    def test_accepted_and_sent(self):
        st, b = self.sendsms(to="13800138005", text="您的验证码是1234", **{"from": "10086"})
        self.assertEqual((st, b), (202, "0: Accepted for delivery"))
        (entry, fields), = self.r.stream("mt:push")
        self.assertEqual((fields["to"], fields["text"], fields["from"]),
                         ("13800138005", "您的验证码是1234", "10086"))
        self.sim.wait_log(r'event=mt .*to="?13800138005"? ', timeout=10)
        # UCS-2 with Kannel's default charset for it (UTF-16BE), and GBK.
        st, b = self.sendsms(to="13800138006", text="话费".encode("utf-16-be"), coding="2")
        self.assertEqual(st, 202, b)
        st, b = self.sendsms(to="13800138007", text="话费".encode("gbk"), charset="GBK")
        self.assertEqual(st, 202, b)
        texts = [f["text"] for _, f in self.r.stream("mt:push")]
        self.assertEqual(texts[1:], ["话费", "话费"])

    def test_errors(self):
        cases = [
            (dict(password="wrong", to="13800138000", text="x"), 403,
             "Authorization failed for sendsms"),
            (dict(password=None, to="13800138000", text="x"), 403,
             "Authorization failed for sendsms"),
            (dict(username="nobody", to="13800138000", text="x"), 403,
             "Authorization failed for sendsms"),
            (dict(text="x"), 400, "Missing receiver number, rejected"),
            (dict(to="", text="x"), 400, "Empty receiver number not allowed, rejected"),
            (dict(to="abc", text="x"), 400, "Receiver number misformed, rejected"),
            (dict(to="13800138000", text="x", coding="1"), 400,
             "Coding field misformed, rejected"),
            (dict(to="13800138000", text="x", coding="9"), 400,
             "Coding field misformed, rejected"),
            (dict(to="13800138000", text=b"\xff\xfe", charset="UTF-8"), 400,
             "Charset or body misformed, rejected"),
            (dict(to="13800138000", text="x", charset="NO-SUCH-CHARSET"), 400,
             "Charset or body misformed, rejected"),
            (dict(to="13800138000"), 400, "Charset or body misformed, rejected"),
            (dict(to="13800138000", text="x", **{"from": "abc"}), 400,
             "Sender field misformed, rejected"),
        ]
        for q, want, text in cases:
            self.assertEqual(self.sendsms(**q), (want, text), q)
        self.assertEqual(self.r("XLEN", "mt:push"), 0)
        self.assertNotIn("pw1", self.d.output())
        self.redis.stop()
        self.d.wait_log(r"event=redis_(disconnected|connect_failed|lost)", timeout=10)
        self.assertEqual(self.sendsms(to="13800138000", text="x"),
                         (503, "Temporal failure, try again later."))


class Lifecycle(HttpEnv):
    def test_reload_keeps_listener_and_applies_token(self):
        sim = self.start_sim()
        d = self.daemon(sim.port)
        c = http.client.HTTPConnection("127.0.0.1", self.hport, timeout=10)
        c.request("GET", "/healthz")  # a keep-alive connection across the reload
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        self.write_config(sim.port, self.redis.port,
                          extra="http:\n  listen: 127.0.0.1:%d\n  token: new-token\n"
                          % self.hport)
        d.signal(harness.signal.SIGHUP)
        d.wait_log(r"event=reloaded ")
        self.assertEqual(d.count(r"event=reload_applied key=http.token"), 1)
        self.assertNotIn("new-token", d.output())
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 200)
        c.close()
        st, _ = self.req("GET", "/v1/mt/x", token=TOKEN)
        self.assertEqual(st, 401)
        st, _ = self.req("GET", "/v1/mt/x", token="new-token")
        self.assertEqual(st, 404)
        self.assertEqual(d.count(r"event=http_listening"), 1)

    def test_connection_limit(self):
        sim = self.start_sim()
        self.daemon(sim.port, http="http:\n  listen: 127.0.0.1:%d\n  max_connections: 2\n"
                    % self.hport)
        held = [socket.create_connection(("127.0.0.1", self.hport), timeout=5)
                for _ in range(2)]
        for s in held:  # both accepted and served
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b" 200 ", s.recv(4096))
        # A third waits in the listen backlog, unanswered ...
        extra = socket.create_connection(("127.0.0.1", self.hport), timeout=5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        # ... while the daemon goes on serving the two (the marker that it
        # ran after the third came) ...
        held[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b" 200 ", held[0].recv(4096))
        extra.setblocking(False)
        with self.assertRaises(BlockingIOError):
            extra.recv(4096)
        extra.settimeout(5)
        # ... and is served once one of them leaves.
        held[0].close()
        self.assertIn(b" 200 ", extra.recv(4096))
        extra.close()
        held[1].close()


class ApiDisabled(HttpEnv):
    def test_empty_token_is_401_and_warned(self):
        sim = self.start_sim()
        d = self.daemon(sim.port, http="http:\n  listen: 127.0.0.1:%d\n" % self.hport)
        d.wait_log(r"event=http_api_disabled")
        for tok in (None, "", "x"):
            st, b = self.req("POST", "/v1/mt", {"to": "13800138000", "text": "hi"}, token=tok)
            self.assertEqual((st, json.loads(b)["error"]), (401, "api_disabled"))
        self.assertEqual(self.health()[0], 200)


if __name__ == "__main__":
    harness.main()
