"""The Modbus driver against pymodbus's own RTU server on a pseudo-terminal RS485 line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hardware.drivers.modbus import ModbusLine, ModbusRelay, ModbusSensor
from hardware.errors import RelayNotFound, RelayProtocolError, RelayTimeout, SensorError
from tests.hardware.modbus_module import ModbusModule


@pytest.fixture
def line(modbus_module: ModbusModule) -> Iterator[ModbusLine]:
    line = ModbusLine(modbus_module.port, timeout_s=1.0).attach()
    yield line
    line.detach()


def rtu(hex_frame: str) -> bytes:
    return bytes.fromhex(hex_frame)


def test_on_and_off_are_write_single_coil_frames(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=4, clock=clock)
    relay.hold_open(1)
    relay.release(1)
    # unit 1, function 05, coil 0, FF00 (on) / 0000 (off), CRC-16/Modbus low byte first
    assert modbus_module.to_module == rtu("01 05 0000 FF00 8C3A") + rtu("01 05 0000 0000 CDCA")
    assert modbus_module.coils()[:4] == [False] * 4


def test_channels_map_to_coils_from_coil_base(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=2, coil_base=4, clock=clock)
    relay.hold_open(2)
    assert modbus_module.coils() == [False] * 5 + [True] + [False] * 2
    assert modbus_module.to_module[:6] == rtu("01 05 0005 FF00")


def test_state_is_read_coils(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=4, clock=clock)
    relay.hold_open(3)
    modbus_module.to_module.clear()
    assert relay.state(3) is True
    assert relay.state(2) is False
    # function 01, start 2 then 1, count 1
    assert modbus_module.to_module[:6] == rtu("01 01 0002 0001")
    assert modbus_module.to_module[8:14] == rtu("01 01 0001 0001")


def test_a_pulse_leaves_the_coil_released(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=2, clock=clock)
    relay.pulse(2, 0.2)
    assert clock.slept == [0.2]
    assert modbus_module.coils()[1] is False
    assert [modbus_module.to_module[i + 4 : i + 6] for i in (0, 8)] == [b"\xff\x00", b"\x00\x00"]


def test_a_cut_cable_times_out(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=2, clock=clock)
    modbus_module.cut = True
    with pytest.raises(RelayTimeout, match="unit 1") as caught:
        relay.hold_open(1)
    assert isinstance(caught.value, TimeoutError)


def test_a_module_exception_is_a_protocol_error(modbus_module, line, clock):
    relay = ModbusRelay(line, unit=1, channels=2, clock=clock)
    modbus_module.refuse_coils.add(1)
    with pytest.raises(RelayProtocolError, match="exception 4"):
        relay.hold_open(2)


def test_the_sensor_reads_a_discrete_input(modbus_module, line):
    sensor = ModbusSensor(line, unit=1, address=2)
    assert sensor.poll() == (False, 0)
    modbus_module.set_input(2, True)
    assert sensor.poll() == (True, 1)
    modbus_module.set_input(2, False)
    modbus_module.set_input(2, True)  # too quick for polling: not seen
    modbus_module.set_input(2, False)
    assert sensor.poll() == (False, 1)
    modbus_module.set_input(2, True)
    assert sensor.activations() == 2
    assert rtu("01 02 0002 0001") in modbus_module.to_module


def test_a_sensor_active_from_the_start_counts_no_passage(modbus_module, line):
    modbus_module.set_input(0, True)  # stuck, or someone still in the passage
    sensor = ModbusSensor(line, unit=1, address=0)
    assert sensor.poll() == (True, 0)
    assert sensor.poll() == (True, 0)


def test_a_sensor_that_cannot_be_read_is_a_sensor_error(modbus_module, line):
    sensor = ModbusSensor(line, unit=1, address=0)
    modbus_module.cut = True
    with pytest.raises(SensorError, match="did not answer"):
        sensor.is_active()


def test_relay_and_sensor_share_the_line(modbus_module, clock):
    line = ModbusLine(modbus_module.port, timeout_s=1.0)
    relay = ModbusRelay(line, channels=2, clock=clock)
    sensor = ModbusSensor(line, address=0)
    relay.close()
    modbus_module.set_input(0, True)
    assert sensor.is_active() is True  # the line stays open while the sensor uses it
    sensor.close()


def test_a_missing_adapter_is_relay_not_found():
    with pytest.raises(RelayNotFound, match="/dev/ttyNOPE9"):
        ModbusLine("/dev/ttyNOPE9")
