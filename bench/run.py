"""``python -m bench.run``: measure issue 2's gate figures and, with ``--write``, record them.

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

from bench import gate
from bench.gate import DecideResults
from bench.machine import filesystem_of, machine_info
from bench.report import render_decide, write_section

DEFAULT_RUNS = 3
DEFAULT_REPEATS = 5
FSYNC_PROBES = 500
MAKE_BENCH_ARGS = ["--write", "docs/BENCHMARKS.md"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Entrix Gate benchmarks (issue 2: decisions)."
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
    args = parser.parse_args(argv)
    if min(args.runs, args.repeats, args.rights, args.codes, args.scans) < 1:
        parser.error("--runs, --repeats, --rights, --codes and --scans must be at least 1")
    return args


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
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="entrix-bench-", dir=args.dir))
    fs = filesystem_of(workdir)
    if not fs.on_disk:
        say(f"warning: {workdir} is on {fs.fstype}: fsync never reaches a disk there")
    say(f"replica in {workdir}: {fs.describe()}")
    results = DecideResults(rights=args.rights, bans=args.bans, seed=args.seed)
    results.machine = machine_info(workdir)
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    given = list(sys.argv[1:] if argv is None else argv)
    results.command = shlex.join(["python", "-m", "bench.run", *given])
    results.make_bench = given == MAKE_BENCH_ARGS
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
