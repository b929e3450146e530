"""The end of every write: audit it, publish its changes to the gates, commit, all at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from sync_server.feed import Pending, publish
from sync_server.services import audit


def commit(
    session: Session,
    *,
    pending: Sequence[Pending] = (),
    actor: str | None = None,
    action: str | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> int:
    """Audit (when an action is named), publish, commit; returns the feed's head after it.

    Publishing comes last before the commit: it takes the feed counter's lock (see feed.py).
    """
    if action is not None:
        audit.record(
            session,
            actor=actor or "system",
            action=action,
            target=target,
            detail=detail,
            remote_addr=remote_addr,
        )
    head = publish(session, pending)
    session.commit()
    return head
