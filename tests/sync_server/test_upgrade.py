"""The server upgrades in place, between two matches, with gates holding unsent scans (issue 13).

A database in use (rights, usage, scans, alerts, the audit log) is taken back to the previous
head with Alembic, as the release before this one left it, then upgraded with ``gate-server
migrate`` as an installer does: every row of every table is still there. A gate that went on
scanning while the server was down (50 scans waiting, its replica at the schema it had) uploads
them all afterwards, once each.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from scanner_app.replica import Replica
from scanner_app.replica_migrations import STEPS
from scanner_app.sync_loop import SyncLoop
from sync_server.migrate import alembic_config
from tests.scanner_app.test_sync_faults import enroll_gate, scan_many
from tests.support.server import start_server
from tests.support.site import Site, ok
from tests.sync_server.conftest import new_database_url

REPO = Path(__file__).resolve().parents[2]
OFFLINE_SCANS = 50
VOLATILE = {("feed_counter", "epoch"), ("devices", "acked_seq"), ("devices", "heard_seq")}
"""Made anew by the step that adds it (0003: a database's epoch; 0005: how far each device's
records go, 0 until its next upload and heartbeat say, so no gate is taken for behind)."""


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order, volatile columns left out."""
    engine = sa.create_engine(url)
    tables: dict[str, list[tuple[Any, ...]]] = {}
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                rows = connection.execute(sa.select(*columns)).all()
                tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    finally:
        engine.dispose()
    return tables


def beside_layouts(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """A snapshot without the feed's layout rows and counter."""
    kept = {name: rows for name, rows in tables.items() if name != "feed_counter"}
    kept["changes"] = [row for row in tables["changes"] if row[0] != "layout"]
    return kept


def replica_schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        return [(name, " ".join(sql.split())) for name, sql in rows]


def frozen_first(folder: Path) -> Path:
    path = folder / "frozen.db"
    with sqlite3.connect(path) as db:
        for statement in STEPS[0].statements():
            db.execute(statement)
    return path


def back_to_schema_1(path: Path) -> None:
    """Undo replica steps 4 (event rules), 3 (layouts, staff, rotation keys) and 2 (the scans'
    sequence numbers): the file a release 0.1.0 gate made."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("DROP TABLE event_rules")
        db.execute("DROP TABLE layouts")
        db.execute("DROP TABLE staff")
        db.execute("DROP TABLE rotation_keys")
        db.execute("DROP INDEX scans_by_seq")
        db.execute("ALTER TABLE scans DROP COLUMN seq")
        db.execute("PRAGMA user_version = 1")
    finally:
        db.close()


def previous_head(url: str) -> str:
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_in_place_upgrade_keeps_every_row_and_every_waiting_scan(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = new_database_url(kind, request, tmp_path)
    server = start_server(url, tmp_path / "server.log")
    try:
        site = Site.create(server)
        codes = [site.code(site.right(policy="single")) for _ in range(30)]
        config = enroll_gate(site, "NORD-1", tmp_path / "gate", server.url)
        scan_many(config, codes[:10] + codes[:2])  # 10 entries, 2 already_used
        SyncLoop(config).run(once=True)
        ok(site.admin.post("/bans", json={"scope": "right", "right_id": ok(
            site.admin.get("/rights", params={"event": site.event}))[0]["right_id"],
            "reason": "fraud"}), 201)  # fmt: skip
    finally:
        server.stop()
    # The match goes on at the gate while the server is being upgraded.
    offline = scan_many(config, (codes[10:] + codes[:5]) * 2)[:OFFLINE_SCANS]
    with Replica(config.replica_path) as replica:
        assert replica.counts().scans_pending == OFFLINE_SCANS
    # The gate's file as release 0.1.0 leaves it: its later steps taken back by hand (step 2
    # numbers the scan log), which this asserts is exactly the frozen first step's schema; the
    # upgraded gate below migrates it again.
    back_to_schema_1(config.replica_path)
    assert replica_schema(config.replica_path) == replica_schema(frozen_first(tmp_path))

    command.upgrade(alembic_config(url), "head")
    before = snapshot(url)
    assert before["scans"] and before["usage_states"] and before["access_rights"]
    command.downgrade(alembic_config(url), previous_head(url))
    migrated = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "migrate"],
        env={"ENTRIX_DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    after = snapshot(url)
    assert beside_layouts(after) == beside_layouts(before)
    # The layouts' step (0012), when it is the one run again, publishes each venue's layout once
    # more, the feed moving on (its counter never goes back): gates pull the layouts, no more.
    assert after["feed_counter"][0][1] >= before["feed_counter"][0][1]
    assert [c[:2] for c in after["changes"] if c[0] == "layout"] == [
        c[:2] for c in before["changes"] if c[0] == "layout"
    ]

    server.start()
    try:
        SyncLoop(config).run(once=True)
        with Replica(config.replica_path) as replica:
            assert replica.counts().scans_pending == 0
            assert replica.scan_seq == 12 + OFFLINE_SCANS  # the log numbered by step 2
        stored = ok(site.admin.get("/scans", params={"gate": "NORD-1", "limit": 1000}))
        ids = [scan["scan_id"] for scan in stored]
        assert len(ids) == len(set(ids)) == 12 + OFFLINE_SCANS
        assert set(offline) <= set(ids)
    finally:
        server.stop()
