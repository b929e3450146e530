"""The gate's SQLite replica: atomic pages of changes, durable scans, indexed lookups."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scanner_app.replica import DECISION_LOOKUPS, Replica, ReplicaError
from shared.errors import ChangeRejected
from shared.model import BanScope, Direction
from shared.reasons import Reason
from shared.sync_schema import (
    BanRow,
    Change,
    ChangeBatch,
    ChangeKind,
    GateRow,
    RightRow,
    UsageRow,
)
from tests.support.world import KEY, KEY_FOREIGN, NOW, T, World, code, key_row, right

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World("sqlite", tmp_path / "gate.db")


def replica_of(world: World) -> Replica:
    assert world.replica is not None
    return world.replica


def table_rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# -- apply_changes ---------------------------------------------------------------------------


def test_page_with_one_bad_row_is_not_applied_at_all(world: World) -> None:
    replica = replica_of(world)
    before_cursor, before = replica.cursor, replica.counts()
    good = [Change.upsert(before_cursor + i + 1, RightRow.from_right(right())) for i in range(50)]
    bad = Change(seq=before_cursor + 51, kind=ChangeKind.RIGHT, key="00", data={"event": "X"})
    batch = ChangeBatch(since=before_cursor, cursor=before_cursor + 51, changes=[*good, bad])
    with pytest.raises(ChangeRejected, match="invalid row"):
        replica.apply_changes(batch)
    assert replica.counts() == before
    assert replica.cursor == before_cursor
    # The same page without the bad row applies, with its cursor.
    replica.apply_changes(ChangeBatch(since=before_cursor, cursor=before_cursor + 50, changes=good))
    assert replica.counts().rights == before.rights + 50
    assert replica.cursor == before_cursor + 50


def test_database_conflict_mid_page_rolls_back(world: World) -> None:
    """Two rights with one plain secret break a unique index after rows were already written."""
    replica = replica_of(world)
    c = replica.cursor
    rows = [RightRow.from_right(right(secret=s)) for s in ("A1", "A2", "A1")]
    changes = [Change.upsert(c + i + 1, row) for i, row in enumerate(rows)]
    with pytest.raises(ChangeRejected, match="conflicts"):
        replica.apply_changes(ChangeBatch(since=c, cursor=c + 3, changes=changes))
    assert replica.right_by_secret("A1") is None
    assert replica.cursor == c


def test_page_that_would_skip_changes_is_refused(world: World) -> None:
    replica = replica_of(world)
    c = replica.cursor
    change = Change.upsert(c + 6, RightRow.from_right(right()))
    with pytest.raises(ChangeRejected, match="replica is at"):
        replica.apply_changes(ChangeBatch(since=c + 5, cursor=c + 6, changes=[change]))
    with pytest.raises(ChangeRejected, match="outside page"):
        replica.apply_changes(ChangeBatch(since=c, cursor=c + 2, changes=[change]))
    assert replica.cursor == c


def test_key_whose_kid_does_not_match_is_refused(world: World) -> None:
    replica = replica_of(world)
    c = replica.cursor
    honest = key_row(KEY_FOREIGN)
    kid = key_row(KEY).kid.hex()
    lying = Change(  # a KeyRow cannot even be made so: only a hostile page carries one
        seq=c + 1, kind=ChangeKind.KEY, key=kid,
        data={"kid": kid, "public_key": honest.public_key.hex()},
    )  # fmt: skip
    with pytest.raises(ChangeRejected, match="kid does not match"):
        replica.apply_changes(ChangeBatch(since=c, cursor=c + 1, changes=[lying]))
    assert key_row(KEY).kid in replica.keyring


def test_delete_removes_a_ban(world: World) -> None:
    r = world.sell(right())
    world.add(BanRow(ban_id="B1", scope=BanScope.RIGHT, subject=r.right_id, reason="x"))
    assert world.scan(code(r)).reason is Reason.BLACKLISTED
    world_replica = replica_of(world)
    c = world_replica.cursor
    delete = Change(seq=c + 1, kind=ChangeKind.BAN, op="delete", key="B1")
    world_replica.apply_changes(ChangeBatch(since=c, cursor=c + 1, changes=[delete]))
    assert world.scan(code(r)).reason is Reason.GRANTED


def test_config_change_from_another_connection_is_seen(world: World, tmp_path: Path) -> None:
    """The kiosk and the sync worker hold separate connections to one file."""
    kiosk = Replica(tmp_path / "gate.db")
    assert kiosk.gate("G-NORD") is not None and kiosk.gate("G-NORD").enabled  # type: ignore[union-attr]
    world.add(GateRow(name="G-NORD", zones=["NORD"], event_codes=["DERBY"], enabled=False))
    kiosk.refresh()
    gate = kiosk.gate("G-NORD")
    assert gate is not None and not gate.enabled
    kiosk.close()


def test_server_usage_versus_local_scans(world: World) -> None:
    replica = replica_of(world)
    r = right()
    world.scan(code(r))  # local entry at T
    world.add(UsageRow(right_id=r.right_id, entries=0, inside=False, last_scan_at=T - 100))
    usage = replica.usage(r.right_id)
    assert usage is not None and usage.entries == 1, "an older server view must not erase a scan"
    world.add(UsageRow(right_id=r.right_id, entries=2, inside=False, last_scan_at=T + 100))
    usage = replica.usage(r.right_id)
    assert usage is not None and usage.entries == 2 and not usage.inside


# -- record_scan and the scan log -------------------------------------------------------------


def test_every_scan_is_logged_with_its_reason(world: World) -> None:
    replica = replica_of(world)
    scanned = code(right())
    world.scan(scanned)
    world.scan(scanned)
    world.scan("EG1:junk")
    logged = replica.scans(limit=10)
    assert [s.reason for s in logged] == ["malformed", "already_used", "granted"]
    assert logged[2].zone == "NORD-A" and logged[2].direction is Direction.IN
    assert len({s.scan_id for s in logged}) == 3
    pending = replica.scans(pending_only=True)
    assert [s.reason for s in pending] == ["granted", "already_used", "malformed"]
    replica.mark_uploaded([pending[0].scan_id])
    assert replica.counts().scans_pending == 2


def test_durability_settings(world: World) -> None:
    replica = replica_of(world)
    db = sqlite3.connect(replica.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    assert replica._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_scan_survives_the_process_being_killed(world: World, tmp_path: Path) -> None:
    """SIGKILL right after record_scan() returns: every scan it reported is on disk."""
    replica_of(world).close()
    good = code(right(policy=2))  # unlimited: every scan is granted and changes usage
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import datetime, UTC
        from scanner_app.checkpoint import Checkpoint
        from scanner_app.replica import Replica
        checkpoint = Checkpoint(Replica({str(tmp_path / "gate.db")!r}), "G-NORD")
        at = datetime.fromtimestamp({T}, UTC)
        while True:
            result = checkpoint.check({good!r}, at)
            assert result.decision.granted, result.decision
            print(result.record.scan_id, flush=True)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    assert child.stdout is not None
    reported = [child.stdout.readline().strip() for _ in range(40)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with Replica(tmp_path / "gate.db") as replica:
        logged = {s.scan_id for s in replica.scans(limit=100_000)}
        assert set(reported) <= logged
        right_id = replica.scans(limit=1)[0].right_id
        assert right_id is not None
        usage = replica.usage(right_id)
        # Scan and usage are one transaction: as many entries as logged scans, never fewer.
        assert usage is not None and usage.entries == len(logged)
        assert replica._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lookup", sorted(DECISION_LOOKUPS))
def test_every_decision_lookup_uses_an_index(world: World, lookup: str) -> None:
    replica = replica_of(world)
    sql = DECISION_LOOKUPS[lookup]
    params = tuple(None for _ in range(sql.count("?")))
    plan = " ".join(str(row[3]) for row in replica._db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "SEARCH" in plan and "SCAN" not in plan, plan


# -- opening ----------------------------------------------------------------------------------


def test_not_a_replica(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ReplicaError, match="not a gate replica"):
        Replica(path)


def test_replica_from_another_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(ReplicaError, match="schema 99"):
        Replica(path)


def test_unknown_gate_name_lists_the_gates(world: World) -> None:
    with pytest.raises(ReplicaError, match="G-NORD"):
        replica_of(world).set_gate_name("G-NOWHERE")


def test_reopened_replica_keeps_everything(world: World, tmp_path: Path) -> None:
    r = world.sell(right(secret="PLAIN-1"))
    world.scan("PLAIN-1")
    before = replica_of(world).counts()
    cursor = replica_of(world).cursor
    world.close()
    with Replica(tmp_path / "gate.db") as again:
        assert again.counts() == before
        assert again.cursor == cursor
        assert again.right(r.right_id) == r
        layout = again.layout_of(r.event)
        assert layout is not None and layout.zone("NORD-A") is not None
        assert len(again.keyring) == 2
        assert again.scans(limit=1)[0].scanned_at_ms == T * 1000


def test_now_is_frozen_in_these_tests() -> None:
    assert int(NOW.timestamp()) == T
