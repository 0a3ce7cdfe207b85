"""Mentions end to end: Alice types @ in her app, picks Bob, sends; Bob's own app (a
second real app in the same room) shows him a notification, marks the marker as
new until he opens it, and alerts him when his terminal is in the background."""

from __future__ import annotations

from textual import events
from textual.pilot import Pilot

from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.mention_picker import MentionPicker
from imagechat_tui.tui.widgets.thread_view import MENTION_STYLE, ThreadView
from tests.tui.helpers import TwoApps, until


def _notified(app: ImageChatApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def offered_bob(app: ImageChatApp, pilot: Pilot[object], before: str) -> MentionPicker:
    """A new marker's comment typed up to ``@b``: Bob is offered, alone."""
    await pilot.press("n")
    await until(pilot, lambda: app.query_one("#compose").display)
    await pilot.press(*before, "@", "b")
    picker = app.query_one(MentionPicker)
    assert picker.is_open and [u.id for u in picker.choices] == ["bob"]
    return picker


async def test_a_mention_reaches_the_other_reviewers_app(two_apps: TwoApps) -> None:
    alice, a, bob, b = two_apps
    # Alice starts a marker and types @ then b: Bob is offered; tab puts him in.
    picker = await offered_bob(alice, a, "Can you check this ")
    await a.press("tab")
    assert not picker.is_open
    await a.press(*"please", "enter")
    await until(a, lambda: len(alice.link.replica.confirmed.chats) == 1)
    (chat,) = alice.link.replica.confirmed.chats.values()
    assert chat.comments[0].text == "Can you check this @bob please"

    # Bob's app tells him, and lists the marker as new until he opens it.
    await until(b, lambda: any("mentioned you" in m for m in _notified(bob)))
    assert "alice mentioned you on #1: Can you check this @bob please" in _notified(bob)
    markers = bob.query_one(MarkerList)
    await until(b, lambda: "● new" in markers.entry_text(chat.id))
    assert bob.activity.alerts == []  # his terminal has focus: no bell
    await b.press("right_square_bracket")  # open the next (only) marker
    await until(b, lambda: bob.selected == chat.id)
    await until(b, lambda: "● new" not in markers.entry_text(chat.id))
    # The mention stands out in the thread.
    thread = bob.query_one(ThreadView)
    rows = [thread.render_line(y) for y in range(thread.size.height)]
    styles = [seg.style for strip in rows for seg in strip if "@bob" in seg.text]
    assert styles and all(s is not None and s.color and s.bold for s in styles)

    # Bob replies, then puts his terminal in the background.
    await b.press("r")
    await until(b, lambda: bob.query_one("#compose").display)
    await b.press(*"on it", "enter")
    await until(a, lambda: len(alice.link.replica.confirmed.chats[chat.id].comments) == 2)
    bob.post_message(events.AppBlur())  # what the terminal's focus report becomes
    await until(b, lambda: not bob.app_focus)
    # Alice took part in that thread: she is told Bob replied (no alert: focused).
    await until(a, lambda: any("bob replied on #1: on it" in m for m in _notified(alice)))
    assert alice.activity.alerts == []
    # Her answer reaches Bob in the background: a notification and an alert.
    await a.press("r")
    await until(a, lambda: alice.query_one("#compose").display)
    await a.press(*"thanks", "enter")
    await until(b, lambda: len(bob.activity.alerts) == 1)
    assert bob.activity.alerts[0].startswith("\a")


async def test_enter_chooses_the_offered_name_and_then_sends(two_apps: TwoApps) -> None:
    """Send is a priority binding on enter; while names are offered it gives way."""
    alice, a, _bob, _b = two_apps
    picker = await offered_bob(alice, a, "look ")
    await a.press("enter")
    assert not picker.is_open and alice.query_one("#compose").display  # not sent
    await a.press("enter")
    await until(a, lambda: len(alice.link.replica.confirmed.chats) == 1)
    (chat,) = alice.link.replica.confirmed.chats.values()
    assert chat.comments[0].text == "look @bob "


async def test_alert_off_keeps_the_notification_but_rings_nothing(two_apps: TwoApps) -> None:
    alice, a, bob, b = two_apps
    bob.activity.mode = "off"  # what --alert off sets
    bob.post_message(events.AppBlur())
    await until(b, lambda: not bob.app_focus)
    await _new_marker(alice, a, "@bob look")
    await until(b, lambda: any("mentioned you" in m for m in _notified(bob)))
    assert bob.activity.alerts == []


async def _new_marker(app: ImageChatApp, pilot: Pilot[object], text: str) -> None:
    await pilot.press("n")
    await until(pilot, lambda: app.query_one("#compose").display)
    await pilot.press(*text)
    app.query_one(MentionPicker).close()
    await pilot.press("enter")
    await until(pilot, lambda: len(app.link.replica.confirmed.chats) == 1)


def test_mention_style_is_bold_colour() -> None:
    assert "bold" in MENTION_STYLE
