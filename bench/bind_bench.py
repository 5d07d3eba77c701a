#!/usr/bin/env python3
"""bind_bench.py -- one bind between shortcoded and smsc-sim on this machine:
the MOs (and PDUs) per second it sustains, and callgrind instructions per MO
handled, split by library.

The daemon runs the shipped routes and templates; every subscriber pays for
3 services (seeded with shortcodectl). --command 0000 (the default): each MO
is deliver_sm -> one Redis script (rate limit + read the subscriptions +
store the menu) -> deliver_sm_resp + a 2-part UCS-2 list (2 submit_sm ->
2 submit_sm_resp): 6 PDUs. --command HELP (any unknown text): the help
text, the command list in 2 parts, 6 PDUs (1 part, 4 PDUs, until the
orders and queries joined it). --parts 2 sends every MO as a long MO of 2 parts
(UDH): each part one Redis script (core/longmo.c), then the command's own.
--command CXZD: the last bill (every subscriber has an acct:{M} with cycle
202612 and a full bill:{M}:202611), one script, a 2-part UCS-2 reply with
the 3 services named; CXYE / CXLL: the lookup routes, a 1-part reply.
--command KTYD001: an order of the one catalogue service nobody has (its
prompt: 2 parts); --command Y: the confirmation of an order, seeded pending
for every subscriber (the run then has as many subscribers as MOs, so that
every "Y" confirms one).

Throughput is a difference of two runs in one script (COUNT MOs and 1 MO,
same processes set-up), so start-up and bind time cancel out. Instruction
counts are the difference of two callgrind runs (SMALL and SMALL+DELTA MOs)
divided by DELTA, so start-up costs cancel out too.

--cluster: a Redis Cluster of 3 masters (no replicas, AOF everysec) on
loopback instead of one redis-server, seeded by slot (tests/integration/
cluster_harness.py); 0000 and HELP only (the commands that need no relay).
--wait-replicas N starts N replicas of the Redis (with --cluster: of each
master) and sets redis.wait_replicas: N (store/wait.c: a WAIT after every
script).

Usage: bench/bind_bench.py [--count N] [--window W] [--command C] [--parts N] [--callgrind]
                           [--cluster] [--wait-replicas N] [--build DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
import cluster_harness  # noqa: E402
import harness  # noqa: E402
from harness import free_port, wait_for  # noqa: E402

CONFIG_URL = """log:
  level: warn
binds:
  - name: bench
    host: 127.0.0.1
    port: %(smsc)d
    system_id: shortcoded
    password: secret
    window: %(window)d
    reconnect_min_ms: 50
    reconnect_max_ms: 200
redis:
  url: %(url)s
  # The figures in docs/performance.md were measured with a Redis without
  # AOF (--appendonly no), which the daemon refuses by default.
  durability: warn
service_numbers: ["10086"]
limits:
  rate_limit_count: 1000000
"""
# With one local redis-server on %(redis)d (the other benches use this one).
CONFIG = CONFIG_URL.replace("%(url)s", "redis://127.0.0.1:%(redis)d")

SUBSCRIBERS = 1000          # smsc-sim --spread: 13800000000 ... 13800000999
SERVICES = [("CL001", "彩铃", 500), ("SJB01", "手机报", 300), ("SPHY1", "视频会员", 1500)]
ORDERABLE = ("YD001", "阅读包", 500)   # in the catalogue, subscribed by nobody
CONFIRM = ("Y", "是")

# An order of ORDERABLE pending for subscribers 13800000000 + [0, ARGV[1]),
# as "KTYD001" leaves it (handlers/order.h), for --command Y.
PENDING_LUA = """
for i = 0, tonumber(ARGV[1]) - 1 do
  local m = tostring(13800000000 + i)
  local id = 'sms:YD001:' .. i
  redis.call('HSET', 'order:{' .. m .. '}', 'id', id, 'service', 'YD001', 'channel', 'sms',
             'entry', '', 'provider', 'SPYD', 'at', '0', 'deadline', '4000000000',
             'state', 'pending', 'ended', '', 'ref', '', 'sends', '1')
  redis.call('SET', 'pending:{' .. m .. '}', 'order:' .. id)
end
return 1
"""


# What billing writes for the queries (CXYE, CXLL, CXZD): an account in the
# cycle 202612 and the bill of 202611, the same for every subscriber.
ACCT = {"balance_fen": "12345", "credit_fen": "5000", "plan": "畅享套餐", "cycle": "202612",
        "data_quota_kb": "10485760", "data_used_kb": "3250586"}
BILL = {"plan_fen": "5800", "voice_fen": "1230", "data_fen": "0", "sms_fen": "10",
        "vas_fen": "2300", "other_fen": "0", "discount_fen": "1000", "total_fen": "8340"}
# Parts of each command's reply (for the PDU count).
REPLY_PARTS = {"0000": 2, "CXZD": 2, "KTYD001": 2, "HELP": 2}


def seed_accounts(rport, nsubs):
    r = harness.Redis(rport)
    try:
        for i in range(nsubs):
            m = 13800000000 + i
            r("HSET", "acct:{%d}" % m, *[x for kv in ACCT.items() for x in kv])
            r("HSET", "bill:{%d}:202611" % m, *[x for kv in BILL.items() for x in kv])
    finally:
        r.close()


def subscribers_for(count, command):
    return max(SUBSCRIBERS, count) if command in CONFIRM else SUBSCRIBERS


def seed(work, build, rport, nsubs=SUBSCRIBERS, orders=False):
    """Every subscriber of the run pays for the 3 SERVICES (shortcodectl)
    and has an account and a bill (seed_accounts); with orders, each has an
    order of ORDERABLE pending."""
    cat = os.path.join(work, "cat.csv")
    subs = os.path.join(work, "subs.csv")
    with open(cat, "w") as f:
        f.write("code,name,price_fen,provider\n")
        f.writelines("%s,%s,%d,SP%s\n" % (s + (s[0],)) for s in SERVICES + [ORDERABLE])
    with open(subs, "w") as f:
        f.write("msisdn,code,since\n")
        for i in range(nsubs):
            for k, (code, _, _) in enumerate(SERVICES):
                f.write("%d,%s,%d\n" % (13800000000 + i, code, 1700000000 + k))
    ctl = os.path.join(build, "tools", "shortcodectl")
    url = "redis://127.0.0.1:%d" % rport
    for kind, path in (("catalogue", cat), ("subscriptions", subs)):
        subprocess.run([ctl, "--redis", url, "import", kind, path], check=True,
                       capture_output=True)
    seed_accounts(rport, nsubs)
    if orders:
        r = harness.Redis(rport)
        r("EVAL", PENDING_LUA, 0, nsubs)
        r.close()


def seed_cluster(cluster, nsubs):
    """seed() on a cluster: each key written to its slot's master."""
    r = cluster_harness.ClusterRedis(cluster)
    try:
        for code, name, fee in SERVICES + [ORDERABLE]:
            harness.put_service(r, code, name, fee)
        for i in range(nsubs):
            m = 13800000000 + i
            r("HSET", "sub:{%d}:vas" % m,
              *[x for k, (c, _, _) in enumerate(SERVICES) for x in (c, 1700000000 + k)])
    finally:
        r.close()


def start_replicas(run, rport, n):
    """n replicas of the redis on rport (redis.wait_replicas), connected."""
    for i in range(n):
        port = free_port()
        d = os.path.join(run.work, "replica%d" % i)
        os.makedirs(d, exist_ok=True)
        run.start("replica%d" % i, ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", d,
                                    "--replicaof", "127.0.0.1", str(rport)])
    if n:
        r = harness.Redis(rport)
        wait_for(lambda: "connected_slaves:%d" % n in r("INFO", "replication"), 20, "replicas")
        r.close()


def replicas_synced(rport, n):
    """Wait until n replicas have everything written so far (the seed)."""
    if n:
        r = harness.Redis(rport)
        got = r("WAIT", n, 30000)
        r.close()
        if got < n:
            raise SystemExit("only %d of %d replicas synced" % (got, n))


def config_head(sport, url, window, wait_replicas=0, extra_limits=""):
    """CONFIG_URL for this SMSC port and Redis URL, with redis.wait_replicas
    when asked and extra_limits lines appended to limits:."""
    head = CONFIG_URL % {"smsc": sport, "url": url, "window": window}
    if wait_replicas:
        head = head.replace("  durability: warn\n",
                            "  durability: warn\n  wait_replicas: %d\n" % wait_replicas)
    return head + extra_limits


def run_once(work, build, count, window, command, valgrind_out=None, parts=1, cluster=False,
             wait_replicas=0):
    """Start redis (a cluster, or one server with wait_replicas replicas),
    daemon and a scripted sim; return seconds the sim ran."""
    cl = None
    with benchlib.Run(work, build) as run:
        try:
            nsubs = subscribers_for(count, command)
            if cluster:
                cl = cluster_harness.Cluster(masters=3, replicas=wait_replicas).start()
                seed_cluster(cl, nsubs)
                for p in cl.masters(fresh=True) if wait_replicas else ():
                    cluster_harness.ask(p, "WAIT", wait_replicas, 30000)
                url = cl.url()
            else:
                rport, _ = run.redis()
                start_replicas(run, rport, wait_replicas)
                seed(work, build, rport, nsubs, orders=command in CONFIRM)
                replicas_synced(rport, wait_replicas)
                url = "redis://127.0.0.1:%d" % rport
            sport = free_port()
            run.daemon(run.daemon_config(config_head(sport, url, window, wait_replicas),
                                         "bench.yaml"), valgrind_out)
            script = ("wait_bound 60000\nburst --spread %d%s %d 13800000000 %s\n"
                      "expect_count * %d 600000\n"
                      % (nsubs, " --parts %d" % parts if parts > 1 else "", count, command, count))
            return run.sim_script(sport, script, name="bench")[0]
        finally:
            if cl:
                cl.stop()


def codec_inclusive(path):
    """Instructions spent inside smpp34_pack/smpp34_unpack, callees included."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        # "2,146,112 (32.57%)  ???:smpp34_pack [/usr/lib/.../libsmpp34.so...]"
        # (not the "=> ???:smpp34_pack (50x)" call lines of annotated sources)
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:smpp34_(?:un)?pack \[", line)
        if m:
            total += int(m.group(1).replace(",", ""))
    return total


def callgrind_report(work, build, window, command, small=200, delta=2000, parts=1, **redis):
    """Instructions per command in the daemon, split by object, from the
    difference of two callgrind runs (small and small+delta MOs); prints the
    report and returns {group: instructions per MO}."""
    per, files = benchlib.callgrind_report(
        "%s in %d part(s) (MOs)" % (command, parts), work,
        lambda n, out: run_once(work, build, n, window, command, valgrind_out=out, parts=parts,
                                **redis),
        small, delta)
    total = per["total"]
    codec = [codec_inclusive(f) for f in files]
    c = (codec[1] - codec[0]) / delta
    print("  libsmpp34 calls, inclusive (incl. the snprintf they do): %.0f per MO, "
          "%.0f%% of the total;\n  everything else: %.0f (%.2fx the codec alone)" %
          (c, 100 * c / total, total - c, total / c))
    per["libsmpp34_inclusive"] = c
    return per


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=50000)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--command", default="0000",
                    help="what every MO says: 0000 (list 3 services, a 2-part reply), "
                         "CXZD (the bill, 2 parts), CXYE, CXLL, or anything else (the help "
                         "text, 1 part)")
    ap.add_argument("--parts", type=int, default=1,
                    help="send every MO as a long MO of this many parts (UDH)")
    ap.add_argument("--cluster", action="store_true",
                    help="a 3-master Redis Cluster instead of one server (0000, HELP)")
    ap.add_argument("--wait-replicas", type=int, default=0,
                    help="start this many replicas and set redis.wait_replicas to it")
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    redis = dict(cluster=a.cluster, wait_replicas=a.wait_replicas)
    build = os.path.abspath(a.build)
    work = tempfile.mkdtemp(prefix="sc-bench-")
    try:
        base = min(run_once(work, build, 1, a.window, a.command, parts=a.parts, **redis)
                   for _ in range(3))
        full = min(run_once(work, build, a.count, a.window, a.command, parts=a.parts, **redis)
                   for _ in range(3))
        mos = (a.count - 1) / max(full - base, 1e-9)
        # deliver_sm + resp per part, submit_sm + resp per reply part (0000: 2)
        pdus = 2 * a.parts + 2 * REPLY_PARTS.get(a.command, 1)
        where = (", Redis Cluster" if a.cluster else "") + \
            (", wait_replicas %d" % a.wait_replicas if a.wait_replicas else "")
        print("one bind, window %d, command %s in %d part(s)%s: %d MOs in %.3f s (baseline 1 "
              "MO: %.3f s)" % (a.window, a.command, a.parts, where, a.count, full, base))
        print("  %.0f MOs/s = %.0f PDUs/s on the bind (%d PDUs per MO)" % (mos, pdus * mos, pdus))
        if a.callgrind:
            callgrind_report(work, build, a.window, a.command, parts=a.parts, **redis)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
