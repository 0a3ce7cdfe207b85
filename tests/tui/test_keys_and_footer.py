"""Help, palette, footer and the keys a reviewer expects, driven by Pilot against a real
server: everything shown about keys comes from the bindings, the footer offers what
applies now, and the habits of other terminal apps work (j/k, g/G, escape, q asks)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from imagechat_tui.protocol import PRESENCE_NAMED
from imagechat_tui.server.node import RunningServer, ServerConfig, start_server
from imagechat_tui.tui.app import ImageChatApp
from imagechat_tui.tui.keys import live_sections, markdown_table
from imagechat_tui.tui.widgets.app_footer import AppFooter
from imagechat_tui.tui.widgets.comment_input import CommentInput
from imagechat_tui.tui.widgets.dialogs import ConfirmScreen
from imagechat_tui.tui.widgets.help_screen import HelpScreen
from imagechat_tui.tui.widgets.image_view import ImageView
from imagechat_tui.tui.widgets.marker_list import MarkerList
from imagechat_tui.tui.widgets.pointer_status import PointerStatus
from imagechat_tui.tui.widgets.thread_view import ThreadView
from tests.tui.demo import DemoApp
from tests.tui.helpers import (
    ROOM,
    Reviewing,
    make_app,
    running,
    token_dialog_shown,
    until,
)
from tests.wsclient import WsClient

SIZE = (120, 36)
README = Path(__file__).resolve().parents[2] / "README.md"


def shown_keys(node: Widget | Screen[object]) -> list[FooterKey]:
    """The footer keys shown (the footer's key widgets it does not use now are empty)."""
    return [key for key in node.query(FooterKey) if key.display and key.action]


def footer_keys(app: ImageChatApp) -> dict[str, FooterKey]:
    return {key.action: key for key in shown_keys(app.screen)}


def help_text(screen: HelpScreen) -> str:
    return "\n".join(
        f"{section.title}: " + "; ".join(f"{' '.join(r.keys)} {r.text}" for r in section.rows)
        for section in screen.sections
    )


async def test_help_lists_every_binding_with_an_id_by_where_it_works() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        listed = {row.binding_id for section in app.screen.sections for row in section.rows}
        base = app.screen_stack[0]
        for node in (app, *(base.query_one(s) for s in ("#image", "#markers", "#thread"))):
            for bindings in node._bindings.key_to_bindings.values():
                for binding in bindings:
                    if binding.id and not binding.system:
                        text = binding.tooltip or binding.description
                        assert text in help_text(app.screen), binding.id
        assert {"app.help", "app.quit", "view.sidebar", "room.who", "list.down"} <= listed
        titles = [section.title for section in app.screen.sections]
        assert titles[:4] == [
            "Everywhere (not while writing)",
            "On the image",
            "In the marker list",
            "In the thread",
        ]
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_remapped_key_shows_in_the_help_and_works() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_keymap({"view.sidebar": "B"})
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "B Hide or show the sidebar" in help_text(app.screen)
        await pilot.press("escape", "B")
        assert not app.query_one("#sidebar").display


async def test_the_help_lists_the_composers_send_and_newline_keys() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        (writing,) = [s for s in app.screen.sections if s.title == "Writing a comment"]
        rows = {row.binding_id: row.keys for row in writing.rows}
        assert rows["compose.send"] == ("⏎",)
        assert rows["compose.newline"] == ("^j", "alt+⏎", "shift+⏎")
        assert "compose.cancel" in rows


async def test_a_remapped_send_key_sends_and_enter_then_starts_a_line(alice: Reviewing) -> None:
    app, pilot, bob = alice
    app.set_keymap({"compose.send": "ctrl+s"})
    await pilot.press("n")
    compose = app.query_one(CommentInput)
    await until(pilot, lambda: compose.display)
    assert compose.border_subtitle.startswith("^s send")  # the hint follows the keymap
    await pilot.press(*"one", "enter", *"two")
    assert compose.value == "one\ntwo" and compose.display  # enter no longer sends
    await pilot.press("ctrl+s")
    await until(pilot, lambda: len(bob.replica.view.chats) == 1)
    (chat,) = bob.replica.view.chats.values()
    assert chat.comments[0].text == "one\ntwo"


async def test_the_readme_key_table_is_the_bindings() -> None:
    """The table between the markers in README.md is generated (scripts/readme_keys.py)."""
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)):
        table = markdown_table(live_sections(app))
    readme = README.read_text("utf-8")
    found = re.search(r"<!-- keys:start -->\n(.*?)<!-- keys:end -->", readme, re.DOTALL)
    assert found is not None, "README.md lacks the generated key table"
    assert found.group(1) == table, "run: python scripts/readme_keys.py"


async def test_the_palette_shows_each_actions_key() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"sidebar")
        palette = app.screen
        await until(pilot, lambda: "key: b" in _palette_text(palette))
        await pilot.press("enter")
        await until(pilot, lambda: not app.query_one("#sidebar").display)


def _palette_text(palette: object) -> str:
    from textual.widgets import OptionList

    options = palette.query_one(OptionList)  # type: ignore[attr-defined]
    return "\n".join(
        str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
    )


@pytest.mark.app(size=(100, 30))
async def test_footer_offers_what_applies_and_keeps_help_and_quit_at_100_columns(
    alice: Reviewing,
) -> None:
    app, pilot, bob = alice
    # Connected, and the footer laid out since it recomposed for that (its new keys
    # have no region until the next layout, which a loaded machine shows late).
    await until(
        pilot,
        lambda: (
            "retry" not in (keys := footer_keys(app))
            and any(key.region.width for key in keys.values())
        ),
    )
    keys = footer_keys(app)
    assert "reply" not in keys and "edit" not in keys  # nothing selected
    for action in ("help", "quit"):
        region = keys[action].region
        assert region.width > 0 and region.right <= 100, action
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.link.replica.view.chats)
    await pilot.press("right_square_bracket")
    await until(pilot, lambda: "reply" in footer_keys(app))
    resolve = [k for k in shown_keys(app.screen) if k.action.startswith("set_resolved")]
    assert [k.description for k in resolve] == ["Resolve"]
    await pilot.press("s")
    await until(pilot, lambda: app.link.replica.view.chats[chat_id].resolved)
    await until(
        pilot,
        lambda: (
            [k.description for k in shown_keys(app.screen) if k.action.startswith("set_resolved")]
            == ["Reopen"]
        ),
    )
    for action in ("help", "quit"):
        assert footer_keys(app)[action].region.right <= 100


async def test_view_toggles_are_shown_and_brackets_follow_the_filter(alice: Reviewing) -> None:
    app, pilot, bob = alice
    first = bob.create(20.0, 20.0, "open one")
    second = bob.create(40.0, 40.0, "to resolve")
    third = bob.create(60.0, 60.0, "open too")
    await until(pilot, lambda: len(app.link.replica.view.chats) == 3)
    app.workspace.select(second)
    await pilot.press("s")
    await until(pilot, lambda: app.link.replica.view.chats[second].resolved)
    view_state = app.query_one("#view-state")
    await pilot.press("v")
    assert "resolved pins hidden" in str(view_state.render())
    await pilot.press("v")
    assert str(view_state.render()) == ""

    # f works from the image (global), and [ ] stay within the filter.
    assert app.focused is app.query_one(ImageView)
    await pilot.press("f", "f")  # all -> open -> resolved
    markers = app.query_one(MarkerList)
    assert markers.filter == "resolved" and markers.chat_ids == [second]
    app.workspace.select(None)
    await pilot.press("right_square_bracket")
    assert app.selected == second
    await pilot.press("right_square_bracket")
    assert app.selected == second  # the open markers are not in the list
    await pilot.press("f")  # all
    await pilot.press("right_square_bracket")
    assert app.selected == third
    assert first in app.link.replica.view.chats


async def test_an_empty_room_offers_no_prev_next_until_its_first_marker(
    alice: Reviewing,
) -> None:
    """`[ Prev` `] Next` do nothing while no marker is listed: not offered then (footer,
    palette); the first marker, someone else's, brings them (the footer changes in place)."""
    app, pilot, bob = alice
    await until(pilot, lambda: "place" in footer_keys(app))
    assert not {"select_step(-1)", "select_step(1)"} & set(footer_keys(app))
    assert not app.check_action("select_step", (1,))
    chat_id = bob.create(30.0, 30.0, "from bob")
    await until(pilot, lambda: chat_id in app.query_one(MarkerList).chat_ids)
    await until(pilot, lambda: "select_step(1)" in footer_keys(app))
    assert "select_step(-1)" in footer_keys(app)
    assert app.check_action("select_step", (1,))


@pytest.mark.app(size=(60, 20))
async def test_sidebar_key_lists_jk_gG_and_escape_to_the_image(alice: Reviewing) -> None:
    app, pilot, bob = alice
    ids = [bob.create(10.0 * n, 10.0 * n, f"marker {n}") for n in range(1, 5)]
    await until(pilot, lambda: len(app.link.replica.view.chats) == 4)
    image = app.query_one(ImageView)
    sidebar = app.query_one("#sidebar")
    full_width = image.size.width
    await pilot.press("b")
    assert not sidebar.display
    await until(pilot, lambda: image.size.width == 60)
    assert "sidebar hidden" in str(app.query_one("#view-state").render())
    await pilot.press("b")
    assert sidebar.display
    await until(pilot, lambda: image.size.width == full_width)

    markers = app.query_one(MarkerList)
    markers.focus()
    await pilot.press("j")
    assert markers.highlighted_chat == ids[0]
    await pilot.press("j", "j")
    assert markers.highlighted_chat == ids[2]
    await pilot.press("k")
    assert markers.highlighted_chat == ids[1]
    await pilot.press("G")
    assert markers.highlighted_chat == ids[3]
    await pilot.press("g")
    assert markers.highlighted_chat == ids[0]
    await pilot.press("enter")
    assert app.focused is app.query_one(ThreadView)
    await pilot.press("escape")
    assert app.focused is image


async def test_q_with_an_unsent_comment_asks_first(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await pilot.press("n", *"half a thought")
    app.query_one(MarkerList).focus()  # the draft stays open, focus elsewhere
    await pilot.press("q")
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.press("enter")  # the default is Cancel
    assert not isinstance(app.screen, ConfirmScreen)
    assert app.is_running and app.query_one("#compose").display
    await pilot.press("q", "y")
    await until(pilot, lambda: not app.is_running)


async def test_under_a_dialog_the_footer_shows_the_dialogs_keys(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await until(pilot, lambda: "place" in footer_keys(app))  # n is New marker here
    await pilot.press("n", *"half a thought")
    app.query_one(MarkerList).focus()
    await pilot.press("q")
    assert isinstance(app.screen, ConfirmScreen)
    await pilot.pause()
    # What shows at the bottom is the dialog's footer: n is Cancel there, not New marker.
    shown = {key.key: key.description for key in app.screen.query(FooterKey)}
    assert shown.get("n") == "Cancel" and shown.get("y") == "Yes"
    assert "New marker" not in shown.values()
    await pilot.press("n")
    assert not isinstance(app.screen, ConfirmScreen)


async def test_who_is_viewing_by_name_on_demand(alice: Reviewing) -> None:
    app, pilot, _bob = alice
    await until(
        pilot,
        lambda: app.link.presence is not None and len(app.link.presence.viewers) == 2,
    )
    await pilot.press("w")
    await until(pilot, lambda: bool(app._notifications))
    shown = list(app._notifications)[-1]
    assert shown.title == "Viewing now (2)"
    assert "alice" in shown.message and "bob" in shown.message


@pytest.mark.app(link="server")
async def test_who_in_a_room_past_50_viewers_asks_the_server_for_names(
    server: RunningServer, mint_token: Callable[..., str], alice: Reviewing
) -> None:
    """Past PRESENCE_NAMED viewers presence is the count alone: `w` asks (`who`) and
    shows the names the server answers with."""
    app, pilot, _bob = alice
    crowd = [
        (await WsClient.joined(server.url, mint_token(f"viewer-{i:02}"), room=ROOM))[0]
        for i in range(PRESENCE_NAMED)
    ]
    total = PRESENCE_NAMED + 2
    await until(
        pilot,
        lambda: app.link.presence is not None and app.link.presence.count == total,
    )
    assert app.link.presence is not None and app.link.presence.viewers == ()
    await pilot.press("w")
    await until(pilot, lambda: bool(app._notifications))
    shown = list(app._notifications)[-1]
    assert shown.title == f"Viewing now ({total})"
    assert "alice" in shown.message and "bob" in shown.message
    assert "viewer-00" in shown.message and "viewer-49" in shown.message
    assert "more" not in shown.message
    for client in crowd:
        await client.close()


def status(app: ImageChatApp) -> str:
    return str(app.query_one("#status").render())


async def test_offline_messages_clear_when_the_link_is_back(
    home: Path, mint_token: Callable[..., str]
) -> None:
    first = await start_server(ServerConfig(port=0, home=home))
    port = first.port
    app = make_app(first.url, mint_token("alice"))
    async with running(app, SIZE) as pilot:
        await until(pilot, lambda: "retry" not in footer_keys(app))  # the footer follows
        await first.close()
        await until(pilot, lambda: not app.link.connected)
        await until(pilot, lambda: "retry" in footer_keys(app))  # offered while down
        assert "place" not in footer_keys(app)  # offline: no new marker offered
        await pilot.press("R")  # "Retrying now…": an offline message, cleared once back
        assert status(app).startswith("Retrying")
        second = await start_server(ServerConfig(port=port, home=home))
        try:
            await pilot.press("R")
            await until(pilot, lambda: app.link.connected)
            await until(pilot, lambda: status(app) == "")
            await until(pilot, lambda: "retry" not in footer_keys(app))
        finally:
            await second.close()


async def test_token_expired_clears_once_a_new_token_works(
    start: Callable[..., object], mint_token: Callable[..., str]
) -> None:
    server: RunningServer = await start(reverify_interval=0.2)  # type: ignore[misc]
    app = make_app(server.url, mint_token("alice", ttl_seconds=2))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: token_dialog_shown(app))
        assert "expired" in status(app)
        app.screen.query_one(Input).value = mint_token("alice")
        await pilot.press("enter")
        await until(pilot, lambda: app.link.connected)
        await until(pilot, lambda: "expired" not in status(app))
        assert status(app) == ""


#: Each mode at 80x24 (the keys to get there from the demo state) and a key only it offers.
MODES_AT_80 = {
    "image": ("main", [], "place"),
    "list": ("main", ["tab"], "choose"),
    "thread": ("main", ["tab", "tab"], "edit"),
    "composer": ("main", ["r"], "send"),
    "region": ("main", ["a", "right"], "finish_region"),
    "move": ("main", ["m"], "cancel_move"),
    "offline": ("offline", [], "retry"),
}


@pytest.mark.parametrize("mode", list(MODES_AT_80))
async def test_the_footer_at_80_columns_is_whole_and_of_its_mode(mode: str) -> None:
    """No key cut by the pinned palette / help / quit ("[ Pr▏^p palette"), and each mode
    offers its own keys, not the image's in every mode."""
    state, press, own = MODES_AT_80[mode]
    app = DemoApp(state)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*press)
        await until(pilot, lambda: own in footer_keys(app) and app.workspace.footer_mode() == mode)
        await until(pilot, lambda: all(k.region.width for k in footer_keys(app).values()))
        pinned = app.screen.query_one("#footer-pinned")
        keys = footer_keys(app)
        for action, key in keys.items():
            if key.parent is not pinned:
                assert key.region.right <= pinned.region.x, f"{action} cut at 80 columns"
        assert pinned.region.right <= 80
        assert "command_palette" in keys and "quit" in keys
        others = {key for m, (_, _, key) in MODES_AT_80.items() if m != mode} & set(keys)
        assert others <= ({"place"} if mode == "move" else set()), others  # enter: put it here


def _rows(app: ImageChatApp, top: int, bottom: int) -> list[str]:
    strips = app.screen._compositor.render_strips()
    return ["".join(strip.text) for strip in strips[top:bottom]]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_messages_are_whole_and_notifications_leave_the_status_bar_alone(
    size: tuple[int, int],
) -> None:
    """A refusal longer than the status line wraps ("Only its auth▌" was all of it at 80
    columns); a notification sits above the status bar, not over its right half."""
    app = DemoApp("main")
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.press("tab", "tab", "end", "up", "e")  # bob's comment: not alice's
        status = app.query_one("#status")
        await until(pilot, lambda: "Only its author" in str(status.render()))
        await pilot.pause()
        box = status.region
        rows = [row[box.x : box.right] for row in _rows(app, box.y, box.bottom)]
        words = " ".join(" ".join(rows).split())
        assert "Only its author or a moderator may change a comment." in words
        # As an activity notice is shown (tui/activity.py): where it sits is the CSS's.
        app.notify("bob replied on #1: a reply long enough to need the room", title="Reply")
        await until(pilot, lambda: bool(app.screen.query("Toast")))
        await pilot.pause()
        bar = app.query_one("#statusbar")
        for toast in app.screen.query("Toast"):
            assert toast.region.bottom <= bar.region.y, (toast.region, bar.region)


async def test_the_link_state_is_whole_at_80_columns_and_the_pointer_gives_way() -> None:
    """ "◌ Reconnecting (attempt 3, next try soon) · R retries now" and where the
    crosshair is took 81 cells: the pointer was cut ("815,6"). It gives way, and comes
    back where there is room."""
    app = DemoApp("reconnecting")
    async with app.run_test(size=(80, 24)) as pilot:
        bar = app.query_one("#statusbar")
        pointer = app.query_one(PointerStatus)
        await until(pilot, lambda: "R retries now" in _rows(app, bar.region.y, bar.region.y + 1)[0])
        await pilot.pause()
        (row,) = _rows(app, bar.region.y, bar.region.bottom)
        assert row.strip().endswith("R retries now"), row
        assert not pointer.display and "640,400" not in row
        await pilot.resize_terminal(120, 36)
        await until(pilot, lambda: pointer.display and pointer.region.width > 0)
        await pilot.pause()
        (row,) = _rows(app, bar.region.y, bar.region.bottom)
        assert "R retries now" in row and pointer.render_text() in row, row


async def test_the_footer_fits_again_when_the_terminal_narrows() -> None:
    app = DemoApp("main")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: "zoom" in " ".join(footer_keys(app)))
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: "zoom" not in " ".join(footer_keys(app)))
        await until(pilot, lambda: all(k.region.width for k in footer_keys(app).values()))
        pinned = app.screen.query_one("#footer-pinned")
        for key in footer_keys(app).values():
            if key.parent is not pinned:
                assert key.region.right <= pinned.region.x


def _width_is(widget: AppFooter, width: int) -> Callable[[], bool]:
    return lambda: widget.size.width == width


#: Keys that mean something only beside each other.
PAIRS = (("select_step(-1)", "select_step(1)"), ("zoom(1)", "zoom(-1)"))


@pytest.mark.parametrize(
    ("state", "press"), [("main", []), ("main", ["tab", "tab"]), ("offline", [])]
)
async def test_keys_that_go_in_pairs_are_shown_both_or_neither(
    state: str, press: list[str]
) -> None:
    """`[ Prev` without `] Next` (or `+ Zoom in` without `- Zoom out`) at some widths:
    every width from 80 to 130 columns shows both keys of a pair or neither. What is
    shown changes only where a key comes in (a key's right edge at the widest width, plus
    the pinned keys), so those widths and the one below each stand for all the others."""
    app = DemoApp(state)  # type: ignore[arg-type]
    async with app.run_test(size=(130, 24)) as pilot:
        await pilot.press(*press)
        footer = app.screen.query_one(AppFooter)

        def laid_out() -> bool:  # the mode's keys and the pinned ones, placed
            keys = shown_keys(footer)
            pinned = footer.query("#footer-pinned")
            return (
                bool(pinned)
                and pinned.first().region.width > 0
                and any(k.parent is not pinned.first() for k in keys)
                and all(k.region.width for k in keys)
            )

        await until(pilot, laid_out)
        pinned = footer.query_one("#footer-pinned")
        widest = footer_keys(app)
        edges = {  # a key fits while left of the pinned ones
            key.region.right + footer.region.right - pinned.region.x
            for key in widest.values()
            if key.parent is not pinned
        }
        widths = sorted({w + d for w in edges for d in (-1, 0)} & set(range(80, 131)))
        seen: dict[tuple[str, str], set[bool]] = {pair: set() for pair in PAIRS}
        for width in widths:
            await pilot.resize_terminal(width, 24)
            await until(pilot, _width_is(footer, width))
            await pilot.pause()  # its recompose for the new width
            keys = footer_keys(app)
            for pair in PAIRS:
                shown = [action in keys for action in pair]
                assert shown[0] == shown[1], (width, pair, list(keys))
                seen[pair].add(shown[0])
        # The edges were those of what this mode offers (not of a footer still settling).
        await pilot.resize_terminal(130, 24)
        await until(pilot, _width_is(footer, 130))
        await pilot.pause()
        assert footer_keys(app).keys() == widest.keys()
        # The widths cross the point where a pair comes in (else this proves nothing).
        assert any(both == {True, False} for both in seen.values()), seen
