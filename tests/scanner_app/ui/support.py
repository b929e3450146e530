"""Qt-free helpers for the kiosk's tests: a small demo site, a camera that can be unplugged."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hardware import Turnstile, TurnstileConfig, open_turnstile
from scanner_app.config import KioskSettings, TerminalConfig
from scanner_app.demo import build_demo
from scanner_app.frames import OK, CameraUnavailable, Frame, SourceState, SourceStatus
from scanner_app.kiosk import Kiosk
from scanner_app.pin import hash_pin
from scanner_app.replica import Replica

PIN = "2468"
PIN_HASH = hash_pin(PIN)


@dataclass
class Site:
    db: Path
    codes: dict[str, list[str]] = field(default_factory=dict)

    def code(self, label: str, n: int = 0) -> str:
        return self.codes[label][n]


def demo_site(folder: Path) -> Site:
    """The derby with a few hundred rights; this terminal is gate NORD-1."""
    db = folder / "gate.db"
    with Replica(db) as replica:
        built = build_demo(replica, rights=300, bans=5, now=datetime.now(UTC))
        replica.set_gate_name("NORD-1")
    site = Site(db)
    for sample in built.samples:
        site.codes.setdefault(sample.label, []).append(sample.code)
    return site


class FakeCamera:
    """A camera that can be unplugged and plugged back; gray frames at about 100 fps."""

    def __init__(self, *, plugged: bool = True) -> None:
        self.plugged = threading.Event()
        if plugged:
            self.plugged.set()
        self._state = SourceState(SourceStatus.STARTING)
        self._index = 0
        self._image = np.full((72, 128), 90, np.uint8)

    @property
    def name(self) -> str:
        return "fake camera"

    @property
    def state(self) -> SourceState:
        return self._state

    def read(self) -> Frame:
        if not self.plugged.is_set():
            self._state = SourceState(SourceStatus.UNAVAILABLE, "fake camera unplugged")
            raise CameraUnavailable("fake camera unplugged")
        time.sleep(0.01)  # the fake's frame interval, as a real camera blocks for its next frame
        self._state = OK
        self._index += 1
        now = time.monotonic()
        return Frame(self._image, now, self._index, now)

    def reopen(self) -> None:
        if not self.plugged.is_set():
            raise CameraUnavailable("fake camera unplugged")
        self._state = OK

    def close(self) -> None:
        """Nothing to release."""


def fast_turnstile(**sensor: Any) -> Turnstile:
    """The simulator with short pulses: someone walks through 50 ms after each unlock."""
    document = {
        "relay": {"driver": "simulated", "pulse_ms": 10, "entry_channel": 1, "exit_channel": 2},
        "sensor": {"driver": "simulated", "window_s": 0.3, "walk_s": 0.05, **sensor},
    }
    return open_turnstile(TurnstileConfig.from_document(document))


def make_kiosk(site: Site, **overrides: Any) -> Kiosk:
    options: dict[str, Any] = {
        "replica_path": site.db,
        "settings": KioskSettings(answer_s=0.5, pin_hash=PIN_HASH),
        "source": FakeCamera(),
        "turnstile": fast_turnstile(),
        "venue": "Stade de Radès",
    }
    options.update(overrides)
    return Kiosk(**options)


def offline_config(site: Site) -> TerminalConfig:
    """A gate configured for a server nobody answers (the sync loop is never started)."""
    return TerminalConfig(path=site.db.parent / "gate.toml", server="http://127.0.0.1:9")
