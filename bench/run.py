"""``python -m bench.run``: measure the gate's figures (issue 2) and the sync server's, and with
``--write``, record them (``--skip-server``: the gate's only; ``--server-only``: the server's).

The replica lives in a fresh directory on a real disk (``--dir``, /var/tmp by default) so that
the fsync of every recorded scan costs what it costs on a gate; it is deleted afterwards.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import dashboard, decoders, gate, kiosk, server
from bench.gate import DecideResults
from bench.machine import filesystem_of, machine_info
from bench.report import render_decide, write_section
from scanner_app.sync import PAGE_SIZE

DEFAULT_RUNS = 3
DEFAULT_REPEATS = 5
FSYNC_PROBES = 500
MAKE_BENCH_ARGS = ["--write", "docs/BENCHMARKS.md"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Entrix Gate benchmarks: gate decisions (issue 2), then the sync server.",
    )
    parser.add_argument("--write", metavar="PATH", help="record the figures in this Markdown file")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="replica builds (3)")
    parser.add_argument(
        "--repeats", type=int, default=DEFAULT_REPEATS, help="runs of every other figure (5)"
    )
    parser.add_argument("--rights", type=int, default=1_000_000, help="access rights (1,000,000)")
    parser.add_argument("--bans", type=int, default=100_000, help="blacklist entries (100,000)")
    parser.add_argument("--codes", type=int, default=10_000, help="codes per decide() run")
    parser.add_argument("--scans", type=int, default=2_000, help="durable checks per run")
    parser.add_argument("--seed", type=int, default=2026, help="demo data seed")
    parser.add_argument("--dir", default="/var/tmp", help="where the replica goes (a real disk)")
    parser.add_argument("--keep", action="store_true", help="keep the replica directory")
    parser.add_argument(
        "--decoders-only", action="store_true", help="only the QR decoders' figures (issue 6)"
    )
    parser.add_argument(
        "--kiosk-only", action="store_true", help="only the idle kiosk's CPU (issue 6)"
    )
    parser.add_argument(
        "--kiosk-display", action="store_true", help="kiosk on the display, not Qt offscreen"
    )
    parser.add_argument(
        "--dashboard-only",
        action="store_true",
        help="only the dashboard under load: 200 gates, 10 supervisors (issue 7)",
    )
    parser.add_argument(
        "--dashboard-seconds",
        type=float,
        default=45.0,
        help="dashboard load per phase: gates alone, then with supervisors (45)",
    )
    parser.add_argument(
        "--sync-only", action="store_true", help="only the gate's sync figures (issue 4)"
    )
    parser.add_argument(
        "--e2e-only", action="store_true", help="only the end-to-end replay (issue 8)"
    )
    add_server_args(parser)
    args = parser.parse_args(argv)
    if min(args.runs, args.repeats, args.rights, args.codes, args.scans) < 1:
        parser.error("--runs, --repeats, --rights, --codes and --scans must be at least 1")
    if args.decoders_only and args.server_only:
        parser.error("--decoders-only and --server-only exclude each other")
    if args.kiosk_only and (args.decoders_only or args.server_only):
        parser.error("--kiosk-only excludes --decoders-only and --server-only")
    if args.server_only and args.skip_server:
        parser.error("--server-only and --skip-server leave nothing to run")
    if args.dashboard_only and (args.decoders_only or args.kiosk_only or args.server_only):
        parser.error("--dashboard-only excludes the other --*-only options")
    if args.dashboard_seconds < 5:
        parser.error("--dashboard-seconds must be at least 5")
    if min(args.import_rows, args.feed_rights, args.page, args.scan_batch) < 1:
        parser.error("--import-rows, --feed-rights, --page and --scan-batch must be at least 1")
    scans_needed = args.scan_runs * args.scan_batches * args.scan_batch
    if scans_needed > min(args.import_rows, args.feed_rights):
        parser.error("the scan runs need more rights than one import makes")
    return args


def add_server_args(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--server-only", action="store_true", help="only the sync server's figures")
    which.add_argument(
        "--skip-server", action="store_true", help="all but the sync server's figures"
    )
    group = parser.add_argument_group("sync server")
    group.add_argument(
        "--databases",
        default=",".join(server.DATABASES),
        help="comma-separated: sqlite, postgresql (both)",
    )
    group.add_argument("--import-rows", type=int, default=100_000, help="rights per import")
    group.add_argument(
        "--feed-rights", type=int, default=1_000_000, help="rights in the feed (1,000,000)"
    )
    group.add_argument(
        "--page",
        type=int,
        default=PAGE_SIZE,
        help=f"feed page size (the gate's own, {PAGE_SIZE:,})",
    )
    group.add_argument("--stream-runs", type=int, default=1, help="feeds into fresh replicas (1)")
    group.add_argument("--scan-runs", type=int, default=3, help="scan upload runs (3)")
    group.add_argument("--scan-batches", type=int, default=10, help="batches per scan run (10)")
    group.add_argument("--scan-batch", type=int, default=500, help="scans per batch (500)")


def server_plan(args: argparse.Namespace) -> server.ServerPlan:
    databases = tuple(d.strip() for d in args.databases.split(",") if d.strip())
    unknown = sorted(set(databases) - set(server.DATABASES))
    if unknown or not databases:
        sys.exit(f"--databases: choose among {', '.join(server.DATABASES)} (got {unknown})")
    return server.ServerPlan(
        databases=databases,
        import_rows=args.import_rows,
        feed_rights=args.feed_rights,
        page=args.page,
        stream_runs=args.stream_runs,
        scan_runs=args.scan_runs,
        scan_batches=args.scan_batches,
        scan_batch=args.scan_batch,
    )


def say(message: str) -> None:
    print(message, flush=True)


def chunks(items: list[str], size: int, count: int) -> list[list[str]]:
    """``count`` consecutive slices of ``size`` items: one per run, never sharing a code."""
    return [items[i * size : (i + 1) * size] for i in range(count)]


def build(args: argparse.Namespace, workdir: Path, results: DecideResults) -> gate.Build:
    """Build the replica ``--runs`` times, keeping only the last file."""
    key = Ed25519PrivateKey.generate()
    last: gate.Build | None = None
    for i in range(args.runs):
        if last is not None:
            gate.remove_replica(last.path)
        last = gate.build_replica(
            workdir / f"replica-{i}.db", rights=args.rights, bans=args.bans, seed=args.seed, key=key
        )
        results.builds_s.append(last.seconds)
        say(f"build {i + 1}/{args.runs}: {last.seconds:.1f} s")
    assert last is not None
    results.replica_mb = gate.replica_size_mb(last.path)
    return last


def measure_decide(
    args: argparse.Namespace, built: gate.Build, eg1: list[str], results: DecideResults
) -> None:
    """decide() on EG1 and plain codes, EG1 verify alone and Ed25519 alone, per repeat."""
    plain_rights = gate.pick_rights(built.path, args.repeats * args.codes, plain=True)
    per_run = len(plain_rights) // args.repeats
    plain = chunks(gate.sign_codes(built.site, plain_rights), per_run, args.repeats)
    keyring = gate.keyring_of(built.site)
    for i, codes in enumerate(chunks(eg1, args.codes, args.repeats)):
        results.decide_eg1.append(gate.time_decide(built.path, codes))
        if per_run:
            results.decide_plain.append(gate.time_decide(built.path, plain[i]))
        results.credential_verify.append(gate.time_credential_verify(codes, keyring))
        results.ed25519.append(gate.time_ed25519(codes, keyring))
        say(
            f"decide run {i + 1}/{args.repeats}: EG1 {results.decide_eg1[-1].per_second:,.0f}/s,"
            f" Ed25519 alone {results.ed25519[-1].per_second:,.0f}/s"
        )


def measure_checks(
    args: argparse.Namespace, built: gate.Build, scans: list[str], results: DecideResults
) -> None:
    """Durable checks in a fresh process per repeat: latency and resident memory."""
    codes_file = built.path.with_name("codes.json")
    for i, codes in enumerate(chunks(scans, args.scans, args.repeats)):
        run = gate.run_gate(built.path, codes, codes_file)
        results.gate_runs.append(run)
        say(
            f"check run {i + 1}/{args.repeats}: max {max(run.latencies_ms):.1f} ms, "
            f"RSS {run.rss_checked_mb:.0f} MB"
        )


def measure(args: argparse.Namespace, workdir: Path, results: DecideResults) -> None:
    """Every issue 2 figure, in order: disk floor, builds, decide() and friends, durable checks."""
    results.fsync_ms = gate.time_fsync(workdir, FSYNC_PROBES)
    built = build(args, workdir, results)
    needed = args.repeats * (args.codes + args.scans)
    say(f"signing {needed:,} EG1 codes of random rights ...")
    eg1 = gate.sign_codes(built.site, gate.pick_rights(built.path, needed, plain=False))
    if len(eg1) < needed:
        sys.exit(f"the replica has only {len(eg1):,} EG1 rights, {needed:,} needed")
    measure_decide(args, built, eg1[: args.repeats * args.codes], results)
    measure_checks(args, built, eg1[args.repeats * args.codes :], results)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    given = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "-m", "bench.run", *given])
    make_bench = given == MAKE_BENCH_ARGS
    if args.decoders_only:
        run_decoders(args, given)
        return 0
    if args.kiosk_only:
        run_kiosk(args, command)
        return 0
    if args.dashboard_only:
        run_dashboard(args, command)
        return 0
    if args.sync_only:
        run_sync(args)
        return 0
    if args.e2e_only:
        run_e2e(args)
        return 0
    if not args.server_only:
        run_gate(args, command, make_bench)
        run_decoders(args, given)
        run_kiosk(args, command)
    if not args.skip_server:
        run_server(args, command, make_bench)
        run_dashboard(args, command)
        run_sync(args)
        run_e2e(args)
    return 0


def run_sync(args: argparse.Namespace) -> None:
    """Issue 4's figures: catch-up, backlog upload, the sync process's memory, gate to gate."""
    from bench import sync

    sync.main([*(["--write", args.write] if args.write else []), "--dir", args.dir])


def run_e2e(args: argparse.Namespace) -> None:
    """Issue 8's figures: two headless gates replaying camera frames against a server."""
    from bench import e2e

    e2e.main([*(["--write", args.write] if args.write else []), "--dir", args.dir])


def run_gate(args: argparse.Namespace, command: str, make_bench: bool) -> None:
    """Issue 2's figures: the gate's replica, decide() and durable checks."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-", dir=args.dir))
    fs = filesystem_of(workdir)
    if not fs.on_disk:
        say(f"warning: {workdir} is on {fs.fstype}: fsync never reaches a disk there")
    say(f"replica in {workdir}: {fs.describe()}")
    results = DecideResults(rights=args.rights, bans=args.bans, seed=args.seed)
    results.machine = machine_info(workdir)
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.command = command
    results.make_bench = make_bench
    if not fs.on_disk:
        results.notes.append(f"The replica was on {fs.fstype}: fsync reached no disk.")
    try:
        measure(args, workdir, results)
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results.total_s = time.perf_counter() - started
    section = render_decide(results)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "decide", section)
        say(f"written to {args.write}")


def run_decoders(args: argparse.Namespace, given: list[str]) -> None:
    """Issue 6's figures: the QR decoders on real photos and 720p frames, the live pipeline."""
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-decoders-", dir=args.dir))
    try:
        results = decoders.run_decoder_bench(
            workdir=workdir, say=say, repeats=args.repeats, seed=args.seed, command=given
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    section = decoders.render_decoders(results)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "decoders", section)
        say(f"written to {args.write}")


def run_kiosk(args: argparse.Namespace, command: str) -> None:
    """Issue 6's idle kiosk: CPU of the real window with the demo camera at 30 fps."""
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-kiosk-", dir=args.dir))
    try:
        results = kiosk.run_kiosk_bench(
            workdir=workdir,
            say=say,
            repeats=args.repeats,
            command=command,
            display=args.kiosk_display,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    section = kiosk.render_kiosk(results)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "kiosk", section)
        say(f"written to {args.write}")


def run_dashboard(args: argparse.Namespace, command: str) -> None:
    """Issue 7's figures: the API's latency and the server's CPU with the dashboard in use."""
    plan = dashboard.DashboardPlan(seconds=args.dashboard_seconds)
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-dashboard-", dir=args.dir))
    report = dashboard.DashboardReport(plan, machine=machine_info(workdir), command=command)
    report.machine = {k: v for k, v in report.machine.items() if "filesystem" not in k.lower()}
    report.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        dashboard.measure_dashboard(plan, workdir, report, say)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    section = dashboard.render_dashboard(report)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "dashboard", section)
        say(f"written to {args.write}")


def run_server(args: argparse.Namespace, command: str, make_bench: bool) -> None:
    """The sync server's figures: import, the feed into a fresh replica, scan upload."""
    plan = server_plan(args)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-server-", dir=args.dir))
    say(f"server bench in {workdir}: {filesystem_of(workdir).describe()}")
    results = server.ServerResults(plan, machine=machine_info(workdir), command=command)
    results.machine["Replica filesystem"] += " (the SQLite server database too)"
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.make_bench = make_bench
    try:
        server.measure_server(plan, workdir, results, say)
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results.total_s = time.perf_counter() - started
    section = server.render_server(results)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "server", section)
        say(f"written to {args.write}")


if __name__ == "__main__":
    sys.exit(main())
