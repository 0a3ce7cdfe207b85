"""The baseline for the fan-out benchmark: a bare ``websockets.broadcast`` relay.

Every text frame any client sends is forwarded as is to every connected client: no
parsing, no validation, no storage, no batching. What our server does on top of this is
what the benchmark prices.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve


async def main(port: int, compression: str | None) -> None:
    connections: set[ServerConnection] = set()

    async def relay(ws: ServerConnection) -> None:
        connections.add(ws)
        try:
            async for message in ws:
                broadcast(connections, message)
        finally:
            connections.discard(ws)

    async with serve(relay, "127.0.0.1", port, compression=compression, max_size=2**20) as server:
        await ready_until_sigterm(server)


async def ready_until_sigterm(server: Server) -> None:
    """Say "ready" (what bench/fanout.py's relay_process waits for), serve until SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("ready", flush=True)
    await stop
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compression", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.port, "deflate" if args.compression else None))
