"""Alerts for supervisors: double entry, banned person tried, gate silent, zone nearly full,
clock skew, a gate whose software this server cannot serve.

Each alert has a dedupe key, unique in the database: several server processes may notice the same
thing at once, and it is raised once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared import model as domain
from shared.gate_wire import ScanIn
from sync_server.models import Alert, Device, Gate, Venue

if TYPE_CHECKING:
    from sync_server.services.plausibility import Verdict

from sync_server.alert_kinds import (
    BANNED_TRIED,
    CLOCK_SKEW,
    CLOCK_UNVERIFIED,
    DOUBLE_ENTRY,
    GATE_SILENT,
    IMPLAUSIBLE_SCANS,
    PROTOCOL_REFUSED,
    REPLICA_DAMAGED,
    REPLICA_LOST,
    ZONE_NEARLY_FULL,
)

__all__ = [
    "BANNED_TRIED",
    "CLOCK_SKEW",
    "CLOCK_UNVERIFIED",
    "DOUBLE_ENTRY",
    "GATE_SILENT",
    "IMPLAUSIBLE_SCANS",
    "PROTOCOL_REFUSED",
    "REPLICA_DAMAGED",
    "REPLICA_LOST",
    "ZONE_NEARLY_FULL",
]


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
        facts={},
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
        facts={},
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
        facts={
            "count": count,
            "capacity": zone.capacity,
            "percent": 100 * count // zone.capacity,
        },
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
                facts={"since_ms": int(seen.timestamp() * 1000)},
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
        facts={"skew_ms": skew_ms},
        message=f"gate {gate.name} clock is {skew_ms / 1000:+.1f} s off the server's",
    )


def clock_unverified(session: Session, *, gate: Gate, verified_ms: int) -> None:
    """A gate is back after deciding a long time on a clock it could not check: its time windows
    and its scans' times rest on it. Once per gate and verification."""
    since = datetime.fromtimestamp(verified_ms / 1000, UTC)
    hours = (datetime.now(UTC) - since).total_seconds() / 3600
    _raise(
        session,
        kind=CLOCK_UNVERIFIED,
        severity=1,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{CLOCK_UNVERIFIED}:{gate.id}:{verified_ms}",
        facts={"since_ms": verified_ms, "hours": round(hours, 1)},
        message=f"gate {gate.name} decided for {hours:.1f} h without checking its clock against "
        f"the server's (last at {since.isoformat(timespec='seconds')})",
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
        facts={"why": why[:300]},
        message=f"gate {gate.name} cannot sync: {why}",
    )


def replica_lost(
    session: Session, *, gate: Gate, device: Device, why: str, key: str | None = None
) -> None:
    """A gate lost its replica (or runs on an older copy): what it had not uploaded is gone, and
    those entries may be admitted again without a double entry ever showing. Its last heartbeat
    tells how many scans it had waiting and its highest sequence number; the server knows the
    highest it stored."""
    status = gate.status or {}
    outbox, seq = status.get("outbox"), status.get("seq")
    seen = gate.last_seen_at
    waiting = (
        f"it had {outbox} scans waiting to upload at its last heartbeat"
        f" ({seen.isoformat(timespec='seconds') if seen else 'never'})"
        if isinstance(outbox, int)
        else "how many scans it had waiting is not known (no heartbeat)"
    )
    if isinstance(seq, int) and seq > device.acked_seq:
        waiting += (
            f"; the server holds its records up to number {device.acked_seq} and it had made"
            f" {seq}: numbers {device.acked_seq + 1} to {seq} may be lost"
        )
    else:
        waiting += f"; the server holds its records up to number {device.acked_seq}"
    at = datetime.now(UTC).isoformat(timespec="seconds")
    _raise(
        session,
        kind=REPLICA_LOST,
        severity=3,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=key or f"{REPLICA_LOST}:{gate.id}:{at}",
        facts={"why": why[:120]},
        message=f"gate {gate.name} lost its replica ({why[:120]}): {waiting}; entries among "
        "them may be admitted again, and a double entry among them cannot be seen",
    )


def replica_damaged(session: Session, *, gate: Gate, why: str) -> None:
    """A running gate found its replica damaged: it admits nobody until restarted, when it moves
    the file aside, keeps the scans it can read and rebuilds from the server."""
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    _raise(
        session,
        kind=REPLICA_DAMAGED,
        severity=3,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{REPLICA_DAMAGED}:{gate.id}:{hour}",
        facts={"why": why[:160]},
        message=f"gate {gate.name} found its data damaged and admits nobody: restart it to "
        f"rebuild from the server ({why[:160]})",
    )


def replica_behind(session: Session, *, gate: Gate, device: Device, seq: int) -> None:
    """A gate heartbeats with a replica holding fewer records than it uploaded: it runs on an
    older copy of its file (put back from a backup, a cloned card). It resyncs before it decides
    again; what it had not uploaded from the newer one is lost. Raised once per gate and level."""
    replica_lost(
        session,
        gate=gate,
        device=device,
        why=f"its replica holds records up to number {seq}, older than it had made: an older "
        "copy of the file",
        key=f"{REPLICA_LOST}:behind:{device.id}:{device.known_seq}",
    )


def implausible_scans(session: Session, *, gate: Gate, verdict: Verdict) -> None:
    """A device uploaded what a real gate does not: some refused, some held in quarantine (not
    applied until an admin decides). A stolen token, a tampered terminal, or a gate bug."""
    first = min([*verdict.refused, *verdict.held])
    reasons = sorted({*verdict.refused.values(), *verdict.held.values()})
    _raise(
        session,
        kind=IMPLAUSIBLE_SCANS,
        severity=3,
        venue_id=gate.venue_id,
        gate=gate.name,
        dedupe_key=f"{IMPLAUSIBLE_SCANS}:{gate.id}:{first}",
        facts={
            "refused": len(verdict.refused),
            "held": len(verdict.held),
            "why": reasons[0][:120],
        },
        message=f"gate {gate.name} uploaded implausible scans: {len(verdict.refused)} refused, "
        f"{len(verdict.held)} held in quarantine (gate-admin quarantine list); "
        f"{reasons[0][:120]}" + (f" (and {len(reasons) - 1} more reasons)" if len(reasons) > 1
                                 else ""),
    )  # fmt: skip
