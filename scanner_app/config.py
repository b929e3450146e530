"""The terminal's configuration file (TOML): which server, which gate, where its files are.

Relative paths in the file are relative to the file itself, so a gate folder can be moved whole.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from scanner_app.wedge import WedgeSettings

if TYPE_CHECKING:  # OpenCV and the decoders load only for commands that scan
    from scanner_app.frames import CameraSettings
    from scanner_app.scanning import ScanSettings

DEFAULT_CONFIG = "gate.toml"
LANGUAGES = ("fr", "ar", "en")
_Settings = TypeVar("_Settings")


DEMO_EVERY_S = 4.5
"""``gate-scanner run --demo``: the demo camera shows a code for 2 s, then 2.5 s of empty frame,
as at a quiet gate (``--demo-every`` sets another pace)."""


class ConfigError(Exception):
    """The configuration file is missing, unreadable or incomplete; the message says how to fix."""


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


@dataclass
class TerminalConfig:
    path: Path
    server: str = ""
    venue: str = ""
    gate: str = ""
    token_file: str = "gate.token"  # noqa: S105 - a file name
    replica: str = "gate.db"
    sync: SyncSettings = field(default_factory=SyncSettings)
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    camera: dict[str, Any] = field(default_factory=dict)
    """``[camera]`` as written; :meth:`camera_settings` checks it (and loads OpenCV)."""
    scanning: dict[str, Any] = field(default_factory=dict)
    """``[scanning]`` as written; :meth:`scan_settings` checks it (and loads the decoders)."""
    wedge: WedgeSettings = field(default_factory=WedgeSettings)

    def camera_settings(self) -> CameraSettings:
        from scanner_app.frames import CameraSettings

        settings = _section(CameraSettings, self.camera, "camera", self.path)
        return settings

    def scan_settings(self) -> ScanSettings:
        from scanner_app.scanning import ScanSettings

        settings = _section(ScanSettings, self.scanning, "scanning", self.path)
        return settings

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
        gate = data.get("gate", {})
        return cls(
            path=path,
            server=str(gate.get("server", "")),
            venue=str(gate.get("venue", "")),
            gate=str(gate.get("name", "")),
            token_file=str(gate.get("token_file", "gate.token")),
            replica=str(gate.get("replica", "gate.db")),
            sync=_section(SyncSettings, data.get("sync", {}), "sync", path),
            kiosk=_section(KioskSettings, data.get("kiosk", {}), "kiosk", path),
            camera=dict(data.get("camera", {})),
            scanning=dict(data.get("scanning", {})),
            wedge=_section(WedgeSettings, data.get("wedge", {}), "wedge", path),
        )

    def save(self) -> None:
        sections: dict[str, dict[str, Any]] = {
            "gate": {
                "server": self.server,
                "venue": self.venue,
                "name": self.gate,
                "token_file": self.token_file,
                "replica": self.replica,
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


def _section(cls: type[_Settings], values: Any, name: str, path: Path) -> _Settings:
    """A settings dataclass from a TOML table; unknown or mistyped settings name the section."""
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: unknown setting in [{name}]: {exc}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # TOML basic strings share JSON's escapes.
    return json.dumps(str(value), ensure_ascii=False)
