"""Scans held in quarantine (:mod:`sync_server.services.plausibility`), and an admin's decision
on them: **apply** (they count, and move usage, as if believed at once) or **discard** (kept for
the record, never counted). Both are audited under the admin's name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.gate_wire import ScanIn
from shared.model import Direction
from sync_server.db import IN_CHUNK
from sync_server.errors import Invalid
from sync_server.models import Gate, Scan, Venue
from sync_server.services import scans
from sync_server.services.plausibility import APPLIED, DISCARDED, HELD

DECISIONS = (APPLIED, DISCARDED)


@dataclass(frozen=True)
class Held:
    scan: Scan
    gate: str
    venue: str


def held(session: Session, *, venue: str | None = None, gate: str | None = None) -> list[Held]:
    """Scans held, oldest first, for one venue or gate or all."""
    query = (
        select(Scan, Gate.name, Venue.code)
        .join(Gate, Gate.id == Scan.gate_id)
        .join(Venue, Venue.id == Scan.venue_id)
        .where(Scan.quarantine_state == HELD)
    )
    if venue is not None:
        query = query.where(Venue.code == venue)
    if gate is not None:
        query = query.where(Gate.name == gate)
    rows = session.execute(query.order_by(Scan.scanned_at_ms, Scan.scan_id)).all()
    return [Held(scan, gate_name, venue_code) for scan, gate_name, venue_code in rows]


def venues_of(session: Session, scan_ids: Sequence[str]) -> set[str]:
    """The venues of these scans (a venue admin decides on their own venues' only)."""
    ids = sorted(set(scan_ids))
    found: set[str] = set()
    for start in range(0, len(ids), IN_CHUNK):
        found.update(
            session.scalars(
                select(Venue.code)
                .join(Scan, Scan.venue_id == Venue.id)
                .where(Scan.scan_id.in_(ids[start : start + IN_CHUNK]))
                .distinct()
            )
        )
    return found


def decide(
    session: Session, *, scan_ids: Sequence[str], decision: str
) -> tuple[int, scans.IngestResult]:
    """Apply or discard held scans (others are left alone); how many, and what applying moved
    (its feed changes are for the caller's commit)."""
    if decision not in DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    result = scans.IngestResult()
    found = session.scalars(
        select(Scan)
        .where(Scan.scan_id.in_(sorted(set(scan_ids))), Scan.quarantine_state == HELD)
        .order_by(Scan.scanned_at_ms)
        .with_for_update()
    ).all()
    for scan in found:
        scan.quarantine_state = decision
    session.flush()
    if decision == APPLIED:
        by_gate: dict[int, list[Scan]] = {}
        for scan in found:
            by_gate.setdefault(scan.gate_id, []).append(scan)
        for gate_id, group in by_gate.items():
            gate = session.get(Gate, gate_id)
            venue = session.get(Venue, group[0].venue_id)
            assert gate is not None
            assert venue is not None
            scans.apply_usage(session, venue, gate, [_as_upload(s, gate) for s in group], result)
    return len(found), result


def _as_upload(scan: Scan, gate: Gate) -> ScanIn:
    return ScanIn(
        scan_id=scan.scan_id,
        gate=gate.name,
        direction=Direction(scan.direction),
        reason=scan.reason,
        scanned_at_ms=scan.scanned_at_ms,
        right_id=None if scan.right_id is None else scan.right_id.hex(),
        event=scan.event,
        zone=scan.zone,
        code_kind=scan.code_kind,
        latency_ms=scan.latency_ms,
        operator=scan.operator,
        detail=scan.detail,
        annuls=scan.annuls,
    )
