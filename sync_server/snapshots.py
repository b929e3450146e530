"""Ready replicas of a venue's data, for a fresh or rebuilt gate to start from (issue 19).

A snapshot is a gate replica file (``scanner_app.replica``, this release's schema) holding what
the change feed says for one set of scopes (a venue and the global rows) and one protocol, up to
a known cursor. The feed stays the one source of truth: the snapshot is built by applying the
feed's own pages, exactly as a gate does, and a gate that installs it then follows the feed from
its cursor. Built once and kept (``<dir>/<key>/<cursor>.db`` with its zstd-compressed copy and
SHA-256), and brought forward in the background when the feed has moved on: a gate always gets
the newest complete one, never one being written. Several server processes share the directory:
a lock file keeps them from building the same snapshot twice at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import zstandard
from sqlalchemy.orm import Session

from scanner_app.replica import SCHEMA_VERSION, Replica
from sync_server.feed import current_seq, read_page

log = logging.getLogger(__name__)
PAGE = 10_000
REFRESH_AFTER = 1_000
"""Changes the feed may move past a snapshot before it is brought forward (a gate installing an
older one only pulls more of the feed afterwards: still right, a little slower)."""
PACKING = zstandard.ZstdCompressionParameters.from_level(
    9, window_log=27, enable_ldm=True, threads=-1
)
"""zstd 9 with long-distance matching over 128 MiB (what decompressors accept by default):
built once per venue, in the background, so the server spends CPU to save the gates' bytes."""
_building: set[str] = set()
_guard = threading.Lock()


@dataclass(frozen=True, slots=True)
class Snapshot:
    path: Path
    """The zstd-compressed replica file."""
    cursor: int
    sha256: str
    """Of the uncompressed file, as the gate checks it."""
    size: int
    """Bytes of the uncompressed file."""


def key_of(scopes: Sequence[str], not_sent: Collection[str], epoch: str) -> str:
    """The folder of one feed's snapshots: this schema, these scopes and kinds, this database's
    epoch (a restored database is another feed: its older snapshots are never served)."""
    text = f"v{SCHEMA_VERSION}|{','.join(sorted(scopes))}|{','.join(sorted(not_sent))}|{epoch}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def newest(folder: Path) -> Snapshot | None:
    """The newest complete snapshot in ``folder`` (its ``.zst``, ``.sha256`` and ``.size``)."""
    found = sorted(
        (int(p.name.split(".")[0]), p) for p in folder.glob("*.db.zst") if p.name[0].isdigit()
    )
    for cursor, path in reversed(found):
        meta = path.with_name(f"{cursor}.meta")
        if meta.exists():
            digest, size = meta.read_text(encoding="ascii").split()
            return Snapshot(path, cursor, digest, int(size))
    return None


def build(
    folder: Path,
    session_factory: Callable[[], Session],
    *,
    scopes: Sequence[str],
    not_sent: Collection[str],
) -> Snapshot:
    """Bring the folder's snapshot to the feed's head (from the newest one there, or from 0)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        start = newest(folder)
        work = folder / "building.db"
        with session_factory() as session:
            head = current_seq(session)
            if start is not None and start.cursor == head:
                return start  # another process brought it to the head meanwhile
            for leftover in folder.glob("building.db*"):
                leftover.unlink()
            if start is not None and (start.cursor > head or not _unpacked(start, work)):
                log.warning("snapshot %s at %d is damaged or ahead of the feed: rebuilt from "
                            "change 0", folder.name, start.cursor)  # fmt: skip
                work.unlink(missing_ok=True)
                start = None
            with Replica(work, journal=False) as replica:
                while replica.cursor < head:
                    batch = read_page(session, scopes=scopes, since=replica.cursor, limit=PAGE,
                                      not_sent=not_sent)  # fmt: skip
                    replica.apply_changes(batch)
                    if not batch.more:
                        break
                cursor = replica.cursor
                replica.seal()
        _tables_only(work)
        digest = hashlib.sha256()
        packed_path = folder / f"{cursor}.db.zst"
        with work.open("rb") as raw, packed_path.with_suffix(".part").open("wb") as out:
            writer = zstandard.ZstdCompressor(compression_params=PACKING).stream_writer(out)
            while chunk := raw.read(1 << 20):
                digest.update(chunk)
                writer.write(chunk)
            writer.flush(zstandard.FLUSH_FRAME)
        size = work.stat().st_size
        packed_path.with_suffix(".part").replace(packed_path)
        (folder / f"{cursor}.meta").write_text(f"{digest.hexdigest()} {size}\n", encoding="ascii")
        for leftover in folder.glob("building.db*"):
            leftover.unlink()
        kept = {cursor} if start is None else {cursor, start.cursor}  # and the one before it
        for older in folder.glob("*.db.zst"):  # (a gate may be finishing its download)
            number = int(older.name.split(".")[0])
            if number not in kept:
                older.unlink(missing_ok=True)
                older.with_name(f"{number}.meta").unlink(missing_ok=True)
        return Snapshot(packed_path, cursor, digest.hexdigest(), size)


def _tables_only(path: Path) -> None:
    """Drop the file's indexes and compact it: a gate copies the rows into its own replica,
    whose indexes are built as they come; here they would only cost bytes on the wire."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        names = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        for (name,) in names.fetchall():
            db.execute(f'DROP INDEX "{name}"')
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("VACUUM")


def _unpacked(snapshot: Snapshot, into: Path) -> bool:
    """Decompress ``snapshot`` into ``into``; False if it is not what its digest says."""
    digest = hashlib.sha256()
    try:
        with snapshot.path.open("rb") as packed, into.open("wb") as out:
            reader = zstandard.ZstdDecompressor().stream_reader(packed)
            while chunk := reader.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except zstandard.ZstdError:
        return False
    return digest.hexdigest() == snapshot.sha256


def refresh_soon(
    folder: Path,
    session_factory: Callable[[], Session],
    *,
    scopes: Sequence[str],
    not_sent: Collection[str],
) -> None:
    """Build or bring forward the folder's snapshot in a background thread (once at a time)."""
    with _guard:
        if str(folder) in _building:
            return
        _building.add(str(folder))

    def work() -> None:
        try:
            build(folder, session_factory, scopes=scopes, not_sent=not_sent)
        except Exception:
            log.exception("snapshot %s could not be built", folder.name)
            for leftover in folder.glob("building.db*"):
                leftover.unlink(missing_ok=True)
        finally:
            with _guard:
                _building.discard(str(folder))

    threading.Thread(target=work, name=f"snapshot-{folder.name}", daemon=True).start()
