"""Where imagechat-tui keeps its files: ``IMAGECHAT_HOME``, else the platform's data dir."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "imagechat-tui"


#: Where everything goes when set: data, ``cache/`` and ``config/`` under one directory.
HOME_ENV = "IMAGECHAT_HOME"


def configured_home() -> Path | None:
    """``IMAGECHAT_HOME``: the one place the environment is read for file locations."""
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser() if configured else None


def data_home() -> Path:
    """The data directory (database, tenant secrets, server logs); created on demand."""
    home = configured_home() or Path(platformdirs.user_data_dir(APP_NAME))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    return home


def cache_dir() -> Path:
    """Downloaded images; safe to delete at any time."""
    configured = configured_home()
    base = configured / "cache" if configured else Path(platformdirs.user_cache_dir(APP_NAME))
    base.mkdir(parents=True, exist_ok=True)
    return base


def config_dir() -> Path:
    """The user's own settings (accounts.json: names and tokens per server); 0700."""
    configured = configured_home()
    path = configured / "config" if configured else Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def default_database_url(home: Path | None = None) -> str:
    return f"sqlite:///{(home or data_home()) / 'imagechat.sqlite3'}"


#: ``/health`` answers with this header (``accepted``) when the request carries a token
#: the server accepts: how the app knows a server on its port shares its data directory
#: (and so its tenant secrets) without the server telling anyone which directory it is.
TOKEN_ACCEPTED_HEADER = "X-Imagechat-Token"
