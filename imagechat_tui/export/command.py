"""``imagechat-tui export TARGET --format F [-o FILE]``: a room's review, out of the tool.

TARGET, the server and the token are found exactly as ``imagechat-tui TARGET`` finds
them (``client.target.resolve``); the room is read over the real protocol (``fetch``).
"""

from __future__ import annotations

import os
import sys
import time
import typing
from pathlib import Path
from typing import Annotated

import typer

from imagechat_tui.cli_options import (
    CaFileOption,
    NameOption,
    RoomOption,
    ServerOption,
    TokenOption,
    one_of,
)
from imagechat_tui.export import FORMATS, Format


def export(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="What opening takes: an http(s) URL, a local image file, or a room link.",
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            callback=one_of(FORMATS),
            help="markdown (a report to paste), w3c (Web Annotation JSON-LD), png (the "
            "image with the markers drawn in), csv (one row per comment) or xlsx (the same "
            "rows as a spreadsheet, which LibreOffice and Excel open as written).",
        ),
    ] = "markdown",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
    server: ServerOption = None,
    room: RoomOption = None,
    token: TokenOption = None,
    ca_file: CaFileOption = None,
    name: NameOption = None,
) -> None:
    """Export the review of TARGET: every marker and its whole thread."""
    raise typer.Exit(
        code=run(
            target,
            typing.cast(Format, fmt),
            output,
            ",".join(server) if server else None,
            room,
            token,
            str(ca_file) if ca_file else None,
            name,
        )
    )


def run(
    target: str,
    fmt: Format,
    output: Path | None,
    server: str | None,
    room: str | None,
    token: str | None,
    ca_file: str | None,
    name: str | None = None,
) -> int:
    """Export; returns the exit code. Every expected failure is one line on stderr."""
    import asyncio

    from rich.console import Console

    from imagechat_tui.client.target import TargetError, report, resolve
    from imagechat_tui.export import Review, render
    from imagechat_tui.export.fetch import FetchError, fetch_room

    err = Console(stderr=True, highlight=False)
    binary = {"png": "a PNG", "xlsx": "an .xlsx file"}
    if output is None and fmt in binary and sys.stdout.isatty():
        err.print(
            f"imagechat-tui: {binary[fmt]} would garble the terminal; give -o FILE.",
            markup=False,
        )
        return 2
    try:
        where = resolve(target, server, room, token, ca_file, err, name)
        state = asyncio.run(
            fetch_room(
                where.server_url,
                where.token,
                where.room,
                user=where.user,
                ssl_context=where.ssl_context,
            )
        )
    except TargetError as exc:
        return report(err, exc)
    except FetchError as exc:
        return report(err, FetchError(f"Cannot read room {where.room}: {exc}"))
    review = Review.of(
        state.chats.values(),
        room=where.room,
        image=where.loaded.image,
        source=where.loaded.source,
        is_remote=where.loaded.is_remote,
        title=where.title,
        exported_at=int(time.time() * 1000),
        digest=where.loaded.digest,
    )
    data = render(review, fmt)
    if output is None:
        sys.stdout.buffer.write(for_stdout(data, tty=sys.stdout.isatty()))
        sys.stdout.buffer.flush()
        return 0
    try:
        write_file(output, data)
    except OSError as exc:
        return report(err, OSError(f"Cannot write {output}: {exc.strerror or exc}."))
    count = len(review.chats)
    err.print(f"Wrote {count} marker{'s' * (count != 1)} to {output}.", markup=False)
    return 0


def for_stdout(data: bytes, *, tty: bool) -> bytes:
    """What to write to stdout: on a terminal, text through the app's inert-text rule
    (an escape sequence in a comment shows as ``␛[2J``, it does not clear the screen);
    to a pipe or a file, the exact bytes. (A PNG or .xlsx never reaches a terminal: see ``run``.)"""
    if not tty:
        return data
    from imagechat_tui.safe_text import inert

    return inert(data.decode("utf-8"), keep_newlines=True).encode("utf-8")


def write_file(path: Path, data: bytes) -> None:
    """Write all of ``data`` or leave ``path`` as it was (temporary file, then rename)."""
    path = path.expanduser()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
