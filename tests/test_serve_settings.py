"""`serve` settings: every option also from an IMAGECHAT_* variable, a flag beats the
variable, --help names them, a bad value is one clear error. Real server processes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from imagechat_tui.auth import TenantStore
from imagechat_tui.cli import app
from imagechat_tui.cli_settings import build
from imagechat_tui.server.config import GROUP, SETTING, ServerConfig
from tests.services import free_port
from tests.wsclient import WsClient, create_op

# Wide enough that rich never wraps a variable's name in --help or an error box.
_WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}


def _env(home: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGECHAT_")}
    return {**env, **_WIDE, "IMAGECHAT_HOME": str(home), **variables}


def _cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imagechat_tui", *args],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=60,
    )


@contextlib.asynccontextmanager
async def _serving(port: int, *args: str, env: Mapping[str, str]) -> AsyncIterator[str]:
    """`serve` as a process; yields its ws:// URL once /health answers on ``port``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagechat_tui", "serve", *args],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient() as http:
            while True:
                if proc.poll() is not None:
                    stderr = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"serve exited with {proc.returncode}: {stderr}")
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 20)


async def _outcome(url: str, token: str, text: str) -> str:
    """What the server answers a new marker with this text: the event's type or the error code."""
    client, *_ = await WsClient.joined(url, token)
    try:
        await client.send(create_op(text=text))
        while True:
            frame = await client.recv()
            if frame["type"] == "error":
                return str(frame["code"])
            if frame["type"] == "batch":
                return str(frame["events"][0]["type"])
            if frame["type"] != "presence":
                return str(frame["type"])
    finally:
        await client.close()


async def test_settings_come_from_the_environment(home: Path) -> None:
    port = free_port()
    token = TenantStore.in_home(home).mint(tenant="local", user_id="alice")
    env = _env(home, IMAGECHAT_PORT=str(port), IMAGECHAT_MAX_TEXT="5")
    async with _serving(port, env=env) as url:  # no flags at all
        assert await _outcome(url, token, "x" * 5) == "new-image-chat"
        assert await _outcome(url, token, "x" * 6) == "too-large"


async def test_a_flag_beats_the_environment(home: Path, tmp_path: Path) -> None:
    port, other_port = free_port(), free_port()
    flag_home = tmp_path / "flag-home"
    token = TenantStore.in_home(flag_home).mint(tenant="local", user_id="alice")
    env = _env(home, IMAGECHAT_PORT=str(other_port), IMAGECHAT_MAX_TEXT="5")
    args = ("--port", str(port), "--max-text", "50", "--home", str(flag_home))
    async with _serving(port, *args, env=env) as url:
        # The token is signed with --home's tenant secret, not IMAGECHAT_HOME's.
        assert await _outcome(url, token, "x" * 50) == "new-image-chat"
        assert await _outcome(url, token, "x" * 51) == "too-large"


def _serve_options() -> list[Any]:
    """The options of `serve` as the command line parser sees them."""
    serve = typer.main.get_command(app).commands["serve"]
    meta = {"help", "help_all"}
    return [p for p in serve.params if p.param_type_name == "option" and p.name not in meta]


def test_every_serve_option_has_its_variable_and_help_names_it(home: Path) -> None:
    options = _serve_options()
    assert len(options) >= 20
    help_text = _cli("serve", "--help-all", env=_env(home)).stdout
    for option in options:
        assert option.name is not None
        expected = f"IMAGECHAT_{option.name.upper()}"
        assert option.envvar == expected, option.name
        assert expected in help_text, expected


def test_option_defaults_are_the_settings_defaults() -> None:
    defaults = ServerConfig()
    by_name = {o.name: o.default for o in _serve_options()}
    assert by_name["port"] == defaults.port
    assert by_name["max_frame_bytes"] == defaults.max_frame_bytes
    assert by_name["max_text"] == defaults.limits.max_text
    assert by_name["presence_ttl"] == defaults.presence_ttl
    assert by_name["join_timeout"] == defaults.join_timeout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("IMAGECHAT_PORT", "eighty"),
        ("IMAGECHAT_PORT", "70000"),
        ("IMAGECHAT_MAX_TEXT", "0"),
        ("IMAGECHAT_OPS_PER_SECOND", "-1"),
        ("IMAGECHAT_LOG_LEVEL", "loud"),
        ("IMAGECHAT_COMPRESSION", "maybe"),
    ],
)
def test_a_bad_value_is_one_clear_error(home: Path, variable: str, value: str) -> None:
    result = _cli("serve", env=_env(home, **{variable: value}))
    assert result.returncode == 2
    assert variable in result.stderr and "Invalid value" in result.stderr
    assert "Traceback" not in result.stderr


def test_each_setting_field_is_one_serve_option_and_fills_the_config() -> None:
    """A field declared with `setting` needs nothing else to be an option of `serve`."""
    declared = {f.name for f in dataclasses.fields(ServerConfig) if SETTING in f.metadata}
    declared |= {
        name for f in dataclasses.fields(ServerConfig) for name in f.metadata.get(GROUP, {})
    }
    assert {o.name for o in _serve_options()} == declared
    values = {o.name: o.default for o in _serve_options()} | {"max_markers": 7, "port": 0}
    config = build(ServerConfig, values)
    assert config.limits.max_markers == 7 and config.port == 0
    assert config == dataclasses.replace(
        ServerConfig(port=0), limits=dataclasses.replace(ServerConfig().limits, max_markers=7)
    )


def test_settings_that_contradict_each_other_are_one_clear_error(home: Path) -> None:
    result = _cli("serve", "--peer-auth", "--port", "0", env=_env(home))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "imagechat-tui: --peer-auth needs --unix-socket PATH: peer credentials exist only there."
    )
