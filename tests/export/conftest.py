from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.export.hostile_room import Seeded, seed


@pytest.fixture
async def hostile(server: Any, mint_token: Any, tmp_path: Path) -> Seeded:
    """The hostile room (``hostile_room``), on a real server."""
    return await seed(server, mint_token, tmp_path)
