"""Unsent text, kept per marker until it is sent or discarded on purpose.

``Drafts`` maps a draft's key (``new`` for a new marker, ``reply:CHAT`` for a reply to
a marker, ``edit:COMMENT`` for an edit) to its text. With a path it is also a file
(mode 0600, in the data directory, one per server and room), written on every change,
so a draft survives a reconnect and, on the same machine, a restart of the app.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from imagechat_tui.paths import data_home


def draft_file(server_url: str, room: str) -> Path:
    """Where the drafts of ``room`` on ``server_url`` are kept on this machine."""
    name = hashlib.sha256(f"{server_url}\n{room}".encode()).hexdigest()[:32]
    return data_home() / "drafts" / f"{name}.json"


class Drafts:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._texts: dict[str, str] = {}
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text("utf-8"))
                if isinstance(loaded, dict):
                    self._texts = {str(k): str(v) for k, v in loaded.items() if v}

    def get(self, key: str) -> str | None:
        return self._texts.get(key)

    def keep(self, key: str, text: str) -> None:
        """Keep ``text`` under ``key`` (empty text: nothing to keep, the key goes)."""
        if text.strip():
            self._texts[key] = text
        else:
            self._texts.pop(key, None)
        self._save()

    def drop(self, key: str) -> None:
        if self._texts.pop(key, None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self._texts, out)
            tmp.replace(self.path)
        except OSError:
            pass  # kept in memory still; the file is a convenience across restarts
