"""One meaning of "an entry" (issue 13): on one scripted match, the dashboard's gate tiles, its
zones' entries per minute, the authorities' report and its CSV export all count the same."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from hardware import PassageOutcome
from scanner_app.passage import ANNULLING
from shared.model import ANNULMENTS, OVERRIDES, Direction, Logged, ScanRecord
from sync_server.dashboard import snapshot
from sync_server.db import make_engine
from sync_server.services import reports
from tests.support.server import RunningServer
from tests.support.site import Site


def override(gate: str, reason: Logged) -> ScanRecord:
    return ScanRecord(
        scan_id=str(uuid.uuid4()), gate=gate, direction=Direction.IN,
        reason=reason.value, scanned_at_ms=int(datetime.now(UTC).timestamp() * 1000),
        code_kind="manual", operator="leila", detail="steward with a wheelchair",
    )  # fmt: skip


def test_tiles_chart_report_and_export_agree_on_a_scripted_match(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    nord = site.terminal("NORD-1", tmp_path / "nord")
    out = site.terminal("EXIT", tmp_path / "exit")
    codes = [site.code(site.right(policy="reentry", kind="subscription")) for _ in range(5)]
    granted = [nord.check(code) for code in codes]
    assert all(g.decision.granted for g in granted)
    # Two of the five never went through: nobody passed, and a relay that did not obey.
    nord.replica.annul(granted[3].record, reason=Logged.NOT_PASSED, scanned_at=datetime.now(UTC))
    nord.replica.annul(granted[4].record, reason=Logged.RELAY_FAILED, scanned_at=datetime.now(UTC))
    refused = [nord.check(codes[0]), nord.check("EG1:garbage"), nord.check("EG1:")]
    assert not any(r.decision.granted for r in refused)
    nord.replica.record_event(override("NORD-1", Logged.MANUAL_OPEN))
    nord.replica.record_event(override("NORD-1", Logged.EMERGENCY_OPEN))
    nord.replica.record_event(override("NORD-1", Logged.EMERGENCY_RELEASE))
    out.sync.pull()
    exits = [out.check(code) for code in codes[:2]]
    assert all(e.decision.granted for e in exits)
    assert nord.sync.push() == 5 + 2 + 3 + 3
    assert out.sync.push() == 2

    engine = make_engine(server.database_url)
    try:
        with Session(engine) as session:
            taken = snapshot.take(session, silent_after_s=60)
            report = reports.build(session, event=site.event)
    finally:
        engine.dispose()
    venue = next(v for v in taken.venues if v.code == site.venue)
    tiles = {g.name: g for g in venue.gates}
    assert (tiles["NORD-1"].entries, tiles["NORD-1"].exits) == (3, 0)
    assert (tiles["NORD-1"].refused, tiles["NORD-1"].overrides) == (3, 3)
    assert (tiles["EXIT"].entries, tiles["EXIT"].exits, tiles["EXIT"].refused) == (0, 2, 0)
    chart = {z.code: sum(z.per_minute) for z in venue.zones}
    assert chart["NORD"] == 3 and chart["STADE"] == 3  # a stand's minutes add up to the venue's
    line = report.line
    assert (line["STADE"].entries, line["NORD"].entries, line["SUD"].entries) == (3, 3, 0)
    assert (line["STADE"].exits, line["STADE"].inside) == (2, 1)  # the same definitions
    export = site.admin.get("/exports/entries.csv", params={"event": site.event})
    assert export.status_code == 200, export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert sum(int(row["entries"]) for row in rows if row["leaf"] == "1") == 3
    assert sum(int(row["entries"]) for row in rows if row["zone"] == "STADE") == 3


def test_the_turnstiles_outcomes_map_to_the_log_records_that_annul() -> None:
    assert set(ANNULLING.values()) == ANNULMENTS
    for outcome in PassageOutcome:
        assert outcome.annuls_entry == (outcome in ANNULLING), outcome
    assert not ANNULMENTS & OVERRIDES
    assert {r.value for r in Logged} == {r.value for r in ANNULMENTS | OVERRIDES}
