"""The change feed: what gates pull. Writers publish; readers page through it by cursor.

Correctness under concurrent writers rests on one rule: a writer takes its sequence numbers from
the single :class:`FeedCounter` row, last thing before it commits, and holds that row's lock until
commit. Sequence order is therefore commit order, and a reader that reads the counter first, then
the changes up to it, can never see change n+1 without change n (PostgreSQL's out-of-order commits
included). The feed is compacted: a row changed again moves to a new sequence number.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.sync_schema import ChangeBatch, ChangeKind, _Row, replicated
from sync_server.models import Change, FeedCounter

GLOBAL_SCOPE = "*"


@dataclass(frozen=True, slots=True)
class Pending:
    """A change to publish: an upsert of ``row`` or, with ``row`` None, a delete of ``key``."""

    kind: ChangeKind
    key: str
    scope: str
    data: dict[str, Any] | None

    @classmethod
    def upsert(cls, row: _Row, scope: str) -> Pending:
        spec = replicated(row)
        data = row.model_dump(mode="json")
        return cls(spec.kind, spec.key_of(data), scope, data)

    @classmethod
    def delete(cls, kind: ChangeKind, key: str, scope: str) -> Pending:
        return cls(kind, key, scope, None)


def publish(session: Session, changes: Sequence[Pending]) -> int:
    """Give ``changes`` their sequence numbers and write them; the caller commits right after.

    Returns the last sequence number. Call it last in the transaction: the counter's row lock is
    held from here until commit, serialising writers only for that short while.
    """
    if not changes:
        return current_seq(session)
    last = session.execute(
        update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(value=FeedCounter.value + len(changes))
        .returning(FeedCounter.value)
    ).scalar_one()
    first = last - len(changes) + 1
    # Within one page a row may change twice; the later change wins, as it would across pages.
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for i, c in enumerate(changes):
        latest[(c.kind.value, c.scope, c.key)] = {
            "kind": c.kind.value,
            "key": c.key,
            "seq": first + i,
            "scope": c.scope,
            "op": "delete" if c.data is None else "upsert",
            "data": c.data,
        }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Change.metadata.tables[Change.__tablename__])
    statement = statement.on_conflict_do_update(
        index_elements=[Change.kind, Change.scope, Change.key],
        set_={
            "seq": statement.excluded.seq,
            "op": statement.excluded.op,
            "data": statement.excluded.data,
        },
    )
    # One Core statement, many parameter sets (executemany): compiled once. A multi-row VALUES
    # is compiled afresh for every chunk, which took half of a 100,000-right import.
    session.execute(statement, list(latest.values()))
    return int(last)


def head_and_epoch(session: Session) -> tuple[int, str]:
    """The feed's latest sequence number and the database's epoch (see FeedCounter.epoch)."""
    value, epoch = session.execute(
        select(FeedCounter.value, FeedCounter.epoch).where(FeedCounter.id == 1)
    ).one()
    return int(value or 0), str(epoch)


def new_epoch(session: Session) -> str:
    """Give the database a new epoch (after a restore); the caller commits."""
    epoch = secrets.token_hex(16)
    session.execute(update(FeedCounter).where(FeedCounter.id == 1).values(epoch=epoch))
    return epoch


def current_seq(session: Session) -> int:
    value = session.execute(select(FeedCounter.value).where(FeedCounter.id == 1)).scalar()
    return int(value or 0)


def read_page(
    session: Session,
    *,
    scopes: Sequence[str],
    since: int,
    limit: int,
    not_sent: Collection[str] = (),
) -> ChangeBatch:
    """The changes after ``since`` that concern ``scopes``, oldest first, at most ``limit``."""
    return ChangeBatch.model_validate_json(
        read_page_json(session, scopes=scopes, since=since, limit=limit, not_sent=not_sent)
    )


def read_page_json(
    session: Session,
    *,
    scopes: Sequence[str],
    since: int,
    limit: int,
    not_sent: Collection[str] = (),
) -> bytes:
    """The page as the JSON of a :class:`ChangeBatch`, built from the stored JSON text.

    The counter is read first; only changes up to it are returned, all of them committed. A page
    that is not full ends at the counter, so a gate's cursor moves past other sites' changes.
    The rows' data are copied as stored (they were validated when published): decoding and
    re-encoding them cost more than the query for a gate's first sync of a million rights.
    ``not_sent``: kinds left out (what the gate's protocol does not read); the cursor still
    moves past them.
    """
    head = current_seq(session)
    query = select(Change.seq, Change.kind, Change.op, Change.key, cast(Change.data, Text)).where(
        Change.seq > since, Change.seq <= head, Change.scope.in_(scopes)
    )
    if not_sent:
        query = query.where(Change.kind.not_in(sorted(not_sent)))
    rows = session.execute(query.order_by(Change.seq).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1][0] if more else max(head, since)
    changes = ",".join(
        f'{{"seq":{seq},"kind":{json.dumps(kind)},"op":{json.dumps(op)},'
        f'"key":{json.dumps(key)},"data":{data if data is not None else "null"}}}'
        for seq, kind, op, key, data in rows
    )
    more_text = "true" if more else "false"
    page = f'{{"since":{since},"cursor":{cursor},"more":{more_text},"changes":[{changes}]}}'
    return page.encode("utf-8")
