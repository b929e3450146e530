"""Rotating codes end to end (issue 18, so far), on SQLite and PostgreSQL: a venue's rotation key
made in the back office reaches its gates; a code made from the API's material by an independent
TOTP (pyotp) is granted offline; the same screenshot two periods later is refused stale_code;
another venue's gate does not hold the key."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pyotp
import time_machine

from shared import rotating
from shared.reasons import Reason
from tests.support.server import RunningServer
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
