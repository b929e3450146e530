"""Keyboard-wedge scanners, Qt-free: a fast burst of keys ending in Enter is a scan.

A wedge scanner types the code as a keyboard would, far faster and more evenly than a person.
The kiosk's event filter feeds every key that has text (with its timestamp) to
:class:`WedgeDetector`, wherever the focus is; slow human typing never makes a scan.

Keyboard layout: the scanner sends key positions, which the kiosk's active layout turns into
characters. Configure the scanner for the kiosk's layout (French AZERTY on most of our gates), or
EG1 codes arrive mangled ("1" becomes "&"); keep a Latin layout active even when the screen shows
Arabic.
"""

from __future__ import annotations

from dataclasses import dataclass

ENTER_KEYS = frozenset({"\r", "\n"})
"""What a wedge sends after the code (Qt gives "\\r" for Return and Enter)."""


@dataclass(frozen=True, slots=True)
class WedgeSettings:
    """The ``[wedge]`` part of a terminal's configuration. Times are in seconds."""

    min_length: int = 6
    """Shorter bursts are people pressing keys, not codes (EG1 codes have about 290 characters)."""
    max_mean_gap_s: float = 0.030
    """Wedges type a character every 1 to 10 ms; the fastest typists need about 60 ms."""
    max_gap_s: float = 0.080
    """A longer pause between two keys ends the burst: what follows starts afresh."""


class WedgeDetector:
    """Turns timed key presses into scans: call :meth:`key` with each key's text and time."""

    def __init__(self, settings: WedgeSettings | None = None) -> None:
        self.settings = settings or WedgeSettings()
        self._chars: list[str] = []
        self._times: list[float] = []

    @property
    def pending(self) -> str:
        """The characters of the burst in progress (the UI may hold them back from widgets)."""
        return "".join(self._chars)

    def reset(self) -> None:
        self._chars.clear()
        self._times.clear()

    def key(self, text: str, at: float) -> str | None:
        """Feed one key (its text, or Enter) pressed at monotonic time ``at`` (seconds).

        Returns the scanned code when Enter ends a burst fast enough to be a scanner, else None.
        Prefer the key event's own timestamp: the time it is handled bunches up when the UI is
        busy.
        """
        if self._times and at - self._times[-1] > self.settings.max_gap_s:
            self.reset()  # a pause: whatever came before was typed, or is left over
        if text in ENTER_KEYS:
            code = self._burst_code(at)
            self.reset()
            return code
        if text:
            self._chars.append(text)
            self._times.append(at)
        return None

    def _burst_code(self, enter_at: float) -> str | None:
        if len(self._chars) < self.settings.min_length:
            return None
        # No gap exceeds max_gap_s here: a longer pause has already reset the burst.
        mean_gap = (enter_at - self._times[0]) / len(self._times)
        if mean_gap > self.settings.max_mean_gap_s:
            return None
        return "".join(self._chars)
