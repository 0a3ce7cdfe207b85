"""The ``imagechat-tui`` command: open an image, or run and manage a server."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from imagechat_tui import paths
from imagechat_tui.auth import DEFAULT_TTL_SECONDS, LOCAL_TENANT, TenantStore
from imagechat_tui.cli_options import (
    CaFileOption,
    NameOption,
    RoomOption,
    ServerOption,
    TokenOption,
)
from imagechat_tui.export.command import export
from imagechat_tui.model import ROLE_RANK, Limits
from imagechat_tui.server.config import ServerConfig
from imagechat_tui.server.storage import StorageUnavailable
from imagechat_tui.share_command import invite_app, share

app = typer.Typer(
    name="imagechat-tui",
    help="Review images together from a terminal. `imagechat-tui IMAGE` opens an image.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
tenant_app = typer.Typer(help="Manage tenants and their signing secrets.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.command("export")(export)
app.command("share")(share)
app.add_typer(invite_app, name="invite")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"imagechat-tui: {message}", err=True)
    return typer.Exit(code=2)


@app.command("open")
def open_image(
    image: Annotated[
        str,
        typer.Argument(help="A room link (http://HOST/r/ROOM?invite=...), an image URL or file."),
    ],
    server: ServerOption = None,
    room: RoomOption = None,
    token: TokenOption = None,
    ca_file: CaFileOption = None,
    graphics: Annotated[
        str,
        typer.Option(
            envvar="IMAGECHAT_GRAPHICS",
            metavar="MODE",
            help="How to draw the image: auto (ask the terminal), kitty, sixel or halfblock.",
        ),
    ] = "auto",
    name: NameOption = None,
    alert: Annotated[
        str,
        typer.Option(
            envvar="IMAGECHAT_ALERT",
            metavar="MODE",
            help="When you are mentioned or replied to while the terminal is in the "
            "background: auto (bell, plus a desktop notification where the terminal shows "
            "OSC 9/777), bell, osc9, osc777 or off.",
        ),
    ] = "auto",
) -> None:
    """Open IMAGE and review it with everyone else viewing it."""
    from imagechat_tui.tui.launch import run

    servers = ",".join(server) if server else None
    ca = str(ca_file) if ca_file else None
    raise typer.Exit(
        code=run(image, servers, room, token, ca, graphics=graphics, name=name, alert=alert)
    )


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


# Every `serve` option can also be set by the environment variable named beside it (shown
# in --help; a flag beats the variable). Defaults come from ServerConfig, the one settings
# object: tests/test_cli.py checks that each option has its IMAGECHAT_* variable.
_D = ServerConfig()


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(envvar="IMAGECHAT_HOST", help="Address to listen on.")
    ] = _D.host,
    port: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_PORT",
            min=0,
            max=65535,
            help="Port to listen on (0 picks a free one).",
        ),
    ] = _D.port,
    database: Annotated[
        str | None,
        typer.Option(
            envvar="IMAGECHAT_DATABASE",
            help="sqlite:///PATH or postgresql://... Default: SQLite in the data directory.",
        ),
    ] = _D.database,
    home: Annotated[
        Path | None,
        typer.Option(
            envvar=paths.HOME_ENV,
            file_okay=False,
            help="Data directory (tenant secrets, the default SQLite database). "
            "Default: the platform's user data directory.",
        ),
    ] = _D.home,
    idle_exit: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_IDLE_EXIT",
            min=0,
            help="Stop after this many seconds without connections (0: never).",
        ),
    ] = _D.idle_exit,
    broker: Annotated[
        str | None,
        typer.Option(
            envvar="IMAGECHAT_BROKER",
            help="redis://HOST:PORT/DB to share rooms with other nodes (needs PostgreSQL). "
            "Default: this node alone.",
        ),
    ] = _D.broker,
    seq_check_interval: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_SEQ_CHECK_INTERVAL",
            min=0.01,
            help="With --broker: seconds between checks that no event from another node "
            "was missed.",
        ),
    ] = _D.seq_check_interval,
    presence_ttl: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_PRESENCE_TTL",
            min=0.1,
            help="With --broker: seconds a stopped node's viewers stay listed.",
        ),
    ] = _D.presence_ttl,
    compression: Annotated[
        bool,
        typer.Option(
            "--compression/--no-compression",
            envvar="IMAGECHAT_COMPRESSION",
            help="Accept permessage-deflate from clients that offer it, without context "
            "takeover: each broadcast is compressed once for all viewers (a new marker "
            "~140 bytes on the wire with the app's binary events, 446 as plain JSON).",
        ),
    ] = _D.compression,
    log_level: Annotated[
        LogLevel, typer.Option(envvar="IMAGECHAT_LOG_LEVEL", help="How much to log.")
    ] = LogLevel.info,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            envvar="IMAGECHAT_TLS_CERT",
            help="PEM certificate (chain): serve wss:// with --tls-key.",
        ),
    ] = _D.tls_cert,
    tls_key: Annotated[
        Path | None,
        typer.Option(envvar="IMAGECHAT_TLS_KEY", help="PEM private key for --tls-cert."),
    ] = _D.tls_key,
    max_frame_bytes: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_FRAME_BYTES",
            min=1,
            help="Largest frame accepted; larger: close 1009.",
        ),
    ] = _D.max_frame_bytes,
    max_text: Annotated[
        int,
        typer.Option(envvar="IMAGECHAT_MAX_TEXT", min=1, help="Characters per comment: too-large."),
    ] = _D.limits.max_text,
    max_markers: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_MARKERS", min=1, help="Markers per room: limit-reached."
        ),
    ] = _D.limits.max_markers,
    max_comments: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_COMMENTS", min=1, help="Comments per marker: limit-reached."
        ),
    ] = _D.limits.max_comments,
    ops_per_second: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_OPS_PER_SECOND", min=0, help="Frames per connection per second."
        ),
    ] = _D.ops_per_second,
    ops_burst: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_OPS_BURST", min=1, help="Burst above --ops-per-second: rate-limited."
        ),
    ] = _D.ops_burst,
    max_connections_per_user: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_CONNECTIONS_PER_USER",
            min=0,
            help="Connections per user (0: no limit): close 4029.",
        ),
    ] = _D.max_connections_per_user,
    max_rooms_per_tenant: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_ROOMS_PER_TENANT",
            min=0,
            help="Rooms per tenant (0: no limit): close 4030.",
        ),
    ] = _D.max_rooms_per_tenant,
    join_timeout: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_JOIN_TIMEOUT",
            min=0,
            help="Seconds allowed before join: close 4008.",
        ),
    ] = _D.join_timeout,
    unix_socket: Annotated[
        Path | None,
        typer.Option(
            envvar="IMAGECHAT_UNIX_SOCKET",
            help="Listen on this unix socket instead of --host/--port "
            "(the app reaches it with --server unix:PATH).",
        ),
    ] = None,
    peer_auth: Annotated[
        bool,
        typer.Option(
            "--peer-auth/--no-peer-auth",
            envvar="IMAGECHAT_PEER_AUTH",
            help="With --unix-socket: whoever can open the socket joins as their OS account "
            "(kernel peer credentials), no token; the server's own account is admin.",
        ),
    ] = False,
    request_timeout: Annotated[
        float,
        typer.Option(
            envvar="IMAGECHAT_REQUEST_TIMEOUT",
            min=1,
            help="Seconds to send a request, an image upload included, and be answered.",
        ),
    ] = _D.request_timeout,
    max_image_bytes: Annotated[
        int,
        typer.Option(envvar="IMAGECHAT_MAX_IMAGE_BYTES", min=1, help="Largest image upload: 413."),
    ] = _D.max_image_bytes,
    max_image_pixels: Annotated[
        int,
        typer.Option(
            envvar="IMAGECHAT_MAX_IMAGE_PIXELS",
            min=1,
            help="Most pixels in an uploaded image (checked before decoding): 413.",
        ),
    ] = _D.max_image_pixels,
) -> None:
    """Run a sync server node until SIGTERM or SIGINT (applies pending migrations first)."""
    from imagechat_tui.server.node import run_until_signalled

    logging.basicConfig(
        level=log_level.value.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = ServerConfig(
        host=host,
        port=port,
        database=database,
        home=home,
        idle_exit=idle_exit,
        broker=broker,
        seq_check_interval=seq_check_interval,
        presence_ttl=presence_ttl,
        compression=compression,
        tls_cert=tls_cert,
        tls_key=tls_key,
        max_frame_bytes=max_frame_bytes,
        limits=Limits(max_text=max_text, max_markers=max_markers, max_comments=max_comments),
        ops_per_second=ops_per_second,
        ops_burst=ops_burst,
        max_connections_per_user=max_connections_per_user,
        max_rooms_per_tenant=max_rooms_per_tenant,
        join_timeout=join_timeout,
        unix_socket=unix_socket,
        peer_auth=peer_auth,
        request_timeout=request_timeout,
        max_image_bytes=max_image_bytes,
        max_image_pixels=max_image_pixels,
    )
    if peer_auth and unix_socket is None:
        raise _fail("--peer-auth needs --unix-socket PATH: peer credentials exist only there.")
    try:
        asyncio.run(run_until_signalled(config))
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except StorageUnavailable as exc:
        raise _fail(f"cannot open the database: {exc}") from None


@app.command()
def migrate(
    database: Annotated[
        str | None,
        typer.Option(help="sqlite:///PATH or postgresql://... Default: the local SQLite."),
    ] = None,
) -> None:
    """Apply pending schema migrations (``serve`` also does this at start, safely when
    several nodes start at once)."""
    from imagechat_tui.server.migrate import migrate as run_migrations

    url = database or paths.default_database_url()
    try:
        before, after = asyncio.run(run_migrations(url))
    except (ValueError, StorageUnavailable) as exc:
        raise _fail(f"cannot migrate: {exc}") from None
    if before == after:
        typer.echo(f"schema is up to date (version {after})")
    else:
        typer.echo(f"migrated the schema from version {before} to {after}")


@app.command()
def token(
    user: Annotated[str, typer.Option(help="User id (the token's subject).")],
    name: Annotated[str | None, typer.Option(help="Display name. Default: the user id.")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant the token is for.")] = LOCAL_TENANT,
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLE_RANK)}.")] = "member",
    ttl: Annotated[
        int, typer.Option(help="Seconds until the token expires.")
    ] = DEFAULT_TTL_SECONDS,
    room: Annotated[
        str | None, typer.Option(help="Limit the token to one room, or a prefix ending in '*'.")
    ] = None,
) -> None:
    """Print a signed access token for a user of a tenant."""
    store = TenantStore.in_home(paths.data_home())
    if ttl <= 0:
        raise _fail("--ttl must be a positive number of seconds.")
    try:
        typer.echo(
            store.mint(
                tenant=tenant, user_id=user, name=name, role=role, ttl_seconds=ttl, room_scope=room
            )
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None


@app.command()
def stats(
    database: Annotated[
        str | None, typer.Option(help="Database URL. Default: the local SQLite.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Print usage per tenant: pubSubMessageCount and pubSubBandwidth."""
    from imagechat_tui.safe_text import inert
    from imagechat_tui.server.storage import open_storage
    from imagechat_tui.server.usage import usage_report

    async def read() -> list[dict[str, object]]:
        storage = open_storage(database or paths.default_database_url())
        await storage.open()
        try:
            return usage_report(await storage.usage())
        finally:
            await storage.close()

    try:
        rows = asyncio.run(read())
    except Exception as exc:
        raise _fail(f"cannot read usage: {exc}") from None
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'tenant':<24} {'pubSubMessageCount':>20} {'pubSubBandwidth':>18}")
    for row in rows:
        tenant, count, nbytes = row["tenant"], row["pubSubMessageCount"], row["pubSubBandwidth"]
        typer.echo(f"{inert(str(tenant)):<24} {count:>20} {nbytes:>18}")


@tenant_app.command("add")
def tenant_add(
    name: Annotated[str, typer.Argument(help="Tenant name (a-z, 0-9, - and _).")],
) -> None:
    """Add a tenant with a new signing secret."""
    try:
        TenantStore.in_home(paths.data_home()).add(name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"added tenant {name}")


@tenant_app.command("list")
def tenant_list() -> None:
    """List the tenants."""
    for name in TenantStore.in_home(paths.data_home()).names():
        typer.echo(name)


@tenant_app.command("rotate")
def tenant_rotate(
    name: Annotated[str, typer.Argument(help="Tenant whose secret to replace.")],
) -> None:
    """Replace a tenant's secret: every token signed with the old one stops working."""
    try:
        TenantStore.in_home(paths.data_home()).rotate(name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"rotated the secret of tenant {name}; its old tokens no longer work")


def _commands() -> set[str]:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    return names


def main() -> None:
    """Route ``imagechat-tui IMAGE`` to the ``open`` command; everything else to typer."""
    args = sys.argv[1:]
    if args and args[0] not in _commands() and args[0] not in {"--help", "-h"}:
        sys.argv.insert(1, "open")
    app()
