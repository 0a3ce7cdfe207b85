"""Invites: a link's secret code that a person redeems once for a personal token.

Pure rules only (no I/O): how a code is made and stored (hashed, never in clear), who may
create which invite, and whether an invite can still be redeemed. The server's HTTP
routes and both storages call these; nothing else decides it.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from typing import Final

from imagechat_tui.policy import DEFAULT_TTL_SECONDS, ROLE_RANK

#: Random bytes in a code: 144 bits, so a plain SHA-256 of it is a safe stored form
#: (nobody can search that space, unlike a password's).
CODE_BYTES: Final = 18
CODE_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
#: Roles an invite may grant: an invite never makes an admin.
INVITE_ROLES: Final = ("viewer", "member", "moderator")
DEFAULT_EXPIRES_SECONDS: Final = 7 * 24 * 3600
MAX_EXPIRES_SECONDS: Final = 365 * 24 * 3600
DEFAULT_USES: Final = 10
MAX_USES: Final = 10_000

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def is_well_formed(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))


def duration_seconds(text: str) -> int:
    """``90s``, ``30m``, ``12h``, ``7d``, ``2w`` (or plain seconds) as seconds (also
    ``stats --since``)."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise ValueError(f"Not a duration: {text!r}; use for example 30m, 12h, 7d or 2w.")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def parse_duration(text: str) -> int:
    """An invite's lifetime: a duration of more than 0 s and at most 365 days."""
    seconds = duration_seconds(text)
    if not 0 < seconds <= MAX_EXPIRES_SECONDS:
        raise ValueError("An invite lasts more than 0 seconds and at most 365 days.")
    return seconds


class InviteRefused(Exception):
    """An invite that cannot be created or redeemed; ``str()`` is one line for a person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # stable: not-found, expired, revoked, used-up, forbidden, invalid
        self.message = message


@dataclass(frozen=True, slots=True)
class Invite:
    code_hash: str
    tenant: str
    room: str
    role: str
    created_by: str
    created_at: int  # seconds since the epoch
    expires_at: int
    max_uses: int
    uses: int = 0
    revoked: bool = False
    #: The invite this one was made within (a guest's: ``new_invite(within=...)``), by
    #: its hash: revoking that one ends this one's access too.
    parent: str | None = None

    @property
    def id(self) -> str:
        """A short public name for listing and revoking (a prefix of the hash, not the code)."""
        return self.code_hash[:12]

    def status(self, now: float) -> str:
        if self.revoked:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        if self.uses >= self.max_uses:
            return "used-up"
        return "active"


def new_invite(
    *,
    tenant: str,
    room: str,
    role: str,
    inviter: str,
    inviter_role: str,
    now: float,
    expires_in: int = DEFAULT_EXPIRES_SECONDS,
    max_uses: int = DEFAULT_USES,
    within: Invite | None = None,
) -> tuple[str, Invite]:
    """A fresh code and the invite to store for it; refused when the inviter may not.
    ``within``: the invite the inviter's own token came from (a guest): the new one may
    not outrank, outlive or out-use it."""
    if role not in INVITE_ROLES:
        raise InviteRefused("invalid", f"An invite's role is one of {', '.join(INVITE_ROLES)}.")
    if ROLE_RANK.get(inviter_role, -1) < ROLE_RANK["member"]:
        raise InviteRefused("forbidden", "Viewers cannot invite; ask a member of the room.")
    if ROLE_RANK[role] > ROLE_RANK.get(inviter_role, -1):
        raise InviteRefused("forbidden", f"Only a {role} or higher may invite a {role}.")
    if not 0 < expires_in <= MAX_EXPIRES_SECONDS:
        raise InviteRefused("invalid", "An invite lasts more than 0 seconds and at most 365 days.")
    if not 1 <= max_uses <= MAX_USES:
        raise InviteRefused("invalid", f"An invite has 1 to {MAX_USES} uses.")
    if within is not None:
        _within(within, role=role, expires_at=int(now) + expires_in, max_uses=max_uses)
    code = new_code()
    invite = Invite(
        code_hash=hash_code(code),
        tenant=tenant,
        room=room,
        role=role,
        created_by=inviter,
        created_at=int(now),
        expires_at=int(now) + expires_in,
        max_uses=max_uses,
        parent=None if within is None else within.code_hash,
    )
    return code, invite


def default_terms(within: Invite | None, now: float) -> tuple[int, int]:
    """An invite's expiry (seconds) and uses when its maker names none: 7 days and 10,
    or for a guest no more than their own invite has left."""
    if within is None:
        return DEFAULT_EXPIRES_SECONDS, DEFAULT_USES
    left = max(within.expires_at - int(now), 1)
    return min(DEFAULT_EXPIRES_SECONDS, left), min(DEFAULT_USES, within.max_uses)


def _within(own: Invite, *, role: str, expires_at: int, max_uses: int) -> None:
    """A guest's invite stays inside the one they came with."""
    if ROLE_RANK[role] > ROLE_RANK[own.role]:
        raise InviteRefused(
            "forbidden", f"You came with a {own.role}'s invite: you may invite up to a {own.role}."
        )
    if expires_at > own.expires_at:
        raise InviteRefused(
            "forbidden",
            "Your invite may not outlive the one you came with: it ends at "
            f"{_utc(own.expires_at)}; choose a shorter expiry.",
        )
    if max_uses > own.max_uses:
        raise InviteRefused(
            "forbidden",
            f"Your invite may have at most {own.max_uses} uses, as many as the one you came with.",
        )


def _utc(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def token_ttl(invite: Invite, now: float) -> int:
    """How long a token redeemed from ``invite`` lasts: until the invite itself expires,
    and never longer than a token's default (30 days)."""
    return max(1, min(DEFAULT_TTL_SECONDS, invite.expires_at - int(now)))


REFUSALS = {
    "expired": "This invite has expired; ask for a new link.",
    "revoked": "This invite was revoked; ask for a new link.",
    "used-up": "This invite has been used as many times as it allows; ask for a new link.",
}


def redeem(invite: Invite | None, now: float) -> Invite:
    """The invite with one more use, or ``InviteRefused`` saying why not (one line)."""
    if invite is None:
        raise InviteRefused("not-found", "No such invite: check the link.")
    status = invite.status(now)
    if status != "active":
        raise InviteRefused(status, REFUSALS[status])
    return replace(invite, uses=invite.uses + 1)
