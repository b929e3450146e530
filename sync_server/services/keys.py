"""Signing keys. The private half is encrypted at rest with the server's passphrase, is used only
to issue codes, and never appears in an API answer nor in the change feed.

States: ``active`` (signs new codes and is trusted by gates), ``verify`` (an older key, still
trusted so that codes already issued stay valid), ``retired`` (removed from every gate: its codes
get ``unknown_key``).

A key is the platform's (trusted by every gate) or a venue's own: rotated by that venue's admins,
sent to that venue's gates only, and signing the codes of that venue's events once it has one (a
code signed for one club's stadium is ``unknown_key`` at another's). One active key per scope.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.credential import key_id, raw_public_key
from shared.sync_schema import ChangeKind, KeyRow
from sync_server.errors import Conflict, NotFound
from sync_server.feed import GLOBAL_SCOPE, Pending
from sync_server.models import SigningKey, Venue


def create_key(
    session: Session, *, passphrase: str, venue: Venue | None = None
) -> tuple[SigningKey, list[Pending]]:
    """A new active key, the platform's or ``venue``'s own; the previous active key of the same
    scope keeps verifying (rotation)."""
    private = Ed25519PrivateKey.generate()
    public = raw_public_key(private.public_key())
    pem = private.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase.encode("utf-8"))
    )
    venue_id = None if venue is None else venue.id
    for older in session.scalars(
        select(SigningKey).where(SigningKey.status == "active", _of(venue_id))
    ):
        older.status = "verify"
    key = SigningKey(
        kid=key_id(public).hex(), public_key=public, private_pem=pem, status="active",
        venue_id=venue_id,
    )  # fmt: skip
    session.add(key)
    session.flush()
    scope = GLOBAL_SCOPE if venue is None else venue.code
    return key, [Pending.upsert(KeyRow(kid=key_id(public), public_key=public), scope)]


def _of(venue_id: int | None) -> Any:
    return SigningKey.venue_id.is_(None) if venue_id is None else SigningKey.venue_id == venue_id


def venue_of(session: Session, key: SigningKey) -> str | None:
    """The code of the key's venue; None for a platform key."""
    venue = None if key.venue_id is None else session.get(Venue, key.venue_id)
    return None if venue is None else venue.code


def get_key(session: Session, kid: str) -> SigningKey:
    key = session.get(SigningKey, kid)
    if key is None:
        raise NotFound(f"no key {kid!r}", said="no_key", kid=kid)
    return key


def retire_key(session: Session, *, kid: str) -> list[Pending]:
    key = get_key(session, kid)
    if key.status == "retired":
        return []
    if key.status == "active":
        raise Conflict(
            "rotate first: the active key signs new codes and cannot be retired",
            said="key_active",
        )
    key.status = "retired"
    key.retired_at = datetime.now(UTC)
    session.flush()
    return [Pending.delete(ChangeKind.KEY, kid, venue_of(session, key) or GLOBAL_SCOPE)]


def active_private_key(
    session: Session, *, passphrase: str, venue_id: int | None = None
) -> Ed25519PrivateKey:
    """The key that signs now: ``venue_id``'s own active key when it has one, else the
    platform's."""
    key = None
    if venue_id is not None:
        key = session.scalar(select(SigningKey).where(SigningKey.status == "active", _of(venue_id)))
    if key is None:
        key = session.scalar(select(SigningKey).where(SigningKey.status == "active", _of(None)))
    if key is None:
        raise Conflict(
            "no signing key yet: create one (gate-admin keys rotate)", said="no_signing_key"
        )
    private = load_pem_private_key(key.private_pem, passphrase.encode("utf-8"))
    if not isinstance(private, Ed25519PrivateKey):
        raise Conflict(f"key {key.kid} is not an Ed25519 key")
    return private


def list_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))
