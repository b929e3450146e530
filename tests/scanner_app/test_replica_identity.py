"""A replica knows how far its device's records go (issue 14): every record of the scan log gets
the device's next sequence number, the server keeps the highest it has stored or heard of, and a
gate running on an older copy of its file (put back from a backup, a cloned SD card) is told at
its next heartbeat: it decides nothing until it has resynced, a supervisor may still open by
hand (audited), and the supervisors are told what may be lost."""

from __future__ import annotations

import queue
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from scanner_app.checkpoint import Checkpoint
from scanner_app.config import TerminalConfig
from scanner_app.i18n import REPLICA_REBUILDING
from scanner_app.kiosk import Answer, Kiosk
from scanner_app.replica import Replica
from scanner_app.salvage import REBUILD_PENDING, open_sound, salvage
from scanner_app.sync import SyncClient
from scanner_app.sync_loop import SyncLoop, SyncState
from shared.i18n import Language
from shared.model import Direction, Logged, RightKind, ScanRecord
from shared.reasons import Reason
from sync_server.dashboard import snapshot
from sync_server.dashboard.render import TileRenderer, speakers
from sync_server.db import make_engine
from tests.scanner_app.test_salvage import flip_bits_in_table
from tests.scanner_app.test_sync_faults import enroll_gate, scan_many, wait_for
from tests.scanner_app.ui.support import fast_turnstile
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.support.world import NOW, World, right


class Alerts:
    """The alerts raised for one gate since this was made: the module's tests share a server,
    and each site's gates have the same names."""

    def __init__(self, site: Site, gate: str) -> None:
        self.site, self.gate = site, gate
        self.before = {a["id"] for a in self._all(None)}

    def _all(self, kind: str | None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        return list(ok(self.site.admin.get("/alerts", params={**params, "limit": 1000})))

    def __call__(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self._all(kind) if a["gate"] == self.gate and a["id"] not in self.before]


def test_every_record_of_the_log_takes_the_next_number(tmp_path: Path) -> None:
    world = World("sqlite", tmp_path / "gate.db")
    world.sell(right(secret="PLAIN-0001", kind=RightKind.STAFF))
    world.close()
    with Replica(tmp_path / "gate.db") as replica:
        assert replica.scan_seq == 0
        gate = Checkpoint(replica, "G-NORD")
        granted = gate.check("PLAIN-0001", NOW)
        assert granted.decision.granted
        refused = gate.check("NO-SUCH-CODE")
        event = replica.record_event(
            ScanRecord(
                scan_id="7a4c9f0e-0000-4000-8000-000000000001",
                gate="G-NORD",
                direction=Direction.IN,
                reason=Logged.MANUAL_OPEN.value,
                scanned_at_ms=1,
                operator="A. Trabelsi",
            )
        )
        annulment = replica.annul(
            granted.record, reason=Logged.NOT_PASSED.value, scanned_at=datetime.now(UTC)
        )
        numbers = [granted.record.seq, refused.record.seq, event.seq, annulment.seq]
        assert numbers == [1, 2, 3, 4] and replica.scan_seq == 4
        assert sorted(s.seq or 0 for s in replica.scans(limit=10)) == [1, 2, 3, 4]  # as read back
        # Told the server holds more (a rebuilt replica): the next record comes after it.
        replica.raise_scan_seq(40)
        replica.raise_scan_seq(7)  # never lowered
        assert gate.check("NO-SUCH-CODE").record.seq == 41 == replica.scan_seq


def test_a_salvage_keeps_each_records_number(tmp_path: Path) -> None:
    world = World("sqlite", tmp_path / "gate.db")
    for i in range(30):
        world.sell(right(secret=f"PLAIN-{i:04d}", kind=RightKind.STAFF))
        assert world.scan(f"PLAIN-{i:04d}").granted
    world.close()
    with Replica(tmp_path / "gate.db") as replica:
        before = {s.scan_id: s.seq for s in replica.scans(limit=100)}
    flip_bits_in_table(tmp_path / "gate.db", "usage")
    salvage(tmp_path / "gate.db")
    with Replica(tmp_path / "gate.db", check=True) as replica:
        assert {s.scan_id: s.seq for s in replica.scans(limit=100)} == before
        assert replica.scan_seq == 30


def backup(path: Path, to: Path) -> None:
    """A consistent copy of a live replica, as a nightly backup (or a cloned card) takes it."""
    source, copy = sqlite3.connect(path), sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


def put_back(copy: Path, path: Path) -> None:
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    path.write_bytes(copy.read_bytes())


def test_an_older_copy_of_the_replica_is_found_and_the_gate_refuses_until_resynced(
    server: RunningServer, tmp_path: Path
) -> None:
    """The landed release took an older copy of its replica for its own: the ticket it had
    admitted since the copy was admitted again."""
    site = Site.create(server)
    alerts = Alerts(site, "NORD-1")
    config = enroll_gate(site, "NORD-1", tmp_path / "gate", server.url)
    codes = [site.code(site.right()) for _ in range(23)]
    scan_many(config, codes[:10])
    SyncLoop(config).run(once=True)
    backup(config.replica_path, tmp_path / "copy.db")  # records 1 to 10, all uploaded
    scan_many(config, codes[10:20])
    SyncLoop(config).run(once=True)  # the server holds records up to 20
    unsent = scan_many(config, codes[20:])  # 21 to 23, not uploaded...
    with Replica(config.replica_path) as replica:
        SyncClient(config.server, config.token(), replica).heartbeat()  # ...but heard of
    put_back(tmp_path / "copy.db", config.replica_path)

    with Replica(config.replica_path) as replica:
        # The copy alone cannot tell: it would admit the ticket used at record 15 again.
        assert Checkpoint(replica, "NORD-1").check(codes[15], record=False).decision.granted
        assert replica.scan_seq == 10
    open_sound(config)  # the file is sound and the gate's own: nothing to see at start

    loop = SyncLoop(config)
    status = loop.run(once=True)  # its heartbeat is answered: the server knows 23
    assert status.rebuild_pending
    with Replica(config.replica_path) as replica:
        assert replica.get_meta(REBUILD_PENDING) is not None
        assert replica.scan_seq == 23  # what it makes next is numbered after the lost ones

    raised = alerts("replica_lost")
    assert len(raised) == 1 and raised[0]["severity"] == 3
    message = raised[0]["message"]
    assert "older than it had made" in message
    assert "3 scans waiting" in message and "numbers 21 to 23 may be lost" in message

    status = SyncLoop(config).run(once=True)  # the resync: scans sent, the feed pulled
    assert status.state is SyncState.ONLINE and not status.rebuild_pending
    with Replica(config.replica_path) as replica:
        assert replica.get_meta(REBUILD_PENDING) is None
        gate = Checkpoint(replica, "NORD-1")
        again = gate.check(codes[15])
        assert again.decision.reason is Reason.ALREADY_USED
        assert again.record.seq == 24
    SyncLoop(config).run(once=True)
    # The newer file's unsent scans were in the journal beside it: put back and uploaded.
    stored = ok(site.admin.get("/scans", params={"gate": "NORD-1", "limit": 1000}))
    assert set(unsent) <= {s["scan_id"] for s in stored}
    assert len(alerts("replica_lost")) == 1  # raised once


def test_a_new_replica_numbers_on_from_what_the_server_knows(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    alerts = Alerts(site, "NORD-2")
    config = enroll_gate(site, "NORD-2", tmp_path / "gate", server.url)
    scan_many(config, [site.code(site.right()) for _ in range(12)])
    SyncLoop(config).run(once=True)
    config.replica_path.unlink()
    open_sound(config)  # lost: started over, the server told, rebuilt
    with Replica(config.replica_path) as replica:
        assert replica.scan_seq == 12 and replica.counts().scans == 0
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.ONLINE and not status.rebuild_pending
    with Replica(config.replica_path) as replica:  # whose it is: venue, gate, enrollment
        assert (replica.get_meta("venue"), replica.gate_name) == (site.venue, "NORD-2")
        assert replica.get_meta("device") == sha256(config.token().encode()).hexdigest()[:12]
        assert replica.get_meta("server_epoch")
    lost = alerts("replica_lost")
    assert len(lost) == 1 and "lost its replica" in lost[0]["message"]  # no second, "behind" one


def gate_kiosk(config: TerminalConfig) -> Kiosk:
    """The kiosk of an enrolled gate, with a simulated turnstile and no camera."""
    return Kiosk(
        replica_path=config.replica_path,
        gate_name=config.gate,
        turnstile=fast_turnstile(),
        sync_config=config,
        venue=config.venue,
    )


def test_a_kiosk_whose_replica_must_be_rebuilt_answers_out_of_order_and_lets_a_supervisor_open(
    server: RunningServer, tmp_path: Path
) -> None:
    """The landed release's kiosk did not even start while the server was away (the rebuild
    needed it first): the controller saw nothing, and nobody could open by hand."""
    site = Site.create(server)
    config = enroll_gate(site, "SUD-1", tmp_path / "gate", server.url)
    code = site.code(site.right(zones=["SUD"]))
    config.replica_path.unlink()
    away = TerminalConfig.load(config.path)
    away.server = "http://127.0.0.1:9"  # the server cannot be reached
    said = open_sound(away, rebuild_later=True)
    assert any("admits nobody" in line for line in said)

    kiosk = gate_kiosk(away)
    answers: queue.Queue[Answer] = queue.Queue()
    kiosk.answered.connect(answers.put)
    kiosk.start()
    try:
        wait_for(lambda: kiosk.status().rebuilding)
        kiosk.submit(code)
        answer = answers.get(timeout=5)
        assert (answer.reason, answer.granted) == (REPLICA_REBUILDING, False)
        assert kiosk.turnstile is not None and kiosk.turnstile.relay.history == []  # type: ignore[attr-defined]
        opened = kiosk.manual_open("A. Trabelsi", "steward, badge at the desk")
        assert opened.seq == 1 and opened.operator == "A. Trabelsi"
        assert [s.reason for s in kiosk.recent_scans()] == [Logged.MANUAL_OPEN.value]
    finally:
        kiosk.stop()

    kiosk = gate_kiosk(config)  # the server answers again
    kiosk.answered.connect(answers.put)
    kiosk.start()
    try:
        wait_for(lambda: not kiosk.status().rebuilding and kiosk.status().online)
        kiosk.submit(code)
        assert answers.get(timeout=5).granted
    finally:
        kiosk.stop()
    audited = ok(site.admin.get("/scans", params={"gate": "SUD-1", "limit": 10}))
    manual = [s for s in audited if s["reason"] == Logged.MANUAL_OPEN.value]
    assert manual and manual[0]["operator"] == "A. Trabelsi"


def tile_of(site: Site, gate: str, *, now: datetime | None = None) -> tuple[Any, str]:
    """The gate's dashboard tile as the server would show it ``now``, and its HTML."""
    engine = make_engine(site.server.database_url)
    try:
        with Session(engine) as session:
            snap = snapshot.take(session, silent_after_s=60, unchecked_after_s=6 * 3600, now=now)
    finally:
        engine.dispose()
    html, _ = TileRenderer().render(snap, speakers()[Language.EN])
    (venue,) = [v for v in snap.venues if v.code == site.venue]
    tile = next(g for g in venue.gates if g.name == gate)
    return tile, html[f"{venue.code}/{gate}"]


def test_a_gate_that_finds_its_replica_damaged_says_so_on_its_tile(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    alerts = Alerts(site, "NORD-1")
    config = enroll_gate(site, "NORD-1", tmp_path / "gate", server.url)
    scan_many(config, [site.code(site.right()) for _ in range(5)])
    scan_many(config, [site.code(site.right()) for _ in range(2)])
    SyncLoop(config).run(once=True)
    scan_many(config, [site.code(site.right()) for _ in range(2)])  # 2 waiting
    with Replica(config.replica_path) as replica:
        SyncClient(config.server, config.token(), replica).heartbeat()
    flip_bits_in_table(config.replica_path, "usage")
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.DAMAGED

    tile, html = tile_of(site, "NORD-1")
    assert tile.replica == "damaged" and "Data damaged: admits nobody" in html
    assert tile.outbox == 2  # what it said before, not read from the damaged file
    damaged = alerts("replica_damaged")
    assert len(damaged) == 1 and "restart it" in damaged[0]["message"]
    assert alerts("replica_lost") == []  # no "behind" taken from it

    open_sound(config)  # the restart: salvaged and rebuilt
    SyncLoop(config).run(once=True)
    tile, html = tile_of(site, "NORD-1")
    assert tile.replica == "ok" and "Data damaged" not in html


def test_a_gate_back_after_hours_on_an_unchecked_clock_is_raised(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    alerts = Alerts(site, "SUD-1")
    config = enroll_gate(site, "SUD-1", tmp_path / "gate", server.url)
    status = SyncLoop(config).run(once=True)
    assert status.clock_verified_ms is not None
    checked_at = datetime.fromtimestamp(status.clock_verified_ms / 1000, UTC)
    # A restart remembers when the clock was last checked (the kept status), server or not.
    away = TerminalConfig.load(config.path)
    away.server = "http://127.0.0.1:9"
    assert SyncLoop(away).run(once=True).clock_verified_ms == status.clock_verified_ms

    # Seven hours later, the dashboard says the gate's clock went unchecked...
    tile, html = tile_of(site, "SUD-1", now=checked_at + timedelta(hours=7))
    assert tile.clock_unchecked and "Clock unchecked since its last heartbeat" in html
    tile, _ = tile_of(site, "SUD-1", now=checked_at + timedelta(hours=5))
    assert not tile.clock_unchecked
    # ...and when it is back, the supervisors are told how long it decided on it.
    with Replica(config.replica_path) as replica:
        seven_hours_ago = int(time.time() * 1000) - 7 * 3600 * 1000
        SyncClient(config.server, config.token(), replica).heartbeat(
            clock_verified_ms=seven_hours_ago
        )
    raised = alerts("clock_unverified")
    assert len(raised) == 1 and "7.0 h without checking its clock" in raised[0]["message"]
