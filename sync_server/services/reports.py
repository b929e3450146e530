"""The authorities' report of one event: entries and exits per time slot, rolled up the venue's
zone tree (sector → stand → venue), and the head count inside at the end of each slot.

One :class:`Report` is built here from the scan log (:mod:`sync_server.services.entries` says
what an entry and an exit are); the printable page, the PDF, the Excel workbook, the CSV and the
JSON are all views of it, so their figures cannot disagree.

Slots are aligned on the venue's local clock (a 15-minute slot starts at :00, :15, ... there),
run from the first entry or exit to the last without gaps, and each zone's figures include its
whole subtree. "Inside" is entries minus exits since the first slot, so it is what the turnstiles
saw, not a seat count.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared.model import Direction
from sync_server import localtime
from sync_server.errors import Invalid, NotFound
from sync_server.models import Event, Scan, Venue, Zone
from sync_server.services import layouts
from sync_server.services.entries import ENTRY, EXIT

MAX_SLOTS = 2_000
"""A report longer than this many slots is refused: ask for longer slots."""
UNPLACED = "?"
"""The line of entries whose zone is not in the venue's tree (none, or a zone since removed)."""
OWN = "#"
"""Suffix of the line holding a zone's own entries when it has sub-zones too (a right for the
whole stand, beside rights for its sectors): ``NORD#`` is the first child of ``NORD``, so that
every line is the sum of its children and the leaves add up to the venue."""
VENUE_TOTAL = ""
"""The code of the venue's total line when its tree has several roots."""
CSV_HEADER = [
    "bucket_start_utc", "bucket_end_utc", "bucket_start_local", "bucket_end_local", "venue",
    "zone", "zone_name", "parent", "level", "leaf", "entries", "exits", "inside",
]  # fmt: skip
"""One row per slot and zone line; ``leaf`` rows add up to the venue's total, and each zone's
figures already include its subtree (``level`` 0 is the venue)."""


@dataclass(frozen=True, slots=True)
class ZoneLine:
    """A zone of the tree with its figures over the whole report (its subtree included)."""

    code: str
    name: str
    parent: str | None
    depth: int
    capacity: int | None
    leaf: bool
    entries: int
    exits: int
    inside: int
    """At the end of the last slot."""
    kind: str = "zone"
    """``zone``; ``own`` (the parent's own entries, ``NORD#``); ``unplaced`` (``?``)."""

    @property
    def fill(self) -> float | None:
        """Inside against capacity (0.97), None without a capacity."""
        return None if not self.capacity else self.inside / self.capacity


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    entries: dict[str, int]
    exits: dict[str, int]
    inside: dict[str, int]
    """Per zone line (subtree included), at the slot's end."""


@dataclass(frozen=True, slots=True)
class Report:
    event: str
    event_name: str
    venue: str
    venue_name: str
    timezone: str
    event_starts: datetime
    event_ends: datetime
    bucket_s: int
    generated_at: datetime
    zones: list[ZoneLine]
    """The tree, depth first; ``zones[0]`` is the venue's total."""
    slots: list[Slot]
    columns: list[str] = field(default_factory=list)
    """The lines the slot table shows: the stands (the venue's children), then the total."""

    @property
    def total(self) -> ZoneLine:
        return self.zones[0]

    @property
    def line(self) -> dict[str, ZoneLine]:
        return {z.code: z for z in self.zones}

    @property
    def first(self) -> datetime | None:
        return self.slots[0].start if self.slots else None

    @property
    def last(self) -> datetime | None:
        return self.slots[-1].end if self.slots else None

    @property
    def days(self) -> int:
        """How many local dates the slots touch (a page shows the date only when it changes)."""
        if not self.slots:
            return 0
        tz = self.timezone
        return len({localtime.local(s.start, tz).date() for s in self.slots})


def _tree(
    zones: list[Zone], venue: Venue, unplaced: bool, own: set[str]
) -> list[tuple[str, str, str | None]]:
    """(code, name, parent) depth first, the venue's total first: its single root zone, or a
    line of its own over several roots; entries outside the tree go under the total, and the
    zones in ``own`` that have sub-zones get a first child line for their own entries."""
    codes = {z.code for z in zones}
    children: dict[str | None, list[Zone]] = defaultdict(list)
    for zone in zones:
        children[zone.parent if zone.parent in codes else None].append(zone)
    roots = sorted(children[None], key=lambda z: z.code)
    ordered: list[tuple[str, str, str | None]] = []

    def walk(zone: Zone, parent: str | None) -> None:
        ordered.append((zone.code, zone.name, parent))
        if zone.code in own and children[zone.code]:
            ordered.append((zone.code + OWN, zone.name, zone.code))
        for child in sorted(children[zone.code], key=lambda z: z.code):
            walk(child, zone.code)

    if len(roots) == 1:
        walk(roots[0], None)
        top = roots[0].code
    else:
        ordered.append((VENUE_TOTAL, venue.name, None))
        for root in roots:
            walk(root, VENUE_TOTAL)
        top = VENUE_TOTAL
    if unplaced:
        ordered.append((UNPLACED, "", top))
    return ordered


def _slot_start(at_ms: int, bucket_s: int, tz: str) -> datetime:
    """The start of the slot holding ``at_ms``, aligned on the venue's local clock."""
    at = localtime.from_ms(at_ms)
    shift = localtime.local(at, tz).utcoffset() or timedelta(0)
    local_s = int(at.timestamp() + shift.total_seconds())
    return datetime.fromtimestamp(local_s // bucket_s * bucket_s - shift.total_seconds(), UTC)


def build(
    session: Session, *, event: str, bucket_s: int = 300, now: datetime | None = None
) -> Report:
    """The report of ``event`` in slots of ``bucket_s`` seconds (a whole number of minutes)."""
    if bucket_s % 60:
        raise Invalid("the slot must be a whole number of minutes (bucket_s: 60, 300, 900...)")
    found = session.execute(
        select(Event, Venue).join(Venue, Venue.id == Event.venue_id).where(Event.code == event)
    ).first()
    if found is None:
        raise NotFound(f"no event {event!r}")
    ev, venue = found
    tz = venue.timezone
    minute = Scan.scanned_at_ms // 60_000
    rows = session.execute(
        select(minute, Scan.zone, Scan.direction, func.count())
        .where(Scan.event == event, or_(ENTRY, EXIT))
        .group_by(minute, Scan.zone, Scan.direction)
    ).all()
    zones = layouts.zones_of(session, layouts.of_event(session, ev))
    known = {z.code for z in zones}
    unplaced = any(zone not in known for _, zone, _, _ in rows)
    tree = _tree(zones, venue, unplaced, {zone for _, zone, _, _ in rows if zone in known})
    parent_of = {code: parent for code, _, parent in tree}

    def up(code: str | None) -> list[str]:
        """The line itself and every line above it."""
        line: str | None = UNPLACED
        if code in known:
            line = code + OWN if code + OWN in parent_of else code
        chain: list[str] = []
        while line is not None:
            chain.append(line)
            line = parent_of.get(line)
        return chain

    per_slot: dict[datetime, tuple[dict[str, int], dict[str, int]]] = defaultdict(
        lambda: (defaultdict(int), defaultdict(int))
    )
    for m, zone, direction, count in rows:
        start = _slot_start(int(m) * 60_000, bucket_s, tz)
        entries, exits = per_slot[start]
        target = entries if direction == Direction.IN.value else exits
        for line in up(zone):
            target[line] += count
    codes = [code for code, _, _ in tree]
    slots: list[Slot] = []
    if per_slot:
        first, last = min(per_slot), max(per_slot)
        count = int((last - first).total_seconds() // bucket_s) + 1
        if count > MAX_SLOTS:
            raise Invalid(
                f"{count} slots of {bucket_s // 60} min: more than {MAX_SLOTS}; ask for longer "
                "slots (bucket_s)"
            )
        inside = dict.fromkeys(codes, 0)
        for i in range(count):
            start = first + timedelta(seconds=i * bucket_s)
            entries, exits = per_slot.get(start, ({}, {}))
            for code in codes:
                inside[code] += entries.get(code, 0) - exits.get(code, 0)
            slots.append(
                Slot(
                    start=start,
                    end=start + timedelta(seconds=bucket_s),
                    entries={c: entries.get(c, 0) for c in codes},
                    exits={c: exits.get(c, 0) for c in codes},
                    inside=dict(inside),
                )
            )
    capacity: dict[str, int | None] = {z.code: z.capacity for z in zones}
    depth: dict[str, int] = {}
    for code, _, parent in tree:
        depth[code] = 0 if parent is None else depth[parent] + 1
    has_children = {parent for _, _, parent in tree if parent is not None}
    lines = [
        ZoneLine(
            code=code,
            name=name,
            parent=parent,
            depth=depth[code],
            capacity=capacity.get(code),
            leaf=code not in has_children,
            entries=sum(s.entries[code] for s in slots),
            exits=sum(s.exits[code] for s in slots),
            inside=slots[-1].inside[code] if slots else 0,
            kind="unplaced" if code == UNPLACED else "own" if code.endswith(OWN) else "zone",
        )
        for code, name, parent in tree
    ]
    top = tree[0][0] if tree else VENUE_TOTAL
    if not lines:  # a venue without zones: only its total
        lines = [ZoneLine(VENUE_TOTAL, venue.name, None, 0, None, True, 0, 0, 0)]
    stands = [line.code for line in lines if line.parent == top]
    return Report(
        event=ev.code,
        event_name=ev.name,
        venue=venue.code,
        venue_name=venue.name,
        timezone=tz,
        event_starts=datetime.fromtimestamp(ev.starts_at, UTC),
        event_ends=datetime.fromtimestamp(ev.ends_at, UTC),
        bucket_s=bucket_s,
        generated_at=now or datetime.now(UTC),
        zones=lines,
        slots=slots,
        columns=[*stands, lines[0].code],
    )


def _iso(at: datetime, tz: str) -> str:
    return localtime.local(at, tz).isoformat()


def as_rows(report: Report) -> list[dict[str, Any]]:
    """The long table: one row per slot and zone line (CSV_HEADER's columns)."""
    tz = report.timezone
    return [
        {
            "bucket_start_utc": slot.start.isoformat(),
            "bucket_end_utc": slot.end.isoformat(),
            "bucket_start_local": _iso(slot.start, tz),
            "bucket_end_local": _iso(slot.end, tz),
            "venue": report.venue,
            "zone": line.code,
            "zone_name": line.name,
            "parent": line.parent or "",
            "level": line.depth,
            "leaf": int(line.leaf),
            "entries": slot.entries[line.code],
            "exits": slot.exits[line.code],
            "inside": slot.inside[line.code],
        }
        for slot in report.slots
        for line in report.zones
    ]


def as_csv(report: Report) -> str:
    """The long table as CSV (UTF-8, comma, ``\\n``): UTC and local times, every zone line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_rows(report))
    return out.getvalue()


def as_json(report: Report) -> dict[str, Any]:
    """The report as JSON: the event, the tree with its totals, and every slot."""
    tz = report.timezone
    return {
        "event": report.event,
        "event_name": report.event_name,
        "venue": report.venue,
        "venue_name": report.venue_name,
        "timezone": tz,
        "bucket_s": report.bucket_s,
        "generated_at": report.generated_at.isoformat(),
        "event_starts": report.event_starts.isoformat(),
        "event_ends": report.event_ends.isoformat(),
        "zones": [
            {
                "code": z.code, "name": z.name, "parent": z.parent, "level": z.depth,
                "leaf": z.leaf, "capacity": z.capacity, "entries": z.entries, "exits": z.exits,
                "inside": z.inside,
            }
            for z in report.zones
        ],
        "slots": [
            {
                "start_utc": s.start.isoformat(), "end_utc": s.end.isoformat(),
                "start_local": _iso(s.start, tz), "end_local": _iso(s.end, tz),
                "entries": s.entries, "exits": s.exits, "inside": s.inside,
            }
            for s in report.slots
        ],
    }  # fmt: skip


def filename(event: str, suffix: str) -> str:
    """``entries-DERBY.csv``. ``event`` is whatever was asked for: a header takes only latin-1
    and no quotes or newlines."""
    return "entries-" + re.sub(r"[^A-Za-z0-9_.\-]", "_", event) + "." + suffix
