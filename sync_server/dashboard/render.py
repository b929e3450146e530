"""Jinja templates and the filters they use; live parts render once and go to every page.

Gate tiles are rendered one by one and kept until their gate's data move: with 200 gates
heartbeating every 5 s, about 40 tiles change in a second, and re-rendering all 200 every second
was most of what the dashboard cost the server. Ages ("12 s ago") are counted on by the page's
script from the instant in each ``<time>``, so a kept tile does not go stale.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from sync_server.dashboard.snapshot import HOUR_MINUTES, Snapshot, epoch_ms

LIVE_PARTS = ("gates", "zones", "alerts")
"""The page's live sections: element ids, and templates ``_<id>.html``."""

ALERT_WORDS = {
    "double_entry": "Double entry",
    "banned_tried": "Banned person tried",
    "gate_silent": "Gate offline",
    "zone_nearly_full": "Zone near capacity",
    "clock_skew": "Clock skew",
    "protocol_refused": "Gate software to upgrade",
    "replica_lost": "Gate lost its data",
    "clock_unverified": "Gate clock unchecked",
    "replica_damaged": "Gate data damaged",
    "implausible_scans": "Implausible scans from a gate",
}
SEVERITY_WORDS = {1: "notice", 2: "warning", 3: "critical"}


def age(at: datetime | None, now: datetime) -> str:
    """``12 s ago``, ``4 min ago``, ``2 h ago`` or ``never``."""
    if at is None:
        return "never"
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def ago(at: datetime | None, now: datetime) -> Markup:
    """The age as a ``<time>`` carrying its instant (ms), which the page's script keeps counting."""
    if at is None:
        return Markup("never")
    return Markup('<time class="ago" datetime="{}" data-ms="{}">{}</time>').format(
        at.isoformat(), epoch_ms(at), age(at, now)
    )


def settled_age(at: datetime | None, now: datetime) -> str:
    """The age's text once it counts in minutes or hours (or ``never``); ``""`` while it counts
    seconds. Part of a tile's fingerprint, so a silent gate's tile still moves on by the minute."""
    if at is not None and (now - at).total_seconds() < 90:
        return ""
    return age(at, now)


def tile_key(venue: str, gate: str) -> str:
    """A tile's identity on the page (``data-gate``): gate names are unique per venue only."""
    return f"{venue}/{gate}"


def clock(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone(UTC).strftime("%H:%M:%S UTC")


def skew(ms: int | None) -> str:
    if ms is None:
        return "unknown"
    return "0.0 s" if abs(ms) < 50 else f"{ms / 1000:+.1f} s"


def bars(values: list[int]) -> dict[str, Any]:
    """Geometry of an inline SVG bar chart: one bar per minute, scaled to the busiest."""
    top = max(values, default=0)
    height = 32
    shown = [
        {"x": i * 3, "h": 0 if not v else max(1, round(v * height / top)), "v": v}
        for i, v in enumerate(values)
    ]
    return {"bars": shown, "top": top, "height": height, "width": HOUR_MINUTES * 3}


@lru_cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sync_server.dashboard"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clock=clock, skew=skew)
    env.globals.update(
        ago=ago,
        bars=bars,
        tile_key=tile_key,
        alert_words=ALERT_WORDS,
        severity_words=SEVERITY_WORDS,
    )
    return env


def page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


class TileRenderer:
    """Renders gate tiles, keeping each one until its gate's data move (not safe across threads:
    one renderer per caller, or calls taken in turn)."""

    def __init__(self) -> None:
        self._tiles: dict[str, tuple[Hashable, str]] = {}

    def render(self, snapshot: Snapshot) -> tuple[dict[str, str], set[str]]:
        """Every tile's HTML by key, and the keys of those rendered afresh."""
        now = snapshot.taken_at
        kept: dict[str, tuple[Hashable, str]] = {}
        fresh: set[str] = set()
        for venue in snapshot.venues:
            for gate in venue.gates:
                key = tile_key(venue.code, gate.name)
                mark = (gate, settled_age(gate.seen_at, now), settled_age(gate.last_sync_at, now))
                known = self._tiles.get(key)
                if known is None or known[0] != mark:
                    known = (mark, page("_tile.html", key=key, g=gate, now=now))
                    fresh.add(key)
                kept[key] = known
        self._tiles = kept
        return {key: html for key, (_, html) in kept.items()}, fresh


def live_parts(snapshot: Snapshot, tiles: dict[str, str]) -> dict[str, str]:
    """The live sections' HTML, the same for every page: their forms carry no CSRF token (the
    page's script adds its own; a page load renders the alerts again with it, alerts_part)."""
    return {
        part: page(f"_{part}.html", snap=snapshot, now=snapshot.taken_at, csrf="", tiles=tiles)
        for part in LIVE_PARTS
    }


def alerts_part(snapshot: Snapshot, *, csrf: str) -> str:
    """The alerts section for one page, its acknowledgement forms carrying that page's token."""
    return page("_alerts.html", snap=snapshot, now=snapshot.taken_at, csrf=csrf)
