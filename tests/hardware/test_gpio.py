"""The GPIO driver against gpiozero's mock pin factory: pin levels, active-low wiring, edges."""

from __future__ import annotations

import pytest

from hardware.drivers.gpio import GpioRelay, GpioSensor
from hardware.errors import HardwareConfigError, RelayBusy


def test_active_high_relays_drive_the_pin_high_when_energised(mock_pins, clock):
    relay = GpioRelay([17, 27], clock=clock)
    assert (mock_pins.pin(17).state, mock_pins.pin(27).state) == (False, False)
    relay.hold_open(2)
    assert (mock_pins.pin(17).state, mock_pins.pin(27).state) == (False, True)
    assert relay.state(2) is True
    relay.close()


def test_active_low_relays_rest_high_and_pull_low_to_energise(mock_pins, clock):
    relay = GpioRelay([17, 27], active_low=True, clock=clock)
    assert mock_pins.pin(17).state is True  # released at start: no unlock on power-up
    relay.hold_open(1)
    assert mock_pins.pin(17).state is False
    assert relay.state(1) is True
    relay.release(1)
    assert mock_pins.pin(17).state is True
    assert relay.state(1) is False
    relay.close()


def test_a_pulse_goes_low_for_the_duration_then_back_high(mock_pins, clock):
    relay = GpioRelay([5], active_low=True, clock=clock)
    levels: list[bool] = []
    clock.call_later(0.1, lambda: levels.append(mock_pins.pin(5).state))
    relay.pulse(1, 0.2)
    assert levels == [False]
    assert mock_pins.pin(5).state is True
    relay.close()


def test_a_pin_already_in_use_is_refused(mock_pins, clock):
    relay = GpioRelay([17], clock=clock)
    with pytest.raises(RelayBusy, match="GPIO17"):
        GpioRelay([17], clock=clock)
    relay.close()


def test_a_pin_that_does_not_exist_is_a_config_error(mock_pins, clock):
    with pytest.raises(HardwareConfigError, match="GPIO99"):
        GpioRelay([99], clock=clock)


def test_the_sensor_counts_each_passage_by_edge(mock_pins):
    sensor = GpioSensor(22)  # active low: pulled up, the sensor shorts it to ground
    pin = mock_pins.pin(22)
    assert sensor.poll() == (False, 0)
    pin.drive_low()
    pin.drive_high()  # a short passage between two polls is still counted (callback)
    assert sensor.poll() == (False, 1)
    pin.drive_low()
    assert sensor.poll() == (True, 2)
    sensor.close()


def test_an_active_high_sensor(mock_pins):
    sensor = GpioSensor(23, active_low=False)
    mock_pins.pin(23).drive_high()
    assert sensor.poll() == (True, 1)
    sensor.close()
