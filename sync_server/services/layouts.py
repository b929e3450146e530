"""Venue layouts: a venue set up for football, a concert or a conference.

Each layout has its zone tree with capacities, its access points (where each gate leads) and
the events held in it. A venue's first layout is its default for good: where its gates lead in
it is ``Gate.zones``, and its zones are what protocol-2 gates know (they are served only while
their venue has one layout; ``sync_server.api.routes.gate_api``). Every change to a layout's
zones, access points or events publishes the layout again, whole (:class:`LayoutRow`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared import model as domain
from shared.sync_schema import LayoutRow, ZoneRow
from sync_server.errors import Conflict, Invalid, NotFound
from sync_server.feed import Pending
from sync_server.models import AccessPoint, Event, Gate, Layout, Venue, Zone
from sync_server.schemas import ZoneIn


def layouts_of(session: Session, venue: Venue) -> list[Layout]:
    """The venue's layouts, its default first."""
    return list(
        session.scalars(
            select(Layout)
            .where(Layout.venue_id == venue.id)
            .order_by(Layout.is_default.desc(), Layout.code)
        )
    )


def default_layout(session: Session, venue: Venue) -> Layout:
    found = session.scalar(select(Layout).where(Layout.venue_id == venue.id, Layout.is_default))
    if found is None:
        raise NotFound(f"venue {venue.code!r} has no layout")  # not after migration 0012
    return found


def get_layout(session: Session, venue: Venue, code: str | None) -> Layout:
    """The venue's layout ``code``; its default for None."""
    if code is None:
        return default_layout(session, venue)
    found = session.scalar(select(Layout).where(Layout.venue_id == venue.id, Layout.code == code))
    if found is None:
        raise NotFound(f"no layout {code!r} at venue {venue.code!r}", said="no_layout",
                       layout=code, venue=venue.code)  # fmt: skip
    return found


def layout_count(session: Session, venue_id: int) -> int:
    return int(session.scalar(select(func.count()).where(Layout.venue_id == venue_id)) or 0)


def of_event(session: Session, event: Event) -> Layout:
    layout = None if event.layout_id is None else session.get(Layout, event.layout_id)
    if layout is None:  # not after migration 0012; a guard, not a path
        raise Invalid(f"event {event.code!r} has no layout")
    return layout


def zones_of(session: Session, layout: Layout) -> list[Zone]:
    return list(
        session.scalars(select(Zone).where(Zone.layout_id == layout.id).order_by(Zone.code))
    )


def zone_row(zone: Zone) -> ZoneRow:
    return ZoneRow(code=zone.code, name=zone.name, parent=zone.parent, capacity=zone.capacity)


def access_of(session: Session, layout: Layout) -> dict[str, list[str]]:
    """Gate name -> the zones it leads into in ``layout`` (gates leading nowhere left out)."""
    if layout.is_default:
        gates = session.scalars(
            select(Gate).where(Gate.venue_id == layout.venue_id).order_by(Gate.name)
        )
        return {gate.name: list(gate.zones) for gate in gates if gate.zones}
    rows = session.execute(
        select(Gate.name, AccessPoint.zones)
        .join(Gate, Gate.id == AccessPoint.gate_id)
        .where(AccessPoint.layout_id == layout.id)
        .order_by(Gate.name)
    )
    return {name: list(zones) for name, zones in rows if zones}


def gate_access(session: Session, gate: Gate) -> dict[str, list[str]]:
    """Layout code -> where ``gate`` leads in it, for every layout it leads somewhere in."""
    found: dict[str, list[str]] = {}
    for layout in session.scalars(
        select(Layout).where(Layout.venue_id == gate.venue_id).order_by(Layout.code)
    ):
        if layout.is_default:
            zones = list(gate.zones)
        else:
            point = session.get(AccessPoint, (layout.id, gate.id))
            zones = [] if point is None else list(point.zones)
        if zones:
            found[layout.code] = zones
    return found


def events_of(session: Session, layout: Layout) -> list[str]:
    return list(
        session.scalars(select(Event.code).where(Event.layout_id == layout.id).order_by(Event.code))
    )


def layout_row(session: Session, layout: Layout) -> LayoutRow:
    return LayoutRow(
        code=layout.code,
        name=layout.name,
        zones=[zone_row(z) for z in zones_of(session, layout)],
        access=access_of(session, layout),
        events=events_of(session, layout),
    )


def domain_layout(session: Session, layout: Layout) -> domain.Layout:
    """The layout as a decision sees it (the server's own checks and head counts)."""
    return layout_row(session, layout).to_layout()


def published(session: Session, layout: Layout) -> Pending:
    """The layout's feed row, after any change to its zones, access points or events."""
    session.flush()
    return Pending.upsert(layout_row(session, layout), _scope(session, layout))


def _scope(session: Session, layout: Layout) -> str:
    venue = session.get(Venue, layout.venue_id)
    assert venue is not None
    return venue.code


def create_layout(
    session: Session,
    *,
    venue: Venue,
    code: str,
    name: str,
    zones: Sequence[ZoneIn] = (),
    copy_from: str | None = None,
) -> tuple[Layout, list[Pending]]:
    """A new layout of ``venue``: its zones given, or copied from another of its layouts
    (``copy_from``, with that one's access points). The venue's first is its default."""
    if session.scalar(select(Layout).where(Layout.venue_id == venue.id, Layout.code == code)):
        raise Conflict(f"layout {code!r} exists at {venue.code}", said="layout_exists",
                       layout=code, venue=venue.code)  # fmt: skip
    source = None if copy_from is None else get_layout(session, venue, copy_from)
    first = layout_count(session, venue.id) == 0
    layout = Layout(venue_id=venue.id, code=code, name=name, is_default=first)
    session.add(layout)
    session.flush()
    if source is not None:
        copied = [
            ZoneIn(code=z.code, name=z.name, parent=z.parent, capacity=z.capacity)
            for z in zones_of(session, source)
        ]
        zones = [*copied, *zones]
    pending = put_zones(session, layout=layout, zones=zones)
    if source is not None:
        pending += set_access(session, layout=layout, access=access_of(session, source))
    return layout, [*pending, published(session, layout)]


def rename_layout(session: Session, *, layout: Layout, name: str) -> list[Pending]:
    layout.name = name
    return [published(session, layout)]


def put_zones(session: Session, *, layout: Layout, zones: Iterable[ZoneIn]) -> list[Pending]:
    """Create or update zones of a layout; the resulting tree must stay a tree. The default
    layout's zones go to the feed as zone rows too (protocol-2 gates)."""
    existing = {z.code: z for z in zones_of(session, layout)}
    changed: list[Zone] = []
    for data in zones:
        zone = existing.get(data.code)
        if zone is None:
            zone = Zone(layout_id=layout.id, code=data.code)
            session.add(zone)
            existing[data.code] = zone
        zone.name, zone.parent, zone.capacity = data.name, data.parent, data.capacity
        changed.append(zone)
    _check_tree(existing)
    session.flush()
    pending = []
    if layout.is_default:
        scope = _scope(session, layout)
        pending = [Pending.upsert(zone_row(z), scope) for z in changed]
    return [*pending, published(session, layout)]


def _check_tree(zones: Mapping[str, Zone]) -> None:
    for code, zone in zones.items():
        seen = {code}
        parent = zone.parent
        while parent is not None:
            if parent not in zones:
                raise Invalid(
                    f"zone {code!r}: parent {parent!r} is not a zone of this layout",
                    said="zone_parent_unknown", zone=code, parent=parent,
                )  # fmt: skip
            if parent in seen:
                raise Invalid(
                    f"zone {code!r}: the zone tree has a cycle through {parent!r}",
                    said="zone_cycle", zone=code, parent=parent,
                )  # fmt: skip
            seen.add(parent)
            parent = zones[parent].parent


def check_zones(session: Session, layout: Layout, codes: Iterable[str]) -> None:
    known = {z.code for z in zones_of(session, layout)}
    unknown = sorted(set(codes) - known)
    if unknown:
        venue = _scope(session, layout)
        where = venue if layout.is_default else f"{venue} ({layout.code})"
        raise Invalid(
            f"unknown zone(s) at {where}: {', '.join(unknown)}",
            said="zones_unknown", venue=where, zones=", ".join(unknown),
        )  # fmt: skip


def set_access(
    session: Session, *, layout: Layout, access: Mapping[str, Sequence[str]]
) -> list[Pending]:
    """Where each named gate leads in ``layout`` (an empty list: nowhere). Gates not named keep
    theirs. Returns the feed changes: the layout again, and for the default layout the gates'
    own rows (protocol-2 gates read ``zones`` there)."""
    from sync_server.services import site  # site builds gate rows and names gates

    venue = session.get(Venue, layout.venue_id)
    assert venue is not None
    pending: list[Pending] = []
    for name, zones in access.items():
        gate = site.get_gate(session, venue, name)
        check_zones(session, layout, zones)
        if layout.is_default:
            gate.zones = list(zones)
            pending.append(Pending.upsert(site.gate_row(gate), venue.code))
            continue
        point = session.get(AccessPoint, (layout.id, gate.id))
        if not zones:
            if point is not None:
                session.delete(point)
        elif point is None:
            session.add(AccessPoint(layout_id=layout.id, gate_id=gate.id, zones=list(zones)))
        else:
            point.zones = list(zones)
    return [*pending, published(session, layout)]


def in_use(session: Session, venue: Venue, at_s: int) -> Layout:
    """The layout the venue is set up in at ``at_s``: that of the event on then, else of the
    next one to start, else of the last one held, else the default."""
    on = session.scalar(
        select(Event)
        .where(Event.venue_id == venue.id, Event.starts_at <= at_s, Event.ends_at > at_s)
        .order_by(Event.starts_at.desc())
        .limit(1)
    )
    if on is None:
        on = session.scalar(
            select(Event)
            .where(Event.venue_id == venue.id, Event.starts_at > at_s)
            .order_by(Event.starts_at)
            .limit(1)
        )
    if on is None:
        on = session.scalar(
            select(Event).where(Event.venue_id == venue.id).order_by(Event.ends_at.desc()).limit(1)
        )
    return default_layout(session, venue) if on is None else of_event(session, on)
