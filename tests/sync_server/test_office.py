"""The back office in Chromium, on SQLite and PostgreSQL (issue 17): an admin sets up an event,
a gate whose enrollment QR the kiosk's decoder reads from a screenshot of the page (and the code
in it enrolls a terminal), bans a person by the office's own reference, imports tickets from an
Excel-in-France CSV with a progress page and every bad row numbered as the spreadsheet shows it;
a supervisor sees and changes nothing; everything is in the audit log under the person's name.

Screenshots go to docs/screenshots when ENTRIX_SCREENSHOTS=1 (on SQLite)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import pypdf
import pypdfium2
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from scanner_app.decoders import make_decoder
from scanner_app.sync import enroll
from shared.pinning import EnrollmentLink
from tests.support.browser import needs_chromium, sign_in
from tests.support.screenshots import SCREENSHOTS, shooting
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.sync_server.test_sessions import PASSWORD, add_user

pytestmark = needs_chromium
TUNIS = ZoneInfo("Africa/Tunis")


@pytest.fixture(scope="module")
def place(server: RunningServer) -> Site:
    site = Site.create(server)
    ok(site.admin.patch(f"/venues/{site.venue}", json={"timezone": "Africa/Tunis"}))
    return site


def _admin(browser: Browser, server: RunningServer, **context: object) -> Page:
    page = sign_in(browser, server.url, add_user(server.database_url, "admin"), PASSWORD,
                   locale="fr-FR", **context)  # type: ignore[arg-type]  # fmt: skip
    page.goto(f"{server.url}/dashboard/office")
    expect(page).to_have_url(f"{server.url}/dashboard/office/events")
    return page


def _shoot(page: Page, server: RunningServer, name: str) -> None:
    if shooting(server.database_url):
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _shoot_part(part: Locator, server: RunningServer, name: str) -> None:
    """One section of a page (a venue among the test server's many)."""
    if shooting(server.database_url):
        part.screenshot(path=str(SCREENSHOTS / name))


def test_an_event_in_the_venues_local_time_and_one_already_over(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = _admin(browser, server)
    code = f"CONCERT-{uuid.uuid4().hex[:6].upper()}"
    form = page.locator("form[action='/dashboard/office/events']")
    form.get_by_label("Code", exact=True).fill(code)
    form.get_by_label("Nom", exact=True).fill("Concert de l'été")
    form.get_by_label("Lieu", exact=True).select_option(place.venue)
    starts = (datetime.now(TUNIS) + timedelta(days=3)).replace(hour=20, minute=0, second=0,
                                                               microsecond=0)  # fmt: skip
    form.get_by_label("Début").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Fin").fill((starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    row = page.locator(f'tr[data-event="{code}"]')
    expect(row).to_contain_text(starts.strftime("%Y-%m-%d 20:00"))  # as typed, in Tunis time
    stored = ok(place.admin.get(f"/events/{code}"))
    assert datetime.fromisoformat(stored["starts_at"]) == starts.astimezone(UTC)  # 19:00 UTC
    # An event already over is made, and said so.
    past = f"PAST-{uuid.uuid4().hex[:6].upper()}"
    form.get_by_label("Code", exact=True).fill(past)
    form.get_by_label("Nom", exact=True).fill("Match d'hier")
    form.get_by_label("Lieu", exact=True).select_option(place.venue)
    yesterday = datetime.now(TUNIS) - timedelta(days=1)
    form.get_by_label("Début").fill(yesterday.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Fin").fill((yesterday + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_contain_text(f"l'événement {past} s'est terminé le")
    expect(page.locator(f'tr[data-event="{past}"] .badge')).to_have_text("terminé")
    # A refusal says why, in the page.
    form.get_by_label("Code", exact=True).fill(code)
    form.get_by_label("Nom", exact=True).fill("encore")
    form.get_by_label("Début").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Fin").fill((starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Créer").click()
    expect(page.get_by_role("alert")).to_contain_text(f"l'événement {code} existe déjà")
    _shoot(page, server, "office-events.png")
    page.context.close()


def test_a_new_gate_enrolls_a_terminal_from_its_qr_on_screen(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    page = _admin(browser, server)
    page.get_by_role("link", name="Portes", exact=True).click()
    name = f"NEW-{uuid.uuid4().hex[:4].upper()}"
    form = page.locator("form[action='/dashboard/office/gates']")
    form.get_by_label("Lieu", exact=True).select_option(place.venue)
    form.get_by_label("Nom", exact=True).fill(name)
    form.get_by_label("Zones où elle mène").fill("NORD")
    form.get_by_role("button", name="Créer").click()
    expect(page.locator("h2")).to_contain_text(f"{place.venue}/{name}")
    qr_box = page.locator(".qr svg")
    expect(qr_box).to_be_visible()
    shot = tmp_path / "qr.png"
    page.screenshot(path=str(shot))
    gray = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2GRAY)
    texts = make_decoder().decode(gray)  # the kiosk's own decoder, on what the page shows
    assert len(texts) == 1, texts
    link = EnrollmentLink.parse(texts[0])
    assert link.server == server.url and link.pins == ()  # plain HTTP here: nothing to pin
    assert link.code in page.locator(".code-big").inner_text()
    enrolled = enroll(link.server, link.code)
    assert (enrolled.venue, enrolled.gate) == (place.venue, name)
    _shoot(page, server, "office-enroll.png")
    # One use only; the gate is listed, and an admin can switch it off.
    again = httpx.post(f"{server.url}/api/v1/gate/enroll", json={"code": link.code})
    assert again.status_code in (401, 404, 409, 410, 422), again.text
    page.get_by_role("link", name="Portes", exact=True).click()
    row = page.locator(f'tr[data-gate="{place.venue}/{name}"]')
    row.get_by_role("button", name=f"Fermer {name}").click()
    expect(row.locator("td").nth(3)).to_have_text("✕")
    page.context.close()


def test_a_ban_by_the_offices_own_reference(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = _admin(browser, server)
    page.get_by_role("link", name="Interdictions", exact=True).click()
    reference = f"C-{uuid.uuid4().hex[:6].upper()}"
    form = page.locator("form[action='/dashboard/office/bans'][method='post']")
    form.get_by_label("Référence de la personne (la vôtre)").fill(reference)
    form.get_by_label("Motif").fill("envahissement du terrain")
    form.get_by_label("Gravité").select_option("3")
    form.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    row = page.locator("table.bans-table tbody tr", has_text=reference)
    expect(row).to_contain_text("envahissement du terrain")
    expect(row).to_contain_text("critique")
    search = page.locator("form.search-row")
    search.get_by_label("Chercher").fill(reference[2:])
    search.get_by_role("button", name="Chercher").click()
    expect(page.locator("table.bans-table tbody tr")).to_have_count(1)
    page.locator("table.bans-table tbody tr").get_by_role("button", name="Lever").click()
    expect(page.locator("table.bans-table tbody tr", has_text=reference)).to_have_count(0)
    audit = ok(place.admin.get("/audit", params={"action": "ban.add"}))
    assert any(e["remote_addr"] == "127.0.0.1" for e in audit)
    page.context.close()


def test_tickets_from_an_excel_csv_with_progress_and_numbered_bad_rows(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    page = _admin(browser, server)
    page.get_by_role("link", name="Billets", exact=True).click()
    holder = f"ABO-{uuid.uuid4().hex[:6].upper()}"
    good = tmp_path / "billets.csv"  # as Excel in France saves "CSV UTF-8": BOM, ;, CRLF
    lines = ["event;zones;holder;display_name"]
    lines += [f"{place.event};NORD;{holder if i == 0 else ''};Supporter {i}" for i in range(40)]
    good.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    page.get_by_label("Fichier").set_input_files(str(good))
    page.get_by_role("button", name="Importer").click()
    expect(page).to_have_url(re.compile(r"/dashboard/office/jobs/[0-9a-f]{32}$"))
    expect(page.locator("#job-state")).to_have_text("Terminé : 40 billets importés.",
                                                    timeout=30_000)  # fmt: skip
    # The office finds the supporter's ticket by its own reference.
    page.goto(f"{server.url}/dashboard/office/rights?holder={holder}")
    expect(page.locator("table.rights-table tbody tr")).to_have_count(1)
    # Its ticket as a PDF: the QR code in it, read back by the kiosk's decoder, is its code.
    right_id = page.locator("table.rights-table tbody tr").get_attribute("data-right")
    ticket = page.request.get(f"{server.url}/dashboard/office/rights/{right_id}/ticket.pdf")
    assert ticket.status == 200 and ticket.headers["content-type"] == "application/pdf"
    pdf_text = pypdf.PdfReader(io.BytesIO(ticket.body())).pages[0].extract_text()
    assert "Derby" in pdf_text and "Virage Nord" in pdf_text and "Supporter 0" in pdf_text
    rendered = pypdfium2.PdfDocument(ticket.body())[0].render(scale=3).to_pil().convert("L")
    if shooting(server.database_url):
        rendered.save(SCREENSHOTS / "ticket-fr.png")
    (decoded,) = make_decoder().decode(np.asarray(rendered, dtype=np.uint8))
    gate = place.terminal("NORD-1", tmp_path / "gate")  # a real gate admits it
    assert gate.check(decoded).decision.granted
    gate.close()
    # A file with bad rows: refused whole, each bad row named by the spreadsheet's number.
    bad = tmp_path / "erreurs.csv"
    bad.write_bytes(("event;zones\r\n" f"{place.event};NORD\r\n" "NO-SUCH;NORD\r\n"
                     f"{place.event};MARS\r\n").encode())  # fmt: skip
    page.goto(f"{server.url}/dashboard/office/rights")
    page.get_by_label("Fichier").set_input_files(str(bad))
    page.get_by_role("button", name="Importer").click()
    expect(page.locator("#job-state")).to_contain_text("2 lignes fausses", timeout=30_000)
    rows = page.locator("table.errors-table tbody tr")
    expect(rows).to_have_count(2)
    assert [r.get_attribute("data-row") for r in rows.all()] == ["3", "4"]
    expect(rows.nth(1)).to_contain_text("MARS")
    # in the page's words, not the API's English
    expect(rows.nth(0)).to_contain_text("aucun événement NO-SUCH")
    expect(rows.nth(1)).to_contain_text("zone(s) inconnue(s)")
    _shoot(page, server, "office-import-refused.png")
    # Windows-1252: refused, saying what to do.
    latin = tmp_path / "latin.csv"
    latin.write_bytes("event;zones;display_name\r\nX;NORD;Hélène\r\n".encode("cp1252"))
    page.goto(f"{server.url}/dashboard/office/rights")
    page.get_by_label("Fichier").set_input_files(str(latin))
    page.get_by_role("button", name="Importer").click()
    expect(page.locator("#job-state")).to_contain_text("CSV UTF-8", timeout=30_000)
    page.context.close()


def test_a_supervisor_sees_but_changes_nothing(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"), PASSWORD,
                   locale="fr-FR")  # fmt: skip
    page.goto(f"{server.url}/dashboard/office/events")
    expect(page.locator(".read-only")).to_be_visible()
    expect(page.locator("form[action='/dashboard/office/events']")).to_have_count(0)
    expect(page.get_by_role("link", name="Billets", exact=True)).to_have_count(0)
    page.goto(f"{server.url}/dashboard/office/gates")
    expect(page.locator(f'tr[data-gate="{place.venue}/NORD-1"]')).to_be_visible()
    expect(page.locator("form[action='/dashboard/office/gates']")).to_have_count(0)
    for path in ("/dashboard/office/rights", "/dashboard/office/audit"):
        assert page.request.get(f"{server.url}{path}").status == 403
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = page.request.post(
        f"{server.url}/dashboard/office/bans",
        form={"csrf": csrf or "", "holder": "X-1", "reason": "no"},
    )
    assert forged.status == 403
    assert not any(b.get("holder") == "X-1" for b in ok(place.admin.get("/bans")))
    page.context.close()


def test_the_audit_log_names_who_did_what_from_the_office(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = _admin(browser, server)
    name = page.locator(".who span").first.inner_text().split(" ")[0]
    page.get_by_role("link", name="Interdictions", exact=True).click()
    form = page.locator("form[action='/dashboard/office/bans'][method='post']")
    form.get_by_label("Référence de la personne (la vôtre)").fill("AUDIT-1")
    form.get_by_label("Motif").fill("test")
    form.get_by_role("button", name="Créer").click()
    page.get_by_role("link", name="Journal", exact=True).click()
    page.get_by_label("Qui").fill(name)
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("table.audit-table tbody tr[data-action='ban.add']")).to_have_count(1)
    fits = page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert fits
    page.context.close()


def test_a_ticket_transferred_and_the_signing_keys_rotated(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    page = _admin(browser, server)
    seller, buyer = f"S-{uuid.uuid4().hex[:6]}", f"B-{uuid.uuid4().hex[:6]}"
    old = ok(place.admin.post("/rights", json={"event": place.event, "zones": ["NORD"],
                                                "holder": seller}), 201)  # fmt: skip
    page.goto(f"{server.url}/dashboard/office/rights?holder={seller}")
    row = page.locator(f'tr[data-right="{old["right_id"]}"]')
    row.get_by_label("Nouveau titulaire (référence)").fill(buyer)
    row.get_by_role("button", name="Transférer").click()
    expect(page.locator(".notice")).to_contain_text("Transféré : l'ancien billet est annulé")
    expect(page.locator("table.rights-table tbody tr")).to_have_count(1)  # the buyer's
    assert ok(place.admin.get(f"/rights/{old['right_id']}"))["status"] != "active"
    # Keys: a new one signs from now on, the old one verifies until retired.
    page.get_by_role("link", name="Clés", exact=True).click()
    before = {r.get_attribute("data-kid") for r in page.locator("table.keys-table tbody tr").all()}
    page.get_by_role("button", name="Nouvelle clé de signature").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    rows = page.locator("table.keys-table tbody tr")
    active = [
        r.get_attribute("data-kid")
        for r in rows.all()
        if r.get_attribute("data-status") == "active"
    ]
    assert len(active) == 1 and active[0] not in before
    older = page.locator('table.keys-table tbody tr[data-status="verify"]').first
    kid = older.get_attribute("data-kid")
    older.get_by_role("button", name="Retirer").click()
    expect(page.locator(f'tr[data-kid="{kid}"]')).to_have_attribute("data-status", "retired")
    retired = ok(place.admin.get("/audit", params={"action": "key.retire"}))
    assert any(e["target"] == kid for e in retired)
    page.context.close()


def test_a_venue_its_time_zone_and_its_zone_tree(browser: Browser, server: RunningServer) -> None:
    page = _admin(browser, server)
    page.get_by_role("link", name="Lieux", exact=True).click()
    code = f"ARENA-{uuid.uuid4().hex[:4].upper()}"
    new = page.locator("form[action='/dashboard/office/venues']")
    new.get_by_label("Code", exact=True).fill(code)
    new.get_by_label("Nom", exact=True).fill("Salle couverte")
    new.get_by_label("Fuseau horaire").fill("Europe/Paris")
    new.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    venue = page.locator(f'section.venue[data-venue="{code}"]')
    expect(venue).to_contain_text("Europe/Paris")
    for zone, name, parent, capacity in [("SALLE", "Salle", "", "5000"),
                                         ("FOSSE", "Fosse", "SALLE", "3000")]:  # fmt: skip
        form = venue.locator("form[action$='/zones']")
        form.get_by_label("Code", exact=True).fill(zone)
        form.get_by_label("Nom", exact=True).fill(name)
        if parent:
            form.get_by_label("Dans").select_option(parent)
        form.get_by_label("Capacité").fill(capacity)
        form.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".notice")).to_have_text("Enregistré.")
        venue = page.locator(f'section.venue[data-venue="{code}"]')
    expect(venue.locator('tr[data-zone="FOSSE"]')).to_have_class("depth-1")
    expect(venue.locator('tr[data-zone="FOSSE"] td.num').first).to_have_text("3000")
    bearer = {"Authorization": f"Bearer {server.tokens['admin']}"}
    stored = ok(httpx.get(f"{server.url}/api/v1/venues/{code}", headers=bearer))
    assert stored["timezone"] == "Europe/Paris"
    assert {(z["code"], z["parent"], z["capacity"]) for z in stored["zones"]} == {
        ("SALLE", None, 5000),
        ("FOSSE", "SALLE", 3000),
    }
    # A time zone that is none is refused in words; the venue keeps its own.
    tz = venue.locator("form[action$='/timezone']")
    tz.get_by_label("Fuseau horaire").fill("Mars/Olympus")
    tz.get_by_role("button", name="Changer").click()
    expect(page.get_by_role("alert")).to_contain_text("not an IANA time zone")
    _shoot(page, server, "office-venues.png")
    page.context.close()


PAGE_FITS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".table-scroll")) continue;  // a wide table scrolls inside its own box
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > width + 0.5 || box.left < -0.5) wide.push(el.tagName + "." + el.className);
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


def test_the_office_on_a_phone_in_french_and_arabic(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = _admin(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True)
    for section in ("venues", "events", "gates", "rights", "bans", "keys", "audit"):
        page.goto(f"{server.url}/dashboard/office/{section}")
        fits = page.evaluate(PAGE_FITS)
        assert fits["scroll"] == 390 and fits["wide"] == [], (section, fits)
    page.get_by_role("button", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("link", name="البوابات", exact=True)).to_be_visible()
    for section in ("events", "bans"):
        page.goto(f"{server.url}/dashboard/office/{section}")
        fits = page.evaluate(PAGE_FITS)
        assert fits["scroll"] == 390 and fits["wide"] == [], (section, fits)
    _shoot(page, server, "office-bans-ar-phone.png")
    page.context.close()


def test_every_office_form_refuses_a_supervisor_before_reading_it(server: RunningServer) -> None:
    """Derived from the application's routes, so a new form is covered the day it lands: a
    supervisor signed in (with the session's own CSRF token) is refused every POST, and every
    admin page, before anything is read or looked up."""
    from fastapi.routing import iter_route_contexts

    from sync_server.api.main import create_app

    samples = {"right_id": "0" * 32, "job": "0" * 32, "kid": "0" * 16}
    routes = sorted(
        (method, route.path)
        for route in iter_route_contexts(create_app().routes)
        if route.path is not None and route.path.startswith("/dashboard/office")
        for method in route.methods or ()
    )
    posts = [r for r in routes if r[0] == "POST"]
    assert len(posts) >= 14, posts  # every form of the office today
    admin_pages = [("GET", p) for p in ("/dashboard/office/rights", "/dashboard/office/keys",
                                         "/dashboard/office/audit")]  # fmt: skip
    admin_pages += [r for r in routes if r[0] == "GET" and "{" in r[1]]
    name = add_user(server.database_url, "supervisor")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        form = {"name": name, "password": PASSWORD}
        assert browser.post("/dashboard/login", data=form).status_code == 303
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/dashboard").text)
        assert csrf is not None
        wrong = {}
        for method, path in posts + admin_pages:
            concrete = re.sub(r"\{(\w+)\}", lambda m: samples.get(m.group(1), "X"), path)
            answer = browser.request(method, concrete, data={"csrf": csrf.group(1)})
            if answer.status_code != 403 or "admin role" not in answer.text:
                wrong[f"{method} {path}"] = f"{answer.status_code}: {answer.text[:120]}"
    assert wrong == {}


def test_an_admin_makes_a_clubs_account_in_the_browser(
    browser: Browser, server: RunningServer, place: Site
) -> None:
    page = _admin(browser, server)
    page.get_by_role("link", name="Comptes", exact=True).click()
    name = f"club-{uuid.uuid4().hex[:6]}"
    form = page.locator("form[action='/dashboard/office/accounts']")
    form.get_by_label("Nom", exact=True).fill(name)
    form.get_by_label("Rôle").select_option("venue_admin")
    form.get_by_label("Ses lieux (administrateur de lieu)").select_option([place.venue])
    form.get_by_label("Mot de passe").fill(PASSWORD)
    form.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_contain_text(f"Compte {name} créé")
    expect(page.locator(".notice")).to_contain_text("egu_")  # its token, shown once
    expect(page.locator(f'tr[data-user="{name}"]')).to_contain_text("administrateur de lieu")
    page.context.close()
    # The club's office signs in and manages its venue only.
    theirs = sign_in(browser, server.url, name, PASSWORD, locale="fr-FR")
    theirs.goto(f"{server.url}/dashboard/office/gates")
    expect(theirs.locator(".who .role")).to_contain_text(place.venue)
    expect(theirs.get_by_role("link", name="Comptes", exact=True)).to_have_count(0)
    assert theirs.request.get(f"{server.url}/dashboard/office/accounts").status == 403
    theirs.context.close()


def test_a_concert_set_up_in_the_browser_is_decided_at_the_gate(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    """The issue's story: a layout copied from the stadium's, a pit added, gate NORD-1 sent into
    it, a concert held in it; then at NORD-1 a pit ticket enters the pit and a match ticket the
    north stand."""
    site = Site.create(server)  # a venue of its own: its layouts are this test's
    page = _admin(browser, server)
    page.get_by_role("link", name="Lieux", exact=True).click()
    venue = page.locator(f'section.venue[data-venue="{site.venue}"]')
    new = venue.locator("form.new-layout")
    new.get_by_label("Code", exact=True).fill("CONCERT")
    new.get_by_label("Nom", exact=True).fill("Concert")
    new.get_by_label("Copier depuis").select_option("MAIN")
    new.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    layout = page.locator(
        f'section.venue[data-venue="{site.venue}"] section[data-layout="CONCERT"]'
    )
    expect(layout.locator('tr[data-zone="NORD"]')).to_be_visible()  # copied from the main one
    zone = layout.locator("form[action$='/zones']")
    zone.get_by_label("Code", exact=True).fill("FOSSE")
    zone.get_by_label("Nom", exact=True).fill("Fosse")
    zone.get_by_label("Dans").select_option("STADE")
    zone.get_by_label("Capacité").fill("15000")
    zone.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    layout = page.locator(
        f'section.venue[data-venue="{site.venue}"] section[data-layout="CONCERT"]'
    )
    expect(layout.locator('tr[data-zone="FOSSE"]')).to_have_class("depth-1")
    row = layout.locator('table.access-points tr[data-gate="NORD-1"]')
    expect(row.locator("input[name=zones]")).to_have_value("NORD")
    row.locator("input[name=zones]").fill("FOSSE")
    row.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    row = page.locator(
        f'section.venue[data-venue="{site.venue}"] section[data-layout="CONCERT"]'
        ' table.access-points tr[data-gate="NORD-1"]'
    )
    expect(row.locator("input[name=zones]")).to_have_value("FOSSE")
    # A zone the layout does not have is refused, in words.
    row.locator("input[name=zones]").fill("MARS")
    row.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text("zone(s) inconnue(s)")
    _shoot_part(page.locator(f'section.venue[data-venue="{site.venue}"]'), server,
                "office-layouts.png")  # fmt: skip

    page.get_by_role("link", name="Événements", exact=True).click()
    event = f"LIVE-{uuid.uuid4().hex[:6].upper()}"
    form = page.locator("form[action='/dashboard/office/events']")
    form.get_by_label("Code", exact=True).fill(event)
    form.get_by_label("Nom", exact=True).fill("Concert à Radès")
    form.get_by_label("Lieu", exact=True).select_option(site.venue)
    form.get_by_label("Configuration", exact=True).select_option("CONCERT")
    zone_of_venue = ZoneInfo(ok(site.admin.get(f"/venues/{site.venue}"))["timezone"])
    starts = datetime.now(zone_of_venue) - timedelta(minutes=30)
    form.get_by_label("Début").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Fin").fill((starts + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Créer").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    expect(page.locator(f'tr[data-event="{event}"]')).to_contain_text("CONCERT")
    page.context.close()

    ok(site.admin.post(f"/events/{event}/open-gates"))
    gate = site.terminal("NORD-1", tmp_path)
    pit = gate.check(site.code(site.right(event=event, zones=["FOSSE"]))).decision
    assert pit.granted and pit.zone == "FOSSE"
    match = gate.check(site.code(site.right(zones=["NORD"]))).decision
    assert match.granted and match.zone == "NORD"
    changed = ok(site.admin.get("/audit", params={"action": "layout.access"}))
    assert any(e["target"] == f"{site.venue}/CONCERT" and e["actor"].startswith("admin")
               for e in changed)  # fmt: skip
    gate.close()


def test_an_admin_gives_a_supervisor_a_kiosk_pin_in_the_browser(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    name = f"sara-{uuid.uuid4().hex[:6]}"
    ok(site.admin.post("/users", json={"name": name, "role": "supervisor",
                                       "venues": [site.venue]}), 201)  # fmt: skip
    page = _admin(browser, server)
    page.get_by_role("link", name="Comptes", exact=True).click()
    row = page.locator(f'tr[data-user="{name}"]')
    row.get_by_label(f"PIN de borne — {name}").fill("482915")
    row.get_by_label(f"PIN, encore — {name}").fill("482916")
    row.get_by_role("button", name="Donner").click()
    expect(page.get_by_role("alert")).to_contain_text("Les deux PIN diffèrent.")
    row = page.locator(f'tr[data-user="{name}"]')
    row.get_by_label(f"PIN de borne — {name}").fill("482915")
    row.get_by_label(f"PIN, encore — {name}").fill("482915")
    row.get_by_role("button", name="Donner").click()
    expect(page.locator(".notice")).to_have_text("Enregistré.")
    expect(
        page.locator(f'tr[data-user="{name}"]').get_by_role("button", name="Changer")
    ).to_be_visible()
    _shoot_part(page.locator("table.accounts-table"), server, "office-kiosk-pin.png")
    page.context.close()
    gate = site.terminal("NORD-1", tmp_path)
    staff = gate.replica.staff()
    assert list(staff) == [name] and "482915" not in staff[name]
    gate.close()
