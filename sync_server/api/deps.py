"""Request dependencies: the database session, and who is calling (a user by role, or a gate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import protocol
from shared.gate_wire import NUL_MESSAGE
from sync_server import roles
from sync_server.core.config import Settings, get_settings
from sync_server.core.limits import guesses
from sync_server.core.security import DEVICE_TOKEN_PREFIX, USER_TOKEN_PREFIX, hash_token
from sync_server.db import get_db, get_sessionmaker, read_only
from sync_server.models import Device, Gate, User, UserVenue, Venue
from sync_server.services import alerts

SessionDep = Annotated[Session, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a request and from where: what the audit log records."""

    name: str
    role: str
    remote_addr: str
    venues: frozenset[str] | None = None
    """The venues the account is confined to (``deps.scope_of``); None: every venue."""


@dataclass(frozen=True, slots=True)
class GateIdentity:
    device: Device
    gate: Gate
    venue: Venue

    @property
    def scopes(self) -> list[str]:
        return [self.venue.code, "*"]


async def url_without_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in path and query (bodies: ``schemas._In``)."""
    where = [("path", request.path_params.items()), ("query", request.query_params.multi_items())]
    errors = [
        {"type": "string_nul", "loc": (part, name), "msg": NUL_MESSAGE, "input": value}
        for part, items in where
        for name, value in items
        if "\x00" in name or "\x00" in str(value)
    ]
    if errors:
        raise RequestValidationError(errors)


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    return credentials.credentials


def current_user(request: Request, session: SessionDep, credentials: BearerDep) -> Actor:
    token = _token(credentials)
    if token.startswith(DEVICE_TOKEN_PREFIX):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a gate token cannot call this API")
    client = request.client.host if request.client else ""
    guesses().check(client)
    # Read who is calling without the write lock, and end that read: the endpoint runs in
    # another worker thread, and a request holding SQLite's write lock while it waits for one
    # (all of them queued behind that lock) deadlocks the server until busy timeouts expire.
    read_only(session)
    user = session.scalar(select(User).where(User.token_hash == hash_token(token)))
    if user is None or user.disabled:
        session.commit()
        guesses().failed(client)
        raise _unauthorized("unknown or disabled user token")
    if user.role not in roles.BACK_OFFICE:
        session.commit()
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"a {user.role} has no back office")
    venues = scope_of(session, user.id, user.role)
    session.commit()
    return Actor(user.name, user.role, client, venues)


def scope_of(session: Session, user_id: int, role: str) -> frozenset[str] | None:
    """The venues an account is confined to (``sync_server.roles``): a venue admin's always, a
    supervisor's when it was given some; None: every venue."""
    if role == roles.VENUE_ADMIN:
        return user_venues(session, user_id)
    if role == roles.SUPERVISOR:
        return user_venues(session, user_id) or None
    return None


def user_venues(session: Session, user_id: int) -> frozenset[str]:
    """The codes of the venues a venue admin manages."""
    return frozenset(
        session.scalars(
            select(Venue.code)
            .join(UserVenue, UserVenue.venue_id == Venue.id)
            .where(UserVenue.user_id == user_id)
        )
    )


def require_admin(actor: Annotated[Actor, Depends(current_user)]) -> Actor:
    if actor.role != roles.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this action needs the admin role")
    return actor


def require_writer(actor: Annotated[Actor, Depends(current_user)]) -> Actor:
    """An admin, or a venue admin (each route then checks the venue: ``roles.require_venue``)."""
    if actor.role not in roles.WRITERS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this action needs the admin role (or venue_admin, for its own venues)",
        )
    return actor


def _device(session: Session, token: str) -> Device | None:
    """The device whose token this is (revoked or not), by the token's hash."""
    return session.scalar(select(Device).where(Device.token_hash == hash_token(token)))


def current_gate(request: Request, session: SessionDep, credentials: BearerDep) -> GateIdentity:
    token = _token(credentials)
    if token.startswith(USER_TOKEN_PREFIX):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this API is for enrolled gates only")
    client = request.client.host if request.client else ""
    guesses().check(client)
    # Reading who is calling takes no write lock on SQLite, even in a request that writes next.
    read_only(session)
    device = _device(session, token)
    if device is None:
        guesses().failed(client)
        raise _unauthorized("unknown device token")
    if device.revoked_at is not None:
        raise _unauthorized("this device was revoked: enroll it again")
    gate = session.get(Gate, device.gate_id)
    assert gate is not None
    venue = session.get(Venue, gate.venue_id)
    assert venue is not None
    # Authenticated: end this read now, so that the endpoint's own transaction starts afresh (and
    # on SQLite takes the write lock only then, in the worker thread that writes).
    session.commit()
    return GateIdentity(device, gate, venue)


def gate_protocol(request: Request, session: SessionDep, credentials: BearerDep) -> None:
    """Refuse (426) a gate whose protocol this server does not serve, and say so on its tile."""
    header = request.headers.get(protocol.HEADER)
    why = protocol.refusal(header)
    if why is None:
        return
    token = credentials.credentials if credentials is not None else ""
    session.close()  # a GET's session only reads: the note below is written as a writer
    with get_sessionmaker()() as writer:
        device = _device(writer, token)
        if device is not None and device.revoked_at is None:
            gate = writer.get(Gate, device.gate_id)
            assert gate is not None
            # Kept until the gate's next heartbeat, which only a served protocol can send.
            gate.status = {**(gate.status or {}), "protocol_refused": why}
            alerts.protocol_refused(writer, gate=gate, stated=header or "", why=why)
            writer.commit()
    raise HTTPException(
        protocol.UPGRADE_REQUIRED,
        why,
        headers={"Upgrade": f"{protocol.HEADER}/{protocol.PROTOCOL}"},
    )


UserDep = Annotated[Actor, Depends(current_user)]
AdminDep = Annotated[Actor, Depends(require_admin)]
WriterDep = Annotated[Actor, Depends(require_writer)]
GateDep = Annotated[GateIdentity, Depends(current_gate)]
