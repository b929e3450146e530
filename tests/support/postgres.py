"""A throwaway PostgreSQL cluster for the test suite (Debian's postgresql, run as its user)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


@dataclass
class PostgresCluster:
    bindir: Path
    base: Path
    port: int

    def _run(self, *args: str) -> None:
        command = [*args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, cwd="/", capture_output=True)

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: run 'make system-deps' (Debian)")
        base = Path(tempfile.mkdtemp(prefix="entrix-pg-"))
        if os.geteuid() == 0:
            shutil.chown(base, "postgres", "postgres")
        cluster = cls(bindir, base, free_port())
        cluster._run(
            str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        cluster._run(
            str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w",
            "-o", f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {base} -c fsync=off"
            " -c max_connections=200",
            "start",
        )  # fmt: skip
        return cluster

    def create_database(self, name: str) -> str:
        self._run(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", name,
        )  # fmt: skip
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.base / "data"), "-m", "immediate",
                  "-w", "stop")  # fmt: skip
        shutil.rmtree(self.base, ignore_errors=True)
