"""Alerts for supervisors: double entry, banned person tried, gate silent, zone nearly full,
clock skew, a gate whose software this server cannot serve.

Each alert has a dedupe key, unique in the database: several server processes may notice the same
thing at once, and it is raised once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared import model as domain
from shared.gate_wire import ScanIn
from sync_server.models import Alert, Gate, Venue

DOUBLE_ENTRY = "double_entry"
BANNED_TRIED = "banned_tried"
GATE_SILENT = "gate_silent"
ZONE_NEARLY_FULL = "zone_nearly_full"
CLOCK_SKEW = "clock_skew"
PROTOCOL_REFUSED = "protocol_refused"
REPLICA_LOST = "replica_lost"


def _raise(session: Session, **values: object) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Alert).values(at=datetime.now(UTC), **values)
    session.execute(statement.on_conflict_do_nothing(index_elements=[Alert.dedupe_key]))


def double_entry(
    session: Session, *, venue: Venue, gate: str, right_id: bytes, scan: ScanIn
) -> None:
    _raise(
        session,
        kind=DOUBLE_ENTRY,
        severity=3,
        venue_id=venue.id,
        gate=gate,
        zone=scan.zone,
        right_id=right_id,
        dedupe_key=f"{DOUBLE_ENTRY}:{right_id.hex()}:{scan.scan_id}",
        message=f"right {right_id.hex()} admitted again at gate {gate} while already used/inside",
    )


def banned_person_tried(session: Session, *, venue: Venue, gate: str, scan: ScanIn) -> None:
    _raise(
        session,
        kind=BANNED_TRIED,
        severity=3,
        venue_id=venue.id,
        gate=gate,
        zone=scan.zone,
        right_id=None if scan.right_id is None else bytes.fromhex(scan.right_id),
        dedupe_key=f"{BANNED_TRIED}:{scan.scan_id}",
        message=f"banned person tried gate {gate}: {scan.detail or 'blacklisted'}",
    )


def zone_filling(
    session: Session, *, venue: Venue, zone: domain.Zone, count: int, ratio: float
) -> None:
    if not zone.capacity or count < ratio * zone.capacity:
        return
    day = datetime.now(UTC).date().isoformat()
    _raise(
        session,
        kind=ZONE_NEARLY_FULL,
        severity=2,
        venue_id=venue.id,
        zone=zone.code,
        dedupe_key=f"{ZONE_NEARLY_FULL}:{venue.code}:{zone.code}:{day}",
        message=f"zone {zone.code} at {count}/{zone.capacity} ({100 * count // zone.capacity} %)",
    )


def silent_gates(session: Session, *, after_s: int, now: datetime | None = None) -> int:
    """Raise an alert for each gate whose last heartbeat is older than ``after_s``."""
    now = now or datetime.now(UTC)
    limit = now - timedelta(seconds=after_s)
    raised = 0
    for gate in session.scalars(select(Gate).where(Gate.last_seen_at.is_not(None))):
        seen = gate.last_seen_at
        assert seen is not None
        if seen < limit:
            _raise(
                session,
                kind=GATE_SILENT,
                severity=2,
                venue_id=gate.venue_id,
                gate=gate.name,
                dedupe_key=f"{GATE_SILENT}:{gate.id}:{seen.isoformat()}",
                message=f"gate {gate.name} silent since {seen.isoformat(timespec='seconds')}",
            )
            raised += 1
    return raised


def clock_skew(session: Session, *, gate: Gate, skew_ms: int) -> None:
    """One alert per gate and hour while its clock is off: time windows depend on it."""
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    _raise(
        session,
        kind=CLOCK_SKEW,
        severity=1,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{CLOCK_SKEW}:{gate.id}:{hour}",
        message=f"gate {gate.name} clock is {skew_ms / 1000:+.1f} s off the server's",
    )


def protocol_refused(session: Session, *, gate: Gate, stated: str, why: str) -> None:
    """One alert per gate and day while the server refuses its protocol: it cannot sync."""
    day = datetime.now(UTC).date().isoformat()
    _raise(
        session,
        kind=PROTOCOL_REFUSED,
        severity=2,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{PROTOCOL_REFUSED}:{gate.id}:{stated[:20]}:{day}",
        message=f"gate {gate.name} cannot sync: {why}",
    )


def replica_lost(session: Session, *, gate: Gate, why: str) -> None:
    """A gate lost its replica: what it had not uploaded (its last heartbeat tells how much) is
    gone, and those entries may be admitted again without a double entry ever showing."""
    status = gate.status or {}
    outbox = status.get("outbox")
    seen = gate.last_seen_at
    waiting = (
        f"it had {outbox} scans waiting to upload at its last heartbeat"
        f" ({seen.isoformat(timespec='seconds') if seen else 'never'})"
        if isinstance(outbox, int)
        else "how many scans it had waiting is not known (no heartbeat)"
    )
    at = datetime.now(UTC).isoformat(timespec="seconds")
    _raise(
        session,
        kind=REPLICA_LOST,
        severity=3,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{REPLICA_LOST}:{gate.id}:{at}",
        message=f"gate {gate.name} lost its replica ({why[:120]}): {waiting}; entries among "
        "them may be admitted again, and a double entry among them cannot be seen",
    )
