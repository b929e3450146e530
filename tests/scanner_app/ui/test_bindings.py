"""The guard against a Qt binding that drops references to None, True or False (issue 12).

PySide6 6.12.0 on Python 3.11 moves ``sys.getrefcount(None)`` by -1 per call of a ``void`` Qt
method, and the kiosk aborts within minutes. The guard runs in a child process: with such a
binding, 10,000 calls may abort the interpreter, which must fail this test, not end the suite.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import PySide6
import pytest
from pytestqt.qtbot import QtBot

from scanner_app.ui.bindings import START_CALLS, BindingsCheck, check_bindings

GUARD_CALLS = 10_000


def test_void_and_bool_qt_calls_leave_the_singletons_reference_counts_alone() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "scanner_app.ui.bindings", "--calls", str(GUARD_CALLS), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode < 0:
        fatal = [line for line in done.stderr.splitlines() if "Fatal Python error" in line]
        pytest.fail(
            f"Python died of signal {signal.Signals(-done.returncode).name} after calls into Qt "
            f"(PySide6 {PySide6.__version__}): {' '.join(fatal) or done.stderr[-600:]}"
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no measurement (status {done.returncode}): {done.stderr[-600:]}"
    measured = json.loads(lines[-1])
    assert measured["calls"] == GUARD_CALLS
    assert len(measured["deltas"]) >= 8
    falls = {
        f"{method}: {name} {delta:+}"
        for method, moved in measured["deltas"].items()
        for name, delta in moved.items()
        if delta < -GUARD_CALLS // 100
    }
    assert not falls, f"PySide6 {measured['pyside']} drops references: {sorted(falls)}"
    assert done.returncode == 0


def test_the_start_up_check_passes_on_the_installed_binding(qtbot: QtBot) -> None:
    check = check_bindings(START_CALLS)
    assert check.ok, check.explain()
    assert check.pyside_version == PySide6.__version__
    assert set(check.deltas) >= {"QLabel.setVisible", "QTimer.start", "QWidget.isVisible"}


def test_a_binding_that_drops_one_reference_per_call_is_refused() -> None:
    """What 6.12.0 measured: -998 on None over 1,000 calls of QLabel.setVisible."""
    leaking = BindingsCheck(
        pyside_version="6.12.0",
        python_version="3.11.7",
        calls=1_000,
        deltas={
            "QLabel.setVisible": {"None": -998, "True": 0, "False": 0},
            "QWidget.isVisible": {"None": 0, "True": 0, "False": -1_000},
        },
    )
    assert not leaking.ok
    assert [(f.method, f.singleton) for f in leaking.falls] == [
        ("QLabel.setVisible", "None"),
        ("QWidget.isVisible", "False"),
    ]
    assert "6.12.0" in leaking.explain() and "None -998" in leaking.explain()


def test_noise_within_the_tolerance_and_growth_are_not_falls() -> None:
    """A good binding moves the counts by 0; a freed object may take a reference or two."""
    quiet = BindingsCheck(
        pyside_version="6.11.3",
        python_version="3.11.7",
        calls=1_000,
        deltas={"QLabel.setText": {"None": -3, "True": 12, "False": 0}},
    )
    assert quiet.ok
    tipping = BindingsCheck(
        pyside_version="6.11.3",
        python_version="3.11.7",
        calls=1_000,
        deltas={"QLabel.setText": {"None": -11, "True": 0, "False": 0}},
    )
    assert not tipping.ok
