"""A node started as users start it (``imagechat-tui serve`` in its own process) with its
log in a file, for tests that read what the node wrote."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.services import free_port


@contextlib.contextmanager
def logged_node(home: Path, *options: str) -> Iterator[tuple[int, Path]]:
    """``serve --port P *options`` on a free port with ``home`` as its data directory,
    stdout and stderr in ``home/node.log``; yields (port, log) once /health answers, and
    stops the node on the way out (so the log is whole when the block ends)."""
    port = free_port()
    log = home / "node.log"
    command = [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port), *options]
    with log.open("wb") as out:
        node = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "IMAGECHAT_HOME": str(home)},
        )
    try:
        _wait_healthy(port, node, log)
        yield port, log
    finally:
        node.terminate()
        node.wait(30)


def _wait_healthy(port: int, node: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # only ends a node that hangs
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise AssertionError(f"node exited: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"node never answered: {log.read_text()}")
