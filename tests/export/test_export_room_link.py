"""Export from a room link, as someone with nothing but the link: the server, room, image
and token come from it (``client.target.resolve``, shared with opening)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from imagechat_tui.server.node import RunningServer
from tests.sharing.images import png
from tests.sharing.test_two_users import RoomClient, share
from tests.wsclient import WsClient


async def test_export_of_a_room_link_reads_that_room(
    server: RunningServer, mint_token: Callable[..., str], tmp_path: Path
) -> None:
    image = tmp_path / "alice" / "mock.png"
    image.parent.mkdir()
    image.write_bytes(png(320, 180, (200, 40, 40)))
    link = await share(server, image)
    room = link.split("/r/", 1)[1].split("?", 1)[0]
    alice = RoomClient(server.url, mint_token("alice", name="Alice"), room)
    await alice.connected()
    alice.create(25.0, 40.0, "Logo is off-centre", w=10.0, h=20.0)
    # Wait on the server, not a clock: a fresh client sees the marker in its snapshot.
    async with asyncio.timeout(10):
        while True:
            probe, _, (snapshot,) = await WsClient.joined(server.url, mint_token("p"), room=room)
            await probe.close()
            if snapshot["chats"]:
                break
    await alice.close()

    bea = tmp_path / "bea"
    env = {
        **os.environ,
        "IMAGECHAT_HOME": str(bea),
        "XDG_CONFIG_HOME": str(bea / "xdg-config"),
        "XDG_CACHE_HOME": str(bea / "xdg-cache"),
        "XDG_DATA_HOME": str(bea / "xdg-data"),
    }
    out_png = tmp_path / "review.png"
    for args in (["-f", "csv"], ["-f", "png", "-o", str(out_png)], ["-f", "w3c"]):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "imagechat_tui",
            "export",
            link,
            "--name",
            "Bea",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        if args[1] == "w3c":
            # The target is the room link, without its invite code (a credential).
            (anno,) = json.loads(out)["first"]["items"]
            assert anno["target"]["source"] == link.split("?", 1)[0]
            assert "invite" not in out.decode()
        if args[1] == "csv":
            (row,) = csv.DictReader(io.StringIO(out.decode("utf-8-sig"), newline=""))
            assert (row["text"], row["author"], row["w"], row["h"]) == (
                "Logo is off-centre",
                "Alice",
                "10",
                "20",
            )
    assert Image.open(out_png).size[0] == 320  # and a legend's strip below the image
