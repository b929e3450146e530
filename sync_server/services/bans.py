"""The blacklist: bans on one access right or on a person (all their rights), for a period."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from shared.model import BanScope
from shared.sync_schema import BanRow, ChangeKind
from sync_server.errors import Conflict, Forbidden, Invalid, NotFound
from sync_server.feed import GLOBAL_SCOPE, Pending
from sync_server.models import AccessRight, Ban
from sync_server.schemas import BanCreate, BanPublic
from sync_server.services.holders import holder_id


def _seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def add_ban(session: Session, *, data: BanCreate, actor: str) -> tuple[Ban, list[Pending]]:
    """Bans travel to every gate (a stadium ban follows the person from venue to venue)."""
    if data.scope is BanScope.RIGHT:
        if data.right_id is None or data.holder is not None:
            raise Invalid("a ban on a right names right_id (and no holder)", said="ban_right_only")
        subject = bytes.fromhex(data.right_id)
    else:
        if data.holder is None or data.right_id is not None:
            raise Invalid(
                "a ban on a holder names the holder (and no right_id)", said="ban_holder_only"
            )
        subject = holder_id(data.holder)
    if data.valid_from and data.valid_until and data.valid_until <= data.valid_from:
        raise Invalid("valid_until must be after valid_from", said="ban_backwards")
    ban = Ban(
        id="ban-" + secrets.token_hex(6),
        scope=data.scope.value,
        subject=subject,
        reason=data.reason,
        severity=data.severity,
        valid_from=_seconds(data.valid_from),
        valid_until=_seconds(data.valid_until),
        created_by=actor,
        holder_ref=None if data.holder is None else " ".join(data.holder.split()),
    )
    session.add(ban)
    session.flush()
    return ban, [Pending.upsert(ban_row(ban), GLOBAL_SCOPE)]


def require_may_lift(session: Session, *, ban_id: str, actor: str, admin: bool) -> None:
    """Only an admin lifts another's ban (a venue admin's scope is their own)."""
    ban = session.get(Ban, ban_id)
    if ban is not None and not admin and ban.created_by != actor:
        raise Forbidden(
            f"ban {ban_id} was made by {ban.created_by}: only an admin lifts it",
            said="not_your_ban",
            ban=ban_id,
            by=ban.created_by,
        )


def remove_ban(session: Session, *, ban_id: str) -> tuple[Ban, list[Pending]]:
    ban = session.get(Ban, ban_id)
    if ban is None:
        raise NotFound(f"no ban {ban_id!r}", said="no_ban", ban=ban_id)
    if ban.removed_at is not None:
        raise Conflict(f"ban {ban_id} was already removed", said="ban_lifted", ban=ban_id)
    ban.removed_at = datetime.now(UTC)
    session.flush()
    return ban, [Pending.delete(ChangeKind.BAN, ban.id, GLOBAL_SCOPE)]


def ban_row(ban: Ban) -> BanRow:
    return BanRow(
        ban_id=ban.id,
        scope=BanScope(ban.scope),
        subject=ban.subject,
        reason=ban.reason,
        severity=ban.severity,
        valid_from=ban.valid_from,
        valid_until=ban.valid_until,
    )


def list_bans(
    session: Session,
    *,
    include_removed: bool = False,
    holder: str | None = None,
    search: str | None = None,
) -> list[Ban]:
    """Bans, newest first. ``holder``: the person's own reference, exactly as the office knows
    it (spaces and case aside): their holder bans, and the bans on any right of theirs, old
    ones without a stored reference included. ``search``: a piece of the reference or of the
    reason."""
    query = select(Ban).order_by(Ban.created_at.desc())
    if not include_removed:
        query = query.where(Ban.removed_at.is_(None))
    if holder is not None:
        pseudonym = holder_id(holder)
        theirs = select(AccessRight.id).where(AccessRight.holder == pseudonym)
        query = query.where(
            or_(
                and_(Ban.scope == BanScope.HOLDER.value, Ban.subject == pseudonym),
                and_(Ban.scope == BanScope.RIGHT.value, Ban.subject.in_(theirs)),
            )
        )
    if search:
        query = query.where(
            or_(
                Ban.holder_ref.icontains(search, autoescape=True),
                Ban.reason.icontains(search, autoescape=True),
                Ban.id.icontains(search, autoescape=True),
            )
        )
    return list(session.scalars(query))


def to_public(ban: Ban) -> BanPublic:
    now = datetime.now(UTC).timestamp()
    active = ban.removed_at is None and ban_row(ban).to_entry().active_at(now)
    return BanPublic(
        id=ban.id,
        scope=BanScope(ban.scope),
        subject=ban.subject.hex(),
        reason=ban.reason,
        severity=ban.severity,
        valid_from=None if ban.valid_from is None else datetime.fromtimestamp(ban.valid_from, UTC),
        valid_until=None
        if ban.valid_until is None
        else datetime.fromtimestamp(ban.valid_until, UTC),
        created_by=ban.created_by,
        created_at=ban.created_at,
        active=active,
        holder=ban.holder_ref,
    )
