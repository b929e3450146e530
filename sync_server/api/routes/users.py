"""Back-office accounts, made by an admin: role, venues (a venue admin's), a password for the
pages; the API token is answered once."""

from __future__ import annotations

from fastapi import APIRouter, status

from sync_server.api.deps import AdminDep, SessionDep
from sync_server.schemas import KioskPin, UserCreate, UserCreated, UserPublic
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
            kiosk_pin=a.kiosk_pin,
        )
        for a in users.accounts(session)
    ]


@router.put("/{name}/kiosk-pin", status_code=status.HTTP_204_NO_CONTENT)
def set_kiosk_pin(name: str, data: KioskPin, session: SessionDep, actor: AdminDep) -> None:
    """A personal PIN for the gates' supervisor panel, sent (hashed) to the gates of the
    account's venues: there it opens the panel, and what is done is recorded under its name."""
    user = users.get_user(session, name)
    pending = users.set_kiosk_pin(session, user=user, pin=data.pin)
    commit(session, pending=pending, actor=actor.name, action="user.kiosk_pin", target=user.name,
           detail={"venues": users.venues_of(session, user)},
           remote_addr=actor.remote_addr)  # fmt: skip


@router.delete("/{name}/kiosk-pin", status_code=status.HTTP_204_NO_CONTENT)
def clear_kiosk_pin(name: str, session: SessionDep, actor: AdminDep) -> None:
    """Take the account's kiosk PIN away: the gates forget it at their next sync."""
    user = users.get_user(session, name)
    pending = users.set_kiosk_pin(session, user=user, pin=None)
    commit(session, pending=pending, actor=actor.name, action="user.kiosk_pin_clear",
           target=user.name, remote_addr=actor.remote_addr)  # fmt: skip
