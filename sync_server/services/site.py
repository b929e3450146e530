"""Venues (their layouts: ``services.layouts``), seasons, events and gates: what the back office
sets up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.sync_schema import EventRow, EventRuleRow, GateRow
from sync_server.core.config import get_settings
from sync_server.core.security import hash_token, new_enrollment_code
from sync_server.errors import Conflict, Invalid, NotFound
from sync_server.feed import Pending
from sync_server.models import AccessRight, EnrollmentCode, Event, Gate, Season, Venue
from sync_server.schemas import EventCreate, GateCreate, GateUpdate, VenueCreate, VenueUpdate
from sync_server.services import layouts


def get_venue(session: Session, code: str) -> Venue:
    venue = session.scalar(select(Venue).where(Venue.code == code))
    if venue is None:
        raise NotFound(f"no venue {code!r}", said="no_venue", venue=code)
    return venue


def get_event(session: Session, code: str) -> Event:
    event = session.scalar(select(Event).where(Event.code == code))
    if event is None:
        raise NotFound(f"no event {code!r}", said="no_event", event=code)
    return event


def get_season(session: Session, code: str) -> Season:
    season = session.scalar(select(Season).where(Season.code == code))
    if season is None:
        raise NotFound(f"no season {code!r}", said="no_season", season=code)
    return season


def get_gate(session: Session, venue: Venue, name: str) -> Gate:
    gate = session.scalar(select(Gate).where(Gate.venue_id == venue.id, Gate.name == name))
    if gate is None:
        raise NotFound(
            f"no gate {name!r} at venue {venue.code!r}", said="no_gate", gate=name, venue=venue.code
        )
    return gate


def gate_row(gate: Gate) -> GateRow:
    return GateRow(
        name=gate.name,
        zones=gate.zones,
        event_codes=gate.event_codes,
        direction=gate.direction,  # type: ignore[arg-type]
        enabled=gate.enabled,
        grace_s=gate.grace_s,
    )


def event_row(event: Event, venue: Venue) -> EventRow:
    return EventRow(
        code=event.code,
        name=event.name,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        venue=venue.code,
    )


def create_venue(session: Session, *, data: VenueCreate) -> tuple[Venue, list[Pending]]:
    if session.scalar(select(Venue).where(Venue.code == data.code)) is not None:
        raise Conflict(f"venue {data.code!r} exists", said="venue_exists", venue=data.code)
    zone = data.timezone or get_settings().default_timezone
    venue = Venue(code=data.code, name=data.name, timezone=zone)
    session.add(venue)
    session.flush()
    _, pending = layouts.create_layout(
        session, venue=venue, code=data.layout, name=data.layout_name, zones=data.zones
    )
    return venue, pending


def update_venue(session: Session, *, venue: Venue, data: VenueUpdate) -> dict[str, str]:
    """Rename a venue or set its time zone (neither is replicated: gates keep UTC instants);
    what changed, for the audit log."""
    changed: dict[str, str] = {}
    if data.name is not None and data.name != venue.name:
        venue.name = changed["name"] = data.name
    if data.timezone is not None and data.timezone != venue.timezone:
        venue.timezone = changed["timezone"] = data.timezone
    session.flush()
    return changed


def create_season(session: Session, *, code: str, name: str) -> Season:
    if session.scalar(select(Season).where(Season.code == code)) is not None:
        raise Conflict(f"season {code!r} exists", said="season_exists", season=code)
    season = Season(code=code, name=name)
    session.add(season)
    session.flush()
    return season


def create_event(session: Session, *, data: EventCreate) -> tuple[Event, list[Pending]]:
    if session.scalar(select(Event).where(Event.code == data.code)) is not None:
        raise Conflict(f"event {data.code!r} exists", said="event_exists", event=data.code)
    if data.ends_at <= data.starts_at:
        raise Invalid("an event ends after it starts", said="event_backwards")
    venue = get_venue(session, data.venue)
    layout = layouts.get_layout(session, venue, data.layout)
    season = get_season(session, data.season) if data.season else None
    event = Event(
        code=data.code,
        name=data.name,
        venue_id=venue.id,
        season_id=None if season is None else season.id,
        starts_at=int(data.starts_at.timestamp()),
        ends_at=int(data.ends_at.timestamp()),
        layout_id=layout.id,
        rotating_required=data.rotating_required,
    )
    session.add(event)
    session.flush()
    rule = [event_rule(event, venue)] if data.rotating_required else []
    return event, [
        Pending.upsert(event_row(event, venue), venue.code),
        layouts.published(session, layout),
        *rule,
    ]


def event_rule(event: Event, venue: Venue) -> Pending:
    row = EventRuleRow(event=event.code, rotating_required=event.rotating_required)
    return Pending.upsert(row, venue.code)


def require_rotating(session: Session, *, event: Event, required: bool) -> list[Pending]:
    """Make ``event`` take rotating codes only (its rights, issued so from now on, then carry
    the claim), or lift it (rights issued rotating stay so). Its gates are told."""
    event.rotating_required = required
    if required:
        session.execute(
            update(AccessRight)
            .where(AccessRight.event_id == event.id, AccessRight.secret.is_(None))
            .values(rotating=True)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    return [event_rule(event, venue)]


def create_gate(session: Session, *, data: GateCreate) -> tuple[Gate, list[Pending]]:
    venue = get_venue(session, data.venue)
    if session.scalar(select(Gate).where(Gate.venue_id == venue.id, Gate.name == data.name)):
        raise Conflict(
            f"gate {data.name!r} exists at {venue.code}", said="gate_exists", gate=data.name,
            venue=venue.code,
        )  # fmt: skip
    default = layouts.default_layout(session, venue)
    layouts.check_zones(session, default, data.zones)
    others = {
        layouts.get_layout(session, venue, code): zones for code, zones in data.access.items()
    }
    for layout, zones in others.items():
        layouts.check_zones(session, layout, zones)
    if not data.zones and not any(others.values()):
        raise Invalid(f"gate {data.name!r} leads nowhere: give it zones in a layout",
                      said="gate_leads_nowhere", gate=data.name)  # fmt: skip
    for code in data.event_codes:
        get_event(session, code)
    gate = Gate(
        venue_id=venue.id,
        name=data.name,
        zones=list(data.zones),
        event_codes=list(data.event_codes),
        direction=data.direction.value,
        enabled=data.enabled,
        grace_s=data.grace_s,
        status={},
    )
    session.add(gate)
    session.flush()
    pending = [Pending.upsert(gate_row(gate), venue.code)]
    if data.zones:
        pending.append(layouts.published(session, default))
    for layout, zones in others.items():
        pending += layouts.set_access(session, layout=layout, access={gate.name: zones})
    return gate, pending


def update_gate(session: Session, *, venue: Venue, gate: Gate, data: GateUpdate) -> list[Pending]:
    pending: list[Pending] = []
    if data.zones is not None:
        default = layouts.default_layout(session, venue)
        pending += layouts.set_access(session, layout=default, access={gate.name: data.zones})
    if data.event_codes is not None:
        for code in data.event_codes:
            get_event(session, code)
        gate.event_codes = list(data.event_codes)
    if data.direction is not None:
        gate.direction = data.direction.value
    if data.enabled is not None:
        gate.enabled = data.enabled
    if data.grace_s is not None:
        gate.grace_s = data.grace_s
    session.flush()
    return [*pending, Pending.upsert(gate_row(gate), venue.code)]


def open_event_at_gates(session: Session, *, event: Event) -> list[Pending]:
    """Make every gate of the event's venue control this event (the usual match-day switch)."""
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    pending = []
    for gate in session.scalars(select(Gate).where(Gate.venue_id == venue.id)):
        if event.code not in gate.event_codes:
            gate.event_codes = [*gate.event_codes, event.code]
            pending.append(Pending.upsert(gate_row(gate), venue.code))
    session.flush()
    return pending


def new_enrollment(session: Session, *, gate: Gate, ttl_s: int) -> tuple[str, EnrollmentCode]:
    """A one-time code to type on the gate terminal; only its hash is kept."""
    code = new_enrollment_code()
    enrollment = EnrollmentCode(
        gate_id=gate.id,
        code_hash=hash_token(code),
        expires_at=datetime.now(UTC) + timedelta(seconds=ttl_s),
    )
    session.add(enrollment)
    session.flush()
    return code, enrollment
