"""Keyboard-wedge scans wherever the focus is: an application-wide key filter.

Every key press reaches the application's filter once for its window and again for each widget
it is delivered or propagated to; only the window's delivery is fed to the detector, with the
event's own timestamp (the time it is handled bunches up when the UI is busy).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QWindow

ENTER = frozenset({Qt.Key.Key_Return, Qt.Key.Key_Enter})


class KeyReader(Protocol):
    """What reads the code reader's keys: the kiosk, or a terminal's first start."""

    def key(self, text: str, at: float) -> str | None: ...


class WedgeFilter(QObject):
    def __init__(self, kiosk: KeyReader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWindow):
            return False
        assert isinstance(event, QKeyEvent)
        text = "\r" if event.key() in ENTER else event.text()
        if not text:
            return False
        code = self.kiosk.key(text, event.timestamp() / 1000)
        # The Enter that ends a scan is the scanner's, not for whatever widget has the focus.
        return code is not None
