"""The hardware package's exceptions: one base, and leaves that also inherit the matching builtin.

Callers that know nothing of relays can still catch ``TimeoutError`` or ``FileNotFoundError``;
the kiosk catches ``HardwareError`` to put the turnstile out of order.
"""

from __future__ import annotations


class HardwareError(Exception):
    """A relay, sensor or their configuration failed; the message says what and where."""


class HardwareConfigError(HardwareError, ValueError):
    """The ``[relay]`` or ``[sensor]`` settings are wrong (unknown driver, channel out of range)."""


class DriverUnavailable(HardwareError, ImportError):
    """The Python package a driver needs is missing (``pip install entrix-gate[hardware]``)."""


class RelayNotFound(HardwareError, FileNotFoundError):
    """The relay board is not there: no such port or USB device."""


class RelayPermissionDenied(HardwareError, PermissionError):
    """The board is there but this user may not open it (udev rule or group missing)."""


class RelayBusy(HardwareError, BlockingIOError):
    """Another program holds the board (the kiosk, while hw-test runs)."""


class RelayTimeout(HardwareError, TimeoutError):
    """The relay did not answer in time."""


class RelayDisconnected(HardwareError, ConnectionError):
    """The board went away while in use (unplugged, USB reset, cable cut)."""


class RelayProtocolError(HardwareError, ValueError):
    """The board answered, but not as its protocol says: wrong bytes, wrong state, an exception."""


class SensorError(HardwareError, OSError):
    """The passage sensor could not be read."""


class EmergencyFailed(HardwareError, RuntimeError):
    """Free passage was asked for (or ended) but at least one channel did not obey."""
