"""Dashboard load: 200 gates heartbeating every 5 s (and uploading a few scans) while 10
supervisors keep the dashboard open (a server-sent event stream each, plus a page load every 5 s),
against a real ``gate-server serve``: one process on SQLite (the default), then two worker
processes on a throwaway PostgreSQL cluster (production). Measures the API's latency and the
server's CPU; :func:`render_dashboard` writes the ``dashboard`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy.orm import sessionmaker

from bench.report import Figure, at_most, headline_table, ms
from bench.server import database_label, fresh_database, ok, tree_cpu_s, tree_rss_mb
from bench.stats import percentile
from sync_server.core.security import USER_TOKEN_PREFIX, hash_token, new_token
from sync_server.db import make_engine
from sync_server.models import User
from sync_server.services import sessions
from tests.support.server import RunningServer, start_server

P95_TARGET_MS = 100.0
CPU_TARGET_CORES = 1.0
VENUE = "DASH"
EVENT = "DASH-MATCH"
STANDS = ("NORD", "SUD", "EST", "OUEST")
PASSWORD = "bench-password"
MAX_CONNECTIONS = 12
"""Gates' requests in flight at once. The server holds a pooled database connection (SQLite's pool:
15) across its worker-thread hops; with more requests in flight than connections, every thread can
end up waiting for a connection that only a waiting request would free (30 s pool timeout). A
reverse proxy's upstream pool caps it the same way in production."""
Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Setup:
    """A server to load: its database and how many uvicorn worker processes serve it."""

    database: str
    workers: int


SETUPS = (Setup("sqlite", 1), Setup("postgresql", 2))


@dataclass(frozen=True, slots=True)
class DashboardPlan:
    gates: int = 200
    supervisors: int = 10
    period_s: float = 5.0
    seconds: float = 60.0
    """Per phase: the gates alone (the control), then the gates with the supervisors."""
    setups: tuple[Setup, ...] = SETUPS


@dataclass(slots=True)
class DashboardResults:
    """One phase on one server."""

    plan: DashboardPlan
    label: str = ""
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    stream_events: list[int] = field(default_factory=list)
    server_cpu_cores: float = 0.0
    database_cpu_cores: float | None = None
    """PostgreSQL's own processes (None on SQLite, which works inside the server's)."""
    server_rss_mb: float = 0.0
    setup_s: float = 0.0
    baseline: DashboardResults | None = None
    """The same gates with nobody watching: what the dashboard adds is the difference."""

    def record(self, kind: str, started: float) -> None:
        self.latencies_ms.setdefault(kind, []).append((time.perf_counter() - started) * 1000)

    @property
    def api_ms(self) -> list[float]:
        return [v for kind, values in self.latencies_ms.items() for v in values]


@dataclass(slots=True)
class DashboardReport:
    plan: DashboardPlan
    runs: list[DashboardResults] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    command: str = ""
    date: str = ""


def postmaster_pid(url: str) -> int | None:
    """PostgreSQL's postmaster, the parent of every backend (None on SQLite)."""
    if url.startswith("sqlite"):
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    finally:
        engine.dispose()
    return psutil.Process(int(backend)).ppid()


def set_up(server: RunningServer, plan: DashboardPlan) -> list[tuple[str, str, str]]:
    """A venue of four stands, tonight's match, enrolled gates: (name, zone, device token)."""
    admin = server.client("admin")
    zones = [{"code": "STADE", "name": "Stade", "capacity": 60_000}]
    zones += [{"code": s, "name": s.title(), "parent": "STADE", "capacity": 15_000} for s in STANDS]
    ok(admin.post("/venues", json={"code": VENUE, "name": "Bench stadium", "zones": zones}))
    starts = datetime.now(UTC) + timedelta(hours=1)
    ok(
        admin.post(
            "/events",
            json={
                "code": EVENT,
                "name": "Bench match",
                "venue": VENUE,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
            },
        )
    )
    gates = []
    for i in range(plan.gates):
        name, zone = f"G-{i + 1:03d}", STANDS[i % len(STANDS)]
        body = {"venue": VENUE, "name": name, "zones": [zone], "event_codes": [EVENT]}
        ok(admin.post("/gates", json=body))
        code = ok(admin.post(f"/venues/{VENUE}/gates/{name}/enrollment"))["code"]
        gates.append((name, zone, ok(admin.post("/gate/enroll", json={"code": code}))["token"]))
    return gates


LANGUAGES = ("fr", "ar", "en")
"""The supervisors' languages, in turn (issue 16: a build renders each language in use)."""


def add_supervisors(database_url: str, count: int) -> list[str]:
    """Supervisors with a dashboard password, written straight to the database (fast)."""
    engine = make_engine(database_url)
    names = [f"supervisor-{i + 1}" for i in range(count)]
    with sessionmaker(engine)() as session:
        for i, name in enumerate(names):
            token_hash = hash_token(new_token(USER_TOKEN_PREFIX))
            # The three languages in use at once: each build renders the live parts in each.
            language = LANGUAGES[i % len(LANGUAGES)]
            user = User(name=name, role="supervisor", token_hash=token_hash, language=language)
            session.add(user)
            sessions.set_password(session, user=user, password=PASSWORD)
        session.commit()
    engine.dispose()
    return names


def _scans(name: str, zone: str, rng: random.Random) -> list[dict[str, Any]]:
    now_ms = int(time.time() * 1000)
    return [
        {
            "scan_id": str(uuid.uuid4()),
            "gate": name,
            "direction": "in",
            "reason": "granted" if rng.random() < 0.9 else "wrong_zone",
            "scanned_at_ms": now_ms - rng.randrange(5_000),
            "event": EVENT,
            "zone": zone,
        }
        for _ in range(rng.randrange(1, 4))
    ]


async def gate_loop(
    client: httpx.AsyncClient,
    gate: tuple[str, str, str],
    plan: DashboardPlan,
    results: DashboardResults,
    until: float,
) -> None:
    """Every period: upload a few scans, then a heartbeat, as a gate's sync loop does."""
    name, zone, token = gate
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(name)
    await asyncio.sleep(rng.random() * plan.period_s)
    while time.perf_counter() < until:
        began = time.perf_counter()
        for kind, path, body in (
            ("scan upload", "/gate/scans", {"scans": _scans(name, zone, rng)}),
            (
                "heartbeat",
                "/gate/heartbeat",
                {
                    "outbox": 0,
                    "clock_ms": int(time.time() * 1000),
                    "relay": "closed",
                    "camera": "ok",
                    "last_sync_ms": int(time.time() * 1000),
                },
            ),
        ):
            started = time.perf_counter()
            try:
                answer = await client.post(f"/api/v1{path}", json=body, headers=headers)
                answer.raise_for_status()
                results.record(kind, started)
            except httpx.HTTPError:
                results.errors += 1
        await asyncio.sleep(max(0.0, plan.period_s - (time.perf_counter() - began)))


async def supervisor_loop(
    base_url: str, name: str, plan: DashboardPlan, results: DashboardResults, until: float
) -> None:
    """Sign in, hold the live stream open, and load the whole page every period."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as browser:
        started = time.perf_counter()
        await browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        results.record("sign-in (scrypt)", started)
        events = 0

        async def listen() -> None:
            nonlocal events
            async with browser.stream("GET", "/dashboard/stream", timeout=None) as stream:
                # Counting, not parsing: the load generator shares the machine with the server.
                async for chunk in stream.aiter_raw():
                    events += chunk.count(b"event: live")

        listener = asyncio.create_task(listen())
        while time.perf_counter() < until:
            started = time.perf_counter()
            try:
                (await browser.get("/dashboard")).raise_for_status()
                results.record("dashboard page", started)
            except httpx.HTTPError:
                results.errors += 1
            await asyncio.sleep(plan.period_s)
        listener.cancel()
        results.stream_events.append(events)


async def run_load(
    server: RunningServer,
    gates: list[tuple[str, str, str]],
    names: list[str],
    plan: DashboardPlan,
    results: DashboardResults,
    postmaster: int | None,
) -> None:
    assert server.process is not None
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
        until = time.perf_counter() + plan.seconds
        cpu = tree_cpu_s(server.process.pid)
        db_cpu = None if postmaster is None else tree_cpu_s(postmaster)
        wall = time.perf_counter()
        await asyncio.gather(
            *(gate_loop(client, g, plan, results, until) for g in gates),
            *(supervisor_loop(server.url, n, plan, results, until) for n in names),
        )
        used = tree_cpu_s(server.process.pid)
        seconds = time.perf_counter() - wall
    results.server_cpu_cores = (used - cpu) / seconds
    if postmaster is not None and db_cpu is not None:
        results.database_cpu_cores = (tree_cpu_s(postmaster) - db_cpu) / seconds
    results.server_rss_mb = tree_rss_mb(server.process.pid)


def measure_setup(setup: Setup, plan: DashboardPlan, workdir: Path, say: Say) -> DashboardResults:
    with fresh_database(setup.database, workdir) as url:
        label, postmaster = database_label(url), postmaster_pid(url)
        workers = "1 worker" if setup.workers == 1 else f"{setup.workers} workers"
        results = DashboardResults(plan, label=f"{label}, {workers}")
        began = time.perf_counter()
        server = start_server(url, workdir / f"server-{setup.database}.log", workers=setup.workers)
        try:
            say(f"{results.label}: enrolling {plan.gates} gates ...")
            gates = set_up(server, plan)
            names = add_supervisors(url, plan.supervisors)
            results.setup_s = time.perf_counter() - began
            say(f"{plan.gates} gates alone for {plan.seconds:.0f} s (the control) ...")
            results.baseline = DashboardResults(plan, label=results.label)
            asyncio.run(run_load(server, gates, [], plan, results.baseline, postmaster))
            say(
                f"{plan.gates} gates and {plan.supervisors} supervisors for "
                f"{plan.seconds:.0f} s ..."
            )
            asyncio.run(run_load(server, gates, names, plan, results, postmaster))
        finally:
            server.stop()
    return results


def measure_dashboard(
    plan: DashboardPlan, workdir: Path, report: DashboardReport, say: Say
) -> None:
    for setup in plan.setups:
        report.runs.append(measure_setup(setup, plan, workdir, say))


def headline(r: DashboardResults) -> list[Figure]:
    return [
        at_most(
            f"{r.label}: API latency, p95 (heartbeats, scan uploads, page loads)",
            P95_TARGET_MS,
            percentile(r.api_ms, 95),
            ms,
        ),
        at_most(
            f"{r.label}: server CPU (cores, user + system, every worker)",
            CPU_TARGET_CORES,
            r.server_cpu_cores,
            lambda v: f"{v:.2f}",
        ),
    ]


def details(r: DashboardResults) -> list[str]:
    lines = [
        f"### {r.label}",
        "",
        "| Request | Count | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    for kind, values in sorted(r.latencies_ms.items()):
        lines.append(
            f"| {kind} | {len(values):,} | {ms(percentile(values, 50))} | "
            f"{ms(percentile(values, 95))} | {ms(percentile(values, 99))} | {ms(max(values))} |"
        )
    if r.baseline is not None:
        b = r.baseline
        lines += [
            "",
            "The same gates with no supervisor connected (the control, run first on the same "
            f"server): API latency p50 {ms(percentile(b.api_ms, 50))}, p95 "
            f"{ms(percentile(b.api_ms, 95))}, max {ms(max(b.api_ms))}; server CPU "
            f"{b.server_cpu_cores:.2f} cores; {b.errors} failed requests.",
        ]
    per_page = sorted(r.stream_events)
    lines += [
        "",
        f"- Live updates pushed per supervisor's stream: {per_page[0]}–{per_page[-1]} in "
        f"{r.plan.seconds:.0f} s.",
        f"- Failed requests: {r.errors}. Server resident memory at the end (every worker): "
        f"{r.server_rss_mb:.0f} MB. Set-up (enrolling the gates): {r.setup_s:.0f} s.",
    ]
    if r.database_cpu_cores is not None:
        lines.append(
            f"- PostgreSQL's own processes meanwhile: {r.database_cpu_cores:.2f} cores (not in "
            "the server CPU above; the cluster runs with `fsync=off`)."
        )
    return lines


def render_dashboard(report: DashboardReport) -> str:
    p = report.plan
    lines = [
        "## Dashboard under load (issues 7, 16)",
        "",
        f"{p.gates} gates each upload 1–3 scans then send a heartbeat every {p.period_s:.0f} s; "
        f"{p.supervisors} supervisors (French, Arabic and English in turn) hold the live stream "
        "open and load the whole page every "
        f"{p.period_s:.0f} s; {p.seconds:.0f} s per phase against `gate-server serve` on SQLite "
        "(one uvicorn worker, the default) and on a throwaway PostgreSQL cluster (two workers, "
        "as in production: each keeps its own live view, from the same database), the load "
        "generator on the same machine.",
        "",
        *headline_table([f for r in report.runs for f in headline(r)]),
        "",
        "Each process builds the live sections when anything moved (polled every second, and "
        "when a page loads): only the gate tiles whose data moved are rendered again, and a "
        "stream gets those tiles and the sections that changed, everything only when it "
        "connects or fell behind.",
    ]
    for r in report.runs:
        lines += ["", *details(r)]
    lines += [
        "",
        "### Machine and command",
        "",
        f"- Machine: {', '.join(f'{k}: {v}' for k, v in report.machine.items())}.",
        f"- {report.date}, `{report.command}`.",
    ]
    return "\n".join(lines)
