"""Venue layouts (issue 17), on SQLite and PostgreSQL: the same stadium set up for a concert, the
same gate leading into the pit that evening and into the north stand at the match; the gates'
feed in each protocol's shape; gate-admin as the pages' twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from shared import protocol
from shared.reasons import Reason
from sync_server.admin_cli import main
from sync_server.dashboard import snapshot
from sync_server.db import make_engine
from tests.support.server import RunningServer
from tests.support.site import Site, ok


def concert(site: Site, *, starts_in: timedelta = timedelta(minutes=-10)) -> str:
    """A concert layout of the site's venue (a copy of its main one, plus a pit that holds two)
    and an event held in it, controlled by every gate."""
    venue = ok(site.admin.post(f"/venues/{site.venue}/layouts",
                               json={"code": "CONCERT", "name": "Concert", "copy_from": "MAIN"}),
               201)  # fmt: skip
    layout = next(lay for lay in venue["layouts"] if lay["code"] == "CONCERT")
    assert not layout["default"] and layout["access"]["NORD-1"] == ["NORD"]  # copied
    pit = [{"code": "FOSSE", "name": "Fosse", "parent": "STADE", "capacity": 2}]
    ok(site.admin.put(f"/venues/{site.venue}/layouts/CONCERT/zones", json=pit))
    access = {"NORD-1": ["FOSSE"], "SUD-1": [], "EXIT": ["FOSSE", "STADE"]}
    ok(site.admin.put(f"/venues/{site.venue}/layouts/CONCERT/access", json=access))
    event = f"{site.event}-LIVE"
    starts, ends = datetime.now(UTC) + starts_in, datetime.now(UTC) + timedelta(hours=3)
    made = ok(site.admin.post("/events", json={
        "code": event, "name": "Concert", "venue": site.venue, "layout": "CONCERT",
        "starts_at": starts.isoformat(), "ends_at": ends.isoformat(),
    }), 201)  # fmt: skip
    assert made["layout"] == "CONCERT"
    ok(site.admin.post(f"/events/{event}/open-gates"))
    return event


def test_the_same_gate_leads_into_the_pit_at_the_concert(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    event = concert(site)
    pit = [site.code(site.right(event=event, zones=["FOSSE"])) for _ in range(3)]
    stand = site.code(site.right(event=event, zones=["NORD"]))
    match = site.code(site.right(zones=["NORD"]))
    gate = site.terminal("NORD-1", tmp_path)
    first = gate.check(pit[0]).decision
    assert first.reason is Reason.GRANTED and first.zone == "FOSSE"
    assert gate.check(stand).decision.reason is Reason.WRONG_ZONE  # not through NORD-1 tonight
    derby = gate.check(match).decision
    assert derby.reason is Reason.GRANTED and derby.zone == "NORD"
    assert gate.check(pit[1]).decision.reason is Reason.GRANTED
    assert gate.check(pit[2]).decision.reason is Reason.CAPACITY_FULL  # the pit holds two
    south = site.terminal("SUD-1", tmp_path)
    assert south.check(site.code(site.right(event=event, zones=["FOSSE"]))).decision.reason is (
        Reason.WRONG_ZONE
    )  # SUD-1 leads nowhere at the concert
    # The server counts heads in the concert's layout too: the pit, and the stadium above it.
    gate.sync.push()
    venue = ok(site.admin.get(f"/venues/{site.venue}"))
    concert_layout = next(lay for lay in venue["layouts"] if lay["code"] == "CONCERT")
    heads = {z["code"]: z["occupancy"] for z in concert_layout["zones"]}
    assert heads["FOSSE"] == 2 and heads["STADE"] == 3  # two in the pit, one at the match
    report = ok(site.admin.get("/exports/entries.json", params={"event": event}))
    assert "FOSSE" in json.dumps(report)
    gate.close()
    south.close()


def _device(site: Site) -> str:
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/VIP-1/enrollment"), 201)["code"]
    answer = httpx.post(f"{site.server.url}/api/v1/gate/enroll", json={"code": code}, timeout=10)
    token: str = ok(answer, 201)["token"]
    return token


def _feed(site: Site, token: str, stated: str) -> httpx.Response:
    return httpx.get(
        f"{site.server.url}/api/v1/gate/changes",
        params={"since": 0},
        headers={"Authorization": f"Bearer {token}", protocol.HEADER: stated},
        timeout=10,
    )


def test_each_protocol_gets_the_feed_it_reads(server: RunningServer) -> None:
    site = Site.create(server)
    token = _device(site)
    kinds_3 = {c["kind"] for c in ok(_feed(site, token, "3"))["changes"]}
    assert "layout" in kinds_3 and "zone" not in kinds_3
    kinds_2 = {c["kind"] for c in ok(_feed(site, token, "2"))["changes"]}
    assert "zone" in kinds_2 and "layout" not in kinds_2  # one layout: served as before
    concert(site)
    # With a second layout a protocol-2 gate would decide the concert in the football stands:
    # its feed is refused, said why, and the supervisors see it; its scans are still taken.
    refused = _feed(site, token, "2")
    assert refused.status_code == protocol.UPGRADE_REQUIRED
    assert "several layouts" in refused.json()["detail"]
    beat = httpx.post(
        f"{site.server.url}/api/v1/gate/scans",
        json={"scans": []},
        headers={"Authorization": f"Bearer {token}", protocol.HEADER: "2"},
        timeout=10,
    )
    assert beat.status_code == 200
    alerts = ok(site.admin.get("/alerts"))
    assert any(a["kind"] == "protocol_refused" and a["gate"] == "VIP-1" for a in alerts)
    layouts = [c for c in ok(_feed(site, token, "3"))["changes"] if c["kind"] == "layout"]
    assert {c["key"] for c in layouts} == {"MAIN", "CONCERT"}


def test_tickets_name_zones_of_their_events_layout(server: RunningServer) -> None:
    site = Site.create(server)
    event = concert(site)
    refused = site.admin.post("/rights", json={"event": site.event, "zones": ["FOSSE"]})
    assert refused.status_code == 422 and "FOSSE" in refused.text  # no pit at the match
    ok(site.admin.post("/rights", json={"event": event, "zones": ["FOSSE"]}), 201)
    bad = site.admin.put(f"/venues/{site.venue}/layouts/CONCERT/access", json={"NORD-1": ["MARS"]})
    assert bad.status_code == 422 and "MARS" in bad.text
    twice = site.admin.post(f"/venues/{site.venue}/layouts", json={"code": "CONCERT", "name": "x"})
    assert twice.status_code == 409
    unknown = site.admin.post("/events", json={
        "code": f"{event}-2", "name": "x", "venue": site.venue, "layout": "OPERA",
        "starts_at": "2027-01-01T20:00:00Z", "ends_at": "2027-01-01T23:00:00Z"})  # fmt: skip
    assert unknown.status_code == 404 and "OPERA" in unknown.text
    audit = ok(site.admin.get("/audit", params={"action": "layout.access"}))
    assert any(e["target"] == f"{site.venue}/CONCERT" for e in audit)


def test_gate_admin_sets_up_a_layout(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = Site.create(server)

    def admin(*args: str) -> str:
        status = main(["--server", server.url, "--token", server.tokens["admin"], *args])
        out, err = capsys.readouterr()
        assert status == 0, err
        return out

    zones = tmp_path / "pit.csv"
    zones.write_text("code,name,parent,capacity\nSTADE,Stade,,\nFOSSE,Fosse,STADE,15000\n")
    made = admin("layout", "create", site.venue, "CONCERT", "--name", "Concert",
                 "--zones-file", str(zones))  # fmt: skip
    assert f"layout {site.venue}/CONCERT: Concert, 2 zone(s)" in made
    assert "FOSSE" in made
    access = admin("layout", "access", site.venue, "CONCERT", "NORD-1", "--zones", "FOSSE")
    assert "NORD-1" in access and "FOSSE" in access
    shown = admin("venue", "show", site.venue)
    assert "CONCERT" in shown and "MAIN" in shown
    gate = admin("gate", "list")
    assert "CONCERT: FOSSE" in gate
    event = admin("event", "create", f"{site.event}-C", "--name", "Concert", "--venue", site.venue,
                  "--layout", "CONCERT", "--starts", "2027-06-01T20:00+01:00",
                  "--ends", "2027-06-01T23:00+01:00")  # fmt: skip
    assert "(CONCERT layout)" in event


def test_the_dashboard_shows_the_zones_of_the_layout_in_use(server: RunningServer) -> None:
    site = Site.create(server)
    event = concert(site)  # on now (it began ten minutes ago); the derby starts in an hour
    engine = make_engine(server.database_url)
    try:
        with Session(engine) as session:
            now = datetime.now(UTC)
            tonight = snapshot.take(session, silent_after_s=60, now=now)
            later = snapshot.take(session, silent_after_s=60, now=now + timedelta(hours=2))
    finally:
        engine.dispose()
    venue = next(v for v in tonight.venues if v.code == site.venue)
    assert venue.layout == "Concert" and "FOSSE" in {z.code for z in venue.zones}
    # Two hours on, the derby has begun (the latest started of the events on): its layout.
    after = next(v for v in later.venues if v.code == site.venue)
    assert after.layout == "Main layout" and "FOSSE" not in {z.code for z in after.zones}
    assert event
