"""Numbered schema migrations, one ``.sql`` file each, per SQL dialect.

``sql/<dialect>/0001_initial.sql``, ``0002_....sql`` and so on: a migration's number is
its file's, and the numbers run from 1 with no hole. Each storage applies the ones its
database has not seen yet, in one transaction each.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@functools.cache
def migrations(dialect: str) -> tuple[str, ...]:
    """The migration scripts of ``dialect`` ("sqlite" or "postgres"), in order."""
    folder = resources.files("imagechat_tui.server.storage").joinpath("sql", dialect)
    numbered: dict[int, str] = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match is None:
            continue
        number = int(match.group(1))
        if number in numbered:
            raise RuntimeError(f"two {dialect} migrations numbered {number}")
        numbered[number] = entry.read_text(encoding="utf-8")
    if sorted(numbered) != list(range(1, len(numbered) + 1)):
        raise RuntimeError(f"{dialect} migrations must be numbered 1..n: {sorted(numbered)}")
    return tuple(numbered[n] for n in sorted(numbered))


def latest_version(dialect: str) -> int:
    return len(migrations(dialect))
