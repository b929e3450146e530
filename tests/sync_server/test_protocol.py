"""A rolling upgrade (issue 13): the server serves this protocol and the one before; a gate it
cannot serve gets HTTP 426 with what to do, on its status, in ``gate-scanner sync`` and on its
dashboard tile. The "old gate" is a frozen copy of release 0.1.0's wire format, sent by hand."""

from __future__ import annotations

import html
import uuid
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from scanner_app import cli, sync
from scanner_app.sync_loop import SyncLoop, SyncState
from shared import protocol
from tests.scanner_app.test_sync_faults import enroll_gate
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.sync_server.test_sessions import PASSWORD, add_user

RELEASE_0_1_0 = {"User-Agent": "entrix-gate/0.1.0"}
"""What release 0.1.0's gates sent besides their token: no protocol header."""


def test_a_gate_of_release_0_1_0_syncs_against_this_server(server: RunningServer) -> None:
    site = Site.create(server)
    right = site.right(policy="single")
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/enrollment"), 201)["code"]
    api = f"{server.url}/api/v1/gate"
    enrolled = httpx.post(f"{api}/enroll", json={"code": code}, headers=RELEASE_0_1_0, timeout=10)
    assert enrolled.status_code == 201, enrolled.text
    old = httpx.Client(
        base_url=api,
        headers={**RELEASE_0_1_0, "Authorization": f"Bearer {enrolled.json()['token']}"},
        timeout=10,
    )
    page = old.get("/changes", params={"since": 0, "limit": 5000})
    assert page.status_code == 200
    assert right["right_id"] in page.text
    scan = {  # release 0.1.0's scan_json, field for field
        "scan_id": str(uuid.uuid4()),
        "gate": "NORD-1",
        "direction": "in",
        "reason": "granted",
        "scanned_at_ms": 1_800_000_000_000,
        "right_id": right["right_id"],
        "event": site.event,
        "zone": "NORD",
        "code_kind": "eg1",
        "latency_ms": 1.2,
        "operator": None,
        "detail": "",
        "annuls": None,
    }
    stored = old.post("/scans", json={"scans": [scan]})
    assert stored.status_code == 200 and stored.json()["stored"] == 1
    beat = old.post(
        "/heartbeat",
        json={"version": "0.1.0", "cursor": page.json()["cursor"], "outbox": 0,
              "last_sync_ms": None, "clock_ms": 1_800_000_000_000, "camera": "ok", "relay": "ok",
              "counters": {"pulled": 3, "pushed": 1}},
    )  # fmt: skip
    assert beat.status_code == 200 and "server_time_ms" in beat.json()
    old.close()


@pytest.mark.parametrize(
    ("stated", "says"),
    [("0", "upgrade the gate's software"), ("99", "upgrade the server first")],
)
def test_a_gate_the_server_cannot_serve_is_told_what_to_do_and_shown_on_its_tile(
    server: RunningServer, tmp_path: Path, stated: str, says: str
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "SUD-1", tmp_path, server.url)
    gate = httpx.Client(
        base_url=f"{server.url}/api/v1/gate",
        headers={"Authorization": f"Bearer {config.token()}", protocol.HEADER: stated},
        timeout=10,
    )
    for method, path in (("GET", "/changes"), ("POST", "/heartbeat"), ("POST", "/scans")):
        answer = gate.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 426, (path, answer.text)
        assert says in answer.json()["detail"]
        assert answer.headers["Upgrade"] == f"{protocol.HEADER}/{protocol.PROTOCOL}"
    gate.close()
    alerts = ok(site.admin.get("/alerts", params={"kind": "protocol_refused"}))
    # one alert for the three refused calls (its gate name is unique on this server, not its tile)
    assert [a["gate"] for a in alerts if says in a["message"]] == ["SUD-1"]
    with closing(dashboard(server)) as browser:
        assert "Synchronisation impossible :" in tile(browser, site, "SUD-1")  # French default
        assert says in html.unescape(tile(browser, site, "SUD-1"))
        # Upgraded: its next heartbeat clears the tile.
        SyncLoop(config).run(once=True)
        assert "Synchronisation impossible" not in tile(browser, site, "SUD-1")


def dashboard(server: RunningServer) -> httpx.Client:
    name = add_user(server.database_url, "supervisor")
    browser = httpx.Client(base_url=server.url, timeout=10)
    signed = browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
    assert signed.status_code == 303
    return browser


def tile(browser: httpx.Client, site: Site, gate: str) -> str:
    """The HTML of one gate's tile on the dashboard page."""
    page = browser.get("/dashboard").text
    start = page.index(f'data-gate="{site.venue}/{gate}"')
    return page[start : page.index("</li>", start)]


def test_the_gate_says_upgrade_required_in_its_loop_and_its_command(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    site = Site.create(server)
    config = enroll_gate(site, "VIP-1", tmp_path, server.url)
    monkeypatch.setitem(sync.HEADERS, protocol.HEADER, "0")  # as an outdated release would
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.UPGRADE
    assert "upgrade the gate's software" in status.last_error
    assert cli.main(["sync", "--once", "--config", str(config.path)]) == 4
    said = capsys.readouterr()
    assert "sync upgrade" in said.out and "upgrade required" in said.err
