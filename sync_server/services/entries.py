"""What counts as an entry, an exit, a refusal and an override: one definition, for the
dashboard's gate tiles, its zones' entries per minute, the authorities' report and its CSV.

- an **entry**: a granted scan into the venue (direction ``in``) that no later record annuls
  (``not_passed``, ``relay_failed``: nobody went through);
- an **exit**: the same going out;
- a **refusal**: a decision other than ``granted`` (:class:`shared.reasons.Reason`);
- an **override**: a supervisor's manual open or emergency free passage
  (:attr:`shared.model.Logged.is_override`).

A granted scan held in quarantine (or discarded) by the server is no entry nor exit.

The other log records (the annulments themselves) are none of these.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlalchemy.orm import aliased

from shared.model import OVERRIDES, Direction
from shared.reasons import Reason
from sync_server.models import Scan

_annulment = aliased(Scan)
NOT_ANNULLED: ColumnElement[bool] = ~exists().where(_annulment.annuls == Scan.scan_id)
"""No record cancels this scan (``scans.annuls`` is indexed: one lookup per scan)."""
BELIEVED: ColumnElement[bool] = or_(
    Scan.quarantine_state.is_(None), Scan.quarantine_state == "applied"
)
"""Not held in quarantine, nor discarded by an admin (``services.plausibility``)."""
GRANTED: ColumnElement[bool] = and_(Scan.reason == Reason.GRANTED.value, BELIEVED)
ENTRY: ColumnElement[bool] = and_(GRANTED, Scan.direction == Direction.IN.value, NOT_ANNULLED)
EXIT: ColumnElement[bool] = and_(GRANTED, Scan.direction == Direction.OUT.value, NOT_ANNULLED)
REFUSAL: ColumnElement[bool] = Scan.reason.in_(
    sorted(r.value for r in Reason if r is not Reason.GRANTED)
)
OVERRIDE: ColumnElement[bool] = Scan.reason.in_(sorted(r.value for r in OVERRIDES))
