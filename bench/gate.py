"""Issue 2's measurements: build a big replica, then time decide(), verify and durable checks.

Each function measures one thing and returns raw numbers; :mod:`bench.run` takes medians and
:mod:`bench.report` compares them with the targets.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base45
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scanner_app.demo import DemoSite, build_demo
from scanner_app.replica import Replica
from shared.cose import decode_sign1
from shared.credential import PREFIX, KeyRing, verify
from shared.decision import decide
from shared.demo_site import DEFAULT_GATE
from shared.model import AccessRight

REPO = Path(__file__).resolve().parent.parent
MB = 1e6
FSYNC_BLOCK = 4096


@dataclass(frozen=True, slots=True)
class Build:
    seconds: float
    site: DemoSite
    path: Path


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` operations in ``seconds``; ``reasons`` counts decisions by outcome."""

    count: int
    seconds: float
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @property
    def micros(self) -> float:
        return self.seconds / self.count * 1e6


@dataclass(frozen=True, slots=True)
class GateRun:
    """One fresh gate process checking codes durably (see :mod:`bench.worker`)."""

    latencies_ms: list[float]
    reasons: Counter[str]
    rss_open_mb: float
    rss_checked_mb: float
    peak_rss_mb: float


def build_replica(
    path: Path, *, rights: int, bans: int, seed: int, key: Ed25519PrivateKey
) -> Build:
    """Create a replica file and feed it the demo site page by page; time both."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with Replica(path) as replica:
        site = build_demo(replica, rights=rights, bans=bans, now=now, seed=seed, signing_key=key)
    return Build(time.perf_counter() - started, site, path)


def remove_replica(path: Path) -> None:
    """Delete a replica and its WAL files."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def replica_size_mb(path: Path) -> float:
    """The replica's size on disk, WAL included."""
    files = [path.with_name(path.name + suffix) for suffix in ("", "-wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / MB


def time_fsync(directory: Path, count: int) -> list[float]:
    """Milliseconds of each 4 KiB append + fsync in ``directory``: the floor under a commit."""
    path = directory / "fsync.probe"
    block = os.urandom(FSYNC_BLOCK)
    latencies: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(count):
            started = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return latencies


def pick_rights(path: Path, n: int, *, plain: bool) -> list[AccessRight]:
    """``n`` distinct random rights read back from the replica, EG1 ones or plain-secret ones."""
    which = "secret IS NOT NULL" if plain else "secret IS NULL"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        ids = [
            bytes(row[0])
            for row in db.execute(
                f"SELECT right_id FROM rights WHERE {which} ORDER BY random() LIMIT ?", (n,)
            )
        ]
    with Replica(path) as replica:
        found = [replica.right(right_id) for right_id in ids]
    return [right for right in found if right is not None]


def sign_codes(site: DemoSite, rights: list[AccessRight]) -> list[str]:
    """The codes to scan: freshly signed EG1 codes, or plain secrets, one per right."""
    return [site.code_for(right) for right in rights]


def time_decide(path: Path, codes: list[str]) -> Rate:
    """decide() alone against a freshly opened replica at gate NORD-1: nothing is written."""
    with Replica(path) as replica:
        gate = replica.gate(DEFAULT_GATE)
        assert gate is not None, f"the demo replica has no gate {DEFAULT_GATE}"
        now = datetime.now(UTC)
        started = time.perf_counter()
        decisions = [decide(code, gate, replica, now) for code in codes]
        seconds = time.perf_counter() - started
    return Rate(len(codes), seconds, Counter(d.reason.value for d in decisions))


def time_credential_verify(codes: list[str], keyring: KeyRing) -> Rate:
    """shared.credential.verify alone: base45, COSE, Ed25519 and claims, no replica."""
    started = time.perf_counter()
    for code in codes:
        verify(code, keyring)
    return Rate(len(codes), time.perf_counter() - started)


def time_ed25519(codes: list[str], keyring: KeyRing) -> Rate:
    """Ed25519PublicKey.verify alone, over each code's signed bytes decoded beforehand."""
    jobs = []
    for code in codes:
        message = decode_sign1(base45.b45decode(code[len(PREFIX) :]))
        key = keyring.get(message.kid or b"")
        assert key is not None, "a code signed by a key the replica does not trust"
        jobs.append((key, message.signature, message.to_be_signed()))
    started = time.perf_counter()
    for key, signature, signed in jobs:
        key.verify(signature, signed)
    return Rate(len(jobs), time.perf_counter() - started)


def keyring_of(site: DemoSite) -> KeyRing:
    """The gate's view of the site's signing key."""
    return KeyRing([site.signing_key.public_key()])


def run_gate(path: Path, codes: list[str], codes_file: Path) -> GateRun:
    """Check ``codes`` durably in a fresh process (bench.worker) and collect what it measured."""
    codes_file.write_text(json.dumps(codes), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", str(path), str(codes_file), DEFAULT_GATE],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    out: dict[str, Any] = json.loads(done.stdout)
    return GateRun(
        latencies_ms=out["latencies_ms"],
        reasons=Counter(out["reasons"]),
        rss_open_mb=out["rss_open"] / MB,
        rss_checked_mb=out["rss_checked"] / MB,
        peak_rss_mb=out["peak_rss"] / MB,
    )


@dataclass(slots=True)
class DecideResults:
    """Everything issue 2's section reports: raw runs, the settings and the machine."""

    rights: int
    bans: int
    seed: int
    builds_s: list[float] = field(default_factory=list)
    replica_mb: float = 0.0
    fsync_ms: list[float] = field(default_factory=list)
    decide_eg1: list[Rate] = field(default_factory=list)
    decide_plain: list[Rate] = field(default_factory=list)
    credential_verify: list[Rate] = field(default_factory=list)
    ed25519: list[Rate] = field(default_factory=list)
    gate_runs: list[GateRun] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    command: str = ""
    make_bench: bool = False
    date: str = ""
    total_s: float = 0.0
    notes: list[str] = field(default_factory=list)
