"""``serve --log-format json``: every line of the log is one JSON object with the same
keys; lines about a tenant's connection name it; no token, invite code or comment text
ever gets in, even a hostile comment's."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx

from tests.server.logged_node import logged_node
from tests.wsclient import WsClient, create_op

HOSTILE = "\x1b]8;;http://evil/\x07click\x1b]8;;\x07 <script>x</script> hostile-words-7c1e"
KEYS = {"time", "level", "event", "logger", "tenant", "node", "fields"}


async def test_the_json_log_is_one_object_per_line_without_secrets_or_comment_text(
    home: Path, mint_token
) -> None:
    secrets: list[str] = []
    with logged_node(home, "--log-format", "json", "--max-connections-per-user", "1") as (
        port,
        log,
    ):
        url = f"ws://127.0.0.1:{port}/ws"
        token = mint_token("alice", role="admin")
        secrets.append(token)
        alice, *_ = await WsClient.joined(url, token)
        await alice.send(create_op(text=HOSTILE))
        (event,) = await alice.recv_events(1)
        assert event["chat"]["comments"][0]["text"] == HOSTILE  # stored as sent
        # A second connection of the same user is refused (4029): logged for tenant local.
        again = await WsClient.open(url)
        await again.send({"op": "join", "room": "room-1", "token": token})
        assert (await again.recv_type("error"))["code"] == "limit-reached"
        # A bad token: logged before any tenant is known.
        stranger = await WsClient.open(url)
        await stranger.send({"op": "join", "room": "room-1", "token": token[:-4] + "AAAA"})
        await stranger.recv_type("error")
        # An invite made and redeemed: the code is shown to people, never logged.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            auth = {"Authorization": f"Bearer {token}"}
            made = await http.post("/api/invites", json={"room": "room-1"}, headers=auth)
            assert made.status_code == 201, made.text
            code = made.json()["code"]
            secrets.append(code)
            redeemed = await http.post("/api/invites/redeem", json={"code": code, "name": "Bob"})
            assert redeemed.status_code in (200, 201), redeemed.text
            secrets.append(redeemed.json()["token"])
            await http.get(f"/images/{'0' * 64}?invite={code}")  # the code in a URL
        await alice.close()
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    assert lines and all(set(line) == KEYS for line in lines), lines
    node_name = f"{socket.gethostname()}:{port}"
    assert {line["node"] for line in lines} == {node_name}
    refused = [line for line in lines if "session closed (4029)" in line["event"]]
    assert refused and refused[0]["tenant"] == "local"
    assert refused[0]["fields"] == {"close_code": 4029}
    assert any("session closed (4001)" in line["event"] for line in lines)
    assert any(line["event"].startswith("serving on ws://") for line in lines)
    for line in lines:
        assert line["level"] in {"debug", "info", "warning", "error", "critical"}
    for secret in [*secrets, "hostile-words-7c1e", "<script>", "evil"]:
        assert secret not in text, secret
