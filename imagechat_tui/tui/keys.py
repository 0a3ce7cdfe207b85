"""Every key the app answers, read from the bindings themselves, grouped by where it works.

The help screen, the command palette and the README's key table all come from here, so
none of them is a hand-copied key list that can drift: a binding added, changed or
remapped (keymap) shows up in all three. A binding is listed when it has an ``id`` (the
app's own bindings do; Textual's built-in text-editing keys do not). The row's text is
the binding's ``tooltip`` (a sentence) or else its ``description`` (the footer label).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.screen import Screen


@dataclass(frozen=True, slots=True)
class Place:
    """Where keys work: a title and the widget (CSS selector) holding their bindings."""

    title: str
    selector: str | None  # None: the app itself (everywhere)


#: In the order the help shows them.
PLACES: tuple[Place, ...] = (
    Place("Everywhere (not while writing)", None),
    Place("On the image", "#image"),
    Place("In the marker list", "#markers"),
    Place("In the thread", "#thread"),
    Place("Writing a comment", "#compose"),
)


@dataclass(frozen=True, slots=True)
class KeyRow:
    keys: tuple[str, ...]  # as displayed: "?", "←", "^p"
    text: str
    action: str
    binding_id: str | None


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    rows: tuple[KeyRow, ...]


def rows_of(bindings: BindingsMap | Iterable[Binding], display: App[Any]) -> list[KeyRow]:
    """The listed bindings (those with an id) as rows, keys of one action joined."""
    found: dict[tuple[str, str], list[str]] = {}
    found_action: dict[str, str] = {}
    ids: dict[tuple[str, str], str | None] = {}
    items = (
        [b for group in bindings.key_to_bindings.values() for b in group]
        if isinstance(bindings, BindingsMap)
        else list(bindings)
    )
    for binding in items:
        if binding.id is None or binding.system:
            continue
        text = binding.tooltip or binding.description
        # One row per text: the four arrows that "Move the crosshair" share it.
        row_key = (found_action.setdefault(text, binding.action), text)
        keys = found.setdefault(row_key, [])
        shown = display.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)
        ids.setdefault(row_key, binding.id)
    return [
        KeyRow(tuple(keys), text, action, ids[(action, text)])
        for (action, text), keys in found.items()
    ]


def palette_row(app: App[Any]) -> KeyRow:
    """The command palette's key, from the app's own setting."""
    binding = Binding(app.COMMAND_PALETTE_BINDING, "command_palette", "Commands")
    return KeyRow(
        (app.COMMAND_PALETTE_DISPLAY or app.get_key_display(binding),),
        "Command palette: every action by name, with its key",
        "command_palette",
        "app.palette",
    )


def keymapped_bindings(app: App[Any], node: DOMNode) -> BindingsMap:
    """The node's bindings with the app's keymap applied (as Textual applies it)."""
    bindings = node._bindings.copy()
    if app._keymap:
        bindings.apply_keymap(app._keymap)
    return bindings


def _node(app: App[Any], screen: Screen[Any] | None, place: Place) -> DOMNode:
    if place.selector is None:
        return app
    return (screen or app.screen).query_one(place.selector)


def live_sections(app: App[Any], screen: Screen[Any] | None = None) -> list[Section]:
    """The keys of the running app (its keymap applied), by place; ``screen`` is the
    one holding the widgets (the current one by default)."""
    sections = []
    for place in PLACES:
        node = _node(app, screen, place)
        rows = rows_of(keymapped_bindings(app, node), app)
        if place.selector is None:
            rows.append(palette_row(app))
        sections.append(Section(place.title, tuple(rows)))
    return sections


def live_bindings(app: App[Any], screen: Screen[Any] | None = None) -> list[tuple[DOMNode, KeyRow]]:
    """Each row with the node whose action it runs (for the command palette)."""
    found: list[tuple[DOMNode, KeyRow]] = []
    for place in PLACES:
        node = _node(app, screen, place)
        found.extend((node, row) for row in rows_of(keymapped_bindings(app, node), app))
    return found


def markdown_table(sections: Sequence[Section]) -> str:
    """The README's key table."""
    lines = ["| Where | Keys | What |", "|---|---|---|"]
    for section in sections:
        for number, row in enumerate(section.rows):
            keys = " ".join(f"`{_md(key)}`" for key in row.keys)
            where = f"**{section.title}**" if number == 0 else ""
            lines.append(f"| {where} | {keys} | {_md(row.text)} |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")
