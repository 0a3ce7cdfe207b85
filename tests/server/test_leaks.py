"""What a stranger may not learn, on a real server: no data-directory hash in /health,
the same answer for an unknown tenant as for a bad signature, every HTML page
unframable, and no token, cookie or invite code in the log at debug, text or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
import websockets

from imagechat_tui.auth import TenantStore
from imagechat_tui.server.node import RunningServer
from tests.server.hostile import refused_join
from tests.server.logged_node import logged_node
from tests.sharing.images import png, sha
from tests.sharing.test_http_api import bearer, share
from tests.wsclient import WsClient


async def test_health_says_nothing_of_the_data_directory(
    server: RunningServer, mint_token: Callable[..., str], home: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        health = await http.get("/health")
        assert health.status_code == 200 and health.text == "ok\n"
        assert not any(name.startswith("x-imagechat") for name in health.headers)
        # The holder of a token the server accepts learns that it is accepted: how the
        # app knows a server on its port shares its data directory.
        ours = await http.get("/health", headers=bearer(mint_token("alice")))
        assert ours.headers["x-imagechat-token"] == "accepted"
        forged = jwt.encode({"sub": "m", "tenant": "local", "role": "member"}, "x" * 32)
        assert (
            "x-imagechat-token" not in (await http.get("/health", headers=bearer(forged))).headers
        )


async def test_an_unknown_tenant_is_answered_as_a_bad_signature(
    server: RunningServer, tenants: TenantStore
) -> None:
    claims = {"sub": "mallory", "role": "member", "exp": 2_000_000_000}
    wrong_key = jwt.encode({**claims, "tenant": "local"}, "not-the-secret-" * 3)
    no_tenant = jwt.encode({**claims, "tenant": "ghost"}, "not-the-secret-" * 3)
    answers = []
    for token in (wrong_key, no_tenant):
        code, frames = await refused_join(server.url, token)
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            api = await http.get("/api/rooms/design", headers=bearer(token))
        answers.append((code, frames[0]["message"], api.status_code, api.json()))
    assert answers[0] == answers[1], answers


@pytest.mark.parametrize(
    "path",
    [
        "/r/design?invite={code}",
        "/r/design?invite={code}&view=text",
        "/r/design",  # the refusal page
        "/r/other?invite={code}",  # the refusal page, 404
        "/admin",
    ],
)
async def test_every_html_page_may_not_be_framed(
    server: RunningServer, mint_token: Callable[..., str], path: str
) -> None:
    code = await share(server, mint_token("alice"))
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        answer = await http.get(path.format(code=code))
    assert answer.headers["content-type"].startswith("text/html"), answer.status_code
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_no_token_cookie_or_code_in_the_debug_log(home: Path, log_format: str) -> None:
    secrets: list[str] = []
    with logged_node(home, "--log-level", "debug", "--log-format", log_format) as (port, log):
        base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
        token = TenantStore.in_home(home).mint(tenant="local", user_id="alice")
        secrets.append(token)
        data = png(40, 30)
        async with httpx.AsyncClient(base_url=base, headers=bearer(token)) as http:
            assert (await http.put(f"/images/{sha(data)}", content=data)).status_code == 201
            room = {"room": "design", "image": sha(data)}
            assert (await http.post("/api/rooms", json=room)).status_code == 201
            made = await http.post("/api/invites", json={"room": "design", "max_uses": 5})
            code = made.json()["code"]
            secrets.append(code)
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get(f"/r/design?invite={code}")).status_code == 200
            assert (await http.get(f"/images/{sha(data)}?invite={code}")).status_code == 200
            redeemed = await http.post("/api/invites/redeem", json={"code": code, "name": "Bo"})
            guest = redeemed.json()["token"]
            secrets.append(guest)
            session = await http.post("/r/design/session", json={"code": code, "name": "Cy"})
            assert session.status_code == 200, session.text
            cookie = session.cookies["imagechat"]
            secrets.append(cookie)
            short = (await http.post("/r/design/token")).json()["token"]
            secrets.append(short)
        for each in (token, guest, short):
            client, *_ = await WsClient.joined(url, each, room="design")
            await client.close()
        # A browser's upgrade carries its cookie (websockets logs every header at debug).
        async with websockets.connect(
            url,
            additional_headers={
                "Cookie": f"imagechat={cookie}",
                "Authorization": f"Bearer {guest}",
            },
        ) as ws:
            await ws.send(json.dumps({"op": "join", "room": "design", "token": guest}))
            assert json.loads(await ws.recv())["type"] == "joined"
        bad = await WsClient.open(url)  # a refused join: its token is in the frame too
        await bad.send({"op": "join", "room": "design", "token": guest[:-4] + "AAAA"})
        await bad.recv_type("error")
        secrets.append(guest[:-4] + "AAAA")
    text = log.read_text(encoding="utf-8")
    assert "debug" in text.lower() and "TEXT" in text  # websockets' frames were logged
    for secret in secrets:
        assert secret not in text, secret
        # Not even a piece: a token's signature, or its claims (websockets cuts a frame
        # short in the log, so a token can be there without its end).
        parts = secret.split(".")
        for part in [parts[-1], *([parts[1][:20]] if len(parts) == 3 else [])]:
            assert part not in text, (secret, part)
