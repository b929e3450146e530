"""The change feed under concurrent writers: a reader paging by cursor never skips a change.

Writers take their sequence numbers from one counter row and hold its lock until they commit
(``sync_server/feed.py``), so sequence order is commit order. Here threads commit, linger while
holding that lock, or roll back, while a reader pages through the feed into a real gate replica,
on PostgreSQL (where out-of-order commits are real) and on SQLite. The reader's sessions are
read-only, as the server's GET requests are: on SQLite they read a snapshot, never waiting for a
writer.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from scanner_app.replica import Replica
from shared.sync_schema import ChangeBatch, ZoneRow
from sync_server.db import make_engine, read_only
from sync_server.feed import Pending, current_seq, publish, read_page
from sync_server.migrate import upgrade
from sync_server.models import Change
from tests.support.postgres import PostgresCluster

SCOPE = "STRESS"
ELSEWHERE = "ELSEWHERE"
"""Another venue: its changes take sequence numbers too, but never reach this reader."""
WRITERS = 4
TRANSACTIONS = 60
PAGE = 5
"""Small pages, so that many end mid-stream (``more``) while writers are still at work."""
HANG_GUARD_S = 30.0


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def zone_change(key: str, scope: str = SCOPE) -> Pending:
    return Pending.upsert(ZoneRow(code=key, name=f"zone {key}"), scope)


@dataclass
class Ledger:
    """What the writers did, each entry recorded once its commit or rollback returned."""

    committed: set[str] = field(default_factory=set)
    rolled_back: set[str] = field(default_factory=set)
    lingered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, keys: list[str], *, committed: bool, lingered: bool) -> None:
        with self._lock:
            (self.committed if committed else self.rolled_back).update(keys)
            self.lingered += lingered


def write(engine: Engine, writer: int, ledger: Ledger) -> None:
    """Many small transactions; some linger holding the counter's lock, some roll back."""
    rng = random.Random(writer)
    with Session(engine) as session:
        for t in range(TRANSACTIONS):
            keys = [f"w{writer}-t{t}-{i}" for i in range(rng.randint(1, 3))]
            pending = [zone_change(key) for key in keys]
            if rng.random() < 0.2:
                pending.append(zone_change(f"x{writer}-t{t}", ELSEWHERE))
            publish(session, pending)
            lingered = rng.random() < 0.3
            if lingered:
                time.sleep(rng.uniform(0.001, 0.02))
            if rng.random() < 0.15:
                session.rollback()
                ledger.record(keys, committed=False, lingered=lingered)
            else:
                session.commit()
                ledger.record(keys, committed=True, lingered=lingered)


@dataclass
class Reading:
    """The pages a reader got (those that moved its cursor) and how many came during the writes."""

    pages: list[ChangeBatch] = field(default_factory=list)
    while_writing: int = 0


def drain(engine: Engine, replica: Replica) -> list[ChangeBatch]:
    """Page from the replica's cursor until the feed says there is no more; apply every page."""
    pages = []
    while True:
        with Session(engine) as session:
            read_only(session)
            batch = read_page(session, scopes=[SCOPE], since=replica.cursor, limit=PAGE)
        replica.apply_changes(batch)
        if batch.cursor != batch.since:
            pages.append(batch)
        if not batch.more:
            return pages


def follow(engine: Engine, replica_path: Path, writers_done: threading.Event) -> Reading:
    """Read the feed into a gate replica until the writers are done, then drain it once more."""
    reading = Reading()
    with Replica(replica_path) as replica:
        while True:
            last_round = writers_done.is_set()
            pages = drain(engine, replica)
            reading.pages += pages
            if last_round:
                return reading
            reading.while_writing += sum(1 for p in pages if p.changes)
            time.sleep(0.001)


def feed_seqs(engine: Engine, scope: str) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(select(Change.key, Change.seq).where(Change.scope == scope))
        return {key: seq for key, seq in rows}


def race(engine: Engine, replica_path: Path) -> tuple[Ledger, Reading]:
    ledger = Ledger()
    done = threading.Event()
    with ThreadPoolExecutor(WRITERS + 1) as pool:
        reader = pool.submit(follow, engine, replica_path, done)
        writers = [pool.submit(write, engine, w, ledger) for w in range(WRITERS)]
        try:
            for writer in writers:
                writer.result()
        finally:
            done.set()
        return ledger, reader.result()


def test_a_reader_racing_writers_gets_every_committed_change_once_in_order(
    engine: Engine, tmp_path: Path
) -> None:
    ledger, reading = race(engine, tmp_path / "gate.db")
    delivered = [c for page in reading.pages for c in page.changes]
    keys = [c.key for c in delivered]
    seqs = [c.seq for c in delivered]

    assert ledger.rolled_back and ledger.lingered, "the writers never rolled back or lingered"
    assert reading.while_writing > 0, "the reader never read while the writers were at work"
    assert len(keys) == len(set(keys)), "a change was delivered twice"
    assert seqs == sorted(set(seqs)), "sequence numbers went backwards or repeated"
    assert set(keys) == ledger.committed
    assert not set(keys) & ledger.rolled_back
    assert all(k.startswith("w") for k in keys), "another venue's change reached this reader"


def test_no_page_left_a_hole_that_a_later_commit_filled(engine: Engine, tmp_path: Path) -> None:
    """Each change sits in the page whose (since, cursor] range holds its final sequence number."""
    ledger, reading = race(engine, tmp_path / "gate.db")
    for page, following in zip(reading.pages, reading.pages[1:], strict=False):
        assert following.since == page.cursor
    for key, seq in feed_seqs(engine, SCOPE).items():
        page = next(p for p in reading.pages if p.since < seq <= p.cursor)
        assert key in {c.key for c in page.changes}, f"{key} (seq {seq}) came after its page"
    with Session(engine) as session:
        head = current_seq(session)
    with Replica(tmp_path / "gate.db") as replica:
        assert replica.cursor == reading.pages[-1].cursor == head
    with closing(sqlite3.connect(tmp_path / "gate.db")) as db:  # zone rows: the stress's changes
        codes = [code for (code,) in db.execute("SELECT code FROM zones")]
    stressed = {code for code in codes if code.startswith("w")}
    assert ledger.committed <= stressed


# -- why it matters: a later writer must not overtake one that holds its sequence number --------


def publish_and_commit(engine: Engine, key: str) -> int:
    with Session(engine) as session:
        seq = publish(session, [zone_change(key)])
        session.commit()
        return seq


def wait_until_blocked_or_done(engine: Engine, writer: Future[int]) -> None:
    """Until ``writer`` waits on a lock (as it must) or, were the feed broken, has committed."""
    deadline = time.monotonic() + HANG_GUARD_S
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    while not writer.done():
        with engine.connect() as connection:  # a fresh transaction: pg_stat_activity is snapshot
            if connection.execute(query).scalar_one() > 0:
                return
        if time.monotonic() > deadline:
            pytest.fail("the second writer neither waited on a lock nor committed")
        time.sleep(0.01)


def everything_since(engine: Engine, since: int) -> ChangeBatch:
    with Session(engine) as session:
        read_only(session)
        return read_page(session, scopes=[SCOPE], since=since, limit=1_000)


def test_a_later_writer_cannot_overtake_one_holding_its_sequence(
    postgres: PostgresCluster,
) -> None:
    """PostgreSQL only: on SQLite a writer's ``BEGIN IMMEDIATE`` shuts every other writer out for
    its whole transaction, so a second writer cannot even take its number early.

    The first writer takes its sequence number and lingers before committing; a second writer
    tries to publish and commit meanwhile. Were the second allowed to commit first, a reader
    would move its cursor past the first writer's number and never see that change.
    """
    engine = make_engine(postgres.create_database("feed_overtake"))
    upgrade(engine.url.render_as_string(hide_password=False))
    try:
        with Session(engine) as session:
            start = current_seq(session)
        with Session(engine) as first, ThreadPoolExecutor(1) as pool:
            publish(first, [zone_change("first")])
            second = pool.submit(publish_and_commit, engine, "second")
            wait_until_blocked_or_done(engine, second)
            while_first_lingers = everything_since(engine, start)
            first.commit()
            second_seq = second.result()
        after = everything_since(engine, start)
    finally:
        engine.dispose()

    assert while_first_lingers.changes == []
    assert while_first_lingers.cursor == start
    assert [(c.key, c.seq) for c in after.changes] == [("first", start + 1), ("second", start + 2)]
    assert second_seq == after.cursor == start + 2
