"""The values a deployment's rules are made of, with no dependencies: roles and their
ranks, a room's content limits, the local tenant and a token's default lifetime.

The model enforces them (model.py), auth mints and checks tokens with them (auth.py); they
live here so that ``imagechat-tui --help`` can show them without loading either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagechat_tui.protocol import ServerLimits

#: Roles in increasing power; a role may do everything the roles before it may.
ROLE_RANK = {"viewer": 0, "member": 1, "moderator": 2, "admin": 3}

#: The tenant of this machine's local server (its secret is in the data directory).
LOCAL_TENANT = "local"
DEFAULT_TTL_SECONDS = 30 * 24 * 3600  # of a token from `imagechat-tui token`


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-room content limits, checked by ``decide``; the server makes them configurable."""

    max_text: int = 2000  # code points, not UTF-16 units
    max_markers: int = 500
    max_comments: int = 200  # the opening comment included
    # How long the server keeps a deleted marker or comment for ``restore`` (undo).
    undo_seconds: int = 10
    # A room's comments in all (``model.comment_bytes``: UTF-8 text plus a fixed charge
    # per comment), so a full room's snapshot and memory stay a few MB: limit-reached.
    # 500 markers x 200 comments x 2000 characters would otherwise be ~800 MB. 0: none.
    max_room_bytes: int = 2 * 1024 * 1024

    @classmethod
    def from_server(cls, limits: ServerLimits) -> Limits:
        """The content limits a server announced in ``joined``."""
        return cls(
            max_text=limits.maxText,
            max_markers=limits.maxMarkers,
            max_comments=limits.maxComments,
            undo_seconds=limits.undoSeconds,
            max_room_bytes=limits.maxRoomBytes,  # 0 (an old server): no bound here
        )


DEFAULT_LIMITS = Limits()
