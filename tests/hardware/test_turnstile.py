"""The turnstile controller's timing and failures, on the simulator with a fake clock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from hardware.clock import FakeClock
from hardware.drivers.simulated import SimulatedRelay, SimulatedSensor
from hardware.errors import EmergencyFailed, HardwareConfigError, RelayTimeout, SensorError
from hardware.turnstile import PassageOutcome, Turnstile
from shared.model import Direction

ENTRY, EXIT = 1, 2


@pytest.fixture
def relay(clock: FakeClock) -> Iterator[SimulatedRelay]:
    relay = SimulatedRelay(channels=2, clock=clock)
    yield relay
    relay.reset()


@pytest.fixture
def sensor(clock: FakeClock) -> Iterator[SimulatedSensor]:
    sensor = SimulatedSensor(clock=clock)
    yield sensor
    sensor.reset()


@pytest.fixture
def statuses() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def turnstile(relay, sensor, clock, statuses) -> Turnstile:
    return Turnstile(
        relay=relay,
        sensor=sensor,
        clock=clock,
        entry_channel=ENTRY,
        exit_channel=EXIT,
        on_status=statuses.append,
    )


def test_a_passage_within_the_window_is_passed(turnstile, relay, sensor, clock):
    start = clock.monotonic()
    sensor.schedule_passage(after_s=1.2)
    assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
    assert relay.history == [(start, ENTRY, True), (start + 0.2, ENTRY, False)]
    assert clock.monotonic() - start == pytest.approx(1.2, abs=0.02)
    assert not PassageOutcome.PASSED.annuls_entry


def test_nobody_passing_is_not_passed_at_the_end_of_the_window(turnstile, clock):
    start = clock.monotonic()
    outcome = turnstile.admit(Direction.IN)
    assert outcome is PassageOutcome.NOT_PASSED
    assert outcome.annuls_entry
    assert outcome == "not_passed"
    assert clock.monotonic() - start == pytest.approx(5.0)
    assert turnstile.status() == {
        "relay": "ok",
        "emergency": False,
        "sensor": "ok",
        "driver": "simulated",
    }


def test_a_passage_after_the_window_is_too_late(turnstile, sensor):
    sensor.schedule_passage(after_s=5.3)
    assert turnstile.admit(Direction.IN) is PassageOutcome.NOT_PASSED


def test_the_window_and_pulse_are_configurable(relay, sensor, clock):
    turnstile = Turnstile(relay=relay, sensor=sensor, clock=clock, pulse_s=0.5, window_s=2.0)
    start = clock.monotonic()
    sensor.schedule_passage(after_s=2.5)
    assert turnstile.admit(Direction.IN) is PassageOutcome.NOT_PASSED
    assert clock.monotonic() - start == pytest.approx(2.0)
    assert relay.history[1] == (start + 0.5, ENTRY, False)


def test_exit_uses_its_own_channel(turnstile, relay, sensor):
    sensor.schedule_passage(after_s=0.5)
    assert turnstile.admit(Direction.OUT) is PassageOutcome.PASSED
    assert [channel for _, channel, _ in relay.history] == [EXIT, EXIT]


def test_a_one_way_turnstile_refuses_exit(relay, sensor, clock):
    turnstile = Turnstile(relay=relay, sensor=sensor, clock=clock, entry_channel=1)
    with pytest.raises(HardwareConfigError, match="no out channel"):
        turnstile.admit(Direction.OUT)
    assert relay.history == []


def test_a_channel_the_board_lacks_is_refused_at_once(relay, clock):
    with pytest.raises(HardwareConfigError, match="channel 3"):
        Turnstile(relay=relay, clock=clock, entry_channel=3)


def test_without_a_sensor_the_passage_is_unconfirmed_and_nothing_waits(relay, clock):
    turnstile = Turnstile(relay=relay, clock=clock)
    start = clock.monotonic()
    outcome = turnstile.admit(Direction.IN)
    assert outcome is PassageOutcome.UNCONFIRMED
    assert not outcome.annuls_entry
    assert clock.monotonic() - start == pytest.approx(0.2)
    assert turnstile.status()["sensor"] == "none"


def test_a_sensor_stuck_active_confirms_nothing_and_says_so(turnstile, sensor, statuses):
    sensor.stuck = True
    assert turnstile.admit(Direction.IN) is PassageOutcome.NOT_PASSED
    assert turnstile.sensor_fault == "stuck active"
    assert turnstile.status()["sensor"] == "stuck active"
    assert statuses[-1]["sensor"] == "stuck active"
    sensor.stuck = False
    sensor.schedule_passage(after_s=1.0)
    assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
    assert turnstile.status()["sensor"] == "ok"


def test_someone_still_in_the_passage_then_the_next_person(turnstile, sensor):
    sensor.schedule_passage(after_s=0.0, duration_s=1.0)  # the last visitor, still turning
    sensor.schedule_passage(after_s=2.0)  # the one just admitted
    assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
    assert turnstile.sensor_fault is None


def test_a_sensor_error_leaves_the_passage_unconfirmed_and_visible(turnstile, sensor, clock):
    clock.call_later(1.0, lambda: setattr(sensor, "fault", SensorError("cable cut")))
    assert turnstile.admit(Direction.IN) is PassageOutcome.UNCONFIRMED
    assert turnstile.status()["sensor"] == "error: cable cut"
    assert turnstile.out_of_order is None


def test_a_relay_that_stops_answering_puts_the_turnstile_out_of_order(
    turnstile, relay, statuses, caplog
):
    relay.stop_answering()
    with caplog.at_level(logging.ERROR, logger="hardware.turnstile"):
        outcome = turnstile.admit(Direction.IN)
    assert outcome is PassageOutcome.RELAY_FAILED
    assert outcome.annuls_entry
    assert turnstile.out_of_order == "in channel 1: the simulated relay board stopped answering"
    assert turnstile.status()["relay"] == (
        "out_of_order: in channel 1: the simulated relay board stopped answering"
    )
    assert statuses[-1]["relay"].startswith("out_of_order: ")
    assert "out of order" in caplog.text


def test_a_relay_failure_returns_at_once_without_waiting_the_window(turnstile, relay, clock):
    relay.stop_answering()
    start = clock.monotonic()
    turnstile.admit(Direction.IN)
    assert clock.monotonic() == start


def test_the_next_successful_operation_puts_it_back_in_order(turnstile, relay, sensor, statuses):
    relay.stop_answering()
    turnstile.admit(Direction.IN)
    relay.fail_with(None)
    sensor.schedule_passage(after_s=0.5)
    assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
    assert turnstile.out_of_order is None
    assert statuses[-1]["relay"] == "ok"


def test_a_relay_that_fails_to_release_is_out_of_order(turnstile, relay):
    def break_after_unlock(_channel: int, on: bool) -> None:
        if on:
            relay.stop_answering()

    relay.on_switch(break_after_unlock)
    assert turnstile.admit(Direction.IN) is PassageOutcome.RELAY_FAILED
    assert relay.energised[ENTRY] is True  # still unlocked: exactly why it must be loud
    assert "stopped answering" in (turnstile.out_of_order or "")


def test_a_board_that_ignores_release_is_caught_by_the_read_back(relay, sensor, clock):
    class Sticky(SimulatedRelay):
        def _switch(self, channel: int, on: bool) -> None:
            if on:
                super()._switch(channel, on)

    sticky = Sticky(channels=2, clock=clock)
    turnstile = Turnstile(relay=sticky, sensor=sensor, clock=clock)
    assert turnstile.admit(Direction.IN) is PassageOutcome.RELAY_FAILED
    assert "stayed energised" in (turnstile.out_of_order or "")


def test_emergency_holds_every_channel_open_until_released(turnstile, relay, statuses):
    turnstile.emergency_open()
    assert relay.energised == {ENTRY: True, EXIT: True}
    assert turnstile.status()["emergency"] is True
    assert statuses[-1]["emergency"] is True
    commands = len(relay.history)
    assert turnstile.admit(Direction.IN) is PassageOutcome.UNCONFIRMED
    assert len(relay.history) == commands  # no pulse: it would close the held channel
    turnstile.emergency_release()
    assert relay.energised == {ENTRY: False, EXIT: False}
    assert turnstile.status()["emergency"] is False


def test_emergency_during_a_passage_window_ends_the_wait_and_stays_open(turnstile, relay, clock):
    start = clock.monotonic()
    clock.call_later(1.0, turnstile.emergency_open)
    assert turnstile.admit(Direction.IN) is PassageOutcome.UNCONFIRMED
    assert clock.monotonic() - start < 1.1
    assert relay.energised == {ENTRY: True, EXIT: True}


def test_a_relay_failing_in_an_emergency_is_loud_and_every_channel_is_tried(
    relay, sensor, clock, caplog
):
    class DeadEntry(SimulatedRelay):
        def _switch(self, channel: int, on: bool) -> None:
            if channel == ENTRY:
                raise RelayTimeout("entry relay does not answer")
            super()._switch(channel, on)

    dead = DeadEntry(channels=2, clock=clock)
    turnstile = Turnstile(relay=dead, sensor=sensor, clock=clock, exit_channel=EXIT)
    with (
        caplog.at_level(logging.CRITICAL, logger="hardware.turnstile"),
        pytest.raises(EmergencyFailed, match="entry relay does not answer"),
    ):
        turnstile.emergency_open()
    assert dead.energised[EXIT] is True  # the working channel still opened
    assert turnstile.status()["emergency"] is True
    assert turnstile.status()["relay"].startswith("out_of_order: emergency free passage FAILED")
    assert any(record.levelno == logging.CRITICAL for record in caplog.records)


def test_release_failing_after_an_emergency_is_loud(turnstile, relay):
    turnstile.emergency_open()
    relay.stop_answering()
    with pytest.raises(EmergencyFailed, match="could not close"):
        turnstile.emergency_release()
    assert turnstile.out_of_order is not None


def test_reset_after_a_repair(turnstile, relay):
    relay.stop_answering()
    turnstile.admit(Direction.IN)
    assert turnstile.reset() is False  # still broken: stays out of order
    assert turnstile.out_of_order is not None
    relay.fail_with(None)
    assert turnstile.reset() is True
    assert turnstile.out_of_order is None


def test_probe_notices_a_board_that_died_while_idle(turnstile, relay):
    assert turnstile.probe()["relay"] == "ok"
    relay.stop_answering()
    assert turnstile.probe()["relay"].startswith("out_of_order: probe:")
    relay.fail_with(None)
    assert turnstile.probe()["relay"] == "ok"


def test_probe_reasserts_free_passage_in_an_emergency(turnstile, relay):
    turnstile.emergency_open()
    relay.energised[ENTRY] = False  # the board lost a relay (power dip)
    turnstile.probe()
    assert relay.energised[ENTRY] is True


def test_a_broken_status_listener_does_not_stop_the_turnstile(relay, sensor, clock):
    def broken(_status: dict[str, Any]) -> None:
        raise RuntimeError("screen gone")

    turnstile = Turnstile(relay=relay, sensor=sensor, clock=clock, on_status=broken)
    relay.stop_answering()
    assert turnstile.admit(Direction.IN) is PassageOutcome.RELAY_FAILED
    assert turnstile.out_of_order is not None
