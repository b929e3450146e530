"""The ``[relay]`` and ``[sensor]`` sections of a gate's TOML file, checked before any board opens.

Unknown keys and wrong types are refused with the key's name (:mod:`shared.settings`, as every
section of the file): a typo on site should not leave a turnstile silently on its defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.errors import HardwareConfigError
from shared.settings import read_section, strict_settings

RELAY_DRIVERS = ("lcus", "hid", "modbus", "gpio", "simulated")
SENSOR_DRIVERS = ("gpio", "modbus", "simulated")
SIMULATED_FAULTS = ("", "missing", "timeout", "error")


@strict_settings
@dataclass(frozen=True)
class RelayConfig:
    """How to reach the relay board and which channel unlocks which direction."""

    driver: str
    entry_channel: int = 1
    exit_channel: int | None = None
    """None: a one-way turnstile (exit refused by the controller)."""
    pulse_ms: int = 200
    port: str = ""
    """lcus, modbus: the serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/..."""
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    timeout_s: float = 0.5
    """How long a board may take to answer before the relay counts as not answering."""
    board_channels: int | None = None
    """lcus, modbus, simulated: relays on the board (1, 2, 4, 8...); default: the highest used."""
    status_query: bool | None = None
    """lcus: ask the board its state (0xFF); default: yes unless the board has one channel."""
    serial: str = ""
    """hid: the board's 5-character ID, to choose among several boards."""
    unit: int = 1
    """modbus: the module's device address (slave id) on the RS485 line."""
    coil_base: int = 0
    """modbus: the coil address of channel 1 (channel n is coil_base + n - 1)."""
    pins: tuple[int, ...] = ()
    """gpio: the BCM pin driving each channel, channel 1 first."""
    active_low: bool = False
    """gpio: the relay module energises when the pin is LOW (most opto-isolated boards)."""
    simulate_fault: str = ""
    """simulated: "missing" (board absent), "timeout" (stops answering), "error" (garbage)."""

    def __post_init__(self) -> None:
        if self.driver not in RELAY_DRIVERS:
            raise HardwareConfigError(
                f"[relay] driver {self.driver!r} is not one of {', '.join(RELAY_DRIVERS)}"
            )
        if self.driver in ("lcus", "modbus") and not self.port:
            raise HardwareConfigError(
                f"[relay] driver {self.driver!r} needs port (the serial port)"
            )
        if self.driver == "gpio" and not self.pins:
            raise HardwareConfigError("[relay] driver 'gpio' needs pins (one BCM pin per channel)")
        if self.simulate_fault not in SIMULATED_FAULTS:
            raise HardwareConfigError(
                f"[relay] simulate_fault must be one of {SIMULATED_FAULTS}, not "
                f"{self.simulate_fault!r}"
            )
        for name in ("entry_channel", "exit_channel"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise HardwareConfigError(f"[relay] {name} counts from 1, not {value}")
        if self.exit_channel == self.entry_channel:
            raise HardwareConfigError("[relay] entry_channel and exit_channel must differ")
        if not 0 <= self.pulse_ms <= 10_000:
            raise HardwareConfigError(f"[relay] pulse_ms must be 0 to 10000, not {self.pulse_ms}")
        if self.timeout_s <= 0:
            raise HardwareConfigError("[relay] timeout_s must be positive")

    @property
    def channels(self) -> dict[str, int]:
        """The channels in use, by role: ``{"entry": 1, "exit": 2}``."""
        roles = {"entry": self.entry_channel}
        if self.exit_channel is not None:
            roles["exit"] = self.exit_channel
        return roles

    @property
    def pulse_s(self) -> float:
        return self.pulse_ms / 1000

    @property
    def channel_count(self) -> int:
        """Channels on the board: as configured, else enough for the channels in use."""
        if self.board_channels is not None:
            return self.board_channels
        if self.pins:
            return len(self.pins)
        return max(self.channels.values())

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> RelayConfig:
        return read_section(cls, section, "relay", HardwareConfigError)


@strict_settings
@dataclass(frozen=True)
class SensorConfig:
    """Where the passage sensor is, and how long a passage may take after the unlock."""

    driver: str
    window_s: float = 5.0
    """Nobody passed within this many seconds of the unlock: the passage is not_passed."""
    poll_ms: int = 20
    """How often the controller reads the sensor during the window."""
    pin: int | None = None
    """gpio: the BCM input pin."""
    active_low: bool = True
    """gpio: the sensor pulls the line to ground when someone passes (internal pull-up)."""
    port: str = ""
    """modbus: the serial port (the relay's own when the module has inputs)."""
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    timeout_s: float = 0.5
    unit: int = 1
    input_address: int = 0
    """modbus: the discrete input (function 02) wired to the sensor."""
    walk_s: float = 1.0
    """simulated: someone walks through this long after each unlock."""
    nobody: bool = False
    """simulated: nobody ever walks through (to rehearse not_passed)."""
    stuck: bool = False
    """simulated: the sensor is stuck active (to rehearse that fault)."""

    def __post_init__(self) -> None:
        if self.driver not in SENSOR_DRIVERS:
            raise HardwareConfigError(
                f"[sensor] driver {self.driver!r} is not one of {', '.join(SENSOR_DRIVERS)}"
            )
        if self.driver == "gpio" and self.pin is None:
            raise HardwareConfigError("[sensor] driver 'gpio' needs pin (the BCM input pin)")
        if self.driver == "modbus" and not self.port:
            raise HardwareConfigError("[sensor] driver 'modbus' needs port (the serial port)")
        if not 0 < self.window_s <= 120:
            raise HardwareConfigError(f"[sensor] window_s must be 0 to 120 s, not {self.window_s}")
        if not 1 <= self.poll_ms <= 1000:
            raise HardwareConfigError(f"[sensor] poll_ms must be 1 to 1000, not {self.poll_ms}")

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any]) -> SensorConfig:
        return read_section(cls, section, "sensor", HardwareConfigError)


@dataclass(frozen=True)
class TurnstileConfig:
    """The whole turnstile: its relay board and, optionally, its passage sensor."""

    relay: RelayConfig
    sensor: SensorConfig | None = None
    source: str = field(default="", compare=False)
    """Where the settings came from, for messages."""

    @classmethod
    def from_document(cls, document: Mapping[str, Any], source: str = "") -> TurnstileConfig:
        """Read ``[relay]`` (required) and ``[sensor]`` (optional) from a parsed TOML document."""
        where = f" in {source}" if source else ""
        relay = document.get("relay")
        if not isinstance(relay, Mapping):
            raise HardwareConfigError(f"no [relay] section{where}: see docs/hardware.md")
        sensor = document.get("sensor")
        if sensor is not None and not isinstance(sensor, Mapping):
            raise HardwareConfigError(f"[sensor]{where} must be a table")
        try:
            return cls(
                relay=RelayConfig.from_mapping(relay),
                sensor=None if sensor is None else SensorConfig.from_mapping(sensor),
                source=source,
            )
        except HardwareConfigError as exc:
            raise HardwareConfigError(f"{exc}{where}") from None

    @classmethod
    def load(cls, path: Path) -> TurnstileConfig:
        """Read the relay and sensor sections of a gate's TOML file."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise HardwareConfigError(f"no configuration file at {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise HardwareConfigError(f"{path} is not valid TOML: {exc}") from exc
        return cls.from_document(document, str(path))
