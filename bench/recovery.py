"""Back within 2 s (issue 14): how long a gate cut off from the server takes, once the server
answers again, to have uploaded what it scanned meanwhile and caught up with the feed.

``python -m bench.recovery --write docs/BENCHMARKS.md`` (part of ``make bench``): a real
``gate-server`` (SQLite), a gate's own ``SyncLoop`` in a thread with the settings a site gets
(backoff from 0.5 s, capped at 30 s), scanning one plain code a second throughout. The server is
stopped for a cut of 10 s, 1 min and 10 min while another gate's scans add to the feed; the time
is from the moment the restarted server answers ``/health`` to the moment the gate has nothing
left to upload and its cursor has reached the server's head.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
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
from bench.sync import enroll_gate, first_pull, import_plain_rights, say
from scanner_app.checkpoint import Checkpoint
from scanner_app.config import SyncSettings
from scanner_app.replica import Replica
from scanner_app.sync import SyncClient
from scanner_app.sync_loop import SyncLoop
from tests.support.server import RunningServer, start_server
from tests.support.site import Site

CUTS_S = (10.0, 60.0, 600.0)
TARGET_S = 2.0


@dataclass
class Recovery:
    cut_s: float
    back_s: float
    scanned: int


@dataclass
class RecoveryResults:
    runs: list[Recovery] = field(default_factory=list)
    date: str = ""
    command: str = ""
    machine: dict[str, str] = field(default_factory=dict)


def _head(server: RunningServer) -> int:
    """The feed's latest change, read from the server's database."""
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        (value,) = db.execute("SELECT value FROM feed_counter").fetchone()
    return int(value)


def measure(folder: Path, cuts: Sequence[float], out: RecoveryResults) -> None:
    server = start_server(f"sqlite:///{folder}/server.db", folder / "server.log")
    try:
        site = Site.create(server)
        codes = import_plain_rights(site, 20_000)
        config = enroll_gate(site, "NORD-1", folder / "gate")
        config.sync = SyncSettings(poll_interval_s=30, heartbeat_interval_s=10)  # a site's
        first_pull(config)
        other = enroll_gate(site, "NORD-2", folder / "other")
        first_pull(other)
        loop = SyncLoop(config)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        stop = threading.Event()
        scanned = [0]

        def scan() -> None:
            with Replica(config.replica_path) as replica:
                gate = Checkpoint(replica, config.gate)
                while not stop.is_set():
                    gate.check(codes[scanned[0]])
                    scanned[0] += 1
                    loop.scan_recorded()
                    stop.wait(1.0)

        scanner = threading.Thread(target=scan, daemon=True)
        scanner.start()
        used = 10_000
        for cut in cuts:
            time.sleep(3)
            before = scanned[0]
            server.stop()
            time.sleep(cut)
            server.start()
            answered = time.perf_counter()
            # Another gate uploads while this one catches up: the feed has moved.
            with Replica(other.replica_path) as replica:
                gate = Checkpoint(replica, other.gate)
                for code in codes[used : used + 20]:
                    gate.check(code)
                used += 20
            with Replica(other.replica_path) as replica:
                SyncClient(other.server, other.token(), replica).push()
            head = _head(server)
            while True:
                with Replica(config.replica_path) as replica:
                    if replica.pending_count() == 0 and replica.cursor >= head:
                        break
                time.sleep(0.02)
            back = time.perf_counter() - answered
            out.runs.append(Recovery(cut, back, scanned[0] - before))
            say(f"cut {cut:.0f} s: back in {back:.2f} s ({scanned[0] - before} scans meanwhile)")
        stop.set()
        loop.stop()
        thread.join(10)
    finally:
        server.stop()


def render(r: RecoveryResults) -> str:
    def verdict(s: float) -> str:
        return "meets" if s <= TARGET_S else "**misses**"

    lines = [
        "## A gate back after a cut (issue 14)",
        "",
        f"Measured {r.date} with `{r.command}`.",
        "",
        "| cut | target | back in | scans made meanwhile | verdict |",
        "|---|---|---|---|---|",
        *[
            f"| {run.cut_s:.0f} s | ≤ {TARGET_S:.0f} s | {run.back_s:.2f} s | {run.scanned} | "
            f"{verdict(run.back_s)} |"
            for run in r.runs
        ],
        "",
        "One run per cut. A real `gate-server` (SQLite) is stopped for the cut and started "
        "again; the gate's own `SyncLoop` runs throughout with a site's settings (backoff from "
        "0.5 s capped at 30 s) while the gate scans a plain code a second, and another gate "
        "uploads 20 scans once the server is back. *Back in* is from the restarted server's "
        "first `/health` answer to the gate having nothing left to upload and its cursor at the "
        "feed's head. While cut off with scans waiting, the gate probes `/health` about once a "
        "second (jittered), whatever its backoff says.",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in r.machine.items() if "filesystem" not in key],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.recovery")
    parser.add_argument("--cuts", type=float, nargs="+", default=list(CUTS_S))
    parser.add_argument("--write", help="splice the section into this Markdown file")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="entrix-recovery-"))
    out = RecoveryResults()
    out.command = "python -m bench.recovery " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        measure(folder, args.cuts, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.command = out.command.strip()
    out.machine = machine_info(Path(tempfile.gettempdir()))
    section = render(out)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "recovery", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
