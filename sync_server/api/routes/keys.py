"""Signing keys: rotate (a new active key) and retire. Only public halves are ever returned."""

from __future__ import annotations

from fastapi import APIRouter, status

from sync_server.api.deps import AdminDep, SessionDep, SettingsDep
from sync_server.models import SigningKey
from sync_server.schemas import KeyPublic
from sync_server.services import keys
from sync_server.services.writes import commit

router = APIRouter(prefix="/keys", tags=["keys"])


def _public(key: SigningKey) -> KeyPublic:
    return KeyPublic(
        kid=key.kid,
        public_key=key.public_key.hex(),
        status=key.status,  # type: ignore[arg-type]
        created_at=key.created_at,
        retired_at=key.retired_at,
    )


@router.get("")
def list_keys(session: SessionDep, _: AdminDep) -> list[KeyPublic]:
    return [_public(k) for k in keys.list_keys(session)]


@router.post("/rotate", status_code=status.HTTP_201_CREATED)
def rotate(session: SessionDep, actor: AdminDep, settings: SettingsDep) -> KeyPublic:
    """A new key signs from now on; older keys keep verifying until retired."""
    key, pending = keys.create_key(session, passphrase=settings.key_passphrase)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="key.rotate",
        target=key.kid,
        remote_addr=actor.remote_addr,
    )
    return _public(key)


@router.post("/{kid}/retire")
def retire(kid: str, session: SessionDep, actor: AdminDep) -> KeyPublic:
    """Gates stop trusting the key: codes it signed are refused as unknown_key."""
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
    return _public(key)
