"""The check of the Qt bindings: calls into Qt must leave None, True and False alone.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a Qt method that
returns ``void``: ``sys.getrefcount(None)`` falls by one per call, and within minutes the kiosk
aborts with ``Fatal Python error: none_dealloc`` (issue 12). Python 3.12 made the singletons
immortal, which hides such a bug there; 3.11 is what the gates run. The lock pins a good
version; this check catches the next bad one, twice:

- the kiosk runs :func:`check_bindings` (1,000 calls of each method, a few milliseconds) before
  it opens its window, and refuses to start rather than abort in front of the crowd;
- ``tests/scanner_app/ui/test_bindings.py`` runs ``python -m scanner_app.ui.bindings --calls
  10000`` in a child process, where an abort fails the test instead of killing the suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import PySide6
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from scanner_app.health import singleton_refcounts

START_CALLS = 1_000
"""Calls of each method in the kiosk's start-up check: a bad binding shows -1,000, a good one 0."""

TOLERANCE_PER_CALL = 0.01
"""A fall of up to 1 % of the calls is not counted: a good binding moves the counts by 0, but
objects freed during the run (a cached string, a frame) may take a reference or two with them."""


def _methods() -> dict[str, Callable[[], object]]:
    """Qt methods the kiosk calls all day, returning ``void`` or ``bool``, on objects the
    closures keep alive."""
    label = QLabel("x")
    widget = QWidget()
    timer = QTimer()
    timer.setSingleShot(True)
    started = QTimer()
    started.start(3_600_000)
    owner = QObject()
    return {
        "QLabel.setVisible": lambda: label.setVisible(False),
        "QLabel.setText": lambda: label.setText("x"),
        "QWidget.update": lambda: widget.update(),
        "QWidget.setEnabled": lambda: widget.setEnabled(True),
        "QObject.setObjectName": lambda: owner.setObjectName("gate"),
        "QTimer.start": lambda: timer.start(3000),
        "QTimer.stop": lambda: timer.stop(),
        "QWidget.isVisible": lambda: widget.isVisible(),  # False
        "QTimer.isActive": lambda: started.isActive(),  # True
    }


@dataclass(frozen=True)
class Fall:
    method: str
    singleton: str
    delta: int


@dataclass
class BindingsCheck:
    """How each singleton's reference count moved over ``calls`` calls of each method."""

    pyside_version: str
    python_version: str
    calls: int
    deltas: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def falls(self) -> list[Fall]:
        allowed = int(self.calls * TOLERANCE_PER_CALL)
        return [
            Fall(method, name, delta)
            for method, moved in self.deltas.items()
            for name, delta in moved.items()
            if delta < -allowed
        ]

    @property
    def ok(self) -> bool:
        return not self.falls

    def explain(self) -> str:
        """What went wrong, for the log and the controller's installer."""
        worst = ", ".join(f"{f.method}: {f.singleton} {f.delta:+,}" for f in self.falls[:4])
        return (
            f"PySide6 {self.pyside_version} on Python {self.python_version} drops references to "
            f"Python's singletons on calls into Qt ({worst} over {self.calls:,} calls): the kiosk "
            "would abort within minutes. Install the locked version (requirements/site.txt; "
            "README, 'Installing and upgrading')."
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "pyside": self.pyside_version,
                "python": self.python_version,
                "calls": self.calls,
                "deltas": self.deltas,
                "ok": self.ok,
            },
            sort_keys=True,
        )


def check_bindings(calls: int = START_CALLS) -> BindingsCheck:
    """Call each method ``calls`` times and measure the singletons' reference counts around it.

    Needs a QApplication. Garbage collection is held off while it measures, so only the calls
    themselves move the counts.
    """
    check = BindingsCheck(
        pyside_version=PySide6.__version__,
        python_version=sys.version.split()[0],
        calls=calls,
    )
    methods = _methods()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name, call in methods.items():
            call()  # warm up: whatever the first call caches is not a leak
            before = singleton_refcounts()
            for _ in range(calls):
                call()
            after = singleton_refcounts()
            check.deltas[name] = {key: after[key] - before[key] for key in before}
    finally:
        if enabled:
            gc.enable()
    return check


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scanner_app.ui.bindings",
        description="Call Qt methods that return void or bool many times; exit 1 if the "
        "reference count of None, True or False falls (a binding that would abort the kiosk).",
    )
    parser.add_argument("--calls", type=int, default=10_000, help="calls of each method")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    check = check_bindings(args.calls)
    del app
    if args.json:
        print(check.to_json())
    else:
        for method, moved in check.deltas.items():
            print(f"{method:24} " + "  ".join(f"{k} {v:+,}" for k, v in moved.items()))
        print("ok" if check.ok else check.explain())
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
