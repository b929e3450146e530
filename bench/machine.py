"""What the figures were measured on: CPU, memory, library versions and the replica's disk."""

from __future__ import annotations

import os
import platform
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import cryptography
import psutil
from cryptography.hazmat.backends.openssl.backend import backend as openssl_backend

VOLATILE_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "overlay"})
"""Filesystems whose fsync does not reach a disk (overlay: depends on what lies beneath)."""


@dataclass(frozen=True, slots=True)
class Filesystem:
    device: str
    mountpoint: str
    fstype: str

    @property
    def on_disk(self) -> bool:
        return self.fstype not in VOLATILE_FILESYSTEMS

    def describe(self) -> str:
        return f"{self.fstype} on {self.device} (mounted at {self.mountpoint})"


def filesystem_of(path: Path) -> Filesystem:
    """The mount holding ``path``: the partition whose mount point is its longest prefix."""
    target = path.resolve()
    best = Filesystem("?", "/", "?")
    for part in psutil.disk_partitions(all=True):
        mount = Path(part.mountpoint)
        if (target == mount or mount in target.parents) and len(part.mountpoint) >= len(
            best.mountpoint
        ):
            best = Filesystem(part.device, part.mountpoint, part.fstype)
    return best


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(replica_dir: Path) -> dict[str, str]:
    """The facts a reader needs to compare these figures with another machine's."""
    memory = psutil.virtual_memory().total / 2**30
    return {
        "CPU": cpu_model(),
        "Cores": f"{os.cpu_count()} logical ({psutil.cpu_count(logical=False)} physical)",
        "RAM": f"{memory:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "SQLite": sqlite3.sqlite_version,
        "cryptography": f"{cryptography.__version__} ({openssl_backend.openssl_version_text()})",
        "Replica filesystem": filesystem_of(replica_dir).describe(),
    }
