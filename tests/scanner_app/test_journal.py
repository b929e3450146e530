"""The journal beside the replica: a second durable copy of the unsent scans (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_app import journal
from scanner_app.checkpoint import Checkpoint
from scanner_app.journal import journal_path
from scanner_app.replica import Replica
from shared.model import RightKind
from tests.support.world import NOW, World, right


def gate_with(tmp_path: Path, n: int) -> Path:
    world = World("sqlite", tmp_path / "gate.db")
    for i in range(n):
        world.sell(right(secret=f"PLAIN-{i:04d}", kind=RightKind.STAFF))
    world.close()
    journal_path(tmp_path / "gate.db").unlink(missing_ok=True)
    return tmp_path / "gate.db"


def test_each_record_is_journaled_until_uploaded_then_the_journal_is_emptied(
    tmp_path: Path,
) -> None:
    path = gate_with(tmp_path, 5)
    with Replica(path) as replica:
        gate = Checkpoint(replica, "G-NORD")
        made = [gate.check(f"PLAIN-{i:04d}", NOW).record for i in range(5)]
        assert replica.journal is not None
        assert replica.journal.records() == made  # the same records, numbers included
        replica.mark_uploaded(r.scan_id for r in made[:3])
        assert len(replica.journal.records()) == 5  # two still waiting: nothing dropped yet
        replica.mark_uploaded(r.scan_id for r in made[3:])
        assert replica.journal.records() == [] and journal_path(path).stat().st_size == 0


def test_a_torn_last_line_is_skipped_and_the_rest_recovered(tmp_path: Path) -> None:
    path = gate_with(tmp_path, 3)
    with Replica(path) as replica:
        gate = Checkpoint(replica, "G-NORD")
        made = [gate.check(f"PLAIN-{i:04d}", NOW).record for i in range(3)]
    with journal_path(path).open("ab") as journal:
        journal.write(b'{"scan_id":"5f0c')  # a power cut in the middle of a write
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # the replica wiped
    with Replica(path) as fresh:
        assert fresh.recover_from_journal() == 3
        assert {s.scan_id for s in fresh.scans(pending_only=True)} == {r.scan_id for r in made}
        assert fresh.scan_seq == 3
        assert fresh.recover_from_journal() == 0  # each once


def test_a_long_offline_journal_is_compacted_to_what_still_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "COMPACT_BYTES", 64 * 1024)  # 4 MiB on a gate
    path = gate_with(tmp_path, 1)
    with Replica(path) as replica:
        gate = Checkpoint(replica, "G-NORD")
        refused = [gate.check("NO-SUCH-CODE", NOW).record for _ in range(400)]
        assert replica.journal is not None and replica.journal.oversized()
        replica.mark_uploaded(r.scan_id for r in refused[:300])
        kept = replica.journal.records()
        assert [r.scan_id for r in kept] == [r.scan_id for r in refused[300:]]
        assert not replica.journal.oversized()


def test_a_replica_opened_without_a_journal_writes_none(tmp_path: Path) -> None:
    path = gate_with(tmp_path, 1)
    with Replica(path, journal=False) as replica:
        Checkpoint(replica, "G-NORD").check("PLAIN-0000", NOW)
    assert not journal_path(path).exists()
