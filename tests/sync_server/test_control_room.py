"""The control room in Chromium, on SQLite and PostgreSQL (issue 16): the dashboard in French,
Arabic (right to left, mirrored) and English, remembered per user; times in the venue's zone;
a phone's width and a control-room wall without overflow; alerts that say where; the
authorities' report whose page, CSV, PDF and Excel agree.

Screenshots go to docs/screenshots when ENTRIX_SCREENSHOTS=1 (on SQLite)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pypdf
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import needs_chromium, sign_in
from tests.support.screenshots import SCREENSHOTS, shooting
from tests.support.server import RunningServer
from tests.support.site import Site, Terminal, ok
from tests.sync_server.test_dashboard import _synthetic_scans
from tests.sync_server.test_sessions import PASSWORD, add_user

pytestmark = needs_chromium
TOKYO = "Asia/Tokyo"  # UTC+09:00 all year: a time in it cannot be mistaken for UTC or Tunis

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 0.5 || box.left < -0.5) wide.push(el.tagName + "." + el.className);
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


@pytest.fixture(scope="module")
def match(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One venue in Tokyo time: busy stands (the north one near capacity), a double entry, two
    gates never heard from (offline: EXIT, and ZED-9 whose name sorts last), the others
    heartbeating."""
    site = Site.create(server, capacity=40)
    ok(site.admin.patch(f"/venues/{site.venue}", json={"timezone": TOKYO}))
    gate = {"venue": site.venue, "name": "ZED-9", "zones": ["VIP"], "event_codes": [site.event]}
    ok(site.admin.post("/gates", json=gate), 201)
    folder = tmp_path_factory.mktemp("gates")
    terminals: dict[str, Terminal] = {g: site.terminal(g, folder) for g in site.gates[:4]}
    for name, zone, count in [("NORD-1", "NORD", 26), ("NORD-2", "NORD", 12), ("SUD-1", "SUD", 9)]:
        terminals[name].sync._call(
            "POST", "/scans", json={"scans": _synthetic_scans(site, name, zone, count)}
        )
    double = site.code(site.right())
    assert terminals["NORD-1"].check(double).decision.granted
    assert terminals["NORD-2"].check(double).decision.granted
    for t in terminals.values():
        t.sync.push()
        t.sync.heartbeat(relay="closed", camera="ok", last_sync_ms=int(time.time() * 1000))
    yield site
    for t in terminals.values():
        t.close()


def _fits(page: Page) -> dict[str, Any]:
    measured: dict[str, Any] = page.evaluate(OVERFLOW)
    return measured


def _shoot(page: Page, server: RunningServer, name: str, **options: Any) -> None:
    if shooting(server.database_url):
        page.screenshot(path=str(SCREENSHOTS / name), **options)


def test_french_by_default_arabic_mirrored_and_the_choice_remembered(
    browser: Browser, server: RunningServer, match: Site
) -> None:
    name = add_user(server.database_url, "supervisor")
    page = sign_in(browser, server.url, name, PASSWORD, locale="fr-FR")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#alerts-title")).to_have_text("Alertes")
    alert = page.locator("li.alert.kind-double_entry").first
    expect(alert.locator(".kind")).to_have_text("Double entrée")
    expect(alert.locator(".sev")).to_contain_text("critique")
    expect(alert.locator(".when")).to_contain_text("il y a")
    expect(page.locator(f'tr[data-zone="{match.venue}/NORD"] td.zone-state')).to_have_text(
        "⚠ Presque pleine"
    )
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#alerts-title")).to_have_text("التنبيهات")
    expect(page.locator("#conn")).to_have_text("● مباشر", timeout=5_000)
    alert = page.locator("li.alert.kind-double_entry").first
    expect(alert.locator(".kind")).to_have_text("دخول مزدوج")
    expect(alert.locator(".when")).to_contain_text("منذ")
    # Mirrored: the severity bar is on the right, the tiles' thick edge too, text starts right.
    sides = alert.evaluate(
        "el => [getComputedStyle(el).borderRightWidth, getComputedStyle(el).borderLeftWidth,"
        " getComputedStyle(document.body).direction]"
    )
    assert sides == ["8px", "1px", "rtl"]
    board = page.locator("main.board").bounding_box()
    title = page.locator("#alerts-title").bounding_box()
    assert board and title and title["x"] + title["width"] > board["width"] * 0.8  # on the right
    assert "مباشر" in str(page.locator("main.board").get_attribute("data-words"))
    page.context.close()
    # Another browser, English-speaking: the user's choice wins.
    again = sign_in(browser, server.url, name, PASSWORD, locale="en-US")
    expect(again.locator("html")).to_have_attribute("lang", "ar")
    again.get_by_role("button", name="English").click()
    expect(again.locator("#alerts-title")).to_have_text("Alerts")
    expect(again.locator("li.alert.kind-double_entry .kind").first).to_have_text("Double entry")
    again.context.close()


def test_the_sign_in_page_speaks_the_browsers_language_or_the_one_picked(
    browser: Browser, server: RunningServer
) -> None:
    page = browser.new_context(locale="ar-TN").new_page()
    page.goto(f"{server.url}/dashboard/login")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("button", name="دخول")).to_be_visible()
    page.get_by_role("link", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_label("Nom").fill("nobody")
    page.get_by_label("Mot de passe").fill("wrong-password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert")).to_have_text("✕ Nom ou mot de passe incorrect.")
    page.context.close()


def test_times_are_the_venues_own(browser: Browser, server: RunningServer, match: Site) -> None:
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"), PASSWORD)
    expect(page.locator(".live-state .tz")).to_contain_text("Asia/Tokyo (UTC+09:00)")
    tokyo_now = datetime.now(UTC).astimezone(ZoneInfo(TOKYO))
    shown = page.locator("#updated").inner_text()
    assert shown[:2] in {tokyo_now.strftime("%H"), f"{(tokyo_now.hour + 1) % 24:02d}"}, shown
    alert = page.locator("li.alert.kind-double_entry").first
    raised = next(
        a for a in ok(match.admin.get("/alerts", params={"venue": match.venue}))
        if a["kind"] == "double_entry"
    )  # fmt: skip
    at = datetime.fromisoformat(raised["at"]).astimezone(ZoneInfo(TOKYO))
    expect(alert.locator(".clock")).to_have_text(at.strftime("%H:%M"))
    page.context.close()


@pytest.mark.parametrize("width", [360, 390, 430])
def test_a_phone_shows_the_urgent_first_and_never_scrolls_sideways(
    browser: Browser, server: RunningServer, match: Site, width: int
) -> None:
    page = sign_in(
        browser, server.url, add_user(server.database_url, "supervisor"), PASSWORD,
        locale="fr-FR", viewport={"width": width, "height": 844}, is_mobile=True,
        has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    fits = _fits(page)
    assert fits["scroll"] == fits["width"] == width and fits["wide"] == [], fits
    urgent = page.locator("#urgent")
    expect(urgent.locator(".urgent-zones")).to_contain_text("Virage Nord")
    expect(urgent.locator(".urgent-gates")).to_contain_text("ZED-9")
    panels = [page.locator(f"section.{p}").bounding_box() for p in
              ("urgent-panel", "alerts-panel", "zones-panel", "gates-panel")]  # fmt: skip
    tops = [box["y"] for box in panels if box]
    assert tops == sorted(tops) and len(tops) == 4  # urgent, alerts, zones, then gates
    late, online = (page.locator(f'li.tile[data-gate="{match.venue}/{g}"]').bounding_box()
                    for g in ("ZED-9", "NORD-1"))  # fmt: skip
    assert late and online and late["y"] < online["y"]  # an offline gate leads, whatever its name
    state = page.locator(f'tr[data-zone="{match.venue}/NORD"] td.zone-state')
    expect(state).to_have_text("⚠ Presque pleine")
    box = state.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width  # seen, not scrolled to
    if width == 390:
        _shoot(page, server, "dashboard-phone.png")
        page.get_by_role("button", name="العربية").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("#conn")).to_have_text("● مباشر", timeout=5_000)
        fits = _fits(page)
        assert fits["scroll"] == width and fits["wide"] == [], fits
        _shoot(page, server, "dashboard-phone-ar.png")
    page.context.close()


def test_a_control_room_wall(browser: Browser, server: RunningServer, match: Site) -> None:
    page = sign_in(
        browser, server.url, add_user(server.database_url, "supervisor"), PASSWORD,
        locale="fr-FR", viewport={"width": 1920, "height": 1080},
    )  # fmt: skip
    fits = _fits(page)
    assert fits["scroll"] == 1920 and fits["wide"] == [], fits
    size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(size.removesuffix("px")) >= 20  # readable from 3 m
    zones, gates, alerts = (page.locator(f"section.{p}").bounding_box()
                            for p in ("zones-panel", "gates-panel", "alerts-panel"))  # fmt: skip
    assert zones and gates and alerts
    assert alerts["x"] < zones["x"] < gates["x"] and abs(zones["y"] - gates["y"]) < 2  # 3 columns
    _shoot(page, server, "dashboard-wall.png")
    page.context.close()


def test_the_report_page_csv_pdf_and_excel_agree(
    browser: Browser, server: RunningServer, match: Site, tmp_path: Path
) -> None:
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"), PASSWORD,
                   locale="fr-FR")  # fmt: skip
    page.get_by_label("Rapport pour les autorités").select_option(match.event)
    page.get_by_role("button", name="Ouvrir").click()
    expect(page.locator("header.report-head")).to_contain_text("Asia/Tokyo (UTC+09:00)")
    summary = {
        row.get_attribute("data-zone"): int(row.locator("td.entries").inner_text().replace(" ", ""))
        for row in page.locator("table.summary-table tbody tr").all()
    }
    assert summary["STADE"] == summary["NORD"] + summary["SUD"] + summary["VIP"] == 26 + 12 + 9 + 2
    foot = page.locator("table.report-table tfoot")
    per_stand = [int(foot.locator(f'td[data-zone="{z}"]').inner_text()) for z in ("NORD", "SUD")]
    assert per_stand == [summary["NORD"], summary["SUD"]]
    slots = page.locator("table.report-table tbody tr.slot").all()
    column = [int(r.locator('td[data-zone="STADE"]').inner_text().replace(" ", "")) for r in slots]
    assert sum(column) == summary["STADE"]  # the slots add up to the total
    csv_text = page.request.get(
        f"{server.url}/dashboard/report.csv?event={match.event}&bucket_s=300"
    ).text()
    assert csv_text == match.admin.get("/exports/entries.csv", params={"event": match.event}).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert sum(int(r["entries"]) for r in rows if r["leaf"] == "1") == summary["STADE"]
    assert all(r["bucket_start_local"].endswith("+09:00") for r in rows)
    pdf = page.request.get(f"{server.url}/dashboard/report.pdf?event={match.event}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.body())).pages)
    flat = " ".join(text.split())
    assert f"Virage Nord NORD 40 {summary['NORD']}" in flat  # name, code, capacity, entries
    assert "Asia/Tokyo (UTC+09:00)" in flat
    book = page.request.get(f"{server.url}/dashboard/report.xlsx?event={match.event}")
    sheets = openpyxl.load_workbook(io.BytesIO(book.body())).worksheets
    by_code = {r[5]: r[2] for r in sheets[0].iter_rows(min_row=7, values_only=True) if r[5]}
    assert by_code == summary
    document = page.request.get(f"{server.url}/dashboard/report.json?event={match.event}").json()
    assert {z["code"]: z["entries"] for z in document["zones"]} == summary
    _shoot(page, server, "report-fr.png", full_page=True)
    # In Arabic: the page mirrored, the PDF too, the same figures.
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("table.summary-table tbody tr").first).to_contain_text("Stade")
    pdf_ar = page.request.get(f"{server.url}/dashboard/report.pdf?event={match.event}")
    read = pypdf.PdfReader(io.BytesIO(pdf_ar.body()))
    assert "Asia/Tokyo" in read.pages[0].extract_text()
    assert str(summary["STADE"]) in read.pages[0].extract_text()
    _shoot(page, server, "report-ar.png", full_page=True)
    if shooting(server.database_url):
        import pypdfium2

        for name, body in (("report-pdf-fr.png", pdf.body()), ("report-pdf-ar.png", pdf_ar.body())):
            pypdfium2.PdfDocument(body)[0].render(scale=1.4).to_pil().save(SCREENSHOTS / name)
    page.context.close()
