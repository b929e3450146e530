"""PDFs: the authorities' report (the printable page's own HTML) and a ticket, laid out by
WeasyPrint.

WeasyPrint (a well-kept library, BSD) rather than the browser's print-to-PDF: the server needs
no browser at run time, and Pango shapes Arabic and lays the page out right to left from the same
template and style sheet the browser prints. It needs Debian's ``libpango-1.0-0`` (the Makefile's
system packages); it is imported only when a PDF is asked for.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from shared.i18n import Language
from sync_server import qr
from sync_server.dashboard import render
from sync_server.schemas import RightPublic
from sync_server.services.reports import Report

STYLE = Path(__file__).parent / "static" / "report.css"


def _page_css(say: render.Speaker) -> str:
    """A4 landscape, and "Page 2 sur 5" at the foot of each page, in the report's language."""
    words = str(say.t("page_of", page="\x00", pages="\x01"))
    quoted = '"' + words.replace('"', "'") + '"'
    counter = quoted.replace("\x00", '" counter(page) "').replace("\x01", '" counter(pages) "')
    return (
        "@page { size: A4 landscape; margin: 12mm 12mm 16mm; "
        f"@bottom-center {{ content: {counter}; font-size: 8pt; color: #4b5563; }} }}\n"
    )


def pdf(report: Report, say: render.Speaker, *, printed_by: str) -> bytes:
    from weasyprint import HTML

    css = _page_css(say) + STYLE.read_text(encoding="utf-8")
    html = render.page(
        "report.html",
        say=say,
        r=report,
        pdf=True,
        pdf_css=css,
        viewer=_Printer(printed_by),
        query="",
    )
    document: bytes = HTML(string=html).write_pdf()
    return document


TICKET_STYLE = Path(__file__).parent / "static" / "ticket.css"


def ticket(
    *,
    right: RightPublic,
    event_name: str,
    starts_at: datetime,
    venue_name: str,
    timezone: str,
    zone_names: list[str],
    code: str,
    language: Language,
) -> bytes:
    """A ticket as an A6 PDF: its QR code (an inline SVG of ``code``), the event in its venue's
    time, zones, seat and name, in ``language``."""
    from weasyprint import HTML  # needs libpango: loaded only for a PDF

    svg = qr.render(code, "svg", scale=4).decode("utf-8")
    html = render.page(
        "ticket.html",
        say=render.speakers()[language],
        css=TICKET_STYLE.read_text(encoding="utf-8"),
        right=right,
        event_name=event_name,
        starts_at=starts_at,
        venue_name=venue_name,
        timezone=timezone,
        zone_names=zone_names,
        qr_svg=Markup(svg),  # noqa: S704 (segno's own SVG of our code)
    )
    document: bytes = HTML(string=html).write_pdf()
    return document


class _Printer:
    """Who the PDF says printed it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.csrf = ""
