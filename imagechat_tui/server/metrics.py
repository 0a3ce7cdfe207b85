"""What a node tells Prometheus: one ``prometheus-client`` registry per node.

Everything is counted where it already happens, once per broadcast, commit or
connection, never once per viewer written to: the fan-out adds ``n`` for ``n`` viewers.
What the fan-out and the commits count (events broadcast and delivered, bytes out, ops,
the three histograms) are plain numbers (``plain_metrics``): a ``prometheus-client``
``inc`` or ``observe`` takes a lock, and a viewer catching up is written a batch (and
counted) per viewer; their children are looked up once per label set and kept. Rarer
events (joins, closes, uploads, Redis messages) use ``prometheus-client``'s own
``Counter``. Figures the node already keeps
(connections, rooms, pubSubMessageCount and pubSubBandwidth) are read at scrape time by
``_NodeCollector`` instead of being counted twice.

Labels are bounded: no room, user or connection ids ever. ``tenant`` is the one label
that grows with the deployment; it takes the first ``MAX_TENANT_LABELS`` tenants a node
sees and folds the rest into ``"_other"`` (docs/DEPLOY.md). Every other label takes a
fixed set of values (op kinds, error codes, close codes, wire formats).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from msgspec import Struct
from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from imagechat_tui.protocol import CloseCode, ErrorCode
from imagechat_tui.server.plain_metrics import PlainCollector, PlainCounter, PlainHistogram

if TYPE_CHECKING:
    from imagechat_tui.server.prepared import WireFormat
    from imagechat_tui.server.room import RoomHub
    from imagechat_tui.server.usage import UsageMeter

__all__ = ["CONTENT_TYPE_LATEST", "MAX_TENANT_LABELS", "NodeMetrics"]

#: Distinct ``tenant`` label values per node; later tenants share ``"_other"``.
MAX_TENANT_LABELS = 200
OTHER_TENANT = "_other"

_ERROR_CODES = frozenset(v for k, v in vars(ErrorCode).items() if k.isupper())
_CLOSE_CODES = {int(c): c.name.lower() for c in CloseCode} | {
    1000: "normal",
    1005: "no_status",
    1006: "abnormal",
    1011: "internal_or_ping_timeout",
}
_JOIN_REFUSALS = {int(c): c.name.lower() for c in CloseCode}

# Seconds: a write on loopback is ~10 us; a loaded node's commit is a few ms.
_LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def op_kind(op: Struct) -> str:
    """``create``, ``update`` or ``delete``: the op's tag."""
    return str(type(op).__struct_config__.tag)


def wire_label(fmt: WireFormat) -> str:
    """``json``, ``json+deflate``, ``binary`` or ``binary+deflate``."""
    base = "binary" if fmt.binary else "json"
    return base if fmt.window_bits is None else f"{base}+deflate"


class NodeMetrics:
    """A node's metrics. ``hub`` and ``meter`` are read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # Process metrics: CPU, memory, fds, Python version and GC, as every client has.
        for default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(_Proxy(default))
        self._tenants: dict[str, str] = {}
        # A plain counter (a list per label set, found in a dict), not prometheus_client's
        # (a lock and label checks per increment): one is counted per join.
        self.joins = PlainCounter(
            "imagechat_joins",
            "Joins by outcome: replay (missed events sent), snapshot, or refused (reason: "
            "the close code's name).",
            ["tenant", "outcome", "reason"],
        )
        self.ops = PlainCounter(
            "imagechat_ops",
            "Client ops by kind and outcome: ok, duplicate (a retry already stored), or the "
            "error code it was refused with (kind 'frame' when it was refused unread).",
            ["tenant", "kind", "outcome"],
        )
        self.events_broadcast = PlainCounter(
            "imagechat_events_broadcast", "Events fanned out by this node.", ["tenant"]
        )
        self.events_delivered = PlainCounter(
            "imagechat_events_delivered",
            "Events written to viewers' sockets (one per viewer per event).",
            ["tenant"],
        )
        self.bytes_out = PlainCounter(
            "imagechat_bytes_out",
            "Bytes of event frames written to viewers: stage 'payload' is the JSON before "
            "encoding for the wire, 'wire' the frames as written (binary form, compressed).",
            ["tenant", "stage"],
        )
        self.delivery_latency = PlainHistogram(
            "imagechat_delivery_latency_seconds",
            "From events (a commit, or a broadcast from another node) reaching the "
            "fan-out to their socket write: path 'direct', once per broadcast, to the last "
            "viewer written at once; path 'behind', once per batch written to a viewer that "
            "was behind, from its first event (imagechat_backlog_drops when too far).",
            _LATENCY_BUCKETS,
            ["path"],
        )
        self.commit_latency = PlainHistogram(
            "imagechat_commit_duration_seconds",
            "One group commit's transaction, by outcome (ok, unavailable, unknown, failed).",
            _LATENCY_BUCKETS,
            ["outcome"],
        )
        self.commit_batch = PlainHistogram(
            "imagechat_commit_batch_ops",
            "Ops decided and stored in one transaction.",
            _BATCH_BUCKETS,
        )
        r.register(
            PlainCollector(
                [
                    self.joins,
                    self.ops,
                    self.events_broadcast,
                    self.events_delivered,
                    self.bytes_out,
                    self.delivery_latency,
                    self.commit_latency,
                    self.commit_batch,
                ]
            )
        )
        # Children kept per tenant (tenants folded into _other share them): events
        # broadcast, events delivered, payload bytes, wire bytes; and per op outcome.
        self._fan_out: dict[str, tuple[list[float], ...]] = {}
        self._ops: dict[tuple[str, str, str], list[float]] = {}
        self._latency_direct = self.delivery_latency.child("direct")
        self._latency_behind = self.delivery_latency.child("behind")
        self._batch = self.commit_batch.child()
        self.backlog_drops = Counter(
            "imagechat_backlog_drops",
            "Viewers disconnected with 4009 because their backlog passed the limit.",
            ["tenant"],
            registry=r,
        )
        self.closes = Counter(
            "imagechat_connection_closes",
            "WebSocket connections ended, by close code name (4009 too_slow and 1011 "
            "internal_or_ping_timeout are readers that stopped reading).",
            ["code"],
            registry=r,
        )
        self.redis_published = Counter(
            "imagechat_redis_published_messages", "Messages published to Redis.", registry=r
        )
        self.redis_publish_failures = Counter(
            "imagechat_redis_publish_failures",
            "Messages whose publish failed (the events are in the database).",
            registry=r,
        )
        self.redis_received = Counter(
            "imagechat_redis_received_messages",
            "Event messages from other nodes received from Redis.",
            registry=r,
        )
        self.seq_repairs = Counter(
            "imagechat_seq_check_repairs",
            "Rooms caught up from the database because a broadcast from another node was "
            "missed (periodic seq check, or a gap in what arrived).",
            registry=r,
        )
        self.upload_bytes = Counter(
            "imagechat_upload_bytes", "Image bytes stored by PUT /images.", ["tenant"], registry=r
        )
        self.upload_refusals = Counter(
            "imagechat_upload_refusals",
            "Image uploads refused, by HTTP status.",
            ["tenant", "status"],
            registry=r,
        )
        self.ready = Gauge(
            "imagechat_ready",
            "1 while /ready answers 200 (the node can commit and publish).",
            registry=r,
        )

    def attach(self, hub: RoomHub, meter: UsageMeter, open_connections: Callable[[], int]) -> None:
        """Read the node's own figures at scrape time."""
        self.registry.register(_NodeCollector(hub, meter, open_connections, self.tenant))

    # --- the label rule --------------------------------------------------------------

    def tenant(self, tenant: str) -> str:
        label = self._tenants.get(tenant)
        if label is None:
            label = tenant if len(self._tenants) < MAX_TENANT_LABELS else OTHER_TENANT
            self._tenants[tenant] = label
        return label

    # --- the hooks -------------------------------------------------------------------

    def _children(self, tenant: str) -> tuple[list[float], ...]:
        children = self._fan_out.get(tenant)
        if children is None:
            label = self.tenant(tenant)
            children = self._fan_out[tenant] = (
                self.events_broadcast.child(label),
                self.events_delivered.child(label),
                self.bytes_out.child(label, "payload"),
                self.bytes_out.child(label, "wire"),
            )
        return children

    def delivered(
        self,
        tenant: str,
        events: int,
        payload_bytes: int,
        wire_bytes: int,
        since: float | None = None,
        *,
        behind: bool = False,
    ) -> None:
        """``events`` events written to sockets (events x viewers), at once; ``since``:
        the monotonic time they reached the fan-out (0.0: not known); ``behind``: a batch
        written to a viewer that was behind, else the fan-out's writes."""
        _, delivered, payload, wire = self._fan_out.get(tenant) or self._children(tenant)
        delivered[0] += events
        payload[0] += payload_bytes
        wire[0] += wire_bytes
        if since:
            latency = self._latency_behind if behind else self._latency_direct
            latency.observe(time.monotonic() - since)

    def broadcast(self, tenant: str, events: int) -> None:
        (self._fan_out.get(tenant) or self._children(tenant))[0][0] += events

    def joined(self, tenant: str, replayed: bool) -> None:
        self.joins.child(self.tenant(tenant), "replay" if replayed else "snapshot", "")[0] += 1

    def join_refused(self, tenant: str | None, close_code: int) -> None:
        reason = _JOIN_REFUSALS.get(close_code, "other")
        self.joins.child(self.tenant(tenant) if tenant else "", "refused", reason)[0] += 1

    def op(self, tenant: str, kind: str, outcome: str, n: int = 1) -> None:
        key = (tenant, kind, outcome)
        child = self._ops.get(key)
        if child is None:
            child = self._ops[key] = self.ops.child(self.tenant(tenant), kind, outcome)
        child[0] += n

    def frame_refused(self, tenant: str | None, reply: bytes) -> None:
        """An error frame the session answered with before the op reached a room."""
        try:
            code = json.loads(reply).get("code")
        except (ValueError, AttributeError):
            return
        if code in _ERROR_CODES:
            self.op(tenant or "", "frame", code)

    def closed(self, code: int | None) -> None:
        self.closes.labels(_CLOSE_CODES.get(code or 1006, "other")).inc()

    def committed(self, seconds: float, ops: int, outcome: str) -> None:
        self.commit_latency.child(outcome).observe(seconds)
        if outcome == "ok":
            self._batch.observe(ops)

    def upload(self, tenant: str, nbytes: int) -> None:
        self.upload_bytes.labels(self.tenant(tenant)).inc(nbytes)

    def upload_refused(self, tenant: str, status: int) -> None:
        self.upload_refusals.labels(self.tenant(tenant), str(status)).inc()

    # --- exposition ------------------------------------------------------------------

    def exposition(self, tenant: str | None = None) -> bytes:
        """The text format; with ``tenant``, only that tenant's series and the node's own
        (what a tenant's admin may see on the public port)."""
        if tenant is None:
            return generate_latest(self.registry)
        return generate_latest(_OneTenant(self.registry, self.tenant(tenant)))


class _Proxy(Collector):
    """A default collector registered in this node's registry too (the defaults live in
    the global one, which a second node in the same process would clash with)."""

    def __init__(self, inner: Collector) -> None:
        self._inner = inner

    def collect(self) -> Iterable[Metric]:
        return self._inner.collect()


class _OneTenant:
    """The registry seen by one tenant: samples labelled with another tenant are left out."""

    def __init__(self, registry: CollectorRegistry, tenant: str) -> None:
        self._registry = registry
        self._tenant = tenant

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            kept = [
                s for s in metric.samples if s.labels.get("tenant", self._tenant) == self._tenant
            ]
            if kept or not metric.samples:
                metric.samples = kept
                yield metric


class _NodeCollector(Collector):
    """Gauges and counters the node keeps anyway, read when Prometheus scrapes."""

    def __init__(
        self,
        hub: RoomHub,
        meter: UsageMeter,
        open_connections: Callable[[], int],
        label: Callable[[str], str],
    ) -> None:
        self._hub = hub
        self._meter = meter
        self._open = open_connections
        self._label = label

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterator[Metric]:
        joined: dict[tuple[str, str], int] = {}
        rooms: dict[str, int] = {}
        for (tenant, _name), room in list(self._hub.rooms.items()):
            label = self._label(tenant)
            rooms[label] = rooms.get(label, 0) + 1
            for sub in room.subscribers:
                key = (label, wire_label(sub.format))
                joined[key] = joined.get(key, 0) + 1
        connections = GaugeMetricFamily(
            "imagechat_connections",
            "Joined connections by tenant and wire format.",
            labels=["tenant", "wire"],
        )
        for (tenant, wire), n in sorted(joined.items()):
            connections.add_metric([tenant, wire], n)
        yield connections
        yield GaugeMetricFamily(
            "imagechat_connections_open",
            "Accepted connections, joined or not (HTTP requests included).",
            value=self._open(),
        )
        loaded = GaugeMetricFamily("imagechat_rooms_loaded", "Rooms in memory.", labels=["tenant"])
        for tenant, n in sorted(rooms.items()):
            loaded.add_metric([tenant], n)
        yield loaded
        messages = CounterMetricFamily(
            "imagechat_pubsub_messages",
            "pubSubMessageCount: frames written to viewers, counted exactly as `stats` "
            "counts them (this node, since it started).",
            labels=["tenant"],
        )
        bandwidth = CounterMetricFamily(
            "imagechat_pubsub_bandwidth_bytes",
            "pubSubBandwidth: their bytes (JSON text), as `stats` counts them.",
            labels=["tenant"],
        )
        per_label: dict[str, list[int]] = {}
        for tenant, usage in self._meter.lifetime().items():
            acc = per_label.setdefault(self._label(tenant), [0, 0])
            acc[0] += usage.messages
            acc[1] += usage.bytes
        for tenant, (m, b) in sorted(per_label.items()):
            messages.add_metric([tenant], m)
            bandwidth.add_metric([tenant], b)
        yield messages
        yield bandwidth
