"""The one loopback rule (open, export and share send the local token only there)."""

from __future__ import annotations

import io
from pathlib import Path

import jwt
import pytest
from PIL import Image
from rich.console import Console

from imagechat_tui.auth import local_user_id
from imagechat_tui.client.target import is_loopback, resolve


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:8765/ws",
        "ws://127.0.0.2:9000/ws",  # all of 127.0.0.0/8 (a prefix test missed it)
        "ws://localhost/ws",  # no port (a prefix test wanted "localhost:")
        "wss://[::1]:443/ws",
        "http://127.0.0.1:8765",
        "ws://127.0.0.1:1/ws,ws://[::1]:2/ws",
    ],
)
def test_on_this_machine(url: str) -> None:
    assert is_loopback(url)


@pytest.mark.parametrize(
    "url",
    [
        "ws://example.com/ws",
        "ws://127.0.0.1.example.com/ws",
        "ws://10.0.0.1/ws",
        "ws://127.0.0.1:1/ws,wss://example.com/ws",  # one remote node: no local token for it
        "",
        "not a url",
    ],
)
def test_elsewhere(url: str) -> None:
    assert not is_loopback(url)


def test_an_empty_name_at_the_first_run_prompt_is_answered_with_why() -> None:
    from imagechat_tui.client.target import ask_until_named

    answers = iter(["", "   ", "Dora"])
    said: list[str] = []
    assert ask_until_named(lambda: next(answers), said.append) == "Dora"
    assert said == ["A name is needed: it is shown beside your comments (any name you like)."] * 2


def test_name_is_who_you_are_on_this_machines_server(home: Path, tmp_path: Path) -> None:
    """--name on the local default (not only with invites): the name beside your
    comments, and a reviewer of its own (two people on one login are two)."""
    image = tmp_path / "shot.png"
    Image.new("RGB", (8, 8)).save(image)
    err = Console(file=io.StringIO())
    server = "ws://127.0.0.1:9"  # local: the token is minted here, nothing is dialled
    bob = resolve(str(image), server, None, None, None, err, name="Bob Smith")
    assert bob.user.name == "Bob Smith" and bob.user.id == f"{local_user_id()}:bob-smith"
    assert bob.remint_token is not None
    assert jwt.decode(bob.remint_token(), options={"verify_signature": False})["name"] == (
        "Bob Smith"
    )  # a token minted again keeps the name
    plain = resolve(str(image), server, None, None, None, err)
    assert plain.user.id == plain.user.name == local_user_id()
