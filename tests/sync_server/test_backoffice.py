"""The back office's story: import, issue, audit. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import zxingcpp
from PIL import Image

from shared.reasons import Reason
from tests.support.server import RunningServer
from tests.support.site import Site, ok


def test_csv_import_then_plain_and_signed_codes_at_the_gate(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    rows = [
        "event,zones,holder,policy,kind,seat,secret",
        f"{site.event},NORD,fan-1,single,ticket,N-1-1,",
        f"{site.event},SUD|NORD,fan-2,reentry,subscription,,OLD-TKT-0001",
        f"{site.event},STADE,steward-1,unlimited,staff,,",
    ]
    report = ok(
        site.admin.post(
            "/rights/import", content="\n".join(rows) + "\n", headers={"content-type": "text/csv"}
        )
    )
    assert report["imported"] == 3 and report["errors"] == []
    listed = ok(site.admin.get("/rights", params={"event": site.event}))
    assert {r["right_id"] for r in listed} == set(report["right_ids"])
    gate = site.terminal("NORD-1", tmp_path)
    assert gate.check("OLD-TKT-0001").decision.reason is Reason.GRANTED
    assert gate.check("OLD-TKT-0001").decision.reason is Reason.ALREADY_INSIDE
    staff = next(r for r in listed if r["kind"] == 2)
    assert gate.check(site.code(staff)).decision.granted
    assert gate.check(site.code(staff)).decision.granted


def test_bad_import_names_every_bad_row_and_imports_nothing(server: RunningServer) -> None:
    site = Site.create(server)
    rows = [
        {"event": site.event, "zones": ["NORD"]},
        {"event": site.event, "zones": ["MOON"]},
        {"event": "NO-SUCH-EVENT", "zones": ["NORD"]},
        {"event": site.event, "zones": ["NORD"], "policy": "twice"},
        {"event": site.event, "zones": ["NORD"], "secret": "DUP-0001"},
        {"event": site.event, "zones": ["NORD"], "secret": "DUP-0001"},
    ]
    answer = site.admin.post("/rights/import", json=rows)
    assert answer.status_code == 422
    report = answer.json()
    assert report["imported"] == 0
    assert [e["row"] for e in report["errors"]] == [2, 3, 4, 6]
    messages = " | ".join(e["message"] for e in report["errors"])
    assert "MOON" in messages and "NO-SUCH-EVENT" in messages
    assert "policy" in messages and "repeats row 5" in messages
    assert ok(site.admin.get("/rights", params={"event": site.event})) == []


def test_issued_qr_images_carry_the_code(server: RunningServer) -> None:
    site = Site.create(server)
    right = site.right(holder="fan-3", seat="N-2-9")
    code = site.code(right)
    assert code.startswith("EG1:")
    png = site.admin.get(f"/rights/{right['right_id']}/qr.png", params={"scale": 4})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert len(decoded) == 1
    assert decoded[0].text.startswith("EG1:")
    svg = site.admin.get(f"/rights/{right['right_id']}/qr.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")


def test_every_admin_action_is_audited_with_who_and_where(server: RunningServer) -> None:
    site = Site.create(server)
    right = site.right()
    ok(site.admin.post(f"/rights/{right['right_id']}/revoke", json={"reason": "refund"}))
    entries = ok(site.admin.get("/audit", params={"limit": 200}))
    actions = {(e["action"], e["target"]) for e in entries}
    assert ("venue.create", site.venue) in actions
    assert ("event.create", site.event) in actions
    assert ("gate.create", f"{site.venue}/NORD-1") in actions
    assert ("right.create", right["right_id"]) in actions
    assert ("right.revoke", right["right_id"]) in actions
    revoke = next(e for e in entries if e["action"] == "right.revoke")
    assert revoke["actor"] == "admin" and revoke["remote_addr"] == "127.0.0.1"
    assert revoke["detail"] == {"reason": "refund"}


def test_revoking_twice_is_a_conflict(server: RunningServer) -> None:
    site = Site.create(server)
    right = site.right()
    ok(site.admin.post(f"/rights/{right['right_id']}/revoke", json={"reason": "refund"}))
    again = site.admin.post(f"/rights/{right['right_id']}/revoke", json={"reason": "again"})
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    assert site.admin.get(f"/rights/{right['right_id']}/code").status_code == 409


def test_a_banned_right_cannot_be_transferred_to_dodge_the_ban(server: RunningServer) -> None:
    site = Site.create(server)
    right = site.right(holder="reseller")
    ok(
        site.admin.post(
            "/bans", json={"scope": "right", "right_id": right["right_id"], "reason": "touted"}
        ),
        201,
    )
    answer = site.admin.post(f"/rights/{right['right_id']}/transfer", json={"holder": "buyer"})
    assert answer.status_code == 409 and "banned" in answer.json()["detail"]
    short = site.admin.get("/rights/1234")
    assert short.status_code == 422 and "32 hexadecimal" in short.json()["detail"]


def test_scans_can_be_filtered_by_venue(server: RunningServer, tmp_path: Path) -> None:
    """Two venues both have a gate NORD-1: the venue filter keeps them apart."""
    first, second = Site.create(server), Site.create(server)
    for site in (first, second):
        gate = site.terminal("NORD-1", tmp_path / site.venue)
        gate.check(site.code(site.right()))
        gate.sync.push()
    mine = ok(first.admin.get("/scans", params={"venue": first.venue, "gate": "NORD-1"}))
    assert len(mine) == 1 and mine[0]["event"] == first.event
    both = ok(first.admin.get("/scans", params={"gate": "NORD-1", "limit": 10_000}))
    assert {s["event"] for s in both} >= {first.event, second.event}


def test_an_unknown_token_is_unauthorized_not_forbidden(server: RunningServer) -> None:
    client = server.client(None)
    answer = client.get("/venues", headers={"Authorization": "Bearer typo-not-a-token"})
    assert answer.status_code == 401
    gate_side = client.get("/gate/changes", headers={"Authorization": "Bearer typo"})
    assert gate_side.status_code == 401
