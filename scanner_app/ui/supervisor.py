"""The supervisor's side of the kiosk, behind a PIN: manual open, emergency, direction, sync,
the last scans, the device. Every action is the model's; the widgets only ask and show."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scanner_app.i18n import Language, reason_text, text
from scanner_app.kiosk import Kiosk
from scanner_app.pin import PinStatus
from shared.model import Direction

PANEL_STYLE = """
#panel, #pin { background: #eef1f5; }
QLabel { color: #111; }
QPushButton { padding: 12px 18px; border-radius: 6px; background: #2f3b4c; color: white; }
QPushButton:disabled { background: #9aa3ad; }
QPushButton#danger { background: #b3001b; }
QLineEdit, QComboBox { padding: 8px; background: white; color: #111; }
"""


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class PinPage(QWidget):
    """Asks for a person's name and own PIN (the gate's PIN while it has no staff synced); five
    wrong tries lock it for five minutes (kept on restart)."""

    accepted = Signal()
    cancelled = Signal()

    def __init__(self, kiosk: Kiosk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.setObjectName("pin")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(PANEL_STYLE)
        self.prompt_label = QLabel()
        self.prompt_label.setFont(_font(40, bold=True))
        self.name_label = QLabel()
        self.name_label.setFont(_font(28))
        self.name_combo = QComboBox()
        self.name_combo.setFont(_font(32))
        self.name_combo.setMaximumWidth(620)
        self.pin_edit = QLineEdit()
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setValidator(QRegularExpressionValidator(r"\d{0,12}"))
        self.pin_edit.setFont(_font(40))
        self.pin_edit.setMaximumWidth(420)
        self.message_label = QLabel()
        self.message_label.setFont(_font(28, bold=True))
        self.message_label.setStyleSheet("color: #b3001b;")
        self.message_label.setWordWrap(True)
        self.ok_button = QPushButton()
        self.back_button = QPushButton()
        for button in (self.ok_button, self.back_button):
            button.setFont(_font(28))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(64, 48, 64, 48)
        layout.addStretch(1)
        layout.addWidget(self.name_label)
        layout.addWidget(self.name_combo)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.message_label)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(2)
        self.ok_button.clicked.connect(self.submit)
        self.pin_edit.returnPressed.connect(self.submit)
        self.back_button.clicked.connect(self.cancelled.emit)

    def retranslate(self, language: Language) -> None:
        personal = bool(self.kiosk.pin.names())
        self.prompt_label.setText(text("pin_prompt_own" if personal else "pin_prompt", language))
        self.name_label.setText(text("pin_name", language))
        self.ok_button.setText(text("ok", language))
        self.back_button.setText(text("back", language))

    def reset(self) -> None:
        names = self.kiosk.pin.names()
        chosen = self.name_combo.currentText()
        self.name_combo.clear()
        self.name_combo.addItems(names)
        if chosen in names:
            self.name_combo.setCurrentText(chosen)
        for widget in (self.name_label, self.name_combo):
            widget.setVisible(bool(names))
        self.retranslate(self.kiosk.language)
        self.pin_edit.clear()
        self.message_label.clear()
        locked = self.kiosk.pin.locked_for()
        if locked > 0:
            self._locked(locked)
        self.pin_edit.setFocus()

    def submit(self) -> None:
        name = self.name_combo.currentText() if self.name_combo.isVisible() else None
        check = self.kiosk.unlock(self.pin_edit.text(), name)
        self.pin_edit.clear()
        language = self.kiosk.language
        if check.accepted:
            self.message_label.clear()
            self.accepted.emit()
        elif check.status is PinStatus.LOCKED:
            self._locked(check.locked_for_s)
        elif check.status is PinStatus.UNSET:
            self.message_label.setText(text("pin_unset", language))
        else:
            self.message_label.setText(text("pin_wrong", language, n=check.tries_left))

    def _locked(self, seconds: float) -> None:
        minutes = max(1, round(seconds / 60))
        self.message_label.setText(text("pin_locked", self.kiosk.language, minutes=minutes))


class SupervisorPanel(QWidget):
    """What a supervisor may do at the gate; each button calls the model and shows the result."""

    closed = Signal()

    def __init__(self, kiosk: Kiosk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.setObjectName("panel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(PANEL_STYLE)
        big, normal = _font(26, bold=True), _font(22)
        self.title_label = QLabel()
        self.title_label.setFont(_font(34, bold=True))
        self.operator_edit = QLineEdit()
        self.why_edit = QLineEdit()
        self.operator_edit.setMaxLength(80)
        self.why_edit.setMaxLength(200)
        self.manual_open_button = QPushButton()
        self.emergency_button = QPushButton()
        self.emergency_button.setObjectName("danger")
        self.direction_button = QPushButton()
        self.sync_button = QPushButton()
        self.language_combo = QComboBox()
        for language in Language:
            self.language_combo.addItem(language.native_name, language.value)
        self.back_button = QPushButton()
        self.feedback_label = QLabel()
        self.feedback_label.setWordWrap(True)
        self.scans_label = QLabel()
        self.scans_table = QTableWidget(0, 5)
        self.scans_table.verticalHeader().hide()
        self.scans_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.scans_table.horizontalHeader()
        for column in (0, 1, 3, 4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.scans_table.setWordWrap(True)
        self.device_label = QLabel()
        self.device_label.setWordWrap(True)
        for widget in (
            self.operator_edit,
            self.why_edit,
            self.language_combo,
            self.feedback_label,
            self.device_label,
            self.scans_table,
        ):
            widget.setFont(normal)
        buttons: tuple[QWidget, ...] = (
            self.manual_open_button,
            self.emergency_button,
            self.direction_button,
            self.sync_button,
            self.back_button,
            self.scans_label,
        )
        for button in buttons:
            button.setFont(big)
        self.operator_label, self.why_label, self.language_label = QLabel(), QLabel(), QLabel()
        for label in (self.operator_label, self.why_label, self.language_label):
            label.setFont(normal)

        actions = QGridLayout()
        actions.addWidget(self.operator_label, 0, 0)
        actions.addWidget(self.operator_edit, 0, 1)
        actions.addWidget(self.why_label, 1, 0)
        actions.addWidget(self.why_edit, 1, 1)
        actions.addWidget(self.manual_open_button, 2, 0, 1, 2)
        actions.addWidget(self.emergency_button, 3, 0, 1, 2)
        actions.addWidget(self.direction_button, 4, 0, 1, 2)
        actions.addWidget(self.sync_button, 5, 0, 1, 2)
        actions.addWidget(self.language_label, 6, 0)
        actions.addWidget(self.language_combo, 6, 1)
        actions.addWidget(self.feedback_label, 7, 0, 1, 2)
        actions.setRowStretch(8, 1)
        actions.addWidget(self.back_button, 9, 0, 1, 2)
        scans = QVBoxLayout()
        scans.addWidget(self.scans_label)
        scans.addWidget(self.scans_table, 1)
        scans.addWidget(self.device_label)
        body = QHBoxLayout()
        body.addLayout(actions, 2)
        body.addLayout(scans, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self.title_label)
        layout.addLayout(body, 1)

        self.operator_edit.textChanged.connect(self._enable)
        self.why_edit.textChanged.connect(self._enable)
        self.manual_open_button.clicked.connect(self.manual_open)
        self.emergency_button.clicked.connect(self.toggle_emergency)
        self.direction_button.clicked.connect(self.switch_direction)
        self.sync_button.clicked.connect(self.force_sync)
        self.language_combo.activated.connect(self._language_chosen)
        self.back_button.clicked.connect(self.close_panel)
        self._enable()

    # -- actions ------------------------------------------------------------------------------

    def manual_open(self) -> None:
        self.kiosk.manual_open(self.operator_edit.text(), self.why_edit.text())
        self.why_edit.clear()
        self.feedback_label.setText(text("manual_open_done", self.kiosk.language))
        self.refresh()

    def toggle_emergency(self) -> None:
        on = not self.kiosk.emergency
        self.kiosk.set_emergency(on, self.operator_edit.text(), self.why_edit.text())
        self.feedback_label.setText(
            reason_text("emergency_open" if on else "emergency_release", self.kiosk.language)
        )
        self.refresh()

    def switch_direction(self) -> None:
        current = self.kiosk.direction
        self.kiosk.set_direction(Direction.OUT if current is Direction.IN else Direction.IN)
        self.refresh()

    def force_sync(self) -> None:
        key = "sync_requested" if self.kiosk.force_sync() else "no_server"
        self.feedback_label.setText(text(key, self.kiosk.language))

    def _language_chosen(self, index: int) -> None:
        self.kiosk.set_language(str(self.language_combo.itemData(index)))

    def close_panel(self) -> None:
        self.kiosk.lock()
        self.closed.emit()

    def _enable(self) -> None:
        ready = bool(self.operator_edit.text().strip() and self.why_edit.text().strip())
        self.manual_open_button.setEnabled(ready)

    # -- display ------------------------------------------------------------------------------

    def retranslate(self, language: Language) -> None:
        self.title_label.setText(text("supervisor", language) + f" — {self.kiosk.gate_name}")
        self.operator_label.setText(text("operator", language))
        self.why_label.setText(text("why", language))
        self.manual_open_button.setText(text("manual_open", language))
        self.sync_button.setText(text("force_sync", language))
        self.language_label.setText(text("language", language))
        self.back_button.setText(text("back", language))
        self.scans_label.setText(text("last_scans", language))
        self.scans_table.setHorizontalHeaderLabels(
            [
                text(key, language)
                for key in ("col_time", "col_direction", "col_reason", "col_zone", "col_operator")
            ]
        )
        self.language_combo.setCurrentIndex(self.language_combo.findData(language.value))
        self.refresh()

    def refresh(self) -> None:
        kiosk, language = self.kiosk, self.kiosk.language
        # Whoever opened the panel with their own PIN is who acts here: not a name to type.
        on_duty = kiosk.on_duty
        self.operator_edit.setReadOnly(on_duty is not None)
        if on_duty is not None:
            self.operator_edit.setText(on_duty)
            self.operator_edit.setToolTip(text("on_duty", language, name=on_duty))
        self.emergency_button.setText(
            text("emergency_off" if kiosk.emergency else "emergency_on", language)
        )
        other = Direction.OUT if kiosk.direction is Direction.IN else Direction.IN
        way = text("direction_in" if other is Direction.IN else "direction_out", language)
        self.direction_button.setText(text("switch_to", language, direction=way))
        scans = kiosk.recent_scans()
        self.scans_table.setRowCount(len(scans))
        for row, scan in enumerate(scans):
            at = datetime.fromtimestamp(scan.scanned_at_ms / 1000).strftime("%H:%M:%S")
            way = text(
                "direction_in" if scan.direction is Direction.IN else "direction_out", language
            )
            cells = [
                at,
                way,
                reason_text(scan.reason, language, gates="…", zone=scan.zone or ""),
                kiosk.zone_name(scan.zone, scan.event) or scan.zone or "",
                scan.operator or "",
            ]
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column == 2 and scan.detail and scan.operator:
                    item.setToolTip(scan.detail)
                self.scans_table.setItem(row, column, item)
        self.scans_table.resizeRowsToContents()
        status = kiosk.status()
        self.device_label.setText(
            text(
                "device",
                language,
                gate=kiosk.gate_name,
                venue=kiosk.venue or "—",
                version=kiosk.version(),
                relay=kiosk.relay_state(),
                camera=str(status.camera),
            )
        )
