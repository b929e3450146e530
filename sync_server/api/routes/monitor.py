"""What supervisors and the authorities read: scans, alerts, the audit log, entry counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from sync_server import roles
from sync_server.api.deps import Actor, AdminDep, SessionDep, UserDep
from sync_server.errors import NotFound
from sync_server.models import Alert, AuditEntry, Gate, Scan, Venue
from sync_server.schemas import MAX_INT, AlertPublic, AuditPublic, ScanPublic, When
from sync_server.services import reports, rights, site
from sync_server.services.writes import commit

router = APIRouter(tags=["monitoring"])
Limit = Annotated[int, Query(ge=1, le=10_000)]


def _readable(reader: Actor) -> list[Any]:
    """The condition on ``Venue.code`` (joined) that keeps what ``reader`` may read."""
    if reader.venues is None:
        return []
    return [Venue.code.in_(sorted(reader.venues))]


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


@router.get("/scans")
def list_scans(
    session: SessionDep,
    reader: UserDep,
    event: str | None = None,
    venue: str | None = None,
    gate: str | None = None,
    zone: str | None = None,
    reason: str | None = None,
    since: When | None = None,
    until: When | None = None,
    limit: Limit = 100,
) -> list[ScanPublic]:
    """Scans, newest first, filtered by event, venue, gate, zone, reason and time.

    Gate names are unique within a venue only: give the venue too when several sites share one.
    """
    query = select(Scan, Gate.name).join(Gate, Gate.id == Scan.gate_id)
    query = query.join(Venue, Venue.id == Scan.venue_id).where(*_readable(reader))
    if venue is not None:
        query = query.where(Venue.code == venue)
    if event is not None:
        query = query.where(Scan.event == event)
    if gate is not None:
        query = query.where(Gate.name == gate)
    if zone is not None:
        query = query.where(Scan.zone == zone)
    if reason is not None:
        query = query.where(Scan.reason == reason)
    if since is not None:
        query = query.where(Scan.scanned_at_ms >= _ms(since))
    if until is not None:
        query = query.where(Scan.scanned_at_ms < _ms(until))
    rows = session.execute(query.order_by(Scan.scanned_at_ms.desc()).limit(limit)).all()
    return [
        ScanPublic(
            scan_id=s.scan_id,
            gate=name,
            scanned_at=datetime.fromtimestamp(s.scanned_at_ms / 1000, UTC),
            received_at=s.received_at,
            direction=s.direction,
            reason=s.reason,
            right_id=None if s.right_id is None else s.right_id.hex(),
            event=s.event,
            zone=s.zone,
            code_kind=s.code_kind,
            latency_ms=s.latency_ms,
            operator=s.operator,
            detail=s.detail,
            future_ms=s.future_ms,
        )
        for s, name in rows
    ]


def _alert_public(alert: Alert, venue: str | None) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        at=alert.at,
        kind=alert.kind,
        severity=alert.severity,
        venue=venue,
        gate=alert.gate,
        zone=alert.zone,
        right_id=None if alert.right_id is None else alert.right_id.hex(),
        message=alert.message,
        acknowledged_at=alert.acknowledged_at,
        facts=alert.facts,
    )


@router.get("/alerts")
def list_alerts(
    session: SessionDep,
    reader: UserDep,
    kind: str | None = None,
    venue: str | None = None,
    open_only: bool = False,
    limit: Limit = 100,
) -> list[AlertPublic]:
    """Alerts, newest first (silent gates are looked for in the background every few seconds)."""
    query = select(Alert, Venue.code).outerjoin(Venue, Venue.id == Alert.venue_id)
    query = query.where(*_readable(reader))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if venue is not None:
        query = query.where(Venue.code == venue)
    if open_only:
        query = query.where(Alert.acknowledged_at.is_(None))
    found = session.execute(query.order_by(Alert.at.desc(), Alert.id.desc()).limit(limit))
    return [_alert_public(a, code) for a, code in found]


@router.post("/alerts/{alert_id}/ack")
def acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=MAX_INT)], session: SessionDep, actor: UserDep
) -> AlertPublic:
    """Supervisors acknowledge alerts too: it is their job, and it is audited."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    at = None if alert.venue_id is None else session.get(Venue, alert.venue_id)
    roles.require_read(actor, None if at is None else at.code)
    alert.acknowledged_at = datetime.now(UTC)
    commit(
        session,
        actor=actor.name,
        action="alert.ack",
        target=str(alert_id),
        remote_addr=actor.remote_addr,
    )
    place = None if alert.venue_id is None else session.get(Venue, alert.venue_id)
    return _alert_public(alert, None if place is None else place.code)


@router.get("/audit")
def list_audit(
    session: SessionDep,
    _: AdminDep,
    action: str | None = None,
    actor: str | None = None,
    limit: Limit = 100,
) -> list[AuditPublic]:
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    entries = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [
        AuditPublic(
            at=e.at,
            actor=e.actor,
            action=e.action,
            target=e.target,
            detail=e.detail,
            remote_addr=e.remote_addr,
        )
        for e in entries
    ]


@router.get("/exports/entries.csv", response_class=Response)
def export_entries(
    session: SessionDep,
    reader: UserDep,
    event: str,
    bucket_s: Annotated[int, Query(ge=60, le=86_400)] = 300,
) -> Response:
    """The authorities' report as CSV: per time slot (5 minutes by default, aligned on the
    venue's clock) and per zone of its tree (each with its subtree), entries, exits and the head
    count inside; UTC and local times. The dashboard's PDF and Excel hold the same figures."""
    roles.require_read(reader, rights.venue_code(session, site.get_event(session, event)))
    built = reports.build(session, event=event, bucket_s=bucket_s)
    filename = reports.filename(event, "csv")
    return Response(
        reports.as_csv(built),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/exports/entries.json")
def export_entries_json(
    session: SessionDep,
    reader: UserDep,
    event: str,
    bucket_s: Annotated[int, Query(ge=60, le=86_400)] = 300,
) -> dict[str, Any]:
    """The same report as JSON: the zone tree with its totals, then every slot."""
    roles.require_read(reader, rights.venue_code(session, site.get_event(session, event)))
    return reports.as_json(reports.build(session, event=event, bucket_s=bucket_s))
