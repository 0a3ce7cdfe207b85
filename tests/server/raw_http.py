"""A raw HTTP/1.1 client on a real socket, for sending what no polite client sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

READ_TIMEOUT = 20.0


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawHttp:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int, local: str | None = None) -> RawHttp:
        reader, writer = await asyncio.open_connection(
            host, port, local_addr=(local, 0) if local else None, limit=2**20
        )
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, timeout: float = READ_TIMEOUT) -> Answer:
        """The next response (an interim 100 is returned as such)."""
        async with asyncio.timeout(timeout):
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await self.reader.readexactly(length) if length else b""
            return Answer(status, headers, body)

    async def closed(self, timeout: float = READ_TIMEOUT) -> bytes:
        """Everything until the server closes the connection."""
        async with asyncio.timeout(timeout):
            try:
                return await self.reader.read()
            except ConnectionResetError:
                return b""

    def close(self) -> None:
        self.writer.close()


def request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    length: int | None = None,
) -> bytes:
    """A request's bytes; ``length`` declares a Content-Length other than the body's."""
    lines = [f"{method} {path} HTTP/1.1", "Host: test"]
    all_headers = dict(headers or {})
    if "Transfer-Encoding" not in all_headers and (body or length is not None):
        all_headers.setdefault("Content-Length", str(len(body) if length is None else length))
    lines += [f"{name}: {value}" for name, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*parts: bytes) -> bytes:
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


def process_rss(pid: int) -> int:
    """Another process's resident memory now."""
    with open(f"/proc/{pid}/status") as status:
        match = re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M)
    assert match
    return int(match[1]) * 1024


@contextlib.asynccontextmanager
async def serve_process(
    home: Path, port: int, *args: str
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``imagechat-tui serve`` as its own process (so its memory is its own), once its
    /health answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imagechat_tui",
            "serve",
            "--port",
            str(port),
            "--home",
            str(home),
            *args,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as http:
            while True:
                if proc.poll() is not None:
                    stderr = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"serve exited with {proc.returncode}: {stderr}")
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 20)
