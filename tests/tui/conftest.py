from __future__ import annotations

import pytest

from imagechat_tui.client.loopback import LoopbackRoom
from tests.tui.helpers import ROOM


@pytest.fixture
def room() -> LoopbackRoom:
    """The test room served in memory by the real rules (no socket)."""
    return LoopbackRoom(ROOM)
