"""Mentions and the activity that concerns a user: the pure rules."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from imagechat_tui.client.mentions import (
    matching,
    mentioned,
    notices,
    people,
    touched,
    typing_mention,
)
from imagechat_tui.model import Actor, RoomState, apply, decide
from imagechat_tui.protocol import (
    AddComment,
    CreateOp,
    EditComment,
    NewChat,
    NewComment,
    Resolve,
    UpdateOp,
    User,
)
from imagechat_tui.tui.activity import alert_bytes, desktop_protocol

ALICE, BOB, CAROL = User("alice", "Alice Liddell"), User("bob", "Bob"), User("carol", "Carol")


def test_mentions_are_at_ids_not_inside_words_or_addresses() -> None:
    assert mentioned("@alice and @Bob.") == {"alice", "bob"}
    assert mentioned("mail alice@example.com, not a mention") == set()
    assert mentioned("@j.doe-2 then @x") == {"j.doe-2", "x"}
    assert mentioned("@@alice @") == {"alice"}  # as on GitHub: an @ is no word character
    assert typing_mention("hello @al") == "al"
    assert typing_mention("hello @") == ""
    assert typing_mention("hello al") is None
    assert typing_mention("a@b") is None


def test_people_and_matching() -> None:
    state = _state()
    room = people(state.chats.values(), [CAROL, ALICE])
    assert [u.id for u in room] == ["carol", "alice", "bob"]
    assert [u.id for u in matching("l", room)] == ["alice", "carol"]  # Liddell first: a word
    assert [u.id for u in matching("b", room)] == ["bob"]
    assert matching("", room, exclude="alice") == [CAROL, BOB]


def _bid() -> str:
    return str(uuid.uuid4())


def _run(state: RoomState, op: CreateOp | UpdateOp, who: User) -> tuple[RoomState, object]:
    event = decide(state, op, Actor(who), 1000)
    return apply(state, event), event  # type: ignore[arg-type]


def _state() -> RoomState:
    state, _ = _run(
        RoomState(room="r"),
        CreateOp(broadcastId=_bid(), chat=NewChat(id="c1", x=1, y=1, text="x")),
        ALICE,
    )
    reply = AddComment(comment=NewComment(id="k1", text="me too"))
    state, _ = _run(state, UpdateOp(broadcastId=_bid(), chatId="c1", change=reply), BOB)
    return state


def test_notices_for_mentions_and_replies_in_threads_you_took_part_in() -> None:
    state = _state()
    # Carol replies on Alice's marker (Bob replied there too): both hear of it.
    reply = AddComment(comment=NewComment(id="k2", text="agreed"))
    state, event = _run(state, UpdateOp(broadcastId=_bid(), chatId="c1", change=reply), CAROL)
    assert [(n.kind, n.author.id) for n in notices([event], state, "alice")] == [("reply", "carol")]
    assert [n.kind for n in notices([event], state, "bob")] == ["reply"]
    assert notices([event], state, "carol") == []  # your own words never notify you
    assert notices([event], state, "dave") == []  # not your thread, not your name
    # A new marker mentioning Dave tells Dave, and only him.
    op = CreateOp(broadcastId=_bid(), chat=NewChat(id="c2", x=2, y=2, text="@dave look"))
    state, event = _run(state, op, CAROL)
    (notice,) = notices([event], state, "dave")
    assert notice.kind == "mention" and notice.summary == "Carol mentioned you on #2: @dave look"
    assert notices([event], state, "alice") == []
    # An edit that adds a mention tells them; a resolve tells nobody.
    edit = EditComment(commentId="k2", text="agreed, @DAVE?")
    state, event = _run(state, UpdateOp(broadcastId=_bid(), chatId="c1", change=edit), CAROL)
    assert [n.kind for n in notices([event], state, "dave")] == ["mention"]
    state, event = _run(state, UpdateOp(broadcastId=_bid(), chatId="c1", change=Resolve()), CAROL)
    assert notices([event], state, "alice") == []
    assert touched([event], "alice") == {"c1"}


def test_touched_leaves_out_your_own_markers_and_comments() -> None:
    state = RoomState(room="r")
    op = CreateOp(broadcastId=_bid(), chat=NewChat(id="c1", x=1, y=1, text="x"))
    state, mine = _run(state, op, ALICE)
    reply = AddComment(comment=NewComment(id="k1", text="y"))
    state, theirs = _run(state, UpdateOp(broadcastId=_bid(), chatId="c1", change=reply), BOB)
    assert touched([mine], "alice") == set()
    assert touched([theirs], "alice") == {"c1"}
    assert touched([theirs], "bob") == set()


def test_alerts_are_the_bell_and_a_desktop_notification_where_shown() -> None:
    kitty = {"TERM": "xterm-kitty"}
    assert alert_bytes("off", "t", "b", kitty) == ""
    assert alert_bytes("bell", "t", "b", kitty) == "\a"
    assert alert_bytes("auto", "t", "b", kitty) == "\a\x1b]9;t: b\x1b\\"
    assert alert_bytes("auto", "t", "b", {"TERM": "foot"}) == "\a\x1b]777;notify;t;b\x1b\\"
    assert alert_bytes("auto", "t", "b", {"TERM": "xterm-256color"}) == "\a"
    assert desktop_protocol("auto", {"TERM": "xterm-kitty", "TMUX": "/tmp/x"}) is None
    # Hostile text cannot end the OSC early or add a field.
    hostile = alert_bytes("osc777", "t", "a;b\x1b\\\x07c", {})
    assert hostile.count("\x1b") == 2 and hostile.count(";") == 3 and hostile.count("\a") == 1


def test_an_unknown_alert_mode_is_one_line_and_exit_2(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from PIL import Image

    image = tmp_path / "shot.png"
    Image.new("RGB", (8, 8)).save(image)
    result = subprocess.run(
        [sys.executable, "-m", "imagechat_tui", str(image), "--alert", "loud"],
        capture_output=True,
        text=True,
        env={**os.environ, "IMAGECHAT_HOME": str(tmp_path / "home")},
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "imagechat-tui: --alert must be one of auto, bell, osc9, osc777, off."
    )


def test_a_mention_starts_where_github_starts_one() -> None:
    """GitHub counts only ASCII letters, digits and _ as word characters: after any
    other character an @ starts a mention, so é@bob pings bob there, and here."""
    assert mentioned("é@bob 日本@carol (@dave) «@erin»") == {"bob", "carol", "dave", "erin"}
    assert mentioned("bob@example.com a_@x 9@y") == set()
    assert typing_mention("é@al") == "al"


_TEXT = st.lists(
    st.sampled_from(["@", "bob", "Al-1", ".", "_", "é", "日本", " ", "(", "x@y", "-", "+", "9"]),
    max_size=12,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_the_app_and_the_export_share_githubs_rule(text: str) -> None:
    """Wherever GitHub's mention filter (tests/export/github.py) starts a mention, the
    app sees one: starting there, or one whose id runs through it (the app's ids may
    hold more than GitHub's: ``@bobé`` is bobé here, ``@bob@@x`` is bob@@x), and every
    mention the app sees of an ASCII id lies in a run the Markdown export makes inert
    (one rule: imagechat_tui/mention_syntax.py)."""
    from imagechat_tui.mention_syntax import ADDRESS_RUN, MENTION
    from tests.export.github import MENTION as GITHUB

    app = [m.span() for m in MENTION.finditer(text)]
    for g in GITHUB.finditer(text):
        at = g.start(1) - 1
        assert any(a <= at < b for a, b in app), (text, at)
    runs = [m.span() for m in ADDRESS_RUN.finditer(text)]
    for m in MENTION.finditer(text):
        if m.group(1).isascii():
            assert any(a <= m.start() and m.end() <= b for a, b in runs), text
