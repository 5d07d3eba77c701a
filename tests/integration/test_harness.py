"""test_harness.py -- the harness itself: a failing test dumps the output of
the processes it started, a passing one does not (so a failure in CI shows
what the daemon, simulator and Redis said)."""
import os
import socket
import subprocess
import sys
import tempfile
import textwrap

import harness

# A throwaway test module run in a child interpreter: one test that fails on
# purpose, one that passes, one that errors; each starts a process that
# prints a marker and exits.
CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, %r)
    import unittest
    import harness

    class Throwaway(harness.Env):
        def run_marker(self, name):
            p = self.start(name, ["sh", "-c", "echo marker-" + name])
            harness.wait_for(lambda: p.p.poll() is not None, 10, name + " to exit")

        def test_fails(self):
            self.run_marker("failing")
            self.assertEqual(1, 2, "deliberate failure")

        def test_errors(self):
            self.run_marker("erroring")
            raise RuntimeError("deliberate error")

        def test_passes(self):
            self.run_marker("passing")

    unittest.main(verbosity=2)
""")


class HarnessTest(harness.Env):
    def run_child(self):
        path = os.path.join(self.dir, "throwaway.py")
        with open(path, "w") as f:
            f.write(CHILD % os.path.dirname(os.path.abspath(harness.__file__)))
        env = dict(os.environ)
        env.pop("SC_KEEP_LOGS", None)
        return subprocess.run([sys.executable, path], capture_output=True, text=True,
                              env=env, timeout=60, cwd=tempfile.gettempdir())

    def test_failing_test_dumps_process_logs(self):
        p = self.run_child()
        out = p.stderr
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn("deliberate failure", out)
        # The dump: a header per process, then its output.
        self.assertIn("---- failing (sh -c echo marker-failing) ----\nmarker-failing", out)
        self.assertIn("---- erroring (sh -c echo marker-erroring) ----\nmarker-erroring", out)
        # A passing test keeps quiet even when another test of the run failed.
        self.assertNotIn("marker-passing", out)

    def test_free_port_stays_ours_until_a_child_listens(self):
        """A port free_port() gave cannot be taken by a parallel test between
        the choice and the child's bind: the kernel gives it to no bind(0)
        and refuses a plain bind, while redis-server (SO_REUSEADDR, as
        libuv's smsc-sim) listens on it, twice in a row."""
        port = harness.free_port()
        others = []
        try:
            for _ in range(500):
                s = socket.socket()
                others.append(s)
                s.bind(("127.0.0.1", 0))
                self.assertNotEqual(s.getsockname()[1], port)
        finally:
            for s in others:
                s.close()
        with socket.socket() as s:
            with self.assertRaises(OSError):
                s.bind(("127.0.0.1", port))
        for name in ("redis-a", "redis-b"):
            r = self.start_redis(port=port, name=name, durable=False)
            c = harness.Redis(port)
            self.assertEqual(c("PING"), "PONG")
            c.close()
            r.stop()


if __name__ == "__main__":
    harness.main()
