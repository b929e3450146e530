"""The gate's local replica: SQLite in WAL mode, everything a decision needs, and the scan log.

Reads serve :func:`shared.decision.decide` (the :class:`~shared.decision.ReplicaView` protocol);
writes come from two places only: :meth:`Replica.apply_changes` (the server's change feed, one
page per transaction with its cursor) and :meth:`Replica.record_scan` (a decision carried out,
committed durably before the turnstile moves).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import TypeAdapter, ValidationError

from scanner_app.replica_migrations import MigrationError, latest, migrate
from shared.credential import KeyRing, key_id
from shared.decision import Decision, occupancy_changes, usage_after
from shared.errors import ChangeRejected
from shared.model import (
    AccessRight,
    BanScope,
    BlacklistEntry,
    Direction,
    EntryPolicy,
    GateConfig,
    RightKind,
    ScanRecord,
    UsageState,
    Zone,
)
from shared.reasons import Reason
from shared.sync_schema import (
    ROW_TYPES,
    BanRow,
    Change,
    ChangeBatch,
    ChangeKind,
    EventRow,
    GateRow,
    KeyRow,
    OccupancyRow,
    RevocationRow,
    RightRow,
    UsageRow,
    ZoneRow,
)

SCHEMA_VERSION = latest()
"""The replica schema this software writes: the last step of ``scanner_app.replica_migrations``."""
log = logging.getLogger(__name__)
CONFIG_KINDS = frozenset({ChangeKind.ZONE, ChangeKind.GATE, ChangeKind.KEY, ChangeKind.EVENT})
"""Small tables the replica keeps in memory; changing one bumps ``config_version``."""


class ReplicaError(Exception):
    """The replica file cannot be used (newer schema, not a replica, unknown gate)."""


@dataclass(frozen=True, slots=True)
class ReplicaCounts:
    events: int
    zones: int
    gates: int
    rights: int
    revocations: int
    bans: int
    keys: int
    scans: int
    scans_pending: int


class Replica:
    """One SQLite file per gate. Not thread-safe: open one per thread (WAL lets them coexist)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            # Rights, plain secrets and the device's scans: for the gate's own user only. SQLite
            # gives its -wal and -shm files the same mode.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        try:
            self._configure()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ReplicaError(f"{self.path} is not a gate replica: {exc}") from exc
        self._data_version = -1
        self._config_version = -1
        self._zones: dict[str, Zone] = {}
        self._gates: dict[str, GateConfig] = {}
        self._keyring = KeyRing()
        self._clock_offset_ms = 0
        self.refresh()

    # -- life cycle -------------------------------------------------------------------------

    def _configure(self) -> None:
        db = self._db
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise ReplicaError(f"{self.path}: cannot switch to WAL mode (got {mode})")
        # FULL: in WAL mode every commit is fsync'ed, so a recorded scan survives a power cut.
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=10000")
        db.execute("PRAGMA temp_store=MEMORY")
        # Rights are keyed by random ids: a first sync of a million of them inserts all over the
        # B-tree, and a 32 MB page cache (not SQLite's 2 MB) keeps that from going to disk.
        db.execute("PRAGMA cache_size=-32768")
        try:
            self.migrated = migrate(db, name=str(self.path))
        except MigrationError as exc:
            raise ReplicaError(str(exc)) from exc
        if self.migrated.before and self.migrated.after != self.migrated.before:
            log.warning(
                "%s: replica schema %d -> %d%s", self.path, self.migrated.before,
                self.migrated.after, " (emptied for a resync, scans kept)" if self.migrated.resync
                else "",
            )  # fmt: skip

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def refresh(self) -> None:
        """Reload the in-memory zones, gates and keys if another connection changed them."""
        data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if data_version == self._data_version:
            return
        self._data_version = data_version
        self._clock_offset_ms = int(self.get_meta("clock_offset_ms") or 0)
        config_version = int(self.get_meta("config_version") or 0)
        if config_version != self._config_version:
            self._load_config()
            self._config_version = config_version

    def _load_config(self) -> None:
        db = self._db
        self._zones = {
            code: Zone(code, name, parent, capacity)
            for code, name, parent, capacity in db.execute(
                "SELECT code, name, parent, capacity FROM zones"
            )
        }
        self._gates = {
            row[0]: _gate(row)
            for row in db.execute(
                "SELECT name, zones, event_codes, direction, enabled, grace_s FROM gates"
            )
        }
        self._keyring = KeyRing(bytes(k) for (k,) in db.execute("SELECT public_key FROM keys"))

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction() as db:
            _set_meta(db, key, value)

    @property
    def cursor(self) -> int:
        """The last server change applied; the next page must continue from it."""
        return int(self.get_meta("cursor") or 0)

    @property
    def clock_offset_ms(self) -> int:
        """This gate's clock minus the server's, when beyond tolerance; 0 when close enough."""
        return self._clock_offset_ms

    def set_clock_offset_ms(self, offset_ms: int) -> None:
        self.set_meta("clock_offset_ms", str(offset_ms))
        self._clock_offset_ms = offset_ms

    @property
    def gate_name(self) -> str | None:
        """The gate this terminal is (set at enrollment, or by ``seed-demo``)."""
        return self.get_meta("gate_name")

    # -- the ReplicaView protocol -----------------------------------------------------------

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    def right_by_secret(self, secret: str) -> AccessRight | None:
        found = self._db.execute(DECISION_LOOKUPS["right_by_secret"], (secret,)).fetchone()
        return None if found is None else _right(found)

    def is_revoked(self, right_id: bytes) -> bool:
        return self._db.execute(DECISION_LOOKUPS["is_revoked"], (right_id,)).fetchone() is not None

    def bans(self, scope: BanScope, subject: bytes) -> Sequence[BlacklistEntry]:
        rows = self._db.execute(DECISION_LOOKUPS["bans"], (scope.value, subject))
        return [BlacklistEntry(scope, subject, *row) for row in rows]

    def usage(self, right_id: bytes) -> UsageState | None:
        row = self._db.execute(DECISION_LOOKUPS["usage"], (right_id,)).fetchone()
        if row is None:
            return None
        return UsageState(right_id, row[0], bool(row[1]), row[2], row[3])

    def zone(self, code: str) -> Zone | None:
        return self._zones.get(code)

    def occupancy(self, zone: str) -> int:
        row = self._db.execute(DECISION_LOOKUPS["occupancy"], (zone,)).fetchone()
        return 0 if row is None else int(row[0])

    # -- other reads --------------------------------------------------------------------------

    def gate(self, name: str) -> GateConfig | None:
        return self._gates.get(name)

    def require_gate(self, name: str) -> GateConfig:
        """The gate ``name``, or a :class:`ReplicaError` that lists the gates there are."""
        gate = self._gates.get(name)
        if gate is None:
            known = ", ".join(sorted(self._gates)) or "none yet"
            raise ReplicaError(f"no gate named {name!r} in this replica (gates: {known})")
        return gate

    def gates(self) -> list[GateConfig]:
        return sorted(self._gates.values(), key=lambda g: g.name)

    def zones(self) -> list[Zone]:
        return sorted(self._zones.values(), key=lambda z: z.code)

    def right(self, right_id: bytes) -> AccessRight | None:
        found = self._db.execute(
            f"SELECT {_RIGHT_COLUMNS} FROM rights WHERE right_id = ?", (right_id,)
        ).fetchone()
        return None if found is None else _right(found)

    def event_name(self, code: str) -> str | None:
        row = self._db.execute("SELECT name FROM events WHERE code = ?", (code,)).fetchone()
        return None if row is None else str(row[0])

    def counts(self) -> ReplicaCounts:
        def count(sql: str) -> int:
            return int(self._db.execute(sql).fetchone()[0])

        return ReplicaCounts(
            events=count("SELECT count(*) FROM events"),
            zones=count("SELECT count(*) FROM zones"),
            gates=count("SELECT count(*) FROM gates"),
            rights=count("SELECT count(*) FROM rights"),
            revocations=count("SELECT count(*) FROM revocations"),
            bans=count("SELECT count(*) FROM blacklist"),
            keys=count("SELECT count(*) FROM keys"),
            scans=count("SELECT count(*) FROM scans"),
            scans_pending=count("SELECT count(*) FROM scans WHERE uploaded = 0"),
        )

    def scans(self, *, limit: int = 50, pending_only: bool = False) -> list[ScanRecord]:
        """The most recent scans first (or, pending only, the oldest not yet uploaded first)."""
        where, order = ("WHERE uploaded = 0", "ASC") if pending_only else ("", "DESC")
        rows = self._db.execute(
            f"SELECT {_SCAN_COLUMNS} FROM scans {where} ORDER BY scanned_at_ms {order}, rowid"
            f" {order} LIMIT ?",
            (limit,),
        )
        return [_scan(row) for row in rows]

    def mark_uploaded(self, scan_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE scans SET uploaded = 1 WHERE scan_id = ?", ((i,) for i in scan_ids)
            )

    # -- writes -------------------------------------------------------------------------------

    def record_scan(
        self,
        decision: Decision,
        *,
        gate: str,
        scanned_at: datetime,
        code_kind: str,
        latency_ms: float | None = None,
        operator: str | None = None,
        scan_id: str | None = None,
    ) -> ScanRecord:
        """Log a decision and carry out its effect on usage and occupancy, in one durable commit.

        Returns only once the commit is on disk (WAL, synchronous=FULL): the turnstile may move.
        """
        right = decision.right
        record = ScanRecord(
            scan_id=scan_id or str(uuid4()),
            gate=gate,
            direction=decision.direction,
            reason=decision.reason.value,
            scanned_at_ms=round(scanned_at.timestamp() * 1000),
            right_id=None if right is None else right.right_id,
            event=None if right is None else right.event,
            zone=decision.zone,
            code_kind=code_kind,
            latency_ms=latency_ms,
            operator=operator,
            detail=decision.detail,
        )
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO scans ({_SCAN_COLUMNS}) VALUES ({_placeholders(_SCAN_COLUMNS)})",
                _scan_params(record),
            )
            if right is not None and decision.granted:
                before = self.usage(right.right_id)
                after = usage_after(decision, before, int(scanned_at.timestamp()))
                if after is not None:
                    db.execute(
                        "UPDATE scans SET usage_before = ? WHERE scan_id = ?",
                        (_usage_json(before), record.scan_id),
                    )
                    self._move_usage(db, before, after)
        return record

    def record_event(self, record: ScanRecord) -> ScanRecord:
        """Log an audited event that is not a decision (a supervisor's manual open, emergency
        free passage) durably, like a scan: it uploads with the scans. Usage is not touched."""
        if record.reason in set(Reason):
            raise ReplicaError(f"{record.reason!r} is a decision: use record_scan")
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO scans ({_SCAN_COLUMNS}) VALUES ({_placeholders(_SCAN_COLUMNS)})",
                _scan_params(record),
            )
        return record

    def annul(self, record: ScanRecord, *, reason: str, scanned_at: datetime) -> ScanRecord:
        """Cancel a granted scan whose holder never went through: the right is not consumed.

        Logs a ``reason`` record (``not_passed``...) pointing at the scan, which uploads like any
        scan, and puts the right's usage and the head counts back as they were before it.
        """
        annulment = ScanRecord(
            scan_id=str(uuid4()),
            gate=record.gate,
            direction=record.direction,
            reason=reason,
            scanned_at_ms=round(scanned_at.timestamp() * 1000),
            right_id=record.right_id,
            event=record.event,
            zone=record.zone,
            code_kind=record.code_kind,
            detail=f"annuls {record.scan_id}",
            annuls=record.scan_id,
        )
        with self._transaction() as db:
            row = db.execute(
                "SELECT reason, usage_before, (SELECT 1 FROM scans WHERE annuls = ?)"
                " FROM scans WHERE scan_id = ?",
                (record.scan_id, record.scan_id),
            ).fetchone()
            if row is None or row[0] != Reason.GRANTED.value or record.right_id is None:
                raise ReplicaError(f"scan {record.scan_id} is not a granted scan of this gate")
            if row[2] is not None:
                raise ReplicaError(f"scan {record.scan_id} is already annulled")
            db.execute(
                f"INSERT INTO scans ({_SCAN_COLUMNS}) VALUES ({_placeholders(_SCAN_COLUMNS)})",
                _scan_params(annulment),
            )
            current = self.usage(record.right_id)
            if current is not None and current.last_scan_at == record.scanned_at_ms // 1000:
                # Nothing happened to the right since that scan: put it back exactly.
                before = _usage_from_json(record.right_id, row[1])
                restored = before or UsageState(record.right_id, last_scan_at=current.last_scan_at)
                self._move_usage(db, current, restored)
        return annulment

    def _move_usage(
        self, db: sqlite3.Connection, before: UsageState | None, after: UsageState
    ) -> None:
        """Write a right's new usage and move the zone head counts accordingly."""
        db.execute(
            "INSERT INTO usage (right_id, entries, inside, zone, last_scan_at, seq)"
            " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (right_id) DO UPDATE SET"
            " entries = excluded.entries, inside = excluded.inside,"
            " zone = excluded.zone, last_scan_at = excluded.last_scan_at",
            (after.right_id, after.entries, after.inside, after.zone, after.last_scan_at),
        )
        db.executemany(
            "INSERT INTO occupancy (zone, count) VALUES (?, ?)"
            " ON CONFLICT (zone) DO UPDATE SET count = count + excluded.count",
            occupancy_changes(self, before, after).items(),
        )
        # A head count never goes below zero, whatever the server said before.
        db.execute("UPDATE occupancy SET count = 0 WHERE count < 0")

    def apply_changes(self, batch: ChangeBatch) -> int:
        """Apply one page of the change feed and its cursor, all or nothing.

        Refuses (:class:`ChangeRejected`, nothing kept) a page that does not continue from this
        replica's cursor, a change outside the page's range, and any invalid row.
        """
        config_touched = False
        try:
            with self._transaction() as db:
                current = self.cursor
                if batch.since != current:
                    raise ChangeRejected(
                        f"page starts after change {batch.since}, replica is at {current}"
                    )
                if batch.cursor < batch.since:
                    raise ChangeRejected("page cursor goes backwards")
                for change in batch.changes:
                    if not batch.since < change.seq <= batch.cursor:
                        raise ChangeRejected(
                            f"change {change.seq} is outside page ({batch.since}, {batch.cursor}]"
                        )
                    config_touched = config_touched or change.kind in CONFIG_KINDS
                for run in _runs(batch.changes):
                    _apply_run(db, run)
                _set_meta(db, "cursor", str(batch.cursor))
                if config_touched:
                    version = int(_get_meta(db, "config_version") or 0) + 1
                    _set_meta(db, "config_version", str(version))
        except ValidationError as exc:
            raise ChangeRejected(f"invalid row in page: {exc}") from exc
        except sqlite3.IntegrityError as exc:
            raise ChangeRejected(f"page conflicts with the replica: {exc}") from exc
        if config_touched:
            self._data_version = -1
            self.refresh()
        return len(batch.changes)

    def reset_for_resync(self) -> None:
        """Forget what the server sent (keeping the scan log, all marked to upload again), so
        the next pull rebuilds the replica from change 0. For a server restored from a backup."""
        with self._transaction() as db:
            for table in REPLICATED_TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute("UPDATE scans SET uploaded = 0")
            _set_meta(db, "cursor", "0")
            version = int(_get_meta(db, "config_version") or 0) + 1
            _set_meta(db, "config_version", str(version))
        self._data_version = -1
        self.refresh()

    def set_gate_name(self, name: str) -> None:
        self.require_gate(name)
        self.set_meta("gate_name", name)


# -- row mapping ------------------------------------------------------------------------------

_RIGHT_COLUMNS = (
    "right_id, event, zones, not_before, expires, policy, kind, holder, seat, display_name, secret"
)
DECISION_LOOKUPS: dict[str, str] = {
    "right_by_secret": f"SELECT {_RIGHT_COLUMNS} FROM rights WHERE secret = ?",
    "is_revoked": "SELECT 1 FROM revocations WHERE right_id = ?",
    "bans": "SELECT reason, severity, valid_from, valid_until FROM blacklist"
    " WHERE scope = ? AND subject = ?",
    "usage": "SELECT entries, inside, zone, last_scan_at FROM usage WHERE right_id = ?",
    "occupancy": "SELECT count FROM occupancy WHERE zone = ?",
}
"""Every query a decision makes (zones, gates, keys are held in memory). Each must use an index."""
_SCAN_COLUMNS = (
    "scan_id, scanned_at_ms, gate, direction, reason, right_id, event, zone, code_kind,"
    " latency_ms, operator, detail, annuls"
)


def _placeholders(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def _usage_json(usage: UsageState | None) -> str | None:
    if usage is None:
        return None
    return json.dumps([usage.entries, usage.inside, usage.zone, usage.last_scan_at])


def _usage_from_json(right_id: bytes, text: str | None) -> UsageState | None:
    if text is None:
        return None
    entries, inside, zone, last_scan_at = json.loads(text)
    return UsageState(right_id, entries, bool(inside), zone, last_scan_at)


def _get_meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def _right(row: Sequence[Any]) -> AccessRight:
    return AccessRight(
        right_id=bytes(row[0]),
        event=row[1],
        zones=tuple(json.loads(row[2])),
        not_before=row[3],
        expires=row[4],
        policy=EntryPolicy(row[5]),
        kind=RightKind(row[6]),
        holder=None if row[7] is None else bytes(row[7]),
        seat=row[8],
        display_name=row[9],
        secret=row[10],
    )


def _gate(row: Sequence[Any]) -> GateConfig:
    name, zones, event_codes, direction, enabled, grace_s = row
    return GateConfig(
        name,
        tuple(json.loads(zones)),
        frozenset(json.loads(event_codes)),
        Direction(direction),
        bool(enabled),
        grace_s,
    )


def _scan_params(s: ScanRecord) -> tuple[Any, ...]:
    return (
        s.scan_id,
        s.scanned_at_ms,
        s.gate,
        s.direction.value,
        s.reason,
        s.right_id,
        s.event,
        s.zone,
        s.code_kind,
        s.latency_ms,
        s.operator,
        s.detail,
        s.annuls,
    )


def _scan(row: Sequence[Any]) -> ScanRecord:
    return ScanRecord(
        scan_id=row[0],
        scanned_at_ms=row[1],
        gate=row[2],
        direction=Direction(row[3]),
        reason=row[4],
        right_id=None if row[5] is None else bytes(row[5]),
        event=row[6],
        zone=row[7],
        code_kind=row[8],
        latency_ms=row[9],
        operator=row[10],
        detail=row[11],
        annuls=row[12],
    )


# -- applying changes -------------------------------------------------------------------------

_TABLE_KEYS: dict[ChangeKind, tuple[str, str]] = {
    ChangeKind.EVENT: ("events", "code"),
    ChangeKind.ZONE: ("zones", "code"),
    ChangeKind.GATE: ("gates", "name"),
    ChangeKind.RIGHT: ("rights", "right_id"),
    ChangeKind.REVOCATION: ("revocations", "right_id"),
    ChangeKind.BAN: ("blacklist", "ban_id"),
    ChangeKind.KEY: ("keys", "kid"),
    ChangeKind.USAGE: ("usage", "right_id"),
    ChangeKind.OCCUPANCY: ("occupancy", "zone"),
}
_ROW_LISTS: dict[ChangeKind, TypeAdapter[list[Any]]] = {
    kind: TypeAdapter(list[row_type])  # type: ignore[valid-type]
    for kind, row_type in ROW_TYPES.items()
}
"""One validator per kind for a whole run of rows: far cheaper than one call per row."""
REPLICATED_TABLES = tuple(table for table, _ in _TABLE_KEYS.values())
_BYTE_KEYS = frozenset({ChangeKind.RIGHT, ChangeKind.REVOCATION, ChangeKind.KEY, ChangeKind.USAGE})


def _upsert_sql(table: str, key: str, columns: Sequence[str], where: str = "") -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}{where}"
    )


_UPSERTS: dict[ChangeKind, str] = {
    ChangeKind.EVENT: _upsert_sql(
        "events", "code", ["code", "name", "starts_at", "ends_at", "venue", "seq"]
    ),
    ChangeKind.ZONE: _upsert_sql("zones", "code", ["code", "name", "parent", "capacity", "seq"]),
    ChangeKind.GATE: _upsert_sql(
        "gates",
        "name",
        ["name", "zones", "event_codes", "direction", "enabled", "grace_s", "seq"],
    ),
    ChangeKind.RIGHT: _upsert_sql("rights", "right_id", [*_RIGHT_COLUMNS.split(", "), "seq"]),
    ChangeKind.REVOCATION: _upsert_sql(
        "revocations", "right_id", ["right_id", "revoked_at", "reason", "seq"]
    ),
    ChangeKind.BAN: _upsert_sql(
        "blacklist",
        "ban_id",
        ["ban_id", "scope", "subject", "reason", "severity", "valid_from", "valid_until", "seq"],
    ),
    ChangeKind.KEY: _upsert_sql("keys", "kid", ["kid", "public_key", "seq"]),
    # The server's usage wins unless this gate has seen the right more recently (a local scan
    # not yet uploaded): the later scan is the truth until the server hears of it.
    ChangeKind.USAGE: _upsert_sql(
        "usage",
        "right_id",
        ["right_id", "entries", "inside", "zone", "last_scan_at", "seq"],
        " WHERE coalesce(excluded.last_scan_at, 0) >= coalesce(usage.last_scan_at, 0)",
    ),
    ChangeKind.OCCUPANCY: _upsert_sql("occupancy", "zone", ["zone", "count"]),
}


@lru_cache(maxsize=4096)
def _zones_json(zones: tuple[str, ...]) -> str:
    """A right's zones as stored; a million rights share a handful of zone lists."""
    return json.dumps(list(zones))


def _runs(changes: Sequence[Change]) -> Iterator[list[Change]]:
    """Consecutive changes of one kind and operation: each run is one executemany, in order."""
    run: list[Change] = []
    for change in changes:
        if run and (run[0].kind, run[0].op) != (change.kind, change.op):
            yield run
            run = []
        run.append(change)
    if run:
        yield run


def _apply_run(db: sqlite3.Connection, run: list[Change]) -> None:
    kind = run[0].kind
    table, key_column = _TABLE_KEYS[kind]
    if run[0].op == "delete":
        keys: list[tuple[str | bytes]] = []
        for change in run:
            try:
                keys.append((bytes.fromhex(change.key) if kind in _BYTE_KEYS else change.key,))
            except ValueError as exc:
                raise ChangeRejected(f"change {change.seq}: key is not hexadecimal") from exc
        db.executemany(f"DELETE FROM {table} WHERE {key_column} = ?", keys)
        return
    rows = _ROW_LISTS[kind].validate_python([c.data or {} for c in run])
    db.executemany(
        _UPSERTS[kind], [_row_params(c.seq, row) for c, row in zip(run, rows, strict=True)]
    )


def _row_params(seq: int, row: Any) -> tuple[Any, ...]:
    match row:
        case EventRow():
            return (row.code, row.name, row.starts_at, row.ends_at, row.venue, seq)
        case ZoneRow():
            return (row.code, row.name, row.parent, row.capacity, seq)
        case GateRow():
            return (
                row.name,
                json.dumps(row.zones),
                json.dumps(sorted(row.event_codes)),
                row.direction.value,
                int(row.enabled),
                row.grace_s,
                seq,
            )
        case RightRow():
            return (
                row.right_id,
                row.event,
                _zones_json(tuple(row.zones)),
                row.not_before,
                row.expires,
                int(row.policy),
                int(row.kind),
                row.holder,
                row.seat,
                row.display_name,
                row.secret,
                seq,
            )
        case RevocationRow():
            return (row.right_id, row.revoked_at, row.reason, seq)
        case BanRow():
            return (
                row.ban_id,
                row.scope.value,
                row.subject,
                row.reason,
                row.severity,
                row.valid_from,
                row.valid_until,
                seq,
            )
        case KeyRow():
            if key_id(row.public_key) != row.kid:
                raise ChangeRejected(f"change {seq}: kid does not match the public key")
            return (row.kid, row.public_key, seq)
        case UsageRow():
            return (row.right_id, row.entries, int(row.inside), row.zone, row.last_scan_at, seq)
        case OccupancyRow():
            return (row.zone, row.count)
    raise ChangeRejected(f"change {seq}: unsupported row {type(row).__name__}")
