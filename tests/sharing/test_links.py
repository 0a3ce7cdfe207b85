from __future__ import annotations

import pytest

from imagechat_tui.invites import new_code
from imagechat_tui.links import LinkError, RoomLink, http_base, looks_like_room_link, parse_link


def test_a_link_round_trips_and_names_the_websocket_beside_it() -> None:
    code = new_code()
    link = RoomLink(base="https://review.example:8443/chat", room="team/shot-1.png", invite=code)
    parsed = parse_link(link.url)
    assert parsed == link
    assert parsed.ws_url == "wss://review.example:8443/chat/ws"
    assert parse_link("http://127.0.0.1:9000/r/img-abc").invite is None


@pytest.mark.parametrize(
    "text",
    [
        "ftp://host/r/room",
        "http:///r/room",
        "http://host/room",
        "http://host/r/",
        "http://host/r/bad%20room",
        "http://host:99999/r/room",
        "http://user:pw@host/r/room?invite=" + "a" * 24,
        "http://host/r/room?invite=short",
        "http://host/r/room?invite=" + "a" * 24 + "&invite=" + "b" * 24,
        "http://host/r/room?invite=%3Cscript%3E" + "a" * 20,
    ],
)
def test_malformed_or_forged_links_get_one_line(text: str) -> None:
    with pytest.raises(LinkError) as error:
        parse_link(text)
    assert "\n" not in str(error.value)


def test_room_links_are_told_apart_from_image_urls() -> None:
    assert looks_like_room_link("http://h:1/r/img-123?invite=" + "a" * 24)
    assert looks_like_room_link("http://h:1/r/design-review")
    assert not looks_like_room_link("https://cdn.example/r/cat.png")
    assert not looks_like_room_link("https://cdn.example/images/cat")
    assert not looks_like_room_link("/tmp/r/room")


def test_server_urls_in_either_scheme_give_one_http_base() -> None:
    assert http_base("ws://127.0.0.1:8765/ws") == "http://127.0.0.1:8765"
    assert http_base("wss://Example.org/chat/ws") == "https://example.org/chat"
    assert http_base("http://example.org:80/") == "http://example.org:80"
    with pytest.raises(LinkError):
        http_base("unix:/tmp/sock")
