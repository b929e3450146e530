"""Fixtures for server tests: a real uvicorn server on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.postgres import PostgresCluster
from tests.support.server import RunningServer, start_server

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster.start()
    yield cluster
    cluster.stop()


def new_database_url(kind: str, request: pytest.FixtureRequest, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder}/server-{next(_databases)}.db"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.create_database(f"entrix_{next(_databases)}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    return new_database_url(request.param, request, tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(database_url, tmp_path_factory.mktemp("log") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (tests using it are marked ``needs_chromium``)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
