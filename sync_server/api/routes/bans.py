"""The blacklist."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from sync_server.api.deps import SessionDep, UserDep, WriterDep
from sync_server.schemas import BanCreate, BanPublic
from sync_server.services import bans
from sync_server.services.writes import commit

router = APIRouter(prefix="/bans", tags=["blacklist"])


@router.post("", status_code=status.HTTP_201_CREATED)
def add_ban(data: BanCreate, session: SessionDep, actor: WriterDep) -> BanPublic:
    """A ban follows the person to every venue: an admin or any venue admin may add one."""
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
def list_bans(
    session: SessionDep,
    _: UserDep,
    include_removed: bool = False,
    holder: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    search: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> list[BanPublic]:
    """Bans, newest first; ``holder``: the person's own reference (their bans, on them or on
    any right of theirs); ``search``: a piece of a reference, a reason or a ban id."""
    found = bans.list_bans(session, include_removed=include_removed, holder=holder, search=search)
    return [bans.to_public(b) for b in found]


@router.delete("/{ban_id}")
def remove_ban(ban_id: str, session: SessionDep, actor: WriterDep) -> BanPublic:
    """An admin lifts any ban; a venue admin, the bans of their own making."""
    bans.require_may_lift(session, ban_id=ban_id, actor=actor.name, admin=actor.venues is None)
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
