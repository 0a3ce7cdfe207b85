"""Two OS accounts on one host (created here, run with ``runuser``): each gets its own
local default server with no collision, and on a peer-authenticated unix socket each is
known by its account, with no token at all."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from imagechat_tui.client.connection import PEER_TOKEN, Connection
from imagechat_tui.model import Actor
from imagechat_tui.protocol import User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import RunningServer
from tests.conftest import StartServer
from tests.services import missing

REPO = Path(__file__).resolve().parents[2]


def _world_readable(path: Path) -> bool:
    """Every directory up to ``path`` is traversable by others (o+x)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents] if p.exists())


def _python_for_others() -> tuple[str, str]:
    """An interpreter another account can run, and the PYTHONPATH that finds our code and
    its dependencies from there."""
    paths = [str(REPO), *site.getsitepackages()]
    if not all(_world_readable(Path(p)) for p in paths):
        missing("the checkout or its site-packages are not readable by other accounts")
    if _world_readable(Path(sys.executable).resolve().parent):
        return sys.executable, os.pathsep.join(paths)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None:
        missing(f"no {version} that other accounts can run (sys.executable is private)")
    assert system is not None
    return system, os.pathsep.join(paths)


@pytest.fixture
def two_accounts() -> Iterator[list[tuple[str, Path]]]:
    if os.geteuid() != 0 or not (shutil.which("useradd") and shutil.which("runuser")):
        missing("needs root with useradd and runuser (apt-get install passwd util-linux)")
    base = Path(tempfile.mkdtemp(prefix="ict-users-", dir="/tmp"))
    base.chmod(0o755)
    accounts: list[tuple[str, Path]] = []
    try:
        for letter in "ab":
            name = f"ict{letter}{uuid.uuid4().hex[:6]}"
            home = base / name
            subprocess.run(
                [
                    "useradd",
                    "--create-home",
                    "--home-dir",
                    str(home),
                    "--shell",
                    "/bin/sh",
                    "--comment",
                    f"Reviewer {letter.upper()}",
                    name,
                ],
                check=True,
                capture_output=True,
            )
            accounts.append((name, home))
        yield accounts
    finally:
        for name, _ in accounts:
            _wait_for_no_process_of(name)
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _uids_running() -> set[int]:
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    uids.add(int(line.split()[1]))
    return uids


def _wait_for_no_process_of(name: str) -> None:
    """userdel refuses while the account runs a process (a server still exiting)."""
    import pwd
    import time

    uid = pwd.getpwnam(name).pw_uid
    deadline = time.monotonic() + 60
    while uid in _uids_running() and time.monotonic() < deadline:
        time.sleep(0.1)


async def run_as(user: str, home: Path, script: str) -> dict[str, object]:
    python, pythonpath = _python_for_others()
    env = [f"HOME={home}", f"PYTHONPATH={pythonpath}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
    process = await asyncio.create_subprocess_exec(
        "runuser",
        "-u",
        user,
        "--",
        "env",
        "-i",
        *env,
        python,
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        cwd="/tmp",
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


JOIN = """
import asyncio, json, websockets
async def join(connect, token):
    async with connect as ws:
        await ws.send(json.dumps({"op": "join", "room": "r1", "token": token}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] in ("joined", "error"):
                return frame
"""

LOCAL_DEFAULT = (
    JOIN
    + """
from imagechat_tui.client.local_server import ensure_local_server, local_token
from imagechat_tui.paths import data_home
server = ensure_local_server()
frame = asyncio.run(join(websockets.connect(server.url), local_token()))
print(json.dumps({"url": server.url, "pid": server.started_pid, "home": str(data_home()),
                  "joined": frame}))
"""
)


async def test_each_account_gets_its_own_local_default(
    two_accounts: list[tuple[str, Path]],
) -> None:
    started: list[int] = []
    try:
        results = []
        for name, home in two_accounts:  # the second starts while the first one's runs
            result = await run_as(name, home, LOCAL_DEFAULT)
            started.append(int(result["pid"]))  # type: ignore[arg-type]
            results.append(result)
        (a, b), ((name_a, home_a), (name_b, home_b)) = results, two_accounts
        assert a["url"] != b["url"]
        assert str(a["home"]).startswith(str(home_a)) and str(b["home"]).startswith(str(home_b))
        assert a["joined"]["user"]["id"] == name_a  # type: ignore[index]
        assert b["joined"]["user"]["id"] == name_b  # type: ignore[index]
        # Asked again, each finds its own running server (no new one, no refusal).
        again = await run_as(name_a, home_a, LOCAL_DEFAULT)
        assert again["url"] == a["url"] and again["pid"] is None
    finally:
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


PEER = (
    JOIN
    + """
import sys
frame = asyncio.run(join(websockets.unix_connect(sys.argv[1], "ws://localhost/ws"), "ignored"))
print(json.dumps(frame))
"""
)


async def test_a_peer_auth_socket_knows_everyone_by_their_account(
    start: StartServer, two_accounts: list[tuple[str, Path]]
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ict-sock-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        socket_path = folder / "review.sock"
        server: RunningServer = await start(unix_socket=socket_path, peer_auth=True)
        assert server.url == f"unix:{socket_path}"
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o666
        for name, home in two_accounts:
            script = PEER.replace("sys.argv[1]", repr(str(socket_path)))
            frame = await run_as(name, home, script)
            assert frame["type"] == "joined", frame
            assert frame["user"] == {"id": name, "name": f"Reviewer {name[3].upper()}"}
            assert frame["role"] == "member"
        # The server's own account (root here) is the admin; the app's Connection
        # reaches the socket with --server unix:PATH and no token of its own.
        replica = Replica("r1", Actor(User(id="?", name="?")))
        connection = Connection(
            server.url, PEER_TOKEN, replica, on_state=lambda s: None, on_received=lambda r: None
        )
        task = asyncio.create_task(connection.run())
        async with asyncio.timeout(20):
            while not connection.connected:
                await asyncio.sleep(0.02)
        assert replica.actor.user.id == "root" and replica.actor.role == "admin"
        await connection.close()
        await task
        # Tokens mean nothing here: a forged one changes nobody's identity.
        async with websockets.unix_connect(str(socket_path), "ws://localhost/ws") as ws:
            await ws.send(json.dumps({"op": "join", "room": "r1", "token": "eyJforged"}))
            while (frame := json.loads(await ws.recv()))["type"] != "joined":
                pass
            assert frame["user"]["id"] == "root"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
