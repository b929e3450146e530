"""A fresh gate's first sync (issue 19), on SQLite and PostgreSQL: a link that drops half-way
through the download costs only what was not yet received; the next pull goes on from there. A
gate can start from the server's snapshot: the replica then equals one built from the feed, row
for row, and follows the feed; a damaged or cut snapshot is refused and the feed fills the gate."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from scanner_app.replica import Replica
from scanner_app.sync import SyncClient, SyncError, enroll
from shared import protocol
from sync_server.api.routes.gate_api import snapshot_root
from sync_server.core.config import Settings
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
    feed_only = {"use_snapshot": False}
    with (
        Replica(tmp_path / "whole.db") as whole,
        SyncClient(server.url, token, whole, **feed_only) as sync,
    ):
        everything = sync.pull(page_size=PAGE)
        total_bytes = sync.feed_bytes
    proxy = FaultProxy(server.port)
    proxy.mode, proxy.budget_bytes = "budget", total_bytes // 2  # the link drops half-way
    try:
        with Replica(tmp_path / "cut.db") as replica:
            with (
                SyncClient(proxy.url, token, replica, **feed_only) as cut,
                pytest.raises(SyncError),
            ):
                cut.pull(page_size=PAGE)
            kept = replica.cursor
            assert kept > 0  # the pages received before the cut are kept, each whole
            with SyncClient(server.url, token, replica, **feed_only) as again:
                rest = again.pull(page_size=PAGE)
                resumed_bytes = again.feed_bytes
    finally:
        proxy.close()
    assert everything > TICKETS and 0 < rest < everything * 0.75  # did not start over
    assert resumed_bytes < total_bytes * 0.75
    assert replica_rows(tmp_path / "cut.db") == replica_rows(tmp_path / "whole.db")


def _schema(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def _site_with_tickets(server: RunningServer, n: int) -> tuple[Site, str]:
    site = Site.create(server)
    rows = "\n".join(f"{site.event},NORD,fan-{i},,,N-{i}" for i in range(n))
    body = f"event,zones,holder,policy,kind,seat\n{rows}\n".encode()
    ok(site.admin.post("/rights/import", content=body, headers={"content-type": "text/csv"}))
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/enrollment"), 201)["code"]
    return site, enroll(server.url, code).token


def _snapshot_ready(server: RunningServer, token: str) -> int:
    """Ask for the snapshot until the server has built it (the first ask starts the build); its
    size in bytes."""
    headers = {"Authorization": f"Bearer {token}", "Entrix-Protocol": str(protocol.PROTOCOL)}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = httpx.get(f"{server.url}/api/v1/gate/snapshot", headers=headers)
        if answer.status_code == 200:
            return len(answer.content)
        time.sleep(0.2)
    raise AssertionError("no snapshot built in 60 s")


def test_a_snapshot_started_replica_equals_a_feed_built_one_and_follows_the_feed(
    server: RunningServer, tmp_path: Path
) -> None:
    site, token = _site_with_tickets(server, 3_000)
    _snapshot_ready(server, token)
    fed = Replica(tmp_path / "fed.db")
    started = Replica(tmp_path / "started.db")
    with (
        SyncClient(server.url, token, fed, use_snapshot=False) as by_feed,
        SyncClient(server.url, token, started) as by_snapshot,
    ):
        by_feed.pull()
        assert by_snapshot.start_from_snapshot()
        assert started.cursor > 0 and started.counts().rights >= 3_000
        assert started.require_gate("NORD-1").name == "NORD-1"  # its gates, keys... at once
        assert len(started.keyring) >= 1
        by_snapshot.pull()
        assert replica_rows(started.path) == replica_rows(fed.path)
        assert started.cursor == fed.cursor
        assert _schema(started.path) == _schema(fed.path)  # its indexes too, rebuilt
        # The feed moves on: both follow it from where they are.
        sold = site.right(seat="LATE-1")
        ok(site.admin.post(f"/rights/{sold['right_id']}/revoke", json={"reason": "refund"}))
        assert by_feed.pull() >= 2 and by_snapshot.pull() >= 2
        assert replica_rows(started.path) == replica_rows(fed.path)
        assert started.right(bytes.fromhex(sold["right_id"])) is not None
    fed.close()
    started.close()


def test_a_damaged_or_cut_snapshot_is_refused_and_the_feed_fills_the_gate(
    server: RunningServer, tmp_path: Path
) -> None:
    site, token = _site_with_tickets(server, 1_500)
    size = _snapshot_ready(server, token)
    with Replica(tmp_path / "whole.db") as whole, SyncClient(server.url, token, whole) as sync:
        sync.pull()
    proxy = FaultProxy(server.port)
    proxy.mode, proxy.budget_bytes = "budget", size // 2  # the link drops half-way through it
    try:
        with Replica(tmp_path / "cut.db") as cut, SyncClient(proxy.url, token, cut) as client:
            assert not client.start_from_snapshot()
            assert cut.is_fresh
            kept = (tmp_path / "cut.db.snapshot.zst").stat().st_size
            assert kept > 0  # what came before the cut is kept...
        with Replica(tmp_path / "cut.db") as cut, SyncClient(server.url, token, cut) as client:
            assert client.start_from_snapshot()  # ...and only the rest is asked for
            assert client.feed_bytes == size - kept
            client.pull()
        assert replica_rows(tmp_path / "cut.db") == replica_rows(tmp_path / "whole.db")
        assert not list(tmp_path.glob("cut.db.snapshot*"))
    finally:
        proxy.close()
    # The server's copy damaged on its disk: its SHA-256 no longer matches.
    folder = snapshot_root(Settings(database_url=server.database_url))
    ours = max(folder.iterdir(), key=lambda f: f.stat().st_mtime)  # this venue's, just built
    damaged_at = 0
    for packed in ours.glob("*.db.zst"):
        damaged_at = max(damaged_at, int(packed.name.split(".")[0]))
        data = bytearray(packed.read_bytes())
        data[len(data) // 2] ^= 0xFF
        packed.write_bytes(bytes(data))
    with Replica(tmp_path / "damaged.db") as damaged, SyncClient(server.url, token, damaged) as c:
        assert not c.start_from_snapshot()
        assert damaged.is_fresh
        c.pull()  # the feed alone
        assert damaged.counts().rights >= 1_500
    assert replica_rows(tmp_path / "damaged.db") == replica_rows(tmp_path / "whole.db")
    # Once the feed has moved on, the server brings its snapshot forward: it finds its copy
    # damaged and builds it again from change 0; the next fresh gate starts from it.
    more = "\n".join(f"{site.event},NORD,late-{i},,,L-{i}" for i in range(1_100))
    ok(site.admin.post("/rights/import", content=f"event,zones,holder,policy,kind,seat\n{more}\n",
                       headers={"content-type": "text/csv"}))  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Entrix-Protocol": str(protocol.PROTOCOL)}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = httpx.get(f"{server.url}/api/v1/gate/snapshot", headers=headers)
        if int(answer.headers.get(protocol.SNAPSHOT_CURSOR, 0)) > damaged_at:
            break
        time.sleep(0.2)
    with Replica(tmp_path / "healed.db") as healed, SyncClient(server.url, token, healed) as c:
        assert c.start_from_snapshot()
        assert healed.counts().rights >= 1_500 + 1_100
