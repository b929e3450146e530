"""The audit log: every admin action and manual override, with who, what, when and from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sync_server.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> AuditEntry:
    """Add an audit entry to the caller's transaction: it commits with the action or not at all."""
    entry = AuditEntry(
        actor=actor, action=action, target=target, detail=detail or {}, remote_addr=remote_addr
    )
    session.add(entry)
    return entry
