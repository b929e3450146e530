"""Venues and their layouts: zone trees and access points (admins and the venue's admins write;
supervisors read, with live occupancy)."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from sync_server import roles
from sync_server.api.deps import AdminDep, SessionDep, UserDep, WriterDep
from sync_server.models import Layout, Occupancy, RotationKey, Venue
from sync_server.schemas import (
    AccessPoints,
    LayoutCreate,
    LayoutPublic,
    LayoutUpdate,
    RotationKeyPublic,
    VenueCreate,
    VenuePublic,
    VenueUpdate,
    ZoneIn,
    ZonePublic,
)
from sync_server.services import layouts, rotation, site
from sync_server.services.writes import commit

router = APIRouter(prefix="/venues", tags=["venues"])


def _public(session: SessionDep, venue: Venue) -> VenuePublic:
    counts = {
        o.zone: o.count
        for o in session.scalars(select(Occupancy).where(Occupancy.venue_id == venue.id))
    }
    found = [
        _layout_public(session, layout, counts) for layout in layouts.layouts_of(session, venue)
    ]
    return VenuePublic(
        code=venue.code,
        name=venue.name,
        timezone=venue.timezone,
        zones=found[0].zones if found else [],
        layouts=found,
    )


def _layout_public(session: SessionDep, layout: Layout, counts: dict[str, int]) -> LayoutPublic:
    zones = [
        ZonePublic(
            code=z.code,
            name=z.name,
            parent=z.parent,
            capacity=z.capacity,
            occupancy=counts.get(z.code, 0),
        )
        for z in layouts.zones_of(session, layout)
    ]
    return LayoutPublic(
        code=layout.code,
        name=layout.name,
        default=layout.is_default,
        zones=zones,
        access=layouts.access_of(session, layout),
        events=layouts.events_of(session, layout),
    )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_venue(data: VenueCreate, session: SessionDep, actor: AdminDep) -> VenuePublic:
    venue, pending = site.create_venue(session, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="venue.create",
        target=venue.code,
        detail={"zones": len(data.zones), "timezone": venue.timezone, "layout": data.layout},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.get("")
def list_venues(session: SessionDep, reader: UserDep) -> list[VenuePublic]:
    """The venues the account reads (its own, or every one)."""
    venues = session.scalars(select(Venue).order_by(Venue.code))
    return [_public(session, v) for v in venues if roles.reads(reader, v.code)]


@router.get("/{code}")
def get_venue(code: str, session: SessionDep, reader: UserDep) -> VenuePublic:
    roles.require_read(reader, code)
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
    """Create or update zones of the venue's default layout (a whole tree or a few nodes)."""
    return _put_zones(code, None, zones, session, actor)


@router.post("/{code}/layouts", status_code=status.HTTP_201_CREATED)
def create_layout(
    code: str, data: LayoutCreate, session: SessionDep, actor: WriterDep
) -> VenuePublic:
    """A new layout of the venue (a concert, a conference): its zones, or a copy of another
    layout's zones and access points (``copy_from``) to edit."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    layout, pending = layouts.create_layout(
        session, venue=venue, code=data.code, name=data.name, zones=data.zones,
        copy_from=data.copy_from,
    )  # fmt: skip
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="layout.create",
        target=f"{venue.code}/{layout.code}",
        detail={"name": data.name, "zones": len(data.zones), "copy_from": data.copy_from},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.patch("/{code}/layouts/{layout}")
def update_layout(
    code: str, layout: str, data: LayoutUpdate, session: SessionDep, actor: WriterDep
) -> VenuePublic:
    """Rename a layout."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    found = layouts.get_layout(session, venue, layout)
    pending = layouts.rename_layout(session, layout=found, name=data.name)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="layout.update",
        target=f"{venue.code}/{found.code}",
        detail={"name": data.name},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.put("/{code}/layouts/{layout}/zones")
def put_layout_zones(
    code: str, layout: str, zones: list[ZoneIn], session: SessionDep, actor: WriterDep
) -> VenuePublic:
    """Create or update zones of one layout (a whole tree or a few nodes); capacities included."""
    return _put_zones(code, layout, zones, session, actor)


def _put_zones(
    code: str, layout: str | None, zones: list[ZoneIn], session: SessionDep, actor: WriterDep
) -> VenuePublic:
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    found = layouts.get_layout(session, venue, layout)
    pending = layouts.put_zones(session, layout=found, zones=zones)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="zones.put",
        target=venue.code if found.is_default else f"{venue.code}/{found.code}",
        detail={"zones": [z.code for z in zones], "layout": found.code},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


@router.put("/{code}/layouts/{layout}/access")
def put_access(
    code: str,
    layout: str,
    access: AccessPoints,
    session: SessionDep,
    actor: WriterDep,
) -> VenuePublic:
    """Where gates lead in this layout: ``{"NORD-1": ["FOSSE"]}``; an empty list: nowhere.
    Gates not named keep theirs."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    found = layouts.get_layout(session, venue, layout)
    pending = layouts.set_access(session, layout=found, access=access)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="layout.access",
        target=f"{venue.code}/{found.code}",
        detail={"access": access},
        remote_addr=actor.remote_addr,
    )
    return _public(session, venue)


def _rotation_public(key: RotationKey, venue: str) -> RotationKeyPublic:
    return RotationKeyPublic(
        rkid=key.rkid.upper(), venue=venue, status=key.status,  # type: ignore[arg-type]
        created_at=key.created_at,
    )  # fmt: skip


@router.get("/{code}/rotation-keys")
def list_rotation_keys(code: str, session: SessionDep, reader: UserDep) -> list[RotationKeyPublic]:
    """The venue's rotation keys (never the keys themselves)."""
    roles.require_read(reader, code)
    venue = site.get_venue(session, code)
    return [_rotation_public(k, code) for k in rotation.keys_of(session, venue)]


@router.post("/{code}/rotation-keys", status_code=status.HTTP_201_CREATED)
def rotate_rotation_key(code: str, session: SessionDep, actor: WriterDep) -> RotationKeyPublic:
    """A new rotation key for the venue's rotating codes, sent to its gates; the previous one
    keeps verifying until retired."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    key, pending = rotation.rotate(session, venue=venue)
    commit(session, pending=pending, actor=actor.name, action="rotation_key.rotate",
           target=f"{code}/{key.rkid.upper()}", remote_addr=actor.remote_addr)  # fmt: skip
    return _rotation_public(key, code)


@router.post("/{code}/rotation-keys/{rkid}/retire")
def retire_rotation_key(
    code: str, rkid: str, session: SessionDep, actor: WriterDep
) -> RotationKeyPublic:
    """Gates forget the key: rotating codes made with it are refused (unknown_key)."""
    roles.require_venue(actor, code)
    venue = site.get_venue(session, code)
    pending = rotation.retire(session, venue=venue, rkid=rkid.lower())
    commit(session, pending=pending, actor=actor.name, action="rotation_key.retire",
           target=f"{code}/{rkid.upper()}", remote_addr=actor.remote_addr)  # fmt: skip
    key = session.get(RotationKey, rkid.lower())
    assert key is not None
    return _rotation_public(key, code)
