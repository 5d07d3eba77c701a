#!/usr/bin/env python3
"""test_failover.py -- issue 14's durability on failover (redis.wait_replicas):
a master + 1 replica (plain replication), the daemon reaching Redis through
a TCP forwarder the test moves to the promoted replica (as a virtual IP or
a proxy would move), the replica reaching its master through another one
the test can pause (a stalled replication link). Under a "0000"/cancel load
with redelivery the master is killed with SIGKILL and the replica promoted
by the test (REPLICAOF NO ONE; no sentinel), then a new replica of it is
started (the old master coming back as a replica).

Lost = a cancellation the subscriber was told of (an MT "您已成功退订X" or
"X已于...退订" reached the SMSC before the daemon could reach the promoted
replica) that the promoted replica's data does not have. Under ack_policy
after_reply the MO's ESME_ROK follows that MT, so this covers every
acknowledged cancellation and more.

- wait_replicas 1, master frozen then killed under load -> 0 lost.
- wait_replicas 1, replication link stalled before the kill -> 0 lost (the
  MOs meanwhile get the temporary error and are redelivered later).
- wait_replicas 0, the same stall -> cancellations lost (the negative
  control: what the setting is for).
Every arm then runs the crash test's checks on the promoted data: every
cancellation applied exactly once, every MO finally ESME_ROK.

FailoverClusterTest: the same three arms on a 3+3 Redis Cluster, whose own
failover promotes the replica (its docstring says how the stall is made)."""
import os
import re
import signal
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster_harness  # noqa: E402
import harness  # noqa: E402
import test_faults  # noqa: E402  (a module: its test class is not collected here)
from harness import wait_for  # noqa: E402
from test_vas import CATALOGUE, SHIPPED  # noqa: E402

CODE_OF = {n: c for c, n, _ in CATALOGUE}
F = test_faults.FaultTest  # its helpers, called with our self
MT_RE = re.compile(r'level=debug event=mt from="[^"]*" to="(\d+)" parts=\d+ dc=\d+ text="(.*)"$',
                   re.M)
DONE_RE = re.compile(r"您已成功退订(.+?)，共\d+项")
GONE_RE = re.compile(r"([^，。、\s]+)已于[^，。]*?退订")


class Proxy:
    """A loopback TCP forwarder to a target port that can be moved (closing
    every connection, as a moved address does) or paused (bytes stay in its
    sockets; move() or close() then throws them away)."""

    def __init__(self, target):
        self.target = target
        self.go = threading.Event()
        self.go.set()
        self.lock = threading.Lock()
        self.socks = []
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            t = self.target
            try:
                if t is None:
                    raise OSError("no target")
                u = socket.create_connection(("127.0.0.1", t), timeout=2)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                self.go.wait()
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def pause(self):
        self.go.clear()

    def _drop_all(self):
        with self.lock:
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.go.set()  # paused pumps wake up on closed sockets and end

    def move(self, target):
        self.target = target
        self._drop_all()

    def close(self):
        self.target = None
        self.ls.close()
        self._drop_all()


def told(sim_log):
    """{(msisdn, code)} the subscriber was told are cancelled, from the
    simulator's MT lines."""
    out = set()
    for to, text in MT_RE.findall(sim_log):
        names = []
        for items in DONE_RE.findall(text):
            names += [i.split("（")[0] for i in items.split("、")]
        names += GONE_RE.findall(text)
        for n in names:
            if n in CODE_OF:
                out.add((to, CODE_OF[n]))
    return out


class FailoverTest(harness.Env):
    def redis_in(self, name, *args):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        # A replica's first sync starts at once, not after Redis's 5 s.
        return self.start_redis(name=name, args=["--dir", d, "--repl-diskless-sync-delay", "0"]
                                + list(args))

    def config(self, wait):
        """The shipped config without the rate limit, with wait_replicas."""
        with open(SHIPPED, encoding="utf-8") as f:
            text = f.read()
        text, k = re.subn(r"(?m)^  # rate_limit_count: \S+", "  rate_limit_count: 1000000", text)
        self.assertEqual(k, 1)
        text, k = re.subn(r"(?m)^  # wait_replicas: 0$", "  wait_replicas: %d" % wait, text)
        self.assertEqual(k, 1)
        path = os.path.join(self.dir, "shortcoded.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)

    def failover(self, wait, stall):
        n = 300
        master = self.redis_in("master")
        link = Proxy(master.port)            # replica -> master
        self.addCleanup(link.close)
        replica = self.redis_in("replica", "--replicaof", "127.0.0.1", str(link.port))
        rm, rr = harness.Redis(master.port), harness.Redis(replica.port)
        self.addCleanup(rm.close)
        self.addCleanup(rr.close)
        wait_for(lambda: "master_link_status:up" in rr("INFO", "replication"), 20,
                 "the replica to sync")
        subs = F.seed(self, rm, n)
        self.assertEqual(rm("WAIT", 1, 10000), 1)
        front = Proxy(master.port)           # daemon -> the current master
        self.addCleanup(front.close)
        self.config(wait)
        # The simulator's reply deadline covers the outage (a stalled link,
        # the failover, the redeliveries after it): a command given up by
        # the simulator before its reply would look lost.
        sim = F.load_sim(self, n, 200, 12, "--log-level", "debug", "--reply-timeout-ms", "30000")
        d = F.start_vas(self, sim.port, front.port, "shortcoded")
        d.wait_log(r"event=mo msisdn=\d+ .*outcome=reply", timeout=30, count=300)
        if stall:
            link.pause()
            if wait:
                # Writes now time out short and get the temporary error.
                d.wait_log(r"event=redis_replicas_behind ", timeout=30)
                refused = d.count(r"outcome=temporary_error")
                d.wait_log(r"outcome=temporary_error", timeout=30, count=refused + 50)
            else:
                # Cancellations go on being told, none reaches the replica.
                before = len(told(sim.output()))
                wait_for(lambda: len(told(sim.output())) >= before + 30, 30,
                         "cancellations told during the stall", interval=0.2)
        else:
            d.wait_log(r"event=mo msisdn=\d+ .*outcome=reply", timeout=30, count=600)
        # Freeze it first so that writes are in flight, then kill it.
        master.signal(signal.SIGSTOP)
        time.sleep(0.2)  # lets MOs pile up on the frozen master; waits for nothing
        master.signal(signal.SIGKILL)
        master.wait(5)
        front.move(None)
        link.close()                         # what the stalled link held is gone
        self.assertEqual(rr("REPLICAOF", "NO", "ONE"), "OK")
        wait_for(lambda: "role:master" in rr("INFO", "replication"), 10, "the promotion")
        # Everything told so far came from the dead master's data; the
        # promoted replica gets no write until the address moves.
        said = told(sim.output())
        have = {m: rr.hgetall("sub:{%s}:vas" % m) for m in subs}
        lost = sorted((m, c) for m, c in said if c in have.get(m, {}))
        sys.stderr.write("\n[failover wait_replicas=%d stall=%s] cancellations told before the "
                         "failover %d, missing from the promoted replica %d %s\n"
                         % (wait, stall, len(said), len(lost), lost[:5]))
        # The old master comes back as a replica of the promoted one.
        self.redis_in("master2", "--replicaof", "127.0.0.1", str(replica.port))
        wait_for(lambda: "connected_slaves:1" in rr("INFO", "replication"), 20,
                 "a replica of the promoted master")
        front.move(replica.port)
        rep = F.finish_sim(self, sim, timeout=120)
        self.assertTrue(d.alive())
        what = "failover wait_replicas=%d" % wait
        F.check_state(self, rr, subs, rep, what)
        self.assertGreater(len(said), 0)
        if wait:
            # Long MOs: a part acknowledged because it was in Redis ran.
            F.check_long(self, rep, what)
            self.assertEqual(rep["errors"]["reply_lost"], 0, "acknowledged MOs without a reply")
        else:
            scn = rep["scenarios"]["longtd"]
            sys.stderr.write("[%s] long MOs started %d, replied %d (a part acknowledged on the "
                             "dead master alone is lost too); replies lost %d\n"
                             % (what, scn["started"], scn["completed"],
                                rep["errors"]["reply_lost"]))
        return lost

    def test_kill_master_wait1(self):
        self.assertEqual(self.failover(1, stall=False), [])

    def test_stalled_replica_wait1(self):
        self.assertEqual(self.failover(1, stall=True), [])

    def test_stalled_replica_wait0_loses(self):
        # The negative control: without WAIT the master acknowledges what
        # the replica never gets, and the promotion loses it (also parts of
        # long MOs, which is why check_long is not run here).
        self.assertGreater(len(self.failover(0, stall=True)), 0)


class FailoverClusterTest(FailoverTest):
    """The same on a Redis Cluster of 3 masters + 3 replicas: the master of
    vas:events' slot (a third of the subscribers too) is killed with
    SIGKILL under load, the cluster promotes its replica by itself, and the
    daemon follows through the slot map. The stall: the replica is frozen
    (SIGSTOP) and its replication connection closed by the master (CLIENT
    KILL TYPE replica), so what the master takes meanwhile never leaves it;
    the replica is thawed after the kill and promoted with what it had.
    After the promotion the dead master comes back, as a replica of the
    promoted one (without a replica of its own, wait_replicas 1 refuses
    writes on that master). The tests are FailoverTest's, on this failover."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cluster = cluster_harness.class_cluster(cls)

    def failover(self, wait, stall):
        n, cl = 300, self.cluster
        cl.flush()
        r = cluster_harness.ClusterRedis(cl)
        self.addCleanup(r.close)
        subs = F.seed(self, r, n)
        for p in cl.masters(fresh=True):
            self.assertEqual(cluster_harness.ask(p, "WAIT", 1, 10000), 1)
        slot = cluster_harness.key_slot("vas:events")
        master = cl._owner_of(slot)
        replica = cl.replica_of(master)
        mine = {m for m in subs if cl._owner_of(cluster_harness.key_slot("{%s}" % m)) == master}
        self.config(wait)
        sim = F.load_sim(self, n, 200, 8, "--log-level", "debug", "--reply-timeout-ms", "30000")
        d = F.start_vas(self, sim.port, cl.url(), "shortcoded")
        d.wait_log(r"event=mo msisdn=\d+ .*outcome=reply", timeout=30, count=150)
        if stall:
            cl.procs[replica].signal(signal.SIGSTOP)
            self.addCleanup(cl.procs[replica].signal, signal.SIGCONT)
            cluster_harness.ask(master, "CLIENT", "KILL", "TYPE", "replica")
            if wait:
                d.wait_log(r"event=redis_replicas_behind ", timeout=30)
                refused = d.count(r"outcome=temporary_error")
                d.wait_log(r"outcome=temporary_error", timeout=30, count=refused + 50)
            else:
                before = len([x for x in told(sim.output()) if x[0] in mine])
                wait_for(lambda: len([x for x in told(sim.output()) if x[0] in mine]) >=
                         before + 30, 30, "cancellations told during the stall", interval=0.2)
        else:
            d.wait_log(r"event=mo msisdn=\d+ .*outcome=reply", timeout=30, count=300)
        cl.procs[master].signal(signal.SIGSTOP)
        time.sleep(0.2)  # lets MOs pile up on the frozen master; waits for nothing
        cl.procs[master].signal(signal.SIGKILL)
        cl.procs[master].wait(5)
        t_kill = time.monotonic()
        if stall:
            cl.procs[replica].signal(signal.SIGCONT)
        cl.wait_promoted(slot, master)
        promoted_s = time.monotonic() - t_kill
        # Told before the promotion: from the dead master's data for its
        # subscribers (the daemon may already write to the promoted one;
        # what it writes there is not missing).
        said = told(sim.output())
        have = {m: r.hgetall("sub:{%s}:vas" % m) for m in mine}
        lost = sorted((m, c) for m, c in said if c in have.get(m, {}))
        sys.stderr.write("\n[cluster failover wait_replicas=%d stall=%s] replica promoted %.1fs "
                         "after the kill; cancellations told %d (%d of the dead master's "
                         "subscribers), missing from the promoted replica %d %s\n"
                         % (wait, stall, promoted_s, len(said),
                            len([x for x in said if x[0] in mine]), len(lost), lost[:5]))
        cl.restart_node(master)
        rep = F.finish_sim(self, sim, timeout=120)
        self.assertTrue(d.alive())
        self.assertGreater(len(said), 0)
        what = "cluster failover wait_replicas=%d" % wait
        if wait:
            d.wait_log(r"event=redis_cluster_ready ", count=2, timeout=1)  # it followed
            F.check_state(self, r, subs, rep, what)
            F.check_long(self, rep, what)
            self.assertEqual(rep["errors"]["reply_lost"], 0, "acknowledged MOs without a reply")
        return lost


if __name__ == "__main__":
    harness.main()
