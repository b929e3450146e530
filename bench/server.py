"""Server figures: bulk import, the whole change feed into a fresh gate replica, scan upload.

Everything goes over HTTP to a real ``gate-server serve`` (uvicorn) process started with the test
suite's helpers, once on SQLite and once on a throwaway PostgreSQL cluster. The functions here
measure and return raw numbers; :func:`render_server` compares medians with the targets and
writes the ``server`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psutil
from sqlalchemy import text

from bench.gate import MB, remove_replica, replica_size_mb
from bench.report import Figure, at_least, at_most, headline_table, per_s, runs_of, seconds
from bench.stats import median
from scanner_app.replica import Replica
from scanner_app.sync import SyncClient
from shared.sync_schema import ChangeBatch
from sync_server.core.config import Settings
from sync_server.db import make_engine
from tests.support.postgres import PostgresCluster
from tests.support.server import RunningServer, start_server

IMPORT_TARGET_S = 10.0
IMPORT_TARGET_ROWS = 100_000
STREAM_TARGET_S = 60.0
STREAM_TARGET_RIGHTS = 1_000_000
SCAN_TARGET_PER_S = 5_000.0

VENUE = "BENCH"
EVENT = "BENCH-MATCH"
GATE = "G-1"
STANDS = ("NORD", "SUD", "EST", "OUEST")
HTTP_TIMEOUT_S = 600.0
DATABASES = ("sqlite", "postgresql")
PRODUCTION_POLL_S = str(Settings.model_fields["feed_poll_interval_s"].default)
"""The tests' server polls the feed every 50 ms; the benchmark runs the default instead."""


@dataclass(frozen=True, slots=True)
class ServerPlan:
    """What to measure: sizes and run counts, from the command line."""

    databases: tuple[str, ...]
    import_rows: int
    feed_rights: int
    page: int
    stream_runs: int
    scan_runs: int
    scan_batches: int
    scan_batch: int

    @property
    def imports(self) -> int:
        """Imports of ``import_rows`` each that build the feed (the last may be smaller)."""
        return math.ceil(self.feed_rights / self.import_rows)

    @property
    def scans_per_run(self) -> int:
        return self.scan_batches * self.scan_batch


@dataclass(frozen=True, slots=True)
class StreamRun:
    """One fresh replica fed the whole feed by ``SyncClient.pull``: total time, and the applying."""

    changes: int
    pages: int
    seconds: float
    apply_s: float
    """``Replica.apply_changes``: one SQLite transaction per page, fsync'ed. The next page is
    fetched and decoded meanwhile, so the rest of ``seconds`` is fetching not hidden by it."""
    replica_mb: float

    @property
    def per_second(self) -> float:
        return self.changes / self.seconds


@dataclass(frozen=True, slots=True)
class ScanRun:
    scans: int
    stored: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.scans / self.seconds


@dataclass(slots=True)
class DatabaseRun:
    """Every figure measured on one database, with the server process's CPU time for each."""

    kind: str
    label: str = ""
    imports_s: list[float] = field(default_factory=list)
    import_sizes: list[int] = field(default_factory=list)
    imports_cpu_s: list[float] = field(default_factory=list)
    streams: list[StreamRun] = field(default_factory=list)
    streams_cpu_s: list[float] = field(default_factory=list)
    scans: list[ScanRun] = field(default_factory=list)
    scans_cpu_s: list[float] = field(default_factory=list)
    server_rss_mb: float = 0.0


class ServerCpu:
    """CPU seconds (user + system) the server process spends, read around each measurement.

    On PostgreSQL the database's own processes are not counted: only the Python server's.
    """

    def __init__(self, server: RunningServer) -> None:
        assert server.process is not None
        self._pid = server.process.pid

    def seconds(self) -> float:
        return tree_cpu_s(self._pid)

    def rss_mb(self) -> float:
        return tree_rss_mb(self._pid)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its children, those already gone too
    (a parent that reaped them counts their time)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    times = root.cpu_times()
    return total + times.children_user + times.children_system


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children (MB of 10^6 bytes)."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / MB


@dataclass(slots=True)
class ServerResults:
    plan: ServerPlan
    runs: list[DatabaseRun] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    command: str = ""
    make_bench: bool = False
    date: str = ""
    total_s: float = 0.0
    notes: list[str] = field(default_factory=list)


Say = Callable[[str], None]


# -- the site: a database, a server process, a venue with one gate ---------------------------------


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """An empty database's URL: a SQLite file in ``workdir``, or a throwaway PostgreSQL cluster."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir}/server.db"
        return
    cluster = PostgresCluster.start()
    try:
        yield cluster.create_database("entrix_bench")
    finally:
        cluster.stop()


def database_label(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version}"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {str(version).split()[0]}"


def ok(answer: httpx.Response) -> Any:
    if not answer.is_success:
        raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.text[:500]}")
    return answer.json()


def set_up_site(admin: httpx.Client) -> str:
    """A venue (a stadium, four stands), tonight's match, one gate; the gate's device token."""
    zones = [{"code": "STADE", "name": "Stade", "capacity": 80_000}]
    zones += [{"code": s, "name": s, "parent": "STADE", "capacity": 20_000} for s in STANDS]
    ok(admin.post("/venues", json={"code": VENUE, "name": "Bench stadium", "zones": zones}))
    starts = datetime.now(UTC) + timedelta(hours=2)
    event = {
        "code": EVENT,
        "name": "Bench match",
        "venue": VENUE,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
    }
    ok(admin.post("/events", json=event))
    gate = {"venue": VENUE, "name": GATE, "zones": ["STADE"], "event_codes": [EVENT]}
    ok(admin.post("/gates", json=gate))
    code = ok(admin.post(f"/venues/{VENUE}/gates/{GATE}/enrollment"))["code"]
    token: str = ok(admin.post("/gate/enroll", json={"code": code}))["token"]
    return token


def client(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT_S,
    )


# -- (a) bulk import ------------------------------------------------------------------------------


def rights_csv(batch: int, rows: int) -> bytes:
    """``rows`` tickets of tonight's match, a holder and a seat each, spread over the stands."""
    lines = ["event,zones,holder,seat"]
    for i in range(rows):
        stand = STANDS[i % len(STANDS)]
        lines.append(f"{EVENT},{stand},holder-{batch}-{i},{stand}-{i // 40 % 200}-{i % 40}")
    return ("\n".join(lines) + "\n").encode()


def time_import(admin: httpx.Client, body: bytes) -> tuple[float, list[str]]:
    """One ``POST /rights/import`` (CSV): its seconds and the new rights' ids, in row order."""
    started = time.perf_counter()
    answer = admin.post("/rights/import", content=body, headers={"Content-Type": "text/csv"})
    elapsed = time.perf_counter() - started
    right_ids: list[str] = ok(answer)["right_ids"]
    return elapsed, right_ids


def build_feed(
    admin: httpx.Client, plan: ServerPlan, run: DatabaseRun, cpu: ServerCpu, say: Say
) -> list[str]:
    """Import ``feed_rights`` rights, ``import_rows`` at a time, timing each import.

    Returns the first import's right ids (row ``i`` is in stand ``STANDS[i % 4]``).
    """
    first: list[str] = []
    for batch in range(plan.imports):
        rows = min(plan.import_rows, plan.feed_rights - batch * plan.import_rows)
        body = rights_csv(batch, rows)
        before = cpu.seconds()
        elapsed, ids = time_import(admin, body)
        run.imports_cpu_s.append(cpu.seconds() - before)
        run.imports_s.append(elapsed)
        run.import_sizes.append(rows)
        first = first or ids
        say(f"  import {batch + 1}/{plan.imports}: {rows:,} rights in {elapsed:.1f} s")
    return first


# -- (b) the whole feed into a fresh gate replica -------------------------------------------------


class TimedReplica(Replica):
    """The gate's replica, counting pages and the time spent applying them."""

    pages = 0
    apply_s = 0.0

    def apply_changes(self, batch: ChangeBatch) -> int:
        started = time.perf_counter()
        try:
            return super().apply_changes(batch)
        finally:
            self.apply_s += time.perf_counter() - started
            self.pages += 1


def stream_feed(server: RunningServer, token: str, path: Path, page: int) -> StreamRun:
    """Pull the feed from 0 into a new replica with the gate's own ``SyncClient.pull``.

    That is what a gate enrolled afresh runs: it fetches and decodes the next page while it
    applies the current one.
    """
    remove_replica(path)
    started = time.perf_counter()
    with (
        TimedReplica(path) as replica,
        SyncClient(server.url, token, replica, timeout_s=HTTP_TIMEOUT_S) as sync,
    ):
        changes = sync.pull(page_size=page)
        elapsed = time.perf_counter() - started
        pages, apply_s = replica.pages, replica.apply_s
    return StreamRun(changes, pages, elapsed, apply_s, replica_size_mb(path))


# -- (c) scan upload ------------------------------------------------------------------------------


def granted_scan(right_id: str, stand: str, at_ms: int) -> dict[str, Any]:
    return {
        "scan_id": str(uuid4()),
        "gate": GATE,
        "direction": "in",
        "reason": "granted",
        "scanned_at_ms": at_ms,
        "right_id": right_id,
        "event": EVENT,
        "zone": stand,
        "code_kind": "eg1",
        "latency_ms": 0.5,
    }


def scan_bodies(rights: Sequence[str], offset: int, plan: ServerPlan) -> list[bytes]:
    """One run's upload bodies, encoded before timing: first entries of distinct rights."""
    at_ms = int(datetime.now(UTC).timestamp() * 1000)
    bodies = []
    for b in range(plan.scan_batches):
        start = offset + b * plan.scan_batch
        scans = [
            granted_scan(rights[i], STANDS[i % len(STANDS)], at_ms + i)
            for i in range(start, start + plan.scan_batch)
        ]
        bodies.append(json.dumps({"scans": scans}).encode())
    return bodies


def time_scan_upload(gate: httpx.Client, bodies: Sequence[bytes], per_body: int) -> ScanRun:
    """Upload the batches one after the other, as one gate catching up would."""
    stored = 0
    headers = {"Content-Type": "application/json"}
    started = time.perf_counter()
    for body in bodies:
        stored += ok(gate.post("/gate/scans", content=body, headers=headers))["stored"]
    elapsed = time.perf_counter() - started
    return ScanRun(len(bodies) * per_body, stored, elapsed)


# -- one database, then all -----------------------------------------------------------------------


def measure_database(kind: str, plan: ServerPlan, workdir: Path, say: Say) -> DatabaseRun:
    run = DatabaseRun(kind)
    with fresh_database(kind, workdir) as url:
        run.label = database_label(url)
        say(f"{run.label}: starting the server")
        log = workdir / f"server-{kind}.log"
        server = start_server(url, log, ENTRIX_FEED_POLL_INTERVAL_S=PRODUCTION_POLL_S)
        try:
            cpu = ServerCpu(server)
            measure_on(server, plan, run, cpu, workdir, say)
            run.server_rss_mb = cpu.rss_mb()
        finally:
            server.stop()
    return run


def measure_on(
    server: RunningServer,
    plan: ServerPlan,
    run: DatabaseRun,
    cpu: ServerCpu,
    workdir: Path,
    say: Say,
) -> None:
    with server.client("admin") as admin:
        admin.timeout = httpx.Timeout(HTTP_TIMEOUT_S)
        token = set_up_site(admin)
        rights = build_feed(admin, plan, run, cpu, say)
    with client(server, token) as gate:
        for i in range(plan.stream_runs):
            before = cpu.seconds()
            stream = stream_feed(server, token, workdir / f"replica-{run.kind}.db", plan.page)
            run.streams_cpu_s.append(cpu.seconds() - before)
            run.streams.append(stream)
            say(
                f"  stream {i + 1}/{plan.stream_runs}: {stream.changes:,} changes in "
                f"{stream.seconds:.1f} s (applying {stream.apply_s:.1f} s of it)"
            )
        remove_replica(workdir / f"replica-{run.kind}.db")
        for i in range(plan.scan_runs):
            bodies = scan_bodies(rights, i * plan.scans_per_run, plan)
            before = cpu.seconds()
            scans = time_scan_upload(gate, bodies, plan.scan_batch)
            run.scans_cpu_s.append(cpu.seconds() - before)
            run.scans.append(scans)
            say(f"  scans {i + 1}/{plan.scan_runs}: {scans.per_second:,.0f} /s")


def measure_server(plan: ServerPlan, workdir: Path, results: ServerResults, say: Say) -> None:
    """Every figure on each database in turn; the scans use the first import's rights."""
    load = os.getloadavg()[0]
    for kind in plan.databases:
        results.runs.append(measure_database(kind, plan, workdir, say))
    results.notes += notes(plan, results.runs, load, os.getloadavg()[0])


def notes(
    plan: ServerPlan, runs: Sequence[DatabaseRun], load_before: float, load_after: float
) -> list[str]:
    """What a reader must know to trust the figures: runs cut short, other load, lost scans."""
    found = [
        f"Load average (1 min) {load_before:.2f} before the server part and {load_after:.2f} "
        f"after it, on {os.cpu_count()} cores: anything above the benchmark's own two busy "
        "processes was other work on this machine, and slows every figure."
    ]
    if plan.stream_runs < 3:
        found.append(
            f"The feed of {plan.feed_rights:,} rights was streamed {plan.stream_runs} time(s) per "
            "database only (each takes minutes; the whole server part must fit in ~12 min on "
            "this 2-core machine): its figure is that run, not a median of several."
        )
    for run in runs:
        lost = sum(s.scans - s.stored for s in run.scans)
        if lost:
            found.append(f"{run.label}: {lost:,} uploaded scans were not stored (duplicates?).")
    return found


# -- the report -----------------------------------------------------------------------------------


def scaled(target: float, size: int, reference: int) -> tuple[float, str]:
    """A target set for ``reference`` items, scaled linearly to ``size`` when a run is smaller."""
    if size == reference:
        return target, ""
    return target * size / reference, f" (target scaled from {reference:,})"


def headline(plan: ServerPlan, run: DatabaseRun) -> list[Figure]:
    import_target, import_note = scaled(IMPORT_TARGET_S, plan.import_rows, IMPORT_TARGET_ROWS)
    figures = [
        at_most(
            f"{run.label}: import {plan.import_rows:,} rights (CSV){import_note}",
            import_target,
            median(run.imports_s),
            seconds,
        )
    ]
    if run.streams:
        stream_target, stream_note = scaled(STREAM_TARGET_S, plan.feed_rights, STREAM_TARGET_RIGHTS)
        figures.append(
            at_most(
                f"{run.label}: feed of {plan.feed_rights:,} rights into a fresh replica"
                f"{stream_note}",
                stream_target,
                median([s.seconds for s in run.streams]),
                seconds,
            )
        )
    if run.scans:
        figures.append(
            at_least(
                f"{run.label}: scan upload, batches of {plan.scan_batch}",
                SCAN_TARGET_PER_S,
                median([s.per_second for s in run.scans]),
                per_s,
            )
        )
    return figures


def series(
    label: str, values: Sequence[float], fmt: Callable[[float], str]
) -> tuple[str, str, str]:
    """A detail row: the median and every run."""
    return label, fmt(median(values)), runs_of(values, fmt)


def import_rows(run: DatabaseRun) -> list[tuple[str, str, str]]:
    total_s, total = sum(run.imports_s), sum(run.import_sizes)
    return [
        series(
            f"Import of {run.import_sizes[0]:,} rights, each of the {len(run.imports_s)} imports "
            "(the database grows)",
            run.imports_s,
            seconds,
        ),
        series("… server process CPU per import", run.imports_cpu_s, seconds),
        ("Import rate", per_s(total / total_s), f"{total:,} rights in {total_s:.1f} s"),
    ]


def stream_rows(run: DatabaseRun) -> list[tuple[str, str, str]]:
    if not run.streams:
        return []
    first = run.streams[0]
    return [
        series(
            f"Feed into a fresh replica ({first.changes:,} changes, {first.pages} pages)",
            [s.seconds for s in run.streams],
            seconds,
        ),
        series("… `Replica.apply_changes`", [s.apply_s for s in run.streams], seconds),
        series(
            "… fetching not overlapped by applying",
            [s.seconds - s.apply_s for s in run.streams],
            seconds,
        ),
        series("… server process CPU meanwhile", run.streams_cpu_s, seconds),
        series("Feed rate", [s.per_second for s in run.streams], per_s),
        ("Replica size after the feed", f"{run.streams[-1].replica_mb:,.0f} MB", ""),
    ]


def scan_rows(run: DatabaseRun) -> list[tuple[str, str, str]]:
    if not run.scans:
        return []
    return [
        series("Scan upload", [s.per_second for s in run.scans], per_s),
        series(
            "… server process CPU per run",
            run.scans_cpu_s,
            lambda v: f"{v:.2f} s",
        ),
        series("… wall time per run", [s.seconds for s in run.scans], lambda v: f"{v:.2f} s"),
    ]


def detail_rows(run: DatabaseRun) -> list[tuple[str, str, str]]:
    rss = ("Server process RSS at the end", f"{run.server_rss_mb:,.0f} MB", "")
    return [*import_rows(run), *stream_rows(run), *scan_rows(run), rss]


def detail_table(runs: Sequence[DatabaseRun]) -> list[str]:
    lines = ["| Database | Figure | Median | Runs |", "|---|---|---|---|"]
    for run in runs:
        lines += [f"| {run.label} | {a} | {b} | {c} |" for a, b, c in detail_rows(run)]
    return lines


def share(part: Sequence[float], whole: Sequence[float]) -> float:
    return sum(part) / sum(whole) if sum(whole) else 0.0


def on_cpu(run: DatabaseRun, what: str, busy: float) -> str:
    """Where a figure's wall time goes: the server's CPU, or waiting (for PostgreSQL mostly)."""
    if run.kind == "sqlite":
        rest = "SQLite works inside that process, so the rest is the disk, the wire, other load"
    else:
        rest = "the rest is mostly waiting for PostgreSQL, whose own processes are not counted"
    return f"- {run.label}, {what}: the server process is on CPU {busy:.0%} of the time; {rest}."


def where_time_goes(runs: Sequence[DatabaseRun]) -> list[str]:
    """Each figure's split between the server's CPU and the rest, computed, never hand-written."""
    lines = []
    for run in runs:
        lines.append(on_cpu(run, "import", share(run.imports_cpu_s, run.imports_s)))
        if run.streams:
            apply = median([s.apply_s for s in run.streams])
            total = median([s.seconds for s in run.streams])
            server = median(run.streams_cpu_s)
            lines.append(
                f"- {run.label}, feed: applying pages to the replica takes {apply / total:.0%} "
                f"of the time; the next page is fetched meanwhile, and the {total - apply:.0f} s "
                f"left are fetching it did not hide ({server:.0f} s of server CPU in all: query, "
                "rows, JSON; the rest HTTP and decoding on the gate, which shares its cores)."
            )
        if run.scans:
            busy = share(run.scans_cpu_s, [s.seconds for s in run.scans])
            lines.append(on_cpu(run, "scan upload", busy))
    return lines


def method(r: ServerResults) -> list[str]:
    p = r.plan
    return [
        "- Server: `gate-server serve` (one uvicorn process, default settings, feed polled "
        f"every {PRODUCTION_POLL_S} s) started by "
        "`tests.support.server.start_server` on a fresh database: SQLite in WAL mode with "
        "`synchronous=FULL` on the machine's disk, or a throwaway PostgreSQL cluster "
        "(`tests.support.postgres.PostgresCluster`, run with **`fsync=off`**, so its commits "
        "cost less than in production). The benchmark (HTTP client and gate replica) runs in "
        "another process on the same machine: both share its cores.",
        f"- Import: `POST /api/v1/rights/import` with a CSV of {p.import_rows:,} tickets of one "
        "match (event, one stand, a holder reference, a seat), all or nothing, timed from "
        f"request to answer (which lists the new ids). {p.imports} imports build a feed of "
        f"{p.feed_rights:,} rights; every one is timed and the figure is their median, so the "
        "later ones run against a bigger database.",
        "- Feed: a fresh gate replica (`scanner_app.replica.Replica`) is filled by the gate's "
        "own `SyncClient.pull`, which asks "
        f"`GET /api/v1/gate/changes?since=cursor&limit={p.page:,}` from 0 until the feed says no "
        "more, decoding each page into a `ChangeBatch` and applying it with "
        "`Replica.apply_changes` (one transaction per page, fsync'ed) while the next page is "
        f"fetched. {p.stream_runs} run(s), each into a new file.",
        f"- Scan upload: {p.scan_runs} run(s) of {p.scan_batches} batches of {p.scan_batch} "
        "granted first entries of distinct imported rights, posted one after the other by one "
        "enrolled gate (`POST /api/v1/gate/scans`, bodies encoded before timing). Each scan is "
        "stored, updates the right's usage and the zone's occupancy, and is published back to "
        "the venue's gates.",
    ]


def render_server(r: ServerResults) -> str:
    """The whole ``server`` section of docs/BENCHMARKS.md."""
    make = " (`make bench`)" if r.make_bench else ""
    figures = [f for run in r.runs for f in headline(r.plan, run)]
    blocks: list[list[str]] = [
        ["## Sync server: import, change feed, scan upload"],
        [
            f"Measured {r.date} with `{r.command}`{make}; "
            f"the server part took {r.total_s / 60:.1f} min."
        ],
        headline_table(figures),
        ["Where the time goes (from the server process's CPU time):", *where_time_goes(r.runs)]
        if r.runs
        else [],
        ["### All figures"],
        detail_table(r.runs),
        ["### Machine"],
        [f"- {key}: {value}" for key, value in r.machine.items()],
        ["### Method"],
        method(r),
    ]
    if r.notes:
        blocks += [["### Notes"], [f"- {note}" for note in r.notes]]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
