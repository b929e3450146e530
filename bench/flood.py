"""A flood against the server (issue 15): do the gates' heartbeats stay answered?

``python -m bench.flood --write docs/BENCHMARKS.md`` (part of ``make bench``): a real
``gate-server`` (SQLite, one worker) started under an open-files limit of 1,024 (Debian's
default, the limit the landed release died of), 20 enrolled gates heartbeating every 0.5 s each,
and three phases of ``--phase-s`` seconds: quiet; then 1,010 event streams opened with *one* gate
token and 1,100 slow-loris sockets (headers never finished, reopened as soon as closed) from
another address; then quiet again. Each heartbeat's round trip is timed; a failure counts as
such, never as a time.
"""

from __future__ import annotations

import argparse
import select
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import machine_info
from bench.report import write_section
from bench.stats import median, percentile
from bench.sync import say
from tests.support.postgres import free_port
from tests.support.server import RunningServer, create_user, gate_server
from tests.support.site import Site

FILES = 1_024
GATES = 20
STREAMS = 1_010
SLOW = 1_100
TARGET_P95_MS = 200.0
ATTACKER = "127.0.0.2"
ENROLLED_DURING = 5


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0


@dataclass
class FloodResults:
    phases: list[Phase] = field(default_factory=list)
    streams_accepted: int = 0
    streams_refused: int = 0
    slow_opened: int = 0
    enrolled_during: int = 0
    date: str = ""
    command: str = ""
    machine: dict[str, str] = field(default_factory=dict)


class Flood:
    """1,010 streams on one token and 1,100 slow sockets, kept up until stopped."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.stop = threading.Event()
        self.sockets: list[socket.socket] = []
        self.accepted = self.refused = self.slow_opened = 0

    def _connect(self, source: str) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                            source_address=(source, 0))  # fmt: skip
        except OSError:
            return None
        self.sockets.append(sock)
        return sock

    def streams(self) -> None:
        request = (
            "GET /api/v1/gate/stream HTTP/1.1\r\nHost: gates\r\n"
            f"Authorization: Bearer {self.token}\r\nEntrix-Protocol: 2\r\n\r\n"
        ).encode()
        for _ in range(STREAMS):
            sock = self._connect("127.0.0.1")
            if sock is None:
                self.refused += 1
                continue
            try:
                sock.sendall(request)
                head = sock.recv(64)
            except OSError:
                self.refused += 1
                continue
            if head.startswith(b"HTTP/1.1 200"):
                self.accepted += 1
            else:
                self.refused += 1

    def slow(self) -> None:
        """Keep SLOW sockets open from another address, each a request whose headers never end;
        one the server closes is reopened at once."""
        held: dict[int, socket.socket] = {}
        poller = select.poll()
        while not self.stop.is_set():
            while len(held) < SLOW and not self.stop.is_set():
                sock = self._connect(ATTACKER)
                if sock is None:
                    break
                try:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: gates\r\nX-Slow: ")
                except OSError:
                    sock.close()
                    continue
                self.slow_opened += 1
                held[sock.fileno()] = sock
                poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
            for fd, _event in poller.poll(200):
                sock = held.pop(fd, None)
                if sock is not None:
                    poller.unregister(fd)
                    sock.close()
        for sock in held.values():
            sock.close()

    def close(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            sock.close()


class Beaters:
    """GATES terminals, enrolled before any flood, each heartbeating every 0.5 s in its own
    thread (a replica stays in the thread that opened it), into whichever phase is current."""

    def __init__(self, site: Site, folder: Path) -> None:
        self.site, self.folder = site, folder
        self.phase: Phase | None = None
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ready = threading.Barrier(GATES + 1, timeout=300)
        self.threads = [threading.Thread(target=self._beat, args=(i,), daemon=True)
                        for i in range(GATES)]  # fmt: skip

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self.ready.wait()

    def measure(self, phase: Phase, seconds: float) -> None:
        with self.lock:
            self.phase = phase
        time.sleep(seconds)
        with self.lock:
            self.phase = None

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)

    def _beat(self, index: int) -> None:
        try:
            with self.lock:
                terminal = self.site.terminal(self.site.gates[index % 4], self.folder / f"g{index}")
        finally:
            self.ready.wait()
        try:
            while not self.stop.is_set():
                started = time.perf_counter()
                failed: Exception | None = None
                try:
                    terminal.sync.heartbeat()
                except Exception as exc:  # noqa: BLE001 (a failure is what is counted)
                    failed = exc
                took = (time.perf_counter() - started) * 1000
                with self.lock:
                    if self.phase is not None:
                        if failed is None:
                            self.phase.latencies_ms.append(took)
                        else:
                            self.phase.failures += 1
                            if self.phase.failures <= 3:
                                say(f"heartbeat failed: {failed!r}")
                self.stop.wait(0.5)
        finally:
            terminal.close()


def _enroll_during(site: Site, folder: Path, out: FloodResults) -> None:
    for i in range(ENROLLED_DURING):
        try:
            site.terminal("NORD-1", folder / f"new-{i}").close()
            out.enrolled_during += 1
        except Exception as exc:  # noqa: BLE001 (counted and said)
            say(f"enrollment during the flood failed: {exc!r}")


def measure(folder: Path, phase_s: float, out: FloodResults) -> None:
    url = f"sqlite:///{folder}/server.db"
    gate_server("migrate", database_url=url)
    server = RunningServer(url, free_port(), folder / "server.log")
    server.tokens["admin"] = create_user(url, "admin", "admin")
    server.start(files=FILES, ENTRIX_GUESS_LIMIT_PER_MINUTE="30")
    try:
        site = Site.create(server)
        thief = site.terminal("SUD-1", folder / "thief")
        beaters = Beaters(site, folder / "gates")
        beaters.start()
        quiet = Phase("quiet")
        beaters.measure(quiet, phase_s)
        out.phases.append(quiet)
        say(f"quiet: p95 {percentile(quiet.latencies_ms, 95):.1f} ms, {quiet.failures} failed")
        flood = Flood(server.port, thief.sync.token)
        attackers = [threading.Thread(target=flood.streams, daemon=True),
                     threading.Thread(target=flood.slow, daemon=True)]  # fmt: skip
        for thread in attackers:
            thread.start()
        time.sleep(3)  # the flood is up
        attacked = Phase("flood")
        enrolling = threading.Thread(target=_enroll_during, args=(site, folder, out), daemon=True)
        enrolling.start()  # new terminals too, not only those already connected
        beaters.measure(attacked, phase_s)
        enrolling.join(60)
        out.phases.append(attacked)
        out.streams_accepted, out.streams_refused = flood.accepted, flood.refused
        out.slow_opened = flood.slow_opened
        flood.close()
        say(f"flood: p95 {percentile(attacked.latencies_ms, 95):.1f} ms, {attacked.failures} "
            f"failed; streams {flood.accepted} accepted, {flood.refused} refused; "
            f"{flood.slow_opened} slow sockets opened")  # fmt: skip
        time.sleep(2)
        after = Phase("after")
        beaters.measure(after, phase_s)
        out.phases.append(after)
        beaters.close()
        say(f"after: p95 {percentile(after.latencies_ms, 95):.1f} ms, {after.failures} failed")
    finally:
        server.stop()


def render(r: FloodResults) -> str:
    def verdict(phase: Phase) -> str:
        good = phase.failures == 0 and percentile(phase.latencies_ms, 95) <= TARGET_P95_MS
        return "meets" if good else "**misses**"

    lines = [
        "## A flood of connections (issue 15)",
        "",
        f"Measured {r.date} with `{r.command}`.",
        "",
        "| phase | heartbeats | failed | median | p95 | target | verdict |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {p.name} | {len(p.latencies_ms)} | {p.failures} | "
            f"{median(p.latencies_ms):.1f} ms | {percentile(p.latencies_ms, 95):.1f} ms | "
            f"p95 ≤ {TARGET_P95_MS:.0f} ms, none failed | {verdict(p)} |"
            for p in r.phases
        ],
        "",
        f"The server (SQLite, one worker) runs under an open-files limit of {FILES} (soft and "
        f"hard). {GATES} enrolled gates heartbeat every 0.5 s each throughout. During *flood*, "
        f"one gate token asks for {STREAMS:,} event streams ({r.streams_accepted} accepted, "
        f"{r.streams_refused:,} refused: at most 4 per device) and {SLOW:,} slow-loris sockets "
        f"from {ATTACKER} are held open, reopened as soon as the server closes them "
        f"({r.slow_opened:,} opened in all: at most 256 per address are kept, and none longer "
        f"than 10 s without its headers). Meanwhile {r.enrolled_during} of {ENROLLED_DURING} "
        "new terminals enrolled (a refused stream or guess is answered `Connection: close`, "
        "so a flood of them does not keep a descriptor each).",
        "",
        "### Machine",
        "",
        *[f"- {key}: {value}" for key, value in r.machine.items() if "filesystem" not in key],
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood")
    parser.add_argument("--phase-s", type=float, default=30.0)
    parser.add_argument("--write", help="splice the section into this Markdown file")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="entrix-flood-"))
    out = FloodResults()
    out.command = "python -m bench.flood " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        measure(folder, args.phase_s, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.command = out.command.strip()
    out.machine = machine_info(Path(tempfile.gettempdir()))
    section = render(out)
    say("\n" + section)
    if args.write:
        write_section(Path(args.write), "flood", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
