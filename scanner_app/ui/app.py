"""``gate-scanner run``: the kiosk application around :class:`KioskWindow`."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from scanner_app.config import DEMO_EVERY_S, TerminalConfig
from scanner_app.enrollment import Enrolled
from scanner_app.first_start import FirstStart
from scanner_app.health import process_health
from scanner_app.i18n import Language
from scanner_app.kiosk import Kiosk
from scanner_app.ui.window import KioskWindow

EXIT_BAD_BINDINGS = 3
"""``gate-scanner run``'s status when the Qt bindings fail the start-up check."""

log = logging.getLogger(__name__)

FONT_FAMILIES = ["DejaVu Sans", "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic"]
"""DejaVu shapes and joins Arabic; Noto covers what it lacks (Debian: fonts-dejavu-core,
fonts-noto-core)."""


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, made if needed, with the kiosk's fonts."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or [sys.argv[0]])
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    app.setFont(font)
    app.setApplicationName("Entrix Gate")
    return app


def _started() -> QApplication | int:
    """The application, logging set up and the Qt bindings checked; the exit status instead
    when they fail the check (better no kiosk at start-up, said plainly, than one that aborts in
    front of the crowd)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # One line per HTTP request drowns what matters: sync problems are logged by the loop.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Imported here: ``python -m scanner_app.ui.bindings`` runs the module as a program too.
    from scanner_app.ui.bindings import check_bindings

    app = application()
    bindings = check_bindings()
    if not bindings.ok:
        log.critical("%s", bindings.explain())
        print(f"gate-scanner: {bindings.explain()}", file=sys.stderr)
        return EXIT_BAD_BINDINGS
    return app


def _quit_on_signals(app: QApplication) -> QTimer:
    """SIGTERM and SIGINT end the application; the timer returned (keep it) wakes Python now
    and then, which runs signal handlers only between bytecodes."""
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    return wake


def run(
    config: TerminalConfig,
    *,
    fullscreen: bool = False,
    demo: bool = False,
    demo_every_s: float = DEMO_EVERY_S,
) -> int:
    """Open the kiosk window and run until it is closed (or SIGTERM); returns the exit status."""
    app = _started()
    if isinstance(app, int):
        return app
    kiosk = Kiosk.from_config(config, demo=demo, demo_every_s=demo_every_s)
    window = KioskWindow(kiosk)
    _wake = _quit_on_signals(app)  # kept: Python runs signal handlers when it wakes
    health = QTimer()
    if config.kiosk.health_log_s:
        health.timeout.connect(lambda: log.info("%s", process_health().log_line()))
        health.start(int(config.kiosk.health_log_s * 1000))
        log.info("%s", process_health().log_line())
    kiosk.start()
    if fullscreen or config.kiosk.fullscreen:
        window.showFullScreen()
    else:
        window.resize(1280, 800)
        window.show()
    try:
        return app.exec()
    finally:
        window.close()
        kiosk.stop()
        window.sounds.close()


def run_first_start(config: TerminalConfig, *, fullscreen: bool = False) -> int:
    """A terminal not enrolled yet: the enrollment screen until a link from the back office is
    read (camera or code reader), then the kiosk as the gate it became, in the same window's
    place and the same process."""
    from scanner_app.frames import FrameSourceError, open_source
    from scanner_app.scanning import ScanPipeline
    from scanner_app.ui.first_start import FirstStartWindow

    app = _started()
    if isinstance(app, int):
        return app
    try:
        source = open_source(config.camera_settings())
    except FrameSourceError as exc:
        log.warning("no camera for the enrollment screen (%s): the code reader still works", exc)
        source = None
    model = FirstStart(
        config.path, source=source, pipeline=ScanPipeline.from_settings(config.scan_settings()),
        wedge=config.wedge,
    )  # fmt: skip
    running: dict[str, object] = {}

    def enrolled(done: Enrolled) -> None:
        model.stop()
        screen.close()
        kiosk = Kiosk.from_config(TerminalConfig.load(done.config.path))
        window = KioskWindow(kiosk)
        running.update(kiosk=kiosk, window=window)
        kiosk.start()
        window.showFullScreen() if fullscreen or config.kiosk.fullscreen else window.show()

    screen = FirstStartWindow(model, language=Language(config.kiosk.language), on_enrolled=enrolled)
    _wake = _quit_on_signals(app)  # kept: Python runs signal handlers when it wakes
    model.start()
    if fullscreen or config.kiosk.fullscreen:
        screen.showFullScreen()
    else:
        screen.resize(1280, 800)
        screen.show()
    try:
        return app.exec()
    finally:
        model.stop()
        kiosk_running = running.get("kiosk")
        if isinstance(kiosk_running, Kiosk):
            window_running = running["window"]
            assert isinstance(window_running, KioskWindow)
            window_running.close()
            kiosk_running.stop()
            window_running.sounds.close()


def screenshot_path(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
