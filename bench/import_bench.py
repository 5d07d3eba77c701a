#!/usr/bin/env python3
"""import_bench.py -- `shortcodectl import subscriptions` of a generated CSV
(COUNT rows) into a private redis-server, or a 3-master Redis Cluster with
--cluster: rows per second and the tool's CPU-seconds, best of --repeat.
Several --ctl binaries are measured in turns in the same run (e.g. the one
of main and the one of a branch), so that the machine's load falls on each
alike; the keyspace is emptied before each import. Not part of CI.

Usage: bench/import_bench.py [--count N] [--repeat R] [--cluster]
                             [--ctl PATH ...] [--build DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import cluster_harness  # noqa: E402
import harness  # noqa: E402


def write_csv(path, count):
    with open(path, "w") as f:
        f.write("msisdn,code,since\n")
        for i in range(count):
            f.write("%d,%d,1700000000\n" % (13900000000 + i // 2, 1001 + i % 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=500000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cluster", action="store_true")
    ap.add_argument("--ctl", action="append")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    ctls = a.ctl or [os.path.join(a.build, "tools", "shortcodectl")]
    work = tempfile.mkdtemp(prefix="sc-import-bench-")
    csv = os.path.join(work, "subs.csv")
    write_csv(csv, a.count)
    best = {c: (0.0, 0.0) for c in ctls}
    cluster = None
    try:
        with benchlib.Run(work, a.build) as run:
            if a.cluster:
                cluster = cluster_harness.Cluster(replicas=0).start()
                url, flush = cluster.url(), cluster.flush
            else:
                port, _ = run.redis()
                url = "redis://127.0.0.1:%d" % port
                r = harness.Redis(port)
                flush = lambda: r("FLUSHALL")  # noqa: E731
            for _ in range(a.repeat):
                for c in ctls:
                    flush()
                    cpu0, t0 = benchlib.children_cpu_s(), time.monotonic()
                    p = subprocess.run([c, "--redis", url, "import", "subscriptions", csv],
                                       capture_output=True, text=True)
                    dt, cpu = time.monotonic() - t0, benchlib.children_cpu_s() - cpu0
                    if p.returncode != 0 or not re.search(r"imported %d " % a.count, p.stderr):
                        sys.exit("%s failed: %s" % (c, p.stderr))
                    rate = a.count / dt
                    if rate > best[c][0]:
                        best[c] = (rate, cpu)
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("import subscriptions, %d rows, %s, best of %d:" %
          (a.count, "3-master cluster" if a.cluster else "one redis-server", a.repeat))
    for c in ctls:
        print("  %-40s %9.0f rows/s  %6.2f CPU-s (tool)" % (c, best[c][0], best[c][1]))


if __name__ == "__main__":
    main()
