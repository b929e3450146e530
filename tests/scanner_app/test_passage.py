"""Nobody went through: the entry is annulled at the gate and on the server, and the right lives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hardware import PassageOutcome, TurnstileConfig, open_turnstile
from scanner_app.checkpoint import Checkpoint
from scanner_app.passage import Gatekeeper
from scanner_app.replica import ReplicaError
from shared.model import NOT_PASSED
from shared.reasons import Reason
from tests.support.world import NOW, World, code
from tests.support.world import right as world_right


def simulated(**sensor: Any) -> Any:
    document = {
        "relay": {"driver": "simulated", "pulse_ms": 10},
        "sensor": {"driver": "simulated", "window_s": 0.3, "walk_s": 0.05, **sensor},
    }
    return open_turnstile(TurnstileConfig.from_document(document))


def right(**fields: Any) -> Any:
    """A ticket valid now, by the real clock: the gatekeeper decides at the real time."""
    now = int(datetime.now(UTC).timestamp())
    return world_right(not_before=now - 3600, expires=now + 3600, **fields)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World("sqlite", tmp_path / "gate.db")


def test_nobody_passed_annuls_the_entry(world: World) -> None:
    assert world.replica is not None
    keeper = Gatekeeper(Checkpoint(world.replica, "G-NORD-A"), simulated(nobody=True))
    ticket = right(policy=0)
    result = keeper.check(code(ticket))
    assert result.decision.granted
    assert world.replica.occupancy("NORD-A") == 1
    passage = keeper.let_through(result)
    assert passage is not None and passage.outcome is PassageOutcome.NOT_PASSED
    assert passage.annulment is not None and passage.annulment.annuls == result.record.scan_id
    assert passage.annulment.reason == NOT_PASSED
    usage = world.replica.usage(ticket.right_id)
    assert usage is not None and usage.entries == 0 and not usage.inside
    assert world.replica.occupancy("NORD-A") == 0 and world.replica.occupancy("RADES") == 0
    # The right was not consumed: the holder may try again.
    assert keeper.check(code(ticket)).decision.reason is Reason.GRANTED
    logged = [s.reason for s in world.replica.scans(limit=10)]
    assert logged == ["granted", NOT_PASSED, "granted"]


def test_someone_passed_keeps_the_entry(world: World) -> None:
    assert world.replica is not None
    keeper = Gatekeeper(Checkpoint(world.replica, "G-NORD-A"), simulated())
    ticket = right()
    result = keeper.check(code(ticket))
    passage = keeper.let_through(result)
    assert passage is not None and passage.outcome is PassageOutcome.PASSED
    assert passage.annulment is None
    assert keeper.check(code(ticket)).decision.reason is Reason.ALREADY_USED


def test_refused_scans_never_unlock(world: World) -> None:
    assert world.replica is not None
    keeper = Gatekeeper(Checkpoint(world.replica, "G-NORD-A"), simulated(nobody=True))
    refused = keeper.check("EG1:garbage")
    assert keeper.let_through(refused) is None


def test_an_entry_is_annulled_once(world: World) -> None:
    assert world.replica is not None
    checkpoint = Checkpoint(world.replica, "G-NORD-A")
    result = checkpoint.check(code(right()))
    world.replica.annul(result.record, reason=NOT_PASSED, scanned_at=NOW + timedelta(seconds=5))
    with pytest.raises(ReplicaError, match="already annulled"):
        world.replica.annul(result.record, reason=NOT_PASSED, scanned_at=NOW)
    refused = checkpoint.check("EG1:garbage")
    with pytest.raises(ReplicaError, match="not a granted scan"):
        world.replica.annul(refused.record, reason=NOT_PASSED, scanned_at=NOW)
