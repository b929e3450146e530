"""The first-start screen (issue 17), real Qt widgets offscreen: it asks for the back office's
enrollment QR in the terminal's language, says when a code is not one, and hands over to the
kiosk once enrolled."""

from __future__ import annotations

import os
from pathlib import Path

from pytestqt.qtbot import QtBot

from scanner_app.enrollment import Enrolled
from scanner_app.first_start import FirstStart, Step
from scanner_app.i18n import Language
from scanner_app.ui.first_start import FirstStartWindow
from sync_server import enrollment_link
from tests.support.server import REPO, RunningServer
from tests.support.site import Site, ok


def test_it_asks_for_the_qr_and_hands_over_once_enrolled(
    qtbot: QtBot, server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    model = FirstStart(tmp_path / "gate.toml")
    handed: list[Enrolled] = []
    window = FirstStartWindow(model, language=Language.FR, on_enrolled=handed.append)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    assert window.title.text() == "Terminal à enrôler"
    assert "montrez le QR code à la caméra" in window.hint.text()
    model.submit("EG1:a-ticket")
    qtbot.waitUntil(lambda: "pas un code d'enrôlement" in window.state.text(), timeout=2_000)
    if os.environ.get("ENTRIX_SCREENSHOTS") == "1":
        window.grab().save(str(REPO / "docs" / "screenshots" / "first-start-fr.png"))
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/SUD-1/enrollment"), 201)["code"]
    model.submit(enrollment_link.link(server.url, code, []))
    qtbot.waitUntil(lambda: "Enrôlé comme porte SUD-1" in window.state.text(), timeout=20_000)
    qtbot.waitUntil(lambda: bool(handed), timeout=5_000)
    assert handed[0].config.gate == "SUD-1" and model.state.step is Step.ENROLLED


def test_arabic_reads_right_to_left(qtbot: QtBot, tmp_path: Path) -> None:
    window = FirstStartWindow(FirstStart(tmp_path / "gate.toml"), language=Language.AR)
    qtbot.addWidget(window)
    assert window.title.text() == "جهاز بحاجة إلى تسجيل"
    assert window.layoutDirection().name == "RightToLeft"
