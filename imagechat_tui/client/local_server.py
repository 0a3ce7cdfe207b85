"""The embedded default: find the local sync server, or start one in the background.

With no server named, the app talks to ``ws://127.0.0.1:PORT/ws``, PORT being the
OS user's own (``default_port``: 8765 + uid, so users of one host never collide). When nothing
answers there, ``ensure_local_server`` starts ``imagechat-tui serve`` as a detached
process (its own session, logs in the data directory, exits by itself when idle) and
waits until its ``/health`` answers. ``local_token`` mints a token for the OS user
with the local tenant's secret, which that server reads from the same data directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imagechat_tui.auth import LOCAL_TENANT, TenantStore, local_user_id
from imagechat_tui.paths import TOKEN_ACCEPTED_HEADER, data_home

DEFAULT_HOST = "127.0.0.1"
BASE_PORT = 8765


def default_port(uid: int | None = None) -> int:
    """Each OS user's own local default port: 8765 + uid (root keeps 8765), so people
    sharing a host never find another user's server on theirs. Distinct for every uid
    below 56770; above that it wraps (and a clash is reported, never joined)."""
    if uid is None:
        uid = os.getuid() if hasattr(os, "getuid") else 0
    return BASE_PORT + uid % (65535 - BASE_PORT)


DEFAULT_PORT = default_port()
DEFAULT_URL = f"ws://{DEFAULT_HOST}:{DEFAULT_PORT}/ws"
IDLE_EXIT_SECONDS = 300


@dataclass(frozen=True, slots=True)
class LocalServer:
    url: str
    started_pid: int | None  # the process we started, or None if one was already running
    process: subprocess.Popen[bytes] | None = None  # the same, to see whether it still runs


class LocalServerError(Exception):
    """The local server could not be started; the message says where its log is."""


def health_url(ws_url: str) -> str:
    base = ws_url.removesuffix("/ws")
    return base.replace("wss://", "https://", 1).replace("ws://", "http://", 1) + "/health"


def is_healthy(ws_url: str, timeout: float = 1.0) -> bool:
    return _probe(ws_url, timeout) is not None


def _probe(ws_url: str, timeout: float, token: str | None = None) -> bool | None:
    """None when nothing healthy answers, else whether it accepts ``token`` (a server
    with our data directory does: it has the same tenant secrets)."""
    import httpx  # here: the app draws before it looks for the server (first paint)

    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    try:
        response = httpx.get(health_url(ws_url), timeout=timeout, headers=headers)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return bool(response.headers.get(TOKEN_ACCEPTED_HEADER) == "accepted")


def ensure_local_server(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    home: Path | None = None,
    wait: float = 10.0,
) -> LocalServer:
    """A running local server, started in the background if none answers.

    Under a lock file in the data directory: apps racing to start it (two terminals
    opened at once, or finding it gone together) start one server, the others find it."""
    home = home or data_home()
    with _start_lock(home):
        return _ensure(host, port, home, wait)


@contextlib.contextmanager
def _start_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / "server.start.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def _ensure(host: str, port: int, home: Path, wait: float) -> LocalServer:
    url = f"ws://{host}:{port}/ws"
    token = local_token(home)
    running = _probe(url, 1.0, token)
    if running is not None:
        if not running:
            raise _another_data_directory(port)
        return LocalServer(url, None)
    log_path = home / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imagechat_tui",
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--idle-exit",
                str(IDLE_EXIT_SECONDS),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # survives this terminal; exits by itself when idle
            close_fds=True,
        )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        # With the token: the first look may have timed out on a busy server of another
        # data directory, whose port ours then fails to bind; that one must not pass.
        answered = _probe(url, 0.5, token)
        if answered:
            return LocalServer(url, process.pid, process)
        if answered is not None:
            process.kill()
            raise _another_data_directory(port)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise LocalServerError(f"The local sync server did not start; see {log_path}.")


def _another_data_directory(port: int) -> LocalServerError:
    # Another user's server (or one with another IMAGECHAT_HOME): our local token would
    # be refused there, so say so instead of asking for a token.
    return LocalServerError(
        f"Port {port} is taken by an imagechat-tui server that uses another data "
        "directory (another user's, or another IMAGECHAT_HOME). Name a server with "
        "--server, or set IMAGECHAT_HOME to that server's data directory."
    )


def local_user(name: str | None = None) -> str:
    """Who we are on the local tenant: the OS login, or with ``--name`` that name under
    it (two people on one login, as over ssh to a shared account, are two reviewers)."""
    login = local_user_id()
    if not name or not name.strip():
        return login
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-")
    return f"{login}:{slug}" if slug else login


def local_token(home: Path | None = None, name: str | None = None) -> str:
    """A token for the current OS user on the local tenant (shown as ``name``, if given)."""
    store = TenantStore.in_home(home or data_home())
    user = local_user(name)
    return store.mint(tenant=LOCAL_TENANT, user_id=user, name=name.strip() if name else None)


#: Told what the keeper is doing, in words (the connection shows it in the banner).
Announce = Callable[[str], None]


class LocalServerKeeper:
    """Starts the local default server again whenever it is gone.

    Any app on the local default keeps it, whether it started the server or found it
    running (another terminal's): when nothing answers on the port, the first app to
    notice starts it (``ensure_local_server``'s lock makes the others find that one).
    ``revive`` is the connection's hook before each reconnect attempt, so every app
    comes back by itself, and ``announce`` says what is happening.
    """

    def __init__(self, started: LocalServer | None, *, host: str, port: int, home: Path) -> None:
        """``started``: the server found or started; None: not looked for yet, so the
        app draws at once and the first ``revive`` (before the connection's first
        attempt) finds or starts it while the image is on the screen."""
        self.process = started.process if started is not None else None
        self.restarts = 0  # servers this keeper started again
        self.error: str | None = None  # why the last start failed (its log path)
        self._host, self._port, self._home = host, port, home
        self._url = started.url if started is not None else f"ws://{host}:{port}/ws"
        self._looked = started is not None

    async def revive(self, announce: Announce | None = None) -> None:
        if not self._looked:
            self._looked = True
            await self._first(announce)
            return
        if self.process is not None and self.process.poll() is None:
            return  # ours, still running
        if await asyncio.to_thread(is_healthy, self._url, 0.5):
            return  # someone's server answers
        if announce is not None:
            announce("The local sync server is not running; starting it again…")
        try:
            started = await asyncio.to_thread(
                ensure_local_server, host=self._host, port=self._port, home=self._home
            )
        except LocalServerError as exc:
            self.error = str(exc)  # the next reconnect attempt tries again
            if announce is not None:
                announce(f"{exc} Trying again shortly.")
            return
        self.error = None
        self.process = started.process  # None: another app's server answered first
        if started.process is not None:
            self.restarts += 1
        if announce is not None:
            announce("The local sync server is running again; reconnecting…")

    async def _first(self, announce: Announce | None) -> None:
        """Find the local server, or start it (in a thread: the app keeps drawing)."""
        try:
            started = await asyncio.to_thread(
                ensure_local_server, host=self._host, port=self._port, home=self._home
            )
        except LocalServerError as exc:
            self.error = str(exc)  # said in the banner; the next attempt tries again
            if announce is not None:
                announce(f"{exc} Trying again shortly.")
            return
        self.process = started.process
