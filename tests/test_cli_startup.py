"""`imagechat-tui --help` loads only typer and the options' own modules: what a command
runs (the server, the app, tokens, HTTP, images) is imported when it runs. The time this
saves is measured by bench/cli_startup.py; here, which modules a real --help loads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Each of these cost a --help 20-80 ms (jwt with cryptography, the websockets server,
# httpx, Pillow, msgspec, asyncio, rich's help boxes with markdown-it).
HEAVY = (
    "jwt",
    "cryptography",
    "websockets",
    "httpx",
    "PIL",
    "msgspec",
    "asyncio",
    "rich",
    "markdown_it",
    "textual",
    "imagechat_tui.tui",
    "imagechat_tui.server.node",
)

_PROBE = """
import json, sys
from imagechat_tui.cli import main
sys.argv = ["imagechat-tui", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = json.loads(HEAVY)
loaded = [h for h in heavy if any(m == h or m.startswith(h + ".") for m in sys.modules)]
print(json.dumps(loaded), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["share", "--help"]])
def test_help_imports_nothing_a_command_runs(args: list[str]) -> None:
    probe = _PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60
    )
    assert "Usage" in done.stdout
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_the_entry_point_knows_the_commands_open_reads_and_its_defaults() -> None:
    """entry.py opens ``imagechat-tui FILE`` without typer: its words for the commands
    and open's variables are cli.py's, and ``run(FILE, None, None, None, None)`` is what
    open passes with every default."""
    import inspect

    from typer.utils import get_params_from_function

    from imagechat_tui import cli, entry
    from imagechat_tui.tui import launch

    assert cli._commands() == entry.COMMANDS
    params = get_params_from_function(cli.open_image)
    envvars = {getattr(p.default, "envvar", None) for p in params.values()} - {None}
    assert envvars == entry.OPEN_VARIABLES
    run = inspect.signature(launch.run).parameters
    passed = {"server": None, "room": None, "token": None, "ca_file": None}
    passed |= {n: p.default for n, p in run.items() if p.kind is p.KEYWORD_ONLY and n in params}
    defaults = {name: p.default.default for name, p in params.items() if name != "image"}
    assert defaults == passed
