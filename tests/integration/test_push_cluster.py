"""test_push_cluster.py -- the push path on a Redis Cluster (3 masters + 3
replicas, one for the whole class, emptied per test; docs/scaling.md "The
push path on a cluster"): the push, receipt and quiet-hours cases that
matter, with the same assertions as on one server (test_push.py,
test_receipts.py, test_quiet.py), and pushes and receipts shared by two
daemons."""
import re
import signal
import time
import types

import cluster_harness
import harness
from harness import wait_for
import test_push
import test_quiet
import test_receipts
from test_push import DEST


class PushClusterTest(test_quiet.QuietTest, test_receipts.ReceiptTest, test_push.PushTest):
    # The one-server cases that also run here, unchanged.
    CASES = {
        "test_one_push_sent_with_its_record",
        "test_same_id_twice_is_sent_once",
        "test_one_read_of_many_taken_and_recorded_in_batches",
        "test_bad_entries_dropped_acked_and_nothing_waits",
        "test_expired_is_not_sent",
        "test_push_sent_then_delivered",
        "test_undelivered_receipt_fails_with_err",
        "test_receipt_at_another_daemon_is_matched",
        "test_unknown_message_id_logged_counted_acknowledged",
        "test_three_parts_delivered_once",
        "test_receipt_before_its_sent_record_is_matched",
        "test_held_in_quiet_hours_sent_when_they_end",
        "test_duplicate_of_held_id_is_not_sent",
        "test_two_daemons_push_and_match_each_others_receipts",
        "test_records_a_dead_daemon_left_half_done_are_finished",
        "test_kill9_under_load_then_another_daemon_finishes",
        "test_pushes_and_receipts_with_wait_replicas",
        "test_hold_that_cannot_record_leaves_its_entry_pending",
        "test_half_done_record_claimed_in_quiet_hours_is_finished",
        "test_records_without_a_known_state_are_not_retried_forever",
        "test_status_retried_after_another_daemon_finished_adds_nothing",
    }
    wait_replicas = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def setUp(self):
        if self._testMethodName not in self.CASES:
            self.skipTest("one server only (test_push.py, test_receipts.py, test_quiet.py)")
        harness.Env.setUp(self)
        self.cluster.flush()
        self.r = cluster_harness.ClusterRedis(self.cluster)
        # What the cases read as self.redis.port: mt:push's master (xadd_many).
        slot = cluster_harness.key_slot("mt:push")
        port = next(p for lo, hi, p in self.cluster.slot_map() if lo <= slot <= hi)
        self.redis = types.SimpleNamespace(port=port)

    def write_config(self, smsc_port, redis_port=None, **kw):
        path = super().write_config(smsc_port, 1, **kw)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("redis://127.0.0.1:1\n", self.cluster.url() + "\n" +
                                 "  wait_replicas: %d\n" % self.wait_replicas))
        return path

    def pel(self):
        """On a cluster a record's last step is the XACK, a few round trips
        after its MT reached the SMSC and its mt:status entry was written
        (core/push_cluster.c): the pending count, once it is 0 or after
        10 s (the cases assert it is 0)."""
        deadline = time.monotonic() + 10
        while True:
            n = super().pel()
            if n == 0 or time.monotonic() >= deadline:
                return n
            time.sleep(0.02)

    def wait_status(self, n, timeout=30):
        super().wait_status(n, timeout)
        # mt:{ID} is final once its record's steps are done (the XACK last).
        self.assertEqual(self.pel(), 0)

    def test_two_daemons_push_and_match_each_others_receipts(self):
        """Daemons A and B share mt:push on the cluster, each with its own
        bind to the account; every receipt goes to the other bind
        (--dlr-bind other), so the one that did not send it matches it.
        Every id is recorded sent once and delivered once."""
        # A slow SMSC and room for 4 pushes a daemon: neither can take all.
        sim = self.start_sim("--dlr", "--dlr-bind", "other", "--seed", "7",
                             "--dlr-delay-ms", "0-50", "--resp-delay-ms", "20")
        ds = []
        for name in ("a", "b"):
            cfg = self.write_config(sim.port, binds=test_receipts.two_binds(sim.port).split("  - name: smsc2")[0]
                                    .replace("smsc1", "smsc_" + name),
                                    extra="mt:\n  block_ms: 200\n  max_queued: 4\n  consumer: %s\n" % name)
            d = self.start_daemon(cfg, name=name)
            d.wait_log(r"event=bound ", timeout=10)
            ds.append(d)
        n = 40
        for i in range(n):
            self.push(id="t%d" % i, to=DEST, text="共享%d" % i, kind="reminder")
        self.wait_status(2 * n)
        self.sim_until(sim, lambda st: st["dlr_status"].get("ESME_ROK") == n, "%d receipts" % n)
        for i in range(n):
            self.assertEqual(self.states("t%d" % i), [("sent", ""), ("delivered", "")])
        # Every receipt came to the daemon that did not send its MT, and
        # was matched there (or, when it came before the sent record, parked
        # there and applied by the sender's record): each id ends delivered.
        sent_on = {m: d.name for d in ds
                   for m in re.findall(r"event=submit_ok bind=\S+ .*message_id=(\S+)", d.output())}
        got_on = {m: d.name for d in ds
                  for m in re.findall(r"event=receipt bind=\S+ .* id=(\S+)", d.output())}
        self.assertEqual(len(got_on), n)
        self.assertEqual(sorted(sent_on), sorted(got_on))
        self.assertEqual(set(sent_on.values()), {"a", "b"})
        for m, name in got_on.items():
            self.assertNotEqual(sent_on[m], name, m)
        self.assertEqual(self.pel(), 0)

    def test_records_a_dead_daemon_left_half_done_are_finished(self):
        """What a daemon killed between the record's steps leaves
        (core/push_cluster.c): its entries pending in mt:push under its
        consumer, mt:{ID} final with pend set. r1 died before its mt:status
        entry (pend 1), and its part's receipt was parked meanwhile; r2 died
        after it (pend 2), before its map. The daemon that claims them
        sends neither again, writes r1's `sent` then the parked
        `delivered`, does not repeat r2's `sent`, maps both, acknowledges."""
        mp = self.redis.port
        cluster_harness.ask(mp, "XGROUP", "CREATE", "mt:push", "shortcoded", "$", "MKSTREAM")
        e1 = cluster_harness.ask(mp, "XADD", "mt:push", "*", "id", "r1", "to", DEST,
                                 "text", "one", "kind", "reminder")
        e2 = cluster_harness.ask(mp, "XADD", "mt:push", "*", "id", "r2", "to", DEST,
                                 "text", "two", "kind", "reminder")
        cluster_harness.ask(mp, "XREADGROUP", "GROUP", "shortcoded", "dead", "COUNT", "2",
                            "STREAMS", "mt:push", ">")
        for ident, entry, pend in (("r1", e1, "1"), ("r2", e2, "2")):
            self.r("HSET", "mt:{%s}" % ident, "state", "sent", "to", DEST, "kind", "reminder",
                   "priority", "5", "parts", "1", "err", "", "at", "1796000000000",
                   "entry", entry, "pend", pend, "maps", "0:MID-" + ident)
        self.r("XADD", "mt:status", "*", "id", "r2", "to", DEST, "state", "sent", "parts", "1",
               "err", "", "at", "1796000000000")
        self.r("SET", "mt:msg:{MID-r1}", "? DELIVRD DELIVRD:000", "EX", 600)
        self.r("SET", "mt:receipts:unknown", 1)
        sim = self.start_sim()
        d = self.daemon(sim)
        d.wait_log(r"event=push_record_resumed entry=%s id=r1 " % e1)
        d.wait_log(r"event=push_record_resumed entry=%s id=r2 " % e2)
        wait_for(lambda: self.pel() == 0, 15, "both entries acknowledged")
        self.push(id="marker", to=DEST, text="marker")
        wait_for(lambda: self.mts(sim), 15, "the marker sent")
        self.assertEqual([m[3] for m in self.mts(sim)], ["marker"])
        self.assertEqual(self.states("r1"), [("sent", ""), ("delivered", "")])
        self.assertEqual(self.states("r2"), [("sent", "")])
        self.assertEqual(self.status_of("r1")[0]["at"], "1796000000000")
        self.assertTrue(self.r("GET", "mt:msg:{MID-r1}").startswith("r1 0 1"))
        self.assertEqual(self.r("GET", "mt:msg:{MID-r2}"), "r2 0 1")
        for ident in ("r1", "r2"):
            rec = self.r.hgetall("mt:{%s}" % ident)
            self.assertNotIn("pend", rec)
            self.assertNotIn("maps", rec)
        self.assertEqual(self.r.hgetall("mt:{r1}")["state"], "delivered")
        self.assertEqual(self.r("GET", "mt:receipts:unknown"), "0")

    def claimed_by_a_dead_daemon(self, ident, text, **fields):
        """An mt:push entry read by consumer `dead` (pending, claimed after
        claim_idle_ms by the daemon): its id."""
        mp = self.redis.port
        if not self.r("EXISTS", "mt:push"):
            cluster_harness.ask(mp, "XGROUP", "CREATE", "mt:push", "shortcoded", "$",
                                "MKSTREAM")
        args = [x for kv in fields.items() for x in kv]
        e = cluster_harness.ask(mp, "XADD", "mt:push", "*", "id", ident, "to", DEST,
                                "text", text, "kind", "reminder", *args)
        cluster_harness.ask(mp, "XREADGROUP", "GROUP", "shortcoded", "dead", "COUNT", "1",
                            "STREAMS", "mt:push", ">")
        return e

    def texts_of(self, sim):
        return [m[3] for m in self.mts(sim)]

    def master_of(self, key):
        return self.cluster._owner_of(cluster_harness.key_slot(key))

    def test_hold_that_cannot_record_leaves_its_entry_pending(self):
        """A dead daemon took q1 (mt:{q1} `queued` by its entry) before the
        quiet hours; claimed inside them, it is held, but mt:{q1}'s master
        refuses writes (OOM) when the hold records the copy. The entry must
        stay pending (not acknowledged with mt:{q1} still naming it: its
        copy would be a `dup` when read, never sent): claimed again once
        the master takes writes, held, and sent once when the quiet hours
        end."""
        avoid = {self.redis.port, self.master_of("mt:held:5")}
        ident = next(i for i in ("q%d" % n for n in range(100))
                     if self.master_of("mt:{%s}" % i) not in avoid)
        hm = self.master_of("mt:{%s}" % ident)
        e = self.claimed_by_a_dead_daemon(ident, "quiet claimed", quiet="1")
        self.r("HSET", "mt:{%s}" % ident, "state", "queued", "to", DEST, "kind", "reminder",
               "priority", "5", "parts", "0", "err", "", "at", "1796000000000", "entry", e)
        cluster_harness.ask(hm, "CONFIG", "SET", "maxmemory", "1")
        self.addCleanup(cluster_harness.ask, hm, "CONFIG", "SET", "maxmemory", "0")
        self.boot("11:00-13:00", "12:00:00")
        self.d.wait_log(r"event=push_hold_(failed|unrecorded) entry=%s " % e)
        cluster_harness.ask(hm, "CONFIG", "SET", "maxmemory", "0")
        wait_for(lambda: self.r("HGET", "mt:{%s}" % ident, "state") == "held", 15,
                 "%s held once the master takes writes" % ident)
        wait_for(lambda: self.pel() == 0, 15, "the entry acknowledged")
        self.reload("off")
        wait_for(lambda: self.status_of(ident), 15, "%s recorded" % ident)
        self.push(id="n9", to=DEST, text="marker")
        wait_for(lambda: "marker" in self.texts(), 15, "marker sent")
        self.assertEqual(self.texts().count("quiet claimed"), 1)
        self.assertEqual(self.states(ident), [("sent", "")])

    def test_half_done_record_claimed_in_quiet_hours_is_finished(self):
        """A dead daemon sent h1 (quiet=1) and died after RECORD (mt:{h1}
        `sent`, pend 1); its entry is claimed inside the quiet hours. The
        hold must not end it as `done`: the record is finished (`sent` in
        mt:status, mapped, pend gone), the entry acknowledged, nothing sent
        again, no copy left in mt:held:5."""
        e = self.claimed_by_a_dead_daemon("h1", "half done", quiet="1")
        self.r("HSET", "mt:{h1}", "state", "sent", "to", DEST, "kind", "reminder",
               "priority", "5", "parts", "1", "err", "", "at", "1796000000000",
               "entry", e, "pend", "1", "maps", "0:MID-h1")
        self.boot("11:00-13:00", "12:00:00")
        self.d.wait_log(r"event=push_record_resumed entry=%s id=h1 " % e)
        wait_for(lambda: self.pel() == 0, 15, "the entry acknowledged")
        wait_for(lambda: self.r("XLEN", "mt:held:5") == 0, 15, "its copy deleted")
        self.push(id="n8", to=DEST, text="marker")
        wait_for(lambda: "marker" in self.texts(), 15, "marker sent")
        self.assertEqual(self.texts(), ["marker"])
        self.assertEqual(self.states("h1"), [("sent", "")])
        self.assertEqual(self.status_of("h1")[0]["at"], "1796000000000")
        self.assertEqual(self.r("GET", "mt:msg:{MID-h1}"), "h1 0 1")
        self.assertNotIn("pend", self.r.hgetall("mt:{h1}"))

    def test_records_without_a_known_state_are_not_retried_forever(self):
        """Claimed entries whose mt:{ID} has pend but a bad state: b1 none
        at all (not final: sent and recorded), b2 one the daemon does not
        know (its record given up after a few tries, logged, acknowledged,
        no `sent` made up for it). Before, b1's record was retried at 5 Hz
        forever (a reply cut short at the nil state) and b2 recorded
        `sent`."""
        e1 = self.claimed_by_a_dead_daemon("b1", "no state")
        e2 = self.claimed_by_a_dead_daemon("b2", "bogus state")
        self.r("HSET", "mt:{b1}", "entry", e1, "pend", "1")
        self.r("HSET", "mt:{b2}", "entry", e2, "pend", "1", "state", "bogus", "to", DEST,
               "parts", "1", "err", "", "at", "1796000000000")
        sim = self.start_sim()
        d = self.daemon(sim)
        d.wait_log(r"event=push_record_abandoned entry=%s id=b2 " % e2)
        wait_for(lambda: self.status_of("b1"), 15, "b1 recorded")
        wait_for(lambda: self.pel() == 0, 15, "both entries acknowledged")
        self.assertEqual(self.states("b1"), [("sent", "")])
        self.assertEqual(self.status_of("b2"), [])
        self.assertEqual(self.texts_of(sim), ["no state"])

    def test_status_retried_after_another_daemon_finished_adds_nothing(self):
        """Daemon A sent s1 and recorded it (pend 1), but its STATUS step
        keeps failing (mt:status's master refuses XADD to A's user, ACL);
        meanwhile another daemon finished the record, as a claim of the
        entry would (its `sent`, a parked receipt's `delivered`, pend
        gone): done here by hand. When A's retry gets through it must not
        append `sent` after that `delivered` (a retry restarts at the
        record step, which finds the record done)."""
        sm = self.master_of("mt:status")
        ident = next(i for i in ("s%d" % n for n in range(100))
                     if self.master_of("mt:{%s}" % i) != sm)
        sim = self.start_sim()
        d = self.daemon(sim)
        cluster_harness.ask(sm, "ACL", "SETUSER", "tester", "on", ">pw", "~*", "&*", "+@all")
        self.addCleanup(cluster_harness.ask, sm, "ACL", "DELUSER", "tester")
        self.push(id=ident, to=DEST, text="status retried")
        cluster_harness.ask(sm, "ACL", "SETUSER", "default", "-xadd")
        self.addCleanup(cluster_harness.ask, sm, "ACL", "SETUSER", "default", "+@all")
        d.wait_log(r"event=push_record_failed entry=\S+ state=sent ")
        key = "mt:{%s}" % ident
        self.assertEqual(self.r("HGET", key, "pend"), "1")
        at = self.r("HGET", key, "at")
        self.r("HSET", key, "state", "delivered", "fin", "0")
        self.r("HDEL", key, "pend", "maps")
        b = harness.Redis(sm)
        try:
            b("AUTH", "tester", "pw")
            for st in ("sent", "delivered"):
                b("XADD", "mt:status", "*", "id", ident, "to", DEST, "state", st,
                  "parts", "1", "err", "", "at", at)
        finally:
            b.close()
        cluster_harness.ask(sm, "ACL", "SETUSER", "default", "+@all")
        wait_for(lambda: self.pel() == 0, 15, "the entry acknowledged")
        self.push(id="m1", to=DEST, text="marker")
        wait_for(lambda: self.status_of("m1"), 15, "the marker recorded")
        self.assertEqual(self.states(ident), [("sent", ""), ("delivered", "")])
        self.assertEqual(self.texts_of(sim), ["status retried", "marker"])

    def test_kill9_under_load_then_another_daemon_finishes(self):
        """1,500 pushes with receipts; the daemon is killed (SIGKILL) once
        200 are recorded, wherever its steps are; another one claims what
        it left. Every id ends `sent` (an entry repeated only with the same
        id, state and at), never `sent` after `delivered`; nothing pending,
        no record left half done."""
        n = 1500
        test_push.xadd_many(self.redis.port, [{"id": "k%d" % i, "to": DEST, "text": "kill %d" % i}
                                              for i in range(n)])
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "0-20",
                             "--resp-delay-ms", "2")
        d1 = self.daemon(sim, name="d1", mt="  consumer: first\n")
        wait_for(lambda: self.r("XLEN", "mt:status") >= 200, 60, "200 pushes recorded")
        d1.signal(signal.SIGKILL)
        d1.wait()
        d2 = self.daemon(sim, name="d2", mt="  consumer: second\n")
        wait_for(lambda: len({f["id"] for f in self.status() if f["state"] == "sent"}) == n,
                 90, "every id sent")
        wait_for(lambda: self.pel() == 0, 30, "every entry acknowledged")
        seen = {}
        for f in self.status():
            self.assertIn(f["state"], ("sent", "delivered"), f)
            entries = seen.setdefault(f["id"], [])
            key = (f["state"], f["at"])
            if key not in entries:  # a repeat is the same entry again
                entries.append(key)
        self.assertEqual(len(seen), n, "lost pushes")
        for ident, entries in seen.items():
            self.assertIn([s for s, _ in entries], (["sent"], ["sent", "delivered"]), ident)
        left = [k for k in self.r("KEYS", "mt:{k*}") if "pend" in self.r.hgetall(k)]
        self.assertEqual(left, [])
        print("cluster crash test: %d records resumed, %d mt:status entries repeated"
              % (d2.count(r"event=push_record_resumed "),
                 len(self.status()) - sum(len(e) for e in seen.values())))

    def test_pushes_and_receipts_with_wait_replicas(self):
        """redis.wait_replicas 1 on the cluster (one replica a master): the
        mt:status entries the daemon writes itself are scripts
        (sc__xadd_lua), followed by WAIT as every script: a one-part and a
        three-part push end sent, then delivered."""
        self.wait_replicas = 1
        sim = self.start_sim("--dlr", "--seed", "7", "--dlr-delay-ms", "20")
        self.daemon(sim)
        self.push(id="w1", to=DEST, text="等副本", kind="reminder")
        self.push(id="w2", to=DEST, text="y" * 300, kind="bill")
        self.wait_status(4)
        self.assertEqual(self.states("w1"), [("sent", ""), ("delivered", "")])
        self.assertEqual(self.states("w2"), [("sent", ""), ("delivered", "")])

if __name__ == "__main__":
    harness.main()
