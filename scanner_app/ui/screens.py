"""The kiosk's screens: idle (preview and aiming frame), the answer, the banner, the status bar.

Sizes are for a controller two metres away: the verdict is taller than a thumb, the reason a
line of large text. Colours keep white text above 4.5:1 contrast on green and on red.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from scanner_app.frames import SourceStatus
from scanner_app.i18n import Language, age_text, reason_text, text
from scanner_app.kiosk import LOCAL, Answer, KioskStatus
from scanner_app.sync_loop import SyncState
from shared.model import Direction

GREEN = "#0a6e2c"
RED = "#b3001b"
AMBER = "#8a4b00"
"""The annulment notice: neither a yes nor a no."""
IDLE_BG = "#14181f"
LEADING = Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


def _label(pixels: int, *, bold: bool = False, align: Qt.AlignmentFlag = LEADING) -> QLabel:
    label = QLabel()
    label.setFont(_font(pixels, bold=bold))
    label.setAlignment(align)
    label.setWordWrap(True)
    return label


class PreviewWidget(QWidget):
    """The camera's picture, fitted, with an aiming frame where the code should be held."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.frames_shown = 0
        self.camera_ok = True
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)

    def show_image(self, image: QImage) -> None:
        self.image = image
        self.frames_shown += 1
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000"))
        area = QRectF(self.rect())
        if self.image is not None and self.camera_ok:
            scale = min(area.width() / self.image.width(), area.height() / self.image.height())
            w, h = self.image.width() * scale, self.image.height() * scale
            target = QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)
            painter.drawImage(target, self.image)
            area = target
        # The aiming frame: corners of a square in the middle, like a phone's scanner.
        side = min(area.width(), area.height()) * 0.62
        box = QRectF(area.center().x() - side / 2, area.center().y() - side / 2, side, side)
        arm = side * 0.18
        painter.setPen(QPen(QColor("#ffd23f"), max(4.0, side / 60)))
        for x, y, dx, dy in (
            (box.left(), box.top(), 1, 1),
            (box.right(), box.top(), -1, 1),
            (box.left(), box.bottom(), 1, -1),
            (box.right(), box.bottom(), -1, -1),
        ):
            painter.drawLine(int(x), int(y), int(x + dx * arm), int(y))
            painter.drawLine(int(x), int(y), int(x), int(y + dy * arm))
        painter.end()


class IdleScreen(QWidget):
    """Waiting for a ticket: gate and direction, "present your ticket", the preview."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("idle")
        self.setStyleSheet(f"#idle {{ background: {IDLE_BG}; }} QLabel {{ color: white; }}")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.gate_label = _label(34, bold=True)
        self.prompt_label = _label(64, bold=True, align=CENTER)
        self.hint_label = _label(28, align=CENTER)
        self.hint_label.setStyleSheet("color: #c8d0dc;")
        self.camera_label = _label(30, bold=True, align=CENTER)
        self.camera_label.setStyleSheet(
            "color: white; background: #b3001b; padding: 10px; border-radius: 6px;"
        )
        self.camera_label.hide()
        self.preview = PreviewWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        layout.addWidget(self.gate_label)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.camera_label)
        layout.addWidget(self.preview, 1)

    def retranslate(self, gate: str, direction: Direction, language: Language) -> None:
        way = text("direction_in" if direction is Direction.IN else "direction_out", language)
        self.gate_label.setText(text("gate_title", language, gate=gate, direction=way))
        self.prompt_label.setText(text("present_ticket", language))
        self.hint_label.setText(text("present_hint", language))
        self.camera_label.setText(text("camera_lost_hint", language))

    def set_camera_ok(self, ok: bool) -> None:
        self.camera_label.setVisible(not ok)
        self.preview.camera_ok = ok
        self.preview.update()


class AnswerScreen(QWidget):
    """The whole screen green or red: the verdict, the reason in words, zone and seat."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answer")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.answer: Answer | None = None
        self.colour = GREEN
        self.verdict_label = _label(110, bold=True)
        self.reason_label = _label(58, bold=True)
        self.zone_label = _label(46)
        self.seat_label = _label(46)
        self.holder_label = _label(40)
        self.notice_label = _label(44, bold=True)
        self.notice_label.setStyleSheet(
            f"background: {AMBER}; color: white; padding: 16px; border-radius: 8px;"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 40, 64, 40)
        layout.setSpacing(18)
        layout.addStretch(1)
        for label in (
            self.verdict_label,
            self.reason_label,
            self.zone_label,
            self.seat_label,
            self.holder_label,
        ):
            layout.addWidget(label)
        layout.addStretch(1)
        layout.addWidget(self.notice_label)
        self.notice_label.hide()
        self._paint(GREEN)

    def show_answer(self, answer: Answer, language: Language) -> None:
        self.answer = answer
        self.notice_label.hide()
        self._paint(GREEN if answer.granted else RED)
        if answer.granted:
            key = (
                "verdict_in_granted" if answer.direction is Direction.IN else "verdict_out_granted"
            )
        else:
            key = "verdict_refused"
        self.verdict_label.setText(text(key, language))
        self.reason_label.setText(
            reason_text(
                answer.reason,
                language,
                gates=answer.gates,
                zone=answer.zone_name or answer.zone or "",
                cause=answer.cause,
            )
        )
        zone = answer.zone_name or answer.zone
        self._set(self.zone_label, text("zone", language, zone=zone) if zone else "")
        seat = answer.seat
        self._set(self.seat_label, text("seat", language, seat=seat) if seat else "")
        name = answer.holder_name
        self._set(self.holder_label, text("holder", language, name=name) if name else "")

    def show_annulment(self, notice: Answer, language: Language, *, following: bool) -> None:
        """Nobody passed: a notice under the answer still shown, or an amber screen of its own."""
        words = reason_text(notice.reason, language)
        if following:
            self.notice_label.setText(words)
            self.notice_label.show()
            return
        self.answer = notice
        self._paint(AMBER)
        self.verdict_label.setText(text("verdict_annulled", language))
        self.reason_label.setText(words)
        zone = notice.zone_name or notice.zone
        self._set(self.zone_label, text("zone", language, zone=zone) if zone else "")
        self._set(self.seat_label, "")
        self._set(self.holder_label, "")
        self.notice_label.hide()

    def _paint(self, colour: str) -> None:
        self.colour = colour
        self.setStyleSheet(f"#answer {{ background: {colour}; }} QLabel {{ color: white; }}")

    @staticmethod
    def _set(label: QLabel, words: str) -> None:
        label.setText(words)
        label.setVisible(bool(words))


class EmergencyBanner(QLabel):
    """Shown across the top for as long as emergency free passage holds the turnstile open."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(_font(40, bold=True))
        self.setAlignment(CENTER)
        self.setStyleSheet("background: #ffd23f; color: #1a1a1a; padding: 14px;")
        self.hide()

    def retranslate(self, language: Language) -> None:
        self.setText("⚠ " + text("emergency_banner", language) + " ⚠")


class StatusPanel(QWidget):
    """The bottom bar: sync, last sync, outbox, entries, turnstile, camera, audio, supervisor."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#status { background: #222831; } QLabel { color: white; padding: 4px 10px; }"
        )
        self.sync_label = _label(22, bold=True)
        self.last_sync_label = _label(22)
        self.outbox_label = _label(22)
        self.entries_label = _label(22)
        self.relay_label = _label(22)
        self.camera_label = _label(22)
        self.audio_label = _label(22)
        self.clock_label = _label(22)
        self.supervisor_button = QPushButton()
        self.supervisor_button.setFont(_font(20))
        self.supervisor_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        for label in self.labels():
            label.setWordWrap(False)
            layout.addWidget(label)
        layout.addStretch(1)
        layout.addWidget(self.supervisor_button)
        self.audio_ok = True
        self.status: KioskStatus | None = None

    def labels(self) -> list[QLabel]:
        return [
            self.sync_label,
            self.last_sync_label,
            self.outbox_label,
            self.entries_label,
            self.relay_label,
            self.camera_label,
            self.audio_label,
            self.clock_label,
        ]

    def show_status(self, status: KioskStatus, now: float | None = None) -> None:
        self.status = status
        lang = status.language
        now = time.time() if now is None else now
        sync_key = "sync_local" if status.sync == LOCAL else f"sync_{status.sync}"
        if status.rebuilding and status.sync != SyncState.DAMAGED:
            sync_key = "sync_rebuilding"
        self._pill(
            self.sync_label,
            text(sync_key, lang),
            ok=(status.online or status.sync == LOCAL) and not status.rebuilding,
        )
        if status.last_sync_ms is None:
            self.last_sync_label.setText("" if status.sync == LOCAL else text("never_synced", lang))
        else:
            age = age_text(now - status.last_sync_ms / 1000, lang)
            self.last_sync_label.setText(text("last_sync", lang, age=age))
        self.last_sync_label.setVisible(bool(self.last_sync_label.text()))
        self._pill(self.outbox_label, text("outbox", lang, n=status.outbox), ok=True)
        self.entries_label.setText(text("entries_hour", lang, n=status.entries_hour))
        if status.emergency:
            relay, ok = text("relay_emergency", lang), False
        elif status.relay == "none":
            relay, ok = text("relay_none", lang), True
        elif status.relay == "ok":
            relay, ok = text("relay_ok", lang), True
        else:
            relay, ok = text("relay_fault", lang), False
        self._pill(self.relay_label, relay, ok=ok)
        camera = {
            SourceStatus.OK: "camera_ok",
            SourceStatus.STARTING: "camera_starting",
            SourceStatus.UNAVAILABLE: "camera_unavailable",
            SourceStatus.ENDED: "camera_ended",
        }[status.camera.status]
        self._pill(
            self.camera_label,
            text(camera, lang),
            ok=status.camera.status is not SourceStatus.UNAVAILABLE,
        )
        self._pill(
            self.audio_label,
            text("audio_ok" if self.audio_ok else "audio_none", lang),
            ok=self.audio_ok,
        )
        if status.clock_unverified_s is None:
            self.clock_label.setText("")
        else:
            age = age_text(status.clock_unverified_s, lang)
            self._pill(self.clock_label, text("clock_unverified", lang, age=age), ok=False)
        self.clock_label.setVisible(bool(self.clock_label.text()))
        self.supervisor_button.setText(text("supervisor", lang))

    @staticmethod
    def _pill(label: QLabel, words: str, *, ok: bool) -> None:
        label.setText(words)
        label.setProperty("ok", ok)
        label.setStyleSheet("" if ok else "background: #b3001b; border-radius: 4px;")
