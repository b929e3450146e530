"""Signing keys: the platform's (admins) and each venue's own (its venue admins): rotate (a new
active key) and retire. Only public halves are ever returned."""

from __future__ import annotations

from fastapi import APIRouter, Body, status

from sync_server import roles
from sync_server.api.deps import Actor, SessionDep, SettingsDep, WriterDep
from sync_server.errors import Forbidden
from sync_server.models import SigningKey
from sync_server.schemas import KeyPublic, KeyRotate
from sync_server.services import keys, site
from sync_server.services.writes import commit

router = APIRouter(prefix="/keys", tags=["keys"])


def _public(session: SessionDep, key: SigningKey) -> KeyPublic:
    return KeyPublic(
        kid=key.kid,
        public_key=key.public_key.hex(),
        status=key.status,  # type: ignore[arg-type]
        created_at=key.created_at,
        retired_at=key.retired_at,
        venue=keys.venue_of(session, key),
    )


def _may_change(actor: Actor, venue: str | None) -> None:
    """A platform key is the admins'; a venue's, its admins' too."""
    if venue is None:
        if actor.role != roles.ADMIN:
            raise Forbidden(
                "the platform's keys are the admins': give your venue to rotate its own key",
                said="platform_key",
            )
        return
    roles.require_venue(actor, venue)


@router.get("")
def list_keys(session: SessionDep, actor: WriterDep) -> list[KeyPublic]:
    """The platform's keys, and the venues' own keys the account reads."""
    found = [_public(session, k) for k in keys.list_keys(session)]
    return [k for k in found if k.venue is None or roles.reads(actor, k.venue)]


@router.post("/rotate", status_code=status.HTTP_201_CREATED)
def rotate(
    session: SessionDep,
    actor: WriterDep,
    settings: SettingsDep,
    data: KeyRotate | None = Body(default=None),  # noqa: B008 - FastAPI's way of an optional body
) -> KeyPublic:
    """A new key signs from now on (the platform's, or ``venue``'s own: it then signs that
    venue's codes, and only its gates trust it); older keys keep verifying until retired."""
    code = None if data is None else data.venue
    _may_change(actor, code)
    venue = None if code is None else site.get_venue(session, code)
    key, pending = keys.create_key(session, passphrase=settings.key_passphrase, venue=venue)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="key.rotate",
        target=key.kid,
        detail={"venue": code},
        remote_addr=actor.remote_addr,
    )
    return _public(session, key)


@router.post("/{kid}/retire")
def retire(kid: str, session: SessionDep, actor: WriterDep) -> KeyPublic:
    """Gates stop trusting the key: codes it signed are refused as unknown_key."""
    _may_change(actor, keys.venue_of(session, keys.get_key(session, kid)))
    pending = keys.retire_key(session, kid=kid)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="key.retire",
        target=kid,
        remote_addr=actor.remote_addr,
    )
    key = session.get(SigningKey, kid)
    assert key is not None
    return _public(session, key)
