"""The dashboard's live view on both databases: what each build sends to the streams, the gate
tiles kept between builds, pages that see a write made just before them. And the lighter commit
of a gate's heartbeat on SQLite."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from shared.i18n import Language
from sync_server.dashboard.live import EVERYONE, DashboardLive
from sync_server.dashboard.render import TileRenderer, speakers
from sync_server.dashboard.snapshot import GateTile, Snapshot, VenueView
from sync_server.db import make_engine, passing_state
from sync_server.migrate import upgrade
from sync_server.schemas import GateCreate, GateUpdate, VenueCreate
from sync_server.services import site
from sync_server.services.writes import commit

NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    made = make_engine(database_url)
    yield made
    made.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_venues = iter(range(1, 10_000))


def new_venue(sessions: sessionmaker[Session], gates: list[str]) -> str:
    code = f"LIVE{next(_venues)}"
    with sessions() as session:
        zones: list[dict[str, Any]] = [{"code": "STADE", "name": "Stade", "capacity": 100}]
        _, pending = site.create_venue(
            session, data=VenueCreate.model_validate({"code": code, "name": code, "zones": zones})
        )
        for name in gates:
            data = GateCreate.model_validate({"venue": code, "name": name, "zones": ["STADE"]})
            pending += site.create_gate(session, data=data)[1]
        commit(session, pending=pending)
    return code


def heartbeat(sessions: sessionmaker[Session], venue: str, name: str, relay: str) -> None:
    with sessions() as session:
        gate = site.get_gate(session, site.get_venue(session, venue), name)
        gate.status = {"relay": relay, "camera": "ok"}
        gate.last_seen_at = datetime.now(UTC)
        session.commit()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_heartbeat_sends_its_own_tile_and_a_late_stream_gets_everything(
    sessions: sessionmaker[Session],
) -> None:
    venue = new_venue(sessions, ["A", "B"])
    heartbeat(sessions, venue, "A", "closed")
    heartbeat(sessions, venue, "B", "closed")
    live = DashboardLive(sessions, silent_after_s=60)

    async def scenario() -> tuple[Any, Any]:
        await live.refresh(force=True)
        first = live.view
        heartbeat(sessions, venue, "B", "open")
        await live.refresh()
        return first, live.view

    first, second = run(scenario())
    assert second.version == first.version + 1
    change = json.loads(second.change[EVERYONE])
    assert list(change["tiles"]) == [f"{venue}/B"]
    assert "ouvert" in change["tiles"][f"{venue}/B"]  # the relay's state, in French
    assert "gates" not in change["parts"]  # the section's layout did not move
    assert second.since(first.version, EVERYONE) == second.change[EVERYONE]
    # A stream that missed a build, or a page just connected, gets every section.
    everything = json.loads(second.since(first.version - 1, EVERYONE))
    assert everything["tiles"] == {}
    assert f'data-gate="{venue}/A"' in everything["parts"]["gates"]
    assert f'data-gate="{venue}/B"' in everything["parts"]["gates"]
    assert set(everything["parts"]) == {"urgent", "gates", "zones", "alerts"}
    assert everything["now_ms"] >= change["now_ms"] - 1


def test_a_new_gate_sends_the_whole_gates_section(sessions: sessionmaker[Session]) -> None:
    venue = new_venue(sessions, ["A"])
    live = DashboardLive(sessions, silent_after_s=60)

    async def scenario() -> Any:
        await live.refresh(force=True)
        with sessions() as session:
            data = GateCreate.model_validate({"venue": venue, "name": "NEW", "zones": ["STADE"]})
            commit(session, pending=site.create_gate(session, data=data)[1])
        await live.refresh()
        return json.loads(live.view.change[EVERYONE])

    change = run(scenario())
    assert change["tiles"] == {}
    assert f'data-gate="{venue}/NEW"' in change["parts"]["gates"]


def test_pages_asking_at_once_see_a_write_made_before_and_share_one_build(
    sessions: sessionmaker[Session],
) -> None:
    venue = new_venue(sessions, ["A"])
    live = DashboardLive(sessions, silent_after_s=60)

    async def scenario() -> list[Any]:
        await live.refresh(force=True)
        with sessions() as session:  # as the dashboard's gate switch does
            place = site.get_venue(session, venue)
            gate = site.get_gate(session, place, "A")
            pending = site.update_gate(
                session, venue=place, gate=gate, data=GateUpdate(enabled=False)
            )
            commit(session, pending=pending)
        return list(await asyncio.gather(*(live.latest() for _ in range(5))))

    before = live.version
    views = run(scenario())
    assert {v.version for v in views} == {before + 2}  # the forced build, then one for all five
    shown = next(v for v in views[0].snapshot.venues if v.code == venue)
    assert [g.enabled for g in shown.gates] == [False]


def _tile(name: str, seen_s_ago: float, **changes: Any) -> GateTile:
    tile = GateTile(
        name=name, direction="in", enabled=True, online=True,
        seen_at=NOW - timedelta(seconds=seen_s_ago), last_sync_at=None, outbox=0,
        relay="closed", camera="ok", entries=0, exits=0, refused=0, overrides=0, skew_ms=0,
        version="1",
    )  # fmt: skip
    return replace(tile, **changes)


def _snapshot(at: datetime, *tiles: GateTile) -> Snapshot:
    return Snapshot(at, [VenueView("V", "Venue", gates=list(tiles))], [], [])


def test_tiles_are_rendered_again_only_when_their_gate_moves() -> None:
    renderer, say = TileRenderer(), speakers()[Language.EN]
    html, fresh = renderer.render(_snapshot(NOW, _tile("A", 3), _tile("B", 200)), say)
    assert fresh == {"V/A", "V/B"}
    assert "3 s ago" in html["V/A"] and "3 min ago" in html["V/B"]
    # A second later: A's age counts seconds (the page's script does it), B's minute holds.
    later = NOW + timedelta(seconds=1)
    same, fresh = renderer.render(_snapshot(later, _tile("A", 3), _tile("B", 200)), say)
    assert fresh == set() and same == html
    # A counts an entry: only A is rendered again.
    _, fresh = renderer.render(_snapshot(later, _tile("A", 3, entries=1), _tile("B", 200)), say)
    assert fresh == {"V/A"}
    # A minute on, B's age has moved to the next minute: rendered again with it.
    minute = NOW + timedelta(seconds=61)
    html, fresh = renderer.render(_snapshot(minute, _tile("A", 3, entries=1), _tile("B", 200)), say)
    assert fresh == {"V/B"} and "4 min ago" in html["V/B"]
    # A gate gone from the page is forgotten.
    _, fresh = renderer.render(_snapshot(minute, _tile("A", 3, entries=1)), say)
    assert fresh == set()
    html, fresh = renderer.render(_snapshot(minute, _tile("A", 3, entries=1), _tile("B", 200)), say)
    assert fresh == {"V/B"}


def test_a_heartbeat_commit_is_not_fsynced_on_sqlite_and_every_other_write_is(
    tmp_path: Path,
) -> None:
    """(SQLite's own setting: PostgreSQL commits every transaction the same way.)"""
    url = f"sqlite:///{tmp_path}/server.db"
    upgrade(url)
    engine = make_engine(url)
    normal, full = 1, 2
    try:
        with sessionmaker(engine)() as session:
            passing_state(session)
            assert session.execute(text("PRAGMA synchronous")).scalar() == normal
            session.commit()
            # The next transaction on the same session (and pooled connection) is durable.
            assert session.execute(text("PRAGMA synchronous")).scalar() == full
        with sessionmaker(engine)() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar() == full
    finally:
        engine.dispose()
