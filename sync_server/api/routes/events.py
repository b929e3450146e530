"""Seasons and events."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status
from sqlalchemy import select

from sync_server import roles
from sync_server.api.deps import AdminDep, SessionDep, UserDep, WriterDep
from sync_server.models import Event, Season, Venue
from sync_server.schemas import (
    EventCreate,
    EventPublic,
    EventRotating,
    SeasonCreate,
    SeasonPublic,
)
from sync_server.services import layouts, rights, site
from sync_server.services.writes import commit

router = APIRouter(tags=["events"])


def _event_public(session: SessionDep, event: Event) -> EventPublic:
    venue = session.get(Venue, event.venue_id)
    season = rights.season_of(session, event)
    assert venue is not None
    return EventPublic(
        code=event.code,
        name=event.name,
        venue=venue.code,
        layout=layouts.of_event(session, event).code,
        season=None if season is None else season.code,
        starts_at=datetime.fromtimestamp(event.starts_at, UTC),
        ends_at=datetime.fromtimestamp(event.ends_at, UTC),
        over=event.ends_at <= datetime.now(UTC).timestamp(),
        rotating_required=event.rotating_required,
    )


def _season_public(session: SessionDep, season: Season) -> SeasonPublic:
    events = session.scalars(select(Event.code).where(Event.season_id == season.id))
    return SeasonPublic(code=season.code, name=season.name, events=sorted(events))


@router.post("/seasons", status_code=status.HTTP_201_CREATED)
def create_season(data: SeasonCreate, session: SessionDep, actor: AdminDep) -> SeasonPublic:
    season = site.create_season(session, code=data.code, name=data.name)
    commit(
        session,
        actor=actor.name,
        action="season.create",
        target=season.code,
        remote_addr=actor.remote_addr,
    )
    return _season_public(session, season)


@router.get("/seasons")
def list_seasons(session: SessionDep, _: UserDep) -> list[SeasonPublic]:
    return [
        _season_public(session, s) for s in session.scalars(select(Season).order_by(Season.code))
    ]


@router.post("/events", status_code=status.HTTP_201_CREATED)
def create_event(data: EventCreate, session: SessionDep, actor: WriterDep) -> EventPublic:
    """Creating an event in a season gives each of the season's subscribers a right for it."""
    roles.require_venue(actor, data.venue)
    event, pending = site.create_event(session, data=data)
    pending += rights.rights_for_new_event(session, event=event)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="event.create",
        target=event.code,
        detail={
            "venue": data.venue,
            "season": data.season,
            "rotating_required": data.rotating_required,
        },
        remote_addr=actor.remote_addr,
    )
    return _event_public(session, event)


@router.get("/events")
def list_events(session: SessionDep, reader: UserDep) -> list[EventPublic]:
    """Every event the account reads (its venues'), by start time."""
    query = select(Event).join(Venue, Venue.id == Event.venue_id).order_by(Event.starts_at)
    if reader.venues is not None:
        query = query.where(Venue.code.in_(sorted(reader.venues)))
    return [_event_public(session, e) for e in session.scalars(query)]


@router.get("/events/{code}")
def get_event(code: str, session: SessionDep, reader: UserDep) -> EventPublic:
    event = site.get_event(session, code)
    roles.require_read(reader, rights.venue_code(session, event))
    return _event_public(session, event)


@router.post("/events/{code}/open-gates")
def open_gates(code: str, session: SessionDep, actor: WriterDep) -> EventPublic:
    """Make every gate of the event's venue control this event (match day)."""
    event = site.get_event(session, code)
    roles.require_venue(actor, rights.venue_code(session, event))
    pending = site.open_event_at_gates(session, event=event)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="event.open_gates",
        target=event.code,
        detail={"gates": len(pending)},
        remote_addr=actor.remote_addr,
    )
    return _event_public(session, event)


@router.put("/events/{code}/rotating")
def require_rotating(
    code: str, data: EventRotating, session: SessionDep, actor: WriterDep
) -> EventPublic:
    """Take rotating codes only at this event (``required``), or lift it: its gates refuse
    static codes (printed, copied, imported) with ``static_code``, its rights are issued
    rotating."""
    event = site.get_event(session, code)
    roles.require_venue(actor, rights.venue_code(session, event))
    pending = site.require_rotating(session, event=event, required=data.required)
    commit(session, pending=pending, actor=actor.name, action="event.rotating",
           target=event.code, detail={"required": data.required},
           remote_addr=actor.remote_addr)  # fmt: skip
    return _event_public(session, event)
