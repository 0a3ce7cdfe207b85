"""Snapshots of the main states (regenerate with --snapshot-update after a deliberate change)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.tui.demo import DemoApp


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Comment times render in local time; pin it so snapshots match anywhere."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_main_view_with_markers_and_thread(snap_compare: object, size: tuple[int, int]) -> None:
    assert snap_compare(DemoApp("main"), terminal_size=size)  # type: ignore[operator]


def test_offline_banner(snap_compare: object) -> None:
    assert snap_compare(DemoApp("offline"), terminal_size=(120, 36))  # type: ignore[operator]


def test_reconnecting_indicator(snap_compare: object) -> None:
    assert snap_compare(DemoApp("reconnecting"), terminal_size=(120, 36))  # type: ignore[operator]


def test_comment_input_open(snap_compare: object) -> None:
    assert snap_compare(DemoApp("main"), press=["n"], terminal_size=(120, 36))  # type: ignore[operator]


MULTI_LINE = ["r", *"Two things:", "ctrl+j", *"1. the label", "alt+enter", *"2. the icon"]


def test_multi_line_comment_in_the_composer(snap_compare: object) -> None:
    assert snap_compare(DemoApp("main"), press=MULTI_LINE, terminal_size=(120, 36))  # type: ignore[operator]


def test_multi_line_comment_in_the_thread(snap_compare: object) -> None:
    # The thread focused, the highlight on alice's three-line comment (the last one).
    assert snap_compare(DemoApp("main"), press=["tab", "tab", "end"], terminal_size=(100, 30))  # type: ignore[operator]


def test_undo_notice_after_a_delete(snap_compare: object) -> None:
    # x on alice's own last comment: the status line says how to undo it (once: no toast).
    assert snap_compare(DemoApp("main"), press=["tab", "tab", "end", "x"], terminal_size=(120, 36))  # type: ignore[operator]


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_help_screen(snap_compare: object, size: tuple[int, int]) -> None:
    """Generated from the bindings; readable from 80x24 (it scrolls there)."""
    assert snap_compare(DemoApp("main"), press=["question_mark"], terminal_size=size)  # type: ignore[operator]


#: The footer in each mode at 80x24: what it offers there, and nothing cut mid-word.
FOOTER_MODES = {
    "image": ("main", []),
    "list": ("main", ["tab"]),
    "thread": ("main", ["tab", "tab"]),
    "composer": ("main", ["r"]),
    "region": ("main", ["a", "right", "right", "down"]),
    "move": ("main", ["m"]),
    "offline": ("offline", []),
}


@pytest.mark.parametrize("mode", list(FOOTER_MODES))
def test_the_footer_in_each_mode_at_80x24(snap_compare: object, mode: str) -> None:
    state, press = FOOTER_MODES[mode]
    assert snap_compare(DemoApp(state), press=press, terminal_size=(80, 24))  # type: ignore[arg-type,operator]
