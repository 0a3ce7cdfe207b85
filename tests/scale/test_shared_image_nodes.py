"""A room shared with its image through one node: joiners on another node, where the
room was already loaded, are told the image too."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.scale.nodes import Node
from tests.sharing.images import png, sha
from tests.wsclient import WsClient


async def test_joined_on_another_node_carries_the_image_shared_through_the_first(
    spawn_node: Callable[..., Node], mint_token: Callable[..., str]
) -> None:
    first, second = spawn_node(), spawn_node()
    token = mint_token("alice")
    early, joined, _ = await WsClient.joined(second.url, token, room="design")
    assert joined["image"] is None  # the room is loaded on the second node, image-less

    data = png(50, 40)
    base = first.url.replace("ws://", "http://").removesuffix("/ws")
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        assert (await http.put(f"/images/{sha(data)}", content=data)).status_code == 201
        room = {"room": "design", "image": sha(data), "title": "t.png"}
        assert (await http.post("/api/rooms", json=room)).status_code == 201

    late, joined, _ = await WsClient.joined(second.url, token, room="design")
    assert joined["image"] == {"digest": sha(data), "width": 50, "height": 40, "title": "t.png"}
    await early.close()
    await late.close()
