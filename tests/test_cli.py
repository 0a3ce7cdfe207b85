"""The command line as a person uses it: real processes, real signals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import jwt
import pytest
import typer
from websockets.exceptions import ConnectionClosed

from imagechat_tui.auth import TenantStore
from tests.wsclient import WsClient, create_op


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMAGECHAT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "imagechat_tui", *args], capture_output=True, text=True, env=env
    )


async def _start_serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "IMAGECHAT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return proc
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError(
        f"serve did not come up: {proc.stderr.read().decode() if proc.stderr else ''}"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_serve_closes_connections_with_1001_on_signal_and_keeps_data(home, sig) -> None:
    port = _free_port()
    proc = await _start_serve(home, port)
    token = TenantStore.in_home(home).mint(tenant="local", user_id="alice")
    url = f"ws://127.0.0.1:{port}/ws"
    client, *_ = await WsClient.joined(url, token)
    await client.send(create_op(text="acknowledged"))
    (event,) = await client.recv_events(1)
    proc.send_signal(sig)
    with pytest.raises(ConnectionClosed):
        while True:
            await client.recv(10)
    assert client.ws.close_code == 1001
    assert await asyncio.to_thread(proc.wait, 20) == 0
    # Nothing acknowledged is lost.
    proc = await _start_serve(home, port)
    try:
        again, joined, (snapshot,) = await WsClient.joined(url, token)
        assert joined["seq"] == event["seq"]
        assert snapshot["chats"][0]["comments"][0]["text"] == "acknowledged"
        await again.close()
    finally:
        proc.terminate()
        proc.wait(20)


async def test_serve_exits_by_itself_when_idle(home) -> None:
    port = _free_port()
    env = {**os.environ, "IMAGECHAT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagechat_tui", "serve", "--port", str(port), "--idle-exit", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert await asyncio.to_thread(proc.wait, 30) == 0


def test_serve_on_a_busy_port_says_so(home) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = _cli("serve", "--port", str(busy.getsockname()[1]), home=home)
    assert result.returncode == 2
    assert "cannot listen" in result.stderr and "Traceback" not in result.stderr


def test_token_command_mints_a_verifiable_token(home) -> None:
    result = _cli("token", "--user", "alice", "--name", "Alice", "--role", "moderator", home=home)
    assert result.returncode == 0, result.stderr
    identity = TenantStore.in_home(home).verify(result.stdout.strip())
    assert (identity.tenant, identity.actor.user.name, identity.actor.role) == (
        "local",
        "Alice",
        "moderator",
    )
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert 29 * 86400 < claims["exp"] - claims["iat"] <= 30 * 86400


def test_token_command_refuses_unknown_role_and_tenant(home) -> None:
    bad_role = _cli("token", "--user", "a", "--role", "god", home=home)
    assert bad_role.returncode == 2 and "Unknown role" in bad_role.stderr
    bad_tenant = _cli("token", "--user", "a", "--tenant", "nope", home=home)
    assert bad_tenant.returncode == 2 and "No tenant" in bad_tenant.stderr


def test_every_command_has_help(home) -> None:
    for command in ("serve", "token", "stats", "tenant", "open"):
        result = _cli(command, "--help", home=home)
        assert result.returncode == 0 and "Usage" in result.stdout, command


HELP_COMMANDS = (
    (),
    ("open",),
    ("export",),
    ("share",),
    ("import",),
    ("serve",),
    ("migrate",),
    ("token",),
    ("stats",),
    ("tenant", "add"),
    ("invite", "list"),
    ("invite", "revoke"),
)


def _help_at_80(*args: str, home: Path) -> str:
    env = {**os.environ, "IMAGECHAT_HOME": str(home), "COLUMNS": "80"}
    result = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", *args], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout


def test_help_reads_as_people_write_at_80_columns(home: Path) -> None:
    """No library type tags (`--uses <int>`, `TARGET <str>`), no `{TARGET}` in the usage,
    no cryptic limit help ("Characters per comment: too-large."), no command's summary
    cut with "..." in a list of commands, and serve's help not a help column squeezed to
    46 cells by the longest option at 80 columns (it started at column 34 and took 150
    lines)."""
    for command in HELP_COMMANDS:
        text = _help_at_80(*command, "--help", home=home)
        assert not re.search(r" <[a-z ]+>", text), (command, text)
        assert "{" not in text.splitlines()[0], command
        assert "too-large" not in text and "limit-reached" not in text, command
        assert max(len(line) for line in text.splitlines()) <= 80, command
        assert "..." not in text.partition("Commands:")[2], (command, text)
        if command == ("serve",):  # the help column, where the short options' help begins
            option = re.compile(r"^  --\S+(?: [A-Z_]+)?\s{2,}(\S)")
            starts = [m.start(1) for m in map(option.match, text.splitlines()) if m]
            assert starts and max(starts) <= 26, max(starts)


@pytest.mark.parametrize("command", ["serve", "stats"])
def test_help_is_short_and_every_option_is_one_step_from_it(home: Path, command: str) -> None:
    """`serve --help` took 160 lines at 80 columns: now the common options, then every other
    option by name in its group's line; `--help-all` explains each under its group."""
    from imagechat_tui.cli import app

    cli = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    options = [p for p in cli.params if p.param_type_name == "option" and p.name != "help"]
    short = _help_at_80(command, "--help", home=home)
    every = _help_at_80(command, "--help-all", home=home)
    assert len(short.splitlines()) <= 60, len(short.splitlines())
    assert "--help-all" in short
    assert max(len(line) for line in every.splitlines()) <= 80
    for option in options:
        name = option.opts[0]
        assert re.search(rf"(^|[ ,]){re.escape(name)}([ ,]|$)", short, re.M), name
        explained = re.search(rf"^  {re.escape(name)}[ /\n]", every, re.M)
        assert explained and (option.envvar is None or option.envvar in every), name
    groups = {p.rich_help_panel for p in options} - {None}
    assert groups and all(f"\n{group}:\n" in every for group in groups), groups


def test_a_wrong_choice_is_answered_with_the_valid_choices(home) -> None:
    """Not the library's "Value error, 'pdf' is not one of …"."""
    for args, said in (
        (("export", "x.png", "--format", "pdf"), "choose one of markdown, w3c, png, csv, xlsx."),
        (("serve", "--log-level", "loud"), "choose one of debug, info, warning, error."),
    ):
        result = _cli(*args, home=home)
        assert result.returncode == 2, args
        assert said in result.stderr and "Value error" not in result.stderr, result.stderr
