"""The baseline of the join benchmark (bench/joins.py): the least a server can do for a join.

Accept, upgrade with the same offer our server makes (permessage-deflate without context
takeover, a 12-bit window; the binary subprotocol if the client offers it), read the
client's first message (its ``join``), and answer with one frame of ``--reply-bytes``
made once and written as is to every joiner (as a server that shares one encoded
snapshot would). No rooms, tokens, presence, timers, logging or metrics: what our server
does on top of this is what the benchmark prices.

    python bench/join_relay.py --port N [--reply-bytes 24000] [--no-compression]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid

from bare_relay import ready_until_sigterm
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame, Opcode
from websockets.typing import Subprotocol

WINDOW_BITS = 12
MEM_LEVEL = 5
SUBPROTOCOL = Subprotocol("imagechat.msgpack.v1")


def reply_payload(size: int) -> bytes:
    """JSON like a snapshot's (ids, positions, short texts), ``size`` bytes or a little more."""
    markers = []
    text = b""
    while len(text) < size:
        markers.append(
            {
                "id": str(uuid.uuid4()),
                "x": len(markers) % 100 + 0.5,
                "y": 40.0,
                "text": f"marker {len(markers)}: the button is two pixels off",
                "comments": [{"id": str(uuid.uuid4()), "text": "ok"}],
            }
        )
        text = json.dumps({"type": "snapshot", "chats": markers}).encode()
    return text


async def main(port: int, compression: bool, reply_bytes: int) -> None:
    payload = reply_payload(reply_bytes)
    plain = Frame(Opcode.TEXT, payload).serialize(mask=False)
    deflate = PerMessageDeflate(
        remote_no_context_takeover=True,
        local_no_context_takeover=True,
        remote_max_window_bits=15,
        local_max_window_bits=WINDOW_BITS,
        compress_settings={"memLevel": MEM_LEVEL},
    )
    deflated = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[deflate])

    async def join(ws: ServerConnection) -> None:
        try:
            await ws.recv()
            ws.transport.write(deflated if ws.protocol.extensions else plain)
            async for _ in ws:
                pass
        except ConnectionClosed:
            return

    extensions = (
        [
            ServerPerMessageDeflateFactory(
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                server_max_window_bits=WINDOW_BITS,
                compress_settings={"memLevel": MEM_LEVEL},
            )
        ]
        if compression
        else None
    )
    async with serve(
        join,
        "127.0.0.1",
        port,
        compression=None,
        extensions=extensions,
        subprotocols=[SUBPROTOCOL],
        max_size=2**20,
    ) as server:
        await ready_until_sigterm(server)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--reply-bytes", type=int, default=24_000)
    args = parser.parse_args()
    asyncio.run(main(args.port, not args.no_compression, args.reply_bytes))
