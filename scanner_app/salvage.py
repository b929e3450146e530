"""A damaged replica: moved aside, its scans kept, the rest rebuilt from the server.

A replica that fails SQLite's integrity check (:class:`~scanner_app.replica.ReplicaDamaged`)
decides nothing: a flipped bit in a usage page could let a used ticket in again. The gate then

1. moves the file (and its ``-wal`` and ``-shm``) aside as ``gate.db.damaged-<time>``, for an
   installer to look at (``sqlite3 gate.db.damaged-... .recover`` gets more out of it);
2. starts a new replica holding every scan it can still read, each with its upload mark (the
   unsent ones go up at the next sync; the server keeps each UUID once), and the gate's own
   settings (its gate, direction, language);
3. rebuilds the rest from the server's feed (:func:`rebuild`): until that is done the new
   replica knows no right, no key and no gate, so the gate admits nobody.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner_app.config import TerminalConfig
from scanner_app.replica import SCAN_LOG_COLUMNS, Replica, move_replica

if TYPE_CHECKING:
    from scanner_app.sync import SyncClient

log = logging.getLogger(__name__)

KEPT_META = ("gate_name", "kiosk_direction", "kiosk_language")
"""The gate's own settings, carried into the new replica when they can be read."""
REBUILD_PENDING = "rebuild_pending"
"""Replica meta: set by :func:`salvage`, cleared once the feed has been pulled whole."""
LOST = "replica_lost"
"""Replica meta: why this enrolled gate started over (its replica missing, empty or another's),
until the server has been told."""
VENUE = "venue"
"""Replica meta: the venue whose gate this replica is (with ``gate_name``: whose it is)."""
DEVICE = "device"
"""Replica meta: the enrollment that last synced it: the first 12 hex digits of the device
token's SHA-256 (the server's ``devices.token_hash`` begins with them), for an installer who
wants to know which terminal a file came from."""


def device_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Salvaged:
    aside: Path
    """Where the damaged file now is."""
    scans: int
    """Scans read back and kept."""
    unsent: int
    """Of those, not yet uploaded."""
    unreadable: int
    """Rows of the scan log that could not be read (their number, as far as it can be told)."""
    journaled: int = 0
    """Scans not readable (or not there) in the damaged file, put back from the journal."""


def salvage(path: Path, *, now: datetime | None = None) -> Salvaged:
    """Move the damaged replica at ``path`` aside and make a new one there with its scans."""
    at = stamp(now)
    aside = path.with_name(f"{path.name}.damaged-{at}")
    move_replica(path, aside)
    rows, meta, unreadable = _readable(aside)
    with Replica(path) as fresh:
        fresh.restore_scans(rows)
        journaled = fresh.recover_from_journal()  # what the damaged pages held, if it had it
        for key, value in meta.items():
            fresh.set_meta(key, value)
        fresh.set_meta(REBUILD_PENDING, at)
    unsent = sum(1 for row in rows if not row[-1])
    log.error(
        "replica %s was damaged: moved to %s; %d scans kept (%d not yet uploaded), %d unreadable"
        ", %d more from its journal", path, aside, len(rows), unsent, unreadable, journaled,
    )  # fmt: skip
    return Salvaged(aside, len(rows), unsent, unreadable, journaled)


def stamp(now: datetime | None = None) -> str:
    """The time in the name of a file set aside, and in ``rebuild_pending``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def _readable(path: Path) -> tuple[list[tuple[Any, ...]], dict[str, str], int]:
    """The scan rows, the kept settings, and how many scan rows could not be read."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return [], {}, 0
    try:
        meta: dict[str, str] = {}
        for key in KEPT_META:
            try:
                row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                continue
            if row is not None:
                meta[key] = str(row[0])
        rows, lost = _scan_rows(db)
        return rows, meta, lost
    finally:
        db.close()


def _scan_rows(db: sqlite3.Connection) -> tuple[list[tuple[Any, ...]], int]:
    columns = SCAN_LOG_COLUMNS
    try:
        if "seq" not in {row[1] for row in db.execute("PRAGMA table_info(scans)")}:
            columns = columns.replace(" seq,", " NULL AS seq,")  # a file of schema 1
    except sqlite3.Error:
        pass
    select = f"SELECT {columns} FROM scans"
    try:
        return db.execute(f"{select} ORDER BY rowid").fetchall(), 0
    except sqlite3.Error:
        pass
    # A damaged page somewhere in the log: read it row by row, as far as the rowids go.
    rows, lost = [], 0
    for rowid in range(1, _highest_rowid(db) + 1):
        try:
            row = db.execute(f"{select} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.Error:
            lost += 1
            continue
        if row is not None:
            rows.append(row)
    return rows, lost


def _highest_rowid(db: sqlite3.Connection) -> int:
    try:
        row = db.execute("SELECT max(rowid) FROM scans").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        return 1_000_000  # not even that can be read: probe as far as a season's scans go


def rebuild(config: TerminalConfig) -> int:
    """Send the salvaged scans, then pull the whole feed; the changes pulled. Raises
    :class:`~scanner_app.sync.SyncError` when the server cannot be reached: the gate stays
    shut (it knows no right) until this succeeds."""
    from scanner_app.sync import client_for

    with Replica(config.replica_path) as replica, client_for(config, replica) as client:
        return rebuild_from(config, replica, client)


def rebuild_from(config: TerminalConfig, replica: Replica, client: SyncClient) -> int:
    """:func:`rebuild` on an open replica and client (the sync loop's): the server told of a
    lost replica (and asked how far it knows this device's records, to number on from there),
    the scans sent, the feed pulled to its head; then ``rebuild_pending`` is cleared."""
    why = replica.get_meta(LOST)
    if why:
        replica.raise_scan_seq(client.report_replica_lost(why))
        replica.delete_meta(LOST)
    client.push()
    pulled = client.pull()
    replica.set_meta(VENUE, config.venue)
    gate = replica.get_meta("gate_name") or config.gate
    if gate:
        replica.set_gate_name(gate)
    replica.delete_meta(REBUILD_PENDING)
    log.warning("replica %s rebuilt from the server: %d changes", config.replica_path, pulled)
    return pulled


def open_sound(config: TerminalConfig, *, rebuild_later: bool = False) -> list[str]:
    """What a gate process does at start, before it decides anything: SQLite's integrity check
    of its replica; a damaged one is salvaged and, on an enrolled gate, rebuilt from the server
    (also a rebuild left unfinished by an earlier start). Raises
    :class:`~scanner_app.replica.ReplicaError` (damaged, not enrolled) or
    :class:`~scanner_app.sync.SyncError` (the rebuild needs the server): the gate stays shut.
    ``rebuild_later``: leave the rebuild to the process's sync loop (the kiosk, which shows the
    controller it is shut meanwhile, and lets a supervisor open by hand). Returns what was
    done, in sentences for the terminal (also logged)."""
    from scanner_app.replica import ReplicaDamaged, ReplicaError

    said: list[str] = []
    enrolled = bool(config.server) and config.token_path.exists()
    if enrolled:
        why = lost(config)
        if why is not None:
            recovered = start_over(config, why)
            saved = (f"{recovered} scans it had not uploaded are recovered from its journal"
                    if recovered else "scans it had not uploaded are lost (its journal holds "
                    "none)")  # fmt: skip
            said.append(f"{why}: the file is kept aside, the server is told, and the gate is "
                        f"rebuilt from it; {saved}")  # fmt: skip
    if not config.replica_path.exists():
        return said
    try:
        with Replica(config.replica_path, check=True) as replica:
            pending = replica.get_meta(REBUILD_PENDING) is not None
    except ReplicaDamaged as exc:
        if not enrolled:
            raise ReplicaError(
                f"{exc}. It decides nothing: build a new one (gate-scanner seed-demo --force) or "
                "enroll this gate, which rebuilds it from the server"
            ) from exc
        kept = salvage(config.replica_path)
        said.append(
            f"{exc}: moved to {kept.aside.name}, {kept.scans} scans kept ({kept.unsent} not "
            f"uploaded yet, {kept.unreadable} unreadable), {kept.journaled} more from its "
            "journal; rebuilding from the server"
        )
        pending = True
    if pending and enrolled:
        if rebuild_later:
            said.append("the replica is rebuilt from the server as soon as it answers; until "
                        "then the gate admits nobody")  # fmt: skip
        else:
            pulled = rebuild(config)
            said.append(f"replica rebuilt from the server: {pulled} changes")
    return said


def lost(config: TerminalConfig) -> str | None:
    """Why an enrolled gate's replica is not its own (missing, empty, wiped, another gate's), or
    None. Such a file must never be taken for a fresh start: its unsent scans are gone."""
    path = config.replica_path
    if not path.exists():
        return "the replica file is missing"
    if path.stat().st_size == 0:
        return "the replica file is empty (0 bytes)"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
    except sqlite3.Error:
        return None  # damaged or not a replica: the integrity check says which
    if REBUILD_PENDING in meta:
        return None  # a rebuild under way: its scans are there
    gate, venue = meta.get("gate_name"), meta.get(VENUE)
    if gate is None:
        return "the replica holds no gate: a new or wiped file"
    if gate != config.gate or (venue is not None and venue != config.venue):
        return f"the replica is gate {venue or '?'}/{gate}'s, not {config.venue}/{config.gate}'s"
    return None


def start_over(config: TerminalConfig, why: str) -> int:
    """An enrolled gate whose replica is not its own: keep the file aside, begin a new one that
    says why (the server is told at the rebuild) and decides nothing until rebuilt, holding the
    scans its journal kept; returns how many."""
    path = config.replica_path
    at = stamp()
    move_replica(path, path.with_name(f"{path.name}.lost-{at}"))
    with Replica(path) as fresh:
        recovered = fresh.recover_from_journal()
        told = f"{why} ({recovered} unsent scans recovered from its journal)" if recovered else why
        fresh.set_meta(LOST, told)
        fresh.set_meta(REBUILD_PENDING, at)
    log.error("gate %s/%s: %s; starting over from the server", config.venue, config.gate, told)
    return recovered
