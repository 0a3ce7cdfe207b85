"""The node's listening socket, bound before the rest of the server is imported and set
up (``imagechat-tui serve``): from then on the kernel queues connections in the backlog
instead of refusing them, so clients that retry during a restart are answered as soon as
the node is ready rather than told "refused" and sent into their backoff. Stdlib only:
importing this must cost nothing."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

# Room for a whole reconnect storm in the accept queue (the kernel caps it at somaxconn);
# asyncio's default of 100 drops the SYNs of the rest, which retry a second later.
BACKLOG = 4096


def bind_early(host: str, port: int) -> socket.socket | None:
    """A listening TCP socket on ``host`` (an IP address) and ``port``, set up as asyncio's
    ``create_server`` would (SO_REUSEADDR, IPv6 only on an IPv6 address); None for a host
    name, which may mean several addresses: the server then binds them itself."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def deepen_backlog(sockets: Iterable[Any]) -> None:
    """Set each listening socket's kernel queue back to ``BACKLOG``. asyncio's
    ``create_server`` calls ``listen(backlog)`` itself (100 by default) and also accepts up
    to ``backlog`` connections per loop turn, so a deep queue passed to it would stall the
    loop under a flood; listening again afterwards gives the deep queue alone. The dup
    shares the socket, so its ``listen`` is the socket's."""
    for sock in sockets:
        with socket.fromfd(sock.fileno(), sock.family, sock.type) as same:
            same.listen(BACKLOG)
