"""The FastAPI application: back-office API, gate API, OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from sync_server import __version__
from sync_server.api.deps import url_without_nul
from sync_server.api.routes import (
    bans,
    events,
    gate_api,
    gates,
    keys,
    monitor,
    quarantine,
    rights,
    users,
    venues,
)
from sync_server.core.config import get_settings
from sync_server.dashboard import holder as holder_routes
from sync_server.dashboard import office as office_routes
from sync_server.dashboard import routes as dashboard_routes
from sync_server.dashboard.live import DashboardLive
from sync_server.db import get_sessionmaker
from sync_server.errors import ServerError
from sync_server.feed_watch import FeedWatch
from sync_server.services import alerts, imports
from sync_server.streams import Streams

log = logging.getLogger("entrix.server")
API_PREFIX = "/api/v1"


async def _watch_silent_gates(interval_s: float) -> None:
    """Every few seconds, raise an alert for gates that stopped sending heartbeats."""
    settings = get_settings()

    def check() -> None:
        with get_sessionmaker()() as session:
            if alerts.silent_gates(session, after_s=settings.gate_silent_after_s):
                session.commit()

    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(check)
        except Exception:
            log.exception("silent-gate check failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await run_in_threadpool(imports.forget_interrupted)  # a stop left them half done
    watch = FeedWatch(get_sessionmaker(), settings.feed_poll_interval_s)
    await watch.start()
    app.state.feed_watch = watch
    dashboard = DashboardLive(
        get_sessionmaker(),
        silent_after_s=settings.gate_silent_after_s,
        unchecked_after_s=settings.gate_clock_unverified_after_s,
    )
    await dashboard.start()
    app.state.dashboard = dashboard
    app.state.password_checks = asyncio.Semaphore(dashboard_routes.PASSWORD_CHECKS_AT_ONCE)
    streams = Streams(get_sessionmaker(), limit=settings.streams_per_credential)
    await streams.start()
    app.state.streams = streams
    silent = asyncio.create_task(_watch_silent_gates(settings.silent_check_interval_s))
    try:
        yield
    finally:
        silent.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await silent
        await streams.stop()
        await dashboard.stop()
        await watch.stop()


def create_app() -> FastAPI:
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, holder_routes.RedactTokens) for f in access_log.filters):
        access_log.addFilter(holder_routes.RedactTokens())
    app = FastAPI(
        title="Entrix Gate server",
        version=__version__,
        description="Back-office API (user tokens, admin or supervisor role) and gate API "
        "(device tokens from enrollment). Authenticate with `Authorization: Bearer <token>`.",
        lifespan=lifespan,
    )

    @app.exception_handler(ServerError)
    async def _domain_error(_request: Request, exc: ServerError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(url_without_nul)])
    for module in (
        venues, events, gates, rights, bans, keys, users, monitor, quarantine, gate_api,
    ):  # fmt: skip
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(dashboard_routes.router)
    app.include_router(office_routes.router)
    app.include_router(holder_routes.router)
    app.mount("/dashboard/static", StaticFiles(directory=dashboard_routes.STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        """Browsers ask for it at the root, whatever the page says."""
        return RedirectResponse("/dashboard/static/favicon.svg", status_code=301)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
