"""The kiosk's Qt widgets: the only package that imports PySide6 (import-linter checks it).

Widgets take the Qt-free :class:`scanner_app.kiosk.Kiosk` in their constructor and follow it
through :class:`~scanner_app.ui.bridge.KioskSignals`.
"""

from scanner_app.ui.app import application, run, run_first_start
from scanner_app.ui.window import KioskWindow

__all__ = ["KioskWindow", "application", "run", "run_first_start"]
