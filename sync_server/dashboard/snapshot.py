"""What the dashboard shows, read from the database in a handful of grouped queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync_server import localtime
from sync_server.feed import current_seq
from sync_server.models import (
    Alert,
    AuditEntry,
    Event,
    Gate,
    Layout,
    Occupancy,
    Scan,
    Venue,
    Zone,
)
from sync_server.services import entries, layouts
from sync_server.services.plausibility import HELD

RECENT_S = 300
"""Entries and refusals per gate are counted over the last five minutes."""
HOUR_MINUTES = 60
OPEN_ALERTS_SHOWN = 50
ACKED_ALERTS_SHOWN = 8
NEAR_FULL = 0.95
NEAR_STATE = "near capacity"
SKEW_WARN_MS = 2_000


@dataclass(frozen=True, slots=True)
class GateTile:
    """One gate as a supervisor sees it."""

    name: str
    direction: str
    enabled: bool
    online: bool
    seen_at: datetime | None
    last_sync_at: datetime | None
    outbox: int | None
    relay: str
    camera: str
    entries: int
    exits: int
    refused: int
    overrides: int
    skew_ms: int | None
    version: str
    protocol_refused: str = ""
    """Why the server refuses this gate's software (until it heartbeats again): upgrade it."""
    replica: str = "ok"
    """``ok``, ``rebuilding`` (admitting nobody until its data is back from the server) or
    ``damaged`` (admitting nobody until restarted)."""
    held: int = 0
    """Scans held in quarantine (``services.plausibility``): stored, not counted, until an admin
    applies or discards them."""
    clock_unchecked: bool = False
    """The gate has been away beyond ``gate_clock_unverified_after_s``: it decides time windows
    on a clock nobody has checked since its last heartbeat."""

    @property
    def skew_off(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_WARN_MS


@dataclass(frozen=True, slots=True)
class ZoneRow:
    """A zone's head count against its capacity, and its entries per minute over the hour."""

    code: str
    name: str
    depth: int
    count: int
    capacity: int | None
    per_minute: list[int]

    @property
    def ratio(self) -> float | None:
        return None if not self.capacity else self.count / self.capacity

    @property
    def state(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return "no limit"
        if ratio >= 1:
            return "full"
        return NEAR_STATE if ratio >= NEAR_FULL else "ok"


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    at: datetime
    kind: str
    severity: int
    gate: str | None
    zone: str | None
    message: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    venue: str | None = None
    """The venue's code (gate names are unique per venue only)."""
    venue_name: str | None = None
    zone_name: str | None = None
    """The zone's name in its venue's tree (the alert keeps the code)."""
    timezone: str = "UTC"
    """The venue's time zone: the alert's times are shown in it."""
    facts: dict[str, Any] | None = None


@dataclass(slots=True)
class VenueView:
    code: str
    name: str
    timezone: str = "UTC"
    gates: list[GateTile] = field(default_factory=list)
    zones: list[ZoneRow] = field(default_factory=list)
    layout: str = ""
    """The name of the layout its zones are those of (the event's on now, or the next's)."""


@dataclass(slots=True)
class Snapshot:
    """Everything on the page at one instant."""

    taken_at: datetime
    venues: list[VenueView]
    open_alerts: list[AlertRow]
    acked_alerts: list[AlertRow]
    timezone: str = "UTC"
    """The page's time: the venues' zone when they share one, UTC otherwise."""

    @property
    def near_full(self) -> list[tuple[VenueView, ZoneRow]]:
        """Zones at or beyond the near-capacity mark, fullest first."""
        found = [(v, z) for v in self.venues for z in v.zones if z.state in ("full", NEAR_STATE)]
        return sorted(found, key=lambda vz: -(vz[1].ratio or 0))

    @property
    def offline(self) -> list[tuple[VenueView, GateTile]]:
        """Enabled gates not heard from lately."""
        return [(v, g) for v in self.venues for g in v.gates if g.enabled and not g.online]


def scoped(snap: Snapshot, venues: frozenset[str] | None) -> Snapshot:
    """What a reader confined to ``venues`` sees of ``snap`` (None: all of it): those venues'
    gates and zones, and their alerts (none of a venue's: those are for every-venue readers)."""
    if venues is None:
        return snap
    shown = [v for v in snap.venues if v.code in venues]
    return Snapshot(
        snap.taken_at,
        shown,
        [a for a in snap.open_alerts if a.venue in venues],
        [a for a in snap.acked_alerts if a.venue in venues],
        localtime.common(v.timezone for v in shown),
    )


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _from_ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class GateCounts:
    """A gate's last minutes, by the one definition of :mod:`sync_server.services.entries`."""

    entries: int = 0
    exits: int = 0
    refusals: int = 0
    overrides: int = 0


def _gate_counts(session: Session, since_ms: int) -> dict[int, GateCounts]:
    """Per gate id, since ``since_ms``: entries, exits, refusals and supervisor overrides."""
    rows = session.execute(
        select(
            Scan.gate_id,
            func.count().filter(entries.ENTRY),
            func.count().filter(entries.EXIT),
            func.count().filter(entries.REFUSAL),
            func.count().filter(entries.OVERRIDE),
        )
        .where(Scan.scanned_at_ms >= since_ms)
        .group_by(Scan.gate_id)
    ).all()
    return {gate_id: GateCounts(*counts) for gate_id, *counts in rows}


def _tile(
    gate: Any,
    counts: GateCounts,
    now: datetime,
    silent_after_s: int,
    unchecked_after_s: int | None,
    held: int = 0,
) -> GateTile:
    status = gate.status or {}
    seen = gate.last_seen_at
    away_s = None if seen is None else int((now - seen).total_seconds())
    outbox = status.get("outbox")
    skew = status.get("skew_ms")
    return GateTile(
        name=gate.name,
        direction=gate.direction,
        enabled=gate.enabled,
        online=seen is not None and now - seen < timedelta(seconds=silent_after_s),
        seen_at=seen,
        last_sync_at=_from_ms(status.get("last_sync_ms")),
        outbox=outbox if isinstance(outbox, int) else None,
        relay=str(status.get("relay", "unknown")),
        camera=str(status.get("camera", "unknown")),
        entries=counts.entries,
        exits=counts.exits,
        refused=counts.refusals,
        overrides=counts.overrides,
        skew_ms=skew if isinstance(skew, int) else None,
        version=str(status.get("version", "")),
        protocol_refused=str(status.get("protocol_refused", "")),
        replica=str(status.get("replica", "ok")),
        held=held,
        clock_unchecked=away_s is not None
        and unchecked_after_s is not None
        and away_s > unchecked_after_s,
    )


def _per_minute(session: Session, now: datetime) -> dict[tuple[int, str], dict[int, int]]:
    """Entries per (venue id, leaf zone) per minute index (0 = an hour ago); an annulled one is
    none."""
    first = epoch_ms(now) // 60_000 - HOUR_MINUTES + 1
    minute = Scan.scanned_at_ms // 60_000
    rows = session.execute(
        select(Scan.venue_id, Scan.zone, minute, func.count())
        .where(Scan.scanned_at_ms >= first * 60_000, entries.ENTRY)
        .group_by(Scan.venue_id, Scan.zone, minute)
    ).all()
    found: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for venue_id, zone, m, n in rows:
        if zone is not None and 0 <= m - first < HOUR_MINUTES:
            found[(venue_id, zone)][int(m - first)] = n
    return found


def _zone_rows(
    zones: list[Zone], counts: dict[str, int], minutes: dict[str, dict[int, int]]
) -> list[ZoneRow]:
    """The venue's zone tree, depth first, each zone's minutes summed over its subtree."""
    children: dict[str | None, list[Zone]] = defaultdict(list)
    for zone in zones:
        children[zone.parent].append(zone)
    rows: list[ZoneRow] = []

    def walk(zone: Zone, depth: int) -> list[int]:
        at = len(rows)
        total = [minutes.get(zone.code, {}).get(i, 0) for i in range(HOUR_MINUTES)]
        rows.append(ZoneRow(zone.code, zone.name, depth, 0, None, []))
        for child in sorted(children[zone.code], key=lambda z: z.code):
            total = [a + b for a, b in zip(total, walk(child, depth + 1), strict=True)]
        rows[at] = ZoneRow(
            zone.code, zone.name, depth, counts.get(zone.code, 0), zone.capacity, total
        )
        return total

    codes = {z.code for z in zones}
    for root in sorted(
        (z for z in zones if z.parent is None or z.parent not in codes), key=lambda z: z.code
    ):
        walk(root, 0)
    return rows


def _alerts(session: Session) -> tuple[list[AlertRow], list[AlertRow]]:
    open_ = session.scalars(
        select(Alert)
        .where(Alert.acknowledged_at.is_(None))
        .order_by(Alert.severity.desc(), Alert.at.desc(), Alert.id.desc())
        .limit(OPEN_ALERTS_SHOWN)
    ).all()
    acked = session.scalars(
        select(Alert)
        .where(Alert.acknowledged_at.is_not(None))
        .order_by(Alert.acknowledged_at.desc())
        .limit(ACKED_ALERTS_SHOWN)
    ).all()
    who: dict[str, str] = {}
    if acked:
        for target, actor in session.execute(
            select(AuditEntry.target, AuditEntry.actor)
            .where(AuditEntry.action == "alert.ack")
            .where(AuditEntry.target.in_([str(a.id) for a in acked]))
            .order_by(AuditEntry.id)
        ):
            who[target] = actor  # the latest acknowledgement wins

    venues = {v.id: v for v in session.scalars(select(Venue))}
    wanted = {(a.venue_id, a.zone) for a in [*open_, *acked] if a.zone and a.venue_id}
    names: dict[tuple[int, str], str] = {}
    if wanted:
        # A code names one place in every layout: any layout's name for it will do, the
        # default's first.
        for venue_id, code, name in session.execute(
            select(Layout.venue_id, Zone.code, Zone.name)
            .join(Layout, Layout.id == Zone.layout_id)
            .where(
                Layout.venue_id.in_(sorted({v for v, _ in wanted})),
                Zone.code.in_(sorted({z for _, z in wanted})),
            )
            .order_by(Layout.is_default)
        ):
            names[(venue_id, code)] = name

    def row(a: Alert) -> AlertRow:
        venue = None if a.venue_id is None else venues.get(a.venue_id)
        zone_name = (
            None if a.zone is None or a.venue_id is None else names.get((a.venue_id, a.zone))
        )
        return AlertRow(
            a.id, a.at, a.kind, a.severity, a.gate, a.zone, a.message, a.acknowledged_at,
            who.get(str(a.id)), None if venue is None else venue.code,
            None if venue is None else venue.name, zone_name,
            "UTC" if venue is None else venue.timezone, a.facts,
        )  # fmt: skip

    return [row(a) for a in open_], [row(a) for a in acked]


def take(
    session: Session,
    *,
    silent_after_s: int,
    unchecked_after_s: int | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Read the whole dashboard from the database; ``unchecked_after_s``: a gate away longer
    shows its clock as unchecked (None: never)."""
    now = now or datetime.now(UTC)
    venues = {v.id: VenueView(v.code, v.name, v.timezone) for v in session.scalars(select(Venue))}
    counts = _gate_counts(session, epoch_ms(now) - RECENT_S * 1000)
    held: dict[int, int] = dict(
        session.execute(
            select(Scan.gate_id, func.count())
            .where(Scan.quarantine_state == HELD)
            .group_by(Scan.gate_id)
        ).all()
    )
    gates = session.execute(
        select(
            Gate.id, Gate.venue_id, Gate.name, Gate.direction, Gate.enabled, Gate.last_seen_at,
            Gate.status,
        ).order_by(Gate.name)
    )  # fmt: skip
    for gate in gates:
        tile = _tile(gate, counts.get(gate.id, GateCounts()), now, silent_after_s,
                     unchecked_after_s, held.get(gate.id, 0))  # fmt: skip
        venues[gate.venue_id].gates.append(tile)
    heads: dict[int, dict[str, int]] = defaultdict(dict)
    for row in session.scalars(select(Occupancy)):
        heads[row.venue_id][row.zone] = row.count
    minutes = _per_minute(session, now)
    at_s = int(now.timestamp())
    for venue_id, view in venues.items():
        mine = {zone: m for (v, zone), m in minutes.items() if v == venue_id}
        venue = session.get(Venue, venue_id)
        assert venue is not None
        in_use = layouts.in_use(session, venue, at_s)  # the zones the venue is set up in now
        view.layout = in_use.name
        view.zones = _zone_rows(layouts.zones_of(session, in_use), heads[venue_id], mine)
    open_alerts, acked_alerts = _alerts(session)
    shown = sorted(venues.values(), key=lambda v: v.code)
    page_zone = localtime.common(v.timezone for v in shown)
    return Snapshot(now, shown, open_alerts, acked_alerts, page_zone)


def events(session: Session, venues: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) of events, latest first: the report's choices (of ``venues`` only, if
    given)."""
    query = select(Event.code, Event.name).order_by(Event.starts_at.desc())
    if venues is not None:
        query = query.join(Venue, Venue.id == Event.venue_id).where(Venue.code.in_(sorted(venues)))
    return [(code, name) for code, name in session.execute(query).tuples()]


def change_marker(session: Session) -> tuple[Any, ...]:
    """A cheap fingerprint of everything the page shows: it moves when anything does."""
    alerts = session.execute(
        select(func.max(Alert.id), func.max(Alert.acknowledged_at), func.count(Alert.id))
    ).one()
    gates = session.execute(select(func.max(Gate.last_seen_at), func.count(Gate.id))).one()
    latest_scan = session.scalar(select(func.max(Scan.scanned_at_ms)))
    held = session.scalar(select(func.count()).where(Scan.quarantine_state == HELD))  # indexed
    return (current_seq(session), *alerts, *gates, latest_scan, held)
