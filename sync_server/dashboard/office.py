"""The back office in the browser (issue 17): events, gates (with their enrollment QR), bans,
tickets (search, revoke, import with progress) and the audit log, behind the dashboard's
sign-in, in its three languages.

Every change goes through the very functions the API's routes are (``sync_server.api.routes``):
the same services, checks and audit entries as ``gate-admin``, under the signed-in person's
name. Admins change things; supervisors see events, gates and bans and change nothing; the
tickets, imports and the audit log are the admins' (as in the API).
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import available_timezones

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from shared.i18n import Language
from sync_server import enrollment_link, localtime, qr, roles, words
from sync_server.api.deps import Actor, SessionDep, SettingsDep
from sync_server.api.routes import bans as bans_api
from sync_server.api.routes import events as events_api
from sync_server.api.routes import gates as gates_api
from sync_server.api.routes import keys as keys_api
from sync_server.api.routes import monitor as monitor_api
from sync_server.api.routes import rights as rights_api
from sync_server.api.routes import users as users_api
from sync_server.api.routes import venues as venues_api
from sync_server.core.config import get_settings
from sync_server.dashboard import render
from sync_server.dashboard.auth import (
    PREFIX,
    AdminViewerDep,
    Viewer,
    ViewerDep,
    WriterViewerDep,
    check_admin,
    check_csrf,
)
from sync_server.dashboard.routes import SECURITY_HEADERS
from sync_server.db import writes
from sync_server.errors import ServerError
from sync_server.field_words import field_problems
from sync_server.models import Gate, Season, Venue
from sync_server.schemas import (
    BanCreate,
    EventCreate,
    EventRotating,
    GateCreate,
    GateUpdate,
    KeyRotate,
    KioskPin,
    LayoutCreate,
    RevokeRequest,
    TransferRequest,
    UserCreate,
    VenueCreate,
    VenueUpdate,
    ZoneIn,
)
from sync_server.services import imports, layouts, site
from sync_server.services.holders import holder_id

OFFICE = f"{PREFIX}/office"
router = APIRouter(prefix=OFFICE, include_in_schema=False)
SECTIONS = ("venues", "events", "gates", "rights", "bans", "keys", "accounts", "audit")
"""The office's pages, in the order of its tabs."""
ADMIN_SECTIONS = frozenset({"accounts", "audit"})
"""Pages only admins see (the API's keys, accounts and audit routes are theirs)."""
WRITER_SECTIONS = frozenset({"rights", "keys"})
"""Pages for admins and venue admins (tickets: their venues' only)."""
CsrfField = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=500)]
OptionalText = Annotated[str, Form(max_length=500)]
Model = TypeVar("Model", bound=BaseModel)


def _actor(viewer: Viewer) -> Actor:
    """The signed-in person as the API's functions take them: role and venues included."""
    return Actor(viewer.name, viewer.role, viewer.remote_addr, viewer.venues)


def _page(
    template: str,
    viewer: Viewer,
    section: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    if section in ADMIN_SECTIONS and not viewer.is_admin:
        check_admin(viewer)
    if section in WRITER_SECTIONS and not viewer.writes:
        check_admin(viewer)
    body = render.page(
        template,
        say=render.speakers()[viewer.language],
        languages=list(Language),
        viewer=viewer,
        section=section,
        sections=[
            s
            for s in SECTIONS
            if viewer.is_admin
            or (s not in ADMIN_SECTIONS and (viewer.writes or s not in WRITER_SECTIONS))
        ],
        here=f"{OFFICE}/{section}",
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def _refusal(exc: Exception, language: Language = Language.EN) -> str:
    """What a refused form says in the page's language: the service's refusal (its English words
    when it has none there), or what is wrong with the first invalid fields."""
    if isinstance(exc, ServerError):
        return words.refusal(exc, language)
    if isinstance(exc, ValidationError):
        return field_problems(exc.errors(), language, limit=3)
    return str(exc)


def _refused(session: SessionDep, viewer: Viewer, exc: ServerError) -> dict[str, Any]:
    """A change the service refused: undone, and what its page shows (its words, its status)."""
    session.rollback()
    return {"error": _refusal(exc, viewer.language), "code": exc.status_code}


def _attempt(build: Callable[[], Model], language: Language) -> tuple[Model | None, str]:
    """The model ``build`` makes, or what is wrong with the form's fields, in ``language``."""
    try:
        return build(), ""
    except ValidationError as exc:
        return None, _refusal(exc, language)


def _local(value: str, timezone: str) -> str:
    """A browser's ``datetime-local`` value (``2026-12-05T20:00``), read in the venue's time
    zone, as an ISO instant with its offset."""
    if not value:
        return ""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value  # let the model say it is no time
    return naive.replace(tzinfo=localtime.zone(timezone)).isoformat()


# -- venues and their zones ---------------------------------------------------------------------


def _venues_page(
    viewer: Viewer, session: SessionDep, *, message: str = "", error: str = "", code: int = 200
) -> HTMLResponse:
    venues = venues_api.list_venues(session, _actor(viewer))
    trees = {(v.code, lay.code): _tree_order(lay.zones) for v in venues for lay in v.layouts}
    gate_names: dict[str, list[str]] = defaultdict(list)
    for venue_code, gate in session.execute(
        select(Venue.code, Gate.name).join(Venue, Venue.id == Gate.venue_id).order_by(Gate.name)
    ):
        gate_names[venue_code].append(gate)
    timezones = sorted(available_timezones())
    return _page("office_venues.html", viewer, "venues", status_code=code, venues=venues,
                 trees=trees, gate_names=gate_names, timezones=timezones, message=message,
                 error=error)  # fmt: skip


def _tree_order(zones: list[Any]) -> list[tuple[int, Any]]:
    """(depth, zone) depth first, the roots first: how the tree reads top-down."""
    children: dict[str | None, list[Any]] = {}
    codes = {z.code for z in zones}
    for zone in zones:
        children.setdefault(zone.parent if zone.parent in codes else None, []).append(zone)
    ordered: list[tuple[int, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for zone in sorted(children.get(parent, []), key=lambda z: z.code):
            ordered.append((depth, zone))
            walk(zone.code, depth + 1)

    walk(None, 0)
    return ordered


@router.get("/venues")
def venues_page(viewer: ViewerDep, session: SessionDep) -> Response:
    return _venues_page(viewer, session)


@router.post("/venues")
def create_venue(
    viewer: AdminViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    code: Text,
    name: Text,
    timezone: Annotated[str, Form(max_length=64)],
) -> Response:
    check_csrf(viewer, csrf)
    data, error = _attempt(
        lambda: VenueCreate.model_validate({"code": code, "name": name, "timezone": timezone}),
        viewer.language,
    )
    if data is None:
        return _venues_page(viewer, session, error=error, code=422)
    try:
        venues_api.create_venue(data, session, _actor(viewer))
    except ServerError as exc:
        return _venues_page(viewer, session, **_refused(session, viewer, exc))
    return _venues_page(viewer, session, message=render.speakers()[viewer.language].t("done"),
                        code=201)  # fmt: skip


@router.post("/venues/{venue}/timezone")
def set_timezone(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    timezone: Annotated[str, Form(max_length=64)],
) -> Response:
    check_csrf(viewer, csrf)
    data, error = _attempt(
        lambda: VenueUpdate.model_validate({"timezone": timezone}), viewer.language
    )
    if data is None:
        return _venues_page(viewer, session, error=error, code=422)
    try:
        venues_api.update_venue(venue, data, session, _actor(viewer))
    except ServerError as exc:
        return _venues_page(viewer, session, **_refused(session, viewer, exc))
    return RedirectResponse(f"{OFFICE}/venues", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/venues/{venue}/layouts/{layout}/zones")
def put_zone(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    layout: Annotated[str, Path(max_length=64)],
    code: Text,
    name: Text,
    parent: OptionalText = "",
    capacity: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Add a zone to a layout's tree, or change one (its name, parent, capacity)."""
    check_csrf(viewer, csrf)
    body = {"code": code.strip(), "name": name, "parent": parent.strip() or None,
            "capacity": capacity.strip() or None}  # fmt: skip
    data, error = _attempt(lambda: ZoneIn.model_validate(body), viewer.language)
    if data is None:
        return _venues_page(viewer, session, error=error, code=422)
    try:
        venues_api.put_layout_zones(venue, layout, [data], session, _actor(viewer))
    except ServerError as exc:
        return _venues_page(viewer, session, **_refused(session, viewer, exc))
    return _venues_page(viewer, session, message=render.speakers()[viewer.language].t("done"))


@router.post("/venues/{venue}/layouts")
def create_layout(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    code: Text,
    name: Text,
    copy_from: OptionalText = "",
) -> Response:
    """A new layout of the venue, empty or a copy of another (zones and access points)."""
    check_csrf(viewer, csrf)
    body = {"code": code.strip(), "name": name, "copy_from": copy_from.strip() or None}
    data, error = _attempt(lambda: LayoutCreate.model_validate(body), viewer.language)
    if data is None:
        return _venues_page(viewer, session, error=error, code=422)
    try:
        venues_api.create_layout(venue, data, session, _actor(viewer))
    except ServerError as exc:
        return _venues_page(viewer, session, **_refused(session, viewer, exc))
    message = render.speakers()[viewer.language].t("done")
    return _venues_page(viewer, session, message=message, code=201)


@router.post("/venues/{venue}/layouts/{layout}/access")
def put_access(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    layout: Annotated[str, Path(max_length=64)],
    gate: Text,
    zones: OptionalText = "",
) -> Response:
    """Where one gate leads in a layout (no zones: nowhere)."""
    check_csrf(viewer, csrf)
    try:
        venues_api.put_access(venue, layout, {gate: _codes(zones)}, session, _actor(viewer))
    except ServerError as exc:
        return _venues_page(viewer, session, **_refused(session, viewer, exc))
    return _venues_page(viewer, session, message=render.speakers()[viewer.language].t("done"))


# -- events -------------------------------------------------------------------------------------


def _events_page(
    viewer: Viewer, session: SessionDep, *, message: str = "", error: str = "", code: int = 200
) -> HTMLResponse:
    venues = list(session.scalars(select(Venue).order_by(Venue.code)))
    zones = {v.code: v.timezone for v in venues}
    events = events_api.list_events(session, _actor(viewer))
    seasons = [s.code for s in session.scalars(select(Season).order_by(Season.code))]
    venue_layouts = {v.code: layouts.layouts_of(session, v) for v in venues}
    return _page(
        "office_events.html", viewer, "events", status_code=code, events=events,
        venues=venues, zones=zones, seasons=seasons, venue_layouts=venue_layouts,
        message=message, error=error,
    )  # fmt: skip


@router.get("")
def office_home() -> Response:
    return RedirectResponse(f"{OFFICE}/events", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/events")
def events_page(viewer: ViewerDep, session: SessionDep) -> Response:
    return _events_page(viewer, session)


@router.post("/events")
def create_event(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    code: Text,
    name: Text,
    venue: Text,
    starts: Text,
    ends: Text,
    season: OptionalText = "",
    layout: OptionalText = "",
    rotating_required: OptionalText = "",
) -> Response:
    check_csrf(viewer, csrf)
    place = session.scalar(select(Venue).where(Venue.code == venue))
    timezone = place.timezone if place is not None else localtime.UTC_NAME
    data, error = _attempt(
        lambda: EventCreate.model_validate(
            {"code": code, "name": name, "venue": venue, "season": season or None,
             "layout": layout.strip() or None, "rotating_required": bool(rotating_required),
             "starts_at": _local(starts, timezone), "ends_at": _local(ends, timezone)}
        ), viewer.language)  # fmt: skip
    if data is None:
        return _events_page(viewer, session, error=error, code=422)
    try:
        made = events_api.create_event(data, session, _actor(viewer))
    except ServerError as exc:
        return _events_page(viewer, session, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    message = say.t("done")
    if made.over:
        message = say.t(
            "event_over_warning",
            event=made.code,
            time=localtime.day_clock(made.ends_at, timezone),
        )
    return _events_page(viewer, session, message=message, code=201)


@router.post("/events/{event_code}/rotating")
def event_rotating(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    event_code: Annotated[str, Path(max_length=64)],
    required: OptionalText = "",
) -> Response:
    """Take rotating codes only at the event, or lift it (the API's)."""
    check_csrf(viewer, csrf)
    try:
        events_api.require_rotating(
            event_code, EventRotating(required=bool(required)), session, _actor(viewer)
        )
    except ServerError as exc:
        return _events_page(viewer, session, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _events_page(viewer, session, message=say.t("done"))


# -- gates --------------------------------------------------------------------------------------


def _gates_page(
    viewer: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    *,
    message: str = "",
    error: str = "",
    code: int = 200,
) -> HTMLResponse:
    venues = list(session.scalars(select(Venue).order_by(Venue.code)))
    zone_codes = {
        v.code: [z.code for z in layouts.zones_of(session, layouts.default_layout(session, v))]
        for v in venues
    }
    gates = gates_api.list_gates(session, _actor(viewer), settings)
    zones = {v.code: v.timezone for v in venues}
    return _page(
        "office_gates.html", viewer, "gates", status_code=code, gates=gates, venues=venues,
        zone_codes=zone_codes, zones=zones, message=message, error=error,
    )  # fmt: skip


@router.get("/gates")
def gates_page(viewer: ViewerDep, session: SessionDep, settings: SettingsDep) -> Response:
    return _gates_page(viewer, session, settings)


@router.post("/gates")
def create_gate(
    request: Request,
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    venue: Text,
    name: Text,
    zones: Text,
    direction: Annotated[str, Form(max_length=3)] = "in",
    events: OptionalText = "",
) -> Response:
    """Create a gate and show its enrollment QR at once."""
    check_csrf(viewer, csrf)
    data, error = _attempt(
        lambda: GateCreate.model_validate(
            {"venue": venue, "name": name, "zones": _codes(zones),
             "event_codes": _codes(events), "direction": direction}
        ), viewer.language)  # fmt: skip
    if data is None:
        return _gates_page(viewer, session, settings, error=error, code=422)
    try:
        gates_api.create_gate(data, session, _actor(viewer), settings)
    except ServerError as exc:
        return _gates_page(viewer, session, settings, **_refused(session, viewer, exc))
    return _enrollment(request, viewer, session, settings, data.venue, data.name, created=True)


def _codes(text: str) -> list[str]:
    """``NORD, NORD-A`` (commas or spaces between) as a list of codes."""
    return [c for c in text.replace(",", " ").split() if c]


@router.post("/gates/{venue}/{name}/enabled")
def set_enabled(
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
    enabled: Annotated[bool, Form()],
) -> Response:
    check_csrf(viewer, csrf)
    try:
        gates_api.update_gate(
            venue, name, GateUpdate(enabled=enabled), session, _actor(viewer), settings
        )
    except ServerError as exc:
        return _gates_page(viewer, session, settings, **_refused(session, viewer, exc))
    return RedirectResponse(f"{OFFICE}/gates", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/gates/{venue}/{name}/enrollment")
def new_enrollment(
    request: Request,
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    venue: Annotated[str, Path(max_length=64)],
    name: Annotated[str, Path(max_length=64)],
) -> Response:
    check_csrf(viewer, csrf)
    return _enrollment(request, viewer, session, settings, venue, name)


def _enrollment(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    settings: SettingsDep,
    venue: str,
    name: str,
    *,
    created: bool = False,
) -> Response:
    """A one-time code for the gate, as the link a terminal enrolls with and its QR code: the
    server's address as this browser reached it, pinned to the certificate it presents."""
    try:
        made = gates_api.enrollment_code(venue, name, session, _actor(viewer), settings)
    except ServerError as exc:
        return _gates_page(viewer, session, settings, **_refused(session, viewer, exc))
    url = str(request.base_url).rstrip("/")
    try:
        pins, source = enrollment_link.pins_for(url)
    except enrollment_link.PinError as exc:
        pins, source = [], str(exc)
    text = enrollment_link.link(url, made.code, pins)
    svg = qr.render(text, "svg", scale=8).decode("utf-8")
    place = site.get_venue(session, venue)
    return _page(
        "office_enroll.html", viewer, "gates", status_code=201 if created else 200,
        enrollment=made, link=text, pins=pins, pin_source=source, qr_svg=Markup(svg),  # noqa: S704 (segno's own SVG of our link)
        expires=localtime.day_clock(made.expires_at, place.timezone), created=created,
    )  # fmt: skip


# -- bans ---------------------------------------------------------------------------------------


def _bans_page(
    viewer: Viewer,
    session: SessionDep,
    *,
    holder: str | None = None,
    search: str | None = None,
    message: str = "",
    error: str = "",
    code: int = 200,
) -> HTMLResponse:
    found = bans_api.list_bans(session, _actor(viewer), holder=holder or None,
                               search=search or None)  # fmt: skip
    return _page(
        "office_bans.html", viewer, "bans", status_code=code, bans=found, holder=holder or "",
        search=search or "", message=message, error=error,
    )  # fmt: skip


@router.get("/bans")
def bans_page(
    viewer: ViewerDep,
    session: SessionDep,
    holder: Annotated[str | None, Query(max_length=200)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _bans_page(viewer, session, holder=holder, search=search)


@router.post("/bans")
def add_ban(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    reason: Text,
    holder: OptionalText = "",
    right_id: Annotated[str, Form(max_length=64)] = "",
    severity: Annotated[int, Form(ge=1, le=3)] = 2,
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    check_csrf(viewer, csrf)
    body = {
        "scope": "right" if right_id.strip() else "holder",
        "right_id": right_id.strip() or None,
        "holder": holder.strip() or None,
        "reason": reason,
        "severity": severity,
        "valid_until": _local(until, localtime.UTC_NAME) if until else None,
    }
    data, error = _attempt(lambda: BanCreate.model_validate(body), viewer.language)
    if data is None:
        return _bans_page(viewer, session, error=error, code=422)
    try:
        bans_api.add_ban(data, session, _actor(viewer))
    except ServerError as exc:
        return _bans_page(viewer, session, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _bans_page(viewer, session, holder=data.holder, message=say.t("done"), code=201)


@router.post("/bans/{ban_id}/remove")
def lift_ban(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    ban_id: Annotated[str, Path(max_length=64)],
) -> Response:
    check_csrf(viewer, csrf)
    try:
        bans_api.remove_ban(ban_id, session, _actor(viewer))
    except ServerError as exc:
        return _bans_page(viewer, session, **_refused(session, viewer, exc))
    return RedirectResponse(f"{OFFICE}/bans", status_code=status.HTTP_303_SEE_OTHER)


# -- tickets ------------------------------------------------------------------------------------


def _rights_page(
    viewer: Viewer,
    session: SessionDep,
    *,
    holder: str = "",
    event: str = "",
    message: str = "",
    error: str = "",
    code: int = 200,
    link: str = "",
) -> HTMLResponse:
    found = []
    if holder or event:
        found = rights_api.list_rights(
            session, _actor(viewer), event=event or None,
            holder_id=holder_id(holder).hex() if holder else None, limit=200, offset=0,
        )  # fmt: skip
    events = events_api.list_events(session, _actor(viewer))
    link_qr = Markup(qr.render(link, "svg", scale=5).decode("utf-8")) if link else ""  # noqa: S704 (segno's own SVG of our link)
    return _page(
        "office_rights.html", viewer, "rights", status_code=code, rights=found, holder=holder,
        event=event, events=events, message=message, error=error, link=link, link_qr=link_qr,
        wallet=bool(get_settings().wallet_issuer_id),
    )  # fmt: skip


@router.get("/rights")
def rights_page(
    viewer: WriterViewerDep,
    session: SessionDep,
    holder: Annotated[str, Query(max_length=200)] = "",
    event: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _rights_page(viewer, session, holder=holder.strip(), event=event.strip())


@router.post("/rights/{right_id}/revoke")
def revoke_right(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
    reason: Text,
    holder: OptionalText = "",
) -> Response:
    check_csrf(viewer, csrf)
    data, error = _attempt(lambda: RevokeRequest(reason=reason), viewer.language)
    if data is None:
        return _rights_page(viewer, session, holder=holder, error=error, code=422)
    try:
        rights_api.revoke(right_id, data, session, _actor(viewer))
    except ServerError as exc:
        return _rights_page(viewer, session, holder=holder, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _rights_page(viewer, session, holder=holder, message=say.t("done"))


@router.post("/rights/{right_id}/holder-link")
def make_holder_link(
    request: Request,
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
    holder: OptionalText = "",
) -> Response:
    """A new holder's link to a rotating ticket, shown once with its QR code (the API's)."""
    check_csrf(viewer, csrf)
    try:
        made = rights_api.make_holder_link(right_id, request, session, _actor(viewer), settings)
    except ServerError as exc:
        return _rights_page(viewer, session, holder=holder, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _rights_page(viewer, session, holder=holder, message=say.t("holder_link_made"),
                        link=made.url, code=201)  # fmt: skip


@router.post("/rights/{right_id}/holder-link/end")
def end_holder_link(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
    holder: OptionalText = "",
) -> Response:
    """The right's holder's link stops working (the API's)."""
    check_csrf(viewer, csrf)
    try:
        rights_api.end_holder_link(right_id, session, _actor(viewer))
    except ServerError as exc:
        return _rights_page(viewer, session, holder=holder, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _rights_page(viewer, session, holder=holder, message=say.t("done"))


@router.get("/rights/{right_id}/wallet.json")
@writes
def wallet_ticket(
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
) -> Response:
    """The Google Wallet ticket to download (the API's), its names in the page's language."""
    document = rights_api.wallet_ticket(right_id, session, _actor(viewer), settings,
                                        viewer.language)  # fmt: skip
    return JSONResponse(
        document,
        headers={"Content-Disposition": f'attachment; filename="wallet-{right_id.lower()}.json"'},
    )


@router.get("/rights/{right_id}/ticket.pdf")
@writes
def ticket_pdf(
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
) -> Response:
    """The ticket to print or send (the API's: ``/api/v1/rights/{id}/ticket.pdf``), in the
    viewer's language."""
    return rights_api.ticket_pdf(right_id, session, _actor(viewer), settings, viewer.language)


@router.post("/rights/{right_id}/transfer")
def transfer_right(
    request: Request,
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    right_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")],
    new_holder: Text,
    holder: OptionalText = "",
) -> Response:
    """A new ticket for the new holder, the old one revoked (the API's transfer)."""
    check_csrf(viewer, csrf)
    data, error = _attempt(lambda: TransferRequest(holder=new_holder.strip()), viewer.language)
    if data is None:
        return _rights_page(viewer, session, holder=holder, error=error, code=422)
    try:
        done = rights_api.transfer(right_id, data, request, session, _actor(viewer), settings)
    except ServerError as exc:
        return _rights_page(viewer, session, holder=holder, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    return _rights_page(viewer, session, holder=data.holder,
                        message=say.t("transferred", id=done.new.right_id),
                        link=done.holder_link or "", code=201)  # fmt: skip


IMPORT_TYPES = {".csv": "text/csv", ".json": "application/json"}


@router.post("/rights/import")
async def import_rights(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Spool the file, start the import as a job (the API's), show its progress page."""
    check_csrf(viewer, csrf)
    session.close()  # the job uses sessions of its own
    name = (file.filename or "").lower()
    content_type = next((t for s, t in IMPORT_TYPES.items() if name.endswith(s)), "text/csv")
    path = imports.spool_path()
    try:
        size = 0
        with path.open("wb") as spool:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > rights_api.MAX_IMPORT_BYTES:
                    break
                spool.write(chunk)
        if size > rights_api.MAX_IMPORT_BYTES:
            path.unlink(missing_ok=True)
            return Response(f"import larger than {rights_api.MAX_IMPORT_BYTES} bytes", 413)
        job = await run_in_threadpool(imports.new_job, actor=viewer.name, content_type=content_type)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job_args = {"content_type": content_type, "actor": viewer.name,
                "remote_addr": viewer.remote_addr}  # fmt: skip
    threading.Thread(target=_in_background, args=(job, path), kwargs=job_args, daemon=True,
                     name=f"import-{job[:8]}").start()  # fmt: skip
    return RedirectResponse(f"{OFFICE}/jobs/{job}", status_code=status.HTTP_303_SEE_OTHER)


def _in_background(job: str, path: Any, **job_args: str) -> None:
    with contextlib.suppress(Exception):  # the job records what went wrong
        imports.run_in_process(job, path, **job_args)


JobId = Annotated[str, Path(pattern="^[0-9a-f]{32}$")]


@router.get("/jobs/{job}")
def job_page(viewer: WriterViewerDep, session: SessionDep, job: JobId) -> Response:
    found = rights_api.get_job(job, session, _actor(viewer))
    bad = [(e.row, words.row_error(e, viewer.language)) for e in found.errors]
    return _page("office_job.html", viewer, "rights", job=found, bad_rows=bad)


@router.get("/jobs/{job}/state")
def job_state(viewer: WriterViewerDep, session: SessionDep, job: JobId) -> Response:
    """The job as the progress page's script reads it."""
    found = rights_api.get_job(job, session, _actor(viewer))
    return JSONResponse(found.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


# -- keys ---------------------------------------------------------------------------------------


def _keys_page(
    viewer: Viewer, session: SessionDep, *, message: str = "", error: str = "", code: int = 200
) -> HTMLResponse:
    listed = keys_api.list_keys(session, _actor(viewer))
    timezone = localtime.common(session.scalars(select(Venue.timezone)))
    venues = [v.code for v in session.scalars(select(Venue).order_by(Venue.code))]
    return _page("office_keys.html", viewer, "keys", status_code=code, keys=listed,
                 timezone=timezone, venues=[v for v in venues if viewer.manages(v)],
                 message=message, error=error)  # fmt: skip


@router.get("/keys")
def keys_page(viewer: WriterViewerDep, session: SessionDep) -> Response:
    return _keys_page(viewer, session)


@router.post("/keys/rotate")
def rotate_key(
    viewer: WriterViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    csrf: CsrfField,
    venue: OptionalText = "",
) -> Response:
    """A new key: the platform's (admins), or a venue's own (its admins)."""
    check_csrf(viewer, csrf)
    try:
        keys_api.rotate(session, _actor(viewer), settings, KeyRotate(venue=venue or None))
    except ServerError as exc:
        return _keys_page(viewer, session, **_refused(session, viewer, exc))
    return _keys_page(viewer, session, message=render.speakers()[viewer.language].t("done"),
                      code=201)  # fmt: skip


@router.post("/keys/{kid}/retire")
def retire_key(
    viewer: WriterViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    kid: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{16}$")],
) -> Response:
    check_csrf(viewer, csrf)
    try:
        keys_api.retire(kid, session, _actor(viewer))
    except ServerError as exc:
        return _keys_page(viewer, session, **_refused(session, viewer, exc))
    return RedirectResponse(f"{OFFICE}/keys", status_code=status.HTTP_303_SEE_OTHER)


# -- accounts -----------------------------------------------------------------------------------


def _accounts_page(
    viewer: Viewer, session: SessionDep, *, message: str = "", error: str = "", code: int = 200
) -> HTMLResponse:
    listed = users_api.list_users(session, _actor(viewer))
    venues = [v.code for v in session.scalars(select(Venue).order_by(Venue.code))]
    return _page("office_accounts.html", viewer, "accounts", status_code=code, accounts=listed,
                 venues=venues, roles=list(roles.ROLES), message=message, error=error)  # fmt: skip


@router.get("/accounts")
def accounts_page(viewer: AdminViewerDep, session: SessionDep) -> Response:
    return _accounts_page(viewer, session)


@router.post("/accounts")
def create_account(
    viewer: AdminViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    name: Annotated[str, Form(max_length=80)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=200)] = "",
    venues: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """An account made in the browser: role, a venue admin's venues, a password for the pages;
    its API token shown once on the answer."""
    check_csrf(viewer, csrf)
    body = {"name": name.strip(), "role": role, "venues": venues or [],
            "password": password or None}  # fmt: skip
    data, error = _attempt(lambda: UserCreate.model_validate(body), viewer.language)
    if data is None:
        return _accounts_page(viewer, session, error=error, code=422)
    try:
        made = users_api.create_user(data, session, _actor(viewer))
    except ServerError as exc:
        return _accounts_page(viewer, session, **_refused(session, viewer, exc))
    say = render.speakers()[viewer.language]
    shown = say.t("account_token", user=made.name, token=made.token)
    return _accounts_page(viewer, session, code=201, message=shown)


@router.post("/accounts/{name}/kiosk-pin")
def set_kiosk_pin(
    viewer: AdminViewerDep,
    session: SessionDep,
    csrf: CsrfField,
    name: Annotated[str, Path(max_length=80)],
    pin: Annotated[str, Form(max_length=12)] = "",
    again: Annotated[str, Form(max_length=12)] = "",
    clear: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """A personal kiosk PIN for an account (typed twice), or taken away."""
    check_csrf(viewer, csrf)
    say = render.speakers()[viewer.language]
    if not clear and pin != again:
        return _accounts_page(viewer, session, error=say.t("pins_differ"), code=422)
    try:
        if clear:
            users_api.clear_kiosk_pin(name, session, _actor(viewer))
        else:
            # The service checks the digits and says so in the page's words (said="pin_digits").
            users_api.set_kiosk_pin(name, KioskPin.model_construct(pin=pin), session,
                                    _actor(viewer))  # fmt: skip
    except ServerError as exc:
        return _accounts_page(viewer, session, **_refused(session, viewer, exc))
    return _accounts_page(viewer, session, message=say.t("done"))


# -- audit --------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    viewer: AdminViewerDep,
    session: SessionDep,
    actor: Annotated[str, Query(max_length=80)] = "",
    action: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    entries = monitor_api.list_audit(
        session, _actor(viewer), action=action or None, actor=actor or None, limit=limit
    )
    timezone = localtime.common(session.scalars(select(Venue.timezone)))
    return _page(
        "office_audit.html", viewer, "audit", entries=entries, actor=actor, action=action,
        timezone=timezone, now=datetime.now(UTC),
    )  # fmt: skip
