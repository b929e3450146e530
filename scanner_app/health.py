"""The terminal process's own health, read from the kernel: what a long run must keep flat.

The kiosk logs one :class:`ProcessHealth` a minute (``[kiosk] health_log_s``), so a slow leak of
memory, threads or descriptors shows in its journal long before it hurts, and the soak benchmark
(``bench/soak.py``) reads the same line for the reference counts only the process itself can see.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

SINGLETONS: dict[str, object] = {"None": None, "True": True, "False": False}
"""Python's singletons. Before 3.12 they are reference counted like any object: a C extension
that drops references it does not own brings one to zero, and the interpreter aborts
(``Fatal Python error: none_dealloc``)."""

HEALTH_PREFIX = "health "
"""What starts the kiosk's health log line, before the JSON of :class:`ProcessHealth`."""


def singleton_refcounts() -> dict[str, int]:
    """``sys.getrefcount`` of None, True and False (3.12+: a large constant, they are immortal)."""
    return {name: sys.getrefcount(value) for name, value in SINGLETONS.items()}


@dataclass(frozen=True)
class ProcessHealth:
    rss_kb: int
    threads: int
    open_fds: int
    refcounts: dict[str, int] = field(default_factory=dict)

    def log_line(self) -> str:
        return HEALTH_PREFIX + json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_log_line(cls, line: str) -> ProcessHealth | None:
        """The health in a log line, or None if the line holds none."""
        _, found, rest = line.partition(HEALTH_PREFIX)
        if not found:
            return None
        try:
            data = json.loads(rest)
            return cls(
                rss_kb=int(data["rss_kb"]),
                threads=int(data["threads"]),
                open_fds=int(data["open_fds"]),
                refcounts={str(k): int(v) for k, v in data["refcounts"].items()},
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def process_health(proc: Path = Path("/proc/self")) -> ProcessHealth:
    """This process's resident memory, threads and open descriptors (Linux ``/proc``)."""
    status: dict[str, str] = {}
    for line in (proc / "status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    return ProcessHealth(
        rss_kb=int(status["VmRSS"].split()[0]),
        threads=int(status["Threads"]),
        open_fds=len(os.listdir(proc / "fd")),
        refcounts=singleton_refcounts(),
    )
