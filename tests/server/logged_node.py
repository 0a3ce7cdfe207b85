"""A node started as users start it (``imagechat-tui serve`` in its own process) with its
log in a file, for tests that read what the node wrote."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.services import free_port, wait_healthy


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
        wait_healthy(port, node, log)
        yield port, log
    finally:
        node.terminate()
        node.wait(30)
