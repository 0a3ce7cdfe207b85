"""Options shared by the commands that open a room (``open``, ``export``): one definition,
so every command finds the server, room and token the same way."""

from __future__ import annotations

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
    str | None, typer.Option(help="Room to join. Default: derived from the image.")
]
TokenOption = Annotated[str | None, typer.Option(envvar="IMAGECHAT_TOKEN", help="Access token.")]
CaFileOption = Annotated[
    Path | None, typer.Option("--ca-file", help="CA bundle to trust for wss:// servers.")
]
NameOption = Annotated[
    str | None,
    typer.Option(help="Your display name when a room link's invite is redeemed."),
]
