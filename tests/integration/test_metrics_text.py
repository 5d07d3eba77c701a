"""test_metrics_text.py -- base/metrics.c's rendering, parsed back by a real
Prometheus text parser (python3-prometheus-client): types, help, escaped
label values, cumulative histogram buckets, values in seconds.

tests/unit/metrics_sample.c prints the registry."""
import os
import subprocess
import unittest

import prom

BUILD = os.environ.get("SC_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))


class MetricsText(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        exe = os.path.join(BUILD, "tests", "metrics_sample")
        cls.text = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
        cls.smp = prom.samples(cls.text)
        cls.fam = prom.families(cls.text)

    def test_types_and_help(self):
        self.assertEqual(self.fam["shortcoded_mo"], ("counter", "MOs \\ by route\nand outcome."))
        self.assertEqual(self.fam["shortcoded_bind_up"][0], "gauge")
        self.assertEqual(self.fam["shortcoded_mo_duration_seconds"][0], "histogram")
        self.assertEqual(self.fam["process_cpu_seconds"][0], "counter")
        # A labelled family with no series yet is still declared.
        self.assertEqual(self.fam["shortcoded_receipts"], ("counter", "None yet."))

    def test_values_and_escaping(self):
        v = prom.value
        self.assertEqual(v(self.smp, "shortcoded_mo_total", route="vas_list", outcome="reply"), 3)
        self.assertEqual(v(self.smp, "shortcoded_mo_total", route='we"ird\\ro\nute',
                           outcome="temporary_error"), 1)
        self.assertEqual(v(self.smp, "shortcoded_bind_up", bind="smsc1/rx"), 1)
        self.assertEqual(v(self.smp, "shortcoded_bind_up", bind="smsc2"), -2)
        self.assertEqual(v(self.smp, "process_cpu_seconds_total"), 1.234567)

    def test_histogram(self):
        name = "shortcoded_mo_duration_seconds"
        want = {"0.0001": 2, "0.001": 3, "0.0025": 4, "1.0": 4, "+Inf": 5}
        got = {}
        for (n, labels), val in self.smp.items():
            d = dict(labels)
            if n == name + "_bucket" and d["route"] == "vas_list":
                got[d["le"]] = val
        # The parser keeps le as written; normalise the numbers.
        got = {k if k == "+Inf" else str(float(k)): val for k, val in got.items()}
        want = {k if k == "+Inf" else str(float(k)): val for k, val in want.items()}
        self.assertEqual(got, want)
        self.assertEqual(prom.value(self.smp, name + "_count", route="vas_list"), 5)
        self.assertAlmostEqual(prom.value(self.smp, name + "_sum", route="vas_list"), 3.002251)


if __name__ == "__main__":
    unittest.main()
