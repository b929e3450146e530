"""Entries per zone per time bucket: what the authorities get, as CSV or as a printable page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.models import Scan, Venue
from sync_server.services.entries import ENTRY

CSV_HEADER = ["bucket_start_utc", "bucket_end_utc", "venue", "zone", "entries"]


@dataclass(frozen=True, slots=True)
class EntryBucket:
    """Entries (:mod:`sync_server.services.entries`) into one zone during one bucket of time."""

    start: datetime
    end: datetime
    venue: str
    zone: str
    entries: int


def entries_per_bucket(*, session: Session, event: str, bucket_s: int = 300) -> list[EntryBucket]:
    """Entries of ``event`` per (bucket, venue, zone), in time order."""
    rows = session.execute(
        select(Scan.scanned_at_ms, Scan.zone, Venue.code)
        .join(Venue, Venue.id == Scan.venue_id)
        .where(Scan.event == event, ENTRY)
    ).all()
    counts: dict[tuple[int, str, str], int] = {}
    for at_ms, zone, venue in rows:
        start = (at_ms // 1000) // bucket_s * bucket_s
        key = (start, venue, zone or "")
        counts[key] = counts.get(key, 0) + 1
    return [
        EntryBucket(
            start=datetime.fromtimestamp(start, UTC),
            end=datetime.fromtimestamp(start + bucket_s, UTC),
            venue=venue,
            zone=zone,
            entries=count,
        )
        for (start, venue, zone), count in sorted(counts.items())
    ]


def entries_csv(buckets: list[EntryBucket]) -> str:
    """The buckets as CSV, one row each, times in ISO 8601 UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for b in buckets:
        writer.writerow([b.start.isoformat(), b.end.isoformat(), b.venue, b.zone, b.entries])
    return out.getvalue()


def entries_filename(event: str) -> str:
    """The CSV's file name. ``event`` is whatever was asked for: a header takes only latin-1 and
    no quotes or newlines."""
    return "entries-" + re.sub(r"[^A-Za-z0-9_.\-]", "_", event) + ".csv"
