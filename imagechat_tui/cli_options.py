"""Options shared by the commands that open a room (``open``, ``export``): one definition,
so every command finds the server, room and token the same way."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import typer.core

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])

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
    typer.Option(
        metavar="NAME",
        help="Your name beside your comments: on this machine's server, or when a room"
        " link's invite is redeemed. Default: your login.",
        envvar="IMAGECHAT_NAME",
    ),
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


class PlainCommand(typer.core.TyperCommand):
    """A command whose help names values as people do: ``TARGET``, not ``{TARGET}`` in
    the usage, and ``--uses USES``, not ``--uses <int>`` (typer 0.29 added both; the
    click it replaced had neither)."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        return [_unbraced(piece) for piece in super().collect_usage_pieces(ctx)]

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            value = "" if param.param_type_name == "argument" else f" {(param.name or '').upper()}"
            name = _TYPE_TAG.sub(value, name)
            sections["Arguments" if param.param_type_name == "argument" else "Options"].append(
                (name, text)
            )
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows, col_max=20)  # more room for the help


_TYPE_TAG = re.compile(r" <[a-z ]+>$")


def _unbraced(piece: str) -> str:
    return piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece


class Commands(typer.Typer):
    """``typer.Typer`` whose commands are ``PlainCommand``s."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        kwargs.setdefault("cls", PlainCommand)
        return super().command(*args, **kwargs)
