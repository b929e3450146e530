"""Back-office accounts: who they are, their role and venues (``sync_server.roles``). Made by
``gate-server create-user`` on the server and by an admin through the API or the back office's
pages; the API token is returned once and only its hash is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.kiosk_pin import PinError, hash_pin
from shared.sync_schema import ChangeKind, StaffRow
from sync_server import roles
from sync_server.core.security import USER_TOKEN_PREFIX, hash_token, new_token
from sync_server.errors import Conflict, Invalid, NotFound
from sync_server.feed import GLOBAL_SCOPE, Pending
from sync_server.models import User, UserVenue, Venue
from sync_server.services import sessions


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    venues: list[str]
    disabled: bool
    has_password: bool
    kiosk_pin: bool = False


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    venues: Sequence[str] = (),
    password: str | None = None,
) -> tuple[User, str]:
    """A new account (in the caller's transaction) and its API token, shown only now."""
    if role not in roles.ROLES:
        raise Invalid(f"role must be one of {', '.join(roles.ROLES)}, not {role!r}")
    if (role == roles.VENUE_ADMIN and not venues) or (role == roles.ADMIN and venues):
        raise Invalid(
            "a venue_admin is given its venues, an admin none (it has them all)",
            said="venue_admin_venues",
        )
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} exists", said="user_exists", user=name)
    found = list(session.scalars(select(Venue).where(Venue.code.in_(sorted(set(venues))))))
    missing = sorted(set(venues) - {v.code for v in found})
    if missing:
        raise Invalid(f"no venue {', '.join(missing)}", said="no_venue", venue=", ".join(missing))
    token = new_token(USER_TOKEN_PREFIX)
    user = User(name=name, role=role, token_hash=hash_token(token))
    session.add(user)
    session.flush()
    session.add_all(UserVenue(user_id=user.id, venue_id=v.id) for v in found)
    if password is not None:
        try:
            sessions.set_password(session, user=user, password=password)
        except ValueError as exc:
            raise Invalid(str(exc), said="password_short", n=sessions.MIN_PASSWORD) from exc
    return user, token


def accounts(session: Session) -> list[Account]:
    """Every account, by name, with its venues (no secret of any kind)."""
    venues: dict[int, list[str]] = {}
    for user_id, code in session.execute(
        select(UserVenue.user_id, Venue.code).join(Venue, Venue.id == UserVenue.venue_id)
    ):
        venues.setdefault(user_id, []).append(code)
    return [
        Account(
            u.name,
            u.role,
            sorted(venues.get(u.id, [])),
            u.disabled,
            u.password_hash is not None,
            u.kiosk_pin_hash is not None,
        )
        for u in session.scalars(select(User).order_by(User.name))
    ]


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name!r}", said="no_user", user=name)
    return user


def venues_of(session: Session, user: User) -> list[str]:
    return sorted(
        session.scalars(
            select(Venue.code)
            .join(UserVenue, UserVenue.venue_id == Venue.id)
            .where(UserVenue.user_id == user.id)
        )
    )


def set_kiosk_pin(session: Session, *, user: User, pin: str | None) -> list[Pending]:
    """Give ``user`` a personal kiosk PIN (None: take it away); the feed changes that send it to
    (or take it from) the gates of their venues, every gate for an admin. An account with no
    venue and not an admin has nowhere to use one."""
    scopes = [GLOBAL_SCOPE] if user.role == roles.ADMIN else venues_of(session, user)
    if pin is not None and not scopes:
        raise Invalid(
            f"{user.name} has no venue: give the account its venues first",
            said="pin_no_venue", user=user.name,
        )  # fmt: skip
    if pin is None:
        user.kiosk_pin_hash = None
        return [Pending.delete(ChangeKind.STAFF, user.name, scope) for scope in scopes]
    try:
        user.kiosk_pin_hash = hash_pin(pin)
    except PinError as exc:
        raise Invalid(str(exc), said="pin_digits") from exc
    row = StaffRow(name=user.name, role=user.role, pin_hash=user.kiosk_pin_hash)
    return [Pending.upsert(row, scope) for scope in scopes]
