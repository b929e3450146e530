"""LCUS serial relay boards (LC Technology, CH340 USB-serial, 9600 8N1).

Switching: a 4-byte frame ``A0 <channel> <01 on | 00 off> <checksum>``, the checksum being the
sum of the first three bytes, modulo 256. The board sends nothing back.

Status: the multi-channel boards (LCUS-2, -4, -8) answer a single ``FF`` byte with one ASCII
line per channel, channel 1 first, e.g. ``CH1: ON \\r\\nCH2: OFF\\r\\n`` (the "ON " is padded to
the width of "OFF" on the boards we know; other spacing is accepted). The one-channel LCUS-1
does not answer, so for it the driver can only remember the last command (``status_query``).
"""

from __future__ import annotations

import errno
import re
from typing import Any

from hardware.clock import Clock
from hardware.errors import (
    DriverUnavailable,
    HardwareError,
    RelayBusy,
    RelayDisconnected,
    RelayNotFound,
    RelayPermissionDenied,
    RelayProtocolError,
    RelayTimeout,
)
from hardware.relay import Relay, channels_text

START = 0xA0
STATUS_QUERY = b"\xff"
COMMAND_GAP_S = 0.05
"""The board's microcontroller drops a frame sent hard on the heels of the previous one."""
_STATUS_LINE = re.compile(rb"CH(\d+):\s*(ON|OFF)\s*\r?\n")


def frame(channel: int, on: bool) -> bytes:
    """The switching frame for ``channel``: ``A0 ch op (A0+ch+op)&FF``."""
    operation = 0x01 if on else 0x00
    return bytes([START, channel, operation, (START + channel + operation) & 0xFF])


class LcusRelay(Relay):
    """An LCUS board on a serial port (``/dev/ttyUSB0``, better ``/dev/serial/by-id/...``)."""

    driver = "lcus"

    def __init__(
        self,
        port: str,
        *,
        channels: int,
        status_query: bool | None = None,
        baudrate: int = 9600,
        timeout_s: float = 0.5,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(channels=channels, clock=clock)
        self.port = port
        self.status_query = channels > 1 if status_query is None else status_query
        self.timeout_s = timeout_s
        self._commanded = dict.fromkeys(range(1, channels + 1), False)
        self._last_write: float | None = None
        self._serial = _open_port(port, baudrate=baudrate, timeout_s=timeout_s)

    @property
    def reads_back(self) -> bool:
        return self.status_query

    def describe(self) -> str:
        return f"LCUS relay board on {self.port} ({channels_text(self.channel_count)})"

    def _switch(self, channel: int, on: bool) -> None:
        self._send(frame(channel, on))
        self._commanded[channel] = on

    def _read(self, channel: int) -> bool:
        if not self.status_query:
            return self._commanded[channel]
        return self.read_all()[channel]

    def read_all(self) -> dict[int, bool]:
        """Ask the board (``FF``) for every channel's state, and check the whole answer."""
        try:
            self._serial.reset_input_buffer()
        except _io_errors() as exc:
            raise RelayDisconnected(f"{self.describe()}: {exc}") from exc
        self._send(STATUS_QUERY)
        states: dict[int, bool] = {}
        for expected in range(1, self.channel_count + 1):
            line = self._read_line()
            if not line.endswith(b"\n"):
                raise RelayTimeout(self._silence(expected, line))
            match = _STATUS_LINE.fullmatch(line)
            if match is None or int(match[1]) != expected:
                raise RelayProtocolError(
                    f"{self.describe()} answered {line!r} where CH{expected} was due "
                    "(is board_channels the number of relays on the board?)"
                )
            states[expected] = match[2] == b"ON"
        return states

    def _silence(self, expected: int, line: bytes) -> str:
        if expected == 1 and not line:
            return (
                f"{self.describe()} did not answer the status query (FF) within "
                f"{self.timeout_s:g} s: unplugged, unpowered, or a board without status "
                "(LCUS-1: set status_query = false)"
            )
        return (
            f"{self.describe()} stopped answering after {expected - 1} status line(s) "
            f"(got {line!r}): set board_channels to the number of relays on the board"
        )

    def _read_line(self) -> bytes:
        try:
            return bytes(self._serial.read_until(b"\n", 32))
        except _io_errors() as exc:
            raise RelayDisconnected(f"{self.describe()}: {exc}") from exc

    def _send(self, data: bytes) -> None:
        if self._last_write is not None:
            wait = self._last_write + COMMAND_GAP_S - self.clock.monotonic()
            if wait > 0:
                self.clock.sleep(wait)
        serial = _serial_module()
        try:
            self._serial.write(data)
            self._serial.flush()
        except serial.SerialTimeoutException as exc:
            raise RelayTimeout(f"{self.describe()} does not take data: {exc}") from exc
        except _io_errors() as exc:
            raise RelayDisconnected(f"{self.describe()}: {exc}") from exc
        finally:
            self._last_write = self.clock.monotonic()

    def _close(self) -> None:
        self._serial.close()


def _serial_module() -> Any:
    try:
        import serial  # optional: only this driver needs it
    except ImportError as exc:
        raise DriverUnavailable(
            "the lcus driver needs pyserial: pip install 'entrix-gate[hardware]'"
        ) from exc
    return serial


def _io_errors() -> tuple[type[Exception], ...]:
    """What pyserial lets escape when the tty vanishes: its own errors, OSError, termios.error."""
    errors: list[type[Exception]] = [OSError, _serial_module().SerialException]
    try:
        import termios  # POSIX only
    except ImportError:
        pass
    else:
        errors.append(termios.error)
    return tuple(errors)


def _open_port(port: str, *, baudrate: int, timeout_s: float) -> Any:
    """Open the port 8N1, exclusively (the kiosk and hw-test must not drive it together)."""
    serial = _serial_module()
    try:
        return serial.Serial(
            port=port,
            baudrate=baudrate,
            bytesize=serial.EIGHTBITS,
            parity=serial.PARITY_NONE,
            stopbits=serial.STOPBITS_ONE,
            timeout=timeout_s,
            write_timeout=timeout_s,
            exclusive=True,
        )
    except (OSError, serial.SerialException) as exc:
        raise _open_error(port, exc) from exc


def _open_error(port: str, exc: Exception) -> HardwareError:
    """Turn pyserial's open failure into the error an installer can act on."""
    code = getattr(exc, "errno", None)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return RelayNotFound(
            f"no relay board at {port}: is it plugged in? (ls -l /dev/ttyUSB* /dev/serial/by-id/)"
        )
    if code in (errno.EACCES, errno.EPERM):
        return RelayPermissionDenied(
            f"not allowed to open {port}: install the udev rule from docs/hardware.md "
            "or add this user to the dialout group"
        )
    if code in (errno.EAGAIN, errno.EBUSY):
        return RelayBusy(f"{port} is in use by another program (is the kiosk running?)")
    return HardwareError(f"could not open {port}: {exc}")
