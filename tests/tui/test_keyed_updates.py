"""Keyed updates (issue 20): a remote event redraws the list entry and the pin it
touched, keeps every other one as it was, and ends where a full rebuild would; a burst
of events ends in the same state as a rebuild too. On the in-memory room."""

from __future__ import annotations

import random
import uuid

import pytest
from rich.console import Console
from textual.pilot import Pilot

from imagechat_tui.protocol import (
    Chat,
    Comment,
    EditComment,
    Move,
    Resolve,
    RestoreOp,
    UpdateOp,
    User,
)
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.line_list import Item
from imagechat_tui.tui.widgets.marker_list import MarkerList, entry_height, marker_lines
from tests.tui.helpers import RemoteClient, Reviewing, until

# Every app test here in a terminal of 140 x 44.
pytestmark = pytest.mark.app(size=(140, 44))


def expected_rows(markers: MarkerList) -> list[str]:
    """The list's rows as a full rebuild makes them: every listed entry drawn anew."""
    console = markers.app.console
    unseen = markers._unseen
    return [
        line.plain.rstrip()
        for chat in markers._listed()
        for line in marker_lines(chat, markers._width, console, chat.id in unseen)
    ]


def shown_rows(markers: MarkerList) -> list[str]:
    return [markers._row(row).text.rstrip() for row in range(len(markers._strips))]


def on_screen(app: ImageChatApp, widget: MarkerList | ImageView) -> list[str]:
    """What the terminal shows of ``widget``'s content, row by row, as last painted."""
    region = (
        widget.scrollable_content_region
        if isinstance(widget, MarkerList)
        else widget.content_region
    )
    screen = app.screen._compositor.render_strips()
    return [
        screen[y].crop(region.x, region.right).text.rstrip() for y in range(region.y, region.bottom)
    ]


async def assert_as_rebuilt(app: ImageChatApp, pilot: Pilot[object]) -> None:
    """The list, the pins and the screen are what a full rebuild of the room gives."""
    await pilot.pause()
    markers, view = app.query_one(MarkerList), app.query_one(ImageView)
    assert markers.chat_ids == [chat.id for chat in app.review.chats()]
    assert shown_rows(markers) == expected_rows(markers)
    top = round(markers.scroll_offset.y)
    visible = shown_rows(markers)[top : top + markers.scrollable_content_region.height]
    assert on_screen(app, markers)[: len(visible)] == visible  # no stale row left
    kept = view._rows, view._placed
    view._relayout_pins(refresh_changed=False)  # the pins laid out from scratch
    assert view._rows == kept[0] and view._placed == kept[1]
    view._rows, view._placed = kept  # (the objects the keyed layout made, kept)
    painted = on_screen(app, view)
    assert painted == [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def entries(markers: MarkerList) -> dict[str | None, Item]:
    return {item.key: item for item in markers._items}


def pins(view: ImageView) -> dict[str, object]:
    return {chat_id: placed for chat_id, (_row, placed) in view._placed.items()}


def update(bob: RemoteClient, chat_id: str, change: EditComment | Move | Resolve) -> None:
    bob.connection.submit(UpdateOp(broadcastId=str(uuid.uuid4()), chatId=chat_id, change=change))


async def test_each_remote_change_redraws_its_entry_and_pin_alone(alice: Reviewing) -> None:
    app, pilot, bob = alice
    ids = [bob.create(10 + 8 * i, 10 + 7 * i, f"marker {i}") for i in range(8)]
    await until(pilot, lambda: len(app.query_one(MarkerList).chat_ids) == 8)
    await assert_as_rebuilt(app, pilot)
    markers, view = app.query_one(MarkerList), app.query_one(ImageView)
    target = ids[3]

    def first_text() -> str:
        return app.link.replica.view.chats[target].comments[0].text

    def comments() -> int:
        return len(app.link.replica.view.chats[target].comments)

    def resolved() -> bool:
        return app.link.replica.view.chats[target].resolved

    def spot() -> tuple[float, float]:
        chat = app.link.replica.view.chats[target]
        return chat.x, chat.y

    first_id = app.link.replica.view.chats[target].comments[0].id
    changes = [
        (lambda: bob.reply(target, "a reply"), lambda: comments() == 2),
        (
            lambda: update(bob, target, EditComment(commentId=first_id, text="edited")),
            lambda: first_text() == "edited",
        ),
        (lambda: update(bob, target, Resolve()), resolved),
        (lambda: update(bob, target, Move(x=80.0, y=80.0)), lambda: spot() == (80.0, 80.0)),
    ]
    for make, done in changes:
        before_entries, before_pins = entries(markers), pins(view)
        make()
        await until(pilot, done)
        await assert_as_rebuilt(app, pilot)
        after_entries, after_pins = entries(markers), pins(view)
        others = [chat_id for chat_id in ids if chat_id != target]
        assert all(after_entries[i] is before_entries[i] for i in others)  # kept
        assert all(after_pins[i] is before_pins[i] for i in others)
    # The move drew the pin where it went, and only there.
    assert after_pins[target] is not before_pins[target]

    # Deleted: its entry and pin go, the others stay; restored: back in its place.
    before_entries, before_pins = entries(markers), pins(view)
    bob.delete(target)
    await until(pilot, lambda: target not in app.link.replica.view.chats)
    await assert_as_rebuilt(app, pilot)
    assert target not in entries(markers) and target not in pins(view)
    assert all(entries(markers)[i] is before_entries[i] for i in ids if i != target)
    bob.connection.submit(RestoreOp(broadcastId=str(uuid.uuid4()), chatId=target))
    await until(pilot, lambda: target in app.link.replica.view.chats)
    await assert_as_rebuilt(app, pilot)
    assert markers.chat_ids.index(target) == 3
    assert all(entries(markers)[i] is before_entries[i] for i in ids if i != target)
    assert all(pins(view)[i] is before_pins[i] for i in ids if i != target)


async def test_selection_moves_between_entries_and_pins_as_a_rebuild_draws_it(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    for i in range(5):
        bob.create(15 + 15 * i, 30, f"marker {i}")
    await until(pilot, lambda: len(app.query_one(MarkerList).chat_ids) == 5)
    for key in ("]", "]", "[", "]", "]"):
        await pilot.press(key)
        await assert_as_rebuilt(app, pilot)
        assert app.query_one(MarkerList).highlighted_chat == app.selected


async def test_a_burst_ends_as_a_full_rebuild(alice: Reviewing) -> None:
    app, pilot, bob = alice
    rng = random.Random(5)
    ids = [bob.create(rng.uniform(1, 99), rng.uniform(1, 99), f"m{i}") for i in range(30)]
    await until(pilot, lambda: len(app.query_one(MarkerList).chat_ids) == 30)
    await pilot.press("]")  # one selected: its pin on top, its entry highlighted
    for i in range(60):  # all at once: the app handles them as they come
        chat_id = rng.choice(ids)
        kind = i % 4
        if kind == 0:
            bob.reply(chat_id, f"reply {i}")
        elif kind == 1:
            update(bob, chat_id, Move(x=rng.uniform(1, 99), y=rng.uniform(1, 99)))
        elif kind == 2 and chat_id in bob.replica.view.chats:
            bob.delete(chat_id)
            ids.remove(chat_id)
        else:
            ids.append(bob.create(rng.uniform(1, 99), rng.uniform(1, 99), f"new {i}"))
    await until(pilot, lambda: app.link.replica.view.chats.keys() == bob.replica.view.chats.keys())
    await until(pilot, lambda: not bob.replica.pending and not app.link.replica.pending)
    await until(pilot, lambda: app.link.replica.confirmed.seq == bob.replica.confirmed.seq)
    await assert_as_rebuilt(app, pilot)


def test_entry_height_is_the_rows_an_entry_takes() -> None:
    """``entry_height`` lays out a long list without drawing it: it must say what
    ``marker_lines`` draws, for any text and width."""
    console = Console(width=200)
    rng = random.Random(3)
    words = ["a", "bb", "cut", "label", "漢字", "x" * 30, " ", "end.", "\t"]
    bob = User(id="bob", name="bob")
    for n in range(600):
        text = "".join(rng.choice(words) + rng.choice(["", " ", "  "]) for _ in range(n % 17))
        if n % 3 == 0:
            text += "\n" * rng.randint(1, 3) + "more text"
        comment = Comment(id="c", author=bob, text=text, createdAt=0)
        chat = Chat(id="m", number=n, x=1, y=1, createdBy=bob, createdAt=0, comments=(comment,))
        width = rng.randint(6, 50)
        assert entry_height(chat, width) == len(marker_lines(chat, width, console)), (text, width)
