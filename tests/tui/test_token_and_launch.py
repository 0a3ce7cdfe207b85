"""An expired token (close 4002 from a real server) and ``imagechat-tui IMAGE`` end to end."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from textual.widgets import Input, Label

from bench.terminal_bytes_bench import Terminal
from imagechat_tui.server.node import RunningServer
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.dialogs import TokenScreen
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.offline_banner import OfflineBanner
from tests.tui import helpers
from tests.tui.helpers import make_app, running, shows_connection_state, token_dialog_shown, until

SIZE = (120, 36)


def _text(widget: Label) -> str:
    return str(widget.render())


async def test_expired_token_asks_for_a_new_one_and_reconnects(
    start: Callable[..., object], mint_token: Callable[..., str]
) -> None:
    server: RunningServer = await start(reverify_interval=0.2)  # type: ignore[misc]
    # A token that has already expired: the server ends the link with 4002 whatever the
    # machine's load (a short-lived one raced the first join). A live session's token
    # running out ends in the same close: tests/server/test_security.py.
    app = make_app(server.url, mint_token("alice", ttl_seconds=-10))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: token_dialog_shown(app))
        assert app.link.state.close_code == 4002
        assert "expired" in _text(app.screen.query_one(Label))
        assert app.query_one(OfflineBanner).display
        app.screen.query_one(Input).value = mint_token("alice")
        await pilot.press("enter")
        # The link is up first; the banner follows when the app handles that.
        await until(pilot, lambda: app.link.connected and shows_connection_state(app))
        assert not isinstance(app.screen, TokenScreen)
        assert not app.query_one(OfflineBanner).display


async def test_cancelled_token_dialog_comes_back_on_retry(
    start: Callable[..., object], mint_token: Callable[..., str]
) -> None:
    server: RunningServer = await start(reverify_interval=0.2)  # type: ignore[misc]
    app = make_app(server.url, mint_token("alice", ttl_seconds=2))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: token_dialog_shown(app))
        await pilot.press("escape")  # (a press returns when the app looks idle, not done)
        await until(pilot, lambda: not isinstance(app.screen, TokenScreen))
        assert app.link.state.kind == "auth-failed"
        # Offline: creating is not offered (the banner says why), and n opens nothing.
        assert not app.query_one(ImageView).check_action("place", ())
        await pilot.press("n")
        await pilot.pause()
        assert not app.query_one(CommentInput).display
        assert app.query_one(OfflineBanner).display
        await pilot.press("R")
        await until(pilot, lambda: token_dialog_shown(app))
        app.screen.query_one(Input).value = mint_token("alice")
        await pilot.press("enter")
        await until(pilot, lambda: app.link.connected)


async def test_local_server_token_is_reminted_without_asking(
    start: Callable[..., object], mint_token: Callable[..., str]
) -> None:
    server: RunningServer = await start(reverify_interval=0.2)  # type: ignore[misc]
    minted: list[str] = []

    def remint() -> str:
        minted.append(mint_token("alice"))
        return minted[-1]

    app = make_app(server.url, mint_token("alice", ttl_seconds=2), remint_token=remint)
    async with running(app, SIZE) as pilot:
        await until(pilot, lambda: bool(minted))
        await until(pilot, lambda: app.link.connected)
        assert app.link.token == minted[0]
        assert not isinstance(app.screen, TokenScreen)


# --- imagechat-tui IMAGE, as a process -----------------------------------------------


def run_cli(home: Path, *args: str) -> tuple[int, str]:
    import subprocess

    env = {**os.environ, "IMAGECHAT_HOME": str(home)}
    env.pop("IMAGECHAT_SERVER", None)
    env.pop("IMAGECHAT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


def test_a_file_that_is_not_an_image_is_one_line_and_exit_1(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not a picture\n")
    code, err = run_cli(home, str(path))
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("imagechat-tui: ") and "is not an image" in err


def test_a_missing_file_and_a_bad_room(home: Path, tmp_path: Path) -> None:
    code, err = run_cli(home, str(tmp_path / "nowhere.png"))
    assert (code, err.count("\n")) == (1, 1) and "No such file" in err
    image = tmp_path / "shot.png"
    helpers.test_image().save(image)
    code, err = run_cli(home, str(image), "--room", "bad room!")
    assert (code, err.count("\n")) == (2, 1) and "The room may only use" in err


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on loopback serving a temporary directory."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_url_that_404s_is_one_line_and_exit_1(home: Path, http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    code, err = run_cli(home, f"{base}/missing.png")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "404" in err and "missing.png" in err


async def test_the_app_starts_connects_and_quits_in_a_terminal(
    home: Path, server: RunningServer, http_root: tuple[str, Path]
) -> None:
    """A real start in a pseudo-terminal: an image from a URL, the local server's
    token found in the data directory, connected, then ``q`` quits with code 0."""
    base, root = http_root
    helpers.test_image().save(root / "shot.png")
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "TERM": "xterm-256color"}
    env.pop("IMAGECHAT_TOKEN", None)
    argv = [sys.executable, "-m", "imagechat_tui", f"{base}/shot.png", "--server", server.url]
    terminal = Terminal(argv, 100, 30, env)
    try:
        await terminal.until_written(b"Connected")
        written = b"".join(terminal.log)
        assert b"shot.png" in written  # the title
        assert b"\xe2\x96\x80" in written  # half blocks: the image
    finally:
        code = await terminal.close()
    assert code == 0
    await asyncio.sleep(0)


async def test_a_refused_token_is_one_sentence_wrapped_whole_at_80_columns(
    server: RunningServer,
) -> None:
    forged = jwt.encode(
        {"sub": "alice", "tenant": "local", "role": "member", "exp": int(time.time()) + 600},
        "another server's secret, long enough",
        algorithm="HS256",
    )
    app = make_app(server.url, forged)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: token_dialog_shown(app))
        await pilot.pause()
        reason = app.screen.query_one(Label)
        said = _text(reason)
        assert said == (
            "The token was refused: it was not signed by this server (a token from another"
            " server, or an old key)."
        )
        # Wrapped inside the screen, not cut at its edge.
        assert reason.region.right <= 80 and reason.region.height >= 2
