"""Back-office accounts: who they are, their role and venues (``sync_server.roles``). Made by
``gate-server create-user`` on the server and by an admin through the API or the back office's
pages; the API token is returned once and only its hash is kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server import roles
from sync_server.core.security import USER_TOKEN_PREFIX, hash_token, new_token
from sync_server.errors import Conflict, Invalid
from sync_server.models import User, UserVenue, Venue
from sync_server.services import sessions


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: str
    venues: list[str]
    disabled: bool
    has_password: bool


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
    if (role == roles.VENUE_ADMIN) != bool(venues):
        raise Invalid(
            "a venue_admin is given its venues, and only a venue_admin is",
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
            u.name, u.role, sorted(venues.get(u.id, [])), u.disabled, u.password_hash is not None
        )
        for u in session.scalars(select(User).order_by(User.name))
    ]
