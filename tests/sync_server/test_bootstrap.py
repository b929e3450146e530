"""A fresh gate's first sync (issue 19), on SQLite and PostgreSQL: a link that drops half-way
through the download costs only what was not yet received; the next pull goes on from there."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_app.replica import Replica
from scanner_app.sync import SyncClient, SyncError, enroll
from tests.support.fault_proxy import FaultProxy
from tests.support.server import RunningServer
from tests.support.site import Site, ok, replica_rows

TICKETS = 6_000
PAGE = 500


def test_a_first_sync_cut_off_half_way_resumes_where_it_stopped(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    rows = "\n".join(f"{site.event},NORD,fan-{i},,,N-{i}" for i in range(TICKETS))
    body = f"event,zones,holder,policy,kind,seat\n{rows}\n".encode()
    ok(site.admin.post("/rights/import", content=body, headers={"content-type": "text/csv"}))
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/enrollment"), 201)["code"]
    token = enroll(server.url, code).token
    with Replica(tmp_path / "whole.db") as whole, SyncClient(server.url, token, whole) as sync:
        everything = sync.pull(page_size=PAGE)
        total_bytes = sync.feed_bytes
    proxy = FaultProxy(server.port)
    proxy.mode, proxy.budget_bytes = "budget", total_bytes // 2  # the link drops half-way
    try:
        with Replica(tmp_path / "cut.db") as replica:
            with SyncClient(proxy.url, token, replica) as cut, pytest.raises(SyncError):
                cut.pull(page_size=PAGE)
            kept = replica.cursor
            assert kept > 0  # the pages received before the cut are kept, each whole
            with SyncClient(server.url, token, replica) as again:
                rest = again.pull(page_size=PAGE)
                resumed_bytes = again.feed_bytes
    finally:
        proxy.close()
    assert everything > TICKETS and 0 < rest < everything * 0.75  # did not start over
    assert resumed_bytes < total_bytes * 0.75
    assert replica_rows(tmp_path / "cut.db") == replica_rows(tmp_path / "whole.db")
