"""Verified tokens are remembered (a reconnect or a re-check costs a lookup), but never
past a rotation of the tenant's secret, and never for another string."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from imagechat_tui import auth
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


# --- the fast HS256 check (auth._fast_accept) --------------------------------------
# It may only accept what PyJWT accepts: every token it turns away goes to PyJWT, which
# decides. These tokens are signed with the right secret but each has something the fast
# check does not know the rules for, and PyJWT must still be the one that answers.


def _signed(store: TenantStore, claims: dict[str, object], header: dict[str, str]) -> str:
    secret = store._secret("local")
    assert secret is not None
    return jwt.encode(claims, secret, algorithm="HS256", headers=header)


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": "alice",
        "tenant": "local",
        "role": "member",
        "iat": now,
        "exp": now + 60,
    } | extra


def test_the_fast_check_accepts_the_tokens_the_server_mints(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = store.mint(tenant="local", user_id="alice", name="Alice", room_scope="design-*")
    claims = auth.unverified_claims(token)
    secret = store._secret("local")
    assert secret is not None
    assert auth._fast_accept(token, claims, secret, time.time())
    identity = store.verify(token)
    assert identity.actor.user.name == "Alice" and identity.room_scope == "design-*"
    other = TenantStore.in_home(tmp_path / "other")  # same claims, another secret
    assert not auth._fast_accept(token, claims, str(other._secret("local")), time.time())


# The extra claims are made when the test runs, not when it is collected: a token made
# at collection with exp 60 s ahead has expired by the time a long suite reaches it.
@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        (lambda now: {"aud": "someone"}, "audience"),  # PyJWT refuses an aud it was not told of
        (lambda now: {"nbf": now + 3600}, "not valid yet"),
        (lambda now: {"iat": now + 3600}, "not valid yet"),
        (lambda now: {"exp": "soon"}, "refused"),
        (lambda now: {"sub": 7}, "malformed"),
    ],
    ids=["audience", "nbf-ahead", "iat-ahead", "exp-not-a-number", "sub-not-a-string"],
)
def test_what_the_fast_check_does_not_know_pyjwt_decides(
    tmp_path: Path, extra: Callable[[int], dict[str, object]], refused: str
) -> None:
    store = TenantStore.in_home(tmp_path)
    token = _signed(store, _claims(**extra(int(time.time()))), {"typ": "JWT"})
    with pytest.raises(AuthError, match=refused):
        store.verify(token)


def test_a_token_with_another_header_is_checked_by_pyjwt(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = _signed(store, _claims(), {"kid": "k1"})
    claims = auth.unverified_claims(token)
    assert not auth._fast_accept(token, claims, str(store._secret("local")), time.time())
    assert store.verify(token).actor.user.id == "alice"  # PyJWT accepts it


def test_an_expired_token_is_not_fast_accepted_and_says_expired(tmp_path: Path) -> None:
    store = TenantStore.in_home(tmp_path)
    token = _signed(store, _claims(exp=int(time.time()) - 1), {"typ": "JWT"})
    with pytest.raises(AuthError, match="expired") as refused:
        store.verify(token)
    assert refused.value.close_code == CloseCode.TOKEN_EXPIRED


def test_a_minted_token_is_the_one_pyjwt_writes_and_verifies(tmp_path: Path) -> None:
    # The app mints without importing PyJWT; the token must be byte for byte PyJWT's.
    store = TenantStore.in_home(tmp_path)
    token = store.mint(tenant="local", user_id="ålice", name="Ålice", room_scope="r/1", invite="i")
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = store._secret("local")
    assert secret is not None
    assert token == jwt.encode(claims, secret, algorithm="HS256")
    assert jwt.decode(token, secret, algorithms=["HS256"])["sub"] == "ålice"
    again, identity = store.reissue(token, ttl_seconds=60)
    assert jwt.decode(again, secret, algorithms=["HS256"])["exp"] <= claims["exp"]
    assert identity.actor.user.id == "ålice"
