"""Two people, two homes, nothing shared but the link printed by `share`.

Alice runs the server and `imagechat-tui share` (a real subprocess). Bea has her own
IMAGECHAT_HOME and XDG dirs and no copy of the image: the link alone gets her the image,
Alice's markers, a personal token, and a live room with Alice.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from imagechat_tui.client.accounts import Accounts
from imagechat_tui.client.connection import Backoff, Connection
from imagechat_tui.client.target import resolve
from imagechat_tui.model import Actor
from imagechat_tui.protocol import AddComment, NewComment, UpdateOp, User
from imagechat_tui.replica import Replica
from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.launch import build_connection
from tests.sharing.images import png, sha
from tests.tui.helpers import RemoteClient, running, until


async def run_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The real command in a child process (the server runs in this one's event loop)."""
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "PYTHONPATH": os.getcwd()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "imagechat_tui",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


class RoomClient(RemoteClient):
    """Alice's other terminal: a real Connection to the shared room."""

    def __init__(self, url: str, token: str, room: str) -> None:
        self.replica = Replica(room, Actor(User(id="?", name="?")))
        self.connection = Connection(
            url, token, self.replica, on_state=lambda s: None, on_received=lambda r: None
        )
        self.task = asyncio.create_task(self.connection.run())


@pytest.fixture
def bea_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Bea's own machine, as far as files go: her home, config and cache dirs."""
    home = tmp_path / "bea"
    home.mkdir()
    monkeypatch.setenv("IMAGECHAT_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    return home


async def share(server: RunningServer, image: Path, *extra: str) -> str:
    assert server.config.home is not None
    result = await run_cli(
        "share", str(image), "--server", server.http_url, *extra, home=server.config.home
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # the link is the last line


async def test_the_link_alone_brings_bea_into_alices_room_live(
    server: RunningServer,
    mint_token: Callable[..., str],
    tmp_path: Path,
    bea_home: Path,
) -> None:
    image = tmp_path / "alice" / "mock.png"
    image.parent.mkdir()
    data = png(320, 180, (200, 40, 40))
    image.write_bytes(data)
    link = await share(server, image, "--uses", "1")
    assert link.startswith(server.http_url + "/r/") and "invite=" in link

    # Alice's marker, made before Bea arrives, in the room the link names.
    room = link.split("/r/", 1)[1].split("?", 1)[0]
    alice = RoomClient(server.url, mint_token("alice", name="Alice"), room)
    await alice.connected()

    # Bea: nothing but the link.
    target = await asyncio.to_thread(
        resolve, link, None, None, None, None, Console(stderr=True), "Bea"
    )
    assert target.loaded.digest == sha(data) and target.loaded.image.size == (320, 180)
    assert target.room == room and target.server_url == server.url
    assert target.user.name == "Bea" and target.title == "mock.png"
    accounts = Accounts()
    assert stat.S_IMODE(accounts.path.stat().st_mode) == 0o600
    assert accounts.path.is_relative_to(bea_home)
    assert (bea_home / "cache" / "images" / f"{sha(data)}.img").read_bytes() == data

    marker = alice.create(25.0, 40.0, "Logo is off-centre")
    connection = build_connection(
        target.server_url,
        target.token,
        target.room,
        target.user,
        backoff=Backoff(base=0.05, cap=0.3),
    )
    app = ImageChatApp(target.loaded.image, connection, title=target.title)
    async with running(app, (120, 36)) as pilot:
        await until(pilot, lambda: marker in app.link.replica.view.chats)
        assert app.link.replica.view.chats[marker].comments[0].text == "Logo is off-centre"
        # Bea replies from the app; Alice sees it live ...
        app.link.submit(
            UpdateOp(
                broadcastId=str(uuid.uuid4()),
                chatId=marker,
                change=AddComment(comment=NewComment(id=str(uuid.uuid4()), text="Agreed")),
            )
        )
        await until(pilot, lambda: len(alice.replica.view.chats[marker].comments) == 2)
        assert alice.replica.view.chats[marker].comments[1].author.name == "Bea"
        # ... and Alice's next marker reaches Bea live.
        second = alice.create(70.0, 60.0, "And the footer")
        await until(pilot, lambda: second in app.link.replica.view.chats)
    await alice.close()

    # The invite had one use and Bea used it: her saved token still opens the room.
    again = await asyncio.to_thread(resolve, link, None, None, None, None, Console(stderr=True))
    assert again.token == target.token and again.user.name == "Bea"


async def test_a_used_up_invite_is_one_line_and_a_non_zero_exit(
    server: RunningServer, tmp_path: Path, bea_home: Path
) -> None:
    image = tmp_path / "shot.png"
    image.write_bytes(png(40, 30))
    link = await share(server, image, "--uses", "1")
    # Bea redeems it (in this process: the app itself needs a terminal) ...
    await asyncio.to_thread(resolve, link, None, None, None, None, Console(stderr=True), "Bea")
    # ... so Dora, from her own home, is told in one line and the command fails.
    second = await run_cli("open", link, "--name", "Dora", home=tmp_path / "dora")
    assert second.returncode != 0
    assert second.stderr.strip().count("\n") == 0
    assert "used as many times as it allows" in second.stderr
    bad = await run_cli(
        "open", link.replace("invite=", "invite=x"), "--name", "Eve", home=tmp_path / "eve"
    )
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0


async def test_a_link_with_a_wrong_room_says_so_and_spends_no_use(
    server: RunningServer, tmp_path: Path, bea_home: Path
) -> None:
    image = tmp_path / "shot.png"
    image.write_bytes(png(40, 30))
    link = await share(server, image, "--uses", "1")
    room = link.split("/r/", 1)[1].split("?", 1)[0]
    wrong = link.replace(f"/r/{room}?", "/r/no-such-room?")
    dora = tmp_path / "dora"
    for _ in range(2):  # each try used to spend a use
        tried = await run_cli("open", wrong, "--name", "Dora", home=dora)
        assert tried.returncode != 0 and tried.stderr.strip().count("\n") == 0
        assert f"This invite is for room {room}" in tried.stderr
        assert "refused the token" not in tried.stderr
    # Nothing kept under the wrong room ...
    kept = Accounts(dora / "config" / "accounts.json")
    assert all("no-such-room" not in a.tokens for a in kept.servers.values())
    # ... and the one use is still there for the right link.
    target = await asyncio.to_thread(
        resolve, link, None, None, None, None, Console(stderr=True), "Bea"
    )
    assert target.room == room
