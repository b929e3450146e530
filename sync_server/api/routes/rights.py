"""Access rights: create, bulk import, transfer, revoke, season subscriptions, and their codes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from sync_server import qr
from sync_server.api.deps import AdminDep, SessionDep, SettingsDep
from sync_server.db import writes
from sync_server.models import AccessRight, Event
from sync_server.schemas import (
    MAX_INT,
    ImportReport,
    IssuedCode,
    RevokeRequest,
    RightCreate,
    RightPublic,
    SubscriptionCreate,
    SubscriptionPublic,
    TransferPublic,
    TransferRequest,
)
from sync_server.services import rights
from sync_server.services.writes import commit

router = APIRouter(tags=["access rights"])
MAX_IMPORT_BYTES = 64 * 1024 * 1024


@router.post("/rights", status_code=status.HTTP_201_CREATED)
def create_right(data: RightCreate, session: SessionDep, actor: AdminDep) -> RightPublic:
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
    responses={422: {"model": ImportReport, "description": "nothing imported: every bad row"}},
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
    actor: AdminDep,
    content_type: Annotated[str, Header()] = "text/csv",
) -> ImportReport:
    """Import rights from CSV (header line; zones separated by ``|``) or JSON, all or nothing.

    CSV columns: event, zones, holder, policy (single|reentry|unlimited), kind
    (ticket|subscription|staff|guest), seat, display_name, secret, not_before, expires.
    On any bad row nothing is imported and the answer (422) lists every bad row.
    """
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        return JSONResponse(  # type: ignore[return-value]
            {"detail": f"import larger than {MAX_IMPORT_BYTES} bytes"}, status_code=413
        )
    rows = rights.parse_rows(body, content_type)
    report, pending = rights.import_rights(session, rows=rows)
    if report.errors:
        session.rollback()
        return JSONResponse(report.model_dump(), status_code=422)  # type: ignore[return-value]
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="rights.import",
        target=f"{report.imported} rights",
        detail={"rows": len(rows), "content_type": content_type},
        remote_addr=actor.remote_addr,
    )
    return report


@router.get("/rights")
def list_rights(
    session: SessionDep,
    _: AdminDep,
    event: str | None = None,
    holder_id: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> list[RightPublic]:
    query = select(AccessRight, Event.code).join(Event, Event.id == AccessRight.event_id)
    if event is not None:
        query = query.where(Event.code == event)
    if holder_id is not None:
        query = query.where(AccessRight.holder == bytes.fromhex(holder_id))
    rows = session.execute(query.order_by(AccessRight.created_at).limit(limit).offset(offset))
    return [rights.to_public(r, code) for r, code in rows.all()]


@router.get("/rights/{right_id}")
def get_right(right_id: str, session: SessionDep, _: AdminDep) -> RightPublic:
    right, event = rights.get_right(session, right_id)
    return rights.to_public(right, event.code)


@router.post("/rights/{right_id}/revoke")
def revoke(right_id: str, data: RevokeRequest, session: SessionDep, actor: AdminDep) -> RightPublic:
    right, event = rights.get_right(session, right_id)
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
    session: SessionDep,
    actor: AdminDep,
    settings: SettingsDep,
) -> TransferPublic:
    """A new right and a new code for the new holder; the old right is revoked."""
    right, event = rights.get_right(session, right_id)
    new, pending = rights.transfer_right(session, right=right, event=event, data=data)
    code = rights.issue_code(session, right=new, event=event, passphrase=settings.key_passphrase)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="right.transfer",
        target=right_id,
        detail={"new_right": new.id.hex()},
        remote_addr=actor.remote_addr,
    )
    return TransferPublic(
        old=rights.to_public(right, event.code), new=rights.to_public(new, event.code), code=code
    )


def _issue(right_id: str, session: SessionDep, actor: AdminDep, passphrase: str) -> str:
    right, event = rights.get_right(session, right_id)
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
    right_id: str, session: SessionDep, actor: AdminDep, settings: SettingsDep
) -> IssuedCode:
    """The text of the right's QR code (a signed EG1 credential, or its plain secret)."""
    return IssuedCode(
        right_id=right_id, code=_issue(right_id, session, actor, settings.key_passphrase)
    )


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
    actor: AdminDep,
    settings: SettingsDep,
    scale: Annotated[int, Query(ge=1, le=40)] = 6,
) -> Response:
    """The right's QR code as an image, error correction M, alphanumeric mode for EG1 codes."""
    code = _issue(right_id, session, actor, settings.key_passphrase)
    media = "image/png" if fmt == "png" else "image/svg+xml"
    return Response(
        qr.render(code, "png" if fmt == "png" else "svg", scale=scale), media_type=media
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
