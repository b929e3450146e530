"""Signing keys. The private half is encrypted at rest with the server's passphrase, is used only
to issue codes, and never appears in an API answer nor in the change feed.

States: ``active`` (signs new codes and is trusted by gates), ``verify`` (an older key, still
trusted so that codes already issued stay valid), ``retired`` (removed from every gate: its codes
get ``unknown_key``).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
from sync_server.models import SigningKey


def create_key(session: Session, *, passphrase: str) -> tuple[SigningKey, list[Pending]]:
    """A new active key; the previous active key keeps verifying (rotation)."""
    private = Ed25519PrivateKey.generate()
    public = raw_public_key(private.public_key())
    pem = private.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase.encode("utf-8"))
    )
    for older in session.scalars(select(SigningKey).where(SigningKey.status == "active")):
        older.status = "verify"
    key = SigningKey(kid=key_id(public).hex(), public_key=public, private_pem=pem, status="active")
    session.add(key)
    session.flush()
    return key, [Pending.upsert(KeyRow(kid=key_id(public), public_key=public), GLOBAL_SCOPE)]


def retire_key(session: Session, *, kid: str) -> list[Pending]:
    key = session.get(SigningKey, kid)
    if key is None:
        raise NotFound(f"no key {kid!r}", said="no_key", kid=kid)
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
    return [Pending.delete(ChangeKind.KEY, kid, GLOBAL_SCOPE)]


def active_private_key(session: Session, *, passphrase: str) -> Ed25519PrivateKey:
    key = session.scalar(select(SigningKey).where(SigningKey.status == "active"))
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
