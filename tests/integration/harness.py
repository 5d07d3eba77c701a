"""harness.py -- integration-test helpers: real redis-server, smsc-sim and
shortcoded as child processes on free loopback ports, always stopped.

Every process's output goes to a file in the test's temporary directory. At
teardown the harness fails the test if a process it started died of a
signal it did not send, or if its output holds a sanitizer report, so every
integration test is also a memory-safety test when run from the ASan build.
A test that failed prints the tail of every process's output to stderr (and
keeps its directory); SC_KEEP_LOGS=1 does so for passing tests too.
test_harness.py checks this on a deliberately failing throwaway test.
"""
import atexit
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.path.abspath(os.environ.get("SC_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build")))
SRC = os.path.abspath(os.environ.get("SC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
DAEMON = os.path.join(BUILD, "shortcoded")
SIM = os.path.join(BUILD, "tools", "smsc-sim")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# Sockets that hold the ports free_port() gave out, for the life of the
# test process (closed at exit, quietly).
_reserved_ports = []
atexit.register(lambda: [s.close() for s in _reserved_ports])


def free_port():
    """A loopback port that stays ours until this process exits: the socket
    the kernel chose it for stays bound, with SO_REUSEADDR and never
    listening. Linux then gives the port to no other bind(0) and no
    outgoing connect, and refuses a bind to it without SO_REUSEADDR; the
    children we start on it (redis-server, smsc-sim via libuv) set
    SO_REUSEADDR and listen on it as if it were free, as often as a test
    restarts them. So a port found free cannot be taken by a parallel test
    before the child binds it (closing the socket first left that window).
    The ports are not handed back: a test process uses a few dozen."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    _reserved_ports.append(s)
    return s.getsockname()[1]


def asan_build():
    """Whether the daemon under test was built with AddressSanitizer."""
    with open(DAEMON, "rb") as f:
        return b"__asan_init" in f.read()


def log_time(ts):
    """A daemon log line's timestamp (2026-11-22T03:10:00.123Z, UTC) as
    seconds since the epoch."""
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def wait_for(pred, timeout, what, interval=0.02):
    """Poll pred() until it returns something truthy; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def tps_worst_window(sessions, tps, window, late=0):
    """Token-bucket accounting of the submit_sm (and data_sm) arrival times
    smsc-sim's --stats records per session (submit_ms): in every window of
    every session at most burst + tps * (window length) + slack may arrive,
    burst = max(1, tps / 10) (the esme's bucket, full at each bind) and
    slack = window + late + 1. Why the slack: the simulator stamps a PDU
    when it reads it (loop time, ms), so a stall on its side, or on the
    way, bunches what the daemon paced. Only PDUs still unanswered can
    bunch; the daemon keeps at most `window` unanswered, plus those it gave
    up waiting for (submit_timeout) that the simulator had not read (`late`:
    the caller counts timeouts beyond the resps the simulator dropped on
    purpose); 1 for the two clocks cut to the ms. A slow machine only
    spreads arrivals further, so this counts events and never compares
    with wall-clock speed. Returns the worst window over the sessions:
    (excess over the allowance, <= 0 when kept; session id; count; ms)."""
    burst = max(1, tps // 10)
    allowance = burst + window + late + 1
    worst = (float("-inf"), None, 0, 0)
    for sess in sessions:
        t = sess["submit_ms"]
        if len(t) != sess["submit_sm_received"] + sess["data_sm_received"] or t != sorted(t):
            raise AssertionError("session %s: submit_ms incomplete or out of order" % sess["id"])
        # count(i..j) - tps * (t[j] - t[i]) is (j + 1 - tps t[j]) - (i - tps
        # t[i]): the worst window ending at j starts at the i <= j with the
        # smallest i - tps t[i].
        lo, lo_i = None, 0
        for j, tj in enumerate(t):
            v = j - tps * tj / 1000.0
            if lo is None or v < lo:
                lo, lo_i = v, j
            excess = (j + 1 - tps * tj / 1000.0) - lo - allowance
            if excess > worst[0]:
                worst = (round(excess, 2), sess["id"], j - lo_i + 1, tj - t[lo_i])
    return worst


class RedisViews:
    """What tests read, over any client whose call sends one command and
    returns its reply (Redis below, cluster_harness.ClusterRedis)."""

    def hgetall(self, key):
        r = self("HGETALL", key)
        return dict(zip(r[0::2], r[1::2]))

    def keys(self):
        return sorted(self("KEYS", "*"))

    def stream(self, key):
        """[(id, {field: value})] oldest first."""
        return [(e[0], dict(zip(e[1][0::2], e[1][1::2]))) for e in self("XRANGE", key, "-", "+")]


class Redis(RedisViews):
    """A minimal RESP2 client (stdlib only) for checking what tests stored.
    Connects on first use (then AUTH / SELECT when given). Bulk strings come
    back as str (invalid UTF-8 kept via surrogateescape); an error reply
    raises RuntimeError."""

    def __init__(self, port, password=None, db=0):
        self.port, self.password, self.db = port, password, db
        self.s = None

    def _conn(self):
        if self.s is None:
            self.s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.f = self.s.makefile("rb")
            if self.password:
                self("AUTH", self.password)
            if self.db:
                self("SELECT", self.db)
        return self.s

    def close(self):
        if self.s:
            self.f.close()
            self.s.close()
            self.s = None

    def _read(self):
        line = self.f.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode("utf-8", "surrogateescape")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RuntimeError("bad RESP line %r" % line)

    @staticmethod
    def _encode(args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        return b"".join(parts)

    def __call__(self, *args):
        self._conn().sendall(self._encode(args))
        return self._read()

    def pipeline(self, commands, batch=1000):
        """Send commands (lists of args) pipelined in batches, reading every
        reply before the next batch (an error reply raises once the batch's
        replies are read). Returns the replies."""
        replies = []
        for i in range(0, len(commands), batch):
            chunk = commands[i:i + batch]
            self._conn().sendall(b"".join(self._encode(c) for c in chunk))
            errors = []
            for _ in chunk:
                try:
                    replies.append(self._read())
                except RuntimeError as e:   # read the rest: the connection stays usable
                    errors.append(e)
            if errors:
                raise errors[0]
        return replies


def redis_pipeline(port, commands, batch=1000):
    """Redis(port).pipeline(commands) on a connection of its own."""
    r = Redis(port)
    try:
        return r.pipeline(commands, batch)
    finally:
        r.close()


def put_service(r, code, name, fee, provider=None):
    """A catalogue entry as shortcodectl writes it: the vas:svc:CODE hash and
    its member of the vas:catalogue set (which the daemon reads)."""
    r("HSET", "vas:svc:" + code, "name", name, "price_fen", fee, "provider",
      provider if provider is not None else "SP" + code)
    r("SADD", "vas:catalogue", code)


class Proc:
    """A child process with its combined output in a log file."""

    def __init__(self, name, argv, workdir, env=None, stdin=None):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.log = open(self.log_path, "wb")
        self.argv = argv
        self.expected_signal = None
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                  env=env, cwd=workdir)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def count(self, pattern):
        return len(re.findall(pattern, self.output()))

    def wait_log(self, pattern, timeout=10, count=1):
        """Wait until the output shows pattern count times; fail at once
        when the process exited before it did."""
        def shown():
            if self.count(pattern) >= count:
                return True
            if not self.alive() and self.count(pattern) < count:
                raise AssertionError("%s exited (status %s) before its log showed %r x%d"
                                     % (self.name, self.p.returncode, pattern, count))
            return False
        return wait_for(shown, timeout, "%s log to show %r x%d" % (self.name, pattern, count))

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            self.expected_signal = sig
        self.p.send_signal(sig)

    def wait(self, timeout=10):
        return self.p.wait(timeout=timeout)

    def stop(self):
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.p.wait()
        self.log.close()

    def problems(self):
        """Reasons this process's run is a failure, or []."""
        out = []
        text = self.output()
        for mark in SANITIZER_MARKS:
            if mark in text:
                out.append("%s: sanitizer report (%s)" % (self.name, mark))
        rc = self.p.returncode
        if rc is not None and rc < 0 and -rc != self.expected_signal:
            out.append("%s: died of signal %d" % (self.name, -rc))
        return out


class Env(unittest.TestCase):
    """Base class: a temporary directory and the processes started in it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sc-it-")
        self.procs = []
        self._failures_before = self._failure_count()

    def _failure_count(self):
        """Errors and failures the running result holds so far (subtests
        included). Python 3.11 dropped _outcome.errors; since 3.4 the
        outcome has the result, which gets each failure as it happens,
        before tearDown runs."""
        result = getattr(getattr(self, "_outcome", None), "result", None)
        return len(getattr(result, "errors", ())) + len(getattr(result, "failures", ()))

    def _test_failed(self):
        """Whether this test has failed so far (called from tearDown)."""
        old = getattr(self._outcome, "errors", None)  # Python < 3.11
        if old is not None:
            return any(e for _, e in old if e)
        return self._failure_count() > getattr(self, "_failures_before", 0)

    def tearDown(self):
        problems = []
        for p in reversed(self.procs):
            p.stop()
            problems += p.problems()
        failed = self._test_failed() or problems
        if failed or os.environ.get("SC_KEEP_LOGS"):
            for p in self.procs:
                sys.stderr.write("---- %s (%s) ----\n%s\n" % (p.name, " ".join(p.argv), p.output()[-6000:]))
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems))

    def start(self, name, argv, env=None, stdin=None):
        p = Proc(name, argv, self.dir, env=env, stdin=stdin)
        self.procs.append(p)
        return p

    # ---- redis --------------------------------------------------------
    def start_redis(self, port=None, name="redis", durable=True, args=()):
        """redis-server on loopback. durable: AOF with fsync every second, as
        the daemon's redis.durability: refuse (the default) requires; False
        for Redis's own default (no AOF), which the daemon refuses."""
        port = port or free_port()
        aof = ["--appendonly", "yes", "--appendfsync", "everysec"] if durable else \
            ["--appendonly", "no"]
        p = self.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", ""] + aof + ["--dir", self.dir] + list(args))
        wait_for(lambda: self._redis_ping(port), 10, "redis to answer PING")
        p.port = port
        return p

    def start_redis_aof(self, port, name):
        """redis-server that keeps every acknowledged write (appendonly,
        fsync always) in DIR/redis-data, so a restart on the same port finds
        the data."""
        d = os.path.join(self.dir, "redis-data")
        os.makedirs(d, exist_ok=True)
        p = self.start(name, ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "yes", "--appendfsync", "always",
                              "--dir", d])
        wait_for(lambda: self._redis_ping(port), 10, "redis to answer PING")
        p.port = port
        return p

    @staticmethod
    def _redis_ping(port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    # ---- smsc-sim -----------------------------------------------------
    def start_sim(self, *args, port=0, script=None, name="sim", stats=True):
        portfile = os.path.join(self.dir, name + ".port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        argv = [SIM, "--listen", "127.0.0.1:%d" % port, "--port-file", portfile]
        if stats:
            argv += ["--stats", os.path.join(self.dir, name + ".stats.json")]
        if script is not None:
            path = os.path.join(self.dir, name + ".script")
            with open(path, "w") as f:
                f.write(script)
            argv += ["--script", path]
        argv += list(args)
        p = self.start(name, argv)
        wait_for(lambda: os.path.exists(portfile) or not p.alive(), 10, "smsc-sim to listen")
        # A short script may already have finished: only a missing port file
        # means it failed to start.
        if not os.path.exists(portfile):
            raise AssertionError("smsc-sim exited at start:\n" + p.output())
        with open(portfile) as f:
            p.port = int(f.read().strip())
        p.stats_path = os.path.join(self.dir, name + ".stats.json")
        return p

    def sim_stats(self, sim):
        with open(sim.stats_path) as f:
            return json.load(f)

    def sim_stats_until(self, sim, pred, what, timeout=20):
        """The simulator's --stats (written on SIGUSR1) once pred(stats)."""
        def poll():
            sim.signal(signal.SIGUSR1)
            try:
                st = self.sim_stats(sim)
            except (OSError, ValueError):
                return None
            return st if pred(st) else None
        return wait_for(poll, timeout, what, interval=0.1)

    # ---- shortcoded ---------------------------------------------------
    def write_config(self, smsc_port, redis_port=None, bind_extra="", extra="", binds=None,
                     limits=""):
        """A config for tests; bind_extra lines go under the bind (indented
        by the caller's text as 4 spaces), limits lines under limits:.
        Without redis_port a private
        redis-server is started for the test (the daemon answers MOs only
        with Redis up)."""
        if redis_port is None:
            if not getattr(self, "redis", None):
                self.redis = self.start_redis()
            redis_port = self.redis.port
        if binds is None:
            binds = ("  - name: smsc1\n"
                     "    host: 127.0.0.1\n"
                     "    port: %d\n"
                     "    system_id: shortcoded\n"
                     "    password: secret\n"
                     "    reconnect_min_ms: 100\n"
                     "    reconnect_max_ms: 1000\n" % smsc_port) + bind_extra
        text = ("log:\n  level: debug\n"
                "binds:\n" + binds +
                "redis:\n  url: redis://127.0.0.1:%d\n" % redis_port +
                "service_numbers: [\"10086\"]\n"
                "routes:\n  - handler: help\n"
                "templates:\n"
                "  help: \"回复0000查询包月业务，回复00000退订全部。\"\n"
                "  rate_limited: \"您发送的指令过于频繁，请稍后再试。\"\n"
                "  service_error: \"抱歉，系统暂时无法处理您的请求。\"\n"
                # Tests send bursts from one subscriber: lift the rate limit
                # unless a test sets it (limits= adds indented lines).
                "limits:\n" + (limits or "  rate_limit_count: 1000000\n") + extra)
        path = os.path.join(self.dir, "shortcoded.yaml")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def start_daemon(self, config, *args, name="shortcoded"):
        return self.start(name, [DAEMON, "-c", config] + list(args))

    def run_sim_script(self, sim, timeout=30):
        """Wait for a scripted simulator to finish; return (rc, output)."""
        try:
            rc = sim.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("smsc-sim script did not finish in %ds:\n%s" % (timeout, sim.output()))
        return rc, sim.output()


def main():
    unittest.main(verbosity=2)
