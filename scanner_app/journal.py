"""The journal: a second durable copy of the scans a gate has not uploaded yet (issue 14).

Beside the replica (``gate.db.journal``), one JSON line per record of the scan log, appended and
fsync'ed right after the replica's own commit, before the turnstile moves. The replica is the
truth; the journal is what is left when the replica is not: a file wiped, truncated, damaged,
or put back from an older copy. At start (:mod:`scanner_app.salvage`) and when the server says
the replica is behind, every journaled record the replica lacks is put back, not yet uploaded;
the server keeps each scan's UUID once, so one sent twice costs nothing.

It holds only what is unsent: once nothing is waiting, it is emptied (in place, under the same
lock the writers take: a record committed to the replica but not journaled yet keeps it from
being emptied, since it counts as waiting). A line cut short by a power cut is the last one and
is skipped. The journal never decides anything; the replica does.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.gate_wire import ScanIn
from shared.model import ScanRecord

log = logging.getLogger(__name__)

SUFFIX = ".journal"
COMPACT_BYTES = 4 * 1024 * 1024
"""A journal beyond this (some 10,000 records) is compacted to what is still waiting, even while
something is (a gate offline for a whole match)."""


def journal_path(replica: Path) -> Path:
    return replica.with_name(replica.name + SUFFIX)


class Journal:
    """The journal of one replica file. Appends from several processes are safe (O_APPEND and
    a lock); one open per replica connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def _locked(self) -> Iterator[int]:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def append(self, record: ScanRecord) -> None:
        """One record, on disk when this returns (raises OSError when it cannot be)."""
        with self._locked() as fd:
            os.write(fd, _line(record))
            os.fsync(fd)

    def records(self) -> list[ScanRecord]:
        """Every whole record in the journal, oldest first (a torn last line left out)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        kept = []
        for number, line in enumerate(data.splitlines(), 1):
            try:
                kept.append(ScanIn.model_validate_json(line).to_record())
            except ValueError:
                log.warning("%s: line %d is not a whole record; skipped", self.path, number)
        return kept

    def compact(self, waiting: Callable[[], set[str]]) -> int:
        """Keep only the records still waiting (``waiting()``: their scan ids, read under the
        lock); returns how many are kept. Nothing written when the journal is empty already."""
        try:
            if self.path.stat().st_size == 0:
                return 0
        except FileNotFoundError:
            return 0
        with self._locked() as fd:
            pending = waiting()
            kept = [r for r in self.records() if r.scan_id in pending] if pending else []
            os.ftruncate(fd, 0)
            if kept:
                os.write(fd, b"".join(_line(r) for r in kept))
            os.fsync(fd)
            return len(kept)

    def oversized(self) -> bool:
        try:
            return self.path.stat().st_size > COMPACT_BYTES
        except FileNotFoundError:
            return False


def _line(record: ScanRecord) -> bytes:
    """A record as it is uploaded (:class:`~shared.gate_wire.ScanIn`), on one line."""
    return ScanIn.from_record(record).model_dump_json().encode() + b"\n"
