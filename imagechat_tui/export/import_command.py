"""``imagechat-tui import FILE.w3c.json --room ROOM``: markers and threads from W3C Web
Annotations (our export, or Annotorious's rectangles) into a room, so a review can move
between servers.

Every change goes through the server's normal, validated ops, as the app sends them
(``ClientSession``: create, reply, resolve), one at a time and each confirmed before the
next, so it works against any server and the server decides as for anyone. The
importer is the author of what it writes (a server lets nobody write in another's
name); the original authors and times stay in the file. The room must be empty, so the
markers keep their numbers; the whole file is read before anything is sent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from imagechat_tui.cli_options import CaFileOption, ServerOption, TokenOption

if TYPE_CHECKING:  # imported when the command runs: --help stays fast
    import ssl

    from imagechat_tui.export.w3c_read import Marker
    from imagechat_tui.protocol import User


class ImportStopped(Exception):
    """The import stopped; ``str`` is one line for a person."""


def import_annotations(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A W3C Web Annotation JSON file.")],
    room: Annotated[str, typer.Option(help="The room to create the markers in (empty).")],
    size: Annotated[
        str | None,
        typer.Option(
            metavar="WxH",
            help="The image's size in pixels, for files in pixels that do not record it "
            "(Annotorious's).",
        ),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    ca_file: CaFileOption = None,
) -> None:
    """Recreate the markers and threads of FILE in ROOM."""
    raise typer.Exit(
        code=run(
            file,
            room,
            size,
            ",".join(server) if server else None,
            token,
            str(ca_file) if ca_file else None,
        )
    )


def _size(text: str | None) -> tuple[int, int] | None:
    from imagechat_tui.export.w3c_read import ReadError

    if text is None:
        return None
    w, sep, h = text.lower().partition("x")
    if not (sep and w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0):
        raise ReadError(f"--size must be WIDTHxHEIGHT in pixels, like 1600x900, not {text!r}.")
    return int(w), int(h)


def read(file: Path, size: str | None) -> list[Marker]:
    from imagechat_tui.export.w3c_read import ReadError, markers

    try:
        document = json.loads(file.expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReadError(f"Cannot read {file}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{file} is not JSON: {exc}.") from None
    return markers(document, _size(size))


def run(
    file: Path,
    room: str,
    size: str | None,
    server: str | None,
    token: str | None,
    ca_file: str | None,
) -> int:
    """Import; returns the exit code. Every expected failure is one line on stderr."""
    import asyncio

    from rich.console import Console

    from imagechat_tui.client.target import (
        LaunchError,
        _server_and_token,
        _user_from_token,
        report,
        ssl_context,
    )
    from imagechat_tui.export.fetch import FetchError
    from imagechat_tui.export.w3c_read import ReadError

    err = Console(stderr=True, highlight=False)
    try:
        wanted = read(file, size)
        url, tok, _remint, _keeper = _server_and_token(server, token)
        context = ssl_context(ca_file) if url.startswith("wss://") else None
        done = asyncio.run(write_room(url, tok, room, wanted, _user_from_token(tok), context))
    except (ReadError, LaunchError, FetchError, ImportStopped) as exc:
        return report(err, exc)
    err.print(f"Imported {done} marker{'s' * (done != 1)} into room {room}.", markup=False)
    return 0


async def write_room(
    server_url: str,
    token: str,
    room: str,
    wanted: list[Marker],
    user: User,
    ssl_context: ssl.SSLContext | None,
    wait: float = 30.0,
) -> int:
    """Create ``wanted`` in ``room``, each op confirmed before the next; the count made."""
    import asyncio  # here, not at the top: `imagechat-tui --help` loads this module

    from imagechat_tui.backoff import Backoff
    from imagechat_tui.client.connection import Connection, ConnState
    from imagechat_tui.client.session import ClientSession, Done
    from imagechat_tui.export.fetch import FetchError
    from imagechat_tui.model import Actor
    from imagechat_tui.replica import Received, Replica

    replica = Replica(room, Actor(user=user, role="member"))
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    answers: asyncio.Queue[Received] = asyncio.Queue()
    connection: Connection

    def on_state(state: ConnState) -> None:
        if ready.done():
            return
        if state.connected:
            ready.set_result(None)
        elif state.kind == "auth-failed" or (
            state.kind in ("reconnecting", "offline") and state.attempt >= len(connection.urls)
        ):
            ready.set_exception(FetchError(state.reason))
        elif state.kind == "reconnecting":
            connection.retry_now()

    connection = Connection(
        server_url,
        token,
        replica,
        on_state=on_state,
        on_received=answers.put_nowait,
        ssl_context=ssl_context,
        backoff=Backoff(base=0.0, cap=0.0, jitter=0.0),
    )
    session = ClientSession(connection)
    task = loop.create_task(connection.run())
    made = 0

    async def confirmed(what: str) -> None:
        """Until the server has answered every op sent; its refusal stops the import."""
        while True:
            while not answers.empty():
                for _op, error in answers.get_nowait().failed:
                    raise ImportStopped(f"The server refused {what}: {error.message}")
            if not replica.pending:
                return
            try:
                answers.put_nowait(await asyncio.wait_for(answers.get(), wait))
            except TimeoutError:
                raise ImportStopped(
                    f"The server did not confirm {what} within {wait:g} s."
                ) from None

    try:
        try:
            await asyncio.wait_for(asyncio.shield(ready), wait)
        except TimeoutError:
            raise FetchError(f"The server at {connection.url} did not answer.") from None
        if replica.confirmed.chats:
            count = len(replica.confirmed.chats)
            raise ImportStopped(
                f"Room {room} already has {count} marker{'s' * (count != 1)}; "
                "import into a new room, so the numbers stay."
            )
        for number, item in enumerate(wanted, start=1):
            what = f"marker {number} (imported {made} of {len(wanted)})"
            outcome = session.create(item.x, item.y, item.comments[0], item.w, item.h)
            if not isinstance(outcome, Done):
                raise ImportStopped(f"Cannot create {what}: {outcome.reason}")
            await confirmed(what)
            for reply in item.comments[1:]:
                answer = session.reply(outcome.chat_id, reply)
                if not isinstance(answer, Done):
                    raise ImportStopped(f"Cannot reply on {what}: {answer.reason}")
                await confirmed(what)
            if item.resolved:
                answer = session.set_resolved(outcome.chat_id, True)
                if not isinstance(answer, Done):
                    raise ImportStopped(f"Cannot resolve {what}: {answer.reason}")
                await confirmed(what)
            made += 1
    finally:
        await connection.close()
        await task
    return made
