"""Server processes for the multi-node tests (PostgreSQL and Redis: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.scale.nodes import Node
from tests.services import Redis


@pytest.fixture
def spawn_node(home: Path, pg_url: str, redis_server: Redis) -> Iterator[Callable[..., Node]]:
    """Start server processes against this test's PostgreSQL database and Redis."""
    started: list[Node] = []

    def spawn(**env: str) -> Node:
        node = Node(home, pg_url, redis_server.url, **env)
        started.append(node)
        return node

    yield spawn
    for node in started:
        node.stop()
