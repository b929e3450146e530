"""The turnstile controller: unlock for one passage, confirm it, hold open in an emergency.

A relay that errors or stops answering puts the turnstile out of order, with the reason, in
``status()`` and through ``on_status``; it is never swallowed. The next successful relay
operation (or ``reset()``) puts it back in order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from hardware.clock import Clock
from hardware.errors import (
    EmergencyFailed,
    HardwareConfigError,
    HardwareError,
    RelayProtocolError,
)
from hardware.relay import Relay
from hardware.sensor import PassageSensor
from shared.model import Direction

log = logging.getLogger(__name__)

StatusListener = Callable[[dict[str, Any]], None]


class PassageOutcome(StrEnum):
    """What became of one admission, for the scan record."""

    PASSED = "passed"
    """The sensor saw someone go through within the window."""
    NOT_PASSED = "not_passed"
    """Unlocked, but nobody went through within the window: annul the entry."""
    UNCONFIRMED = "unconfirmed"
    """Unlocked, but nothing can tell (no sensor, sensor failed, or emergency free passage)."""
    RELAY_FAILED = "relay_failed"
    """The relay did not obey: the turnstile is out of order and nobody was let through."""

    @property
    def annuls_entry(self) -> bool:
        """True when the scan's right must not be consumed (nobody went through)."""
        return self in (PassageOutcome.NOT_PASSED, PassageOutcome.RELAY_FAILED)


class Turnstile:
    """One turnstile: a relay channel per direction and an optional passage sensor."""

    def __init__(
        self,
        *,
        relay: Relay,
        sensor: PassageSensor | None = None,
        clock: Clock | None = None,
        entry_channel: int = 1,
        exit_channel: int | None = None,
        pulse_s: float = 0.2,
        window_s: float = 5.0,
        poll_s: float = 0.02,
        on_status: StatusListener | None = None,
    ) -> None:
        self.relay = relay
        self.sensor = sensor
        self.clock: Clock = clock or relay.clock
        self.channels: dict[Direction, int] = {Direction.IN: entry_channel}
        if exit_channel is not None:
            self.channels[Direction.OUT] = exit_channel
        for channel in self.channels.values():
            if not 1 <= channel <= relay.channel_count:
                raise HardwareConfigError(f"channel {channel} does not exist on {relay.describe()}")
        self.pulse_s = pulse_s
        self.window_s = window_s
        self.poll_s = poll_s
        self.on_status = on_status
        self._io = threading.RLock()
        self._admitting = threading.Lock()
        self._out_of_order: str | None = None
        self._sensor_fault: str | None = None
        self._emergency = False

    # -- what the kiosk and the heartbeat read -------------------------------------------------

    @property
    def out_of_order(self) -> str | None:
        """Why the turnstile is out of order, or None while it works."""
        return self._out_of_order

    @property
    def emergency(self) -> bool:
        """True while emergency free passage holds every channel open."""
        return self._emergency

    @property
    def sensor_fault(self) -> str | None:
        """What is wrong with the passage sensor (e.g. "stuck active"), or None."""
        return self._sensor_fault

    def status(self) -> dict[str, Any]:
        """The turnstile for the heartbeat and the screen: relay, emergency, sensor."""
        if self.sensor is None:
            sensor = "none"
        else:
            sensor = "ok" if self._sensor_fault is None else self._sensor_fault
        return {
            "relay": "ok" if self._out_of_order is None else f"out_of_order: {self._out_of_order}",
            "emergency": self._emergency,
            "sensor": sensor,
            "driver": self.relay.driver,
        }

    # -- one admission -------------------------------------------------------------------------

    def admit(self, direction: Direction) -> PassageOutcome:
        """Unlock ``direction`` for one passage and say whether someone went through.

        Blocks for the pulse and, with a sensor, until the passage or the end of the window.
        """
        channel = self.channels.get(direction)
        if channel is None:
            raise HardwareConfigError(f"this turnstile has no {direction.value} channel")
        with self._admitting:
            if self._emergency:
                return PassageOutcome.UNCONFIRMED
            baseline = self._sensor_count()
            unlocked_at = self.clock.monotonic()
            with self._io:
                if self._emergency:
                    return PassageOutcome.UNCONFIRMED
                try:
                    self.relay.pulse(channel, self.pulse_s)
                    if self.relay.reads_back and self.relay.state(channel):
                        raise RelayProtocolError(
                            f"channel {channel} stayed energised after the pulse"
                        )
                except HardwareError as exc:
                    self._fail(f"{direction.value} channel {channel}: {exc}")
                    return PassageOutcome.RELAY_FAILED
                self._recover()
            if baseline is None:
                return PassageOutcome.UNCONFIRMED
            return self._watch(baseline, unlocked_at + self.window_s)

    def _sensor_count(self) -> int | None:
        """The sensor's activation count before the unlock, or None if it cannot tell."""
        if self.sensor is None:
            return None
        try:
            return self.sensor.activations()
        except HardwareError as exc:
            self._sensor_failed(f"error: {exc}")
            return None

    def _watch(self, baseline: int, deadline: float) -> PassageOutcome:
        """Poll the sensor until a new activation (passed) or the deadline (not passed)."""
        assert self.sensor is not None
        ever_inactive = False
        while True:
            try:
                active, count = self.sensor.poll()
            except HardwareError as exc:
                self._sensor_failed(f"error: {exc}")
                return PassageOutcome.UNCONFIRMED
            ever_inactive = ever_inactive or not active
            if count > baseline:
                self._sensor_failed(None)
                return PassageOutcome.PASSED
            if self._emergency:
                return PassageOutcome.UNCONFIRMED
            now = self.clock.monotonic()
            if now >= deadline:
                break
            self.clock.sleep(min(self.poll_s, deadline - now))
        if ever_inactive:
            self._sensor_failed(None)
        else:
            self._sensor_failed("stuck active")
        return PassageOutcome.NOT_PASSED

    # -- emergency free passage ----------------------------------------------------------------

    def emergency_open(self) -> None:
        """Hold every channel open until ``emergency_release``; raise if any did not obey."""
        self._emergency = True
        log.warning("emergency free passage: holding every channel open")
        self._notify()
        failure = self._all_channels(on=True)
        if failure:
            self._alarm(f"emergency free passage FAILED: {failure}")

    def emergency_release(self) -> None:
        """End free passage: release every channel; raise if any did not obey."""
        self._emergency = False
        log.warning("emergency free passage ended: releasing every channel")
        self._notify()
        failure = self._all_channels(on=False)
        if failure:
            self._alarm(f"could not close after emergency free passage: {failure}")

    def _alarm(self, reason: str) -> None:
        log.critical(reason)
        self._fail(reason)
        raise EmergencyFailed(reason)

    def _all_channels(self, *, on: bool) -> str | None:
        """Switch every channel (each one, whatever the others do); say which failed, if any."""
        failures: list[str] = []
        with self._io:
            for direction, channel in self.channels.items():
                try:
                    if on:
                        self.relay.hold_open(channel)
                    else:
                        self.relay.release(channel)
                    if self.relay.reads_back and self.relay.state(channel) != on:
                        raise RelayProtocolError("the board reports it did not switch")
                except HardwareError as exc:
                    failures.append(f"{direction.value} channel {channel}: {exc}")
        if failures:
            return "; ".join(failures)
        self._recover()
        return None

    # -- health --------------------------------------------------------------------------------

    def probe(self) -> dict[str, Any]:
        """Ask the board for every channel (and read the sensor); return the fresh status.

        Call it with each heartbeat: a board unplugged while idle shows at once. During an
        emergency, a channel found released is held open again.
        """
        with self._io:
            try:
                for direction, channel in self.channels.items():
                    energised = self.relay.state(channel)
                    if self._emergency and not energised:
                        log.critical("emergency: %s channel %s was released", direction, channel)
                        self.relay.hold_open(channel)
            except HardwareError as exc:
                self._fail(f"probe: {exc}")
            else:
                self._recover()
        if self.sensor is not None:
            try:
                self.sensor.poll()
            except HardwareError as exc:
                self._sensor_failed(f"error: {exc}")
            else:
                if self._sensor_fault is not None and self._sensor_fault.startswith("error"):
                    self._sensor_failed(None)
        return self.status()

    def reset(self) -> bool:
        """Put the turnstile back in order by hand (after a repair): release every channel.

        Returns whether it is in order now; if the board still fails, it stays out of order
        with the new reason. During an emergency the channels stay held.
        """
        self._sensor_failed(None)
        if self._emergency:
            self._recover()
            return True
        failure = self._all_channels(on=False)
        if failure:
            self._fail(f"reset: {failure}")
            return False
        return True

    def close(self) -> None:
        """Let go of the relay board and the sensor; the relay's state is left as it is."""
        self.relay.close()
        if self.sensor is not None:
            self.sensor.close()

    # -- state changes, always told --------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        changed = reason != self._out_of_order
        self._out_of_order = reason
        if changed:
            log.error("turnstile out of order: %s", reason)
            self._notify()

    def _recover(self) -> None:
        if self._out_of_order is not None:
            log.warning("turnstile back in order (was: %s)", self._out_of_order)
            self._out_of_order = None
            self._notify()

    def _sensor_failed(self, fault: str | None) -> None:
        if fault != self._sensor_fault:
            if fault is None:
                log.warning("passage sensor back to normal (was: %s)", self._sensor_fault)
            else:
                log.error("passage sensor: %s", fault)
            self._sensor_fault = fault
            self._notify()

    def _notify(self) -> None:
        if self.on_status is None:
            return
        try:
            self.on_status(self.status())
        except Exception:  # a broken listener must not stop the turnstile
            log.exception("turnstile status listener failed")
