"""The holder's page of a rotating ticket (issue 18), in Debian's Chromium, on SQLite and
PostgreSQL: the code it draws is read from a screenshot by the kiosk's own decoder and granted at
a gate cut off from the server; the same screenshot later is stale; the page keeps drawing new
codes with the server gone (its service worker); a transfer or a new link kills the old one,
an open page included; a rotating right's static code is refused everywhere."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from pathlib import Path

import cv2
import httpx
import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from scanner_app.decoders import make_decoder
from shared import rotating
from shared.reasons import Reason
from sync_server.dashboard.holder import STATIC, VENDORED
from tests.support.browser import needs_chromium, sign_in
from tests.support.screenshots import SCREENSHOTS, shooting
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.sync_server.test_sessions import PASSWORD, add_user

pytestmark = needs_chromium
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def place(server: RunningServer) -> Site:
    site = Site.create(server)
    ok(site.admin.post(f"/venues/{site.venue}/rotation-keys"), 201)
    return site


def _holder_link(place: Site, **fields: object) -> tuple[dict[str, object], str]:
    right = place.right(rotating=True, seat="NORD-12-7", **fields)
    assert right["rotating"] is True
    link = ok(place.admin.post(f"/rights/{right['right_id']}/holder-link"), 201)
    assert link["url"].startswith(f"{place.server.url}/t/")
    return right, str(link["url"])


def _phone(browser: Browser, locale: str = "fr-FR") -> Page:
    return browser.new_context(viewport=PHONE, locale=locale, device_scale_factor=2).new_page()


def _shown(page: Page, tmp_path: Path) -> str:
    """The code the page shows, as the kiosk reads it from a photo of the screen."""
    expect(page.locator("#code svg")).to_be_visible()
    shot = tmp_path / "phone.png"
    page.screenshot(path=str(shot))
    texts = make_decoder().decode(cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2GRAY))
    assert len(texts) == 1, texts
    assert texts[0] == page.locator("#code").get_attribute("data-code")
    return texts[0]


def _kept_offline(page: Page) -> None:
    """Wait until the service worker controls the page and holds it."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=10_000)
    page.wait_for_function(
        "async () => (await (await caches.open('entrix-holder-pages')).keys()).length > 0",
        timeout=10_000,
    )


def test_the_page_code_is_granted_offline_and_its_screenshot_is_not(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    right, url = _holder_link(place)
    gate = place.terminal("NORD-1", tmp_path)  # pulled once: from now on, on its own
    page = _phone(browser)
    answer = page.goto(url)
    assert answer is not None and answer.status == 200
    headers = answer.headers
    assert headers["referrer-policy"] == "no-referrer" and "noindex" in headers["x-robots-tag"]
    assert "script-src 'self'" in headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("Derby")
    expect(page.locator("dl")).to_contain_text("Virage Nord")
    expect(page.locator("dl")).to_contain_text("NORD-12-7")
    shown = _shown(page, tmp_path)
    code = rotating.parse(shown)
    assert abs(code.timestamp_s - time.time()) < 2 * rotating.PERIOD_S
    if shooting(server.database_url):
        page.screenshot(path=str(SCREENSHOTS / "holder-fr.png"), full_page=True)
    granted = gate.check(shown).decision
    assert granted.reason is Reason.GRANTED, granted.detail
    assert granted.right is not None and granted.right.right_id.hex() == right["right_id"]
    with time_machine.travel(code.timestamp_s + 2 * rotating.PERIOD_S, tick=False):
        replayed = gate.check(shown).decision  # the screenshot, sent on half a minute later
    assert replayed.reason is Reason.STALE_CODE and replayed.cause == "old"
    # The signed part alone (copied out of the page) is a static code of a rotating right.
    assert gate.check(code.credential).decision.reason is Reason.STATIC_CODE
    gate.close()
    page.context.close()


def test_the_page_keeps_rotating_with_the_server_gone(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    _, url = _holder_link(place)
    gate = place.terminal("NORD-2", tmp_path)
    page = _phone(browser)
    page.clock.install()
    page.goto(url)
    _kept_offline(page)
    server.stop()  # the network is gone: nothing answers at the server's address
    try:
        page.reload()  # the phone opens the page again, from its service worker
        first = _shown(page, tmp_path)
        expect(page.locator("#offline")).to_be_visible()
        page.clock.run_for(rotating.PERIOD_S * 1000)
        expect(page.locator("#code")).not_to_have_attribute("data-code", first)
        later = _shown(page, tmp_path)
    finally:
        server.start()
    step = rotating.parse(later).timestamp_s // rotating.PERIOD_S
    assert step == rotating.parse(first).timestamp_s // rotating.PERIOD_S + 1
    with time_machine.travel(rotating.parse(later).timestamp_s + 1, tick=False):
        assert gate.check(later).decision.reason is Reason.GRANTED
    gate.close()
    page.context.close()


def test_after_a_transfer_the_old_link_shows_no_code(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    right, old_url = _holder_link(place)
    page = _phone(browser)
    page.clock.install()
    page.goto(old_url)
    old_code = _shown(page, tmp_path)
    _kept_offline(page)
    done = ok(place.admin.post(f"/rights/{right['right_id']}/transfer",
                               json={"holder": "new-holder"}), 201)  # fmt: skip
    assert done["code"] is None and done["new"]["rotating"] is True
    new_url = done["holder_link"]
    assert new_url != old_url
    # The page left open learns it at its next clock check, and draws no code any more.
    page.clock.run_for(61_000)
    expect(page.locator("#ended")).to_be_visible()
    expect(page.locator("#code svg")).to_have_count(0)
    page.reload()  # and the kept copy is gone: the server's answer is what it shows
    expect(page.locator(".ended")).to_contain_text("transféré")
    assert httpx.get(old_url).status_code == 410
    assert httpx.get(f"{old_url}/clock").status_code == 410
    fresh = _phone(browser)
    fresh.goto(new_url)
    new_code = _shown(fresh, tmp_path)
    gate = place.terminal("NORD-1", tmp_path)  # synced after the transfer
    assert gate.check(old_code).decision.reason is Reason.REVOKED
    admitted = gate.check(new_code).decision
    assert admitted.reason is Reason.GRANTED and admitted.right is not None
    assert admitted.right.right_id.hex() == done["new"]["right_id"]  # a new right, a new secret
    gate.close()
    page.context.close()
    fresh.context.close()


def _opened_at(server: RunningServer, url: str) -> object:
    token_hash = hashlib.sha256(url.rsplit("/", 1)[1].encode()).digest()
    engine = create_engine(server.database_url)
    with engine.connect() as db:
        found = db.execute(text("SELECT opened_at FROM holder_links WHERE token_hash = :h"),
                           {"h": token_hash}).scalar()  # fmt: skip
    engine.dispose()
    return found


def test_a_link_can_be_ended_or_replaced_and_a_guess_leads_nowhere(
    server: RunningServer, place: Site
) -> None:
    right, first = _holder_link(place)
    second = ok(place.admin.post(f"/rights/{right['right_id']}/holder-link"), 201)["url"]
    replaced = httpx.get(first)
    assert replaced.status_code == 410 and "nouveau lien" in replaced.text
    assert httpx.get(second).status_code == 200
    noted = _opened_at(server, second)
    assert noted is not None and httpx.get(second).status_code == 200
    assert _opened_at(server, second) == noted  # one write per link per five minutes, at most
    ended = place.admin.delete(f"/rights/{right['right_id']}/holder-link")
    assert ended.status_code == 204
    gone = httpx.get(second)
    assert gone.status_code == 410 and "désactivé" in gone.text
    assert place.admin.delete(f"/rights/{right['right_id']}/holder-link").status_code == 404
    logged = server.log.read_text(encoding="utf-8")
    assert first.rsplit("/", 1)[1] not in logged and "GET /t/… HTTP" in logged  # no token kept
    guessed = httpx.get(f"{server.url}/t/{'A' * 43}")
    assert guessed.status_code == 404 and "EGR1" not in guessed.text
    assert httpx.get(f"{server.url}/t/not-a-token").status_code == 404
    for action in ("right.holder_link", "right.holder_link_revoke"):
        audit = ok(place.admin.get("/audit", params={"action": action}))
        assert any(entry["target"] == right["right_id"] for entry in audit), action


def test_a_rotating_right_has_no_static_code_and_a_static_right_no_link(place: Site) -> None:
    right, _ = _holder_link(place)
    for what in ("code", "qr.png", "ticket.pdf"):
        refused = place.admin.get(f"/rights/{right['right_id']}/{what}")
        assert refused.status_code == 409 and "rotating" in refused.text, what
    static = place.right()
    assert static["rotating"] is False
    refused = place.admin.post(f"/rights/{static['right_id']}/holder-link")
    assert refused.status_code == 409 and "not issued rotating" in refused.text
    body = {"event": place.event, "zones": ["NORD"], "secret": "OTHER-1", "rotating": True}
    plain = place.admin.post("/rights", json=body)
    assert plain.status_code == 422 and "does not rotate" in plain.text


def test_an_event_requiring_rotating_codes_refuses_its_printed_tickets(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    ok(site.admin.post(f"/venues/{site.venue}/rotation-keys"), 201)
    printed = site.right()
    printed_code = site.code(printed)
    made = ok(site.admin.put(f"/events/{site.event}/rotating", json={"required": True}))
    assert made["rotating_required"] is True
    gate = site.terminal("NORD-1", tmp_path)
    assert gate.check(printed_code).decision.reason is Reason.STATIC_CODE
    assert ok(site.admin.get(f"/rights/{printed['right_id']}"))["rotating"] is True
    assert site.right()["rotating"] is True  # issued rotating from now on
    shown = ok(site.admin.get(f"/rights/{printed['right_id']}/rotating"))["code"]
    assert gate.check(shown).decision.reason is Reason.GRANTED
    # A protocol-2 gate could neither read the rotating codes nor refuse the printed ones.
    speaking_2 = {"Authorization": f"Bearer {gate.sync.token}", "Entrix-Protocol": "2"}
    old = httpx.get(f"{server.url}/api/v1/gate/changes", headers=speaking_2)
    assert old.status_code == 426 and "rotating codes" in old.json()["detail"]
    ok(site.admin.put(f"/events/{site.event}/rotating", json={"required": False}))
    gate.sync.pull()
    assert gate.check(site.code(site.right(rotating=False))).decision.reason is Reason.GRANTED
    gate.close()


@pytest.mark.parametrize(("lang", "direction", "words"), [("ar", "rtl", "تذكرتك"),
                                                         ("en", "ltr", "Your ticket")])  # fmt: skip
def test_the_page_speaks_arabic_right_to_left_and_english(
    browser: Browser, server: RunningServer, place: Site, lang: str, direction: str, words: str
) -> None:
    _, url = _holder_link(place)
    page = _phone(browser, locale="fr-FR")
    page.goto(f"{url}?lang={lang}")
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page).to_have_title(f"{words} · Derby")
    expect(page.locator("#code svg")).to_be_visible()
    if shooting(server.database_url):
        page.screenshot(path=str(SCREENSHOTS / f"holder-{lang}.png"), full_page=True)
    page.context.close()


def test_the_vendored_qr_encoder_is_the_published_one() -> None:
    for name, digest in VENDORED.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


def test_the_back_office_gives_a_holder_link_and_requires_rotating_codes(
    browser: Browser, server: RunningServer, place: Site, tmp_path: Path
) -> None:
    holder = f"CLIENT-{uuid.uuid4().hex[:6]}"
    right = place.right(rotating=True, holder=holder)
    office = sign_in(browser, server.url, add_user(server.database_url, "admin"), PASSWORD,
                     locale="fr-FR")  # fmt: skip
    office.goto(f"{server.url}/dashboard/office/rights?holder={holder}")
    row = office.locator(f'tr[data-right="{right["right_id"]}"]')
    expect(row.locator(".badge")).to_have_text("code tournant")
    expect(row.locator(".ticket-link")).to_have_count(0)  # no static ticket to print
    row.get_by_role("button", name="Lien du porteur").click()
    shown = office.locator(".holder-link")
    expect(shown).to_be_visible()
    link = shown.locator("a").inner_text()
    shot = tmp_path / "office-link.png"
    shown.locator(".qr").screenshot(path=str(shot))
    read = make_decoder().decode(cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2GRAY))
    assert read == [link]  # the QR to send or print opens the holder's page
    if shooting(server.database_url):
        office.screenshot(path=str(SCREENSHOTS / "office-holder-link.png"), full_page=True)
    phone = _phone(browser)
    phone.goto(link)
    expect(phone.locator("#code svg")).to_be_visible()
    office.locator(f'tr[data-right="{right["right_id"]}"]').get_by_role(
        "button", name="Désactiver le lien"
    ).click()
    phone.reload()
    expect(phone.locator(".ended")).to_contain_text("désactivé")
    office.goto(f"{server.url}/dashboard/office/events")
    event_row = office.locator(f'tr[data-event="{place.event}"]')
    event_row.get_by_role("button", name="Exiger").click()
    expect(office.locator(f'tr[data-event="{place.event}"] .badge')).to_have_text("code tournant")
    assert ok(place.admin.get(f"/events/{place.event}"))["rotating_required"] is True
    office.locator(f'tr[data-event="{place.event}"]').get_by_role("button", name="Lever").click()
    expect(office.locator(f'tr[data-event="{place.event}"] .badge')).to_have_count(0)
    office.context.close()
    phone.context.close()


def test_a_page_opened_without_https_says_so_instead_of_showing_nothing(
    browser: Browser, place: Site
) -> None:
    """WebCrypto exists on secure pages only (https://, and this test's localhost): a phone that
    opened the link over plain http is told what to do."""
    _, url = _holder_link(place)
    page = _phone(browser)
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', {value: false})")
    page.goto(url)
    expect(page.locator("#ended")).to_contain_text("https://")
    expect(page.locator("#code svg")).to_have_count(0)
    page.context.close()


def test_a_phone_clock_five_minutes_ahead_is_told_and_its_codes_still_enter(
    browser: Browser, place: Site, tmp_path: Path
) -> None:
    """The page makes its codes on the server's time: a phone whose clock is off is told by
    how much, and what it shows is still granted."""
    _, url = _holder_link(place)
    gate = place.terminal("NORD-1", tmp_path)
    page = _phone(browser)
    page.clock.install(time=time.time() + 300)  # the phone's clock, 5 min ahead
    page.goto(url)
    expect(page.locator("#clock")).to_contain_text(re.compile(r"avance de (5 min \d+|4 min 5\d) s"))
    page.wait_for_function("() => document.getElementById('code').dataset.code !== undefined")
    shown = rotating.parse(page.locator("#code").get_attribute("data-code") or "")
    assert abs(shown.timestamp_s - time.time()) < 2 * rotating.PERIOD_S  # the server's time
    decision = gate.check(page.locator("#code").get_attribute("data-code") or "").decision
    assert decision.reason is Reason.GRANTED, decision.detail
    gate.close()
    page.context.close()
