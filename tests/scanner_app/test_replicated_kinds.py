"""Each replicated kind is declared once (shared.sync_schema.KINDS, issue 13): the replica's
tables, upserts and readers follow from it, and nothing is lost on the way in and out."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scanner_app.replica import Replica
from shared.model import BanScope, Direction, EntryPolicy, RightKind
from shared.rotating import rotation_key_id
from shared.sync_schema import (
    KINDS,
    BanRow,
    ChangeKind,
    EventRow,
    EventRuleRow,
    GateRow,
    LayoutRow,
    OccupancyRow,
    RevocationRow,
    RightRow,
    RotationKeyRow,
    StaffRow,
    UsageRow,
    ZoneRow,
    _Row,
    replicated,
)
from tests.support.world import KEY, key_row

# fmt: off
SAMPLES: list[_Row] = [
    EventRow(code="DERBY", name="Derby", starts_at=1, ends_at=2, venue="RADES"),
    ZoneRow(code="NORD-A", name="Nord A", parent="NORD", capacity=10_000),
    GateRow(name="NORD-1", zones=["NORD", "NORD-A"], event_codes=["DERBY", "CUP"],
            direction=Direction.OUT, enabled=False, grace_s=300),
    LayoutRow(code="CONCERT", name="Concert", zones=[
        ZoneRow(code="RADES", name="Radès", capacity=40_000),
        ZoneRow(code="FOSSE", name="Fosse", parent="RADES", capacity=15_000)],
        access={"NORD-1": ["FOSSE"], "SUD-1": ["FOSSE", "RADES"]}, events=["CONCERT-1"]),
    RightRow(right_id=bytes(range(16)), event="DERBY", zones=["NORD-A"], not_before=1,
             expires=2, policy=EntryPolicy.REENTRY, kind=RightKind.SUBSCRIPTION,
             holder=b"\x01\x02", seat="A-12", display_name="Leïla", secret="PLAIN-1"),
    RevocationRow(right_id=bytes(range(16)), revoked_at=5, reason="transferred"),
    BanRow(ban_id="ban-1", scope=BanScope.HOLDER, subject=b"\x01\x02", reason="pitch invasion",
           severity=3, valid_from=None, valid_until=99),
    key_row(KEY),
    StaffRow(name="leila.t", role="supervisor", pin_hash="scrypt$16384$8$1$c2FsdA==$aGFzaA=="),
    RotationKeyRow(rkid=rotation_key_id(bytes(range(32))), key=bytes(range(32))),
    EventRuleRow(event="DERBY", rotating_required=True),
    UsageRow(right_id=bytes(range(16)), entries=2, inside=True, zone="NORD-A", last_scan_at=7),
    OccupancyRow(zone="NORD-A", count=42),
]
# fmt: on


def test_every_kind_has_a_sample_here() -> None:
    assert {replicated(row).kind for row in SAMPLES} == set(ChangeKind) == set(KINDS)


@pytest.mark.parametrize("row", SAMPLES, ids=lambda row: type(row).__name__)
def test_a_row_comes_back_from_the_replica_as_it_went_in(row: _Row) -> None:
    spec = replicated(row)
    stored = spec.params(row, seq=17)
    assert len(stored) == len(spec.columns)
    assert all(isinstance(v, int | float | str | bytes | type(None)) for v in stored)
    back = spec.read(stored[: len(spec.fields)])
    assert back == row
    assert type(back) is type(row)


def test_the_replicas_tables_are_the_declared_columns(tmp_path: Path) -> None:
    Replica(tmp_path / "gate.db").close()
    with sqlite3.connect(tmp_path / "gate.db") as db:
        for spec in KINDS.values():
            columns = tuple(row[1] for row in db.execute(f"PRAGMA table_info({spec.table})"))
            assert columns == spec.columns, spec.table


def test_keys_bytes_and_feed_keys() -> None:
    byte_keyed = {
        ChangeKind.RIGHT,
        ChangeKind.REVOCATION,
        ChangeKind.KEY,
        ChangeKind.USAGE,
        ChangeKind.ROTATION_KEY,
    }
    assert {k for k, s in KINDS.items() if s.byte_key} == byte_keyed
    right = next(row for row in SAMPLES if isinstance(row, RightRow))
    assert replicated(right).key_of(right.model_dump(mode="json")) == bytes(range(16)).hex()
