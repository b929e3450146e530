"""``gate-scanner run`` as a process: its start-up check, its health log, its exit on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner_app.config import TerminalConfig
from scanner_app.health import ProcessHealth, process_health
from scanner_app.ui import app as kiosk_app
from scanner_app.ui import bindings
from scanner_app.ui.bindings import BindingsCheck

GATE_SCANNER = str(Path(sys.executable).with_name("gate-scanner"))


def test_the_kiosk_refuses_to_start_on_bindings_that_drop_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    leaking = BindingsCheck("6.12.0", "3.11.7", 1_000, {"QTimer.start": {"None": -1_000}})
    monkeypatch.setattr(bindings, "check_bindings", lambda: leaking)

    def no_kiosk(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the kiosk was built despite the failed check")

    monkeypatch.setattr(kiosk_app.Kiosk, "from_config", no_kiosk)
    config = TerminalConfig(path=tmp_path / "gate.toml", replica="gate.db")
    assert kiosk_app.run(config) == kiosk_app.EXIT_BAD_BINDINGS == 3
    said = capsys.readouterr().err
    assert "PySide6 6.12.0" in said and "None -1,000" in said and "requirements/site.txt" in said


def test_the_unit_does_not_restart_a_kiosk_refused_by_its_check() -> None:
    unit = Path(__file__).parents[3] / "packaging/systemd/user/entrix-kiosk.service"
    assert f"RestartPreventExitStatus={kiosk_app.EXIT_BAD_BINDINGS}" in unit.read_text()


def test_process_health_reads_this_process() -> None:
    health = process_health()
    assert health.rss_kb > 10_000  # an interpreter with pytest loaded
    assert health.threads >= 1
    with open(os.devnull) as extra:  # noqa: F841 - one more descriptor, held open
        assert process_health().open_fds == health.open_fds + 1
    assert set(health.refcounts) == {"None", "True", "False"}
    assert ProcessHealth.from_log_line("12:00 INFO x " + health.log_line()) == health


@pytest.mark.parametrize(
    "line",
    ["", "health ", "health {", 'health {"rss_kb": 1}', 'health {"rss_kb": "x", "threads": 1, '
     '"open_fds": 1, "refcounts": {}}', "health []", "something else entirely"],
)  # fmt: skip
def test_a_line_without_health_reads_as_none(line: str) -> None:
    assert ProcessHealth.from_log_line(line) is None


@pytest.mark.slow
def test_the_kiosk_logs_its_health_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The real window (offscreen) with its demo camera; SIGTERM ends it with status 0."""
    subprocess.run(
        [GATE_SCANNER, "seed-demo", "--db", str(tmp_path / "gate.db"), "--rights", "200"],
        check=True,
        capture_output=True,
    )
    config = tmp_path / "gate.toml"
    config.write_text('[gate]\nreplica = "gate.db"\n\n[kiosk]\nhealth_log_s = 1\n')
    log = tmp_path / "kiosk.log"
    with log.open("wb") as out:
        kiosk = subprocess.Popen(
            [GATE_SCANNER, "run", "--demo", "--config", str(config)],
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and kiosk.poll() is None:
                healths = [
                    h
                    for h in map(ProcessHealth.from_log_line, log.read_text().splitlines())
                    if h is not None
                ]
                if len(healths) >= 3:
                    break
                time.sleep(0.2)
            assert kiosk.poll() is None, log.read_text()[-2000:]
            assert len(healths) >= 3, log.read_text()[-2000:]
            kiosk.send_signal(signal.SIGTERM)
            status = kiosk.wait(timeout=10)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
    assert status == 0, log.read_text()[-2000:]
    assert all(h.threads > 1 and h.open_fds > 3 and h.rss_kb > 50_000 for h in healths)
    assert "Fatal Python error" not in log.read_text()
