"""Per-tenant usage: ``pubSubMessageCount`` and ``pubSubBandwidth``.

Counted in memory on the delivery path (one dict update per frame written, whatever the
number of recipients) and added to the database every few seconds and at shutdown, to
the all-time totals and to the minute's bucket (``usage_history``) in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from imagechat_tui.server.storage import Storage, Usage, UsageBucket


class UsageMeter:
    def __init__(self) -> None:
        self._messages: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._taken: dict[str, Usage] = {}  # taken for the database since start

    def add(self, tenant: str, messages: int, nbytes: int) -> None:
        self._messages[tenant] = self._messages.get(tenant, 0) + messages
        self._bytes[tenant] = self._bytes.get(tenant, 0) + nbytes

    def pending(self, tenant: str) -> Usage:
        """One tenant's counts not yet flushed (for a live figure), without resetting."""
        return Usage(messages=self._messages.get(tenant, 0), bytes=self._bytes.get(tenant, 0))

    def take(self) -> dict[str, Usage]:
        """The counts since the last take, and reset."""
        deltas = {
            t: Usage(messages=m, bytes=self._bytes.get(t, 0)) for t, m in self._messages.items()
        }
        self._messages, self._bytes = {}, {}
        for t, u in deltas.items():
            self._taken[t] = _plus(self._taken.get(t, _ZERO), u)
        return deltas

    def lifetime(self) -> dict[str, Usage]:
        """Everything this meter counted since it was made, flushed or not (/metrics)."""
        totals = dict(self._taken)
        for t, m in list(self._messages.items()):
            totals[t] = _plus(totals.get(t, _ZERO), Usage(m, self._bytes.get(t, 0)))
        return totals

    async def flush(self, storage: Storage, at: float | None = None) -> None:
        deltas = self.take()
        try:
            await storage.add_usage(deltas, at=at)
        except Exception:
            self.restore(deltas)  # not lost: counted again at the next flush
            raise

    def restore(self, deltas: dict[str, Usage]) -> None:
        for tenant, usage in deltas.items():
            self.add(tenant, usage.messages, usage.bytes)
            taken = self._taken[tenant]
            self._taken[tenant] = Usage(taken.messages - usage.messages, taken.bytes - usage.bytes)


_ZERO = Usage()


def _plus(a: Usage, b: Usage) -> Usage:
    return Usage(a.messages + b.messages, a.bytes + b.bytes)


def usage_report(usage: dict[str, Usage]) -> list[dict[str, object]]:
    """Rows in the reference product's vocabulary."""
    return [
        {"tenant": t, "pubSubMessageCount": u.messages, "pubSubBandwidth": u.bytes}
        for t, u in sorted(usage.items())
    ]


def history_report(
    buckets: Iterable[UsageBucket], tenant: str | None = None
) -> list[dict[str, object]]:
    """Totals per tenant over the buckets: the two figures and the peak connections."""
    rows: dict[str, dict[str, int]] = {}
    for b in buckets:
        if tenant is not None and b.tenant != tenant:
            continue
        row = rows.setdefault(
            b.tenant, {"pubSubMessageCount": 0, "pubSubBandwidth": 0, "peakConnections": 0}
        )
        row["pubSubMessageCount"] += b.messages
        row["pubSubBandwidth"] += b.bytes
        row["peakConnections"] = max(row["peakConnections"], b.connections)
    return [{"tenant": t, **r} for t, r in sorted(rows.items())]


#: The dashboard's ranges: (seconds back, seconds per point).
RANGES: dict[str, tuple[int, int]] = {
    "hour": (3600, 60),
    "day": (86400, 3600),
    "month": (30 * 86400, 86400),
}


def series(
    buckets: Iterable[UsageBucket], tenant: str, since: float, until: float, step: int
) -> list[dict[str, int]]:
    """One tenant's minute buckets as points of ``step`` seconds from ``since``: frames
    and bytes summed, connections the peak; empty points included (a chart's gaps)."""
    origin = int(since) // step * step
    points: dict[int, dict[str, int]] = {}
    for b in buckets:
        if b.tenant != tenant:
            continue
        start = max(origin, b.start // step * step)
        p = points.setdefault(start, {"messages": 0, "bytes": 0, "connections": 0})
        p["messages"] += b.messages
        p["bytes"] += b.bytes
        p["connections"] = max(p["connections"], b.connections)
    last = max([int(until) // step * step, *points])
    return [
        {"start": t, **points.get(t, {"messages": 0, "bytes": 0, "connections": 0})}
        for t in range(origin, last + 1, step)
    ]
