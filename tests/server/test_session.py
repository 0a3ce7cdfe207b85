"""The connection's protocol without a socket: frames in, actions out."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from imagechat_tui.auth import TenantStore
from imagechat_tui.protocol import CloseCode
from imagechat_tui.server.ratelimit import TokenBucket
from imagechat_tui.server.session import (
    PONG,
    Close,
    JoinRequest,
    Phase,
    Reply,
    ServerSession,
    Submit,
)
from tests.wsclient import create_op


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def session(tenants: TenantStore) -> Callable[..., ServerSession]:
    def make(rate: float = 10.0, burst: int = 100, clock: Clock | None = None) -> ServerSession:
        bucket = TokenBucket(rate, burst, clock or Clock())
        return ServerSession(bucket, tenants.verify)

    return make


def join_frame(token: str | None, room: str = "room-1", **extra: object) -> str:
    return json.dumps({"op": "join", "room": room, "token": token, **extra})


def error_of(action: object) -> dict[str, object]:
    assert isinstance(action, Reply | Close) and action.data is not None, action
    frame = json.loads(action.data)
    assert frame["type"] == "error"
    return frame


def test_ping_before_join_is_answered(session) -> None:
    s = session()
    assert s.receive('{"op":"ping"}') == Reply(PONG)
    assert s.phase is Phase.AWAITING_JOIN


def test_an_op_before_join_is_not_joined_with_its_broadcast_id(session) -> None:
    op = create_op()
    error = error_of(session().receive(json.dumps(op)))
    assert (error["code"], error["broadcastId"]) == ("not-joined", op["broadcastId"])


def test_a_good_join_asks_the_node_to_open_the_room_then_ops_are_submitted(
    session, mint_token
) -> None:
    s = session()
    request = s.receive(join_frame(mint_token("alice"), since=3))
    assert isinstance(request, JoinRequest)
    assert (request.join.room, request.join.since) == ("room-1", 3)
    assert request.identity.actor.user.id == "alice"
    assert s.phase is Phase.JOINING
    s.accepted()
    action = s.receive(json.dumps(create_op()))
    assert isinstance(action, Submit)
    again = error_of(s.receive(join_frame(mint_token("alice"))))
    assert again["code"] == "already-joined" and again["broadcastId"] is None
    assert s.receive('{"op":"ping"}') == Reply(PONG)


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_a_missing_or_bad_token_closes_with_4001(session, token) -> None:
    s = session()
    action = s.receive(join_frame(token))
    assert isinstance(action, Close) and action.code == CloseCode.UNAUTHORIZED
    assert error_of(action)["code"] == "unauthorized"
    assert s.phase is Phase.CLOSED
    assert s.receive('{"op":"ping"}') is None  # a closed session answers nothing


def test_a_token_for_another_room_is_unauthorized_with_4003(session, mint_token) -> None:
    action = session().receive(join_frame(mint_token("alice", room_scope="design/*"), room="x"))
    assert isinstance(action, Close) and action.code == CloseCode.FORBIDDEN
    assert error_of(action)["code"] == "unauthorized"


def test_a_refusal_while_opening_the_room_closes(session, mint_token) -> None:
    s = session()
    assert isinstance(s.receive(join_frame(mint_token("alice"))), JoinRequest)
    action = s.refuse("limit-reached", "Too many rooms.", CloseCode.TOO_MANY_ROOMS)
    assert action.code == 4030 and error_of(action)["code"] == "limit-reached"
    assert s.phase is Phase.CLOSED


def test_join_timeout_only_before_a_join(session, mint_token) -> None:
    s = session()
    closed = s.timed_out()
    assert closed == Close(None, CloseCode.JOIN_TIMEOUT, "no join in time")
    joined = session()
    joined.receive(join_frame(mint_token("alice")))
    assert joined.timed_out() is None


def test_bad_frames_get_their_codes_in_every_phase(session, mint_token) -> None:
    s = session()
    for phase in ("before", "after"):
        assert error_of(s.receive("{nope"))["code"] == "bad-json", phase
        assert error_of(s.receive("[1]"))["code"] == "bad-frame", phase
        assert error_of(s.receive(b'{"op":"ping"}'))["code"] == "bad-frame", phase
        assert error_of(s.receive('{"op":"dance"}'))["code"] == "unknown-op", phase
        if phase == "before":
            s.receive(join_frame(mint_token("alice")))
            s.accepted()


def test_the_rate_budget_is_checked_before_decoding(session) -> None:
    clock = Clock()
    s = session(rate=1.0, burst=2, clock=clock)
    assert s.receive('{"op":"ping"}') == Reply(PONG)
    assert s.receive('{"op":"ping"}') == Reply(PONG)
    # Over budget: even a frame that is not JSON at all is refused for its rate, unread.
    assert error_of(s.receive("{nope"))["code"] == "rate-limited"
    op = create_op(text="x" * 60_000)
    refused = error_of(s.receive(json.dumps(op)))
    assert (refused["code"], refused["broadcastId"]) == ("rate-limited", op["broadcastId"])
    # The broadcastId is only looked for at the frame's start, never parsed out of it.
    late = json.dumps({"chat": op["chat"], "broadcastId": "b-1", "op": "create"})
    assert error_of(s.receive(late))["broadcastId"] is None
    clock.now += 1.0
    assert s.receive('{"op":"ping"}') == Reply(PONG)


def test_accepted_out_of_turn_is_a_bug(session) -> None:
    with pytest.raises(RuntimeError, match="accepted"):
        session().accepted()
