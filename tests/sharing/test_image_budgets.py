"""Image budgets on a real server over real sockets: bytes stored per user and per
tenant (413), bytes uploaded per hour (429 with Retry-After), refused from the head
before a byte of the body is read, held in the database across a restart, and shown by
``imagechat-tui stats`` against each budget. Before the budgets, one member stored 8
distinct 25 MB images in 2.8 s and nothing said no."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from imagechat_tui.server.image_quota import ImageBudgets
from imagechat_tui.server.node import RunningServer
from tests.conftest import StartServer
from tests.server.raw_http import RawHttp
from tests.sharing.images import png, sha

STATS = (sys.executable, "-m", "imagechat_tui", "stats")


def distinct(n: int, side: int = 64) -> list[bytes]:
    return [png(side, side, (i, 7, 9)) for i in range(n)]


async def put(server: RunningServer, data: bytes, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        return await http.put(
            f"/images/{sha(data)}", content=data, headers={"Authorization": f"Bearer {token}"}
        )


async def test_a_user_and_a_tenant_store_at_most_their_budgets(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    images = distinct(5)
    sizes = [len(d) for d in images]  # about 150 bytes each, not all the same
    budgets = ImageBudgets(
        max_user_image_bytes=sum(sizes[:2]) + 8, max_tenant_image_bytes=sum(sizes[:3]) + 8
    )
    server = await start(image_budgets=budgets)
    ann, bob = mint_token("ann"), mint_token("bob")
    assert [(await put(server, d, ann)).status_code for d in images[:2]] == [201, 201]
    refused = await put(server, images[2], ann)
    assert refused.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert refused.json()["reason"] == "storage-quota"
    assert "the most one user may store" in refused.json()["error"]
    assert (await put(server, images[0], ann)).status_code == 200  # stored already: fine
    assert (await put(server, images[2], bob)).status_code == 201  # bob has room ...
    tenant = await put(server, images[3], bob)  # ... the tenant no longer
    assert tenant.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "the most a tenant may store" in tenant.json()["error"]
    assert (await put(server, images[3], mint_token("cat", tenant="acme"))).status_code == 201


async def test_the_hourly_budget_answers_429_from_the_head_and_holds_across_a_restart(
    start: StartServer, mint_token: Callable[..., str], home: Path
) -> None:
    images = [png(1, 1, (i, i, i)) for i in range(3)]  # three distinct images ...
    size = len(images[0])
    assert all(len(d) == size for d in images)  # ... of one size
    budgets = ImageBudgets(max_user_upload_bytes_per_hour=2 * size)
    server = await start(image_budgets=budgets)
    ann = mint_token("ann")
    assert [(await put(server, d, ann)).status_code for d in images[:2]] == [201, 201]
    # The third: only the head is sent, and the answer comes without the body.
    address = urlsplit(server.http_url)
    raw = await RawHttp.open(address.hostname or "127.0.0.1", address.port or 80)
    await raw.send(
        f"PUT /images/{sha(images[2])} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ann}\r\n"
        f"Content-Length: {size}\r\n\r\n".encode()
    )
    answer = await raw.answer()
    assert answer.status == HTTPStatus.TOO_MANY_REQUESTS
    assert answer.json()["reason"] == "upload-rate"
    assert 1 <= int(answer.headers["retry-after"]) <= 3600
    assert "retry in" in answer.json()["error"] and "\n" not in answer.json()["error"]
    await server.close()

    again = await start(image_budgets=budgets)  # the same SQLite file
    assert (await put(again, images[2], ann)).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert (await put(again, images[2], mint_token("bob"))).status_code == 201

    out = subprocess.run(
        [*STATS, "--json", "--max-user-upload-bytes-per-hour", str(2 * size)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    row = {r["tenant"]: r for r in json.loads(out)}["local"]
    assert row["images"]["storedBytes"] == 3 * size  # ann's two, bob's one
    assert row["images"]["uploadedBytesLastHour"] == 3 * size  # the refused one was not read
    users = {u["user"]: u for u in row["images"]["users"]}
    assert users["ann"]["uploadedBytesLastHour"] == 2 * size
    assert users["ann"]["uploadBytesPerHourBudget"] == 2 * size
    assert users["ann"]["storedBytesBudget"] == ImageBudgets().max_user_image_bytes
    table = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", "stats"], capture_output=True, text=True, check=True
    ).stdout
    assert "stored" in table and "ann" in table and "of 1.0 GiB" in table


async def test_a_stalled_upload_counts_its_declared_bytes_against_the_hour(
    start: StartServer, mint_token: Callable[..., str]
) -> None:
    """A body cut off by the clocks was still sent (up to its declared length): it counts,
    so stalling uploads on purpose does not get around the hourly budget."""
    data = png(20, 20)
    server = await start(
        body_idle_timeout=0.2, image_budgets=ImageBudgets(max_user_upload_bytes_per_hour=1000)
    )
    ann = mint_token("ann")
    address = urlsplit(server.http_url)
    raw = await RawHttp.open(address.hostname or "127.0.0.1", address.port or 80)
    await raw.send(
        f"PUT /images/{sha(data)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ann}\r\n"
        "Content-Length: 950\r\n\r\n".encode()
        + data[:10]
    )
    assert (await raw.answer()).status == HTTPStatus.REQUEST_TIMEOUT
    answer = await put(server, data, ann)  # 950 counted: 86 more would pass 1000
    assert answer.status_code == HTTPStatus.TOO_MANY_REQUESTS, answer.text
