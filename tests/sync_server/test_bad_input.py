"""Garbage in, a clear 4xx out: the answer's ``detail`` says what is wrong, and nothing is stored.

Each test runs against the real server on SQLite and on PostgreSQL, where the database itself is
stricter (no NUL in text, 32-bit INTEGER): the API must refuse such values before the database does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sync_server.api.main import API_PREFIX
from tests.support.server import RunningServer
from tests.support.site import ok

_numbers = itertools.count(1)
SOON = datetime.now(UTC) + timedelta(days=1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}"


def refused(answer: httpx.Response, status: int = 422) -> str:
    """The answer's ``detail`` as one line of text (FastAPI's error list: ``loc: msg`` each)."""
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    detail = answer.json()["detail"]
    if isinstance(detail, str):
        return detail
    return "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in detail)


def event_body(venue: str, **fields: Any) -> dict[str, Any]:
    return {
        "code": unique("EV"),
        "name": "Match",
        "venue": venue,
        "starts_at": SOON.isoformat(),
        "ends_at": (SOON + timedelta(hours=2)).isoformat(),
        **fields,
    }


def scan(**fields: Any) -> dict[str, Any]:
    return {
        "scan_id": str(uuid.uuid4()),
        "gate": "BAD-G",
        "direction": "in",
        "reason": "granted",
        "scanned_at_ms": int(SOON.timestamp() * 1000),
        **fields,
    }


@dataclass
class Site:
    venue: str
    event: str
    gate: str
    gate_client: httpx.Client


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client("admin") as client:
        yield client


@pytest.fixture(scope="module")
def site(server: RunningServer, admin: httpx.Client) -> Iterator[Site]:
    """A venue STAND > SECTOR, an event, gate BAD-G into SECTOR, enrolled."""
    venue = unique("BAD")
    zones = [
        {"code": "STAND", "name": "Stand"},
        {"code": "SECTOR", "name": "Sector", "parent": "STAND", "capacity": 100},
    ]
    ok(admin.post("/venues", json={"code": venue, "name": venue, "zones": zones}), 201)
    event = ok(admin.post("/events", json=event_body(venue)), 201)["code"]
    gate = {"venue": venue, "name": "BAD-G", "zones": ["SECTOR"], "event_codes": [event]}
    ok(admin.post("/gates", json=gate), 201)
    code = ok(admin.post(f"/venues/{venue}/gates/BAD-G/enrollment"), 201)["code"]
    token = ok(admin.post("/gate/enroll", json={"code": code}), 201)["token"]
    with httpx.Client(
        base_url=f"{server.url}{API_PREFIX}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as gate_client:
        yield Site(venue, event, "BAD-G", gate_client)


def test_malformed_json(admin: httpx.Client) -> None:
    answer = admin.post(
        "/venues", content=b'{"code": "X", "name": ', headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"
    assert "JSON decode error" in refused(answer)


def test_wrong_types_name_each_field(admin: httpx.Client, site: Site) -> None:
    message = refused(admin.post("/venues", json={"code": 12, "name": ["x"], "zones": "STAND"}))
    assert "body.code: Input should be a valid string" in message
    assert "body.name: Input should be a valid string" in message
    assert "body.zones: Input should be a valid list" in message
    message = refused(site.gate_client.post("/gate/heartbeat", json={"cursor": "far"}))
    assert "body.cursor: Input should be a valid integer" in message


def test_unknown_fields_are_refused(admin: httpx.Client, site: Site) -> None:
    venue = unique("EXTRA")
    answer = admin.post("/venues", json={"code": venue, "name": "x", "colour": "red"})
    assert "body.colour: Extra inputs are not permitted" in refused(answer)
    assert admin.get(f"/venues/{venue}").status_code == 404
    right = {"event": site.event, "zones": ["SECTOR"], "price": 25}
    assert "body.price: Extra inputs are not permitted" in refused(
        admin.post("/rights", json=right)
    )


def test_zone_tree_with_a_cycle(admin: httpx.Client, site: Site) -> None:
    venue = unique("CYCLE")
    zones = [
        {"code": "A", "name": "A", "parent": "B"},
        {"code": "B", "name": "B", "parent": "A"},
    ]
    message = refused(admin.post("/venues", json={"code": venue, "name": venue, "zones": zones}))
    assert "the zone tree has a cycle" in message
    assert admin.get(f"/venues/{venue}").status_code == 404
    looped = [{"code": "STAND", "name": "Stand", "parent": "SECTOR"}]
    message = refused(admin.put(f"/venues/{site.venue}/zones", json=looped))
    assert "cycle" in message
    stand = next(z for z in ok(admin.get(f"/venues/{site.venue}"))["zones"] if z["code"] == "STAND")
    assert stand["parent"] is None


def test_zone_with_an_unknown_parent(admin: httpx.Client, site: Site) -> None:
    venue = unique("ORPHAN")
    zones = [{"code": "A", "name": "A", "parent": "NOWHERE"}]
    message = refused(admin.post("/venues", json={"code": venue, "name": venue, "zones": zones}))
    assert "parent 'NOWHERE' is not a zone of this layout" in message
    assert admin.get(f"/venues/{venue}").status_code == 404
    orphan = [{"code": "NEW", "name": "New", "parent": "NOWHERE"}]
    assert "NOWHERE" in refused(admin.put(f"/venues/{site.venue}/zones", json=orphan))
    assert "NEW" not in {z["code"] for z in ok(admin.get(f"/venues/{site.venue}"))["zones"]}


def test_zone_capacity_must_fit(admin: httpx.Client, site: Site) -> None:
    huge = [{"code": "SECTOR", "name": "Sector", "parent": "STAND", "capacity": 2**32}]
    message = refused(admin.put(f"/venues/{site.venue}/zones", json=huge))
    assert "capacity: Input should be less than or equal to 2147483647" in message


def test_event_ending_before_it_starts(admin: httpx.Client, site: Site) -> None:
    backwards = event_body(site.venue, ends_at=(SOON - timedelta(hours=1)).isoformat())
    assert "an event ends after it starts" in refused(admin.post("/events", json=backwards))
    assert admin.get(f"/events/{backwards['code']}").status_code == 404
    instant = event_body(site.venue, ends_at=SOON.isoformat())
    assert "ends after it starts" in refused(admin.post("/events", json=instant))


def test_naive_or_impossible_times(admin: httpx.Client, site: Site) -> None:
    naive = event_body(site.venue, starts_at="2026-11-22T20:00:00")
    message = refused(admin.post("/events", json=naive))
    assert "body.starts_at: Value error, give a time zone" in message
    assert admin.get(f"/events/{naive['code']}").status_code == 404
    right = {"event": site.event, "zones": ["SECTOR"], "not_before": "2026-11-22T18:00:00"}
    assert "body.not_before: Value error, give a time zone" in refused(
        admin.post("/rights", json=right)
    )
    # Year 1 would store, then break every listing of events when shown back.
    ancient = event_body(site.venue, starts_at="0001-01-01T00:00:00+01:00")
    assert "give a time from 1970 to 9000" in refused(admin.post("/events", json=ancient))
    ban = {"scope": "holder", "holder": "x", "reason": "r", "valid_until": "9999-12-31T23:59:59Z"}
    assert "body.valid_until" in refused(admin.post("/bans", json=ban))
    assert "query.since" in refused(admin.get("/scans", params={"since": "2026-11-22T18:00:00"}))
    ok(admin.get("/events"))


def test_gate_into_an_unknown_zone(admin: httpx.Client, site: Site) -> None:
    gate = {"venue": site.venue, "name": unique("LOST-G"), "zones": ["NOWHERE"]}
    message = refused(admin.post("/gates", json=gate))
    assert f"unknown zone(s) at {site.venue}: NOWHERE" in message
    assert gate["name"] not in {
        g["name"] for g in ok(admin.get("/gates", params={"venue": site.venue}))
    }
    patch = admin.patch(f"/venues/{site.venue}/gates/{site.gate}", json={"zones": ["NOWHERE"]})
    assert "NOWHERE" in refused(patch)
    gates = ok(admin.get("/gates", params={"venue": site.venue}))
    assert next(g for g in gates if g["name"] == site.gate)["zones"] == ["SECTOR"]


def test_rights_csv_names_every_bad_row_and_imports_nothing(
    admin: httpx.Client, site: Site
) -> None:
    event = ok(admin.post("/events", json=event_body(site.venue)), 201)["code"]
    secret = uuid.uuid4().hex
    csv = "\n".join(
        [
            "event,zones,policy,secret,not_before,expires",
            f"{event},SECTOR,single,{secret},,",
            "NO-SUCH-EVENT,SECTOR,single,,,",
            f"{event},SECTOR|ATLANTIS,single,,,",
            f"{event},SECTOR,sometimes,,,",
            f"{event},SECTOR,single,,2026-11-22T20:00:00Z,2026-11-22T18:00:00Z",
            f"{event},SECTOR,single,,,,surplus",
            f"{event},SECTOR,single,{secret},,",
            f"{event},,single,,,",
        ]
    )
    answer = admin.post("/rights/import", content=csv, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["imported"] == 0 and report["right_ids"] == []
    errors = {e["row"]: e["message"] for e in report["errors"]}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]  # the spreadsheet's rows: the header is 1
    assert "no event 'NO-SUCH-EVENT'" in errors[3]
    assert f"unknown zone(s) at {site.venue}: ATLANTIS" in errors[4]
    assert "policy" in errors[5] and "expected one of single, reentry, unlimited" in errors[5]
    assert "expires must be after not_before" in errors[6]
    assert "more fields than the header names" in errors[7]
    assert "secret repeats row 2" in errors[8]
    assert "zones: Field required" in errors[9]
    assert ok(admin.get("/rights", params={"event": event})) == []
    # The one good row was refused only because the import is all or nothing.
    good = "\n".join(csv.splitlines()[:2])
    imported = ok(admin.post("/rights/import", content=good, headers={"Content-Type": "text/csv"}))
    assert imported["imported"] == 1
    assert len(ok(admin.get("/rights", params={"event": event}))) == 1


def test_unusable_imports(admin: httpx.Client, site: Site) -> None:
    csv = {"Content-Type": "text/csv"}
    as_json = {"Content-Type": "application/json"}
    assert refused(admin.post("/rights/import", content=b"", headers=csv)) == "empty import"
    no_header = admin.post("/rights/import", content=b"\x0c\x16\r=`", headers=csv)
    assert "the CSV header must name the columns" in refused(no_header)
    huge_field = f"event,zones\n{site.event},{'S' * 200_000}\n"
    assert "not valid CSV" in refused(admin.post("/rights/import", content=huge_field, headers=csv))
    not_utf8 = admin.post("/rights/import", content=b"event,zones\n\xff\xfe,\n", headers=csv)
    assert 'Save it as "CSV UTF-8"' in refused(not_utf8)
    deep = b"[" * 100_000 + b"]" * 100_000
    assert "not valid JSON" in refused(admin.post("/rights/import", content=deep, headers=as_json))
    not_a_list = admin.post("/rights/import", json={"event": site.event}, headers=as_json)
    assert "a JSON import is a list of rights" in refused(not_a_list)


def test_csv_with_old_mac_line_ends_imports(admin: httpx.Client, site: Site) -> None:
    event = ok(admin.post("/events", json=event_body(site.venue)), 201)["code"]
    csv = f"event,zones\r{event},SECTOR\r{event},STAND\r"
    answer = admin.post("/rights/import", content=csv, headers={"Content-Type": "text/csv"})
    assert ok(answer)["imported"] == 2


def test_scan_upload_with_bad_ids_stores_nothing(admin: httpx.Client, site: Site) -> None:
    good = scan()
    bad_uuid = scan(scan_id="not-a-uuid-but-thirty-six-characters")
    answer = site.gate_client.post("/gate/scans", json={"scans": [good, bad_uuid]})
    assert "body.scans.1.scan_id: String should match pattern" in refused(answer)
    not_hex = scan(right_id="zz" * 16)
    answer = site.gate_client.post("/gate/scans", json={"scans": [good, not_hex]})
    assert "body.scans.1.right_id: String should match pattern" in refused(answer)
    year_10000 = scan(scanned_at_ms=10**16)
    answer = site.gate_client.post("/gate/scans", json={"scans": [good, year_10000]})
    assert "body.scans.1.scanned_at_ms: Input should be less than or equal to" in refused(answer)
    stored = ok(admin.get("/scans", params={"gate": site.gate, "limit": 10_000}))
    assert good["scan_id"] not in {s["scan_id"] for s in stored}


def test_nul_in_a_scan_is_replaced_not_refused(admin: httpx.Client, site: Site) -> None:
    """A NUL read off a code must not block the gate's outbox (PostgreSQL text cannot hold it)."""
    odd = scan(reason="malformed", detail="raw\x00code")
    assert ok(site.gate_client.post("/gate/scans", json={"scans": [odd]}))["stored"] == 1
    stored = ok(admin.get("/scans", params={"gate": site.gate, "reason": "malformed"}))
    assert [s["detail"] for s in stored if s["scan_id"] == odd["scan_id"]] == ["raw\ufffdcode"]


def test_nul_in_text_is_refused(admin: httpx.Client) -> None:
    venue = unique("NUL")
    message = refused(admin.post("/venues", json={"code": venue, "name": "a\x00b"}))
    assert "body.name: Value error, text must not contain NUL" in message
    assert "path.code: text must not contain NUL" in refused(admin.get("/events/a%00b"))
    assert "query.event: text must not contain NUL" in refused(
        admin.get("/rights", params={"event": "a\x00b"})
    )


def test_numbers_beyond_the_database(admin: httpx.Client) -> None:
    assert "path.alert_id" in refused(admin.post(f"/alerts/{2**40}/ack"))
    assert "query.offset" in refused(admin.get("/rights", params={"offset": 2**40}))


def test_changes_cursor_out_of_range(site: Site) -> None:
    negative = site.gate_client.get("/gate/changes", params={"since": -1})
    assert "query.since: Input should be greater than or equal to 0" in refused(negative)
    head = ok(site.gate_client.post("/gate/heartbeat", json={}))["head"]
    ahead = site.gate_client.get("/gate/changes", params={"since": head + 1_000})
    assert "the gate's cursor is ahead of the server" in refused(ahead, 409)


def test_export_of_an_odd_event_name(admin: httpx.Client) -> None:
    """No such event (an event code cannot hold these): refused, and nothing reaches a header
    (the file name of an existing one is sanitised: tests/sync_server/test_report.py)."""
    answer = admin.get("/exports/entries.csv", params={"event": 'é"\r\nX-Injected: 1'})
    assert answer.status_code == 404
    assert "x-injected" not in answer.headers


def test_a_heartbeat_with_instants_no_date_can_hold_is_refused(site: Site) -> None:
    """Found by schemathesis: a clock check dated 660,000 years before 1970 made the server
    fail (500) raising the unchecked-clock alert. Refused at the door now, every instant."""
    for field in ("clock_verified_ms", "last_sync_ms", "clock_ms"):
        answer = site.gate_client.post("/gate/heartbeat", json={field: -20900159773324548})
        assert answer.status_code == 422, (field, answer.text)
        assert f"body.{field}" in refused(answer)
    assert (
        site.gate_client.post("/gate/heartbeat", json={"clock_verified_ms": 1}).status_code == 200
    )
