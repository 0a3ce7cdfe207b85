"""The one loopback rule (open, export and share send the local token only there)."""

from __future__ import annotations

import pytest

from imagechat_tui.client.target import is_loopback


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
