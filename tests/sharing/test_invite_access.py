"""What an invite gives ends with it, on a real server: a redeemed token lasts no longer
than its invite, revoking the invite refuses its tokens from then on (a join, a live
session, the HTTP API, the browser's cookie) on every node and after a restart, and a
guest may not mint invites that outlive, outrank or out-use their own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from imagechat_tui.invites import hash_code
from imagechat_tui.server.node import RunningServer
from imagechat_tui.server.storage import open_storage
from tests.conftest import StartServer
from tests.server.hostile import closed_with, refused_join
from tests.sharing.test_http_api import bearer, redeem, share
from tests.wsclient import WsClient


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def revoke(database: str, code: str) -> None:
    """As ``imagechat-tui invite revoke`` does: straight to the database."""
    storage = open_storage(database)
    await storage.open()
    try:
        assert await storage.revoke_invites([hash_code(code)])
    finally:
        await storage.close()


async def test_a_token_from_an_invite_lasts_no_longer_than_the_invite(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"), expires_in=60, max_uses=1)
    before = time.time()
    token = (await redeem(server, code)).json()["token"]
    assert claims(token)["exp"] <= before + 61  # not 30 days
    assert claims(token)["inv"] == hash_code(code)


async def test_revoking_an_invite_ends_its_tokens_sessions_and_cookies_across_a_restart(
    start: StartServer, mint_token: Callable[..., str], home: Any
) -> None:
    server = await start(reverify_interval=0.1, revocation_cache_seconds=0)
    database = f"sqlite:///{home / 'imagechat.sqlite3'}"
    alice = mint_token("alice")
    code = await share(server, alice, max_uses=5)
    other = await share(server, alice, max_uses=5)  # another invite to the same room
    token = (await redeem(server, code)).json()["token"]
    kept = (await redeem(server, other, name="Cy")).json()["token"]
    session, *_ = await WsClient.joined(server.url, token, room="design")
    untouched, *_ = await WsClient.joined(server.url, kept, room="design")
    async with httpx.AsyncClient(base_url=server.http_url) as browser:
        made = await browser.post("/r/design/session", json={"code": code, "name": "Dee"})
        assert made.status_code == 200, made.text
        assert (await browser.post("/r/design/token")).status_code == 200
        async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(token)) as http:
            assert (await http.get("/api/rooms/design")).status_code == 200

            await revoke(database, code)

            close_code, _ = await closed_with(session)
            assert close_code == 4001
            refused = await http.get("/api/rooms/design")
            assert refused.status_code == 401 and "revoked" in refused.json()["error"]
            assert (await browser.post("/r/design/token")).status_code == 401
            page = await browser.get("/r/design")
            assert page.status_code == 410 and b'data-reason="access-revoked"' in page.content
        code_at_join, frames = await refused_join(server.url, token, room="design")
        assert code_at_join == 4001 and "revoked" in frames[0]["message"]
    # Another invite's guest is still in the room.
    await untouched.send({"op": "ping"})
    assert (await untouched.recv_type("pong"))["type"] == "pong"
    await untouched.close()

    await server.close()
    again = await start(reverify_interval=0.1)
    code_at_join, _ = await refused_join(again.url, token, room="design")
    assert code_at_join == 4001
    async with httpx.AsyncClient(base_url=again.http_url, headers=bearer(token)) as http:
        assert (await http.get("/api/rooms/design")).status_code == 401


async def test_revoking_on_one_node_ends_the_access_on_another(
    start: StartServer, mint_token: Callable[..., str], pg_url: str, redis_server: Any
) -> None:
    a = await start(database=pg_url, broker=redis_server.url, reverify_interval=0.1)
    b = await start(
        database=pg_url, broker=redis_server.url, reverify_interval=0.1, revocation_cache_seconds=0
    )
    code = await share(a, mint_token("alice"))
    token = (await redeem(a, code)).json()["token"]
    on_b, *_ = await WsClient.joined(b.url, token, room="design")
    async with httpx.AsyncClient(base_url=b.http_url, headers=bearer(token)) as http:
        assert (await http.get("/api/rooms/design")).status_code == 200
        await revoke(pg_url, code)
        close_code, _ = await closed_with(on_b)
        assert close_code == 4001
        assert (await http.get("/api/rooms/design")).status_code == 401


async def test_a_guest_may_not_mint_an_invite_beyond_their_own(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"), expires_in=3600, max_uses=2)
    guest = (await redeem(server, code)).json()["token"]
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(guest)) as http:

        async def invite(**body: Any) -> httpx.Response:
            return await http.post("/api/invites", json={"room": "design", **body})

        for body, words in (
            ({"expires_in": 365 * 86400, "max_uses": 1}, "outlive"),
            ({"expires_in": 600, "max_uses": 10_000}, "at most 2 uses"),
            ({"expires_in": 600, "max_uses": 1, "role": "moderator"}, "moderator"),
        ):
            answer = await invite(**body)
            assert answer.status_code == 403, (body, answer.text)
            error = answer.json()["error"]
            assert words in error and "\n" not in error
        assert (await invite(expires_in=600, max_uses=2)).status_code == 201
        # Named no terms: as long and as many uses as their own invite still allows.
        default = await invite()
        assert default.status_code == 201, default.text
        assert default.json()["max_uses"] == 2
        assert default.json()["expires_at"] <= time.time() + 3600
    # A member's own token (not from an invite) is not bound by any invite.
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(mint_token("bo"))) as h:
        answer = await h.post(
            "/api/invites", json={"room": "design", "expires_in": 365 * 86400, "max_uses": 10_000}
        )
        assert answer.status_code == 201


async def test_revoking_an_invite_ends_the_invites_its_guests_made(
    start: StartServer, mint_token: Callable[..., str], home: Any
) -> None:
    server = await start(reverify_interval=0.1, revocation_cache_seconds=0)
    code = await share(server, mint_token("alice"), expires_in=3600, max_uses=3)
    guest = (await redeem(server, code)).json()["token"]
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(guest)) as http:
        made = await http.post(
            "/api/invites", json={"room": "design", "expires_in": 600, "max_uses": 3}
        )
        assert made.status_code == 201, made.text
        child = made.json()["code"]
    friend = (await redeem(server, child, name="Fay")).json()["token"]
    session, *_ = await WsClient.joined(server.url, friend, room="design")

    await revoke(f"sqlite:///{home / 'imagechat.sqlite3'}", code)  # the guest's invite

    close_code, _ = await closed_with(session)
    assert close_code == 4001
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.get("/api/rooms/design", headers=bearer(friend))).status_code == 401
        again = await http.post("/api/invites/redeem", json={"code": child, "name": "Gus"})
        assert again.status_code == 410 and again.json()["reason"] == "revoked"
        assert (await http.get(f"/r/design?invite={child}")).status_code == 410
    listed = await server.storage.get_invite(hash_code(child))
    assert listed is not None and listed.uses == 1  # the refused redeem spent no use
