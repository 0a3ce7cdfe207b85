"""Who I am on each server: my display name and my tokens, kept between runs.

One JSON file in the user's config directory (``IMAGECHAT_HOME/config`` when that is
set), readable by its owner only (0600): it holds bearer tokens. Keyed by the server's
HTTP base; a token is for one room (from an invite) or for the whole server (``*``).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from imagechat_tui.paths import config_dir

ANY_ROOM = "*"


@dataclass
class ServerAccount:
    name: str | None = None
    tokens: dict[str, str] = field(default_factory=dict)  # room (or "*") -> token

    def token_for(self, room: str) -> str | None:
        return self.tokens.get(room) or self.tokens.get(ANY_ROOM)


class Accounts:
    """``accounts.json``: ``{"name": ..., "servers": {base: {"name", "tokens"}}}``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "accounts.json"
        self.default_name: str | None = None
        self.servers: dict[str, ServerAccount] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            raise ValueError(f"Cannot read {self.path}: {exc}; fix or delete it.") from None
        self.default_name = data.get("name")
        for base, entry in dict(data.get("servers", {})).items():
            self.servers[base] = ServerAccount(
                name=entry.get("name"), tokens=dict(entry.get("tokens", {}))
            )

    def server(self, base: str) -> ServerAccount:
        return self.servers.setdefault(base, ServerAccount())

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "name": self.default_name,
            "servers": {
                base: {"name": a.name, "tokens": a.tokens} for base, a in self.servers.items()
            },
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        # Created 0600 from the start: the tokens are never readable by others, not even
        # for a moment.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)
