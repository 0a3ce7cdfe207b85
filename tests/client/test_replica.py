"""The replica takes who we are from the server's ``joined`` frame."""

from __future__ import annotations

import uuid

from imagechat_tui.model import Actor, Limits, Rejection, RoomState, decide
from imagechat_tui.protocol import (
    CreateOp,
    DeleteOp,
    Joined,
    NewChat,
    NewImageChat,
    ServerLimits,
    User,
)
from imagechat_tui.replica import Replica

GUESS = Actor(User("alice", "alice"))  # what the app guessed from the token
BOB = User("bob", "Bob")
LIMITS = ServerLimits(
    maxText=2000,
    maxMarkers=500,
    maxComments=200,
    maxFrameBytes=65536,
    opsPerSecond=50,
    opsBurst=1000,
)


def bid() -> str:
    return str(uuid.uuid4())


def bobs_marker() -> NewImageChat:
    op = CreateOp(broadcastId=bid(), chat=NewChat(id="c1", x=1, y=2, text="hi"))
    event = decide(RoomState(room="r"), op, Actor(BOB), now=1)
    assert isinstance(event, NewImageChat)
    return event


def test_joined_sets_the_actor_from_the_server() -> None:
    replica = Replica("r", GUESS)
    server_user = User("alice", "Alice Liddell")
    result = replica.receive(
        Joined(room="r", seq=0, recovered=False, user=server_user, limits=LIMITS, role="moderator")
    )
    assert result.joined is not None and not result.changed
    assert replica.actor == Actor(user=server_user, role="moderator")


def test_the_role_from_joined_decides_own_ops() -> None:
    replica = Replica("r", GUESS)
    replica.receive(RoomState(room="r").to_snapshot())
    replica.receive(bobs_marker())
    delete = DeleteOp(broadcastId=bid(), chatId="c1")
    assert isinstance(replica.propose(delete, now=2), Rejection)  # a member may not

    replica.receive(
        Joined(room="r", seq=1, recovered=True, user=GUESS.user, limits=LIMITS, role="moderator")
    )
    assert not isinstance(replica.propose(delete, now=3), Rejection)
    assert replica.view.chats == {}


def test_a_viewer_role_makes_the_replica_read_only() -> None:
    replica = Replica("r", GUESS)
    replica.receive(
        Joined(room="r", seq=0, recovered=False, user=GUESS.user, limits=LIMITS, role="viewer")
    )
    replica.receive(RoomState(room="r").to_snapshot())
    op = CreateOp(broadcastId=bid(), chat=NewChat(id="c2", x=1, y=2, text="hi"))
    refused = replica.propose(op, now=1)
    assert isinstance(refused, Rejection) and refused.code == "forbidden"


def test_joined_sets_the_limits_own_ops_are_decided_with() -> None:
    replica = Replica("r", GUESS)
    tight = ServerLimits(
        maxText=5, maxMarkers=1, maxComments=1, maxFrameBytes=1024, opsPerSecond=1, opsBurst=1
    )
    replica.receive(Joined(room="r", seq=0, recovered=False, user=GUESS.user, limits=tight))
    replica.receive(RoomState(room="r").to_snapshot())
    # A server that does not say undoSeconds keeps nothing to restore.
    # Nor maxRoomBytes: no room budget is assumed (an older server has none).
    assert replica.limits == Limits(
        max_text=5, max_markers=1, max_comments=1, undo_seconds=0, max_room_bytes=0
    )
    long = CreateOp(broadcastId=bid(), chat=NewChat(id="c3", x=1, y=2, text="abcdef"))
    refused = replica.propose(long, now=1)
    assert isinstance(refused, Rejection) and refused.code == "too-large"
    first = CreateOp(broadcastId=bid(), chat=NewChat(id="c4", x=1, y=2, text="ok"))
    assert not isinstance(replica.propose(first, now=2), Rejection)
    second = CreateOp(broadcastId=bid(), chat=NewChat(id="c5", x=1, y=2, text="ok"))
    refused = replica.propose(second, now=3)
    assert isinstance(refused, Rejection) and refused.code == "limit-reached"
