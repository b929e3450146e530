"""A future-dated scan never decides usage (issue 14): a gate 2 h fast admits a re-entry ticket
offline, the holder leaves by a gate with the right time; once both upload, the server kept
"inside" (the entry was "later") and the next gate refused the holder ``already_inside``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from scanner_app.checkpoint import Checkpoint
from shared.reasons import Reason
from tests.support.server import RunningServer
from tests.support.site import Site, ok


def test_a_future_dated_entry_counts_as_of_its_arrival_and_is_flagged(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    fast = site.terminal("NORD-1", tmp_path / "fast")
    exit_gate = site.terminal("EXIT", tmp_path / "exit")
    other = site.terminal("NORD-2", tmp_path / "other")
    code = site.code(site.right(policy="reentry", kind="subscription"))
    now = datetime.now(UTC)
    entry = Checkpoint(fast.replica, "NORD-1")
    assert entry.check(code, now + timedelta(hours=2)).decision.granted  # its clock: 2 h fast
    exit_gate.sync.pull()
    assert exit_gate.check(code).decision.granted  # the holder leaves, at the right time
    assert fast.sync.push() == 1
    assert exit_gate.sync.push() == 1

    other.sync.pull()
    assert other.check(code).decision.reason is Reason.GRANTED  # not "already_inside"
    scans = ok(site.admin.get("/scans", params={"gate": "NORD-1", "venue": site.venue}))
    assert len(scans) == 1 and 7_100_000 < scans[0]["future_ms"] < 7_300_000
    arrived = datetime.fromisoformat(scans[0]["scanned_at"])
    assert abs((arrived - now).total_seconds()) < 60  # stored as of its arrival
    alerts = ok(site.admin.get("/alerts", params={"kind": "clock_skew"}))
    assert any(a["gate"] == "NORD-1" and "+7" in a["message"] for a in alerts)


def test_a_scan_within_the_tolerance_keeps_its_time(server: RunningServer, tmp_path: Path) -> None:
    site = Site.create(server)
    gate = site.terminal("NORD-1", tmp_path)
    code = site.code(site.right())
    at = datetime.now(UTC) + timedelta(seconds=5)
    assert Checkpoint(gate.replica, "NORD-1").check(code, at).decision.granted
    assert gate.sync.push() == 1
    (scan,) = ok(site.admin.get("/scans", params={"gate": "NORD-1", "venue": site.venue}))
    assert scan["future_ms"] is None
    assert abs(datetime.fromisoformat(scan["scanned_at"]) - at) < timedelta(milliseconds=2)
