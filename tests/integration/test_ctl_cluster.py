"""test_ctl_cluster.py -- shortcodectl on a real Redis Cluster (3 masters + 3
replicas, one for the class): import of a catalogue and ~200 subscribers,
show, push, status and bill-run, each key checked on the master that owns
its slot; and a bill run while the slot of mt:push moves to another master
(ASK while it migrates, MOVED after): no push lost, none twice; a slot
nobody serves (CLUSTERDOWN: retried, then an error naming the node); a
dead seed skipped, /db refused (docs/scaling.md "Migrating from one server
to a cluster")."""
import os
import re

import cluster_harness
import ctl_env
import harness
from cluster_harness import ask, key_slot
from harness import wait_for

BASE = 13700000000
N = 200
CAT = ("code,name,price_fen,provider,kind\n"
       "1001,彩铃,500,CMCC,monthly\n1002,天气预报,300,ACME,monthly\n2001,游戏包,100,,once\n")
BILL = {"plan_fen": "5800", "voice_fen": "1210", "data_fen": "3000", "sms_fen": "100",
        "vas_fen": "1000", "other_fen": "0", "discount_fen": "500", "total_fen": "10610"}


class CtlClusterTest(ctl_env.CtlEnv):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def start_store(self):
        self.cluster.flush()
        # Seeds: a dead one first (tried, then the next), then two masters.
        dead = harness.free_port()
        self.url = "redis://127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d" % (
            (dead,) + tuple(self.cluster.masters(fresh=True)[:2]))
        self.r = cluster_harness.ClusterRedis(self.cluster)

    def owner(self, key):
        slot = key_slot(key)
        for lo, hi, port in self.cluster.slot_map():
            if lo <= slot <= hi:
                return port
        raise AssertionError("no owner of %s" % key)

    def on_owner(self, *args):
        """A read asked of the master owning args[1] itself (no redirect)."""
        return ask(self.owner(args[1]), *args)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_import_show_push_status_bill_run(self):
        rc, _, err = self.ctl("import", "catalogue", self.write("cat.csv", CAT))
        self.assertEqual(rc, 0, err)
        self.assertIn("imported 3 catalogue rows", err)
        for code in ("1001", "1002", "2001"):
            self.assertEqual(self.on_owner("HGET", "vas:svc:" + code, "kind"),
                             "once" if code == "2001" else "monthly")
        self.assertEqual(sorted(self.on_owner("SMEMBERS", "vas:catalogue")),
                         ["1001", "1002", "2001"])
        self.assertEqual([k for k in self.r.keys() if "import" in k], [])  # scratch set gone

        msisdns = [BASE + i for i in range(N)]
        subs = "msisdn,code,since\n" + "".join(
            "%d,1001,1700000000\n%d,%s,1700000001\n" % (m, m, "1002" if m % 2 else "2001")
            for m in msisdns)
        rc, _, err = self.ctl("import", "subscriptions", self.write("subs.csv", subs))
        self.assertEqual(rc, 0, err)
        self.assertIn("imported %d subscriptions rows" % (2 * N), err)
        for m in msisdns:
            self.assertEqual(self.on_owner("HGETALL", "sub:{%d}:vas" % m),
                             ["1001", "1700000000", "1002" if m % 2 else "2001", "1700000001"])
        # The subscribers are spread over every master.
        self.assertEqual(len({self.owner("sub:{%d}:vas" % m) for m in msisdns}), 3)

        rc, out, err = self.ctl("show", str(BASE + 1))
        self.assertEqual(rc, 0, err)
        self.assertIn("彩铃", out)
        self.assertIn("天气预报", out)

        rc, out, err = self.ctl("push", "--to", str(BASE), "--text", "您好", "--id", "c-1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "c-1")
        entry = re.search(r"as entry (\S+)", err).group(1)
        self.assertEqual(self.on_owner("XRANGE", "mt:push", "-", "+")[0][0], entry)

        # status: mt:{ID} and mt:status live in two other slots.
        at = int(entry.split("-")[0]) + 1000
        self.r("HSET", "mt:{c-1}", "state", "delivered", "to", str(BASE), "parts", "1",
               "err", "000", "at", at, "entry", entry)
        self.r("XADD", "mt:status", "%d-0" % at, "id", "c-1", "to", str(BASE),
               "state", "delivered", "parts", "1", "err", "000", "at", at)
        self.assertNotEqual(key_slot("mt:{c-1}"), key_slot("mt:status"))
        rc, out, err = self.ctl("status", "c-1")
        self.assertEqual(rc, 0, err)
        self.assertIn("  state     delivered", out)
        self.assertIn("state=delivered", out.splitlines()[-1])

        for m in msisdns:
            self.r("HSET", "bill:{%d}:202611" % m, *[x for kv in BILL.items() for x in kv])
        lst = self.write("list.txt", "".join("%d\n" % m for m in msisdns))
        rc, _, err = self.ctl("bill-run", "--cycle", "202611", "--msisdns", lst)
        self.assertEqual(rc, 0, err)
        self.assertIn("done: %d bills" % N, err)
        pushed = self.on_owner("XRANGE", "mt:push", "-", "+")
        self.assertEqual(len(pushed), N + 1)
        ids = sorted(dict(zip(e[1][0::2], e[1][1::2]))["id"] for e in pushed[1:])
        self.assertEqual(ids, sorted("bill:%d:202611" % m for m in msisdns))
        self.assertEqual(self.on_owner("HGET", "billrun:202611", "done"), "1")

    def test_bill_run_while_mt_push_moves(self):
        n = 900
        msisdns = [BASE + i for i in range(n)]
        for m in msisdns:
            self.r("HSET", "bill:{%d}:202611" % m, *[x for kv in BILL.items() for x in kv])
        lst = self.write("list.txt", "".join("%d\n" % m for m in msisdns))
        slot = key_slot("mt:push")
        run = self.ctl_bg("bill-run", "bill-run", "--cycle", "202611", "--msisdns", lst,
                          "--rate", "300/s")

        def line():
            return int(self.r("HGET", "billrun:202611", "line") or 0)
        wait_for(lambda: line() > 150 or not run.alive(), 20, "the run to push 150 bills")
        self.assertTrue(run.alive(), run.output())
        src, dst = self.cluster.begin_move(slot)   # mt:push MIGRATEd: src now says -ASK
        at_begin = line()
        wait_for(lambda: line() > at_begin + 150, 20, "150 more bills while the slot migrates")
        self.cluster.end_move(slot, dst)           # src now says -MOVED
        self.assertEqual(run.wait(30), 0, run.output())
        self.assertIn("done: %d bills" % n, run.output())
        self.assertEqual(ask(dst, "XLEN", "mt:push"), n)
        entries = ask(dst, "XRANGE", "mt:push", "-", "+")
        ids = [dict(zip(e[1][0::2], e[1][1::2]))["id"] for e in entries]
        self.assertEqual(sorted(ids), sorted("bill:%d:202611" % m for m in msisdns))
        errs = ask(src, "INFO", "errorstats")
        self.assertIn("errorstat_ASK:", errs)
        self.assertIn("errorstat_MOVED:", errs)

    def test_index_catalogue_scans_every_master(self):
        codes = ["C%03d" % i for i in range(30)]
        for c in codes:
            self.r("HSET", "vas:svc:" + c, "name", c, "price_fen", "1", "kind", "monthly")
        self.assertEqual(len({self.owner("vas:svc:" + c) for c in codes}), 3)
        rc, _, err = self.ctl("index-catalogue")
        self.assertEqual(rc, 0, err)
        self.assertIn("indexed 30 vas:svc:* hashes", err)
        self.assertEqual(sorted(self.on_owner("SMEMBERS", "vas:catalogue")), codes)

    def test_seed_errors(self):
        """/db on a cluster node: a clear error; no seed answers: each is
        named, exit 4."""
        port = self.cluster.masters()[0]
        rc, _, err = self.ctl("show", str(BASE), url="redis://127.0.0.1:%d/2" % port)
        self.assertEqual(rc, 4, err)
        self.assertIn("redis at 127.0.0.1:%d is a Redis Cluster node: a cluster has only db 0; "
                      "drop /2 from the URL" % port, err)
        dead = [harness.free_port(), harness.free_port()]
        rc, _, err = self.ctl("show", str(BASE),
                              url="redis://127.0.0.1:%d,127.0.0.1:%d" % tuple(dead))
        self.assertEqual(rc, 4, err)
        for p in dead:
            self.assertIn("cannot connect to redis at 127.0.0.1:%d: Connection refused" % p, err)

    def test_clusterdown_gives_up_naming_the_node(self):
        """A slot nobody serves: CLUSTERDOWN is retried with a back-off,
        then the tool gives up with the node's name (exit 4)."""
        key = "sub:{%d}:vas" % BASE
        slot, owner = key_slot(key), self.owner(key)
        try:
            for p in self.cluster.ports:
                ask(p, "CLUSTER", "DELSLOTS", slot)
            rc, _, err = self.ctl("show", str(BASE), timeout=30)
            self.assertEqual(rc, 4, err)
            self.assertRegex(err, r"redis cluster node 127\.0\.0\.1:\d+: CLUSTERDOWN .*"
                                  r"\(gave up after 8 tries\)")
        finally:
            ask(owner, "CLUSTER", "ADDSLOTS", slot)
            self.cluster.forget_map()
            wait_for(self.cluster._all_ok, 30, "the slot to be served again")


if __name__ == "__main__":
    harness.main()
