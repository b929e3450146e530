"""Modbus RTU relay modules on an RS485 line, through pymodbus.

Channel n is coil ``coil_base + n - 1``: energised with *write single coil* (function 05,
value FF00), released with 0000, read back with *read coils* (function 01). A passage sensor
wired to a module input is read with *read discrete inputs* (function 02). The relay module and
the sensor input may share one line (one serial port): they then share one ``ModbusLine``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from hardware.clock import Clock
from hardware.errors import (
    DriverUnavailable,
    HardwareError,
    RelayDisconnected,
    RelayNotFound,
    RelayPermissionDenied,
    RelayProtocolError,
    RelayTimeout,
    SensorError,
)
from hardware.relay import Relay, channels_text
from hardware.sensor import PassageSensor


class ModbusLine:
    """One serial RS485 line and its pymodbus client, shared by every device on it."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        timeout_s: float = 0.5,
    ) -> None:
        pymodbus = _pymodbus()
        if not os.path.exists(port):
            raise RelayNotFound(
                f"no RS485 adapter at {port}: is it plugged in? "
                "(ls -l /dev/ttyUSB* /dev/serial/by-id/)"
            )
        if not os.access(port, os.R_OK | os.W_OK):
            raise RelayPermissionDenied(
                f"not allowed to open {port}: install the udev rule from docs/hardware.md "
                "or add this user to the dialout group"
            )
        self.port = port
        self._lock = threading.Lock()
        self._users = 0
        self._client = pymodbus.client.ModbusSerialClient(
            port,
            framer=pymodbus.FramerType.RTU,
            baudrate=baudrate,
            bytesize=8,
            parity=parity,
            stopbits=stopbits,
            timeout=timeout_s,
            retries=0,
        )
        if not self._client.connect():
            raise HardwareError(f"could not open the RS485 line {port}")

    def attach(self) -> ModbusLine:
        """Count one more device using the line (each calls ``detach`` when done)."""
        with self._lock:
            self._users += 1
        return self

    def detach(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users <= 0:
                self._client.close()

    def write_coil(self, unit: int, address: int, value: bool) -> None:
        response = self._call("write_coil", unit, address, value)
        if response.address != address or bool(response.bits[0]) != value:
            raise RelayProtocolError(
                f"unit {unit} on {self.port} echoed coil {response.address}="
                f"{response.bits[0]} for coil {address}={value}"
            )

    def read_coils(self, unit: int, address: int, count: int) -> list[bool]:
        return self._read("read_coils", unit, address, count)

    def read_discrete_inputs(self, unit: int, address: int, count: int) -> list[bool]:
        return self._read("read_discrete_inputs", unit, address, count)

    def _read(self, function: str, unit: int, address: int, count: int) -> list[bool]:
        response = self._call(function, unit, address, count=count)
        bits = [bool(bit) for bit in response.bits[:count]]
        if len(bits) != count:
            raise RelayProtocolError(f"unit {unit} on {self.port} sent {len(bits)} of {count} bits")
        return bits

    def _call(self, function: str, unit: int, *args: Any, **kwargs: Any) -> Any:
        pymodbus = _pymodbus()
        where = f"Modbus unit {unit} on {self.port}"
        with self._lock:
            try:
                response = getattr(self._client, function)(*args, device_id=unit, **kwargs)
            except pymodbus.exceptions.ConnectionException as exc:
                raise RelayDisconnected(f"{where}: {exc}") from exc
            except pymodbus.exceptions.ModbusIOException as exc:
                raise RelayTimeout(f"{where} did not answer ({function})") from exc
            except (pymodbus.exceptions.ModbusException, OSError) as exc:
                raise RelayProtocolError(f"{where}: {exc}") from exc
        if response.isError():
            code = getattr(response, "exception_code", "?")
            raise RelayProtocolError(f"{where} refused {function}: Modbus exception {code}")
        return response


class ModbusRelay(Relay):
    """A relay module at ``unit`` on ``line``; channel n is coil ``coil_base + n - 1``."""

    driver = "modbus"

    def __init__(
        self,
        line: ModbusLine,
        *,
        unit: int = 1,
        channels: int,
        coil_base: int = 0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(channels=channels, clock=clock)
        self.line = line.attach()
        self.unit = unit
        self.coil_base = coil_base

    def describe(self) -> str:
        coils = channels_text(self.channel_count, "coil")
        return f"Modbus relay module {self.unit} on {self.line.port} ({coils})"

    def _switch(self, channel: int, on: bool) -> None:
        self.line.write_coil(self.unit, self.coil_base + channel - 1, on)

    def _read(self, channel: int) -> bool:
        return self.line.read_coils(self.unit, self.coil_base + channel - 1, 1)[0]

    def _close(self) -> None:
        self.line.detach()


class ModbusSensor(PassageSensor):
    """A passage sensor on discrete input ``address`` of Modbus ``unit`` (polled)."""

    driver = "modbus"

    def __init__(self, line: ModbusLine, *, unit: int = 1, address: int = 0) -> None:
        super().__init__()
        self.line = line.attach()
        self.unit = unit
        self.address = address
        self._closed = False

    def describe(self) -> str:
        return f"Modbus input {self.address} of unit {self.unit} on {self.line.port}"

    def _level(self) -> bool:
        try:
            return self.line.read_discrete_inputs(self.unit, self.address, 1)[0]
        except HardwareError as exc:
            raise SensorError(f"passage sensor: {exc}") from exc

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.line.detach()


def _pymodbus() -> Any:
    try:
        import pymodbus  # optional: only this driver needs it
        import pymodbus.client
        import pymodbus.exceptions
    except ImportError as exc:
        raise DriverUnavailable(
            "the modbus driver needs pymodbus: pip install 'entrix-gate[hardware]'"
        ) from exc
    return pymodbus
