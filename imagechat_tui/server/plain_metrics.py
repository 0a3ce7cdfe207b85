"""Counters and histograms the hot path adds to as plain numbers, exposed through
``prometheus-client``'s collector interface.

A ``prometheus_client`` ``Counter.inc`` or ``Histogram.observe`` takes a lock (and
``labels()`` a lookup under another), which costs ten to a hundred times a dict
increment; these families are added to only on the node's event loop, which is also
where a scrape reads them, so no lock is needed. A child is looked up once per label
set and kept by the caller. The exposition is ``prometheus-client``'s own (the
``*MetricFamily`` types), without the optional ``_created`` series.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import cast

from prometheus_client import utils
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["PlainCollector", "PlainCounter", "PlainHistogram"]

# How prometheus-client writes a bucket bound (``le``): 0.0001, 1.0, 2.5, +Inf.
_go_float = cast(Callable[[float], str], utils.floatToGoString)


class PlainCounter:
    """A counter family; ``child(*labels)`` is a one-item list to add to."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self._children: dict[tuple[str, ...], list[float]] = {}

    def child(self, *labels: str) -> list[float]:
        return self._children.setdefault(labels, [0])

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, (value,) in sorted(self._children.items()):
            family.add_metric(list(labels), value)
        return family


class HistogramChild:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # the first bound >= value
        self.sum += value


class PlainHistogram:
    """A histogram family with fixed bucket bounds; ``child(*labels).observe(v)``."""

    def __init__(
        self,
        name: str,
        documentation: str,
        buckets: Sequence[float],
        labels: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        self.bounds = tuple(sorted(float(b) for b in buckets))
        self._les = [_go_float(b) for b in self.bounds] + ["+Inf"]
        self._children: dict[tuple[str, ...], HistogramChild] = {}

    def child(self, *labels: str) -> HistogramChild:
        found = self._children.get(labels)
        if found is None:
            found = self._children[labels] = HistogramChild(self.bounds)
        return found

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for labels, child in sorted(self._children.items()):
            cumulative, total = [], 0
            for le, n in zip(self._les, child.counts, strict=True):
                total += n
                cumulative.append((le, float(total)))
            family.add_metric(list(labels), cumulative, child.sum)
        return family


class PlainCollector(Collector):
    """Registers plain families with a ``CollectorRegistry``."""

    def __init__(self, families: Iterable[PlainCounter | PlainHistogram]) -> None:
        self._families = list(families)

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        for family in self._families:
            yield family.collect()
