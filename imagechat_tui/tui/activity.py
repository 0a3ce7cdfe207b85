"""What others do that concerns you: notifications, alerts when the terminal is not
focused, and markers with activity you have not seen yet.

``Review.received`` decides which markers have unseen activity and which remote
events concern you (the rules are ``client.mentions``); the app hands each notice to
``Activity.notify``. An alert goes out only while the terminal window is unfocused (Textual's focus reporting,
``App.app_focus``): the bell, and a desktop notification (OSC 9 or OSC 777) in the
terminals known to show one. ``--alert off`` turns alerts off; the notification inside
the app always shows.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

from imagechat_tui.client.mentions import Notice
from imagechat_tui.safe_text import inert

if TYPE_CHECKING:
    from textual.app import App

AlertMode = Literal["auto", "bell", "osc9", "osc777", "off"]
ALERT_MODES: Final[tuple[AlertMode, ...]] = ("auto", "bell", "osc9", "osc777", "off")
#: Terminals that show OSC 9 (iTerm2, WezTerm, Ghostty, kitty) or OSC 777 (foot, rxvt,
#: Konsole, VTE-based ones) as desktop notifications.
_OSC9_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "ghostty"})
_OSC777_TERMS = ("foot", "rxvt", "konsole")


def desktop_protocol(mode: AlertMode, env: Mapping[str, str]) -> Literal["osc9", "osc777"] | None:
    """Which desktop-notification escape to send in ``mode`` for this terminal."""
    if mode in ("osc9", "osc777"):
        return mode
    if mode != "auto":
        return None
    if env.get("TMUX"):
        return None  # tmux swallows both unless passthrough is set up; the bell goes through
    if env.get("TERM_PROGRAM") in _OSC9_PROGRAMS or env.get("TERM") == "xterm-kitty":
        return "osc9"
    if env.get("TERM", "").startswith(_OSC777_TERMS) or env.get("VTE_VERSION"):
        return "osc777"
    return None


def alert_bytes(mode: AlertMode, title: str, body: str, env: Mapping[str, str]) -> str:
    """The escape sequences for one alert (empty when ``mode`` is off)."""
    if mode == "off":
        return ""
    # Inside an OSC nothing may end it early: control characters are made visible and
    # ';' (OSC 777's separator) replaced; a leading digit could read as an OSC 9 sub-command.
    title, body = (inert(t).replace(";", ",") for t in (title, body))
    out = "\a"
    protocol = desktop_protocol(mode, env)
    if protocol == "osc9":
        out += f"\x1b]9;{'' if not body[:1].isdigit() else ' '}{title}: {body}\x1b\\"
    elif protocol == "osc777":
        out += f"\x1b]777;notify;{title};{body}\x1b\\"
    return out


class Activity:
    """The notices the review decided (``Review.received``), shown to the user: a
    notification in the app, and an alert while the terminal is not focused."""

    def __init__(self, app: App[Any], mode: AlertMode = "auto") -> None:
        self.app = app
        self.mode: AlertMode = mode
        self.shown: list[Notice] = []  # every notice notified, in order
        self.alerts: list[str] = []  # every alert written to the terminal

    def notify(self, notice: Notice) -> None:
        self.shown.append(notice)
        title = "Mention" if notice.kind == "mention" else "Reply"
        self.app.notify(inert(notice.summary), title=title, timeout=8)
        if not self.app.app_focus:
            self.alert(title, notice.summary)

    def alert(self, title: str, body: str) -> None:
        data = alert_bytes(self.mode, f"imagechat {title}", body, os.environ)
        if not data:
            return
        self.alerts.append(data)
        driver = self.app._driver  # Textual has no public raw-write API (App.bell uses it)
        if driver is not None and not self.app.is_headless:
            driver.write(data)
