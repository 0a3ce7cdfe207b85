"""Peer authentication on a unix socket: the kernel says who connected.

``imagechat-tui serve --unix-socket PATH --peer-auth``: whoever can open the socket joins
as their OS account (SO_PEERCRED gives the connecting process's uid), with no token at
all. The account that runs the server is the tenant's admin; everyone else a member.
Everyone is in the ``local`` tenant. Who may connect is decided by the socket's file
permissions (the server makes it 0666 with --peer-auth: put it in a directory whose
permissions say who is in).
"""

from __future__ import annotations

import os
import pwd
import socket
import struct
import time
from collections.abc import Callable

from imagechat_tui.auth import LOCAL_TENANT, AuthError, Identity
from imagechat_tui.model import Actor
from imagechat_tui.protocol import User

#: A peer's identity never expires on its own: it lasts as long as its connection.
_NEVER = 2**31 - 1


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected unix socket."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def identity_of_uid(uid: int, *, server_uid: int | None = None) -> Identity:
    try:
        entry = pwd.getpwuid(uid)
        user_id = entry.pw_name
        name = entry.pw_gecos.split(",", 1)[0].strip() or entry.pw_name
    except KeyError:  # a uid without an account (containers): still one stable identity
        user_id = name = f"uid-{uid}"
    owner = os.getuid() if server_uid is None else server_uid
    return Identity(
        tenant=LOCAL_TENANT,
        actor=Actor(user=User(id=user_id, name=name), role="admin" if uid == owner else "member"),
        expires_at=_NEVER,
    )


def peer_verifier(sock: socket.socket | None) -> Callable[[str], Identity]:
    """The ``verify`` for a session on a peer-authenticated socket: the token is ignored,
    the kernel's answer is the identity (read once, at connect)."""
    if sock is None or sock.family != socket.AF_UNIX:
        identity: Identity | None = None
    else:
        identity = identity_of_uid(peer_uid(sock))

    def verify(_token: str) -> Identity:
        if identity is None:
            raise AuthError("This server only knows its unix socket's peers.")
        if identity.expires_at <= time.time():  # pragma: no cover - never, by construction
            raise AuthError("expired")
        return identity

    return verify
