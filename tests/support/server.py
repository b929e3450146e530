"""A real sync server for tests: ``gate-server serve`` (uvicorn) in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ENTRIX_DATABASE_URL": database_url,
            "ENTRIX_FEED_POLL_INTERVAL_S": "0.05",
            # Test modules share one server from one address, and some try bad tokens on
            # purpose (fuzzing too): the guessing limit has its own test, with its own server.
            "ENTRIX_GUESS_LIMIT_PER_MINUTE": "1000000",
            # Tests scan hundreds of codes in a second, which no lane can do: the plausibility
            # limit is tested with its product default in tests/sync_server/test_device_scope.py.
            "ENTRIX_GATE_MAX_PASSAGES_PER_MINUTE": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def gate_server(*args: str, database_url: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", *args],
        env=server_env(database_url),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def create_user(database_url: str, name: str, role: str) -> str:
    return gate_server("create-user", name, "--role", role, database_url=database_url).split()[-1]


@dataclass
class RunningServer:
    database_url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, workers: int = 1, files: int | None = None, **env: str) -> RunningServer:
        """``files``: the open-files limit (soft and hard) the server starts under."""
        limit = [] if files is None else ["prlimit", f"--nofile={files}:{files}", "--"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*limit, sys.executable, "-m", "sync_server.cli", "serve", "--port",
                 str(self.port), "--no-migrate", "--workers", str(workers)],
                env=server_env(self.database_url, **env),
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self, role: str | None = "admin") -> httpx.Client:
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)


def start_server(database_url: str, log: Path, *, workers: int = 1, **env: str) -> RunningServer:
    """Migrate, create an admin and a supervisor, start uvicorn (``workers`` processes) on a free
    port."""
    gate_server("migrate", database_url=database_url)
    server = RunningServer(database_url, free_port(), log)
    server.tokens["admin"] = create_user(database_url, "admin", "admin")
    server.tokens["supervisor"] = create_user(database_url, "watcher", "supervisor")
    return server.start(workers=workers, **env)
