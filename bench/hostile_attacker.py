"""The attack side of bench/hostile_http.py, run as its own process (so its CPU is not the
viewers'). Until killed, it keeps up, against one server:

- ``--idle`` connections that never send a byte (spread over 127.0.0.2-127.0.0.41, so a
  per-address limit alone does not stop them), each reopened 1 s after the server drops it;
- ``--slow`` slowloris heads: a request line, then one header byte a second, never the end;
- ``--bodies`` connections sending 26e6-1 bytes to ``PUT /images/...`` with no token, again
  and again (the issue's first attack);
- ``--garbage`` connections sending bad requests in a loop: bad chunk sizes, Content-Length
  with Transfer-Encoding, oversized heads, pipelined requests.

Prints one line "attacking" once every kind is under way, then, at SIGTERM, one JSON
line of counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import signal
import socket

COUNTS = {"idle_opened": 0, "slow_opened": 0, "bodies_sent": 0, "answers": 0, "garbage_sent": 0}
JUNK = memoryview(b"\0" * (26_000_000 - 1))
GARBAGE = [
    b"PUT /images/"
    + b"0" * 64
    + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20_000 + b"\r\n\r\n",
    b"POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\0" * 64 + b"\r\n\r\n",
]


async def _connect(port: int, local: str) -> socket.socket:
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    sock.bind((local, 0))
    await loop.sock_connect(sock, ("127.0.0.1", port))
    return sock


async def _until_closed(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    with contextlib.suppress(OSError):
        while await loop.sock_recv(sock, 65536):
            pass


async def idle(port: int, n: int) -> None:
    local = f"127.0.0.{2 + n % 40}"
    while True:
        try:
            sock = await _connect(port, local)
        except OSError:
            await asyncio.sleep(1)
            continue
        COUNTS["idle_opened"] += 1
        await _until_closed(sock)
        sock.close()
        await asyncio.sleep(1)


async def slow(port: int, n: int) -> None:
    loop = asyncio.get_running_loop()
    local = f"127.0.0.{50 + n % 40}"
    while True:
        try:
            sock = await _connect(port, local)
            COUNTS["slow_opened"] += 1
            await loop.sock_sendall(sock, b"GET /health HTTP/1.1\r\nHost: x\r\n")
            while True:
                await loop.sock_sendall(sock, b"X")
                await asyncio.sleep(1)
        except OSError:
            pass
        finally:
            sock.close()


async def bodies(port: int, n: int) -> None:
    loop = asyncio.get_running_loop()
    head = (
        f"PUT /images/{'0' * 64} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(JUNK)}\r\n\r\n"
    ).encode()
    while True:
        try:
            sock = await _connect(port, f"127.0.0.{100 + n % 20}")
            try:
                with contextlib.suppress(OSError):
                    await loop.sock_sendall(sock, head)
                    await loop.sock_sendall(sock, JUNK)
                COUNTS["bodies_sent"] += 1
                if await loop.sock_recv(sock, 4096):
                    COUNTS["answers"] += 1
            finally:
                sock.close()
        except OSError:
            await asyncio.sleep(0.1)


async def garbage(port: int, n: int) -> None:
    loop = asyncio.get_running_loop()
    i = n
    while True:
        try:
            sock = await _connect(port, f"127.0.0.{130 + n % 20}")
            try:
                await loop.sock_sendall(sock, GARBAGE[i % len(GARBAGE)])
                COUNTS["garbage_sent"] += 1
                await _until_closed(sock)
            finally:
                sock.close()
        except OSError:
            pass
        i += 1
        await asyncio.sleep(0.1)


async def main(args: argparse.Namespace) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tasks = [asyncio.create_task(idle(args.port, i)) for i in range(args.idle)]
    tasks += [asyncio.create_task(slow(args.port, i)) for i in range(args.slow)]
    tasks += [asyncio.create_task(bodies(args.port, i)) for i in range(args.bodies)]
    tasks += [asyncio.create_task(garbage(args.port, i)) for i in range(args.garbage)]
    for _ in range(300):  # until every kind is under way, or 30 s
        if COUNTS["idle_opened"] >= min(args.idle, 3000) and (
            COUNTS["bodies_sent"] or not args.bodies
        ):
            break
        await asyncio.sleep(0.1)
    print("attacking", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for task in tasks:
        task.cancel()
    print(json.dumps(COUNTS), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--garbage", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
