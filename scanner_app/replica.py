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
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from pydantic import TypeAdapter, ValidationError

from scanner_app.journal import SUFFIX as JOURNAL_SUFFIX
from scanner_app.journal import Journal, journal_path
from scanner_app.replica_migrations import MigrationError, latest, migrate
from shared.credential import KeyRing
from shared.decision import Decision, occupancy_changes, usage_after
from shared.errors import ChangeRejected
from shared.model import (
    AccessRight,
    BanScope,
    BlacklistEntry,
    Direction,
    GateConfig,
    Layout,
    ScanRecord,
    UsageState,
)
from shared.reasons import Reason
from shared.sync_schema import KINDS, Change, ChangeBatch, ChangeKind, Replicated

SCHEMA_VERSION = latest()
"""The replica schema this software writes: the last step of ``scanner_app.replica_migrations``."""
log = logging.getLogger(__name__)
PROVISIONAL_LAYOUT = ""
"""The layout replica step 3 made of what a protocol-2 replica knew, until the server's come."""


class ReplicaError(Exception):
    """The replica file cannot be used (newer schema, not a replica, unknown gate)."""


class ReplicaDamaged(ReplicaError):
    """The file fails SQLite's integrity check (a failing SD card, a copy cut short): nothing in
    it may decide. :func:`scanner_app.salvage.salvage` moves it aside, keeping its scans."""


def is_damage(exc: sqlite3.Error) -> bool:
    """SQLite's own word that the file is damaged (``database disk image is malformed``)."""
    return isinstance(exc, sqlite3.DatabaseError) and "malformed" in str(exc)


def move_replica(path: Path, to: Path, *, journal: bool = False) -> None:
    """Rename a replica with its ``-wal`` and ``-shm`` (whichever exist): ``to`` takes the
    database, ``to-wal`` and ``to-shm`` the others; ``journal``: its journal too (the gate is
    another now). Left in place otherwise: the journal is what a new replica recovers from."""
    for suffix in ("", "-wal", "-shm", *([JOURNAL_SUFFIX] if journal else [])):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{to}{suffix}"))


@dataclass(frozen=True, slots=True)
class ReplicaCounts:
    events: int
    layouts: int
    gates: int
    rights: int
    revocations: int
    bans: int
    keys: int
    scans: int
    scans_pending: int


class Replica:
    """One SQLite file per gate. Not thread-safe: open one per thread (WAL lets them coexist)."""

    def __init__(self, path: str | Path, *, check: bool = False, journal: bool = True) -> None:
        """Open (or create) the replica; ``check``: run SQLite's integrity check first (a gate
        process does, at start), raising :class:`ReplicaDamaged` on damage; ``journal``: keep
        each record in the journal beside it too (:mod:`scanner_app.journal`), until uploaded."""
        self.path = Path(path)
        self.journal = Journal(journal_path(self.path)) if journal else None
        if not self.path.exists():
            # Rights, plain secrets and the device's scans: for the gate's own user only. SQLite
            # gives its -wal and -shm files the same mode.
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        try:
            self._configure()
            if check:
                self.verify_integrity()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if is_damage(exc):
                raise ReplicaDamaged(f"{self.path} is damaged: {exc}") from exc
            raise ReplicaError(f"{self.path} is not a gate replica: {exc}") from exc
        except ReplicaDamaged:
            self._db.close()
            raise
        self._data_version = -1
        self._config_version = -1
        self._layouts: dict[str, Layout] = {}
        self._layout_of: dict[str, Layout] = {}
        self._gates: dict[str, GateConfig] = {}
        self._keyring = KeyRing()
        self._staff: dict[str, str] = {}
        self._rotation_keys: dict[bytes, bytes] = {}
        self._rotating_events: frozenset[str] = frozenset()
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
        if self.journal is not None:
            self.journal.close()

    def verify_integrity(self) -> None:
        """SQLite's ``quick_check`` (every page and index readable and consistent; not the
        slower cross-check of index contents): raise :class:`ReplicaDamaged` if it finds any."""
        problems = [str(row[0]) for row in self._db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            raise ReplicaDamaged(f"{self.path} is damaged: {'; '.join(problems)[:300]}")

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
        """Reload the in-memory layouts, gates and keys if another connection changed them."""
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
        rows = db.execute(_SELECT[ChangeKind.LAYOUT] + " ORDER BY code")
        layouts = [LAYOUTS.read(row).to_layout() for row in rows]
        self._layouts = {layout.code: layout for layout in layouts}
        # An event in two layouts is bad data: the first by code decides, as on every gate.
        self._layout_of = {}
        for layout in layouts:
            for event in layout.events:
                self._layout_of.setdefault(event, layout)
        gates = (GATES.read(row).to_gate() for row in db.execute(_SELECT[ChangeKind.GATE]))
        self._gates = {gate.name: gate for gate in gates}
        self._keyring = KeyRing(bytes(k) for (k,) in db.execute("SELECT public_key FROM keys"))
        self._staff = {str(n): str(h) for n, h in db.execute("SELECT name, pin_hash FROM staff")}
        rotation = db.execute("SELECT rkid, key FROM rotation_keys")
        self._rotation_keys = {bytes(rkid): bytes(key) for rkid, key in rotation}
        rules = db.execute("SELECT event FROM event_rules WHERE rotating_required")
        self._rotating_events = frozenset(str(event) for (event,) in rules)

    # -- meta -------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def delete_meta(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def restore_scans(self, rows: Iterable[Sequence[Any]]) -> int:
        """Put back scans read from a damaged replica (``scanner_app.salvage``), as they were,
        upload marks and sequence numbers included (one from a file without them gets the next
        number); a scan already here is kept once."""
        columns = SCAN_LOG_COLUMNS
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                f"INSERT OR IGNORE INTO scans ({columns}) VALUES ({_placeholders(columns)})",
                rows,
            )
            restored = db.total_changes - before
            _number_the_unnumbered(db)
            return restored

    @property
    def scan_seq(self) -> int:
        """The highest sequence number this replica has given a record (or been told the server
        holds, :meth:`raise_scan_seq`): 0 for a new file."""
        return int(self._db.execute(f"SELECT {_NEXT_SEQ} - 1").fetchone()[0])

    def raise_scan_seq(self, seq: int) -> None:
        """Number the next record after ``seq`` at least: once a rebuilt replica has learnt how
        far the server has this device's records, so that it is not taken for behind again."""
        with self._transaction() as db:
            if seq > int(db.execute(f"SELECT {_NEXT_SEQ} - 1").fetchone()[0]):
                _set_meta(db, SEQ_FLOOR, str(seq))

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
        return None if found is None else RIGHTS.read(found).to_right()

    def is_revoked(self, right_id: bytes) -> bool:
        return self._db.execute(DECISION_LOOKUPS["is_revoked"], (right_id,)).fetchone() is not None

    def bans(self, scope: BanScope, subject: bytes) -> Sequence[BlacklistEntry]:
        rows = self._db.execute(DECISION_LOOKUPS["bans"], (scope.value, subject))
        return [BANS.read(row).to_entry() for row in rows]

    def usage(self, right_id: bytes) -> UsageState | None:
        row = self._db.execute(DECISION_LOOKUPS["usage"], (right_id,)).fetchone()
        return None if row is None else USAGE.read(row).to_usage()

    def layout_of(self, event: str) -> Layout | None:
        return self._layout_of.get(event)

    def rotation_key(self, rkid: bytes) -> bytes | None:
        return self._rotation_keys.get(rkid)

    def rotating_required(self, event: str) -> bool:
        return event in self._rotating_events

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

    def staff(self) -> dict[str, str]:
        """Name -> kiosk PIN hash of the staff the server sent this gate (its venue's)."""
        self.refresh()
        return dict(self._staff)

    def layouts(self) -> list[Layout]:
        return list(self._layouts.values())

    def right(self, right_id: bytes) -> AccessRight | None:
        found = self._db.execute(
            _SELECT[ChangeKind.RIGHT] + " WHERE right_id = ?", (right_id,)
        ).fetchone()
        return None if found is None else RIGHTS.read(found).to_right()

    def event_name(self, code: str) -> str | None:
        row = self._db.execute("SELECT name FROM events WHERE code = ?", (code,)).fetchone()
        return None if row is None else str(row[0])

    def counts(self) -> ReplicaCounts:
        def count(sql: str) -> int:
            return int(self._db.execute(sql).fetchone()[0])

        return ReplicaCounts(
            events=count("SELECT count(*) FROM events"),
            layouts=count("SELECT count(*) FROM layouts"),
            gates=count("SELECT count(*) FROM gates"),
            rights=count("SELECT count(*) FROM rights"),
            revocations=count("SELECT count(*) FROM revocations"),
            bans=count("SELECT count(*) FROM blacklist"),
            keys=count("SELECT count(*) FROM keys"),
            scans=count("SELECT count(*) FROM scans"),
            scans_pending=count("SELECT count(*) FROM scans WHERE uploaded = 0"),
        )

    def pending_count(self) -> int:
        """Scans not yet uploaded (one indexed count: cheap enough to ask often)."""
        return int(self._db.execute("SELECT count(*) FROM scans WHERE uploaded = 0").fetchone()[0])

    def scans(self, *, limit: int = 50, pending_only: bool = False) -> list[ScanRecord]:
        """The most recent scans first (or, pending only, the oldest not yet uploaded first)."""
        where, order = ("WHERE uploaded = 0", "ASC") if pending_only else ("", "DESC")
        rows = self._db.execute(
            f"SELECT {_SCAN_COLUMNS}, seq FROM scans {where} ORDER BY scanned_at_ms {order}, rowid"
            f" {order} LIMIT ?",
            (limit,),
        )
        return [_scan(row) for row in rows]

    def mark_uploaded(self, scan_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE scans SET uploaded = 1 WHERE scan_id = ?", ((i,) for i in scan_ids)
            )
        if self.journal is not None and (self.pending_count() == 0 or self.journal.oversized()):
            self.journal.compact(self._pending_ids)

    def _pending_ids(self) -> set[str]:
        rows = self._db.execute("SELECT scan_id FROM scans WHERE uploaded = 0")
        return {scan_id for (scan_id,) in rows}

    def recover_from_journal(self) -> int:
        """Put back, not yet uploaded, every journaled record this replica lacks (it was lost,
        damaged, or is an older copy); returns how many. A record whose number this replica has
        given another since is numbered anew."""
        if self.journal is None:
            return 0
        records = self.journal.records()
        if not records:
            return 0
        with self._transaction() as db:
            before = db.total_changes
            for record in records:
                taken = db.execute("SELECT 1 FROM scans WHERE seq = ?", (record.seq,)).fetchone()
                db.execute(
                    f"INSERT OR IGNORE INTO scans ({_SCAN_COLUMNS}, seq)"
                    f" VALUES ({_placeholders(_SCAN_COLUMNS)}, ?)",
                    (*_scan_params(record), None if taken else record.seq),
                )
            recovered = db.total_changes - before
            _number_the_unnumbered(db)
        if recovered:
            log.warning("%s: %d scans recovered from its journal", self.path, recovered)
        return recovered

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
        dry_run: bool = False,
    ) -> ScanRecord:
        """Log a decision and carry out its effect on usage and occupancy, in one durable commit.

        Returns only once the commit is on disk (WAL, synchronous=FULL): the turnstile may move.
        ``dry_run``: the record as it would be, nothing written.
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
        if dry_run:
            return record
        with self._transaction() as db:
            record = _insert_scan(db, record)
            if right is not None and decision.granted:
                before = self.usage(right.right_id)
                after = usage_after(decision, before, int(scanned_at.timestamp()))
                if after is not None:
                    db.execute(
                        "UPDATE scans SET usage_before = ? WHERE scan_id = ?",
                        (_usage_json(before), record.scan_id),
                    )
                    self._move_usage(db, before, after, self.layout_of(right.event))
        self._journaled(record)
        return record

    def _journaled(self, record: ScanRecord) -> None:
        """The second copy of a record just committed. Its failure does not undo the record (the
        replica has it, and decides on it): it is logged, and the gate goes on."""
        if self.journal is None:
            return
        try:
            self.journal.append(record)
        except (OSError, ValueError) as exc:
            log.error("scan %s is in the replica but not in its journal: %s", record.scan_id, exc)

    def record_event(self, record: ScanRecord) -> ScanRecord:
        """Log an audited event that is not a decision (a supervisor's manual open, emergency
        free passage) durably, like a scan: it uploads with the scans. Usage is not touched."""
        if record.reason in set(Reason):
            raise ReplicaError(f"{record.reason!r} is a decision: use record_scan")
        with self._transaction() as db:
            record = _insert_scan(db, record)
        self._journaled(record)
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
            annulment = _insert_scan(db, annulment)
            current = self.usage(record.right_id)
            if current is not None and current.last_scan_at == record.scanned_at_ms // 1000:
                # Nothing happened to the right since that scan: put it back exactly.
                before = _usage_from_json(record.right_id, row[1])
                restored = before or UsageState(record.right_id, last_scan_at=current.last_scan_at)
                layout = None if record.event is None else self.layout_of(record.event)
                self._move_usage(db, current, restored, layout)
        self._journaled(annulment)
        return annulment

    def _move_usage(
        self,
        db: sqlite3.Connection,
        before: UsageState | None,
        after: UsageState,
        layout: Layout | None,
    ) -> None:
        """Write a right's new usage and move the zone head counts accordingly (in ``layout``,
        the right's event's)."""
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
            occupancy_changes(layout, before, after).items(),
        )
        # A head count never goes below zero, whatever the server said before.
        db.execute("UPDATE occupancy SET count = 0 WHERE count < 0")

    @property
    def is_fresh(self) -> bool:
        """Nothing from the feed yet and no scan of its own: a snapshot may be installed."""
        if self.cursor != 0:
            return False
        has = "SELECT EXISTS (SELECT 1 FROM {})"
        return not any(
            self._db.execute(has.format(table)).fetchone()[0]  # our own table names
            for table in (*REPLICATED_TABLES, "scans")
        )

    def install_snapshot(self, path: Path) -> int:
        """Take every replicated table from the snapshot replica at ``path`` (the server's, of
        this gate's venue: ``sync_server.snapshots``), and its cursor; the feed then goes on from
        there. Only into a fresh replica (:attr:`is_fresh`); the snapshot must be of this schema.
        All or nothing. Returns the snapshot's cursor."""
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as snap:
            version = int(snap.execute("PRAGMA user_version").fetchone()[0])
            cursor_row = snap.execute("SELECT value FROM meta WHERE key = 'cursor'").fetchone()
        if version != SCHEMA_VERSION:
            raise ReplicaError(f"snapshot schema {version}, this gate's is {SCHEMA_VERSION}")
        if cursor_row is None:
            raise ReplicaError("snapshot without a cursor")
        cursor = int(cursor_row[0])
        self._db.execute("ATTACH DATABASE ? AS snapshot", (str(path),))
        try:
            with self._transaction() as db:
                if not self.is_fresh:
                    raise ReplicaError("a snapshot goes only into a fresh replica")
                # Indexes built once over all the rows: far cheaper than row by row.
                tables = ", ".join(f"'{table}'" for table in REPLICATED_TABLES)
                indexes = db.execute(
                    "SELECT name, sql FROM main.sqlite_master WHERE type = 'index'"
                    f" AND sql IS NOT NULL AND tbl_name IN ({tables})"
                ).fetchall()
                for name, _ in indexes:
                    db.execute(f'DROP INDEX main."{name}"')
                for table in REPLICATED_TABLES:
                    db.execute(f"INSERT INTO main.{table} SELECT * FROM snapshot.{table}")
                for _, sql in indexes:
                    db.execute(sql)
                _set_meta(db, "cursor", str(cursor))
                version_now = int(_get_meta(db, "config_version") or 0) + 1
                _set_meta(db, "config_version", str(version_now))
        finally:
            self._db.execute("DETACH DATABASE snapshot")
        self._data_version = -1  # this connection's own writes do not move data_version
        self.refresh()
        return cursor

    def seal(self) -> None:
        """Make the file self-contained (the WAL folded in, no -wal beside it), to be copied."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
                if any(change.kind is ChangeKind.LAYOUT for change in batch.changes):
                    db.execute("DELETE FROM layouts WHERE code = ?", (PROVISIONAL_LAYOUT,))
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

LAYOUTS, GATES = KINDS[ChangeKind.LAYOUT], KINDS[ChangeKind.GATE]
RIGHTS, BANS, USAGE = KINDS[ChangeKind.RIGHT], KINDS[ChangeKind.BAN], KINDS[ChangeKind.USAGE]
_SELECT = {kind: f"SELECT {', '.join(s.fields)} FROM {s.table}" for kind, s in KINDS.items()}
"""Each kind's row as :meth:`Replicated.read` takes it back."""
DECISION_LOOKUPS: dict[str, str] = {
    "right_by_secret": _SELECT[ChangeKind.RIGHT] + " WHERE secret = ?",
    "is_revoked": "SELECT 1 FROM revocations WHERE right_id = ?",
    "bans": _SELECT[ChangeKind.BAN] + " WHERE scope = ? AND subject = ?",
    "usage": _SELECT[ChangeKind.USAGE] + " WHERE right_id = ?",
    "occupancy": "SELECT count FROM occupancy WHERE zone = ?",
}
"""Every query a decision makes (layouts, gates, keys are held in memory). Each must use an
index."""
_SCAN_COLUMNS = (
    "scan_id, scanned_at_ms, gate, direction, reason, right_id, event, zone, code_kind,"
    " latency_ms, operator, detail, annuls"
)


SCAN_LOG_COLUMNS = f"{_SCAN_COLUMNS}, seq, usage_before, uploaded"
"""Every column of the scan log, as a salvage reads and writes it back (the upload mark last)."""
SEQ_FLOOR = "seq_floor"
"""Replica meta: the sequence number the server holds for this device, once a rebuild learnt
it (the log may hold fewer records)."""
_NEXT_SEQ = (
    "(SELECT max(coalesce((SELECT max(seq) FROM scans), 0),"
    f" coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{SEQ_FLOOR}'), 0)) + 1)"
)
"""The next record's sequence number: after the log's highest and the floor (two index reads)."""


def _number_the_unnumbered(db: sqlite3.Connection) -> None:
    """Give each record without a sequence number (put back from elsewhere) the next ones."""
    unnumbered = db.execute("SELECT rowid FROM scans WHERE seq IS NULL ORDER BY rowid")
    for (rowid,) in unnumbered.fetchall():
        db.execute(f"UPDATE scans SET seq = {_NEXT_SEQ} WHERE rowid = ?", (rowid,))


def _insert_scan(db: sqlite3.Connection, record: ScanRecord) -> ScanRecord:
    """Log one record with the device's next sequence number; the record as written."""
    row = db.execute(
        f"INSERT INTO scans ({_SCAN_COLUMNS}, seq) VALUES ({_placeholders(_SCAN_COLUMNS)},"
        f" {_NEXT_SEQ}) RETURNING seq",
        _scan_params(record),
    ).fetchone()
    return replace(record, seq=int(row[0]))


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
        seq=row[13],
    )


# -- applying changes -------------------------------------------------------------------------

_ROW_LISTS: dict[ChangeKind, TypeAdapter[list[Any]]] = {
    kind: TypeAdapter(list[spec.row])  # type: ignore[name-defined]
    for kind, spec in KINDS.items()
}
"""One validator per kind for a whole run of rows: far cheaper than one call per row."""
REPLICATED_TABLES = tuple(spec.table for spec in KINDS.values())
CONFIG_KINDS = frozenset(kind for kind, spec in KINDS.items() if spec.in_memory)
"""Small tables the replica keeps in memory; changing one bumps ``config_version``."""
_UPSERT_WHERE = {
    # The server's usage wins unless this gate has seen the right more recently (a local scan
    # not yet uploaded): the later scan is the truth until the server hears of it.
    ChangeKind.USAGE: " WHERE coalesce(excluded.last_scan_at, 0)"
    " >= coalesce(usage.last_scan_at, 0)",
}


def _upsert_sql(spec: Replicated) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in spec.columns if c != spec.key)
    return (
        f"INSERT INTO {spec.table} ({', '.join(spec.columns)})"
        f" VALUES ({', '.join('?' for _ in spec.columns)})"
        f" ON CONFLICT ({spec.key}) DO UPDATE SET {updates}{_UPSERT_WHERE.get(spec.kind, '')}"
    )


_UPSERTS = {kind: _upsert_sql(spec) for kind, spec in KINDS.items()}


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
    spec = KINDS[kind]
    if run[0].op == "delete":
        keys: list[tuple[str | bytes]] = []
        for change in run:
            try:
                keys.append((bytes.fromhex(change.key) if spec.byte_key else change.key,))
            except ValueError as exc:
                raise ChangeRejected(f"change {change.seq}: key is not hexadecimal") from exc
        db.executemany(f"DELETE FROM {spec.table} WHERE {spec.key} = ?", keys)
        return
    rows = _ROW_LISTS[kind].validate_python([c.data or {} for c in run])
    db.executemany(
        _UPSERTS[kind], [spec.params(row, c.seq) for c, row in zip(run, rows, strict=True)]
    )
