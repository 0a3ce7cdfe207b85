"""/metrics: a real Prometheus scrapes a node under a small load, and what its HTTP API
returns is what the load did; promtool accepts the exposition; the main port shows a
tenant's admin only that tenant's series."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from imagechat_tui.server.node import RunningServer
from tests.services import free_port
from tests.tools import require
from tests.wsclient import WsClient, create_op

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


class Prometheus:
    """A throwaway Prometheus on a free port, scraping ``target`` every 250 ms. On a
    loaded box a scrape can pass its timeout (``up`` 0, every series stale until the
    next one): wait with ``until``, read once with ``latest``."""

    def __init__(self, workdir: Path, target: str) -> None:
        self.port = free_port()
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 250ms\n  scrape_timeout: 250ms\n"
            "scrape_configs:\n  - job_name: imagechat\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.log = workdir / "prometheus.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def query(self, expr: str) -> dict[str, float]:
        """An instant query: {tenant label (or ''): value}."""
        async with httpx.AsyncClient() as http:
            answer = await http.get(
                f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expr}, timeout=10
            )
        answer.raise_for_status()
        return {
            r["metric"].get("tenant", ""): float(r["value"][1])
            for r in answer.json()["data"]["result"]
        }

    async def latest(self, selector: str, aggregate: str = "") -> dict[str, float]:
        """The series' last scraped values (``last_over_time`` skips the stale marks a
        timed-out scrape leaves), summed by ``aggregate`` (e.g. ``sum``) if given."""
        expr = f"last_over_time({selector}[1m])"
        return await self.query(f"{aggregate}({expr})" if aggregate else expr)

    async def until(self, expr: str, expected: dict[str, float], backstop: float = 120) -> None:
        """Until the query answers ``expected`` (scrapes are every 250 ms; the backstop only
        ends a Prometheus that never scrapes)."""
        deadline = time.monotonic() + backstop
        got: dict[str, float] | str = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"prometheus exited: {self.log.read_text()}")
            try:
                got = await self.query(expr)
            except httpx.HTTPError as exc:
                got = f"{exc!r}"
            if got == expected:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{expr}: {got} != {expected}\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def prometheus_for(tmp_path: Path) -> Iterator[Any]:
    require(PROMETHEUS)
    started: list[Prometheus] = []

    def start(target: str) -> Prometheus:
        started.append(Prometheus(tmp_path, target))
        return started[-1]

    yield start
    for p in started:
        p.stop()


async def _drain(client: WsClient) -> None:
    """Read what is still coming (presence), until 0.3 s of silence."""
    try:
        while True:
            await client.recv(0.3)
    except TimeoutError:
        pass


async def _load(server: RunningServer, mint_token: Any) -> dict[str, Any]:
    """Three viewers of tenant local (one with compression), two of acme; each room's
    first viewer writes. What each tenant's viewers received, counted by the clients."""
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    carol = WsClient(await connect(server.url, compression="deflate", max_size=2**24))
    await carol.send({"op": "join", "room": "room-1", "token": mint_token("carol")})
    await carol.recv_type("joined")
    await carol.recv_snapshot()
    zed, *_ = await WsClient.joined(server.url, mint_token("zed", tenant="acme"), room="a")
    yan, *_ = await WsClient.joined(server.url, mint_token("yan", tenant="acme"), room="a")
    for i in range(5):
        await alice.send(create_op(text=f"marker {i}"))
    for i in range(3):
        await zed.send(create_op(text=f"acme {i}"))
    local, acme = [alice, bob, carol], [zed, yan]
    for client in local:
        await client.recv_events(5)
    for client in acme:
        await client.recv_events(3)
    for client in local + acme:
        await _drain(client)
    return {"local": local, "acme": acme}


async def test_prometheus_scrapes_what_the_load_did(
    start, mint_token, prometheus_for, tmp_path: Path
) -> None:
    server = await start(metrics_port=0, usage_flush_interval=3600)
    assert server.metrics_url is not None and server.metrics_url.startswith("http://127.0.0.1:")
    clients = await _load(server, mint_token)
    target = server.metrics_url.removeprefix("http://").removesuffix("/metrics")
    prometheus = prometheus_for(target)

    # Events delivered: every event to every viewer of its room, the writer's included.
    await prometheus.until("imagechat_events_delivered_total", {"local": 5 * 3.0, "acme": 3 * 2.0})
    await prometheus.until("imagechat_events_broadcast_total", {"local": 5.0, "acme": 3.0})
    await prometheus.until(
        'sum by (tenant) (imagechat_ops_total{kind="create",outcome="ok"})',
        {"local": 5.0, "acme": 3.0},
    )
    await prometheus.until(
        'sum by (tenant) (imagechat_joins_total{outcome="snapshot"})',
        {"local": 3.0, "acme": 2.0},
    )
    await prometheus.until(
        'sum by (tenant) (imagechat_connections{wire="json"})', {"local": 2.0, "acme": 2.0}
    )
    await prometheus.until('imagechat_connections{wire="json+deflate"}', {"local": 1.0})
    # pubSubMessageCount and pubSubBandwidth: every frame each viewer received (events,
    # acks, joined, snapshots, presence), as the clients counted them, and as /stats says.
    frames = {t: float(sum(c.frames_received for c in cs)) for t, cs in clients.items()}
    nbytes = {t: float(sum(c.bytes_received for c in cs)) for t, cs in clients.items()}
    await prometheus.until("imagechat_pubsub_messages_total", frames)
    await prometheus.until("imagechat_pubsub_bandwidth_bytes_total", nbytes)
    for tenant in ("local", "acme"):
        admin = mint_token("boss", role="admin", tenant=tenant)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            stats = (await http.get("/stats", headers={"Authorization": f"Bearer {admin}"})).json()
        assert (stats["pubSubMessageCount"], stats["pubSubBandwidth"]) == (
            frames[tenant],
            nbytes[tenant],
        )
    # Event bytes before and after compression: the plain viewers' wire bytes equal the
    # JSON; carol's compressed frames make the wire total smaller than the payload.
    payload = await prometheus.latest('imagechat_bytes_out_total{stage="payload"}')
    wire = await prometheus.latest('imagechat_bytes_out_total{stage="wire"}')
    assert wire["acme"] > payload["acme"] * 0.99  # plain JSON: the frame header only
    assert wire["local"] < payload["local"]
    # Histograms and process metrics are there too.
    commits = await prometheus.latest("imagechat_commit_duration_seconds_count", "sum")
    assert commits[""] >= 2  # one transaction or more per room
    assert (await prometheus.latest("imagechat_commit_batch_ops_sum", "sum"))[""] == 8
    latency = await prometheus.latest("imagechat_delivery_latency_seconds_count", "sum")
    assert latency[""] >= 2
    assert (await prometheus.latest("process_resident_memory_bytes"))[""] > 0
    assert (await prometheus.latest("imagechat_ready"))[""] == 1
    # Bounded labels: no room or user id anywhere in the exposition.
    async with httpx.AsyncClient() as http:
        text = (await http.get(server.metrics_url)).text
    for name in ("room-1", '"a"', "alice", "zed", "carol"):
        assert name not in text


async def test_promtool_accepts_the_exposition(start, mint_token) -> None:
    require(PROMTOOL)
    server = await start(metrics_port=0)
    await _load(server, mint_token)
    async with httpx.AsyncClient() as http:
        assert server.metrics_url is not None
        answer = await http.get(server.metrics_url)
    assert answer.headers["content-type"].startswith("text/plain; version=")
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=answer.text, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "imagechat_events_delivered_total" in answer.text


async def test_the_main_port_shows_a_tenant_admin_only_their_tenant(start, mint_token) -> None:
    server = await start()
    assert server.metrics_url is None  # no --metrics-port: no second listener
    await _load(server, mint_token)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get("/metrics")).status_code == 401
        member = mint_token("alice")
        forbidden = await http.get("/metrics", headers={"Authorization": f"Bearer {member}"})
        assert forbidden.status_code == 403
        admin = mint_token("boss", role="admin", tenant="acme")
        answer = await http.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200
    assert 'imagechat_events_delivered_total{tenant="acme"} 6.0' in answer.text
    assert 'tenant="local"' not in answer.text
    assert "process_cpu_seconds_total" in answer.text


async def test_no_metrics_counts_nothing(start, mint_token) -> None:
    server = await start(metrics=False, metrics_port=0)
    assert server.metrics is None and server.metrics_url is None
    await _load(server, mint_token)  # the node works the same without them


async def test_uploads_are_counted_by_tenant_with_refusals_by_status(start, mint_token) -> None:
    import hashlib
    import io

    from PIL import Image

    server = await start(metrics_port=0, max_image_bytes=4096)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "PNG")
    png = out.getvalue()
    big = b"\0" * 5000
    token = mint_token("alice")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        auth = {"Authorization": f"Bearer {token}"}
        stored = await http.put(
            f"/images/{hashlib.sha256(png).hexdigest()}", content=png, headers=auth
        )
        assert stored.status_code == 201
        again = await http.put(
            f"/images/{hashlib.sha256(png).hexdigest()}", content=png, headers=auth
        )
        assert again.status_code == 200  # already stored: no new bytes
        refused = await http.put(
            f"/images/{hashlib.sha256(big).hexdigest()}", content=big, headers=auth
        )
        assert refused.status_code == 413
        assert server.metrics_url is not None
        text = (await http.get(server.metrics_url)).text
    assert f'imagechat_upload_bytes_total{{tenant="local"}} {float(len(png))}' in text
    assert 'imagechat_upload_refusals_total{status="413",tenant="local"} 1.0' in text


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_refusals_errors_and_a_stalled_reader_are_counted(start, mint_token) -> None:
    import json
    import socket

    from imagechat_tui.model import Limits
    from imagechat_tui.server.config import OutboxLimits

    server = await start(
        metrics_port=0,
        max_connections_per_user=1,
        outbox=OutboxLimits(high_water=1024, max_backlog_bytes=64 * 1024),
        limits=Limits(max_markers=10_000, max_text=10_000, max_room_bytes=64 * 1024 * 1024),
    )
    writer, *_ = await WsClient.joined(server.url, mint_token("writer"))
    # Refused joins: a bad token (unauthorized), a second connection (4029).
    bad = await WsClient.open(server.url)
    await bad.send({"op": "join", "room": "room-1", "token": "not-a-token"})
    await bad.recv_type("error")
    twice = await WsClient.open(server.url)
    await twice.send({"op": "join", "room": "room-1", "token": mint_token("writer")})
    assert (await twice.recv_type("error"))["code"] == "limit-reached"
    # Errors: an op on a marker that does not exist; a frame that is not JSON.
    await writer.send(
        {"op": "update", "broadcastId": "b-x", "chatId": "nope", "change": {"kind": "resolve"}}
    )
    assert (await writer.recv_type("error"))["code"] == "unknown-chat"
    await writer.send("not json")
    assert (await writer.recv_type("error"))["code"] == "bad-json"
    # A reader that stops reading is cut off with 4009 (as in test_sync).
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    stalled = await connect(server.url, sock=sock, compression=None, max_queue=1, max_size=None)
    await stalled.send(json.dumps({"op": "join", "room": "room-1", "token": mint_token("slow")}))
    stalled.transport.pause_reading()
    for _ in range(900):
        await writer.send(create_op(text="y" * 9000))
    await writer.recv_events(900)
    stalled.transport.resume_reading()
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(30):
            while True:
                await stalled.recv()
    assert stalled.close_code == 4009
    assert server.metrics_url is not None
    async with httpx.AsyncClient() as http:
        for _ in range(200):  # the close is counted once its handshake ends
            got = _samples((await http.get(server.metrics_url)).text)
            if got.get(("imagechat_connection_closes_total", frozenset({("code", "too_slow")}))):
                break
            await asyncio.sleep(0.05)
    local = ("tenant", "local")

    def value(name: str, **labels: str) -> float:
        return got.get((name, frozenset({local, *labels.items()})), 0.0)

    assert (
        got[
            (
                "imagechat_joins_total",
                frozenset({("tenant", ""), ("outcome", "refused"), ("reason", "unauthorized")}),
            )
        ]
        == 1
    )
    assert value("imagechat_joins_total", outcome="refused", reason="too_many_connections") == 1
    assert value("imagechat_ops_total", kind="update", outcome="unknown-chat") == 1
    assert value("imagechat_ops_total", kind="frame", outcome="bad-json") == 1
    assert value("imagechat_ops_total", kind="create", outcome="ok") == 900
    assert value("imagechat_backlog_drops_total") == 1
    assert got[("imagechat_connection_closes_total", frozenset({("code", "too_slow")}))] == 1
    await writer.close()


async def test_a_replayed_join_and_a_retried_op_are_counted_as_such(start, mint_token) -> None:
    server = await start(metrics_port=0)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    op = create_op(text="once")
    await alice.send(op)
    (event,) = await alice.recv_events(1)
    await alice.send(op)  # a retry of an op already stored: acked, not stored again
    assert (await alice.recv_type("ack"))["seq"] == event["seq"]
    bob, joined, replay = await WsClient.joined(server.url, mint_token("bob"), since=0)
    assert joined["recovered"] and len(replay) == 1
    assert server.metrics_url is not None
    async with httpx.AsyncClient() as http:
        got = _samples((await http.get(server.metrics_url)).text)

    def value(name: str, **labels: str) -> float:
        return got.get((name, frozenset({("tenant", "local"), *labels.items()})), 0.0)

    assert value("imagechat_joins_total", outcome="snapshot", reason="") == 1
    assert value("imagechat_joins_total", outcome="replay", reason="") == 1
    assert value("imagechat_ops_total", kind="create", outcome="ok") == 1
    assert value("imagechat_ops_total", kind="create", outcome="duplicate") == 1
    await alice.close()
    await bob.close()


def test_every_error_code_is_an_outcome_and_nothing_else_is() -> None:
    """Pure: a refused frame is counted under its error code, whichever of them it is; a
    code the protocol does not define adds no series (the label stays bounded)."""
    from imagechat_tui.protocol import Error, ErrorCode, encode
    from imagechat_tui.server.metrics import NodeMetrics

    codes = [v for k, v in vars(ErrorCode).items() if k.isupper()]
    metrics = NodeMetrics()
    for code in codes:
        metrics.frame_refused("t", encode(Error(broadcastId=None, code=code, message="m")))
    metrics.frame_refused("t", encode(Error(broadcastId=None, code="made-up", message="m")))
    metrics.frame_refused("t", b"not json")
    got = _samples(metrics.exposition().decode())
    outcomes = {
        dict(labels)["outcome"]
        for (name, labels), _ in got.items()
        if name == "imagechat_ops_total"
    }
    assert outcomes == set(codes)


def test_tenants_beyond_the_cap_share_one_label() -> None:
    """Pure: the first MAX_TENANT_LABELS tenants get their own label, later ones count
    under ``_other``, so the series count has a ceiling whatever the number of tenants."""
    from imagechat_tui.server.metrics import MAX_TENANT_LABELS, NodeMetrics

    metrics = NodeMetrics()
    for i in range(MAX_TENANT_LABELS + 50):
        metrics.delivered(f"tenant-{i}", 2, 10, 10)
    got = _samples(metrics.exposition().decode())
    delivered = {
        dict(labels)["tenant"]: v
        for (name, labels), v in got.items()
        if name == "imagechat_events_delivered_total"
    }
    assert len(delivered) == MAX_TENANT_LABELS + 1
    assert delivered["_other"] == 50 * 2
    assert delivered[f"tenant-{MAX_TENANT_LABELS - 1}"] == 2
    assert f"tenant-{MAX_TENANT_LABELS}" not in delivered
    # One tenant's view of the exposition holds only its own series.
    alone = _samples(metrics.exposition("tenant-3").decode())
    assert {
        dict(labels).get("tenant")
        for (name, labels), _ in alone.items()
        if "tenant" in dict(labels)
    } == {"tenant-3"}


async def test_a_viewer_that_was_behind_has_its_batches_timed(start, mint_token) -> None:
    """A lone viewer stops reading while it writes: the events it falls behind on are
    written to it later, in batches, and each batch is a delivery latency observation
    (path 'behind'); the broadcasts written at once are path 'direct'."""
    import socket

    from imagechat_tui.model import Limits
    from imagechat_tui.server.config import OutboxLimits

    server = await start(
        metrics_port=0,
        outbox=OutboxLimits(high_water=1024),
        limits=Limits(max_markers=10_000, max_text=10_000, max_room_bytes=64 * 1024 * 1024),
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    ws = await connect(server.url, sock=sock, compression=None, max_size=None)
    viewer = WsClient(ws)
    await viewer.send({"op": "join", "room": "room-1", "token": mint_token("alice")})
    await viewer.recv_type("joined")
    await viewer.recv_snapshot()
    name = "imagechat_delivery_latency_seconds_count"
    assert server.metrics_url is not None

    async def scrape() -> tuple[float, float, float]:
        got = _samples((await http.get(server.metrics_url)).text)
        return (
            got[(name, frozenset({("path", "direct")}))],
            got[(name, frozenset({("path", "behind")}))],
            got[("imagechat_commit_batch_ops_count", frozenset())],
        )

    ws.transport.pause_reading()
    sent = 0
    async with httpx.AsyncClient() as http:
        # One op at a time, each committed and fanned out before the next, until a
        # broadcast finds the viewer behind (no direct write: fewer direct than commits).
        while True:
            await viewer.send(create_op(text="z" * 9000))
            sent += 1
            while (state := await scrape())[2] < sent:
                await asyncio.sleep(0.01)
            direct, behind, commits = state
            if direct < commits:
                break
            assert sent < 2000, "the viewer never fell behind"
        ws.transport.resume_reading()
        await viewer.recv_events(sent)
        direct, behind, commits = await scrape()
    assert behind >= 1  # the events it was behind on went out in batches, each timed
    assert direct < commits
    await viewer.close()
