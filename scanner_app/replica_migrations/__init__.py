"""The replica's schema, as versioned steps: a gate's file is migrated when it opens, scans kept.

A gate in the field holds its unsent scans in its replica, so a software update must take the
file as it finds it. ``PRAGMA user_version`` is the number of the last step applied; a file
opens by applying each later step in order, **each step and its version number in one
transaction** (a step killed half-way leaves the file at the step before, and the next open
tries again). Steps are never edited once released: a test holds each shipped step to its
checksum (``SHIPPED``). To change the schema, add a step:

- ``sql``: a file of statements beside this module, ``vNNNN_what.sql`` for step NNNN, found by
  its name (``ALTER TABLE ... ADD COLUMN``, a new table or index; its first line a comment saying
  what it does); the statements run one by one inside the step's transaction (never
  ``executescript``, which commits first);
- ``run`` (a :data:`PYTHON_STEPS` entry): a function of the connection, for a step that
  computes, or rebuilds a table where ``ADD COLUMN`` is not enough. Note: ``sqlite-utils``'
  ``Table.transform()`` (4.2) nests in the step's transaction (as a savepoint) and keeps STRICT,
  but rebuilds a table without ``WITHOUT ROWID``, which rights, revocations and usage are: for
  those, write the rebuild by hand (create, copy, drop, rename, indexes);
- ``resync=True`` (a line ``-- resync`` in its file) when the step cannot carry the server's
  data over (a new column the server must fill): after the step, every table the feed alone
  writes is emptied and the cursor set to 0, so the gate pulls everything again; **the scan log
  stays as it is** (unsent scans stay unsent, sent ones are not sent again), and so do the usage
  and head counts the gate's own scans moved (:data:`KEPT_BY_RESYNC`). Until the pull is done
  the gate refuses what it cannot check (no rights, no keys), as an empty replica does.

A file whose version is newer than this software's last step is refused untouched (an older
release installed over a newer one): it says which version to install.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

KEPT_BY_RESYNC = ("meta", "scans", "usage", "occupancy")
"""What a resync step keeps: the gate's own settings and scan log, and the usage and head counts
its scans moved (the server does not know those of unsent scans yet: without them, a ticket
admitted offline could be admitted again). Every other table holds only what the server's feed
sent, and is emptied. A step that changes one of these tables carries its rows over itself."""


class MigrationError(Exception):
    """The file cannot be brought to this software's schema (newer, foreign, a failed step)."""


@dataclass(frozen=True)
class Step:
    version: int
    """``user_version`` once the step is applied."""
    summary: str
    sql: str = ""
    """A file beside this module; or ``run``."""
    run: Callable[[sqlite3.Connection], None] | None = None
    resync: bool = False

    def statements(self) -> list[str]:
        if not self.sql:
            return []
        text = resources.files(__name__).joinpath(self.sql).read_text(encoding="utf-8")
        return split_statements(text)

    def checksum(self) -> str:
        """Of the step's statements (comments and layout aside): what a released step keeps."""
        return hashlib.sha256("\n".join(self.statements()).encode()).hexdigest()[:16]

    def apply(self, db: sqlite3.Connection) -> None:
        for statement in self.statements():
            db.execute(statement)
        if self.run is not None:
            self.run(db)


PYTHON_STEPS: Sequence[Step] = ()
"""Steps that compute (``run``), with or without a file of statements; none yet."""


def _sql_steps() -> list[Step]:
    """A file ``vNNNN_name.sql`` beside this module is step NNNN: its first comment line says
    what it does, and a line ``-- resync`` makes it a resync step."""
    steps = []
    for entry in resources.files(__name__).iterdir():
        found = re.fullmatch(r"v(\d{4})_\w+\.sql", entry.name)
        if not found:
            continue
        lines = entry.read_text(encoding="utf-8").splitlines()
        summary = lines[0].removeprefix("--").strip() if lines else entry.name
        resync = any(line.strip().lower() == "-- resync" for line in lines)
        steps.append(Step(int(found.group(1)), summary, sql=entry.name, resync=resync))
    return steps


def _all_steps() -> tuple[Step, ...]:
    by_version: dict[int, Step] = {}
    for step in (*_sql_steps(), *PYTHON_STEPS):
        if step.version in by_version:
            raise MigrationError(f"two replica schema steps are numbered {step.version}")
        by_version[step.version] = step
    return tuple(by_version[v] for v in sorted(by_version))


STEPS: Sequence[Step] = _all_steps()
"""Every step, in order (a test checks they run 1, 2, 3...). The last one's version is the
schema this software writes."""

SHIPPED = {1: "02b338b07854622e"}
"""Checksums of the steps released to gates: tests refuse a change to any of them."""


def latest(steps: Sequence[Step] = STEPS) -> int:
    return steps[-1].version


def split_statements(text: str) -> list[str]:
    """SQL statements of a file: ``--`` comments dropped, split on ``;``."""
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


@dataclass(frozen=True)
class Migrated:
    before: int
    after: int
    resync: bool
    """A step emptied the replicated data: the next pull starts from change 0."""


def migrate(db: sqlite3.Connection, *, name: str, steps: Sequence[Step] = STEPS) -> Migrated:
    """Bring the open file (``isolation_level=None``) to the last step; ``name`` for messages."""
    version = before = int(db.execute("PRAGMA user_version").fetchone()[0])
    newest = latest(steps)
    if version > newest:
        raise MigrationError(
            f"{name} has replica schema {version}, newer than this software's {newest}: it was "
            "written by a later release of Entrix Gate. Install that release (or a newer one); "
            "the file is left as it is, with its scans"
        )
    if version == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise MigrationError(f"{name} holds tables but no replica schema: not a gate replica")
    resync = False
    for step in steps:
        if step.version <= version:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            step.apply(db)
            if step.resync and before > 0:  # a new file has nothing to pull again
                _empty_for_resync(db)
                resync = True
            db.execute(f"PRAGMA user_version={int(step.version)}")
        except BaseException as exc:
            db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise MigrationError(
                    f"{name}: replica schema step {step.version} ({step.summary}) failed: {exc}; "
                    f"the file stays at schema {version}, scans included"
                ) from exc
            raise
        db.execute("COMMIT")
        version = step.version
    return Migrated(before=before, after=version, resync=resync)


def _empty_for_resync(db: sqlite3.Connection) -> None:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        if table not in KEPT_BY_RESYNC and not table.startswith("sqlite_"):
            db.execute(f'DELETE FROM "{table}"')  # noqa: S608 - names from the file's own schema
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', '0')")
    row = db.execute("SELECT value FROM meta WHERE key = 'config_version'").fetchone()
    bumped = str(int(row[0]) + 1 if row else 1)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('config_version', ?)", (bumped,))
