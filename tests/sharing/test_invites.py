from __future__ import annotations

import pytest

from imagechat_tui.invites import (
    InviteRefused,
    hash_code,
    is_well_formed,
    new_invite,
    parse_duration,
    redeem,
    token_ttl,
)


def make(**kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = dict(
        tenant="local", room="r1", role="member", inviter="alice", inviter_role="member", now=1000
    )
    args.update(kw)
    return new_invite(**args)  # type: ignore[arg-type]


def test_the_code_is_stored_only_as_its_hash() -> None:
    code, invite = make()
    assert is_well_formed(code)
    assert invite.code_hash == hash_code(code) != code
    assert code not in repr(invite)
    assert invite.id == invite.code_hash[:12]


def test_redeeming_counts_uses_until_used_up() -> None:
    _, invite = make(max_uses=2)
    invite = redeem(invite, now=1001)
    invite = redeem(invite, now=1002)
    assert invite.uses == 2
    with pytest.raises(InviteRefused) as refused:
        redeem(invite, now=1003)
    assert refused.value.reason == "used-up"


def test_expired_revoked_and_unknown_invites_are_refused_with_one_line() -> None:
    _, invite = make(expires_in=60)
    with pytest.raises(InviteRefused) as refused:
        redeem(invite, now=1060)
    assert refused.value.reason == "expired"
    assert "\n" not in str(refused.value)
    from dataclasses import replace

    with pytest.raises(InviteRefused) as refused:
        redeem(replace(invite, revoked=True), now=1001)
    assert refused.value.reason == "revoked"
    with pytest.raises(InviteRefused) as refused:
        redeem(None, now=1001)
    assert refused.value.reason == "not-found"


@pytest.mark.parametrize(
    ("inviter_role", "role", "allowed"),
    [
        ("viewer", "viewer", False),
        ("member", "viewer", True),
        ("member", "member", True),
        ("member", "moderator", False),
        ("moderator", "moderator", True),
        ("admin", "moderator", True),
        ("admin", "admin", False),  # an invite never makes an admin
    ],
)
def test_who_may_invite_whom(inviter_role: str, role: str, allowed: bool) -> None:
    if allowed:
        assert make(inviter_role=inviter_role, role=role)[1].role == role
    else:
        with pytest.raises(InviteRefused):
            make(inviter_role=inviter_role, role=role)


def test_durations() -> None:
    assert parse_duration("7d") == 7 * 86400
    assert parse_duration("90") == 90
    assert parse_duration("2w") == 14 * 86400
    for bad in ("", "7y", "0s", "-1d", "400d"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_a_guests_invite_stays_within_their_own() -> None:
    _, own = new_invite(
        tenant="t", room="r", role="member", inviter="a", inviter_role="member", now=0,
        expires_in=3600, max_uses=3,
    )  # fmt: skip
    made = {"tenant": "t", "room": "r", "inviter": "g", "inviter_role": "member", "within": own}
    assert new_invite(role="viewer", now=100, expires_in=3500, max_uses=3, **made)[1]
    for kw in ({"expires_in": 3501, "max_uses": 1}, {"expires_in": 60, "max_uses": 4}):
        with pytest.raises(InviteRefused) as refused:
            new_invite(role="member", now=100, **kw, **made)  # type: ignore[arg-type]
        assert refused.value.reason == "forbidden"


def test_a_redeemed_tokens_lifetime_is_the_invites() -> None:
    _, invite = new_invite(
        tenant="t", room="r", role="member", inviter="a", inviter_role="member", now=0,
        expires_in=60,
    )  # fmt: skip
    assert token_ttl(invite, 10) == 50
    _, long = new_invite(
        tenant="t", room="r", role="member", inviter="a", inviter_role="member", now=0,
        expires_in=365 * 86400,
    )  # fmt: skip
    assert token_ttl(long, 0) == 30 * 86400
