"""What a device token may say, and what the server believes of it (issue 15).

A gate's token speaks for its own gate only: the server takes venue, gate and device from the
token. An upload is judged before it moves any usage:

- **refused** (not stored; the answer lists them, the gate drops them): a record naming another
  gate, a passage (granted, or an annulment) for a right of another venue, an annulment of a
  scan that is not this gate's. A real gate never makes these: its replica holds its own scans.
- **held in quarantine** (stored, flagged, not counted, not applied to usage until an admin
  applies them): passages beyond what one lane can physically do in a minute
  (``gate_max_passages_per_minute``), and records out of order beyond tolerance (a later record
  of the device dated well before an earlier one), as a forged batch is.

Either raises one ``implausible_scans`` alert naming the gate. Replaying forged scans thus burns
no ticket: the holders who never came are still admitted at the other gates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.gate_wire import ScanIn
from shared.reasons import Reason
from sync_server.core.config import Settings
from sync_server.db import IN_CHUNK
from sync_server.models import AccessRight, Event, Gate, Scan, Venue

HELD = "held"
"""``scans.quarantine_state`` of a record kept out of usage until an admin decides."""
APPLIED = "applied"
DISCARDED = "discarded"


@dataclass
class Verdict:
    refused: dict[str, str] = field(default_factory=dict)
    """Scan id: why it is not stored."""
    held: dict[str, str] = field(default_factory=dict)
    """Scan id: why it is stored but kept out of usage."""

    def __bool__(self) -> bool:
        return bool(self.refused or self.held)


def _moves_usage(scan: ScanIn) -> bool:
    return bool(scan.right_id) and (scan.reason == Reason.GRANTED.value or bool(scan.annuls))


def judge(
    session: Session, *, venue: Venue, gate: Gate, scans: Sequence[ScanIn], settings: Settings
) -> Verdict:
    """Which of a device's new records are refused, which are held, before anything is applied."""
    verdict = Verdict()
    for scan in scans:
        if scan.gate != gate.name:
            verdict.refused[scan.scan_id] = (
                f"names gate {scan.gate[:40]!r}: this device speaks for gate {gate.name} only"
            )
    left = [s for s in scans if s.scan_id not in verdict.refused]
    _foreign_rights(session, venue, left, verdict)
    _foreign_annulments(session, gate, left, verdict)
    left = [s for s in left if s.scan_id not in verdict.refused]
    _too_fast(session, gate, left, settings.gate_max_passages_per_minute, verdict)
    _out_of_order(left, settings.scan_order_tolerance_s * 1000, verdict)
    return verdict


def _foreign_rights(session: Session, venue: Venue, scans: Sequence[ScanIn], v: Verdict) -> None:
    ids = sorted({bytes.fromhex(s.right_id or "") for s in scans if _moves_usage(s)})
    venues: dict[bytes, int] = {}
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(
            select(AccessRight.id, Event.venue_id)
            .join(Event, Event.id == AccessRight.event_id)
            .where(AccessRight.id.in_(ids[start : start + IN_CHUNK]))
        )
        venues.update((bytes(right_id), venue_id) for right_id, venue_id in rows)
    for scan in scans:
        if not _moves_usage(scan):
            continue
        owner = venues.get(bytes.fromhex(scan.right_id or ""))
        if owner is not None and owner != venue.id:
            v.refused[scan.scan_id] = f"right {scan.right_id} is another venue's"


def _foreign_annulments(session: Session, gate: Gate, scans: Sequence[ScanIn], v: Verdict) -> None:
    """An annulment gives a right back: only for a scan this gate made (stored or in the batch)."""
    targets = sorted({s.annuls for s in scans if s.annuls})
    if not targets:
        return
    ours = {s.scan_id for s in scans}
    for start in range(0, len(targets), IN_CHUNK):
        ours.update(
            session.scalars(
                select(Scan.scan_id).where(
                    Scan.scan_id.in_(targets[start : start + IN_CHUNK]), Scan.gate_id == gate.id
                )
            )
        )
    for scan in scans:
        if scan.annuls and scan.annuls not in ours:
            v.refused[scan.scan_id] = f"annuls {scan.annuls}, which is not a scan of this gate"


def _minute(at_ms: int) -> int:
    return at_ms // 60_000


def _too_fast(
    session: Session, gate: Gate, scans: Sequence[ScanIn], limit: int, v: Verdict
) -> None:
    passages = [s for s in scans if s.reason == Reason.GRANTED.value]
    if not passages:
        return
    in_batch = Counter(_minute(s.scanned_at_ms) for s in passages)
    minute = Scan.scanned_at_ms // 60_000
    stored = dict(
        session.execute(
            select(minute, func.count())
            .where(
                Scan.gate_id == gate.id,
                Scan.reason == Reason.GRANTED.value,
                Scan.quarantine_state.is_(None),
                Scan.scanned_at_ms >= min(in_batch) * 60_000,
                Scan.scanned_at_ms < (max(in_batch) + 1) * 60_000,
            )
            .group_by(minute)
        ).all()
    )
    crowded = {m: n + int(stored.get(m, 0)) for m, n in in_batch.items()}
    for scan in passages:
        m = _minute(scan.scanned_at_ms)
        if crowded[m] > limit:
            at = datetime.fromtimestamp(m * 60, UTC).strftime("%Y-%m-%d %H:%M")
            v.held[scan.scan_id] = (
                f"{crowded[m]} passages in the minute from {at} UTC at one lane (at most {limit})"
            )


def _out_of_order(scans: Sequence[ScanIn], tolerance_ms: int, v: Verdict) -> None:
    """A device numbers its records as it makes them, and dates them by the server's clock: a
    later record dated well before an earlier one did not happen as told."""
    numbered = sorted((s for s in scans if s.seq is not None), key=lambda s: s.seq or 0)
    latest = None
    for scan in numbered:
        late = latest is not None and scan.scanned_at_ms < latest - tolerance_ms
        if late and latest is not None and scan.reason == Reason.GRANTED.value:
            v.held.setdefault(
                scan.scan_id,
                f"record {scan.seq} dated {(latest - scan.scanned_at_ms) / 1000:.0f} s "
                "before an earlier record of the same device",
            )
        latest = scan.scanned_at_ms if latest is None else max(latest, scan.scanned_at_ms)
