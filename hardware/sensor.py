"""The passage sensor interface: is someone in the passage now, and how many times did one enter.

A passage is counted on each inactive-to-active edge. The first reading never counts, so a
sensor that is already active (someone still in the passage, or a stuck contact) confirms nothing.
Polled sensors see edges when read; event-driven ones (GPIO) report them as they happen too.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType


class PassageSensor(ABC):
    """A passage sensor. Subclasses implement ``_level``, and ``_close`` if they hold a device."""

    driver: str = "sensor"

    def __init__(self) -> None:
        self._edge_lock = threading.Lock()
        self._activations = 0
        self._last: bool | None = None

    def describe(self) -> str:
        """One line for people: which sensor, where."""
        return f"{self.driver} sensor"

    def poll(self) -> tuple[bool, int]:
        """Read the sensor once: whether it is active now, and the activations counted so far."""
        level = self._level()
        self._observe(level)
        with self._edge_lock:
            return level, self._activations

    def is_active(self) -> bool:
        """Whether someone is in the passage now."""
        return self.poll()[0]

    def activations(self) -> int:
        """How many inactive-to-active edges were seen since the sensor was opened."""
        return self.poll()[1]

    def close(self) -> None:
        """Let go of the device. Safe to call twice."""
        self._close()

    def __enter__(self) -> PassageSensor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _observe(self, level: bool) -> None:
        """Record a level seen now; event-driven drivers call this from their callbacks."""
        with self._edge_lock:
            if level and self._last is False:
                self._activations += 1
            self._last = level

    @abstractmethod
    def _level(self) -> bool:
        """Read the device: True while someone is in (or turning) the passage."""

    def _close(self) -> None:  # noqa: B027 - optional hook: most sensors hold nothing to close
        """Release the device; nothing to do by default."""
