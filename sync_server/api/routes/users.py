"""Back-office accounts, made by an admin: role, venues (a venue admin's), a password for the
pages; the API token is answered once."""

from __future__ import annotations

from fastapi import APIRouter, status

from sync_server.api.deps import AdminDep, SessionDep
from sync_server.schemas import UserCreate, UserCreated, UserPublic
from sync_server.services import users
from sync_server.services.writes import commit

router = APIRouter(prefix="/users", tags=["accounts"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, session: SessionDep, actor: AdminDep) -> UserCreated:
    """A new account; its token is in this answer only. Audited (never the secrets)."""
    user, token = users.create_user(
        session, name=data.name, role=data.role, venues=data.venues, password=data.password
    )
    commit(
        session,
        actor=actor.name,
        action="user.create",
        target=user.name,
        detail={
            "role": data.role,
            "venues": sorted(data.venues),
            "password": data.password is not None,
        },
        remote_addr=actor.remote_addr,
    )
    return UserCreated(
        name=user.name, role=user.role, venues=sorted(set(data.venues)), disabled=False,
        has_password=data.password is not None, token=token,
    )  # fmt: skip


@router.get("")
def list_users(session: SessionDep, _: AdminDep) -> list[UserPublic]:
    return [
        UserPublic(
            name=a.name,
            role=a.role,
            venues=a.venues,
            disabled=a.disabled,
            has_password=a.has_password,
        )
        for a in users.accounts(session)
    ]
