"""Jinja templates and the filters they use; live parts render once and go to every page.

Gate tiles are rendered one by one and kept until their gate's data move: with 200 gates
heartbeating every 5 s, about 40 tiles change in a second, and re-rendering all 200 every second
was most of what the dashboard cost the server. Ages ("12 s ago") are counted on by the page's
script from the instant in each ``<time>``, so a kept tile does not go stale.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from shared.i18n import AGES, Language, ago_text
from sync_server import localtime, words
from sync_server.dashboard.snapshot import HOUR_MINUTES, AlertRow, Snapshot, epoch_ms

LIVE_PARTS = ("urgent", "gates", "zones", "alerts")
"""The page's live sections: element ids, and templates ``_<id>.html``."""


class Speaker:
    """What the templates say, in one language: words, ages, local times, alert sentences."""

    def __init__(self, language: Language | str) -> None:
        self.language = Language(language)
        self.rtl = self.language.right_to_left
        self.dir = "rtl" if self.rtl else "ltr"

    def t(self, key: str, **values: object) -> Markup:
        """The words of ``key``, HTML-safe: the words escaped, each value escaped unless it is
        markup already (an age's ``<time>``)."""
        return escape(words.TEXTS[key][self.language]).format(**values)

    def age(self, at: datetime | None, now: datetime) -> str:
        """``il y a 12 s``, ``منذ 4 د``, ``2 h ago``, or never."""
        if at is None:
            return words.text("never", self.language)
        return ago_text((now - at).total_seconds(), self.language)

    def ago(self, at: datetime | None, now: datetime) -> Markup:
        """The age as a ``<time>`` carrying its instant (ms), which the page's script keeps
        counting in the page's language."""
        if at is None:
            return escape(self.t("never"))
        return Markup('<time class="ago" datetime="{}" data-ms="{}">{}</time>').format(
            at.isoformat(), epoch_ms(at), self.age(at, now)
        )

    def settled_age(self, at: datetime | None, now: datetime) -> str:
        """The age's text once it counts in minutes or hours (or never); ``""`` while it counts
        seconds. Part of a tile's fingerprint, so a silent gate's tile moves on by the minute."""
        if at is not None and (now - at).total_seconds() < AGE_IN_SECONDS_S:
            return ""
        return self.age(at, now)

    def severity(self, severity: int) -> str:
        return words.severity_word(severity, self.language)

    def alert_title(self, kind: str) -> str:
        return words.alert_title(kind, self.language)

    def status(self, value: str) -> Markup:
        """A relay's or camera's state as its gate reported it, in words when it is one we know
        (``closed``, ``no frames``), else as the gate said it (left to right)."""
        words_for = words.GATE_STATES.get(value)
        if words_for is not None:
            return escape(words_for[self.language])
        return Markup('<bdi dir="ltr">{}</bdi>').format(value)

    def right_state(self, state: str) -> str:
        words_for = words.RIGHT_STATES.get(state)
        return state if words_for is None else words_for[self.language]

    def zone_state(self, state: str) -> str:
        return words.ZONE_STATES[state][self.language]

    def alert_sentence(self, alert: AlertRow) -> str:
        """The alert in this language and its venue's time, from its facts; its stored
        (English) message when it has none."""
        facts: dict[str, object] = {
            "gate": alert.gate or "?",
            "zone": alert.zone_name or alert.zone,
        }
        for name, value in (alert.facts or {}).items():
            if name == "since_ms" and isinstance(value, int):
                facts["since"] = localtime.day_clock(localtime.from_ms(value), alert.timezone)
            elif name == "skew_ms" and isinstance(value, int):
                facts["skew"] = skew(value)
            else:
                facts[name] = value
        said = words.alert_sentence(alert.kind, facts, self.language)
        return alert.message if said is None else said

    def words_for_script(self) -> str:
        """The words the page's script needs (ages, connection states), as JSON."""
        return json.dumps(
            {
                **{key: AGES[key][self.language] for key in AGES},
                **{key: words.text(key, self.language) for key in (*SCRIPT_WORDS, "never")},
            },
            ensure_ascii=False,
        )


SCRIPT_WORDS = ("connecting", "live", "reconnecting", "disconnected")
AGE_IN_SECONDS_S = 120
"""Below this an age counts seconds (shared.i18n.age_text): a tile re-renders by the minute."""


def speakers() -> dict[Language, Speaker]:
    return _SPEAKERS


_SPEAKERS = {language: Speaker(language) for language in Language}


def tile_key(venue: str, gate: str) -> str:
    """A tile's identity on the page (``data-gate``): gate names are unique per venue only."""
    return f"{venue}/{gate}"


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
    env.filters.update(skew=skew)
    env.globals.update(
        bars=bars,
        tile_key=tile_key,
        clock=localtime.clock,
        day_clock=localtime.day_clock,
        zone_label=localtime.label,
    )
    return env


def page(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


class TileRenderer:
    """Renders gate tiles in one language, keeping each one until its gate's data move (not
    safe across threads: one renderer per caller, or calls taken in turn)."""

    def __init__(self) -> None:
        self._tiles: dict[str, tuple[Hashable, str]] = {}

    def render(self, snapshot: Snapshot, say: Speaker) -> tuple[dict[str, str], set[str]]:
        """Every tile's HTML by key, and the keys of those rendered afresh."""
        now = snapshot.taken_at
        kept: dict[str, tuple[Hashable, str]] = {}
        fresh: set[str] = set()
        for venue in snapshot.venues:
            for gate in venue.gates:
                key = tile_key(venue.code, gate.name)
                mark = (
                    gate,
                    say.settled_age(gate.seen_at, now),
                    say.settled_age(gate.last_sync_at, now),
                )
                known = self._tiles.get(key)
                if known is None or known[0] != mark:
                    known = (mark, page("_tile.html", key=key, g=gate, now=now, say=say))
                    fresh.add(key)
                kept[key] = known
        self._tiles = kept
        return {key: html for key, (_, html) in kept.items()}, fresh


def live_parts(snapshot: Snapshot, tiles: dict[str, str], say: Speaker) -> dict[str, str]:
    """The live sections' HTML in one language, the same for every page in it: their forms
    carry no CSRF token (the page's script adds its own; a page load renders the alerts again
    with it, alerts_part)."""
    return {
        part: page(
            f"_{part}.html", snap=snapshot, now=snapshot.taken_at, csrf="", tiles=tiles, say=say
        )
        for part in LIVE_PARTS
    }


def alerts_part(snapshot: Snapshot, say: Speaker, *, csrf: str) -> str:
    """The alerts section for one page, its acknowledgement forms carrying that page's token."""
    return page("_alerts.html", snap=snapshot, now=snapshot.taken_at, csrf=csrf, say=say)
