"""Take the README's screenshots of the real kiosk window: run under a display (``xvfb-run -a``).

``python -m scanner_app.ui.screenshots --db demo/gate.db --out docs/screenshots`` after
``gate-scanner seed-demo --db demo/gate.db``: idle, granted and refused in French and Arabic, and
the supervisor panel, each grabbed from the screen as a controller would see it.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from hardware import TurnstileConfig, open_turnstile
from scanner_app.demo_camera import DemoCamera, demo_codes
from scanner_app.frames import GrayImage
from scanner_app.kiosk import Kiosk
from scanner_app.scanning import Debouncer, ScanPipeline
from scanner_app.ui.app import application
from scanner_app.ui.window import KioskWindow


class _Blind:
    """A decoder that sees nothing: the preview shows a code, the screenshots choose the scans."""

    name = "none"

    def decode(self, image: GrayImage) -> list[str]:
        return []


def _wait(app: QApplication, done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the kiosk did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app: QApplication, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def take(db: Path, out: Path) -> list[Path]:
    app = application()
    codes = demo_codes(db.parent / "codes.txt")
    labelled = dict(
        (line.split("\t")[0], line.split("\t")[1])
        for line in (db.parent / "codes.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    camera = DemoCamera(codes, show_s=1000, gap_s=1)
    turnstile = open_turnstile(
        TurnstileConfig.from_document(
            {"relay": {"driver": "simulated"}, "sensor": {"driver": "simulated", "walk_s": 0.2}}
        )
    )
    kiosk = Kiosk(
        replica_path=db,
        source=camera,
        pipeline=ScanPipeline(_Blind(), Debouncer()),
        turnstile=turnstile,
        venue="Stade de Radès",
    )
    kiosk.settings.answer_s = 60
    kiosk.set_language("fr")
    window = KioskWindow(kiosk)
    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def grab(name: str) -> None:
        _settle(app)
        screen = QGuiApplication.primaryScreen()
        path = out / f"{name}.png"
        screen.grabWindow(0).save(str(path))
        taken.append(path)
        print(path)

    def answer(code: str) -> None:
        before = window.answer.answer
        kiosk.submit(code)
        _wait(app, lambda: window.answer.answer is not before)

    kiosk.start()
    # Xvfb has no window manager to honour showFullScreen: cover the screen by hand.
    window.setGeometry(QGuiApplication.primaryScreen().geometry())
    window.showFullScreen()
    try:
        _wait(app, lambda: window.idle.preview.frames_shown > 3)
        grab("idle-fr")
        answer(labelled["home-ticket"])
        grab("granted-fr")
        answer(labelled["away-ticket"])
        grab("refused-fr")
        kiosk.set_language("ar")
        window.show_idle()
        grab("idle-ar")
        answer(labelled["staff-badge"])
        grab("granted-ar")
        answer(labelled["banned-holder"])
        grab("refused-ar")
        kiosk.set_language("fr")
        window.panel.operator_edit.setText("K. Ben Salah")
        window.panel.why_edit.setText("fauteuil roulant")
        window.panel.manual_open()
        window.show_supervisor()
        grab("supervisor-fr")
    finally:
        window.close()
        kiosk.stop()
        window.sounds.close()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner_app.ui.screenshots")
    parser.add_argument("--db", type=Path, default=Path("demo/gate.db"))
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    take(args.db, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
