"""benchlib.py -- what the benches share (bind_bench.py, push_bench.py,
kannel_bench.py): the set of processes of one run (stopped in reverse
order, also on failure), a private redis-server, the daemon on the shipped
routes and templates (optionally under callgrind), a scripted smsc-sim,
CPU-seconds and RSS from /proc, and the callgrind difference report."""
import os
import resource
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import callgrind_split  # noqa: E402
import harness  # noqa: E402
from harness import Proc, free_port, wait_for  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


# ---- /proc ------------------------------------------------------------------
def cpu_s(pid):
    """utime + stime of a process (its threads included), in seconds."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / TICK   # fields 14, 15
    except (OSError, IndexError, ValueError):
        return 0.0


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def children_cpu_s():
    """CPU-seconds of the children that exited and were waited for: the
    difference around one child's wait is that child's."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# ---- processes --------------------------------------------------------------
class Run:
    """Every process this run started, stopped in reverse order at the end."""

    def __init__(self, work, build, verbose=False):
        self.work, self.build, self.verbose = work, build, verbose
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()

    def start(self, name, argv, env=None):
        p = Proc(name, argv, self.work, env=env)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p in self.procs:
            p.stop()
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:   # keep stopping the others
                sys.stderr.write("stopping %s: %s\n" % (p.name, e))
        self.procs = []

    def log(self, msg):
        if self.verbose:
            sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))

    # The pieces every bench starts.
    def redis(self):
        """A private redis-server without persistence: (port, Proc)."""
        port = free_port()
        p = self.start("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", self.work])
        wait_for(lambda: harness.Env._redis_ping(port), 10, "redis")
        return port, p

    def daemon_config(self, head, name="shortcoded.yaml"):
        """head (log, binds, redis, ... sections) plus the shipped routes and
        templates (the daemon needs them to start): the config's path."""
        with open(os.path.join(HERE, "..", "config", "shortcoded.yaml"), encoding="utf-8") as sh:
            shipped = sh.read()
        path = os.path.join(self.work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(head + shipped[shipped.index("\nroutes:"):shipped.index("\nlimits:")])
        return path

    def daemon(self, cfg, valgrind_out=None, name="shortcoded"):
        argv = [os.path.join(self.build, "shortcoded"), "-c", cfg]
        if valgrind_out:
            argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + valgrind_out] + argv
        return self.start(name, argv)

    def sim_script(self, port, script, extra=(), name="sim", pids=None, timeout=900):
        """smsc-sim on port running script (text) to its end: its seconds,
        and with pids ({name: pid}) the CPU-seconds of each over that time
        plus the sim's own ("smsc-sim"). Raises SystemExit when the script
        fails, with the tails of every process's output."""
        path = os.path.join(self.work, name + ".script")
        with open(path, "w") as f:
            f.write(script)
        c0 = {k: cpu_s(p) for k, p in (pids or {}).items()}
        ch0 = children_cpu_s()
        t0 = time.monotonic()
        sim = self.start(name, [os.path.join(self.build, "tools", "smsc-sim"), "--listen",
                                "127.0.0.1:%d" % port, "--script", path, "--log-level", "warn"] +
                         list(extra))
        rc = sim.wait(timeout)
        elapsed = time.monotonic() - t0
        cpu = {k: cpu_s(p) - c0[k] for k, p in (pids or {}).items()}
        cpu["smsc-sim"] = children_cpu_s() - ch0
        if rc != 0:
            raise SystemExit("smsc-sim script failed:\n" + sim.output()[-3000:] + "".join(
                "\n%s:\n%s" % (p.name, p.output()[-3000:]) for p in self.procs if p is not sim))
        return elapsed, cpu


# ---- callgrind ----------------------------------------------------------------
def callgrind_report(what, work, run_once, small=200, delta=2000):
    """Instructions per WHAT in the daemon, split by object: the difference
    of two callgrind runs (run_once(n, out_file) for small and small+delta,
    the files in work) divided by delta, so start-up cancels out. Prints
    it; returns ({group: instructions, "total": ...}, [the two files])."""
    outs, files = [], []
    for n in (small, small + delta):
        out = os.path.join(work, "callgrind.%d" % n)
        run_once(n, out)
        files.append(out)
        outs.append(callgrind_split.split(out))
    per = {}
    for ob in set(outs[0]) | set(outs[1]):
        g = callgrind_split.group(ob)
        per[g] = per.get(g, 0) + (outs[1].get(ob, 0) - outs[0].get(ob, 0)) / delta
    total = sum(per.values())
    print("callgrind, daemon, instructions per %s (difference of %d and %d):" %
          (what, small, small + delta))
    for g, v in sorted(per.items(), key=lambda kv: -kv[1]):
        if abs(v) >= 1:
            print("  %-14s %8.0f  (%4.1f%%)" % (g, v, 100 * v / total))
    print("  %-14s %8.0f" % ("total", total))
    per["total"] = total
    return per, files
