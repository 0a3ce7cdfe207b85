"""Server nodes as real processes (``python -m imagechat_tui serve``), so that a test
can ``kill -9`` one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.services import free_port, wait_healthy


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

    def _wait_healthy(self) -> None:
        try:
            wait_healthy(self.port, self.process, self.log)
        except TimeoutError:
            self.kill9()
            raise

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
