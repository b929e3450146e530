"""The blacklist."""

from __future__ import annotations

from fastapi import APIRouter, status

from sync_server.api.deps import AdminDep, SessionDep, UserDep
from sync_server.schemas import BanCreate, BanPublic
from sync_server.services import bans
from sync_server.services.writes import commit

router = APIRouter(prefix="/bans", tags=["blacklist"])


@router.post("", status_code=status.HTTP_201_CREATED)
def add_ban(data: BanCreate, session: SessionDep, actor: AdminDep) -> BanPublic:
    ban, pending = bans.add_ban(session, data=data, actor=actor.name)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="ban.add",
        target=ban.id,
        detail={"scope": data.scope.value, "reason": data.reason, "severity": data.severity},
        remote_addr=actor.remote_addr,
    )
    return bans.to_public(ban)


@router.get("")
def list_bans(session: SessionDep, _: UserDep, include_removed: bool = False) -> list[BanPublic]:
    return [bans.to_public(b) for b in bans.list_bans(session, include_removed=include_removed)]


@router.delete("/{ban_id}")
def remove_ban(ban_id: str, session: SessionDep, actor: AdminDep) -> BanPublic:
    ban, pending = bans.remove_ban(session, ban_id=ban_id)
    commit(
        session,
        pending=pending,
        actor=actor.name,
        action="ban.remove",
        target=ban.id,
        remote_addr=actor.remote_addr,
    )
    return bans.to_public(ban)
