"""Keeps this process's dashboard streams fresh, with the database as the only truth.

Like :class:`~sync_server.feed_watch.FeedWatch`, each process polls a cheap change marker; when
it moves (a scan, a heartbeat, an alert, an acknowledgement, made by any process), the process
renders the live sections once and wakes every page it serves. Nothing is polled while no page
is connected, and pages are refreshed every few seconds anyway (heartbeat ages move on their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from sync_server.dashboard import render, snapshot
from sync_server.db import read_only

log = logging.getLogger("entrix.server.dashboard")
POLL_S = 1.0
REFRESH_S = 5.0


class DashboardLive:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        silent_after_s: int,
        poll_s: float = POLL_S,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._silent_after_s = silent_after_s
        self._poll_s = poll_s
        self._refresh_s = refresh_s
        self._clock = clock
        self._marker: tuple[object, ...] | None = None
        self._built_at = -1e9
        self._changed = asyncio.Condition()
        self._build_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.listeners = 0
        self.version = 0
        self.payload = ""
        """JSON: ``{"parts": {id: html}, "at": "..."}``, the same for every page."""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dashboard-live")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _read(self, marker_only: bool) -> tuple[tuple[object, ...], str | None]:
        with self._sessions() as session:
            read_only(session)
            marker = snapshot.change_marker(session)
            if marker_only and marker == self._marker:
                return marker, None
            snap = snapshot.take(session, silent_after_s=self._silent_after_s)
        body = {"parts": render.live_parts(snap), "at": render.clock(snap.taken_at)}
        return marker, json.dumps(body)

    async def refresh(self, *, force: bool = False) -> None:
        """Rebuild the payload if the marker moved (or it is old, or ``force``); wake streams."""
        async with self._build_lock:
            stale = self._clock() - self._built_at >= self._refresh_s
            marker, payload = await asyncio.to_thread(self._read, not (force or stale))
            if payload is None:
                return
            self._marker, self.payload = marker, payload
            self._built_at = self._clock()
            self.version += 1
        async with self._changed:
            self._changed.notify_all()

    async def current(self) -> tuple[int, str]:
        """The latest payload, rebuilt first if it is older than one poll (nobody was watching)."""
        if self._clock() - self._built_at > self._poll_s:
            await self.refresh(force=True)
        return self.version, self.payload

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            if not self.listeners:
                continue
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not kill the watcher
                log.warning("cannot refresh the dashboard; retrying", exc_info=True)

    async def wait_beyond(self, version: int, timeout_s: float) -> int:
        """The version once it is beyond ``version``, or the current one after ``timeout_s``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.version > version), timeout=timeout_s
                )
        return self.version
