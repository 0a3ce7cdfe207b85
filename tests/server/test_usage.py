"""pubSubMessageCount and pubSubBandwidth: exact, per tenant, persisted."""

from __future__ import annotations

import json
import subprocess
import sys

from imagechat_tui.server.storage import Usage, open_storage
from tests.wsclient import WsClient, create_op


async def _drain(client: WsClient) -> None:
    """Read whatever is still coming, until 0.3 s of silence."""
    try:
        while True:
            await client.recv(0.3)
    except TimeoutError:
        pass


async def test_usage_counts_every_frame_and_byte_each_recipient_got(
    start, mint_token, home
) -> None:
    server = await start(usage_flush_interval=0.1)
    alice, *_ = await WsClient.joined(server.url, mint_token("alice"))
    bob, *_ = await WsClient.joined(server.url, mint_token("bob"))
    other, *_ = await WsClient.joined(server.url, mint_token("zed", tenant="acme"))
    for i in range(5):
        await alice.send(create_op(text=f"marker {i}"))
    await alice.send("not json")  # the error frame counts too
    await bob.recv_events(5)
    for client in (alice, bob, other):
        await _drain(client)
    await alice.close()
    await bob.recv_type("presence")  # alice left
    await bob.close()
    await other.close()
    await server.close()

    storage = open_storage(f"sqlite:///{home / 'imagechat.sqlite3'}")
    await storage.open()
    usage = await storage.usage()
    await storage.close()
    assert usage == {
        "local": Usage(
            messages=alice.frames_received + bob.frames_received,
            bytes=alice.bytes_received + bob.bytes_received,
        ),
        "acme": Usage(messages=other.frames_received, bytes=other.bytes_received),
    }

    out = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["tenant"]: row for row in json.loads(out.stdout)}
    assert rows["local"]["pubSubMessageCount"] == alice.frames_received + bob.frames_received
    assert rows["acme"]["pubSubBandwidth"] == other.bytes_received
    table = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats"], capture_output=True, text=True, check=True
    ).stdout
    assert "pubSubMessageCount" in table and "acme" in table


async def test_usage_accumulates_across_restarts(start, mint_token, home) -> None:
    totals = 0
    for _ in range(2):
        server = await start()
        client, *_ = await WsClient.joined(server.url, mint_token("alice"))
        await client.send(create_op())
        await client.recv_events(1)
        await _drain(client)
        await client.close()
        await server.close()
        totals += client.frames_received
    storage = open_storage(f"sqlite:///{home / 'imagechat.sqlite3'}")
    await storage.open()
    assert (await storage.usage())["local"].messages == totals
    await storage.close()
