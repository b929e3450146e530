"""Rotating codes end to end (issue 18, so far), on SQLite and PostgreSQL: a venue's rotation key
made in the back office reaches its gates; a code made from the API's material by an independent
TOTP (pyotp) is granted offline; the same screenshot two periods later is refused stale_code;
another venue's gate does not hold the key."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import time_machine

from shared import rotating
from shared.reasons import Reason
from tests.support import google_wallet
from tests.support.server import RunningServer, start_server
from tests.support.site import Site, ok


def test_a_rotating_code_from_the_api_is_granted_offline_and_its_screenshot_is_not(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    refused = site.admin.get(f"/rights/{site.right()['right_id']}/rotating")
    assert refused.status_code == 409 and "no rotation key" in refused.text
    key = ok(site.admin.post(f"/venues/{site.venue}/rotation-keys"), 201)
    assert set(key) == {"rkid", "venue", "status", "created_at"}  # never the key itself
    right = site.right()
    made = ok(site.admin.get(f"/rights/{right['right_id']}/rotating"))
    assert made["rkid"] == key["rkid"] and made["period_s"] == rotating.PERIOD_S
    assert made["value_pattern"].startswith(f"EGR1:{key['rkid']}:{{totp_timestamp_seconds}}:")
    gate = site.terminal("NORD-1", tmp_path)  # pulls the rotation key with the rest
    other = Site.create(server).terminal("NORD-1", tmp_path)
    # The holder's device, as a wallet would: the pattern, filled in by an independent TOTP.
    totp = pyotp.TOTP(base64.b32encode(bytes.fromhex(made["secret"])).decode(),
                      digits=made["digits"], interval=made["period_s"])  # fmt: skip
    now = int(time.time())
    shown = (
        made["value_pattern"]
        .replace("{totp_timestamp_seconds}", str(now))
        .replace("{totp_value_0}", totp.at(now))
    )
    with time_machine.travel(now + 2 * made["period_s"], tick=False):
        stale = gate.check(shown).decision  # the screenshot, half a minute on
    assert stale.reason is Reason.STALE_CODE
    assert other.check(shown).decision.reason is Reason.UNKNOWN_KEY  # not that venue's key
    fresh = gate.check(shown).decision
    assert fresh.reason is Reason.GRANTED and fresh.right is not None
    assert fresh.right.right_id.hex() == right["right_id"]
    gate.close()
    other.close()
    audit = ok(site.admin.get("/audit", params={"action": "right.issue_rotating"}))
    assert any(e["target"] == right["right_id"] for e in audit)
    listed = ok(site.admin.get(f"/venues/{site.venue}/rotation-keys"))
    assert [k["status"] for k in listed] == ["active"]


ISSUER = "3388000000012345678"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """This module's server knows an organiser's Google Wallet issuer id."""
    log = tmp_path_factory.mktemp("log") / "server.log"
    running = start_server(database_url, log, ENTRIX_WALLET_ISSUER_ID=ISSUER)
    yield running
    running.stop()


def test_the_wallet_object_fits_googles_schema_and_its_codes_enter(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    ok(site.admin.post(f"/venues/{site.venue}/rotation-keys"), 201)
    right = site.right(rotating=True, seat="NORD-3-14", display_name="Leïla T.")
    exported = ok(site.admin.get(f"/rights/{right['right_id']}/wallet.json"))
    assert google_wallet.problems(exported, "Resources") == []
    (ticket,) = exported["eventTicketObjects"]
    (event_class,) = exported["eventTicketClasses"]
    assert ticket["classId"] == event_class["id"] == f"{ISSUER}.{site.event}"
    assert ticket["id"] == f"{ISSUER}.{right['right_id'].upper()}"
    assert ticket["ticketHolderName"] == "Leïla T." and ticket["state"] == "ACTIVE"
    assert ticket["seatInfo"]["section"]["defaultValue"] == {"language": "fr",
                                                             "value": "Virage Nord"}  # fmt: skip
    barcode = ticket["rotatingBarcode"]
    assert "barcode" not in ticket  # no static code beside it: the gates would refuse it
    details = barcode["totpDetails"]
    (parameters,) = details["parameters"]
    # The holder's phone, as Google Wallet does: pyotp from totpDetails, into valuePattern.
    totp = pyotp.TOTP(base64.b32encode(bytes.fromhex(parameters["key"])).decode(),
                      digits=parameters["valueLength"],
                      interval=int(details["periodMillis"]) // 1000)  # fmt: skip
    assert details["algorithm"] == "TOTP_SHA1" and totp.digest().name == "sha1"
    now = int(time.time())
    shown = (
        barcode["valuePattern"]
        .replace("{totp_timestamp_seconds}", str(now))
        .replace("{totp_value_0}", totp.at(now))
    )
    gate = site.terminal("NORD-1", tmp_path)
    assert gate.check(rotating.parse(shown).credential).decision.reason is Reason.STATIC_CODE
    granted = gate.check(shown).decision
    assert granted.reason is Reason.GRANTED, granted.detail
    gate.close()
    audit = ok(site.admin.get("/audit", params={"action": "right.issue_wallet"}))
    assert any(e["target"] == right["right_id"] for e in audit)


def test_the_schema_check_catches_what_google_would_refuse() -> None:
    """The check itself: an unknown field, a deprecated enum alias, a number where Google wants
    an int64 string, a missing required field."""
    kept = hashlib.sha256(google_wallet.DISCOVERY.read_bytes()).hexdigest()
    assert kept == google_wallet.DISCOVERY_SHA256
    bad = {
        "id": "1.x",
        "classId": "1.y",
        "state": "active",
        "rotatingBarcode": {
            "type": "QR_CODE",
            "valuePattern": "x",
            "color": "red",
            "totpDetails": {"periodMillis": 15000},
        },
    }
    found = google_wallet.problems(bad, "EventTicketObject")
    assert any("state" in p for p in found)
    assert any("color: no such field" in p for p in found)
    assert any("periodMillis" in p for p in found)
    assert google_wallet.problems({"id": "1.x"}, "EventTicketObject") == [
        "EventTicketObject.classId: required by EventTicketObject",
        "EventTicketObject.state: required by EventTicketObject",
    ]
