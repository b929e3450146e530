"""Gates: their configuration, enrollment codes and enrolled devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, status
from sqlalchemy import select

from shared.model import Direction
from sync_server import roles
from sync_server.api.deps import SessionDep, SettingsDep, UserDep, WriterDep
from sync_server.models import Device, Gate, Venue
from sync_server.schemas import EnrollmentCodePublic, GateCreate, GatePublic, GateUpdate
from sync_server.services import layouts, site
from sync_server.services.writes import commit

router = APIRouter(tags=["gates"])


def gate_public(
    session: SessionDep, gate: Gate, venue_code: str, silent_after_s: int
) -> GatePublic:
    seen = gate.last_seen_at
    online = seen is not None and datetime.now(UTC) - seen < timedelta(seconds=silent_after_s)
    return GatePublic(
        venue=venue_code,
        name=gate.name,
        zones=gate.zones,
        access=layouts.gate_access(session, gate),
        event_codes=gate.event_codes,
        direction=Direction(gate.direction),
        enabled=gate.enabled,
        grace_s=gate.grace_s,
        online=online,
        last_seen_at=seen,
        status=gate.status or {},
    )


@router.post("/gates", status_code=status.HTTP_201_CREATED)
def create_gate(
    data: GateCreate, session: SessionDep, actor: WriterDep, settings: SettingsDep
) -> GatePublic:
    roles.require_venue(actor, data.venue)
    gate, pending = site.create_gate(session, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="gate.create",
        target=f"{data.venue}/{data.name}",
        detail=data.model_dump(mode="json"),
        remote_addr=actor.remote_addr,
    )
    return gate_public(session, gate, data.venue, settings.gate_silent_after_s)


@router.get("/gates")
def list_gates(
    session: SessionDep, reader: UserDep, settings: SettingsDep, venue: str | None = None
) -> list[GatePublic]:
    query = select(Gate, Venue.code).join(Venue, Venue.id == Gate.venue_id)
    if reader.venues is not None:
        query = query.where(Venue.code.in_(sorted(reader.venues)))
    if venue is not None:
        query = query.where(Venue.code == venue)
    rows = session.execute(query.order_by(Venue.code, Gate.name)).all()
    return [gate_public(session, g, code, settings.gate_silent_after_s) for g, code in rows]


@router.patch("/venues/{venue}/gates/{name}")
def update_gate(
    venue: str,
    name: str,
    data: GateUpdate,
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
) -> GatePublic:
    roles.require_venue(actor, venue)
    place = site.get_venue(session, venue)
    gate = site.get_gate(session, place, name)
    pending = site.update_gate(session, venue=place, gate=gate, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="gate.update",
        target=f"{venue}/{name}",
        detail=data.model_dump(mode="json", exclude_none=True),
        remote_addr=actor.remote_addr,
    )
    return gate_public(session, gate, venue, settings.gate_silent_after_s)


@router.post("/venues/{venue}/gates/{name}/enrollment", status_code=status.HTTP_201_CREATED)
def enrollment_code(
    venue: str, name: str, session: SessionDep, actor: WriterDep, settings: SettingsDep
) -> EnrollmentCodePublic:
    """A one-time code to enroll a terminal as this gate (valid 24 h by default)."""
    roles.require_venue(actor, venue)
    place = site.get_venue(session, venue)
    gate = site.get_gate(session, place, name)
    code, enrollment = site.new_enrollment(session, gate=gate, ttl_s=settings.enrollment_code_ttl_s)
    commit(
        session,
        actor=actor.name,
        action="gate.enrollment_code",
        target=f"{venue}/{name}",
        remote_addr=actor.remote_addr,
    )
    return EnrollmentCodePublic(venue=venue, gate=name, code=code, expires_at=enrollment.expires_at)


@router.post("/venues/{venue}/gates/{name}/revoke-devices")
def revoke_devices(venue: str, name: str, session: SessionDep, actor: WriterDep) -> dict[str, int]:
    """Cut off every terminal enrolled as this gate (a stolen or replaced terminal)."""
    roles.require_venue(actor, venue)
    place = site.get_venue(session, venue)
    gate = site.get_gate(session, place, name)
    now = datetime.now(UTC)
    devices = list(
        session.scalars(
            select(Device).where(Device.gate_id == gate.id, Device.revoked_at.is_(None))
        )
    )
    for device in devices:
        device.revoked_at = now
    commit(
        session,
        actor=actor.name,
        action="gate.revoke_devices",
        target=f"{venue}/{name}",
        detail={"devices": len(devices)},
        remote_addr=actor.remote_addr,
    )
    return {"revoked": len(devices)}
