"""Options shared by the commands that open a room (``open``, ``export``): one definition,
so every command finds the server, room and token the same way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

ServerOption = Annotated[
    list[str] | None,
    typer.Option(
        envvar="IMAGECHAT_SERVER",
        metavar="URL",
        help="ws:// or wss:// URL; repeat it, or give a comma list, for several nodes "
        "(the app fails over between them). Default: the local server, started if needed.",
    ),
]
RoomOption = Annotated[
    str | None, typer.Option(metavar="ROOM", help="Room to join. Default: derived from the image.")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        envvar="IMAGECHAT_TOKEN",
        metavar="TOKEN",
        help="Access token (better in IMAGECHAT_TOKEN: ps shows arguments).",
    ),
]
CaFileOption = Annotated[
    Path | None,
    typer.Option("--ca-file", metavar="FILE", help="CA bundle to trust for wss:// servers."),
]
NameOption = Annotated[
    str | None,
    typer.Option(metavar="NAME", help="Your display name when a room link's invite is redeemed."),
]


def one_of(choices: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """A choice option's check, answered in our words with the valid choices."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in choices:
            raise typer.BadParameter(
                f"{value!r} is not a choice here; choose one of {', '.join(choices)}."
            )
        return value

    return check
