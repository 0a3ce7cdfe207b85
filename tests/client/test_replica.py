"""The replica takes who we are from the server's ``joined`` frame."""

from __future__ import annotations

import uuid

from imagechat_tui.model import Actor, Rejection, RoomState, decide
from imagechat_tui.protocol import (
    CreateOp,
    DeleteOp,
    Joined,
    NewChat,
    NewImageChat,
    User,
)
from imagechat_tui.replica import Replica

GUESS = Actor(User("alice", "alice"))  # what the app guessed from the token
BOB = User("bob", "Bob")


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
        Joined(room="r", seq=0, recovered=False, user=server_user, role="moderator")
    )
    assert result.joined is not None and not result.changed
    assert replica.actor == Actor(user=server_user, role="moderator")


def test_the_role_from_joined_decides_own_ops() -> None:
    replica = Replica("r", GUESS)
    replica.receive(RoomState(room="r").to_snapshot())
    replica.receive(bobs_marker())
    delete = DeleteOp(broadcastId=bid(), chatId="c1")
    assert isinstance(replica.propose(delete, now=2), Rejection)  # a member may not

    replica.receive(Joined(room="r", seq=1, recovered=True, user=GUESS.user, role="moderator"))
    assert not isinstance(replica.propose(delete, now=3), Rejection)
    assert replica.view.chats == {}


def test_a_viewer_role_makes_the_replica_read_only() -> None:
    replica = Replica("r", GUESS)
    replica.receive(Joined(room="r", seq=0, recovered=False, user=GUESS.user, role="viewer"))
    replica.receive(RoomState(room="r").to_snapshot())
    op = CreateOp(broadcastId=bid(), chat=NewChat(id="c2", x=1, y=2, text="hi"))
    refused = replica.propose(op, now=1)
    assert isinstance(refused, Rejection) and refused.code == "forbidden"
