"""The pure rules: decide, apply, and the client replica built on them."""

from __future__ import annotations

import uuid

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagechat_tui.model import (
    Actor,
    Limits,
    Rejection,
    RoomState,
    SequenceError,
    apply,
    decide,
    first_comment_id,
    fold,
)
from imagechat_tui.protocol import (
    AddComment,
    CreateOp,
    DeleteComment,
    DeleteOp,
    EditComment,
    Error,
    Move,
    NewChat,
    NewComment,
    Reopen,
    Resolve,
    UpdateOp,
    User,
    encode,
)
from imagechat_tui.replica import Replica

ALICE = Actor(User("alice", "Alice"))
BOB = Actor(User("bob", "Bob"))
MOD = Actor(User("mod", "Mod"), role="moderator")
VIEWER = Actor(User("vic", "Vic"), role="viewer")


def bid() -> str:
    return str(uuid.uuid4())


def create(chat_id: str = "c1", x: float = 10, y: float = 20, text: str = "hi") -> CreateOp:
    return CreateOp(broadcastId=bid(), chat=NewChat(id=chat_id, x=x, y=y, text=text))


def update(chat_id: str, change) -> UpdateOp:
    return UpdateOp(broadcastId=bid(), chatId=chat_id, change=change)


def run(state: RoomState, op, actor: Actor = ALICE, now: int = 1000) -> RoomState:
    event = decide(state, op, actor, now)
    assert not isinstance(event, Rejection), event
    return apply(state, event)


def test_create_assigns_numbers_and_first_comment() -> None:
    state = run(RoomState(room="r"), create("c1"))
    state = run(state, create("c2"))
    assert [c.number for c in state.chats.values()] == [1, 2]
    chat = state.chats["c1"]
    assert chat.comments[0].id == first_comment_id("c1") and chat.comments[0].author == ALICE.user
    assert state.seq == 2


def test_a_new_marker_frame_is_small() -> None:
    state = RoomState(room="img-0123456789abcdef01234567")
    op = CreateOp(
        broadcastId=str(uuid.uuid4()),
        chat=NewChat(id=str(uuid.uuid4()), x=12.5, y=40.25, text="Button misaligned"),
    )
    event = decide(state, op, Actor(User("alice", "Alice")), 1_764_101_792_123)
    assert len(encode(event)) < 1024  # the reference product's promise


def test_permissions() -> None:
    state = run(RoomState(room="r"), create("c1"))
    comment_id = "k1"
    state = run(state, update("c1", AddComment(comment=NewComment(id=comment_id, text="mine"))))
    for actor in (BOB,):
        for change in (
            EditComment(commentId=comment_id, text="x"),
            DeleteComment(commentId=comment_id),
            Move(x=1, y=1),
        ):
            outcome = decide(state, update("c1", change), actor, 1)
            assert isinstance(outcome, Rejection) and outcome.code == "forbidden"
        outcome = decide(state, DeleteOp(broadcastId=bid(), chatId="c1"), actor, 1)
        assert isinstance(outcome, Rejection) and outcome.code == "forbidden"
    # Members may resolve and reopen anyone's marker and comment on it.
    state = run(state, update("c1", Resolve()), BOB)
    state = run(state, update("c1", Reopen()), BOB)
    # Moderators may edit and delete anyone's.
    state = run(state, update("c1", EditComment(commentId=comment_id, text="moderated")), MOD)
    assert (
        state.chats["c1"].comments[1].text == "moderated"
        and state.chats["c1"].comments[1].editedAt == 1000
    )
    state = run(state, DeleteOp(broadcastId=bid(), chatId="c1"), MOD)
    assert state.chats == {}
    # Viewers may do nothing.
    outcome = decide(state, create("c9"), VIEWER, 1)
    assert isinstance(outcome, Rejection) and outcome.code == "forbidden"


def test_limits() -> None:
    limits = Limits(max_text=5, max_markers=1, max_comments=2)
    state = RoomState(room="r")
    assert decide(state, create(text="toolong"), ALICE, 1, limits).code == "too-large"  # type: ignore[union-attr]
    event = decide(state, create("c1", text="ok"), ALICE, 1, limits)
    state = apply(state, event)  # type: ignore[arg-type]
    assert decide(state, create("c2", text="ok"), ALICE, 1, limits).code == "limit-reached"  # type: ignore[union-attr]
    event = decide(
        state, update("c1", AddComment(comment=NewComment(id="k", text="a"))), ALICE, 1, limits
    )
    state = apply(state, event)  # type: ignore[arg-type]
    outcome = decide(
        state, update("c1", AddComment(comment=NewComment(id="k2", text="a"))), ALICE, 1, limits
    )
    assert isinstance(outcome, Rejection) and outcome.code == "limit-reached"


def test_apply_refuses_out_of_order_events() -> None:
    state = RoomState(room="r")
    event = decide(state, create(), ALICE, 1)
    later = msgspec.structs.replace(event, seq=5)  # type: ignore[type-var]
    with pytest.raises(SequenceError):
        apply(state, later)


def a_log(n: int) -> list:
    """n events as the server would number them, from an empty room."""
    state, events = RoomState(room="r"), []
    for i in range(n):
        event = decide(state, create(f"c{i}"), ALICE, 1)
        assert not isinstance(event, Rejection)
        state = apply(state, event)
        events.append(event)
    return events


def test_fold_applies_in_order_and_skips_what_the_state_already_has() -> None:
    log = a_log(5)
    state, applied, gap = fold(RoomState(room="r"), log[:3])
    assert (state.seq, applied, gap) == (3, log[:3], False)
    # A replay overlapping what was seen: the old seqs are skipped, not an error.
    again, applied, gap = fold(state, [log[1], log[2], log[2], log[3], log[4]])
    assert (again.seq, applied, gap) == (5, log[3:], False)
    assert again == fold(RoomState(room="r"), log).state
    assert fold(again, log) == (again, [], False)  # nothing new


def test_fold_stops_at_a_gap_and_says_so() -> None:
    log = a_log(5)
    state, applied, gap = fold(RoomState(room="r"), [log[0], log[1], log[3], log[4]])
    assert (state.seq, applied, gap) == (2, log[:2], True)
    assert list(state.chats) == ["c0", "c1"]  # nothing after the gap was applied
    assert fold(RoomState(room="r"), [log[2]]) == (RoomState(room="r"), [], True)


def test_fold_keeps_the_callers_items() -> None:
    log = a_log(3)
    items = [(f"bytes {e.seq}", e) for e in log]
    folded = fold(RoomState(room="r"), items[1:], event=lambda item: item[1])
    assert folded.gap and folded.applied == []
    folded = fold(RoomState(room="r"), items, event=lambda item: item[1])
    assert folded.applied == items and folded.state.seq == 3


@given(st.lists(st.integers(min_value=1, max_value=8), max_size=20))
@settings(max_examples=200, deadline=None)
def test_fold_of_any_delivery_is_a_prefix_of_the_log(seqs: list[int]) -> None:
    """Whatever arrives (repeats, reordering, holes), the state is the log folded up to
    the last seq reached without a hole, and ``gap`` says whether one was met."""
    log = a_log(8)
    state = RoomState(room="r")
    for seq in seqs:
        before = state.seq
        state, applied, gap = fold(state, [log[seq - 1]])
        assert gap == (seq > before + 1)
        assert applied == ([log[seq - 1]] if seq == before + 1 else [])
    assert state == fold(RoomState(room="r"), log[: state.seq]).state
    reached = 0
    for seq in seqs:
        if seq == reached + 1:
            reached = seq
    assert state.seq == reached


def test_apply_keeps_the_old_state_intact() -> None:
    before = run(RoomState(room="r"), create("c1"))
    after = run(before, update("c1", Resolve()))
    assert before.chats["c1"].resolved is False and after.chats["c1"].resolved is True


# --- the replica -----------------------------------------------------------------------


def server_apply(server: RoomState, op, actor: Actor, now: int = 5):
    event = decide(server, op, actor, now)
    assert not isinstance(event, Rejection)
    return apply(server, event), event


def test_own_op_shows_at_once_and_its_echo_is_not_applied_twice() -> None:
    replica = Replica("r", ALICE)
    replica.receive(RoomState(room="r").to_snapshot())
    op = create("c1")
    assert not isinstance(replica.propose(op, now=1), Rejection)
    assert list(replica.view.chats) == ["c1"] and replica.confirmed.chats == {}
    _, echo = server_apply(RoomState(room="r"), op, ALICE)
    result = replica.receive(echo)
    assert result.confirmed == [op.broadcastId] and result.remote == []
    assert len(replica.view.chats) == 1 and replica.view == replica.confirmed


def test_error_for_own_op_undoes_it() -> None:
    replica = Replica("r", ALICE)
    replica.receive(RoomState(room="r").to_snapshot())
    op = create("c1")
    replica.propose(op, now=1)
    result = replica.receive(Error(broadcastId=op.broadcastId, code="forbidden", message="no"))
    assert result.failed[0][0] == op and replica.view.chats == {}


def test_gap_asks_for_resync_and_duplicates_are_ignored() -> None:
    replica = Replica("r", BOB)
    replica.receive(RoomState(room="r").to_snapshot())
    server, first = server_apply(RoomState(room="r"), create("c1"), ALICE)
    server, second = server_apply(server, create("c2"), ALICE)
    assert replica.receive(second).needs_resync
    assert replica.receive(first).remote == [first]
    assert replica.receive(first).events == []  # a duplicate
    assert replica.receive(second).remote == [second]
    assert replica.confirmed == server


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from([ALICE, BOB, MOD]),
        st.sampled_from(["create", "comment", "resolve", "reopen", "move", "delete"]),
        st.integers(0, 4),
        st.floats(0, 100),
    ),
    max_size=40,
)


def make_op(kind: str, chat_id: str, coord: float, rnd):
    if kind == "create":
        return create(str(uuid.UUID(int=rnd.getrandbits(128))), coord, coord)
    if kind == "comment":
        return update(chat_id, AddComment(comment=NewComment(id=bid(), text="c")))
    if kind == "delete":
        return DeleteOp(broadcastId=bid(), chatId=chat_id)
    if kind == "move":
        return update(chat_id, Move(x=coord, y=coord))
    return update(chat_id, Resolve() if kind == "resolve" else Reopen())


@settings(max_examples=200, deadline=None)
@given(ops_strategy, st.randoms(use_true_random=False))
def test_replicas_converge_on_the_servers_state(script, rnd) -> None:
    """Whatever ops two users make, in whatever interleaving the server sees them, each
    replica's view ends equal to the server's state once every echo is in."""
    server = RoomState(room="r")
    replicas = {a.user.id: Replica("r", a) for a in (ALICE, BOB, MOD)}
    for replica in replicas.values():
        replica.receive(server.to_snapshot())
    in_flight: list[tuple[Actor, object]] = []
    events = []
    for actor, kind, index, coord in script:
        replica = replicas[actor.user.id]
        chats = list(replica.view.chats)
        chat_id = chats[index % len(chats)] if chats else "none"
        op = make_op(kind, chat_id, coord, rnd)
        if not isinstance(replica.propose(op, now=len(events)), Rejection):
            in_flight.append((actor, op))
        # The server processes a random prefix of what is in flight.
        while in_flight and rnd.random() < 0.6:
            sender, pending = in_flight.pop(0)
            outcome = decide(server, pending, sender, len(events))
            if isinstance(outcome, Rejection):
                frame = Error(
                    broadcastId=pending.broadcastId, code=outcome.code, message=outcome.message
                )  # type: ignore[attr-defined]
                replicas[sender.user.id].receive(frame)
                continue
            server = apply(server, outcome)
            events.append(outcome)
            for r in replicas.values():
                r.receive(outcome)
    for sender, pending in in_flight:
        outcome = decide(server, pending, sender, len(events))
        if isinstance(outcome, Rejection):
            replicas[sender.user.id].receive(
                Error(broadcastId=pending.broadcastId, code=outcome.code, message="")
            )  # type: ignore[attr-defined]
            continue
        server = apply(server, outcome)
        for r in replicas.values():
            r.receive(outcome)
    for replica in replicas.values():
        assert replica.pending == {}
        assert replica.confirmed == server
        assert replica.view == server


def test_region_rule_is_decided_by_the_model() -> None:
    def region(x: float, y: float, w: float | None, h: float | None) -> CreateOp:
        return CreateOp(broadcastId=bid(), chat=NewChat(id="r1", x=x, y=y, w=w, h=h, text="area"))

    state = run(RoomState(room="r"), region(10, 20, 30, 40))
    chat = state.chats["r1"]
    assert (chat.w, chat.h, chat.is_region) == (30, 40, True)
    for bad in ((10, 20, 30, None), (10, 20, None, 40), (10, 20, 0, 5), (71, 0, 30, 5)):
        outcome = decide(RoomState(room="r"), region(*bad), ALICE, 1)
        assert isinstance(outcome, Rejection) and outcome.code == "invalid", bad
    # A move keeps the size, so the corner may only go where the whole region fits.
    state = run(state, update("r1", Move(x=70, y=60)))
    assert (state.chats["r1"].x, state.chats["r1"].w) == (70, 30)
    outcome = decide(state, update("r1", Move(x=70.5, y=0)), ALICE, 1)
    assert isinstance(outcome, Rejection) and outcome.code == "invalid"
    assert not run(RoomState(room="r"), create("p1")).chats["p1"].is_region
