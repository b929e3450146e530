"""Replica migrations (issue 13): a gate's file from an earlier release opens, scans kept.

The replica of release 0.1.0 is built here from the frozen first step with plain SQL, as that
release wrote it, with usage and 50 unsent scans; the tests then open it with today's code.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner_app.checkpoint import Checkpoint
from scanner_app.replica import (
    PROVISIONAL_LAYOUT,
    REPLICATED_TABLES,
    SCHEMA_VERSION,
    Replica,
    ReplicaError,
)
from scanner_app.replica_migrations import (
    KEPT_BY_RESYNC,
    SHIPPED,
    STEPS,
    MigrationError,
    Step,
    latest,
    migrate,
)
from shared.model import EntryPolicy, RightKind
from shared.reasons import Reason
from shared.sync_schema import Change, ChangeBatch, LayoutRow, ZoneRow

NOW = datetime.now(UTC).replace(microsecond=0)
UNSENT, SENT = 50, 5


def release_0_1_0_replica(path: Path) -> Path:
    """A gate's replica exactly as release 0.1.0 made and filled it: schema 1, gate NORD-1, 20
    plain-code rights (the first 10 used), 50 scans waiting to upload and 5 uploaded."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    for statement in STEPS[0].statements():
        db.execute(statement)
    db.execute("PRAGMA user_version=1")
    now = int(NOW.timestamp())
    meta = {"cursor": "120", "gate_name": "NORD-1", "config_version": "3", "kiosk_language": "ar"}
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    db.execute("INSERT INTO events VALUES ('DERBY', 'Derby', ?, ?, 'RADES', 1)", (now, now + 7200))
    db.execute("INSERT INTO zones VALUES ('NORD', 'Virage Nord', NULL, 100, 2)")
    db.execute(
        "INSERT INTO gates VALUES ('NORD-1', ?, ?, 'in', 1, 300, 3)",
        (json.dumps(["NORD"]), json.dumps(["DERBY"])),
    )
    db.execute("INSERT INTO keys VALUES (?, ?, 4)", (b"k" * 8, b"p" * 32))
    for i in range(20):
        db.execute(
            "INSERT INTO rights VALUES (?, 'DERBY', ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?)",
            (bytes([i]) * 16, json.dumps(["NORD"]), now - 3600, now + 3600,
             int(EntryPolicy.SINGLE), int(RightKind.TICKET), f"A-{i}", f"PLAIN-{i:04d}", 10 + i),
        )  # fmt: skip
    for i in range(10):
        db.execute(
            "INSERT INTO usage VALUES (?, 1, 1, 'NORD', ?, 0)", (bytes([i]) * 16, now - 60 + i)
        )
    db.execute("INSERT INTO occupancy VALUES ('NORD', 10)")
    for n in range(UNSENT + SENT):
        right = bytes([n % 10]) * 16
        db.execute(
            "INSERT INTO scans VALUES (?, ?, 'NORD-1', 'in', ?, ?, 'DERBY', 'NORD', 'plain', 1.5,"
            " NULL, '', NULL, NULL, ?)",
            (f"scan-{n:03d}", (now - 600 + n) * 1000,
             "granted" if n < 10 else "already_used", right, 1 if n >= UNSENT else 0),
        )  # fmt: skip
    db.execute("COMMIT")
    db.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_released_steps_are_never_edited_and_versions_follow_each_other() -> None:
    assert [step.version for step in STEPS] == list(range(1, len(STEPS) + 1))
    for version, checksum in SHIPPED.items():
        step = STEPS[version - 1]
        assert step.checksum() == checksum, (
            f"replica schema step {version} was released: add a new step instead of editing it"
        )
    assert latest() == SCHEMA_VERSION


def test_a_release_0_1_0_replica_opens_with_every_scan_and_entry(tmp_path: Path) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")
    with Replica(path) as replica:
        assert replica.migrated.before == 1 and replica.migrated.after == SCHEMA_VERSION
        counts = replica.counts()
        assert (counts.rights, counts.scans, counts.scans_pending) == (20, UNSENT + SENT, UNSENT)
        assert len(replica.scans(limit=500, pending_only=True)) == UNSENT
        # Step 3 (layouts): pulled again from change 0; meanwhile what the file knew is one
        # provisional layout, which decides as before.
        assert replica.cursor == 0 and replica.gate_name == "NORD-1"
        layout = replica.layout_of("DERBY")
        assert layout is not None and layout.code == PROVISIONAL_LAYOUT
        assert layout.entrances("NORD-1") and layout.zone("NORD") is not None
        assert replica.get_meta("kiosk_language") == "ar"
        gate = Checkpoint(replica)
        # A right that entered before the upgrade stays used; one that did not, enters.
        assert gate.check("PLAIN-0003").decision.reason is Reason.ALREADY_USED
        assert gate.check("PLAIN-0015").decision.reason is Reason.GRANTED
        assert replica.occupancy("NORD") == 11
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_replica_from_a_newer_release_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    before = digest(path)
    with pytest.raises(ReplicaError, match=f"schema {SCHEMA_VERSION + 1}, newer") as refused:
        Replica(path)
    assert "Install that release" in str(refused.value)
    assert digest(path) == before


def test_a_sqlite_file_that_is_not_a_replica_is_refused_not_merged_into(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
        db.execute("INSERT INTO notes VALUES ('match day')")
    with pytest.raises(ReplicaError, match="not a gate replica"):
        Replica(path)
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master")]
    assert tables == ["notes"]


def open_raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def add_tier(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE rights ADD COLUMN tier TEXT")


def test_a_failing_step_leaves_the_file_at_the_step_before(tmp_path: Path) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")

    def half_done(db: sqlite3.Connection) -> None:
        add_tier(db)
        db.execute("UPDATE scans SET uploaded = 1")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    steps = (*STEPS, Step(len(STEPS) + 1, "add a tier, then fail", run=half_done))
    db = open_raw(path)
    with pytest.raises(MigrationError, match=rf"failed.*stays at schema {latest()}, scans incl"):
        migrate(db, name="gate.db", steps=steps)
    assert db.execute("PRAGMA user_version").fetchone()[0] == latest()
    columns = [row[1] for row in db.execute("PRAGMA table_info(rights)")]
    assert "tier" not in columns
    assert db.execute("SELECT count(*) FROM scans WHERE uploaded = 0").fetchone()[0] == UNSENT
    db.close()


def test_a_step_applies_once_with_its_version(tmp_path: Path) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")
    steps = (*STEPS, Step(len(STEPS) + 1, "a tier for each right", run=add_tier))
    db = open_raw(path)
    done = migrate(db, name="gate.db", steps=steps)
    assert (done.before, done.after, done.resync) == (1, len(steps), False)
    again = migrate(db, name="gate.db", steps=steps)  # the next open: nothing to do
    assert (again.before, again.after) == (len(steps), len(steps))
    assert db.execute("SELECT count(*) FROM rights WHERE tier IS NULL").fetchone()[0] == 20
    db.close()


def test_a_resync_step_keeps_the_scan_log_and_entries_and_restarts_the_feed(
    tmp_path: Path,
) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")
    steps = (*STEPS, Step(len(STEPS) + 1, "tiers, filled by the server", run=add_tier, resync=True))
    db = open_raw(path)
    scans_before = db.execute("SELECT * FROM scans ORDER BY scan_id").fetchall()
    usage_before = db.execute("SELECT * FROM usage ORDER BY right_id").fetchall()
    done = migrate(db, name="gate.db", steps=steps)
    assert done.resync
    after = db.execute("SELECT * FROM scans ORDER BY scan_id").fetchall()
    # Step 2 numbered the log; every column of release 0.1.0 is as it was.
    assert [row[: len(scans_before[0])] for row in after] == scans_before
    assert db.execute("SELECT * FROM usage ORDER BY right_id").fetchall() == usage_before
    for table in ("rights", "keys", "gates", "zones", "events"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta["cursor"] == "0"
    assert meta["config_version"] == "4"  # the in-memory zones, gates and keys reload
    assert meta["gate_name"] == "NORD-1" and meta["kiosk_language"] == "ar"
    db.close()


def test_a_fresh_replica_takes_every_step_without_a_resync(tmp_path: Path) -> None:
    steps = (*STEPS, Step(len(STEPS) + 1, "tiers", run=add_tier, resync=True))
    db = open_raw(tmp_path / "new.db")
    done = migrate(db, name="new.db", steps=steps)
    assert (done.before, done.after, done.resync) == (0, len(steps), False)
    db.close()


def test_every_table_is_either_the_feeds_or_kept_by_a_resync(tmp_path: Path) -> None:
    """A new table must say which it is: emptied and pulled again, or the gate's own."""
    with Replica(tmp_path / "gate.db") as replica:
        tables = {
            name
            for (name,) in replica._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    feed_only = set(REPLICATED_TABLES) - set(KEPT_BY_RESYNC)
    assert tables == feed_only | set(KEPT_BY_RESYNC)


def test_an_upgraded_gate_decides_at_once_on_what_it_knew(tmp_path: Path) -> None:
    """No resync is needed by today's steps: the upgraded gate grants and refuses at once."""
    path = release_0_1_0_replica(tmp_path / "gate.db")
    with Replica(path) as replica:
        assert not replica.migrated.resync
        gate = Checkpoint(replica)
        later = NOW + timedelta(minutes=1)
        assert gate.check("PLAIN-0019", later).decision.granted
        assert gate.check("PLAIN-0019", later).decision.reason is Reason.ALREADY_USED


def test_the_provisional_layout_gives_way_to_the_first_the_server_sends(tmp_path: Path) -> None:
    path = release_0_1_0_replica(tmp_path / "gate.db")
    with Replica(path) as replica:
        concert = LayoutRow(
            code="MAIN",
            name="Main layout",
            zones=[
                ZoneRow(code="RADES", name="Radès"),
                ZoneRow(code="PIT", name="Pit", parent="RADES"),
            ],
            access={"NORD-1": ["PIT"]},
            events=["DERBY"],
        )
        replica.apply_changes(ChangeBatch(since=0, cursor=1, changes=[Change.upsert(1, concert)]))
        assert [layout.code for layout in replica.layouts()] == ["MAIN"]
        layout = replica.layout_of("DERBY")
        assert layout is not None and layout.entrances("NORD-1") == ("PIT",)
        # Where the gate leads is the server's now: a NORD ticket finds no way in at NORD-1.
        assert Checkpoint(replica).check("PLAIN-0015").decision.reason is Reason.WRONG_ZONE
