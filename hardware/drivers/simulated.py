"""A relay board and a passage sensor that exist only in memory: for the demo, tests and hw-test.

The simulated sensor can follow the simulated relay: each unlock sends a simulated person
through the passage ``walk_s`` seconds later. Its readings are a function of the clock alone,
so with a ``FakeClock`` every test is exact, and with the real clock the demo looks alive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hardware.clock import Clock, SystemClock
from hardware.errors import HardwareError, RelayProtocolError, RelayTimeout
from hardware.relay import Relay, channels_text
from hardware.sensor import PassageSensor

SwitchListener = Callable[[int, bool], None]


class SimulatedRelay(Relay):
    """An in-memory relay board that records every command and can be told to fail."""

    driver = "simulated"

    def __init__(self, *, channels: int = 2, clock: Clock | None = None) -> None:
        super().__init__(channels=channels, clock=clock)
        self.energised = dict.fromkeys(range(1, channels + 1), False)
        self.history: list[tuple[float, int, bool]] = []
        """Every switch command obeyed, as (clock time, channel, on)."""
        self.fault: HardwareError | None = None
        self._listeners: list[SwitchListener] = []

    def describe(self) -> str:
        return f"simulated relay board ({channels_text(self.channel_count)})"

    def on_switch(self, listener: SwitchListener) -> None:
        """Call ``listener(channel, on)`` after each obeyed switch command."""
        self._listeners.append(listener)

    def fail_with(self, fault: HardwareError | None) -> None:
        """Raise ``fault`` on every command from now on (None: work again)."""
        self.fault = fault

    def stop_answering(self) -> None:
        self.fail_with(RelayTimeout("the simulated relay board stopped answering"))

    def answer_garbage(self) -> None:
        self.fail_with(RelayProtocolError("the simulated relay board answered garbage"))

    def reset(self) -> None:
        """Back to a fresh board: all released, no history, no fault, no listeners."""
        self.energised = dict.fromkeys(self.energised, False)
        self.history.clear()
        self.fault = None
        self._listeners.clear()

    def _switch(self, channel: int, on: bool) -> None:
        if self.fault is not None:
            raise self.fault
        self.energised[channel] = on
        self.history.append((self.clock.monotonic(), channel, on))
        for listener in list(self._listeners):
            listener(channel, on)

    def _read(self, channel: int) -> bool:
        if self.fault is not None:
            raise self.fault
        return self.energised[channel]

    def _close(self) -> None:
        self._listeners.clear()


class SimulatedSensor(PassageSensor):
    """An in-memory passage sensor: scheduled passages, a stuck contact, or a read error."""

    driver = "simulated"

    def __init__(
        self, *, clock: Clock | None = None, walk_s: float | None = None, passage_s: float = 0.4
    ) -> None:
        super().__init__()
        self.clock: Clock = clock or SystemClock()
        self.walk_s = walk_s
        """After an unlock, a simulated person enters the passage this much later (None: never)."""
        self.passage_s = passage_s
        self.passages: list[tuple[float, float]] = []
        """Scheduled passages as (start, end) on the clock."""
        self.stuck = False
        self.fault: HardwareError | None = None

    def describe(self) -> str:
        who = "nobody walks through" if self.walk_s is None else f"walks {self.walk_s:g} s later"
        return f"simulated passage sensor ({who})"

    def schedule_passage(self, after_s: float = 0.0, duration_s: float | None = None) -> None:
        """Someone enters the passage ``after_s`` from now and leaves ``duration_s`` later."""
        start = self.clock.monotonic() + after_s
        self.passages.append(
            (start, start + (self.passage_s if duration_s is None else duration_s))
        )

    def follow(self, relay: SimulatedRelay, channels: Iterable[int] | None = None) -> None:
        """Send a simulated person through after each unlock of ``channels`` (default: all)."""
        watched = None if channels is None else set(channels)

        def unlocked(channel: int, on: bool) -> None:
            if on and self.walk_s is not None and (watched is None or channel in watched):
                self.schedule_passage(self.walk_s)

        relay.on_switch(unlocked)

    def reset(self) -> None:
        """Back to an idle sensor: no passages, not stuck, no fault."""
        self.passages.clear()
        self.stuck = False
        self.fault = None

    def poll(self) -> tuple[bool, int]:
        # Exact, whatever the polling rate: passages are known in advance, none can be missed.
        level = self._level()
        now = self.clock.monotonic()
        return level, sum(1 for start, _ in self.passages if start <= now)

    def _level(self) -> bool:
        if self.fault is not None:
            raise self.fault
        if self.stuck:
            return True
        now = self.clock.monotonic()
        return any(start <= now < end for start, end in self.passages)
