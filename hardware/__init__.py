"""Turnstile relays and their controller. No Qt, no web: drivers only.

The kiosk needs three names: ``TurnstileConfig.load(path)`` reads ``[relay]``/``[sensor]`` from
the gate's TOML, ``open_turnstile(config)`` opens the board, and ``Turnstile.admit(direction)``
returns a ``PassageOutcome``. See docs/hardware.md.
"""

from hardware.clock import Clock, FakeClock, SystemClock
from hardware.config import RelayConfig, SensorConfig, TurnstileConfig
from hardware.errors import (
    DriverUnavailable,
    EmergencyFailed,
    HardwareConfigError,
    HardwareError,
    RelayBusy,
    RelayDisconnected,
    RelayNotFound,
    RelayPermissionDenied,
    RelayProtocolError,
    RelayTimeout,
    SensorError,
)
from hardware.factory import open_relay, open_sensor, open_turnstile
from hardware.relay import Relay
from hardware.sensor import PassageSensor
from hardware.turnstile import PassageOutcome, Turnstile

__all__ = [
    "Clock",
    "DriverUnavailable",
    "EmergencyFailed",
    "FakeClock",
    "HardwareConfigError",
    "HardwareError",
    "PassageOutcome",
    "PassageSensor",
    "Relay",
    "RelayBusy",
    "RelayConfig",
    "RelayDisconnected",
    "RelayNotFound",
    "RelayPermissionDenied",
    "RelayProtocolError",
    "RelayTimeout",
    "SensorConfig",
    "SensorError",
    "SystemClock",
    "Turnstile",
    "TurnstileConfig",
    "open_relay",
    "open_sensor",
    "open_turnstile",
]
