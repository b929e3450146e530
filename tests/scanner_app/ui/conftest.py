"""Qt widgets render offscreen in tests: no display needed. Set before any QApplication."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from scanner_app.kiosk import Kiosk
from scanner_app.ui.window import KioskWindow
from tests.scanner_app.ui.support import Site, demo_site, make_kiosk


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return demo_site(tmp_path)


@pytest.fixture
def kiosk(site: Site) -> Iterator[Kiosk]:
    kiosk = make_kiosk(site)
    yield kiosk
    kiosk.stop()


@pytest.fixture
def window(qtbot: QtBot, kiosk: Kiosk) -> Iterator[KioskWindow]:
    window = KioskWindow(kiosk)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    kiosk.start()
    yield window
    window.sounds.close()
    # The layout direction is application-wide: leave it as the next test expects.
    QGuiApplication.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
