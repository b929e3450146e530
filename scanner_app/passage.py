"""From a decision to a person through the turnstile, or to an annulled entry.

The order is the product's promise: decide, record durably, then unlock; if nobody goes through
within the passage window (or the relay fails), the entry is annulled so the right is not
consumed, and the annulment is logged and uploaded like any scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hardware import PassageOutcome, Turnstile
from scanner_app.checkpoint import Checkpoint, CheckResult
from shared.model import Logged, ScanRecord

ANNULLING = {
    PassageOutcome.NOT_PASSED: Logged.NOT_PASSED,
    PassageOutcome.RELAY_FAILED: Logged.RELAY_FAILED,
}
"""The turnstile's outcomes that cancel an entry, and the log record each one writes."""


@dataclass(frozen=True, slots=True)
class Passage:
    """What became of a granted scan at the turnstile."""

    outcome: PassageOutcome
    annulment: ScanRecord | None = None
    """The record cancelling the entry, when nobody went through or the relay failed."""


class Gatekeeper:
    """A checkpoint and its turnstile. Call from a worker thread: ``let_through`` blocks."""

    def __init__(
        self,
        checkpoint: Checkpoint,
        turnstile: Turnstile | None,
        *,
        on_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self.checkpoint = checkpoint
        self.turnstile = turnstile
        self._on_recorded = on_recorded

    def check(self, code: str | bytes) -> CheckResult:
        """Decide and record durably; the answer can be shown before the turnstile moves."""
        result = self.checkpoint.check(code)
        self._on_recorded()
        return result

    def let_through(self, result: CheckResult) -> Passage | None:
        """Unlock for a granted scan and wait for the passage; None when there is nothing to do."""
        if not result.decision.granted or self.turnstile is None:
            return None
        outcome = self.turnstile.admit(result.decision.direction)
        logged = ANNULLING.get(outcome)
        if logged is None:
            return Passage(outcome)
        replica = self.checkpoint.replica
        now = datetime.now(UTC) - timedelta(milliseconds=replica.clock_offset_ms)
        annulment = replica.annul(result.record, reason=logged, scanned_at=now)
        self._on_recorded()
        return Passage(outcome, annulment)
