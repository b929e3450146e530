"""A distinct short tone for each answer, made at start into WAV files (no binary in the repo).

With no sound card ``QSoundEffect`` does not raise: it reports an error status and plays nothing.
That is a state the status bar shows ("no audio"), never a crash.
"""

from __future__ import annotations

import math
import struct
import tempfile
import wave
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtMultimedia import QMediaDevices, QSoundEffect

RATE = 22_050
TONES: dict[str, list[tuple[float, float]]] = {
    # (frequency Hz, seconds); 0 Hz is silence
    "granted": [(880.0, 0.12), (0.0, 0.03), (1320.0, 0.18)],
    "refused": [(220.0, 0.25), (0.0, 0.05), (220.0, 0.25)],
    "notice": [(660.0, 0.1), (0.0, 0.06), (660.0, 0.1), (0.0, 0.06), (660.0, 0.1)],
}


def write_tone(path: Path, notes: list[tuple[float, float]], volume: float = 0.5) -> Path:
    """A 16-bit mono WAV of ``notes``, each faded in and out over 5 ms so it does not click."""
    samples: list[int] = []
    fade = int(RATE * 0.005)
    for frequency, seconds in notes:
        count = int(RATE * seconds)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / fade) if fade else 1.0
            value = math.sin(2 * math.pi * frequency * i / RATE) if frequency else 0.0
            samples.append(int(32767 * volume * envelope * value))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return path


class AnswerSounds(QObject):
    """Plays ``granted``, ``refused`` or ``notice``; ``available`` says whether anyone hears."""

    availability_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._folder = tempfile.TemporaryDirectory(prefix="entrix-sounds-")
        self.effects: dict[str, QSoundEffect] = {}
        self.has_device = bool(QMediaDevices.audioOutputs())
        for name, notes in TONES.items():
            effect = QSoundEffect(self)
            effect.setSource(
                QUrl.fromLocalFile(str(write_tone(Path(self._folder.name) / f"{name}.wav", notes)))
            )
            effect.statusChanged.connect(self._status_changed)
            self.effects[name] = effect

    @property
    def available(self) -> bool:
        failed = any(e.status() == QSoundEffect.Status.Error for e in self.effects.values())
        return self.has_device and not failed

    def play(self, name: str) -> None:
        if self.available:
            self.effects[name].play()

    def _status_changed(self) -> None:
        self.availability_changed.emit(self.available)

    def close(self) -> None:
        for effect in self.effects.values():
            effect.stop()
        self._folder.cleanup()
