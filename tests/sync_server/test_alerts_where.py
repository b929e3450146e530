"""Alerts say where (issue 16, first part): with two venues each having NORD-1, an alert names
its venue, in the API, in gate-admin and on the dashboard; and the small things a new user meets
first: a favicon, no administrator command line on the supervisors' sign-in page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sync_server import admin_cli
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.sync_server.test_sessions import PASSWORD, add_user


def test_an_alert_names_its_venue_everywhere(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = Site.create(server), Site.create(server)
    for site in (first, second):
        site.terminal("NORD-1", tmp_path / site.venue).sync.report_replica_lost("wiped card")
    mine = ok(first.admin.get("/alerts", params={"venue": first.venue, "kind": "replica_lost"}))
    assert mine and {a["venue"] for a in mine} == {first.venue}
    assert {a["gate"] for a in mine} == {"NORD-1"}
    admin = ["--server", server.url, "--token", server.tokens["admin"]]
    assert admin_cli.main([*admin, "alerts", "--limit", "1000"]) == 0
    listed = capsys.readouterr().out
    assert "venue" in listed.splitlines()[0] and first.venue in listed and second.venue in listed
    name = add_user(server.database_url, "supervisor")
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.post("/dashboard/login", data={"name": name, "password": PASSWORD}
                            ).status_code == 303  # fmt: skip
        page = browser.get("/dashboard").text
    for site in (first, second):  # each named (Venue 3), its code kept for the page's script
        number = site.venue.removeprefix("V")
        assert f'<span class="venue" data-venue="{site.venue}">Venue {number}</span>' in page


def test_a_favicon_and_no_command_line_for_supervisors(server: RunningServer) -> None:
    icon = httpx.get(f"{server.url}/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
    login = httpx.get(f"{server.url}/dashboard/login").text
    assert "gate-server" not in login and "administrateur" in login
    assert 'rel="icon"' in login
