#!/usr/bin/env python3
"""push_bench.py -- pushed one-part MTs from mt:push to smsc-sim through one
bind on this machine: MTs per second, and callgrind instructions per push in
the daemon, split by library.

COUNT entries (one-part GSM texts, distinct ids, priority 5) are XADDed to
mt:push before the daemon starts; the run ends when the simulator has
received all of them. Throughput is a difference of two runs (COUNT and 1
push, same set-up), so start-up and bind time cancel out; instruction
counts are the difference of two callgrind runs (SMALL and SMALL+DELTA
pushes) divided by DELTA, as bench/bind_bench.py does. --vs-bind also runs
bind_bench's HELP command (one MO, one script, a 2-part reply) in the same
run and prints the ratio of the two rates.

Usage: bench/push_bench.py [--count N] [--window W] [--callgrind] [--vs-bind] [--build DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import bind_bench  # noqa: E402
import callgrind_split  # noqa: E402
import harness  # noqa: E402
from harness import Proc, free_port, wait_for  # noqa: E402
from test_push import xadd_many  # noqa: E402

CONFIG = bind_bench.CONFIG + """mt:
  max_queued: %(queued)d
  read_count: 500
"""
DEST = "13000000000"
NO_RECEIPTS = False  # --no-receipts


def run_once(work, build, count, window, valgrind_out=None):
    """Start redis (COUNT pushes in mt:push), daemon and a scripted sim;
    return the seconds the sim ran."""
    procs = []
    try:
        rport = free_port()
        procs.append(Proc("redis", ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", work], work))
        wait_for(lambda: harness.Env._redis_ping(rport), 10, "redis")
        xadd_many(rport, [{"id": "b%d" % i, "to": DEST, "text": "Your bill is ready %d" % i}
                          for i in range(count)])
        sport = free_port()
        cfg = os.path.join(work, "push.yaml")
        with open(os.path.join(HERE, "..", "config", "shortcoded.yaml"), encoding="utf-8") as sh:
            shipped = sh.read()
        with open(cfg, "w") as f:
            # The shipped routes and templates (the daemon needs them to start).
            f.write(CONFIG % {"smsc": sport, "redis": rport, "window": window,
                              "queued": 10 * window} +
                    ("  receipts: []\n" if NO_RECEIPTS else "") +
                    shipped[shipped.index("\nroutes:"):shipped.index("\nlimits:")])
        daemon = [os.path.join(build, "shortcoded"), "-c", cfg]
        if valgrind_out:
            daemon = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + valgrind_out] + daemon
        procs.append(Proc("shortcoded", daemon, work))
        script = os.path.join(work, "push.script")
        with open(script, "w") as f:
            f.write("wait_bound 60000\nexpect_count %s %d 600000\n" % (DEST, count))
        t0 = time.monotonic()
        sim = Proc("sim", [os.path.join(build, "tools", "smsc-sim"), "--listen",
                           "127.0.0.1:%d" % sport, "--script", script, "--log-level", "warn"],
                   work)
        procs.append(sim)
        rc = sim.wait(900)
        elapsed = time.monotonic() - t0
        if rc != 0:
            raise SystemExit("smsc-sim script failed:\n" + sim.output()[-3000:] +
                             "\nshortcoded:\n" + procs[1].output()[-3000:])
        return elapsed
    finally:
        for p in reversed(procs):
            p.stop()


def callgrind_report(work, build, window, small=200, delta=2000):
    outs = []
    for n in (small, small + delta):
        out = os.path.join(work, "callgrind.%d" % n)
        run_once(work, build, n, window, valgrind_out=out)
        outs.append(callgrind_split.split(out))
    per = {}
    for ob in set(outs[0]) | set(outs[1]):
        g = callgrind_split.group(ob)
        per[g] = per.get(g, 0) + (outs[1].get(ob, 0) - outs[0].get(ob, 0)) / delta
    total = sum(per.values())
    print("callgrind, daemon, instructions per pushed one-part MT (difference of %d and %d "
          "pushes):" % (small, small + delta))
    for g, v in sorted(per.items(), key=lambda kv: -kv[1]):
        if abs(v) >= 1:
            print("  %-14s %8.0f  (%4.1f%%)" % (g, v, 100 * v / total))
    print("  %-14s %8.0f" % ("total", total))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--vs-bind", action="store_true")
    ap.add_argument("--no-receipts", action="store_true",
                    help="mt.receipts: [] (no registered_delivery, no mt:msg map)")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    global NO_RECEIPTS
    NO_RECEIPTS = a.no_receipts
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sc-push-bench-")
    try:
        base = min(run_once(work, build, 1, a.window) for _ in range(3))
        full = min(run_once(work, build, a.count, a.window) for _ in range(3))
        rate = (a.count - 1) / max(full - base, 1e-9)
        print("one bind, window %d: %d pushes in %.3f s (baseline 1 push: %.3f s)" %
              (a.window, a.count, full, base))
        print("  %.0f pushed MTs/s (submit_sm + resp: %.0f PDUs/s)" % (rate, 2 * rate))
        if a.vs_bind:
            bb = min(bind_bench.run_once(work, build, 1, a.window, "HELP") for _ in range(3))
            bf = min(bind_bench.run_once(work, build, a.count, a.window, "HELP")
                     for _ in range(3))
            mos = (a.count - 1) / max(bf - bb, 1e-9)
            print("  bind_bench HELP, same run: %.0f MOs/s (%.0f reply MTs/s); pushes/s : "
                  "MOs/s = %.2f" % (mos, 2 * mos, rate / mos))
        if a.callgrind:
            callgrind_report(work, build, a.window)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
