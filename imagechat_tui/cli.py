"""The ``imagechat-tui`` command: open an image, or run and manage a server.

Only typer and what the options need are imported here: each command imports what it
runs when it runs (``--help`` stays near the cost of importing typer; bench/cli_startup.py).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from imagechat_tui.cli_options import (
    CaFileOption,
    Commands,
    NameOption,
    RoomOption,
    ServerOption,
    TokenOption,
)
from imagechat_tui.cli_settings import settings_command
from imagechat_tui.export.command import export
from imagechat_tui.export.import_command import import_annotations
from imagechat_tui.policy import DEFAULT_TTL_SECONDS, LOCAL_TENANT, ROLE_RANK
from imagechat_tui.server.config import GROUP, IMAGE_BUDGETS, ServerConfig, setting
from imagechat_tui.server.image_quota import ImageBudgets
from imagechat_tui.share_command import invite_app, share

if TYPE_CHECKING:
    from imagechat_tui.auth import TenantStore

app = Commands(
    name="imagechat-tui",
    help="Review images together from a terminal. `imagechat-tui IMAGE` opens an image.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: full variable names at any width (the rich boxes cut them off at 100
    # columns) and no rich/markdown import (it tripled the time of --help).
    rich_markup_mode=None,
    context_settings={"max_content_width": 100},  # click's own default is 80
)
tenant_app = Commands(help="Manage tenants and their signing secrets.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.command("export")(export)
app.command("import")(import_annotations)
app.command("share")(share)
app.add_typer(invite_app, name="invite")


def _tenants() -> TenantStore:
    from imagechat_tui import paths
    from imagechat_tui.auth import TenantStore

    return TenantStore.in_home(paths.data_home())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"imagechat-tui: {message}", err=True)
    return typer.Exit(code=2)


@app.command("open")
def open_image(
    image: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="A room link (http://HOST/r/ROOM?invite=...), an image URL or file.",
        ),
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
    """Open TARGET (an image or a room link) and review it with everyone viewing it."""
    from imagechat_tui.tui.launch import run

    servers = ",".join(server) if server else None
    ca = str(ca_file) if ca_file else None
    raise typer.Exit(
        code=run(image, servers, room, token, ca, graphics=graphics, name=name, alert=alert)
    )


def serve(config: ServerConfig) -> None:
    """Run a sync server node until SIGTERM or SIGINT (applies pending migrations first)."""
    import asyncio

    from imagechat_tui.server import log_format
    from imagechat_tui.server.listener import bind_early

    log_format.configure(config.log_level, config.log_format)
    if problem := config.problem():
        raise _fail(problem)

    def cannot_listen(exc: OSError) -> typer.Exit:
        return _fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")

    try:
        # Bound before the server's modules are imported and its storage opened: a
        # restart's clients wait in the backlog instead of being refused (listener.py).
        listener = None if config.unix_socket else bind_early(config.host, config.port)
    except OSError as exc:
        raise cannot_listen(exc) from None
    from imagechat_tui.server.node import run_until_signalled
    from imagechat_tui.server.storage import StorageUnavailable

    try:
        asyncio.run(run_until_signalled(config, listener))
    except OSError as exc:
        raise cannot_listen(exc) from None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    except StorageUnavailable as exc:
        raise _fail(f"cannot open the database: {exc}") from None
    finally:
        if listener is not None:  # a start that failed did not get to close it
            listener.close()


# Every option of `serve` is a field of ServerConfig (server/config.py says how to add one),
# settable by its IMAGECHAT_* variable too; a flag beats the variable.
app.command("serve")(settings_command(ServerConfig, serve))


@app.command()
def migrate(
    database: Annotated[
        str | None,
        typer.Option(help="sqlite:///PATH or postgresql://... Default: the local SQLite."),
    ] = None,
) -> None:
    """Apply pending schema migrations ('serve' also does this at start, safely when
    several nodes start at once)."""
    import asyncio

    from imagechat_tui import paths
    from imagechat_tui.server.migrate import migrate as run_migrations
    from imagechat_tui.server.storage import StorageUnavailable

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
    store = _tenants()
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


@dataclass
class StatsSettings:
    """``stats``' options: where to read, how to print, and the image budgets to show use
    against (the same options and variables as ``serve``'s, so both see the same)."""

    database: str | None = setting(
        None, help="Database URL. Default: the local SQLite.", metavar="URL"
    )
    json: bool = setting(False, help="Print JSON instead of a table.")
    since: str | None = setting(
        None,
        help="Only the last 90s, 30m, 24h, 7d... (minute buckets), with the peak "
        "connections: the dashboard's figures. Default: all time.",
        metavar="DURATION",
    )
    image_budgets: ImageBudgets = field(default=ImageBudgets(), metadata={GROUP: IMAGE_BUDGETS})


def stats(settings: StatsSettings) -> None:
    """Print usage per tenant: pubSubMessageCount and pubSubBandwidth, and images stored
    and uploaded in the last hour against each budget (per tenant and per user)."""
    import asyncio
    import time

    from imagechat_tui import paths
    from imagechat_tui.invites import duration_seconds
    from imagechat_tui.safe_text import inert
    from imagechat_tui.server.image_quota import budget_report, budget_table, tenant_budget
    from imagechat_tui.server.storage import open_storage
    from imagechat_tui.server.usage import history_report, usage_report

    since = settings.since
    try:
        back = None if since is None else duration_seconds(since)
    except ValueError as exc:
        raise _fail(f"--since: {exc}") from None

    async def read() -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
        storage = open_storage(settings.database or paths.default_database_url())
        await storage.open()
        try:
            now = time.time()
            images = budget_report(await storage.image_use_report(now), settings.image_budgets)
            if back is None:
                return usage_report(await storage.usage()), images
            return history_report(await storage.usage_history(now - back)), images
        finally:
            await storage.close()

    try:
        rows, images = asyncio.run(read())
    except Exception as exc:
        raise _fail(f"cannot read usage: {exc}") from None
    peak = back is not None
    known = {row["tenant"] for row in rows}
    for name in sorted(set(images) - known):  # images, but no messages yet
        blank: dict[str, object] = {"pubSubMessageCount": 0, "pubSubBandwidth": 0}
        rows.append({"tenant": name, **blank, **({"peakConnections": 0} if peak else {})})
    rows.sort(key=lambda row: str(row["tenant"]))
    for row in rows:
        figures = images.get(str(row["tenant"])) or tenant_budget(settings.image_budgets)
        row["images"] = figures
    if settings.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    head = f"{'tenant':<24} {'pubSubMessageCount':>20} {'pubSubBandwidth':>18}"
    typer.echo(head + (f" {'peakConnections':>16}" if peak else ""))
    for row in rows:
        tenant, count, nbytes = row["tenant"], row["pubSubMessageCount"], row["pubSubBandwidth"]
        line = f"{inert(str(tenant)):<24} {count:>20} {nbytes:>18}"
        typer.echo(line + (f" {row['peakConnections']:>16}" if peak else ""))
    typer.echo("")
    for line in budget_table(
        {str(row["tenant"]): cast(dict[str, Any], row["images"]) for row in rows}
    ):
        typer.echo(inert(line))


app.command("stats")(settings_command(StatsSettings, stats))


@tenant_app.command("add")
def tenant_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Tenant name (a-z, 0-9, - and _).")],
) -> None:
    """Add a tenant with a new signing secret."""
    try:
        _tenants().add(name)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"added tenant {name}")


@tenant_app.command("list")
def tenant_list() -> None:
    """List the tenants."""
    for name in _tenants().names():
        typer.echo(name)


@tenant_app.command("rotate")
def tenant_rotate(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Tenant whose secret to replace.")],
) -> None:
    """Replace a tenant's secret: every token signed with the old one stops working."""
    try:
        _tenants().rotate(name)
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
