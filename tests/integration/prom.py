"""prom.py -- the Prometheus text parser of Debian's python3-prometheus-client,
and what the metrics tests share.

The Debian package installs into /usr/lib/python3/dist-packages, which a
python3 that is not Debian's own (pyenv, a venv) does not search: it is
added at the end of sys.path when the first import fails."""
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover - depends on the machine's python3
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families  # noqa: E402


def samples(text):
    """{(sample name, frozenset of label items): value} of every sample in text."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def families(text):
    """{family name: (type, help)} as the parser names them (a counter's
    family drops its _total)."""
    return {f.name: (f.type, f.documentation) for f in text_string_to_metric_families(text)}


def value(smp, name, **labels):
    """The value of sample name with exactly labels, or None."""
    return smp.get((name, frozenset(labels.items())))
