"""Back-office imports of rights, off the event loop and in short transactions (issue 15).

The landed release parsed, validated and wrote a 200,000-row import inside the server's event
loop and in one transaction: every gate's scan upload waited 17.6 s. Now an import is a job
(:class:`~sync_server.models.ImportJob`): its body is streamed to a temporary file as it arrives
(refused past the size limit without being read whole), then a process of its own (a thread
of the server would still take the interpreter's lock from the gates' requests for seconds at a
time: heartbeats waited up to 4 s in ``bench.import_load``; its memory is its own too) reads it
row by row
and checks every row against the database **reading only**; a bad row refuses the whole import
(nothing written, the first :data:`ERRORS_KEPT` bad rows reported, each message cut short). A
valid import is then written :data:`CHUNK` rights per transaction, each published to the gates
as it commits, so that SQLite's write lock is never held for long and the gates' heartbeats and
uploads pass between two chunks. The job records its progress; ``GET /api/v1/jobs/{id}`` reads it.

Once validated, an import is all written unless the server stops (or another import sells one
of its secrets in between): the job then says ``failed`` and how many rights it had written.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync_server import roles
from sync_server.db import get_read_sessionmaker, get_sessionmaker
from sync_server.errors import Invalid
from sync_server.models import ImportJob, User, UserVenue, Venue
from sync_server.schemas import ImportReport, RowError
from sync_server.services import rights
from sync_server.services.writes import commit

log = logging.getLogger(__name__)

CHUNK = 500
"""Rights written per transaction: some 25 ms of SQLite's write lock here."""
MIN_PAUSE_S = 0.03
ERRORS_KEPT = 200
IDS_LISTED = 10_000
"""A report lists the new rights' ids for an import of up to this many rows."""
RUNNING = ("queued", "validating", "writing")
NICENESS = 10
"""The import process yields the CPU to the server's own work (the gates) when both want it."""


def new_job(*, actor: str, content_type: str) -> str:
    job_id = uuid.uuid4().hex
    with get_sessionmaker()() as session:
        session.add(ImportJob(id=job_id, actor=actor, content_type=content_type[:40]))
        session.commit()
    return job_id


def _set(job_id: str, **values: Any) -> None:
    with get_sessionmaker()() as session:
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**values))
        session.commit()


def run(
    job_id: str, path: Path, *, content_type: str, actor: str, remote_addr: str
) -> ImportReport:
    """Validate, then write the import in ``path`` (deleted afterwards); the job says how it
    went at every step. Runs in a worker thread, never on the event loop."""
    try:
        return _run(job_id, path, content_type=content_type, actor=actor, remote_addr=remote_addr)
    except Invalid as exc:
        _set(job_id, state="refused", message=str(exc)[:500], finished_at=datetime.now(UTC))
        raise
    except Exception as exc:
        log.exception("import %s failed", job_id)
        _set(job_id, state="failed", message=f"{type(exc).__name__}: {str(exc)[:300]}",
             finished_at=datetime.now(UTC))  # fmt: skip
        raise
    finally:
        path.unlink(missing_ok=True)


def _run(
    job_id: str, path: Path, *, content_type: str, actor: str, remote_addr: str
) -> ImportReport:
    if path.stat().st_size == 0:
        raise Invalid("empty import")
    _set(job_id, state="validating")
    with path.open("rb") as source, get_read_sessionmaker()() as reading:
        checked = rights.validate_import(
            reading,
            rights.read_rows(source, content_type),
            progress=lambda done: _set(job_id, rows=done),
            venues=_scope(reading, actor),
        )
    if checked.errors:
        kept = [_short(e) for e in checked.errors[:ERRORS_KEPT]]
        _set(job_id, state="refused", rows=checked.rows, error_count=len(checked.errors),
             errors=[e.model_dump() for e in kept], finished_at=datetime.now(UTC),
             message=f"{len(checked.errors)} bad rows: nothing imported")  # fmt: skip
        return ImportReport(imported=0, errors=kept, error_count=len(checked.errors), job=job_id)
    _set(job_id, state="writing", rows=checked.rows)
    prepared = checked.prepared
    written = 0
    for start in range(0, len(prepared), CHUNK):
        chunk = prepared[start : start + CHUNK]
        began = time.monotonic()
        with get_sessionmaker()() as session:
            checked.catalogue.session = session  # the reading one is closed (its rows stay)
            pending = rights.insert_rights(session, chunk, checked.catalogue)
            written += len(chunk)
            session.execute(
                update(ImportJob).where(ImportJob.id == job_id).values(imported=written)
            )
            commit(session, pending=pending)
            _checkpoint(session)
        # A polite writer: as long again without the lock. SQLite's waiters poll it (sleeping
        # up to 100 ms between tries): an import that takes it back at once starves them.
        time.sleep(max(MIN_PAUSE_S, time.monotonic() - began))
    ids = [row["id"].hex() for row, _ in prepared] if len(prepared) <= IDS_LISTED else []
    with get_sessionmaker()() as session:
        session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(state="done", finished_at=datetime.now(UTC), message=f"{written} imported",
                    right_ids=ids)
        )  # fmt: skip
        commit(session, actor=actor, action="rights.import", target=f"{written} rights",
               detail={"rows": checked.rows, "content_type": content_type, "job": job_id},
               remote_addr=remote_addr)  # fmt: skip
    return ImportReport(imported=written, errors=[], right_ids=ids, job=job_id)


def _scope(session: Session, actor: str) -> frozenset[str] | None:
    """The venues whose events the importing account may give tickets for (None: all)."""
    user = session.scalar(select(User).where(User.name == actor))
    if user is None or user.role != roles.VENUE_ADMIN:
        return None
    return frozenset(
        session.scalars(
            select(Venue.code)
            .join(UserVenue, UserVenue.venue_id == Venue.id)
            .where(UserVenue.user_id == user.id)
        )
    )


def run_in_process(
    job_id: str, path: Path, *, content_type: str, actor: str, remote_addr: str
) -> ImportReport:
    """:func:`run` in a child process (``python -m sync_server.services.imports``), which ends
    with the server if the server ends first; the report, read back from the job."""
    command = [
        sys.executable,
        "-m",
        "sync_server.services.imports",
        job_id,
        str(path),
        "--content-type",
        content_type,
        "--actor",
        actor,
        "--remote-addr",
        remote_addr,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          preexec_fn=_end_with_parent)  # fmt: skip
    if done.returncode not in (0, 1) and done.stderr:
        log.error("import %s: %s", job_id, done.stderr[-2000:])
    with get_read_sessionmaker()() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        if job.state in RUNNING:  # the child died without a word
            job_state, message = "failed", f"the import process ended ({done.returncode})"
            _set(job_id, state=job_state, message=message, finished_at=datetime.now(UTC))
            raise RuntimeError(message)
        if job.state == "refused" and not job.error_count:
            raise Invalid(job.message)
        if job.state == "failed":
            raise RuntimeError(job.message)
        return ImportReport(
            imported=job.imported, errors=list(job_errors(job)), error_count=job.error_count,
            right_ids=list(job.right_ids or []), job=job_id,
        )  # fmt: skip


def _end_with_parent() -> None:
    """In the child, before it runs: the gates' requests first (a lower CPU priority), and
    SIGTERM when the server process dies (Linux)."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync_server.services.imports")
    parser.add_argument("job")
    parser.add_argument("path", type=Path)
    parser.add_argument("--content-type", default="text/csv")
    parser.add_argument("--actor", required=True)
    parser.add_argument("--remote-addr", default="")
    args = parser.parse_args(argv)
    try:
        run(args.job, args.path, content_type=args.content_type, actor=args.actor,
            remote_addr=args.remote_addr)  # fmt: skip
    except Invalid:
        return 1  # the job says why
    return 0


def _checkpoint(session: Session) -> None:
    """On SQLite, copy what this chunk wrote from the WAL into the database now, here: else the
    WAL grows by megabytes a chunk and the gates' own commits pay for checkpointing it."""
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        return
    raw = engine.engine.raw_connection()  # outside any transaction: a checkpoint cannot be in one
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def _short(error: RowError) -> RowError:
    return RowError(row=error.row, message=error.message[: rights.EXCERPT], problems=error.problems)


def forget_interrupted() -> int:
    """Jobs a stopped server left running: failed, saying so (called at start)."""
    with get_sessionmaker()() as session:
        done = session.execute(
            update(ImportJob)
            .where(ImportJob.state.in_(RUNNING))
            .values(
                state="failed",
                message="the server stopped during the import",
                finished_at=datetime.now(UTC),
            )
        )
        session.commit()
        return int(getattr(done, "rowcount", 0) or 0)


def spool_path() -> Path:
    """A new private (0600) temporary file for an import's body."""
    fd, name = tempfile.mkstemp(prefix="entrix-import-", suffix=".part")
    os.close(fd)
    return Path(name)


def job_errors(job: ImportJob) -> Sequence[RowError]:
    return [RowError.model_validate(e) for e in job.errors or []]


if __name__ == "__main__":
    sys.exit(main())
