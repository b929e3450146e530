"""Fixtures of the gate's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import RunningServer, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A real gate-server (SQLite) shared by a module's tests. Tests that kill or stop it
    (test_sync_faults.py) have one of their own per test."""
    folder = tmp_path_factory.mktemp("server")
    running = start_server(f"sqlite:///{folder}/server.db", folder / "server.log")
    yield running
    running.stop()
