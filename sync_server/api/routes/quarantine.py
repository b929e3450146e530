"""Scans held in quarantine: the admins' list and decision (``services.quarantine``)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter

from sync_server import roles
from sync_server.api.deps import SessionDep, UserDep, WriterDep
from sync_server.schemas import HeldScan, QuarantineDecided, QuarantineDecision
from sync_server.services import quarantine
from sync_server.services.writes import commit

router = APIRouter(prefix="/quarantine", tags=["monitoring"])


@router.get("")
def list_held(
    session: SessionDep, reader: UserDep, venue: str | None = None, gate: str | None = None
) -> list[HeldScan]:
    """Scans a gate uploaded that the server did not believe: stored, not counted."""
    return [
        HeldScan(
            scan_id=h.scan.scan_id,
            venue=h.venue,
            gate=h.gate,
            scanned_at=datetime.fromtimestamp(h.scan.scanned_at_ms / 1000, UTC),
            received_at=h.scan.received_at,
            direction=h.scan.direction,
            reason=h.scan.reason,
            right_id=None if h.scan.right_id is None else h.scan.right_id.hex(),
            why=h.scan.quarantine or "",
        )
        for h in quarantine.held(session, venue=venue, gate=gate)
        if roles.reads(reader, h.venue)
    ]


@router.post("")
def decide(data: QuarantineDecision, session: SessionDep, actor: WriterDep) -> QuarantineDecided:
    """Apply held scans (they count and move usage) or discard them (never counted); audited.
    A venue admin decides on their venues' scans only."""
    for venue in quarantine.venues_of(session, data.scan_ids):
        roles.require_venue(actor, venue)
    decided, result = quarantine.decide(session, scan_ids=data.scan_ids, decision=data.decision)
    commit(
        session,
        pending=result.pending,
        actor=actor.name,
        action=f"quarantine.{data.decision}",
        target=f"{decided} scans",
        detail={"scan_ids": data.scan_ids[:50], "asked": len(data.scan_ids)},
        remote_addr=actor.remote_addr,
    )
    return QuarantineDecided(decided=decided, decision=data.decision)
