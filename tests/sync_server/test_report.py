"""The authorities' report (issue 16): one implementation, five views. A derby's scans written
straight into the database at known instants, in a venue at UTC+1: slots on the local clock,
the tree rolled up, the head count inside, and the page, PDF, Excel, CSV and JSON all saying the
same figures."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pypdf
import pytest
from sqlalchemy.orm import Session, sessionmaker

from shared.i18n import Language
from sync_server.dashboard import render, report_pdf
from sync_server.db import make_engine, passing_state
from sync_server.errors import Invalid, NotFound
from sync_server.migrate import upgrade
from sync_server.models import Gate, Scan, Venue
from sync_server.schemas import EventCreate, GateCreate, VenueCreate
from sync_server.services import report_book, reports, site
from sync_server.services.writes import commit

KICK_OFF = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 19:00 in Tunis
ZONES = [
    {"code": "RADES", "name": "Stade de Radès", "capacity": 100},
    {"code": "NORD", "name": "Virage Nord", "parent": "RADES", "capacity": 10},
    {"code": "NORD-A", "name": "Virage Nord A", "parent": "NORD", "capacity": 5},
    {"code": "NORD-B", "name": "Virage Nord B", "parent": "NORD", "capacity": 5},
    {"code": "SUD", "name": "Virage Sud", "parent": "RADES"},
    {"code": "SUD-A", "name": "Virage Sud A", "parent": "SUD"},
    {"code": "VIP", "name": "Loges", "parent": "RADES"},
]


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path}/server.db"
    upgrade(url)
    engine = make_engine(url)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def _derby(sessions: sessionmaker[Session]) -> None:
    """Entries at 19:02 (3 into NORD-A), 19:07 (2 NORD-B), 19:08 (1 SUD-A, 1 into a zone since
    removed), an exit at 19:20 (NORD-A), and scans that are no entries: a refusal, an entry
    annulled by the turnstile, an entry of another event."""
    with sessions() as session:
        venue = VenueCreate.model_validate(
            {"code": "RADES", "name": "Radès", "timezone": "Africa/Tunis", "zones": ZONES}
        )
        commit(session, pending=site.create_venue(session, data=venue)[1])
        for code in ("DERBY", "OTHER"):
            event = EventCreate.model_validate(
                {"code": code, "name": "Derby", "venue": "RADES",
                 "starts_at": KICK_OFF.isoformat(),
                 "ends_at": (KICK_OFF + timedelta(hours=2)).isoformat()}
            )  # fmt: skip
            commit(session, pending=site.create_event(session, data=event)[1])
        for name, direction in (("NORD-1", "in"), ("EXIT", "out")):
            gate = GateCreate.model_validate(
                {"venue": "RADES", "name": name, "zones": ["NORD"], "direction": direction}
            )
            commit(session, pending=site.create_gate(session, data=gate)[1])
    with sessions() as session:
        venue_id = session.query(Venue).one().id
        gates = {g.name: g.id for g in session.query(Gate)}

        def scan(minute: int, zone: str | None, *, reason: str = "granted", event: str = "DERBY",
                 gate: str = "NORD-1", annuls: str | None = None) -> str:  # fmt: skip
            scan_id = str(uuid.uuid4())
            at = KICK_OFF + timedelta(minutes=minute)
            session.add(
                Scan(
                    scan_id=scan_id, gate_id=gates[gate], venue_id=venue_id,
                    scanned_at_ms=int(at.timestamp() * 1000),
                    direction="out" if gate == "EXIT" else "in", reason=reason,
                    event=event, zone=zone, code_kind="eg1", annuls=annuls,
                )
            )  # fmt: skip
            return scan_id

        for _ in range(3):
            scan(2, "NORD-A")
        for _ in range(2):
            scan(7, "NORD-B")
        scan(8, "SUD-A")
        scan(8, "GONE")
        scan(9, "SUD")  # a ticket for the whole stand, beside its sector's
        scan(20, "NORD-A", gate="EXIT")
        scan(9, "NORD-A", reason="already_used")
        annulled = scan(10, "NORD-B")
        scan(10, None, reason="not_passed", annuls=annulled)
        scan(11, "NORD-A", event="OTHER")
        session.commit()


def _report(sessions: sessionmaker[Session], bucket_s: int = 900) -> reports.Report:
    with sessions() as session:
        return reports.build(passing_state(session), event="DERBY", bucket_s=bucket_s, now=KICK_OFF)


def test_slots_follow_the_venue_clock_and_the_tree_adds_up(
    sessions: sessionmaker[Session],
) -> None:
    _derby(sessions)
    report = _report(sessions)
    tz = report.timezone
    assert tz == "Africa/Tunis"
    starts = [
        s.start.astimezone(reports.localtime.zone(tz)).strftime("%H:%M") for s in report.slots
    ]
    assert starts == ["19:00", "19:15"]  # local quarters, no gap, first to last scan
    line = report.line
    assert [z.code for z in report.zones] == [
        "RADES", "NORD", "NORD-A", "NORD-B", "SUD", "SUD#", "SUD-A", "VIP", reports.UNPLACED,
    ]  # fmt: skip
    assert report.total.code == "RADES" and report.columns == ["NORD", "SUD", "VIP", "?", "RADES"]
    assert (line["RADES"].entries, line["RADES"].exits, line["RADES"].inside) == (8, 1, 7)
    assert (line["NORD"].entries, line["NORD"].inside) == (5, 4)
    assert (line["NORD-A"].entries, line["NORD-A"].exits, line["NORD-A"].inside) == (3, 1, 2)
    assert (line["SUD"].entries, line["SUD#"].entries, line["SUD-A"].entries) == (2, 1, 1)
    assert (line["SUD#"].kind, line["?"].kind, line["SUD#"].leaf) == ("own", "unplaced", True)
    assert (line["VIP"].entries, line["?"].entries) == (0, 1)
    first, second = report.slots
    assert (first.entries["RADES"], first.inside["RADES"]) == (8, 8)
    assert (second.entries["RADES"], second.exits["NORD"], second.inside["RADES"]) == (0, 1, 7)
    for z in report.zones:  # every line is the sum of its children, slot by slot
        children = [c for c in report.zones if c.parent == z.code]
        if children:
            for s in report.slots:
                assert s.entries[z.code] == sum(s.entries[c.code] for c in children), z.code
                assert s.inside[z.code] == sum(s.inside[c.code] for c in children), z.code
    assert line["NORD"].fill == pytest.approx(0.4)


def test_five_minute_slots_and_bad_asks(sessions: sessionmaker[Session]) -> None:
    _derby(sessions)
    report = _report(sessions, 300)
    assert [s.entries["RADES"] for s in report.slots] == [3, 5, 0, 0, 0]  # 19:00 … 19:20
    with sessions() as session, pytest.raises(Invalid, match="whole number of minutes"):
        reports.build(session, event="DERBY", bucket_s=90)
    with sessions() as session, pytest.raises(NotFound):
        reports.build(session, event="NOPE")


def test_csv_json_excel_and_pdf_say_the_same_figures(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _derby(sessions)
    report = _report(sessions)
    rows = list(csv.DictReader(io.StringIO(reports.as_csv(report))))
    assert len(rows) == len(report.slots) * len(report.zones)
    leaves = [r for r in rows if r["leaf"] == "1"]
    assert sum(int(r["entries"]) for r in leaves) == report.total.entries == 8
    venue_rows = [r for r in rows if r["zone"] == "RADES"]
    assert [int(r["inside"]) for r in venue_rows] == [8, 7]
    assert venue_rows[0]["bucket_start_utc"] == "2026-12-01T18:00:00+00:00"
    assert venue_rows[0]["bucket_start_local"] == "2026-12-01T19:00:00+01:00"
    document = json.loads(json.dumps(reports.as_json(report)))
    assert {z["code"]: z["entries"] for z in document["zones"]} == {
        z.code: z.entries for z in report.zones
    }
    assert document["slots"][1]["inside"]["RADES"] == 7

    book = openpyxl.load_workbook(io.BytesIO(report_book.workbook(report, Language.FR)))
    summary, slots, data = book.worksheets
    figures = {
        r[5]: (r[2], r[3], r[4])
        for r in summary.iter_rows(min_row=7, values_only=True)
        if r[5] is not None
    }
    assert figures == {z.code: (z.entries, z.exits, z.inside) for z in report.zones}
    head = [c.value for c in slots[6]]
    assert head[:3] == ["De", "À", "Virage Nord"] and head[-1] == "Présents"
    first = [c.value for c in slots[7]]
    assert first[0] == datetime(2026, 12, 1, 19, 0)  # a time, in Tunis
    assert slots.cell(row=7, column=1).is_date
    assert first[2:] == [5, 2, 0, 1, 8, 8]  # numbers, not text
    assert data.max_row == len(rows) + 1
    assert not summary.sheet_view.rightToLeft
    arabic = openpyxl.load_workbook(io.BytesIO(report_book.workbook(report, Language.AR)))
    assert arabic.worksheets[0].sheet_view.rightToLeft

    pdf = report_pdf.pdf(report, render.speakers()[Language.FR], printed_by="officier")
    (tmp_path / "report.pdf").write_bytes(pdf)
    read = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in read.pages)
    assert "Rapport des entrées" in text and "Virage Nord A" in text
    assert "Virage Sud — sans sous-zone" in text
    assert "Africa/Tunis (UTC+01:00)" in text and "19:00" in text and "19:15" in text
    assert "Édité par officier" in text and "Page 1 sur 1" in text
    summary_line = " ".join(text.split())
    assert "Virage Nord NORD 10 5 1 4 (40 %)" in summary_line  # capacity entries exits inside
    ar = pypdf.PdfReader(io.BytesIO(report_pdf.pdf(report, render.speakers()[Language.AR],
                                                   printed_by="officier")))  # fmt: skip
    assert len(ar.pages) == 1 and "Africa/Tunis" in ar.pages[0].extract_text()


def test_a_report_with_no_scan_says_so(sessions: sessionmaker[Session]) -> None:
    _derby(sessions)
    with sessions() as session:
        session.query(Scan).delete()
        session.commit()
    report = _report(sessions)
    assert report.slots == [] and report.total.entries == 0
    assert reports.as_csv(report).strip() == ",".join(reports.CSV_HEADER)
    pdf = report_pdf.pdf(report, render.speakers()[Language.EN], printed_by="x")
    assert "No entries recorded" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_odd_event_names_make_safe_file_names() -> None:
    assert reports.filename('é"\r\nX-Injected: 1', "csv") == "entries-____X-Injected__1.csv"
