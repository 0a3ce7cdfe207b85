"""The HTTP door on real sockets: what a hostile or careless HTTP client sends.

The attack tests failed against the hand-made body reader this replaced
(server/http_front.py, main at f6c9568): it read a body before looking at the route or
the credentials (20 x 26e6-1 bytes: +496 MB of server RSS), kept a partial head for
--request-timeout (120 s), knew no chunked bodies and crashed on pipelining. Two tests
passed there too and guard what already worked: a declared body over the limit is 413
before it is read, and an accepted upload with Expect: 100-continue gets 100 then 201.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import random
import socket
import weakref
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from imagechat_tui.backoff import Backoff
from imagechat_tui.server.node import RunningServer
from tests.conftest import StartServer
from tests.server.raw_http import RawHttp, chunked, process_rss, request, serve_process
from tests.services import free_port
from tests.sharing.images import png, sha
from tests.wsclient import WsClient

MB = 1024 * 1024


async def raw(server: RunningServer, local: str | None = None) -> RawHttp:
    return await RawHttp.open(server.host, server.port, local)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


async def test_pipelined_requests_are_answered_in_order(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The issue's case: a POST with a 2-byte body and a GET right behind it."""
    client = await raw(server)
    await client.send(
        request("POST", "/api/rooms", b"{}")
        + request("GET", "/health")
        + request("GET", "/nowhere")
        + request("GET", "/health")
    )
    statuses = [(await client.answer()).status for _ in range(4)]
    assert statuses == [401, 200, 404, 200]
    client.close()
    no_tracebacks(caplog)


async def test_keep_alive_serves_many_requests_on_one_connection(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    data = png(20, 20)
    client = await raw(server)
    put = request("PUT", f"/images/{sha(data)}", data, {"Authorization": f"Bearer {token}"})
    await client.send(put)
    assert (await client.answer()).status == 201
    await client.send(put)
    assert (await client.answer()).status == 200
    await client.send(
        request("GET", f"/images/{sha(data)}", b"", {"Authorization": f"Bearer {token}"})
    )
    got = await client.answer()
    assert got.status == 200 and got.body == data
    client.close()


async def test_a_chunked_upload_is_stored(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    data = png(300, 200)
    client = await raw(server)
    third = len(data) // 3
    await client.send(
        request(
            "PUT",
            f"/images/{sha(data)}",
            chunked(data[:third], data[third : 2 * third], data[2 * third :]),
            {"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        )
    )
    answer = await client.answer()
    assert answer.status == 201, answer.body
    assert answer.json()["bytes"] == len(data)
    client.close()


@pytest.mark.parametrize(
    "body",
    [b"zz\r\nabc\r\n0\r\n\r\n", b"fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n"],
    ids=["not hex", "too long", "size lies"],
)
async def test_a_bad_chunk_size_is_400_and_a_closed_connection(
    server: RunningServer,
    mint_token: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    token = mint_token("alice")
    client = await raw(server)
    await client.send(
        request(
            "PUT",
            f"/images/{'a' * 64}",
            body,
            {"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
        )
    )
    answer = await client.answer()
    assert answer.status == 400 and "body" in answer.json()["error"]
    await client.closed()
    no_tracebacks(caplog)


async def test_content_length_with_transfer_encoding_is_refused(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = await raw(server)
    await client.send(
        request(
            "POST",
            "/api/invites/redeem",
            chunked(b'{"code": "x"}'),
            {"Transfer-Encoding": "chunked", "Content-Length": "4"},
        )
        + request("GET", "/health")  # smuggled behind it: never answered
    )
    answer = await client.answer()
    assert answer.status == 400
    assert answer.json() == {"error": "Content-Length and Transfer-Encoding together."}
    assert answer.headers["connection"] == "close"
    assert b"200 OK" not in await client.closed()
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /health HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 20_000 + b"\r\n\r\n",
        b"GET /he alth HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 40 + b"\r\n\r\n",
        b"GET //[ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /api/rooms HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        b"POST /api/rooms HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"POST /api/rooms HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
    ids=[
        "huge head",
        "space in target",
        "tls hello",
        "bad target",
        "negative",
        "two lengths",
        "gzip",
    ],
)
async def test_a_bad_head_gets_one_answer_and_no_traceback(
    server: RunningServer, caplog: pytest.LogCaptureFixture, head: bytes
) -> None:
    client = await raw(server)
    await client.send(head)
    answer = await client.answer()
    assert 400 <= answer.status < 600 and "error" in answer.json()
    await client.closed()
    no_tracebacks(caplog)
    # and the server still serves
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get("/health")).status_code == 200


async def test_a_slow_head_is_cut_off_by_the_header_timeout(start: StartServer) -> None:
    server = await start(header_timeout=0.5)
    client = await raw(server)
    await client.send(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n")  # never the blank line
    rest = await client.closed()
    assert rest.startswith(b"HTTP/1.1 408 ")
    # an idle kept-alive connection is closed too, without an answer
    idle = await raw(server)
    await idle.send(request("GET", "/health"))
    assert (await idle.answer()).status == 200
    assert await idle.closed() == b""


async def test_a_stalled_body_is_dropped_and_a_steady_one_completes(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    server = await start(body_idle_timeout=0.5, body_min_rate=0)
    token = mint_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    data = png(400, 300)
    stalled = await raw(server)
    await stalled.send(request("PUT", f"/images/{sha(data)}", data[:100], auth, length=len(data)))
    answer = await stalled.answer()
    assert answer.status == 408 and answer.json()["error"] == "The body stopped arriving."
    steady = await raw(server)
    await steady.send(request("PUT", f"/images/{sha(data)}", b"", auth, length=len(data)))
    step = len(data) // 10 + 1
    for at in range(0, len(data), step):  # pauses far shorter than the idle timeout
        await steady.send(data[at : at + step])
        await asyncio.sleep(0.02)
    assert (await steady.answer()).status == 201


async def test_a_trickle_below_the_minimum_rate_is_dropped(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    server = await start(body_idle_timeout=0.3, body_min_rate=100_000)
    token = mint_token("alice")
    client = await raw(server)
    await client.send(
        request("PUT", f"/images/{'a' * 64}", b"", {"Authorization": f"Bearer {token}"}, length=MB)
    )
    answer = None
    for _ in range(200):  # a byte every 50 ms: never idle, far below the rate
        try:
            await client.send(b"x")
        except ConnectionError:
            break
        try:
            answer = await client.answer(timeout=0.05)
            break
        except TimeoutError:
            continue
    assert answer is not None and answer.status == 408
    assert answer.json()["error"] == "The body is arriving too slowly."


async def _send_body(port: int, head: bytes, junk: memoryview) -> int:
    """Send a head and the junk on a plain socket (no copy of the junk); the status."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        with contextlib.suppress(ConnectionError):
            await loop.sock_sendall(sock, head)
            await loop.sock_sendall(sock, junk)
        data = await loop.sock_recv(sock, 4096)
        return int(data.split(b" ")[1])
    finally:
        sock.close()


async def test_unauthenticated_bodies_are_refused_before_they_are_read(
    home: Path, mint_token: Callable[..., str]
) -> None:
    """The issue's first attack: 20 connections, no token, each sending 26 MB minus one
    byte (26e6, under the 25 MiB limit) to PUT /images/... Each gets 401 from its head; the server (its own process)
    does not grow with the bodies (it grew by 26 MB per connection: 50 -> 560 MB)."""
    port = free_port()
    async with serve_process(home, port) as proc:
        before = process_rss(proc.pid)
        junk = memoryview(b"\0" * (26_000_000 - 1))  # just under --max-image-bytes
        head = request("PUT", f"/images/{'0' * 64}", length=len(junk))
        attack = asyncio.gather(*(_send_body(port, head, junk) for _ in range(20)))
        # a fresh client joins while the bodies arrive
        viewer, joined, _ = await WsClient.joined(f"ws://127.0.0.1:{port}/ws", mint_token("bob"))
        assert joined["type"] == "joined"
        await viewer.close()
        assert set(await attack) == {401}
        grown = process_rss(proc.pid) - before
    assert grown < 30 * MB, f"server RSS grew {grown / MB:.0f} MB"


async def test_expect_continue_gets_the_refusal_instead_of_100(server: RunningServer) -> None:
    client = await raw(server)
    await client.send(
        request("PUT", f"/images/{'0' * 64}", b"", {"Expect": "100-continue"}, length=20 * MB)
    )
    answer = await client.answer()
    assert answer.status == 401


async def test_an_accepted_upload_with_expect_continue_gets_100_then_201(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    data = png(50, 50)
    auth = {"Authorization": f"Bearer {mint_token('alice')}", "Expect": "100-continue"}
    client = await raw(server)
    await client.send(request("PUT", f"/images/{sha(data)}", b"", auth, length=len(data)))
    assert (await client.answer()).status == 100
    await client.send(data)
    assert (await client.answer()).status == 201


async def test_too_large_a_declared_body_is_413_before_it_is_read(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    client = await raw(server)
    auth = {"Authorization": f"Bearer {mint_token('alice')}"}
    await client.send(request("PUT", f"/images/{'0' * 64}", b"", auth, length=300 * MB))
    assert (await client.answer()).status == 413
    await client.send(request("POST", "/api/rooms", b"", auth, length=MB))
    # the connection was closed after the 413: the second request was not read
    assert await client.closed() == b""


async def test_the_budget_of_bodies_in_flight_answers_503_with_retry_after(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    server = await start(bodies_in_flight=MB)
    auth = {"Authorization": f"Bearer {mint_token('alice')}"}
    holder = await raw(server)  # takes the whole budget and sends slowly
    await holder.send(request("PUT", f"/images/{'0' * 64}", b"x", auth, length=MB))
    second = await raw(server)
    await second.send(request("PUT", f"/images/{'1' * 64}", b"x", auth, length=1000))
    answer = await second.answer()
    assert answer.status == 503 and answer.headers["retry-after"] == "5"
    assert answer.json()["reason"] == "busy"
    holder.close()


async def test_connections_per_address_are_limited(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    server = await start(max_http_connections_per_address=5)
    idle = [await raw(server) for _ in range(5)]
    extra = await raw(server)
    assert await extra.closed() == b""  # closed at once, nothing said
    other = await raw(server, local="127.0.0.2")  # another address still gets in
    await other.send(request("GET", "/health"))
    assert (await other.answer()).status == 200
    # a joined WebSocket no longer counts
    for client in [*idle, other]:
        client.close()
    while server.live:  # until the server has seen them go
        await asyncio.sleep(0.01)
    viewers = [(await WsClient.joined(server.url, mint_token(f"u{i}")))[0] for i in range(6)]
    assert len(viewers) == 6
    for viewer in viewers:
        await viewer.close()


async def test_a_connection_costs_websockets_nothing_until_it_upgrades(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    """A flood's connections (silent, or HTTP only) get no websockets handler task: that
    task, its handshake wait and its teardown were a fifth of the server's CPU under
    bench/hostile_http.py's attack. A join still gets one, and the stop still sees all."""
    silent = [await raw(server, local=f"127.0.0.{2 + i % 5}") for i in range(30)]
    http = await raw(server)
    await http.send(request("GET", "/health"))
    assert (await http.answer()).status == 200  # kept alive, not upgraded
    while len(server.live) < 31:  # until the server has accepted them all
        await asyncio.sleep(0.01)
    assert not server.server.handler_tasks
    viewer, joined, _ = await WsClient.joined(server.url, mint_token("bob"))
    assert joined["type"] == "joined"
    assert len(server.server.handler_tasks) == 1
    await viewer.close()
    for client in [*silent, http]:
        client.close()


async def test_at_the_total_the_longest_idle_connection_makes_room(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    server = await start(
        max_http_connections=50, max_http_connections_per_address=0, http_evict_after=0
    )
    idle = [await raw(server, local=f"127.0.0.{2 + i % 20}") for i in range(200)]
    viewer, joined, _ = await WsClient.joined(server.url, mint_token("bob"))
    assert joined["type"] == "joined"
    assert len(server.live) <= 51  # the 50 newest idle ones and the viewer
    await viewer.close()
    for client in idle:
        client.close()


async def test_an_upload_leaves_no_temporary_file(
    start: StartServer, home: Path, mint_token: Callable[..., str]
) -> None:
    (home / "incoming").mkdir()
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()  # a pid that no longer runs
    (home / "incoming" / f"upload-{dead.pid}-abc").write_bytes(b"x")
    server = await start()
    assert list((home / "incoming").iterdir()) == []
    data = png(30, 30)
    auth = {"Authorization": f"Bearer {mint_token('alice')}"}
    for body in (data, b"not an image"):  # stored, refused
        client = await raw(server)
        await client.send(request("PUT", f"/images/{sha(data)}", body, auth))
        assert (await client.answer()).status in (201, 400)
        client.close()
    assert list((home / "incoming").iterdir()) == []


async def test_a_burst_at_the_total_does_not_push_out_a_client_that_just_came(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    """Only a connection idle for http_evict_after may make room: a flood arriving
    right after a fresh client is refused instead of evicting it."""
    server = await start(
        max_http_connections=50, max_http_connections_per_address=0, http_evict_after=600
    )
    fresh = await raw(server)
    flood = [await raw(server, local=f"127.0.0.{2 + i % 20}") for i in range(200)]
    await fresh.send(request("GET", "/health"))
    assert (await fresh.answer()).status == 200
    refused = 0
    for client in flood:
        try:
            await client.send(request("GET", "/health"))
            await client.answer(timeout=5)
        except (ConnectionError, asyncio.IncompleteReadError):
            refused += 1
        client.close()
    assert refused >= 150


async def test_at_the_total_a_join_is_let_in_on_its_first_try(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    """A flood holding every place, none old enough to be pushed out: a newcomer whose
    waiting bytes are a whole upgrade head still joins on its first try (it upgrades at
    its first read and never holds a place); a silent one or an HTTP request is refused
    as before. Under bench/hostile_http.py's attack a join was refused this way."""
    server = await start(
        max_http_connections=8, max_http_connections_per_address=0, http_evict_after=600
    )
    held = [await raw(server, local=f"127.0.0.{2 + i % 5}") for i in range(8)]
    while len(server.live) < 8:
        await asyncio.sleep(0.01)
    silent = await raw(server)
    assert await silent.closed() == b""  # refused: the total holds
    viewer, joined, _ = await WsClient.joined(server.url, mint_token("bob"))
    assert joined["type"] == "joined"
    http = await raw(server)
    with contextlib.suppress(ConnectionError):
        await http.send(request("GET", "/health"))
    assert await http.closed() == b""  # not an upgrade: refused
    assert len(server.live) == 9  # the flood and the viewer
    await viewer.close()
    for client in [*held, silent, http]:
        client.close()


# --- a join's upgrade head, whole in one read, goes to websockets without h11 ---------

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.mark.parametrize(
    ("head", "whole"),
    [
        (UPGRADE, True),
        (UPGRADE.replace(b"Upgrade: websocket", b"upgrade:WebSocket"), True),
        (UPGRADE[:-2], False),  # not all of it yet
        (UPGRADE + request("GET", "/health"), False),  # a request pipelined behind it
        (UPGRADE.replace(b"GET", b"POST"), False),
        (UPGRADE.replace(b"Upgrade: websocket", b"Upgrade: h2c"), False),
        (UPGRADE.replace(b"Upgrade: websocket", b"X-Upgrade: websocket"), False),
        (UPGRADE.replace(b"Host: 127.0.0.1", b"Host: " + b"a" * 17_000), False),  # too big
    ],
)
def test_what_counts_as_a_whole_upgrade_head(head: bytes, whole: bool) -> None:
    from imagechat_tui.server.http_door import _whole_upgrade_head

    assert _whole_upgrade_head(head, 16 * 1024) is whole


async def test_a_whole_upgrade_head_is_answered_by_websockets_good_or_bad(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """websockets' parser is the strict one here (h11 would have read it first)."""
    good = await raw(server)
    await good.send(UPGRADE)
    assert (await good.answer()).status == 101
    good.close()
    bad = await raw(server)  # whole and asking to upgrade, but no key: websockets says 400
    await bad.send(UPGRADE.replace(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", b""))
    assert (await bad.answer()).status == 400
    assert await bad.closed() is not None
    broken = await raw(server)  # a header line no parser accepts: websockets just closes
    await broken.send(UPGRADE.replace(b"Host: 127.0.0.1", b"Ho st: 127.0.0.1"))
    assert await broken.closed() == b""
    pipelined = await raw(server)  # not one whole head: h11 reads it, then websockets
    await pipelined.send(UPGRADE + b"\x81")
    assert (await pipelined.answer()).status == 101
    pipelined.close()
    no_tracebacks(caplog)


# --- issue 16, bad input still open: a slow link, a member's share, an idle flood -----


async def _paced(client: RawHttp, data: bytes, rate: float, piece: int = 256 * 1024) -> None:
    """Send ``data`` at about ``rate`` bytes/s: a slow link, paced by the sender."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for at in range(0, len(data), piece):
        await client.send(data[at : at + piece])
        ahead = started + (at + piece) / rate - loop.time()
        if ahead > 0:
            await asyncio.sleep(ahead)  # the link's pace, not a wait for the server


async def test_a_25_mb_upload_on_a_slow_link_completes_and_a_stalled_one_is_dropped(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    """The clocks scaled down 1/500 from the defaults' intent (a 25 MB upload over a
    link slower than the minimum rate's 8 KiB/s would take an hour): here the minimum is
    4 MB/s after 0.5 s, the link 3 times that, so the upload takes about 2 s."""
    server = await start(body_idle_timeout=0.5, body_min_rate=4 * MB)
    auth = {"Authorization": f"Bearer {mint_token('alice')}"}
    image = png(1, 1)
    data = image + bytes(25 * 1000 * 1000 - len(image))  # a PNG and what follows its end
    stalled = await raw(server)
    await stalled.send(request("PUT", f"/images/{sha(data)}", data[:MB], auth, length=len(data)))
    slow = await raw(server)
    await slow.send(request("PUT", f"/images/{sha(data)}", b"", auth, length=len(data)))
    await _paced(slow, data, rate=12 * MB)
    answer = await slow.answer(timeout=60)
    assert answer.status == 201, answer.body
    assert answer.json()["bytes"] == len(data)
    dropped = await stalled.answer()
    assert dropped.status == 408 and dropped.json()["error"] == "The body stopped arriving."


async def test_one_user_holds_at_most_a_share_of_the_bodies_in_flight(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    """A member with uploads arriving just above the minimum rate holds their reservation
    for as long as those take; they may hold a quarter of the budget beside the first
    body, so others still upload. Before the share, alice's second upload was accepted
    and read, and a third user's only waited until the whole budget was taken."""
    server = await start(bodies_in_flight=4 * MB)  # 1 MB a user beside a first body
    alice = {"Authorization": f"Bearer {mint_token('alice')}"}
    holder = await raw(server)
    await holder.send(request("PUT", f"/images/{'0' * 64}", b"x", alice, length=3 * MB))
    data = png(40, 40)
    second = await raw(server)
    await second.send(request("PUT", f"/images/{sha(data)}", b"", alice, length=len(data)))
    refused = await second.answer()
    assert refused.status == 429 and refused.headers["retry-after"] == "5"
    assert refused.json()["reason"] == "busy"
    assert "too many uploads at once" in refused.json()["error"]
    bob = {"Authorization": f"Bearer {mint_token('bob')}"}
    other = await raw(server)
    await other.send(request("PUT", f"/images/{sha(data)}", data, bob))
    assert (await other.answer()).status == 201
    holder.close()


async def _connect_silently(port: int, local: str) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((local, 0))
    # refused, reset or not accepted within 5 s: a connection the server did not keep
    with contextlib.suppress(OSError):
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", port)), 5)
    return sock


async def _health_as_the_app_retries(port: int) -> httpx.Response:
    """GET /health, retried on a refused connection with the app's own reconnect backoff.
    A newcomer in the last second of a flood faster than the total per ``evict_after`` is
    refused by design (the one idle longest is then too young to push out: see
    test_a_burst_at_the_total_does_not_push_out_a_client_that_just_came); once the flood's
    connections have waited that long, the next try takes the place of one. CI once saw
    the first try refused (the loop took the last 4,096 in under a second)."""
    backoff, rng = Backoff(), random.Random(0)
    async with httpx.AsyncClient() as http:
        for attempt in range(1, 10):
            try:
                return await http.get(f"http://127.0.0.1:{port}/health", timeout=10)
            except (httpx.ReadError, httpx.ConnectError, httpx.RemoteProtocolError):
                await asyncio.sleep(backoff.delay(attempt, rng))
        return await http.get(f"http://127.0.0.1:{port}/health", timeout=10)


async def test_ten_thousand_connections_that_never_send_a_byte(
    home: Path, mint_token: Callable[..., str]
) -> None:
    """10,000 connections from 50 addresses (200 each, under the 256 per address), none
    sending a byte, against the defaults (4,096 in all): the server keeps at most about
    4,096 of them (its open descriptors), its RSS stays bounded, and a fresh client is
    answered and joins (it takes the place of the longest idle one)."""
    port = free_port()
    # (warnings only: its stderr is a pipe nobody reads while 10,000 connections close)
    async with serve_process(home, port, "--log-level", "warning") as proc:
        before = process_rss(proc.pid)
        socks: list[socket.socket] = []
        for batch in range(200):  # 50 at a time: within the listen backlog
            local = f"127.0.1.{batch // 4 + 1}"
            socks += await asyncio.gather(*(_connect_silently(port, local) for _ in range(50)))
        assert len(socks) == 10_000
        health = await _health_as_the_app_retries(port)
        assert health.status_code == 200
        # Counted once /health is answered: the accept queue (4,096 deep) is first in,
        # first out, so every connection queued before it has been taken and, past the
        # limit, closed. Before, the count raced the loop's accepts of 100 a turn.
        held = len(os.listdir(f"/proc/{proc.pid}/fd"))
        # the limit, the newcomers on probation past it (at most 4096 // 16, each for
        # PROBATION_SECONDS), its own files, and refused ones the loop has not closed yet
        assert held <= 4096 + 256 + 200, held
        grown = process_rss(proc.pid) - before
        assert grown < 100 * MB, f"server RSS grew {grown / MB:.0f} MB"
        viewer, joined, _ = await WsClient.joined(f"ws://127.0.0.1:{port}/ws", mint_token("bob"))
        assert joined["type"] == "joined"
        await viewer.close()
        for sock in socks:
            sock.close()


# --- a connection that never upgrades is freed when it goes, not by the collector ----


def _websockets_objects() -> int:
    """Door connections and websockets protocols alive, or garbage not yet collected."""
    from websockets.server import ServerProtocol

    from imagechat_tui.server.http_door import DoorConnection

    return sum(isinstance(o, (DoorConnection, ServerProtocol)) for o in gc.get_objects())


def _refs(server: RunningServer) -> list[weakref.ref[object]]:
    """Weak references to the server's live connections and their transports."""
    return [weakref.ref(o) for c in server.live for o in (c, c.transport)]


async def test_connections_that_never_upgrade_leave_no_garbage_cycle(
    start: StartServer,
) -> None:
    """Every connection websockets' factory makes holds reference cycles (its protocol's
    parser generator, the select_subprotocol closure; asyncio's transport a bound method
    of itself): under bench/hostile_http.py's flood each dropped one (~24 objects) waited
    for a full collection, and those took 0.3-1 s of the loop while a fresh join waited.
    Refused, evicted, timed out or closed by the client: once gone, reference counting
    frees it."""
    server = await start(
        max_http_connections=8, max_http_connections_per_address=0, http_evict_after=600
    )
    gc.collect()
    gc.disable()  # what is left is what only the collector would have freed
    try:
        before = _websockets_objects()
        held = [await raw(server, local=f"127.0.0.{2 + i % 5}") for i in range(8)]
        while len(server.live) < 8:  # all held (the total), none refused yet
            await asyncio.sleep(0.01)
        gone = _refs(server)
        refused = [await raw(server) for _ in range(4)]  # at the total: refused
        for client in refused:
            assert await client.closed() == b""
        for client in held:
            client.close()
        while len(server.live) > 0:
            await asyncio.sleep(0.01)
        http, partial = await raw(server), await raw(server)
        await http.send(request("GET", "/health"))
        assert (await http.answer()).status == 200
        await partial.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        while len(server.live) < 2:
            await asyncio.sleep(0.01)
        gone += _refs(server)
        http.close()
        partial.close()
        while server.live:
            await asyncio.sleep(0.01)
        for _ in range(3):  # the loop's last callbacks of the closed transports
            await asyncio.sleep(0)
        assert [ref() for ref in gone if ref() is not None] == []
        assert _websockets_objects() == before  # the refused ones too
    finally:
        gc.enable()
