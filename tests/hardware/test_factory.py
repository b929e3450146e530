"""From configuration to a working turnstile, for every driver, end to end."""

from __future__ import annotations

import pytest

from hardware.config import RelayConfig, SensorConfig, TurnstileConfig
from hardware.drivers.lcus import LcusRelay
from hardware.errors import HardwareError, RelayNotFound
from hardware.factory import open_relay, open_turnstile
from hardware.turnstile import PassageOutcome
from shared.model import Direction


def test_an_lcus_turnstile_sends_pulse_then_checks_the_board(lcus_board, clock):
    board = lcus_board(2)
    config = TurnstileConfig(RelayConfig(driver="lcus", port=board.path, exit_channel=2))
    turnstile = open_turnstile(config, clock=clock)
    try:
        assert turnstile.admit(Direction.OUT) is PassageOutcome.UNCONFIRMED
        expected = bytes.fromhex("A0 02 01 A3 A0 02 00 A2 FF")
        assert board.wait_for(len(expected)) == expected
        assert turnstile.status()["relay"] == "ok"
    finally:
        turnstile.close()


def test_an_lcus_board_that_goes_silent_shows_out_of_order(lcus_board, clock):
    board = lcus_board(2)
    relay_config = RelayConfig(driver="lcus", port=board.path, board_channels=2, timeout_s=0.2)
    turnstile = open_turnstile(TurnstileConfig(relay_config), clock=clock)
    board.answers_status = False
    try:
        assert turnstile.admit(Direction.IN) is PassageOutcome.RELAY_FAILED
        assert "did not answer the status query" in turnstile.status()["relay"]
    finally:
        turnstile.close()


def test_a_channel_beyond_the_board_is_refused_and_the_port_freed(lcus_board, clock):
    board = lcus_board(2, answers_status=False)
    config = RelayConfig(driver="lcus", port=board.path, board_channels=2, exit_channel=3)
    with pytest.raises(HardwareError, match="exit_channel = 3"):
        open_relay(config, clock=clock)
    LcusRelay(board.path, channels=2, clock=clock).close()  # not left locked


def test_a_modbus_turnstile_with_its_sensor_on_the_module(modbus_module, clock):
    config = TurnstileConfig(
        RelayConfig(driver="modbus", port=modbus_module.port, board_channels=8, timeout_s=1.0),
        SensorConfig(
            driver="modbus", port=modbus_module.port, input_address=1, timeout_s=1.0, poll_ms=100
        ),
    )
    turnstile = open_turnstile(config, clock=clock)
    try:
        clock.call_later(1.5, lambda: modbus_module.set_input(1, True))
        assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
        assert modbus_module.coils()[0] is False
        assert turnstile.admit(Direction.IN) is PassageOutcome.NOT_PASSED  # still active: no edge
    finally:
        turnstile.close()


def test_a_gpio_turnstile(mock_pins, clock):
    config = TurnstileConfig(
        RelayConfig(driver="gpio", pins=(17, 27), active_low=True, exit_channel=2),
        SensorConfig(driver="gpio", pin=22),
    )
    turnstile = open_turnstile(config, clock=clock)
    try:
        levels: list[bool] = []
        clock.call_later(0.1, lambda: levels.append(mock_pins.pin(17).state))
        clock.call_later(2.0, mock_pins.pin(22).drive_low)
        assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
        assert levels == [False]  # active low: the pin was pulled low during the pulse
        assert mock_pins.pin(17).state is True
    finally:
        turnstile.close()


def test_the_simulator_sends_someone_through_after_each_unlock(clock):
    config = TurnstileConfig(
        RelayConfig(driver="simulated"), SensorConfig(driver="simulated", walk_s=1.0)
    )
    turnstile = open_turnstile(config, clock=clock)
    start = clock.monotonic()
    assert turnstile.admit(Direction.IN) is PassageOutcome.PASSED
    assert clock.monotonic() - start == pytest.approx(1.0, abs=0.02)


def test_the_simulator_can_rehearse_each_fault(clock):
    nobody = TurnstileConfig(
        RelayConfig(driver="simulated"), SensorConfig(driver="simulated", nobody=True)
    )
    assert open_turnstile(nobody, clock=clock).admit(Direction.IN) is PassageOutcome.NOT_PASSED
    silent = TurnstileConfig(RelayConfig(driver="simulated", simulate_fault="timeout"))
    turnstile = open_turnstile(silent, clock=clock)
    assert turnstile.admit(Direction.IN) is PassageOutcome.RELAY_FAILED
    assert "does not answer" in (turnstile.out_of_order or "")
    with pytest.raises(RelayNotFound):
        open_turnstile(TurnstileConfig(RelayConfig(driver="simulated", simulate_fault="missing")))
