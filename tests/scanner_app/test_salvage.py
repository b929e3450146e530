"""A damaged replica decides nothing (issue 14): it is found at start, moved aside with its
scans kept, and rebuilt from the server; a gate that cannot rebuild stays shut."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from scanner_app.checkpoint import Checkpoint
from scanner_app.cli import EXIT_ERROR, main
from scanner_app.config import TerminalConfig
from scanner_app.journal import journal_path
from scanner_app.replica import Replica, ReplicaDamaged, ReplicaError
from scanner_app.salvage import REBUILD_PENDING, open_sound
from scanner_app.sync import SyncError
from shared.model import RightKind
from shared.reasons import Reason
from tests.scanner_app.test_sync_faults import enroll_gate, scan_many
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.support.world import World, right

USED = 200


def flip_bits_in_table(path: Path, table: str, flips: int = 24) -> None:
    """Single-bit flips in the header of a table's root page, as a failing SD card makes."""
    with sqlite3.connect(path) as db:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size + (100 if root == 1 else 0)
    for i in range(flips):
        data[start + 1 + i % 11] ^= 1 << (i % 8)
    path.write_bytes(bytes(data))


def test_bit_flips_in_the_usage_pages_are_found_and_nobody_gets_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World("sqlite", tmp_path / "gate.db")
    for i in range(USED):
        world.sell(right(secret=f"PLAIN-{i:04d}", kind=RightKind.STAFF))  # no capacity limit
        assert world.scan(f"PLAIN-{i:04d}").granted
    world.close()
    flip_bits_in_table(tmp_path / "gate.db", "usage")
    with pytest.raises(ReplicaDamaged, match="damaged"):
        Replica(tmp_path / "gate.db", check=True)
    # Not enrolled: nothing to rebuild from. Refused, with a message, and nothing recorded.
    status = main(["check", "--db", str(tmp_path / "gate.db"), "PLAIN-0007"])
    said = capsys.readouterr()
    assert status == EXIT_ERROR
    assert "is damaged" in said.err and "decides nothing" in said.err
    assert "GRANTED" not in said.out
    assert (tmp_path / "gate.db").exists()  # left for the installer


def test_an_enrolled_gate_salvages_its_scans_and_rebuilds_from_the_server(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path / "gate", server.url)
    codes = [site.code(site.right()) for _ in range(30)]
    scan_many(config, codes[:20])
    from scanner_app.sync_loop import SyncLoop

    SyncLoop(config).run(once=True)  # 20 entries on the server
    scan_many(config, codes[20:])  # 10 more, offline: on this gate only
    flip_bits_in_table(config.replica_path, "usage")

    open_sound(config)
    (aside,) = [p for p in config.replica_path.parent.glob("gate.db.damaged-*")
                if not p.name.endswith(("-wal", "-shm"))]  # fmt: skip
    with pytest.raises(sqlite3.DatabaseError):  # kept as it was, for the installer
        sqlite3.connect(aside).execute("SELECT count(*) FROM usage").fetchone()
    with Replica(config.replica_path, check=True) as replica:
        assert replica.counts().scans == 30 and replica.counts().scans_pending == 0
        assert replica.get_meta(REBUILD_PENDING) is None
        gate = Checkpoint(replica, "NORD-1")
        for code in (codes[0], codes[25]):  # used before and after the last sync
            assert gate.check(code).decision.reason is Reason.ALREADY_USED


def test_a_gate_that_cannot_rebuild_stays_shut_and_rebuilds_when_it_can(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "SUD-1", tmp_path / "gate", server.url)
    code = site.code(site.right(zones=["SUD"]))
    flip_bits_in_table(config.replica_path, "usage")
    away = TerminalConfig.load(config.path)
    away.server = "http://127.0.0.1:9"  # the server cannot be reached
    with pytest.raises(SyncError):
        open_sound(away)
    with Replica(config.replica_path) as replica:
        assert replica.counts().rights == 0 and replica.get_meta(REBUILD_PENDING)
        with pytest.raises(ReplicaError, match="no gate named"):
            Checkpoint(replica, "SUD-1")  # nobody is let in: the gate cannot even start
    open_sound(config)  # the server is back: the unfinished rebuild is done at the next start
    with Replica(config.replica_path) as replica:
        assert Checkpoint(replica, "SUD-1").check(code).decision.granted


@pytest.mark.parametrize(
    ("how", "journal"),
    [("empty", True), ("missing", True), ("another gate's", True), ("empty", False)],
)
def test_a_lost_replica_is_never_taken_for_a_fresh_one_and_the_server_is_told(
    server: RunningServer,
    tmp_path: Path,
    how: str,
    journal: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 14: 50 tickets admitted offline, the replica truncated to 0 bytes: `sync --once`
    printed "0 waiting", exited 0, and nobody ever learned of the 50 scans. Now its journal
    gives the unsent ones back; without it (wiped too), the supervisors are told they are lost."""
    from scanner_app.sync_loop import SyncLoop

    site = Site.create(server)
    config = enroll_gate(site, "NORD-2", tmp_path / "gate", server.url)
    codes = [site.code(site.right()) for _ in range(50)]
    scan_many(config, codes)
    SyncLoop(config).run(once=True)  # uploaded, and the heartbeat says 0 waiting...
    more = [site.code(site.right()) for _ in range(3)]
    scan_many(config, more)  # ...then 3 more offline
    with Replica(config.replica_path) as replica:
        pending = replica.counts().scans_pending
    assert pending == 3
    if not journal:
        journal_path(config.replica_path).unlink()
    if how == "empty":
        config.replica_path.write_bytes(b"")
    elif how == "missing":
        config.replica_path.unlink()
    else:
        with Replica(config.replica_path) as replica:
            replica.set_meta("gate_name", "SUD-1")
    status = main(["sync", "--once", "--config", str(config.path)])
    said = capsys.readouterr()
    assert status == 0, said.err
    assert "the server is told" in said.err
    if journal:
        assert "3 scans it had not uploaded are recovered from its journal" in said.err
    else:
        assert "scans it had not uploaded are lost (its journal holds none)" in said.err
    alerts = [
        a for a in ok(site.admin.get("/alerts", params={"kind": "replica_lost"}))
        if a["gate"] == "NORD-2" and "lost its replica" in a["message"]
    ]  # fmt: skip
    assert alerts and alerts[0]["severity"] == 3
    assert "waiting to upload at its last heartbeat" in alerts[0]["message"]
    with Replica(config.replica_path, check=True) as replica:
        assert replica.get_meta("replica_lost") is None and replica.counts().rights > 0
        assert Checkpoint(replica, "NORD-2").check(codes[0]).decision.reason is Reason.ALREADY_USED
        # The 3 offline entries: back on the server from the journal (used), or lost (not).
        again = Checkpoint(replica, "NORD-2").check(more[0]).decision.reason
        assert again is (Reason.ALREADY_USED if journal else Reason.GRANTED)
    if journal:
        assert "3 unsent scans recovered from its journal" in alerts[0]["message"]


def test_a_running_gate_that_finds_its_replica_damaged_stops_deciding(
    server: RunningServer, tmp_path: Path
) -> None:
    """The check also runs while the gate runs (every 10 minutes, and on any 'malformed' error):
    the sync loop stops, and the kiosk answers every scan 'out of order' without deciding."""
    from scanner_app.i18n import REPLICA_DAMAGED
    from scanner_app.sync_loop import SyncLoop, SyncState
    from tests.scanner_app.ui.support import demo_site, fast_turnstile, make_kiosk

    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path / "gate", server.url)
    scan_many(config, [site.code(site.right()) for _ in range(5)])
    SyncLoop(config).run(once=True)  # usage rows in their pages
    flip_bits_in_table(config.replica_path, "usage")
    status = SyncLoop(config).run(once=True)  # opened without the start's check
    assert status.state is SyncState.DAMAGED and "damaged" in status.last_error

    import queue

    demo = demo_site(tmp_path / "kiosk")
    turnstile = fast_turnstile()
    kiosk = make_kiosk(demo, source=None, turnstile=turnstile)
    box: queue.Queue[object] = queue.Queue()
    kiosk.answered.connect(box.put)
    kiosk.start()
    try:
        kiosk.on_sync_status(status)
        kiosk.submit(demo.code("home-ticket"))
        answer = box.get(timeout=5)
        assert answer.reason == REPLICA_DAMAGED and not answer.granted  # type: ignore[attr-defined]
        assert turnstile.relay.history == []  # type: ignore[attr-defined]
        assert kiosk.recent_scans() == []
    finally:
        kiosk.stop()
