"""A gate's own faults, priced (issue 14): the replica's integrity check on a million rights, the
journal's cost on a durable check, and what an idle gate writes to its disk in a day.

``python -m bench.replica_health --write docs/BENCHMARKS.md`` (part of ``make bench``). Every
file lives on a real disk (``--dir``, /var/tmp by default), so that fsync and the page cache cost
what they cost on a gate.

- *Integrity check*: ``Replica(path, check=True)`` (SQLite's ``quick_check``, what every gate
  process runs at start, and every 10 minutes while it runs) on the demo replica of 1,000,000
  rights and 100,000 bans; *cold* with the file evicted from the page cache first
  (``posix_fadvise(DONTNEED)``, as after a reboot), *warm* right after.
- *Journal*: the time to decide and durably record a scan (``Checkpoint.check``, what the holder
  waits for before the turnstile moves), with the journal (one more append and fsync) and without.
- *Idle writes*: a real ``gate-server`` and an enrolled ``gate-scanner sync`` with a site's
  settings (heartbeat every 10 s, a pull every 30 s), nothing scanned: the bytes the sync process
  had the kernel write to storage (``/proc/<pid>/io`` ``write_bytes``) over the window, per day.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.gate import build_replica, remove_replica
from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median
from bench.sync import enroll_gate, first_pull, say
from scanner_app.checkpoint import Checkpoint
from scanner_app.config import SyncSettings
from scanner_app.journal import journal_path
from scanner_app.replica import Replica
from scanner_app.sync_loop import STATUS_KEPT_S
from shared.model import RightKind
from tests.support.server import start_server
from tests.support.site import Site

REPO = Path(__file__).resolve().parents[1]
IDLE_TARGET_MB_PER_DAY = 10.0
DAY_S = 86_400


@dataclass
class HealthResults:
    rights: int = 0
    bans: int = 0
    cold_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    with_journal_ms: list[float] = field(default_factory=list)
    without_journal_ms: list[float] = field(default_factory=list)
    idle_window_s: float = 0.0
    idle_bytes: list[int] = field(default_factory=list)
    date: str = ""
    command: str = ""
    machine: dict[str, str] = field(default_factory=dict)


def evict(path: Path) -> None:
    """Drop a replica's pages from the page cache, as a reboot would."""
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        if not file.exists():
            continue
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def measure_integrity(folder: Path, out: HealthResults, repeats: int, rights: int) -> None:
    path = folder / "million.db"
    say(f"building a replica of {rights:,} rights...")
    build_replica(
        path, rights=rights, bans=rights // 10, seed=2026, key=Ed25519PrivateKey.generate()
    )
    out.rights, out.bans = rights, rights // 10
    for _ in range(repeats):
        evict(path)
        started = time.perf_counter()
        Replica(path, check=True, journal=False).close()
        out.cold_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        Replica(path, check=True, journal=False).close()
        out.warm_s.append(time.perf_counter() - started)
        say(f"integrity check: cold {out.cold_s[-1]:.2f} s, warm {out.warm_s[-1]:.2f} s")
    remove_replica(path)


def measure_journal(folder: Path, out: HealthResults, repeats: int, scans: int) -> None:
    from tests.support.world import World, right

    path = folder / "journal.db"
    world = World("sqlite", path)
    for i in range(scans * repeats * 2):
        world.sell(right(secret=f"PLAIN-{i:06d}", kind=RightKind.STAFF))
    world.close()
    from tests.support.world import NOW

    codes = iter(f"PLAIN-{i:06d}" for i in range(scans * repeats * 2))
    for _ in range(repeats):
        for journal, into in ((True, out.with_journal_ms), (False, out.without_journal_ms)):
            with Replica(path, journal=journal) as replica:
                gate = Checkpoint(replica, "G-NORD")
                times = [gate.check(next(codes), NOW).total_ms for _ in range(scans)]
            into.append(median(times))
        say(f"durable check: {out.with_journal_ms[-1]:.2f} ms with the journal, "
            f"{out.without_journal_ms[-1]:.2f} ms without")  # fmt: skip
    remove_replica(path)
    journal_path(path).unlink(missing_ok=True)


def _written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/io has no write_bytes")


def measure_idle(folder: Path, out: HealthResults, repeats: int, window_s: float) -> None:
    server = start_server(f"sqlite:///{folder}/server.db", folder / "server.log")
    try:
        site = Site.create(server)
        out.idle_window_s = window_s
        for run in range(repeats):
            config = enroll_gate(site, "NORD-1", folder / f"idle-{run}")
            config.sync = SyncSettings()  # what a site gets
            config.save()
            first_pull(config)
            process = subprocess.Popen(
                [sys.executable, "-m", "scanner_app.cli", "sync", "--config", str(config.path)],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                time.sleep(15)  # started, first passes done, its status kept
                before = _written(process.pid)
                time.sleep(window_s)
                out.idle_bytes.append(_written(process.pid) - before)
            finally:
                process.terminate()
                process.wait(10)
            say(f"idle sync: {out.idle_bytes[-1]:,} bytes written in {window_s:.0f} s")
    finally:
        server.stop()


def per_day_mb(r: HealthResults) -> float:
    return median(r.idle_bytes) / r.idle_window_s * DAY_S / 1e6


def render(r: HealthResults) -> str:
    idle = per_day_mb(r)
    verdict = "meets" if idle <= IDLE_TARGET_MB_PER_DAY else "**misses**"
    cost = median(r.with_journal_ms) - median(r.without_journal_ms)
    lines = [
        "## A gate's own faults, priced (issue 14)",
        "",
        f"Measured {r.date} with `{r.command}`.",
        "",
        "| figure | median | spread | target | verdict |",
        "|---|---|---|---|---|",
        f"| integrity check at start, {r.rights:,} rights, cold | {median(r.cold_s):.2f} s | "
        f"{min(r.cold_s):.2f}–{max(r.cold_s):.2f} s | — | — |",
        f"| integrity check, warm (every 10 min while running) | {median(r.warm_s):.2f} s | "
        f"{min(r.warm_s):.2f}–{max(r.warm_s):.2f} s | — | — |",
        f"| durable check with the journal | {median(r.with_journal_ms):.2f} ms | "
        f"{min(r.with_journal_ms):.2f}–{max(r.with_journal_ms):.2f} ms | — | — |",
        f"| durable check without it | {median(r.without_journal_ms):.2f} ms | "
        f"{min(r.without_journal_ms):.2f}–{max(r.without_journal_ms):.2f} ms | — | — |",
        f"| the journal's cost per scan | {cost:+.2f} ms | — | — | — |",
        f"| idle gate's writes to its disk | {idle:.2f} MB/day | "
        f"{min(r.idle_bytes):,}–{max(r.idle_bytes):,} bytes in {r.idle_window_s:.0f} s | "
        f"≤ {IDLE_TARGET_MB_PER_DAY:.0f} MB/day | {verdict} |",
        "",
        f"Integrity: {len(r.cold_s)} runs of `Replica(path, check=True)` (SQLite `quick_check`) "
        f"on the demo replica ({r.rights:,} rights, {r.bans:,} bans); cold after "
        "`posix_fadvise(DONTNEED)` on the file, warm right after. Journal: per run, the median "
        "of the durable checks of plain codes (decide, record in the replica, journal), each "
        "run with and without the journal on the same file; a journal line is one more "
        "`write` and `fsync`. Idle: `gate-scanner sync` enrolled with a real `gate-server` "
        "(SQLite) and a site's settings (heartbeat 10 s, pull 30 s), nothing scanned; "
        f"`write_bytes` of its process over {r.idle_window_s:.0f} s after 15 s of start, "
        f"{len(r.idle_bytes)} runs, median scaled to a day. The sync status is written to the "
        f"replica when it changes, or every {STATUS_KEPT_S:.0f} s, which a window this short "
        "may miss: one such write costs about 16 KB (with the status kept every 60 s, the same "
        "measure gave 32,768 bytes in 130 s, 22 MB a day), so hourly adds some 0.4 MB a day.",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in r.machine.items()],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replica_health")
    parser.add_argument("--write", help="splice the section into this Markdown file")
    parser.add_argument("--dir", default="/var/tmp", help="where the files go (a real disk)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rights", type=int, default=1_000_000)
    parser.add_argument("--scans", type=int, default=300, help="durable checks per run")
    parser.add_argument("--idle-runs", type=int, default=3)
    parser.add_argument("--idle-s", type=float, default=180.0, help="each idle window")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="entrix-health-", dir=args.dir))
    out = HealthResults()
    out.command = "python -m bench.replica_health " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    try:
        measure_journal(folder, out, args.repeats, args.scans)
        measure_idle(folder, out, args.idle_runs, args.idle_s)
        measure_integrity(folder, out, args.repeats, args.rights)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.command = out.command.strip()
    out.machine = machine_info(Path(args.dir))
    section = render(out)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "replica-health", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
