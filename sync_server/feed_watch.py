"""Tells this process's gate event streams when the feed moves.

The truth is the database: each process polls the feed's head (one indexed row) and wakes its own
streams. Nothing lives only in one process's memory, so several processes on several machines
can share one PostgreSQL and serve the same gates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.orm import Session, sessionmaker

from sync_server.db import read_only
from sync_server.feed import current_seq
from sync_server.wakeup import Wakeup

log = logging.getLogger("entrix.server.feed")


class FeedWatch:
    def __init__(self, sessions: sessionmaker[Session], interval_s: float) -> None:
        self._sessions = sessions
        self._interval_s = interval_s
        self.head = 0
        self._moved = Wakeup()
        self._task: asyncio.Task[None] | None = None

    def _read_head(self) -> int:
        with self._sessions() as session:
            return current_seq(read_only(session))

    async def start(self) -> None:
        self.head = await asyncio.to_thread(self._read_head)
        self._task = asyncio.create_task(self._run(), name="feed-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                head = await asyncio.to_thread(self._read_head)
            except Exception:  # a database hiccup must not kill the watcher
                log.warning("cannot read the feed head; retrying", exc_info=True)
                continue
            if head != self.head:
                self.head = head
                self._moved.notify()

    async def wait_beyond(self, seq: int, timeout_s: float) -> int:
        """The head once it is beyond ``seq``, or the current head after ``timeout_s``."""
        await self._moved.wait_until(lambda: self.head > seq, timeout_s)
        return self.head
