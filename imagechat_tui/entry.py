"""The ``imagechat-tui`` command's entry point. ``imagechat-tui FILE`` alone opens FILE
at once, without importing typer and every command's module (cli.py): that is ~60-90 ms
of CPU before the first frame, and typer's parsing another ~200 ms (it imports pydantic
and builds an adapter per option). It asks the terminal what it can show before any of
the app is imported (``terminal_probe.ask``): the replies come back meanwhile. Everything
else goes to cli.py's typer app.

``COMMANDS`` and ``OPEN_VARIABLES`` are what cli.py's app has (tests/test_cli_startup.py
checks that they stay so): a word that names a command is that command, and any of the
open command's variables set means typer must read it.
"""

from __future__ import annotations

import os
import sys

COMMANDS = frozenset(
    {"export", "import", "invite", "migrate", "open", "serve", "share", "stats", "tenant", "token"}
)
OPEN_VARIABLES = frozenset(
    {
        "IMAGECHAT_ALERT",
        "IMAGECHAT_GRAPHICS",
        "IMAGECHAT_NAME",
        "IMAGECHAT_SERVER",
        "IMAGECHAT_TOKEN",
    }
)


def opens_with_defaults(args: list[str]) -> bool:
    """Whether ``args`` are one FILE (or image URL) and nothing else, with none of open's
    variables set: typer would call ``open`` with every default. A room link may ask for
    a name (typer's prompt and its Abort), so it goes through typer."""
    if len(args) != 1 or args[0].startswith("-") or args[0] in COMMANDS:
        return False
    if any(name in os.environ for name in OPEN_VARIABLES):
        return False
    from imagechat_tui.links import looks_like_room_link

    return not looks_like_room_link(args[0])


def main() -> None:
    args = sys.argv[1:]
    if opens_with_defaults(args):
        from imagechat_tui.client.terminal_probe import ask

        asked = ask()  # first: the terminal answers while the app is imported
        try:
            from imagechat_tui.tui.launch import run  # open's defaults are run's

            code = run(args[0], None, None, None, None, asked=asked)
        finally:
            if asked is not None:  # (an import that failed, a Ctrl-C)
                asked.close()
        sys.exit(code)
    from imagechat_tui.cli import main as commands

    commands()
