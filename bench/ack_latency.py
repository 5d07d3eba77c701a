#!/usr/bin/env python3
"""ack_latency.py -- what limits.ack_policy costs an MO: p50/p99 of the time
from a deliver_sm to its deliver_sm_resp ESME_ROK (smsc-sim --load
ack_latency_us), and of the reply, for after_store and after_reply on one
bind, same daemon, same offered load, one run each.

The daemon runs the shipped routes and templates (bind_bench.py's set-up:
1000 subscribers paying for 3 services); the simulator offers "0000" at
--rate MOs/s for --duration s (each MO answered by a 2-part UCS-2 list).
--resp-delay-ms makes the SMSC answer every submit_sm that late (an SMSC
farther away than loopback: after_reply's cost grows with it).

--wait-replicas 0,1 repeats each run with that many replicas of the Redis
and redis.wait_replicas set to it (store/wait.c), for the cost of WAIT.

Usage: bench/ack_latency.py [--rate R] [--duration S] [--resp-delay-ms N]
                            [--policy after_store,after_reply] [--wait-replicas 0,1]
                            [--mix SPEC] [--build DIR]
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import bind_bench  # noqa: E402
from harness import free_port  # noqa: E402


def run(work, build, policy, rate, duration, resp_delay_ms, window, wait_replicas=0,
        mix="0000:100"):
    """One run; returns the simulator's --json report."""
    with benchlib.Run(work, build) as r:
        rport, _ = r.redis()
        bind_bench.start_replicas(r, rport, wait_replicas)
        bind_bench.seed(work, build, rport)
        bind_bench.replicas_synced(rport, wait_replicas)
        sport = free_port()
        head = bind_bench.config_head(sport, "redis://127.0.0.1:%d" % rport, window,
                                      wait_replicas, "  ack_policy: %s\n" % policy)
        r.daemon(r.daemon_config(head, "ack.yaml"))
        report = os.path.join(work, "load.json")
        sim = r.start("sim", [os.path.join(build, "tools", "smsc-sim"), "--listen",
                              "127.0.0.1:%d" % sport, "--load", "--json", report,
                              "--log-level", "warn", "--subscribers", str(bind_bench.SUBSCRIBERS),
                              "--from", "13800000000", "--mix", mix, "--rate", str(rate),
                              "--duration", str(duration), "--seed", "7",
                              "--resp-delay-ms", str(resp_delay_ms)])
        sim.wait(duration + 120)
        with open(report) as f:
            return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--resp-delay-ms", type=int, default=0)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--policy", default="after_store,after_reply")
    ap.add_argument("--wait-replicas", default="0",
                    help="comma-separated redis.wait_replicas values, each a run with that "
                         "many replicas, e.g. 0,1")
    ap.add_argument("--mix", default="0000:100", help="smsc-sim --mix, e.g. 0000:50,cancel:50")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    print("one bind, window %d, %s at %d MO/s for %d s, submit_sm_resp %d ms late"
          % (a.window, a.mix, a.rate, a.duration, a.resp_delay_ms))
    for policy in a.policy.split(","):
        for w in [int(x) for x in a.wait_replicas.split(",")]:
            with tempfile.TemporaryDirectory(prefix="ack-") as work:
                rep = run(work, a.build, policy, a.rate, a.duration, a.resp_delay_ms, a.window,
                          w, a.mix)
            ack, lat = rep["ack_latency_us"], rep["latency_us"]
            print("  %-11s wait_replicas %d: MO ack p50 %6d us  p99 %6d us | reply p50 %6d us  "
                  "p99 %6d us | %d MOs, errors %d"
                  % (policy, w, ack["p50"], ack["p99"], lat["p50"], lat["p99"], rep["sent"],
                     rep["errors"]["total"]))


if __name__ == "__main__":
    main()
