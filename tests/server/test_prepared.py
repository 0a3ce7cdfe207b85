"""What server/prepared.py relies on in websockets, pinned over real loopback sockets.

If an upgrade of websockets changes any of it, these fail before a viewer gets a frame
it cannot decode."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
)
from websockets.frames import Frame, Opcode

from imagechat_tui import wire
from imagechat_tui.server.prepared import (
    PLAIN_JSON,
    BatchCache,
    PreparedFrame,
    WireFormat,
    deflate_extension,
    release_handshake,
    select_subprotocol,
    wire_format,
)

Handler = Callable[[ServerConnection], Awaitable[None]]
MESSAGE = b'{"type":"presence","room":"r","viewers":[],"count":0}' * 3


@pytest.fixture
async def bare_server() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """A websockets server configured as ours (extension, subprotocol), running a
    handler given by the test."""
    servers = []

    async def start(handler: Handler) -> str:
        server = await serve(
            handler,
            "127.0.0.1",
            0,
            compression=None,
            extensions=[deflate_extension()],
            select_subprotocol=select_subprotocol,
        )
        servers.append(server)
        port = next(iter(server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_deflate_is_negotiated_without_context_takeover_either_way(
    bare_server: Callable[[Handler], Awaitable[str]],
) -> None:
    """websockets' default client offer (what browsers offer too) gets no context
    takeover in both directions, so the server keeps no compressor or decompressor
    between messages."""
    server_side: list[ServerConnection] = []

    async def echo(ws: ServerConnection) -> None:
        server_side.append(ws)
        async for message in ws:
            await ws.send(message)

    url = await bare_server(echo)
    async with connect(url) as client:  # compression="deflate" by default
        offered = client.response.headers["Sec-WebSocket-Extensions"]
        assert "server_no_context_takeover" in offered
        assert "client_no_context_takeover" in offered
        for _ in range(3):
            await client.send("x" * 500)
            assert await client.recv() == "x" * 500
        (ext,) = server_side[0].protocol.extensions
        assert isinstance(ext, PerMessageDeflate)
        assert ext.local_no_context_takeover and ext.remote_no_context_takeover
        assert not hasattr(ext, "encoder") and not hasattr(ext, "decoder")
        assert wire_format(server_side[0]) == WireFormat(False, ext.local_max_window_bits)


async def test_a_prepared_frame_is_byte_for_byte_what_websockets_would_send(
    bare_server: Callable[[Handler], Awaitable[str]],
) -> None:
    formats: list[tuple[WireFormat, bytes]] = []

    async def handler(ws: ServerConnection) -> None:
        own = Frame(Opcode.TEXT, MESSAGE).serialize(mask=False, extensions=ws.protocol.extensions)
        formats.append((wire_format(ws), own))
        await ws.wait_closed()

    url = await bare_server(handler)
    for window in (9, 12):
        async with connect(url, compression=None) as plain:
            await plain.ping()
        factory = ClientPerMessageDeflateFactory(server_max_window_bits=window)
        async with connect(url, compression=None, extensions=[factory]) as deflating:
            await deflating.ping()
    assert [fmt for fmt, _ in formats] == [
        PLAIN_JSON, WireFormat(False, 9), PLAIN_JSON, WireFormat(False, 12),
    ]  # fmt: skip
    for fmt, own in formats:
        assert PreparedFrame(MESSAGE).frame(fmt) == own


async def test_frames_written_directly_interleave_with_websockets_own(
    bare_server: Callable[[Handler], Awaitable[str]],
) -> None:
    """Prepared frames written to the transport, websockets' own sends and pings in
    between, in order; then a clean closing handshake."""

    async def handler(ws: ServerConnection) -> None:
        fmt = wire_format(ws)
        release_handshake(ws)
        assert ws.request is not None and ws.response is None
        assert PreparedFrame(b'"first"').write(ws, fmt)
        await ws.send('"second"')
        await ws.ping()
        assert await PreparedFrame(b'"third"').send(ws, fmt)
        async for message in ws:  # still reads after release_handshake
            assert PreparedFrame(message.encode() if isinstance(message, str) else message).write(
                ws, fmt
            )

    url = await bare_server(handler)
    for compression in (None, "deflate"):
        async with connect(url, compression=compression) as client:
            assert [await client.recv() for _ in range(3)] == ['"first"', '"second"', '"third"']
            await client.send('"echo"')
            assert await client.recv() == '"echo"'
        assert client.close_code == 1000


async def test_binary_is_chosen_only_when_offered(
    bare_server: Callable[[Handler], Awaitable[str]],
) -> None:
    seen: list[WireFormat] = []

    async def handler(ws: ServerConnection) -> None:
        seen.append(wire_format(ws))
        await PreparedFrame(MESSAGE, lambda: b"\x92\x04\x90").send(ws, wire_format(ws))
        await ws.wait_closed()

    url = await bare_server(handler)
    received: list[str | bytes] = []
    for offer in ([wire.SUBPROTOCOL], ["chat.v2"], None):
        async with connect(url, compression=None, subprotocols=offer) as client:  # type: ignore[arg-type]
            received.append(await client.recv())
            assert client.subprotocol == (wire.SUBPROTOCOL if offer == [wire.SUBPROTOCOL] else None)
    assert seen == [WireFormat(binary=True), PLAIN_JSON, PLAIN_JSON]
    assert received == [b"\x92\x04\x90", MESSAGE.decode(), MESSAGE.decode()]


def test_flow_control_is_awaitable() -> None:
    """PreparedFrame.send waits on the connection's own flow control."""
    assert inspect.iscoroutinefunction(ServerConnection.drain)


def test_viewers_behind_at_the_same_point_share_one_batch() -> None:
    events = [b'{"seq":1}', b'{"seq":2}', b'{"seq":3}']
    cache = BatchCache(size=2)
    made: list[list[bytes]] = []

    def make(run: list[bytes]) -> PreparedFrame:
        made.append(run)
        return PreparedFrame(b"[" + b",".join(run) + b"]")

    shared = cache.get(events, make)
    assert cache.get(list(events), make) is shared  # another viewer's backlog, same run
    assert len(made) == 1
    # Equal bytes are not the same events (another room's, say): a batch of its own.
    copies = [bytes(bytearray(e)) for e in events]
    assert cache.get(copies, make) is not shared
    assert cache.get(events[:2], make) is not shared
    assert len(made) == 3
