"""The HTTP side of a real server on loopback: uploads, rooms, invites, the page."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from imagechat_tui.invites import Invite, hash_code, new_code
from imagechat_tui.server.node import RunningServer
from tests.conftest import StartServer
from tests.sharing.images import png, png_bomb, sha
from tests.wsclient import WsClient


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def put(server: RunningServer, data: bytes, token: str, digest: str | None = None):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        return await http.put(f"/images/{digest or sha(data)}", content=data, headers=bearer(token))


async def share(server: RunningServer, token: str, room: str = "design", **invite: Any) -> str:
    """Upload an image, record it as the room's, make an invite: the invite code."""
    data = png(80, 60)
    assert (await put(server, data, token)).status_code in (200, 201)
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(token)) as http:
        made = await http.post(
            "/api/rooms", json={"room": room, "image": sha(data), "title": "a.png"}
        )
        assert made.status_code in (200, 201), made.text
        answer = await http.post("/api/invites", json={"room": room, **invite})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["code"])


async def redeem(server: RunningServer, code: str, name: str = "Bea") -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        return await http.post("/api/invites/redeem", json={"code": code, "name": name})


async def test_upload_then_serve_with_etag(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    data = png()
    first = await put(server, data, token)
    assert first.status_code == 201 and first.json()["width"] == 64
    assert (await put(server, data, token)).status_code == 200  # already stored
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(token)) as http:
        got = await http.get(f"/images/{sha(data)}")
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "image/png"
        assert got.headers["etag"] == f'"{sha(data)}"' and "max-age" in got.headers["cache-control"]
        again = await http.get(
            f"/images/{sha(data)}", headers={"If-None-Match": got.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        head = await http.head(f"/images/{sha(data)}")
        assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


async def test_every_bad_upload_gets_its_status_and_touches_nothing(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    token = mint_token("alice")
    good = png()
    assert (await put(server, good, token)).status_code == 201
    cases = {
        "not an image": (b"just some text, no image", None, 400),
        "hash mismatch": (png(10, 10), sha(good), 400),
        "truncated": (good[: len(good) // 2], None, 400),
        "30 MB": (b"\0" * (30 * 1024 * 1024), None, 413),
        "bomb": (png_bomb(), None, 413),
    }
    for label, (data, digest, status) in cases.items():
        answer = await put(server, data, token, digest)
        assert answer.status_code == status, (label, answer.text)
        assert answer.json()["error"] and "\n" not in answer.json()["error"]
    assert (await put(server, png(5, 5), mint_token("val", role="viewer"))).status_code == 403
    assert (await put(server, png(5, 5), "not-a-token")).status_code == 401
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        assert (await http.put(f"/images/{sha(good)}", content=good)).status_code == 401
        # Another tenant's token never sees it (404, as if it did not exist).
        other = bearer(mint_token("mallory", tenant="other"))
        assert (await http.get(f"/images/{sha(good)}", headers=other)).status_code == 404
        # What was stored is untouched.
        got = await http.get(f"/images/{sha(good)}", headers=bearer(token))
        assert got.content == good
        for data, digest, _ in cases.values():
            missing = await http.get(f"/images/{digest or sha(data)}", headers=bearer(token))
            assert missing.status_code == (200 if digest == sha(good) else 404)


async def test_an_invite_gives_a_personal_room_token_and_joined_carries_the_image(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"), role="member", max_uses=2)
    answer = await redeem(server, code, "Bea Baker")
    assert answer.status_code == 200, answer.text
    grant = answer.json()
    assert grant["room"] == "design" and grant["role"] == "member"
    assert grant["user"]["name"] == "Bea Baker" and grant["user"]["id"].startswith("bea-baker-")
    client, joined, _ = await WsClient.joined(server.url, grant["token"], room="design")
    assert joined["user"] == grant["user"]
    assert joined["image"]["width"] == 80 and joined["image"]["title"] == "a.png"
    await client.close()
    # The token is for that room only, and sees that room's image.
    refused = await WsClient.open(server.url)
    await refused.send({"op": "join", "room": "elsewhere", "token": grant["token"]})
    assert (await refused.recv_type("error"))[
        "code"
    ] == "unauthorized"  # 4003: not valid for that room
    await refused.close()
    async with httpx.AsyncClient(base_url=server.http_url, headers=bearer(grant["token"])) as http:
        room = (await http.get("/api/rooms/design")).json()
        assert (await http.get(f"/images/{room['image']['digest']}")).status_code == 200
        assert (await http.get("/api/rooms/elsewhere")).status_code == 403


async def test_expired_revoked_and_used_up_invites_are_refused(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"), max_uses=1)
    assert (await redeem(server, code)).status_code == 200
    used_up = await redeem(server, code)  # replayed past its uses
    assert (used_up.status_code, used_up.json()["reason"]) == (410, "used-up")

    expired_code = new_code()
    now = int(time.time())
    await server.storage.add_invite(
        Invite(hash_code(expired_code), "local", "design", "member", "alice", now - 100, now - 1, 5)
    )
    expired = await redeem(server, expired_code)
    assert (expired.status_code, expired.json()["reason"]) == (410, "expired")

    revoked_code = await share(server, mint_token("alice"))
    await server.storage.revoke_invites([hash_code(revoked_code)])
    revoked = await redeem(server, revoked_code)
    assert (revoked.status_code, revoked.json()["reason"]) == (410, "revoked")
    unknown = await redeem(server, new_code())
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "not-found")


async def test_only_members_invite_and_moderator_invites_need_a_moderator(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    await share(server, mint_token("alice"))
    async with httpx.AsyncClient(base_url=server.http_url) as http:

        async def invite(token: str, **body: Any) -> int:
            answer = await http.post(
                "/api/invites", json={"room": "design", **body}, headers=bearer(token)
            )
            return answer.status_code

        assert await invite(mint_token("val", role="viewer")) == 403
        assert await invite(mint_token("mem"), role="moderator") == 403
        assert await invite(mint_token("mod", role="moderator"), role="moderator") == 201
        assert await invite(mint_token("mem", room_scope="other"), role="viewer") == 403
        assert await invite(mint_token("mem"), max_uses=0) == 400


async def test_redeeming_is_rate_limited(server: RunningServer) -> None:
    statuses = [(await redeem(server, new_code())).status_code for _ in range(12)]
    assert statuses[:10] == [404] * 10 and statuses[-1] == 429


async def test_forged_links_open_nothing(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"))
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        for path in (
            f"/r/design?invite={new_code()}",  # a code nobody issued
            f"/r/other-room?invite={code}",  # a real code for another room
            "/r/design?invite=<script>",
            "/r/design",
        ):
            page = await http.get(path)
            assert page.status_code == 404 and b"does not open" in page.content
        digest = (await http.get("/api/rooms/design", headers=bearer(mint_token("alice")))).json()[
            "image"
        ]["digest"]
        assert (await http.get(f"/images/{digest}?invite={new_code()}")).status_code == 404
        assert (await http.get(f"/images/{digest}?invite={code}")).status_code == 200


async def test_a_restart_keeps_images_rooms_and_invites(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    first = await start()
    code = await share(first, mint_token("alice"), max_uses=3)
    await first.close()
    second = await start()
    grant = (await redeem(second, code)).json()
    client, joined, _ = await WsClient.joined(second.url, grant["token"], room="design")
    assert joined["image"]["width"] == 80
    async with httpx.AsyncClient(base_url=second.http_url, headers=bearer(grant["token"])) as http:
        image = await http.get(f"/images/{joined['image']['digest']}")
        assert image.status_code == 200 and sha(image.content) == joined["image"]["digest"]
    await client.close()
