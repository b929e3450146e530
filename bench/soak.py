"""The kiosk through a whole match (issue 12): ``make soak``, ``python -m bench.soak``.

The real window (``gate-scanner run --demo`` under Xvfb, the xcb platform a gate uses) on gate
NORD-1, enrolled to a real ``gate-server`` (the demo derby, SQLite) with its sync loop running,
for 30 minutes; the demo camera shows a new code every 2 s and the simulated turnstile is walked
through after each unlock. Once a minute, from outside the process (psutil): resident memory,
CPU, threads, open descriptors; the replica's WAL size and scan log; from the kiosk's own health
line (``[kiosk] health_log_s``): the reference counts of None, True and False, which only the
process can read. Then 20 fresh kiosks, each stopped with SIGTERM after a while: each must exit
with status 0 within 5 s.

A benchmark, not a test: ``make test`` keeps the fast guard (tests/scanner_app/ui/test_bindings.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import PySide6

from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median
from scanner_app.health import ProcessHealth
from sync_server.demo import enroll_gate, prepare_demo, start_server

GROWTH_TARGET_MB_PER_H = 10.0
SETTLE_MIN = 5.0
"""Memory growth is measured after the first five minutes (caches, the replica's pages)."""
EXIT_TARGET_S = 5.0
SCREEN = "1280x800x24"


@dataclass
class Sample:
    minute: float
    rss_mb: float
    cpu_cores: float
    threads: int
    fds: int
    wal_kb: float
    scans: int
    pending: int
    refcounts: dict[str, int] = field(default_factory=dict)


@dataclass
class Stop:
    status: int | None
    """The exit status; None: still running after the wait (killed)."""
    seconds: float
    fatal: str = ""


@dataclass
class SoakResults:
    minutes: float
    every_s: float
    samples: list[Sample] = field(default_factory=list)
    alive_at_end: bool = False
    end: Stop | None = None
    stops: list[Stop] = field(default_factory=list)
    stop_after_s: float = 0.0
    fatal: list[str] = field(default_factory=list)
    uploaded_on_server: int = 0
    date: str = ""
    command: str = ""
    commit: str = ""
    machine: dict[str, str] = field(default_factory=dict)

    def growth_mb_per_h(self) -> float:
        """Least-squares slope of resident memory after the settling minutes, in MB per hour."""
        points = [(s.minute, s.rss_mb) for s in self.samples if s.minute >= SETTLE_MIN]
        if len(points) < 2:
            return float("nan")
        mean_x = sum(x for x, _ in points) / len(points)
        mean_y = sum(y for _, y in points) / len(points)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
            (x - mean_x) ** 2 for x, _ in points
        )
        return slope * 60

    def settled(self) -> list[Sample]:
        return [s for s in self.samples if s.minute >= SETTLE_MIN] or self.samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def virtual_display() -> Iterator[str]:
    """An Xvfb server of its own (the number it picks, told through ``-displayfd``)."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("bench.soak needs Xvfb (make system-deps installs it)")
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as told:
        number = told.readline().strip()
    if not number:
        xvfb.kill()
        raise SystemExit("Xvfb did not start")
    try:
        yield f":{number}"
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def fatal_lines(log: Path) -> list[str]:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if "Fatal Python error" in line]


def last_health(log: Path) -> ProcessHealth | None:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    found = None
    for line in text.splitlines():
        health = ProcessHealth.from_log_line(line)
        if health is not None:
            found = health
    return found


def scan_counts(replica: Path) -> tuple[int, int]:
    """(scans logged, scans not yet uploaded), read as a second reader of the WAL database."""
    with sqlite3.connect(f"file:{replica}?mode=ro", uri=True, timeout=5) as db:
        total, pending = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE uploaded = 0) FROM scans"
        ).fetchone()
    return int(total), int(pending)


class Kiosk:
    """One ``gate-scanner run --demo`` process on the display, its log in a file."""

    def __init__(self, config: Path, display: str, every_s: float, log: Path) -> None:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gate-scanner")), "run", "--demo",
             "--demo-every", str(every_s), "--config", str(config)],
            env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.watched = psutil.Process(self.process.pid)

    def wait_up(self, timeout: float = 60.0) -> None:
        """Until its first health line (logged as the window opens)."""
        deadline = time.monotonic() + timeout
        while last_health(self.log) is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the kiosk did not come up: {tail}")
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> Stop:
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            status: int | None = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        seconds = time.perf_counter() - started
        self._out.close()
        return Stop(status, seconds, " ".join(fatal_lines(self.log)))


def soak(
    workdir: Path,
    *,
    minutes: float,
    interval_s: float,
    every_s: float,
    stops: int,
    stop_after_s: float,
    say: Callable[[str], None],
) -> SoakResults:
    results = SoakResults(minutes=minutes, every_s=every_s, stop_after_s=stop_after_s)
    demo = prepare_demo(workdir / "demo", rights_count=10_000)
    port = free_port()
    server_log = (workdir / "server.log").open("wb")
    server = start_server(demo, port=port, log=server_log)
    try:
        config = enroll_gate(demo, server_url=f"http://127.0.0.1:{port}")
        # Health lines as often as the samples, so each sample reads a fresh one.
        with config.open("a", encoding="utf-8") as toml:
            toml.write(f"\n[kiosk]\nhealth_log_s = {max(1.0, interval_s / 2)}\n")
        replica = config.parent / "gate.db"
        with virtual_display() as display:
            say(f"soak: kiosk on {display}, server on port {port}, {minutes:g} min")
            kiosk = Kiosk(config, display, every_s, workdir / "kiosk.log")
            kiosk.wait_up()
            started = time.monotonic()
            cpu_before = kiosk.watched.cpu_times()
            wall_before = started
            while True:
                elapsed = time.monotonic() - started
                if kiosk.process.poll() is not None:
                    break
                if elapsed >= minutes * 60:
                    results.alive_at_end = True
                    break
                time.sleep(min(interval_s, minutes * 60 - elapsed))
                if kiosk.process.poll() is not None:
                    break
                try:
                    cpu = kiosk.watched.cpu_times()
                    now = time.monotonic()
                    memory = kiosk.watched.memory_info().rss / 1e6
                    threads = kiosk.watched.num_threads()
                    fds = kiosk.watched.num_fds()
                except psutil.NoSuchProcess:
                    break
                used = (cpu.user - cpu_before.user) + (cpu.system - cpu_before.system)
                cores = used / (now - wall_before)
                cpu_before, wall_before = cpu, now
                wal = replica.with_name(replica.name + "-wal")
                total, pending = scan_counts(replica)
                health = last_health(kiosk.log)
                sample = Sample(
                    minute=(now - started) / 60,
                    rss_mb=memory,
                    cpu_cores=cores,
                    threads=threads,
                    fds=fds,
                    wal_kb=wal.stat().st_size / 1e3 if wal.exists() else 0.0,
                    scans=total,
                    pending=pending,
                    refcounts=dict(health.refcounts) if health else {},
                )
                results.samples.append(sample)
                say(
                    f"  {sample.minute:5.1f} min  RSS {memory:6.1f} MB  CPU {cores:.2f}  "
                    f"threads {threads}  fds {fds}  WAL {sample.wal_kb:,.0f} kB  "
                    f"scans {total:,} ({pending} waiting)  refs {sample.refcounts}"
                )
            results.end = (
                kiosk.stop()
                if kiosk.process.poll() is None
                else Stop(kiosk.process.returncode, 0.0, " ".join(fatal_lines(kiosk.log)))
            )
            results.fatal = fatal_lines(kiosk.log)
            say(f"soak: end status {results.end.status}, {results.end.seconds:.2f} s to exit")
            for i in range(stops):
                log = workdir / f"stop-{i:02d}.log"
                one = Kiosk(config, display, every_s, log)
                one.wait_up()
                time.sleep(stop_after_s)
                stop = one.stop()
                results.stops.append(stop)
                say(f"  SIGTERM {i + 1}/{stops}: status {stop.status}, {stop.seconds:.2f} s")
        results.uploaded_on_server = _uploaded(demo.database_url)
    finally:
        server.terminate()
        server.wait(10)
        server_log.close()
    return results


def _uploaded(database_url: str) -> int:
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        (count,) = db.execute("SELECT count(*) FROM scans").fetchone()
    return int(count)


def render_soak(r: SoakResults) -> str:
    settled = r.settled()
    first, last = (settled[0], settled[-1]) if settled else (None, None)
    growth = r.growth_mb_per_h()
    clean = [s for s in r.stops if s.status == 0 and s.seconds < EXIT_TARGET_S]
    end_ok = r.end is not None and r.end.status == 0 and r.end.seconds < EXIT_TARGET_S

    def verdict(ok: bool) -> str:
        return "meets" if ok else "**misses**"

    def spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
        return f"{fmt.format(min(values))}–{fmt.format(max(values))}" if values else "—"

    threads = [s.threads for s in settled]
    fds = [s.fds for s in settled]
    lines = [
        "## The kiosk through a match: 30-minute soak (issue 12)",
        "",
        f"Measured {r.date} with `{r.command}`; PySide6 {PySide6.__version__}"
        + (f", at commit {r.commit}." if r.commit else "."),
        "",
        "| figure | target | measured | verdict |",
        "|---|---|---|---|",
        f"| alive after {r.minutes:g} min | alive | "
        f"{'alive' if r.alive_at_end else 'dead'} | {verdict(r.alive_at_end)} |",
        f"| resident memory growth after minute {SETTLE_MIN:g} | ≤ {GROWTH_TARGET_MB_PER_H:g} "
        f"MB/h | {growth:+.1f} MB/h | {verdict(growth <= GROWTH_TARGET_MB_PER_H)} |",
        f"| threads after minute {SETTLE_MIN:g} | no growth | {spread(threads)} | "
        f"{verdict(bool(threads) and max(threads) <= threads[0])} |",
        f"| open descriptors after minute {SETTLE_MIN:g} | no growth | {spread(fds)} | "
        f"{verdict(bool(fds) and max(fds) <= fds[0])} |",
        f"| SIGTERM: status 0 in < {EXIT_TARGET_S:g} s | 20 of 20 | {len(clean)} of "
        f"{len(r.stops)} (median {median([s.seconds for s in r.stops]) if r.stops else 0:.2f} s,"
        f" slowest {max((s.seconds for s in r.stops), default=0):.2f} s) | "
        f"{verdict(len(clean) == len(r.stops) == 20)} |",
        f"| SIGTERM at the end of the soak | status 0, < {EXIT_TARGET_S:g} s | "
        + (f"status {r.end.status}, {r.end.seconds:.2f} s" if r.end else "—")
        + f" | {verdict(end_ok)} |",
        f"| `Fatal Python error` in any log | none | {len(r.fatal)} | {verdict(not r.fatal)} |",
        "",
    ]
    if first and last:
        lines += [
            f"Over the soak: resident memory {first.rss_mb:.1f} MB at minute {first.minute:.0f}, "
            f"{last.rss_mb:.1f} MB at minute {last.minute:.0f}; CPU median "
            f"{median([s.cpu_cores for s in r.samples]):.2f} core; the replica's WAL "
            f"{spread([s.wal_kb for s in r.samples], '{:,.0f}')} kB; "
            f"{last.scans:,} scans logged, {last.pending} waiting at the last sample, "
            f"{r.uploaded_on_server:,} on the server at the end. Reference counts (the kiosk's "
            "own health line) at the first and last sample: "
            + ", ".join(
                f"{name} {r.samples[0].refcounts.get(name, 0):,} → {last.refcounts.get(name, 0):,}"
                for name in ("None", "True", "False")
            )
            + ".",
            "",
        ]
    lines += [
        "| minute | RSS MB | CPU cores | threads | fds | WAL kB | scans | waiting | None refs |",
        "|---|---|---|---|---|---|---|---|---|",
        *[
            f"| {s.minute:.1f} | {s.rss_mb:.1f} | {s.cpu_cores:.2f} | {s.threads} | {s.fds} | "
            f"{s.wal_kb:,.0f} | {s.scans:,} | {s.pending} | {s.refcounts.get('None', 0):,} |"
            for s in r.samples
        ],
        "",
        "### Method",
        "",
        f"One `gate-scanner run --demo --demo-every {r.every_s:g}` process (gate NORD-1, enrolled "
        "to a `gate-server` on the demo derby's SQLite database, 10,000 rights; its sync loop "
        "uploads every scan) on its own Xvfb screen "
        f"({SCREEN}, Qt's xcb platform); the demo camera shows the eight sample codes in turn, a "
        f"new one every {r.every_s:g} s (most are refusals after the first round: the tickets "
        "are used), and the simulated turnstile is walked through after each unlock. Memory, "
        "CPU, threads and descriptors are read by psutil from outside the process once a minute; "
        "the reference counts come from the kiosk's own health line. Memory growth is the "
        "least-squares slope of the samples from minute "
        f"{SETTLE_MIN:g}. Then {len(r.stops)} fresh kiosks on the same gate, each sent SIGTERM "
        f"{r.stop_after_s:g} s after its window came up; the time is from the signal to the "
        "process's exit.",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in r.machine.items() if "filesystem" not in key],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--every", type=float, default=2.0, help="a new code every N seconds")
    parser.add_argument("--stops", type=int, default=20, help="SIGTERM runs after the soak")
    parser.add_argument("--stop-after", type=float, default=30.0, help="seconds before SIGTERM")
    parser.add_argument("--dir", help="where the temporary folder goes (default: the system's)")
    parser.add_argument("--write", help="splice the section into this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the folder (logs, databases)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="entrix-soak-", dir=args.dir))
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    started = time.monotonic()
    try:
        results = soak(
            workdir,
            minutes=args.minutes,
            interval_s=args.interval,
            every_s=args.every,
            stops=args.stops,
            stop_after_s=args.stop_after,
            say=lambda line: print(line, flush=True),
        )
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    results.command = command.strip()
    results.commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    results.machine = machine_info(Path(tempfile.gettempdir()))
    section = render_soak(results)
    print("\n" + section)
    print(f"\n(took {(time.monotonic() - started) / 60:.1f} min)")
    if args.write:
        write_section(Path(args.write), "soak", section)
        print(f"written to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
