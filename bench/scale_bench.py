#!/usr/bin/env python3
"""scale_bench.py -- issue 14's benchmark table: "0000" on each Redis layout,
in one run on this machine, printed as a markdown table (docs/scaling.md,
docs/performance.md "Scale-out").

Layouts (every redis-server with AOF, appendfsync everysec, as
cluster_harness.py starts a cluster's nodes):
  one       one redis-server
  cluster   a Redis Cluster of 3 masters, no replicas (3+0)
  wait1     one redis-server + 1 replica, redis.wait_replicas: 1
  cluster1  a Redis Cluster of 3 masters + 3 replicas, redis.wait_replicas: 1

For each, with one daemon (bind_bench.py's set-up: one bind, window 100,
1000 subscribers paying for 3 services, the shipped routes):
- throughput: smsc-sim sends --count "0000" as fast as the window allows
  (a script's burst) and waits for every reply; replies/s = (count - 1) /
  (its time - the time of a 1-MO script), both on the same processes, so
  the bind and start-up cancel out;
- CPU-seconds per 1,000 "0000": utime + stime (/proc) of the daemon and of
  every redis-server of the layout over the same two scripts (difference
  over count - 1 MOs), nothing else (not the simulator);
- latency at a fixed rate: smsc-sim --load offers "0000" at --rate (1,000)
  MOs/s for --seconds; p50 / p99 of MO sent -> reply received (the
  simulator's latency_us, as bench/ack_latency.py reports it);
- instructions per "0000" in the daemon: bind_bench.py's callgrind report
  (difference of two runs) on that layout (skipped with --no-callgrind;
  bind_bench's one-server runs use a Redis without AOF: the daemon's
  instructions do not depend on it).

The machine's load average is printed before and after: on a shared
machine, throughput and latency move with the other processes.

Usage: bench/scale_bench.py [--count N] [--rate R] [--seconds S]
                            [--layouts one,cluster,wait1,cluster1] [--no-callgrind]
                            [--build DIR]
"""
import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import bind_bench  # noqa: E402
import cluster_harness  # noqa: E402
import harness  # noqa: E402
from harness import free_port, wait_for  # noqa: E402

WINDOW = 100
# name: (what the table says, cluster?, wait_replicas)
LAYOUTS = {
    "one": ("one redis-server", False, 0),
    "cluster": ("cluster, 3 masters (3+0)", True, 0),
    "wait1": ("one server + 1 replica, wait_replicas 1", False, 1),
    "cluster1": ("cluster 3+3, wait_replicas 1", True, 1),
}


def aof_server(run, name, extra=()):
    """A redis-server with AOF everysec in its own directory: its port."""
    port = free_port()
    d = os.path.join(run.work, name)
    os.makedirs(d, exist_ok=True)
    run.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "yes", "--appendfsync", "everysec", "--dir", d] +
              list(extra))
    wait_for(lambda: harness.Env._redis_ping(port), 10, name)
    return port


@contextlib.contextmanager
def layout(run, cluster, wait):
    """Start and seed a layout: yields (redis.url, [redis-server pids])."""
    if cluster:
        cl = cluster_harness.Cluster(masters=3, replicas=wait)
        try:
            cl.start()
            bind_bench.seed_cluster(cl, bind_bench.SUBSCRIBERS)
            for p in cl.masters(fresh=True) if wait else ():
                cluster_harness.ask(p, "WAIT", wait, 30000)
            yield cl.url(), [p.p.pid for p in cl.procs.values()]
        finally:
            cl.stop()
        return
    port = aof_server(run, "redis")
    for i in range(wait):
        aof_server(run, "replica%d" % i, ["--replicaof", "127.0.0.1", str(port)])
    if wait:
        r = harness.Redis(port)
        wait_for(lambda: "connected_slaves:%d" % wait in r("INFO", "replication"), 20,
                 "replicas")
        r.close()
    bind_bench.seed(run.work, run.build, port)
    bind_bench.replicas_synced(port, wait)
    yield ("redis://127.0.0.1:%d" % port,
           [p.p.pid for p in run.procs if p.name.startswith(("redis", "replica"))])


def burst(run, sport, n, pids):
    """n "0000" through a scripted sim: (seconds, CPU-seconds of pids)."""
    script = ("wait_bound 60000\nburst --spread %d %d 13800000000 0000\n"
              "expect_count * %d 600000\n" % (bind_bench.SUBSCRIBERS, n, n))
    t, cpu = run.sim_script(sport, script, name="burst%d" % n, pids=pids)
    return t, cpu


def fixed_rate(run, sport, rate, seconds):
    """smsc-sim --load at rate "0000"/s: its --json report."""
    report = os.path.join(run.work, "load.json")
    sim = run.start("load", [os.path.join(run.build, "tools", "smsc-sim"), "--listen",
                             "127.0.0.1:%d" % sport, "--load", "--json", report,
                             "--log-level", "warn", "--subscribers",
                             str(bind_bench.SUBSCRIBERS), "--from", "13800000000",
                             "--mix", "0000:100", "--rate", str(rate), "--duration",
                             str(seconds), "--seed", "7"])
    sim.wait(seconds + 120)
    run.stop(sim)
    with open(report) as f:
        return json.load(f)


def measure(work, build, name, count, rate, seconds):
    """One layout: {replies_s, cpu_per_1000, daemon_per_1000, p50_ms, p99_ms, errors}."""
    _, cluster, wait = LAYOUTS[name]
    with benchlib.Run(work, build) as run, layout(run, cluster, wait) as (url, rpids):
        sport = free_port()
        d = run.daemon(run.daemon_config(bind_bench.config_head(sport, url, WINDOW, wait),
                                         "scale.yaml"))
        pids = {"daemon": d.p.pid}
        pids.update(("redis%d" % i, p) for i, p in enumerate(rpids))
        burst(run, sport, 1, pids)          # warm-up: the bind, the scripts loaded
        t1, c1 = burst(run, sport, 1, pids)
        tn, cn = burst(run, sport, count, pids)
        used = {k: cn[k] - c1[k] for k in pids}
        per = 1000.0 / (count - 1)
        rep = fixed_rate(run, sport, rate, seconds)
        lat = rep["latency_us"]
        return {"replies_s": (count - 1) / max(tn - t1, 1e-9),
                "cpu_per_1000": sum(used.values()) * per,
                "daemon_per_1000": used["daemon"] * per,
                "p50_ms": lat["p50"] / 1000.0, "p99_ms": lat["p99"] / 1000.0,
                "sent": rep["sent"], "errors": rep["errors"]["total"]}


def instructions(work, build, name):
    _, cluster, wait = LAYOUTS[name]
    with contextlib.redirect_stdout(sys.stderr):   # its report, not the table
        per = bind_bench.callgrind_report(work, build, WINDOW, "0000", cluster=cluster,
                                          wait_replicas=wait)
    return per["total"]


def table(rows, base):
    out = ["| layout | \"0000\" replies/s (max rate) | vs one server | CPU-s per 1,000 "
           "(daemon + redis) | of which daemon | p50 / p99 at %d/s (ms) | instructions "
           "per \"0000\" (daemon) |" % rows[0][1]["rate"],
           "|---|---|---|---|---|---|---|"]
    for name, m in rows:
        ins = "%s" % format(round(m["instructions"]), ",") if m.get("instructions") else "-"
        out.append("| %s | %s | %.2fx | %.3f | %.3f | %.1f / %.1f | %s |"
                   % (LAYOUTS[name][0], format(round(m["replies_s"]), ","),
                      m["replies_s"] / base, m["cpu_per_1000"], m["daemon_per_1000"],
                      m["p50_ms"], m["p99_ms"], ins))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20000, help='"0000" MOs of the throughput burst')
    ap.add_argument("--rate", type=int, default=1000, help="MOs/s of the latency run")
    ap.add_argument("--seconds", type=int, default=10, help="length of the latency run")
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    names = a.layouts.split(",")
    if names[0] != "one" or any(n not in LAYOUTS for n in names):
        raise SystemExit("--layouts: names from %s, starting with one" % ",".join(LAYOUTS))
    build = os.path.abspath(a.build)
    load0 = os.getloadavg()
    rows = []
    for name in names:
        work = tempfile.mkdtemp(prefix="sc-scale-")
        try:
            sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), LAYOUTS[name][0]))
            m = measure(work, build, name, a.count, a.rate, a.seconds)
            m["rate"] = a.rate
            if not a.no_callgrind:
                m["instructions"] = instructions(work, build, name)
            sys.stderr.write("  %s\n" % json.dumps(m))
            rows.append((name, m))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    load1 = os.getloadavg()
    print("%d \"0000\" per throughput burst, latency at %d/s for %d s, one bind (window %d), "
          "%d CPUs, load average %.2f %.2f %.2f before, %.2f %.2f %.2f after"
          % (a.count, a.rate, a.seconds, WINDOW, os.cpu_count(), *load0, *load1))
    print()
    print(table(rows, rows[0][1]["replies_s"]))
    bad = [(n, m["errors"]) for n, m in rows if m["errors"]]
    if bad:
        print("\nerrors in the latency runs: %s" % bad)


if __name__ == "__main__":
    main()
