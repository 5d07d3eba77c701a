#!/usr/bin/env python3
"""test_longmo.py -- long MOs (issue 8 item 1): parts held in Redis, never
acknowledged ESME_ROK unless the message they belong to will run.

The shipped config against a redis-server that keeps its data over a
restart (appendonly, fsync always); smsc-sim scripts send each part on its
own (send --parts 2 --part K --ref R), as an SMSC that redelivers one part
does. Every test ends by checking Redis: the cancellation applied exactly
once (sub:{M}:vas, vas:events, audit:{M}) and the reassembly key."""
import signal

import harness
from harness import wait_for
from test_vas import M3, SUBS3, VasEnv

KEY = "reasm:{%s}:10086:%d:2"   # msisdn, reference; 2 parts
DONE = "^您已成功退订彩铃（5元/月），即时生效。$"


def part(k, ref, text="TDCL001", m=M3):
    """A script line: part k of text cut in 2 parts with reference ref."""
    return "send --parts 2 --part %d --ref %d %s %s\n" % (k, ref, m, text)


class LongMoTest(VasEnv):
    aof = True

    def replies_to(self, m):
        """MTs the daemon's log says it queued for m (one line per reply)."""
        return self.daemon.count(r"event=mo msisdn=%s .*outcome=reply" % m)

    def restart_redis(self, name):
        port = self.redis.port
        self.r.close()
        self.redis.stop()
        self.daemon.wait_log(r"event=redis_disconnected", timeout=10)
        return port

    def redis_back(self, port, name, connects):
        self.redis = self.start_redis_aof(port, name)
        self.r = harness.Redis(port)
        self.addCleanup(self.r.close)
        # The MO connection's (the push intake's two log conn=push_in/out).
        self.daemon.wait_log(r"event=redis_connected host=", timeout=15, count=connects)

    def tombstone(self, ref):
        """Wait for the reassembly of ref to be marked done (written without
        waiting for its reply) and check its lifetime."""
        key = KEY % (M3, ref)
        wait_for(lambda: self.r.hgetall(key).get("done") == "1", 10, "the tombstone of " + key)
        # The parts are gone; their digests stay, to tell a redelivery from
        # a new message that reuses the reference.
        self.assertEqual(set(self.r.hgetall(key)), {"done", "h1", "h2"})
        self.assertTrue(0 < self.r("PTTL", key) <= 60000, self.r("PTTL", key))
        self.assertEqual(self.r("ZSCORE", "reasm:{%s}" % M3, key), None)

    # ---- tests ---------------------------------------------------------
    def test_redis_down_when_the_last_part_comes(self):
        self.start_vas()
        self.run_script(part(1, 7) + "expect_status ESME_ROK\n" + self.none_to(M3))
        # Part 1 is durable in Redis before its ROK.
        self.assertEqual(self.r.hgetall(KEY % (M3, 7)), {"dc": "0", "1": "TDC"})
        self.assertTrue(0 < self.r("PTTL", KEY % (M3, 7)) <= 60000)
        port = self.restart_redis("redis")
        # The completing part while Redis is down: the temporary error.
        self.refused_without_reply(M3, part(2, 7))
        self.redis_back(port, "redis2", 2)
        self.assertEqual(self.r.hgetall("sub:{%s}:vas" % M3), SUBS3)
        # The SMSC redelivers part 2: the message completes again and runs.
        texts = self.run_script(part(2, 7) + "expect_status ESME_ROK\nexpect %s %s\n"
                                % (M3, DONE) + self.none_to(M3))
        self.assertEqual(len(texts), 2)  # DONE, then the marker's reply
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.assertEqual(self.replies_to(M3), 1)
        self.tombstone(7)
        # Redelivered again after success (its resp lost): ROK, nothing runs.
        self.run_script(part(2, 7) + "expect_status ESME_ROK\n" + part(1, 7) +
                        "expect_status ESME_ROK\n" + self.none_to(M3))
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.assertEqual(self.replies_to(M3), 1)
        self.assertEqual(self.r.hgetall(KEY % (M3, 7))["done"], "1")

    def test_daemon_killed_between_the_parts(self):
        d = self.start_vas()
        self.run_script(part(1, 9) + "expect_status ESME_ROK\n" + self.none_to(M3))
        d.signal(signal.SIGKILL)
        d.wait(5)
        # A new daemon (or another one sharing the SMSC account) finds part 1.
        self.start_vas()
        self.run_script(part(2, 9) + "expect_status ESME_ROK\nexpect %s %s\n" % (M3, DONE) +
                        self.none_to(M3))
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.assertEqual(self.replies_to(M3), 1)
        self.tombstone(9)

    def test_max_inflight_refuses_the_last_part(self):
        # max_inflight 1 and Redis frozen: "0000" from another subscriber
        # waits in flight, so the completing part, behind it on the same
        # link, is refused at once. The parts stay; the redelivered part
        # completes the message.
        # after_store: the "0000", answered once this script has gone, must
        # not keep the one slot while its reply waits for the next bind (with
        # after_reply it would, up to reply_hold_ms: docs/reliability.md).
        self.start_vas(limits={"limits.max_inflight": 1, "ack_policy": "after_store"})
        self.run_script(part(1, 14) + "expect_status ESME_ROK\n")
        self.redis.signal(signal.SIGSTOP)
        try:
            self.run_script("send 13800000012 0000\n" + part(2, 14) +
                            "expect_status ESME_RX_T_APPN 1000\n")
        finally:
            self.redis.signal(signal.SIGCONT)
        self.daemon.wait_log(r"event=mo_refused msisdn=%s " % M3)
        # Refused before its script: part 1 waits alone.
        self.assertEqual(self.r.hgetall(KEY % (M3, 14)), {"dc": "0", "1": "TDC"})
        # The refused part got no reply: the first MT to M3 is DONE, and the
        # only one.
        self.run_script(part(2, 14) + "expect_status ESME_ROK\nexpect %s %s\n" % (M3, DONE) +
                        self.none_to(M3))
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.tombstone(14)

    def test_parts_in_any_order_and_twice(self):
        self.start_vas()
        self.run_script(part(2, 11) + "expect_status ESME_ROK\n" + part(2, 11) +
                        "expect_status ESME_ROK\n" + self.none_to(M3) + part(1, 11) +
                        "expect_status ESME_ROK\nexpect %s %s\n" % (M3, DONE) + self.none_to(M3))
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.tombstone(11)

    def test_a_new_message_may_reuse_the_reference(self):
        # Handsets count references in 8 bits (or reuse one): a message with
        # the reference of one that just ran is new when its parts differ.
        self.start_vas()
        self.run_script(part(1, 15) + "expect_status ESME_ROK\n" + part(2, 15) +
                        "expect_status ESME_ROK\nexpect %s %s\n" % (M3, DONE))
        self.tombstone(15)
        self.run_script(part(1, 15, "TDYD002") + "expect_status ESME_ROK\n" +
                        part(2, 15, "TDYD002") + "expect_status ESME_ROK\n"
                        "expect %s ^您已成功退订阅读包（3元/月），即时生效。$\n" % M3 +
                        # ... and its redelivery is still recognised.
                        part(2, 15, "TDYD002") + "expect_status ESME_ROK\n" + self.none_to(M3))
        self.assert_cancelled(M3, ["CL001", "YD002"], SUBS3)

    def test_data_coding_differs_between_parts(self):
        self.start_vas()
        self.run_script(part(1, 12) + "expect_status ESME_ROK\n"
                        "send --ucs2 --parts 2 --part 2 --ref 12 %s TDCL001\n"
                        "expect_status ESME_RX_P_APPN\n" % M3 + self.none_to(M3))
        self.assertEqual(self.r.hgetall(KEY % (M3, 12)), {"dc": "0", "1": "TDC"})
        self.assert_cancelled(M3, [], SUBS3)

    def test_per_subscriber_limit(self):
        # reasm_max_per_source 8 (default): a 9th message started by one
        # subscriber waits (temporary error); another subscriber is free.
        self.start_vas()
        steps = "".join(part(1, ref) + "expect_status ESME_ROK\n" for ref in range(20, 28))
        steps += part(1, 28) + "expect_status ESME_RX_T_APPN\n"
        steps += part(1, 28, m="13800000012") + "expect_status ESME_ROK\n"
        # A part of a message already started is still taken.
        steps += part(2, 20) + "expect_status ESME_ROK\nexpect %s %s\n" % (M3, DONE)
        self.run_script(steps)
        self.assertEqual(self.r("EXISTS", KEY % (M3, 28)), 0)
        self.assert_cancelled(M3, ["CL001"], SUBS3)
        self.tombstone(20)
        # Done messages no longer count: the 9th may start now.
        self.run_script(part(1, 28) + "expect_status ESME_ROK\n")

    def test_after_reply_marks_done_once_the_reply_is_accepted(self):
        self.start_vas(limits={"ack_policy": "after_reply"})
        # An SMSC that throttles every submit_sm: the reply cannot go out,
        # so the completing part is not acknowledged and nothing is marked.
        sim = self.start_script(part(1, 13) + "expect_status ESME_ROK\n" + part(2, 13) +
                                "sleep 60000\n", "--throttle-share", "100")
        self.daemon.wait_log(r"event=throttled", timeout=15)
        self.assertEqual(self.r.hgetall(KEY % (M3, 13)), {"dc": "0", "1": "TDC", "2": "L001"})
        self.assertEqual(self.r("XLEN", "vas:events"), 1)  # the command ran
        sim.stop()
        # Another SMSC link takes the queued reply: now it is marked done.
        texts = self.run_script("expect %s %s\n" % (M3, DONE))
        self.assertEqual(len(texts), 1)
        self.tombstone(13)
        self.assert_cancelled(M3, ["CL001"], SUBS3)


if __name__ == "__main__":
    harness.main()
