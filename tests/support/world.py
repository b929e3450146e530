"""A small derby world for tests: layouts, gates, keys and rights, loadable into either view.

The same rows go into the in-memory reference view and, through ``apply_changes``, into the
gate's SQLite replica, so every case can be checked against both.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scanner_app.replica import Replica
from shared.credential import Credential, KeyRing, issue, key_id, raw_public_key
from shared.decision import Decision, decide
from shared.model import AccessRight, BanScope, Direction, EntryPolicy, GateConfig, RightKind
from shared.sync_schema import (
    BanRow,
    Change,
    ChangeBatch,
    ChangeKind,
    EventRuleRow,
    GateRow,
    KeyRow,
    LayoutRow,
    OccupancyRow,
    RevocationRow,
    RightRow,
    RotationKeyRow,
    UsageRow,
    ZoneRow,
    _Row,
)
from shared.views import MemoryReplicaView

EVENT = "DERBY"
NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
T = int(NOW.timestamp())
HOUR = 3600

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEY_ROTATED = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEY_FOREIGN = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))

ZONES = [
    ZoneRow(code="RADES", name="Stade", capacity=100),
    ZoneRow(code="NORD", name="Virage Nord", parent="RADES", capacity=50),
    ZoneRow(code="NORD-A", name="Nord A", parent="NORD", capacity=2),
    ZoneRow(code="NORD-B", name="Nord B", parent="NORD"),
    ZoneRow(code="SUD", name="Virage Sud", parent="RADES"),
    ZoneRow(code="SUD-A", name="Sud A", parent="SUD"),
    ZoneRow(code="TRIB", name="Tribune", parent="RADES"),
    ZoneRow(code="VIP", name="Loges", parent="TRIB", capacity=10),
]
GATES = [
    GateRow(name="G-NORD", zones=["NORD"], event_codes=[EVENT, "CONCERT"], grace_s=600),
    GateRow(name="G-NORD-A", zones=["NORD-A"], event_codes=[EVENT, "CONCERT"], grace_s=600),
    GateRow(name="G-SUD", zones=["SUD"], event_codes=[EVENT, "CONCERT"], grace_s=600),
    GateRow(name="G-VIP", zones=["VIP"], event_codes=[EVENT, "CONCERT"], grace_s=600),
    GateRow(
        name="G-OUT",
        zones=["NORD"],
        event_codes=[EVENT, "CONCERT"],
        direction=Direction.OUT,
        grace_s=600,
    ),
    GateRow(name="G-OFF", zones=["NORD"], event_codes=[EVENT, "CONCERT"], enabled=False),
]
FOOTBALL = LayoutRow(
    code="FOOT",
    name="Football",
    zones=ZONES,
    access={gate.name: gate.zones for gate in GATES},
    events=[EVENT],
)
CONCERT_EVENT = "CONCERT"
CONCERT = LayoutRow(
    code="CONCERT",
    name="Concert",
    zones=[
        ZoneRow(code="RADES", name="Stade (concert)", capacity=100),
        ZoneRow(code="FOSSE", name="Fosse", parent="RADES", capacity=3),
        ZoneRow(code="NORD", name="Tribune Nord", parent="RADES"),
        ZoneRow(code="VIP", name="Loges", parent="RADES", capacity=10),
    ],
    access={"G-NORD": ["FOSSE"], "G-NORD-A": ["NORD"], "G-VIP": ["VIP"], "G-OUT": ["FOSSE"]},
    events=[CONCERT_EVENT],
)
"""The same venue set up for a concert: gate G-NORD leads into the pit, G-NORD-A into the
north stand (whose sectors the concert does not use), G-SUD nowhere."""
_ids = itertools.count(1)


def right(**overrides: Any) -> AccessRight:
    """A home ticket for sector NORD-A, valid around NOW, with a fresh id and holder."""
    n = next(_ids)
    base = AccessRight(
        right_id=n.to_bytes(16, "big"),
        event=EVENT,
        zones=("NORD-A",),
        not_before=T - HOUR,
        expires=T + 3 * HOUR,
        policy=EntryPolicy.SINGLE,
        kind=RightKind.TICKET,
        holder=(1_000_000 + n).to_bytes(8, "big"),
        seat="NORD-A-1-1",
    )
    return replace(base, **overrides)


def code(r: AccessRight, key: Ed25519PrivateKey = KEY) -> str:
    return issue(Credential("RADES", T - 10 * 86400, r), key)


def key_row(key: Ed25519PrivateKey) -> KeyRow:
    public = raw_public_key(key.public_key())
    return KeyRow(kid=key_id(public), public_key=public)


@dataclass
class World:
    """One view (memory or SQLite) holding the derby world, plus the rows that built it."""

    kind: str
    path: Path | None = None
    rows: list[_Row] = field(default_factory=list)
    memory: MemoryReplicaView = field(default_factory=MemoryReplicaView)
    replica: Replica | None = None
    seq: int = 0

    def __post_init__(self) -> None:
        if self.kind == "sqlite":
            assert self.path is not None
            self.replica = Replica(self.path)
        self.add(key_row(KEY), key_row(KEY_ROTATED), FOOTBALL, *GATES)

    @property
    def view(self) -> MemoryReplicaView | Replica:
        return self.replica if self.replica is not None else self.memory

    def add(self, *rows: _Row) -> None:
        """Feed rows as one page of changes (SQLite) or straight into the memory view."""
        if self.replica is not None:
            changes = [Change.upsert(self.seq + i + 1, row) for i, row in enumerate(rows)]
            batch = ChangeBatch(since=self.seq, cursor=self.seq + len(rows), changes=changes)
            self.replica.apply_changes(batch)
        else:
            for row in rows:
                _into_memory(self.memory, row)
        self.seq += len(rows)
        self.rows.extend(rows)

    def delete(self, kind: ChangeKind, key: str) -> None:
        self.seq += 1
        if self.replica is not None:
            change = Change(seq=self.seq, kind=kind, op="delete", key=key)
            self.replica.apply_changes(
                ChangeBatch(since=self.seq - 1, cursor=self.seq, changes=[change])
            )
        elif kind is ChangeKind.KEY:
            self.memory.keyring.remove(bytes.fromhex(key))
        else:
            raise NotImplementedError(kind)

    def sell(self, r: AccessRight) -> AccessRight:
        self.add(RightRow.from_right(r))
        return r

    def gate(self, name: str) -> GateConfig:
        row = next(g for g in GATES if g.name == name)
        return row.to_gate()

    def scan(self, scanned: str, gate: str = "G-NORD", at: datetime = NOW) -> Decision:
        """Decide and carry the decision out, as a gate does (usage, occupancy, scan log)."""
        decision = decide(scanned, self.gate(gate), self.view, at)
        if self.replica is not None:
            self.replica.record_scan(decision, gate=gate, scanned_at=at, code_kind="test")
        else:
            self.memory.carry_out(decision, int(at.timestamp()))
        return decision

    def close(self) -> None:
        if self.replica is not None:
            self.replica.close()


def _into_memory(view: MemoryReplicaView, row: _Row) -> None:
    match row:
        case KeyRow():
            view.keyring.add(row.public_key)
        case LayoutRow():
            view.layouts[row.code] = row.to_layout()
        case RotationKeyRow():
            view.rotation_keys[row.rkid] = row.key
        case EventRuleRow():
            if row.rotating_required:
                view.rotating_events.add(row.event)
            else:
                view.rotating_events.discard(row.event)
        case GateRow():
            pass  # gates are given to decide() directly
        case RightRow():
            view.rights[row.right_id] = row.to_right()
        case RevocationRow():
            view.revoked.add(row.right_id)
        case BanRow():
            view.add_ban(row.to_entry())
        case UsageRow():
            view.usages[row.right_id] = row.to_usage()
        case OccupancyRow():
            view.occupancies[row.zone] = row.count
        case _:
            raise NotImplementedError(type(row))


__all__ = ["BanScope", "KeyRing", "World"]
