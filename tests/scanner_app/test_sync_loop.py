"""The sync loop in normal operation: gate to gate, clock skew, and the CLI around it."""

from __future__ import annotations

import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner_app import sync_loop
from scanner_app.checkpoint import Checkpoint
from scanner_app.replica import Replica
from scanner_app.sync_loop import SyncLoop, SyncState, backoff_delay
from shared.reasons import Reason
from tests.scanner_app.test_sync_faults import RunningLoop, enroll_gate, scan_many, wait_for
from tests.support.fault_proxy import FaultProxy
from tests.support.server import RunningServer
from tests.support.site import Site, ok
from tests.support.world import World, right
from tests.support.world import code as sign

REPO = Path(__file__).resolve().parents[2]


def test_a_right_used_at_one_gate_is_refused_at_the_other(
    server: RunningServer, tmp_path: Path
) -> None:
    site = Site.create(server)
    a = enroll_gate(site, "NORD-1", tmp_path / "a", server.url)
    b = enroll_gate(site, "NORD-2", tmp_path / "b", server.url)
    code = site.code(site.right())
    loops = [RunningLoop(a), RunningLoop(b)]
    try:
        scan_many(a, [code])
        loops[0].loop.scan_recorded()
        with Replica(b.replica_path) as replica:
            checkpoint = Checkpoint(replica, "NORD-2")

            def refused_at_b() -> bool:
                replica.refresh()
                usage = replica.usage(bytes.fromhex(_right_id(a)))
                return usage is not None and usage.entries == 1

            wait_for(refused_at_b, timeout_s=10)
            assert checkpoint.check(code).decision.reason is Reason.ALREADY_USED
    finally:
        for running in loops:
            running.stop()


def test_double_entry_while_apart_becomes_an_alert(server: RunningServer, tmp_path: Path) -> None:
    site = Site.create(server)
    proxies = [FaultProxy(server.port), FaultProxy(server.port)]
    gates = [
        enroll_gate(site, name, tmp_path / name, proxy.url)
        for name, proxy in zip(["NORD-1", "NORD-2"], proxies, strict=True)
    ]
    ticket = site.right()
    code = site.code(ticket)
    for proxy in proxies:
        proxy.mode = "down"
    loops = [RunningLoop(g) for g in gates]
    try:
        for gate in gates:
            [scan_id] = scan_many(gate, [code])
            assert scan_id
        for proxy in proxies:
            proxy.mode = "pass"

        def alerted() -> bool:
            alerts = ok(site.admin.get("/alerts", params={"kind": "double_entry"}))
            return any(a["right_id"] == ticket["right_id"] for a in alerts)

        wait_for(alerted)
    finally:
        for running in loops:
            running.stop()
        for proxy in proxies:
            proxy.close()


def test_clock_skew_is_measured_and_corrected(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "SUD-1", tmp_path, server.url)
    real = time.time
    monkeypatch.setattr(sync_loop.time, "time", lambda: real() + 5.0)
    status = SyncLoop(config).run(once=True)
    assert 4_500 < status.clock_offset_ms < 5_500
    with Replica(config.replica_path) as replica:
        assert replica.clock_offset_ms == status.clock_offset_ms
    gates = ok(site.admin.get("/gates", params={"venue": site.venue}))
    assert 4_500 < next(g for g in gates if g["name"] == "SUD-1")["status"]["skew_ms"] < 5_500
    monkeypatch.setattr(sync_loop.time, "time", lambda: real() + 1.0)  # within tolerance
    assert SyncLoop(config).run(once=True).clock_offset_ms == 0
    with Replica(config.replica_path) as replica:
        assert replica.clock_offset_ms == 0  # stored too, not only reported


def test_a_clock_put_right_drops_the_stored_correction_and_expired_tickets_stay_out(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: one sync with the clock 1 h fast stored 3,600,000 ms; once the clock was put
    right, a new process measured 0, compared it with its own 0 and never wrote it: a ticket
    that expired 30 minutes earlier was granted."""
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    now = int(time.time())
    expired = site.code(site.right(not_before=now - 7200, expires=now - 1800))
    real = time.time
    monkeypatch.setattr(sync_loop.time, "time", lambda: real() + 3600.0)
    assert 3_500_000 < SyncLoop(config).run(once=True).clock_offset_ms < 3_700_000
    monkeypatch.setattr(sync_loop.time, "time", real)  # the clock is put right
    SyncLoop(config).run(once=True)  # a new process, as after a restart
    with Replica(config.replica_path) as replica:
        assert replica.clock_offset_ms == 0
        assert Checkpoint(replica, "NORD-1").check(expired).decision.reason is Reason.EXPIRED


def test_checkpoint_decides_with_the_corrected_time(tmp_path: Path) -> None:
    """A right that expired 700 s ago (beyond 600 s of grace) by a clock that is 800 s fast."""
    world = World("sqlite", tmp_path / "gate.db")
    now = int(datetime.now(UTC).timestamp())
    scanned = sign(right(not_before=now - 3600, expires=now - 700))
    assert world.replica is not None
    checkpoint = Checkpoint(world.replica, "G-NORD")
    assert checkpoint.check(scanned).decision.reason is Reason.EXPIRED
    world.replica.set_clock_offset_ms(800_000)
    assert checkpoint.check(scanned).decision.reason is Reason.GRANTED
    world.close()


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    assert [backoff_delay(n, 0.5, 30, lambda: 1.0) for n in range(8)] == [
        0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0,
    ]  # fmt: skip
    assert backoff_delay(3, 0.5, 30, lambda: 0.25) == 1.0
    assert backoff_delay(10_000, 0.5, 30, lambda: 1.0) == 30.0


def test_enroll_sync_and_check_from_the_command_line(server: RunningServer, tmp_path: Path) -> None:
    site = Site.create(server)
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/VIP-1/enrollment"), 201)["code"]
    config = tmp_path / "terminal" / "gate.toml"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "scanner_app.cli", *args], cwd=REPO,
                              capture_output=True, text=True, check=False)  # fmt: skip

    enrolled = cli("enroll", "--server", server.url, "--code", code, "--config", str(config))
    assert enrolled.returncode == 0, enrolled.stderr
    assert "Enrolled as gate VIP-1" in enrolled.stdout
    token = config.parent / "gate.token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE((config.parent / "gate.db").stat().st_mode) == 0o600
    again = cli("enroll", "--server", server.url, "--code", code, "--config", str(config))
    assert again.returncode == 2 and "already used" in again.stderr
    vip = site.code(site.right(zones=["VIP"], policy="reentry", kind="subscription"))
    checked = cli("check", "--config", str(config), "--json", vip)
    assert checked.returncode == 0, "a signed code sold after enrollment needs no sync"
    synced = cli("sync", "--once", "--config", str(config))
    assert synced.returncode == 0 and "1 scans pushed" in synced.stdout, synced.stdout
    listed = ok(site.admin.get("/scans", params={"gate": "VIP-1"}))
    assert len(listed) == 1


def test_sync_once_without_a_server_says_offline(tmp_path: Path) -> None:
    from tests.support.postgres import free_port

    config = tmp_path / "gate.toml"
    config.write_text(
        f'[gate]\nserver = "http://127.0.0.1:{free_port()}"\nname = "X"\n[sync]\ntimeout_s = 0.5\n'
    )
    (tmp_path / "gate.token").write_text("egd_nothing\n")
    done = subprocess.run(
        [sys.executable, "-m", "scanner_app.cli", "sync", "--once", "--config", str(config)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "offline" in done.stdout and "unreachable" in done.stdout


def _right_id(config: object) -> str:
    with Replica(config.replica_path) as replica:  # type: ignore[attr-defined]
        right_id = replica.scans(limit=1)[0].right_id
    assert right_id is not None
    return right_id.hex()


def test_the_first_heartbeat_reports_the_sync_of_its_own_pass(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-pass sync (and every loop's first pass) told the server "last sync: never"."""
    from scanner_app.sync import SyncClient
    from shared.gate_wire import HeartbeatAnswer

    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    reported: list[int | None] = []
    real = SyncClient.heartbeat

    def heartbeat(self: SyncClient, **status: Any) -> HeartbeatAnswer:
        reported.append(status.get("last_sync_ms"))
        return real(self, **status)

    monkeypatch.setattr(SyncClient, "heartbeat", heartbeat)
    before = int(time.time() * 1000)
    SyncLoop(config).run(once=True)
    assert len(reported) == 1
    assert reported[0] is not None and reported[0] >= before
    gates = ok(site.admin.get("/gates", params={"venue": site.venue}))
    assert next(g for g in gates if g["name"] == "NORD-1")["last_seen_at"] is not None


def test_status_is_kept_for_the_kiosk(server: RunningServer, tmp_path: Path) -> None:
    site = Site.create(server)
    config = enroll_gate(site, "NORD-1", tmp_path, server.url)
    SyncLoop(config).run(once=True)
    with Replica(config.replica_path) as replica:
        import json

        status = json.loads(replica.get_meta("sync_status") or "{}")
    assert status["state"] == SyncState.ONLINE.value and status["last_sync_ms"] > 0


def test_enrolling_again_keeps_the_installers_sections(tmp_path: Path) -> None:
    """[relay], [kiosk] and comments written by the installer survive an enrollment."""
    from scanner_app.config import TerminalConfig

    path = tmp_path / "gate.toml"
    path.write_text(
        '# site: Radès\n[gate]\nserver = "http://old"\n\n'
        '[relay]\n# the LCUS board in the pillar\ndriver = "lcus"\nport = "/dev/entrix-relay"\n'
        '\n[kiosk]\nlanguage = "ar"\n'
    )
    config = TerminalConfig.load(path)
    config.server, config.venue, config.gate = "http://10.0.0.5:8000", "RADES", "NORD-1"
    config.save()
    text = path.read_text()
    assert "# the LCUS board in the pillar" in text and 'port = "/dev/entrix-relay"' in text
    again = TerminalConfig.load(path)
    assert (again.server, again.venue, again.gate) == ("http://10.0.0.5:8000", "RADES", "NORD-1")
    assert again.kiosk.language == "ar"
    assert 'server = "http://old"' not in text
