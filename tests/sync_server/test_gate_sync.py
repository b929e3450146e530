"""Gates and server together: enrollment, feed into a real replica, idempotent upload, usage
flowing from gate to gate, alerts. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from scanner_app.sync import DeviceRevoked
from shared.gate_wire import ScanIn
from shared.reasons import Reason
from shared.sync_schema import RightRow
from sync_server.services import reports
from tests.support.server import RunningServer
from tests.support.site import Site, ok


@pytest.fixture
def site(server: RunningServer) -> Site:
    return Site.create(server, capacity=3)


def test_enrolled_gate_decides_offline_from_the_feed(site: Site, tmp_path: Path) -> None:
    right = site.right(holder="fan-1", seat="N-1-1")
    code = site.code(right)
    gate = site.terminal("NORD-1", tmp_path)
    layout = gate.replica.layout_of(site.event)
    assert layout is not None and layout.zone("NORD") is not None
    assert layout.entrances("NORD-1") == ("NORD",)
    assert gate.replica.require_gate("NORD-1").event_codes == {site.event}
    assert len(gate.replica.keyring) >= 1
    result = gate.check(code)
    assert result.decision.reason is Reason.GRANTED
    assert result.decision.zone == "NORD"
    assert gate.check(code).decision.reason is Reason.ALREADY_USED
    away = site.code(site.right(zones=["SUD"]))
    assert gate.check(away).decision.reason is Reason.WRONG_ZONE


def test_upload_is_idempotent(site: Site, server: RunningServer, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    gate.check(site.code(site.right()))
    gate.check("EG1:garbage")
    scans = [
        ScanIn.from_record(s).model_dump(mode="json") for s in gate.replica.scans(pending_only=True)
    ]
    results = [gate.sync._call("POST", "/scans", json={"scans": scans}).json() for _ in range(5)]
    assert [r["stored"] for r in results] == [2, 0, 0, 0, 0]
    assert [r["duplicates"] for r in results] == [0, 2, 2, 2, 2]
    listed = ok(site.admin.get("/scans", params={"gate": "NORD-1", "limit": 1000}))
    ids = [s["scan_id"] for s in listed]
    assert sorted(ids).count(scans[0]["scan_id"]) == 1
    assert {s["scan_id"] for s in scans} <= set(ids)


def test_a_batch_with_the_same_scan_twice_stores_it_once(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    gate.check(site.code(site.right()))
    scan = ScanIn.from_record(gate.replica.scans(pending_only=True)[0]).model_dump(mode="json")
    result = gate.sync._call("POST", "/scans", json={"scans": [scan, scan]}).json()
    assert (result["stored"], result["duplicates"]) == (1, 1)


def test_usage_at_one_gate_refuses_the_right_at_another(site: Site, tmp_path: Path) -> None:
    code = site.code(site.right())
    a, b = site.terminal("NORD-1", tmp_path), site.terminal("NORD-2", tmp_path)
    assert a.check(code).decision.granted
    assert a.sync.push() == 1
    b.sync.pull()
    usage = b.replica.usage(bytes.fromhex(a.replica.scans(limit=1)[0].right_id.hex()))  # type: ignore[union-attr]
    assert usage is not None and usage.entries == 1 and usage.inside
    assert b.check(code).decision.reason is Reason.ALREADY_USED


def test_offline_double_entry_raises_an_alert(site: Site, tmp_path: Path) -> None:
    right = site.right()
    code = site.code(right)
    a, b = site.terminal("NORD-1", tmp_path), site.terminal("NORD-2", tmp_path)
    # Both gates are cut off: each admits the same single-entry ticket.
    assert a.check(code).decision.granted
    assert b.check(code).decision.granted
    a.sync.push()
    b.sync.push()
    alerts = ok(site.admin.get("/alerts", params={"kind": "double_entry"}))
    mine = [x for x in alerts if x["right_id"] == right["right_id"]]
    assert len(mine) == 1
    assert mine[0]["gate"] == "NORD-2" and mine[0]["severity"] == 3
    supervisor = site.server.client("supervisor")
    acked = ok(supervisor.post(f"/alerts/{mine[0]['id']}/ack"))
    assert acked["acknowledged_at"] is not None


def test_banned_holder_is_refused_and_raises_an_alert(site: Site, tmp_path: Path) -> None:
    tickets = [site.right(holder="hooligan-7"), site.right(holder="hooligan-7", zones=["VIP"])]
    ban = ok(
        site.admin.post(
            "/bans",
            json={"scope": "holder", "holder": "hooligan-7", "reason": "pitch invasion",
                  "severity": 3},
        ),
        201,
    )  # fmt: skip
    gate = site.terminal("NORD-1", tmp_path)
    vip = site.terminal("VIP-1", tmp_path)
    assert gate.check(site.code(tickets[0])).decision.reason is Reason.BLACKLISTED
    assert vip.check(site.code(tickets[1])).decision.reason is Reason.BLACKLISTED
    gate.sync.push()
    alerts = ok(site.admin.get("/alerts", params={"kind": "banned_tried"}))
    assert any(a["right_id"] == tickets[0]["right_id"] for a in alerts)
    ok(site.admin.delete(f"/bans/{ban['id']}"))
    gate.sync.pull()
    assert gate.check(site.code(tickets[0])).decision.reason is Reason.GRANTED


def test_occupancy_flows_back_and_a_full_zone_alerts(site: Site, tmp_path: Path) -> None:
    """NORD holds 3: three entries at NORD-1; NORD-2 learns the count and refuses the fourth."""
    a, b = site.terminal("NORD-1", tmp_path), site.terminal("NORD-2", tmp_path)
    for _ in range(3):
        assert a.check(site.code(site.right())).decision.granted
    a.sync.push()
    venue = ok(site.admin.get(f"/venues/{site.venue}"))
    counts = {z["code"]: z["occupancy"] for z in venue["zones"]}
    assert counts["NORD"] == 3 and counts["STADE"] == 3
    b.sync.pull()
    assert b.replica.occupancy("NORD") == 3
    assert b.check(site.code(site.right())).decision.reason is Reason.CAPACITY_FULL
    alerts = ok(site.admin.get("/alerts", params={"kind": "zone_nearly_full"}))
    assert any(x["zone"] == "NORD" and "3/3" in x["message"] for x in alerts)


def test_revoked_and_transferred_rights(site: Site, tmp_path: Path) -> None:
    old = site.right(holder="seller")
    old_code = site.code(old)
    moved = ok(
        site.admin.post(f"/rights/{old['right_id']}/transfer", json={"holder": "buyer"}), 201
    )
    assert (
        moved["old"]["status"] == "revoked"
        and moved["old"]["replaced_by"] == moved["new"]["right_id"]
    )
    gate = site.terminal("NORD-1", tmp_path)
    assert gate.check(old_code).decision.reason is Reason.REVOKED
    assert gate.check(moved["code"]).decision.reason is Reason.GRANTED


def test_every_right_in_the_feed_is_the_gates_own_row_format(site: Site, tmp_path: Path) -> None:
    """Imported, transferred or subscribed, a right reaches the gate as RightRow's own JSON."""
    imported = site.right(holder="seller", seat="NORD-12-7")
    moved = ok(
        site.admin.post(f"/rights/{imported['right_id']}/transfer", json={"holder": "buyer"}),
        201,
    )["new"]
    subscribed = ok(
        site.admin.post(
            "/subscriptions", json={"season": site.season, "holder": "vip-3", "zones": ["VIP"]}
        ),
        201,
    )["rights"][0]
    gate = site.terminal("NORD-1", tmp_path)
    page = gate.sync._call("GET", "/changes", params={"since": 0, "limit": 100_000}).json()
    rights = {c["key"]: c["data"] for c in page["changes"] if c["kind"] == "right"}
    made = [imported["right_id"], moved["right_id"], subscribed["right_id"]]
    for right_id in made:
        data = rights[right_id]
        assert RightRow.model_validate(data).model_dump(mode="json") == data
    assert rights[moved["right_id"]]["seat"] == "NORD-12-7"  # the transfer keeps the seat
    assert rights[moved["right_id"]]["holder"] != rights[made[0]]["holder"]
    assert rights[subscribed["right_id"]]["zones"] == ["VIP"]


def test_key_rotation_and_retirement(site: Site, tmp_path: Path) -> None:
    right = site.right(policy="unlimited", kind="staff", zones=["STADE"])
    before = site.code(right)
    old_kid = next(k["kid"] for k in ok(site.admin.get("/keys")) if k["status"] == "active")
    ok(site.admin.post("/keys/rotate"), 201)
    after = site.code(right)
    gate = site.terminal("NORD-1", tmp_path)
    assert gate.check(before).decision.granted, "codes issued before a rotation stay valid"
    assert gate.check(after).decision.granted
    active = next(k["kid"] for k in ok(site.admin.get("/keys")) if k["status"] == "active")
    refused = site.admin.post(f"/keys/{active}/retire")
    assert refused.status_code == 409
    assert "rotate first" in refused.json()["detail"]
    ok(site.admin.post(f"/keys/{old_kid}/retire"))
    gate.sync.pull()
    assert gate.check(before).decision.reason is Reason.UNKNOWN_KEY
    assert gate.check(after).decision.granted


def test_season_subscription_gets_a_right_for_each_event(site: Site, tmp_path: Path) -> None:
    subscription = ok(
        site.admin.post(
            "/subscriptions", json={"season": site.season, "holder": "vip-9", "zones": ["VIP"]}
        ),
        201,
    )
    assert [r["event"] for r in subscription["rights"]] == [site.event]
    later = ok(
        site.admin.post(
            "/events",
            json={"code": f"{site.event}-R", "name": "Return leg", "venue": site.venue,
                  "season": site.season, "starts_at": "2027-03-01T19:00:00+00:00",
                  "ends_at": "2027-03-01T21:00:00+00:00"},
        ),
        201,
    )  # fmt: skip
    rights = ok(site.admin.get("/rights", params={"holder_id": subscription["holder_id"]}))
    assert sorted(r["event"] for r in rights) == sorted([site.event, later["code"]])
    vip = site.terminal("VIP-1", tmp_path)
    code = site.code(subscription["rights"][0])
    assert vip.check(code).decision.granted
    assert vip.check(code).decision.reason is Reason.ALREADY_INSIDE


def test_revoked_device_is_told_so(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/revoke-devices"))
    with pytest.raises(DeviceRevoked, match="revoked"):
        gate.sync.pull()


def test_heartbeat_reports_status_and_clock_skew(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    skewed = int(time.time() * 1000) + 5_000
    answer = gate.sync.heartbeat(clock_ms=skewed, camera="ok", relay="closed")
    assert answer.skew_ms is not None and 4_000 < answer.skew_ms < 6_000
    listed = ok(site.admin.get("/gates", params={"venue": site.venue}))
    nord = next(g for g in listed if g["name"] == "NORD-1")
    assert nord["online"] is True
    assert nord["status"]["relay"] == "closed" and nord["status"]["cursor"] == gate.replica.cursor


def test_event_stream_announces_changes(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def listen() -> None:
        headers = dict(gate.sync._http.headers)
        with httpx.stream("GET", f"{site.server.url}/api/v1/gate/stream", headers=headers,
                          timeout=15) as stream:  # fmt: skip
            event = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "changes":
                    seen.append(json.loads(line.split(":", 1)[1]))
                    ready.set()
                    if len(seen) == 2:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(10), "the stream sends the current head first"
    site.right()
    listener.join(10)
    assert len(seen) == 2 and seen[1]["head"] > seen[0]["head"]


def test_entries_export_for_the_authorities(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    for _ in range(2):
        gate.check(site.code(site.right()))
    gate.sync.push()
    answer = site.admin.get("/exports/entries.csv", params={"event": site.event})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == reports.CSV_HEADER
    leaves = [r for r in rows if r["leaf"] == "1"]
    assert sum(int(r["entries"]) for r in leaves) == 2
    assert {r["zone"] for r in leaves if int(r["entries"])} == {"NORD"}
    assert {r["venue"] for r in rows} == {site.venue}
    assert sum(int(r["entries"]) for r in rows if r["zone"] == "STADE") == 2  # rolled up


def test_unknown_scan_uuid_format_is_refused(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    bad = {"scan_id": "not-a-uuid-at-all-but-36-characters!", "gate": "NORD-1", "direction": "in",
           "reason": "granted", "scanned_at_ms": 1}  # fmt: skip
    answer = gate.sync._http.post("/scans", json={"scans": [bad]})
    assert answer.status_code == 422
    assert "scan_id" in answer.text
    good = {**bad, "scan_id": str(uuid.uuid4())}
    assert gate.sync._http.post("/scans", json={"scans": [good]}).status_code == 200


def test_a_silent_gate_raises_an_alert(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A server that calls a gate silent after 1 s: a gate that stops its heartbeats is reported."""
    from tests.support.server import RunningServer as Server
    from tests.support.server import free_port

    quick = Server(database_url, free_port(), tmp_path_factory.mktemp("log") / "quick.log")
    quick.tokens = {"admin": _any_admin_token(database_url)}
    quick.start(ENTRIX_GATE_SILENT_AFTER_S="1", ENTRIX_SILENT_CHECK_INTERVAL_S="0.2")
    try:
        site = Site.create(quick)
        gate = site.terminal("SUD-1", tmp_path_factory.mktemp("gate"))
        gate.sync.heartbeat()
        deadline = time.monotonic() + 15
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not found:
            time.sleep(0.3)
            alerts = ok(site.admin.get("/alerts", params={"kind": "gate_silent"}))
            found = [a for a in alerts if a["gate"] == "SUD-1"]
        assert len(found) == 1, "one alert per silence, however many times it is noticed"
        gates = ok(site.admin.get("/gates", params={"venue": site.venue}))
        assert next(g for g in gates if g["name"] == "SUD-1")["online"] is False
    finally:
        quick.stop()


def _any_admin_token(database_url: str) -> str:
    from tests.support.server import create_user

    return create_user(database_url, f"admin-{uuid.uuid4().hex[:8]}", "admin")


def test_an_annulled_entry_gives_the_right_back_everywhere(site: Site, tmp_path: Path) -> None:
    """Nobody went through at gate A: the server rebuilds the right's usage, gate B admits it."""
    from datetime import UTC, datetime

    from shared.model import NOT_PASSED

    ticket = site.right()
    code = site.code(ticket)
    a, b = site.terminal("NORD-1", tmp_path), site.terminal("NORD-2", tmp_path)
    granted = a.check(code)
    assert granted.decision.granted
    a.sync.push()  # the entry reaches the server first...
    a.replica.annul(granted.record, reason=NOT_PASSED, scanned_at=datetime.now(UTC))
    a.sync.push()  # ...then its annulment
    b.sync.pull()
    usage = b.replica.usage(bytes.fromhex(ticket["right_id"]))
    assert usage is not None and usage.entries == 0 and not usage.inside
    assert b.replica.occupancy("NORD") == 0
    assert b.check(code).decision.reason is Reason.GRANTED
    b.sync.push()
    export = site.admin.get("/exports/entries.csv", params={"event": site.event}).text
    rows = csv.DictReader(io.StringIO(export))
    assert sum(int(r["entries"]) for r in rows if r["leaf"] == "1") == 1
    scans = ok(site.admin.get("/scans", params={"reason": NOT_PASSED}))
    assert [s["gate"] for s in scans if s["right_id"] == ticket["right_id"]] == ["NORD-1"]


def test_a_manual_open_at_a_gate_is_audited_on_the_server(site: Site, tmp_path: Path) -> None:
    """Every manual override is audited: who, why, at which gate."""
    from datetime import UTC, datetime

    from shared.model import MANUAL_OPEN, ScanRecord

    gate = site.terminal("NORD-1", tmp_path)
    record = ScanRecord(
        scan_id=str(uuid.uuid4()),
        gate="NORD-1",
        direction=gate.replica.require_gate("NORD-1").direction,
        reason=MANUAL_OPEN,
        scanned_at_ms=int(datetime.now(UTC).timestamp() * 1000),
        code_kind="manual",
        operator="Karim (chef de poste)",
        detail="wheelchair user, ticket on a dead phone",
    )
    gate.replica.record_event(record)
    gate.sync.push()
    gate.sync.push()  # a retry audits nothing twice
    entries = ok(site.admin.get("/audit", params={"action": "gate.manual_open", "limit": 1000}))
    mine = [e for e in entries if e["detail"].get("scan_id") == record.scan_id]
    assert len(mine) == 1
    # Who opened is what the gate says, never an identity of the audit log (issue 15).
    assert mine[0]["actor"] == f"device:{site.venue}/NORD-1"
    assert mine[0]["detail"]["operator_claimed"] == "Karim (chef de poste)"
    assert mine[0]["detail"]["why"] == "wheelchair user, ticket on a dead phone"
