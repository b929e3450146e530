"""Scans uploaded by gates: stored once by UUID, turned into usage state, occupancy and alerts,
and the usage published back to every gate of the venue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import model as domain
from shared.decision import Decision, occupancy_changes, usage_after
from shared.reasons import Reason
from shared.sync_schema import OccupancyRow, UsageRow
from shared.views import MemoryReplicaView
from sync_server.feed import Pending
from sync_server.models import AccessRight, Gate, Occupancy, Scan, UsageState, Venue, Zone
from sync_server.schemas import ScanIn
from sync_server.services import alerts


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    pending: list[Pending] = field(default_factory=list)


def ingest(
    session: Session, *, venue: Venue, gate: Gate, device_id: int, scans: Sequence[ScanIn]
) -> IngestResult:
    """Store new scans (one already stored is a no-op), then apply their effects in time order."""
    result = IngestResult()
    ids = [s.scan_id for s in scans]
    known = set(session.scalars(select(Scan.scan_id).where(Scan.scan_id.in_(ids))))
    fresh: dict[str, ScanIn] = {}
    for scan in scans:
        if scan.scan_id in known or scan.scan_id in fresh:
            result.duplicates += 1
        else:
            fresh[scan.scan_id] = scan
    if not fresh:
        return result
    gates = {g.name: g for g in session.scalars(select(Gate).where(Gate.venue_id == venue.id))}
    view = _zone_view(session, venue)
    touched_usage: dict[bytes, UsageState] = {}
    touched_zones: set[str] = set()
    for scan in sorted(fresh.values(), key=lambda s: s.scanned_at_ms):
        scan_gate = gates.get(scan.gate, gate)
        session.add(
            Scan(
                scan_id=scan.scan_id,
                gate_id=scan_gate.id,
                device_id=device_id,
                venue_id=venue.id,
                scanned_at_ms=scan.scanned_at_ms,
                direction=scan.direction.value,
                reason=scan.reason,
                right_id=None if scan.right_id is None else bytes.fromhex(scan.right_id),
                event=scan.event,
                zone=scan.zone,
                code_kind=scan.code_kind,
                latency_ms=scan.latency_ms,
                operator=scan.operator,
                detail=scan.detail,
            )
        )
        result.stored += 1
        if scan.reason == Reason.BLACKLISTED.value:
            alerts.banned_person_tried(session, venue=venue, gate=scan_gate.name, scan=scan)
        if scan.reason == Reason.GRANTED.value and scan.right_id is not None:
            usage = _apply_usage(session, venue, scan_gate, scan, view, touched_zones)
            if usage is not None:
                touched_usage[usage.right_id] = usage
    session.flush()
    for usage in touched_usage.values():
        row = UsageRow(
            right_id=usage.right_id,
            entries=usage.entries,
            inside=usage.inside,
            zone=usage.zone,
            last_scan_at=usage.last_scan_at,
        )
        result.pending.append(Pending.upsert(row, venue.code))
    for code in sorted(touched_zones):
        occupancy = session.get(Occupancy, (venue.id, code))
        count = 0 if occupancy is None else occupancy.count
        result.pending.append(Pending.upsert(OccupancyRow(zone=code, count=count), venue.code))
        zone = view.zone(code)
        if zone is not None and zone.capacity:
            alerts.zone_filling(session, venue=venue, zone=zone, count=count)
    return result


def _zone_view(session: Session, venue: Venue) -> MemoryReplicaView:
    view = MemoryReplicaView()
    for zone in session.scalars(select(Zone).where(Zone.venue_id == venue.id)):
        view.zones[zone.code] = domain.Zone(zone.code, zone.name, zone.parent, zone.capacity)
    return view


def _apply_usage(
    session: Session,
    venue: Venue,
    gate: Gate,
    scan: ScanIn,
    view: MemoryReplicaView,
    touched_zones: set[str],
) -> UsageState | None:
    right_id = bytes.fromhex(scan.right_id or "")
    right = session.get(AccessRight, right_id)
    policy = domain.EntryPolicy(right.policy) if right is not None else domain.EntryPolicy.SINGLE
    state = session.get(UsageState, right_id)
    if state is None:
        state = UsageState(right_id=right_id, venue_id=venue.id, entries=0, inside=False)
        session.add(state)
    before = domain.UsageState(
        right_id, state.entries, state.inside, state.zone, state.last_scan_at
    )
    at_s = scan.scanned_at_ms // 1000
    direction = domain.Direction(scan.direction)
    # Two gates admitted one right while apart: detect it, raise it, never hide it.
    used = (policy is domain.EntryPolicy.SINGLE and state.entries > 0) or state.inside
    if direction is domain.Direction.IN and policy is not domain.EntryPolicy.UNLIMITED and used:
        alerts.double_entry(session, venue=venue, gate=gate.name, right_id=right_id, scan=scan)
    right_view = domain.AccessRight(right_id, scan.event or "", (), 0, 0, policy)
    decision = Decision(Reason.GRANTED, direction, right_view, zone=scan.zone)
    after = usage_after(decision, before, at_s)
    if after is None:
        return None
    if before.last_scan_at is not None and at_s < before.last_scan_at:
        # A late upload of an older scan counts as an entry, but does not move the holder.
        after = domain.UsageState(
            right_id, after.entries, before.inside, before.zone, before.last_scan_at
        )
    for code, delta in occupancy_changes(view, before, after).items():
        occupancy = session.get(Occupancy, (venue.id, code))
        if occupancy is None:
            occupancy = Occupancy(venue_id=venue.id, zone=code, count=0)
            session.add(occupancy)
        occupancy.count = max(0, occupancy.count + delta)
        touched_zones.add(code)
    state.entries, state.inside, state.zone = after.entries, after.inside, after.zone
    state.last_scan_at = after.last_scan_at
    if state.first_gate_id is None:
        state.first_gate_id = gate.id
    return state


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
