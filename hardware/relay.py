"""The one relay interface every board driver implements (pulse, hold open, release, state).

Channels are numbered from 1, as printed on the boards. "On" means the relay coil is energised:
its normally-open (NO) contact is closed. What that does to the lock depends on the wiring
(see docs/hardware.md); the controller only ever speaks of energised or not.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType

from hardware.clock import Clock, SystemClock
from hardware.errors import HardwareConfigError, HardwareError


class Relay(ABC):
    """A relay board. Subclasses implement ``_switch``, ``_read`` and ``_close``; nothing else.

    Each public call holds the board's lock, so a pulse is never interleaved with another
    command (the serial boards answer one request at a time).
    """

    driver: str = "relay"
    """The name the configuration uses for this driver."""

    def __init__(self, *, channels: int, clock: Clock | None = None) -> None:
        if channels < 1:
            raise HardwareConfigError(f"a relay board has at least one channel, not {channels}")
        self.channel_count = channels
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._closed = False

    @property
    def reads_back(self) -> bool:
        """True when ``state`` asks the board; False when it can only repeat the last command."""
        return True

    def describe(self) -> str:
        """One line for people: which board, where."""
        return f"{self.driver} relay ({channels_text(self.channel_count)})"

    def pulse(self, channel: int, duration_s: float) -> None:
        """Energise ``channel`` for ``duration_s`` seconds, then release it, even if interrupted."""
        if duration_s < 0:
            raise HardwareConfigError(f"a pulse lasts zero seconds or more, not {duration_s}")
        with self._lock:
            self._check(channel)
            self._switch(channel, True)
            try:
                self.clock.sleep(duration_s)
            finally:
                self._switch(channel, False)

    def hold_open(self, channel: int) -> None:
        """Energise ``channel`` until ``release``."""
        with self._lock:
            self._check(channel)
            self._switch(channel, True)

    def release(self, channel: int) -> None:
        """De-energise ``channel``."""
        with self._lock:
            self._check(channel)
            self._switch(channel, False)

    def state(self, channel: int) -> bool:
        """Whether ``channel`` is energised, as the board reports it (see ``reads_back``)."""
        with self._lock:
            self._check(channel)
            return self._read(channel)

    def close(self) -> None:
        """Let go of the board (port, USB handle, pins). Safe to call twice."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _check(self, channel: int) -> None:
        if self._closed:
            raise HardwareError(f"{self.describe()} is closed")
        if isinstance(channel, bool) or not 1 <= channel <= self.channel_count:
            raise HardwareConfigError(
                f"channel {channel} does not exist on {self.describe()} "
                f"(channels 1 to {self.channel_count})"
            )

    @abstractmethod
    def _switch(self, channel: int, on: bool) -> None:
        """Tell the board to energise (``on``) or release ``channel``; raise on any failure."""

    @abstractmethod
    def _read(self, channel: int) -> bool:
        """Ask the board whether ``channel`` is energised; raise on any failure."""

    @abstractmethod
    def _close(self) -> None:
        """Release the underlying port or device."""


def channels_text(count: int, noun: str = "channel") -> str:
    """``1 channel``, ``4 channels``: for descriptions people read."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
