"""The terminal's configuration file (TOML): which server, which gate, where its files are.

One strict model: each section is a settings dataclass read by :func:`shared.settings.read_section`
(unknown keys, wrong types and unknown sections are refused, naming the section and the key);
``[relay]`` and ``[sensor]`` are :mod:`hardware.config`'s. The file is read once, by
:meth:`TerminalConfig.load`. Relative paths in the file are relative to the file itself, so a gate
folder can be moved whole.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hardware import HardwareError, TurnstileConfig
from scanner_app.wedge import WedgeSettings
from shared.pinning import is_pin
from shared.settings import read_section, strict_settings

DEFAULT_CONFIG = "gate.toml"
LANGUAGES = ("fr", "ar", "en")
DEFAULT_DECODER = "zxing-cpp"
DEFAULT_DEBOUNCE_S = 2.0
SECTIONS = ("gate", "sync", "kiosk", "camera", "scanning", "wedge", "relay", "sensor")
"""Every table a gate's file may hold."""
_Settings = TypeVar("_Settings")


DEMO_EVERY_S = 4.5
"""``gate-scanner run --demo``: the demo camera shows a code for 2 s, then 2.5 s of empty frame,
as at a quiet gate (``--demo-every`` sets another pace)."""


class ConfigError(Exception):
    """The configuration file is missing, unreadable or incomplete; the message says how to fix."""


@strict_settings
@dataclass
class GateSection:
    """The ``[gate]`` part, written by ``gate-scanner enroll``."""

    server: str = ""
    venue: str = ""
    name: str = ""
    token_file: str = "gate.token"  # noqa: S105 - a file name
    replica: str = "gate.db"
    server_pins: list[str] = field(default_factory=list)
    """The server's certificate pins (``sha256/...``) from the enrollment link: with any, this
    gate trusts only a server presenting one of them (:mod:`scanner_app.tls`)."""

    def __post_init__(self) -> None:
        bad = [p for p in self.server_pins if not is_pin(p)]
        if bad:
            raise ConfigError(f"[gate] server_pins: {bad[0][:60]!r} is not a sha256/ pin")


@strict_settings
@dataclass
class SyncSettings:
    poll_interval_s: float = 30.0
    """Pull even without a notice from the server's event stream (a safety net)."""
    heartbeat_interval_s: float = 10.0
    timeout_s: float = 10.0
    upload_batch: int = 500
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    max_clock_skew_s: float = 2.0
    """Beyond this, the gate reports the skew and decides with the server's time."""
    clock_unverified_after_s: float = 6 * 3600.0
    """A gate that has not set its clock against the server's for this long says so on its
    status bar (its time windows rest on a clock nobody checked)."""


@strict_settings
@dataclass
class KioskSettings:
    """The ``[kiosk]`` part: what the controller's screen shows and how the supervisor gets in."""

    language: str = "fr"
    """fr, ar (laid out right to left) or en; a supervisor may switch it on the gate."""
    show_holder_name: bool = False
    """Personal data stays off the screen unless the site enables it."""
    answer_s: float = 3.0
    """How long the green or red answer stays before the screen is back to idle."""
    fullscreen: bool = False
    pin_hash: str = ""
    """The supervisor PIN, hashed (make one with ``python -m scanner_app.pin``); empty: no panel."""
    health_log_s: float = 60.0
    """How often the kiosk logs its memory, threads, descriptors and reference counts; 0: never."""

    def __post_init__(self) -> None:
        if self.health_log_s != 0 and not 1 <= self.health_log_s <= 3600:
            raise ConfigError(
                f"[kiosk] health_log_s must be 0 (off) or 1 to 3600 s, not {self.health_log_s}"
            )
        if self.language not in LANGUAGES:
            raise ConfigError(
                f"[kiosk] language must be one of {', '.join(LANGUAGES)}, not {self.language!r}"
            )
        if not 0.5 <= self.answer_s <= 60:
            raise ConfigError(f"[kiosk] answer_s must be 0.5 to 60 s, not {self.answer_s}")


@strict_settings
@dataclass
class CameraSettings:
    """The ``[camera]`` part of a terminal's configuration."""

    source: str = "0"
    """A device index ("0"), a device path, a video file or a folder of images. On a gate, prefer
    the camera's stable path (/dev/v4l/by-id/usb-...-video-index0): indexes change on replug."""
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    fourcc: str = "MJPG"
    """Most USB cameras reach 720p at 30 fps only in MJPG (raw YUYV is capped by USB 2)."""
    loop: bool = False
    """Files only: start again at the end (a demo kiosk with no camera)."""


@strict_settings
@dataclass
class ScanSettings:
    """The ``[scanning]`` part of a terminal's configuration."""

    decoder: str = DEFAULT_DECODER
    debounce_s: float = DEFAULT_DEBOUNCE_S
    """A code seen again within this time of its last sighting is the same presentation."""


@dataclass
class TerminalConfig:
    path: Path
    server: str = ""
    venue: str = ""
    gate: str = ""
    token_file: str = "gate.token"  # noqa: S105 - a file name
    replica: str = "gate.db"
    server_pins: list[str] = field(default_factory=list)
    sync: SyncSettings = field(default_factory=SyncSettings)
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    camera: dict[str, Any] = field(default_factory=dict)
    """``[camera]`` as written (checked by :meth:`load`; :meth:`camera_settings` makes it)."""
    scanning: dict[str, Any] = field(default_factory=dict)
    """``[scanning]`` as written (checked by :meth:`load`; :meth:`scan_settings` makes it)."""
    wedge: WedgeSettings = field(default_factory=WedgeSettings)
    turnstile: TurnstileConfig | None = None
    """``[relay]`` and ``[sensor]``; None: no turnstile (the gate decides and records only)."""

    def camera_settings(self) -> CameraSettings:
        return _section(CameraSettings, self.camera, "camera", self.path)

    def scan_settings(self) -> ScanSettings:
        return _section(ScanSettings, self.scanning, "scanning", self.path)

    @property
    def replica_path(self) -> Path:
        return self._resolve(self.replica)

    @property
    def token_path(self) -> Path:
        return self._resolve(self.token_file)

    def _resolve(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else self.path.parent / path

    def token(self) -> str:
        try:
            return self.token_path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                f"no device token at {self.token_path}: enroll this gate first "
                f"(gate-scanner enroll --server URL --code CODE --config {self.path})"
            ) from None

    def save_token(self, token: str) -> None:
        """Write the device token readable by its owner only (mode 0600), atomically."""
        path = self.token_path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(token + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> TerminalConfig:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"no configuration at {path}: enroll this gate "
                f"(gate-scanner enroll --server URL --code CODE --config {path})"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise ConfigError(
                f"{path}: unknown section(s) {', '.join(f'[{n}]' for n in unknown)}; "
                f"known: {', '.join(f'[{n}]' for n in SECTIONS)}"
            )
        gate = _section(GateSection, data.get("gate", {}), "gate", path)
        config = cls(
            path=path,
            server=gate.server,
            venue=gate.venue,
            gate=gate.name,
            token_file=gate.token_file,
            replica=gate.replica,
            server_pins=list(gate.server_pins),
            sync=_section(SyncSettings, data.get("sync", {}), "sync", path),
            kiosk=_section(KioskSettings, data.get("kiosk", {}), "kiosk", path),
            camera=dict(_table(data, "camera", path)),
            scanning=dict(_table(data, "scanning", path)),
            wedge=_section(WedgeSettings, data.get("wedge", {}), "wedge", path),
        )
        # Checked now, made when used: a mistake is found when the file is read, not mid-match.
        config.camera_settings()
        config.scan_settings()
        if "relay" in data:
            try:
                config.turnstile = TurnstileConfig.from_document(data, str(path))
            except HardwareError as exc:
                raise ConfigError(f"{path}: {exc}") from exc
        elif "sensor" in data:
            raise ConfigError(f"{path}: [sensor] without [relay]: see docs/hardware.md")
        return config

    def save(self) -> None:
        sections: dict[str, dict[str, Any]] = {
            "gate": {
                "server": self.server,
                "venue": self.venue,
                "name": self.gate,
                "token_file": self.token_file,
                "replica": self.replica,
                "server_pins": list(self.server_pins),
            },
            "sync": vars(self.sync),
        }
        # The kiosk's sections only when set: an enrolled gate keeps its hand-written ones.
        if self.kiosk != KioskSettings():
            sections["kiosk"] = vars(self.kiosk)
        for name, values in (("camera", self.camera), ("scanning", self.scanning)):
            if values:
                sections[name] = values
        if self.wedge != WedgeSettings():
            sections["wedge"] = {
                "min_length": self.wedge.min_length,
                "max_mean_gap_s": self.wedge.max_mean_gap_s,
                "max_gap_s": self.wedge.max_gap_s,
            }
        if self.path.exists():
            # Enrolling rewrites [gate] only: the installer's other sections ([relay], [kiosk]...)
            # and their comments stay as written.
            text = _replace_table(self.path.read_text(encoding="utf-8"), "gate", sections["gate"])
            self.path.write_text(text, encoding="utf-8")
            return
        lines = ["# Entrix Gate terminal configuration (written by gate-scanner enroll)"]
        for section, values in sections.items():
            lines.append(f"\n[{section}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _replace_table(text: str, name: str, values: dict[str, Any]) -> str:
    """``text`` with the body of table ``[name]`` replaced by ``values`` (appended if absent)."""
    body = [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{name}]"), None)
    if start is None:
        return text.rstrip("\n") + f"\n\n[{name}]\n" + "\n".join(body) + "\n"
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    kept_tail = [
        line for line in lines[start + 1 : end] if not line.strip() or line.lstrip().startswith("#")
    ]
    return "\n".join([*lines[: start + 1], *body, *kept_tail, *lines[end:]]) + "\n"


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    values = data.get(name, {})
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return values


def _section(cls: type[_Settings], values: Any, name: str, path: Path) -> _Settings:
    """A settings dataclass from a TOML table; unknown or mistyped settings name the section."""
    try:
        return read_section(cls, values, name, lambda message: ConfigError(f"{path}: {message}"))
    except ConfigError as exc:
        # read_section's own errors name the file; a __post_init__'s do not yet
        message = str(exc)
        named = message if message.startswith(str(path)) else f"{path}: {message}"
        raise ConfigError(named) from None


def _toml_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # TOML basic strings share JSON's escapes.
    return json.dumps(str(value), ensure_ascii=False)
