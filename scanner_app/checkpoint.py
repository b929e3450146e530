"""A checkpoint: one gate deciding on scanned codes against its replica and logging every scan.

It is the one path from a scanned code to a durable scan record, shared by the CLI, the kiosk and
the headless replay, so that they cannot disagree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from scanner_app.replica import Replica, ReplicaError
from shared.credential import is_eg1
from shared.decision import Decision, decide
from shared.model import Direction, GateConfig, ScanRecord


@dataclass(frozen=True, slots=True)
class CheckResult:
    decision: Decision
    record: ScanRecord
    decided_ms: float
    """Time to decide (verify the code and query the replica)."""
    total_ms: float
    """Time to decide and durably record the scan: what the holder waits before the turnstile."""
    recorded: bool = True
    """False for a dry run: the record was made, not written (no usage moved, nothing to upload)."""


class Checkpoint:
    """The gate ``gate_name`` of ``replica``, optionally forced into one direction."""

    def __init__(
        self,
        replica: Replica,
        gate_name: str | None = None,
        direction: Direction | None = None,
        *,
        known: bool = True,
    ) -> None:
        """``known=False``: the replica does not hold the gate yet (it is being rebuilt from the
        server); a check before it does fails, naming the gate."""
        self.replica = replica
        name = gate_name or replica.gate_name
        if name is None:
            listed = ", ".join(g.name for g in replica.gates()) or "none"
            raise ReplicaError(f"no gate chosen for this terminal (gates in the replica: {listed})")
        self.gate_name = name
        self.direction = direction
        if known:
            _ = self.gate  # fail now, listing the gates, rather than at the first scan

    @property
    def gate(self) -> GateConfig:
        gate = self.replica.require_gate(self.gate_name)
        if self.direction is not None and gate.direction is not self.direction:
            gate = replace(gate, direction=self.direction)
        return gate

    def check(
        self, code: str | bytes, now: datetime | None = None, *, record: bool = True
    ) -> CheckResult:
        """Decide on a scanned code and record the scan durably; the turnstile may move after.

        ``record=False``: a dry run, which decides as the gate would and writes nothing.
        """
        started = time.perf_counter()
        self.replica.refresh()
        # Beyond tolerance, the gate's clock is corrected to the server's (see SyncLoop).
        at = now or datetime.now(UTC) - timedelta(milliseconds=self.replica.clock_offset_ms)
        decision = decide(code, self.gate, self.replica, at)
        decided = time.perf_counter()
        text = code.decode("utf-8", "replace") if isinstance(code, bytes) else code
        logged = self.replica.record_scan(
            decision,
            gate=self.gate_name,
            scanned_at=at,
            code_kind="eg1" if is_eg1(text) else "plain",
            latency_ms=(decided - started) * 1000,
            dry_run=not record,
        )
        finished = time.perf_counter()
        return CheckResult(
            decision, logged, (decided - started) * 1000, (finished - started) * 1000, record
        )
