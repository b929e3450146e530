"""The kiosk's model, Qt-free: scans in, answers out, the supervisor's actions, the status bar.

:class:`Kiosk` owns the camera's :class:`~scanner_app.scanning.ScanWorker`, the keyboard wedge's
:class:`~scanner_app.wedge.WedgeDetector`, the :class:`~scanner_app.passage.Gatekeeper` (on its
own "gate" thread: it blocks while the turnstile waits for the passage) and the
:class:`~scanner_app.sync_loop.SyncLoop` thread. It tells observers what happens through
:class:`Notice` callbacks, called on whichever thread the news comes from; ``scanner_app.ui``
turns them into Qt signals. Each thread has its own :class:`Replica` (they are not thread-safe):
the gate thread decides and records scans, the thread that made the kiosk (the UI's) reads the
log and records the supervisor's actions.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar
from uuid import uuid4

from hardware import HardwareError, PassageOutcome, Turnstile, TurnstileConfig, open_turnstile
from scanner_app import __version__
from scanner_app.checkpoint import Checkpoint, CheckResult
from scanner_app.config import (
    DEMO_EVERY_S,
    ConfigError,
    KioskSettings,
    ScanSettings,
    TerminalConfig,
)
from scanner_app.frames import Frame, FrameSource, SourceState, SourceStatus
from scanner_app.i18n import CANNOT_RECORD, REPLICA_DAMAGED, REPLICA_REBUILDING, Language
from scanner_app.passage import Gatekeeper
from scanner_app.pin import PinCheck, PinLock
from scanner_app.replica import Replica, ReplicaError
from scanner_app.salvage import REBUILD_PENDING
from scanner_app.scanning import ScanPipeline, ScanWorker
from scanner_app.sync_loop import SyncLoop, SyncState, SyncStatus
from scanner_app.wedge import WedgeDetector, WedgeSettings
from shared.decision import zone_path
from shared.model import (
    EMERGENCY_OPEN,
    EMERGENCY_RELEASE,
    MANUAL_OPEN,
    RELAY_FAILED,
    Direction,
    Layout,
    ScanRecord,
)
from shared.reasons import Reason

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
RECENT_SCANS = 50
DIRECTION_KEY = "kiosk_direction"
LANGUAGE_KEY = "kiosk_language"
LOCAL = "local"
"""The sync state of a kiosk with no server configured (a demo, or a gate not yet enrolled)."""

T = TypeVar("T")


class Notice(Generic[T]):
    """A plain observer list: ``connect(callback)``, then every ``emit(value)`` calls them all.

    Callbacks run on the emitting thread; one that raises is logged and the others still run.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], None]] = []

    def connect(self, callback: Callable[[T], None]) -> None:
        self._callbacks.append(callback)

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            try:
                callback(value)
            except Exception:
                log.exception("kiosk observer %r failed", callback)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the controller sees after a scan, or when an entry is annulled."""

    scan_id: str
    reason: str
    """A decision's reason code, or ``not_passed`` / ``relay_failed`` for an annulment."""
    granted: bool
    direction: Direction
    zone: str | None = None
    zone_name: str | None = None
    seat: str | None = None
    holder_name: str | None = None
    """Only when the site enables it (``[kiosk] show_holder_name``)."""
    gates: str = ""
    """For ``wrong_zone``: the gates that lead to the ticket's stand."""
    cause: str = ""
    """Which of the reason's causes (``stale_code``: ``old`` or ``ahead``): what to check."""
    annuls: str | None = None
    """For an annulment: the granted scan it cancels."""

    @property
    def annulment(self) -> bool:
        return self.annuls is not None


@dataclass(frozen=True, slots=True)
class KioskStatus:
    """Everything the status bar shows, as one snapshot."""

    sync: str
    """A :class:`SyncState` value, or ``local`` when the kiosk has no server."""
    last_sync_ms: int | None
    outbox: int
    entries_hour: int
    relay: str
    """``ok``, ``none`` (no turnstile) or ``out_of_order: ...``."""
    emergency: bool
    camera: SourceState
    direction: Direction
    language: Language
    sync_error: str = ""
    rebuilding: bool = False
    """The replica is being rebuilt from the server: every scan is answered "out of order"."""
    clock_unverified_s: float | None = None
    """How long the gate's clock has gone without a check against the server's, once that is
    beyond ``[sync] clock_unverified_after_s``."""

    @property
    def online(self) -> bool:
        return self.sync == SyncState.ONLINE


class EntryCounter:
    """Entries of the last hour: granted entries, less those annulled since."""

    def __init__(self) -> None:
        self._entries: deque[tuple[int, str]] = deque()

    def add(self, at_ms: int, scan_id: str) -> None:
        self._entries.append((at_ms, scan_id))

    def remove(self, scan_id: str) -> None:
        self._entries = deque(e for e in self._entries if e[1] != scan_id)

    def count(self, now_ms: int) -> int:
        while self._entries and self._entries[0][0] < now_ms - HOUR_MS:
            self._entries.popleft()
        return len(self._entries)

    def load(self, scans: list[ScanRecord], now_ms: int) -> None:
        """Count the entries in a log read back at start (newest first, as Replica.scans)."""
        annulled = {s.annuls for s in scans if s.annuls}
        for scan in reversed(scans):
            entered = scan.reason == Reason.GRANTED and scan.direction is Direction.IN
            if entered and scan.scanned_at_ms >= now_ms - HOUR_MS and scan.scan_id not in annulled:
                self.add(scan.scanned_at_ms, scan.scan_id)


@dataclass
class _Shared:
    """State written by several threads; read and written under ``Kiosk._lock``."""

    sync: SyncStatus | None
    camera: SourceState
    direction: Direction
    language: Language
    outbox: int = 0
    rebuilding: bool = False
    entries: EntryCounter = field(default_factory=EntryCounter)


_Job = Callable[[Replica, Gatekeeper], None]


class Kiosk:
    """One gate terminal's model. ``start()`` starts its threads, ``stop()`` ends them."""

    def __init__(
        self,
        *,
        replica_path: Any,
        gate_name: str | None = None,
        settings: KioskSettings | None = None,
        wedge: WedgeSettings | None = None,
        source: FrameSource | None = None,
        pipeline: ScanPipeline | None = None,
        turnstile: Turnstile | None = None,
        sync_config: TerminalConfig | None = None,
        venue: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or KioskSettings()
        self.turnstile = turnstile
        self.source = source
        self.venue = venue
        self._clock = clock
        self.replica = Replica(replica_path)
        """The reading and supervisor replica, for the thread that made the kiosk."""
        self._replica_path = replica_path
        rebuilding = self.replica.get_meta(REBUILD_PENDING) is not None
        # Fails now if there is no such gate, unless the server is yet to send it (a rebuild).
        self.checkpoint = Checkpoint(self.replica, gate_name, known=not rebuilding)
        self.gate_name = self.checkpoint.gate_name
        self.wedge = WedgeDetector(wedge)
        self.pin = PinLock(
            self.settings.pin_hash, self.replica, staff=self.replica.staff, clock=clock
        )
        self.on_duty: str | None = None
        """The person whose own PIN opened the supervisor panel (None: the gate's PIN, or shut)."""
        self._emergency = False
        self.sync_loop: SyncLoop | None = None
        if sync_config is not None:
            self.sync_loop = SyncLoop(
                sync_config, device_status=self.device_status, on_status=self.on_sync_status
            )

        self.answered: Notice[Answer] = Notice()
        self.annulled: Notice[Answer] = Notice()
        self.status_changed: Notice[KioskStatus] = Notice()
        self.frame_ready: Notice[Frame] = Notice()
        self.emergency_changed: Notice[bool] = Notice()
        self.settings_changed: Notice[KioskStatus] = Notice()
        """The direction or the language changed."""
        self.scan_logged: Notice[ScanRecord] = Notice()
        """A scan or supervisor action was recorded (the panel's list may refresh)."""

        stored_direction = self.replica.get_meta(DIRECTION_KEY)
        stored_language = self.replica.get_meta(LANGUAGE_KEY)
        self._lock = threading.Lock()
        self._shared = _Shared(
            sync=None,
            camera=source.state if source is not None else SourceState(SourceStatus.UNAVAILABLE),
            direction=Direction(stored_direction)
            if stored_direction
            else Direction.IN
            if rebuilding
            else self.checkpoint.gate.direction,
            language=Language(stored_language or self.settings.language),
        )
        self.checkpoint.direction = self._shared.direction
        now_ms = self._now_ms()
        self._shared.entries.load(self.replica.scans(limit=5_000), now_ms)
        self._shared.outbox = self.replica.pending_count()
        self._shared.rebuilding = rebuilding
        self._clock_unverified_after_s = (
            sync_config.sync.clock_unverified_after_s if sync_config is not None else 0.0
        )

        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._gate_thread = threading.Thread(target=self._gate_loop, name="gate", daemon=True)
        self._sync_thread: threading.Thread | None = None
        self.worker: ScanWorker | None = None
        if source is not None:
            self.worker = ScanWorker(
                source,
                pipeline or ScanPipeline.from_settings(ScanSettings()),
                on_scan=lambda code, _at: self.submit(code),
                on_state=self._camera_changed,
                on_frame=self.frame_ready.emit,
            )
        if turnstile is not None:
            turnstile.on_status = lambda _status: self._changed()

    # -- life cycle ---------------------------------------------------------------------------

    @classmethod
    def from_config(
        cls, config: TerminalConfig, *, demo: bool = False, demo_every_s: float = DEMO_EVERY_S
    ) -> Kiosk:
        """The kiosk a gate's TOML describes; ``demo``: the demo camera (a new code every
        ``demo_every_s``: shown for half of it, then an empty frame) and simulated turnstile."""
        turnstile = _turnstile(config, demo=demo)
        source: FrameSource
        if demo:
            from scanner_app.demo_camera import DemoCamera, demo_codes

            camera = config.camera_settings()
            codes = demo_codes(config.replica_path.parent / "codes.txt")
            shown = min(2.0, demo_every_s / 2)
            source = DemoCamera(
                codes,
                width=camera.width,
                height=camera.height,
                fps=camera.fps,
                show_s=shown,
                gap_s=demo_every_s - shown,
            )
        else:
            from scanner_app.frames import open_source

            source = open_source(config.camera_settings())
        enrolled = bool(config.server) and config.token_path.exists()
        return cls(
            replica_path=config.replica_path,
            gate_name=config.gate or None,
            settings=config.kiosk,
            wedge=config.wedge,
            source=source,
            pipeline=ScanPipeline.from_settings(config.scan_settings()),
            turnstile=turnstile,
            sync_config=config if enrolled else None,
            venue=config.venue,
        )

    def start(self) -> None:
        self._gate_thread.start()
        if self.worker is not None:
            self.worker.start()
        if self.sync_loop is not None:
            self._sync_thread = threading.Thread(
                target=self.sync_loop.run, name="sync", daemon=True
            )
            self._sync_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop scanning and syncing, let the gate thread finish its passage, close the files."""
        if self.worker is not None:
            self.worker.stop(timeout)
        if self.sync_loop is not None:
            self.sync_loop.stop()
        self._jobs.put(None)
        for thread in (self._gate_thread, self._sync_thread):
            if thread is not None and thread.ident is not None:
                thread.join(timeout)
        if self.turnstile is not None:
            self.turnstile.relay.close()
        self.replica.close()

    # -- scans --------------------------------------------------------------------------------

    def submit(self, code: str) -> None:
        """A code was scanned (camera or wedge, any thread): decide on the gate thread."""
        self._jobs.put(lambda replica, gatekeeper: self._scan(replica, gatekeeper, code))

    def key(self, text: str, at: float) -> str | None:
        """Feed one key press (text, monotonic seconds) from the wedge; returns a scanned code."""
        code = self.wedge.key(text, at)
        if code is not None:
            self.submit(code)
        return code

    def _gate_loop(self) -> None:
        replica = Replica(self._replica_path)
        checkpoint = self.checkpoint
        # The gate thread's own checkpoint: same gate and direction, its own replica.
        own = Checkpoint(replica, checkpoint.gate_name, checkpoint.direction, known=False)
        on_recorded = self.sync_loop.scan_recorded if self.sync_loop is not None else _nothing
        gatekeeper = Gatekeeper(own, self.turnstile, on_recorded=on_recorded)
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job(replica, gatekeeper)
                except Exception:  # one bad scan must not stop the gate
                    log.exception("the gate thread failed on a job")
        finally:
            replica.close()

    def _scan(self, replica: Replica, gatekeeper: Gatekeeper, code: str) -> None:
        gatekeeper.checkpoint.direction = self.direction
        with self._lock:
            damaged = self._shared.sync is not None and self._shared.sync.state is SyncState.DAMAGED
            rebuilding = self._shared.rebuilding
        if damaged:
            # The replica failed its check while running: nothing on it may decide (issue 14).
            self._out_of_order(REPLICA_DAMAGED)
            return
        if rebuilding:
            # Salvaged, lost or an older copy: its usage cannot be trusted until the server's
            # feed is in (issue 14). A supervisor may open by hand, audited.
            self._out_of_order(REPLICA_REBUILDING)
            return
        try:
            result = gatekeeper.check(code)
        except (sqlite3.Error, OSError, ReplicaError) as exc:
            # Not recorded, so not admitted: the controller is told at once, in words, and the
            # turnstile stays shut (issue 14). The next scan tries again.
            log.error("a scan could not be recorded: %s", exc)
            self._out_of_order(CANNOT_RECORD)
            return
        answer = self._answer(replica, result)
        with self._lock:
            if answer.granted and answer.direction is Direction.IN:
                self._shared.entries.add(result.record.scanned_at_ms, answer.scan_id)
        self.answered.emit(answer)
        self.scan_logged.emit(result.record)
        try:
            passage = gatekeeper.let_through(result)
        except HardwareError as exc:
            # The relay refused (no exit channel, board gone): nobody went through.
            log.error("turnstile failed for scan %s: %s", result.record.scan_id, exc)
            self._annul(replica, gatekeeper, result, RELAY_FAILED, str(exc))
        else:
            if passage is not None and passage.annulment is not None:
                self._annulled(answer, passage.annulment)
        self._refresh_outbox(replica)

    def _out_of_order(self, reason: str) -> None:
        """An answer that is no decision: nothing recorded, the turnstile shut."""
        self.answered.emit(
            Answer(scan_id="", reason=reason, granted=False, direction=self.direction)
        )

    def _annul(
        self,
        replica: Replica,
        gatekeeper: Gatekeeper,
        result: CheckResult,
        reason: str,
        detail: str,
    ) -> None:
        now = datetime.now(UTC) - timedelta(milliseconds=replica.clock_offset_ms)
        annulment = replica.annul(result.record, reason=reason, scanned_at=now)
        if self.sync_loop is not None:
            self.sync_loop.scan_recorded()
        log.info("scan %s annulled: %s", result.record.scan_id, detail)
        self._annulled(self._answer(replica, result), annulment)

    def _annulled(self, answer: Answer, annulment: ScanRecord) -> None:
        with self._lock:
            self._shared.entries.remove(answer.scan_id)
        notice = replace(
            answer,
            scan_id=annulment.scan_id,
            reason=annulment.reason,
            granted=False,
            annuls=answer.scan_id,
        )
        self.annulled.emit(notice)
        self.scan_logged.emit(annulment)

    def _answer(self, replica: Replica, result: CheckResult) -> Answer:
        decision, right = result.decision, result.decision.right
        zone_code = decision.zone or (right.zones[0] if right is not None and right.zones else None)
        layout = None if right is None else replica.layout_of(right.event)
        zone = layout.zone(zone_code) if layout is not None and zone_code else None
        gates = ""
        zone_name = None if zone is None else zone.name
        if decision.reason is Reason.WRONG_ZONE and right is not None and layout is not None:
            gates = ", ".join(self._gates_for(replica, layout, right.zones, right.event))
            names = [z.name for code in right.zones if (z := layout.zone(code)) is not None]
            zone_name = ", ".join(names) or ", ".join(right.zones)
        return Answer(
            scan_id=result.record.scan_id,
            reason=decision.reason.value,
            granted=decision.granted,
            direction=decision.direction,
            zone=zone_code,
            zone_name=zone_name,
            seat=right.seat if right is not None else None,
            holder_name=right.display_name
            if right is not None and self.settings.show_holder_name
            else None,
            gates=gates,
            cause=decision.cause,
        )

    def _gates_for(
        self, replica: Replica, layout: Layout, zones: tuple[str, ...], event: str
    ) -> list[str]:
        """The open entry gates that lead into one of ``zones`` (or a zone above or below) in
        the event's ``layout``."""
        found = []
        for gate in replica.gates():
            if (
                not gate.enabled
                or gate.direction is not Direction.IN
                or gate.name == self.gate_name
            ):
                continue
            if event not in gate.event_codes:
                continue
            for gate_zone in layout.entrances(gate.name):
                gate_path = zone_path(layout, gate_zone)
                if any(z in gate_path or gate_zone in zone_path(layout, z) for z in zones):
                    found.append(gate.name)
                    break
        return sorted(found)

    # -- the supervisor's actions (from the kiosk's own thread) --------------------------------

    def unlock(self, pin: str, name: str | None = None) -> PinCheck:
        """Open the supervisor panel to ``name`` with their own PIN (or, on a gate with no staff
        synced yet, the gate's PIN): what they do there is recorded under their name."""
        check = self.pin.check(pin, name)
        self.on_duty = check.who if check.accepted else None
        return check

    def lock(self) -> None:
        """The panel is closed: nobody is on duty at it."""
        self.on_duty = None

    def operator(self, typed: str) -> str:
        """Whom an override is recorded under: the person on duty when the gate holds the
        staff's PINs (what was typed does not count), else the name typed."""
        if self.pin.names():
            if self.on_duty is None:
                raise PermissionError("the supervisor panel is open to nobody: enter your PIN")
            return self.on_duty
        return typed.strip()

    def manual_open(self, operator: str, why: str) -> ScanRecord:
        """Record an audited manual open (who and why), then unlock once for the direction."""
        operator, why = self.operator(operator), why.strip()
        if not operator or not why:
            raise ValueError("a manual open needs who opens and why")
        record = self._record_event(MANUAL_OPEN, operator=operator, detail=why)
        if self.turnstile is not None:
            direction = self.direction
            self._jobs.put(lambda _replica, _gatekeeper: self._manual_passage(direction))
        return record

    def _manual_passage(self, direction: Direction) -> None:
        assert self.turnstile is not None
        try:
            outcome = self.turnstile.admit(direction)
        except HardwareError as exc:
            log.error("manual open failed: %s", exc)
            outcome = PassageOutcome.RELAY_FAILED
        log.info("manual open: %s", outcome.value)
        self._changed()

    @property
    def emergency(self) -> bool:
        return self.turnstile.emergency if self.turnstile is not None else self._emergency

    def set_emergency(self, on: bool, operator: str, why: str = "") -> ScanRecord:
        """Emergency free passage on or off: recorded first, then every channel held open (or
        released). A relay that does not obey shows as a turnstile fault; the banner stays."""
        reason = EMERGENCY_OPEN if on else EMERGENCY_RELEASE
        who = self.operator(operator)
        record = self._record_event(reason, operator=who or None, detail=why.strip())
        self._emergency = on
        if self.turnstile is not None:
            try:
                if on:
                    self.turnstile.emergency_open()
                else:
                    self.turnstile.emergency_release()
            except HardwareError as exc:
                log.error("emergency %s: %s", "open" if on else "release", exc)
        self.emergency_changed.emit(on)
        self._changed()
        return record

    def set_direction(self, direction: Direction) -> None:
        """Switch the gate to entry or exit; kept across restarts."""
        self.replica.set_meta(DIRECTION_KEY, direction.value)
        with self._lock:
            self._shared.direction = direction
        self.settings_changed.emit(self.status())
        self._changed()

    def set_language(self, language: Language | str) -> None:
        """Switch the screen's language; kept across restarts."""
        lang = Language(language)
        self.replica.set_meta(LANGUAGE_KEY, lang.value)
        with self._lock:
            self._shared.language = lang
        self.settings_changed.emit(self.status())

    def force_sync(self) -> bool:
        """Pull and push now; False when this kiosk has no server."""
        if self.sync_loop is None:
            return False
        self.sync_loop.request_pull()
        return True

    def recent_scans(self, limit: int = RECENT_SCANS) -> list[ScanRecord]:
        return self.replica.scans(limit=limit)

    def zone_name(self, code: str | None, event: str | None) -> str | None:
        """The name of zone ``code`` in the layout of ``event``."""
        layout = self.replica.layout_of(event) if event else None
        zone = layout.zone(code) if layout is not None and code else None
        return None if zone is None else zone.name

    def _record_event(self, reason: str, *, operator: str | None, detail: str) -> ScanRecord:
        now = datetime.now(UTC) - timedelta(milliseconds=self.replica.clock_offset_ms)
        record = ScanRecord(
            scan_id=str(uuid4()),
            gate=self.gate_name,
            direction=self.direction,
            reason=reason,
            scanned_at_ms=round(now.timestamp() * 1000),
            code_kind="manual",
            operator=operator,
            detail=detail,
        )
        record = self.replica.record_event(record)
        log.warning("%s by %s: %s", reason, operator, detail)
        if self.sync_loop is not None:
            self.sync_loop.scan_recorded()
        self._refresh_outbox(self.replica)
        self.scan_logged.emit(record)
        return record

    # -- status -------------------------------------------------------------------------------

    @property
    def direction(self) -> Direction:
        with self._lock:
            return self._shared.direction

    @property
    def language(self) -> Language:
        with self._lock:
            return self._shared.language

    def relay_state(self) -> str:
        if self.turnstile is None:
            return "none"
        return str(self.turnstile.status()["relay"])

    def device_status(self) -> dict[str, Any]:
        """For the heartbeat: the camera and the relay (cut to the wire's limit by Heartbeat)."""
        with self._lock:
            camera = str(self._shared.camera)
        return {"camera": camera, "relay": self.relay_state()}

    def version(self) -> str:
        return __version__

    def status(self) -> KioskStatus:
        """A fresh snapshot (entries of the last hour are counted now)."""
        with self._lock:
            shared = self._shared
            sync = shared.sync
            outbox = sync.outbox if sync is not None and sync.last_sync_ms else shared.outbox
            return KioskStatus(
                sync=LOCAL if self.sync_loop is None else (sync.state if sync else "starting"),
                last_sync_ms=None if sync is None else sync.last_sync_ms,
                outbox=max(outbox, shared.outbox),
                entries_hour=shared.entries.count(self._now_ms()),
                relay=self.relay_state(),
                emergency=self.emergency,
                camera=shared.camera,
                direction=shared.direction,
                language=shared.language,
                sync_error="" if sync is None else sync.last_error,
                rebuilding=shared.rebuilding,
                clock_unverified_s=None
                if sync is None
                else sync.clock_unverified_s(self._now_ms(), self._clock_unverified_after_s),
            )

    def on_sync_status(self, status: SyncStatus) -> None:
        """The sync loop's news (its thread): online or not, last sync, scans waiting."""
        with self._lock:
            self._shared.sync = replace(status)
            self._shared.outbox = status.outbox
            self._shared.rebuilding = status.rebuild_pending
        self._changed()

    def _camera_changed(self, state: SourceState) -> None:
        with self._lock:
            self._shared.camera = state
        self._changed()

    def _refresh_outbox(self, replica: Replica) -> None:
        pending = replica.pending_count()
        with self._lock:
            self._shared.outbox = pending
        self._changed()

    def _changed(self) -> None:
        self.status_changed.emit(self.status())

    def _now_ms(self) -> int:
        return round(self._clock() * 1000)


def _nothing() -> None:
    """No sync loop to wake."""


def _turnstile(config: TerminalConfig, *, demo: bool) -> Turnstile | None:
    """The gate's turnstile: none without ``[relay]``; always the simulator in a demo."""
    settings = config.turnstile
    if demo:
        settings = TurnstileConfig.from_document(
            {
                "relay": {"driver": "simulated", "entry_channel": 1, "exit_channel": 2},
                "sensor": {"driver": "simulated", "walk_s": 1.0},
            },
            "the demo",
        )
    if settings is None:
        return None
    try:
        return open_turnstile(settings)
    except HardwareError as exc:
        raise ConfigError(f"the turnstile cannot be opened: {exc}") from exc


__all__ = ["Answer", "Kiosk", "KioskStatus", "Notice", "ReplicaError"]
