"""Time, injected: the controller waits and measures through a ``Clock`` so tests need no sleeps."""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """What the controller and drivers need of time: a monotonic reading and a way to wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (``time.monotonic`` and ``time.sleep``)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when slept on or advanced: deterministic tests and replays.

    ``call_at`` schedules a function for a moment on this clock; ``sleep``/``advance`` run the
    functions whose moment they pass, in time order, with the clock set to that moment.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._order = itertools.count()
        self._pending: list[tuple[float, int, Callable[[], object]]] = []
        self.slept: list[float] = []
        """Every ``sleep`` asked for, in order (to check pulse lengths)."""

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(seconds, 0.0))

    def advance(self, seconds: float) -> None:
        # Rounded to the nanosecond, so many small steps add up to exactly their sum.
        target = round(self._now + seconds, 9)
        while self._pending and self._pending[0][0] <= target:
            at, _, action = heapq.heappop(self._pending)
            self._now = max(self._now, at)
            action()
        self._now = max(self._now, target)

    def call_at(self, at: float, action: Callable[[], object]) -> None:
        heapq.heappush(self._pending, (at, next(self._order), action))

    def call_later(self, delay: float, action: Callable[[], object]) -> None:
        self.call_at(self._now + delay, action)
