"""Personal kiosk PINs (issue 17), on SQLite and PostgreSQL: set in the back office, sent hashed
to the gates of the person's venues, used at the supervisor panel, and what is done there
recorded under the person's name, not a typed one."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import pytest

from scanner_app.config import KioskSettings
from scanner_app.kiosk import Kiosk
from scanner_app.pin import PinStatus
from shared import protocol
from shared.kiosk_pin import hash_pin
from tests.support.server import RunningServer
from tests.support.site import Site, ok

_people = itertools.count(1)
GATE_PIN = "1111"


def person(site: Site, role: str, *venues: str, pin: str | None = None) -> str:
    name = f"{role}-{next(_people)}-{site.venue.lower()}"
    ok(site.admin.post("/users", json={"name": name, "role": role, "venues": list(venues)}), 201)
    if pin is not None:
        answer = site.admin.put(f"/users/{name}/kiosk-pin", json={"pin": pin})
        assert answer.status_code == 204, answer.text
    return name


def test_a_supervisors_own_pin_opens_the_panel_and_signs_the_manual_opening(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    leila = person(site, "supervisor", site.venue, pin="246810")
    karim = person(site, "controller", site.venue, pin="135790")
    elsewhere = Site.create(server)
    other = person(elsewhere, "supervisor", elsewhere.venue, pin="999999")
    gate = site.terminal("NORD-1", tmp_path)
    staff = gate.replica.staff()
    assert set(staff) == {leila, karim}  # not the other venue's supervisor
    assert other not in staff
    assert all(h.startswith("scrypt$") and "246810" not in h for h in staff.values())

    settings = KioskSettings(pin_hash=hash_pin(GATE_PIN))
    kiosk = Kiosk(replica_path=gate.replica.path, gate_name="NORD-1", settings=settings)
    try:
        assert kiosk.pin.names() == sorted([leila, karim])
        # With the staff's PINs here, the gate's own PIN no longer opens the panel, nor does
        # one person's PIN under another's name.
        assert not kiosk.unlock(GATE_PIN).accepted
        assert kiosk.unlock("246810", karim).status is PinStatus.WRONG
        with pytest.raises(PermissionError):
            kiosk.manual_open("a typed name", "no one signed in")
        check = kiosk.unlock("246810", leila)
        assert check.accepted and check.who == leila and kiosk.on_duty == leila
        opened = kiosk.manual_open("Mr Nobody", "a child's ticket lost in the crowd")
        assert opened.operator == leila  # the person on duty, whatever was typed
        emergency = kiosk.set_emergency(True, "", "crush at the north gate")
        released = kiosk.set_emergency(False, "", "cleared")
        assert emergency.operator == released.operator == leila
        kiosk.lock()
        with pytest.raises(PermissionError):
            kiosk.manual_open(leila, "the panel was closed")
    finally:
        kiosk.stop()
    assert gate.sync.push() == 3
    scans = ok(site.admin.get("/scans", params={"gate": "NORD-1", "limit": 100}))
    overrides = [(s["reason"], s["operator"]) for s in scans if s["operator"]]
    assert sorted(overrides) == sorted(
        [("manual_open", leila), ("emergency_open", leila), ("emergency_release", leila)]
    )
    audit = ok(site.admin.get("/audit", params={"action": "user.kiosk_pin"}))
    assert {e["target"] for e in audit} >= {leila, karim}
    assert all("246810" not in str(e) for e in audit)

    # Taken away in the back office: the gate forgets it at its next sync.
    assert site.admin.delete(f"/users/{leila}/kiosk-pin").status_code == 204
    gate.sync.pull()
    assert set(gate.replica.staff()) == {karim}
    listed = {u["name"]: u for u in ok(site.admin.get("/users"))}
    assert not listed[leila]["kiosk_pin"] and listed[karim]["kiosk_pin"]
    gate.close()


def test_a_pin_needs_digits_and_a_venue_and_protocol_2_gates_never_see_one(
    server: RunningServer,
) -> None:
    site = Site.create(server)
    nowhere = person(site, "supervisor")
    refused = site.admin.put(f"/users/{nowhere}/kiosk-pin", json={"pin": "123456"})
    assert refused.status_code == 422 and "no venue" in refused.text
    someone = person(site, "supervisor", site.venue)
    for bad in ("12", "abcd", "1234567890123"):
        assert site.admin.put(f"/users/{someone}/kiosk-pin", json={"pin": bad}).status_code == 422
    supervisor = server.client("supervisor")
    assert supervisor.put(f"/users/{someone}/kiosk-pin", json={"pin": "1234"}).status_code == 403
    assert site.admin.put("/users/nobody-at-all/kiosk-pin", json={"pin": "1234"}).status_code == 404
    assert site.admin.put(f"/users/{someone}/kiosk-pin", json={"pin": "1234"}).status_code == 204

    code = ok(site.admin.post(f"/venues/{site.venue}/gates/VIP-1/enrollment"), 201)["code"]
    token = ok(httpx.post(f"{server.url}/api/v1/gate/enroll", json={"code": code}), 201)["token"]

    def kinds(stated: str) -> set[str]:
        headers = {"Authorization": f"Bearer {token}", protocol.HEADER: stated}
        page = httpx.get(f"{server.url}/api/v1/gate/changes", params={"since": 0}, headers=headers)
        return {c["kind"] for c in ok(page)["changes"]}

    assert "staff" in kinds("3")
    assert "staff" not in kinds("2")
