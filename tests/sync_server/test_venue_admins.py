"""Venue admins (issue 17): an account given venues changes their venues' zones, events, gates
and tickets and nothing else; the admin keeps everything. Two clubs' venues side by side: club
A's venue admin can neither see nor change club B's tickets, in the API, in an import and in the
back office's pages. The routes are classified from the application itself, so a new write route
must say who may call it before its tests pass."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import needs_chromium, sign_in
from tests.support.server import REPO, RunningServer, server_env
from tests.support.site import Site, ok
from tests.sync_server.test_authorization import BACK_OFFICE_WRITES, concrete
from tests.sync_server.test_sessions import PASSWORD

ADMIN_ONLY = {
    ("POST", "/api/v1/venues"),
    ("POST", "/api/v1/seasons"),
    ("POST", "/api/v1/subscriptions"),
    ("POST", "/api/v1/users"),
    ("PUT", "/api/v1/users/{name}/kiosk-pin"),
    ("DELETE", "/api/v1/users/{name}/kiosk-pin"),
}
"""Platform-wide: new venues, seasons (they span venues), season tickets, the signing keys,
accounts."""
OPEN_TO_VENUE_ADMINS = {
    ("POST", "/api/v1/bans"),
    ("DELETE", "/api/v1/bans/{ban_id}"),
    ("POST", "/api/v1/keys/rotate"),
    ("POST", "/api/v1/keys/{kid}/retire"),
}
"""A ban follows the person everywhere; a venue admin lifts only their own. Keys: a venue admin
rotates and retires its venues' own keys, the platform's are the admins' (both tested below)."""
SCOPED = {
    ("PATCH", "/api/v1/venues/{code}"),
    ("PUT", "/api/v1/venues/{code}/zones"),
    ("POST", "/api/v1/venues/{code}/layouts"),
    ("PATCH", "/api/v1/venues/{code}/layouts/{layout}"),
    ("PUT", "/api/v1/venues/{code}/layouts/{layout}/zones"),
    ("PUT", "/api/v1/venues/{code}/layouts/{layout}/access"),
    ("POST", "/api/v1/venues/{code}/rotation-keys"),
    ("POST", "/api/v1/venues/{code}/rotation-keys/{rkid}/retire"),
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/events/{code}/open-gates"),
    ("POST", "/api/v1/gates"),
    ("PATCH", "/api/v1/venues/{venue}/gates/{name}"),
    ("POST", "/api/v1/venues/{venue}/gates/{name}/enrollment"),
    ("POST", "/api/v1/venues/{venue}/gates/{name}/revoke-devices"),
    ("POST", "/api/v1/rights"),
    ("POST", "/api/v1/rights/import"),
    ("POST", "/api/v1/rights/{right_id}/revoke"),
    ("POST", "/api/v1/rights/{right_id}/transfer"),
    ("POST", "/api/v1/rights/{right_id}/holder-link"),
    ("DELETE", "/api/v1/rights/{right_id}/holder-link"),
    ("PUT", "/api/v1/events/{code}/rotating"),
    ("POST", "/api/v1/quarantine"),
}
"""Checked against the venue they touch (quarantine: the venues of the scans decided)."""


def venue_admin(database_url: str, *venues: str) -> tuple[str, str]:
    """A venue admin of ``venues`` made by the real CLI, with a password: (name, API token)."""
    name = f"club-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "create-user", name, "--role", "venue_admin",
         *(a for v in venues for a in ("--venue", v)), "--password-stdin"],
        input=PASSWORD + "\n", env=server_env(database_url), cwd=REPO, text=True,
        capture_output=True, check=True,
    )  # fmt: skip
    return name, made.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def clubs(server: RunningServer) -> tuple[Site, Site]:
    return Site.create(server), Site.create(server)


@pytest.fixture(scope="module")
def club_a(server: RunningServer, clubs: tuple[Site, Site]) -> Iterator[httpx.Client]:
    _, token = venue_admin(server.database_url, clubs[0].venue)
    with httpx.Client(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def test_every_write_route_says_who_may_call_it() -> None:
    classified = ADMIN_ONLY | OPEN_TO_VENUE_ADMINS | SCOPED
    assert set(BACK_OFFICE_WRITES) - {("POST", "/api/v1/alerts/{alert_id}/ack")} == classified


def test_a_venue_admin_cannot_call_the_admins_routes(club_a: httpx.Client) -> None:
    wrong = {}
    for method, path in sorted(ADMIN_ONLY):
        answer = club_a.request(method, concrete(path), timeout=5)
        if answer.status_code != 403 or "needs the admin role" not in answer.text:
            wrong[f"{method} {path}"] = f"{answer.status_code}: {answer.text[:160]}"
    assert wrong == {}
    assert club_a.get("/audit").status_code == 403


def test_a_venue_admin_changes_its_venue_and_not_the_other(
    server: RunningServer, clubs: tuple[Site, Site], club_a: httpx.Client
) -> None:
    a, b = clubs
    theirs = a.right()["right_id"], b.right()["right_id"]
    event = {"name": "Match", "starts_at": "2027-01-10T20:00:00+01:00",
             "ends_at": "2027-01-10T22:00:00+01:00"}  # fmt: skip
    refused = {
        "event at B": club_a.post(
            "/events", json={**event, "code": f"X{uuid.uuid4().hex[:6]}", "venue": b.venue}
        ),
        "gate at B": club_a.post(
            "/gates", json={"venue": b.venue, "name": "NEW", "zones": ["NORD"]}
        ),
        "ticket at B": club_a.post("/rights", json={"event": b.event, "zones": ["NORD"]}),
        "B's zones": club_a.put(f"/venues/{b.venue}/zones", json=[{"code": "X", "name": "X"}]),
        "B's time zone": club_a.patch(f"/venues/{b.venue}", json={"timezone": "UTC"}),
        "B's gate": club_a.patch(f"/venues/{b.venue}/gates/NORD-1", json={"enabled": False}),
        "B's enrollment": club_a.post(f"/venues/{b.venue}/gates/NORD-1/enrollment"),
        "B's devices": club_a.post(f"/venues/{b.venue}/gates/NORD-1/revoke-devices"),
        "B's gates opened": club_a.post(f"/events/{b.event}/open-gates"),
        "B's ticket read": club_a.get(f"/rights/{theirs[1]}"),
        "B's ticket revoked": club_a.post(f"/rights/{theirs[1]}/revoke", json={"reason": "x"}),
        "B's ticket given": club_a.post(f"/rights/{theirs[1]}/transfer", json={"holder": "me"}),
        "B's code": club_a.get(f"/rights/{theirs[1]}/code"),
        "B's ticket PDF": club_a.get(f"/rights/{theirs[1]}/ticket.pdf"),
        "B's holder link": club_a.post(f"/rights/{theirs[1]}/holder-link"),
        "B's link ended": club_a.delete(f"/rights/{theirs[1]}/holder-link"),
        "B's wallet ticket": club_a.get(f"/rights/{theirs[1]}/wallet.json"),
        "B's material": club_a.get(f"/rights/{theirs[1]}/rotating"),
        "B's event rotating": club_a.put(f"/events/{b.event}/rotating", json={"required": True}),
    }
    wrong = {k: f"{r.status_code} {r.text[:120]}" for k, r in refused.items()
             if r.status_code != 403 or "does not manage venue" not in r.text}  # fmt: skip
    assert wrong == {}
    # Its own venue: all of it.
    made = ok(club_a.post("/events", json={**event, "code": f"A{uuid.uuid4().hex[:6]}",
                                            "venue": a.venue}), 201)  # fmt: skip
    assert made["venue"] == a.venue
    ok(club_a.post("/gates", json={"venue": a.venue, "name": "A-NEW", "zones": ["NORD"]}), 201)
    assert ok(club_a.get(f"/rights/{theirs[0]}/code"))["code"].startswith("EG1:")
    ok(club_a.post(f"/rights/{theirs[0]}/revoke", json={"reason": "resold"}))
    listed = {r["right_id"] for r in ok(club_a.get("/rights", params={"limit": 1000}))}
    assert theirs[0] in listed and theirs[1] not in listed  # B's tickets: not even seen
    # An import naming B's event is refused, row by row, whatever else it holds.
    csv = f"event,zones\n{a.event},NORD\n{b.event},NORD\n"
    answer = club_a.post("/rights/import", content=csv, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422, answer.text
    errors = {e["row"]: e["message"] for e in answer.json()["errors"]}
    assert list(errors) == [3] and f"is at venue '{b.venue}'" in errors[3]


def test_a_venue_admin_lifts_its_own_bans_only(
    server: RunningServer, clubs: tuple[Site, Site], club_a: httpx.Client
) -> None:
    mine = ok(club_a.post("/bans", json={"scope": "holder", "holder": "P-1", "reason": "x"}), 201)
    admins = ok(clubs[0].admin.post("/bans", json={"scope": "holder", "holder": "P-2",
                                                   "reason": "y"}), 201)  # fmt: skip
    refused = club_a.delete(f"/bans/{admins['id']}")
    assert refused.status_code == 403 and "only an admin lifts it" in refused.text
    assert ok(club_a.delete(f"/bans/{mine['id']}"))["active"] is False


def test_the_back_office_pages_show_and_change_its_venues_only(
    server: RunningServer, clubs: tuple[Site, Site]
) -> None:
    a, b = clubs
    name, _ = venue_admin(server.database_url, a.venue)
    theirs = b.right(holder="B-HOLDER")["right_id"]
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        form = {"name": name, "password": PASSWORD}
        assert browser.post("/dashboard/login", data=form).status_code == 303
        gates = browser.get("/dashboard/office/gates").text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', gates)
        assert csrf is not None
        assert f'action="/dashboard/office/gates/{a.venue}/NORD-1/enabled"' in gates
        assert f'action="/dashboard/office/gates/{b.venue}/NORD-1/enabled"' not in gates
        assert f'<option value="{b.venue}">' not in gates  # no creating gates at B
        found = browser.get("/dashboard/office/rights", params={"holder": "B-HOLDER"}).text
        assert theirs not in found
        forged = browser.post(f"/dashboard/office/gates/{b.venue}/NORD-1/enabled",
                              data={"csrf": csrf.group(1), "enabled": "false"})  # fmt: skip
        assert forged.status_code == 403 and "ne gère pas le lieu" in forged.text
        assert browser.get("/dashboard/office/audit").status_code == 403
        keys = browser.get("/dashboard/office/keys").text  # its venue's own keys, not B's
        assert f'<option value="{a.venue}">' in keys and f'<option value="{b.venue}">' not in keys
        assert '<option value="">' not in keys  # the platform's keys are the admins'
    assert next(g for g in ok(b.admin.get("/gates", params={"venue": b.venue}))
                if g["name"] == "NORD-1")["enabled"] is True  # fmt: skip


def test_create_user_checks_the_venues(server: RunningServer) -> None:
    def create(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sync_server.cli", "create-user", *args],
            env=server_env(server.database_url), cwd=REPO, text=True, capture_output=True,
            check=False,
        )  # fmt: skip

    assert "given its venues" in create("nobody-1", "--role", "venue_admin").stderr
    assert "no venue MARS" in create("nobody-2", "--role", "venue_admin", "--venue", "MARS").stderr
    assert "an admin none" in create("nobody-3", "--role", "admin", "--venue", "X").stderr


def test_an_admin_makes_a_clubs_account_through_the_api(
    server: RunningServer, clubs: tuple[Site, Site], club_a: httpx.Client
) -> None:
    a, b = clubs
    name = f"office-{uuid.uuid4().hex[:6]}"
    body = {"name": name, "role": "venue_admin", "venues": [a.venue], "password": PASSWORD}
    made = ok(a.admin.post("/users", json=body), 201)
    assert (made["role"], made["venues"], made["has_password"]) == ("venue_admin", [a.venue], True)
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30,
                      headers={"Authorization": f"Bearer {made['token']}"}) as theirs:  # fmt: skip
        assert theirs.post(f"/venues/{b.venue}/gates/NORD-1/enrollment").status_code == 403
        assert theirs.post(f"/venues/{a.venue}/gates/NORD-1/enrollment").status_code == 201
    listed = ok(a.admin.get("/users"))
    mine = next(u for u in listed if u["name"] == name)
    assert set(mine) == {"name", "role", "venues", "disabled", "has_password", "kiosk_pin"}
    assert made["token"] not in json.dumps(listed)
    refusals = {
        "twice": (a.admin.post("/users", json=body), 409, "exists"),
        "no venues": (a.admin.post("/users", json={**body, "name": "x-1", "venues": []}), 422,
                      "given its venues"),
        "unknown venue": (a.admin.post("/users", json={**body, "name": "x-2", "venues": ["MARS"]}),
                          422, "no venue MARS"),
        "short password": (a.admin.post("/users", json={**body, "name": "x-3", "password": "1"}),
                           422, "password"),
        "by a venue admin": (club_a.post("/users", json={**body, "name": "x-4"}), 403,
                             "needs the admin role"),
    }  # fmt: skip
    wrong = {k: f"{r.status_code} {r.text[:100]}" for k, (r, code, words) in refusals.items()
             if r.status_code != code or words not in r.text}  # fmt: skip
    assert wrong == {}
    audit = ok(a.admin.get("/audit", params={"action": "user.create"}))
    entry = next(e for e in audit if e["target"] == name)
    assert entry["detail"] == {"role": "venue_admin", "venues": [a.venue], "password": True}
    assert PASSWORD not in json.dumps(audit)


# -- what a club's accounts read -----------------------------------------------------------------


def test_a_clubs_accounts_read_their_venues_only(
    server: RunningServer, clubs: tuple[Site, Site], club_a: httpx.Client, tmp_path: Path
) -> None:
    """A venue admin, and a supervisor given the club's venue, read that venue's events, gates,
    scans, alerts, held scans and reports, and not the other club's; an admin reads both."""
    a, b = clubs
    # At club B one ticket enters twice through two gates cut off from each other: two scans
    # and a double-entry alert, all B's.
    code = b.code(b.right())
    north_1, north_2 = b.terminal("NORD-1", tmp_path), b.terminal("NORD-2", tmp_path)
    assert north_1.check(code).decision.granted and north_2.check(code).decision.granted
    north_1.sync.push()
    north_2.sync.push()
    north_1.close()
    north_2.close()
    assert ok(a.admin.get("/scans", params={"venue": b.venue}))
    assert ok(a.admin.get("/alerts", params={"venue": b.venue}))
    supervisor = f"sup-{uuid.uuid4().hex[:6]}"
    made = ok(a.admin.post("/users", json={"name": supervisor, "role": "supervisor",
                                           "venues": [a.venue]}), 201)  # fmt: skip
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=30,
                      headers={"Authorization": f"Bearer {made['token']}"}) as sup:  # fmt: skip
        for reader in (club_a, sup):
            venues = {v["code"] for v in ok(reader.get("/venues"))}
            assert venues == {a.venue}
            events = {e["code"] for e in ok(reader.get("/events"))}
            assert a.event in events and b.event not in events
            gates = {g["venue"] for g in ok(reader.get("/gates"))}
            assert gates == {a.venue}
            assert reader.get(f"/venues/{b.venue}").status_code == 403
            assert reader.get(f"/events/{b.event}").status_code == 403
            assert reader.get("/exports/entries.json", params={"event": b.event}).status_code == 403
            assert reader.get("/exports/entries.json", params={"event": a.event}).status_code == 200
            assert ok(reader.get("/scans", params={"venue": b.venue})) == []
            assert ok(reader.get("/alerts", params={"venue": b.venue})) == []
            assert all(s["gate"] for s in ok(reader.get("/scans")))  # whatever is A's
            assert not [x for x in ok(reader.get("/alerts")) if x["venue"] == b.venue]
        # The supervisor still writes nothing.
        assert sup.post(f"/venues/{a.venue}/gates/NORD-1/enrollment").status_code == 403
    everything = {v["code"] for v in ok(a.admin.get("/venues"))}
    assert {a.venue, b.venue} <= everything


@needs_chromium
def test_a_clubs_supervisor_watches_its_own_venue_on_the_dashboard(
    server: RunningServer, clubs: tuple[Site, Site], browser: Browser
) -> None:
    a, b = clubs
    name = f"watch-{uuid.uuid4().hex[:6]}"
    ok(a.admin.post("/users", json={"name": name, "role": "supervisor", "venues": [a.venue],
                                    "password": PASSWORD}), 201)  # fmt: skip
    page = sign_in(browser, server.url, name, PASSWORD, locale="fr-FR")
    expect(page.locator(f'[data-gate="{a.venue}/NORD-1"]')).to_be_visible()
    assert page.locator(f'[data-gate^="{b.venue}/"]').count() == 0
    assert page.locator(f'[data-zone^="{b.venue}/"]').count() == 0
    # the report's choices are its venue's events only
    options = page.locator("select[name=event] option").evaluate_all("os => os.map(o => o.value)")
    assert a.event in options and b.event not in options
    assert page.request.get(f"{server.url}/dashboard/report.json?event={b.event}").status == 403
    page.context.close()


def test_a_venue_admin_rotates_its_venues_own_key_which_only_its_gates_trust(
    server: RunningServer, clubs: tuple[Site, Site], club_a: httpx.Client, tmp_path: Path
) -> None:
    a, b = clubs
    assert club_a.post("/keys/rotate").status_code == 403  # the platform's: the admins'
    refused = club_a.post("/keys/rotate", json={"venue": b.venue})
    assert refused.status_code == 403 and "does not manage venue" in refused.text
    first = ok(club_a.post("/keys/rotate", json={"venue": a.venue}), 201)
    assert first["venue"] == a.venue and first["status"] == "active"
    b_key = ok(a.admin.post("/keys/rotate", json={"venue": b.venue}), 201)
    listed = {k["kid"]: k for k in ok(club_a.get("/keys"))}
    assert first["kid"] in listed and b_key["kid"] not in listed
    assert any(k["venue"] is None for k in listed.values())  # the platform's, read by all

    # Club A's codes are signed with its own key now: A's gates trust it, B's do not.
    code = a.code(a.right())
    home, away = a.terminal("NORD-1", tmp_path), b.terminal("NORD-1", tmp_path)
    assert home.check(code).decision.granted
    assert away.check(code).decision.reason.value == "unknown_key"
    # A platform-signed code of club B is still good at B's gate (the platform key is everyone's).
    assert away.check(b.code(b.right())).decision.granted
    home.close()
    away.close()

    second = ok(club_a.post("/keys/rotate", json={"venue": a.venue}), 201)
    assert {k["kid"]: k["status"] for k in ok(club_a.get("/keys"))}[first["kid"]] == "verify"
    assert club_a.post(f"/keys/{b_key['kid']}/retire").status_code == 403
    retired = ok(club_a.post(f"/keys/{first['kid']}/retire"))
    assert retired["status"] == "retired" and second["status"] == "active"
    audit = ok(a.admin.get("/audit", params={"action": "key.rotate"}))
    assert any(e["target"] == first["kid"] and e["detail"]["venue"] == a.venue for e in audit)
