"""Connections and streams (issue 15): a credential holds a few streams at most, a stream ends
with its credential, a socket that never sends its headers is closed, and the server raises its
open-files limit at start."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from sync_server.connections import HEADER_TIMEOUT_S
from tests.support.server import RunningServer, server_env, start_server
from tests.support.site import Site, ok
from tests.sync_server.test_sessions import PASSWORD, add_user

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(server: RunningServer) -> Site:
    return Site.create(server)


def first_events(stream: httpx.Response, until: str, timeout_s: float) -> list[str]:
    """The event names read from an SSE stream until ``until`` or the time is up."""
    seen: list[str] = []
    done = threading.Event()

    def read() -> None:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                seen.append(line.split(":", 1)[1].strip())
                if seen[-1] == until:
                    break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(timeout_s)
    return seen


def test_a_device_holds_a_few_streams_and_a_revoked_ones_end(site: Site, tmp_path: Path) -> None:
    gate = site.terminal("NORD-1", tmp_path)
    url = f"{site.server.url}/api/v1/gate/stream"
    headers = {"Authorization": f"Bearer {gate.sync.token}", "Entrix-Protocol": "2"}
    with ExitStack() as stack:
        client = stack.enter_context(httpx.Client(timeout=httpx.Timeout(10, read=30)))
        streams = [stack.enter_context(client.stream("GET", url, headers=headers))
                   for _ in range(4)]  # fmt: skip
        assert all(s.status_code == 200 for s in streams)
        fifth = client.get(url, headers=headers)
        assert fifth.status_code == 429 and "at most 4" in fifth.text
        ok(site.admin.post(f"/venues/{site.venue}/gates/NORD-1/revoke-devices"))
        started = time.monotonic()
        assert "revoked" in first_events(streams[0], "revoked", timeout_s=10)
        assert time.monotonic() - started < 6  # checked every 2 s


def test_a_dashboard_stream_ends_when_the_password_changes(
    server: RunningServer, tmp_path: Path
) -> None:
    name = add_user(server.database_url, "supervisor")
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(10, read=30)) as browser:
        signed = browser.post("/dashboard/login", data={"name": name, "password": PASSWORD})
        assert signed.status_code == 303
        with browser.stream("GET", "/dashboard/stream") as stream:
            assert stream.status_code == 200
            subprocess.run(
                [sys.executable, "-m", "sync_server.cli", "set-password", name,
                 "--password-stdin"],
                input="a-brand-new-password\n", env=server_env(server.database_url), cwd=REPO,
                text=True, capture_output=True, check=True,
            )  # fmt: skip
            started = time.monotonic()
            assert "signed_out" in first_events(stream, "signed_out", timeout_s=10)
            assert time.monotonic() - started < 6


@pytest.mark.slow
def test_a_socket_that_never_finishes_its_headers_is_closed(tmp_path: Path) -> None:
    """(Sockets are the server's, not the database's: one server, on SQLite.)"""
    server = start_server(f"sqlite:///{tmp_path}/server.db", tmp_path / "server.log")
    try:
        slow_socket_is_closed(server)
    finally:
        server.stop()


def slow_socket_is_closed(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as slow:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and nothing more
        slow.settimeout(HEADER_TIMEOUT_S + 5)
        started = time.monotonic()
        assert slow.recv(100) == b""  # closed by the server
        assert HEADER_TIMEOUT_S - 1 < time.monotonic() - started < HEADER_TIMEOUT_S + 4
    assert httpx.get(f"{server.url}/health").status_code == 200


@pytest.mark.parametrize(("soft", "hard", "warned"), [(1024, 8192, False), (1024, 2048, True)])
def test_the_server_raises_its_open_files_limit_and_warns_below_4096(
    soft: int, hard: int, warned: bool
) -> None:
    script = (
        "import logging, resource; logging.basicConfig(level=logging.INFO);"
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}));"
        "from sync_server.connections import raise_file_limit; print(raise_file_limit())"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=REPO)  # fmt: skip
    assert int(done.stdout) == hard
    assert ("is below 4096" in done.stderr) is warned


def test_one_address_holds_its_share_of_connections_and_no_more(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/server.db"
    running = start_server(url, tmp_path / "server.log", ENTRIX_CONNECTIONS_PER_ADDRESS="5")
    try:
        held = []
        for _ in range(5):
            held.append(socket.create_connection(("127.0.0.1", running.port),
                                                 source_address=("127.0.0.2", 0)))  # fmt: skip
        extra = socket.create_connection(("127.0.0.1", running.port),
                                         source_address=("127.0.0.2", 0))  # fmt: skip
        extra.settimeout(5)
        with contextlib.suppress(ConnectionResetError):  # aborted: closed all the same
            assert extra.recv(10) == b""  # closed at once
        extra.close()
        # The proxy's address (FORWARDED_ALLOW_IPS: loopback here) carries everyone: not capped.
        assert httpx.get(f"{running.url}/health").status_code == 200
        held.pop().close()
        time.sleep(0.2)
        again = socket.create_connection(("127.0.0.1", running.port),
                                         source_address=("127.0.0.2", 0))  # fmt: skip
        again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        again.settimeout(5)
        assert again.recv(100).startswith(b"HTTP/1.1 200")
        again.close()
        for sock in held:
            sock.close()
    finally:
        running.stop()
