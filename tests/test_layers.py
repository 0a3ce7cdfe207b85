"""The floors of the package: nothing below the terminal UI imports it. Read from the
source (every import statement, lazy ones inside functions and TYPE_CHECKING ones too)."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import imagechat_tui

PACKAGE = "imagechat_tui"
UI = f"{PACKAGE}.tui"
#: The entry points above every floor: they choose what to run, the UI included.
TOP = {f"{PACKAGE}.cli", f"{PACKAGE}.entry", f"{PACKAGE}.__main__"}


def _modules() -> dict[str, Path]:
    root = Path(imagechat_tui.__file__).parent
    found = {PACKAGE: root / "__init__.py"}
    for info in pkgutil.walk_packages([str(root)], prefix=f"{PACKAGE}."):
        relative = Path(*info.name.split(".")[1:])
        path = root / relative / "__init__.py" if info.ispkg else root / f"{relative}.py"
        found[info.name] = path
    return found


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, absolute (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _is_ui(module: str) -> bool:
    return module == UI or module.startswith(f"{UI}.")


def test_the_walk_sees_the_whole_package() -> None:
    modules = _modules()
    assert {f"{PACKAGE}.client.target", f"{PACKAGE}.export.command", f"{UI}.app"} <= set(modules)
    assert all(path.is_file() for path in modules.values())
    # The walk would see an import of the UI: the entry point does import it.
    assert any(_is_ui(m) for m in _imports(f"{PACKAGE}.cli", modules[f"{PACKAGE}.cli"]))


def test_no_module_below_the_ui_imports_it() -> None:
    offenders = {
        name: sorted(m for m in _imports(name, path) if _is_ui(m))
        for name, path in _modules().items()
        if not _is_ui(name) and name not in TOP
    }
    assert {name: found for name, found in offenders.items() if found} == {}


#: The pure core: the rules and the data, no I/O (the server, the app and the tests share it).
CORE = {
    f"{PACKAGE}.{name}"
    for name in (
        "protocol",
        "model",
        "replica",
        "policy",
        "positions",
        "safe_text",
        "mention_syntax",
        "backoff",
    )
}
#: The review core (client/review.py and the client modules it stands on): no screen, no
#: socket, so the review is tested with neither.
REVIEW = {
    f"{PACKAGE}.client.{name}"
    for name in ("review", "session", "link", "undo", "mentions", "drafts")
}
#: What a module doing no I/O of its own never imports.
IO = ("textual", "rich", "websockets", "asyncio", "sqlite3", "psycopg", "redis", "httpx")


def _ours(names: set[str]) -> set[str]:
    """The package's modules among ``names`` (an import of a function names its module)."""
    modules = _modules()
    return {n for n in names if n in modules and n != PACKAGE}


def _io(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in IO}


def test_the_pure_core_imports_only_itself_and_no_io() -> None:
    modules = _modules()
    found = {name: _imports(name, modules[name]) for name in CORE}
    assert {n: sorted(_ours(i) - CORE) for n, i in found.items() if _ours(i) - CORE} == {}
    assert {n: sorted(_io(i)) for n, i in found.items() if _io(i)} == {}


def test_the_review_core_needs_no_screen_and_no_socket() -> None:
    modules = _modules()
    found = {name: _imports(name, modules[name]) for name in REVIEW}
    allowed = CORE | REVIEW | {f"{PACKAGE}.paths"}
    assert {n: sorted(_ours(i) - allowed) for n, i in found.items() if _ours(i) - allowed} == {}
    assert {n: sorted(_io(i)) for n, i in found.items() if _io(i)} == {}
