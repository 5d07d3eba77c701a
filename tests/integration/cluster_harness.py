"""cluster_harness.py -- a real Redis Cluster for integration tests: 3 masters +
3 replicas on loopback (LIBRARIES.md "Redis Cluster for tests"), and a
stdlib client that routes by slot and follows MOVED / ASK.

A Cluster is made once per test class (setUpClass) and always stopped: the
class's cleanup (addClassCleanup) runs even when a test or setUpClass
fails. Each node's port and its bus port (+10000) are reserved first as
harness.free_port() does (bound with SO_REUSEADDR, never listening), so a
parallel test cannot take them. Nodes keep AOF with fsync every second:
the daemon's default redis.durability: refuse requires it.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile

import harness
from harness import wait_for


def _reserve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    return s


def cluster_ports(n):
    """n ports p whose p + 10000 is free too, all reserved for this process."""
    ports = []
    while len(ports) < n:
        p = random.randrange(20000, 30000)
        if p in ports:
            continue
        a = _reserve(p)
        b = a and _reserve(p + 10000)
        if a and b:
            harness._reserved_ports.extend([a, b])
            ports.append(p)
        elif a:
            a.close()
    return ports


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    k = key.encode() if isinstance(key, str) else key
    o = k.find(b"{")
    if o >= 0:
        c = k.find(b"}", o + 1)
        if c > o + 1:
            k = k[o + 1:c]
    return crc16(k) % 16384


# Commands of the tests with no key: sent to every master (writes) or one.
_EVERY_MASTER = {"FLUSHALL", "FLUSHDB", "SAVE", "SCRIPT", "CONFIG"}
_NO_KEY = {"PING", "INFO", "TIME", "CLUSTER"}


def ask(port, *args):
    """One command on a fresh connection to port, closed after."""
    r = harness.Redis(port)
    try:
        return r(*args)
    finally:
        r.close()


class ClusterRedis(harness.RedisViews):
    """harness.Redis's interface over a cluster: each call goes to its key's
    master (MOVED / ASK followed), KEYS and DBSIZE ask every master."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.conns = {}

    def _conn(self, port):
        if port not in self.conns:
            self.conns[port] = harness.Redis(port)
        return self.conns[port]

    def close(self):
        for c in self.conns.values():
            c.close()
        self.conns = {}

    def _owner(self, slot):
        for lo, hi, port in self.cluster.slot_map():
            if lo <= slot <= hi:
                return port
        raise RuntimeError("no owner for slot %d" % slot)

    def __call__(self, *args):
        name = str(args[0]).upper()
        if name in _EVERY_MASTER:
            return [self._conn(p)(*args) for p in self.cluster.masters()][0]
        if name == "DBSIZE":
            return sum(self._conn(p)(*args) for p in self.cluster.masters())
        if name == "KEYS":
            return [k for p in self.cluster.masters() for k in self._conn(p)(*args)]
        if name in _NO_KEY or len(args) < 2:
            return self._conn(self.cluster.masters()[0])(*args)
        port = self._owner(key_slot(args[1]))
        for _ in range(5):
            try:
                return self._conn(port)(*args)
            except RuntimeError as e:
                word = str(e).split()
                if word and word[0] == "MOVED":
                    self.cluster.forget_map()
                    port = int(word[2].rsplit(":", 1)[1])
                elif word and word[0] == "ASK":
                    port = int(word[2].rsplit(":", 1)[1])
                    self._conn(port)("ASKING")
                else:
                    raise
        raise RuntimeError("too many redirects for %r" % (args,))



class Cluster:
    """3 masters + 3 replicas (replicas=1), or masters=N with replicas=0."""

    def __init__(self, masters=3, replicas=1):
        self.dir = tempfile.mkdtemp(prefix="sc-cluster-")
        self.ports = cluster_ports(masters * (1 + replicas))
        self.nmasters, self.replicas = masters, replicas
        self.procs = {}
        self._map = None

    def url(self, seeds=None):
        """redis.url with every master as a seed (or the given ports)."""
        return "redis://" + ",".join("127.0.0.1:%d" % p for p in (seeds or self.ports[:3]))

    def start_node(self, port):
        d = os.path.join(self.dir, str(port))
        os.makedirs(d, exist_ok=True)
        self.procs[port] = harness.Proc(
            "redis-%d" % port,
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
             # A replica's first sync starts at once, not after Redis's 5 s.
             "--repl-diskless-sync-delay", "0", "--dir", d],
            d)

    def start(self):
        for p in self.ports:
            self.start_node(p)
        for p in self.ports:
            wait_for(lambda: harness.Env._redis_ping(p), 10, "cluster node %d to answer" % p)
        out = subprocess.run(
            ["redis-cli", "--cluster", "create"] + ["127.0.0.1:%d" % p for p in self.ports] +
            ["--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise AssertionError("redis-cli --cluster create failed:\n" + out.stdout + out.stderr)
        wait_for(self._all_ok, 30, "every cluster node to say cluster_state:ok and agree")
        return self

    def _all_ok(self):
        epochs = set()
        for p in self.ports:
            try:
                info = ask(p, "CLUSTER", "INFO")
            except (OSError, RuntimeError):
                return False
            if "cluster_state:ok" not in info:
                return False
            epochs.add([l for l in info.split() if l.startswith("cluster_current_epoch")][0])
        # Replicas in sync (a replica that never synced does not fail over).
        if self.replicas:
            for p in self.masters(fresh=True):
                rows = [l for l in ask(p, "INFO", "replication").split() if l.startswith("slave")]
                if len(rows) < self.replicas or not all("state=online" in l for l in rows):
                    return False
        return len(epochs) == 1

    def slot_map(self):
        """[(lo, hi, master port)] from CLUSTER SLOTS (cached until a MOVED)."""
        if self._map is None:
            for p in self.ports:
                if p in self.procs and self.procs[p].alive():
                    try:
                        rows = ask(p, "CLUSTER", "SLOTS")
                    except (OSError, RuntimeError):
                        continue
                    self._map = [(r[0], r[1], r[2][1]) for r in rows]
                    break
        return self._map or []

    def forget_map(self):
        self._map = None

    def masters(self, fresh=False):
        if fresh:
            self.forget_map()
        return sorted({p for _, _, p in self.slot_map()})

    def node_id(self, port):
        return ask(port, "CLUSTER", "MYID")

    def begin_move(self, slot):
        """Start moving slot to another master and move its keys (MIGRATE),
        leaving the slot MIGRATING / IMPORTING: its old owner now answers
        -ASK. Returns (old owner, new owner) ports."""
        src = self._owner_of(slot)
        dst = [p for p in self.masters(fresh=True) if p != src][0]
        ask(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", self.node_id(src))
        ask(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", self.node_id(dst))
        keys = ask(src, "CLUSTER", "GETKEYSINSLOT", slot, 1000)
        if keys:
            ask(src, "MIGRATE", "127.0.0.1", dst, "", 0, 5000, "KEYS", *keys)
        return src, dst

    def end_move(self, slot, dst):
        """Give slot to dst for good (every master is told): -MOVED."""
        for p in self.masters(fresh=True):
            ask(p, "CLUSTER", "SETSLOT", slot, "NODE", self.node_id(dst))
        self.forget_map()
        wait_for(lambda: all(self._owner_seen(p, slot) == dst for p in self.ports), 20,
                 "every node to see slot %d on %d" % (slot, dst))

    def _owner_of(self, slot):
        for lo, hi, port in self.slot_map():
            if lo <= slot <= hi:
                return port
        raise AssertionError("no owner for slot %d" % slot)

    @staticmethod
    def _owner_seen(port, slot):
        for r in ask(port, "CLUSTER", "SLOTS"):
            if r[0] <= slot <= r[1]:
                return r[2][1]
        return None

    def reshard(self, nslots, timeout=60):
        """redis-cli --cluster reshard: move nslots slots from the first
        master to the second (keys MIGRATEd, slots MIGRATING / IMPORTING
        meanwhile). Blocks until done; returns (from port, to port)."""
        src, dst = self.masters(fresh=True)[:2]
        out = subprocess.run(
            ["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % src,
             "--cluster-from", self.node_id(src), "--cluster-to", self.node_id(dst),
             "--cluster-slots", str(nslots), "--cluster-yes", "--cluster-pipeline", "10"],
            capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise AssertionError("reshard failed:\n" + out.stdout[-3000:] + out.stderr)
        self.forget_map()
        wait_for(self._all_ok, 30, "the cluster to settle after the reshard")
        return src, dst

    def kill_master_of(self, slot):
        """SIGKILL slot's master; wait until a replica has taken its slots.
        Returns the dead master's port (restart_node brings it back, as a
        replica)."""
        port = self._owner_of(slot)
        self.procs[port].signal(signal.SIGKILL)
        self.procs[port].wait(10)
        self.wait_promoted(slot, port)
        return port

    def wait_promoted(self, slot, port, timeout=30):
        """Wait until every live node agrees that slot has an owner other
        than the dead master port and says cluster_state:ok."""
        def promoted():
            self.forget_map()
            owner = None
            for p in self.ports:
                if p != port and self.procs[p].alive():
                    try:
                        owner = self._owner_seen(p, slot)
                        info = ask(p, "CLUSTER", "INFO")
                    except (OSError, RuntimeError):
                        return False
                    if owner in (None, port) or "cluster_state:ok" not in info:
                        return False
            return owner is not None
        wait_for(promoted, timeout, "a replica to take over slot %d from %d" % (slot, port))
        self.forget_map()

    def replica_of(self, port):
        """The port of master port's (first) replica."""
        for line in ask(port, "INFO", "replication").split():
            if line.startswith("slave0:"):
                return int(dict(kv.split("=", 1) for kv in line[7:].split(","))["port"])
        raise AssertionError("master %d has no replica" % port)

    def restart_node(self, port):
        """Start a killed node again on its port and data: it rejoins (as a
        replica) and the cluster is whole again."""
        self.procs[port].stop()
        self.start_node(port)
        wait_for(lambda: harness.Env._redis_ping(port), 10, "node %d to answer" % port)
        wait_for(self._all_ok, 30, "the cluster to be whole again")

    def flush(self):
        """Empty every master (replicas follow) between tests."""
        for p in self.masters(fresh=True):
            ask(p, "FLUSHALL")

    def stop(self):
        for p in self.procs.values():
            p.stop()
        problems = [x for p in self.procs.values() for x in p.problems()]
        shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems))


def class_cluster(cls, **kw):
    """Start a cluster for test class cls (from setUpClass), stopped by a
    class cleanup whatever happens."""
    c = Cluster(**kw)
    cls.addClassCleanup(c.stop)
    return c.start()
