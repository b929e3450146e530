"""Open event streams, and the credentials they stand on (issue 15).

A gate's stream (``/gate/stream``) and a dashboard's (``/dashboard/stream``) last for hours: the
server must not let one credential hold hundreds of them (each is a socket and a task), nor keep
streaming to a revoked device or to a session whose user signed out or changed password.

Every stream takes a :class:`Ticket` for its credential (a device id, a web session id): beyond
``limit`` open at once per credential, the next is refused (429). One task per server process
checks, every ``check_s``, which of the credentials behind open streams are still good, in one
query per kind, and ends the streams of those that are not: within a few seconds of a
revocation or a password change, whichever process it happened in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from sync_server.db import IN_CHUNK
from sync_server.models import Device, User, WebSession

log = logging.getLogger(__name__)
T = TypeVar("T")

DEVICE = "device"
WEB_SESSION = "session"
CHECK_S = 2.0


class TooManyStreams(Exception):
    """This credential already holds as many open streams as it may."""


@dataclass(eq=False)
class Ticket:
    kind: str
    key: int
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class Streams:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        limit: int,
        check_s: float = CHECK_S,
    ) -> None:
        self._sessions = sessions
        self.limit = limit
        self._check_s = check_s
        self._open: dict[tuple[str, int], set[Ticket]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def open(self, kind: str, key: int) -> Ticket:
        held = self._open[(kind, key)]
        if len(held) >= self.limit:
            raise TooManyStreams(
                f"this {'device' if kind == DEVICE else 'session'} already has {len(held)} "
                f"event streams open (at most {self.limit})"
            )
        ticket = Ticket(kind, key)
        held.add(ticket)
        return ticket

    def close(self, ticket: Ticket) -> None:
        held = self._open.get((ticket.kind, ticket.key))
        if held is not None:
            held.discard(ticket)
            if not held:
                del self._open[(ticket.kind, ticket.key)]

    def count(self) -> int:
        return sum(len(held) for held in self._open.values())

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._check_s)
            try:
                await self.check()
            except Exception:  # a database hiccup must not end the checks for good
                log.exception("checking the event streams' credentials failed")

    async def check(self) -> None:
        """End the streams whose credential is no longer good."""
        keys: dict[str, list[int]] = defaultdict(list)
        for kind, key in list(self._open):
            keys[kind].append(key)
        if not keys:
            return
        good = await run_in_threadpool(self._still_good, dict(keys))
        for (kind, key), held in list(self._open.items()):
            if key not in good.get(kind, set()):
                for ticket in held:
                    ticket.ended.set()

    def _still_good(self, keys: dict[str, list[int]]) -> dict[str, set[int]]:
        now = datetime.now(UTC)
        good: dict[str, set[int]] = {}
        with self._sessions() as session:
            if DEVICE in keys:
                good[DEVICE] = set(
                    _chunked(session, keys[DEVICE], lambda ids: select(Device.id).where(
                        Device.id.in_(ids), Device.revoked_at.is_(None)))
                )  # fmt: skip
            if WEB_SESSION in keys:
                good[WEB_SESSION] = set(
                    _chunked(session, keys[WEB_SESSION], lambda ids: select(WebSession.id)
                             .join(User, User.id == WebSession.user_id)
                             .where(WebSession.id.in_(ids), WebSession.expires_at > now,
                                    User.disabled.is_(False)))
                )  # fmt: skip
        return good


def _chunked(
    session: Session, ids: list[int], query: Callable[[list[int]], Select[int]]
) -> Iterable[int]:
    for start in range(0, len(ids), IN_CHUNK):
        yield from session.scalars(query(ids[start : start + IN_CHUNK]))


def open_stream(request: Request, kind: str, key: int) -> Ticket:
    """A ticket from the app's :class:`Streams` for this credential, or 429 when it holds as
    many streams as it may."""
    try:
        ticket: Ticket = request.app.state.streams.open(kind, key)
    except TooManyStreams as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            str(exc),
            # Closed at once: a flood of refused streams must not keep a descriptor each.
            headers={"Retry-After": "15", "Connection": "close"},
        ) from exc
    return ticket


async def unless_ended(ticket: Ticket, waiting: Coroutine[Any, Any, T]) -> T | None:
    """``waiting``'s result, or None if the ticket ends first (``waiting`` is then cancelled)."""
    task = asyncio.ensure_future(waiting)
    ender = asyncio.ensure_future(ticket.ended.wait())
    await asyncio.wait({task, ender}, return_when=asyncio.FIRST_COMPLETED)
    for other in (task, ender):
        if not other.done():
            other.cancel()
    if ticket.ended.is_set():
        return None
    return task.result()
