"""A server node's settings, in one object, and the one declaration of ``serve``'s options.

Each field that a user can set carries its option: ``setting(default, help=..., min=...)``.
``imagechat-tui serve`` is generated from these fields (cli_settings.py), so the option
``--max-text`` with its help, its range and its ``IMAGECHAT_MAX_TEXT`` variable exist
because the field ``max_text`` does; tests and benchmarks build ``ServerConfig`` directly.
Nothing else in the server reads the environment.

How to add a ``serve`` option:

1. Add a field here, with its default, through ``setting``::

       header_timeout: float = setting(10.0, help="Seconds to send the request line.", min=0.1)

   The option is ``--header-timeout``, its variable ``IMAGECHAT_HEADER_TIMEOUT`` (always
   ``IMAGECHAT_`` + the field's name in capitals), its default the field's. A ``bool`` field
   becomes ``--x/--no-x``; a ``Literal[...]`` field a choice; ``min``/``max`` a checked
   range; ``metavar`` names the value in ``--help`` (SECONDS, URL, PATH...); ``panel``
   puts it in a group that ``--help`` names in one line and ``--help-all`` explains
   (leave it out only for what most people who run a server set).
2. Read it where the server needs it (``config.header_timeout``). Do not declare a typer
   option for it in cli.py: ``serve`` passes you the whole ``ServerConfig``.
3. A rule that involves several settings (``--peer-auth`` needs ``--unix-socket``) goes in
   ``ServerConfig.problem``, which ``serve`` reports as one line.

A field without ``setting`` (``outbox``, ``retention``...) is for tests and benchmarks only.
This module is imported by every ``imagechat-tui`` command, ``--help`` included: keep its
imports light (no websockets, PIL, jwt).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from imagechat_tui.policy import DEFAULT_LIMITS, Limits
from imagechat_tui.server.image_quota import ImageBudgets

ENV_PREFIX: Final = "IMAGECHAT_"
SETTING: Final = "setting"  # the metadata key of a field's option
GROUP: Final = "settings"  # ... and of a nested dataclass whose fields are options

DEFAULT_MAX_BYTES: Final = 25 * 1024 * 1024  # PUT /images: larger uploads get 413 ...
DEFAULT_MAX_PIXELS: Final = 40_000_000  # ... e.g. 8000 x 5000; RGBA decode ~160 MB at most

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class Setting:
    """How a settings field appears on the command line."""

    help: str
    min: float | None = None
    max: float | None = None
    metavar: str | None = None
    directory: bool = False  # a Path that must be a directory, not a file
    panel: str | None = None  # its group in --help-all; None: shown in --help itself


def env_var(name: str) -> str:
    """The environment variable of the setting ``name``: one rule for every option."""
    return ENV_PREFIX + name.upper()


def setting(
    default: Any,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    metavar: str | None = None,
    directory: bool = False,
    panel: str | None = None,
) -> Any:
    """A field that ``serve`` offers as an option (see the module's docstring)."""
    return field(
        default=default,
        metadata={SETTING: Setting(help, min, max, metavar, directory, panel)},
    )


# The groups of serve's less common options (``Setting.panel``), as --help names them.
NODES: Final = "Several nodes"
ORIGINS: Final = "Browsers, proxies"
UNIX: Final = "Unix socket"
ROOMS: Final = "Rooms"
CONNECTIONS: Final = "Connections"
HTTP: Final = "HTTP requests"
IMAGES: Final = "Images"
METRICS: Final = "Metrics"


#: The options of ``ImageBudgets`` (``serve`` and ``stats`` both offer them).
IMAGE_BUDGETS: Final = {
    "max_user_image_bytes": Setting(
        "Bytes of images one user may store (0: no limit; default 1 GiB): 413.",
        min=0,
        metavar="BYTES",
        panel=IMAGES,
    ),
    "max_tenant_image_bytes": Setting(
        "Bytes of images one tenant may store (0: no limit; default 20 GiB): 413.",
        min=0,
        metavar="BYTES",
        panel=IMAGES,
    ),
    "max_user_upload_bytes_per_hour": Setting(
        "Bytes one user may upload in an hour (0: no limit; default 256 MiB): 429.",
        min=0,
        metavar="BYTES",
        panel=IMAGES,
    ),
    "max_tenant_upload_bytes_per_hour": Setting(
        "Bytes one tenant may upload in an hour (0: no limit; default 2 GiB): 429.",
        min=0,
        metavar="BYTES",
        panel=IMAGES,
    ),
}


@dataclass(frozen=True, slots=True)
class OutboxLimits:
    high_water: int = 64 * 1024  # transport buffer above which we stop writing directly
    max_backlog_bytes: int = 4 * 1024 * 1024


@dataclass
class ServerConfig:
    host: str = setting("127.0.0.1", help="Address to listen on.", metavar="ADDRESS")
    port: int = setting(
        8765, help="Port to listen on (0 picks a free one).", min=0, max=65535, metavar="PORT"
    )
    database: str | None = setting(
        None,
        help="sqlite:///PATH or postgresql://... Default: SQLite in the data directory.",
        metavar="URL",
    )
    home: Path | None = setting(
        None,
        help="Data directory (tenant secrets, the default SQLite database). "
        "Default: the platform's user data directory.",
        metavar="DIR",
        directory=True,
    )
    idle_exit: float = setting(
        0.0,
        help="Stop after this many seconds without connections (0: never).",
        min=0,
        metavar="SECONDS",
    )
    broker: str | None = setting(
        None,
        help="redis://HOST:PORT/DB to share rooms with other nodes (needs PostgreSQL). "
        "Default: this node alone.",
        metavar="URL",
        panel=NODES,
    )
    # With a broker: seconds between checks of the committed seqs (the longest a lost
    # last message can stay unnoticed is about twice this) ...
    seq_check_interval: float = setting(
        2.0,
        help="With --broker: seconds between checks that no event from another node was missed.",
        min=0.01,
        metavar="SECONDS",
        panel=NODES,
    )
    # ... and how long a dead node's viewers stay listed (refreshed every third of it).
    presence_ttl: float = setting(
        10.0,
        help="With --broker: seconds a stopped node's viewers stay listed.",
        min=0.1,
        metavar="SECONDS",
        panel=NODES,
    )
    # Accept permessage-deflate from clients that offer it: ~3.5x fewer bytes per event
    # on the wire, ~2.6x more CPU per delivered event (docs/BENCHMARKS.md). Turn it off
    # where CPU per viewer matters more than bandwidth.
    compression: bool = setting(
        True,
        help="Compress events for clients that offer permessage-deflate (once per "
        "broadcast, for all viewers).",
        panel=CONNECTIONS,
    )
    log_level: LogLevel = setting("info", help="How much to log.", metavar="LEVEL")
    # Both set: serve wss:// (and https:// for /health, /stats).
    tls_cert: Path | None = setting(
        None, help="PEM certificate (chain): serve wss:// with --tls-key.", metavar="FILE"
    )
    tls_key: Path | None = setting(None, help="PEM private key for --tls-cert.", metavar="FILE")
    # A browser page may open a WebSocket only from the server's own origin (cross-site
    # WebSocket hijacking, docs/SECURITY.md); behind a proxy that rewrites Host, name the
    # origins the pages are served from.
    allowed_origin: str | None = setting(
        None,
        help="Origins (scheme://host[:port], comma-separated) whose browser pages may "
        "open a WebSocket, besides the server's own: for a proxy that rewrites Host.",
        metavar="ORIGINS",
        panel=ORIGINS,
    )
    # Whose X-Forwarded-For names the client, for the limits per client address (invite
    # guessing, server/guesses.py): nginx on the same host, by default.
    trusted_proxy: str = setting(
        "127.0.0.1,::1",
        help="Addresses (comma-separated) of proxies whose X-Forwarded-For names the "
        "client, for limits per client address; empty: none.",
        metavar="ADDRESSES",
        panel=ORIGINS,
    )
    max_frame_bytes: int = setting(
        64 * 1024,
        help="Largest WebSocket frame accepted (larger: closed, 1009).",
        min=1,
        metavar="BYTES",
        panel=CONNECTIONS,
    )
    limits: Limits = field(
        default=DEFAULT_LIMITS,
        metadata={
            GROUP: {
                "max_text": Setting(
                    "Longest comment, in characters (longer: refused as too large).",
                    min=1,
                    metavar="CHARS",
                    panel=ROOMS,
                ),
                "max_markers": Setting("Most markers in a room.", min=1, metavar="N", panel=ROOMS),
                "max_comments": Setting(
                    "Most comments on one marker.", min=1, metavar="N", panel=ROOMS
                ),
                "undo_seconds": Setting(
                    "Seconds a delete can be undone (restored).",
                    min=0,
                    metavar="SECONDS",
                    panel=ROOMS,
                ),
                "max_room_bytes": Setting(
                    "Most bytes of comments in a room (text + 128 each; 0: no limit).",
                    min=0,
                    metavar="BYTES",
                    panel=ROOMS,
                ),
            }
        },
    )
    # Frames per connection per second, sustained and in a burst: excess gets `rate-limited`.
    ops_per_second: float = setting(
        50.0, help="Frames per connection per second.", min=0, metavar="RATE", panel=CONNECTIONS
    )
    ops_burst: int = setting(
        1000,
        help="Frames allowed in a burst above --ops-per-second.",
        min=1,
        metavar="N",
        panel=CONNECTIONS,
    )
    max_connections_per_user: int = setting(
        8, help="Connections per user (0: no limit).", min=0, metavar="N", panel=CONNECTIONS
    )
    max_rooms_per_tenant: int = setting(
        10_000, help="Rooms per tenant (0: no limit).", min=0, metavar="N", panel=ROOMS
    )
    join_timeout: float = setting(
        10.0,
        help="Seconds a connection may take to join.",
        min=0,
        metavar="SECONDS",
        panel=CONNECTIONS,
    )
    unix_socket: Path | None = setting(
        None,
        help="Listen on this unix socket instead of --host/--port "
        "(the app reaches it with --server unix:PATH).",
        metavar="PATH",
        panel=UNIX,
    )
    # On the unix socket: the peer's OS account is its identity.
    peer_auth: bool = setting(
        False,
        help="With --unix-socket: whoever can open the socket joins as their OS account "
        "(kernel peer credentials), no token; the server's own account is admin.",
        panel=UNIX,
    )
    # The HTTP door (server/http_door.py, docs/SECURITY.md "The HTTP door"): a request's
    # head must arrive within header_timeout (of connecting, or of the last answer) ...
    header_timeout: float = setting(
        10.0,
        help="Seconds to send an HTTP request's head (and keep-alive idle time).",
        min=0.1,
        metavar="SECONDS",
        panel=HTTP,
    )
    # ... and its body with no gap longer than body_idle_timeout and, after that long, at
    # least body_min_rate bytes/s on average (a 25 MB upload over 64 kbit/s completes).
    body_idle_timeout: float = setting(
        10.0,
        help="Longest pause, in seconds, while a request body arrives.",
        min=0.1,
        metavar="SECONDS",
        panel=HTTP,
    )
    body_min_rate: float = setting(
        8 * 1024,
        help="Slowest average body rate, after --body-idle-timeout.",
        min=0,
        metavar="BYTES_PER_S",
        panel=HTTP,
    )
    bodies_in_flight: int = setting(
        128 * 1024 * 1024,
        help="Bytes of request bodies received at once, server-wide.",
        min=1,
        metavar="BYTES",
        panel=HTTP,
    )
    # Connections not (yet) upgraded to WebSocket: per client address and in total (at
    # the total, the one idle longest is dropped to make room).
    max_http_connections_per_address: int = setting(
        256,
        help="HTTP connections (not WebSocket) per client address (0: no limit).",
        min=0,
        metavar="N",
        panel=HTTP,
    )
    # (at the total, a connection idle this long may be dropped for a new one; tests only)
    http_evict_after: float = 1.0
    max_http_connections: int = setting(
        4096,
        help="HTTP connections (not WebSocket) in all (0: no limit; past it the "
        "longest idle one is dropped).",
        min=0,
        metavar="N",
        panel=HTTP,
    )
    max_image_bytes: int = setting(
        DEFAULT_MAX_BYTES,
        help="Largest image upload, in bytes.",
        min=1,
        metavar="BYTES",
        panel=IMAGES,
    )
    max_image_pixels: int = setting(
        DEFAULT_MAX_PIXELS,
        help="Most pixels in an uploaded image (checked before decoding).",
        min=1,
        metavar="PIXELS",
        panel=IMAGES,
    )
    # Image budgets (server/image_quota.py, docs/SECURITY.md "Storage budgets"): held in
    # the database, so across restarts and nodes; ``stats`` shows use against them.
    image_budgets: ImageBudgets = field(default=ImageBudgets(), metadata={GROUP: IMAGE_BUDGETS})
    # What the people who run it see (docs/DEPLOY.md): Prometheus metrics on a listener
    # of their own, bound to loopback unless told otherwise.
    metrics_port: int | None = setting(
        None,
        help="Serve Prometheus metrics (all tenants) and /ready on this port. Default: "
        "none (a tenant admin reads their tenant's /metrics on the main port).",
        min=0,
        max=65535,
        metavar="PORT",
        panel=METRICS,
    )
    metrics_host: str = setting(
        "127.0.0.1",
        help="Address of --metrics-port (loopback by default).",
        metavar="ADDRESS",
        panel=METRICS,
    )
    metrics: bool = setting(
        True, help="Count what /metrics reports (off: nothing is counted or served).", panel=METRICS
    )
    ready_interval: float = setting(
        1.0,
        help="Seconds between /ready's checks that the database (and Redis) take writes.",
        min=0.05,
        metavar="SECONDS",
        panel=METRICS,
    )
    log_format: LogFormat = setting(
        "text",
        help="json: one object per line (time, level, event, tenant, node, fields).",
        metavar="FORMAT",
    )
    # Not options: for tests and benchmarks.
    outbox: OutboxLimits = field(default_factory=OutboxLimits)
    reverify_interval: float = 30.0  # seconds between re-checks of a live session's token
    # The node's budget of failed invite guesses (rate, burst); None: server/guesses.py's.
    guess_node_budget: tuple[float, float] | None = None
    revocation_cache_seconds: float = 10.0  # an invite found standing is looked up again after
    usage_flush_interval: float = 5.0
    retention: int = 10_000  # events kept per room for replay

    def problem(self) -> str | None:
        """What is wrong with this combination of settings, in one line, or None."""
        if self.peer_auth and self.unix_socket is None:
            return "--peer-auth needs --unix-socket PATH: peer credentials exist only there."
        try:
            self.allowed_origins()
            self.trusted_proxies()
        except ValueError as exc:
            return str(exc)
        return None

    def trusted_proxies(self) -> frozenset[str]:
        """``--trusted-proxy``, checked (a ValueError)."""
        from imagechat_tui.server.guesses import parse_proxies

        return parse_proxies(self.trusted_proxy)

    def allowed_origins(self) -> frozenset[str]:
        """``--allowed-origin``, checked (``web.origin.OriginError``, a ValueError)."""
        from imagechat_tui.web.origin import allowed_origins  # light: urllib only

        return allowed_origins(o for o in (self.allowed_origin or "").split(",") if o.strip())
