"""Guessing limits per source address (issue 15): enrollment codes, device and user tokens.

Their key spaces make guessing them infeasible today; a limit costs nothing and keeps it so.
Each server process counts on its own (a few workers multiply the allowance by a few), in
memory, with a bounded table: an address that fails more than ``limit`` times in a window is
refused with 429 and ``Retry-After`` until the window ends. Successes are not counted.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

from fastapi import HTTPException, status

from sync_server.core.config import get_settings

WINDOW_S = 60.0
MAX_ADDRESSES = 100_000
"""Beyond this many addresses tracked, the oldest is forgotten (memory stays bounded)."""


class FailureLimiter:
    def __init__(
        self, limit: int, *, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()

    def wait_s(self, address: str) -> float:
        """Seconds this address must wait before trying again (0: it may try now)."""
        with self._lock:
            entry = self._seen.get(address)
            if entry is None:
                return 0.0
            started, failures = entry
            left = started + self.window_s - self._clock()
            if left <= 0:
                del self._seen[address]
                return 0.0
            return left if failures >= self.limit else 0.0

    def failed(self, address: str) -> None:
        with self._lock:
            now = self._clock()
            started, failures = self._seen.pop(address, (now, 0))
            if now - started >= self.window_s:
                started, failures = now, 0
            self._seen[address] = (started, failures + 1)
            while len(self._seen) > MAX_ADDRESSES:
                self._seen.popitem(last=False)

    def check(self, address: str) -> None:
        """Raise 429 for an address that has failed too often in this window."""
        wait = self.wait_s(address)
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed attempts from this address: try again in {wait:.0f} s",
                headers={"Retry-After": str(max(1, round(wait))), "Connection": "close"},
            )


@lru_cache
def guesses() -> FailureLimiter:
    """Failed enrollments and unknown tokens, per source address, for this process."""
    return FailureLimiter(get_settings().guess_limit_per_minute)
