"""Options shared by the commands that open a room (``open``, ``export``): one definition,
so every command finds the server, room and token the same way."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Final, TypeVar

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


HELP_ALL: Final = "help_all"  # the parameter, and ctx.meta's key while --help-all prints


def _show_every_option(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        ctx.meta[HELP_ALL] = True
        typer.echo(ctx.get_help())
        raise typer.Exit()


#: ``--help-all``, for a command whose options have groups (``Setting.panel``).
HelpAllOption = Annotated[
    bool,
    typer.Option(
        "--help-all",
        is_eager=True,
        callback=_show_every_option,
        help="Show every option, by group, and exit.",
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
        """Arguments, then options; an option with a group (``rich_help_panel``) is named
        in its group's line, and explained under its group's title with --help-all."""
        every = bool(ctx.meta.get(HELP_ALL))
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        named: dict[str, list[Any]] = {}  # a group's options, for --help's one line
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            is_argument = param.param_type_name == "argument"
            value = "" if is_argument else f" {(param.name or '').upper()}"
            name = _TYPE_TAG.sub(value, name)
            panel = None if is_argument else getattr(param, "rich_help_panel", None)
            if is_argument:
                sections["Arguments"].append((name, text))
            elif panel is None:
                sections["Options"].append((name, text))
            elif every:
                sections.setdefault(panel, []).append((name, text))
            else:
                named.setdefault(panel, []).append(param)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows, col_max=20)  # more room for the help
        if named:
            with formatter.section("More options, by group (--help-all explains each)"):
                _write_groups(formatter, named)


def _write_groups(formatter: Any, named: dict[str, list[Any]]) -> None:
    """Each group's title and its options' names, wrapped between names only (click's
    wrapping breaks ``--undo-seconds`` at its hyphen)."""
    indent = " " * formatter.current_indent
    first = max(len(panel) for panel in named) + 2
    width = max(formatter.width - formatter.current_indent - first, 20)
    for panel, params in named.items():
        names = ", ".join(param.opts[0] for param in params)
        lines = textwrap.wrap(names, width, break_on_hyphens=False)
        for i, line in enumerate(lines):
            formatter.write(f"{indent}{panel if i == 0 else '':<{first}}{line}\n")
    formatter.write_paragraph()
    example = next(p for params in named.values() for p in params)
    note = f"Each can also be set by its variable, as {example.opts[0]} by {example.envvar}."
    for line in textwrap.wrap(note, formatter.width - formatter.current_indent):
        formatter.write(f"{indent}{line}\n")


_TYPE_TAG = re.compile(r" <[a-z ]+>$")


def _unbraced(piece: str) -> str:
    return piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece


class PlainGroup(typer.core.TyperGroup):
    """A group whose list of commands gives each one's first sentence whole, wrapped
    (click cut it at the line's end with "...": "Upload IMAGE to the server, open a room
    for it and print an...")."""

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:  # type: ignore[override]
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class Commands(typer.Typer):
    """``typer.Typer`` whose groups are ``PlainGroup``s and commands ``PlainCommand``s."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", PlainGroup)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[CommandFunction], CommandFunction]:
        kwargs.setdefault("cls", PlainCommand)
        return super().command(*args, **kwargs)
