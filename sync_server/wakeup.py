"""Waking the streams of this process when something they watch has moved."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class Wakeup:
    """Every waiter wakes at each :meth:`notify`. Cancelling a waiter (a stream whose client went
    away) is safe, which ``asyncio.Condition.wait_for`` under ``wait_for`` is not on Python 3.11:
    it can raise "Lock is not acquired" while unwinding."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        moved, self._event = self._event, asyncio.Event()
        moved.set()

    async def wait_until(self, ready: Callable[[], bool], timeout_s: float) -> None:
        """Return once ``ready()`` holds (checked at each notify), or after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not ready():
            left = deadline - loop.time()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout=left)
