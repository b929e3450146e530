"""``python -m bench.bootstrap``: a fresh gate to "ready to decide" (issue 19).

A real ``gate-server`` (uvicorn, SQLite on a real disk) holds a venue with ``--rights`` typical
tickets (an event, a zone, a holder, a seat: EG1 rights, imported as the back office does). A
fresh gate, in a process of its own, enrolls and pulls the whole feed into a new replica with the
gate's own ``SyncClient``; each run asks for one content coding (``identity``, ``gzip``,
``zstd``). Measured: the time to ready, the bytes on the wire (as received, compressed), the
server process's CPU during the pull, the gate process's peak memory; and the time over a
100 Mbit/s link, estimated as the bytes' transfer time added to the loopback time (the network
does not overlap the CPU in this estimate: pessimistic).
"""

from __future__ import annotations

import argparse
import json
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median
from scanner_app.replica import Replica
from scanner_app.sync import SyncClient, enroll
from shared import protocol
from tests.support.postgres import PostgresCluster
from tests.support.server import RunningServer, start_server
from tests.support.site import Site, ok

CODINGS = ("identity", "gzip", "zstd", "snapshot")
"""How the fresh gate gets ready: the feed alone in each content coding, or the server's
snapshot (zstd file) and then the feed from its cursor."""
LINK_BITS_PER_S = 100e6
DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
IMPORT_CHUNK = 100_000
IMPORT_TIMEOUT_S = 600.0
"""A 100,000-row import into a database that already holds a million takes a while."""


@dataclass(slots=True)
class Pull:
    coding: str
    seconds: float
    wire_bytes: int
    changes: int
    gate_peak_mb: float
    server_cpu_s: float
    server_rss_mb: float


@dataclass(slots=True)
class BootstrapResults:
    rights: int = 0
    database: str = "sqlite"
    runs: int = 0
    pulls: list[Pull] = field(default_factory=list)
    command: str = ""
    date: str = ""
    machine: dict[str, str] = field(default_factory=dict)
    total_s: float = 0.0
    snapshot_build_s: float = 0.0
    snapshot_cpu_s: float = 0.0
    snapshot_mb: float = 0.0

    def of(self, coding: str) -> list[Pull]:
        return [p for p in self.pulls if p.coding == coding]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def import_tickets(site: Site, n: int) -> None:
    for start in range(0, n, IMPORT_CHUNK):
        rows = "\n".join(
            f"{site.event},NORD,fan-{i},,,NORD-{i % 40}-{i % 997}"
            for i in range(start, min(n, start + IMPORT_CHUNK))
        )
        body = f"event,zones,holder,policy,kind,seat\n{rows}\n".encode()
        headers = {"content-type": "text/csv"}
        ok(
            site.admin.post(
                "/rights/import", content=body, headers=headers, timeout=IMPORT_TIMEOUT_S
            )
        )


def pull_worker(server: str, token: str, path: str, coding: str) -> dict[str, Any]:
    """One fresh gate's pull, in this process: what the parent reads as JSON."""
    started = time.perf_counter()
    with (
        Replica(Path(path)) as replica,
        SyncClient(
            server,
            token,
            replica,
            timeout_s=120,
            use_snapshot=coding == "snapshot",
            accept_encoding="zstd" if coding == "snapshot" else coding,
        ) as sync,  # fmt: skip
    ):
        changes = sync.pull()
        seconds = time.perf_counter() - started
        wire = sync.feed_bytes
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "wire": wire, "changes": changes, "peak_mb": peak_mb}


def wait_for_snapshot(server: RunningServer, site: Site) -> tuple[float, float, float]:
    """Have the server build the venue's snapshot (the first ask starts it); seconds, the
    server's CPU seconds meanwhile, MB."""
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    before = process.cpu_times()
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/enrollment"), 201)["code"]
    headers = {"Authorization": f"Bearer {enroll(server.url, code).token}",
               "Entrix-Protocol": str(protocol.PROTOCOL)}  # fmt: skip
    started = time.perf_counter()
    while True:
        answer = httpx.get(f"{server.url}/api/v1/gate/snapshot", headers=headers, timeout=120)
        if answer.status_code == 200:
            after = process.cpu_times()
            cpu = (after.user - before.user) + (after.system - before.system)
            return time.perf_counter() - started, cpu, len(answer.content) / 1e6
        time.sleep(0.5)


def one_pull(server: RunningServer, site: Site, folder: Path, coding: str, n: int) -> Pull:
    code = ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/enrollment"), 201)["code"]
    token = enroll(server.url, code).token
    path = folder / f"gate-{coding}-{n}.db"
    assert server.process is not None
    process = psutil.Process(server.process.pid)
    before = process.cpu_times()
    ran = subprocess.run(
        [sys.executable, "-m", "bench.bootstrap", "--pull-worker", server.url, token, str(path),
         coding],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    after = process.cpu_times()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    got = json.loads(ran.stdout)
    cpu = (after.user - before.user) + (after.system - before.system)
    rss = process.memory_info().rss / 2**20
    return Pull(coding, got["seconds"], got["wire"], got["changes"], got["peak_mb"], cpu, rss)


def run(args: argparse.Namespace, folder: Path) -> BootstrapResults:
    out = BootstrapResults(rights=args.rights, runs=args.runs)
    started = time.perf_counter()
    out.database = args.database
    cluster = PostgresCluster.start() if args.database == "postgresql" else None
    url = (
        cluster.create_database("bootstrap")
        if cluster is not None
        else f"sqlite:///{folder}/server.db"
    )
    server = start_server(url, folder / "server.log")
    try:
        site = Site.create(server)
        say(f"importing {args.rights:,} tickets ...")
        import_tickets(site, args.rights)
        out.snapshot_build_s, out.snapshot_cpu_s, out.snapshot_mb = wait_for_snapshot(server, site)
        say(f"snapshot built in {out.snapshot_build_s:.1f} s ({out.snapshot_mb:.1f} MB)")
        for n in range(args.runs):
            for coding in args.codings:
                pull = one_pull(server, site, folder, coding, n)
                out.pulls.append(pull)
                each = pull.wire_bytes / args.rights
                say(f"{coding}: {pull.seconds:.1f} s, {each:.0f} B a right, server CPU "
                    f"{pull.server_cpu_s:.1f} s, gate {pull.gate_peak_mb:.0f} MB")  # fmt: skip
    finally:
        server.stop()
        if cluster is not None:
            cluster.stop()
    out.total_s = time.perf_counter() - started
    return out


def render(r: BootstrapResults) -> str:
    rows = []
    for coding in CODINGS:
        pulls = r.of(coding)
        if not pulls:
            continue
        seconds = median([p.seconds for p in pulls])
        wire = median([p.wire_bytes for p in pulls])
        over_link = seconds + wire * 8 / LINK_BITS_PER_S
        rows.append(
            f"| `{coding}` | {seconds:.1f} s | {wire / 1e6:.1f} MB ({wire / r.rights:.0f} B a "
            f"right) | {median([p.server_cpu_s for p in pulls]):.1f} s | "
            f"{median([p.gate_peak_mb for p in pulls]):.0f} MB | "
            f"{median([p.server_rss_mb for p in pulls]):.0f} MB | {over_link:.1f} s | "
            + ", ".join(f"{p.seconds:.1f}" for p in pulls)
            + " |"
        )
    return "\n".join(
        [
            f"## A fresh gate ready to decide: {r.rights:,} tickets, {DATABASES[r.database]} "
            "(issue 19)",
            "",
            f"Measured {r.date} with `{r.command}`; the whole run took {r.total_s / 60:.1f} min. "
            f"{r.rights:,} tickets at one venue, {DATABASES[r.database]} server. The server "
            "built the venue's "
            f"snapshot in {r.snapshot_build_s:.1f} s ({r.snapshot_cpu_s:.1f} s of its CPU; "
            f"{r.snapshot_mb:.1f} MB, zstd), once, before the runs, in the background.",
            "",
            "| Coding | Ready (median) | On the wire | Server CPU | Gate peak memory | "
            "Server memory after | At 100 Mbit/s (est.) | Runs |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "### Method",
            "",
            "- `gate-server` (one uvicorn worker) on a fresh SQLite database on this disk; the "
            "tickets imported through `POST /rights/import` (CSV: event, zone, holder, seat).",
            f"- {r.runs} runs of each coding, in turn; each a fresh gate process: it enrolls, then "
            "`SyncClient.pull` into a new replica with `Accept-Encoding` set to the coding "
            "(pages of 10,000 changes; the next page fetched while one is applied). *Ready* is "
            "the pull's wall time; *on the wire* the HTTP bodies as received "
            "(`num_bytes_downloaded`); *server CPU* the server process's user and system time "
            "during the pull (query, JSON, compression, HTTP); *peak memory* the gate process's "
            "maximum RSS.",
            "- `snapshot`: the gate downloads the server's ready replica (`GET /snapshot`, a zstd "
            "file), checks its SHA-256, copies its tables into its new replica, then pulls the "
            "feed from the snapshot's cursor; the other rows: the feed alone in that coding.",
            "- *At 100 Mbit/s*: the ready time plus the bytes' transfer time at 100 Mbit/s.",
            "",
            "### Machine",
            "",
            *[f"- {k}: {v}" for k, v in r.machine.items()],
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    if raw[:1] == ["--pull-worker"]:
        print(json.dumps(pull_worker(*raw[1:5])))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.bootstrap")
    parser.add_argument("--write", help="splice the section into this Markdown file")
    parser.add_argument("--dir", default="/var/tmp", help="where the databases go (a real disk)")
    parser.add_argument("--rights", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=sorted(DATABASES), default="sqlite")
    parser.add_argument("--codings", type=lambda text: text.split(","), default=list(CODINGS),
                        help=f"which of {','.join(CODINGS)} (all)")  # fmt: skip
    args = parser.parse_args(raw)
    folder = Path(tempfile.mkdtemp(prefix="entrix-bootstrap-", dir=args.dir))
    try:
        out = run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.command = shlex.join(["python", "-m", "bench.bootstrap", *raw])
    out.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.machine = machine_info(Path(args.dir))
    section = render(out)
    print(section)
    if args.write:
        name = f"bootstrap-{args.database}-{args.rights}"
        if args.codings != list(CODINGS):
            name += "-" + "-".join(args.codings)
        write_section(Path(args.write), name, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
