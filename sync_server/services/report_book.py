"""The authorities' report as an Excel workbook (openpyxl): numbers as numbers, times as times
(in the venue's local time, which Excel cannot hold a zone for: the sheet says which), a sheet
right to left in Arabic.

Three sheets: the summary by zone (the tree, indented), the entries per slot (stands, total,
inside), and the long table the CSV holds, row for row.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared.i18n import Language
from sync_server import localtime, words
from sync_server.services.reports import CSV_HEADER, Report, ZoneLine, as_rows

BOLD = Font(bold=True)
HEAD = PatternFill("solid", fgColor="DDE3EA")
TIME = "yyyy-mm-dd hh:mm"
SHEET_TITLE_MAX = 31


def _naive_local(at: datetime, tz: str) -> datetime:
    """Excel keeps no time zone: the venue's wall-clock time, as the sheet's note says."""
    return localtime.local(at, tz).replace(tzinfo=None)


def zone_name(line: ZoneLine, language: Language) -> str:
    """As the page says it (``report.html``'s macro of the same name)."""
    if line.kind == "unplaced":
        return words.text("unplaced", language)
    if line.kind == "own":
        return words.text("own_entries", language, zone=line.name)
    return line.name


def _title(text: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in text)
    return cleaned[:SHEET_TITLE_MAX]


def _header(sheet: Worksheet, row: int, cells: list[str]) -> None:
    for col, value in enumerate(cells, start=1):
        cell = sheet.cell(row=row, column=col, value=value)
        cell.font, cell.fill = BOLD, HEAD
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _intro(sheet: Worksheet, report: Report, language: Language) -> int:
    """The event, the venue, the period and the time zone above each table; the next row."""
    say = words.text
    tz = report.timezone
    sheet["A1"] = f"{say('report_title', language)} — {report.event_name}"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = say("report_event", language, event=report.event, venue=report.venue_name)
    if report.first is not None and report.last is not None:
        sheet["A3"] = say(
            "report_period",
            language,
            start=localtime.day_clock(report.first, tz),
            end=localtime.day_clock(report.last, tz),
        )
    sheet["A4"] = say("times_in", language, zone=localtime.label(tz, report.first))
    return 6


def workbook(report: Report, language: Language) -> bytes:
    """The report as an .xlsx file."""
    say = words.text
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _title(say("report_summary", language))
    row = _intro(summary, report, language)
    columns = ("zone", "capacity", "entries", "exits", "inside_end")
    _header(summary, row, [*(say(k, language) for k in columns), "code"])
    for line in report.zones:
        row += 1
        name = summary.cell(row=row, column=1, value=zone_name(line, language))
        name.alignment = Alignment(indent=line.depth * 2)
        if line.depth == 0:
            name.font = BOLD
        summary.cell(row=row, column=2, value=line.capacity)
        summary.cell(row=row, column=3, value=line.entries)
        summary.cell(row=row, column=4, value=line.exits)
        summary.cell(row=row, column=5, value=line.inside)
        summary.cell(row=row, column=6, value=line.code)
    summary.column_dimensions["A"].width = 34
    for letter in "BCDEF":
        summary.column_dimensions[letter].width = 14

    slots = book.create_sheet(_title(say("report_slots", language, minutes=report.bucket_s // 60)))
    row = _intro(slots, report, language)
    lines = report.line
    names = [zone_name(lines[c], language) for c in report.columns[:-1]]
    total = say("venue_total", language, venue=report.venue_name)
    _header(slots, row, [say("from", language), say("to", language), *names, total,
                         say("inside", language)])  # fmt: skip
    top = report.total.code
    for slot in report.slots:
        row += 1
        for col, at in ((1, slot.start), (2, slot.end)):
            cell = slots.cell(row=row, column=col, value=_naive_local(at, report.timezone))
            cell.number_format = TIME
        for col, code in enumerate(report.columns, start=3):
            slots.cell(row=row, column=col, value=slot.entries[code])
        slots.cell(row=row, column=len(report.columns) + 3, value=slot.inside[top])
    row += 1
    slots.cell(row=row, column=1, value=say("total", language)).font = BOLD
    for col, code in enumerate(report.columns, start=3):
        slots.cell(row=row, column=col, value=lines[code].entries).font = BOLD
    for index in range(1, len(report.columns) + 4):
        slots.column_dimensions[get_column_letter(index)].width = 18 if index <= 2 else 14
    slots.freeze_panes = "C7"

    data = book.create_sheet("data")
    _header(data, 1, CSV_HEADER)
    for at_row, values in enumerate(as_rows(report), start=2):
        for col, column in enumerate(CSV_HEADER, start=1):
            value = values[column]
            if column.startswith("bucket_"):
                value = datetime.fromisoformat(str(value)).replace(tzinfo=None)
            written = data.cell(row=at_row, column=col, value=value)
            if column.startswith("bucket_"):
                written.number_format = "yyyy-mm-dd hh:mm:ss"
    if language.right_to_left:
        for sheet in (summary, slots):
            sheet.sheet_view.rightToLeft = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
