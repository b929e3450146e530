"""Turn measured runs into a Markdown section and splice it into docs/BENCHMARKS.md.

Each benchmark owns the text between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``;
writing one section keeps the rest of the file (other issues' sections, hand-written notes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.gate import DecideResults, GateRun, Rate
from bench.stats import median, percentile

HEADER = """\
# Benchmarks

Figures here are produced by `make bench` (`python -m bench.run --write docs/BENCHMARKS.md`),
never typed by hand. Each section belongs to one issue and lies between
`<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` markers: a run rewrites its own
section and leaves the rest of this file alone. Every figure is the median of several runs,
measured with `time.perf_counter` on the machine the section names; compare figures only
between runs on the same machine.
"""

BUILD_TARGET_S = 60.0
DECIDE_TARGET_PER_S = 20_000.0
CHECK_P99_TARGET_MS = 10.0
RSS_TARGET_MB = 200.0
FAST_FSYNC_MS = 0.5


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline row: what was measured, the target, the median, and whether it holds."""

    name: str
    target: str
    measured: str
    meets: bool

    margin: float
    """How far the measure is from the target, as a share of the target (always positive)."""

    @property
    def verdict(self) -> str:
        word = "meets" if self.meets else "**misses**"
        return f"{word} ({self.margin:.0%} {'to spare' if self.meets else 'short'})"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def splice(text: str, name: str, body: str) -> str:
    """``text`` with section ``name`` replaced by ``body``, or with it appended if absent."""
    start, end = markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    head, found, rest = text.partition(start)
    if not found:
        return text.rstrip() + "\n\n" + block + "\n"
    _, closed, tail = rest.partition(end)
    if not closed:
        raise ValueError(f"{start} has no {end}: fix the file by hand, nothing was written")
    return head + block + tail


def write_section(path: Path, name: str, body: str) -> None:
    """Replace section ``name`` of the file (or append it), creating the file with a header."""
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(splice(text, name, body), encoding="utf-8")


# -- number formatting --------------------------------------------------------------------------


def per_s(value: float) -> str:
    return f"{value:,.0f} /s"


def ms(value: float) -> str:
    return f"{value:.2f} ms"


def seconds(value: float) -> str:
    return f"{value:.1f} s"


def megabytes(value: float) -> str:
    return f"{value:.1f} MB"


def runs_of(values: Sequence[float], fmt: Callable[[float], str]) -> str:
    return ", ".join(fmt(v) for v in values)


def rates(runs: Sequence[Rate]) -> list[float]:
    return [r.per_second for r in runs]


def latency(runs: Sequence[GateRun], p: float) -> list[float]:
    """The percentile ``p`` of each run's latencies (100 is the maximum)."""
    return [percentile(r.latencies_ms, p) for r in runs]


def reasons(runs: Sequence[Rate] | Sequence[GateRun]) -> str:
    total: Counter[str] = Counter()
    for run in runs:
        total.update(run.reasons)
    return ", ".join(f"{reason} {count:,}" for reason, count in total.most_common())


# -- issue 2: gate decisions ----------------------------------------------------------------------


def at_most(name: str, target: float, measured: float, fmt: Callable[[float], str]) -> Figure:
    """A figure that must stay at or under its target (time, latency, memory)."""
    return Figure(
        name, f"≤ {fmt(target)}", fmt(measured), measured <= target, abs(target - measured) / target
    )


def at_least(name: str, target: float, measured: float, fmt: Callable[[float], str]) -> Figure:
    """A figure that must reach its target (throughput)."""
    return Figure(
        name, f"≥ {fmt(target)}", fmt(measured), measured >= target, abs(measured - target) / target
    )


def headline(r: DecideResults) -> list[Figure]:
    """The four figures issue 2 sets targets for."""
    size = f"{r.rights:,} rights, {r.bans:,} bans"
    return [
        at_most(f"Build the replica ({size})", BUILD_TARGET_S, median(r.builds_s), seconds),
        at_least(
            "`decide()` alone, EG1 codes", DECIDE_TARGET_PER_S, median(rates(r.decide_eg1)), per_s
        ),
        at_most(
            "`decide()` + durable `record_scan()`, p99 latency",
            CHECK_P99_TARGET_MS,
            median(latency(r.gate_runs, 99)),
            ms,
        ),
        at_most(
            "Resident memory of the gate process after its checks",
            RSS_TARGET_MB,
            median([g.rss_checked_mb for g in r.gate_runs]),
            megabytes,
        ),
    ]


def headline_table(figures: Sequence[Figure]) -> list[str]:
    lines = ["| Figure | Target | Measured (median) | Verdict |", "|---|---|---|---|"]
    lines += [f"| {f.name} | {f.target} | {f.measured} | {f.verdict} |" for f in figures]
    return lines


def detail_rows(r: DecideResults) -> list[tuple[str, str, str]]:
    """(figure, median, every run) for everything measured, targets or not."""
    rows: list[tuple[str, str, str]] = [
        ("Build the replica", seconds(median(r.builds_s)), runs_of(r.builds_s, seconds))
    ]
    for label, runs in (
        ("Ed25519 `verify()` alone (cryptography)", r.ed25519),
        ("EG1 parse + verify (`shared.credential.verify`), no replica", r.credential_verify),
        ("`decide()`, EG1 codes", r.decide_eg1),
        ("`decide()`, plain-secret codes", r.decide_plain),
    ):
        if runs:
            micros = median([x.micros for x in runs])
            rows.append(
                (
                    label,
                    f"{per_s(median(rates(runs)))} ({micros:.1f} µs each)",
                    runs_of(rates(runs), per_s),
                )
            )
    for label, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100)):
        values = latency(r.gate_runs, p)
        rows.append(
            (
                f"Check latency (decide + durable record), {label}",
                ms(median(values)),
                runs_of(values, ms),
            )
        )
    if r.fsync_ms:
        fsync = f"p50 {ms(percentile(r.fsync_ms, 50))}, p99 {ms(percentile(r.fsync_ms, 99))}"
        rows.append(
            (
                f"Raw 4 KiB append + fsync on the replica's disk ({len(r.fsync_ms)})",
                fsync,
                f"max {ms(max(r.fsync_ms))}",
            )
        )
    for label, values in (
        ("RSS after opening the replica", [g.rss_open_mb for g in r.gate_runs]),
        ("RSS after the checks", [g.rss_checked_mb for g in r.gate_runs]),
        ("Peak RSS of the gate process", [g.peak_rss_mb for g in r.gate_runs]),
    ):
        rows.append((label, megabytes(median(values)), runs_of(values, megabytes)))
    return rows


def detail_table(r: DecideResults) -> list[str]:
    lines = ["| Figure | Median | Runs |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {runs} |" for name, value, runs in detail_rows(r)]
    return lines


def where_time_goes(r: DecideResults) -> list[str]:
    """Plain words on the EG1 decision's cost, computed from the figures, never hand-written."""
    if not (r.decide_eg1 and r.ed25519 and r.credential_verify):
        return []
    decide_us = median([x.micros for x in r.decide_eg1])
    ed_us = median([x.micros for x in r.ed25519])
    parse_us = median([x.micros for x in r.credential_verify])
    return [
        f"An EG1 decision takes {decide_us:.1f} µs: {ed_us:.1f} µs ({ed_us / decide_us:.0%}) is "
        f"the Ed25519 signature check, {parse_us - ed_us:.1f} µs decoding base45, COSE and the "
        f"claims, and {decide_us - parse_us:.1f} µs the replica lookups and rules. Ed25519 alone "
        f"caps one core at {1e6 / ed_us:,.0f} decisions/s.",
    ]


def disk_caveat(r: DecideResults) -> list[str]:
    """A warning when fsync is suspiciously fast: the latency is then a floor, not a gate's."""
    if not r.fsync_ms or percentile(r.fsync_ms, 50) >= FAST_FSYNC_MS:
        return []
    return [
        f"This disk acknowledges an fsync in {ms(percentile(r.fsync_ms, 50))} (median): a "
        "virtual or cached disk. A gate's eMMC or SD card is usually slower, so read the check "
        "latency as what the software costs, not what every gate will see.",
    ]


def method(r: DecideResults) -> list[str]:
    n_eg1 = r.decide_eg1[0].count if r.decide_eg1 else 0
    n_plain = r.decide_plain[0].count if r.decide_plain else 0
    n_scans = len(r.gate_runs[0].latencies_ms) if r.gate_runs else 0
    return [
        f"- Replica: `scanner_app.demo.build_demo(replica, rights={r.rights:,}, bans={r.bans:,}, "
        f"seed={r.seed})`, fed page by page (5,000 changes a transaction) through "
        "`Replica.apply_changes`, SQLite WAL with `synchronous=FULL`. Build time includes "
        f"creating the file; {len(r.builds_s)} build(s), each into a fresh file; the last one is "
        f"kept for the other figures ({r.replica_mb:,.0f} MB on disk).",
        f"- Codes: distinct rights drawn at random from the replica (`ORDER BY random()`), each "
        "signed afresh as EG1 by `DemoSite.code_for` before any timing; plain-secret codes are "
        "rights carrying a secret. No code is scanned twice across all runs. Outcomes at gate "
        f"NORD-1 (other stands' rights are refused `wrong_zone`): {reasons(r.decide_eg1)}.",
        f"- `decide()`: {len(r.decide_eg1)} runs of {n_eg1:,} EG1 codes and of {n_plain:,} plain "
        "codes, one Python thread, a freshly opened `Replica` as the view (SQLite default page "
        "cache), replica file in the OS page cache since it was just built. Nothing is cached "
        "between codes beyond what `Replica` itself keeps (zones, gates, keys).",
        f"- Check latency: {len(r.gate_runs)} fresh processes (`python -m bench.worker`), each "
        f'checking {n_scans:,} new EG1 codes with `Checkpoint(replica, "NORD-1").check(code)`; '
        "each latency is `perf_counter` around one `check()`: decide, then `record_scan()` "
        "committed with fsync. The first scan of each process and WAL auto-checkpoints are "
        f"included. Outcomes: {reasons(r.gate_runs)}.",
        "- Disk floor: before building, 4 KiB appended and fsync'ed, one at a time, in the "
        "replica's directory; a durable commit cannot be faster than that on this disk.",
        "- Memory: RSS (psutil) of that same checking process after opening the replica and "
        "after its checks; building the replica happens in another process and is not counted.",
    ]


def render_decide(r: DecideResults) -> str:
    """The whole ``decide`` section of docs/BENCHMARKS.md."""
    make = " (`make bench`)" if r.make_bench else ""
    blocks: list[list[str]] = [
        ["## Gate decisions (issue 2)"],
        [
            f"Measured {r.date} with `{r.command}`{make}; "
            f"the whole run took {r.total_s / 60:.1f} min."
        ],
        headline_table(headline(r)),
        where_time_goes(r),
        disk_caveat(r),
        ["### All figures"],
        detail_table(r),
        ["### Machine"],
        [f"- {key}: {value}" for key, value in r.machine.items()],
        ["### Method"],
        method(r),
    ]
    if r.notes:
        blocks += [["### Notes"], [f"- {note}" for note in r.notes]]
    return "\n\n".join("\n".join(block) for block in blocks if block) + "\n"
