"""Invite guessing on a real server: failed guesses are counted per client (the one the
trusted proxy names in X-Forwarded-For) and for the node, on every route that takes a
code, and one client guessing does not stop another's valid code."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from imagechat_tui.invites import new_code
from imagechat_tui.server import guesses
from imagechat_tui.server.node import RunningServer
from tests.sharing.test_http_api import bearer, share


def via(address: str) -> dict[str, str]:
    """What the documented nginx sends: the client's address appended last."""
    return {"X-Forwarded-For": f"203.0.113.9, {address}"}


async def test_a_valid_code_redeems_while_another_client_behind_the_proxy_guesses(
    server: RunningServer, mint_token: Callable[..., str]
) -> None:
    code = await share(server, mint_token("alice"))
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        statuses = [
            (
                await http.post(
                    "/api/invites/redeem",
                    json={"code": new_code(), "name": "Mallory"},
                    headers=via("10.0.0.66"),
                )
            ).status_code
            for _ in range(guesses.PER_ADDRESS_BURST + 5)
        ]
        assert statuses[: guesses.PER_ADDRESS_BURST] == [404] * guesses.PER_ADDRESS_BURST
        assert set(statuses[guesses.PER_ADDRESS_BURST :]) == {429}
        refused = await http.post(
            "/api/invites/redeem",
            json={"code": code, "name": "Mallory"},
            headers=via("10.0.0.66"),
        )  # even a right code, once out of guesses: no oracle
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["reason"] == "rate-limited"
        # Bea, behind the same proxy (the same peer address), is not locked out.
        ok = await http.post(
            "/api/invites/redeem", json={"code": code, "name": "Bea"}, headers=via("10.0.0.7")
        )
        assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("route", ["page", "image", "session"])
async def test_every_route_that_takes_a_code_spends_the_same_budget(
    server: RunningServer, mint_token: Callable[..., str], route: str
) -> None:
    token = mint_token("alice")
    await share(server, token)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        digest = (await http.get("/api/rooms/design", headers=bearer(token))).json()["image"][
            "digest"
        ]

        async def guess() -> httpx.Response:
            headers = via("10.0.0.66")
            if route == "page":
                return await http.get(f"/r/design?invite={new_code()}", headers=headers)
            if route == "image":
                return await http.get(f"/images/{digest}?invite={new_code()}", headers=headers)
            return await http.post(
                "/r/design/session", json={"code": new_code(), "name": "M"}, headers=headers
            )

        statuses = [(await guess()).status_code for _ in range(guesses.PER_ADDRESS_BURST + 3)]
        assert 429 not in statuses[: guesses.PER_ADDRESS_BURST]
        assert set(statuses[guesses.PER_ADDRESS_BURST :]) == {429}
        # ... and it is one budget: the redeem route is spent for that client too.
        spent = await http.post(
            "/api/invites/redeem", json={"code": new_code(), "name": "M"}, headers=via("10.0.0.66")
        )
        assert spent.status_code == 429 and spent.headers["retry-after"]
        if route == "page":
            page = await http.get(f"/r/design?invite={new_code()}", headers=via("10.0.0.66"))
            assert b"Too many links" in page.content
            assert page.headers["content-type"].startswith("text/html")


async def test_rotating_addresses_do_not_pass_the_nodes_bound(start) -> None:  # type: ignore[no-untyped-def]
    # The node's budget as configured, with a refill too slow to matter in a test.
    server = await start(guess_node_budget=(0.001, 30))
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        statuses = [
            (
                await http.get(
                    f"/r/design?invite={new_code()}", headers=via(f"10.9.{n // 250}.{n % 250}")
                )
            ).status_code
            for n in range(40)
        ]
    assert statuses == [404] * 30 + [429] * 10  # each address guessed once


async def test_an_untrusted_peer_cannot_pick_its_address(start) -> None:  # type: ignore[no-untyped-def]
    server = await start(trusted_proxy="")
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        statuses = [
            (
                await http.post(
                    "/api/invites/redeem",
                    json={"code": new_code(), "name": "M"},
                    headers=via(f"10.0.0.{n}"),
                )
            ).status_code
            for n in range(guesses.PER_ADDRESS_BURST + 1)
        ]
    assert statuses[-1] == 429  # X-Forwarded-For ignored: all from 127.0.0.1


def test_client_address_rules() -> None:
    trusted = frozenset({"127.0.0.1"})
    assert guesses.client_address("127.0.0.1", ["1.2.3.4, 10.0.0.1"], trusted) == "10.0.0.1"
    assert guesses.client_address("127.0.0.1", ["1.2.3.4", "10.0.0.1"], trusted) == "10.0.0.1"
    assert guesses.client_address("127.0.0.1", ["junk"], trusted) == "127.0.0.1"
    assert guesses.client_address("127.0.0.1", [], trusted) == "127.0.0.1"
    assert guesses.client_address("192.0.2.1", ["10.0.0.1"], trusted) == "192.0.2.1"
    with pytest.raises(ValueError, match="not an IP"):
        guesses.parse_proxies("127.0.0.1, nginx")


def test_only_failures_spend_and_buckets_refill() -> None:
    now = [0.0]
    limiter = guesses.GuessLimiter(per_address=(1.0, 2), overall=(10.0, 3), clock=lambda: now[0])
    assert limiter.refused("a") is None
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.refused("a") == 1 and limiter.refused("b") is None
    limiter.failed("b")
    assert limiter.refused("c") == 1  # the node's 3 are spent
    now[0] += 1.0
    assert limiter.refused("a") is None and limiter.refused("c") is None
