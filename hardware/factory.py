"""Open the relay board, the sensor and the turnstile a configuration names.

Each driver imports its board's library only when opened, so a kiosk with an LCUS board needs
neither hidapi nor gpiozero installed. A Modbus sensor on the relay module's own line shares its
serial port, and a simulated sensor follows the simulated relay (each unlock sends someone
through).
"""

from __future__ import annotations

from hardware.clock import Clock, SystemClock
from hardware.config import RelayConfig, SensorConfig, TurnstileConfig
from hardware.drivers.gpio import GpioRelay, GpioSensor
from hardware.drivers.hid import open_board
from hardware.drivers.lcus import LcusRelay
from hardware.drivers.modbus import ModbusLine, ModbusRelay, ModbusSensor
from hardware.drivers.simulated import SimulatedRelay, SimulatedSensor
from hardware.errors import HardwareError, RelayNotFound, RelayProtocolError, RelayTimeout
from hardware.relay import Relay
from hardware.sensor import PassageSensor
from hardware.turnstile import StatusListener, Turnstile


def open_relay(config: RelayConfig, *, clock: Clock | None = None) -> Relay:
    """Open the board ``config.driver`` names; raise ``RelayNotFound`` and kin if it is absent."""
    clock = clock or SystemClock()
    relay = _open_relay(config, clock)
    for role, channel in config.channels.items():
        if channel > relay.channel_count:
            relay.close()
            raise HardwareError(
                f"[relay] {role}_channel = {channel}, but {relay.describe()} has "
                f"{relay.channel_count} channel(s)"
            )
    return relay


def _open_relay(config: RelayConfig, clock: Clock) -> Relay:
    if config.driver == "lcus":
        return LcusRelay(
            config.port,
            channels=config.channel_count,
            status_query=config.status_query,
            baudrate=config.baudrate,
            timeout_s=config.timeout_s,
            clock=clock,
        )
    if config.driver == "hid":
        return open_board(serial=config.serial, clock=clock)
    if config.driver == "modbus":
        line = _modbus_line(config)
        try:
            return ModbusRelay(
                line,
                unit=config.unit,
                channels=config.channel_count,
                coil_base=config.coil_base,
                clock=clock,
            )
        except HardwareError:
            line.detach()
            raise
    if config.driver == "gpio":
        return GpioRelay(config.pins, active_low=config.active_low, clock=clock)
    return _simulated_relay(config, clock)


def _simulated_relay(config: RelayConfig, clock: Clock) -> Relay:
    if config.simulate_fault == "missing":
        raise RelayNotFound("the simulated relay board is configured as missing")
    relay = SimulatedRelay(channels=config.channel_count, clock=clock)
    if config.simulate_fault == "timeout":
        relay.fail_with(RelayTimeout("the simulated relay board does not answer"))
    elif config.simulate_fault == "error":
        relay.fail_with(RelayProtocolError("the simulated relay board answers garbage"))
    return relay


def open_sensor(
    config: SensorConfig, *, relay: Relay | None = None, clock: Clock | None = None
) -> PassageSensor:
    """Open the passage sensor; ``relay`` lets it share a Modbus line or follow a simulator."""
    if config.driver == "gpio":
        assert config.pin is not None
        return GpioSensor(config.pin, active_low=config.active_low)
    if config.driver == "modbus":
        if isinstance(relay, ModbusRelay) and relay.line.port == config.port:
            line = relay.line
        else:
            line = _modbus_line(config)
        return ModbusSensor(line, unit=config.unit, address=config.input_address)
    sensor = SimulatedSensor(
        clock=clock or (relay.clock if relay else None),
        walk_s=None if config.nobody else config.walk_s,
    )
    sensor.stuck = config.stuck
    if isinstance(relay, SimulatedRelay):
        sensor.follow(relay)
    return sensor


def open_turnstile(
    config: TurnstileConfig,
    *,
    clock: Clock | None = None,
    on_status: StatusListener | None = None,
) -> Turnstile:
    """The turnstile a gate's ``[relay]`` and ``[sensor]`` describe, ready to ``admit``."""
    clock = clock or SystemClock()
    relay = open_relay(config.relay, clock=clock)
    sensor = None
    try:
        if config.sensor is not None:
            sensor = open_sensor(config.sensor, relay=relay, clock=clock)
        return Turnstile(
            relay=relay,
            sensor=sensor,
            clock=clock,
            entry_channel=config.relay.entry_channel,
            exit_channel=config.relay.exit_channel,
            pulse_s=config.relay.pulse_s,
            window_s=config.sensor.window_s if config.sensor else 5.0,
            poll_s=config.sensor.poll_ms / 1000 if config.sensor else 0.02,
            on_status=on_status,
        )
    except BaseException:
        if sensor is not None:
            sensor.close()
        relay.close()
        raise


def _modbus_line(config: RelayConfig | SensorConfig) -> ModbusLine:
    return ModbusLine(
        config.port,
        baudrate=config.baudrate,
        parity=config.parity,
        stopbits=config.stopbits,
        timeout_s=config.timeout_s,
    )
