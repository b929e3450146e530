"""A stolen gate terminal cannot burn tickets (issue 15): its device token speaks for its own
gate only, and what no lane can physically do is held in quarantine instead of believed.

The attack of the landed release: gate NORD-1's token learnt 1,000 right ids from its own feed
and uploaded 1,000 forged *granted* scans attributed to NORD-2; accepted, no alert, and the real
holders were then refused ``already_used`` at NORD-2."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.reasons import Reason
from sync_server import admin_cli
from sync_server.core.config import Settings
from tests.support.server import RunningServer, start_server
from tests.support.site import Site, Terminal, ok

FORGED = 1_000


LANE_LIMIT = Settings.model_fields["gate_max_passages_per_minute"].default


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with the product's plausibility limit (the shared test servers lift it)."""
    running = start_server(
        database_url,
        tmp_path_factory.mktemp("log") / "server.log",
        ENTRIX_GATE_MAX_PASSAGES_PER_MINUTE=str(LANE_LIMIT),
    )
    yield running
    running.stop()


@pytest.fixture
def site(server: RunningServer) -> Site:
    return Site.create(server)


def forged(
    gate: str, right_ids: list[str], *, start_ms: int, every_ms: int
) -> list[dict[str, Any]]:
    return [
        {"scan_id": str(uuid.uuid4()), "gate": gate, "direction": "in", "reason": "granted",
         "scanned_at_ms": start_ms + i * every_ms, "right_id": right_id, "zone": "NORD",
         "code_kind": "eg1", "seq": i + 1}
        for i, right_id in enumerate(right_ids)
    ]  # fmt: skip


def upload(terminal: Terminal, scans: list[dict[str, Any]]) -> dict[str, Any]:
    answer = terminal.sync._http.post("/scans", json={"scans": scans})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def alerts_of(site: Site, gate: str, kind: str) -> list[dict[str, Any]]:
    """(The module's tests share a server, and every site has the same gate names: compare.)"""
    found = ok(site.admin.get("/alerts", params={"kind": kind, "limit": 1000}))
    return [a for a in found if a["gate"] == gate]


def test_a_stolen_token_cannot_burn_tickets_at_another_gate(site: Site, tmp_path: Path) -> None:
    thief = site.terminal("NORD-1", tmp_path / "thief")
    rights = [site.right() for _ in range(FORGED)]
    now = int(time.time() * 1000)
    before = len(alerts_of(site, "NORD-1", "implausible_scans"))
    result = upload(thief, forged("NORD-2", [r["right_id"] for r in rights], start_ms=now - 600_000,
                                  every_ms=2_000))  # fmt: skip
    assert result["stored"] == 0 and len(result["refused"]) == FORGED
    assert "speaks for gate NORD-1 only" in next(iter(result["refused"].values()))
    assert len(alerts_of(site, "NORD-1", "implausible_scans")) == before + 1
    # The real holders are admitted at the real NORD-2.
    honest = site.terminal("NORD-2", tmp_path / "honest")
    for right in rights[:20]:
        assert honest.check(site.code(right)).decision.reason is Reason.GRANTED


def test_a_forged_batch_for_its_own_gate_is_held_and_an_admin_decides(
    site: Site, tmp_path: Path, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    thief = site.terminal("NORD-1", tmp_path / "thief")
    rights = [site.right() for _ in range(FORGED)]
    now = int(time.time() * 1000)
    known = {a["id"] for a in alerts_of(site, "NORD-1", "implausible_scans")}
    # 1,000 passages in 10 s: no lane does that.
    ids = [r["right_id"] for r in rights]
    minute_start = (now // 60_000 - 1) * 60_000  # all in one minute, whenever the test runs
    result = upload(thief, forged("NORD-1", ids, start_ms=minute_start + 1_000, every_ms=10))
    assert result["stored"] == FORGED and result["held"] == FORGED and result["refused"] == {}
    raised = [a for a in alerts_of(site, "NORD-1", "implausible_scans") if a["id"] not in known]
    assert len(raised) == 1 and f"{FORGED} held in quarantine" in raised[0]["message"]
    # Nothing counted, no usage moved: every ticket still admissible at the next gate.
    honest = site.terminal("NORD-2", tmp_path / "honest")
    for right in rights[1:21]:
        assert honest.check(site.code(right)).decision.reason is Reason.GRANTED
    entries = ok(site.admin.get("/scans", params={"venue": site.venue, "gate": "NORD-1",
                                                  "limit": 10}))  # fmt: skip
    assert len(entries) == 10  # stored, for the record

    admin = ["--server", server.url, "--token", server.tokens["admin"]]
    assert admin_cli.main([*admin, "quarantine", "list", "--gate", "NORD-1"]) == 0
    listed = capsys.readouterr().out
    assert "passages in the minute" in listed and f"{FORGED} scans held" in listed
    held = ok(site.admin.get("/quarantine", params={"venue": site.venue, "gate": "NORD-1"}))
    assert len(held) == FORGED
    # The admin applies one (found genuine after all) and discards the rest.
    mine = [h["scan_id"] for h in held if h["right_id"] == rights[0]["right_id"]]
    assert admin_cli.main([*admin, "quarantine", "apply", *mine]) == 0
    assert admin_cli.main([*admin, "quarantine", "discard", "--all", "--venue", site.venue,
                           "--gate", "NORD-1"]) == 0  # fmt: skip
    assert f"{FORGED - 1} scans discarded" in capsys.readouterr().out
    assert ok(site.admin.get("/quarantine", params={"venue": site.venue})) == []
    honest.sync.pull()
    assert honest.check(site.code(rights[0])).decision.reason is Reason.ALREADY_USED
    assert honest.check(site.code(rights[30])).decision.reason is Reason.GRANTED  # discarded
    audit = ok(site.admin.get("/audit", params={"action": "quarantine.discarded"}))
    assert audit and audit[0]["actor"] == "admin"


def test_an_honest_gate_at_full_speed_is_believed(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    assert LANE_LIMIT == 60
    for _ in range(40):  # a busy lane's minute
        assert gate.check(site.code(site.right())).decision.granted
    gate.sync.push()
    assert ok(site.admin.get("/quarantine", params={"venue": site.venue})) == []


def test_scans_out_of_order_are_held(site: Site, tmp_path: Path) -> None:
    thief = site.terminal("NORD-1", tmp_path)
    rights = [site.right()["right_id"] for _ in range(3)]
    now = int(time.time() * 1000)
    scans = forged("NORD-1", rights, start_ms=now - 60_000, every_ms=2_000)
    scans[2]["scanned_at_ms"] = now - 3_600_000  # record 3, dated an hour before record 1
    result = upload(thief, scans)
    assert result["held"] == 1 and result["stored"] == 3


def test_a_token_cannot_move_another_venues_usage(
    server: RunningServer, site: Site, tmp_path: Path
) -> None:
    other = Site.create(server)
    theirs = other.right()
    thief = site.terminal("NORD-1", tmp_path / "thief")
    result = upload(thief, forged("NORD-1", [theirs["right_id"]], start_ms=int(time.time() * 1000),
                                  every_ms=1))  # fmt: skip
    assert (
        result["stored"] == 0
        and "another venue's" in result["refused"][next(iter(result["refused"]))]
    )
    theirs_gate = other.terminal("NORD-1", tmp_path / "theirs")
    assert theirs_gate.check(other.code(theirs)).decision.reason is Reason.GRANTED
    theirs_gate.sync.push()
    assert [a for a in ok(other.admin.get("/alerts", params={"kind": "double_entry"}))
            if theirs["right_id"] in a["message"]] == []  # fmt: skip


def test_an_annulment_of_another_gates_scan_is_refused(site: Site, tmp_path: Path) -> None:
    honest = site.terminal("NORD-2", tmp_path / "honest")
    right = site.right()
    entry = honest.check(site.code(right))
    honest.sync.push()
    thief = site.terminal("NORD-1", tmp_path / "thief")
    annulment = {"scan_id": str(uuid.uuid4()), "gate": "NORD-1", "direction": "in",
                 "reason": "not_passed", "scanned_at_ms": int(time.time() * 1000),
                 "right_id": right["right_id"], "annuls": entry.record.scan_id}  # fmt: skip
    result = upload(thief, [annulment])
    assert result["refused"] and "not a scan of this gate" in next(iter(result["refused"].values()))
    other = site.terminal("NORD-2", tmp_path / "other")
    assert other.check(site.code(right)).decision.reason is Reason.ALREADY_USED  # still used


def test_an_admin_decides_on_the_dashboard_and_the_tile_says_what_is_held(
    server: RunningServer, site: Site, tmp_path: Path
) -> None:
    import re

    import httpx

    from tests.sync_server.test_sessions import PASSWORD, add_user

    thief = site.terminal("SUD-1", tmp_path)
    ids = [site.right(zones=["SUD"])["right_id"] for _ in range(LANE_LIMIT + 5)]
    # 6.5 s of passages inside one minute (the previous one, from its first second on): a test
    # run across a minute's boundary must not split them under the limit.
    minute_start = (int(time.time() * 1000) // 60_000 - 1) * 60_000
    scans = forged("SUD-1", ids, start_ms=minute_start + 1_000, every_ms=100)
    for scan in scans:
        scan["zone"] = "SUD"
    assert upload(thief, scans)["held"] == LANE_LIMIT + 5
    name = add_user(server.database_url, "admin")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        signed = browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert signed.status_code == 303
        page = browser.get("/dashboard").text
        assert f"⚠ {LANE_LIMIT + 5} passages en quarantaine" in page  # French by default
        action = f"/dashboard/gates/{site.venue}/SUD-1/quarantine"
        assert action in page
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert csrf is not None
        done = browser.post(action, data={"csrf": csrf.group(1), "decision": "discarded"})
        assert done.status_code == 303
        after = browser.get("/dashboard").text  # (other tests' venues may hold some)
        assert action not in after and f"⚠ {LANE_LIMIT + 5} passages en" not in after
    assert ok(site.admin.get("/quarantine", params={"venue": site.venue})) == []
    audit = ok(site.admin.get("/audit", params={"action": "quarantine.discarded"}))
    assert any(e["actor"] == name and e["detail"].get("via") == "dashboard" for e in audit)
