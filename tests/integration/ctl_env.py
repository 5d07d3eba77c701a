"""ctl_env.py -- the setUp the shortcodectl tests share (test_shortcodectl.py,
test_billrun.py, test_ctl_cluster.py): a store to run the tool against, a
client for it (self.r), and self.ctl() running the tool with --redis."""
import os
import subprocess

import harness

CTL = os.path.join(harness.BUILD, "tools", "shortcodectl")


class CtlEnv(harness.Env):
    """A redis-server per test; a subclass on a cluster overrides
    start_store (and sets self.url and self.r there)."""

    def setUp(self):
        super().setUp()
        self.start_store()

    def start_store(self):
        self.redis = self.start_redis()
        self.url = "redis://127.0.0.1:%d" % self.redis.port
        self.r = harness.Redis(self.redis.port)

    def tearDown(self):
        self.r.close()
        super().tearDown()

    def ctl(self, *args, url=None, env=None, timeout=120):
        """Run shortcodectl (url "" : without --redis); return (rc, stdout,
        stderr) as text. No sanitizer report may appear."""
        argv = [CTL] + (["--redis", url or self.url] if url != "" else []) + list(args)
        e = dict(os.environ, TZ="UTC")
        e.update(env or {})
        p = subprocess.run(argv, capture_output=True, env=e, cwd=self.dir, timeout=timeout)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        for mark in harness.SANITIZER_MARKS:
            self.assertNotIn(mark, out + err)
        return p.returncode, out, err

    def ctl_bg(self, name, *args):
        """shortcodectl with --progress as a harness.Proc (stopped at tearDown)."""
        return self.start(name, [CTL, "--redis", self.url, "--progress"] + list(args))
