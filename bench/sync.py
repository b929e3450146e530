"""Issue 4's figures: a gate catching up, uploading a backlog, its memory, gate-to-gate latency.

Everything runs against a real ``gate-server`` process (uvicorn, SQLite on a real disk) and real
gate replicas; ``python -m bench.sync --write docs/BENCHMARKS.md`` records section ``sync``.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median, percentile
from scanner_app.checkpoint import Checkpoint
from scanner_app.config import SyncSettings, TerminalConfig
from scanner_app.replica import Replica
from scanner_app.sync import SyncClient, enroll
from scanner_app.sync_loop import SyncLoop
from tests.support.server import RunningServer, start_server
from tests.support.site import Site, ok

CATCH_UP_CHANGES = 10_000
BACKLOG_SCANS = 50_000
BACKLOG_TARGET_S = 30.0
MEMORY_TARGET_MB = 300.0
PROPAGATION_TARGET_P95_S = 1.0
REPO = Path(__file__).resolve().parent.parent
_secrets = itertools.count(1)


@dataclass
class SyncResults:
    catch_up_s: list[float] = field(default_factory=list)
    backlog_s: list[float] = field(default_factory=list)
    sync_peak_mb: list[float] = field(default_factory=list)
    feed_rights: int = 0
    propagation_s: list[float] = field(default_factory=list)
    total_s: float = 0.0


def say(message: str) -> None:
    print(message, flush=True)


def import_plain_rights(site: Site, n: int) -> list[str]:
    """``n`` rights with plain codes (so that scanning them needs no signing round trip)."""
    secrets = [f"BENCH-{next(_secrets):09d}" for _ in range(n)]
    for start in range(0, n, 50_000):
        chunk = secrets[start : start + 50_000]
        rows = "\n".join(["event,zones,secret"] + [f"{site.event},NORD,{s}" for s in chunk])
        ok(site.admin.post("/rights/import", content=rows, headers={"content-type": "text/csv"}))
    return secrets


def enroll_gate(site: Site, gate: str, folder: Path) -> TerminalConfig:
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/{gate}/enrollment"), 201)["code"]
    enrolled = enroll(site.server.url, code)
    settings = SyncSettings(poll_interval_s=30, heartbeat_interval_s=30, upload_batch=500)
    config = TerminalConfig(folder / "gate.toml", server=site.server.url, venue=enrolled.venue,
                            gate=enrolled.gate, sync=settings)  # fmt: skip
    config.save()
    config.save_token(enrolled.token)
    return config


def first_pull(config: TerminalConfig) -> None:
    with Replica(config.replica_path) as replica:
        SyncClient(config.server, config.token(), replica).pull()
        replica.set_gate_name(config.gate)


def measure_catch_up(site: Site, config: TerminalConfig, results: SyncResults, runs: int) -> None:
    for run in range(runs):
        import_plain_rights(site, CATCH_UP_CHANGES)
        with Replica(config.replica_path) as replica:
            client = SyncClient(config.server, config.token(), replica, timeout_s=120)
            started = time.perf_counter()
            applied = client.pull(page_size=5_000)
            results.catch_up_s.append(time.perf_counter() - started)
        assert applied >= CATCH_UP_CHANGES, applied
        say(f"catch-up {run + 1}/{runs}: {results.catch_up_s[-1]:.2f} s for {applied} changes")


def measure_backlog(site: Site, folder: Path, results: SyncResults, runs: int) -> None:
    for run in range(runs):
        secrets = import_plain_rights(site, BACKLOG_SCANS)
        config = enroll_gate(site, "NORD-1", folder / f"backlog-{run}")
        first_pull(config)
        with Replica(config.replica_path) as replica:
            checkpoint = Checkpoint(replica, config.gate)
            for secret in secrets:
                checkpoint.check(secret)
            client = SyncClient(config.server, config.token(), replica, timeout_s=120)
            started = time.perf_counter()
            sent = client.push(batch_size=500)
            results.backlog_s.append(time.perf_counter() - started)
        assert sent == BACKLOG_SCANS, sent
        say(f"backlog {run + 1}/{runs}: {BACKLOG_SCANS} scans in {results.backlog_s[-1]:.1f} s")


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Poll the kernel's high-water mark of the process's resident memory until it exits."""
    peak = 0.0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.05)
    return peak


def measure_sync_memory(site: Site, folder: Path, results: SyncResults, runs: int) -> None:
    """``gate-scanner sync --once`` into a fresh gate: the whole feed, in its own process."""
    for run in range(runs):
        config = enroll_gate(site, "NORD-2", folder / f"memory-{run}")
        command = [sys.executable, "-m", "scanner_app.cli", "sync", "--once", "--config",
                   str(config.path)]  # fmt: skip
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
        results.sync_peak_mb.append(peak_rss_mb(process))
        assert process.wait() == 0
        with Replica(config.replica_path) as replica:
            results.feed_rights = replica.counts().rights
        say(f"sync memory {run + 1}/{runs}: {results.sync_peak_mb[-1]:.1f} MB peak "
            f"({results.feed_rights} rights)")  # fmt: skip


def measure_propagation(site: Site, folder: Path, results: SyncResults, samples: int) -> None:
    """Gate A admits a right; how long until gate B's replica knows it is used."""
    secrets = import_plain_rights(site, samples)
    a = enroll_gate(site, "NORD-1", folder / "prop-a")
    b = enroll_gate(site, "NORD-2", folder / "prop-b")
    first_pull(a)
    first_pull(b)
    loops = [SyncLoop(a), SyncLoop(b)]
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # both event streams connected
    try:
        with Replica(a.replica_path) as gate_a, Replica(b.replica_path) as gate_b:
            checkpoint = Checkpoint(gate_a, a.gate)
            for secret in secrets:
                started = time.perf_counter()
                result = checkpoint.check(secret)
                loops[0].scan_recorded()
                right = result.decision.right
                assert right is not None
                assert result.decision.granted
                while True:
                    gate_b.refresh()
                    usage = gate_b.usage(right.right_id)
                    if usage is not None and usage.entries:
                        break
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("gate B never heard of gate A's scan")
                    time.sleep(0.002)
                results.propagation_s.append(time.perf_counter() - started)
                time.sleep(0.05)
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(10)
    say(f"propagation: p50 {percentile(results.propagation_s, 50) * 1000:.0f} ms, "
        f"p95 {percentile(results.propagation_s, 95) * 1000:.0f} ms")  # fmt: skip


def render(results: SyncResults, machine: dict[str, str], command: str) -> str:
    catch_up = median(results.catch_up_s)
    backlog = median(results.backlog_s)
    memory = max(results.sync_peak_mb)
    p50 = percentile(results.propagation_s, 50)
    p95 = percentile(results.propagation_s, 95)

    def verdict(meets: bool) -> str:
        return "meets" if meets else "**misses**"

    lines = [
        "## Gate sync (issue 4)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`; the run took "
        f"{results.total_s / 60:.1f} min. Server: `gate-server serve` (uvicorn, one worker, "
        "SQLite on the same disk), gates: `SyncClient` / `SyncLoop` on their own replicas.",
        "",
        "| Figure | Target | Measured | Verdict |",
        "|---|---|---|---|",
        f"| Catch-up after {CATCH_UP_CHANGES:,} changes (median) | — | {catch_up:.2f} s | — |",
        f"| Upload of a {BACKLOG_SCANS:,}-scan backlog (median) | ≤ {BACKLOG_TARGET_S:.0f} s | "
        f"{backlog:.1f} s | {verdict(backlog <= BACKLOG_TARGET_S)} |",
        f"| Peak memory of `gate-scanner sync --once`, full feed of {results.feed_rights:,} "
        f"rights (worst run) | ≤ {MEMORY_TARGET_MB:.0f} MB | {memory:.0f} MB | "
        f"{verdict(memory <= MEMORY_TARGET_MB)} |",
        f"| Gate-to-gate propagation p50 / p95 ({len(results.propagation_s)} scans) | p95 ≤ "
        f"{PROPAGATION_TARGET_P95_S * 1000:.0f} ms | {p50 * 1000:.0f} / {p95 * 1000:.0f} ms | "
        f"{verdict(p95 <= PROPAGATION_TARGET_P95_S)} |",
        "",
        "The initial sync of 1,000,000 rights into a fresh gate is measured with the server's "
        "figures (section *Sync server*: streaming the full change feed into a fresh replica).",
        "",
        "Runs: catch-up "
        + ", ".join(f"{s:.2f} s" for s in results.catch_up_s)
        + "; backlog "
        + ", ".join(f"{s:.1f} s" for s in results.backlog_s)
        + "; sync peak memory "
        + ", ".join(f"{m:.0f} MB" for m in results.sync_peak_mb)
        + ".",
        "",
        "Propagation is the time from gate A's `Checkpoint.check()` (decision committed) to gate "
        "B's replica holding the right's usage: A's loop uploads at once, the server publishes "
        "the usage, its event stream wakes B's loop, B pulls. Loopback network, one machine.",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in machine.items()],
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> SyncResults:
    started = time.perf_counter()
    results = SyncResults()
    folder = Path(tempfile.mkdtemp(prefix="entrix-bench-sync-", dir=args.dir))
    server: RunningServer | None = None
    try:
        server = start_server(f"sqlite:///{folder}/server.db", folder / "server.log")
        site = Site.create(server)
        say(f"importing {args.feed_rights:,} rights for the feed")
        import_plain_rights(site, args.feed_rights)
        config = enroll_gate(site, "SUD-1", folder / "catch-up")
        first_pull(config)
        measure_catch_up(site, config, results, args.runs)
        measure_sync_memory(site, folder, results, args.runs)
        measure_backlog(site, folder, results, max(1, args.runs - 1))
        measure_propagation(site, folder, results, args.samples)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    results.total_s = time.perf_counter() - started
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    parser.add_argument("--write", metavar="PATH", help="record the figures in this Markdown file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=100, help="propagation samples")
    parser.add_argument("--feed-rights", type=int, default=200_000, help="rights on the server")
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args(argv)
    results = run(args)
    command = "python -m bench.sync " + " ".join(argv if argv is not None else sys.argv[1:])
    body = render(results, machine_info(Path(args.dir)), command.strip())
    print(body)
    if args.write:
        write_section(Path(args.write), "sync", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
