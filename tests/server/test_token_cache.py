"""Verified tokens are remembered (a reconnect or a re-check costs a lookup), but never
past a rotation of the tenant's secret, and never for another string."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagechat_tui.auth import AuthError, TenantStore
from imagechat_tui.protocol import CloseCode


def test_a_verified_token_is_remembered_until_the_secret_rotates(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = store.mint(tenant="local", user_id="alice", name="Alice", role="moderator")
    first = store.verify(token)
    assert first.actor.user.name == "Alice" and first.actor.role == "moderator"
    assert store.verify(token) is first  # from the cache
    store.rotate("local")
    with pytest.raises(AuthError) as refused:
        store.verify(token)
    assert refused.value.close_code == CloseCode.UNAUTHORIZED
    # Another store reading the same file (another process) agrees.
    with pytest.raises(AuthError):
        TenantStore(tmp_path / "tenants.json").verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_refused(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = store.mint(tenant="local", user_id="alice")
    store.verify(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthError, match="refused"):
        store.verify(forged)


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b", "a.!!!.c", "e30.bm90IGpzb24.c"])
def test_a_token_that_is_not_a_jwt_says_so(tmp_path: Path, token: str) -> None:
    store = TenantStore.in_home(tmp_path)
    with pytest.raises(AuthError, match="not a valid JWT"):
        store.verify(token)


def test_an_expired_token_is_refused_with_4002(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = store.mint(tenant="local", user_id="alice", ttl_seconds=-5)
    with pytest.raises(AuthError) as refused:
        store.verify(token)
    assert refused.value.close_code == CloseCode.TOKEN_EXPIRED
