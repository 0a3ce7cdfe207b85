"""The review without a server or a screen: every intent, its refusals, undo, what applies
and what arrives, over ``LoopbackLink`` (the real model, ServerSession and replica, in
memory). ``room.pump()`` delivers what the room sent, as the network would later."""

from __future__ import annotations

import pytest

from imagechat_tui.client.link import ConnState, NotConnected
from imagechat_tui.client.loopback import LoopbackRoom
from imagechat_tui.client.review import Draft, Restored, Review
from imagechat_tui.client.session import Done, Refused
from imagechat_tui.client.undo import Deleted
from imagechat_tui.model import Limits
from imagechat_tui.protocol import CloseCode, CreateOp, NewChat, Presence, User

ALICE = User(id="alice", name="Alice")
BOB = User(id="bob", name="Bob")
ROOM = "img-review"


class Clock:
    """Monotonic seconds the test moves on (the undo slot's time)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def review_of(room: LoopbackRoom, user: User, role: str = "member", **kw: object) -> Review:
    """Joined and caught up; the link reports to the review as the app wires it."""
    link = room.link(user, role)
    review = Review(link, **kw)  # type: ignore[arg-type]
    link.listen(on_state=lambda _state: None, on_received=review.received)
    link.join()
    room.pump()
    return review


@pytest.fixture
def room() -> LoopbackRoom:
    return LoopbackRoom(ROOM)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alice(room: LoopbackRoom, clock: Clock) -> Review:
    return review_of(room, ALICE, clock=clock)


@pytest.fixture
def bob(room: LoopbackRoom) -> Review:
    return review_of(room, BOB)


def marker(review: Review, room: LoopbackRoom, text: str = "first", x: float = 20.0) -> str:
    """A marker written by ``review``'s user, confirmed by the room."""
    assert isinstance(review.begin_marker(x, 30.0), Draft)
    sent = review.send(text)
    assert isinstance(sent, Done)
    room.pump()
    return sent.chat_id


# --- writing ------------------------------------------------------------------------


def test_a_new_marker_shows_at_once_is_confirmed_and_reaches_the_others(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    draft = alice.begin_marker(20.0, 30.0)
    assert draft == Draft("new", 20.0, 30.0) and alice.draft == draft
    assert alice.draft_title(lambda x, y: f"{x}/{y}") == "New marker at 20.0/30.0"
    sent = alice.send("The label is cut off")
    assert isinstance(sent, Done) and sent.comment_id is not None
    # Shown at once (optimistic), selected, the composer closed, "Sent." said.
    assert sent.chat_id in alice.replica.view.chats and alice.replica.pending
    assert alice.selected == sent.chat_id and alice.draft is None
    assert alice.status.text == "Sent." and not alice.status.error
    assert sent.chat_id not in bob.replica.view.chats  # not delivered yet
    room.pump()
    assert not alice.replica.pending and sent.chat_id in alice.replica.confirmed.chats
    assert bob.chats()[0].comments[0].text == "The label is cut off"


def test_a_region_keeps_its_size_in_the_draft_and_is_refused_outside_the_image(
    room: LoopbackRoom, alice: Review
) -> None:
    outside = alice.begin_region(90.0, 90.0, 20.0, 5.0)
    assert isinstance(outside, Refused) and "inside the image" in outside.reason
    assert alice.draft is None and alice.status.error
    draft = alice.begin_region(10.0, 20.0, 30.0, 40.0)
    assert isinstance(draft, Draft) and draft.region == (10.0, 20.0, 30.0, 40.0)
    sent = alice.send("these two")
    assert isinstance(sent, Done)
    room.pump()
    chat = alice.replica.confirmed.chats[sent.chat_id]
    assert (chat.x, chat.y, chat.w, chat.h) == (10.0, 20.0, 30.0, 40.0)


def test_a_refused_send_keeps_the_draft_and_says_why(alice: Review) -> None:
    alice.begin_marker(50.0, 50.0)
    refused = alice.send("   ")
    assert isinstance(refused, Refused) and refused.reason == "The text is empty."
    assert alice.draft is not None and alice.status.error
    assert isinstance(alice.send("now with text"), Done)
    assert isinstance(alice.send("again"), Refused)  # nothing is being written


def test_reply_needs_a_marker_and_follows_the_selection(room: LoopbackRoom, alice: Review) -> None:
    alice.select(None)
    assert isinstance(alice.begin_reply(), Refused)
    assert "Select a marker" in alice.status.text
    one, two = marker(alice, room, "one"), marker(alice, room, "two", x=60.0)
    alice.select(one)
    draft = alice.begin_reply()
    assert isinstance(draft, Draft) and draft.chat_id == one
    assert alice.draft_title(str.format) == "Reply to #1"
    alice.select(two)  # the reply follows
    assert alice.draft is not None and alice.draft.chat_id == two
    sent = alice.send("a reply")
    assert isinstance(sent, Done)
    room.pump()
    assert [c.text for c in alice.replica.confirmed.chats[two].comments] == ["two", "a reply"]


def test_edit_starts_with_the_text_and_only_the_author_may(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(alice, room, "tpyo")
    first = alice.replica.view.chats[chat_id].comments[0].id
    assert isinstance(alice.begin_edit(None), Refused)  # no comment highlighted
    draft = alice.begin_edit(first)
    assert isinstance(draft, Draft) and draft.text == "tpyo" and draft.comment_id == first
    assert alice.draft_title(str.format) == "Edit your comment on #1"
    assert isinstance(alice.send("typo"), Done)
    room.pump()
    assert bob.replica.view.chats[chat_id].comments[0].text == "typo"
    bob.select(chat_id)
    refused = bob.begin_edit(first)
    assert isinstance(refused, Refused) and "Only its author" in refused.reason
    assert bob.draft is None


def test_a_viewer_is_refused_before_typing_but_keys_stay_offered(
    room: LoopbackRoom, alice: Review
) -> None:
    chat_id = marker(alice, room)
    viewer = review_of(room, BOB, "viewer")
    refused = viewer.begin_marker(10.0, 10.0)
    assert isinstance(refused, Refused) and "read-only" in refused.reason
    viewer.select(chat_id)
    assert viewer.applies("reply")  # offered, so the key says why
    assert isinstance(viewer.begin_reply(), Refused) and viewer.draft is None


def test_the_marker_limit_refuses_before_typing() -> None:
    room = LoopbackRoom(ROOM, limits=Limits(max_markers=1))
    alice = review_of(room, ALICE)
    marker(alice, room)
    refused = alice.begin_marker(70.0, 70.0)
    assert isinstance(refused, Refused) and "limit of 1 markers" in refused.reason


# --- offline: one check ---------------------------------------------------------------


def test_offline_refuses_every_intent_at_once_and_the_message_clears_on_rejoin(
    room: LoopbackRoom, alice: Review
) -> None:
    chat_id = marker(alice, room)
    link = alice.link
    link.drop()  # type: ignore[attr-defined]
    assert alice.applies("retry") and not alice.connected
    for intent in (
        lambda: alice.begin_marker(1.0, 1.0),
        alice.begin_reply,
        alice.begin_move,
        alice.ask_delete_marker,
    ):
        alice.select(chat_id)
        refused = intent()
        assert isinstance(refused, Refused) and refused.reason.startswith("Offline")
        assert alice.status.situation == "offline"
    with pytest.raises(NotConnected):  # the link refuses too: nothing queued
        link.submit(CreateOp(broadcastId="b", chat=NewChat(id="c", x=1, y=1, text="t")))
    alice.retry()
    assert alice.status.text == "Retrying now…"
    room.pump()
    assert alice.connected and not alice.applies("retry")
    assert alice.connection_changed() is None and alice.status.text == ""


def test_a_refused_token_asks_once_and_a_local_one_is_minted_again(room: LoopbackRoom) -> None:
    alice = review_of(room, ALICE)
    refused = ConnState("auth-failed", reason="The token is not valid.", close_code=4003)
    alice.link.drop(refused)  # type: ignore[attr-defined]
    assert alice.connection_changed() == "ask-token"
    assert alice.status.text == "The token is not valid." and alice.status.error
    assert alice.connection_changed() is None  # asked once
    alice.retry()  # refused again after a retry: ask again
    alice.link.drop(refused)  # type: ignore[attr-defined]
    assert alice.connection_changed() == "ask-token"

    minted = []
    local = review_of(room, BOB, remint_token=lambda: minted.append("fresh") or "fresh")
    expired = ConnState("auth-failed", reason="expired", close_code=CloseCode.TOKEN_EXPIRED)
    local.link.drop(expired)  # type: ignore[attr-defined]
    assert local.connection_changed() is None and minted == ["fresh"]
    assert local.link.token == "fresh"
    room.pump()
    assert local.connected  # set_token retried at once


# --- changing, deleting, undoing ------------------------------------------------------


def test_resolve_and_reopen_say_so_and_applies_offers_the_other(
    room: LoopbackRoom, alice: Review
) -> None:
    chat_id = marker(alice, room)
    assert alice.applies("set_resolved", True) and not alice.applies("set_resolved", False)
    assert isinstance(alice.set_resolved(True), Done)
    assert alice.status.text == "Marker #1 resolved."
    assert alice.replica.view.chats[chat_id].resolved
    assert alice.set_resolved(True) is None  # nothing to do
    assert alice.applies("set_resolved", False) and not alice.applies("set_resolved", True)
    assert isinstance(alice.set_resolved(False), Done)
    assert alice.status.text == "Marker #1 reopened."


def test_a_deleted_comment_comes_back_with_undo(
    room: LoopbackRoom, alice: Review, clock: Clock
) -> None:
    chat_id = marker(alice, room)
    alice.begin_reply()
    reply = alice.send("oops")
    assert isinstance(reply, Done) and reply.comment_id
    room.pump()
    first = alice.replica.view.chats[chat_id].comments[0].id
    refused = alice.delete_comment(first)
    assert isinstance(refused, Refused) and "first comment opens the thread" in refused.reason
    deleted = alice.delete_comment(reply.comment_id)
    assert isinstance(deleted, Deleted) and deleted.label == "Comment on #1"
    assert alice.status.text == "Comment on #1 deleted. Press u within 10 s to undo."
    assert alice.status.situation == "undo" and alice.applies("undo")
    room.pump()
    assert len(alice.replica.confirmed.chats[chat_id].comments) == 1
    clock.now += 5
    restored = alice.undo()
    assert restored == Restored(chat_id, reply.comment_id)
    assert alice.status.text == "Comment on #1 restored."
    room.pump()
    assert [c.text for c in alice.replica.confirmed.chats[chat_id].comments] == ["first", "oops"]
    assert not alice.applies("undo")


def test_a_deleted_marker_asks_first_and_comes_back_whole(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(alice, room)
    bob.select(chat_id)
    refused = bob.ask_delete_marker()
    assert isinstance(refused, Refused) and "Only its author" in refused.reason
    alice.select(chat_id)
    chat = alice.ask_delete_marker()
    assert not isinstance(chat, Refused) and chat.id == chat_id
    deleted = alice.delete_marker(chat)
    assert isinstance(deleted, Deleted) and alice.selected is None
    room.pump()
    assert chat_id not in bob.replica.view.chats and bob.selected is None
    assert alice.undo() == Restored(chat_id)
    room.pump()
    assert alice.status.text == "Marker #1 restored."
    assert alice.selected == chat_id and bob.replica.view.chats[chat_id] == chat


def test_undo_is_offered_for_its_time_only(room: LoopbackRoom, alice: Review, clock: Clock) -> None:
    alice.select(marker(alice, room))
    chat = alice.ask_delete_marker()
    assert not isinstance(chat, Refused)
    alice.delete_marker(chat)
    assert not alice.undo_expired()  # not yet
    clock.now += 10
    assert alice.undo_expired() and alice.status.text == ""  # the notice is no longer true
    refused = alice.undo()
    assert isinstance(refused, Refused) and refused.reason.startswith("Nothing to undo")
    assert not alice.applies("undo")


# --- moving -----------------------------------------------------------------------------


def test_move_then_place_moves_the_marker_and_others_may_not(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(alice, room)
    bob.select(chat_id)
    refused = bob.begin_move()
    assert isinstance(refused, Refused)
    assert refused.reason == "Only its author or a moderator may move Marker #1."
    assert bob.moving is None
    alice.select(chat_id)
    assert not alice.applies("cancel_move")
    assert not isinstance(alice.begin_move(), Refused)
    assert alice.moving == chat_id and alice.applies("cancel_move")
    assert alice.status.text.startswith("Moving #1")
    moved = alice.place(70.0, 80.0)  # the next place moves it, creates nothing
    assert isinstance(moved, Done) and alice.moving is None and alice.draft is None
    assert alice.status.text == "Marker #1 moved."
    room.pump()
    chat = bob.replica.view.chats[chat_id]
    assert (chat.x, chat.y) == (70.0, 80.0) and len(bob.chats()) == 1
    alice.begin_move()
    assert alice.cancel_move() and alice.status.text == "Move cancelled."
    assert not alice.cancel_move()


def test_the_marker_being_moved_deleted_by_someone_else_ends_the_move(room: LoopbackRoom) -> None:
    alice = review_of(room, ALICE)
    moderator = review_of(room, BOB, "moderator")
    alice.select(marker(alice, room))
    alice.begin_move()
    moderator.select(alice.selected)
    chat = moderator.ask_delete_marker()
    assert not isinstance(chat, Refused)
    moderator.delete_marker(chat)
    room.pump()
    assert alice.moving is None and alice.selected is None
    assert (alice.status.text, alice.status.error) == ("The marker being moved was deleted.", True)
    assert alice.status.until is not None  # an error that ends by itself


# --- selection and the view ------------------------------------------------------------


def test_step_walks_the_listed_markers_and_wraps(room: LoopbackRoom, alice: Review) -> None:
    ids = [marker(alice, room, f"m{n}", x=10.0 * n) for n in range(1, 4)]
    alice.select(None)
    assert alice.step(ids, 1) == ids[0]
    assert alice.step(ids, 1) == ids[1]
    assert alice.step(ids, -1) == ids[0]
    assert alice.step(ids, -1) == ids[2]  # wraps
    alice.select(None)
    assert alice.step(ids, -1) == ids[2]
    assert alice.step([], 1) is None


def test_the_view_toggles_say_what_they_hide(alice: Review) -> None:
    assert alice.hidden() == []
    alice.toggle_resolved()
    # Said once, by the status bar's state: no "Resolved pins hidden." message beside it.
    assert alice.hidden() == ["resolved pins hidden (v)"] and not alice.show_resolved
    assert alice.status.text == ""
    alice.toggle_sidebar()
    assert alice.hidden() == ["resolved pins hidden (v)", "sidebar hidden (b)"]
    assert alice.hidden_briefly() == "hidden: pins (v), sidebar (b)"  # beside a message
    alice.toggle_resolved()
    assert alice.hidden() == ["sidebar hidden (b)"] and alice.status.text == ""


def test_what_applies_with_nothing_selected_and_with_a_comment(
    room: LoopbackRoom, alice: Review
) -> None:
    alice.select(None)
    table = {a: alice.applies(a) for a in ("reply", "delete_marker", "move_marker", "edit")}
    assert table == dict.fromkeys(table, False)
    assert not alice.applies("set_resolved", True) and not alice.applies("undo")
    assert alice.applies("help") and alice.applies("quit")  # not the review's: apply
    chat_id = marker(alice, room)
    assert alice.selected == chat_id
    assert (
        alice.applies("reply") and alice.applies("delete_marker") and alice.applies("move_marker")
    )
    assert not alice.applies("edit") and not alice.applies("delete_comment")
    assert alice.applies("edit", comment="c") and alice.applies("delete_comment", comment="c")
    assert not alice.applies("retry")


# --- what arrives -----------------------------------------------------------------------


def test_what_others_do_becomes_unseen_activity_and_notices(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(alice, room, "mine")
    bob.select(chat_id)
    bob.begin_reply()
    bob.send("and a reply")
    room.pump()
    assert [n.kind for n in alice.noticed] == ["reply"]
    assert alice.noticed[0].summary == "Bob replied on #1: and a reply"
    alice.select(None)
    mentioned = marker(bob, room, "hey @alice")
    assert alice.noticed[-1].kind == "mention" and mentioned in alice.unseen
    alice.select(mentioned)
    assert mentioned not in alice.unseen


def test_an_op_the_room_refuses_is_undone_and_said(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(alice, room)
    alice.select(chat_id)
    chat = alice.ask_delete_marker()
    assert not isinstance(chat, Refused)
    alice.delete_marker(chat)  # decided at once; bob has not heard yet
    bob.select(chat_id)
    bob.begin_reply()
    assert isinstance(bob.send("too late"), Done)  # his replica still has it
    room.pump()
    assert bob.status.error and bob.status.text.startswith("Undone: That marker does not exist")
    assert not bob.replica.pending and chat_id not in bob.replica.view.chats


def test_who_is_viewing_and_who_can_be_mentioned(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    room.pump()
    assert alice.who() == ("Viewing now (2)", "Alice, Bob")
    assert [u.id for u in alice.people()] == ["alice", "bob"]
    bob.link.drop()  # type: ignore[attr-defined]
    room.pump()
    assert alice.who() == ("Viewing now (1)", "Alice")
    assert bob.who() == ("Viewing now", "Not connected: nobody to list.")


def test_who_in_a_large_room_is_asked_of_the_server(room: LoopbackRoom, alice: Review) -> None:
    """Past the names a presence carries, the count alone: ``who`` asks the room."""
    listed: list[tuple[str, str]] = []
    alice.link.listen(
        on_state=lambda _s: None,
        on_received=alice.received,
        on_viewers=lambda viewers: listed.append(alice.listed(viewers)),
    )
    alice.link.presence = Presence(room=ROOM, viewers=(), count=60)  # type: ignore[misc]
    assert alice.who() is None  # asked
    room.pump()
    assert listed == [("Viewing now (1)", "Alice")]


def test_the_mode_is_writing_then_moving_or_a_region_then_offline_then_the_place(
    room: LoopbackRoom, alice: Review
) -> None:
    """What the footer offers keys for (``Review.mode``)."""
    assert [alice.mode(p) for p in ("image", "list", "thread")] == ["image", "list", "thread"]
    alice.drawing_region(True)
    assert alice.mode("image") == "region"
    alice.drawing_region(False)
    alice.begin_marker(10.0, 10.0)
    assert isinstance(alice.send("a marker"), Done)
    room.pump()
    alice.begin_move()
    assert alice.mode("image") == "move" and alice.mode("composer") == "composer"
    alice.cancel_move()
    alice.link.drop()  # type: ignore[attr-defined]
    assert alice.mode("list") == "offline" and alice.mode("composer") == "composer"


def test_the_open_marker_changed_by_someone_else_says_so_in_its_panel_while_true(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(bob, room, "from bob")
    alice.select(chat_id)
    assert alice.panel_notice() is None
    bob.select(chat_id)
    alice.say("Sent.")  # something the status line said before: old news now
    bob.set_resolved(True)
    room.pump()
    assert alice.panel_notice() == "Marker #1 was resolved by someone else."
    assert alice.status.text == ""  # said once, in the panel
    alice.set_resolved(False)  # her own change after it: the notice is no longer the news
    room.pump()
    assert alice.panel_notice() is None
    bob.delete_marker(bob.chats()[0])
    room.pump()
    assert alice.selected is None
    assert alice.panel_notice() == "Marker #1 was deleted by Bob."
    assert alice.status.text == ""  # "Marker #1 reopened." was about the marker now gone
    assert isinstance(bob.undo(), Restored)
    room.pump()
    # Back: neither the panel nor the status line still says it was deleted.
    assert alice.panel_notice() is None and alice.status.text == ""
    other = marker(bob, room, "another")
    alice.select(other)  # another marker chosen: the notice was about the one before
    assert alice.panel_notice() is None


def test_with_the_sidebar_hidden_the_status_line_says_what_happened_to_the_open_marker(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(bob, room, "from bob")
    alice.select(chat_id)
    alice.toggle_sidebar()  # no panel to say it in
    bob.select(chat_id)
    bob.set_resolved(True)
    room.pump()
    assert alice.status.text == "Marker #1, which you have open, was resolved by someone else."
    bob.delete_marker(bob.chats()[0])
    room.pump()
    assert alice.status.text == "Marker #1, which you had open, was deleted by Bob."
    assert alice.status.error


def test_a_discard_that_would_lose_text_is_asked_about(room: LoopbackRoom, alice: Review) -> None:
    chat_id = marker(alice, room)
    alice.select(chat_id)
    alice.begin_reply()
    assert alice.discard_loses("") == 0  # nothing written, nothing lost
    alice.cancel_draft("kept for later")
    alice.begin_reply()
    assert alice.discard_loses("kept for later") == 0  # escape with the text: kept
    assert alice.discard_loses("") == len("kept for later")  # cleared: ask first
    alice.keep_draft()  # the answer was no
    assert alice.draft is None
    alice.begin_reply()
    assert alice.draft is not None and alice.draft.text == "kept for later"


def test_a_draft_whose_marker_is_deleted_says_escape_keeps_it(
    room: LoopbackRoom, alice: Review, bob: Review
) -> None:
    chat_id = marker(bob, room, "from bob")
    alice.select(chat_id)
    alice.begin_reply()
    bob.delete_marker(bob.chats()[0])
    room.pump()
    # Escape closes and keeps the text, here as everywhere: the title says so, not "cancel".
    assert (
        alice.draft_title(str.format)
        == "The marker is gone (deleted): esc closes, your text is kept"
    )
    alice.cancel_draft("half a thought")
    assert alice.status.text == "Draft kept: it comes back with the marker if the delete is undone."
    assert isinstance(bob.undo(), Restored)
    room.pump()
    alice.select(chat_id)
    draft = alice.begin_reply()
    assert isinstance(draft, Draft) and draft.text == "half a thought"
