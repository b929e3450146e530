"""A fresh gate process: open the replica, check codes durably, report latencies and memory.

Run by :mod:`bench.gate` as ``python -m bench.worker DB CODES GATE`` so that the memory of
building the replica is not counted; prints one JSON object on standard output.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil

from scanner_app.checkpoint import Checkpoint
from scanner_app.replica import Replica


def rss_bytes() -> int:
    """Resident memory of this process now."""
    return int(psutil.Process().memory_info().rss)


def peak_rss_bytes() -> int:
    """The most resident memory this process ever had: VmHWM on Linux.

    Not ``ru_maxrss``: Linux carries it across fork + exec, so it would report the parent's
    peak (the replica build) instead of the gate's.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def check_all(checkpoint: Checkpoint, codes: list[str]) -> tuple[list[float], Counter[str]]:
    """Check every code once, timing each decide + durable record, as the turnstile waits."""
    latencies: list[float] = []
    reasons: Counter[str] = Counter()
    for code in codes:
        started = time.perf_counter()
        result = checkpoint.check(code)
        latencies.append((time.perf_counter() - started) * 1000)
        reasons[result.decision.reason.value] += 1
    return latencies, reasons


def main(argv: list[str]) -> dict[str, Any]:
    db, codes_file, gate = argv
    codes: list[str] = json.loads(Path(codes_file).read_text(encoding="utf-8"))
    rss_start = rss_bytes()
    with Replica(db) as replica:
        checkpoint = Checkpoint(replica, gate)
        rss_open = rss_bytes()
        latencies, reasons = check_all(checkpoint, codes)
        rss_checked = rss_bytes()
    return {
        "latencies_ms": latencies,
        "reasons": dict(reasons),
        "rss_start": rss_start,
        "rss_open": rss_open,
        "rss_checked": rss_checked,
        "peak_rss": max(peak_rss_bytes(), rss_checked),  # VmHWM lags a little behind RSS
    }


if __name__ == "__main__":
    json.dump(main(sys.argv[1:]), sys.stdout)
