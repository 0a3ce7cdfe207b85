"""A server node's settings, in one object.

``imagechat-tui serve`` fills it from its options, each of which can also come from an
``IMAGECHAT_*`` environment variable (cli.py); tests and benchmarks build it directly.
Nothing else in the server reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from imagechat_tui.model import DEFAULT_LIMITS, Limits
from imagechat_tui.server.subscriber import OutboxLimits
from imagechat_tui.server.uploads import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8765  # 0 picks a free port
    database: str | None = None  # None: SQLite in the data directory
    home: Path | None = None  # None: paths.data_home()
    idle_exit: float = 0.0  # seconds without connections before stopping; 0 = never
    limits: Limits = DEFAULT_LIMITS
    outbox: OutboxLimits = field(default_factory=OutboxLimits)
    max_frame_bytes: int = 64 * 1024  # larger frames close the connection with 1009
    join_timeout: float = 10.0  # seconds from connecting to a valid join (else 4008)
    ops_per_second: float = 50.0  # frames per connection per second, sustained ...
    ops_burst: int = 1000  # ... and in a burst; excess frames get `rate-limited`
    max_connections_per_user: int = 8  # joined connections per tenant+user (else 4029); 0: no limit
    max_rooms_per_tenant: int = 10_000  # else `limit-reached` and 4030; 0: no limit
    reverify_interval: float = 30.0  # seconds between re-checks of a live session's token
    tls_cert: Path | None = None  # both set: serve wss:// (and https:// for /health, /stats)
    tls_key: Path | None = None
    usage_flush_interval: float = 5.0
    retention: int = 10_000  # events kept per room for replay
    # Accept permessage-deflate from clients that offer it: ~3.5x fewer bytes per event
    # on the wire, ~2.6x more CPU per delivered event (docs/BENCHMARKS.md). Turn it off
    # where CPU per viewer matters more than bandwidth.
    compression: bool = True
    broker: str | None = None  # redis://...: share rooms with other nodes; None: this node only
    # With a broker: seconds between checks of the committed seqs (the longest a lost
    # last message can stay unnoticed is about twice this) ...
    seq_check_interval: float = 2.0
    # ... and how long a dead node's viewers stay listed (refreshed every third of it).
    presence_ttl: float = 10.0
    unix_socket: Path | None = None  # listen here instead of host:port
    peer_auth: bool = False  # on the unix socket: the peer's OS account is its identity
    # Seconds a connection has to send its request (an image upload's body included) and
    # be answered or upgraded; websockets' own default (10 s) would cut off a 25 MB
    # upload on a link slower than 2.5 MB/s.
    request_timeout: float = 120.0
    max_image_bytes: int = DEFAULT_MAX_BYTES  # PUT /images: larger uploads get 413 ...
    max_image_pixels: int = DEFAULT_MAX_PIXELS  # ... and so do images with more pixels
