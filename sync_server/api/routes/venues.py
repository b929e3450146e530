"""Venues and their zone trees (admin writes; supervisors read, with live occupancy)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from sync_server import roles
from sync_server.api.deps import AdminDep, SessionDep, UserDep, WriterDep
from sync_server.models import Occupancy, Venue
from sync_server.schemas import VenueCreate, VenuePublic, VenueUpdate, ZoneIn, ZonePublic
from sync_server.services import site
from sync_server.services.writes import commit

router = APIRouter(prefix="/venues", tags=["venues"])


def _public(session: SessionDep, venue: Venue) -> VenuePublic:
    counts = {
        o.zone: o.count
        for o in session.scalars(select(Occupancy).where(Occupancy.venue_id == venue.id))
    }
    zones = [
        ZonePublic(
            code=z.code,
            name=z.name,
            parent=z.parent,
            capacity=z.capacity,
            occupancy=counts.get(z.code, 0),
        )
        for z in site.zones_of(session, venue)
    ]
    return VenuePublic(code=venue.code, name=venue.name, timezone=venue.timezone, zones=zones)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_venue(data: VenueCreate, session: SessionDep, actor: AdminDep) -> VenuePublic:
    venue, pending = site.create_venue(session, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="venue.create",
        target=venue.code,
        detail={"zones": len(data.zones), "timezone": venue.timezone},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.get("")
def list_venues(session: SessionDep, _: UserDep) -> list[VenuePublic]:
    return [_public(session, v) for v in session.scalars(select(Venue).order_by(Venue.code))]


@router.get("/{code}")
def get_venue(code: str, session: SessionDep, _: UserDep) -> VenuePublic:
    return _public(session, site.get_venue(session, code))


@router.patch("/{code}")
def update_venue(
    code: str, data: VenueUpdate, session: SessionDep, actor: WriterDep
) -> VenuePublic:
    """Rename a venue or set its time zone (IANA name): its times are shown in it."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    changed = site.update_venue(session, venue=venue, data=data)
    commit(
        session,
        actor=actor.name,
        action="venue.update",
        target=venue.code,
        detail=changed,
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.put("/{code}/zones")
def put_zones(code: str, zones: list[ZoneIn], session: SessionDep, actor: WriterDep) -> VenuePublic:
    """Create or update zones (a whole tree or a few nodes); capacities included."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    pending = site.put_zones(session, venue=venue, zones=zones)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="zones.put",
        target=venue.code,
        detail={"zones": [z.code for z in zones]},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)
