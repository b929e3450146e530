"""Database engine and sessions. SQLite (default) and PostgreSQL behave the same to the code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from sync_server.core.config import get_settings

IN_CHUNK = 900
"""Values per ``IN (...)`` list: under SQLite's default limit of bound parameters."""
READ_ONLY = "entrix_read_only"
PASSING_STATE = "entrix_passing_state"
"""A transaction that only writes state the next one replaces (a gate's heartbeat): on SQLite
its commit is not fsynced. WAL with ``synchronous=NORMAL`` still survives the process dying;
only a power cut can lose the last such commits, and the gate sends another heartbeat in 5 s."""


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # No ceiling on connections: a request holds its connection while it waits for a worker
        # thread, so a pool smaller than the thread pool can stall every request at once.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=20,
            max_overflow=-1,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # pysqlite's own transaction handling defers BEGIN; a writing transaction takes the write
        # lock at BEGIN instead, so that two writers serialise cleanly rather than failing on
        # lock upgrade. Sessions that only read say so (READ_ONLY) and take no lock.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # Readers must not queue behind writers (WAL lets them read a snapshot meanwhile).
            options = connection.get_execution_options()
            if options.get(READ_ONLY, False):
                connection.exec_driver_sql("BEGIN DEFERRED")
                return
            # Between transactions only: SQLite ignores this pragma inside one.
            passing = options.get(PASSING_STATE, False)
            connection.exec_driver_sql(f"PRAGMA synchronous={'NORMAL' if passing else 'FULL'}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        _refuse_writes_in_readers(engine)
        return engine
    # More connections than the 40 worker threads a process runs requests on (see above).
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)
    _refuse_writes_in_readers(engine)  # harmless on PostgreSQL, but the same code runs on SQLite
    return engine


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


def read_only(session: Session) -> Session:
    """Mark a fresh session as read-only: on SQLite it then takes no write lock."""
    session.connection(execution_options={READ_ONLY: True})
    return session


def passing_state(session: Session) -> Session:
    """Mark the session's next transaction as writing passing state only (see PASSING_STATE)."""
    session.connection(execution_options={PASSING_STATE: True})
    return session


@lru_cache
def get_read_sessionmaker() -> sessionmaker[Session]:
    """Sessions whose every transaction only reads, however many they begin."""
    return sessionmaker(get_engine().execution_options(**{READ_ONLY: True}), expire_on_commit=False)


WRITES = "entrix_writes"
"""Set on an endpoint that writes although it answers a GET (see :func:`writes`)."""
_WRITING = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})

E = TypeVar("E", bound=Callable[..., Any])


def writes(endpoint: E) -> E:
    """Mark a GET endpoint that writes (issuing a code audits it): its request's session starts
    each transaction as a writer, so that it never fails upgrading a read lock on SQLite."""
    setattr(endpoint, WRITES, True)
    return endpoint


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; GET and HEAD requests only read, unless marked :func:`writes`."""
    reading = request.method in ("GET", "HEAD") and not getattr(
        request.scope.get("endpoint"), WRITES, False
    )
    with (get_read_sessionmaker() if reading else get_sessionmaker())() as session:
        yield session


class WriteInReadOnly(RuntimeError):
    """A statement that writes ran in a transaction begun as a reader: on SQLite it can fail on
    the lock upgrade under load ("database is locked", at once). Mark the endpoint ``writes``."""


def _refuse_writes_in_readers(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY, False):
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if verb in _WRITING:
                raise WriteInReadOnly(
                    f"{verb} in a read-only transaction: mark the endpoint with db.writes"
                )
