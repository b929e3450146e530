"""Times as the people at a venue read them: in the venue's own time zone (an IANA name kept on
the venue), with UTC kept for machines (exports, the API).

Every page, the report and ``gate-admin`` format times here, so a time reads the same wherever it
is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_NAME = "UTC"


def is_timezone(name: str) -> bool:
    """``name`` is an IANA time zone this machine knows (``Africa/Tunis``, ``UTC``)."""
    return name in _known()


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(available_timezones()) | {UTC_NAME}


@lru_cache(maxsize=256)
def zone(name: str | None) -> tzinfo:
    """The time zone called ``name``; UTC for none, or for a name this machine lacks (a venue
    keeps its name, validated when it was set: only a machine without tzdata falls back)."""
    if not name or name == UTC_NAME:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def common(names: Iterable[str]) -> str:
    """The time of a page about several venues: their zone when they share one, else UTC."""
    distinct = set(names)
    return distinct.pop() if len(distinct) == 1 else UTC_NAME


def offset(at: datetime, name: str | None) -> str:
    """``UTC+01:00`` (``UTC`` itself for UTC): the zone's offset at that instant."""
    delta = at.astimezone(zone(name)).utcoffset()
    if not delta:
        return "UTC"
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def label(name: str | None, at: datetime | None = None) -> str:
    """``Africa/Tunis (UTC+01:00)``: which time the page speaks."""
    name = name or UTC_NAME
    if name == UTC_NAME:
        return UTC_NAME
    return f"{name} ({offset(at or datetime.now(UTC), name)})"


def local(at: datetime, name: str | None) -> datetime:
    return at.astimezone(zone(name))


def clock(at: datetime | None, name: str | None, *, seconds: bool = True) -> str:
    """``20:01:31`` (or ``20:01``) in the venue's time; ``—`` for none."""
    if at is None:
        return "—"
    return local(at, name).strftime("%H:%M:%S" if seconds else "%H:%M")


def day_clock(at: datetime | None, name: str | None) -> str:
    """``2026-12-01 20:01`` in the venue's time; ``—`` for none."""
    if at is None:
        return "—"
    return local(at, name).strftime("%Y-%m-%d %H:%M")


def stamp(at: datetime | None, name: str | None) -> str:
    """``2026-12-01 20:01:31 +01:00``: a full local time that says its offset (the CLI)."""
    if at is None:
        return "-"
    when = local(at, name)
    text = when.strftime("%Y-%m-%d %H:%M:%S %z")
    return text[:-2] + ":" + text[-2:]


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)
