"""Keeps this process's dashboard streams fresh, with the database as the only truth.

Like :class:`~sync_server.feed_watch.FeedWatch`, each process polls a cheap change marker; when
it moves (a scan, a heartbeat, an alert, an acknowledgement, made by any process), the process
renders the live sections once and wakes every page it serves. Nothing is polled while no page
is connected, and pages are refreshed every few seconds anyway (a gate goes offline by silence).

Each build is a numbered :class:`LiveView`: every live section in full, and what changed since the
build before it (the gate tiles that moved, the other sections only if they changed). A stream
that saw the previous build gets the change; one that fell behind gets everything.

A build is rendered for each :data:`Audience` some page asked for: a language, and the venues
the reader is confined to (``sync_server.roles``: a club's venue admin or supervisor sees its
own venues only; None: every venue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from shared.i18n import DEFAULT_LANGUAGE, Language
from sync_server import localtime
from sync_server.dashboard import render, snapshot
from sync_server.dashboard.snapshot import Snapshot, scoped
from sync_server.db import read_only
from sync_server.wakeup import Wakeup

log = logging.getLogger("entrix.server.dashboard")
POLL_S = 1.0
REFRESH_S = 5.0


EMPTY = '{"parts": {}, "tiles": {}}'
Audience = tuple[Language, frozenset[str] | None]
"""Who a rendering is for: the page's language and the reader's venues (None: every venue)."""
EVERYONE: Audience = (DEFAULT_LANGUAGE, None)


@dataclass(frozen=True, slots=True)
class LiveView:
    """One build of the live sections, the same for every page of one audience (a language, a
    scope). Only the audiences some page asked for are rendered (``DashboardLive.audiences``)."""

    version: int
    snapshot: snapshot.Snapshot | None
    parts: dict[Audience, dict[str, str]] = field(default_factory=dict)
    full: dict[Audience, str] = field(default_factory=dict)
    """JSON ``{"parts": {id: html}, "tiles": {}, "at": "...", "now_ms": n}``: every section."""
    change: dict[Audience, str] = field(default_factory=dict)
    """The same shape, with only what changed since version - 1: moved tiles by their key, and
    the sections whose HTML changed (the gates section only when gates came or went)."""

    def since(self, version: int, audience: Audience) -> str:
        """What a page of ``audience`` showing ``version`` needs to show this one."""
        if version == self.version - 1 and audience in self.change:
            return self.change[audience]
        return self.full.get(audience, EMPTY)

    def seen_by(self, audience: Audience) -> Snapshot:
        """The snapshot as ``audience`` sees it (its venues only)."""
        assert self.snapshot is not None
        return scoped(self.snapshot, audience[1])


def _order(audience: Audience) -> tuple[str, list[str]]:
    language, venues = audience
    return language.value, sorted(venues or [])


def _layout(snap: snapshot.Snapshot) -> list[tuple[str, list[str]]]:
    return [(venue.code, [gate.name for gate in venue.gates]) for venue in snap.venues]


class DashboardLive:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        silent_after_s: int,
        unchecked_after_s: int | None = None,
        poll_s: float = POLL_S,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._silent_after_s = silent_after_s
        self._unchecked_after_s = unchecked_after_s
        self._poll_s = poll_s
        self._refresh_s = refresh_s
        self._clock = clock
        self._marker: tuple[object, ...] | None = None
        self._built_at = -1e9
        self._read_at = -1e9
        self._changed = Wakeup()
        self._build_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._tiles: dict[Audience, render.TileRenderer] = {}
        self.audiences: set[Audience] = {EVERYONE}
        """The audiences rendered at each build: those pages asked for since the start."""
        self.listeners = 0
        self.view = LiveView(0, None)

    @property
    def version(self) -> int:
        return self.view.version

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="dashboard-live")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _build(self, marker_only: bool) -> bool:
        """Read and render in a worker thread (calls are taken in turn); True if rebuilt."""
        with self._sessions() as session:
            read_only(session)
            marker = snapshot.change_marker(session)
            if marker_only and marker == self._marker:
                return False
            snap = snapshot.take(
                session,
                silent_after_s=self._silent_after_s,
                unchecked_after_s=self._unchecked_after_s,
            )
        before = self.view
        relaid = before.snapshot is None or _layout(before.snapshot) != _layout(snap)
        stamp = {
            "at": localtime.clock(snap.taken_at, snap.timezone),
            "now_ms": snapshot.epoch_ms(snap.taken_at),
        }
        all_parts: dict[Audience, dict[str, str]] = {}
        full: dict[Audience, str] = {}
        change: dict[Audience, str] = {}
        for audience in sorted(self.audiences, key=_order):
            language, venues = audience
            seen = snapshot.scoped(snap, venues)
            say = render.speakers()[language]
            tiles, moved = self._tiles.setdefault(audience, render.TileRenderer()).render(seen, say)
            parts = render.live_parts(seen, tiles, say)
            known = before.parts.get(audience)
            if relaid or known is None:
                changed_parts, changed_tiles = parts, {}
            else:
                changed_parts = {
                    part: html
                    for part, html in parts.items()
                    if part != "gates" and html != known.get(part)
                }
                changed_tiles = {key: tiles[key] for key in sorted(moved)}
            all_parts[audience] = parts
            full[audience] = json.dumps({"parts": parts, "tiles": {}, **stamp})
            change[audience] = json.dumps({"parts": changed_parts, "tiles": changed_tiles, **stamp})
        self.view = LiveView(
            version=before.version + 1, snapshot=snap, parts=all_parts, full=full, change=change
        )
        self._marker = marker
        return True

    async def refresh(self, *, force: bool = False) -> None:
        """Rebuild if the marker moved (or the view is old, or ``force``); wake the streams."""
        async with self._build_lock:
            await self._refresh_locked(force=force)

    async def _refresh_locked(self, *, force: bool) -> None:
        stale = self._clock() - self._built_at >= self._refresh_s
        started = self._clock()
        rebuilt = await asyncio.to_thread(self._build, not (force or stale))
        self._read_at = started  # unchanged or rebuilt, the view is true as of then
        if not rebuilt:
            return
        self._built_at = self._clock()
        self._changed.notify()

    def _speaks(self, audience: Audience) -> bool:
        """Render for ``audience`` from now on; True if it was not rendered yet."""
        if audience in self.audiences:
            return False
        self.audiences.add(audience)
        return True

    async def current(self, audience: Audience = EVERYONE) -> LiveView:
        """The latest view, rebuilt first if it is older than one poll (nobody was watching) or
        lacks ``audience``."""
        new = self._speaks(audience)
        if new or self._clock() - self._built_at > self._poll_s:
            await self.refresh(force=True)
        return self.view

    async def latest(self, audience: Audience = EVERYONE) -> LiveView:
        """A view read after this call began (a page loaded after an acknowledgement or a gate
        switch shows it, whichever process made it), for ``audience``. Callers asking at once
        share a build."""
        asked = self._clock()
        new = self._speaks(audience)
        async with self._build_lock:
            missing = new or audience not in self.view.parts
            if self._read_at < asked or missing:
                await self._refresh_locked(force=missing)
        return self.view

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            if not self.listeners:
                continue
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not kill the watcher
                log.warning("cannot refresh the dashboard; retrying", exc_info=True)

    async def wait_beyond(self, version: int, timeout_s: float) -> LiveView:
        """The view once it is beyond ``version``, or the current one after ``timeout_s``."""
        await self._changed.wait_until(lambda: self.view.version > version, timeout_s)
        return self.view
