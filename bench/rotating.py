"""``python -m bench.rotating``: what a rotating code costs the gate (issue 18).

Two figures, each the median of several runs:

- the time ``decide()`` adds for a rotating code (``EGR1``) over the same right's static EG1
  code, on a replica of ``--rights`` rights: the runs alternate static and rotating over the
  same rights, and the added cost is the median of the paired differences; also the one-time
  value's check alone (``shared.rotating.proves``: HMAC-SHA-256 derivation, then TOTP);
- frame-to-decision latency of rotating codes on synthetic 720p camera frames, through the
  kiosk's scanning worker at 30 fps and a durable ``Checkpoint`` (``bench.decoders``): each code
  made for the instant its frames are shown, as a holder's phone does.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench import decoders, gate
from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median, percentile
from scanner_app.replica import Replica
from shared import rotating
from shared.demo_site import DEFAULT_GATE
from shared.sync_schema import Change, ChangeBatch, RotationKeyRow

ROTATION_KEY = bytes(range(7, 39))
FPS = 30.0


@dataclass(slots=True)
class RotatingResults:
    rights: int = 0
    codes: int = 0
    repeats: int = 0
    static_us: list[float] = field(default_factory=list)
    rotating_us: list[float] = field(default_factory=list)
    proves_us: list[float] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    live: list[decoders.LiveRun] = field(default_factory=list)
    presented: int = 0
    lengths: list[int] = field(default_factory=list)
    command: str = ""
    date: str = ""
    total_s: float = 0.0
    load: list[float] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)

    @property
    def added_us(self) -> list[float]:
        return [r - s for r, s in zip(self.rotating_us, self.static_us, strict=True)]


def hold_the_key(path: Path) -> None:
    """Give the replica the venue's rotation key, as the feed would."""
    with Replica(path) as replica:
        row = RotationKeyRow(rkid=rotating.rotation_key_id(ROTATION_KEY), key=ROTATION_KEY)
        seq = replica.cursor + 1
        change = Change.upsert(seq, row)
        replica.apply_changes(ChangeBatch(since=seq - 1, cursor=seq, changes=[change]))


def time_proves(codes: Sequence[str], right_ids: Sequence[bytes]) -> float:
    """µs for ``rotating.proves`` alone (the codes parsed beforehand)."""
    parsed = [rotating.parse(code) for code in codes]
    started = time.perf_counter()
    for made, right_id in zip(parsed, right_ids, strict=True):
        assert rotating.proves(made, ROTATION_KEY, right_id)
    return (time.perf_counter() - started) / len(parsed) * 1e6


def live_codes(
    static: Sequence[str], right_ids: Sequence[bytes], start_s: float, hold: int, gap: int
) -> list[str]:
    """Each right's code as its phone shows it while its frames are in front of the camera."""
    every_s = (hold + gap) / FPS
    return [
        rotating.make(code, ROTATION_KEY, right_id, int(start_s + i * every_s))
        for i, (code, right_id) in enumerate(zip(static, right_ids, strict=True))
    ]


def run(args: argparse.Namespace, folder: Path) -> RotatingResults:
    out = RotatingResults(rights=args.rights, codes=args.codes, repeats=args.repeats)
    out.presented = args.presented
    out.load.append(os.getloadavg()[0])
    started = time.perf_counter()
    built = gate.build_replica(folder / "rotating.db", rights=args.rights, bans=args.rights // 10,
                               seed=args.seed, key=Ed25519PrivateKey.generate())  # fmt: skip
    hold_the_key(built.path)
    with Replica(built.path) as replica:
        replica.set_gate_name(DEFAULT_GATE)
    live_total = args.presented * args.live_runs
    rights = gate.pick_rights(built.path, args.codes + live_total, plain=False)
    static = gate.sign_codes(built.site, rights)
    ids = [r.right_id for r in rights]
    decided, shown = static[: args.codes], static[args.codes :]
    now_s = int(time.time())
    made = [rotating.make(c, ROTATION_KEY, i, now_s) for c, i in zip(decided, ids, strict=False)]
    out.lengths = [len(c) for c in made]
    for _ in range(args.repeats):
        plain = gate.time_decide(built.path, decided)
        turning = gate.time_decide(built.path, made)
        out.static_us.append(plain.micros)
        out.rotating_us.append(turning.micros)
        out.reasons.update(turning.reasons)
        out.proves_us.append(time_proves(made, ids[: args.codes]))
        say(f"decide: static {plain.micros:.1f} µs, rotating {turning.micros:.1f} µs")
    rng = np.random.default_rng(args.seed)
    hold, gap = 10, 10
    for n in range(args.live_runs):
        # The frames take a while to draw: the codes are made for when they will be shown.
        draw_s = 0.25 * args.presented + 2.0
        start_s = time.time() + draw_s
        these = slice(n * args.presented, (n + 1) * args.presented)
        codes = live_codes(shown[these], ids[args.codes :][these], start_s, hold, gap)
        frames = decoders.presentations(codes, rng, hold, gap)
        time.sleep(max(0.0, start_s - time.time()))
        live = decoders.measure_live("zxing-cpp", built.path, frames, args.presented)
        out.live.append(live)
        say(f"live: p99 {percentile(live.latencies_ms, 99):.1f} ms, {live.reasons}")
    gate.remove_replica(built.path)
    out.total_s = time.perf_counter() - started
    out.load.append(os.getloadavg()[0])
    return out


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def render(r: RotatingResults) -> str:
    lat = [x for run in r.live for x in run.latencies_ms]
    p99s = [percentile(run.latencies_ms, 99) for run in r.live if run.latencies_ms]
    reasons = Counter[str]()
    for run in r.live:
        reasons.update(run.reasons)
    scanned = sum(len(run.latencies_ms) for run in r.live)
    lines = [
        "## Rotating codes (issue 18)",
        "",
        f"Measured {r.date} with `{r.command}`; the whole run took {r.total_s / 60:.1f} min.",
        "",
        "| Figure | Measured (median) | Runs |",
        "|---|---|---|",
        f"| `decide()`, static EG1 codes | {median(r.static_us):.1f} µs | "
        + ", ".join(f"{v:.1f}" for v in r.static_us)
        + " |",
        f"| `decide()`, the same rights' rotating codes (EGR1) | {median(r.rotating_us):.1f} µs | "
        + ", ".join(f"{v:.1f}" for v in r.rotating_us)
        + " |",
        f"| **Added by a rotating code** (paired differences) | **{median(r.added_us):.1f} µs** "
        f"({median(r.added_us) / median(r.static_us):.0%}) | "
        + ", ".join(f"{v:.1f}" for v in r.added_us)
        + " |",
        f"| its one-time value alone (`rotating.proves`) | {median(r.proves_us):.1f} µs | "
        + ", ".join(f"{v:.1f}" for v in r.proves_us)
        + " |",
        f"| Frame-to-decision p99 at 720p, rotating codes (zxing-cpp, 30 fps) | "
        f"**{median(p99s):.1f} ms** | " + ", ".join(f"{v:.1f}" for v in p99s) + " |",
        f"| Frame-to-decision p50, all runs | {median(lat):.1f} ms | {scanned} scans |",
        "",
        f"Outcomes of the live runs: {dict(sorted(reasons.items()))} of "
        f"{r.presented * len(r.live)} codes shown ({scanned} read); `decide()` runs: "
        f"{dict(sorted(r.reasons.items()))} (other stands' rights are `wrong_zone` at NORD-1).",
        "",
        f"1-minute load average {r.load[0]:.1f} before and {r.load[-1]:.1f} after, on "
        f"{os.cpu_count()} cores.",
        "",
        "### Method",
        "",
        f"- Replica: `scanner_app.demo.build_demo` with {r.rights:,} rights and {r.rights // 10:,} "
        "bans, plus one rotation key row, as `bench.gate` builds it.",
        f"- `decide()`: {r.repeats} runs; each times {r.codes:,} static EG1 codes of distinct "
        "random rights, then the same rights' rotating codes made at the current second, at "
        "gate NORD-1 on a freshly opened replica (nothing written). The added cost is rotating "
        f"minus static, run by run. Rotating codes are {min(r.lengths)}–{max(r.lengths)} "
        "characters.",
        f"- Live: {len(r.live)} runs of {r.presented} codes, each held before the camera for 10 "
        "frames then 10 empty ones, on synthetic 1280x720 frames (`bench.decoders`: clutter, "
        "tilt, blur, noise); each code made for the instant its frames are shown. Latency: from "
        "the frame's capture to the durably recorded decision (`Checkpoint.check`, fsync). "
        "Every run shows other rights.",
        "",
        "### Machine",
        "",
        *[f"- {k}: {v}" for k, v in r.machine.items()],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rotating")
    parser.add_argument("--write", help="splice the section into this Markdown file")
    parser.add_argument("--dir", default="/var/tmp", help="where the replica goes (a real disk)")
    parser.add_argument("--rights", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=5_000, help="codes per decide() run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--presented", type=int, default=40, help="codes per live run")
    parser.add_argument("--live-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="entrix-rotating-", dir=args.dir))
    try:
        out = run(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.command = shlex.join(["python", "-m", "bench.rotating", *(argv or sys.argv[1:])])
    out.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.machine = machine_info(Path(args.dir))
    section = render(out)
    print(section)
    if args.write:
        write_section(Path(args.write), "rotating", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
