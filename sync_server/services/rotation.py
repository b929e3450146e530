"""Venues' rotation keys (``shared.rotating``): made and rotated by the venue's admins, sent to
the venue's gates, and used to hand a rotating right's secret to its holder.

States as for signing keys: ``active`` (new rotating codes use it), ``verify`` (an older key,
still sent to gates so that holders' pages made with it keep working), ``retired``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import rotating
from shared.sync_schema import ChangeKind, RotationKeyRow
from sync_server.errors import Conflict, NotFound
from sync_server.feed import Pending
from sync_server.models import AccessRight, Event, RotationKey, Venue
from sync_server.services.rights import issue_code

KEY_BYTES = 32


def rotate(session: Session, *, venue: Venue) -> tuple[RotationKey, list[Pending]]:
    """A new active rotation key for ``venue``; the previous one keeps verifying."""
    key = secrets.token_bytes(KEY_BYTES)
    rkid = rotating.rotation_key_id(key)
    for older in session.scalars(
        select(RotationKey).where(RotationKey.venue_id == venue.id, RotationKey.status == "active")
    ):
        older.status = "verify"
    made = RotationKey(rkid=rkid.hex(), venue_id=venue.id, key=key, status="active")
    session.add(made)
    session.flush()
    return made, [Pending.upsert(RotationKeyRow(rkid=rkid, key=key), venue.code)]


def retire(session: Session, *, venue: Venue, rkid: str) -> list[Pending]:
    found = session.get(RotationKey, rkid)
    if found is None or found.venue_id != venue.id:
        raise NotFound(f"no rotation key {rkid!r} at {venue.code}", said="no_key", kid=rkid)
    if found.status == "active":
        raise Conflict("rotate first: the active rotation key cannot be retired",
                       said="key_active")  # fmt: skip
    found.status = "retired"
    return [Pending.delete(ChangeKind.ROTATION_KEY, rkid, venue.code)]


def in_use(session: Session, venue: Venue) -> bool:
    """The venue has a rotation key its gates hold (active or verifying)."""
    held = select(RotationKey.rkid).where(
        RotationKey.venue_id == venue.id, RotationKey.status != "retired"
    )
    return session.scalar(held.limit(1)) is not None


def keys_of(session: Session, venue: Venue) -> list[RotationKey]:
    return list(
        session.scalars(
            select(RotationKey)
            .where(RotationKey.venue_id == venue.id)
            .order_by(RotationKey.created_at)
        )
    )


@dataclass(frozen=True, slots=True)
class Rotating:
    """What a holder's page or wallet needs to show a right's rotating code."""

    rkid: str
    """Upper-case hexadecimal, as in the code."""
    secret: bytes
    credential: str

    @property
    def value_pattern(self) -> str:
        """Google Wallet's ``valuePattern``: the code with its two substitutions."""
        return rotating.compose(
            self.rkid, rotating.WALLET_TIMESTAMP, rotating.WALLET_VALUE, self.credential
        )

    def code_at(self, at_s: int) -> str:
        return rotating.shown(self.secret, self.rkid, self.credential, at_s)


def active_key(session: Session, venue_id: int) -> RotationKey:
    """The venue's active rotation key; Conflict if it has none yet."""
    key = session.scalar(
        select(RotationKey).where(RotationKey.venue_id == venue_id, RotationKey.status == "active")
    )
    if key is None:
        raise Conflict(
            "this venue has no rotation key yet: rotate one (gate-admin rotation-key rotate)",
            said="no_rotation_key",
        )
    return key


def for_right(session: Session, *, right: AccessRight, event: Event, credential: str) -> Rotating:
    """The right's rotating code material under its venue's active rotation key."""
    key = active_key(session, event.venue_id)
    return Rotating(key.rkid.upper(), rotating.right_secret(key.key, right.id), credential)


def material(session: Session, *, right: AccessRight, event: Event, passphrase: str) -> Rotating:
    """A right's rotating code material with a freshly signed credential: for its holder's
    page, its wallet ticket, the API. Conflict for a plain code (another system's: no right id
    to derive from) or a venue without a rotation key."""
    if right.secret is not None:
        raise Conflict("a plain code (from another ticketing system) does not rotate",
                       said="plain_does_not_rotate")  # fmt: skip
    credential = issue_code(session, right=right, event=event, passphrase=passphrase)
    return for_right(session, right=right, event=event, credential=credential)
