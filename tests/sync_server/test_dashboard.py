"""The supervisors' dashboard in Debian's Chromium (Playwright, headless) against a real server:
sign in, live gate tiles, alerts acknowledged in the page, roles, the authorities' report."""

from __future__ import annotations

import random
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import needs_chromium
from tests.support.browser import sign_in as browser_sign_in
from tests.support.screenshots import SCREENSHOTS, shooting
from tests.support.server import RunningServer, free_port
from tests.support.site import Site, Terminal, ok
from tests.sync_server.test_sessions import PASSWORD, add_user

pytestmark = needs_chromium


@pytest.fixture
def site(server: RunningServer) -> Site:
    return Site.create(server, capacity=20)


def sign_in(browser: Browser, base_url: str, name: str, password: str = PASSWORD) -> Page:
    """An English-speaking browser, signed in (tests/support/browser.py)."""
    return browser_sign_in(browser, base_url, name, password)


def tile(page: Page, site: Site, gate: str) -> Any:
    return page.locator(f'li.tile[data-gate="{site.venue}/{gate}"]')


def test_a_wrong_password_is_refused(browser: Browser, server: RunningServer) -> None:
    name = add_user(server.database_url, "supervisor")
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/dashboard/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("✕ Wrong name or password.")
    expect(page).to_have_url(f"{server.url}/dashboard/login")
    assert page.context.cookies() == []
    page.goto(f"{server.url}/dashboard")
    expect(page).to_have_url(f"{server.url}/dashboard/login")
    page.context.close()


def test_a_scan_uploaded_by_a_gate_shows_within_two_seconds(
    browser: Browser, server: RunningServer, site: Site, tmp_path: Path
) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    gate.sync.heartbeat(relay="closed", camera="ok")
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"))
    nord = tile(page, site, "NORD-1")
    expect(nord.locator(".state")).to_contain_text("● Online")
    expect(nord).to_contain_text("closed")
    expect(nord.locator("dd.entries")).to_have_text("0")
    assert gate.check(site.code(site.right())).decision.granted
    assert gate.check("EG1:garbage").decision.reason.value == "malformed"
    assert gate.sync.push() == 2
    uploaded = time.monotonic()
    expect(nord.locator("dd.entries")).to_have_text("1", timeout=2_000)
    expect(nord.locator("dd.refused")).to_have_text("1", timeout=2_000)
    assert time.monotonic() - uploaded < 2.0
    zone = page.locator(f'tr[data-zone="{site.venue}/NORD"]')
    expect(zone.locator("td.count")).to_contain_text("1 / 20 (5 %)")
    expect(zone.locator("svg rect")).to_have_count(1)
    page.context.close()


def test_a_heartbeat_replaces_only_its_tile_and_ages_keep_counting(
    browser: Browser, server: RunningServer, site: Site, tmp_path: Path
) -> None:
    """The stream sends the tile that moved, not the section: the other tiles stay the same DOM
    nodes. Between pushes the page's script counts the ages on."""
    nord, sud = site.terminal("NORD-1", tmp_path), site.terminal("SUD-1", tmp_path)
    nord.sync.heartbeat(relay="closed")
    sud.sync.heartbeat(relay="closed")
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"))
    # Mark both tiles' DOM nodes: a node swapped in by the script loses the mark.
    for name in ("NORD-1", "SUD-1"):
        tile(page, site, name).evaluate("el => { el.dataset.mark = 'kept'; }")
    sud.sync.heartbeat(relay="open")
    expect(tile(page, site, "SUD-1")).to_contain_text("open", timeout=3_000)
    assert tile(page, site, "SUD-1").get_attribute("data-mark") is None
    assert tile(page, site, "NORD-1").get_attribute("data-mark") == "kept"
    seen = tile(page, site, "NORD-1").locator(".seen time.ago")
    first = int(seen.inner_text().split()[0])
    expect(seen).not_to_have_text(f"{first} s ago", timeout=3_000)
    assert int(seen.inner_text().split()[0]) > first
    assert tile(page, site, "NORD-1").get_attribute("data-mark") == "kept"
    page.context.close()


def test_a_double_entry_alert_appears_and_is_acknowledged_in_the_page(
    browser: Browser, server: RunningServer, site: Site, tmp_path: Path
) -> None:
    name = add_user(server.database_url, "supervisor")
    page = sign_in(browser, server.url, name)
    right = site.right()
    code = site.code(right)
    a, b = site.terminal("NORD-1", tmp_path), site.terminal("NORD-2", tmp_path)
    assert a.check(code).decision.granted
    assert b.check(code).decision.granted  # apart, both admit it
    a.sync.push()
    b.sync.push()
    alert = page.locator("li.alert.kind-double_entry").filter(has_text="NORD-2")
    expect(alert).to_contain_text("Double entry", timeout=5_000)
    expect(alert.locator(".where")).to_contain_text("gate NORD-2")
    expect(alert.locator(".where .zone")).to_have_text("Virage Nord")  # its name, not NORD
    expect(alert.locator(".when")).to_contain_text(" s ago")
    expect(alert.locator(".message")).to_contain_text("A ticket already inside was admitted again")
    alert_id = alert.get_attribute("data-alert")
    raised = ok(site.admin.get("/alerts", params={"kind": "double_entry", "venue": site.venue}))
    assert [a["right_id"] for a in raised if a["id"] == int(alert_id or 0)] == [right["right_id"]]
    # A forged acknowledgement (no valid CSRF token) is refused, even with the session cookie.
    forged = page.request.post(
        f"{server.url}/dashboard/alerts/{alert_id}/ack", form={"csrf": "0" * 64}
    )
    assert forged.status == 403
    assert ok(site.admin.get("/alerts", params={"kind": "double_entry"}))[0]["id"] == int(
        alert_id or 0
    )
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_have_count(0)
    acked = page.locator(f'li[data-acked="{alert_id}"]')
    expect(acked).to_contain_text(f"acknowledged by {name}")
    stored = next(
        x for x in ok(site.admin.get("/alerts", params={"kind": "double_entry"}))
        if x["id"] == int(alert_id or 0)
    )  # fmt: skip
    assert stored["acknowledged_at"] is not None
    audit = ok(site.admin.get("/audit", params={"action": "alert.ack", "actor": name}))
    assert [(e["target"], e["detail"]) for e in audit] == [(alert_id, {"via": "dashboard"})]
    page.context.close()


def test_a_supervisor_cannot_reach_admin_actions(
    browser: Browser, server: RunningServer, site: Site
) -> None:
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"))
    expect(page.locator("#gate-control")).to_have_count(0)
    expect(page.get_by_role("button", name="Disable NORD-1")).to_have_count(0)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    refused = page.request.post(
        f"{server.url}/dashboard/gates/{site.venue}/NORD-1/enabled",
        form={"csrf": csrf or "", "enabled": "false"},
    )
    assert refused.status == 403 and "admin role" in refused.text()
    gates = ok(site.admin.get("/gates", params={"venue": site.venue}))
    assert next(g for g in gates if g["name"] == "NORD-1")["enabled"] is True
    page.context.close()

    admin = sign_in(browser, server.url, add_user(server.database_url, "admin"))
    control = admin.locator(f'form[action="/dashboard/gates/{site.venue}/NORD-1/enabled"]')
    control.get_by_role("button", name="Disable NORD-1").click()
    expect(tile(admin, site, "NORD-1").locator(".state")).to_contain_text("⏻ Disabled")
    gates = ok(site.admin.get("/gates", params={"venue": site.venue}))
    assert next(g for g in gates if g["name"] == "NORD-1")["enabled"] is False
    control.get_by_role("button", name="Enable NORD-1").click()
    expect(tile(admin, site, "NORD-1").locator(".state")).not_to_contain_text("Disabled")
    admin.context.close()


def test_a_gate_goes_offline_and_comes_back(
    browser: Browser, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A server that calls a gate silent after 1 s: the tile turns offline, an alert is raised,
    and the next heartbeat brings the tile back online."""
    quick = RunningServer(database_url, free_port(), tmp_path_factory.mktemp("log") / "quick.log")
    quick.tokens = {"admin": _token_of_new_admin(database_url)}
    quick.start(ENTRIX_GATE_SILENT_AFTER_S="1", ENTRIX_SILENT_CHECK_INTERVAL_S="0.2")
    try:
        site = Site.create(quick)
        gate = site.terminal("SUD-1", tmp_path_factory.mktemp("gate"))
        gate.sync.heartbeat()
        page = sign_in(browser, quick.url, add_user(database_url, "supervisor"))
        sud = tile(page, site, "SUD-1")
        expect(sud.locator(".state")).to_contain_text("✕ Offline", timeout=10_000)
        alert = page.locator("li.alert.kind-gate_silent").filter(has_text="SUD-1")
        expect(alert.first).to_contain_text("Gate offline", timeout=5_000)
        gate.sync.heartbeat()
        expect(sud.locator(".state")).to_contain_text("● Online", timeout=2_000)
        page.context.close()
    finally:
        quick.stop()


def _token_of_new_admin(database_url: str) -> str:
    from tests.support.server import create_user

    return create_user(database_url, f"admin-{uuid.uuid4().hex[:8]}", "admin")


# -- a busy event, for the README's screenshot ---------------------------------------------------


def _synthetic_scans(site: Site, gate: str, zone: str, count: int) -> list[dict[str, Any]]:
    """Granted entries spread over the last hour (a gate that kept working offline)."""
    now_ms = int(time.time() * 1000)
    rng = random.Random(f"{site.venue}{gate}")
    scans = []
    for _ in range(count):
        right = site.right(zones=[zone])
        scans.append(
            {
                "scan_id": str(uuid.uuid4()),
                "gate": gate,
                "direction": "in",
                "reason": "granted",
                "scanned_at_ms": now_ms - int(3_600_000 * rng.random() ** 2),
                "right_id": right["right_id"],
                "event": site.event,
                "zone": zone,
            }
        )
    return scans


def test_a_busy_event_on_the_dashboard(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    """Several gates, scans, every kind of alert; the screenshot goes to docs/screenshots when
    ENTRIX_SCREENSHOTS=1."""
    site = Site.create(server, capacity=40)
    terminals: dict[str, Terminal] = {g: site.terminal(g, tmp_path) for g in site.gates[:4]}
    busy = [("NORD-1", "NORD", 26), ("NORD-2", "NORD", 12), ("SUD-1", "SUD", 18)]
    for name, zone, count in busy:
        body = {"scans": _synthetic_scans(site, name, zone, count)}
        terminals[name].sync._call("POST", "/scans", json=body)
    double = site.code(site.right())
    assert terminals["NORD-1"].check(double).decision.granted
    assert terminals["NORD-2"].check(double).decision.granted
    ok(site.admin.post("/bans", json={"scope": "holder", "holder": "hooligan-9",
                                      "reason": "pitch invasion", "severity": 3}), 201)  # fmt: skip
    for t in terminals.values():
        t.sync.pull()
    banned = site.code(site.right(holder="hooligan-9", zones=["SUD"]))
    assert terminals["SUD-1"].check(banned).decision.reason.value == "blacklisted"
    assert terminals["SUD-1"].check(site.code(site.right())).decision.reason.value == "wrong_zone"
    for t in terminals.values():
        t.sync.push()
    statuses = {"NORD-1": ("closed", "ok"), "NORD-2": ("closed", "ok"),
                "SUD-1": ("closed", "ok"), "VIP-1": ("fault", "no frames")}  # fmt: skip
    for name, t in terminals.items():
        relay, camera = statuses[name]
        now_ms = int(time.time() * 1000)
        extra = {"clock_ms": now_ms + 7_300} if name == "VIP-1" else {}
        t.sync.heartbeat(relay=relay, camera=camera, last_sync_ms=now_ms - 4_000, **extra)
    page = sign_in(browser, server.url, add_user(server.database_url, "supervisor"))
    alerts = page.locator("#alerts")
    for words in ("Double entry", "Banned person tried", "Clock skew", "Zone near capacity"):
        expect(alerts).to_contain_text(words)
    expect(tile(page, site, "VIP-1").locator("dd.skew")).to_contain_text("+7.3 s ⚠")
    expect(tile(page, site, "EXIT").locator(".state")).to_contain_text("✕ Offline")
    expect(page.locator(f'tr[data-zone="{site.venue}/NORD"] td.zone-state')).to_have_text(
        "⚠ Near capacity"
    )
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    if shooting(server.database_url):
        shutil.copy(shot, SCREENSHOTS / "dashboard.png")  # phone and wall: test_control_room
    page.context.close()
    for t in terminals.values():
        t.close()
