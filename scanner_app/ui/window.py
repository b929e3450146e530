"""The kiosk window: idle, answer, PIN and supervisor pages over a status bar.

It takes the model in its constructor and follows it through :class:`KioskSignals`; it holds no
gate logic. The answer stays ``answer_s`` seconds, then the idle page is back, or the PIN page or
supervisor panel if the answer came while one was open: a scan at the turnstile must be shown to
the holder, and must not throw the supervisor out of what they were doing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from scanner_app.frames import SourceStatus
from scanner_app.i18n import text
from scanner_app.kiosk import Answer, Kiosk, KioskStatus
from scanner_app.ui.bridge import KioskSignals
from scanner_app.ui.screens import AnswerScreen, EmergencyBanner, IdleScreen, StatusPanel
from scanner_app.ui.sound import AnswerSounds
from scanner_app.ui.supervisor import PinPage, SupervisorPanel
from scanner_app.ui.wedge_filter import WedgeFilter

STATUS_REFRESH_MS = 1000
"""The age of the last sync and the hour's entries move with the clock."""


class KioskWindow(QMainWindow):
    def __init__(
        self, kiosk: Kiosk, *, sounds: AnswerSounds | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.signals = KioskSignals(kiosk, self)
        self.sounds = sounds if sounds is not None else AnswerSounds(self)
        self.idle = IdleScreen()
        self.answer = AnswerScreen()
        self.pin_page = PinPage(kiosk)
        self.panel = SupervisorPanel(kiosk)
        self.banner = EmergencyBanner()
        self.status_panel = StatusPanel()
        self.stack = QStackedWidget()
        for page in (self.idle, self.answer, self.pin_page, self.panel):
            self.stack.addWidget(page)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status_panel)
        self.setCentralWidget(central)

        self.back_timer = QTimer(self)
        self.back_timer.setSingleShot(True)
        self.back_timer.timeout.connect(self._answer_shown)
        self._after_answer: QWidget = self.idle
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.refresh_status)
        self.status_timer.start(STATUS_REFRESH_MS)

        self.wedge_filter = WedgeFilter(kiosk, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.wedge_filter)

        s = self.signals
        s.answered.connect(self.show_answer)
        s.annulled.connect(self.show_annulment)
        s.status_changed.connect(self.show_status)
        s.settings_changed.connect(self.retranslate)
        s.emergency_changed.connect(self.show_emergency)
        s.scan_logged.connect(self._scan_logged)
        s.preview.connect(self.idle.preview.show_image)
        self.sounds.availability_changed.connect(self._audio_changed)
        self.status_panel.supervisor_button.clicked.connect(self.show_pin)
        self.pin_page.accepted.connect(self.show_supervisor)
        self.pin_page.cancelled.connect(self.show_idle)
        self.panel.closed.connect(self.show_idle)
        self.stack.currentChanged.connect(self._page_changed)
        self.retranslate()
        self.show_emergency(kiosk.emergency)

    # -- pages --------------------------------------------------------------------------------

    def show_idle(self) -> None:
        self.back_timer.stop()
        self._after_answer = self.idle
        self.stack.setCurrentWidget(self.idle)

    def _interrupt_for_answer(self) -> None:
        """Remember the supervisor's page (if one is open) to come back to after the answer."""
        current = self.stack.currentWidget()
        if current is self.pin_page or current is self.panel:
            self._after_answer = current

    def _answer_shown(self) -> None:
        back, self._after_answer = self._after_answer, self.idle
        if back is self.panel:
            self.show_supervisor()
        else:
            self.stack.setCurrentWidget(back)

    def show_answer(self, answer: Answer) -> None:
        self._interrupt_for_answer()
        self.answer.show_answer(answer, self.kiosk.language)
        self.stack.setCurrentWidget(self.answer)
        self.sounds.play("granted" if answer.granted else "refused")
        self.back_timer.start(round(self.kiosk.settings.answer_s * 1000))

    def show_annulment(self, notice: Answer) -> None:
        """Nobody passed: under the answer if it is still shown, else on an amber screen."""
        shown = self.answer.answer
        following = (
            self.stack.currentWidget() is self.answer
            and shown is not None
            and shown.scan_id == notice.annuls
        )
        self._interrupt_for_answer()
        self.answer.show_annulment(notice, self.kiosk.language, following=following)
        self.stack.setCurrentWidget(self.answer)
        self.sounds.play("notice")
        self.back_timer.start(round(self.kiosk.settings.answer_s * 1000))

    def show_pin(self) -> None:
        self.back_timer.stop()
        self._after_answer = self.idle
        self.pin_page.reset()
        self.stack.setCurrentWidget(self.pin_page)

    def show_supervisor(self) -> None:
        self.panel.refresh()
        self.stack.setCurrentWidget(self.panel)

    def _page_changed(self, _index: int) -> None:
        self.signals.preview_enabled = self.stack.currentWidget() is self.idle

    # -- state --------------------------------------------------------------------------------

    def show_status(self, status: KioskStatus) -> None:
        self.status_panel.show_status(status)
        self.idle.set_camera_ok(status.camera.status is not SourceStatus.UNAVAILABLE)
        if status.emergency != self.banner.isVisible():
            self.show_emergency(status.emergency)

    def refresh_status(self) -> None:
        self.show_status(self.kiosk.status())

    def show_emergency(self, on: bool) -> None:
        self.banner.setVisible(on)

    def _audio_changed(self, available: bool) -> None:
        self.status_panel.audio_ok = available
        self.refresh_status()

    def _scan_logged(self, _record: object) -> None:
        if self.stack.currentWidget() is self.panel:
            self.panel.refresh()

    def retranslate(self, _status: object = None) -> None:
        """Every text in the kiosk's language; Arabic lays the whole window out right to left."""
        language = self.kiosk.language
        QGuiApplication.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if language.right_to_left
            else Qt.LayoutDirection.LeftToRight
        )
        self.setWindowTitle(f"{text('app_title', language)} — {self.kiosk.gate_name}")
        self.idle.retranslate(self.kiosk.gate_name, self.kiosk.direction, language)
        self.banner.retranslate(language)
        self.pin_page.retranslate(language)
        self.panel.retranslate(language)
        if self.answer.answer is not None and self.stack.currentWidget() is self.answer:
            self.answer.show_answer(self.answer.answer, language)
        self.status_panel.audio_ok = self.sounds.available
        self.refresh_status()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.wedge_filter)
        self.status_timer.stop()
        self.back_timer.stop()
        super().closeEvent(event)
