"""A TCP relay in front of a real PostgreSQL that can cut a connection at its next COMMIT.

Fault injection without mocks: asyncpg and PostgreSQL both run for real, only the wire
between them is cut, at the one moment that matters:

- ``arm("before")``: the connection is cut as COMMIT is sent, before PostgreSQL sees it
  (the transaction is rolled back: nothing stored);
- ``arm("after")``: COMMIT reaches PostgreSQL, which commits and answers; the answer is
  dropped and the connection cut (stored, but the client cannot know).

``accepting = False`` makes new connections fail at once, as if PostgreSQL were down.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

#: The simple-protocol query message asyncpg sends for ``Transaction.commit()``.
COMMIT_QUERY = b"Q\x00\x00\x00\x0cCOMMIT;\x00"
#: PostgreSQL's CommandComplete for it.
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"


class CommitCutter:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.accepting = True
        self.refused = 0  # connections refused while not accepting
        self.cut = asyncio.Event()  # set once an armed cut happened
        self._armed: Literal["before", "after"] | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def url(self, database_url: str) -> str:
        """``database_url`` (a database on the target) reached through the relay."""
        database = database_url.rsplit("/", 1)[1]
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def arm(self, when: Literal["before", "after"]) -> None:
        self._armed = when
        self.cut.clear()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if not self.accepting:
            self.refused += 1
            client_w.transport.abort()
            return
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_w, server_w}
        drop_answer = asyncio.Event()

        def cut() -> None:
            self._armed = None
            client_w.transport.abort()
            server_w.transport.abort()
            self.cut.set()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                if self._armed is not None and COMMIT_QUERY in data:
                    if self._armed == "before":
                        cut()
                        return
                    self._armed = None  # this connection's COMMIT only
                    drop_answer.set()
                server_w.write(data)
                await server_w.drain()

        async def downstream() -> None:
            while data := await server_r.read(65536):
                if drop_answer.is_set() and COMMIT_DONE in data:
                    cut()  # PostgreSQL has committed: the client never hears of it
                    return
                client_w.write(data)
                await client_w.drain()

        tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
        self._tasks.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                self._tasks.discard(task)
            for writer in (client_w, server_w):
                writer.transport.abort()
                self._writers.discard(writer)
