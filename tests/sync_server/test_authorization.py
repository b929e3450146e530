"""Who may call what: user tokens (admin, supervisor) for the back office, device tokens for the
gate API, nothing without a token; revoked devices and used or expired enrollment codes refused;
one site's gate never reads another site's rows; secrets never leave the server in clear.

The lists of routes come from the application itself, so a new route is covered the day it lands.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select, update

from sync_server.api.main import API_PREFIX, create_app
from sync_server.core.security import hash_token
from sync_server.db import make_engine
from sync_server.models import Device, EnrollmentCode, SigningKey, User
from tests.support.server import RunningServer
from tests.support.site import ok

GATE_PREFIX = f"{API_PREFIX}/gate/"
ENROLL = ("POST", f"{API_PREFIX}/gate/enroll")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SUPERVISOR_MAY_WRITE = {("POST", f"{API_PREFIX}/alerts/{{alert_id}}/ack")}
"""Acknowledging alerts is the supervisor's job; every other back-office write is the admin's."""

APP = create_app()
# Since FastAPI 0.137 ``app.routes`` holds included routers unexpanded; this walks into them.
ROUTES = sorted(
    (method, route.path)
    for route in iter_route_contexts(APP.routes)
    if route.path is not None and route.path.startswith(f"{API_PREFIX}/")
    for method in route.methods or ()
)
GATE_API = [r for r in ROUTES if r[1].startswith(GATE_PREFIX) and r != ENROLL]
BACK_OFFICE = [r for r in ROUTES if not r[1].startswith(GATE_PREFIX)]
BACK_OFFICE_WRITES = [
    r for r in BACK_OFFICE if r[0] in WRITE_METHODS and r not in SUPERVISOR_MAY_WRITE
]
_numbers = itertools.count(1)


def concrete(path: str) -> str:
    """A route's path with sample values: refusals come before any lookup or validation."""
    return re.sub(r"\{[^}]+\}", "1", path).removeprefix(API_PREFIX)


def call(client: httpx.Client, method: str, path: str) -> httpx.Response:
    # A stream that wrongly accepted the caller would never end: a short timeout turns it into
    # a failure instead of a hang.
    return client.request(method, concrete(path), timeout=5)


def unexpected(
    client: httpx.Client, routes: list[tuple[str, str]], status: int, words: str
) -> dict[str, str]:
    """The routes that did not answer ``status`` with a detail containing ``words``."""
    wrong: dict[str, str] = {}
    for method, path in routes:
        answer = call(client, method, path)
        if answer.status_code != status or words not in answer.text:
            wrong[f"{method} {path}"] = f"{answer.status_code}: {answer.text[:200]}"
    return wrong


def device_client(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}{API_PREFIX}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@dataclass
class Place:
    """A venue with a two-level zone tree, an event, one gate and rights, all codes unique."""

    venue: str
    zones: list[str]
    event: str
    gate: str
    rights: list[str]


def make_place(admin: httpx.Client, prefix: str, *, rights: int = 2) -> Place:
    venue = f"{prefix}{next(_numbers)}"
    stand, sector = f"{venue}-STAND", f"{venue}-SECTOR"
    zones = [
        {"code": stand, "name": "Stand"},
        {"code": sector, "name": "Sector", "parent": stand},
    ]
    ok(admin.post("/venues", json={"code": venue, "name": venue, "zones": zones}), 201)
    event, gate = f"{venue}-EV", f"{venue}-G"
    now = datetime.now(UTC)
    ok(
        admin.post(
            "/events",
            json={
                "code": event,
                "name": "Match",
                "venue": venue,
                "starts_at": (now + timedelta(hours=2)).isoformat(),
                "ends_at": (now + timedelta(hours=4)).isoformat(),
            },
        ),
        201,
    )
    gate_body = {"venue": venue, "name": gate, "zones": [sector], "event_codes": [event]}
    ok(admin.post("/gates", json=gate_body), 201)
    made = [
        ok(admin.post("/rights", json={"event": event, "zones": [sector]}), 201)["right_id"]
        for _ in range(rights)
    ]
    return Place(venue, [stand, sector], event, gate, made)


def enrollment_code(admin: httpx.Client, place: Place) -> str:
    code: str = ok(admin.post(f"/venues/{place.venue}/gates/{place.gate}/enrollment"), 201)["code"]
    return code


def enroll(server: RunningServer, admin: httpx.Client, place: Place) -> str:
    with server.client(None) as anonymous:
        enrolled = ok(
            anonymous.post("/gate/enroll", json={"code": enrollment_code(admin, place)}), 201
        )
    assert (enrolled["venue"], enrolled["gate"]) == (place.venue, place.gate)
    token: str = enrolled["token"]
    return token


def pull_all(gate: httpx.Client, *, page: int = 3) -> list[dict[str, Any]]:
    """The whole feed from cursor 0, in pages, as a gate pulls it."""
    changes: list[dict[str, Any]] = []
    cursor = 0
    for _ in range(10_000):
        batch = ok(gate.get("/gate/changes", params={"since": cursor, "limit": page}))
        assert batch["since"] == cursor and batch["cursor"] >= cursor
        changes.extend(batch["changes"])
        cursor = batch["cursor"]
        if not batch["more"]:
            return changes
    raise AssertionError("the feed never ended")


def keys_of(changes: list[dict[str, Any]], kind: str) -> set[str]:
    return {c["key"] for c in changes if c["kind"] == kind}


@pytest.fixture(scope="module")
def admin(server: RunningServer) -> Iterator[httpx.Client]:
    with server.client("admin") as client:
        yield client


@pytest.fixture(scope="module")
def place(admin: httpx.Client) -> Place:
    return make_place(admin, "AUTH")


@pytest.fixture(scope="module")
def device_token(server: RunningServer, admin: httpx.Client, place: Place) -> str:
    return enroll(server, admin, place)


def test_routes_are_found_in_the_app() -> None:
    """The derived lists hold what we know is there, so an empty list cannot pass by itself."""
    assert ("POST", f"{API_PREFIX}/venues") in BACK_OFFICE_WRITES
    assert ("DELETE", f"{API_PREFIX}/bans/{{ban_id}}") in BACK_OFFICE_WRITES
    assert ("PUT", f"{API_PREFIX}/venues/{{code}}/zones") in BACK_OFFICE_WRITES
    assert ("GET", f"{API_PREFIX}/venues") in BACK_OFFICE
    assert ("GET", f"{API_PREFIX}/gate/changes") in GATE_API
    assert ENROLL not in GATE_API and not SUPERVISOR_MAY_WRITE & set(BACK_OFFICE_WRITES)
    documented = {
        (method.upper(), path)
        for path, methods in APP.openapi()["paths"].items()
        if path.startswith(f"{API_PREFIX}/")
        for method in methods
    }
    assert set(ROUTES) == documented


def test_gate_token_cannot_call_the_back_office(server: RunningServer, device_token: str) -> None:
    with device_client(server, device_token) as gate:
        assert unexpected(gate, BACK_OFFICE, 403, "a gate token cannot call this API") == {}


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_user_token_cannot_call_the_gate_api(server: RunningServer, role: str) -> None:
    with server.client(role) as user:
        assert unexpected(user, GATE_API, 403, "this API is for enrolled gates only") == {}


def test_no_token_or_an_unknown_one_is_unauthorized(server: RunningServer) -> None:
    with server.client(None) as anonymous:
        assert unexpected(anonymous, BACK_OFFICE + GATE_API, 401, "missing bearer token") == {}
        made_up = {"Authorization": "Bearer egu_not-a-real-token"}
        for method, path in BACK_OFFICE:
            answer = anonymous.request(method, concrete(path), headers=made_up)
            assert answer.status_code == 401, f"{method} {path}: {answer.text}"
            assert answer.headers["www-authenticate"] == "Bearer"


def test_supervisor_reads_the_back_office(server: RunningServer, place: Place) -> None:
    with server.client("supervisor") as supervisor:
        assert place.venue in {v["code"] for v in ok(supervisor.get("/venues"))}
        assert ok(supervisor.get(f"/venues/{place.venue}"))["zones"][0]["code"] in place.zones
        gates = ok(supervisor.get("/gates", params={"venue": place.venue}))
        assert [g["name"] for g in gates] == [place.gate]
        assert place.event in {e["code"] for e in ok(supervisor.get("/events"))}
        assert ok(supervisor.get(f"/events/{place.event}"))["venue"] == place.venue
        for path in ("/scans", "/alerts", "/bans", "/seasons"):
            assert isinstance(ok(supervisor.get(path)), list), path


def test_supervisor_cannot_write(server: RunningServer) -> None:
    with server.client("supervisor") as supervisor:
        refused = unexpected(supervisor, BACK_OFFICE_WRITES, 403, "needs the admin role")
    assert refused == {}


def test_supervisor_acknowledges_alerts(
    server: RunningServer, place: Place, device_token: str
) -> None:
    """The one write a supervisor may make: a banned person's try raises an alert to acknowledge."""
    scan = {
        "scan_id": str(uuid.uuid4()),
        "gate": place.gate,
        "direction": "in",
        "reason": "blacklisted",
        "scanned_at_ms": int(datetime.now(UTC).timestamp() * 1000),
        "detail": "ban for the supervisor to acknowledge",
    }
    with device_client(server, device_token) as gate:
        assert ok(gate.post("/gate/scans", json={"scans": [scan]}))["stored"] == 1
    with server.client("supervisor") as supervisor:
        alerts = ok(supervisor.get("/alerts", params={"kind": "banned_tried", "open_only": True}))
        mine = [a for a in alerts if a["gate"] == place.gate]
        assert len(mine) == 1
        acked = ok(supervisor.post(f"/alerts/{mine[0]['id']}/ack"))
        assert acked["acknowledged_at"] is not None
        assert supervisor.post("/alerts/2147483647/ack").status_code == 404


def test_revoked_device_is_refused(server: RunningServer, admin: httpx.Client) -> None:
    place = make_place(admin, "REVOKE", rights=0)
    token = enroll(server, admin, place)
    with device_client(server, token) as gate:
        ok(gate.get("/gate/changes"))
        revoked = ok(admin.post(f"/venues/{place.venue}/gates/{place.gate}/revoke-devices"))
        assert revoked == {"revoked": 1}
        answers = {
            "changes": gate.get("/gate/changes"),
            "upload": gate.post("/gate/scans", json={"scans": []}),
            "heartbeat": gate.post("/gate/heartbeat", json={}),
            "stream": gate.get("/gate/stream", timeout=5),
        }
        for name, answer in answers.items():
            assert answer.status_code == 401, f"{name}: {answer.text}"
            assert "revoked" in answer.json()["detail"], name
    with device_client(server, enroll(server, admin, place)) as again:
        ok(again.get("/gate/changes"))


def test_enrollment_code_works_once(server: RunningServer, admin: httpx.Client) -> None:
    place = make_place(admin, "ONCE", rights=0)
    code = enrollment_code(admin, place)
    with server.client(None) as anonymous:
        ok(anonymous.post("/gate/enroll", json={"code": code}), 201)
        again = anonymous.post("/gate/enroll", json={"code": code})
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


def test_expired_enrollment_code_is_refused(server: RunningServer, admin: httpx.Client) -> None:
    place = make_place(admin, "EXPIRED", rights=0)
    code = enrollment_code(admin, place)
    engine = make_engine(server.database_url)
    try:
        with engine.begin() as db:
            expired = db.execute(
                update(EnrollmentCode)
                .where(EnrollmentCode.code_hash == hash_token(code))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            assert expired.rowcount == 1
    finally:
        engine.dispose()
    with server.client(None) as anonymous:
        answer = anonymous.post("/gate/enroll", json={"code": code})
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_a_gate_reads_only_its_own_site(server: RunningServer, admin: httpx.Client) -> None:
    home, away = make_place(admin, "HOME"), make_place(admin, "AWAY")
    kid = ok(admin.post("/keys/rotate"), 201)["kid"]
    ban = {"scope": "holder", "holder": f"hooligan-{uuid.uuid4()}", "reason": "stadium ban"}
    ban_id = ok(admin.post("/bans", json=ban), 201)["id"]
    feeds = {}
    for place in (home, away):
        with device_client(server, enroll(server, admin, place)) as gate:
            feeds[place.venue] = pull_all(gate)
    for mine, other in ((home, away), (away, home)):
        feed = feeds[mine.venue]
        assert set(mine.rights) <= keys_of(feed, "right")
        assert set(mine.zones) <= keys_of(feed, "zone")
        assert mine.event in keys_of(feed, "event") and mine.gate in keys_of(feed, "gate")
        assert not set(other.rights) & keys_of(feed, "right")
        assert not set(other.zones) & keys_of(feed, "zone")
        assert other.event not in keys_of(feed, "event")
        assert other.gate not in keys_of(feed, "gate")
        assert other.venue not in json.dumps(feed)
        assert kid in keys_of(feed, "key") and ban_id in keys_of(feed, "ban")
        seqs = [c["seq"] for c in feed]
        assert seqs == sorted(set(seqs))


def test_two_venues_may_use_the_same_zone_codes(server: RunningServer, admin: httpx.Client) -> None:
    codes = []
    for _ in range(2):
        venue = f"TWIN{next(_numbers)}"
        zones = [{"code": "TWIN-NORD", "name": f"Nord of {venue}"}]
        ok(admin.post("/venues", json={"code": venue, "name": venue, "zones": zones}), 201)
        ok(
            admin.post("/gates", json={"venue": venue, "name": "TWIN-G", "zones": ["TWIN-NORD"]}),
            201,
        )
        codes.append(venue)
    first = Place(codes[0], ["TWIN-NORD"], "", "TWIN-G", [])
    with device_client(server, enroll(server, admin, first)) as gate:
        feed = pull_all(gate)
    zones = [c["data"] for c in feed if c["kind"] == "zone" and c["key"] == "TWIN-NORD"]
    assert zones == [{"code": "TWIN-NORD", "name": f"Nord of {codes[0]}", "parent": None,
                      "capacity": None}]  # fmt: skip
    assert "TWIN-G" in keys_of(feed, "gate")


def test_private_keys_never_leave_the_server(
    server: RunningServer, admin: httpx.Client, device_token: str
) -> None:
    rotated = admin.post("/keys/rotate")
    ok(rotated, 201)
    listed = admin.get("/keys")
    with device_client(server, device_token) as gate:
        feed = gate.get("/gate/changes", params={"since": 0, "limit": 100_000})
    audit = admin.get("/audit", params={"action": "key.rotate"})
    for answer in (rotated, listed, feed, audit):
        assert "PRIVATE" not in answer.text.upper() and "BEGIN" not in answer.text
    keys = ok(listed)
    assert rotated.json()["kid"] in {k["kid"] for k in keys}
    for key in keys:
        assert set(key) == {"kid", "public_key", "status", "created_at", "retired_at", "venue"}
        public = bytes.fromhex(key["public_key"])
        assert len(public) == 32
        assert key["kid"] == hashlib.sha256(public).digest()[:8].hex()
    for change in ok(feed)["changes"]:
        if change["kind"] == "key" and change["op"] == "upsert":
            assert set(change["data"]) == {"kid", "public_key"}
            assert len(bytes.fromhex(change["data"]["public_key"])) == 32
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as db:
            stored = db.execute(select(SigningKey.private_pem)).scalars().all()
    finally:
        engine.dispose()
    assert stored and all(b"ENCRYPTED PRIVATE KEY" in pem for pem in stored)


def test_tokens_are_stored_hashed(server: RunningServer, device_token: str) -> None:
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as db:
            users = [dict(row._mapping) for row in db.execute(select(User.__table__))]
            devices = [dict(row._mapping) for row in db.execute(select(Device.__table__))]
            codes = [dict(row._mapping) for row in db.execute(select(EnrollmentCode.__table__))]
    finally:
        engine.dispose()
    stored = repr(users + devices + codes)
    for token in [*server.tokens.values(), device_token]:
        assert token not in stored
        assert token.split("_", 1)[1] not in stored
    hashes = {u["name"]: u["token_hash"] for u in users}
    assert hashes["admin"] == hashlib.sha256(server.tokens["admin"].encode()).hexdigest()
    assert hash_token(device_token) in {d["token_hash"] for d in devices}
