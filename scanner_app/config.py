"""The terminal's configuration file (TOML): which server, which gate, where its files are.

Relative paths in the file are relative to the file itself, so a gate folder can be moved whole.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "gate.toml"


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
class TerminalConfig:
    path: Path
    server: str = ""
    venue: str = ""
    gate: str = ""
    token_file: str = "gate.token"  # noqa: S105 - a file name
    replica: str = "gate.db"
    sync: SyncSettings = field(default_factory=SyncSettings)

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
        sync = data.get("sync", {})
        try:
            return cls(
                path=path,
                server=str(gate.get("server", "")),
                venue=str(gate.get("venue", "")),
                gate=str(gate.get("name", "")),
                token_file=str(gate.get("token_file", "gate.token")),
                replica=str(gate.get("replica", "gate.db")),
                sync=SyncSettings(**sync),
            )
        except TypeError as exc:
            raise ConfigError(f"{path}: unknown setting in [sync]: {exc}") from exc

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
        lines = ["# Entrix Gate terminal configuration (written by gate-scanner enroll)"]
        for section, values in sections.items():
            lines.append(f"\n[{section}]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # TOML basic strings share JSON's escapes.
    return json.dumps(str(value), ensure_ascii=False)
