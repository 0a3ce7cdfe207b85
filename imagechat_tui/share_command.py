"""``imagechat-tui share IMAGE`` and ``imagechat-tui invite list|revoke``.

``share`` uploads the image if the server lacks it, records it as the room's image,
creates an invite and prints the link as its last line. ``invite`` manages the invites
stored by a server, on that server's host (like ``stats``, straight from its database).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from imagechat_tui.cli_options import Commands
from imagechat_tui.invites import (
    DEFAULT_USES,
    INVITE_ROLES,
    Invite,
    hash_code,
    is_well_formed,
    parse_duration,
)
from imagechat_tui.safe_text import inert

# httpx, rich and the share routine are imported when a command runs, not for --help.

invite_app = Commands(
    help="List and revoke the invites this host's server has issued.", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(
        f"imagechat-tui: {inert(message)}", markup=False, soft_wrap=True
    )
    return typer.Exit(code=1)


def share(
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="The image file to share.")],
    server: Annotated[
        str | None,
        typer.Option(
            envvar="IMAGECHAT_SERVER",
            metavar="URL",
            help="The server your colleagues reach (http(s):// or ws(s)://). "
            "Default: this machine's local server (reachable from this host only).",
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option(envvar="IMAGECHAT_TOKEN", help="Your token for that server.")
    ] = None,
    role: Annotated[
        str, typer.Option(help=f"What the invited may do: {', '.join(INVITE_ROLES)}.")
    ] = "member",
    expires: Annotated[
        str, typer.Option(help="How long the link works: e.g. 30m, 12h, 7d, 2w.")
    ] = "7d",
    uses: Annotated[int, typer.Option(help="How many people may redeem the link.")] = DEFAULT_USES,
    room: Annotated[
        str | None, typer.Option(help="Room name. Default: derived from the image's bytes.")
    ] = None,
    ca_file: Annotated[
        Path | None, typer.Option("--ca-file", help="CA bundle to trust for https:// servers.")
    ] = None,
) -> None:
    """Upload IMAGE to the server, open a room for it and print an invite link."""
    import hashlib

    import httpx
    from rich.console import Console

    from imagechat_tui.client.image_source import room_for
    from imagechat_tui.client.share import ShareError, share_room
    from imagechat_tui.links import ROOM_PATTERN

    err = Console(stderr=True, highlight=False)
    try:
        seconds = parse_duration(expires)
        if role not in INVITE_ROLES:
            raise ShareError(f"--role must be one of {', '.join(INVITE_ROLES)}.")
        if uses < 1:
            raise ShareError("--uses must be at least 1.")
        try:
            data = image.read_bytes()
        except OSError as exc:
            raise ShareError(f"Cannot read {image}: {exc.strerror or exc}.") from None
        room_name = room or room_for(None, hashlib.sha256(data).hexdigest())
        if not ROOM_PATTERN.match(room_name):
            raise ShareError("The room may only use letters, digits and _ . : - / (1-128).")
        base, bearer = _server_and_token(server, token)
        verify: Any = str(ca_file) if ca_file else True
        with httpx.Client(base_url=base, verify=verify, timeout=60.0, headers=bearer) as http:
            invite = share_room(
                http,
                room_name,
                image=lambda: data,
                title=image.name,
                role=role,
                expires_in=seconds,
                max_uses=uses,
                progress=err,
            )
    except (ShareError, ValueError) as exc:
        raise _fail(str(exc)) from None
    until = datetime.datetime.fromtimestamp(int(invite["expires_at"]), tz=datetime.UTC)
    typer.echo(f"Shared {image.name} in room {room_name} on {base}.")
    typer.echo(
        f"Invite {invite['id']}: {role}, {uses} use{'s' if uses != 1 else ''}, "
        f"until {until:%Y-%m-%d %H:%M} UTC. Anyone with the link can join:"
    )
    typer.echo(base + str(invite["path"]))


def _server_and_token(server: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    """The server's HTTP base and the bearer header: the local default (started if
    needed), or SERVER with the token given, held for it, or, on this machine, the local one."""
    from imagechat_tui.client.accounts import ANY_ROOM, Accounts
    from imagechat_tui.client.local_server import (
        LocalServerError,
        ensure_local_server,
        local_token,
    )
    from imagechat_tui.client.share import ShareError
    from imagechat_tui.client.target import is_loopback
    from imagechat_tui.links import LinkError, http_base

    if server is None:
        try:
            base = http_base(ensure_local_server().url)
        except LocalServerError as exc:
            raise ShareError(str(exc)) from None
        return base, {"Authorization": f"Bearer {token or local_token()}"}
    try:
        base = http_base(server)
    except LinkError as exc:
        raise ShareError(str(exc)) from None
    held = token or Accounts().server(base).token_for(ANY_ROOM)
    if held is None and is_loopback(base):
        held = local_token()  # a server on this machine shares our data directory
    if held is None:
        raise ShareError(
            f"A token is needed for {base}: pass --token (a member's, from "
            "`imagechat-tui token` on the server) or set IMAGECHAT_TOKEN."
        )
    return base, {"Authorization": f"Bearer {held}"}


# --- invite list / revoke ---------------------------------------------------------------


DatabaseOption = Annotated[
    str | None,
    typer.Option(help="sqlite:///PATH or postgresql://... Default: the local SQLite."),
]


def _with_storage(database: str | None, work: Any) -> Any:
    import asyncio

    from imagechat_tui import paths
    from imagechat_tui.server.storage import open_storage

    async def run() -> Any:
        storage = open_storage(database or paths.default_database_url())
        await storage.open()
        try:
            return await work(storage)
        finally:
            await storage.close()

    try:
        return asyncio.run(run())
    except Exception as exc:
        raise _fail(f"cannot read the invites: {exc}") from None


@invite_app.command("list")
def invite_list(
    database: DatabaseOption = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's invites.")] = None,
) -> None:
    """Every invite: id, status, uses, expiry, room and role (newest first)."""
    invites: list[Invite] = _with_storage(database, lambda s: s.list_invites(tenant))
    now = time.time()
    typer.echo(f"{'id':<12}  {'status':<8}  {'uses':>9}  {'expires (UTC)':<16}  {'role':<9}  room")
    for i in invites:
        until = datetime.datetime.fromtimestamp(i.expires_at, tz=datetime.UTC)
        typer.echo(
            f"{i.id:<12}  {i.status(now):<8}  {f'{i.uses}/{i.max_uses}':>9}  "
            f"{until:%Y-%m-%d %H:%M}  {i.role:<9}  {inert(i.tenant)}/{inert(i.room)}"
        )


@invite_app.command("revoke")
def invite_revoke(
    code: Annotated[
        str, typer.Argument(metavar="CODE", help="The invite's code (or its link), or its id.")
    ],
    database: DatabaseOption = None,
) -> None:
    """Revoke an invite: its link stops working at once (tokens it gave keep working)."""
    code = _code_of(code)

    async def revoke(storage: Any) -> list[Invite]:
        if is_well_formed(code) and await storage.get_invite(hash_code(code)) is not None:
            hashes = [hash_code(code)]
        else:
            prefix = code.lower()
            hashes = [
                i.code_hash
                for i in await storage.list_invites()
                if len(prefix) >= 6 and i.code_hash.startswith(prefix)
            ]
            if len(hashes) != 1:
                return [] if not hashes else [Invite("", "", "", "", "", 0, 0, 0)] * len(hashes)
        revoked: list[Invite] = await storage.revoke_invites(hashes)
        return revoked

    revoked: list[Invite] = _with_storage(database, revoke)
    if not revoked:
        raise _fail("No such invite: give its code, its link, or its id from `invite list`.")
    if len(revoked) > 1:
        raise _fail("That id matches several invites; give more of it.")
    typer.echo(f"revoked invite {revoked[0].id} to {inert(revoked[0].room)}")


def _code_of(text: str) -> str:
    if "invite=" in text:
        from urllib.parse import parse_qs

        codes = parse_qs(urlsplit(text).query).get("invite", [])
        if codes:
            return codes[0]
    return text.strip()
