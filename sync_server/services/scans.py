"""Scans uploaded by gates: stored once by UUID, turned into usage state, occupancy and alerts,
and the usage published back to every gate of the venue.

A batch is handled in a few set-based statements (load what it touches, compute in memory, write
back in bulk), so a gate's backlog after an outage uploads at thousands of scans per second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared import model as domain
from shared.decision import Decision, occupancy_changes, usage_after
from shared.gate_wire import ScanIn
from shared.model import OVERRIDES
from shared.reasons import Reason
from shared.sync_schema import OccupancyRow, UsageRow
from sync_server.core.config import get_settings
from sync_server.db import IN_CHUNK
from sync_server.feed import Pending
from sync_server.models import AccessRight, Gate, Occupancy, Scan, UsageState, Venue
from sync_server.services import alerts, audit, entries, layouts, plausibility


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    pending: list[Pending] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """Not stored: what this device may not say (``services.plausibility``)."""
    held: dict[str, str] = field(default_factory=dict)
    """Stored, held in quarantine: not applied to usage."""


def ingest(
    session: Session, *, venue: Venue, gate: Gate, device_id: int, scans: Sequence[ScanIn]
) -> IngestResult:
    """Store new scans (one already stored is a no-op), then apply their effects in time order."""
    result = IngestResult()
    fresh: dict[str, ScanIn] = {}
    known = _existing(session, Scan.scan_id, [s.scan_id for s in scans])
    for scan in scans:
        if scan.scan_id in known or scan.scan_id in fresh:
            result.duplicates += 1
        else:
            fresh[scan.scan_id] = scan
    if not fresh:
        return result
    # What this device's token may say, and what is believed of it, before anything moves.
    verdict = plausibility.judge(
        session, venue=venue, gate=gate, scans=list(fresh.values()), settings=get_settings()
    )
    result.refused = verdict.refused
    result.held = verdict.held
    if verdict:
        alerts.implausible_scans(session, gate=gate, verdict=verdict)
    fresh = {i: s for i, s in fresh.items() if i not in verdict.refused}
    if not fresh:
        return result
    # A scan dated in the future (a gate's clock wrong while it was cut off) must not decide a
    # holder's usage by a time that has not come: it counts as of its arrival, flagged, and the
    # gate's clock is raised as an alert (issue 14).
    arrived_ms = now_ms()
    future = {
        s.scan_id: s.scanned_at_ms - arrived_ms
        for s in fresh.values()
        if s.scanned_at_ms - arrived_ms > FUTURE_TOLERANCE_MS
    }
    if future:
        fresh = {
            i: s.model_copy(update={"scanned_at_ms": arrived_ms}) if i in future else s
            for i, s in fresh.items()
        }
    ordered = sorted(fresh.values(), key=lambda s: s.scanned_at_ms)
    rows = [_scan_row(s, gate, venue, device_id) for s in ordered]
    for row in rows:
        # Stored as of its arrival, with how far ahead the gate had dated it.
        row["future_ms"] = future.get(row["scan_id"])
        why = verdict.held.get(row["scan_id"])
        if why is not None:
            row["quarantine"], row["quarantine_state"] = why[:200], plausibility.HELD
    session.execute(
        insert(Scan.metadata.tables[Scan.__tablename__]),  # Core: the ORM bulk path costs more
        rows,
    )
    result.stored = len(ordered)
    if future:
        alerts.clock_skew(session, gate=gate, skew_ms=max(future.values()))
    for scan in ordered:
        if scan.reason == Reason.BLACKLISTED.value:
            alerts.banned_person_tried(session, venue=venue, gate=gate.name, scan=scan)
        elif scan.reason in OVERRIDES:
            # A supervisor opened the turnstile by hand or for an emergency: audited as the
            # device's word (who opened is what the gate says, not an identity the server knows).
            audit.record(
                session,
                actor=f"device:{venue.code}/{gate.name}",
                action=f"gate.{scan.reason}",
                target=f"{venue.code}/{gate.name}",
                detail={"operator_claimed": scan.operator, "why": scan.detail,
                        "scan_id": scan.scan_id, "at_ms": scan.scanned_at_ms},
            )  # fmt: skip
    apply_usage(session, venue, gate, [s for s in ordered if s.scan_id not in verdict.held], result)
    return result


def apply_usage(
    session: Session, venue: Venue, gate: Gate, scans: Sequence[ScanIn], result: IngestResult
) -> None:
    """The passages' and annulments' effect on usage, head counts and double-entry alerts."""
    granted = [s for s in scans if s.reason == Reason.GRANTED.value and s.right_id]
    if granted:
        _apply_usage(session, venue, {gate.name: gate}, gate, granted, result)
    annulled = sorted({bytes.fromhex(s.right_id) for s in scans if s.annuls and s.right_id})
    if annulled:
        _recount(session, venue, annulled, result)


def _existing(session: Session, column: Any, values: Sequence[Any]) -> set[Any]:
    found: set[Any] = set()
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found


def _scan_row(scan: ScanIn, gate: Gate, venue: Venue, device_id: int) -> dict[str, Any]:
    return {
        "scan_id": scan.scan_id,
        "gate_id": gate.id,
        "device_id": device_id,
        "venue_id": venue.id,
        "scanned_at_ms": scan.scanned_at_ms,
        "received_at": datetime.now(UTC),
        "direction": scan.direction.value,
        "reason": scan.reason,
        "right_id": None if scan.right_id is None else bytes.fromhex(scan.right_id),
        "event": scan.event,
        "zone": scan.zone,
        "code_kind": scan.code_kind,
        "latency_ms": scan.latency_ms,
        "operator": scan.operator,
        "detail": scan.detail,
        "annuls": scan.annuls,
        "future_ms": None,
        "quarantine": None,
        "quarantine_state": None,
    }


def _apply_usage(
    session: Session,
    venue: Venue,
    gates: dict[str, Gate],
    default_gate: Gate,
    granted: Sequence[ScanIn],
    result: IngestResult,
) -> None:
    ids = sorted({bytes.fromhex(s.right_id or "") for s in granted})
    policies, usages = _policies_and_usages(session, ids)
    first_gates: dict[bytes, int | None] = {}
    venue_layouts = _Layouts(session, venue)
    deltas: dict[str, int] = {}
    zones: dict[str, domain.Zone] = {}
    touched: set[bytes] = set()
    for scan in granted:
        right_id = bytes.fromhex(scan.right_id or "")
        gate = gates.get(scan.gate, default_gate)
        policy = policies.get(right_id, domain.EntryPolicy.SINGLE)
        before = usages.get(right_id) or domain.UsageState(right_id)
        direction = domain.Direction(scan.direction)
        # Two gates admitted one right while apart: detect it, raise it, never hide it.
        used = (policy is domain.EntryPolicy.SINGLE and before.entries > 0) or before.inside
        if direction is domain.Direction.IN and policy is not domain.EntryPolicy.UNLIMITED and used:
            alerts.double_entry(session, venue=venue, gate=gate.name, right_id=right_id, scan=scan)
        at_s = scan.scanned_at_ms // 1000
        right = domain.AccessRight(right_id, scan.event or "", (), 0, 0, policy)
        after = usage_after(
            Decision(Reason.GRANTED, direction, right, zone=scan.zone), before, at_s
        )
        if after is None:
            continue
        if before.last_scan_at is not None and at_s < before.last_scan_at:
            # A late upload of an older scan counts as an entry, but does not move the holder.
            after = domain.UsageState(
                right_id, after.entries, before.inside, before.zone, before.last_scan_at
            )
        layout = venue_layouts.of(scan.event)
        for code, delta in occupancy_changes(layout, before, after).items():
            deltas[code] = deltas.get(code, 0) + delta
            if (zone := layout.zone(code)) is not None:
                zones[code] = zone
        usages[right_id] = after
        touched.add(right_id)
        first_gates.setdefault(right_id, gate.id)
    moved = [usages[i] for i in sorted(touched)]
    _write_usage(session, venue, moved, first_gates)
    result.pending.extend(_usage_changes(venue, moved))
    counts = _write_occupancy(session, venue, deltas)
    for code, count in sorted(counts.items()):
        result.pending.append(Pending.upsert(OccupancyRow(zone=code, count=count), venue.code))
        zone = zones.get(code)
        if zone is not None and zone.capacity:
            ratio = get_settings().zone_alert_ratio
            alerts.zone_filling(session, venue=venue, zone=zone, count=count, ratio=ratio)


def _recount(session: Session, venue: Venue, ids: Sequence[bytes], result: IngestResult) -> None:
    """Rebuild the usage of rights with an annulled entry from their scans that still count."""
    policies, usages = _policies_and_usages(session, ids)
    cancelled: set[str | None] = set()
    history: dict[bytes, list[Scan]] = {i: [] for i in ids}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        cancelled.update(
            session.scalars(
                select(Scan.annuls).where(Scan.right_id.in_(chunk), Scan.annuls.is_not(None))
            )
        )
        for scan in session.scalars(
            select(Scan)
            .where(Scan.right_id.in_(chunk), entries.GRANTED)
            .order_by(Scan.scanned_at_ms)
        ):
            history[bytes(scan.right_id or b"")].append(scan)
    venue_layouts = _Layouts(session, venue)
    deltas: dict[str, int] = {}
    rebuilt: list[domain.UsageState] = []
    for right_id in ids:
        policy = policies.get(right_id, domain.EntryPolicy.SINGLE)
        usage: domain.UsageState | None = None
        for scan in history[right_id]:
            if scan.scan_id in cancelled:
                continue
            right = domain.AccessRight(right_id, scan.event or "", (), 0, 0, policy)
            decision = Decision(
                Reason.GRANTED, domain.Direction(scan.direction), right, zone=scan.zone
            )
            usage = usage_after(decision, usage, scan.scanned_at_ms // 1000) or usage
        before = usages.get(right_id)
        last = None if before is None else before.last_scan_at
        after = usage or domain.UsageState(right_id, last_scan_at=last)
        event = history[right_id][-1].event if history[right_id] else None
        for code, delta in occupancy_changes(venue_layouts.of(event), before, after).items():
            deltas[code] = deltas.get(code, 0) + delta
        rebuilt.append(after)
    _write_usage(session, venue, rebuilt, {})
    result.pending.extend(_usage_changes(venue, rebuilt))
    for code, count in sorted(_write_occupancy(session, venue, deltas).items()):
        result.pending.append(Pending.upsert(OccupancyRow(zone=code, count=count), venue.code))


def _usage_changes(venue: Venue, usages: Sequence[domain.UsageState]) -> list[Pending]:
    return [
        Pending.upsert(
            UsageRow(
                right_id=u.right_id,
                entries=u.entries,
                inside=u.inside,
                zone=u.zone,
                last_scan_at=u.last_scan_at,
            ),
            venue.code,
        )
        for u in usages
    ]


def _policies_and_usages(
    session: Session, ids: Sequence[bytes]
) -> tuple[dict[bytes, domain.EntryPolicy], dict[bytes, domain.UsageState]]:
    """The rights' entry policies and their usage so far, read together and locked.

    Locking the rights (in id order, so two uploads never deadlock) serialises concurrent uploads
    that touch one right, whichever server process takes them: no entry is lost.
    """
    policies: dict[bytes, domain.EntryPolicy] = {}
    usages: dict[bytes, domain.UsageState] = {}
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(
            select(
                AccessRight.id,
                AccessRight.policy,
                UsageState.right_id,
                UsageState.entries,
                UsageState.inside,
                UsageState.zone,
                UsageState.last_scan_at,
            )
            .outerjoin(UsageState, UsageState.right_id == AccessRight.id)
            .where(AccessRight.id.in_(ids[start : start + IN_CHUNK]))
            .order_by(AccessRight.id)
            .with_for_update(of=AccessRight)
        )
        for right_id, policy, used, count, inside, zone, last_scan_at in rows:
            key = bytes(right_id)
            policies[key] = domain.EntryPolicy(policy)
            if used is not None:
                usages[key] = domain.UsageState(key, count, inside, zone, last_scan_at)
    return policies, usages


def _upsert(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], keys: list[str],
    update: list[str],
) -> None:  # fmt: skip
    """Insert or update many rows: one statement, compiled once, executed for all the rows (on
    the model's table: the ORM's bulk path costs more than the statement)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    table = model.metadata.tables[model.__tablename__]
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={c: statement.excluded[c] for c in update}
    )
    session.execute(statement, list(rows))


def _write_usage(
    session: Session,
    venue: Venue,
    usages: Sequence[domain.UsageState],
    first_gates: dict[bytes, int | None],
) -> None:
    rows = [
        {
            "right_id": u.right_id,
            "venue_id": venue.id,
            "entries": u.entries,
            "inside": u.inside,
            "zone": u.zone,
            "last_scan_at": u.last_scan_at,
            "first_gate_id": first_gates.get(u.right_id),
        }
        for u in usages
    ]
    _upsert(session, UsageState, rows, ["right_id"], ["entries", "inside", "zone", "last_scan_at"])


def _write_occupancy(session: Session, venue: Venue, deltas: dict[str, int]) -> dict[str, int]:
    """Apply head-count changes atomically in SQL; returns the new count of every zone moved."""
    deltas = {code: delta for code, delta in deltas.items() if delta}
    if not deltas:
        return {}
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    floor = func.greatest if dialect == "postgresql" else func.max
    # One statement for every zone moved; a zone seen for the first time starts at its delta.
    statement = make(Occupancy)
    statement = statement.on_conflict_do_update(
        index_elements=["venue_id", "zone"],
        set_={"count": floor(Occupancy.count + bindparam("delta"), 0)},
    )
    session.execute(
        statement,
        [
            {"venue_id": venue.id, "zone": code, "count": max(0, d), "delta": d}
            for code, d in sorted(deltas.items())
        ],
    )
    found = session.execute(
        select(Occupancy.zone, Occupancy.count).where(
            Occupancy.venue_id == venue.id, Occupancy.zone.in_(list(deltas))
        )
    )
    return {zone: count for zone, count in found}


class _Layouts:
    """A venue's layouts as decisions see them, read once for a batch: head counts move in the
    layout of each scan's event (its default for a scan without a known event)."""

    def __init__(self, session: Session, venue: Venue) -> None:
        found = [layouts.domain_layout(session, lay) for lay in layouts.layouts_of(session, venue)]
        self._default = found[0] if found else domain.Layout("", "")
        self._by_event = {event: lay for lay in reversed(found) for event in lay.events}

    def of(self, event: str | None) -> domain.Layout:
        return self._by_event.get(event or "", self._default)


FUTURE_TOLERANCE_MS = 30_000
"""A scan dated up to this far ahead of the server's clock is taken as dated (clocks within the
gates' tolerance of 2 s, plus the time a batch takes to arrive); beyond, it is future-dated."""


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
