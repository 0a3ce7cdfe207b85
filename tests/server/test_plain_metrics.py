"""Pure: the lock-free families (server/plain_metrics.py) expose exactly what
prometheus-client's own Counter and Histogram expose for the same observations (bounds
inclusive, values above the top bound in +Inf), bar the optional ``_created`` series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from imagechat_tui.server.plain_metrics import PlainCollector, PlainCounter, PlainHistogram

BOUNDS = (0.001, 0.01, 0.1, 1.0)
VALUES = [0.0, 0.0005, 0.001, 0.0010001, 0.01, 0.05, 0.1, 0.99, 1.0, 1.5, 30.0]


def _samples(registry: CollectorRegistry) -> set[tuple[str, frozenset[tuple[str, str]], float]]:
    text = generate_latest(registry).decode()
    return {
        (s.name, frozenset(s.labels.items()), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_a_plain_histogram_equals_prometheus_clients() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("lat_seconds", "h", ["outcome"], buckets=BOUNDS, registry=theirs)
    plain = PlainHistogram("lat_seconds", "h", BOUNDS, ["outcome"])
    ours.register(PlainCollector([plain]))
    for i, value in enumerate(VALUES):
        outcome = "ok" if i % 3 else "failed"
        reference.labels(outcome).observe(value)
        plain.child(outcome).observe(value)
    assert _samples(ours) == _samples(theirs)


def test_a_plain_counter_equals_prometheus_clients() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Counter("events", "c", ["tenant", "stage"], registry=theirs)
    plain = PlainCounter("events", "c", ["tenant", "stage"])
    unlabelled_ref = Histogram("batch", "b", buckets=(1, 2, 4), registry=theirs)
    unlabelled = PlainHistogram("batch", "b", (1, 2, 4))
    ours.register(PlainCollector([plain, unlabelled]))
    for tenant, stage, n in [("a", "wire", 3), ("b", "payload", 10), ("a", "wire", 4)]:
        reference.labels(tenant, stage).inc(n)
        plain.child(tenant, stage)[0] += n
    for n in (1, 3, 3, 9):
        unlabelled_ref.observe(n)
        unlabelled.child().observe(n)
    assert _samples(ours) == _samples(theirs)
