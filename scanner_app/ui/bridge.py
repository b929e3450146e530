"""The kiosk model's callbacks as Qt signals, so that widgets never run on a worker's thread.

The model calls its :class:`~scanner_app.kiosk.Notice` callbacks on the gate, camera and sync
threads; emitting a signal of this main-thread object from there queues the slots onto the UI
thread. Camera frames are shrunk to preview size on the camera's thread, before they cross.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from scanner_app.frames import Frame
from scanner_app.kiosk import Kiosk

PREVIEW_WIDTH = 640
"""Pixels across the preview: enough for aiming, a quarter of 720p's conversion work."""


def preview_image(frame: Frame) -> QImage:
    """A camera frame shrunk to preview size, as a QImage that owns its pixels (made on the
    camera's thread: QImage, unlike QPixmap, may be)."""
    image = frame.image
    height, width = image.shape
    if width > PREVIEW_WIDTH:
        size = (PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    height, width = image.shape
    qimage = QImage(image.data, width, height, image.strides[0], QImage.Format.Format_Grayscale8)
    return qimage.copy()  # the copy owns its pixels; the array may go


class KioskSignals(QObject):
    answered = Signal(object)
    """An :class:`~scanner_app.kiosk.Answer` to show at once."""
    annulled = Signal(object)
    """An annulment :class:`~scanner_app.kiosk.Answer`: nobody passed, the entry is cancelled."""
    status_changed = Signal(object)
    settings_changed = Signal(object)
    emergency_changed = Signal(bool)
    scan_logged = Signal(object)
    preview = Signal(QImage)

    def __init__(self, kiosk: Kiosk, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.preview_enabled = True
        """Off while the preview is hidden: no frame conversion for nobody."""
        kiosk.answered.connect(self.answered.emit)
        kiosk.annulled.connect(self.annulled.emit)
        kiosk.status_changed.connect(self.status_changed.emit)
        kiosk.settings_changed.connect(self.settings_changed.emit)
        kiosk.emergency_changed.connect(self.emergency_changed.emit)
        kiosk.scan_logged.connect(self.scan_logged.emit)
        kiosk.frame_ready.connect(self._frame)

    def _frame(self, frame: Frame) -> None:
        """On the camera's thread: a small QImage of the frame (QImage, unlike QPixmap, may be
        made off the UI thread)."""
        if not self.preview_enabled:
            return
        self.preview.emit(preview_image(frame))
