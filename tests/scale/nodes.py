"""Server nodes as real processes (``python -m imagechat_tui serve``), so that a test
can ``kill -9`` one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.services import free_port


class Node:
    def __init__(self, home: Path, database: str, broker: str | None, **env: str) -> None:
        self.port = free_port()
        self.log = home / f"node-{self.port}.log"
        command = [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(self.port)]
        command += ["--database", database, "--log-level", "info"]
        if broker is not None:
            command += ["--broker", broker]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "IMAGECHAT_HOME": str(home), **env},
            )
        self._wait_healthy()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _wait_healthy(self, backstop: float = 180.0) -> None:
        """Until the node answers /health, or fails the test at once if it exits.

        The real conditions are those two; ``backstop`` only ends a node that hangs. A
        fresh process on a loaded machine can spend 20 s importing before it logs a
        word, so this is no measure of how fast a node starts (a 20 s limit failed so)."""
        deadline = time.monotonic() + backstop
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited: {self.log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=10).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"node neither answered nor exited: {self.log.read_text()}")

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()
