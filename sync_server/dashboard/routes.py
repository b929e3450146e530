"""The dashboard's pages, its live stream, alert acknowledgement and the authorities' report."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette.sse import EventSourceResponse

from shared.i18n import Language, language_or_default
from sync_server import roles
from sync_server.api.deps import SessionDep
from sync_server.dashboard import render, snapshot
from sync_server.dashboard import report_pdf as report_pdf_file
from sync_server.dashboard.auth import (
    LOGIN,
    PREFIX,
    DataViewerDep,
    OptionalViewerDep,
    Viewer,
    ViewerDep,
    check_csrf,
    check_writer,
    clear_cookie,
    request_language,
    set_cookie,
    set_language_cookie,
)
from sync_server.dashboard.live import DashboardLive
from sync_server.db import get_sessionmaker
from sync_server.errors import NotFound
from sync_server.models import Alert, Venue
from sync_server.schemas import MAX_INT, GateUpdate
from sync_server.services import quarantine, report_book, reports, rights, sessions, site
from sync_server.services.writes import commit
from sync_server.streams import WEB_SESSION, open_stream, unless_ended

router = APIRouter(prefix=PREFIX, tags=["dashboard"], include_in_schema=False)
STATIC = FilePath(__file__).parent / "static"
FAILURE_DELAY_S = 0.5
"""Every refused sign-in waits this long; repeated failures lock the account for longer."""
PASSWORD_CHECKS_AT_ONCE = 1
"""Password checks (scrypt: ~50 ms of a core and 16 MB each) a process runs at once. A burst of
sign-ins (a shift change, or someone trying passwords) queues here, on the event loop, instead of
taking every core and worker thread from the gates."""
STREAM_PING_S = 15.0
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CsrfField = Annotated[str, Form(max_length=200)]


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=status.HTTP_303_SEE_OTHER)


def live(request: Request) -> DashboardLive:
    watch: DashboardLive = request.app.state.dashboard
    return watch


def _login_page(
    say: render.Speaker, *, message: str = "", name: str = "", code: int = 200
) -> HTMLResponse:
    return _html(
        render.page("login.html", say=say, languages=list(Language), message=message, name=name),
        code,
    )


@router.get("/login")
def login_form(
    request: Request,
    viewer: OptionalViewerDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The sign-in form, in the language picked here (``?lang=``, remembered in a cookie), the
    browser's, or French."""
    if viewer is not None:
        return _see(PREFIX)
    if lang is not None:
        response = _see(LOGIN)
        set_language_cookie(response, request, language_or_default(lang))
        return response
    return _login_page(render.speakers()[request_language(request)])


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    language: Annotated[str | None, Form(max_length=8)] = None,
) -> Response:
    """Check the password (scrypt, in a worker thread); refusals are slowed down. A user who
    never chose a language keeps the one the sign-in page spoke."""
    client = request.client.host if request.client else ""
    spoken = language_or_default(language) if language else request_language(request)
    say = render.speakers()[spoken]

    def attempt() -> sessions.SignIn:
        with get_sessionmaker()() as session:
            return sessions.sign_in(session, name=name, password=password, remote_addr=client)

    checks: asyncio.Semaphore = request.app.state.password_checks
    async with checks:
        result = await run_in_threadpool(attempt)
    if result.token is None:
        await asyncio.sleep(FAILURE_DELAY_S)
        code = status.HTTP_429_TOO_MANY_REQUESTS if result.locked else 401
        refusal = (
            say.t("sign_in_locked", seconds=result.retry_after_s)
            if result.locked
            else say.t("sign_in_wrong")
        )
        page = _login_page(say, message=refusal, name=name, code=code)
        if result.retry_after_s:
            page.headers["Retry-After"] = str(result.retry_after_s)
        return page

    def adopt() -> None:
        with get_sessionmaker()() as session:
            sessions.adopt_language(session, name, spoken.value)

    await run_in_threadpool(adopt)
    response = _see(PREFIX)
    set_cookie(response, request, result.token)
    return response


@router.post("/language")
def choose_language(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    language: Annotated[str, Form(max_length=8)],
    next: Annotated[str, Form(max_length=300)] = PREFIX,
) -> Response:
    """The user's language for the pages, remembered on the server (any browser they use)."""
    check_csrf(viewer, csrf)
    chosen = language_or_default(language)
    sessions.set_language(session, viewer.name, chosen.value)
    back = next if next.startswith(PREFIX) and not next.startswith("//") else PREFIX
    response = _see(back)
    set_language_cookie(response, request, chosen)
    return response


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, session: SessionDep, csrf: CsrfField) -> Response:
    check_csrf(viewer, csrf)
    sessions.sign_out(session, viewer.token)
    response = _see(f"{PREFIX}/login")
    clear_cookie(response, request)
    return response


@router.get("")
async def dashboard(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """The page, built from the live view every stream gets, brought up to date first (after an
    acknowledgement or a gate switch the page shows it): only the alerts are rendered again, for
    their forms to carry this page's CSRF token."""
    audience = viewer.audience
    view = await live(request).latest(audience)
    snap = view.seen_by(audience)  # latest() has built one
    choices = await run_in_threadpool(snapshot.events, session, viewer.venues)
    say = render.speakers()[viewer.language]
    parts = {
        **view.parts[audience],
        "alerts": render.alerts_part(snap, say, csrf=viewer.csrf),
    }
    return _html(
        render.page(
            "dashboard.html",
            say=say,
            languages=list(Language),
            viewer=viewer,
            snap=snap,
            parts=parts,
            events=choices,
            now=snap.taken_at,
            now_ms=snapshot.epoch_ms(snap.taken_at),
        )
    )


@router.get("/live")
async def live_json(request: Request, viewer: DataViewerDep) -> Response:
    """The live sections as JSON: what the stream pushes, for pages that poll instead."""
    view = await live(request).current(viewer.audience)
    return Response(
        view.since(-1, viewer.audience),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/stream", response_class=EventSourceResponse)
def stream(request: Request, viewer: DataViewerDep, session: SessionDep) -> EventSourceResponse:
    """Server-sent events: ``live`` whenever anything moves; the first carries every section,
    the next ones what changed (everything again if this stream missed a build)."""
    watch = live(request)
    session.close()  # signed in: hold no database connection for the stream's lifetime
    ticket = open_stream(request, WEB_SESSION, viewer.session_id)
    streams = request.app.state.streams
    audience = viewer.audience

    async def events() -> AsyncIterator[dict[str, str]]:
        watch.listeners += 1
        try:
            view = await watch.current(audience)
            sent = view.version
            yield {"event": "live", "data": view.since(-1, audience)}
            while not await request.is_disconnected():
                fresh = await unless_ended(ticket, watch.wait_beyond(sent, timeout_s=STREAM_PING_S))
                if fresh is None:
                    # Signed out, password changed, user disabled: this stream ends with it.
                    yield {"event": "signed_out", "data": "{}"}
                    return
                if fresh.version != sent:
                    yield {"event": "live", "data": fresh.since(sent, audience)}
                    sent = fresh.version
        finally:
            watch.listeners -= 1
            streams.close(ticket)

    return EventSourceResponse(events(), ping=STREAM_PING_S, headers={"Cache-Control": "no-store"})


@router.post("/alerts/{alert_id}/ack")
def acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=MAX_INT)],
    viewer: ViewerDep,
    session: SessionDep,
    csrf: CsrfField,
) -> Response:
    """A supervisor takes an alert in hand: recorded in the audit log with who and when."""
    check_csrf(viewer, csrf)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    at = None if alert.venue_id is None else session.get(Venue, alert.venue_id)
    roles.require_read(viewer, None if at is None else at.code)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = datetime.now(UTC)
        commit(
            session,
            actor=viewer.name,
            action="alert.ack",
            target=str(alert_id),
            detail={"via": "dashboard"},
            remote_addr=viewer.remote_addr,
        )
    return _see(PREFIX)


@router.post("/gates/{venue}/{name}/enabled")
def set_gate_enabled(
    venue: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
    viewer: ViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    enabled: Annotated[bool, Form()],
) -> Response:
    """An admin, or the venue's admin: switch a gate off (it refuses everyone) or on again."""
    check_csrf(viewer, csrf)
    check_writer(viewer, venue)
    place = site.get_venue(session, venue)
    gate = site.get_gate(session, place, name)
    pending = site.update_gate(session, venue=place, gate=gate, data=GateUpdate(enabled=enabled))
    commit(
        session,
        pending=pending,
        actor=viewer.name,
        action="gate.update",
        target=f"{venue}/{name}",
        detail={"enabled": enabled, "via": "dashboard"},
        remote_addr=viewer.remote_addr,
    )
    return _see(PREFIX)


@router.post("/gates/{venue}/{name}/quarantine")
def decide_held(
    venue: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
    viewer: ViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    decision: Annotated[Literal["applied", "discarded"], Form()],
) -> Response:
    """An admin, or the venue's admin: apply (they count) or discard a gate's scans held in
    quarantine; audited."""
    check_csrf(viewer, csrf)
    check_writer(viewer, venue)
    ids = [h.scan.scan_id for h in quarantine.held(session, venue=venue, gate=name)]
    if not ids:
        return _see(PREFIX)  # decided meanwhile (another admin, gate-admin)
    decided, result = quarantine.decide(session, scan_ids=ids, decision=decision)
    commit(
        session,
        pending=result.pending,
        actor=viewer.name,
        action=f"quarantine.{decision}",
        target=f"{decided} scans",
        detail={"gate": f"{venue}/{name}", "via": "dashboard"},
        remote_addr=viewer.remote_addr,
    )
    return _see(PREFIX)


ReportEvent = Annotated[str, Query(min_length=1, max_length=64)]
ReportSlot = Annotated[int, Query(ge=60, le=86_400)]


def _attachment(body: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _report(viewer: Viewer, session: SessionDep, event: str, bucket_s: int) -> reports.Report:
    """The event's report, for a reader of its venue only."""
    roles.require_read(viewer, rights.venue_code(session, site.get_event(session, event)))
    return reports.build(session, event=event, bucket_s=bucket_s)


@router.get("/report")
def report(
    viewer: ViewerDep, session: SessionDep, event: ReportEvent, bucket_s: ReportSlot = 300
) -> Response:
    """The authorities' report, printable: the zone tree's totals, then entries per slot and
    the head count inside; PDF, Excel, CSV and JSON of the same figures."""
    built = _report(viewer, session, event, bucket_s)
    return _html(
        render.page(
            "report.html",
            say=render.speakers()[viewer.language],
            languages=list(Language),
            viewer=viewer,
            r=built,
            pdf=False,
            query=urlencode({"event": event, "bucket_s": bucket_s}),
        )
    )


@router.get("/report.pdf")
async def report_pdf(
    viewer: ViewerDep, session: SessionDep, event: ReportEvent, bucket_s: ReportSlot = 300
) -> Response:
    built = _report(viewer, session, event, bucket_s)
    session.close()
    say = render.speakers()[viewer.language]
    document = await run_in_threadpool(report_pdf_file.pdf, built, say, printed_by=viewer.name)
    return _attachment(document, "application/pdf", reports.filename(event, "pdf"))


@router.get("/report.xlsx")
def report_xlsx(
    viewer: ViewerDep, session: SessionDep, event: ReportEvent, bucket_s: ReportSlot = 300
) -> Response:
    built = _report(viewer, session, event, bucket_s)
    return _attachment(
        report_book.workbook(built, viewer.language),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        reports.filename(event, "xlsx"),
    )


@router.get("/report.csv")
def report_csv(
    viewer: ViewerDep, session: SessionDep, event: ReportEvent, bucket_s: ReportSlot = 300
) -> Response:
    built = _report(viewer, session, event, bucket_s)
    return _attachment(reports.as_csv(built), "text/csv", reports.filename(event, "csv"))


@router.get("/report.json")
def report_json(
    viewer: ViewerDep, session: SessionDep, event: ReportEvent, bucket_s: ReportSlot = 300
) -> Response:
    built = _report(viewer, session, event, bucket_s)
    body = json.dumps(reports.as_json(built), ensure_ascii=False, indent=1)
    return _attachment(body, "application/json", reports.filename(event, "json"))
