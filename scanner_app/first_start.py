"""A terminal's first start, before it is a gate: it reads codes from its camera and its code
reader, and the first enrollment link it sees (the QR code the back office shows for a gate,
``ENTRIX-ENROLL:...``) enrolls it (:func:`scanner_app.enrollment.enroll_terminal`). Then the
kiosk starts as that gate. Qt-free: ``scanner_app.ui.first_start`` shows it.

Only a terminal that is not enrolled listens for enrollment links: an enrolled gate treats any
code as a ticket (a supporter's QR can never re-enroll it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from scanner_app.config import ScanSettings
from scanner_app.enrollment import Enrolled, enroll_terminal
from scanner_app.frames import Frame, FrameSource
from scanner_app.kiosk import Notice
from scanner_app.replica import ReplicaError
from scanner_app.scanning import ScanPipeline, ScanWorker
from scanner_app.sync import SyncError
from scanner_app.wedge import WedgeDetector, WedgeSettings
from shared.pinning import LINK_PREFIX, EnrollmentLink

log = logging.getLogger(__name__)

Enroller = Callable[[Path, str, str, list[str]], Enrolled]


class Step(StrEnum):
    WAITING = "waiting"
    NOT_A_LINK = "not_a_link"
    ENROLLING = "enrolling"
    FAILED = "failed"
    ENROLLED = "enrolled"


@dataclass(frozen=True, slots=True)
class FirstStartState:
    step: Step
    detail: str = ""
    """The server (enrolling), why (failed)."""
    enrolled: Enrolled | None = None


class FirstStart:
    """Waits for an enrollment link; ``start()`` starts the camera, ``stop()`` ends it."""

    def __init__(
        self,
        config_path: Path,
        *,
        source: FrameSource | None = None,
        pipeline: ScanPipeline | None = None,
        wedge: WedgeSettings | None = None,
        enroller: Enroller = enroll_terminal,
    ) -> None:
        self.config_path = config_path
        self._enroller = enroller
        self._lock = threading.RLock()  # a callback may read the state
        self._state = FirstStartState(Step.WAITING)
        self._thread: threading.Thread | None = None
        self.state_changed: Notice[FirstStartState] = Notice()
        self.frame_ready: Notice[Frame] = Notice()
        self.wedge = WedgeDetector(wedge)
        self.worker: ScanWorker | None = None
        if source is not None:
            self.worker = ScanWorker(
                source,
                pipeline or ScanPipeline.from_settings(ScanSettings()),
                on_scan=lambda code, _at: self.submit(code),
                on_frame=self.frame_ready.emit,
            )

    @property
    def state(self) -> FirstStartState:
        with self._lock:
            return self._state

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self.worker is not None:
            self.worker.stop(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def key(self, text: str, at: float) -> str | None:
        """One key press of the code reader (a keyboard wedge types the link)."""
        code = self.wedge.key(text, at)
        if code is not None:
            self.submit(code)
        return code

    def submit(self, code: str) -> None:
        """A code was read (any thread). An enrollment link starts enrolling, once at a time;
        anything else is said not to be one."""
        text = code.strip()
        with self._lock:
            if self._state.step in (Step.ENROLLING, Step.ENROLLED):
                return
            if not text.startswith(LINK_PREFIX):
                self._set(FirstStartState(Step.NOT_A_LINK))
                return
            try:
                link = EnrollmentLink.parse(text)
            except ValueError as exc:
                self._set(FirstStartState(Step.FAILED, str(exc)))
                return
            self._set(FirstStartState(Step.ENROLLING, link.server))
            self._thread = threading.Thread(
                target=self._enroll, args=(link,), name="enroll", daemon=True
            )
            self._thread.start()

    def _enroll(self, link: EnrollmentLink) -> None:
        started = time.monotonic()
        try:
            done = self._enroller(self.config_path, link.server.rstrip("/"), link.code,
                                  list(link.pins))  # fmt: skip
        except (SyncError, ReplicaError, OSError, ValueError) as exc:
            log.warning("enrollment with %s refused: %s", link.server, exc)
            with self._lock:
                self._set(FirstStartState(Step.FAILED, str(exc)[:300]))
            return
        log.info("enrolled as gate %s of %s in %.1f s", done.config.gate, done.config.venue,
                 time.monotonic() - started)  # fmt: skip
        with self._lock:
            self._set(FirstStartState(Step.ENROLLED, enrolled=done))

    def _set(self, state: FirstStartState) -> None:
        """With the lock held: change state and tell (the callbacks must be quick)."""
        self._state = state
        self.state_changed.emit(state)
