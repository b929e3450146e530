"""Jinja templates and the filters they use; live parts render once and go to every page."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sync_server.dashboard.snapshot import HOUR_MINUTES, Snapshot

LIVE_PARTS = ("gates", "zones", "alerts")
"""The page's live sections: element ids, and templates ``_<id>.html``."""

ALERT_WORDS = {
    "double_entry": "Double entry",
    "banned_tried": "Banned person tried",
    "gate_silent": "Gate offline",
    "zone_nearly_full": "Zone near capacity",
    "clock_skew": "Clock skew",
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
    env.globals.update(age=age, bars=bars, alert_words=ALERT_WORDS, severity_words=SEVERITY_WORDS)
    return env


def page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def live_parts(snapshot: Snapshot, *, csrf: str = "") -> dict[str, str]:
    """The live sections' HTML. Pushed ones carry no CSRF token: the page's script adds its own."""
    return {
        part: page(f"_{part}.html", snap=snapshot, now=snapshot.taken_at, csrf=csrf)
        for part in LIVE_PARTS
    }
