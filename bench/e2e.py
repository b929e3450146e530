"""Issue 8's end-to-end figures: a server and two headless gates replaying camera frames.

Each gate reads 1,000 synthetic 1280x720 frames (codes of every kind among empty frames) from a
folder, and runs the kiosk's path on each scan: decoder → decision → durable log → simulated
turnstile → upload by its sync loop. Reported: per-reason correctness (must be 100 %), latency
from frame capture to the turnstile's unlock command, and the time until every scan is on the
server. ``python -m bench.e2e --write docs/BENCHMARKS.md`` records section ``e2e``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.decoders import synthetic_frame
from bench.machine import machine_info
from bench.report import write_section
from bench.stats import percentile
from hardware import TurnstileConfig, open_turnstile
from scanner_app.checkpoint import Checkpoint
from scanner_app.config import ScanSettings
from scanner_app.frames import ImageFolderSource
from scanner_app.passage import Gatekeeper
from scanner_app.replay import frames_of
from scanner_app.replica import Replica
from scanner_app.scanning import ScanPipeline
from scanner_app.sync_loop import SyncLoop
from shared.credential import Credential, issue, verify
from shared.reasons import Reason
from tests.support.server import start_server
from tests.support.site import Site, ok

FRAMES_PER_GATE = 1_000
FRAMES_PER_SHOW = 5
"""One frame with the code, four without: at 30 fps a holder shows a code every ~170 ms."""
FPS = 30.0


@dataclass
class GateRun:
    gate: str
    expected: list[Reason] = field(default_factory=list)
    got: list[Reason] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def codes_for(
    site: Site, gate: str, shows: int, stand: str, other: str
) -> list[tuple[str, Reason]]:
    """What holders show at ``gate``: a mix of every kind, each with the answer it must get.

    Every show is a different code (a camera debounces the same code seen again within 2 s),
    except the reused tickets, shown again 20 shows (over 3 s) after their first time.
    """
    holder = f"banned-{gate}"
    ok(site.admin.post("/bans", json={"scope": "holder", "holder": holder,
                                      "reason": "stadium ban"}), 201)  # fmt: skip
    lines = ["event,zones,holder"]
    lines += [f"{site.event},{stand},h-{gate}-{i}" for i in range(shows)]
    lines += [f"{site.event},{other},a-{gate}-{i}" for i in range(shows // 10 + 1)]
    lines += [f"{site.event},{stand},{holder}" for _ in range(shows // 10 + 1)]
    rows = "\n".join(lines)
    ids = ok(site.admin.post("/rights/import", content=rows, headers={"content-type": "text/csv"}))[
        "right_ids"
    ]
    home, away, banned = (
        iter(ids[:shows]),
        iter(ids[shows : shows + shows // 10 + 1]),
        iter(ids[shows + shows // 10 + 1 :]),
    )
    ring = _keyring(site)
    forger = Ed25519PrivateKey.generate()
    kinds: list[tuple[str, Reason]] = []
    shown: list[str] = []
    for i in range(shows):
        slot = i % 10
        if slot == 3 and len(shown) > 25:
            kinds.append((shown[-20], Reason.ALREADY_USED))
        elif slot == 5:
            kinds.append((site.code({"right_id": next(away)}), Reason.WRONG_ZONE))
        elif slot == 7:
            kinds.append((site.code({"right_id": next(banned)}), Reason.BLACKLISTED))
        elif slot == 8:
            genuine = verify(site.code({"right_id": next(home)}), ring)
            forged = issue(Credential(genuine.issuer, genuine.issued_at, genuine.right), forger)
            kinds.append((forged, Reason.UNKNOWN_KEY))
        elif slot == 9 and i % 20 == 9:
            kinds.append((f"EG1:NOT-A-CODE-{gate}-{i}", Reason.MALFORMED))
        else:
            code = site.code({"right_id": next(home)})
            shown.append(code)
            kinds.append((code, Reason.GRANTED))
    return kinds


def _keyring(site: Site):  # type: ignore[no-untyped-def]
    from shared.credential import KeyRing

    keys = ok(site.admin.get("/keys"))
    return KeyRing(bytes.fromhex(k["public_key"]) for k in keys if k["status"] != "retired")


def write_frames(folder: Path, kinds: Sequence[tuple[str, Reason]], seed: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    index = 0
    for code, _ in kinds:
        for k in range(FRAMES_PER_SHOW):
            image = synthetic_frame(code if k == 0 else None, rng, module_px=5)
            cv2.imwrite(str(folder / f"frame-{index:05d}.png"), image)
            index += 1


def run_gate(config_path: Path, gate: str, frames: Path, run: GateRun, loop: SyncLoop) -> None:
    from scanner_app.config import TerminalConfig

    config = TerminalConfig.load(config_path)
    turnstile = open_turnstile(TurnstileConfig.from_document({
        "relay": {"driver": "simulated", "pulse_ms": 5},
        "sensor": {"driver": "simulated", "window_s": 0.2, "walk_s": 0.02},
    }))  # fmt: skip
    started = time.perf_counter()
    with Replica(config.replica_path) as replica:
        keeper = Gatekeeper(Checkpoint(replica, gate), turnstile, on_recorded=loop.scan_recorded)
        pipeline = ScanPipeline.from_settings(ScanSettings(debounce_s=2.0))
        source = ImageFolderSource(frames, fps=FPS, realtime=True)
        for frame in frames_of(source):
            for scan in pipeline.process(frame):
                result = keeper.check(scan.code)
                run.latency_ms.append((time.monotonic() - scan.captured_at) * 1000)
                run.got.append(result.decision.reason)
                passage = keeper.let_through(result)
                if passage is not None:
                    run.outcomes[passage.outcome.value] += 1
    run.seconds = time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__)
    parser.add_argument("--write", metavar="PATH")
    parser.add_argument("--frames", type=int, default=FRAMES_PER_GATE, help="frames per gate")
    parser.add_argument("--dir", default="/var/tmp")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="entrix-bench-e2e-", dir=args.dir))
    server = start_server(f"sqlite:///{folder}/server.db", folder / "server.log")
    total = time.perf_counter()
    try:
        body = _run(server, folder, args.frames // FRAMES_PER_SHOW, args, total)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(body)
    if args.write:
        write_section(Path(args.write), "e2e", body)
    return 0


def _run(server, folder: Path, shows: int, args: argparse.Namespace, total: float) -> str:  # type: ignore[no-untyped-def]
    from bench.sync import enroll_gate, first_pull

    site = Site.create(server)
    plan = {"NORD-1": ("NORD", "SUD"), "SUD-1": ("SUD", "NORD")}
    runs: dict[str, GateRun] = {}
    threads = []
    loops = []
    for n, (gate, (stand, other)) in enumerate(plan.items()):
        kinds = codes_for(site, gate, shows, stand, other)
        write_frames(folder / f"frames-{gate}", kinds, seed=n)
        config = enroll_gate(site, gate, folder / gate)
        first_pull(config)
        run = GateRun(gate, [reason for _, reason in kinds])
        runs[gate] = run
        loop = SyncLoop(config)
        loops.append(loop)
        threads.append(threading.Thread(target=loop.run, daemon=True))
        threads.append(threading.Thread(
            target=run_gate, args=(config.path, gate, folder / f"frames-{gate}", run, loop)
        ))  # fmt: skip
    print(
        f"frames ready; replaying {shows * FRAMES_PER_SHOW} frames at each of 2 gates", flush=True
    )
    replay_started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads[1::2]:
        thread.join()
    replay_done = time.perf_counter()
    expected_scans = sum(len(r.got) for r in runs.values())
    while True:
        on_server = sum(
            len(ok(site.admin.get("/scans", params={"gate": g, "limit": 10_000}))) for g in runs
        )
        if on_server >= expected_scans:
            break
        time.sleep(0.05)
    upload_s = time.perf_counter() - replay_done
    for loop in loops:
        loop.stop()
    for thread in threads[0::2]:
        thread.join(10)
    return _render(
        runs, upload_s, time.perf_counter() - replay_started, args, time.perf_counter() - total
    )


def _render(runs: dict[str, GateRun], upload_s: float, replay_s: float, args: argparse.Namespace,
            total_s: float) -> str:  # fmt: skip
    by_reason: dict[Reason, list[bool]] = {}
    lines_ok = True
    for run in runs.values():
        if len(run.got) != len(run.expected):
            lines_ok = False
        for expected, got in zip(run.expected, run.got, strict=False):
            by_reason.setdefault(expected, []).append(expected is got)
    latency = [ms for run in runs.values() for ms in run.latency_ms]
    outcomes = sum((run.outcomes for run in runs.values()), Counter())
    rows = [
        f"| `{reason.value}` | {sum(r)} / {len(r)} | {100 * sum(r) / len(r):.1f} % |"
        for reason, r in sorted(by_reason.items(), key=lambda kv: kv[0].value)
    ]
    scans = sum(len(r.got) for r in runs.values())
    expected = sum(len(r.expected) for r in runs.values())
    machine = machine_info(Path(args.dir))
    return "\n".join(
        [
            "## End to end (issue 8)",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python -m bench.e2e "
            f"--frames {args.frames}`; the run took {total_s / 60:.1f} min. "
            "A `gate-server` process "
            "(SQLite) and two headless gates in one process (NORD-1 and SUD-1, each its own "
            f"replica, sync loop and simulated turnstile) replaying {args.frames:,} synthetic "
            f"1280x720 frames each at {FPS:.0f} fps.",
            "",
            "| Figure | Target | Measured |",
            "|---|---|---|",
            f"| Scans decided / codes shown | all | {scans} / {expected}"
            f"{'' if lines_ok else ' (**missing scans**)'} |",
            f"| Frame captured → turnstile unlock command, p50 / p99 | — | "
            f"{percentile(latency, 50):.0f} / {percentile(latency, 99):.0f} ms |",
            f"| Last frame → every scan on the server | — | {upload_s:.2f} s |",
            "| Turnstile outcomes of granted scans | — | "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
            + " |",
            "",
            "Per-reason correctness (the answer each code must get at its gate):",
            "",
            "| Reason expected | Correct | Share |",
            "|---|---|---|",
            *rows,
            "",
            f"Replay wall time {replay_s:.1f} s. The frame-to-unlock latency includes decoding "
            "(zxing-cpp), the decision and the fsync of the scan record, but not the pulse itself.",
            "",
            "### Machine",
            "",
            *[f"- {key}: {value}" for key, value in machine.items()],
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
