"""Access rights: create, bulk import, transfer, revoke, season subscriptions, and their codes."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select

from shared import rotating
from shared.i18n import DEFAULT_LANGUAGE, Language
from sync_server import qr, roles
from sync_server.api.deps import Actor, AdminDep, SessionDep, SettingsDep, WriterDep
from sync_server.core.config import Settings
from sync_server.dashboard import report_pdf as ticket_file
from sync_server.db import writes
from sync_server.errors import Conflict, NotFound
from sync_server.models import AccessRight, Event, ImportJob, Venue
from sync_server.schemas import (
    MAX_INT,
    HolderLinkPublic,
    ImportJobPublic,
    ImportReport,
    IssuedCode,
    RevokeRequest,
    RightCreate,
    RightPublic,
    RotatingCodePublic,
    SubscriptionCreate,
    SubscriptionPublic,
    TransferPublic,
    TransferRequest,
)
from sync_server.services import holder_links, imports, layouts, rights, rotation, site, wallet
from sync_server.services.writes import commit

router = APIRouter(tags=["access rights"])
MAX_IMPORT_BYTES = 64 * 1024 * 1024


def _their_right(session: SessionDep, right_id: str, actor: Actor) -> tuple[AccessRight, Event]:
    """The right, if the caller manages its event's venue (``roles``)."""
    right, event = rights.get_right(session, right_id)
    roles.require_venue(actor, rights.venue_code(session, event))
    return right, event


@router.post("/rights", status_code=status.HTTP_201_CREATED)
def create_right(data: RightCreate, session: SessionDep, actor: WriterDep) -> RightPublic:
    roles.require_venue(actor, rights.venue_code(session, site.get_event(session, data.event)))
    right, event, pending = rights.create_right(session, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="right.create",
        target=right.id.hex(),
        detail={"event": data.event, "zones": data.zones},
        remote_addr=actor.remote_addr,
    )
    return rights.to_public(right, event.code)


@router.post(
    "/rights/import",
    response_class=JSONResponse,
    responses={
        200: {"model": ImportReport, "description": "imported"},
        202: {"description": "background=true: the job, to follow at /api/v1/jobs/{job}"},
        422: {"model": ImportReport, "description": "nothing imported: the first bad rows"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {"type": "array", "items": RightCreate.model_json_schema()}
                },
            },
        }
    },
)
async def import_rights(
    request: Request,
    session: SessionDep,
    actor: WriterDep,
    content_type: Annotated[str, Header()] = "text/csv",
    background: bool = False,
) -> Response:
    """Import rights from CSV (header line; zones separated by ``|``) or JSON, all or nothing.

    CSV columns: event, zones, holder, policy (single|reentry|unlimited), kind
    (ticket|subscription|staff|guest), seat, display_name, secret, not_before, expires.
    On any bad row nothing is imported and the answer (422) lists the first bad rows.

    The import runs in a worker thread as a job, in short transactions (the gates go on being
    served meanwhile). ``background=true``: answered at once (202) with the job, whose progress
    ``GET /api/v1/jobs/{job}`` reads; otherwise answered when it is done.
    """
    session.close()  # authenticated: the job uses sessions of its own
    path = imports.spool_path()
    try:
        size = 0
        with path.open("wb") as spool:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    break  # refused below, without reading the rest
                spool.write(chunk)
        if size > MAX_IMPORT_BYTES:
            path.unlink(missing_ok=True)
            return JSONResponse(
                {"detail": f"import larger than {MAX_IMPORT_BYTES} bytes"}, status_code=413
            )
        job = await run_in_threadpool(imports.new_job, actor=actor.name, content_type=content_type)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    job_args = {"content_type": content_type, "actor": actor.name,
                "remote_addr": actor.remote_addr}  # fmt: skip
    if background:
        threading.Thread(
            target=_in_background, args=(job, path), kwargs=job_args, daemon=True,
            name=f"import-{job[:8]}",
        ).start()  # fmt: skip
        return JSONResponse({"job": job, "state": "queued"}, status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job}"})  # fmt: skip
    report = await run_in_threadpool(imports.run_in_process, job, path, **job_args)
    code = 422 if report.error_count else 200
    return JSONResponse(report.model_dump(), status_code=code)


def _in_background(job: str, path: FilePath, **job_args: str) -> None:
    with contextlib.suppress(Exception):  # the job records what went wrong
        imports.run_in_process(job, path, **job_args)


@router.get("/jobs/{job}")
def get_job(job: Annotated[str, Path(pattern="^[0-9a-f]{32}$")], session: SessionDep,
            actor: WriterDep) -> ImportJobPublic:  # fmt: skip
    """An import's progress and outcome (a venue admin's own imports only)."""
    found = session.get(ImportJob, job)
    if found is None or (actor.venues is not None and found.actor != actor.name):
        raise NotFound(f"no job {job}")
    return ImportJobPublic(
        job=found.id,
        state=found.state,
        rows=found.rows,
        imported=found.imported,
        error_count=found.error_count,
        errors=list(imports.job_errors(found)),
        message=found.message,
        created_at=found.created_at,
        finished_at=found.finished_at,
        right_ids=list(found.right_ids or []),
    )


@router.get("/rights")
def list_rights(
    session: SessionDep,
    actor: WriterDep,
    event: str | None = None,
    holder_id: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> list[RightPublic]:
    query = select(AccessRight, Event.code).join(Event, Event.id == AccessRight.event_id)
    if actor.venues is not None:  # a venue admin reads their venues' tickets only
        query = query.join(Venue, Venue.id == Event.venue_id).where(
            Venue.code.in_(sorted(actor.venues))
        )
    if event is not None:
        query = query.where(Event.code == event)
    if holder_id is not None:
        query = query.where(AccessRight.holder == bytes.fromhex(holder_id))
    rows = session.execute(query.order_by(AccessRight.created_at).limit(limit).offset(offset))
    return [rights.to_public(r, code) for r, code in rows.all()]


@router.get("/rights/{right_id}")
def get_right(right_id: str, session: SessionDep, actor: WriterDep) -> RightPublic:
    right, event = _their_right(session, right_id, actor)
    return rights.to_public(right, event.code)


@router.post("/rights/{right_id}/revoke")
def revoke(
    right_id: str, data: RevokeRequest, session: SessionDep, actor: WriterDep
) -> RightPublic:
    right, event = _their_right(session, right_id, actor)
    pending = rights.revoke_right(session, right=right, event=event, reason=data.reason)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="right.revoke",
        target=right_id,
        detail={"reason": data.reason},
        remote_addr=actor.remote_addr,
    )
    return rights.to_public(right, event.code)


@router.post("/rights/{right_id}/transfer", status_code=status.HTTP_201_CREATED)
def transfer(
    right_id: str,
    data: TransferRequest,
    request: Request,
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
) -> TransferPublic:
    """A new right and a new code for the new holder (a rotating right: a new holder's link,
    and so a new secret); the old right is revoked, its link dead."""
    right, event = _their_right(session, right_id, actor)
    new, pending = rights.transfer_right(session, right=right, event=event, data=data)
    code, link = None, None
    if new.rotating:  # a new right, so a new secret; the old link ended with the old right
        link = holder_links.url(
            _holder_base(request, settings), holder_links.issue(session, right=new, by=actor.name)
        )
    else:
        code = rights.issue_code(
            session, right=new, event=event, passphrase=settings.key_passphrase
        )
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="right.transfer",
        target=right_id,
        detail={"new_right": new.id.hex(), "holder_link": link is not None},
        remote_addr=actor.remote_addr,
    )
    return TransferPublic(
        old=rights.to_public(right, event.code),
        new=rights.to_public(new, event.code),
        code=code,
        holder_link=link,
    )


def _holder_base(request: Request, settings: Settings) -> str:
    """Where holders reach this server: the setting, else the address this call came to."""
    return settings.holder_base_url or str(request.base_url)


@router.post("/rights/{right_id}/holder-link", status_code=status.HTTP_201_CREATED)
def make_holder_link(
    right_id: str, request: Request, session: SessionDep, actor: WriterDep, settings: SettingsDep
) -> HolderLinkPublic:
    """The holder's link to a rotating ticket (``/t/<token>``): shown once, kept hashed; the
    right's previous link, if any, stops working."""
    right, event = _their_right(session, right_id, actor)
    rotation.active_key(session, event.venue_id)  # the venue can make rotating codes
    token = holder_links.issue(session, right=right, by=actor.name)
    commit(session, actor=actor.name, action="right.holder_link", target=right_id,
           remote_addr=actor.remote_addr)  # fmt: skip
    return HolderLinkPublic(
        right_id=right_id, url=holder_links.url(_holder_base(request, settings), token)
    )


@router.delete("/rights/{right_id}/holder-link", status_code=status.HTTP_204_NO_CONTENT)
def end_holder_link(right_id: str, session: SessionDep, actor: WriterDep) -> Response:
    """The right's link stops working (a phone lost, a link sent to the wrong person); the
    right stays valid: make a new link for its holder."""
    right, _ = _their_right(session, right_id, actor)
    if not holder_links.end(session, right=right, reason=holder_links.SWITCHED_OFF):
        raise NotFound(f"right {right_id} has no live holder's link", said="no_holder_link")
    commit(session, actor=actor.name, action="right.holder_link_revoke", target=right_id,
           remote_addr=actor.remote_addr)  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _issue(right_id: str, session: SessionDep, actor: WriterDep, passphrase: str) -> str:
    """A static code (text, image, PDF): never of a rotating right, which gates would refuse."""
    right, event = _their_right(session, right_id, actor)
    if right.rotating:
        raise Conflict(
            "this ticket opens only as a rotating code: give its holder's link "
            f"(POST /rights/{right_id}/holder-link) or its wallet object",
            said="rotating_right",
        )
    code = rights.issue_code(session, right=right, event=event, passphrase=passphrase)
    commit(
        session,
        actor=actor.name,
        action="right.issue",
        target=right_id,
        remote_addr=actor.remote_addr,
    )
    return code


@router.get("/rights/{right_id}/code")
@writes
def issue_code(
    right_id: str, session: SessionDep, actor: WriterDep, settings: SettingsDep
) -> IssuedCode:
    """The text of the right's QR code (a signed EG1 credential, or its plain secret)."""
    return IssuedCode(
        right_id=right_id, code=_issue(right_id, session, actor, settings.key_passphrase)
    )


@router.get("/rights/{right_id}/rotating")
@writes
def rotating_code(
    right_id: str, session: SessionDep, actor: WriterDep, settings: SettingsDep
) -> RotatingCodePublic:
    """The right's rotating code material (issue 18): its signed credential, its own secret
    under the venue's active rotation key, the period, the digits, and Google Wallet's
    ``valuePattern``. Audited like a code; hand the secret to the holder only."""
    right, event = _their_right(session, right_id, actor)
    made = rotation.material(session, right=right, event=event, passphrase=settings.key_passphrase)
    commit(session, actor=actor.name, action="right.issue_rotating", target=right_id,
           detail={"rkid": made.rkid}, remote_addr=actor.remote_addr)  # fmt: skip
    return RotatingCodePublic(
        right_id=right_id, rkid=made.rkid, secret=made.secret.hex().upper(),
        period_s=rotating.PERIOD_S, digits=rotating.DIGITS, value_pattern=made.value_pattern,
        code=made.code_at(int(datetime.now(UTC).timestamp())),
    )  # fmt: skip


@router.get("/rights/{right_id}/wallet.json")
@writes
def wallet_ticket(
    right_id: str,
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
    lang: Annotated[Language, Query()] = DEFAULT_LANGUAGE,
) -> dict[str, Any]:
    """The right as a Google Wallet event ticket with a rotating barcode: the payload
    (``eventTicketClasses``, ``eventTicketObjects``) to insert with the organiser's issuer
    account (``ENTRIX_WALLET_ISSUER_ID``). It holds the right's secret: the holder's only.
    Audited like a code."""
    right, event = _their_right(session, right_id, actor)
    if not settings.wallet_issuer_id:
        raise Conflict("no Google Wallet issuer id is set (ENTRIX_WALLET_ISSUER_ID)",
                       said="no_wallet_issuer")  # fmt: skip
    made = rotation.material(session, right=right, event=event, passphrase=settings.key_passphrase)
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    names = {z.code: z.name for z in layouts.zones_of(session, layouts.of_event(session, event))}
    issuer = settings.wallet_issuer_id
    document = wallet.payload(
        wallet.event_class(issuer_id=issuer, event=event, venue=venue, language=lang.value),
        wallet.ticket_object(issuer_id=issuer, right=right, event=event, made=made,
                             zone_names=[names.get(z, z) for z in right.zones],
                             language=lang.value),
    )  # fmt: skip
    commit(session, actor=actor.name, action="right.issue_wallet", target=right_id,
           detail={"rkid": made.rkid}, remote_addr=actor.remote_addr)  # fmt: skip
    return document


@router.get(
    "/rights/{right_id}/qr.{fmt}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
@writes
def issue_qr(
    right_id: str,
    fmt: Annotated[str, Path(pattern="^(png|svg)$")],
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
    scale: Annotated[int, Query(ge=1, le=40)] = 6,
) -> Response:
    """The right's QR code as an image, error correction M, alphanumeric mode for EG1 codes."""
    code = _issue(right_id, session, actor, settings.key_passphrase)
    media = "image/png" if fmt == "png" else "image/svg+xml"
    return Response(
        qr.render(code, "png" if fmt == "png" else "svg", scale=scale), media_type=media
    )


@router.get(
    "/rights/{right_id}/ticket.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
@writes
def ticket_pdf(
    right_id: str,
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
    lang: Annotated[Language, Query()] = DEFAULT_LANGUAGE,
) -> Response:
    """The ticket to print or send, as an A6 PDF: its QR code (issued, audited), the event in its
    venue's time, the zones' names, seat and name, in ``lang`` (fr, ar, en)."""
    right, event = _their_right(session, right_id, actor)
    venue = session.get(Venue, event.venue_id)
    assert venue is not None
    code = _issue(right_id, session, actor, settings.key_passphrase)
    names = {z.code: z.name for z in layouts.zones_of(session, layouts.of_event(session, event))}
    document = ticket_file.ticket(
        right=rights.to_public(right, event.code),
        event_name=event.name,
        starts_at=datetime.fromtimestamp(event.starts_at, UTC),
        venue_name=venue.name,
        timezone=venue.timezone,
        zone_names=[names.get(z, z) for z in right.zones],
        code=code,
        language=lang,
    )
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="ticket-{right_id.lower()}.pdf"'},
    )


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED)
def subscribe(data: SubscriptionCreate, session: SessionDep, actor: AdminDep) -> SubscriptionPublic:
    """A season ticket: one right per event of the season, now and for events added later."""
    subscription, made, pending = rights.subscribe(session, data=data)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="subscription.create",
        target=str(subscription.id),
        detail={"season": data.season, "rights": len(made)},
        remote_addr=actor.remote_addr,
    )
    return SubscriptionPublic(
        id=subscription.id,
        season=data.season,
        holder_id=subscription.holder.hex(),
        zones=subscription.zones,
        rights=[rights.to_public(r, e.code) for r, e in made],
    )
