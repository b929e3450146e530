"""CPU of the idle kiosk (issue 6): the real ``gate-scanner run --demo`` window at 30 fps.

Each run starts the kiosk in a fresh process on a fresh demo replica (the demo camera shows the
sample codes one after another, 720p at 30 fps; the simulated turnstile), lets it settle, then
reads the process's CPU time (every thread: camera, decoder, gate, Qt) over a measured window.
Qt draws offscreen (``QT_QPA_PLATFORM=offscreen``) unless ``--kiosk-display`` is given.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench.machine import machine_info
from bench.stats import median

CPU_TARGET_CORES = 0.5
SETTLE_S = 4.0
MEASURE_S = 15.0


@dataclass
class KioskResults:
    runs: list[float] = field(default_factory=list)
    """CPU used per second of wall time, in cores, one value per run."""
    rss_mb: list[float] = field(default_factory=list)
    platform: str = "offscreen"
    measure_s: float = MEASURE_S
    date: str = ""
    command: str = ""
    machine: dict[str, str] = field(default_factory=dict)


def _gate_scanner() -> str:
    return str(Path(sys.executable).with_name("gate-scanner"))


def measure_once(
    db: Path, *, platform: str, settle_s: float, measure_s: float
) -> tuple[float, float]:
    """One kiosk process: (cores used while idle, resident MB at the end)."""
    env = dict(os.environ)
    if platform == "offscreen":
        env["QT_QPA_PLATFORM"] = "offscreen"
    process = subprocess.Popen(
        [_gate_scanner(), "run", "--demo", "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        watched = psutil.Process(process.pid)
        time.sleep(settle_s)
        if process.poll() is not None:
            raise RuntimeError(f"the kiosk exited with status {process.returncode}")
        before, started = watched.cpu_times(), time.perf_counter()
        time.sleep(measure_s)
        after, ended = watched.cpu_times(), time.perf_counter()
        rss = watched.memory_info().rss / 2**20
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    used = (after.user - before.user) + (after.system - before.system)
    return used / (ended - started), rss


def run_kiosk_bench(
    *, workdir: Path, say: Callable[[str], None], repeats: int, command: str, display: bool
) -> KioskResults:
    results = KioskResults(platform="xcb (the display)" if display else "offscreen")
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.command = command
    results.machine = machine_info(workdir)
    for i in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix=f"kiosk-{i}-", dir=workdir))
        db = folder / "gate.db"
        subprocess.run(
            [_gate_scanner(), "seed-demo", "--db", str(db), "--rights", "2000"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cores, rss = measure_once(
            db, platform="xcb" if display else "offscreen", settle_s=SETTLE_S, measure_s=MEASURE_S
        )
        results.runs.append(cores)
        results.rss_mb.append(rss)
        say(f"kiosk run {i + 1}/{repeats}: {cores:.2f} cores, RSS {rss:.0f} MB")
    return results


def render_kiosk(r: KioskResults) -> str:
    cores = median(r.runs)
    meets = cores <= CPU_TARGET_CORES
    verdict = "meets" if meets else "**misses**"
    runs = ", ".join(f"{c:.2f}" for c in r.runs)
    lines = [
        "## The idle kiosk's CPU (issue 6)",
        "",
        f"Measured {r.date} with `{r.command}`.",
        "",
        "| figure | target | median | verdict |",
        "|---|---|---|---|",
        f"| CPU of the idle kiosk, demo camera 1280x720 at 30 fps | at most "
        f"{CPU_TARGET_CORES} core | {cores:.2f} core | {verdict} |",
        f"| resident memory of the kiosk process | — | {median(r.rss_mb):.0f} MB | — |",
        "",
        f"Runs (cores): {runs}. Each run is a fresh `gate-scanner run --demo` process on a fresh "
        f"demo replica; after {SETTLE_S:.0f} s to settle, the process's CPU time (all threads: "
        "camera pacing, zxing-cpp decoding every frame, the gate thread, Qt painting the preview "
        f"and the answers) is divided by {r.measure_s:.0f} s of wall time. The demo camera shows "
        "a sample code for 2 s, then an empty frame for 2.5 s, so the kiosk also decides on a "
        "code every 4.5 s, as at a quiet gate. Qt platform: "
        f"{r.platform}; the preview is shrunk to 640 px wide on the camera thread.",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in r.machine.items() if key != "Replica filesystem"],
    ]
    return "\n".join(lines)
