"""The sync loop against a real server process that fails in every way a network can.

After each fault: every scan is on the server exactly once, and the gate's replica equals the
server's view (a replica built afresh from the whole feed).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scanner_app.checkpoint import Checkpoint
from scanner_app.config import SyncSettings, TerminalConfig
from scanner_app.replica import Replica
from scanner_app.sync import SyncClient, enroll
from scanner_app.sync_loop import SyncLoop, SyncState
from shared.reasons import Reason
from tests.support.fault_proxy import FaultProxy
from tests.support.server import RunningServer, gate_server, start_server
from tests.support.site import Site, ok

REPO = Path(__file__).resolve().parents[2]
FAST = SyncSettings(
    poll_interval_s=0.5,
    heartbeat_interval_s=0.5,
    timeout_s=1.0,
    upload_batch=50,
    backoff_base_s=0.05,
    backoff_cap_s=0.3,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of its own for each test: these tests kill it."""
    running = start_server(f"sqlite:///{tmp_path}/server.db", tmp_path / "server.log")
    yield running
    running.stop()


@pytest.fixture
def proxy(server: RunningServer) -> Iterator[FaultProxy]:
    faulty = FaultProxy(server.port)
    yield faulty
    faulty.close()


def enroll_gate(site: Site, gate: str, folder: Path, server_url: str) -> TerminalConfig:
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/{gate}/enrollment"), 201)["code"]
    enrolled = enroll(server_url, code)
    config = TerminalConfig(folder / "gate.toml", server=server_url, venue=enrolled.venue,
                            gate=enrolled.gate, sync=FAST)  # fmt: skip
    config.save()
    config.save_token(enrolled.token)
    with Replica(config.replica_path) as replica:
        SyncClient(server_url, enrolled.token, replica).pull()
        replica.set_gate_name(gate)
    return config


class RunningLoop:
    def __init__(self, config: TerminalConfig) -> None:
        self.loop = SyncLoop(config, rng=lambda: 1.0)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.stop()
        self.thread.join(10)
        assert not self.thread.is_alive()


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def scan_many(config: TerminalConfig, codes: list[str]) -> list[str]:
    with Replica(config.replica_path) as replica:
        checkpoint = Checkpoint(replica, config.gate)
        return [checkpoint.check(code).record.scan_id for code in codes]


def pending(config: TerminalConfig) -> int:
    with Replica(config.replica_path) as replica:
        return replica.counts().scans_pending


def assert_converged(site: Site, config: TerminalConfig, folder: Path) -> None:
    """Every local scan is on the server exactly once; the replica equals the server's view."""
    with Replica(config.replica_path) as replica:
        SyncClient(config.server, config.token(), replica).pull()
        local = {s.scan_id for s in replica.scans(limit=1_000_000)}
        assert replica.counts().scans_pending == 0
    listed = ok(site.admin.get("/scans", params={"gate": config.gate, "limit": 10_000}))
    on_server = [s["scan_id"] for s in listed]
    assert len(on_server) == len(set(on_server))
    assert set(on_server) == local
    fresh = folder / f"fresh-{time.monotonic_ns()}.db"
    with Replica(fresh) as view:
        SyncClient(config.server, config.token(), view).pull()
    assert _contents(config.replica_path) == _contents(fresh)


def _contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    queries = {
        "rights": "SELECT right_id, event, zones, secret FROM rights ORDER BY right_id",
        "revocations": "SELECT right_id FROM revocations ORDER BY right_id",
        "blacklist": "SELECT ban_id, subject FROM blacklist ORDER BY ban_id",
        "keys": "SELECT kid FROM keys ORDER BY kid",
        "zones": "SELECT code, parent, capacity FROM zones ORDER BY code",
        "gates": "SELECT name, zones, enabled FROM gates ORDER BY name",
        "usage": "SELECT right_id, entries, inside, zone, last_scan_at FROM usage ORDER BY 1",
        "occupancy": "SELECT zone, count FROM occupancy WHERE count > 0 ORDER BY zone",
    }
    with sqlite3.connect(path) as db:
        return {name: db.execute(sql).fetchall() for name, sql in queries.items()}


def test_server_killed_during_upload_then_restarted(
    server: RunningServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, proxy.url)
    codes = [site.code(r) for r in _rights(site, 400)]
    proxy.mode = "down"  # scanned while the server is away: a backlog builds up
    scan_many(config, codes)
    running = RunningLoop(config)
    proxy.mode = "pass"
    wait_for(lambda: pending(config) < 350)  # some batches are in
    server.stop(kill=True)  # SIGKILL in the middle of the upload
    time.sleep(0.5)
    assert pending(config) > 0
    server.start()
    wait_for(lambda: pending(config) == 0)
    running.stop()
    assert_converged(site, config, tmp_path)


def test_gate_keeps_scanning_while_the_server_is_unreachable(
    server: RunningServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, proxy.url)
    rights = _rights(site, 30)
    codes = [site.code(r) for r in rights]
    running = RunningLoop(config)
    proxy.mode = "down"
    wait_for(lambda: running.loop.status.state is SyncState.OFFLINE)
    with Replica(config.replica_path) as replica:
        checkpoint = Checkpoint(replica, config.gate)
        assert all(checkpoint.check(c).decision.granted for c in codes)
        assert checkpoint.check(codes[0]).decision.reason is Reason.ALREADY_USED
    time.sleep(1.0)  # several failed rounds, backing off
    assert running.loop.status.failures >= 2
    assert pending(config) == 31
    proxy.mode = "pass"
    wait_for(lambda: pending(config) == 0)
    wait_for(lambda: running.loop.status.state is SyncState.ONLINE)
    running.stop()
    assert_converged(site, config, tmp_path)


def test_slow_server_times_out_then_catches_up(
    server: RunningServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, proxy.url)
    scan_many(config, [site.code(r) for r in _rights(site, 20)])
    proxy.mode, proxy.delay_s = "slow", 2.5  # beyond the gate's 1 s timeout
    running = RunningLoop(config)
    wait_for(lambda: running.loop.status.failures >= 2)
    assert "timed out" in running.loop.status.last_error
    proxy.mode = "pass"
    wait_for(lambda: pending(config) == 0)
    running.stop()
    assert_converged(site, config, tmp_path)


@pytest.mark.parametrize("mode", ["truncate", "garbage"])
def test_truncated_or_garbage_answers(
    server: RunningServer, proxy: FaultProxy, tmp_path: Path, mode: str
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, proxy.url)
    rights = _rights(site, 20)
    cursor_before = _cursor(config)
    proxy.mode = mode
    running = RunningLoop(config)
    scan_many(config, [site.code(r) for r in rights])
    wait_for(lambda: running.loop.status.failures >= 3)
    assert running.loop.status.state is SyncState.OFFLINE
    assert _cursor(config) == cursor_before, "a broken page must not move the cursor"
    proxy.mode = "pass"
    wait_for(lambda: pending(config) == 0 and running.loop.status.state is SyncState.ONLINE)
    running.stop()
    assert_converged(site, config, tmp_path)


def test_revoked_token_stops_syncing_and_says_so(server: RunningServer, tmp_path: Path) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    running = RunningLoop(config)
    wait_for(lambda: running.loop.status.state is SyncState.ONLINE)
    ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/revoke-devices"))
    site.right()  # a change: the loop pulls and is refused
    wait_for(lambda: running.loop.status.state is SyncState.REVOKED)
    running.thread.join(10)
    assert not running.thread.is_alive(), "a revoked gate stops syncing"
    assert "revoked" in running.loop.status.last_error
    done = subprocess.run(
        [sys.executable, "-m", "scanner_app.cli", "sync", "--once", "--config", str(config.path)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 3
    assert "revoked" in done.stdout


def test_gate_killed_between_decision_and_upload(server: RunningServer, tmp_path: Path) -> None:
    """A gate process decides, records, and dies by SIGKILL before any upload: nothing is lost."""
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    codes = [site.code(r) for r in _rights(site, 10)]
    script = textwrap.dedent(
        f"""
        from scanner_app.checkpoint import Checkpoint
        from scanner_app.replica import Replica
        checkpoint = Checkpoint(Replica({str(config.replica_path)!r}), "NORD-1")
        for code in {codes!r}:
            print(checkpoint.check(code).record.scan_id, flush=True)
        import time
        time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=REPO)  # fmt: skip
    assert child.stdout is not None
    decided = [child.stdout.readline().strip() for _ in codes]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert len(set(decided)) == 10
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.ONLINE and status.pushed == 10
    assert_converged(site, config, tmp_path)


def _rights(site: Site, n: int) -> list[dict[str, object]]:
    rows = "\n".join(["event,zones"] + [f"{site.event},NORD" for _ in range(n)])
    report = ok(
        site.admin.post("/rights/import", content=rows, headers={"content-type": "text/csv"})
    )
    return [{"right_id": right_id} for right_id in report["right_ids"]]


def _cursor(config: TerminalConfig) -> int:
    with Replica(config.replica_path) as replica:
        return replica.cursor


def test_server_restored_from_an_older_backup(server: RunningServer, tmp_path: Path) -> None:
    """The server loses its last changes and scans to a restore: the gate resyncs, resends."""
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    database = Path(server.database_url.removeprefix("sqlite:///"))
    server.stop()
    backup = tmp_path / "backup"
    backup.mkdir()
    for suffix in ("", "-wal", "-shm"):  # the file and its write-ahead log, as the server left them
        if Path(f"{database}{suffix}").exists():
            (backup / f"db{suffix}").write_bytes(Path(f"{database}{suffix}").read_bytes())
    server.start()
    codes = [site.code(r) for r in _rights(site, 5)]
    scan_many(config, codes)
    status = SyncLoop(config).run(once=True)
    assert status.pushed == 5
    assert _cursor(config) > 0
    server.stop()
    for suffix in ("", "-wal", "-shm"):  # the restore: those 5 rights and scans are gone
        Path(f"{database}{suffix}").unlink(missing_ok=True)
        if (backup / f"db{suffix}").exists():
            Path(f"{database}{suffix}").write_bytes((backup / f"db{suffix}").read_bytes())
    server.start()
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.ONLINE, status.last_error
    listed = ok(site.admin.get("/scans", params={"gate": "NORD-1"}))
    assert len(listed) == 5, "the scans the restore lost came back from the gate"
    assert_converged(site, config, tmp_path)
    with Replica(config.replica_path) as replica:
        assert replica.gate_name == "NORD-1"
        assert replica.counts().rights == 0, "rights the server no longer knows are gone"
        assert Checkpoint(replica, "NORD-1").check(codes[0]).decision.reason is Reason.ALREADY_USED


def test_refusals_lost_by_a_restore_come_back_once_the_database_is_marked_restored(
    server: RunningServer, tmp_path: Path
) -> None:
    """Refused scans move no cursor: only the new epoch that `gate-server mark-restored` (run by
    entrix-restore) gives the restored database tells the gate to send them again."""
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    assert SyncLoop(config).run(once=True).state is SyncState.ONLINE  # the epoch is recorded
    database = Path(server.database_url.removeprefix("sqlite:///"))
    server.stop()
    backup = tmp_path / "backup.db"
    with sqlite3.connect(database) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)  # as entrix-backup does
    server.start()
    refused = scan_many(config, ["EG1:not-a-ticket", "EG1:forged"])
    status = SyncLoop(config).run(once=True)
    assert status.pushed == 2
    before = _cursor(config)
    server.stop()
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(backup.read_bytes())  # the restore: the two refusals are gone
    server.start()
    assert ok(site.admin.get("/scans", params={"gate": "NORD-1"})) == []
    # Unmarked, nothing tells the gate: its cursor is not ahead of the restored feed.
    SyncLoop(config).run(once=True)
    assert _cursor(config) == before
    assert ok(site.admin.get("/scans", params={"gate": "NORD-1"})) == []
    server.stop()
    gate_server("mark-restored", database_url=server.database_url)
    server.start()
    status = SyncLoop(config).run(once=True)
    assert status.state is SyncState.ONLINE, status.last_error
    listed = ok(site.admin.get("/scans", params={"gate": "NORD-1"}))
    assert sorted(s["scan_id"] for s in listed) == sorted(refused)
    assert_converged(site, config, tmp_path)
    audit = ok(site.admin.get("/audit", params={"action": "server.restored"}))
    assert [e["actor"] for e in audit] == ["cli"]


def test_a_gate_cut_off_with_scans_waiting_is_back_before_its_backoff_says(
    server: RunningServer, tmp_path: Path
) -> None:
    """Issue 14: after a link reset the loop waited out its backoff (30 s capped) before it tried
    again; its light /health probes bring it back as soon as the server answers."""
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    config.sync = SyncSettings(poll_interval_s=30, heartbeat_interval_s=30, timeout_s=1.0,
                               backoff_base_s=20, backoff_cap_s=30)  # fmt: skip
    codes = [site.code(r) for r in _rights(site, 5)]
    running = RunningLoop(config)  # rng 1.0: the backoff is exactly 30 s after a failure
    try:
        wait_for(lambda: running.loop.status.state is SyncState.ONLINE)
        server.stop()
        scan_many(config, codes)
        running.loop.scan_recorded()
        wait_for(lambda: running.loop.status.state is SyncState.OFFLINE)
        backoff_ends = running.loop._schedule.retry_at
        server.start()
        wait_for(lambda: pending(config) == 0, timeout_s=15)  # half the backoff: the probe did it
        assert time.monotonic() < backoff_ends
    finally:
        running.stop()


def test_a_jump_of_the_wall_clock_moves_the_correction_at_once_even_offline(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: someone sets the gate's clock 1 h ahead while it is cut off. The boot clock
    shows the jump at once: the correction moves by it, and decisions keep the server's time."""
    from scanner_app import sync_loop

    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    running = RunningLoop(config)
    try:
        wait_for(lambda: running.loop.status.state is SyncState.ONLINE)
        server.stop()  # no heartbeat can measure it: only the jump itself tells
        real = time.time
        monkeypatch.setattr(sync_loop.time, "time", lambda: real() + 3600.0)
        running.loop.scan_recorded()  # a pass soon
        wait_for(lambda: 3_599_000 < running.loop.status.clock_offset_ms < 3_601_000)
        with Replica(config.replica_path) as replica:
            assert 3_599_000 < replica.clock_offset_ms < 3_601_000
    finally:
        running.stop()
