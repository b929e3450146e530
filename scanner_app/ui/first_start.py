"""A terminal's first screen before it is a gate: "show the enrollment QR code", its camera's
picture, and what happened to the last code read (:class:`scanner_app.first_start.FirstStart`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from scanner_app.enrollment import Enrolled
from scanner_app.first_start import FirstStart, FirstStartState, Step
from scanner_app.i18n import Language, text
from scanner_app.ui.bridge import preview_image
from scanner_app.ui.screens import PreviewWidget, _label
from scanner_app.ui.wedge_filter import WedgeFilter

STARTING_MS = 1_500
"""How long "Enrolled as gate ..." shows before the kiosk takes over."""


class FirstStartSignals(QObject):
    state_changed = Signal(object)
    preview = Signal(object)

    def __init__(self, model: FirstStart, parent: QObject | None = None) -> None:
        super().__init__(parent)
        model.state_changed.connect(self.state_changed.emit)
        model.frame_ready.connect(lambda frame: self.preview.emit(preview_image(frame)))


class FirstStartWindow(QWidget):
    def __init__(
        self,
        model: FirstStart,
        *,
        language: Language = Language.FR,
        on_enrolled: Callable[[Enrolled], None] | None = None,
    ) -> None:
        super().__init__()
        self.model, self.language, self._on_enrolled = model, language, on_enrolled
        self.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft
            if language.right_to_left
            else Qt.LayoutDirection.LeftToRight
        )
        self.setStyleSheet("background: #111827; color: #ffffff;")
        self.title = _label(44, bold=True)
        self.hint = _label(26)
        self.state = _label(28, bold=True)
        self.preview = PreviewWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 30, 40, 30)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.state)
        self.title.setText(text("first_title", language))
        self.hint.setText(text("first_hint", language))
        self.signals = FirstStartSignals(model, self)
        self.signals.state_changed.connect(self.show_state)
        self.signals.preview.connect(self.preview.show_image)
        self.wedge_filter = WedgeFilter(model, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.wedge_filter)
        self.done_timer = QTimer(self)
        self.done_timer.setSingleShot(True)
        self.done_timer.timeout.connect(self._hand_over)
        self.show_state(model.state)

    def show_state(self, state: FirstStartState) -> None:
        words = {
            Step.WAITING: "",
            Step.NOT_A_LINK: text("first_not_link", self.language),
            Step.ENROLLING: text("first_enrolling", self.language, server=state.detail),
            Step.FAILED: text("first_failed", self.language, why=state.detail),
        }
        if state.step is Step.ENROLLED and state.enrolled is not None:
            config = state.enrolled.config
            self.state.setText(
                text("first_done", self.language, gate=config.gate, venue=config.venue)
            )
            self.state.setStyleSheet("color: #86efac;")
            self.done_timer.start(STARTING_MS)
            return
        self.state.setText(words[state.step])
        colours = {Step.FAILED: "color: #fca5a5;", Step.NOT_A_LINK: "color: #fcd34d;"}
        self.state.setStyleSheet(colours.get(state.step, ""))

    def _hand_over(self) -> None:
        state = self.model.state
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.wedge_filter)
        if self._on_enrolled is not None and state.enrolled is not None:
            self._on_enrolled(state.enrolled)
