"""Holders' links to their rotating tickets (``/t/<token>``, issue 18).

A link is a random token (32 bytes, URL-safe base64): it is given once, and kept only as its
SHA-256, so the database (or a backup of it) gives no one a working link. A right has at most one
live link: making a new one ends the last; revoking the right (a transfer does) ends it too.
What the page shows is the right's own: event, venue, zones, seat, the name if the right carries
one, and its rotating code.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sync_server.errors import Conflict
from sync_server.models import AccessRight, Event, HolderLink

TOKEN_BYTES = 32
TOKEN_LENGTH = 43
"""A token's length in ``/t/<token>``: 32 bytes in URL-safe base64, unpadded."""
PATH = "/t/"
NOTED_EVERY = timedelta(minutes=5)
"""A link's last opening is written at most this often: a stadium's holders reopening their
pages at the gates must not each cost the database a write."""
REPLACED = "replaced by a new link"
SWITCHED_OFF = "switched off in the back office"
"""Why a link ended, as kept (a right's own revocation reason otherwise: ``transferred``...)."""


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii")).digest()


def url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}{PATH}{token}"


def issue(session: Session, *, right: AccessRight, by: str) -> str:
    """A new link for ``right`` (the last one, if any, stops working); its token, given once."""
    if right.status == "revoked":
        raise Conflict(f"right {right.id.hex()} is revoked ({right.revoked_reason})")
    if not right.rotating:
        raise Conflict(
            "this right is not issued rotating: a holder's link shows rotating codes only",
            said="not_rotating",
        )
    end(session, right=right, reason=REPLACED)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(HolderLink(token_hash=token_hash(token), right_id=right.id, created_by=by))
    session.flush()
    return token


def end(session: Session, *, right: AccessRight, reason: str) -> int:
    """End ``right``'s live link, if it has one; how many were ended (0 or 1)."""
    result = session.execute(
        update(HolderLink)
        .where(HolderLink.right_id == right.id, HolderLink.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live(session: Session, right: AccessRight) -> HolderLink | None:
    return session.scalar(
        select(HolderLink).where(HolderLink.right_id == right.id, HolderLink.revoked_at.is_(None))
    )


@dataclass(frozen=True, slots=True)
class Opened:
    """What a token leads to: its link, and the right and event while the link is live."""

    link: HolderLink
    right: AccessRight
    event: Event

    @property
    def usable(self) -> bool:
        return self.link.revoked_at is None and self.right.status == "active"


def open_link(session: Session, token: str, *, note: bool = False) -> Opened | None:
    """The link ``token`` names (None: no such link); ``note``: its opening noted."""
    link = session.get(HolderLink, token_hash(token))
    if link is None:
        return None
    right = session.get(AccessRight, link.right_id)
    assert right is not None
    event = session.get(Event, right.event_id)
    assert event is not None
    now = datetime.now(UTC)
    stale = link.opened_at is None or now - link.opened_at > NOTED_EVERY
    if note and link.revoked_at is None and stale:
        link.opened_at = now
    return Opened(link, right, event)
